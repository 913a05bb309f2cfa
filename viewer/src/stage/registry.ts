/**
 * Frame renderers, keyed by a frame's `kind`. A renderer is one file under `src/renderers/` that calls
 * `registerFrameRenderer(kind, factory)`; `plugins.ts` imports every file there, so adding one is a one-file change.
 */
import type { Container } from 'pixi.js';
import type { RenderFrame } from '../../../envs/frames.js';
import type { StepFrame } from '../../../protocol/protocol.js';
import type { RGB } from '../model/palette.js';

export interface StageSize {
  /** CSS pixels. */
  width: number;
  height: number;
}

export interface DrawContext {
  size: StageSize;
  /** The step the frame belongs to (action, reward, return, flags). */
  step: StepFrame;
  /** performance.now() of this draw. */
  now: number;
  /** Duration of movement tweens (ms); 0 draws positions at once (live mode). */
  tweenMs: number;
}

/** What the test probe reads: CSS-pixel points relative to the canvas's top-left, and the colours drawn there. */
export interface Probe {
  points: Record<string, [number, number]>;
  colors: Record<string, RGB>;
}

export interface FrameRenderer<F = RenderFrame> {
  /** Added to the stage while this renderer is active. */
  readonly root: Container;
  /** Draws a frame (called when the frame or the stage size changes). */
  draw(frame: F, ctx: DrawContext): void;
  /** Called on every animation tick after `draw`, for tweens; returns nothing. */
  animate?(now: number): void;
  probe(): Probe;
  destroy(): void;
}

export type FrameRendererFactory<F = RenderFrame> = () => FrameRenderer<F>;

type KindOf<K extends string> = K extends RenderFrame['kind'] ? Extract<RenderFrame, { kind: K }> : { kind: K };

const renderers = new Map<string, FrameRendererFactory<never>>();

export function registerFrameRenderer<K extends string>(kind: K, factory: FrameRendererFactory<KindOf<K>>): void {
  renderers.set(kind, factory as FrameRendererFactory<never>);
}

export function createFrameRenderer(kind: string): FrameRenderer<{ kind: string }> | null {
  const factory = renderers.get(kind);
  return factory ? (factory() as unknown as FrameRenderer<{ kind: string }>) : null;
}

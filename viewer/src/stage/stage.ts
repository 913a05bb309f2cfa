/**
 * The Pixi stage: one WebGL canvas for the page (created once, moved between views), sized to its host
 * element, drawing the current frame with the renderer registered for its kind.
 */
import { Application, Container } from 'pixi.js';
import type { StepFrame } from '../../../protocol/protocol.js';
import { rgb, STAGE, type RGB } from '../model/palette.js';
import { createFrameRenderer, type FrameRenderer, type Probe, type StageSize } from './registry.js';

export interface StageProbe extends Probe {
  kind: string;
  background: RGB;
}

export class Stage {
  readonly root = new Container();
  private renderer: FrameRenderer<{ kind: string }> | null = null;
  private kind: string | null = null;
  private drawnStep: StepFrame | null = null;
  private drawnSize: StageSize = { width: 0, height: 0 };
  private observer: ResizeObserver | null = null;
  private host: HTMLElement | null = null;
  private tickers = new Set<(dtMs: number) => void>();
  private resizers = new Set<(size: StageSize) => void>();
  private readonly reported = new Set<string>();
  /** Set when the frame has no renderer: the kind, for the view to explain. */
  missingKind: string | null = null;

  private constructor(readonly app: Application) {
    app.stage.addChild(this.root);
    app.ticker.add((t) => {
      // An exception here would stop Pixi's ticker for good: report it once per kind and carry on.
      try {
        for (const fn of this.tickers) fn(t.deltaMS);
        this.renderer?.animate?.(performance.now());
      } catch (err) {
        const key = this.kind ?? '';
        if (!this.reported.has(key)) {
          this.reported.add(key);
          console.error(`viewer: drawing a ${key || 'frame'} failed:`, err);
        }
      }
    });
  }

  static async create(): Promise<Stage> {
    const app = new Application();
    await app.init({
      background: STAGE.background,
      antialias: true,
      resolution: Math.max(1, window.devicePixelRatio || 1),
      autoDensity: true,
      preference: ['webgl', 'canvas'],
      width: 300,
      height: 150,
    });
    app.canvas.classList.add('stage-canvas');
    return new Stage(app);
  }

  /** Moves the canvas into `host` and follows its size. */
  attach(host: HTMLElement): void {
    if (this.host === host) return;
    this.detach();
    this.host = host;
    host.prepend(this.app.canvas);
    this.observer = new ResizeObserver(() => this.fit());
    this.observer.observe(host);
    this.fit();
  }

  detach(): void {
    this.observer?.disconnect();
    this.observer = null;
    if (this.host && this.app.canvas.parentElement === this.host) this.host.removeChild(this.app.canvas);
    this.host = null;
  }

  /** Runs `fn(dtMs)` on every animation frame until the returned function is called. */
  onTick(fn: (dtMs: number) => void): () => void {
    this.tickers.add(fn);
    return () => this.tickers.delete(fn);
  }

  /**
   * Calls `fn(size)` whenever the canvas takes a new size (before that size is first rendered), until the
   * returned function is called: content a page draws itself (not through `show`) redraws to fit.
   */
  onResize(fn: (size: StageSize) => void): () => void {
    this.resizers.add(fn);
    return () => this.resizers.delete(fn);
  }

  /** The canvas size in CSS px. */
  get size(): StageSize {
    return { width: this.app.screen.width, height: this.app.screen.height };
  }

  /** Draws `step.frame` (no-op when it is the frame already drawn at this size). */
  show(step: StepFrame | null, tweenMs: number): boolean {
    if (step === this.drawnStep && this.drawnSize.width === this.app.screen.width && this.drawnSize.height === this.app.screen.height) return false;
    const frame = step?.frame ?? null;
    this.drawnStep = step;
    this.drawnSize = { width: this.app.screen.width, height: this.app.screen.height };
    if (!step || !frame) {
      this.setKind(null);
      this.missingKind = null;
      return step !== null;
    }
    this.setKind(frame.kind);
    if (!this.renderer) {
      this.missingKind = frame.kind;
      return true;
    }
    this.missingKind = null;
    this.renderer.draw(frame, { size: this.drawnSize, step, now: performance.now(), tweenMs });
    return true;
  }

  /** Forgets the drawn frame (a new run): the next `show` draws from scratch. */
  clear(): void {
    this.setKind(null);
    this.drawnStep = null;
    this.missingKind = null;
  }

  probe(): StageProbe {
    const p = this.renderer?.probe() ?? { points: {}, colors: {} };
    const background = rgb(STAGE.background);
    return { kind: this.renderer ? (this.kind ?? '') : '', points: p.points, colors: { background, ...p.colors }, background };
  }

  private setKind(kind: string | null): void {
    if (kind === this.kind) return;
    if (this.renderer) {
      this.root.removeChild(this.renderer.root);
      this.renderer.destroy();
      this.renderer = null;
    }
    this.kind = kind;
    if (kind) {
      this.renderer = createFrameRenderer(kind);
      if (this.renderer) this.root.addChild(this.renderer.root);
    }
  }

  private fit(): void {
    if (!this.host) return;
    const w = Math.max(1, Math.floor(this.host.clientWidth));
    const h = Math.max(1, Math.floor(this.host.clientHeight));
    if (w === this.app.screen.width && h === this.app.screen.height) return;
    this.app.renderer.resize(w, h);
    // Redraw the current frame at the new size right away (no tween), then render before the next paint.
    const step = this.drawnStep;
    this.drawnStep = null;
    if (step) this.show(step, 0);
    for (const fn of this.resizers) fn({ width: w, height: h });
    this.app.render();
  }
}

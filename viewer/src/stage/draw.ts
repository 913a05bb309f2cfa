/** Small Pixi drawing helpers shared by the renderers. */
import { Graphics, Text, type TextStyleOptions } from 'pixi.js';
import type { Point } from '../model/cartpole_geometry.js';

export const FONT_SANS = 'Inter, "SF Pro Text", "Segoe UI", system-ui, -apple-system, Roboto, "Helvetica Neue", Arial, sans-serif';
export const FONT_MONO = '"JetBrains Mono", "SF Mono", ui-monospace, Menlo, Consolas, "DejaVu Sans Mono", monospace';

/** A text object with the stage's typography. */
export function label(style: TextStyleOptions = {}): Text {
  return new Text({
    text: '',
    style: { fontFamily: FONT_SANS, fontSize: 13, fill: 0x8b98a8, ...style },
  });
}

/** Sets text, position and anchor in one go (skips the text update when unchanged: re-rasterising costs). */
export function place(t: Text, text: string, x: number, y: number, ax = 0, ay = 0): void {
  if (t.text !== text) t.text = text;
  t.anchor.set(ax, ay);
  t.position.set(Math.round(x), Math.round(y));
}

/** An arrow from `from` to `to` with a filled head. */
export function arrow(g: Graphics, from: Point, to: Point, color: number, width = 3, head = 10, alpha = 1): void {
  const dx = to[0] - from[0];
  const dy = to[1] - from[1];
  const len = Math.hypot(dx, dy) || 1;
  const ux = dx / len;
  const uy = dy / len;
  const bx = to[0] - ux * head;
  const by = to[1] - uy * head;
  g.moveTo(from[0], from[1]).lineTo(bx, by).stroke({ width, color, alpha, cap: 'round' });
  const hw = head * 0.6;
  g.poly([to[0], to[1], bx - uy * hw, by + ux * hw, bx + uy * hw, by - ux * hw]).fill({ color, alpha });
}

/** Dashed straight line. */
export function dashed(g: Graphics, from: Point, to: Point, dash: number, gap: number, stroke: { width: number; color: number; alpha?: number }): void {
  const dx = to[0] - from[0];
  const dy = to[1] - from[1];
  const len = Math.hypot(dx, dy);
  if (len === 0) return;
  const ux = dx / len;
  const uy = dy / len;
  for (let d = 0; d < len; d += dash + gap) {
    const e = Math.min(len, d + dash);
    g.moveTo(from[0] + ux * d, from[1] + uy * d).lineTo(from[0] + ux * e, from[1] + uy * e);
  }
  g.stroke({ width: stroke.width, color: stroke.color, alpha: stroke.alpha ?? 1 });
}

/** Tween of a point towards a target over `ms` (ease-out); `at(now)` gives the drawn position. */
export class PointTween {
  private from: Point | null = null;
  private to: Point | null = null;
  private start = 0;
  private ms = 0;

  set(target: Point, now: number, ms: number): void {
    const current = this.to ? this.at(now) : null;
    if (!current || ms <= 0 || (this.to && this.to[0] === target[0] && this.to[1] === target[1] && !this.running(now))) {
      this.from = target;
      this.to = target;
      this.ms = 0;
      return;
    }
    this.from = current;
    this.to = target;
    this.start = now;
    this.ms = ms;
  }

  /** Jumps (no animation), e.g. when the agent is teleported back to the start. */
  jump(target: Point): void {
    this.from = target;
    this.to = target;
    this.ms = 0;
  }

  running(now: number): boolean {
    return this.ms > 0 && now - this.start < this.ms;
  }

  at(now: number): Point {
    if (!this.to || !this.from) return [0, 0];
    if (this.ms <= 0) return this.to;
    const t = Math.min(1, (now - this.start) / this.ms);
    const e = 1 - (1 - t) ** 3;
    return [this.from[0] + (this.to[0] - this.from[0]) * e, this.from[1] + (this.to[1] - this.from[1]) * e];
  }
}

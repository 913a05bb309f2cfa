/** Drawing pieces shared by the grid-game renderers (agent marker, goal star, caption line). */
import { Container, Graphics, type Text } from 'pixi.js';
import type { Point } from '../model/cartpole_geometry.js';
import type { GridLayout } from '../model/grid_geometry.js';
import { STAGE } from '../model/palette.js';
import { label, place } from './draw.js';

/** The agent: a disc with a dark outline and a notch pointing along the last action. */
export function agentMarker(g: Graphics, at: Point, r: number, color: number, edge: number, dir: Point | null, alpha = 1): void {
  const [x, y] = at;
  g.circle(x + r * 0.08, y + r * 0.14, r).fill({ color: 0x000000, alpha: 0.35 * alpha });
  g.circle(x, y, r).fill({ color, alpha }).stroke({ width: Math.max(2, r * 0.12), color: edge, alpha });
  if (dir) {
    const [dx, dy] = dir;
    const tip: Point = [x + dx * r * 0.78, y + dy * r * 0.78];
    const base: Point = [x + dx * r * 0.28, y + dy * r * 0.28];
    const w = r * 0.36;
    g.poly([tip[0], tip[1], base[0] - dy * w, base[1] + dx * w, base[0] + dy * w, base[1] - dx * w]).fill({ color: edge, alpha: 0.85 * alpha });
  }
}

/** A five-pointed star. */
export function star(g: Graphics, cx: number, cy: number, outer: number, color: number, alpha = 1): void {
  const pts: number[] = [];
  for (let i = 0; i < 10; i++) {
    const a = -Math.PI / 2 + (i * Math.PI) / 5;
    const r = i % 2 === 0 ? outer : outer * 0.45;
    pts.push(cx + Math.cos(a) * r, cy + Math.sin(a) * r);
  }
  g.poly(pts).fill({ color, alpha });
}

/** Diagonal hatching inside a rectangle. */
export function hatch(g: Graphics, x: number, y: number, w: number, h: number, every: number, color: number, alpha: number): void {
  for (let d = every; d < w + h; d += every) {
    const x0 = x + Math.max(0, d - h);
    const y0 = y + Math.min(h, d);
    const x1 = x + Math.min(w, d);
    const y1 = y + Math.max(0, d - w);
    g.moveTo(x0, y0).lineTo(x1, y1);
  }
  g.stroke({ width: 1.5, color, alpha });
}

/** One caption line under a board: the action on the left, an event ("fell into a hole") on the right. */
export class Caption {
  readonly root = new Container();
  private readonly left: Text = label({ fontSize: 13, fill: STAGE.muted });
  private readonly right: Text = label({ fontSize: 13, fontWeight: '600', fill: STAGE.text });

  constructor() {
    this.root.addChild(this.left, this.right);
  }

  set(layout: Pick<GridLayout, 'x0' | 'y0' | 'width' | 'height'>, left: string, right: string, rightColor: number = STAGE.text): void {
    const y = layout.y0 + layout.height + 12;
    this.right.style.fill = rightColor;
    place(this.left, left, layout.x0, y, 0, 0);
    place(this.right, right, layout.x0 + layout.width, y, 1, 0);
    // Too wide for the board: centre the pair under it instead of pinning them to its edges.
    const gap = 24;
    const total = this.left.width + (right ? gap + this.right.width : 0);
    if (total > layout.width) {
      const x = layout.x0 + layout.width / 2 - total / 2;
      place(this.left, left, x, y, 0, 0);
      place(this.right, right, x + total, y, 1, 0);
    }
  }
}

/** Cache key of a static board layer: redraw only when the map or the stage size changes. */
export function boardKey(parts: unknown[]): string {
  return JSON.stringify(parts);
}

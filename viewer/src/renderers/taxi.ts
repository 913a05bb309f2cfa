/** Taxi: the 5×5 town with its walls, the R/G/Y/B depots, the destination, the passenger and the taxi. */
import { Container, Graphics } from 'pixi.js';
import type { TaxiFrame } from '../../../envs/frames.js';
import type { Point } from '../model/cartpole_geometry.js';
import { DEPOT_COLORS, gridLayout, TAXI_ACTION_NAMES, taxiPassengerCell, taxiWalls, type GridLayout } from '../model/grid_geometry.js';
import { GRID, rgb, STAGE } from '../model/palette.js';
import { label, place, PointTween } from '../stage/draw.js';
import { boardKey, Caption } from '../stage/grid_common.js';
import { registerFrameRenderer, type DrawContext, type FrameRenderer, type Probe } from '../stage/registry.js';

const ARROWS = ['↓', '↑', '→', '←', '⇡', '⇣'];

class TaxiRenderer implements FrameRenderer<TaxiFrame> {
  readonly root = new Container();
  private readonly board = new Graphics();
  private readonly marks = new Graphics();
  private readonly car = new Graphics();
  private readonly depotLabels = new Container();
  private readonly caption = new Caption();
  private readonly tween = new PointTween();
  private layout: GridLayout | null = null;
  private key = '';
  private frame: TaxiFrame | null = null;
  private facing = 1;

  constructor() {
    this.root.addChild(this.board, this.marks, this.depotLabels, this.car, this.caption.root);
  }

  draw(f: TaxiFrame, ctx: DrawContext): void {
    const key = boardKey([f.map, f.depots, ctx.size.width, ctx.size.height]);
    if (key !== this.key || !this.layout) {
      this.key = key;
      this.layout = gridLayout(f.rows, f.cols, ctx.size.width, ctx.size.height, { padding: 28, reserveBottom: 34, maxCell: 120 });
      this.drawBoard(f, this.layout);
      this.tween.jump(this.layout.center(f.taxi[0], f.taxi[1]));
    }
    const L = this.layout;
    const prev = this.frame?.taxi;
    const target = L.center(f.taxi[0], f.taxi[1]);
    if (prev && prev[1] !== f.taxi[1]) this.facing = f.taxi[1] > prev[1] ? 1 : -1;
    const teleport = !prev || ctx.step.episodeStep <= 1 || Math.abs(prev[0] - f.taxi[0]) + Math.abs(prev[1] - f.taxi[1]) > 1;
    if (teleport) this.tween.jump(target);
    else this.tween.set(target, ctx.now, ctx.tweenMs);
    this.frame = f;
    this.drawMarks(f, L);

    const dest = f.depots[f.destination];
    const p = taxiPassengerCell(f);
    const where = p.riding ? 'passenger in the taxi' : `passenger at ${f.depots[f.passenger]?.name ?? '?'}`;
    const actionName = f.lastAction === null ? 'reset' : `action ${ARROWS[f.lastAction] ?? ''} ${TAXI_ACTION_NAMES[f.lastAction] ?? f.lastAction}`;
    let event = `${where}  →  ${dest?.name ?? '?'}`;
    let color: number = STAGE.text;
    if (ctx.step.reward >= 20) [event, color] = [`delivered at ${dest?.name ?? '?'}  +20`, STAGE.good];
    else if (ctx.step.reward <= -10) [event, color] = [`illegal ${f.lastAction === 4 ? 'pickup' : 'dropoff'}  −10`, STAGE.bad];
    this.caption.set(L, actionName, event, color);
    this.animate(ctx.now);
  }

  animate(now: number): void {
    const f = this.frame;
    const L = this.layout;
    if (!f || !L) return;
    const g = this.car;
    g.clear();
    const [x, y] = this.tween.at(now);
    const riding = taxiPassengerCell(f).riding;
    const w = L.cell * 0.7;
    const h = L.cell * 0.36;
    const top = y - h * 0.2;
    // Shadow, wheels, body, cabin, windows, light.
    g.roundRect(x - w / 2 + 2, top + 3, w, h, h * 0.3).fill({ color: 0x000000, alpha: 0.35 });
    for (const wx of [x - w * 0.3, x + w * 0.3]) g.circle(wx, top + h, h * 0.24).fill({ color: 0x11161d }).stroke({ width: 1.5, color: 0x4a5565 });
    g.roundRect(x - w / 2, top, w, h, h * 0.3).fill({ color: GRID.taxi }).stroke({ width: 1.5, color: GRID.taxiEdge });
    const cw = w * 0.56;
    const ch = h * 0.62;
    const cx = x - cw / 2 - this.facing * w * 0.05;
    g.roundRect(cx, top - ch * 0.78, cw, ch, ch * 0.35).fill({ color: GRID.taxi }).stroke({ width: 1.5, color: GRID.taxiEdge });
    g.roundRect(cx + cw * 0.1, top - ch * 0.58, cw * 0.8, ch * 0.5, 3).fill({ color: 0x1c2733 });
    if (riding) g.circle(cx + cw * 0.5, top - ch * 0.36, ch * 0.2).fill({ color: GRID.passenger });
    g.circle(x + this.facing * (w / 2 - h * 0.18), top + h * 0.32, h * 0.1).fill({ color: 0xfff4c2 });
  }

  private drawBoard(f: TaxiFrame, L: GridLayout): void {
    const g = this.board;
    g.clear();
    g.roundRect(L.x0 - 6, L.y0 - 6, L.width + 12, L.height + 12, 10).fill({ color: 0x101821 });
    const gap = Math.max(1, Math.round(L.cell * 0.03));
    for (let r = 0; r < f.rows; r++) {
      for (let c = 0; c < f.cols; c++) {
        const { x, y, w, h } = L.rect(r, c);
        g.roundRect(x + gap, y + gap, w - 2 * gap, h - 2 * gap, Math.max(2, L.cell * 0.06)).fill({ color: GRID.floor });
      }
    }
    for (const d of f.depots) {
      const { x, y, w, h } = L.rect(d.row, d.col);
      const color = DEPOT_COLORS[d.name] ?? STAGE.muted;
      g.roundRect(x + gap, y + gap, w - 2 * gap, h - 2 * gap, Math.max(2, L.cell * 0.06)).fill({ color, alpha: 0.16 });
    }
    // Walls: the border and every `|` of the map.
    const wall = { width: Math.max(3, L.cell * 0.06), color: GRID.wall, cap: 'round' as const, join: 'round' as const };
    g.rect(L.x0, L.y0, L.width, L.height).stroke(wall);
    for (const [r, c] of taxiWalls(f).vertical) {
      const x = L.x0 + (c + 1) * L.cell;
      g.moveTo(x, L.y0 + r * L.cell).lineTo(x, L.y0 + (r + 1) * L.cell).stroke(wall);
    }
    this.depotLabels.removeChildren().forEach((c) => c.destroy());
    for (const d of f.depots) {
      const t = label({ fontSize: Math.max(11, Math.round(L.cell * 0.16)), fontWeight: '700', fill: DEPOT_COLORS[d.name] ?? STAGE.muted });
      const { x, y } = L.rect(d.row, d.col);
      place(t, d.name, x + L.cell * 0.12, y + L.cell * 0.08, 0, 0);
      this.depotLabels.addChild(t);
    }
  }

  /** Destination outline and flag, and the waiting passenger. */
  private drawMarks(f: TaxiFrame, L: GridLayout): void {
    const g = this.marks;
    g.clear();
    const dest = f.depots[f.destination];
    if (dest) {
      const color = DEPOT_COLORS[dest.name] ?? STAGE.text;
      const { x, y, w, h } = L.rect(dest.row, dest.col);
      const inset = Math.max(3, L.cell * 0.06);
      g.roundRect(x + inset, y + inset, w - 2 * inset, h - 2 * inset, L.cell * 0.08).stroke({ width: Math.max(2, L.cell * 0.035), color });
      // A flag in the top-right corner.
      const fx = x + w * 0.8;
      const fy = y + h * 0.14;
      const fh = h * 0.26;
      g.moveTo(fx, fy).lineTo(fx, fy + fh).stroke({ width: 2, color });
      g.poly([fx, fy, fx - fh * 0.6, fy + fh * 0.22, fx, fy + fh * 0.44]).fill({ color });
    }
    const p = taxiPassengerCell(f);
    if (!p.riding) {
      const [cx, cy] = L.center(p.row, p.col);
      const s = L.cell;
      const at: Point = [cx + s * 0.2, cy + s * 0.14];
      g.circle(at[0], at[1] - s * 0.17, s * 0.075).fill({ color: GRID.passenger });
      g.roundRect(at[0] - s * 0.085, at[1] - s * 0.08, s * 0.17, s * 0.2, s * 0.06).fill({ color: GRID.passenger });
    }
  }

  probe(): Probe {
    const f = this.frame;
    const L = this.layout;
    if (!f || !L) return { points: {}, colors: {} };
    const p = taxiPassengerCell(f);
    const dest = f.depots[f.destination];
    const points: Probe['points'] = { taxi: L.center(f.taxi[0], f.taxi[1]), passenger: L.center(p.row, p.col) };
    if (dest) points.destination = L.center(dest.row, dest.col);
    return { points, colors: { taxi: rgb(GRID.taxi) } };
  }

  destroy(): void {
    this.root.destroy({ children: true });
  }
}

registerFrameRenderer('taxi', () => new TaxiRenderer());

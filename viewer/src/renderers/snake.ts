/** Snake: the board, the body as a continuous tube (head distinct, eyes along the heading), the fruit, the score. */
import { Container, Graphics } from 'pixi.js';
import type { SnakeFrame } from '../../../envs/frames.js';
import { gridLayout, HEADING_DIRS, isSnakeMove, snakePath, type GridLayout } from '../model/grid_geometry.js';
import type { Point } from '../model/cartpole_geometry.js';
import { mix, rgb, SNAKE, STAGE } from '../model/palette.js';
import { label, place } from '../stage/draw.js';
import { boardKey } from '../stage/grid_common.js';
import { registerFrameRenderer, type DrawContext, type FrameRenderer, type Probe } from '../stage/registry.js';

const TURNS = ['↰ turn left', '↑ straight', '↱ turn right'];

class SnakeRenderer implements FrameRenderer<SnakeFrame> {
  readonly root = new Container();
  private readonly board = new Graphics();
  private readonly body = new Graphics();
  private readonly score = label({ fontSize: 15, fontWeight: '600', fill: STAGE.text });
  private readonly info = label({ fontSize: 13, fill: STAGE.muted });
  private readonly event = label({ fontSize: 13, fontWeight: '600', fill: STAGE.bad });
  private layout: GridLayout | null = null;
  private key = '';
  private frame: SnakeFrame | null = null;
  private prevBody: [number, number][] | null = null;
  private tweenStart = 0;
  private tweenMs = 0;

  constructor() {
    this.root.addChild(this.board, this.body, this.score, this.info, this.event);
  }

  draw(f: SnakeFrame, ctx: DrawContext): void {
    const key = boardKey([f.rows, f.cols, ctx.size.width, ctx.size.height]);
    if (key !== this.key || !this.layout) {
      this.key = key;
      this.layout = gridLayout(f.rows, f.cols, ctx.size.width, ctx.size.height, { padding: 20, reserveTop: 30, reserveBottom: 30, maxCell: 72 });
      this.drawBoard(this.layout);
    }
    const L = this.layout;
    this.prevBody = this.frame ? this.frame.body : null;
    this.tweenStart = ctx.now;
    this.tweenMs = this.prevBody && isSnakeMove(this.prevBody, f.body) ? ctx.tweenMs : 0;
    this.frame = f;

    // The score (left) and the length (right) over the board; over a narrow board the line spans the stage, and
    // where the two would still meet the length goes under the board, so that they never overlap.
    const y = L.y0 - 12;
    const span = Math.max(L.width, Math.min(ctx.size.width - 24, L.width + 160));
    const left = L.x0 + L.width / 2 - span / 2;
    place(this.score, `score ${f.score}`, left, y, 0, 1);
    place(this.info, `length ${f.body.length}   ${f.lastAction === null ? 'reset' : (TURNS[f.lastAction] ?? '')}`, left + span, y, 1, 1);
    const under = this.score.width + this.info.width + 12 > span;
    if (under) place(this.info, `${this.info.text}${f.alive ? '' : '  ·  game over'}`, L.x0 + L.width / 2, L.y0 + L.height + 14, 0.5, 0);
    place(this.event, f.alive || under ? '' : 'game over', L.x0 + L.width / 2, L.y0 + L.height + 14, 0.5, 0);
    this.animate(ctx.now);
  }

  animate(now: number): void {
    const f = this.frame;
    const L = this.layout;
    if (!f || !L) return;
    const t = this.tweenMs > 0 ? Math.min(1, (now - this.tweenStart) / this.tweenMs) : 1;
    const g = this.body;
    g.clear();

    if (f.fruit) {
      const [fx, fy] = L.center(f.fruit[0], f.fruit[1]);
      const r = L.cell * 0.3;
      g.circle(fx, fy + r * 0.1, r).fill({ color: SNAKE.fruit });
      g.circle(fx - r * 0.35, fy - r * 0.2, r * 0.22).fill({ color: 0xffffff, alpha: 0.35 });
      g.ellipse(fx + r * 0.35, fy - r * 0.95, r * 0.38, r * 0.18).fill({ color: SNAKE.leaf });
    }

    const path = snakePath(this.prevBody, f.body, t).map(([c, r]): Point => [L.x0 + (c + 0.5) * L.cell, L.y0 + (r + 0.5) * L.cell]);
    const width = L.cell * 0.7;
    const n = path.length;
    if (n === 1) g.circle(path[0]![0], path[0]![1], width / 2).fill({ color: SNAKE.body });
    const len = f.body.length;
    for (let i = n - 1; i >= 1; i--) {
      const a = path[i]!;
      const b = path[i - 1]!;
      // Shade by position in the body (not in the path, which has one more point while sliding).
      const color = mix(SNAKE.body, SNAKE.bodyTail, len <= 1 ? 0 : (0.6 * Math.min(i - 1, len - 1)) / (len - 1));
      g.moveTo(a[0], a[1]).lineTo(b[0], b[1]).stroke({ width, color, cap: 'round', join: 'round' });
    }
    const head = path[0];
    if (!head) return;
    const headColor = f.alive ? SNAKE.head : SNAKE.dead;
    g.circle(head[0], head[1], L.cell * 0.42).fill({ color: headColor });
    const [dx, dy] = HEADING_DIRS[f.heading] ?? [1, 0];
    const er = L.cell * 0.085;
    for (const side of [-1, 1]) {
      const ex = head[0] + dx * L.cell * 0.14 + -dy * side * L.cell * 0.17;
      const ey = head[1] + dy * L.cell * 0.14 + dx * side * L.cell * 0.17;
      if (f.alive) g.circle(ex, ey, er).fill({ color: SNAKE.eye });
      else {
        g.moveTo(ex - er, ey - er).lineTo(ex + er, ey + er).moveTo(ex + er, ey - er).lineTo(ex - er, ey + er).stroke({ width: 2, color: SNAKE.eye });
      }
    }
  }

  private drawBoard(L: GridLayout): void {
    const g = this.board;
    g.clear();
    g.roundRect(L.x0 - 5, L.y0 - 5, L.width + 10, L.height + 10, 8).fill({ color: SNAKE.boardA }).stroke({ width: 1, color: SNAKE.border });
    for (let r = 0; r < L.rows; r++) {
      for (let c = 0; c < L.cols; c++) {
        if ((r + c) % 2 === 0) continue;
        const { x, y, w, h } = L.rect(r, c);
        g.rect(x, y, w, h).fill({ color: SNAKE.boardB });
      }
    }
  }

  probe(): Probe {
    const f = this.frame;
    const L = this.layout;
    if (!f || !L) return { points: {}, colors: {} };
    const points: Probe['points'] = {};
    const head = f.body[0];
    if (head) points.head = L.center(head[0], head[1]);
    const tail = f.body[f.body.length - 1];
    if (tail) points.tail = L.center(tail[0], tail[1]);
    if (f.fruit) points.fruit = L.center(f.fruit[0], f.fruit[1]);
    return { points, colors: { head: rgb(f.alive ? SNAKE.head : SNAKE.dead), body: rgb(SNAKE.body), fruit: rgb(SNAKE.fruit) } };
  }

  destroy(): void {
    this.root.destroy({ children: true });
  }
}

registerFrameRenderer('snake', () => new SnakeRenderer());

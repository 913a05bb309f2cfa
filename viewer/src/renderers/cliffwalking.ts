/** CliffWalking: the floor grid, the cliff along the bottom, start and goal cells, the agent. */
import { Container, Graphics } from 'pixi.js';
import type { CliffWalkingFrame } from '../../../envs/frames.js';
import { CLIFF_WALKING_DIRS, gridLayout, type GridLayout } from '../model/grid_geometry.js';
import { GRID, rgb, STAGE } from '../model/palette.js';
import { label, place, PointTween } from '../stage/draw.js';
import { agentMarker, boardKey, Caption, hatch, star } from '../stage/grid_common.js';
import { registerFrameRenderer, type DrawContext, type FrameRenderer, type Probe } from '../stage/registry.js';

const ACTIONS = ['↑ up', '→ right', '↓ down', '← left'];

class CliffWalkingRenderer implements FrameRenderer<CliffWalkingFrame> {
  readonly root = new Container();
  private readonly board = new Graphics();
  private readonly agent = new Graphics();
  private readonly cliffLabel = label({ fontSize: 12, fontWeight: '600', fill: 0xd7797d, letterSpacing: 3 });
  private readonly startLabel = label({ fontSize: 12, fontWeight: '600', fill: 0x9fc9e6 });
  private readonly caption = new Caption();
  private readonly tween = new PointTween();
  private layout: GridLayout | null = null;
  private key = '';
  private frame: CliffWalkingFrame | null = null;

  constructor() {
    this.root.addChild(this.board, this.cliffLabel, this.startLabel, this.agent, this.caption.root);
  }

  draw(f: CliffWalkingFrame, ctx: DrawContext): void {
    const key = boardKey([f.rows, f.cols, f.cliff, f.start, f.goal, ctx.size.width, ctx.size.height]);
    if (key !== this.key || !this.layout) {
      this.key = key;
      this.layout = gridLayout(f.rows, f.cols, ctx.size.width, ctx.size.height, { padding: 28, reserveBottom: 34, maxCell: 96 });
      this.drawBoard(f, this.layout);
      this.tween.jump(this.layout.center(f.agent[0], f.agent[1]));
    }
    const L = this.layout;
    const prev = this.frame?.agent;
    const target = L.center(f.agent[0], f.agent[1]);
    const teleport = !prev || ctx.step.episodeStep <= 1 || Math.abs(prev[0] - f.agent[0]) + Math.abs(prev[1] - f.agent[1]) > 1;
    if (teleport) this.tween.jump(target);
    else this.tween.set(target, ctx.now, ctx.tweenMs);
    this.frame = f;

    const action = f.lastAction === null ? 'reset' : `action ${ACTIONS[f.lastAction] ?? f.lastAction}`;
    let event = '';
    let color: number = STAGE.text;
    if (ctx.step.reward <= -100) [event, color] = ['fell off the cliff  −100, back to start', STAGE.bad];
    else if (f.agent[0] === f.goal[0] && f.agent[1] === f.goal[1]) [event, color] = ['reached the goal', STAGE.good];
    this.caption.set(L, action, event, color);
    this.animate(ctx.now);
  }

  animate(now: number): void {
    const f = this.frame;
    const L = this.layout;
    if (!f || !L) return;
    this.agent.clear();
    const dir = f.lastAction === null ? null : (CLIFF_WALKING_DIRS[f.lastAction] ?? null);
    agentMarker(this.agent, this.tween.at(now), L.cell * 0.3, GRID.agent, GRID.agentEdge, dir);
  }

  private drawBoard(f: CliffWalkingFrame, L: GridLayout): void {
    const g = this.board;
    g.clear();
    g.roundRect(L.x0 - 6, L.y0 - 6, L.width + 12, L.height + 12, 10).fill({ color: 0x101821 }).stroke({ width: 1, color: 0x22303f });
    const gap = Math.max(1, Math.round(L.cell * 0.03));
    const rad = Math.max(2, L.cell * 0.08);
    const cliff = new Set(f.cliff.map(([r, c]) => `${r},${c}`));
    for (let r = 0; r < f.rows; r++) {
      for (let c = 0; c < f.cols; c++) {
        const { x, y, w, h } = L.rect(r, c);
        const ix = x + gap;
        const iy = y + gap;
        const iw = w - 2 * gap;
        const ih = h - 2 * gap;
        if (cliff.has(`${r},${c}`)) {
          g.roundRect(ix, iy, iw, ih, rad).fill({ color: GRID.cliff });
          hatch(g, ix, iy, iw, ih, Math.max(6, w / 5), GRID.cliffHatch, 0.9);
        } else if (r === f.start[0] && c === f.start[1]) {
          g.roundRect(ix, iy, iw, ih, rad).fill({ color: GRID.startCell });
        } else if (r === f.goal[0] && c === f.goal[1]) {
          g.roundRect(ix, iy, iw, ih, rad).fill({ color: GRID.goalCell });
          const [cx, cy] = L.center(r, c);
          star(g, cx, cy, w * 0.24, GRID.goal);
        } else {
          g.roundRect(ix, iy, iw, ih, rad).fill({ color: GRID.floor }).stroke({ width: 1, color: GRID.floorLine });
        }
      }
    }
    // Caption over the cliff's cells (they form a run along one row in the standard map).
    if (f.cliff.length > 0) {
      const xs = f.cliff.map(([, c]) => c);
      const row = f.cliff[0]![0];
      const [x0] = L.center(row, Math.min(...xs));
      const [x1, y] = L.center(row, Math.max(...xs));
      this.cliffLabel.visible = L.cell >= 28;
      place(this.cliffLabel, 'THE CLIFF', (x0 + x1) / 2, y, 0.5, 0.5);
    }
    const [sx, sy] = L.center(f.start[0], f.start[1]);
    this.startLabel.visible = L.cell >= 36;
    place(this.startLabel, 'S', sx, sy + L.cell * 0.33, 0.5, 0.5);
  }

  probe(): Probe {
    const f = this.frame;
    const L = this.layout;
    if (!f || !L) return { points: {}, colors: {} };
    return {
      points: { agent: L.center(f.agent[0], f.agent[1]), start: L.center(f.start[0], f.start[1]), goal: L.center(f.goal[0], f.goal[1]) },
      colors: { agent: rgb(GRID.agent), cliff: rgb(GRID.cliff) },
    };
  }

  destroy(): void {
    this.root.destroy({ children: true });
  }
}

registerFrameRenderer('cliffwalking', () => new CliffWalkingRenderer());

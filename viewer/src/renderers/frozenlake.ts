/** FrozenLake: frozen tiles, holes, the start, the goal and the agent with its intended move. */
import { Container, Graphics } from 'pixi.js';
import type { FrozenLakeFrame } from '../../../envs/frames.js';
import type { Point } from '../model/cartpole_geometry.js';
import { FROZEN_LAKE_DIRS, gridLayout, type GridLayout } from '../model/grid_geometry.js';
import { GRID, mix, rgb, STAGE } from '../model/palette.js';
import { PointTween } from '../stage/draw.js';
import { agentMarker, boardKey, Caption, star } from '../stage/grid_common.js';
import { registerFrameRenderer, type DrawContext, type FrameRenderer, type Probe } from '../stage/registry.js';

const ACTIONS = ['← left', '↓ down', '→ right', '↑ up'];
const ICE = 0x2b5372;
const ICE_LIGHT = 0x3b6d92;

class FrozenLakeRenderer implements FrameRenderer<FrozenLakeFrame> {
  readonly root = new Container();
  private readonly board = new Graphics();
  private readonly agent = new Graphics();
  private readonly caption = new Caption();
  private readonly tween = new PointTween();
  private layout: GridLayout | null = null;
  private key = '';
  private frame: FrozenLakeFrame | null = null;
  private agentRadius = 10;

  constructor() {
    this.root.addChild(this.board, this.agent, this.caption.root);
  }

  draw(f: FrozenLakeFrame, ctx: DrawContext): void {
    const rows = f.map.length;
    const cols = f.map[0]?.length ?? 0;
    const key = boardKey([f.map, ctx.size.width, ctx.size.height]);
    if (key !== this.key || !this.layout) {
      this.key = key;
      this.layout = gridLayout(rows, cols, ctx.size.width, ctx.size.height, { padding: 28, reserveBottom: 34, maxCell: 128 });
      this.drawBoard(f.map, this.layout);
      this.tween.jump(this.layout.center(f.agent[0], f.agent[1]));
    }
    const L = this.layout;
    const target = L.center(f.agent[0], f.agent[1]);
    const prev = this.frame?.agent;
    const teleport = !prev || ctx.step.episodeStep <= 1 || Math.abs(prev[0] - f.agent[0]) + Math.abs(prev[1] - f.agent[1]) > 1;
    if (teleport) this.tween.jump(target);
    else this.tween.set(target, ctx.now, ctx.tweenMs);
    this.frame = f;
    this.agentRadius = L.cell * 0.3;

    const tile = f.map[f.agent[0]]?.[f.agent[1]];
    const action = f.lastAction === null ? 'reset' : `action ${ACTIONS[f.lastAction] ?? f.lastAction}`;
    const slipped = f.lastAction !== null && prev && !teleport && !movedAlong(prev, f.agent, FROZEN_LAKE_DIRS[f.lastAction] ?? null);
    let event = '';
    let color: number = STAGE.text;
    if (tile === 'H') [event, color] = ['fell into a hole', STAGE.bad];
    else if (tile === 'G') [event, color] = ['reached the goal  +1', STAGE.good];
    else if (slipped) [event, color] = ['slipped', STAGE.warn];
    this.caption.set(L, action, event, color);
    this.animate(ctx.now);
  }

  animate(now: number): void {
    const f = this.frame;
    if (!f || !this.layout) return;
    const g = this.agent;
    g.clear();
    const tile = f.map[f.agent[0]]?.[f.agent[1]];
    const dir = f.lastAction === null ? null : (FROZEN_LAKE_DIRS[f.lastAction] ?? null);
    const inHole = tile === 'H' && !this.tween.running(now);
    const at = this.tween.at(now);
    if (tile === 'G' && !this.tween.running(now)) g.circle(at[0], at[1], this.agentRadius * 1.45).fill({ color: GRID.goal, alpha: 0.25 });
    agentMarker(g, at, inHole ? this.agentRadius * 0.8 : this.agentRadius, GRID.agent, GRID.agentEdge, dir, inHole ? 0.55 : 1);
  }

  private drawBoard(map: string[], L: GridLayout): void {
    const g = this.board;
    g.clear();
    g.roundRect(L.x0 - 6, L.y0 - 6, L.width + 12, L.height + 12, 10).fill({ color: 0x101821 }).stroke({ width: 1, color: 0x22303f });
    const gap = Math.max(2, Math.round(L.cell * 0.04));
    const rad = Math.max(3, L.cell * 0.1);
    map.forEach((line, r) => {
      [...line].forEach((ch, c) => {
        const { x, y, w, h } = L.rect(r, c);
        const [cx, cy] = L.center(r, c);
        const ix = x + gap;
        const iy = y + gap;
        const iw = w - 2 * gap;
        const ih = h - 2 * gap;
        if (ch === 'H') {
          g.roundRect(ix, iy, iw, ih, rad).fill({ color: 0x13283a });
          g.ellipse(cx, cy + ih * 0.04, iw * 0.36, ih * 0.3).fill({ color: GRID.hole }).stroke({ width: Math.max(2, w * 0.035), color: GRID.holeRim });
          g.ellipse(cx - iw * 0.08, cy - ih * 0.05, iw * 0.12, ih * 0.06).fill({ color: 0x1c3a52, alpha: 0.8 });
          return;
        }
        const base = ch === 'G' ? 0x2c4a2c : ch === 'S' ? mix(ICE, 0x58a6ff, 0.25) : ICE;
        g.roundRect(ix, iy, iw, ih, rad).fill({ color: base });
        // A sheen across the top-left corner of each ice tile.
        g.poly([ix + rad, iy, ix + iw * 0.55, iy, ix, iy + ih * 0.55, ix, iy + rad]).fill({ color: ICE_LIGHT, alpha: ch === 'G' ? 0.15 : 0.45 });
        if (ch === 'G') {
          g.circle(cx, cy, iw * 0.3).fill({ color: GRID.goal, alpha: 0.18 });
          star(g, cx, cy, iw * 0.24, GRID.goal);
        } else if (ch === 'S') {
          g.circle(cx, cy, iw * 0.34).stroke({ width: 2, color: 0x9fc9e6, alpha: 0.5 });
        }
      });
    });
  }

  probe(): Probe {
    const f = this.frame;
    const L = this.layout;
    if (!f || !L) return { points: {}, colors: {} };
    const points: Probe['points'] = { agent: L.center(f.agent[0], f.agent[1]), boardTopLeft: [L.x0, L.y0], boardBottomRight: [L.x0 + L.width, L.y0 + L.height] };
    f.map.forEach((line, r) => [...line].forEach((ch, c) => {
      if (ch === 'G') points.goal = L.center(r, c);
      if (ch === 'S') points.start = L.center(r, c);
    }));
    return { points, colors: { agent: rgb(GRID.agent), goal: rgb(GRID.goal) } };
  }

  destroy(): void {
    this.root.destroy({ children: true });
  }
}

function movedAlong(from: [number, number], to: [number, number], dir: Point | null): boolean {
  if (!dir) return true;
  const moved = to[0] !== from[0] || to[1] !== from[1];
  // Bumping into the edge counts as moving along when the intended direction points off the board.
  return moved ? to[1] - from[1] === dir[0] && to[0] - from[0] === dir[1] : true;
}

registerFrameRenderer('frozenlake', () => new FrozenLakeRenderer());

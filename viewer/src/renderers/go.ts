/** Go: the wooden board, grid, star points, GTP coordinates, stones, the last move, captures, komi and who plays. */
import { Container, Graphics, type Text } from 'pixi.js';
import type { GoFrame } from '../../../envs/frames.js';
import { goLayout, lastMoveLabel, parseStones, starPoints, type GoLayout } from '../model/go_geometry.js';
import { GO, rgb, STAGE } from '../model/palette.js';
import { label, place } from '../stage/draw.js';
import { boardKey } from '../stage/grid_common.js';
import { registerFrameRenderer, type DrawContext, type FrameRenderer, type Probe, type StageSize } from '../stage/registry.js';

export interface GoRendererOptions {
  /** Draw the captures/komi/to-play panel beside or below the board (default true); the Play page has its own. */
  panel?: boolean;
}

export class GoRenderer implements FrameRenderer<GoFrame> {
  readonly root = new Container();
  private readonly board = new Graphics();
  private readonly stones = new Graphics();
  private readonly labels = new Container();
  private readonly panel = new Graphics();
  private readonly panelTexts: Text[] = [];
  private layout: GoLayout | null = null;
  private key = '';
  private frame: GoFrame | null = null;

  private readonly withPanel: boolean;

  constructor(options: GoRendererOptions = {}) {
    this.withPanel = options.panel ?? true;
    this.root.addChild(this.board, this.labels, this.stones, this.panel);
    for (let i = 0; i < (this.withPanel ? 10 : 0); i++) {
      const t = label({ fontSize: 13, fill: STAGE.muted });
      this.panelTexts.push(t);
      this.root.addChild(t);
    }
  }

  draw(f: GoFrame, ctx: DrawContext): void {
    this.drawFrame(f, ctx.size);
  }

  /** The layout of the board drawn last (null before the first draw): where each point is on the canvas. */
  get currentLayout(): GoLayout | null {
    return this.layout;
  }

  /** Draws a frame at a stage size (CSS px); `draw` without the step context. */
  drawFrame(f: GoFrame, size: StageSize): void {
    const key = boardKey([f.size, size.width, size.height]);
    if (key !== this.key || !this.layout) {
      this.key = key;
      this.layout = goLayout(f.size, size.width, size.height, { panel: this.withPanel });
      this.drawBoard(this.layout);
    }
    this.frame = f;
    const L = this.layout;
    const g = this.stones;
    g.clear();
    const r = L.stoneRadius;
    for (const s of parseStones(f.board, f.size)) {
      const [x, y] = L.point(s.row, s.col);
      g.circle(x + r * 0.08, y + r * 0.12, r).fill({ color: 0x000000, alpha: 0.28 });
      if (s.color === 'black') {
        g.circle(x, y, r).fill({ color: GO.black });
        g.circle(x - r * 0.3, y - r * 0.32, r * 0.32).fill({ color: GO.blackHighlight, alpha: 0.55 });
      } else {
        g.circle(x, y, r).fill({ color: GO.white }).stroke({ width: Math.max(1, r * 0.06), color: GO.whiteShade });
      }
    }
    if (Array.isArray(f.lastMove)) {
      const [x, y] = L.point(f.lastMove[0], f.lastMove[1]);
      g.circle(x, y, r * 0.36).stroke({ width: Math.max(2, r * 0.14), color: GO.lastMove });
    }
    if (this.withPanel) this.drawPanel(f, L);
  }

  private drawBoard(L: GoLayout): void {
    const g = this.board;
    g.clear();
    const b = L.board;
    g.roundRect(b.x + 3, b.y + 5, b.w, b.h, 8).fill({ color: 0x000000, alpha: 0.4 });
    g.roundRect(b.x, b.y, b.w, b.h, 8).fill({ color: GO.wood }).stroke({ width: 1, color: GO.woodEdge });
    const last = (L.size - 1) * L.spacing;
    const lw = Math.max(1, Math.min(1.6, L.spacing / 40));
    for (let i = 0; i < L.size; i++) {
      const p = i * L.spacing;
      g.moveTo(L.x0, L.y0 + p).lineTo(L.x0 + last, L.y0 + p);
      g.moveTo(L.x0 + p, L.y0).lineTo(L.x0 + p, L.y0 + last);
    }
    g.stroke({ width: lw, color: GO.line });
    g.rect(L.x0, L.y0, last, last).stroke({ width: lw * 1.6, color: GO.line });
    for (const [r, c] of starPoints(L.size)) {
      const [x, y] = L.point(r, c);
      g.circle(x, y, Math.max(2.5, L.spacing * 0.07)).fill({ color: GO.line });
    }
    this.labels.removeChildren().forEach((c) => c.destroy());
    for (const l of L.labels) {
      const t = label({ fontSize: Math.round(L.labelSize), fontWeight: '600', fill: GO.label });
      place(t, l.text, l.x, l.y, 0.5, 0.5);
      this.labels.addChild(t);
    }
  }

  private drawPanel(f: GoFrame, L: GoLayout): void {
    const g = this.panel;
    g.clear();
    const rows: [string, string, 'black' | 'white' | null][] = [
      ['to play', f.toPlay, f.toPlay],
      ['captures', `${f.captures.black}`, 'black'],
      ['', `${f.captures.white}`, 'white'],
      ['komi', String(f.komi), null],
      ['last move', lastMoveLabel(f) ?? '—', null],
    ];
    const P = L.panel;
    const texts = this.panelTexts;
    texts.forEach((t) => (t.visible = false));
    const dot = (x: number, y: number, color: 'black' | 'white') => {
      g.circle(x, y, 7).fill({ color: color === 'black' ? GO.black : GO.white }).stroke({ width: 1, color: color === 'black' ? 0x5a6270 : GO.whiteShade });
    };
    if (P.side === 'right') {
      let y = P.y + 6;
      let ti = 0;
      for (const [name, value, stone] of rows) {
        if (name) {
          const t = texts[ti++]!;
          t.visible = true;
          t.style.fill = STAGE.muted;
          t.style.fontSize = 12;
          place(t, name.toUpperCase(), P.x, y, 0, 0);
          y += 20;
        }
        const v = texts[ti++]!;
        v.visible = true;
        v.style.fill = STAGE.text;
        v.style.fontSize = 17;
        if (stone) dot(P.x + 7, y + 11, stone);
        place(v, value, P.x + (stone ? 22 : 0), y, 0, 0);
        y += name === 'captures' ? 28 : 40;
      }
      return;
    }
    // Below the board: one line.
    const parts = [`${f.toPlay} to play`, `captures ● ${f.captures.black}  ○ ${f.captures.white}`, `komi ${f.komi}`, `last ${lastMoveLabel(f) ?? '—'}`];
    const t = texts[0]!;
    t.visible = true;
    t.style.fill = STAGE.muted;
    t.style.fontSize = 13;
    place(t, parts.join('   ·   '), P.x + P.w / 2, P.y + 4, 0.5, 0);
  }

  probe(): Probe {
    const f = this.frame;
    const L = this.layout;
    if (!f || !L) return { points: {}, colors: {} };
    const points: Probe['points'] = {
      topLeft: L.point(0, 0),
      bottomRight: L.point(f.size - 1, f.size - 1),
    };
    if (Array.isArray(f.lastMove)) points.lastMove = L.point(f.lastMove[0], f.lastMove[1]);
    const stones = parseStones(f.board, f.size);
    const b = stones.find((s) => s.color === 'black');
    const w = stones.find((s) => s.color === 'white');
    if (b) points.blackStone = L.point(b.row, b.col);
    if (w) points.whiteStone = L.point(w.row, w.col);
    return { points, colors: { board: rgb(GO.wood), black: rgb(GO.black), white: rgb(GO.white) } };
  }

  destroy(): void {
    this.root.destroy({ children: true });
  }
}

registerFrameRenderer('go', () => new GoRenderer());

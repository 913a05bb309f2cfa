/** Text frames (an env's `ansi` render, a string): the text in a monospace box, as large as the stage allows. */
import { Container, Graphics } from 'pixi.js';
import type { TextFrame } from '../../../envs/frames.js';
import { rgb, STAGE } from '../model/palette.js';
import { FONT_MONO, label, place } from '../stage/draw.js';
import { registerFrameRenderer, type DrawContext, type FrameRenderer, type Probe } from '../stage/registry.js';
import type { Point } from '../model/cartpole_geometry.js';

const BOX = 0x121922;
/** A monospace glyph's width and a line's height, in font sizes. */
const CHAR_W = 0.62;
const LINE_H = 1.3;

/** The font size at which `lines` fit `width`×`height` with padding (8 to 22 px; smaller text would be unreadable). */
export function textFontSize(lines: readonly string[], width: number, height: number): number {
  const cols = Math.max(1, ...lines.map((l) => l.length));
  const fit = Math.min((width * 0.9) / (cols * CHAR_W), (height * 0.85) / (lines.length * LINE_H));
  return Math.max(8, Math.min(22, Math.floor(fit)));
}

class TextRenderer implements FrameRenderer<TextFrame> {
  readonly root = new Container();
  private readonly box = new Graphics();
  private readonly text = label({ fontFamily: FONT_MONO, fontSize: 14, fill: STAGE.text });
  private corner: Point | null = null;
  private textStart: Point | null = null;

  constructor() {
    this.root.addChild(this.box, this.text);
  }

  draw(f: TextFrame, ctx: DrawContext): void {
    // Terminal colour codes (ANSI escapes) have no meaning here: drop them.
    const lines = f.text.replace(/\u001b\[[0-9;]*[A-Za-z]/g, '').replace(/\s+$/, '').split('\n');
    const size = textFontSize(lines, ctx.size.width, ctx.size.height);
    // Text is re-rasterised when its style changes: only when the size does.
    if (this.text.style.fontSize !== size) {
      this.text.style.fontSize = size;
      this.text.style.lineHeight = Math.round(size * LINE_H);
    }
    const w = Math.min(ctx.size.width - 16, Math.max(1, ...lines.map((l) => l.length)) * size * CHAR_W + 2 * size);
    const h = Math.min(ctx.size.height - 16, lines.length * size * LINE_H + 1.5 * size);
    const x = (ctx.size.width - w) / 2;
    const y = (ctx.size.height - h) / 2;
    this.box.clear().roundRect(x, y, w, h, 6).fill({ color: BOX }).stroke({ width: 1, color: STAGE.grid });
    place(this.text, lines.join('\n'), x + size, y + 0.75 * size, 0, 0);
    this.corner = [x + 4, y + 4];
    this.textStart = [x + size, y + 0.75 * size];
  }

  probe(): Probe {
    return this.corner && this.textStart ? { points: { box: this.corner, text: this.textStart }, colors: { box: rgb(BOX), text: rgb(STAGE.text) } } : { points: {}, colors: {} };
  }

  destroy(): void {
    this.root.destroy({ children: true });
  }
}

registerFrameRenderer('text', () => new TextRenderer());

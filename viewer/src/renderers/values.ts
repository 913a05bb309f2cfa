/** Values frames: labelled bars (a plug-in env's numbers), each on its bounds' scale or scaled by the largest |value| shown. */
import { Container, Graphics, type Text } from 'pixi.js';
import type { ValuesFrame } from '../../../envs/frames.js';
import { barMidpoint, valueText, valuesGeometry, type ValuesGeometry } from '../model/values_geometry.js';
import { rgb, STAGE } from '../model/palette.js';
import { FONT_MONO, label, place } from '../stage/draw.js';
import { registerFrameRenderer, type DrawContext, type FrameRenderer, type Probe } from '../stage/registry.js';

const POSITIVE = STAGE.accent;
const NEGATIVE = 0xf0a35e;
const TRACK = 0x1e2632;

class ValuesRenderer implements FrameRenderer<ValuesFrame> {
  readonly root = new Container();
  private readonly scene = new Graphics();
  private readonly texts = new Container();
  private readonly title = label({ fontSize: 13, fill: STAGE.text });
  private readonly footer = label({ fontSize: 12, fill: STAGE.muted });
  private labels: Text[] = [];
  private numbers: Text[] = [];
  /** Largest |value| each bar has shown: the scale of bars without bounds. Reset when the labels change. */
  private seen: number[] = [];
  private seenKey = '';
  private geometry: ValuesGeometry | null = null;

  constructor() {
    this.root.addChild(this.scene, this.texts, this.title, this.footer);
  }

  draw(f: ValuesFrame, ctx: DrawContext): void {
    const key = `${f.values.length}|${(f.labels ?? []).join('\u0000')}`;
    if (key !== this.seenKey) {
      this.seenKey = key;
      this.seen = [];
    }
    f.values.forEach((v, i) => {
      if (v !== null) this.seen[i] = Math.max(this.seen[i] ?? 0, Math.abs(v));
    });
    const g = valuesGeometry(f, ctx.size.width, ctx.size.height, this.seen);
    this.geometry = g;
    const s = this.scene;
    s.clear();
    while (this.labels.length < g.bars.length) {
      const l = label({ fontFamily: FONT_MONO, fontSize: 12, fill: STAGE.muted });
      const n = label({ fontFamily: FONT_MONO, fontSize: 12, fill: STAGE.text });
      this.labels.push(l);
      this.numbers.push(n);
      this.texts.addChild(l, n);
    }
    this.labels.forEach((l, i) => (l.visible = i < g.bars.length));
    this.numbers.forEach((n, i) => (n.visible = i < g.bars.length));
    const fontSize = Math.max(8, Math.min(12, (g.bars[0]?.thickness ?? 12) * 1.1));
    g.bars.forEach((b, i) => {
      s.roundRect(b.x0, b.y - b.thickness / 2, b.x1 - b.x0, b.thickness, Math.min(4, b.thickness / 2)).fill({ color: TRACK });
      if (b.value !== null && b.valueX !== b.zeroX) {
        const left = Math.min(b.zeroX, b.valueX);
        s.rect(left, b.y - b.thickness / 2, Math.abs(b.valueX - b.zeroX), b.thickness).fill({ color: b.value >= 0 ? POSITIVE : NEGATIVE });
      }
      if (b.zeroX > b.x0 && b.zeroX < b.x1) s.moveTo(b.zeroX, b.y - b.thickness / 2 - 3).lineTo(b.zeroX, b.y + b.thickness / 2 + 3).stroke({ width: 1, color: STAGE.faint });
      // A value beyond its bounds: a red tick at the end it was clamped to.
      if (b.outside) s.rect(b.valueX - 1.5, b.y - b.thickness / 2 - 3, 3, b.thickness + 6).fill({ color: STAGE.bad });
      const l = this.labels[i]!;
      const n = this.numbers[i]!;
      // Text is re-rasterised when its style changes: only when the size does.
      if (l.style.fontSize !== fontSize) l.style.fontSize = fontSize;
      if (n.style.fontSize !== fontSize) n.style.fontSize = fontSize;
      place(l, b.label, g.labelX, b.y, 0, 0.5);
      place(n, valueText(b.value), g.numberX, b.y, 1, 0.5);
    });
    place(this.title, f.title ?? '', g.labelX, g.titleY, 0, 0);
    place(this.footer, g.hidden > 0 ? `+${g.hidden} more values not shown` : '', g.labelX, g.footerY, 0, 0);
  }

  probe(): Probe {
    const g = this.geometry;
    if (!g) return { points: {}, colors: {} };
    const points: Probe['points'] = {};
    g.bars.forEach((b, i) => {
      const mid = barMidpoint(b);
      if (mid) points[`bar${i}`] = mid;
      // The track's ends, the zero and the value: where the frame's numbers put them.
      points[`from${i}`] = [b.x0, b.y];
      points[`to${i}`] = [b.x1, b.y];
      points[`zero${i}`] = [b.zeroX, b.y];
      points[`value${i}`] = [b.valueX, b.y];
      // A point of empty track: beyond the bar, on the side away from zero, or before it.
      const empty = b.valueX >= b.zeroX ? [Math.max(b.valueX, b.zeroX), b.x1] : [b.x0, Math.min(b.valueX, b.zeroX)];
      if (empty[1]! - empty[0]! >= 8) points[`track${i}`] = [(empty[0]! + empty[1]!) / 2, b.y];
    });
    return { points, colors: { positive: rgb(POSITIVE), negative: rgb(NEGATIVE), track: rgb(TRACK) } };
  }

  destroy(): void {
    this.root.destroy({ children: true });
  }
}

registerFrameRenderer('values', () => new ValuesRenderer());

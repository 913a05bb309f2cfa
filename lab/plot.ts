/**
 * Line charts with confidence bands, drawn twice from one list of shapes: as SVG text and as a PNG that this
 * module rasterises itself (anti-aliased strokes, alpha-blended fills, a built-in 5×7 bitmap font), encoded
 * with pngjs. No canvas, no fonts, no native code: the same input gives the same bytes on every machine.
 *
 * A figure is a grid of panels; a panel has a title, axis labels and series; a series is a line through
 * (x, y) with an optional band [lo, hi] at each point.
 */
import { PNG } from 'pngjs';

export interface SeriesPoint {
  x: number;
  y: number;
  lo?: number;
  hi?: number;
}

export interface Series {
  name: string;
  /** '#rrggbb' */
  color: string;
  points: SeriesPoint[];
}

export interface Panel {
  title: string;
  xLabel: string;
  yLabel: string;
  series: Series[];
  /** A grey line at the bottom of the legend, e.g. what the bands are. */
  note?: string;
  /** Format x tick labels as 10k, 1.5M (for env steps). */
  xSi?: boolean;
}

export interface FigureOptions {
  /** Size of one panel in pixels (default 1200 × 700). */
  panelWidth?: number;
  panelHeight?: number;
  /** Panels per row (default: 1 for one panel, else 2). */
  columns?: number;
}

/** Ten distinct colours (the familiar "category10" set), one per group, in order. */
export const PALETTE = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'] as const;

export function seriesColor(i: number): string {
  return PALETTE[i % PALETTE.length]!;
}

// ---------------------------------------------------------------------------------------------------------
// The bitmap font: 5 columns × 7 rows above the baseline, 2 more rows for descenders; '#' is ink. Glyphs are
// trimmed to their inked columns, so the text is proportional (one blank column between glyphs).

const GLYPHS: Record<string, string[]> = {
  '0': ['.###.', '#...#', '#..##', '#.#.#', '##..#', '#...#', '.###.'],
  '1': ['..#..', '.##..', '..#..', '..#..', '..#..', '..#..', '.###.'],
  '2': ['.###.', '#...#', '....#', '...#.', '..#..', '.#...', '#####'],
  '3': ['#####', '...#.', '..#..', '...#.', '....#', '#...#', '.###.'],
  '4': ['...#.', '..##.', '.#.#.', '#..#.', '#####', '...#.', '...#.'],
  '5': ['#####', '#....', '####.', '....#', '....#', '#...#', '.###.'],
  '6': ['..##.', '.#...', '#....', '####.', '#...#', '#...#', '.###.'],
  '7': ['#####', '....#', '...#.', '..#..', '.#...', '.#...', '.#...'],
  '8': ['.###.', '#...#', '#...#', '.###.', '#...#', '#...#', '.###.'],
  '9': ['.###.', '#...#', '#...#', '.####', '....#', '...#.', '.##..'],
  A: ['.###.', '#...#', '#...#', '#####', '#...#', '#...#', '#...#'],
  B: ['####.', '#...#', '#...#', '####.', '#...#', '#...#', '####.'],
  C: ['.###.', '#...#', '#....', '#....', '#....', '#...#', '.###.'],
  D: ['###..', '#..#.', '#...#', '#...#', '#...#', '#..#.', '###..'],
  E: ['#####', '#....', '#....', '####.', '#....', '#....', '#####'],
  F: ['#####', '#....', '#....', '####.', '#....', '#....', '#....'],
  G: ['.###.', '#...#', '#....', '#.###', '#...#', '#...#', '.####'],
  H: ['#...#', '#...#', '#...#', '#####', '#...#', '#...#', '#...#'],
  I: ['.###.', '..#..', '..#..', '..#..', '..#..', '..#..', '.###.'],
  J: ['..###', '...#.', '...#.', '...#.', '...#.', '#..#.', '.##..'],
  K: ['#...#', '#..#.', '#.#..', '##...', '#.#..', '#..#.', '#...#'],
  L: ['#....', '#....', '#....', '#....', '#....', '#....', '#####'],
  M: ['#...#', '##.##', '#.#.#', '#.#.#', '#...#', '#...#', '#...#'],
  N: ['#...#', '#...#', '##..#', '#.#.#', '#..##', '#...#', '#...#'],
  O: ['.###.', '#...#', '#...#', '#...#', '#...#', '#...#', '.###.'],
  P: ['####.', '#...#', '#...#', '####.', '#....', '#....', '#....'],
  Q: ['.###.', '#...#', '#...#', '#...#', '#.#.#', '#..#.', '.##.#'],
  R: ['####.', '#...#', '#...#', '####.', '#.#..', '#..#.', '#...#'],
  S: ['.####', '#....', '#....', '.###.', '....#', '....#', '####.'],
  T: ['#####', '..#..', '..#..', '..#..', '..#..', '..#..', '..#..'],
  U: ['#...#', '#...#', '#...#', '#...#', '#...#', '#...#', '.###.'],
  V: ['#...#', '#...#', '#...#', '#...#', '#...#', '.#.#.', '..#..'],
  W: ['#...#', '#...#', '#...#', '#.#.#', '#.#.#', '#.#.#', '.#.#.'],
  X: ['#...#', '#...#', '.#.#.', '..#..', '.#.#.', '#...#', '#...#'],
  Y: ['#...#', '#...#', '.#.#.', '..#..', '..#..', '..#..', '..#..'],
  Z: ['#####', '....#', '...#.', '..#..', '.#...', '#....', '#####'],
  a: ['.....', '.....', '.###.', '....#', '.####', '#...#', '.####'],
  b: ['#....', '#....', '#.##.', '##..#', '#...#', '#...#', '####.'],
  c: ['.....', '.....', '.###.', '#....', '#....', '#...#', '.###.'],
  d: ['....#', '....#', '.##.#', '#..##', '#...#', '#...#', '.####'],
  e: ['.....', '.....', '.###.', '#...#', '#####', '#....', '.###.'],
  f: ['..##.', '.#..#', '.#...', '###..', '.#...', '.#...', '.#...'],
  g: ['.....', '.....', '.####', '#...#', '#...#', '#...#', '.####', '....#', '.###.'],
  h: ['#....', '#....', '#.##.', '##..#', '#...#', '#...#', '#...#'],
  i: ['..#..', '.....', '.##..', '..#..', '..#..', '..#..', '.###.'],
  j: ['...#.', '.....', '..##.', '...#.', '...#.', '...#.', '...#.', '#..#.', '.##..'],
  k: ['#....', '#....', '#..#.', '#.#..', '##...', '#.#..', '#..#.'],
  l: ['.##..', '..#..', '..#..', '..#..', '..#..', '..#..', '.###.'],
  m: ['.....', '.....', '##.#.', '#.#.#', '#.#.#', '#.#.#', '#.#.#'],
  n: ['.....', '.....', '#.##.', '##..#', '#...#', '#...#', '#...#'],
  o: ['.....', '.....', '.###.', '#...#', '#...#', '#...#', '.###.'],
  p: ['.....', '.....', '####.', '#...#', '#...#', '#...#', '####.', '#....', '#....'],
  q: ['.....', '.....', '.####', '#...#', '#...#', '#...#', '.####', '....#', '....#'],
  r: ['.....', '.....', '#.##.', '##..#', '#....', '#....', '#....'],
  s: ['.....', '.....', '.####', '#....', '.###.', '....#', '####.'],
  t: ['.#...', '.#...', '###..', '.#...', '.#...', '.#..#', '..##.'],
  u: ['.....', '.....', '#...#', '#...#', '#...#', '#..##', '.##.#'],
  v: ['.....', '.....', '#...#', '#...#', '#...#', '.#.#.', '..#..'],
  w: ['.....', '.....', '#...#', '#...#', '#.#.#', '#.#.#', '.#.#.'],
  x: ['.....', '.....', '#...#', '.#.#.', '..#..', '.#.#.', '#...#'],
  y: ['.....', '.....', '#...#', '#...#', '#...#', '#...#', '.####', '....#', '.###.'],
  z: ['.....', '.....', '#####', '...#.', '..#..', '.#...', '#####'],
  '.': ['.....', '.....', '.....', '.....', '.....', '##...', '##...'],
  ',': ['.....', '.....', '.....', '.....', '.....', '.##..', '.##..', '..#..', '.#...'],
  ':': ['.....', '##...', '##...', '.....', '##...', '##...', '.....'],
  ';': ['.....', '.##..', '.##..', '.....', '.##..', '.##..', '..#..', '.#...'],
  '-': ['.....', '.....', '.....', '####.', '.....', '.....', '.....'],
  '+': ['.....', '..#..', '..#..', '#####', '..#..', '..#..', '.....'],
  '=': ['.....', '.....', '#####', '.....', '#####', '.....', '.....'],
  '(': ['..#..', '.#...', '#....', '#....', '#....', '.#...', '..#..'],
  ')': ['#....', '.#...', '..#..', '..#..', '..#..', '.#...', '#....'],
  '[': ['###..', '#....', '#....', '#....', '#....', '#....', '###..'],
  ']': ['###..', '..#..', '..#..', '..#..', '..#..', '..#..', '###..'],
  '/': ['.....', '....#', '...#.', '..#..', '.#...', '#....', '.....'],
  '%': ['##...', '##..#', '...#.', '..#..', '.#...', '#..##', '...##'],
  _: ['.....', '.....', '.....', '.....', '.....', '.....', '#####'],
  "'": ['#....', '#....', '#....', '.....', '.....', '.....', '.....'],
  '"': ['#.#..', '#.#..', '#.#..', '.....', '.....', '.....', '.....'],
  '!': ['#....', '#....', '#....', '#....', '#....', '.....', '#....'],
  '?': ['.###.', '#...#', '....#', '...#.', '..#..', '.....', '..#..'],
  '<': ['...#.', '..#..', '.#...', '#....', '.#...', '..#..', '...#.'],
  '>': ['#....', '.#...', '..#..', '...#.', '..#..', '.#...', '#....'],
  '|': ['#....', '#....', '#....', '#....', '#....', '#....', '#....', '#....'],
  '#': ['.#.#.', '.#.#.', '#####', '.#.#.', '#####', '.#.#.', '.#.#.'],
  '*': ['.....', '..#..', '#.#.#', '.###.', '#.#.#', '..#..', '.....'],
  '&': ['.##..', '#..#.', '#.#..', '.#...', '#.#.#', '#..#.', '.##.#'],
  '±': ['..#..', '..#..', '#####', '..#..', '..#..', '.....', '#####'],
  '×': ['.....', '#...#', '.#.#.', '..#..', '.#.#.', '#...#', '.....'],
  '~': ['.....', '.....', '.#...', '#.#.#', '...#.', '.....', '.....'],
  '^': ['..#..', '.#.#.', '#...#', '.....', '.....', '.....', '.....'],
  '@': ['.###.', '#...#', '#.###', '#.#.#', '#.###', '#....', '.###.'],
  '$': ['..#..', '.####', '#.#..', '.###.', '..#.#', '####.', '..#..'],
  '\u25a1': ['#####', '#...#', '#...#', '#...#', '#...#', '#...#', '#####'],
};

/** Characters drawn as other characters. */
const SUBSTITUTES: Record<string, string> = { '≥': '>=', '≤': '<=', '—': '-', '–': '-', '−': '-', '…': '...', '·': '.', '→': '->', '’': "'", '‘': "'", '“': '"', '”': '"', 'Δ': 'D', 'γ': 'g', 'σ': 's' };

const CAP_ROWS = 7;
const SPACE_ADVANCE = 4;

interface Glyph {
  width: number;
  /** Inked pixels as (column, row) pairs, columns counted from the first inked one. */
  pixels: [number, number][];
}

const glyphCache = new Map<string, Glyph>();

function glyph(ch: string): Glyph {
  const cached = glyphCache.get(ch);
  if (cached) return cached;
  const rows = GLYPHS[ch] ?? GLYPHS['\u25a1']!;
  let first = Infinity;
  let last = -1;
  for (const row of rows) for (let c = 0; c < row.length; c++) if (row[c] === '#') { first = Math.min(first, c); last = Math.max(last, c); }
  const pixels: [number, number][] = [];
  rows.forEach((row, r) => {
    for (let c = 0; c < row.length; c++) if (row[c] === '#') pixels.push([c - first, r]);
  });
  const g = { width: last - first + 1, pixels };
  glyphCache.set(ch, g);
  return g;
}

function normaliseText(text: string): string {
  let out = '';
  for (const ch of text) out += SUBSTITUTES[ch] ?? ch;
  return out;
}

/** Width in pixels of `text` in the bitmap font at an integer `scale`. */
export function textWidth(text: string, scale: number): number {
  let w = 0;
  let any = false;
  for (const ch of normaliseText(text)) {
    w += ch === ' ' ? SPACE_ADVANCE : glyph(ch).width + 1;
    any = true;
  }
  return any ? (w - 1) * scale : 0;
}

// ---------------------------------------------------------------------------------------------------------
// Shapes: what a panel is made of, in pixel coordinates (y down).

type Pt = [number, number];

type Shape =
  | { kind: 'rect'; x: number; y: number; w: number; h: number; fill: string; opacity: number }
  | { kind: 'line'; points: Pt[]; color: string; width: number; cls?: string; series?: string }
  | { kind: 'area'; points: Pt[]; color: string; opacity: number; cls?: string; series?: string }
  | {
      kind: 'text';
      x: number;
      y: number;
      text: string;
      scale: number;
      color: string;
      anchor: 'start' | 'middle' | 'end';
      /** y is the top, the middle or the bottom (baseline) of the capitals. */
      vAlign: 'top' | 'middle' | 'baseline';
      /** Read bottom to top (a y-axis label). */
      vertical?: boolean;
      bold?: boolean;
    };

const AXIS = '#333333';
const GRID = '#e6e6e6';
const TEXT = '#222222';
const MUTED = '#666666';

/** Tick step of 1, 2 or 5 × 10^k giving about `target` intervals over `range`. */
function niceStep(range: number, target: number): number {
  const raw = range / target;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const f = raw / mag;
  return (f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10) * mag;
}

export interface Axis {
  min: number;
  max: number;
  ticks: number[];
  step: number;
}

/** An axis covering [lo, hi] with round ends and about `target` intervals. */
export function niceAxis(lo: number, hi: number, target = 6): Axis {
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) throw new Error(`axis range must be finite, got [${lo}, ${hi}]`);
  if (hi < lo) [lo, hi] = [hi, lo];
  if (hi === lo) {
    const pad = Math.abs(lo) > 0 ? Math.abs(lo) * 0.1 : 1;
    lo -= pad;
    hi += pad;
  }
  const step = niceStep(hi - lo, target);
  const min = Math.floor(lo / step + 1e-9) * step;
  const max = Math.ceil(hi / step - 1e-9) * step;
  const ticks: number[] = [];
  for (let k = 0; min + k * step <= max + step * 1e-9; k++) ticks.push(roundTo(min + k * step, step));
  return { min, max, ticks, step };
}

function decimalsFor(step: number): number {
  for (let d = 0; d <= 8; d++) {
    const v = step * 10 ** d;
    if (Math.abs(v - Math.round(v)) < 1e-6 * Math.max(1, v)) return d;
  }
  return 8;
}

function roundTo(v: number, step: number): number {
  const d = decimalsFor(step);
  return Number(v.toFixed(d));
}

/** Tick label: plain with the step's decimals, or with k / M suffixes (10k, 2.5k, 1.2M). */
export function formatTick(v: number, step: number, si = false): string {
  if (v === 0) return '0';
  if (si && Math.abs(v) >= 1000) {
    const [div, suffix] = Math.abs(v) >= 1e6 && step >= 1e5 ? [1e6, 'M'] : [1e3, 'k'];
    return `${Number((v / div).toFixed(decimalsFor(step / div)))}${suffix}`;
  }
  return v.toFixed(decimalsFor(step));
}

interface Rect {
  x: number;
  y: number;
  w: number;
  h: number;
}

const LEGEND_SCALE = 2;
const LEGEND_ROW = 24;
const LEGEND_PAD = 12;
const SWATCH = 32;

function legendSwatch(shapes: Shape[], s: Series, x: number, y: number): void {
  shapes.push({ kind: 'area', points: [[x, y - 7], [x + SWATCH, y - 7], [x + SWATCH, y + 7], [x, y + 7]], color: s.color, opacity: 0.2, cls: 'legend-band', series: s.name });
  shapes.push({ kind: 'line', points: [[x, y], [x + SWATCH, y]], color: s.color, width: 2.5, cls: 'legend-line', series: s.name });
}

function layoutPanel(panel: Panel, box: Rect): Shape[] {
  const shapes: Shape[] = [];
  const title: Shape = { kind: 'text', x: box.x + box.w / 2, y: box.y + 26, text: panel.title, scale: 2, color: TEXT, anchor: 'middle', vAlign: 'top', bold: true };
  shapes.push(title);
  const pts = panel.series.flatMap((s) => s.points);
  if (pts.length === 0) {
    shapes.push({ kind: 'text', x: box.x + box.w / 2, y: box.y + box.h / 2, text: 'no data', scale: 2, color: MUTED, anchor: 'middle', vAlign: 'middle' });
    return shapes;
  }
  const xs = pts.map((p) => p.x);
  const ys = pts.flatMap((p) => [p.y, p.lo ?? p.y, p.hi ?? p.y]);
  const xMin = Math.min(...xs);
  const xMax = Math.max(...xs);
  const xAxis = niceAxis(xMin >= 0 && xMin <= 0.5 * xMax ? 0 : xMin, xMax, 8);
  const yAxis = niceAxis(Math.min(...ys), Math.max(...ys), 6);
  const mapper = (plot: Rect) => ({
    px: (x: number) => plot.x + ((x - xAxis.min) / (xAxis.max - xAxis.min)) * plot.w,
    py: (y: number) => plot.y + plot.h - ((y - yAxis.min) / (yAxis.max - yAxis.min)) * plot.h,
  });
  // Crisp 1-px lines sit on pixel centres.
  const crisp = (v: number) => Math.floor(v) + 0.5;
  const below = 96; // x tick labels and the x label
  let plot: Rect = { x: box.x + 112, y: box.y + 72, w: box.w - 112 - 44, h: box.h - 72 - below };

  // The legend goes into a plot corner where it covers no data, else under the plot.
  const cap = CAP_ROWS * LEGEND_SCALE;
  const noteW = panel.note ? textWidth(panel.note, LEGEND_SCALE) : 0;
  const entryW = panel.series.map((s) => SWATCH + 10 + textWidth(s.name, LEGEND_SCALE));
  const legendW = Math.max(noteW, ...entryW) + 2 * LEGEND_PAD;
  const rowsInside = panel.series.length + (panel.note ? 1 : 0);
  const legendH = rowsInside * LEGEND_ROW + 2 * LEGEND_PAD - (LEGEND_ROW - cap);
  const margin = 14;
  const corners: Rect[] = [
    { x: plot.x + margin, y: plot.y + margin, w: legendW, h: legendH },
    { x: plot.x + plot.w - margin - legendW, y: plot.y + margin, w: legendW, h: legendH },
    { x: plot.x + plot.w - margin - legendW, y: plot.y + plot.h - margin - legendH, w: legendW, h: legendH },
    { x: plot.x + margin, y: plot.y + plot.h - margin - legendH, w: legendW, h: legendH },
  ];
  const { px: px0, py: py0 } = mapper(plot);
  const inside = (r: Rect, x: number, y: number) => x >= r.x - 6 && x <= r.x + r.w + 6 && y >= r.y - 6 && y <= r.y + r.h + 6;
  const cost = corners.map((r) => {
    let c = 0;
    for (const s of panel.series) {
      for (let i = 0; i < s.points.length; i++) {
        const p = s.points[i]!;
        const next = s.points[i + 1];
        // sample along each segment and its band edges, so long segments count too
        const samples = next ? 16 : 1;
        for (let k = 0; k < samples; k++) {
          const f = k / samples;
          const lerp = (a: number, b: number | undefined) => (next && b !== undefined ? a + f * (b - a) : a);
          const x = px0(lerp(p.x, next?.x));
          for (const [a, b] of [[p.y, next?.y], [p.lo, next?.lo], [p.hi, next?.hi]] as [number | undefined, number | undefined][]) {
            if (a !== undefined && inside(r, x, py0(lerp(a, b)))) c++;
          }
          // the band between lo and hi
          if (p.lo !== undefined && p.hi !== undefined) {
            const lo = py0(lerp(p.lo, next?.lo));
            const hi = py0(lerp(p.hi, next?.hi));
            if (x >= r.x && x <= r.x + r.w && hi <= r.y + r.h && lo >= r.y) c++;
          }
        }
      }
    }
    return c;
  });
  const bestCost = Math.min(...cost);
  let legendBelow: { rows: number[][]; height: number } | null = null;
  if (bestCost > 0) {
    // Entries in rows that fit the plot width; the note on a line of its own.
    const rows: number[][] = [];
    let width = 0;
    entryW.forEach((w, i) => {
      const last = rows.at(-1);
      if (last && width + 28 + w <= plot.w) {
        last.push(i);
        width += 28 + w;
      } else {
        rows.push([i]);
        width = w;
      }
    });
    const lines = rows.length + (panel.note ? 1 : 0);
    const height = lines * LEGEND_ROW + 8;
    legendBelow = { rows, height };
    plot = { ...plot, h: plot.h - height };
  }
  const { px, py } = mapper(plot);

  // Grid and ticks.
  for (const t of yAxis.ticks) {
    const y = crisp(py(t));
    if (t !== yAxis.min) shapes.push({ kind: 'line', points: [[plot.x, y], [plot.x + plot.w, y]], color: GRID, width: 1, cls: 'grid' });
    shapes.push({ kind: 'line', points: [[plot.x - 6, y], [plot.x, y]], color: AXIS, width: 1 });
    shapes.push({ kind: 'text', x: plot.x - 12, y, text: formatTick(t, yAxis.step), scale: 2, color: TEXT, anchor: 'end', vAlign: 'middle' });
  }
  for (const t of xAxis.ticks) {
    const x = crisp(px(t));
    if (t !== xAxis.min) shapes.push({ kind: 'line', points: [[x, plot.y], [x, plot.y + plot.h]], color: GRID, width: 1, cls: 'grid' });
    shapes.push({ kind: 'line', points: [[x, plot.y + plot.h], [x, plot.y + plot.h + 6]], color: AXIS, width: 1 });
    shapes.push({ kind: 'text', x, y: plot.y + plot.h + 14, text: formatTick(t, xAxis.step, panel.xSi), scale: 2, color: TEXT, anchor: 'middle', vAlign: 'top' });
  }
  shapes.push({ kind: 'text', x: plot.x + plot.w / 2, y: plot.y + plot.h + 52, text: panel.xLabel, scale: 2, color: TEXT, anchor: 'middle', vAlign: 'top' });
  shapes.push({ kind: 'text', x: box.x + 26, y: plot.y + plot.h / 2, text: panel.yLabel, scale: 2, color: TEXT, anchor: 'middle', vAlign: 'middle', vertical: true });

  // Bands under lines; then the axes over the bands; then the lines.
  for (const s of panel.series) {
    const withBand = s.points.filter((p) => p.lo !== undefined && p.hi !== undefined);
    if (withBand.length >= 2) {
      const upper: Pt[] = withBand.map((p) => [px(p.x), py(p.hi!)]);
      const lower: Pt[] = withBand.map((p) => [px(p.x), py(p.lo!)] as Pt).reverse();
      shapes.push({ kind: 'area', points: [...upper, ...lower], color: s.color, opacity: 0.2, cls: 'band', series: s.name });
    }
  }
  const left = crisp(plot.x);
  const bottom = crisp(plot.y + plot.h);
  shapes.push({ kind: 'line', points: [[left, plot.y], [left, bottom], [plot.x + plot.w, bottom]], color: AXIS, width: 1, cls: 'axis' });
  for (const s of panel.series) {
    if (s.points.length === 0) continue;
    shapes.push({ kind: 'line', points: s.points.map((p) => [px(p.x), py(p.y)] as Pt), color: s.color, width: s.points.length === 1 ? 8 : 2.5, cls: 'line', series: s.name });
  }

  if (legendBelow) {
    let y = plot.y + plot.h + 96 + cap / 2;
    for (const row of legendBelow.rows) {
      const rowW = row.reduce((w, i) => w + entryW[i]!, 0) + 28 * (row.length - 1);
      let x = plot.x + (plot.w - rowW) / 2;
      for (const i of row) {
        const s = panel.series[i]!;
        legendSwatch(shapes, s, x, y);
        shapes.push({ kind: 'text', x: x + SWATCH + 10, y, text: s.name, scale: LEGEND_SCALE, color: TEXT, anchor: 'start', vAlign: 'middle' });
        x += entryW[i]! + 28;
      }
      y += LEGEND_ROW;
    }
    if (panel.note) shapes.push({ kind: 'text', x: plot.x + plot.w / 2, y, text: panel.note, scale: LEGEND_SCALE, color: MUTED, anchor: 'middle', vAlign: 'middle' });
    return shapes;
  }
  const best = corners[cost.indexOf(bestCost)]!;
  shapes.push({ kind: 'rect', x: best.x, y: best.y, w: best.w, h: best.h, fill: '#ffffff', opacity: 0.9 });
  const bx0 = crisp(best.x);
  const by0 = crisp(best.y);
  const bx1 = crisp(best.x + best.w);
  const by1 = crisp(best.y + best.h);
  shapes.push({ kind: 'line', points: [[bx0, by0], [bx1, by0], [bx1, by1], [bx0, by1], [bx0, by0]], color: '#bbbbbb', width: 1, cls: 'legend-frame' });
  panel.series.forEach((s, i) => {
    const y = best.y + LEGEND_PAD + i * LEGEND_ROW + cap / 2;
    legendSwatch(shapes, s, best.x + LEGEND_PAD, y);
    shapes.push({ kind: 'text', x: best.x + LEGEND_PAD + SWATCH + 10, y, text: s.name, scale: LEGEND_SCALE, color: TEXT, anchor: 'start', vAlign: 'middle' });
  });
  if (panel.note) {
    shapes.push({ kind: 'text', x: best.x + LEGEND_PAD, y: best.y + LEGEND_PAD + panel.series.length * LEGEND_ROW + cap / 2, text: panel.note, scale: LEGEND_SCALE, color: MUTED, anchor: 'start', vAlign: 'middle' });
  }
  return shapes;
}

function layoutFigure(panels: Panel[], opts: FigureOptions): { width: number; height: number; shapes: Shape[] } {
  if (panels.length === 0) throw new Error('plot: no panels');
  const pw = opts.panelWidth ?? 1200;
  const ph = opts.panelHeight ?? 700;
  const cols = Math.max(1, Math.min(panels.length, opts.columns ?? (panels.length === 1 ? 1 : 2)));
  const rows = Math.ceil(panels.length / cols);
  const shapes: Shape[] = [];
  panels.forEach((p, i) => shapes.push(...layoutPanel(p, { x: (i % cols) * pw, y: Math.floor(i / cols) * ph, w: pw, h: ph })));
  return { width: cols * pw, height: rows * ph, shapes };
}

// ---------------------------------------------------------------------------------------------------------
// SVG

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function n2(v: number): string {
  return String(Math.round(v * 100) / 100);
}

function pathData(points: Pt[], close: boolean): string {
  return points.map(([x, y], i) => `${i === 0 ? 'M' : 'L'}${n2(x)} ${n2(y)}`).join(' ') + (close ? ' Z' : '');
}

/** The figure as an SVG document. Each series is a `path.band` and a `path.line` with data-series="name". */
export function renderSvg(panels: Panel[], opts: FigureOptions = {}): string {
  const { width, height, shapes } = layoutFigure(panels, opts);
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">`,
    `<rect x="0" y="0" width="${width}" height="${height}" fill="#ffffff"/>`,
    `<g font-family="DejaVu Sans, Helvetica, Arial, sans-serif">`,
  ];
  for (const s of shapes) {
    const attrs = (cls?: string, series?: string) => `${cls ? ` class="${cls}"` : ''}${series !== undefined ? ` data-series="${esc(series)}"` : ''}`;
    if (s.kind === 'rect') {
      out.push(`<rect x="${n2(s.x)}" y="${n2(s.y)}" width="${n2(s.w)}" height="${n2(s.h)}" fill="${s.fill}" fill-opacity="${s.opacity}"/>`);
    } else if (s.kind === 'area') {
      out.push(`<path${attrs(s.cls, s.series)} d="${pathData(s.points, true)}" fill="${s.color}" fill-opacity="${s.opacity}" stroke="none"/>`);
    } else if (s.kind === 'line') {
      out.push(
        `<path${attrs(s.cls, s.series)} d="${pathData(s.points, false)}" fill="none" stroke="${s.color}" stroke-width="${s.width}" stroke-linejoin="round" stroke-linecap="round"/>`,
      );
    } else {
      const fontSize = 9.5 * s.scale;
      const cap = CAP_ROWS * s.scale;
      const dy = s.vAlign === 'top' ? cap : s.vAlign === 'middle' ? cap / 2 : 0;
      const anchor = s.anchor === 'start' ? '' : ` text-anchor="${s.anchor}"`;
      const rot = s.vertical ? ` transform="rotate(-90 ${n2(s.x)} ${n2(s.y)})"` : '';
      out.push(
        `<text x="${n2(s.x)}" y="${n2(s.y + dy)}" font-size="${fontSize}"${s.bold ? ' font-weight="bold"' : ''}${anchor} fill="${s.color}"${rot}>${esc(s.text)}</text>`,
      );
    }
  }
  out.push('</g>', '</svg>', '');
  return out.join('\n');
}

// ---------------------------------------------------------------------------------------------------------
// Raster

function parseColor(hex: string): [number, number, number] {
  const m = /^#([0-9a-f]{6})$/i.exec(hex);
  if (!m) throw new Error(`plot: colour must be #rrggbb, got '${hex}'`);
  const v = parseInt(m[1]!, 16);
  return [(v >> 16) & 255, (v >> 8) & 255, v & 255];
}

/** An RGBA image on a white background; drawing blends straight alpha over what is there. */
export class Raster {
  readonly data: Buffer;

  constructor(
    readonly width: number,
    readonly height: number,
  ) {
    this.data = Buffer.alloc(width * height * 4, 255);
  }

  /** Blends colour `rgb` with opacity a ∈ [0, 1] over pixel (x, y): dst ← dst + a·(src − dst). */
  blend(x: number, y: number, rgb: [number, number, number], a: number): void {
    if (a <= 0 || x < 0 || y < 0 || x >= this.width || y >= this.height) return;
    const i = (y * this.width + x) * 4;
    const d = this.data;
    if (a >= 1) {
      d[i] = rgb[0];
      d[i + 1] = rgb[1];
      d[i + 2] = rgb[2];
      return;
    }
    d[i] = Math.round(d[i]! + (rgb[0] - d[i]!) * a);
    d[i + 1] = Math.round(d[i + 1]! + (rgb[1] - d[i + 1]!) * a);
    d[i + 2] = Math.round(d[i + 2]! + (rgb[2] - d[i + 2]!) * a);
  }

  fillRect(x: number, y: number, w: number, h: number, color: string, opacity: number): void {
    const rgb = parseColor(color);
    for (let yy = Math.max(0, Math.round(y)); yy < Math.min(this.height, Math.round(y + h)); yy++) {
      for (let xx = Math.max(0, Math.round(x)); xx < Math.min(this.width, Math.round(x + w)); xx++) this.blend(xx, yy, rgb, opacity);
    }
  }

  /**
   * An anti-aliased stroke of width w through the points (round joins and caps): a pixel's coverage is
   * clamp(w/2 + 1/2 − d, 0, 1), d the distance from its centre to the nearest segment, so a pixel whose
   * centre lies within w/2 − 1/2 of the line gets the exact colour. Coverage is the maximum over segments,
   * so joints are not blended twice.
   */
  strokePolyline(points: Pt[], width: number, color: string, opacity = 1): void {
    if (points.length === 0) return;
    const rgb = parseColor(color);
    const r = width / 2 + 0.5;
    const xs = points.map((p) => p[0]);
    const ys = points.map((p) => p[1]);
    const x0 = Math.max(0, Math.floor(Math.min(...xs) - r));
    const y0 = Math.max(0, Math.floor(Math.min(...ys) - r));
    const x1 = Math.min(this.width - 1, Math.ceil(Math.max(...xs) + r));
    const y1 = Math.min(this.height - 1, Math.ceil(Math.max(...ys) + r));
    if (x1 < x0 || y1 < y0) return;
    const bw = x1 - x0 + 1;
    const cov = new Float32Array(bw * (y1 - y0 + 1));
    const segs: [Pt, Pt][] = points.length === 1 ? [[points[0]!, points[0]!]] : points.slice(1).map((p, i) => [points[i]!, p]);
    for (const [a, b] of segs) {
      const dx = b[0] - a[0];
      const dy = b[1] - a[1];
      const len2 = dx * dx + dy * dy;
      const sx0 = Math.max(x0, Math.floor(Math.min(a[0], b[0]) - r));
      const sx1 = Math.min(x1, Math.ceil(Math.max(a[0], b[0]) + r));
      const sy0 = Math.max(y0, Math.floor(Math.min(a[1], b[1]) - r));
      const sy1 = Math.min(y1, Math.ceil(Math.max(a[1], b[1]) + r));
      for (let y = sy0; y <= sy1; y++) {
        const cy = y + 0.5;
        for (let x = sx0; x <= sx1; x++) {
          const cx = x + 0.5;
          let t = len2 > 0 ? ((cx - a[0]) * dx + (cy - a[1]) * dy) / len2 : 0;
          t = t < 0 ? 0 : t > 1 ? 1 : t;
          const ex = cx - (a[0] + t * dx);
          const ey = cy - (a[1] + t * dy);
          const c = r - Math.sqrt(ex * ex + ey * ey);
          if (c <= 0) continue;
          const k = (y - y0) * bw + (x - x0);
          const v = c > 1 ? 1 : c;
          if (v > cov[k]!) cov[k] = v;
        }
      }
    }
    for (let y = y0; y <= y1; y++) for (let x = x0; x <= x1; x++) {
      const v = cov[(y - y0) * bw + (x - x0)]!;
      if (v > 0) this.blend(x, y, rgb, v * opacity);
    }
  }

  /**
   * Fills a polygon (even-odd rule) with anti-aliased edges: 5 scanlines per pixel row, and on each the
   * exact covered length of every pixel, so coverage = covered area fraction (to 1/5 vertically).
   */
  fillPolygon(points: Pt[], color: string, opacity: number): void {
    if (points.length < 3) return;
    const rgb = parseColor(color);
    const S = 5;
    const ys = points.map((p) => p[1]);
    const yStart = Math.max(0, Math.floor(Math.min(...ys)));
    const yEnd = Math.min(this.height - 1, Math.ceil(Math.max(...ys)));
    const acc = new Float32Array(this.width + 1);
    const crossings: number[] = [];
    for (let y = yStart; y <= yEnd; y++) {
      acc.fill(0);
      let minX = this.width;
      let maxX = -1;
      for (let s = 0; s < S; s++) {
        const sy = y + (s + 0.5) / S;
        crossings.length = 0;
        for (let i = 0; i < points.length; i++) {
          const [ax, ay] = points[i]!;
          const [bx, by] = points[(i + 1) % points.length]!;
          if ((ay <= sy && by > sy) || (by <= sy && ay > sy)) crossings.push(ax + ((sy - ay) / (by - ay)) * (bx - ax));
        }
        crossings.sort((a, b) => a - b);
        for (let k = 0; k + 1 < crossings.length; k += 2) {
          const xa = Math.max(0, crossings[k]!);
          const xb = Math.min(this.width, crossings[k + 1]!);
          if (xb <= xa) continue;
          const pa = Math.floor(xa);
          const pb = Math.min(this.width - 1, Math.floor(xb));
          for (let px = pa; px <= pb; px++) {
            const covered = Math.min(xb, px + 1) - Math.max(xa, px);
            if (covered > 0) acc[px] = acc[px]! + covered / S;
          }
          minX = Math.min(minX, pa);
          maxX = Math.max(maxX, pb);
        }
      }
      for (let x = minX; x <= maxX; x++) {
        const c = acc[x]!;
        if (c > 0) this.blend(x, y, rgb, Math.min(1, c) * opacity);
      }
    }
  }

  /** Bitmap text; see the Shape 'text' fields. */
  drawText(s: Extract<Shape, { kind: 'text' }>): void {
    const rgb = parseColor(s.color);
    const k = s.scale;
    const text = normaliseText(s.text);
    const w = textWidth(text, k) + (s.bold ? 1 : 0);
    const cap = CAP_ROWS * k;
    const u0 = Math.round(s.anchor === 'start' ? 0 : s.anchor === 'middle' ? -w / 2 : -w);
    const v0 = Math.round(s.vAlign === 'top' ? 0 : s.vAlign === 'middle' ? -cap / 2 : -cap);
    const ox = Math.round(s.x);
    const oy = Math.round(s.y);
    let u = u0;
    const put = (uu: number, vv: number) => {
      // (u, v): along the text, and down from the top of the capitals; vertical text turns it by −90°.
      const x = s.vertical ? ox + vv : ox + uu;
      const y = s.vertical ? oy - uu - 1 : oy + vv;
      this.blend(x, y, rgb, 1);
    };
    for (const ch of text) {
      if (ch === ' ') {
        u += SPACE_ADVANCE * k;
        continue;
      }
      const g = glyph(ch);
      for (const [c, r] of g.pixels) {
        for (let dy = 0; dy < k; dy++) for (let dx = 0; dx < k + (s.bold ? 1 : 0); dx++) put(u + c * k + dx, v0 + r * k + dy);
      }
      u += (g.width + 1) * k;
    }
  }
}

/** The figure rasterised into RGBA pixels. */
export function renderRaster(panels: Panel[], opts: FigureOptions = {}): Raster {
  const { width, height, shapes } = layoutFigure(panels, opts);
  const img = new Raster(width, height);
  for (const s of shapes) {
    if (s.kind === 'rect') img.fillRect(s.x, s.y, s.w, s.h, s.fill, s.opacity);
    else if (s.kind === 'area') img.fillPolygon(s.points, s.color, s.opacity);
    else if (s.kind === 'line') img.strokePolyline(s.points, s.width, s.color);
    else img.drawText(s);
  }
  return img;
}

/** The figure as PNG bytes. */
export function renderPng(panels: Panel[], opts: FigureOptions = {}): Buffer {
  const img = renderRaster(panels, opts);
  const png = new PNG({ width: img.width, height: img.height });
  img.data.copy(png.data);
  return PNG.sync.write(png, { colorType: 6 });
}

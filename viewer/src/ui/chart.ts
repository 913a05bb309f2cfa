/**
 * A small canvas-2D chart: points, lines and bands against a shared x axis (env steps), nice ticks,
 * crisp on high-DPI screens, redrawn at most once per animation frame, with a hover crosshair and readout.
 */
import { extent, linearScale, niceTicks, stepAxis, unionExtent, type LinearScale } from '../model/chart_math.js';
import { formatStepTick, formatValueTick } from '../model/format.js';
import { clearedContext, drawValueGrid, fitCanvases, FrameRedraw, PLOT_COLORS, plotFont, type PlotSize } from './canvas_plot.js';
import { h } from './dom.js';

export interface PointSeries {
  type: 'points';
  color: string;
  xs: readonly number[];
  ys: readonly number[];
  radius?: number;
  alpha?: number;
}
export interface LineSeries {
  type: 'line';
  color: string;
  xs: readonly number[];
  ys: readonly number[];
  width?: number;
  alpha?: number;
  /** Dots on the vertices too. */
  markers?: boolean;
}
export interface BandSeries {
  type: 'band';
  color: string;
  xs: readonly number[];
  lo: readonly number[];
  hi: readonly number[];
  /** Fill opacity (default 0.18). */
  alpha?: number;
  /** Also stroke the band's lower and upper edges with thin lines (a confidence band stays readable where bands overlap). */
  edges?: boolean;
}
export type Series = PointSeries | LineSeries | BandSeries;

export interface Readout {
  title: string;
  rows: { color: string; label: string; value: string }[];
  /** Points to ring, in data coordinates. */
  marks: { x: number; y: number; color: string }[];
}

export interface ChartOptions {
  /** Text shown while there is no data. */
  empty: string;
  formatX?: (v: number, step: number) => string;
  formatY?: (v: number, step: number) => string;
  /** The readout for the data x under the pointer (null: none). */
  readout?: (x: number) => Readout | null;
  /** Values the y axis always spans, with or without data (e.g. [0, 1] for accuracies). */
  yInclude?: readonly number[];
}

const MARGIN = { left: 48, right: 16, top: 10, bottom: 24 };
const FONT = plotFont(11);

export class Chart {
  readonly el: HTMLElement;
  private readonly base: HTMLCanvasElement;
  private readonly overlay: HTMLCanvasElement;
  private readonly tip: HTMLElement;
  private readonly emptyEl: HTMLElement;
  private series: Series[] = [];
  private x: LinearScale | null = null;
  private y: LinearScale | null = null;
  /** The canvases' size at the last draw (the overlay is redrawn between draws). */
  private size: PlotSize = { width: 0, height: 0, dpr: 1 };
  private hoverX: number | null = null;
  private readonly redraw: FrameRedraw;

  constructor(
    host: HTMLElement,
    private readonly opts: ChartOptions,
  ) {
    this.base = h('canvas', { class: 'chart-canvas' });
    this.overlay = h('canvas', { class: 'chart-canvas chart-overlay' });
    this.tip = h('div', { class: 'chart-tip', attrs: { role: 'status' } });
    this.emptyEl = h('div', { class: 'chart-empty', text: opts.empty });
    this.el = h('div', { class: 'chart-plot' }, this.base, this.overlay, this.emptyEl, this.tip);
    host.append(this.el);
    this.redraw = new FrameRedraw(this.el, () => this.draw());
    this.overlay.addEventListener('pointermove', (e) => {
      const r = this.overlay.getBoundingClientRect();
      this.hoverX = e.clientX - r.left;
      this.drawOverlay();
    });
    this.overlay.addEventListener('pointerleave', () => {
      this.hoverX = null;
      this.drawOverlay();
    });
  }

  setSeries(series: Series[]): void {
    this.series = series;
    this.redraw.request();
  }

  setEmptyText(text: string): void {
    this.emptyEl.textContent = text;
  }

  destroy(): void {
    this.redraw.stop();
    this.el.remove();
  }

  private draw(): void {
    const size = fitCanvases(this.el, [this.base, this.overlay]);
    this.size = size;
    const ctx = clearedContext(this.base, size);
    if (!ctx) return;
    const { width: W, height: H } = size;

    const xs = unionExtent(...this.series.map((s) => extent(s.xs)));
    const ys = unionExtent(
      ...this.series.map((s) => (s.type === 'band' ? unionExtent(extent(s.lo), extent(s.hi)) : extent(s.ys))),
    );
    const hasData = xs !== null && ys !== null;
    if (hasData && this.opts.yInclude) {
      const wanted = extent(this.opts.yInclude);
      if (wanted) [ys[0], ys[1]] = [Math.min(ys[0], wanted[0]), Math.max(ys[1], wanted[1])];
    }
    this.emptyEl.style.display = hasData ? 'none' : '';
    if (!hasData) {
      this.x = this.y = null;
      this.drawOverlay();
      return;
    }

    const plotL = MARGIN.left;
    const plotR = W - MARGIN.right;
    const plotT = MARGIN.top;
    const plotB = H - MARGIN.bottom;
    const xt = stepAxis(xs[1], xs[0], Math.max(2, Math.min(8, Math.floor((plotR - plotL) / 90))));
    const yt = niceTicks(ys[0], ys[1], Math.max(2, Math.min(6, Math.floor((plotB - plotT) / 36))));
    const x = linearScale([0, xt.end], [plotL, plotR]);
    const y = linearScale([yt.min, yt.max], [plotB, plotT]);
    this.x = x;
    this.y = y;
    const fx = this.opts.formatX ?? formatStepTick;
    const fy = this.opts.formatY ?? formatValueTick;

    // Grid and tick labels.
    ctx.font = FONT;
    ctx.lineWidth = 1;
    drawValueGrid(ctx, { ticks: yt.ticks, y, left: plotL, right: plotR, gap: 8, label: (t) => fy(t, yt.step), markZero: true });
    ctx.textBaseline = 'top';
    ctx.textAlign = 'center';
    xt.ticks.forEach((t, i) => {
      const px = Math.round(x(t)) + 0.5;
      ctx.strokeStyle = PLOT_COLORS.grid;
      ctx.beginPath();
      ctx.moveTo(px, plotB);
      ctx.lineTo(px, plotB + 4);
      ctx.stroke();
      ctx.fillStyle = PLOT_COLORS.axis;
      const text = fx(t, xt.step);
      // Keep the last label inside the canvas.
      const w = ctx.measureText(text).width;
      ctx.fillText(text, i === xt.ticks.length - 1 ? Math.min(px, W - w / 2 - 1) : px, plotB + 7);
    });

    // Series, clipped to the plot.
    ctx.save();
    ctx.beginPath();
    ctx.rect(plotL, plotT - 2, plotR - plotL, plotB - plotT + 4);
    ctx.clip();
    for (const s of this.series) if (s.type === 'band') this.drawBand(ctx, s, x, y);
    for (const s of this.series) if (s.type === 'points') this.drawPoints(ctx, s, x, y);
    for (const s of this.series) if (s.type === 'line') this.drawLine(ctx, s, x, y);
    ctx.restore();
    this.drawOverlay();
  }

  private drawBand(ctx: CanvasRenderingContext2D, s: BandSeries, x: LinearScale, y: LinearScale): void {
    const n = s.xs.length;
    if (n === 0) return;
    ctx.globalAlpha = s.alpha ?? 0.18;
    ctx.fillStyle = s.color;
    ctx.beginPath();
    if (n === 1) {
      const px = x(s.xs[0]!);
      ctx.rect(px - 3, y(s.hi[0]!), 6, y(s.lo[0]!) - y(s.hi[0]!));
    } else {
      ctx.moveTo(x(s.xs[0]!), y(s.hi[0]!));
      for (let i = 1; i < n; i++) ctx.lineTo(x(s.xs[i]!), y(s.hi[i]!));
      for (let i = n - 1; i >= 0; i--) ctx.lineTo(x(s.xs[i]!), y(s.lo[i]!));
      ctx.closePath();
    }
    ctx.fill();
    if (s.edges && n > 1) {
      ctx.globalAlpha = Math.min(1, (s.alpha ?? 0.18) * 2.5);
      ctx.strokeStyle = s.color;
      ctx.lineWidth = 1;
      ctx.lineJoin = 'round';
      for (const edge of [s.lo, s.hi]) {
        ctx.beginPath();
        ctx.moveTo(x(s.xs[0]!), y(edge[0]!));
        for (let i = 1; i < n; i++) ctx.lineTo(x(s.xs[i]!), y(edge[i]!));
        ctx.stroke();
      }
    }
    ctx.globalAlpha = 1;
  }

  private drawPoints(ctx: CanvasRenderingContext2D, s: PointSeries, x: LinearScale, y: LinearScale): void {
    const n = s.xs.length;
    const r = s.radius ?? (n > 2000 ? 1.4 : n > 300 ? 1.8 : 2.4);
    ctx.globalAlpha = s.alpha ?? (n > 2000 ? 0.35 : 0.55);
    ctx.fillStyle = s.color;
    ctx.beginPath();
    for (let i = 0; i < n; i++) {
      const px = x(s.xs[i]!);
      const py = y(s.ys[i]!);
      ctx.moveTo(px + r, py);
      ctx.arc(px, py, r, 0, Math.PI * 2);
    }
    ctx.fill();
    ctx.globalAlpha = 1;
  }

  private drawLine(ctx: CanvasRenderingContext2D, s: LineSeries, x: LinearScale, y: LinearScale): void {
    const n = s.xs.length;
    if (n === 0) return;
    ctx.globalAlpha = s.alpha ?? 1;
    ctx.strokeStyle = s.color;
    ctx.lineWidth = s.width ?? 2;
    ctx.lineJoin = 'round';
    ctx.lineCap = 'round';
    ctx.beginPath();
    ctx.moveTo(x(s.xs[0]!), y(s.ys[0]!));
    for (let i = 1; i < n; i++) ctx.lineTo(x(s.xs[i]!), y(s.ys[i]!));
    ctx.stroke();
    if (s.markers || n === 1) {
      ctx.fillStyle = s.color;
      ctx.beginPath();
      const r = (s.width ?? 2) + 1.2;
      for (let i = 0; i < n; i++) {
        const px = x(s.xs[i]!);
        const py = y(s.ys[i]!);
        ctx.moveTo(px + r, py);
        ctx.arc(px, py, r, 0, Math.PI * 2);
      }
      ctx.fill();
    }
    ctx.globalAlpha = 1;
  }

  private drawOverlay(): void {
    const { width: W, height: H } = this.size;
    const ctx = clearedContext(this.overlay, this.size);
    if (!ctx) return;
    const x = this.x;
    const y = this.y;
    const px = this.hoverX;
    if (!x || !y || px === null || !this.opts.readout || px < MARGIN.left - 4 || px > W - MARGIN.right + 4) {
      this.tip.style.display = 'none';
      return;
    }
    const readout = this.opts.readout(x.invert(px));
    if (!readout) {
      this.tip.style.display = 'none';
      return;
    }
    const anchor = readout.marks[0] ? x(readout.marks[0].x) : px;
    ctx.strokeStyle = 'rgba(139,152,168,0.45)';
    ctx.lineWidth = 1;
    ctx.setLineDash([3, 3]);
    ctx.beginPath();
    ctx.moveTo(Math.round(anchor) + 0.5, MARGIN.top);
    ctx.lineTo(Math.round(anchor) + 0.5, H - MARGIN.bottom);
    ctx.stroke();
    ctx.setLineDash([]);
    for (const m of readout.marks) {
      ctx.beginPath();
      ctx.arc(x(m.x), y(m.y), 4.5, 0, Math.PI * 2);
      ctx.fillStyle = '#0b0f14';
      ctx.fill();
      ctx.lineWidth = 2;
      ctx.strokeStyle = m.color;
      ctx.stroke();
    }
    this.tip.replaceChildren(
      h('div', { class: 'chart-tip-title', text: readout.title }),
      ...readout.rows.map((r) =>
        h('div', { class: 'chart-tip-row' }, h('span', { class: 'swatch', style: { background: r.color } }), h('span', { class: 'chart-tip-label', text: r.label }), h('span', { class: 'chart-tip-value', text: r.value })),
      ),
    );
    this.tip.style.display = 'block';
    const tw = this.tip.offsetWidth;
    const left = anchor + 14 + tw > W ? anchor - 14 - tw : anchor + 14;
    this.tip.style.left = `${Math.max(0, left)}px`;
    this.tip.style.top = `${MARGIN.top + 4}px`;
  }
}

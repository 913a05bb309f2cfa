/**
 * The small scatter of one hyperparameter against the objective on the Experiments page: a canvas-2D plot whose
 * x axis is the parameter's (linear, log or categories: model/experiments.ts paramAxis) and whose y axis is
 * the objective's (nice ticks). The learning-curve and objective-per-trial charts are the shared Chart (ui/chart.ts);
 * this one exists because that chart's x axis counts steps from 0.
 */
import type { ParamValue } from '../../../protocol/experiments.js';
import { extent, linearScale, niceTicks } from '../model/chart_math.js';
import type { ParamAxis } from '../model/experiments.js';
import { formatValueTick } from '../model/format.js';
import { clearedContext, drawValueGrid, fitCanvases, FrameRedraw, PLOT_COLORS, plotFont } from './canvas_plot.js';
import { h } from './dom.js';

export interface ScatterPoint {
  x: ParamValue;
  y: number;
  color: string;
  /** Drawn with a ring (the best trial). */
  ring?: boolean;
}

const MARGIN = { left: 44, right: 12, top: 8, bottom: 22 };
const FONT = plotFont(10.5);
/** The ring around the best trial's point. */
const RING_COLOR = '#e6edf3';

export class ParamScatter {
  readonly el: HTMLElement;
  private readonly canvas: HTMLCanvasElement;
  private readonly emptyEl: HTMLElement;
  private axis: ParamAxis;
  private points: ScatterPoint[] = [];
  private readonly redraw: FrameRedraw;

  constructor(host: HTMLElement, axis: ParamAxis) {
    this.axis = axis;
    this.canvas = h('canvas', { class: 'chart-canvas' });
    this.emptyEl = h('div', { class: 'chart-empty', text: 'No trial has an objective yet' });
    this.el = h('div', { class: 'chart-plot scatter-plot' }, this.canvas, this.emptyEl);
    host.append(this.el);
    this.redraw = new FrameRedraw(this.el, () => this.draw());
  }

  set(axis: ParamAxis, points: ScatterPoint[]): void {
    this.axis = axis;
    this.points = points;
    this.el.dataset.points = String(points.filter((p) => axis.position(p.x) !== null && Number.isFinite(p.y)).length);
    this.el.dataset.axis = axis.type;
    this.redraw.request();
  }

  destroy(): void {
    this.redraw.stop();
    this.el.remove();
  }

  private draw(): void {
    const size = fitCanvases(this.el, [this.canvas]);
    const ctx = clearedContext(this.canvas, size);
    if (!ctx) return;
    const { width: W, height: H } = size;
    const shown = this.points.filter((p) => this.axis.position(p.x) !== null && Number.isFinite(p.y));
    const ys = extent(shown.map((p) => p.y));
    this.emptyEl.style.display = ys ? 'none' : '';
    const plotL = MARGIN.left;
    const plotR = W - MARGIN.right;
    const plotT = MARGIN.top;
    const plotB = H - MARGIN.bottom;
    // Points sit inside the frame, not on its edges: 6 px of air at both ends of the x axis.
    const px = (v: ParamValue) => plotL + 6 + (this.axis.position(v) ?? 0) * (plotR - plotL - 12);
    ctx.font = FONT;
    ctx.lineWidth = 1;

    // x ticks (drawn even with no data: the searched range is worth seeing).
    ctx.textBaseline = 'top';
    ctx.textAlign = 'center';
    let lastRight = -Infinity;
    for (const t of this.axis.ticks) {
      const x = Math.round(px(t.value)) + 0.5;
      ctx.strokeStyle = PLOT_COLORS.grid;
      ctx.beginPath();
      ctx.moveTo(x, plotT);
      ctx.lineTo(x, plotB + 3);
      ctx.stroke();
      // Labels that would overlap the previous one are skipped (the grid line stays).
      const w = ctx.measureText(t.label).width;
      const cx = Math.max(w / 2, Math.min(W - w / 2 - 1, x));
      if (cx - w / 2 < lastRight + 6) continue;
      ctx.fillStyle = PLOT_COLORS.axis;
      ctx.fillText(t.label, cx, plotB + 6);
      lastRight = cx + w / 2;
    }
    if (!ys) return;
    const yt = niceTicks(ys[0], ys[1], Math.max(2, Math.min(5, Math.floor((plotB - plotT) / 30))));
    const y = linearScale([yt.min, yt.max], [plotB, plotT]);
    drawValueGrid(ctx, { ticks: yt.ticks, y, left: plotL, right: plotR, gap: 6, label: (t) => formatValueTick(t, yt.step), markZero: false });
    for (const p of shown) {
      const cx = px(p.x);
      const cy = y(p.y);
      ctx.fillStyle = p.color;
      ctx.beginPath();
      ctx.arc(cx, cy, 4, 0, Math.PI * 2);
      ctx.fill();
      if (p.ring) {
        ctx.strokeStyle = RING_COLOR;
        ctx.lineWidth = 1.5;
        ctx.beginPath();
        ctx.arc(cx, cy, 7, 0, Math.PI * 2);
        ctx.stroke();
        ctx.lineWidth = 1;
      }
    }
  }
}

/**
 * What the viewer's canvas-2D plots share (Chart in ui/chart.ts, ParamScatter in ui/experiments_charts.ts):
 * redrawing at most once per animation frame and on every resize, canvases sized to their box at the screen's
 * pixel ratio, the axis colours and font, and the horizontal grid with its value labels.
 */
import type { LinearScale } from '../model/chart_math.js';

export const PLOT_COLORS = { grid: '#1c2430', zero: '#2c3644', axis: '#8b98a8' };

/** The plots' label font at `px` pixels. */
export function plotFont(px: number): string {
  return `${px}px Inter, "SF Pro Text", "Segoe UI", system-ui, -apple-system, Roboto, Arial, sans-serif`;
}

/** Calls `draw` at most once per animation frame after `request()`, and after every change of `el`'s size. */
export class FrameRedraw {
  private pending = 0;
  private readonly observer: ResizeObserver;

  constructor(
    el: HTMLElement,
    private readonly draw: () => void,
  ) {
    this.observer = new ResizeObserver(() => this.request());
    this.observer.observe(el);
  }

  request(): void {
    if (this.pending) return;
    this.pending = requestAnimationFrame(() => {
      this.pending = 0;
      this.draw();
    });
  }

  stop(): void {
    this.observer.disconnect();
    if (this.pending) cancelAnimationFrame(this.pending);
    this.pending = 0;
  }
}

export interface PlotSize {
  /** CSS pixels (at least 1). */
  width: number;
  height: number;
  /** Device pixels per CSS pixel (at least 1). */
  dpr: number;
}

/** Sizes `canvases` to `el`'s box in device pixels (crisp on high-DPI screens); resizing only when it changed clears them. */
export function fitCanvases(el: HTMLElement, canvases: readonly HTMLCanvasElement[]): PlotSize {
  const width = Math.max(1, Math.floor(el.clientWidth));
  const height = Math.max(1, Math.floor(el.clientHeight));
  const dpr = Math.max(1, window.devicePixelRatio || 1);
  for (const c of canvases) {
    const cssW = `${width}px`;
    const cssH = `${height}px`;
    if (c.width === Math.round(width * dpr) && c.height === Math.round(height * dpr) && c.style.width === cssW && c.style.height === cssH) continue;
    c.width = Math.round(width * dpr);
    c.height = Math.round(height * dpr);
    c.style.width = cssW;
    c.style.height = cssH;
  }
  return { width, height, dpr };
}

/** A context for drawing `canvas` in CSS pixels, cleared (null where the browser gives no 2D context). */
export function clearedContext(canvas: HTMLCanvasElement, size: PlotSize): CanvasRenderingContext2D | null {
  const ctx = canvas.getContext('2d');
  if (!ctx) return null;
  ctx.setTransform(size.dpr, 0, 0, size.dpr, 0, 0);
  ctx.clearRect(0, 0, size.width, size.height);
  return ctx;
}

export interface ValueGrid {
  ticks: readonly number[];
  y: LinearScale;
  /** The plot's left and right edges; labels end `gap` pixels left of `left`. */
  left: number;
  right: number;
  gap: number;
  label: (tick: number) => string;
  /** Draw the line at 0 a little brighter (a reference on signed axes). */
  markZero: boolean;
}

/** Horizontal grid lines at the value ticks, each labelled at the left (ctx's font and line width as set). */
export function drawValueGrid(ctx: CanvasRenderingContext2D, grid: ValueGrid): void {
  ctx.textBaseline = 'middle';
  ctx.textAlign = 'right';
  for (const t of grid.ticks) {
    const py = Math.round(grid.y(t)) + 0.5;
    ctx.strokeStyle = grid.markZero && t === 0 ? PLOT_COLORS.zero : PLOT_COLORS.grid;
    ctx.beginPath();
    ctx.moveTo(grid.left, py);
    ctx.lineTo(grid.right, py);
    ctx.stroke();
    ctx.fillStyle = PLOT_COLORS.axis;
    ctx.fillText(grid.label(t), grid.left - grid.gap, py);
  }
}

/**
 * Learning curves of a GAN run against training iterations: the discriminator's and the generator's losses,
 * and the accuracies (D on real images, D on fakes, how often G fools D), from the run's update statistics.
 */
import type { UpdatePoint } from '../../../protocol/protocol.js';
import { movingAverage, nearestIndex } from '../model/chart_math.js';
import { formatCount, formatNumber } from '../model/format.js';
import { Chart, type Readout, type Series } from './chart.js';
import { h } from './dom.js';

interface Line {
  key: string;
  label: string;
  color: string;
}

export const LOSS_LINES: readonly Line[] = [
  { key: 'dLoss', label: 'D loss', color: '#58a6ff' },
  { key: 'gLoss', label: 'G loss', color: '#f85149' },
];

export const ACCURACY_LINES: readonly Line[] = [
  { key: 'dAccReal', label: 'D on real', color: '#3fb950' },
  { key: 'dAccFake', label: 'D on fake', color: '#f0a35e' },
  { key: 'gAcc', label: 'G fools D', color: '#a371f7' },
];

/** Keeps at most this many update points (every other old one dropped first). */
const MAX_POINTS = 20_000;

class StatChart {
  readonly box: HTMLElement;
  private readonly chart: Chart;
  /** Legend labels, with the newest value after each name. */
  private readonly legend: HTMLElement[];
  private xs: number[] = [];
  private ys: number[][] = [];

  constructor(
    title: string,
    testid: string,
    private readonly lines: readonly Line[],
    yInclude?: readonly number[],
  ) {
    this.legend = lines.map((l) => h('span', { text: l.label }));
    this.box = h(
      'div',
      { class: 'panel chart-card', testid },
      h(
        'div',
        { class: 'chart-head' },
        h('h3', { text: title }),
        h('span', { class: 'chart-axis', text: 'vs iterations' }),
        h('div', { class: 'legend' }, ...lines.map((l, i) => h('span', { class: 'legend-item' }, h('span', { class: 'legend-line', style: { background: l.color } }), this.legend[i]!))),
      ),
    );
    this.chart = new Chart(this.box, { empty: 'No updates yet', readout: (x) => this.readout(x), ...(yInclude ? { yInclude } : {}) });
  }

  set(updates: readonly UpdatePoint[]): void {
    this.xs = updates.map((u) => u.step);
    this.ys = this.lines.map((l) => updates.map((u) => u.stats[l.key] ?? NaN));
    const n = this.xs.length;
    // Many points: a faint raw line under a moving average; few: the raw line alone.
    const window = n > 120 ? Math.min(25, Math.round(n / 60)) : 1;
    const series: Series[] = [];
    this.lines.forEach((l, i) => {
      const ys = this.ys[i]!;
      if (window > 1) {
        series.push({ type: 'line', color: l.color, xs: this.xs, ys, width: 1, alpha: 0.3 });
        series.push({ type: 'line', color: l.color, xs: this.xs, ys: movingAverage(ys, window), width: 2 });
      } else series.push({ type: 'line', color: l.color, xs: this.xs, ys, width: 2 });
    });
    this.chart.setSeries(series);
    this.lines.forEach((l, i) => {
      const text = n > 0 ? `${l.label} ${formatNumber(this.ys[i]![n - 1], 3)}` : l.label;
      if (this.legend[i]!.textContent !== text) this.legend[i]!.textContent = text;
    });
  }

  destroy(): void {
    this.chart.destroy();
    this.box.remove();
  }

  private readout(x: number): Readout | null {
    const i = nearestIndex(this.xs, x);
    if (i < 0) return null;
    const at = this.xs[i]!;
    return {
      title: `iteration ${formatCount(at)}`,
      rows: this.lines.map((l, j) => ({ color: l.color, label: l.label, value: formatNumber(this.ys[j]![i], 4) })),
      marks: this.lines.map((l, j) => ({ x: at, y: this.ys[j]![i]!, color: l.color })).filter((m) => Number.isFinite(m.y)),
    };
  }
}

export class GanCurves {
  readonly el: HTMLElement;
  private updates: UpdatePoint[] = [];
  private readonly loss = new StatChart('Losses', 'chart-gan-loss', LOSS_LINES);
  private readonly accuracy = new StatChart('Accuracies', 'chart-gan-accuracy', ACCURACY_LINES, [0, 1]);

  constructor() {
    this.el = h('div', { class: 'gan-charts' }, this.loss.box, this.accuracy.box);
  }

  /** Update points so far. */
  get points(): number {
    return this.updates.length;
  }

  /** The newest statistics (null before the first update). */
  get last(): UpdatePoint | null {
    return this.updates[this.updates.length - 1] ?? null;
  }

  load(updates: readonly UpdatePoint[]): void {
    this.updates = updates.slice().sort((a, b) => a.step - b.step);
    this.refresh();
  }

  append(updates: readonly UpdatePoint[]): void {
    if (!updates.length) return;
    this.updates.push(...updates);
    if (this.updates.length > MAX_POINTS) this.updates = this.updates.filter((_, i) => i % 2 === 1 || i >= this.updates.length - MAX_POINTS / 2);
    this.refresh();
  }

  destroy(): void {
    this.loss.destroy();
    this.accuracy.destroy();
    this.el.remove();
  }

  private refresh(): void {
    this.loss.set(this.updates);
    this.accuracy.set(this.updates);
  }
}

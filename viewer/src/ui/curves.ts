/** Learning curves of an RL run: episode returns with a moving average and evaluations with a min–max band; update statistics. */
import type { EpisodePoint, EvalPoint, RunHistory, UpdatePoint } from '../../../protocol/protocol.js';
import { movingAverage, nearestIndex, smoothingWindow } from '../model/chart_math.js';
import { formatCount, formatNumber, formatReturn } from '../model/format.js';
import { Chart, type Readout, type Series } from './chart.js';
import { h } from './dom.js';

const C = { episode: '#58a6ff', average: '#79c0ff', eval: '#f0a35e', stat: '#a371f7' };

/** Keeps episode points at most this many (oldest halved away first): charts stay quick. */
const MAX_EPISODE_POINTS = 50_000;

const STAT_NAMES: Record<string, string> = {
  loss: 'loss',
  q: 'mean Q',
  epsilon: 'ε',
  entropy: 'entropy',
  gradNorm: 'gradient norm',
  policyLoss: 'policy loss',
  valueLoss: 'value loss',
  approxKl: 'approximate KL',
  clipFraction: 'clip fraction',
  explainedVariance: 'explained variance',
  learningRate: 'learning rate',
  clipRange: 'clip range',
  std: 'action σ',
  sps: 'steps / s',
};

/** The label of a stat (its own name when none is known; stat names come from the trainer). */
function statName(key: string): string {
  return Object.hasOwn(STAT_NAMES, key) ? STAT_NAMES[key]! : key;
}

export class Curves {
  readonly el: HTMLElement;
  private episodes: EpisodePoint[] = [];
  private evals: EvalPoint[] = [];
  private updates: UpdatePoint[] = [];
  private readonly returns: Chart;
  private readonly stats: Chart;
  private readonly legendWindow: HTMLElement;
  private readonly statSelect: HTMLSelectElement;
  private readonly statSummary: HTMLElement;
  private stat = '';
  /** The user picked a statistic: keep it; otherwise follow the preferred one (loss first) as stats appear. */
  private statChosen = false;
  private ma: number[] = [];
  private window = 5;

  constructor() {
    this.legendWindow = h('span', { text: 'moving average' });
    const returnsBox = h(
      'div',
      { class: 'panel chart-card', testid: 'chart-returns' },
      h(
        'div',
        { class: 'chart-head' },
        h('h3', { text: 'Episode return' }),
        h('span', { class: 'chart-axis', text: 'vs env steps' }),
        h(
          'div',
          { class: 'legend' },
          h('span', { class: 'legend-item' }, h('span', { class: 'legend-dot', style: { background: C.episode } }), 'episode'),
          h('span', { class: 'legend-item' }, h('span', { class: 'legend-line', style: { background: C.average } }), this.legendWindow),
          h('span', { class: 'legend-item' }, h('span', { class: 'legend-band', style: { background: C.eval } }), 'eval mean, min–max'),
        ),
      ),
    );
    this.returns = new Chart(returnsBox, {
      empty: 'No finished episodes yet',
      readout: (x) => this.returnsReadout(x),
    });

    this.statSelect = h('select', { class: 'select select-small', attrs: { 'aria-label': 'statistic' }, on: { change: () => this.selectStat(this.statSelect.value) } });
    this.statSummary = h('span', { class: 'chart-sub' });
    const statsBox = h('div', { class: 'panel chart-card chart-card-small', testid: 'chart-updates' }, h('div', { class: 'chart-head' }, h('h3', { text: 'Training' }), this.statSummary, this.statSelect));
    this.stats = new Chart(statsBox, {
      empty: 'No updates yet',
      readout: (x) => this.statReadout(x),
    });
    this.el = h('div', { class: 'charts' }, returnsBox, statsBox);
  }

  load(history: RunHistory): void {
    this.episodes = history.episodes.slice();
    this.evals = history.evals.slice();
    this.updates = history.updates.slice();
    this.refresh(true);
  }

  append(episodes: EpisodePoint[], evals: EvalPoint[], updates: UpdatePoint[]): void {
    if (episodes.length) this.episodes.push(...episodes);
    if (evals.length) this.evals.push(...evals);
    if (updates.length) this.updates.push(...updates);
    if (this.episodes.length > MAX_EPISODE_POINTS) this.episodes = this.episodes.filter((_, i) => i % 2 === 1 || i >= this.episodes.length - MAX_EPISODE_POINTS / 2);
    this.refresh(updates.length > 0);
  }

  destroy(): void {
    this.returns.destroy();
    this.stats.destroy();
    this.el.remove();
  }

  private refresh(statsChanged: boolean): void {
    const eps = this.episodes;
    const returns = eps.map((e) => e.return);
    this.window = smoothingWindow(eps.length);
    this.ma = movingAverage(returns, this.window);
    this.legendWindow.textContent = `mean of last ${this.window}`;
    const steps = eps.map((e) => e.step);
    const ev = this.evals;
    const series: Series[] = [
      { type: 'band', color: C.eval, xs: ev.map((e) => e.step), lo: ev.map((e) => e.minReturn), hi: ev.map((e) => e.maxReturn), alpha: 0.16 },
      { type: 'points', color: C.episode, xs: steps, ys: returns },
      { type: 'line', color: C.average, xs: steps, ys: this.ma, width: 2 },
      { type: 'line', color: C.eval, xs: ev.map((e) => e.step), ys: ev.map((e) => e.meanReturn), width: 2, markers: true },
    ];
    this.returns.setSeries(series);
    if (statsChanged) this.refreshStats();
  }

  private statKeys(): string[] {
    const keys = new Set<string>();
    for (const u of this.updates.slice(-50)) for (const k of Object.keys(u.stats)) if (Number.isFinite(u.stats[k])) keys.add(k);
    const order = ['loss', 'policyLoss', 'valueLoss', 'q', 'entropy', 'epsilon', 'gradNorm'];
    const sorted = [...keys].sort((a, b) => (order.indexOf(a) + 1 || 99) - (order.indexOf(b) + 1 || 99) || a.localeCompare(b));
    if (this.updates.length) sorted.push('sps');
    return sorted;
  }

  private refreshStats(): void {
    const keys = this.statKeys();
    const current = [...this.statSelect.options].map((o) => o.value);
    if (keys.join('\n') !== current.join('\n')) {
      this.statSelect.replaceChildren(...keys.map((k) => h('option', { text: statName(k), attrs: { value: k } })));
    }
    this.statSelect.style.display = keys.length ? '' : 'none';
    if (!this.statChosen || !keys.includes(this.stat)) this.stat = keys[0] ?? '';
    this.statSelect.value = this.stat;
    this.drawStat();
  }

  private selectStat(key: string): void {
    this.stat = key;
    this.statChosen = true;
    this.drawStat();
  }

  private statValues(): { xs: number[]; ys: number[] } {
    const xs: number[] = [];
    const ys: number[] = [];
    for (const u of this.updates) {
      const v = this.stat === 'sps' ? u.sps : u.stats[this.stat];
      if (v === undefined || !Number.isFinite(v)) continue;
      xs.push(u.step);
      ys.push(v);
    }
    return { xs, ys };
  }

  private drawStat(): void {
    const { xs, ys } = this.statValues();
    const last = ys[ys.length - 1];
    this.statSummary.textContent = last === undefined ? '' : formatNumber(last, 4);
    const smooth = movingAverage(ys, Math.max(1, Math.min(20, Math.round(ys.length / 30))));
    this.stats.setSeries([
      { type: 'line', color: C.stat, xs, ys, width: 1, alpha: 0.35 },
      { type: 'line', color: C.stat, xs, ys: smooth, width: 2 },
    ]);
  }

  private returnsReadout(x: number): Readout | null {
    const eps = this.episodes;
    const steps = eps.map((e) => e.step);
    const i = nearestIndex(steps, x);
    const rows: Readout['rows'] = [];
    const marks: Readout['marks'] = [];
    let title = '';
    let at = x;
    if (i >= 0) {
      const e = eps[i]!;
      at = e.step;
      title = `step ${formatCount(e.step)} · episode ${e.episode.toLocaleString('en-US')}`;
      rows.push({ color: C.episode, label: 'return', value: formatReturn(e.return) });
      rows.push({ color: C.average, label: `mean of last ${this.window}`, value: formatReturn(this.ma[i] ?? null) });
      rows.push({ color: 'transparent', label: 'length', value: e.length.toLocaleString('en-US') });
      marks.push({ x: e.step, y: e.return, color: C.episode });
    }
    const evSteps = this.evals.map((e) => e.step);
    const j = nearestIndex(evSteps, at);
    if (j >= 0) {
      const e = this.evals[j]!;
      // Only evaluations near the hovered episode (within 5% of the x range) join the readout.
      const range = Math.max(1, steps[steps.length - 1] ?? 0, evSteps[evSteps.length - 1] ?? 0);
      if (Math.abs(e.step - at) <= range * 0.05 || i < 0) {
        if (!title) title = `step ${formatCount(e.step)}`;
        rows.push({ color: C.eval, label: `eval @ ${formatCount(e.step)}`, value: `${formatReturn(e.meanReturn)} ± ${formatNumber(e.stdReturn, 2)}` });
        rows.push({ color: 'transparent', label: 'min – max', value: `${formatReturn(e.minReturn)} – ${formatReturn(e.maxReturn)}` });
        marks.push({ x: e.step, y: e.meanReturn, color: C.eval });
      }
    }
    return rows.length ? { title, rows, marks } : null;
  }

  private statReadout(x: number): Readout | null {
    const { xs, ys } = this.statValues();
    const i = nearestIndex(xs, x);
    if (i < 0) return null;
    return {
      title: `step ${formatCount(xs[i]!)}`,
      rows: [{ color: C.stat, label: statName(this.stat), value: formatNumber(ys[i]!, 4) }],
      marks: [{ x: xs[i]!, y: ys[i]!, color: C.stat }],
    };
  }
}

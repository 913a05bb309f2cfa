/**
 * The Experiments page (`#/experiments/<id>`): the experiments under the server's runs root (`lab sweep`
 * directories) and, for the chosen one, its settings, what each trial state means, the live progress of
 * unfinished trials, the objective per trial with the best so far, the learning curves of picked trials with
 * their 95% bands, the sortable trial table (its checkboxes pick the curves) and each hyperparameter against the
 * objective. While anything runs it polls the API every 2 s (else every 10 s), and it follows the hub's live runs of the
 * experiment (run ids `${id}-t<trial>-s<seed>`), whose seeds link to the Live page.
 *
 * Logic lives in model/experiments.ts; this file is the DOM. (Under views/ as the issue names it; it registers
 * no run view, so plugins.ts loading it changes nothing.)
 */
import './experiments.css';
import { EXPERIMENTS_API, type ExperimentDetail, type ExperimentListItem, type TrialRow } from '../../../protocol/experiments.js';
import type { RunSummary } from '../../../protocol/protocol.js';
import type { Page } from '../core/app.js';
import { replaceRoute } from '../core/nav.js';
import {
  bestSoFar,
  curveColor,
  defaultPicks,
  defaultSort,
  formatObjective,
  formatParam,
  isRunOf,
  nextSort,
  objectiveLine,
  objectivePoints,
  paramAxis,
  IDLE_POLL_MS,
  POLL_MS,
  progressFraction,
  sameKey,
  shouldPoll,
  sortTrials,
  STATE_ORDER,
  trialStateMeta,
  trialsLine,
  type ObjectiveX,
  type Sort,
  type SortKey,
} from '../model/experiments.js';
import { formatCount, formatNumber } from '../model/format.js';
import type { Route } from '../model/routes.js';
import type { LabConnection } from '../net/connection.js';
import { ApiError, fetchJson } from '../net/api.js';
import { Chart, type Series } from '../ui/chart.js';
import { h, setText } from '../ui/dom.js';
import { ParamScatter } from '../ui/experiments_charts.js';

const STATE_PILL: Record<ExperimentListItem['state'], { label: string; color: string; meaning: string }> = {
  running: { label: 'running', color: '#3fb950', meaning: 'trials are training now; this page updates every 2 s' },
  ended: { label: 'ended', color: '#8b98a8', meaning: 'nothing of it is running now' },
  damaged: { label: 'damaged', color: '#db6d28', meaning: 'its files cannot be read' },
};

function pill(state: ExperimentListItem['state']): HTMLElement {
  const m = STATE_PILL[state];
  return h('span', { class: `pill ${state === 'running' ? 'pulse' : ''}`, testid: 'experiment-state', text: m.label, title: m.meaning, style: { '--pill': m.color } });
}

export class ExperimentsPage implements Page {
  readonly el: HTMLElement;
  private id: string | null;
  private list: ExperimentListItem[] | null = null;
  private listError = '';
  private detail: ExperimentDetail | null = null;
  private detailFor: string | null = null;
  private detailError = '';
  /** Live runs of the hub that belong to the chosen experiment. */
  private live = new Set<string>();
  private picks: Set<number> | null = null;
  private sort: Sort | null = null;
  private xMode: ObjectiveX = 'trial';
  private timer = 0;
  private abort: AbortController | null = null;
  private destroyed = false;
  private readonly side: HTMLElement;
  private readonly sideCount: HTMLElement;
  private readonly status: HTMLElement;
  private readonly body: HTMLElement;
  private parts: DetailParts | null = null;
  private readonly onRuns = ({ runs }: { runs: RunSummary[] }) => this.liveRunsChanged(runs);

  constructor(
    route: Extract<Route, { page: 'experiments' }>,
    private readonly conn: LabConnection,
  ) {
    this.id = route.id;
    this.sideCount = h('span', { class: 'section-count' });
    this.side = h('div', { class: 'exp-list', testid: 'experiment-list' });
    this.status = h('div', { class: 'page-message', testid: 'experiments-status', attrs: { hidden: '' } });
    this.body = h('div', { class: 'exp-body' });
    this.el = h(
      'section',
      { class: 'page experiments-page', testid: 'page-experiments' },
      h(
        'header',
        { class: 'page-header' },
        h(
          'div',
          { class: 'page-heading' },
          h('h1', { class: 'page-title', text: 'Experiments' }),
          h('div', { class: 'page-subtitle', text: 'Hyperparameter searches and seed sweeps (lab sweep): each trial is one configuration over several seeds.' }),
        ),
      ),
      h(
        'div',
        { class: 'exp-layout' },
        h('aside', { class: 'panel exp-side' }, h('div', { class: 'section-head exp-side-head' }, h('h2', { text: 'Experiments' }), this.sideCount), this.side),
        h('div', { class: 'exp-main' }, this.status, this.body),
      ),
    );
    this.conn.socket.on('runs:changed', this.onRuns);
    if (this.conn.socket.connected) void this.conn.listRuns().then((runs) => this.liveRunsChanged(runs), () => undefined);
    this.renderList();
    void this.refresh();
  }

  update(route: Route): boolean {
    if (route.page !== 'experiments') return false;
    if (route.id !== this.id) {
      this.id = route.id;
      this.clearDetail();
      this.renderList();
      void this.refresh();
    }
    return true;
  }

  destroy(): void {
    this.destroyed = true;
    this.conn.socket.off('runs:changed', this.onRuns);
    this.abort?.abort();
    window.clearTimeout(this.timer);
    this.parts?.destroy();
    this.el.remove();
  }

  // -------------------------------------------------------------------------------------------------------------
  // Data

  /** Fetches the list and the chosen experiment, then polls again while something runs. */
  private async refresh(): Promise<void> {
    window.clearTimeout(this.timer);
    this.abort?.abort();
    const abort = new AbortController();
    this.abort = abort;
    try {
      this.list = await fetchJson<ExperimentListItem[]>(EXPERIMENTS_API.list, abort.signal);
      this.listError = '';
    } catch (err) {
      if (abort.signal.aborted) return;
      this.listError = (err as Error).message;
    }
    if (abort.signal.aborted || this.destroyed) return;
    if (this.id === null && this.list && this.list.length > 0) {
      // The list's first (running ones first, then the newest) is shown until another is chosen.
      replaceRoute({ page: 'experiments', id: this.list[0]!.id });
      return;
    }
    this.renderList();
    const id = this.id;
    if (id !== null) {
      try {
        const detail = await fetchJson<ExperimentDetail>(EXPERIMENTS_API.detail(id), abort.signal);
        if (abort.signal.aborted || this.destroyed || id !== this.id) return;
        this.detail = detail;
        this.detailFor = id;
        this.detailError = '';
      } catch (err) {
        if (abort.signal.aborted || this.destroyed || id !== this.id) return;
        this.detail = null;
        this.detailFor = null;
        this.detailError = err instanceof ApiError ? err.message : (err as Error).message;
      }
    }
    this.abort = null;
    this.renderStatus();
    this.renderDetail();
    this.timer = window.setTimeout(() => void this.refresh(), shouldPoll(this.list, this.detail) || this.live.size > 0 ? POLL_MS : IDLE_POLL_MS);
  }

  /** The hub's runs changed: a run of the chosen experiment started or ended → refresh now. */
  private liveRunsChanged(runs: RunSummary[]): void {
    const id = this.id;
    const live = new Set(id === null ? [] : runs.filter((r) => (r.status === 'running' || r.status === 'starting') && isRunOf(id, r.runId)).map((r) => r.runId));
    const changed = live.size !== this.live.size || [...live].some((r) => !this.live.has(r));
    this.live = live;
    // A run of an experiment not yet listed (a sweep just started) shows in the list too.
    const unknown = runs.some((r) => r.status === 'running' && /-t\d{4,}-s\d+$/.test(r.runId) && !(this.list ?? []).some((e) => isRunOf(e.id, r.runId)));
    if ((changed || unknown) && !this.abort) void this.refresh();
  }

  private clearDetail(): void {
    this.abort?.abort();
    this.abort = null;
    this.detail = null;
    this.detailFor = null;
    this.detailError = '';
    this.picks = null;
    this.sort = null;
    this.live = new Set();
    this.parts?.destroy();
    this.parts = null;
    this.body.replaceChildren();
  }

  // -------------------------------------------------------------------------------------------------------------
  // The list

  private renderList(): void {
    const list = this.list;
    setText(this.sideCount, list ? String(list.length) : '');
    if (!list) {
      this.side.replaceChildren(h('div', { class: 'picker-empty', text: this.listError ? `Could not list the experiments: ${this.listError}` : 'Loading experiments…' }));
      return;
    }
    if (list.length === 0) {
      this.side.replaceChildren(h('div', { class: 'picker-empty', text: 'No experiments under the runs directory yet.' }));
      return;
    }
    this.side.replaceChildren(
      ...list.map((e) => {
        const meta = e.state === 'damaged' ? (e.error ?? 'damaged') : `${e.task ?? ''}${e.agent ? ` · ${e.agent}` : ''} · ${e.sampler ?? ''}`;
        const best = e.best ? `best ${formatObjective({ objective: e.best.objective, interval: null })} (trial ${e.best.trial})` : e.state === 'damaged' ? '' : 'no finished trial yet';
        return h(
          'a',
          { class: `exp-item ${e.id === this.id ? 'active' : ''} ${e.state}`, testid: 'experiment-item', dataset: { id: e.id, state: e.state }, attrs: { href: `#/experiments/${encodeURIComponent(e.id)}` } },
          h('span', { class: 'exp-item-line' }, h('span', { class: 'exp-item-name', text: e.name }), pill(e.state)),
          h('span', { class: `exp-item-meta ${e.state === 'damaged' ? 'pick-damage' : ''}`, text: meta }),
          e.state === 'damaged' ? null : h('span', { class: 'exp-item-meta', text: `${trialsLine(e)}${best ? ` · ${best}` : ''}` }),
        );
      }),
    );
  }

  private renderStatus(): void {
    let title = '';
    let text = '';
    let error = false;
    if (this.list && this.list.length === 0) {
      title = 'No experiments yet';
      text = 'Experiments are lab sweep directories under this server\'s runs directory. Start one with: lab sweep experiments/a2c-cartpole.yml';
    } else if (this.listError && !this.list) {
      title = 'The lab server cannot list experiments';
      text = this.listError;
      error = true;
    } else if (this.detailError) {
      title = this.id ? `Experiment ${this.id} cannot be shown` : 'Cannot show the experiment';
      text = this.detailError;
      error = true;
    } else if (this.id !== null && !this.detail) {
      title = 'Loading…';
    }
    this.status.className = `page-message ${error ? 'error' : ''}`;
    const parts: HTMLElement[] = [];
    if (title) parts.push(h('div', { class: 'page-message-title', text: title }));
    if (text) parts.push(h('div', { class: 'page-message-text', ...(error ? { testid: 'experiments-error' } : {}), text }));
    this.status.replaceChildren(...parts);
    if (title) this.status.removeAttribute('hidden');
    else this.status.setAttribute('hidden', '');
  }

  // -------------------------------------------------------------------------------------------------------------
  // One experiment

  private renderDetail(): void {
    const d = this.detail;
    if (!d || this.detailFor !== this.id) {
      this.parts?.destroy();
      this.parts = null;
      this.body.replaceChildren();
      return;
    }
    if (!this.parts || this.parts.id !== d.summary.id) {
      this.parts?.destroy();
      this.parts = new DetailParts(d.summary.id, {
        sort: (key) => {
          this.sort = nextSort(this.sort ?? defaultSort(this.detail!.spec.objective.direction), key, this.detail!.spec.objective.direction);
          this.renderDetail();
        },
        pick: (trial, on) => {
          const picks = new Set(this.picks ?? []);
          if (on) picks.add(trial);
          else picks.delete(trial);
          this.picks = picks;
          this.renderDetail();
        },
        xMode: (mode) => {
          this.xMode = mode;
          this.renderDetail();
        },
      });
      this.body.replaceChildren(this.parts.el);
    }
    this.picks ??= new Set(defaultPicks(d));
    this.sort ??= defaultSort(d.spec.objective.direction);
    this.parts.render(d, { picks: this.picks, sort: this.sort, xMode: this.xMode, live: this.live });
  }
}

interface DetailHandlers {
  sort(key: SortKey): void;
  pick(trial: number, on: boolean): void;
  xMode(mode: ObjectiveX): void;
}

interface DetailState {
  picks: ReadonlySet<number>;
  sort: Sort;
  xMode: ObjectiveX;
  live: ReadonlySet<string>;
}

/** The cards of one experiment, built once and refreshed in place on every poll (charts keep their canvases). */
class DetailParts {
  readonly el: HTMLElement;
  private readonly summary: HTMLElement;
  private readonly progress: HTMLElement;
  private readonly objectiveChart: Chart;
  private readonly objectiveLegend: HTMLElement;
  private readonly objectiveCard: HTMLElement;
  private readonly xSelect: HTMLSelectElement;
  private readonly curvesChart: Chart;
  private readonly curvesLegend: HTMLElement;
  private readonly curvesCard: HTMLElement;
  private readonly table: HTMLElement;
  private readonly tableWrap: HTMLElement;
  private readonly notes: HTMLElement;
  private readonly scatterGrid: HTMLElement;
  private scatters = new Map<string, { card: HTMLElement; chart: ParamScatter }>();
  private points: ReturnType<typeof objectivePoints> = [];
  private curveRows: TrialRow[] = [];

  constructor(
    readonly id: string,
    private readonly on: DetailHandlers,
  ) {
    this.summary = h('div', { class: 'panel exp-summary', testid: 'experiment-summary' });
    this.progress = h('div', { class: 'panel exp-progress', testid: 'experiment-progress' });
    this.xSelect = h(
      'select',
      { class: 'select select-small', testid: 'objective-x', attrs: { 'aria-label': 'x axis of the objective chart' }, on: { change: () => this.on.xMode(this.xSelect.value as ObjectiveX) } },
      h('option', { text: 'by trial number', attrs: { value: 'trial' } }),
      h('option', { text: 'by end time', attrs: { value: 'time' } }),
    );
    this.objectiveLegend = h('div', { class: 'legend' });
    this.objectiveCard = h('div', { class: 'panel chart-card exp-chart', testid: 'objective-chart' }, h('div', { class: 'chart-head exp-chart-head' }, h('h3', { text: 'Objective per trial' }), this.xSelect, this.objectiveLegend));
    this.objectiveChart = new Chart(this.objectiveCard, {
      empty: 'No trial has an objective yet',
      formatX: (v, step) => (this.xSelectValue() === 'trial' ? String(Math.round(v)) : `${formatNumber(v, 3)}${step >= 1 ? ' min' : ''}`),
      readout: (x) => this.objectiveReadout(x),
    });
    this.curvesLegend = h('div', { class: 'legend' });
    this.curvesCard = h('div', { class: 'panel chart-card exp-chart', testid: 'curves-chart' }, h('div', { class: 'chart-head exp-chart-head' }, h('h3', { text: 'Learning curves' }), this.curvesLegend));
    this.curvesChart = new Chart(this.curvesCard, { empty: 'Pick trials in the table (the checkboxes) to draw their curves', readout: (x) => this.curvesReadout(x) });
    this.tableWrap = h('div', { class: 'exp-table-wrap' });
    this.notes = h('div', { class: 'exp-notes', testid: 'trial-notes' });
    this.table = h(
      'div',
      { class: 'panel table-card exp-table-card', testid: 'trial-table' },
      h('div', { class: 'card-head' }, h('h3', { text: 'Trials' }), h('span', { class: 'chart-axis', text: 'click a column to sort · tick a trial to draw its curve' })),
      this.tableWrap,
      this.notes,
      h(
        'div',
        { class: 'exp-states', testid: 'experiment-states' },
        h('div', { class: 'exp-states-title', text: 'Trial states' }),
        ...STATE_ORDER.map((st) => {
          const m = trialStateMeta(st);
          return h('div', { class: 'exp-state-row', dataset: { state: st } }, h('span', { class: 'state-chip', text: m.label, style: { '--pill': m.color } }), h('span', { class: 'exp-state-text', text: m.meaning }));
        }),
      ),
    );
    this.scatterGrid = h('div', { class: 'exp-scatters' });
    this.el = h(
      'div',
      { class: 'exp-detail', dataset: { id } },
      this.summary,
      this.progress,
      h('div', { class: 'exp-charts' }, this.objectiveCard, this.curvesCard),
      this.table,
      h(
        'div',
        { class: 'panel exp-scatter-card', testid: 'param-scatters' },
        h('div', { class: 'card-head' }, h('h3', { text: 'Hyperparameters against the objective' }), h('span', { class: 'chart-axis', text: 'one dot per trial with an objective · ring: the best trial' })),
        this.scatterGrid,
      ),
    );
  }

  private xSelectValue(): ObjectiveX {
    return this.xSelect.value === 'time' ? 'time' : 'trial';
  }

  destroy(): void {
    this.objectiveChart.destroy();
    this.curvesChart.destroy();
    for (const s of this.scatters.values()) s.chart.destroy();
    this.el.remove();
  }

  render(d: ExperimentDetail, state: DetailState): void {
    this.renderSummary(d);
    this.renderProgress(d, state.live);
    this.renderObjective(d, state.xMode);
    this.renderCurves(d, state.picks);
    this.renderTable(d, state);
    this.renderScatters(d);
  }

  private renderSummary(d: ExperimentDetail): void {
    const s = d.summary;
    const spec = d.spec;
    const run = spec.run;
    const runText = run.kind === 'rl' ? `${run.agent} on ${run.env}${run.preset ? ` (preset ${run.preset})` : ''}, ${formatCount(run.steps)} steps per run` : run.kind === 'gan' ? `GAN on ${run.category}, ${formatCount(run.iterations)} iterations per run` : `AlphaZero-lite, ${formatCount(run.iterations)} iterations per run`;
    const pruner = spec.pruner.type === 'median' ? `median (after ${formatCount(spec.pruner.warmupSteps)} ${d.unit}, from ${spec.pruner.startupTrials} finished trials)` : 'none';
    const fact = (label: string, value: string | Node, testid?: string) => h('div', { class: 'exp-fact' }, h('span', { class: 'exp-fact-label', text: label }), typeof value === 'string' ? h('span', { class: 'exp-fact-value', text: value, ...(testid ? { testid } : {}) }) : value);
    const best = s.best
      ? h(
          'span',
          { class: 'exp-fact-value', testid: 'experiment-best' },
          h('strong', { text: formatObjective({ objective: s.best.objective, interval: null }) }),
          ` · trial ${s.best.trial} · `,
          h('span', { class: 'mono', text: Object.entries(s.best.params).map(([k, v]) => `${k}=${formatParam(v)}`).join(', ') }),
        )
      : 'no done trial yet';
    const counts = STATE_ORDER.filter((st) => st !== 'running' && st !== 'interrupted')
      .map((st) => `${s.trials[st as 'done' | 'pruned' | 'failed']} ${st}`)
      .join(' · ');
    this.summary.replaceChildren(
      h('div', { class: 'exp-summary-head' }, h('h2', { class: 'exp-title', text: s.name }), pill(s.state), h('span', { class: 'exp-id mono', text: s.id })),
      h(
        'div',
        { class: 'exp-facts' },
        fact('Run', runText),
        fact('Seeds', spec.seeds.join(', ')),
        fact('Search', `${spec.sampler} (sampler seed ${spec.samplerSeed}) over ${Object.keys(spec.search).join(', ') || 'nothing'}`),
        fact('Objective', objectiveLine(s.objective)),
        fact('Pruner', pruner),
        fact('Trials', `${trialsLine(s)} · ${counts}`, 'experiment-trials'),
        fact('Best', best),
        fact('Where', `${d.queue ? `queue ${d.queue.url} (${d.queue.name})` : 'local workers'} · lab ${d.labVersion}`),
      ),
    );
  }

  private renderProgress(d: ExperimentDetail, live: ReadonlySet<string>): void {
    const open = d.trials.filter((t) => t.state === 'running' || t.state === 'interrupted');
    if (open.length === 0) {
      this.progress.setAttribute('hidden', '');
      this.progress.replaceChildren();
      return;
    }
    this.progress.removeAttribute('hidden');
    const rows = open.map((t) => {
      const m = trialStateMeta(t.state);
      const seeds = t.seeds.map((s) => {
        const isLive = s.live || live.has(s.runId);
        const text = `seed ${s.seed}: ${s.step === null ? 'not started' : `${formatCount(Math.min(s.step, d.runBudget))} / ${formatCount(d.runBudget)}`}`;
        return isLive
          ? h('a', { class: 'exp-seed live', testid: 'live-seed', attrs: { href: `#run=${encodeURIComponent(s.runId)}` }, title: `Watch ${s.runId} live`, text: `${text} · watch live` })
          : h('span', { class: 'exp-seed', text });
      });
      return h(
        'div',
        { class: 'exp-progress-row', testid: 'progress-row', dataset: { trial: String(t.trial), state: t.state } },
        h('div', { class: 'exp-progress-line' }, h('strong', { text: `Trial ${t.trial}` }), h('span', { class: 'state-chip', text: m.label, style: { '--pill': m.color } }), h('span', { class: 'mono exp-progress-params', text: Object.entries(t.params).map(([k, v]) => `${k}=${formatParam(v)}`).join(', ') })),
        h('div', { class: 'exp-bar', attrs: { role: 'progressbar', 'aria-valuemin': '0', 'aria-valuemax': '100', 'aria-valuenow': String(Math.round(progressFraction(t) * 100)) } }, h('span', { style: { width: `${(progressFraction(t) * 100).toFixed(1)}%`, background: m.color } })),
        h('div', { class: 'exp-seeds' }, ...seeds, h('span', { class: 'exp-seed faint', text: `${Math.round(progressFraction(t) * 100)}% of ${formatCount(t.progress?.budget ?? 0)} ${d.unit}` })),
      );
    });
    this.progress.replaceChildren(h('div', { class: 'card-head' }, h('h3', { text: 'Unfinished trials' }), h('span', { class: 'chart-axis', text: d.summary.state === 'running' ? 'updates every 2 s' : 'not written to for a minute' })), ...rows);
  }

  private renderObjective(d: ExperimentDetail, xMode: ObjectiveX): void {
    this.xSelect.value = xMode;
    const points = objectivePoints(d, xMode);
    this.points = points;
    const direction = d.spec.objective.direction;
    const series: Series[] = [];
    const best = bestSoFar(points, direction);
    if (best.xs.length) series.push({ type: 'line', color: '#e6edf3', xs: best.xs, ys: best.ys, width: 1.5, alpha: 0.7 });
    const states = STATE_ORDER.filter((st) => points.some((p) => p.state === st));
    for (const st of states) {
      const ps = points.filter((p) => p.state === st);
      series.push({ type: 'points', color: trialStateMeta(st).color, xs: ps.map((p) => p.x), ys: ps.map((p) => p.y), radius: 4.5, alpha: 0.95 });
    }
    // Half a trial (or 4% of the time axis) of air after the last point: the chart's x axis ends at the data.
    const lastX = points.at(-1)?.x;
    if (lastX !== undefined) series.push({ type: 'points', color: 'transparent', xs: [lastX + (xMode === 'trial' ? 0.5 : Math.max(0.05, lastX * 0.04))], ys: [points.at(-1)!.y], alpha: 0 });
    this.objectiveChart.setSeries(series);
    this.objectiveCard.dataset.points = String(points.length);
    this.objectiveCard.dataset.best = best.ys.length ? String(best.ys.at(-1)) : '';
    this.objectiveLegend.replaceChildren(
      ...states.map((st) => h('span', { class: 'legend-item' }, h('span', { class: 'legend-dot', style: { background: trialStateMeta(st).color } }), trialStateMeta(st).label)),
      h('span', { class: 'legend-item' }, h('span', { class: 'legend-line', style: { background: '#e6edf3' } }), 'best so far'),
    );
  }

  private objectiveReadout(x: number) {
    if (!this.points.length) return null;
    let near = this.points[0]!;
    for (const p of this.points) if (Math.abs(p.x - x) < Math.abs(near.x - x)) near = p;
    const m = trialStateMeta(near.state);
    return { title: `trial ${near.trial}`, rows: [{ color: m.color, label: m.label, value: formatNumber(near.y, 4) }], marks: [{ x: near.x, y: near.y, color: m.color }] };
  }

  private renderCurves(d: ExperimentDetail, picks: ReadonlySet<number>): void {
    const rows = d.trials.filter((t) => picks.has(t.trial) && t.curve && t.curve.points.length > 0);
    this.curveRows = rows;
    const series: Series[] = [];
    rows.forEach((t) => {
      const pts = t.curve!.points;
      series.push({ type: 'band', color: this.colorOf(d, t.trial), xs: pts.map((p) => p.step), lo: pts.map((p) => p.lo), hi: pts.map((p) => p.hi), alpha: 0.16, edges: true });
    });
    rows.forEach((t) => {
      const pts = t.curve!.points;
      series.push({ type: 'line', color: this.colorOf(d, t.trial), xs: pts.map((p) => p.step), ys: pts.map((p) => p.mean), width: 2.25, markers: pts.length <= 40 });
    });
    this.curvesChart.setSeries(series);
    this.curvesCard.dataset.curves = rows.map((t) => t.trial).join(',');
    const label = rows[0]?.curve?.label ?? (d.spec.run.kind === 'rl' ? 'evaluation mean return' : d.spec.objective.metric);
    this.curvesLegend.replaceChildren(
      ...rows.map((t) => h('span', { class: 'legend-item', dataset: { trial: String(t.trial) } }, h('span', { class: 'legend-line', style: { background: this.colorOf(d, t.trial) } }), `trial ${t.trial} (${t.curve!.runs} seed${t.curve!.runs === 1 ? '' : 's'})`)),
      h('span', { class: 'legend-item legend-muted' }, h('span', { class: 'legend-band legend-band-plain' }), `95% CI · ${label} vs ${d.unit}`),
    );
  }

  /** A trial's curve colour: fixed by its trial number, so a curve keeps its colour when others are picked. */
  private colorOf(_d: ExperimentDetail, trial: number): string {
    return curveColor(trial);
  }

  private curvesReadout(x: number) {
    const rows = this.curveRows
      .map((t) => {
        const pts = t.curve!.points;
        let best = pts[0]!;
        for (const p of pts) if (Math.abs(p.step - x) < Math.abs(best.step - x)) best = p;
        return { t, p: best };
      })
      .filter((r) => r.p);
    if (!rows.length) return null;
    return {
      title: `step ${formatCount(rows[0]!.p.step)}`,
      rows: rows.map(({ t, p }) => ({ color: curveColor(t.trial), label: `trial ${t.trial} (n=${p.n})`, value: `${formatNumber(p.mean, 4)} [${formatNumber(p.lo, 4)}, ${formatNumber(p.hi, 4)}]` })),
      marks: rows.map(({ t, p }) => ({ x: p.step, y: p.mean, color: curveColor(t.trial) })),
    };
  }

  private renderTable(d: ExperimentDetail, state: DetailState): void {
    const names = Object.keys(d.spec.search);
    const rows = sortTrials(d.trials, state.sort);
    const header = (label: string, key: SortKey, cls = '') => {
      const active = sameKey(state.sort.key, key);
      const arrow = active ? (state.sort.descending ? ' ▼' : ' ▲') : '';
      return h(
        'th',
        { class: `${cls} sortable ${active ? 'sorted' : ''}`, attrs: { 'aria-sort': active ? (state.sort.descending ? 'descending' : 'ascending') : 'none' } },
        h('button', { class: 'th-btn', testid: 'sort-header', dataset: { sort: key.by === 'param' ? `param:${key.name}` : key.by }, attrs: { type: 'button' }, on: { click: () => this.on.sort(key) } }, label + arrow),
      );
    };
    const bestTrial = d.summary.best?.trial;
    const body = rows.map((t) => {
      const m = trialStateMeta(t.state);
      const box = h('input', { class: 'checkbox', testid: 'trial-pick', attrs: { type: 'checkbox', 'aria-label': `Draw trial ${t.trial}'s learning curve` }, on: { change: () => this.on.pick(t.trial, box.checked) } });
      box.checked = state.picks.has(t.trial);
      box.disabled = !t.curve;
      const seeds = t.seeds.map((s) => (s.value !== null ? formatObjective({ objective: s.value, interval: null }) : s.state === 'failed' ? 'failed' : s.step !== null ? `${formatCount(s.step)} ${d.unit}` : '—')).join(' · ');
      const when = t.progress ? `${Math.round(progressFraction(t) * 100)}%` : t.endedAt ? new Date(t.endedAt).toLocaleTimeString() : '—';
      return h(
        'tr',
        { class: `trial-row ${t.trial === bestTrial ? 'best' : ''}`, testid: 'trial-row', dataset: { trial: String(t.trial), state: t.state } },
        h('td', { class: 'pick-cell' }, box),
        h('td', { class: 'num', text: String(t.trial) }),
        ...names.map((n) => h('td', { class: 'num mono', dataset: { param: n }, text: formatParam(t.params[n]) })),
        h('td', { class: 'num strong estimate', dataset: { objective: t.objective === null ? '' : String(t.objective) }, text: formatObjective(t) }),
        h('td', {}, h('span', { class: 'state-chip', text: m.label, style: { '--pill': m.color } })),
        h('td', { class: 'exp-seed-values', text: seeds }),
        h('td', { class: 'num faint', text: when }),
      );
    });
    // Only the table itself is replaced: its wrapper keeps where a phone user scrolled it sideways.
    this.tableWrap.replaceChildren(
      h(
        'table',
        { class: 'data-table exp-table' },
        h(
          'thead',
          {},
          h('tr', {}, h('th', { class: 'pick-cell', attrs: { 'aria-label': 'Curve' } }), header('Trial', { by: 'trial' }, 'num'), ...names.map((n) => header(n, { by: 'param', name: n }, 'num')), header('Objective [95% CI]', { by: 'objective' }, 'num'), header('State', { by: 'state' }), h('th', { text: 'Per seed' }), h('th', { class: 'num', text: 'Ended' })),
        ),
        h('tbody', {}, ...body),
      ),
    );
    const notes: string[] = [];
    for (const t of [...d.trials].sort((a, b) => a.trial - b.trial)) {
      for (const s of t.seeds) if (s.error) notes.push(`Trial ${t.trial}, seed ${s.seed} (${s.runId}) failed: ${s.error}`);
      for (const s of t.seeds) if (s.prunedAt !== undefined && s.state === 'pruned' && s === t.seeds[0]) notes.push(`Trial ${t.trial} was pruned at ${formatCount(s.prunedAt)} ${d.unit}.`);
      for (const x of t.damaged) notes.push(`Trial ${t.trial}: run ${x.runId} cannot be read (${x.error}); its curve is left out.`);
    }
    this.notes.replaceChildren(...notes.map((n) => h('div', { class: 'exp-note', text: n })));
  }

  private renderScatters(d: ExperimentDetail): void {
    const names = Object.keys(d.spec.search);
    for (const [name, s] of this.scatters) {
      if (!names.includes(name)) {
        s.chart.destroy();
        s.card.remove();
        this.scatters.delete(name);
      }
    }
    const scored = d.trials.filter((t) => t.objective !== null && Number.isFinite(t.objective));
    const bestTrial = d.summary.best?.trial;
    for (const name of names) {
      const values = d.trials.map((t) => t.params[name]).filter((v) => v !== undefined);
      const axis = paramAxis(d.spec.search[name], values);
      let s = this.scatters.get(name);
      if (!s) {
        const card = h('div', { class: 'exp-scatter', testid: 'param-scatter', dataset: { param: name } }, h('div', { class: 'exp-scatter-head' }, h('span', { class: 'mono', text: name }), h('span', { class: 'chart-axis', text: axis.type === 'log' ? 'log scale' : axis.type === 'category' ? 'choices' : '' })));
        this.scatterGrid.append(card);
        s = { card, chart: new ParamScatter(card, axis) };
        this.scatters.set(name, s);
      }
      s.chart.set(
        axis,
        scored.filter((t) => t.params[name] !== undefined).map((t) => ({ x: t.params[name]!, y: t.objective!, color: trialStateMeta(t.state).color, ring: t.trial === bestTrial })),
      );
    }
  }
}


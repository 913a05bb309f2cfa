/**
 * The Experiments page's logic (pure, no DOM): trial states in words, the sortable trial table, the objective
 * per trial with its best-so-far line, the axes of the hyperparameter scatters (log for log-uniform dimensions,
 * categories for choices), the default learning curves, and when to poll the server.
 */
import type { ExperimentDetail, ExperimentListItem, ParamValue, SearchDimension, TrialRow, TrialRowState } from '../../../protocol/experiments.js';
import { niceTicks } from './chart_math.js';
import { formatNumber } from './format.js';

export type { ExperimentDetail, ExperimentListItem, TrialRow, TrialRowState };

/** The page asks the server again every 2 s while something of an experiment runs… */
export const POLL_MS = 2000;
/** …and every 10 s otherwise (a sweep started or resumed elsewhere, without live publishing, shows up). */
export const IDLE_POLL_MS = 10_000;

export interface TrialStateMeta {
  label: string;
  color: string;
  /** What the state means, in a sentence (shown on the page, not only as a tooltip). */
  meaning: string;
}

export const TRIAL_STATES: Record<TrialRowState, TrialStateMeta> = {
  done: { label: 'done', color: '#58a6ff', meaning: 'every seed ran its whole budget; the objective is over all seeds' },
  pruned: { label: 'pruned', color: '#e3b341', meaning: 'stopped early by the median pruner: its evaluations fell behind the median of earlier trials (objective from where it stopped, not ranked)' },
  failed: { label: 'failed', color: '#f85149', meaning: 'a run of it exited with an error (shown under the trial); no objective' },
  running: { label: 'running', color: '#3fb950', meaning: 'its runs are training now; the progress bar counts steps over all seeds' },
  interrupted: { label: 'interrupted', color: '#8b949e', meaning: 'unfinished and no longer written to: the sweep was stopped (lab sweep --resume continues it)' },
};

/** The states in the order the legend lists them and the State column sorts them. */
export const STATE_ORDER: readonly TrialRowState[] = ['running', 'done', 'pruned', 'interrupted', 'failed'];

export function trialStateMeta(state: string): TrialStateMeta {
  return Object.hasOwn(TRIAL_STATES, state) ? TRIAL_STATES[state as TrialRowState] : { label: state, color: '#8b949e', meaning: '' };
}

// ---------------------------------------------------------------------------------------------------------------
// The trial table

export type SortKey = { by: 'trial' } | { by: 'objective' } | { by: 'state' } | { by: 'param'; name: string };
export interface Sort {
  key: SortKey;
  descending: boolean;
}

export function sameKey(a: SortKey, b: SortKey): boolean {
  return a.by === b.by && (a.by !== 'param' || (b.by === 'param' && a.name === b.name));
}

/** The table's first order: the best objective first. */
export function defaultSort(direction: 'maximize' | 'minimize'): Sort {
  return { key: { by: 'objective' }, descending: direction === 'maximize' };
}

/**
 * The order after a click on a column header: the same column flips; another starts in its natural direction
 * (the objective best first, everything else ascending).
 */
export function nextSort(current: Sort, key: SortKey, direction: 'maximize' | 'minimize'): Sort {
  if (sameKey(current.key, key)) return { key, descending: !current.descending };
  return { key, descending: key.by === 'objective' ? direction === 'maximize' : false };
}

/** Numbers before strings, numbers by value, strings and booleans alphabetically. */
function compareValues(a: ParamValue, b: ParamValue): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a === 'number') return -1;
  if (typeof b === 'number') return 1;
  return String(a).localeCompare(String(b));
}

/**
 * The rows in the table's order. Missing values (no objective yet, a parameter a trial lacks) sort last in
 * either direction; ties keep trial order.
 */
export function sortTrials(rows: readonly TrialRow[], sort: Sort): TrialRow[] {
  const sign = sort.descending ? -1 : 1;
  const value = (r: TrialRow): ParamValue | null => {
    switch (sort.key.by) {
      case 'trial':
        return r.trial;
      case 'objective':
        return r.objective;
      case 'state':
        return STATE_ORDER.indexOf(r.state);
      case 'param':
        return Object.hasOwn(r.params, sort.key.name) ? r.params[sort.key.name]! : null;
    }
  };
  return [...rows].sort((a, b) => {
    const va = value(a);
    const vb = value(b);
    if (va === null || vb === null || (typeof va === 'number' && !Number.isFinite(va)) || (typeof vb === 'number' && !Number.isFinite(vb))) {
      const missA = va === null || (typeof va === 'number' && !Number.isFinite(va));
      const missB = vb === null || (typeof vb === 'number' && !Number.isFinite(vb));
      if (missA !== missB) return missA ? 1 : -1;
      return a.trial - b.trial;
    }
    return sign * compareValues(va, vb) || a.trial - b.trial;
  });
}

/** A hyperparameter as the table shows it: numbers with 4 significant digits, the rest as written. */
export function formatParam(v: ParamValue | undefined): string {
  if (v === undefined) return '—';
  if (typeof v === 'number') {
    if (Number.isInteger(v) && Math.abs(v) < 1e6) return String(v);
    // 0.0004664 rather than 4.664e-4 down to 1e-4 (learning rates read better that way); beyond, exponents.
    return Math.abs(v) >= 1e-4 && Math.abs(v) < 1e6 ? String(Number(v.toPrecision(4))) : formatNumber(v, 4);
  }
  return String(v);
}

/** "182.5 [170.0, 195.0]" or "182.5" or "—"; large values (steps to a threshold) as whole numbers: "6,667 [5,000, 10,000]". */
export function formatObjective(row: Pick<TrialRow, 'objective' | 'interval'>): string {
  if (row.objective === null) return '—';
  const f = (v: number) => (Math.abs(v) >= 1000 && Math.abs(v) < 1e9 ? Math.round(v).toLocaleString('en-US') : formatNumber(v, 4));
  return row.interval ? `${f(row.objective)} [${f(row.interval[0])}, ${f(row.interval[1])}]` : f(row.objective);
}

// ---------------------------------------------------------------------------------------------------------------
// The objective per trial

export type ObjectiveX = 'trial' | 'time';

export interface ObjectivePoint {
  trial: number;
  x: number;
  y: number;
  state: TrialRowState;
}

/**
 * The finished trials with an objective as points: x is the trial number, or the minutes from the experiment's
 * start to the trial's end.
 */
export function objectivePoints(detail: Pick<ExperimentDetail, 'trials'> & { summary: Pick<ExperimentListItem, 'createdAt'> }, xMode: ObjectiveX): ObjectivePoint[] {
  const rows = detail.trials.filter((r) => r.objective !== null && Number.isFinite(r.objective) && (xMode === 'trial' || (r.endedAt !== null && Number.isFinite(Date.parse(r.endedAt)))));
  const start = xMode === 'time' ? startTime(detail) : 0;
  return rows
    .map((r) => ({ trial: r.trial, x: xMode === 'trial' ? r.trial : (Date.parse(r.endedAt!) - start) / 60_000, y: r.objective!, state: r.state }))
    .sort((a, b) => a.x - b.x || a.trial - b.trial);
}

/** The experiment's start: its createdAt, else its first trial's start. */
function startTime(detail: Pick<ExperimentDetail, 'trials'> & { summary: Pick<ExperimentListItem, 'createdAt'> }): number {
  const created = detail.summary.createdAt ? Date.parse(detail.summary.createdAt) : NaN;
  if (Number.isFinite(created)) return created;
  const starts = detail.trials.map((r) => (r.startedAt ? Date.parse(r.startedAt) : NaN)).filter(Number.isFinite);
  return starts.length ? Math.min(...starts) : 0;
}

/**
 * The best objective so far as a step line over points in x order: it counts done trials only (a pruned
 * trial's value comes from mid-run), rises (or falls, minimizing) where a trial beats the best, and runs on to
 * the last point's x.
 */
export function bestSoFar(points: readonly ObjectivePoint[], direction: 'maximize' | 'minimize'): { xs: number[]; ys: number[] } {
  const xs: number[] = [];
  const ys: number[] = [];
  let best: number | null = null;
  for (const p of points) {
    if (p.state !== 'done') continue;
    const better = best === null || (direction === 'maximize' ? p.y > best : p.y < best);
    if (!better) continue;
    if (best !== null) {
      xs.push(p.x);
      ys.push(best);
    }
    xs.push(p.x);
    ys.push(p.y);
    best = p.y;
  }
  const lastX = points.at(-1)?.x;
  if (best !== null && lastX !== undefined && lastX > xs.at(-1)!) {
    xs.push(lastX);
    ys.push(best);
  }
  return { xs, ys };
}

// ---------------------------------------------------------------------------------------------------------------
// Hyperparameter axes

export interface ParamAxis {
  type: 'linear' | 'log' | 'category';
  /** Ticks with their labels, in axis order. */
  ticks: { value: ParamValue; label: string }[];
  /** Where a value lies along the axis, 0 … 1 (null: not on it, e.g. an unknown category). */
  position(v: ParamValue): number | null;
}

/** Ticks of a log axis over [lo, hi]: powers of ten, with 2× and 5× when fewer than three decades fit. */
export function logTicks(lo: number, hi: number): number[] {
  if (!(lo > 0) || !(hi >= lo)) return [];
  const first = Math.floor(Math.log10(lo));
  const last = Math.ceil(Math.log10(hi));
  const inside = (v: number) => v >= lo * (1 - 1e-9) && v <= hi * (1 + 1e-9);
  const clean = (v: number) => Number(v.toPrecision(6));
  const decades: number[] = [];
  for (let e = first; e <= last; e++) decades.push(clean(10 ** e));
  let ticks = decades.filter(inside);
  if (ticks.length < 3) {
    const more: number[] = [];
    for (let e = first; e <= last; e++) for (const m of [1, 2, 5]) more.push(clean(m * 10 ** e));
    ticks = more.filter(inside);
  }
  if (ticks.length < 2) ticks = [...new Set([clean(lo), ...ticks, clean(hi)])];
  return ticks;
}

/** A log-axis label: 0.0003 → "3e-4", 0.01 → "0.01", 2000 → "2k". */
export function formatLogTick(v: number): string {
  if (v >= 1e6) return `${Number((v / 1e6).toPrecision(3))}M`;
  if (v >= 1000) return `${Number((v / 1e3).toPrecision(3))}k`;
  if (v >= 0.01) return String(Number(v.toPrecision(3)));
  const [m, e] = v.toExponential(0).split('e');
  return `${m}e${Number(e)}`;
}

/**
 * The axis of one hyperparameter's scatter: the searched range (widened to the values seen, should any lie
 * outside it), on a log scale for log-uniform and log-int dimensions, categories for choices.
 */
export function paramAxis(dimension: SearchDimension | undefined, values: readonly ParamValue[]): ParamAxis {
  const numeric = values.filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
  if (!dimension || 'choice' in dimension || numeric.length < values.length) {
    const cats: ParamValue[] = dimension && 'choice' in dimension ? [...dimension.choice] : [];
    for (const v of values) if (!cats.some((c) => c === v)) cats.push(v);
    const n = Math.max(1, cats.length);
    return {
      type: 'category',
      ticks: cats.map((c) => ({ value: c, label: formatParam(c) })),
      position: (v) => {
        const i = cats.findIndex((c) => c === v);
        return i < 0 ? null : (i + 0.5) / n;
      },
    };
  }
  const range: readonly [number, number] = 'uniform' in dimension ? dimension.uniform : 'loguniform' in dimension ? dimension.loguniform : dimension.int;
  const log = 'loguniform' in dimension || ('int' in dimension && dimension.log === true && range[0] > 0);
  let lo = Math.min(range[0], ...numeric);
  let hi = Math.max(range[1], ...numeric);
  if (log) {
    lo = Math.max(lo, Number.MIN_VALUE);
    const l0 = Math.log(lo);
    const span = Math.log(hi) - l0;
    return {
      type: 'log',
      ticks: logTicks(lo, hi).map((t) => ({ value: t, label: formatLogTick(t) })),
      position: (v) => (typeof v === 'number' && v > 0 ? (span > 0 ? (Math.log(v) - l0) / span : 0.5) : null),
    };
  }
  if (hi === lo) [lo, hi] = [lo - 1, hi + 1];
  const t = niceTicks(lo, hi, 5);
  const ticks = t.ticks.filter((v) => v >= lo - 1e-9 * Math.abs(hi - lo) && v <= hi + 1e-9 * Math.abs(hi - lo));
  return {
    type: 'linear',
    ticks: ticks.map((v) => ({ value: v, label: formatNumber(v, 3) })),
    position: (v) => (typeof v === 'number' ? (v - lo) / (hi - lo) : null),
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Learning curves, progress, polling

/** Colours of picked trials' curves (distinct on the dark page; the state colours stay for states). */
const CURVE_COLORS = ['#58a6ff', '#3fb950', '#d2a8ff', '#f0883e', '#56d4dd', '#ff7b72', '#e3b341', '#a5d6ff'];

export function curveColor(index: number): string {
  return CURVE_COLORS[index % CURVE_COLORS.length]!;
}

/** The trials whose curves show first: the best done trial, else the running ones, else the newest with a curve. */
export function defaultPicks(detail: Pick<ExperimentDetail, 'trials'> & { summary: Pick<ExperimentListItem, 'best'> }): number[] {
  const best = detail.summary.best?.trial;
  if (best !== undefined && detail.trials.some((t) => t.trial === best && t.curve)) return [best];
  const running = detail.trials.filter((t) => t.state === 'running' && t.curve).map((t) => t.trial);
  if (running.length) return running.slice(0, 4);
  const withCurve = detail.trials.filter((t) => t.curve);
  return withCurve.length ? [withCurve.at(-1)!.trial] : [];
}

/** An unfinished trial's progress, 0 … 1. */
export function progressFraction(row: Pick<TrialRow, 'progress'>): number {
  const p = row.progress;
  return p && p.budget > 0 ? Math.max(0, Math.min(1, p.step / p.budget)) : 0;
}

/** "finished 6 of 8 trials · 1 running" and similar. */
export function trialsLine(e: Pick<ExperimentListItem, 'trials' | 'timeLimitSeconds'>): string {
  const t = e.trials;
  const budget = t.budget !== null ? ` of ${t.budget}` : e.timeLimitSeconds !== null ? ` (time budget ${formatDuration(e.timeLimitSeconds)})` : '';
  return `${t.finished}${budget} trial${(t.budget ?? t.finished) === 1 ? '' : 's'} finished${t.running ? ` · ${t.running} unfinished` : ''}`;
}

/** 90 → "1m 30s", 7200 → "2h". */
export function formatDuration(seconds: number): string {
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const r = s % 60;
  return h ? `${h}h${m ? ` ${m}m` : ''}` : `${m}m${r ? ` ${r}s` : ''}`;
}

/** "maximize IQM over seeds of the last eval" and similar. */
export function objectiveLine(o: ExperimentListItem['objective']): string {
  if (!o) return '—';
  const what: Record<string, string> = {
    'iqm-last': `IQM over seeds of the last ${o.metric}`,
    'mean-last': `mean over seeds of the last ${o.metric}`,
    auc: `area under the ${o.metric} curve (mean over seeds)`,
    'steps-to-threshold': `steps until ${o.metric} reaches ${o.threshold ?? 'the env\'s threshold'} (mean over seeds)`,
  };
  return `${o.direction} ${what[o.reduce] ?? o.reduce}`;
}

/** Something is running: poll again in POLL_MS. */
export function shouldPoll(list: readonly Pick<ExperimentListItem, 'state'>[] | null, detail: Pick<ExperimentDetail, 'summary'> | null): boolean {
  return (detail?.summary.state === 'running') || (list?.some((e) => e.state === 'running') ?? false);
}

/** A live run (of the hub) belongs to experiment `id`: its run id is `${id}-t<trial>-s<seed>`. */
export function isRunOf(id: string, runId: string): boolean {
  return runId.startsWith(`${id}-t`) && /^\d{4,}-s\d+$/.test(runId.slice(id.length + 2));
}

/**
 * `lab compare`: final scores and learning curves of groups of runs (an agent over several seeds), with the
 * interval estimates that Agarwal et al. (2021) recommend (see analysis/stats.ts for the definitions).
 *
 * - The score of a run is its final greedy evaluation: the mean return of the last `eval` event in its
 *   metrics.jsonl. A run without evaluations falls back to the mean return of its last 100 training episodes,
 *   and is flagged.
 * - Runs are grouped (by default by agent and preset, e.g. `dqn/zoo`) and stratified by env: each env is a
 *   task, bootstrap resampling stays within a task, and several envs give per-env rows plus an aggregate.
 * - Learning curves: per run, the evaluation curve (step → mean return), or with `curve: 'episodes'` the
 *   training episode returns as a moving average over a window of env steps; per group and env the runs are
 *   put on a common grid (linear interpolation inside each run's range, no extrapolation) and each grid point
 *   gets the mean over the runs that cover it and a bootstrap percentile interval of that mean.
 * - Every kind of run, one kind per comparison: GAN runs (`lab gan train`) are compared on their D and G loss
 *   curves against iterations (score: the final G loss, a description rather than a quality measure: no
 *   probability of improvement); AlphaZero-lite runs (`lab go train`) on their evaluation results (win rate
 *   against each opponent) and losses against iterations (score: the final win rate against the last opponent
 *   of its evaluations, the strongest). Given runs of several kinds, the kind most of them are (ties: RL, GAN,
 *   AlphaZero-lite) is compared and the others are left out, each with a message that says so.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { AlphaZeroRecord, EpisodeEvent, EvalEvent, TrainEvent } from '../protocol/events.js';
import { ALPHAZERO_KIND, parseRunJson, readAlphaZeroRunMetrics, readRunConfig, readRunFile, readRunMetrics, RunDamage } from '../lab/run_files.js';
import { ALPHAZERO_AGENT, GAN_AGENT, ganEnvId, goEnvId } from '../protocol/protocol.js';
import { spec } from '../envs/index.js';
import {
  aggregateIqm,
  aggregateMean,
  aggregateMedian,
  bootstrapInterval,
  bootstrapMeanInterval,
  interpolateAt,
  makeRng,
  mean,
  movingAverageAt,
  optimalityGap,
  percentileInterval,
  pooledMedian,
  probabilityOfImprovement,
  stratifiedIndependentBootstrap,
  unionGrid,
  type CurvePoint,
  type TaskScores,
} from './stats.js';
import { seriesColor, type Panel } from '../lab/plot.js';
import type { CompareKind, CompareOptions, CompareResult, CurveStats, EnvStats, Estimate, GroupBy, GroupResult, PairResult, ScoreStats } from '../protocol/compare_types.js';
import { curveKeys } from '../protocol/compare_types.js';

export type { CompareKind, CompareOptions, CompareResult, CurveStats, EnvStats, Estimate, GroupBy, GroupResult, PairResult, ScoreStats };

/** The kinds in the order a tie between them is broken (see loadRuns), and how messages name them. */
export const COMPARE_KINDS: readonly CompareKind[] = ['rl', 'gan', ALPHAZERO_KIND];
const KIND_NAMES: Record<CompareKind, string> = { rl: 'an RL run', gan: 'a GAN run', [ALPHAZERO_KIND]: 'an AlphaZero-lite run' };
const KIND_PLURALS: Record<CompareKind, string> = { rl: 'RL runs', gan: 'GAN runs', [ALPHAZERO_KIND]: 'AlphaZero-lite runs' };

/** GAN update statistics compared, with their labels. */
export const GAN_METRICS: readonly { metric: string; label: string }[] = [
  { metric: 'dLoss', label: 'D loss' },
  { metric: 'gLoss', label: 'G loss' },
];
/** The logged iterations a GAN run's final G loss (its score) averages. */
export const GAN_FINAL_POINTS = 10;
/** AlphaZero-lite iteration fields compared besides the evaluations (`score:<opponent>`). */
export const ALPHAZERO_LOSSES: readonly { metric: string; label: string }[] = [
  { metric: 'policyLoss', label: 'policy loss' },
  { metric: 'valueLoss', label: 'value loss' },
];

/** "G loss", "win rate vs random" … for a metric curve. */
export function metricLabel(metric: string): string {
  if (metric.startsWith('score:')) return `win rate vs ${metric.slice('score:'.length)}`;
  return [...GAN_METRICS, ...ALPHAZERO_LOSSES].find((m) => m.metric === metric)?.label ?? metric;
}

const SCORE_LABELS: Record<CompareKind, string> = {
  rl: 'the mean return of its last greedy evaluation',
  gan: `its final G loss (mean of its last ${GAN_FINAL_POINTS} logged iterations; a description, not a quality measure: judge generators with lab gan eval)`,
  [ALPHAZERO_KIND]: 'its final win rate (draws ½) against the last opponent of its evaluations (the strongest)',
};

/** Training episodes averaged for the score of a run that has no evaluation. */
export const FALLBACK_EPISODES = 100;

export interface LoadedRun {
  /** The kind of run (absent, or config.json without `kind`: RL). */
  kind?: CompareKind;
  dir: string;
  runId: string;
  envId: string;
  agent: string;
  preset: string | null;
  seed: number;
  hyperparameters: Record<string, unknown>;
  /** The budget in config.json: env steps (RL) or iterations (GAN, AlphaZero-lite). */
  budget: number;
  /** The step (iteration) of the last event in metrics.jsonl. */
  lastStep: number;
  score: number;
  /**
   * 'eval': the last evaluation (RL: its mean return; AlphaZero-lite: its win rate); 'episodes': the RL fallback,
   * the last training episodes; 'updates': a GAN run's final G loss.
   */
  scoreSource: 'eval' | 'episodes' | 'updates';
  scoreStep: number;
  /** Episodes behind the score (evaluation episodes, or training episodes averaged). */
  scoreEpisodes: number;
  /** Evaluation curve: step → mean return (one point per step, the last one if a step repeats). */
  evals: CurvePoint[];
  /** Training episodes: step at the episode's end → return. */
  episodes: CurvePoint[];
  /** GAN and AlphaZero-lite runs: each compared metric's curve against iterations (none for RL runs). */
  metrics?: Record<string, CurvePoint[]>;
  /** A run of an experiment: its trial's label (number and params), set by whoever read the experiment. */
  trial?: string;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** How runs are read. */
export interface LoadOptions {
  /**
   * Only the curves are wanted (`lab plot`): an AlphaZero-lite run without evaluations is read (its score is
   * NaN) instead of refused.
   */
  curvesOnly?: boolean;
}

/** A run that was asked for but cannot be compared, and why. */
export interface LeftOutRun {
  runId: string;
  /** Why, without the run's name ("metrics.jsonl: line 3 is not valid JSON"). */
  error: string;
  /** Why, as a sentence that names the run. */
  message: string;
}

/**
 * Loads every run that can be compared; the others are left out with their reason (a damaged file, no
 * score yet, a GAN run) instead of failing the whole comparison. `label` names a run in the reasons.
 */
export function loadRuns(dirs: readonly string[], label: (dir: string) => string = (d) => d, options: LoadOptions = {}): { runs: LoadedRun[]; leftOut: LeftOutRun[] } {
  const loaded: { run: LoadedRun; name: string }[] = [];
  const leftOut: LeftOutRun[] = [];
  for (const dir of dirs) {
    try {
      loaded.push({ run: loadRunAs(dir, label(dir), options), name: label(dir) });
    } catch (e) {
      const name = label(dir);
      const message = e instanceof Error ? e.message : String(e);
      const error = message.startsWith(`${name}: `) ? message.slice(name.length + 2) : message.startsWith(`${name} `) ? message.slice(name.length + 1) : message;
      leftOut.push({ runId: name, error, message: message.startsWith(name) ? message : `${name}: ${message}` });
    }
  }
  // One kind per comparison: the kind most runs are (ties in COMPARE_KINDS order); the others are left out.
  const kindOf = (r: LoadedRun): CompareKind => r.kind ?? 'rl';
  const counts = COMPARE_KINDS.map((k) => loaded.filter((l) => kindOf(l.run) === k).length);
  const kind = COMPARE_KINDS[counts.indexOf(Math.max(...counts))]!;
  for (const l of loaded) {
    if (kindOf(l.run) === kind) continue;
    const error = `is ${KIND_NAMES[kindOf(l.run)]}; this comparison is of ${KIND_PLURALS[kind]} (one kind per comparison: compare ${KIND_PLURALS[kindOf(l.run)]} with each other)`;
    leftOut.push({ runId: l.name, error, message: `${l.name} ${error}` });
  }
  return { runs: loaded.filter((l) => kindOf(l.run) === kind).map((l) => l.run), leftOut };
}

/** The result with the left-out runs named in a note each and listed in `damaged`. */
export function withLeftOut(result: CompareResult, leftOut: readonly LeftOutRun[]): CompareResult {
  if (leftOut.length === 0) return result;
  return {
    ...result,
    notes: [...leftOut.map((r) => `${r.message} — left out of the comparison`), ...result.notes],
    damaged: leftOut.map((r) => ({ runId: r.runId, error: r.error })),
  };
}

/**
 * The run directories named by `paths`: a run directory (with config.json) stands for itself; a directory
 * without one stands for the run directories directly inside it (e.g. `runs/`); anything else is an error
 * that names the path.
 */
export function resolveRunDirs(paths: readonly string[]): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  for (const p of paths) {
    const abs = path.resolve(p);
    if (!fs.existsSync(abs)) throw new Error(`${p}: no such file or directory`);
    if (!fs.statSync(abs).isDirectory()) throw new Error(`${p} is not a run directory (not a directory)`);
    let dirs: string[];
    if (fs.existsSync(path.join(abs, 'config.json'))) dirs = [abs];
    else {
      dirs = fs
        .readdirSync(abs, { withFileTypes: true })
        .filter((e) => e.isDirectory() && fs.existsSync(path.join(abs, e.name, 'config.json')))
        .map((e) => path.join(abs, e.name))
        .sort();
      if (dirs.length === 0) throw new Error(`${p} is not a run directory (no config.json) and holds no run directories`);
    }
    for (const d of dirs) {
      if (seen.has(d)) throw new Error(`run directory ${d} is given more than once`);
      seen.add(d);
      out.push(d);
    }
  }
  return out;
}

/** Reads config.json and metrics.jsonl of one run directory and computes its score. */
export function loadRun(dir: string): LoadedRun {
  return loadRunAs(dir, dir);
}

/**
 * loadRun whose errors name the run by `label` and the file relative to the run directory, e.g. "<label>:
 * metrics.jsonl: line 3 is not valid JSON".
 */
export function loadRunAs(dir: string, label: string, options: LoadOptions = {}): LoadedRun {
  if (!fs.existsSync(path.join(dir, 'config.json'))) throw new Error(`${label} is not a run directory (no config.json)`);
  let config: Record<string, unknown>;
  try {
    const parsed = parseRunJson(readRunFile(dir, 'config.json'), 'config.json');
    if (!isObject(parsed)) throw new RunDamage('config.json', 'expected a JSON object');
    config = parsed;
  } catch (e) {
    throw new Error(`${label}: ${(e as Error).message}`);
  }
  const own = (k: string): unknown => (Object.hasOwn(config, k) ? config[k] : undefined);
  if (own('kind') === 'gan' || own('kind') === ALPHAZERO_KIND) return loadIterationRun(dir, label, options);
  if (own('kind') !== undefined && own('kind') !== 'rl') throw new Error(`${label} is a run of a kind lab compare does not know (config.json kind is ${JSON.stringify(own('kind'))})`);
  const envId = own('envId');
  const agent = own('agent');
  if (typeof envId !== 'string' || envId === '') throw new Error(`${label}: config.json has no envId, so the run cannot be stratified by env`);
  if (typeof agent !== 'string' || agent === '') throw new Error(`${label}: config.json has no agent`);
  // Optional fields (older or hand-made run directories lack some) must have the right type when present.
  const optional = <T>(k: string, check: (v: unknown) => v is T, what: string): T | undefined => {
    const v = own(k);
    if (v === undefined) return undefined;
    if (!check(v)) throw new Error(`${label}: config.json: ${k}: expected ${what}, got ${v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v}`);
    return v;
  };
  const preset = optional('preset', (v): v is string | null => v === null || typeof v === 'string', 'a string or null');
  const seed = optional('seed', (v): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0, 'an integer ≥ 0');
  const steps = optional('steps', (v): v is number => typeof v === 'number' && Number.isFinite(v) && v >= 0, 'a number ≥ 0');
  const runId = optional('runId', (v): v is string => typeof v === 'string', 'a string');
  const hyperparameters = optional('hyperparameters', isObject, 'an object');
  const metricsFile = path.join(dir, 'metrics.jsonl');
  if (!fs.existsSync(metricsFile)) throw new Error(`${label}: no metrics.jsonl (the run has not written any metrics)`);
  let events: TrainEvent[];
  try {
    events = readRunMetrics(dir);
  } catch (e) {
    throw new Error(`${label}: ${(e as Error).message}`);
  }
  const evalByStep = new Map<number, EvalEvent>();
  const episodes: CurvePoint[] = [];
  let lastStep = 0;
  let lastEval: EvalEvent | null = null;
  for (const e of events) {
    if (!isObject(e) || typeof e.step !== 'number') continue;
    lastStep = Math.max(lastStep, e.step);
    if (e.type === 'eval' && Number.isFinite(e.meanReturn)) {
      evalByStep.set(e.step, e);
      lastEval = e;
    } else if (e.type === 'episode' && Number.isFinite((e as EpisodeEvent).return)) {
      episodes.push({ step: e.step, value: (e as EpisodeEvent).return });
    }
  }
  episodes.sort((a, b) => a.step - b.step);
  const evals = [...evalByStep.values()].sort((a, b) => a.step - b.step).map((e) => ({ step: e.step, value: e.meanReturn }));
  let score: number;
  let scoreSource: LoadedRun['scoreSource'];
  let scoreStep: number;
  let scoreEpisodes: number;
  if (lastEval) {
    score = lastEval.meanReturn;
    scoreSource = 'eval';
    scoreStep = lastEval.step;
    scoreEpisodes = lastEval.episodes;
  } else if (episodes.length > 0) {
    const tail = episodes.slice(-FALLBACK_EPISODES);
    score = mean(tail.map((p) => p.value));
    scoreSource = 'episodes';
    scoreStep = tail.at(-1)!.step;
    scoreEpisodes = tail.length;
  } else {
    throw new Error(`${label}: metrics.jsonl has no evaluations and no finished episodes, so the run has no score`);
  }
  return {
    kind: 'rl',
    dir,
    runId: runId ?? path.basename(dir),
    envId,
    agent,
    preset: preset ?? null,
    seed: seed ?? NaN,
    hyperparameters: hyperparameters ?? {},
    budget: steps ?? lastStep,
    lastStep,
    score,
    scoreSource,
    scoreStep,
    scoreEpisodes,
    evals,
    episodes,
    metrics: {},
  };
}

/** A GAN or AlphaZero-lite run: its config.json checked as its trainer wrote it, its metric curves against iterations. */
function loadIterationRun(dir: string, label: string, options: LoadOptions): LoadedRun {
  let checked;
  try {
    checked = readRunConfig(dir);
  } catch (e) {
    throw new Error(`${label}: ${(e as Error).message}`);
  }
  if (checked.kind === 'rl') throw new Error(`${label}: config.json changed while it was read`);
  if (!fs.existsSync(path.join(dir, 'metrics.jsonl'))) throw new Error(`${label}: no metrics.jsonl (the run has not written any metrics)`);
  const metrics = new Map<string, Map<number, number>>();
  const put = (metric: string, step: number, value: number) => {
    if (!Number.isFinite(value)) return;
    if (!metrics.has(metric)) metrics.set(metric, new Map());
    metrics.get(metric)!.set(step, value); // one point per iteration, the last one if it repeats
  };
  const curves = (): Record<string, CurvePoint[]> =>
    Object.fromEntries([...metrics].map(([m, points]) => [m, [...points].sort((a, b) => a[0] - b[0]).map(([step, value]) => ({ step, value }))]));
  const common = { dir, runId: checked.config.runId || path.basename(dir), seed: checked.config.seed, hyperparameters: checked.config.hyperparameters as Record<string, unknown>, budget: checked.config.iterations, evals: [], episodes: [] };
  if (checked.kind === 'gan') {
    let events: TrainEvent[];
    try {
      events = readRunMetrics(dir);
    } catch (e) {
      throw new Error(`${label}: ${(e as Error).message}`);
    }
    let lastStep = 0;
    for (const e of events) {
      if (e.type === 'step') continue;
      lastStep = Math.max(lastStep, e.step);
      if (e.type === 'update') for (const { metric } of GAN_METRICS) if (Object.hasOwn(e.stats, metric)) put(metric, e.step, e.stats[metric]!);
    }
    const all = curves();
    const g = all.gLoss ?? [];
    if (g.length === 0) throw new Error(`${label}: metrics.jsonl has no losses yet (no update records), so the run has nothing to compare`);
    const tail = g.slice(-GAN_FINAL_POINTS);
    const gan = checked.config;
    return { ...common, kind: 'gan', envId: ganEnvId(gan.category), agent: GAN_AGENT, preset: gan.preset, lastStep, score: mean(tail.map((p) => p.value)), scoreSource: 'updates', scoreStep: tail.at(-1)!.step, scoreEpisodes: tail.length, metrics: all };
  }
  let records: AlphaZeroRecord[];
  try {
    records = readAlphaZeroRunMetrics(dir);
  } catch (e) {
    throw new Error(`${label}: ${(e as Error).message}`);
  }
  let lastStep = 0;
  let last: Extract<AlphaZeroRecord, { type: 'go-eval' }> | null = null;
  for (const r of records) {
    lastStep = Math.max(lastStep, r.iteration);
    if (r.type === 'go-eval') {
      put(`score:${r.opponent}`, r.iteration, r.score);
      last = r;
    } else for (const { metric } of ALPHAZERO_LOSSES) put(metric, r.iteration, r[metric as 'policyLoss' | 'valueLoss']);
  }
  if (!last && !options.curvesOnly) throw new Error(`${label}: metrics.jsonl has no evaluation results (trained with evalEvery 0, or stopped before its first evaluation), so the run has no score; lab match ${label} mcts plays it`);
  const az = checked.config;
  return {
    ...common,
    kind: ALPHAZERO_KIND,
    envId: goEnvId(az.hyperparameters.size),
    agent: ALPHAZERO_AGENT,
    preset: null,
    lastStep,
    score: last?.score ?? Number.NaN,
    scoreSource: 'eval',
    scoreStep: last?.iteration ?? lastStep,
    scoreEpisodes: last?.games ?? 0,
    metrics: curves(),
  };
}


export function parseGroupBy(value: string): GroupBy {
  if (value === 'agent-preset' || value === 'agent' || value === 'preset' || value === 'env' || value === 'trial') return value;
  if (/^hyper:[A-Za-z_][\w.]*$/.test(value)) return value as GroupBy;
  throw new Error(`--group-by must be agent-preset, agent, preset, env, trial or hyper:<name>, got '${value}'`);
}

/** The group a run belongs to: e.g. `dqn/zoo` (agent-preset), `dqn`, `zoo`, `CartPole-v1`, `learningRate=0.001`. */
export function groupKey(run: LoadedRun, by: GroupBy): string {
  switch (by) {
    case 'agent-preset':
      return run.preset ? `${run.agent}/${run.preset}` : run.agent;
    case 'agent':
      return run.agent;
    case 'preset':
      return run.preset ?? '(no preset)';
    case 'env':
      return run.envId;
    case 'trial':
      return run.trial ?? '(not in an experiment)';
    default: {
      const key = by.slice('hyper:'.length);
      // Own properties only: `hyper:constructor` names no hyperparameter.
      const v = key.split('.').reduce<unknown>((o, k) => (isObject(o) && Object.hasOwn(o, k) ? o[k] : undefined), run.hyperparameters);
      return `${key}=${v === undefined ? '(unset)' : JSON.stringify(v)}`;
    }
  }
}


export const DEFAULT_COMPARE_OPTIONS: CompareOptions = {
  groupBy: 'agent-preset',
  reps: 10_000,
  seed: 0,
  confidence: 0.95,
  curve: 'eval',
  curvePoints: 200,
  normalize: 'none',
};


function rewardThreshold(envId: string): number | null {
  try {
    return spec(envId).rewardThreshold ?? null;
  } catch {
    return null;
  }
}

function scoreStats(tasks: TaskScores, gamma: number | null, rngKey: string, opts: CompareOptions): ScoreStats {
  const ci = { reps: opts.reps, confidence: opts.confidence };
  const est = (stat: (t: TaskScores) => number, key: string): Estimate => ({
    value: stat(tasks),
    ...bootstrapInterval(tasks, stat, { ...ci, rng: makeRng(`${opts.seed}:${rngKey}:${key}`) }),
  });
  return {
    runs: tasks.reduce((n, t) => n + t.length, 0),
    iqm: est(aggregateIqm, 'iqm'),
    mean: est(aggregateMean, 'mean'),
    median: pooledMedian(tasks),
    medianOfTaskMeans: aggregateMedian(tasks),
    optimalityGap: gamma === null ? null : { gamma, ...est((t) => optimalityGap(t, gamma), 'gap') },
  };
}

/** Default moving-average window: a round number near 1/25 of the longest run. */
export function defaultWindow(maxStep: number): number {
  const raw = Math.max(1, maxStep / 25);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const f = raw / mag;
  return Math.max(1, Math.round((f < 1.5 ? 1 : f < 3.5 ? 2 : f < 7.5 ? 5 : 10) * mag));
}

function curveFor(runs: LoadedRun[], envId: string, rngKey: string, opts: CompareOptions, window: number): CurveStats {
  const rng = makeRng(`${opts.seed}:${rngKey}`);
  const ci = { reps: opts.reps, rng, confidence: opts.confidence };
  const points: CurveStats['points'] = [];
  if (opts.curve === 'eval') {
    const curves = runs.map((r) => r.evals).filter((c) => c.length > 0);
    for (const step of unionGrid(curves)) {
      const values = curves.map((c) => interpolateAt(c, step)).filter((v): v is number => v !== null);
      if (values.length === 0) continue;
      points.push({ step, mean: mean(values), ...bootstrapMeanInterval(values, ci), n: values.length });
    }
    return { envId, kind: 'eval', window: null, runs: curves.length, points };
  }
  const curves = runs.map((r) => r.episodes).filter((c) => c.length > 0);
  if (curves.length > 0) {
    const first = Math.min(...curves.map((c) => c[0]!.step));
    const last = Math.max(...curves.map((c) => c.at(-1)!.step));
    const n = Math.max(2, opts.curvePoints);
    const grid = [...new Set(Array.from({ length: n }, (_, i) => Math.round(first + ((last - first) * i) / (n - 1))))];
    for (const step of grid) {
      const values = curves.map((c) => movingAverageAt(c, step, window)).filter((v): v is number => v !== null);
      if (values.length === 0) continue;
      points.push({ step, mean: mean(values), ...bootstrapMeanInterval(values, ci), n: values.length });
    }
  }
  return { envId, kind: 'episodes', window, runs: curves.length, points };
}

/**
 * The curves of a GAN or AlphaZero-lite group on one task: one per metric any of its runs has (in the order they
 * first appear), each on the union of the runs' iterations (at most `curvePoints` of them, evenly spread).
 */
function metricCurvesFor(runs: LoadedRun[], envId: string, rngKey: string, opts: CompareOptions): CurveStats[] {
  const names: string[] = [];
  for (const r of runs) for (const m of Object.keys(r.metrics ?? {})) if (!names.includes(m)) names.push(m);
  // Evaluations first (by opponent name), then the losses.
  names.sort((a, b) => Number(b.startsWith('score:')) - Number(a.startsWith('score:')) || (a.startsWith('score:') && b.startsWith('score:') ? a.localeCompare(b) : 0));
  return names.map((metric) => {
    const rng = makeRng(`${opts.seed}:${rngKey}:${metric}`);
    const ci = { reps: opts.reps, rng, confidence: opts.confidence };
    const curves = runs.map((r) => r.metrics?.[metric] ?? []).filter((c) => c.length > 0);
    let grid = unionGrid(curves);
    const n = Math.max(2, opts.curvePoints);
    if (grid.length > n) {
      const first = grid[0]!;
      const last = grid.at(-1)!;
      grid = [...new Set(Array.from({ length: n }, (_, i) => Math.round(first + ((last - first) * i) / (n - 1))))];
    }
    const points: CurveStats['points'] = [];
    for (const step of grid) {
      const values = curves.map((c) => interpolateAt(c, step)).filter((v): v is number => v !== null);
      if (values.length === 0) continue;
      points.push({ step, mean: mean(values), ...bootstrapMeanInterval(values, ci), n: values.length });
    }
    return { envId, kind: 'metric' as const, metric, label: metricLabel(metric), window: null, runs: curves.length, points };
  });
}

/**
 * The learning curves of one group of runs on one task (the seeds of one configuration, as an experiment's
 * trial), computed as compareRuns computes each group's: RL runs' evaluation (or episode) curve, other kinds' one
 * curve per metric. One run is enough (its band has zero width).
 */
export function groupCurves(runs: LoadedRun[], options: Partial<CompareOptions> = {}, rngKey = 'group'): CurveStats[] {
  if (runs.length === 0) return [];
  const opts: CompareOptions = { ...DEFAULT_COMPARE_OPTIONS, ...options };
  const envId = runs[0]!.envId;
  if ((runs[0]!.kind ?? 'rl') !== 'rl') return metricCurvesFor(runs, envId, rngKey, opts);
  const maxStep = Math.max(...runs.map((r) => Math.max(r.lastStep, r.episodes.at(-1)?.step ?? 0)));
  return [curveFor(runs, envId, rngKey, opts, opts.window ?? defaultWindow(maxStep))];
}

/** Groups the runs, scores them and computes every estimate, interval and curve. */
export function compareRuns(runs: LoadedRun[], options: Partial<CompareOptions> = {}): CompareResult {
  if (runs.length < 2) throw new Error(`compare needs at least 2 runs, got ${runs.length}`);
  const opts: CompareOptions = { ...DEFAULT_COMPARE_OPTIONS, ...options };
  return analyse(runs, opts, (r) => groupKey(r, opts.groupBy));
}

/**
 * The learning curves of one or more runs (`lab plot`): the comparison with one group per run, named by its run
 * id, so each run is one line (its interval bands have zero width). Runs of one kind; one run is enough.
 */
export function plotRuns(runs: LoadedRun[], options: Partial<Pick<CompareOptions, 'curve' | 'window' | 'curvePoints'>> = {}): { result: CompareResult; panels: Panel[] } {
  if (runs.length < 1) throw new Error('plot needs at least 1 run');
  const ids = runs.map((r) => r.runId);
  // Two runs with one id (copies in two folders) are told apart by their folders.
  const name = (r: LoadedRun) => (ids.filter((id) => id === r.runId).length > 1 ? r.dir : r.runId);
  const opts: CompareOptions = { ...DEFAULT_COMPARE_OPTIONS, ...options, reps: 1 };
  // Scores are not plotted: a run without one (read with curvesOnly) takes 0 so the estimates can be computed.
  const result = analyse(runs.map((r) => (Number.isFinite(r.score) ? r : { ...r, score: 0 })), opts, name);
  result.notes = result.notes.filter((n) => !/its intervals have zero width|all runs fall into one group|no probability of improvement/.test(n));
  result.pairs = [];
  const panels = curvePanels(result).map((p) => ({
    ...p,
    note: 'one line per run',
    series: p.series.map((s) => ({ ...s, name: s.name.replace(/ \(1 run\)$/, ''), points: s.points.map(({ x, y }) => ({ x, y })) })),
  }));
  return { result, panels };
}

function analyse(runs: LoadedRun[], opts: CompareOptions, groupOf: (run: LoadedRun) => string): CompareResult {
  if (!Number.isSafeInteger(opts.reps) || opts.reps < 1) throw new Error(`reps must be a positive integer, got ${opts.reps}`);
  if (!(opts.confidence > 0 && opts.confidence < 1)) throw new Error(`confidence must be between 0 and 1, got ${opts.confidence}`);
  const kinds = [...new Set(runs.map((r) => r.kind ?? 'rl'))];
  if (kinds.length > 1) throw new Error(`compare takes runs of one kind, got ${kinds.map((k) => KIND_PLURALS[k]).join(' and ')} (loadRuns keeps the kind most runs are)`);
  const kind = kinds[0]!;
  const rl = kind === 'rl';
  const unit = rl ? 'step' : 'iteration';
  const notes: string[] = [];
  if (!rl && opts.curve === 'episodes') notes.push(`--curve episodes is for RL runs: ${KIND_PLURALS[kind]} are compared on their curves against iterations`);
  const envs = [...new Set(runs.map((r) => r.envId))].sort();
  const thresholds: Record<string, number | null> = Object.fromEntries(envs.map((e) => [e, rewardThreshold(e)]));
  const multiEnv = envs.length > 1;
  if (multiEnv && opts.normalize === 'threshold') {
    const missing = envs.filter((e) => thresholds[e] === null || thresholds[e] === 0);
    if (missing.length > 0) throw new Error(`--normalize threshold: ${missing.join(', ')} ${missing.length === 1 ? 'has' : 'have'} no reward threshold; use --normalize none`);
  }
  if (multiEnv && opts.normalize === 'none') {
    notes.push(`the aggregate rows pool raw returns of ${envs.length} envs with different scales (${envs.join(', ')}); --normalize threshold divides each env's returns by its reward threshold`);
  }
  const fallback = runs.filter((r) => r.scoreSource === 'episodes');
  if (fallback.length > 0) {
    notes.push(
      `${fallback.length === 1 ? '1 run has' : `${fallback.length} runs have`} no evaluation; ${fallback.length === 1 ? 'its score is' : 'their scores are'} the mean return of the last ${FALLBACK_EPISODES} training episodes (marked *): ${fallback.map((r) => r.runId).join(', ')}`,
    );
  }

  const byGroup = new Map<string, LoadedRun[]>();
  for (const r of runs) {
    const k = groupOf(r);
    byGroup.set(k, [...(byGroup.get(k) ?? []), r]);
  }
  const names = [...byGroup.keys()].sort();
  const maxStep = Math.max(...runs.map((r) => Math.max(r.lastStep, r.episodes.at(-1)?.step ?? 0)));
  const window = opts.window ?? defaultWindow(maxStep);

  const groups: GroupResult[] = names.map((name, gi) => {
    const members = byGroup.get(name)!.slice().sort((a, b) => a.envId.localeCompare(b.envId) || a.seed - b.seed || a.runId.localeCompare(b.runId));
    const groupEnvs = envs.filter((e) => members.some((r) => r.envId === e));
    const perEnv: EnvStats[] = groupEnvs.map((envId) => {
      const rs = members.filter((r) => r.envId === envId);
      const scores = rs.map((r) => r.score);
      if (rs.length === 1) notes.push(`${name} has 1 run on ${envId}: its intervals have zero width`);
      const steps = [...new Set(rs.map((r) => r.scoreStep))];
      if (steps.length > 1) notes.push(`${name} on ${envId}: final scores come from different ${unit}s (${steps.sort((a, b) => a - b).map((s) => s.toLocaleString('en-US')).join(', ')})`);
      const short = rs.filter((r) => r.lastStep < r.budget);
      if (short.length > 0) notes.push(`${name} on ${envId}: ${short.map((r) => `${r.runId} stopped at ${unit} ${r.lastStep.toLocaleString('en-US')} of ${r.budget.toLocaleString('en-US')}`).join('; ')}`);
      if (kind === ALPHAZERO_KIND) {
        const opponents = [...new Set(rs.map((r) => Object.keys(r.metrics ?? {}).filter((m) => m.startsWith('score:')).at(-1)))];
        if (opponents.length > 1) notes.push(`${name} on ${envId}: final win rates are against different opponents (${opponents.map((o) => (o ?? '').slice('score:'.length)).join(', ')})`);
      }
      return {
        envId,
        scores,
        seeds: rs.map((r) => r.seed),
        runIds: rs.map((r) => r.runId),
        ...scoreStats([scores], thresholds[envId] ?? null, `${name}:${envId}`, opts),
      };
    });
    for (const e of envs) if (!groupEnvs.includes(e)) notes.push(`${name} has no runs on ${e}: its aggregate covers ${groupEnvs.length} of ${envs.length} envs`);
    let aggregate: GroupResult['aggregate'];
    if (!multiEnv) {
      const { envId: _e, scores: _s, seeds: _d, runIds: _r, ...stats } = perEnv[0]!;
      aggregate = { ...stats, envs: groupEnvs, normalized: false };
    } else {
      const normalized = opts.normalize === 'threshold';
      const tasks = perEnv.map((p) => (normalized ? p.scores.map((s) => s / thresholds[p.envId]!) : p.scores));
      aggregate = { ...scoreStats(tasks, normalized ? 1 : null, `${name}:aggregate`, opts), envs: groupEnvs, normalized };
    }
    const curves = rl
      ? groupEnvs.map((envId) => curveFor(members.filter((r) => r.envId === envId), envId, `${name}:${envId}:curve`, opts, window))
      : groupEnvs.flatMap((envId) => metricCurvesFor(members.filter((r) => r.envId === envId), envId, `${name}:${envId}:curve`, opts));
    if (rl) for (const c of curves) if (c.runs === 0) notes.push(`${name} on ${c.envId}: no run has ${opts.curve === 'eval' ? 'evaluations' : 'episodes'}, so there is no learning curve`);
    return {
      name,
      color: seriesColor(gi),
      runs: members.map((r) => ({ runId: r.runId, dir: r.dir, envId: r.envId, agent: r.agent, preset: r.preset, seed: r.seed, score: r.score, source: r.scoreSource, step: r.scoreStep, budget: r.budget })),
      perEnv,
      aggregate,
      curves,
    };
  });

  const pairs: PairResult[] = [];
  // A lower or higher GAN loss is not a better generator: no probability of improvement between GAN groups.
  if (kind === 'gan' && groups.length > 1) notes.push('no probability of improvement between GAN groups: a lower or higher loss is not a better generator (lab gan eval judges generators)');
  for (let i = 0; i < groups.length && kind !== 'gan'; i++) {
    for (let j = i + 1; j < groups.length; j++) {
      const gx = groups[i]!;
      const gy = groups[j]!;
      const common = envs.filter((e) => gx.perEnv.some((p) => p.envId === e) && gy.perEnv.some((p) => p.envId === e));
      if (common.length === 0) continue;
      const x = common.map((e) => gx.perEnv.find((p) => p.envId === e)!.scores);
      const y = common.map((e) => gy.perEnv.find((p) => p.envId === e)!.scores);
      const dist = stratifiedIndependentBootstrap(x, y, probabilityOfImprovement, opts.reps, makeRng(`${opts.seed}:poi:${gx.name}:${gy.name}`));
      pairs.push({ x: gx.name, y: gy.name, envs: common, probability: { value: probabilityOfImprovement(x, y), ...percentileInterval(dist, opts.confidence) } });
    }
  }
  if (groups.length < 2) notes.push(`all runs fall into one group (${names[0]}); --group-by chooses how runs are grouped`);
  const result: CompareResult = { envs, groups, pairs, options: { ...opts, window }, thresholds, notes };
  return rl ? result : { kind, scoreLabel: SCORE_LABELS[kind], xUnit: 'iterations', ...result };
}

// ---------------------------------------------------------------------------------------------------------
// Output

/** Decimals for a column whose values reach `max` in magnitude. */
function decimalsFor(max: number): number {
  return max >= 100 ? 1 : max >= 10 ? 2 : 3;
}

function compact(v: number): string {
  if (Number.isInteger(v)) return String(v);
  const a = Math.abs(v);
  return String(Number(v.toFixed(a >= 100 ? 1 : a >= 10 ? 2 : 3)));
}

function table(header: string[], rows: string[][], rightAligned: boolean[]): string[] {
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, c) => (c === cells.length - 1 && !rightAligned[c] ? cell : rightAligned[c] ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!)))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)];
}

function statsRows(entries: { name: string; stats: ScoreStats; scores: string }[], gapHeader: string | null, confidence: number): string[] {
  const all = entries.flatMap((e) => [e.stats.iqm.value, e.stats.iqm.hi, e.stats.mean.hi, Math.abs(e.stats.mean.lo), e.stats.median].map(Math.abs));
  const d = decimalsFor(Math.max(...all));
  const f = (v: number) => v.toFixed(d);
  const est = (e: Estimate) => `${f(e.value)} [${f(e.lo)}, ${f(e.hi)}]`;
  const ci = `${Math.round(confidence * 1000) / 10}% CI`;
  const header = ['group', 'runs', `IQM [${ci}]`, `mean [${ci}]`, 'median', ...(gapHeader ? [gapHeader] : []), 'scores'];
  const rows = entries.map((e) => [
    e.name,
    String(e.stats.runs),
    est(e.stats.iqm),
    est(e.stats.mean),
    f(e.stats.median),
    ...(gapHeader ? [e.stats.optimalityGap ? f(e.stats.optimalityGap.value) : '-'] : []),
    e.scores,
  ]);
  return table(header, rows, [false, true, false, false, true, ...(gapHeader ? [true] : []), false]);
}

/** The human-readable report: one table per env, the aggregate over envs, probabilities of improvement, notes. */
export function formatCompare(result: CompareResult): string {
  const o = result.options;
  const out: string[] = [];
  const pct = `${Math.round(o.confidence * 1000) / 10}%`;
  const kind = result.kind ?? 'rl';
  if (kind !== 'rl') out.push(`${KIND_PLURALS[kind]}, grouped by ${o.groupBy}; curves against iterations in --json and in the plot.`);
  out.push(`Final score of each run: ${result.scoreLabel ?? SCORE_LABELS.rl}. Intervals: ${pct} stratified-bootstrap percentile CIs (${o.reps.toLocaleString('en-US')} resamples, seed ${o.seed}).`);
  const scoreList = (g: GroupResult, envId: string) =>
    g.runs
      .filter((r) => r.envId === envId)
      .map((r) => `${Number.isFinite(r.seed) ? `s${r.seed}` : r.runId}:${compact(r.score)}${r.source === 'episodes' ? '*' : ''}`)
      .join(' ');
  for (const envId of result.envs) {
    const threshold = result.thresholds[envId];
    out.push('', `${envId}${threshold !== null && threshold !== undefined ? ` (reward threshold ${compact(threshold)})` : ''}`);
    const entries = result.groups.flatMap((g) => {
      const p = g.perEnv.find((e) => e.envId === envId);
      return p ? [{ name: g.name, stats: p as ScoreStats, scores: scoreList(g, envId) }] : [];
    });
    out.push(...statsRows(entries, threshold !== null && threshold !== undefined ? `gap to ${compact(threshold)}` : null, o.confidence).map((l) => `  ${l}`));
  }
  if (result.envs.length > 1) {
    const normalized = result.groups.some((g) => g.aggregate.normalized);
    out.push('', `Aggregate over ${result.envs.length} envs (${normalized ? "each env's returns divided by its reward threshold" : 'raw returns'}; IQM pools all runs, mean is the mean of per-env means)`);
    const entries = result.groups.map((g) => ({ name: g.name, stats: g.aggregate as ScoreStats, scores: `${g.aggregate.envs.length} envs` }));
    out.push(...statsRows(entries, normalized ? 'gap to 1' : null, o.confidence).map((l) => `  ${l}`));
  }
  if (result.pairs.length > 0) {
    out.push('', `Probability of improvement P(X > Y): how often a run of X beats a run of Y on the same env (ties count 1/2), averaged over envs, [${pct} CI]`);
    const rows = result.pairs.map((p) => {
      const v = p.probability;
      return [`P(${p.x} > ${p.y})`, `${v.value.toFixed(3)} [${v.lo.toFixed(3)}, ${v.hi.toFixed(3)}]`, result.envs.length > 1 ? `${p.envs.length} env${p.envs.length === 1 ? '' : 's'}` : ''];
    });
    out.push(...table(['pair', 'probability', ''], rows, [false, false, false]).map((l) => `  ${l}`));
  }
  if (result.notes.length > 0) {
    out.push('', 'Notes:');
    for (const n of result.notes) out.push(`  - ${n}`);
  }
  return out.join('\n');
}

/** One chart panel per env (per task and metric for GAN and AlphaZero-lite runs): each group's mean curve with its interval band. */
export function curvePanels(result: CompareResult): Panel[] {
  const o = result.options;
  const pct = `${Math.round(o.confidence * 1000) / 10}%`;
  if (result.kind !== undefined && result.kind !== 'rl') {
    return curveKeys(result).map(({ envId, metric, label }) => ({
      title: `${envId}: ${label ?? metric} vs iterations`,
      xLabel: 'iterations',
      yLabel: label ?? metric ?? '',
      xSi: true,
      note: `lines: mean over seeds; shaded: ${pct} bootstrap CI`,
      series: result.groups.flatMap((g) => {
        const c = g.curves.find((cv) => cv.envId === envId && cv.metric === metric);
        if (!c || c.points.length === 0) return [];
        return [{ name: `${g.name} (${c.runs} run${c.runs === 1 ? '' : 's'})`, color: g.color, points: c.points.map((p) => ({ x: p.step, y: p.mean, lo: p.lo, hi: p.hi })) }];
      }),
    }));
  }
  return result.envs.map((envId) => {
    const series = result.groups.flatMap((g) => {
      const c = g.curves.find((cv) => cv.envId === envId);
      if (!c || c.points.length === 0) return [];
      return [{ name: `${g.name} (${c.runs} run${c.runs === 1 ? '' : 's'})`, color: g.color, points: c.points.map((p) => ({ x: p.step, y: p.mean, lo: p.lo, hi: p.hi })) }];
    });
    const episodes = o.curve === 'episodes';
    return {
      title: episodes
        ? `${envId}: training episode return (moving average over ${(o.window ?? 0).toLocaleString('en-US')} env steps) vs env steps`
        : `${envId}: greedy evaluation return vs env steps`,
      xLabel: 'env steps',
      yLabel: episodes ? 'training episode return' : 'greedy evaluation return',
      xSi: true,
      note: `lines: mean over seeds; shaded: ${pct} bootstrap CI`,
      series,
    };
  });
}

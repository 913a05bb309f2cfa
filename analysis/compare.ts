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
 */
import fs from 'node:fs';
import path from 'node:path';
import type { EpisodeEvent, EvalEvent, TrainEvent } from '../protocol/events.js';
import { parseRunJson, readRunFile, readRunMetrics, RunDamage } from '../lab/run_files.js';
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
import type { CompareOptions, CompareResult, CurveStats, EnvStats, Estimate, GroupBy, GroupResult, PairResult, ScoreStats } from '../protocol/compare_types.js';

export type { CompareOptions, CompareResult, CurveStats, EnvStats, Estimate, GroupBy, GroupResult, PairResult, ScoreStats };

/** Training episodes averaged for the score of a run that has no evaluation. */
export const FALLBACK_EPISODES = 100;

export interface LoadedRun {
  dir: string;
  runId: string;
  envId: string;
  agent: string;
  preset: string | null;
  seed: number;
  hyperparameters: Record<string, unknown>;
  /** The env-step budget in config.json. */
  budget: number;
  /** The step of the last event in metrics.jsonl. */
  lastStep: number;
  score: number;
  /** 'eval': the last evaluation's mean return; 'episodes': the fallback, the last training episodes. */
  scoreSource: 'eval' | 'episodes';
  scoreStep: number;
  /** Episodes behind the score (evaluation episodes, or training episodes averaged). */
  scoreEpisodes: number;
  /** Evaluation curve: step → mean return (one point per step, the last one if a step repeats). */
  evals: CurvePoint[];
  /** Training episodes: step at the episode's end → return. */
  episodes: CurvePoint[];
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
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
export function loadRuns(dirs: readonly string[], label: (dir: string) => string = (d) => d): { runs: LoadedRun[]; leftOut: LeftOutRun[] } {
  const runs: LoadedRun[] = [];
  const leftOut: LeftOutRun[] = [];
  for (const dir of dirs) {
    try {
      runs.push(loadRunAs(dir, label(dir)));
    } catch (e) {
      const name = label(dir);
      const message = e instanceof Error ? e.message : String(e);
      const error = message.startsWith(`${name}: `) ? message.slice(name.length + 2) : message.startsWith(`${name} `) ? message.slice(name.length + 1) : message;
      leftOut.push({ runId: name, error, message: message.startsWith(name) ? message : `${name}: ${message}` });
    }
  }
  return { runs, leftOut };
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
        // A runs/ directory also holds GAN runs (lab gan train): they have no returns to compare.
        .filter((d) => !isGanRun(d))
        .sort();
      if (dirs.length === 0) throw new Error(`${p} is not a run directory (no config.json) and holds no RL run directories`);
    }
    for (const d of dirs) {
      if (seen.has(d)) throw new Error(`run directory ${d} is given more than once`);
      seen.add(d);
      out.push(d);
    }
  }
  return out;
}

/** Whether a run directory's config.json says it is a GAN run. */
function isGanRun(dir: string): boolean {
  try {
    return (JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8')) as { kind?: unknown }).kind === 'gan';
  } catch {
    return false; // loadRun reports the broken file
  }
}

/** Reads config.json and metrics.jsonl of one run directory and computes its score. */
export function loadRun(dir: string): LoadedRun {
  return loadRunAs(dir, dir);
}

/**
 * loadRun whose errors name the run by `label` and the file relative to the run directory, e.g. "<label>:
 * metrics.jsonl: line 3 is not valid JSON".
 */
export function loadRunAs(dir: string, label: string): LoadedRun {
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
  if (own('kind') === 'gan') throw new Error(`${label} is a GAN run: lab compare compares RL runs (judge a GAN with lab gan eval)`);
  if (own('kind') !== undefined) throw new Error(`${label} is not an RL run (config.json kind is ${JSON.stringify(own('kind'))})`);
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
  };
}


export function parseGroupBy(value: string): GroupBy {
  if (value === 'agent-preset' || value === 'agent' || value === 'preset' || value === 'env') return value;
  if (/^hyper:[A-Za-z_][\w.]*$/.test(value)) return value as GroupBy;
  throw new Error(`--group-by must be agent-preset, agent, preset, env or hyper:<name>, got '${value}'`);
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

/** Groups the runs, scores them and computes every estimate, interval and curve. */
export function compareRuns(runs: LoadedRun[], options: Partial<CompareOptions> = {}): CompareResult {
  const opts: CompareOptions = { ...DEFAULT_COMPARE_OPTIONS, ...options };
  if (!Number.isSafeInteger(opts.reps) || opts.reps < 1) throw new Error(`reps must be a positive integer, got ${opts.reps}`);
  if (!(opts.confidence > 0 && opts.confidence < 1)) throw new Error(`confidence must be between 0 and 1, got ${opts.confidence}`);
  if (runs.length < 2) throw new Error(`compare needs at least 2 runs, got ${runs.length}`);
  const notes: string[] = [];
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
    const k = groupKey(r, opts.groupBy);
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
      if (steps.length > 1) notes.push(`${name} on ${envId}: final scores come from different steps (${steps.sort((a, b) => a - b).map((s) => s.toLocaleString('en-US')).join(', ')})`);
      const short = rs.filter((r) => r.lastStep < r.budget);
      if (short.length > 0) notes.push(`${name} on ${envId}: ${short.map((r) => `${r.runId} stopped at step ${r.lastStep.toLocaleString('en-US')} of ${r.budget.toLocaleString('en-US')}`).join('; ')}`);
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
    const curves = groupEnvs.map((envId) => curveFor(members.filter((r) => r.envId === envId), envId, `${name}:${envId}:curve`, opts, window));
    for (const c of curves) if (c.runs === 0) notes.push(`${name} on ${c.envId}: no run has ${opts.curve === 'eval' ? 'evaluations' : 'episodes'}, so there is no learning curve`);
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
  for (let i = 0; i < groups.length; i++) {
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
  return { envs, groups, pairs, options: { ...opts, window }, thresholds, notes };
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
  out.push(`Final score of each run: the mean return of its last greedy evaluation. Intervals: ${pct} stratified-bootstrap percentile CIs (${o.reps.toLocaleString('en-US')} resamples, seed ${o.seed}).`);
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

/** One chart panel per env: each group's mean curve with its interval band. */
export function curvePanels(result: CompareResult): Panel[] {
  const o = result.options;
  const pct = `${Math.round(o.confidence * 1000) / 10}%`;
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

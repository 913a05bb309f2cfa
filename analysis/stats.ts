/**
 * Statistics for comparing RL agents over several seeds and tasks, following the recommendations of
 * Agarwal et al. (2021), "Deep Reinforcement Learning at the Edge of the Statistical Precipice" (NeurIPS),
 * and the definitions of their library rliable:
 *
 *  - scores are a ragged matrix `scores[m][i]`: the score of run i on task m (here a task is an env);
 *  - point estimates: the interquartile mean (IQM) over all runs of all tasks, the mean of the per-task
 *    means, the median of the per-task means, the optimality gap;
 *  - interval estimates: percentile confidence intervals from a stratified bootstrap, which resamples runs
 *    with replacement within each task independently (tasks are never mixed, never resampled);
 *  - the probability of improvement P(X > Y) between two algorithms, with ties counted one half.
 *
 * rliable needs the same number of runs on every task (a matrix); these functions accept a different count
 * per task, and reduce to rliable's definitions when the counts are equal.
 */
import seedrandom from 'seedrandom';

/** Uniform numbers in [0, 1). */
export type Rng = () => number;

/** scores[m][i]: score of run i on task m. */
export type TaskScores = readonly (readonly number[])[];

/**
 * A seeded generator (seedrandom's Alea, 53-bit doubles): the same seed gives the same bootstrap on every
 * machine. String seeds let callers derive independent streams, e.g. `${seed}:iqm:${group}`.
 */
export function makeRng(seed: number | string): Rng {
  const prng = seedrandom.alea(String(seed));
  return () => prng.double();
}

function assertNonEmpty(values: readonly number[], what: string): void {
  if (values.length === 0) throw new Error(`${what}: no values`);
  for (const v of values) if (!Number.isFinite(v)) throw new Error(`${what}: not a finite number: ${v}`);
}

export function mean(values: readonly number[]): number {
  assertNonEmpty(values, 'mean');
  let s = 0;
  for (const v of values) s += v;
  return s / values.length;
}

/** The middle value of the sorted values (the average of the two middle ones for an even count). */
export function median(values: readonly number[]): number {
  assertNonEmpty(values, 'median');
  const s = [...values].sort((a, b) => a - b);
  const h = s.length >> 1;
  return s.length % 2 === 1 ? s[h]! : (s[h - 1]! + s[h]!) / 2;
}

/**
 * scipy.stats.trim_mean(values, proportion): sort, cut k = ⌊proportion · n⌋ values from each end and average
 * the n − 2k that remain:
 *
 *   trim_mean(x, p) = 1/(n − 2k) · Σ_{i=k}^{n−k−1} x_(i),   k = ⌊p·n⌋,  x_(0) ≤ … ≤ x_(n−1)
 */
export function trimMean(values: readonly number[], proportion: number): number {
  assertNonEmpty(values, 'trimmed mean');
  if (!(proportion >= 0 && proportion < 0.5)) throw new Error(`trimmed mean: proportion must be in [0, 0.5), got ${proportion}`);
  const n = values.length;
  const k = Math.floor(proportion * n);
  const s = Float64Array.from(values).sort();
  let sum = 0;
  for (let i = k; i < n - k; i++) sum += s[i]!;
  return sum / (n - 2 * k);
}

/**
 * The interquartile mean: trim_mean(x, 0.25), the mean of the middle half (n = 4: the middle 2; n = 5: the
 * middle 3; n = 8: the middle 4; n ≤ 3: all of them).
 */
export function iqm(values: readonly number[]): number {
  return trimMean(values, 0.25);
}

function flatten(tasks: TaskScores): number[] {
  const out: number[] = [];
  for (const t of tasks) for (const v of t) out.push(v);
  return out;
}

function assertTasks(tasks: TaskScores, what: string): void {
  if (tasks.length === 0) throw new Error(`${what}: no tasks`);
  tasks.forEach((t, m) => assertNonEmpty(t, `${what}, task ${m}`));
}

/** rliable's aggregate_iqm: scipy.stats.trim_mean(scores, 0.25, axis=None), over all runs of all tasks pooled. */
export function aggregateIqm(tasks: TaskScores): number {
  assertTasks(tasks, 'IQM');
  return iqm(flatten(tasks));
}

/** rliable's aggregate_mean: the mean over tasks of the per-task mean scores, 1/M Σ_m (1/N_m Σ_i x_mi). */
export function aggregateMean(tasks: TaskScores): number {
  assertTasks(tasks, 'mean');
  return mean(tasks.map((t) => mean(t)));
}

/** rliable's aggregate_median: the median over tasks of the per-task mean scores (= the mean for one task). */
export function aggregateMedian(tasks: TaskScores): number {
  assertTasks(tasks, 'median');
  return median(tasks.map((t) => mean(t)));
}

/** The median of all run scores pooled (for one task: the median over seeds). */
export function pooledMedian(tasks: TaskScores): number {
  assertTasks(tasks, 'median');
  return median(flatten(tasks));
}

/**
 * rliable's aggregate_optimality_gap: how far the scores fall short of a target γ on average, scores above
 * γ counting as γ:  γ − mean_{m,i} min(x_mi, γ)  (pooled over all runs of all tasks).
 */
export function optimalityGap(tasks: TaskScores, gamma: number): number {
  assertTasks(tasks, 'optimality gap');
  return gamma - mean(flatten(tasks).map((v) => Math.min(v, gamma)));
}

/**
 * The q-quantile (0 ≤ q ≤ 1) by linear interpolation between order statistics, as numpy.percentile's
 * default ('linear', Hyndman & Fan type 7): h = (n − 1)·q, Q = x_(⌊h⌋) + (h − ⌊h⌋)·(x_(⌊h⌋+1) − x_(⌊h⌋)).
 * `sorted` must be in ascending order.
 */
export function quantileSorted(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) throw new Error('quantile: no values');
  if (!(q >= 0 && q <= 1)) throw new Error(`quantile: q must be in [0, 1], got ${q}`);
  const h = (n - 1) * q;
  const lo = Math.floor(h);
  if (lo >= n - 1) return sorted[n - 1]!;
  return sorted[lo]! + (h - lo) * (sorted[lo + 1]! - sorted[lo]!);
}

export interface Interval {
  lo: number;
  hi: number;
}

/**
 * The percentile interval of a bootstrap distribution: its (1 − c)/2 and (1 + c)/2 quantiles
 * (c = 0.95: the 2.5th and 97.5th percentiles), as rliable's get_interval_estimates(method='percentile').
 */
export function percentileInterval(distribution: ArrayLike<number>, confidence = 0.95): Interval {
  if (!(confidence > 0 && confidence < 1)) throw new Error(`confidence must be in (0, 1), got ${confidence}`);
  const sorted = Float64Array.from(distribution as ArrayLike<number>).sort();
  return { lo: quantileSorted(sorted, (1 - confidence) / 2), hi: quantileSorted(sorted, (1 + confidence) / 2) };
}

function checkReps(reps: number): void {
  if (!Number.isSafeInteger(reps) || reps < 1) throw new Error(`bootstrap: reps must be a positive integer, got ${reps}`);
}

/**
 * The stratified bootstrap distribution of `statistic`: in each of `reps` replications, every task m gets N_m
 * runs drawn uniformly with replacement from its own N_m runs (independently of the other tasks), and the
 * statistic is evaluated on that resampled score matrix. The arrays passed to `statistic` are reused between
 * replications: it must not keep them.
 */
export function stratifiedBootstrap(tasks: TaskScores, statistic: (sample: number[][]) => number, reps: number, rng: Rng): Float64Array {
  assertTasks(tasks, 'bootstrap');
  checkReps(reps);
  const sample = tasks.map((t) => new Array<number>(t.length).fill(0));
  const out = new Float64Array(reps);
  for (let r = 0; r < reps; r++) {
    for (let m = 0; m < tasks.length; m++) {
      const src = tasks[m]!;
      const dst = sample[m]!;
      const n = src.length;
      for (let i = 0; i < n; i++) dst[i] = src[Math.floor(rng() * n)]!;
    }
    out[r] = statistic(sample);
  }
  return out;
}

/** A point estimate with its stratified-bootstrap percentile interval. */
export function bootstrapInterval(tasks: TaskScores, statistic: (sample: TaskScores) => number, opts: { reps: number; rng: Rng; confidence?: number }): Interval {
  return percentileInterval(stratifiedBootstrap(tasks, statistic, opts.reps, opts.rng), opts.confidence ?? 0.95);
}

/**
 * The percentile interval of the mean of one set of values (a learning-curve band at one step): resample
 * the values with replacement, average, take the percentiles. One value gives a zero-width interval.
 */
export function bootstrapMeanInterval(values: readonly number[], opts: { reps: number; rng: Rng; confidence?: number }): Interval {
  assertNonEmpty(values, 'bootstrap mean');
  checkReps(opts.reps);
  const n = values.length;
  if (n === 1) return { lo: values[0]!, hi: values[0]! };
  const dist = new Float64Array(opts.reps);
  for (let r = 0; r < opts.reps; r++) {
    let s = 0;
    for (let i = 0; i < n; i++) s += values[Math.floor(opts.rng() * n)]!;
    dist[r] = s / n;
  }
  return percentileInterval(dist, opts.confidence ?? 0.95);
}

/**
 * rliable's probability of improvement of X over Y on tasks 1..M (the same tasks, in the same order):
 *
 *   P(X > Y) = 1/M Σ_m  1/(N_m K_m) Σ_i Σ_j S(x_mi, y_mj),   S(a, b) = 1 if a > b, 1/2 if a = b, 0 if a < b
 *
 * per task the Mann–Whitney U statistic of X against Y divided by N_m·K_m, then averaged over tasks.
 */
export function probabilityOfImprovement(x: TaskScores, y: TaskScores): number {
  assertTasks(x, 'probability of improvement (X)');
  assertTasks(y, 'probability of improvement (Y)');
  if (x.length !== y.length) throw new Error(`probability of improvement: X has ${x.length} tasks, Y has ${y.length}`);
  let total = 0;
  for (let m = 0; m < x.length; m++) {
    const xm = x[m]!;
    const ym = y[m]!;
    let u = 0;
    for (const a of xm) for (const b of ym) u += a > b ? 1 : a === b ? 0.5 : 0;
    total += u / (xm.length * ym.length);
  }
  return total / x.length;
}

/**
 * The bootstrap distribution of a statistic of two algorithms (rliable's StratifiedIndependentBootstrap):
 * X's and Y's runs are resampled independently of each other, each within its own tasks.
 */
export function stratifiedIndependentBootstrap(
  x: TaskScores,
  y: TaskScores,
  statistic: (sx: number[][], sy: number[][]) => number,
  reps: number,
  rng: Rng,
): Float64Array {
  assertTasks(x, 'bootstrap (X)');
  assertTasks(y, 'bootstrap (Y)');
  checkReps(reps);
  const sx = x.map((t) => new Array<number>(t.length).fill(0));
  const sy = y.map((t) => new Array<number>(t.length).fill(0));
  const fill = (src: TaskScores, dst: number[][]) => {
    for (let m = 0; m < src.length; m++) {
      const s = src[m]!;
      const d = dst[m]!;
      const n = s.length;
      for (let i = 0; i < n; i++) d[i] = s[Math.floor(rng() * n)]!;
    }
  };
  const out = new Float64Array(reps);
  for (let r = 0; r < reps; r++) {
    fill(x, sx);
    fill(y, sy);
    out[r] = statistic(sx, sy);
  }
  return out;
}

/** A curve sampled at increasing steps. */
export interface CurvePoint {
  step: number;
  value: number;
}

/**
 * The value of a piecewise-linear curve at `step`, or null outside [first step, last step] (no extrapolation):
 * between samples (s₀, v₀) and (s₁, v₁),  v(s) = v₀ + (s − s₀)/(s₁ − s₀) · (v₁ − v₀).
 * `curve` must be sorted by step with distinct steps.
 */
export function interpolateAt(curve: readonly CurvePoint[], step: number): number | null {
  const n = curve.length;
  if (n === 0 || step < curve[0]!.step || step > curve[n - 1]!.step) return null;
  let lo = 0;
  let hi = n - 1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (curve[mid]!.step <= step) lo = mid;
    else hi = mid;
  }
  const a = curve[lo]!;
  if (a.step === step || lo === hi) return a.value;
  const b = curve[hi]!;
  if (b.step === step) return b.value;
  return a.value + ((step - a.step) / (b.step - a.step)) * (b.value - a.value);
}

/** The sorted union of the steps of several curves. */
export function unionGrid(curves: readonly (readonly CurvePoint[])[]): number[] {
  const steps = new Set<number>();
  for (const c of curves) for (const p of c) steps.add(p.step);
  return [...steps].sort((a, b) => a - b);
}

/**
 * A moving average over a window of env steps: at `step`, the mean value of the samples with step in
 * (step − window, step]; when that window holds none, the last sample at or before `step`; null before the
 * first sample or after the last (no extrapolation). `samples` must be sorted by step.
 */
export function movingAverageAt(samples: readonly CurvePoint[], step: number, window: number): number | null {
  const n = samples.length;
  if (n === 0 || step < samples[0]!.step || step > samples[n - 1]!.step) return null;
  // last index with samples[i].step <= step
  let lo = 0;
  let hi = n - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (samples[mid]!.step <= step) lo = mid;
    else hi = mid - 1;
  }
  let sum = 0;
  let count = 0;
  for (let i = lo; i >= 0 && samples[i]!.step > step - window; i--) {
    sum += samples[i]!.value;
    count++;
  }
  return count > 0 ? sum / count : samples[lo]!.value;
}

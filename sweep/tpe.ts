/**
 * The Tree-structured Parzen Estimator (Bergstra et al. 2011, "Algorithms for Hyper-Parameter Optimization",
 * NeurIPS), with Optuna's TPESampler defaults (v4.9: independent univariate estimators, prior kernel of weight 1,
 * magic clip, no endpoints, 24 candidates, 10 startup trials, gamma(n) = min(⌈0.1·n⌉, 25), default weights).
 *
 * The finished trials (done or pruned; failed ones are ignored) are ranked by objective in the spec's direction;
 * the best gamma(n) complete trials are the good group, everything else (worse complete trials, complete trials
 * without an objective, and every pruned trial, which ranks after the complete ones) the bad group. Per
 * dimension, a Parzen estimator l(x) is fitted to the good group and g(x) to the bad one; 24 candidates are drawn
 * from l and the one maximising log l(x) − log g(x) (the expected improvement, by Bergstra et al.) is chosen.
 *
 * Estimators live in a dimension's own space: uniform as it is, loguniform in log(x), int on [low − ½, high + ½]
 * (in log space with log: true) with each integer's mass the kernel's mass over [n − ½, n + ½], choice as a
 * categorical with a smoothing prior. Kernels are Gaussians truncated to the range: one per observation (mean the
 * observation, width the larger distance to its sorted neighbours, the range's ends counted as neighbours, the
 * outermost observations measured inward only, clipped to [range/min(100, 1 + kernels), range]) and a prior
 * kernel (mean the middle, width the range).
 *
 * Everything random is drawn from a generator seeded by (samplerSeed, trial, dimension): the same visible
 * trials give the same suggestion on every machine and after every resume.
 */
import { makeRng, type Rng } from '../analysis/stats.js';
import type { ExperimentSpec, ParamValue, Params, SearchDimension, TrialRecord } from '../protocol/experiments.js';

/** Optuna's TPESampler defaults (v4.9). */
export const TPE_DEFAULTS = { startupTrials: 10, candidates: 24, priorWeight: 1 } as const;

/** Optuna's default_gamma: the size of the good group among n finished trials. */
export function tpeGamma(n: number): number {
  return Math.min(Math.ceil(0.1 * n), 25);
}

/** Optuna's default_weights: ones for fewer than 25 observations, else a ramp from 1/n to 1 over the oldest n − 25. */
export function tpeWeights(n: number): number[] {
  if (n === 0) return [];
  if (n < 25) return new Array<number>(n).fill(1);
  const ramp = n - 25;
  const out: number[] = [];
  for (let i = 0; i < ramp; i++) out.push(ramp === 1 ? 1 / n : 1 / n + ((1 - 1 / n) * i) / (ramp - 1));
  for (let i = 0; i < 25; i++) out.push(1);
  return out;
}

/** The good and the bad finished trials, each sorted by trial number (so the weights favour recent trials). */
export function splitTrials(visible: readonly TrialRecord[], direction: 'maximize' | 'minimize'): { good: TrialRecord[]; bad: TrialRecord[] } {
  const finished = visible.filter((r) => r.state === 'done' || r.state === 'pruned');
  const scored = finished.filter((r) => r.state === 'done' && r.objective !== null && Number.isFinite(r.objective));
  const sign = direction === 'maximize' ? -1 : 1;
  const ranked = [...scored].sort((a, b) => sign * (a.objective! - b.objective!) || a.trial - b.trial);
  const good = new Set(ranked.slice(0, Math.min(tpeGamma(finished.length), ranked.length)));
  const byTrial = (a: TrialRecord, b: TrialRecord) => a.trial - b.trial;
  return { good: finished.filter((r) => good.has(r)).sort(byTrial), bad: finished.filter((r) => !good.has(r)).sort(byTrial) };
}

/**
 * TPE's suggestion for trial k from the finished trials it may see; null while fewer than 10 of them are done or
 * pruned (the caller then samples at random, as Optuna's startup trials do).
 */
export function tpeParams(spec: ExperimentSpec, trial: number, visible: readonly TrialRecord[]): Params | null {
  const finished = visible.filter((r) => r.state === 'done' || r.state === 'pruned');
  if (finished.length < TPE_DEFAULTS.startupTrials) return null;
  const { good, bad } = splitTrials(visible, spec.objective.direction);
  const out: Params = {};
  for (const [key, dim] of Object.entries(spec.search)) {
    out[key] = suggestDimension(dim, key, good, bad, makeRng(`tpe:${spec.samplerSeed}:${trial}:${key}`));
  }
  return out;
}

/** The candidate of l's 24 draws with the largest log l − log g, for one dimension. */
export function suggestDimension(dim: SearchDimension, key: string, good: readonly TrialRecord[], bad: readonly TrialRecord[], rng: Rng): ParamValue {
  const observed = (group: readonly TrialRecord[]) => group.map((r) => (Object.hasOwn(r.params, key) ? r.params[key] : undefined));
  if ('choice' in dim) {
    if (dim.choice.length === 1) return dim.choice[0]!;
    const l = categoricalEstimator(dim.choice, observed(good));
    const g = categoricalEstimator(dim.choice, observed(bad));
    let best = -1;
    let bestScore = -Infinity;
    for (let i = 0; i < TPE_DEFAULTS.candidates; i++) {
      const c = sampleCategorical(l, rng);
      const score = Math.log(l[c]!) - Math.log(g[c]!);
      if (score > bestScore || best < 0) [best, bestScore] = [c, score];
    }
    return dim.choice[best]!;
  }
  const space = numericSpace(dim);
  if (space.low === space.high) return space.fromSpace(space.low);
  const l = numericEstimator(space, observed(good));
  const g = numericEstimator(space, observed(bad));
  let best = space.low;
  let bestScore = -Infinity;
  let first = true;
  for (let i = 0; i < TPE_DEFAULTS.candidates; i++) {
    const y = sampleNumeric(l, rng);
    const score = logDensity(l, space, y) - logDensity(g, space, y);
    if (first || score > bestScore) [best, bestScore, first] = [y, score, false];
  }
  return space.fromSpace(best);
}

// ---------------------------------------------------------------------------------------------------------------
// Numeric dimensions

/** A numeric dimension in the space its estimator lives in. */
export interface NumericSpace {
  /** Bounds in the estimator's space (ints: widened by ½ on both sides before the transform). */
  low: number;
  high: number;
  /** Integers: mass over [n − ½, n + ½] instead of a density. */
  integer: boolean;
  log: boolean;
  /** A parameter value into the space; null when it is not a value of this dimension. */
  toSpace(value: ParamValue | undefined): number | null;
  /** A point of the space back to a parameter value (integers rounded, everything clamped to the range). */
  fromSpace(y: number): number;
}

export function numericSpace(dim: Exclude<SearchDimension, { choice: readonly ParamValue[] }>): NumericSpace {
  const [lo, hi, integer, log] =
    'uniform' in dim ? [dim.uniform[0], dim.uniform[1], false, false] : 'loguniform' in dim ? [dim.loguniform[0], dim.loguniform[1], false, true] : [dim.int[0], dim.int[1], true, dim.log ?? false];
  const t = (x: number) => (log ? Math.log(x) : x);
  const inv = (y: number) => (log ? Math.exp(y) : y);
  const clamp = (x: number) => Math.min(hi, Math.max(lo, x));
  return {
    low: integer ? t(lo - 0.5) : t(lo),
    high: integer ? t(hi + 0.5) : t(hi),
    integer,
    log,
    toSpace(value) {
      if (typeof value !== 'number' || !Number.isFinite(value) || value < lo || value > hi || (integer && !Number.isInteger(value))) return null;
      return t(value);
    },
    fromSpace(y) {
      if (lo === hi) return lo;
      const x = clamp(inv(y));
      return integer ? clamp(Math.round(x)) : x;
    },
  };
}

/** A mixture of Gaussians truncated to [low, high]: normalised weights, means, widths. */
export interface NumericEstimator {
  weights: number[];
  mus: number[];
  sigmas: number[];
  low: number;
  high: number;
}

/** The Parzen estimator of some observations (undefined or out-of-range ones left out) plus the prior kernel. */
export function numericEstimator(space: NumericSpace, values: readonly (ParamValue | undefined)[]): NumericEstimator {
  const obs = values.map((v) => space.toSpace(v)).filter((y): y is number => y !== null);
  const { low, high } = space;
  const range = high - low;
  const n = obs.length;
  const sigmas = new Array<number>(n).fill(0);
  if (n > 0) {
    const order = obs.map((_, i) => i).sort((a, b) => obs[a]! - obs[b]!);
    const sorted = order.map((i) => obs[i]!);
    const withEnds = [low, ...sorted, high];
    const sortedSigmas = sorted.map((_, i) => Math.max(withEnds[i + 1]! - withEnds[i]!, withEnds[i + 2]! - withEnds[i + 1]!));
    if (n >= 2) {
      // consider_endpoints False: the outermost observations are measured to their inner neighbour only
      sortedSigmas[0] = sorted[1]! - sorted[0]!;
      sortedSigmas[n - 1] = sorted[n - 1]! - sorted[n - 2]!;
    }
    order.forEach((i, rank) => (sigmas[i] = sortedSigmas[rank]!));
  }
  // magic clip: no kernel narrower than the range over min(100, 1 + kernels), none wider than the range
  const minSigma = range / Math.min(100, 1 + (n + 1));
  const clipped = sigmas.map((s) => Math.min(range, Math.max(minSigma, s)));
  const raw = [...tpeWeights(n), TPE_DEFAULTS.priorWeight];
  const total = raw.reduce((a, b) => a + b, 0);
  return { weights: raw.map((w) => w / total), mus: [...obs, (low + high) / 2], sigmas: [...clipped, range], low, high };
}

/** One draw: a kernel by weight, then its truncated Gaussian by inverting its CDF. */
export function sampleNumeric(est: NumericEstimator, rng: Rng): number {
  const k = pickIndex(est.weights, rng());
  const mu = est.mus[k]!;
  const sigma = est.sigmas[k]!;
  const z = truncatedNormalQuantile((est.low - mu) / sigma, (est.high - mu) / sigma, rng());
  return Math.min(est.high, Math.max(est.low, mu + sigma * z));
}

/** log of the estimator's density at y (continuous) or of its mass over the integer cell around y (integers). */
export function logDensity(est: NumericEstimator, space: NumericSpace, y: number): number {
  const terms: number[] = [];
  let cellLow = 0;
  let cellHigh = 0;
  if (space.integer) {
    const n = space.fromSpace(y);
    cellLow = Math.max(est.low, space.log ? Math.log(n - 0.5) : n - 0.5);
    cellHigh = Math.min(est.high, space.log ? Math.log(n + 0.5) : n + 0.5);
  }
  for (let k = 0; k < est.mus.length; k++) {
    const mu = est.mus[k]!;
    const sigma = est.sigmas[k]!;
    const logZ = logNormalMass((est.low - mu) / sigma, (est.high - mu) / sigma);
    const logP = space.integer
      ? logNormalMass((cellLow - mu) / sigma, (cellHigh - mu) / sigma)
      : -0.5 * ((y - mu) / sigma) ** 2 - LOG_SQRT_2PI - Math.log(sigma);
    terms.push(Math.log(est.weights[k]!) + logP - logZ);
  }
  return logSumExp(terms);
}

// ---------------------------------------------------------------------------------------------------------------
// Categorical dimensions

/**
 * The categorical Parzen estimator: each observation's kernel puts 1 + w on its category and w on every one
 * (w = prior weight / (observations + 1)), normalised; the prior kernel is uniform; kernels weighted as above.
 * Returns the mixture's probability per choice.
 */
export function categoricalEstimator(choices: readonly ParamValue[], values: readonly (ParamValue | undefined)[]): number[] {
  const obs = values.map((v) => (v === undefined ? -1 : choices.indexOf(v))).filter((i) => i >= 0);
  const n = obs.length;
  const c = choices.length;
  const w0 = TPE_DEFAULTS.priorWeight / (n + 1);
  const raw = [...tpeWeights(n), TPE_DEFAULTS.priorWeight];
  const total = raw.reduce((a, b) => a + b, 0);
  const probs = new Array<number>(c).fill((raw[n]! / total) * (1 / c));
  obs.forEach((idx, i) => {
    const weight = raw[i]! / total;
    for (let j = 0; j < c; j++) probs[j]! += (weight * ((j === idx ? 1 : 0) + w0)) / (1 + c * w0);
  });
  return probs;
}

function sampleCategorical(probs: readonly number[], rng: Rng): number {
  return pickIndex(probs, rng());
}

function pickIndex(weights: readonly number[], u: number): number {
  let acc = 0;
  const total = weights.reduce((a, b) => a + b, 0);
  for (let i = 0; i < weights.length; i++) {
    acc += weights[i]! / total;
    if (u < acc) return i;
  }
  return weights.length - 1;
}

// ---------------------------------------------------------------------------------------------------------------
// The standard normal distribution

const LOG_SQRT_2PI = 0.5 * Math.log(2 * Math.PI);

function logSumExp(xs: readonly number[]): number {
  const m = Math.max(...xs);
  if (m === -Infinity) return -Infinity;
  let s = 0;
  for (const x of xs) s += Math.exp(x - m);
  return m + Math.log(s);
}

/**
 * log erfc(x) for x ≥ 0, from the Chebyshev-fitted form erfc(x) ≈ t·exp(−x² + P(t)), t = 1/(1 + x/2), relative
 * error below 1.2e-7 everywhere (Press et al., Numerical Recipes, erfcc). Working in the log keeps far tails
 * (x ≈ 70, where erfc underflows) exact enough to compare densities.
 */
function logErfcNonNegative(x: number): number {
  const t = 1 / (1 + 0.5 * x);
  const p =
    -1.26551223 +
    t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))))))));
  return Math.log(t) - x * x + p;
}

/** log Q(z) = log P(Z > z) for z ≥ 0. */
function logUpperTail(z: number): number {
  return Math.log(0.5) + logErfcNonNegative(z / Math.SQRT2);
}

/** Φ(z), the standard normal CDF. */
export function normalCdf(z: number): number {
  if (z === Infinity) return 1;
  if (z === -Infinity) return 0;
  return z >= 0 ? 1 - Math.exp(logUpperTail(z)) : Math.exp(logUpperTail(-z));
}

/** log(Φ(b) − Φ(a)) for a ≤ b, accurate in both tails. */
export function logNormalMass(a: number, b: number): number {
  if (!(b > a)) return -Infinity;
  if (a >= 0) {
    const la = logUpperTail(a);
    const lb = b === Infinity ? -Infinity : logUpperTail(b);
    return la + Math.log1p(-Math.exp(lb - la));
  }
  if (b <= 0) return logNormalMass(-b, -a);
  const left = a === -Infinity ? 0 : Math.exp(logUpperTail(-a));
  const right = b === Infinity ? 0 : Math.exp(logUpperTail(b));
  return Math.log1p(-(left + right));
}

/** log Φ(z). */
export function logNormalCdf(z: number): number {
  if (z === Infinity) return 0;
  if (z === -Infinity) return -Infinity;
  return z >= 0 ? Math.log1p(-Math.exp(logUpperTail(z))) : logUpperTail(-z);
}

const ACKLAM_A = [-3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.38357751867269e2, -3.066479806614716e1, 2.506628277459239];
const ACKLAM_B = [-5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1];
const ACKLAM_C = [-7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
const ACKLAM_D = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];
const ACKLAM_P_LOW = 0.02425;

/** Acklam's lower-tail form, from log p (so that p may be far below the smallest double). */
function lowerTailQuantile(logP: number): number {
  const c = ACKLAM_C;
  const d = ACKLAM_D;
  const r = Math.sqrt(-2 * logP);
  return (((((c[0]! * r + c[1]!) * r + c[2]!) * r + c[3]!) * r + c[4]!) * r + c[5]!) / ((((d[0]! * r + d[1]!) * r + d[2]!) * r + d[3]!) * r + 1);
}

/**
 * Φ⁻¹(p) for 0 < p < 1: Acklam's rational approximation (relative error below 1.15e-9), its lower-tail form for
 * p < 0.02425 and by symmetry for p > 1 − 0.02425.
 */
export function normalQuantile(p: number): number {
  if (p <= 0) return -Infinity;
  if (p >= 1) return Infinity;
  if (p < ACKLAM_P_LOW) return lowerTailQuantile(Math.log(p));
  if (p > 1 - ACKLAM_P_LOW) return -lowerTailQuantile(Math.log1p(-p));
  const a = ACKLAM_A;
  const b = ACKLAM_B;
  const q = p - 0.5;
  const r = q * q;
  return ((((((a[0]! * r + a[1]!) * r + a[2]!) * r + a[3]!) * r + a[4]!) * r + a[5]!) * q) / (((((b[0]! * r + b[1]!) * r + b[2]!) * r + b[3]!) * r + b[4]!) * r + 1);
}

/** Φ⁻¹ of exp(logP): in the far lower tail from log p, refined by Newton steps on log Φ (the approximation is fitted for p ≥ 1e-300). */
export function normalQuantileFromLog(logP: number): number {
  if (logP >= Math.log(ACKLAM_P_LOW)) return normalQuantile(Math.exp(logP));
  let z = lowerTailQuantile(logP);
  if (logP < -600) {
    for (let i = 0; i < 3; i++) {
      const lc = logNormalCdf(z);
      // d/dz log Φ(z) = φ(z)/Φ(z)
      z -= (lc - logP) / Math.exp(-0.5 * z * z - LOG_SQRT_2PI - lc);
    }
  }
  return z;
}

/**
 * The u-quantile (0 ≤ u ≤ 1) of a standard normal truncated to [a, b], computed from log Φ so that ranges deep in
 * a tail keep their precision (a range in the upper tail is mirrored into the lower one).
 */
export function truncatedNormalQuantile(a: number, b: number, u: number): number {
  if (!(b > a)) return a;
  if (a >= 0) return -truncatedNormalQuantile(-b, -a, 1 - u);
  const la = logNormalCdf(a);
  const lb = logNormalCdf(b);
  // log(Φ(a) + u·(Φ(b) − Φ(a))) = log((1 − u)·Φ(a) + u·Φ(b))
  const terms = [u < 1 ? la + Math.log1p(-u) : -Infinity, u > 0 ? lb + Math.log(u) : -Infinity];
  return Math.min(b, Math.max(a, normalQuantileFromLog(logSumExp(terms))));
}

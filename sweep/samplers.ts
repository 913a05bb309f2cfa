/**
 * The samplers: trial k's hyperparameters as a pure function of the spec, k and the finished trials k may see.
 *
 * Every draw comes from a generator seeded by (samplerSeed, trial, dimension): never Math.random, the clock or
 * the number of workers. So a sweep resumed from its table, or run on other machines, suggests the same points.
 *  - random: each dimension drawn independently of the history;
 *  - grid: the cartesian product of the dimensions' points in a fixed order, shuffled once by samplerSeed;
 *    trial k is point k;
 *  - tpe: sweep/tpe.ts, random (the same draws as `random`) until enough trials have finished.
 */
import { makeRng, type Rng } from '../analysis/stats.js';
import type { ExperimentSpec, ParamValue, Params, SearchDimension, TrialRecord } from '../protocol/experiments.js';
import { MAX_GRID_SIZE } from './spec.js';
import { tpeParams } from './tpe.js';

/** Trial k's hyperparameters (keys in the spec's search order). Deterministic. */
export function suggest(spec: ExperimentSpec, trial: number, visible: readonly TrialRecord[]): Params {
  if (!Number.isSafeInteger(trial) || trial < 0) throw new Error(`trial must be an integer ≥ 0, got ${trial}`);
  if (spec.sampler === 'grid') return gridPoint(spec, trial);
  if (spec.sampler === 'tpe') return tpeParams(spec, trial, visible) ?? randomParams(spec, trial);
  return randomParams(spec, trial);
}

/** The finished trials trial k may see: records of trials < k − spec.parallelTrials, sorted by trial (one each). */
export function visibleTrials(spec: ExperimentSpec, trial: number, records: readonly TrialRecord[]): TrialRecord[] {
  const limit = trial - spec.parallelTrials;
  const byTrial = new Map<number, TrialRecord>();
  // The table is append-only: should a trial ever appear twice, its first record is the one that counted.
  for (const r of records) if (r.trial < limit && !byTrial.has(r.trial)) byTrial.set(r.trial, r);
  return [...byTrial.values()].sort((a, b) => a.trial - b.trial);
}

/** The trial budget: spec.trials, for grid at most the grid's size (the grid's size with a time budget only); null = unbounded. */
export function trialBudget(spec: ExperimentSpec): number | null {
  if (spec.sampler === 'grid') return Math.min(spec.trials ?? Infinity, gridSize(spec));
  return spec.trials;
}

// ---------------------------------------------------------------------------------------------------------------
// Random

/** The generator of one trial's draws for one dimension (independent of the other dimensions and of their order). */
export function dimensionRng(kind: string, samplerSeed: number, trial: number, key: string): Rng {
  return makeRng(`${kind}:${samplerSeed}:${trial}:${key}`);
}

/** One uniform draw from a dimension: choices equally likely, log scales uniform in the log, integers exact. */
export function drawUniform(dim: SearchDimension, rng: Rng): ParamValue {
  const u = rng();
  if ('choice' in dim) return dim.choice[Math.min(dim.choice.length - 1, Math.floor(u * dim.choice.length))]!;
  if ('uniform' in dim) {
    const [low, high] = dim.uniform;
    return Math.min(high, low + u * (high - low));
  }
  if ('loguniform' in dim) {
    const [low, high] = dim.loguniform;
    return clamp(Math.exp(Math.log(low) + u * (Math.log(high) - Math.log(low))), low, high);
  }
  const [low, high] = dim.int;
  if (dim.log) {
    // Each integer n gets the log-width of [n − ½, n + ½]: log-uniform over the integers.
    const a = Math.log(low - 0.5);
    const b = Math.log(high + 0.5);
    return clamp(Math.round(Math.exp(a + u * (b - a))), low, high);
  }
  return Math.min(high, low + Math.floor(u * (high - low + 1)));
}

/** The random sampler's trial k. */
export function randomParams(spec: ExperimentSpec, trial: number): Params {
  const out: Params = {};
  for (const [key, dim] of Object.entries(spec.search)) out[key] = drawUniform(dim, dimensionRng('random', spec.samplerSeed, trial, key));
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Grid

/** A dimension's grid points: the choices; n evenly spaced (log-spaced) points; every integer without `grid`. */
export function dimensionGrid(dim: SearchDimension): ParamValue[] {
  if ('choice' in dim) return [...dim.choice];
  const spaced = (low: number, high: number, n: number, log: boolean): number[] => {
    const a = log ? Math.log(low) : low;
    const b = log ? Math.log(high) : high;
    if (n === 1 || a === b) return [log ? Math.exp((a + b) / 2) : (a + b) / 2];
    return Array.from({ length: n }, (_, i) => {
      const x = i === n - 1 ? b : a + (i * (b - a)) / (n - 1);
      return log ? clamp(Math.exp(x), low, high) : x;
    });
  };
  if ('uniform' in dim) return spaced(dim.uniform[0], dim.uniform[1], dim.grid ?? 1, false);
  if ('loguniform' in dim) {
    const points = spaced(dim.loguniform[0], dim.loguniform[1], dim.grid ?? 1, true);
    // the ends exactly as written (exp(log(x)) can differ in the last bit)
    if (points.length > 1) [points[0], points[points.length - 1]] = [dim.loguniform[0], dim.loguniform[1]];
    return points;
  }
  const [low, high] = dim.int;
  if (dim.grid === undefined) return Array.from({ length: high - low + 1 }, (_, i) => low + i);
  return [...new Set(spaced(low, high, dim.grid, dim.log ?? false).map((x) => clamp(Math.round(x), low, high)))];
}

interface Grid {
  keys: string[];
  points: ParamValue[][];
  order: Int32Array;
}

const gridCache = new Map<string, Grid>();

function grid(spec: ExperimentSpec): Grid {
  const cacheKey = JSON.stringify([spec.samplerSeed, spec.search]);
  const cached = gridCache.get(cacheKey);
  if (cached) return cached;
  // A fixed order independent of how the spec lists its keys; the point's keys follow the spec's order.
  const keys = Object.keys(spec.search).sort();
  const points = keys.map((k) => dimensionGrid(spec.search[k]!));
  const size = points.reduce((n, p) => n * p.length, 1);
  if (size > MAX_GRID_SIZE) throw new Error(`the grid has ${size} points, more than ${MAX_GRID_SIZE}`);
  const order = new Int32Array(size);
  for (let i = 0; i < size; i++) order[i] = i;
  const rng = makeRng(`grid:${spec.samplerSeed}`);
  for (let i = size - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    const t = order[i]!;
    order[i] = order[j]!;
    order[j] = t;
  }
  const g = { keys, points, order };
  if (gridCache.size >= 8) gridCache.delete(gridCache.keys().next().value!);
  gridCache.set(cacheKey, g);
  return g;
}

/** The number of points in the spec's grid. */
export function gridSize(spec: ExperimentSpec): number {
  return Object.values(spec.search).reduce((n, dim) => n * dimensionGrid(dim).length, 1);
}

/** The grid sampler's trial k: point k of the shuffled product. */
export function gridPoint(spec: ExperimentSpec, trial: number): Params {
  const g = grid(spec);
  if (trial >= g.order.length) throw new Error(`trial ${trial} is past the end of the grid (${g.order.length} points)`);
  let index = g.order[trial]!;
  const chosen = new Map<string, ParamValue>();
  for (let d = g.keys.length - 1; d >= 0; d--) {
    const values = g.points[d]!;
    chosen.set(g.keys[d]!, values[index % values.length]!);
    index = Math.floor(index / values.length);
  }
  const out: Params = {};
  for (const key of Object.keys(spec.search)) out[key] = chosen.get(key)!;
  return out;
}

function clamp(x: number, low: number, high: number): number {
  return Math.min(high, Math.max(low, x));
}

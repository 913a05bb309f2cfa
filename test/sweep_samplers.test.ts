/**
 * The samplers (sweep/samplers.ts, sweep/tpe.ts): determinism, random search's independence of history, the grid
 * covering its product exactly once, which trials a trial may see, and TPE against random search on objectives
 * with known answers (a 2-D quadratic and Branin, minimum 0.397887).
 */
import { describe, expect, it } from 'vitest';
import { makeRng, median } from '../analysis/stats.js';
import type { ExperimentSpec, Params, SearchDimension, TrialRecord } from '../protocol/experiments.js';
import { dimensionGrid, gridSize, randomParams, suggest, trialBudget, visibleTrials } from '../sweep/samplers.js';
import {
  categoricalEstimator,
  logDensity,
  logNormalMass,
  normalCdf,
  normalQuantile,
  numericEstimator,
  numericSpace,
  sampleNumeric,
  splitTrials,
  tpeGamma,
  tpeParams,
  tpeWeights,
  truncatedNormalQuantile,
} from '../sweep/tpe.js';

/** A spec for the samplers alone (they read only search, sampler, samplerSeed, trials, objective, parallelTrials). */
function specOf(search: Record<string, SearchDimension>, options: Partial<ExperimentSpec> = {}): ExperimentSpec {
  return {
    name: 'synthetic',
    run: { kind: 'rl', env: 'CartPole-v1', agent: 'a2c', steps: 1000 },
    seeds: [0],
    search,
    sampler: 'random',
    samplerSeed: 0,
    trials: 60,
    timeLimitSeconds: null,
    objective: { metric: 'eval', reduce: 'iqm-last', direction: 'minimize' },
    pruner: { type: 'none' },
    parallelTrials: 0,
    ...options,
  };
}

function record(trial: number, params: Params, objective: number | null, state: TrialRecord['state'] = 'done'): TrialRecord {
  return { trial, params, state, objective, interval: null, seeds: [], curve: [], startedAt: '2026-01-01T00:00:00.000Z', endedAt: '2026-01-01T00:00:01.000Z' };
}

/** Runs a whole search as the coordinator would (trial k sees visibleTrials), returning the table. */
function search(spec: ExperimentSpec, trials: number, f: (p: Params) => number): TrialRecord[] {
  const records: TrialRecord[] = [];
  for (let k = 0; k < trials; k++) {
    const params = suggest(spec, k, visibleTrials(spec, k, records));
    records.push(record(k, params, f(params)));
  }
  return records;
}

const best = (records: readonly TrialRecord[]) => Math.min(...records.map((r) => r.objective!));

/** Branin-Hoo on x1 ∈ [−5, 10], x2 ∈ [0, 15]; global minimum 10/(8π) = 0.397887 at three points. */
function branin(x1: number, x2: number): number {
  const b = 5.1 / (4 * Math.PI ** 2);
  const c = 5 / Math.PI;
  const t = 1 / (8 * Math.PI);
  return (x2 - b * x1 * x1 + c * x1 - 6) ** 2 + 10 * (1 - t) * Math.cos(x1) + 10;
}

const quadratic = (p: Params) => ((p.x as number) - 0.3) ** 2 + ((p.y as number) + 1.2) ** 2;
const QUADRATIC_SPACE: Record<string, SearchDimension> = { x: { uniform: [-5, 5] }, y: { uniform: [-5, 5] } };
const BRANIN_SPACE: Record<string, SearchDimension> = { x1: { uniform: [-5, 10] }, x2: { uniform: [0, 15] } };
const braninOf = (p: Params) => branin(p.x1 as number, p.x2 as number);

describe('the random sampler', () => {
  const spec = specOf(
    { lr: { loguniform: [1e-4, 1e-1] }, n: { int: [2, 9] }, width: { int: [1, 256], log: true }, act: { choice: ['tanh', 'relu', 'elu'] }, g: { uniform: [0.9, 0.99] } },
    { samplerSeed: 7 },
  );

  it('is deterministic and independent of the history', () => {
    const table = [record(0, { lr: 0.01, n: 3, width: 4, act: 'tanh', g: 0.95 }, 1), record(1, { lr: 0.02, n: 5, width: 8, act: 'elu', g: 0.91 }, 2)];
    for (let k = 0; k < 20; k++) {
      const p = suggest(spec, k, []);
      expect(suggest(spec, k, [])).toEqual(p);
      expect(suggest(spec, k, table)).toEqual(p);
      expect(Object.keys(p)).toEqual(['lr', 'n', 'width', 'act', 'g']);
    }
    // another samplerSeed, other points; the same seed with the dimensions listed in another order, the same values
    expect(suggest({ ...spec, samplerSeed: 8 }, 0, [])).not.toEqual(suggest(spec, 0, []));
    const reordered = { ...spec, search: Object.fromEntries(Object.entries(spec.search).reverse()) };
    expect(suggest(reordered, 3, [])).toEqual(suggest(spec, 3, []));
  });

  it('draws every dimension over its whole range with the right distribution', () => {
    const draws = Array.from({ length: 4000 }, (_, k) => randomParams(spec, k));
    const lr = draws.map((p) => p.lr as number);
    expect(Math.min(...lr)).toBeGreaterThanOrEqual(1e-4);
    expect(Math.max(...lr)).toBeLessThanOrEqual(1e-1);
    // log-uniform: a third of the draws in each decade
    for (const [lo, hi] of [[1e-4, 1e-3], [1e-3, 1e-2], [1e-2, 1e-1]] as const) {
      const share = lr.filter((x) => x >= lo && x < hi).length / lr.length;
      expect(share).toBeGreaterThan(0.3);
      expect(share).toBeLessThan(0.37);
    }
    const n = draws.map((p) => p.n as number);
    expect(new Set(n)).toEqual(new Set([2, 3, 4, 5, 6, 7, 8, 9]));
    for (let v = 2; v <= 9; v++) expect(n.filter((x) => x === v).length / n.length).toBeCloseTo(1 / 8, 1);
    const width = draws.map((p) => p.width as number);
    expect(width.every((w) => Number.isInteger(w) && w >= 1 && w <= 256)).toBe(true);
    // log-uniform integers: as many in [1, 16] as in [16, 256]
    expect(width.filter((w) => w <= 16).length / width.length).toBeGreaterThan(0.45);
    expect(new Set(draws.map((p) => p.act))).toEqual(new Set(['tanh', 'relu', 'elu']));
    const g = draws.map((p) => p.g as number);
    expect(median(g)).toBeCloseTo(0.945, 2);
  });

  it('has the spec trials as its budget (null: time only)', () => {
    expect(trialBudget(spec)).toBe(60);
    expect(trialBudget({ ...spec, trials: null, timeLimitSeconds: 60 })).toBeNull();
  });
});

describe('the grid sampler', () => {
  const search: Record<string, SearchDimension> = {
    lr: { loguniform: [1e-4, 1e-2], grid: 3 },
    act: { choice: ['tanh', 'relu'] },
    n: { int: [4, 32], log: true, grid: 4 },
    clip: { uniform: [0.1, 0.3], grid: 2 },
  };
  const spec = specOf(search, { sampler: 'grid', samplerSeed: 3, trials: 100 });

  it("spaces each dimension's points", () => {
    expect(dimensionGrid(search.lr!)).toEqual([1e-4, expect.closeTo(1e-3, 15), 1e-2]);
    expect(dimensionGrid(search.n!)).toEqual([4, 8, 16, 32]);
    expect(dimensionGrid(search.clip!)).toEqual([0.1, 0.3]);
    expect(dimensionGrid({ int: [1, 5] })).toEqual([1, 2, 3, 4, 5]);
    expect(dimensionGrid({ uniform: [0, 1], grid: 5 })).toEqual([0, 0.25, 0.5, 0.75, 1]);
    expect(dimensionGrid({ uniform: [2, 4], grid: 1 })).toEqual([3]);
  });

  it('covers the product exactly once, in an order shuffled by samplerSeed', () => {
    expect(gridSize(spec)).toBe(3 * 2 * 4 * 2);
    expect(trialBudget(spec)).toBe(48);
    expect(trialBudget({ ...spec, trials: 10 })).toBe(10);
    expect(trialBudget({ ...spec, trials: null, timeLimitSeconds: 600 })).toBe(48);
    const points = Array.from({ length: 48 }, (_, k) => suggest(spec, k, []));
    const keys = points.map((p) => JSON.stringify([p.lr, p.act, p.n, p.clip]));
    expect(new Set(keys).size).toBe(48);
    const expected = new Set<string>();
    for (const lr of dimensionGrid(search.lr!)) for (const act of ['tanh', 'relu']) for (const n of [4, 8, 16, 32]) for (const clip of [0.1, 0.3]) expected.add(JSON.stringify([lr, act, n, clip]));
    expect(new Set(keys)).toEqual(expected);
    expect(Object.keys(points[0]!)).toEqual(['lr', 'act', 'n', 'clip']);
    // deterministic, independent of history; another seed, another order of the same points
    expect(suggest(spec, 5, [record(0, points[0]!, 1)])).toEqual(points[5]);
    const other = Array.from({ length: 48 }, (_, k) => JSON.stringify(Object.values(suggest({ ...spec, samplerSeed: 4 }, k, []))));
    expect(other).not.toEqual(points.map((p) => JSON.stringify(Object.values(p))));
    expect(new Set(other).size).toBe(48);
    expect(() => suggest(spec, 48, [])).toThrow('trial 48 is past the end of the grid (48 points)');
  });
});

describe('visible trials', () => {
  const records = [5, 0, 3, 1, 2, 4].map((t) => record(t, { x: t }, t));
  it('are the finished trials before k − parallelTrials, sorted by trial', () => {
    const spec = specOf(QUADRATIC_SPACE, { parallelTrials: 2 });
    expect(visibleTrials(spec, 5, records).map((r) => r.trial)).toEqual([0, 1, 2]);
    expect(visibleTrials(spec, 2, records)).toEqual([]);
    expect(visibleTrials({ ...spec, parallelTrials: 0 }, 4, records).map((r) => r.trial)).toEqual([0, 1, 2, 3]);
    expect(visibleTrials({ ...spec, parallelTrials: 4 }, 10, records).map((r) => r.trial)).toEqual([0, 1, 2, 3, 4, 5]);
  });
  it('count a trial recorded twice once (its first record)', () => {
    const spec = specOf(QUADRATIC_SPACE, { parallelTrials: 0 });
    const twice = [...records, record(1, { x: 99 }, 99)];
    expect(visibleTrials(spec, 3, twice).map((r) => r.params.x)).toEqual([0, 1, 2]);
  });
});

describe('TPE', () => {
  it("follows Optuna's gamma and weights", () => {
    expect([0, 1, 10, 11, 100, 250, 300].map(tpeGamma)).toEqual([0, 1, 1, 2, 10, 25, 25]);
    expect(tpeWeights(0)).toEqual([]);
    expect(tpeWeights(3)).toEqual([1, 1, 1]);
    const w = tpeWeights(30);
    expect(w).toHaveLength(30);
    expect(w[0]).toBeCloseTo(1 / 30, 12);
    expect(w[4]).toBeCloseTo(1, 12);
    expect(w.slice(5)).toEqual(new Array(25).fill(1));
    expect(w[2]).toBeCloseTo((1 / 30 + 1) / 2, 12);
  });

  it('splits by objective in the direction, pruned trials bad, failed ones ignored', () => {
    const table = [record(0, {}, 5), record(1, {}, 1), record(2, {}, 9, 'pruned'), record(3, {}, null, 'failed'), record(4, {}, 3), ...Array.from({ length: 8 }, (_, i) => record(5 + i, {}, 4))];
    // 12 finished (done or pruned): gamma 2
    const min = splitTrials(table, 'minimize');
    expect(min.good.map((r) => r.trial)).toEqual([1, 4]);
    expect(min.bad.map((r) => r.trial)).toEqual([0, 2, 5, 6, 7, 8, 9, 10, 11, 12]);
    const max = splitTrials(table, 'maximize');
    // the pruned trial's 9 is not good: it ranks after every complete trial
    expect(max.good.map((r) => r.trial)).toEqual([0, 5]);
    const allPruned = splitTrials(table.filter((r) => r.state !== 'failed').map((r) => ({ ...r, state: 'pruned' as const })), 'minimize');
    expect(allPruned.good).toEqual([]);
    expect(allPruned.bad).toHaveLength(12);
  });

  it('samples at random (the random sampler\'s draws) until 10 trials are done or pruned', () => {
    const spec = specOf(QUADRATIC_SPACE, { sampler: 'tpe', samplerSeed: 11 });
    const failed = Array.from({ length: 15 }, (_, k) => record(k, { x: 0, y: 0 }, null, 'failed'));
    expect(tpeParams(spec, 15, failed)).toBeNull();
    expect(suggest(spec, 15, failed)).toEqual(randomParams(spec, 15));
    const nine = Array.from({ length: 9 }, (_, k) => record(k, { x: k / 2, y: 0 }, k));
    expect(suggest(spec, 9, nine)).toEqual(randomParams(spec, 9));
    const ten = [...nine, record(9, { x: 1, y: 1 }, 3, 'pruned')];
    const p = suggest(spec, 10, ten);
    expect(p).not.toEqual(randomParams(spec, 10));
    // the same visible trials, in any order, give the same suggestion (rebuilt from the table after a resume)
    expect(suggest(spec, 10, [...ten].reverse())).toEqual(p);
    expect(suggest(spec, 10, ten.map((r) => structuredClone(r)))).toEqual(p);
  });

  it('beats random search after 60 trials on a 2-D quadratic and on Branin in most of 20 sampler seeds', () => {
    /*
     * Whether TPE's best beats random search's on one seed is a coin weighted by TPE's quality: measured over
     * sampler seeds 0–99 (sequential trials), TPE wins 90% of them on this quadratic and 79% on Branin (its
     * random startup sometimes lands near one of Branin's three minima, and independent TPE's wide kernels then
     * rarely improve on it in 50 trials). On the first 20 seeds, the ones this test runs, it wins 18 on the
     * quadratic and 11 on Branin (blocks of 20 among seeds 0–199 give 11 17 15 17 19 14 17 16 18 13 on Branin):
     * most, as asked, with a median best about half of random search's.
     */
    const seeds = Array.from({ length: 20 }, (_, i) => i);
    const results: Record<string, { wins: number; tpe: number; random: number }> = {};
    for (const [name, space, f] of [
      ['quadratic', QUADRATIC_SPACE, quadratic],
      ['branin', BRANIN_SPACE, braninOf],
    ] as const) {
      for (const parallelTrials of [0, 4]) {
        let wins = 0;
        const tpeBest: number[] = [];
        const randomBest: number[] = [];
        for (const seed of seeds) {
          const t = best(search(specOf(space, { sampler: 'tpe', samplerSeed: seed, parallelTrials }), 60, f));
          const r = best(search(specOf(space, { sampler: 'random', samplerSeed: seed, parallelTrials }), 60, f));
          if (t < r) wins++;
          tpeBest.push(t);
          randomBest.push(r);
        }
        results[`${name} parallelTrials ${parallelTrials}`] = { wins, tpe: median(tpeBest), random: median(randomBest) };
      }
    }
    expect(results['quadratic parallelTrials 0']!.wins).toBeGreaterThanOrEqual(14);
    expect(results['branin parallelTrials 0']!.wins).toBeGreaterThan(10);
    // With four trials in flight each suggestion misses the newest four results (measured over seeds 0–99: 71%
    // wins on the quadratic, 69% on Branin): TPE still wins most seeds and its median best is lower.
    for (const key of ['quadratic parallelTrials 4', 'branin parallelTrials 4']) {
      expect(results[key]!.wins, key).toBeGreaterThanOrEqual(11);
      expect(results[key]!.tpe, key).toBeLessThan(results[key]!.random);
    }
    // the median best is well under random search's, and never below the known minimum
    expect(results['quadratic parallelTrials 0']!.tpe).toBeLessThan(0.5 * results['quadratic parallelTrials 0']!.random);
    expect(results['branin parallelTrials 0']!.tpe).toBeGreaterThan(0.397887);
    expect(results['branin parallelTrials 0']!.tpe).toBeLessThan(0.75 * results['branin parallelTrials 0']!.random);
  });

  it('concentrates on the best choice and the best integer (categorical and integer estimators)', () => {
    const spec = specOf({ act: { choice: ['tanh', 'relu', 'elu', 'selu'] }, width: { int: [1, 64], log: true }, n: { int: [0, 20] } }, { sampler: 'tpe', samplerSeed: 5, objective: { metric: 'eval', reduce: 'iqm-last', direction: 'maximize' } });
    const f = (p: Params) => (p.act === 'elu' ? 1 : 0) - Math.abs(Math.log2(p.width as number) - 4) / 6 - Math.abs((p.n as number) - 7) / 20;
    const table = search(spec, 80, f);
    const late = table.slice(40);
    expect(late.filter((r) => r.params.act === 'elu').length).toBeGreaterThan(late.length / 2);
    expect(late.every((r) => Number.isInteger(r.params.width) && Number.isInteger(r.params.n))).toBe(true);
    expect(median(late.map((r) => r.params.width as number))).toBeGreaterThanOrEqual(8);
    expect(median(late.map((r) => r.params.width as number))).toBeLessThanOrEqual(32);
    expect(Math.abs(median(late.map((r) => r.params.n as number)) - 7)).toBeLessThanOrEqual(3);
    // maximising: the best found is the optimum's neighbourhood
    expect(Math.max(...table.map((r) => r.objective!))).toBeGreaterThan(0.85);
  });
});

describe('the Parzen estimators and the normal distribution', () => {
  it('normal CDF, quantile and tail masses', () => {
    expect(normalCdf(-1.96)).toBeCloseTo(0.024997895148220435, 8);
    expect(normalCdf(1)).toBeCloseTo(0.8413447460685429, 7);
    expect(normalCdf(-10) / 7.61985302416047e-24).toBeCloseTo(1, 6);
    for (const p of [1e-300, 1e-10, 0.01, 0.3, 0.5, 0.9, 0.999]) expect(normalCdf(normalQuantile(p)) / p).toBeCloseTo(1, 6);
    expect(Math.exp(logNormalMass(-1, 1))).toBeCloseTo(0.6826894921370859, 7);
    // far tails stay finite and symmetric (erfc(30/√2) underflows no double here: it is taken as a log)
    expect(logNormalMass(30, 31)).toBeCloseTo(logNormalMass(-31, -30), 9);
    expect(logNormalMass(30, 31)).toBeCloseTo(-454.3212, 3);
    // truncated to [40, 41] the median is ≈ 40 + ln 2 / 40
    expect(truncatedNormalQuantile(40, 41, 0.5)).toBeCloseTo(40 + Math.LN2 / 40, 3);
    expect(truncatedNormalQuantile(-41, -40, 0.5)).toBeCloseTo(-40 - Math.LN2 / 40, 3);
    expect(truncatedNormalQuantile(-3, 3, 0.975)).toBeCloseTo(1.9385, 3);
  });

  it("kernels at the observations with Optuna's widths, plus the prior", () => {
    const space = numericSpace({ uniform: [0, 10] });
    const est = numericEstimator(space, [2, 2.5, 7, 'x', 11]);
    expect(est.mus).toEqual([2, 2.5, 7, 5]);
    // 2: to its inner neighbour (0.5), clipped up to 10/min(100, 1 + 4) = 2; 2.5: max(0.5, 4.5); 7: to its inner neighbour 4.5; prior: the range
    expect(est.sigmas).toEqual([2, 4.5, 4.5, 10]);
    expect(est.weights).toEqual([0.25, 0.25, 0.25, 0.25]);
    // draws follow the density
    const rng = makeRng(1);
    const counts = new Array<number>(10).fill(0);
    for (let i = 0; i < 50_000; i++) counts[Math.min(9, Math.floor(sampleNumeric(est, rng)))]!++;
    for (let b = 0; b < 10; b++) {
      let mass = 0;
      for (let j = 0; j < 100; j++) mass += Math.exp(logDensity(est, space, b + (j + 0.5) / 100)) / 100;
      expect(counts[b]! / 50_000).toBeCloseTo(mass, 2);
    }
  });

  it('integer masses sum to one, on linear and log scales', () => {
    for (const dim of [{ int: [1, 6] }, { int: [1, 64], log: true }] as const) {
      const space = numericSpace(dim);
      const est = numericEstimator(space, [2, 2, 5]);
      let total = 0;
      for (let n = dim.int[0]; n <= dim.int[1]; n++) total += Math.exp(logDensity(est, space, space.log ? Math.log(n) : n));
      expect(total).toBeCloseTo(1, 6);
    }
  });

  it('categorical: each observation adds to its choice, smoothed by the prior', () => {
    const probs = categoricalEstimator(['a', 'b', 'c'], ['a', 'a', 'b', 'zzz', undefined]);
    expect(probs.reduce((s, p) => s + p, 0)).toBeCloseTo(1, 12);
    // 3 observations (w = 1/4): kernel of 'a' = [(1 + ¼), ¼, ¼] / 1¾; weights ¼ each with the uniform prior
    const k = (i: number) => [0, 1, 2].map((j) => ((j === i ? 1 : 0) + 0.25) / 1.75);
    const expected = [0, 1, 2].map((j) => 0.25 * (k(0)[j]! * 2 + k(1)[j]!) + 0.25 / 3);
    probs.forEach((p, j) => expect(p).toBeCloseTo(expected[j]!, 12));
    expect(categoricalEstimator(['a', 'b'], [])).toEqual([0.5, 0.5]);
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { PNG } from 'pngjs';
import {
  aggregateIqm,
  aggregateMean,
  aggregateMedian,
  bootstrapInterval,
  bootstrapMeanInterval,
  interpolateAt,
  iqm,
  makeRng,
  mean,
  median,
  movingAverageAt,
  optimalityGap,
  percentileInterval,
  probabilityOfImprovement,
  quantileSorted,
  stratifiedBootstrap,
  stratifiedIndependentBootstrap,
  trimMean,
  unionGrid,
  type TaskScores,
} from '../analysis/stats.js';
import { compareRuns, curvePanels, formatCompare, groupKey, loadRun, parseGroupBy, resolveRunDirs, type LoadedRun } from '../analysis/compare.js';
import { formatTick, niceAxis, renderPng, renderSvg, seriesColor, textWidth } from '../lab/plot.js';
import { runCompare } from '../cli/compare.js';

const LAB = fileURLToPath(new URL('../bin/lab.mjs', import.meta.url));
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lab-compare-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function lab(...args: string[]) {
  const r = spawnSync(process.execPath, [LAB, ...args], { encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

interface SyntheticRun {
  envId: string;
  agent: string;
  preset?: string | null;
  seed: number;
  /** [step, meanReturn] of each evaluation */
  evals?: [number, number][];
  /** [step, return] of each training episode */
  episodes?: [number, number][];
  steps?: number;
  hyperparameters?: Record<string, unknown>;
}

let counter = 0;
/** A run directory in the formats of lab/run_store.ts: config.json and metrics.jsonl. */
function writeRun(root: string, r: SyntheticRun): string {
  const runId = `${r.envId}-${r.agent}-s${r.seed}-${counter++}`;
  const dir = path.join(root, runId);
  fs.mkdirSync(path.join(dir, 'checkpoints'), { recursive: true });
  const evals = r.evals ?? [];
  const episodes = r.episodes ?? [];
  const lastStep = Math.max(0, ...evals.map((e) => e[0]), ...episodes.map((e) => e[0]));
  fs.writeFileSync(
    path.join(dir, 'config.json'),
    JSON.stringify({
      runId,
      envId: r.envId,
      envKwargs: {},
      agent: r.agent,
      preset: r.preset ?? null,
      hyperparameters: r.hyperparameters ?? {},
      seed: r.seed,
      steps: r.steps ?? lastStep,
      episodes: null,
      numEnvs: 1,
      evalEvery: 1000,
      evalEpisodes: 3,
      evalSeed: 1_000_000,
      checkpointEvery: 10_000,
      createdAt: '2026-01-01T00:00:00.000Z',
      command: 'synthetic',
    }),
  );
  const events: { step: number; line: string }[] = [];
  episodes.forEach(([step, ret], i) =>
    events.push({ step, line: JSON.stringify({ type: 'episode', step, episode: i + 1, envIndex: 0, return: ret, length: ret, terminated: true, truncated: false, time: 0 }) }),
  );
  evals.forEach(([step, m]) =>
    events.push({ step, line: JSON.stringify({ type: 'eval', step, episodes: 3, meanReturn: m, stdReturn: 0, minReturn: m, maxReturn: m, meanLength: m, returns: [m, m, m], seconds: 0, time: 0 }) }),
  );
  events.push({ step: lastStep, line: JSON.stringify({ type: 'update', step: lastStep, updates: 1, stats: { loss: 0.5 }, sps: 1000, time: 0 }) });
  events.sort((a, b) => a.step - b.step);
  fs.writeFileSync(path.join(dir, 'metrics.jsonl'), events.map((e) => e.line + '\n').join(''));
  return dir;
}

// ---------------------------------------------------------------------------------------------------------

describe('IQM (scipy.stats.trim_mean(x, 0.25))', () => {
  it('n = 4 cuts one value at each end and averages the middle 2', () => {
    expect(iqm([1, 2, 3, 4])).toBe(2.5);
    expect(iqm([10, 1, 3, 2])).toBe(2.5);
    expect(iqm([-5, 100, 7, 9])).toBe(8);
  });

  it('n = 5 cuts one value at each end (⌊1.25⌋ = 1) and averages the middle 3', () => {
    expect(iqm([1, 2, 3, 4, 100])).toBe(3);
    expect(iqm([500, 9, 500, 22, 500])).toBe((22 + 500 + 500) / 3);
  });

  it('n = 8 cuts two values at each end and averages the middle 4', () => {
    expect(iqm([8, 1, 7, 2, 6, 3, 5, 4])).toBe(4.5);
    expect(iqm([0, 0, 10, 20, 30, 40, 1000, 1000])).toBe(25);
  });

  it('ties: the cut is by position in the sorted order, not by value', () => {
    expect(iqm([1, 1, 1, 5, 5])).toBeCloseTo(7 / 3, 15);
    expect(iqm([2, 2, 2, 2])).toBe(2);
    expect(iqm([3, 3, 9, 9, 9, 9, 3, 3])).toBe(6);
  });

  it('n ≤ 3 keeps every value; other proportions follow ⌊p·n⌋', () => {
    expect(iqm([4])).toBe(4);
    expect(iqm([1, 3])).toBe(2);
    expect(iqm([1, 2, 9])).toBe(4);
    expect(trimMean([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.1)).toBe(5.5);
    expect(trimMean([1, 2, 3, 4, 5, 6, 7, 8, 9, 100], 0.1)).toBe(5.5);
    expect(() => iqm([])).toThrow(/no values/);
    expect(() => trimMean([1, 2], 0.5)).toThrow(/proportion/);
  });

  it('over tasks (rliable): IQM pools all runs of all tasks; mean and median are over the per-task means', () => {
    expect(aggregateIqm([[1, 2], [3, 4]])).toBe(2.5);
    expect(aggregateIqm([[0, 100, 3], [5, 6], [4, 1000]])).toBe((3 + 4 + 5 + 6 + 100) / 5); // n = 7: cut ⌊1.75⌋ = 1 at each end
    expect(aggregateMean([[1, 3], [10]])).toBe(6); // not the pooled mean 14/3
    expect(aggregateMedian([[1, 3], [10], [4, 4]])).toBe(4); // task means 2, 10, 4
    expect(median([1, 3, 10, 4])).toBe(3.5);
    expect(optimalityGap([[100, 200, 300, 400, 500]], 475)).toBe(475 - (100 + 200 + 300 + 400 + 475) / 5);
    expect(optimalityGap([[0.5, 1.2], [1, 0.9]], 1)).toBeCloseTo(1 - (0.5 + 1 + 1 + 0.9) / 4, 15);
  });
});

describe('percentiles and the stratified bootstrap', () => {
  it('quantiles interpolate linearly between order statistics (numpy.percentile default)', () => {
    expect(quantileSorted([1, 2, 3, 4], 0.5)).toBe(2.5);
    expect(quantileSorted([1, 2, 3, 4], 0.25)).toBe(1.75);
    expect(quantileSorted([1, 2, 3, 4], 0)).toBe(1);
    expect(quantileSorted([1, 2, 3, 4], 1)).toBe(4);
    expect(quantileSorted([0, 10], 0.975)).toBe(9.75);
    expect(percentileInterval([4, 0, 1, 2, 3], 0.5)).toEqual({ lo: 1, hi: 3 });
  });

  it('degenerate data give a zero-width interval', () => {
    const rng = makeRng(1);
    expect(bootstrapInterval([[5, 5, 5, 5, 5]], aggregateIqm, { reps: 2000, rng })).toEqual({ lo: 5, hi: 5 });
    expect(bootstrapInterval([[7]], aggregateMean, { reps: 100, rng })).toEqual({ lo: 7, hi: 7 });
    expect(bootstrapMeanInterval([3, 3, 3], { reps: 500, rng })).toEqual({ lo: 3, hi: 3 });
    expect(bootstrapMeanInterval([42], { reps: 500, rng })).toEqual({ lo: 42, hi: 42 });
  });

  it('the bootstrap distribution of the mean of [0, 1] is {0: 1/4, 1/2: 1/2, 1: 1/4}', () => {
    const reps = 20_000;
    const dist = stratifiedBootstrap([[0, 1]], aggregateMean, reps, makeRng(7));
    const count = (v: number) => dist.filter((x) => x === v).length / reps;
    // Binomial standard errors: √(p(1−p)/20000) ≈ 0.0031 (p = 1/4) and 0.0035 (p = 1/2); allow 4.5 of them.
    expect(Math.abs(count(0) - 0.25)).toBeLessThan(0.014);
    expect(Math.abs(count(0.5) - 0.5)).toBeLessThan(0.016);
    expect(Math.abs(count(1) - 0.25)).toBeLessThan(0.014);
    expect(count(0) + count(0.5) + count(1)).toBe(1);
    const sorted = Float64Array.from(dist).sort();
    expect(quantileSorted(sorted, 0.025)).toBe(0);
    expect(quantileSorted(sorted, 0.1)).toBe(0);
    expect(quantileSorted(sorted, 0.5)).toBe(0.5);
    expect(quantileSorted(sorted, 0.9)).toBe(1);
    expect(quantileSorted(sorted, 0.975)).toBe(1);
    expect(percentileInterval(dist)).toEqual({ lo: 0, hi: 1 });
  });

  it('the same seed gives the same resamples, another seed other ones', () => {
    const t = [[12, 40, 33, 90, 71, 5, 64]];
    const dist = (seed: number) => Array.from(stratifiedBootstrap(t, aggregateIqm, 3000, makeRng(seed)));
    expect(dist(3)).toEqual(dist(3));
    expect(dist(4)).not.toEqual(dist(3));
    const a = bootstrapInterval(t, aggregateIqm, { reps: 3000, rng: makeRng(3) });
    expect(a).toEqual(percentileInterval(dist(3)));
    expect(a.lo).toBeLessThan(aggregateIqm(t));
    expect(a.hi).toBeGreaterThan(aggregateIqm(t));
  });

  it('resampling stays within each task: constant tasks give the exact statistic', () => {
    // Pooling the two tasks before resampling would make these statistics vary from resample to resample.
    const tasks = [[1, 1, 1], [3, 3, 3]];
    expect(bootstrapInterval(tasks, aggregateMean, { reps: 5000, rng: makeRng(11) })).toEqual({ lo: 2, hi: 2 });
    const halves = [[0, 0, 0, 0], [10, 10, 10, 10]];
    expect(bootstrapInterval(halves, aggregateIqm, { reps: 5000, rng: makeRng(12) })).toEqual({ lo: 5, hi: 5 });
    // Every resample of task m draws N_m values from task m only.
    const ragged: TaskScores = [[1, 2, 3], [10, 20], [100, 200, 300, 400]];
    stratifiedBootstrap(
      ragged,
      (s) => {
        s.forEach((sample, m) => {
          expect(sample).toHaveLength(ragged[m]!.length);
          for (const v of sample) expect(ragged[m]).toContain(v);
        });
        return 0;
      },
      200,
      makeRng(5),
    );
  });

  it('the mean of per-task means over two tasks of [0, 1] takes values k/4 with binomial(4, 1/2) frequencies', () => {
    const reps = 20_000;
    const dist = stratifiedBootstrap([[0, 1], [0, 1]], aggregateMean, reps, makeRng(9));
    const expected = [1 / 16, 4 / 16, 6 / 16, 4 / 16, 1 / 16];
    expected.forEach((p, k) => {
      const f = dist.filter((x) => x === k / 4).length / reps;
      expect(Math.abs(f - p)).toBeLessThan(4.5 * Math.sqrt((p * (1 - p)) / reps));
    });
  });
});

describe('probability of improvement (Mann–Whitney, ties count 1/2, averaged over tasks)', () => {
  it('matches hand-computed cases', () => {
    expect(probabilityOfImprovement([[1, 2, 3]], [[0, 0, 0]])).toBe(1);
    expect(probabilityOfImprovement([[0, 0]], [[1, 2, 3]])).toBe(0);
    expect(probabilityOfImprovement([[1, 2]], [[1, 2]])).toBe(0.5); // (½ + 0 + 1 + ½) / 4
    expect(probabilityOfImprovement([[1, 3]], [[2, 2, 2]])).toBe(0.5);
    expect(probabilityOfImprovement([[3, 5]], [[1, 4, 5]])).toBeCloseTo(3.5 / 6, 15); // 3: 1 win; 5: 2 wins + 1 tie
    expect(probabilityOfImprovement([[5, 5]], [[5]])).toBe(0.5);
    // tasks are averaged with equal weight: (1 + ½) / 2
    expect(probabilityOfImprovement([[1, 2, 3], [1, 2]], [[0, 0, 0], [1, 2]])).toBe(0.75);
    expect(() => probabilityOfImprovement([[1]], [[1], [2]])).toThrow(/tasks/);
  });

  it('its bootstrap resamples X and Y independently within tasks', () => {
    const sure = stratifiedIndependentBootstrap([[2, 3]], [[0, 1]], probabilityOfImprovement, 2000, makeRng(1));
    expect(percentileInterval(sure)).toEqual({ lo: 1, hi: 1 });
    // X = [0, 1] against Y = [0.5]: P = (number of ones in the resample) / 2 → {0: ¼, ½: ½, 1: ¼}
    const dist = stratifiedIndependentBootstrap([[0, 1]], [[0.5]], probabilityOfImprovement, 20_000, makeRng(2));
    expect(Math.abs(dist.filter((v) => v === 0.5).length / 20_000 - 0.5)).toBeLessThan(0.016);
    expect(percentileInterval(dist)).toEqual({ lo: 0, hi: 1 });
  });
});

describe('learning curves on a common grid', () => {
  const a = [
    { step: 1000, value: 10 },
    { step: 2000, value: 20 },
    { step: 3000, value: 40 },
  ];
  const b = [
    { step: 1500, value: 30 },
    { step: 2500, value: 50 },
  ];

  it('interpolates linearly inside a run and never extrapolates', () => {
    expect(interpolateAt(a, 1500)).toBe(15);
    expect(interpolateAt(a, 2500)).toBe(30);
    expect(interpolateAt(a, 2750)).toBe(35);
    expect(interpolateAt(a, 3000)).toBe(40);
    expect(interpolateAt(a, 1000)).toBe(10);
    expect(interpolateAt(a, 999)).toBeNull();
    expect(interpolateAt(a, 3001)).toBeNull();
    expect(interpolateAt(b, 2000)).toBe(40);
    expect(interpolateAt([{ step: 5, value: 1 }], 5)).toBe(1);
    expect(interpolateAt([], 5)).toBeNull();
    expect(unionGrid([a, b])).toEqual([1000, 1500, 2000, 2500, 3000]);
  });

  it('a moving average over a window of env steps', () => {
    const eps = [
      { step: 10, value: 1 },
      { step: 20, value: 3 },
      { step: 30, value: 5 },
      { step: 40, value: 7 },
    ];
    expect(movingAverageAt(eps, 30, 15)).toBe(4); // (15, 30]: 3 and 5
    expect(movingAverageAt(eps, 35, 15)).toBe(5); // (20, 35]: 5
    expect(movingAverageAt(eps, 40, 100)).toBe(4); // all
    expect(movingAverageAt(eps, 35, 5)).toBe(5); // (30, 35] is empty: the last episode before
    expect(movingAverageAt(eps, 10, 5)).toBe(1);
    expect(movingAverageAt(eps, 9, 5)).toBeNull();
    expect(movingAverageAt(eps, 41, 5)).toBeNull();
  });

  it('compare: per grid step, the mean over the runs covering it and a bootstrap band', () => {
    const root = path.join(tmp, 'grid');
    writeRun(root, { envId: 'CartPole-v1', agent: 'x', seed: 1, evals: a.map((p) => [p.step, p.value]) });
    writeRun(root, { envId: 'CartPole-v1', agent: 'x', seed: 2, evals: b.map((p) => [p.step, p.value]) });
    const runs = resolveRunDirs([root]).map(loadRun);
    const r = compareRuns(runs, { reps: 4000 });
    const curve = r.groups[0]!.curves[0]!;
    expect(curve.points.map((p) => [p.step, p.mean, p.n])).toEqual([
      [1000, 10, 1],
      [1500, 22.5, 2],
      [2000, 30, 2],
      [2500, 40, 2],
      [3000, 40, 1],
    ]);
    // one run: zero width; two runs: the bootstrap mean of {v1, v2} is v1, (v1+v2)/2 or v2
    expect(curve.points[0]).toMatchObject({ lo: 10, hi: 10 });
    expect(curve.points[1]).toMatchObject({ lo: 15, hi: 30 });
    expect(curve.points[2]).toMatchObject({ lo: 20, hi: 40 });
    expect(r.notes.join('\n')).toMatch(/all runs fall into one group \(x\)/);
  });

  it('episode curves: moving averages of training returns on a regular grid', () => {
    const root = path.join(tmp, 'episodes');
    const eps = (k: number) => Array.from({ length: 100 }, (_, i) => [(i + 1) * 10, k + i] as [number, number]);
    writeRun(root, { envId: 'CartPole-v1', agent: 'x', seed: 1, episodes: eps(0), evals: [[1000, 5]] });
    writeRun(root, { envId: 'CartPole-v1', agent: 'x', seed: 2, episodes: eps(10), evals: [[1000, 6]] });
    const r = compareRuns(resolveRunDirs([root]).map(loadRun), { reps: 1000, curve: 'episodes', window: 30, curvePoints: 100 });
    const curve = r.groups[0]!.curves[0]!;
    expect(curve.kind).toBe('episodes');
    expect(curve.window).toBe(30);
    expect(curve.points).toHaveLength(100);
    expect(curve.points[0]).toMatchObject({ step: 10, mean: 5, n: 2 }); // returns 0 and 10
    // at step 1000 the window (970, 1000] holds episodes 98–100: returns 97–99 and 107–109
    expect(curve.points.at(-1)).toMatchObject({ step: 1000, mean: 103, n: 2 });
    expect(curvePanels(r)[0]!.title).toBe('CartPole-v1: training episode return (moving average over 30 env steps) vs env steps');
  });
});

describe('compareRuns over groups and envs', () => {
  const root = path.join(tmp, 'two-envs');
  let runs: LoadedRun[];
  beforeAll(() => {
    [100, 200, 300, 400, 500].forEach((s, i) => writeRun(root, { envId: 'CartPole-v1', agent: 'a', seed: i + 1, evals: [[500, 9], [1000, s]] }));
    [0.5, 0.6, 0.7, 0.8].forEach((s, i) => writeRun(root, { envId: 'FrozenLake-v1', agent: 'a', seed: i + 1, evals: [[1000, s]] }));
    [50, 60, 70, 80, 500].forEach((s, i) => writeRun(root, { envId: 'CartPole-v1', agent: 'b', preset: 'p', seed: i + 1, evals: [[1000, s]] }));
    [0.7, 0.7, 0.7, 0.7].forEach((s, i) => writeRun(root, { envId: 'FrozenLake-v1', agent: 'b', preset: 'p', seed: i + 1, evals: [[1000, s]] }));
    runs = resolveRunDirs([root]).map(loadRun);
  });

  it('per-env rows: IQM, mean, median, optimality gap to the reward threshold', () => {
    const r = compareRuns(runs, { reps: 2000 });
    expect(r.envs).toEqual(['CartPole-v1', 'FrozenLake-v1']);
    expect(r.groups.map((g) => g.name)).toEqual(['a', 'b/p']);
    expect(r.groups.map((g) => g.color)).toEqual([seriesColor(0), seriesColor(1)]);
    const [a, b] = r.groups;
    const aCart = a!.perEnv[0]!;
    expect(aCart.scores).toEqual([100, 200, 300, 400, 500]);
    expect(aCart.iqm.value).toBe(300);
    expect(aCart.mean.value).toBe(300);
    expect(aCart.median).toBe(300);
    expect(aCart.optimalityGap!.gamma).toBe(475);
    expect(aCart.optimalityGap!.value).toBe(180);
    expect(aCart.iqm.lo).toBeLessThan(300);
    expect(aCart.iqm.hi).toBeGreaterThan(300);
    const aLake = a!.perEnv[1]!;
    expect(aLake.iqm.value).toBeCloseTo(0.65, 12);
    expect(aLake.optimalityGap!.value).toBeCloseTo(0.075, 12);
    expect(b!.perEnv[0]!.iqm.value).toBe(70);
    expect(b!.perEnv[0]!.mean.value).toBe(152);
    expect(b!.perEnv[1]!.iqm).toEqual({ value: 0.7, lo: 0.7, hi: 0.7 });
    expect(r.notes.join('\n')).toMatch(/raw returns of 2 envs/);
  });

  it('the aggregate over envs, normalised by reward thresholds', () => {
    const r = compareRuns(runs, { reps: 2000, normalize: 'threshold' });
    const agg = r.groups[0]!.aggregate;
    expect(agg.normalized).toBe(true);
    expect(agg.runs).toBe(9);
    // 9 pooled normalised scores: cut ⌊9/4⌋ = 2 at each end, average the middle 5
    expect(agg.iqm.value).toBeCloseTo((300 / 475 + 0.5 / 0.7 + 400 / 475 + 0.6 / 0.7 + 0.7 / 0.7) / 5, 12);
    expect(agg.mean.value).toBeCloseTo((300 / 475 + 0.65 / 0.7) / 2, 12);
    expect(agg.optimalityGap!.gamma).toBe(1);
    expect(agg.iqm.lo).toBeLessThanOrEqual(agg.iqm.value);
    expect(agg.iqm.hi).toBeGreaterThanOrEqual(agg.iqm.value);
    // P(a > b/p): CartPole 20.5/25, FrozenLake 6/16, averaged
    expect(r.pairs).toHaveLength(1);
    expect(r.pairs[0]!.x).toBe('a');
    expect(r.pairs[0]!.y).toBe('b/p');
    expect(r.pairs[0]!.envs).toEqual(['CartPole-v1', 'FrozenLake-v1']);
    expect(r.pairs[0]!.probability.value).toBeCloseTo((20.5 / 25 + 6 / 16) / 2, 12);
    const text = formatCompare(r);
    expect(text).toContain('CartPole-v1 (reward threshold 475)');
    expect(text).toContain('FrozenLake-v1 (reward threshold 0.7)');
    expect(text).toMatch(/Aggregate over 2 envs \(each env's returns divided by its reward threshold/);
    expect(text).toMatch(/P\(a > b\/p\)\s+0\.59[78] \[/);
    expect(text).toMatch(/a\s+5\s+300\.0 \[\d+\.\d, \d+\.\d\]\s+300\.0 \[/);
    expect(curvePanels(r).map((p) => p.title)).toEqual(['CartPole-v1: greedy evaluation return vs env steps', 'FrozenLake-v1: greedy evaluation return vs env steps']);
  });

  it('results depend only on the seed', () => {
    const x = compareRuns(runs, { reps: 3000, seed: 4 });
    const y = compareRuns(runs, { reps: 3000, seed: 4 });
    expect(JSON.stringify(x)).toBe(JSON.stringify(y));
  });

  it('groups by agent, preset, env or a hyperparameter', () => {
    const run = runs.find((r) => r.agent === 'b')!;
    expect(groupKey(run, 'agent-preset')).toBe('b/p');
    expect(groupKey(run, 'agent')).toBe('b');
    expect(groupKey(run, 'preset')).toBe('p');
    expect(groupKey(run, 'env')).toBe(run.envId);
    expect(groupKey({ ...run, hyperparameters: { learningRate: 0.001, net: { hidden: [64, 64] } } }, 'hyper:learningRate')).toBe('learningRate=0.001');
    expect(groupKey({ ...run, hyperparameters: { net: { hidden: [64, 64] } } }, 'hyper:net.hidden')).toBe('net.hidden=[64,64]');
    expect(groupKey(run, 'hyper:gamma')).toBe('gamma=(unset)');
    expect(() => parseGroupBy('colour')).toThrow(/--group-by must be/);
    const byEnv = compareRuns(runs, { reps: 500, groupBy: 'env' });
    expect(byEnv.groups.map((g) => [g.name, g.runs.length])).toEqual([
      ['CartPole-v1', 10],
      ['FrozenLake-v1', 8],
    ]);
    expect(byEnv.pairs).toEqual([]); // no env in common
  });

  it('refuses to normalise by a threshold an env does not have', () => {
    const r2 = path.join(tmp, 'no-threshold');
    writeRun(r2, { envId: 'CartPole-v1', agent: 'a', seed: 1, evals: [[10, 1]] });
    writeRun(r2, { envId: 'CliffWalking-v1', agent: 'a', seed: 1, evals: [[10, -13]] });
    expect(() => compareRuns(resolveRunDirs([r2]).map(loadRun), { normalize: 'threshold', reps: 10 })).toThrow(/CliffWalking-v1 has no reward threshold/);
  });
});

describe('scores and errors', () => {
  it("a run's score is its last evaluation; without one, the mean of its last 100 training episodes (flagged)", () => {
    const root = path.join(tmp, 'fallback');
    const withEval = writeRun(root, { envId: 'CartPole-v1', agent: 'a', seed: 1, evals: [[1000, 20], [2000, 35.5]], episodes: [[10, 1000]] });
    const noEval = writeRun(root, { envId: 'CartPole-v1', agent: 'a', seed: 2, episodes: Array.from({ length: 150 }, (_, i) => [(i + 1) * 20, i + 1] as [number, number]) });
    expect(loadRun(withEval)).toMatchObject({ score: 35.5, scoreSource: 'eval', scoreStep: 2000, scoreEpisodes: 3 });
    expect(loadRun(noEval)).toMatchObject({ score: 100.5, scoreSource: 'episodes', scoreStep: 3000, scoreEpisodes: 100 });
    const r = compareRuns([loadRun(withEval), loadRun(noEval)], { reps: 100 });
    const text = formatCompare(r);
    expect(text).toMatch(/s2:100\.5\*/);
    expect(text).toMatch(/1 run has no evaluation; its score is the mean return of the last 100 training episodes \(marked \*\)/);
  });

  it('names what is wrong', () => {
    const root = path.join(tmp, 'errors');
    fs.mkdirSync(path.join(root, 'empty-dir'), { recursive: true });
    expect(() => resolveRunDirs([path.join(root, 'nope')])).toThrow(/nope: no such file or directory/);
    expect(() => resolveRunDirs([path.join(root, 'empty-dir')])).toThrow(/empty-dir is not a run directory \(no config\.json\) and holds no run directories/);
    // A runs/ directory also holds GAN runs: expanding it keeps them (loadRuns compares one kind and says why it
    // left the others out: test/every_kind.test.ts); a GAN run's config.json is checked as its trainer wrote it.
    const withGan = path.join(root, 'with-gan');
    const rl = writeRun(withGan, { envId: 'CartPole-v1', agent: 'a', seed: 1, evals: [[1, 1]] });
    const gan = path.join(withGan, 'gan-apple-fast-s0');
    fs.mkdirSync(gan);
    fs.writeFileSync(path.join(gan, 'config.json'), JSON.stringify({ kind: 'gan', category: 'apple', preset: 'fast' }));
    expect(resolveRunDirs([withGan])).toEqual([rl, gan]);
    expect(() => loadRun(gan)).toThrow(/gan-apple-fast-s0: config\.json: runId: expected a string, got nothing/);
    const dup = writeRun(root, { envId: 'CartPole-v1', agent: 'a', seed: 1, evals: [[1, 1]] });
    expect(() => resolveRunDirs([dup, dup])).toThrow(/given more than once/);
    const noMetrics = writeRun(root, { envId: 'CartPole-v1', agent: 'a', seed: 2, evals: [[1, 1]] });
    fs.rmSync(path.join(noMetrics, 'metrics.jsonl'));
    expect(() => loadRun(noMetrics)).toThrow(new RegExp(`${path.basename(noMetrics)}: no metrics\\.jsonl`));
    const empty = writeRun(root, { envId: 'CartPole-v1', agent: 'a', seed: 3 });
    expect(() => loadRun(empty)).toThrow(/has no evaluations and no finished episodes/);
    const noEnv = writeRun(root, { envId: 'CartPole-v1', agent: 'a', seed: 4, evals: [[1, 1]] });
    const cfg = JSON.parse(fs.readFileSync(path.join(noEnv, 'config.json'), 'utf8')) as Record<string, unknown>;
    delete cfg.envId;
    fs.writeFileSync(path.join(noEnv, 'config.json'), JSON.stringify(cfg));
    expect(() => loadRun(noEnv)).toThrow(/config\.json has no envId, so the run cannot be stratified by env/);
    expect(() => compareRuns([loadRun(dup)])).toThrow(/at least 2 runs, got 1/);
  });

  it('the CLI reports errors on stderr with exit code 1', () => {
    const root = path.join(tmp, 'cli-errors');
    const one = writeRun(root, { envId: 'CartPole-v1', agent: 'a', seed: 1, evals: [[1, 1]] });
    const r1 = lab('compare', one, '--no-plot');
    expect(r1.code).toBe(1);
    expect(r1.stderr).toMatch(/lab: error: lab compare needs at least 2 runs, got 1/);
    const r2 = lab('compare', one, path.join(root, 'missing-run'), '--no-plot');
    expect(r2.code).toBe(1);
    expect(r2.stderr).toContain(`${path.join(root, 'missing-run')}: no such file or directory`);
    const r3 = lab('compare', one, one, '--group-by', 'colour');
    expect(r3.code).not.toBe(0);
    expect(r3.stderr).toMatch(/--group-by must be/);
  });
});

describe('plot', () => {
  const panel = {
    title: 'CartPole-v1: greedy evaluation return vs env steps',
    xLabel: 'env steps',
    yLabel: 'greedy evaluation return',
    xSi: true,
    note: 'shaded: 95% bootstrap CI',
    series: [
      { name: 'up', color: seriesColor(0), points: Array.from({ length: 11 }, (_, i) => ({ x: i * 1000, y: 40 * i, lo: 40 * i - 30, hi: 40 * i + 30 })) },
      { name: 'flat', color: seriesColor(1), points: Array.from({ length: 11 }, (_, i) => ({ x: i * 1000, y: 200, lo: 150, hi: 260 })) },
    ],
  };

  it('nice axes and tick labels', () => {
    expect(niceAxis(0, 487)).toMatchObject({ min: 0, max: 500, step: 100, ticks: [0, 100, 200, 300, 400, 500] });
    expect(niceAxis(9.5, 131.2).ticks).toEqual([0, 20, 40, 60, 80, 100, 120, 140]);
    expect(niceAxis(0.21, 0.74, 5).ticks).toEqual([0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8]);
    expect(niceAxis(500, 500).min).toBeLessThan(500);
    expect(formatTick(2500, 500, true)).toBe('2.5k');
    expect(formatTick(50_000, 10_000, true)).toBe('50k');
    expect(formatTick(1_500_000, 500_000, true)).toBe('1.5M');
    expect(formatTick(0.3, 0.1)).toBe('0.3');
    expect(textWidth('ab', 2)).toBe((5 + 1 + 5) * 2);
  });

  it('PNG: size, white background, exact series colours on the lines, alpha-blended bands', () => {
    const png = PNG.sync.read(renderPng([panel]));
    expect([png.width, png.height]).toEqual([1200, 700]);
    const counts = new Map<string, number>();
    let transparent = 0;
    for (let i = 0; i < png.data.length; i += 4) {
      const key = `${png.data[i]},${png.data[i + 1]},${png.data[i + 2]}`;
      counts.set(key, (counts.get(key) ?? 0) + 1);
      if (png.data[i + 3] !== 255) transparent++;
    }
    expect(transparent).toBe(0);
    expect(counts.get('255,255,255')! / (1200 * 700)).toBeGreaterThan(0.5);
    expect(counts.get('31,119,180')).toBeGreaterThan(500); // #1f77b4 line
    expect(counts.get('255,127,14')).toBeGreaterThan(500); // #ff7f0e line
    // 20% of #1f77b4 over white: 255 + 0.2·(31 − 255) = 210.2 → 210, …
    expect(counts.get('210,228,240')).toBeGreaterThan(1000);
    // text pixels
    expect(counts.get('34,34,34')).toBeGreaterThan(1000);
  });

  it('SVG: a band and a line path per series, axes, text', () => {
    const svg = renderSvg([panel]);
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg" width="1200" height="700"')).toBe(true);
    expect(svg.trim().endsWith('</svg>')).toBe(true);
    for (const name of ['up', 'flat']) {
      expect(svg.match(new RegExp(`<path class="band" data-series="${name}" d="M[^"]+ Z"`, 'g'))).toHaveLength(1);
      expect(svg.match(new RegExp(`<path class="line" data-series="${name}" d="M[^"]+"`, 'g'))).toHaveLength(1);
    }
    expect(svg).toContain('>CartPole-v1: greedy evaluation return vs env steps</text>');
    expect(svg).toContain('transform="rotate(-90');
    expect(svg).toContain('>10k</text>');
    expect((svg.match(/<text /g) ?? []).length).toBe((svg.match(/<\/text>/g) ?? []).length);
  });

  it('multi-panel figures and a legend moved below a crowded plot', () => {
    const crowded = {
      ...panel,
      series: [0, 1, 2, 3].map((k) => ({
        name: `s${k}`,
        color: seriesColor(k),
        points: Array.from({ length: 21 }, (_, i) => ({ x: i, y: k % 2 === 0 ? i : 20 - i, lo: (k % 2 === 0 ? i : 20 - i) - 4, hi: (k % 2 === 0 ? i : 20 - i) + 4 })),
      })),
    };
    const png = PNG.sync.read(renderPng([panel, crowded, panel]));
    expect([png.width, png.height]).toEqual([2400, 1400]);
    const svg = renderSvg([crowded]);
    const swatchY = [...svg.matchAll(/<path class="legend-line" data-series="s0" d="M[\d.]+ ([\d.]+)/g)].map((m) => Number(m[1]));
    expect(swatchY).toHaveLength(1);
    expect(swatchY[0]).toBeGreaterThan(600); // under the x label, not inside the plot
  });
});

describe('lab compare on real runs: 2 agents × 5 seeds on CartPole-v1', () => {
  const runsDir = path.join(tmp, 'real-runs');
  const outDir = path.join(tmp, 'real-out');

  beforeAll(async () => {
    const jobs: string[][] = [];
    for (const agent of ['reinforce', 'a2c']) {
      for (let seed = 1; seed <= 5; seed++) {
        jobs.push(['train', '--env', 'CartPole-v1', '--agent', agent, '--steps', '3000', '--eval-every', '1000', '--eval-episodes', '3', '--seed', String(seed), '--backend', 'wasm', '--out', runsDir]);
      }
    }
    const runOne = (args: string[]) =>
      new Promise<void>((resolve, reject) => {
        const child = spawn(process.execPath, [LAB, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
        let err = '';
        child.stderr.on('data', (c: Buffer) => (err += c.toString()));
        child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`lab ${args.join(' ')} exited ${code}: ${err}`))));
      });
    // two at a time
    const queue = [...jobs];
    await Promise.all([0, 1].map(async () => {
      for (let job = queue.shift(); job; job = queue.shift()) await runOne(job);
    }));
  }, 180_000);

  it('prints the table and writes compare.png and compare.svg', () => {
    const r = lab('compare', runsDir, '--out', outDir, '--reps', '5000');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('CartPole-v1 (reward threshold 475)');
    expect(r.stdout).toMatch(/group\s+runs\s+IQM \[95% CI\]\s+mean \[95% CI\]\s+median\s+gap to 475\s+scores/);
    expect(r.stdout).toMatch(/a2c\/cartpole\s+5\s+[\d.]+ \[[\d.]+, [\d.]+\]/);
    expect(r.stdout).toMatch(/reinforce\/cartpole\s+5\s+[\d.]+ \[[\d.]+, [\d.]+\]/);
    expect(r.stdout).toMatch(/P\(a2c\/cartpole > reinforce\/cartpole\)\s+[01]\.\d{3} \[/);
    expect(r.stdout).toContain(path.join(outDir, 'compare.png'));

    const png = PNG.sync.read(fs.readFileSync(path.join(outDir, 'compare.png')));
    expect([png.width, png.height]).toEqual([1200, 700]);
    const colours = new Set<string>();
    for (let i = 0; i < png.data.length; i += 4) colours.add(`${png.data[i]},${png.data[i + 1]},${png.data[i + 2]}`);
    expect(colours.has('31,119,180')).toBe(true); // a2c/cartpole
    expect(colours.has('255,127,14')).toBe(true); // reinforce/cartpole

    const svg = fs.readFileSync(path.join(outDir, 'compare.svg'), 'utf8');
    expect(svg).toMatch(/^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg" width="1200" height="700"/);
    for (const g of ['a2c/cartpole (5 runs)', 'reinforce/cartpole (5 runs)']) {
      expect(svg).toContain(`<path class="band" data-series="${g}"`);
      expect(svg).toContain(`<path class="line" data-series="${g}"`);
    }
    expect(svg).toContain('CartPole-v1: greedy evaluation return vs env steps');
  });

  it('--json: scores equal the last evaluations in metrics.jsonl, IQM and intervals agree with the stats', () => {
    const out = runCompare([runsDir], { groupBy: 'agent-preset', reps: 2000, seed: 3, confidence: 0.95, curve: 'eval', normalize: 'none', plot: false, json: true });
    expect(out.files).toBeNull();
    const j = JSON.parse(out.text) as {
      groups: { name: string; runs: { dir: string; score: number; source: string; seed: number }[]; perEnv: { scores: number[]; iqm: { value: number; lo: number; hi: number } }[]; curves: { points: { step: number; n: number }[] }[] }[];
      pairs: { probability: { value: number } }[];
    };
    expect(j.groups.map((g) => g.name)).toEqual(['a2c/cartpole', 'reinforce/cartpole']);
    for (const g of j.groups) {
      expect(g.runs.map((r) => r.seed)).toEqual([1, 2, 3, 4, 5]);
      for (const run of g.runs) {
        const evals = fs.readFileSync(path.join(run.dir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { type: string; meanReturn: number }).filter((e) => e.type === 'eval');
        expect(run.score).toBe(evals.at(-1)!.meanReturn);
        expect(run.source).toBe('eval');
      }
      const env = g.perEnv[0]!;
      expect(env.iqm.value).toBeCloseTo(mean([...env.scores].sort((x, y) => x - y).slice(1, 4)), 10);
      expect(env.iqm.lo).toBeLessThanOrEqual(env.iqm.value);
      expect(env.iqm.hi).toBeGreaterThanOrEqual(env.iqm.value);
      expect(g.curves[0]!.points.map((p) => [p.step, p.n])).toEqual([
        [1000, 5],
        [2000, 5],
        [3000, 5],
      ]);
    }
    const [a2c, rf] = j.groups;
    expect(j.pairs[0]!.probability.value).toBeCloseTo(probabilityOfImprovement([a2c!.perEnv[0]!.scores], [rf!.perEnv[0]!.scores]), 12);
  });
});

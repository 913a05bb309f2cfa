/**
 * Objectives and the median pruner (sweep/objective.ts, sweep/pruner.ts) on hand-made curves and tables with
 * numbers worked out by hand, and the curves of the fixture runs' metrics.
 */
import { describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { bootstrapInterval, iqm, makeRng, mean } from '../analysis/stats.js';
import type { ObjectiveSpec, StepValue, TrialRecord } from '../protocol/experiments.js';
import { carriedValueAt, curveDirection, isBetter, objectiveThreshold, runBudget, runCurve, runValue, trialCurve, trialObjective, OBJECTIVE_BOOTSTRAP_REPS } from '../sweep/objective.js';
import { bestSoFar, pruneThresholds, prunedAt, shouldPrune } from '../sweep/pruner.js';
import { parseSpec } from '../sweep/spec.js';

const fixtures = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'runs');
const readEvents = (run: string): unknown[] =>
  fs
    .readFileSync(path.join(fixtures, run, 'metrics.jsonl'), 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l));

const pts = (...pairs: [number, number][]): StepValue[] => pairs.map(([step, value]) => ({ step, value }));
const objective = (reduce: ObjectiveSpec['reduce'], extra: Partial<ObjectiveSpec> = {}): ObjectiveSpec => ({ metric: 'eval', reduce, direction: reduce === 'steps-to-threshold' ? 'minimize' : 'maximize', ...extra });

describe('run curves from metrics events', () => {
  it('RL: the evaluations’ mean return at their steps (the fixture DQN run)', () => {
    const events = readEvents('rl-dqn-cartpole');
    const evals = events.filter((e: any) => e.type === 'eval') as { step: number; meanReturn: number }[];
    expect(evals.length).toBeGreaterThan(1);
    expect(runCurve('rl', events, 'eval')).toEqual(evals.map((e) => ({ step: e.step, value: e.meanReturn })));
  });

  it('RL: sorted by step, a repeated step’s last record wins, other records and damaged values ignored', () => {
    const events = [
      { type: 'eval', step: 200, meanReturn: 30 },
      { type: 'episode', step: 150, return: 99 },
      { type: 'eval', step: 100, meanReturn: 10 },
      { type: 'update', step: 200, stats: { eval: 5 } },
      { type: 'eval', step: 200, meanReturn: 35 },
      { type: 'eval', step: 300, meanReturn: null },
      null,
      'noise',
    ];
    expect(runCurve('rl', events, 'eval')).toEqual(pts([100, 10], [200, 35]));
  });

  it('GAN: a metric by name from update stats (the fixture run) or from any record carrying it', () => {
    const events = readEvents('gan-tiny');
    const updates = events.filter((e: any) => e.type === 'update') as { step: number; stats: Record<string, number> }[];
    expect(runCurve('gan', events, 'gLoss')).toEqual(updates.map((u) => ({ step: u.step, value: u.stats.gLoss })));
    const withFd = [...events, { type: 'gan-eval', step: 4, fd: 812.5 }, { type: 'gan-eval', step: 2, fd: 900 }];
    expect(runCurve('gan', withFd, 'fd')).toEqual(pts([2, 900], [4, 812.5]));
    expect(runCurve('gan', events, 'fd')).toEqual([]);
  });

  it('AlphaZero-lite: the mean score over the opponents of an iteration, one opponent’s, or a loss', () => {
    const events = [
      { type: 'iteration', iteration: 1, policyLoss: 3.1, valueLoss: 0.7 },
      { type: 'go-eval', iteration: 5, opponent: 'random', games: 10, wins: 9, losses: 1, draws: 0, score: 0.9 },
      { type: 'go-eval', iteration: 5, opponent: 'mcts', games: 10, wins: 3, losses: 7, draws: 0, score: 0.3 },
      { type: 'iteration', iteration: 5, policyLoss: 2.5, valueLoss: null },
      { type: 'go-eval', iteration: 10, opponent: 'random', games: 10, wins: 10, losses: 0, draws: 0, score: 1 },
    ];
    expect(runCurve('go-alphazero', events, 'score')).toEqual(pts([5, 0.6], [10, 1]));
    expect(runCurve('go-alphazero', events, 'score:mcts')).toEqual(pts([5, 0.3]));
    expect(runCurve('go-alphazero', events, 'policyLoss')).toEqual(pts([1, 3.1], [5, 2.5]));
    expect(runCurve('go-alphazero', events, 'valueLoss')).toEqual(pts([1, 0.7]));
  });
});

describe('a run’s value', () => {
  const curve = pts([1000, 20], [2000, 60], [3000, 200], [4000, 480], [5000, 500]);

  it('iqm-last and mean-last: the last value; nothing without a curve', () => {
    expect(runValue(curve, objective('iqm-last'), 5000, null)).toBe(500);
    expect(runValue(curve, objective('mean-last'), 5000, null)).toBe(500);
    expect(runValue([], objective('iqm-last'), 5000, null)).toBeNull();
  });

  it('auc: the mean value over the budget (held before the first and after the last point)', () => {
    // 1000·20 + (20+60)/2·1000 + (60+200)/2·1000 + (200+480)/2·1000 + (480+500)/2·1000 + 1000·500, over 6000
    const area = 20_000 + 40_000 + 130_000 + 340_000 + 490_000 + 500_000;
    expect(runValue(curve, objective('auc'), 6000, null)).toBeCloseTo(area / 6000, 10);
    // a budget shorter than the curve: the curve's end counts
    expect(runValue(pts([0, 1], [10, 3]), objective('auc'), 5, null)).toBeCloseTo(2, 12);
    expect(runValue(pts([0, 7]), objective('auc'), 0, null)).toBe(7);
  });

  it('steps-to-threshold: the first step that reaches it, else the budget', () => {
    expect(runValue(curve, objective('steps-to-threshold'), 6000, 475)).toBe(4000);
    expect(runValue(curve, objective('steps-to-threshold'), 6000, 200)).toBe(3000);
    expect(runValue(curve, objective('steps-to-threshold'), 6000, 501)).toBe(6000);
    expect(runValue(curve, objective('steps-to-threshold'), 6000, null)).toBeNull();
    // a distance reaches its threshold from above
    const fd = pts([10, 300], [20, 120], [30, 90]);
    expect(runValue(fd, { metric: 'fd', reduce: 'steps-to-threshold', direction: 'minimize' }, 40, 100)).toBe(30);
    expect(runValue(fd, { metric: 'fd', reduce: 'steps-to-threshold', direction: 'minimize' }, 40, 50)).toBe(40);
  });
});

describe('a trial’s objective over seeds', () => {
  it('iqm-last is analysis/stats iqm of the seeds’ values, with a seeded 95% bootstrap interval', () => {
    const values = [120, 480, 500, 95];
    const { objective: point, interval } = trialObjective(values, objective('iqm-last'));
    expect(point).toBe(iqm(values));
    expect(point).toBe((120 + 480) / 2);
    const expected = bootstrapInterval([values], (s) => iqm(s[0]!), { reps: OBJECTIVE_BOOTSTRAP_REPS, rng: makeRng('trial-objective:4') });
    expect(interval).toEqual([expected.lo, expected.hi]);
    expect(interval![0]).toBeGreaterThanOrEqual(95);
    expect(interval![1]).toBeLessThanOrEqual(500);
    expect(interval![0]).toBeLessThan(point!);
    expect(interval![1]).toBeGreaterThan(point!);
    expect(trialObjective(values, objective('iqm-last'))).toEqual({ objective: point, interval });
  });

  it('the other reduces average; nulls (runs without a value) are left out', () => {
    expect(trialObjective([10, null, 30, 50], objective('mean-last')).objective).toBe(30);
    expect(trialObjective([3000, 5000], objective('steps-to-threshold')).objective).toBe(4000);
    expect(trialObjective([100, 200, 300, 1000], objective('auc')).objective).toBe(mean([100, 200, 300, 1000]));
    expect(trialObjective([42, null], objective('auc'))).toEqual({ objective: 42, interval: null });
    expect(trialObjective([null, null], objective('iqm-last'))).toEqual({ objective: null, interval: null });
    const same = trialObjective([7, 7, 7], objective('mean-last'));
    expect(same).toEqual({ objective: 7, interval: [7, 7] });
  });

  it('the trial curve: the mean over seeds at every step, each seed carrying its last value', () => {
    const a = pts([100, 10], [200, 20], [300, 30]);
    const b = pts([100, 30], [200, 40]);
    const c = pts([150, 0]);
    expect(trialCurve([a, b])).toEqual(pts([100, 20], [200, 30], [300, 35]));
    // c has no value at 100 yet: the mean there is over a and b
    expect(trialCurve([a, b, c])).toEqual(pts([100, 20], [150, 40 / 3], [200, 20], [300, 70 / 3]));
    expect(trialCurve([])).toEqual([]);
    expect(carriedValueAt(a, 99)).toBeNull();
    expect(carriedValueAt(a, 250)).toBe(20);
    expect(carriedValueAt(a, 1e9)).toBe(30);
  });

  it('isBetter: strict, direction-aware, null worst', () => {
    expect(isBetter(2, 1, 'maximize')).toBe(true);
    expect(isBetter(2, 1, 'minimize')).toBe(false);
    expect(isBetter(1, 1, 'maximize')).toBe(false);
    expect(isBetter(0, null, 'minimize')).toBe(true);
    expect(isBetter(null, 0, 'maximize')).toBe(false);
    expect(isBetter(null, null, 'maximize')).toBe(false);
  });
});

describe('the spec’s threshold, budget and curve direction', () => {
  const spec = (extra: string) => parseSpec(`name: t\nrun: {kind: rl, env: CartPole-v1, agent: a2c, steps: 8000}\nseeds: [0]\nsearch: {gamma: {uniform: [0.9, 0.99]}}\ntrials: 3\n${extra}`, 't.yml');
  it('the env’s reward threshold unless the spec gives one', () => {
    expect(objectiveThreshold(spec('objective: {reduce: steps-to-threshold}\n'))).toBe(475);
    expect(objectiveThreshold(spec('objective: {reduce: steps-to-threshold, threshold: 200}\n'))).toBe(200);
    const gan = parseSpec('name: g\nrun: {kind: gan, category: apple, preset: tiny, iterations: 50}\nseeds: [0]\nsearch: {labelNoise: {uniform: [0, 0.1]}}\ntrials: 2\n', 'g.yml');
    expect(objectiveThreshold(gan)).toBeNull();
    expect(runBudget(gan)).toBe(50);
    expect(runBudget(spec(''))).toBe(8000);
  });
  it('steps-to-threshold prunes on the returns (which rise); other objectives on their own direction', () => {
    expect(curveDirection(spec('objective: {reduce: steps-to-threshold}\n').objective)).toBe('maximize');
    expect(curveDirection(spec('objective: {reduce: auc}\n').objective)).toBe('maximize');
    expect(curveDirection({ metric: 'fd', reduce: 'iqm-last', direction: 'minimize' })).toBe('minimize');
  });
});

describe('the median pruner', () => {
  const base = parseSpec(
    'name: p\nrun: {kind: rl, env: CartPole-v1, agent: a2c, steps: 5000}\nseeds: [0]\nsearch: {gamma: {uniform: [0.9, 0.99]}}\ntrials: 20\npruner: {type: median, warmupSteps: 2000, startupTrials: 3}\n',
    'p.yml',
  );
  const trial = (n: number, state: TrialRecord['state'], curve: StepValue[]): TrialRecord => ({
    trial: n,
    params: { gamma: 0.95 },
    state,
    objective: curve.at(-1)?.value ?? null,
    interval: null,
    seeds: [],
    curve,
    startedAt: '2026-01-01T00:00:00.000Z',
    endedAt: '2026-01-01T00:01:00.000Z',
  });
  // A hand-made table: three complete trials, one pruned and one failed (neither counts).
  const table = [
    trial(0, 'done', pts([1000, 10], [2000, 50], [3000, 100], [4000, 300])),
    trial(1, 'done', pts([1000, 30], [2000, 20], [3000, 200], [4000, 400])),
    trial(2, 'done', pts([1000, 20], [2000, 80], [3000, 150])),
    trial(3, 'pruned', pts([1000, 1], [2000, 1])),
    trial(4, 'failed', []),
  ];

  it('fixes the medians of the visible complete trials (carrying a shorter trial’s last value)', () => {
    expect(pruneThresholds(base, table)).toEqual({
      warmupSteps: 2000,
      // step 4000: trial 2 stopped at 3000 and carries 150 → median(300, 400, 150) = 300
      thresholds: pts([1000, 20], [2000, 50], [3000, 150], [4000, 300]),
    });
  });

  it('none while fewer complete trials than startupTrials are visible, or without a median pruner', () => {
    expect(pruneThresholds(base, table.slice(0, 2))).toBeNull();
    expect(pruneThresholds(base, [table[0]!, table[1]!, table[3]!, table[4]!])).toBeNull();
    expect(pruneThresholds({ ...base, pruner: { type: 'none' } }, table)).toBeNull();
    expect(pruneThresholds({ ...base, pruner: { type: 'median', warmupSteps: 0, startupTrials: 0 } }, [])).toBeNull();
    const two = pruneThresholds({ ...base, pruner: { type: 'median', warmupSteps: 0, startupTrials: 2 } }, table.slice(0, 2));
    expect(two).toEqual({ warmupSteps: 0, thresholds: pts([1000, 20], [2000, 35], [3000, 150], [4000, 350]) });
  });

  it('prunes a run worse than the threshold in force, from the warm-up on', () => {
    const prune = pruneThresholds(base, table);
    // before the warm-up: never
    expect(shouldPrune(prune, 1000, 0, 'maximize')).toBe(false);
    expect(shouldPrune(prune, 1999, 0, 'maximize')).toBe(false);
    // at 2000 the threshold is 50
    expect(shouldPrune(prune, 2000, 49, 'maximize')).toBe(true);
    expect(shouldPrune(prune, 2000, 50, 'maximize')).toBe(false);
    // between threshold steps the earlier one holds; past the last, the last
    expect(shouldPrune(prune, 2500, 49, 'maximize')).toBe(true);
    expect(shouldPrune(prune, 3500, 149, 'maximize')).toBe(true);
    expect(shouldPrune(prune, 3500, 151, 'maximize')).toBe(false);
    expect(shouldPrune(prune, 9000, 299, 'maximize')).toBe(true);
    // minimising: worse is higher
    expect(shouldPrune(prune, 3000, 151, 'minimize')).toBe(true);
    expect(shouldPrune(prune, 3000, 149, 'minimize')).toBe(false);
    expect(shouldPrune(prune, 3000, Number.NaN, 'maximize')).toBe(true);
    expect(shouldPrune(null, 3000, -1e9, 'maximize')).toBe(false);
    // no threshold in force yet (warm-up 0, first threshold at 1000)
    expect(shouldPrune({ warmupSteps: 0, thresholds: pts([1000, 20]) }, 500, 0, 'maximize')).toBe(false);
  });

  it("compares a run's best value so far, as Optuna does: a dip after good evaluations is not pruned", () => {
    const prune = { warmupSteps: 2000, thresholds: pts([1000, 20], [2000, 50], [3000, 150], [4000, 300]) };
    // reaches 500 at step 2000, dips to 40 at 3000 (below 150): still its best is 500
    expect(prunedAt(prune, pts([1000, 30], [2000, 500], [3000, 40], [4000, 60]), 'maximize')).toBeNull();
    // never better than 140: pruned at 3000 (threshold 150), not at 2000 (140 > 50)
    expect(prunedAt(prune, pts([1000, 30], [2000, 140], [3000, 100], [4000, 400]), 'maximize')).toBe(3000);
    // minimising: the lowest so far counts
    expect(prunedAt(prune, pts([1000, 70], [2000, 60], [3000, 200]), 'minimize')).toBe(2000);
    expect(prunedAt(prune, pts([1000, 70], [2000, 40], [3000, 200], [4000, 250]), 'minimize')).toBeNull();
    // a NaN evaluation past the warm-up is pruned
    expect(prunedAt(prune, pts([1000, 30], [2000, Number.NaN]), 'maximize')).toBe(2000);
    expect(bestSoFar(null, 5, 'maximize')).toBe(5);
    expect(bestSoFar(5, 3, 'maximize')).toBe(5);
    expect(bestSoFar(5, 3, 'minimize')).toBe(3);
  });

  it('gives the same thresholds whatever the order of the table (a resume rebuilds them from trials.jsonl)', () => {
    const shuffled = [table[2]!, table[4]!, table[0]!, table[3]!, table[1]!];
    expect(pruneThresholds(base, shuffled)).toEqual(pruneThresholds(base, table));
  });
});

/**
 * envs/normalize.ts: RunningMeanStd's parallel merge against hand-computed values and against the statistics of
 * the whole stream, the normalisation formula, and Gymnasium's NormalizeObservation / NormalizeReward wrappers
 * (single env and vector): values, the discounted return that restarts only on `terminated`, frozen statistics,
 * and snapshot → restore continuing exactly.
 */
import { describe, expect, it } from 'vitest';
import {
  DiscountedReturnScaler,
  NormalizeObservation,
  NormalizeReward,
  RunningMeanStd,
  VectorNormalizeObservation,
  VectorNormalizeReward,
  make,
  makeVec,
  normalizeRows,
  type Env,
} from '../envs/index.js';

describe('RunningMeanStd', () => {
  it('starts at mean 0, variance 1, count 1e-4 and merges a batch by the parallel formula', () => {
    const rms = new RunningMeanStd(1);
    expect([rms.mean[0], rms.var[0], rms.count]).toEqual([0, 1, 1e-4]);
    rms.update([1, 3], 2);
    // Batch mean 2, variance 1; δ = 2, n' = 2.0001: μ = 4 / 2.0001, σ² = (1e-4 + 2 + 4 · 1e-4 · 2 / 2.0001) / 2.0001.
    expect(rms.mean[0]).toBeCloseTo(4 / 2.0001, 14);
    expect(rms.var[0]).toBeCloseTo((1e-4 + 2 + (4 * 1e-4 * 2) / 2.0001) / 2.0001, 14);
    expect(rms.count).toBeCloseTo(2.0001, 14);
  });

  it('batches merged one by one give the statistics of the whole stream (per feature)', () => {
    const rows: number[][] = [];
    for (let i = 0; i < 300; i++) rows.push([Math.sin(i) * 3 + 5, (i % 7) - 2]);
    const rms = new RunningMeanStd(2, 0);
    rms.count = 0;
    for (let i = 0; i < 300; i += 30) rms.update(rows.slice(i, i + 30).flat(), 30);
    for (const j of [0, 1]) {
      const xs = rows.map((r) => r[j]!);
      const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
      const variance = xs.reduce((a, b) => a + (b - mean) ** 2, 0) / xs.length;
      expect(rms.mean[j]).toBeCloseTo(mean, 10);
      expect(rms.var[j]).toBeCloseTo(variance, 10);
    }
    expect(rms.count).toBe(300);
  });

  it('normalises as (x − μ) / √(σ² + ε), clipped when asked; JSON round trip is exact', () => {
    const rms = new RunningMeanStd(2);
    rms.mean.set([1, -2]);
    rms.var.set([4, 0.25]);
    expect(Array.from(normalizeRows(rms, [3, -2, 1, 8], 2, 0))).toEqual([1, 0, 0, 20]);
    expect(Array.from(normalizeRows(rms, [3, -2, 1, 8], 2, 0, 10))).toEqual([1, 0, 0, 10]);
    rms.update([0.1, 0.2, 0.3, 0.4], 2);
    const copy = RunningMeanStd.fromJSON(JSON.parse(JSON.stringify(rms.toJSON())));
    expect(Array.from(copy.mean)).toEqual(Array.from(rms.mean));
    expect(Array.from(copy.var)).toEqual(Array.from(rms.var));
    expect(copy.count).toBe(rms.count);
    expect(() => rms.load({ mean: [1], var: [1], count: 1 }, 'checkpoint stats')).toThrow('checkpoint stats: expected mean and var of 2 numbers and a count');
  });
});

describe('DiscountedReturnScaler', () => {
  it('R ← γ (1 − terminated) R + r per sub-env; rewards divided by √(Var[R] + ε), no mean subtracted', () => {
    const s = new DiscountedReturnScaler(2, 0.5, 0);
    s.rms.count = 0;
    // Step 1: R = [1, 2]; Var = 0.25 → rewards / 0.5.
    expect(Array.from(s.scale([1, 2], [0, 0]))).toEqual([2, 4]);
    // Step 2: sub-env 0 terminates: its R = 0·… + 3 = 3; sub-env 1: 0.5 · 2 + 1 = 2. Var of [1, 2, 3, 2] = 0.5.
    const out = s.scale([3, 1], [1, 0]);
    expect(Array.from(s.returns)).toEqual([3, 2]);
    expect(out[0]).toBeCloseTo(3 / Math.sqrt(0.5), 12);
    expect(out[1]).toBeCloseTo(1 / Math.sqrt(0.5), 12);
    // Clipping applies to the scaled reward.
    expect(Array.from(s.scale([100, 0], [0, 0], false, 10))).toEqual([10, 0]);
  });
});

describe('Gymnasium wrappers', () => {
  it('NormalizeObservation: each observation joins the statistics, then comes back normalised (float32)', () => {
    const env = new NormalizeObservation(make('CartPole-v1') as Env<Float32Array, number>);
    const raw = make('CartPole-v1') as Env<Float32Array, number>;
    const shadow = new RunningMeanStd(4);
    const [first] = env.reset({ seed: 3 });
    const [rawFirst] = raw.reset({ seed: 3 });
    shadow.update(rawFirst, 1);
    expect(first).toEqual(normalizeRows(shadow, rawFirst, 1));
    for (let t = 0; t < 20; t++) {
      const [obs] = env.step(t % 2);
      const [rawObs] = raw.step(t % 2);
      shadow.update(rawObs, 1);
      expect(obs).toEqual(normalizeRows(shadow, rawObs, 1));
    }
    expect(env.observationSpace.toString()).toMatch(/-Infinity/);
    // Frozen statistics: the count stops.
    env.updateRunningMean = false;
    const count = env.obsRms.count;
    env.step(0);
    expect(env.obsRms.count).toBe(count);
  });

  it('NormalizeReward: the return restarts on terminated, not on truncated; snapshot → restore continues exactly', () => {
    const env = new NormalizeReward(make('CartPole-v1', { maxEpisodeSteps: 5 }), 0.9);
    env.reset({ seed: 1 });
    const rewards: number[] = [];
    let truncatedSeen = false;
    for (let t = 0; t < 4; t++) {
      const [, r, , truncated] = env.step(1);
      rewards.push(r);
      truncatedSeen ||= truncated;
    }
    // Hand check of the first step: R = 1, Var after one merge (from mean 0, var 1, count 1e-4).
    const check = new RunningMeanStd(1);
    check.update([1], 1);
    expect(rewards[0]).toBeCloseTo(1 / Math.sqrt(check.var[0]! + 1e-8), 12);
    const [, , , truncated] = env.step(1);
    expect(truncated || truncatedSeen).toBe(true);
    // Truncated: the return carries on into the next episode (Gymnasium's NormalizeReward).
    const before = env.scaler.returns[0]!;
    env.reset();
    env.step(1);
    expect(env.scaler.returns[0]).toBeCloseTo(0.9 * before + 1, 12);
    const snap = structuredClone(env.snapshot());
    const a = [0, 1, 2].map(() => env.step(0)[1]);
    const copy = new NormalizeReward(make('CartPole-v1', { maxEpisodeSteps: 5 }), 0.9);
    copy.restore(snap);
    expect([0, 1, 2].map(() => copy.step(0)[1])).toEqual(a);
  });

  it('vector versions: one statistics object over every sub-env; snapshot → restore continues exactly', () => {
    const envs = new VectorNormalizeReward(new VectorNormalizeObservation(makeVec('CartPole-v1', 3, { autoresetMode: 'same-step' })), 0.99);
    const raw = makeVec('CartPole-v1', 3, { autoresetMode: 'same-step' });
    const [obs] = envs.reset({ seed: 5 });
    const [rawObs] = raw.reset({ seed: 5 });
    const shadow = new RunningMeanStd(4);
    shadow.update(rawObs, 3);
    expect(obs).toEqual(normalizeRows(shadow, rawObs, 3));
    const actions = Int32Array.from([0, 1, 1]);
    for (let t = 0; t < 30; t++) envs.step(actions);
    const inner = envs.env as VectorNormalizeObservation;
    expect(inner.obsRms.count).toBeCloseTo(31 * 3, 3);
    const snap = structuredClone(envs.snapshot());
    const next = [0, 1, 2, 3].map(() => envs.step(actions));
    const copy = new VectorNormalizeReward(new VectorNormalizeObservation(makeVec('CartPole-v1', 3, { autoresetMode: 'same-step' })), 0.99);
    copy.restore(snap);
    for (const expected of next) {
      const got = copy.step(actions);
      expect(got[0]).toEqual(expected[0]);
      expect(got[1]).toEqual(expected[1]);
    }
  });

  it('a Discrete observation space is refused with a clear error', () => {
    expect(() => new NormalizeObservation(make('Taxi-v3') as unknown as Env<Float32Array, number>)).toThrow('NormalizeObservation needs a Box observation space, not Discrete(500)');
  });
});

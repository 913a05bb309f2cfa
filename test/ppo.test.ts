/**
 * PPO: its loss terms against hand-computed values and against tfjs autodiff, the Gaussian head's math, action
 * masks (Taxi, Snake), determinism, exact save/load with normalisation statistics, no tensor leaks, target-KL
 * early stopping, a short learning run on CartPole-v1 with the rl-zoo preset (and `lab eval` of its policy).
 * kill -9 → --resume: test/ppo_resume.test.ts.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Box, Discrete } from '../envs/index.js';
import { initCompute, tf } from '../lab/compute.js';
import { orthogonalWeights, mlpSpec } from '../lab/network.js';
import { Rng } from '../envs/index.js';
import { OBS_NORMALIZATION_FILE, PPO, PPO_DEFAULTS, type PPOConfig } from '../agents/ppo.js';
import {
  categoricalTerms,
  clippedSurrogateLoss,
  clippedValueLoss,
  gaussianLogProb,
  gaussianTerms,
  maskBias,
  ppoDiagnostics,
  ppoLoss,
  sampleGaussian,
} from '../agents/policy_gradient.js';
import { evaluateRun, startTraining } from '../agents/train.js';
import { findPreset, resolveAgentConfig } from '../agents/registry.js';
import type { UpdateStats } from '../agents/agent.js';
import { Driver } from './agent_driver.js';

/** The run length PPO is told in the driver tests (its learning rate and clip range anneal over it). */
const PPO_TOTAL_STEPS = 20_000;

beforeAll(async () => {
  await initCompute('wasm');
});

const tmpRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'ppo-test-'));
afterAll(() => fs.rmSync(tmpRoot, { recursive: true, force: true }));
const tmp = () => fs.mkdtempSync(path.join(tmpRoot, 'x-'));

const LOG_2PI_HALF = 0.5 * Math.log(2 * Math.PI);

describe('PPO loss terms by hand', () => {
  // Two transitions, two actions, logits 0 → π = [½, ½], log π(a) = −log 2 for both rows. The old log-probs put
  // the ratios at ρ_0 = 1.5 (outside 1 ± 0.2) and ρ_1 = 0.9 (inside).
  const logits = [0, 0, 0, 0];
  const actions = [0, 1];
  const oldLogProb = [-Math.log(2) - Math.log(1.5), -Math.log(2) - Math.log(0.9)];
  const advantages = [2, -1];
  const values = [2, 0.5];
  const oldValues = [1, 0.4];
  const returns = [3, 1];
  const batch = { m: 2, actions, oldLogProb, advantages, returns, oldValues, bias: null };

  it('clipped surrogate, value loss (plain and clipped), entropy, approximate KL and clip fraction', () => {
    const r = ppoLoss(logits, values, null, 2, batch, { clipRange: 0.2, clipRangeVf: null, vfCoef: 0.5, entCoef: 0.01 });
    // Row 0: min(1.5·2, 1.2·2) = 2.4; row 1: min(0.9·−1, 0.9·−1) = −0.9 → L = −(2.4 − 0.9)/2 = −0.75.
    expect(r.policyLoss).toBeCloseTo(-0.75, 12);
    // ((2 − 3)² + (0.5 − 1)²) / 2 = 0.625.
    expect(r.valueLoss).toBeCloseTo(0.625, 12);
    expect(r.entropy).toBeCloseTo(Math.log(2), 12);
    // KL k3: ((1.5 − 1) − log 1.5 + (0.9 − 1) − log 0.9) / 2.
    expect(r.approxKl).toBeCloseTo((0.5 - Math.log(1.5) + -0.1 - Math.log(0.9)) / 2, 12);
    expect(r.clipFraction).toBe(0.5);
    expect(r.loss).toBeCloseTo(-0.75 + 0.5 * 0.625 - 0.01 * Math.log(2), 12);
    // Value clipping at 0.5: V'_0 = 1 + clip(1, ±0.5) = 1.5 → (1.5 − 3)² = 2.25; row 1 moves 0.1, unclipped: 0.25.
    const clipped = ppoLoss(logits, values, null, 2, batch, { clipRange: 0.2, clipRangeVf: 0.5, vfCoef: 0.5, entCoef: 0 });
    expect(clipped.valueLoss).toBeCloseTo((2.25 + 0.25) / 2, 12);
    // The clipped row passes no value gradient; the other one 0.5 · 2 · (0.5 − 1) / 2.
    expect(clipped.gradValues[0]).toBe(0);
    expect(clipped.gradValues[1]).toBeCloseTo(-0.25, 6);
  });

  it('the tfjs building blocks give the same numbers', () => {
    const [surrogate, valueLoss, clippedValue, kl, frac] = tf.tidy(() => {
      const lp = tf.tensor1d([-Math.log(2), -Math.log(2)]);
      const old = tf.tensor1d(oldLogProb);
      const d = ppoDiagnostics(lp, old, 0.2);
      return [
        clippedSurrogateLoss(lp, old, tf.tensor1d(advantages), 0.2),
        clippedValueLoss(tf.tensor1d(values), tf.tensor1d(oldValues), tf.tensor1d(returns), null),
        clippedValueLoss(tf.tensor1d(values), tf.tensor1d(oldValues), tf.tensor1d(returns), 0.5),
        d.approxKl,
        d.clipFraction,
      ].map((t) => t.dataSync()[0]!);
    });
    expect(surrogate).toBeCloseTo(-0.75, 5);
    expect(valueLoss).toBeCloseTo(0.625, 5);
    expect(clippedValue).toBeCloseTo(1.25, 5);
    expect(kl).toBeCloseTo((0.5 - Math.log(1.5) + -0.1 - Math.log(0.9)) / 2, 5);
    expect(frac).toBeCloseTo(0.5, 6);
  });

  it('Gaussian log-probability and entropy: N(a; μ, σ²) per dimension, summed', () => {
    // μ = [0, 1], log σ = [0, log 2], a = [1, 2]: log N(1; 0, 1) = −½ − ½ log 2π; log N(2; 1, 4) = −⅛ − log 2 − ½ log 2π.
    const expected = -0.5 - LOG_2PI_HALF + (-0.125 - Math.log(2) - LOG_2PI_HALF);
    expect(gaussianLogProb([0, 1], [0, Math.log(2)], [1, 2], 1, 2)[0]).toBeCloseTo(expected, 12);
    const [logProb, entropy] = tf.tidy(() => {
      const t = gaussianTerms(tf.tensor2d([0, 1], [1, 2]), tf.tensor1d([0, Math.log(2)]), tf.tensor2d([1, 2], [1, 2]));
      return [t.logProb.dataSync()[0]!, t.entropy.dataSync()[0]!];
    });
    expect(logProb).toBeCloseTo(expected, 5);
    // H = Σ_d (½ + ½ log 2π + log σ_d).
    expect(entropy).toBeCloseTo(1 + 2 * LOG_2PI_HALF + Math.log(2), 5);
    // Sampling: the greedy action is the mean; with an RNG, μ + σ ξ with ξ from Rng.normal().
    expect(Array.from(sampleGaussian(Float32Array.from([0.5, -1]), [0, Math.log(2)], 1, 2, null))).toEqual([0.5, -1]);
    const rng = new Rng(3);
    const xi = [new Rng(3).normal()];
    const a = sampleGaussian(Float32Array.from([0.5]), [Math.log(2)], 1, 1, rng);
    expect(a[0]).toBeCloseTo(0.5 + 2 * xi[0]!, 5);
  });

  it('many samples of the Gaussian sampler have mean μ and std σ', () => {
    const n = 20_000;
    const a = sampleGaussian(new Float32Array(n).fill(1.5), [Math.log(0.5)], n, 1, new Rng(9));
    const mean = a.reduce((s, x) => s + x, 0) / n;
    const std = Math.sqrt(a.reduce((s, x) => s + (x - mean) ** 2, 0) / n);
    expect(mean).toBeCloseTo(1.5, 1);
    expect(std).toBeCloseTo(0.5, 1);
  });
});

describe("ppoLoss's hand-written gradient equals tfjs autodiff of the loss built from tfjs ops", () => {
  const options = { clipRange: 0.2, clipRangeVf: 0.3, vfCoef: 0.7, entCoef: 0.05 };
  const rng = new Rng(4);
  const m = 6;
  const rand = (len: number, scale = 1) => Array.from({ length: len }, () => rng.normal() * scale);

  /** Autodiff of the same loss, from categoricalTerms / gaussianTerms and the tfjs loss functions. */
  function autodiff(policyRows: number[], width: number, values: number[], logStd: number[] | null, batch: Parameters<typeof ppoLoss>[4]) {
    let out: { loss: number; gradPolicy: number[]; gradValues: number[]; gradLogStd: number[] | null } | null = null;
    tf.tidy(() => {
      const policy = tf.variable(tf.tensor2d(policyRows, [m, width]));
      const v = tf.variable(tf.tensor1d(values));
      const s = logStd ? tf.variable(tf.tensor1d(logStd)) : null;
      const vars = [policy, v, ...(s ? [s] : [])];
      const { value, grads } = tf.variableGrads(() => {
        const terms = s
          ? gaussianTerms(policy, s, tf.tensor2d(Array.from(batch.actions), [m, width]))
          : categoricalTerms(policy, tf.tensor1d(Array.from(batch.actions), 'int32'), width, batch.bias ? tf.tensor2d(Array.from(batch.bias), [m, width]) : null);
        const pg = clippedSurrogateLoss(terms.logProb, tf.tensor1d(Array.from(batch.oldLogProb)), tf.tensor1d(Array.from(batch.advantages)), options.clipRange);
        const vl = clippedValueLoss(v, tf.tensor1d(Array.from(batch.oldValues)), tf.tensor1d(Array.from(batch.returns)), options.clipRangeVf);
        return tf.addN([pg, tf.mul(vl, options.vfCoef), tf.mul(tf.mean(terms.entropy), -options.entCoef)]) as tf.Scalar;
      }, vars);
      out = {
        loss: value.dataSync()[0]!,
        gradPolicy: Array.from(grads[policy.name]!.dataSync()),
        gradValues: Array.from(grads[v.name]!.dataSync()),
        gradLogStd: s ? Array.from(grads[s.name]!.dataSync()) : null,
      };
      for (const x of vars) x.dispose();
    });
    return out!;
  }

  const close = (a: ArrayLike<number>, b: ArrayLike<number>) => {
    expect(a.length).toBe(b.length);
    for (let i = 0; i < a.length; i++) expect(a[i]!).toBeCloseTo(b[i]!, 4);
  };

  it('categorical policy with an action mask', () => {
    const k = 3;
    const logits = rand(m * k);
    const masks = Int8Array.from([1, 1, 1, 1, 0, 1, 0, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1]);
    const bias = maskBias(masks, m, k)!;
    const actions = [0, 2, 1, 2, 0, 1];
    // Old log-probs near the current ones, so some ratios clip and some do not.
    const current = tf.tidy(() => categoricalTerms(tf.tensor2d(logits, [m, k]), tf.tensor1d(actions, 'int32'), k, tf.tensor2d(bias, [m, k])).logProb.dataSync());
    const oldLogProb = Array.from(current, (x, i) => x + [0.5, -0.05, 0.1, -0.4, 0.02, 0.3][i]!);
    const values = rand(m);
    const batch = { m, actions, oldLogProb, advantages: rand(m), returns: rand(m), oldValues: values.map((x, i) => x + [0.5, -0.1, 0.05, -0.6, 0, 0.2][i]!), bias };
    const mine = ppoLoss(logits, values, null, k, batch, options);
    const ref = autodiff(logits, k, values, null, batch);
    expect(mine.loss).toBeCloseTo(ref.loss, 4);
    close(mine.gradPolicy, ref.gradPolicy);
    close(mine.gradValues, ref.gradValues);
    // No gradient reaches a masked logit.
    for (let j = 0; j < m * k; j++) if (masks[j] === 0) expect(mine.gradPolicy[j]).toBe(0);
  });

  it('diagonal Gaussian policy (means and log σ)', () => {
    const d = 2;
    const mean = rand(m * d);
    const logStd = [-0.3, 0.2];
    const actions = mean.map((x, j) => x + Math.exp(logStd[j % d]!) * rng.normal());
    const current = gaussianLogProb(mean, logStd, actions, m, d);
    const oldLogProb = Array.from(current, (x, i) => x + [0.4, -0.1, 0.05, -0.5, 0.01, 0.25][i]!);
    const values = rand(m);
    const batch = { m, actions, oldLogProb, advantages: rand(m), returns: rand(m), oldValues: values.map((x) => x + 0.1), bias: null };
    const mine = ppoLoss(mean, values, logStd, d, batch, options);
    const ref = autodiff(mean, d, values, logStd, batch);
    expect(mine.loss).toBeCloseTo(ref.loss, 4);
    close(mine.gradPolicy, ref.gradPolicy);
    close(mine.gradValues, ref.gradValues);
    close(mine.gradLogStd!, ref.gradLogStd!);
  });
});

describe('orthogonal initialisation', () => {
  it('kernels have orthonormal columns (tall) or rows (wide) times the gain; biases are 0', () => {
    const spec = mlpSpec(4, [64, 64], 2, 'tanh');
    const w = orthogonalWeights(spec, new Rng(1), 0.01);
    // [4, 64] is wide: its 4 rows are orthonormal × √2.
    const dot = (a: Float32Array, cols: number, i: number, j: number, byRow: boolean, len: number) => {
      let s = 0;
      for (let r = 0; r < len; r++) s += byRow ? a[i * cols + r]! * a[j * cols + r]! : a[r * cols + i]! * a[r * cols + j]!;
      return s;
    };
    expect(dot(w[0]!, 64, 0, 0, true, 64)).toBeCloseTo(2, 4);
    expect(dot(w[0]!, 64, 0, 1, true, 64)).toBeCloseTo(0, 4);
    // [64, 64] square: columns orthonormal × √2; [64, 2] tall: columns orthonormal × 0.01.
    expect(dot(w[2]!, 64, 5, 5, false, 64)).toBeCloseTo(2, 4);
    expect(dot(w[2]!, 64, 5, 9, false, 64)).toBeCloseTo(0, 4);
    expect(dot(w[4]!, 2, 0, 0, false, 64)).toBeCloseTo(1e-4, 7);
    expect(dot(w[4]!, 2, 0, 1, false, 64)).toBeCloseTo(0, 7);
    for (const b of [w[1]!, w[3]!, w[5]!]) expect(b.every((x) => x === 0)).toBe(true);
  });
});


const ppoConfig = (over: Partial<PPOConfig> = {}): PPOConfig => ({ ...PPO_DEFAULTS, numEnvs: 4, nSteps: 16, batchSize: 32, nEpochs: 3, hidden: [32, 32], ...over });

describe('PPO agent', () => {
  it('never samples or picks a masked action (Taxi-v3, Snake-v0, GoLite-5x5-v0), and learns with masks', async () => {
    for (const envId of ['Taxi-v3', 'Snake-v0', 'GoLite-5x5-v0']) {
      const driver = new Driver(envId, 2, 3, PPO_TOTAL_STEPS);
      const k = driver.nActions;
      const agent = new PPO(driver.setup, ppoConfig({ numEnvs: 2, hidden: [32] }));
      const { actions, stats, masks } = await driver.run(agent, envId === 'Taxi-v3' ? 200 : envId === 'Snake-v0' ? 64 : 40);
      if (envId !== 'Snake-v0') expect(masks.every((m) => m !== null)).toBe(true);
      actions.forEach((a, j) => {
        const mask = masks[Math.floor(j / 2)];
        if (mask) expect(mask[(j % 2) * k + a]).toBe(1);
      });
      expect(stats.length).toBeGreaterThan(1);
      for (const s of stats) for (const v of Object.values(s)) expect(Number.isFinite(v)).toBe(true);
      if (envId === 'Taxi-v3') {
        const mask = new Int8Array(12).fill(0);
        mask[3] = 1;
        mask[6] = mask[11] = 1;
        const obs = Int32Array.from([driver.obs[0]!, driver.obs[1]!]);
        const greedy = await agent.act(obs, 2, false, mask);
        expect(greedy[0]).toBe(3);
        expect([0, 5]).toContain(greedy[1]);
        const probs = await agent.probabilities(obs, 2, mask);
        for (let j = 0; j < 12; j++) if (!mask[j]) expect(probs[j]).toBe(0);
        // Sampling under the mask: 200 draws of the first row all pick action 3.
        for (let t = 0; t < 50; t++) expect((await agent.act(obs, 2, true, mask))[0]).toBe(3);
      }
      agent.dispose();
      driver.envs.close();
    }
  });

  it('the same seed gives the same actions and update statistics', async () => {
    const results = [];
    for (let k = 0; k < 2; k++) {
      const d = new Driver('CartPole-v1', 4, 11, PPO_TOTAL_STEPS);
      const agent = new PPO(d.setup, ppoConfig({ normalizeObservation: true, normalizeReward: true }));
      results.push(await d.run(agent, 100));
      agent.dispose();
      d.envs.close();
    }
    expect(results[0]!.stats.length).toBe(6);
    expect(results[1]!.actions).toEqual(results[0]!.actions);
    expect(results[1]!.stats).toEqual(results[0]!.stats);
    const s = results[0]!.stats[0]!;
    for (const key of ['policyLoss', 'valueLoss', 'entropy', 'approxKl', 'clipFraction', 'explainedVariance', 'gradNorm', 'learningRate', 'clipRange', 'epochs']) expect(s[key], key).toBeTypeOf('number');
    expect(s.epochs).toBe(3);
  });

  for (const shareNetwork of [false, true]) {
    it(`save → load continues exactly mid-rollout, normalisation statistics included (${shareNetwork ? 'shared trunk' : 'separate networks'})`, async () => {
      const config = ppoConfig({ normalizeObservation: true, normalizeReward: true, shareNetwork, clipRangeVf: 0.2, linearLrDecay: true, linearClipDecay: true });
      const d = new Driver('CartPole-v1', 4, 5, PPO_TOTAL_STEPS);
      const a = new PPO(d.setup, config);
      await d.run(a, 75); // not a multiple of nSteps: a partial rollout is part of the state
      const dir = tmp();
      await a.save(dir);
      const { original: ra, resumed: rb } = await d.resumeFrom(a, dir, (c) => new PPO(c.setup, config), 60);
      expect(ra.stats.length).toBeGreaterThan(2);
      expect(rb.actions).toEqual(ra.actions);
      expect(rb.stats).toEqual(ra.stats);
      // The saved policy carries the observation statistics that `lab eval` applies.
      await a.savePolicy(path.join(dir, 'greedy'));
      const saved = JSON.parse(fs.readFileSync(path.join(dir, 'greedy', OBS_NORMALIZATION_FILE), 'utf8')) as { mean: number[]; count: number; clip: number };
      expect(saved.mean).toHaveLength(4);
      expect(saved.count).toBeGreaterThan(4 * 135);
      expect(saved.clip).toBe(10);
      a.dispose();
      rb.agent.dispose();
    });
  }

  it('no tensor leaks across updates and acting', async () => {
    const d = new Driver('CartPole-v1', 4, 2, PPO_TOTAL_STEPS);
    const agent = new PPO(d.setup, ppoConfig());
    await d.run(agent, 20);
    const before = tf.memory().numTensors;
    const { stats } = await d.run(agent, 64);
    await agent.act(d.obs, 4, false, null);
    await agent.values(d.obs, 4);
    expect(stats.length).toBe(4);
    expect(tf.memory().numTensors).toBe(before);
    agent.dispose();
  });

  it('a target KL stops the update early (fewer epochs, same rollout)', async () => {
    const d = new Driver('CartPole-v1', 4, 6, PPO_TOTAL_STEPS);
    const agent = new PPO(d.setup, ppoConfig({ nEpochs: 10, learningRate: 3e-3, targetKl: 1e-4 }));
    const { stats } = await d.run(agent, 64);
    expect(stats.some((s) => s.epochs! < 10)).toBe(true);
    for (const s of stats) if (s.epochs! < 10) expect(s.approxKl).toBeLessThanOrEqual(1.5e-4);
    agent.dispose();
  });

  it('a Gaussian policy (Box actions) learns a one-step task: the mean moves to the best action, σ shrinks', async () => {
    // Observation 1 of Box(−1, 1, (1,)); action Box(−2, 2, (1,)); reward −(a − 1)², every step terminal.
    const setup = { observationSpace: new Box(-1, 1, [1]), actionSpace: new Box(-2, 2, [1]), numEnvs: 8, totalSteps: 8 * 16 * 40, seed: 3 };
    const agent = new PPO(setup, ppoConfig({ numEnvs: 8, nSteps: 16, batchSize: 64, nEpochs: 5, learningRate: 3e-3 }));
    const obs = new Float32Array(8).fill(1);
    const greedy0 = await agent.act(obs, 1, false, null) as Float32Array;
    expect(greedy0).toBeInstanceOf(Float32Array);
    expect(Math.abs(greedy0[0]!)).toBeLessThan(0.1); // policy head starts at ×0.01
    let last: UpdateStats | null = null;
    for (let t = 1; t <= 16 * 40; t++) {
      const actions = await agent.act(obs, 8, true, null) as Float32Array;
      const rewards = Float64Array.from(actions, (a) => -((a - 1) ** 2));
      last = await agent.observe({ obs, actions, rewards, nextObs: obs, terminations: new Uint8Array(8).fill(1), truncations: new Uint8Array(8), actionMasks: null, nextActionMasks: null }, 8 * t) ?? last;
    }
    const greedy = await agent.act(obs, 1, false, null) as Float32Array;
    expect(greedy[0]).toBeGreaterThan(0.8);
    expect(greedy[0]).toBeLessThan(1.2);
    expect(last!.std).toBeLessThan(0.8);
    agent.dispose();
  });
});

describe('presets', () => {
  it("CartPole-v1 picks rl-zoo's tuned PPO settings by default; the existing presets are unchanged", () => {
    const found = findPreset('ppo', 'CartPole-v1')!;
    expect(found.name).toBe('cartpole');
    const config = resolveAgentConfig('ppo', found.preset, {}) as unknown as PPOConfig;
    expect(config).toMatchObject({ numEnvs: 8, nSteps: 32, batchSize: 256, gaeLambda: 0.8, gamma: 0.98, nEpochs: 20, learningRate: 1e-3, linearLrDecay: true, clipRange: 0.2, linearClipDecay: true, entCoef: 0 });
    expect(found.preset.train?.steps).toBe(100_000);
    for (const [agent, env, name] of [
      ['ppo', 'Acrobot-v1', 'acrobot'],
      ['ppo', 'MountainCar-v0', 'mountaincar'],
      ['ppo', 'MountainCarContinuous-v0', 'mountaincar-continuous'],
      ['ppo', 'Pendulum-v1', 'pendulum'],
      ['dqn', 'Acrobot-v1', 'acrobot'],
      ['dqn', 'MountainCar-v0', 'mountaincar'],
      ['dqn', 'CartPole-v1', 'zoo'],
      ['a2c', 'CartPole-v1', 'cartpole'],
    ] as const) {
      const preset = findPreset(agent, env)!;
      expect(preset.name).toBe(name);
      if (name !== 'zoo' && name !== 'cartpole') expect(preset.preset.description).toMatch(/rl-baselines3-zoo/);
    }
    expect(findPreset('dqn', 'CartPole-v1')!.preset.config).toEqual({});
    expect(findPreset('a2c', 'CartPole-v1')!.preset.config).toEqual({});
  });

  it('a bad hyperparameter is one clear error', () => {
    const setup = { observationSpace: new Box(-1, 1, [1]), actionSpace: new Discrete(2), numEnvs: 1, totalSteps: 100, seed: 1 };
    expect(() => new PPO(setup, ppoConfig({ batchSize: 0 }))).toThrow("ppo hyperparameter 'batchSize' must be a positive integer, got 0");
    expect(() => new PPO(setup, ppoConfig({ shareNetwork: true, hidden: [] }))).toThrow(/shareNetwork' needs at least one hidden layer/);
  });
});

describe('training runs', () => {
  it('learns CartPole-v1 with the rl-zoo preset in a short run; lab eval applies the saved policy', async () => {
    const out = tmp();
    const { runDir, result } = await startTraining({ agent: 'ppo', envId: 'CartPole-v1', seed: 1, steps: 12_000, evalEvery: 6000, evalEpisodes: 5, out, backend: 'wasm' });
    const config = JSON.parse(fs.readFileSync(path.join(runDir, 'config.json'), 'utf8')) as { preset: string; numEnvs: number };
    expect(config.preset).toBe('cartpole');
    expect(config.numEnvs).toBe(8);
    const events = fs
      .readFileSync(path.join(runDir, 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { type: string; return?: number; stats?: Record<string, number> });
    const returns = events.filter((e) => e.type === 'episode').map((e) => e.return!);
    const fifth = Math.floor(returns.length / 5);
    const mean = (x: number[]) => x.reduce((a, b) => a + b, 0) / x.length;
    // Seed 1 on wasm: first fifth ≈ 22, last fifth ≈ 200+; greedy evaluation at 12k ≈ 500.
    expect(mean(returns.slice(-fifth))).toBeGreaterThan(4 * mean(returns.slice(0, fifth)));
    expect(result.lastEval!.meanReturn).toBeGreaterThan(200);
    const update = events.find((e) => e.type === 'update' && e.stats && 'approxKl' in e.stats)!;
    for (const key of ['approxKl', 'clipFraction', 'explainedVariance']) expect(update.stats![key]).toBeTypeOf('number');
    const evaluated = await evaluateRun(runDir, { episodes: 5, seed: 1_000_000, backend: 'wasm' });
    expect(evaluated.meanReturn).toBe(result.lastEval!.meanReturn);
  }, 120_000);

  it('Pendulum-v1 (Box actions) end to end: Gaussian samples through the vector env, lab eval of the mean', async () => {
    const out = tmp();
    const { runDir, result } = await startTraining({
      agent: 'ppo',
      envId: 'Pendulum-v1',
      seed: 1,
      steps: 2048,
      evalEvery: 2048,
      evalEpisodes: 2,
      out,
      backend: 'wasm',
      overrides: { nSteps: 256, nEpochs: 2, normalizeObservation: true },
    });
    const config = JSON.parse(fs.readFileSync(path.join(runDir, 'config.json'), 'utf8')) as { preset: string; numEnvs: number };
    expect(config.preset).toBe('pendulum');
    const updates = fs
      .readFileSync(path.join(runDir, 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { type: string; stats?: Record<string, number> })
      .filter((e) => e.type === 'update');
    expect(updates.length).toBeGreaterThan(0);
    expect(updates.at(-1)!.stats!.std).toBeGreaterThan(0.5); // σ starts at e^0 = 1 and moves slowly
    expect(result.lastEval!.meanReturn).toBeLessThan(0);
    const evaluated = await evaluateRun(runDir, { episodes: 2, seed: 1_000_000, backend: 'wasm' });
    expect(evaluated.meanReturn).toBe(result.lastEval!.meanReturn);
  }, 120_000);
});

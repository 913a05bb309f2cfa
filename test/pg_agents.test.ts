import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { initCompute, tf } from '../lab/compute.js';
import { A2C, A2C_DEFAULTS, type A2CConfig } from '../agents/a2c.js';
import { REINFORCE_DEFAULTS, Reinforce, type ReinforceConfig } from '../agents/reinforce.js';
import { discountedReturns, generalizedAdvantages, maskBias } from '../agents/policy_gradient.js';
import { evaluateRun, resumeTraining, startTraining } from '../agents/train.js';
import { Driver } from './agent_driver.js';
import { OBS_NORMALIZATION_FILE } from '../protocol/saved_policy.js';

beforeAll(async () => {
  await initCompute('wasm');
});

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'pg-agents-'));


const reinforceConfig = (over: Partial<ReinforceConfig> = {}): ReinforceConfig => ({ ...REINFORCE_DEFAULTS, hidden: [32, 32], valueHidden: [32, 32], stepsPerUpdate: 64, ...over });
const a2cConfig = (over: Partial<A2CConfig> = {}): A2CConfig => ({ ...A2C_DEFAULTS, numEnvs: 4, hidden: [32, 32], ...over });

describe('returns and advantages', () => {
  it('discounted Monte-Carlo returns, with and without a bootstrap value', () => {
    expect(Array.from(discountedReturns([1, 1, 1], 0.9))).toEqual([1 + 0.9 + 0.81, 1.9, 1].map((x) => expect.closeTo(x, 12)));
    // Truncated with V(final obs) = 5: G_2 = 1 + 0.9·5 = 5.5, G_1 = 1 + 0.9·5.5 = 5.95, G_0 = 1 + 0.9·5.95 = 6.355.
    expect(Array.from(discountedReturns([1, 1, 1], 0.9, 5))).toEqual([6.355, 5.95, 5.5].map((x) => expect.closeTo(x, 12)));
    expect(Array.from(discountedReturns([], 0.99))).toEqual([]);
  });

  // Two sub-envs, three steps, time-major (index t · 2 + i). Sub-env 0 never ends (bootstraps from V(s'_2) = 2);
  // sub-env 1 terminates at t = 0 (no bootstrap from its final obs, V = 5) and is truncated at t = 1 (bootstraps
  // from its final obs, V = 4), and neither end lets later advantages flow back.
  const rollout = {
    rewards: [1, 1, 1, 2, 1, 3],
    values: [0.5, 1, 0.6, 1, 0.7, 1],
    nextValues: [0.6, 5, 0.7, 4, 2, 2],
    terminations: [0, 1, 0, 0, 0, 0],
    truncations: [0, 0, 0, 1, 0, 0],
  };

  it('GAE(λ) by hand, terminations vs truncations', () => {
    const { advantages, returns } = generalizedAdvantages(rollout, 2, 3, 0.9, 0.8);
    // Sub-env 0: δ = [1.04, 1.03, 2.1]; A_2 = 2.1, A_1 = 1.03 + 0.72·2.1 = 2.542, A_0 = 1.04 + 0.72·2.542 = 2.87024.
    // Sub-env 1: A_2 = 3 + 0.9·2 − 1 = 3.8; A_1 = 2 + 0.9·4 − 1 = 4.6 (truncated); A_0 = 1 − 1 = 0 (terminated).
    const expected = [2.87024, 0, 2.542, 4.6, 2.1, 3.8];
    expected.forEach((x, j) => expect(advantages[j]).toBeCloseTo(x, 5));
    expected.forEach((x, j) => expect(returns[j]).toBeCloseTo(x + rollout.values[j]!, 5));
  });

  it('λ = 1 gives n-step returns, matching Monte-Carlo returns with the same bootstrap', () => {
    const { returns } = generalizedAdvantages(rollout, 2, 3, 0.9, 1);
    const env0 = discountedReturns([1, 1, 1], 0.9, 2);
    [0, 1, 2].forEach((t) => expect(returns[t * 2]).toBeCloseTo(env0[t]!, 5));
    expect(returns[1]).toBeCloseTo(1, 5); // terminated: just the reward
    expect(returns[3]).toBeCloseTo(2 + 0.9 * 4, 5); // truncated: reward + γ V(final obs)
    expect(returns[5]).toBeCloseTo(3 + 0.9 * 2, 5);
  });
});

describe('action masks', () => {
  it('maskBias leaves allowed actions and all-masked rows alone', () => {
    expect(maskBias(null, 2, 3)).toBeNull();
    expect(maskBias(Int8Array.from([1, 1, 1, 1, 1, 1]), 2, 3)).toBeNull();
    expect(Array.from(maskBias(Int8Array.from([1, 0, 1, 0, 0, 0]), 2, 3)!)).toEqual([0, -1e9, 0, 0, 0, 0]);
  });

  for (const kind of ['reinforce', 'a2c'] as const) {
    it(`${kind} never samples or picks a masked action, and learns with masks (Taxi)`, async () => {
      const driver = new Driver('Taxi-v3', 2, 3);
      const agent = kind === 'reinforce' ? new Reinforce(driver.setup, reinforceConfig({ numEnvs: 2, stepsPerUpdate: 200 })) : new A2C(driver.setup, a2cConfig({ numEnvs: 2 }));
      const { actions, stats, masks } = await driver.run(agent, 600);
      expect(masks.every((m) => m !== null)).toBe(true);
      actions.forEach((a, j) => expect(masks[Math.floor(j / 2)]![(j % 2) * 6 + a]).toBe(1));
      expect(stats.length).toBeGreaterThan(0);
      for (const s of stats) for (const v of Object.values(s)) expect(Number.isFinite(v)).toBe(true);
      // Greedy: a row that allows only action 3 gets 3; masked probabilities are exactly 0.
      const mask = new Int8Array(12).fill(0);
      mask[3] = 1;
      mask[6 + 0] = mask[6 + 5] = 1;
      const obs = Int32Array.from([driver.obs[0]!, driver.obs[1]!]);
      const greedy = await agent.act(obs, 2, false, mask);
      expect(greedy[0]).toBe(3);
      expect([0, 5]).toContain(greedy[1]);
      const probs = await (agent as Reinforce | A2C).probabilities(obs, 2, mask);
      for (let j = 0; j < 12; j++) if (!mask[j]) expect(probs[j]).toBe(0);
      agent.dispose();
      driver.envs.close();
    });
  }
});

const makers = {
  reinforce: (d: Driver, baseline: 'none' | 'learned' = 'learned') => new Reinforce(d.setup, reinforceConfig({ numEnvs: d.n, baseline })),
  a2c: (d: Driver) => new A2C(d.setup, a2cConfig({ numEnvs: d.n, gaeLambda: 0.95, optimizer: 'rmsprop' })),
  'a2c-adam': (d: Driver) => new A2C(d.setup, a2cConfig({ numEnvs: d.n, optimizer: 'adam', normalizeAdvantage: true, entCoef: 0.01 })),
};

describe('determinism, save / load, memory', () => {
  for (const [kind, make] of Object.entries(makers)) {
    const n = kind === 'reinforce' ? 2 : 4;

    it(`${kind}: the same seed gives the same actions and losses`, async () => {
      const results = [];
      for (let k = 0; k < 2; k++) {
        const d = new Driver('CartPole-v1', n, 11);
        const agent = make(d);
        results.push(await d.run(agent, 300));
        agent.dispose();
        d.envs.close();
      }
      expect(results[0]!.stats.length).toBeGreaterThan(2);
      expect(results[1]!.actions).toEqual(results[0]!.actions);
      expect(results[1]!.stats).toEqual(results[0]!.stats);
    });

    it(`${kind}: save → load continues exactly (mid-episode / mid-rollout)`, async () => {
      const d = new Driver('CartPole-v1', n, 5);
      const a = make(d);
      await d.run(a, 203); // not a multiple of nSteps: a partial rollout and running episodes are part of the state
      const dir = tmp();
      await a.save(dir);
      const { original: ra, resumed: rb } = await d.resumeFrom(a, dir, make, 250);
      expect(ra.stats.length).toBeGreaterThan(1);
      expect(rb.actions).toEqual(ra.actions);
      expect(rb.stats).toEqual(ra.stats);
      await a.savePolicy(path.join(dir, 'greedy'));
      expect(fs.existsSync(path.join(dir, 'greedy', 'model.json'))).toBe(true);
      a.dispose();
      rb.agent.dispose();
      fs.rmSync(dir, { recursive: true, force: true });
    });

    it(`${kind}: no tensor leaks across updates and acting`, async () => {
      const d = new Driver('CartPole-v1', n, 2);
      const agent = make(d);
      await d.run(agent, 150); // optimizer slots are created by the first update
      const before = tf.memory().numTensors;
      const { stats } = await d.run(agent, 300);
      await agent.act(d.obs, n, false, null);
      expect(stats.length).toBeGreaterThan(2);
      expect(tf.memory().numTensors).toBe(before);
      agent.dispose();
    });
  }

  it('a2c with VecNormalize: save → load continues exactly mid-rollout, statistics included; greedy acting leaves them alone', async () => {
    const config = a2cConfig({ normalizeObservation: true, normalizeReward: true });
    const d = new Driver('CartPole-v1', 4, 5);
    const a = new A2C(d.setup, config);
    await d.run(a, 203); // mid-rollout: the stored inputs are part of the state
    const dir = tmp();
    await a.save(dir);
    const state = JSON.parse(fs.readFileSync(path.join(dir, 'agent.json'), 'utf8')) as { obsRms: { count: number }; returnScaler: { returns: number[] }; rollout: { inputs: number[]; obs: number[] } };
    // act() folded in every observation it acted on while exploring: 203 vector steps of 4 (the count starts at
    // 1e-4, as Gymnasium's RunningMeanStd).
    expect(state.obsRms.count).toBeCloseTo(203 * 4 + 1e-4, 6);
    expect(state.returnScaler.returns).toHaveLength(4);
    expect(state.rollout.inputs).toHaveLength(state.rollout.obs.length);
    const { original: ra, resumed: rb } = await d.resumeFrom(a, dir, (c) => new A2C(c.setup, config), 250);
    expect(ra.stats.length).toBeGreaterThan(2);
    expect(rb.actions).toEqual(ra.actions);
    expect(rb.stats).toEqual(ra.stats);
    // Greedy acting reads the statistics without changing them.
    await a.save(dir);
    const before = fs.readFileSync(path.join(dir, 'agent.json'), 'utf8');
    await a.act(d.obs, 4, false, null);
    await a.save(dir);
    expect(fs.readFileSync(path.join(dir, 'agent.json'), 'utf8')).toBe(before);
    // The saved policy carries the observation statistics that `lab eval` applies.
    await a.savePolicy(path.join(dir, 'greedy'));
    const saved = JSON.parse(fs.readFileSync(path.join(dir, 'greedy', OBS_NORMALIZATION_FILE), 'utf8')) as { mean: number[]; count: number; clip: number };
    expect(saved.mean).toHaveLength(4);
    expect(saved.count).toBeCloseTo((203 + 250) * 4 + 1e-4, 6);
    expect(saved.clip).toBe(10);
    // A checkpoint without statistics (written with normalisation off) is refused, naming what is missing.
    const plain = new A2C(d.setup, a2cConfig());
    await plain.save(path.join(dir, 'plain'));
    await expect(rb.agent.load(path.join(dir, 'plain'))).rejects.toThrow('the checkpoint has no observation statistics, but normalizeObservation is on');
    for (const x of [a, rb.agent, plain]) x.dispose();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('reinforce without a baseline: no value loss, still deterministic and leak-free', async () => {
    const d = new Driver('CartPole-v1', 1, 4);
    const agent = makers.reinforce(d, 'none');
    await d.run(agent, 100);
    const before = tf.memory().numTensors;
    const { stats } = await d.run(agent, 300);
    expect(stats.length).toBeGreaterThan(2);
    expect(stats[0]!.valueLoss).toBeUndefined();
    expect(tf.memory().numTensors).toBe(before);
    agent.dispose();
  });
});

describe('training runs', () => {
  /** Mean episode return in the first and last fifth of a run's episodes. */
  const firstAndLast = (runDir: string) => {
    const events = fs
      .readFileSync(path.join(runDir, 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { type: string; return?: number });
    const returns = events.filter((e) => e.type === 'episode').map((e) => e.return!);
    const fifth = Math.floor(returns.length / 5);
    const mean = (x: number[]) => x.reduce((a, b) => a + b, 0) / x.length;
    return { first: mean(returns.slice(0, fifth)), last: mean(returns.slice(-fifth)), events };
  };

  for (const agent of ['a2c', 'reinforce'] as const) {
    it(`${agent} learns CartPole-v1 in a short run and writes a run directory`, async () => {
      const out = tmp();
      const steps = agent === 'a2c' ? 30_000 : 20_000;
      const { runDir, result } = await startTraining({ agent, envId: 'CartPole-v1', seed: 1, steps, evalEvery: 10_000, evalEpisodes: 5, out, backend: 'wasm' });
      for (const f of ['config.json', 'metrics.jsonl', 'policy/model.json', 'policy/weights.bin']) expect(fs.existsSync(path.join(runDir, f))).toBe(true);
      const config = JSON.parse(fs.readFileSync(path.join(runDir, 'config.json'), 'utf8')) as { preset: string; numEnvs: number };
      expect(config.preset).toBe('cartpole');
      expect(config.numEnvs).toBe(agent === 'a2c' ? 8 : 1);
      const { first, last, events } = firstAndLast(runDir);
      // Seed 1 on wasm: first fifth ≈ 23 for both; last fifth ≈ 93 (a2c, 30k) and ≈ 133 (reinforce, 20k).
      expect(last).toBeGreaterThan(3 * first);
      expect(last).toBeGreaterThan(60);
      expect(events.some((e) => e.type === 'update' && 'entropy' in (e as unknown as { stats: object }).stats)).toBe(true);
      expect(result.lastEval!.meanReturn).toBeGreaterThan(100);
      // `lab eval` reads policy/ as a logits network: argmax is the greedy action.
      const evaluated = await evaluateRun(runDir, { episodes: 5, seed: 1_000_000, backend: 'wasm' });
      expect(evaluated.meanReturn).toBe(result.lastEval!.meanReturn);
      fs.rmSync(out, { recursive: true, force: true });
    });
  }

  it.each([
    ['a2c', 8000],
    ['ppo', 4096],
  ])('%s with observation normalisation: lab eval of the policy equals the final greedy evaluation', async (agent, steps) => {
    const out = tmp();
    const { runDir, result } = await startTraining({ agent, envId: 'CartPole-v1', seed: 2, steps, evalEvery: steps, evalEpisodes: 3, out, backend: 'wasm', overrides: { normalizeObservation: true, normalizeReward: true } });
    expect(fs.existsSync(path.join(runDir, 'policy', OBS_NORMALIZATION_FILE))).toBe(true);
    const evaluated = await evaluateRun(runDir, { episodes: 3, seed: 1_000_000, backend: 'wasm' });
    expect(evaluated.meanReturn).toBe(result.lastEval!.meanReturn);
    // Without the statistics the same network sees raw observations and plays differently.
    fs.rmSync(path.join(runDir, 'policy', OBS_NORMALIZATION_FILE));
    const raw = await evaluateRun(runDir, { episodes: 3, seed: 1_000_000, backend: 'wasm' });
    expect(raw.returns).not.toEqual(evaluated.returns);
    fs.rmSync(out, { recursive: true, force: true });
  }, 120_000);

  it.each(['a2c', 'reinforce'])('%s: a resumed run writes the same metrics as an uninterrupted one', async (agent) => {
    const out = tmp();
    const opts = { agent, envId: 'CartPole-v1', seed: 3, evalEvery: 2000, evalEpisodes: 3, checkpointEvery: 0, out, backend: 'wasm' as const };
    const whole = await startTraining({ ...opts, steps: 6000, runId: 'whole' });
    // 3016 steps: a2c stops mid-rollout (377 vector steps of 8, nSteps 5), reinforce mid-episode.
    const part = await startTraining({ ...opts, steps: 3016, runId: 'part' });
    await resumeTraining(part.runDir, { steps: 6000 });
    // Episode and evaluation events carry no timing apart from `time` (updates also carry `sps`); the
    // interrupted run has one extra evaluation, at the end of its first part.
    const clean = (dir: string) =>
      firstAndLast(dir)
        .events.filter((e) => e.type === 'episode' || (e.type === 'eval' && (e as unknown as { step: number }).step % 2000 === 0))
        .map((e) => ({ ...e, time: 0, seconds: 0 }));
    expect(clean(part.runDir)).toEqual(clean(whole.runDir));
    fs.rmSync(out, { recursive: true, force: true });
  });
});

/**
 * protocol/saved_policy.ts, what a saved policy means wherever it runs: the observation encoder, the greedy
 * action (masks, ties, Box means), observation statistics, lab.json checks; and the page's path (tfjs's own
 * loadLayersModel on the files' contents + GreedyPolicyIO from lab.json) choosing the same actions as lab eval's
 * loader (agents/policy_loader.ts) on the same observations, with and without PPO-style statistics.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Box, Discrete, Rng, RunningMeanStd } from '../envs/index.js';
import { GreedyPolicyIO, greedyAction, observationEncoder, OBS_NORMALIZATION_FORMAT, parseObsNormalization, parsePolicyLabJson, playEnvKwargs } from '../protocol/saved_policy.js';
import { startTraining } from '../agents/train.js';
import { loadGreedyPolicy } from '../agents/policy_loader.js';
import { initCompute, tf } from '../lab/compute.js';

describe('observationEncoder', () => {
  it('one-hot for Discrete (offset by start), rows as they are for Box, planes unless flattened', () => {
    const d = observationEncoder(new Discrete(4, 2));
    expect(d.inputShape).toEqual([4]);
    expect(Array.from(d.encode(Int32Array.of(2, 5), 2))).toEqual([1, 0, 0, 0, 0, 0, 0, 1]);
    const b = observationEncoder(new Box(-1, 1, [3]));
    expect(Array.from(b.encode([0.5, -0.25, 1, 0, 0, 0], 2))).toEqual([0.5, -0.25, 1, 0, 0, 0]);
    const planes = new Box(0, 1, [2, 2, 3]);
    expect(observationEncoder(planes).inputShape).toEqual([2, 2, 3]);
    expect(observationEncoder(planes).image).toBe(true);
    expect(observationEncoder(planes, true).inputShape).toEqual([12]);
  });
});

describe('greedy actions', () => {
  it('argmax over the allowed actions; the first of equal scores', () => {
    const scores = [0.1, 0.9, 0.5, /* row 1 */ 2, 2, 1];
    expect(greedyAction(scores, 0, 3)).toBe(1);
    expect(greedyAction(scores, 1, 3)).toBe(0);
    // Row 0 with action 1 masked out: 2 wins.
    expect(greedyAction(scores, 0, 3, [1, 0, 1, 1, 1, 1])).toBe(2);
    const io = new GreedyPolicyIO(new Box(-1, 1, [2]), new Discrete(3), [2], 3);
    expect(Array.from(io.actions(scores, 2, [1, 0, 1, 0, 1, 1]))).toEqual([2, 1]);
  });

  it('a Box action space: the outputs themselves (the Gaussian mean)', () => {
    const io = new GreedyPolicyIO(new Box(-1, 1, [3]), new Box(-2, 2, [1]), [3], 1);
    const a = io.actions(Float32Array.of(3.5, -0.25), 2);
    expect(a).toBeInstanceOf(Float32Array);
    expect(Array.from(a)).toEqual([3.5, -0.25]);
  });

  it('inputs normalised with the saved statistics: (x − μ) / √(σ² + ε), clipped', () => {
    const rms = new RunningMeanStd(2);
    rms.load({ mean: [1, -2], var: [4, 0.25], count: 10 });
    const io = new GreedyPolicyIO(new Box(-10, 10, [2]), new Discrete(2), [2], 2, { rms, epsilon: 1e-8, clip: 3 });
    const x = io.inputs([3, -2, 1, 10], 2);
    expect(x[0]).toBeCloseTo(2 / Math.sqrt(4 + 1e-8), 6);
    expect(x[1]).toBe(0);
    expect(x[2]).toBe(0);
    expect(x[3]).toBe(3); // 12 / 0.5 = 24, clipped to 3
    expect(() => new GreedyPolicyIO(new Box(-1, 1, [3]), new Discrete(2), [3], 2, { rms, epsilon: 1e-8, clip: null })).toThrow(/statistics have 2 entries, the policy's input 3/);
  });

  it('a self-play Go opponent plays as the random one outside training', () => {
    expect(playEnvKwargs({ opponent: 'self', size: 5 })).toEqual({ opponent: 'random', size: 5 });
    const kwargs = { opponent: 'mcts' };
    expect(playEnvKwargs(kwargs)).toBe(kwargs);
  });
});

describe('the saved files, checked', () => {
  it('obs_normalization.json', () => {
    expect(() => parseObsNormalization({ mean: [0], var: [1] }, 'p/obs_normalization.json')).toThrow(/p\/obs_normalization\.json is not an observation normalisation file/);
    const n = parseObsNormalization({ format: OBS_NORMALIZATION_FORMAT, mean: [0, 1], var: [1, 2], count: 5, epsilon: 1e-8, clip: 10 }, 'f');
    expect(n.clip).toBe(10);
    expect(Array.from(n.rms.var)).toEqual([1, 2]);
  });

  it('lab.json: one message naming the field', () => {
    const spec = { inputShape: [4], layers: [{ type: 'dense', units: 2, activation: 'linear' }] };
    expect(() => parsePolicyLabJson({ spec }, 'r/policy/lab.json')).toThrow(/^r\/policy\/lab\.json: no "policy" field/);
    expect(() => parsePolicyLabJson({ spec: { inputShape: [0], layers: [] }, policy: {} }, 'x')).toThrow(/^x: spec\.inputShape: expected positive integers/);
    expect(() => parsePolicyLabJson({ spec, policy: { envId: 'CartPole-v1', observationSpace: {} } }, 'x')).toThrow(/^x: policy\.actionSpace: expected a space/);
    const ok = parsePolicyLabJson({ spec, policy: { envId: 'CartPole-v1', observationSpace: { type: 'Discrete', n: 3 }, actionSpace: { type: 'Discrete', n: 2 } } }, 'x');
    expect(ok.policy).toMatchObject({ envId: 'CartPole-v1', envKwargs: {}, agent: 'unknown', preset: null, step: 0, obsNormalization: null });
  });
});

describe("the page's path acts as lab eval", () => {
  let root: string;
  let runDir: string;

  beforeAll(async () => {
    await initCompute('cpu');
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'lab-saved-policy-'));
    await startTraining({ agent: 'dqn', envId: 'CartPole-v1', seed: 5, steps: 300, evalEvery: 300, evalEpisodes: 1, checkpointEvery: 0, out: root, runId: 'rl', backend: 'cpu', overrides: { hidden: [16], bufferSize: 400, learningStarts: 50 } });
    runDir = path.join(root, 'rl');
  }, 60_000);

  afterAll(() => {
    if (root) fs.rmSync(root, { recursive: true, force: true });
  });

  /** The page's way: tf.loadLayersModel on the files' contents, GreedyPolicyIO from lab.json. */
  async function pageActions(dir: string, obs: Float32Array, n: number): Promise<number[]> {
    const modelJson = JSON.parse(fs.readFileSync(path.join(dir, 'model.json'), 'utf8')) as { modelTopology: object; weightsManifest: { weights: tf.io.WeightsManifestEntry[] }[] };
    const weights = fs.readFileSync(path.join(dir, 'weights.bin'));
    const model = await tf.loadLayersModel(tf.io.fromMemory({ modelTopology: modelJson.modelTopology, weightSpecs: modelJson.weightsManifest.flatMap((g) => g.weights), weightData: weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.byteLength) }));
    const lab = parsePolicyLabJson(JSON.parse(fs.readFileSync(path.join(dir, 'lab.json'), 'utf8')), 'lab.json');
    const normFile = path.join(dir, 'obs_normalization.json');
    const io = GreedyPolicyIO.fromLabJson(lab, fs.existsSync(normFile) ? parseObsNormalization(JSON.parse(fs.readFileSync(normFile, 'utf8')), normFile) : null);
    const out = model.predict(tf.tensor(io.inputs(obs, n), [n, ...io.encoder.inputShape])) as tf.Tensor;
    const scores = await out.data();
    out.dispose();
    model.dispose();
    return Array.from(io.actions(scores, n));
  }

  async function evalActions(obs: Float32Array, n: number): Promise<number[]> {
    const { policy, dispose } = await loadGreedyPolicy(runDir);
    try {
      return Array.from(await policy.act(obs, n, false));
    } finally {
      dispose();
    }
  }

  function observations(n: number, seed: number): Float32Array {
    const rng = new Rng(seed);
    return Float32Array.from({ length: 4 * n }, (_, k) => rng.uniform(-1, 1) * [2.4, 3, 0.21, 3][k % 4]!);
  }

  it('the same actions on 500 observations; lab.json says there are no statistics', async () => {
    const obs = observations(500, 1);
    const expected = await evalActions(obs, 500);
    expect(await pageActions(path.join(runDir, 'policy'), obs, 500)).toEqual(expected);
    // Both actions occur: the comparison is not of two constants.
    expect(new Set(expected).size).toBe(2);
    expect(JSON.parse(fs.readFileSync(path.join(runDir, 'policy', 'lab.json'), 'utf8')).policy.obsNormalization).toBe(false);
  });

  it('with observation statistics beside the policy, both normalise first, the same way', async () => {
    fs.writeFileSync(path.join(runDir, 'policy', 'obs_normalization.json'), JSON.stringify({ format: OBS_NORMALIZATION_FORMAT, mean: [0.5, -1, 0.05, 0.5], var: [0.5, 4, 0.01, 2], count: 100, epsilon: 1e-8, clip: 5 }));
    const obs = observations(500, 2);
    const expected = await evalActions(obs, 500);
    expect(await pageActions(path.join(runDir, 'policy'), obs, 500)).toEqual(expected);
    fs.rmSync(path.join(runDir, 'policy', 'obs_normalization.json'));
    // The statistics change the actions (so the comparison above tested them).
    expect(await evalActions(obs, 500)).not.toEqual(expected);
  });
});

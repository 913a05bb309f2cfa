/**
 * The RL agents on the `webgpu` backend (Dawn in Node, SwiftShader's software Vulkan as the adapter): DQN and A2C
 * updates match `cpu` over 10 updates, weight by weight; acting and updating leak no tensors; PPO and REINFORCE
 * train; a 3,000-step DQN run of the CLI completes and records the backend; a run stopped midway and resumed
 * writes what an uninterrupted one writes; Go self-play is refused in one line. SwiftShader runs shaders on the
 * CPU, slowly: the budgets here are small on purpose, and nothing here says anything about GPU speed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { initCompute, tf } from '../lab/compute.js';
import { Network } from '../lab/network.js';
import { FusedAdam } from '../lab/optim.js';
import { makeVec } from '../envs/index.js';
import { agentEntry, resolveAgentConfig } from '../agents/registry.js';
import type { Agent, StepBatch } from '../agents/agent.js';
import { resumeTraining, startTraining } from '../agents/train.js';
import { trainAlphaZero } from '../agents/go/alphazero.js';
import { readMetricsFile } from '../lab/run_store.js';
import type { TrainEvent } from '../protocol/events.js';
import { LAB } from './lab_cli.js';
import { SWIFTSHADER_ENV, skipWebgpuTests, useSwiftShader } from './webgpu.js';

let tmp = '';

beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lab-webgpu-agents-'));
});

afterAll(async () => {
  fs.rmSync(tmp, { recursive: true, force: true });
  await initCompute('wasm');
});

/** Transitions of CartPole-v1 under a seeded random policy: the same batches for every backend. */
function recordTransitions(numEnvs: number, steps: number): StepBatch[] {
  const envs = makeVec('CartPole-v1', numEnvs, { vectorizationMode: 'sync' });
  envs.actionSpace.seed(3);
  let [obs] = envs.reset({ seed: 3 });
  const out: StepBatch[] = [];
  for (let t = 0; t < steps; t++) {
    const actions = Int32Array.from(envs.actionSpace.sample() as ArrayLike<number>);
    const [next, rewards, terminations, truncations] = envs.step(actions);
    out.push({ obs: obs.slice(), actions, rewards: rewards.slice(), nextObs: next.slice(), terminations: terminations.slice(), truncations: truncations.slice(), actionMasks: null, nextActionMasks: null });
    obs = next;
  }
  envs.close();
  return out;
}

/** Every network the agent saves (online/target, policy/value), weight tensor by weight tensor. */
function savedWeights(dir: string): Map<string, Float32Array> {
  const weights = new Map<string, Float32Array>();
  for (const sub of fs.readdirSync(dir)) {
    if (!fs.existsSync(path.join(dir, sub, 'model.json'))) continue;
    Network.read(path.join(dir, sub)).values.forEach((v, i) => weights.set(`${sub}/${i}`, v));
  }
  return weights;
}

/** Feeds `transitions` to a fresh agent (seed 1) on `backend`; returns its update count, stats and saved weights. */
async function trainOn(backend: 'cpu' | 'webgpu', agentName: 'dqn' | 'a2c', overrides: Record<string, unknown>, transitions: StepBatch[]) {
  await initCompute(backend);
  const envs = makeVec('CartPole-v1', transitions[0]!.actions.length);
  const config = resolveAgentConfig(agentName, null, overrides);
  const agent: Agent = agentEntry(agentName).create(
    { observationSpace: envs.singleObservationSpace, actionSpace: envs.singleActionSpace, numEnvs: transitions[0]!.actions.length, totalSteps: 100_000, seed: 1 },
    config,
  );
  envs.close();
  const stats = [];
  let step = 0;
  for (const batch of transitions) {
    step += batch.actions.length;
    const s = await agent.observe(batch, step);
    if (s) stats.push(s);
  }
  const dir = path.join(tmp, `${agentName}-${backend}`);
  fs.mkdirSync(dir, { recursive: true });
  await agent.save(dir);
  agent.dispose();
  return { stats, weights: savedWeights(dir) };
}

function relativeError(a: Float32Array, b: Float32Array): number {
  let diff = 0;
  let norm = 0;
  for (let i = 0; i < a.length; i++) {
    diff += (a[i]! - b[i]!) ** 2;
    norm += b[i]! ** 2;
  }
  return Math.sqrt(diff) / Math.max(Math.sqrt(norm), 1e-12);
}

describe.skipIf(skipWebgpuTests)('agents on webgpu (SwiftShader)', () => {
  beforeAll(() => useSwiftShader());

  const cases = [
    // One gradient step per env step from the 64th on: 10 updates, with clipping and a hard target update between.
    { agent: 'dqn' as const, numEnvs: 1, steps: 73, overrides: { hidden: [64, 64], batchSize: 32, learningStarts: 63, trainFrequency: 1, gradientSteps: 1, targetUpdateInterval: 68, maxGradNorm: 10 } },
    // 8 envs × 5 steps per update: 10 updates.
    { agent: 'a2c' as const, numEnvs: 8, steps: 50, overrides: {} },
  ];
  for (const c of cases) {
    it(`${c.agent}: 10 updates on webgpu match cpu (every weight tensor within relative error 1e-4)`, async () => {
      const transitions = recordTransitions(c.numEnvs, c.steps);
      const cpu = await trainOn('cpu', c.agent, c.overrides, transitions);
      const gpu = await trainOn('webgpu', c.agent, c.overrides, transitions);
      expect(cpu.stats).toHaveLength(10);
      expect(gpu.stats).toHaveLength(10);
      expect(tf.getBackend()).toBe('webgpu');
      expect([...gpu.weights.keys()]).toEqual([...cpu.weights.keys()]);
      let moved = 0;
      for (const [name, expected] of cpu.weights) {
        expect(relativeError(gpu.weights.get(name)!, expected), name).toBeLessThanOrEqual(1e-4);
        moved += Number(relativeError(expected, new Float32Array(expected.length)) > 0);
      }
      expect(moved).toBeGreaterThan(0);
      // The losses the updates report agree too.
      const key = c.agent === 'dqn' ? 'loss' : 'valueLoss';
      gpu.stats.forEach((s, i) => expect(s[key]!).toBeCloseTo(cpu.stats[i]![key]!, 3));
    }, 60_000);
  }

  it("FusedAdam's checkpoint (adam.json, adam.bin) moves between webgpu and cpu, moments exact", async () => {
    const shapes = [[3, 2], [2], [4]];
    const grads = (k: number) => shapes.map((shape, i) => tf.tensor(Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, j) => Math.sin(k + i + j)), shape));
    const run = async (backend: 'cpu' | 'webgpu', load: string | null, save: string) => {
      await initCompute(backend);
      const variables = shapes.map((shape) => tf.variable(tf.ones(shape)));
      const adam = new FusedAdam(variables, { learningRate: 0.01 });
      if (load) adam.load(load);
      for (let k = 0; k < 3; k++) {
        const g = grads(k);
        const norm = adam.apply(g, 1);
        if (typeof norm !== 'number') norm.dispose();
        tf.dispose(g);
      }
      fs.mkdirSync(save, { recursive: true });
      await adam.save(save);
      const moments = await adam.moments();
      adam.dispose();
      tf.dispose(variables);
      return { step: adam.step, moments };
    };
    const gpu = await run('webgpu', null, path.join(tmp, 'adam-gpu'));
    const cpuFromGpu = await run('cpu', path.join(tmp, 'adam-gpu'), path.join(tmp, 'adam-cpu'));
    const gpuFromCpu = await run('webgpu', path.join(tmp, 'adam-cpu'), path.join(tmp, 'adam-gpu2'));
    expect([gpu.step, cpuFromGpu.step, gpuFromCpu.step]).toEqual([3, 6, 9]);
    // What one backend saved, the other loads exactly (float32 moments through the same files).
    const check = async (backend: 'cpu' | 'webgpu', dir: string, expected: { m: Float32Array[]; v: Float32Array[] }) => {
      await initCompute(backend);
      const variables = shapes.map((shape) => tf.variable(tf.ones(shape)));
      const loaded = new FusedAdam(variables, { learningRate: 0.01 });
      loaded.load(path.join(tmp, dir));
      const got = await loaded.moments();
      expect(got.m.map((a) => Array.from(a)), `${dir} on ${backend}`).toEqual(expected.m.map((a) => Array.from(a)));
      expect(got.v.map((a) => Array.from(a)), `${dir} on ${backend}`).toEqual(expected.v.map((a) => Array.from(a)));
      loaded.dispose();
      tf.dispose(variables);
    };
    await check('webgpu', 'adam-cpu', cpuFromGpu.moments);
    await check('cpu', 'adam-gpu2', gpuFromCpu.moments);
    expect(gpuFromCpu.moments.m[0]!.some((x) => x !== 0)).toBe(true);
  }, 30_000);

  it('acting and updating leak no tensors (DQN and PPO)', async () => {
    await initCompute('webgpu');
    for (const [name, overrides] of [
      ['dqn', { hidden: [16], batchSize: 16, learningStarts: 16, trainFrequency: 4, gradientSteps: 2, targetUpdateInterval: 20 }],
      ['ppo', { numEnvs: 1, nSteps: 8, batchSize: 8, nEpochs: 1, hidden: [16] }],
    ] as const) {
      const envs = makeVec('CartPole-v1', 1);
      const agent = agentEntry(name).create({ observationSpace: envs.singleObservationSpace, actionSpace: envs.singleActionSpace, numEnvs: 1, totalSteps: 1000, seed: 2 }, resolveAgentConfig(name, null, overrides));
      let [obs] = envs.reset({ seed: 2 });
      let step = 0;
      const run = async (n: number) => {
        let updates = 0;
        for (let t = 0; t < n; t++) {
          const actions = await agent.act(obs, 1, true, null);
          const [next, rewards, terminations, truncations] = envs.step(actions);
          step++;
          if (await agent.observe({ obs, actions, rewards, nextObs: next, terminations, truncations, actionMasks: null, nextActionMasks: null }, step)) updates++;
          obs = next;
        }
        return updates;
      };
      await run(24);
      const before = tf.memory().numTensors;
      expect(await run(24), name).toBeGreaterThan(1);
      expect(tf.memory().numTensors, name).toBe(before);
      agent.dispose();
      envs.close();
    }
  }, 60_000);

  it('PPO and REINFORCE train on webgpu (short runs, finite losses, policies written)', async () => {
    for (const [agent, steps, overrides] of [
      ['ppo', 128, { numEnvs: 2, nSteps: 32, batchSize: 32, nEpochs: 2, hidden: [16, 16] }],
      ['reinforce', 200, { hidden: [16], valueHidden: [16], stepsPerUpdate: 64 }],
    ] as const) {
      const events: TrainEvent[] = [];
      const { runDir, config, result } = await startTraining({
        envId: 'CartPole-v1',
        agent,
        seed: 3,
        steps,
        evalEvery: 0,
        evalEpisodes: 2,
        checkpointEvery: 0,
        backend: 'webgpu',
        out: path.join(tmp, 'short'),
        overrides,
        sinks: [{ handle: (e: TrainEvent) => void events.push(e) }],
      });
      expect(config.backend.backend, agent).toBe('webgpu');
      expect(result.steps).toBe(steps);
      const updates = events.filter((e) => e.type === 'update' && Object.keys(e.stats).includes('policyLoss'));
      expect(updates.length, agent).toBeGreaterThan(0);
      for (const u of updates) for (const v of Object.values((u as { stats: Record<string, number> }).stats)) expect(Number.isFinite(v)).toBe(true);
      expect(Network.read(path.join(runDir, 'policy')).values.every((w) => w.every(Number.isFinite))).toBe(true);
    }
  }, 90_000);

  it('Go self-play, saved-agent opponents and AlphaZero-lite on webgpu are refused in one line before a run directory exists', async () => {
    const out = path.join(tmp, 'go');
    await expect(startTraining({ envId: 'GoLite-5x5-v0', agent: 'dqn', seed: 1, envKwargs: { opponent: 'self' }, steps: 100, backend: 'webgpu', out })).rejects.toThrow(
      /^opponent 'self' \(self-play\) needs a backend that reads synchronously; 'webgpu' reads back asynchronously: use --backend wasm or cpu for Go self-play$/,
    );
    await expect(startTraining({ envId: 'GoLite-5x5-v0', agent: 'dqn', seed: 1, envKwargs: { opponent: `agent:${tmp}` }, steps: 100, backend: 'webgpu', out })).rejects.toThrow(
      /needs a backend that reads synchronously; 'webgpu' reads back asynchronously: use --backend wasm or cpu for Go$/,
    );
    await expect(trainAlphaZero({ iterations: 1, backend: 'webgpu', out })).rejects.toThrow(
      /^AlphaZero-lite reads its network synchronously at every leaf of its tree search .* which backend 'webgpu' cannot: use --backend wasm or cpu$/,
    );
    expect(fs.existsSync(out)).toBe(false);
  });

  // A small DQN that mostly explores: on SwiftShader each greedy action costs a read back (tens of ms on a busy
  // machine) and each update ~100 kernels, so the run keeps both few; the code paths are all taken.
  const SETS = {
    hidden: [16],
    learningStarts: 500,
    trainFrequency: 250,
    gradientSteps: 2,
    targetUpdateInterval: 500,
    batchSize: 32,
    bufferSize: 3000,
    exploration: { type: 'linear', initial: 1, final: 0.8, fraction: 1 },
  };
  const COMMON = { envId: 'CartPole-v1', agent: 'dqn', seed: 4, steps: 3000, evalEvery: 1500, evalEpisodes: 2, checkpointEvery: 500 };

  it('a 3,000-step DQN run with --backend webgpu completes (CLI), records the backend, evaluates; stopped and resumed it writes the same metrics', async () => {
    const out = path.join(tmp, 'cli');
    const args = ['train', '--env', COMMON.envId, '--agent', COMMON.agent, '--seed', String(COMMON.seed), '--steps', String(COMMON.steps), '--eval-every', String(COMMON.evalEvery), '--eval-episodes', String(COMMON.evalEpisodes), '--checkpoint-every', String(COMMON.checkpointEvery), '--backend', 'webgpu', '--out', out];
    const sets = Object.entries(SETS).flatMap(([k, v]) => ['--set', `${k}=${JSON.stringify(v)}`]);
    const child = spawn(process.execPath, [LAB, ...args, ...sets], { env: { ...process.env, ...SWIFTSHADER_ENV }, stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    child.stdout.resume();
    // Meanwhile, in this process: the same run stopped at step 1,000 (right after its checkpoint there) and resumed.
    // (shouldStop is asked once per env step.)
    let asked = 0;
    const first = await startTraining({ ...COMMON, backend: 'webgpu', out: path.join(tmp, 'resumed'), overrides: SETS, shouldStop: () => ++asked >= 1000 });
    expect(first.result).toMatchObject({ stopped: true, steps: 1000 });
    const resumed = await resumeTraining(first.runDir, { backend: 'webgpu' });
    expect(resumed.result.steps).toBe(3000);
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(code, err).toBe(0);
    const [runName] = fs.readdirSync(out);
    const runDir = path.join(out, runName!);
    const config = JSON.parse(fs.readFileSync(path.join(runDir, 'config.json'), 'utf8'));
    expect(config.backend).toMatchObject({ requested: 'webgpu', backend: 'webgpu' });
    const metrics = readMetricsFile(path.join(runDir, 'metrics.jsonl'));
    const evals = metrics.filter((e) => e.type === 'eval');
    expect(evals.map((e) => e.step)).toEqual([1500, 3000]);
    expect(fs.existsSync(path.join(runDir, 'policy', 'model.json'))).toBe(true);
    // lab eval on webgpu: the policy loader's reads are asynchronous there too.
    const evaluated = await new Promise<{ code: number | null; out: string }>((resolve) => {
      const e = spawn(process.execPath, [LAB, 'eval', runDir, '--episodes', '2', '--backend', 'webgpu'], { env: { ...process.env, ...SWIFTSHADER_ENV }, stdio: ['ignore', 'pipe', 'pipe'] });
      let text = '';
      e.stdout.on('data', (d) => (text += d));
      e.stderr.on('data', (d) => (text += d));
      e.on('exit', (c) => resolve({ code: c, out: text }));
    });
    expect(evaluated.code, evaluated.out).toBe(0);
    expect(evaluated.out).toMatch(/mean return/i);
    // The resumed run's metrics equal the uninterrupted one's (times aside): SwiftShader is deterministic here.
    const deterministic = (events: TrainEvent[]) =>
      events.map((e) => {
        const { time: _t, seconds: _s, ...rest } = e as TrainEvent & { time?: number; seconds?: number };
        if (rest.type === 'update') {
          const { sps: _sps, ...u } = rest;
          return u;
        }
        return rest.type === 'checkpoint' ? { type: 'checkpoint', step: rest.step } : rest;
      });
    expect(deterministic(readMetricsFile(path.join(first.runDir, 'metrics.jsonl')))).toEqual(deterministic(metrics));
  }, 300_000);
});

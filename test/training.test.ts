import { afterAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startTraining, resumeTraining, evaluateRun } from '../agents/train.js';
import { readMetricsFile } from '../lab/run_store.js';
import { initCompute, tf } from '../lab/compute.js';
import type { TrainEvent } from '../protocol/events.js';
import { RunStore, type RunConfig } from '../lab/run_store.js';
import { Trainer } from '../agents/training.js';
import { Rng, make, type TaxiEnv } from '../envs/index.js';
import type { Agent } from '../agents/agent.js';

const baseConfig: RunConfig = {
  kind: 'rl',
  runId: 'x',
  envId: 'CartPole-v1',
  envKwargs: {},
  agent: 'stub',
  preset: null,
  hyperparameters: {},
  seed: 0,
  steps: 1000,
  episodes: null,
  numEnvs: 1,
  evalEvery: 0,
  evalEpisodes: 1,
  evalSeed: 1_000_000,
  checkpointEvery: 0,
  backend: { requested: 'wasm', backend: 'wasm', reason: 'test', details: {} },
  versions: { lab: '0', node: process.version, tfjs: '4' },
  createdAt: new Date(0).toISOString(),
  command: '',
};

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lab-train-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
const LAB = fileURLToPath(new URL('../bin/lab.mjs', import.meta.url));

/** A small, quick DQN that still learns Cart-Pole a little within a few thousand steps. */
const SMALL_DQN = {
  hidden: [64, 64],
  learningRate: 2e-3,
  bufferSize: 5000,
  batchSize: 32,
  learningStarts: 500,
  trainFrequency: 1,
  gradientSteps: 1,
  targetUpdateInterval: 100,
  exploration: { type: 'linear', initial: 1, final: 0.05, fraction: 0.3 },
};

/** Metrics without wall-clock fields, which legitimately differ between runs. */
function deterministicPart(events: TrainEvent[]): unknown[] {
  return events.map((e) => {
    const { time: _t, seconds: _d, ...rest } = e as TrainEvent & { time?: number; seconds?: number };
    if (rest.type === 'update') {
      const { sps: _s, ...u } = rest;
      return u;
    }
    return rest;
  });
}

describe('training runs', () => {
  it('DQN learns on Cart-Pole and writes a complete run directory', async () => {
    const { runDir, result, config } = await startTraining({
      envId: 'CartPole-v1',
      agent: 'dqn',
      seed: 3,
      steps: 6000,
      evalEvery: 2000,
      evalEpisodes: 5,
      checkpointEvery: 3000,
      backend: 'wasm',
      out: tmp,
      overrides: SMALL_DQN,
    });
    expect(result.steps).toBe(6000);
    expect(config.backend.backend).toBe('wasm');
    for (const f of ['config.json', 'metrics.jsonl', 'policy/model.json', 'policy/weights.bin', 'checkpoints/latest.json']) {
      expect(fs.existsSync(path.join(runDir, f)), f).toBe(true);
    }
    const saved = JSON.parse(fs.readFileSync(path.join(runDir, 'config.json'), 'utf8'));
    expect(saved).toMatchObject({ envId: 'CartPole-v1', agent: 'dqn', seed: 3, steps: 6000, hyperparameters: { hidden: [64, 64], gamma: 0.99 } });
    expect(saved.versions.tfjs).toMatch(/^4\./);
    const events = readMetricsFile(path.join(runDir, 'metrics.jsonl'));
    const episodes = events.filter((e) => e.type === 'episode');
    expect(events.filter((e) => e.type === 'eval').map((e) => e.step)).toEqual([2000, 4000, 6000]);
    expect(events.filter((e) => e.type === 'checkpoint').map((e) => e.step)).toEqual([3000, 6000]);
    expect(events.some((e) => e.type === 'update' && e.stats.loss !== undefined)).toBe(true);
    // Learning happens: the last 20 episodes last much longer than the first 20 (random play: ~22 steps).
    const mean = (xs: { return: number }[]) => xs.reduce((a, e) => a + e.return, 0) / xs.length;
    const first = mean(episodes.slice(0, 20) as { return: number }[]);
    const last = mean(episodes.slice(-20) as { return: number }[]);
    expect(first).toBeLessThan(40);
    expect(last).toBeGreaterThan(3 * first);
    const evaluation = await evaluateRun(runDir, { episodes: 5, backend: 'wasm' });
    expect(evaluation.returns).toHaveLength(5);
    expect(evaluation.meanReturn).toBeGreaterThan(first);
    // The best evaluated policy is kept, and `lab eval` finds its env from the run.
    const evals = events.filter((e) => e.type === 'eval') as { meanReturn: number }[];
    // Re-running the training-time evaluation (same seeds) on it reproduces the best evaluation exactly.
    const best = await evaluateRun(path.join(runDir, 'best_policy'), { episodes: 5, seed: config.evalSeed, backend: 'wasm' });
    expect(best.envId).toBe('CartPole-v1');
    expect(best.meanReturn).toBe(Math.max(...evals.map((e) => e.meanReturn)));
  });

  for (const backend of ['wasm', 'cpu'] as const) {
    it(`resume after kill -9 continues exactly like an uninterrupted run (${backend})`, async () => {
      const common = ['train', '--env', 'CartPole-v1', '--agent', 'dqn', '--seed', '5', '--steps', '3000', '--eval-every', '1000', '--eval-episodes', '3', '--checkpoint-every', '500', '--backend', backend];
      const sets = ['hidden=[16,16]', 'learningStarts=300', 'trainFrequency=2', 'gradientSteps=1', 'targetUpdateInterval=100', 'bufferSize=4000', 'batchSize=16'].flatMap((s) => ['--set', s]);
      // The uninterrupted reference, in this process.
      const reference = await startTraining({
        envId: 'CartPole-v1',
        agent: 'dqn',
        seed: 5,
        steps: 3000,
        evalEvery: 1000,
        evalEpisodes: 3,
        checkpointEvery: 500,
        backend,
        out: path.join(tmp, `ref-${backend}`),
        overrides: { hidden: [16, 16], learningStarts: 300, trainFrequency: 2, gradientSteps: 1, targetUpdateInterval: 100, bufferSize: 4000, batchSize: 16 },
      });
      // The same run in a child process, killed with SIGKILL once it has checkpointed past step 1000.
      const out = path.join(tmp, `killed-${backend}`);
      const child = spawn(process.execPath, [LAB, ...common, ...sets, '--out', out], { stdio: 'ignore' });
      const runDir = await new Promise<string>((resolve, reject) => {
        const timer = setInterval(() => {
          const dirs = fs.existsSync(out) ? fs.readdirSync(out) : [];
          const latest = dirs.length ? path.join(out, dirs[0]!, 'checkpoints', 'latest.json') : '';
          if (latest && fs.existsSync(latest) && JSON.parse(fs.readFileSync(latest, 'utf8')).at >= 1500) {
            clearInterval(timer);
            child.kill('SIGKILL');
            resolve(path.join(out, dirs[0]!));
          }
        }, 20);
        child.on('exit', () => {
          clearInterval(timer);
          reject(new Error('the child finished before it could be killed'));
        });
      });
      await new Promise((r) => child.on('exit', r));
      const killedAt = JSON.parse(fs.readFileSync(path.join(runDir, 'checkpoints', 'latest.json'), 'utf8')).at;
      expect(killedAt).toBeLessThan(3000);
      await resumeTraining(runDir, { backend });
      const expected = deterministicPart(readMetricsFile(path.join(reference.runDir, 'metrics.jsonl')));
      const resumed = deterministicPart(readMetricsFile(path.join(runDir, 'metrics.jsonl')));
      expect(resumed).toEqual(expected);
    });
  }

  it('does not leak tensors over 10k training steps', async () => {
    await initCompute('wasm');
    const counts: number[] = [];
    await startTraining({
      envId: 'CartPole-v1',
      agent: 'dqn',
      seed: 1,
      steps: 10_000,
      evalEvery: 2500,
      evalEpisodes: 2,
      checkpointEvery: 5000,
      backend: 'wasm',
      out: path.join(tmp, 'leak'),
      overrides: { hidden: [8], learningStarts: 100, trainFrequency: 4, gradientSteps: 1, batchSize: 8, bufferSize: 2000 },
      sinks: [{ handle: (e) => void (e.type === 'update' && counts.push(tf.memory().numTensors)) }],
    });
    expect(counts.length).toBeGreaterThanOrEqual(9);
    expect(new Set(counts.slice(1)).size).toBe(1);
  });

  it('hands agents the true next observation and its action mask, also for finished sub-envs', async () => {
    // A stub agent on 3 Taxi sub-envs with random legal actions checks every StepBatch it receives.
    const taxi = make<number, number>('Taxi-v4').unwrapped as TaxiEnv;
    let previousNext: number[] | null = null;
    let checkedEnds = 0;
    const rng = new Rng(0);
    const agent: Agent = {
      name: 'stub',
      config: {},
      numEnvs: 3,
      act(obs, n, _explore, masks) {
        if (previousNext) {
          // Rows that did not just finish continue from the previous step's next observation.
          for (let i = 0; i < n; i++) if (previousNext[i]! >= 0) expect(obs[i]).toBe(previousNext[i]);
        }
        return Int32Array.from({ length: n }, (_, i) => {
          const legal = [0, 1, 2, 3, 4, 5].filter((a) => masks![i * 6 + a] === 1);
          return legal[rng.integer(legal.length)]!;
        });
      },
      observe(batch) {
        previousNext = [];
        for (let i = 0; i < 3; i++) {
          const next = batch.nextObs[i]!;
          expect(Array.from(batch.nextActionMasks!.subarray(i * 6, i * 6 + 6))).toEqual(Array.from(taxi.actionMask(next)));
          const ended = batch.terminations[i] || batch.truncations[i];
          if (batch.terminations[i]) {
            // A successful drop-off: the passenger is at the destination in the final observation.
            const [, , passenger, destination] = taxi.decode(next);
            expect(passenger).toBe(destination);
            checkedEnds++;
          }
          previousNext.push(ended ? -1 : next);
        }
        return null;
      },
      status: () => ({}),
      save: async () => {},
      load: async () => {},
      savePolicy: () => {},
      dispose: () => {},
    };
    const config = { ...JSON.parse(JSON.stringify(baseConfig)), envId: 'Taxi-v4', numEnvs: 3, steps: 6000, evalEvery: 0, checkpointEvery: 0, runId: 'stub' };
    const store = RunStore.create(path.join(tmp, 'stub'), config);
    const trainer = new Trainer({ config, agent, store });
    trainer.begin();
    await trainer.run();
    trainer.close();
    expect(checkedEnds).toBeGreaterThan(0);
  });

  it('rejects bad options with clear errors', async () => {
    await expect(startTraining({ envId: 'CartPole-v9', agent: 'dqn', seed: 0, out: tmp })).rejects.toThrow(/Did you mean 'CartPole-v1'/);
    await expect(startTraining({ envId: 'CartPole-v1', agent: 'sarsa', seed: 0, out: tmp })).rejects.toThrow(/unknown agent 'sarsa'; choose one of dqn/);
    await expect(startTraining({ envId: 'CartPole-v1', agent: 'dqn', seed: 0, out: tmp, overrides: { learningrate: 1 } })).rejects.toThrow(/unknown dqn hyperparameter 'learningrate'/);
    await expect(startTraining({ envId: 'CartPole-v1', agent: 'dqn', seed: 0, out: tmp, overrides: { gamma: 'high' } })).rejects.toThrow(/'gamma' must be a number/);
    await expect(startTraining({ envId: 'CartPole-v1', agent: 'dqn', seed: 0, out: tmp, preset: 'nope' })).rejects.toThrow(/no preset 'nope'/);
    await expect(resumeTraining(path.join(tmp, 'missing'))).rejects.toThrow(/is not a run directory/);
    await expect(evaluateRun(path.join(tmp, 'missing'))).rejects.toThrow(/does not exist/);
  });
});

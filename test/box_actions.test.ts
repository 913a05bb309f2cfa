/**
 * Box (continuous) actions end to end: the env checker and vector envs refuse NaN, ±Infinity and wrong lengths
 * with errors naming the env, but let out-of-bound values through for the env to clip; vector envs step Float32 and
 * Float64 batches exactly like single envs; the training loop, evaluation and replay logs carry the actions as the
 * agent chose them and re-simulate them exactly; the protocol validates Box actions in step events; discrete-only
 * agents refuse Box envs before a run directory exists.
 */
import { afterAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Box, InvalidAction, Rng, make, makeVec, type Env } from '../envs/index.js';
import { Trainer } from '../agents/training.js';
import type { Agent } from '../agents/agent.js';
import { startTraining } from '../agents/train.js';
import { RunStore, type RunConfig } from '../lab/run_store.js';
import { findReplays, readReplay, verifyLog, verifyReplay, writeReplay } from '../lab/replay.js';
import { validate } from '../protocol/protocol.js';
import type { StepEvent, TrainEvent } from '../protocol/events.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lab-box-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('Box actions at the env boundary', () => {
  it('Box.actionProblem: length and finiteness matter, bounds do not', () => {
    const box = new Box(-2, 2, [2], 'float32');
    expect(box.actionProblem(Float32Array.of(5, -9))).toBeNull();
    expect(box.actionProblem([0.1, 0.2])).toBeNull();
    expect(box.actionProblem([0.1])).toBe('expected 2 numbers (shape [2]), got 1');
    expect(box.actionProblem([0.1, NaN])).toBe('element 1 is NaN, not a finite number');
    expect(box.actionProblem(Float64Array.of(Infinity, 0))).toBe('element 0 is Infinity, not a finite number');
    expect(box.actionProblem(0.5)).toBe('expected an array of 2 numbers, got 0.5');
    expect(new Box(0, 3, [1], 'int32').actionProblem([1.5])).toBe('element 0 is 1.5, not an integer (int32)');
  });

  it('the env checker names the env and the problem; out-of-bound torques are clipped as Gymnasium does', () => {
    const env = make<Float32Array, unknown>('Pendulum-v1');
    env.reset({ seed: 0 });
    expect(() => env.step([NaN])).toThrow(InvalidAction);
    expect(() => env.step([NaN])).toThrow('Pendulum-v1: invalid action [null] for the action space Box(-2, 2, (1,), float32): element 0 is NaN, not a finite number');
    expect(() => env.step(Float32Array.of(1, 1))).toThrow(/Pendulum-v1: invalid action Float32Array\[1, 1\] .*expected 1 number \(shape \[1\]\), got 2/);
    expect(() => env.step(1)).toThrow(/Pendulum-v1: invalid action 1 .*expected an array of 1 number/);
    const mc = make<Float32Array, unknown>('MountainCarContinuous-v0');
    mc.reset({ seed: 0 });
    expect(() => mc.step([Infinity])).toThrow(/MountainCarContinuous-v0: invalid action \[null\].*element 0 is Infinity/);
    // Beyond the bounds: the same state as at the bound.
    const a = make<Float32Array, unknown>('Pendulum-v1');
    const b = make<Float32Array, unknown>('Pendulum-v1');
    a.reset({ seed: 4 });
    b.reset({ seed: 4 });
    expect(Array.from(a.step([7.5])[0])).toEqual(Array.from(b.step([2])[0]));
  });
});

/** Sub-env trajectories of a vector env against single envs with the same seeds and actions. */
function compareWithSingles(id: string, actions: (t: number, i: number) => number, batch: 'float32' | 'float64', options: Record<string, unknown> = {}): void {
  const n = 3;
  const envs = makeVec<Float32Array>(id, n, { autoresetMode: 'same-step', ...options });
  const singles: Env<Float32Array, unknown>[] = Array.from({ length: n }, () => make(id, options));
  const [obs] = envs.reset({ seed: 10 });
  singles.forEach((e, i) => expect(Array.from(obs.subarray((i * obs.length) / n, ((i + 1) * obs.length) / n))).toEqual(Array.from(e.reset({ seed: 10 + i })[0])));
  for (let t = 0; t < 250; t++) {
    const flat = batch === 'float32' ? new Float32Array(n) : new Float64Array(n);
    for (let i = 0; i < n; i++) flat[i] = actions(t, i);
    const [next, rewards, terms, truncs, infos] = envs.step(flat);
    const width = next.length / n;
    for (let i = 0; i < n; i++) {
      const [o, r, term, trunc] = singles[i]!.step([flat[i]!]);
      expect(rewards[i]).toBe(r);
      expect([terms[i], truncs[i]]).toEqual([term ? 1 : 0, trunc ? 1 : 0]);
      if (term || trunc) {
        expect(Array.from((infos.finalObs as Float32Array[])[i]!)).toEqual(Array.from(o));
        singles[i]!.reset();
      } else {
        expect(Array.from(next.subarray(i * width, (i + 1) * width))).toEqual(Array.from(o));
      }
    }
  }
  envs.close();
}

describe('Box actions through vector envs', () => {
  it('Pendulum-v1: Float32Array and Float64Array batches step like single envs, out-of-bound values clipped', () => {
    compareWithSingles('Pendulum-v1', (t, i) => Math.sin(t * 0.3 + i) * 3, 'float32');
    compareWithSingles('Pendulum-v1', (t, i) => Math.cos(t * 0.2 + i) * 2.5, 'float64');
  });

  it('MountainCarContinuous-v0 with a short time limit (autoreset, final observations)', () => {
    compareWithSingles('MountainCarContinuous-v0', (t, i) => (t % 40 < 20 ? 1 : -1) * (i + 1) * 0.7, 'float32', { maxEpisodeSteps: 60 });
  });

  it('refuses NaN and wrong lengths naming the sub-env', () => {
    const envs = makeVec('Pendulum-v1', 2);
    envs.reset({ seed: 0 });
    expect(() => envs.step(Float32Array.of(0.5, NaN))).toThrow(/Pendulum-v1 vector env: invalid action \[null\] for sub-env 1 \(action space Box\(-2, 2, \(1,\), float32\)\): element 0 is NaN/);
    expect(() => envs.step(Float32Array.of(0.5))).toThrow(/Pendulum-v1 vector env: expected 2 actions \(one per sub-env\)/);
    envs.close();
  });
});

const baseConfig: RunConfig = {
  kind: 'rl',
  runId: 'box',
  envId: 'Pendulum-v1',
  envKwargs: {},
  agent: 'stub',
  preset: null,
  hyperparameters: {},
  seed: 3,
  steps: 1200,
  episodes: null,
  numEnvs: 2,
  evalEvery: 600,
  evalEpisodes: 2,
  evalSeed: 1_000_000,
  checkpointEvery: 0,
  backend: { requested: 'cpu', backend: 'cpu', reason: 'test', details: {} },
  versions: { lab: '0', node: process.version, tfjs: '4' },
  createdAt: new Date(0).toISOString(),
  command: '',
  replays: { eval: true, train: 'all', frames: false, obs: true },
};

/** Random torques in [−3, 3] (beyond the bounds on purpose) as float32 rows; remembers what it chose while training. */
function torqueAgent(seed: number): Agent & { chosen: number[] } {
  const rng = new Rng(seed);
  const chosen: number[] = [];
  return {
    name: 'stub',
    config: {},
    numEnvs: 2,
    chosen,
    act(_obs, n, explore) {
      const out = Float32Array.from({ length: n }, () => rng.uniform(-3, 3));
      if (explore) chosen.push(...out);
      return out;
    },
    observe(batch) {
      expect(batch.actions).toBeInstanceOf(Float32Array);
      expect(batch.actions.length).toBe(2);
      return null;
    },
    status: () => ({}),
    save: async () => {},
    load: async () => {},
    savePolicy: () => {},
    dispose: () => {},
  };
}

describe('Box actions through training, evaluation, replay logs and the protocol', () => {
  it('step events and replay logs carry the chosen actions; every log re-simulates exactly', async () => {
    const config = { ...structuredClone(baseConfig), runId: 'pendulum-stub' };
    const store = RunStore.create(path.join(tmp, 'runs'), config);
    const agent = torqueAgent(1);
    const steps: StepEvent[] = [];
    const sink = { wantsSteps: true, handle: (e: TrainEvent) => void (e.type === 'step' && steps.push(e)) };
    const trainer = new Trainer({ config, agent, store, sinks: [sink] });
    trainer.begin();
    await trainer.run();
    trainer.close();

    // Live step events: sub-env 0's action as an array of one float32 value, valid for the protocol.
    expect(steps.length).toBe(600);
    steps.forEach((e, k) => expect(e.action).toEqual([agent.chosen[2 * k]]));
    const batch = { runId: config.runId, events: steps.slice(0, 50) };
    expect(validate('publisher:events', batch).ok).toBe(true);
    expect(steps.slice(0, 200).some((e) => Math.abs((e.action as number[])[0]!) > 2)).toBe(true);
    expect(steps[0]!.frame).toMatchObject({ kind: 'pendulum' });

    const logs = findReplays([path.join(store.dir, 'replays')]);
    expect(logs.filter((f) => path.basename(f).startsWith('train-')).length).toBe(3); // 600 steps of sub-env 0: 3 episodes
    expect(logs.filter((f) => path.basename(f).startsWith('eval-')).length).toBe(4); // 2 evaluations × 2 episodes
    for (const f of logs) expect(verifyReplay(f), f).toMatchObject({ ok: true, mismatch: null, error: null });
    const first = readReplay(logs.find((f) => path.basename(f).startsWith('train-e0000000'))!);
    expect(first.steps.length).toBe(200);
    first.steps.forEach((s, k) => expect(s.a).toEqual([agent.chosen[2 * k]]));

    // A tampered action is caught at its step.
    const tampered = structuredClone(first);
    tampered.steps[17]!.a = [(tampered.steps[17]!.a as number[])[0]! / 2];
    const file = path.join(tmp, 'tampered.jsonl.gz');
    writeReplay(file, tampered);
    const verdict = verifyLog(readReplay(file));
    expect(verdict.ok).toBe(false);
    expect(verdict.mismatch?.step).toBe(17);
  });

  it('the protocol accepts Box actions of finite numbers and refuses the rest', () => {
    const event = (action: unknown) => ({
      runId: 'r1',
      events: [{ type: 'step', step: 1, episode: 1, episodeStep: 1, action, reward: -1, episodeReturn: -1, terminated: false, truncated: false, t: 1, frame: null }],
    });
    expect(validate('publisher:events', event([0.25])).ok).toBe(true);
    expect(validate('publisher:events', event([0.25, -1.5, 3])).ok).toBe(true);
    expect(validate('publisher:events', event(2)).ok).toBe(true);
    const refusal = (action: unknown) => {
      const r = validate('publisher:events', event(action));
      return r.ok ? 'accepted' : r.error;
    };
    expect(refusal([])).toMatch(/events\[0\]\.action: a Box action has 1 to 64 numbers, got 0/);
    expect(refusal(new Array(65).fill(0))).toMatch(/a Box action has 1 to 64 numbers, got 65/);
    expect(refusal([0.5, null])).toMatch(/events\[0\]\.action\[1\]: expected a finite number, got null/);
    expect(refusal(['0.5'])).toMatch(/action\[0\]: expected a finite number/);
    expect(refusal(-1)).toMatch(/action: expected an integer ≥ 0/);
  });

  it('discrete-only agents refuse Box action spaces before the run directory exists', async () => {
    const out = path.join(tmp, 'refused');
    await expect(startTraining({ envId: 'Pendulum-v1', agent: 'dqn', seed: 0, out, backend: 'cpu' })).rejects.toThrow(
      'dqn needs a Discrete action space; Pendulum-v1 has Box(-2, 2, (1,), float32)',
    );
    await expect(startTraining({ envId: 'MountainCarContinuous-v0', agent: 'a2c', seed: 0, out, backend: 'cpu' })).rejects.toThrow(
      'a2c needs a Discrete action space; MountainCarContinuous-v0 has Box(-1, 1, (1,), float32)',
    );
    expect(fs.existsSync(out) ? fs.readdirSync(out) : []).toEqual([]);
  });
});

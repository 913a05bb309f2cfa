/**
 * ScriptRun.trainingEnv(): the env of a script's own loop, watched by its run. Its training episodes become replay
 * logs on the run's schedule that re-simulate exactly (seeded resets and unseeded ones, from the env's state); a
 * run killed and resumed from a checkpoint writes the same logs as an uninterrupted one, but for the episode under
 * way at the checkpoint (as with lab train); a viewer watching the run live receives its steps with frames; a
 * second training env is refused in one line.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { io, type Socket } from 'socket.io-client';
import { Rng, ScriptRun, type Env, type EnvSnapshot, type RngState } from '../index.js';
import { findReplays, readReplay, verifyReplay } from '../lab/replay.js';
import { startLabServer, type LabServer } from '../server/app.js';
import { LIVE_NAMESPACE, type FramesMessage } from '../protocol/protocol.js';
import { until } from './wait.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lab-script-watch-'));
let server: LabServer;
const sockets: Socket[] = [];

beforeAll(async () => {
  server = await startLabServer({ port: 0, runsDir: path.join(tmp, 'served') });
});

afterAll(async () => {
  for (const s of sockets) s.disconnect();
  await server.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

interface LoopState {
  step: number;
  rng: RngState;
  env: EnvSnapshot;
}

/**
 * A random walk on FrozenLake through the run's training env: a seeded reset first and every 5th episode, plain
 * resets otherwise; a checkpoint every `checkpointEvery` steps; stops after `stopAt` steps without finishing (a
 * crash) when given.
 */
async function walk(run: ScriptRun, env: Env<number, number>, from: LoopState | null, steps: number, checkpointEvery: number, stopAt?: number): Promise<void> {
  const rng = new Rng(5);
  let step = 0;
  if (from) {
    rng.setState(from.rng);
    env.restore(from.env);
    step = from.step;
  } else {
    env.reset({ seed: 11 });
  }
  while (step < steps) {
    const [, reward, terminated, truncated] = env.step(rng.integer(4));
    step++;
    void reward;
    if (terminated || truncated) {
      const k = run.episode({ step, return: reward, length: 1, terminated, truncated });
      if (k % 5 === 0) env.reset({ seed: 100 + k });
      else env.reset();
    }
    if (step % checkpointEvery === 0) await run.checkpoint<LoopState>(step, { step, rng: rng.getState(), env: env.snapshot() });
    if (step === stopAt) return;
  }
  await run.finish();
}

/** Each training log's lines without the clock (createdAt). */
function trainLogs(runDir: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const file of findReplays([path.join(runDir, 'replays')]).filter((f) => path.basename(f).startsWith('train-'))) {
    out.set(path.basename(file), zlib.gunzipSync(fs.readFileSync(file)).toString().replace(/"createdAt":"[^"]*"/, ''));
  }
  return out;
}

describe('ScriptRun.trainingEnv', () => {
  it('logs the scheduled training episodes; a killed and resumed run logs what an uninterrupted one does, but the episode under way', async () => {
    const options = { envId: 'FrozenLake-v1', agent: 'walk', hyperparameters: {}, seed: 0, steps: 3000, out: tmp, replays: { train: 'all' as const, eval: false } };
    const whole = await ScriptRun.open({ ...options, runId: 'whole' });
    await walk(whole, whole.trainingEnv<number, number>(), null, 3000, 1000);
    const expected = trainLogs(whole.dir);
    const episodes = (fs.readFileSync(path.join(whole.dir, 'metrics.jsonl'), 'utf8').match(/"type":"episode"/g) ?? []).length;
    // 'all': every finished episode (the one cut by the budget is not).
    expect(expected.size).toBe(episodes);
    for (const file of findReplays([path.join(whole.dir, 'replays')])) expect(verifyReplay(file), file).toMatchObject({ ok: true });
    const headers = [...expected.keys()].map((f) => readReplay(path.join(whole.dir, 'replays', f)).header);
    // Seeded resets start from their seed, the others from the env's state; numbered by the episodes started.
    expect(headers[0]).toMatchObject({ mode: 'train', episode: 0, seed: 11, envState: null, startStep: 0, agent: 'walk', maxEpisodeSteps: 100 });
    expect(headers.filter((h) => h.seed !== null).map((h) => h.seed)).toEqual([11, ...headers.filter((h) => h.seed !== null).slice(1).map((h) => 100 + h.episode)]);
    expect(headers.some((h) => h.seed === null && h.envState !== null)).toBe(true);
    expect(headers.map((h) => h.episode)).toEqual(headers.map((_, i) => i));

    // Killed at step 1003 (just after the checkpoint at 1000), resumed from that checkpoint, run to the end.
    const first = await ScriptRun.open({ ...options, runId: 'resumed' });
    await walk(first, first.trainingEnv<number, number>(), null, 3000, 1000, 1003);
    first.store.releaseWriter(); // the process "died": its lock goes with it
    let restored: LoopState | null = null;
    const { run, step } = await ScriptRun.resume<LoopState>(first.dir, (_dir, state) => void (restored = state));
    expect(step).toBe(1000);
    await walk(run, run.trainingEnv<number, number>(), restored, 3000, 1000);
    const got = trainLogs(run.dir);
    // The episode under way at step 1000 (it ends after step 1003) has no log: the killed process did not finish
    // it and the resumed one did not see it start. Every other log is the uninterrupted run's.
    const underWay = headers.filter((h) => h.startStep! < 1000).at(-1)!;
    const underWayFile = `train-e${String(underWay.episode).padStart(7, '0')}.jsonl.gz`;
    expect(underWay.startStep! + readReplay(path.join(whole.dir, 'replays', underWayFile)).steps.length).toBeGreaterThan(1003);
    expect([...expected.keys()].filter((f) => !got.has(f))).toEqual([underWayFile]);
    expect(got.size).toBe(expected.size - 1);
    for (const [file, text] of got) expect(text.replace(/"runId":"resumed"/, '"runId":"whole"'), file).toBe(expected.get(file));
  }, 60_000);

  it('streams each step with its frame to a viewer watching the run live', async () => {
    const run = await ScriptRun.open({ envId: 'FrozenLake-v1', agent: 'walk', hyperparameters: {}, seed: 0, steps: 100_000, out: tmp, runId: 'live-walk', live: { url: server.url, token: server.token } });
    const env = run.trainingEnv<number, number>();
    await until('the run on the server', () => server.hub.summary('live-walk')?.status === 'running');
    const viewer = io(server.url + LIVE_NAMESPACE, { transports: ['websocket'], forceNew: true, auth: { token: server.token } });
    sockets.push(viewer);
    const frames: FramesMessage[] = [];
    viewer.on('run:frames', (m: FramesMessage) => frames.push(m));
    await viewer.emitWithAck('run:watch', { runId: 'live-walk' });
    const rng = new Rng(1);
    env.reset({ seed: 3 });
    let step = 0;
    while (frames.reduce((n, m) => n + m.frames.length, 0) < 50) {
      if (step > 50_000) throw new Error('no frames reached the viewer');
      const [, , terminated, truncated] = env.step(rng.integer(4));
      step++;
      if (terminated || truncated) env.reset();
      if (step % 20 === 0) await new Promise((r) => setTimeout(r, 5));
    }
    await run.finish(undefined, 'stopped');
    const got = frames.flatMap((m) => m.frames);
    expect(got.every((f) => f.frame?.kind === 'frozenlake')).toBe(true);
    expect(got.every((f, i) => i === 0 || f.step > got[i - 1]!.step)).toBe(true);
    for (const f of got) expect((f.frame as { agent: [number, number] }).agent).toHaveLength(2);
    expect(got.every((f) => typeof f.action === 'number' && f.action >= 0 && f.action < 4)).toBe(true);
  }, 60_000);

  it('refuses a second training env in one line', async () => {
    const run = await ScriptRun.open({ envId: 'CartPole-v1', agent: 'x', hyperparameters: {}, seed: 0, steps: 10, out: tmp, runId: 'misuse' });
    run.trainingEnv();
    expect(() => run.trainingEnv()).toThrow('ScriptRun.trainingEnv: this run has its training env already (one per run)');
    await run.finish();
  });
});

/**
 * Watching trained policies live: `lab watch` (a child the server launches for "Watch policy") plays a stored
 * run's greedy policy at real-time speed while somebody watches; the server keeps one going for a run it
 * trained (the demo), so a page opened after training still gets frames.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { io, type Socket } from 'socket.io-client';
import { startLabServer, type LabServer } from '../server/app.js';
import { LIVE_NAMESPACE, type FramesMessage, type RunSummary, type TrainEvent } from '../protocol/protocol.js';
import { startTraining } from '../agents/train.js';
import { watchPolicy } from '../agents/watch.js';
import { loadGreedyPolicy } from '../agents/policy_loader.js';
import { make } from '../envs/index.js';
import { until } from './wait.js';

const FIXTURES = fileURLToPath(new URL('./fixtures/runs/', import.meta.url));

let server: LabServer;
let runsDir: string;
const sockets: Socket[] = [];

beforeAll(async () => {
  runsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lab-watch-'));
  for (const name of ['rl-dqn-cartpole', 'gan-tiny']) fs.cpSync(path.join(FIXTURES, name), path.join(runsDir, name), { recursive: true });
  server = await startLabServer({ port: 0, runsDir, trainerArgs: ['--eval-every', '0', '--checkpoint-every', '0', '--backend', 'cpu'] });
});

afterAll(async () => {
  for (const s of sockets) s.disconnect();
  await server.close();
  fs.rmSync(runsDir, { recursive: true, force: true });
});

async function connect(token?: string): Promise<Socket> {
  const socket = io(server.url + LIVE_NAMESPACE, { transports: ['websocket'], forceNew: true, ...(token ? { auth: { token } } : {}) });
  sockets.push(socket);
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('connect_error', reject);
  });
  return socket;
}

describe('watching a trained policy', () => {
  it('"Watch policy" plays a stored run live: frames while watched, one watcher per run, Stop ends it', async () => {
    const viewer = await connect(server.token);
    const started = await viewer.emitWithAck('run:watch-policy', { runId: 'rl-dqn-cartpole' });
    expect(started.ok, started.error).toBe(true);
    const watcher = started.run as RunSummary;
    expect(watcher.runId).toMatch(/^rl-dqn-cartpole-policy-\d{8}-\d{6}$/);
    expect(watcher).toMatchObject({ envId: 'CartPole-v1', agent: 'dqn · greedy', origin: 'server' });
    // The same request again gets the same watcher.
    expect((await viewer.emitWithAck('run:watch-policy', { runId: 'rl-dqn-cartpole' })).run.runId).toBe(watcher.runId);
    await until('the watcher to connect', () => server.hub.summary(watcher.runId)?.status === 'running', 30_000, { everyMs: 50 });
    const frames: FramesMessage[] = [];
    viewer.on('run:frames', (m: FramesMessage) => frames.push(m));
    expect((await viewer.emitWithAck('run:watch', { runId: watcher.runId })).ok).toBe(true);
    await until('30 frames', () => frames.reduce((a, m) => a + m.frames.length, 0) >= 30, 20_000, { everyMs: 50 });
    const all = frames.flatMap((m) => m.frames);
    expect(all[0]!.frame?.kind).toBe('cartpole');
    // Real-time: Cart-Pole renders at 50 frames/s, so 30 frames took at least ~0.5 s (steps increase by one).
    expect(all.slice(1).every((f, i) => f.step === all[i]!.step + 1)).toBe(true);
    expect((await viewer.emitWithAck('run:stop', { runId: watcher.runId })).ok).toBe(true);
    await until('the watcher to stop', () => ['stopped', 'done'].includes(server.hub.summary(watcher.runId)?.status ?? ''), 15_000, { everyMs: 50 });
  }, 90_000);

  it('refuses runs without a policy to watch, unknown runs, and pages without the key', async () => {
    const viewer = await connect(server.token);
    const gan = await viewer.emitWithAck('run:watch-policy', { runId: 'gan-tiny' });
    expect(gan.ok).toBe(false);
    expect(gan.error).toMatch(/gan run: only RL runs have a policy to watch/);
    // A run with neither a final policy nor a checkpoint: said by its id, without the server's paths.
    const bare = path.join(runsDir, 'no-policy');
    fs.cpSync(path.join(runsDir, 'rl-dqn-cartpole'), bare, { recursive: true });
    for (const d of ['policy', 'best_policy', 'checkpoints']) fs.rmSync(path.join(bare, d), { recursive: true, force: true });
    const noPolicy = await viewer.emitWithAck('run:watch-policy', { runId: 'no-policy' });
    expect(noPolicy.ok).toBe(false);
    expect(noPolicy.error).toBe('run:watch-policy: no-policy has neither a final policy nor a checkpoint');
    const none = await viewer.emitWithAck('run:watch-policy', { runId: 'no-such-run' });
    expect(none.error).toMatch(/no stored run "no-such-run"/);
    const keyless = await connect();
    expect((await keyless.emitWithAck('run:watch-policy', { runId: 'rl-dqn-cartpole' })).error).toMatch(/holds no key/);
  });

  it('a run the server trained (the demo) keeps its policy playing once it is done', async () => {
    const viewer = await connect(server.token);
    const started = await viewer.emitWithAck('run:start', { envId: 'CartPole-v1', agent: 'dqn', seed: 2, steps: 400 });
    expect(started.ok, started.error).toBe(true);
    server.hub.watchPolicyWhenDone(started.run.runId);
    await until('the run to train', () => server.hub.summary(started.run.runId)?.status === 'done', 60_000, { everyMs: 50 });
    const watcher = await until('its policy to play', () => server.hub.list().find((r) => r.runId.startsWith(`${started.run.runId}-policy-`) && r.status === 'running'), 30_000, { everyMs: 50 });
    expect(watcher.agent).toBe('dqn · greedy');
    // A page opened now picks it up and gets frames.
    const frames: FramesMessage[] = [];
    viewer.on('run:frames', (m: FramesMessage) => frames.push(m));
    expect((await viewer.emitWithAck('run:watch', { runId: watcher.runId })).ok).toBe(true);
    await until('frames', () => frames.length > 0, 20_000, { everyMs: 50 });
    await viewer.emitWithAck('run:stop', { runId: watcher.runId });
  }, 120_000);
});

describe('watchPolicy', () => {
  it('plays a Discrete-observation env (FrozenLake) and sends every step with its frame, then the episode', async () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'lab-watch-fl-'));
    try {
      const { runDir } = await startTraining({ envId: 'FrozenLake-v1', agent: 'dqn', seed: 1, steps: 300, evalEvery: 0, out, backend: 'cpu', overrides: { learningStarts: 50 } });
      const events: TrainEvent[] = [];
      const result = await watchPolicy({ target: runDir, episodes: 2, seed: 7, fps: 1000, sink: { wantsSteps: true, handle: (e) => void events.push(e) } });
      expect(result.episodes).toBe(2);
      const steps = events.filter((e) => e.type === 'step');
      const episodes = events.filter((e) => e.type === 'episode');
      expect(episodes).toHaveLength(2);
      expect(steps.length).toBe(episodes.reduce((a, e) => a + (e as { length: number }).length, 0));
      expect(steps.every((e) => (e as { frame: { kind: string } | null }).frame?.kind === 'frozenlake')).toBe(true);
      // The actions are the greedy policy's on each state, replayed here from the same seed.
      const { policy, dispose } = loadGreedyPolicy(runDir);
      const env = make('FrozenLake-v1', {});
      try {
        let [obs] = env.reset({ seed: 7 });
        for (const e of steps.filter((x) => (x as { episode: number }).episode === 1) as { action: number }[]) {
          expect(e.action).toBe((await policy.act(Int32Array.of(obs as number), 1, false, null))[0]);
          [obs] = env.step(e.action);
        }
      } finally {
        env.close();
        dispose();
      }
    } finally {
      fs.rmSync(out, { recursive: true, force: true });
    }
  }, 60_000);
});

/**
 * The live server over real sockets (socket.io-client): publishers announce runs and stream events, viewers
 * watch them; frames arrive in order and throttled, bad payloads are refused with error acks, junk floods
 * don't hurt, and a run started from the viewer trains in a `lab train --live` child process.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { io, type Socket } from 'socket.io-client';
import { startLabServer, type LabServer } from '../server/app.js';
import { LivePublisher } from '../lab/publisher.js';
import { startTraining } from '../agents/train.js';
import { until } from './wait.js';
import { HistoryBuffer } from '../server/history.js';
import {
  LIVE_NAMESPACE,
  PROTOCOL_VERSION,
  WATCH_SAMPLE_GRIDS,
  PUBLISH_NAMESPACE,
  validate,
  type Catalog,
  type FramesMessage,
  type MetricsMessage,
  type RunInfo,
  type RunSummary,
  type SamplesEvent,
  type StepEvent,
  type TrainEvent,
} from '../protocol/protocol.js';

const LAB = fileURLToPath(new URL('../bin/lab.mjs', import.meta.url));
const run = promisify(execFile);
let server: LabServer;
let runsDir: string;
const sockets: Socket[] = [];

beforeAll(async () => {
  runsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lab-live-'));
  server = await startLabServer({
    port: 0,
    runsDir,
    trainerArgs: ['--eval-every', '1000', '--eval-episodes', '2', '--checkpoint-every', '0'],
    ganTrainerArgs: ['--backend', 'wasm', '--sample-every', '4', '--log-every', '2', '--checkpoint-every', '0'],
  });
});

afterAll(async () => {
  for (const s of sockets) s.disconnect();
  await server.close();
  fs.rmSync(runsDir, { recursive: true, force: true });
});

/** A socket holding the server's key, as the lab's own page (cookie) and its trainers (handshake) do. */
async function connect(namespace: string): Promise<Socket> {
  const socket = io(server.url + namespace, { transports: ['websocket'], forceNew: true, auth: { token: server.token } });
  sockets.push(socket);
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('connect_error', reject);
  });
  return socket;
}

function info(runId: string, over: Partial<RunInfo> = {}): RunInfo {
  return {
    runId,
    kind: 'rl',
    envId: 'CartPole-v1',
    agent: 'dqn',
    preset: 'zoo',
    seed: 3,
    steps: 1000,
    episodes: null,
    numEnvs: 1,
    backend: 'wasm',
    fps: 50,
    runDir: path.join(runsDir, runId),
    startStep: 0,
    hyperparameters: { gamma: 0.99 },
    ...over,
  };
}

/** A CartPole-like stream: episodes of `length` steps with frames and episode events, as a trainer emits them. */
function fakeEpisodes(episodes: number, length: number, firstStep = 0): TrainEvent[] {
  const out: TrainEvent[] = [];
  let step = firstStep;
  for (let ep = 1; ep <= episodes; ep++) {
    for (let k = 1; k <= length; k++) {
      step++;
      const last = k === length;
      out.push({
        type: 'step',
        step,
        episode: ep,
        episodeStep: k,
        action: k % 2,
        reward: 1,
        episodeReturn: k,
        terminated: last,
        truncated: false,
        t: Date.now(),
        frame: { kind: 'cartpole', x: k / 100, xDot: 0, theta: 0.01 * k, thetaDot: 0, xThreshold: 2.4, thetaThreshold: 0.2095, poleHalfLength: 0.5, lastAction: k % 2 },
      });
    }
    out.push({ type: 'episode', step, episode: ep, envIndex: 0, return: length, length, terminated: true, truncated: false, time: step / 1000 });
  }
  return out;
}

describe('lab server', () => {
  it('binds to loopback by default and answers the HTTP API', async () => {
    expect(server.host).toBe('127.0.0.1');
    const health = await (await fetch(`${server.url}/api/health`)).json();
    expect(health).toMatchObject({ ok: true, protocol: PROTOCOL_VERSION });
    const catalog = (await (await fetch(`${server.url}/api/catalog`)).json()) as Catalog;
    const cartpole = catalog.envs.find((e) => e.id === 'CartPole-v1');
    expect(cartpole).toEqual({ id: 'CartPole-v1', fps: 50, frameKind: 'cartpole', nActions: 2 });
    expect(catalog.envs.find((e) => e.id === 'GoLite-7x7-v0')!.frameKind).toBe('go');
    expect(catalog.agents.map((a) => a.name)).toEqual(expect.arrayContaining(['dqn', 'a2c', 'reinforce']));
    expect((await fetch(`${server.url}/api/runs/nope`)).status).toBe(404);
    expect((await fetch(`${server.url}/api/runs/..%2F..%2Fetc`)).status).toBe(404);
    expect((await fetch(`${server.url}/api/nothing`)).status).toBe(404);
  });

  it('streams a published run to a watcher: ordered frames, episode ends, throttled messages', async () => {
    const pub = await connect(PUBLISH_NAMESPACE);
    const viewer = await connect(LIVE_NAMESPACE);
    const watchOrders: unknown[] = [];
    pub.on('publisher:watch', (o) => watchOrders.push(o));
    const hello = await pub.emitWithAck('publisher:hello', { protocol: PROTOCOL_VERSION, run: info('fake-ordered') });
    expect(hello).toEqual({ ok: true, watch: { runId: 'fake-ordered', watching: false, frameEvery: 1 } });

    const frames: FramesMessage[] = [];
    const metrics: MetricsMessage[] = [];
    const arrivals: number[] = [];
    viewer.on('run:frames', (m: FramesMessage) => {
      frames.push(m);
      arrivals.push(performance.now());
    });
    viewer.on('run:metrics', (m: MetricsMessage) => metrics.push(m));
    const watched = await viewer.emitWithAck('run:watch', { runId: 'fake-ordered' });
    expect(watched.ok).toBe(true);
    expect(watched.run.status).toBe('running');
    expect(watched.run.origin).toBe('cli');
    await until('watch order', () => watchOrders.length > 0, 2000);
    expect(watchOrders[0]).toEqual({ runId: 'fake-ordered', watching: true, frameEvery: 1 });

    // 20 episodes of 100 steps in 40 batches, some paced like a LivePublisher (60/s), some in bursts.
    const events = fakeEpisodes(20, 100);
    for (let i = 0; i < events.length; i += 53) {
      pub.emit('publisher:events', { runId: 'fake-ordered', events: events.slice(i, i + 53) });
      if (i % 4 === 0) await new Promise((r) => setTimeout(r, 17));
    }
    await until('all frames', () => metrics.reduce((n, m) => n + m.episodes.length, 0) === 20 && frames.reduce((n, m) => n + m.frames.length + m.dropped, 0) === 2000, 10_000);

    const all = frames.flatMap((m) => m.frames);
    expect(frames.every((m) => m.runId === 'fake-ordered' && m.dropped === 0)).toBe(true);
    expect(all.map((f) => f.step)).toEqual(Array.from({ length: 2000 }, (_, i) => i + 1));
    expect(all[99]).toMatchObject({ episode: 1, episodeStep: 100, terminated: true, episodeReturn: 100 });
    expect(all[100]).toMatchObject({ episode: 2, episodeStep: 1, terminated: false });
    expect(all[5]!.frame).toMatchObject({ kind: 'cartpole', x: 0.06, theta: 0.06 });
    const episodes = metrics.flatMap((m) => m.episodes);
    expect(episodes.map((e) => e.episode)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(episodes[19]).toEqual({ step: 2000, episode: 20, return: 100, length: 100 });
    // ≤ 60 messages per second: 2000 frames sent in 40 batches arrive in fewer, coalesced messages, no more
    // than 60 per second of the time they took (arrival gaps jitter with load, so count over the span).
    const span = (arrivals[arrivals.length - 1]! - arrivals[0]!) / 1000;
    expect(frames.length).toBeLessThanOrEqual(Math.ceil(span * 60) + 1);
    expect(frames.length).toBeLessThan(40);

    // A late watcher gets the curves so far and the current episode's frames.
    const late = await connect(LIVE_NAMESPACE);
    const lateWatch = await late.emitWithAck('run:watch', { runId: 'fake-ordered' });
    expect(lateWatch.history.episodes).toHaveLength(20);
    expect(lateWatch.frames.map((f: StepEvent) => f.episodeStep)).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
    expect(lateWatch.run.episodesDone).toBe(20);
    expect(lateWatch.run.meanReturn).toBe(100);

    expect(await pub.emitWithAck('publisher:end', { runId: 'fake-ordered', status: 'done' })).toEqual({ ok: true });
    const listed = await viewer.emitWithAck('runs:list', {});
    expect(listed.runs.find((r: RunSummary) => r.runId === 'fake-ordered').status).toBe('done');
  });

  it('drops frames past the per-watcher bound instead of queueing them', async () => {
    const pub = await connect(PUBLISH_NAMESPACE);
    const viewer = await connect(LIVE_NAMESPACE);
    await pub.emitWithAck('publisher:hello', { protocol: PROTOCOL_VERSION, run: info('fake-flood') });
    let received = 0;
    let dropped = 0;
    let messages = 0;
    viewer.on('run:frames', (m: FramesMessage) => {
      messages++;
      received += m.frames.length;
      dropped += m.dropped;
    });
    await viewer.emitWithAck('run:watch', { runId: 'fake-flood' });
    // 30 000 frames in one burst: far more than a viewer can be sent in the same instant.
    const events = fakeEpisodes(100, 300).filter((e) => e.type === 'step');
    for (let i = 0; i < events.length; i += 1000) pub.emit('publisher:events', { runId: 'fake-flood', events: events.slice(i, i + 1000) });
    await until('frames accounted for', () => received + dropped === 30_000, 10_000);
    expect(dropped).toBeGreaterThan(0);
    expect(received).toBeLessThanOrEqual(1000 * messages);
    expect(server.hub.stats.framesDropped).toBeGreaterThanOrEqual(dropped);
  });

  it('refuses invalid payloads with error acknowledgements that name the problem', async () => {
    const viewer = await connect(LIVE_NAMESPACE);
    const pub = await connect(PUBLISH_NAMESPACE);
    const cases: [Socket, string, unknown, RegExp][] = [
      [viewer, 'run:watch', {}, /run:watch: runId: expected a string, got nothing/],
      [viewer, 'run:watch', { runId: '../etc' }, /runId: expected a string matching/],
      [viewer, 'run:watch', { runId: 'x', extra: 1 }, /extra: unknown field/],
      [viewer, 'run:watch', 'CartPole', /expected an object/],
      [viewer, 'run:watch', { runId: 'does-not-exist' }, /no run "does-not-exist"/],
      [viewer, 'run:start', { envId: 'CartPole-v9', agent: 'dqn' }, /CartPole-v9/],
      [viewer, 'run:start', { envId: 'CartPole-v1', agent: 'rainbow' }, /unknown agent 'rainbow'/],
      [viewer, 'run:start', { envId: 'CartPole-v1', agent: 'dqn', preset: 'fast' }, /no preset 'fast'/],
      [viewer, 'run:start', { envId: 'CartPole-v1', agent: 'dqn', seed: -1 }, /seed: expected an integer ≥ 0/],
      [viewer, 'run:start', { envId: 'CartPole-v1', agent: 'dqn', steps: 1.5 }, /steps: expected an integer/],
      [viewer, 'run:stop', { runId: 'nope' }, /no live run "nope"/],
      [viewer, 'frobnicate', {}, /unknown event "frobnicate"/],
      [pub, 'publisher:hello', { protocol: 99, run: info('p') }, /protocol 99 is not supported/],
      [pub, 'publisher:hello', { protocol: 1, run: { ...info('p'), fps: 'fast' } }, /run\.fps: expected a finite number, got "fast"/],
      [pub, 'publisher:events', { runId: 'never-announced', events: [] }, /did not announce run "never-announced"/],
    ];
    for (const [socket, event, payload, expected] of cases) {
      const ack = await socket.timeout(2000).emitWithAck(event, payload);
      expect(ack.ok, `${event} ${JSON.stringify(payload)}`).toBe(false);
      expect(ack.error).toMatch(expected);
    }
    // Without a callback the refusal comes as a lab:error event.
    const errors: { event: string; error: string }[] = [];
    viewer.on('lab:error', (m) => errors.push(m));
    viewer.emit('run:watch', { runId: 42 });
    await until('lab:error', () => errors.length === 1, 2000);
    expect(errors[0]).toEqual({ event: 'run:watch', error: 'run:watch: runId: expected a string, got number' });

    // Bad events inside a batch refuse the whole batch, naming the event.
    await pub.emitWithAck('publisher:hello', { protocol: PROTOCOL_VERSION, run: info('fake-bad-events') });
    const good = fakeEpisodes(1, 3);
    const bad = [...good.slice(0, 2), { ...good[2], frame: { kind: 'tetris' } }];
    const ack = await pub.emitWithAck('publisher:events', { runId: 'fake-bad-events', events: bad });
    expect(ack).toEqual({ ok: false, error: expect.stringMatching(/events\[2\]\.frame\.kind: expected one of "cartpole"/) });
  });

  it('survives 10 000 malformed messages and still serves', async () => {
    const viewer = await connect(LIVE_NAMESPACE);
    const errors: unknown[] = [];
    viewer.on('lab:error', (m) => errors.push(m));
    const before = server.hub.stats.rejected;
    const junk: [string, unknown][] = [
      ['run:watch', null],
      ['run:watch', { runId: { $gt: '' } }],
      ['run:start', { envId: 'x'.repeat(5000), agent: 1 }],
      ['run:stop', [1, 2, 3]],
      ['runs:list', 'all'],
      ['__proto__', { polluted: true }],
      ['constructor', {}],
      ['run:start', { envId: 'CartPole-v1', agent: 'dqn', __proto__: { steps: 5 }, seed: 'NaN' }],
    ];
    for (let i = 0; i < 10_000; i++) {
      const [event, payload] = junk[i % junk.length]!;
      viewer.emit(event, payload);
    }
    const listed = await viewer.timeout(10_000).emitWithAck('runs:list', {});
    expect(listed.ok).toBe(true);
    await until('all rejected', () => server.hub.stats.rejected - before === 10_000, 10_000);
    // Refusals without a callback are rate-limited, not echoed 10 000 times.
    expect(errors.length).toBeGreaterThan(0);
    expect(errors.length).toBeLessThan(200);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect((await fetch(`${server.url}/api/health`)).status).toBe(200);
    expect(viewer.connected).toBe(true);
  });

  it('a LivePublisher sends frames only while watched, and honours stop requests', async () => {
    let stopped = false;
    const publisher = new LivePublisher({ url: server.url, onStop: () => (stopped = true) });
    expect(publisher.wantsSteps).toBe(false);
    publisher.begin(info('publisher-unit'));
    await until('hello', () => server.hub.summary('publisher-unit')?.status === 'running', 5000);
    expect(publisher.wantsSteps).toBe(false);
    const events = fakeEpisodes(3, 50);
    for (const e of events.slice(0, 50)) publisher.handle(e); // nobody watches: frames are not even buffered
    const viewer = await connect(LIVE_NAMESPACE);
    const frames: FramesMessage[] = [];
    viewer.on('run:frames', (m: FramesMessage) => frames.push(m));
    await viewer.emitWithAck('run:watch', { runId: 'publisher-unit' });
    await until('watch order', () => publisher.wantsSteps, 2000);
    for (const e of events.slice(50)) publisher.handle(e);
    await until('frames', () => frames.reduce((n, m) => n + m.frames.length, 0) === 100, 5000);
    expect(frames.flatMap((m) => m.frames).map((f) => f.episode)).toEqual([...Array(50).fill(2), ...Array(50).fill(3)]);
    expect(server.hub.summary('publisher-unit')!.episodesDone).toBe(3);

    expect((await viewer.emitWithAck('run:stop', { runId: 'publisher-unit' })).ok).toBe(true);
    await until('stop request', () => stopped, 2000);
    await publisher.end('stopped');
    await until('stopped', () => server.hub.summary('publisher-unit')?.status === 'stopped', 2000);
    await viewer.emitWithAck('run:unwatch', { runId: 'publisher-unit' });
  });

  it("a LivePublisher sends a step whose frame the protocol refuses without it, says so once, and the run's events still arrive", async () => {
    const notices: string[] = [];
    const publisher = new LivePublisher({ url: server.url, onNotice: (m) => notices.push(m) });
    publisher.begin(info('bad-frames'));
    await until('hello', () => server.hub.summary('bad-frames')?.status === 'running', 5000);
    const viewer = await connect(LIVE_NAMESPACE);
    const frames: FramesMessage[] = [];
    viewer.on('run:frames', (m: FramesMessage) => frames.push(m));
    await viewer.emitWithAck('run:watch', { runId: 'bad-frames' });
    await until('watch order', () => publisher.wantsSteps, 2000);
    // Episode 2's frames are a plug-in's hand-made values frames with one label too few.
    const events = fakeEpisodes(3, 20).map((e) => (e.type === 'step' && e.episode === 2 ? { ...e, frame: { kind: 'values' as const, values: [1, 2], labels: ['a'] } } : e));
    for (const e of events) publisher.handle(e);
    await until('frames', () => frames.reduce((n, m) => n + m.frames.length, 0) === 60, 5000);
    const got = frames.flatMap((m) => m.frames);
    expect(got.map((f) => (f.frame === null ? null : f.frame.kind))).toEqual([...Array(20).fill('cartpole'), ...Array(20).fill(null), ...Array(20).fill('cartpole')]);
    expect(server.hub.summary('bad-frames')!.episodesDone).toBe(3);
    expect(notices.filter((n) => n.startsWith('values frames cannot be published'))).toEqual(['values frames cannot be published (frame.labels: expected 2 entries (one per value), got 1): viewers get the steps without them']);
    await publisher.end('done');
    await viewer.emitWithAck('run:unwatch', { runId: 'bad-frames' });
  });

  it('a LivePublisher whose run the server refuses says why once, and not that no server took it', async () => {
    const pub = await connect(PUBLISH_NAMESPACE);
    expect(await pub.emitWithAck('publisher:hello', { protocol: PROTOCOL_VERSION, run: info('taken') })).toMatchObject({ ok: true });
    const notices: string[] = [];
    const publisher = new LivePublisher({ url: server.url, onNotice: (m) => notices.push(m) });
    publisher.begin(info('taken'));
    await until('the refusal', () => (notices.length ? true : null), 5000);
    await publisher.end('done');
    expect(notices).toEqual(['lab server refused the run: publisher:hello: run taken is already being published; training goes on unpublished (it is stored as usual)']);
    pub.disconnect();
  });

  it('marks a CLI run lost when its publisher vanishes mid-run', async () => {
    const pub = await connect(PUBLISH_NAMESPACE);
    await pub.emitWithAck('publisher:hello', { protocol: PROTOCOL_VERSION, run: info('fake-lost') });
    pub.disconnect();
    await until('lost', () => server.hub.summary('fake-lost')?.status === 'lost', 3000);
  });

  it('starts a run from the viewer: a lab train --live child trains, streams and stores it', async () => {
    const viewer = await connect(LIVE_NAMESPACE);
    const started = await viewer.emitWithAck('run:start', { envId: 'CartPole-v1', agent: 'a2c', seed: 7, steps: 4000 });
    expect(started.ok).toBe(true);
    const runId: string = started.run.runId;
    expect(runId).toMatch(/^CartPole-v1-a2c-cartpole-s7-\d{8}-\d{6}$/);
    expect(started.run).toMatchObject({ status: 'starting', origin: 'server', fps: 50, steps: 4000 });
    const frames: FramesMessage[] = [];
    const metrics: MetricsMessage[] = [];
    viewer.on('run:frames', (m: FramesMessage) => frames.push(m));
    viewer.on('run:metrics', (m: MetricsMessage) => metrics.push(m));
    await viewer.emitWithAck('run:watch', { runId });
    const final = await until('the run to finish', () => {
      const s = server.hub.summary(runId);
      return s && s.status !== 'starting' && s.status !== 'running' ? s : null;
    }, 60_000);
    expect(final.error).toBeNull();
    expect(final.status).toBe('done');
    expect(final.step).toBe(4000);
    expect(final.backend).toBe('wasm');
    const all = frames.flatMap((m) => m.frames);
    expect(all.length).toBeGreaterThan(100);
    for (let i = 1; i < all.length; i++) expect(all[i]!.step).toBeGreaterThan(all[i - 1]!.step);
    for (const f of all) expect(validate('publisher:events', { runId, events: [{ type: 'step', ...f }] }).ok).toBe(true);
    // Episode ends arrive as curve points, matching the run's metrics.jsonl.
    const episodes = metrics.flatMap((m) => m.episodes);
    const stored = fs.readFileSync(path.join(runsDir, runId, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l)).filter((e) => e.type === 'episode');
    expect(episodes.length).toBeGreaterThan(10);
    expect(episodes).toEqual(stored.slice(0, episodes.length).map((e) => ({ step: e.step, episode: e.episode, return: e.return, length: e.length })));
    expect(metrics.flatMap((m) => m.evals).length).toBeGreaterThanOrEqual(1);
    // Frames follow sub-env 0: a frame that ends its k-th episode carries that episode's return.
    const envZero = stored.filter((e) => e.envIndex === 0);
    const ends = all.filter((f) => f.terminated || f.truncated);
    expect(ends.length).toBeGreaterThan(3);
    for (const f of ends) expect(f.episodeReturn).toBe(envZero[f.episode - 1].return);
    // The finished run is also listed from disk after the server forgets it.
    expect(server.hub.disk.summary(runId)).toMatchObject({ status: 'stored', step: 4000, envId: 'CartPole-v1' });
  }, 90_000);

  it('lab train --live publishes a CLI run; without a server it trains anyway; a bad URL is refused', async () => {
    const viewer = await connect(LIVE_NAMESPACE);
    const out = path.join(runsDir, 'cli');
    const cli = run(process.execPath, [LAB, 'train', '--env', 'CartPole-v1', '--agent', 'reinforce', '--steps', '3000', '--eval-every', '0', '--out', out, '--run-id', 'cli-published', '--live', server.url], { encoding: 'utf8' });
    const seen = await until('the CLI run to appear', async () => {
      const r = (await viewer.emitWithAck('runs:list', {})).runs.find((x: RunSummary) => x.runId === 'cli-published');
      return r ?? null;
    }, 30_000);
    expect(seen).toMatchObject({ origin: 'cli', agent: 'reinforce', envId: 'CartPole-v1', steps: 3000 });
    const { stdout } = await cli;
    expect(stdout).toContain(`live: publishing to ${server.url}`);
    await until('done', () => server.hub.summary('cli-published')?.status === 'done', 5000);
    expect(server.hub.summary('cli-published')!.step).toBe(3000);

    const offline = await run(process.execPath, [LAB, 'train', '--env', 'CartPole-v1', '--agent', 'reinforce', '--steps', '500', '--eval-every', '0', '--out', out, '--live', 'http://127.0.0.1:9'], { encoding: 'utf8' });
    expect(offline.stdout).toMatch(/live: no lab server at http:\/\/127\.0\.0\.1:9 .*(training goes on|it was not published)/);
    expect(offline.stdout).toMatch(/done: 500 steps/);

    // A wrong key: said once, the run trains and is stored, the server never lists it.
    const wrongKey = await run(process.execPath, [LAB, 'train', '--env', 'CartPole-v1', '--agent', 'reinforce', '--steps', '500', '--eval-every', '0', '--out', out, '--run-id', 'cli-wrong-key', '--live', server.url, '--token', 'not-the-key-at-all'], { encoding: 'utf8' });
    expect(wrongKey.stdout).toMatch(/live: the lab server at .* refused the key; training goes on unpublished\. Pass the key printed by lab serve with --token/);
    expect(wrongKey.stdout).not.toMatch(/no lab server/);
    expect(wrongKey.stdout).toMatch(/done: 500 steps/);
    expect(server.hub.summary('cli-wrong-key')).toBeNull();
    expect(fs.existsSync(path.join(out, 'cli-wrong-key', 'metrics.jsonl'))).toBe(true);

    const bad = await run(process.execPath, [LAB, 'train', '--env', 'CartPole-v1', '--steps', '10', '--out', out, '--live', 'ftp://x'], { encoding: 'utf8' }).catch((e: { stderr: string; code: number }) => e);
    expect((bad as { code: number }).code).not.toBe(0);
    expect((bad as { stderr: string }).stderr).toMatch(/--live: expected an http\(s\) URL, got ftp:\/\/x/);
  }, 60_000);

  it('lab serve starts the demo run, serves the viewer, and stops its runs cleanly on Ctrl-C', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lab-serve-'));
    const child = spawn(process.execPath, [LAB, 'serve', '--port', '0', '--runs', dir, '--demo-steps', '200000'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    try {
      const url = await until('the server URL', () => /lab viewer: (http:\/\/127\.0\.0\.1:\d+)/.exec(out)?.[1], 60_000);
      const demo = await until('the demo run to train', async () => {
        const runs = (await (await fetch(`${url}/api/runs`)).json()) as RunSummary[];
        return runs.find((r) => r.status === 'running' && r.step > 0);
      }, 60_000);
      expect(demo).toMatchObject({ envId: 'CartPole-v1', agent: 'dqn', preset: 'zoo', origin: 'server' });
      const page = await fetch(url);
      expect(page.status).toBe(200);
      expect(await page.text()).toMatch(/<html/i);
      child.kill('SIGINT');
      const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
      expect(code, out).toBe(0);
      expect(out).toContain('shutting down');
      // The demo trainer was interrupted like Ctrl-C in a terminal: it wrote a checkpoint to resume from.
      expect(fs.existsSync(path.join(dir, demo.runId, 'checkpoints', 'latest.json'))).toBe(true);
    } finally {
      child.kill('SIGKILL');
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 90_000);

  it('the frame of a step that ends an episode shows the final state, not the autoreset one', async () => {
    const steps: StepEvent[] = [];
    const out = path.join(runsDir, 'final-frames');
    for (const agent of ['reinforce', 'a2c']) {
      steps.length = 0;
      await startTraining({ agent, envId: 'CartPole-v1', seed: 2, steps: 3000, evalEvery: 0, out, sinks: [{ wantsSteps: true, handle: (e) => void (e.type === 'step' && steps.push(e)) }] });
      const ends = steps.filter((e) => e.terminated || e.truncated);
      expect(ends.length).toBeGreaterThan(5);
      for (const e of ends) {
        const f = e.frame as { x: number; theta: number; xThreshold: number; thetaThreshold: number };
        // Terminated: the pole fell or the cart left the track in this very frame.
        if (e.terminated) expect(Math.abs(f.theta) > f.thetaThreshold || Math.abs(f.x) > f.xThreshold, `${agent} episode ${e.episode}`).toBe(true);
      }
      // And the next frame is the start of a fresh episode (|state| ≤ 0.05 after reset plus one step).
      for (let i = 0; i + 1 < steps.length; i++) {
        if (!steps[i]!.terminated) continue;
        expect(steps[i + 1]!.episodeStep).toBe(1);
        expect(Math.abs((steps[i + 1]!.frame as { theta: number }).theta)).toBeLessThan(0.1);
      }
    }
  }, 60_000);

  it('lab match --live shows the games: one episode per game, a Go frame per move', async () => {
    const viewer = await connect(LIVE_NAMESPACE);
    const child = run(process.execPath, [LAB, 'match', 'mcts', 'random', '--games', '3', '--size', '5', '--sims', '3000', '--seed', '1', '--live', server.url], { encoding: 'utf8' });
    const match = await until('the match to appear', async () => (await viewer.emitWithAck('runs:list', {})).runs.find((r: RunSummary) => r.runId.startsWith('match-mcts-3000-vs-random-5x5-')), 30_000);
    expect(match).toMatchObject({ envId: 'GoLite-5x5-v0', agent: 'mcts-3000 vs random', episodes: 3, fps: 2 });
    const frames: FramesMessage[] = [];
    viewer.on('run:frames', (m: FramesMessage) => frames.push(m));
    await viewer.emitWithAck('run:watch', { runId: match.runId });
    const { stdout } = await child;
    await until('done', () => server.hub.summary(match.runId)?.status === 'done', 5000);
    expect(stdout).toMatch(/game 3: /);
    const history = server.hub.history(match.runId)!;
    expect(history.episodes.map((e) => e.episode)).toEqual([1, 2, 3]);
    for (const e of history.episodes) expect([1, 0, -1]).toContain(e.return);
    const all = frames.flatMap((m) => m.frames);
    expect(all.length).toBeGreaterThan(5);
    for (const f of all) {
      expect(f.frame).toMatchObject({ kind: 'go', size: 5, komi: 24 });
      const stones = [...(f.frame as { board: string }).board].filter((c) => c !== '.').length;
      expect(stones).toBeLessThanOrEqual(f.episodeStep);
    }
    for (let i = 1; i < all.length; i++) expect(all[i]!.step).toBeGreaterThan(all[i - 1]!.step);
    expect(all.filter((f) => f.terminated).length).toBeGreaterThanOrEqual(1);
  }, 60_000);

  it('an AlphaZero-lite publisher: bad records refused, matches bounded to the newest 5,000 whatever it sends', async () => {
    const pub = await connect(PUBLISH_NAMESPACE);
    expect(await pub.emitWithAck('publisher:hello', { protocol: PROTOCOL_VERSION, run: info('az-flood', { kind: 'go-alphazero', envId: 'go:5x5', agent: 'alphazero', preset: null, fps: 1 }) })).toMatchObject({ ok: true });
    const match = (i: number) => ({ type: 'go-eval', iteration: i, opponent: 'random', games: 2, wins: 1, losses: 1, draws: 0, score: 0.5 });
    const bad = await pub.emitWithAck('publisher:events', { runId: 'az-flood', events: [{ ...match(1), wins: 2 }] });
    expect(bad).toEqual({ ok: false, error: expect.stringContaining('games: expected wins + losses + draws (3), got 2') });
    for (let i = 0; i < 6000; i += 2000) {
      const events = Array.from({ length: 2000 }, (_, k) => match(i + k + 1));
      expect(await pub.emitWithAck('publisher:events', { runId: 'az-flood', events })).toEqual({ ok: true });
    }
    const matches = server.hub.history('az-flood')!.matches!;
    expect(matches.length).toBe(5000);
    expect([matches[0]!.step, matches.at(-1)!.step]).toEqual([1001, 6000]);
    expect(server.hub.summary('az-flood')!.lastMatches).toEqual([{ step: 6000, opponent: 'random', games: 2, wins: 1, losses: 1, draws: 0, score: 0.5 }]);
    pub.disconnect();
  });

  it("a resumed AlphaZero-lite run's stored matches go through the same bound", () => {
    const history = new HistoryBuffer();
    history.addMatches(Array.from({ length: 6000 }, (_, k) => ({ step: k + 1, opponent: 'random', games: 2, wins: 1, losses: 1, draws: 0, score: 0.5 })));
    expect(history.matches.length).toBe(5000);
    expect([history.matches[0]!.step, history.matches.at(-1)!.step]).toEqual([1001, 6000]);
  });

  it('relays GAN sample grids: the newest of a batch to watchers as they come, all of them to a late watcher', async () => {
    const pub = await connect(PUBLISH_NAMESPACE);
    const viewer = await connect(LIVE_NAMESPACE);
    await pub.emitWithAck('publisher:hello', { protocol: PROTOCOL_VERSION, run: info('gan-samples', { kind: 'gan', envId: 'quickdraw:apple', agent: 'gan', preset: 'fast', fps: 2 }) });
    const got: { runId: string; samples: { step: number; pixels: string } }[] = [];
    viewer.on('run:samples', (m) => got.push(m));
    await viewer.emitWithAck('run:watch', { runId: 'gan-samples' });
    const grid = (step: number) => ({ type: 'samples', step, count: 4, width: 28, height: 28, pixels: Buffer.alloc(4 * 784, step % 256).toString('base64'), time: step / 10 });
    const update = { type: 'update', step: 10, updates: 10, stats: { dLoss: 0.7, gLoss: 0.9 }, sps: 5, time: 1 };
    expect(await pub.emitWithAck('publisher:events', { runId: 'gan-samples', events: [update, grid(10), grid(20)] })).toEqual({ ok: true });
    await until('samples', () => got.length === 1, 3000);
    expect(got[0]!.samples.step).toBe(20);
    expect(Buffer.from(got[0]!.samples.pixels, 'base64')).toEqual(Buffer.alloc(4 * 784, 20));
    const late = await connect(LIVE_NAMESPACE);
    const ack = await late.emitWithAck('run:watch', { runId: 'gan-samples' });
    expect(ack.run.kind).toBe('gan');
    expect(ack.samples.map((g: { step: number }) => g.step)).toEqual([10, 20]);
    expect(Buffer.from(ack.samples[0].pixels, 'base64')).toEqual(Buffer.alloc(4 * 784, 10));
    // A grid sent again for a step replaces the earlier one; grids arriving out of order are kept in step order.
    await pub.emitWithAck('publisher:events', { runId: 'gan-samples', events: [grid(5), { ...grid(20), pixels: Buffer.alloc(4 * 784, 7).toString('base64') }] });
    const again = await late.emitWithAck('run:watch', { runId: 'gan-samples' });
    expect(again.samples.map((g: { step: number }) => g.step)).toEqual([5, 10, 20]);
    expect(Buffer.from(again.samples[2].pixels, 'base64')).toEqual(Buffer.alloc(4 * 784, 7));
    // A long run: the ack carries WATCH_SAMPLE_GRIDS grids spread over it, the first and the newest included.
    await pub.emitWithAck('publisher:events', { runId: 'gan-samples', events: Array.from({ length: 60 }, (_, i) => grid(100 + 10 * i)) });
    const long = (await late.emitWithAck('run:watch', { runId: 'gan-samples' })).samples.map((g: { step: number }) => g.step);
    expect(long.length).toBe(WATCH_SAMPLE_GRIDS);
    expect(long[0]).toBe(5);
    expect(long.at(-1)).toBe(690);
    expect([...long].sort((a: number, b: number) => a - b)).toEqual(long);
    expect(ack.history.updates[0].stats).toEqual({ dLoss: 0.7, gLoss: 0.9 });
    const bad = await pub.emitWithAck('publisher:events', { runId: 'gan-samples', events: [{ ...grid(30), pixels: 'not base64!' }] });
    expect(bad.error).toMatch(/events\[0\]\.pixels: expected a string matching/);
  });

  it('lab go train --live publishes an AlphaZero-lite run: its iterations and evaluation matches reach a watcher, and it ends done', async () => {
    const viewer = await connect(LIVE_NAMESPACE);
    const metrics: MetricsMessage[] = [];
    viewer.on('run:metrics', (m: MetricsMessage) => m.runId === 'az-cli' && metrics.push(m));
    const sets = ['filters=[8]', 'hidden=[16]', 'simulations=8', 'gamesPerIteration=2', 'trainSteps=3', 'batchSize=16', 'bufferSize=500', 'evalEvery=2', 'evalGames=2', 'evalSimulations=4', 'evalMctsSimulations=8'].flatMap((x) => ['--set', x]);
    const cli = run(process.execPath, [LAB, 'go', 'train', '--size', '5', '--iterations', '6', '--seed', '3', '--backend', 'wasm', '--out', runsDir, '--run-id', 'az-cli', '--live', server.url, ...sets], { encoding: 'utf8' });
    const seen = await until('the AlphaZero-lite run to be published', async () => (await viewer.emitWithAck('runs:list', {})).runs.find((x: RunSummary) => x.runId === 'az-cli' && x.origin === 'cli'), 30_000);
    expect(seen).toMatchObject({ kind: 'go-alphazero', origin: 'cli', envId: 'go:5x5', agent: 'alphazero', preset: null, seed: 3, steps: 6, backend: 'wasm' });
    const ack = await viewer.emitWithAck('run:watch', { runId: 'az-cli' });
    expect(ack.ok).toBe(true);
    metrics.unshift({ runId: 'az-cli', episodes: [], evals: [], updates: ack.history.updates, matches: ack.history.matches ?? [] });
    const { stdout } = await cli;
    expect(stdout).toContain(`live: publishing to ${server.url}`);
    expect(stdout).toContain('done after iteration 6');
    const final = await until('done', () => (server.hub.summary('az-cli')?.status === 'done' ? server.hub.summary('az-cli') : null), 5000);
    expect(final.step).toBe(6);

    // What the watcher got is what the run stored: an update per iteration with its losses, the matches of
    // the evaluations at iterations 2, 4 and 6 (against random play and UCT), and the newest ones on the summary.
    const stored = fs.readFileSync(path.join(runsDir, 'az-cli', 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { type: string; iteration: number; opponent?: string; wins?: number; games?: number });
    const updates = metrics.flatMap((m) => m.updates);
    expect(new Set(updates.map((u) => u.step))).toEqual(new Set([1, 2, 3, 4, 5, 6]));
    for (const u of updates) expect(Object.keys(u.stats)).toEqual(expect.arrayContaining(['policyLoss', 'valueLoss', 'bufferSize']));
    const matches = metrics.flatMap((m) => m.matches ?? []);
    const storedMatches = stored.filter((e) => e.type === 'go-eval').map((e) => `${e.iteration} ${e.opponent} ${e.wins}/${e.games}`);
    expect(storedMatches.length).toBeGreaterThanOrEqual(3);
    expect(new Set(matches.map((m) => `${m.step} ${m.opponent} ${m.wins}/${m.games}`))).toEqual(new Set(storedMatches));
    expect(final.lastMatches!.map((m) => m.step)).toEqual(final.lastMatches!.map(() => 6));
    expect(server.hub.history('az-cli')!.matches!.length).toBe(storedMatches.length);

    // The viewer's Stop ends a live AlphaZero-lite run after its iteration, with a checkpoint it resumes from.
    const long = run(process.execPath, [LAB, 'go', 'train', '--size', '5', '--iterations', '1000', '--seed', '3', '--backend', 'wasm', '--out', runsDir, '--run-id', 'az-stop', '--live', server.url, ...sets], { encoding: 'utf8' });
    // (Its directory, listed from disk, may show iterations before the trainer's publisher is connected.)
    await until('the published run to train 2 iterations', () => (server.hub.summary('az-stop')?.origin === 'cli' && server.hub.summary('az-stop')!.step >= 2 ? true : null), 30_000);
    const stopAck = await viewer.emitWithAck('run:stop', { runId: 'az-stop' });
    expect(stopAck.ok, JSON.stringify(stopAck)).toBe(true);
    const stopped = await long;
    const at = Number(/stopped after iteration (\d+)/.exec(stopped.stdout)?.[1]);
    expect(at).toBeGreaterThanOrEqual(2);
    expect(at).toBeLessThan(1000);
    expect(JSON.parse(fs.readFileSync(path.join(runsDir, 'az-stop', 'checkpoints', 'latest.json'), 'utf8'))).toMatchObject({ at });
    expect((await until('stopped', () => (server.hub.summary('az-stop')?.status === 'stopped' ? server.hub.summary('az-stop') : null), 5000)).step).toBe(at);
    await viewer.close();
  }, 120_000);

  it('lab gan train --live publishes a GAN run: sample grids and GAN curves reach a watcher, and it ends done', async () => {
    const viewer = await connect(LIVE_NAMESPACE);
    const samples: SamplesEvent[] = [];
    const metrics: MetricsMessage[] = [];
    viewer.on('run:samples', (m: { runId: string; samples: SamplesEvent }) => m.runId === 'gan-cli' && samples.push(m.samples));
    viewer.on('run:metrics', (m: MetricsMessage) => m.runId === 'gan-cli' && metrics.push(m));
    const cli = run(
      process.execPath,
      [LAB, 'gan', 'train', '--preset', 'tiny', '--iterations', '40', '--sample-every', '4', '--seed', '2', '--backend', 'wasm', '--data', 'never', '--out', runsDir, '--run-id', 'gan-cli', '--live', server.url],
      { encoding: 'utf8' },
    );
    // Its directory (listed from disk) may show up a moment before the trainer announces it.
    const seen = await until('the GAN run to be published', async () => (await viewer.emitWithAck('runs:list', {})).runs.find((x: RunSummary) => x.runId === 'gan-cli' && x.origin === 'cli'), 30_000);
    expect(seen).toMatchObject({ kind: 'gan', origin: 'cli', envId: 'quickdraw:apple', agent: 'gan', preset: 'tiny', seed: 2, steps: 40, backend: 'wasm' });
    const ack = await viewer.emitWithAck('run:watch', { runId: 'gan-cli' });
    expect(ack.ok).toBe(true);
    expect(ack.run.kind).toBe('gan');
    samples.unshift(...ack.samples);
    metrics.unshift({ runId: 'gan-cli', episodes: [], evals: [], updates: ack.history.updates });
    const { stdout } = await cli;
    expect(stdout).toContain(`live: publishing to ${server.url}`);
    expect(stdout).toMatch(/done: 40 iterations/);
    const final = await until('done', () => (server.hub.summary('gan-cli')?.status === 'done' ? server.hub.summary('gan-cli') : null), 5000);
    expect(final.step).toBe(40);

    // Sample grids: 64 images of 28×28 ink bytes each, the same as the run stored, and more than the ack's one.
    const stored = fs.readFileSync(path.join(runsDir, 'gan-cli', 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as TrainEvent);
    const storedSamples = new Map(stored.filter((e): e is SamplesEvent => e.type === 'samples').map((e) => [e.step, e]));
    expect([...storedSamples.keys()]).toEqual([0, 4, 8, 12, 16, 20, 24, 28, 32, 36, 40]);
    expect(samples.length).toBeGreaterThan(2);
    for (const e of samples) {
      expect({ count: e.count, width: e.width, height: e.height }).toEqual({ count: 64, width: 28, height: 28 });
      const bytes = Buffer.from(e.pixels, 'base64');
      expect(bytes.length).toBe(64 * 28 * 28);
      expect(e.pixels).toBe(storedSamples.get(e.step)!.pixels);
    }
    expect(samples.at(-1)!.step).toBe(40);
    // Not a blank picture: the generator draws some ink and leaves some background.
    const last = Buffer.from(samples.at(-1)!.pixels, 'base64');
    expect(Math.max(...last) - Math.min(...last)).toBeGreaterThan(50);

    // Curves: update points with the GAN statistics, every logEvery (2) iterations, as stored.
    const updates = metrics.flatMap((m) => m.updates);
    expect(updates.length).toBeGreaterThan(5);
    for (const u of updates) {
      expect(Object.keys(u.stats)).toEqual(expect.arrayContaining(['dLoss', 'gLoss', 'dAcc', 'dAccReal', 'dAccFake', 'gAcc', 'dReal', 'dFake', 'lrD', 'lrG']));
      expect(u.step % 2).toBe(0);
      for (const k of ['dAcc', 'dAccReal', 'dAccFake', 'gAcc']) expect(u.stats[k]).toBeGreaterThanOrEqual(0);
    }
    const storedUpdates = stored.filter((e) => e.type === 'update').map((e) => ({ step: e.step, sps: (e as { sps: number }).sps, stats: (e as { stats: Record<string, number> }).stats }));
    expect(server.hub.history('gan-cli')!.updates).toEqual(storedUpdates);
    expect(new Set(updates.map((u) => u.step))).toEqual(new Set(storedUpdates.map((u) => u.step)));

    // Stored on disk, the run is listed as a GAN run with its curves and its grids (11 ≤ WATCH_SAMPLE_GRIDS: all).
    fs.cpSync(path.join(runsDir, 'gan-cli'), path.join(runsDir, 'gan-stored'), { recursive: true });
    const listed = (await viewer.emitWithAck('runs:list', {})).runs.find((x: RunSummary) => x.runId === 'gan-stored');
    expect(listed).toMatchObject({ kind: 'gan', origin: 'disk', status: 'stored', envId: 'quickdraw:apple', agent: 'gan', preset: 'tiny', steps: 40, step: 40 });
    const storedWatch = await viewer.emitWithAck('run:watch', { runId: 'gan-stored' });
    expect(storedWatch.run.kind).toBe('gan');
    expect(storedWatch.samples.map((g: SamplesEvent) => g.step)).toEqual([...storedSamples.keys()]);
    for (const g of storedWatch.samples as SamplesEvent[]) expect(g.pixels).toBe(storedSamples.get(g.step)!.pixels);
    expect(storedWatch.history.updates).toEqual(storedUpdates);
    const api = (await (await fetch(`${server.url}/api/runs/gan-stored`)).json()) as RunSummary;
    expect(api.kind).toBe('gan');
  }, 90_000);

  it('lab gan train --live: an unreachable server only warns and the run is kept; a malformed URL is refused before training', async () => {
    const out = path.join(runsDir, 'gan-offline');
    const offline = await run(process.execPath, [LAB, 'gan', 'train', '--preset', 'tiny', '--iterations', '4', '--backend', 'wasm', '--data', 'never', '--out', out, '--run-id', 'gan-off', '--live', 'http://127.0.0.1:9'], { encoding: 'utf8' });
    expect(offline.stdout).toMatch(/live: no lab server at http:\/\/127\.0\.0\.1:9 .*(training goes on|it was not published)/);
    expect(offline.stdout).toMatch(/done: 4 iterations/);
    expect(fs.existsSync(path.join(out, 'gan-off', 'samples', 'final.png'))).toBe(true);

    const bad = await run(process.execPath, [LAB, 'gan', 'train', '--preset', 'tiny', '--iterations', '4', '--data', 'never', '--out', out, '--live', 'ftp://x'], { encoding: 'utf8' }).catch((e: { stderr: string; code: number }) => e);
    expect((bad as { code: number }).code).not.toBe(0);
    expect((bad as { stderr: string }).stderr).toMatch(/--live: expected an http\(s\) URL, got ftp:\/\/x/);
    expect(fs.readdirSync(out)).toEqual(['gan-off']);
  }, 60_000);

  it('starts a GAN run from the viewer, checks its payload, and stops it with a checkpoint', async () => {
    const viewer = await connect(LIVE_NAMESPACE);
    const catalog = (await (await fetch(`${server.url}/api/catalog`)).json()) as Catalog;
    expect(catalog.gan.categories).toEqual(expect.arrayContaining(['apple', 'bicycle', 'cat', 'diamond', 'fish']));
    expect(catalog.gan.presets.map((p) => p.name)).toEqual(expect.arrayContaining(['book', 'fast', 'tiny']));
    expect(catalog.gan.defaultPreset).toBe('fast');

    const refused = async (payload: unknown) => {
      const r = await viewer.emitWithAck('run:start', payload);
      expect(r.ok).toBe(false);
      return r.error as string;
    };
    expect(await refused({ kind: 'gan', category: 'no such thing' })).toMatch(/^run:start: category: "no such thing" is not available on this server \(it trains on .*apple/);
    expect(await refused({ kind: 'gan', category: 'apple', preset: 'huge' })).toMatch(/^run:start: preset: unknown GAN preset "huge"; choose one of book, fast, tiny/);
    expect(await refused({ kind: 'gan', category: 'apple', preset: 'constructor' })).toMatch(/^run:start: preset: unknown GAN preset "constructor"/);
    expect(await refused({ kind: 'gan', category: 'apple', iterations: 0 })).toMatch(/^run:start: iterations: expected an integer ≥ 1, got number/);
    expect(await refused({ kind: 'gan', category: 7 })).toMatch(/^run:start: category: expected a string, got number/);
    expect(await refused({ kind: 'gan', category: 'apple', envId: 'CartPole-v1' })).toMatch(/^run:start: envId: unknown field/);
    expect(await refused({ kind: 'vae', category: 'apple' })).toMatch(/^run:start: kind: expected one of "rl", "gan", got "vae"/);

    const started = await viewer.emitWithAck('run:start', { kind: 'gan', category: 'apple', preset: 'tiny', seed: 5, iterations: 100_000 });
    expect(started.ok).toBe(true);
    const runId: string = started.run.runId;
    expect(runId).toMatch(/^gan-apple-tiny-s5-\d{8}-\d{6}$/);
    expect(started.run).toMatchObject({ kind: 'gan', status: 'starting', origin: 'server', envId: 'quickdraw:apple', agent: 'gan', preset: 'tiny', steps: 100_000 });
    const samples: SamplesEvent[] = [];
    viewer.on('run:samples', (m: { runId: string; samples: SamplesEvent }) => m.runId === runId && samples.push(m.samples));
    await viewer.emitWithAck('run:watch', { runId });
    await until('sample grids from the server-started run', () => samples.some((e) => e.step >= 8), 60_000);
    expect(server.hub.summary(runId)).toMatchObject({ status: 'running', backend: 'wasm' });
    expect((await viewer.emitWithAck('run:stop', { runId })).ok).toBe(true);
    const final = await until('the run to stop', () => {
      const s = server.hub.summary(runId);
      return s && s.status !== 'starting' && s.status !== 'running' ? s : null;
    }, 30_000);
    expect(final.status).toBe('stopped');
    expect(final.error).toBeNull();
    const latest = JSON.parse(fs.readFileSync(path.join(runsDir, runId, 'checkpoints', 'latest.json'), 'utf8')) as { unit: string; at: number };
    expect(latest.unit).toBe('iterations');
    expect(latest.at).toBeGreaterThanOrEqual(8);
    expect(latest.at).toBeLessThan(100_000);
  }, 90_000);

  it('a publisher splits queued sample grids over messages the server accepts, keeping the newest', async () => {
    // 100 grids of incompressible bytes (67 kB of base64 each) queued before the server has taken the run:
    // in one message they would pass the server's 4 MB limit and cost the connection.
    const publisher = new LivePublisher({ url: server.url });
    publisher.begin(info('gan-burst', { kind: 'gan', envId: 'quickdraw:apple', agent: 'gan', preset: 'tiny', steps: 100, fps: 1 }));
    let x = 12345;
    for (let step = 1; step <= 100; step++) {
      const bytes = Buffer.alloc(64 * 784);
      for (let i = 0; i < bytes.length; i++) bytes[i] = (x = (x * 1103515245 + 12345) >>> 0) >>> 24;
      publisher.handle({ type: 'samples', step, count: 64, width: 28, height: 28, pixels: bytes.toString('base64'), time: step });
    }
    publisher.handle({ type: 'update', step: 100, updates: 100, stats: { dLoss: 0.5, gLoss: 1 }, sps: 10, time: 100 });
    const viewer = await connect(LIVE_NAMESPACE);
    const ack = await until('the newest grid', async () => {
      const r = await viewer.emitWithAck('run:watch', { runId: 'gan-burst' });
      return r.ok && r.samples.at(-1)?.step === 100 ? r : null;
    }, 15_000);
    expect(ack.samples.length).toBeLessThanOrEqual(WATCH_SAMPLE_GRIDS);
    for (const g of ack.samples) expect(Buffer.from(g.pixels, 'base64').length).toBe(64 * 784);
    expect(ack.history.updates.map((u: { step: number }) => u.step)).toEqual([100]);
    expect(server.hub.summary('gan-burst')!.status).toBe('running');
    await publisher.end('done');
    await until('done', () => server.hub.summary('gan-burst')?.status === 'done', 3000);
  }, 30_000);
});

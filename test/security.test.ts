/**
 * Who may talk to the lab server (issue: safe to leave running). Loopback only, bounded in time: a foreign Host
 * or Origin is refused on HTTP, WebSocket and polling; starting, stopping and Go games need the server's key;
 * launched runs are published only by their own process, and the run cap holds through /publish; quiet
 * publishers are dropped; the key link, the runtime file and the HTTP error bodies.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import http from 'node:http';
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { io, type Socket } from 'socket.io-client';
import { startLabServer, type LabServer } from '../server/app.js';
import { MAX_SERVER_RUNS } from '../server/hub.js';
import { Access } from '../server/access.js';
import type { GanLaunchSpec, LaunchSpec, Launched } from '../server/launcher.js';
import { LIVE_NAMESPACE, PROTOCOL_VERSION, PUBLISH_NAMESPACE, type RunInfo } from '../protocol/protocol.js';
import { findServerToken, RUN_KEY_ENV, runtimeDir } from '../lab/server_key.js';
import { until } from './wait.js';

let server: LabServer;
let runsDir: string;
const sockets: Socket[] = [];
const children: (Launched & { runKey?: string | undefined })[] = [];

/** A stand-in trainer: an idle process holding the run's key in its environment, as `lab train` would. */
function idleTrainer(spec: LaunchSpec | GanLaunchSpec): Launched {
  const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore', env: { ...process.env, [RUN_KEY_ENV]: spec.runKey ?? '' } });
  const launched = { child, tail: () => '', runKey: spec.runKey };
  children.push(launched);
  return launched;
}

beforeAll(async () => {
  runsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lab-security-'));
  server = await startLabServer({ port: 0, runsDir, hub: { launcher: { rl: idleTrainer, gan: idleTrainer }, staleMs: 1500, retainMs: 1000, sweepMs: 100 } });
});

afterAll(async () => {
  for (const s of sockets) s.disconnect();
  await server.close();
  for (const c of children) c.child.kill('SIGKILL');
  fs.rmSync(runsDir, { recursive: true, force: true });
});

/** A raw HTTP request, so that Host and Origin can be anything. */
function request(pathname: string, headers: Record<string, string> = {}, port = server.port): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: pathname, headers: { host: `127.0.0.1:${port}`, ...headers } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** A raw WebSocket upgrade of engine.io: the status line the server answers with (101 when accepted). */
function upgrade(headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request({
      host: '127.0.0.1',
      port: server.port,
      path: '/socket.io/?EIO=4&transport=websocket',
      headers: { host: `127.0.0.1:${server.port}`, connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-version': '13', 'sec-websocket-key': Buffer.from('0123456789abcdef').toString('base64'), ...headers },
    });
    req.on('upgrade', (res, socket) => {
      socket.destroy();
      resolve(res.statusCode!);
    });
    req.on('response', (res) => {
      res.resume();
      resolve(res.statusCode!);
    });
    req.on('error', reject);
    req.end();
  });
}

async function connect(namespace: string, auth?: Record<string, string>): Promise<Socket> {
  const socket = io(server.url + namespace, { transports: ['websocket'], forceNew: true, reconnection: false, ...(auth ? { auth } : {}) });
  sockets.push(socket);
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('connect_error', reject);
  });
  return socket;
}

async function connectError(namespace: string, auth?: Record<string, string>): Promise<string> {
  try {
    await connect(namespace, auth);
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error(`${namespace}: connected without the key`);
}

function info(runId: string): RunInfo {
  return {
    runId,
    kind: 'rl',
    envId: 'CartPole-v1',
    agent: 'dqn',
    preset: null,
    seed: 0,
    steps: 1000,
    episodes: null,
    numEnvs: 1,
    backend: 'cpu',
    fps: 50,
    runDir: path.join(runsDir, runId),
    startStep: 0,
    hyperparameters: {},
  };
}

describe('Host and Origin', () => {
  it('refuses a foreign Host on HTTP, polling and WebSocket (DNS rebinding)', async () => {
    const foreign = { host: `evil.example:${server.port}` };
    for (const p of ['/api/health', '/api/runs', '/api/replays', '/', '/index.html']) {
      const r = await request(p, foreign);
      expect(r.status, p).toBe(403);
      expect(r.body).not.toContain('"runs"');
    }
    expect((await request('/socket.io/?EIO=4&transport=polling', foreign)).status).toBe(403);
    // engine.io answers a refused upgrade with 400 (the connection is never upgraded).
    expect(await upgrade(foreign)).toBe(400);
    // The same requests under the loopback name pass.
    expect((await request('/api/health')).status).toBe(200);
    expect((await request('/socket.io/?EIO=4&transport=polling')).status).toBe(200);
    expect(await upgrade({})).toBe(101);
    expect((await request('/api/health', { host: `localhost:${server.port}` })).status).toBe(200);
  });

  it('refuses a foreign Origin on HTTP, polling and WebSocket; the own page origin passes', async () => {
    for (const origin of ['http://evil.example', `http://127.0.0.1:${server.port + 1}`, 'null', `https://127.0.0.1:${server.port}x`]) {
      expect((await request('/api/runs', { origin })).status, origin).toBe(403);
      expect((await request('/socket.io/?EIO=4&transport=polling', { origin })).status, origin).toBe(403);
      expect(await upgrade({ origin }), origin).toBe(400);
    }
    const own = `http://127.0.0.1:${server.port}`;
    expect((await request('/api/runs', { origin: own })).status).toBe(200);
    expect(await upgrade({ origin: own })).toBe(101);
    expect(await upgrade({ origin: `http://localhost:${server.port}` })).toBe(101);
  });

  it('accepts only GET and HEAD over HTTP', async () => {
    const r = await new Promise<number>((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port: server.port, path: '/api/runs', method: 'POST', headers: { 'content-type': 'application/json' } }, (res) => {
        res.resume();
        resolve(res.statusCode!);
      });
      req.on('error', reject);
      req.end('{}');
    });
    expect(r).toBe(405);
  });

  it('Access: names and origins of a server bound to another address', () => {
    const a = new Access({ boundHost: '192.168.7.9', token: 'k'.repeat(48), allowHosts: ['lab.example'], allowOrigins: ['http://localhost:5173'] });
    a.setPort(3000);
    expect(a.keyForReading).toBe(true);
    expect(a.hostAllowed('192.168.7.9:3000')).toBe(true);
    expect(a.hostAllowed('lab.example')).toBe(true);
    expect(a.hostAllowed('evil.example:3000')).toBe(false);
    expect(a.hostAllowed(undefined)).toBe(false);
    expect(a.originAllowed('http://192.168.7.9:3000')).toBe(true);
    expect(a.originAllowed('http://192.168.7.9:3001')).toBe(false);
    expect(a.originAllowed('http://localhost:5173')).toBe(true);
    expect(a.originAllowed('http://localhost:5174')).toBe(false);
    expect(new Access({ boundHost: '127.0.0.1', token: 'x'.repeat(48) }).keyForReading).toBe(false);
  });
});

describe('the key', () => {
  it('the printed link sets an HttpOnly same-site cookie and leaves the address bar; a wrong key is refused', async () => {
    const r = await request(`/?token=${server.token}&x=1`);
    expect(r.status).toBe(302);
    expect(r.headers.location).toBe('/?x=1');
    const cookie = String(r.headers['set-cookie']);
    expect(cookie).toContain(`lab_key_${server.port}=${server.token}`);
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Strict/);
    // `//host` would leave the site.
    expect((await request(`//evil.example/?token=${server.token}`)).headers.location).toBe('/evil.example/');
    const wrong = await request('/?token=nope');
    expect(wrong.status).toBe(401);
    expect(wrong.headers['set-cookie']).toBeUndefined();
    const asPage = JSON.parse((await request('/api/session', { cookie: `lab_key_${server.port}=${server.token}` })).body);
    expect(asPage).toEqual({ canStart: true, keyForReading: false });
    expect(JSON.parse((await request('/api/session')).body)).toEqual({ canStart: false, keyForReading: false });
    expect(JSON.parse((await request('/api/session', { cookie: `lab_key_${server.port}=${'0'.repeat(server.token.length)}` })).body).canStart).toBe(false);
  });

  it('run:start, run:stop and go:new without the key are refused; watching is not', async () => {
    for (const auth of [undefined, { token: 'wrong' }, { token: server.token.slice(0, -1) + (server.token.endsWith('0') ? '1' : '0') }]) {
      const viewer = await connect(LIVE_NAMESPACE, auth);
      const list = await viewer.emitWithAck('runs:list', {});
      expect(list.ok).toBe(true);
      for (const [event, payload] of [
        ['run:start', { envId: 'CartPole-v1', agent: 'a2c' }],
        ['run:start', { kind: 'gan', category: 'apple' }],
        ['run:stop', { runId: 'anything' }],
        ['go:new', { size: 5, opponent: 'random', humanColor: 'black' }],
        ['go:play', { gameId: 'g1', move: 0 }],
      ] as const) {
        const r = await viewer.emitWithAck(event, payload);
        expect(r.ok, event).toBe(false);
        expect(r.error).toMatch(/holds no key/);
      }
    }
    expect(children.length).toBe(0);
    expect(server.hub.go.agents).toBeTypeOf('function');
  });

  it('publishing needs the key', async () => {
    expect(await connectError(PUBLISH_NAMESPACE)).toMatch(/unauthorized/);
    expect(await connectError(PUBLISH_NAMESPACE, { token: 'wrong' })).toMatch(/unauthorized/);
    const pub = await connect(PUBLISH_NAMESPACE, { token: server.token });
    expect(pub.connected).toBe(true);
    pub.disconnect();
    // The default namespace takes nobody.
    const socket = io(server.url, { transports: ['websocket'], forceNew: true, reconnection: false });
    sockets.push(socket);
    const err = await new Promise<string>((resolve) => socket.once('connect_error', (e) => resolve(e.message)));
    expect(err).toMatch(/namespace/);
  });

  it('writes a runtime file only the user can read, and lab train --live finds the key in it', () => {
    const file = path.join(runtimeDir(), `server-${server.port}.json`);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(fs.statSync(runtimeDir()).mode & 0o777).toBe(0o700);
    expect(findServerToken(server.url)).toBe(server.token);
    expect(findServerToken(`http://localhost:${server.port}`)).toBe(server.token);
    expect(findServerToken(`http://127.0.0.1:${server.port + 1}`)).toBeNull();
    expect(findServerToken(`http://10.1.2.3:${server.port}`)).toBeNull();
    // A file left by a server that died is not trusted.
    const dead = path.join(runtimeDir(), 'server-1.json');
    fs.writeFileSync(dead, JSON.stringify({ url: 'http://127.0.0.1:1', host: '127.0.0.1', port: 1, pid: 2 ** 22 + 17, token: 'stale', runsDir, startedAt: '' }), { mode: 0o600 });
    expect(findServerToken('http://127.0.0.1:1')).toBeNull();
    fs.rmSync(dead);
  });
});

describe('/publish', () => {
  it('a launched run is published only by its own process, and the run cap holds through /publish', async () => {
    const viewer = await connect(LIVE_NAMESPACE, { token: server.token });
    const started: string[] = [];
    for (let i = 0; i < MAX_SERVER_RUNS; i++) {
      const r = await viewer.emitWithAck('run:start', { envId: 'CartPole-v1', agent: 'a2c', seed: i });
      expect(r.ok, r.error).toBe(true);
      started.push(r.run.runId);
    }
    const over = await viewer.emitWithAck('run:start', { envId: 'CartPole-v1', agent: 'a2c', seed: 9 });
    expect(over.ok).toBe(false);
    expect(over.error).toMatch(/already training/);
    // Another key holder claims a launched run's id and reports it done: refused, the slot stays taken.
    const claimer = await connect(PUBLISH_NAMESPACE, { token: server.token });
    const hello = await claimer.emitWithAck('publisher:hello', { protocol: PROTOCOL_VERSION, run: info(started[0]!) });
    expect(hello.ok).toBe(false);
    expect(hello.error).toMatch(/only its own trainer/);
    const end = await claimer.emitWithAck('publisher:end', { runId: started[0]!, status: 'done' });
    expect(end.ok).toBe(false);
    expect((await viewer.emitWithAck('run:start', { envId: 'CartPole-v1', agent: 'a2c', seed: 10 })).ok).toBe(false);
    // The run's own process (its key) may publish it; its "done" does not free the slot while it lives.
    const own = await connect(PUBLISH_NAMESPACE, { token: server.token, runKey: children[0]!.runKey! } as Record<string, string>);
    expect((await own.emitWithAck('publisher:hello', { protocol: PROTOCOL_VERSION, run: info(started[0]!) })).ok).toBe(true);
    expect((await own.emitWithAck('publisher:end', { runId: started[0]!, status: 'done' })).ok).toBe(true);
    expect((await viewer.emitWithAck('run:start', { envId: 'CartPole-v1', agent: 'a2c', seed: 11 })).ok).toBe(false);
    // Its process ends: the slot is free.
    children[0]!.child.kill('SIGKILL');
    await until('trainer exit', () => children[0]!.child.exitCode !== null || children[0]!.child.signalCode !== null, 5000);
    await new Promise((r) => setTimeout(r, 50));
    const again = await viewer.emitWithAck('run:start', { envId: 'CartPole-v1', agent: 'a2c', seed: 12 });
    expect(again.ok, again.error).toBe(true);
    for (const id of [...started, again.run.runId]) await viewer.emitWithAck('run:stop', { runId: id });
    for (const c of children) c.child.kill('SIGKILL');
    await until('trainers exit', () => children.every((c) => c.child.exitCode !== null || c.child.signalCode !== null), 5000);
    own.disconnect();
    claimer.disconnect();
  });

  it('one connection publishes one run; a publisher that goes quiet is marked lost, disconnected, then dropped', async () => {
    const pub = await connect(PUBLISH_NAMESPACE, { token: server.token });
    expect((await pub.emitWithAck('publisher:hello', { protocol: PROTOCOL_VERSION, run: info('quiet-run') })).ok).toBe(true);
    const second = await pub.emitWithAck('publisher:hello', { protocol: PROTOCOL_VERSION, run: info('second-run') });
    expect(second.ok).toBe(false);
    expect(second.error).toMatch(/this connection publishes run quiet-run/);
    // Heartbeats keep it alive...
    for (let i = 0; i < 4; i++) {
      await new Promise((r) => setTimeout(r, 300));
      expect((await pub.emitWithAck('publisher:events', { runId: 'quiet-run', events: [] })).ok).toBe(true);
    }
    expect(server.hub.summary('quiet-run')!.status).toBe('running');
    // ...silence does not.
    await until('lost', () => server.hub.summary('quiet-run')?.status === 'lost', 6000);
    expect(server.hub.summary('quiet-run')!.error).toMatch(/sent nothing/);
    await until('disconnect', () => !pub.connected, 2000);
    await until('dropped', () => server.hub.summary('quiet-run') === null, 6000);
    expect(server.hub.list().some((r) => r.runId === 'quiet-run')).toBe(false);
  });
});

describe('prototype names', () => {
  const names = ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf'];

  it('as names and values in every route: a 4xx or an empty answer, never a 500 or a prototype', async () => {
    for (const n of names) {
      for (const p of [`/api/runs/${n}`, `/api/runs/${n}/history`, `/api/runs/${n}/replays/${n}`, `/api/compare?runs=${n},${n}`, `/api/compare?runs=a,b&groupBy=${n}&curve=${n}`, `/api/${n}`]) {
        const r = await request(p);
        expect(r.status, p).toBeGreaterThanOrEqual(400);
        expect(r.status, p).toBeLessThan(500);
      }
      for (const q of ['env', 'agent', 'run', 'mode']) {
        const r = await request(`/api/replays?${q}=${n}&${n}=1`);
        expect(r.status).toBe(200);
        expect(JSON.parse(r.body).replays).toEqual([]);
      }
    }
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('as names and values in every socket event: refused with a reason', async () => {
    const viewer = await connect(LIVE_NAMESPACE, { token: server.token });
    const publisher = await connect(PUBLISH_NAMESPACE, { token: server.token });
    const launchedBefore = children.length;
    for (const n of names) {
      for (const [socket, event, payload] of [
        [viewer, n, {}],
        [viewer, 'run:start', { envId: n, agent: 'a2c' }],
        [viewer, 'run:start', { envId: 'CartPole-v1', agent: n }],
        [viewer, 'run:start', { envId: 'CartPole-v1', agent: 'a2c', preset: n }],
        [viewer, 'run:start', { kind: 'gan', category: n }],
        [viewer, 'run:start', { kind: 'gan', category: 'apple', preset: n }],
        [viewer, 'run:start', { kind: n, envId: 'CartPole-v1', agent: 'a2c' }],
        [viewer, 'run:start', { envId: 'CartPole-v1', agent: 'a2c', [n]: 1 }],
        [viewer, 'run:watch', { runId: n }],
        [viewer, 'run:stop', { runId: n }],
        [viewer, 'go:new', { size: 5, opponent: n, humanColor: 'black' }],
        [viewer, 'go:new', { size: 5, opponent: 'alphazero', humanColor: 'black', agent: n }],
        [viewer, 'go:play', { gameId: n, move: 0 }],
        [viewer, 'go:resign', { gameId: n }],
        [publisher, n, {}],
        [publisher, 'publisher:events', { runId: n, events: [] }],
        [publisher, 'publisher:end', { runId: n, status: 'done' }],
        [publisher, 'publisher:hello', { protocol: PROTOCOL_VERSION, run: { ...info('proto-run'), kind: n } }],
      ] as [Socket, string, unknown][]) {
        const r = await socket.timeout(5000).emitWithAck(event, payload);
        expect(r.ok, `${event} ${JSON.stringify(payload)}`).toBe(false);
        expect(typeof r.error).toBe('string');
      }
    }
    expect(children.length).toBe(launchedBefore);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    viewer.disconnect();
    publisher.disconnect();
  });
});

describe('HTTP errors', () => {
  it('answer with a short message: no stack trace, no absolute path', async () => {
    for (const p of ['/%zz', '/api/runs/%zz', '/api/runs/%E0%A4%A/history', '/api/compare?runs=a,b', '/api/runs/x/replays/%zz']) {
      const r = await request(p);
      expect(r.status, p).toBeGreaterThanOrEqual(400);
      expect(r.status, p).toBeLessThan(500);
      expect(r.body, p).not.toMatch(/\n\s+at |node_modules|\/tmp\/|\/work\//);
      expect(r.body).not.toContain(runsDir);
    }
  });
});

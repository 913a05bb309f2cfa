/**
 * A flood against a `lab serve` process of its own (so its memory is measured alone): 10,000 malformed socket
 * messages with prototype names, 200 fake runs announced through /publish, oversized and maximal sample grids,
 * and frames past the per-run budget. The server stays up and answers, keeps at most MAX_RUNS_IN_MEMORY runs,
 * and its resident memory grows by less than the bound documented in docs/server.md.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { io, type Socket } from 'socket.io-client';
import { FRAME_BYTES_PER_RUN, GRID_BYTES_PER_RUN, MAX_RUNS_IN_MEMORY } from '../server/hub.js';
import { LIVE_NAMESPACE, MAX_GRID_PIXELS, PROTOCOL_VERSION, PUBLISH_NAMESPACE, type RunInfo, type RunSummary } from '../protocol/protocol.js';
import { until } from './wait.js';

const LAB = fileURLToPath(new URL('../bin/lab.mjs', import.meta.url));
/** The bound this test holds the server to (docs/server.md): frames and grids of every run held, plus 96 MB. */
const RSS_GROWTH_BOUND = MAX_RUNS_IN_MEMORY * (FRAME_BYTES_PER_RUN + GRID_BYTES_PER_RUN) + 96e6;
const TOKEN = 'flood-test-key-0123456789abcdef';

let child: ChildProcess;
let url = '';
let runsDir: string;
let out = '';
const sockets: Socket[] = [];

function rss(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]) * 1024;
}

async function connect(namespace: string, token?: string): Promise<Socket> {
  const socket = io(url + namespace, { transports: ['websocket'], forceNew: true, reconnection: false, ...(token ? { auth: { token } } : {}) });
  sockets.push(socket);
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('connect_error', reject);
  });
  return socket;
}

function info(runId: string): RunInfo {
  return { runId, kind: 'gan', envId: 'quickdraw:apple', agent: 'gan', preset: null, seed: 0, steps: 1000, episodes: null, numEnvs: 1, backend: 'cpu', fps: 4, runDir: runId, startStep: 0, hyperparameters: {} };
}

const hasProc = fs.existsSync('/proc/self/status');

beforeAll(async () => {
  runsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lab-flood-'));
  child = spawn(process.execPath, [LAB, 'serve', '--port', '0', '--runs', runsDir, '--no-demo', '--token', TOKEN], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  url = await until('the server URL', () => /lab viewer: (http:\/\/127\.0\.0\.1:\d+)\//.exec(out)?.[1], 60_000, { everyMs: 50, log: () => out });
}, 90_000);

afterAll(async () => {
  for (const s of sockets) s.disconnect();
  child.kill('SIGKILL');
  fs.rmSync(runsDir, { recursive: true, force: true });
});

describe.skipIf(!hasProc)('a flood against lab serve', () => {
  it('leaves the server up, its run count and memory bounded', async () => {
    // Warm up (first connections, first JSON routes) before the baseline.
    expect((await fetch(`${url}/api/runs`)).status).toBe(200);
    const warm = await connect(PUBLISH_NAMESPACE, TOKEN);
    await warm.emitWithAck('publisher:hello', { protocol: PROTOCOL_VERSION, run: info('warm-up') });
    warm.disconnect();
    await new Promise((r) => setTimeout(r, 300));
    const before = rss(child.pid!);

    // 10,000 malformed messages, prototype names among them, from a viewer without the key and a publisher with it.
    const viewer = await connect(LIVE_NAMESPACE);
    const junkPublisher = await connect(PUBLISH_NAMESPACE, TOKEN);
    const names = ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf'];
    const junk: [Socket, string, unknown][] = [
      [viewer, 'run:start', { envId: 'toString', agent: '__proto__', preset: 'hasOwnProperty' }],
      [viewer, 'go:new', { size: 5, opponent: 'constructor', humanColor: 'valueOf' }],
      [viewer, 'run:watch', { runId: { toString: 1 } }],
      [junkPublisher, 'publisher:events', { runId: 'constructor', events: [{ type: '__proto__' }] }],
      [junkPublisher, 'publisher:hello', { protocol: PROTOCOL_VERSION, run: { ...info('x'), runId: '__proto__' } }],
      [junkPublisher, 'publisher:end', { runId: 'valueOf', status: 'toString' }],
    ];
    for (let i = 0; i < 10_000; i++) {
      const [socket, event, payload] = junk[i % junk.length]!;
      socket.emit(i % 7 === 0 ? names[i % names.length]! : event, payload);
    }
    expect((await viewer.timeout(20_000).emitWithAck('runs:list', {})).ok).toBe(true);

    // 200 fake runs: the hub holds at most MAX_RUNS_IN_MEMORY.
    const accepted: Socket[] = [];
    const runOf = new Map<Socket, string>();
    let refused = 0;
    for (let i = 0; i < 200; i++) {
      const pub = await connect(PUBLISH_NAMESPACE, TOKEN);
      const ack = await pub.emitWithAck('publisher:hello', { protocol: PROTOCOL_VERSION, run: info(`fake-${i}`) });
      if (ack.ok) {
        accepted.push(pub);
        runOf.set(pub, `fake-${i}`);
      } else {
        refused++;
        expect(ack.error).toMatch(/most/);
        pub.disconnect();
      }
    }
    expect(accepted.length).toBeLessThanOrEqual(MAX_RUNS_IN_MEMORY);
    expect(refused).toBeGreaterThanOrEqual(200 - MAX_RUNS_IN_MEMORY);

    // Oversized grids are refused by the schema; maximal ones are kept within the per-run budget.
    const side = Math.sqrt(MAX_GRID_PIXELS / 64);
    const pixels = Buffer.alloc(MAX_GRID_PIXELS, 200).toString('base64');
    const grid = (step: number) => ({ type: 'samples', step, count: 64, width: side, height: side, pixels, time: step });
    const own = (s: Socket) => runOf.get(s)!;
    const lying = await accepted[0]!.emitWithAck('publisher:events', { runId: own(accepted[0]!), events: [{ ...grid(1), count: 4 }] });
    expect(lying.ok).toBe(false);
    expect(lying.error).toMatch(/base64 characters/);
    const oversized = await accepted[0]!.emitWithAck('publisher:events', { runId: own(accepted[0]!), events: [{ ...grid(1), width: 256, height: 256 }] });
    expect(oversized.ok).toBe(false);
    for (const pub of accepted.slice(0, 8)) {
      for (let step = 1; step <= 6; step++) expect((await pub.emitWithAck('publisher:events', { runId: own(pub), events: [grid(step)] })).ok).toBe(true);
    }
    // Frames past the per-run budget (a Go-sized frame of ~2 kB, 3000 of them per run, one episode).
    const frame = { kind: 'go', size: 19, board: Array.from({ length: 361 }, (_, k) => k % 3), note: 'x'.repeat(600) };
    for (const pub of accepted.slice(8, 12)) {
      for (let batch = 0; batch < 6; batch++) {
        const events = Array.from({ length: 500 }, (_, k) => {
          const t = batch * 500 + k + 1;
          return { type: 'step', step: t, episode: 1, episodeStep: t, action: 0, reward: 0, episodeReturn: 0, terminated: false, truncated: false, t: 0, frame };
        });
        expect((await pub.emitWithAck('publisher:events', { runId: own(pub), events })).ok).toBe(true);
      }
    }

    // Still serving, everything listed, memory within the bound.
    expect((await fetch(`${url}/api/health`)).status).toBe(200);
    const runs = (await (await fetch(`${url}/api/runs`)).json()) as RunSummary[];
    expect(runs.filter((r) => r.runId.startsWith('fake-')).length).toBe(accepted.length);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    const after = rss(child.pid!);
    const growth = after - before;
    console.log(JSON.stringify({ flood: { rssBeforeMB: before / 1e6, rssAfterMB: after / 1e6, growthMB: growth / 1e6, boundMB: RSS_GROWTH_BOUND / 1e6, acceptedRuns: accepted.length } }));
    expect(growth).toBeLessThan(RSS_GROWTH_BOUND);
    expect(child.exitCode).toBeNull();
  }, 120_000);
});

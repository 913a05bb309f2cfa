/**
 * Cost of watching: training env-steps/s of a run with 0 and with 10 connected viewers, and the latency from
 * an env step to its frame arriving at a viewer, on loopback. Prints one JSON line.
 *
 * Setup as in real use: an in-process lab server launches `lab train … --live` child processes (as the
 * viewer's Start button does); 10 socket.io clients in this process watch the run. Runs alternate
 * 0 / 10 viewers and the medians are compared; a run's steps/s is taken from its metrics.jsonl update
 * events (first to last), which excludes process start-up.
 *
 *   node --import tsx bench/live.ts            # DQN (the demo run) and A2C, 3 runs per setting each: ~2 min
 *   node --import tsx bench/live.ts --quick    # A2C only, 2 runs per setting
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { io, type Socket } from 'socket.io-client';
import { startLabServer } from '../server/app.js';
import { LIVE_NAMESPACE, type FramesMessage } from '../protocol/protocol.js';
import { readMetricsFile } from '../lab/run_store.js';

const quick = process.argv.includes('--quick');
const REPEATS = quick ? 2 : 3;
const VIEWERS = 10;

interface Case {
  name: string;
  agent: string;
  steps: number;
}
const CASES: Case[] = quick ? [{ name: 'a2c', agent: 'a2c', steps: 60_000 }] : [
  { name: 'dqn', agent: 'dqn', steps: 8_000 },
  { name: 'a2c', agent: 'a2c', steps: 100_000 },
];

const runsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lab-bench-live-'));
const server = await startLabServer({ port: 0, runsDir, trainerArgs: ['--eval-every', '0', '--checkpoint-every', '0'] });

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}
function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
}

async function viewers(n: number): Promise<Socket[]> {
  return Promise.all(
    Array.from({ length: n }, async () => {
      const s = io(server.url + LIVE_NAMESPACE, { transports: ['websocket'], forceNew: true });
      await new Promise<void>((resolve) => s.once('connect', () => resolve()));
      return s;
    }),
  );
}

async function waitDone(runId: string): Promise<void> {
  for (;;) {
    const s = server.hub.summary(runId);
    if (s && s.status !== 'starting' && s.status !== 'running') {
      if (s.status !== 'done') throw new Error(`${runId} ${s.status}: ${s.error}`);
      return;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Env steps per second of the training loop, from the run's update events. */
function trainingSps(runId: string): number {
  const updates = readMetricsFile(path.join(runsDir, runId, 'metrics.jsonl')).filter((e) => e.type === 'update');
  const first = updates[0]!;
  const last = updates[updates.length - 1]!;
  return (last.step - first.step) / (last.time - first.time);
}

async function runOnce(c: Case, seed: number, nViewers: number) {
  const clients = await viewers(nViewers);
  const started = server.hub.start({ envId: 'CartPole-v1', agent: c.agent, seed, steps: c.steps });
  if (!started.ok) throw new Error(started.error);
  const runId = started.run.runId;
  const latencies: number[] = [];
  let frames = 0;
  let messages = 0;
  let dropped = 0;
  const t0 = performance.now();
  for (const s of clients) {
    s.on('run:frames', (m: FramesMessage) => {
      const now = Date.now();
      messages++;
      dropped += m.dropped;
      for (const f of m.frames) latencies.push(now - f.t);
      frames += m.frames.length;
    });
    const ack = await s.emitWithAck('run:watch', { runId });
    if (!ack.ok) throw new Error(ack.error);
  }
  await waitDone(runId);
  const seconds = (performance.now() - t0) / 1000;
  for (const s of clients) s.disconnect();
  return { sps: trainingSps(runId), latencies, framesPerViewerPerSec: frames / Math.max(1, nViewers) / seconds, messagesPerViewerPerSec: messages / Math.max(1, nViewers) / seconds, dropped };
}

const results: Record<string, unknown> = {};
try {
  for (const c of CASES) {
    await runOnce(c, 99, 0); // warm the file cache and wasm compilation
    const sps0: number[] = [];
    const sps10: number[] = [];
    const latencies: number[] = [];
    let fps = 0;
    let mps = 0;
    let dropped = 0;
    for (let r = 0; r < REPEATS; r++) {
      sps0.push((await runOnce(c, r, 0)).sps);
      const watched = await runOnce(c, r, VIEWERS);
      sps10.push(watched.sps);
      latencies.push(...watched.latencies);
      fps += watched.framesPerViewerPerSec / REPEATS;
      mps += watched.messagesPerViewerPerSec / REPEATS;
      dropped += watched.dropped;
    }
    const m0 = median(sps0);
    const m10 = median(sps10);
    results[c.name] = {
      steps: c.steps,
      runsPerSetting: REPEATS,
      sps0Viewers: Math.round(m0),
      sps10Viewers: Math.round(m10),
      sps0All: sps0.map(Math.round),
      sps10All: sps10.map(Math.round),
      slowdownPct: Number((((m0 - m10) / m0) * 100).toFixed(2)),
      latencyMedianMs: median(latencies),
      latencyP95Ms: quantile(latencies, 0.95),
      framesPerViewerPerSec: Math.round(fps),
      messagesPerViewerPerSec: Number(mps.toFixed(1)),
      framesDropped: dropped,
    };
  }
} finally {
  await server.close();
  fs.rmSync(runsDir, { recursive: true, force: true });
}
console.log(JSON.stringify({ bench: 'live', env: 'CartPole-v1', viewers: VIEWERS, cpus: os.cpus().length, node: process.version, ...results }));
process.exit(0);

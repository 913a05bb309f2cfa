/**
 * The server under load it should shrug off: latency of `GET /api/health` while `GET /api/compare` bootstraps
 * over 200 runs (the comparison runs on a worker thread, so health checks should stay in the milliseconds), and
 * the time the comparison itself takes. Prints one JSON line.
 *
 *   node --import tsx bench/server.ts
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startLabServer } from '../server/app.js';
import { startTraining } from '../agents/train.js';

const RUNS = 200;
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'lab-bench-server-'));
const ids: string[] = [];
for (const seed of [1, 2]) {
  const { config } = await startTraining({ agent: 'reinforce', envId: 'CartPole-v1', seed, steps: 4000, evalEvery: 1000, evalEpisodes: 3, out: root });
  ids.push(config.runId);
}
for (let i = 0; ids.length < RUNS; i++) {
  const id = `clone-${i}`;
  fs.cpSync(path.join(root, ids[i % 2]!), path.join(root, id), { recursive: true, filter: (src) => !src.includes(`${path.sep}checkpoints`) });
  const file = path.join(root, id, 'config.json');
  fs.writeFileSync(file, JSON.stringify({ ...JSON.parse(fs.readFileSync(file, 'utf8')), runId: id, seed: 100 + i }));
  ids.push(id);
}

const server = await startLabServer({ port: 0, runsDir: root, runtimeFile: false });
const percentile = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))]!;
const rounds: { compareMs: number; healthMs: number[] }[] = [];
for (let r = 0; r < 3; r++) {
  let done = false;
  const t0 = performance.now();
  const compare = fetch(`${server.url}/api/compare?runs=${ids.join(',')}`).then(async (res) => {
    if (!res.ok) throw new Error(`compare: ${res.status} ${await res.text()}`);
    await res.json();
    done = true;
    return performance.now() - t0;
  });
  const healthMs: number[] = [];
  while (!done) {
    const t = performance.now();
    await (await fetch(`${server.url}/api/health`)).json();
    healthMs.push(performance.now() - t);
  }
  rounds.push({ compareMs: await compare, healthMs });
}
await server.close();
fs.rmSync(root, { recursive: true, force: true });
const all = rounds.flatMap((r) => r.healthMs);
console.log(
  JSON.stringify({
    bench: 'server',
    runs: RUNS,
    compareMs: rounds.map((r) => Math.round(r.compareMs)),
    healthChecksDuringCompare: all.length,
    healthMsMedian: Math.round(percentile(all, 0.5) * 10) / 10,
    healthMsP99: Math.round(percentile(all, 0.99) * 10) / 10,
    healthMsMax: Math.round(Math.max(...all) * 10) / 10,
  }),
);

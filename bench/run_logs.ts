/**
 * What the TensorBoard event file and SB3's CSV logs (lab/run_logs.ts) cost a run: A2C on CartPole-v1 trained
 * with and without them (LAB_RUN_LOGS=0), in turns, and the env steps per second of each. Prints one JSON object.
 *
 *   npm run bench:run-logs                              # 3 pairs of 20,000-step runs
 *   npm run bench:run-logs -- --steps 50000 --pairs 5 --backend wasm
 *
 * Run it on a quiet machine: the difference is a few per cent at most, less than the noise of a busy one.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startTraining } from '../agents/train.js';
import { RUN_LOGS_ENV } from '../lab/run_store.js';
import type { BackendChoice } from '../lab/compute.js';

const args = process.argv.slice(2);
const arg = (name: string, fallback: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1]! : fallback;
};
const steps = Number(arg('steps', '20000'));
const pairs = Number(arg('pairs', '3'));
const backend = arg('backend', 'cpu') as BackendChoice;
const out = fs.mkdtempSync(path.join(os.tmpdir(), 'lab-bench-run-logs-'));

/** One run; its env steps per second (training and checkpoints; no evaluation) and the bytes of its logs. */
async function run(withLogs: boolean, i: number): Promise<{ sps: number; logBytes: number }> {
  if (withLogs) delete process.env[RUN_LOGS_ENV];
  else process.env[RUN_LOGS_ENV] = '0';
  const started = performance.now();
  const { runDir } = await startTraining({ envId: 'CartPole-v1', agent: 'a2c', seed: i, steps, evalEvery: 0, backend, out, runId: `${withLogs ? 'with' : 'without'}-${i}` });
  const seconds = (performance.now() - started) / 1000;
  const logBytes = fs
    .readdirSync(runDir)
    .filter((f) => f.includes('tfevents') || f.endsWith('.csv'))
    .reduce((a, f) => a + fs.statSync(path.join(runDir, f)).size, 0);
  return { sps: steps / seconds, logBytes };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const withLogs: number[] = [];
const without: number[] = [];
let logBytes = 0;
for (let i = 1; i <= pairs; i++) {
  // Alternating which goes first, so that a machine warming up or getting busier favours neither.
  const order = i % 2 === 1 ? [true, false] : [false, true];
  for (const w of order) {
    const r = await run(w, i);
    (w ? withLogs : without).push(Math.round(r.sps));
    if (w) logBytes = r.logBytes;
  }
}
delete process.env[RUN_LOGS_ENV];
fs.rmSync(out, { recursive: true, force: true });
console.log(
  JSON.stringify(
    {
      bench: 'run-logs',
      what: 'A2C CartPole-v1 env steps/s with and without the TensorBoard event file, progress.csv and monitor.csv',
      steps,
      backend,
      cpus: os.cpus().length,
      withLogs: { sps: withLogs, median: median(withLogs) },
      withoutLogs: { sps: without, median: median(without) },
      overheadPercent: Math.round((1 - median(withLogs) / median(without)) * 1000) / 10,
      logBytesPerRun: logBytes,
    },
    null,
    2,
  ),
);

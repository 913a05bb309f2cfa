/**
 * What the TensorBoard event file and SB3's CSV logs (lab/run_logs.ts) cost a run: A2C on CartPole-v1 trained
 * with and without them (LAB_RUN_LOGS=0), in turns: env steps per second of each, by wall clock and by the
 * process's CPU time (less disturbed by other processes). Then, measured apart from training, the time
 * RunStore takes to append the records of one such run with and without the logs, as a share of the run's time:
 * the overhead itself, which the steps/s figures on a busy machine cannot resolve; and the milliseconds each
 * training run spent inside RunStore's append, sync and close, where the logs do all their work. Prints one JSON object.
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
import { RUN_LOGS_ENV, RunStore } from '../lab/run_store.js';
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

/** Milliseconds spent inside RunStore's append, sync and close (where the logs do all their work) during a run. */
let storeMs = 0;
for (const name of ['append', 'sync', 'close'] as const) {
  const original = RunStore.prototype[name] as (this: RunStore, ...a: unknown[]) => void;
  (RunStore.prototype as unknown as Record<string, unknown>)[name] = function (this: RunStore, ...a: unknown[]) {
    const t = performance.now();
    try {
      original.apply(this, a);
    } finally {
      storeMs += performance.now() - t;
    }
  };
}

function setLogs(on: boolean): void {
  if (on) delete process.env[RUN_LOGS_ENV];
  else process.env[RUN_LOGS_ENV] = '0';
}

/** One run: env steps per second (training and checkpoints; no evaluation) by wall clock and by CPU time. */
async function run(withLogs: boolean, i: number): Promise<{ sps: number; cpuSps: number; seconds: number; storeMs: number; runDir: string }> {
  setLogs(withLogs);
  storeMs = 0;
  const started = performance.now();
  const cpu = process.cpuUsage();
  const { runDir } = await startTraining({ envId: 'CartPole-v1', agent: 'a2c', seed: i, steps, evalEvery: 0, backend, out, runId: `${withLogs ? 'with' : 'without'}-${i}` });
  const seconds = (performance.now() - started) / 1000;
  const used = process.cpuUsage(cpu);
  return { sps: steps / seconds, cpuSps: steps / ((used.user + used.system) / 1e6), seconds, storeMs, runDir };
}

/** Milliseconds RunStore takes to append a run's records to a new run directory (best of 5), with or without the logs. */
function appendMs(runDir: string, withLogs: boolean): number {
  setLogs(withLogs);
  const config = JSON.parse(fs.readFileSync(path.join(runDir, 'config.json'), 'utf8')) as Parameters<typeof RunStore.create>[1];
  const records = fs.readFileSync(path.join(runDir, 'metrics.jsonl'), 'utf8').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as object);
  let best = Infinity;
  for (let k = 0; k < 5; k++) {
    const started = performance.now();
    const store = RunStore.create(out, { ...config, runId: `append-${withLogs ? 'with' : 'without'}-${k}` });
    for (const r of records) store.append(r);
    store.close();
    best = Math.min(best, performance.now() - started);
  }
  return best;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const withLogs: number[] = [];
const without: number[] = [];
const withCpu: number[] = [];
const withoutCpu: number[] = [];
const withStoreMs: number[] = [];
const withoutStoreMs: number[] = [];
let last: Awaited<ReturnType<typeof run>> | null = null;
for (let i = 1; i <= pairs; i++) {
  // Alternating which goes first, so that a machine warming up or getting busier favours neither.
  const order = i % 2 === 1 ? [true, false] : [false, true];
  for (const w of order) {
    const r = await run(w, i);
    (w ? withLogs : without).push(Math.round(r.sps));
    (w ? withCpu : withoutCpu).push(Math.round(r.cpuSps));
    (w ? withStoreMs : withoutStoreMs).push(Math.round(r.storeMs));
    if (w) last = r;
  }
}
const logBytes = fs
  .readdirSync(last!.runDir)
  .filter((f) => f.includes('tfevents') || f.endsWith('.csv'))
  .reduce((a, f) => a + fs.statSync(path.join(last!.runDir, f)).size, 0);
const records = fs.readFileSync(path.join(last!.runDir, 'metrics.jsonl'), 'utf8').split('\n').filter((l) => l !== '').length;
const append = { withLogsMs: appendMs(last!.runDir, true), withoutLogsMs: appendMs(last!.runDir, false) };
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
      withLogs: { sps: withLogs, median: median(withLogs), cpuSps: withCpu, cpuMedian: median(withCpu), storeMs: withStoreMs },
      withoutLogs: { sps: without, median: median(without), cpuSps: withoutCpu, cpuMedian: median(withoutCpu), storeMs: withoutStoreMs },
      overheadPercent: Math.round((1 - median(withLogs) / median(without)) * 1000) / 10,
      cpuOverheadPercent: Math.round((1 - median(withCpu) / median(withoutCpu)) * 1000) / 10,
      records,
      logBytesPerRun: logBytes,
      appendRecords: {
        ...append,
        runSeconds: Math.round(last!.seconds * 100) / 100,
        logsShareOfRunPercent: Math.round(((append.withLogsMs - append.withoutLogsMs) / 1000 / last!.seconds) * 10000) / 100,
      },
    },
    null,
    2,
  ),
);

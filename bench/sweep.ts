/**
 * Sweep benchmark: the same 16 A2C CartPole-v1 runs (4 trials × 4 seeds, each as long as the a2c `cartpole`
 * preset trains: 200,000 steps) with 1 and 2 local worker processes, and through Redis with 2 `lab worker`
 * processes on this machine. Prints one JSON object. About 10 minutes on 2 cores.
 *
 *   npm run bench:sweep
 *   npm run bench:sweep -- --steps 20000 --only local1,local2,queue --repeat 3
 *   npm run bench:sweep -- --queue redis://127.0.0.1:6379      # an existing Redis instead of a private one
 *
 * Shorter runs (--steps) weigh each worker's fixed costs more: a fresh worker process spends about 1.5 s of CPU
 * warming up V8's JIT, which one worker pays once for 16 runs and two workers pay twice, from each other's cores
 * (docs/experiments.md, "Speed").
 *
 * The local sweeps are repeated (--repeat, default 2) in alternating order (1 then 2 workers, then 2 then 1, …):
 * a shared VM's speed drifts from minute to minute, so one pair of sweeps says less.
 *
 * Figures:
 *   local1, local2, queue  wall-clock seconds of the whole sweep (coordinator in this process, as `lab sweep`);
 *                          for local1 and local2 the repetition with the median time, and every repetition's
 *   speedup                median local1 / median local2 (target ≥ 1.8 on 2 cores); speedupPerRepetition: each
 *                          repetition's pair
 *   steadySpeedup          the same once the workers are warm: 2 / the median ratio of a run's own seconds with 2
 *                          workers to the same run's with 1, trial 0 left out (each worker's first runs are slower
 *                          while V8 optimises, and two workers pay that twice)
 *   queueVsLocal           queue / local2 (target ≤ 1.10)
 *   processStartSeconds    per worker process: fork to a ready compute backend (paid once per process, which
 *                          then trains run after run)
 *   perRunOverheadSeconds  per run, the time a worker slot spent outside the runs themselves (process start,
 *                          dispatch, messages, the coordinator; local1: wall − Σ run seconds, over 16) — target ≤ 1
 *   trialsAgree            whether every sweep (each repetition, and the queue) gave the same trial objectives
 *   workerCpu              (each local repetition) CPU seconds of the workers, summed: main threads and other
 *                          threads (V8's compilers and GC helpers; a lone worker runs them on the idle core, two
 *                          workers take them from each other's main threads)
 * The other processes on the machine count too: run it on an idle machine.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { findPreset } from '../agents/registry.js';
import { LAB_VERSION } from '../lab/version.js';
import type { RunJobResult, TrialRecord } from '../protocol/experiments.js';
import { runExperiment } from '../sweep/coordinator.js';
import { LocalDispatcher, type RunDispatcher } from '../sweep/dispatcher.js';
import { createExperimentDir, EXPERIMENT_FORMAT, RUNS_DIR, type ExperimentMeta } from '../sweep/experiment_files.js';
import { LocalPool, type WorkerStats } from '../sweep/local_pool.js';
import { QUEUE_NAME, QueueDispatcher, publicRedisUrl } from '../sweep/queue.js';
import { parseSpec } from '../sweep/spec.js';
import { startRedis, type TestRedis } from '../test/redis_server.js';

const args = process.argv.slice(2);
const arg = (name: string, fallback: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1]! : fallback;
};
const steps = Number(arg('steps', String(findPreset('a2c', 'CartPole-v1', 'cartpole')!.preset.train!.steps)));
const trials = Number(arg('trials', '4'));
const seeds = Number(arg('seeds', '4'));
const parts = arg('only', 'local1,local2,queue').split(',');
const repeat = Number(arg('repeat', '2'));
if (!Number.isSafeInteger(repeat) || repeat < 1) throw new Error(`--repeat must be a positive integer, got ${arg('repeat', '')}`);
const LAB = fileURLToPath(new URL('../bin/lab.mjs', import.meta.url));
const out = fs.mkdtempSync(path.join(os.tmpdir(), 'lab-bench-sweep-'));

const spec = parseSpec(
  `name: bench-sweep
run: { kind: rl, env: CartPole-v1, agent: a2c, steps: ${steps}, evalEvery: 5000, evalEpisodes: 5 }
seeds: [${Array.from({ length: seeds }, (_, i) => i + 1).join(', ')}]
search:
  learningRate: { loguniform: [0.0003, 0.01] }
  nSteps: { choice: [5, 16] }
sampler: random
samplerSeed: 11
trials: ${trials}
parallelTrials: ${trials}
objective: { metric: eval, reduce: iqm-last, direction: maximize }
`,
  'bench-sweep.yml',
);

let sweepCount = 0;

interface SweepFigures {
  seconds: number;
  runs: number;
  /** Σ of the runs' own seconds (inside executeRunJob). */
  runSeconds: number;
  objectives: (number | null)[];
  /** Each run's own seconds by `<trial>-<seed>` (not printed: steadySpeedup pairs the same runs across sweeps). */
  perRun: Map<string, number>;
  /** CPU seconds of the local workers, summed: their main threads and their other threads (V8's compiler, GC). */
  workerCpu?: { mainThread: number; otherThreads: number } | null;
}

async function sweep(label: string, dispatcherFor: (meta: ExperimentMeta, runsDir: string) => Promise<RunDispatcher>, queue: { url: string; name: string } | null): Promise<SweepFigures> {
  const meta: ExperimentMeta = {
    format: EXPERIMENT_FORMAT,
    id: `bench-${label}-${process.pid}-${++sweepCount}`,
    name: spec.name,
    createdAt: new Date().toISOString(),
    labVersion: LAB_VERSION,
    spec,
    specFile: 'bench-sweep.yml',
    queue,
  };
  const runsDir = path.join(out, meta.id, RUNS_DIR);
  const started = performance.now();
  const dispatcher = await dispatcherFor(meta, runsDir);
  const expDir = createExperimentDir(out, meta);
  const results: RunJobResult[] = [];
  const perRun = new Map<string, number>();
  try {
    const outcome = await runExperiment({
      expDir,
      spec,
      dispatcher,
      onEvent: (e) => {
        if (e.type === 'run-end') {
          results.push(e.result);
          perRun.set(`${e.trial}-${e.seed}`, e.result.seconds);
        }
      },
    });
    const seconds = (performance.now() - started) / 1000;
    if (results.some((r) => r.state !== 'done')) throw new Error(`${label}: runs not done: ${results.filter((r) => r.state !== 'done').map((r) => `${r.runId} ${r.state} ${r.error ?? ''}`).join('; ')}`);
    return {
      seconds: round(seconds),
      runs: results.length,
      runSeconds: round(results.reduce((a, r) => a + r.seconds, 0)),
      objectives: outcome.records.sort((a: TrialRecord, b: TrialRecord) => a.trial - b.trial).map((r) => r.objective),
      perRun,
    };
  } finally {
    await dispatcher.close();
  }
}

/** The repetition with the median wall time (the lower middle one of an even count), with every repetition's times. */
function withRepetitions(all: SweepFigures[]): Printed & { repetitions: { seconds: number; runSeconds: number; workerCpu?: SweepFigures['workerCpu'] }[] } {
  const sorted = [...all].sort((a, b) => a.seconds - b.seconds);
  return { ...printed(sorted[(sorted.length - 1) >> 1]!), repetitions: all.map((f) => ({ seconds: f.seconds, runSeconds: f.runSeconds, ...(f.workerCpu !== undefined ? { workerCpu: f.workerCpu } : {}) })) };
}

type Printed = Omit<SweepFigures, 'perRun'>;

function printed(f: SweepFigures): Printed {
  const { perRun: _perRun, ...rest } = f;
  return rest;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

/**
 * What 2 workers give once warm: 2 / the median, over the runs of trials after the first (each worker's first
 * runs, while V8 still optimises, are all in trial 0) and over the repetitions' pairs, of a run's seconds beside
 * the other worker / the same run's seconds alone.
 */
function steadySpeedup(ones: SweepFigures[], twos: SweepFigures[]): number | null {
  const ratios: number[] = [];
  ones.forEach((one, i) => {
    const two = twos[i];
    if (!two) return;
    for (const [key, alone] of one.perRun) {
      const beside = two.perRun.get(key);
      if (!key.startsWith('0-') && beside !== undefined && alone > 0) ratios.push(beside / alone);
    }
  });
  return ratios.length ? round(2 / median(ratios)) : null;
}

function round(x: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

async function local(workers: number, stats: WorkerStats[]): Promise<SweepFigures> {
  let pool: LocalPool | null = null;
  const figures = await sweep(`local${workers}`, (_meta, runsDir) => {
    pool = new LocalPool({ workers });
    return Promise.resolve(new LocalDispatcher(pool, runsDir));
  }, null);
  const mine = pool!.stats();
  stats.push(...mine);
  // Each worker's CPU at its last run (the sweep's end); unknown where a worker cannot read its main thread's.
  const cpu = mine.map((w) => w.cpu);
  figures.workerCpu = cpu.every((c) => c !== null && c.mainThreadSeconds !== null)
    ? {
        mainThread: round(cpu.reduce((a, c) => a + c!.mainThreadSeconds!, 0)),
        otherThreads: round(cpu.reduce((a, c) => a + c!.processSeconds - c!.mainThreadSeconds!, 0)),
      }
    : null;
  return figures;
}

/** Starts `lab worker` and resolves once it waits for a sweep. */
function startWorker(url: string, workDir: string): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [LAB, 'worker', '--queue', url, '--concurrency', '1', '--work-dir', workDir], { stdio: ['ignore', 'pipe', 'pipe'] });
    let text = '';
    const onData = (d: Buffer) => {
      text += d.toString();
      if (/waiting for a sweep|serving sweep/.test(text)) resolve(child);
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.on('exit', (code) => reject(new Error(`lab worker exited (${code}): ${text.trim()}`)));
  });
}

async function main(): Promise<void> {
  const result: Record<string, unknown> = {
    machine: { cpus: os.availableParallelism(), node: process.version, lab: LAB_VERSION },
    workload: { runs: trials * seeds, trials, seeds, steps, agent: 'a2c', env: 'CartPole-v1', backend: 'wasm' },
  };
  const stats: WorkerStats[] = [];
  let local1: Printed | null = null;
  let local2: Printed | null = null;
  let queued: SweepFigures | null = null;
  const repetitions: Record<1 | 2, SweepFigures[]> = { 1: [], 2: [] };
  const wanted = ([1, 2] as const).filter((w) => parts.includes(`local${w}`));
  for (let r = 0; r < repeat; r++) {
    for (const workers of r % 2 === 0 ? wanted : [...wanted].reverse()) repetitions[workers].push(await local(workers, stats));
  }
  if (wanted.includes(1)) result.local1 = local1 = withRepetitions(repetitions[1]);
  if (wanted.includes(2)) result.local2 = local2 = withRepetitions(repetitions[2]);
  if (parts.includes('queue')) {
    let redis: TestRedis | null = null;
    const given = arg('queue', '');
    const url = given || (redis = await startRedis()).url;
    const workers = await Promise.all([0, 1].map((i) => startWorker(url, path.join(out, `worker-${i}`))));
    try {
      queued = await sweep('queue', (meta, runsDir) => QueueDispatcher.connect({ url, experimentId: meta.id, runsDir, labVersion: LAB_VERSION }), { url: publicRedisUrl(url), name: QUEUE_NAME });
      result.queue = printed(queued);
    } finally {
      await Promise.all(workers.map((w) => new Promise((resolve) => (w.once('exit', resolve), w.kill('SIGTERM')))));
      await redis?.stop();
    }
  }
  const ready = stats.map((s) => s.readySeconds).filter((s): s is number => s !== null);
  result.processStartSeconds = { mean: round(ready.reduce((a, b) => a + b, 0) / Math.max(1, ready.length)), max: round(Math.max(0, ...ready)), processes: ready.length };
  if (local1) result.perRunOverheadSeconds = round((local1.seconds - local1.runSeconds) / local1.runs, 3);
  if (local1 && local2) {
    result.speedup = round(local1.seconds / local2.seconds);
    result.speedupPerRepetition = repetitions[1].map((one, i) => round(one.seconds / repetitions[2][i]!.seconds));
    result.steadySpeedup = steadySpeedup(repetitions[1], repetitions[2]);
  }
  if (local2 && queued) result.queueVsLocal = round(queued.seconds / local2.seconds, 3);
  const all = [...repetitions[1], ...repetitions[2], queued].filter((f): f is SweepFigures => f !== null);
  if (all.length > 1) result.trialsAgree = all.every((f) => JSON.stringify(f.objectives) === JSON.stringify(all[0]!.objectives));
  console.log(JSON.stringify(result, null, 2));
  fs.rmSync(out, { recursive: true, force: true });
}

await main();

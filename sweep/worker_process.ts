/**
 * A local worker process of `lab sweep`, forked by sweep/local_pool.ts (never started by hand): it initialises
 * the compute backend once (wasm on one thread, so N workers use N cores and nothing is oversubscribed), then
 * trains the runs its parent sends, one at a time, through executeRunJob, reporting over the IPC channel.
 *
 * It exits by itself when its parent goes away (the channel closes), even after a kill -9 of the parent: the
 * run directory stays consistent (the run store is crash-safe) and a later executeRunJob resumes it. Ctrl-C in
 * the terminal reaches the whole process group; the worker leaves that to its parent, which asks it to stop.
 */
import fs from 'node:fs';
import type { RunJob, RunJobResult } from '../protocol/experiments.js';
import { initCompute } from '../lab/compute.js';
import { oneLine } from '../lab/run_files.js';
import { executeRunJob, RunStoppedError, WORKER_IMPORTS_ENV } from './run_job.js';
import { importPlugins } from '../agents/plugins.js';

/** Parent → worker. */
export type ToWorker = { type: 'run'; job: RunJob; runsDir: string } | { type: 'stop' };

/** CPU seconds a worker has used so far: the whole process, and its main thread (null where /proc has no schedstat). */
export interface WorkerCpu {
  processSeconds: number;
  mainThreadSeconds: number | null;
}

/** Worker → parent. */
export type FromWorker =
  /** The backend is up (seconds since the process started). */
  | { type: 'ready'; seconds: number; backend: string }
  | { type: 'start'; runId: string; runDir: string }
  | { type: 'checkpoint'; runId: string; runDir: string }
  | { type: 'progress'; runId: string; done: number; total: number }
  | { type: 'result'; result: RunJobResult; cpu?: WorkerCpu }
  /** Stopped (asked to) with a checkpoint at `at`: the job is unfinished. */
  | { type: 'stopped'; runId: string; at: number | null; message: string }
  /** The job could not be run here at all (not a training failure: another lab version, a broken worker). */
  | { type: 'error'; runId: string | null; message: string };

/** Sends a message; resolves once it is written (before the process may exit). */
function send(message: FromWorker): Promise<void> {
  // After a disconnect there is nobody to tell (and the process is on its way out).
  if (!process.connected) return Promise.resolve();
  return new Promise((resolve) => process.send!(message, undefined, {}, () => resolve()));
}

if (!process.send) {
  console.error('sweep/worker_process.ts is a worker of lab sweep: it is started by the sweep (LocalPool), not by hand');
  process.exit(2);
}

// The parent is gone (it exited, crashed or was killed): nobody wants the result, stop at once.
process.on('disconnect', () => process.exit(0));
// Ctrl-C goes to the whole process group: the parent decides (it asks for a checkpointed stop).
process.on('SIGINT', () => {});
// SIGTERM aimed at this worker: stop the run with a checkpoint, as the parent's 'stop' does; a second one, or
// one while idle, exits at once.
let stopRequested = false;
let busy = false;
process.on('SIGTERM', () => {
  if (stopRequested || !busy) process.exit(143);
  stopRequested = true;
});

// `lab worker --import`: this machine's plug-in modules, imported once before any run.
const workerImports = JSON.parse(process.env[WORKER_IMPORTS_ENV] ?? '[]') as string[];
const ready = initCompute('wasm', { wasmThreads: 1 }).then(async (info) => {
  await importPlugins(workerImports);
  send({ type: 'ready', seconds: Math.round(performance.now()) / 1000, backend: info.backend });
});
ready.catch(async (e: unknown) => {
  await send({ type: 'error', runId: null, message: `the worker's backend did not start: ${oneLine(e instanceof Error ? e.message : String(e))}` });
  process.exit(1);
});

process.on('message', (message: ToWorker) => {
  if (message.type === 'stop') {
    stopRequested = true;
    // Nothing running: nothing to checkpoint.
    if (!busy) process.exit(0);
    return;
  }
  if (message.type === 'run') void serve(message.job, message.runsDir);
});

/**
 * The process's CPU time and its main thread's (Linux: the first field of /proc/self/task/<pid>/schedstat, in
 * ns). What the other threads used (V8's compiler and GC helpers) is the difference; bench/sweep.ts reports it.
 */
function cpuSoFar(): WorkerCpu {
  const usage = process.cpuUsage();
  let mainThreadSeconds: number | null = null;
  try {
    const ns = Number(fs.readFileSync(`/proc/self/task/${process.pid}/schedstat`, 'utf8').split(' ')[0]);
    if (Number.isFinite(ns)) mainThreadSeconds = ns / 1e9;
  } catch {
    // Not Linux, or no schedstat: the process total only.
  }
  return { processSeconds: (usage.user + usage.system) / 1e6, mainThreadSeconds };
}

async function serve(job: RunJob, runsDir: string): Promise<void> {
  if (busy) {
    await send({ type: 'error', runId: job.runId, message: `worker ${process.pid} is busy: it runs one job at a time` });
    return;
  }
  busy = true;
  let reply: FromWorker;
  try {
    await ready;
    if (stopRequested) throw new RunStoppedError(job.runId, null, `run ${job.runId} did not start: the worker was asked to stop`);
    const result = await executeRunJob(job, runsDir, {
      shouldStop: () => stopRequested,
      onStart: (runDir) => void send({ type: 'start', runId: job.runId, runDir }),
      onCheckpoint: (runDir) => void send({ type: 'checkpoint', runId: job.runId, runDir }),
      onProgress: (done, total) => void send({ type: 'progress', runId: job.runId, done, total }),
    });
    reply = { type: 'result', result, cpu: cpuSoFar() };
  } catch (e) {
    reply =
      e instanceof RunStoppedError
        ? { type: 'stopped', runId: job.runId, at: e.at, message: e.message }
        : { type: 'error', runId: job.runId, message: oneLine(e instanceof Error ? e.message : String(e)) };
  }
  await send(reply);
  busy = false;
  // Asked to stop: this worker's work is over.
  if (stopRequested) process.exit(0);
}

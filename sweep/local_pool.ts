/**
 * A pool of local worker processes (sweep/worker_process.ts, forked with the tsx loader): N long-lived
 * processes, each with its own compute backend on one thread, each training one run at a time. `lab sweep`
 * runs its trials × seeds through it, and `lab worker` the jobs it takes from the queue.
 *
 * Processes are forked as jobs need them (up to N) and then serve run after run, so a run pays the process
 * start and backend initialisation only once per worker. A worker that dies mid-run (a crash, kill -9) rejects
 * that run's promise with a WorkerCrashError and is replaced by a fresh one for the next run; the run directory
 * it left resumes with the next run of the same job.
 */
import { fork, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RunJob, RunJobResult } from '../protocol/experiments.js';
import { RunStoppedError, WORKER_IMPORTS_ENV } from './run_job.js';
import type { FromWorker, ToWorker, WorkerCpu } from './worker_process.js';

/**
 * Node flags of a worker process. A worker is meant to use one core: V8's parallel garbage-collection helpers
 * made a training process use ~1.1 cores (measured: 4.9 s of CPU in 4.5 s of A2C training), so two workers on two
 * cores slowed each other by ~10%. Collecting on the main thread costs a run nothing measurable (4.4 s), and
 * a larger young generation means fewer scavenges (4.2 s, 1.01 cores).
 */
const WORKER_NODE_FLAGS = ['--single-threaded-gc', '--max-semi-space-size=32'];
const WORKER_ENTRY = fileURLToPath(new URL('./worker_process.ts', import.meta.url));
/** tsx's loader, resolved here: a worker started from another directory finds it all the same. */
const TSX_LOADER = import.meta.resolve('tsx');

/**
 * A worker process died while it ran a job (a crash, kill -9, out of memory): the run directory holds what its
 * last checkpoint saved, and running the job again resumes from there.
 */
export class WorkerCrashError extends Error {
  constructor(
    readonly runId: string,
    message: string,
  ) {
    super(message);
    this.name = 'WorkerCrashError';
  }
}

export interface LocalPoolOptions {
  /** How many processes (runs at once). */
  workers: number;
  /** Added to this process's environment for the workers. */
  env?: NodeJS.ProcessEnv;
  /** Plug-in modules (absolute paths) every worker imports before its first run (`lab worker --import`). */
  imports?: string[];
  /** How long close() waits for running jobs to checkpoint and stop before it kills their processes (ms). */
  stopTimeoutMs?: number;
}

export interface RunEvents {
  /** A new checkpoint of the run is complete on disk. */
  onCheckpoint?: (runDir: string) => void;
  /** Progress in the run's unit (env steps or iterations). */
  onProgress?: (done: number, total: number) => void;
  /** The worker has the run directory and begins training (a fresh start or a resume). */
  onStart?: (runDir: string) => void;
}

/** What one worker process did: for measurements (`bench/sweep.ts`) and diagnostics. */
export interface WorkerStats {
  pid: number;
  /** Seconds from fork to a ready backend; null while starting. */
  readySeconds: number | null;
  /** Runs it finished (any state). */
  runs: number;
  /** CPU seconds of the process (all its threads) and of its main thread, at its last finished run (null: unknown). */
  cpu: WorkerCpu | null;
}

interface Task {
  job: RunJob;
  runsDir: string;
  events: RunEvents;
  resolve: (result: RunJobResult) => void;
  reject: (error: Error) => void;
}

interface PoolWorker {
  child: ChildProcess;
  stats: WorkerStats;
  task: Task | null;
  /** The last lines it printed (for the error when it dies). */
  tail: string[];
  exited: Promise<void>;
  gone: boolean;
}

export class LocalPool {
  readonly size: number;
  private readonly env: NodeJS.ProcessEnv;
  private readonly stopTimeoutMs: number;
  private readonly workers: PoolWorker[] = [];
  private readonly queue: Task[] = [];
  private readonly retired: WorkerStats[] = [];
  private closing: Promise<void> | null = null;

  constructor(options: LocalPoolOptions) {
    if (!Number.isSafeInteger(options.workers) || options.workers < 1) throw new Error(`workers must be a positive integer, got ${options.workers}`);
    this.size = options.workers;
    this.env = { ...process.env, ...(options.env ?? {}), ...(options.imports?.length ? { [WORKER_IMPORTS_ENV]: JSON.stringify(options.imports) } : {}) };
    this.stopTimeoutMs = options.stopTimeoutMs ?? 120_000;
  }

  /**
   * Runs the job in a worker process (queued until one is free); resolves with its result once
   * `<runsDir>/<job.runId>` is complete. Rejects with RunStoppedError when the pool closes first, and with an
   * Error when the worker process dies mid-run or cannot run the job at all.
   */
  run(job: RunJob, runsDir: string, events: RunEvents = {}): Promise<RunJobResult> {
    if (this.closing) return Promise.reject(new RunStoppedError(job.runId, null, `run ${job.runId} did not start: the worker pool is closed`));
    const dir = path.resolve(runsDir);
    const clash = [...this.queue, ...this.workers.map((w) => w.task)].find((t) => t && t.job.runId === job.runId && t.runsDir === dir);
    if (clash) return Promise.reject(new Error(`run ${job.runId} is already queued or running in ${dir}: one process per run directory`));
    return new Promise<RunJobResult>((resolve, reject) => {
      this.queue.push({ job, runsDir: dir, events, resolve, reject });
      this.dispatch();
    });
  }

  /** The worker processes so far (living and gone), oldest first. */
  stats(): WorkerStats[] {
    return [...this.retired, ...this.workers.map((w) => w.stats)].map((s) => ({ ...s, cpu: s.cpu && { ...s.cpu } }));
  }

  /** Jobs waiting for a free worker. */
  get queued(): number {
    return this.queue.length;
  }

  /** Jobs running now. */
  get running(): number {
    return this.workers.filter((w) => w.task !== null).length;
  }

  /**
   * Asks running jobs to checkpoint and stop (their promises reject with RunStoppedError, or resolve when they
   * finished meanwhile), rejects the queued ones, then ends the processes. Safe to call again.
   */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    for (const task of this.queue.splice(0)) task.reject(new RunStoppedError(task.job.runId, null, `run ${task.job.runId} did not start: the worker pool closed`));
    for (const w of this.workers) this.post(w, { type: 'stop' });
    const all = Promise.all(this.workers.map((w) => w.exited));
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => {
      timer = setTimeout(() => resolve('late'), this.stopTimeoutMs);
    });
    if ((await Promise.race([all, late])) === 'late') {
      // The run directories stay consistent (the run store is crash-safe): the runs resume from their last checkpoints.
      for (const w of this.workers) if (!w.gone) w.child.kill('SIGKILL');
      await all;
    }
    clearTimeout(timer);
  }

  private dispatch(): void {
    while (this.queue.length > 0 && !this.closing) {
      let worker = this.workers.find((w) => w.task === null && !w.gone);
      if (!worker) {
        if (this.workers.length >= this.size) return;
        worker = this.spawn();
      }
      const task = this.queue.shift()!;
      worker.task = task;
      // Busy: the channel keeps this process alive until the result comes back.
      worker.child.channel?.ref();
      this.post(worker, { type: 'run', job: task.job, runsDir: task.runsDir });
    }
  }

  private spawn(): PoolWorker {
    const forkedAt = performance.now();
    const child = fork(WORKER_ENTRY, [], {
      execArgv: [...WORKER_NODE_FLAGS, '--import', TSX_LOADER],
      env: this.env,
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      serialization: 'json',
    });
    let resolveExit!: () => void;
    const worker: PoolWorker = {
      child,
      stats: { pid: child.pid ?? -1, readySeconds: null, runs: 0, cpu: null },
      task: null,
      tail: [],
      exited: new Promise<void>((resolve) => {
        resolveExit = resolve;
      }),
      gone: false,
    };
    const collect = (chunk: Buffer): void => {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (!line.trim()) continue;
        worker.tail.push(line);
        if (worker.tail.length > 20) worker.tail.shift();
      }
    };
    child.stdout!.on('data', collect);
    child.stderr!.on('data', collect);
    child.on('message', (m: FromWorker) => {
      if (m.type === 'ready') worker.stats.readySeconds = Math.round(performance.now() - forkedAt) / 1000;
      else this.onMessage(worker, m);
    });
    child.on('error', (e) => worker.tail.push(`process error: ${e.message}`));
    child.on('exit', (code, signal) => {
      worker.gone = true;
      const index = this.workers.indexOf(worker);
      if (index >= 0) this.workers.splice(index, 1);
      this.retired.push(worker.stats);
      const task = worker.task;
      worker.task = null;
      if (task) {
        const how = signal ? `was killed (${signal})` : `exited with code ${code}`;
        const last = [...worker.tail].reverse().find((l) => /error/i.test(l)) ?? worker.tail.at(-1);
        task.reject(new WorkerCrashError(task.job.runId, `worker process ${worker.stats.pid} ${how} while running ${task.job.runId}${last ? `: ${last.trim()}` : ''}; running the job again resumes it from its last checkpoint`));
      }
      resolveExit();
      // A fresh process takes the queued jobs.
      this.dispatch();
    });
    // Idle workers must not keep this process alive (a forgotten close() leaves no hang; they exit with it).
    child.unref();
    (child.stdout as { unref?: () => void } | null)?.unref?.();
    (child.stderr as { unref?: () => void } | null)?.unref?.();
    child.channel?.unref();
    this.workers.push(worker);
    return worker;
  }

  private onMessage(worker: PoolWorker, m: FromWorker): void {
    const task = worker.task;
    if (m.type === 'error' && m.runId === null) {
      // The worker cannot work at all (its backend did not start); it exits, and the exit rejects its job.
      worker.tail.push(m.message);
      return;
    }
    if (!task || ('runId' in m && m.runId !== task.job.runId) || (m.type === 'result' && m.result.runId !== task.job.runId)) return;
    switch (m.type) {
      case 'start':
        task.events.onStart?.(m.runDir);
        return;
      case 'checkpoint':
        task.events.onCheckpoint?.(m.runDir);
        return;
      case 'progress':
        task.events.onProgress?.(m.done, m.total);
        return;
      case 'result':
        if (m.cpu) worker.stats.cpu = m.cpu;
        this.finish(worker, () => task.resolve(m.result));
        return;
      case 'stopped':
        this.finish(worker, () => task.reject(new RunStoppedError(m.runId, m.at, m.message)));
        return;
      case 'error':
        this.finish(worker, () => task.reject(new Error(m.message)));
        return;
    }
  }

  /** The task is over: the worker takes the next one (or idles without holding this process open). */
  private finish(worker: PoolWorker, settle: () => void): void {
    worker.task = null;
    worker.stats.runs++;
    if (!worker.gone) worker.child.channel?.unref();
    settle();
    this.dispatch();
  }

  private post(worker: PoolWorker, message: ToWorker): void {
    if (!worker.gone && worker.child.connected) worker.child.send(message);
  }
}

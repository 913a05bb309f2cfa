/**
 * Where the coordinator of `lab sweep` sends its runs: a RunDispatcher runs one job (trial × seed) and says
 * when its run directory is complete. LocalDispatcher runs them in local worker processes (sweep/local_pool.ts);
 * the Redis queue (sweep/queue*.ts) is the other implementation, for workers on other machines.
 */
import path from 'node:path';
import type { RunJob, RunJobResult } from '../protocol/experiments.js';
import { WorkerCrashError, type LocalPool, type RunEvents } from './local_pool.js';

export interface RunDispatcher {
  /** How many runs can go at once (the coordinator keeps this many in flight). */
  readonly slots: number;
  /** Runs the job; resolves once <the experiment's runs dir>/<job.runId> is a complete run directory here. */
  run(job: RunJob): Promise<RunJobResult>;
  /** Stops: running jobs write a checkpoint and stop (their promises resolve or reject), processes exit. */
  close(): Promise<void>;
}

/**
 * Runs jobs in a pool of local worker processes, inside one experiment's runs directory. A run whose worker
 * process dies (kill -9, a crash) is run again in a fresh one, resuming from its last checkpoint, so the sweep
 * goes on with the same result; only a run that kills its worker every time (`crashRetries` + 1 times) rejects.
 */
export class LocalDispatcher implements RunDispatcher {
  private readonly runsDir: string;
  private readonly events: (job: RunJob) => RunEvents;
  private readonly crashRetries: number;
  private readonly onCrash: ((job: RunJob, error: WorkerCrashError) => void) | undefined;

  constructor(
    private readonly pool: LocalPool,
    runsDir: string,
    options: {
      /** Per-run events (progress, checkpoints), for a display or a live view. */
      events?: (job: RunJob) => RunEvents;
      /** How often a run whose worker died is run again (default 2). */
      crashRetries?: number;
      /** Told when a run is run again after its worker died. */
      onCrash?: (job: RunJob, error: WorkerCrashError) => void;
    } = {},
  ) {
    this.runsDir = path.resolve(runsDir);
    this.events = options.events ?? (() => ({}));
    this.crashRetries = options.crashRetries ?? 2;
    this.onCrash = options.onCrash;
  }

  get slots(): number {
    return this.pool.size;
  }

  async run(job: RunJob): Promise<RunJobResult> {
    const events = this.events(job);
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.pool.run(job, this.runsDir, events);
      } catch (e) {
        if (!(e instanceof WorkerCrashError) || attempt >= this.crashRetries) throw e;
        this.onCrash?.(job, e);
      }
    }
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}

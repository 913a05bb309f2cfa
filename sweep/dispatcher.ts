/**
 * Where the coordinator of `lab sweep` sends its runs: a RunDispatcher runs one job (trial × seed) and says
 * when its run directory is complete. LocalDispatcher runs them in local worker processes (sweep/local_pool.ts);
 * the Redis queue (sweep/queue*.ts) is the other implementation, for workers on other machines.
 */
import path from 'node:path';
import type { RunJob, RunJobResult } from '../protocol/experiments.js';
import type { LocalPool, RunEvents } from './local_pool.js';

export interface RunDispatcher {
  /** How many runs can go at once (the coordinator keeps this many in flight). */
  readonly slots: number;
  /** Runs the job; resolves once <the experiment's runs dir>/<job.runId> is a complete run directory here. */
  run(job: RunJob): Promise<RunJobResult>;
  /** Stops: running jobs write a checkpoint and stop (their promises resolve or reject), processes exit. */
  close(): Promise<void>;
}

/** Runs jobs in a pool of local worker processes, inside one experiment's runs directory. */
export class LocalDispatcher implements RunDispatcher {
  private readonly runsDir: string;

  constructor(
    private readonly pool: LocalPool,
    runsDir: string,
    /** Per-run events (progress, checkpoints), for a display or a live view. */
    private readonly events: (job: RunJob) => RunEvents = () => ({}),
  ) {
    this.runsDir = path.resolve(runsDir);
  }

  get slots(): number {
    return this.pool.size;
  }

  run(job: RunJob): Promise<RunJobResult> {
    return this.pool.run(job, this.runsDir, this.events(job));
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}

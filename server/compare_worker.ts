/**
 * `GET /api/compare` off the event loop: a comparison reads every run's metrics and bootstraps confidence
 * intervals (~1.7 s for 200 runs), which on the server's thread would stall live frames and health checks.
 * One worker thread (compare_worker_thread.ts, through thread_client.ts), started on first use, answers the
 * requests in order; a bounded queue refuses the rest.
 */
import type { CompareResult } from '../protocol/protocol.js';
import { BadRequest, NotFound } from './replays_api.js';
import { ThreadClient, type ThreadReply } from './thread_client.js';

/** Comparisons waiting or running at once; more are refused (503) rather than queued without bound. */
const MAX_QUEUED = 8;

export interface CompareRequest {
  id: number;
  runIds: string[];
  options: { groupBy?: string | undefined; curve?: string | undefined };
}
export type CompareErrorKind = 'not-found' | 'bad-request' | 'error';
export type CompareReply = ThreadReply<CompareResult, CompareErrorKind>;

export class CompareWorker {
  private readonly thread: ThreadClient<Omit<CompareRequest, 'id'>, CompareResult, CompareErrorKind>;

  constructor(runsDir: string) {
    this.thread = new ThreadClient({
      entry: new URL('./compare_worker_thread.ts', import.meta.url),
      workerData: { runsDir },
      maxQueued: MAX_QUEUED,
      busyMessage: (waiting) => `${waiting} comparisons are already running; try again shortly`,
      name: 'the comparison worker',
      errorFor: (kind, message) => (kind === 'not-found' ? new NotFound(message) : kind === 'bad-request' ? new BadRequest(message) : new Error(message)),
    });
  }

  compare(runIds: string[], options: CompareRequest['options']): Promise<CompareResult> {
    return this.thread.request({ runIds, options });
  }

  close(): Promise<void> {
    return this.thread.close();
  }
}

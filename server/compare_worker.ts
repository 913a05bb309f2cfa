/**
 * `GET /api/compare` off the event loop: a comparison reads every run's metrics and bootstraps confidence
 * intervals (~1.7 s for 200 runs), which on the server's thread would stall live frames and health checks.
 * One worker thread, started on first use, answers the requests in order; a bounded queue refuses the rest.
 */
import type { Worker } from 'node:worker_threads';
import { typeScriptWorker } from '../lab/ts_worker.js';
import type { CompareResult } from '../protocol/protocol.js';
import { BadRequest, NotFound } from './replays_api.js';

/** Comparisons waiting or running at once; more are refused (503) rather than queued without bound. */
const MAX_QUEUED = 8;

export interface CompareRequest {
  id: number;
  runIds: string[];
  options: { groupBy?: string | undefined; curve?: string | undefined };
}
export type CompareReply = { id: number; ok: true; result: CompareResult } | { id: number; ok: false; kind: 'not-found' | 'bad-request' | 'error'; error: string };

export class Busy extends Error {}

export class CompareWorker {
  private worker: Worker | null = null;
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve: (r: CompareResult) => void; reject: (e: Error) => void }>();

  constructor(private readonly runsDir: string) {}

  compare(runIds: string[], options: CompareRequest['options']): Promise<CompareResult> {
    if (this.waiting.size >= MAX_QUEUED) return Promise.reject(new Busy(`${this.waiting.size} comparisons are already running; try again shortly`));
    const worker = this.start();
    const id = this.nextId++;
    return new Promise<CompareResult>((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      worker.postMessage({ id, runIds, options } satisfies CompareRequest);
    });
  }

  private start(): Worker {
    if (this.worker) return this.worker;
    const worker = typeScriptWorker(new URL('./compare_worker_thread.ts', import.meta.url), { runsDir: this.runsDir });
    worker.unref();
    worker.on('message', (m: CompareReply) => {
      const w = this.waiting.get(m.id);
      if (!w) return;
      this.waiting.delete(m.id);
      if (m.ok) w.resolve(m.result);
      else w.reject(m.kind === 'not-found' ? new NotFound(m.error) : m.kind === 'bad-request' ? new BadRequest(m.error) : new Error(m.error));
    });
    const failAll = (why: string) => {
      this.worker = null;
      for (const w of this.waiting.values()) w.reject(new Error(why));
      this.waiting.clear();
    };
    worker.on('error', (e) => failAll(`the comparison worker failed: ${e.message}`));
    worker.on('exit', (code) => failAll(`the comparison worker exited (code ${code})`));
    this.worker = worker;
    return worker;
  }

  async close(): Promise<void> {
    const w = this.worker;
    this.worker = null;
    if (w) await w.terminate();
  }
}

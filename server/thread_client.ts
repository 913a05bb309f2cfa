/**
 * The server's side of a request/reply worker thread (used by CompareWorker and ExperimentsWorker): the thread
 * starts on first use and answers requests in order; a bounded queue refuses the rest (Busy, answered 503), a
 * failed reply becomes the error class the caller maps its kind to, and if the thread dies every waiting
 * request fails with why. The thread is unref'd so an idle one never keeps the process alive.
 */
import type { Worker } from 'node:worker_threads';
import { typeScriptWorker } from '../lab/ts_worker.js';

/** Too many requests are waiting already; the HTTP layer answers 503. */
export class Busy extends Error {}

/** What the thread posts back for request `id`: the value, or an error of a kind the client maps to a class. */
export type ThreadReply<Value, Kind extends string> = { id: number; ok: true; value: Value } | { id: number; ok: false; kind: Kind; error: string };

export interface ThreadClientOptions<Kind extends string> {
  /** The TypeScript module the thread runs, and its workerData. */
  entry: URL;
  workerData: unknown;
  /** Requests waiting or running at once; more are refused with Busy rather than queued without bound. */
  maxQueued: number;
  /** Busy's message, given how many requests are waiting. */
  busyMessage: (waiting: number) => string;
  /** The thread in failure messages, e.g. "the comparison worker" (… failed: why / … exited (code n)). */
  name: string;
  /** The error a failed reply rejects with. */
  errorFor: (kind: Kind, message: string) => Error;
}

export class ThreadClient<Request extends object, Value, Kind extends string> {
  private worker: Worker | null = null;
  private nextId = 1;
  /** Requests to the current thread waiting for replies (each thread has its own map, failed when it ends). */
  private waiting = new Map<number, { resolve: (v: Value) => void; reject: (e: Error) => void }>();

  constructor(private readonly options: ThreadClientOptions<Kind>) {}

  /** Posts `{ id, ...request }` to the thread and settles with its reply. */
  request(request: Request): Promise<Value> {
    if (this.waiting.size >= this.options.maxQueued) return Promise.reject(new Busy(this.options.busyMessage(this.waiting.size)));
    const worker = this.start();
    const id = this.nextId++;
    return new Promise<Value>((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      worker.postMessage({ id, ...request });
    });
  }

  private start(): Worker {
    if (this.worker) return this.worker;
    const worker = typeScriptWorker(this.options.entry, this.options.workerData);
    worker.unref();
    // This thread's own map: its exit after close() must not touch the requests of a thread started since.
    const waiting = new Map<number, { resolve: (v: Value) => void; reject: (e: Error) => void }>();
    this.waiting = waiting;
    worker.on('message', (m: ThreadReply<Value, Kind>) => {
      const w = waiting.get(m.id);
      if (!w) return;
      waiting.delete(m.id);
      if (m.ok) w.resolve(m.value);
      else w.reject(this.options.errorFor(m.kind, m.error));
    });
    const failAll = (why: string) => {
      if (this.worker === worker) this.worker = null;
      for (const w of waiting.values()) w.reject(new Error(why));
      waiting.clear();
    };
    worker.on('error', (e) => failAll(`${this.options.name} failed: ${e.message}`));
    worker.on('exit', (code) => failAll(`${this.options.name} exited (code ${code})`));
    this.worker = worker;
    return worker;
  }

  async close(): Promise<void> {
    const w = this.worker;
    this.worker = null;
    if (w) await w.terminate();
  }
}

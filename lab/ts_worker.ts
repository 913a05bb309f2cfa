/**
 * Worker threads that run the lab's TypeScript modules: the worker registers tsx before importing `entry`, as
 * the `lab` command does in the main thread.
 */
import { Worker } from 'node:worker_threads';

/** A worker thread running the TypeScript module at `entry` (a file URL), with `workerData`. */
export function typeScriptWorker(entry: URL, workerData: unknown): Worker {
  const tsx = import.meta.resolve('tsx/esm/api');
  const source = `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(entry.href)}); });`;
  return new Worker(source, { eval: true, workerData });
}

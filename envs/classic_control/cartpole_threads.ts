/**
 * Node's half of the batched Cart-Pole: its physics threads are worker_threads (eval'd source, unref'd so they
 * never keep the process alive). Importing this file installs the starter; envs/index.ts does.
 */
import { Worker } from 'node:worker_threads';
import { setPhysicsThreadStarter } from './cartpole_vector.js';

setPhysicsThreadStarter((source, workerData) => {
  const worker = new Worker(source, { eval: true, workerData });
  worker.unref();
  return worker;
});

/**
 * Values that are plain on backends with synchronous reads (cpu, wasm, tensorflow) and Promises on GPU
 * backends (webgpu), chained without adding a Promise or a microtask where there was none: the wasm hot
 * path (act, update, act …) stays synchronous, and the same code awaits on webgpu.
 */
import { readTensor, tf } from './compute.js';

/** A value now, or later. */
export type MaybePromise<T> = T | Promise<T>;

/** `f(value)` now when `value` is plain, else once it resolves. */
export function andThen<T, U>(value: MaybePromise<T>, f: (v: T) => MaybePromise<U>): MaybePromise<U> {
  return value instanceof Promise ? value.then(f) : f(value);
}

/** Runs `body(i)` for i = 0 … n − 1 in order, each after the previous one's result (if a Promise) settled. */
export function forEachInOrder(n: number, body: (i: number) => MaybePromise<void>): MaybePromise<void> {
  for (let i = 0; i < n; i++) {
    const r = body(i);
    if (r instanceof Promise) return r.then(() => forEachInOrder2(i + 1, n, body));
  }
}

async function forEachInOrder2(from: number, n: number, body: (i: number) => MaybePromise<void>): Promise<void> {
  for (let i = from; i < n; i++) await body(i);
}

/** A float tensor's values, read back (synchronously where the backend can), and the tensor disposed. */
export function readAndDispose(t: tf.Tensor): MaybePromise<Float32Array> {
  return andThen(readTensor(t) as MaybePromise<Float32Array>, (values) => {
    t.dispose();
    return values;
  });
}

/**
 * Runs a generator that yields values-or-Promises and is resumed with each one's value: synchronously for as
 * long as the values are plain, then asynchronously from the first Promise on. One loop, written once, serves
 * both kinds of backend (PPO's epochs of minibatch steps, each needing the weights the previous one left).
 */
export function drive<T, R>(steps: Generator<MaybePromise<T>, R, T>): MaybePromise<R> {
  let next = steps.next(undefined as T);
  while (!next.done) {
    const value = next.value;
    if (value instanceof Promise) return value.then((v) => driveAsync(steps, v));
    next = steps.next(value);
  }
  return next.value;
}

async function driveAsync<T, R>(steps: Generator<MaybePromise<T>, R, T>, first: T): Promise<R> {
  let next = steps.next(first);
  while (!next.done) next = steps.next(await next.value);
  return next.value;
}

/**
 * Environment throughput: steps per second with random actions, single env (bare class and through make(),
 * i.e. with EnvChecker + OrderEnforcing + TimeLimit) and vectorised (batched Cart-Pole at N = 1, 64, 512,
 * 4096, also with 2 threads and without copying outputs; sync vector envs for the rest). Random actions are
 * drawn up front from a seeded RNG so that the figures measure the environments, not the sampler; Go envs,
 * which refuse illegal moves, play the drawn number's legal move from `info.actionMask`; Box actions (Pendulum,
 * MountainCarContinuous) are drawn uniformly over the bounds widened by a quarter on each side, so the envs also
 * clip. The classic-control envs without a batched version run as sync vector envs. Prints one JSON object.
 *
 *   npm run bench:envs            # full run (about a minute)
 *   npm run bench:envs -- --quick # shorter measurements
 */
import os from 'node:os';
import { Box, Rng, envIds, make, makeVec, registration, type Env, type Space, type VectorEnv } from '../envs/index.js';

const quick = process.argv.includes('--quick');
const SECONDS = quick ? 0.3 : 1.5;
const POOL = 1 << 16;

function actionPool(n: number, seed: number): Int32Array {
  const rng = new Rng(seed);
  return Int32Array.from({ length: POOL }, () => rng.integer(n));
}

/** Runs `chunk` repeatedly until `SECONDS` have passed (after a warm-up) and returns units per second. */
function measure(chunk: () => number): number {
  const warmEnd = performance.now() + 200;
  while (performance.now() < warmEnd) chunk();
  let units = 0;
  const start = performance.now();
  let now = start;
  while (now - start < SECONDS * 1000) {
    units += chunk();
    now = performance.now();
  }
  return (units / (now - start)) * 1000;
}

/** The action to play: the drawn one, or for envs that mask illegal actions (Go) the (drawn mod count)-th legal one. */
function legalAction(drawn: number, info: Record<string, unknown>): number {
  const mask = info.actionMask as ArrayLike<number> | undefined;
  if (!mask) return drawn;
  let legal = 0;
  for (let a = 0; a < mask.length; a++) legal += mask[a] ? 1 : 0;
  let target = drawn % legal;
  for (let a = 0; a < mask.length; a++) if (mask[a] && target-- === 0) return a;
  throw new Error('no legal action');
}

/** `count` random Box actions (rows of the flat size) over the bounds widened by a quarter each side. */
function boxPool(space: Box, count: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  const out = new Float32Array(count * space.size);
  for (let i = 0; i < out.length; i++) {
    const k = i % space.size;
    const lo = space.low[k]!;
    const hi = space.high[k]!;
    out[i] = rng.uniform(lo - (hi - lo) / 4, hi + (hi - lo) / 4);
  }
  return out;
}

const discreteCount = (space: Space): number => (space as unknown as { n: number }).n;

function singleRate(env: Env<unknown, unknown>): number {
  const space = env.actionSpace;
  if (space instanceof Box) {
    const flat = boxPool(space, POOL, 1);
    const rows = Array.from({ length: POOL }, (_, i) => flat.subarray(i * space.size, (i + 1) * space.size));
    env.reset({ seed: 0 });
    let k = 0;
    return measure(() => {
      for (let i = 0; i < 10_000; i++) {
        const r = env.step(rows[k++ & (POOL - 1)]!);
        if (r[2] || r[3]) env.reset();
      }
      return 10_000;
    });
  }
  const actions = actionPool(discreteCount(space), 1);
  let info = env.reset({ seed: 0 })[1] as Record<string, unknown>;
  let k = 0;
  return measure(() => {
    for (let i = 0; i < 10_000; i++) {
      const r = env.step(legalAction(actions[k++ & (POOL - 1)]!, info));
      info = r[4] as Record<string, unknown>;
      if (r[2] || r[3]) info = env.reset()[1] as Record<string, unknown>;
    }
    return 10_000;
  });
}

function vectorRate(envs: VectorEnv): number {
  try {
    return vectorRateOf(envs);
  } finally {
    envs.close();
  }
}

function vectorRateOf(envs: VectorEnv): number {
  const n = envs.numEnvs;
  const space = envs.singleActionSpace;
  const batches = Array.from({ length: 64 }, (_, b) => (space instanceof Box ? boxPool(space, n, b) : actionPool(discreteCount(space), b).subarray(0, n)));
  envs.reset({ seed: 0 });
  let k = 0;
  const steps = Math.max(1, Math.floor(100_000 / n));
  return measure(() => {
    for (let i = 0; i < steps; i++) envs.step(batches[k++ & 63]!);
    return steps * n;
  });
}

const round = (v: number) => Math.round(v);
const single: Record<string, { bare: number; make: number }> = {};
for (const id of envIds()) {
  const bare = registration(id).entryPoint({ ...registration(id).kwargs });
  single[id] = { bare: round(singleRate(bare)), make: round(singleRate(make(id))) };
}

const cartPoleBatched: Record<string, number> = {};
for (const n of [1, 64, 512, 4096]) cartPoleBatched[`N=${n}`] = round(vectorRate(makeVec('CartPole-v1', n)));
const cartPoleBatchedNoCopy: Record<string, number> = {};
for (const n of [512, 4096]) cartPoleBatchedNoCopy[`N=${n}`] = round(vectorRate(makeVec('CartPole-v1', n, { copy: false })));
// Physics split across this thread and one worker thread (the machine has 2 cores).
const cartPoleBatchedTwoThreads: Record<string, number> = {};
for (const n of [4096, 16384]) cartPoleBatchedTwoThreads[`N=${n}`] = round(vectorRate(makeVec('CartPole-v1', n, { threads: 2 })));
const cartPoleBatchedTwoThreadsNoCopy: Record<string, number> = {};
for (const n of [4096, 16384]) cartPoleBatchedTwoThreadsNoCopy[`N=${n}`] = round(vectorRate(makeVec('CartPole-v1', n, { threads: 2, copy: false })));

const syncVector: Record<string, number> = {};
for (const id of ['CartPole-v1', 'Acrobot-v1', 'MountainCar-v0', 'MountainCarContinuous-v0', 'Pendulum-v1', 'FrozenLake-v1', 'Taxi-v4', 'Snake-v0']) {
  syncVector[`${id} N=64`] = round(vectorRate(makeVec(id, 64, { vectorizationMode: 'sync' })));
}

console.log(
  JSON.stringify({
    benchmark: 'envs',
    unit: 'env-steps/s',
    actions: 'uniform random, pre-drawn from a seeded RNG',
    single,
    cartPoleBatched,
    cartPoleBatchedNoCopy,
    cartPoleBatchedTwoThreads,
    cartPoleBatchedTwoThreadsNoCopy,
    syncVector,
    targets: { 'CartPole-v1 single': 3_000_000, 'CartPole batched N=4096': 20_000_000 },
    reference: {
      note: 'Gymnasium 1.3 / numpy 2.4 on this class of 2-vCPU machine (shared/notes/rl-anchors.md §6)',
      'CartPole-v1 single': '60k-150k',
      'CartPoleVectorEnv N=4096': 8_500_000,
    },
    machine: { node: process.version, cpus: os.cpus().length, cpu: os.cpus()[0]?.model ?? 'unknown' },
    quick,
  }),
);

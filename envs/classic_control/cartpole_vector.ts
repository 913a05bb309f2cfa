/**
 * Batched Cart-Pole: N poles stepped in one tight loop over struct-of-arrays float64 state, optionally split
 * across worker threads that share the state through SharedArrayBuffers.
 *
 * Sub-env i has its own RNG (seeded seed + i) drawn exactly as the single env draws, so with the same seeds
 * and actions every sub-env follows the same trajectory as `make('CartPole-v1')`, bit for bit. Time limits
 * are built in (no TimeLimit wrapper). Resets and all RNG use stay on the calling thread; the workers only
 * integrate the physics of their slice of sub-envs, so results do not depend on the number of threads.
 * The threads are Node's worker_threads, started through cartpole_threads.ts (envs/index.ts imports it): this
 * file stays browser-safe, and a page runs the batched env on one thread.
 */
import { EnvError, type AutoresetMode, type EnvMetadata, type EnvSnapshot } from '../core.js';
import type { CartPoleFrame } from '../frames.js';
import { Discrete } from '../spaces.js';
import { Rng, describeValue } from '../utils/seeding.js';
import {
  VectorEnv,
  checkAutoresetMode,
  checkNumEnvs,
  resetMaskOf,
  subEnvSeeds,
  type VectorInfo,
  type VectorResetArgs,
  type VectorStepResult,
} from '../vector.js';
import {
  FORCE_MAG,
  GRAVITY,
  LENGTH,
  MASSPOLE,
  POLEMASS_LENGTH,
  RESET_BOUND,
  TAU,
  THETA_THRESHOLD_RADIANS,
  TOTAL_MASS,
  X_THRESHOLD,
  cartPoleFrame,
  checkOptions,
  observationSpace,
  resetBounds,
  type CartPoleOptions,
} from './cartpole.js';

/** `ended` values: running, ended at an earlier step (reset pending); `integrate` marks 2 = ended at this step. */
const RUNNING = 0;
const ENDED_BEFORE = 1;

/** Shared views of the batched state, the same on every thread. */
interface Buffers {
  x: Float64Array;
  xDot: Float64Array;
  theta: Float64Array;
  thetaDot: Float64Array;
  rewards: Float64Array;
  obs: Float32Array;
  steps: Int32Array;
  actions: Uint8Array;
  ended: Uint8Array;
  terminations: Uint8Array;
  truncations: Uint8Array;
  /** [g, m_p, M, l, m_p·l, F, τ, θ_max, x_max, step limit, step reward, end reward] */
  params: Float64Array;
}

function allocateBuffers(n: number, shared: boolean): Buffers {
  const bytes = n * (5 * 8 + 4 * 4 + 4 + 4) + 12 * 8;
  const memory = shared ? new SharedArrayBuffer(bytes) : new ArrayBuffer(bytes);
  let offset = 0;
  const take = <T>(Ctor: new (b: ArrayBufferLike, o: number, l: number) => T, length: number, size: number): T => {
    const view = new Ctor(memory, offset, length);
    offset += length * size;
    return view;
  };
  // Largest element size first keeps every view aligned.
  return {
    params: take(Float64Array, 12, 8),
    x: take(Float64Array, n, 8),
    xDot: take(Float64Array, n, 8),
    theta: take(Float64Array, n, 8),
    thetaDot: take(Float64Array, n, 8),
    rewards: take(Float64Array, n, 8),
    obs: take(Float32Array, 4 * n, 4),
    steps: take(Int32Array, n, 4),
    actions: take(Uint8Array, n, 1),
    ended: take(Uint8Array, n, 1),
    terminations: take(Uint8Array, n, 1),
    truncations: take(Uint8Array, n, 1),
  };
}

/**
 * Integrates sub-envs [lo, hi) that are running; marks those that end with ENDED_NOW. Self-contained (no
 * outer references) because worker threads receive it as source text.
 */
function integrate(b: Buffers, lo: number, hi: number): void {
  const { x, xDot, theta, thetaDot, rewards, obs, steps, actions, ended, terminations, truncations, params } = b;
  const gravity = params[0]!;
  const masspole = params[1]!;
  const totalMass = params[2]!;
  const length = params[3]!;
  const polemassLength = params[4]!;
  const forceMag = params[5]!;
  const tau = params[6]!;
  const thetaMax = params[7]!;
  const xMax = params[8]!;
  const limit = params[9]!;
  const stepReward = params[10]!;
  const endReward = params[11]!;
  for (let i = lo; i < hi; i++) {
    if (ended[i] !== 0) continue;
    const th = theta[i]!;
    const thDot = thetaDot[i]!;
    const v = xDot[i]!;
    const force = actions[i] === 1 ? forceMag : -forceMag;
    const costheta = Math.cos(th);
    const sintheta = Math.sin(th);
    // Same operations in the same order as CartPoleEnv.step, so results agree bit for bit.
    const temp = (force + polemassLength * thDot * thDot * sintheta) / totalMass;
    const thetaacc = (gravity * sintheta - costheta * temp) / (length * (4.0 / 3.0 - (masspole * (costheta * costheta)) / totalMass));
    const xacc = temp - (polemassLength * thetaacc * costheta) / totalMass;
    const nx = x[i]! + tau * v;
    const nv = v + tau * xacc;
    const nth = th + tau * thDot;
    const nthDot = thDot + tau * thetaacc;
    x[i] = nx;
    xDot[i] = nv;
    theta[i] = nth;
    thetaDot[i] = nthDot;
    obs[4 * i] = nx;
    obs[4 * i + 1] = nv;
    obs[4 * i + 2] = nth;
    obs[4 * i + 3] = nthDot;
    const count = ++steps[i]!;
    const term = nx < -xMax || nx > xMax || nth < -thetaMax || nth > thetaMax;
    const trunc = count >= limit;
    rewards[i] = term ? endReward : stepReward;
    terminations[i] = term ? 1 : 0;
    truncations[i] = trunc ? 1 : 0;
    if (term || trunc) ended[i] = 2;
  }
}

/**
 * Worker protocol over a shared Int32Array `control`: [0] generation posted by the main thread (−1 = stop),
 * [1] generation the worker has finished, [2] 1 if the worker failed. The worker sleeps in Atomics.wait.
 */
const WORKER_SOURCE = `
const { workerData } = require('node:worker_threads');
const integrate = ${integrate.toString()};
const { buffers, control, lo, hi } = workerData;
let seen = 0;
for (;;) {
  Atomics.wait(control, 0, seen);
  const generation = Atomics.load(control, 0);
  if (generation < 0) break;
  try {
    integrate(buffers, lo, hi);
  } catch (err) {
    Atomics.store(control, 2, 1);
  }
  seen = generation;
  Atomics.store(control, 1, generation);
  Atomics.notify(control, 1);
}
`;

/** A running physics thread: enough to stop it. */
export interface PhysicsThread {
  terminate(): unknown;
}

/** Starts a thread that evaluates `source` with `workerData` (Node: an unref'd eval Worker). */
export type PhysicsThreadStarter = (source: string, workerData: unknown) => PhysicsThread;

let startPhysicsThread: PhysicsThreadStarter | null = null;

/** Installs how threads start (cartpole_threads.ts does, in Node); without it only threads: 1 is possible. */
export function setPhysicsThreadStarter(starter: PhysicsThreadStarter): void {
  startPhysicsThread = starter;
}

interface ThreadSlice {
  worker: PhysicsThread;
  control: Int32Array;
}

export interface CartPoleVectorOptions extends CartPoleOptions {
  /** Truncate each sub-env's episode after this many steps (null: never). Default 500. */
  maxEpisodeSteps?: number | null;
  autoresetMode?: AutoresetMode;
  /** Return fresh arrays from reset/step (default) rather than the internal buffers. */
  copy?: boolean;
  /**
   * Threads that integrate the physics (default 1). With k > 1, k − 1 worker threads each take a slice of
   * the sub-envs while the calling thread takes the first; worth it from about N = 1024 up. Call close()
   * to stop the workers (they never keep the process alive).
   */
  threads?: number;
}

export class CartPoleVectorEnv extends VectorEnv<Float32Array> {
  readonly numEnvs: number;
  readonly singleObservationSpace = observationSpace();
  readonly singleActionSpace = new Discrete(2);
  readonly metadata: EnvMetadata & { autoresetMode: AutoresetMode };
  readonly maxEpisodeSteps: number | null;
  readonly suttonBartoReward: boolean;
  readonly threads: number;
  private readonly b: Buffers;
  private readonly rngs: Rng[];
  private readonly copy: boolean;
  private readonly slices: ThreadSlice[] = [];
  /** Sub-envs [0, mainHi) are integrated on the calling thread. */
  private readonly mainHi: number;
  private generation = 0;
  private bounds: [number, number] = [-RESET_BOUND, RESET_BOUND];
  private hasReset = false;
  private closed = false;

  constructor(numEnvs: number, options: CartPoleVectorOptions = {}) {
    super();
    this.numEnvs = checkNumEnvs(numEnvs);
    const { maxEpisodeSteps = 500, autoresetMode = 'next-step', copy = true, threads = 1, ...envOptions } = options;
    this.suttonBartoReward = checkOptions(envOptions, 'CartPoleVectorEnv').suttonBartoReward;
    if (maxEpisodeSteps !== null && (!Number.isSafeInteger(maxEpisodeSteps) || maxEpisodeSteps <= 0)) {
      throw new EnvError(`CartPoleVectorEnv: maxEpisodeSteps must be a positive integer or null, got ${describeValue(maxEpisodeSteps)}`);
    }
    if (!Number.isSafeInteger(threads) || threads < 1 || threads > 64) {
      throw new EnvError(`CartPoleVectorEnv: threads must be an integer from 1 to 64, got ${describeValue(threads)}`);
    }
    if (Math.min(threads, this.numEnvs) > 1 && !startPhysicsThread) {
      throw new EnvError(`CartPoleVectorEnv: threads: ${threads} needs Node's worker threads (import the lab's envs/index.ts); here only threads: 1 runs`);
    }
    this.maxEpisodeSteps = maxEpisodeSteps;
    this.metadata = { renderModes: ['json'], renderFps: 50, autoresetMode: checkAutoresetMode(autoresetMode) };
    this.copy = copy;
    const n = this.numEnvs;
    // No more threads than there are sub-envs.
    this.threads = Math.min(threads, n);
    this.b = allocateBuffers(n, this.threads > 1);
    this.b.params.set([
      GRAVITY,
      MASSPOLE,
      TOTAL_MASS,
      LENGTH,
      POLEMASS_LENGTH,
      FORCE_MAG,
      TAU,
      THETA_THRESHOLD_RADIANS,
      X_THRESHOLD,
      maxEpisodeSteps ?? Infinity,
      this.suttonBartoReward ? 0 : 1,
      this.suttonBartoReward ? -1 : 1,
    ]);
    this.rngs = Array.from({ length: n }, () => new Rng());
    const per = Math.ceil(n / this.threads);
    this.mainHi = Math.min(n, per);
    for (let lo = per; lo < n; lo += per) {
      const control = new Int32Array(new SharedArrayBuffer(3 * 4));
      const worker = startPhysicsThread!(WORKER_SOURCE, { buffers: this.b, control, lo, hi: Math.min(n, lo + per) });
      this.slices.push({ worker, control });
    }
  }

  /** Cart positions, velocities, angles, angular velocities (float64, one entry per sub-env). */
  get x(): Float64Array {
    return this.b.x;
  }
  get xDot(): Float64Array {
    return this.b.xDot;
  }
  get theta(): Float64Array {
    return this.b.theta;
  }
  get thetaDot(): Float64Array {
    return this.b.thetaDot;
  }
  /** Steps taken in each sub-env's current episode. */
  get steps(): Int32Array {
    return this.b.steps;
  }

  private resetOne(i: number): void {
    const rng = this.rngs[i]!;
    const [low, high] = this.bounds;
    const { x, xDot, theta, thetaDot, obs } = this.b;
    // Same draw order as CartPoleEnv.reset: x, xDot, theta, thetaDot.
    x[i] = rng.uniform(low, high);
    xDot[i] = rng.uniform(low, high);
    theta[i] = rng.uniform(low, high);
    thetaDot[i] = rng.uniform(low, high);
    obs[4 * i] = x[i]!;
    obs[4 * i + 1] = xDot[i]!;
    obs[4 * i + 2] = theta[i]!;
    obs[4 * i + 3] = thetaDot[i]!;
    this.b.steps[i] = 0;
    this.b.ended[i] = RUNNING;
  }

  reset(args: VectorResetArgs = {}): [Float32Array, VectorInfo] {
    this.checkOpen();
    const seeds = subEnvSeeds(args.seed, this.numEnvs);
    const mask = resetMaskOf(args.options, this.numEnvs);
    this.bounds = resetBounds(args.options, 'CartPoleVectorEnv.reset');
    for (let i = 0; i < this.numEnvs; i++) {
      if (!mask[i]) continue;
      if (seeds[i] !== undefined) this.rngs[i] = new Rng(seeds[i]);
      this.resetOne(i);
    }
    this.hasReset = true;
    return [this.copy ? this.b.obs.slice() : this.b.obs, {}];
  }

  step(actions: ArrayLike<number>): VectorStepResult<Float32Array> {
    this.checkOpen();
    if (!this.hasReset) throw new EnvError(`${this.name}: cannot call step() before reset(); call envs.reset() first`);
    const n = this.numEnvs;
    if (actions === null || typeof actions !== 'object' || actions.length !== n) {
      throw new EnvError(`${this.name}: expected ${n} actions (one per sub-env), got ${describeValue(actions)}`);
    }
    const b = this.b;
    const mode = this.metadata.autoresetMode;
    for (let i = 0; i < n; i++) {
      const a = actions[i];
      if (a !== 0 && a !== 1) this.checkActions(actions); // throws an error naming the sub-env
      b.actions[i] = a;
    }
    if (mode === 'disabled') {
      const i = b.ended.indexOf(ENDED_BEFORE);
      if (i >= 0) throw new EnvError(`${this.name}: sub-env ${i} has ended and autoreset is disabled; reset it with reset({ options: { resetMask } })`);
    }

    this.integrateAll();

    // Sub-envs that ended earlier are reset now (next-step); those that ended at this step wait (next-step),
    // are reset at once with their final observation kept (same-step), or stay ended (disabled).
    let finalObs: (Float32Array | null)[] | null = null;
    let finalMask: Uint8Array | null = null;
    const { ended, obs, rewards, terminations, truncations } = b;
    for (let i = 0; i < n; i++) {
      const state = ended[i];
      if (state === RUNNING) continue;
      if (state === ENDED_BEFORE) {
        this.resetOne(i);
        rewards[i] = 0;
        terminations[i] = 0;
        truncations[i] = 0;
      } else {
        // ENDED_NOW
        if (mode === 'same-step') {
          this.keepFinalState(i);
          finalObs ??= new Array<Float32Array | null>(n).fill(null);
          finalMask ??= new Uint8Array(n);
          finalObs[i] = obs.slice(4 * i, 4 * i + 4);
          finalMask[i] = 1;
          this.resetOne(i);
        } else {
          ended[i] = ENDED_BEFORE;
        }
      }
    }
    const infos: VectorInfo = {};
    if (finalObs) {
      infos.finalObs = finalObs;
      infos._finalObs = finalMask;
      // Cart-Pole's infos are empty, so the batched final infos are too (as Gymnasium batches them).
      infos.finalInfo = {};
      infos._finalInfo = finalMask;
    }
    if (this.copy) return [obs.slice(), rewards.slice(), terminations.slice(), truncations.slice(), infos];
    return [obs, rewards, terminations, truncations, infos];
  }

  private integrateAll(): void {
    if (this.slices.length === 0) {
      integrate(this.b, 0, this.numEnvs);
      return;
    }
    const generation = ++this.generation;
    for (const { control } of this.slices) {
      Atomics.store(control, 0, generation);
      Atomics.notify(control, 0);
    }
    integrate(this.b, 0, this.mainHi);
    for (const { control } of this.slices) {
      // Spin briefly (the worker is usually done), then sleep; a worker that never answers is an error.
      let spins = 0;
      while (Atomics.load(control, 1) !== generation) {
        if (++spins < 20_000) continue;
        if (Atomics.wait(control, 1, generation - 1, 10_000) === 'timed-out') {
          throw new EnvError(`${this.name}: a physics worker thread did not answer within 10 s`);
        }
      }
      if (Atomics.load(control, 2) !== 0) throw new EnvError(`${this.name}: a physics worker thread failed`);
    }
  }

  render(): CartPoleFrame[] {
    if (!this.hasReset) throw new EnvError(`${this.name}: call reset() before render()`);
    const { x, xDot, theta, thetaDot, steps, actions } = this.b;
    // b.actions holds the last action of every sub-env; right after a reset (0 steps) there is none.
    return Array.from({ length: this.numEnvs }, (_, i) => cartPoleFrame(x[i]!, xDot[i]!, theta[i]!, thetaDot[i]!, steps[i] === 0 ? null : actions[i]!));
  }

  override renderEnv(i: number): CartPoleFrame {
    if (!this.hasReset) throw new EnvError(`${this.name}: call reset() before render()`);
    this.checkIndex(i);
    const { x, xDot, theta, thetaDot, steps, actions } = this.b;
    return cartPoleFrame(x[i]!, xDot[i]!, theta[i]!, thetaDot[i]!, steps[i] === 0 ? null : actions[i]!);
  }

  /**
   * Sub-env i as `make('CartPole-v1', { maxEpisodeSteps })` would hold it: TimeLimit (steps taken, when
   * there is a limit) around OrderEnforcing around the CartPoleEnv (float64 state, steps beyond
   * termination, last action, RNG); EnvChecker keeps no state. The key order follows those snapshots.
   */
  override snapshotEnv(i: number): EnvSnapshot {
    this.checkIndex(i);
    const { x, xDot, theta, thetaDot, steps, actions, ended, terminations } = this.b;
    const core: EnvSnapshot = {
      state: this.hasReset ? [x[i]!, xDot[i]!, theta[i]!, thetaDot[i]!] : null,
      // The single env counts steps beyond termination from 0 once it has terminated (reset clears it).
      stepsBeyondTerminated: this.hasReset && ended[i] !== RUNNING && terminations[i] === 1 ? 0 : null,
      lastAction: this.hasReset && steps[i] !== 0 ? actions[i]! : null,
      rng: this.rngs[i]!.toJSON(),
    };
    const ordered: EnvSnapshot = { hasReset: this.hasReset, inner: core };
    return this.maxEpisodeSteps === null ? ordered : { elapsed: steps[i]!, inner: ordered };
  }

  override snapshot(): EnvSnapshot {
    const { x, xDot, theta, thetaDot, steps, actions, ended } = this.b;
    return {
      x: Array.from(x),
      xDot: Array.from(xDot),
      theta: Array.from(theta),
      thetaDot: Array.from(thetaDot),
      steps: Array.from(steps),
      actions: Array.from(actions),
      ended: Array.from(ended),
      rngs: this.rngs.map((r) => r.toJSON()),
      bounds: this.bounds,
      hasReset: this.hasReset,
    };
  }

  override restore(s: EnvSnapshot): void {
    const rngs = s.rngs as ReturnType<Rng['toJSON']>[];
    if (!Array.isArray(rngs) || rngs.length !== this.numEnvs) {
      throw new EnvError(`${this.name}: snapshot has ${rngs?.length} sub-envs, this vector env has ${this.numEnvs}`);
    }
    const b = this.b;
    b.x.set(s.x as number[]);
    b.xDot.set(s.xDot as number[]);
    b.theta.set(s.theta as number[]);
    b.thetaDot.set(s.thetaDot as number[]);
    b.steps.set(s.steps as number[]);
    b.actions.set(s.actions as number[]);
    b.ended.set(s.ended as number[]);
    for (let i = 0; i < this.numEnvs; i++) {
      this.rngs[i] = Rng.fromJSON(rngs[i]!);
      const o = 4 * i;
      [b.obs[o], b.obs[o + 1], b.obs[o + 2], b.obs[o + 3]] = [b.x[i]!, b.xDot[i]!, b.theta[i]!, b.thetaDot[i]!];
    }
    this.bounds = s.bounds as [number, number];
    this.hasReset = s.hasReset === true;
  }

  override close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const { worker, control } of this.slices) {
      Atomics.store(control, 0, -1);
      Atomics.notify(control, 0);
      void worker.terminate();
    }
  }

  private checkOpen(): void {
    if (this.closed) throw new EnvError(`${this.name}: the env is closed`);
  }
}

/**
 * Vector environments (Gymnasium 1.x `gymnasium.vector`): N copies of an env stepped together, with
 * batched typed arrays in and out.
 *
 *   const envs = makeVec('CartPole-v1', 512, { autoresetMode: 'next-step' });
 *   let [obs] = envs.reset({ seed: 1 });            // sub-env i is seeded with 1 + i
 *   const [obs2, rewards, terminations, truncations, infos] = envs.step(actions);
 *
 * Layout: `obs` is row-major with shape [numEnvs, ...singleObservationSpace.shape] (Float32Array for Box
 * observations, Int32Array for Discrete ones); `rewards` Float64Array; `terminations`/`truncations` Uint8Array
 * of 0/1. `infos` holds, per key found in any sub-env's info, an array with one slot per sub-env plus a
 * mask `_key` (Uint8Array) that is 1 where the sub-env set that key.
 *
 * Autoreset modes, chosen at construction (`metadata.autoresetMode`):
 * - `next-step` (Gymnasium's default since 1.0): the step that ends sub-env i returns its final observation
 *   with terminated/truncated set. The NEXT call to step() resets sub-env i instead of stepping it: its action
 *   is ignored and it returns the reset observation, reward 0, terminated = truncated = 0. A training loop
 *   must not store the transition from a final observation to that reset observation.
 * - `same-step` (pre-1.0 Gymnasium, SB3 and CleanRL): the ending step resets sub-env i at once; `obs[i]` is the
 *   reset observation, the true final observation is in `infos.finalObs[i]` (mask `_finalObs`), and the
 *   final infos are batched like any info under `infos.finalInfo` (e.g. `infos.finalInfo.actionMask[i]`),
 *   with mask `_finalInfo`.
 * - `disabled`: no autoreset; stepping a finished sub-env is an error; reset it with
 *   `reset({ options: { resetMask } })`.
 */
import { Env, EnvError, InvalidAction, type AutoresetMode, type EnvMetadata, type EnvSnapshot, type EnvSpec, type Info } from './core.js';
import type { RenderFrame } from './frames.js';
import { Box, Discrete, MultiDiscrete, Space, SpaceError, allocate, type TypedArray } from './spaces.js';
import { make, registration, resolveMaxEpisodeSteps, type EnvKwargs } from './registry.js';
import { assertSeed, describeValue } from './utils/seeding.js';

export type VectorInfo = Record<string, unknown>;
export type VectorStepResult<Obs extends TypedArray = TypedArray> = [
  obs: Obs,
  rewards: Float64Array,
  terminations: Uint8Array,
  truncations: Uint8Array,
  infos: VectorInfo,
];

export interface VectorResetArgs {
  /** An integer seeds sub-env i with seed + i; an array gives one seed (or null) per sub-env. */
  seed?: number | readonly (number | null | undefined)[];
  options?: {
    /** Only sub-envs whose mask entry is truthy are reset; the others keep their observation. */
    resetMask?: ArrayLike<number | boolean>;
    [key: string]: unknown;
  };
}

export const AUTORESET_MODES: readonly AutoresetMode[] = ['next-step', 'same-step', 'disabled'];

export function checkAutoresetMode(mode: unknown): AutoresetMode {
  if (!AUTORESET_MODES.includes(mode as AutoresetMode)) {
    throw new EnvError(`autoresetMode must be one of ${AUTORESET_MODES.join(', ')}, got ${describeValue(mode)}`);
  }
  return mode as AutoresetMode;
}

export function checkNumEnvs(numEnvs: unknown): number {
  if (typeof numEnvs !== 'number' || !Number.isSafeInteger(numEnvs) || numEnvs <= 0) {
    throw new EnvError(`numEnvs must be a positive integer, got ${describeValue(numEnvs)}`);
  }
  return numEnvs;
}

/** Per-sub-env seeds from a reset seed argument (undefined: that sub-env continues its RNG). */
export function subEnvSeeds(seed: VectorResetArgs['seed'], numEnvs: number): (number | undefined)[] {
  if (seed === undefined || seed === null) return new Array<undefined>(numEnvs).fill(undefined);
  if (Array.isArray(seed)) {
    if (seed.length !== numEnvs) throw new EnvError(`reset: expected ${numEnvs} seeds, got ${seed.length}`);
    return seed.map((s, i) => {
      if (s === null || s === undefined) return undefined;
      assertSeed(s, `seed[${i}]`);
      return s;
    });
  }
  assertSeed(seed);
  return Array.from({ length: numEnvs }, (_, i) => (seed as number) + i);
}

/** Which sub-envs a reset applies to. */
export function resetMaskOf(options: VectorResetArgs['options'], numEnvs: number): Uint8Array {
  const mask = new Uint8Array(numEnvs).fill(1);
  const given = options?.resetMask;
  if (given === undefined) return mask;
  if (typeof given !== 'object' || given === null || (given as ArrayLike<unknown>).length !== numEnvs) {
    throw new EnvError(`reset: options.resetMask must be an array of ${numEnvs} booleans, got ${describeValue(given)}`);
  }
  for (let i = 0; i < numEnvs; i++) mask[i] = given[i] ? 1 : 0;
  return mask;
}

/** The space of a batch of n values of `space`. */
export function batchSpace(space: Space, n: number): Space {
  if (space instanceof Discrete) return new MultiDiscrete(new Array(n).fill(space.n), new Array(n).fill(space.start));
  if (space instanceof Box) {
    const tile = (a: TypedArray) => {
      const out = new Float64Array(a.length * n);
      for (let i = 0; i < n; i++) out.set(a, i * a.length);
      return out;
    };
    return new Box(tile(space.low), tile(space.high), [n, ...space.shape], space.dtype);
  }
  if (space instanceof MultiDiscrete) {
    const nvec = new Array<number>(n).fill(0).flatMap(() => Array.from(space.nvec));
    return new MultiDiscrete(nvec, new Array<number>(n).fill(0).flatMap(() => Array.from(space.start)));
  }
  throw new SpaceError(`vector envs support Discrete, Box and MultiDiscrete spaces, not ${space}`);
}

/** Number of array elements one value of `space` occupies in a batch. */
export function batchWidth(space: Space): number {
  if (space instanceof Discrete) return 1;
  if (space instanceof Box) return space.size;
  if (space instanceof MultiDiscrete) return space.nvec.length;
  throw new SpaceError(`vector envs support Discrete, Box and MultiDiscrete spaces, not ${space}`);
}

function batchArray(space: Space, n: number): TypedArray {
  if (space instanceof Box) return allocate(space.dtype, n * space.size);
  return new Int32Array(n * batchWidth(space));
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !ArrayBuffer.isView(v) && Object.getPrototypeOf(v) === Object.prototype;
}

/**
 * Merges sub-env i's info into the batched `infos` (Gymnasium's `_add_info`): numbers go into Float64Array,
 * booleans into Uint8Array, anything else into a plain array; nested objects are merged recursively; the
 * mask `_key` marks which sub-envs set `key`.
 */
export function addInfo(infos: VectorInfo, info: Info, i: number, numEnvs: number): VectorInfo {
  for (const [key, value] of Object.entries(info)) {
    const maskKey = `_${key}`;
    let mask = infos[maskKey] as Uint8Array | undefined;
    if (!mask) infos[maskKey] = mask = new Uint8Array(numEnvs);
    mask[i] = 1;
    if (isPlainObject(value)) {
      infos[key] = addInfo((infos[key] as VectorInfo | undefined) ?? {}, value, i, numEnvs);
      continue;
    }
    let slot = infos[key] as unknown[] | Float64Array | Uint8Array | undefined;
    const fits =
      (slot instanceof Float64Array && typeof value === 'number') || (slot instanceof Uint8Array && typeof value === 'boolean') || Array.isArray(slot);
    if (slot === undefined) {
      slot = typeof value === 'number' ? new Float64Array(numEnvs) : typeof value === 'boolean' ? new Uint8Array(numEnvs) : new Array(numEnvs).fill(null);
      infos[key] = slot;
    } else if (!fits) {
      // Mixed types across sub-envs: fall back to a plain array.
      slot = Array.from(slot as ArrayLike<unknown>, (v, j) => ((mask![j] && j !== i) ? v : null));
      infos[key] = slot;
    }
    (slot as unknown[])[i] = typeof value === 'boolean' && slot instanceof Uint8Array ? (value ? 1 : 0) : value;
  }
  return infos;
}

export abstract class VectorEnv<Obs extends TypedArray = TypedArray> {
  abstract readonly numEnvs: number;
  abstract readonly singleObservationSpace: Space;
  abstract readonly singleActionSpace: Space;
  abstract readonly metadata: EnvMetadata & { autoresetMode: AutoresetMode };
  spec: EnvSpec | null = null;
  private batchedObservationSpace: Space | null = null;
  private batchedActionSpace: Space | null = null;

  /** The space of a whole batch of observations, shape [numEnvs, ...]. */
  get observationSpace(): Space {
    return (this.batchedObservationSpace ??= batchSpace(this.singleObservationSpace, this.numEnvs));
  }

  /** The space of a whole batch of actions (MultiDiscrete for Discrete sub-envs). */
  get actionSpace(): Space {
    return (this.batchedActionSpace ??= batchSpace(this.singleActionSpace, this.numEnvs));
  }

  abstract reset(args?: VectorResetArgs): [obs: Obs, infos: VectorInfo];
  abstract step(actions: ArrayLike<number>): VectorStepResult<Obs>;
  /** One frame per sub-env. */
  abstract render(): (RenderFrame | string)[];
  close(): void {}

  /** JSON state of every sub-env and the autoreset bookkeeping (see `Env.snapshot`). */
  snapshot(): EnvSnapshot {
    throw new EnvError(`${this.constructor.name} does not support snapshot()`);
  }

  restore(_snapshot: EnvSnapshot): void {
    throw new EnvError(`${this.constructor.name} does not support restore()`);
  }

  /**
   * Sub-env i's state as a single-env snapshot: the JSON that `make(spec.id, { ...spec.kwargs,
   * maxEpisodeSteps })` produces after the same history, so that a fresh env built that way `restore()`s it
   * and steps on bit for bit (replay logs start training episodes from it).
   */
  snapshotEnv(_i: number): EnvSnapshot {
    throw new EnvError(`${this.constructor.name} does not support snapshotEnv()`);
  }

  /** `render()` of sub-env i alone. */
  renderEnv(i: number): RenderFrame | string {
    this.checkIndex(i);
    return this.render()[i]!;
  }

  private finalWatch: Uint8Array | null = null;
  private finalSnapshots: (EnvSnapshot | null)[] = [];

  /**
   * Same-step autoreset resets a finished sub-env inside `step()`, so its final state is gone when the step
   * returns. While watched, the step that ends sub-env i keeps `snapshotEnv(i)` of the final state (taken
   * just before the reset) for `takeFinalSnapshot(i)`. Costs nothing for unwatched sub-envs.
   */
  watchFinalState(i: number, on = true): void {
    this.checkIndex(i);
    this.finalWatch ??= new Uint8Array(this.numEnvs);
    this.finalWatch[i] = on ? 1 : 0;
    if (!on) this.finalSnapshots[i] = null;
  }

  /** The final-state snapshot kept for a watched sub-env by the last step that ended it (then forgotten). */
  takeFinalSnapshot(i: number): EnvSnapshot | null {
    const s = this.finalSnapshots[i] ?? null;
    this.finalSnapshots[i] = null;
    return s;
  }

  /** The kept final-state snapshot of sub-env i without forgetting it (another reader may take it after). */
  peekFinalSnapshot(i: number): EnvSnapshot | null {
    return this.finalSnapshots[i] ?? null;
  }

  /** Subclasses call this just before a same-step autoreset of sub-env i. */
  protected keepFinalState(i: number): void {
    if (this.finalWatch !== null && this.finalWatch[i] === 1) this.finalSnapshots[i] = this.snapshotEnv(i);
  }

  protected checkIndex(i: number): void {
    if (!Number.isSafeInteger(i) || i < 0 || i >= this.numEnvs) throw new EnvError(`${this.name}: sub-env index must be an integer from 0 to ${this.numEnvs - 1}, got ${describeValue(i)}`);
  }

  /**
   * Throws an error naming the sub-env, action and space unless `actions` is a valid batch: one entry per sub-env
   * for Discrete action spaces; numEnvs × the Box's flat size numbers, row-major, for Box ones (any
   * Float32Array/Float64Array/array; values outside the bounds are allowed, the envs clip them).
   */
  protected checkActions(actions: ArrayLike<number>): void {
    const width = batchWidth(this.singleActionSpace);
    if (actions === null || typeof actions !== 'object' || actions.length !== this.numEnvs * width) {
      throw new InvalidAction(`${this.name}: expected ${this.numEnvs * width} actions (one per sub-env), got ${describeValue(actions)}`);
    }
    const space = this.singleActionSpace;
    for (let i = 0; i < this.numEnvs; i++) {
      const a = width === 1 && space instanceof Discrete ? actions[i] : Array.prototype.slice.call(actions, i * width, (i + 1) * width);
      if (space instanceof Box) {
        // Out-of-bound values are clipped by the env, as in Gymnasium; NaN, ±Infinity are errors.
        const problem = space.actionProblem(a);
        if (problem !== null) throw new InvalidAction(`${this.name}: invalid action ${describeValue(a)} for sub-env ${i} (action space ${space}): ${problem}`);
        continue;
      }
      if (!space.contains(a)) {
        throw new InvalidAction(`${this.name}: invalid action ${describeValue(a)} for sub-env ${i}: not in the action space ${space}`);
      }
    }
  }

  protected get name(): string {
    return `${this.spec?.id ?? this.constructor.name} vector env`;
  }

  toString(): string {
    return `<${this.constructor.name}(${this.spec?.id ?? ''}, ${this.numEnvs})>`;
  }
}

export interface SyncVectorEnvOptions {
  autoresetMode?: AutoresetMode;
  /** Return fresh arrays from reset/step (default) rather than the internal buffers. */
  copy?: boolean;
}

/** Steps N ordinary envs one after another in this thread (Gymnasium's SyncVectorEnv). */
export class SyncVectorEnv<Obs extends TypedArray = TypedArray> extends VectorEnv<Obs> {
  readonly envs: Env[];
  readonly numEnvs: number;
  readonly singleObservationSpace: Space;
  readonly singleActionSpace: Space;
  readonly metadata: EnvMetadata & { autoresetMode: AutoresetMode };
  private readonly obsWidth: number;
  private readonly obsBuffer: Obs;
  private readonly rewards: Float64Array;
  private readonly terminations: Uint8Array;
  private readonly truncations: Uint8Array;
  /** 1 where the sub-env's episode ended and it has not been reset yet. */
  private readonly ended: Uint8Array;
  private readonly copy: boolean;
  private hasReset = false;

  constructor(envFns: readonly (() => Env)[], options: SyncVectorEnvOptions = {}) {
    super();
    if (!Array.isArray(envFns) || envFns.length === 0) throw new EnvError('SyncVectorEnv: expected a non-empty array of env factories');
    this.envs = envFns.map((f) => f());
    this.numEnvs = this.envs.length;
    const first = this.envs[0]!;
    this.singleObservationSpace = first.observationSpace;
    this.singleActionSpace = first.actionSpace;
    this.spec = first.spec;
    for (const [i, e] of this.envs.entries()) {
      if (String(e.observationSpace) !== String(first.observationSpace) || String(e.actionSpace) !== String(first.actionSpace)) {
        throw new EnvError(`SyncVectorEnv: sub-env ${i} has different spaces (${e.observationSpace}, ${e.actionSpace}) from sub-env 0`);
      }
    }
    this.metadata = { ...first.metadata, autoresetMode: checkAutoresetMode(options.autoresetMode ?? 'next-step') };
    this.obsWidth = batchWidth(this.singleObservationSpace);
    this.obsBuffer = batchArray(this.singleObservationSpace, this.numEnvs) as Obs;
    this.rewards = new Float64Array(this.numEnvs);
    this.terminations = new Uint8Array(this.numEnvs);
    this.truncations = new Uint8Array(this.numEnvs);
    this.ended = new Uint8Array(this.numEnvs);
    this.copy = options.copy ?? true;
  }

  private writeObs(i: number, obs: unknown): void {
    if (this.obsWidth === 1 && typeof obs === 'number') this.obsBuffer[i] = obs;
    else this.obsBuffer.set(obs as ArrayLike<number>, i * this.obsWidth);
  }

  private out<T extends TypedArray>(a: T): T {
    return this.copy ? (a.slice() as T) : a;
  }

  reset(args: VectorResetArgs = {}): [Obs, VectorInfo] {
    const seeds = subEnvSeeds(args.seed, this.numEnvs);
    const mask = resetMaskOf(args.options, this.numEnvs);
    const { resetMask: _ignored, ...options } = args.options ?? {};
    const infos: VectorInfo = {};
    for (let i = 0; i < this.numEnvs; i++) {
      if (!mask[i]) continue;
      const [obs, info] = this.envs[i]!.reset({ ...(seeds[i] !== undefined ? { seed: seeds[i] } : {}), options });
      this.writeObs(i, obs);
      this.ended[i] = 0;
      addInfo(infos, info, i, this.numEnvs);
    }
    this.hasReset = true;
    return [this.out(this.obsBuffer), infos];
  }

  step(actions: ArrayLike<number>): VectorStepResult<Obs> {
    if (!this.hasReset) throw new EnvError(`${this.name}: cannot call step() before reset(); call envs.reset() first`);
    this.checkActions(actions);
    const mode = this.metadata.autoresetMode;
    const infos: VectorInfo = {};
    const actWidth = batchWidth(this.singleActionSpace);
    for (let i = 0; i < this.numEnvs; i++) {
      const env = this.envs[i]!;
      if (this.ended[i]) {
        if (mode === 'next-step') {
          const [obs, info] = env.reset();
          this.writeObs(i, obs);
          this.rewards[i] = 0;
          this.terminations[i] = 0;
          this.truncations[i] = 0;
          this.ended[i] = 0;
          addInfo(infos, info, i, this.numEnvs);
          continue;
        }
        throw new EnvError(`${this.name}: sub-env ${i} has ended and autoreset is disabled; reset it with reset({ options: { resetMask } })`);
      }
      const action = actWidth === 1 && this.singleActionSpace instanceof Discrete ? actions[i] : Array.prototype.slice.call(actions, i * actWidth, (i + 1) * actWidth);
      const [obs, reward, terminated, truncated, info] = env.step(action);
      this.rewards[i] = reward;
      this.terminations[i] = terminated ? 1 : 0;
      this.truncations[i] = truncated ? 1 : 0;
      if ((terminated || truncated) && mode === 'same-step') {
        this.keepFinalState(i);
        const [resetObs, resetInfo] = env.reset();
        addInfo(infos, { finalObs: obs, finalInfo: info }, i, this.numEnvs);
        addInfo(infos, resetInfo, i, this.numEnvs);
        this.writeObs(i, resetObs);
        continue;
      }
      this.writeObs(i, obs);
      if (terminated || truncated) this.ended[i] = 1;
      addInfo(infos, info, i, this.numEnvs);
    }
    return [this.out(this.obsBuffer), this.out(this.rewards), this.out(this.terminations), this.out(this.truncations), infos];
  }

  render(): (RenderFrame | string)[] {
    return this.envs.map((e) => e.render());
  }

  override renderEnv(i: number): RenderFrame | string {
    this.checkIndex(i);
    return this.envs[i]!.render();
  }

  override snapshot(): EnvSnapshot {
    return { envs: this.envs.map((e) => e.snapshot()), ended: Array.from(this.ended), hasReset: this.hasReset };
  }

  /** The sub-envs are `make()` envs, so their own snapshot is the single-env one. */
  override snapshotEnv(i: number): EnvSnapshot {
    this.checkIndex(i);
    return this.envs[i]!.snapshot();
  }

  override restore(snapshot: EnvSnapshot): void {
    const envs = snapshot.envs as EnvSnapshot[];
    if (!Array.isArray(envs) || envs.length !== this.numEnvs) {
      throw new EnvError(`${this.name}: snapshot has ${envs?.length} sub-envs, this vector env has ${this.numEnvs}`);
    }
    envs.forEach((s, i) => this.envs[i]!.restore(s));
    this.ended.set(snapshot.ended as number[]);
    this.hasReset = snapshot.hasReset === true;
  }

  override close(): void {
    for (const e of this.envs) e.close();
  }
}

/**
 * A vector wrapper (Gymnasium's `VectorWrapper`): passes everything but what it overrides through to `env`.
 */
export abstract class VectorWrapper<Obs extends TypedArray, InnerObs extends TypedArray = Obs> extends VectorEnv<Obs> {
  constructor(readonly env: VectorEnv<InnerObs>) {
    super();
    this.spec = env.spec;
  }
  get numEnvs(): number {
    return this.env.numEnvs;
  }
  get singleObservationSpace(): Space {
    return this.env.singleObservationSpace;
  }
  get singleActionSpace(): Space {
    return this.env.singleActionSpace;
  }
  get metadata(): EnvMetadata & { autoresetMode: AutoresetMode } {
    return this.env.metadata;
  }
  render(): (RenderFrame | string)[] {
    return this.env.render();
  }
  override renderEnv(i: number): RenderFrame | string {
    return this.env.renderEnv(i);
  }
  override snapshotEnv(i: number): EnvSnapshot {
    return this.env.snapshotEnv(i);
  }
  override watchFinalState(i: number, on = true): void {
    this.env.watchFinalState(i, on);
  }
  override takeFinalSnapshot(i: number): EnvSnapshot | null {
    return this.env.takeFinalSnapshot(i);
  }
  override close(): void {
    this.env.close();
  }
}

/**
 * Adds `infos.episode = { r, l, t }` (Float64Arrays) with mask `infos._episode` for sub-envs whose episode
 * ended at this step, and keeps the last `bufferLength` returns and lengths. Handles both autoreset modes.
 */
export class VectorRecordEpisodeStatistics<Obs extends TypedArray = TypedArray> extends VectorWrapper<Obs> {
  readonly returnQueue: number[] = [];
  readonly lengthQueue: number[] = [];
  readonly timeQueue: number[] = [];
  episodeCount = 0;
  private readonly returns: Float64Array;
  private readonly lengths: Float64Array;
  private readonly starts: Float64Array;
  private readonly prevDones: Uint8Array;

  constructor(
    env: VectorEnv<Obs>,
    readonly bufferLength = 100,
  ) {
    super(env);
    this.returns = new Float64Array(env.numEnvs);
    this.lengths = new Float64Array(env.numEnvs);
    this.starts = new Float64Array(env.numEnvs);
    this.prevDones = new Uint8Array(env.numEnvs);
  }

  reset(args: VectorResetArgs = {}): [Obs, VectorInfo] {
    const result = this.env.reset(args);
    const mask = resetMaskOf(args.options, this.numEnvs);
    const now = performance.now();
    for (let i = 0; i < this.numEnvs; i++) {
      if (!mask[i]) continue;
      this.returns[i] = 0;
      this.lengths[i] = 0;
      this.starts[i] = now;
      this.prevDones[i] = 0;
    }
    return result;
  }

  step(actions: ArrayLike<number>): VectorStepResult<Obs> {
    const result = this.env.step(actions);
    const [, rewards, terminations, truncations, infos] = result;
    const now = performance.now();
    const nextStep = this.metadata.autoresetMode === 'next-step';
    let episode: { r: Float64Array; l: Float64Array; t: Float64Array } | null = null;
    let mask: Uint8Array | null = null;
    for (let i = 0; i < this.numEnvs; i++) {
      if (nextStep && this.prevDones[i]) {
        // This step was the reset of sub-env i: a new episode starts, nothing to count.
        this.returns[i] = 0;
        this.lengths[i] = 0;
        this.starts[i] = now;
        this.prevDones[i] = 0;
        continue;
      }
      this.returns[i] += rewards[i]!;
      this.lengths[i] += 1;
      if (terminations[i] || truncations[i]) {
        episode ??= { r: new Float64Array(this.numEnvs), l: new Float64Array(this.numEnvs), t: new Float64Array(this.numEnvs) };
        mask ??= new Uint8Array(this.numEnvs);
        const t = Math.round(now - this.starts[i]!) / 1000;
        episode.r[i] = this.returns[i]!;
        episode.l[i] = this.lengths[i]!;
        episode.t[i] = t;
        mask[i] = 1;
        this.push(this.returns[i]!, this.lengths[i]!, t);
        if (nextStep) this.prevDones[i] = 1;
        else {
          this.returns[i] = 0;
          this.lengths[i] = 0;
          this.starts[i] = now;
        }
      }
    }
    if (episode) {
      infos.episode = episode;
      infos._episode = mask;
    }
    return result;
  }

  private push(r: number, l: number, t: number): void {
    for (const [q, v] of [
      [this.returnQueue, r],
      [this.lengthQueue, l],
      [this.timeQueue, t],
    ] as const) {
      q.push(v);
      if (q.length > this.bufferLength) q.shift();
    }
    this.episodeCount += 1;
  }

  override snapshot(): EnvSnapshot {
    return {
      returns: Array.from(this.returns),
      lengths: Array.from(this.lengths),
      prevDones: Array.from(this.prevDones),
      episodeCount: this.episodeCount,
      queues: [this.returnQueue, this.lengthQueue, this.timeQueue].map((q) => [...q]),
      inner: this.env.snapshot(),
    };
  }

  override restore(snapshot: EnvSnapshot): void {
    this.env.restore(snapshot.inner as EnvSnapshot);
    this.returns.set(snapshot.returns as number[]);
    this.lengths.set(snapshot.lengths as number[]);
    this.prevDones.set(snapshot.prevDones as number[]);
    this.starts.fill(performance.now());
    this.episodeCount = snapshot.episodeCount as number;
    const queues = snapshot.queues as number[][];
    [this.returnQueue, this.lengthQueue, this.timeQueue].forEach((q, i) => q.splice(0, q.length, ...queues[i]!));
  }
}

export interface MakeVecOptions {
  autoresetMode?: AutoresetMode;
  /** `vector-entry-point` (a natively batched implementation, default where registered) or `sync`. */
  vectorizationMode?: 'sync' | 'vector-entry-point';
  /** Overrides the registered time limit; null removes it. */
  maxEpisodeSteps?: number | null;
  /** Return fresh arrays from reset/step (default true) rather than internal buffers reused across steps. */
  copy?: boolean;
  /** Everything else goes to the env constructor (e.g. Cart-Pole's `threads`). */
  [kwarg: string]: unknown;
}

/** Builds `numEnvs` copies of a registered env as one vector env. */
export function makeVec<Obs extends TypedArray = TypedArray>(id: string, numEnvs: number, options: MakeVecOptions = {}): VectorEnv<Obs> {
  const r = registration(id);
  checkNumEnvs(numEnvs);
  const { autoresetMode = 'next-step', vectorizationMode, maxEpisodeSteps, copy = true, ...userKwargs } = options;
  checkAutoresetMode(autoresetMode);
  const mode = vectorizationMode ?? (r.vectorEntryPoint ? 'vector-entry-point' : 'sync');
  if (mode !== 'sync' && mode !== 'vector-entry-point') {
    throw new EnvError(`makeVec('${id}'): vectorizationMode must be 'sync' or 'vector-entry-point', got ${describeValue(mode)}`);
  }
  if (mode === 'vector-entry-point') {
    if (!r.vectorEntryPoint) throw new EnvError(`makeVec('${id}'): no vector entry point is registered; use vectorizationMode 'sync'`);
    const limit = resolveMaxEpisodeSteps(id, maxEpisodeSteps, r.maxEpisodeSteps);
    const kwargs: EnvKwargs = { ...r.kwargs, ...userKwargs };
    const env = r.vectorEntryPoint(numEnvs, { maxEpisodeSteps: limit, autoresetMode, copy, kwargs });
    env.spec = {
      id,
      ...(limit !== null ? { maxEpisodeSteps: limit } : {}),
      ...(r.rewardThreshold !== undefined ? { rewardThreshold: r.rewardThreshold } : {}),
      kwargs,
      nondeterministic: r.nondeterministic ?? false,
    };
    return env as VectorEnv<Obs>;
  }
  const makeOptions = { ...userKwargs, ...(maxEpisodeSteps !== undefined ? { maxEpisodeSteps } : {}) };
  const fns = Array.from({ length: numEnvs }, () => () => make(id, makeOptions));
  return new SyncVectorEnv<Obs>(fns, { autoresetMode, copy });
}

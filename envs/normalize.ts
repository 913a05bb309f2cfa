/**
 * Running normalisation of observations and rewards, as Gymnasium's `NormalizeObservation` and
 * `NormalizeReward` wrappers (single-env and vector versions) compute it, plus the pieces they are built from,
 * which PPO also uses directly (the agent owns its statistics so that checkpoints and saved policies carry them):
 *
 *   RunningMeanStd        mean and variance of a stream of batches (Chan et al.'s parallel merge, float64):
 *                           δ = μ_B − μ,  n' = n + n_B,  μ' = μ + δ n_B / n',
 *                           σ'² = (σ² n + σ_B² n_B + δ² n n_B / n') / n'
 *                         starting at μ = 0, σ² = 1, n = 1e-4 (Gymnasium's and SB3's RunningMeanStd)
 *   normalizeRows         x' = (x − μ) / √(σ² + ε), optionally clipped to ±clip (SB3's VecNormalize clips; the
 *                         Gymnasium wrappers do not)
 *   DiscountedReturnScaler  per sub-env discounted return R ← γ (1 − terminated) R + r, its running variance,
 *                         and r' = r / √(σ_R² + ε) (no mean subtracted). As in Gymnasium, R restarts only on
 *                         `terminated` (a truncated episode's return carries into the next episode).
 *
 * The wrappers keep their statistics in `snapshot()`, so a restored env continues exactly.
 */
import { Wrapper, EnvError, type Env, type EnvSnapshot, type ResetArgs, type ResetResult, type StepResult } from './core.js';
import { Box, type Space } from './spaces.js';
import { VectorEnv, VectorWrapper, type VectorInfo, type VectorResetArgs, type VectorStepResult } from './vector.js';
import type { TypedArray } from './spaces.js';

/** The JSON form of a RunningMeanStd (exact: float64 values survive JSON). */
export interface RunningMeanStdState {
  mean: number[];
  var: number[];
  count: number;
}

/** Running mean and (population) variance per feature of a stream of row batches. */
export class RunningMeanStd {
  readonly mean: Float64Array;
  readonly var: Float64Array;
  count: number;

  constructor(
    readonly size: number,
    epsilon = 1e-4,
  ) {
    if (!Number.isSafeInteger(size) || size <= 0) throw new EnvError(`RunningMeanStd: size must be a positive integer, got ${size}`);
    this.mean = new Float64Array(size);
    this.var = new Float64Array(size).fill(1);
    this.count = epsilon;
  }

  /** Merges the statistics of `n` rows of `x` (row-major, `size` values per row). */
  update(x: ArrayLike<number>, n: number): void {
    if (n <= 0) return;
    const d = this.size;
    if (x.length < n * d) throw new EnvError(`RunningMeanStd: expected ${n} rows of ${d} values, got ${x.length} values`);
    for (let j = 0; j < d; j++) {
      let sum = 0;
      for (let i = 0; i < n; i++) sum += x[i * d + j]!;
      const batchMean = sum / n;
      let sq = 0;
      for (let i = 0; i < n; i++) sq += (x[i * d + j]! - batchMean) ** 2;
      const batchVar = sq / n;
      const delta = batchMean - this.mean[j]!;
      const total = this.count + n;
      this.mean[j] = this.mean[j]! + (delta * n) / total;
      const m2 = this.var[j]! * this.count + batchVar * n + ((delta * delta * this.count) * n) / total;
      this.var[j] = m2 / total;
    }
    this.count += n;
  }

  toJSON(): RunningMeanStdState {
    return { mean: Array.from(this.mean), var: Array.from(this.var), count: this.count };
  }

  /** Restores statistics saved by `toJSON`, checking their size. */
  load(state: RunningMeanStdState, what = 'running statistics'): void {
    if (!state || !Array.isArray(state.mean) || !Array.isArray(state.var) || state.mean.length !== this.size || state.var.length !== this.size || typeof state.count !== 'number') {
      throw new EnvError(`${what}: expected mean and var of ${this.size} numbers and a count`);
    }
    this.mean.set(state.mean);
    this.var.set(state.var);
    this.count = state.count;
  }

  static fromJSON(state: RunningMeanStdState, what?: string): RunningMeanStd {
    const rms = new RunningMeanStd(Array.isArray(state?.mean) && state.mean.length > 0 ? state.mean.length : 1);
    rms.load(state, what);
    return rms;
  }
}

/**
 * (x − μ) / √(σ² + ε) for `n` rows of `x` into `out` (float32), clipped to [−clip, clip] when `clip` is given.
 * The arithmetic is float64, rounded once on the way out.
 */
export function normalizeRows(rms: RunningMeanStd, x: ArrayLike<number>, n: number, epsilon = 1e-8, clip: number | null = null, out: Float32Array = new Float32Array(n * rms.size)): Float32Array {
  const d = rms.size;
  for (let j = 0; j < d; j++) {
    const mu = rms.mean[j]!;
    const std = Math.sqrt(rms.var[j]! + epsilon);
    for (let i = 0; i < n; i++) {
      let v = (x[i * d + j]! - mu) / std;
      if (clip !== null) v = v < -clip ? -clip : v > clip ? clip : v;
      out[i * d + j] = v;
    }
  }
  return out;
}

/** JSON form of a DiscountedReturnScaler. */
export interface ReturnScalerState {
  returns: number[];
  rms: RunningMeanStdState;
}

/** Scales rewards by the running standard deviation of each sub-env's discounted return. */
export class DiscountedReturnScaler {
  readonly returns: Float64Array;
  readonly rms = new RunningMeanStd(1);

  constructor(
    readonly numEnvs: number,
    readonly gamma = 0.99,
    readonly epsilon = 1e-8,
  ) {
    if (!(gamma >= 0 && gamma <= 1)) throw new EnvError(`NormalizeReward: gamma must be in [0, 1], got ${gamma}`);
    this.returns = new Float64Array(numEnvs);
  }

  /**
   * Folds one vector step's rewards into the discounted returns (and, when `update`, into their statistics),
   * then returns r / √(σ_R² + ε), clipped to ±clip when given.
   */
  scale(rewards: ArrayLike<number>, terminations: ArrayLike<number | boolean>, update = true, clip: number | null = null): Float64Array {
    const n = this.numEnvs;
    for (let i = 0; i < n; i++) this.returns[i] = this.returns[i]! * this.gamma * (terminations[i] ? 0 : 1) + rewards[i]!;
    if (update) this.rms.update(this.returns, n);
    const std = Math.sqrt(this.rms.var[0]! + this.epsilon);
    const out = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      let v = rewards[i]! / std;
      if (clip !== null) v = v < -clip ? -clip : v > clip ? clip : v;
      out[i] = v;
    }
    return out;
  }

  toJSON(): ReturnScalerState {
    return { returns: Array.from(this.returns), rms: this.rms.toJSON() };
  }

  load(state: ReturnScalerState, what = 'reward normalisation'): void {
    if (!state || !Array.isArray(state.returns) || state.returns.length !== this.numEnvs) throw new EnvError(`${what}: expected ${this.numEnvs} discounted returns`);
    this.returns.set(state.returns);
    this.rms.load(state.rms, what);
  }
}

function boxSize(space: Space, who: string): number {
  if (!(space instanceof Box)) throw new EnvError(`${who} needs a Box observation space, not ${space}`);
  return space.size;
}

/** An unbounded float32 Box of the same shape: what normalised observations live in. */
function unboundedLike(space: Space): Box {
  return new Box(-Infinity, Infinity, [...(space as Box).shape], 'float32');
}

/**
 * Gymnasium's `NormalizeObservation`: each observation is folded into running statistics (while
 * `updateRunningMean` is true) and returned as (obs − μ) / √(σ² + ε), float32.
 */
export class NormalizeObservation<Act> extends Wrapper<Float32Array, Act, TypedArray, Act> {
  readonly obsRms: RunningMeanStd;
  /** False freezes the statistics (evaluation). */
  updateRunningMean = true;
  private readonly space: Box;

  constructor(
    env: Env<TypedArray, Act>,
    readonly epsilon = 1e-8,
  ) {
    super(env);
    this.obsRms = new RunningMeanStd(boxSize(env.observationSpace, 'NormalizeObservation'));
    this.space = unboundedLike(env.observationSpace);
  }

  override get observationSpace(): Space<Float32Array> {
    return this.space as unknown as Space<Float32Array>;
  }

  private normalize(obs: TypedArray): Float32Array {
    if (this.updateRunningMean) this.obsRms.update(obs, 1);
    return normalizeRows(this.obsRms, obs, 1, this.epsilon);
  }

  override reset(args: ResetArgs = {}): ResetResult<Float32Array> {
    const [obs, info] = this.env.reset(args);
    return [this.normalize(obs), info];
  }

  override step(action: Act): StepResult<Float32Array> {
    const [obs, reward, terminated, truncated, info] = this.env.step(action);
    return [this.normalize(obs), reward, terminated, truncated, info];
  }

  override snapshot(): EnvSnapshot {
    return { obsRms: this.obsRms.toJSON(), updateRunningMean: this.updateRunningMean, inner: this.env.snapshot() };
  }

  override restore(snapshot: EnvSnapshot): void {
    this.env.restore(snapshot.inner as EnvSnapshot);
    this.obsRms.load(snapshot.obsRms as RunningMeanStdState, 'NormalizeObservation snapshot');
    this.updateRunningMean = snapshot.updateRunningMean !== false;
  }
}

/**
 * Gymnasium's `NormalizeReward`: rewards divided by the running standard deviation of the discounted return
 * R ← γ (1 − terminated) R + r (the statistics update while `updateRunningMean` is true).
 */
export class NormalizeReward<Obs, Act> extends Wrapper<Obs, Act> {
  readonly scaler: DiscountedReturnScaler;
  updateRunningMean = true;

  constructor(env: Env<Obs, Act>, gamma = 0.99, epsilon = 1e-8) {
    super(env);
    this.scaler = new DiscountedReturnScaler(1, gamma, epsilon);
  }

  override step(action: Act): StepResult<Obs> {
    const result = this.env.step(action);
    result[1] = this.scaler.scale([result[1]], [result[2]], this.updateRunningMean)[0]!;
    return result;
  }

  override snapshot(): EnvSnapshot {
    return { scaler: this.scaler.toJSON(), updateRunningMean: this.updateRunningMean, inner: this.env.snapshot() };
  }

  override restore(snapshot: EnvSnapshot): void {
    this.env.restore(snapshot.inner as EnvSnapshot);
    this.scaler.load(snapshot.scaler as ReturnScalerState, 'NormalizeReward snapshot');
    this.updateRunningMean = snapshot.updateRunningMean !== false;
  }
}

/**
 * Gymnasium's vector `NormalizeObservation`: each batch of observations updates the statistics (while
 * `updateRunningMean` is true) and comes back normalised. Final observations in `infos.finalObs` are left raw,
 * as Gymnasium leaves them.
 */
export class VectorNormalizeObservation extends VectorWrapper<Float32Array, TypedArray> {
  readonly obsRms: RunningMeanStd;
  updateRunningMean = true;
  private readonly space: Box;

  constructor(
    env: VectorEnv<TypedArray>,
    readonly epsilon = 1e-8,
  ) {
    super(env);
    this.obsRms = new RunningMeanStd(boxSize(env.singleObservationSpace, 'NormalizeObservation'));
    this.space = unboundedLike(env.singleObservationSpace);
  }

  override get singleObservationSpace(): Space {
    return this.space;
  }

  private normalize(obs: TypedArray): Float32Array {
    if (this.updateRunningMean) this.obsRms.update(obs, this.numEnvs);
    return normalizeRows(this.obsRms, obs, this.numEnvs, this.epsilon);
  }

  reset(args: VectorResetArgs = {}): [Float32Array, VectorInfo] {
    const [obs, infos] = this.env.reset(args);
    return [this.normalize(obs), infos];
  }

  step(actions: ArrayLike<number>): VectorStepResult<Float32Array> {
    const [obs, rewards, terminations, truncations, infos] = this.env.step(actions);
    return [this.normalize(obs), rewards, terminations, truncations, infos];
  }

  override snapshot(): EnvSnapshot {
    return { obsRms: this.obsRms.toJSON(), updateRunningMean: this.updateRunningMean, inner: this.env.snapshot() };
  }

  override restore(snapshot: EnvSnapshot): void {
    this.env.restore(snapshot.inner as EnvSnapshot);
    this.obsRms.load(snapshot.obsRms as RunningMeanStdState, 'NormalizeObservation snapshot');
    this.updateRunningMean = snapshot.updateRunningMean !== false;
  }
}

/** Gymnasium's vector `NormalizeReward`: one discounted return per sub-env, one shared running variance. */
export class VectorNormalizeReward<Obs extends TypedArray = TypedArray> extends VectorWrapper<Obs> {
  readonly scaler: DiscountedReturnScaler;
  updateRunningMean = true;

  constructor(env: VectorEnv<Obs>, gamma = 0.99, epsilon = 1e-8) {
    super(env);
    this.scaler = new DiscountedReturnScaler(env.numEnvs, gamma, epsilon);
  }

  reset(args: VectorResetArgs = {}): [Obs, VectorInfo] {
    return this.env.reset(args);
  }

  step(actions: ArrayLike<number>): VectorStepResult<Obs> {
    const result = this.env.step(actions);
    result[1] = this.scaler.scale(result[1], result[2], this.updateRunningMean);
    return result;
  }

  override snapshot(): EnvSnapshot {
    return { scaler: this.scaler.toJSON(), updateRunningMean: this.updateRunningMean, inner: this.env.snapshot() };
  }

  override restore(snapshot: EnvSnapshot): void {
    this.env.restore(snapshot.inner as EnvSnapshot);
    this.scaler.load(snapshot.scaler as ReturnScalerState, 'NormalizeReward snapshot');
    this.updateRunningMean = snapshot.updateRunningMean !== false;
  }
}

/**
 * Cart-Pole (Barto, Sutton & Anderson 1983) with Gymnasium's exact dynamics, and a natively batched
 * version for vector training.
 *
 * A pole is hinged to a cart on a frictionless track; push the cart left (action 0) or right (action 1)
 * with force 10 N to keep the pole upright. Observation (float32): [x, ẋ, θ, θ̇]. Reward 1 per step,
 * including the one that ends the episode. The episode terminates when |x| > 2.4 or |θ| > 12°.
 *
 * Integration is explicit Euler with τ = 0.02 s, positions updated with the OLD velocities, in float64 and
 * in Gymnasium's operation order, so trajectories match Gymnasium's to the last bit.
 */
import { Env, EnvError, type Info, type ResetArgs, type ResetResult, type StepResult } from '../core.js';
import type { CartPoleFrame } from '../frames.js';
import { Box, Discrete } from '../spaces.js';
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
import type { AutoresetMode, EnvMetadata } from '../core.js';

export const GRAVITY = 9.8;
export const MASSCART = 1.0;
export const MASSPOLE = 0.1;
export const TOTAL_MASS = MASSPOLE + MASSCART;
/** Half the pole's length (m). */
export const LENGTH = 0.5;
export const POLEMASS_LENGTH = MASSPOLE * LENGTH;
export const FORCE_MAG = 10.0;
export const TAU = 0.02;
export const THETA_THRESHOLD_RADIANS = (12 * 2 * Math.PI) / 360;
export const X_THRESHOLD = 2.4;
const RESET_BOUND = 0.05;

export interface CartPoleOptions {
  /** Reward 0 per step and −1 on the terminating step (Sutton & Barto's formulation). */
  suttonBartoReward?: boolean;
}

function checkOptions(options: unknown, where: string): Required<CartPoleOptions> {
  if (typeof options !== 'object' || options === null) throw new EnvError(`${where}: options must be an object`);
  for (const key of Object.keys(options)) {
    if (key !== 'suttonBartoReward') throw new EnvError(`${where}: unknown option '${key}' (known: suttonBartoReward)`);
  }
  const { suttonBartoReward = false } = options as CartPoleOptions;
  if (typeof suttonBartoReward !== 'boolean') throw new EnvError(`${where}: suttonBartoReward must be a boolean, got ${describeValue(suttonBartoReward)}`);
  return { suttonBartoReward };
}

/** Reset bounds from `options.low` / `options.high` (Gymnasium's maybe_parse_reset_bounds). */
function resetBounds(options: Record<string, unknown> | undefined, where: string): [number, number] {
  const low = options?.low ?? -RESET_BOUND;
  const high = options?.high ?? RESET_BOUND;
  if (typeof low !== 'number' || typeof high !== 'number' || !Number.isFinite(low) || !Number.isFinite(high) || low > high) {
    throw new EnvError(`${where}: reset options low/high must be finite numbers with low <= high, got low=${describeValue(low)} high=${describeValue(high)}`);
  }
  return [low, high];
}

const OBS_HIGH = [X_THRESHOLD * 2, Infinity, THETA_THRESHOLD_RADIANS * 2, Infinity];

function observationSpace(): Box<Float32Array> {
  return new Box<Float32Array>(OBS_HIGH.map((v) => -v), OBS_HIGH, [4], 'float32');
}

export class CartPoleEnv extends Env<Float32Array, number> {
  readonly observationSpace = observationSpace();
  readonly actionSpace = new Discrete(2);
  readonly suttonBartoReward: boolean;
  private stateValue: Float64Array | null = null;
  /** null while the episode runs; counts steps taken after termination (Gymnasium's steps_beyond_terminated). */
  private stepsBeyondTerminated: number | null = null;
  private lastAction: number | null = null;

  constructor(options: CartPoleOptions = {}) {
    super();
    this.suttonBartoReward = checkOptions(options, 'CartPole').suttonBartoReward;
    this.metadata = { renderModes: ['json', 'ansi'], renderFps: 50 };
  }

  /** [x, ẋ, θ, θ̇] in float64; null before the first reset. Settable for tests and analysis. */
  get state(): Float64Array | null {
    return this.stateValue;
  }

  set state(value: ArrayLike<number> | null) {
    if (value === null) {
      this.stateValue = null;
      return;
    }
    if (typeof value !== 'object' || value.length !== 4 || !Array.from(value).every((v) => typeof v === 'number' && Number.isFinite(v))) {
      throw new EnvError(`CartPole: state must be 4 finite numbers [x, xDot, theta, thetaDot], got ${describeValue(value)}`);
    }
    this.stateValue = Float64Array.from(value);
    this.stepsBeyondTerminated = null;
  }

  override reset(args: ResetArgs = {}): ResetResult<Float32Array> {
    super.reset(args);
    const [low, high] = resetBounds(args.options, 'CartPole.reset');
    const rng = this.npRandom;
    const s = new Float64Array(4);
    for (let k = 0; k < 4; k++) s[k] = rng.uniform(low, high);
    this.stateValue = s;
    this.stepsBeyondTerminated = null;
    this.lastAction = null;
    return [Float32Array.from(s), {}];
  }

  step(action: number): StepResult<Float32Array> {
    const s = this.stateValue;
    if (s === null) throw new EnvError('CartPole: call reset() before step()');
    if (action !== 0 && action !== 1) throw new EnvError(`CartPole: invalid action ${describeValue(action)}: not in the action space Discrete(2)`);
    let x = s[0]!;
    let xDot = s[1]!;
    let theta = s[2]!;
    let thetaDot = s[3]!;
    const force = action === 1 ? FORCE_MAG : -FORCE_MAG;
    const costheta = Math.cos(theta);
    const sintheta = Math.sin(theta);
    const temp = (force + POLEMASS_LENGTH * thetaDot * thetaDot * sintheta) / TOTAL_MASS;
    const thetaacc = (GRAVITY * sintheta - costheta * temp) / (LENGTH * (4.0 / 3.0 - (MASSPOLE * (costheta * costheta)) / TOTAL_MASS));
    const xacc = temp - (POLEMASS_LENGTH * thetaacc * costheta) / TOTAL_MASS;
    x = x + TAU * xDot;
    xDot = xDot + TAU * xacc;
    theta = theta + TAU * thetaDot;
    thetaDot = thetaDot + TAU * thetaacc;
    s[0] = x;
    s[1] = xDot;
    s[2] = theta;
    s[3] = thetaDot;
    this.lastAction = action;

    const terminated = x < -X_THRESHOLD || x > X_THRESHOLD || theta < -THETA_THRESHOLD_RADIANS || theta > THETA_THRESHOLD_RADIANS;
    let reward: number;
    if (!terminated) {
      reward = this.suttonBartoReward ? 0 : 1;
    } else if (this.stepsBeyondTerminated === null) {
      this.stepsBeyondTerminated = 0;
      reward = this.suttonBartoReward ? -1 : 1;
    } else {
      if (this.stepsBeyondTerminated === 0) {
        process.emitWarning(
          'CartPole: step() called after the episode terminated; call reset() first. Further steps are undefined behaviour and return reward 0.',
          'EnvWarning',
        );
      }
      this.stepsBeyondTerminated += 1;
      reward = this.suttonBartoReward ? -1 : 0;
    }
    const obs = new Float32Array(4);
    obs[0] = x;
    obs[1] = xDot;
    obs[2] = theta;
    obs[3] = thetaDot;
    return [obs, reward, terminated, false, {}];
  }

  render(): CartPoleFrame | string {
    const s = this.stateValue;
    if (s === null) throw new EnvError('CartPole: call reset() before render()');
    const frame = cartPoleFrame(s[0]!, s[1]!, s[2]!, s[3]!, this.lastAction);
    return this.renderMode === 'ansi' ? cartPoleAnsi(frame) : frame;
  }
}

export function cartPoleFrame(x: number, xDot: number, theta: number, thetaDot: number, lastAction: number | null): CartPoleFrame {
  return {
    kind: 'cartpole',
    x,
    xDot,
    theta,
    thetaDot,
    xThreshold: X_THRESHOLD,
    thetaThreshold: THETA_THRESHOLD_RADIANS,
    poleHalfLength: LENGTH,
    lastAction,
  };
}

/** A few lines of text: the pole leaning at its angle above the cart on a track with the ±2.4 limits. */
export function cartPoleAnsi(f: CartPoleFrame): string {
  const width = 61;
  const col = (x: number) => Math.round(((x + f.xThreshold) / (2 * f.xThreshold)) * (width - 1));
  const cartCol = Math.min(width - 1, Math.max(0, col(f.x)));
  const poleRows = 5;
  const lines: string[] = [];
  // Characters are about twice as tall as wide, so a row climbs 2 columns' worth of height.
  for (let r = poleRows; r >= 1; r--) {
    const c = cartCol + Math.round(2 * r * Math.tan(f.theta));
    const row = new Array<string>(width).fill(' ');
    if (c >= 0 && c < width) row[c] = Math.abs(f.theta) < 0.05 ? '|' : f.theta > 0 ? '/' : '\\';
    lines.push(row.join(''));
  }
  const cart = new Array<string>(width).fill(' ');
  for (let c = cartCol - 2; c <= cartCol + 2; c++) if (c >= 0 && c < width) cart[c] = c === cartCol ? 'o' : '=';
  lines.push(cart.join(''));
  const track = new Array<string>(width).fill('-');
  track[0] = '|';
  track[width - 1] = '|';
  lines.push(track.join(''));
  const deg = (f.theta * 180) / Math.PI;
  const push = f.lastAction === null ? 'reset' : f.lastAction === 1 ? 'push right ->' : '<- push left';
  const sign = (v: number) => (v >= 0 ? '+' : '') + v.toFixed(3);
  lines.push(`x ${sign(f.x)}  v ${sign(f.xDot)}  theta ${sign(f.theta)} (${(deg >= 0 ? '+' : '') + deg.toFixed(1)} deg)  omega ${sign(f.thetaDot)}  ${push}`);
  return lines.join('\n');
}

export interface CartPoleVectorOptions extends CartPoleOptions {
  /** Truncate each sub-env's episode after this many steps (null: never). Default 500. */
  maxEpisodeSteps?: number | null;
  autoresetMode?: AutoresetMode;
  /** Return fresh arrays from reset/step (default) rather than internal buffers. */
  copy?: boolean;
}

/**
 * N Cart-Poles stepped in one tight loop over struct-of-arrays float64 state. Sub-env i has its own RNG
 * (seeded seed + i), drawn exactly as the single env draws, so with the same seeds and actions each sub-env
 * follows the same trajectory as `make('CartPole-v1')`. Time limits are built in (no TimeLimit wrapper).
 */
export class CartPoleVectorEnv extends VectorEnv<Float32Array> {
  readonly numEnvs: number;
  readonly singleObservationSpace = observationSpace();
  readonly singleActionSpace = new Discrete(2);
  readonly metadata: EnvMetadata & { autoresetMode: AutoresetMode };
  readonly maxEpisodeSteps: number | null;
  readonly suttonBartoReward: boolean;
  // Struct-of-arrays state: one float64 array per variable.
  readonly x: Float64Array;
  readonly xDot: Float64Array;
  readonly theta: Float64Array;
  readonly thetaDot: Float64Array;
  /** Steps taken in each sub-env's current episode. */
  readonly steps: Int32Array;
  private readonly rngs: Rng[];
  private readonly ended: Uint8Array;
  private readonly lastActions: Int8Array;
  private readonly obs: Float32Array;
  private readonly rewards: Float64Array;
  private readonly terminations: Uint8Array;
  private readonly truncations: Uint8Array;
  private readonly copy: boolean;
  private bounds: [number, number] = [-RESET_BOUND, RESET_BOUND];
  private hasReset = false;

  constructor(numEnvs: number, options: CartPoleVectorOptions = {}) {
    super();
    this.numEnvs = checkNumEnvs(numEnvs);
    const { maxEpisodeSteps = 500, autoresetMode = 'next-step', copy = true, ...envOptions } = options;
    this.suttonBartoReward = checkOptions(envOptions, 'CartPoleVectorEnv').suttonBartoReward;
    if (maxEpisodeSteps !== null && (!Number.isSafeInteger(maxEpisodeSteps) || maxEpisodeSteps <= 0)) {
      throw new EnvError(`CartPoleVectorEnv: maxEpisodeSteps must be a positive integer or null, got ${describeValue(maxEpisodeSteps)}`);
    }
    this.maxEpisodeSteps = maxEpisodeSteps;
    this.metadata = { renderModes: ['json'], renderFps: 50, autoresetMode: checkAutoresetMode(autoresetMode) };
    this.copy = copy;
    const n = this.numEnvs;
    this.x = new Float64Array(n);
    this.xDot = new Float64Array(n);
    this.theta = new Float64Array(n);
    this.thetaDot = new Float64Array(n);
    this.steps = new Int32Array(n);
    this.rngs = Array.from({ length: n }, () => new Rng());
    this.ended = new Uint8Array(n);
    this.lastActions = new Int8Array(n).fill(-1);
    this.obs = new Float32Array(n * 4);
    this.rewards = new Float64Array(n);
    this.terminations = new Uint8Array(n);
    this.truncations = new Uint8Array(n);
  }

  private resetOne(i: number): void {
    const rng = this.rngs[i]!;
    const [low, high] = this.bounds;
    this.x[i] = rng.uniform(low, high);
    this.xDot[i] = rng.uniform(low, high);
    this.theta[i] = rng.uniform(low, high);
    this.thetaDot[i] = rng.uniform(low, high);
    this.steps[i] = 0;
    this.ended[i] = 0;
    this.lastActions[i] = -1;
  }

  private writeObs(i: number): void {
    const o = this.obs;
    o[4 * i] = this.x[i]!;
    o[4 * i + 1] = this.xDot[i]!;
    o[4 * i + 2] = this.theta[i]!;
    o[4 * i + 3] = this.thetaDot[i]!;
  }

  reset(args: VectorResetArgs = {}): [Float32Array, VectorInfo] {
    const seeds = subEnvSeeds(args.seed, this.numEnvs);
    const mask = resetMaskOf(args.options, this.numEnvs);
    this.bounds = resetBounds(args.options, 'CartPoleVectorEnv.reset');
    for (let i = 0; i < this.numEnvs; i++) {
      if (!mask[i]) continue;
      if (seeds[i] !== undefined) this.rngs[i] = new Rng(seeds[i]);
      this.resetOne(i);
      this.writeObs(i);
    }
    this.hasReset = true;
    return [this.copy ? this.obs.slice() : this.obs, {}];
  }

  step(actions: ArrayLike<number>): VectorStepResult<Float32Array> {
    if (!this.hasReset) throw new EnvError(`${this.name}: cannot call step() before reset(); call envs.reset() first`);
    const n = this.numEnvs;
    if (actions === null || typeof actions !== 'object' || actions.length !== n) {
      throw new EnvError(`${this.name}: expected ${n} actions (one per sub-env), got ${describeValue(actions)}`);
    }
    for (let i = 0; i < n; i++) {
      const a = actions[i];
      if (a !== 0 && a !== 1) this.checkActions(actions); // throws an error naming the sub-env
    }
    const { x, xDot, theta, thetaDot, steps, ended, obs, rewards, terminations, truncations, lastActions } = this;
    // Steps are int32, so 2^31 - 1 stands for "no limit" and keeps the comparison on integers.
    const limit = this.maxEpisodeSteps ?? 0x7fffffff;
    const mode = this.metadata.autoresetMode;
    const stepReward = this.suttonBartoReward ? 0 : 1;
    const endReward = this.suttonBartoReward ? -1 : 1;
    let finalObs: (Float32Array | null)[] | null = null;
    let finalMask: Uint8Array | null = null;

    for (let i = 0; i < n; i++) {
      if (ended[i] === 1) {
        if (mode !== 'next-step') {
          throw new EnvError(`${this.name}: sub-env ${i} has ended and autoreset is disabled; reset it with reset({ options: { resetMask } })`);
        }
        this.resetOne(i);
        this.writeObs(i);
        rewards[i] = 0;
        terminations[i] = 0;
        truncations[i] = 0;
        continue;
      }
      const a = actions[i];
      const th = theta[i]!;
      const thDot = thetaDot[i]!;
      const v = xDot[i]!;
      const force = a === 1 ? FORCE_MAG : -FORCE_MAG;
      const costheta = Math.cos(th);
      const sintheta = Math.sin(th);
      const temp = (force + POLEMASS_LENGTH * thDot * thDot * sintheta) / TOTAL_MASS;
      const thetaacc = (GRAVITY * sintheta - costheta * temp) / (LENGTH * (4.0 / 3.0 - (MASSPOLE * (costheta * costheta)) / TOTAL_MASS));
      const xacc = temp - (POLEMASS_LENGTH * thetaacc * costheta) / TOTAL_MASS;
      const nx = x[i]! + TAU * v;
      const nv = v + TAU * xacc;
      const nth = th + TAU * thDot;
      const nthDot = thDot + TAU * thetaacc;
      x[i] = nx;
      xDot[i] = nv;
      theta[i] = nth;
      thetaDot[i] = nthDot;
      obs[4 * i] = nx;
      obs[4 * i + 1] = nv;
      obs[4 * i + 2] = nth;
      obs[4 * i + 3] = nthDot;
      lastActions[i] = a!;
      const stepCount = ++steps[i]!;
      const term = nx < -X_THRESHOLD || nx > X_THRESHOLD || nth < -THETA_THRESHOLD_RADIANS || nth > THETA_THRESHOLD_RADIANS;
      const trunc = stepCount >= limit;
      rewards[i] = term ? endReward : stepReward;
      terminations[i] = term ? 1 : 0;
      truncations[i] = trunc ? 1 : 0;
      if (term || trunc) {
        if (mode === 'same-step') {
          finalObs ??= new Array<Float32Array | null>(n).fill(null);
          finalMask ??= new Uint8Array(n);
          finalObs[i] = obs.slice(4 * i, 4 * i + 4);
          finalMask[i] = 1;
          this.resetOne(i);
          this.writeObs(i);
        } else {
          ended[i] = 1;
        }
      }
    }
    const infos: VectorInfo = {};
    if (finalObs) {
      infos.finalObs = finalObs;
      infos._finalObs = finalMask;
      infos.finalInfo = finalObs.map((o) => (o ? ({} as Info) : null));
      infos._finalInfo = finalMask;
    }
    if (this.copy) return [obs.slice(), rewards.slice(), terminations.slice(), truncations.slice(), infos];
    return [obs, rewards, terminations, truncations, infos];
  }

  render(): CartPoleFrame[] {
    if (!this.hasReset) throw new EnvError(`${this.name}: call reset() before render()`);
    return Array.from({ length: this.numEnvs }, (_, i) =>
      cartPoleFrame(this.x[i]!, this.xDot[i]!, this.theta[i]!, this.thetaDot[i]!, this.lastActions[i]! < 0 ? null : this.lastActions[i]!),
    );
  }
}

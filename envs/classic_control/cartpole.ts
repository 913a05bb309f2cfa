/**
 * Cart-Pole (Barto, Sutton & Anderson 1983) with Gymnasium's exact dynamics, and a natively batched
 * version for vector training.
 *
 * A pole is hinged to a cart on a frictionless track; push the cart left (action 0) or right (action 1)
 * with force 10 N to keep the pole upright. Observation (float32): [x, ẋ, θ, θ̇]. Reward 1 per step,
 * including the one that ends the episode. The episode terminates when |x| > 2.4 or |θ| > 12°.
 *
 * Integration is explicit Euler with τ = 0.02 s, positions updated with the OLD velocities, in float64 and
 * in Gymnasium's operation order. The batched version is in cartpole_vector.ts.
 */
import { EnvError, type EnvSnapshot, type ResetArgs, type ResetResult, type StepResult } from '../core.js';
import type { CartPoleFrame } from '../frames.js';
import { Box, Discrete } from '../spaces.js';
import { describeValue } from '../utils/seeding.js';
import { PhysicsEnv } from './physics_env.js';
import { checkOptionNames } from '../utils/options.js';
import { emitEnvWarning } from '../utils/warnings.js';

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
export const RESET_BOUND = 0.05;

export interface CartPoleOptions {
  /** Reward 0 per step and −1 on the terminating step (Sutton & Barto's formulation). */
  suttonBartoReward?: boolean;
}

export function checkOptions(options: unknown, where: string): Required<CartPoleOptions> {
  const { suttonBartoReward = false } = checkOptionNames(where, options as CartPoleOptions, ['suttonBartoReward']);
  if (typeof suttonBartoReward !== 'boolean') throw new EnvError(`${where}: suttonBartoReward must be a boolean, got ${describeValue(suttonBartoReward)}`);
  return { suttonBartoReward };
}

/**
 * Reset bounds from `options.low` / `options.high` (Gymnasium's maybe_parse_reset_bounds), defaulting to the
 * env's own (Cart-Pole's ±0.05; Acrobot and the mountain cars pass theirs).
 */
export function resetBounds(options: Record<string, unknown> | undefined, where: string, defaultLow = -RESET_BOUND, defaultHigh = RESET_BOUND): [number, number] {
  const low = options?.low ?? defaultLow;
  const high = options?.high ?? defaultHigh;
  if (typeof low !== 'number' || typeof high !== 'number' || !Number.isFinite(low) || !Number.isFinite(high) || low > high) {
    throw new EnvError(`${where}: reset options low/high must be finite numbers with low <= high, got low=${describeValue(low)} high=${describeValue(high)}`);
  }
  return [low, high];
}

const OBS_HIGH = [X_THRESHOLD * 2, Infinity, THETA_THRESHOLD_RADIANS * 2, Infinity];

export function observationSpace(): Box<Float32Array> {
  return new Box<Float32Array>(OBS_HIGH.map((v) => -v), OBS_HIGH, [4], 'float32');
}

export class CartPoleEnv extends PhysicsEnv<number> {
  protected readonly label = 'CartPole';
  protected readonly stateNames = ['x', 'xDot', 'theta', 'thetaDot'] as const;
  readonly observationSpace = observationSpace();
  readonly actionSpace = new Discrete(2);
  readonly suttonBartoReward: boolean;
  /** null while the episode runs; counts steps taken after termination (Gymnasium's steps_beyond_terminated). */
  private stepsBeyondTerminated: number | null = null;
  private lastAction: number | null = null;

  constructor(options: CartPoleOptions = {}) {
    super();
    this.suttonBartoReward = checkOptions(options, 'CartPole').suttonBartoReward;
    this.metadata = { renderModes: ['json', 'ansi'], renderFps: 50 };
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
        emitEnvWarning('CartPole: step() called after the episode terminated; call reset() first. Further steps are undefined behaviour and return reward 0.');
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

  protected override stateChanged(): void {
    this.stepsBeyondTerminated = null;
  }

  protected ownSnapshot(): Record<string, unknown> {
    return { stepsBeyondTerminated: this.stepsBeyondTerminated, lastAction: this.lastAction };
  }

  protected restoreOwn(snapshot: EnvSnapshot): void {
    this.stepsBeyondTerminated = snapshot.stepsBeyondTerminated as number | null;
    this.lastAction = snapshot.lastAction as number | null;
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

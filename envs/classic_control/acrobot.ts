/**
 * Acrobot (Sutton 1996; Sutton & Barto's book) with Gymnasium's `Acrobot-v1` dynamics.
 *
 * Two links hang from a fixed pivot; the joint between them is driven with torque −1, 0 or +1 (actions 0, 1,
 * 2). Swing the free end above the height of one link over the pivot: −cos θ1 − cos(θ1 + θ2) > 1. Reward −1
 * per step and 0 on the step that reaches the goal, which terminates the episode (time limit 500 steps).
 * Observation (float32): [cos θ1, sin θ1, cos θ2, sin θ2, θ̇1, θ̇2]; θ1 is measured from straight down, θ2
 * relative to link 1.
 *
 * One step integrates the "book" equations of motion (the `nips` paper's variant is an option) with a single
 * fourth-order Runge–Kutta step of dt = 0.2 s, then wraps both angles into [−π, π] and bounds the velocities
 * to ±4π and ±9π. The reset state is drawn uniform(−0.1, 0.1) and rounded to float32, as Gymnasium does;
 * every later state stays float64, computed in Gymnasium's order of operations.
 */
import { EnvError, type EnvSnapshot, type ResetArgs, type ResetResult, type StepResult } from '../core.js';
import type { AcrobotFrame } from '../frames.js';
import { Box, Discrete } from '../spaces.js';
import { describeValue } from '../utils/seeding.js';
import { PhysicsEnv } from './physics_env.js';
import { checkOptionNames } from '../utils/options.js';
import { AsciiCanvas, signed } from '../utils/ascii_canvas.js';
import { resetBounds } from './cartpole.js';

export const ACROBOT_DT = 0.2;
export const LINK_LENGTH_1 = 1.0;
export const LINK_LENGTH_2 = 1.0;
export const LINK_MASS_1 = 1.0;
export const LINK_MASS_2 = 1.0;
/** Positions of the links' centres of mass along them (m). */
export const LINK_COM_POS_1 = 0.5;
export const LINK_COM_POS_2 = 0.5;
/** Moment of inertia of either link. */
export const LINK_MOI = 1.0;
export const ACROBOT_GRAVITY = 9.8;
export const MAX_VEL_1 = 4 * Math.PI;
export const MAX_VEL_2 = 9 * Math.PI;
/** Torque of actions 0, 1, 2. */
export const AVAIL_TORQUE = [-1.0, 0.0, 1.0] as const;
export const ACROBOT_RESET_BOUND = 0.1;

export type AcrobotDynamics = 'book' | 'nips';

export interface AcrobotOptions {
  /** Uniform noise of ± this much is added to every torque (Gymnasium's torque_noise_max; default 0). */
  torqueNoiseMax?: number;
  /** Equations of motion: Sutton & Barto's book (default, as Gymnasium) or the NIPS 1995 paper's, which omit a term. */
  bookOrNips?: AcrobotDynamics;
}

export function checkAcrobotOptions(options: unknown, where: string): Required<AcrobotOptions> {
  const { torqueNoiseMax = 0, bookOrNips = 'book' } = checkOptionNames(where, options as AcrobotOptions, ['torqueNoiseMax', 'bookOrNips']);
  if (typeof torqueNoiseMax !== 'number' || !Number.isFinite(torqueNoiseMax) || torqueNoiseMax < 0) {
    throw new EnvError(`${where}: torqueNoiseMax must be a finite number ≥ 0, got ${describeValue(torqueNoiseMax)}`);
  }
  if (bookOrNips !== 'book' && bookOrNips !== 'nips') throw new EnvError(`${where}: bookOrNips must be 'book' or 'nips', got ${describeValue(bookOrNips)}`);
  return { torqueNoiseMax, bookOrNips };
}

const OBS_HIGH = [1.0, 1.0, 1.0, 1.0, MAX_VEL_1, MAX_VEL_2];

export function acrobotObservationSpace(): Box<Float32Array> {
  return new Box<Float32Array>(OBS_HIGH.map((v) => -v), OBS_HIGH, [6], 'float32');
}

/**
 * The time derivative of [θ1, θ2, θ̇1, θ̇2] under torque `a`, written into `out` (Gymnasium's `_dsdt`, term by
 * term in its order; the many products of 1.0 are kept so the rounding matches with other constants too).
 */
function derivatives(theta1: number, theta2: number, dtheta1: number, dtheta2: number, a: number, nips: boolean, out: Float64Array): void {
  const m1 = LINK_MASS_1;
  const m2 = LINK_MASS_2;
  const l1 = LINK_LENGTH_1;
  const lc1 = LINK_COM_POS_1;
  const lc2 = LINK_COM_POS_2;
  const I1 = LINK_MOI;
  const I2 = LINK_MOI;
  const g = ACROBOT_GRAVITY;
  const cos2 = Math.cos(theta2);
  const sin2 = Math.sin(theta2);
  const d1 = m1 * (lc1 * lc1) + m2 * (l1 * l1 + lc2 * lc2 + 2 * l1 * lc2 * cos2) + I1 + I2;
  const d2 = m2 * (lc2 * lc2 + l1 * lc2 * cos2) + I2;
  const phi2 = m2 * lc2 * g * Math.cos(theta1 + theta2 - Math.PI / 2.0);
  const phi1 = -m2 * l1 * lc2 * (dtheta2 * dtheta2) * sin2 - 2 * m2 * l1 * lc2 * dtheta2 * dtheta1 * sin2 + (m1 * lc1 + m2 * l1) * g * Math.cos(theta1 - Math.PI / 2) + phi2;
  const ddtheta2 = nips
    ? (a + (d2 / d1) * phi1 - phi2) / (m2 * (lc2 * lc2) + I2 - (d2 * d2) / d1)
    : (a + (d2 / d1) * phi1 - m2 * l1 * lc2 * (dtheta1 * dtheta1) * sin2 - phi2) / (m2 * (lc2 * lc2) + I2 - (d2 * d2) / d1);
  const ddtheta1 = -(d2 * ddtheta2 + phi1) / d1;
  out[0] = dtheta1;
  out[1] = dtheta2;
  out[2] = ddtheta1;
  out[3] = ddtheta2;
}

/** x wrapped into [m, M] by whole turns (Gymnasium's `wrap`). */
export function wrap(x: number, m: number, M: number): number {
  const diff = M - m;
  while (x > M) x = x - diff;
  while (x < m) x = x + diff;
  return x;
}

/** x clamped to [m, M] (Gymnasium's `bound`). */
export function bound(x: number, m: number, M: number): number {
  return Math.min(Math.max(x, m), M);
}

/**
 * One Acrobot step of `s` (4 float64 values, updated in place) under `torque`: a single RK4 step over
 * [0, dt] as Gymnasium's `rk4` takes it (the torque rides along as a fifth state with derivative 0), then wrap
 * and bound. `k` is scratch space of 16 numbers.
 */
export function acrobotIntegrate(s: Float64Array | number[], torque: number, nips: boolean, k: Float64Array, offset = 0): void {
  const dt = ACROBOT_DT - 0;
  const dt2 = dt / 2.0;
  const y0 = s[offset]!;
  const y1 = s[offset + 1]!;
  const y2 = s[offset + 2]!;
  const y3 = s[offset + 3]!;
  const k1 = k.subarray(0, 4);
  const k2 = k.subarray(4, 8);
  const k3 = k.subarray(8, 12);
  const k4 = k.subarray(12, 16);
  derivatives(y0, y1, y2, y3, torque, nips, k1);
  derivatives(y0 + dt2 * k1[0]!, y1 + dt2 * k1[1]!, y2 + dt2 * k1[2]!, y3 + dt2 * k1[3]!, torque, nips, k2);
  derivatives(y0 + dt2 * k2[0]!, y1 + dt2 * k2[1]!, y2 + dt2 * k2[2]!, y3 + dt2 * k2[3]!, torque, nips, k3);
  derivatives(y0 + dt * k3[0]!, y1 + dt * k3[1]!, y2 + dt * k3[2]!, y3 + dt * k3[3]!, torque, nips, k4);
  const w = dt / 6.0;
  const n0 = y0 + w * (k1[0]! + 2 * k2[0]! + 2 * k3[0]! + k4[0]!);
  const n1 = y1 + w * (k1[1]! + 2 * k2[1]! + 2 * k3[1]! + k4[1]!);
  const n2 = y2 + w * (k1[2]! + 2 * k2[2]! + 2 * k3[2]! + k4[2]!);
  const n3 = y3 + w * (k1[3]! + 2 * k2[3]! + 2 * k3[3]! + k4[3]!);
  s[offset] = wrap(n0, -Math.PI, Math.PI);
  s[offset + 1] = wrap(n1, -Math.PI, Math.PI);
  s[offset + 2] = bound(n2, -MAX_VEL_1, MAX_VEL_1);
  s[offset + 3] = bound(n3, -MAX_VEL_2, MAX_VEL_2);
}

/** The free end is above the goal line: −cos θ1 − cos(θ2 + θ1) > 1 (operands in Gymnasium's order). */
export function acrobotTerminal(theta1: number, theta2: number): boolean {
  return -Math.cos(theta1) - Math.cos(theta2 + theta1) > 1.0;
}

/** The float32 observation of a state, written at `out[offset…offset+5]`. */
export function acrobotObservation(s: ArrayLike<number>, out: Float32Array, offset = 0, so = 0): void {
  out[offset] = Math.cos(s[so]!);
  out[offset + 1] = Math.sin(s[so]!);
  out[offset + 2] = Math.cos(s[so + 1]!);
  out[offset + 3] = Math.sin(s[so + 1]!);
  out[offset + 4] = s[so + 2]!;
  out[offset + 5] = s[so + 3]!;
}

export class AcrobotEnv extends PhysicsEnv<number> {
  protected readonly label = 'Acrobot';
  protected readonly stateNames = ['theta1', 'theta2', 'theta1Dot', 'theta2Dot'] as const;
  readonly observationSpace = acrobotObservationSpace();
  readonly actionSpace = new Discrete(3);
  readonly torqueNoiseMax: number;
  readonly bookOrNips: AcrobotDynamics;
  private lastAction: number | null = null;
  private readonly scratch = new Float64Array(16);

  constructor(options: AcrobotOptions = {}) {
    super();
    ({ torqueNoiseMax: this.torqueNoiseMax, bookOrNips: this.bookOrNips } = checkAcrobotOptions(options, 'Acrobot'));
    this.metadata = { renderModes: ['json', 'ansi'], renderFps: 15 };
  }

  override reset(args: ResetArgs = {}): ResetResult<Float32Array> {
    super.reset(args);
    const [low, high] = resetBounds(args.options, 'Acrobot.reset', -ACROBOT_RESET_BOUND, ACROBOT_RESET_BOUND);
    const rng = this.npRandom;
    const s = new Float64Array(4);
    // Gymnasium draws the four values then casts them to float32.
    for (let k = 0; k < 4; k++) s[k] = Math.fround(rng.uniform(low, high));
    this.stateValue = s;
    this.lastAction = null;
    const obs = new Float32Array(6);
    acrobotObservation(s, obs);
    return [obs, {}];
  }

  step(action: number): StepResult<Float32Array> {
    const s = this.stateValue;
    if (s === null) throw new EnvError('Acrobot: call reset() before step()');
    if (action !== 0 && action !== 1 && action !== 2) throw new EnvError(`Acrobot: invalid action ${describeValue(action)}: not in the action space Discrete(3)`);
    let torque: number = AVAIL_TORQUE[action];
    if (this.torqueNoiseMax > 0) torque += this.npRandom.uniform(-this.torqueNoiseMax, this.torqueNoiseMax);
    acrobotIntegrate(s, torque, this.bookOrNips === 'nips', this.scratch);
    this.lastAction = action;
    const terminated = acrobotTerminal(s[0]!, s[1]!);
    const obs = new Float32Array(6);
    acrobotObservation(s, obs);
    return [obs, terminated ? 0.0 : -1.0, terminated, false, {}];
  }

  protected ownSnapshot(): Record<string, unknown> {
    return { lastAction: this.lastAction };
  }

  protected restoreOwn(snapshot: EnvSnapshot): void {
    this.lastAction = snapshot.lastAction as number | null;
  }

  render(): AcrobotFrame | string {
    const s = this.stateValue;
    if (s === null) throw new EnvError('Acrobot: call reset() before render()');
    const frame = acrobotFrame(s[0]!, s[1]!, s[2]!, s[3]!, this.lastAction);
    return this.renderMode === 'ansi' ? acrobotAnsi(frame) : frame;
  }
}

export function acrobotFrame(theta1: number, theta2: number, theta1Dot: number, theta2Dot: number, lastAction: number | null): AcrobotFrame {
  return {
    kind: 'acrobot',
    theta1,
    theta2,
    theta1Dot,
    theta2Dot,
    link1: LINK_LENGTH_1,
    link2: LINK_LENGTH_2,
    goalHeight: 1.0,
    lastTorque: lastAction === null ? null : AVAIL_TORQUE[lastAction as 0 | 1 | 2],
  };
}

/** The two links drawn from the pivot (o), link 1 as '#', link 2 as '*', the goal line dashed. */
export function acrobotAnsi(f: AcrobotFrame): string {
  const reach = f.link1 + f.link2 + 0.2;
  const c = new AsciiCanvas(45, 13, -reach, reach, 0);
  c.hline(f.goalHeight, '-');
  // θ measured from straight down: the end of link 1 is at (sin θ1, −cos θ1).
  const x1 = f.link1 * Math.sin(f.theta1);
  const y1 = -f.link1 * Math.cos(f.theta1);
  const x2 = x1 + f.link2 * Math.sin(f.theta1 + f.theta2);
  const y2 = y1 - f.link2 * Math.cos(f.theta1 + f.theta2);
  c.line(0, 0, x1, y1, '#');
  c.line(x1, y1, x2, y2, '*');
  c.put(0, 0, 'o');
  c.put(x1, y1, 'o');
  c.put(x2, y2, '@');
  const torque = f.lastTorque === null ? 'reset' : `torque ${f.lastTorque > 0 ? '+1' : f.lastTorque < 0 ? '-1' : '0'}`;
  return `${c}\ntheta1 ${signed(f.theta1)}  theta2 ${signed(f.theta2)}  omega1 ${signed(f.theta1Dot)}  omega2 ${signed(f.theta2Dot)}  height ${signed(-Math.cos(f.theta1) - Math.cos(f.theta1 + f.theta2), 2)}  ${torque}`;
}

/**
 * Inverted pendulum swing-up with Gymnasium's `Pendulum-v1` dynamics.
 *
 * A rod hinged at one end starts at a random angle; apply a torque in Box(−2, 2, (1,), float32) (values outside
 * are clipped, as Gymnasium does) to swing it up and hold it upright. θ = 0 is upright, positive
 * counter-clockwise. Observation (float32): [cos θ, sin θ, θ̇]. Reward −(norm(θ)² + 0.1·θ̇² + 0.001·u²) with
 * norm(θ) the angle wrapped into [−π, π); never terminates, truncated after 200 steps; no reward threshold.
 *
 *   θ̇ ← clip(θ̇ + (3g/(2l)·sin θ + 3/(m l²)·u)·dt, ±8);  θ ← θ + θ̇·dt      (g = 10 by default, m = l = 1, dt = 0.05)
 *
 * Reset: θ uniform(−π, π), θ̇ uniform(−1, 1); options `x_init` / `y_init` replace π and 1 (Gymnasium's names).
 * Numbers: the state is float64 in Gymnasium's order of operations; the torque is float32 (the action
 * space's dtype, clipped in float32 and squared in float32 for the cost, as NumPy does it).
 */
import { EnvError, type EnvSnapshot, type ResetArgs, type ResetResult, type StepResult } from '../core.js';
import type { PendulumFrame } from '../frames.js';
import { Box } from '../spaces.js';
import { describeValue } from '../utils/seeding.js';
import { PhysicsEnv } from './physics_env.js';
import { checkOptionNames } from '../utils/options.js';
import { AsciiCanvas, signed } from '../utils/ascii_canvas.js';
import { firstActionValue } from './mountain_car_continuous.js';

export const PENDULUM_MAX_SPEED = 8;
export const PENDULUM_MAX_TORQUE = 2.0;
export const PENDULUM_DT = 0.05;
export const PENDULUM_MASS = 1.0;
export const PENDULUM_LENGTH = 1.0;
export const DEFAULT_X = Math.PI;
export const DEFAULT_Y = 1.0;

export interface PendulumOptions {
  /** Gravity (m/s²), Gymnasium's `g`; default 10.0. */
  g?: number;
}

export function checkPendulumOptions(options: unknown, where: string): Required<PendulumOptions> {
  const { g = 10.0 } = checkOptionNames(where, options as PendulumOptions, ['g']);
  if (typeof g !== 'number' || !Number.isFinite(g)) throw new EnvError(`${where}: g must be a finite number, got ${describeValue(g)}`);
  return { g };
}

export function pendulumObservationSpace(): Box<Float32Array> {
  const high = [1.0, 1.0, PENDULUM_MAX_SPEED];
  return new Box<Float32Array>(high.map((v) => -v), high, [3], 'float32');
}

/** ((x + π) mod 2π) − π with the floored modulo of Python and NumPy (the result takes the divisor's sign). */
export function angleNormalize(x: number): number {
  const b = 2 * Math.PI;
  let m = (x + Math.PI) % b;
  if (m !== 0 && m < 0 !== b < 0) m += b;
  else if (m === 0) m = 0; // NumPy returns +0 with the divisor's sign
  return m - Math.PI;
}

/** Reset half-widths from `options.x_init` / `options.y_init` (Gymnasium's names; numbers, used symmetrically). */
export function pendulumResetHigh(options: Record<string, unknown> | undefined, where: string): [number, number] {
  const pick = (key: 'x_init' | 'y_init', fallback: number): number => {
    if (options === undefined || !Object.hasOwn(options, key)) return fallback;
    const v = options[key];
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new EnvError(`${where}: options.${key} must be a finite number, got ${describeValue(v)}`);
    return v;
  };
  return [pick('x_init', DEFAULT_X), pick('y_init', DEFAULT_Y)];
}

/**
 * One Pendulum step of [θ, θ̇] (updated in place) under the float32 torque `u` already clipped; returns the cost
 * (the reward is its negative).
 */
export function pendulumStep(s: Float64Array, u: number, g: number, offset = 0): number {
  const th = s[offset]!;
  const thdot = s[offset + 1]!;
  const m = PENDULUM_MASS;
  const l = PENDULUM_LENGTH;
  const dt = PENDULUM_DT;
  const an = angleNormalize(th);
  // u**2 of a float32 stays float32 in NumPy; the rest is float64.
  const costs = an * an + 0.1 * (thdot * thdot) + 0.001 * Math.fround(u * u);
  let newthdot = thdot + (((3 * g) / (2 * l)) * Math.sin(th) + (3.0 / (m * (l * l))) * u) * dt;
  newthdot = Math.min(Math.max(newthdot, -PENDULUM_MAX_SPEED), PENDULUM_MAX_SPEED);
  const newth = th + newthdot * dt;
  s[offset] = newth;
  s[offset + 1] = newthdot;
  return costs;
}

/** The clipped float32 torque of a raw action value. */
export function pendulumTorque(a: number): number {
  return Math.fround(Math.min(Math.max(Math.fround(a), -PENDULUM_MAX_TORQUE), PENDULUM_MAX_TORQUE));
}

export class PendulumEnv extends PhysicsEnv<Float32Array> {
  protected readonly label = 'Pendulum';
  protected readonly stateNames = ['theta', 'thetaDot'] as const;
  readonly observationSpace = pendulumObservationSpace();
  readonly actionSpace = new Box<Float32Array>(-PENDULUM_MAX_TORQUE, PENDULUM_MAX_TORQUE, [1], 'float32');
  readonly g: number;
  /** The last torque after clipping (Gymnasium's last_u), null right after reset. */
  private lastU: number | null = null;

  constructor(options: PendulumOptions = {}) {
    super();
    this.g = checkPendulumOptions(options, 'Pendulum').g;
    this.metadata = { renderModes: ['json', 'ansi'], renderFps: 30 };
  }

  override reset(args: ResetArgs = {}): ResetResult<Float32Array> {
    super.reset(args);
    const [x, y] = pendulumResetHigh(args.options, 'Pendulum.reset');
    const rng = this.npRandom;
    // NumPy's uniform(low=-high, high=high) draws θ then θ̇.
    const th = rng.uniform(-x, x);
    const thdot = rng.uniform(-y, y);
    this.stateValue = Float64Array.of(th, thdot);
    this.lastU = null;
    return [pendulumObservation(this.stateValue), {}];
  }

  step(action: Float32Array | ArrayLike<number>): StepResult<Float32Array> {
    const s = this.stateValue;
    if (s === null) throw new EnvError('Pendulum: call reset() before step()');
    const u = pendulumTorque(firstActionValue(action, 'Pendulum', this.actionSpace));
    this.lastU = u;
    const costs = pendulumStep(s, u, this.g);
    return [pendulumObservation(s), -costs, false, false, {}];
  }

  protected ownSnapshot(): Record<string, unknown> {
    return { lastU: this.lastU };
  }

  protected restoreOwn(snapshot: EnvSnapshot): void {
    this.lastU = snapshot.lastU as number | null;
  }

  render(): PendulumFrame | string {
    const s = this.stateValue;
    if (s === null) throw new EnvError('Pendulum: call reset() before render()');
    const frame = pendulumFrame(s[0]!, s[1]!, this.lastU);
    return this.renderMode === 'ansi' ? pendulumAnsi(frame) : frame;
  }
}

export function pendulumObservation(s: ArrayLike<number>, out = new Float32Array(3), offset = 0, so = 0): Float32Array {
  out[offset] = Math.cos(s[so]!);
  out[offset + 1] = Math.sin(s[so]!);
  out[offset + 2] = s[so + 1]!;
  return out;
}

export function pendulumFrame(theta: number, thetaDot: number, lastTorque: number | null): PendulumFrame {
  return { kind: 'pendulum', theta, thetaDot, lastTorque, maxTorque: PENDULUM_MAX_TORQUE };
}

/** The rod from the pivot (o) to its tip (@), upright being up. */
export function pendulumAnsi(f: PendulumFrame): string {
  const c = new AsciiCanvas(29, 13, -1.4, 1.4, 0);
  // θ = 0 points up and grows counter-clockwise: the tip is at (−sin θ, cos θ).
  const x = -Math.sin(f.theta);
  const y = Math.cos(f.theta);
  c.line(0, 0, x, y, '#');
  c.put(0, 0, 'o');
  c.put(x, y, '@');
  const torque = f.lastTorque === null ? 'reset' : `torque ${signed(f.lastTorque, 2)} (${f.lastTorque > 0 ? 'counter-clockwise' : f.lastTorque < 0 ? 'clockwise' : 'none'})`;
  return `${c}\ntheta ${signed(angleNormalize(f.theta))}  omega ${signed(f.thetaDot)}  ${torque}`;
}

/**
 * Mountain Car (Moore 1990) with Gymnasium's `MountainCar-v0` dynamics.
 *
 * An under-powered car sits in a valley whose height is sin(3x)·0.45 + 0.55; push left (0), not at all (1) or
 * right (2) to rock it up to the flag at x = 0.5. Reward −1 per step; the episode terminates at the flag
 * (velocity ≥ goalVelocity, default 0) and is truncated after 200 steps. Observation (float32): [x, ẋ].
 *
 *   ẋ ← clip(ẋ + (a − 1)·0.001 + cos(3x)·(−0.0025), ±0.07);  x ← clip(x + ẋ, −1.2, 0.6);  ẋ ← 0 at the left wall
 *
 * The state is float64, computed in Gymnasium's order of operations. The reset draws x uniform(−0.6, −0.4)
 * (`options.low` / `options.high` change it) with ẋ = 0. The continuous version is in mountain_car_continuous.ts.
 */
import { EnvError, type EnvSnapshot, type ResetArgs, type ResetResult, type StepResult } from '../core.js';
import type { MountainCarFrame } from '../frames.js';
import { Box, Discrete } from '../spaces.js';
import { describeValue } from '../utils/seeding.js';
import { PhysicsEnv } from './physics_env.js';
import { checkOptionNames } from '../utils/options.js';
import { AsciiCanvas, signed } from '../utils/ascii_canvas.js';
import { resetBounds } from './cartpole.js';

export const MIN_POSITION = -1.2;
export const MAX_POSITION = 0.6;
export const MAX_SPEED = 0.07;
export const GOAL_POSITION = 0.5;
export const FORCE = 0.001;
export const MOUNTAIN_GRAVITY = 0.0025;
export const MOUNTAIN_RESET_LOW = -0.6;
export const MOUNTAIN_RESET_HIGH = -0.4;

export interface MountainCarOptions {
  /** The car must reach the flag at least this fast to terminate (Gymnasium's goal_velocity; default 0). */
  goalVelocity?: number;
}

export function checkGoalVelocity(options: unknown, where: string): number {
  const { goalVelocity = 0 } = checkOptionNames(where, options as MountainCarOptions, ['goalVelocity']);
  if (typeof goalVelocity !== 'number' || !Number.isFinite(goalVelocity)) throw new EnvError(`${where}: goalVelocity must be a finite number, got ${describeValue(goalVelocity)}`);
  return goalVelocity;
}

/** Box([−1.2, −0.07], [0.6, 0.07], float32), shared by both mountain cars. */
export function mountainCarObservationSpace(): Box<Float32Array> {
  return new Box<Float32Array>([MIN_POSITION, -MAX_SPEED], [MAX_POSITION, MAX_SPEED], [2], 'float32');
}

/** Height of the valley at x (what the viewer and the text rendering draw). */
export function mountainHeight(x: number): number {
  return Math.sin(3 * x) * 0.45 + 0.55;
}

export class MountainCarEnv extends PhysicsEnv<number> {
  protected readonly label = 'MountainCar';
  protected readonly stateNames = ['position', 'velocity'] as const;
  readonly observationSpace = mountainCarObservationSpace();
  readonly actionSpace = new Discrete(3);
  readonly goalVelocity: number;
  private lastAction: number | null = null;

  constructor(options: MountainCarOptions = {}) {
    super();
    this.goalVelocity = checkGoalVelocity(options, 'MountainCar');
    this.metadata = { renderModes: ['json', 'ansi'], renderFps: 30 };
  }

  override reset(args: ResetArgs = {}): ResetResult<Float32Array> {
    super.reset(args);
    const [low, high] = resetBounds(args.options, 'MountainCar.reset', MOUNTAIN_RESET_LOW, MOUNTAIN_RESET_HIGH);
    this.stateValue = Float64Array.of(this.npRandom.uniform(low, high), 0);
    this.lastAction = null;
    return [Float32Array.from(this.stateValue), {}];
  }

  step(action: number): StepResult<Float32Array> {
    const s = this.stateValue;
    if (s === null) throw new EnvError('MountainCar: call reset() before step()');
    if (action !== 0 && action !== 1 && action !== 2) throw new EnvError(`MountainCar: invalid action ${describeValue(action)}: not in the action space Discrete(3)`);
    let position = s[0]!;
    let velocity = s[1]!;
    velocity += (action - 1) * FORCE + Math.cos(3 * position) * -MOUNTAIN_GRAVITY;
    velocity = Math.min(Math.max(velocity, -MAX_SPEED), MAX_SPEED);
    position += velocity;
    position = Math.min(Math.max(position, MIN_POSITION), MAX_POSITION);
    if (position === MIN_POSITION && velocity < 0) velocity = 0;
    s[0] = position;
    s[1] = velocity;
    this.lastAction = action;
    const terminated = position >= GOAL_POSITION && velocity >= this.goalVelocity;
    return [Float32Array.of(position, velocity), -1.0, terminated, false, {}];
  }

  protected ownSnapshot(): Record<string, unknown> {
    return { lastAction: this.lastAction };
  }

  protected restoreOwn(snapshot: EnvSnapshot): void {
    this.lastAction = snapshot.lastAction as number | null;
  }

  render(): MountainCarFrame | string {
    const s = this.stateValue;
    if (s === null) throw new EnvError('MountainCar: call reset() before render()');
    const frame = mountainCarFrame(s[0]!, s[1]!, this.lastAction === null ? null : this.lastAction - 1, false);
    return this.renderMode === 'ansi' ? mountainCarAnsi(frame) : frame;
  }
}

export function mountainCarFrame(position: number, velocity: number, lastForce: number | null, continuous: boolean, goalPosition = GOAL_POSITION): MountainCarFrame {
  return { kind: 'mountaincar', position, velocity, minPosition: MIN_POSITION, maxPosition: MAX_POSITION, goalPosition, lastForce, continuous };
}

/** The valley as a curve of dots, the flag (F) at the goal and the car (C) on the slope. */
export function mountainCarAnsi(f: MountainCarFrame): string {
  const c = new AsciiCanvas(61, 17, f.minPosition, f.maxPosition, 0.55);
  const steps = 120;
  for (let k = 0; k <= steps; k++) {
    const x = f.minPosition + ((f.maxPosition - f.minPosition) * k) / steps;
    c.put(x, mountainHeight(x), '.');
  }
  c.put(f.goalPosition, mountainHeight(f.goalPosition) + 0.06, 'F');
  c.put(f.position, mountainHeight(f.position) + 0.03, 'C');
  const push = f.lastForce === null ? 'reset' : f.lastForce > 0 ? `push right ${f.continuous ? f.lastForce.toFixed(2) : ''}`.trim() : f.lastForce < 0 ? `push left ${f.continuous ? (-f.lastForce).toFixed(2) : ''}`.trim() : 'no push';
  return `${c}\nx ${signed(f.position)}  v ${signed(f.velocity, 4)}  goal x >= ${f.goalPosition}  ${push}`;
}

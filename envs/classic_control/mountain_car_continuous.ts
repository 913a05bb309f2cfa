/**
 * Continuous Mountain Car with Gymnasium's `MountainCarContinuous-v0` dynamics: the valley of MountainCar-v0,
 * but the action is a force in Box(−1, 1, (1,), float32) (values outside are clipped, as Gymnasium does) and
 * the flag stands at x = 0.45.
 *
 *   ẋ ← ẋ + clip(a, −1, 1)·0.0015 − 0.0025·cos(3x), limited to ±0.07;  x ← x + ẋ within [−1.2, 0.6]
 *
 * Reward: 100 on the step that reaches the flag, minus 0.1·a² every step (a as given, before clipping, as
 * Gymnasium computes it). Terminates at the flag (velocity ≥ goalVelocity), truncated after 999 steps.
 *
 * Numbers: Gymnasium stores the state as float32 after every step (the reset state is float64). The arithmetic
 * is float64 in its order of operations (NumPy 1.x promotes float32 with Python floats to float64); the action is
 * taken as float32, the dtype of the action space.
 */
import { EnvError, type EnvSnapshot, type ResetArgs, type ResetResult, type StepResult } from '../core.js';
import type { MountainCarFrame } from '../frames.js';
import { Box } from '../spaces.js';
import { describeValue } from '../utils/seeding.js';
import { PhysicsEnv } from './physics_env.js';
import { resetBounds } from './cartpole.js';
import {
  MAX_POSITION,
  MAX_SPEED,
  MIN_POSITION,
  MOUNTAIN_RESET_HIGH,
  MOUNTAIN_RESET_LOW,
  checkGoalVelocity,
  mountainCarAnsi,
  mountainCarFrame,
  mountainCarObservationSpace,
  type MountainCarOptions,
} from './mountain_car.js';

export const CONTINUOUS_GOAL_POSITION = 0.45;
export const POWER = 0.0015;
export const MIN_ACTION = -1.0;
export const MAX_ACTION = 1.0;

/** The first number of a Box action as float32 (the action space's dtype), or an error naming the env. */
export function firstActionValue(action: unknown, env: string, space: Box): number {
  const problem = space.actionProblem(action);
  if (problem !== null) throw new EnvError(`${env}: invalid action ${describeValue(action)} for the action space ${space}: ${problem}`);
  return Math.fround((action as ArrayLike<number>)[0]!);
}

/**
 * One step of the continuous mountain car from [x, ẋ] (updated in place, stored as float32 as Gymnasium does)
 * under force value `a`; returns the reward and whether the car reached the flag.
 */
export function mountainCarContinuousStep(s: Float64Array, a: number, goalVelocity: number, out: { reward: number; terminated: boolean }, offset = 0): void {
  let position = s[offset]!;
  let velocity = s[offset + 1]!;
  const force = Math.min(Math.max(a, MIN_ACTION), MAX_ACTION);
  velocity += force * POWER - 0.0025 * Math.cos(3 * position);
  if (velocity > MAX_SPEED) velocity = MAX_SPEED;
  if (velocity < -MAX_SPEED) velocity = -MAX_SPEED;
  position += velocity;
  if (position > MAX_POSITION) position = MAX_POSITION;
  if (position < MIN_POSITION) position = MIN_POSITION;
  if (position === MIN_POSITION && velocity < 0) velocity = 0;
  const terminated = position >= CONTINUOUS_GOAL_POSITION && velocity >= goalVelocity;
  let reward = 0;
  if (terminated) reward = 100.0;
  reward -= a * a * 0.1;
  s[offset] = Math.fround(position);
  s[offset + 1] = Math.fround(velocity);
  out.reward = reward;
  out.terminated = terminated;
}

export class MountainCarContinuousEnv extends PhysicsEnv<Float32Array> {
  protected readonly label = 'MountainCarContinuous';
  protected readonly stateNames = ['position', 'velocity'] as const;
  readonly observationSpace = mountainCarObservationSpace();
  readonly actionSpace = new Box<Float32Array>(MIN_ACTION, MAX_ACTION, [1], 'float32');
  readonly goalVelocity: number;
  /** The last force after clipping (for the frame), null right after reset. */
  private lastForce: number | null = null;
  private readonly result = { reward: 0, terminated: false };

  constructor(options: MountainCarOptions = {}) {
    super();
    this.goalVelocity = checkGoalVelocity(options, 'MountainCarContinuous');
    this.metadata = { renderModes: ['json', 'ansi'], renderFps: 30 };
  }

  override reset(args: ResetArgs = {}): ResetResult<Float32Array> {
    super.reset(args);
    const [low, high] = resetBounds(args.options, 'MountainCarContinuous.reset', MOUNTAIN_RESET_LOW, MOUNTAIN_RESET_HIGH);
    this.stateValue = Float64Array.of(this.npRandom.uniform(low, high), 0);
    this.lastForce = null;
    return [Float32Array.from(this.stateValue), {}];
  }

  step(action: Float32Array | ArrayLike<number>): StepResult<Float32Array> {
    const s = this.stateValue;
    if (s === null) throw new EnvError('MountainCarContinuous: call reset() before step()');
    const a = firstActionValue(action, 'MountainCarContinuous', this.actionSpace);
    mountainCarContinuousStep(s, a, this.goalVelocity, this.result);
    this.lastForce = Math.min(Math.max(a, MIN_ACTION), MAX_ACTION);
    return [Float32Array.from(s), this.result.reward, this.result.terminated, false, {}];
  }

  protected ownSnapshot(): Record<string, unknown> {
    return { lastForce: this.lastForce };
  }

  protected restoreOwn(snapshot: EnvSnapshot): void {
    this.lastForce = snapshot.lastForce as number | null;
  }

  render(): MountainCarFrame | string {
    const s = this.stateValue;
    if (s === null) throw new EnvError('MountainCarContinuous: call reset() before render()');
    const frame = mountainCarFrame(s[0]!, s[1]!, this.lastForce, true, CONTINUOUS_GOAL_POSITION);
    return this.renderMode === 'ansi' ? mountainCarAnsi(frame) : frame;
  }
}

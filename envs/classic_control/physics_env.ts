/**
 * What the classic-control envs share (Cart-Pole, Acrobot, the mountain cars, Pendulum): a float64 physical
 * state, `env.unwrapped.state`, that tests and analyses may read and set (checked: the right number of finite
 * values), and snapshots of it with the env's RNG and the few fields of its own each env keeps (its last action,
 * Gymnasium's counters), so that a restored env steps on bit for bit.
 */
import { Env, EnvError, type EnvSnapshot } from '../core.js';
import { describeValue } from '../utils/seeding.js';

export abstract class PhysicsEnv<Act> extends Env<Float32Array, Act> {
  /** The env's name in error messages ('CartPole'). */
  protected abstract readonly label: string;
  /** The state's components, in order ('x', 'xDot', …): its length and the setter's error come from it. */
  protected abstract readonly stateNames: readonly string[];
  protected stateValue: Float64Array | null = null;

  /** The physical state in float64 (components `stateNames`); null before the first reset. Settable. */
  get state(): Float64Array | null {
    return this.stateValue;
  }

  set state(value: ArrayLike<number> | null) {
    const n = this.stateNames.length;
    if (value !== null && (typeof value !== 'object' || value.length !== n || !Array.from(value).every((v) => typeof v === 'number' && Number.isFinite(v)))) {
      throw new EnvError(`${this.label}: state must be ${n} finite numbers [${this.stateNames.join(', ')}], got ${describeValue(value)}`);
    }
    this.stateValue = value === null ? null : Float64Array.from(value);
    this.stateChanged();
  }

  /** Called after `state` is set from outside (Cart-Pole forgets that its episode had terminated). */
  protected stateChanged(): void {}

  /** The env's own snapshot fields besides the state and the RNG. */
  protected abstract ownSnapshot(): Record<string, unknown>;
  /** Restores what `ownSnapshot` saved. */
  protected abstract restoreOwn(snapshot: EnvSnapshot): void;

  override snapshot(): EnvSnapshot {
    return { state: this.stateValue === null ? null : Array.from(this.stateValue), ...this.ownSnapshot(), rng: this.rngSnapshot() };
  }

  override restore(snapshot: EnvSnapshot): void {
    const state = snapshot.state as number[] | null;
    this.stateValue = state === null ? null : Float64Array.from(state);
    this.restoreOwn(snapshot);
    this.restoreRng(snapshot.rng as Parameters<Env['restoreRng']>[0]);
  }
}

/**
 * Shared base of the toy-text grid games (FrozenLake, CliffWalking, Taxi): a finite MDP given by its
 * transition table `P[s][a] = [[p, nextState, reward, terminated], …]`, which `step()` samples from and
 * planning code (value iteration, policy iteration) reads directly through `env.unwrapped.P`.
 */
import { Env, InvalidAction, ResetNeeded, type EnvSnapshot, type Info, type ResetArgs, type ResetResult, type StepResult } from '../core.js';
import { Discrete } from '../spaces.js';
import { describeValue } from '../utils/seeding.js';

export type Transition = [p: number, nextState: number, reward: number, terminated: boolean];
export type TransitionTable = Transition[][][];

export abstract class TabularEnv extends Env<number, number> {
  abstract override readonly observationSpace: Discrete;
  abstract override readonly actionSpace: Discrete;
  /** `P[s][a]`: the possible outcomes of action a in state s, probabilities summing to 1. */
  abstract readonly P: TransitionTable;
  /** Current state; -1 before the first reset. */
  s = -1;
  lastAction: number | null = null;

  /** Draws the start state from `this.npRandom`. */
  protected abstract initialState(): number;

  /** Extra info entries for the current state (e.g. Taxi's action mask). */
  protected stateInfo(): Info {
    return {};
  }

  override reset(args: ResetArgs = {}): ResetResult<number> {
    super.reset(args);
    this.s = this.initialState();
    this.lastAction = null;
    return [this.s, { prob: 1, ...this.stateInfo() }];
  }

  override snapshot(): EnvSnapshot {
    return { s: this.s, lastAction: this.lastAction, rng: this.rngSnapshot(), ...this.extraSnapshot() };
  }

  override restore(snapshot: EnvSnapshot): void {
    this.s = snapshot.s as number;
    this.lastAction = snapshot.lastAction as number | null;
    this.restoreRng(snapshot.rng as Parameters<Env['restoreRng']>[0]);
    this.restoreExtra(snapshot);
  }

  /** State beyond (s, lastAction, RNG) that a subclass keeps (e.g. Taxi's fickle passenger). */
  protected extraSnapshot(): EnvSnapshot {
    return {};
  }

  protected restoreExtra(_snapshot: EnvSnapshot): void {}

  step(action: number): StepResult<number> {
    if (this.s < 0) throw new ResetNeeded(`${this.constructor.name}: call reset() before step()`);
    if (!this.actionSpace.contains(action)) {
      throw new InvalidAction(`${this.constructor.name}: invalid action ${describeValue(action)}: not in the action space ${this.actionSpace}`);
    }
    const transitions = this.P[this.s]![action]!;
    // Gymnasium's categorical_sample: the first outcome whose cumulative probability exceeds u.
    const u = this.npRandom.double();
    let k = transitions.length - 1;
    let acc = 0;
    for (let i = 0; i < transitions.length; i++) {
      acc += transitions[i]![0];
      if (acc > u) {
        k = i;
        break;
      }
    }
    const [p, next, reward, terminated] = transitions[k]!;
    this.s = next;
    this.lastAction = action;
    return [next, reward, terminated, false, { prob: p, ...this.stateInfo() }];
  }
}

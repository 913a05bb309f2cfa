/**
 * Example plug-in env: a corridor of `length` cells. The agent starts in cell 0 and walks left (0) or right (1);
 * reaching the last cell ends the episode with reward +1, every other step costs 0.01, and with probability
 * `slip` a step goes the other way. Registered as Corridor-v0, so
 *
 *   npx lab train --env ./examples/corridor_env.ts:Corridor-v0 --agent dqn --steps 3000
 *
 * trains the built-in DQN on it, and `make('./examples/corridor_env.ts:Corridor-v0')` builds it once imported
 * (`await makeAsync(...)` imports it). Its json frames are FrozenLake frames of a one-row map, so the viewer
 * draws it with the FrozenLake renderer.
 */
import { Discrete, Env, register, type EnvSnapshot, type FrozenLakeFrame, type ResetArgs, type ResetResult, type StepResult } from '../index.js';

export interface CorridorOptions {
  /** Cells, the goal being the last one (at least 2). */
  length?: number;
  /** Probability that a step goes the other way. */
  slip?: number;
}

export class CorridorEnv extends Env<number, number> {
  readonly observationSpace: Discrete;
  readonly actionSpace = new Discrete(2);
  readonly length: number;
  readonly slip: number;
  private cell = 0;
  private lastAction: number | null = null;

  constructor({ length = 8, slip = 0.1 }: CorridorOptions = {}) {
    super();
    if (!Number.isSafeInteger(length) || length < 2) throw new Error(`Corridor: length must be an integer >= 2, got ${length}`);
    if (!(slip >= 0 && slip < 0.5)) throw new Error(`Corridor: slip must be in [0, 0.5), got ${slip}`);
    this.length = length;
    this.slip = slip;
    this.observationSpace = new Discrete(length);
    this.metadata = { renderModes: ['json', 'ansi'], renderFps: 8 };
  }

  override reset(args: ResetArgs = {}): ResetResult<number> {
    super.reset(args);
    this.cell = 0;
    this.lastAction = null;
    return [this.cell, {}];
  }

  step(action: number): StepResult<number> {
    const slipped = this.npRandom.double() < this.slip;
    const right = (action === 1) !== slipped;
    this.cell = Math.max(0, Math.min(this.length - 1, this.cell + (right ? 1 : -1)));
    this.lastAction = action;
    const terminated = this.cell === this.length - 1;
    return [this.cell, terminated ? 1 : -0.01, terminated, false, { slipped }];
  }

  render(): FrozenLakeFrame | string {
    if (this.renderMode === 'ansi') return Array.from({ length: this.length }, (_, i) => (i === this.cell ? 'A' : i === this.length - 1 ? 'G' : '.')).join('');
    // FrozenLake's actions: 0 left, 2 right.
    return { kind: 'frozenlake', map: ['S' + 'F'.repeat(this.length - 2) + 'G'], agent: [0, this.cell], lastAction: this.lastAction === null ? null : this.lastAction === 1 ? 2 : 0 };
  }

  override snapshot(): EnvSnapshot {
    return { cell: this.cell, lastAction: this.lastAction, rng: this.rngSnapshot() };
  }

  override restore(snapshot: EnvSnapshot): void {
    this.cell = snapshot.cell as number;
    this.lastAction = snapshot.lastAction as number | null;
    this.restoreRng(snapshot.rng as Parameters<Env['restoreRng']>[0]);
  }
}

register({
  id: 'Corridor-v0',
  entryPoint: (kwargs) => new CorridorEnv(kwargs as CorridorOptions),
  maxEpisodeSteps: 100,
  rewardThreshold: 0.9,
  description: 'examples/corridor_env.ts: walk right to the end of a slippery corridor',
});

/**
 * Wrappers (Gymnasium's `gymnasium.wrappers`). `make()` applies EnvChecker → OrderEnforcing → TimeLimit,
 * innermost first, so `make('CartPole-v1').toString()` reads
 * `<TimeLimit<OrderEnforcing<EnvChecker<CartPoleEnv<CartPole-v1>>>>>`.
 */
import { Env, EnvError, InvalidAction, ResetNeeded, Wrapper, type EnvSnapshot, type Info, type ResetArgs, type ResetResult, type StepResult } from './core.js';
import type { RenderFrame } from './frames.js';
import { Box, type Space } from './spaces.js';
import { describeValue } from './utils/seeding.js';

function envName(env: Env): string {
  return env.spec?.id ?? env.unwrapped.constructor.name;
}

/**
 * Validates every action against the action space (an error names the env, the action and the space), and
 * checks the first reset and step for API mistakes a custom env can make (Gymnasium's PassiveEnvChecker,
 * but raising instead of warning: a wrong observation is a bug, not a style issue).
 */
export class EnvChecker<Obs, Act> extends Wrapper<Obs, Act> {
  private checkedReset = false;
  private checkedStep = false;

  override reset(args: ResetArgs = {}): ResetResult<Obs> {
    const result = this.env.reset(args);
    if (!this.checkedReset) {
      if (!Array.isArray(result) || result.length !== 2) {
        throw new EnvError(`${envName(this)}: reset() must return [obs, info], got ${describeValue(result)}`);
      }
      this.checkObs(result[0], 'reset()');
      this.checkInfo(result[1], 'reset()');
      this.checkedReset = true;
    }
    return result;
  }

  override step(action: Act): StepResult<Obs> {
    const space = this.env.actionSpace;
    if (space instanceof Box) {
      // Out-of-bound values are the env's to clip (Gymnasium's continuous envs do); NaN or a wrong length is a bug.
      const problem = space.actionProblem(action);
      if (problem !== null) throw new InvalidAction(`${envName(this)}: invalid action ${describeValue(action)} for the action space ${space}: ${problem}`);
    } else if (!space.contains(action)) {
      throw new InvalidAction(
        `${envName(this)}: invalid action ${describeValue(action)}: not in the action space ${space}`,
      );
    }
    const result = this.env.step(action);
    if (!this.checkedStep) {
      if (!Array.isArray(result) || result.length !== 5) {
        throw new EnvError(`${envName(this)}: step() must return [obs, reward, terminated, truncated, info], got ${describeValue(result)}`);
      }
      const [obs, reward, terminated, truncated, info] = result;
      this.checkObs(obs, 'step()');
      if (typeof reward !== 'number' || Number.isNaN(reward)) throw new EnvError(`${envName(this)}: step() reward must be a number, got ${describeValue(reward)}`);
      if (typeof terminated !== 'boolean') throw new EnvError(`${envName(this)}: step() terminated must be a boolean, got ${describeValue(terminated)}`);
      if (typeof truncated !== 'boolean') throw new EnvError(`${envName(this)}: step() truncated must be a boolean, got ${describeValue(truncated)}`);
      this.checkInfo(info, 'step()');
      this.checkedStep = true;
    }
    return result;
  }

  private checkObs(obs: unknown, where: string): void {
    if (!this.env.observationSpace.contains(obs)) {
      throw new EnvError(`${envName(this)}: ${where} returned an observation outside the observation space ${this.env.observationSpace}: ${describeValue(obs)}`);
    }
  }

  private checkInfo(info: unknown, where: string): void {
    if (typeof info !== 'object' || info === null || Array.isArray(info)) {
      throw new EnvError(`${envName(this)}: ${where} info must be a plain object, got ${describeValue(info)}`);
    }
  }
}

/** Refuses `step()` and `render()` before the first `reset()` (Gymnasium's OrderEnforcing). */
export class OrderEnforcing<Obs, Act> extends Wrapper<Obs, Act> {
  private hasReset = false;

  get hasResetOnce(): boolean {
    return this.hasReset;
  }

  override reset(args: ResetArgs = {}): ResetResult<Obs> {
    const result = this.env.reset(args);
    this.hasReset = true;
    return result;
  }

  override snapshot(): EnvSnapshot {
    return { hasReset: this.hasReset, inner: this.env.snapshot() };
  }

  override restore(snapshot: EnvSnapshot): void {
    this.env.restore(snapshot.inner as EnvSnapshot);
    this.hasReset = snapshot.hasReset === true;
  }

  override step(action: Act): StepResult<Obs> {
    if (!this.hasReset) throw new ResetNeeded(`${envName(this)}: cannot call step() before reset(); call env.reset() first`);
    return this.env.step(action);
  }

  override render(): RenderFrame | string {
    if (!this.hasReset) throw new ResetNeeded(`${envName(this)}: cannot call render() before reset(); call env.reset() first`);
    return this.env.render();
  }
}

/** Sets `truncated` once an episode reaches `maxEpisodeSteps` steps; never touches `terminated`. */
export class TimeLimit<Obs, Act> extends Wrapper<Obs, Act> {
  private elapsed = 0;

  constructor(
    env: Env<Obs, Act>,
    readonly maxEpisodeSteps: number,
  ) {
    super(env);
    if (!Number.isSafeInteger(maxEpisodeSteps) || maxEpisodeSteps <= 0) {
      throw new EnvError(`TimeLimit: maxEpisodeSteps must be a positive integer, got ${describeValue(maxEpisodeSteps)}`);
    }
  }

  /** Steps taken in the current episode. */
  get elapsedSteps(): number {
    return this.elapsed;
  }

  override reset(args: ResetArgs = {}): ResetResult<Obs> {
    this.elapsed = 0;
    return this.env.reset(args);
  }

  override step(action: Act): StepResult<Obs> {
    const result = this.env.step(action);
    if (++this.elapsed >= this.maxEpisodeSteps) result[3] = true;
    return result;
  }

  override snapshot(): EnvSnapshot {
    return { elapsed: this.elapsed, inner: this.env.snapshot() };
  }

  override restore(snapshot: EnvSnapshot): void {
    this.env.restore(snapshot.inner as EnvSnapshot);
    this.elapsed = snapshot.elapsed as number;
  }
}

export interface EpisodeStatistics {
  /** Undiscounted return. */
  r: number;
  /** Length in steps. */
  l: number;
  /** Wall-clock seconds since the episode's reset. */
  t: number;
}

/**
 * At the end of each episode adds `info.episode = { r, l, t }` and keeps the last `bufferLength` returns,
 * lengths and times in `returnQueue`, `lengthQueue`, `timeQueue`.
 */
export class RecordEpisodeStatistics<Obs, Act> extends Wrapper<Obs, Act> {
  readonly returnQueue: number[] = [];
  readonly lengthQueue: number[] = [];
  readonly timeQueue: number[] = [];
  episodeCount = 0;
  private episodeReturn = 0;
  private episodeLength = 0;
  private episodeStart = 0;

  constructor(
    env: Env<Obs, Act>,
    readonly bufferLength = 100,
    readonly statsKey = 'episode',
  ) {
    super(env);
  }

  override reset(args: ResetArgs = {}): ResetResult<Obs> {
    const result = this.env.reset(args);
    this.episodeReturn = 0;
    this.episodeLength = 0;
    this.episodeStart = performance.now();
    return result;
  }

  override step(action: Act): StepResult<Obs> {
    const result = this.env.step(action);
    this.episodeReturn += result[1];
    this.episodeLength += 1;
    if (result[2] || result[3]) {
      const stats: EpisodeStatistics = {
        r: this.episodeReturn,
        l: this.episodeLength,
        t: Math.round(performance.now() - this.episodeStart) / 1000,
      };
      result[4] = { ...result[4], [this.statsKey]: stats };
      for (const [queue, v] of [
        [this.returnQueue, stats.r],
        [this.lengthQueue, stats.l],
        [this.timeQueue, stats.t],
      ] as const) {
        queue.push(v);
        if (queue.length > this.bufferLength) queue.shift();
      }
      this.episodeCount += 1;
    }
    return result;
  }

  override snapshot(): EnvSnapshot {
    return {
      episodeReturn: this.episodeReturn,
      episodeLength: this.episodeLength,
      episodeCount: this.episodeCount,
      queues: [this.returnQueue, this.lengthQueue, this.timeQueue].map((q) => [...q]),
      inner: this.env.snapshot(),
    };
  }

  override restore(snapshot: EnvSnapshot): void {
    this.env.restore(snapshot.inner as EnvSnapshot);
    this.episodeReturn = snapshot.episodeReturn as number;
    this.episodeLength = snapshot.episodeLength as number;
    this.episodeCount = snapshot.episodeCount as number;
    const queues = snapshot.queues as number[][];
    [this.returnQueue, this.lengthQueue, this.timeQueue].forEach((q, i) => q.splice(0, q.length, ...queues[i]!));
    // Wall-clock time is not part of the trajectory: the restored episode's clock starts now.
    this.episodeStart = performance.now();
  }
}

/** Applies `f` to every observation; give `observationSpace` when `f` changes it. */
export class TransformObservation<Obs, Act, InnerObs> extends Wrapper<Obs, Act, InnerObs, Act> {
  constructor(
    env: Env<InnerObs, Act>,
    readonly f: (obs: InnerObs) => Obs,
    private readonly space?: Space<Obs>,
  ) {
    super(env);
  }

  override get observationSpace(): Space<Obs> {
    return this.space ?? (this.env.observationSpace as unknown as Space<Obs>);
  }

  override reset(args: ResetArgs = {}): ResetResult<Obs> {
    const [obs, info] = this.env.reset(args);
    return [this.f(obs), info];
  }

  override step(action: Act): StepResult<Obs> {
    const [obs, reward, terminated, truncated, info] = this.env.step(action);
    return [this.f(obs), reward, terminated, truncated, info];
  }
}

/** Applies `f` to every reward (e.g. scaling, or the book's −10 on the failing step via `info`). */
export class TransformReward<Obs, Act> extends Wrapper<Obs, Act> {
  constructor(
    env: Env<Obs, Act>,
    readonly f: (reward: number, terminated: boolean, truncated: boolean, info: Info) => number,
  ) {
    super(env);
  }

  override step(action: Act): StepResult<Obs> {
    const result = this.env.step(action);
    result[1] = this.f(result[1], result[2], result[3], result[4]);
    return result;
  }
}

/** Clips rewards to [min, max]. */
export class ClipReward<Obs, Act> extends TransformReward<Obs, Act> {
  constructor(env: Env<Obs, Act>, min: number, max: number) {
    if (!(min <= max)) throw new EnvError(`ClipReward: min (${min}) must not exceed max (${max})`);
    super(env, (r) => Math.min(max, Math.max(min, r)));
  }
}

/**
 * The environment API (Gymnasium's `gymnasium.core`): `Env`, `Wrapper` and the types they exchange.
 *
 *   const env = make('CartPole-v1');
 *   let [obs, info] = env.reset({ seed: 42 });
 *   const [next, reward, terminated, truncated, stepInfo] = env.step(1);
 *
 * `terminated`: the MDP reached a terminal state (do not bootstrap). `truncated`: the episode was cut short
 * by something outside the MDP, usually a time limit (do bootstrap). After either, call `reset()`.
 */
import type { Space } from './spaces.js';
import type { RenderFrame } from './frames.js';
import { Rng, assertSeed } from './utils/seeding.js';

export type Info = Record<string, unknown>;
export type StepResult<Obs> = [obs: Obs, reward: number, terminated: boolean, truncated: boolean, info: Info];
export type ResetResult<Obs> = [obs: Obs, info: Info];

export interface ResetArgs {
  /** Non-negative integer: re-creates the env's RNG. Omitted: the RNG continues where it was. */
  seed?: number;
  options?: Record<string, unknown>;
}

/** `json` frames feed the browser viewer; `ansi` strings print in a terminal. */
export type RenderMode = 'json' | 'ansi';

export interface EnvMetadata {
  renderModes: readonly RenderMode[];
  /** Frames per second at which an episode looks real-time. */
  renderFps: number;
  /** Vector envs only: how finished sub-envs are reset. */
  autoresetMode?: AutoresetMode;
}

export type AutoresetMode = 'next-step' | 'same-step' | 'disabled';

export interface EnvSpec {
  id: string;
  maxEpisodeSteps?: number;
  rewardThreshold?: number;
  /** Constructor options given to the env (registered defaults merged with the user's). */
  kwargs: Record<string, unknown>;
  nondeterministic: boolean;
}

/** JSON data produced by `Env.snapshot()`; its shape is private to each env. */
export type EnvSnapshot = { readonly [key: string]: unknown };

export class EnvError extends Error {
  override name = 'EnvError';
}

/** `step()` or `render()` before the first `reset()` (Gymnasium's `ResetNeeded`). */
export class ResetNeeded extends EnvError {
  override name = 'ResetNeeded';
}

export class InvalidAction extends EnvError {
  override name = 'InvalidAction';
}

export abstract class Env<Obs = unknown, Act = unknown> {
  abstract readonly observationSpace: Space<Obs>;
  abstract readonly actionSpace: Space<Act>;
  // Accessors rather than fields so that wrappers can forward them to the env they wrap.
  private metadataValue: EnvMetadata = { renderModes: ['json', 'ansi'], renderFps: 30 };
  private renderModeValue: RenderMode = 'json';
  private specValue: EnvSpec | null = null;
  private rngInstance: Rng | null = null;

  get metadata(): EnvMetadata {
    return this.metadataValue;
  }

  set metadata(m: EnvMetadata) {
    this.metadataValue = m;
  }

  get renderMode(): RenderMode {
    return this.renderModeValue;
  }

  set renderMode(mode: RenderMode) {
    if (!this.metadata.renderModes.includes(mode)) {
      throw new EnvError(`${this.constructor.name}: render mode '${mode}' is not supported; supported modes: ${this.metadata.renderModes.join(', ')}`);
    }
    this.renderModeValue = mode;
  }

  /** Set by `make()`. */
  get spec(): EnvSpec | null {
    return this.specValue;
  }

  set spec(s: EnvSpec | null) {
    this.specValue = s;
  }

  /** The env's RNG, created from a random seed on first use if `reset({ seed })` was never called. */
  get npRandom(): Rng {
    return (this.rngInstance ??= new Rng());
  }

  set npRandom(rng: Rng) {
    this.rngInstance = rng;
  }

  /** The integer the current RNG was created from. */
  get npRandomSeed(): number {
    return this.npRandom.seed;
  }

  /** Subclasses call `super.reset(args)` first: it (re)seeds the RNG when a seed is given. */
  reset(args: ResetArgs = {}): ResetResult<Obs> {
    if (args.seed !== undefined) {
      assertSeed(args.seed);
      this.rngInstance = new Rng(args.seed);
    }
    return undefined as unknown as ResetResult<Obs>;
  }

  abstract step(action: Act): StepResult<Obs>;

  /**
   * A JSON-serialisable copy of everything that decides what the env does next (its state, RNG and
   * counters), so that `restore()` on a fresh env built the same way continues bit for bit. Used for
   * training checkpoints and exact resume. Envs that cannot do this throw.
   */
  snapshot(): EnvSnapshot {
    throw new EnvError(`${this.constructor.name} does not support snapshot()`);
  }

  restore(_snapshot: EnvSnapshot): void {
    throw new EnvError(`${this.constructor.name} does not support restore()`);
  }

  /** The RNG part of a snapshot (null while no RNG was created). */
  protected rngSnapshot(): ReturnType<Rng['toJSON']> | null {
    return this.rngInstance?.toJSON() ?? null;
  }

  protected restoreRng(json: ReturnType<Rng['toJSON']> | null): void {
    this.rngInstance = json === null ? null : Rng.fromJSON(json);
  }

  /** A JSON-serialisable frame (render mode `json`) or a string for a terminal (render mode `ansi`). */
  abstract render(): RenderFrame | string;

  close(): void {}

  get unwrapped(): Env<Obs, Act> {
    return this;
  }

  toString(): string {
    return `<${this.constructor.name}${this.spec ? `<${this.spec.id}>` : ''}>`;
  }
}

/** Wraps an env and forwards everything; subclasses override what they change. */
export class Wrapper<Obs = unknown, Act = unknown, InnerObs = Obs, InnerAct = Act> extends Env<Obs, Act> {
  constructor(readonly env: Env<InnerObs, InnerAct>) {
    super();
    if (!(env instanceof Env)) throw new EnvError(`${new.target.name}: expected an Env to wrap, got ${String(env)}`);
  }

  get observationSpace(): Space<Obs> {
    return this.env.observationSpace as unknown as Space<Obs>;
  }

  get actionSpace(): Space<Act> {
    return this.env.actionSpace as unknown as Space<Act>;
  }

  override get metadata(): EnvMetadata {
    return this.env.metadata;
  }

  override set metadata(m: EnvMetadata) {
    this.env.metadata = m;
  }

  override get renderMode(): RenderMode {
    return this.env.renderMode;
  }

  override set renderMode(mode: RenderMode) {
    this.env.renderMode = mode;
  }

  override get spec(): EnvSpec | null {
    return this.env.spec;
  }

  override set spec(s: EnvSpec | null) {
    this.env.spec = s;
  }

  override get npRandom(): Rng {
    return this.env.npRandom;
  }

  override set npRandom(rng: Rng) {
    this.env.npRandom = rng;
  }

  override reset(args: ResetArgs = {}): ResetResult<Obs> {
    return this.env.reset(args) as unknown as ResetResult<Obs>;
  }

  step(action: Act): StepResult<Obs> {
    return this.env.step(action as unknown as InnerAct) as unknown as StepResult<Obs>;
  }

  render(): RenderFrame | string {
    return this.env.render();
  }

  override close(): void {
    this.env.close();
  }

  /** Wrappers with state of their own override this and nest the inner snapshot. */
  override snapshot(): EnvSnapshot {
    return this.env.snapshot();
  }

  override restore(snapshot: EnvSnapshot): void {
    this.env.restore(snapshot);
  }

  override get unwrapped(): Env<Obs, Act> {
    return this.env.unwrapped as unknown as Env<Obs, Act>;
  }

  override toString(): string {
    return `<${this.constructor.name}${this.env.toString()}>`;
  }
}

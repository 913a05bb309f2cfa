/**
 * What every agent offers the training loop. Agents act on batches of observations (one row per sub-env of a
 * vector env) and learn from each vector step through `observe`; how and when they update is their own
 * business (DQN: replay every few steps; REINFORCE: at episode ends; A2C: every n steps).
 *
 * `act`, `observe`, `episodeEnd` and `savePolicy` may answer with a Promise: on GPU backends (webgpu) a network's
 * output can only be read back asynchronously. The built-in agents answer with plain values where the backend
 * reads synchronously (cpu, wasm), so that path stays free of Promises; agents written synchronously (plug-ins,
 * examples/) keep working unchanged. Every caller awaits.
 */
import type { Space, TypedArray } from '../envs/index.js';
import type { Rng } from '../envs/index.js';
import type { MaybePromise } from '../lab/maybe_async.js';

/**
 * The actions of a batch of n rows: for a Discrete action space an Int32Array of n indices; for a Box action
 * space a Float32Array of n rows of the Box's flat size, row-major. Box actions go to the env as chosen (the
 * continuous envs clip them to their bounds, as Gymnasium's do), and are recorded as chosen.
 */
export type ActionBatch = Int32Array | Float32Array;

/** One vector step, as the loop hands it to `observe`. */
export interface StepBatch {
  /** Observations the actions were chosen from, rows of the raw observation (Discrete: the index). */
  obs: TypedArray;
  /** The actions taken, as `act` returned them (rows of the Box's flat size for Box action spaces). */
  actions: ActionBatch;
  rewards: Float64Array;
  /** The observation after the action; for sub-envs whose episode ended, the final observation. */
  nextObs: TypedArray;
  terminations: Uint8Array;
  truncations: Uint8Array;
  /** Legal actions in `obs` (rows of 0/1 per action, as given to `act`), when the env gives action masks. */
  actionMasks: Int8Array | null;
  /** Legal actions in `nextObs`, likewise. */
  nextActionMasks: Int8Array | null;
}

/** Scalars an update reports (losses, ε, entropy …); the loop averages and logs them. */
export type UpdateStats = Record<string, number>;

export interface AgentSetup {
  observationSpace: Space;
  actionSpace: Space;
  numEnvs: number;
  /** Env steps the run will take in total (schedules such as ε are defined over it). */
  totalSteps: number;
  /** Seeds the agent's own RNG (weights, exploration, sampling). */
  seed: number;
}

export interface Agent {
  readonly name: string;
  /** The full hyperparameter object (stored in config.json). */
  readonly config: object;
  /** Sub-envs the agent wants (1 for DQN and REINFORCE, n for A2C). */
  readonly numEnvs: number;
  /**
   * Actions for `n` observation rows (see ActionBatch); `explore` false gives the greedy / most likely action
   * (for a Gaussian policy, its mean).
   */
  act(obs: TypedArray, n: number, explore: boolean, actionMasks?: Int8Array | null): MaybePromise<ActionBatch>;
  /** Learns from one vector step taken at `step` (env steps so far, this step included). */
  observe(batch: StepBatch, step: number): MaybePromise<UpdateStats | null>;
  /** Called when sub-env `envIndex` finishes an episode (after `observe`). */
  episodeEnd?(envIndex: number, step: number): MaybePromise<UpdateStats | null>;
  /** Live scalars for the progress line (ε, entropy …). */
  status(): Record<string, number>;
  /** Writes networks, optimizer state, RNG and buffers into `dir`; `load` restores them exactly. */
  save(dir: string): Promise<void>;
  load(dir: string): Promise<void>;
  /** Greedy policy network only (for `lab eval`). */
  savePolicy(dir: string): MaybePromise<void>;
  dispose(): void;
}

export type AgentFactory = (setup: AgentSetup, config: Record<string, unknown>) => Agent;

/** The agent's RNG is part of its checkpoint. */
export type { Rng };

export type { MaybePromise };

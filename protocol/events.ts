/**
 * Events of a training run: the one type that every sink consumes (the run store writes them to
 * metrics.jsonl, the progress line prints them, the live server streams them).
 */
import type { RenderFrame } from '../envs/frames.js';
import { goEvalEventSchema, iterationEventSchema, type Check } from './protocol.js';

export interface EpisodeEvent {
  type: 'episode';
  /** Env steps so far (all sub-envs together). */
  step: number;
  episode: number;
  envIndex: number;
  return: number;
  length: number;
  terminated: boolean;
  truncated: boolean;
  /** Seconds since the run started (this process's part of it). */
  time: number;
}

export interface EvalEvent {
  type: 'eval';
  step: number;
  episodes: number;
  meanReturn: number;
  stdReturn: number;
  minReturn: number;
  maxReturn: number;
  meanLength: number;
  returns: number[];
  /** Wall-clock seconds the evaluation itself took. */
  seconds: number;
  time: number;
}

export interface UpdateEvent {
  type: 'update';
  step: number;
  /** Gradient updates so far. */
  updates: number;
  /** Averages over the updates since the last update event (losses, q values, entropy …). */
  stats: Record<string, number>;
  /** Env steps per second since the last update event. */
  sps: number;
  time: number;
}

export interface CheckpointEvent {
  type: 'checkpoint';
  step: number;
  path: string;
  time: number;
}

/** A Discrete action (its index) or a Box action (its numbers, row-major, before the env clips them). */
export type StepAction = number | number[];

/** Emitted only to sinks that ask for steps (live viewers): a frame per env step of sub-env 0. */
export interface StepEvent {
  type: 'step';
  step: number;
  /** Episode number of sub-env 0 (1, 2, …); equal to the run's episode count when there is one env. */
  episode: number;
  episodeStep: number;
  /** The action taken: an index for Discrete action spaces, the row of numbers as chosen for Box ones. */
  action: StepAction;
  reward: number;
  episodeReturn: number;
  /** The step ended the episode of sub-env 0. */
  terminated: boolean;
  truncated: boolean;
  /** Wall-clock ms (Date.now()) of the step: the viewer measures latency with it. */
  t: number;
  frame: RenderFrame | null;
}

/**
 * A grid of generated images (GAN runs): `count` greyscale images of `height`×`width`, row-major, one byte per
 * pixel (0 background … 255 ink), concatenated and base64-encoded so the event stays plain JSON.
 */
export interface SamplesEvent {
  type: 'samples';
  /** Training iteration the samples were drawn at (GAN runs count iterations where RL runs count env steps). */
  step: number;
  count: number;
  width: number;
  height: number;
  pixels: string;
  time: number;
}

export type TrainEvent = EpisodeEvent | EvalEvent | UpdateEvent | CheckpointEvent | StepEvent | SamplesEvent;

// ---------------------------------------------------------------------------------------------------------
// AlphaZero-lite runs (`lab go train`, config kind "go-alphazero"): their metrics.jsonl holds these records
// (counted in iterations, not env steps), written by agents/go/alphazero.ts.

/** One self-play iteration: its games, the replay buffer, and the averages of its training steps. */
export interface IterationEvent {
  type: 'iteration';
  iteration: number;
  games: number;
  positions: number;
  bufferSize: number;
  meanGameLength: number;
  blackWins: number;
  whiteWins: number;
  draws: number;
  /** NaN (null in the file) when the iteration trained no step. */
  policyLoss: number;
  valueLoss: number;
  policyEntropy: number;
  selfPlaySeconds: number;
  trainSeconds: number;
  /** Wall-clock seconds of training so far (all sessions). */
  elapsed: number;
}

/** An evaluation match of the greedy agent against one opponent (random play, plain UCT …). */
export interface GoEvalEvent {
  type: 'go-eval';
  iteration: number;
  opponent: string;
  games: number;
  wins: number;
  losses: number;
  draws: number;
  /** (wins + draws / 2) / games. */
  score: number;
}

export type AlphaZeroRecord = IterationEvent | GoEvalEvent;

/**
 * Every record a run's metrics.jsonl may hold, whatever its kind: RL and GAN runs write TrainEvents (step events
 * excepted), AlphaZero-lite runs AlphaZeroRecords. A new kind adds its records here, and their checks below.
 */
export type MetricsRecord = Exclude<TrainEvent, StepEvent> | AlphaZeroRecord;

/** What a trainer publishes to a lab server (lab/publisher.ts): its events, an AlphaZero-lite trainer's records. */
export type PublishedEvent = TrainEvent | AlphaZeroRecord;

/** The record types each kind of run writes (`kind` of its config.json; RL runs have none). */
export const RECORD_TYPES = {
  rl: ['episode', 'eval', 'update', 'checkpoint'],
  gan: ['update', 'samples', 'checkpoint'],
  'go-alphazero': ['iteration', 'go-eval'],
} as const satisfies Record<string, readonly MetricsRecord['type'][]>;

// The checks of the AlphaZero records live beside the other event checks (protocol.ts: a publisher sends them too).

/** The checks of the AlphaZero records by type (lab/run_files.ts reads an AlphaZero run's metrics.jsonl with them). */
export const ALPHAZERO_RECORD_CHECKS: Record<AlphaZeroRecord['type'], Check<AlphaZeroRecord>> = {
  iteration: iterationEventSchema,
  'go-eval': goEvalEventSchema,
};

export interface EventSink {
  /** True when the sink wants `step` events (they cost a render per step). */
  readonly wantsSteps?: boolean;
  handle(event: TrainEvent): void;
  close?(): void | Promise<void>;
}

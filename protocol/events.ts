/**
 * Events of a training run: the one type that every sink consumes (the run store writes them to
 * metrics.jsonl, the progress line prints them, the live server streams them).
 */
import type { RenderFrame } from '../envs/frames.js';

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

/** Emitted only to sinks that ask for steps (live viewers): a frame per env step of sub-env 0. */
export interface StepEvent {
  type: 'step';
  step: number;
  /** Episode number of sub-env 0 (1, 2, …); equal to the run's episode count when there is one env. */
  episode: number;
  episodeStep: number;
  action: number;
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

export interface EventSink {
  /** True when the sink wants `step` events (they cost a render per step). */
  readonly wantsSteps?: boolean;
  handle(event: TrainEvent): void;
  close?(): void | Promise<void>;
}

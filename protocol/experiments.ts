/**
 * The shapes an experiment (`lab sweep`) is made of, shared by the spec reader, the samplers, the coordinator,
 * the local worker processes, the Redis queue and the viewer's Experiments page. Everything here is plain JSON: it
 * travels between processes, through Redis to other machines, and to the viewer (hence in protocol/).
 *
 * Words: an *experiment* is one spec being searched; a *trial* is one point of the search space (one set of
 * hyperparameters); a trial runs once per seed, and each of those *runs* is an ordinary run directory.
 *
 * The experiment directory (docs/experiments.md):
 *
 *   <expDir>/experiment.json   written once, atomically: {format, id, name, createdAt, labVersion, spec, specFile, queue}
 *   <expDir>/trials.jsonl      append-only, one TrialRecord per finished trial (done, pruned or failed), fsync'd
 *   <expDir>/runs/<runId>/     one ordinary run directory per trial × seed; runId = `${id}-t${trial 4 digits}-s${seed}`
 *
 * A trial that is running has run directories but no record yet.
 */
import type { BackendChoice } from './backends.js';

/** A hyperparameter value a search can produce. */
export type ParamValue = number | string | boolean;
/** One trial's hyperparameters: search key → value (keys are what `--set` accepts for the run's kind). */
export type Params = Record<string, ParamValue>;

/**
 * One dimension of the search space. Ranges are inclusive. `int` draws integers (log-uniformly with log: true);
 * `loguniform` needs 0 < low ≤ high. A grid sampler uses `choice` values as they are and needs a `grid` count
 * for continuous dimensions (`{ uniform: [0, 1], grid: 5 }`: 5 evenly spaced points, log-spaced for loguniform).
 */
export type SearchDimension =
  | { choice: readonly ParamValue[] }
  | { uniform: readonly [number, number]; grid?: number }
  | { loguniform: readonly [number, number]; grid?: number }
  | { int: readonly [number, number]; log?: boolean; grid?: number };

export type SamplerName = 'grid' | 'random' | 'tpe';

/** How a trial's seeds become one number. */
export type ObjectiveReduce = 'iqm-last' | 'mean-last' | 'auc' | 'steps-to-threshold';

export interface ObjectiveSpec {
  /**
   * What is measured: `eval` (RL greedy evaluation mean return); a GAN's evaluation of its final generator (`fd`,
   * `fdRatio`, `kid`, `classified`) or an update stat (`gLoss`, …); AlphaZero-lite's `score`, … (sweep/objective.ts).
   */
  metric: string;
  /**
   * iqm-last: IQM over seeds of each seed's last value; mean-last: their mean; auc: mean over seeds of the area
   * under the value-vs-step curve divided by the budget; steps-to-threshold: mean over seeds of the first step
   * whose value reaches `threshold` (default: the env's reward threshold), the budget when never reached.
   */
  reduce: ObjectiveReduce;
  direction: 'maximize' | 'minimize';
  threshold?: number;
}

/**
 * Optuna's MedianPruner, made deterministic: the thresholds a run is compared with are fixed when its trial
 * starts (the medians of the finished trials it can see; see `parallelTrials`).
 */
export type PrunerSpec =
  | { type: 'none' }
  | {
      type: 'median';
      /** No pruning before this step (Optuna's n_warmup_steps; default 0). */
      warmupSteps: number;
      /** No pruning while fewer finished-and-complete trials are visible (Optuna's n_startup_trials; default 5). */
      startupTrials: number;
    };

/** The run every trial × seed makes; the trial's params are applied as hyperparameter overrides (`--set`). */
export type RunTemplate = RlRunTemplate | GanRunTemplate | AlphaZeroRunTemplate;

export interface RlRunTemplate {
  kind: 'rl';
  env: string;
  agent: string;
  steps: number;
  preset?: string;
  evalEvery?: number;
  evalEpisodes?: number;
  /** Fixed hyperparameter overrides, applied before the trial's params. */
  set?: Record<string, unknown>;
  /** Environment options. */
  kw?: Record<string, unknown>;
  backend?: BackendChoice;
  /** Plug-in modules (absolute paths) that register the env or agent; every run imports them (docs/write-your-own.md). */
  import?: string[];
}

export interface GanRunTemplate {
  kind: 'gan';
  category: string;
  preset?: string;
  iterations: number;
  /** Use only the first `limit` images. */
  limit?: number;
  /** Generated images, and real ones, of the final evaluation when the objective is an evaluation metric (fd, …); default 3000. */
  evalSamples?: number;
  set?: Record<string, unknown>;
  backend?: BackendChoice;
}

export interface AlphaZeroRunTemplate {
  kind: 'go-alphazero';
  iterations: number;
  set?: Record<string, unknown>;
  backend?: BackendChoice;
}

/** A validated, normalised spec (every default filled in). */
export interface ExperimentSpec {
  name: string;
  run: RunTemplate;
  seeds: number[];
  search: Record<string, SearchDimension>;
  sampler: SamplerName;
  samplerSeed: number;
  /** Trial budget; null: none (grid: the grid's size). At least one of trials and timeLimitSeconds is set. */
  trials: number | null;
  /** Wall-time budget in seconds: no trial starts after it (running ones finish); null: none. */
  timeLimitSeconds: number | null;
  objective: ObjectiveSpec;
  pruner: PrunerSpec;
  /**
   * How many trials may start before their predecessors finish: trial k is suggested (and its pruning
   * thresholds fixed) from the finished trials 0 … k − 1 − parallelTrials only, and waits until those have
   * finished. This makes every suggestion independent of timing, worker count and resumes. Default 4.
   */
  parallelTrials: number;
}

export type TrialState = 'running' | 'pruned' | 'done' | 'failed';

/** A point on a run's or trial's intermediate-value curve (e.g. an evaluation's mean return at `step`). */
export interface StepValue {
  step: number;
  value: number;
}

/** One unit of work: one trial × one seed. Plain JSON: it travels through Redis to other machines. */
export interface RunJob {
  experimentId: string;
  /** The coordinator's lab version; a worker of another version refuses the job. */
  labVersion: string;
  trial: number;
  seed: number;
  /** The run directory's name inside the runs directory. */
  runId: string;
  run: RunTemplate;
  params: Params;
  objective: ObjectiveSpec;
  /** Stop as pruned when, at a step ≥ warmupSteps, the run's value is worse than the threshold there. */
  prune: { warmupSteps: number; thresholds: StepValue[] } | null;
  /** Publish live to a lab server. */
  live?: { url: string; token?: string };
}

export interface RunJobResult {
  runId: string;
  state: 'done' | 'pruned' | 'failed';
  /** The step at which the pruner stopped it. */
  prunedAt?: number;
  /** One line: why it failed. */
  error?: string;
  /** This run's contribution to the objective (e.g. its last evaluation); null when it has none. */
  value: number | null;
  /** The intermediate-value curve (every evaluation). */
  curve: StepValue[];
  seconds: number;
}

/** One line of trials.jsonl: a finished trial. */
export interface TrialRecord {
  trial: number;
  params: Params;
  state: Exclude<TrialState, 'running'>;
  /** The objective over seeds; null for failed trials (pruned ones keep their partial value, if any). */
  objective: number | null;
  /** 95% bootstrap interval of the objective over seeds; null with fewer than two values. */
  interval: [number, number] | null;
  /** Per seed: its run, its state and its value. */
  seeds: { seed: number; runId: string; state: RunJobResult['state']; value: number | null; prunedAt?: number; error?: string }[];
  /** The trial's curve: at each step, the mean over seeds (what the pruner compares). */
  curve: StepValue[];
  startedAt: string;
  endedAt: string;
}

// ---------------------------------------------------------------------------------------------------------------
// The lab server's experiments API (server/experiments_api.ts) as the viewer's Experiments page reads it.

/** HTTP API paths of experiments (GET, JSON; confined to experiment directories under the server's runs root). */
export const EXPERIMENTS_API = {
  list: '/api/experiments',
  detail: (id: string) => `/api/experiments/${encodeURIComponent(id)}`,
} as const;

/**
 * running: trials are left (unfinished ones, or the budget not reached) and its files changed within the last
 * minute, or the hub streams one of its runs; ended: nothing is running now (finished, or stopped and
 * resumable); damaged: its files cannot be read.
 */
export type ExperimentState = 'running' | 'ended' | 'damaged';

/**
 * A trial's state as the page shows it: a record's state, `running`, or `interrupted`: an unfinished trial
 * whose files have not changed for a minute while nothing of it is live (the sweep was stopped; `lab sweep
 * --resume` continues it).
 */
export type TrialRowState = TrialState | 'interrupted';

/** One line of `GET EXPERIMENTS_API.list`. */
export interface ExperimentListItem {
  /** The experiment directory's name (experiment.json's id). */
  id: string;
  name: string;
  state: ExperimentState;
  /** Why it is damaged (file names relative to the runs root, never absolute paths); null otherwise. */
  error: string | null;
  /** The run kind of its trials (null when damaged). */
  kind: RunTemplate['kind'] | null;
  /** What the runs train on: an env id, `quickdraw:<category>`, or `go` (null when damaged). */
  task: string | null;
  /** The agent of RL runs; null for other kinds. */
  agent: string | null;
  sampler: SamplerName | null;
  objective: ObjectiveSpec | null;
  createdAt: string | null;
  /** Finished trials (done, pruned, failed), unfinished ones, and the trial budget (null: only a wall-time budget). */
  trials: { finished: number; running: number; budget: number | null; done: number; pruned: number; failed: number };
  timeLimitSeconds: number | null;
  /** The best finished trial (done or pruned, objective not null) by the spec's direction. */
  best: { trial: number; objective: number; params: Params } | null;
  /** The newest change of its files (ISO time). */
  updatedAt: string;
}

/** One seed of a trial row: its run and how far it got. */
export interface TrialSeedRow {
  seed: number;
  runId: string;
  state: RunJobResult['state'] | 'running' | 'interrupted';
  value: number | null;
  /** The last step (iteration) in its metrics.jsonl; null before the first record. */
  step: number | null;
  prunedAt?: number;
  error?: string;
  /** The hub streams this run live (the Live page shows it). */
  live: boolean;
}

/** A trial's learning curve over its seeds: per step the mean and its 95% bootstrap band (analysis/compare.ts). */
export interface TrialCurve {
  /** What the curve shows, in words ("evaluation mean return", "FD" …). */
  label: string;
  /** Seeds that have a curve. */
  runs: number;
  points: { step: number; mean: number; lo: number; hi: number; n: number }[];
}

/** One row of the trial table in `GET EXPERIMENTS_API.detail(id)`. */
export interface TrialRow {
  trial: number;
  params: Params;
  state: TrialRowState;
  objective: number | null;
  interval: [number, number] | null;
  seeds: TrialSeedRow[];
  startedAt: string | null;
  endedAt: string | null;
  /** Unfinished trials: steps done over all seeds and the steps they will make (seeds × budget). */
  progress: { step: number; budget: number } | null;
  curve: TrialCurve | null;
  /** Runs of the trial whose files could not be read, with the reason (their curves are left out). */
  damaged: { runId: string; error: string }[];
}

/** `GET EXPERIMENTS_API.detail(id)`: everything the Experiments page shows of one experiment. */
export interface ExperimentDetail {
  summary: ExperimentListItem;
  labVersion: string;
  specFile: string;
  /** The Redis queue its runs went through (no password), null for local workers. */
  queue: { url: string; name: string } | null;
  spec: ExperimentSpec;
  /** The unit of a run's budget and of the curves' x axis. */
  unit: 'steps' | 'iterations';
  /** One run's budget in `unit`. */
  runBudget: number;
  /** Finished trials first (by trial number), then the unfinished ones. */
  trials: TrialRow[];
}

/**
 * The result of `lab compare` as plain data: what `--json` prints, what the server's /api/compare returns and
 * what the viewer's Compare page draws. Types only (no imports with side effects), so the browser bundle can
 * share them through protocol/protocol.ts.
 */

export type GroupBy = 'agent-preset' | 'agent' | 'preset' | 'env' | `hyper:${string}`;

export interface CompareOptions {
  groupBy: GroupBy;
  /** Bootstrap resamples for every interval (rliable uses 50,000; 10,000 is plenty for 95% percentiles). */
  reps: number;
  seed: number;
  confidence: number;
  curve: 'eval' | 'episodes';
  /** Moving-average window in env steps for episode curves (default: about 1/25 of the longest run). */
  window?: number;
  /** Grid points of episode curves. */
  curvePoints: number;
  /** 'threshold': divide each env's scores by its reward threshold in the aggregate over several envs. */
  normalize: 'none' | 'threshold';
}

/** A point estimate with its bootstrap percentile interval. */
export interface Estimate {
  value: number;
  lo: number;
  hi: number;
}

export interface ScoreStats {
  runs: number;
  /** Interquartile mean of all runs (all envs pooled), with its stratified-bootstrap interval. */
  iqm: Estimate;
  /** Mean of the per-env means, with its stratified-bootstrap interval. */
  mean: Estimate;
  /** Median of all run scores (pooled over envs). */
  median: number;
  /** rliable's aggregate median: the median over envs of the per-env mean scores. */
  medianOfTaskMeans: number;
  /** γ − mean(min(score, γ)): γ is the env's reward threshold (or 1 for threshold-normalised scores). */
  optimalityGap: { gamma: number; value: number; lo: number; hi: number } | null;
}

export interface EnvStats extends ScoreStats {
  envId: string;
  scores: number[];
  seeds: number[];
  runIds: string[];
}

export interface CurveStats {
  envId: string;
  kind: 'eval' | 'episodes';
  /** Moving-average window (episode curves). */
  window: number | null;
  /** Runs with a curve on this env. */
  runs: number;
  /** Per grid step: mean over the n runs covering it and the bootstrap interval of that mean. */
  points: { step: number; mean: number; lo: number; hi: number; n: number }[];
}

export interface GroupResult {
  name: string;
  color: string;
  runs: {
    runId: string;
    /** The run directory (as `lab compare` was given it; the server's API gives the run id). */
    dir: string;
    envId: string;
    agent: string;
    preset: string | null;
    seed: number;
    score: number;
    source: 'eval' | 'episodes';
    step: number;
    budget: number;
  }[];
  perEnv: EnvStats[];
  aggregate: ScoreStats & { envs: string[]; normalized: boolean };
  curves: CurveStats[];
}

export interface PairResult {
  x: string;
  y: string;
  /** Envs both groups ran on (the tasks the probability averages over). */
  envs: string[];
  /** P(X > Y): the probability that a run of X scores higher than a run of Y on the same env, ties ½. */
  probability: Estimate;
}

export interface CompareResult {
  envs: string[];
  groups: GroupResult[];
  pairs: PairResult[];
  options: CompareOptions;
  /** Reward threshold per env (from the registry), where the env has one. */
  thresholds: Record<string, number | null>;
  notes: string[];
  /**
   * Runs that were asked for but left out because they cannot be compared (damaged files, no score, a GAN
   * run), with the reason; a note names each too. Absent when none was left out.
   */
  damaged?: { runId: string; error: string }[];
}

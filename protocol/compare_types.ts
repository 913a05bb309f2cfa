/**
 * The result of `lab compare` as plain data: what `--json` prints, what the server's /api/compare returns and
 * what the viewer's Compare page draws. Types only (no imports with side effects), so the browser bundle can
 * share them through protocol/protocol.ts.
 */

/** `trial`: the runs of one trial of an experiment (`lab compare <expDir>`), each group labelled by its params. */
export type GroupBy = 'agent-preset' | 'agent' | 'preset' | 'env' | 'trial' | `hyper:${string}`;

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
  /**
   * 'eval' and 'episodes': RL returns against env steps; 'metric': a GAN or AlphaZero-lite run's record field
   * against iterations (`metric` names it, `label` says it in words).
   */
  kind: 'eval' | 'episodes' | 'metric';
  /** The metric of a 'metric' curve: 'dLoss', 'gLoss' (GAN), 'score:<opponent>', 'policyLoss', 'valueLoss' (AlphaZero-lite). */
  metric?: string;
  /** "G loss", "win rate vs random" … */
  label?: string;
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
    /** 'eval': an evaluation (RL greedy returns, AlphaZero-lite matches); 'episodes': RL training episodes; 'updates': GAN losses. */
    source: 'eval' | 'episodes' | 'updates';
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

/** The kinds of run `lab compare` compares (one kind per comparison). */
export type CompareKind = 'rl' | 'gan' | 'go-alphazero';

export interface CompareResult {
  /** The kind of the runs compared (absent in results from before kinds: RL). */
  kind?: CompareKind;
  /** What a run's score is, in words (absent: an RL run's, the mean return of its last greedy evaluation). */
  scoreLabel?: string;
  /** What the curves' x axis counts: 'env steps' (RL) or 'iterations' (GAN, AlphaZero-lite); absent: env steps. */
  xUnit?: 'env steps' | 'iterations';
  /** Envs (RL), Quick, Draw! categories `quickdraw:<category>` (GAN) or boards `go:<N>x<N>` (AlphaZero-lite): the tasks runs are stratified by. */
  envs: string[];
  groups: GroupResult[];
  pairs: PairResult[];
  options: CompareOptions;
  /** Reward threshold per env (from the registry), where the env has one. */
  thresholds: Record<string, number | null>;
  notes: string[];
  /**
   * Runs that were asked for but left out because they cannot be compared (damaged files, no score, a run of
   * another kind than the comparison's), with the reason; a note names each too. Absent when none was left out.
   */
  damaged?: { runId: string; error: string }[];
}

/** A chart of a result: an env's curve (RL), or one metric's on a task (GAN, AlphaZero-lite: `metric` set). */
export interface CurveKey {
  envId: string;
  metric: string | null;
  label: string | null;
}

/** The charts of a result, in order: one per env (RL), one per task and metric (GAN, AlphaZero-lite). */
export function curveKeys(result: Pick<CompareResult, 'envs' | 'groups'>): CurveKey[] {
  const out: CurveKey[] = [];
  for (const envId of result.envs) {
    const metrics: { metric: string; label: string | null }[] = [];
    for (const g of result.groups) for (const c of g.curves) if (c.envId === envId && c.metric !== undefined && !metrics.some((m) => m.metric === c.metric)) metrics.push({ metric: c.metric, label: c.label ?? null });
    if (metrics.length === 0) out.push({ envId, metric: null, label: null });
    else for (const m of metrics) out.push({ envId, ...m });
  }
  return out;
}

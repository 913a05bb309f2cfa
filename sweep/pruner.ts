/**
 * The median pruner (Optuna's MedianPruner), made deterministic.
 *
 * Optuna compares a running trial with the medians of whatever trials have completed at that moment, so which
 * trials get pruned depends on timing: on the number of workers, on a worker that stalls, on a resume. Here the
 * thresholds are fixed when a trial starts, from the finished trials it may see (sweep/samplers.ts
 * visibleTrials: those before k − parallelTrials, which trial k waits for), and travel with its runs (RunJob's
 * `prune`). The same spec then prunes the same runs locally, on a Redis queue and after a resume.
 *
 * At each step where the visible complete trials have values, the threshold is the median of their trial curves
 * there (each carrying its last value forward); no thresholds while fewer than `startupTrials` complete trials
 * are visible. A run is pruned at a step ≥ warmupSteps when its best value so far (as Optuna compares: a run
 * whose evaluations dip after they were good is not pruned for the dip, and one that has reached a
 * steps-to-threshold goal never is) is worse than the threshold in force there (the one at the largest
 * threshold step ≤ the run's step).
 */
import { median } from '../analysis/stats.js';
import type { ExperimentSpec, RunJob, StepValue, TrialRecord } from '../protocol/experiments.js';
import { carriedValueAt } from './objective.js';

/** The thresholds fixed when a trial starts; null: no pruning (pruner none, too few complete trials, no curves). */
export function pruneThresholds(spec: ExperimentSpec, visible: readonly TrialRecord[]): RunJob['prune'] {
  const pruner = spec.pruner;
  if (pruner.type !== 'median') return null;
  const complete = visible.filter((r) => r.state === 'done');
  if (complete.length < pruner.startupTrials || complete.length === 0) return null;
  const curves = complete.map((r) => r.curve).filter((c) => c.length > 0);
  const steps = [...new Set(curves.flatMap((c) => c.map((p) => p.step)))].sort((a, b) => a - b);
  const thresholds: StepValue[] = [];
  for (const step of steps) {
    const values = curves.map((c) => carriedValueAt(c, step)).filter((v): v is number => v !== null);
    if (values.length) thresholds.push({ step, value: median(values) });
  }
  return thresholds.length ? { warmupSteps: pruner.warmupSteps, thresholds } : null;
}

/**
 * Whether a run whose (intermediate) value at `step` is `value` is pruned: step ≥ warmupSteps, a threshold is in
 * force (the one at the largest threshold step ≤ step) and the value is strictly worse than it in `direction`
 * (sweep/objective.ts curveDirection gives the direction of the curves). A NaN value is pruned, as Optuna does.
 */
export function shouldPrune(prune: RunJob['prune'], step: number, value: number, direction: 'maximize' | 'minimize'): boolean {
  if (!prune || step < prune.warmupSteps) return false;
  const threshold = carriedValueAt(prune.thresholds, step);
  if (threshold === null) return false;
  if (Number.isNaN(value)) return true;
  return direction === 'maximize' ? value < threshold : value > threshold;
}

/** The better of a best-so-far value and a new value (NaN stays NaN: a run that produced one is pruned). */
export function bestSoFar(best: number | null, value: number, direction: 'maximize' | 'minimize'): number {
  if (best === null || Number.isNaN(value) || Number.isNaN(best)) return best === null || Number.isNaN(value) ? value : best;
  return direction === 'maximize' ? Math.max(best, value) : Math.min(best, value);
}

/** The first step at which a run with this intermediate-value curve is pruned (its best so far against the thresholds), or null. */
export function prunedAt(prune: RunJob['prune'], curve: readonly StepValue[], direction: 'maximize' | 'minimize'): number | null {
  let best: number | null = null;
  for (const point of curve) {
    best = bestSoFar(best, point.value, direction);
    if (shouldPrune(prune, point.step, best, direction)) return point.step;
  }
  return null;
}

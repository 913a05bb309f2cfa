/**
 * Objectives: the metrics a run of each kind produces and which way each improves; from a run's metrics events
 * to its intermediate-value curve and its value, and from the seeds' values to the trial's objective with a 95%
 * bootstrap interval (analysis/stats.ts), and the trial's curve that the median pruner compares with. Pure
 * functions, but for readRunCurve, which reads a run directory: the coordinator, the workers, `lab sweep show`
 * and the lab server share them.
 */
import { registration } from '../envs/index.js';
import { bootstrapInterval, iqm, makeRng, mean } from '../analysis/stats.js';
import { readAlphaZeroRunMetrics, readRunMetrics } from '../lab/run_files.js';
import { readCurrentGanEvalReport, type GanEvalReport } from '../gan/evaluate.js';
import { GAN_UPDATE_STATS } from '../gan/train.js';
import type { ExperimentSpec, ObjectiveSpec, RunTemplate, StepValue, TrialRecord } from '../protocol/experiments.js';

type RunKind = RunTemplate['kind'];

/**
 * A GAN run's quality metrics (gan/evaluate.ts, the run's eval.json). They are measured once, on the final
 * generator, after training: `lab sweep` evaluates a GAN run that ended done when its objective names one, and
 * the value is the run's curve at its final iteration.
 */
export interface GanEvalMetric {
  name: string;
  /** What it is, in words (docs, messages). */
  label: string;
  direction: 'maximize' | 'minimize';
  /** Its value in a report; null when the report has none (a category the classifier does not know). */
  read(report: GanEvalReport): number | null;
}

export const GAN_EVAL_METRICS: readonly GanEvalMetric[] = [
  { name: 'fd', label: 'FD, generated vs real', direction: 'minimize', read: (r) => r.fd.generatedVsReal.value },
  { name: 'fdRatio', label: 'FD ratio (generated vs real half A over the real-vs-real baseline)', direction: 'minimize', read: (r) => r.fd.ratio },
  { name: 'kid', label: 'KID mean, generated vs real', direction: 'minimize', read: (r) => r.kid.generatedVsReal.mean },
  { name: 'classified', label: "share of generated images classified as the run's category", direction: 'maximize', read: (r) => r.classes.generatedTarget },
];

/** The evaluation metric of this name, or undefined for any other name. */
export function ganEvalMetric(name: string): GanEvalMetric | undefined {
  return GAN_EVAL_METRICS.find((m) => m.name === name);
}

/** AlphaZero-lite's metrics besides `score:<opponent>`: the evaluation score and the iteration records' losses. */
export const ALPHAZERO_METRICS: readonly string[] = ['score', 'policyLoss', 'valueLoss', 'policyEntropy'];

/** The natural direction of a metric's values: returns, scores and the classified share rise; distances and losses fall. */
export function metricDirection(metric: string): 'maximize' | 'minimize' {
  if (metric === 'eval' || metric === 'score' || metric.startsWith('score:')) return 'maximize';
  return ganEvalMetric(metric)?.direction ?? 'minimize';
}

/**
 * Why `metric` is not a metric a run of `kind` produces (a sentence for the spec's error), or null when it is:
 * rl: `eval`; gan: the evaluation metrics and the update events' stats; go-alphazero: ALPHAZERO_METRICS and
 * `score:<opponent>`.
 */
export function metricProblem(kind: RunKind, metric: string): string | null {
  const got = JSON.stringify(metric);
  if (kind === 'rl') return metric === 'eval' ? null : `an RL run's metric is eval (the greedy evaluations' mean return), got ${got}`;
  if (kind === 'go-alphazero') {
    return ALPHAZERO_METRICS.includes(metric) || /^score:\S+$/.test(metric) ? null : `an AlphaZero-lite run's metric is one of ${ALPHAZERO_METRICS.join(', ')} or score:<opponent>, got ${got}`;
  }
  if (ganEvalMetric(metric) || GAN_UPDATE_STATS.includes(metric)) return null;
  return (
    `a GAN run's metric is one of ${GAN_EVAL_METRICS.map((m) => m.name).join(', ')} (the final generator's evaluation) ` +
    `or ${GAN_UPDATE_STATS.join(', ')} (the training updates), got ${got}`
  );
}

/**
 * The record a GAN run's evaluation adds to its events for runCurve: the evaluation metrics at the iteration of
 * the checkpoint whose generator was evaluated (null: a report that names none).
 */
export function ganEvalRecord(report: GanEvalReport): Record<string, unknown> | null {
  if (!report.checkpoint) return null;
  const record: Record<string, unknown> = { type: 'gan-eval', step: report.checkpoint.at };
  for (const m of GAN_EVAL_METRICS) record[m.name] = m.read(report);
  return record;
}

/**
 * A run directory's intermediate-value curve for `metric` (runCurve over its checked metrics.jsonl); for a GAN
 * evaluation metric, the point of its eval.json when that is of the run's newest checkpoint (none otherwise).
 */
export function readRunCurve(kind: RunKind, runDir: string, metric: string): StepValue[] {
  const events: unknown[] = kind === 'go-alphazero' ? readAlphaZeroRunMetrics(runDir) : readRunMetrics(runDir);
  if (kind === 'gan' && ganEvalMetric(metric)) {
    const report = readCurrentGanEvalReport(runDir);
    const record = report ? ganEvalRecord(report) : null;
    if (record) events.push(record);
  }
  return runCurve(kind, events, metric);
}

/** Bootstrap replications of a trial's interval over seeds (a handful of values: cheap). */
export const OBJECTIVE_BOOTSTRAP_REPS = 2000;

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);
const finite = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const field = (o: Obj, k: string): unknown => (Object.hasOwn(o, k) ? o[k] : undefined);

/**
 * A run's intermediate-value curve, sorted by step, one point per step (the last one written wins: a resumed run
 * may repeat a step). rl: metric `eval` is each evaluation's mean return at its env step. gan: the named metric
 * from the update events' stats (dLoss, gLoss, ...) or from any other record that carries it as a number (the
 * evaluation's record, ganEvalRecord, with `fd`), at its iteration. go-alphazero: `score` is the mean evaluation score over
 * the opponents played at an iteration, `score:<opponent>` one opponent's, and the losses come from iteration records.
 */
export function runCurve(kind: RunKind, events: readonly unknown[], metric: string): StepValue[] {
  const byStep = new Map<number, number>();
  const put = (step: unknown, value: unknown) => {
    if (finite(step) && finite(value)) byStep.set(step, value);
  };
  if (kind === 'rl') {
    for (const e of events) if (isObj(e) && field(e, 'type') === 'eval' && metric === 'eval') put(field(e, 'step'), field(e, 'meanReturn'));
  } else if (kind === 'gan') {
    for (const e of events) {
      if (!isObj(e)) continue;
      const type = field(e, 'type');
      if (type === 'step' || type === 'samples' || type === 'checkpoint') continue;
      const stats = field(e, 'stats');
      if (type === 'update' && isObj(stats) && Object.hasOwn(stats, metric)) put(field(e, 'step'), stats[metric]);
      else if (metric !== 'step' && metric !== 'time') put(field(e, 'step'), field(e, metric));
    }
  } else if (metric === 'score' || metric.startsWith('score:')) {
    const opponent = metric === 'score' ? null : metric.slice('score:'.length);
    const scores = new Map<number, Map<string, number>>();
    for (const e of events) {
      if (!isObj(e) || field(e, 'type') !== 'go-eval') continue;
      const it = field(e, 'iteration');
      const opp = field(e, 'opponent');
      const score = field(e, 'score');
      if (!finite(it) || typeof opp !== 'string' || !finite(score) || (opponent !== null && opp !== opponent)) continue;
      if (!scores.has(it)) scores.set(it, new Map());
      scores.get(it)!.set(opp, score);
    }
    for (const [it, perOpponent] of scores) byStep.set(it, mean([...perOpponent.values()]));
  } else {
    for (const e of events) if (isObj(e) && field(e, 'type') === 'iteration') put(field(e, 'iteration'), field(e, metric));
  }
  return [...byStep].sort((a, b) => a[0] - b[0]).map(([step, value]) => ({ step, value }));
}

/** Whether `value` has reached `threshold` for a metric of this name (returns rise to it, losses fall to it). */
export function reachesThreshold(metric: string, value: number, threshold: number): boolean {
  return metricDirection(metric) === 'maximize' ? value >= threshold : value <= threshold;
}

/**
 * A run's contribution to the objective, or null when its curve is empty (or steps-to-threshold has no threshold).
 *  - iqm-last, mean-last: the last value;
 *  - auc: (1/B)·∫₀^B v(s) ds with B = max(budget, last step), v the curve linearly interpolated between its points
 *    and held constant before the first and after the last (a run pruned early keeps its last value): the mean
 *    value over the training budget, in the metric's units;
 *  - steps-to-threshold: the first step whose value reaches the threshold, else the budget.
 */
export function runValue(curve: readonly StepValue[], objective: ObjectiveSpec, budget: number, threshold: number | null): number | null {
  if (curve.length === 0) return null;
  const last = curve[curve.length - 1]!;
  switch (objective.reduce) {
    case 'iqm-last':
    case 'mean-last':
      return last.value;
    case 'steps-to-threshold': {
      if (threshold === null) return null;
      for (const p of curve) if (reachesThreshold(objective.metric, p.value, threshold)) return p.step;
      return budget;
    }
    case 'auc': {
      const span = Math.max(budget, last.step);
      if (!(span > 0)) return last.value;
      const first = curve[0]!;
      let area = Math.max(0, first.step) * first.value;
      for (let i = 1; i < curve.length; i++) {
        const a = curve[i - 1]!;
        const b = curve[i]!;
        area += ((b.step - a.step) * (a.value + b.value)) / 2;
      }
      area += (span - last.step) * last.value;
      return area / span;
    }
  }
}

/**
 * The trial's objective over its seeds' values (nulls left out): their IQM for iqm-last (analysis/stats.ts iqm:
 * the mean of the middle half; with ≤ 3 seeds, the mean), their mean otherwise; and the 95% percentile bootstrap
 * interval of that statistic (seeded, so the same values give the same interval), null with fewer than two values.
 */
export function trialObjective(values: readonly (number | null)[], objective: ObjectiveSpec): { objective: number | null; interval: [number, number] | null } {
  const present = values.filter((v): v is number => v !== null && Number.isFinite(v));
  if (present.length === 0) return { objective: null, interval: null };
  const statistic = objective.reduce === 'iqm-last' ? iqm : mean;
  const point = statistic(present);
  if (present.length < 2) return { objective: point, interval: null };
  const { lo, hi } = bootstrapInterval([present], (sample) => statistic(sample[0]!), { reps: OBJECTIVE_BOOTSTRAP_REPS, rng: makeRng(`trial-objective:${present.length}`) });
  return { objective: point, interval: [lo, hi] };
}

/** The value of a curve at `step` carrying its last point forward; null before its first point. */
export function carriedValueAt(curve: readonly StepValue[], step: number): number | null {
  let lo = 0;
  let hi = curve.length - 1;
  if (hi < 0 || curve[0]!.step > step) return null;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (curve[mid]!.step <= step) lo = mid;
    else hi = mid - 1;
  }
  return curve[lo]!.value;
}

/**
 * The trial's curve: at every step where some seed has a point, the mean over the seeds that have a point at or
 * before it, each seed's curve carrying its last value (seeds evaluated at other steps, or stopped earlier, align).
 */
export function trialCurve(curves: readonly (readonly StepValue[])[]): StepValue[] {
  const steps = [...new Set(curves.flatMap((c) => c.map((p) => p.step)))].sort((a, b) => a - b);
  const out: StepValue[] = [];
  for (const step of steps) {
    const values = curves.map((c) => carriedValueAt(c, step)).filter((v): v is number => v !== null);
    if (values.length) out.push({ step, value: mean(values) });
  }
  return out;
}

/** a is strictly better than b in this direction; null is worse than any number. */
export function isBetter(a: number | null, b: number | null, direction: 'maximize' | 'minimize'): boolean {
  if (a === null || !Number.isFinite(a)) return false;
  if (b === null || !Number.isFinite(b)) return true;
  return direction === 'maximize' ? a > b : a < b;
}

/** The threshold steps-to-threshold counts to: the spec's, else the RL env's registered reward threshold, else null. */
export function objectiveThreshold(spec: Pick<ExperimentSpec, 'run' | 'objective'>): number | null {
  if (spec.objective.threshold !== undefined) return spec.objective.threshold;
  if (spec.run.kind !== 'rl') return null;
  try {
    return registration(spec.run.env).rewardThreshold ?? null;
  } catch {
    return null;
  }
}

/**
 * The direction in which the intermediate values (the curves the pruner compares) improve: the objective's,
 * except for steps-to-threshold, whose curve is the metric itself (a return rises towards the threshold).
 */
export function curveDirection(objective: ObjectiveSpec): 'maximize' | 'minimize' {
  return objective.reduce === 'steps-to-threshold' ? metricDirection(objective.metric) : objective.direction;
}

/** A run's step or iteration budget (what auc divides by and steps-to-threshold gives when never reached). */
export function runBudget(spec: Pick<ExperimentSpec, 'run'>): number {
  return spec.run.kind === 'rl' ? spec.run.steps : spec.run.iterations;
}

/** The best of `records` (done trials with an objective) in the spec's direction. */
export function bestTrial(records: readonly TrialRecord[], direction: ExperimentSpec['objective']['direction']): TrialRecord | null {
  let best: TrialRecord | null = null;
  for (const r of records) {
    if (r.state !== 'done' || r.objective === null) continue;
    if (best === null || isBetter(r.objective, best.objective!, direction)) best = r;
  }
  return best;
}

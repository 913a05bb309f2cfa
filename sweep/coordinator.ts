/**
 * The coordinator of `lab sweep`: turns an experiment's spec into runs (trial × seed) for a RunDispatcher
 * (local worker processes or the Redis queue), keeps every slot busy, and appends a trial's record to
 * trials.jsonl when its last seed ends.
 *
 * Determinism: trial k is suggested, and its pruning thresholds fixed, from the finished trials
 * 0 … k − 1 − parallelTrials only (visibleTrials), and it starts only once those have records. So the table an
 * experiment ends with depends on its spec alone, not on the number of workers, their timing, or on crashes and
 * resumes: a resume keeps the records, re-suggests every unfinished trial from them exactly as the
 * uninterrupted sweep did, and reruns its runs (each resumes from its own checkpoint).
 */
import path from 'node:path';
import type { ExperimentSpec, Params, RunJob, RunJobResult, TrialRecord } from '../protocol/experiments.js';
import { LAB_VERSION } from '../lab/version.js';
import type { RunDispatcher } from './dispatcher.js';
import { RunStoppedError } from './run_job.js';
import { appendTrialRecord, cutTornTrialLine, lockExperiment, readExperiment, trialRunId } from './experiment_files.js';
import { suggest, trialBudget, visibleTrials } from './samplers.js';
import { pruneThresholds } from './pruner.js';
import { bestTrial, trialCurve, trialObjective } from './objective.js';
export { bestTrial };

/** What the coordinator reports as it goes (the CLI prints progress from it). */
export type CoordinatorEvent =
  | { type: 'trial-start'; trial: number; params: Params; runIds: string[] }
  | { type: 'run-end'; trial: number; seed: number; result: RunJobResult }
  | { type: 'trial-end'; record: TrialRecord; best: TrialRecord | null; finished: number; budget: number | null };

/** Why the sweep ended. */
export type ExperimentEnd =
  /** Every trial of the budget has a record. */
  | 'budget'
  /** The wall-time budget passed: no trial started after it; the running ones finished. */
  | 'time'
  /**
   * A stop was asked for (a signal, or the viewer's Stop on one of its live runs, after which the runs still
   * going finish first): unfinished trials have no record and are rerun by a resume.
   */
  | 'stopped';

export interface ExperimentOutcome {
  end: ExperimentEnd;
  /** Every record in the table, by trial number. */
  records: TrialRecord[];
  /** The best finished (done) trial, null when none has an objective. */
  best: TrialRecord | null;
  /** Trials started but left without a record (stopped). */
  unfinished: number[];
  /** The run whose stop (from the viewer) stopped the sweep. */
  stoppedRun?: string;
}

export interface RunExperimentOptions {
  expDir: string;
  /** The experiment's spec (on resume: the one in experiment.json). */
  spec: ExperimentSpec;
  dispatcher: RunDispatcher;
  /** Workers publish each run live to this lab server. */
  live?: { url: string; token?: string };
  onEvent?: (event: CoordinatorEvent) => void;
  /** Aborted: start nothing more, let the running runs stop (the dispatcher checkpoints them), record nothing more. */
  signal?: AbortSignal;
  /** Milliseconds clock (tests). */
  now?: () => number;
}


/** A trial's record from its seeds' results (in the spec's seed order). */
export function trialRecord(spec: ExperimentSpec, trial: number, params: Params, results: readonly RunJobResult[], seeds: readonly number[], startedAt: string, endedAt: string): TrialRecord {
  const state: TrialRecord['state'] = results.every((r) => r.state === 'failed') ? 'failed' : results.some((r) => r.state === 'pruned') ? 'pruned' : 'done';
  const values = results.filter((r) => r.state !== 'failed' && r.value !== null).map((r) => r.value as number);
  const { objective, interval } = state === 'failed' || values.length === 0 ? { objective: null, interval: null } : trialObjective(values, spec.objective);
  return {
    trial,
    params,
    state,
    objective,
    interval,
    seeds: results.map((r, i) => ({
      seed: seeds[i]!,
      runId: r.runId,
      state: r.state,
      value: r.value,
      ...(r.prunedAt !== undefined ? { prunedAt: r.prunedAt } : {}),
      ...(r.error !== undefined ? { error: r.error } : {}),
    })),
    curve: trialCurve(results.filter((r) => r.state !== 'failed').map((r) => r.curve)),
    startedAt,
    endedAt,
  };
}

interface ActiveTrial {
  trial: number;
  params: Params;
  startedAt: string;
  results: (RunJobResult | null)[];
  pending: number;
}

/**
 * Runs (or resumes) the experiment in `expDir` to its end: its trial budget, its wall-time budget or a stop.
 * Records already in trials.jsonl are kept; every other trial of the budget is (re)run.
 */
export async function runExperiment(options: RunExperimentOptions): Promise<ExperimentOutcome> {
  const expDir = path.resolve(options.expDir);
  const unlock = lockExperiment(expDir);
  try {
    return await coordinate(options, expDir);
  } finally {
    unlock();
  }
}

async function coordinate(options: RunExperimentOptions, expDir: string): Promise<ExperimentOutcome> {
  const { spec, dispatcher, signal } = options;
  const now = options.now ?? Date.now;
  cutTornTrialLine(expDir);
  const { meta, records: stored } = readExperiment(expDir);
  const records = new Map<number, TrialRecord>(stored.map((r) => [r.trial, r]));
  const budget = trialBudget(spec);
  const deadline = spec.timeLimitSeconds === null ? Infinity : now() + spec.timeLimitSeconds * 1000;
  const slots = Math.max(1, dispatcher.slots);

  const queue: RunJob[] = [];
  const active = new Map<number, ActiveTrial>();
  const started: number[] = [];
  let inFlight = 0;
  let nextTrial = 0;
  let timeUp = false;
  let failure: unknown = null;
  /** A run stopped from outside the sweep (the viewer's Stop button on a live run): the sweep stops as on a signal. */
  let stoppedRun: RunStoppedError | null = null;
  const recordedOrder = (): TrialRecord[] => [...records.values()].sort((a, b) => a.trial - b.trial);

  let wake: (() => void) | null = null;
  const notify = (): void => {
    const w = wake;
    wake = null;
    w?.();
  };
  const onAbort = (): void => notify();
  signal?.addEventListener('abort', onAbort);
  // Wakes the loop when the wall-time budget passes, so that it notices without waiting for a run to end.
  const deadlineTimer = Number.isFinite(deadline) ? setTimeout(notify, Math.max(0, deadline - now()) + 5) : null;
  deadlineTimer?.unref?.();

  const stopping = (): boolean => signal?.aborted === true || failure !== null || stoppedRun !== null;

  /** The next trial number without a record (finished trials are skipped, on resume). */
  const skipRecorded = (): void => {
    while (records.has(nextTrial)) nextTrial++;
  };

  /** Whether trial `nextTrial` may start now: within the budgets, and its visible predecessors recorded. */
  const canStartNext = (): boolean => {
    skipRecorded();
    if (stopping() || timeUp) return false;
    if (budget !== null && nextTrial >= budget) return false;
    if (now() >= deadline) {
      timeUp = true;
      return false;
    }
    for (let t = 0; t < nextTrial - spec.parallelTrials; t++) if (!records.has(t)) return false;
    return true;
  };

  const startTrial = (trial: number): void => {
    const visible = visibleTrials(spec, trial, recordedOrder());
    const params = suggest(spec, trial, visible);
    const prune = pruneThresholds(spec, visible);
    const runIds = spec.seeds.map((seed) => trialRunId(meta.id, trial, seed));
    active.set(trial, { trial, params, startedAt: new Date().toISOString(), results: spec.seeds.map(() => null), pending: spec.seeds.length });
    spec.seeds.forEach((seed, i) => {
      queue.push({
        experimentId: meta.id,
        labVersion: LAB_VERSION,
        trial,
        seed,
        runId: runIds[i]!,
        run: spec.run,
        params,
        objective: spec.objective,
        prune,
        ...(options.live ? { live: options.live } : {}),
      });
    });
    started.push(trial);
    options.onEvent?.({ type: 'trial-start', trial, params, runIds });
  };

  const finishRun = (job: RunJob, result: RunJobResult): void => {
    const t = active.get(job.trial)!;
    t.results[spec.seeds.indexOf(job.seed)] = result;
    t.pending--;
    options.onEvent?.({ type: 'run-end', trial: job.trial, seed: job.seed, result });
    if (t.pending > 0) return;
    active.delete(job.trial);
    // After a stop the trial's runs may have been cut short: no record, a resume reruns them.
    if (stopping()) return;
    const record = trialRecord(spec, t.trial, t.params, t.results as RunJobResult[], spec.seeds, t.startedAt, new Date().toISOString());
    appendTrialRecord(expDir, record);
    records.set(record.trial, record);
    options.onEvent?.({ type: 'trial-end', record, best: bestTrial(recordedOrder(), spec.objective.direction), finished: records.size, budget });
  };

  const launch = (job: RunJob): void => {
    inFlight++;
    Promise.resolve()
      .then(() => dispatcher.run(job))
      .then(
      (result) => {
        inFlight--;
        try {
          finishRun(job, result);
        } catch (err) {
          failure ??= err;
        }
        notify();
      },
      (err: unknown) => {
        // The dispatcher itself failed (not the run: a failing run comes back as a result): stop the sweep,
        // record nothing for this trial, report the error after the running runs end.
        inFlight--;
        const t = active.get(job.trial);
        if (t) t.pending--;
        if (err instanceof RunStoppedError) stoppedRun ??= err;
        else if (!signal?.aborted) failure ??= err;
        notify();
      },
    );
  };

  try {
    for (;;) {
      // Fill the free slots: runs already queued first, then new trials in order (each queues its seeds).
      while (inFlight < slots && !stopping()) {
        if (queue.length === 0) {
          if (!canStartNext()) break;
          startTrial(nextTrial++);
          continue;
        }
        launch(queue.shift()!);
      }
      if (stopping()) queue.length = 0;
      if (inFlight === 0 && (queue.length === 0 || stopping())) {
        // Nothing runs and nothing more can start (the budget is spent, time is up, a stop, or trials wait
        // for records that can no longer come): the sweep is over.
        if (stopping() || !canStartNext()) break;
      }
      // Sleep until a run ends, a stop arrives, or the wall-time budget passes.
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
    }
  } finally {
    signal?.removeEventListener('abort', onAbort);
    if (deadlineTimer) clearTimeout(deadlineTimer);
  }
  if (failure !== null) throw failure;
  const all = recordedOrder();
  const unfinished = started.filter((t) => !records.has(t)).sort((a, b) => a - b);
  // (Assigned in callbacks: the compiler cannot see it change.)
  const stopped = stoppedRun as RunStoppedError | null;
  const end: ExperimentEnd = signal?.aborted || stopped !== null ? 'stopped' : budget !== null && all.length >= budget ? 'budget' : 'time';
  return { end, records: all, best: bestTrial(all, spec.objective.direction), unfinished, ...(stopped ? { stoppedRun: stopped.runId } : {}) };
}

/**
 * One run of an experiment (one trial × one seed), trained in this process: the ordinary trainer of its kind
 * (agents/train.ts, gan/train.ts, agents/go/alphazero.ts) writes an ordinary run directory
 * `<runsDir>/<job.runId>`, which this module starts, or resumes from its newest checkpoint when a killed run
 * left it behind. While it trains, the job's pruning thresholds are applied to every evaluation; afterwards its
 * curve and value are read back from metrics.jsonl (sweep/objective.ts), so a resumed run reports exactly
 * what an uninterrupted one does. A GAN run whose objective is an evaluation metric (fd, kid, …) that ended done
 * is then evaluated (gan/evaluate.ts, the run's eval.json), once per final checkpoint: its value is the curve's
 * point at the final iteration.
 *
 * The local worker processes (sweep/worker_process.ts) and the queue workers call this; so can anything that
 * wants a run in its own process.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { RunJob, RunJobResult, RunTemplate, StepValue } from '../protocol/experiments.js';
import type { EventSink, TrainEvent } from '../protocol/events.js';
import type { RunInfo } from '../protocol/protocol.js';
import { resumeTraining, rlRunInfo, startTraining } from '../agents/train.js';
import { ganRunInfo, resumeGanTraining, startGanTraining, type GanRunConfig } from '../gan/train.js';
import { alphaZeroRunInfo, resumeAlphaZero, trainAlphaZero, type AlphaZeroEvent, type AlphaZeroRunConfig } from '../agents/go/alphazero.js';
import type { GanHyperparameters } from '../gan/models.js';
import { RunStore, type RunConfig } from '../lab/run_store.js';
import { oneLine } from '../lab/run_files.js';
import { computeInfo } from '../lab/compute.js';
import { DEFAULT_EVAL_SAMPLES, DEFAULT_EVAL_SEED, ganEval, readCurrentGanEvalReport, type GanEvalRequest } from '../gan/evaluate.js';
import { LivePublisher } from '../lab/publisher.js';
import { LAB_VERSION } from '../lab/version.js';
import { curveDirection, ganEvalMetric, objectiveThreshold, readRunCurve, runBudget, runCurve, runValue } from './objective.js';
import { bestSoFar, prunedAt, shouldPrune } from './pruner.js';

export interface RunJobHooks {
  /** Asked between training steps: true stops the run with a checkpoint (executeRunJob then throws RunStoppedError). */
  shouldStop?: () => boolean;
  /** A new checkpoint is complete on disk (checkpoints/latest.json points at it). */
  onCheckpoint?: (runDir: string) => void;
  /** Progress in the run's unit (env steps or iterations), at most a few times a second and once at the end. */
  onProgress?: (done: number, total: number) => void;
  /** The run directory exists and training is about to begin (a fresh start or a resume). */
  onStart?: (runDir: string) => void;
}

/**
 * A run asked to stop (hooks.shouldStop, a closing pool) before it finished: it stopped with a checkpoint at
 * `at`, and a later executeRunJob of the same job resumes it. Not a result: the run is neither done nor failed.
 */
export class RunStoppedError extends Error {
  constructor(
    readonly runId: string,
    readonly at: number | null,
    message = `run ${runId} was stopped before it finished${at !== null ? ` (checkpoint at ${at})` : ''}; running the job again resumes it`,
  ) {
    super(message);
    this.name = 'RunStoppedError';
  }
}

/** How often progress goes out while a run trains. */
/** How `lab worker --import` hands its modules to its worker processes: a JSON list of absolute paths. */
export const WORKER_IMPORTS_ENV = 'LAB_WORKER_IMPORTS';

/**
 * The plug-in modules a job's run imports here: its `run.import` paths (those of the sweep's machine) that exist
 * on this one. A path that does not must be covered by the worker's own `--import`, or the run fails naming it.
 */
function jobImports(paths: readonly string[]): string[] {
  const workerImports = JSON.parse(process.env[WORKER_IMPORTS_ENV] ?? '[]') as string[];
  const here: string[] = [];
  for (const p of paths) {
    if (fs.existsSync(p)) here.push(p);
    else if (workerImports.length === 0) throw new Error(`the run needs the plug-in module ${p} (a path on the sweep's machine), which this machine does not have: start lab worker with --import <its place here>`);
  }
  return here;
}

const PROGRESS_EVERY_MS = 250;
/** How long a finished run waits for the lab server to take its last events (an unreachable one: not longer). */
const LIVE_END_MS = 1500;

/**
 * Watches a training run's events: applies the pruning thresholds, reports progress and completed checkpoints.
 * The trainer asks `stopRequested` between steps; a prune (or the caller's stop) makes it stop with a checkpoint.
 */
class RunWatch {
  prunedAt: number | null = null;
  /** The run's best intermediate value so far (what the pruner compares). A resumed run starts from its curve. */
  best: number | null = null;
  private pendingCheckpoint: number | null = null;
  private lastProgress = 0;
  private done = 0;
  private reported = -1;

  constructor(
    private readonly job: RunJob,
    private readonly runDir: string,
    private readonly hooks: RunJobHooks,
  ) {}

  get total(): number {
    return runBudget(this.job);
  }

  /** The trainer's shouldStop: a prune, or the caller's stop. Also where a finished RL checkpoint is noticed. */
  readonly stopRequested = (): boolean => {
    this.flushCheckpoint();
    return this.prunedAt !== null || (this.hooks.shouldStop?.() ?? false);
  };

  /** Feeds the events of one kind's trainer (TrainEvents for RL and GANs, AlphaZero records). */
  event(event: TrainEvent | AlphaZeroEvent): void {
    if (event.type === 'step') return;
    if (event.type === 'checkpoint') {
      this.pendingCheckpoint = 'step' in event ? event.step : event.iteration;
      // GAN and AlphaZero trainers announce a checkpoint once it is written, the RL trainer just before.
      this.flushCheckpoint();
      return;
    }
    const at = 'step' in event ? event.step : event.iteration;
    this.progress(at);
    if (this.prunedAt !== null || this.job.prune === null) return;
    const direction = curveDirection(this.job.objective);
    for (const point of runCurve(this.job.run.kind, [event], this.job.objective.metric)) {
      this.best = bestSoFar(this.best, point.value, direction);
      if (shouldPrune(this.job.prune, point.step, this.best, direction)) {
        this.prunedAt = point.step;
        break;
      }
    }
  }

  progress(at: number, final = false): void {
    this.done = Math.max(this.done, at);
    const now = performance.now();
    const done = Math.min(this.done, this.total);
    if (final ? done === this.reported : now - this.lastProgress < PROGRESS_EVERY_MS) return;
    this.lastProgress = now;
    this.reported = done;
    this.hooks.onProgress?.(done, this.total);
  }

  /** Reports the announced checkpoint once latest.json points at it. */
  flushCheckpoint(): void {
    if (this.pendingCheckpoint === null || !this.hooks.onCheckpoint) return;
    let at: number | undefined;
    try {
      at = RunStore.open(this.runDir).latestCheckpoint()?.at;
    } catch {
      return; // being replaced right now: asked again at the next step
    }
    if (at === undefined || at < this.pendingCheckpoint) return;
    this.pendingCheckpoint = null;
    this.hooks.onCheckpoint(this.runDir);
  }

  /** An EventSink for the RL and GAN trainers. */
  sink(): EventSink {
    return { handle: (e) => this.event(e) };
  }
}

/**
 * Trains one job in this process inside runsDir/<job.runId>: starts it, or resumes it from its newest checkpoint
 * when that directory exists (a killed run); applies job.prune on every evaluation; returns its curve and value.
 * Never throws for a training failure: state 'failed' with a one-line error. Throws RunStoppedError when
 * hooks.shouldStop stopped it, and an Error for a job this lab cannot run (another lab version).
 */
export async function executeRunJob(job: RunJob, runsDir: string, hooks: RunJobHooks = {}): Promise<RunJobResult> {
  if (job.labVersion !== LAB_VERSION) {
    throw new Error(`job ${job.runId} comes from lab ${job.labVersion}, this is lab ${LAB_VERSION}: run it with the same version (results differ between versions)`);
  }
  const started = performance.now();
  const runDir = path.join(runsDir, job.runId);
  const watch = new RunWatch(job, runDir, hooks);
  const result = (fields: Omit<RunJobResult, 'runId' | 'seconds'>): RunJobResult => ({ runId: job.runId, ...fields, seconds: Math.round(performance.now() - started) / 1000 });
  let live: LivePublisher | null = null;
  try {
    const resume = prepareRunDir(runDir);
    const saved = resume ? checkpointed(job, runDir) : null;
    if (saved) {
      // A run that was pruned (or finished) before the crash stays as it is: its checkpoint already says so.
      const earlier = finishedEarlier(job, runDir, saved);
      if (earlier) {
        watch.progress(earlier.at, true);
        return result(await runResult(job, runDir, earlier.prunedAt));
      }
      // The best value so far carries over the crash: the resumed trainer reports only what follows its checkpoint.
      const direction = curveDirection(job.objective);
      for (const point of saved.curve) watch.best = bestSoFar(watch.best, point.value, direction);
    }
    live = job.live ? publisherFor(job) : null;
    const stopped = await train(job, runsDir, runDir, resume, watch, live, hooks);
    watch.flushCheckpoint();
    if (stopped && watch.prunedAt === null) {
      await live?.end('stopped', undefined, LIVE_END_MS);
      throw new RunStoppedError(job.runId, latestAt(runDir));
    }
    await live?.end(watch.prunedAt !== null ? 'stopped' : 'done', undefined, LIVE_END_MS);
    watch.progress(watch.prunedAt ?? watch.total, true);
    return result(await runResult(job, runDir, stopped ? watch.prunedAt : null));
  } catch (e) {
    if (e instanceof RunStoppedError) throw e;
    const message = oneLine(e instanceof Error ? e.message : String(e));
    await live?.end('failed', message, LIVE_END_MS);
    return result({ state: 'failed', error: message, value: null, curve: [] });
  }
}

/**
 * Whether to resume: true when the run directory holds a checkpoint. A directory a crash left before its first
 * checkpoint holds nothing a fresh start does not write again (the runs are deterministic), so it is replaced.
 */
function prepareRunDir(runDir: string): boolean {
  if (!fs.existsSync(runDir)) return false;
  if (fs.existsSync(path.join(runDir, 'config.json'))) {
    try {
      if (RunStore.open(runDir).latestCheckpoint() === null) return freshStart(runDir);
    } catch {
      // A damaged pointer: the trainer's resume falls back to an older checkpoint, or says what is wrong.
    }
    return true;
  }
  if (!fs.statSync(runDir).isDirectory()) {
    throw new Error(`${runDir} exists and is not a run directory`);
  }
  return freshStart(runDir);
}

/** Removes what a run killed before its first checkpoint left, for a fresh start. */
function freshStart(runDir: string): false {
  fs.rmSync(runDir, { recursive: true, force: true });
  return false;
}

/** The newest checkpoint's progress, null without one. */
function latestAt(runDir: string): number | null {
  try {
    return RunStore.open(runDir).latestCheckpoint()?.at ?? null;
  } catch {
    return null;
  }
}

/**
 * What a killed run's directory holds: its newest checkpoint's progress (null when its pointer is damaged: the
 * trainer falls back to an older one) and, when the job prunes, its curve up to there (all of it without a
 * pointer), read once for the pruner's verdict and its best value so far.
 */
function checkpointed(job: RunJob, runDir: string): { at: number | null; curve: StepValue[] } {
  const at = latestAt(runDir);
  return { at, curve: job.prune ? readCurve(job, runDir).filter((p) => at === null || p.step <= at) : [] };
}

/**
 * A run whose newest checkpoint is at or past its budget (finished), or at or past the step where its curve
 * meets the pruner (pruned, then stopped there): what it holds is its result. Null: it must train on.
 */
function finishedEarlier(job: RunJob, runDir: string, saved: { at: number | null; curve: StepValue[] }): { at: number; prunedAt: number | null } | null {
  const at = saved.at;
  if (at === null) return null;
  if (job.prune) {
    const step = prunedAt(job.prune, saved.curve, curveDirection(job.objective));
    if (step !== null) return { at, prunedAt: step };
  }
  return at >= runBudget(job) && isComplete(job.run, runDir) ? { at, prunedAt: null } : null;
}

/** Whether a finished run wrote its final outputs (its trainer writes them after the last checkpoint). */
function isComplete(run: RunTemplate, runDir: string): boolean {
  const output = run.kind === 'rl' ? 'policy' : run.kind === 'gan' ? 'generator' : 'agent';
  return fs.existsSync(path.join(runDir, output));
}

/** The run's intermediate-value curve, from its metrics.jsonl (checked) and, for a GAN evaluation metric, its eval.json. */
function readCurve(job: RunJob, runDir: string): StepValue[] {
  return readRunCurve(job.run.kind, runDir, job.objective.metric);
}

/**
 * The settings of a sweep's GAN evaluation: evalSamples generated and real images, the default seed (the same
 * latents and real halves for every trial, so trials differ by their generators only) and KID subsets.
 */
function ganEvalRequest(job: RunJob): GanEvalRequest {
  const samples = job.run.kind === 'gan' ? (job.run.evalSamples ?? DEFAULT_EVAL_SAMPLES) : DEFAULT_EVAL_SAMPLES;
  return { n: samples, real: samples, seed: DEFAULT_EVAL_SEED, kidSubsets: null, kidSubsetSize: null };
}

/**
 * Evaluates a finished GAN run's final generator into its eval.json, unless eval.json already holds this
 * evaluation of its newest checkpoint (a re-run or resumed job: the same numbers, not computed twice). The real
 * images come as the run's did (data 'never': the cache or the shipped subset), on the run's backend.
 */
async function ensureGanEval(job: RunJob, runDir: string): Promise<void> {
  const request = ganEvalRequest(job);
  // The run's backend: set already when this process trained it; set here when it only evaluates it (a resume) or
  // a worker's previous job used another.
  const backend = job.run.backend ?? 'wasm';
  const current = computeInfo()?.backend;
  const switchBackend = current === undefined || (backend !== 'auto' && current !== backend);
  const existing = readCurrentGanEvalReport(runDir);
  const same = existing?.request && (Object.keys(request) as (keyof GanEvalRequest)[]).every((k) => existing.request![k] === request[k]);
  if (same) return;
  try {
    await ganEval({
      target: runDir,
      n: request.n,
      real: request.real,
      seed: request.seed,
      data: 'never',
      ...(switchBackend ? { backend } : {}),
    });
  } catch (e) {
    throw new Error(`the evaluation of the final generator (for objective ${job.objective.metric}) failed: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/** The result of a run that trained to its end (prunedAt null) or was pruned at `prunedAt`. */
async function runResult(job: RunJob, runDir: string, prunedAt: number | null): Promise<Omit<RunJobResult, 'runId' | 'seconds'>> {
  if (prunedAt === null && job.run.kind === 'gan' && ganEvalMetric(job.objective.metric)) await ensureGanEval(job, runDir);
  const curve = readCurve(job, runDir);
  const value = runValue(curve, job.objective, runBudget(job), objectiveThreshold(job));
  return prunedAt !== null ? { state: 'pruned', prunedAt, value, curve } : { state: 'done', value, curve };
}

/** The live publisher of a job that publishes to a lab server (a bad URL is the run's failure). */
function publisherFor(job: RunJob): LivePublisher {
  const live = job.live!;
  return new LivePublisher({ url: live.url, ...(live.token ? { token: live.token } : {}) });
}

/** Trains (or resumes) the job's run; returns whether it stopped before its budget. */
async function train(job: RunJob, runsDir: string, runDir: string, resume: boolean, watch: RunWatch, live: LivePublisher | null, hooks: RunJobHooks): Promise<boolean> {
  const run = job.run;
  const command = `lab sweep: experiment ${job.experimentId}, trial ${job.trial}, seed ${job.seed}`;
  const shouldStop = () => watch.stopRequested() || (live?.stopRequested ?? false);
  const begin = (info: RunInfo | null) => {
    if (info) live?.begin(info);
    hooks.onStart?.(runDir);
  };
  if (run.kind === 'rl') {
    const sinks: EventSink[] = [watch.sink(), ...(live ? [live] : [])];
    const onStart = (config: RunConfig, dir: string) => begin(live ? rlRunInfo(config, dir) : null);
    const outcome = resume
      ? await resumeTraining(runDir, { sinks, shouldStop, onStart, ...(run.backend ? { backend: run.backend } : {}) })
      : await startTraining({
          agent: run.agent,
          envId: run.env,
          ...(run.import ? { imports: jobImports(run.import) } : {}),
          ...(run.preset !== undefined ? { preset: run.preset } : {}),
          seed: job.seed,
          steps: run.steps,
          ...(run.evalEvery !== undefined ? { evalEvery: run.evalEvery } : {}),
          ...(run.evalEpisodes !== undefined ? { evalEpisodes: run.evalEpisodes } : {}),
          out: runsDir,
          runId: job.runId,
          backend: run.backend ?? 'wasm',
          overrides: { ...(run.set ?? {}), ...job.params },
          envKwargs: run.kw ?? {},
          // Evaluation episodes are what an experiment compares; training episodes would only fill the disk.
          replays: { eval: true, train: 'none', frames: false, obs: false },
          sinks,
          shouldStop,
          command,
          onStart,
        });
    return outcome.result.stopped;
  }
  if (run.kind === 'gan') {
    const sinks: EventSink[] = [watch.sink(), ...(live ? [live] : [])];
    const onStart = (config: GanRunConfig, dir: string) => begin(live ? ganRunInfo(config, dir) : null);
    const outcome = resume
      ? await resumeGanTraining(runDir, { sinks, shouldStop, onStart, ...(run.backend ? { backend: run.backend } : {}) })
      : await startGanTraining({
          category: run.category,
          ...(run.preset !== undefined ? { preset: run.preset } : {}),
          seed: job.seed,
          iterations: run.iterations,
          ...(run.limit !== undefined ? { limit: run.limit } : {}),
          // Dotted keys reach inside the networks, as `lab gan train --set` does.
          overrides: { ...(run.set ?? {}), ...job.params } as Partial<GanHyperparameters>,
          // The cache or the shipped subset, never a download: every worker trains on the same images.
          data: 'never',
          out: runsDir,
          runId: job.runId,
          backend: run.backend ?? 'wasm',
          sinks,
          shouldStop,
          command,
          onStart,
        });
    return outcome.result.stopped;
  }
  const common = {
    onEvent: (e: AlphaZeroEvent) => {
      watch.event(e);
      if (e.type !== 'checkpoint') live?.handle(e);
    },
    onStart: (config: AlphaZeroRunConfig, dir: string) => begin(live ? alphaZeroRunInfo(config, dir) : null),
    shouldStop,
    iterations: run.iterations,
  };
  const outcome = resume
    ? await resumeAlphaZero(runDir, { ...common, ...(run.backend ? { backend: run.backend } : {}) })
    : await trainAlphaZero({ ...common, hyperparameters: { ...(run.set ?? {}), ...job.params }, seed: job.seed, out: runsDir, runId: job.runId, backend: run.backend ?? 'wasm', command });
  return !outcome.finished;
}

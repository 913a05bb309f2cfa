/**
 * Your own training loop, the lab's services: a ScriptRun is a run directory written by the user's script, in
 * the same run model as `lab train`'s (config.json, metrics.jsonl in the protocol's event schema, checkpoints
 * behind checkpoints/latest.json, replay logs of evaluation and training episodes, policy/ and best_policy/ in
 * the lab's network format), optionally published live to a lab server. So the viewer, `lab compare`, `lab eval`,
 * `lab replay verify` and `lab plot` read a script's runs like built-in ones.
 *
 *   const run = await ScriptRun.open({ envId: 'FrozenLake-v1', agent: 'tabular-q', hyperparameters, seed, steps });
 *   const env = run.trainingEnv();   // make(envId) whose episodes are logged and streamed live
 *   … your loop: run.episode({...}) at each episode end, run.update(step, { loss }) now and then,
 *   await run.evaluate(step, greedyAct), await run.checkpoint(step, state, saveFiles) …
 *   await run.finish(writePolicy);
 *
 * It lives in agents/ (not lab/) because evaluation reuses the training loop's `evaluateGreedy` (fixed seeds,
 * replay logs) and live publishing the RL run description of agents/train.ts.
 */
import path from 'node:path';
import { Env, make, resolveEnvId, registration, toRenderFrame, Wrapper, type ResetArgs, type ResetResult, type StepResult } from '../envs/index.js';
import { initCompute, type BackendChoice } from '../lab/compute.js';
import { RunStore, newRunConfig, runStamp, type RunConfig } from '../lab/run_store.js';
import { readJson, writeDirAtomic, writeJsonAtomic } from '../lab/fsutil.js';
import { LivePublisher } from '../lab/publisher.js';
import { EpisodeWriter, episodeHeader, REPLAYS_DIR, replayEnvKwargs, replayValue, resolveReplayConfig, shouldRecordTrain, trainReplayName, type ReplayAction, type ReplayMeta, type TrainSchedule } from '../lab/replay.js';
import { Network, type NetworkSpec } from '../lab/network.js';
import type { MaybePromise } from '../lab/maybe_async.js';
import type { EventSink, StepAction, StepEvent, TrainEvent } from '../protocol/events.js';
import type { TypedArray } from '../envs/index.js';
import { evalEvent, evaluateGreedy } from './training.js';
import { rlRunInfo } from './train.js';
import { importPlugins, loadRecordedPlugins, pluginRecordsFor } from './plugins.js';
import { checkedRlConfig } from './policy_loader.js';

export interface ScriptRunOptions {
  /** A registered env id, or `module:EnvId` (the module is imported and recorded with the run). */
  envId: string;
  /** The algorithm's name: `lab compare` groups runs by it (and preset). */
  agent: string;
  /** The script's hyperparameters (a plain JSON object), stored in config.json. */
  hyperparameters: Record<string, unknown>;
  seed: number;
  /** Env-step budget the script means to train for. */
  steps: number;
  envKwargs?: Record<string, unknown>;
  numEnvs?: number;
  /** Recorded for readers; the script decides when it evaluates. */
  evalEvery?: number;
  /** Greedy episodes per `evaluate` (episode j seeded evalSeed + j). */
  evalEpisodes?: number;
  evalSeed?: number;
  /** Recorded for readers; the script decides when it checkpoints. */
  checkpointEvery?: number;
  /** Directory holding run directories (default `runs`). */
  out?: string;
  runId?: string;
  /** Compute backend for tfjs (default auto). */
  backend?: BackendChoice;
  /**
   * Replay logs: of evaluation episodes (default on), and of training episodes in the env of `trainingEnv()` on
   * a schedule (default `cubic`, as `lab train`'s); `frames`/`obs` store them in the logs.
   */
  replays?: { eval?: boolean; train?: TrainSchedule; frames?: boolean; obs?: boolean };
  /** Plug-in modules to import first (recorded when the env comes from one). */
  imports?: string[];
  /** Publish to a lab server (lab serve): its URL and key (default: LAB_TOKEN or the local server's). */
  live?: { url: string; token?: string } | null;
  /** The script's path, recorded so `lab train --resume` can say what resumes the run (default: process.argv[1]). */
  script?: string;
  /** Called with the live publisher's news (connection, stop requests). */
  onNotice?: (message: string) => void;
}

/** A checkpoint's JSON state as the script gave it, with the loop counters the run keeps. */
interface ScriptCheckpoint<S> {
  step: number;
  episodes: number;
  /** Episodes started in the env of trainingEnv() (their replay logs are numbered by it); absent before it existed. */
  trainingEpisodes?: number;
  bestEval: number | null;
  metricsSize: number;
  state: S;
}

export interface EvalSummary {
  meanReturn: number;
  stdReturn: number;
  returns: number[];
  lengths: number[];
}

/** Greedy actions for `n` observation rows (one row per env), as `Agent.act` gives them. */
export type GreedyPolicy = (obs: TypedArray, n: number, actionMasks?: Int8Array | null) => Int32Array;

export class ScriptRun {
  private episodes = 0;
  private bestEval = -Infinity;
  private readonly started = performance.now();
  private lastLog = { step: 0, time: performance.now() };
  private closed = false;
  /** The env of trainingEnv(), the episodes started in it and the steps taken in it (both go on after a resume). */
  private watched: WatchedEnv | null = null;
  private trainingEpisodes = 0;
  private trainingSteps = 0;

  private constructor(
    readonly store: RunStore,
    readonly config: RunConfig,
    private readonly sinks: EventSink[],
    private readonly live: LivePublisher | null,
  ) {}

  /** The run directory. */
  get dir(): string {
    return this.store.dir;
  }

  /** True once a viewer asked the live run to stop (checkpoint and finish, then). */
  get stopRequested(): boolean {
    return this.live?.stopRequested ?? false;
  }

  /** Creates the run directory (never over an existing one) and announces the run to the live server, if any. */
  static async open(options: ScriptRunOptions): Promise<ScriptRun> {
    await importPlugins(options.imports ?? []);
    const envId = await resolveEnvId(options.envId);
    registration(envId);
    const positive = (v: number, what: string, zero = false) => {
      if (!Number.isSafeInteger(v) || v < (zero ? 0 : 1)) throw new Error(`ScriptRun: ${what} must be a ${zero ? 'non-negative' : 'positive'} integer, got ${v}`);
      return v;
    };
    const compute = await initCompute(options.backend ?? 'auto');
    const imports = await pluginRecordsFor(envId, options.agent);
    const seed = positive(options.seed, 'seed', true);
    const config: RunConfig = {
      ...newRunConfig('rl', {
        runId: options.runId ?? `${envId}-${options.agent}-s${seed}-${runStamp()}`,
        hyperparameters: JSON.parse(JSON.stringify(options.hyperparameters)) as Record<string, unknown>,
        seed,
        requestedBackend: options.backend ?? 'auto',
        compute,
        command: ['node', ...process.argv.slice(1)].join(' '),
      }),
      envId,
      envKwargs: options.envKwargs ?? {},
      agent: options.agent,
      preset: null,
      steps: positive(options.steps, 'steps'),
      episodes: null,
      numEnvs: positive(options.numEnvs ?? 1, 'numEnvs'),
      evalEvery: positive(options.evalEvery ?? 0, 'evalEvery', true),
      evalEpisodes: positive(options.evalEpisodes ?? 10, 'evalEpisodes'),
      evalSeed: positive(options.evalSeed ?? 1_000_000, 'evalSeed', true),
      checkpointEvery: positive(options.checkpointEvery ?? 0, 'checkpointEvery', true),
      // Training episodes are logged only from the env of trainingEnv() (the script's own envs are its business).
      replays: resolveReplayConfig({ eval: options.replays?.eval ?? true, train: options.replays?.train ?? 'cubic', frames: options.replays?.frames ?? false, obs: options.replays?.obs ?? false }),
      ...(imports.length ? { imports } : {}),
      script: path.resolve(options.script ?? process.argv[1] ?? 'script'),
    };
    const store = RunStore.create(options.out ?? 'runs', config);
    return ScriptRun.attach(store, config, options);
  }

  /**
   * Opens an existing script run at its newest intact checkpoint: metrics.jsonl is cut back to that checkpoint
   * (so what follows equals an uninterrupted run's), `restore(dir, state)` gets the checkpoint's directory and the
   * state given to `checkpoint`. Returns the run and the step to continue from (0 and no call when there is none).
   */
  static async resume<S>(
    runDir: string,
    restore: (dir: string, state: S) => void | Promise<void>,
    options: Pick<ScriptRunOptions, 'live' | 'onNotice' | 'backend' | 'imports'> = {},
  ): Promise<{ run: ScriptRun; step: number }> {
    const store = RunStore.open(runDir, 'rl');
    const config = checkedRlConfig(runDir);
    if (config.script === undefined) throw new Error(`${runDir} was not written by a script: resume it with lab train --resume`);
    // Before anything loads or the resume cuts metrics.jsonl back: one process trains a run at a time.
    store.claimWriter();
    let step = 0;
    let counters: Pick<ScriptCheckpoint<S>, 'episodes' | 'trainingEpisodes' | 'bestEval'> = { episodes: 0, bestEval: null };
    try {
      await importPlugins(options.imports ?? []);
      await loadRecordedPlugins(config.imports, `run ${runDir}`);
      await initCompute(options.backend ?? (config.backend.backend as BackendChoice));
      if (store.latestCheckpoint()) {
        const choice = await store.resumeFrom({
          metricsSize: (s: ScriptCheckpoint<S>) => s.metricsSize,
          load: async (dir: string) => {
            const saved = readJson<ScriptCheckpoint<S>>(path.join(dir, 'script.json'), 'script checkpoint');
            if (!Number.isSafeInteger(saved.step) || !Number.isSafeInteger(saved.metricsSize)) throw new Error(`script checkpoint ${dir} is damaged`);
            await restore(dir, saved.state);
            return saved;
          },
        });
        step = choice.loaded.step;
        counters = choice.loaded;
      }
    } catch (err) {
      store.releaseWriter();
      throw err;
    }
    const run = ScriptRun.attach(store, config, options);
    run.episodes = counters.episodes;
    run.trainingEpisodes = counters.trainingEpisodes ?? 0;
    run.trainingSteps = step;
    run.bestEval = counters.bestEval ?? -Infinity;
    run.lastLog.step = step;
    return { run, step };
  }

  private static attach(store: RunStore, config: RunConfig, options: Pick<ScriptRunOptions, 'live' | 'onNotice'>): ScriptRun {
    const live = options.live
      ? new LivePublisher({ url: options.live.url, ...(options.live.token ? { token: options.live.token } : {}), ...(options.onNotice ? { onNotice: options.onNotice } : {}) })
      : null;
    store.claimWriter();
    const run = new ScriptRun(store, config, live ? [store, live] : [store], live);
    live?.begin(rlRunInfo(config, store.dir));
    return run;
  }

  private time(): number {
    return Math.round(performance.now() - this.started) / 1000;
  }

  private emit(event: TrainEvent): void {
    if (this.closed) throw new Error(`ScriptRun ${this.config.runId} is finished: nothing more can be logged`);
    for (const sink of this.sinks) sink.handle(event);
  }

  /** Logs a finished training episode (returns the run's episode count). */
  episode(e: { step: number; return: number; length: number; terminated: boolean; truncated: boolean; envIndex?: number }): number {
    if (!Number.isFinite(e.return)) throw new Error(`ScriptRun.episode: the return must be a finite number, got ${e.return}`);
    this.episodes++;
    this.emit({ type: 'episode', step: e.step, episode: this.episodes, envIndex: e.envIndex ?? 0, return: e.return, length: e.length, terminated: e.terminated, truncated: e.truncated, time: this.time() });
    return this.episodes;
  }

  /** Logs an update summary (losses, ε, …: finite numbers) at env step `step`, with the steps per second since the last. */
  update(step: number, stats: Record<string, number>, updates = 0): void {
    const now = performance.now();
    const sps = Math.round(((step - this.lastLog.step) / Math.max(1e-9, now - this.lastLog.time)) * 1000);
    this.lastLog = { step, time: now };
    this.emit({ type: 'update', step, updates, stats: { ...stats }, sps: Math.max(0, sps), time: this.time() });
  }

  /**
   * The env to train in, as `make(envId, envKwargs)` builds it, watched by the run: its training episodes are
   * written as replay logs on the run's schedule (`train-e…` logs, numbered by the episodes started in it, as
   * `lab train`'s are), and while a viewer watches the run live each step is streamed with its frame. One per
   * run; after `ScriptRun.resume` its numbering goes on from the checkpoint. As with `lab train`, an episode under
   * way at the checkpoint a run resumes from is not logged (its start is not in the checkpoint); the next one is.
   */
  trainingEnv<Obs = unknown, Act = unknown>(): Env<Obs, Act> {
    if (this.watched) throw new Error('ScriptRun.trainingEnv: this run has its training env already (one per run)');
    const c = this.config;
    const env = make(c.envId, { ...c.envKwargs, renderMode: 'json' });
    const replays = c.replays ?? resolveReplayConfig();
    const meta: ReplayMeta = { runId: c.runId, envId: c.envId, envKwargs: replayEnvKwargs(c.envKwargs), maxEpisodeSteps: env.spec?.maxEpisodeSteps ?? null, agent: c.agent, preset: null, labVersion: c.versions.lab, frames: replays.frames, obs: replays.obs };
    this.watched = new WatchedEnv(env, {
      schedule: replays.train,
      dir: path.join(this.dir, REPLAYS_DIR),
      meta,
      nextEpisode: () => this.trainingEpisodes++,
      currentStep: () => this.trainingSteps,
      nextStep: () => ++this.trainingSteps,
      wantsSteps: () => this.sinks.some((sink) => sink.wantsSteps === true),
      step: (event) => this.emit({ type: 'step', ...event }),
    }, this.trainingEpisodes);
    return this.watched as unknown as Env<Obs, Act>;
  }

  /**
   * Greedy evaluation at env step `step`: evalEpisodes episodes seeded evalSeed + j, each written as a replay log;
   * logs the `eval` event. With `writePolicy`, a new best mean also writes best_policy/ (as `lab train` does).
   */
  async evaluate(step: number, policy: GreedyPolicy, writePolicy?: (dir: string) => void | Promise<void>): Promise<EvalSummary> {
    const c = this.config;
    const started = performance.now();
    const record = c.replays?.eval
      ? {
          dir: path.join(this.dir, REPLAYS_DIR),
          checkpointStep: step,
          meta: { runId: c.runId, envId: c.envId, envKwargs: replayEnvKwargs(c.envKwargs), maxEpisodeSteps: null, agent: c.agent, preset: null, labVersion: c.versions.lab, frames: c.replays.frames, obs: c.replays.obs },
        }
      : undefined;
    const { returns, lengths } = await evaluateGreedy({ act: (obs, n, _explore, masks) => policy(obs, n, masks) }, c.envId, c.envKwargs, c.evalEpisodes, c.evalSeed, undefined, record);
    const event = evalEvent(step, returns, lengths, started, this.time());
    if (writePolicy && event.meanReturn > this.bestEval) await writeDirAtomic(path.join(this.dir, 'best_policy'), writePolicy);
    this.bestEval = Math.max(this.bestEval, event.meanReturn);
    this.emit(event);
    return { meanReturn: event.meanReturn, stdReturn: event.stdReturn, returns, lengths };
  }

  /**
   * A checkpoint at env step `step`: `state` (plain JSON: counters, RNG states, small tables) and whatever
   * `saveFiles(dir)` writes (networks, buffers) go into checkpoints/step-…/ atomically, then latest.json points
   * at it. `ScriptRun.resume` hands both back. Metrics logged so far stay; later ones are cut on resume.
   */
  async checkpoint<S>(step: number, state: S, saveFiles?: (dir: string) => void | Promise<void>): Promise<void> {
    const name = this.store.checkpointName(step);
    const dir = path.join(this.store.checkpointsDir, name);
    this.emit({ type: 'checkpoint', step, path: path.relative(this.dir, dir), time: this.time() });
    // Flushed before its size is taken: the size a checkpoint records is on disk.
    this.store.close();
    const saved: ScriptCheckpoint<S> = { step, episodes: this.episodes, trainingEpisodes: this.trainingEpisodes, bestEval: Number.isFinite(this.bestEval) ? this.bestEval : null, metricsSize: this.store.metricsSize(), state };
    await writeDirAtomic(dir, async (tmp) => {
      await saveFiles?.(tmp);
      writeJsonAtomic(path.join(tmp, 'script.json'), saved);
    });
    this.store.setLatestCheckpoint(step, name);
  }

  /**
   * Ends the run: `writePolicy(dir)` writes the final greedy policy into policy/ (see `writePolicyNetwork`),
   * metrics are flushed and the live server told how it ended.
   */
  async finish(writePolicy?: (dir: string) => void | Promise<void>, status: 'done' | 'stopped' | 'failed' = 'done', error?: string): Promise<void> {
    if (this.closed) return;
    // A training episode still going is not logged (as lab train leaves one cut by the budget).
    this.watched?.abandon();
    if (writePolicy) await writeDirAtomic(path.join(this.dir, 'policy'), writePolicy);
    this.closed = true;
    this.store.close();
    this.store.releaseWriter();
    await this.live?.end(status, error);
  }
}

/** What the training env of a ScriptRun needs from its run. */
interface WatchHooks {
  schedule: TrainSchedule;
  /** The replays directory, and the header fields every log of the run shares. */
  dir: string;
  meta: ReplayMeta;
  /** The 0-based id of the episode starting now (counts up). */
  nextEpisode(): number;
  /** The run's env steps so far, and the step after this one (counts up). */
  currentStep(): number;
  nextStep(): number;
  /** Whether a live viewer wants step events now. */
  wantsSteps(): boolean;
  step(event: Omit<StepEvent, 'type'>): void;
}

/**
 * The env of `ScriptRun.trainingEnv()`: the script's env, with each episode on the run's schedule recorded as a
 * replay log (starting from its reset seed, or from the env's snapshot after an unseeded reset, so that `lab
 * replay verify` re-simulates it) and each step streamed to a live viewer that watches.
 */
class WatchedEnv extends Wrapper {
  private writer: EpisodeWriter | null = null;
  private episode = -1;
  private episodeStep = 0;
  private episodeReturn = 0;

  constructor(
    env: Env,
    private readonly hooks: WatchHooks,
    /** Episodes started before (a resumed run): the one under way, if the script goes on with it, is the last. */
    started: number,
  ) {
    super(env);
    this.episode = started - 1;
  }

  override reset(args: ResetArgs = {}): ResetResult<unknown> {
    // An episode reset before it ended is not logged (its log would not end).
    this.abandon();
    const result = super.reset(args);
    this.episode = this.hooks.nextEpisode();
    this.episodeStep = 0;
    this.episodeReturn = 0;
    if (shouldRecordTrain(this.hooks.schedule, this.episode)) {
      const m = this.hooks.meta;
      const seeded = typeof args.seed === 'number' && args.options === undefined;
      const at = this.hooks.currentStep();
      const start = { mode: 'train' as const, episode: this.episode, seed: seeded ? args.seed! : null, checkpointStep: at, startStep: at };
      this.writer = new EpisodeWriter(
        path.join(this.hooks.dir, trainReplayName(this.episode)),
        episodeHeader(m, start, seeded ? null : this.env.snapshot(), {
          ...(m.frames ? { startFrame: this.env.render() } : {}),
          ...(m.obs ? { startObs: replayValue(result[0]) } : {}),
        }),
      );
    }
    return result;
  }

  override step(action: unknown): StepResult<unknown> {
    const result = super.step(action);
    const [obs, reward, terminated, truncated] = result;
    const step = this.hooks.nextStep();
    this.episodeStep++;
    this.episodeReturn += reward;
    const watched = this.hooks.wantsSteps();
    // Most steps are neither recorded nor watched: nothing more to do (no copies, no render).
    if (!this.writer && !watched) return result;
    const recorded = replayValue(action) as ReplayAction;
    const frame = this.hooks.meta.frames || watched ? this.env.render() : undefined;
    this.writer?.step(recorded, reward, terminated, truncated, this.hooks.meta.frames ? frame : undefined, this.hooks.meta.obs ? replayValue(obs) : undefined);
    if (watched) {
      this.hooks.step({ step, episode: this.episode + 1, episodeStep: this.episodeStep, action: recorded as StepAction, reward, episodeReturn: this.episodeReturn, terminated, truncated, t: Date.now(), frame: toRenderFrame(frame) });
    }
    if ((terminated || truncated) && this.writer) {
      this.writer.finish(this.env.snapshot(), terminated, truncated);
      this.writer = null;
    }
    return result;
  }

  /** Drops the episode being recorded (nothing is written). */
  abandon(): void {
    this.writer = null;
  }
}


/**
 * Writes a greedy policy in the lab's network format (model.json + weights.bin) into `dir`, so `lab eval`,
 * `lab watch` and the viewer can run it: `spec` is the architecture (dense layers on the encoded observation:
 * one-hot for Discrete observations), `weights` the kernel and bias of each dense layer in order, kernels
 * [inputs, units] row-major (what tfjs's dense layers hold). A Q-table is one dense layer: kernel = Q, bias 0.
 */
export function writePolicyNetwork(dir: string, spec: NetworkSpec, weights: Float32Array[]): MaybePromise<void> {
  const net = new Network(spec, weights);
  let saved: MaybePromise<void>;
  try {
    saved = net.save(dir);
  } catch (e) {
    net.dispose();
    throw e;
  }
  // Where reads are synchronous the files are written when this returns (callers that do not await still work).
  if (saved instanceof Promise) return saved.finally(() => net.dispose());
  net.dispose();
}

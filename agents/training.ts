/**
 * The training loop shared by every agent (and, later, by the live server). It steps a vector env, hands
 * each step to the agent, keeps episode statistics, evaluates the greedy policy on fixed seeds, writes
 * checkpoints, and emits typed events to its sinks.
 *
 * Exact resume: a checkpoint holds the agent (networks, optimizer, RNG, replay buffer), the env snapshot
 * (physics state and RNGs of every sub-env), the current observations and the loop's counters, plus the size
 * of metrics.jsonl at that moment. Resuming restores all of it and cuts metrics.jsonl back to that size, so
 * the metrics that follow equal those of an uninterrupted run.
 *
 * Replay logs (lab/replay.ts) go to <runDir>/replays/: every evaluation episode, and the training episodes of
 * sub-env 0 that the schedule picks. A training episode that is in progress at a checkpoint is not recorded
 * after a resume from that checkpoint (its start state is not kept in checkpoints); the next one is.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Discrete, GoVsOpponentEnv, make, makeVec, toRenderFrame, type GoOpponent, type Env, type EnvSnapshot, type RenderFrame, type TypedArray, type VectorEnv, type VectorInfo, type VectorStepResult } from '../envs/index.js';
import type { ActionBatch, Agent, MaybePromise, StepBatch, UpdateStats } from './agent.js';
import { tf } from '../lab/compute.js';
import type { EvalEvent, EventSink, TrainEvent } from '../protocol/events.js';
import { RunStore, type RunConfig } from '../lab/run_store.js';
import { readJson, writeDirAtomic, writeJsonAtomic } from '../lab/fsutil.js';
import { annotateLayersModel } from '../lab/layers_model.js';
import {
  REPLAYS_DIR,
  VectorReplayRecorder,
  evalReplayName,
  replayEnvKwargs,
  resolveReplayConfig,
  shouldRecordTrain,
  trainReplayName,
  type ReplayAction,
  type ReplayConfig,
  type ReplayMeta,
} from '../lab/replay.js';
import { OBS_NORMALIZATION_FILE } from '../protocol/saved_policy.js';

export interface TrainerOptions {
  config: RunConfig;
  agent: Agent;
  store: RunStore;
  sinks?: EventSink[];
  /** Env steps between update-summary events. */
  logEvery?: number;
  /** Stop early (and checkpoint) once this returns true; checked after every vector step. */
  shouldStop?: () => boolean;
  /** The policy of a Go env's 'agent:<dir>' opponent (loaded by the caller). */
  goOpponent?: GoOpponent;
  /** Where resume says what it passed over (damaged checkpoints); default: stderr. */
  onWarning?: (message: string) => void;
}

interface LoopState {
  step: number;
  episodes: number;
  updates: number;
  nextEval: number;
  nextCheckpoint: number;
  nextLog: number;
  episodeReturns: number[];
  episodeLengths: number[];
  /** Finished episodes of sub-env 0: the live viewer follows sub-env 0 and numbers its episodes. */
  envZeroEpisodes: number;
  statSums: Record<string, number>;
  statCount: number;
  /** Best evaluation mean so far (-Infinity before the first; JSON turns that into null). */
  bestEval: number;
}

/** What a checkpoint's loop.json holds: the counters plus what the envs and agent were looking at. */
interface SavedLoopState extends LoopState {
  obs: number[];
  obsType: 'float32' | 'int32';
  masks: number[] | null;
  envSnapshot: unknown;
  /** Size of metrics.jsonl when the checkpoint was taken (a resume cuts the file back to it). */
  metricsSize: number;
}

export interface TrainResult {
  steps: number;
  episodes: number;
  lastEval: { meanReturn: number; stdReturn: number } | null;
  stopped: boolean;
}

/**
 * One vector step as agents learn from it: for sub-envs whose episode just ended, the next observation is
 * the true final one and its mask comes from the final info (same-step autoreset puts the reset ones in
 * `obs` and `infos`). Also returns the masks for the next `act` (those of the observations in `next`).
 */
export function toStepBatch(
  obs: TypedArray,
  actions: ActionBatch,
  actionMasks: Int8Array | null,
  [next, rewards, terminations, truncations, infos]: VectorStepResult,
  nActions: number,
): { batch: StepBatch; masks: Int8Array | null } {
  // One reward per sub-env (a Box action batch has several numbers per sub-env).
  const n = rewards.length;
  let nextObs: TypedArray = next;
  const finalMask = infos._finalObs as Uint8Array | undefined;
  if (finalMask) {
    const finals = infos.finalObs as ArrayLike<ArrayLike<number> | number>;
    nextObs = next.slice();
    const width = next.length / n;
    for (let i = 0; i < n; i++) {
      if (!finalMask[i]) continue;
      const f = finals[i]!;
      if (typeof f === 'number') nextObs[i] = f;
      else nextObs.set(f, i * width);
    }
  }
  const masks = batchedActionMasks(infos, n, nActions);
  let nextActionMasks = masks;
  const finalInfo = infos.finalInfo as VectorInfo | undefined;
  const finalMasks = finalInfo?.actionMask as (ArrayLike<number> | null)[] | undefined;
  if (masks && finalMasks) {
    nextActionMasks = masks.slice();
    const has = finalInfo!._actionMask as Uint8Array;
    for (let i = 0; i < n; i++) if (has[i]) nextActionMasks.set(finalMasks[i]!, i * nActions);
  }
  return { batch: { obs, actions, rewards, nextObs, terminations, truncations, actionMasks, nextActionMasks }, masks };
}

/** Batched action masks from vector infos (`actionMask` per sub-env), or null when the env gives none. */
export function batchedActionMasks(infos: VectorInfo, n: number, nActions: number): Int8Array | null {
  const masks = infos.actionMask as (ArrayLike<number> | null)[] | undefined;
  if (!masks) return null;
  const out = new Int8Array(n * nActions).fill(1);
  for (let i = 0; i < n; i++) if (masks[i]) out.set(masks[i]!, i * nActions);
  return out;
}

/**
 * Sub-env i's action out of a batch, as events and replay logs carry it: the index (Discrete) or the row of
 * numbers (Box), exactly as the agent chose it.
 */
export function actionOf(actions: ActionBatch, i: number, n: number): ReplayAction {
  if (actions instanceof Int32Array) return actions[i]!;
  const width = actions.length / n;
  return Array.from(actions.subarray(i * width, (i + 1) * width));
}

/** Actions of a Discrete action space (masks have that many entries per row); 0 for other spaces. */
function discreteCount(envs: VectorEnv): number {
  return envs.singleActionSpace instanceof Discrete ? envs.singleActionSpace.n : 0;
}

/** Longest stretch (ms) the loop runs without letting the event loop turn. */
const YIELD_MS = 10;

export class Trainer {
  readonly config: RunConfig;
  readonly agent: Agent;
  readonly store: RunStore;
  private readonly sinks: EventSink[];
  private lastYield = performance.now();
  private readonly logEvery: number;
  private readonly envs: VectorEnv;
  private readonly nActions: number;
  private obs!: TypedArray;
  private masks: Int8Array | null = null;
  private state!: LoopState;
  private started = performance.now();
  private lastLogTime = performance.now();
  private lastLogStep = 0;
  private lastEval: TrainResult['lastEval'] = null;
  private readonly shouldStop: () => boolean;
  private readonly goOpponent: GoOpponent | undefined;
  private readonly replays: ReplayConfig;
  private readonly replayMeta: ReplayMeta;
  /** Records training episodes of sub-env 0 (null when the schedule records none). */
  private readonly trainRecorder: VectorReplayRecorder | null;
  private readonly onWarning: ((message: string) => void) | undefined;

  constructor(options: TrainerOptions) {
    this.config = options.config;
    this.agent = options.agent;
    this.store = options.store;
    // Before anything is written (a resume cuts metrics.jsonl back): one process trains a run at a time.
    this.store.claimWriter();
    this.sinks = [options.store, ...(options.sinks ?? [])];
    this.logEvery = options.logEvery ?? 1000;
    this.shouldStop = options.shouldStop ?? (() => false);
    this.onWarning = options.onWarning;
    const c = this.config;
    this.envs = makeVec(c.envId, c.numEnvs, { ...c.envKwargs, autoresetMode: 'same-step' });
    this.goOpponent = options.goOpponent;
    attachSelfPlay(this.envs, this.agent, options.goOpponent);
    this.nActions = discreteCount(this.envs);
    this.replays = resolveReplayConfig(c.replays);
    this.replayMeta = {
      runId: c.runId,
      envId: c.envId,
      envKwargs: replayEnvKwargs(c.envKwargs),
      maxEpisodeSteps: this.envs.spec?.maxEpisodeSteps ?? null,
      agent: c.agent,
      preset: c.preset,
      labVersion: c.versions.lab,
      frames: this.replays.frames,
      obs: this.replays.obs,
    };
    this.trainRecorder = this.replays.train === 'none' ? null : new VectorReplayRecorder(this.envs, this.replayMeta);
  }

  get replaysDir(): string {
    return path.join(this.store.dir, REPLAYS_DIR);
  }

  /** Sub-env 0 has just been reset: record its new episode if the schedule says so. */
  private startTrainEpisode(obs: TypedArray): void {
    const rec = this.trainRecorder;
    const s = this.state;
    if (rec === null || !shouldRecordTrain(this.replays.train, s.envZeroEpisodes)) return;
    rec.begin(
      0,
      path.join(this.replaysDir, trainReplayName(s.envZeroEpisodes)),
      { mode: 'train', episode: s.envZeroEpisodes, seed: null, withState: true, checkpointStep: s.step, startStep: s.step },
      obs,
    );
  }

  /** Starts from scratch: reset with the run seed (sub-env i gets seed + i). */
  begin(): void {
    const [obs, infos] = this.envs.reset({ seed: this.config.seed });
    this.obs = obs;
    this.masks = batchedActionMasks(infos, this.config.numEnvs, this.nActions);
    const c = this.config;
    this.state = {
      step: 0,
      episodes: 0,
      updates: 0,
      nextEval: c.evalEvery > 0 ? c.evalEvery : Infinity,
      nextCheckpoint: c.checkpointEvery > 0 ? c.checkpointEvery : Infinity,
      nextLog: this.logEvery,
      episodeReturns: new Array<number>(c.numEnvs).fill(0),
      episodeLengths: new Array<number>(c.numEnvs).fill(0),
      envZeroEpisodes: 0,
      statSums: {},
      statCount: 0,
      bestEval: -Infinity,
    };
    this.startTrainEpisode(obs);
  }

  /**
   * Continues from the newest intact checkpoint of the run directory (latest.json's, else the one before it, said
   * out loud), after checking that metrics.jsonl still holds what the checkpoint recorded and cutting it back.
   */
  async resume(): Promise<void> {
    const choice = await this.store.resumeFrom({
      ...(this.onWarning ? { onWarning: this.onWarning } : {}),
      metricsSize: (state) => state.metricsSize,
      load: async (dir: string): Promise<SavedLoopState> => {
        const state = readJson<SavedLoopState>(path.join(dir, 'loop.json'), 'loop state');
        checkLoopState(state, path.join(dir, 'loop.json'), this.config.numEnvs);
        // A later candidate's load and restore overwrite whatever a damaged one set before it failed.
        await this.agent.load(path.join(dir, 'agent'));
        this.envs.restore(state.envSnapshot as Record<string, unknown>);
        return state;
      },
    });
    const state = choice.loaded;
    this.obs = state.obsType === 'float32' ? Float32Array.from(state.obs) : Int32Array.from(state.obs);
    this.masks = state.masks ? Int8Array.from(state.masks) : null;
    // JSON has no Infinity: schedules that never fire and "no evaluation yet" come back as null.
    this.state = {
      step: state.step,
      episodes: state.episodes,
      updates: state.updates,
      nextEval: state.nextEval ?? Infinity,
      nextCheckpoint: state.nextCheckpoint ?? Infinity,
      nextLog: state.nextLog,
      episodeReturns: state.episodeReturns,
      episodeLengths: state.episodeLengths,
      envZeroEpisodes: state.envZeroEpisodes ?? 0,
      statSums: state.statSums,
      statCount: state.statCount,
      bestEval: state.bestEval ?? -Infinity,
    };
    // Temporary files of replay logs that a killed process was writing (never complete logs).
    if (fs.existsSync(this.replaysDir)) {
      for (const f of fs.readdirSync(this.replaysDir)) {
        if (/^\..+\.jsonl\.gz\.tmp-/.test(f)) fs.rmSync(path.join(this.replaysDir, f), { force: true });
      }
    }
  }

  get step(): number {
    return this.state.step;
  }

  /** Sub-env 0's final states are kept for live frames (see `watchFinalState`). */
  private watchingFinal = false;
  private scratchEnv: Env | null = null;

  /** render() of a single env restored to a sub-env's snapshot (its final state, already autoreset). */
  private renderSnapshot(snapshot: EnvSnapshot): RenderFrame | string {
    const c = this.config;
    this.scratchEnv ??= make(c.envId, { ...c.envKwargs, maxEpisodeSteps: this.envs.spec?.maxEpisodeSteps ?? null, renderMode: 'json' });
    this.scratchEnv.restore(snapshot);
    return this.scratchEnv.render();
  }

  private wantsSteps(): boolean {
    for (const sink of this.sinks) if (sink.wantsSteps) return true;
    return false;
  }

  private emit(event: TrainEvent): void {
    for (const s of this.sinks) s.handle(event);
  }

  private time(): number {
    return Math.round(performance.now() - this.started) / 1000;
  }

  private addStats(stats: UpdateStats | null): void {
    if (!stats) return;
    const s = this.state;
    for (const [k, v] of Object.entries(stats)) s.statSums[k] = (s.statSums[k] ?? 0) + v;
    s.statCount++;
  }

  /** Runs until the step or episode budget is used up (or `shouldStop`), then checkpoints and evaluates. */
  async run(): Promise<TrainResult> {
    const c = this.config;
    const n = c.numEnvs;
    const s = this.state;
    const episodeBudget = c.episodes ?? Infinity;
    let stopped = false;
    while (s.step < c.steps && s.episodes < episodeBudget) {
      const live = this.wantsSteps();
      // (The recorder switches watching off when it finishes a log, so a live viewer switches it on each step.)
      if (live) this.envs.watchFinalState(0, true);
      else if (this.watchingFinal) this.envs.watchFinalState(0, this.trainRecorder?.isRecording(0) ?? false);
      this.watchingFinal = live;
      // (Awaited only when the agent answers with a Promise, as on webgpu: the wasm loop stays synchronous.)
      const acting = this.agent.act(this.obs, n, true, this.masks);
      const actions = acting instanceof Promise ? await acting : acting;
      const result = this.envs.step(actions);
      const [next, rewards, terminations, truncations] = result;
      const { batch, masks } = toStepBatch(this.obs, actions, this.masks, result, this.nActions);
      s.step += n;
      const observed = this.agent.observe(batch, s.step);
      this.addStats(observed instanceof Promise ? await observed : observed);
      // Asked per step: a live sink wants frames only while somebody watches.
      if (live) {
        // The step that ends sub-env 0's episode shows its final state, not the autoreset one.
        const ended = terminations[0] === 1 || truncations[0] === 1;
        const final = ended ? this.envs.peekFinalSnapshot(0) : null;
        const frame = final ? this.renderSnapshot(final) : this.envs.renderEnv(0);
        this.emit({
          type: 'step',
          step: s.step,
          episode: s.envZeroEpisodes + 1,
          episodeStep: s.episodeLengths[0]! + 1,
          action: actionOf(actions, 0, n),
          reward: rewards[0]!,
          episodeReturn: s.episodeReturns[0]! + rewards[0]!,
          terminated: terminations[0] === 1,
          truncated: truncations[0] === 1,
          t: Date.now(),
          frame: toRenderFrame(frame),
        });
      }
      const rec = this.trainRecorder;
      if (rec !== null && rec.isRecording(0)) rec.step(0, actionOf(actions, 0, n), rewards[0]!, terminations[0] === 1, truncations[0] === 1, next, result[4]);
      for (let i = 0; i < n; i++) {
        s.episodeReturns[i]! += rewards[i]!;
        s.episodeLengths[i]! += 1;
        if (!terminations[i] && !truncations[i]) continue;
        s.episodes++;
        if (i === 0) {
          s.envZeroEpisodes++;
          // Same-step autoreset: sub-env 0 already started its next episode.
          this.startTrainEpisode(next);
        }
        this.emit({
          type: 'episode',
          step: s.step,
          episode: s.episodes,
          envIndex: i,
          return: s.episodeReturns[i]!,
          length: s.episodeLengths[i]!,
          terminated: terminations[i] === 1,
          truncated: truncations[i] === 1,
          time: this.time(),
        });
        s.episodeReturns[i] = 0;
        s.episodeLengths[i] = 0;
        const ended = this.agent.episodeEnd?.(i, s.step) ?? null;
        this.addStats(ended instanceof Promise ? await ended : ended);
      }
      this.obs = next;
      this.masks = masks;

      // Schedules advance before the work they trigger, so a checkpoint records the next due steps.
      if (s.step >= s.nextLog) {
        s.nextLog += this.logEvery;
        this.logUpdate();
      }
      if (s.step >= s.nextEval) {
        s.nextEval += c.evalEvery;
        await this.evaluate();
      }
      if (s.step >= s.nextCheckpoint) {
        s.nextCheckpoint += c.checkpointEvery;
        await this.checkpoint();
      }
      // The loop is synchronous between evaluations; give sockets and signal handlers a turn now and then.
      if (performance.now() - this.lastYield > YIELD_MS) {
        await new Promise<void>((resolve) => setImmediate(resolve));
        this.lastYield = performance.now();
      }
      if (this.shouldStop()) {
        stopped = true;
        break;
      }
    }
    // A stop (Ctrl-C) only checkpoints, so that a resumed run logs exactly what an uninterrupted one would.
    if (!stopped && s.statCount > 0) this.logUpdate();
    if (!stopped && c.evalEvery > 0 && this.lastEvalStep !== s.step) await this.evaluate();
    if (this.lastCheckpointStep !== s.step) await this.checkpoint();
    await this.writePolicy('policy');
    return { steps: s.step, episodes: s.episodes, lastEval: this.lastEval, stopped };
  }

  private lastEvalStep = -1;
  private lastCheckpointStep = -1;

  /**
   * policy/ of a finished run whose process ended before writing it, from its final checkpoint (`dir`, at `step`),
   * which holds the agent the uninterrupted run wrote its policy from. Nothing else is read or changed: unlike
   * `resume`, metrics.jsonl is not cut back.
   */
  async writeFinalPolicy(dir: string, step: number): Promise<void> {
    await this.agent.load(path.join(dir, 'agent'));
    await this.writePolicy('policy', step);
  }

  private logUpdate(): void {
    const s = this.state;
    const now = performance.now();
    const stats: Record<string, number> = {};
    for (const [k, v] of Object.entries(s.statSums)) stats[k] = v / Math.max(1, s.statCount);
    Object.assign(stats, this.agent.status());
    s.updates += s.statCount;
    this.emit({
      type: 'update',
      step: s.step,
      updates: s.updates,
      stats,
      sps: Math.round(((s.step - this.lastLogStep) / Math.max(1e-9, now - this.lastLogTime)) * 1000),
      time: this.time(),
    });
    s.statSums = {};
    s.statCount = 0;
    this.lastLogTime = now;
    this.lastLogStep = s.step;
  }

  /**
   * The agent's greedy policy in `<run>/<name>/`, written whole or not at all; its lab.json also says what it
   * acts on (env, spaces, agent, preset, step), so a policy copied out of its run still says what it is.
   */
  private async writePolicy(name: 'policy' | 'best_policy', step = this.state.step): Promise<void> {
    const c = this.config;
    await writeDirAtomic(path.join(this.store.dir, name), async (tmp) => {
      await this.agent.savePolicy(tmp);
      annotateLayersModel(tmp, {
        policy: {
          envId: c.envId,
          envKwargs: c.envKwargs,
          agent: c.agent,
          preset: c.preset,
          observationSpace: this.envs.singleObservationSpace.toJSON(),
          actionSpace: this.envs.singleActionSpace.toJSON(),
          step,
          // Whether obs_normalization.json is there: a page fetching the policy then asks only for files that exist.
          obsNormalization: fs.existsSync(path.join(tmp, OBS_NORMALIZATION_FILE)),
        },
      });
    });
  }

  /** Greedy episodes on seeds evalSeed + j, all run side by side in one vector env. */
  async evaluate(): Promise<void> {
    const c = this.config;
    const started = performance.now();
    const record = this.replays.eval ? { dir: this.replaysDir, meta: this.replayMeta, checkpointStep: this.state.step } : undefined;
    const { returns, lengths } = await evaluateGreedy(this.agent, c.envId, c.envKwargs, c.evalEpisodes, c.evalSeed, undefined, record, this.goOpponent);
    const event = evalEvent(this.state.step, returns, lengths, started, this.time());
    const mean = event.meanReturn;
    this.lastEval = { meanReturn: mean, stdReturn: event.stdReturn };
    this.lastEvalStep = this.state.step;
    // Value-based agents can forget a solved task; keep the best evaluated policy too (as SB3's EvalCallback).
    if (mean > this.state.bestEval) {
      this.state.bestEval = mean;
      await this.writePolicy('best_policy');
    }
    this.emit(event);
  }

  async checkpoint(): Promise<void> {
    const s = this.state;
    const name = this.store.checkpointName(s.step);
    const dir = path.join(this.store.checkpointsDir, name);
    // The event goes into metrics.jsonl first and the file is flushed to disk (fsync) before its size is
    // recorded below: the size a checkpoint records is always on disk. A run resumed from this checkpoint keeps
    // the line, one resumed from an older checkpoint cuts it.
    this.emit({ type: 'checkpoint', step: s.step, path: path.relative(this.store.dir, dir), time: this.time() });
    this.store.close();
    const loop: SavedLoopState = {
      ...s,
      obs: Array.from(this.obs),
      obsType: this.obs instanceof Float32Array ? 'float32' : 'int32',
      masks: this.masks ? Array.from(this.masks) : null,
      envSnapshot: this.envs.snapshot(),
      metricsSize: this.store.metricsSize(),
    };
    await writeDirAtomic(dir, async (tmp) => {
      await this.agent.save(path.join(tmp, 'agent'));
      writeJsonAtomic(path.join(tmp, 'loop.json'), loop);
    });
    this.store.setLatestCheckpoint(s.step, name);
    this.lastCheckpointStep = s.step;
  }

  close(): void {
    this.trainRecorder?.close();
    this.scratchEnv?.close();
    this.envs.close();
    for (const sink of this.sinks) void sink.close?.();
    this.store.releaseWriter();
  }
}

/** Throws when a checkpoint's loop.json lacks what resuming needs (a damaged or foreign file). */
function checkLoopState(state: SavedLoopState, file: string, numEnvs: number): void {
  const bad = (what: string) => new Error(`loop state ${file} is damaged: ${what}`);
  if (state === null || typeof state !== 'object') throw bad('not an object');
  for (const k of ['step', 'episodes', 'updates', 'nextLog', 'metricsSize', 'statCount'] as const) {
    if (!Number.isSafeInteger(state[k]) || state[k] < 0) throw bad(`${k} is ${JSON.stringify(state[k])}`);
  }
  if (!Array.isArray(state.obs) || state.obs.length === 0) throw bad('no observations');
  if (!Array.isArray(state.episodeReturns) || state.episodeReturns.length !== numEnvs || !Array.isArray(state.episodeLengths) || state.episodeLengths.length !== numEnvs) {
    throw bad(`episode counters are not for ${numEnvs} sub-env${numEnvs === 1 ? '' : 's'}`);
  }
  if (state.envSnapshot === null || typeof state.envSnapshot !== 'object') throw bad('no env snapshot');
  if (state.statSums === null || typeof state.statSums !== 'object') throw bad('no statistics window');
}

/** Where and how `evaluateGreedy` writes a replay log per episode. */
export interface EvalRecording {
  dir: string;
  /** Header fields of the run (the time limit is taken from the env). */
  meta: ReplayMeta;
  /** Training step at which the evaluated policy was taken. */
  checkpointStep: number;
}

/**
 * Go opponents the loop supplies. Self-play: envs made with `opponent: 'self'` get the learning agent as
 * their opponent, sampling its policy from the opponent's observation (the same exploration as its own
 * moves; the opponent's moves are not learned from, so with `agentColor: 'random'` the agent learns both
 * colours). Envs made with `opponent: 'agent:<dir>'` get `saved`, the policy the caller loaded from `<dir>`.
 */
export function attachSelfPlay(envs: VectorEnv, agent: Pick<Agent, 'act'> | null, saved?: GoOpponent): void {
  const subEnvs = (envs as unknown as { envs?: Env[] }).envs ?? [];
  for (const e of subEnvs) {
    const u = e.unwrapped;
    if (!(u instanceof GoVsOpponentEnv) || !u.attachable) continue;
    if (u.opponentName === 'self') {
      if (agent) u.attachOpponent((board, _rng, game) => syncActions(agent.act(game!.observe(), 1, true, board.legalMask()), 'a self-play Go opponent')[0]!);
    } else if (saved) u.attachOpponent(saved);
    else throw new Error(`opponent '${u.opponentName}' was not loaded (lab train loads agent:<dir> opponents)`);
  }
}

/**
 * Actions an agent gave where the caller cannot wait (a Go env's opponent callback is synchronous): a Promise
 * here means a backend without synchronous reads, refused with one line that says what to use instead.
 */
export function syncActions<T>(acting: MaybePromise<T>, who: string): T {
  if (acting instanceof Promise) {
    acting.catch(() => undefined);
    throw new Error(`${who} must answer synchronously, which backend '${tf.getBackend()}' cannot (it reads back asynchronously): use --backend wasm or cpu for Go`);
  }
  return acting;
}

/**
 * Runs `episodes` greedy episodes side by side (sub-env j seeded `seed + j`) and returns their returns and
 * lengths. Sub-envs that finish early keep stepping without being counted. Envs without a time limit are
 * cut at `maxSteps` (a greedy policy can loop forever, e.g. walking into CliffWalking's wall). With `record`,
 * episode j is written to `<dir>/eval-s<checkpointStep>-e<j>.jsonl.gz`.
 */
/**
 * The `eval` event of greedy episodes' returns and lengths at env step `step` (mean, population std, extremes),
 * timed from `started` (performance.now()); one definition for the training loop and ScriptRun.
 */
export function evalEvent(step: number, returns: number[], lengths: number[], started: number, time: number): EvalEvent {
  const mean = returns.reduce((a, b) => a + b, 0) / returns.length;
  return {
    type: 'eval',
    step,
    episodes: returns.length,
    meanReturn: mean,
    stdReturn: Math.sqrt(returns.reduce((a, b) => a + (b - mean) ** 2, 0) / returns.length),
    minReturn: Math.min(...returns),
    maxReturn: Math.max(...returns),
    meanLength: lengths.reduce((a, b) => a + b, 0) / lengths.length,
    returns,
    seconds: Math.round(performance.now() - started) / 1000,
    time,
  };
}

/** A self-play opponent would be the evaluated agent itself: evaluation (and watching) plays the random one instead. */
export function evaluationEnvKwargs(envKwargs: Record<string, unknown>): Record<string, unknown> {
  return envKwargs['opponent'] === 'self' ? { ...envKwargs, opponent: 'random' } : envKwargs;
}

export async function evaluateGreedy(
  agent: Pick<Agent, 'act'>,
  envId: string,
  envKwargs: Record<string, unknown>,
  episodes: number,
  seed: number,
  maxSteps = 10_000,
  record?: EvalRecording,
  goOpponent?: GoOpponent,
): Promise<{ returns: number[]; lengths: number[] }> {
  const evalKwargs = evaluationEnvKwargs(envKwargs);
  const envs = makeVec(envId, episodes, { ...evalKwargs, autoresetMode: 'same-step' });
  attachSelfPlay(envs, null, goOpponent);
  const nActions = discreteCount(envs);
  let [obs, infos] = envs.reset({ seed });
  const returns = new Array<number>(episodes).fill(0);
  const lengths = new Array<number>(episodes).fill(0);
  const done = new Uint8Array(episodes);
  let remaining = episodes;
  const recorder = record ? new VectorReplayRecorder(envs, { ...record.meta, maxEpisodeSteps: envs.spec?.maxEpisodeSteps ?? null }) : null;
  try {
    if (recorder) {
      for (let j = 0; j < episodes; j++) {
        const file = path.join(record!.dir, evalReplayName(record!.checkpointStep, j));
        recorder.begin(j, file, { mode: 'eval', episode: j, seed: seed + j, withState: false, checkpointStep: record!.checkpointStep, startStep: null }, obs);
      }
    }
    for (let t = 0; remaining > 0 && t < maxSteps; t++) {
      const acting = agent.act(obs, episodes, false, batchedActionMasks(infos, episodes, nActions));
      const actions = acting instanceof Promise ? await acting : acting;
      const [next, rewards, terminations, truncations, stepInfos] = envs.step(actions);
      for (let j = 0; j < episodes; j++) {
        if (done[j]) continue;
        returns[j]! += rewards[j]!;
        lengths[j]! += 1;
        recorder?.step(j, actionOf(actions, j, episodes), rewards[j]!, terminations[j] === 1, truncations[j] === 1, next, stepInfos);
        if (terminations[j] || truncations[j]) {
          done[j] = 1;
          remaining--;
        }
      }
      obs = next;
      infos = stepInfos;
    }
    // Episodes cut at maxSteps: logged as they stand, with neither end flag set.
    if (recorder) for (let j = 0; j < episodes; j++) if (!done[j]) recorder.finishUnended(j);
  } finally {
    recorder?.close();
    envs.close();
  }
  return { returns, lengths };
}

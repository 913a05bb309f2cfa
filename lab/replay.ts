/**
 * Replay logs: one gzip'd JSON-lines file per recorded episode, enough to re-simulate it exactly.
 *
 *   line 1      {"type":"header","format":"lab-replay","version":1, env id and kwargs, time limit, mode, episode,
 *                seed or start-state snapshot, agent, run, policy step, lab version, frames?, obs?}
 *   line 2…     {"t":0,"a":1,"r":1,"term":false,"trunc":false}          one per step (+ "frame", "obs" when asked)
 *   last line   {"type":"footer","return":…,"length":…,"terminated":…,"truncated":…,"final":<env snapshot>}
 *
 * Evaluation episodes start from `make(envId, kwargs)` + `reset({ seed })`; training episodes start mid-stream of
 * a vector env, so their header carries `envState`, the single-env snapshot of that sub-env right after its
 * autoreset, which a fresh `make()` env restores. Re-simulating the actions must reproduce every reward, both
 * end flags and the final snapshot exactly; frames can therefore be left out and regenerated on demand.
 *
 * Logs are written whole at the end of an episode (gzip in memory, temporary file, fsync, rename), so a crash
 * loses at most the episode in progress and never leaves a half-written log.
 */
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { Discrete, make, type Env, type EnvSnapshot, type RenderFrame, type RenderMode, type TypedArray, type VectorEnv, type VectorInfo } from '../envs/index.js';
import { writeFileAtomic } from './fsutil.js';

export const REPLAY_FORMAT = 'lab-replay';
export const REPLAY_VERSION = 1;
/** Sub-directory of a run directory that holds its replay logs. */
export const REPLAYS_DIR = 'replays';
export const REPLAY_SUFFIX = '.jsonl.gz';

// ---------------------------------------------------------------------------------------------------------
// What gets recorded

/** Which training episodes of sub-env 0 are recorded, by their 0-based episode id. */
export type TrainSchedule = 'cubic' | 'none' | 'all' | { every: number };

export interface ReplayConfig {
  /** Record every evaluation episode. */
  eval: boolean;
  /** Training episodes of sub-env 0: Gymnasium's capped cubic schedule, none, all, or every n-th. */
  train: TrainSchedule;
  /** Store each step's render() frame (otherwise regenerate them with `replayFrames`). */
  frames: boolean;
  /** Store each step's observation. */
  obs: boolean;
}

export const DEFAULT_REPLAY_CONFIG: Readonly<ReplayConfig> = Object.freeze({ eval: true, train: 'cubic', frames: false, obs: false });

/**
 * Gymnasium's `capped_cubic_video_schedule`: episode k < 1000 is recorded iff it is a perfect cube
 * (0, 1, 8, 27, …, 729), later ones every 1000th.
 */
export function cubicSchedule(k: number): boolean {
  if (k < 1000) {
    const c = Math.round(Math.cbrt(k));
    return c * c * c === k;
  }
  return k % 1000 === 0;
}

export function shouldRecordTrain(schedule: TrainSchedule, episode: number): boolean {
  if (schedule === 'none') return false;
  if (schedule === 'all') return true;
  if (schedule === 'cubic') return cubicSchedule(episode);
  return episode % schedule.every === 0;
}

function describe(value: unknown): string {
  if (typeof value === 'string') return `'${value}'`;
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

function checkSchedule(value: unknown, what: string): TrainSchedule {
  if (value === 'cubic' || value === 'none' || value === 'all') return value;
  if (typeof value === 'object' && value !== null && Object.keys(value).length === 1) {
    const every = (value as { every?: unknown }).every;
    if (typeof every === 'number' && Number.isSafeInteger(every) && every >= 1) return { every };
  }
  throw new Error(`${what} must be 'cubic', 'none', 'all' or { every: n } with n a positive integer, got ${describe(value)}`);
}

/** `cubic`, `none`, `all` or `every:N` (the CLI's `--record-train`). */
export function parseTrainSchedule(text: string): TrainSchedule {
  const m = /^every:(\d+)$/.exec(text);
  if (m) return checkSchedule({ every: Number(m[1]) }, '--record-train');
  if (text === 'cubic' || text === 'none' || text === 'all') return text;
  throw new Error(`--record-train must be cubic, none, all or every:N (N ≥ 1), got '${text}'`);
}

export function formatTrainSchedule(schedule: TrainSchedule): string {
  return typeof schedule === 'string' ? schedule : `every:${schedule.every}`;
}

/** Defaults filled in and every field checked; `undefined` (older run directories) gives the defaults. */
export function resolveReplayConfig(partial?: Partial<ReplayConfig> | null): ReplayConfig {
  const given = (partial ?? {}) as Record<string, unknown>;
  if (typeof given !== 'object' || Array.isArray(given)) throw new Error(`replays must be an object, got ${describe(partial)}`);
  for (const key of Object.keys(given)) {
    if (!['eval', 'train', 'frames', 'obs'].includes(key)) throw new Error(`replays: unknown option '${key}' (known: eval, train, frames, obs)`);
  }
  const out: ReplayConfig = { ...DEFAULT_REPLAY_CONFIG };
  for (const key of ['eval', 'frames', 'obs'] as const) {
    const v = given[key];
    if (v === undefined) continue;
    if (typeof v !== 'boolean') throw new Error(`replays.${key} must be true or false, got ${describe(v)}`);
    out[key] = v;
  }
  if (given.train !== undefined) out.train = checkSchedule(given.train, 'replays.train');
  return out;
}

export function evalReplayName(step: number, episode: number): string {
  return `eval-s${String(step).padStart(10, '0')}-e${String(episode).padStart(3, '0')}${REPLAY_SUFFIX}`;
}

export function trainReplayName(episode: number): string {
  return `train-e${String(episode).padStart(7, '0')}${REPLAY_SUFFIX}`;
}

// ---------------------------------------------------------------------------------------------------------
// The format

export type ReplayObs = number | number[];
export type ReplayAction = number | number[];

export interface ReplayHeader {
  type: 'header';
  format: typeof REPLAY_FORMAT;
  version: number;
  runId: string | null;
  envId: string;
  /** Constructor options for `make(envId, …)`, without the time limit. */
  envKwargs: Record<string, unknown>;
  /** The time limit the episode ran under (null: none). */
  maxEpisodeSteps: number | null;
  mode: 'eval' | 'train';
  /** Evaluation: index j (seeded evalSeed + j); training: 0-based episode id of sub-env 0. */
  episode: number;
  /** Reset seed of the episode, when it starts from a seeded reset (evaluation). */
  seed: number | null;
  /** Single-env snapshot at the episode start, when it starts mid-stream (training). */
  envState: EnvSnapshot | null;
  agent: string | null;
  preset: string | null;
  /** Training env step of the policy that acted (training episodes: the step at their start; it keeps learning). */
  checkpointStep: number | null;
  /** Global env step at the start of a training episode (null for evaluation episodes). */
  startStep: number | null;
  labVersion: string;
  createdAt: string;
  frames: boolean;
  obs: boolean;
  /** render() right after the reset, when frames are recorded. */
  startFrame?: RenderFrame | string;
  /** The reset observation, when observations are recorded. */
  startObs?: ReplayObs;
}

export interface ReplayStep {
  t: number;
  a: ReplayAction;
  r: number;
  term: boolean;
  trunc: boolean;
  /** render() after this step, when frames are recorded. */
  frame?: RenderFrame | string;
  /** The observation after this step, when observations are recorded. */
  obs?: ReplayObs;
}

export interface ReplayFooter {
  type: 'footer';
  return: number;
  length: number;
  terminated: boolean;
  truncated: boolean;
  /** The single env's snapshot after the last step. */
  final: EnvSnapshot;
}

export interface ReplayLog {
  file: string;
  header: ReplayHeader;
  steps: ReplayStep[];
  footer: ReplayFooter;
}

/** A log that cannot be written or read; the message names the file and, where there is one, the line. */
export class ReplayError extends Error {
  override name = 'ReplayError';
  constructor(
    readonly file: string,
    readonly line: number | null,
    readonly detail: string,
  ) {
    super(`${file}: ${line !== null ? `line ${line}: ` : ''}${detail}`);
  }
}

const joinPath = (at: string, key: string | number) => (typeof key === 'number' ? `${at}[${key}]` : at ? `${at}.${key}` : key);

/** Path and value of the first NaN or ±Infinity inside `value`. */
function findNonFinite(value: unknown, at: string): [string, number] | null {
  if (typeof value === 'number') return Number.isFinite(value) ? null : [at || 'value', value];
  if (Array.isArray(value) || (ArrayBuffer.isView(value) && !(value instanceof DataView))) {
    const items = value as ArrayLike<unknown>;
    for (let i = 0; i < items.length; i++) {
      const found = findNonFinite(items[i], joinPath(at, i));
      if (found) return found;
    }
    return null;
  }
  if (typeof value === 'object' && value !== null) {
    for (const [k, v] of Object.entries(value)) {
      const found = findNonFinite(v, joinPath(at, k));
      if (found) return found;
    }
  }
  return null;
}

/** JSON with typed arrays as arrays; NaN and ±Infinity are refused (JSON would silently turn them into null). */
function toJsonLine(value: unknown, file: string, what: string): string {
  let nonFinite = false;
  const text = JSON.stringify(value, (_key, v: unknown) => {
    if (typeof v === 'number' && !Number.isFinite(v)) nonFinite = true;
    if (ArrayBuffer.isView(v) && !(v instanceof DataView)) return Array.from(v as unknown as ArrayLike<number>);
    return v;
  });
  if (nonFinite) {
    const [where, v] = findNonFinite(value, '')!;
    throw new ReplayError(file, null, `${what}: ${where} is ${v}; replay logs hold only finite numbers`);
  }
  return text;
}

/** A JSON-compatible copy (typed arrays become arrays, undefined fields vanish), for exact comparison. */
function plain(value: unknown): unknown {
  return JSON.parse(toJsonLine(value, '(comparison)', 'value')) as unknown;
}

/** Buffers one episode's lines in memory; `finish()` writes the whole log atomically. */
export class EpisodeWriter {
  private readonly lines: string[];
  private total = 0;
  private count = 0;

  constructor(
    readonly file: string,
    header: ReplayHeader,
  ) {
    this.lines = [toJsonLine(header, file, 'header')];
  }

  get length(): number {
    return this.count;
  }

  step(action: ReplayAction, reward: number, terminated: boolean, truncated: boolean, frame?: RenderFrame | string, obs?: ReplayObs): void {
    const t = this.count;
    if (typeof reward !== 'number' || !Number.isFinite(reward)) {
      throw new ReplayError(this.file, null, `step ${t}: reward ${reward} is not a finite number; replay logs hold only finite numbers`);
    }
    if (frame === undefined && obs === undefined && typeof action === 'number') {
      if (!Number.isFinite(action)) throw new ReplayError(this.file, null, `step ${t}: action ${action} is not a finite number`);
      // The common case without a JSON.stringify call; String() of a finite number is its JSON form.
      this.lines.push(`{"t":${t},"a":${action},"r":${reward},"term":${terminated},"trunc":${truncated}}`);
    } else {
      const line: ReplayStep = { t, a: action, r: reward, term: terminated, trunc: truncated };
      if (frame !== undefined) line.frame = frame;
      if (obs !== undefined) line.obs = obs;
      this.lines.push(toJsonLine(line, this.file, `step ${t}`));
    }
    this.total += reward;
    this.count++;
  }

  /** Writes header, steps and footer as one gzip file (temporary file, fsync, rename); returns its size. */
  finish(final: EnvSnapshot, terminated: boolean, truncated: boolean): number {
    if (this.count === 0) throw new ReplayError(this.file, null, 'an episode needs at least one step');
    const footer: ReplayFooter = { type: 'footer', return: this.total, length: this.count, terminated, truncated, final };
    this.lines.push(toJsonLine(footer, this.file, 'footer'));
    const data = zlib.gzipSync(this.lines.join('\n') + '\n');
    writeFileAtomic(this.file, data);
    return data.length;
  }
}

/** The header fields that stay the same for every episode recorded from one run's env. */
export interface ReplayMeta {
  runId: string | null;
  envId: string;
  envKwargs: Record<string, unknown>;
  maxEpisodeSteps: number | null;
  agent: string | null;
  preset: string | null;
  labVersion: string;
  frames: boolean;
  obs: boolean;
}

/** Env kwargs as a replay header stores them: what `make()` takes, minus the time limit and render mode. */
export function replayEnvKwargs(kwargs: Record<string, unknown>): Record<string, unknown> {
  const { maxEpisodeSteps: _limit, renderMode: _mode, ...rest } = kwargs;
  return JSON.parse(JSON.stringify(rest)) as Record<string, unknown>;
}

/**
 * The header of an episode's log: the run's shared fields, the episode's start (a seeded reset, or `envState`,
 * the env's snapshot after it) and, when the run records them, its first frame and observation.
 */
export function episodeHeader(m: ReplayMeta, start: Omit<EpisodeStart, 'withState'>, envState: EnvSnapshot | null, first: Pick<ReplayHeader, 'startFrame' | 'startObs'> = {}): ReplayHeader {
  return {
    type: 'header',
    format: REPLAY_FORMAT,
    version: REPLAY_VERSION,
    runId: m.runId,
    envId: m.envId,
    envKwargs: m.envKwargs,
    maxEpisodeSteps: m.maxEpisodeSteps,
    mode: start.mode,
    episode: start.episode,
    seed: start.seed,
    envState,
    agent: m.agent,
    preset: m.preset,
    checkpointStep: start.checkpointStep,
    startStep: start.startStep,
    labVersion: m.labVersion,
    createdAt: new Date().toISOString(),
    frames: m.frames,
    obs: m.obs,
    ...first,
  };
}

export interface EpisodeStart {
  mode: 'eval' | 'train';
  episode: number;
  seed: number | null;
  /** Store the sub-env's snapshot as the start state (episodes that do not start from a seeded reset). */
  withState: boolean;
  checkpointStep: number | null;
  startStep: number | null;
}

/**
 * Records episodes of chosen sub-envs of a vector env as they run. Call `begin(i, …)` right after sub-env i
 * was reset (by `reset()` or an autoreset), then `step(i, …)` after every vector step until its episode ends;
 * the log is written then. Sub-envs that are not being recorded cost one array lookup per step.
 */
export class VectorReplayRecorder {
  private readonly writers: (EpisodeWriter | null)[];
  private readonly discreteObs: boolean;
  private scratch: Env | null = null;
  /** Bytes written so far. */
  bytes = 0;
  logs = 0;

  constructor(
    private readonly envs: VectorEnv,
    private readonly meta: ReplayMeta,
  ) {
    this.writers = new Array<EpisodeWriter | null>(envs.numEnvs).fill(null);
    this.discreteObs = envs.singleObservationSpace instanceof Discrete;
  }

  isRecording(i: number): boolean {
    return this.writers[i] !== null;
  }

  private row(obs: ArrayLike<number>, i: number): ReplayObs {
    if (this.discreteObs) return obs[i]!;
    const width = obs.length / this.envs.numEnvs;
    return Array.from((obs as TypedArray).subarray(i * width, (i + 1) * width));
  }

  begin(i: number, file: string, start: EpisodeStart, obs: ArrayLike<number>): void {
    const m = this.meta;
    const header = episodeHeader(m, start, start.withState ? this.envs.snapshotEnv(i) : null, {
      ...(m.frames ? { startFrame: this.envs.renderEnv(i) } : {}),
      ...(m.obs ? { startObs: this.row(obs, i) } : {}),
    });
    this.writers[i] = new EpisodeWriter(file, header);
    this.envs.watchFinalState(i, true);
  }

  /** Records sub-env i's part of a vector step; returns true when this step ended its episode (log written). */
  step(i: number, action: ReplayAction, reward: number, terminated: boolean, truncated: boolean, nextObs: ArrayLike<number>, infos: VectorInfo): boolean {
    const writer = this.writers[i];
    if (!writer) return false;
    const ended = terminated || truncated;
    const final = ended ? this.finalState(i) : null;
    let frame: RenderFrame | string | undefined;
    let obs: ReplayObs | undefined;
    if (this.meta.frames) frame = final ? this.renderSnapshot(final) : this.envs.renderEnv(i);
    if (this.meta.obs) {
      const finalMask = infos._finalObs as ArrayLike<number> | undefined;
      if (ended && finalMask?.[i]) {
        const f = (infos.finalObs as ArrayLike<ArrayLike<number> | number>)[i]!;
        obs = typeof f === 'number' ? f : Array.from(f);
      } else {
        obs = this.row(nextObs, i);
      }
    }
    writer.step(action, reward, terminated, truncated, frame, obs);
    if (!final) return false;
    this.write(i, writer, final, terminated, truncated);
    return true;
  }

  /** Ends the recording of an episode cut short from outside (evaluation's step cap): its state so far is final. */
  finishUnended(i: number): void {
    const writer = this.writers[i];
    if (writer && writer.length > 0) this.write(i, writer, this.envs.snapshotEnv(i), false, false);
    else this.abandon(i);
  }

  /** Drops the episode being recorded for sub-env i (nothing is written). */
  abandon(i: number): void {
    this.writers[i] = null;
    this.envs.watchFinalState(i, false);
  }

  close(): void {
    for (let i = 0; i < this.writers.length; i++) if (this.writers[i]) this.abandon(i);
    this.scratch?.close();
    this.scratch = null;
  }

  private write(i: number, writer: EpisodeWriter, final: EnvSnapshot, terminated: boolean, truncated: boolean): void {
    this.writers[i] = null;
    this.envs.watchFinalState(i, false);
    this.bytes += writer.finish(final, terminated, truncated);
    this.logs++;
  }

  /** The single-env snapshot of sub-env i's final state (same-step autoreset has already reset it). */
  private finalState(i: number): EnvSnapshot {
    const kept = this.envs.takeFinalSnapshot(i);
    if (kept) return kept;
    if (this.envs.metadata.autoresetMode === 'same-step') {
      throw new Error(`replay recorder: sub-env ${i} ended but its final state was not kept (watchFinalState)`);
    }
    return this.envs.snapshotEnv(i); // next-step and disabled modes keep the final state until the next step
  }

  /** render() of a single env restored to `snapshot` (the final frame of a sub-env that was already reset). */
  private renderSnapshot(snapshot: EnvSnapshot): RenderFrame | string {
    this.scratch ??= makeReplayEnv(this.meta);
    this.scratch.restore(snapshot);
    return this.scratch.render();
  }
}

function makeReplayEnv(h: { envId: string; envKwargs: Record<string, unknown>; maxEpisodeSteps: number | null }, renderMode?: RenderMode): Env {
  return make(h.envId, { ...h.envKwargs, maxEpisodeSteps: h.maxEpisodeSteps, ...(renderMode ? { renderMode } : {}) });
}

// ---------------------------------------------------------------------------------------------------------
// Reading

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const isAction = (v: unknown): v is ReplayAction =>
  (typeof v === 'number' && Number.isFinite(v)) || (Array.isArray(v) && v.every((x) => typeof x === 'number' && Number.isFinite(x)));
const isObs = isAction;

function gunzip(data: Buffer, file: string): Buffer {
  try {
    return zlib.gunzipSync(data);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'Z_BUF_ERROR' || /unexpected end/i.test(e.message)) throw new ReplayError(file, null, 'truncated gzip data (the file is cut short)');
    if (/incorrect header check/i.test(e.message)) throw new ReplayError(file, null, 'not gzip data (a replay log is a .jsonl.gz file)');
    throw new ReplayError(file, null, `corrupt gzip data (${e.message})`);
  }
}

function checkHeader(h: Record<string, unknown>, file: string): ReplayHeader {
  if (h.type !== 'header' || h.format !== REPLAY_FORMAT) throw new ReplayError(file, 1, 'not a lab-replay header');
  if (!Number.isSafeInteger(h.version) || (h.version as number) < 1) throw new ReplayError(file, 1, `header: version must be a positive integer, got ${describe(h.version)}`);
  if ((h.version as number) > REPLAY_VERSION) {
    throw new ReplayError(file, 1, `format version ${h.version as number} is newer than this lab reads (${REPLAY_VERSION}); update the lab`);
  }
  const bad = (field: string, expected: string) => new ReplayError(file, 1, `header: '${field}' must be ${expected}, got ${describe(h[field])}`);
  if (typeof h.envId !== 'string' || h.envId === '') throw bad('envId', 'an env id');
  if (!isObject(h.envKwargs)) throw bad('envKwargs', 'an object');
  if (h.maxEpisodeSteps !== null && !(isCount(h.maxEpisodeSteps) && h.maxEpisodeSteps > 0)) throw bad('maxEpisodeSteps', 'a positive integer or null');
  if (h.mode !== 'eval' && h.mode !== 'train') throw bad('mode', "'eval' or 'train'");
  if (!isCount(h.episode)) throw bad('episode', 'a non-negative integer');
  if (h.seed !== null && !isCount(h.seed)) throw bad('seed', 'a non-negative integer or null');
  if (h.envState !== null && !isObject(h.envState)) throw bad('envState', 'an env snapshot or null');
  if (h.seed === null && h.envState === null) throw new ReplayError(file, 1, 'header: neither a seed nor a start state (envState): the episode cannot be re-simulated');
  for (const f of ['runId', 'agent', 'preset'] as const) if (h[f] !== null && typeof h[f] !== 'string') throw bad(f, 'a string or null');
  for (const f of ['checkpointStep', 'startStep'] as const) if (h[f] !== null && !isCount(h[f])) throw bad(f, 'a non-negative integer or null');
  if (typeof h.labVersion !== 'string') throw bad('labVersion', 'a string');
  if (typeof h.createdAt !== 'string') throw bad('createdAt', 'a string');
  for (const f of ['frames', 'obs'] as const) if (typeof h[f] !== 'boolean') throw bad(f, 'true or false');
  if (h.startObs !== undefined && !isObs(h.startObs)) throw bad('startObs', 'a number or an array of numbers');
  return h as unknown as ReplayHeader;
}

function checkStep(s: Record<string, unknown>, header: ReplayHeader, expected: number, file: string, line: number): ReplayStep {
  if (s.t !== expected) throw new ReplayError(file, line, `step number ${describe(s.t)}, expected ${expected}`);
  if (!isAction(s.a)) throw new ReplayError(file, line, `step ${expected}: action must be a number or an array of numbers, got ${describe(s.a)}`);
  if (typeof s.r !== 'number' || !Number.isFinite(s.r)) throw new ReplayError(file, line, `step ${expected}: reward must be a finite number, got ${describe(s.r)}`);
  if (typeof s.term !== 'boolean' || typeof s.trunc !== 'boolean') {
    throw new ReplayError(file, line, `step ${expected}: 'term' and 'trunc' must be true or false, got ${describe(s.term)} and ${describe(s.trunc)}`);
  }
  if (header.frames && s.frame === undefined) throw new ReplayError(file, line, `step ${expected}: no frame, but the header says frames are recorded`);
  if (header.obs && s.obs === undefined) throw new ReplayError(file, line, `step ${expected}: no observation, but the header says observations are recorded`);
  if (s.obs !== undefined && !isObs(s.obs)) throw new ReplayError(file, line, `step ${expected}: observation must be a number or an array of numbers`);
  return s as unknown as ReplayStep;
}

function checkFooter(f: Record<string, unknown>, steps: ReplayStep[], file: string, line: number): ReplayFooter {
  if (typeof f.return !== 'number' || !Number.isFinite(f.return)) throw new ReplayError(file, line, `footer: return must be a finite number, got ${describe(f.return)}`);
  if (!isCount(f.length)) throw new ReplayError(file, line, `footer: length must be a non-negative integer, got ${describe(f.length)}`);
  if (typeof f.terminated !== 'boolean' || typeof f.truncated !== 'boolean') throw new ReplayError(file, line, 'footer: terminated and truncated must be true or false');
  if (!isObject(f.final)) throw new ReplayError(file, line, 'footer: final must be the env snapshot after the last step');
  if (f.length !== steps.length) throw new ReplayError(file, line, `footer says the episode has ${f.length} steps, but the log has ${steps.length}`);
  if (steps.length === 0) throw new ReplayError(file, line, 'the log has no steps');
  let total = 0;
  for (const s of steps) total += s.r;
  if (total !== f.return) throw new ReplayError(file, line, `footer return ${f.return} ≠ ${total}, the sum of the steps' rewards`);
  const last = steps.at(-1)!;
  if (last.term !== f.terminated || last.trunc !== f.truncated) {
    throw new ReplayError(file, line, `footer: terminated ${f.terminated}, truncated ${f.truncated} disagree with the last step's ${last.term}, ${last.trunc}`);
  }
  return f as unknown as ReplayFooter;
}

/** Parses a log from its gzip'd bytes; `file` names it in errors. */
export function parseReplay(data: Buffer, file: string): ReplayLog {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(gunzip(data, file));
  } catch (err) {
    if (err instanceof ReplayError) throw err;
    throw new ReplayError(file, null, 'the decompressed data is not UTF-8 text');
  }
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  if (lines.length === 0) throw new ReplayError(file, null, 'empty log (no header)');
  const parse = (i: number): Record<string, unknown> => {
    const raw = lines[i]!;
    if (raw === '') throw new ReplayError(file, i + 1, 'empty line');
    let v: unknown;
    try {
      v = JSON.parse(raw);
    } catch {
      throw new ReplayError(file, i + 1, 'not valid JSON');
    }
    if (!isObject(v)) throw new ReplayError(file, i + 1, i === 0 ? 'not a lab-replay header' : `expected a step or the footer, got ${describe(v).slice(0, 60)}`);
    return v;
  };
  const header = checkHeader(parse(0), file);
  const steps: ReplayStep[] = [];
  let footer: ReplayFooter | null = null;
  for (let i = 1; i < lines.length; i++) {
    const v = parse(i);
    if (footer) throw new ReplayError(file, i + 1, 'more lines after the footer');
    if (v.type === 'footer') {
      footer = checkFooter(v, steps, file, i + 1);
      continue;
    }
    if (v.type === 'header') throw new ReplayError(file, i + 1, 'a second header');
    if (v.type !== undefined) throw new ReplayError(file, i + 1, `unknown line type ${describe(v.type)}`);
    const previous = steps.at(-1);
    if (previous && (previous.term || previous.trunc)) {
      throw new ReplayError(file, i + 1, `step ${steps.length} follows the end of the episode (step ${previous.t} was ${previous.term ? 'terminated' : 'truncated'})`);
    }
    steps.push(checkStep(v, header, steps.length, file, i + 1));
  }
  if (!footer) throw new ReplayError(file, null, 'no footer (the episode is incomplete)');
  return { file, header, steps, footer };
}

export function readReplay(file: string): ReplayLog {
  let data: Buffer;
  try {
    data = fs.readFileSync(file);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new ReplayError(file, null, e.code === 'ENOENT' ? 'no such file' : e.code === 'EISDIR' ? 'is a directory' : e.message);
  }
  return parseReplay(data, file);
}

/** Gzip'd bytes of a log (the writer's exact layout); for tools and tests that build or edit logs. */
export function encodeReplay(log: Omit<ReplayLog, 'file'>, file = '(log)'): Buffer {
  const lines = [toJsonLine(log.header, file, 'header'), ...log.steps.map((s) => toJsonLine(s, file, `step ${s.t}`)), toJsonLine(log.footer, file, 'footer')];
  return zlib.gzipSync(lines.join('\n') + '\n');
}

export function writeReplay(file: string, log: Omit<ReplayLog, 'file'>): void {
  writeFileAtomic(file, encodeReplay(log, file));
}

/** Replay logs under the given files and directories (recursively), sorted; files are taken as given. */
export function findReplays(paths: readonly string[]): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const p = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(p);
      // Hidden names are temporary files of a writer (renamed to the real name once complete).
      else if (entry.isFile() && entry.name.endsWith(REPLAY_SUFFIX) && !entry.name.startsWith('.')) out.push(p);
    }
  };
  for (const p of paths) {
    if (fs.existsSync(p) && fs.statSync(p).isDirectory()) walk(p);
    else out.push(p);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// Re-simulation

export interface Resimulation {
  rewards: number[];
  terminated: boolean[];
  truncated: boolean[];
  /** Observation after each step (when asked). */
  obs: ReplayObs[] | null;
  startObs: ReplayObs | null;
  /** render() after the reset and after each step (when asked): steps + 1 frames. */
  frames: (RenderFrame | string)[] | null;
  /** The env's snapshot after the last step taken (null if a step failed). */
  final: EnvSnapshot | null;
  /** A step the env refused (e.g. a tampered action), with its error. */
  error: { step: number; message: string } | null;
}

export interface ResimulateOptions {
  /** Regenerate frames; 'ansi' renders terminal text where the env supports it. */
  frames?: boolean | RenderMode;
  obs?: boolean;
}

/** An observation or action as a replay log holds it: a number, or an array of numbers (typed arrays copied). */
export function replayValue(x: unknown): ReplayObs {
  if (typeof x === 'number') return x;
  if (ArrayBuffer.isView(x) || Array.isArray(x)) return Array.from(x as ArrayLike<number>, Number);
  throw new Error(`replay logs hold numbers or arrays of numbers, got ${x === null ? 'null' : typeof x}`);
}

/**
 * Re-runs a log's actions in a fresh single env (`make(envId, { ...envKwargs, maxEpisodeSteps })`), starting
 * from `envState` (restored) or a reset with `seed`. Stops early if the env ends before the log does.
 */
export function resimulate(log: ReplayLog, options: ResimulateOptions = {}): Resimulation {
  const h = log.header;
  const renderMode: RenderMode | undefined = options.frames === 'ansi' ? 'ansi' : options.frames ? 'json' : undefined;
  let env: Env;
  let startObs: unknown;
  try {
    env = makeReplayEnv(h, renderMode);
  } catch (err) {
    throw new ReplayError(log.file, 1, `cannot build ${h.envId}: ${(err as Error).message}`);
  }
  try {
    try {
      if (h.envState !== null) {
        env.restore(h.envState);
        startObs = null;
      } else {
        [startObs] = env.reset({ seed: h.seed! });
      }
    } catch (err) {
      throw new ReplayError(log.file, 1, `cannot start the episode: ${(err as Error).message}`);
    }
    const out: Resimulation = {
      rewards: [],
      terminated: [],
      truncated: [],
      obs: options.obs ? [] : null,
      startObs: options.obs && startObs !== null ? replayValue(startObs) : null,
      frames: renderMode ? [env.render()] : null,
      final: null,
      error: null,
    };
    for (const s of log.steps) {
      let result;
      try {
        result = env.step(s.a);
      } catch (err) {
        out.error = { step: s.t, message: (err as Error).message };
        return out;
      }
      const [obs, reward, terminated, truncated] = result;
      out.rewards.push(reward);
      out.terminated.push(terminated);
      out.truncated.push(truncated);
      out.obs?.push(replayValue(obs));
      out.frames?.push(env.render());
      if (terminated || truncated) break;
    }
    out.final = env.snapshot();
    return out;
  } finally {
    env.close();
  }
}

/** Path and values of the first difference between two JSON values, or null when equal. */
export function firstDifference(a: unknown, b: unknown, at = ''): string | null {
  if (a === b) return null;
  const show = (v: unknown) => {
    const s = describe(v);
    return s.length > 40 ? `${s.slice(0, 37)}…` : s;
  };
  if (Array.isArray(a) && Array.isArray(b)) {
    for (let i = 0; i < Math.min(a.length, b.length); i++) {
      const d = firstDifference(a[i], b[i], joinPath(at, i));
      if (d) return d;
    }
    return a.length === b.length ? null : `${at || 'value'}: ${a.length} entries ≠ ${b.length}`;
  }
  if (isObject(a) && isObject(b)) {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
    for (const k of keys) {
      if (!Object.hasOwn(a, k)) return `${joinPath(at, k)}: missing ≠ ${show(b[k])}`;
      if (!Object.hasOwn(b, k)) return `${joinPath(at, k)}: ${show(a[k])} ≠ missing`;
      const d = firstDifference(a[k], b[k], joinPath(at, k));
      if (d) return d;
    }
    return null;
  }
  return `${at || 'value'}: ${show(a)} ≠ ${show(b)}`;
}

export interface Mismatch {
  /** Step index, or null for the start or the final state. */
  step: number | null;
  message: string;
}

/**
 * Compares a log with its re-simulation: every reward and end flag, the recorded observations and frames
 * (JSON frames only), the episode length and the final snapshot. Returns the first mismatch, or null.
 */
export function compareResimulation(log: ReplayLog, sim: Resimulation): Mismatch | null {
  const n = log.steps.length;
  const ofLog = '(log ≠ re-simulated)';
  if (log.header.startObs !== undefined && sim.startObs !== null) {
    const d = firstDifference(log.header.startObs, plain(sim.startObs), 'startObs');
    if (d) return { step: null, message: `start: ${d} ${ofLog}` };
  }
  const jsonFrames = sim.frames !== null && typeof sim.frames[0] === 'object';
  if (jsonFrames && log.header.startFrame !== undefined) {
    const d = firstDifference(log.header.startFrame, plain(sim.frames![0]), 'frame');
    if (d) return { step: null, message: `start: ${d} ${ofLog}` };
  }
  for (let k = 0; k < n; k++) {
    const s = log.steps[k]!;
    if (k >= sim.rewards.length) {
      if (sim.error && sim.error.step === k) return { step: k, message: `step ${k}: the env refused action ${describe(s.a)}: ${sim.error.message}` };
      return { step: k, message: `step ${k}: the re-simulated episode already ended after ${sim.rewards.length} steps, the log has ${n}` };
    }
    if (s.r !== sim.rewards[k]) return { step: k, message: `step ${k}: reward ${s.r} ≠ ${sim.rewards[k]} ${ofLog}` };
    if (s.term !== sim.terminated[k]) return { step: k, message: `step ${k}: terminated ${s.term} ≠ ${sim.terminated[k]} ${ofLog}` };
    if (s.trunc !== sim.truncated[k]) return { step: k, message: `step ${k}: truncated ${s.trunc} ≠ ${sim.truncated[k]} ${ofLog}` };
    if (s.obs !== undefined && sim.obs) {
      const d = firstDifference(s.obs, plain(sim.obs[k]), 'obs');
      if (d) return { step: k, message: `step ${k}: ${d} ${ofLog}` };
    }
    if (s.frame !== undefined && jsonFrames) {
      const d = firstDifference(s.frame, plain(sim.frames![k + 1]), 'frame');
      if (d) return { step: k, message: `step ${k}: ${d} ${ofLog}` };
    }
  }
  if (sim.final === null) return { step: null, message: 'final state: the re-simulation did not finish' };
  const d = firstDifference(log.footer.final, plain(sim.final));
  if (d) return { step: null, message: `final state: ${d} ${ofLog}` };
  return null;
}

export interface VerifyResult {
  file: string;
  ok: boolean;
  mode: 'eval' | 'train' | null;
  steps: number | null;
  return: number | null;
  /** Re-simulation disagrees with the log. */
  mismatch: Mismatch | null;
  /** The log could not be read (corrupt, truncated, incomplete…); the message names file and line. */
  error: string | null;
}

/** Reads a log and re-simulates it: ok when everything recorded is reproduced exactly. */
export function verifyReplay(file: string): VerifyResult {
  let log: ReplayLog;
  try {
    log = readReplay(file);
  } catch (err) {
    return { file, ok: false, mode: null, steps: null, return: null, mismatch: null, error: (err as Error).message };
  }
  return verifyLog(log);
}

export function verifyLog(log: ReplayLog): VerifyResult {
  const base = { file: log.file, mode: log.header.mode, steps: log.steps.length, return: log.footer.return };
  try {
    const sim = resimulate(log, { frames: log.header.frames, obs: log.header.obs });
    const mismatch = compareResimulation(log, sim);
    return { ...base, ok: mismatch === null, mismatch, error: null };
  } catch (err) {
    return { ...base, ok: false, mismatch: null, error: (err as Error).message };
  }
}

/**
 * The frames of a recorded episode, regenerated by re-simulation (render() after the reset, then one per
 * step): what a viewer draws for a log written without frames. Throws if the re-simulation disagrees with
 * the log, since the frames would then show a different episode.
 */
export function replayFrames(fileOrLog: string | ReplayLog, renderMode: RenderMode = 'json'): (RenderFrame | string)[] {
  const log = typeof fileOrLog === 'string' ? readReplay(fileOrLog) : fileOrLog;
  const sim = resimulate(log, { frames: renderMode, obs: log.header.obs });
  const mismatch = compareResimulation(log, sim);
  if (mismatch) throw new ReplayError(log.file, null, `re-simulation does not reproduce the episode: ${mismatch.message}`);
  return sim.frames!;
}

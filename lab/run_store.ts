/**
 * The run directory, one model for every kind of training run (RL: agents/train.ts; GAN: gan/train.ts;
 * AlphaZero-lite: agents/go/alphazero.ts): everything needed to reproduce, inspect, resume and evaluate it.
 *
 *   runs/<runId>/
 *     config.json               what was run: `kind`, hyperparameters, seed, budget, versions, backend and why,
 *                               createdAt, command (RunConfigBase in lab/run_files.ts), and the kind's own fields
 *     metrics.jsonl             one JSON object per line (protocol events), appended; cut back on resume
 *     events.out.tfevents.*     TensorBoard's event file, progress.csv (and RL: monitor.csv): SB3's CSV logs, all
 *                               derived from metrics.jsonl as it grows (lab/run_logs.ts), rewritten from it when
 *                               a process starts appending (so a resume leaves no step twice)
 *     checkpoints/latest.json   {"unit": "steps"|"iterations", "at": N, "dir": "step-…"|"iter-…"}, written last,
 *                               atomically (older runs wrote {"step": N, "dir"} or {"iteration": N, "dir"}: read too)
 *     checkpoints/step-…/ iter-…/  everything the kind needs to continue exactly
 *     …                         the kind's final outputs (RL: policy/, best_policy/, replays/; GAN: generator/,
 *                               samples/, curves/; AlphaZero-lite: agent/)
 *     .writer.lock              {pid, host, since, identity} of the process training the run, while it trains
 *
 * RunStore creates (never over an existing directory) and opens run directories, reads and writes config.json,
 * is the metrics sink, reads and moves the checkpoint pointer and prepares a resume (choosing the checkpoint,
 * cutting metrics.jsonl back to it). newRunConfig fills in the fields every kind shares; runStamp is the time
 * stamp of default run ids.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { EventSink, TrainEvent } from '../protocol/events.js';
import type { ComputeInfo } from './compute.js';
import { readJson, recoverDir, writeJsonAtomic } from './fsutil.js';
import { claimLock, liveLockHolder, type LockHolder } from './process.js';
import { RunLogs, type RunLogsOptions } from './run_logs.js';
import { PROGRESS_UNIT, RUN_DIR_KINDS, type ProgressUnit, type RlRunFields, type RunConfigBase, type RunDirKind } from './run_files.js';
import { LAB_VERSION } from './version.js';

export type { ProgressUnit, RunConfigBase, RunDirKind } from './run_files.js';

/** An RL run's config.json (the fields are defined, and checked, with the other kinds' in lab/run_files.ts). */
export type RunConfig = RlRunFields;

/** The time stamp of default run ids and of files named by time: 20260102-030405 (UTC, to the second). */
export function runStamp(date: Date = new Date()): string {
  return date.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, '').replace('T', '-');
}

/**
 * The fields of a new run's config.json that every kind shares, from what the trainer resolved: the lab,
 * Node and TensorFlow.js versions, the backend asked for, the one chosen and why, and the time.
 */
export function newRunConfig<K extends RunDirKind, H>(
  kind: K,
  fields: { runId: string; hyperparameters: H; seed: number; requestedBackend: string; compute: ComputeInfo; command?: string },
): RunConfigBase<K, H> {
  const { compute } = fields;
  return {
    kind,
    runId: fields.runId,
    hyperparameters: fields.hyperparameters,
    seed: fields.seed,
    backend: { requested: fields.requestedBackend, backend: compute.backend, reason: compute.reason, details: compute.details },
    versions: { lab: LAB_VERSION, node: process.version, tfjs: compute.tfjsVersion },
    createdAt: new Date().toISOString(),
    command: fields.command ?? '',
  };
}

/** checkpoints/latest.json: which checkpoint directory a run resumes from, and how far it had come. */
export interface CheckpointPointer {
  /** What the run counts its progress in (RL: env steps; GAN, AlphaZero-lite: iterations). */
  unit: ProgressUnit;
  /** Progress at the checkpoint, in `unit`. */
  at: number;
  /** The checkpoint directory's plain name inside checkpoints/. */
  dir: string;
}

/** Name of the checkpoint directory at progress `at`: step-0000001000 (env steps), iter-00000500 (iterations). */
export function checkpointName(unit: ProgressUnit, at: number): string {
  return unit === 'steps' ? `step-${String(at).padStart(10, '0')}` : `iter-${String(at).padStart(8, '0')}`;
}

/** The kind in a config.json object (none: an RL run from before kinds); an unknown kind is an error. */
function kindOf(config: unknown, file: string): RunDirKind {
  const kind = config !== null && typeof config === 'object' && Object.hasOwn(config, 'kind') ? (config as { kind: unknown }).kind : undefined;
  if (kind === undefined) return 'rl';
  if (RUN_DIR_KINDS.includes(kind as RunDirKind)) return kind as RunDirKind;
  throw new Error(`${file}: unknown run kind ${JSON.stringify(kind)} (expected ${RUN_DIR_KINDS.map((k) => JSON.stringify(k)).join(', ')})`);
}

/** A run directory on disk; also the sink that appends events to metrics.jsonl. */
export class RunStore implements EventSink {
  readonly metricsFile: string;
  /** What the run's checkpoints count (from its kind). */
  readonly unit: ProgressUnit;
  private fd: number | null = null;
  /** The TensorBoard and SB3 logs (null until the first record; 'off' after they failed, said once). */
  private logs: RunLogs | null | 'off' = null;

  constructor(
    readonly dir: string,
    readonly kind: RunDirKind = 'rl',
    /** How the logs beside metrics.jsonl draw what the lab layer cannot (the GAN's sample grids). */
    private readonly logOptions: RunLogsOptions = {},
  ) {
    this.metricsFile = path.join(dir, 'metrics.jsonl');
    this.unit = PROGRESS_UNIT[kind];
    if (process.env[RUN_LOGS_ENV] === '0') this.logs = 'off';
  }

  /**
   * Creates a new run directory `<root>/<config.runId>` with its checkpoints/ folder, config.json and an empty
   * metrics.jsonl; refuses to touch a directory that exists already.
   */
  static create(root: string, config: RunConfigBase<RunDirKind, unknown>, logOptions: RunLogsOptions = {}): RunStore {
    const dir = path.join(root, config.runId);
    kindOf(config, 'config.json');
    if (fs.existsSync(dir)) throw new Error(`run directory ${dir} already exists`);
    fs.mkdirSync(path.join(dir, 'checkpoints'), { recursive: true });
    writeJsonAtomic(path.join(dir, 'config.json'), config);
    const store = new RunStore(dir, config.kind, logOptions);
    fs.writeFileSync(store.metricsFile, '');
    return store;
  }

  /**
   * Opens an existing run directory (any kind; `expected` makes another kind an error that says what it is).
   * With `expected`, a config.json that does not parse is left to the caller's checked reader to report.
   */
  static open(dir: string, expected?: RunDirKind): RunStore {
    const file = path.join(dir, 'config.json');
    if (!fs.existsSync(file)) throw new Error(`${dir} is not a run directory (no config.json)`);
    let parsed: unknown;
    try {
      parsed = readJson<unknown>(file, 'run config');
    } catch (err) {
      if (expected === undefined) throw err;
      return new RunStore(dir, expected);
    }
    const kind = kindOf(parsed, file);
    if (expected !== undefined && kind !== expected) throw new Error(`${dir} is not ${KIND_NAMES[expected]} (config.json has kind ${JSON.stringify(kind)}, expected ${JSON.stringify(expected)})`);
    return new RunStore(dir, kind);
  }

  /**
   * Claims the run for this process's writes (`<run>/.writer.lock`) until releaseWriter: a second process
   * training the same run (a `--resume` beside the run still going) would mix their metrics and checkpoints, so it
   * is refused in one line. A lock whose process is gone (kill -9, a crash) is taken over.
   */
  claimWriter(): void {
    if (this.writerRelease !== null) return;
    const file = path.join(this.dir, WRITER_LOCK);
    this.writerRelease = claimLock(file, (holder, sameHost) =>
      sameHost
        ? new Error(`run ${this.dir} is being trained by process ${holder.pid} (since ${holder.since}): let it finish, or stop it first (Ctrl-C there, or kill ${holder.pid}; a stopped run resumes from its checkpoint)`)
        : new Error(`run ${this.dir} is being trained by process ${holder.pid} on ${holder.host} (since ${holder.since}): stop it first, or remove ${file} if that machine is gone`),
    );
  }

  /** Gives up what claimWriter claimed (the training is over: finished, stopped or failed). */
  releaseWriter(): void {
    this.writerRelease?.();
    this.writerRelease = null;
  }

  private writerRelease: (() => void) | null = null;

  /** The process training run `dir` now (its writer lock, see claimWriter), or null. */
  static writer(dir: string): LockHolder | null {
    return liveLockHolder(path.join(dir, WRITER_LOCK));
  }

  /** config.json as written (not checked: lab/run_files.ts readRunConfig checks); an RL run from before kinds gets `kind: "rl"`. */
  config<C extends RunConfigBase<RunDirKind, unknown> = RunConfig>(): C {
    const config = readJson<Record<string, unknown>>(path.join(this.dir, 'config.json'), 'run config');
    return (Object.hasOwn(config, 'kind') ? config : { kind: 'rl', ...config }) as unknown as C;
  }

  /** Replaces config.json, atomically (a resume that raised the budget). */
  writeConfig(config: RunConfigBase<RunDirKind, unknown>): void {
    writeJsonAtomic(path.join(this.dir, 'config.json'), config);
  }

  get checkpointsDir(): string {
    return path.join(this.dir, 'checkpoints');
  }

  /** The directory name of this run's checkpoint at progress `at`. */
  checkpointName(at: number): string {
    return checkpointName(this.unit, at);
  }

  /** checkpoints/latest.json, checked to name a checkpoint directory of this run (null when there is none). */
  latestCheckpoint(): CheckpointPointer | null {
    return readCheckpointPointer(this.checkpointsDir, this.unit);
  }

  /**
   * Points checkpoints/latest.json at the checkpoint directory `dir` (written at progress `at`), then deletes
   * older checkpoints but the `keep - 1` newest (pruneCheckpoints). The pointer moves first, so a crash never
   * leaves it dangling.
   */
  setLatestCheckpoint(at: number, dir: string, keep = 2): void {
    const pointer: CheckpointPointer = { unit: this.unit, at, dir };
    writeJsonAtomic(path.join(this.checkpointsDir, 'latest.json'), pointer);
    pruneCheckpoints(this.checkpointsDir, this.unit, dir, keep);
  }

  /**
   * Prepares a resume: chooses the newest intact checkpoint (chooseCheckpoint: `load` reads and restores one,
   * throwing when it is damaged), then makes metrics.jsonl fit the size it recorded (prepareMetricsForResume).
   * When metrics.jsonl does not fit, `discard` releases what `load` returned before the error is thrown.
   */
  async resumeFrom<T>(options: {
    load: (dir: string, name: string) => T | Promise<T>;
    metricsSize: (loaded: T) => number;
    discard?: (loaded: T) => void;
    onWarning?: (message: string) => void;
  }): Promise<CheckpointChoice<T>> {
    const choice = await chooseCheckpoint(this.dir, { unit: this.unit, load: options.load, ...(options.onWarning ? { onWarning: options.onWarning } : {}) });
    try {
      prepareMetricsForResume(this.metricsFile, options.metricsSize(choice.loaded), `checkpoint ${choice.name}`);
    } catch (err) {
      options.discard?.(choice.loaded);
      throw err;
    }
    return choice;
  }

  /** Bytes of metrics.jsonl written so far (recorded in checkpoints to cut back to on resume). */
  metricsSize(): number {
    return fs.existsSync(this.metricsFile) ? fs.statSync(this.metricsFile).size : 0;
  }

  /** Flushes metrics.jsonl and the logs beside it to disk (before a checkpoint records its size). */
  sync(): void {
    if (this.fd !== null) fs.fsyncSync(this.fd);
    if (this.logs instanceof RunLogs) this.withLogs((logs) => logs.sync());
  }

  /** Appends one record to metrics.jsonl, and what it gives to the TensorBoard and SB3 logs. */
  append(record: object): void {
    // The logs first catch up with metrics.jsonl as this process found it (a resume has just cut it back).
    if (this.logs === null) this.withLogs(() => (this.logs = RunLogs.rewrite(this.dir, this.kind, this.logOptions)));
    this.fd ??= fs.openSync(this.metricsFile, 'a');
    const line = JSON.stringify(record);
    // One write per line: a crash leaves at most one partial last line, which readers skip.
    fs.writeSync(this.fd, line + '\n');
    if (this.logs instanceof RunLogs) this.withLogs((logs) => logs.add(line));
  }

  /**
   * Runs `work` on the logs; a failure (a damaged metrics.jsonl, a full disk) stops them for this process with
   * one warning, and training goes on: metrics.jsonl is the record, and `lab tensorboard` rewrites the logs from it.
   */
  private withLogs(work: (logs: RunLogs) => void): void {
    try {
      work(this.logs as RunLogs);
    } catch (err) {
      const logs = this.logs;
      this.logs = 'off';
      try {
        if (logs instanceof RunLogs) logs.close();
      } catch {
        // already failing: the warning below says so
      }
      process.stderr.write(`warning: TensorBoard and CSV logs of ${this.dir} stopped: ${(err as Error).message} (metrics.jsonl goes on; \`lab tensorboard ${this.dir}\` writes them again)\n`);
    }
  }

  handle(event: TrainEvent): void {
    if (event.type === 'step') return;
    this.append(event);
  }

  /** Flushes metrics.jsonl and the logs to disk and closes them (the next event opens them again). */
  close(): void {
    if (this.logs instanceof RunLogs) this.withLogs((logs) => logs.close());
    if (this.fd !== null) {
      try {
        fs.fsyncSync(this.fd);
      } finally {
        fs.closeSync(this.fd);
      }
    }
    this.fd = null;
  }
}

/** `LAB_RUN_LOGS=0` leaves the TensorBoard and SB3 logs out (metrics.jsonl only; bench/run_logs.ts measures their cost). */
export const RUN_LOGS_ENV = 'LAB_RUN_LOGS';

/** The file a training process holds in its run directory (RunStore.claimWriter); never copied with the run. */
export const WRITER_LOCK = '.writer.lock';

const KIND_NAMES: Record<RunDirKind, string> = { rl: 'an RL run', gan: 'a GAN run', 'go-alphazero': 'an AlphaZero run' };

/** Parsed metrics.jsonl; a partial last line (from a crash) is skipped, a malformed line elsewhere is an error. */
export function readMetricsFile(file: string): TrainEvent[] {
  const text = fs.readFileSync(file, 'utf8');
  const lines = text.split('\n');
  const events: TrainEvent[] = [];
  lines.forEach((line, i) => {
    if (line === '') return;
    try {
      events.push(JSON.parse(line) as TrainEvent);
    } catch {
      if (i === lines.length - 1) return; // unterminated last line of a crashed writer
      throw new Error(`${file}: line ${i + 1} is not valid JSON`);
    }
  });
  return events;
}

// ---------------------------------------------------------------------------------------------------------------
// Crash safety shared by every trainer that checkpoints (RL runs, GAN runs, AlphaZero runs)

/**
 * The default number of steps (or iterations) between checkpoints for a budget of `budget`: a tenth of the
 * budget, so that a kill -9 loses at most about a tenth of a run, but no more than `cap` (the interval long runs
 * use) and no less than `floor` (checkpoints cost time; tiny runs need not checkpoint every step).
 */
export function defaultCheckpointEvery(budget: number, cap: number, floor = 1): number {
  if (!Number.isFinite(budget) || budget <= 0) return cap;
  return Math.max(1, Math.min(cap, Math.max(floor, Math.ceil(budget / 10))));
}

/** Checkpoint directories of a unit: step-0000001000 (env steps), iter-00000500 (iterations; iter-000500 before the run model). */
function checkpointPattern(unit: ProgressUnit): RegExp {
  return unit === 'steps' ? /^step-(\d+)$/ : /^iter-(\d+)$/;
}

/**
 * Reads `<checkpointsDir>/latest.json`: null when there is none. Its `dir` must be the plain name of a checkpoint
 * directory inside `checkpointsDir` (`step-…` or `iter-…` as `unit` says, no path separators, no `..`): a pointer
 * that leads anywhere else is refused with an error, so that nothing outside the run is read (or trusted) as its
 * checkpoint. Pointers from before the run model ({"step": N, "dir"}, {"iteration": N, "dir"}) read the same.
 */
export function readCheckpointPointer(checkpointsDir: string, unit: ProgressUnit): CheckpointPointer | null {
  const file = path.join(checkpointsDir, 'latest.json');
  if (!fs.existsSync(file)) return null;
  return checkPointer(file, readJson<unknown>(file, 'checkpoint pointer'), unit);
}

function checkPointer(file: string, pointer: unknown, unit: ProgressUnit): CheckpointPointer {
  const record = pointer !== null && typeof pointer === 'object' ? (pointer as { dir?: unknown; unit?: unknown }) : {};
  if (record.unit !== undefined && record.unit !== unit) {
    throw new Error(`checkpoint pointer ${file} counts ${JSON.stringify(record.unit)}, but this run counts ${unit}; refusing to follow it`);
  }
  const dir = record.dir;
  const m = typeof dir === 'string' ? checkpointPattern(unit).exec(dir) : null;
  if (!m) {
    throw new Error(
      `checkpoint pointer ${file} points at ${JSON.stringify(dir)}, which is not a checkpoint directory of this run ` +
        `(expected the plain name of a directory beside it, like ${checkpointName(unit, 1)}); refusing to follow it. ` +
        `Delete or correct the file to resume from the newest intact checkpoint.`,
    );
  }
  // The directory's number is what the checkpoint holds (the pointer's own count is not trusted over it).
  return { unit, at: Number(m[1]), dir: dir as string };
}

/**
 * Deletes old checkpoints after `current` (latest.json's new target) was written: keeps it and the `keep - 1`
 * newest ones before it (the fallback if it turns out damaged). Directories with a higher number, left by a
 * run that was resumed from an older checkpoint, stay until the run writes those steps again.
 */
export function pruneCheckpoints(checkpointsDir: string, unit: ProgressUnit, current: string, keep = 2): void {
  const pattern = checkpointPattern(unit);
  const m = pattern.exec(current);
  if (!m) return;
  const older = fs
    .readdirSync(checkpointsDir)
    .filter((f) => pattern.test(f) && Number(pattern.exec(f)![1]) < Number(m[1]))
    .sort((a, b) => Number(pattern.exec(b)![1]) - Number(pattern.exec(a)![1]));
  for (const old of older.slice(Math.max(0, keep - 1))) fs.rmSync(path.join(checkpointsDir, old), { recursive: true, force: true });
}

export interface CheckpointChoice<T> {
  /** Directory name (step-… or iter-…) and full path of the checkpoint chosen. */
  name: string;
  dir: string;
  /** What `load` returned for it. */
  loaded: T;
  /** What was said about damaged checkpoints that were passed over (empty when the newest one was used). */
  warnings: string[];
}

/**
 * Chooses the checkpoint a run resumes from: latest.json's target first (the pointer is confined to the run,
 * see readCheckpointPointer), then the other checkpoint directories, newest first. Each candidate is handed to
 * `load`, which reads (and may restore) everything it needs and throws when something is damaged (a truncated
 * weights file, an unparsable loop state); the first that loads is used. Every damaged one passed over is said
 * out loud through `onWarning` ("checkpoint step-… is damaged (reason); resuming from step-… instead"); nothing is
 * deleted. A crash inside writeDirAtomic that left a checkpoint directory renamed aside is repaired first.
 * Errors when there is no checkpoint, or when none of them loads (listing why for each).
 */
export async function chooseCheckpoint<T>(
  runDir: string,
  options: { unit: ProgressUnit; load: (dir: string, name: string) => T | Promise<T>; onWarning?: (message: string) => void },
): Promise<CheckpointChoice<T>> {
  const checkpointsDir = path.join(runDir, 'checkpoints');
  const pattern = checkpointPattern(options.unit);
  const warnings: string[] = [];
  const warn = (message: string) => {
    warnings.push(message);
    (options.onWarning ?? defaultWarning)(message);
  };
  const entries = fs.existsSync(checkpointsDir) ? fs.readdirSync(checkpointsDir) : [];
  // A checkpoint directory moved aside by a writer killed mid-swap (.step-….old with no step-…): put it back.
  for (const f of entries) {
    const m = /^\.(.+)\.old$/.exec(f);
    if (m && pattern.test(m[1]!)) recoverDir(path.join(checkpointsDir, m[1]!));
  }
  const dirs = (fs.existsSync(checkpointsDir) ? fs.readdirSync(checkpointsDir) : [])
    .filter((f) => pattern.test(f) && fs.statSync(path.join(checkpointsDir, f)).isDirectory())
    .sort((a, b) => Number(pattern.exec(b)![1]) - Number(pattern.exec(a)![1]));
  const pointerFile = path.join(checkpointsDir, 'latest.json');
  let pointed: string | null = null;
  if (fs.existsSync(pointerFile)) {
    let pointer: unknown;
    try {
      pointer = JSON.parse(fs.readFileSync(pointerFile, 'utf8'));
    } catch (err) {
      if (dirs.length === 0) throw new Error(`checkpoint pointer ${pointerFile} is damaged (${(err as Error).message}) and ${checkpointsDir} holds no checkpoint directory`);
      warn(`checkpoint pointer ${pointerFile} is damaged (${(err as Error).message}); looking at the checkpoint directories instead`);
    }
    if (pointer !== undefined) pointed = checkPointer(pointerFile, pointer, options.unit).dir;
  } else if (dirs.length > 0) {
    warn(`${pointerFile} is missing; looking at the checkpoint directories instead`);
  }
  if (pointed === null && dirs.length === 0) throw new Error(`${runDir} has no checkpoint to resume from (checkpoints/latest.json is missing)`);
  const candidates = pointed !== null ? [pointed, ...dirs.filter((d) => d !== pointed)] : dirs;
  const failures: string[] = [];
  for (const name of candidates) {
    const dir = path.join(checkpointsDir, name);
    let loaded: T;
    try {
      if (!fs.existsSync(dir)) throw new Error('its directory is missing');
      loaded = await options.load(dir, name);
    } catch (err) {
      const reason = (err as Error).message;
      failures.push(`${name}: ${reason}`);
      const next = candidates[candidates.indexOf(name) + 1];
      if (next !== undefined) warn(`checkpoint ${name} is damaged (${reason}); trying ${next}`);
      continue;
    }
    if (failures.length > 0) warn(`resuming from checkpoint ${name} instead of the newest one: what the run did after ${name} is trained again (the damaged checkpoint is left on disk until the run writes one at its step again)`);
    return { name, dir, loaded, warnings };
  }
  throw new Error(`no intact checkpoint to resume from in ${checkpointsDir}: ${failures.join('; ')}`);
}

function defaultWarning(message: string): void {
  process.stderr.write(`warning: ${message}\n`);
}

/**
 * Makes metrics.jsonl fit the checkpoint a run resumes from, which recorded `offset`, the file's size when it
 * was taken (after flushing it to disk). The file must still hold at least `offset` bytes and a record must end
 * exactly there (the byte before it a newline, the line before that valid JSON); then what follows (written by
 * the crashed process after the checkpoint) is cut off, so the resumed run appends exactly what an
 * uninterrupted one would have written. Anything else means the file was damaged or replaced since: an error
 * that names the file, the sizes and the problem, and leaves the file untouched (no zero padding, no cut inside
 * a record).
 */
export function prepareMetricsForResume(file: string, offset: number, checkpoint = 'the checkpoint'): void {
  if (!Number.isSafeInteger(offset) || offset < 0) throw new Error(`${checkpoint} records a metrics size of ${JSON.stringify(offset)} for ${file}, not a byte count`);
  if (!fs.existsSync(file)) {
    if (offset === 0) {
      fs.writeFileSync(file, '');
      return;
    }
    throw new Error(`${file} is missing, but ${checkpoint} was taken when it held ${offset} bytes of metrics; refusing to resume without them (restore the file first)`);
  }
  const fd = fs.openSync(file, 'r+');
  try {
    const size = fs.fstatSync(fd).size;
    if (size < offset) {
      throw new Error(
        `${file} holds ${size} bytes, but ${checkpoint} was taken when it held ${offset}: ${offset - size} bytes of metrics ` +
          `recorded before the checkpoint are gone (the file was truncated or replaced). Refusing to resume, which would leave a gap; ` +
          `the file is left untouched (restore it, or start a new run)`,
      );
    }
    if (offset > 0) {
      // The last record before the offset: from the newline before it (within the last MiB) to the offset.
      const span = Math.min(offset, 1 << 20);
      const tail = Buffer.alloc(span);
      fs.readSync(fd, tail, 0, span, offset - span);
      if (tail[span - 1] !== 0x0a) {
        throw new Error(
          `${file}: no record ends at byte ${offset}, where ${checkpoint} says its metrics end (the byte before it is not a newline): ` +
            `the file was changed before that point since the checkpoint was taken. Refusing to resume, which would cut a record in two; ` +
            `the file is left untouched`,
        );
      }
      const start = tail.lastIndexOf(0x0a, span - 2) + 1;
      if (start > 0 || span === offset) {
        const line = tail.subarray(start, span - 1).toString('utf8');
        let ok = false;
        try {
          const value: unknown = JSON.parse(line);
          ok = value !== null && typeof value === 'object';
        } catch {
          ok = false;
        }
        if (!ok) {
          throw new Error(
            `${file}: the record that ends at byte ${offset}, where ${checkpoint} says its metrics end, is not a JSON object ` +
              `(${JSON.stringify(line.length > 80 ? line.slice(0, 80) + '…' : line)}): the file was changed before that point since the checkpoint was taken. ` +
              `Refusing to resume; the file is left untouched`,
          );
        }
      }
    }
    if (size > offset) {
      fs.ftruncateSync(fd, offset);
      fs.fsyncSync(fd);
    }
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * The run directory: everything needed to reproduce, inspect, resume and evaluate a training run.
 *
 *   runs/<runId>/
 *     config.json               what was run: env, agent, hyperparameters, seed, budget, versions, backend
 *     metrics.jsonl             one JSON object per episode / evaluation / update summary / checkpoint
 *     checkpoints/latest.json   {"step": N, "dir": "step-000000N"} — written last, atomically
 *     checkpoints/step-…/       agent (networks, optimizer, RNG, replay buffer) + loop state
 *     policy/                   the final greedy policy network (model.json + weights.bin), for `lab eval`
 *     best_policy/              the policy with the best evaluation so far
 *     replays/                  replay logs of recorded episodes (lab/replay.ts)
 */
import fs from 'node:fs';
import path from 'node:path';
import type { EventSink, TrainEvent } from '../protocol/events.js';
import { readJson, recoverDir, writeJsonAtomic } from './fsutil.js';
import type { ReplayConfig } from './replay.js';

export interface RunConfig {
  runId: string;
  envId: string;
  envKwargs: Record<string, unknown>;
  agent: string;
  preset: string | null;
  hyperparameters: Record<string, unknown>;
  seed: number;
  /** Env-step budget. */
  steps: number;
  /** Episode budget (the book's 1000 episodes), null for none. */
  episodes: number | null;
  numEnvs: number;
  evalEvery: number;
  evalEpisodes: number;
  /** Evaluation episode j is seeded evalSeed + j, the same at every evaluation. */
  evalSeed: number;
  checkpointEvery: number;
  /** Which episodes get replay logs; run directories from before replay logs lack it (defaults apply). */
  replays?: ReplayConfig;
  backend: { requested: string; backend: string; reason: string; details: Record<string, unknown> };
  versions: { lab: string; node: string; tfjs: string };
  createdAt: string;
  command: string;
}

export interface LatestCheckpoint {
  step: number;
  dir: string;
}

export function checkpointName(step: number): string {
  return `step-${String(step).padStart(10, '0')}`;
}

/** A run directory on disk; also the sink that appends events to metrics.jsonl. */
export class RunStore implements EventSink {
  readonly metricsFile: string;
  private fd: number | null = null;

  constructor(readonly dir: string) {
    this.metricsFile = path.join(dir, 'metrics.jsonl');
  }

  /** Creates a new run directory (refusing to overwrite one) and writes config.json. */
  static create(root: string, config: RunConfig): RunStore {
    const dir = path.join(root, config.runId);
    if (fs.existsSync(dir)) throw new Error(`run directory ${dir} already exists`);
    fs.mkdirSync(path.join(dir, 'checkpoints'), { recursive: true });
    writeJsonAtomic(path.join(dir, 'config.json'), config);
    const store = new RunStore(dir);
    fs.writeFileSync(store.metricsFile, '');
    return store;
  }

  static open(dir: string): RunStore {
    if (!fs.existsSync(path.join(dir, 'config.json'))) throw new Error(`${dir} is not a run directory (no config.json)`);
    return new RunStore(dir);
  }

  config(): RunConfig {
    return readJson<RunConfig>(path.join(this.dir, 'config.json'), 'run config');
  }

  get checkpointsDir(): string {
    return path.join(this.dir, 'checkpoints');
  }

  /** checkpoints/latest.json, checked to name a checkpoint directory of this run (null when there is none). */
  latestCheckpoint(): LatestCheckpoint | null {
    const pointer = readCheckpointPointer(this.checkpointsDir, 'step');
    return pointer ? { step: pointer.number, dir: pointer.dir } : null;
  }

  setLatestCheckpoint(latest: LatestCheckpoint, keep = 2): void {
    writeJsonAtomic(path.join(this.checkpointsDir, 'latest.json'), latest);
    // The pointer is updated first, so a crash never leaves it dangling.
    pruneCheckpoints(this.checkpointsDir, 'step', latest.dir, keep);
  }

  /** Bytes of metrics.jsonl written so far (recorded in checkpoints to cut back to on resume). */
  metricsSize(): number {
    return fs.existsSync(this.metricsFile) ? fs.statSync(this.metricsFile).size : 0;
  }

  /**
   * Cuts metrics.jsonl back to `size` bytes, the size a checkpoint recorded (dropping what a crashed process
   * wrote after it), after checking that the file still holds them and that a record ends there
   * (`prepareMetricsForResume`); a file that does not fit is an error and is left untouched.
   */
  truncateMetrics(size: number, checkpoint = 'the checkpoint'): void {
    prepareMetricsForResume(this.metricsFile, size, checkpoint);
  }

  /** Flushes metrics.jsonl to disk (before a checkpoint records its size). */
  sync(): void {
    if (this.fd !== null) fs.fsyncSync(this.fd);
  }

  handle(event: TrainEvent): void {
    if (event.type === 'step') return;
    this.fd ??= fs.openSync(this.metricsFile, 'a');
    // One write per line: a crash leaves at most one partial last line, which readers skip.
    fs.writeSync(this.fd, JSON.stringify(event) + '\n');
  }

  /** Flushes metrics.jsonl to disk and closes it (the next event opens it again). */
  close(): void {
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

/** Prefix of a kind of run's checkpoint directories: step-0000001000 (RL runs), iter-00000500 (GAN, AlphaZero). */
export type CheckpointPrefix = 'step' | 'iter';

function checkpointPattern(prefix: CheckpointPrefix): RegExp {
  return new RegExp(`^${prefix}-(\\d+)$`);
}

/**
 * Reads `<checkpointsDir>/latest.json`: null when there is none. Its `dir` must be the plain name of a checkpoint
 * directory inside `checkpointsDir` (`step-…` or `iter-…`, no path separators, no `..`): a pointer that leads
 * anywhere else is refused with an error, so that nothing outside the run is read (or trusted) as its checkpoint.
 */
export function readCheckpointPointer(checkpointsDir: string, prefix: CheckpointPrefix): { dir: string; number: number } | null {
  const file = path.join(checkpointsDir, 'latest.json');
  if (!fs.existsSync(file)) return null;
  const pointer = readJson<{ dir?: unknown }>(file, 'checkpoint pointer');
  return checkPointer(file, pointer, prefix);
}

function checkPointer(file: string, pointer: unknown, prefix: CheckpointPrefix): { dir: string; number: number } {
  const dir = pointer !== null && typeof pointer === 'object' ? (pointer as { dir?: unknown }).dir : undefined;
  const m = typeof dir === 'string' ? checkpointPattern(prefix).exec(dir) : null;
  if (!m) {
    throw new Error(
      `checkpoint pointer ${file} points at ${JSON.stringify(dir)}, which is not a checkpoint directory of this run ` +
        `(expected the plain name of a directory beside it, like ${prefix}-${'0'.repeat(prefix === 'step' ? 9 : 7)}1); refusing to follow it. ` +
        `Delete or correct the file to resume from the newest intact checkpoint.`,
    );
  }
  return { dir: dir as string, number: Number(m[1]) };
}

/**
 * Deletes old checkpoints after `current` (latest.json's new target) was written: keeps it and the `keep - 1`
 * newest ones before it (the fallback if it turns out damaged). Directories with a higher number, left by a
 * run that was resumed from an older checkpoint, stay until the run writes those steps again.
 */
export function pruneCheckpoints(checkpointsDir: string, prefix: CheckpointPrefix, current: string, keep = 2): void {
  const pattern = checkpointPattern(prefix);
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
  options: { prefix: CheckpointPrefix; load: (dir: string, name: string) => T | Promise<T>; onWarning?: (message: string) => void },
): Promise<CheckpointChoice<T>> {
  const checkpointsDir = path.join(runDir, 'checkpoints');
  const pattern = checkpointPattern(options.prefix);
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
    if (pointer !== undefined) pointed = checkPointer(pointerFile, pointer, options.prefix).dir;
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

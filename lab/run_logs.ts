/**
 * A run's logs for the tools RL people already use, derived from its metrics records: a TensorBoard event file
 * (lab/tensorboard.ts), SB3's progress.csv and, for RL runs, SB3's monitor.csv (lab/sb3_csv.ts), beside
 * metrics.jsonl:
 *
 *   events.out.tfevents.<secs>.<host>   scalars under SB3's names (STAT_TAGS and `deriveRecord` below), the GAN's
 *                                       sample grids as PNG images, config.json as text (tag `config`)
 *   progress.csv                        the same scalars, one row per update or evaluation (every kind)
 *   monitor.csv                         one line per training episode (RL runs)
 *
 * metrics.jsonl stays the one source of truth: every file here is a pure function of it and config.json
 * (LogDeriver), so the live writer (RunStore, one record at a time) and `lab tensorboard` (the whole file at
 * once) write the same bytes. A process that starts appending to a run first rewrites its logs from
 * metrics.jsonl, atomically (`RunLogs.rewrite`): after a resume (which cut metrics.jsonl back to its
 * checkpoint) the logs hold no step twice, and a record torn by kill -9 is gone.
 *
 * Wall-clock times: records carry seconds since their process started (`time`, AlphaZero's `elapsed`); a
 * resumed run's clock starts again at 0, so the sessions are laid end to end: wall time = config.createdAt +
 * the training time so far. That keeps the files reproducible from metrics.jsonl.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { AlphaZeroRecord, MetricsRecord, SamplesEvent } from '../protocol/events.js';
import { readJson, writeFileAtomic } from './fsutil.js';
import { ALPHAZERO_KIND, parseAlphaZeroMetrics, parseMetrics, readRunFile, type RunDirKind } from './run_files.js';
import { eventFileName, fileVersionEvent, isEventFileName, summaryEvent, tfRecord, type ImageColorspace, type SummaryValue } from './tensorboard.js';
import { monitorHeader, monitorRow, ProgressTable, round6 } from './sb3_csv.js';

export const MONITOR_FILE = 'monitor.csv';
export const PROGRESS_FILE = 'progress.csv';

/** Where an update statistic goes: its tag (TensorBoard and progress.csv), sign, and whether TensorBoard gets it. */
export interface StatTag {
  tag: string;
  /** SB3 logs the negated value under this name (its entropy loss is −mean entropy). */
  negate?: boolean;
  /** Only in progress.csv, as SB3 leaves its counters out of TensorBoard. */
  csvOnly?: boolean;
}

/**
 * Update statistics (UpdateEvent.stats of RL and GAN runs) whose SB3 name is not simply `train/<snake_case>`;
 * every other statistic `fooBar` becomes `train/foo_bar` (PPO's approxKl → train/approx_kl, clipFraction →
 * train/clip_fraction, explainedVariance → train/explained_variance, valueLoss → train/value_loss, DQN's loss
 * → train/loss, the GAN's dLoss → train/d_loss, dAccReal → train/d_acc_real …).
 */
export const STAT_TAGS: Readonly<Record<string, StatTag>> = {
  entropy: { tag: 'train/entropy_loss', negate: true },
  epsilon: { tag: 'rollout/exploration_rate' },
  q: { tag: 'train/mean_q' },
  buffer: { tag: 'rollout/buffer_size' },
  learningRate: { tag: 'train/learning_rate' },
  lr: { tag: 'train/learning_rate' },
  lrD: { tag: 'train/learning_rate_d' },
  lrG: { tag: 'train/learning_rate_g' },
  updates: { tag: 'train/n_updates', csvOnly: true },
};

/** The tag of update statistic `name`: STAT_TAGS, else `train/<snake_case name>`. */
export function statTag(name: string): StatTag {
  if (Object.hasOwn(STAT_TAGS, name)) return STAT_TAGS[name]!;
  const snake = name
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/[^A-Za-z0-9_]+/g, '_')
    .toLowerCase();
  return { tag: `train/${snake}` };
}

/** How many of the latest episodes rollout/ep_rew_mean and rollout/ep_len_mean average (SB3's ep_info_buffer). */
export const EPISODE_WINDOW = 100;

/** Draws a GAN samples event as PNG (gan/train.ts gives its sample grid drawing; the lab layer cannot import it). */
export type SamplesPng = (event: SamplesEvent) => Uint8Array;

export interface RunLogsOptions {
  /** Images for the GAN's samples events (without it, samples events add no image). */
  samplesPng?: SamplesPng;
  /** The host in the event file's name (default: this machine's). */
  host?: string;
}

type Row = Record<string, number>;

interface Derived {
  /** Framed TFRecords to append to the event file. */
  events: Buffer[];
  /** Lines for monitor.csv. */
  monitor: string;
  /** Rows for progress.csv. */
  rows: Row[];
}

/** What the logs need from config.json. */
interface RunConfigInfo {
  /** Unix seconds the run was created (config.createdAt). */
  t0: number;
  envId: string | null;
  /** config.json, pretty-printed. */
  text: string;
}

function configInfo(dir: string): RunConfigInfo {
  const file = path.join(dir, 'config.json');
  const config = readJson<Record<string, unknown>>(file, 'run config');
  const created = typeof config.createdAt === 'string' ? Date.parse(config.createdAt) : NaN;
  // Runs from before createdAt was written: the time config.json was last written stands in.
  const t0 = (Number.isFinite(created) ? created : fs.statSync(file).mtimeMs) / 1000;
  return { t0, envId: typeof config.envId === 'string' ? config.envId : null, text: JSON.stringify(config, null, 2) };
}

/** Width, height and Summary.Image colorspace from a PNG's IHDR chunk. */
function pngInfo(png: Uint8Array): { width: number; height: number; colorspace: ImageColorspace } {
  const b = Buffer.from(png.buffer, png.byteOffset, png.byteLength);
  if (b.length < 26 || b.toString('latin1', 12, 16) !== 'IHDR') throw new Error('the sample grid is not a PNG');
  const colorType = b[25]!;
  const colorspace: ImageColorspace = colorType === 0 ? 1 : colorType === 4 ? 2 : colorType === 6 ? 4 : 3;
  return { width: b.readUInt32BE(16), height: b.readUInt32BE(20), colorspace };
}

function finite(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

/** An AlphaZero opponent's name as part of a tag. */
function tagPart(name: string): string {
  return name.replace(/[^A-Za-z0-9_.-]+/g, '_');
}

/**
 * The logs of a run, record by record: which scalars, images, monitor lines and progress rows each metrics
 * record gives. Pure: no files, the same output for the same records.
 */
class LogDeriver {
  /** Training seconds of the sessions before the current one, and the current one's latest clock reading. */
  private offset = 0;
  private last = 0;
  private readonly episodes: { r: number; l: number }[] = [];

  constructor(
    private readonly kind: RunDirKind,
    private readonly config: RunConfigInfo,
    private readonly samplesPng: SamplesPng | undefined,
  ) {}

  /** Training seconds so far (sessions end to end). */
  private get clock(): number {
    return this.offset + this.last;
  }

  private tick(seconds: unknown): void {
    if (!finite(seconds)) return;
    if (seconds < this.last) this.offset += this.last; // a resumed process: its clock started again
    this.last = seconds;
  }

  /** The event file's first records (its version, config.json as text) and monitor.csv's header. */
  header(): { events: Buffer[]; monitor: string } {
    const { t0, text, envId } = this.config;
    const config: SummaryValue = { tag: 'config', text: text.split('\n').map((l) => `    ${l}`).join('\n') };
    return {
      events: [tfRecord(fileVersionEvent(t0)), tfRecord(summaryEvent(t0, 0, [config]))],
      monitor: this.kind === 'rl' ? monitorHeader(t0, envId ?? '') : '',
    };
  }

  take(record: MetricsRecord): Derived {
    const out: Derived = { events: [], monitor: '', rows: [] };
    this.tick('time' in record ? record.time : 'elapsed' in record ? record.elapsed : undefined);
    const wall = this.config.t0 + this.clock;
    /** Adds a TensorBoard event of the row's scalars (less the CSV-only ones) and the row itself. */
    const emit = (step: number, row: Row, csvOnly: Row) => {
      const values: SummaryValue[] = Object.entries(row).map(([tag, scalar]) => ({ tag, scalar }));
      if (values.length > 0) out.events.push(tfRecord(summaryEvent(wall, step, values)));
      out.rows.push({ ...row, ...csvOnly });
    };
    switch (record.type) {
      case 'episode': {
        this.episodes.push({ r: record.return, l: record.length });
        if (this.episodes.length > EPISODE_WINDOW) this.episodes.shift();
        if (this.kind === 'rl') out.monitor = monitorRow(record.return, record.length, this.clock);
        break;
      }
      case 'update': {
        const row: Row = {};
        const csvOnly: Row = {};
        if (this.kind === 'rl' && this.episodes.length > 0) {
          row['rollout/ep_rew_mean'] = this.episodes.reduce((a, e) => a + e.r, 0) / this.episodes.length;
          row['rollout/ep_len_mean'] = this.episodes.reduce((a, e) => a + e.l, 0) / this.episodes.length;
        }
        for (const [name, value] of Object.entries(record.stats)) {
          if (!finite(value)) continue;
          const t = statTag(name);
          (t.csvOnly ? csvOnly : row)[t.tag] = t.negate ? -value : value;
        }
        if (this.kind === 'rl') {
          row['time/fps'] = record.sps;
          csvOnly['time/total_timesteps'] = record.step;
          if (!('train/n_updates' in csvOnly) && finite(record.updates)) csvOnly['train/n_updates'] = record.updates;
        } else {
          row['time/iterations_per_second'] = record.sps;
          csvOnly['time/iterations'] = record.step;
        }
        csvOnly['time/time_elapsed'] = round6(this.clock);
        emit(record.step, row, csvOnly);
        break;
      }
      case 'eval': {
        const row: Row = { 'eval/mean_reward': record.meanReturn, 'eval/std_reward': record.stdReturn };
        if (finite(record.meanLength)) row['eval/mean_ep_length'] = record.meanLength;
        emit(record.step, row, { 'time/total_timesteps': record.step });
        break;
      }
      case 'samples': {
        if (!this.samplesPng) break;
        const png = this.samplesPng(record);
        out.events.push(tfRecord(summaryEvent(wall, record.step, [{ tag: 'samples', image: { png, ...pngInfo(png) } }])));
        break;
      }
      case 'iteration':
        emit(record.iteration, alphaZeroRow(record), { 'time/iterations': record.iteration, 'time/time_elapsed': round6(this.clock) });
        break;
      case 'go-eval': {
        const vs = tagPart(record.opponent);
        emit(record.iteration, { [`eval/score_vs_${vs}`]: record.score, [`eval/wins_vs_${vs}`]: record.wins, [`eval/losses_vs_${vs}`]: record.losses, [`eval/draws_vs_${vs}`]: record.draws }, { 'time/iterations': record.iteration });
        break;
      }
      case 'checkpoint':
        break;
    }
    return out;
  }
}

/** An AlphaZero-lite iteration's scalars (a NaN loss, from an iteration that trained no step, is left out). */
function alphaZeroRow(e: Extract<AlphaZeroRecord, { type: 'iteration' }>): Row {
  const row: Row = {};
  const put = (tag: string, value: number) => {
    if (finite(value)) row[tag] = value;
  };
  put('train/policy_loss', e.policyLoss);
  put('train/value_loss', e.valueLoss);
  put('train/policy_entropy', e.policyEntropy);
  put('rollout/games', e.games);
  put('rollout/positions', e.positions);
  put('rollout/buffer_size', e.bufferSize);
  put('rollout/ep_len_mean', e.meanGameLength);
  put('rollout/black_wins', e.blackWins);
  put('rollout/white_wins', e.whiteWins);
  put('rollout/draws', e.draws);
  put('time/self_play_seconds', e.selfPlaySeconds);
  put('time/train_seconds', e.trainSeconds);
  return row;
}

/** The records of a metrics.jsonl text (or one line of it) that the logs derive from, checked as every reader checks them. */
function parseRecords(kind: RunDirKind, text: string): MetricsRecord[] {
  return kind === ALPHAZERO_KIND ? parseAlphaZeroMetrics(text) : (parseMetrics(text) as MetricsRecord[]);
}

/** The files `RunLogs` writes in a run directory of `kind` (the event file's name depends on createdAt and the host). */
export interface RunLogFiles {
  events: string;
  progress: string;
  monitor: string | null;
}

function hostName(options: RunLogsOptions): string {
  return (options.host ?? os.hostname()).replace(/[^A-Za-z0-9._-]+/g, '_') || 'localhost';
}

/** The TensorBoard and SB3 logs of one run directory, kept in step with its metrics.jsonl. */
export class RunLogs {
  private eventsFd: number | null = null;
  private monitorFd: number | null = null;
  private progressFd: number | null = null;

  private constructor(
    readonly dir: string,
    readonly kind: RunDirKind,
    readonly files: RunLogFiles,
    private readonly deriver: LogDeriver,
    private readonly progress: ProgressTable,
  ) {}

  /**
   * Rewrites the run's logs from its metrics.jsonl and config.json, each file atomically, and removes event
   * files of an older rewrite (another host name); returns the logs, ready to take the records that follow.
   * Throws (RunDamage) when metrics.jsonl is damaged; the files are then left as they were.
   */
  static rewrite(dir: string, kind: RunDirKind, options: RunLogsOptions = {}): RunLogs {
    const config = configInfo(dir);
    const deriver = new LogDeriver(kind, config, options.samplesPng);
    const progress = new ProgressTable();
    const header = deriver.header();
    const events = [...header.events];
    let monitor = header.monitor;
    for (const record of parseRecords(kind, readRunFile(dir, 'metrics.jsonl'))) {
      const d = deriver.take(record);
      events.push(...d.events);
      monitor += d.monitor;
      for (const row of d.rows) progress.add(row);
    }
    const files: RunLogFiles = {
      events: path.join(dir, eventFileName(config.t0, hostName(options))),
      progress: path.join(dir, PROGRESS_FILE),
      monitor: kind === 'rl' ? path.join(dir, MONITOR_FILE) : null,
    };
    writeFileAtomic(files.events, Buffer.concat(events));
    writeFileAtomic(files.progress, progress.text());
    if (files.monitor) writeFileAtomic(files.monitor, monitor);
    for (const name of fs.readdirSync(dir)) {
      if (isEventFileName(name) && path.join(dir, name) !== files.events) fs.rmSync(path.join(dir, name), { force: true });
    }
    return new RunLogs(dir, kind, files, deriver, progress);
  }

  /** Adds what one line of metrics.jsonl (as written, without its newline) gives to the logs. */
  add(line: string): void {
    for (const record of parseRecords(this.kind, line)) {
      const d = this.deriver.take(record);
      if (d.events.length > 0) {
        this.eventsFd ??= fs.openSync(this.files.events, 'a');
        fs.writeSync(this.eventsFd, Buffer.concat(d.events));
      }
      if (d.monitor !== '' && this.files.monitor) {
        this.monitorFd ??= fs.openSync(this.files.monitor, 'a');
        fs.writeSync(this.monitorFd, d.monitor);
      }
      for (const row of d.rows) {
        if (this.progress.add(row)) {
          // A new column: the whole file again, with the wider header (as SB3 does), atomically.
          this.closeFd('progressFd');
          writeFileAtomic(this.files.progress, this.progress.text());
        } else {
          this.progressFd ??= fs.openSync(this.files.progress, 'a');
          fs.writeSync(this.progressFd, this.progress.line(row));
        }
      }
    }
  }

  /** Flushes the files to disk (at checkpoints). */
  sync(): void {
    for (const fd of [this.eventsFd, this.monitorFd, this.progressFd]) if (fd !== null) fs.fsyncSync(fd);
  }

  private closeFd(which: 'eventsFd' | 'monitorFd' | 'progressFd'): void {
    const fd = this[which];
    this[which] = null;
    if (fd === null) return;
    try {
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
  }

  /** Flushes and closes the files (the next record opens them again). */
  close(): void {
    this.closeFd('eventsFd');
    this.closeFd('monitorFd');
    this.closeFd('progressFd');
  }
}

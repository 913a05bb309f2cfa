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
import type { EventSink, TrainEvent } from './events.js';
import { readJson, writeJsonAtomic } from './fsutil.js';
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

  latestCheckpoint(): LatestCheckpoint | null {
    const file = path.join(this.checkpointsDir, 'latest.json');
    if (!fs.existsSync(file)) return null;
    return readJson<LatestCheckpoint>(file, 'checkpoint pointer');
  }

  setLatestCheckpoint(latest: LatestCheckpoint, keep = 2): void {
    writeJsonAtomic(path.join(this.checkpointsDir, 'latest.json'), latest);
    // Keep the newest `keep` checkpoints; the pointer is updated first, so a crash never leaves it dangling.
    const all = fs.readdirSync(this.checkpointsDir).filter((f) => /^step-\d+$/.test(f)).sort();
    for (const old of all.slice(0, Math.max(0, all.length - keep))) fs.rmSync(path.join(this.checkpointsDir, old), { recursive: true, force: true });
  }

  /** Bytes of metrics.jsonl written so far (recorded in checkpoints to cut back to on resume). */
  metricsSize(): number {
    return fs.existsSync(this.metricsFile) ? fs.statSync(this.metricsFile).size : 0;
  }

  /** Drops everything a crashed process wrote after the checkpoint it is resumed from. */
  truncateMetrics(size: number): void {
    fs.truncateSync(this.metricsFile, size);
  }

  handle(event: TrainEvent): void {
    if (event.type === 'step') return;
    this.fd ??= fs.openSync(this.metricsFile, 'a');
    // One write per line: a crash leaves at most one partial last line, which readers skip.
    fs.writeSync(this.fd, JSON.stringify(event) + '\n');
  }

  close(): void {
    if (this.fd !== null) fs.closeSync(this.fd);
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

/**
 * `lab tensorboard <run|dir…>`: (re)writes the TensorBoard event file, progress.csv and monitor.csv of runs from
 * their metrics.jsonl (lab/run_logs.ts), for runs made before the lab wrote them or whose logs were lost; a
 * directory of runs (runs/, an experiment directory) does each run in it. metrics.jsonl is only read.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Command } from 'commander';
import { RunLogs } from '../lab/run_logs.js';
import { RunStore } from '../lab/run_store.js';
import { samplesEventPng } from '../gan/train.js';
import { shownPath } from './plot.js';

/** How deep below a given directory runs are looked for (runs/<id>, <experiment>/runs/<id>, experiments/<name>/runs/<id>). */
const SEARCH_DEPTH = 3;

/** A run directory holds config.json and metrics.jsonl. */
function isRunDir(dir: string): boolean {
  return fs.existsSync(path.join(dir, 'config.json')) && fs.existsSync(path.join(dir, 'metrics.jsonl'));
}

/**
 * The run directories `p` names: itself when it is one, else every run directory below it (not below a run,
 * not in hidden folders), sorted. A path that is neither is an error that says what it is.
 */
export function findRunDirs(p: string): string[] {
  const abs = path.resolve(p);
  if (!fs.existsSync(abs)) throw new Error(`${p}: no such file or directory`);
  if (!fs.statSync(abs).isDirectory()) throw new Error(`${p} is not a run directory (not a directory)`);
  if (isRunDir(abs)) return [abs];
  if (fs.existsSync(path.join(abs, 'config.json'))) throw new Error(`${p} is not a run directory (it has config.json but no metrics.jsonl)`);
  const found: string[] = [];
  const walk = (dir: string, depth: number) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      if (!e.isDirectory() || e.name.startsWith('.')) continue;
      const sub = path.join(dir, e.name);
      if (isRunDir(sub)) found.push(sub);
      else if (depth > 1) walk(sub, depth - 1);
    }
  };
  walk(abs, SEARCH_DEPTH);
  if (found.length === 0) throw new Error(`${p} is not a run directory (no config.json and metrics.jsonl) and holds none`);
  return found.sort();
}

export interface TensorboardResult {
  /** What to print: the files of each run, then how to open them. */
  text: string;
  /** Runs whose logs could not be written, and why (one line each). */
  failures: string[];
  runs: { dir: string; files: string[] }[];
}

/** Writes the logs of every run `paths` name; the command without the process around it. */
export function runTensorboard(paths: readonly string[]): TensorboardResult {
  const lines: string[] = [];
  const failures: string[] = [];
  const runs: TensorboardResult['runs'] = [];
  for (const p of paths) {
    for (const dir of findRunDirs(p)) {
      try {
        const store = RunStore.open(dir);
        // Its trainer appends to the files this would replace: they would end up with a gap or lines twice.
        const writer = RunStore.writer(dir);
        if (writer !== null) throw new Error(`it is still training (process ${writer.pid}${writer.host === os.hostname() ? '' : ` on ${writer.host}`}, since ${writer.since}), and writes its own logs as it goes: point TensorBoard at it now, or run lab tensorboard after it ends`);
        const logs = RunLogs.rewrite(dir, store.kind, { samplesPng: samplesEventPng });
        const files = [logs.files.events, logs.files.progress, ...(logs.files.monitor ? [logs.files.monitor] : [])];
        runs.push({ dir, files });
        lines.push(`${shownPath(dir)}: ${files.map((f) => path.basename(f)).join(', ')}`);
      } catch (err) {
        failures.push(`${shownPath(dir)}: ${(err as Error).message}`);
      }
    }
  }
  if (runs.length > 0) {
    lines.push('', `TensorBoard: tensorboard --logdir ${paths.map((p) => shownPath(path.resolve(p))).join(',')}`);
    if (runs.some((r) => r.files.some((f) => path.basename(f) === 'monitor.csv'))) {
      lines.push(`SB3: stable_baselines3.common.monitor.load_results("<run dir>") reads monitor.csv; pandas.read_csv reads progress.csv`);
    }
  }
  return { text: lines.join('\n'), failures, runs };
}

export function registerTensorboardCommand(program: Command): void {
  program
    .command('tensorboard')
    .description("write the TensorBoard event file and SB3's progress.csv / monitor.csv of runs from their metrics.jsonl (runs made before the lab wrote them); metrics.jsonl is only read")
    .argument('<paths...>', 'run directories, or directories holding runs (runs/, an experiment directory)')
    .action((paths: string[]) => {
      const r = runTensorboard(paths);
      if (r.text) console.log(r.text);
      // One error line (and exit status 1) for the runs that failed, after the others were written.
      if (r.failures.length > 0) throw new Error(r.failures.length === 1 ? r.failures[0] : `the logs of ${r.failures.length} runs were not written: ${r.failures.join('; ')}`);
    });
}

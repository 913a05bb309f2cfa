/** The lab CLI (bin/lab.mjs) run as a child process by tests, its exit code and output collected. */
import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const LAB = fileURLToPath(new URL('../bin/lab.mjs', import.meta.url));

export interface LabResult {
  code: number | null;
  out: string;
  err: string;
}

/** `lab <args>` in `cwd`, to its end. */
export function runLab(args: string[], cwd: string): Promise<LabResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [LAB, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('exit', (code) => resolve({ code, out, err }));
  });
}

/**
 * Starts `lab <args>` and SIGKILLs it once `<runDir>/checkpoints/latest.json` points at `killAt` or later (the
 * kill -9 of the crash-safety tests); resolves with the step or iteration the pointer holds after the kill.
 * Rejects when the run ends by itself first.
 */
export async function killedRun(args: string[], runDir: string, killAt: number, cwd?: string): Promise<number> {
  const child = spawn(process.execPath, [LAB, ...args], { stdio: 'ignore', ...(cwd ? { cwd } : {}) });
  const latest = path.join(runDir, 'checkpoints', 'latest.json');
  await new Promise<void>((resolve, reject) => {
    const timer = setInterval(() => {
      try {
        if (JSON.parse(fs.readFileSync(latest, 'utf8')).at >= killAt) {
          clearInterval(timer);
          child.kill('SIGKILL');
          resolve();
        }
      } catch {
        // not written yet
      }
    }, 5);
    child.on('exit', () => {
      clearInterval(timer);
      reject(new Error('the run finished before it could be killed'));
    });
  });
  await new Promise((r) => child.on('exit', r));
  return JSON.parse(fs.readFileSync(latest, 'utf8')).at as number;
}

/**
 * A run's metrics.jsonl without what depends on the clock (time, seconds, sps, elapsed, *Seconds) or on where a
 * process started (checkpoint markers: a resumed run repeats the one it resumed from): what an interrupted and
 * resumed run must share with an uninterrupted one.
 */
export function deterministicMetrics(runDir: string): unknown[] {
  return fs
    .readFileSync(path.join(runDir, 'metrics.jsonl'), 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .filter((e) => e.type !== 'checkpoint')
    .map((e) => Object.fromEntries(Object.entries(e).filter(([k]) => !/^(time|seconds|sps|elapsed)$|Seconds$/.test(k))));
}

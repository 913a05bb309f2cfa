/** The lab CLI (bin/lab.mjs) run as a child process by tests, its exit code and output collected. */
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

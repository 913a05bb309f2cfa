/**
 * Runs started from the viewer: each is a `lab train … --live <server>` (RL) or `lab gan train … --live
 * <server>` (GAN) child process, so a run started in the browser trains, stores and publishes exactly like one
 * started from a terminal (and a slow training step never blocks the server's event loop).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { RUN_KEY_ENV, TOKEN_ENV } from '../lab/server_key.js';

const LAB_BIN = fileURLToPath(new URL('../bin/lab.mjs', import.meta.url));

export interface LaunchSpec {
  runId: string;
  envId: string;
  agent: string;
  preset: string | null;
  seed: number;
  steps: number | null;
  runsDir: string;
  serverUrl: string;
  /** The server's key, and the run's own: the trainer publishes with both (in its environment, not argv). */
  token?: string;
  runKey?: string;
  /** Extra `lab train` arguments (tests use small budgets and --eval-every). */
  extraArgs?: string[];
}

export interface GanLaunchSpec {
  runId: string;
  category: string;
  preset: string;
  seed: number;
  iterations: number | null;
  runsDir: string;
  serverUrl: string;
  token?: string;
  runKey?: string;
  /** Extra `lab gan train` arguments (tests: --backend, --sample-every). */
  extraArgs?: string[];
}

export interface Launched {
  child: ChildProcess;
  /** The last lines the trainer printed (stdout and stderr), for a failed run's error message. */
  tail: () => string;
}

export function launchTrainer(spec: LaunchSpec): Launched {
  const args = [
    LAB_BIN,
    'train',
    '--env', spec.envId,
    '--agent', spec.agent,
    ...(spec.preset ? ['--preset', spec.preset] : []),
    '--seed', String(spec.seed),
    ...(spec.steps ? ['--steps', String(spec.steps)] : []),
    '--out', spec.runsDir,
    '--run-id', spec.runId,
    '--live', spec.serverUrl,
    ...(spec.extraArgs ?? []),
  ];
  return spawnLab(args, spec);
}

export interface PolicyWatchSpec {
  runId: string;
  /** The stored run whose greedy policy plays. */
  runDir: string;
  serverUrl: string;
  token?: string;
  runKey?: string;
}

/** `lab watch <run>`: the run's greedy policy plays live, until stopped, while somebody watches. */
export function launchPolicyWatcher(spec: PolicyWatchSpec): Launched {
  return spawnLab([LAB_BIN, 'watch', spec.runDir, '--live', spec.serverUrl, '--run-id', spec.runId, '--episodes', '0', '--backend', 'cpu'], spec);
}

/**
 * `lab gan train` on a category the server has at hand: `--data never` reads the cache or the shipped subset, so
 * a click in the browser never starts a download.
 */
export function launchGanTrainer(spec: GanLaunchSpec): Launched {
  const args = [
    LAB_BIN,
    'gan',
    'train',
    '--category', spec.category,
    '--preset', spec.preset,
    '--seed', String(spec.seed),
    ...(spec.iterations ? ['--iterations', String(spec.iterations)] : []),
    '--data', 'never',
    '--out', spec.runsDir,
    '--run-id', spec.runId,
    '--live', spec.serverUrl,
    ...(spec.extraArgs ?? []),
  ];
  return spawnLab(args, spec);
}

function spawnLab(args: string[], keys: { token?: string | undefined; runKey?: string | undefined }): Launched {
  // Keys go in the environment: argv is visible to every user of the machine (ps).
  const env: NodeJS.ProcessEnv = { ...process.env, FORCE_COLOR: '0' };
  delete env[TOKEN_ENV];
  delete env[RUN_KEY_ENV];
  if (keys.token) env[TOKEN_ENV] = keys.token;
  if (keys.runKey) env[RUN_KEY_ENV] = keys.runKey;
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env });
  const lines: string[] = [];
  const collect = (chunk: Buffer) => {
    for (const line of chunk.toString('utf8').split('\n')) {
      if (!line.trim()) continue;
      lines.push(line);
      if (lines.length > 40) lines.shift();
    }
  };
  child.stdout!.on('data', collect);
  child.stderr!.on('data', collect);
  return { child, tail: () => lines.join('\n') };
}

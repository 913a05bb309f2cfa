/**
 * A trained CartPole-v1 policy for the play-in-the-browser tests: `lab train --agent ppo --env CartPole-v1
 * --steps 20000 --seed 1` (the PPO cartpole preset solves it within ~20k steps; a few seconds), made once per
 * test file in a temporary runs directory. The run's own final evaluation must say 500, or the tests below it
 * would test nothing.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runLab } from './lab_cli.js';

export const PLAY_RUN_ID = 'cartpole-ppo-s1';

/** Trains the run into a fresh temporary directory; returns the runs directory and the run's path. */
export async function trainCartPolePolicy(prefix: string): Promise<{ runsDir: string; runDir: string }> {
  const runsDir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  const result = await runLab(['train', '--agent', 'ppo', '--env', 'CartPole-v1', '--steps', '20000', '--seed', '1', '--out', runsDir, '--run-id', PLAY_RUN_ID], runsDir);
  if (result.code !== 0) throw new Error(`lab train failed (${result.code}): ${result.err || result.out}`);
  if (!/final greedy eval 500\.0 ± 0\.0/.test(result.out)) throw new Error(`the fixture policy does not balance 500 steps: ${result.out.split('\n').filter((l) => l.startsWith('done:')).join(' ')}`);
  return { runsDir, runDir: path.join(runsDir, PLAY_RUN_ID) };
}

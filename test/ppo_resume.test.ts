/**
 * PPO: kill -9 of a `lab train` child process, then --resume, equals the uninterrupted run on the wasm and cpu
 * backends: metrics, final policy weights and the observation statistics saved beside the policy (observation
 * and reward normalisation on, checkpoints in the middle of rollouts).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { OBS_NORMALIZATION_FILE } from '../agents/ppo.js';
import { deterministicMetrics, killedRun } from './lab_cli.js';

const tmpRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'ppo-resume-'));
afterAll(() => fs.rmSync(tmpRoot, { recursive: true, force: true }));
const tmp = () => fs.mkdtempSync(path.join(tmpRoot, 'x-'));

const LAB = fileURLToPath(new URL('../bin/lab.mjs', import.meta.url));

function lab(args: string[]): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [LAB, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('exit', (code) => resolve({ code, out }));
  });
}

describe.each(['wasm', 'cpu'] as const)('kill -9 then --resume (%s)', (backend) => {
  it('PPO with normalised observations and rewards equals the uninterrupted run (metrics, policy, statistics)', async () => {
    const out = tmp();
    // A checkpoint every 600 steps is mid-rollout (rollouts of 8 × 32 = 256 steps).
    const base = ['train', '--env', 'CartPole-v1', '--agent', 'ppo', '--steps', '4000', '--checkpoint-every', '600', '--eval-every', '2000', '--eval-episodes', '2', '--seed', '4', '--set', 'normalizeObservation=true', '--set', 'normalizeReward=true', '--set', 'nEpochs=4', '--backend', backend, '--out', out];
    const ref = await lab([...base, '--run-id', 'ref']);
    expect(ref.code, ref.out).toBe(0);
    const runDir = path.join(out, 'killed');
    const killedAt = await killedRun([...base, '--run-id', 'killed'], runDir, 1200);
    expect(killedAt).toBeLessThan(4000);
    const resumed = await lab(['train', '--resume', runDir, '--backend', backend]);
    expect(resumed.code, resumed.out).toBe(0);
    const refDir = path.join(out, 'ref');
    expect(deterministicMetrics(runDir)).toEqual(deterministicMetrics(refDir));
    expect(fs.readFileSync(path.join(runDir, 'policy', 'weights.bin')).equals(fs.readFileSync(path.join(refDir, 'policy', 'weights.bin')))).toBe(true);
    expect(fs.readFileSync(path.join(runDir, 'policy', OBS_NORMALIZATION_FILE), 'utf8')).toBe(fs.readFileSync(path.join(refDir, 'policy', OBS_NORMALIZATION_FILE), 'utf8'));
  }, 240_000);
});

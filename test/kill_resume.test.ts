/**
 * kill -9, then --resume, equals the uninterrupted run, for the GAN and AlphaZero-lite kinds on both CPU
 * backends (the RL kind: test/training.test.ts). Every run is a `lab … train` child process, as a user runs it;
 * the killed one is stopped with SIGKILL once a checkpoint past the first exists.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { deterministicMetrics, killedRun } from './lab_cli.js';

const LAB = fileURLToPath(new URL('../bin/lab.mjs', import.meta.url));
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lab-kill-resume-'));

afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function lab(args: string[]): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [LAB, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('exit', (code) => resolve({ code, out }));
  });
}

function bytes(file: string): Buffer {
  return fs.readFileSync(file);
}

describe.each(['wasm', 'cpu'] as const)('kill -9 then --resume (%s)', (backend) => {
  it('GAN: equals the uninterrupted run (metrics and generator weights)', async () => {
    const base = ['gan', 'train', '--preset', 'tiny', '--iterations', '12', '--checkpoint-every', '3', '--sample-every', '3', '--log-every', '1', '--data', 'never', '--seed', '3', '--backend', backend, '--out', tmp];
    const ref = await lab([...base, '--run-id', `gan-ref-${backend}`]);
    expect(ref.code, ref.out).toBe(0);
    const runDir = path.join(tmp, `gan-killed-${backend}`);
    const killedAt = await killedRun([...base, '--run-id', `gan-killed-${backend}`], runDir, 6);
    expect(killedAt).toBeLessThan(12);
    const resumed = await lab(['gan', 'train', '--resume', runDir, '--backend', backend]);
    expect(resumed.code, resumed.out).toBe(0);
    const refDir = path.join(tmp, `gan-ref-${backend}`);
    expect(deterministicMetrics(runDir)).toEqual(deterministicMetrics(refDir));
    expect(bytes(path.join(runDir, 'generator', 'weights.bin')).equals(bytes(path.join(refDir, 'generator', 'weights.bin')))).toBe(true);
  }, 180_000);

  it('AlphaZero-lite: equals the uninterrupted run (metrics and agent weights)', async () => {
    const sets = ['filters=[8]', 'hidden=[16]', 'simulations=8', 'gamesPerIteration=2', 'trainSteps=3', 'batchSize=16', 'bufferSize=500', 'evalEvery=0'].flatMap((s) => ['--set', s]);
    const base = ['go', 'train', '--size', '5', '--iterations', '6', '--checkpoint-every', '1', '--seed', '4', '--backend', backend, '--out', tmp, ...sets];
    const ref = await lab([...base, '--run-id', `az-ref-${backend}`]);
    expect(ref.code, ref.out).toBe(0);
    const runDir = path.join(tmp, `az-killed-${backend}`);
    const killedAt = await killedRun([...base, '--run-id', `az-killed-${backend}`], runDir, 3);
    expect(killedAt).toBeLessThan(6);
    const resumed = await lab(['go', 'train', '--resume', runDir, '--backend', backend]);
    expect(resumed.code, resumed.out).toBe(0);
    const refDir = path.join(tmp, `az-ref-${backend}`);
    expect(deterministicMetrics(runDir)).toEqual(deterministicMetrics(refDir));
    const weights = (dir: string) => fs.readdirSync(path.join(dir, 'agent')).filter((f) => f.endsWith('.bin'));
    expect(weights(runDir).length).toBeGreaterThan(0);
    for (const f of weights(refDir)) expect(bytes(path.join(runDir, 'agent', f)).equals(bytes(path.join(refDir, 'agent', f))), f).toBe(true);
  }, 180_000);
});

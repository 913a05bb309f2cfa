/**
 * The examples/ scripts, run as a user runs them (node --import tsx examples/…) with short budgets, and their
 * runs opened by `lab eval`, `lab replay verify` and `lab compare`: tabular Q-learning published live to a lab
 * server; the corridor plug-in env trained with the built-in DQN; the thermostat plug-in env (values frames) checked
 * and trained with A2C; a CleanRL-style DQN compared beside the built-in
 * DQN; the Expected SARSA plug-in agent killed with SIGKILL and resumed, equal to an uninterrupted run.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { readRunMetrics } from '../lab/run_files.js';
import { afterAll, describe, expect, it } from 'vitest';
import { startLabServer } from '../server/app.js';
import type { RunSummary } from '../protocol/protocol.js';
import { deterministicMetrics, killedRun, runLab, type LabResult } from './lab_cli.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lab-examples-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** `node --import tsx examples/<file> <args>` from the repository root, to its end. */
function example(file: string, args: string[]): Promise<LabResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join('examples', file), ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('exit', (code) => resolve({ code, out, err }));
  });
}

const lab = (args: string[]) => runLab(args, tmp);

/** lab eval --json of a run: its returns. */
async function evalReturns(runDir: string, episodes: number): Promise<number[]> {
  const r = await lab(['eval', runDir, '--episodes', String(episodes), '--backend', 'cpu', '--json']);
  expect(r.code, r.err).toBe(0);
  return (JSON.parse(r.out) as { returns: number[] }).returns;
}

async function verifyAll(runDir: string): Promise<string> {
  const r = await lab(['replay', 'verify', runDir]);
  expect(r.code, r.out + r.err).toBe(0);
  return r.out;
}

describe('examples/', () => {
  it('frozenlake_q.ts: tabular Q-learning from scratch, published live; its run opens in lab eval and lab replay verify', async () => {
    const runsDir = path.join(tmp, 'served');
    const server = await startLabServer({ port: 0, runsDir });
    try {
      const r = await example('frozenlake_q.ts', ['--steps', '20000', '--seed', '3', '--out', tmp, '--run-id', 'fq', '--live', server.url, '--token', server.token]);
      expect(r.code, r.err).toBe(0);
      expect(r.out).toMatch(/step 20000: greedy success rate 0\.\d\d/);
      const runs = (await (await fetch(`${server.url}/api/runs`)).json()) as RunSummary[];
      const live = runs.find((x) => x.runId === 'fq');
      expect(live).toMatchObject({ envId: 'FrozenLake-v1', agent: 'tabular-q', origin: 'cli', status: 'done', step: 20000 });
    } finally {
      await server.close();
    }
    const runDir = path.join(tmp, 'fq');
    const config = JSON.parse(fs.readFileSync(path.join(runDir, 'config.json'), 'utf8'));
    expect(config).toMatchObject({ kind: 'rl', agent: 'tabular-q', envId: 'FrozenLake-v1', steps: 20000, evalEpisodes: 100, script: path.join(ROOT, 'examples', 'frozenlake_q.ts') });
    // Q-learning on the slippery lake: the greedy policy reaches the goal well above chance (~0.015) within 20k steps.
    const returns = await evalReturns(runDir, 200);
    expect(returns.reduce((a, b) => a + b, 0) / returns.length).toBeGreaterThan(0.4);
    // 5 evaluations × 100 episodes, and the training episodes of run.trainingEnv() on the capped cubic schedule
    // (0, 1, 8, …, 729, 1000 of the 1207 finished): each re-simulates exactly, the unseeded ones from their start state.
    const episodes = readRunMetrics(runDir).filter((e) => e.type === 'episode').length;
    expect(episodes).toBe(1207);
    const trainLogs = fs.readdirSync(path.join(runDir, 'replays')).filter((f) => f.startsWith('train-')).sort();
    expect(trainLogs).toEqual([0, 1, 8, 27, 64, 125, 216, 343, 512, 729, 1000].map((k) => `train-e${String(k).padStart(7, '0')}.jsonl.gz`));
    expect(await verifyAll(runDir)).toBe('511 replay logs verified, 0 failed\n');
    // Not a lab train run: resuming it there says which script owns it.
    const resume = await lab(['train', '--resume', runDir]);
    expect(resume.err.trim()).toBe(`lab: error: ${runDir} was written by the training script ${path.join(ROOT, 'examples', 'frozenlake_q.ts')}: resume it with that script (ScriptRun.resume), not lab train`);
  }, 120_000);

  it('thermostat_env.ts: a plug-in env drawn by values frames passes lab check-env; A2C learns it and its replays verify', async () => {
    const env = `${path.join(ROOT, 'examples', 'thermostat_env.ts')}:Thermostat-v0`;
    const check = await lab(['check-env', env]);
    expect(check.code, check.out + check.err).toBe(0);
    expect(check.out).toContain("json: a 'values' frame");
    expect(check.out).toContain('Thermostat-v0 passes all 11 checks');
    const r = await lab(['train', '--env', env, '--agent', 'a2c', '--steps', '30000', '--seed', '2', '--backend', 'cpu', '--out', tmp, '--run-id', 'thermostat']);
    expect(r.code, r.err).toBe(0);
    // Heater always on scores about −75 a day here, always off about −160: the greedy policy does far better.
    const returns = await evalReturns(path.join(tmp, 'thermostat'), 10);
    expect(returns.reduce((a, b) => a + b, 0) / returns.length).toBeGreaterThan(-50);
    expect(await verifyAll(path.join(tmp, 'thermostat'))).toMatch(/^\d+ replay logs verified, 0 failed\n$/);
  }, 120_000);

  it('train_corridor.ts: the corridor plug-in env trained with the built-in DQN; lab eval and replay verify reload the env by themselves', async () => {
    const r = await example('train_corridor.ts', ['--steps', '1500', '--backend', 'cpu', '--out', tmp, '--run-id', 'corridor']);
    expect(r.code, r.err).toBe(0);
    const runDir = path.join(tmp, 'corridor');
    const config = JSON.parse(fs.readFileSync(path.join(runDir, 'config.json'), 'utf8'));
    expect(config.envId).toBe('Corridor-v0');
    expect(config.imports).toEqual([{ module: path.join(ROOT, 'examples', 'corridor_env.ts'), envs: ['Corridor-v0'], agents: [] }]);
    // Walking right: 7 steps to the goal, so a good policy's return is about 1 − 0.06 (slips cost a little more).
    const returns = await evalReturns(runDir, 20);
    expect(Math.min(...returns)).toBeGreaterThan(0.8);
    expect(await verifyAll(runDir)).toMatch(/^\d+ replay logs verified, 0 failed\n$/);
  }, 120_000);

  it('cleanrl_dqn.ts: a DQN on makeVec + tfjs whose run lab compare puts beside the built-in DQN', async () => {
    const [mine, builtIn] = await Promise.all([
      example('cleanrl_dqn.ts', ['--steps', '1000', '--learning-starts', '300', '--backend', 'cpu', '--out', tmp, '--run-id', 'cleanrl']),
      lab(['train', '--env', 'CartPole-v1', '--agent', 'dqn', '--steps', '1000', '--eval-every', '500', '--eval-episodes', '10', '--set', 'learningStarts=300', '--set', 'trainFrequency=10', '--set', 'gradientSteps=1', '--backend', 'cpu', '--out', tmp, '--run-id', 'builtin-dqn']),
    ]);
    expect(mine.code, mine.err).toBe(0);
    expect(builtIn.code, builtIn.err).toBe(0);
    const compare = await lab(['compare', path.join(tmp, 'cleanrl'), path.join(tmp, 'builtin-dqn'), '--group-by', 'agent', '--no-plot', '--json']);
    expect(compare.code, compare.err).toBe(0);
    const groups = (JSON.parse(compare.out) as { groups: { name: string; runs: unknown[] }[] }).groups.map((g) => g.name).sort();
    expect(groups).toEqual(['cleanrl-dqn', 'dqn']);
    const text = await lab(['compare', path.join(tmp, 'cleanrl'), path.join(tmp, 'builtin-dqn'), '--group-by', 'agent', '--no-plot']);
    expect(text.out).toContain('cleanrl-dqn');
    expect((await evalReturns(path.join(tmp, 'cleanrl'), 3)).length).toBe(3);
    expect(await verifyAll(path.join(tmp, 'cleanrl'))).toBe('100 replay logs verified, 0 failed\n');
  }, 180_000);

  it('expected_sarsa_agent.ts: a plug-in agent killed with SIGKILL, then --resume, equals the uninterrupted run', async () => {
    const agent = path.join(ROOT, 'examples', 'expected_sarsa_agent.ts');
    const base = ['train', '--import', agent, '--agent', 'expected-sarsa', '--env', 'FrozenLake-v1', '--steps', '300000', '--eval-every', '50000', '--eval-episodes', '20', '--checkpoint-every', '25000', '--record-train', 'none', '--seed', '5', '--backend', 'cpu', '--out', tmp];
    const ref = await lab([...base, '--run-id', 'es-ref']);
    expect(ref.code, ref.err).toBe(0);

    const runDir = path.join(tmp, 'es-killed');
    const killedAt = await killedRun([...base, '--run-id', 'es-killed'], runDir, 50_000, tmp);
    expect(killedAt).toBeLessThan(300_000);
    // No --import: the run's config.json names the module.
    const resumed = await lab(['train', '--resume', runDir]);
    expect(resumed.code, resumed.err).toBe(0);
    expect(deterministicMetrics(runDir)).toEqual(deterministicMetrics(path.join(tmp, 'es-ref')));
    expect(fs.readFileSync(path.join(runDir, 'policy', 'weights.bin')).equals(fs.readFileSync(path.join(tmp, 'es-ref', 'policy', 'weights.bin')))).toBe(true);
    expect(await evalReturns(runDir, 10)).toEqual(await evalReturns(path.join(tmp, 'es-ref'), 10));
  }, 180_000);
});

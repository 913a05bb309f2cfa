/**
 * The common run model (lab/run_store.ts, lab/run_files.ts): run directories written before it (committed
 * fixtures, test/fixtures/runs/) keep opening everywhere and resume from their old checkpoint pointers; new runs
 * of every kind write `kind`, the common config fields and the pointer {unit, at, dir}.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { DiskRuns } from '../server/disk_runs.js';
import { readAlphaZeroRunMetrics, readRunConfig, readRunMetrics } from '../lab/run_files.js';
import { RunStore, runStamp } from '../lab/run_store.js';
import { LAB_VERSION } from '../lab/version.js';
import { resumeTraining, startTraining } from '../agents/train.js';
import { resumeGanTraining, startGanTraining } from '../gan/train.js';
import { resumeAlphaZero, trainAlphaZero } from '../agents/go/alphazero.js';

const FIXTURES = fileURLToPath(new URL('./fixtures/runs/', import.meta.url));
const LAB = fileURLToPath(new URL('../bin/lab.mjs', import.meta.url));
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lab-run-model-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function lab(...args: string[]) {
  const r = spawnSync(process.execPath, [LAB, ...args], { encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A copy of a fixture to work on (the committed fixtures are never written). */
function copyFixture(name: string, as = name): string {
  const dir = path.join(tmp, 'copies', as);
  fs.cpSync(path.join(FIXTURES, name), dir, { recursive: true });
  return dir;
}

/** Every file under a directory with a hash of its bytes (to see that readers wrote nothing). */
function tree(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of fs.readdirSync(dir, { recursive: true, encoding: 'utf8' }).sort()) {
    const p = path.join(dir, f);
    if (fs.statSync(p).isFile()) out[f] = createHash('sha256').update(fs.readFileSync(p)).digest('hex');
  }
  return out;
}

const pointer = (dir: string) => JSON.parse(fs.readFileSync(path.join(dir, 'checkpoints', 'latest.json'), 'utf8')) as Record<string, unknown>;
const config = (dir: string) => JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8')) as Record<string, unknown>;

/**
 * Whether `dir`'s metrics.jsonl begins with exactly what the fixture's held when its latest checkpoint was taken
 * (what was written after it, the final evaluation and outputs, was cut on resume and written again).
 */
function keepsFixtureMetrics(dir: string, fixture: string, stateFile: string): void {
  const src = path.join(FIXTURES, fixture);
  const ck = (JSON.parse(fs.readFileSync(path.join(src, 'checkpoints', 'latest.json'), 'utf8')) as { dir: string }).dir;
  const { metricsSize } = JSON.parse(fs.readFileSync(path.join(src, 'checkpoints', ck, stateFile), 'utf8')) as { metricsSize: number };
  expect(metricsSize).toBeGreaterThan(0);
  const before = fs.readFileSync(path.join(src, 'metrics.jsonl')).subarray(0, metricsSize);
  const after = fs.readFileSync(path.join(dir, 'metrics.jsonl'));
  expect(after.length).toBeGreaterThan(before.length);
  expect(after.subarray(0, before.length).equals(before)).toBe(true);
  expect(after.at(-1)).toBe(0x0a); // whole records only
}

describe('run directories from before the common run model (test/fixtures/runs)', () => {
  it('are in the old formats: no kind in the RL config, pointers {step, dir} and {iteration, dir}', () => {
    expect(config(path.join(FIXTURES, 'rl-dqn-cartpole')).kind).toBeUndefined();
    expect(pointer(path.join(FIXTURES, 'rl-dqn-cartpole'))).toEqual({ step: 300, dir: 'step-0000000300' });
    expect(pointer(path.join(FIXTURES, 'gan-tiny'))).toEqual({ iteration: 4, dir: 'iter-00000004' });
    expect(pointer(path.join(FIXTURES, 'go-alphazero-tiny'))).toEqual({ iteration: 2, dir: 'iter-000002' });
  });

  it('read through the checked readers and RunStore with their kinds, old pointers understood', () => {
    const kinds = { 'rl-dqn-cartpole': ['rl', 'steps', 300], 'gan-tiny': ['gan', 'iterations', 4], 'go-alphazero-tiny': ['go-alphazero', 'iterations', 2] } as const;
    for (const [name, [kind, unit, at]] of Object.entries(kinds)) {
      const dir = path.join(FIXTURES, name);
      const checked = readRunConfig(dir);
      expect(checked.kind).toBe(kind);
      expect(checked.config.kind).toBe(kind); // a missing kind reads as "rl"
      const store = RunStore.open(dir);
      expect(store.kind).toBe(kind);
      expect(store.latestCheckpoint()).toMatchObject({ unit, at });
    }
    expect(readRunMetrics(path.join(FIXTURES, 'rl-dqn-cartpole')).some((e) => e.type === 'eval')).toBe(true);
    expect(readAlphaZeroRunMetrics(path.join(FIXTURES, 'go-alphazero-tiny')).map((e) => e.iteration)).toEqual([1, 2]);
  });

  it("are listed by the server's DiskRuns, which writes nothing", () => {
    const before = tree(FIXTURES);
    const list = new DiskRuns(FIXTURES).list();
    const byId = new Map(list.map((r) => [r.runId, r]));
    expect(byId.get('rl-dqn-cartpole')).toMatchObject({ kind: 'rl', envId: 'CartPole-v1', agent: 'dqn', steps: 300, origin: 'disk' });
    expect(byId.get('gan-tiny')).toMatchObject({ kind: 'gan', agent: 'gan', preset: 'tiny', steps: 4, origin: 'disk' });
    for (const r of list) expect(r.status, r.runId).not.toBe('damaged');
    expect(tree(FIXTURES)).toEqual(before);
  });

  it('lab eval evaluates the RL fixture', () => {
    const r = lab('eval', path.join(FIXTURES, 'rl-dqn-cartpole'), '--episodes', '2', '--backend', 'cpu');
    expect(r.stderr).not.toMatch(/error|warning/i);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/CartPole-v1, 2 greedy episodes from .*rl-dqn-cartpole.policy/);
    expect(r.stdout).toMatch(/mean return \d/);
  });

  it('lab compare compares the RL fixture with a run in the new format', async () => {
    const out = path.join(tmp, 'compare-runs');
    await startTraining({ agent: 'dqn', envId: 'CartPole-v1', seed: 2, steps: 300, evalEvery: 150, evalEpisodes: 2, checkpointEvery: 150, out, runId: 'rl-new', backend: 'cpu', overrides: { hidden: [16], bufferSize: 400, learningStarts: 50 } });
    const r = lab('compare', path.join(FIXTURES, 'rl-dqn-cartpole'), path.join(out, 'rl-new'), '--no-plot', '--reps', '200');
    expect(r.stderr).not.toMatch(/error|warning/i);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/CartPole-v1/);
    // One group of both runs (the fixture is seed 1, the new run seed 2), each scored by its last evaluation.
    expect(r.stdout).toMatch(/dqn\S*\s+2\s+\d/);
    expect(r.stdout).toMatch(/s1:\S+ s2:\S+/);
  }, 60_000);

  it('lab train --resume continues the RL fixture from its {step, dir} checkpoint to a raised budget', () => {
    const dir = copyFixture('rl-dqn-cartpole');
    const r = lab('train', '--resume', dir, '--steps', '450');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/done: 450 steps/);
    expect(pointer(dir)).toEqual({ unit: 'steps', at: 450, dir: 'step-0000000450' });
    expect(config(dir)).toMatchObject({ kind: 'rl', steps: 450 }); // the raised budget is the run's now
    keepsFixtureMetrics(dir, 'rl-dqn-cartpole', 'loop.json');
    const events = readRunMetrics(dir);
    expect(events.filter((e) => e.type === 'checkpoint').map((e) => e.step)).toEqual([150, 300, 450]);
    const steps = events.filter((e) => e.type === 'episode').map((e) => e.step);
    expect(steps).toEqual([...steps].sort((a, b) => a - b));
    expect(readRunConfig(dir).kind).toBe('rl');
  }, 60_000);

  it('lab gan train --resume continues the GAN fixture from its {iteration, dir} checkpoint', () => {
    const dir = copyFixture('gan-tiny');
    const r = lab('gan', 'train', '--resume', dir, '--iterations', '6');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/done: 6 iterations/);
    expect(pointer(dir)).toEqual({ unit: 'iterations', at: 6, dir: 'iter-00000006' });
    expect(config(dir)).toMatchObject({ kind: 'gan', iterations: 6 });
    keepsFixtureMetrics(dir, 'gan-tiny', 'state.json');
    const events = readRunMetrics(dir);
    // (A GAN checkpoint's own event follows the size it records: the fixture's is cut and the new one written.)
    expect(events.filter((e) => e.type === 'checkpoint').map((e) => e.step)).toEqual([6]);
    expect(events.filter((e) => e.type === 'update').map((e) => e.step)).toEqual([2, 4, 6]);
  }, 60_000);

  it('lab go train --resume continues the AlphaZero fixture from its {iteration, dir} checkpoint (iter-000002)', () => {
    const dir = copyFixture('go-alphazero-tiny');
    const r = lab('go', 'train', '--resume', dir, '--iterations', '3');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/done after iteration 3/);
    expect(pointer(dir)).toEqual({ unit: 'iterations', at: 3, dir: 'iter-00000003' });
    expect(config(dir)).toMatchObject({ kind: 'go-alphazero', iterations: 3 });
    // The old-named checkpoint stays as the fallback; the one before it is pruned.
    expect(fs.readdirSync(path.join(dir, 'checkpoints')).sort()).toEqual(['iter-00000003', 'iter-000002', 'latest.json']);
    keepsFixtureMetrics(dir, 'go-alphazero-tiny', 'state.json');
    expect(readAlphaZeroRunMetrics(dir).map((e) => e.iteration)).toEqual([1, 2, 3]);
  }, 60_000);
});

describe('new runs of every kind write the run model', () => {
  const out = path.join(tmp, 'new');
  const common = (dir: string, kind: string, unit: string, at: number) => {
    const c = config(dir);
    expect(c).toMatchObject({ kind, seed: 4, versions: { lab: LAB_VERSION, node: process.version }, backend: { requested: 'cpu', backend: 'cpu' } });
    expect(typeof (c.backend as { reason: unknown }).reason).toBe('string');
    expect((c.backend as { details: unknown }).details).toBeTypeOf('object');
    expect((c.versions as { tfjs: unknown }).tfjs).toMatch(/^\d/);
    expect(Date.parse(c.createdAt as string)).toBeGreaterThan(Date.now() - 600_000);
    expect(c).toHaveProperty('command');
    expect(c.hyperparameters).toBeTypeOf('object');
    expect(readRunConfig(dir).kind).toBe(kind);
    expect(pointer(dir)).toEqual({ unit, at, dir: unit === 'steps' ? `step-${String(at).padStart(10, '0')}` : `iter-${String(at).padStart(8, '0')}` });
  };
  /** Rewrites a pointer in the format from before the run model. */
  const oldPointer = (dir: string, key: 'step' | 'iteration') => {
    const p = pointer(dir);
    fs.writeFileSync(path.join(dir, 'checkpoints', 'latest.json'), JSON.stringify({ [key]: p.at, dir: p.dir }));
  };

  it('RL: kind "rl", the common fields, {unit: "steps"}; an old {step, dir} pointer still resumes', async () => {
    const run = await startTraining({ agent: 'dqn', envId: 'CartPole-v1', seed: 4, steps: 200, evalEvery: 0, evalEpisodes: 1, checkpointEvery: 100, out, runId: 'rl', backend: 'cpu', command: 'lab train …', overrides: { hidden: [8], learningStarts: 50, bufferSize: 300 } });
    common(run.runDir, 'rl', 'steps', 200);
    expect(config(run.runDir).command).toBe('lab train …');
    expect(() => RunStore.create(out, run.config)).toThrow(/already exists/);
    oldPointer(run.runDir, 'step');
    const resumed = await resumeTraining(run.runDir, { steps: 300 });
    expect(resumed.result.steps).toBe(300);
    expect(pointer(run.runDir)).toEqual({ unit: 'steps', at: 300, dir: 'step-0000000300' });
  }, 60_000);

  it('GAN: kind "gan", the common fields, {unit: "iterations"}; an old {iteration, dir} pointer still resumes', async () => {
    const run = await startGanTraining({ preset: 'tiny', category: 'apple', seed: 4, iterations: 2, limit: 16, data: 'never', overrides: { batch: 4 }, sampleEvery: 0, checkpointEvery: 0, out, runId: 'gan', backend: 'cpu' });
    common(run.runDir, 'gan', 'iterations', 2);
    oldPointer(run.runDir, 'iteration');
    const resumed = await resumeGanTraining(run.runDir, { iterations: 3 });
    expect(resumed.result.iterations).toBe(3);
    expect(pointer(run.runDir)).toEqual({ unit: 'iterations', at: 3, dir: 'iter-00000003' });
  }, 60_000);

  it('AlphaZero-lite: kind "go-alphazero", the common fields (the lab version too), {unit: "iterations"}; an old pointer still resumes', async () => {
    const hp = { size: 5, filters: [8], hidden: [16], simulations: 8, gamesPerIteration: 1, trainSteps: 2, batchSize: 16, bufferSize: 64, evalEvery: 0 };
    const run = await trainAlphaZero({ hyperparameters: hp, seed: 4, iterations: 1, out, runId: 'az', backend: 'cpu' });
    common(run.dir, 'go-alphazero', 'iterations', 1);
    oldPointer(run.dir, 'iteration');
    const resumed = await resumeAlphaZero(run.dir, { iterations: 2 });
    expect(resumed).toMatchObject({ iteration: 2, finished: true });
    expect(pointer(run.dir)).toEqual({ unit: 'iterations', at: 2, dir: 'iter-00000002' });
  }, 60_000);

  it('a pointer counting the wrong unit is refused; run ids are stamped to the second', () => {
    const dir = copyFixture('gan-tiny', 'gan-wrong-unit');
    fs.writeFileSync(path.join(dir, 'checkpoints', 'latest.json'), JSON.stringify({ unit: 'steps', at: 4, dir: 'iter-00000004' }));
    expect(() => RunStore.open(dir).latestCheckpoint()).toThrow(/counts "steps", but this run counts iterations; refusing to follow it/);
    expect(runStamp(new Date('2026-01-02T03:04:05.678Z'))).toBe('20260102-030405');
  });
});

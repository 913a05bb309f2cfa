/**
 * `lab sweep` on local worker processes: the example spec (experiments/a2c-cartpole.yml, its steps
 * lowered through a copy) with 2 workers completes 4 trials × 2 seeds into an experiment directory of complete
 * runs; kill -9 of the sweep mid-way, then `lab sweep --resume`, gives the same trial table as the uninterrupted
 * sweep; `lab sweep show` and `lab compare <expDir>` read it. Before those, the coordinator itself against a
 * scripted dispatcher: the parallelTrials rule, independence from slots and timing, stop and resume, failed and
 * pruned trials, the wall-time budget, a failing dispatcher.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import type { ExperimentSpec, RunJob, RunJobResult, TrialRecord } from '../protocol/experiments.js';
import { parseSpec } from '../sweep/spec.js';
import { runExperiment, type CoordinatorEvent } from '../sweep/coordinator.js';
import type { RunDispatcher } from '../sweep/dispatcher.js';
import { RunStoppedError } from '../sweep/run_job.js';
import { createExperimentDir, EXPERIMENT_FORMAT, readExperiment, readTrialRecords, TRIALS_FILE } from '../sweep/experiment_files.js';
import { readRunConfig, readRunMetrics } from '../lab/run_files.js';
import { makeRng } from '../analysis/stats.js';
import { LAB_VERSION } from '../lab/version.js';
import { processAlive } from '../lab/process.js';
import { LAB, runLab, type LabResult } from './lab_cli.js';

const EXAMPLE = fileURLToPath(new URL('../experiments/a2c-cartpole.yml', import.meta.url));
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lab-sweep-local-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

// ---------------------------------------------------------------------------------------------------------------
// The coordinator against a scripted dispatcher

/** A deterministic stand-in for training: the value depends on the params and the seed only. */
function fakeValue(job: RunJob): number {
  const lr = job.params.learningRate as number;
  return 500 - 100 * (Math.log10(lr) + 2.5) ** 2 + (job.params.nSteps === 16 ? 20 : 0) + job.seed;
}

interface ScriptedOptions {
  slots: number;
  /** Random delays (ms) from this seed; none: every run resolves on the next tick. */
  delaySeed?: number;
  result?: (job: RunJob) => Partial<RunJobResult>;
  /** Checked when a run starts (the parallelTrials rule). */
  onStart?: (job: RunJob) => void;
}

class ScriptedDispatcher implements RunDispatcher {
  readonly slots: number;
  readonly started: RunJob[] = [];
  closed = false;
  private readonly rng: (() => number) | null;
  private inFlight = 0;
  maxInFlight = 0;

  constructor(private readonly options: ScriptedOptions) {
    this.slots = options.slots;
    this.rng = options.delaySeed === undefined ? null : makeRng(options.delaySeed);
  }

  async run(job: RunJob): Promise<RunJobResult> {
    this.started.push(job);
    this.options.onStart?.(job);
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    await new Promise((r) => setTimeout(r, this.rng ? Math.floor(this.rng() * 15) : 0));
    this.inFlight--;
    const value = fakeValue(job);
    return { runId: job.runId, state: 'done', value, curve: [{ step: 100, value: value / 2 }, { step: 200, value }], seconds: 0.01, ...this.options.result?.(job) };
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}

const FAKE_SPEC = (extra: string) => `
name: fake
run: { kind: rl, env: CartPole-v1, agent: a2c, steps: 200 }
seeds: [1, 2]
search:
  learningRate: { loguniform: [0.0001, 0.1] }
  nSteps: { choice: [5, 16] }
objective: { metric: eval, reduce: iqm-last, direction: maximize }
${extra}`;

let expCount = 0;
function newExperiment(spec: ExperimentSpec): string {
  const id = `${spec.name}-${++expCount}`;
  return createExperimentDir(path.join(tmp, 'fake'), { format: EXPERIMENT_FORMAT, id, name: spec.name, createdAt: new Date().toISOString(), labVersion: LAB_VERSION, spec, specFile: 'fake.yml', queue: null });
}

/** What must not depend on workers, timing or resumes: everything in a record but run ids and times. */
function table(records: readonly TrialRecord[]): unknown[] {
  return [...records]
    .sort((a, b) => a.trial - b.trial)
    .map((r) => ({ trial: r.trial, params: r.params, state: r.state, objective: r.objective, interval: r.interval, curve: r.curve, seeds: r.seeds.map((s) => ({ seed: s.seed, state: s.state, value: s.value, prunedAt: s.prunedAt })) }));
}

describe('coordinator', () => {
  it('starts trial k only after trials < k - parallelTrials have records, keeps the slots busy, and records every trial once', async () => {
    const spec = parseSpec(FAKE_SPEC('sampler: tpe\nsamplerSeed: 3\ntrials: 14\nparallelTrials: 2\npruner: { type: none }'), 'fake.yml');
    const expDir = newExperiment(spec);
    const violations: string[] = [];
    const dispatcher = new ScriptedDispatcher({
      slots: 3,
      delaySeed: 1,
      onStart: (job) => {
        const recorded = new Set(readTrialRecords(expDir).map((r) => r.trial));
        for (let t = 0; t < job.trial - spec.parallelTrials; t++) if (!recorded.has(t)) violations.push(`trial ${job.trial} started before trial ${t} had a record`);
      },
    });
    const events: CoordinatorEvent[] = [];
    const outcome = await runExperiment({ expDir, spec, dispatcher, onEvent: (e) => events.push(e) });
    expect(violations).toEqual([]);
    expect(outcome.end).toBe('budget');
    expect(outcome.records.map((r) => r.trial)).toEqual([...Array(14).keys()]);
    expect(readTrialRecords(expDir).map((r) => r.trial).sort((a, b) => a - b)).toEqual([...Array(14).keys()]);
    expect(dispatcher.started).toHaveLength(28);
    expect(dispatcher.maxInFlight).toBe(3);
    // Objectives: the IQM (2 seeds: the mean) of the seeds' values; the best is the highest.
    for (const r of outcome.records) expect(r.objective).toBeCloseTo(r.seeds.reduce((a, s) => a + s.value!, 0) / 2, 9);
    expect(outcome.best!.objective).toBe(Math.max(...outcome.records.map((r) => r.objective!)));
    const ends = events.filter((e) => e.type === 'trial-end');
    expect(ends).toHaveLength(14);
  });

  it('gives the same table with 1 or 4 slots and any timing (TPE, parallelTrials 2)', async () => {
    const text = FAKE_SPEC('sampler: tpe\nsamplerSeed: 11\ntrials: 16\nparallelTrials: 2\npruner: { type: median, startupTrials: 3, warmupSteps: 100 }');
    const runs = await Promise.all(
      [
        { slots: 1, delaySeed: undefined },
        { slots: 4, delaySeed: 5 },
        { slots: 3, delaySeed: 9 },
      ].map(async ({ slots, delaySeed }) => {
        const spec = parseSpec(text, 'fake.yml');
        const outcome = await runExperiment({ expDir: newExperiment(spec), spec, dispatcher: new ScriptedDispatcher({ slots, ...(delaySeed !== undefined ? { delaySeed } : {}) }) });
        return table(outcome.records);
      }),
    );
    expect(runs[0]).toHaveLength(16);
    expect(runs[1]).toEqual(runs[0]);
    expect(runs[2]).toEqual(runs[0]);
    // TPE suggestions after the startup trials differ from the random ones: the table is not trivially equal.
    expect(new Set(runs[0]!.map((r) => JSON.stringify((r as TrialRecord).params))).size).toBe(16);
  });

  it('a stop records no unfinished trial; a resume completes the table exactly as an uninterrupted sweep, without duplicates', async () => {
    const text = FAKE_SPEC('sampler: tpe\nsamplerSeed: 4\ntrials: 10\nparallelTrials: 1\npruner: { type: none }');
    const spec = parseSpec(text, 'fake.yml');
    const whole = await runExperiment({ expDir: newExperiment(spec), spec, dispatcher: new ScriptedDispatcher({ slots: 2, delaySeed: 2 }) });

    const expDir = newExperiment(spec);
    const controller = new AbortController();
    const first = new ScriptedDispatcher({ slots: 2, delaySeed: 3 });
    const stopped = await runExperiment({
      expDir,
      spec,
      dispatcher: first,
      signal: controller.signal,
      onEvent: (e) => {
        if (e.type === 'trial-end' && e.finished === 3) controller.abort();
      },
    });
    expect(stopped.end).toBe('stopped');
    expect(stopped.records.length).toBe(3);
    expect(stopped.unfinished.length).toBeGreaterThan(0);
    expect(readTrialRecords(expDir)).toHaveLength(3);
    // A crash mid-append leaves a torn line: ignored on read, cut on resume.
    fs.appendFileSync(path.join(expDir, TRIALS_FILE), '{"trial":7,"params":{"learn');
    expect(readTrialRecords(expDir)).toHaveLength(3);

    const second = new ScriptedDispatcher({ slots: 3, delaySeed: 4 });
    const resumed = await runExperiment({ expDir, spec, dispatcher: second });
    expect(resumed.end).toBe('budget');
    expect(second.started.some((j) => j.trial < 3)).toBe(false);
    const records = readTrialRecords(expDir);
    expect(records.map((r) => r.trial).sort((a, b) => a - b)).toEqual([...Array(10).keys()]);
    expect(table(records)).toEqual(table(whole.records));
  });

  it('a trial whose seeds all fail is failed (no objective); one with a pruned seed is pruned', async () => {
    const spec = parseSpec(FAKE_SPEC('sampler: random\ntrials: 4\npruner: { type: none }'), 'fake.yml');
    const dispatcher = new ScriptedDispatcher({
      slots: 2,
      result: (job) =>
        job.trial === 1
          ? { state: 'failed', value: null, curve: [], error: 'learning rate too high: NaN loss' }
          : job.trial === 2 && job.seed === 2
            ? { state: 'pruned', prunedAt: 100, curve: [{ step: 100, value: 10 }], value: 10 }
            : job.trial === 3 && job.seed === 1
              ? { state: 'failed', value: null, curve: [], error: 'worker died' }
              : {},
    });
    const outcome = await runExperiment({ expDir: newExperiment(spec), spec, dispatcher });
    const [t0, t1, t2, t3] = outcome.records;
    expect(t0!.state).toBe('done');
    expect(t1).toMatchObject({ state: 'failed', objective: null, interval: null });
    expect(t1!.seeds.map((s) => s.error)).toEqual(['learning rate too high: NaN loss', 'learning rate too high: NaN loss']);
    expect(t2!.state).toBe('pruned');
    expect(t2!.seeds[1]).toMatchObject({ state: 'pruned', prunedAt: 100, value: 10 });
    // One seed failed, the other is done: the trial is done, its objective from the one value.
    expect(t3!.state).toBe('done');
    expect(t3!.objective).toBe(t3!.seeds[1]!.value);
    expect(t3!.interval).toBeNull();
    // The best is a done trial.
    expect(['done']).toContain(outcome.best!.state);
  });

  it('starts no trial after the wall-time budget; the running ones finish and are recorded', async () => {
    const spec = parseSpec(FAKE_SPEC('sampler: random\ntimeLimit: 10\npruner: { type: none }').replace('seeds: [1, 2]', 'seeds: [1]'), 'fake.yml');
    let clock = 0;
    const dispatcher = new ScriptedDispatcher({ slots: 1, onStart: () => (clock += 3000) });
    const outcome = await runExperiment({ expDir: newExperiment(spec), spec, dispatcher, now: () => clock });
    expect(spec.trials).toBeNull();
    expect(outcome.end).toBe('time');
    // Trials start at 0, 3, 6 and 9 s (each run takes 3 s on this clock); at 12 s the budget has passed.
    expect(outcome.records.map((r) => r.trial)).toEqual([0, 1, 2, 3]);
  });

  it('a failing dispatcher (not a failing run) ends the sweep with its error and records nothing for that trial', async () => {
    const spec = parseSpec(FAKE_SPEC('sampler: random\ntrials: 6\npruner: { type: none }'), 'fake.yml');
    const expDir = newExperiment(spec);
    const dispatcher = new ScriptedDispatcher({ slots: 1 });
    const run = dispatcher.run.bind(dispatcher);
    dispatcher.run = (job) => (job.trial === 2 ? Promise.reject(new Error('lost the connection to Redis')) : run(job));
    await expect(runExperiment({ expDir, spec, dispatcher })).rejects.toThrow('lost the connection to Redis');
    expect(readTrialRecords(expDir).map((r) => r.trial)).toEqual([0, 1]);
  });

  it("a run stopped from the viewer stops the sweep like a signal (no record for its trial), and a resume completes the same table", async () => {
    const spec = parseSpec(FAKE_SPEC('sampler: random\ntrials: 6\npruner: { type: none }'), 'fake.yml');
    const reference = await runExperiment({ expDir: newExperiment(spec), spec, dispatcher: new ScriptedDispatcher({ slots: 2 }) });
    const expDir = newExperiment(spec);
    const dispatcher = new ScriptedDispatcher({ slots: 2 });
    const run = dispatcher.run.bind(dispatcher);
    dispatcher.run = (job) => (job.trial === 2 && job.seed === 2 ? Promise.reject(new RunStoppedError(job.runId, 100)) : run(job));
    const stopped = await runExperiment({ expDir, spec, dispatcher });
    expect(stopped.end).toBe('stopped');
    expect(stopped.stoppedRun).toBe(`${path.basename(expDir)}-t0002-s2`);
    expect(stopped.unfinished).toContain(2);
    expect(readTrialRecords(expDir).map((r) => r.trial)).not.toContain(2);
    const resumed = await runExperiment({ expDir, spec, dispatcher: new ScriptedDispatcher({ slots: 2 }) });
    expect(resumed.end).toBe('budget');
    expect(table(readTrialRecords(expDir))).toEqual(table(reference.records));
  });
});

// ---------------------------------------------------------------------------------------------------------------
// lab sweep with local worker processes

const STEPS = 6000;

/** The example spec with a smaller budget (and evaluations within it), otherwise as written. */
function exampleCopy(): string {
  const data = YAML.parse(fs.readFileSync(EXAMPLE, 'utf8')) as { run: Record<string, unknown> };
  data.run = { ...data.run, steps: STEPS, evalEvery: 1500, evalEpisodes: 3 };
  const file = path.join(tmp, 'a2c-cartpole.yml');
  fs.writeFileSync(file, YAML.stringify(data));
  return file;
}

/** `lab <args>`, by default in this file's temporary directory. */
const lab = (args: string[], cwd = tmp): Promise<LabResult> => runLab(args, cwd);

/** The one experiment directory in `outDir`. */
function onlyExperiment(outDir: string): string {
  const dirs = fs.readdirSync(outDir).filter((d) => !d.startsWith('.'));
  expect(dirs).toHaveLength(1);
  return path.join(outDir, dirs[0]!);
}

/** The child processes of `pid` (Linux /proc), e.g. a sweep's workers. */
function childPids(pid: number): number[] {
  try {
    return fs
      .readdirSync(`/proc/${pid}/task`)
      .flatMap((t) => fs.readFileSync(`/proc/${pid}/task/${t}/children`, 'utf8').trim().split(/\s+/))
      .filter(Boolean)
      .map(Number);
  } catch {
    return [];
  }
}

describe('lab sweep (local workers)', () => {
  let specFile = '';
  let whole = '';

  it('runs the example spec with 2 workers: 4 trials x 2 seeds, 4 records with objectives, every run complete', async () => {
    specFile = exampleCopy();
    const r = await lab(['sweep', specFile, '--workers', '2', '--out', 'whole']);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    whole = onlyExperiment(path.join(tmp, 'whole'));
    const { meta, records, running } = readExperiment(whole);
    expect(meta.spec.trials).toBe(4);
    expect(meta.spec.sampler).toBe('random');
    expect(running).toEqual([]);
    expect(records.map((t) => t.trial).sort()).toEqual([0, 1, 2, 3]);
    for (const t of records) {
      expect(t.state).toBe('done');
      expect(typeof t.objective).toBe('number');
      expect(t.seeds.map((s) => s.seed)).toEqual([1, 2]);
      expect(Object.keys(t.params).sort()).toEqual(['learningRate', 'nSteps']);
      expect(t.params.learningRate).toBeGreaterThanOrEqual(0.0003);
      expect(t.params.learningRate).toBeLessThanOrEqual(0.01);
      expect([5, 16]).toContain(t.params.nSteps);
    }
    // One progress line per finished trial, then the best configuration and the command to train it alone.
    expect(r.out.split('\n').filter((l) => /^trial \d \[\d\/4\]/.test(l))).toHaveLength(4);
    expect(r.out).toMatch(/train it alone: lab train --env CartPole-v1 --agent a2c --steps 6000 .*--set learningRate=[\d.e-]+ --set nSteps=(5|16) --seed 1/);
    const runs = fs.readdirSync(path.join(whole, 'runs')).sort();
    expect(runs).toEqual([0, 1, 2, 3].flatMap((t) => [1, 2].map((s) => `${meta.id}-t000${t}-s${s}`)));
    for (const id of runs) {
      const dir = path.join(whole, 'runs', id);
      const config = readRunConfig(dir);
      expect(config.kind).toBe('rl');
      if (config.kind !== 'rl') continue;
      const trial = records.find((t) => t.seeds.some((s) => s.runId === id))!;
      expect(config.config.hyperparameters).toMatchObject(trial.params);
      const evals = readRunMetrics(dir).filter((e) => e.type === 'eval');
      expect(evals.at(-1)!.step).toBeGreaterThanOrEqual(STEPS);
      expect(trial.seeds.find((s) => s.runId === id)!.value).toBe((evals.at(-1) as { meanReturn: number }).meanReturn);
      expect(fs.existsSync(path.join(dir, 'policy'))).toBe(true);
    }
  }, 180_000);

  it('kill -9 of the sweep after a trial record, then --resume: the same table as the uninterrupted sweep, no duplicate trial', async () => {
    expect(whole).not.toBe('');
    const outDir = path.join(tmp, 'killed');
    const child = spawn(process.execPath, [LAB, 'sweep', specFile, '--workers', '2', '--out', 'killed'], { cwd: tmp, stdio: 'ignore' });
    let workers: number[] = [];
    const interrupted = await new Promise<string>((resolve, reject) => {
      const timer = setInterval(() => {
        const pids = childPids(child.pid!);
        if (pids.length) workers = pids;
        if (!fs.existsSync(outDir)) return;
        const exp = fs.readdirSync(outDir).find((d) => !d.startsWith('.'));
        if (!exp) return;
        const expDir = path.join(outDir, exp);
        const recorded = readTrialRecords(expDir);
        if (recorded.length < 1) return;
        // A run of an unfinished trial with a checkpoint: the resume must continue it, not start it afresh.
        const { running } = readExperiment(expDir);
        const run = running.flatMap((t) => t.runs).find((x) => fs.existsSync(path.join(expDir, 'runs', x.runId, 'checkpoints', 'latest.json')));
        if (!run) return;
        clearInterval(timer);
        child.kill('SIGKILL');
        resolve(path.join(expDir, 'runs', run.runId));
      }, 20);
      child.on('exit', () => {
        clearInterval(timer);
        reject(new Error('the sweep ended before it could be killed'));
      });
    });
    await new Promise((r) => child.on('exit', r));
    // Its workers notice their parent is gone and exit.
    for (let i = 0; i < 200 && workers.some((pid) => processAlive(pid)); i++) await new Promise((r) => setTimeout(r, 50));
    expect(workers.filter((pid) => processAlive(pid))).toEqual([]);

    const expDir = onlyExperiment(outDir);
    const before = readExperiment(expDir);
    expect(before.records.length).toBeGreaterThanOrEqual(1);
    expect(before.records.length).toBeLessThan(4);
    const createdAt = JSON.parse(fs.readFileSync(path.join(interrupted, 'config.json'), 'utf8')).createdAt;

    const r = await lab(['sweep', '--resume', path.relative(tmp, expDir), '--workers', '2']);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toContain(`resuming killed/${path.basename(expDir)}: ${before.records.length} trials finished (kept)`);
    // The interrupted run was resumed in place (its directory was not made anew).
    expect(JSON.parse(fs.readFileSync(path.join(interrupted, 'config.json'), 'utf8')).createdAt).toBe(createdAt);

    const after = readExperiment(expDir);
    const lines = fs.readFileSync(path.join(expDir, TRIALS_FILE), 'utf8').split('\n').filter(Boolean);
    expect(lines).toHaveLength(4);
    expect(after.records.map((t) => t.trial).sort()).toEqual([0, 1, 2, 3]);
    expect(after.running).toEqual([]);
    expect(table(after.records)).toEqual(table(readExperiment(whole).records));
  }, 240_000);

  it('lab sweep show prints the trial table and the best configuration; --json holds the same', async () => {
    expect(whole).not.toBe('');
    const { records, meta } = readExperiment(whole);
    const best = [...records].sort((a, b) => b.objective! - a.objective!)[0]!;
    const r = await lab(['sweep', 'show', whole]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const lines = r.out.split('\n');
    expect(lines[0]).toBe(`a2c-cartpole (${meta.id}): 4 of 4 trials finished (4 done, 0 pruned, 0 failed), 0 running`);
    expect(lines.find((l) => l.startsWith('trial'))).toMatch(/^trial\s+learningRate\s+nSteps\s+objective \[95% CI\]\s+state$/);
    for (const t of records) {
      const row = lines.find((l) => l.startsWith(`${t.trial}  `))!;
      expect(row).toContain(String(t.params.nSteps));
      expect(row).toMatch(/\[[\d.]+, [\d.]+\]\s+done$/);
    }
    expect(r.out).toContain(`best: trial ${best.trial}, learningRate=`);
    expect(r.out).toContain(`train it alone: lab train --env CartPole-v1 --agent a2c --steps ${STEPS}`);
    const json = JSON.parse((await lab(['sweep', 'show', whole, '--json'])).out);
    expect(json.trials).toHaveLength(4);
    expect(json.best.trial).toBe(best.trial);
    expect(json.best.objective).toBe(best.objective);
    expect(json.counts).toEqual({ done: 4, pruned: 0, failed: 0, running: 0 });
  }, 60_000);

  it('lab compare <expDir> groups the runs by trial, each group labelled by its params', async () => {
    expect(whole).not.toBe('');
    const r = await lab(['compare', whole, '--no-plot', '--json', '--reps', '200']);
    expect(r.code).toBe(0);
    const result = JSON.parse(r.out) as { groups: { name: string; runs: { runId: string; score: number }[] }[]; options: { groupBy: string } };
    expect(result.options.groupBy).toBe('trial');
    const { records } = readExperiment(whole);
    expect(result.groups.map((g) => g.name)).toEqual(records.map((t) => `t${t.trial} learningRate=${Number((t.params.learningRate as number).toPrecision(4))} nSteps=${t.params.nSteps}`).sort());
    for (const g of result.groups) {
      const trial = records.find((t) => g.name.startsWith(`t${t.trial} `))!;
      expect(g.runs.map((x) => x.runId).sort()).toEqual(trial.seeds.map((s) => s.runId).sort());
      expect(g.runs.map((x) => x.score).sort()).toEqual(trial.seeds.map((s) => s.value).sort());
    }
    // --group-by still chooses: all 8 runs are one agent.
    const byAgent = JSON.parse((await lab(['compare', whole, '--no-plot', '--json', '--reps', '50', '--group-by', 'agent'])).out);
    expect(byAgent.groups.map((g: { name: string }) => g.name)).toEqual(['a2c']);
  }, 60_000);
});

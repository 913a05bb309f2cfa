/**
 * `lab sweep` input handling and reading: every shipped spec in experiments/ validates (one per agent on
 * CartPole-v1 and a GAN spec); bad input (malformed spec, unknown hyperparameter, empty search space, missing
 * file, unreachable Redis, a damaged experiment) gives one clear line, a non-zero exit and no experiment
 * directory; the experiment directory's reader (torn lines, duplicates, running trials); `lab sweep show`'s table
 * with running trials; the command that trains the best configuration alone.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import type { TrialRecord } from '../protocol/experiments.js';
import { readSpec } from '../sweep/spec.js';
import { trialBudget } from '../sweep/samplers.js';
import {
  appendTrialRecord,
  createExperimentDir,
  cutTornTrialLine,
  EXPERIMENT_FORMAT,
  experimentRunGroups,
  findExperiments,
  isExperimentDir,
  LOCK_FILE,
  lockExperiment,
  readExperiment,
  readTrialRecords,
  TRIALS_FILE,
  type ExperimentMeta,
} from '../sweep/experiment_files.js';
import { formatSweepShow, sweepShow, trainCommand } from '../cli/sweep.js';
import { keyValue } from '../cli/args.js';
import { LAB_VERSION } from '../lab/version.js';
import { freePort } from './redis_server.js';
import { LAB, runLab, type LabResult } from './lab_cli.js';

const EXPERIMENTS = fileURLToPath(new URL('../experiments/', import.meta.url));
const FIXTURE = fileURLToPath(new URL('./fixtures/experiments/a2c-cartpole-fx', import.meta.url));
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lab-sweep-cli-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** `lab <args>`, by default in this file's temporary directory. */
const lab = (args: string[], cwd = tmp): Promise<LabResult> => runLab(args, cwd);

function write(name: string, text: string): string {
  const file = path.join(tmp, name);
  fs.writeFileSync(file, text);
  return file;
}

const GOOD = `name: ok
run: { kind: rl, env: CartPole-v1, agent: a2c, steps: 1000 }
seeds: [1]
search:
  learningRate: { loguniform: [0.0003, 0.01] }
trials: 2
`;

describe('shipped specs', () => {
  const files = fs.readdirSync(EXPERIMENTS).filter((f) => /\.(ya?ml|json)$/.test(f));

  it('every spec in experiments/ validates, with a budget and a search over real hyperparameters', () => {
    expect(files.length).toBeGreaterThanOrEqual(5);
    for (const f of files) {
      const spec = readSpec(path.join(EXPERIMENTS, f));
      expect(spec.name, f).toBe(path.basename(f, path.extname(f)));
      expect(trialBudget(spec), f).toBeGreaterThan(0);
      expect(Object.keys(spec.search).length, f).toBeGreaterThan(0);
    }
  });

  it('one per agent on CartPole-v1, a TPE search for A2C (3 seeds, 30 trials, median pruner) and a GAN spec', () => {
    const specs = files.map((f) => readSpec(path.join(EXPERIMENTS, f)));
    const rl = specs.flatMap((s) => (s.run.kind === 'rl' && s.run.env === 'CartPole-v1' ? [s.run.agent] : []));
    expect(new Set(rl)).toEqual(new Set(['dqn', 'reinforce', 'a2c']));
    expect(specs.some((s) => s.run.kind === 'gan')).toBe(true);
    const tpe = readSpec(path.join(EXPERIMENTS, 'a2c-cartpole-tpe.yml'));
    expect(tpe).toMatchObject({ sampler: 'tpe', trials: 30, seeds: [1, 2, 3], pruner: { type: 'median' } });
    expect(Object.keys(tpe.search).sort()).toEqual(['entCoef', 'learningRate', 'nSteps']);
  });
});

describe('bad input: one line, a non-zero exit, no experiment directory', () => {
  const cases: [string, string | null, RegExp][] = [
    ['malformed.yml', 'name: bad\nrun: [ kind\n', /^lab: error: .*malformed\.yml: not valid YAML or JSON/],
    ['unknown.yml', GOOD.replace('learningRate:', 'learnRate:'), /^lab: error: .*unknown\.yml: search\.learnRate: unknown a2c hyperparameter 'learnRate'/],
    ['empty.yml', GOOD.replace(/search:\n.*\n/, 'search: {}\n'), /^lab: error: .*empty\.yml: search: search space is empty/],
    ['missing.yml', null, /^lab: error: .*missing\.yml/],
  ];
  for (const [name, text, message] of cases) {
    it(name, async () => {
      const file = text === null ? path.join(tmp, name) : write(name, text);
      const out = path.join(tmp, `out-${name}`);
      const r = await lab(['sweep', file, '--out', out]);
      expect(r.code).not.toBe(0);
      expect(r.out).toBe('');
      expect(r.err.trimEnd().split('\n')).toHaveLength(1);
      expect(r.err).toMatch(message);
      expect(fs.existsSync(out)).toBe(false);
    });
  }

  it('an unreachable Redis (--queue): one line naming it, nothing created', async () => {
    const port = await freePort();
    const out = path.join(tmp, 'out-queue');
    const r = await lab(['sweep', write('good.yml', GOOD), '--queue', `redis://127.0.0.1:${port}`, '--out', out]);
    expect(r.code).not.toBe(0);
    expect(r.err.trimEnd().split('\n')).toHaveLength(1);
    expect(r.err).toContain(`redis://127.0.0.1:${port}`);
    expect(fs.existsSync(out)).toBe(false);
  });

  it('neither a spec nor --resume, or both; --resume of a directory that is not an experiment', async () => {
    const none = await lab(['sweep']);
    expect(none.code).not.toBe(0);
    expect(none.err).toMatch(/^lab: error: give a spec file .* or --resume <expDir>\n$/);
    const both = await lab(['sweep', write('good.yml', GOOD), '--resume', tmp]);
    expect(both.err).toMatch(/^lab: error: give a spec file or --resume <expDir>, not both/);
    const notExp = await lab(['sweep', '--resume', tmp]);
    expect(notExp.code).not.toBe(0);
    expect(notExp.err).toBe(`lab: error: ${tmp} is not an experiment directory (no experiment.json)\n`);
  });

  it('a damaged experiment.json or trials.jsonl: the error names the file (and line); nothing is changed', async () => {
    const dir = path.join(tmp, 'damaged');
    fs.cpSync(FIXTURE, dir, { recursive: true });
    const trials = fs.readFileSync(path.join(dir, TRIALS_FILE), 'utf8');
    const lines = trials.split('\n');
    lines[1] = lines[1]!.slice(0, 40);
    fs.writeFileSync(path.join(dir, TRIALS_FILE), lines.join('\n'));
    const show = await lab(['sweep', 'show', dir]);
    expect(show.code).not.toBe(0);
    expect(show.err).toBe(`lab: error: trial table ${path.join(dir, TRIALS_FILE)} is damaged: line 2: not valid JSON\n`);
    const resume = await lab(['sweep', '--resume', dir]);
    expect(resume.err).toBe(show.err);
    expect(fs.readFileSync(path.join(dir, TRIALS_FILE), 'utf8')).toBe(lines.join('\n'));

    fs.writeFileSync(path.join(dir, 'experiment.json'), '{"format": "lab-experiment/1", "id": 3}');
    const meta = await lab(['sweep', 'show', dir]);
    expect(meta.err).toBe(`lab: error: experiment file ${path.join(dir, 'experiment.json')} is damaged: id: expected a string, got number\n`);
  });
});

describe('the experiment directory', () => {
  const spec = readSpec(path.join(EXPERIMENTS, 'a2c-cartpole.yml'));
  const meta = (id: string): ExperimentMeta => ({ format: EXPERIMENT_FORMAT, id, name: spec.name, createdAt: new Date().toISOString(), labVersion: LAB_VERSION, spec, specFile: 'a2c-cartpole.yml', queue: null });
  const record = (trial: number): TrialRecord => ({
    trial,
    params: { learningRate: 0.001 * (trial + 1), nSteps: 5 },
    state: 'done',
    objective: 100 + trial,
    interval: [90, 110],
    seeds: [
      { seed: 1, runId: `x-t${trial}-s1`, state: 'done', value: 100 },
      { seed: 2, runId: `x-t${trial}-s2`, state: 'done', value: 100 + 2 * trial },
    ],
    curve: [{ step: 1000, value: 50 }],
    startedAt: '2026-01-01T00:00:00.000Z',
    endedAt: '2026-01-01T00:01:00.000Z',
  });

  it('is created whole, refuses an existing one, and is found under a runs root', () => {
    const root = path.join(tmp, 'root');
    const dir = createExperimentDir(path.join(root, 'sweeps'), meta('e1'));
    expect(fs.readdirSync(dir).sort()).toEqual(['experiment.json', 'runs', 'trials.jsonl']);
    expect(fs.readdirSync(path.join(root, 'sweeps'))).toEqual(['e1']);
    expect(() => createExperimentDir(path.join(root, 'sweeps'), meta('e1'))).toThrow(`experiment directory ${dir} already exists`);
    createExperimentDir(root, meta('e2'));
    expect(findExperiments(root)).toEqual([path.join(root, 'e2'), path.join(root, 'sweeps', 'e1')]);
    expect(isExperimentDir(dir)).toBe(true);
    expect(isExperimentDir(root)).toBe(false);
    expect(readExperiment(dir)).toMatchObject({ meta: meta('e1') && { id: 'e1', spec }, records: [], running: [] });
  });

  it('a torn last line is ignored on read and cut before the next append; a trial recorded twice is damage', () => {
    const dir = createExperimentDir(tmp, meta('torn'));
    appendTrialRecord(dir, record(0));
    fs.appendFileSync(path.join(dir, TRIALS_FILE), JSON.stringify(record(1)).slice(0, 50));
    expect(readTrialRecords(dir).map((r) => r.trial)).toEqual([0]);
    appendTrialRecord(dir, record(2));
    expect(readTrialRecords(dir)).toEqual([record(0), record(2)]);
    expect(fs.readFileSync(path.join(dir, TRIALS_FILE), 'utf8').split('\n')).toHaveLength(3);
    // A whole last record without its newline is kept (and given one).
    fs.appendFileSync(path.join(dir, TRIALS_FILE), JSON.stringify(record(3)));
    expect(cutTornTrialLine(dir)).toBe(false);
    expect(readTrialRecords(dir).map((r) => r.trial)).toEqual([0, 2, 3]);
    appendTrialRecord(dir, record(2));
    expect(() => readTrialRecords(dir)).toThrow(`trial table ${path.join(dir, TRIALS_FILE)} is damaged: line 4: trial 2 is recorded twice`);
  });

  it('lists unfinished trials from their run directories: params from config.json, the last step from metrics.jsonl', () => {
    const { records, running } = readExperiment(FIXTURE);
    expect(records.map((r) => r.trial)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(running).toHaveLength(1);
    const t = running[0]!;
    expect(t.trial).toBe(6);
    expect(Object.keys(t.params).sort()).toEqual(['learningRate', 'nSteps']);
    const config = JSON.parse(fs.readFileSync(path.join(FIXTURE, 'runs', 'a2c-cartpole-fx-t0006-s1', 'config.json'), 'utf8'));
    expect(t.params.learningRate).toBe(config.hyperparameters.learningRate);
    expect(t.runs.map((r) => r.seed)).toEqual([1, 2]);
    for (const r of t.runs) {
      const events = fs.readFileSync(path.join(FIXTURE, 'runs', r.runId, 'metrics.jsonl'), 'utf8').trim().split('\n');
      expect(r.step).toBe(JSON.parse(events.at(-1)!).step);
    }
  });

  it('lab compare reads an experiment as its runs, each labelled by its trial (padded number and params)', () => {
    const { paths, trialOf } = experimentRunGroups([FIXTURE]);
    expect(paths).toHaveLength(14);
    expect(trialOf.get(path.join(FIXTURE, 'runs', 'a2c-cartpole-fx-t0003-s2'))).toMatch(/^t3 learningRate=[\d.]+ nSteps=(5|16)$/);
    expect(() => experimentRunGroups([createExperimentDir(tmp, meta('empty'))])).toThrow('the experiment has no runs yet');
  });
});

describe('lab sweep show', () => {
  it('prints finished and running trials, the counts and the best trial with its command', () => {
    const show = sweepShow(readExperiment(FIXTURE));
    expect(show.counts).toEqual({ done: 4, pruned: 1, failed: 1, running: 1 });
    expect(show.trials.map((t) => t.state)).toEqual(['done', 'done', 'done', 'pruned', 'done', 'failed', 'running']);
    const done = readExperiment(FIXTURE).records.filter((r) => r.state === 'done');
    const best = done.reduce((a, b) => (b.objective! > a.objective! ? b : a));
    expect(show.best).toMatchObject({ trial: best.trial, objective: best.objective });
    const text = formatSweepShow(show);
    const lines = text.split('\n');
    expect(lines[0]).toBe('a2c-cartpole (a2c-cartpole-fx): 6 of 8 trials finished (4 done, 1 pruned, 1 failed), 1 running');
    expect(lines.find((l) => l.startsWith('5 '))).toMatch(/\s-\s+failed$/);
    expect(lines.find((l) => l.startsWith('6 '))).toMatch(/running \(at \d+\/\d+\)$/);
    expect(text).toContain(`train it alone: lab train --env CartPole-v1 --agent a2c --steps 6000 --eval-every 1000 --eval-episodes 2 --set learningRate=${best.params.learningRate} --set nSteps=${best.params.nSteps} --seed 1`);
  });

  it('the training command quotes what a shell would read and gives values back as --set parses them', () => {
    const cmd = trainCommand({ kind: 'rl', env: 'FrozenLake-v1', agent: 'dqn', steps: 1000, preset: 'frozenlake', kw: { isSlippery: false, mapName: '8x8' }, set: { hidden: [64, 64] } }, { learningRate: 0.00123, loss: 'mse', doubleDqn: true }, 3);
    expect(cmd).toBe(
      "lab train --env FrozenLake-v1 --agent dqn --preset frozenlake --steps 1000 --kw isSlippery=false --kw mapName=8x8 --set 'hidden=[64,64]' --set learningRate=0.00123 --set loss=mse --set doubleDqn=true --seed 3",
    );
    for (const [arg, expected] of [
      ['hidden=[64,64]', { hidden: [64, 64] }],
      ['loss=mse', { loss: 'mse' }],
      ['doubleDqn=true', { doubleDqn: true }],
      ['mapName=8x8', { mapName: '8x8' }],
    ] as const) {
      expect(keyValue(arg)).toEqual(expected);
    }
    // A string that would parse as JSON (a number, true) stays a string: it is written as JSON.
    expect(trainCommand({ kind: 'gan', category: 'apple', iterations: 50 }, { mode: '5', flag: 'true' }, 1)).toBe(`lab gan train --category apple --iterations 50 --set 'mode="5"' --set 'flag="true"' --seed 1`);
    expect(trainCommand({ kind: 'go-alphazero', iterations: 20, set: { size: 5 } }, { simulations: 64 }, 2)).toBe('lab go train --iterations 20 --set size=5 --set simulations=64 --seed 2');
  });
});

describe('stopping a sweep', () => {
  it('SIGTERM: the running runs checkpoint and stop, no record for the unfinished trial, and the last lines say how to resume', async () => {
    const spec = write('stop.yml', GOOD.replace('steps: 1000', 'steps: 4000, evalEvery: 1000, evalEpisodes: 2').replace('trials: 2', 'trials: 3'));
    const out = path.join(tmp, 'out-stop');
    const child = spawn(process.execPath, [LAB, 'sweep', spec, '--workers', '1', '--out', out], { cwd: tmp, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    child.stdout.on('data', (d) => (stdout += d));
    const code = new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
    // Stop once the first trial has its record and the second has started.
    for (let i = 0; i < 600; i++) {
      await new Promise((r) => setTimeout(r, 50));
      const exp = fs.existsSync(out) ? fs.readdirSync(out).find((d) => !d.startsWith('.')) : undefined;
      if (exp && readTrialRecords(path.join(out, exp)).length >= 1 && readExperiment(path.join(out, exp)).running.length > 0) break;
    }
    child.kill('SIGTERM');
    expect(await code).toBe(0);
    const expDir = path.join(out, fs.readdirSync(out).find((d) => !d.startsWith('.'))!);
    const { records, running } = readExperiment(expDir);
    expect(records.map((r) => r.trial)).toEqual([0]);
    expect(running.map((t) => t.trial)).toEqual([1]);
    expect(fs.existsSync(path.join(expDir, 'runs', running[0]!.runs[0]!.runId, 'checkpoints', 'latest.json'))).toBe(true);
    expect(stdout).toContain('stopping: the running runs write a checkpoint and stop (SIGTERM again to quit at once)');
    expect(stdout).toContain(`stopped: 1 trial finished and kept; unfinished trial 1 (no record; its runs resume from their checkpoints). To continue: lab sweep --resume ${path.relative(tmp, expDir)}`);
  }, 60_000);
});

describe('one coordinator per experiment', () => {
  it('a live holder of coordinator.lock is refused, a dead one taken over, this process may claim twice', async () => {
    const spec = readSpec(path.join(EXPERIMENTS, 'a2c-cartpole.yml'));
    const dir = createExperimentDir(tmp, { format: EXPERIMENT_FORMAT, id: 'locked', name: spec.name, createdAt: new Date().toISOString(), labVersion: LAB_VERSION, spec, specFile: 'x.yml', queue: null });
    const lockFile = path.join(dir, LOCK_FILE);
    const release = lockExperiment(dir);
    expect(JSON.parse(fs.readFileSync(lockFile, 'utf8')).pid).toBe(process.pid);
    lockExperiment(dir)();
    expect(fs.existsSync(lockFile)).toBe(true);
    release();
    expect(fs.existsSync(lockFile)).toBe(false);

    // Another live process on this machine (the test runner's parent) holds it: refused, by the CLI too.
    fs.writeFileSync(lockFile, JSON.stringify({ pid: process.ppid, host: os.hostname(), since: '2026-01-01T00:00:00.000Z' }));
    expect(() => lockExperiment(dir)).toThrow(`experiment ${dir} is being run by process ${process.ppid} (since 2026-01-01T00:00:00.000Z): stop it first`);
    const r = await lab(['sweep', '--resume', dir]);
    expect(r.code).not.toBe(0);
    expect(r.err).toBe(`lab: error: experiment ${dir} is being run by process ${process.ppid} (since 2026-01-01T00:00:00.000Z): stop it first\n`);

    // A holder that is gone (kill -9) is taken over.
    const gone = spawn(process.execPath, ['-e', '0']);
    await new Promise((r) => gone.on('exit', r));
    fs.writeFileSync(lockFile, JSON.stringify({ pid: gone.pid, host: os.hostname(), since: '2026-01-01T00:00:00.000Z' }));
    lockExperiment(dir)();
    expect(fs.existsSync(lockFile)).toBe(false);
  }, 30_000);
});

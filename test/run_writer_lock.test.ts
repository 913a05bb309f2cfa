/**
 * One process trains a run at a time (RunStore.claimWriter, `<run>/.writer.lock`): a `lab train --resume` of a
 * run still training is refused in one line, `lab tensorboard` leaves a training run's logs alone, the lock of a
 * killed trainer is taken over, a finished run holds no lock, and the lock never travels with a run to a sweep's
 * coordinator.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { processIdentity } from '../lab/process.js';
import { RunStore, WRITER_LOCK } from '../lab/run_store.js';
import { packRunDir } from '../sweep/run_archive.js';
import { until } from './wait.js';

const LAB = fileURLToPath(new URL('../bin/lab.mjs', import.meta.url));
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lab-writer-lock-'));
const children: ChildProcess[] = [];
afterAll(() => {
  for (const c of children) c.kill('SIGKILL');
  fs.rmSync(tmp, { recursive: true, force: true });
});

function lab(args: string[]): { code: number | null; out: string; err: string } {
  const r = spawnSync(process.execPath, [LAB, ...args], { cwd: tmp, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('the writer lock of a run', () => {
  it('a run in training: resume refused, lab tensorboard refuses it; killed: the lock is taken over', async () => {
    const run = path.join(tmp, 'runs', 'busy');
    const trainer = spawn(process.execPath, [LAB, 'train', '--env', 'CartPole-v1', '--agent', 'a2c', '--steps', '5000000', '--checkpoint-every', '2000', '--eval-every', '0', '--backend', 'cpu', '--out', 'runs', '--run-id', 'busy'], { cwd: tmp, stdio: 'ignore' });
    children.push(trainer);
    const lockFile = path.join(run, WRITER_LOCK);
    await until('a checkpoint of the training run', () => fs.existsSync(path.join(run, 'checkpoints', 'latest.json')), 60_000, { everyMs: 100 });
    const holder = JSON.parse(fs.readFileSync(lockFile, 'utf8')) as { pid: number; host: string; since: string };
    expect(holder).toMatchObject({ pid: trainer.pid, host: os.hostname() });
    expect(RunStore.writer(run)).toEqual(holder);

    // A second trainer is refused before it touches anything.
    const metricsBefore = fs.statSync(path.join(run, 'metrics.jsonl')).size;
    const resume = lab(['train', '--resume', run]);
    expect(resume.code).toBe(1);
    expect(resume.err).toBe(`lab: error: run ${run} is being trained by process ${trainer.pid} (since ${holder.since}): let it finish, or stop it first (Ctrl-C there, or kill ${trainer.pid}; a stopped run resumes from its checkpoint)\n`);
    expect(fs.statSync(path.join(run, 'metrics.jsonl')).size).toBeGreaterThanOrEqual(metricsBefore);
    // lab tensorboard would replace the files the trainer appends to.
    const events = fs.readdirSync(run).filter((f) => f.startsWith('events.out.tfevents.'));
    const tb = lab(['tensorboard', run]);
    expect(tb.code).toBe(1);
    expect(tb.err).toContain(`it is still training (process ${trainer.pid}, since ${holder.since}), and writes its own logs as it goes`);
    expect(fs.readdirSync(run).filter((f) => f.startsWith('events.out.tfevents.'))).toEqual(events);

    // kill -9: the lock stays behind, names a process that is gone, and is taken over.
    trainer.kill('SIGKILL');
    await new Promise((r) => trainer.once('exit', r));
    expect(fs.existsSync(lockFile)).toBe(true);
    expect(RunStore.writer(run)).toBeNull();
    expect(lab(['tensorboard', run]).code).toBe(0);
    const store = RunStore.open(run);
    store.claimWriter();
    expect(JSON.parse(fs.readFileSync(lockFile, 'utf8')).pid).toBe(process.pid);
    store.releaseWriter();
    expect(fs.existsSync(lockFile)).toBe(false);
  }, 120_000);

  it('another machine holding the lock is named, with the file to remove if that machine is gone', () => {
    const run = path.join(tmp, 'runs', 'remote');
    fs.mkdirSync(run, { recursive: true });
    fs.writeFileSync(path.join(run, 'config.json'), '{"kind":"rl"}\n');
    fs.writeFileSync(path.join(run, WRITER_LOCK), JSON.stringify({ pid: 4242, host: 'gpu-box-7', since: '2026-12-01T00:00:00.000Z' }));
    expect(() => RunStore.open(run).claimWriter()).toThrow(
      `run ${run} is being trained by process 4242 on gpu-box-7 (since 2026-12-01T00:00:00.000Z): stop it first, or remove ${path.join(run, WRITER_LOCK)} if that machine is gone`,
    );
    // The lock is the training process's, not the run's: a run shipped to a sweep's coordinator leaves it behind.
    expect(packRunDir(run).manifest.files.map((f) => f.path)).toEqual(['config.json']);
  });

  it('a pid reused by another process (a reboot, a restarted container) does not hold the lock', () => {
    const run = path.join(tmp, 'runs', 'reused');
    fs.mkdirSync(run, { recursive: true });
    fs.writeFileSync(path.join(run, 'config.json'), '{"kind":"rl"}\n');
    const lockFile = path.join(run, WRITER_LOCK);
    const live = { pid: process.ppid, host: os.hostname(), since: '2026-12-01T00:00:00.000Z' };
    const identity = processIdentity(process.ppid);
    expect(identity).toMatch(/^[0-9a-f-]+:\d+$/);
    // The same process (its identity matches), and a lock from before identities were written: both held.
    for (const holder of [{ ...live, identity }, live]) {
      fs.writeFileSync(lockFile, JSON.stringify(holder));
      expect(RunStore.writer(run)).toEqual(holder);
      expect(() => RunStore.open(run).claimWriter()).toThrow(`is being trained by process ${process.ppid}`);
    }
    // The pid is alive but is another process now: the lock is stale and taken over.
    fs.writeFileSync(lockFile, JSON.stringify({ ...live, identity: `${identity!.split(':')[0]}:1` }));
    expect(RunStore.writer(run)).toBeNull();
    const store = RunStore.open(run);
    store.claimWriter();
    expect(JSON.parse(fs.readFileSync(lockFile, 'utf8'))).toMatchObject({ pid: process.pid, identity: processIdentity(process.pid) });
    store.releaseWriter();
  });

  it('a finished run holds no lock; resuming it while nobody trains it works', () => {
    const train = lab(['train', '--env', 'CartPole-v1', '--agent', 'dqn', '--steps', '300', '--eval-every', '150', '--eval-episodes', '2', '--backend', 'cpu', '--out', 'runs', '--run-id', 'done']);
    expect(train.code, train.err).toBe(0);
    const run = path.join(tmp, 'runs', 'done');
    expect(fs.existsSync(path.join(run, WRITER_LOCK))).toBe(false);
    const again = lab(['train', '--resume', run]);
    expect(again.code, again.err).toBe(0);
    expect(again.out).toContain('is already at its budget');
    expect(fs.existsSync(path.join(run, WRITER_LOCK))).toBe(false);
  }, 60_000);
});

/**
 * Sweeps across machines (sweep/queue.ts, sweep/run_archive.ts, `lab worker`): a coordinator (`lab sweep
 * --queue`) and two `lab worker` processes in separate working directories, one of them killed -9 mid-run, give
 * the same trial table as the same spec run locally, with every run directory complete and the taken-over run
 * equal to its local twin; an unreachable or evicting Redis, a queue of another sweep and a worker of another lab
 * version are refused with one line and lose nothing. Each file starts its own redis-server (test/redis_server.ts).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Queue, type ConnectionOptions } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunJob, RunJobResult, TrialRecord } from '../protocol/experiments.js';
import { LAB_VERSION } from '../lab/version.js';
import { readRunMetrics } from '../lab/run_files.js';
import { checkArchivePath, packRunDir, unpackRunArchive } from '../sweep/run_archive.js';
import { checkRedisServer, checkWorkerVersion, CONNECT_TIMEOUT_MS, connectRedis, jobIdOf, parseRedisUrl, QUEUE_NAME, QueueDispatcher, QueueWorker, type RunPool } from '../sweep/queue.js';
import { runExperiment } from '../sweep/coordinator.js';
import { createExperimentDir, EXPERIMENT_FORMAT, RUNS_DIR, type ExperimentMeta } from '../sweep/experiment_files.js';
import { parseSpec } from '../sweep/spec.js';
import { freePort, skipRedisTests, startRedis, type TestRedis } from './redis_server.js';
import { until } from './wait.js';

const LAB = fileURLToPath(new URL('../bin/lab.mjs', import.meta.url));
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lab-sweep-queue-'));
const children = new Set<ChildProcess>();

afterAll(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  fs.rmSync(tmp, { recursive: true, force: true });
});

interface Lab {
  child: ChildProcess;
  /** stdout and stderr so far. */
  out: () => string;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null; out: string; seconds: number }>;
}

/** Starts `lab <args>` in `cwd`. */
function lab(args: string[], cwd = tmp): Lab {
  const started = performance.now();
  const child = spawn(process.execPath, [LAB, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null; out: string; seconds: number }>((resolve) =>
    child.on('exit', (code, signal) => {
      children.delete(child);
      resolve({ code, signal, out, seconds: (performance.now() - started) / 1000 });
    }),
  );
  return { child, out: () => out, exit };
}

const SPEC = `name: qsweep
run: { kind: rl, env: CartPole-v1, agent: a2c, steps: 3000, evalEvery: 1000, evalEpisodes: 3 }
seeds: [1, 2]
search:
  learningRate: { loguniform: [0.0003, 0.01] }
  nSteps: { choice: [5, 16] }
sampler: random
samplerSeed: 7
trials: 2
objective: { metric: eval, reduce: iqm-last, direction: maximize }
`;
const specFile = path.join(tmp, 'qsweep.yml');
fs.writeFileSync(specFile, SPEC);

/** The one experiment directory under `out`. */
function experimentDir(out: string): string {
  const dirs = fs.readdirSync(out).filter((d) => fs.existsSync(path.join(out, d, 'experiment.json')));
  expect(dirs).toHaveLength(1);
  return path.join(out, dirs[0]!);
}

function trials(expDir: string): TrialRecord[] {
  return fs
    .readFileSync(path.join(expDir, 'trials.jsonl'), 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as TrialRecord);
}

/** metrics.jsonl without what depends on the clock. */
function numbers(runDir: string): unknown[] {
  return readRunMetrics(runDir)
    .filter((e) => e.type !== 'checkpoint')
    .map((e) => Object.fromEntries(Object.entries(e).filter(([k]) => !/^(time|seconds|sps)$|Seconds$/.test(k))));
}

// ---------------------------------------------------------------------------------------------------------------

describe('run archives', () => {
  const src = path.join(tmp, 'archive-src');

  beforeAll(() => {
    fs.mkdirSync(path.join(src, 'checkpoints', 'step-0000000100'), { recursive: true });
    fs.mkdirSync(path.join(src, 'empty'), { recursive: true });
    fs.writeFileSync(path.join(src, 'config.json'), '{"kind":"rl"}\n');
    fs.writeFileSync(path.join(src, 'checkpoints', 'latest.json'), '{"unit":"steps","at":100,"dir":"step-0000000100"}');
    fs.writeFileSync(path.join(src, 'checkpoints', 'step-0000000100', 'weights.bin'), Buffer.from(Array.from({ length: 3000 }, (_, i) => (i * 7) % 256)));
    fs.writeFileSync(path.join(src, 'metrics.jsonl'), '');
    // An atomic write in progress: not part of the run.
    fs.writeFileSync(path.join(src, '.metrics.jsonl.tmp-123-abc'), 'half');
  });

  it('round-trips a run directory through small chunks, empty files and directories included, temporaries left out', async () => {
    const archive = packRunDir(src, { chunkBytes: 1000 });
    expect(archive.manifest.chunks).toBe(4); // 3,064 bytes in chunks of 1000
    expect(archive.manifest.files.map((f) => f.path)).toEqual(['checkpoints/latest.json', 'checkpoints/step-0000000100/weights.bin', 'config.json', 'metrics.jsonl']);
    expect(archive.manifest.dirs).toEqual(['checkpoints', 'checkpoints/step-0000000100', 'empty']);
    // JSON-safe: survives a round trip through JSON text.
    const copy = JSON.parse(JSON.stringify(archive)) as typeof archive;
    const dst = path.join(tmp, 'archive-dst');
    fs.mkdirSync(dst);
    fs.writeFileSync(path.join(dst, 'stale.txt'), 'replaced whole');
    await unpackRunArchive(copy, dst);
    expect(fs.readdirSync(dst).sort()).toEqual(['checkpoints', 'config.json', 'empty', 'metrics.jsonl']);
    expect(fs.readFileSync(path.join(dst, 'checkpoints', 'step-0000000100', 'weights.bin')).equals(fs.readFileSync(path.join(src, 'checkpoints', 'step-0000000100', 'weights.bin')))).toBe(true);
    expect(fs.readdirSync(tmp).filter((f) => f.startsWith('.archive-dst'))).toEqual([]);
  });

  it('refuses a damaged archive or a path out of the directory, and writes nothing', async () => {
    const archive = packRunDir(src, { chunkBytes: 1000 });
    const dst = path.join(tmp, 'archive-refused');
    const flipped = Buffer.from(archive.chunks[1]!, 'base64');
    flipped[5] ^= 1;
    await expect(unpackRunArchive({ ...archive, chunks: archive.chunks.map((c, i) => (i === 1 ? flipped.toString('base64') : c)) }, dst)).rejects.toThrow(/SHA-256/);
    await expect(unpackRunArchive({ ...archive, chunks: archive.chunks.slice(1) }, dst)).rejects.toThrow(/3 chunks, the manifest says 4/);
    const escaping = { ...archive, manifest: { ...archive.manifest, files: archive.manifest.files.map((f, i) => (i === 2 ? { ...f, path: '../../evil.json' } : f)) } };
    await expect(unpackRunArchive(escaping, dst)).rejects.toThrow(/"\.\.\/\.\.\/evil\.json" leads outside the run directory/);
    expect(() => checkArchivePath('/etc/passwd')).toThrow(/leads outside/);
    expect(fs.existsSync(dst)).toBe(false);
    expect(fs.existsSync(path.join(tmp, '..', 'evil.json'))).toBe(false);
  });
});

describe('Redis checks', () => {
  it('refuses Redis older than 5 and any eviction policy but noeviction, in one line', () => {
    expect(() => checkRedisServer({ version: '4.0.9', maxmemoryPolicy: 'noeviction' }, 'redis://h:1')).toThrow(/^Redis at redis:\/\/h:1 is version 4\.0\.9; BullMQ needs Redis 5 or newer/);
    expect(() => checkRedisServer({ version: '7.0.15', maxmemoryPolicy: 'allkeys-lru' }, 'redis://h:1')).toThrow(/maxmemory-policy allkeys-lru: .*queues need noeviction/);
    expect(() => checkRedisServer({ version: '5.0.0', maxmemoryPolicy: 'noeviction' }, 'redis://h:1')).not.toThrow();
    expect(() => parseRedisUrl('http://h:1')).toThrow(/not a redis:\/\/ URL/);
    expect(() => parseRedisUrl('redis://h:1/x')).toThrow(/database number/);
  });

  it('refuses a worker of another lab version', () => {
    expect(() => checkWorkerVersion({ experimentId: 'e1', labVersion: '9.9.9' }, LAB_VERSION, 'redis://:secret@h:1')).toThrow(
      new RegExp(`^the sweep on redis://:\\*\\*\\*@h:1 \\(experiment e1\\) runs lab 9\\.9\\.9; this worker is lab ${LAB_VERSION.replace(/\./g, '\\.')}: run the same lab version`),
    );
    expect(() => checkWorkerVersion({ experimentId: 'e1', labVersion: LAB_VERSION }, LAB_VERSION, 'redis://h:1')).not.toThrow();
  });
});

describe.skipIf(skipRedisTests)('sweeps through Redis', () => {
  let redis: TestRedis;
  let client: Redis;

  beforeAll(async () => {
    redis = await startRedis();
    client = new Redis(redis.url);
  });
  afterAll(async () => {
    client?.disconnect();
    await redis?.stop();
  });

  it('unreachable Redis: one clear line within seconds, exit ≠ 0, no experiment directory (coordinator and worker)', async () => {
    const url = `redis://127.0.0.1:${await freePort()}`;
    const out = path.join(tmp, 'unreachable');
    const [sweep, worker] = await Promise.all([lab(['sweep', specFile, '--queue', url, '--out', out]).exit, lab(['worker', '--queue', url, '--work-dir', path.join(tmp, 'w-unreachable')]).exit]);
    for (const r of [sweep, worker]) {
      expect(r.code, r.out).not.toBe(0);
      expect(r.out.trim()).toMatch(new RegExp(`^lab: error: cannot reach Redis at ${url.replace(/[/.]/g, '\\$&')}: .*ECONNREFUSED`));
      expect(r.out.trim().split('\n')).toHaveLength(1);
    }
    expect(fs.existsSync(out) ? fs.readdirSync(out) : []).toEqual([]);
  });

  it('a server that accepts but never answers counts as unreachable within a few seconds', async () => {
    const silent = net.createServer(() => {});
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const url = `redis://127.0.0.1:${(silent.address() as net.AddressInfo).port}`;
    const started = performance.now();
    try {
      await expect(connectRedis(url)).rejects.toThrow(new RegExp(`^cannot reach Redis at ${url.replace(/[/.]/g, '\\$&')}: `));
      expect((performance.now() - started) / 1000).toBeLessThan(CONNECT_TIMEOUT_MS / 1000 + 2);
    } finally {
      silent.close();
    }
  });

  it('a Redis that may evict keys is refused, with what to set', async () => {
    const evicting = await startRedis(['--maxmemory-policy', 'allkeys-lru']);
    try {
      const r = await lab(['worker', '--queue', evicting.url, '--work-dir', path.join(tmp, 'w-evicting')]).exit;
      expect(r.code).not.toBe(0);
      expect(r.out.trim()).toMatch(/^lab: error: Redis at redis:\/\/127\.0\.0\.1:\d+ has maxmemory-policy allkeys-lru: .*config set maxmemory-policy noeviction\)$/);
    } finally {
      await evicting.stop();
    }
  });

  /** The reference: the same spec with local worker processes (run once). */
  let reference: Promise<string> | null = null;
  const localReference = (): Promise<string> =>
    (reference ??= (async () => {
      const localOut = path.join(tmp, 'local');
      const local = await lab(['sweep', specFile, '--workers', '2', '--out', localOut]).exit;
      expect(local.code, local.out).toBe(0);
      return experimentDir(localOut);
    })());
  const byTrial = (ts: TrialRecord[]) => ts.slice().sort((x, y) => x.trial - y.trial).map((t) => ({ params: t.params, objective: t.objective, state: t.state, values: t.seeds.map((s) => s.value) }));

  it('coordinator + two workers in their own directories, one killed -9 mid-run: the local table, every run complete', async () => {
    const localDir = await localReference();

    const dirs = ['wa', 'wb'].map((d) => path.join(tmp, d));
    for (const d of dirs) fs.mkdirSync(d);
    const [a, b] = dirs.map((cwd) => lab(['worker', '--queue', redis.url, '--concurrency', '1', '--work-dir', 'work'], cwd)) as [Lab, Lab];
    const queueOut = path.join(tmp, 'queued');
    const sweep = lab(['sweep', specFile, '--queue', redis.url, '--out', queueOut]);
    // Kill worker A once its run has shipped a checkpoint to Redis.
    const runId = await until('worker A to start a run', () => /run (\S+): starting/.exec(a.out())?.[1], 60_000);
    const expId = runId.replace(/-t\d{4}-s\d+$/, '');
    const shippedAt = await until('a shipped checkpoint of ' + runId, async () => {
      const at = await client.hget(`lab:sweep:${expId}:snapshot:${runId}`, 'at');
      return at !== null && Number(at) > 0 ? Number(at) : null;
    }, 60_000);
    a.child.kill('SIGKILL');
    await a.exit;
    expect(shippedAt).toBeLessThan(3000);

    const done = await sweep.exit;
    expect(done.code, done.out).toBe(0);
    // B took A's run over from the shipped checkpoint (not from scratch).
    expect(b.out()).toMatch(new RegExp(`run ${runId}: resuming from the checkpoint shipped at \\d+`));
    b.child.kill('SIGTERM');
    const bExit = await b.exit;
    expect(bExit.code, bExit.out).toBe(0);

    const queueDir = experimentDir(queueOut);
    const queued = trials(queueDir);
    const localTrials = trials(localDir);
    expect(queued.map((t) => t.trial).sort()).toEqual([0, 1]); // no trial twice
    expect(byTrial(queued)).toEqual(byTrial(localTrials));
    expect(queued.every((t) => t.state === 'done' && t.objective !== null)).toBe(true);

    // Every run directory is whole, as a local run's, and each equals its local twin (the taken-over one too).
    const queuedRuns = fs.readdirSync(path.join(queueDir, 'runs')).sort();
    expect(queuedRuns).toHaveLength(4);
    expect(queuedRuns.filter((r) => r.startsWith('.'))).toEqual([]);
    const localRuns = fs.readdirSync(path.join(localDir, 'runs')).sort();
    for (const [i, r] of queuedRuns.entries()) {
      const q = path.join(queueDir, 'runs', r);
      const l = path.join(localDir, 'runs', localRuns[i]!);
      for (const part of ['config.json', 'metrics.jsonl', 'policy', 'best_policy', 'replays', 'checkpoints/latest.json']) expect(fs.existsSync(path.join(q, part)), `${r}/${part}`).toBe(true);
      expect(JSON.parse(fs.readFileSync(path.join(q, 'checkpoints', 'latest.json'), 'utf8')).at).toBe(3000);
      expect(numbers(q), r).toEqual(numbers(l));
      expect(fs.readdirSync(path.join(q, 'replays')).sort()).toEqual(fs.readdirSync(path.join(l, 'replays')).sort());
      expect(fs.readFileSync(path.join(q, 'policy', 'weights.bin')).equals(fs.readFileSync(path.join(l, 'policy', 'weights.bin'))), `${r} policy`).toBe(true);
    }
    // Nothing left in Redis but the finished jobs: no snapshots, no uncollected results; workers' copies removed.
    expect(await client.keys('lab:sweep:*:*')).toEqual([]);
    expect(fs.readdirSync(path.join(tmp, 'wb', 'work', path.basename(queueDir), 'runs'))).toEqual([]);
  }, 110_000);

  it('coordinator killed -9: the workers go on, --resume collects their runs without queueing any twice', async () => {
    const localDir = await localReference();
    await client.flushdb();
    const cwd = path.join(tmp, 'wc');
    fs.mkdirSync(cwd);
    const worker = lab(['worker', '--queue', redis.url, '--concurrency', '2', '--work-dir', 'work'], cwd);
    const out = path.join(tmp, 'resumed');
    const first = lab(['sweep', specFile, '--queue', redis.url, '--out', out]);
    // Killed once one run is back in the experiment directory and the others are not.
    const expDir = await until('a collected run', () => {
      const dir = fs.existsSync(out) ? fs.readdirSync(out).find((d) => !d.startsWith('.')) : undefined;
      return dir && fs.readdirSync(path.join(out, dir, 'runs')).some((r) => !r.startsWith('.')) ? path.join(out, dir) : null;
    }, 60_000);
    first.child.kill('SIGKILL');
    await first.exit;
    expect(fs.readdirSync(path.join(expDir, 'runs')).length).toBeLessThan(4);

    const resumed = await lab(['sweep', '--resume', expDir, '--queue', redis.url]).exit;
    expect(resumed.code, resumed.out).toBe(0);
    expect(resumed.out).toMatch(/waiting up to \d+ s for its heartbeat to expire/);
    expect(byTrial(trials(expDir))).toEqual(byTrial(trials(localDir)));
    expect(fs.readdirSync(path.join(expDir, 'runs')).filter((r) => !r.startsWith('.'))).toHaveLength(4);
    // Each run was one job, taken once.
    const queue = new Queue(QUEUE_NAME, { connection: parseConnection(redis.url) });
    try {
      expect(await queue.getJobCounts('completed', 'waiting', 'active', 'failed')).toEqual({ completed: 4, waiting: 0, active: 0, failed: 0 });
    } finally {
      await queue.close();
    }
    expect(worker.out().match(/: starting/g)).toHaveLength(4);
    expect(await client.keys('lab:sweep:*:*')).toEqual([]);
    worker.child.kill('SIGTERM');
    expect((await worker.exit).code).toBe(0);
  }, 90_000);

  it('a queue that holds runs of another sweep is refused, and keeps them', async () => {
    await client.flushdb();
    const connection = parseConnection(redis.url);
    const queue = new Queue(QUEUE_NAME, { connection });
    try {
      await client.set('lab:sweep:owner', JSON.stringify({ experimentId: 'other-sweep', labVersion: LAB_VERSION, host: 'elsewhere', pid: 1, since: new Date().toISOString() }));
      await queue.add('run', fakeJob('other-sweep', LAB_VERSION), { jobId: jobIdOf('other-sweep', 'other-sweep-t0000-s1') });
      const out = path.join(tmp, 'refused');
      const r = await lab(['sweep', specFile, '--queue', redis.url, '--out', out]).exit;
      expect(r.code).not.toBe(0);
      expect(r.out.trim()).toMatch(/^lab: error: the queue on redis:\/\/127\.0\.0\.1:\d+ holds 1 unfinished run of sweep other-sweep .*resume that sweep/);
      expect(fs.existsSync(out) ? fs.readdirSync(out) : []).toEqual([]);
      expect(await queue.getJobCounts('waiting')).toEqual({ waiting: 1 });
      expect(JSON.parse((await client.get('lab:sweep:owner'))!).experimentId).toBe('other-sweep');
    } finally {
      await queue.close();
    }
  });

  it('a worker of another lab version refuses, in one line, and leaves the jobs in the queue', async () => {
    await client.flushdb();
    const queue = new Queue(QUEUE_NAME, { connection: parseConnection(redis.url) });
    try {
      // The queue's sweep was started by another version: `lab worker` refuses before it takes anything.
      await client.set('lab:sweep:owner', JSON.stringify({ experimentId: 'old-sweep', labVersion: '0.0.1-old', host: 'h', pid: 1, since: new Date().toISOString() }));
      await queue.add('run', fakeJob('old-sweep', '0.0.1-old'), { jobId: jobIdOf('old-sweep', 'old-sweep-t0000-s1') });
      const r = await lab(['worker', '--queue', redis.url, '--work-dir', path.join(tmp, 'w-old')]).exit;
      expect(r.code).not.toBe(0);
      expect(r.out.trim()).toMatch(new RegExp(`^lab: error: the sweep on redis://127\\.0\\.0\\.1:\\d+ \\(experiment old-sweep\\) runs lab 0\\.0\\.1-old; this worker is lab ${LAB_VERSION.replace(/\./g, '\\.')}`));
      expect(await queue.getJobCounts('waiting', 'active', 'failed')).toEqual({ waiting: 1, active: 0, failed: 0 });

      // A job of another version met after the check (the owner changed under a running worker): put back untouched.
      await client.set('lab:sweep:owner', JSON.stringify({ experimentId: 'old-sweep', labVersion: LAB_VERSION, host: 'h', pid: 1, since: new Date().toISOString() }));
      const trained: string[] = [];
      const pool: RunPool = {
        run: (job) => {
          trained.push(job.runId);
          return Promise.reject(new Error('not expected'));
        },
        close: () => Promise.resolve(),
      };
      const worker = await QueueWorker.start({ url: redis.url, concurrency: 1, workDir: path.join(tmp, 'w-old2'), pool });
      await expect(worker.done).rejects.toThrow(/comes from lab 0\.0\.1-old; this worker is lab .*the job is back in the queue/);
      expect(trained).toEqual([]);
      expect(await queue.getJobCounts('waiting', 'active', 'failed', 'completed')).toEqual({ waiting: 1, active: 0, failed: 0, completed: 0 });
      const job = await queue.getJob(jobIdOf('old-sweep', 'old-sweep-t0000-s1'));
      expect((job!.data as RunJob).labVersion).toBe('0.0.1-old');
    } finally {
      await queue.close();
    }
  });

  it("the coordinator hears each run's progress from the workers through the queue (QueueDispatcher onProgress)", async () => {
    await client.flushdb();
    const reports: [runId: string, done: number, total: number][] = [];
    const spec = parseSpec(SPEC, specFile);
    const out = path.join(tmp, 'progress-out');
    const meta: ExperimentMeta = { format: EXPERIMENT_FORMAT, id: 'qprogress', name: spec.name, createdAt: new Date().toISOString(), labVersion: LAB_VERSION, spec, specFile, queue: { url: redis.url, name: QUEUE_NAME } };
    const dispatcher = await QueueDispatcher.connect({ url: redis.url, experimentId: meta.id, runsDir: path.join(out, meta.id, RUNS_DIR), labVersion: LAB_VERSION, onProgress: (runId, done, total) => reports.push([runId, done, total]) });
    fs.mkdirSync(path.join(tmp, 'wp'));
    const worker = lab(['worker', '--queue', redis.url, '--concurrency', '2', '--work-dir', 'work'], path.join(tmp, 'wp'));
    try {
      const outcome = await runExperiment({ expDir: createExperimentDir(out, meta), spec, dispatcher });
      expect(outcome.records).toHaveLength(2);
    } finally {
      await dispatcher.close();
      worker.child.kill('SIGTERM');
      await worker.exit;
    }
    // Every run reported, in env steps of its 3,000, ending at 3,000; each run's reports never go back.
    const runIds = [...new Set(reports.map((r) => r[0]))].sort();
    expect(runIds).toEqual(['qprogress-t0000-s1', 'qprogress-t0000-s2', 'qprogress-t0001-s1', 'qprogress-t0001-s2']);
    for (const runId of runIds) {
      const mine = reports.filter((r) => r[0] === runId);
      expect(mine.every((r) => r[2] === 3000 && r[1] >= 0 && r[1] <= 3000)).toBe(true);
      expect(mine.at(-1)![1]).toBe(3000);
      expect(mine.every((r, i) => i === 0 || r[1] >= mine[i - 1]![1])).toBe(true);
    }
  }, 90_000);

  it("a plug-in sweep: a worker uses its own --import copy of the module where the sweep's path does not exist", async () => {
    await client.flushdb();
    // The example agent, copied to the sweep's place and to the worker's (its lab import made absolute).
    const index = pathToFileURL(fileURLToPath(new URL('../index.ts', import.meta.url))).href;
    const source = fs.readFileSync(fileURLToPath(new URL('../examples/expected_sarsa_agent.ts', import.meta.url)), 'utf8').replace("'../index.js'", JSON.stringify(index));
    fs.writeFileSync(path.join(tmp, 'package.json'), '{ "type": "module" }\n');
    const [sweepCopy, workerCopy] = ['plug-sweep', 'plug-worker'].map((d) => {
      fs.mkdirSync(path.join(tmp, d));
      fs.writeFileSync(path.join(tmp, d, 'sarsa.ts'), source);
      return path.join(tmp, d, 'sarsa.ts');
    }) as [string, string];
    const spec = path.join(tmp, 'plug.yml');
    fs.writeFileSync(spec, `name: plug\nrun: { kind: rl, env: FrozenLake-v1, agent: expected-sarsa, steps: 1500, evalEvery: 1500, evalEpisodes: 3, import: ${JSON.stringify(sweepCopy)} }\nseeds: [1, 2]\nsearch:\n  learningRate: { choice: [0.1] }\nsampler: grid\n`);
    const out = path.join(tmp, 'plug-out');
    const sweep = lab(['sweep', spec, '--queue', redis.url, '--out', out]);
    const queue = new Queue(QUEUE_NAME, { connection: parseConnection(redis.url) });
    try {
      await until('queued runs', async () => {
        if (sweep.child.exitCode !== null) throw new Error(`the sweep ended first: ${sweep.out()}`);
        return (await queue.getJobCounts('waiting')).waiting === 2;
      }, 60_000);
    } finally {
      await queue.close();
    }
    // The sweep's copy is gone from "this machine": the worker's own copy must serve.
    fs.rmSync(sweepCopy);
    const worker = lab(['worker', '--queue', redis.url, '--concurrency', '1', '--work-dir', 'work', '--import', workerCopy], path.join(tmp, 'plug-worker'));
    const done = await sweep.exit;
    worker.child.kill('SIGTERM');
    await worker.exit;
    expect(done.code, done.out + worker.out()).toBe(0);
    const runsDir = path.join(experimentDir(out), 'runs');
    const runs = fs.readdirSync(runsDir).filter((r) => !r.startsWith('.'));
    expect(runs).toHaveLength(2);
    for (const run of runs) expect(JSON.parse(fs.readFileSync(path.join(runsDir, run, 'config.json'), 'utf8')).imports.map((r: { module: string }) => r.module)).toEqual([workerCopy]);
  }, 90_000);
});

function parseConnection(url: string): ConnectionOptions {
  const u = new URL(url);
  return { host: u.hostname, port: Number(u.port) };
}

function fakeJob(experimentId: string, labVersion: string): RunJob & { result?: RunJobResult } {
  return {
    experimentId,
    labVersion,
    trial: 0,
    seed: 1,
    runId: `${experimentId}-t0000-s1`,
    run: { kind: 'rl', env: 'CartPole-v1', agent: 'a2c', steps: 1000 },
    params: {},
    objective: { metric: 'eval', reduce: 'iqm-last', direction: 'maximize' },
    prune: null,
  };
}

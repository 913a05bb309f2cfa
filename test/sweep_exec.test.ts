/**
 * Running one trial × seed (sweep/run_job.ts executeRunJob) in this process and in local worker processes
 * (sweep/local_pool.ts): the same job gives the same numbers everywhere, a run killed mid-way resumes to the
 * same result, the pruner stops a run at its first evaluation past the warm-up, a failing job fails alone, the
 * pool keeps to its size, and its workers leave with their parent.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { RlRunTemplate, RunJob, RunJobResult } from '../protocol/experiments.js';
import { LAB_VERSION } from '../lab/version.js';
import { readRunMetrics } from '../lab/run_files.js';
import { RunStore, type RunConfigBase } from '../lab/run_store.js';
import { executeRunJob, RunStoppedError } from '../sweep/run_job.js';
import { LocalPool } from '../sweep/local_pool.js';
import { LocalDispatcher } from '../sweep/dispatcher.js';
import { startLabServer } from '../server/app.js';
import { tf } from '../lab/compute.js';
import { until } from './wait.js';

/** Worker processes start in seconds on a busy 2-core machine; each test trains several tiny runs. */
const SLOW = 120_000;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lab-sweep-exec-'));
const pools: LocalPool[] = [];
afterAll(async () => {
  await Promise.all(pools.map((p) => p.close()));
  fs.rmSync(tmp, { recursive: true, force: true });
});

function pool(workers: number): LocalPool {
  const p = new LocalPool({ workers });
  pools.push(p);
  return p;
}

/** A tiny A2C CartPole run: 3000 steps, an evaluation every 1000, a checkpoint every 300. */
function rl(overrides: Partial<RlRunTemplate> = {}): RlRunTemplate {
  return { kind: 'rl', env: 'CartPole-v1', agent: 'a2c', steps: 3000, evalEvery: 1000, evalEpisodes: 3, ...overrides };
}

function job(runId: string, overrides: Partial<RunJob> = {}): RunJob {
  return {
    experimentId: 'exec-test',
    labVersion: LAB_VERSION,
    trial: 0,
    seed: 3,
    runId,
    run: rl(),
    params: { learningRate: 0.002, nSteps: 8 },
    objective: { metric: 'eval', reduce: 'iqm-last', direction: 'maximize' },
    prune: null,
    ...overrides,
  };
}

/** metrics.jsonl without what depends on the clock: the numbers a run computes. */
function numbers(runDir: string): unknown[] {
  return readRunMetrics(runDir).map((e) => {
    const { time: _time, seconds: _seconds, sps: _sps, ...rest } = e as unknown as Record<string, unknown>;
    return rest;
  });
}

function dirOf(runsDir: string, r: RunJobResult): string {
  return path.join(runsDir, r.runId);
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

// The uninterrupted reference run, in this process (shared by the determinism and resume tests).
const reference = (() => {
  const runsDir = path.join(tmp, 'in-process');
  let result: Promise<RunJobResult> | null = null;
  return { runsDir, get: () => (result ??= executeRunJob(job('same'), runsDir)) };
})();

describe('executeRunJob and LocalPool', () => {
  it('the same job gives the same numbers in this process, in a fresh worker and in a worker that ran another job first', async () => {
    const inProcess = await reference.get();
    expect(inProcess.state).toBe('done');
    expect(inProcess.curve.map((p) => p.step)).toEqual([1000, 2000, 3000]);
    expect(inProcess.value).toBe(inProcess.curve.at(-1)!.value);

    const p = pool(1);
    const freshDir = path.join(tmp, 'fresh');
    const fresh = await p.run(job('same'), freshDir);
    // The same worker now trains something else, then the job again.
    const other = await p.run(job('other', { seed: 11, run: rl({ steps: 1000 }), params: { learningRate: 0.007, nSteps: 5 } }), path.join(tmp, 'warm'));
    const warm = await p.run(job('same'), path.join(tmp, 'warm'));
    expect(p.stats()).toHaveLength(1);
    expect(p.stats()[0]!.runs).toBe(3);

    expect(other.state).toBe('done');
    expect(other.curve).not.toEqual(inProcess.curve);
    for (const r of [fresh, warm]) {
      expect(r.state).toBe('done');
      expect(r.curve).toEqual(inProcess.curve);
      expect(r.value).toBe(inProcess.value);
    }
    const expected = numbers(dirOf(reference.runsDir, inProcess));
    expect(expected.filter((e) => (e as { type: string }).type === 'update').length).toBeGreaterThan(0);
    expect(numbers(dirOf(freshDir, fresh))).toEqual(expected);
    expect(numbers(dirOf(path.join(tmp, 'warm'), warm))).toEqual(expected);
    // Evaluation replay logs are kept, training episodes are not.
    const replays = fs.readdirSync(path.join(dirOf(freshDir, fresh), 'replays'));
    expect(replays.length).toBe(9);
    expect(replays.every((f) => f.startsWith('eval-'))).toBe(true);
  }, SLOW);

  it('a worker killed (kill -9) after its first checkpoint: the job rejects, and executeRunJob resumes to the uninterrupted result', async () => {
    const ref = await reference.get();
    const p = pool(1);
    const runsDir = path.join(tmp, 'killed');
    let killedAt: number | null = null;
    const run = p.run(job('same'), runsDir, {
      onCheckpoint: (runDir) => {
        if (killedAt !== null) return;
        killedAt = RunStore.open(runDir).latestCheckpoint()!.at;
        process.kill(p.stats()[0]!.pid, 'SIGKILL');
      },
    });
    await expect(run).rejects.toThrow(/worker process \d+ was killed \(SIGKILL\) while running same/);
    // The first checkpoint comes after a tenth of the run (300 steps, passed by a vector step of the A2C envs).
    expect(killedAt).toBeGreaterThanOrEqual(300);
    expect(killedAt).toBeLessThan(3000);
    const runDir = path.join(runsDir, 'same');
    const createdAt = RunStore.open(runDir).config().createdAt;
    const beforeResume = RunStore.open(runDir).latestCheckpoint()!.at;
    expect(beforeResume).toBeLessThan(3000);

    const resumed = await executeRunJob(job('same'), runsDir);
    expect(resumed.state).toBe('done');
    expect(resumed.curve).toEqual(ref.curve);
    expect(resumed.value).toBe(ref.value);
    expect(numbers(runDir)).toEqual(numbers(dirOf(reference.runsDir, ref)));
    // Resumed, not started again.
    expect(RunStore.open(runDir).config().createdAt).toBe(createdAt);
  }, SLOW);

  it('through a LocalDispatcher, a run whose worker is killed runs again in a fresh worker, resuming to the same result', async () => {
    const ref = await reference.get();
    const p = pool(1);
    const crashes: string[] = [];
    let killed = false;
    const dispatcher = new LocalDispatcher(p, path.join(tmp, 'retried'), {
      events: () => ({
        onCheckpoint: () => {
          if (killed) return;
          killed = true;
          process.kill(p.stats()[0]!.pid, 'SIGKILL');
        },
      }),
      onCrash: (j, e) => crashes.push(`${j.runId}: ${e.message}`),
    });
    const r = await dispatcher.run(job('same'));
    expect(crashes).toHaveLength(1);
    expect(crashes[0]).toMatch(/^same: worker process \d+ was killed \(SIGKILL\) while running same/);
    expect(p.stats()).toHaveLength(2);
    expect(r.state).toBe('done');
    expect(r.curve).toEqual(ref.curve);
    expect(numbers(path.join(tmp, 'retried', 'same'))).toEqual(numbers(dirOf(reference.runsDir, ref)));
  }, SLOW);

  it('a job whose thresholds it cannot meet is pruned at its first evaluation at or past the warm-up, with a checkpoint there', async () => {
    const runsDir = path.join(tmp, 'pruned');
    const pruning = job('pruned', { prune: { warmupSteps: 1500, thresholds: [{ step: 0, value: 1e9 }] } });
    const r = await executeRunJob(pruning, runsDir);
    expect(r.state).toBe('pruned');
    expect(r.prunedAt).toBe(2000);
    expect(r.curve.map((p) => p.step)).toEqual([1000, 2000]);
    expect(r.value).toBe(r.curve.at(-1)!.value);
    const runDir = path.join(runsDir, 'pruned');
    expect(RunStore.open(runDir).latestCheckpoint()!.at).toBe(2000);
    // Asked again (a resumed sweep): the run is already pruned, nothing trains.
    const size = fs.statSync(path.join(runDir, 'metrics.jsonl')).size;
    const again = await executeRunJob(pruning, runsDir);
    expect({ ...again, seconds: 0 }).toEqual({ ...r, seconds: 0 });
    expect(fs.statSync(path.join(runDir, 'metrics.jsonl')).size).toBe(size);
  }, SLOW);

  it('GAN and AlphaZero-lite jobs: their trial params reach the trainer, their metrics make the curve and the pruner stops them', async () => {
    const runsDir = path.join(tmp, 'kinds');
    const ganJob = job('gan', {
      run: { kind: 'gan', category: 'apple', preset: 'tiny', iterations: 8, limit: 32, set: { batch: 4, sampleEvery: 0, logEvery: 2 } },
      params: { 'discriminatorOptimizer.learningRate': 0.0007 },
      objective: { metric: 'gLoss', reduce: 'mean-last', direction: 'minimize' },
    });
    const progress: [number, number][] = [];
    const gan = await executeRunJob(ganJob, runsDir, { onProgress: (done, total) => progress.push([done, total]) });
    expect(gan.state).toBe('done');
    expect(gan.curve.map((p) => p.step)).toEqual([2, 4, 6, 8]);
    expect(gan.value).toBe(gan.curve.at(-1)!.value);
    expect(progress.at(-1)).toEqual([8, 8]);
    const ganConfig = RunStore.open(path.join(runsDir, 'gan')).config<RunConfigBase<'gan', { discriminatorOptimizer: { learningRate: number }; batch: number }>>();
    expect(ganConfig.hyperparameters.discriminatorOptimizer.learningRate).toBe(0.0007);
    expect(ganConfig.hyperparameters.batch).toBe(4);
    // A loss that must fall below -1 by iteration 3: pruned at the first update past it.
    const ganPruned = await executeRunJob({ ...ganJob, runId: 'gan-pruned', prune: { warmupSteps: 3, thresholds: [{ step: 0, value: -1 }] } }, runsDir);
    expect(ganPruned).toMatchObject({ state: 'pruned', prunedAt: 4 });
    expect(ganPruned.curve).toEqual(gan.curve.slice(0, 2));

    const azJob = job('az', {
      run: { kind: 'go-alphazero', iterations: 2, set: { size: 5, simulations: 4, gamesPerIteration: 1, trainSteps: 1, batchSize: 8, evalEvery: 1, evalGames: 2, evalSimulations: 4, evalMctsSimulations: 8 } },
      params: { learningRate: 0.002 },
      objective: { metric: 'score', reduce: 'mean-last', direction: 'maximize' },
    });
    const az = await executeRunJob(azJob, runsDir);
    expect(az.state).toBe('done');
    expect(az.curve.map((p) => p.step)).toEqual([1, 2]);
    expect(RunStore.open(path.join(runsDir, 'az')).config<RunConfigBase<'go-alphazero', { learningRate: number; size: number }>>().hyperparameters).toMatchObject({ learningRate: 0.002, size: 5 });
    const azPruned = await executeRunJob({ ...azJob, runId: 'az-pruned', prune: { warmupSteps: 0, thresholds: [{ step: 0, value: 2 }] } }, runsDir);
    expect(azPruned).toMatchObject({ state: 'pruned', prunedAt: 1 });
    expect(RunStore.open(path.join(runsDir, 'az-pruned')).latestCheckpoint()!.at).toBe(1);
  }, SLOW);

  it('a run leaves no tensors behind (a worker serves hundreds of them), whatever its kind', async () => {
    const runsDir = path.join(tmp, 'tensors');
    const jobs: RunJob[] = [
      job('t-a2c', { run: rl({ steps: 300, evalEvery: 300 }) }),
      job('t-dqn', { run: rl({ agent: 'dqn', steps: 300, evalEvery: 300 }), params: {} }),
      job('t-gan', { run: { kind: 'gan', category: 'apple', preset: 'tiny', iterations: 2, limit: 16, set: { batch: 4, sampleEvery: 0 } }, params: {}, objective: { metric: 'gLoss', reduce: 'mean-last', direction: 'minimize' } }),
      job('t-az', { run: { kind: 'go-alphazero', iterations: 1, set: { size: 5, simulations: 2, gamesPerIteration: 1, trainSteps: 1, batchSize: 4, evalEvery: 0 } }, params: {}, objective: { metric: 'policyLoss', reduce: 'mean-last', direction: 'minimize' } }),
    ];
    await executeRunJob(jobs[0]!, runsDir);
    const before = tf.memory().numTensors;
    for (const j of jobs) expect((await executeRunJob({ ...j, runId: `${j.runId}-again` }, runsDir)).state).toBe('done');
    expect(tf.memory().numTensors).toBe(before);
  }, SLOW);

  it('a job with `live` publishes its run to a lab server, which sees it to its end', async () => {
    const runsDir = path.join(tmp, 'live');
    const server = await startLabServer({ port: 0, runsDir, log: () => {} });
    try {
      const r = await executeRunJob(job('published', { run: rl({ steps: 1000, evalEvery: 500 }), live: { url: server.url, token: server.token } }), runsDir);
      expect(r.state).toBe('done');
      await until('the server to see the run end', () => server.hub.summary('published')?.status === 'done', 5000, { everyMs: 50 });
      expect(server.hub.summary('published')).toMatchObject({ agent: 'a2c', envId: 'CartPole-v1', steps: 1000, step: 1000 });
    } finally {
      await server.close();
    }
  }, SLOW);

  it('a failing job fails alone with a one-line error; the same worker then runs the next job', async () => {
    const p = pool(1);
    const runsDir = path.join(tmp, 'failing');
    const bad = await p.run(job('bad-env', { run: rl({ env: 'CartPoel-v1' }) }), runsDir);
    expect(bad.state).toBe('failed');
    expect(bad.error).toMatch(/^unknown environment id 'CartPoel-v1'\. Did you mean 'CartPole-v1'\?/);
    expect(bad.error).not.toContain('\n');
    expect(bad.value).toBeNull();
    const badParam = await p.run(job('bad-param', { params: { learningRat: 0.1 } }), runsDir);
    expect(badParam.state).toBe('failed');
    expect(badParam.error).toMatch(/learningRat/);
    const good = await p.run(job('good', { run: rl({ steps: 500, evalEvery: 500 }) }), runsDir);
    expect(good.state).toBe('done');
    expect(p.stats()).toHaveLength(1);
    expect(p.stats()[0]!.runs).toBe(3);
    // A job of another lab version is refused, not failed.
    await expect(p.run(job('old', { labVersion: '0.0.1' }), runsDir)).rejects.toThrow(/comes from lab 0\.0\.1, this is lab/);
  }, SLOW);

  it('a pool of 2 workers runs 4 jobs, at most 2 at once, through a LocalDispatcher', async () => {
    const runsDir = path.join(tmp, 'parallel');
    let running = 0;
    let most = 0;
    const seen: string[] = [];
    const twoWorkers = pool(2);
    const dispatcher = new LocalDispatcher(twoWorkers, runsDir, {
      events: (j) => ({
        onStart: () => {
          running++;
          most = Math.max(most, running);
          seen.push(j.runId);
        },
      }),
    });
    expect(dispatcher.slots).toBe(2);
    const jobs = [1, 2, 3, 4].map((seed) => job(`par-s${seed}`, { seed, run: rl({ steps: 1000, evalEvery: 500 }) }));
    const results = await Promise.all(
      jobs.map((j) =>
        dispatcher.run(j).then((r) => {
          running--;
          return r;
        }),
      ),
    );
    expect(results.map((r) => r.state)).toEqual(['done', 'done', 'done', 'done']);
    expect(results.map((r) => r.runId)).toEqual(jobs.map((j) => j.runId));
    expect(most).toBe(2);
    expect(seen.sort()).toEqual(jobs.map((j) => j.runId).sort());
    for (const r of results) expect(fs.existsSync(path.join(runsDir, r.runId, 'policy', 'model.json'))).toBe(true);
    // Each worker says how much CPU it used, its main thread's part within it (bench/sweep.ts's workerCpu).
    const stats = twoWorkers.stats();
    expect(stats.map((w) => w.runs).reduce((a, b) => a + b, 0)).toBe(4);
    for (const w of stats) {
      expect(w.cpu!.processSeconds).toBeGreaterThan(0.1);
      if (process.platform === 'linux') {
        expect(w.cpu!.mainThreadSeconds).toBeGreaterThan(0);
        expect(w.cpu!.mainThreadSeconds!).toBeLessThanOrEqual(w.cpu!.processSeconds + 0.05);
      }
    }
    await dispatcher.close();
    // Closed: nothing more starts.
    await expect(dispatcher.run(job('late'))).rejects.toBeInstanceOf(RunStoppedError);
  }, SLOW);

  it('close() stops a running job with a checkpoint (RunStoppedError) and ends the worker processes', async () => {
    const p = new LocalPool({ workers: 1 });
    const runsDir = path.join(tmp, 'closed');
    const long = job('closing', { run: rl({ steps: 20_000, evalEvery: 5000 }) });
    let closing: Promise<void> | null = null;
    const run = p.run(long, runsDir, { onCheckpoint: () => void (closing ??= p.close()) });
    const error = await run.then(
      () => null,
      (e: unknown) => e,
    );
    await closing;
    expect(error).toBeInstanceOf(RunStoppedError);
    const at = (error as RunStoppedError).at!;
    expect(at).toBeGreaterThanOrEqual(2000);
    expect(at).toBeLessThan(20_000);
    expect(RunStore.open(path.join(runsDir, 'closing')).latestCheckpoint()!.at).toBe(at);
    expect(p.stats().every((s) => !alive(s.pid))).toBe(true);
  }, SLOW);

  it('worker processes exit by themselves when their parent is killed (kill -9) mid-run', async () => {
    const runsDir = path.join(tmp, 'orphan');
    const script = path.join(tmp, 'parent.mts');
    const poolModule = new URL('../sweep/local_pool.ts', import.meta.url).href;
    fs.writeFileSync(
      script,
      `import { LocalPool } from ${JSON.stringify(poolModule)};\n` +
        `const pool = new LocalPool({ workers: 1 });\n` +
        `pool.run(${JSON.stringify(job('orphaned', { run: rl({ steps: 50_000, evalEvery: 0 }) }))}, ${JSON.stringify(runsDir)}, {\n` +
        `  onCheckpoint: () => console.log('worker ' + pool.stats()[0].pid),\n` +
        `});\n`,
    );
    const parent = spawn(process.execPath, ['--import', 'tsx', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    const pid = await new Promise<number>((resolve, reject) => {
      parent.stdout.on('data', (d: Buffer) => {
        const m = /worker (\d+)/.exec(d.toString());
        if (m) resolve(Number(m[1]));
      });
      parent.on('exit', (code) => reject(new Error(`the parent exited (${code}) before its worker checkpointed`)));
    });
    expect(alive(pid)).toBe(true);
    parent.kill('SIGKILL');
    await until(`worker ${pid} to exit`, () => !alive(pid), 15_000, { everyMs: 50 });
    // What it left is a consistent run directory: its newest checkpoint resumes.
    const runDir = path.join(runsDir, 'orphaned');
    const at = RunStore.open(runDir).latestCheckpoint()!.at;
    expect(at).toBeGreaterThan(0);
    expect(at).toBeLessThan(50_000);
  }, SLOW);
});

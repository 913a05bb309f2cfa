/**
 * "Safe to leave running": what a crash, a damaged file or a tampered pointer may cost a run, for the three kinds
 * of training that checkpoint (RL runs, GAN runs, AlphaZero runs). Each test says what is lost: nothing, or (for
 * the checkpoint interval) at most about a tenth of a run.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { RL_CHECKPOINT_EVERY, evaluateRun, resumeTraining, rlCheckpointEvery, startTraining, type StartOptions } from '../agents/train.js';
import { ReplayBuffer } from '../agents/replay_buffer.js';
import { AZ_CHECKPOINT_EVERY, PositionBuffer, azCheckpointEvery, readAlphaZeroMetrics, resolveAgentDir, resumeAlphaZero, trainAlphaZero, type AlphaZeroEvent } from '../agents/go/alphazero.js';
import { ganCheckpointEvery, resumeGanTraining, startGanTraining, type GanStartOptions } from '../gan/train.js';
import { ganPreset } from '../gan/models.js';
import { loadQuickDraw, type QuickDrawImages } from '../gan/data.js';
import { dirBackupPath, readableDir, recoverDir, writeDirAtomic } from '../lab/fsutil.js';
import { chooseCheckpoint, prepareMetricsForResume, readMetricsFile, RunStore } from '../lab/run_store.js';
import type { TrainEvent } from '../protocol/events.js';
import { initCompute } from '../lab/compute.js';
import { Rng } from '../envs/index.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lab-crash-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** Metrics without wall-clock fields, which legitimately differ between runs. */
function deterministicPart(events: TrainEvent[]): unknown[] {
  return events.map((e) => {
    const { time: _t, seconds: _d, ...rest } = e as TrainEvent & { time?: number; seconds?: number };
    if (rest.type === 'update') {
      const { sps: _s, ...u } = rest;
      return u;
    }
    if (rest.type === 'checkpoint') return { type: 'checkpoint', step: rest.step };
    return rest;
  });
}

function dirBytes(dir: string): number {
  let total = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) total += e.isDirectory() ? dirBytes(path.join(dir, e.name)) : fs.statSync(path.join(dir, e.name)).size;
  return total;
}

/** A copy of a run directory, to damage without touching the original. */
function copyRun(runDir: string, name: string): string {
  const dest = path.join(tmp, 'copies', name);
  fs.cpSync(runDir, dest, { recursive: true });
  return dest;
}

/** A small DQN on Cart-Pole: 1200 steps in about a second; its replay buffer (5000) is never full. */
const RL: StartOptions = {
  envId: 'CartPole-v1',
  agent: 'dqn',
  seed: 11,
  steps: 1200,
  evalEvery: 600,
  evalEpisodes: 2,
  checkpointEvery: 300,
  backend: 'wasm',
  overrides: { hidden: [16, 16], learningStarts: 200, trainFrequency: 2, gradientSteps: 1, targetUpdateInterval: 100, bufferSize: 5000, batchSize: 16 },
};

describe('RL runs: resume never writes garbage', () => {
  let reference: string;
  /** Stopped (as by Ctrl-C) at step 900: checkpoints step-600 and step-900. */
  let stopped: string;

  beforeAll(async () => {
    reference = (await startTraining({ ...RL, out: path.join(tmp, 'rl'), runId: 'reference' })).runDir;
    let step = 0;
    const run = await startTraining({
      ...RL,
      out: path.join(tmp, 'rl'),
      runId: 'stopped',
      sinks: [{ handle: (e) => void (step = e.step) }],
      shouldStop: () => step >= 900,
    });
    expect(run.result).toMatchObject({ steps: 900, stopped: true });
    stopped = run.runDir;
    expect(fs.readdirSync(path.join(stopped, 'checkpoints')).sort()).toEqual(['latest.json', 'step-0000000600', 'step-0000000900']);
  }, 60_000);

  const finalMetrics = (runDir: string) => deterministicPart(readMetricsFile(path.join(runDir, 'metrics.jsonl')));

  it('metrics.jsonl shorter than the offset a checkpoint recorded: a clear error, the file untouched (nothing lost, no NUL padding)', async () => {
    const run = copyRun(stopped, 'short');
    const file = path.join(run, 'metrics.jsonl');
    const full = fs.readFileSync(file);
    const short = full.subarray(0, Math.floor(full.length / 2));
    fs.writeFileSync(file, short);
    const err = await resumeTraining(run, { backend: 'wasm' }).then(
      () => null,
      (e: Error) => e,
    );
    expect(err?.message).toMatch(new RegExp(`metrics\\.jsonl holds ${short.length} bytes, but checkpoint step-0000000900 was taken when it held ${full.length}: .*the file is left untouched`));
    expect(fs.readFileSync(file).equals(short)).toBe(true);
    expect(fs.readFileSync(file).includes(0)).toBe(false);
  });

  it('garbage where the checkpoint says the metrics end: a clear error, the file untouched (nothing lost, no record cut in two)', async () => {
    const run = copyRun(stopped, 'garbage');
    const file = path.join(run, 'metrics.jsonl');
    const full = fs.readFileSync(file);
    const offset = full.length; // the stop checkpoint recorded the whole file
    // (a) the offset falls inside a line: a line of garbage replaced the end of the last record
    const inside = Buffer.concat([full.subarray(0, offset - 10), Buffer.from('garbage garbage garbage\n')]);
    fs.writeFileSync(file, inside);
    await expect(resumeTraining(run, { backend: 'wasm' })).rejects.toThrow(new RegExp(`metrics\\.jsonl: no record ends at byte ${offset}, where checkpoint step-0000000900 says its metrics end .*left untouched`));
    expect(fs.readFileSync(file).equals(inside)).toBe(true);
    // (b) a newline ends there, but the line before it is not a record
    const lastStart = full.lastIndexOf(0x0a, offset - 2) + 1;
    const bad = Buffer.concat([full.subarray(0, lastStart), Buffer.from('#'.repeat(offset - lastStart - 1) + '\n'), Buffer.from('{"type":"episode","st')]);
    fs.writeFileSync(file, bad);
    await expect(resumeTraining(run, { backend: 'wasm' })).rejects.toThrow(/the record that ends at byte \d+, where checkpoint step-0000000900 says its metrics end, is not a JSON object/);
    expect(fs.readFileSync(file).equals(bad)).toBe(true);
    // The shared check on its own: a partial record after the offset (what kill -9 leaves) is what it cuts.
    fs.writeFileSync(file, Buffer.concat([full, Buffer.from('{"type":"episode","st')]));
    prepareMetricsForResume(file, offset, 'checkpoint step-0000000900');
    expect(fs.readFileSync(file).equals(full)).toBe(true);
  });

  for (const [what, damage] of [
    ['a truncated weights file', (ck: string) => fs.truncateSync(path.join(ck, 'agent', 'online', 'weights.bin'), 100)],
    ['an unparsable loop.json', (ck: string) => fs.writeFileSync(path.join(ck, 'loop.json'), '{"step": 900, "episo')],
  ] as const) {
    it(`newest checkpoint damaged (${what}): resumes from the one before with a warning; the run ends equal to an uninterrupted one (nothing lost)`, async () => {
      const run = copyRun(stopped, `damaged-${what.split(' ').at(-2)}`);
      damage(path.join(run, 'checkpoints', 'step-0000000900'));
      // Also what kill -9 leaves after the checkpoint: a partial line.
      fs.appendFileSync(path.join(run, 'metrics.jsonl'), '{"type":"episode","step":9');
      const warnings: string[] = [];
      const out = await resumeTraining(run, { backend: 'wasm', onWarning: (m) => warnings.push(m) });
      expect(out.result.steps).toBe(1200);
      expect(warnings.join('\n')).toMatch(/checkpoint step-0000000900 is damaged \(.+\); trying step-0000000600/);
      expect(warnings.join('\n')).toMatch(/resuming from checkpoint step-0000000600 instead of the newest one/);
      expect(finalMetrics(run)).toEqual(finalMetrics(reference));
      expect(fs.readFileSync(path.join(run, 'policy', 'weights.bin')).equals(fs.readFileSync(path.join(reference, 'policy', 'weights.bin')))).toBe(true);
    });
  }

  it('latest.json pointing outside the run is refused (nothing outside the run is read or written)', async () => {
    const run = copyRun(stopped, 'outside');
    // A complete checkpoint outside the run, where a tampered pointer leads.
    const outsideCk = path.join(tmp, 'copies', 'x');
    fs.cpSync(path.join(run, 'checkpoints', 'step-0000000900'), outsideCk, { recursive: true });
    const before = dirBytes(outsideCk);
    fs.rmSync(path.join(run, 'policy'), { recursive: true });
    for (const dir of ['../../x', '../x', '/etc', 'step-0000000900/../../../x', 'latest.json', '']) {
      fs.writeFileSync(path.join(run, 'checkpoints', 'latest.json'), JSON.stringify({ step: 900, dir }));
      await expect(resumeTraining(run, { backend: 'wasm' }), dir).rejects.toThrow(/points at .*which is not a checkpoint directory of this run.*refusing to follow it/);
      // `lab eval` of a run without a final policy follows the pointer too.
      await expect(evaluateRun(run, { episodes: 1, backend: 'wasm' }), dir).rejects.toThrow(/refusing to follow it/);
    }
    expect(dirBytes(outsideCk)).toBe(before);
    // GAN and AlphaZero runs read their pointers through the same check.
    const gan = path.join(tmp, 'copies', 'gan-outside');
    fs.mkdirSync(path.join(gan, 'checkpoints'), { recursive: true });
    fs.writeFileSync(path.join(gan, 'checkpoints', 'latest.json'), JSON.stringify({ iteration: 4, dir: '../../x' }));
    expect(() => new RunStore(gan, 'gan').latestCheckpoint()).toThrow(/refusing to follow it/);
    expect(() => resolveAgentDir(gan)).toThrow(/refusing to follow it/);
  });
});

describe('writeDirAtomic: the directory is never missing', () => {
  const files = (dir: string) => Object.fromEntries(fs.readdirSync(dir).sort().map((f) => [f, fs.readFileSync(path.join(dir, f), 'utf8')]));
  const fill = (version: string) => (tmpDir: string) => {
    fs.writeFileSync(path.join(tmpDir, 'model.json'), `{"version": "${version}"}`);
    fs.writeFileSync(path.join(tmpDir, 'weights.bin'), version.repeat(1000));
  };

  it('a failure between moving the old version aside and renaming the new one in leaves the old version in place', async () => {
    const dir = path.join(tmp, 'wda', 'fail', 'policy');
    await writeDirAtomic(dir, fill('v1'));
    const rename = fs.renameSync;
    const spy = vi.spyOn(fs, 'renameSync').mockImplementation((from, to) => {
      if (String(from).includes('.tmp-')) throw Object.assign(new Error('EIO: simulated'), { code: 'EIO' });
      rename(from, to);
    });
    try {
      await expect(writeDirAtomic(dir, fill('v2'))).rejects.toThrow(/simulated/);
    } finally {
      spy.mockRestore();
    }
    // (The old code deleted policy/ first: here it would be gone.)
    expect(files(dir)).toEqual({ 'model.json': '{"version": "v1"}', 'weights.bin': 'v1'.repeat(1000) });
    expect(fs.readdirSync(path.dirname(dir))).toEqual(['policy']);
  });

  // A child process writes v2 over v1 and is killed with SIGKILL right after one step: the state a crash leaves.
  for (const step of ['filled', 'moved-aside', 'replaced'] as const) {
    it(`kill -9 after step '${step}': a complete version is always readable, and the next writer (or a resume) repairs the directory`, async () => {
      const dir = path.join(tmp, 'wda', step, 'best_policy');
      await writeDirAtomic(dir, fill('v1'));
      const script = path.join(tmp, 'wda', `child-${step}.mts`);
      fs.writeFileSync(
        script,
        `import fs from 'node:fs';
         import path from 'node:path';
         const { writeDirAtomic } = await import(${JSON.stringify(pathToFileURL(path.join(ROOT, 'lab', 'fsutil.ts')).href)});
         await writeDirAtomic(${JSON.stringify(dir)}, (tmp) => {
           fs.writeFileSync(path.join(tmp, 'model.json'), '{"version": "v2"}');
           fs.writeFileSync(path.join(tmp, 'weights.bin'), 'v2'.repeat(1000));
         }, { onStep: (s) => { if (s === ${JSON.stringify(step)}) process.kill(process.pid, 'SIGKILL'); } });
         console.log('not killed');`,
      );
      const child = spawnSync(process.execPath, ['--import', 'tsx', script], { cwd: ROOT, encoding: 'utf8' });
      expect(child.signal, child.stderr).toBe('SIGKILL');
      const parent = path.dirname(dir);
      if (step === 'moved-aside') {
        // The one instant the old code also had: no best_policy/, but the whole previous version beside it.
        expect(fs.existsSync(dir)).toBe(false);
        expect(readableDir(dir)).toBe(dirBackupPath(dir));
      }
      // Whatever the step, a reader gets one complete version.
      const seen = files(readableDir(dir));
      const version = JSON.parse(seen['model.json']!).version as string;
      expect(seen).toEqual({ 'model.json': `{"version": "${version}"}`, 'weights.bin': version.repeat(1000) });
      expect(version).toBe(step === 'replaced' ? 'v2' : 'v1');
      // The writer's own repair (also run at the start of every writeDirAtomic and on resume).
      expect(recoverDir(dir)).toBe(step === 'moved-aside' ? 'restored' : 'intact');
      expect(files(dir)).toEqual(seen);
      expect(fs.readdirSync(parent)).toEqual(['best_policy']);
      await writeDirAtomic(dir, fill('v3'));
      expect(files(dir)).toEqual({ 'model.json': '{"version": "v3"}', 'weights.bin': 'v3'.repeat(1000) });
      expect(fs.readdirSync(parent)).toEqual(['best_policy']);
    }, 60_000);
  }

  it("readers find a run's policy while a crash left it renamed aside (lab eval works, nothing is lost)", async () => {
    await initCompute('wasm');
    const dir = path.join(tmp, 'wda', 'eval-run');
    const { runDir } = await startTraining({ ...RL, steps: 300, evalEvery: 0, checkpointEvery: 0, out: dir, runId: 'r' });
    const before = await evaluateRun(runDir, { episodes: 2, backend: 'wasm' });
    fs.renameSync(path.join(runDir, 'policy'), dirBackupPath(path.join(runDir, 'policy')));
    const after = await evaluateRun(runDir, { episodes: 2, backend: 'wasm' });
    expect(after.returns).toEqual(before.returns);
    expect(after.source).toBe(dirBackupPath(path.join(runDir, 'policy')));
    const direct = await evaluateRun(path.join(runDir, 'policy'), { episodes: 2, backend: 'wasm' });
    expect(direct.returns).toEqual(before.returns);
  });

  it('a checkpoint directory left renamed aside is put back when the run resumes', async () => {
    const run = path.join(tmp, 'wda', 'ck-run');
    fs.mkdirSync(path.join(run, 'checkpoints', '.step-0000000300.old'), { recursive: true });
    fs.writeFileSync(path.join(run, 'checkpoints', '.step-0000000300.old', 'loop.json'), '{}');
    fs.writeFileSync(path.join(run, 'checkpoints', 'latest.json'), JSON.stringify({ step: 300, dir: 'step-0000000300' }));
    const choice = await chooseCheckpoint(run, { unit: 'steps', load: (d) => JSON.parse(fs.readFileSync(path.join(d, 'loop.json'), 'utf8')) as unknown, onWarning: () => {} });
    expect(choice.name).toBe('step-0000000300');
    expect(fs.readdirSync(path.join(run, 'checkpoints')).sort()).toEqual(['latest.json', 'step-0000000300']);
  });
});

describe('replay buffers save their filled part only', () => {
  it('ReplayBuffer: 8,000 of 100,000 rows saved take 8% of the full size, and load back exactly (old full-capacity files too)', () => {
    const width = 243; // Snake's 9x9x3 planes
    const nActions = 3;
    const rowBytes = 4 * width * 2 + 4 + 4 + 1 + nActions;
    const a = new ReplayBuffer(100_000, width, nActions);
    const rng = new Rng(1);
    const obs = new Float32Array(width);
    const next = new Float32Array(width);
    for (let i = 0; i < 8000; i++) {
      for (let k = 0; k < width; k++) [obs[k], next[k]] = [rng.random(), rng.random()];
      a.add(obs, rng.integer(3), rng.random(), next, rng.random() < 0.1, 0, [1, rng.integer(2), 1]);
    }
    const dir = path.join(tmp, 'replay-unit');
    a.save(dir);
    const saved = fs.statSync(path.join(dir, 'replay.bin')).size;
    expect(saved).toBe(8000 * rowBytes); // 15,648,000 bytes
    expect(saved / (100_000 * rowBytes)).toBeCloseTo(0.08, 5); // full: 195,600,000 bytes
    const b = new ReplayBuffer(100_000, width, nActions);
    b.load(dir);
    const same = (x: ReplayBuffer, y: ReplayBuffer) => {
      expect([y.position, y.size]).toEqual([x.position, x.size]);
      for (const k of ['obs', 'nextObs', 'actions', 'rewards', 'dones', 'nextMasks'] as const) {
        expect(Buffer.from(y[k].buffer).equals(Buffer.from(x[k].buffer)), k).toBe(true);
      }
      const [s1, s2] = [x.sample(64, new Rng(5)), y.sample(64, new Rng(5))];
      expect(Array.from(s2.obs)).toEqual(Array.from(s1.obs));
    };
    same(a, b);
    // A checkpoint from before: the whole capacity, no `rows` in replay.json.
    const old = path.join(tmp, 'replay-old');
    fs.mkdirSync(old);
    fs.writeFileSync(path.join(old, 'replay.bin'), Buffer.concat([a.obs, a.nextObs, a.actions, a.rewards, a.dones, a.nextMasks].map((p) => Buffer.from(p.buffer, p.byteOffset, p.byteLength))));
    fs.writeFileSync(path.join(old, 'replay.json'), JSON.stringify({ capacity: 100_000, obsWidth: width, nActions, position: a.position, size: a.size }));
    const c = new ReplayBuffer(100_000, width, nActions);
    c.load(old);
    same(a, c);
    // Loading into a buffer that held other rows leaves exactly the saved state.
    b.load(dir);
    same(a, b);
    // A truncated file is an error that names it.
    fs.truncateSync(path.join(dir, 'replay.bin'), saved - 1);
    expect(() => new ReplayBuffer(100_000, width, nActions).load(dir)).toThrow(`replay.bin has ${saved - 1} bytes, expected ${saved} (8000 rows)`);
  });

  it('an 8,000-step Snake DQN run (buffer of 100,000) writes checkpoints of ~16 MB, not ~196 MB', async () => {
    const { runDir } = await startTraining({
      envId: 'Snake-v0',
      agent: 'dqn',
      preset: 'snake',
      seed: 1,
      steps: 8000,
      evalEvery: 0,
      checkpointEvery: 4000,
      backend: 'wasm',
      out: path.join(tmp, 'snake'),
      overrides: { hidden: [16], learningStarts: 8000 },
    });
    const ck = path.join(runDir, 'checkpoints', 'step-0000008000');
    const meta = JSON.parse(fs.readFileSync(path.join(ck, 'agent', 'replay', 'replay.json'), 'utf8'));
    expect(meta).toMatchObject({ capacity: 100_000, size: 8000, rows: 8000 });
    const rowBytes = 4 * meta.obsWidth * 2 + 9 + meta.nActions;
    const checkpointBytes = dirBytes(ck);
    const fullReplayBytes = 100_000 * rowBytes;
    console.log(`Snake DQN, 8000 steps: checkpoint ${checkpointBytes} bytes (replay.bin ${fs.statSync(path.join(ck, 'agent', 'replay', 'replay.bin')).size}); the full-capacity replay buffer alone: ${fullReplayBytes}`);
    expect(fs.statSync(path.join(ck, 'agent', 'replay', 'replay.bin')).size).toBe(8000 * rowBytes);
    expect(checkpointBytes).toBeLessThan(0.09 * fullReplayBytes);
    expect(dirBytes(runDir)).toBeLessThan(0.15 * fullReplayBytes); // both checkpoints (4000 and 8000 rows) and the rest
  }, 60_000);

  it('PositionBuffer (AlphaZero): saves the positions stored, loads them back exactly (old full-capacity files too)', () => {
    const stride = 5 * 5 * 4;
    const actions = 26;
    const a = new PositionBuffer(1000, stride, actions);
    const rng = new Rng(2);
    const game = { planes: Float32Array.from({ length: 30 * stride }, () => rng.random()), policies: Float32Array.from({ length: 30 * actions }, () => rng.random()), results: Float32Array.from({ length: 30 }, () => rng.random()) };
    a.add(game as unknown as Parameters<PositionBuffer['add']>[0]);
    const file = path.join(tmp, 'az-buffer.bin');
    a.save(file);
    expect(fs.statSync(file).size).toBe(30 * 4 * (stride + actions + 1));
    const same = (x: PositionBuffer, y: PositionBuffer) => {
      expect([y.count, y.next]).toEqual([x.count, x.next]);
      for (const k of ['planes', 'policies', 'results'] as const) expect(Buffer.from(y[k].buffer).equals(Buffer.from(x[k].buffer)), k).toBe(true);
    };
    const b = new PositionBuffer(1000, stride, actions);
    b.load(file, a.count, a.next);
    same(a, b);
    const old = path.join(tmp, 'az-buffer-old.bin');
    fs.writeFileSync(old, Buffer.concat([a.planes, a.policies, a.results].map((p) => Buffer.from(p.buffer))));
    const c = new PositionBuffer(1000, stride, actions);
    c.load(old, a.count, a.next);
    same(a, c);
    fs.truncateSync(file, 100);
    expect(() => new PositionBuffer(1000, stride, actions).load(file, 30, 30)).toThrow(`az-buffer.bin has 100 bytes, expected ${30 * 4 * (stride + actions + 1)} (30 positions)`);
  });
});

describe('checkpoint intervals scale with short runs', () => {
  it('defaults: RL steps, GAN and AlphaZero iterations checkpoint at least every tenth of a run (long runs keep their intervals)', () => {
    expect(rlCheckpointEvery(6000)).toBe(600);
    expect(rlCheckpointEvery(50_000)).toBe(5000);
    expect(rlCheckpointEvery(300_000)).toBe(RL_CHECKPOINT_EVERY);
    expect(rlCheckpointEvery(500)).toBe(100);
    const fast = ganPreset('fast').hyperparameters;
    expect(fast.checkpointEvery).toBe(500);
    expect(ganCheckpointEvery(fast.checkpointEvery, fast.iterations)).toBe(240); // 2400 iterations
    expect(ganCheckpointEvery(fast.checkpointEvery, 600)).toBe(60);
    expect(ganCheckpointEvery(fast.checkpointEvery, 20_000)).toBe(500);
    expect(ganCheckpointEvery(ganPreset('book').hyperparameters.checkpointEvery, 2000)).toBe(200);
    expect(ganCheckpointEvery(fast.checkpointEvery, 0 + 50)).toBe(10);
    expect(azCheckpointEvery(100)).toBe(AZ_CHECKPOINT_EVERY);
    expect(azCheckpointEvery(20)).toBe(2);
    expect(azCheckpointEvery(4)).toBe(1);
  });

  it('a 6,000-step RL run checkpoints every 600 steps by default: stopped abruptly at step ~5,950 it loses at most 600 steps, and resumes to the same result', async () => {
    const common: StartOptions = {
      envId: 'CartPole-v1',
      agent: 'reinforce',
      seed: 2,
      steps: 6000,
      evalEvery: 0,
      backend: 'wasm',
      overrides: { hidden: [8] },
      out: path.join(tmp, 'interval'),
    };
    const reference = await startTraining({ ...common, runId: 'reference' });
    expect(reference.config.checkpointEvery).toBe(600);
    let crashedAt = 0;
    // A sink that throws ends the process's work at once, like kill -9: no stop checkpoint, no final policy.
    const crash = startTraining({
      ...common,
      runId: 'crashed',
      sinks: [
        {
          handle: (e) => {
            if (e.type === 'episode' && e.step >= 5950) {
              crashedAt = e.step;
              throw new Error('crash');
            }
          },
        },
      ],
    });
    await expect(crash).rejects.toThrow('crash');
    const runDir = path.join(common.out!, 'crashed');
    expect(fs.existsSync(path.join(runDir, 'policy'))).toBe(false);
    const latest = JSON.parse(fs.readFileSync(path.join(runDir, 'checkpoints', 'latest.json'), 'utf8')) as { unit: string; at: number };
    expect(latest.unit).toBe('steps');
    const lost = crashedAt - latest.at;
    console.log(`6000-step run: checkpoint every ${reference.config.checkpointEvery} steps; stopped at step ${crashedAt}, latest checkpoint ${latest.at}: ${lost} steps to train again`);
    expect(latest.at).toBe(5400);
    expect(lost).toBeGreaterThan(0);
    expect(lost).toBeLessThanOrEqual(600);
    await resumeTraining(runDir, { backend: 'wasm' });
    expect(deterministicPart(readMetricsFile(path.join(runDir, 'metrics.jsonl')))).toEqual(deterministicPart(readMetricsFile(path.join(reference.runDir, 'metrics.jsonl'))));
  }, 60_000);
});

describe('GAN runs', () => {
  let apples: QuickDrawImages;
  beforeAll(async () => {
    apples = await loadQuickDraw('apple', { download: 'never', limit: 64 });
    await initCompute('wasm');
  });
  const tiny = (extra: Partial<GanStartOptions>): GanStartOptions => ({ preset: 'tiny', category: 'apple', seed: 3, images: apples, out: path.join(tmp, 'gan'), logEvery: 1, sampleEvery: 0, backend: 'wasm', ...extra });

  it('newest checkpoint damaged (truncated generator weights): resumes from the one before with a warning and ends bit for bit like an uninterrupted run (nothing lost)', async () => {
    const straight = await startGanTraining(tiny({ iterations: 8, checkpointEvery: 2, runId: 'straight' }));
    let calls = 0;
    const first = await startGanTraining(tiny({ iterations: 8, checkpointEvery: 2, runId: 'damaged', shouldStop: () => ++calls > 6 }));
    expect(first.result).toMatchObject({ iterations: 6, stopped: true });
    expect(fs.readdirSync(path.join(first.runDir, 'checkpoints')).sort()).toEqual(['iter-00000004', 'iter-00000006', 'latest.json']);
    fs.truncateSync(path.join(first.runDir, 'checkpoints', 'iter-00000006', 'generator', 'weights.bin'), 64);
    fs.appendFileSync(path.join(first.runDir, 'metrics.jsonl'), '{"type":"upd');
    const warnings: string[] = [];
    const second = await resumeGanTraining(first.runDir, { images: apples, onWarning: (m) => warnings.push(m) });
    expect(second.result).toMatchObject({ iterations: 8, stopped: false });
    expect(warnings.join('\n')).toMatch(/checkpoint iter-00000006 is damaged \(weights file .*weights\.bin has 64 bytes.*\); trying iter-00000004/);
    expect(warnings.join('\n')).toMatch(/resuming from checkpoint iter-00000004 instead/);
    for (const net of ['generator', 'discriminator']) {
      expect(fs.readFileSync(path.join(second.runDir, net, 'weights.bin')).equals(fs.readFileSync(path.join(straight.runDir, net, 'weights.bin'))), net).toBe(true);
    }
    const updates = (dir: string) => deterministicPart(readMetricsFile(path.join(dir, 'metrics.jsonl')).filter((e) => e.type === 'update'));
    expect(updates(second.runDir)).toEqual(updates(straight.runDir));
  }, 90_000);

  it('metrics.jsonl shorter than the offset: a clear error, the file untouched (nothing lost)', async () => {
    const run = await startGanTraining(tiny({ iterations: 3, checkpointEvery: 1, runId: 'short' }));
    const file = path.join(run.runDir, 'metrics.jsonl');
    fs.writeFileSync(file, '');
    await expect(resumeGanTraining(run.runDir, { images: apples, iterations: 5 })).rejects.toThrow(/metrics\.jsonl holds 0 bytes, but checkpoint iter-00000003 was taken when it held \d+: .*left untouched/);
    expect(fs.statSync(file).size).toBe(0);
  }, 60_000);

  it("default interval: the fast preset's 500 iterations scaled to a tenth of a shorter run; given ones are kept", async () => {
    // (Stopped before the first iteration: only the run's config matters here.)
    const stop = { shouldStop: () => true, sampleEvery: 0 };
    const full = await startGanTraining(tiny({ ...stop, preset: 'fast', runId: 'fast-default' }));
    expect([full.config.iterations, full.config.hyperparameters.checkpointEvery]).toEqual([2400, 240]);
    const short = await startGanTraining(tiny({ ...stop, preset: 'fast', iterations: 600, runId: 'fast-600' }));
    expect(short.config.hyperparameters.checkpointEvery).toBe(60);
    const given = await startGanTraining(tiny({ ...stop, preset: 'fast', iterations: 600, checkpointEvery: 500, runId: 'fast-given' }));
    expect(given.config.hyperparameters.checkpointEvery).toBe(500);
    const set = await startGanTraining(tiny({ ...stop, preset: 'fast', iterations: 600, overrides: { checkpointEvery: 300 }, runId: 'fast-set' }));
    expect(set.config.hyperparameters.checkpointEvery).toBe(300);
  }, 60_000);
});

describe('AlphaZero runs', () => {
  const TINY = { size: 5, filters: [8], hidden: [16], simulations: 8, gamesPerIteration: 2, trainSteps: 3, batchSize: 16, bufferSize: 500, evalEvery: 0 };
  const strip = (events: AlphaZeroEvent[]) => events.map((e) => (e.type === 'iteration' ? { ...e, selfPlaySeconds: 0, trainSeconds: 0, elapsed: 0 } : e));
  beforeAll(async () => {
    await initCompute('wasm');
  });

  it('newest checkpoint damaged (bad state.json): resumes from the one before with a warning and ends like an uninterrupted run (nothing lost); default interval a tenth', async () => {
    const out = path.join(tmp, 'az');
    const full = await trainAlphaZero({ hyperparameters: TINY, seed: 4, iterations: 4, out, runId: 'full', backend: 'wasm' });
    const part = await trainAlphaZero({ hyperparameters: TINY, seed: 4, iterations: 3, out, runId: 'part', backend: 'wasm' });
    const config = JSON.parse(fs.readFileSync(path.join(part.dir, 'config.json'), 'utf8')) as { checkpointEvery: number };
    expect(config.checkpointEvery).toBe(1); // 3 iterations: every one
    expect(fs.readdirSync(path.join(part.dir, 'checkpoints')).sort()).toEqual(['iter-00000002', 'iter-00000003', 'latest.json']);
    // The filled part of the replay buffer only: 500 positions of capacity, fewer stored.
    const state = JSON.parse(fs.readFileSync(path.join(part.dir, 'checkpoints', 'iter-00000003', 'state.json'), 'utf8')) as { bufferCount: number };
    expect(state.bufferCount).toBeLessThan(500);
    const { history } = JSON.parse(fs.readFileSync(path.join(part.dir, 'checkpoints', 'iter-00000003', 'agent.json'), 'utf8')) as { history: number };
    const rowBytes = 4 * (25 * (2 * history + 1) + 26 + 1);
    expect(fs.statSync(path.join(part.dir, 'checkpoints', 'iter-00000003', 'buffer.bin')).size).toBe(state.bufferCount * rowBytes);
    fs.writeFileSync(path.join(part.dir, 'checkpoints', 'iter-00000003', 'state.json'), '{"iteration": 3, "elapsed');
    const warnings: string[] = [];
    const resumed = await resumeAlphaZero(part.dir, { iterations: 4, onWarning: (m) => warnings.push(m) });
    expect(resumed).toMatchObject({ iteration: 4, finished: true });
    expect(warnings.join('\n')).toMatch(/checkpoint iter-00000003 is damaged \(loop state .*state\.json is not valid JSON.*\); trying iter-00000002/);
    expect(strip(readAlphaZeroMetrics(part.dir))).toEqual(strip(readAlphaZeroMetrics(full.dir)));
    expect(fs.readFileSync(path.join(part.dir, 'agent', 'weights.bin')).equals(fs.readFileSync(path.join(full.dir, 'agent', 'weights.bin')))).toBe(true);
  }, 120_000);

  it('metrics.jsonl shorter than the offset: a clear error, the file untouched (nothing lost)', async () => {
    const run = await trainAlphaZero({ hyperparameters: TINY, seed: 4, iterations: 1, out: path.join(tmp, 'az'), runId: 'short', backend: 'wasm' });
    const file = path.join(run.dir, 'metrics.jsonl');
    const text = fs.readFileSync(file);
    fs.writeFileSync(file, text.subarray(0, 10));
    await expect(resumeAlphaZero(run.dir, { iterations: 2 })).rejects.toThrow(/metrics\.jsonl holds 10 bytes, but checkpoint iter-00000001 was taken when it held \d+/);
    expect(fs.readFileSync(file).equals(text.subarray(0, 10))).toBe(true);
  }, 60_000);
});

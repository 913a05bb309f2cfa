import { afterAll, describe, expect, it, vi } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Rng, make, makeVec, type Env, type EnvSnapshot } from '../envs/index.js';
import { startTraining, resumeTraining } from '../agents/train.js';
import { readMetricsFile } from '../lab/run_store.js';
import type { TrainEvent } from '../protocol/events.js';
import {
  DEFAULT_REPLAY_CONFIG,
  EpisodeWriter,
  cubicSchedule,
  encodeReplay,
  findReplays,
  parseTrainSchedule,
  readReplay,
  replayFrames,
  resimulate,
  resolveReplayConfig,
  shouldRecordTrain,
  verifyReplay,
  type ReplayConfig,
  type ReplayHeader,
  type ReplayLog,
} from '../lab/replay.js';
import { main } from '../cli/main.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lab-replay-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
const LAB = fileURLToPath(new URL('../bin/lab.mjs', import.meta.url));

/** A DQN that barely trains: the runs exist to produce episodes, quickly. */
const TINY_DQN = { hidden: [16], learningStarts: 300, trainFrequency: 8, gradientSteps: 1, batchSize: 16, bufferSize: 2000, targetUpdateInterval: 200 };

const json = (v: unknown): unknown => JSON.parse(JSON.stringify(v));

describe('recording schedule and options', () => {
  it("follows Gymnasium's capped cubic schedule", () => {
    const ids = Array.from({ length: 5001 }, (_, k) => k).filter(cubicSchedule);
    expect(ids).toEqual([0, 1, 8, 27, 64, 125, 216, 343, 512, 729, 1000, 2000, 3000, 4000, 5000]);
    expect(shouldRecordTrain('cubic', 728)).toBe(false);
    expect(shouldRecordTrain({ every: 7 }, 21)).toBe(true);
    expect(shouldRecordTrain({ every: 7 }, 22)).toBe(false);
    expect(shouldRecordTrain('all', 3)).toBe(true);
    expect(shouldRecordTrain('none', 0)).toBe(false);
  });

  it('parses and checks the recording options', () => {
    expect(resolveReplayConfig(undefined)).toEqual({ eval: true, train: 'cubic', frames: false, obs: false });
    expect(resolveReplayConfig({ frames: true, train: { every: 10 } })).toEqual({ ...DEFAULT_REPLAY_CONFIG, frames: true, train: { every: 10 } });
    expect(parseTrainSchedule('every:25')).toEqual({ every: 25 });
    expect(parseTrainSchedule('all')).toBe('all');
    expect(() => parseTrainSchedule('every:0')).toThrow(/every: n\b|positive integer/);
    expect(() => parseTrainSchedule('sometimes')).toThrow(/--record-train must be cubic, none, all or every:N/);
    expect(() => resolveReplayConfig({ frames: 'yes' } as unknown as Partial<ReplayConfig>)).toThrow(/replays.frames must be true or false, got 'yes'/);
    expect(() => resolveReplayConfig({ video: true } as unknown as Partial<ReplayConfig>)).toThrow(/unknown option 'video'/);
  });
});

describe('single-env snapshots of vector sub-envs', () => {
  /**
   * Steps a same-step vector env with random actions and follows sub-env `i` with a fresh `make()` env that
   * restores `snapshotEnv(i)` at every episode start: both must agree on every step, snapshot and final state.
   */
  function follow(id: string, options: Record<string, unknown>, steps: number, i = 1): number {
    const vec = makeVec(id, 3, { ...options, autoresetMode: 'same-step' });
    const single = () => make(id, { ...options });
    const nActions = (vec.singleActionSpace as unknown as { n: number }).n;
    const rng = new Rng(7);
    vec.reset({ seed: 40 });
    vec.watchFinalState(i);
    let shadow: Env = single();
    shadow.restore(vec.snapshotEnv(i));
    let episodes = 0;
    for (let t = 0; t < steps; t++) {
      const actions = Int32Array.from({ length: 3 }, () => rng.integer(nActions));
      const [obs, rewards, terms, truncs, infos] = vec.step(actions);
      const [sObs, sReward, sTerm, sTrunc] = shadow.step(actions[i]!);
      expect(sReward).toBe(rewards[i]);
      expect(sTerm).toBe(terms[i] === 1);
      expect(sTrunc).toBe(truncs[i] === 1);
      const width = obs.length / 3;
      const vecObs = terms[i] || truncs[i] ? (infos.finalObs as unknown[])[i] : width === 1 && typeof sObs === 'number' ? obs[i] : obs.slice(i * width, (i + 1) * width);
      expect(json(sObs)).toEqual(json(vecObs));
      if (terms[i] || truncs[i]) {
        episodes++;
        expect(json(vec.takeFinalSnapshot(i))).toEqual(json(shadow.snapshot()));
        expect(vec.takeFinalSnapshot(i)).toBeNull();
        shadow = single();
        shadow.restore(vec.snapshotEnv(i));
      } else {
        // Same JSON as the single env's own snapshot, structure included.
        expect(json(vec.snapshotEnv(i))).toEqual(json(shadow.snapshot()));
        expect(json(vec.renderEnv(i))).toEqual(json(shadow.render()));
      }
    }
    vec.close();
    return episodes;
  }

  it('CartPole (struct of arrays) with its time limit, a short one, and none', () => {
    expect(follow('CartPole-v1', {}, 600)).toBeGreaterThan(15);
    expect(follow('CartPole-v1', { maxEpisodeSteps: 9 }, 200)).toBeGreaterThan(15);
    expect(follow('CartPole-v1', { maxEpisodeSteps: null }, 300)).toBeGreaterThan(5);
    const vec = makeVec('CartPole-v1', 2);
    vec.reset({ seed: 3 });
    const env = make('CartPole-v1');
    env.reset({ seed: 4 });
    expect(json(vec.snapshotEnv(1))).toEqual(json(env.snapshot()));
    expect(() => vec.snapshotEnv(2)).toThrow(/sub-env index must be an integer from 0 to 1, got 2/);
  });

  it('SyncVectorEnv: slippery FrozenLake (RNG while stepping), Taxi, Snake', () => {
    expect(follow('FrozenLake-v1', { isSlippery: true }, 1500)).toBeGreaterThan(50);
    expect(follow('Taxi-v4', {}, 1000)).toBeGreaterThanOrEqual(4);
    expect(follow('Snake-v0', {}, 1500)).toBeGreaterThan(5);
  });
});

/** Metrics episodes of sub-env 0 in order, and evaluations. */
function metrics(runDir: string): { episodes: Extract<TrainEvent, { type: 'episode' }>[]; evals: Extract<TrainEvent, { type: 'eval' }>[] } {
  const events = readMetricsFile(path.join(runDir, 'metrics.jsonl'));
  return {
    episodes: events.filter((e): e is Extract<TrainEvent, { type: 'episode' }> => e.type === 'episode' && e.envIndex === 0),
    evals: events.filter((e): e is Extract<TrainEvent, { type: 'eval' }> => e.type === 'eval'),
  };
}

function expectRoundTrip(file: string): ReplayLog {
  const log = readReplay(file);
  const sim = resimulate(log, { frames: log.header.frames, obs: log.header.obs });
  expect(sim.error).toBeNull();
  expect(sim.rewards).toEqual(log.steps.map((s) => s.r));
  expect(sim.terminated).toEqual(log.steps.map((s) => s.term));
  expect(sim.truncated).toEqual(log.steps.map((s) => s.trunc));
  expect(json(sim.final)).toEqual(log.footer.final);
  if (log.header.obs) expect(json(sim.obs)).toEqual(log.steps.map((s) => s.obs));
  if (log.header.frames) expect(json(sim.frames)).toEqual([log.header.startFrame, ...log.steps.map((s) => s.frame)]);
  const verdict = verifyReplay(file);
  expect(verdict.mismatch).toBeNull();
  expect(verdict).toMatchObject({ ok: true, error: null, steps: log.steps.length, return: log.footer.return });
  return log;
}

const cases: { envId: string; agent: string; steps: number; overrides: Record<string, unknown>; envKwargs?: Record<string, unknown>; replays: Partial<ReplayConfig> }[] = [
  { envId: 'CartPole-v1', agent: 'reinforce', steps: 2000, overrides: {}, replays: { train: 'all', frames: true, obs: true } },
  { envId: 'FrozenLake-v1', agent: 'dqn', steps: 1500, overrides: TINY_DQN, envKwargs: { isSlippery: true }, replays: { train: 'all', frames: true } },
  { envId: 'Taxi-v4', agent: 'dqn', steps: 1500, overrides: TINY_DQN, replays: {} },
  { envId: 'Snake-v0', agent: 'dqn', steps: 1500, overrides: TINY_DQN, replays: { train: { every: 3 }, obs: true } },
];

describe('replay logs written by training runs', () => {
  const runs = new Map<string, string>();

  for (const c of cases) {
    it(`round trip: ${c.envId} (${c.agent}, replays ${JSON.stringify(c.replays)})`, async () => {
      const { runDir, config } = await startTraining({
        envId: c.envId,
        agent: c.agent,
        seed: 2,
        steps: c.steps,
        evalEvery: 500,
        evalEpisodes: 3,
        checkpointEvery: 0,
        backend: 'wasm',
        out: path.join(tmp, 'runs'),
        overrides: c.overrides,
        envKwargs: c.envKwargs ?? {},
        replays: c.replays,
      });
      runs.set(c.envId, runDir);
      const replays = resolveReplayConfig(c.replays);
      expect(config.replays).toEqual(replays);
      const files = findReplays([runDir]).map((f) => path.basename(f));
      const { episodes, evals } = metrics(runDir);
      // Every finished training episode the schedule picks; the one in progress at the end is not a log.
      const trainIds = episodes.map((_, k) => k).filter((k) => shouldRecordTrain(replays.train, k));
      const evalNames = evals.flatMap((e) => [0, 1, 2].map((j) => `eval-s${String(e.step).padStart(10, '0')}-e00${j}.jsonl.gz`));
      expect(files).toEqual([...evalNames, ...trainIds.map((k) => `train-e${String(k).padStart(7, '0')}.jsonl.gz`)]);

      for (const k of trainIds) {
        const log = expectRoundTrip(path.join(runDir, 'replays', `train-e${String(k).padStart(7, '0')}.jsonl.gz`));
        // The log is the episode that metrics.jsonl counted.
        expect(log.footer.return).toBe(episodes[k]!.return);
        expect(log.footer.length).toBe(episodes[k]!.length);
        expect(log.header).toMatchObject({ mode: 'train', episode: k, seed: null, envId: c.envId, runId: config.runId, agent: c.agent, frames: replays.frames, obs: replays.obs });
        expect(log.header.envState).not.toBeNull();
        expect(log.header.startStep).toBe(episodes[k]!.step - episodes[k]!.length);
      }
      for (const e of evals) {
        e.returns.forEach((ret, j) => {
          const log = expectRoundTrip(path.join(runDir, 'replays', `eval-s${String(e.step).padStart(10, '0')}-e00${j}.jsonl.gz`));
          expect(log.footer.return).toBe(ret);
          expect(log.header).toMatchObject({ mode: 'eval', episode: j, seed: config.evalSeed + j, envState: null, checkpointStep: e.step, startStep: null });
        });
      }
    });
  }

  it('frames regenerated from a log without frames equal the recorded ones', async () => {
    // The same seeded run twice, with and without frames: identical episodes, so identical frames.
    const common = { envId: 'CartPole-v1', agent: 'reinforce', seed: 4, steps: 600, evalEvery: 0, evalEpisodes: 2, checkpointEvery: 0, backend: 'wasm' as const };
    const withFrames = await startTraining({ ...common, out: path.join(tmp, 'frames-on'), replays: { train: 'all', frames: true } });
    const without = await startTraining({ ...common, out: path.join(tmp, 'frames-off'), replays: { train: 'all' } });
    const names = findReplays([path.join(without.runDir, 'replays')]).map((f) => path.basename(f));
    expect(names.length).toBeGreaterThan(10);
    for (const name of names) {
      const recorded = readReplay(path.join(withFrames.runDir, 'replays', name));
      const bare = path.join(without.runDir, 'replays', name);
      expect(readReplay(bare).steps[0]!.frame).toBeUndefined();
      const frames = replayFrames(bare);
      expect(frames).toHaveLength(recorded.steps.length + 1);
      expect(json(frames)).toEqual([recorded.header.startFrame, ...recorded.steps.map((s) => s.frame)]);
    }
    // The last frame shows the state that ended the episode (not the autoreset one).
    const last = readReplay(path.join(withFrames.runDir, 'replays', names.at(-1)!));
    const final = last.footer.final as { inner: { inner: { state: number[] } } };
    expect((last.steps.at(-1)!.frame as { x: number }).x).toBe(final.inner.inner.state[0]);
  });

  it('a resumed run writes the same logs as an uninterrupted one, minus the episode in progress at the checkpoint', async () => {
    const common = { envId: 'CartPole-v1', agent: 'dqn', seed: 6, steps: 1600, evalEvery: 800, evalEpisodes: 2, checkpointEvery: 400, backend: 'wasm' as const, overrides: TINY_DQN, replays: { train: 'all' as const } };
    const reference = await startTraining({ ...common, out: path.join(tmp, 'resume-ref') });
    let calls = 0;
    const stopped = await startTraining({ ...common, out: path.join(tmp, 'resume'), shouldStop: () => ++calls >= 650 });
    expect(stopped.result.stopped).toBe(true);
    // What a process killed while writing a log leaves behind; resuming clears it.
    const leftover = path.join(stopped.runDir, 'replays', '.train-e0000099.jsonl.gz.tmp-123-abc');
    fs.writeFileSync(leftover, 'partial');
    await resumeTraining(stopped.runDir, { backend: 'wasm' });
    expect(fs.existsSync(leftover)).toBe(false);
    const refDir = path.join(reference.runDir, 'replays');
    const dir = path.join(stopped.runDir, 'replays');
    const names = fs.readdirSync(dir).sort();
    const refNames = fs.readdirSync(refDir).sort();
    const missing = refNames.filter((n) => !names.includes(n));
    // The stop checkpoint came at step 650, in the middle of one episode of sub-env 0: only that one is missing.
    const { episodes } = metrics(reference.runDir);
    const inProgress = episodes.findIndex((e) => e.step > 650 && e.step - e.length < 650);
    expect(inProgress).toBeGreaterThan(0);
    expect(missing).toEqual([`train-e${String(inProgress).padStart(7, '0')}.jsonl.gz`]);
    expect(names.filter((n) => !refNames.includes(n))).toEqual([]);
    for (const name of names) {
      const a = readReplay(path.join(dir, name));
      const b = readReplay(path.join(refDir, name));
      expect({ ...a.header, createdAt: '', runId: '' }).toEqual({ ...b.header, createdAt: '', runId: '' });
      expect(a.steps).toEqual(b.steps);
      expect(a.footer).toEqual(b.footer);
    }
  });
});

describe('reading damaged logs', () => {
  const dir = path.join(tmp, 'damaged');
  fs.mkdirSync(dir, { recursive: true });
  /** A real 20-step CartPole episode, written by the recorder's writer. */
  function sampleLog(): { header: ReplayHeader; lines: string[] } {
    const env = make('CartPole-v1');
    env.reset({ seed: 11 });
    const header: ReplayHeader = {
      type: 'header', format: 'lab-replay', version: 1, runId: null, envId: 'CartPole-v1', envKwargs: {}, maxEpisodeSteps: 500,
      mode: 'eval', episode: 0, seed: 11, envState: null, agent: null, preset: null, checkpointStep: 0, startStep: null,
      labVersion: 'test', createdAt: new Date(0).toISOString(), frames: false, obs: false,
    };
    const file = path.join(dir, 'sample.jsonl.gz');
    const writer = new EpisodeWriter(file, header);
    let ended = false;
    for (let t = 0; !ended; t++) {
      const a = t % 3 === 0 ? 0 : 1;
      const [, r, term, trunc] = env.step(a);
      writer.step(a, r, term, trunc);
      ended = term || trunc;
    }
    writer.finish(env.snapshot(), true, false);
    return { header, lines: zlib.gunzipSync(fs.readFileSync(file)).toString('utf8').trimEnd().split('\n') };
  }
  const sample = sampleLog();
  const write = (name: string, data: Buffer | string) => {
    const file = path.join(dir, name);
    fs.writeFileSync(file, data);
    return file;
  };
  const gz = (lines: string[]) => zlib.gzipSync(lines.join('\n') + '\n');

  it('the sample log verifies', () => {
    expect(sample.lines.length).toBeGreaterThan(8);
    expect(verifyReplay(path.join(dir, 'sample.jsonl.gz'))).toMatchObject({ ok: true });
  });

  it('names the file and the line for every kind of damage', () => {
    const good = gz(sample.lines);
    const cases: [string, Buffer | string, RegExp][] = [
      ['truncated.jsonl.gz', good.subarray(0, Math.floor(good.length / 2)), /truncated gzip data/],
      ['empty.jsonl.gz', Buffer.alloc(0), /truncated gzip data/],
      ['plain.jsonl.gz', sample.lines.join('\n'), /not gzip data/],
      ['no-footer.jsonl.gz', gz(sample.lines.slice(0, -1)), /: no footer \(the episode is incomplete\)$/],
      ['bad-json.jsonl.gz', gz(sample.lines.map((l, i) => (i === 4 ? l.slice(0, 10) : l))), /: line 5: not valid JSON$/],
      ['wrong-header.jsonl.gz', gz([JSON.stringify({ type: 'header', format: 'other-log' }), ...sample.lines.slice(1)]), /: line 1: not a lab-replay header$/],
      ['not-json-header.jsonl.gz', gz(['hello', ...sample.lines.slice(1)]), /: line 1: not valid JSON$/],
      ['newer.jsonl.gz', gz([JSON.stringify({ ...sample.header, version: 2 }), ...sample.lines.slice(1)]), /line 1: format version 2 is newer than this lab reads \(1\)/],
      ['missing-step.jsonl.gz', gz(sample.lines.filter((_, i) => i !== 3)), /: line 4: step number 3, expected 2$/],
      ['length.jsonl.gz', gz([...sample.lines.slice(0, -2), sample.lines.at(-1)!]), /footer says the episode has \d+ steps, but the log has \d+/],
      ['nan.jsonl.gz', gz(sample.lines.map((l, i) => (i === 2 ? l.replace('"r":1', '"r":null') : l))), /: line 3: step 1: reward must be a finite number, got null/],
      ['after-footer.jsonl.gz', gz([...sample.lines, sample.lines[1]!]), /more lines after the footer/],
    ];
    for (const [name, data, pattern] of cases) {
      const file = write(name, data);
      expect(() => readReplay(file), name).toThrow(pattern);
      expect(() => readReplay(file), name).toThrow(file);
      const verdict = verifyReplay(file);
      expect(verdict.ok, name).toBe(false);
      expect(verdict.error, name).toMatch(pattern);
    }
    expect(() => readReplay(path.join(dir, 'nope.jsonl.gz'))).toThrow(/nope\.jsonl\.gz: no such file/);
  });

  it('detects flipped bytes anywhere in the gzip data', () => {
    const good = gz(sample.lines);
    for (const at of [1, 20, Math.floor(good.length / 2), good.length - 6]) {
      const bad = Buffer.from(good);
      bad[at]! ^= 0x5a;
      const file = write(`flipped-${at}.jsonl.gz`, bad);
      expect(() => readReplay(file), `byte ${at}`).toThrow(new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: .*(gzip|JSON|line)`));
    }
  });

  it('verification catches a tampered reward, action or final state', () => {
    const log = readReplay(path.join(dir, 'sample.jsonl.gz'));
    const tamper = (name: string, edit: (l: ReplayLog) => void) => {
      const copy = JSON.parse(JSON.stringify(log)) as ReplayLog;
      edit(copy);
      const file = write(name, encodeReplay(copy));
      return verifyReplay(file);
    };
    // A reward changed consistently (the footer's return too), so the file reads fine but does not re-simulate.
    const reward = tamper('reward.jsonl.gz', (l) => {
      l.steps[3]!.r = 0;
      l.footer.return -= 1;
    });
    expect(reward).toMatchObject({ ok: false, error: null, mismatch: { step: 3, message: 'step 3: reward 0 ≠ 1 (log ≠ re-simulated)' } });
    // Another action: the pole moves differently; it shows by the end of the episode at the latest.
    const action = tamper('action.jsonl.gz', (l) => {
      l.steps[2]!.a = 1 - (l.steps[2]!.a as number);
    });
    expect(action.ok).toBe(false);
    expect(action.mismatch!.message).toMatch(/^(step \d+: (terminated|the re-simulated)|final state: inner\.inner\.state\[\d\])/);
    const invalid = tamper('invalid-action.jsonl.gz', (l) => {
      l.steps[5]!.a = 7;
    });
    expect(invalid.mismatch!.message).toMatch(/^step 5: the env refused action 7: .*invalid action 7/);
    const final = tamper('final.jsonl.gz', (l) => {
      (l.footer.final as { inner: { elapsed?: number; inner: { state: number[] } } }).inner.inner.state[1]! += 1e-12;
    });
    expect(final.mismatch!.message).toMatch(/^final state: inner\.inner\.state\[1\]: .* ≠ .* \(log ≠ re-simulated\)$/);
  });

  it('refuses to write non-finite numbers', () => {
    const writer = new EpisodeWriter(path.join(dir, 'nan-writer.jsonl.gz'), sample.header);
    expect(() => writer.step(0, NaN, false, false)).toThrow(/nan-writer\.jsonl\.gz: step 0: reward NaN is not a finite number/);
    expect(() => writer.step(0, 1, false, false, undefined, [0, Infinity])).toThrow(/step 0: obs\[1\] is Infinity; replay logs hold only finite numbers/);
    expect(() => new EpisodeWriter('x.jsonl.gz', { ...sample.header, envState: { v: -Infinity } as EnvSnapshot })).toThrow(/x\.jsonl\.gz: header: envState\.v is -Infinity/);
  });
});

describe('crash safety and the CLI', () => {
  it('after kill -9 mid-training every finished episode has a complete, verifiable log', async () => {
    const out = path.join(tmp, 'killed');
    const child = spawn(
      process.execPath,
      [LAB, 'train', '--env', 'CartPole-v1', '--agent', 'reinforce', '--seed', '1', '--steps', '10000000', '--eval-every', '0', '--checkpoint-every', '0', '--backend', 'wasm', '--record-train', 'all', '--record-frames', '--out', out],
      { stdio: 'ignore' },
    );
    const replaysDir = await new Promise<string>((resolve, reject) => {
      const timer = setInterval(() => {
        const runs = fs.existsSync(out) ? fs.readdirSync(out) : [];
        const dir = runs.length ? path.join(out, runs[0]!, 'replays') : '';
        if (dir && fs.existsSync(dir) && fs.readdirSync(dir).filter((f) => !f.startsWith('.')).length >= 60) {
          clearInterval(timer);
          child.kill('SIGKILL');
          resolve(dir);
        }
      }, 10);
      child.on('exit', () => {
        clearInterval(timer);
        reject(new Error('the child finished before it could be killed'));
      });
    });
    await new Promise((r) => child.on('exit', r));
    const entries = fs.readdirSync(replaysDir);
    const logs = entries.filter((f) => f.endsWith('.jsonl.gz') && !f.startsWith('.'));
    expect(logs.length).toBeGreaterThanOrEqual(60);
    // A log being written at the kill is a hidden temporary file, never a *.jsonl.gz name.
    expect(entries.filter((f) => !logs.includes(f)).every((f) => /^\.train-e\d{7}\.jsonl\.gz\.tmp-/.test(f))).toBe(true);
    expect(findReplays([replaysDir]).map((f) => path.basename(f))).toEqual(logs.sort());
    // Episode ids 0, 1, 2, … without gaps, each one complete and reproducible.
    expect(logs.sort()).toEqual(logs.map((_, k) => `train-e${String(k).padStart(7, '0')}.jsonl.gz`));
    for (const f of findReplays([replaysDir])) expect(verifyReplay(f), f).toMatchObject({ ok: true });
  });

  it('lab replay verify / show / frames', async () => {
    const runDir = fs.readdirSync(path.join(tmp, 'killed')).map((d) => path.join(tmp, 'killed', d))[0]!;
    const lines: string[] = [];
    const log = vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => void lines.push(args.join(' ')));
    const stdout = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      lines.push(String(chunk));
      return true;
    });
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      lines.push(String(chunk));
      return true;
    });
    try {
      const files = findReplays([runDir]);
      // By default: no line per passing log, one summary line.
      expect(await main(['node', 'lab', 'replay', 'verify', runDir])).toBe(0);
      expect(lines).toEqual([`${files.length} replay logs verified, 0 failed`]);
      lines.length = 0;
      expect(await main(['node', 'lab', 'replay', 'verify', runDir, '--verbose'])).toBe(0);
      expect(lines.filter((l) => l.startsWith('ok  '))).toHaveLength(files.length);
      expect(lines.at(-1)).toBe(`${files.length} replay logs verified, 0 failed`);
      expect(lines).toContain(`ok  ${files[0]}  ${readReplay(files[0]!).steps.length} steps, return ${readReplay(files[0]!).footer.return}`);

      // Tamper with one log: verification fails, names it, and the exit code is 1.
      const victim = readReplay(files[1]!);
      victim.steps[0]!.r = 5;
      victim.footer.return += 4;
      fs.writeFileSync(files[1]!, encodeReplay(victim));
      fs.writeFileSync(files[2]!, Buffer.from('garbage'));
      lines.length = 0;
      expect(await main(['node', 'lab', 'replay', 'verify', runDir])).toBe(1);
      expect(lines).toContain(`MISMATCH ${files[1]}: step 0: reward 5 ≠ 1 (log ≠ re-simulated)`);
      expect(lines).toContain(`ERROR ${files[2]}: not gzip data (a replay log is a .jsonl.gz file)`);
      expect(lines.join('\n')).toMatch(/2 of \d+ replay logs failed verification/);
      expect(lines).toContain(`${files.length} replay logs verified, 2 failed`);
      expect(lines.filter((l) => l.startsWith('ok  '))).toHaveLength(0);

      lines.length = 0;
      expect(await main(['node', 'lab', 'replay', 'verify', '--json', files[0]!, files[1]!])).toBe(1);
      const report = JSON.parse(lines[0]!);
      expect(report).toMatchObject({ files: 2, ok: 1, failed: 1, results: [{ ok: true }, { ok: false, mismatch: { step: 0 } }] });

      lines.length = 0;
      expect(await main(['node', 'lab', 'replay', 'frames', files[0]!])).toBe(0);
      const frames = lines.join('').trim().split('\n').map((l) => JSON.parse(l));
      expect(frames).toHaveLength(readReplay(files[0]!).steps.length + 1);
      expect(frames[0]).toMatchObject({ type: 'frame', step: 0, frame: { kind: 'cartpole', lastAction: null } });

      lines.length = 0;
      expect(await main(['node', 'lab', 'replay', 'show', files[0]!, '--fps', '0'])).toBe(0);
      const text = lines.join('\n');
      expect(text).toMatch(/CartPole-v1, time limit 500; training episode 0, start state from the log \(global step 0\)/);
      expect(text).toMatch(/re-simulation: reproduces the episode exactly/);
      expect(text).toMatch(/\| step 1\/\d+ \| action [01] \| reward 1 \| return 1/);
    } finally {
      log.mockRestore();
      stdout.mockRestore();
      stderr.mockRestore();
    }
  });
});

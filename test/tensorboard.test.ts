/**
 * TensorBoard event files (lab/tensorboard.ts, lab/run_logs.ts, `lab tensorboard`), read back by an independent
 * reader (test/tfevents.ts: protobufjs and @aws-crypto/crc32c): CRC32C against published vectors; the scalars
 * of an A2C run equal to its metrics.jsonl, also after kill -9 (with a torn last record) and --resume; the
 * GAN's sample grids as PNG of the right size; AlphaZero-lite's scalars; `lab tensorboard` on old runs and on
 * a fresh run's metrics.jsonl writing the files the run wrote itself.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { crc32c, maskedCrc32c, summaryEvent, tfRecord } from '../lab/tensorboard.js';
import { RunStore } from '../lab/run_store.js';
import { killedRun, runLab } from './lab_cli.js';
import { eventFileOf, maskedCrc, readEventFile, scalarsByTag, type DecodedEvent } from './tfevents.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lab-tensorboard-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
const FIXTURES = fileURLToPath(new URL('./fixtures/runs', import.meta.url));

type Scalars = Map<string, [number, number][]>;

function lines(runDir: string): Record<string, any>[] {
  return fs
    .readFileSync(path.join(runDir, 'metrics.jsonl'), 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l));
}

/**
 * What the event file of an RL run must hold, worked out here from metrics.jsonl with SB3's names (not with the
 * lab's table): per update the mean return and length of the last 100 episodes, fps and the agent's statistics;
 * per evaluation its mean and std return and mean length. Values as float32, as simple_value stores them.
 */
function expectedRlScalars(runDir: string): Scalars {
  const names: Record<string, [string, number]> = {
    policyLoss: ['train/policy_loss', 1],
    valueLoss: ['train/value_loss', 1],
    entropy: ['train/entropy_loss', -1],
    gradNorm: ['train/grad_norm', 1],
    explainedVariance: ['train/explained_variance', 1],
    loss: ['train/loss', 1],
    q: ['train/mean_q', 1],
    epsilon: ['rollout/exploration_rate', 1],
    buffer: ['rollout/buffer_size', 1],
    learningRate: ['train/learning_rate', 1],
  };
  const out: Scalars = new Map();
  const put = (tag: string, step: number, v: number) => {
    if (!out.has(tag)) out.set(tag, []);
    out.get(tag)!.push([step, Math.fround(v)]);
  };
  const episodes: { r: number; l: number }[] = [];
  for (const e of lines(runDir)) {
    if (e.type === 'episode') episodes.push({ r: e.return, l: e.length });
    if (e.type === 'update') {
      const last = episodes.slice(-100);
      if (last.length > 0) {
        put('rollout/ep_rew_mean', e.step, last.reduce((a, x) => a + x.r, 0) / last.length);
        put('rollout/ep_len_mean', e.step, last.reduce((a, x) => a + x.l, 0) / last.length);
      }
      for (const [k, v] of Object.entries(e.stats as Record<string, number | null>)) {
        if (k === 'updates' || v === null) continue;
        const [tag, sign] = names[k] ?? [`unexpected stat ${k}`, 1];
        put(tag, e.step, sign * v);
      }
      put('time/fps', e.step, e.sps);
    }
    if (e.type === 'eval') {
      put('eval/mean_reward', e.step, e.meanReturn);
      put('eval/std_reward', e.step, e.stdReturn);
      put('eval/mean_ep_length', e.step, e.meanLength);
    }
  }
  return out;
}

function sortedByTag(m: Scalars): [string, [number, number][]][] {
  return [...m.entries()].sort(([a], [b]) => a.localeCompare(b));
}

function logFiles(runDir: string): Record<string, Buffer> {
  const out: Record<string, Buffer> = {};
  for (const f of fs.readdirSync(runDir)) if (f.includes('tfevents') || f.endsWith('.csv')) out[f] = fs.readFileSync(path.join(runDir, f));
  return out;
}

describe('CRC32C and TFRecord framing', () => {
  it('gives the published CRC32C check values (RFC 3720 B.4, "123456789")', () => {
    expect(crc32c(Buffer.from('123456789'))).toBe(0xe3069283);
    expect(crc32c(new Uint8Array(32))).toBe(0x8a9136aa);
    expect(crc32c(new Uint8Array(32).fill(0xff))).toBe(0x62a8ab43);
    expect(crc32c(Uint8Array.from({ length: 32 }, (_, i) => i))).toBe(0x46dd794e);
  });

  it('masks as TFRecord does, agreeing with an independent CRC32C', () => {
    expect(maskedCrc32c(Buffer.from('123456789'))).toBe(0xc78ab0e5);
    expect(maskedCrc32c(new Uint8Array(8))).toBe(0x07980329);
    const data = Buffer.from('any bytes at all \u00ff\u0000');
    expect(maskedCrc32c(data)).toBe(maskedCrc(data));
  });

  it('frames events that the independent reader decodes: big steps, scalars, images, text', () => {
    const file = path.join(tmp, 'unit.tfevents');
    const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 1, 2, 3]);
    const step = 2 ** 40 + 3;
    fs.writeFileSync(
      file,
      Buffer.concat([
        tfRecord(summaryEvent(1234.5, step, [{ tag: 'a/b', scalar: 0.1 }, { tag: 'zero', scalar: 0 }])),
        tfRecord(summaryEvent(1235, 7, [{ tag: 'img', image: { png, width: 3, height: 2, colorspace: 1 } }])),
        tfRecord(summaryEvent(1236, 0, [{ tag: 'config', text: 'héllo' }])),
      ]),
    );
    const { events, torn } = readEventFile(file);
    expect(torn).toBe(false);
    expect(events[0]).toEqual({ wallTime: 1234.5, step, summary: { value: [{ tag: 'a/b', simpleValue: Math.fround(0.1) }, { tag: 'zero', simpleValue: 0 }] } });
    expect(events[1]!.summary!.value[0]!.image).toEqual({ height: 2, width: 3, colorspace: 1, encodedImageString: png });
    const text = events[2]!.summary!.value[0]!;
    expect(text.tensor!.dtype).toBe(7);
    expect(Buffer.from(text.tensor!.stringVal![0]!).toString('utf8')).toBe('héllo');
    expect(text.metadata!.pluginData!.pluginName).toBe('text');
  });
});

describe('an A2C CartPole run', () => {
  const base = ['train', '--env', 'CartPole-v1', '--agent', 'a2c', '--steps', '4000', '--eval-every', '2000', '--eval-episodes', '2', '--checkpoint-every', '1000', '--seed', '2', '--backend', 'cpu', '--out', tmp];
  const refDir = path.join(tmp, 'a2c-ref');
  beforeAll(async () => {
    const r = await runLab([...base, '--run-id', 'a2c-ref'], tmp);
    expect(r.code, r.err).toBe(0);
  }, 120_000);

  it('writes an event file whose scalars equal metrics.jsonl under SB3 names, with the config as text', () => {
    const { events, torn } = readEventFile(eventFileOf(refDir));
    expect(torn).toBe(false);
    expect(events[0]!.fileVersion).toBe('brain.Event:2');
    const config = events[1]!.summary!.value[0]!;
    expect(config.tag).toBe('config');
    expect(JSON.parse(Buffer.from(config.tensor!.stringVal![0]!).toString('utf8'))).toEqual(JSON.parse(fs.readFileSync(path.join(refDir, 'config.json'), 'utf8')));
    const scalars = scalarsByTag(events);
    expect(sortedByTag(scalars)).toEqual(sortedByTag(expectedRlScalars(refDir)));
    expect([...scalars.keys()].sort()).toEqual(
      ['eval/mean_ep_length', 'eval/mean_reward', 'eval/std_reward', 'rollout/ep_len_mean', 'rollout/ep_rew_mean', 'time/fps', 'train/entropy_loss', 'train/explained_variance', 'train/grad_norm', 'train/learning_rate', 'train/policy_loss', 'train/value_loss'].sort(),
    );
    expect(scalars.get('rollout/ep_rew_mean')!.map(([s]) => s)).toEqual([1000, 2000, 3000, 4000]);
    // Wall times: from the run's creation on, never backwards.
    const created = Date.parse(JSON.parse(fs.readFileSync(path.join(refDir, 'config.json'), 'utf8')).createdAt) / 1000;
    const walls = events.map((e) => e.wallTime);
    expect(walls[0]).toBeCloseTo(created, 3);
    for (let i = 1; i < walls.length; i++) expect(walls[i]).toBeGreaterThanOrEqual(walls[i - 1]!);
  });

  it('lab tensorboard writes the same files again from metrics.jsonl, leaving metrics.jsonl alone', async () => {
    const copy = path.join(tmp, 'a2c-copy');
    fs.cpSync(refDir, copy, { recursive: true });
    const written = logFiles(copy);
    for (const f of Object.keys(written)) fs.rmSync(path.join(copy, f));
    const metrics = fs.readFileSync(path.join(copy, 'metrics.jsonl'));
    const r = await runLab(['tensorboard', copy], tmp);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain('tensorboard --logdir');
    expect(Object.keys(written).sort()).toEqual(['monitor.csv', 'progress.csv', path.basename(eventFileOf(refDir))].sort());
    const again = logFiles(copy);
    expect(Object.keys(again).sort()).toEqual(Object.keys(written).sort());
    for (const f of Object.keys(written)) expect(again[f]!.equals(written[f]!), f).toBe(true);
    expect(fs.readFileSync(path.join(copy, 'metrics.jsonl')).equals(metrics)).toBe(true);
  });

  it('after kill -9, a torn last record and --resume: no step twice, values equal to metrics.jsonl and to the uninterrupted run', async () => {
    const runDir = path.join(tmp, 'a2c-killed');
    const at = await killedRun([...base, '--run-id', 'a2c-killed'], runDir, 2000);
    expect(at).toBeLessThan(4000);
    // A writer killed in the middle of a record: half a record at the end of the file.
    const file = eventFileOf(runDir);
    const half = tfRecord(summaryEvent(1, 999_999, [{ tag: 'torn', scalar: 1 }]));
    fs.appendFileSync(file, half.subarray(0, half.length >> 1));
    expect(readEventFile(file).torn).toBe(true);
    const resumed = await runLab(['train', '--resume', runDir, '--backend', 'cpu'], tmp);
    expect(resumed.code, resumed.err).toBe(0);
    const { events, torn } = readEventFile(eventFileOf(runDir));
    expect(torn).toBe(false);
    const scalars = scalarsByTag(events);
    for (const [tag, points] of scalars) expect(new Set(points.map(([s]) => s)).size, tag).toBe(points.length);
    expect(sortedByTag(scalars)).toEqual(sortedByTag(expectedRlScalars(runDir)));
    const withoutFps = (m: Scalars) => sortedByTag(m).filter(([tag]) => tag !== 'time/fps');
    expect(withoutFps(scalars)).toEqual(withoutFps(scalarsByTag(readEventFile(eventFileOf(refDir)).events)));
    // monitor.csv: the episodes of metrics.jsonl, once each.
    const rows = fs.readFileSync(path.join(runDir, 'monitor.csv'), 'utf8').trim().split('\n').slice(2).map((l) => l.split(',').slice(0, 2).map(Number));
    expect(rows).toEqual(lines(runDir).filter((e) => e.type === 'episode').map((e) => [e.return, e.length]));
  }, 120_000);
});

describe('GAN and AlphaZero-lite runs', () => {
  it('a GAN run logs its losses and accuracies, and its sample grids as the PNGs under samples/', async () => {
    const r = await runLab(['gan', 'train', '--category', 'apple', '--preset', 'tiny', '--iterations', '4', '--limit', '32', '--data', 'never', '--backend', 'cpu', '--run-id', 'gan', '--out', tmp, '--seed', '3', '--set', 'batch=4', '--checkpoint-every', '0', '--sample-every', '2', '--log-every', '2'], tmp);
    expect(r.code, r.err).toBe(0);
    const runDir = path.join(tmp, 'gan');
    const { events } = readEventFile(eventFileOf(runDir));
    const updates = lines(runDir).filter((e) => e.type === 'update');
    const scalars = scalarsByTag(events);
    expect(scalars.get('train/d_loss')).toEqual(updates.map((e) => [e.step, Math.fround(e.stats.dLoss)]));
    expect(scalars.get('train/g_loss')).toEqual(updates.map((e) => [e.step, Math.fround(e.stats.gLoss)]));
    expect(scalars.get('train/d_acc_real')).toEqual(updates.map((e) => [e.step, Math.fround(e.stats.dAccReal)]));
    expect(scalars.get('train/d_acc_fake')).toEqual(updates.map((e) => [e.step, Math.fround(e.stats.dAccFake)]));
    expect(scalars.get('train/learning_rate_d')).toEqual(updates.map((e) => [e.step, Math.fround(e.stats.lrD)]));
    const images = events.flatMap((e: DecodedEvent) => (e.summary?.value ?? []).filter((v) => v.image).map((v) => ({ step: e.step ?? 0, ...v.image! })));
    expect(images.map((i) => i.step)).toEqual(lines(runDir).filter((e) => e.type === 'samples').map((e) => e.step));
    expect(images.map((i) => i.step)).toEqual([0, 2, 4]);
    for (const image of images) {
      const png = PNG.sync.read(Buffer.from(image.encodedImageString));
      // 8 × 8 cells of 28 px × 3, 2 px gutters.
      expect([png.width, png.height, image.width, image.height]).toEqual([690, 690, 690, 690]);
      const grid = fs.readFileSync(path.join(runDir, 'samples', `grid-iter-${String(image.step).padStart(8, '0')}.png`));
      expect(Buffer.from(image.encodedImageString).equals(grid)).toBe(true);
    }
    expect(fs.existsSync(path.join(runDir, 'monitor.csv'))).toBe(false);
  }, 120_000);

  it('lab tensorboard on the old runs of test/fixtures: every kind, values equal to metrics.jsonl', async () => {
    const copy = path.join(tmp, 'fixtures');
    fs.cpSync(FIXTURES, copy, { recursive: true });
    const r = await runLab(['tensorboard', copy], tmp);
    expect(r.code, r.err).toBe(0);
    for (const run of ['rl-dqn-cartpole', 'gan-tiny', 'go-alphazero-tiny']) expect(r.out).toContain(run);
    const rl = path.join(copy, 'rl-dqn-cartpole');
    expect(sortedByTag(scalarsByTag(readEventFile(eventFileOf(rl)).events))).toEqual(sortedByTag(expectedRlScalars(rl)));
    const az = path.join(copy, 'go-alphazero-tiny');
    const iterations = lines(az).filter((e) => e.type === 'iteration');
    const azScalars = scalarsByTag(readEventFile(eventFileOf(az)).events);
    expect(azScalars.get('train/policy_loss')).toEqual(iterations.map((e) => [e.iteration, Math.fround(e.policyLoss)]));
    expect(azScalars.get('train/value_loss')).toEqual(iterations.map((e) => [e.iteration, Math.fround(e.valueLoss)]));
    expect(azScalars.get('rollout/ep_len_mean')).toEqual(iterations.map((e) => [e.iteration, Math.fround(e.meanGameLength)]));
    const gan = path.join(copy, 'gan-tiny');
    const ganImages = readEventFile(eventFileOf(gan)).events.filter((e) => e.summary?.value.some((v) => v.image));
    expect(ganImages.map((e) => e.step)).toEqual(lines(gan).filter((e) => e.type === 'samples').map((e) => e.step));
  }, 60_000);

  it('AlphaZero-lite records appended live give what lab tensorboard gives', () => {
    const config = JSON.parse(fs.readFileSync(path.join(FIXTURES, 'go-alphazero-tiny', 'config.json'), 'utf8'));
    const store = RunStore.create(tmp, { ...config, kind: 'go-alphazero', runId: 'az-live' });
    const records = [...lines(path.join(FIXTURES, 'go-alphazero-tiny')), { type: 'go-eval', iteration: 2, opponent: 'uct 400', games: 4, wins: 3, losses: 1, draws: 0, score: 0.75 }, { ...lines(path.join(FIXTURES, 'go-alphazero-tiny'))[0], iteration: 3, policyLoss: Number.NaN }];
    for (const rec of records) store.append(rec);
    store.close();
    const live = logFiles(store.dir);
    const scalars = scalarsByTag(readEventFile(eventFileOf(store.dir)).events);
    expect(scalars.get('eval/score_vs_uct_400')).toEqual([[2, 0.75]]);
    // The NaN loss (null in metrics.jsonl) is left out; the other scalars of that iteration are there.
    expect(scalars.get('train/policy_loss')!.map(([s]) => s)).toEqual([1, 2]);
    expect(scalars.get('train/value_loss')!.map(([s]) => s)).toEqual([1, 2, 3]);
    for (const f of Object.keys(live)) fs.rmSync(path.join(store.dir, f));
    new RunStore(store.dir, 'go-alphazero').append({ ...records[0], iteration: 4 });
    const scalarsAfter = scalarsByTag(readEventFile(eventFileOf(store.dir)).events);
    expect(scalarsAfter.get('train/value_loss')!.map(([s]) => s)).toEqual([1, 2, 3, 4]);
  });

  it('lab tensorboard refuses a path that is not a run, in one line', async () => {
    fs.mkdirSync(path.join(tmp, 'empty'), { recursive: true });
    const r = await runLab(['tensorboard', path.join(tmp, 'empty')], tmp);
    expect(r.code).toBe(1);
    expect(r.err.trim().split('\n')).toEqual([`lab: error: ${path.join(tmp, 'empty')} is not a run directory (no config.json and metrics.jsonl) and holds none`]);
  });
});

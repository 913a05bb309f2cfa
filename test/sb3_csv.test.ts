/**
 * SB3's CSV logs beside metrics.jsonl (lab/sb3_csv.ts, lab/run_logs.ts through RunStore): monitor.csv holds the
 * training episodes of metrics.jsonl under SB3's Monitor header; progress.csv one row per logged point under
 * the union of the keys, rewritten wider when a key appears; both as after an uninterrupted run when a run is
 * resumed from a checkpoint after kill -9 (a torn line included), and the same from `lab tensorboard`.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { RunStore, prepareMetricsForResume } from '../lab/run_store.js';
import { RunLogs } from '../lab/run_logs.js';
import { csvNumber, monitorRow } from '../lab/sb3_csv.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lab-sb3-csv-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
const FIXTURE = fileURLToPath(new URL('./fixtures/runs/rl-dqn-cartpole', import.meta.url));
const CREATED = '2026-01-02T03:04:05.250Z';

function newRun(runId: string): RunStore {
  const config = JSON.parse(fs.readFileSync(path.join(FIXTURE, 'config.json'), 'utf8'));
  return RunStore.create(tmp, { ...config, kind: 'rl', runId, createdAt: CREATED });
}

const episode = (step: number, n: number, ret: number, time: number) => ({ type: 'episode', step, episode: n, envIndex: 0, return: ret, length: Math.round(ret), terminated: true, truncated: false, time });
const update = (step: number, stats: Record<string, number>, time: number) => ({ type: 'update', step, updates: step / 100, stats, sps: 1000, time });
const evaluation = (step: number, mean: number, time: number) => ({ type: 'eval', step, episodes: 2, meanReturn: mean, stdReturn: 1, minReturn: mean - 1, maxReturn: mean + 1, meanLength: mean, returns: [mean - 1, mean + 1], seconds: 0.1, time });
const checkpoint = (step: number, time: number) => ({ type: 'checkpoint', step, path: `checkpoints/step-${step}`, time });

/** progress.csv as header and rows of cells. */
function readCsv(file: string): { header: string[]; rows: string[][] } {
  const [header, ...rows] = fs.readFileSync(file, 'utf8').trimEnd().split('\n').map((l) => l.split(','));
  return { header: header!, rows };
}

function csvs(dir: string): string[] {
  return ['monitor.csv', 'progress.csv'].map((f) => fs.readFileSync(path.join(dir, f), 'utf8'));
}

describe('monitor.csv', () => {
  it("has SB3's header and one line per training episode of metrics.jsonl", () => {
    const store = newRun('monitor');
    store.append(episode(20, 1, 20, 0.5));
    store.append(episode(51, 2, 31.25, 1.1234567));
    store.append(update(100, { loss: 1 }, 1.5));
    store.close();
    const text = fs.readFileSync(path.join(store.dir, 'monitor.csv'), 'utf8');
    const [head, columns, ...rows] = text.trimEnd().split('\n');
    expect(JSON.parse(head!.slice(1))).toEqual({ t_start: Date.parse(CREATED) / 1000, env_id: 'CartPole-v1' });
    expect(head).toBe('#{"t_start": 1767323045.25, "env_id": "CartPole-v1"}');
    expect(columns).toBe('r,l,t');
    expect(rows).toEqual(['20,20,0.5', '31.25,31,1.123457']);
  });

  it('equals the episodes of the committed old run once lab tensorboard has written it', () => {
    const copy = path.join(tmp, 'fixture');
    fs.cpSync(FIXTURE, copy, { recursive: true });
    RunLogs.rewrite(copy, 'rl');
    const rows = fs.readFileSync(path.join(copy, 'monitor.csv'), 'utf8').trimEnd().split('\n').slice(2).map((l) => l.split(',').map(Number));
    const episodes = fs.readFileSync(path.join(copy, 'metrics.jsonl'), 'utf8').split('\n').filter((l) => l.includes('"episode"')).map((l) => JSON.parse(l));
    expect(rows.map(([r, l]) => [r, l])).toEqual(episodes.map((e) => [e.return, e.length]));
    expect(rows.map(([, , t]) => t)).toEqual(episodes.map((e) => e.time));
  });

  it('formats numbers as SB3 writes them', () => {
    expect([csvNumber(Number.NaN), csvNumber(Infinity), csvNumber(-Infinity), csvNumber(0.1), csvNumber(500)]).toEqual(['nan', 'inf', '-inf', '0.1', '500']);
    expect(monitorRow(1 / 3, 7, 2 / 3)).toBe('0.333333,7,0.666667\n');
  });
});

describe('progress.csv', () => {
  it('has one row per update and evaluation, the header the union of keys, widened (rewritten) when a key appears', () => {
    const store = newRun('progress');
    store.append(episode(30, 1, 30, 0.2));
    store.append(update(100, { loss: 0.5 }, 0.3));
    store.append(evaluation(100, 42, 0.4));
    store.append(episode(90, 2, 60, 0.5));
    store.append(update(200, { loss: 0.25, approxKl: 0.01 }, 0.6));
    store.close();
    const { header, rows } = readCsv(path.join(store.dir, 'progress.csv'));
    expect(header).toEqual([
      'rollout/ep_rew_mean', 'rollout/ep_len_mean', 'train/loss', 'time/fps', 'time/total_timesteps', 'train/n_updates', 'time/time_elapsed',
      'eval/mean_reward', 'eval/std_reward', 'eval/mean_ep_length', 'train/approx_kl',
    ]);
    expect(rows).toEqual([
      ['30', '30', '0.5', '1000', '100', '1', '0.3', '', '', '', ''],
      ['', '', '', '', '100', '', '', '42', '1', '42', ''],
      ['45', '45', '0.25', '1000', '200', '2', '0.6', '', '', '', '0.01'],
    ]);
    // What `lab tensorboard` writes from metrics.jsonl is what the run wrote as it went.
    const live = csvs(store.dir);
    RunLogs.rewrite(store.dir, 'rl');
    expect(csvs(store.dir)).toEqual(live);
  });
});

describe('kill -9 and resume', () => {
  it('leaves both files as an uninterrupted run writes them: no episode or row twice, no torn line', () => {
    const before = [episode(40, 1, 40, 0.4), update(100, { loss: 1 }, 0.5), checkpoint(100, 0.6)];
    const lost = [episode(140, 2, 100, 1.0), update(200, { loss: 2, clipFraction: 0.2 }, 1.1)];
    // The resumed process's clock starts again at 0.
    const after = [episode(150, 2, 50, 0.05), update(200, { loss: 3 }, 0.1), episode(230, 3, 80, 0.2)];

    const killed = newRun('killed');
    for (const r of before) killed.append(r);
    killed.close();
    const offset = killed.metricsSize();
    for (const r of lost) killed.append(r);
    // Killed in the middle of writing a line of each file.
    fs.appendFileSync(path.join(killed.dir, 'monitor.csv'), '12.5,1');
    fs.appendFileSync(path.join(killed.dir, 'progress.csv'), '3,3,0.');
    prepareMetricsForResume(killed.metricsFile, offset);
    const resumed = new RunStore(killed.dir, 'rl');
    for (const r of after) resumed.append(r);
    resumed.close();

    const straight = newRun('straight');
    for (const r of [...before, ...after]) straight.append(r);
    straight.close();
    expect(csvs(killed.dir)).toEqual(csvs(straight.dir));
    const monitor = fs.readFileSync(path.join(killed.dir, 'monitor.csv'), 'utf8').trimEnd().split('\n').slice(2);
    // The resumed session's times follow the first session's (0.6 s of training before it).
    expect(monitor).toEqual(['40,40,0.4', '50,50,0.65', '80,80,0.8']);
    expect(readCsv(path.join(killed.dir, 'progress.csv')).header).not.toContain('train/clip_fraction');
  });
});

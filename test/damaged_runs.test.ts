/**
 * Damaged runs are listed, not fatal: a run directory whose config.json or metrics.jsonl cannot be used is
 * listed with status 'damaged' and a short reason that names the file relative to the run (never an absolute
 * path), next to the good runs; the replays API and comparisons report damaged runs and logs and still serve
 * the others; `lab compare` leaves a damaged run out and says why; `lab eval` of one fails with one line.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTraining, evaluateRun } from '../agents/train.js';
import { startGanTraining } from '../gan/train.js';
import { loadQuickDraw } from '../gan/data.js';
import { DiskRuns } from '../server/disk_runs.js';
import { Hub } from '../server/hub.js';
import { BadRequest, Damaged, ReplayStore } from '../server/replays_api.js';
import { checkRunConfig, parseMetrics, publicMessage, RunDamage } from '../lab/run_files.js';
import type { RunSummary } from '../protocol/protocol.js';
import { agentLabel, damageReason, isDamaged, runTitle, sortRuns, statusMeta, STATUS_META } from '../viewer/src/model/runs.js';
import { damagedRuns, runsByEnv } from '../viewer/src/model/compare.js';

const LAB = fileURLToPath(new URL('../bin/lab.mjs', import.meta.url));
let root: string;
let realRoot: string;
let runsDir: string;
let cutLog: string;

function lab(...args: string[]) {
  const r = spawnSync(process.execPath, [LAB, ...args], { encoding: 'utf8', timeout: 120_000, cwd: root });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const dir = (id: string) => path.join(runsDir, id);
const readConfig = (id: string) => JSON.parse(fs.readFileSync(path.join(dir(id), 'config.json'), 'utf8')) as Record<string, unknown>;
const writeConfig = (id: string, config: unknown) => fs.writeFileSync(path.join(dir(id), 'config.json'), typeof config === 'string' ? config : JSON.stringify(config));
/** A copy of the good RL run (config, metrics, policy; no checkpoints or replays) under another id. */
function copyRun(id: string, edit?: (config: Record<string, unknown>) => void): void {
  fs.cpSync(dir('good-rl'), dir(id), { recursive: true, filter: (src) => !src.includes(`${path.sep}replays`) && !src.includes(`${path.sep}checkpoints`) });
  const config = { ...readConfig(id), runId: id };
  edit?.(config);
  writeConfig(id, config);
}
function metricsLines(id: string): string[] {
  return fs.readFileSync(path.join(dir(id), 'metrics.jsonl'), 'utf8').split('\n').filter((l) => l !== '');
}

/** Expected reason of each damaged run. */
const DAMAGED: Record<string, string | RegExp> = {
  'no-created-at': 'config.json: createdAt: expected a string, got nothing',
  'wrong-type': 'config.json: seed: expected an integer, got "one"',
  'bad-date': 'config.json: createdAt: expected a date and time, got "yesterday"',
  'not-json': /^config\.json: not valid JSON \(.+\)$/,
  'config-array': 'config.json: expected an object, got an array',
  'unknown-kind': 'config.json: kind: expected none (an RL run), "gan" or "go-alphazero", got "vae"',
  'garbage-metrics': 'metrics.jsonl: line 2 is not valid JSON',
  'bad-event': 'metrics.jsonl: line 1: return: expected a finite number, got "x"',
  'no-metrics': 'metrics.jsonl: missing',
  'gan-no-category': 'config.json: category: expected a string, got nothing',
  'az-damaged': 'config.json: hyperparameters.size: expected an integer, got nothing',
};

beforeAll(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'lab-damaged-'));
  realRoot = fs.realpathSync(root);
  runsDir = path.join(root, 'runs');
  await startTraining({ agent: 'reinforce', envId: 'CartPole-v1', seed: 1, steps: 2000, evalEvery: 1000, evalEpisodes: 2, out: runsDir, runId: 'good-rl', backend: 'cpu' });
  copyRun('good-rl-2', (c) => (c.seed = 2));
  // A crashed writer's partial last line is not damage.
  copyRun('partial-last-line');
  fs.appendFileSync(path.join(dir('partial-last-line'), 'metrics.jsonl'), '{"type":"episode","st');
  const apples = await loadQuickDraw('apple', { download: 'never', limit: 16 });
  await startGanTraining({ preset: 'tiny', category: 'apple', seed: 3, images: apples, out: runsDir, runId: 'good-gan', iterations: 4, logEvery: 2, sampleEvery: 2, checkpointEvery: 0, backend: 'cpu' });

  copyRun('no-created-at', (c) => delete c.createdAt);
  copyRun('wrong-type', (c) => (c.seed = 'one'));
  copyRun('bad-date', (c) => (c.createdAt = 'yesterday'));
  copyRun('not-json');
  writeConfig('not-json', '{"runId": "not-json", "envId": ');
  copyRun('config-array');
  writeConfig('config-array', '[]');
  copyRun('unknown-kind', (c) => (c.kind = 'vae'));
  copyRun('garbage-metrics');
  const lines = metricsLines('garbage-metrics');
  fs.writeFileSync(path.join(dir('garbage-metrics'), 'metrics.jsonl'), [lines[0], 'garbage {', ...lines.slice(1)].join('\n') + '\n');
  copyRun('bad-event');
  const events = metricsLines('bad-event').map((l) => JSON.parse(l) as Record<string, unknown>);
  const firstEpisode = events.findIndex((e) => e.type === 'episode');
  events[firstEpisode] = { ...events[firstEpisode], return: 'x' };
  fs.writeFileSync(path.join(dir('bad-event'), 'metrics.jsonl'), events.slice(firstEpisode).map((e) => JSON.stringify(e)).join('\n') + '\n');
  copyRun('no-metrics');
  fs.rmSync(path.join(dir('no-metrics'), 'metrics.jsonl'));
  fs.cpSync(dir('good-gan'), dir('gan-no-category'), { recursive: true });
  const gan = JSON.parse(fs.readFileSync(path.join(dir('gan-no-category'), 'config.json'), 'utf8')) as Record<string, unknown>;
  delete gan.category;
  writeConfig('gan-no-category', gan);
  // AlphaZero-lite runs: a good one (just started: no records yet) is listed as stored, a damaged one as damaged.
  const az = { kind: 'go-alphazero', runId: 'az-good', agent: 'alphazero', hyperparameters: { size: 7 }, seed: 1, iterations: 2, checkpointEvery: 1, backend: { requested: 'cpu', backend: 'cpu', reason: '' }, versions: { node: 'v20', tfjs: '4' }, createdAt: '2026-01-01T00:00:00.000Z', command: '' };
  fs.mkdirSync(dir('az-good'));
  writeConfig('az-good', az);
  fs.writeFileSync(path.join(dir('az-good'), 'metrics.jsonl'), '');
  fs.mkdirSync(dir('az-damaged'));
  writeConfig('az-damaged', { ...az, runId: 'az-damaged', hyperparameters: {} });
  // A replay log cut short, in a run that is otherwise fine.
  const logs = fs.readdirSync(path.join(dir('good-rl'), 'replays')).filter((n) => n.startsWith('eval-')).sort();
  cutLog = logs[0]!;
  const file = path.join(dir('good-rl'), 'replays', cutLog);
  const bytes = fs.readFileSync(file);
  fs.writeFileSync(file, bytes.subarray(0, Math.floor(bytes.length / 2)));
}, 180_000);

afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

function expectNoPaths(value: unknown): void {
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  expect(text).not.toContain(root);
  expect(text).not.toContain(realRoot);
  expect(text).not.toContain(os.tmpdir());
}

describe('the run list (DiskRuns)', () => {
  it('lists every run: the good ones stored, the damaged ones damaged with their reason', () => {
    const disk = new DiskRuns(runsDir);
    const list = disk.list();
    const byId = new Map(list.map((r) => [r.runId, r]));
    for (const id of ['good-rl', 'good-rl-2', 'partial-last-line', 'good-gan']) {
      expect(byId.get(id), id).toMatchObject({ status: 'stored', error: null });
    }
    expect(byId.get('good-rl')!.episodesDone).toBeGreaterThan(0);
    expect(byId.get('good-rl')!.lastEval).not.toBeNull();
    expect(byId.get('good-gan')).toMatchObject({ kind: 'gan', envId: 'quickdraw:apple', agent: 'gan', preset: 'tiny', steps: 4 });
    expect(disk.samples('good-gan').length).toBeGreaterThan(0);
    for (const [id, reason] of Object.entries(DAMAGED)) {
      const run = byId.get(id);
      expect(run, id).toBeDefined();
      expect(run!.status, id).toBe('damaged');
      if (typeof reason === 'string') expect(run!.error, id).toBe(reason);
      else expect(run!.error, id).toMatch(reason);
      expect(disk.damage(id)).toBe(run!.error);
      expect(disk.history(id)).toEqual({ episodes: [], evals: [], updates: [] });
    }
    expect(byId.get('az-good')).toMatchObject({ kind: 'go-alphazero', status: 'stored', envId: 'go:7x7', agent: 'alphazero', steps: 2, step: 0, lastMatches: [] });
    expect(list).toHaveLength(5 + Object.keys(DAMAGED).length);
    expectNoPaths(list);
    // Live runs (the hub's) need not be read from disk.
    expect(disk.list(new Set(['good-rl', 'not-json'])).map((r) => r.runId).sort()).toEqual(list.map((r) => r.runId).filter((id) => id !== 'good-rl' && id !== 'not-json').sort());
  });

  it('gives damaged runs safe fields: what config.json still says, else defaults; createdAt always a date', () => {
    const byId = new Map(new DiskRuns(runsDir).list().map((r) => [r.runId, r]));
    for (const run of byId.values()) {
      expect(typeof run.createdAt).toBe('string');
      expect(Number.isFinite(Date.parse(run.createdAt))).toBe(true);
      expect(typeof run.envId).toBe('string');
      expect(typeof run.agent).toBe('string');
      expect(Number.isFinite(run.seed)).toBe(true);
    }
    // Salvaged: the fields that still have the right type.
    expect(byId.get('no-created-at')).toMatchObject({ kind: 'rl', envId: 'CartPole-v1', agent: 'reinforce', seed: 1, steps: 2000, step: 0, origin: 'disk' });
    expect(byId.get('wrong-type')).toMatchObject({ envId: 'CartPole-v1', seed: 0 });
    expect(byId.get('gan-no-category')).toMatchObject({ kind: 'gan', envId: '', agent: 'gan', preset: 'tiny' });
    expect(byId.get('az-damaged')).toMatchObject({ kind: 'go-alphazero', agent: 'alphazero', envId: '' });
    // The directory's time stands in for a missing createdAt.
    const mtime = fs.statSync(dir('no-created-at')).mtimeMs;
    expect(Math.abs(Date.parse(byId.get('no-created-at')!.createdAt) - mtime)).toBeLessThan(1000);
    expect(byId.get('not-json')).toMatchObject({ envId: '', agent: '', seed: 0, steps: 0 });
  });

  it("the hub's list sorts them without throwing, and its refresh sees a repair", async () => {
    const hub = new Hub({ runsDir, serverUrl: () => '' });
    try {
      const list = hub.list();
      expect(list.filter((r) => r.status === 'damaged')).toHaveLength(Object.keys(DAMAGED).length);
      // The sort that crashed the server's refresh timer when a run lacked createdAt.
      expect(() => new DiskRuns(runsDir).list().sort((a, b) => b.createdAt.localeCompare(a.createdAt))).not.toThrow();
      expect(() => sortRuns(list)).not.toThrow();
      // Repairing the file makes the run stored again (config.json's size and time are part of the cache key).
      const config = readConfig('good-rl-2');
      copyRun('repaired', (c) => delete c.createdAt);
      expect(hub.summary('repaired')?.status).toBe('damaged');
      writeConfig('repaired', { ...config, runId: 'repaired', seed: 7 });
      expect(hub.summary('repaired')).toMatchObject({ status: 'stored', seed: 7, error: null });
    } finally {
      fs.rmSync(dir('repaired'), { recursive: true, force: true });
      await hub.close();
    }
  });
});

describe('checked reading (lab/run_files.ts)', () => {
  it('names the field and the line', () => {
    expect(() => checkRunConfig({ ...readConfig('good-rl'), envKwargs: [] })).toThrow(new RunDamage('config.json', 'envKwargs: expected an object, got an array'));
    expect(() => checkRunConfig({ ...readConfig('good-rl'), replays: { eval: 'yes' } })).toThrow(/config\.json: replays\.eval must be true or false/);
    expect(() => checkRunConfig({ ...readConfig('good-rl'), backend: { backend: 'cpu' } })).toThrow(/config\.json: backend\.requested: expected a string, got nothing/);
    expect(() => checkRunConfig(JSON.parse('{"__proto__": {"kind": "gan"}}'))).toThrow(/config\.json: runId: expected a string/);
    expect(parseMetrics('{"type":"update","step":5,"updates":1,"stats":{"loss":null},"sps":null,"time":0}\n')).toMatchObject([{ type: 'update', step: 5, sps: 0, stats: {} }]);
    expect(parseMetrics('{"type":"iteration","iteration":1}\n{"type":"episode","step":1,"episode":1,"return":1,"length":1}\n')).toHaveLength(1);
    // The fast path and the schemas agree: an own __proto__ key is dropped, a bad field still named.
    expect(Object.getPrototypeOf(parseMetrics('{"type":"checkpoint","step":1,"__proto__":{"polluted":1}}\n')[0])).toBe(Object.prototype);
    expect(() => parseMetrics('{"type":"update","step":1,"sps":5,"stats":{"loss":"high"}}\n')).toThrow('metrics.jsonl: line 1: stats.loss: expected a finite number, got "high"');
    expect(() => parseMetrics('{"type":"eval","step":1,"episodes":2,"meanReturn":1,"stdReturn":0,"minReturn":1,"maxReturn":1,"returns":[1,"x"]}\n')).toThrow('metrics.jsonl: line 1: returns[1]: expected a finite number, got "x"');
    expect(() => parseMetrics('{"type":"episode","step":-1,"episode":1,"return":1,"length":1}\n')).toThrow('metrics.jsonl: line 1: step: expected an integer ≥ 0, got number');
    expect(() => parseMetrics('{"step":1}\n')).toThrow('metrics.jsonl: line 1: type: expected a string, got nothing');
    expect(() => parseMetrics('[1]\n')).toThrow('metrics.jsonl: line 1: expected a record object');
    expect(() => parseMetrics('{"type":"samples","step":1,"count":2,"width":2,"height":2,"pixels":"AAAA"}\n')).toThrow(/line 1: pixels: expected 12 base64 characters/);
  });

  it('writes paths in messages relative to the runs directory, others cut to their last name', () => {
    expect(publicMessage(`ENOENT: no such file, open '${runsDir}/good-rl/policy/weights.bin'`, [runsDir])).toBe("ENOENT: no such file, open 'good-rl/policy/weights.bin'");
    expect(publicMessage('cannot read /etc/secret/file.txt: denied\nat foo (/x/y.ts:1:2)', [runsDir])).toBe('cannot read …/file.txt: denied');
  });
});

describe('replays API and comparisons', () => {
  it('lists the good replay logs and reports the damaged runs and the log cut short', () => {
    const store = new ReplayStore(new DiskRuns(runsDir));
    const { replays, damaged } = store.listing();
    expect(replays.length).toBeGreaterThan(0);
    expect(replays.some((r) => r.runId === 'good-rl' && r.name === cutLog)).toBe(false);
    expect(replays.filter((r) => r.runId === 'good-rl').length).toBe(fs.readdirSync(path.join(dir('good-rl'), 'replays')).length - 1);
    const cut = damaged.find((d) => d.name === cutLog)!;
    expect(cut.runId).toBe('good-rl');
    expect(cut.error).toMatch(new RegExp(`^good-rl/replays/${cutLog.replace(/\./g, '\\.')}: `));
    for (const id of Object.keys(DAMAGED)) expect(damaged.find((d) => d.runId === id && d.name === null)?.error, id).toBe(new DiskRuns(runsDir).damage(id));
    expect(store.list()).toEqual(replays);
    // Filters apply to the damaged report too.
    expect(store.listing({ run: 'good-rl-2' }).damaged).toEqual([]);
    expectNoPaths({ replays, damaged });
  });

  it('a damaged replay log is a Damaged error named relative to the runs directory', () => {
    const store = new ReplayStore(new DiskRuns(runsDir));
    let error: unknown;
    try {
      store.detail('good-rl', cutLog);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(Damaged);
    const message = (error as Error).message;
    expect(message).toMatch(new RegExp(`^good-rl/replays/${cutLog.replace(/\./g, '\\.')}: `));
    expect(message).not.toContain('\n');
    expectNoPaths(message);
    const good = fs.readdirSync(path.join(dir('good-rl'), 'replays')).find((n) => n !== cutLog && n.startsWith('eval-'))!;
    expect(store.detail('good-rl', good).steps.length).toBeGreaterThan(0);
  });

  it('compare leaves a damaged run out, says why, and compares the rest; fewer than 2 usable runs is a clear refusal', () => {
    const store = new ReplayStore(new DiskRuns(runsDir));
    const result = store.compare(['good-rl', 'good-rl-2', 'garbage-metrics'], {});
    expect(result.damaged).toEqual([{ runId: 'garbage-metrics', error: 'metrics.jsonl: line 2 is not valid JSON' }]);
    expect(result.groups.flatMap((g) => g.runs.map((r) => r.runId)).sort()).toEqual(['good-rl', 'good-rl-2']);
    expect(result.groups.flatMap((g) => g.runs.map((r) => r.dir)).sort()).toEqual(['good-rl', 'good-rl-2']);
    expect(result.notes[0]).toBe('garbage-metrics: metrics.jsonl: line 2 is not valid JSON — left out of the comparison');
    expectNoPaths(result);
    const gan = store.compare(['good-rl', 'good-rl-2', 'good-gan'], {});
    expect(gan.damaged).toEqual([{ runId: 'good-gan', error: 'is a GAN run; this comparison is of RL runs (one kind per comparison: compare GAN runs with each other)' }]);
    let refusal: unknown;
    try {
      store.compare(['good-rl', 'garbage-metrics', 'not-json'], {});
    } catch (e) {
      refusal = e;
    }
    expect(refusal).toBeInstanceOf(BadRequest);
    expect((refusal as Error).message).toMatch(/^compare needs at least 2 usable runs, got 1 of 3: garbage-metrics: metrics\.jsonl: line 2 is not valid JSON; not-json: config\.json: not valid JSON/);
    expectNoPaths((refusal as Error).message);
  });
});

describe('the CLI', () => {
  it('lab compare compares the usable runs and names the damaged one and why', () => {
    const r = lab('compare', 'runs/good-rl', 'runs/good-rl-2', 'runs/garbage-metrics', '--no-plot', '--reps', '200');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('lab: warning: runs/garbage-metrics: metrics.jsonl: line 2 is not valid JSON — left out of the comparison');
    expect(r.stdout).toMatch(/reinforce\/cartpole\s+2\s/);
    expect(r.stdout).toContain('runs/garbage-metrics: metrics.jsonl: line 2 is not valid JSON — left out of the comparison');
    const json = lab('compare', 'runs/good-rl', 'runs/good-rl-2', 'runs/no-metrics', '--no-plot', '--reps', '200', '--json');
    expect(json.code, json.stderr).toBe(0);
    expect((JSON.parse(json.stdout) as { damaged: unknown }).damaged).toEqual([{ runId: 'runs/no-metrics', error: 'no metrics.jsonl (the run has not written any metrics)' }]);
  });

  it('lab compare with fewer than 2 usable runs fails with one line naming them', () => {
    const r = lab('compare', 'runs/good-rl', 'runs/garbage-metrics', 'runs/bad-event', '--no-plot');
    expect(r.code).toBe(1);
    const lines = r.stderr.split('\n').filter((l) => l !== '');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toBe(
      'lab: error: lab compare needs at least 2 usable runs, got 1 of 3: runs/garbage-metrics: metrics.jsonl: line 2 is not valid JSON; runs/bad-event: metrics.jsonl: line 1: return: expected a finite number, got "x"; for the learning curves of one run: lab plot runs/good-rl',
    );
  });

  it('lab eval of a damaged run fails with one line naming the file and the field, no stack', async () => {
    for (const [id, what] of [
      ['no-created-at', 'config.json: createdAt: expected a string, got nothing'],
      ['wrong-type', 'config.json: seed: expected an integer, got "one"'],
      ['not-json', 'config.json: not valid JSON'],
    ] as const) {
      const r = lab('eval', `runs/${id}`, '--episodes', '1');
      expect(r.code, id).toBe(1);
      const lines = r.stderr.split('\n').filter((l) => l !== '');
      expect(lines, id).toHaveLength(1);
      expect(lines[0]).toContain(`lab: error: runs/${id} is damaged: ${what}`);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
    await expect(evaluateRun(dir('good-gan'), { episodes: 1, backend: 'cpu' })).rejects.toThrow(/is a GAN run: evaluate its generator with lab gan eval/);
    // A policy whose weights file was cut short.
    copyRun('cut-weights');
    const weights = path.join(dir('cut-weights'), 'policy', 'weights.bin');
    fs.writeFileSync(weights, fs.readFileSync(weights).subarray(0, 10));
    const r = lab('eval', 'runs/cut-weights', '--episodes', '1');
    expect(r.code).toBe(1);
    expect(r.stderr.split('\n').filter((l) => l !== '')).toHaveLength(1);
    expect(r.stderr).toMatch(/^lab: error: the policy network in runs\/cut-weights\/policy cannot be loaded: weights file .*weights\.bin has 10 bytes/);
    fs.rmSync(dir('cut-weights'), { recursive: true, force: true });
  });
});

describe('the viewer (model)', () => {
  const damaged: RunSummary = {
    runId: 'broken-run',
    kind: 'rl',
    envId: '',
    agent: '',
    preset: null,
    seed: 0,
    steps: 0,
    episodes: null,
    numEnvs: 1,
    backend: 'unknown',
    fps: 30,
    status: 'damaged',
    origin: 'disk',
    step: 0,
    episodesDone: 0,
    lastReturn: null,
    meanReturn: null,
    lastEval: null,
    sps: null,
    exploration: null,
    watchers: 0,
    createdAt: '2026-01-01T00:00:00.000Z',
    error: 'config.json: not valid JSON (Unexpected end of JSON input)',
  };
  const good: RunSummary = { ...damaged, runId: 'good', envId: 'CartPole-v1', agent: 'dqn', status: 'stored', error: null };

  it('has a status, a reason and a title for damaged runs', () => {
    expect(STATUS_META.damaged).toMatchObject({ label: 'damaged', active: false });
    expect(statusMeta('damaged')).toBe(STATUS_META.damaged);
    expect(isDamaged(damaged)).toBe(true);
    expect(isDamaged(good)).toBe(false);
    expect(damageReason(damaged)).toBe('config.json: not valid JSON (Unexpected end of JSON input)');
    expect(damageReason({ ...damaged, error: null })).toBe('its files cannot be read');
    expect(damageReason(good)).toBeNull();
    // Unknown env and agent: the title is the run id.
    expect(runTitle(damaged)).toBe('broken-run');
    expect(agentLabel(damaged)).toBe('unknown agent');
    expect(runTitle({ ...damaged, envId: 'CartPole-v1' })).toBe('CartPole-v1');
    // Statuses are looked up as own properties.
    expect(statusMeta('constructor')).toMatchObject({ label: 'constructor', active: false });
  });

  it('the compare picker keeps damaged runs apart from the choices', () => {
    expect(runsByEnv([damaged, good]).flatMap((g) => g.runs.map((r) => r.runId))).toEqual(['good']);
    expect(damagedRuns([damaged, good]).map((r) => r.runId)).toEqual(['broken-run']);
    // Every kind's damaged runs: a GAN or AlphaZero-lite run can be compared too.
    expect(damagedRuns([{ ...damaged, kind: 'gan' }]).map((r) => r.runId)).toEqual(['broken-run']);
  });
});

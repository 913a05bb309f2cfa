/**
 * The experiments API (server/experiments_api.ts) over a real experiment directory (test/fixtures/experiments:
 * short A2C runs, 6 finished trials and one unfinished): the list (counts, best trial, running or ended from the
 * files' age and from live runs), the detail (trial rows, per-trial learning curves equal to the seeds' mean
 * with a band around it, progress of the unfinished trial), unknown ids, every way out of the runs root, and
 * damaged experiments and runs.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLabServer, type LabServer } from '../server/app.js';
import { ExperimentsApi } from '../server/experiments_api.js';
import { EXPERIMENTS_API, type ExperimentDetail, type ExperimentListItem, type TrialRecord } from '../protocol/experiments.js';
import { appendTrialRecord, createExperimentDir, readExperimentMeta } from '../sweep/experiment_files.js';
import type { RunSummary } from '../protocol/protocol.js';
import { rawGet } from './raw_http.js';

const FIXTURE = fileURLToPath(new URL('./fixtures/experiments/a2c-cartpole-fx', import.meta.url));
const ID = 'a2c-cartpole-fx';
const SECRET = 'TOP-SECRET-OUTSIDE-THE-RUNS-ROOT';

let server: LabServer;
let root: string;
let runsDir: string;
let expDir: string;

/** Every file under `dir` gets the time `t` (seconds): an experiment nobody has written to since. */
function age(dir: string, t: number): void {
  for (const e of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) fs.utimesSync(path.join(e.parentPath, e.name), t, t);
  fs.utimesSync(dir, t, t);
}

const records: TrialRecord[] = fs
  .readFileSync(path.join(FIXTURE, 'trials.jsonl'), 'utf8')
  .split('\n')
  .filter(Boolean)
  .map((l) => JSON.parse(l) as TrialRecord);

function evals(runDir: string): Map<number, number> {
  const out = new Map<number, number>();
  for (const l of fs.readFileSync(path.join(runDir, 'metrics.jsonl'), 'utf8').split('\n')) {
    if (!l.includes('"type":"eval"')) continue;
    const e = JSON.parse(l) as { step: number; meanReturn: number };
    out.set(e.step, e.meanReturn);
  }
  return out;
}

beforeAll(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'lab-experiments-api-'));
  runsDir = path.join(root, 'runs');
  expDir = path.join(runsDir, 'sweeps', ID);
  fs.cpSync(FIXTURE, expDir, { recursive: true });
  age(expDir, Date.now() / 1000 - 3600);
  // An experiment outside the runs root, reachable only through a symlink, must stay unseen.
  fs.cpSync(FIXTURE, path.join(root, 'outside', 'stolen-exp'), { recursive: true });
  fs.writeFileSync(path.join(root, 'outside', 'secret.txt'), SECRET);
  fs.symlinkSync(path.join(root, 'outside', 'stolen-exp'), path.join(runsDir, 'sweeps', 'stolen-exp'));
  fs.symlinkSync(path.join(root, 'outside'), path.join(runsDir, 'linked'));
  server = await startLabServer({ port: 0, runsDir, runtimeFile: false });
}, 60_000);

afterAll(async () => {
  await server?.close();
  if (root) fs.rmSync(root, { recursive: true, force: true });
});

async function getJson<T>(p: string): Promise<{ status: number; body: T }> {
  const res = await fetch(server.url + p);
  return { status: res.status, body: (await res.json()) as T };
}

describe('GET /api/experiments', () => {
  it('lists the experiment with its counts, best trial and state', async () => {
    const { status, body } = await getJson<ExperimentListItem[]>(EXPERIMENTS_API.list);
    expect(status).toBe(200);
    expect(body.map((e) => e.id)).toEqual([ID]);
    const e = body[0]!;
    expect(e).toMatchObject({ name: 'a2c-cartpole', state: 'ended', error: null, kind: 'rl', task: 'CartPole-v1', agent: 'a2c', sampler: 'random' });
    expect(e.trials).toEqual({ finished: 6, running: 1, budget: 8, done: 4, pruned: 1, failed: 1 });
    expect(e.objective).toEqual({ metric: 'eval', reduce: 'iqm-last', direction: 'maximize' });
    // The best done trial by the objective (the pruned and failed ones never count).
    const done = records.filter((r) => r.state === 'done');
    const best = done.reduce((a, b) => (b.objective! > a.objective! ? b : a));
    expect(e.best).toEqual({ trial: best.trial, objective: best.objective, params: best.params });
    expect(Date.now() - Date.parse(e.updatedAt)).toBeGreaterThan(3000_000);
  });

  it('is running while an unfinished trial writes its metrics, and ended a minute after', async () => {
    const metrics = path.join(expDir, 'runs', `${ID}-t0006-s1`, 'metrics.jsonl');
    fs.utimesSync(metrics, new Date(), new Date());
    let { body } = await getJson<ExperimentListItem[]>(EXPERIMENTS_API.list);
    expect(body[0]!.state).toBe('running');
    const detail = (await getJson<ExperimentDetail>(EXPERIMENTS_API.detail(ID))).body;
    expect(detail.trials.at(-1)!.state).toBe('running');
    const old = Date.now() / 1000 - 61;
    fs.utimesSync(metrics, old, old);
    ({ body } = await getJson<ExperimentListItem[]>(EXPERIMENTS_API.list));
    expect(body[0]!.state).toBe('ended');
  });
});

describe('GET /api/experiments/:id', () => {
  it('gives the spec, the finished trials as recorded and the unfinished one with its progress', async () => {
    const { status, body } = await getJson<ExperimentDetail>(EXPERIMENTS_API.detail(ID));
    expect(status).toBe(200);
    expect(body.spec.search).toEqual({ learningRate: { loguniform: [0.0003, 0.01] }, nSteps: { choice: [5, 16] } });
    expect(body).toMatchObject({ unit: 'steps', runBudget: 6000, specFile: 'experiments/a2c-cartpole.yaml', queue: null });
    expect(body.trials.map((t) => t.trial)).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(body.trials.map((t) => t.state)).toEqual(['done', 'done', 'done', 'pruned', 'done', 'failed', 'interrupted']);
    for (const r of records) {
      const row = body.trials[r.trial]!;
      expect(row).toMatchObject({ params: r.params, objective: r.objective, interval: r.interval, startedAt: r.startedAt, endedAt: r.endedAt, progress: null });
      expect(row.seeds.map((s) => [s.seed, s.runId, s.state, s.value])).toEqual(r.seeds.map((s) => [s.seed, s.runId, s.state, s.value]));
    }
    expect(body.trials[3]!.seeds.map((s) => s.prunedAt)).toEqual([2000, 2000]);
    expect(body.trials[3]!.seeds.map((s) => s.step)).toEqual([2000, 2000]);
    expect(body.trials[5]!.seeds[1]!.error).toMatch(/exited with code 1/);
    // The unfinished trial: its params from its runs' config.json, its runs stopped at step 3,000 of 6,000 each.
    const open = body.trials[6]!;
    expect(open.params.nSteps === 5 || open.params.nSteps === 16).toBe(true);
    expect(open.params.learningRate).toBeGreaterThanOrEqual(0.0003);
    expect(open.objective).toBeNull();
    expect(open.seeds.map((s) => [s.seed, s.state, s.live])).toEqual([
      [1, 'interrupted', false],
      [2, 'interrupted', false],
    ]);
    expect(open.progress!.budget).toBe(12_000);
    expect(open.progress!.step).toBe(open.seeds.reduce((n, s) => n + s.step!, 0));
    expect(open.progress!.step).toBeGreaterThan(5000);
    expect(open.progress!.step).toBeLessThanOrEqual(6000);
  });

  it('gives each trial its learning curve over seeds: the mean of the seeds\' evaluations inside a 95% band', async () => {
    const { body } = await getJson<ExperimentDetail>(EXPERIMENTS_API.detail(ID));
    for (const row of body.trials) {
      const c = row.curve!;
      expect(c.label).toBe('evaluation mean return');
      expect(c.runs).toBe(2);
      const perSeed = row.seeds.map((s) => evals(path.join(expDir, 'runs', s.runId)));
      expect(c.points.map((p) => p.step)).toEqual([...perSeed[0]!.keys()]);
      for (const p of c.points) {
        const values = perSeed.map((m) => m.get(p.step)!);
        expect(p.mean).toBeCloseTo((values[0]! + values[1]!) / 2, 9);
        expect(p.n).toBe(2);
        expect(p.lo).toBeGreaterThanOrEqual(Math.min(...values) - 1e-9);
        expect(p.hi).toBeLessThanOrEqual(Math.max(...values) + 1e-9);
        if (values[0] !== values[1]) expect(p.hi - p.lo).toBeGreaterThan(0);
      }
    }
    expect(body.trials[0]!.curve!.points.at(-1)!.step).toBe(6000);
    expect(body.trials[3]!.curve!.points.at(-1)!.step).toBe(2000);
  });

  it('answers 404 for an unknown id and for every way out of the runs root, and reveals nothing there', async () => {
    for (const p of ['/api/experiments/nope', '/api/experiments/stolen-exp', '/api/experiments/linked', '/api/experiments/..%2F..%2Foutside', '/api/experiments/%2e%2e', '/api/experiments/sweeps']) {
      const r = await rawGet(server.port, p);
      expect(r.status, p).toBe(404);
      expect(r.text).not.toContain(SECRET);
      expect(r.text).not.toContain(root);
    }
    for (const p of ['/api/experiments/../../outside/secret.txt', '/api/experiments/a2c-cartpole-fx/../../../outside']) {
      const r = await rawGet(server.port, p);
      expect(r.status, p).not.toBe(200);
      expect(r.text).not.toContain(SECRET);
    }
    const list = (await getJson<ExperimentListItem[]>(EXPERIMENTS_API.list)).body;
    expect(list.map((e) => e.id)).toEqual([ID]);
    expect((await getJson<{ error: string }>('/api/experiments/nope')).body.error).toBe('no experiment "nope"');
  });

  it('refuses pages of other sites, and readers without the key when bound beyond loopback', async () => {
    const res = await fetch(server.url + EXPERIMENTS_API.list, { headers: { origin: 'http://evil.example' } });
    expect(res.status).toBe(403);
    const open = await startLabServer({ port: 0, host: '0.0.0.0', runsDir, runtimeFile: false });
    try {
      const url = `http://127.0.0.1:${open.port}`;
      for (const p of [EXPERIMENTS_API.list, EXPERIMENTS_API.detail(ID)]) {
        const refused = await fetch(url + p);
        expect(refused.status).toBe(401);
        expect(await refused.text()).not.toContain('a2c-cartpole');
        expect((await fetch(url + p, { headers: { authorization: `token ${open.token}` } })).status).toBe(200);
      }
    } finally {
      await open.close();
    }
  });
});

describe('damaged experiments and runs', () => {
  it('lists a damaged experiment with its reason (no paths) and answers its detail with 422', async () => {
    const bad = path.join(runsDir, 'sweeps', 'broken-exp');
    fs.cpSync(FIXTURE, bad, { recursive: true });
    const meta = JSON.parse(fs.readFileSync(path.join(bad, 'experiment.json'), 'utf8')) as { id: string };
    fs.writeFileSync(path.join(bad, 'experiment.json'), JSON.stringify({ ...meta, id: 'broken-exp' }));
    const lines = fs.readFileSync(path.join(bad, 'trials.jsonl'), 'utf8').split('\n');
    lines[1] = '{"trial": 1, "params": ';
    fs.writeFileSync(path.join(bad, 'trials.jsonl'), lines.join('\n'));
    try {
      const { status, body } = await getJson<ExperimentListItem[]>(EXPERIMENTS_API.list);
      expect(status).toBe(200);
      const item = body.find((e) => e.id === 'broken-exp')!;
      expect(item.state).toBe('damaged');
      expect(item.error).toMatch(/trials\.jsonl.*line 2: not valid JSON/);
      expect(item.error).not.toContain(root);
      expect(body.find((e) => e.id === ID)!.state).not.toBe('damaged');
      const detail = await getJson<{ error: string }>(EXPERIMENTS_API.detail('broken-exp'));
      expect(detail.status).toBe(422);
      expect(detail.body.error).toMatch(/^experiment broken-exp is damaged: .*line 2: not valid JSON/);
      expect(detail.body.error).not.toContain(root);
      // experiment.json itself unreadable.
      fs.writeFileSync(path.join(bad, 'experiment.json'), '{"format": "lab-experiment/1", ');
      const again = (await getJson<ExperimentListItem[]>(EXPERIMENTS_API.list)).body.find((e) => e.id === 'broken-exp')!;
      expect(again.state).toBe('damaged');
      expect(again.error).toMatch(/experiment/);
      expect(again.error).not.toContain(root);
    } finally {
      fs.rmSync(bad, { recursive: true, force: true });
    }
  });

  it('leaves a damaged run out of its trial\'s curve and names it', async () => {
    const runId = `${ID}-t0001-s2`;
    const file = path.join(expDir, 'runs', runId, 'metrics.jsonl');
    const original = fs.readFileSync(file, 'utf8');
    fs.writeFileSync(file, `{"type":"episode","step":"x"\n${original}`);
    try {
      const { status, body } = await getJson<ExperimentDetail>(EXPERIMENTS_API.detail(ID));
      expect(status).toBe(200);
      const row = body.trials[1]!;
      expect(row.damaged).toEqual([{ runId, error: expect.stringMatching(/^metrics\.jsonl: line 1/) as unknown as string }]);
      expect(row.curve!.runs).toBe(1);
      const only = evals(path.join(expDir, 'runs', `${ID}-t0001-s1`));
      for (const p of row.curve!.points) expect([p.mean, p.lo, p.hi]).toEqual([only.get(p.step), only.get(p.step), only.get(p.step)]);
    } finally {
      fs.writeFileSync(file, original);
    }
  });
});

describe('live runs the hub streams', () => {
  it('make the experiment running and give the unfinished trial its live step', () => {
    const live = { runId: `${ID}-t0006-s2`, origin: 'cli', status: 'running', step: 5400 } as RunSummary;
    const api = new ExperimentsApi({ runsDir, runs: () => [live] });
    expect(api.list()[0]!.state).toBe('running');
    const open = api.detail(ID).trials.at(-1)!;
    expect(open.state).toBe('running');
    expect(open.seeds.map((s) => [s.seed, s.live, s.state])).toEqual([
      [1, false, 'running'],
      [2, true, 'running'],
    ]);
    expect(open.seeds[1]!.step).toBe(5400);
    expect(open.progress!.step).toBe(open.seeds[0]!.step! + 5400);
    // A stored run of the same name is not live.
    const stored = new ExperimentsApi({ runsDir, runs: () => [{ ...live, origin: 'disk', status: 'stored' }] });
    expect(stored.list()[0]!.state).toBe('ended');
  });
});

describe('a sweep that has just started, and one that has finished', () => {
  it('is running while its budget is not reached and its files are fresh; ended once complete or a minute quiet', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lab-experiments-fresh-'));
    try {
      const meta = { ...readExperimentMeta(FIXTURE), id: 'fresh-20261206-120000', createdAt: new Date().toISOString() };
      const expDir = createExperimentDir(path.join(dir, 'sweeps'), meta);
      let now = Date.now();
      const api = new ExperimentsApi({ runsDir: dir, runs: () => [], now: () => now });
      // No run directory yet (workers starting): trials are left and the directory is new.
      expect(api.list()[0]).toMatchObject({ id: meta.id, state: 'running', trials: { finished: 0, running: 0, budget: 8 } });
      now += 61_000;
      expect(api.list()[0]!.state).toBe('ended');
      // Its whole budget recorded: ended at once, however fresh the files.
      now = Date.now();
      for (let trial = 0; trial < 8; trial++) appendTrialRecord(expDir, { ...records[0]!, trial, seeds: [] });
      expect(api.list()[0]!.state).toBe('ended');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

/**
 * Every kind of run everywhere (issue 19, item 2): RL, GAN and AlphaZero-lite runs in one runs directory. The
 * server's run list (DiskRuns, /api/runs) lists them all with their kind and figures and gives their curves;
 * `lab compare` (CLI, JSON) and /api/compare compare GAN runs on their loss curves and AlphaZero-lite runs on
 * their evaluation results, and leave runs of another kind out with a message; the replay listing skips runs
 * without replays; `lab eval` of a GAN or AlphaZero-lite run names the command that fits; AlphaZero-lite
 * metrics.jsonl records are checked.
 */
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DiskRuns } from '../server/disk_runs.js';
import { startLabServer, type LabServer } from '../server/app.js';
import { runCompare } from '../cli/compare.js';
import { loadRuns } from '../analysis/compare.js';
import { parseAlphaZeroMetrics, RunDamage } from '../lab/run_files.js';
import { readAlphaZeroMetrics } from '../agents/go/alphazero.js';
import type { CompareResult, RunSummary } from '../protocol/protocol.js';
import { headlineReturn, runTitle } from '../viewer/src/model/runs.js';
import { goPlayRoute, matchesLabel } from '../viewer/src/model/alphazero.js';
import { formatRoute } from '../viewer/src/model/routes.js';
import { curveKeys, pickerMeta, runsByEnv } from '../viewer/src/model/compare.js';
import { makeEveryKindRuns } from './every_kind_runs.js';

const LAB = fileURLToPath(new URL('../bin/lab.mjs', import.meta.url));
let runsDir: string;
let server: LabServer;

beforeAll(async () => {
  runsDir = await makeEveryKindRuns();
  server = await startLabServer({ port: 0, runsDir });
}, 180_000);

afterAll(async () => {
  await server?.close();
  if (runsDir) fs.rmSync(runsDir, { recursive: true, force: true });
});

async function getJson<T>(p: string): Promise<{ status: number; body: T }> {
  const res = await fetch(server.url + p);
  return { status: res.status, body: (await res.json()) as T };
}

function lab(...args: string[]) {
  const r = spawnSync(process.execPath, [LAB, ...args], { encoding: 'utf8', timeout: 120_000, cwd: runsDir });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const compareOpts = { groupBy: 'agent-preset' as const, reps: 500, seed: 0, confidence: 0.95, curve: 'eval' as const, normalize: 'none' as const, plot: false, json: true };

describe('the run list', () => {
  it('lists RL, GAN and AlphaZero-lite runs with their kind and figures', () => {
    const disk = new DiskRuns(runsDir);
    const runs = new Map(disk.list().map((r) => [r.runId, r]));
    expect([...runs.keys()].sort()).toEqual(['az-a', 'az-b', 'az-noeval', 'gan-a', 'gan-b', 'rl-a']);
    for (const r of runs.values()) expect(r.status).toBe('stored');

    const az = runs.get('az-a')!;
    expect(az).toMatchObject({ kind: 'go-alphazero', envId: 'go:5x5', agent: 'alphazero', preset: null, seed: 1, steps: 2, step: 2, episodes: null, backend: 'cpu', error: null });
    expect(az.lastMatches!.map((m) => [m.step, m.opponent, m.games])).toEqual([
      [2, 'random', 2],
      [2, 'uct-8', 2],
    ]);
    for (const m of az.lastMatches!) expect(m.wins + m.losses + m.draws).toBe(2);
    const azHistory = disk.history('az-a')!;
    expect(azHistory.updates.map((u) => u.step)).toEqual([1, 2]);
    expect(Object.keys(azHistory.updates[0]!.stats)).toEqual(expect.arrayContaining(['policyLoss', 'valueLoss', 'policyEntropy', 'meanGameLength']));
    expect(azHistory.matches!.map((m) => `${m.step}:${m.opponent}`)).toEqual(['1:random', '1:uct-8', '2:random', '2:uct-8']);
    expect(azHistory.episodes).toEqual([]);

    const noEval = runs.get('az-noeval')!;
    expect(noEval).toMatchObject({ kind: 'go-alphazero', envId: 'go:5x5', steps: 2, step: 2, lastMatches: [] });
    expect(disk.history('az-noeval')!.updates).toHaveLength(2);

    const gan = runs.get('gan-a')!;
    expect(gan).toMatchObject({ kind: 'gan', envId: 'quickdraw:apple', agent: 'gan', preset: 'tiny', steps: 4, step: 4 });
    expect(disk.history('gan-a')!.updates.map((u) => u.step)).toEqual([2, 4]);
    expect(runs.get('rl-a')).toMatchObject({ kind: 'rl', envId: 'CartPole-v1', agent: 'dqn' });
  });

  it('/api/runs gives the same, and /api/runs/<id>/history an AlphaZero-lite run\'s curves', async () => {
    const { status, body } = await getJson<RunSummary[]>('/api/runs');
    expect(status).toBe(200);
    const kinds = Object.fromEntries(body.map((r) => [r.runId, r.kind]));
    expect(kinds).toEqual({ 'az-a': 'go-alphazero', 'az-b': 'go-alphazero', 'az-noeval': 'go-alphazero', 'gan-a': 'gan', 'gan-b': 'gan', 'rl-a': 'rl' });
    const az = body.find((r) => r.runId === 'az-b')!;
    expect(az).toMatchObject({ envId: 'go:5x5', steps: 2, step: 2 });
    expect(az.lastMatches).toHaveLength(2);
    const history = await getJson<{ updates: unknown[]; matches: unknown[] }>('/api/runs/az-b/history');
    expect(history.status).toBe(200);
    expect(history.body.updates).toHaveLength(2);
    expect(history.body.matches).toHaveLength(4);
  });

  it('the viewer\'s model: titles, headline, the Go page link and the Compare picker', () => {
    const disk = new DiskRuns(runsDir);
    const az = disk.summary('az-a')!;
    expect(runTitle(az)).toBe('Go 5×5');
    expect(headlineReturn(az)).toEqual({ label: 'vs uct-8', value: `${Math.round(az.lastMatches![1]!.score * 100)}%` });
    expect(matchesLabel(az.lastMatches!)).toMatch(/^random \d+% · uct-8 \d+%$/);
    expect(formatRoute(goPlayRoute(az)!)).toBe('#/go?size=5&opponent=alphazero&color=black&sims=400&agent=az-a');
    expect(goPlayRoute(disk.summary('gan-a')!)).toBeNull();
    expect(pickerMeta(az)).toMatch(/^2 iterations · random \d+% · uct-8 \d+%$/);
    const envs = runsByEnv(disk.list()).map((g) => [g.envId, g.runs.map((r) => r.runId)]);
    expect(envs).toEqual([
      ['CartPole-v1', ['rl-a']],
      ['go:5x5', ['az-a', 'az-b', 'az-noeval']],
      ['quickdraw:apple', ['gan-a', 'gan-b']],
    ]);
  });

  it('the replay listing skips runs without replays and reports none of them as damaged', async () => {
    const { status, body } = await getJson<{ replays: { runId: string }[]; damaged: unknown[] }>('/api/replays');
    expect(status).toBe(200);
    expect(body.damaged).toEqual([]);
    expect(new Set(body.replays.map((r) => r.runId))).toEqual(new Set(['rl-a']));
  });
});

describe('lab compare and /api/compare', () => {
  it('compares GAN runs on their D and G loss curves (lab compare --json)', () => {
    const out = runCompare([path.join(runsDir, 'gan-a'), path.join(runsDir, 'gan-b')], compareOpts);
    expect(out.leftOut).toEqual([]);
    const r = JSON.parse(out.text) as CompareResult;
    expect(r).toMatchObject({ kind: 'gan', xUnit: 'iterations', envs: ['quickdraw:apple'], pairs: [] });
    expect(r.scoreLabel).toMatch(/final G loss/);
    expect(r.groups).toHaveLength(1);
    const g = r.groups[0]!;
    expect(g.name).toBe('gan/tiny');
    expect(g.runs.map((x) => [x.runId, x.seed, x.source])).toEqual([
      ['gan-a', 3, 'updates'],
      ['gan-b', 4, 'updates'],
    ]);
    expect(g.curves.map((c) => [c.kind, c.metric, c.label, c.runs])).toEqual([
      ['metric', 'dLoss', 'D loss', 2],
      ['metric', 'gLoss', 'G loss', 2],
    ]);
    const gLoss = g.curves[1]!;
    expect(gLoss.points.map((p) => p.step)).toEqual([2, 4]);
    // The mean of the two seeds, gan-b's losses being gan-a's × 1.5.
    const a = fs.readFileSync(path.join(runsDir, 'gan-a', 'metrics.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { type: string; step: number; stats: Record<string, number> }).filter((e) => e.type === 'update');
    expect(gLoss.points[0]!.mean).toBeCloseTo(a[0]!.stats.gLoss! * 1.25, 10);
    expect(gLoss.points[0]!.lo).toBeLessThanOrEqual(gLoss.points[0]!.mean);
    expect(gLoss.points[0]!.hi).toBeGreaterThanOrEqual(gLoss.points[0]!.mean);
    expect(curveKeys(r).map((k) => k.metric)).toEqual(['dLoss', 'gLoss']);
    expect(r.notes.join('\n')).not.toMatch(/left out/);
  });

  it('compares AlphaZero-lite runs on their evaluation results (the CLI itself, JSON)', () => {
    const res = lab('compare', 'az-a', 'az-b', '--json', '--no-plot', '--reps', '500');
    expect(res.code, res.stderr).toBe(0);
    const r = JSON.parse(res.stdout) as CompareResult;
    expect(r).toMatchObject({ kind: 'go-alphazero', xUnit: 'iterations', envs: ['go:5x5'] });
    const g = r.groups[0]!;
    expect(g.name).toBe('alphazero');
    expect(g.runs.map((x) => [x.runId, x.seed, x.source, x.step])).toEqual([
      ['az-a', 1, 'eval', 2],
      ['az-b', 2, 'eval', 2],
    ]);
    expect(g.curves.map((c) => c.metric)).toEqual(['score:random', 'score:uct-8', 'policyLoss', 'valueLoss']);
    const vsUct = g.curves[1]!;
    expect(vsUct.label).toBe('win rate vs uct-8');
    expect(vsUct.points.map((p) => [p.step, p.n])).toEqual([
      [1, 2],
      [2, 2],
    ]);
    for (const p of vsUct.points) expect(p.mean).toBeGreaterThanOrEqual(0), expect(p.mean).toBeLessThanOrEqual(1);
    // Each run's score: its final win rate against uct-8.
    const finals = ['az-a', 'az-b'].map((id) => readAlphaZeroMetrics(path.join(runsDir, id)).filter((e) => e.type === 'go-eval' && e.opponent === 'uct-8').at(-1)!);
    expect(g.runs.map((x) => x.score)).toEqual(finals.map((e) => (e.type === 'go-eval' ? e.score : NaN)));
    expect(vsUct.points[1]!.mean).toBeCloseTo((g.runs[0]!.score + g.runs[1]!.score) / 2, 10);
  }, 60_000);

  it('given several kinds (a runs directory), compares the kind most usable runs are and leaves the others out with a message', () => {
    const out = runCompare([runsDir], compareOpts);
    const r = JSON.parse(out.text) as CompareResult;
    // Usable: 2 AlphaZero-lite runs (az-noeval has no evaluation, so no score), 2 GAN runs, 1 RL run: a tie, GAN first.
    expect(r.kind).toBe('gan');
    expect(r.groups[0]!.runs.map((x) => x.runId)).toEqual(['gan-a', 'gan-b']);
    const left = Object.fromEntries(out.leftOut.map((x) => [path.basename(x.runId), x.error]));
    expect(Object.keys(left).sort()).toEqual(['az-a', 'az-b', 'az-noeval', 'rl-a']);
    expect(left['az-a']).toBe('is an AlphaZero-lite run; this comparison is of GAN runs (one kind per comparison: compare AlphaZero-lite runs with each other)');
    expect(left['rl-a']).toBe('is an RL run; this comparison is of GAN runs (one kind per comparison: compare RL runs with each other)');
    expect(left['az-noeval']).toMatch(/no evaluation results .* so the run has no score; lab match .*az-noeval mcts plays it/);
    expect(r.notes.filter((n) => n.endsWith('left out of the comparison'))).toHaveLength(4);
    const two = loadRuns([path.join(runsDir, 'rl-a'), path.join(runsDir, 'gan-a')]);
    expect(two.runs.map((x) => x.kind)).toEqual(['rl']); // a tie: RL first
  });

  it('/api/compare: GAN loss curves, AlphaZero-lite evaluation curves, mixed kinds left out with a note', async () => {
    const gan = await getJson<CompareResult>('/api/compare?runs=gan-a,gan-b');
    expect(gan.status).toBe(200);
    expect(gan.body.kind).toBe('gan');
    expect(gan.body.groups[0]!.curves.map((c) => c.metric)).toEqual(['dLoss', 'gLoss']);
    expect(gan.body.groups[0]!.runs.map((x) => x.dir)).toEqual(['gan-a', 'gan-b']);

    const az = await getJson<CompareResult>('/api/compare?runs=az-a,az-b,rl-a');
    expect(az.status).toBe(200);
    expect(az.body.kind).toBe('go-alphazero');
    expect(az.body.groups[0]!.curves.filter((c) => c.metric!.startsWith('score:')).map((c) => c.points.length)).toEqual([2, 2]);
    expect(az.body.damaged).toEqual([{ runId: 'rl-a', error: 'is an RL run; this comparison is of AlphaZero-lite runs (one kind per comparison: compare RL runs with each other)' }]);
    expect(az.body.notes[0]).toMatch(/^rl-a is an RL run; .* — left out of the comparison$/);

    const mixed = await getJson<{ error: string }>('/api/compare?runs=gan-a,rl-a');
    expect(mixed.status).toBe(400);
    expect(mixed.body.error).toMatch(/at least 2 usable runs, got 1 of 2: gan-a is a GAN run; this comparison is of RL runs/);
  });
});

describe('lab eval and the AlphaZero-lite records', () => {
  it('lab eval of a GAN or AlphaZero-lite run names the command that fits', () => {
    const gan = lab('eval', 'gan-a', '--episodes', '1');
    expect(gan.code).not.toBe(0);
    expect(gan.stderr).toMatch(/is a GAN run: evaluate its generator with lab gan eval/);
    const az = lab('eval', 'az-a', '--episodes', '1');
    expect(az.code).not.toBe(0);
    expect(az.stderr).toMatch(/is an AlphaZero-lite run: .*lab match/);
    expect(az.stderr).toMatch(/lab compare/);
  }, 60_000);

  it('checks every field of iteration and go-eval records (a loss written as null reads as NaN)', () => {
    const it1 = { type: 'iteration', iteration: 1, games: 1, positions: 9, bufferSize: 9, meanGameLength: 9, blackWins: 1, whiteWins: 0, draws: 0, policyLoss: null, valueLoss: 0.5, policyEntropy: 1, selfPlaySeconds: 0.1, trainSeconds: 0, elapsed: 0.1 };
    const ev = { type: 'go-eval', iteration: 1, opponent: 'random', games: 2, wins: 1, losses: 0, draws: 1, score: 0.75 };
    const records = parseAlphaZeroMetrics([it1, ev, { type: 'checkpoint', iteration: 1 }].map((x) => JSON.stringify(x)).join('\n') + '\n{"type":"itera');
    expect(records).toHaveLength(2);
    expect(records[0]).toMatchObject({ type: 'iteration', iteration: 1, valueLoss: 0.5 });
    expect(Number.isNaN((records[0] as { policyLoss: number }).policyLoss)).toBe(true);
    expect(records[1]).toEqual(ev);
    const bad = (x: unknown) => () => parseAlphaZeroMetrics(`${JSON.stringify(it1)}\n${JSON.stringify(x)}\n`);
    expect(bad({ ...ev, score: 'high' })).toThrow(new RunDamage('metrics.jsonl', 'line 2: score: expected a finite number, got "high"'));
    expect(bad({ ...ev, wins: 2 })).toThrow('metrics.jsonl: line 2: games: expected wins + losses + draws (3), got 2');
    expect(bad({ ...it1, games: undefined })).toThrow('metrics.jsonl: line 2: games: expected an integer, got nothing');
    expect(bad({ ...it1, iteration: 0 })).toThrow('metrics.jsonl: line 2: iteration: expected an integer ≥ 1, got number');
  });
});

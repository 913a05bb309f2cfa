/** Viewer Compare page logic: the request, the runs picker, and the figures of a real `compareRuns` result. */
import { describe, expect, it } from 'vitest';
import type { LoadedRun } from '../analysis/compare.js';
import { compareRuns } from '../analysis/compare.js';
import type { RunSummary } from '../protocol/protocol.js';
import { apiErrorMessage, compareQuery, compactNumber, confidenceLabel, curvePointsNear, curveTitle, decimalsForMagnitude, formatEstimate, runsByEnv, seedScores } from '../viewer/src/model/compare.js';

function loaded(runId: string, agent: string, seed: number, evals: [number, number][]): LoadedRun {
  const last = evals.at(-1)!;
  return {
    dir: `/runs/${runId}`,
    runId,
    envId: 'CartPole-v1',
    agent,
    preset: 'cartpole',
    seed,
    hyperparameters: {},
    budget: 20_000,
    lastStep: 20_000,
    score: last[1],
    scoreSource: 'eval',
    scoreStep: last[0],
    scoreEpisodes: 2,
    evals: evals.map(([step, value]) => ({ step, value })),
    episodes: [],
  };
}

function summary(runId: string, over: Partial<RunSummary>): RunSummary {
  return {
    runId,
    kind: 'rl',
    envId: 'CartPole-v1',
    agent: 'a2c',
    preset: null,
    seed: 1,
    steps: 1000,
    episodes: null,
    numEnvs: 1,
    backend: 'wasm',
    fps: 50,
    status: 'stored',
    origin: 'disk',
    step: 1000,
    episodesDone: 10,
    lastReturn: null,
    meanReturn: null,
    lastEval: null,
    sps: null,
    exploration: null,
    watchers: 0,
    createdAt: '2026-01-01T00:00:00Z',
    error: null,
    ...over,
  };
}

describe('compare page logic', () => {
  it('builds the API query', () => {
    expect(compareQuery({ runs: ['a', 'b'], groupBy: 'agent-preset', curve: 'eval' })).toBe('?runs=a,b');
    expect(compareQuery({ runs: ['a', 'b c'], groupBy: 'agent', curve: 'episodes' })).toBe('?runs=a,b+c&groupBy=agent&curve=episodes');
  });

  it('groups the runs picker by env', () => {
    const groups = runsByEnv([
      summary('r3', { envId: 'CartPole-v1', agent: 'reinforce', seed: 1 }),
      summary('r1', { envId: 'Acrobot-v1', agent: 'dqn', seed: 2 }),
      summary('r2', { envId: 'CartPole-v1', agent: 'a2c', seed: 2 }),
      summary('r4', { envId: 'CartPole-v1', agent: 'a2c', seed: 1 }),
    ]);
    expect(groups.map((g) => [g.envId, g.runs.map((r) => r.runId)])).toEqual([
      ['Acrobot-v1', ['r1']],
      ['CartPole-v1', ['r4', 'r2', 'r3']],
    ]);
  });

  it('formats estimates like lab compare', () => {
    expect(decimalsForMagnitude(250)).toBe(1);
    expect(decimalsForMagnitude(-25)).toBe(2);
    expect(decimalsForMagnitude(2.5)).toBe(3);
    expect(formatEstimate({ value: 182.25, lo: 170, hi: 190.5 }, 1)).toBe('182.3 [170.0, 190.5]');
    expect(compactNumber(500)).toBe('500');
    expect(compactNumber(168.4567)).toBe('168.5');
    expect(compactNumber(0.123456)).toBe('0.123');
  });

  it('reads a compare result: per-seed scores, curve points near a step, titles', () => {
    const result = compareRuns(
      [
        loaded('a1', 'a2c', 1, [
          [10_000, 100],
          [20_000, 200],
        ]),
        loaded('a2', 'a2c', 2, [
          [10_000, 120],
          [20_000, 240.5],
        ]),
        loaded('r1', 'reinforce', 1, [
          [10_000, 50],
          [20_000, 80],
        ]),
      ],
      { reps: 200 },
    );
    expect(confidenceLabel(result)).toBe('95%');
    const a2c = result.groups.find((g) => g.name === 'a2c/cartpole')!;
    expect(seedScores(a2c, 'CartPole-v1')).toBe('s1 200 · s2 240.5');
    const near = curvePointsNear(result, 'CartPole-v1', 19_000);
    expect(near.map((p) => [p.group, p.step, p.mean, p.n])).toEqual([
      ['a2c/cartpole', 20_000, 220.25, 2],
      ['reinforce/cartpole', 20_000, 80, 1],
    ]);
    expect(near[0]!.color).toBe(a2c.color);
    expect(near[0]!.lo).toBeLessThanOrEqual(220.25);
    expect(near[0]!.hi).toBeGreaterThanOrEqual(220.25);
    expect(curvePointsNear(result, 'Nope-v0', 0)).toEqual([]);
    expect(curveTitle(result, 'CartPole-v1')).toBe('CartPole-v1 · greedy evaluation return');
  });

  it("takes the server's error message when it sent one", () => {
    expect(apiErrorMessage(400, { error: 'compare needs at least 2 runs, got 1' }, 'GET /api/compare')).toBe('compare needs at least 2 runs, got 1');
    expect(apiErrorMessage(502, null, 'GET /api/compare')).toBe('GET /api/compare: HTTP 502');
    expect(apiErrorMessage(500, { message: 'x' }, 'GET /x')).toBe('GET /x: HTTP 500');
  });
});

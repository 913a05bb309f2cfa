/** Viewer run-list logic: ordering, the run to watch on load, the URL hash, list figures. */
import { describe, expect, it } from 'vitest';
import type { RunSummary } from '../protocol/protocol.js';
import { agentLabel, explorationLabel, formatRunHash, headlineReturn, isPolicyWatcher, legendStatuses, newRunToFollow, parseRunHash, pickAutoWatch, progressLabel, runProgress, sortRuns, statusMeta, STATUS_META } from '../viewer/src/model/runs.js';

function run(runId: string, over: Partial<RunSummary> = {}): RunSummary {
  return {
    runId,
    kind: 'rl',
    envId: 'CartPole-v1',
    agent: 'dqn',
    preset: 'zoo',
    seed: 1,
    steps: 50_000,
    episodes: null,
    numEnvs: 1,
    backend: 'wasm',
    fps: 50,
    status: 'running',
    origin: 'server',
    step: 0,
    episodesDone: 0,
    lastReturn: null,
    meanReturn: null,
    lastEval: null,
    sps: null,
    exploration: null,
    watchers: 0,
    createdAt: '2026-01-01T10:00:00.000Z',
    error: null,
    ...over,
  };
}

describe('runs', () => {
  it('sorts newest first', () => {
    const runs = [run('a', { createdAt: '2026-01-01T10:00:00Z' }), run('b', { createdAt: '2026-01-01T12:00:00Z' }), run('c', { createdAt: '2026-01-01T11:00:00Z' })];
    expect(sortRuns(runs).map((r) => r.runId)).toEqual(['b', 'c', 'a']);
  });

  it('watches the hash run if it exists, else the newest running, else a starting one, else none', () => {
    const runs = [
      run('old-done', { status: 'done', createdAt: '2026-01-01T09:00:00Z' }),
      run('running-1', { createdAt: '2026-01-01T10:00:00Z' }),
      run('running-2', { createdAt: '2026-01-01T11:00:00Z' }),
    ];
    expect(pickAutoWatch(runs, 'old-done')).toBe('old-done');
    expect(pickAutoWatch(runs, 'missing')).toBe('running-2');
    expect(pickAutoWatch(runs, null)).toBe('running-2');
    expect(pickAutoWatch([run('s', { status: 'starting' }), run('d', { status: 'done' })], null)).toBe('s');
    expect(pickAutoWatch([run('d', { status: 'done' })], null)).toBeNull();
    expect(pickAutoWatch([], null)).toBeNull();
  });

  it('reads and writes the URL hash', () => {
    expect(parseRunHash('#run=CartPole-v1-dqn-zoo-s3-20260101')).toBe('CartPole-v1-dqn-zoo-s3-20260101');
    expect(parseRunHash('#x=1&run=a.b_c')).toBe('a.b_c');
    expect(parseRunHash('')).toBeNull();
    expect(parseRunHash('#run=')).toBeNull();
    expect(parseRunHash('#run=%E0%A4%A')).toBeNull();
    expect(formatRunHash('a b')).toBe('#run=a%20b');
    expect(parseRunHash(formatRunHash('a b'))).toBe('a b');
    expect(formatRunHash(null)).toBe('');
  });

  it('has a colour and label for every status', () => {
    for (const s of ['starting', 'running', 'done', 'stopped', 'failed', 'lost', 'stored'] as const) {
      expect(STATUS_META[s].label).toBe(s);
      expect(STATUS_META[s].color).toMatch(/^#[0-9a-f]{6}$/);
      expect(STATUS_META[s].title, `what ${s} means`).toMatch(/\w{4}/);
    }
    expect(statusMeta('running').active).toBe(true);
    expect(statusMeta('done').active).toBe(false);
    expect(statusMeta('weird').label).toBe('weird');
  });

  it('shows progress, agent, headline return and exploration', () => {
    expect(runProgress(run('a', { step: 12_500 }))).toBe(0.25);
    expect(runProgress(run('a', { step: 60_000 }))).toBe(1);
    expect(runProgress(run('a', { status: 'done', step: 49_000 }))).toBe(1);
    expect(progressLabel(run('a', { step: 12_500 }))).toBe('12.5k / 50k');
    expect(agentLabel(run('a'))).toBe('dqn · zoo');
    expect(agentLabel(run('a', { preset: null }))).toBe('dqn');
    expect(headlineReturn(run('a'))).toBeNull();
    expect(headlineReturn(run('a', { meanReturn: 42.123 }))).toEqual({ label: 'mean', value: '42.12' });
    expect(headlineReturn(run('a', { meanReturn: 42, lastEval: 500 }))).toEqual({ label: 'eval', value: '500' });
    expect(explorationLabel(run('a', { exploration: { name: 'epsilon', value: 0.05 } }))).toEqual({ name: 'ε', value: 0.05 });
    expect(explorationLabel(run('a', { exploration: { name: 'entropy', value: 0.6 } }))).toEqual({ name: 'entropy', value: 0.6 });
    expect(explorationLabel(null)).toBeNull();
  });
});

describe('newRunToFollow', () => {
  it('follows a run that appears training while the page shows nothing live, never while a run is live', () => {
    const stored = run('old', { status: 'stored', origin: 'disk' });
    const fresh = run('cli-run', { status: 'running', origin: 'cli' });
    const known = new Set(['old']);
    expect(newRunToFollow([stored, fresh], known, null)).toBe('cli-run');
    expect(newRunToFollow([stored, fresh], known, stored)).toBe('cli-run');
    expect(newRunToFollow([stored, fresh], known, run('live', { status: 'running' }))).toBeNull();
    // Known runs, and new runs that are not training, are not followed.
    expect(newRunToFollow([stored, fresh], new Set(['old', 'cli-run']), null)).toBeNull();
    expect(newRunToFollow([stored, run('done-elsewhere', { status: 'done' })], known, null)).toBeNull();
  });
});

describe('policy watchers and the status legend', () => {
  it('a policy watcher shows the episodes it played, no budget (not "1G") and no progress', () => {
    const watcher = run('w', { agent: 'dqn · greedy', steps: 1_000_000_000, step: 1_204, episodesDone: 3, status: 'running' });
    expect(isPolicyWatcher(watcher)).toBe(true);
    expect(isPolicyWatcher(run('a'))).toBe(false);
    expect(progressLabel(watcher)).toBe('3 episodes · 1,204 steps');
    expect(progressLabel({ ...watcher, episodesDone: 1 })).toBe('1 episode · 1,204 steps');
    expect(progressLabel(watcher)).not.toMatch(/G/);
    expect(runProgress(watcher)).toBe(0);
    expect(runProgress({ ...watcher, status: 'done' })).toBe(0);
  });

  it('the legend explains the statuses listed, in a fixed order, unknown ones last', () => {
    const runs = [run('a', { status: 'stored' }), run('b', { status: 'done' }), run('c', { status: 'stored' }), run('d', { status: 'running' })];
    const legend = legendStatuses(runs);
    expect(legend.map((e) => e.status)).toEqual(['running', 'done', 'stored']);
    expect(legend.find((e) => e.status === 'done')!.meta).toMatchObject({ label: 'done', color: '#58a6ff' });
    expect(legend.find((e) => e.status === 'stored')!.meta.title).toMatch(/on disk/);
    expect(legendStatuses([...runs, run('x', { status: 'zombie' as never })]).map((e) => e.status)).toEqual(['running', 'done', 'stored', 'zombie']);
    expect(legendStatuses([])).toEqual([]);
  });
});

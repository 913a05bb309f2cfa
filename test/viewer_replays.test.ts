/**
 * Viewer replay logic: list filters and order, same-seed partners, the shared timeline of two episodes of
 * different lengths, the playback clock, per-step readouts and the step frames the stage draws.
 */
import { describe, expect, it } from 'vitest';
import type { ReplayDetail, ReplaySummary } from '../protocol/protocol.js';
import {
  bestPartner,
  loopBadge,
  loopEpisodes,
  partnersNote,
  clampStep,
  endLabel,
  filterOptions,
  filterReplays,
  formatAction,
  matchesFilters,
  panePosition,
  parseReplaySpeed,
  ReplayClock,
  replayAgentLabel,
  replayKey,
  replaysQuery,
  replayStepFrames,
  returnsSoFar,
  sameSeedPartners,
  shortRunId,
  sortReplays,
  stepInfo,
  timelineMax,
  toggleSelection,
} from '../viewer/src/model/replays.js';
import { NO_FILTERS } from '../viewer/src/model/routes.js';

function replay(runId: string, name: string, over: Partial<ReplaySummary> = {}): ReplaySummary {
  return {
    runId,
    name,
    mode: 'eval',
    episode: 0,
    envId: 'CartPole-v1',
    agent: 'a2c',
    preset: 'cartpole',
    seed: 1_000_000,
    checkpointStep: 10_000,
    return: 100,
    length: 100,
    terminated: true,
    truncated: false,
    createdAt: '2026-01-01T00:00:00Z',
    bytes: 1000,
    ...over,
  };
}

const A = 'CartPole-v1-a2c-cartpole-s1-20260101-000000';
const R = 'CartPole-v1-reinforce-cartpole-s1-20260101-000100';
const D = 'CartPole-v1-dqn-zoo-s1-20260101-000200';
const LIST: ReplaySummary[] = [
  replay(R, 'train-e0000008.jsonl.gz', { mode: 'train', episode: 8, agent: 'reinforce', seed: null, checkpointStep: 300 }),
  replay(R, 'eval-s0000020000-e001.jsonl.gz', { agent: 'reinforce', episode: 1, seed: 1_000_001, checkpointStep: 20_000 }),
  replay(R, 'eval-s0000020000-e000.jsonl.gz', { agent: 'reinforce', checkpointStep: 20_000 }),
  replay(A, 'eval-s0000020000-e000.jsonl.gz', { checkpointStep: 20_000, return: 180, length: 180 }),
  replay(A, 'eval-s0000010000-e000.jsonl.gz'),
  replay(A, 'train-e0000000.jsonl.gz', { mode: 'train', episode: 0, seed: null, checkpointStep: 0 }),
  replay(A, 'eval-s0000010000-e001.jsonl.gz', { episode: 1, seed: 1_000_001 }),
  replay(D, 'eval-s0000020000-e000.jsonl.gz', { agent: 'dqn', preset: 'zoo', checkpointStep: 20_000 }),
  replay(D, 'eval-s0000010000-e000.jsonl.gz', { agent: 'dqn', preset: 'zoo', envId: 'Acrobot-v1' }),
];

describe('the replay list', () => {
  it('sorts by run, then evaluations (by policy step and index) before training episodes', () => {
    expect(sortReplays(LIST).map((r) => `${r.runId.split('-')[2]}:${r.name}`)).toEqual([
      'a2c:eval-s0000010000-e000.jsonl.gz',
      'a2c:eval-s0000010000-e001.jsonl.gz',
      'a2c:eval-s0000020000-e000.jsonl.gz',
      'a2c:train-e0000000.jsonl.gz',
      'dqn:eval-s0000010000-e000.jsonl.gz',
      'dqn:eval-s0000020000-e000.jsonl.gz',
      'reinforce:eval-s0000020000-e000.jsonl.gz',
      'reinforce:eval-s0000020000-e001.jsonl.gz',
      'reinforce:train-e0000008.jsonl.gz',
    ]);
  });

  it('filters by env, agent (name or agent/preset), run and mode', () => {
    expect(filterReplays(LIST, NO_FILTERS)).toHaveLength(LIST.length);
    expect(filterReplays(LIST, { ...NO_FILTERS, env: 'Acrobot-v1' }).map((r) => r.runId)).toEqual([D]);
    expect(filterReplays(LIST, { ...NO_FILTERS, agent: 'reinforce' })).toHaveLength(3);
    expect(filterReplays(LIST, { ...NO_FILTERS, agent: 'dqn/zoo' })).toHaveLength(2);
    expect(filterReplays(LIST, { ...NO_FILTERS, agent: 'dqn/book' })).toHaveLength(0);
    expect(filterReplays(LIST, { ...NO_FILTERS, run: A, mode: 'eval' }).map((r) => r.name)).toEqual(['eval-s0000010000-e000.jsonl.gz', 'eval-s0000010000-e001.jsonl.gz', 'eval-s0000020000-e000.jsonl.gz']);
    expect(filterReplays(LIST, { ...NO_FILTERS, mode: 'train' }).map((r) => r.runId)).toEqual([A, R]);
    expect(matchesFilters(replay('x', 'n', { agent: null }), { ...NO_FILTERS, agent: 'a2c' })).toBe(false);
  });

  it('offers the filter values found in the list and builds the server query', () => {
    expect(filterOptions(LIST)).toEqual({ envs: ['Acrobot-v1', 'CartPole-v1'], agents: ['a2c', 'dqn', 'reinforce'], runs: [A, D, R].sort() });
    expect(replaysQuery(NO_FILTERS)).toBe('');
    expect(replaysQuery({ env: 'CartPole-v1', agent: 'dqn/zoo', run: A, mode: 'eval' })).toBe(`?env=CartPole-v1&agent=dqn&run=${A}&mode=eval`);
  });

  it('labels agents and shortens default run ids', () => {
    expect(replayAgentLabel({ agent: 'a2c', preset: 'cartpole' })).toBe('a2c · cartpole');
    expect(replayAgentLabel({ agent: 'dqn', preset: null })).toBe('dqn');
    expect(replayAgentLabel({ agent: null, preset: null })).toBe('—');
    expect(shortRunId(LIST[3]!)).toBe('s1-20260101-000000');
    expect(shortRunId(replay('my-run', 'n'))).toBe('my-run');
    expect(endLabel({ terminated: true, truncated: false })).toBe('terminated');
    expect(endLabel({ terminated: false, truncated: true })).toBe('truncated');
    expect(endLabel({ terminated: false, truncated: false })).toBe('');
  });
});

describe('same-seed pairs', () => {
  const anchor = LIST[3]!; // a2c, eval seed 1e6 @ 20k

  it('finds the evaluation episodes on the same env from the same seed: of other runs, and of the same run at other steps', () => {
    const keys = sameSeedPartners(LIST, anchor).map(replayKey).sort();
    expect(keys).toEqual([`${D}/eval-s0000020000-e000.jsonl.gz`, `${R}/eval-s0000020000-e000.jsonl.gz`, `${A}/eval-s0000010000-e000.jsonl.gz`].sort());
    // Training episodes have no seed, so no partners.
    expect(sameSeedPartners(LIST, LIST[5]!)).toEqual([]);
  });

  it('picks another agent with the closest policy step', () => {
    const list = [...LIST, replay(R, 'eval-s0000010000-e000.jsonl.gz', { agent: 'reinforce' }), replay(`${A}-copy`, 'eval-s0000020000-e000.jsonl.gz', { checkpointStep: 20_000 })];
    const p = bestPartner(list, anchor)!;
    expect(p.agent).not.toBe('a2c');
    expect(p.checkpointStep).toBe(20_000);
    // Only the same agent available: take it.
    expect(bestPartner([anchor, list.at(-1)!], anchor)?.runId).toBe(`${A}-copy`);
    expect(bestPartner([anchor], anchor)).toBeNull();
  });

  it('keeps at most two replays selected, dropping the oldest', () => {
    let sel: string[] = [];
    sel = toggleSelection(sel, 'a');
    sel = toggleSelection(sel, 'b');
    expect(sel).toEqual(['a', 'b']);
    sel = toggleSelection(sel, 'c');
    expect(sel).toEqual(['b', 'c']);
    expect(toggleSelection(sel, 'b')).toEqual(['c']);
  });
});

describe('the shared timeline of two episodes', () => {
  // A: 180 steps, B: 500 steps (frames 0…n each).
  const steps = [180, 500];

  it('runs to the longer episode', () => {
    expect(timelineMax(steps)).toBe(500);
    expect(timelineMax([])).toBe(0);
    expect(clampStep(-4, 500)).toBe(0);
    expect(clampStep(612, 500)).toBe(500);
    expect(clampStep(99.6, 500)).toBe(100);
    expect(clampStep(Number.NaN, 500)).toBe(0);
  });

  it('shows the same step in both while both play', () => {
    for (const t of [0, 1, 100, 179]) {
      expect(panePosition(t, 180)).toEqual({ index: t, ended: false, holding: false });
      expect(panePosition(t, 500)).toEqual({ index: t, ended: false, holding: false });
    }
  });

  it('holds the shorter one on its final frame once it ended', () => {
    expect(panePosition(180, 180)).toEqual({ index: 180, ended: true, holding: false });
    expect(panePosition(181, 180)).toEqual({ index: 180, ended: true, holding: true });
    expect(panePosition(500, 180)).toEqual({ index: 180, ended: true, holding: true });
    expect(panePosition(500, 500)).toEqual({ index: 500, ended: true, holding: false });
    expect(panePosition(-1, 10).index).toBe(0);
  });
});

describe('ReplayClock', () => {
  it('advances at fps × speed and stops at the end', () => {
    const c = new ReplayClock(100, 50);
    expect(c.tick(1000)).toBe(false); // paused
    c.play();
    c.tick(100); // 5 frames
    expect(c.t).toBe(5);
    c.setSpeed(4);
    c.tick(100); // 20 frames
    expect(c.t).toBe(25);
    c.tick(10_000); // a stall advances at most 250 ms: 50 frames at 4×
    expect(c.t).toBe(75);
    c.tick(250);
    expect(c.t).toBe(100);
    expect(c.playing).toBe(false);
  });

  it('accumulates fractions of a frame', () => {
    const c = new ReplayClock(100, 50);
    c.play();
    for (let i = 0; i < 10; i++) c.tick(5); // 10 × 0.25 frames
    expect(c.t).toBe(2);
  });

  it('restarts from the beginning when played at the end; seeks and steps clamp', () => {
    const c = new ReplayClock(10, 30);
    c.seek(99);
    expect(c.t).toBe(10);
    c.play();
    expect(c.t).toBe(0);
    expect(c.playing).toBe(true);
    c.stepBy(1);
    expect(c.playing).toBe(false);
    expect(c.t).toBe(1);
    c.stepBy(-5);
    expect(c.t).toBe(0);
    c.toggle();
    expect(c.playing).toBe(true);
    c.toggle();
    expect(c.playing).toBe(false);
    const empty = new ReplayClock(0, 30);
    empty.play();
    expect(empty.playing).toBe(false);
  });

  it('knows the speeds', () => {
    expect(parseReplaySpeed('1')).toBe(1);
    expect(parseReplaySpeed('16')).toBe(16);
    expect(parseReplaySpeed('3')).toBeNull();
    expect(parseReplaySpeed('live')).toBeNull();
  });
});

describe('one replay step by step', () => {
  const detail: ReplayDetail = {
    summary: replay(A, 'eval-s0000010000-e000.jsonl.gz', { episode: 2, return: 2.5, length: 3, terminated: true }),
    fps: 50,
    steps: [
      { a: 1, r: 1, term: false, trunc: false },
      { a: 0, r: 0.5, term: false, trunc: false },
      { a: [0.25, -1], r: 1, term: true, trunc: false },
    ],
    frames: [
      { kind: 'cartpole', x: 0, xDot: 0, theta: 0, thetaDot: 0, xThreshold: 2.4, thetaThreshold: 0.2, poleHalfLength: 0.5, lastAction: null },
      { kind: 'cartpole', x: 0.1, xDot: 0, theta: 0, thetaDot: 0, xThreshold: 2.4, thetaThreshold: 0.2, poleHalfLength: 0.5, lastAction: 1 },
      'text frame',
      { kind: 'cartpole', x: 0.3, xDot: 0, theta: 0, thetaDot: 0, xThreshold: 2.4, thetaThreshold: 0.2, poleHalfLength: 0.5, lastAction: 0 },
    ],
    regenerated: true,
  };

  it('sums the return so far', () => {
    expect(returnsSoFar(detail.steps)).toEqual([0, 1, 1.5, 2.5]);
  });

  it('reads the action, reward, return and end at each step', () => {
    expect(stepInfo(detail, 0)).toEqual({ k: 0, n: 3, action: null, reward: null, returnSoFar: 0, terminated: false, truncated: false });
    expect(stepInfo(detail, 2)).toEqual({ k: 2, n: 3, action: 0, reward: 0.5, returnSoFar: 1.5, terminated: false, truncated: false });
    expect(stepInfo(detail, 3)).toMatchObject({ k: 3, action: [0.25, -1], terminated: true });
    expect(stepInfo(detail, 99).k).toBe(3);
    expect(formatAction(null)).toBe('—');
    expect(formatAction(1)).toBe('1');
    expect(formatAction([0.25, -1])).toBe('[0.25, -1]');
  });

  it('builds the step frames the stage draws', () => {
    const frames = replayStepFrames(detail);
    expect(frames).toHaveLength(4);
    expect(frames[0]).toMatchObject({ step: 0, episode: 2, episodeStep: 0, reward: 0, episodeReturn: 0, terminated: false });
    expect(frames[1]).toMatchObject({ episodeStep: 1, action: 1, reward: 1, episodeReturn: 1, frame: detail.frames[1] });
    // A string frame (an `ansi` render) becomes a text frame, drawn by the text renderer as live ones are.
    expect(frames[2]!.frame).toEqual({ kind: 'text', text: detail.frames[2] });
    // A Box action stays the whole row the agent chose.
    expect(frames[3]).toMatchObject({ action: [0.25, -1], episodeReturn: 2.5, terminated: true, frame: detail.frames[3] });
  });
});

describe('same-seed partners within one run', () => {
  // One run, evaluated at 5 steps with 2 episodes each (seeds 1e6 and 1e6+1): 5 episodes from seed 1e6.
  const ONE = Array.from({ length: 5 }, (_, i) => (i + 1) * 10_000).flatMap((step) => [0, 1].map((j) => replay(A, `eval-s${String(step).padStart(10, '0')}-e00${j}.jsonl.gz`, { checkpointStep: step, episode: j, seed: 1_000_000 + j })));

  it('offers the same run\'s episodes from the seed at other steps, and says so', () => {
    const anchor = ONE[0]!; // step 10k, seed 1e6
    const partners = sameSeedPartners(ONE, anchor);
    expect(partners.map((r) => r.checkpointStep)).toEqual([20_000, 30_000, 40_000, 50_000]);
    expect(partnersNote(ONE, anchor)).toBe(' — 4 more episodes from seed 1000000 (4 of this run at other steps; highlighted)');
    expect(partnersNote(ONE, anchor)).not.toMatch(/no other/);
    // Another run's too: both counted.
    const both = [...ONE, replay(D, 'eval-s0000010000-e000.jsonl.gz', { agent: 'dqn' })];
    expect(partnersNote(both, anchor)).toBe(' — 5 more episodes from seed 1000000 (1 of another run, 4 of this run at other steps; highlighted)');
    expect(partnersNote([anchor], anchor)).toBe(' — no other evaluation episode started from seed 1000000');
  });

  it('picks another run first; within the run, the policy furthest away in steps', () => {
    const anchor = ONE[4]!; // step 30k
    expect(bestPartner(ONE, anchor)!.checkpointStep).toBe(50_000); // 20k away either way: the later
    expect(bestPartner(ONE, ONE[0]!)!.checkpointStep).toBe(50_000);
    expect(bestPartner(ONE, ONE[8]!)!.checkpointStep).toBe(10_000);
    const other = replay(`${A}-copy`, 'eval-s0000050000-e000.jsonl.gz', { checkpointStep: 50_000 });
    expect(bestPartner([...ONE, other], ONE[0]!)!.runId).toBe(`${A}-copy`);
  });
});

describe('the episodes a finished run loops', () => {
  const run = (returns: number[][]) => returns.flatMap((rs, i) => rs.map((ret, j) => replay(A, `eval-s${String((i + 1) * 1000).padStart(10, '0')}-e00${j}.jsonl.gz`, { checkpointStep: (i + 1) * 1000, episode: j, seed: 1_000_000 + j, return: ret })));

  it('the best (highest return, earliest on a tie) and the latest evaluation\'s first episode', () => {
    const list = [...run([[10, 12], [500, 480], [500, 500], [300, 320]]), replay(A, 'train-e0000001.jsonl.gz', { mode: 'train', return: 9999, seed: null }), replay(R, 'eval-s0000009000-e000.jsonl.gz', { return: 9999 })];
    const loop = loopEpisodes(list, A);
    expect(loop.map((c) => [c.role, c.replay.name])).toEqual([
      ['best', 'eval-s0000002000-e000.jsonl.gz'],
      ['latest', 'eval-s0000004000-e000.jsonl.gz'],
    ]);
    expect(loopBadge(loop[0]!)).toBe('replay · best eval (return 500, step 2,000)');
    expect(loopBadge(loop[1]!)).toBe('replay · latest eval (return 300, step 4,000)');
  });

  it('one entry when the best is the latest; none without evaluation episodes', () => {
    const loop = loopEpisodes(run([[10], [20], [45_000.5]]), A);
    expect(loop.map((c) => c.role)).toEqual(['best-latest']);
    expect(loopBadge(loop[0]!)).toBe('replay · best and latest eval (return 45000.5, step 3,000)');
    expect(loopEpisodes([replay(A, 'train-e0000001.jsonl.gz', { mode: 'train', seed: null })], A)).toEqual([]);
    expect(loopEpisodes(run([[1]]), 'another-run')).toEqual([]);
    expect(loopBadge({ role: 'latest', replay: replay(A, 'x', { checkpointStep: null, return: -3 }) })).toBe('replay · latest eval (return −3)');
  });
});

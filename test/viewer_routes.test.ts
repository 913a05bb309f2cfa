/** Viewer hash routes: every page's URL parses back to the page, old `#run=` links still open the live page. */
import { describe, expect, it } from 'vitest';
import { formatReplayRef, formatRoute, NO_FILTERS, parseReplayRef, parseRoute, sameRef, sectionOf, type Route } from '../viewer/src/model/routes.js';

const RUN_A = 'CartPole-v1-a2c-cartpole-s1-20261123-092415';
const RUN_B = 'CartPole-v1-reinforce-cartpole-s1-20261123-092422';
const NAME = 'eval-s0000020000-e000.jsonl.gz';

describe('parseRoute', () => {
  it('keeps the historic live deep link #run=<id>', () => {
    expect(parseRoute('#run=abc')).toEqual({ page: 'live', runId: 'abc' });
    expect(parseRoute('run=x%20y')).toEqual({ page: 'live', runId: 'x y' });
    expect(parseRoute('#foo=1&run=r2')).toEqual({ page: 'live', runId: 'r2' });
  });

  it('is the live page for an empty or unknown hash', () => {
    expect(parseRoute('')).toEqual({ page: 'live', runId: null });
    expect(parseRoute('#')).toEqual({ page: 'live', runId: null });
    expect(parseRoute('#/nowhere')).toEqual({ page: 'live', runId: null });
    expect(parseRoute('#/live')).toEqual({ page: 'live', runId: null });
    expect(parseRoute('#/live/r1')).toEqual({ page: 'live', runId: 'r1' });
    expect(parseRoute('#/replay/%E0%A4%A')).toEqual({ page: 'live', runId: null });
  });

  it('parses the replays list with its filters', () => {
    expect(parseRoute('#/replays')).toEqual({ page: 'replays', filters: NO_FILTERS });
    expect(parseRoute('#/replays/')).toEqual({ page: 'replays', filters: NO_FILTERS });
    expect(parseRoute('#/replays?env=CartPole-v1&agent=a2c&run=r1&mode=eval')).toEqual({ page: 'replays', filters: { env: 'CartPole-v1', agent: 'a2c', run: 'r1', mode: 'eval' } });
    // An unknown mode is no filter; repeated keys keep the first.
    expect(parseRoute('#/replays?mode=bogus&env=A&env=B')).toEqual({ page: 'replays', filters: { ...NO_FILTERS, env: 'A' } });
  });

  it('parses the player and the side-by-side page', () => {
    expect(parseRoute(`#/replay/${RUN_A}/${NAME}`)).toEqual({ page: 'replay', ref: { runId: RUN_A, name: NAME }, step: null });
    expect(parseRoute(`#/replay/${RUN_A}/${NAME}?t=100`)).toEqual({ page: 'replay', ref: { runId: RUN_A, name: NAME }, step: 100 });
    expect(parseRoute(`#/side-by-side?a=${RUN_A}/${NAME}&b=${RUN_B}%2F${NAME}&t=7`)).toEqual({
      page: 'side-by-side',
      a: { runId: RUN_A, name: NAME },
      b: { runId: RUN_B, name: NAME },
      step: 7,
    });
    // Bad steps are ignored; incomplete links fall back to the list.
    expect(parseRoute(`#/replay/${RUN_A}/${NAME}?t=-3`)).toMatchObject({ page: 'replay', step: null });
    expect(parseRoute(`#/replay/${RUN_A}/${NAME}?t=1e3`)).toMatchObject({ page: 'replay', step: null });
    expect(parseRoute(`#/replay/${RUN_A}`)).toEqual({ page: 'replays', filters: NO_FILTERS });
    expect(parseRoute(`#/side-by-side?a=${RUN_A}/${NAME}`)).toEqual({ page: 'replays', filters: NO_FILTERS });
    expect(parseRoute(`#/side-by-side?a=${RUN_A}&b=${RUN_B}/${NAME}`)).toEqual({ page: 'replays', filters: NO_FILTERS });
  });

  it('parses the compare page: run list (deduplicated), grouping and curve', () => {
    expect(parseRoute('#/compare')).toEqual({ page: 'compare', params: { runs: [], groupBy: 'agent-preset', curve: 'eval' } });
    expect(parseRoute('#/compare?runs=a,b,,a,c')).toEqual({ page: 'compare', params: { runs: ['a', 'b', 'c'], groupBy: 'agent-preset', curve: 'eval' } });
    expect(parseRoute('#/compare?runs=a%2Cb&groupBy=agent&curve=episodes')).toEqual({ page: 'compare', params: { runs: ['a', 'b'], groupBy: 'agent', curve: 'episodes' } });
    expect(parseRoute('#/compare?runs=a&groupBy=hyper:lr&curve=x')).toEqual({ page: 'compare', params: { runs: ['a'], groupBy: 'agent-preset', curve: 'eval' } });
  });
});

describe('formatRoute', () => {
  const routes: Route[] = [
    { page: 'live', runId: null },
    { page: 'live', runId: 'run with space' },
    { page: 'replays', filters: { ...NO_FILTERS } },
    { page: 'replays', filters: { env: 'CartPole-v1', agent: 'dqn', run: RUN_A, mode: 'train' } },
    { page: 'replay', ref: { runId: RUN_A, name: NAME }, step: null },
    { page: 'replay', ref: { runId: RUN_A, name: NAME }, step: 0 },
    { page: 'side-by-side', a: { runId: RUN_A, name: NAME }, b: { runId: RUN_B, name: 'train-e0000008.jsonl.gz' }, step: 100 },
    { page: 'compare', params: { runs: [RUN_A, RUN_B], groupBy: 'agent-preset', curve: 'eval' } },
    { page: 'compare', params: { runs: [RUN_A], groupBy: 'env', curve: 'episodes' } },
  ];

  it('round-trips every route through its hash', () => {
    for (const r of routes) expect(parseRoute(formatRoute(r))).toEqual(r);
  });

  it('writes readable links', () => {
    expect(formatRoute({ page: 'live', runId: 'abc' })).toBe('#run=abc');
    expect(formatRoute({ page: 'replays', filters: { ...NO_FILTERS, mode: 'eval' } })).toBe('#/replays?mode=eval');
    expect(formatRoute({ page: 'side-by-side', a: { runId: 'r1', name: 'n1' }, b: { runId: 'r2', name: 'n2' }, step: 100 })).toBe('#/side-by-side?a=r1/n1&b=r2/n2&t=100');
    expect(formatRoute({ page: 'compare', params: { runs: ['a', 'b'], groupBy: 'agent-preset', curve: 'eval' } })).toBe('#/compare?runs=a,b');
  });
});

describe('replay refs and sections', () => {
  it('splits <runId>/<name> at the slash', () => {
    expect(parseReplayRef(`${RUN_A}/${NAME}`)).toEqual({ runId: RUN_A, name: NAME });
    for (const bad of [null, undefined, '', 'x', '/n', 'r/', 'r/a/b']) expect(parseReplayRef(bad)).toBeNull();
    expect(formatReplayRef({ runId: 'r', name: 'n' })).toBe('r/n');
    expect(sameRef({ runId: 'r', name: 'n' }, { runId: 'r', name: 'n' })).toBe(true);
    expect(sameRef({ runId: 'r', name: 'n' }, { runId: 'r', name: 'm' })).toBe(false);
    expect(sameRef(null, { runId: 'r', name: 'n' })).toBe(false);
  });

  it('puts the players under the Replays tab', () => {
    expect(sectionOf('live')).toBe('live');
    expect(sectionOf('replays')).toBe('replays');
    expect(sectionOf('replay')).toBe('replays');
    expect(sectionOf('side-by-side')).toBe('replays');
    expect(sectionOf('compare')).toBe('compare');
  });
});

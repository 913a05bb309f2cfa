import { describe, it, expect } from 'vitest';
import { FrozenLakeEnv, MAPS, generateRandomMap } from '../envs/toy_text/frozen_lake.js';
import { CliffWalkingEnv } from '../envs/toy_text/cliff_walking.js';
import { TaxiEnv, decodeTaxiState, encodeTaxiState } from '../envs/toy_text/taxi.js';
import type { TabularEnv } from '../envs/toy_text/tabular.js';
import type { CliffWalkingFrame, FrozenLakeFrame, TaxiFrame } from '../envs/frames.js';
import { InvalidAction, ResetNeeded } from '../envs/core.js';

const THIRD = 1 / 3;
/** Gymnasium's perpendicular probability, (1 − success_rate) / 2 = 0.33333333333333337 (not 1/3 exactly). */
const SIDE = (1 - 1 / 3) / 2;
/** Rainy taxi's lateral probability, (1 − 0.8) / 2 = 0.09999999999999998, as Gymnasium computes it. */
const RAIN_SIDE = (1 - 0.8) / 2;

function expectRowsSumToOne(env: TabularEnv): void {
  const nS = env.observationSpace.n;
  const nA = env.actionSpace.n;
  expect(env.P.length).toBe(nS);
  for (let s = 0; s < nS; s++) {
    expect(env.P[s]!.length).toBe(nA);
    for (let a = 0; a < nA; a++) {
      const row = env.P[s]![a]!;
      expect(row.length).toBeGreaterThan(0);
      const sum = row.reduce((acc, t) => acc + t[0], 0);
      expect(Math.abs(sum - 1)).toBeLessThan(1e-12);
      for (const [p, next] of row) {
        expect(p).toBeGreaterThanOrEqual(0);
        expect(Number.isInteger(next) && next >= 0 && next < nS).toBe(true);
      }
    }
  }
}

/** Breadth-first search from the S cell over non-hole cells. */
function solvable(desc: string[]): boolean {
  const nrow = desc.length;
  const ncol = desc[0]!.length;
  const start = desc.join('').indexOf('S');
  const seen = new Set([start]);
  const queue = [start];
  while (queue.length) {
    const s = queue.shift()!;
    const r = Math.floor(s / ncol);
    const c = s % ncol;
    if (desc[r]![c] === 'G') return true;
    for (const [dr, dc] of [[1, 0], [-1, 0], [0, 1], [0, -1]] as const) {
      const nr = r + dr;
      const nc = c + dc;
      if (nr < 0 || nr >= nrow || nc < 0 || nc >= ncol || desc[nr]![nc] === 'H') continue;
      const ns = nr * ncol + nc;
      if (!seen.has(ns)) {
        seen.add(ns);
        queue.push(ns);
      }
    }
  }
  return false;
}

describe('FrozenLakeEnv', () => {
  it('has the 4x4 map, spaces and metadata by default', () => {
    const env = new FrozenLakeEnv();
    expect(env.desc).toEqual(['SFFF', 'FHFH', 'FFFH', 'HFFG']);
    expect(env.nrow).toBe(4);
    expect(env.ncol).toBe(4);
    expect(env.observationSpace.n).toBe(16);
    expect(env.actionSpace.n).toBe(4);
    expect(env.metadata).toEqual({ renderModes: ['json', 'ansi'], renderFps: 4 });
    expect(env.isSlippery).toBe(true);
    const [obs, info] = env.reset({ seed: 0 });
    expect(obs).toBe(0);
    expect(info).toEqual({ prob: 1 });
  });

  it('every P row sums to 1 (slippery, non-slippery, 8x8, custom success rate)', () => {
    expectRowsSumToOne(new FrozenLakeEnv());
    expectRowsSumToOne(new FrozenLakeEnv({ isSlippery: false }));
    expectRowsSumToOne(new FrozenLakeEnv({ mapName: '8x8' }));
    expectRowsSumToOne(new FrozenLakeEnv({ successRate: 0.8 }));
  });

  it('reaches the goal on the non-slippery 4x4 map with 1,1,2,2,1,2', () => {
    const env = new FrozenLakeEnv({ isSlippery: false });
    env.reset({ seed: 1 });
    const expected = [4, 8, 9, 10, 14, 15];
    const actions = [1, 1, 2, 2, 1, 2];
    actions.forEach((a, i) => {
      const [obs, reward, terminated, truncated, info] = env.step(a);
      expect(obs).toBe(expected[i]);
      expect(reward).toBe(i === actions.length - 1 ? 1 : 0);
      expect(terminated).toBe(i === actions.length - 1);
      expect(truncated).toBe(false);
      expect(info).toEqual({ prob: 1 });
    });
  });

  it('falls into a hole: terminated, reward 0', () => {
    const env = new FrozenLakeEnv({ isSlippery: false });
    env.reset();
    expect(env.step(2)).toEqual([1, 0, false, false, { prob: 1 }]);
    expect(env.step(1)).toEqual([5, 0, true, false, { prob: 1 }]);
  });

  it('builds slippery transition lists in Gymnasium order, duplicates kept', () => {
    const env = new FrozenLakeEnv();
    // Left from 0: slips up (stays 0), left (stays 0), down (4).
    expect(env.P[0]![0]).toEqual([
      [SIDE, 0, 0, false],
      [THIRD, 0, 0, false],
      [SIDE, 4, 0, false],
    ]);
    // Left from 1: up (stays 1), left (0), down into the hole 5.
    expect(env.P[1]![0]).toEqual([
      [SIDE, 1, 0, false],
      [THIRD, 0, 0, false],
      [SIDE, 5, 0, true],
    ]);
    // Right from 14: down (stays 14), right onto the goal, up to 10.
    expect(env.P[14]![2]).toEqual([
      [SIDE, 14, 0, false],
      [THIRD, 15, 1, true],
      [SIDE, 10, 0, false],
    ]);
    // Up from 0: right (1), up (stays 0), left (stays 0).
    expect(env.P[0]![3]).toEqual([
      [SIDE, 1, 0, false],
      [THIRD, 0, 0, false],
      [SIDE, 0, 0, false],
    ]);
  });

  it('uses successRate for the intended move and splits the rest between the perpendiculars', () => {
    const env = new FrozenLakeEnv({ successRate: 0.8 });
    const row = env.P[14]![2]!;
    expect(row.map((t) => t[1])).toEqual([14, 15, 10]);
    expect(row[0]![0]).toBeCloseTo(0.1, 15);
    expect(row[1]![0]).toBe(0.8);
    expect(row[2]![0]).toBeCloseTo(0.1, 15);
  });

  it('makes holes and the goal absorbing', () => {
    for (const env of [new FrozenLakeEnv(), new FrozenLakeEnv({ isSlippery: false })]) {
      for (const s of [5, 7, 11, 12, 15]) {
        for (let a = 0; a < 4; a++) expect(env.P[s]![a]).toEqual([[1, s, 0, true]]);
      }
    }
  });

  it('applies the reward schedule [goal, hole, frozen] (S counts as frozen)', () => {
    const env = new FrozenLakeEnv({ isSlippery: false, rewardSchedule: [10, -5, -0.1] });
    expect(env.P[0]![1]).toEqual([[1, 4, -0.1, false]]);
    expect(env.P[1]![0]).toEqual([[1, 0, -0.1, false]]);
    expect(env.P[4]![2]).toEqual([[1, 5, -5, true]]);
    expect(env.P[14]![2]).toEqual([[1, 15, 10, true]]);
    expect(env.P[15]![0]).toEqual([[1, 15, 0, true]]);
  });

  it('loads the 8x8 map', () => {
    const env = new FrozenLakeEnv({ mapName: '8x8' });
    expect(env.desc).toEqual([...MAPS['8x8']]);
    expect(env.nrow).toBe(8);
    expect(env.ncol).toBe(8);
    expect(env.observationSpace.n).toBe(64);
    const holes = env.desc.join('').split('').flatMap((ch, i) => (ch === 'H' ? [i] : []));
    expect(holes).toEqual([19, 29, 35, 41, 42, 46, 49, 52, 54, 59]);
    expect(env.P[63]![0]).toEqual([[1, 63, 0, true]]);
  });

  it('accepts a custom map and starts on its S cell', () => {
    const env = new FrozenLakeEnv({ desc: ['FFG', 'SHF'], isSlippery: false });
    expect(env.nrow).toBe(2);
    expect(env.ncol).toBe(3);
    expect(env.reset()[0]).toBe(3);
    expect(env.step(3)).toEqual([0, 0, false, false, { prob: 1 }]);
    expect(env.step(2)[0]).toBe(1);
    expect(env.step(2)).toEqual([2, 1, true, false, { prob: 1 }]);
  });

  it('rejects malformed custom maps', () => {
    expect(() => new FrozenLakeEnv({ desc: [] })).toThrow(/FrozenLakeEnv.*desc/);
    expect(() => new FrozenLakeEnv({ desc: ['SFF', 'FG'] })).toThrow(/FrozenLakeEnv.*desc.*rectangular/);
    expect(() => new FrozenLakeEnv({ desc: ['SX', 'FG'] })).toThrow(/FrozenLakeEnv.*desc.*invalid cell "X"/);
    expect(() => new FrozenLakeEnv({ desc: ['SS', 'FG'] })).toThrow(/exactly one start cell S, found 2/);
    expect(() => new FrozenLakeEnv({ desc: ['FF', 'FG'] })).toThrow(/exactly one start cell S, found 0/);
    expect(() => new FrozenLakeEnv({ desc: ['SF', 'FH'] })).toThrow(/at least one goal cell G/);
    expect(() => new FrozenLakeEnv({ desc: 'SFFG' as unknown as string[] })).toThrow(/FrozenLakeEnv.*desc/);
  });

  it('rejects unknown options and bad values, naming the env and the option', () => {
    expect(() => new FrozenLakeEnv({ slippery: false } as never)).toThrow(/FrozenLakeEnv: unknown option 'slippery'/);
    expect(() => new FrozenLakeEnv({ is_slippery: false } as never)).toThrow(/unknown option 'is_slippery'/);
    expect(() => new FrozenLakeEnv({ mapName: '5x5' as never })).toThrow(/FrozenLakeEnv: option 'mapName'/);
    expect(() => new FrozenLakeEnv({ isSlippery: 'yes' as never })).toThrow(/FrozenLakeEnv: option 'isSlippery'/);
    expect(() => new FrozenLakeEnv({ successRate: 1.5 })).toThrow(/FrozenLakeEnv: option 'successRate'/);
    expect(() => new FrozenLakeEnv({ successRate: Number.NaN })).toThrow(/option 'successRate'/);
    expect(() => new FrozenLakeEnv({ rewardSchedule: [1, 0] as never })).toThrow(/FrozenLakeEnv: option 'rewardSchedule'/);
    expect(() => new FrozenLakeEnv(null as never)).toThrow(/FrozenLakeEnv: options must be an object/);
  });

  it('gives the same slippery trajectory for the same seed', () => {
    const actions = [2, 2, 1, 1, 1, 2, 0, 3, 1, 2, 2, 1, 0, 0, 3, 2, 1, 1, 2, 2];
    const run = (env: FrozenLakeEnv, seed: number) => {
      const out: number[] = [env.reset({ seed })[0]];
      for (const a of actions) {
        const [obs, , terminated] = env.step(a);
        out.push(obs);
        if (terminated) out.push(env.reset()[0]);
      }
      return out;
    };
    const a = run(new FrozenLakeEnv(), 7);
    const b = run(new FrozenLakeEnv(), 7);
    expect(a).toEqual(b);
    const env = new FrozenLakeEnv();
    expect(run(env, 7)).toEqual(a);
    expect(run(env, 7)).toEqual(a); // reseeding the same env replays it
    // Slippery moves are stochastic: over many seeds some first steps go elsewhere than intended.
    const firsts = new Set<number>();
    for (let seed = 0; seed < 30; seed++) {
      env.reset({ seed });
      firsts.add(env.step(2)[0]);
    }
    expect([...firsts].sort()).toEqual([0, 1, 4]);
  });

  it('renders json frames and ansi strings', () => {
    const env = new FrozenLakeEnv({ isSlippery: false });
    expect(() => env.render()).toThrow(ResetNeeded);
    env.reset();
    const frame = env.render() as FrozenLakeFrame;
    expect(frame).toEqual({ kind: 'frozenlake', map: ['SFFF', 'FHFH', 'FFFH', 'HFFG'], agent: [0, 0], lastAction: null });
    env.step(1);
    expect(env.render()).toEqual({ kind: 'frozenlake', map: ['SFFF', 'FHFH', 'FFFH', 'HFFG'], agent: [1, 0], lastAction: 1 });
    JSON.parse(JSON.stringify(env.render()));

    const text = new FrozenLakeEnv({ isSlippery: false, renderMode: 'ansi' });
    text.reset();
    expect(text.render()).toBe('\n\x1b[41mS\x1b[0mFFF\nFHFH\nFFFH\nHFFG\n');
    text.step(1);
    expect(text.render()).toBe('  (Down)\nSFFF\n\x1b[41mF\x1b[0mHFH\nFFFH\nHFFG\n');
  });

  it('validates actions and requires reset before step', () => {
    const env = new FrozenLakeEnv();
    expect(() => env.step(0)).toThrow(ResetNeeded);
    env.reset({ seed: 0 });
    expect(() => env.step(4)).toThrow(InvalidAction);
    expect(() => env.step(1.5)).toThrow(InvalidAction);
  });
});

describe('generateRandomMap', () => {
  it('produces a solvable size x size map with S top-left and G bottom-right', () => {
    for (let seed = 0; seed < 20; seed++) {
      const map = generateRandomMap(8, 0.8, seed);
      expect(map.length).toBe(8);
      for (const row of map) expect(row).toMatch(/^[SFHG]{8}$/);
      expect(map[0]![0]).toBe('S');
      expect(map[7]![7]).toBe('G');
      expect(map.join('').replace(/[^S]/g, '').length).toBe(1);
      expect(solvable(map)).toBe(true);
    }
    const small = generateRandomMap(4, 0.5, 3);
    expect(small.length).toBe(4);
    expect(solvable(small)).toBe(true);
  });

  it('is deterministic per seed and varies across seeds', () => {
    expect(generateRandomMap(8, 0.8, 42)).toEqual(generateRandomMap(8, 0.8, 42));
    const maps = new Set<string>();
    for (let seed = 0; seed < 10; seed++) maps.add(generateRandomMap(8, 0.8, seed).join('/'));
    expect(maps.size).toBeGreaterThan(1);
    // p = 1: no holes at all.
    expect(generateRandomMap(5, 1, 0)).toEqual(['SFFFF', 'FFFFF', 'FFFFF', 'FFFFF', 'FFFFG']);
  });

  it('feeds FrozenLakeEnv and rejects bad arguments', () => {
    const env = new FrozenLakeEnv({ desc: generateRandomMap(6, 0.7, 11) });
    expect(env.observationSpace.n).toBe(36);
    expectRowsSumToOne(env);
    expect(() => generateRandomMap(1)).toThrow(/size/);
    expect(() => generateRandomMap(8, 0)).toThrow(/p/);
    expect(() => generateRandomMap(8, 0.8, -1)).toThrow(/seed/);
  });
});

describe('CliffWalkingEnv', () => {
  it('has 48 states, starts at 36 and every P row sums to 1', () => {
    const env = new CliffWalkingEnv();
    expect(env.observationSpace.n).toBe(48);
    expect(env.actionSpace.n).toBe(4);
    expect(env.metadata).toEqual({ renderModes: ['json', 'ansi'], renderFps: 4 });
    expect(env.reset({ seed: 0 })).toEqual([36, { prob: 1 }]);
    expectRowsSumToOne(env);
    expectRowsSumToOne(new CliffWalkingEnv({ isSlippery: true }));
  });

  it('sends the agent back to the start with -100 when it steps onto the cliff, without terminating', () => {
    const env = new CliffWalkingEnv();
    expect(env.P[36]![1]).toEqual([[1, 36, -100, false]]);
    expect(env.P[25]![2]).toEqual([[1, 36, -100, false]]);
    env.reset();
    expect(env.step(1)).toEqual([36, -100, false, false, { prob: 1 }]);
    env.step(0); // up to 24
    env.step(1); // right to 25
    expect(env.step(2)).toEqual([36, -100, false, false, { prob: 1 }]);
  });

  it('terminates on reaching the goal along the safe path (-13)', () => {
    const env = new CliffWalkingEnv();
    env.reset();
    const actions = [0, ...Array(11).fill(1), 2];
    let total = 0;
    actions.forEach((a, i) => {
      const [obs, reward, terminated] = env.step(a);
      total += reward;
      expect(terminated).toBe(i === actions.length - 1);
      if (i === actions.length - 1) expect(obs).toBe(47);
    });
    expect(total).toBe(-13);
    expect(env.P[35]![2]).toEqual([[1, 47, -1, true]]);
  });

  it('clamps moves at the walls', () => {
    const env = new CliffWalkingEnv();
    expect(env.P[36]![2]).toEqual([[1, 36, -1, false]]);
    expect(env.P[36]![3]).toEqual([[1, 36, -1, false]]);
    expect(env.P[0]![0]).toEqual([[1, 0, -1, false]]);
    expect(env.P[0]![3]).toEqual([[1, 0, -1, false]]);
    expect(env.P[11]![1]).toEqual([[1, 11, -1, false]]);
    expect(env.P[36]![0]).toEqual([[1, 24, -1, false]]);
  });

  it('gives the goal and cliff cells ordinary (non-absorbing) rows, as Gymnasium does', () => {
    const env = new CliffWalkingEnv();
    expect(env.P[47]![0]).toEqual([[1, 35, -1, false]]);
    expect(env.P[47]![1]).toEqual([[1, 47, -1, true]]);
    expect(env.P[47]![3]).toEqual([[1, 36, -100, false]]);
    expect(env.P[40]![0]).toEqual([[1, 28, -1, false]]);
  });

  it('slippery: intended and both perpendicular moves with 1/3 each, in Gymnasium order', () => {
    const env = new CliffWalkingEnv({ isSlippery: true });
    // Up from 36: left (clamped, 36), up (24), right (cliff → 36, −100).
    expect(env.P[36]![0]).toEqual([
      [THIRD, 36, -1, false],
      [THIRD, 24, -1, false],
      [THIRD, 36, -100, false],
    ]);
    // Right from 35: up (23), right (clamped, 35), down (goal 47).
    expect(env.P[35]![1]).toEqual([
      [THIRD, 23, -1, false],
      [THIRD, 35, -1, false],
      [THIRD, 47, -1, true],
    ]);
  });

  it('rejects unknown options and bad values', () => {
    expect(() => new CliffWalkingEnv({ slippery: true } as never)).toThrow(/CliffWalkingEnv: unknown option 'slippery'/);
    expect(() => new CliffWalkingEnv({ isSlippery: 1 } as never)).toThrow(/CliffWalkingEnv: option 'isSlippery'/);
  });

  it('renders json frames and ansi strings', () => {
    const env = new CliffWalkingEnv();
    env.reset();
    const frame = env.render() as CliffWalkingFrame;
    expect(frame.kind).toBe('cliffwalking');
    expect(frame.rows).toBe(4);
    expect(frame.cols).toBe(12);
    expect(frame.start).toEqual([3, 0]);
    expect(frame.goal).toEqual([3, 11]);
    expect(frame.cliff).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map((c) => [3, c]));
    expect(frame.agent).toEqual([3, 0]);
    expect(frame.lastAction).toBeNull();
    env.step(0);
    expect((env.render() as CliffWalkingFrame).agent).toEqual([2, 0]);

    const text = new CliffWalkingEnv({ renderMode: 'ansi' });
    text.reset();
    const row = Array(12).fill('o').join('  ');
    const bottom = ['\x1b[41mx\x1b[0m', ...Array(10).fill('C'), 'T'].join('  ');
    expect(text.render()).toBe(`${row}\n${row}\n${row}\n${bottom}\n\n`);
    text.step(0);
    const out = text.render() as string;
    expect(out.split('\n')[2]).toBe(['\x1b[41mx\x1b[0m', ...Array(11).fill('o')].join('  '));
    expect(out.endsWith('  (Up)\n')).toBe(true);
  });
});

describe('TaxiEnv', () => {
  const enc = encodeTaxiState;

  it('encodes and decodes all 500 states', () => {
    const env = new TaxiEnv();
    expect(env.encode(3, 1, 2, 0)).toBe(328);
    expect(env.decode(328)).toEqual([3, 1, 2, 0]);
    for (let s = 0; s < 500; s++) {
      const [r, c, p, d] = env.decode(s);
      expect(env.encode(r, c, p, d)).toBe(s);
      expect(r >= 0 && r < 5 && c >= 0 && c < 5 && p >= 0 && p < 5 && d >= 0 && d < 4).toBe(true);
    }
    expect(() => decodeTaxiState(500)).toThrow(/TaxiEnv/);
  });

  it('has 500 states, 6 actions and every P row sums to 1 (dry and rainy)', () => {
    const env = new TaxiEnv();
    expect(env.observationSpace.n).toBe(500);
    expect(env.actionSpace.n).toBe(6);
    expect(env.metadata).toEqual({ renderModes: ['json', 'ansi'], renderFps: 4 });
    expectRowsSumToOne(env);
    expectRowsSumToOne(new TaxiEnv({ isRainy: true }));
    expectRowsSumToOne(new TaxiEnv({ isRainy: true, rainyProbability: 0.5 }));
  });

  it('starts uniformly over the 300 states with the passenger waiting away from the destination', () => {
    const env = new TaxiEnv();
    const starts = [...env.initialStateDistrib.keys()].filter((s) => env.initialStateDistrib[s]! > 0);
    expect(starts.length).toBe(300);
    for (const s of starts) {
      const [, , p, d] = env.decode(s);
      expect(p).toBeLessThan(4);
      expect(p).not.toBe(d);
      expect(env.initialStateDistrib[s]).toBeCloseTo(1 / 300, 15);
    }
    const seen = new Set<number>();
    for (let seed = 0; seed < 200; seed++) {
      const [obs, info] = env.reset({ seed });
      expect(env.initialStateDistrib[obs]).toBeGreaterThan(0);
      expect(info.prob).toBe(1);
      expect(info.actionMask).toBeInstanceOf(Int8Array);
      expect(Array.from(info.actionMask as Int8Array)).toEqual(Array.from(env.actionMask(obs)));
      seen.add(obs);
    }
    expect(seen.size).toBeGreaterThan(100);
    expect(env.reset({ seed: 5 })[0]).toBe(env.reset({ seed: 5 })[0]);
  });

  it('allows pickup only at the passenger depot (-10 otherwise)', () => {
    const env = new TaxiEnv();
    expect(env.P[enc(0, 0, 0, 1)]![4]).toEqual([[1, enc(0, 0, 4, 1), -1, false]]);
    expect(env.P[enc(0, 1, 0, 1)]![4]).toEqual([[1, enc(0, 1, 0, 1), -10, false]]);
    expect(env.P[enc(4, 3, 0, 1)]![4]).toEqual([[1, enc(4, 3, 0, 1), -10, false]]); // at B, passenger at R
    expect(env.P[enc(0, 0, 4, 1)]![4]).toEqual([[1, enc(0, 0, 4, 1), -10, false]]); // already in the taxi
    expect(env.P[enc(4, 3, 3, 0)]![4]).toEqual([[1, enc(4, 3, 4, 0), -1, false]]);
  });

  it('pays +20 and terminates for a dropoff at the destination', () => {
    const env = new TaxiEnv();
    expect(enc(0, 4, 4, 1)).toBe(97);
    expect(env.P[97]![5]).toEqual([[1, 85, 20, true]]);
    env.reset({ seed: 0 });
    env.s = 97;
    const [obs, reward, terminated, truncated, info] = env.step(5);
    expect([obs, reward, terminated, truncated]).toEqual([85, 20, true, false]);
    expect(env.decode(obs)).toEqual([0, 4, 1, 1]);
    expect(info.prob).toBe(1);
  });

  it('drops a carried passenger at another depot for -1 (they wait there); elsewhere -10', () => {
    const env = new TaxiEnv();
    expect(env.P[enc(4, 0, 4, 1)]![5]).toEqual([[1, enc(4, 0, 2, 1), -1, false]]);
    expect(env.P[enc(4, 3, 4, 0)]![5]).toEqual([[1, enc(4, 3, 3, 0), -1, false]]);
    expect(env.P[enc(2, 2, 4, 0)]![5]).toEqual([[1, enc(2, 2, 4, 0), -10, false]]);
    expect(env.P[enc(0, 0, 0, 1)]![5]).toEqual([[1, enc(0, 0, 0, 1), -10, false]]); // passenger not in the taxi
  });

  it('blocks moves at walls and the grid edge', () => {
    const env = new TaxiEnv();
    const stay = (r: number, c: number, a: number) => expect(env.P[enc(r, c, 0, 1)]![a]).toEqual([[1, enc(r, c, 0, 1), -1, false]]);
    const go = (r: number, c: number, a: number, r2: number, c2: number) =>
      expect(env.P[enc(r, c, 0, 1)]![a]).toEqual([[1, enc(r2, c2, 0, 1), -1, false]]);
    stay(0, 1, 2); // east from (0,1): wall
    stay(0, 2, 3); // west from (0,2): the same wall
    stay(3, 0, 2);
    stay(4, 2, 2);
    stay(4, 3, 3);
    stay(0, 4, 2); // east edge
    stay(2, 0, 3); // west edge
    stay(0, 3, 1); // north edge
    stay(4, 1, 0); // south edge
    go(0, 0, 2, 0, 1);
    go(2, 1, 2, 2, 2); // row 2 has no walls
    go(3, 1, 0, 4, 1);
    go(1, 1, 1, 0, 1);
  });

  it('computes action masks that match the deterministic P table', () => {
    const env = new TaxiEnv();
    expect(Array.from(env.actionMask(enc(0, 1, 0, 1)))).toEqual([1, 0, 0, 1, 0, 0]);
    expect(Array.from(env.actionMask(enc(0, 0, 4, 1)))).toEqual([1, 0, 1, 0, 0, 1]);
    expect(Array.from(env.actionMask(enc(4, 3, 3, 0)))).toEqual([0, 1, 1, 0, 1, 0]);
    expect(Array.from(env.actionMask(enc(2, 2, 4, 0)))).toEqual([1, 1, 1, 1, 0, 0]);
    // An action is allowed exactly when it changes the state.
    for (let s = 0; s < 500; s++) {
      const mask = env.actionMask(s);
      for (let a = 0; a < 6; a++) expect([s, a, mask[a]]).toEqual([s, a, env.P[s]![a]![0]![1] !== s ? 1 : 0]);
    }
  });

  it('includes actionMask in every step info', () => {
    const env = new TaxiEnv();
    env.reset({ seed: 3 });
    for (const a of [0, 1, 2, 3, 4, 5, 0, 0, 3]) {
      const [obs, , , , info] = env.step(a);
      expect(Array.from(info.actionMask as Int8Array)).toEqual(Array.from(env.actionMask(obs)));
    }
  });

  it('rainy: 0.8 forward and 0.1 to each side; slips are blocked by walls, blocked moves do not slip', () => {
    const env = new TaxiEnv({ isRainy: true });
    expect(env.P[enc(2, 2, 0, 1)]![0]).toEqual([
      [0.8, enc(3, 2, 0, 1), -1, false],
      [RAIN_SIDE, enc(2, 3, 0, 1), -1, false],
      [RAIN_SIDE, enc(2, 1, 0, 1), -1, false],
    ]);
    // North from (1,1): forward (0,1); left = west (1,0); right = east, blocked by the wall → stays.
    const northRow = env.P[enc(1, 1, 0, 1)]![1]!;
    expect(northRow.map((t) => t[1])).toEqual([enc(0, 1, 0, 1), enc(1, 0, 0, 1), enc(1, 1, 0, 1)]);
    // East from (0,1) is blocked: no move at all, three entries kept.
    const s = enc(0, 1, 0, 1);
    expect(env.P[s]![2]!.map((t) => t[1])).toEqual([s, s, s]);
    // Pickup/dropoff stay deterministic.
    expect(env.P[enc(0, 4, 4, 1)]![5]).toEqual([[1, enc(0, 4, 1, 1), 20, true]]);
    const custom = new TaxiEnv({ isRainy: true, rainyProbability: 0.6 });
    expect(custom.P[enc(2, 2, 0, 1)]![0]!.map((t) => t[0])).toEqual([0.6, (1 - 0.6) / 2, (1 - 0.6) / 2]);
  });

  it('fickle passenger changes destination once, on the first move after pickup', () => {
    const env = new TaxiEnv({ ficklePassenger: true, fickleProbability: 1 });
    env.reset({ seed: 9 });
    expect(env.fickleStep).toBe(true);
    env.s = enc(0, 0, 0, 1);
    expect(env.step(4)[0]).toBe(enc(0, 0, 4, 1)); // pickup: no change yet
    const [obs] = env.step(0); // first move with the passenger aboard
    const [r, c, p, d] = env.decode(obs);
    expect([r, c, p]).toEqual([1, 0, 4]);
    expect(d).not.toBe(1);
    expect(env.fickleStep).toBe(false);
    const [obs2] = env.step(1);
    expect(env.decode(obs2)).toEqual([0, 0, 4, d]);

    const steady = new TaxiEnv({ ficklePassenger: true, fickleProbability: 0 });
    steady.reset({ seed: 9 });
    expect(steady.fickleStep).toBe(false);
    steady.s = enc(0, 0, 0, 1);
    steady.step(4);
    expect(steady.step(0)[0]).toBe(enc(1, 0, 4, 1));
    expect(new TaxiEnv().reset({ seed: 1 }) && new TaxiEnv().fickleStep).toBe(false);
  });

  it('rejects unknown options and bad values', () => {
    expect(() => new TaxiEnv({ is_rainy: true } as never)).toThrow(/TaxiEnv: unknown option 'is_rainy'/);
    expect(() => new TaxiEnv({ isRainy: 'no' } as never)).toThrow(/TaxiEnv: option 'isRainy'/);
    expect(() => new TaxiEnv({ rainyProbability: 1.2 })).toThrow(/TaxiEnv: option 'rainyProbability'/);
    expect(() => new TaxiEnv({ fickleProbability: -0.1 })).toThrow(/TaxiEnv: option 'fickleProbability'/);
    expect(() => new TaxiEnv({ renderMode: 'human' } as never)).toThrow(/render mode 'human'/);
  });

  it('renders json frames and ansi strings', () => {
    const env = new TaxiEnv();
    env.reset({ seed: 0 });
    env.s = enc(2, 1, 0, 3);
    const frame = env.render() as TaxiFrame;
    expect(frame).toEqual({
      kind: 'taxi',
      rows: 5,
      cols: 5,
      map: ['+---------+', '|R: | : :G|', '| : | : : |', '| : : : : |', '| | : | : |', '|Y| : |B: |', '+---------+'],
      depots: [
        { name: 'R', row: 0, col: 0 },
        { name: 'G', row: 0, col: 4 },
        { name: 'Y', row: 4, col: 0 },
        { name: 'B', row: 4, col: 3 },
      ],
      taxi: [2, 1],
      passenger: 0,
      destination: 3,
      lastAction: null,
    });

    const text = new TaxiEnv({ renderMode: 'ansi' });
    text.reset({ seed: 0 });
    text.s = enc(2, 1, 0, 3);
    const out = text.render() as string;
    const lines = out.split('\n');
    expect(lines[0]).toBe('+---------+');
    expect(lines[1]).toBe('|\x1b[34;1mR\x1b[0m: | : :G|'); // waiting passenger
    expect(lines[3]).toBe('| :\x1b[43m \x1b[0m: : : |'); // empty taxi
    expect(lines[5]).toBe('|Y| : |\x1b[35mB\x1b[0m: |'); // destination
    expect(out.endsWith('+---------+\n\n')).toBe(true);
    text.step(3); // west to (2,0)
    expect(text.render()).toContain('  (West)\n');
    text.s = enc(1, 2, 4, 3);
    expect((text.render() as string).split('\n')[2]).toBe('| : |\x1b[42m_\x1b[0m: : |'); // taxi with passenger
  });

  it('validates actions', () => {
    const env = new TaxiEnv();
    expect(() => env.step(0)).toThrow(ResetNeeded);
    env.reset({ seed: 0 });
    expect(() => env.step(6)).toThrow(InvalidAction);
  });
});

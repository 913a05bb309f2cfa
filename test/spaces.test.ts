import { describe, expect, it } from 'vitest';
import { Box, Dict, Discrete, MultiBinary, MultiDiscrete, Rng, Tuple, flattenInto, spaceFromJSON, type SpaceJSON } from '../envs/index.js';

describe('Rng', () => {
  it('is reproducible from a seed and restores saved states exactly', () => {
    const a = new Rng(42);
    const b = new Rng(42);
    const xs = Array.from({ length: 5 }, () => a.double());
    expect(Array.from({ length: 5 }, () => b.double())).toEqual(xs);
    const state = a.getState();
    const next = [a.random(), a.normal(), a.integer(10)];
    const c = new Rng(1);
    c.setState(state);
    expect([c.random(), c.normal(), c.integer(10)]).toEqual(next);
    expect(JSON.parse(JSON.stringify(state))).toEqual(state);
  });

  it('rejects negative, non-integer and non-number seeds', () => {
    for (const bad of [-1, 1.5, NaN, '3', Infinity, 2 ** 60]) {
      expect(() => new Rng(bad as number)).toThrow(/seed must be a non-negative integer/);
    }
    expect(() => new Rng(1).setState({ c: 1, s0: NaN, s1: 0, s2: 0 })).toThrow(/invalid RNG state/);
  });

  it('categorical follows the weights', () => {
    const rng = new Rng(3);
    const counts = [0, 0, 0];
    for (let i = 0; i < 30000; i++) counts[rng.categorical([0.2, 0.5, 0.3])]!++;
    expect(counts[0]! / 30000).toBeCloseTo(0.2, 1);
    expect(counts[1]! / 30000).toBeCloseTo(0.5, 1);
  });
});

describe('Discrete', () => {
  it('samples in {start..start+n-1}, honours masks and probabilities', () => {
    const s = new Discrete(3, 5);
    s.seed(0);
    const seen = new Set<number>();
    for (let i = 0; i < 200; i++) seen.add(s.sample());
    expect([...seen].sort()).toEqual([5, 6, 7]);
    for (let i = 0; i < 50; i++) expect(s.sample([0, 1, 0])).toBe(6);
    expect(s.sample([0, 0, 0])).toBe(5); // Gymnasium: no allowed value gives start
    for (let i = 0; i < 50; i++) expect(s.sample(null, [0, 0, 1])).toBe(7);
    expect(() => s.sample([1, 0])).toThrow(/mask must be an array of 3/);
    expect(() => s.sample([1, 2, 0])).toThrow(/mask values must be 0 or 1/);
    expect(() => s.sample(null, [0.5, 0.2, 0.2])).toThrow(/sum to 0.9/);
  });

  it('contains only integers in range', () => {
    const s = new Discrete(2);
    expect([0, 1].map((v) => s.contains(v))).toEqual([true, true]);
    expect([2, -1, 0.5, NaN, '1', null].map((v) => s.contains(v))).toEqual([false, false, false, false, false, false]);
    expect(String(s)).toBe('Discrete(2)');
    expect(() => new Discrete(0)).toThrow(/positive integer/);
  });

  it('seeding makes samples reproducible, independently of other spaces', () => {
    const a = new Discrete(100);
    const b = new Discrete(100);
    expect(a.seed(9)).toEqual([9]);
    b.seed(9);
    expect(Array.from({ length: 20 }, () => a.sample())).toEqual(Array.from({ length: 20 }, () => b.sample()));
    expect(() => a.seed(-3)).toThrow(/non-negative integer/);
  });
});

describe('Box', () => {
  it('broadcasts scalar bounds and samples by boundedness', () => {
    const box = new Box([-1, 0, -Infinity, -Infinity], [1, Infinity, 0, Infinity], [4], 'float32');
    box.seed(1);
    for (let i = 0; i < 200; i++) {
      const v = box.sample();
      expect(v).toBeInstanceOf(Float32Array);
      expect(box.contains(v)).toBe(true);
      expect(v[0]! >= -1 && v[0]! <= 1 && v[1]! >= 0 && v[2]! <= 0).toBe(true);
    }
    const ints = new Box(0, 3, [2, 2], 'int32');
    ints.seed(2);
    const seen = new Set<number>();
    for (let i = 0; i < 200; i++) ints.sample().forEach((v) => seen.add(v));
    expect([...seen].sort()).toEqual([0, 1, 2, 3]);
    expect(ints.contains([0, 1, 2, 3])).toBe(true);
    expect(ints.contains([0, 1, 2, 3.5])).toBe(false);
    expect(ints.contains([0, 1, 2])).toBe(false);
    expect(box.contains([0, 0, 0, NaN])).toBe(false);
  });

  it('validates its arguments', () => {
    expect(() => new Box(1, 0, [2])).toThrow(/low\[0\] = 1 exceeds high\[0\] = 0/);
    expect(() => new Box(0, 1)).toThrow(/shape is required/);
    expect(() => new Box([0, 0], [1, 1, 1])).toThrow(/high must be a number or an array of 2/);
    expect(() => new Box(0, 1, [2], 'complex' as never)).toThrow(/unknown dtype/);
    expect(() => new Box(0, 1, [2]).sample([1] as never)).toThrow(/masks are not supported/);
  });
});

describe('MultiDiscrete, MultiBinary, Tuple, Dict', () => {
  it('MultiDiscrete samples per component with masks', () => {
    const s = new MultiDiscrete([2, 3], [0, 10]);
    s.seed(0);
    for (let i = 0; i < 50; i++) {
      const v = s.sample([null, [0, 0, 1]]);
      expect(s.contains(v)).toBe(true);
      expect(v[1]).toBe(12);
    }
    expect(s.contains([1, 9])).toBe(false);
    expect(s.flatDim).toBe(5);
  });

  it('MultiBinary honours the 0/1/2 mask', () => {
    const s = new MultiBinary(4);
    s.seed(0);
    for (let i = 0; i < 20; i++) {
      const v = s.sample([0, 1, 2, 2]);
      expect([v[0], v[1]]).toEqual([0, 1]);
    }
    expect(s.contains([0, 1, 1, 0])).toBe(true);
    expect(s.contains([0, 1, 2, 0])).toBe(false);
  });

  it('Tuple and Dict sample, check and seed their parts', () => {
    const t = new Tuple([new Discrete(3), new Box(0, 1, [2])]);
    const d = new Dict({ pos: new Discrete(5), vel: new Box(-1, 1, [1]) });
    expect(t.seed(4)).toHaveLength(3);
    const d2 = new Dict({ pos: new Discrete(5), vel: new Box(-1, 1, [1]) });
    d.seed(4);
    d2.seed(4);
    const sample = d.sample();
    expect(d2.sample()).toEqual(sample);
    expect(d.contains(sample)).toBe(true);
    expect(d.contains({ pos: 1 })).toBe(false);
    expect(t.contains(t.sample())).toBe(true);
    expect(t.contains([1])).toBe(false);
    expect(() => d.seed({ nope: 1 } as never)).toThrow(/unknown keys nope/);
  });

  it('round-trips through JSON, infinities included', () => {
    const spaces = [
      new Discrete(4, -1),
      new Box([-Infinity, 0], [Infinity, 1], [2], 'float64'),
      new MultiDiscrete([2, 2]),
      new MultiBinary([2, 3]),
      new Tuple([new Discrete(2), new Dict({ a: new MultiBinary(2) })]),
    ];
    for (const s of spaces) {
      const json = JSON.parse(JSON.stringify(s.toJSON())) as SpaceJSON;
      const back = spaceFromJSON(json);
      expect(back.toJSON()).toEqual(s.toJSON());
      expect(String(back)).toBe(String(s));
    }
    expect(() => spaceFromJSON({ type: 'Graph' } as never)).toThrow(/unknown space type "Graph"/);
  });

  it('flattens to one-hot for discrete parts', () => {
    const d = new Dict({ a: new Discrete(3), b: new Box(0, 5, [2]) });
    const out = new Float32Array(d.flatDim);
    flattenInto(d, { a: 2, b: [4, 5] }, out);
    expect(Array.from(out)).toEqual([0, 0, 1, 4, 5]);
  });
});

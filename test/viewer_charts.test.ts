/** Viewer chart maths and number formatting. */
import { describe, expect, it } from 'vitest';
import { extent, linearScale, movingAverage, nearestIndex, niceNumber, niceTicks, smoothingWindow, stepAxis, unionExtent } from '../viewer/src/model/chart_math.js';
import { decimalsFor, formatCount, formatLatency, formatNumber, formatRate, formatReturn, formatStepTick, formatValueTick } from '../viewer/src/model/format.js';

describe('the step axis of a learning curve', () => {
  it('ends at the last step, not at the next nice number past it', () => {
    for (const count of [2, 3, 4, 5, 8]) {
      const a = stepAxis(30_000, 1_000, count);
      expect(a.end).toBe(30_000);
      expect(a.ticks[0]).toBe(0);
      expect(a.ticks.length).toBeGreaterThanOrEqual(2);
      expect(Math.max(...a.ticks)).toBeLessThanOrEqual(30_000);
    }
    expect(stepAxis(30_000, 0, 5).ticks).toEqual([0, 10_000, 20_000, 30_000]);
  });

  it('puts a lone point mid-axis, not at the right edge', () => {
    const a = stepAxis(2_000, 2_000, 5);
    expect(a.end).toBe(4_000);
    const x = linearScale([0, a.end], [0, 100]);
    expect(x(2_000)).toBe(50);
    expect(stepAxis(0, 0, 5).end).toBe(1);
  });
});

describe('nice ticks', () => {
  it('rounds to 1, 2, 2.5, 5 × 10^k', () => {
    expect([0.7, 1.2, 1.9, 3, 4, 8, 120].map((x) => niceNumber(x, true))).toEqual([0.5, 1, 2, 2.5, 5, 10, 100]);
  });

  it('covers the data with whole steps', () => {
    expect(niceTicks(0, 487, 6)).toEqual({ min: 0, max: 500, step: 100, ticks: [0, 100, 200, 300, 400, 500] });
    expect(niceTicks(-13.2, 1.7, 5)).toEqual({ min: -15, max: 5, step: 5, ticks: [-15, -10, -5, 0, 5] });
    expect(niceTicks(0, 30_000, 5).ticks).toEqual([0, 10_000, 20_000, 30_000]);
    expect(niceTicks(0.1, 0.32, 4).ticks).toEqual([0.1, 0.15, 0.2, 0.25, 0.3, 0.35]);
    expect(niceTicks(0.1, 0.32, 3).ticks).toEqual([0.1, 0.2, 0.3, 0.4]);
  });

  it('gives a degenerate range some room', () => {
    const t = niceTicks(500, 500, 5);
    expect(t.min).toBeLessThan(500);
    expect(t.max).toBeGreaterThan(500);
    expect(niceTicks(0, 0).ticks.length).toBeGreaterThan(1);
    expect(niceTicks(Number.NaN, 3).ticks).toEqual(niceTicks(0, 1).ticks);
  });
});

describe('scales and series helpers', () => {
  it('maps and inverts', () => {
    const y = linearScale([0, 500], [200, 10]);
    expect(y(0)).toBe(200);
    expect(y(500)).toBe(10);
    expect(y(250)).toBe(105);
    expect(y.invert(105)).toBe(250);
  });

  it('averages over a trailing window', () => {
    expect(movingAverage([1, 2, 3, 4, 5, 6], 3)).toEqual([1, 1.5, 2, 3, 4, 5]);
    expect(movingAverage([], 5)).toEqual([]);
    expect(smoothingWindow(10)).toBe(5);
    expect(smoothingWindow(1000)).toBe(40);
    expect(smoothingWindow(100_000)).toBe(100);
  });

  it('finds the nearest x', () => {
    const xs = [100, 200, 400, 800];
    expect(nearestIndex(xs, 0)).toBe(0);
    expect(nearestIndex(xs, 290)).toBe(1);
    expect(nearestIndex(xs, 310)).toBe(2);
    expect(nearestIndex(xs, 1e9)).toBe(3);
    expect(nearestIndex([], 5)).toBe(-1);
  });

  it('computes extents, ignoring non-finite values', () => {
    expect(extent([3, Number.NaN, -2, Infinity, 7])).toEqual([-2, 7]);
    expect(extent([])).toBeNull();
    expect(unionExtent([0, 1], null, [-5, 0.5])).toEqual([-5, 1]);
  });
});

describe('formatting', () => {
  it('counts and rates', () => {
    expect(formatCount(0)).toBe('0');
    expect(formatCount(9999)).toBe('9,999');
    expect(formatCount(12_345)).toBe('12.3k');
    expect(formatCount(250_000)).toBe('250k');
    expect(formatCount(1_234_567)).toBe('1.23M');
    expect(formatCount(null)).toBe('—');
    expect(formatRate(842.4)).toBe('842/s');
    expect(formatRate(12_345)).toBe('12.3k/s');
  });

  it('axis ticks', () => {
    expect(formatStepTick(0, 10_000)).toBe('0');
    expect(formatStepTick(20_000, 10_000)).toBe('20k');
    expect(formatStepTick(2_500, 2_500)).toBe('2.5k');
    expect(formatStepTick(1_500_000, 500_000)).toBe('1.5M');
    expect(formatValueTick(-10, 5)).toBe('−10');
    expect(formatValueTick(0.25, 0.05)).toBe('0.25');
    expect(decimalsFor(0.25)).toBe(2);
    expect(decimalsFor(5)).toBe(0);
  });

  it('returns, numbers, latency', () => {
    expect(formatReturn(500)).toBe('500');
    expect(formatReturn(-13)).toBe('−13');
    expect(formatReturn(7.912)).toBe('7.91');
    expect(formatReturn(null)).toBe('—');
    expect(formatNumber(0.05213)).toBe('0.0521');
    expect(formatNumber(-1.5)).toBe('−1.5');
    expect(formatNumber(0.00001234)).toBe('1.23e-5');
    expect(formatLatency(35.4)).toBe('35 ms');
    expect(formatLatency(1234)).toBe('1.2 s');
  });
});

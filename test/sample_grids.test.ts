/** The server's bounded list of a GAN run's sample grids (server/history.ts). */
import { describe, expect, it } from 'vitest';
import { addGrids, thinGrids } from '../server/history.js';
import type { SamplesEvent } from '../protocol/protocol.js';

const grid = (step: number, fill = step % 256): SamplesEvent => ({ type: 'samples', step, count: 1, width: 28, height: 28, pixels: Buffer.alloc(784, fill).toString('base64'), time: step });
const steps = (list: SamplesEvent[]) => list.map((g) => g.step);

describe('sample grid lists', () => {
  it('thinGrids keeps short lists whole and spreads long ones evenly, first and last included', () => {
    const ten = Array.from({ length: 10 }, (_, i) => grid(i * 100));
    expect(steps(thinGrids(ten, 16))).toEqual(steps(ten));
    expect(steps(thinGrids(ten, 4))).toEqual([0, 300, 600, 900]);
    expect(steps(thinGrids(ten, 2))).toEqual([0, 900]);
    expect(steps(thinGrids(ten, 1))).toEqual([900]);
    expect(thinGrids(ten, 0)).toEqual([]);
    expect(thinGrids([], 4)).toEqual([]);
  });

  it('addGrids keeps step order, replaces a step sent again, and stays within 2·max', () => {
    let list = addGrids([], [grid(20), grid(10)], 3);
    expect(steps(list)).toEqual([10, 20]);
    list = addGrids(list, [grid(15), grid(20, 99)], 3);
    expect(steps(list)).toEqual([10, 15, 20]);
    expect(Buffer.from(list[2]!.pixels, 'base64')[0]).toBe(99);
    for (let s = 30; s < 300; s += 10) list = addGrids(list, [grid(s)], 3);
    expect(list.length).toBeLessThanOrEqual(6);
    expect(list[0]!.step).toBe(10);
    expect(list.at(-1)!.step).toBe(290);
    expect(steps(list)).toEqual([...steps(list)].sort((a, b) => a - b));
  });
});

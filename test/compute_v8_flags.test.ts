/**
 * initCompute turns off V8's allocation-site pretenuring once per process (lab/compute.ts says why: with it, about
 * half of the training processes ran 30-35% slower).
 */
import v8 from 'node:v8';
import { describe, expect, it, vi } from 'vitest';
import { initCompute } from '../lab/compute.js';

describe('initCompute V8 settings', () => {
  it('sets --no-allocation-site-pretenuring on the first call only', async () => {
    const setFlags = vi.spyOn(v8, 'setFlagsFromString');
    await initCompute('cpu');
    expect(setFlags.mock.calls).toEqual([['--no-allocation-site-pretenuring']]);
    await initCompute('cpu');
    expect(setFlags).toHaveBeenCalledTimes(1);
    setFlags.mockRestore();
  });
});

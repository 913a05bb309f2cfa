/**
 * The progress `lab sweep` shows (sweep/progress.ts): the budget's runs finished, the running trials' progress
 * from their runs' reports, the share done and the time left at this session's pace (a resume's kept runs do not
 * count as pace). And the line in `lab sweep`'s output.
 */
import { describe, expect, it } from 'vitest';
import { SweepProgress, formatSeconds } from '../sweep/progress.js';

describe('SweepProgress', () => {
  it('counts finished runs, running ones by their reports, and the mean per trial', () => {
    const p = new SweepProgress(8, 0, 0);
    expect(p.fields(0)).toEqual(['runs 0/8', '0%', 'running -']);
    p.trialStarted(0, ['a', 'b']);
    p.trialStarted(1, ['c', 'd']);
    p.runProgress('a', 500, 1000);
    p.runProgress('b', 250, 1000);
    p.runProgress('c', 1000, 1000);
    expect(p.fraction()).toBeCloseTo(1.75 / 8, 12);
    expect(p.runningTrials()).toEqual([
      { trial: 0, fraction: 0.375 },
      { trial: 1, fraction: 0.5 },
    ]);
    p.runEnded('c');
    // An ended run is a whole run; a late report of it changes nothing.
    p.runProgress('c', 10, 1000);
    expect(p.fraction()).toBeCloseTo(1.75 / 8, 12);
    expect(p.fields(1000)).toEqual(['runs 1/8', '21%', 'running t0 37% t1 0%']);
    // Reports outside [0, total] are clamped; a run never started is ignored.
    p.runProgress('a', 5000, 1000);
    p.runProgress('zzz', 1, 2);
    expect(p.runningTrials()[0]!.fraction).toBe(0.625);
  });

  it('estimates the time left from the pace since it started, not counting a resume’s kept runs', () => {
    // 4 of 8 runs kept by a resume; in 10 s of this session, 1 more run.
    const p = new SweepProgress(8, 4, 0);
    p.trialStarted(2, ['x', 'y']);
    expect(p.secondsLeft(4_000)).toBeNull(); // under 5 s: no pace yet
    p.runProgress('x', 1000, 1000);
    p.runEnded('x');
    // 1/8 of the budget in 10 s; 3/8 left: 30 s.
    expect(p.secondsLeft(10_000)).toBeCloseTo(30, 9);
    expect(p.fields(10_000)).toEqual(['runs 5/8', '62%', 'ETA 30s', 'running t2 0%']);
  });

  it('has no share or ETA with a wall-time budget only', () => {
    const p = new SweepProgress(null, 0, 0);
    p.trialStarted(0, ['a']);
    p.runProgress('a', 1, 2);
    expect(p.fraction()).toBeNull();
    expect(p.secondsLeft(60_000)).toBeNull();
    expect(p.fields(60_000)).toEqual(['runs 0 finished', 'running t0 50%']);
  });

  it('formats durations', () => {
    expect([0, 42.4, 59.6, 185, 3599, 7620].map(formatSeconds)).toEqual(['0s', '42s', '1m 00s', '3m 05s', '59m 59s', '2h 07m']);
  });
});

import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { fitLine, ProgressLine, ProgressSink, progressBar } from '../lab/progress.js';
import { GanProgressSink } from '../cli/gan.js';
import { createProgressBar } from '../gan/data.js';

/** A fake terminal (or pipe): what was written, and the screen lines it leaves after \r and \x1b[K. */
function fakeStream(isTTY: boolean, columns?: number) {
  let text = '';
  const out = Object.assign(new Writable({ write: (c: Buffer, _e, cb) => ((text += c.toString()), cb()) }), { isTTY, ...(columns ? { columns } : {}) });
  return {
    out,
    text: () => text,
    /** Every line as drawn: split on \r and \n, escape codes removed. */
    drawn: () =>
      text
        .split(/[\r\n]/)
        .map((l) => l.replace(/\x1b\[[0-9]*K/g, ''))
        .filter(Boolean),
  };
}

const rlEvents = (sink: ProgressSink, total: number, numEnvs = 1) => {
  for (let step = numEnvs, ep = 1; step <= total + numEnvs; step += numEnvs * 7, ep++) {
    sink.handle({ type: 'episode', step, episode: ep, return: 123.456, length: 7 } as never);
    sink.handle({ type: 'update', step, sps: 12345, stats: { epsilon: 0.05, loss: 0.1 } } as never);
  }
  // The vector env's last step passes the budget.
  sink.handle({ type: 'update', step: total + numEnvs - 1, sps: 12345, stats: { epsilon: 0.05 } } as never);
  sink.handle({ type: 'eval', step: total, meanReturn: 200, stdReturn: 1.5, episodes: 10 } as never);
  sink.handle({ type: 'eval', step: total, meanReturn: 48, stdReturn: 0, episodes: 1 } as never);
  sink.close();
};

describe('progress display (lab/progress.ts)', () => {
  it('fitLine drops fields from the end, then cuts, never passing the width', () => {
    expect(fitLine(['a', 'bb', 'ccc'], 100)).toBe('a | bb | ccc');
    expect(fitLine(['a', 'bb', 'ccc'], 8)).toBe('a | bb');
    expect(fitLine(['abcdefghij', 'x'], 5)).toBe('abcd…');
    expect(progressBar(0, 4)).toBe('[    ]');
    expect(progressBar(0.5, 4)).toBe('[=>  ]');
    expect(progressBar(1, 4)).toBe('[====]');
  });

  for (const columns of [40, 80, 120, 200]) {
    it(`lab train, lab gan train and the download bar fit a ${columns}-column terminal`, () => {
      const rl = fakeStream(true, columns);
      rlEvents(new ProgressSink(1_000_000, null, rl.out, 0), 1_000_000, 8);
      const gan = fakeStream(true, columns);
      const g = new GanProgressSink(100_000, gan.out, 0);
      for (let i = 1; i <= 100_000; i += 9999) g.handle({ type: 'update', step: i, sps: 12.5, stats: { dLoss: 0.693, dAcc: 0.5, dAccReal: 0.5, dAccFake: 0.5, gLoss: 0.7, gAcc: 0.4 } } as never);
      g.line('a message');
      g.close();
      const dl = fakeStream(true, columns);
      const bar = createProgressBar('bicycle.npy', dl.out);
      for (let done = 0; done <= 113_500_000; done += 5_000_000) bar.update(done, 113_500_000);
      bar.end();
      for (const s of [rl, gan, dl]) {
        // The progress lines (not the messages above them, which may wrap) stay within the width.
        const progress = s.text().split('\n').flatMap((l) => l.split('\r')).filter((l) => l.endsWith('\x1b[K')).map((l) => l.replace(/\x1b\[K$/, ''));
        expect(progress.length).toBeGreaterThan(0);
        for (const l of progress) expect(l.length).toBeLessThan(columns);
        expect(s.text().endsWith('\n')).toBe(true);
      }
      // The step display never passes the budget (a vector env's last step overshoots it).
      expect(rl.drawn().join('\n')).not.toMatch(/step 1,000,00[1-9]/);
      if (columns >= 80) expect(rl.drawn().at(-1)).toMatch(/^step 1,000,000\/1,000,000 \[=+\] 100%/);
      expect(rl.drawn()).toContain('eval at step 1000000: return 48.0 (1 episode)');
    });
  }

  it('without a TTY: newline-terminated plain lines, no escape codes, no carriage returns', () => {
    const rl = fakeStream(false);
    rlEvents(new ProgressSink(1000, null, rl.out, 0), 1000, 4);
    const gan = fakeStream(false);
    const g = new GanProgressSink(100, gan.out, 0);
    for (let i = 1; i <= 100; i += 10) g.handle({ type: 'update', step: i, sps: 5, stats: { dLoss: 0.7 } } as never);
    g.close();
    for (const s of [rl, gan]) {
      expect(s.text()).not.toMatch(/[\r\x1b]/);
      expect(s.text().endsWith('\n')).toBe(true);
      expect(s.text().split('\n').length).toBeGreaterThan(3);
    }
    expect(rl.text()).toMatch(/^step 1,000\/1,000 \[={20}\] 100% \| return\(20\) 123\.5 \| eval 48\.0 \| ETA 0s \| 12345 steps\/s \| episodes \d+ \| ε 0\.050$/m);
    expect(rl.text()).toMatch(/^eval at step 1000: mean return 200\.0 ± 1\.5 over 10 episodes$/m);
  });

  it('a plain display is throttled; a forced update always writes', () => {
    const s = fakeStream(false);
    const line = new ProgressLine(s.out, { plainEverySeconds: 3600 });
    expect(line.update(['one'])).toBe(true);
    expect(line.update(['two'])).toBe(false);
    expect(line.update(['three'], true)).toBe(true);
    line.end();
    expect(s.text()).toBe('one\nthree\n');
  });
});

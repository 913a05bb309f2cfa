/** `lab eval --render ansi|json`: the evaluated episodes played one by one in the terminal, as `lab play` shows them. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { renderEval } from '../cli/eval.js';
import { evaluateRun } from '../agents/train.js';

const LAB = fileURLToPath(new URL('../bin/lab.mjs', import.meta.url));
const FIXTURES = fileURLToPath(new URL('./fixtures/runs', import.meta.url));
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lab-eval-render-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function capture(isTTY = false) {
  let text = '';
  const out = Object.assign(new Writable({ write: (c: Buffer, _e, cb) => ((text += c.toString()), cb()) }), { isTTY });
  return { out, text: () => text };
}

describe('lab eval --render', () => {
  const run = path.join(tmp, 'rl-dqn-cartpole');
  fs.cpSync(path.join(FIXTURES, 'rl-dqn-cartpole'), run, { recursive: true });

  it('json: a frame line per step and an episode line per episode; the returns are those lab eval reports', async () => {
    const c = capture();
    const episodes = await renderEval(run, { episodes: 3, seed: 2_000_000, render: 'json', backend: 'cpu', out: c.out });
    const lines = c.text().trim().split('\n').map((l) => JSON.parse(l) as { type: string; frame?: unknown; return?: number; length?: number; seed?: number });
    const ends = lines.filter((l) => l.type === 'episode');
    expect(ends.map((e) => e.seed)).toEqual([2_000_000, 2_000_001, 2_000_002]);
    // One frame at the start of each episode and one per step.
    expect(lines.filter((l) => l.type === 'frame').length).toBe(ends.reduce((n, e) => n + e.length! + 1, 0));
    expect(lines.find((l) => l.type === 'frame')!.frame).toMatchObject({ kind: expect.any(String) });
    const evaluated = await evaluateRun(run, { episodes: 3, seed: 2_000_000, backend: 'cpu' });
    expect(episodes.map((e) => e.return)).toEqual(evaluated.returns);
    expect(ends.map((e) => e.return)).toEqual(evaluated.returns);
  });

  it('ansi: text frames and a summary (no ± for one episode)', async () => {
    const c = capture();
    await renderEval(run, { episodes: 1, seed: 5, render: 'ansi', backend: 'cpu', fps: 0, out: c.out });
    expect(c.text()).toMatch(/CartPole-v1 \| policy greedy, .*policy \| episode 1\/1 \(seed 5\) \| step 0 \| return 0\n/);
    expect(c.text()).toMatch(/\|-+\|/);
    expect(c.text()).toMatch(/CartPole-v1 with policy 'greedy, .*': return \d+, length \d+ \(1 episode\)\n$/);
    expect(c.text()).not.toContain('±');
  });

  it('the CLI: --render json --episodes 2; a GAN run is pointed to lab gan eval', () => {
    const r = spawnSync(process.execPath, [LAB, 'eval', run, '--render', 'json', '--episodes', '2'], { encoding: 'utf8', timeout: 60_000 });
    expect(r.status).toBe(0);
    expect(r.stdout.trim().split('\n').filter((l) => l.startsWith('{"type":"episode"')).length).toBe(2);
    const gan = spawnSync(process.execPath, [LAB, 'eval', path.join(FIXTURES, 'gan-tiny'), '--render', 'ansi'], { encoding: 'utf8', timeout: 60_000 });
    expect(gan.status).toBe(1);
    expect(gan.stderr).toMatch(/is a GAN run: evaluate its generator with lab gan eval/);
  });
});

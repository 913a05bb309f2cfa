/** `lab plot` (learning curves of one or more runs) and `lab compare`'s single-run hint and default --out. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { PNG } from 'pngjs';
import { runPlot } from '../cli/plot.js';
import { runCompare } from '../cli/compare.js';

const LAB = fileURLToPath(new URL('../bin/lab.mjs', import.meta.url));
const FIXTURES = fileURLToPath(new URL('./fixtures/runs', import.meta.url));
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lab-plot-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function lab(cwd: string, ...args: string[]) {
  const r = spawnSync(process.execPath, [LAB, ...args], { encoding: 'utf8', timeout: 120_000, cwd });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A copy of a fixture run in its own folder under tmp. */
function copyFixture(name: string, into: string): string {
  const dir = path.join(tmp, into, name);
  fs.cpSync(path.join(FIXTURES, name), dir, { recursive: true });
  return dir;
}

/** A synthetic RL run: config.json and metrics.jsonl with evaluations. */
function syntheticRun(root: string, runId: string, seed: number, evals: [number, number][]): string {
  const dir = path.join(root, runId);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(
    path.join(dir, 'config.json'),
    JSON.stringify({ runId, envId: 'CartPole-v1', envKwargs: {}, agent: 'dqn', preset: null, hyperparameters: {}, seed, steps: 300, episodes: null, numEnvs: 1, evalEvery: 100, evalEpisodes: 3, evalSeed: 1_000_000, checkpointEvery: 10_000, createdAt: '2026-01-01T00:00:00.000Z', command: 'synthetic' }),
  );
  const line = ([step, m]: [number, number]) => JSON.stringify({ type: 'eval', step, episodes: 3, meanReturn: m, stdReturn: 0, minReturn: m, maxReturn: m, meanLength: m, returns: [m, m, m], seconds: 0, time: 0 });
  fs.writeFileSync(path.join(dir, 'metrics.jsonl'), evals.map((e) => line(e) + '\n').join(''));
  return dir;
}

describe('lab plot', () => {
  it('one run: curves.png and curves.svg under <run>/plots, one line named by the run id', () => {
    const run = copyFixture('rl-dqn-cartpole', 'one');
    const r = runPlot([run], {});
    expect(r.files.png).toBe(path.join(run, 'plots', 'curves.png'));
    const png = PNG.sync.read(fs.readFileSync(r.files.png));
    expect(png.width).toBeGreaterThan(0);
    const svg = fs.readFileSync(r.files.svg, 'utf8');
    expect(svg).toContain('<path class="line" data-series="rl-dqn-cartpole"');
    expect(svg).toContain('CartPole-v1: greedy evaluation return vs env steps');
    expect(r.text).toMatch(/^1 run: CartPole-v1: greedy evaluation return/);
    expect(r.text).not.toMatch(/zero width|one group/);
  });

  it('several runs (RL synthetic, one per line) into --out; GAN and AlphaZero-lite runs plot their metrics', () => {
    const root = path.join(tmp, 'several');
    const a = syntheticRun(root, 'run-a', 1, [[100, 10], [200, 50], [300, 90]]);
    const b = syntheticRun(root, 'run-b', 2, [[100, 20], [200, 30], [300, 40]]);
    const out = path.join(tmp, 'several-out');
    const r = runPlot([a, b], { out });
    expect(r.files.svg).toBe(path.join(out, 'curves.svg'));
    const svg = fs.readFileSync(r.files.svg, 'utf8');
    for (const id of ['run-a', 'run-b']) expect(svg).toContain(`<path class="line" data-series="${id}"`);
    // Default for several runs: plots-<time> beside them, not the current directory.
    const r2 = runPlot([root], {});
    expect(path.dirname(path.dirname(r2.files.png))).toBe(root);
    expect(path.basename(path.dirname(r2.files.png))).toMatch(/^plots-/);

    const gan = runPlot([copyFixture('gan-tiny', 'gan')], {});
    expect(fs.readFileSync(gan.files.svg, 'utf8')).toMatch(/vs iterations/);
    const go = runPlot([copyFixture('go-alphazero-tiny', 'go')], {});
    expect(fs.existsSync(go.files.png)).toBe(true);
  });

  it('the CLI: lab plot prints where the images are; lab compare with one run points to lab plot', () => {
    const run = copyFixture('rl-dqn-cartpole', 'cli');
    const r = lab(tmp, 'plot', run);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(path.join('cli', 'rl-dqn-cartpole', 'plots', 'curves.png'));
    const c = lab(tmp, 'compare', run, '--no-plot');
    expect(c.code).toBe(1);
    expect(c.stderr).toMatch(/lab compare needs at least 2 runs, got 1 .*; for the learning curves of one run: lab plot /);
    const help = lab(tmp, 'compare', '--help');
    expect(help.stdout).toMatch(/compare-<time> in the folder holding the runs/);
  });

  it('lab compare writes to compare-<time> beside the runs by default, not the current directory', () => {
    const root = path.join(tmp, 'cmp');
    syntheticRun(root, 'run-a', 1, [[100, 10], [200, 50]]);
    syntheticRun(root, 'run-b', 2, [[100, 20], [200, 30]]);
    const r = runCompare([root], { groupBy: 'agent-preset', reps: 10, seed: 0, confidence: 0.95, curve: 'eval', normalize: 'none', plot: true });
    expect(path.dirname(path.dirname(r.files!.png))).toBe(root);
    expect(path.basename(path.dirname(r.files!.png))).toMatch(/^compare-/);
  });
});

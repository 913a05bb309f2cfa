import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { play } from '../cli/play.js';
import { checkRunId } from '../cli/args.js';
import { RUN_ID_PATTERN } from '../protocol/protocol.js';

const LAB = fileURLToPath(new URL('../bin/lab.mjs', import.meta.url));

function lab(...args: string[]) {
  const r = spawnSync(process.execPath, [LAB, ...args], { encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function capture(): { stream: PassThrough; text: () => string } {
  const stream = new PassThrough();
  const chunks: string[] = [];
  stream.on('data', (c: Buffer) => chunks.push(c.toString()));
  return { stream, text: () => chunks.join('') };
}

describe('play()', () => {
  it('plays seeded episodes and summarises them; json mode emits frames and episode lines', async () => {
    const out = capture();
    const episodes = await play({ envId: 'CartPole-v1', policy: 'controller', episodes: 2, seed: 4, render: 'json', out: out.stream });
    expect(episodes.map((e) => [e.seed, e.return, e.length, e.truncated])).toEqual([
      [4, 500, 500, true],
      [5, 500, 500, true],
    ]);
    const lines = out.text().trim().split('\n').map((l) => JSON.parse(l) as { type: string; frame?: { kind: string } });
    expect(lines.filter((l) => l.type === 'frame')).toHaveLength(2 * 501);
    expect(lines[0]!.frame!.kind).toBe('cartpole');
    expect(lines.filter((l) => l.type === 'episode')).toHaveLength(2);
  });

  it('ansi mode prints frames and a summary; the same seed replays the same episodes', async () => {
    const a = capture();
    const b = capture();
    const first = await play({ envId: 'FrozenLake-v1', policy: 'random', episodes: 3, seed: 1, fps: 0, render: 'ansi', out: a.stream });
    await play({ envId: 'FrozenLake-v1', policy: 'random', episodes: 3, seed: 1, fps: 0, render: 'ansi', out: b.stream });
    expect(a.text()).toBe(b.text());
    expect(a.text()).toContain('SFFF');
    expect(a.text()).toMatch(/FrozenLake-v1 with policy 'random': mean return [\d.]+ ± [\d.]+ .* over 3 episodes/);
    expect(first).toHaveLength(3);
  });

  it('rejects policies that do not fit the env and bad counts', async () => {
    await expect(play({ envId: 'Snake-v0', policy: 'optimal', render: 'none' })).rejects.toThrow(/policy 'optimal' is not available for Snake-v0; choose one of: random/);
    await expect(play({ envId: 'CartPole-v1', episodes: 0, render: 'none' })).rejects.toThrow(/episodes must be a positive integer/);
  });
});

describe('lab command', () => {
  it('lists environments as JSON', () => {
    const r = lab('envs', '--json');
    expect(r.code).toBe(0);
    const rows = JSON.parse(r.stdout) as { id: string; maxEpisodeSteps: number | null; vectorized: string }[];
    expect(rows.find((row) => row.id === 'CartPole-v1')).toMatchObject({ maxEpisodeSteps: 500, vectorized: 'batched' });
    expect(rows.map((row) => row.id)).toContain('Taxi-v4');
  });

  it('plays with env options and prints summaries', () => {
    const r = lab('play', 'FrozenLake-v1', '--policy', 'optimal', '--render', 'none', '--episodes', '2', '--kw', 'isSlippery=false');
    expect(r.code).toBe(0);
    // Without slipping the optimal path takes 6 steps to the goal.
    expect(r.stdout).toContain('episode 1/2: return 1, length 6, terminated');
  });

  it('fails clearly on unknown envs and bad arguments', () => {
    const unknown = lab('play', 'CartPole-v2', '--render', 'none');
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/lab: error: unknown environment id 'CartPole-v2'\. Did you mean 'CartPole-v1'\?/);
    const badSeed = lab('play', 'CartPole-v1', '--seed', '-3');
    expect(badSeed.code).not.toBe(0);
    expect(badSeed.stderr).toMatch(/expected an integer >= 0, got '-3'/);
    const badKw = lab('play', 'CartPole-v1', '--kw', 'gravity=3', '--render', 'none');
    expect(badKw.stderr).toMatch(/unknown option 'gravity'/);
  });

  it('takes only run ids the live server accepts, in every command that creates runs', () => {
    for (const ok of ['run1', 'gan-apple_s1.b', '_x', 'a'.repeat(200)]) {
      expect(() => checkRunId(ok)).not.toThrow();
      expect(RUN_ID_PATTERN.test(ok)).toBe(true);
    }
    for (const bad of ['.hidden', '-x', '', 'a/b', '..', 'a b', 'a'.repeat(201)]) {
      expect(() => checkRunId(bad)).toThrow(/--run-id: .* is not a plain name/);
      expect(RUN_ID_PATTERN.test(bad)).toBe(false);
    }
    expect(() => checkRunId(undefined)).not.toThrow();
    for (const args of [['gan', 'train', '--preset', 'tiny', '--data', 'never'], ['go', 'train'], ['train', '--env', 'CartPole-v1', '--agent', 'dqn']]) {
      const r = lab(...args, '--run-id', '.hidden', '--out', '/nonexistent-runs');
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(/--run-id: '\.hidden' is not a plain name/);
    }
  });
});

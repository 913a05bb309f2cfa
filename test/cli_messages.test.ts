/** The lab's messages: one error style, lab gan --help pointing at the train options, lab demo's wording. */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const LAB = fileURLToPath(new URL('../bin/lab.mjs', import.meta.url));
const lab = (...args: string[]) => {
  const r = spawnSync(process.execPath, [LAB, ...args], { encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
};

describe('lab messages', () => {
  it("commander's errors read 'lab: error: …' like the lab's own", () => {
    for (const args of [['bogus'], ['train', '--steps', 'abc'], ['gan', 'train', '--iterations', 'x'], ['gan', 'eval'], ['eval', 'x', '--render', 'svg']]) {
      const r = lab(...args);
      expect(r.code, args.join(' ')).not.toBe(0);
      expect(r.stderr, args.join(' ')).toMatch(/^lab: error: /);
    }
    expect(lab('compare', fileURLToPath(new URL('./fixtures/runs/rl-dqn-cartpole', import.meta.url))).stderr).toMatch(/^lab: error: lab compare needs at least 2 runs/);
  });

  it('lab gan --help lists the subcommands and says where the train options are', () => {
    const r = lab('gan', '--help');
    expect(r.stdout).toMatch(/train \[options\]/);
    expect(r.stdout).toContain('lab gan train --help');
    expect(lab('gan', 'train', '--help').stdout).toContain('--iterations <n>');
  });

  it('lab demo: no ± for one episode, and it points to lab train', () => {
    const r = lab('demo', '--fps', '0');
    expect(r.code).toBe(0);
    expect(r.stdout).not.toContain('agents issue');
    expect(r.stdout).not.toMatch(/± [\d.]+ .*over 1 episode/);
    expect(r.stdout).toMatch(/with policy 'random': return [\d.]+, length \d+ \(1 episode\)/);
    expect(r.stdout).toContain('npx lab train --env Snake-v0 --agent dqn');
    expect(r.stdout).toContain('npx lab eval <run> --render ansi');
  });
});

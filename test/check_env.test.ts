/**
 * The env checker (envs/check_env.ts, `lab check-env`): every registered env passes; deliberately broken envs
 * (wrong observation dtype, randomness outside the seeded RNG, a 4-tuple step, a reset that re-seeds) fail
 * exactly the checks that catch them, with the reason; the command reports and exits 1 on a plug-in's broken env.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { checkEnv, checkEnvId, formatEnvCheckReport } from '../envs/check_env.js';
import { Box, Env, envIds, type ResetArgs, type ResetResult, type StepResult } from '../envs/index.js';
import { runLab } from './lab_cli.js';

type Flaw = 'none' | 'float64-obs' | 'math-random' | 'four-tuple' | 'reseeding-reset';

/**
 * A point drifting in [-1, 1]²: random start, action 0/1 pushes it left/right, 10 steps an episode. `flaw` breaks
 * it one way.
 */
class Drift extends Env<Float32Array, Float32Array> {
  readonly observationSpace = new Box<Float32Array>(-1, 1, [2], 'float32');
  readonly actionSpace = new Box<Float32Array>(-0.1, 0.1, [1], 'float32');
  private state = new Float32Array(2);
  private t = 0;

  constructor(private readonly flaw: Flaw) {
    super();
  }

  override reset(args: ResetArgs = {}): ResetResult<Float32Array> {
    super.reset(args.seed === undefined && this.flaw === 'reseeding-reset' ? { seed: 0 } : args);
    const draw = () => (this.flaw === 'math-random' ? Math.random() - 0.5 : this.npRandom.uniform(-0.5, 0.5));
    this.state = Float32Array.of(draw(), draw());
    this.t = 0;
    return [this.obs(), {}];
  }

  step(action: Float32Array): StepResult<Float32Array> {
    this.state[0] = Math.max(-1, Math.min(1, this.state[0]! + action[0]!));
    this.t++;
    const result: StepResult<Float32Array> = [this.obs(), -Math.abs(this.state[0]!), false, this.t >= 10, {}];
    if (this.flaw === 'four-tuple') return [result[0], result[1], result[3], result[4]] as unknown as StepResult<Float32Array>;
    return result;
  }

  private obs(): Float32Array {
    return (this.flaw === 'float64-obs' ? Float64Array.from(this.state) : Float32Array.from(this.state)) as Float32Array;
  }

  render(): string {
    return `x=${this.state[0]!.toFixed(2)} y=${this.state[1]!.toFixed(2)}`;
  }
}

function failedChecks(flaw: Flaw): Record<string, string> {
  const env = new Drift(flaw);
  env.metadata = { renderModes: ['ansi'], renderFps: 10 };
  env.renderMode = 'ansi';
  const report = checkEnv(env, { steps: 50 });
  expect(report.env).toBe('Drift');
  return Object.fromEntries(report.checks.filter((c) => !c.ok).map((c) => [c.name, c.detail]));
}

describe('checkEnv', () => {
  it('passes every registered env', () => {
    const ids = envIds();
    expect(ids.length).toBeGreaterThan(10);
    for (const id of ids) {
      const report = checkEnvId(id, { steps: 100 });
      expect(report.passed, `${id}\n${formatEnvCheckReport(report)}`).toBe(true);
      expect(report.checks).toHaveLength(11);
    }
  });

  it('passes a correct hand-written env', () => {
    expect(failedChecks('none')).toEqual({});
  });

  it('flags an observation of the wrong dtype, saying so', () => {
    const failed = failedChecks('float64-obs');
    expect(Object.keys(failed)).toEqual(['reset() observation in the observation space', 'sampled actions accepted, observations in the space over an episode']);
    expect(failed['reset() observation in the observation space']).toMatch(/^Float64Array\[.*\] is not in Box\(.*float32\) \(dtype: a Float64Array, expected Float32Array for float32\)$/);
  });

  it('flags randomness outside the seeded RNG', () => {
    const failed = failedChecks('math-random');
    expect(failed['same seed, same trajectory']).toMatch(/two runs from reset\(\{ seed: 123 \}\) with the same actions differ at the first observation: the env draws randomness outside its seeded RNG/);
    expect(failed['reset() after reset(seed) continues the RNG']).toMatch(/gave different observations in two runs/);
    expect(Object.keys(failed)).toHaveLength(2);
  });

  it('flags a step() that returns four values', () => {
    const failed = failedChecks('four-tuple');
    expect(failed['step() returns [obs, reward, terminated, truncated, info]']).toMatch(/^step\(\) must return \[obs, reward, terminated, truncated, info\], got \[.*\]$/);
    expect(failed['same seed, same trajectory']).toMatch(/step\(\) must return/);
  });

  it('flags a reset() that re-seeds instead of continuing the RNG', () => {
    const failed = failedChecks('reseeding-reset');
    expect(failed).toEqual({ 'reset() after reset(seed) continues the RNG': expect.stringMatching(/restarts the same episode every time: the RNG is re-seeded by reset\(\) without a seed/) });
  });
});

describe('lab check-env', () => {
  it("reports every check of a registered env and of a plug-in's env, exiting 1 when one fails", async () => {
    const cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'check-env-'));
    const ok = await runLab(['check-env', 'CartPole-v1', '--steps', '50'], cwd);
    expect(ok.code).toBe(0);
    expect(ok.out).toMatch(/^✓ observation space: Box\(/m);
    expect(ok.out).toMatch(/^✓ same seed, same trajectory: /m);
    expect(ok.out).toMatch(/^✓ render\(\) per render mode: json: a 'cartpole' frame of \d+ bytes; ansi: a string of \d+ line\(s\)$/m);
    expect(ok.out.trim().split('\n').at(-1)).toBe('CartPole-v1 passes all 11 checks');

    const index = pathToFileURL(path.join(import.meta.dirname, '..', 'index.ts')).href;
    fs.writeFileSync(
      path.join(cwd, 'broken.mts'),
      `import { Box, Discrete, Env, register } from '${index}';
class Broken extends Env {
  observationSpace = new Box(0, 1, [3], 'float32');
  actionSpace = new Discrete(2);
  reset(args = {}) { super.reset(args); return [new Float64Array(3), {}]; }
  step() { return [new Float32Array(3), 0, false, true, {}]; }
  render() { return 'broken'; }
}
register({ id: 'Broken-v0', entryPoint: () => { const e = new Broken(); e.metadata = { renderModes: ['ansi'], renderFps: 4 }; e.renderMode = 'ansi'; return e; } });
`,
    );
    const bad = await runLab(['check-env', './broken.mts:Broken-v0', '--steps', '20'], cwd);
    expect(bad.code).toBe(1);
    expect(bad.out).toMatch(/^✗ reset\(\) observation in the observation space: Float64Array\[0, 0, 0\] is not in Box\(.*\) \(dtype: a Float64Array, expected Float32Array for float32\)$/m);
    expect(bad.out).toMatch(/^✓ step\(\) returns /m);
    expect(bad.err.trim().split('\n').at(-1)).toBe('lab: error: Broken-v0 fails 2 of 11 checks: reset() observation in the observation space; sampled actions accepted, observations in the space over an episode');

    const unknown = await runLab(['check-env', 'NoSuchEnv-v0'], cwd);
    expect(unknown.code).toBe(1);
    expect(unknown.err).toMatch(/lab: error: .*NoSuchEnv-v0/);
  });
});

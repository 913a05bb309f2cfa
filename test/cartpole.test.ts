import { describe, expect, it, vi } from 'vitest';
import { make, CartPoleEnv, THETA_THRESHOLD_RADIANS, type Env, type CartPoleFrame } from '../envs/index.js';

// Expected values computed by hand (independently, in plain float64 arithmetic) from the equations of motion
// with g 9.8, m_c 1.0, m_p 0.1, l 0.5, F 10, tau 0.02 and explicit Euler, from state [0.01, 0.02, 0.03, 0.04].
const HAND_TRAJECTORY: [number, number[]][] = [
  [1, [0.0104, 0.214679195748, 0.0308, -0.24306871796]],
  [0, [0.014693583915, 0.019131151052, 0.025938625641, 0.059167999939]],
  [0, [0.015076206936, -0.176352921046, 0.027121985640, 0.359920571378]],
  [1, [0.011549148515, 0.018373200801, 0.034320397067, 0.075911698947]],
  [1, [0.011916612531, 0.212986760048, 0.035838631046, -0.205748515827]],
];

function bare(): CartPoleEnv {
  const env = new CartPoleEnv();
  env.reset({ seed: 0 });
  return env;
}

describe('CartPole dynamics', () => {
  it('matches hand-derived Euler steps to 1e-6 (state float64, obs float32)', () => {
    const env = bare();
    env.state = [0.01, 0.02, 0.03, 0.04];
    for (const [action, expected] of HAND_TRAJECTORY) {
      const [obs, reward, terminated, truncated] = env.step(action);
      for (let k = 0; k < 4; k++) {
        expect(Math.abs(env.state![k]! - expected[k]!)).toBeLessThan(1e-9);
        expect(Math.abs(obs[k]! - expected[k]!)).toBeLessThan(1e-6);
        expect(obs[k]).toBe(Math.fround(env.state![k]!));
      }
      expect(obs).toBeInstanceOf(Float32Array);
      expect([reward, terminated, truncated]).toEqual([1, false, false]);
    }
  });

  it('updates positions with the old velocities (explicit Euler)', () => {
    const env = bare();
    env.state = [0, 1, 0, 1];
    env.step(1);
    expect(env.state![0]).toBe(0.02); // x + tau * old xDot
    expect(env.state![2]).toBe(0.02); // theta + tau * old thetaDot
  });

  it('action 0 pushes left and 1 pushes right', () => {
    const left = bare();
    left.state = [0, 0, 0, 0];
    left.step(0);
    const right = bare();
    right.state = [0, 0, 0, 0];
    right.step(1);
    expect(left.state![1]).toBeLessThan(0);
    expect(right.state![1]).toBeGreaterThan(0);
    expect(left.state![1]).toBeCloseTo(-right.state![1]!, 15);
    // Pushing the cart right makes the pole swing left.
    expect(right.state![3]).toBeLessThan(0);
  });

  it('terminates on the new state: |x| > 2.4 or |theta| > 12 degrees, strictly', () => {
    expect(THETA_THRESHOLD_RADIANS).toBeCloseTo(0.20943951, 8);
    const cases: [number[], boolean][] = [
      [[2.39, 1.0, 0, 0], true], // x -> 2.41
      [[-2.39, -1.0, 0, 0], true],
      [[2.38, 1.0, 0, 0], false], // x -> 2.40, not beyond
      [[2.5, -10, 0, 0], false], // outside before the step, inside after: the new state counts
      [[0, 0, 0.2, 0.5], true], // theta -> 0.21
      [[0, 0, -0.2, -0.5], true],
      [[0, 0, 0.2, 0.45], false], // theta -> 0.209 < 0.2094
    ];
    for (const [state, terminated] of cases) {
      const env = bare();
      env.state = state;
      const [, reward, term] = env.step(1);
      expect(term, `state ${state}`).toBe(terminated);
      expect(reward).toBe(1);
    }
  });

  it('a constant push right ends the episode after 11 steps from theta = 0.05 (hand-simulated)', () => {
    const env = bare();
    env.state = [0, 0, 0.05, 0];
    const flags: boolean[] = [];
    for (let i = 0; i < 11; i++) flags.push(env.step(1)[2]);
    expect(flags.indexOf(true)).toBe(10);
    expect(env.state![2]).toBeCloseTo(-0.26566395195647824, 12);
  });

  it('gives reward 1 on the terminal step, then warns once and gives 0', () => {
    const env = bare();
    env.state = [2.39, 1, 0, 0];
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
    expect(env.step(1).slice(1, 3)).toEqual([1, true]);
    expect(env.step(1).slice(1, 3)).toEqual([0, true]);
    expect(env.step(1).slice(1, 3)).toEqual([0, true]);
    expect(warn).toHaveBeenCalledTimes(1);
    expect(String(warn.mock.calls[0]![0])).toMatch(/after the episode terminated/);
    warn.mockRestore();
  });

  it('suttonBartoReward: 0 per step, -1 at and after termination', () => {
    const env = new CartPoleEnv({ suttonBartoReward: true });
    env.reset({ seed: 1 });
    env.state = [0, 0, 0, 0];
    expect(env.step(1)[1]).toBe(0);
    env.state = [2.39, 1, 0, 0];
    expect(env.step(1).slice(1, 3)).toEqual([-1, true]);
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
    expect(env.step(1)[1]).toBe(-1);
    warn.mockRestore();
    expect(make('CartPole-v1', { suttonBartoReward: true }).spec!.kwargs).toEqual({ suttonBartoReward: true });
  });

  it('resets uniformly in [-0.05, 0.05), or within options.low/high', () => {
    const env = new CartPoleEnv();
    for (let seed = 0; seed < 200; seed++) {
      const [obs, info] = env.reset({ seed });
      expect(info).toEqual({});
      for (const v of obs) expect(Math.abs(v)).toBeLessThanOrEqual(0.05);
    }
    const [obs] = env.reset({ seed: 3, options: { low: 0.1, high: 0.2 } });
    for (const v of obs) expect(v >= 0.1 && v <= 0.2).toBe(true);
    expect(() => env.reset({ options: { low: 1, high: 0 } })).toThrow(/low <= high/);
  });

  it('rejects bad state and options', () => {
    const env = bare();
    expect(() => (env.state = [0, 0, 0])).toThrow(/4 finite numbers/);
    expect(() => (env.state = [0, 0, NaN, 0])).toThrow(/4 finite numbers/);
    expect(() => new CartPoleEnv({ gravity: 3 } as never)).toThrow(/unknown option 'gravity'/);
    expect(() => new CartPoleEnv({ suttonBartoReward: 'yes' } as never)).toThrow(/suttonBartoReward must be a boolean/);
  });
});

describe('CartPole registration and time limits', () => {
  it('v0: 200 steps, threshold 195; v1: 500 steps, threshold 475', () => {
    for (const [id, steps, threshold] of [
      ['CartPole-v0', 200, 195],
      ['CartPole-v1', 500, 475],
    ] as const) {
      const env = make<Float32Array, number>(id);
      expect(env.spec).toMatchObject({ id, maxEpisodeSteps: steps, rewardThreshold: threshold });
      env.reset({ seed: 0 });
      // Balance by hand-written control so the pole never falls: push toward the lean.
      let t = 0;
      let done = false;
      let truncated = false;
      let obs = env.reset({ seed: 0 })[0];
      while (!done) {
        const action = obs[2]! + 0.5 * obs[3]! > 0 ? 1 : 0;
        const r = env.step(action);
        obs = r[0];
        t++;
        done = r[2] || r[3];
        truncated = r[3];
        expect(r[2]).toBe(false);
      }
      expect(truncated).toBe(true);
      expect(t).toBe(steps);
    }
  });

  it('renders a JSON frame and an ansi picture', () => {
    const env = make('CartPole-v1');
    env.reset({ seed: 5 });
    env.step(1);
    const frame = env.render() as CartPoleFrame;
    expect(frame).toMatchObject({ kind: 'cartpole', xThreshold: 2.4, poleHalfLength: 0.5, lastAction: 1 });
    expect(frame.x).toBe((env.unwrapped as CartPoleEnv).state![0]);
    expect(JSON.parse(JSON.stringify(frame))).toEqual(frame);
    const ansi = make('CartPole-v1', { renderMode: 'ansi' });
    ansi.reset({ seed: 5 });
    ansi.step(0);
    const text = ansi.render() as string;
    expect(text).toContain('<- push left');
    expect(text.split('\n')).toHaveLength(8);
    expect(text).toMatch(/\|-+\|/);
  });

  it('same seed gives bit-identical trajectories; different seeds differ', () => {
    const run = (seed: number) => {
      const env: Env<Float32Array, number> = make('CartPole-v1');
      env.actionSpace.seed(seed);
      const out: number[] = [...env.reset({ seed })[0]];
      for (let i = 0; i < 300; i++) {
        const [obs, r, term, trunc] = env.step(env.actionSpace.sample());
        out.push(...obs, r);
        if (term || trunc) out.push(...env.reset()[0]);
      }
      return out;
    };
    expect(run(7)).toEqual(run(7));
    expect(run(7)).not.toEqual(run(8));
  });
});

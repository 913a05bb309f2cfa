/**
 * Acrobot-v1, MountainCar-v0, MountainCarContinuous-v0 and Pendulum-v1 against hand-derived values and Gymnasium's
 * constants: single steps and short trajectories from set states, clipping, termination and truncation, reset
 * distributions and options, determinism by seed, snapshots, renderings.
 *
 * Reference numbers come from a NumPy script that evaluates the published equations of motion term by term
 * (RK4 for Acrobot; float32 torque/actions with NumPy 1.x promotion for the continuous envs); they are compared to
 * 1e-12, since the last bits of sin/cos may differ between math libraries.
 */
import { describe, expect, it } from 'vitest';
import {
  AcrobotEnv,
  MountainCarContinuousEnv,
  MountainCarEnv,
  PendulumEnv,
  MAX_VEL_1,
  MAX_VEL_2,
  angleNormalize,
  make,
  spec,
  type AcrobotFrame,
  type Env,
  type MountainCarFrame,
  type PendulumFrame,
} from '../envs/index.js';

const close = (actual: ArrayLike<number>, expected: readonly number[], tol = 1e-12) => {
  expect(actual.length).toBe(expected.length);
  for (let k = 0; k < expected.length; k++) expect(Math.abs(actual[k]! - expected[k]!), `index ${k}: ${actual[k]} vs ${expected[k]}`).toBeLessThan(tol);
};

function bare<E extends Env>(env: E): E {
  env.reset({ seed: 0 });
  return env;
}

describe('registrations', () => {
  it("use Gymnasium's ids, spaces, time limits and reward thresholds", () => {
    const rows = [
      ['Acrobot-v1', 500, -100, 'Box([-1, -1, -1, -1, -12.56637, -28.27433], [1, 1, 1, 1, 12.56637, 28.27433], (6,), float32)', 'Discrete(3)'],
      ['MountainCar-v0', 200, -110, 'Box([-1.2, -0.07], [0.6, 0.07], (2,), float32)', 'Discrete(3)'],
      ['MountainCarContinuous-v0', 999, 90, 'Box([-1.2, -0.07], [0.6, 0.07], (2,), float32)', 'Box(-1, 1, (1,), float32)'],
      ['Pendulum-v1', 200, undefined, 'Box([-1, -1, -8], [1, 1, 8], (3,), float32)', 'Box(-2, 2, (1,), float32)'],
    ] as const;
    for (const [id, limit, threshold, obs, act] of rows) {
      const s = spec(id);
      expect(s.maxEpisodeSteps, id).toBe(limit);
      expect(s.rewardThreshold, id).toBe(threshold);
      const env = make(id);
      expect(String(env.observationSpace), id).toBe(obs);
      expect(String(env.actionSpace), id).toBe(act);
      expect(env.toString()).toMatch(new RegExp(`^<TimeLimit<OrderEnforcing<EnvChecker<\\w+Env<${id}>>>>>$`));
    }
  });
});

describe('Acrobot-v1', () => {
  // From [0.1, −0.2, 0.3, −0.4] with actions 2, 0, 1, 2, 2 (torques +1, −1, 0, +1, +1): one RK4 step of dt 0.2 each.
  const TRAJECTORY: [number, number[]][] = [
    [2, [0.1282116312891261, -0.211840321026976, -0.023484731535001357, 0.28679521459777013]],
    [0, [0.11784404947450917, -0.15731524450506706, -0.07632067137914837, 0.24745843481895552]],
    [1, [0.08636069337858428, -0.08309034842545675, -0.22976340908300208, 0.4771579394626573]],
    [2, [0.017637803347603523, 0.058341902936634674, -0.43874302191252423, 0.9013706573634432]],
    [2, [-0.07942567505079716, 0.25883883773938177, -0.5053348294237602, 1.052621609765062]],
  ];

  it('takes one RK4 step of the book dynamics per action (float64 state, float32 observation)', () => {
    const env = bare(new AcrobotEnv());
    env.state = [0.1, -0.2, 0.3, -0.4];
    for (const [action, expected] of TRAJECTORY) {
      const [obs, reward, terminated, truncated, info] = env.step(action);
      close(env.state!, expected);
      const s = env.state!;
      expect(Array.from(obs)).toEqual([Math.cos(s[0]!), Math.sin(s[0]!), Math.cos(s[1]!), Math.sin(s[1]!), s[2]!, s[3]!].map(Math.fround));
      expect([reward, terminated, truncated, info]).toEqual([-1, false, false, {}]);
    }
  });

  it("the NIPS paper's equations differ from the book's", () => {
    const env = bare(new AcrobotEnv({ bookOrNips: 'nips' }));
    env.state = [0.1, -0.2, 0.3, -0.4];
    env.step(2);
    close(env.state!, [0.12826887194999317, -0.2119891159469492, -0.023123278665851565, 0.2858456867249499]);
  });

  it('wraps the angles into [−π, π] and bounds the velocities to ±4π and ±9π', () => {
    expect(MAX_VEL_1).toBe(4 * Math.PI);
    expect(MAX_VEL_2).toBe(9 * Math.PI);
    const env = bare(new AcrobotEnv());
    env.state = [3.0, 3.0, 12.0, 28.0];
    env.step(2);
    close(env.state!, [1.204808632647605, 2.1614790870300897, -12.566370614359172, 28.236336939784298]);
    expect(env.state![2]).toBe(-MAX_VEL_1);
  });

  it('terminates with reward 0 once the tip is above the line (−cos θ1 − cos(θ1 + θ2) > 1)', () => {
    const env = bare(new AcrobotEnv());
    env.state = [Math.PI - 0.05, 0, 0, 0]; // pointing up: height 2 − ε
    const [, reward, terminated] = env.step(1);
    expect([reward, terminated]).toEqual([0, true]);
    env.state = [Math.PI / 2, 0, 0, 0]; // horizontal: height 0
    expect(env.step(1).slice(1, 3)).toEqual([-1, false]);
  });

  it('resets uniform(−0.1, 0.1) rounded to float32, honours low/high, and is deterministic by seed', () => {
    const env = new AcrobotEnv();
    const seen: number[] = [];
    for (let seed = 0; seed < 200; seed++) {
      const [obs] = env.reset({ seed });
      const s = env.state!;
      for (const v of s) {
        expect(Math.abs(v)).toBeLessThanOrEqual(0.1);
        expect(Math.fround(v)).toBe(v);
        seen.push(v);
      }
      expect(obs[4]).toBe(s[2]);
    }
    expect(Math.min(...seen)).toBeLessThan(-0.09);
    expect(Math.max(...seen)).toBeGreaterThan(0.09);
    env.reset({ seed: 1, options: { low: 0.5, high: 0.6 } });
    for (const v of env.state!) expect(v >= 0.5 && v <= 0.6).toBe(true);
    expect(() => env.reset({ options: { low: 1, high: 0 } })).toThrow(/low <= high/);
    const run = (seed: number) => {
      const e = make<Float32Array, number>('Acrobot-v1');
      const out = [Array.from(e.reset({ seed })[0])];
      for (let t = 0; t < 30; t++) out.push(Array.from(e.step(t % 3)[0]));
      return out;
    };
    expect(run(7)).toEqual(run(7));
    expect(run(7)).not.toEqual(run(8));
  });

  it('adds uniform torque noise of ±torqueNoiseMax from the env RNG', () => {
    const clean = bare(new AcrobotEnv());
    const noisy = bare(new AcrobotEnv({ torqueNoiseMax: 0.5 }));
    const again = bare(new AcrobotEnv({ torqueNoiseMax: 0.5 }));
    for (const e of [clean, noisy, again]) e.state = [0.1, -0.2, 0.3, -0.4];
    clean.step(1);
    noisy.step(1);
    again.step(1);
    expect(Array.from(noisy.state!)).toEqual(Array.from(again.state!));
    expect(Array.from(noisy.state!)).not.toEqual(Array.from(clean.state!));
    expect(() => new AcrobotEnv({ torqueNoiseMax: -1 })).toThrow(/torqueNoiseMax must be a finite number ≥ 0/);
    expect(() => make('Acrobot-v1', { torqueNoise: 1 })).toThrow(/unknown option 'torqueNoise'; valid options: torqueNoiseMax, bookOrNips/);
  });

  it('truncates at 500 steps, renders a frame and a text picture, and snapshots exactly', () => {
    const env = make<Float32Array, number>('Acrobot-v1');
    env.reset({ seed: 3 });
    let steps = 0;
    let truncated = false;
    while (!truncated) {
      const r = env.step(1);
      steps++;
      truncated = r[3];
      expect(r[2]).toBe(false);
    }
    expect(steps).toBe(500);
    const frame = env.render() as AcrobotFrame;
    expect(frame).toMatchObject({ kind: 'acrobot', link1: 1, link2: 1, goalHeight: 1, lastTorque: 0 });
    const text = make('Acrobot-v1', { renderMode: 'ansi' });
    text.reset({ seed: 0 });
    text.step(2);
    expect(text.render()).toMatch(/o[\s\S]*theta1 [+-]\d\.\d{3}.*torque \+1/);
    const a = make<Float32Array, number>('Acrobot-v1', { torqueNoiseMax: 0.2 });
    a.reset({ seed: 5 });
    a.step(0);
    const b = make<Float32Array, number>('Acrobot-v1', { torqueNoiseMax: 0.2 });
    b.restore(JSON.parse(JSON.stringify(a.snapshot())));
    for (let t = 0; t < 20; t++) expect(Array.from(b.step(t % 3)[0])).toEqual(Array.from(a.step(t % 3)[0]));
  });
});

describe('MountainCar-v0', () => {
  it('updates velocity then position as the equations say', () => {
    const env = bare(new MountainCarEnv());
    env.state = [-0.5, 0.0];
    const expected = [
      [-0.49917684300416926, 0.0008231569958307428],
      [-0.49753668667935325, 0.0016401563248160246],
      [-0.4970917969323474, 0.00044488974700586273],
      [-0.49684550006784745, 0.0002462968644999427],
    ];
    [2, 2, 0, 1].forEach((action, t) => {
      const [obs, reward, terminated] = env.step(action);
      close(env.state!, expected[t]!);
      expect(Array.from(obs)).toEqual(Array.from(env.state!, Math.fround));
      expect([reward, terminated]).toEqual([-1, false]);
    });
    // By hand: v = 0 + (2 − 1)·0.001 + cos(−1.5)·(−0.0025); x = −0.5 + v.
    const v = 0.001 + Math.cos(-1.5) * -0.0025;
    close(expected[0]!, [-0.5 + v, v], 1e-15);
  });

  it('clips the speed to 0.07 and the position to [−1.2, 0.6], stopping at the left wall', () => {
    const env = bare(new MountainCarEnv());
    env.state = [-0.5, 0.0695];
    env.step(2);
    close(env.state!, [-0.43, 0.07], 1e-15);
    env.state = [-1.19, -0.02];
    env.step(0);
    expect(Array.from(env.state!)).toEqual([-1.2, 0]);
  });

  it('terminates at the flag (x ≥ 0.5 with velocity ≥ goalVelocity)', () => {
    const env = bare(new MountainCarEnv());
    env.state = [0.49, 0.02];
    const [, reward, terminated] = env.step(2);
    close(env.state!, [0.5107484356665326, 0.020748435666532672]);
    expect([reward, terminated]).toEqual([-1, true]);
    const picky = bare(new MountainCarEnv({ goalVelocity: 0.05 }));
    picky.state = [0.49, 0.02];
    expect(picky.step(2)[2]).toBe(false);
  });

  it('resets x uniform(−0.6, −0.4) with velocity 0, or within options.low/high; truncates at 200', () => {
    const env = new MountainCarEnv();
    const xs: number[] = [];
    for (let seed = 0; seed < 200; seed++) {
      const [obs] = env.reset({ seed });
      expect(env.state![1]).toBe(0);
      expect(obs[0]).toBe(Math.fround(env.state![0]!));
      xs.push(env.state![0]!);
    }
    expect(Math.min(...xs)).toBeGreaterThanOrEqual(-0.6);
    expect(Math.max(...xs)).toBeLessThan(-0.4);
    expect(Math.min(...xs)).toBeLessThan(-0.59);
    expect(Math.max(...xs)).toBeGreaterThan(-0.41);
    env.reset({ options: { low: 0.1, high: 0.2 } });
    expect(env.state![0]! >= 0.1 && env.state![0]! < 0.2).toBe(true);
    const timed = make<Float32Array, number>('MountainCar-v0');
    timed.reset({ seed: 0 });
    let t = 0;
    for (;;) {
      t++;
      if (timed.step(1)[3]) break;
    }
    expect(t).toBe(200);
    expect(timed.render()).toMatchObject({ kind: 'mountaincar', continuous: false, lastForce: 0, goalPosition: 0.5 } satisfies Partial<MountainCarFrame>);
  });
});

describe('MountainCarContinuous-v0', () => {
  it('pushes with power 0.0015, stores the state as float32, and pays −0.1·a²', () => {
    const env = bare(new MountainCarContinuousEnv());
    env.state = [-0.5, 0];
    const [obs, reward, terminated] = env.step(Float32Array.of(0.5));
    expect(Array.from(env.state!)).toEqual([-0.49942684173583984, 0.0005731569835916162]);
    expect(Array.from(obs)).toEqual(Array.from(env.state!));
    expect(reward).toBe(-0.025);
    expect(terminated).toBe(false);
  });

  it('clips the force to [−1, 1] but charges the action as given (Gymnasium)', () => {
    const env = bare(new MountainCarContinuousEnv());
    env.state = [-0.5, 0];
    const [, reward] = env.step([1.7]);
    expect(Array.from(env.state!)).toEqual([-0.4986768364906311, 0.0013231569901108742]);
    close([reward], [-0.28900001621246363]); // 1.7 as float32, squared, × 0.1
    const clipped = bare(new MountainCarContinuousEnv());
    clipped.state = [-0.5, 0];
    clipped.step([1.0]);
    expect(Array.from(clipped.state!)).toEqual(Array.from(env.state!));
  });

  it('gives 100 at the flag (x ≥ 0.45) on the terminating step', () => {
    const env = bare(new MountainCarContinuousEnv());
    env.state = [0.44, 0.02];
    const [, reward, terminated] = env.step([0.3]);
    expect(Array.from(env.state!)).toEqual([0.45982956886291504, 0.019829561933875084]);
    close([reward], [99.99099999928474]);
    expect(terminated).toBe(true);
    expect(env.render()).toMatchObject({ kind: 'mountaincar', continuous: true, goalPosition: 0.45 });
  });

  it('truncates at 999 steps', () => {
    const env = make<Float32Array, Float32Array>('MountainCarContinuous-v0');
    env.reset({ seed: 0 });
    let t = 0;
    for (;;) {
      t++;
      if (env.step(Float32Array.of(0))[3]) break;
    }
    expect(t).toBe(999);
  });
});

describe('Pendulum-v1', () => {
  it('normalises angles with the floored modulo: ((θ + π) mod 2π) − π', () => {
    close([angleNormalize(4.0), angleNormalize(-4.0), angleNormalize(7.0)], [4 - 2 * Math.PI, -4 + 2 * Math.PI, 7 - 2 * Math.PI], 1e-15);
    expect(angleNormalize(Math.PI)).toBe(-Math.PI);
    expect(angleNormalize(-Math.PI)).toBe(-Math.PI);
  });

  it('steps θ̇ then θ, with cost norm(θ)² + 0.1 θ̇² + 0.001 u²', () => {
    const env = bare(new PendulumEnv());
    env.state = [3.0, 1.0];
    const [obs, reward, terminated, truncated] = env.step(Float32Array.of(1.5));
    close(env.state!, [3.066542000302245, 1.3308400060449004]);
    // By hand: θ̇' = 1 + (15 sin 3 + 3·1.5)·0.05; θ' = 3 + θ̇'·0.05; cost = (3 − 2π + 2π)² … = 9 + 0.1 + 0.00225.
    const thdot = 1 + (15 * Math.sin(3) + 4.5) * 0.05;
    close(env.state!, [3 + thdot * 0.05, thdot], 1e-15);
    close([reward], [-(9 + 0.1 + 0.00225)], 1e-12);
    expect(Array.from(obs)).toEqual([Math.cos(env.state![0]!), Math.sin(env.state![0]!), env.state![1]!].map(Math.fround));
    expect([terminated, truncated]).toEqual([false, false]);
  });

  it('clips the torque to ±2 and the speed to ±8, and normalises the angle in the cost', () => {
    const env = bare(new PendulumEnv());
    env.state = [4.0, -7.9];
    const [, reward] = env.step([-3.0]);
    close(env.state!, [3.6, -8.0]);
    close([reward], [-11.457935146920741]);
    expect(env.render()).toMatchObject({ kind: 'pendulum', lastTorque: -2, maxTorque: 2 } satisfies Partial<PendulumFrame>);
    env.state = [-4.0, 0.5];
    close([env.step([0.7])[1]], [-5.238425146900476]);
  });

  it('takes the torque as float32 and g from the options', () => {
    const env = bare(new PendulumEnv({ g: 9.81 }));
    env.state = [0.3, 0.2];
    const [, reward] = env.step([0.123456789]);
    close(env.state!, [0.3217973755353786, 0.4359475107075728]);
    close([reward], [-0.09401524157915254]);
    expect((env.render() as PendulumFrame).lastTorque).toBe(Math.fround(0.123456789));
    expect(() => make('Pendulum-v1', { g: 'high' })).toThrow(/Pendulum: g must be a finite number, got "high"/);
  });

  it('resets θ uniform(−π, π) and θ̇ uniform(−1, 1), or ±x_init / ±y_init; never terminates; truncated at 200', () => {
    const env = new PendulumEnv();
    const th: number[] = [];
    const thd: number[] = [];
    for (let seed = 0; seed < 300; seed++) {
      env.reset({ seed });
      th.push(env.state![0]!);
      thd.push(env.state![1]!);
    }
    expect(Math.min(...th)).toBeGreaterThanOrEqual(-Math.PI);
    expect(Math.max(...th)).toBeLessThan(Math.PI);
    expect(Math.min(...th)).toBeLessThan(-3);
    expect(Math.max(...thd)).toBeLessThan(1);
    expect(Math.min(...thd)).toBeLessThan(-0.95);
    for (let seed = 0; seed < 50; seed++) {
      env.reset({ seed, options: { x_init: 0.5, y_init: 0.1 } });
      expect(Math.abs(env.state![0]!)).toBeLessThanOrEqual(0.5);
      expect(Math.abs(env.state![1]!)).toBeLessThanOrEqual(0.1);
    }
    expect(() => env.reset({ options: { x_init: 'wide' } })).toThrow(/options.x_init must be a finite number/);
    const timed = make<Float32Array, Float32Array>('Pendulum-v1', { renderMode: 'ansi' });
    timed.reset({ seed: 0 });
    let t = 0;
    for (;;) {
      t++;
      const [, , terminated, truncated] = timed.step(Float32Array.of(2));
      expect(terminated).toBe(false);
      if (truncated) break;
    }
    expect(t).toBe(200);
    expect(timed.render()).toMatch(/@[\s\S]*theta [+-]\d\.\d{3}\s+omega .* torque \+2\.00 \(counter-clockwise\)/);
  });
});

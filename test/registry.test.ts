import { describe, expect, it } from 'vitest';
import {
  Box,
  ClipReward,
  Discrete,
  Env,
  EnvChecker,
  InvalidAction,
  RecordEpisodeStatistics,
  ResetNeeded,
  TimeLimit,
  TransformObservation,
  TransformReward,
  UnknownEnvError,
  envIds,
  make,
  register,
  spec,
  unregister,
  type ResetArgs,
  type StepResult,
} from '../envs/index.js';

/** A tiny counting env: obs is the step count, episode terminates after `length` steps with reward = action. */
class CountingEnv extends Env<number, number> {
  readonly observationSpace = new Discrete(100);
  readonly actionSpace = new Discrete(3);
  count = 0;
  constructor(readonly length = 5, readonly badObs = false) {
    super();
  }
  override reset(args: ResetArgs = {}): [number, Record<string, unknown>] {
    super.reset(args);
    this.count = 0;
    return [this.badObs ? -1 : 0, { seeded: args.seed }];
  }
  step(action: number): StepResult<number> {
    this.count++;
    return [this.count, action, this.count >= this.length, false, {}];
  }
  render() {
    return `count ${this.count}`;
  }
}

register({ id: 'Counting-v0', entryPoint: (kw) => new CountingEnv(kw.length as number | undefined, kw.badObs as boolean | undefined), maxEpisodeSteps: 50 });

describe('make and the registry', () => {
  it('lists ids and wraps with EnvChecker, OrderEnforcing and TimeLimit', () => {
    expect(envIds()).toEqual(expect.arrayContaining(['CartPole-v0', 'CartPole-v1', 'Counting-v0']));
    expect(String(make('CartPole-v1'))).toBe('<TimeLimit<OrderEnforcing<EnvChecker<CartPoleEnv<CartPole-v1>>>>>');
    expect(String(make('CartPole-v1', { disableEnvChecker: true, maxEpisodeSteps: null }))).toBe('<OrderEnforcing<CartPoleEnv<CartPole-v1>>>');
    expect(spec('CartPole-v0')).toEqual({ id: 'CartPole-v0', maxEpisodeSteps: 200, rewardThreshold: 195, kwargs: {}, nondeterministic: false });
    const env = make('CartPole-v1', { maxEpisodeSteps: 7 });
    expect(env.spec!.maxEpisodeSteps).toBe(7);
    expect(env.unwrapped.constructor.name).toBe('CartPoleEnv');
  });

  it('suggests the closest id for unknown ones', () => {
    const message = (id: string) => {
      try {
        make(id);
      } catch (e) {
        expect(e).toBeInstanceOf(UnknownEnvError);
        return (e as Error).message;
      }
      throw new Error('no error');
    };
    expect(message('CartPole-v2')).toMatch(/unknown environment id 'CartPole-v2'\. Did you mean 'CartPole-v1'\?/);
    expect(message('cartpole')).toMatch(/Did you mean 'CartPole-v1'/);
    expect(message('CartPol-v1')).toMatch(/Did you mean 'CartPole-v1'/);
    expect(message('Qwertyuiop-v9')).not.toMatch(/Did you mean/);
    expect(message('Qwertyuiop-v9')).toMatch(/Registered ids: .*CartPole-v1/);
  });

  it('refuses duplicate registrations, bad ids and bad make options', () => {
    expect(() => register({ id: 'CartPole-v1', entryPoint: () => new CountingEnv() })).toThrow(/already registered/);
    expect(() => register({ id: '', entryPoint: () => new CountingEnv() })).toThrow(/id must be/);
    expect(() => make('CartPole-v1', { maxEpisodeSteps: 0 })).toThrow(/maxEpisodeSteps must be a positive integer/);
    expect(() => make('CartPole-v1', { renderMode: 'rgb_array' as never })).toThrow(/render mode 'rgb_array' is not supported/);
    expect(() => make('CartPole-v1', { gravity: 1 })).toThrow(/unknown option 'gravity'/);
    register({ id: 'Temp-v0', entryPoint: () => new CountingEnv() });
    expect(unregister('Temp-v0')).toBe(true);
    expect(envIds()).not.toContain('Temp-v0');
  });
});

describe('order enforcing and action checking', () => {
  it('step or render before reset is a clear error', () => {
    const env = make('CartPole-v1');
    expect(() => env.step(0)).toThrow(ResetNeeded);
    expect(() => env.step(0)).toThrow(/CartPole-v1: cannot call step\(\) before reset\(\)/);
    expect(() => env.render()).toThrow(/cannot call render\(\) before reset\(\)/);
  });

  it('an action outside the space names env, action and space', () => {
    const env = make('CartPole-v1');
    env.reset({ seed: 0 });
    for (const [bad, shown] of [
      [2, '2'],
      [NaN, 'NaN'],
      [-1, '-1'],
      [0.5, '0.5'],
      ['1', '"1"'],
      [undefined, 'undefined'],
    ] as const) {
      expect(() => env.step(bad as never)).toThrow(InvalidAction);
      expect(() => env.step(bad as never)).toThrow(`CartPole-v1: invalid action ${shown}: not in the action space Discrete(2)`);
    }
    // The env is unharmed and still steps.
    expect(env.step(1)[1]).toBe(1);
  });

  it('negative or non-integer seeds are refused', () => {
    const env = make('CartPole-v1');
    expect(() => env.reset({ seed: -1 })).toThrow('seed must be a non-negative integer, got -1');
    expect(() => env.reset({ seed: 1.5 })).toThrow('seed must be a non-negative integer, got 1.5');
    expect(() => env.reset({ seed: '7' as never })).toThrow('seed must be a non-negative integer, got "7"');
  });

  it('the env checker catches observations outside the space from custom envs', () => {
    expect(() => make('Counting-v0', { badObs: true }).reset()).toThrow(/Counting-v0: reset\(\) returned an observation outside the observation space Discrete\(100\): -1/);
    expect(() => new EnvChecker(new CountingEnv()).reset()).not.toThrow();
  });

  it('seeding: a seed recreates the RNG, a reset without seed continues it', () => {
    const a = make<Float32Array, number>('CartPole-v1');
    const first = a.reset({ seed: 3 })[0];
    const second = a.reset()[0];
    const b = make<Float32Array, number>('CartPole-v1');
    expect(b.reset({ seed: 3 })[0]).toEqual(first);
    expect(b.reset()[0]).toEqual(second);
    expect(second).not.toEqual(first);
    expect(a.unwrapped.npRandomSeed).toBe(3);
  });
});

describe('wrappers', () => {
  it('TimeLimit truncates at the limit without touching terminated', () => {
    const env = new TimeLimit(new CountingEnv(3), 3);
    env.reset();
    expect(env.step(0).slice(2, 4)).toEqual([false, false]);
    env.step(0);
    expect(env.step(0).slice(2, 4)).toEqual([true, true]);
    expect(env.elapsedSteps).toBe(3);
    env.reset();
    expect(env.elapsedSteps).toBe(0);
    expect(() => new TimeLimit(new CountingEnv(), -2)).toThrow(/positive integer/);
  });

  it('RecordEpisodeStatistics reports return, length and time at episode end', () => {
    const env = new RecordEpisodeStatistics(new CountingEnv(4), 2);
    for (let ep = 0; ep < 3; ep++) {
      env.reset();
      let info: Record<string, unknown> = {};
      for (let i = 0; i < 4; i++) info = env.step(2)[4];
      expect(info.episode).toMatchObject({ r: 8, l: 4 });
      expect((info.episode as { t: number }).t).toBeGreaterThanOrEqual(0);
    }
    expect(env.returnQueue).toEqual([8, 8]);
    expect(env.lengthQueue).toEqual([4, 4]);
    expect(env.episodeCount).toBe(3);
  });

  it('TransformObservation, TransformReward and ClipReward change what they should', () => {
    const obsSpace = new Box(0, 200, [1], 'float32');
    const env = new TransformObservation(new CountingEnv(), (n: number) => Float32Array.of(n * 2), obsSpace);
    expect(env.observationSpace).toBe(obsSpace);
    expect(Array.from(env.reset()[0])).toEqual([0]);
    expect(Array.from(env.step(0)[0])).toEqual([2]);
    const shaped = new TransformReward(new CountingEnv(2), (r, terminated) => (terminated ? -10 : r));
    shaped.reset();
    expect(shaped.step(1)[1]).toBe(1);
    expect(shaped.step(1)[1]).toBe(-10);
    const clipped = new ClipReward(new CountingEnv(), 0, 1);
    clipped.reset();
    expect(clipped.step(2)[1]).toBe(1);
    expect(() => new ClipReward(new CountingEnv(), 1, 0)).toThrow(/must not exceed/);
  });

  it('wrappers forward spaces, spec, metadata and unwrapped', () => {
    const env = new RecordEpisodeStatistics(make('CartPole-v1'));
    expect(env.spec!.id).toBe('CartPole-v1');
    expect(env.metadata.renderFps).toBe(50);
    expect(String(env.actionSpace)).toBe('Discrete(2)');
    expect(String(env.observationSpace)).toMatch(/^Box\(\[-4\.8, -Infinity/);
    expect(env.unwrapped.constructor.name).toBe('CartPoleEnv');
  });
});

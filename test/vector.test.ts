import { describe, expect, it } from 'vitest';
import {
  CartPoleVectorEnv,
  InvalidAction,
  Rng,
  SyncVectorEnv,
  VectorRecordEpisodeStatistics,
  addInfo,
  make,
  makeVec,
  type AutoresetMode,
  type VectorEnv,
} from '../envs/index.js';

function randomActions(rng: Rng, n: number): Uint8Array {
  return Uint8Array.from({ length: n }, () => rng.integer(2));
}

/** Runs a vector env for `steps` random steps and returns everything it produced. */
function rollout(envs: VectorEnv, steps: number, seed: number) {
  const rng = new Rng(seed);
  const out: unknown[] = [Array.from(envs.reset({ seed })[0])];
  for (let t = 0; t < steps; t++) {
    const [obs, rewards, terms, truncs, infos] = envs.step(randomActions(rng, envs.numEnvs));
    const finals = (infos.finalObs as (Float32Array | null)[] | undefined)?.map((o) => (o ? Array.from(o) : null)) ?? null;
    out.push([Array.from(obs), Array.from(rewards), Array.from(terms), Array.from(truncs), finals]);
  }
  return out;
}

describe('vector envs', () => {
  it('makeVec picks the batched Cart-Pole and seeds sub-env i with seed + i', () => {
    const envs = makeVec('CartPole-v1', 4);
    expect(envs).toBeInstanceOf(CartPoleVectorEnv);
    expect(envs.spec).toMatchObject({ id: 'CartPole-v1', maxEpisodeSteps: 500 });
    expect(String(envs.actionSpace)).toBe('MultiDiscrete([2 2 2 2])');
    expect(envs.observationSpace.shape).toEqual([4, 4]);
    const [obs] = envs.reset({ seed: 10 });
    for (let i = 0; i < 4; i++) {
      const [single] = make<Float32Array, number>('CartPole-v1').reset({ seed: 10 + i });
      expect(Array.from(obs.subarray(4 * i, 4 * i + 4))).toEqual(Array.from(single));
    }
    expect(makeVec('CartPole-v1', 2, { vectorizationMode: 'sync' })).toBeInstanceOf(SyncVectorEnv);
  });

  for (const mode of ['next-step', 'same-step'] as AutoresetMode[]) {
    it(`batched Cart-Pole (1 and 3 threads) equals N single envs bit for bit (${mode})`, () => {
      const sync = rollout(makeVec('CartPole-v1', 7, { autoresetMode: mode, maxEpisodeSteps: 30, vectorizationMode: 'sync' }), 400, 3);
      const batched = rollout(makeVec('CartPole-v1', 7, { autoresetMode: mode, maxEpisodeSteps: 30 }), 400, 3);
      const threaded = makeVec('CartPole-v1', 7, { autoresetMode: mode, maxEpisodeSteps: 30, threads: 3 });
      expect((threaded as CartPoleVectorEnv).threads).toBe(3);
      const fromThreads = rollout(threaded, 400, 3);
      threaded.close();
      expect(batched).toEqual(sync);
      expect(fromThreads).toEqual(sync);
      expect(() => threaded.step([0, 0, 0, 0, 0, 0, 0])).toThrow(/closed/);
    });
  }

  it('copy: false returns the internal buffers, copy: true fresh arrays', () => {
    for (const vectorizationMode of ['sync', 'vector-entry-point'] as const) {
      const shared = makeVec('CartPole-v1', 2, { copy: false, vectorizationMode });
      const [a] = shared.reset({ seed: 0 });
      const [b] = shared.step([0, 1]);
      expect(b).toBe(a);
      const fresh = makeVec('CartPole-v1', 2, { vectorizationMode });
      const [c] = fresh.reset({ seed: 0 });
      const before = Array.from(c);
      const [d] = fresh.step([0, 1]);
      expect(d).not.toBe(c);
      expect(Array.from(c)).toEqual(before);
    }
    expect(() => makeVec('CartPole-v1', 2, { threads: 0 })).toThrow(/threads must be an integer from 1 to 64, got 0/);
  });

  it('next-step autoreset: final obs at the ending step, reset obs with reward 0 at the next, action ignored', () => {
    const envs = makeVec<Float32Array>('CartPole-v1', 2, { autoresetMode: 'next-step' });
    envs.reset({ seed: 5 });
    // The reference: the same sub-env as a single env with the same seed and actions.
    const single = make<Float32Array, number>('CartPole-v1');
    single.reset({ seed: 5 });
    let t = 0;
    for (;;) {
      const [obs, rewards, terms] = envs.step([1, 0]);
      const [sObs, sReward, sTerm] = single.step(1);
      t++;
      expect(Array.from(obs.subarray(0, 4))).toEqual(Array.from(sObs));
      expect(rewards[0]).toBe(sReward);
      if (terms[0]) {
        expect(sTerm).toBe(true);
        break;
      }
    }
    expect(t).toBeGreaterThan(5);
    const [afterReset] = single.reset();
    // Action 7 would be invalid; for the resetting sub-env any valid action is ignored, so use 0 vs 1 to show it.
    const [obs, rewards, terms, truncs] = envs.step([0, 0]);
    expect(Array.from(obs.subarray(0, 4))).toEqual(Array.from(afterReset));
    expect([rewards[0], terms[0], truncs[0]]).toEqual([0, 0, 0]);
    const [obs2] = envs.step([1, 0]);
    expect(Array.from(obs2.subarray(0, 4))).toEqual(Array.from(single.step(1)[0]));
  });

  it('same-step autoreset: reset obs in obs, the true final obs in infos.finalObs', () => {
    const envs = makeVec<Float32Array>('CartPole-v1', 2, { autoresetMode: 'same-step' });
    envs.reset({ seed: 9 });
    const single = make<Float32Array, number>('CartPole-v1');
    single.reset({ seed: 9 });
    for (;;) {
      const [obs, rewards, terms, , infos] = envs.step([0, 1]);
      const [sObs, , sTerm] = single.step(0);
      if (terms[0]) {
        expect(sTerm).toBe(true);
        expect(rewards[0]).toBe(1);
        expect((infos._finalObs as Uint8Array)[0]).toBe(1);
        expect(Array.from((infos.finalObs as Float32Array[])[0]!)).toEqual(Array.from(sObs));
        expect(Array.from(obs.subarray(0, 4))).toEqual(Array.from(single.reset()[0]));
        break;
      }
      expect(infos.finalObs === undefined || (infos._finalObs as Uint8Array)[0] === 0).toBe(true);
    }
  });

  it('truncates at maxEpisodeSteps and flags it separately from termination', () => {
    const envs = makeVec('CartPole-v1', 3, { maxEpisodeSteps: 4 });
    envs.reset({ seed: 0 });
    const truncs: number[][] = [];
    for (let t = 0; t < 5; t++) truncs.push(Array.from(envs.step([0, 1, 0])[3]));
    expect(truncs[3]).toEqual([1, 1, 1]);
    expect(truncs[4]).toEqual([0, 0, 0]); // reset step
  });

  it('resetMask resets only the chosen sub-envs', () => {
    const envs = makeVec<Float32Array>('CartPole-v1', 3);
    const [first] = envs.reset({ seed: 1 });
    const [stepped] = envs.step([1, 1, 1]);
    const [obs] = envs.reset({ seed: [null, 50, null], options: { resetMask: [false, true, false] } });
    expect(Array.from(obs.subarray(0, 4))).toEqual(Array.from(stepped.subarray(0, 4)));
    expect(Array.from(obs.subarray(4, 8))).toEqual(Array.from(make<Float32Array, number>('CartPole-v1').reset({ seed: 50 })[0]));
    expect(Array.from(obs.subarray(8))).not.toEqual(Array.from(first.subarray(8)));
    expect(() => envs.reset({ options: { resetMask: [true] } })).toThrow(/resetMask must be an array of 3 booleans/);
    expect(() => envs.reset({ seed: [1, 2] })).toThrow(/expected 3 seeds, got 2/);
    expect(() => envs.reset({ seed: -4 })).toThrow(/non-negative integer/);
  });

  for (const vectorizationMode of ['sync', 'vector-entry-point'] as const) {
    it(`disabled autoreset refuses to step an ended sub-env (${vectorizationMode})`, () => {
      const envs = makeVec('CartPole-v1', 2, { autoresetMode: 'disabled', maxEpisodeSteps: 2, vectorizationMode });
      envs.reset({ seed: 0 });
      envs.step([0, 0]);
      envs.step([0, 0]);
      expect(() => envs.step([0, 0])).toThrow(/sub-env 0 has ended and autoreset is disabled/);
      envs.reset({ options: { resetMask: [true, true] } });
      expect(() => envs.step([0, 0])).not.toThrow();
    });

    it(`bad actions and bad calls are clear errors (${vectorizationMode})`, () => {
      const envs = makeVec('CartPole-v1', 3, { vectorizationMode });
      expect(() => envs.step([0, 0, 0])).toThrow(/before reset/);
      envs.reset({ seed: 0 });
      expect(() => envs.step([0, 2, 0])).toThrow(InvalidAction);
      expect(() => envs.step([0, 2, 0])).toThrow(/invalid action 2 for sub-env 1: not in the action space Discrete\(2\)/);
      expect(() => envs.step([0, NaN, 0])).toThrow(/invalid action NaN for sub-env 1/);
      expect(() => envs.step([0, 1])).toThrow(/expected 3 actions/);
    });
  }

  for (const vectorizationMode of ['sync', 'vector-entry-point'] as const) {
    it(`snapshot/restore continues a vector env exactly (${vectorizationMode})`, () => {
      const envs = makeVec('CartPole-v1', 4, { vectorizationMode, autoresetMode: 'next-step' });
      envs.reset({ seed: 8 });
      const rng = new Rng(1);
      for (let t = 0; t < 37; t++) envs.step(randomActions(rng, 4));
      const snap = JSON.parse(JSON.stringify(envs.snapshot()));
      const actions = Array.from({ length: 200 }, () => randomActions(rng, 4));
      const run = (e: VectorEnv) => actions.map((a) => e.step(a).slice(0, 4).map((x) => Array.from(x as Float32Array)));
      const expected = run(envs);
      const fresh = makeVec('CartPole-v1', 4, { vectorizationMode, autoresetMode: 'next-step' });
      fresh.restore(snap);
      expect(run(fresh)).toEqual(expected);
      expect(() => makeVec('CartPole-v1', 3, { vectorizationMode }).restore(snap)).toThrow(/snapshot has 4 sub-envs, this vector env has 3/);
    });
  }

  it('makeVec validates its arguments', () => {
    expect(() => makeVec('CartPole-v1', 0)).toThrow(/numEnvs must be a positive integer, got 0/);
    expect(() => makeVec('CartPole-v1', 2, { autoresetMode: 'later' as never })).toThrow(/autoresetMode must be one of/);
    expect(() => makeVec('CartPole-v3', 2)).toThrow(/Did you mean 'CartPole-v1'/);
    expect(() => makeVec('CartPole-v1', 2, { gravity: 1 })).toThrow(/unknown option 'gravity'/);
  });

  it('VectorRecordEpisodeStatistics reports each finished episode once, in both modes', () => {
    for (const autoresetMode of ['next-step', 'same-step'] as const) {
      const envs = new VectorRecordEpisodeStatistics(makeVec('CartPole-v1', 8, { autoresetMode }));
      envs.reset({ seed: 2 });
      const rng = new Rng(0);
      let dones = 0;
      let reported = 0;
      for (let t = 0; t < 300; t++) {
        const [, , terms, truncs, infos] = envs.step(randomActions(rng, 8));
        for (let i = 0; i < 8; i++) dones += terms[i]! | truncs[i]!;
        if (infos._episode) {
          const ep = infos.episode as { r: Float64Array; l: Float64Array };
          const mask = infos._episode as Uint8Array;
          for (let i = 0; i < 8; i++) {
            if (!mask[i]) continue;
            reported++;
            expect(ep.r[i]).toBe(ep.l[i]); // reward 1 per step
            expect(ep.l[i]).toBeGreaterThanOrEqual(8); // a pole cannot fall in fewer steps from |theta| < 0.05
          }
        }
      }
      expect(reported).toBe(dones);
      expect(envs.episodeCount).toBe(dones);
      expect(dones).toBeGreaterThan(50);
      // Random play on Cart-Pole lasts about 22 steps on average.
      const mean = envs.returnQueue.reduce((a, b) => a + b, 0) / envs.returnQueue.length;
      expect(mean).toBeGreaterThan(15);
      expect(mean).toBeLessThan(30);
    }
  });

  it('addInfo batches values with masks, recursively', () => {
    const infos = {};
    addInfo(infos, { prob: 0.5, ok: true, episode: { r: 3 } }, 1, 3);
    addInfo(infos, { prob: 1, name: 'x' }, 2, 3);
    expect(infos).toEqual({
      prob: Float64Array.of(0, 0.5, 1),
      _prob: Uint8Array.of(0, 1, 1),
      ok: Uint8Array.of(0, 1, 0),
      _ok: Uint8Array.of(0, 1, 0),
      episode: { r: Float64Array.of(0, 3, 0), _r: Uint8Array.of(0, 1, 0) },
      _episode: Uint8Array.of(0, 1, 0),
      name: [null, null, 'x'],
      _name: Uint8Array.of(0, 0, 1),
    });
  });
});

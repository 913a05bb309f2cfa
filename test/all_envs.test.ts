import { describe, expect, it } from 'vitest';
import { Box, envIds, make, makeVec, spec, type Env, type Info } from '../envs/index.js';

const EXPECTED_SPECS: Record<string, { maxEpisodeSteps?: number; rewardThreshold?: number }> = {
  'CartPole-v0': { maxEpisodeSteps: 200, rewardThreshold: 195 },
  'CartPole-v1': { maxEpisodeSteps: 500, rewardThreshold: 475 },
  'Acrobot-v1': { maxEpisodeSteps: 500, rewardThreshold: -100 },
  'MountainCar-v0': { maxEpisodeSteps: 200, rewardThreshold: -110 },
  'MountainCarContinuous-v0': { maxEpisodeSteps: 999, rewardThreshold: 90 },
  'Pendulum-v1': { maxEpisodeSteps: 200 },
  'FrozenLake-v1': { maxEpisodeSteps: 100, rewardThreshold: 0.7 },
  'FrozenLake8x8-v1': { maxEpisodeSteps: 200, rewardThreshold: 0.85 },
  'CliffWalking-v1': {},
  'CliffWalkingSlippery-v1': {},
  'Taxi-v3': { maxEpisodeSteps: 200, rewardThreshold: 8 },
  'Taxi-v4': { maxEpisodeSteps: 200, rewardThreshold: 8 },
  'Snake-v0': {},
  'GoLite-5x5-v0': {},
  'GoLite-7x7-v0': {},
  'GoLite-9x9-v0': {},
};

/**
 * A deterministic action for step t: the (t mod count)-th legal action (all actions legal without a mask); for Box
 * action spaces values that sweep past both bounds (the envs clip them).
 */
function pick(env: Env, info: Info, t: number): number | Float32Array {
  if (env.actionSpace instanceof Box) {
    const { low, high, size } = env.actionSpace;
    return Float32Array.from({ length: size }, (_, k) => low[k]! - 0.5 + (((t + k) * 7) % 11) / 10 * (high[k]! - low[k]! + 1));
  }
  const n = (env.actionSpace as unknown as { n: number }).n;
  const mask = info.actionMask as Int8Array | undefined;
  const legal = Array.from({ length: n }, (_, a) => a).filter((a) => !mask || mask[a] === 1);
  return legal[t % legal.length]!;
}

/** Plays `steps` random (mask-respecting) actions, resetting at episode ends; returns a trace. */
function trace(env: Env, seed: number, steps: number): unknown[] {
  env.actionSpace.seed(seed);
  const out: unknown[] = [];
  let [obs, info] = env.reset({ seed });
  out.push(ArrayBuffer.isView(obs) ? Array.from(obs as Float32Array) : obs);
  for (let t = 0; t < steps; t++) {
    const mask = (info as Info).actionMask as Int8Array | undefined;
    const action = (env.actionSpace as { sample(m?: unknown): unknown }).sample(mask);
    const [next, reward, terminated, truncated, stepInfo] = env.step(action);
    out.push(ArrayBuffer.isView(next) ? Array.from(next as Float32Array) : next, reward, terminated, truncated);
    [obs, info] = [next, stepInfo];
    if (terminated || truncated) [obs, info] = env.reset();
  }
  return out;
}

describe('every registered env', () => {
  it('is registered with Gymnasium’s limits and thresholds', () => {
    expect(envIds()).toEqual(Object.keys(EXPECTED_SPECS).sort());
    for (const [id, expected] of Object.entries(EXPECTED_SPECS)) {
      const s = spec(id);
      expect(s.maxEpisodeSteps, id).toBe(expected.maxEpisodeSteps);
      expect(s.rewardThreshold, id).toBe(expected.rewardThreshold);
    }
  });

  for (const id of Object.keys(EXPECTED_SPECS)) {
    it(`${id}: passes the env checker on 2000 random steps and is reproducible per seed`, () => {
      const a = trace(make(id), 11, 2000);
      expect(trace(make(id), 11, 2000)).toEqual(a);
      expect(trace(make(id), 12, 2000)).not.toEqual(a);
    });

    it(`${id}: renders JSON frames that survive serialisation, and ansi text`, () => {
      const env = make(id);
      env.reset({ seed: 0 });
      env.step(env.actionSpace.sample());
      const frame = env.render();
      expect(typeof frame).toBe('object');
      expect(JSON.parse(JSON.stringify(frame))).toEqual(frame);
      const ansi = make(id, { renderMode: 'ansi' });
      ansi.reset({ seed: 0 });
      const text = ansi.render();
      expect(typeof text).toBe('string');
      expect((text as string).split('\n').length).toBeGreaterThan(2);
    });

    it(`${id}: snapshot() mid-episode, restored into a fresh env through JSON, continues bit for bit`, () => {
      const env = make(id);
      let info = env.reset({ seed: 5 })[1];
      for (let t = 0; t < 7; t++) {
        const r = env.step(pick(env, info, t));
        info = r[4];
        if (r[2] || r[3]) info = env.reset()[1];
      }
      const snap = JSON.parse(JSON.stringify(env.snapshot()));
      const plain = (obs: unknown) => (ArrayBuffer.isView(obs) ? Array.from(obs as Float32Array) : obs);
      const continueFrom = (e: typeof env, startInfo: Info) => {
        let current = startInfo;
        return Array.from({ length: 300 }, (_, t) => {
          const [obs, r, term, trunc, stepInfo] = e.step(pick(e, current, t));
          current = stepInfo;
          const out = [plain(obs), r, term, trunc];
          if (term || trunc) {
            const [resetObs, resetInfo] = e.reset();
            current = resetInfo;
            out.push(plain(resetObs));
          }
          return out;
        });
      };
      const expected = continueFrom(env, info);
      const fresh = make(id);
      fresh.restore(snap);
      expect(continueFrom(fresh, info)).toEqual(expected);
    });

    it(`${id}: a sync vector env reproduces the single env sub-env by sub-env`, () => {
      const n = 3;
      const envs = makeVec(id, n, { vectorizationMode: 'sync', autoresetMode: 'same-step' });
      const singles = Array.from({ length: n }, () => make(id));
      const [obs, firstInfos] = envs.reset({ seed: 100 });
      let infos = firstInfos;
      const width = obs.length / n;
      const singleInfos = singles.map((e, i) => {
        const [o, info] = e.reset({ seed: 100 + i });
        expect(Array.from(obs.subarray(i * width, (i + 1) * width))).toEqual(ArrayBuffer.isView(o) ? Array.from(o as Float32Array) : [o]);
        return info;
      });
      for (let t = 0; t < 200; t++) {
        const actions = singles.map((e, i) => pick(e, singleInfos[i]!, t + i));
        const batch = actions.every((a) => typeof a === 'number') ? (actions as number[]) : Float32Array.from(actions.flatMap((a) => Array.from(a as Float32Array)));
        // The vector env reports the same legal moves as the single envs.
        const masks = infos.actionMask as (ArrayLike<number> | null)[] | undefined;
        singleInfos.forEach((si, i) => si.actionMask && expect(Array.from(masks![i]!)).toEqual(Array.from(si.actionMask as Int8Array)));
        const [vObs, rewards, terms, truncs, stepInfos] = envs.step(batch);
        infos = stepInfos;
        singles.forEach((e, i) => {
          let [o, r, term, trunc, info] = e.step(actions[i]);
          expect([rewards[i], terms[i], truncs[i]]).toEqual([r, term ? 1 : 0, trunc ? 1 : 0]);
          if (term || trunc) [o, info] = e.reset();
          singleInfos[i] = info;
          expect(Array.from(vObs.subarray(i * width, (i + 1) * width))).toEqual(ArrayBuffer.isView(o) ? Array.from(o as Float32Array) : [o]);
        });
      }
    });
  }
});

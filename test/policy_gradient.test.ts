import { beforeAll, describe, expect, it } from 'vitest';
import { initCompute, tf } from '../lab/compute.js';
import {
  categoricalTerms,
  clippedSurrogateLoss,
  discountedReturns,
  explainedVariance,
  generalizedAdvantages,
  MASKED_LOGIT,
  policyGradientLoss,
  standardize,
  valueFunctionLoss,
} from '../agents/policy_gradient.js';

beforeAll(async () => {
  await initCompute('wasm');
});

const closeTo = (expected: number[], digits = 5) => expected.map((x) => expect.closeTo(x, digits));

describe('discounted returns', () => {
  it('G_t = r_t + γ G_{t+1}, ending at 0 for a terminated episode', () => {
    // γ = 0.5, r = [1, 2, 3]: G_2 = 3, G_1 = 2 + 0.5·3 = 3.5, G_0 = 1 + 0.5·3.5 = 2.75 (exact in binary).
    expect(Array.from(discountedReturns([1, 2, 3], 0.5))).toEqual([2.75, 3.5, 3]);
  });

  it('ending at the bootstrap value V(s_T) for a truncated episode', () => {
    // V(s_T) = 4: G_2 = 3 + 0.5·4 = 5, G_1 = 2 + 0.5·5 = 4.5, G_0 = 1 + 0.5·4.5 = 3.25.
    expect(Array.from(discountedReturns([1, 2, 3], 0.5, 4))).toEqual([3.25, 4.5, 5]);
    // γ = 0: each return is its reward, whatever the bootstrap.
    expect(Array.from(discountedReturns([1, 2, 3], 0, 4))).toEqual([1, 2, 3]);
  });

  it('an empty episode has no returns', () => {
    expect(Array.from(discountedReturns([], 0.99, 7))).toEqual([]);
  });
});

describe('GAE(λ)', () => {
  // One sub-env, five steps, γ = 0.9, λ = 0.8 (γλ = 0.72). The episode terminates at t = 1 (its final
  // observation has V = 9, which must be ignored) and is truncated at t = 3 (its final observation has V = 2,
  // which must be bootstrapped from). Where no episode ends, V(s'_t) = V(s_{t+1}).
  const rollout = {
    rewards: [1, 0, 2, 1, 1],
    values: [0.5, 1, 0.2, 0.4, 0.3],
    nextValues: [1, 9, 0.4, 2, 0.6],
    terminations: [0, 1, 0, 0, 0],
    truncations: [0, 0, 0, 1, 0],
  };
  // By hand, backwards:
  //   t = 4: δ = 1 + 0.9·0.6 − 0.3 = 1.24                  A_4 = 1.24 (end of rollout: A_5 = 0)
  //   t = 3: δ = 1 + 0.9·2 − 0.4 = 2.4   (truncated)      A_3 = 2.4 (A_4 is the next episode's)
  //   t = 2: δ = 2 + 0.9·0.4 − 0.2 = 2.16                 A_2 = 2.16 + 0.72·2.4 = 3.888
  //   t = 1: δ = 0 + 0 − 1 = −1          (terminated)     A_1 = −1
  //   t = 0: δ = 1 + 0.9·1 − 0.5 = 1.4                    A_0 = 1.4 + 0.72·(−1) = 0.68
  const advantages = [0.68, -1, 3.888, 2.4, 1.24];
  const returns = advantages.map((a, t) => a + rollout.values[t]!); // [1.18, 0, 4.088, 2.8, 1.54]

  it('by hand on a trajectory with a termination and a truncation', () => {
    const out = generalizedAdvantages(rollout, 1, 5, 0.9, 0.8);
    expect(Array.from(out.advantages)).toEqual(closeTo(advantages));
    expect(Array.from(out.returns)).toEqual(closeTo(returns));
    expect(Array.from(out.returns)).toEqual(closeTo([1.18, 0, 4.088, 2.8, 1.54]));
  });

  it('reads a time-major rollout: sub-env i at index t · numEnvs + i', () => {
    // The same trajectory as sub-env 1 of two; sub-env 0 has zero rewards and values, so zero advantages.
    const interleave = (xs: number[]) => xs.flatMap((x) => [0, x]);
    const two = {
      rewards: interleave(rollout.rewards),
      values: interleave(rollout.values),
      nextValues: interleave(rollout.nextValues),
      terminations: interleave(rollout.terminations),
      truncations: interleave(rollout.truncations),
    };
    const out = generalizedAdvantages(two, 2, 5, 0.9, 0.8);
    expect(Array.from(out.advantages)).toEqual(closeTo(interleave(advantages)));
    expect(Array.from(out.returns)).toEqual(closeTo(interleave(returns)));
  });

  it('λ = 0 gives the one-step TD errors δ_t', () => {
    const { advantages: a } = generalizedAdvantages(rollout, 1, 5, 0.9, 0);
    expect(Array.from(a)).toEqual(closeTo([1.4, -1, 2.16, 2.4, 1.24]));
  });
});

describe('advantage standardisation', () => {
  it('gives mean 0 and (population) std 1', () => {
    const x = Float64Array.from([1, 2, 3, 4]);
    standardize(x);
    // mean 2.5, std √1.25: (x − 2.5) / √1.25 = ±0.4472…, ±1.3416…
    expect(Array.from(x)).toEqual(closeTo([-1.3416407865, -0.4472135955, 0.4472135955, 1.3416407865], 7));
    const mean = x.reduce((a, v) => a + v, 0) / x.length;
    const std = Math.sqrt(x.reduce((a, v) => a + (v - mean) ** 2, 0) / x.length);
    expect(mean).toBeCloseTo(0, 12);
    expect(std).toBeCloseTo(1, 7);
  });

  it('works in place on Float32Array too', () => {
    const x = Float32Array.from([2, 4]); // mean 3, std 1
    standardize(x);
    expect(Array.from(x)).toEqual(closeTo([-1, 1], 6));
  });

  it('a constant batch (or a single value) stays finite: all zeros', () => {
    const x = Float32Array.from([3, 3, 3]);
    standardize(x);
    expect(Array.from(x)).toEqual([0, 0, 0]);
    const one = Float64Array.from([5]);
    standardize(one);
    expect(Array.from(one)).toEqual([0]);
    const empty = new Float64Array(0);
    expect(() => standardize(empty)).not.toThrow();
  });
});

describe('explained variance', () => {
  it('1 − Var[R − V] / Var[R], by hand', () => {
    const returns = [1, 2, 3]; // Var = 2/3
    expect(explainedVariance([1, 2, 3], returns)).toBe(1);
    expect(explainedVariance([2, 2, 2], returns)).toBeCloseTo(0, 12); // R − V = [−1, 0, 1]: Var 2/3
    expect(explainedVariance([1.5, 2, 2.5], returns)).toBeCloseTo(0.75, 12); // R − V = [−0.5, 0, 0.5]: Var 1/6
    expect(explainedVariance([0, 1, 2], [4, 4, 4])).toBe(0); // constant returns
  });
});

describe('losses', () => {
  const read = (t: tf.Tensor) => Array.from(t.dataSync());

  it('categorical log π(a|s) and entropy, with a masked action', () => {
    tf.tidy(() => {
      // Row 0: logits [0, 0] → π = [0.5, 0.5], action 1. Row 1: logits [ln 3, 0] → π = [0.75, 0.25], action 0.
      const logits = tf.tensor2d([0, 0, Math.log(3), 0], [2, 2]);
      const { logProb, entropy } = categoricalTerms(logits, tf.tensor1d([1, 0], 'int32'), 2, null);
      expect(read(logProb)).toEqual(closeTo([Math.log(0.5), Math.log(0.75)]));
      expect(read(entropy)).toEqual(closeTo([Math.log(2), -(0.75 * Math.log(0.75) + 0.25 * Math.log(0.25))]));
      // Three equal logits with the third masked: π = [0.5, 0.5, 0], and the masked action adds 0 to H.
      const masked = categoricalTerms(tf.zeros([1, 3]), tf.tensor1d([0], 'int32'), 3, tf.tensor2d([0, 0, MASKED_LOGIT], [1, 3]));
      expect(read(masked.logProb)).toEqual(closeTo([Math.log(0.5)]));
      expect(read(masked.entropy)).toEqual(closeTo([Math.log(2)]));
    });
  });

  it('policy-gradient loss −mean(A log π) and its gradient −A/n', () => {
    const logProb = tf.tensor1d([Math.log(0.5), Math.log(0.25)]);
    const adv = tf.tensor1d([1, 2]);
    const { value, grad } = tf.valueAndGrad((lp: tf.Tensor) => policyGradientLoss(lp as tf.Tensor1D, adv))(logProb);
    // −(1·ln 0.5 + 2·ln 0.25) / 2 = −(−ln 2 − 4 ln 2) / 2 = 2.5 ln 2
    expect(value.dataSync()[0]).toBeCloseTo(2.5 * Math.log(2), 5);
    expect(read(grad)).toEqual(closeTo([-0.5, -1]));
    tf.dispose([logProb, adv, value, grad]);
  });

  it('value loss mean((V − R)²)', () => {
    tf.tidy(() => {
      // (1 − 1.5)² + (2 − 2)² + (3 − 1)² = 4.25, over 3
      expect(valueFunctionLoss(tf.tensor1d([1, 2, 3]), tf.tensor1d([1.5, 2, 1])).dataSync()[0]).toBeCloseTo(4.25 / 3, 5);
      expect(valueFunctionLoss(tf.tensor2d([1, 2, 3], [3, 1]), tf.tensor2d([1.5, 2, 1], [3, 1])).dataSync()[0]).toBeCloseTo(4.25 / 3, 5);
    });
  });

  it("PPO's clipped surrogate: value and which samples get a gradient (ε = 0.2)", () => {
    // Ratios ρ = [1.5, 0.5, 1.5, 0.5] with advantages [1, 1, −1, −1]:
    //   ρ = 1.5, A = +1: min(1.5, 1.2) = 1.2     clipped: no gradient
    //   ρ = 0.5, A = +1: min(0.5, 0.8) = 0.5     unclipped: ∂/∂log π of −ρA/4 = −0.125
    //   ρ = 1.5, A = −1: min(−1.5, −1.2) = −1.5  unclipped: −ρA/4 = 0.375
    //   ρ = 0.5, A = −1: min(−0.5, −0.8) = −0.8  clipped: no gradient
    // L = −(1.2 + 0.5 − 1.5 − 0.8) / 4 = 0.15
    const old = tf.zeros([4]) as tf.Tensor1D;
    const adv = tf.tensor1d([1, 1, -1, -1]);
    const logProb = tf.tensor1d([Math.log(1.5), Math.log(0.5), Math.log(1.5), Math.log(0.5)]);
    const { value, grad } = tf.valueAndGrad((lp: tf.Tensor) => clippedSurrogateLoss(lp as tf.Tensor1D, old, adv, 0.2))(logProb);
    expect(value.dataSync()[0]).toBeCloseTo(0.15, 5);
    expect(read(grad)).toEqual(closeTo([0, -0.125, 0.375, 0]));
    // At ρ = 1 (the first epoch) it is the policy-gradient loss up to a constant, with the same gradient −A/n.
    // (The new log-probabilities are a tensor of their own: the old ones are constants from the rollout.)
    const fresh = tf.zeros([4]);
    const same = tf.valueAndGrad((lp: tf.Tensor) => clippedSurrogateLoss(lp as tf.Tensor1D, old, adv, 0.2))(fresh);
    expect(same.value.dataSync()[0]).toBeCloseTo(0, 6); // −mean(A) = 0
    expect(read(same.grad)).toEqual(closeTo([-0.25, -0.25, 0.25, 0.25]));
    tf.dispose([old, adv, logProb, fresh, value, grad, same.value, same.grad]);
  });
});

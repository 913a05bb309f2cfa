/**
 * Policy gradients, the pieces REINFORCE and A2C share (and PPO will), readable top to bottom:
 *
 *   returns and advantages   discounted returns, GAE(λ), standardisation, explained variance (plain arrays)
 *   losses                   log π(a|s) and entropy of a masked categorical policy, the policy-gradient loss,
 *                            the value loss, PPO's clipped surrogate (tfjs, inside tf.tidy / variableGrads)
 *   categorical policies     action masks as a logit bias, the network for an observation space, forward
 *                            passes, sampling with the agent's seeded RNG
 *   Gaussian policies        log N(a; μ, σ) and entropy of a diagonal Gaussian with a state-independent log σ
 *                            (tfjs), sampling in plain arrays (PPO's continuous actions)
 *   PPO's diagnostics        the clipped value loss, approximate KL and clip fraction
 *   observation statistics   VecNormalize's ε, and `obs_normalization.json` beside a saved policy (A2C, PPO)
 *   PPO's loss in plain arrays  the whole minibatch loss with its gradient with respect to the policy outputs,
 *                            the values and log σ, written out by hand (one custom op instead of ~100 small tfjs
 *                            kernels, which dominated PPO's update time); checked against tfjs autodiff of the
 *                            functions above in test/ppo.test.ts
 *
 * Every agent writes its own loop (when to update, what it keeps, which optimizer); what is here is the
 * arithmetic they must agree on. Index conventions: an episode is indexed by t; a rollout of `nSteps` vector
 * steps over `numEnvs` sub-envs is time-major, transition (t, i) at index t · numEnvs + i.
 */
import fs from 'node:fs';
import path from 'node:path';
import { tf } from '../lab/compute.js';
import { andThen, readAndDispose, type MaybePromise } from '../lab/maybe_async.js';
import { readJson, writeJsonAtomic } from '../lab/fsutil.js';
import type { Rng, RunningMeanStd } from '../envs/index.js';
import { OBS_NORMALIZATION_FILE, OBS_NORMALIZATION_FORMAT, parseObsNormalization, type ObsNormalization } from '../protocol/saved_policy.js';
import { convSpec, mlpSpec, type Network, type NetworkSpec } from '../lab/network.js';
import type { ObservationEncoder } from './encoding.js';

// ---------------------------------------------------------------------------------------------------------
// Returns and advantages
// ---------------------------------------------------------------------------------------------------------

/**
 * Discounted returns of one episode, computed backwards:
 *
 *   G_t = r_t + γ G_{t+1},   G_T = bootstrap
 *
 * `bootstrap` is 0 for an episode that terminated (nothing follows the end) and V(s_T), the critic's value of
 * the true final observation, for one cut by a time limit: the episode would have gone on, so the missing tail
 * is estimated rather than taken as 0.
 */
export function discountedReturns(rewards: ArrayLike<number>, gamma: number, bootstrap = 0): Float64Array {
  const returns = new Float64Array(rewards.length);
  let g = bootstrap;
  for (let t = rewards.length - 1; t >= 0; t--) {
    g = rewards[t]! + gamma * g;
    returns[t] = g;
  }
  return returns;
}

/** A time-major rollout: per transition its reward, V(s_t), V(s'_t) and how the episode ended (1 or 0). */
export interface AdvantageRollout {
  rewards: ArrayLike<number>;
  values: ArrayLike<number>;
  /** V of the true next observation s'_t: the final observation where the episode ended at t. */
  nextValues: ArrayLike<number>;
  terminations: ArrayLike<number>;
  truncations: ArrayLike<number>;
}

/**
 * GAE(λ) (Schulman et al. 2016), computed backwards per sub-env:
 *
 *   δ_t = r_t + γ (1 − terminated_t) V(s'_t) − V(s_t)
 *   A_t = δ_t + γ λ (1 − done_t) A_{t+1},   done_t = terminated_t or truncated_t
 *   R_t = A_t + V(s_t)   (the critic's target)
 *
 * A terminated episode has no future, so δ does not bootstrap; a truncated one bootstraps from V of its true
 * final observation. Either way A_{t+1} belongs to the next episode (after the autoreset) and must not flow
 * back. The rollout's last step bootstraps from V(s'_t) through δ with A_{nSteps} = 0. λ = 1 gives n-step
 * returns (the original A2C), λ = 0 the one-step TD error.
 */
export function generalizedAdvantages(
  rollout: AdvantageRollout,
  numEnvs: number,
  nSteps: number,
  gamma: number,
  lambda: number,
): { advantages: Float32Array; returns: Float32Array } {
  const { rewards, values, nextValues, terminations, truncations } = rollout;
  const advantages = new Float32Array(numEnvs * nSteps);
  const returns = new Float32Array(numEnvs * nSteps);
  for (let i = 0; i < numEnvs; i++) {
    let next = 0;
    for (let t = nSteps - 1; t >= 0; t--) {
      const j = t * numEnvs + i;
      const done = terminations[j] || truncations[j];
      const delta = rewards[j]! + (terminations[j] ? 0 : gamma * nextValues[j]!) - values[j]!;
      next = delta + (done ? 0 : gamma * lambda * next);
      advantages[j] = next;
      returns[j] = next + values[j]!;
    }
  }
  return { advantages, returns };
}

/**
 * Standardises in place over the batch: x ← (x − mean) / (std + 1e-8), std the population one (as SB3 and
 * CleanRL). Keeps the step size of the policy gradient independent of the scale of the rewards; the 1e-8
 * keeps a constant batch finite (it becomes all zeros).
 */
export function standardize(x: Float32Array | Float64Array): void {
  const n = x.length;
  if (n === 0) return;
  let mean = 0;
  for (let i = 0; i < n; i++) mean += x[i]!;
  mean /= n;
  let variance = 0;
  for (let i = 0; i < n; i++) variance += (x[i]! - mean) ** 2;
  const std = Math.sqrt(variance / n);
  for (let i = 0; i < n; i++) x[i] = (x[i]! - mean) / (std + 1e-8);
}

/**
 * How much of the returns' variance the critic explains (SB3's explained_variance):
 *
 *   EV = 1 − Var[R − V] / Var[R]
 *
 * 1: perfect, 0: no better than a constant, negative: worse. 0 when the returns are constant.
 */
export function explainedVariance(values: ArrayLike<number>, returns: ArrayLike<number>): number {
  const n = returns.length;
  let mr = 0;
  let md = 0;
  for (let i = 0; i < n; i++) {
    mr += returns[i]!;
    md += returns[i]! - values[i]!;
  }
  mr /= n;
  md /= n;
  let vr = 0;
  let vd = 0;
  for (let i = 0; i < n; i++) {
    vr += (returns[i]! - mr) ** 2;
    vd += (returns[i]! - values[i]! - md) ** 2;
  }
  return vr === 0 ? 0 : 1 - vd / vr;
}

// ---------------------------------------------------------------------------------------------------------
// Losses (call inside tf.tidy / tf.variableGrads)
// ---------------------------------------------------------------------------------------------------------

/**
 * log π(a|s) of the actions taken and the entropy of π(·|s), per row of a batch of logits:
 *
 *   log π(·|s) = logSoftmax(logits + bias),   H[π(·|s)] = −Σ_a π(a|s) log π(a|s)
 *
 * `bias` is the mask bias of `maskBias` (as a [n, k] tensor): masked actions get probability exactly 0 and
 * add 0 to the entropy (0 · −1e9 is still 0), so the loss never pushes toward an action the env forbids.
 */
export function categoricalTerms(logits: tf.Tensor, actions: tf.Tensor1D, k: number, bias: tf.Tensor | null): { logProb: tf.Tensor1D; entropy: tf.Tensor1D } {
  const logp = tf.logSoftmax(bias ? tf.add(logits, bias) : logits);
  const logProb = tf.sum(tf.mul(logp, tf.oneHot(actions, k)), 1) as tf.Tensor1D;
  const entropy = tf.neg(tf.sum(tf.mul(tf.exp(logp), logp), 1)) as tf.Tensor1D;
  return { logProb, entropy };
}

/**
 * The policy-gradient loss:
 *
 *   L = −mean_t(A_t log π(a_t|s_t))
 *
 * Its gradient is the score-function estimate of −∇J: actions that did better than expected (A > 0) are
 * made more likely. The advantages are constants here (no gradient flows into the critic through them).
 */
export function policyGradientLoss(logProb: tf.Tensor1D, advantages: tf.Tensor1D): tf.Scalar {
  return tf.neg(tf.mean(tf.mul(logProb, advantages))) as tf.Scalar;
}

/**
 * PPO's clipped surrogate (Schulman et al. 2017), with ρ_t = π(a_t|s_t) / π_old(a_t|s_t) = exp(log π − log π_old):
 *
 *   L = −mean_t(min(ρ_t A_t, clip(ρ_t, 1 − ε, 1 + ε) A_t))
 *
 * The min takes the pessimistic of the two, so once the ratio has moved past 1 ± ε in the direction the
 * advantage favours, that sample's gradient is 0: a policy cannot move far from the one that collected the data
 * in one batch of updates. At ρ = 1 its gradient equals the policy-gradient loss's.
 */
export function clippedSurrogateLoss(logProb: tf.Tensor1D, oldLogProb: tf.Tensor1D, advantages: tf.Tensor1D, clipRange: number): tf.Scalar {
  const ratio = tf.exp(tf.sub(logProb, oldLogProb));
  const unclipped = tf.mul(ratio, advantages);
  const clipped = tf.mul(tf.clipByValue(ratio, 1 - clipRange, 1 + clipRange), advantages);
  return tf.neg(tf.mean(tf.minimum(unclipped, clipped))) as tf.Scalar;
}

/**
 * PPO's optionally clipped value loss (SB3's `clip_range_vf`): with a clip range c the prediction may move at
 * most c from the value V_old(s_t) that the rollout was collected with,
 *
 *   V' = V_old + clip(V − V_old, −c, c),   L_V = mean_t((V' − R_t)²)
 *
 * (SB3's form; CleanRL instead takes the larger of the clipped and unclipped squared errors). c = null: the plain
 * mean squared error.
 */
export function clippedValueLoss(values: tf.Tensor1D, oldValues: tf.Tensor1D, targets: tf.Tensor1D, clipRange: number | null): tf.Scalar {
  if (clipRange === null) return valueFunctionLoss(values, targets);
  const clipped = tf.add(oldValues, tf.clipByValue(tf.sub(values, oldValues), -clipRange, clipRange));
  return valueFunctionLoss(clipped, targets);
}

/**
 * How far one PPO minibatch moved the policy, from the log-ratios r_t = log π(a_t|s_t) − log π_old(a_t|s_t):
 *
 *   approxKl     = mean_t((e^{r_t} − 1) − r_t)    (Schulman's k3 estimator of KL(π_old ‖ π): unbiased, ≥ 0)
 *   clipFraction = mean_t(|e^{r_t} − 1| > ε)      (the share of samples whose ratio the surrogate clipped)
 *
 * Diagnostics only (no gradient is taken through them); PPO stops an update early when approxKl passes
 * 1.5 × targetKl.
 */
export function ppoDiagnostics(logProb: tf.Tensor1D, oldLogProb: tf.Tensor1D, clipRange: number): { approxKl: tf.Scalar; clipFraction: tf.Scalar } {
  const logRatio = tf.sub(logProb, oldLogProb);
  const ratio = tf.exp(logRatio);
  const approxKl = tf.mean(tf.sub(tf.sub(ratio, 1), logRatio)) as tf.Scalar;
  const clipFraction = tf.mean(tf.cast(tf.greater(tf.abs(tf.sub(ratio, 1)), clipRange), 'float32')) as tf.Scalar;
  return { approxKl, clipFraction };
}

/**
 * The critic's loss, a regression of V(s_t) on its target R_t (the return, or A_t + V(s_t) with GAE):
 *
 *   L_V = mean_t((V(s_t) − R_t)²)
 *
 * `values` and `targets` must have the same shape.
 */
export function valueFunctionLoss(values: tf.Tensor, targets: tf.Tensor): tf.Scalar {
  return tf.mean(tf.square(tf.sub(values, targets))) as tf.Scalar;
}

// ---------------------------------------------------------------------------------------------------------
// Categorical policies: masks, networks, sampling
// ---------------------------------------------------------------------------------------------------------

/** The logit given to masked-out actions: exp underflows to exactly 0, and 0 · logit stays finite. */
export const MASKED_LOGIT = -1e9;

/**
 * Per-row additive logit bias from action masks (1 = allowed): 0 for allowed actions, MASKED_LOGIT for the
 * others; rows that allow nothing are left unmasked. Null when there are no masks or nothing is masked.
 */
export function maskBias(masks: ArrayLike<number> | null | undefined, n: number, k: number): Float32Array | null {
  if (!masks) return null;
  const bias = new Float32Array(n * k);
  let any = false;
  for (let i = 0; i < n; i++) {
    let allowed = 0;
    for (let a = 0; a < k; a++) allowed += masks[i * k + a] === 1 ? 1 : 0;
    if (allowed === 0 || allowed === k) continue;
    for (let a = 0; a < k; a++) if (masks[i * k + a] !== 1) bias[i * k + a] = MASKED_LOGIT;
    any = true;
  }
  return any ? bias : null;
}

/**
 * A policy (or value) network for the observation space: a conv net for [H, W, C] planes, else an MLP.
 * `outputScale` shrinks the last layer's initial weights (0.01 for a policy: a near-uniform first policy).
 */
export function policySpec(encoder: ObservationEncoder, hidden: number[], outputs: number, activation: 'tanh' | 'relu', outputScale?: number): NetworkSpec {
  return encoder.image ? convSpec(encoder.inputShape, [32, 64], hidden, outputs, outputScale) : mlpSpec(encoder.inputSize, hidden, outputs, activation, outputScale);
}

/**
 * Network outputs for `n` raw observation rows, read back (a [n, outputs] row-major array): at once where the
 * backend reads synchronously, else a Promise.
 */
export function forward(net: Network, encoder: ObservationEncoder, obs: ArrayLike<number>, n: number): MaybePromise<Float32Array> {
  const x = encoder.encode(obs, n);
  return readAndDispose(tf.tidy(() => net.apply(tf.tensor(x, [n, ...encoder.inputShape]))));
}

/** π(·|s) = softmax(logits + mask bias) for `n` raw observation rows, computed in tfjs and read back. */
export function policyProbabilities(net: Network, encoder: ObservationEncoder, obs: ArrayLike<number>, n: number, bias: Float32Array | null): MaybePromise<Float32Array> {
  const x = encoder.encode(obs, n);
  const out = tf.tidy(() => {
    const logits = net.apply(tf.tensor(x, [n, ...encoder.inputShape]));
    return tf.softmax(bias ? tf.add(logits, tf.tensor(bias, logits.shape)) : logits);
  });
  return readAndDispose(out);
}

/** Samples each row of `probs` with `rng` (null: argmax), never choosing a masked action. */
export function chooseActions(probs: Float32Array, n: number, k: number, rng: Rng | null, bias: Float32Array | null): Int32Array {
  const actions = new Int32Array(n);
  const weights = new Float64Array(k);
  for (let i = 0; i < n; i++) {
    for (let a = 0; a < k; a++) weights[a] = bias && bias[i * k + a] !== 0 ? 0 : probs[i * k + a]!;
    if (rng) {
      actions[i] = rng.categorical(weights);
    } else {
      let best = -1;
      for (let a = 0; a < k; a++) {
        if (bias && bias[i * k + a] !== 0) continue;
        if (best < 0 || weights[a]! > weights[best]!) best = a;
      }
      actions[i] = best;
    }
  }
  return actions;
}

/** Actions for `n` observation rows from a logits network: a ~ π(·|s) with `rng`, or argmax when it is null. */
export function samplePolicy(
  net: Network,
  encoder: ObservationEncoder,
  obs: ArrayLike<number>,
  n: number,
  k: number,
  rng: Rng | null,
  actionMasks?: Int8Array | null,
): MaybePromise<Int32Array> {
  const bias = maskBias(actionMasks, n, k);
  return andThen(policyProbabilities(net, encoder, obs, n, bias), (probs) => chooseActions(probs, n, k, rng, bias));
}

// ---------------------------------------------------------------------------------------------------------
// Diagonal Gaussian policies (continuous actions)
// ---------------------------------------------------------------------------------------------------------

const HALF_LOG_2PI = 0.5 * Math.log(2 * Math.PI);

/**
 * log π(a|s) and entropy of a diagonal Gaussian π(·|s) = N(μ(s), diag(σ²)) with a state-independent log σ
 * (one learned number per action dimension), per row of a batch:
 *
 *   log π(a|s) = Σ_d [ −(a_d − μ_d)² / (2 σ_d²) − log σ_d − ½ log 2π ]
 *   H[π(·|s)]  = Σ_d [ ½ + ½ log 2π + log σ_d ]
 *
 * `mean` and `actions` are [n, d], `logStd` is [d]. The actions are the unclipped samples (the env clips them
 * at its boundary), so their log-probability is the one the sampler drew them with.
 */
export function gaussianTerms(mean: tf.Tensor, logStd: tf.Tensor, actions: tf.Tensor): { logProb: tf.Tensor1D; entropy: tf.Tensor1D } {
  const z = tf.mul(tf.sub(actions, mean), tf.exp(tf.neg(logStd)));
  const perDim = tf.sub(tf.mul(tf.square(z), -0.5), tf.add(logStd, HALF_LOG_2PI));
  const logProb = tf.sum(perDim, 1) as tf.Tensor1D;
  const perRow = tf.sum(tf.add(logStd, 0.5 + HALF_LOG_2PI));
  const entropy = tf.mul(tf.onesLike(logProb), perRow) as tf.Tensor1D;
  return { logProb, entropy };
}

/** The same log-density in plain arrays (float64), for checks and tests: n rows of d. */
export function gaussianLogProb(mean: ArrayLike<number>, logStd: ArrayLike<number>, actions: ArrayLike<number>, n: number, d: number): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let k = 0; k < d; k++) {
      const z = (actions[i * d + k]! - mean[i * d + k]!) / Math.exp(logStd[k]!);
      s += -0.5 * z * z - logStd[k]! - HALF_LOG_2PI;
    }
    out[i] = s;
  }
  return out;
}

/** a = μ + σ ⊙ ξ, ξ ~ N(0, I) drawn from `rng` row by row (null: the mean, the greedy action); n rows of d. */
export function sampleGaussian(mean: Float32Array, logStd: ArrayLike<number>, n: number, d: number, rng: Rng | null): Float32Array {
  const actions = new Float32Array(n * d);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < d; k++) actions[i * d + k] = rng ? mean[i * d + k]! + Math.exp(logStd[k]!) * rng.normal() : mean[i * d + k]!;
  }
  return actions;
}

// ---------------------------------------------------------------------------------------------------------
// Observation statistics (VecNormalize, A2C and PPO)
// ---------------------------------------------------------------------------------------------------------

/** ε inside √(σ² + ε) of the observation and return statistics, as Gymnasium and SB3. */
export const NORM_EPSILON = 1e-8;

/** Writes `obs_normalization.json` beside a saved policy: what `lab eval`, `lab watch` and the browser apply first. */
export function writeObsNormalization(dir: string, obsRms: RunningMeanStd, clip: number): void {
  writeJsonAtomic(path.join(dir, OBS_NORMALIZATION_FILE), { format: OBS_NORMALIZATION_FORMAT, ...obsRms.toJSON(), epsilon: NORM_EPSILON, clip });
}

/** Reads `obs_normalization.json` of a policy directory (format: protocol/saved_policy.ts); null when the policy has none. */
export function readObsNormalization(dir: string): ObsNormalization | null {
  const file = path.join(dir, OBS_NORMALIZATION_FILE);
  if (!fs.existsSync(file)) return null;
  return parseObsNormalization(readJson<unknown>(file, 'observation normalisation'), file);
}

// ---------------------------------------------------------------------------------------------------------
// PPO's minibatch loss and its gradient, in plain arrays
// ---------------------------------------------------------------------------------------------------------

/** One minibatch of m transitions, as PPO's loss needs it. */
export interface PPOMinibatch {
  m: number;
  /** Discrete: action indices; Box: m rows of the unclipped sampled actions. */
  actions: ArrayLike<number>;
  oldLogProb: ArrayLike<number>;
  advantages: ArrayLike<number>;
  returns: ArrayLike<number>;
  oldValues: ArrayLike<number>;
  /** Discrete only: the mask bias of `maskBias` for these rows (m × k), or null. */
  bias: ArrayLike<number> | null;
}

export interface PPOLossOptions {
  clipRange: number;
  clipRangeVf: number | null;
  vfCoef: number;
  entCoef: number;
}

/** The loss, its parts and diagnostics, and ∂loss/∂(policy outputs, values, log σ). */
export interface PPOLossResult {
  /** policyLoss + vfCoef · valueLoss − entCoef · entropy */
  loss: number;
  policyLoss: number;
  valueLoss: number;
  /** mean H[π(·|s)] */
  entropy: number;
  approxKl: number;
  clipFraction: number;
  /** ∂loss/∂logits (Discrete) or ∂loss/∂μ (Box), m rows. */
  gradPolicy: Float32Array;
  gradValues: Float32Array;
  /** Box only: ∂loss/∂log σ. */
  gradLogStd: Float32Array | null;
}

/**
 * PPO's loss for one minibatch, with the same definitions as `clippedSurrogateLoss`, `clippedValueLoss`,
 * `categoricalTerms` / `gaussianTerms` and `ppoDiagnostics`, and its gradient written out. With
 * ρ_i = exp(log π_i − log π_old,i) and g_i = ∂L_clip/∂log π_i:
 *
 *   g_i = −ρ_i A_i / m   where ρ_i A_i ≤ clip(ρ_i, 1 ± ε) A_i (the unclipped term is the min), else 0
 *   Discrete (logits z, p = softmax(z + bias)):  ∂log π(a)/∂z_j = 1[j = a] − p_j,
 *                                                ∂H/∂z_j = −p_j (log p_j + H)
 *   Box (μ, log σ = s):  ∂log π/∂μ_d = (a_d − μ_d) / σ_d²,  ∂log π/∂s_d = z_d² − 1,  ∂H/∂s_d = 1
 *   Value:  ∂L_V/∂V_i = 2 (V'_i − R_i) / m, times 0 where value clipping is active (|V_i − V_old,i| > c)
 *
 * Ties follow tfjs's gradients (minimum passes to its first argument on equality; clipping passes inside the
 * closed interval), so the result equals tfjs's autodiff of those functions.
 */
export function ppoLoss(
  policy: ArrayLike<number>,
  values: ArrayLike<number>,
  logStd: ArrayLike<number> | null,
  width: number,
  batch: PPOMinibatch,
  o: PPOLossOptions,
): PPOLossResult {
  const { m, actions, oldLogProb, advantages, returns, oldValues, bias } = batch;
  const gradPolicy = new Float32Array(m * width);
  const gradValues = new Float32Array(m);
  const gradLogStd = logStd ? new Float64Array(width) : null;
  let surrogate = 0;
  let valueSq = 0;
  let entropySum = 0;
  let kl = 0;
  let clipped = 0;
  const p = new Float64Array(width);
  const logp = new Float64Array(width);
  // A Gaussian's entropy does not depend on the state: Σ_d (½ + ½ log 2π + s_d).
  let gaussianEntropy = 0;
  if (logStd) for (let d = 0; d < width; d++) gaussianEntropy += 0.5 + HALF_LOG_2PI + logStd[d]!;
  for (let i = 0; i < m; i++) {
    // log π(a_i|s_i), and for a categorical policy its softmax p, log p and entropy.
    let logProb: number;
    let entropy: number;
    if (logStd) {
      logProb = 0;
      for (let d = 0; d < width; d++) {
        const z = (actions[i * width + d]! - policy[i * width + d]!) / Math.exp(logStd[d]!);
        logProb += -0.5 * z * z - logStd[d]! - HALF_LOG_2PI;
      }
      entropy = gaussianEntropy;
    } else {
      let max = -Infinity;
      for (let j = 0; j < width; j++) {
        p[j] = policy[i * width + j]! + (bias ? bias[i * width + j]! : 0);
        if (p[j]! > max) max = p[j]!;
      }
      let sum = 0;
      for (let j = 0; j < width; j++) sum += Math.exp(p[j]! - max);
      const logSum = max + Math.log(sum);
      entropy = 0;
      for (let j = 0; j < width; j++) {
        logp[j] = p[j]! - logSum;
        p[j] = Math.exp(logp[j]!);
        entropy -= p[j]! * logp[j]!;
      }
      logProb = logp[actions[i]!]!;
    }
    const logRatio = logProb - oldLogProb[i]!;
    const ratio = Math.exp(logRatio);
    const A = advantages[i]!;
    const clippedRatio = Math.min(1 + o.clipRange, Math.max(1 - o.clipRange, ratio));
    const unclippedTerm = ratio * A;
    const clippedTerm = clippedRatio * A;
    surrogate += Math.min(unclippedTerm, clippedTerm);
    entropySum += entropy;
    kl += ratio - 1 - logRatio;
    if (Math.abs(ratio - 1) > o.clipRange) clipped++;
    // ∂L/∂log π_i from the surrogate (−mean min(...)).
    const g = unclippedTerm <= clippedTerm ? (-ratio * A) / m : 0;
    if (logStd) {
      for (let d = 0; d < width; d++) {
        const sigma2 = Math.exp(2 * logStd[d]!);
        const diff = actions[i * width + d]! - policy[i * width + d]!;
        gradPolicy[i * width + d] = (g * diff) / sigma2;
        gradLogStd![d] = gradLogStd![d]! + g * ((diff * diff) / sigma2 - 1);
      }
    } else {
      const a = actions[i]!;
      for (let j = 0; j < width; j++) {
        const dLogProb = (j === a ? 1 : 0) - p[j]!;
        const dEntropy = -p[j]! * (logp[j]! + entropy);
        // A masked action has p = 0: no gradient reaches its logit.
        gradPolicy[i * width + j] = g * dLogProb - (o.entCoef / m) * (p[j] === 0 ? 0 : dEntropy);
      }
    }
    // Value loss (optionally clipped around V_old).
    let v = values[i]!;
    let pass = 1;
    if (o.clipRangeVf !== null) {
      const delta = v - oldValues[i]!;
      if (delta > o.clipRangeVf || delta < -o.clipRangeVf) pass = 0;
      v = oldValues[i]! + Math.min(o.clipRangeVf, Math.max(-o.clipRangeVf, delta));
    }
    const err = v - returns[i]!;
    valueSq += err * err;
    gradValues[i] = pass ? (o.vfCoef * 2 * err) / m : 0;
  }
  if (gradLogStd) for (let d = 0; d < width; d++) gradLogStd[d] = gradLogStd[d]! - o.entCoef;
  const policyLoss = -surrogate / m;
  const valueLoss = valueSq / m;
  const entropy = entropySum / m;
  return {
    loss: policyLoss + o.vfCoef * valueLoss - o.entCoef * entropy,
    policyLoss,
    valueLoss,
    entropy,
    approxKl: kl / m,
    clipFraction: clipped / m,
    gradPolicy,
    gradValues,
    gradLogStd: gradLogStd ? Float32Array.from(gradLogStd) : null,
  };
}

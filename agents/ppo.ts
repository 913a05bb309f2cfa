/**
 * PPO, proximal policy optimisation with the clipped surrogate (Schulman et al. 2017), with the core
 * implementation details of Huang et al. 2022 ("The 37 Implementation Details of PPO") as Stable-Baselines3
 * and CleanRL run it, readable top to bottom:
 *
 *   act:      (optionally) fold the observations into the running mean/variance and normalise them, clip ±clipObs;
 *             Discrete: a ~ softmax(logits + mask bias) with the agent's seeded RNG, greedy = argmax (masked
 *             actions get a logit of −1e9, in sampling and in the loss, as SB3's MaskablePPO);
 *             Box: a ~ N(μ(s), diag σ²) with a state-independent log σ, greedy = μ. The unclipped sample is what
 *             PPO stores (the env clips it to its bounds); its log-probability is the one it was drawn with
 *   observe:  store the vector step (normalised inputs, rewards scaled by the running std of the discounted
 *             return when normalizeReward, clipped ±clipReward) in a rollout of nSteps × numEnvs; when full, update
 *   update:   one batched forward pass with the parameters that collected the rollout gives V(s_t), V(s'_t) (s' the
 *             true next observation: the final one where an episode ended) and log π_old(a_t|s_t); GAE(λ)
 *               δ_t = r_t + γ (1 − terminated_t) V(s'_t) − V(s_t),   A_t = δ_t + γ λ (1 − done_t) A_{t+1}
 *             (truncated episodes bootstrap from V(final obs)); returns R_t = A_t + V(s_t). Then nEpochs passes
 *             over the rollout in minibatches of batchSize, reshuffled each epoch with the agent's RNG:
 *               A ← (A − mean) / (std + 1e-8) per minibatch (normalizeAdvantage)
 *               ρ = π(a|s) / π_old(a|s)
 *               loss = −mean(min(ρ A, clip(ρ, 1 ± ε) A)) + vfCoef · mean((V' − R)²) − entCoef · mean(H[π])
 *             with V' = V_old + clip(V − V_old, ±clipRangeVf) when value clipping is on; the global gradient norm
 *             clipped to maxGradNorm; Adam with ε 1e-5. Learning rate and ε fall linearly to 0 over the run
 *             when annealed. With a targetKl, the update stops at the first minibatch whose approximate KL
 *             mean((ρ − 1) − log ρ) exceeds 1.5 × targetKl (SB3's rule).
 *
 * Networks: separate actor and critic MLPs (SB3's MlpPolicy) or a shared trunk with a policy head and a value
 * head (shareNetwork); orthogonal initialisation (hidden gain √2, policy head 0.01, value head 1, zero biases).
 * Logged per update: policy and value loss, entropy, approximate KL, clip fraction, explained variance, gradient
 * norm, learning rate, clip range, epochs run and (Box) the mean σ.
 *
 * The agent owns its normalisation statistics (RunningMeanStd, shared with envs/normalize.ts's wrappers): they are
 * saved with checkpoints (a resume continues exactly) and beside the policy (`obs_normalization.json`, which
 * `lab eval` applies). Episode returns in the metrics are the env's raw ones.
 *
 * Speed: acting is one forward pass per vector step; an update is one forward pass for the whole rollout, then
 * per minibatch one tfjs gradient and the lab's FusedAdam (moments and clipping in one JS loop, saved exactly).
 */
import path from 'node:path';
import { readTensor, syncReads, tf } from '../lab/compute.js';
import { andThen, drive, readAndDispose, type MaybePromise } from '../lab/maybe_async.js';
import { Box, DiscountedReturnScaler, Rng, RunningMeanStd, normalizeRows, type ReturnScalerState, type RunningMeanStdState, type TypedArray } from '../envs/index.js';
import { readJson, writeJsonAtomic } from '../lab/fsutil.js';
import { Network, mlpSpec, orthogonalWeights, type NetworkSpec } from '../lab/network.js';
import { FusedAdam, readNorm } from '../lab/optim.js';
import { discreteActions, observationEncoder, type ObservationEncoder } from './encoding.js';
import {
  categoricalTerms,
  chooseActions,
  explainedVariance,
  gaussianTerms,
  generalizedAdvantages,
  maskBias,
  NORM_EPSILON,
  policySpec,
  ppoLoss,
  sampleGaussian,
  standardize,
  type PPOLossOptions,
  type PPOLossResult,
  type PPOMinibatch,
  writeObsNormalization,
} from './policy_gradient.js';
import type { ActionBatch, Agent, AgentSetup, StepBatch, UpdateStats } from './agent.js';
import { OBS_NORMALIZATION_FILE, type ObsNormalization } from '../protocol/saved_policy.js';

// Where a saved PPO policy keeps the observation statistics its inputs were normalised with (the format is
// protocol/saved_policy.ts's, so pages that run a saved policy read it too).
export { OBS_NORMALIZATION_FILE, type ObsNormalization };

export interface PPOConfig {
  /** Sub-envs stepped side by side. */
  numEnvs: number;
  /** Vector steps per rollout (one update per rollout of nSteps × numEnvs transitions). */
  nSteps: number;
  /** Transitions per minibatch (the last one of an epoch may be smaller). */
  batchSize: number;
  /** Passes over each rollout. */
  nEpochs: number;
  /** Discount factor (also the discount of the returns whose std scales rewards under normalizeReward). */
  gamma: number;
  /** GAE λ. */
  gaeLambda: number;
  /** ε of the clipped surrogate: the ratio π/π_old is clipped to [1 − ε, 1 + ε]. */
  clipRange: number;
  /** Value clipping: V may move at most this far from the rollout's V_old (null: no value clipping). */
  clipRangeVf: number | null;
  /** Adam's learning rate (its start value when annealed). */
  learningRate: number;
  /** Anneal the learning rate linearly to 0 over the run (rl-zoo's `lin_` schedules). */
  linearLrDecay: boolean;
  /** Anneal the clip range linearly to 0 over the run. */
  linearClipDecay: boolean;
  /** Adam's ε (1e-5, as SB3 and CleanRL; PyTorch's default 1e-8 is less stable here). */
  epsilon: number;
  /** Weight of the entropy bonus. */
  entCoef: number;
  /** Weight of the value loss. */
  vfCoef: number;
  /** Clip the global gradient norm to this (null: no clipping). */
  maxGradNorm: number | null;
  /** Stop an update once a minibatch's approximate KL exceeds 1.5 × this (null: never). */
  targetKl: number | null;
  /** Standardise advantages per minibatch. */
  normalizeAdvantage: boolean;
  /** Hidden layer sizes (of the actor and of the critic, or of the shared trunk). */
  hidden: number[];
  /** Activation of the hidden layers. */
  activation: 'tanh' | 'relu';
  /** One trunk with a policy head and a value head, instead of separate actor and critic networks. */
  shareNetwork: boolean;
  /** Orthogonal initialisation (gains √2 hidden, 0.01 policy head, 1 value head) instead of Glorot. */
  orthoInit: boolean;
  /** Initial log σ of the Gaussian policy (Box actions). */
  logStdInit: number;
  /** Normalise observations by their running mean and variance. */
  normalizeObservation: boolean;
  /** Scale rewards by the running std of the discounted return. */
  normalizeReward: boolean;
  /** Normalised observations are clipped to ±clipObs. */
  clipObs: number;
  /** Scaled rewards are clipped to ±clipReward. */
  clipReward: number;
}

/** Stable-Baselines3's PPO defaults (ppo/ppo.py, common/policies.py), on one env. */
export const PPO_DEFAULTS: PPOConfig = {
  numEnvs: 1,
  nSteps: 2048,
  batchSize: 64,
  nEpochs: 10,
  gamma: 0.99,
  gaeLambda: 0.95,
  clipRange: 0.2,
  clipRangeVf: null,
  learningRate: 3e-4,
  linearLrDecay: false,
  linearClipDecay: false,
  epsilon: 1e-5,
  entCoef: 0,
  vfCoef: 0.5,
  maxGradNorm: 0.5,
  targetKl: null,
  normalizeAdvantage: true,
  hidden: [64, 64],
  activation: 'tanh',
  shareNetwork: false,
  orthoInit: true,
  logStdInit: 0,
  normalizeObservation: false,
  normalizeReward: false,
  clipObs: 10,
  clipReward: 10,
};

/** The rollout in progress, preallocated (time-major: transition (t, i) at row t · numEnvs + i). */
interface Rollout {
  /** Vector steps stored so far. */
  t: number;
  /** Network inputs (encoded, normalised) of s_t and of the true next observation s'_t. */
  inputs: Float32Array;
  nextInputs: Float32Array;
  /** Discrete: the action index; Box: the unclipped sample (actionSize per row). */
  actions: Float32Array;
  /** Rewards as learnt from (scaled and clipped under normalizeReward). */
  rewards: Float64Array;
  terminations: Uint8Array;
  truncations: Uint8Array;
  /** Action masks of s_t (k per row, 1 = allowed), or null when the env gives none. */
  masks: Int8Array | null;
}

interface SavedRollout {
  t: number;
  inputs: number[];
  nextInputs: number[];
  actions: number[];
  rewards: number[];
  terminations: number[];
  truncations: number[];
  masks: number[] | null;
}

interface SavedState {
  name: string;
  updates: number;
  lastEntropy: number | null;
  rng: ReturnType<Rng['toJSON']>;
  rollout: SavedRollout;
  logStd: number[] | null;
  obsRms: RunningMeanStdState | null;
  returnScaler: ReturnScalerState | null;
}

/** A [n, d] tensor of the rows `index[from, from + m)` of a row-major array with `d` values per row. */
function gatherRows(src: ArrayLike<number>, d: number, index: Int32Array, from: number, m: number, out: Float32Array): Float32Array {
  for (let r = 0; r < m; r++) {
    const s = index[from + r]! * d;
    for (let k = 0; k < d; k++) out[r * d + k] = src[s + k]!;
  }
  return out;
}

let logStdCounter = 0;

export class PPO implements Agent {
  readonly name = 'ppo';
  readonly numEnvs: number;
  readonly config: PPOConfig;
  private readonly encoder: ObservationEncoder;
  /** Discrete: the number of actions (k); Box: 0. */
  private readonly nActions: number;
  /** Box: values per action (d); Discrete: 1. */
  private readonly actionSize: number;
  private readonly continuous: boolean;
  /** Separate networks: the actor's layers; shared: the trunk (its output feeds both heads). */
  private readonly body: Network;
  /** Shared network only: the policy and value heads (one dense layer each). Separate: the critic is `valueNet`. */
  private readonly policyHead: Network | null;
  private readonly valueNet: Network;
  private readonly logStd: tf.Variable | null;
  private logStdValues: Float32Array;
  private readonly optimizer: FusedAdam;
  private readonly totalSteps: number;
  private readonly obsRms: RunningMeanStd | null;
  private readonly returnScaler: DiscountedReturnScaler | null;
  private rng: Rng;
  private rollout: Rollout;
  private updates = 0;
  private lastEntropy: number | null = null;

  constructor(setup: AgentSetup, config: PPOConfig) {
    checkConfig(config);
    this.config = config;
    this.numEnvs = config.numEnvs;
    this.totalSteps = setup.totalSteps;
    this.encoder = observationEncoder(setup.observationSpace);
    this.continuous = setup.actionSpace instanceof Box;
    if (this.continuous) {
      this.nActions = 0;
      this.actionSize = (setup.actionSpace as Box).size;
    } else {
      this.nActions = discreteActions(setup.actionSpace);
      this.actionSize = 1;
    }
    const outputs = this.continuous ? this.actionSize : this.nActions;
    this.rng = new Rng(setup.seed);
    const rng = this.rng;
    const c = config;
    const build = (spec: NetworkSpec, gain: number): Network => new Network(spec, c.orthoInit ? orthogonalWeights(spec, rng, gain) : rng);
    if (c.shareNetwork) {
      const full = policySpec(this.encoder, c.hidden, outputs, c.activation);
      const trunk: NetworkSpec = { inputShape: full.inputShape, layers: full.layers.slice(0, -1) };
      const features = c.hidden.at(-1)!;
      this.body = build(trunk, Math.SQRT2);
      this.policyHead = build(mlpSpec(features, [], outputs, 'linear', c.orthoInit ? undefined : 0.01), 0.01);
      this.valueNet = build(mlpSpec(features, [], 1, 'linear'), 1);
    } else {
      this.body = build(policySpec(this.encoder, c.hidden, outputs, c.activation, c.orthoInit ? undefined : 0.01), 0.01);
      this.policyHead = null;
      this.valueNet = build(policySpec(this.encoder, c.hidden, 1, c.activation), 1);
    }
    this.logStdValues = new Float32Array(this.continuous ? this.actionSize : 0).fill(c.logStdInit);
    if (this.continuous) {
      const initial = tf.tensor1d(this.logStdValues);
      this.logStd = tf.variable(initial, true, `ppo${logStdCounter++}/logStd`);
      initial.dispose();
    } else {
      this.logStd = null;
    }
    this.optimizer = new FusedAdam(this.variables(), { learningRate: c.learningRate, epsilon: c.epsilon });
    this.obsRms = c.normalizeObservation ? new RunningMeanStd(this.encoder.inputSize) : null;
    this.returnScaler = c.normalizeReward ? new DiscountedReturnScaler(c.numEnvs, c.gamma, NORM_EPSILON) : null;
    this.rollout = this.emptyRollout();
  }

  private variables(): tf.Variable[] {
    return [...this.body.variables, ...(this.policyHead?.variables ?? []), ...this.valueNet.variables, ...(this.logStd ? [this.logStd] : [])];
  }

  private emptyRollout(): Rollout {
    const rows = this.config.nSteps * this.numEnvs;
    const w = this.encoder.inputSize;
    return {
      t: 0,
      inputs: new Float32Array(rows * w),
      nextInputs: new Float32Array(rows * w),
      actions: new Float32Array(rows * this.actionSize),
      rewards: new Float64Array(rows),
      terminations: new Uint8Array(rows),
      truncations: new Uint8Array(rows),
      masks: null,
    };
  }

  /** Network inputs for `n` raw observation rows: encoded, then normalised and clipped when configured. */
  private inputs(obs: ArrayLike<number>, n: number, updateStats: boolean): Float32Array {
    const x = this.encoder.encode(obs, n);
    if (!this.obsRms) return x;
    if (updateStats) this.obsRms.update(x, n);
    return normalizeRows(this.obsRms, x, n, NORM_EPSILON, this.config.clipObs, x);
  }

  /** Policy outputs (logits or Gaussian means) and, when asked, values, for an input tensor; inside tf.tidy. */
  private heads(x: tf.Tensor, withValues: boolean): { policy: tf.Tensor; values: tf.Tensor1D | null } {
    const n = x.shape[0]!;
    if (this.policyHead) {
      const features = this.body.apply(x);
      return { policy: this.policyHead.apply(features), values: withValues ? (tf.reshape(this.valueNet.apply(features), [n]) as tf.Tensor1D) : null };
    }
    return { policy: this.body.apply(x), values: withValues ? (tf.reshape(this.valueNet.apply(x), [n]) as tf.Tensor1D) : null };
  }

  /** log π(a|s) and entropy per row, for policy outputs and taken actions; inside tf.tidy. */
  private terms(policy: tf.Tensor, actions: Float32Array, n: number, bias: Float32Array | null): { logProb: tf.Tensor1D; entropy: tf.Tensor1D } {
    if (this.continuous) return gaussianTerms(policy, this.logStd!, tf.tensor2d(actions, [n, this.actionSize]));
    return categoricalTerms(policy, tf.tensor1d(Int32Array.from(actions), 'int32'), this.nActions, bias ? tf.tensor2d(bias, [n, this.nActions]) : null);
  }

  private tensor(x: Float32Array, n: number): tf.Tensor {
    return tf.tensor(x, [n, ...this.encoder.inputShape]);
  }

  act(obs: TypedArray, n: number, explore: boolean, actionMasks?: Int8Array | null): MaybePromise<ActionBatch> {
    // Exploring means training: the observations the policy acts on join the running statistics first (as
    // VecNormalize does on each step); greedy evaluation only reads them.
    const x = this.inputs(obs, n, explore);
    const bias = this.continuous ? null : maskBias(actionMasks, n, this.nActions);
    const out = tf.tidy(() => {
      const { policy } = this.heads(this.tensor(x, n), false);
      return this.continuous ? policy : tf.softmax(bias ? tf.add(policy, tf.tensor2d(bias, [n, this.nActions])) : policy);
    });
    return andThen(readAndDispose(out), (values) =>
      this.continuous ? sampleGaussian(values, this.logStdValues, n, this.actionSize, explore ? this.rng : null) : chooseActions(values, n, this.nActions, explore ? this.rng : null, bias),
    );
  }

  /** π(·|s) of a Discrete policy for `n` raw observation rows (masked actions get 0), without touching statistics. */
  probabilities(obs: ArrayLike<number>, n: number, actionMasks?: Int8Array | null): MaybePromise<Float32Array> {
    if (this.continuous) throw new Error('ppo: probabilities() is for Discrete action spaces; this policy is Gaussian');
    const x = this.inputs(obs, n, false);
    const bias = maskBias(actionMasks, n, this.nActions);
    const out = tf.tidy(() => {
      const { policy } = this.heads(this.tensor(x, n), false);
      return tf.softmax(bias ? tf.add(policy, tf.tensor2d(bias, [n, this.nActions])) : policy);
    });
    return readAndDispose(out);
  }

  /** The critic's V(s) for `n` raw observation rows. */
  values(obs: ArrayLike<number>, n: number): MaybePromise<Float32Array> {
    const x = this.inputs(obs, n, false);
    return readAndDispose(tf.tidy(() => this.heads(this.tensor(x, n), true).values!));
  }

  /** The Gaussian policy's σ per action dimension (Box actions only). */
  get actionStd(): Float32Array {
    return this.logStdValues.map(Math.exp);
  }

  observe(batch: StepBatch, step: number): MaybePromise<UpdateStats | null> {
    const r = this.rollout;
    const n = this.numEnvs;
    if (batch.actions.length !== n * this.actionSize) throw new Error(`ppo: expected ${n * this.actionSize} actions in a step of ${n} sub-envs, got ${batch.actions.length}`);
    const w = this.encoder.inputSize;
    const row = r.t * n;
    // The statistics already hold batch.obs (act folded it in), so this reproduces the inputs the policy saw.
    r.inputs.set(this.inputs(batch.obs, n, false), row * w);
    r.nextInputs.set(this.inputs(batch.nextObs, n, false), row * w);
    r.actions.set(batch.actions, row * this.actionSize);
    r.rewards.set(this.returnScaler ? this.returnScaler.scale(batch.rewards, batch.terminations, true, this.config.clipReward) : batch.rewards, row);
    r.terminations.set(batch.terminations, row);
    r.truncations.set(batch.truncations, row);
    if (batch.actionMasks && !this.continuous) {
      r.masks ??= new Int8Array(r.rewards.length * this.nActions).fill(1);
      r.masks.set(batch.actionMasks, row * this.nActions);
    }
    r.t++;
    if (r.t < this.config.nSteps) return null;
    const stats = this.update(r, step);
    this.rollout = this.emptyRollout();
    return stats;
  }

  private update(r: Rollout, step: number): MaybePromise<UpdateStats> {
    const n = r.rewards.length;
    const w = this.encoder.inputSize;
    const bias = this.continuous ? null : maskBias(r.masks, n, this.nActions);

    // V(s_t), V(s'_t) and log π_old(a_t|s_t) in one pass, with the parameters that collected the rollout.
    const both = new Float32Array(2 * n * w);
    both.set(r.inputs);
    both.set(r.nextInputs, n * w);
    const old = tf.tidy(() => {
      const x = this.tensor(both, 2 * n);
      // The policy is needed on s_t only, the values on s_t and s'_t.
      let policy: tf.Tensor;
      let values: tf.Tensor1D;
      if (this.policyHead) {
        const features = this.body.apply(x);
        policy = this.policyHead.apply(tf.slice(features, 0, n));
        values = tf.reshape(this.valueNet.apply(features), [2 * n]) as tf.Tensor1D;
      } else {
        policy = this.body.apply(tf.slice(x, 0, n));
        values = tf.reshape(this.valueNet.apply(x), [2 * n]) as tf.Tensor1D;
      }
      const { logProb } = this.terms(policy, r.actions, n, bias);
      return tf.concat([values, logProb]);
    });
    return andThen(readAndDispose(old), (oldData) => drive(this.epochs(r, step, bias, oldData)));
  }

  /** The update's epochs of minibatch steps after the rollout's values and log-probabilities came back. */
  private *epochs(r: Rollout, step: number, bias: Float32Array | null, oldData: Float32Array): Generator<MaybePromise<MinibatchResult | null | Float32Array>, UpdateStats, MinibatchResult | null | Float32Array> {
    const c = this.config;
    const n = r.rewards.length;
    const w = this.encoder.inputSize;
    const k = this.nActions;
    const values = oldData.subarray(0, n);
    const nextValues = oldData.subarray(n, 2 * n);
    const oldLogProb = oldData.subarray(2 * n, 3 * n);
    const { advantages, returns } = generalizedAdvantages({ ...r, values, nextValues }, this.numEnvs, r.t, c.gamma, c.gaeLambda);

    // SB3's schedules: progress remaining = 1 − steps so far / total, taken once per update.
    const remaining = Math.max(0, 1 - step / this.totalSteps);
    const learningRate = c.learningRate * (c.linearLrDecay ? remaining : 1);
    const clipRange = c.clipRange * (c.linearClipDecay ? remaining : 1);
    this.optimizer.learningRate = learningRate;
    const lossOptions: PPOLossOptions = { clipRange, clipRangeVf: c.clipRangeVf, vfCoef: c.vfCoef, entCoef: c.entCoef };

    const m = Math.min(c.batchSize, n);
    const index = Int32Array.from({ length: n }, (_, i) => i);
    const xb = new Float32Array(m * w);
    const ab = new Float32Array(m * this.actionSize);
    const advb = new Float32Array(m);
    const retb = new Float32Array(m);
    const oldVb = new Float32Array(m);
    const oldLpb = new Float32Array(m);
    const maskb = bias ? new Float32Array(m * k) : null;
    const sums = { policyLoss: 0, valueLoss: 0, entropy: 0, approxKl: 0, clipFraction: 0, gradNorm: 0 };
    let minibatches = 0;
    let epochs = 0;
    let stopped = false;
    for (let epoch = 0; epoch < c.nEpochs && !stopped; epoch++) {
      for (let i = n - 1; i > 0; i--) {
        const j = this.rng.integer(i + 1);
        [index[i], index[j]] = [index[j]!, index[i]!];
      }
      for (let from = 0; from < n; from += m) {
        const size = Math.min(m, n - from);
        gatherRows(r.inputs, w, index, from, size, xb);
        gatherRows(r.actions, this.actionSize, index, from, size, ab);
        gatherRows(advantages, 1, index, from, size, advb);
        gatherRows(returns, 1, index, from, size, retb);
        gatherRows(values, 1, index, from, size, oldVb);
        gatherRows(oldLogProb, 1, index, from, size, oldLpb);
        if (maskb) gatherRows(bias!, k, index, from, size, maskb);
        const adv = advb.subarray(0, size);
        if (c.normalizeAdvantage && size > 1) standardize(adv);
        const batch: PPOMinibatch = {
          m: size,
          actions: ab.subarray(0, size * this.actionSize),
          advantages: adv,
          returns: retb.subarray(0, size),
          oldValues: oldVb.subarray(0, size),
          oldLogProb: oldLpb.subarray(0, size),
          bias: maskb ? maskb.subarray(0, size * k) : null,
        };
        const result = (yield this.minibatchStep(xb.subarray(0, size * w), batch, lossOptions)) as MinibatchResult | null;
        if (result === null) {
          stopped = true;
          break;
        }
        sums.policyLoss += result.policyLoss;
        sums.valueLoss += result.valueLoss;
        sums.entropy += result.entropy;
        sums.approxKl += result.approxKl;
        sums.clipFraction += result.clipFraction;
        sums.gradNorm += result.gradNorm;
        minibatches++;
      }
      if (!stopped) epochs++;
    }
    if (this.logStd) this.logStdValues = ((yield readTensor(this.logStd) as MaybePromise<Float32Array>) as Float32Array).slice();
    this.updates++;
    const mean = (s: number) => (minibatches > 0 ? s / minibatches : 0);
    this.lastEntropy = minibatches > 0 ? mean(sums.entropy) : this.lastEntropy;
    return {
      policyLoss: mean(sums.policyLoss),
      valueLoss: mean(sums.valueLoss),
      entropy: mean(sums.entropy),
      approxKl: mean(sums.approxKl),
      clipFraction: mean(sums.clipFraction),
      explainedVariance: explainedVariance(values, returns),
      gradNorm: mean(sums.gradNorm),
      learningRate,
      clipRange,
      epochs,
      ...(this.continuous ? { std: this.actionStd.reduce((a, b) => a + b, 0) / this.actionSize } : {}),
    };
  }

  /**
   * One gradient step on a minibatch; returns its losses and diagnostics, or null (and no step) when its
   * approximate KL passes 1.5 × targetKl. The networks run in tfjs; the loss on top of their outputs is one
   * custom op whose value and gradient `ppoLoss` computes in plain arrays.
   */
  private minibatchStep(x: Float32Array, batch: PPOMinibatch, options: PPOLossOptions): MaybePromise<MinibatchResult | null> {
    if (!syncReads()) return this.minibatchStepOnDevice(x, batch, options);
    const c = this.config;
    const n = batch.m;
    const variables = this.variables();
    const width = this.continuous ? this.actionSize : this.nActions;
    let result: PPOLossResult | null = null;
    const lossHead = tf.customGrad(((policy: tf.Tensor, values: tf.Tensor, ...rest: unknown[]) => {
      const logStd = this.logStd ? (rest[0] as tf.Tensor) : null;
      const r = ppoLoss(policy.dataSync(), values.dataSync(), logStd ? logStd.dataSync() : null, width, batch, options);
      result = r;
      return {
        value: tf.scalar(r.loss),
        gradFunc: (dy: tf.Tensor) => {
          const grads = [tf.mul(dy, tf.tensor(r.gradPolicy, policy.shape)), tf.mul(dy, tf.tensor(r.gradValues, values.shape))];
          if (logStd) grads.push(tf.mul(dy, tf.tensor(r.gradLogStd!, logStd.shape)));
          return grads;
        },
      };
    }) as unknown as Parameters<typeof tf.customGrad>[0]) as (...inputs: tf.Tensor[]) => tf.Scalar;
    let gradNorm = 0;
    let skipped = false;
    tf.tidy(() => {
      const input = this.tensor(x, n);
      const { grads } = tf.variableGrads(() => {
        const { policy, values } = this.heads(input, true);
        return this.logStd ? lossHead(policy, values!, this.logStd) : lossHead(policy, values!);
      }, variables);
      if (c.targetKl !== null && result!.approxKl > 1.5 * c.targetKl) {
        skipped = true;
        return;
      }
      gradNorm = this.optimizer.apply(
        variables.map((v) => grads[v.name]!),
        c.maxGradNorm,
      ) as number;
    });
    const r = result as PPOLossResult | null;
    if (skipped || r === null) return null;
    return { policyLoss: r.policyLoss, valueLoss: r.valueLoss, entropy: r.entropy, approxKl: r.approxKl, clipFraction: r.clipFraction, gradNorm };
  }

  /**
   * The same step where reads are asynchronous (webgpu): the heads' outputs are read back first, `ppoLoss`
   * gives the loss and its gradient with respect to them, and the variables' gradient is then the gradient of
   * Σ policy·∂L/∂policy + Σ values·∂L/∂values (+ logStd·∂L/∂logStd), the chain rule the custom op above applies.
   */
  private async minibatchStepOnDevice(x: Float32Array, batch: PPOMinibatch, options: PPOLossOptions): Promise<MinibatchResult | null> {
    const c = this.config;
    const n = batch.m;
    const variables = this.variables();
    const width = this.continuous ? this.actionSize : this.nActions;
    const [policyT, valuesT] = tf.tidy(() => {
      const { policy, values } = this.heads(this.tensor(x, n), true);
      return [policy, values!];
    });
    const [policy, values, logStd] = await Promise.all([policyT.data(), valuesT.data(), this.logStd ? this.logStd.data() : null]);
    tf.dispose([policyT, valuesT]);
    const r = ppoLoss(policy as Float32Array, values as Float32Array, (logStd as Float32Array | null) ?? null, width, batch, options);
    if (c.targetKl !== null && r.approxKl > 1.5 * c.targetKl) return null;
    const norm = tf.tidy(() => {
      const input = this.tensor(x, n);
      const gradPolicy = tf.tensor(r.gradPolicy, policyT.shape);
      const gradValues = tf.tensor(r.gradValues, valuesT.shape);
      const { grads } = tf.variableGrads(() => {
        const out = this.heads(input, true);
        const terms = [tf.sum(tf.mul(out.policy, gradPolicy)), tf.sum(tf.mul(out.values!, gradValues))];
        if (this.logStd) terms.push(tf.sum(tf.mul(this.logStd, tf.tensor(r.gradLogStd!, this.logStd.shape))));
        return tf.addN(terms) as tf.Scalar;
      }, variables);
      return this.optimizer.apply(
        variables.map((v) => grads[v.name]!),
        c.maxGradNorm,
      ) as tf.Scalar;
    });
    const gradNorm = await readNorm(norm);
    return { policyLoss: r.policyLoss, valueLoss: r.valueLoss, entropy: r.entropy, approxKl: r.approxKl, clipFraction: r.clipFraction, gradNorm };
  }

  status(): Record<string, number> {
    return { ...(this.lastEntropy !== null ? { entropy: this.lastEntropy } : {}), updates: this.updates };
  }

  /** The policy as one network: the actor, or the shared trunk followed by the policy head. */
  private policyNetwork(): MaybePromise<{ spec: NetworkSpec; values: Float32Array[] }> {
    const head = this.policyHead;
    if (!head) return andThen(this.body.readWeights(), (values) => ({ spec: this.body.spec, values }));
    return andThen(this.body.readWeights(), (body) =>
      andThen(head.readWeights(), (headValues) => ({
        spec: { inputShape: this.body.spec.inputShape, layers: [...this.body.spec.layers, ...head.spec.layers] },
        values: [...body, ...headValues],
      })),
    );
  }

  async save(dir: string): Promise<void> {
    await this.savePolicy(path.join(dir, 'policy'));
    await this.valueNet.save(path.join(dir, 'value'));
    await this.optimizer.save(path.join(dir, 'optimizer'));
    const r = this.rollout;
    const rows = r.t * this.numEnvs;
    const w = this.encoder.inputSize;
    const state: SavedState = {
      name: this.name,
      updates: this.updates,
      lastEntropy: this.lastEntropy,
      rng: this.rng.toJSON(),
      rollout: {
        t: r.t,
        inputs: Array.from(r.inputs.subarray(0, rows * w)),
        nextInputs: Array.from(r.nextInputs.subarray(0, rows * w)),
        actions: Array.from(r.actions.subarray(0, rows * this.actionSize)),
        rewards: Array.from(r.rewards.subarray(0, rows)),
        terminations: Array.from(r.terminations.subarray(0, rows)),
        truncations: Array.from(r.truncations.subarray(0, rows)),
        masks: r.masks ? Array.from(r.masks.subarray(0, rows * this.nActions)) : null,
      },
      logStd: this.logStd ? Array.from((await this.logStd.data()) as Float32Array) : null,
      obsRms: this.obsRms?.toJSON() ?? null,
      returnScaler: this.returnScaler?.toJSON() ?? null,
    };
    writeJsonAtomic(path.join(dir, 'agent.json'), state);
  }

  async load(dir: string): Promise<void> {
    const policy = Network.read(path.join(dir, 'policy')).values;
    const bodyCount = this.body.variables.length;
    this.body.setWeights(policy.slice(0, bodyCount));
    this.policyHead?.setWeights(policy.slice(bodyCount));
    this.valueNet.setWeights(Network.read(path.join(dir, 'value')).values);
    this.optimizer.load(path.join(dir, 'optimizer'));
    const state = readJson<SavedState>(path.join(dir, 'agent.json'), 'agent state');
    if (state.name !== this.name) throw new Error(`${path.join(dir, 'agent.json')} is the state of agent '${state.name}', not ppo`);
    this.updates = state.updates;
    this.lastEntropy = state.lastEntropy;
    this.rng = Rng.fromJSON(state.rng);
    if (this.logStd) {
      if (!Array.isArray(state.logStd) || state.logStd.length !== this.actionSize) throw new Error(`${path.join(dir, 'agent.json')}: logStd must hold ${this.actionSize} numbers`);
      this.logStdValues = Float32Array.from(state.logStd);
      tf.tidy(() => this.logStd!.assign(tf.tensor1d(this.logStdValues)));
    }
    if (this.obsRms) this.obsRms.load(state.obsRms as RunningMeanStdState, `${dir}: observation statistics`);
    if (this.returnScaler) this.returnScaler.load(state.returnScaler as ReturnScalerState, `${dir}: reward statistics`);
    const saved = state.rollout;
    const r = this.emptyRollout();
    r.t = saved.t;
    r.inputs.set(saved.inputs);
    r.nextInputs.set(saved.nextInputs);
    r.actions.set(saved.actions);
    r.rewards.set(saved.rewards);
    r.terminations.set(saved.terminations);
    r.truncations.set(saved.truncations);
    if (saved.masks) {
      r.masks = new Int8Array(r.rewards.length * this.nActions).fill(1);
      r.masks.set(saved.masks);
    }
    this.rollout = r;
  }

  /**
   * The greedy policy for `lab eval`: one network whose outputs are logits (argmax) or the Gaussian mean, and,
   * when observations are normalised, `obs_normalization.json` with the statistics to apply first.
   */
  savePolicy(dir: string): MaybePromise<void> {
    const saved = this.policyHead
      ? andThen(this.policyNetwork(), ({ spec, values }) => {
          const net = new Network(spec, values);
          return andThen(net.save(dir), () => net.dispose());
        })
      : this.body.save(dir);
    return andThen(saved, () => {
      if (this.obsRms) writeObsNormalization(dir, this.obsRms, this.config.clipObs);
    });
  }

  dispose(): void {
    this.body.dispose();
    this.policyHead?.dispose();
    this.valueNet.dispose();
    this.logStd?.dispose();
    this.optimizer.dispose();
  }
}

/** One minibatch step's losses and diagnostics. */
interface MinibatchResult {
  policyLoss: number;
  valueLoss: number;
  entropy: number;
  approxKl: number;
  clipFraction: number;
  gradNorm: number;
}

/** One clear error for a hyperparameter that cannot work. */
function checkConfig(c: PPOConfig): void {
  const positiveInt = (v: number, name: string) => {
    if (!Number.isSafeInteger(v) || v <= 0) throw new Error(`ppo hyperparameter '${name}' must be a positive integer, got ${JSON.stringify(v)}`);
  };
  positiveInt(c.numEnvs, 'numEnvs');
  positiveInt(c.nSteps, 'nSteps');
  positiveInt(c.batchSize, 'batchSize');
  positiveInt(c.nEpochs, 'nEpochs');
  if (!Array.isArray(c.hidden) || c.hidden.some((u) => !Number.isSafeInteger(u) || u <= 0)) throw new Error(`ppo hyperparameter 'hidden' must be a list of positive layer sizes, got ${JSON.stringify(c.hidden)}`);
  if (c.shareNetwork && c.hidden.length === 0) throw new Error("ppo hyperparameter 'shareNetwork' needs at least one hidden layer (the shared trunk)");
  if (c.activation !== 'tanh' && c.activation !== 'relu') throw new Error(`ppo hyperparameter 'activation' must be 'tanh' or 'relu', got ${JSON.stringify(c.activation)}`);
  if (!(c.learningRate > 0)) throw new Error(`ppo hyperparameter 'learningRate' must be positive, got ${c.learningRate}`);
  if (!(c.clipRange > 0)) throw new Error(`ppo hyperparameter 'clipRange' must be positive, got ${c.clipRange}`);
  if (c.clipRangeVf !== null && !(c.clipRangeVf > 0)) throw new Error(`ppo hyperparameter 'clipRangeVf' must be positive or null, got ${c.clipRangeVf}`);
  if (c.targetKl !== null && !(c.targetKl > 0)) throw new Error(`ppo hyperparameter 'targetKl' must be positive or null, got ${c.targetKl}`);
  if (!(c.gamma >= 0 && c.gamma <= 1)) throw new Error(`ppo hyperparameter 'gamma' must be in [0, 1], got ${c.gamma}`);
  if (!(c.gaeLambda >= 0 && c.gaeLambda <= 1)) throw new Error(`ppo hyperparameter 'gaeLambda' must be in [0, 1], got ${c.gaeLambda}`);
}

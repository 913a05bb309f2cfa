/**
 * A2C, synchronous advantage actor-critic (Mnih et al. 2016), as Stable-Baselines3 and CleanRL run it,
 * readable top to bottom:
 *
 *   act:      sample a ~ π(·|s) on every sub-env with the agent's seeded RNG (greedy: argmax); masked actions
 *             get a logit of −1e9, when sampling and in the loss
 *   observe:  store the vector step in a rollout of `nSteps` steps × `numEnvs` sub-envs; when it is full, update
 *   update:   V(s_t) and V(s'_t) from the critic, where s'_t is the true next observation (the final one for
 *             sub-envs whose episode ended), then GAE(λ):
 *               δ_t = r_t + γ (1 − terminated_t) V(s'_t) − V(s_t)
 *               A_t = δ_t + γ λ (1 − done_t) A_{t+1},   done = terminated or truncated
 *             so truncated episodes bootstrap from V(final obs) and terminated ones do not; λ = 1 gives the
 *             n-step returns of the original A2C. Returns R_t = A_t + V(s_t). One optimizer step on
 *               loss = −mean(A_t log π(a_t|s_t)) + vfCoef · mean((V(s_t) − R_t)²) − entCoef · mean(H[π(·|s_t)])
 *             with the global gradient norm clipped to `maxGradNorm`.
 *
 * Actor and critic are separate MLPs (SB3's MlpPolicy: no shared layers) trained by one optimizer on the
 * summed loss; separate networks keep the policy network a plain logits network for `savePolicy` and avoid
 * balancing the two losses inside shared features. The actor's output layer starts small (×0.01, as
 * CleanRL's orthogonal init with std 0.01), so the first policy is close to uniform.
 *
 * GAE, the losses and the categorical-policy helpers (masking, sampling) are in `policy_gradient.ts`, shared
 * with REINFORCE.
 *
 * Optional VecNormalize (SB3 and rl-zoo's `normalize`), as PPO has it: observations normalised by their running
 * mean and variance (updated on the observations the policy acts on while training, read only when greedy) and
 * clipped to ±clipObs; rewards divided by the running std of the discounted return and clipped to ±clipReward.
 * The rollout keeps the inputs as the policy saw them; the statistics go into checkpoints and, for observations,
 * beside the policy (`obs_normalization.json`, which `lab eval`, `lab watch` and the browser apply first).
 */
import path from 'node:path';
import { tf } from '../lab/compute.js';
import { DiscountedReturnScaler, Rng, RunningMeanStd, normalizeRows, type ReturnScalerState, type RunningMeanStdState, type TypedArray } from '../envs/index.js';
import { writeJsonAtomic, readJson } from '../lab/fsutil.js';
import { Network, loadOptimizer, saveOptimizer } from '../lab/network.js';
import { discreteActions, observationEncoder, type ObservationEncoder } from './encoding.js';
import { clipByGlobalNorm } from '../lab/optim.js';
import { andThen, readAndDispose, type MaybePromise } from '../lab/maybe_async.js';
import {
  categoricalTerms,
  explainedVariance,
  forward,
  generalizedAdvantages,
  maskBias,
  NORM_EPSILON,
  policyGradientLoss,
  policyProbabilities,
  policySpec,
  samplePolicy,
  standardize,
  valueFunctionLoss,
  writeObsNormalization,
} from './policy_gradient.js';
import type { Agent, AgentSetup, StepBatch, UpdateStats } from './agent.js';

export interface A2CConfig {
  /** Sub-envs stepped side by side. */
  numEnvs: number;
  /** Vector steps per rollout (one update per rollout of nSteps × numEnvs transitions). */
  nSteps: number;
  gamma: number;
  /** GAE λ (1: n-step returns, as the original A2C). */
  gaeLambda: number;
  /** Hidden layer sizes of the actor and of the critic (separate MLPs). */
  hidden: number[];
  activation: 'tanh' | 'relu';
  optimizer: 'rmsprop' | 'adam';
  learningRate: number;
  /** RMSprop: decay of the squared-gradient average (SB3's alpha) and ε inside the square root. Adam: ε. */
  rmspropDecay: number;
  epsilon: number;
  /** Anneal the learning rate linearly to 0 over the run (SB3's `lin_` schedules). */
  linearLrDecay: boolean;
  vfCoef: number;
  entCoef: number;
  maxGradNorm: number | null;
  /** Standardise advantages over each rollout. */
  normalizeAdvantage: boolean;
  /** Normalise observations by their running mean and variance (VecNormalize's norm_obs). */
  normalizeObservation: boolean;
  /** Scale rewards by the running std of the discounted return (VecNormalize's norm_reward). */
  normalizeReward: boolean;
  /** Normalised observations are clipped to ±clipObs. */
  clipObs: number;
  /** Scaled rewards are clipped to ±clipReward. */
  clipReward: number;
}

export const A2C_DEFAULTS: A2CConfig = {
  numEnvs: 8,
  nSteps: 5,
  gamma: 0.99,
  gaeLambda: 1,
  hidden: [64, 64],
  activation: 'tanh',
  optimizer: 'rmsprop',
  learningRate: 7e-4,
  rmspropDecay: 0.99,
  epsilon: 1e-5,
  linearLrDecay: false,
  vfCoef: 0.5,
  entCoef: 0,
  maxGradNorm: 0.5,
  normalizeAdvantage: false,
  normalizeObservation: false,
  normalizeReward: false,
  clipObs: 10,
  clipReward: 10,
};

/** The rollout in progress, as plain arrays (saved as JSON with checkpoints). */
interface Rollout {
  /** Vector steps stored so far. */
  t: number;
  obs: number[];
  nextObs: number[];
  actions: number[];
  rewards: number[];
  terminations: number[];
  truncations: number[];
  /** Action masks (k per transition, 1 = allowed; all ones when the env gives none). */
  masks: number[];
  /**
   * With normalizeObservation: the network inputs of obs and nextObs as the policy saw them (encoded, normalised
   * with the statistics of their step); the update uses these, not obs and nextObs.
   */
  inputs?: number[];
  nextInputs?: number[];
}

const emptyRollout = (normalized: boolean): Rollout => ({ t: 0, obs: [], nextObs: [], actions: [], rewards: [], terminations: [], truncations: [], masks: [], ...(normalized ? { inputs: [], nextInputs: [] } : {}) });

export class A2C implements Agent {
  readonly name = 'a2c';
  readonly numEnvs: number;
  readonly config: A2CConfig;
  private readonly encoder: ObservationEncoder;
  private readonly nActions: number;
  private readonly actor: Network;
  private readonly critic: Network;
  private readonly optimizer: tf.Optimizer;
  private readonly totalSteps: number;
  private rng: Rng;
  private rollout: Rollout;
  private updates = 0;
  private lastEntropy: number | null = null;
  private readonly obsRms: RunningMeanStd | null;
  private readonly returnScaler: DiscountedReturnScaler | null;
  /** What the networks are fed: the observation encoder, followed by the normalisation when it is on. */
  private readonly inputEncoder: ObservationEncoder;

  constructor(setup: AgentSetup, config: A2CConfig) {
    this.config = config;
    this.numEnvs = config.numEnvs;
    this.encoder = observationEncoder(setup.observationSpace);
    this.nActions = discreteActions(setup.actionSpace);
    this.totalSteps = setup.totalSteps;
    this.rng = new Rng(setup.seed);
    this.actor = new Network(policySpec(this.encoder, config.hidden, this.nActions, config.activation, 0.01), this.rng);
    this.critic = new Network(policySpec(this.encoder, config.hidden, 1, config.activation), this.rng);
    this.optimizer =
      config.optimizer === 'rmsprop'
        ? tf.train.rmsprop(config.learningRate, config.rmspropDecay, 0, config.epsilon)
        : tf.train.adam(config.learningRate, 0.9, 0.999, config.epsilon);
    this.obsRms = config.normalizeObservation ? new RunningMeanStd(this.encoder.inputSize) : null;
    this.returnScaler = config.normalizeReward ? new DiscountedReturnScaler(config.numEnvs, config.gamma, NORM_EPSILON) : null;
    const rms = this.obsRms;
    this.inputEncoder = rms
      ? { ...this.encoder, encode: (raw, n) => normalizeRows(rms, this.encoder.encode(raw, n), n, NORM_EPSILON, config.clipObs) }
      : this.encoder;
    this.rollout = emptyRollout(rms !== null);
  }

  /** Action probabilities for `n` raw observation rows (masked actions get 0). */
  probabilities(obs: ArrayLike<number>, n: number, actionMasks?: Int8Array | null): MaybePromise<Float32Array> {
    return policyProbabilities(this.actor, this.inputEncoder, obs, n, maskBias(actionMasks, n, this.nActions));
  }

  /** The critic's V(s) for `n` raw observation rows. */
  values(obs: ArrayLike<number>, n: number): MaybePromise<Float32Array> {
    return forward(this.critic, this.inputEncoder, obs, n);
  }

  act(obs: TypedArray, n: number, explore: boolean, actionMasks?: Int8Array | null): MaybePromise<Int32Array> {
    // Exploring means training: the observations the policy acts on join the running statistics first (as
    // VecNormalize does on each step); greedy evaluation only reads them.
    if (explore && this.obsRms) this.obsRms.update(this.encoder.encode(obs, n), n);
    return samplePolicy(this.actor, this.inputEncoder, obs, n, this.nActions, explore ? this.rng : null, actionMasks);
  }

  observe(batch: StepBatch, step: number): MaybePromise<UpdateStats | null> {
    const r = this.rollout;
    const n = batch.actions.length;
    const w = this.encoder.rawWidth;
    const k = this.nActions;
    for (let j = 0; j < n * w; j++) {
      r.obs.push(batch.obs[j]!);
      r.nextObs.push(batch.nextObs[j]!);
    }
    if (r.inputs && r.nextInputs) {
      // The statistics already hold batch.obs (act folded it in): these are the inputs the policy saw.
      for (const x of this.inputEncoder.encode(batch.obs, n)) r.inputs.push(x);
      for (const x of this.inputEncoder.encode(batch.nextObs, n)) r.nextInputs.push(x);
    }
    const rewards = this.returnScaler ? this.returnScaler.scale(batch.rewards, batch.terminations, true, this.config.clipReward) : batch.rewards;
    for (let i = 0; i < n; i++) {
      r.actions.push(batch.actions[i]!);
      r.rewards.push(rewards[i]!);
      r.terminations.push(batch.terminations[i]!);
      r.truncations.push(batch.truncations[i]!);
      for (let a = 0; a < k; a++) r.masks.push(batch.actionMasks ? batch.actionMasks[i * k + a]! : 1);
    }
    r.t++;
    if (r.t < this.config.nSteps) return null;
    this.rollout = emptyRollout(this.obsRms !== null);
    return this.update(r, n, step);
  }

  /** Network inputs of the rollout's s_t (`next`: s'_t) rows: as stored when normalising, else encoded now. */
  private rolloutInputs(r: Rollout, next: boolean): Float32Array {
    const stored = next ? r.nextInputs : r.inputs;
    return stored ? Float32Array.from(stored) : this.encoder.encode(next ? r.nextObs : r.obs, r.actions.length);
  }

  private update(r: Rollout, numEnvs: number, step: number): MaybePromise<UpdateStats> {
    // V(s_t) and V(s'_t) in one forward pass, with the parameters that collected the rollout.
    const n = r.actions.length;
    const both = new Float32Array(2 * n * this.encoder.inputSize);
    const x = this.rolloutInputs(r, false);
    both.set(x);
    both.set(this.rolloutInputs(r, true), n * this.encoder.inputSize);
    const values = readAndDispose(tf.tidy(() => tf.reshape(this.critic.apply(tf.tensor(both, [2 * n, ...this.encoder.inputShape])), [2 * n])));
    return andThen(values, (v) => this.learn(r, numEnvs, step, v, x));
  }

  /** One optimizer step on the rollout; `x`: the network inputs of its s_t rows, `both`: V(s_t) then V(s'_t). */
  private learn(r: Rollout, numEnvs: number, step: number, both: Float32Array, x: Float32Array): MaybePromise<UpdateStats> {
    const c = this.config;
    const k = this.nActions;
    const n = r.actions.length;
    const values = both.subarray(0, n);
    const nextValues = both.subarray(n);
    const { advantages, returns } = generalizedAdvantages({ ...r, values, nextValues }, numEnvs, r.t, c.gamma, c.gaeLambda);
    if (c.normalizeAdvantage) standardize(advantages);
    const bias = maskBias(r.masks, n, k);
    const learningRate = c.linearLrDecay ? c.learningRate * Math.max(0, 1 - step / this.totalSteps) : c.learningRate;
    if (c.linearLrDecay) (this.optimizer as unknown as { learningRate: number }).learningRate = learningRate;

    const result = tf.tidy(() => {
      const input = tf.tensor(x, [n, ...this.encoder.inputShape]);
      const actions = tf.tensor1d(r.actions, 'int32');
      const adv = tf.tensor1d(advantages);
      const target = tf.tensor1d(returns);
      const biasT = bias ? tf.tensor2d(bias, [n, k]) : null;
      const kept: tf.Tensor[] = [];
      const { grads } = tf.variableGrads(
        () => {
          const { logProb, entropy } = categoricalTerms(this.actor.apply(input), actions, k, biasT);
          const policyLoss = policyGradientLoss(logProb, adv);
          const valueLoss = valueFunctionLoss(tf.reshape(this.critic.apply(input), [n]), target);
          const meanEntropy = tf.mean(entropy);
          kept.push(tf.keep(policyLoss), tf.keep(valueLoss), tf.keep(meanEntropy));
          return tf.addN([policyLoss, tf.mul(valueLoss, c.vfCoef), tf.mul(meanEntropy, -c.entCoef)]) as tf.Scalar;
        },
        [...this.actor.variables, ...this.critic.variables],
      );
      const norm = clipByGlobalNorm(grads, c.maxGradNorm);
      this.optimizer.applyGradients(grads);
      const out = tf.stack([...kept, norm]);
      for (const t of kept) t.dispose();
      return out;
    });
    this.updates++;
    return andThen(readAndDispose(result), ([policyLoss, valueLoss, entropy, gradNorm]) => {
      this.lastEntropy = entropy!;
      return { policyLoss: policyLoss!, valueLoss: valueLoss!, entropy: entropy!, gradNorm: gradNorm!, explainedVariance: explainedVariance(values, returns), learningRate };
    });
  }

  status(): Record<string, number> {
    return { ...(this.lastEntropy !== null ? { entropy: this.lastEntropy } : {}), updates: this.updates };
  }

  async save(dir: string): Promise<void> {
    await this.actor.save(path.join(dir, 'policy'));
    await this.critic.save(path.join(dir, 'value'));
    await saveOptimizer(this.optimizer, path.join(dir, 'optimizer'));
    writeJsonAtomic(path.join(dir, 'agent.json'), {
      name: this.name,
      updates: this.updates,
      lastEntropy: this.lastEntropy,
      rng: this.rng.toJSON(),
      rollout: this.rollout,
      obsRms: this.obsRms?.toJSON() ?? null,
      returnScaler: this.returnScaler?.toJSON() ?? null,
    });
  }

  async load(dir: string): Promise<void> {
    this.actor.setWeights(Network.read(path.join(dir, 'policy')).values);
    this.critic.setWeights(Network.read(path.join(dir, 'value')).values);
    await loadOptimizer(this.optimizer, path.join(dir, 'optimizer'));
    const state = readJson<{ updates: number; lastEntropy: number | null; rng: ReturnType<Rng['toJSON']>; rollout: Rollout; obsRms?: RunningMeanStdState | null; returnScaler?: ReturnScalerState | null }>(
      path.join(dir, 'agent.json'),
      'agent state',
    );
    this.updates = state.updates;
    this.lastEntropy = state.lastEntropy;
    this.rng = Rng.fromJSON(state.rng);
    if (this.obsRms) {
      if (!state.obsRms || !Array.isArray(state.rollout.inputs)) throw new Error(`${dir}: the checkpoint has no observation statistics, but normalizeObservation is on`);
      this.obsRms.load(state.obsRms, `${dir}: observation statistics`);
    }
    if (this.returnScaler) {
      if (!state.returnScaler) throw new Error(`${dir}: the checkpoint has no reward statistics, but normalizeReward is on`);
      this.returnScaler.load(state.returnScaler, `${dir}: reward statistics`);
    }
    this.rollout = state.rollout;
  }

  /**
   * The actor: its argmax over logits is the greedy action; with normalizeObservation, `obs_normalization.json`
   * beside it holds the statistics to apply first.
   */
  savePolicy(dir: string): MaybePromise<void> {
    return andThen(this.actor.save(dir), () => {
      if (this.obsRms) writeObsNormalization(dir, this.obsRms, this.config.clipObs);
    });
  }

  dispose(): void {
    this.actor.dispose();
    this.critic.dispose();
    this.optimizer.dispose();
  }
}

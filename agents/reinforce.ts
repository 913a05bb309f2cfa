/**
 * REINFORCE (Williams 1992), the Monte-Carlo policy gradient, with the options of SLM Lab, readable top to
 * bottom:
 *
 *   act:      sample a ~ π(·|s) = softmax(logits) with the agent's seeded RNG (greedy: argmax); actions an
 *             env masks out get a logit of −1e9 (probability 0) when sampling, in argmax and in the loss
 *   observe:  append (s, a, r) to the running episode of each sub-env; a finished episode joins the batch
 *   update:   once the batch holds `episodesPerUpdate` finished episodes and at least `stepsPerUpdate` steps:
 *             G_t = Σ_k γ^k r_{t+k} per episode, advantage A_t = G_t (`baseline: 'none'`) or G_t − V(s_t)
 *             (`'learned'`), optionally standardised over the batch, then one Adam step on
 *             loss = −mean(A_t log π(a_t|s_t)) − entropyCoef · mean(H[π(·|s_t)]);
 *             with a learned baseline, one Adam step of its own on mean((V(s_t) − G_t)²).
 *
 * Truncated episodes (time limits): with a learned baseline the return is bootstrapped from the critic,
 * G_{T−1} = r_{T−1} + γ V(s_T) on the true final observation. Without a critic there is nothing to bootstrap
 * from, so the truncated sum is used as it is: the last steps of a 500-step Cart-Pole episode then look worse
 * than they are (a known bias of plain REINFORCE under time limits).
 *
 * With several sub-envs (`numEnvs`) each runs its own episodes; they simply finish more episodes per update.
 * Returns, standardisation, the losses and the categorical-policy helpers (masking, sampling) are in
 * `policy_gradient.ts`, shared with A2C.
 */
import path from 'node:path';
import { tf } from '../lab/compute.js';
import { Rng, type TypedArray } from '../envs/index.js';
import { writeJsonAtomic, readJson } from '../lab/fsutil.js';
import { Network, loadOptimizer, saveOptimizer } from '../lab/network.js';
import { andThen, readAndDispose, type MaybePromise } from '../lab/maybe_async.js';
import { discreteActions, observationEncoder, type ObservationEncoder } from './encoding.js';
import { clipByGlobalNorm } from '../lab/optim.js';
import {
  categoricalTerms,
  discountedReturns,
  forward,
  maskBias,
  policyGradientLoss,
  policyProbabilities,
  policySpec,
  samplePolicy,
  standardize,
  valueFunctionLoss,
} from './policy_gradient.js';
import type { Agent, AgentSetup, StepBatch, UpdateStats } from './agent.js';

export interface ReinforceConfig {
  /** Sub-envs stepped side by side (each yields its own episodes). */
  numEnvs: number;
  /** Hidden layer sizes of the policy network (MLP; for [H, W, C] observations they follow two conv layers). */
  hidden: number[];
  activation: 'tanh' | 'relu';
  /** Adam step size of the policy. */
  learningRate: number;
  gamma: number;
  /** Update once at least this many episodes have finished since the last update … */
  episodesPerUpdate: number;
  /** … and they hold at least this many steps (SLM Lab's training_frequency in steps; 0: episodes only). */
  stepsPerUpdate: number;
  /** `learned`: a value network V(s), trained by MSE to G_t with its own Adam, is subtracted from G_t. */
  baseline: 'none' | 'learned';
  valueHidden: number[];
  valueLearningRate: number;
  /** Standardise the returns (no baseline) or advantages (learned baseline) over the batch. */
  normalizeReturns: boolean;
  entropyCoef: number;
  /** Clip the policy's (and the critic's) global gradient norm to this (null: no clipping). */
  maxGradNorm: number | null;
}

export const REINFORCE_DEFAULTS: ReinforceConfig = {
  numEnvs: 1,
  hidden: [128, 128],
  activation: 'tanh',
  learningRate: 2e-3,
  gamma: 0.99,
  episodesPerUpdate: 1,
  stepsPerUpdate: 512,
  baseline: 'learned',
  valueHidden: [128, 128],
  valueLearningRate: 5e-3,
  normalizeReturns: true,
  entropyCoef: 0.001,
  maxGradNorm: null,
};

/** One episode (running or finished) of one sub-env, kept as plain arrays so it is saved as JSON. */
interface Trajectory {
  /** Raw observation rows (rawWidth numbers each). */
  obs: number[];
  actions: number[];
  rewards: number[];
  /** Action masks (k per step, 1 = allowed; all ones when the env gives none). */
  masks: number[];
  /** Set when the episode was truncated: the true final observation, to bootstrap from. */
  finalObs: number[] | null;
}

const emptyTrajectory = (): Trajectory => ({ obs: [], actions: [], rewards: [], masks: [], finalObs: null });

export class Reinforce implements Agent {
  readonly name = 'reinforce';
  readonly numEnvs: number;
  readonly config: ReinforceConfig;
  private readonly encoder: ObservationEncoder;
  private readonly nActions: number;
  private readonly policy: Network;
  private readonly value: Network | null;
  private readonly policyOptimizer: tf.Optimizer;
  private readonly valueOptimizer: tf.Optimizer | null;
  private rng: Rng;
  private running: Trajectory[];
  private finished: Trajectory[] = [];
  private updates = 0;
  private lastEntropy: number | null = null;

  constructor(setup: AgentSetup, config: ReinforceConfig) {
    this.config = config;
    this.numEnvs = config.numEnvs;
    this.encoder = observationEncoder(setup.observationSpace);
    this.nActions = discreteActions(setup.actionSpace);
    this.rng = new Rng(setup.seed);
    this.policy = new Network(policySpec(this.encoder, config.hidden, this.nActions, config.activation, 0.01), this.rng);
    this.policyOptimizer = tf.train.adam(config.learningRate);
    const learned = config.baseline === 'learned';
    this.value = learned ? new Network(policySpec(this.encoder, config.valueHidden, 1, config.activation), this.rng) : null;
    this.valueOptimizer = learned ? tf.train.adam(config.valueLearningRate) : null;
    this.running = Array.from({ length: setup.numEnvs }, emptyTrajectory);
  }

  /** Action probabilities for `n` raw observation rows (masked actions get 0). */
  probabilities(obs: ArrayLike<number>, n: number, actionMasks?: Int8Array | null): MaybePromise<Float32Array> {
    return policyProbabilities(this.policy, this.encoder, obs, n, maskBias(actionMasks, n, this.nActions));
  }

  act(obs: TypedArray, n: number, explore: boolean, actionMasks?: Int8Array | null): MaybePromise<Int32Array> {
    return samplePolicy(this.policy, this.encoder, obs, n, this.nActions, explore ? this.rng : null, actionMasks);
  }

  observe(batch: StepBatch, _step: number): MaybePromise<UpdateStats | null> {
    const c = this.config;
    const w = this.encoder.rawWidth;
    const k = this.nActions;
    for (let i = 0; i < batch.actions.length; i++) {
      const ep = this.running[i]!;
      for (let j = 0; j < w; j++) ep.obs.push(batch.obs[i * w + j]!);
      ep.actions.push(batch.actions[i]!);
      ep.rewards.push(batch.rewards[i]!);
      for (let a = 0; a < k; a++) ep.masks.push(batch.actionMasks ? batch.actionMasks[i * k + a]! : 1);
      if (!batch.terminations[i] && !batch.truncations[i]) continue;
      if (!batch.terminations[i]) ep.finalObs = Array.from(batch.nextObs.subarray(i * w, (i + 1) * w));
      this.finished.push(ep);
      this.running[i] = emptyTrajectory();
    }
    const steps = this.finished.reduce((a, ep) => a + ep.actions.length, 0);
    if (this.finished.length < c.episodesPerUpdate || steps < c.stepsPerUpdate || steps === 0) return null;
    return this.update();
  }

  /** One policy-gradient step (and one critic step) on the finished episodes. */
  private update(): MaybePromise<UpdateStats> {
    const episodes = this.finished;
    this.finished = [];
    const n = episodes.reduce((a, ep) => a + ep.actions.length, 0);
    const obs = new Float32Array(episodes.flatMap((ep) => ep.obs));
    // Bootstrap truncated episodes from the critic at their final observation (without one: nothing).
    const truncated = episodes.map((ep, e) => (ep.finalObs ? e : -1)).filter((e) => e >= 0);
    const finalValues = this.value && truncated.length ? forward(this.value, this.encoder, truncated.flatMap((e) => episodes[e]!.finalObs!), truncated.length) : null;
    const baseline = this.value ? forward(this.value, this.encoder, obs, n) : null;
    return andThen(finalValues, (v) => andThen(baseline, (b) => this.learn(episodes, n, obs, truncated, v, b)));
  }

  private learn(episodes: Trajectory[], n: number, obs: Float32Array, truncated: number[], finalValues: Float32Array | null, baseline: Float32Array | null): MaybePromise<UpdateStats> {
    const c = this.config;
    const k = this.nActions;
    const actions = Int32Array.from(episodes.flatMap((ep) => ep.actions));
    const bias = maskBias(episodes.flatMap((ep) => ep.masks), n, k);
    const bootstraps = new Float64Array(episodes.length);
    if (finalValues) truncated.forEach((e, j) => (bootstraps[e] = finalValues[j]!));
    const returns = new Float32Array(n);
    let offset = 0;
    episodes.forEach((ep, e) => {
      returns.set(discountedReturns(ep.rewards, c.gamma, bootstraps[e]), offset);
      offset += ep.actions.length;
    });
    const advantages = returns.slice();
    if (baseline) for (let t = 0; t < n; t++) advantages[t]! -= baseline[t]!;
    if (c.normalizeReturns) standardize(advantages);

    const shape = [n, ...this.encoder.inputShape];
    const x = this.encoder.encode(obs, n);
    const result = tf.tidy(() => {
      const input = tf.tensor(x, shape);
      const actionT = tf.tensor1d(actions, 'int32');
      const adv = tf.tensor1d(advantages);
      const biasT = bias ? tf.tensor2d(bias, [n, k]) : null;
      const kept: tf.Tensor[] = [];
      const { grads } = tf.variableGrads(() => {
        const { logProb, entropy } = categoricalTerms(this.policy.apply(input), actionT, k, biasT);
        const policyLoss = policyGradientLoss(logProb, adv);
        const meanEntropy = tf.mean(entropy);
        kept.push(tf.keep(policyLoss), tf.keep(meanEntropy));
        return tf.sub(policyLoss, tf.mul(meanEntropy, c.entropyCoef)) as tf.Scalar;
      }, this.policy.variables);
      const norm = clipByGlobalNorm(grads, c.maxGradNorm);
      this.policyOptimizer.applyGradients(grads);
      let valueLoss: tf.Scalar = tf.scalar(0);
      if (this.value && this.valueOptimizer) {
        const target = tf.tensor2d(returns, [n, 1]);
        const fit = tf.variableGrads(() => valueFunctionLoss(this.value!.apply(input), target), this.value.variables);
        clipByGlobalNorm(fit.grads, c.maxGradNorm);
        this.valueOptimizer.applyGradients(fit.grads);
        valueLoss = fit.value;
      }
      const out = tf.stack([kept[0]!, kept[1]!, valueLoss, norm]);
      for (const t of kept) t.dispose();
      return out;
    });
    this.updates++;
    return andThen(readAndDispose(result), ([policyLoss, entropy, valueLoss, gradNorm]) => {
      this.lastEntropy = entropy!;
      const stats: UpdateStats = { policyLoss: policyLoss!, entropy: entropy!, gradNorm: gradNorm!, batchEpisodes: episodes.length, batchSteps: n, learningRate: c.learningRate };
      if (this.value) stats.valueLoss = valueLoss!;
      return stats;
    });
  }

  status(): Record<string, number> {
    return { ...(this.lastEntropy !== null ? { entropy: this.lastEntropy } : {}), updates: this.updates };
  }

  async save(dir: string): Promise<void> {
    await this.policy.save(path.join(dir, 'policy'));
    await saveOptimizer(this.policyOptimizer, path.join(dir, 'policy-optimizer'));
    if (this.value && this.valueOptimizer) {
      await this.value.save(path.join(dir, 'value'));
      await saveOptimizer(this.valueOptimizer, path.join(dir, 'value-optimizer'));
    }
    writeJsonAtomic(path.join(dir, 'agent.json'), {
      name: this.name,
      updates: this.updates,
      lastEntropy: this.lastEntropy,
      rng: this.rng.toJSON(),
      running: this.running,
      finished: this.finished,
    });
  }

  async load(dir: string): Promise<void> {
    this.policy.setWeights(Network.read(path.join(dir, 'policy')).values);
    await loadOptimizer(this.policyOptimizer, path.join(dir, 'policy-optimizer'));
    if (this.value && this.valueOptimizer) {
      this.value.setWeights(Network.read(path.join(dir, 'value')).values);
      await loadOptimizer(this.valueOptimizer, path.join(dir, 'value-optimizer'));
    }
    const state = readJson<{
      updates: number;
      lastEntropy: number | null;
      rng: ReturnType<Rng['toJSON']>;
      running: Trajectory[];
      finished: Trajectory[];
    }>(path.join(dir, 'agent.json'), 'agent state');
    this.updates = state.updates;
    this.lastEntropy = state.lastEntropy;
    this.rng = Rng.fromJSON(state.rng);
    this.running = state.running;
    this.finished = state.finished;
  }

  /** The policy network: its argmax over logits is the greedy action. */
  savePolicy(dir: string): MaybePromise<void> {
    return this.policy.save(dir);
  }

  dispose(): void {
    this.policy.dispose();
    this.value?.dispose();
    this.policyOptimizer.dispose();
    this.valueOptimizer?.dispose();
  }
}

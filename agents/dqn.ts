/**
 * Deep Q-Network (Mnih et al. 2015), with the options of Stable-Baselines3 / CleanRL and the variant of
 * *Deep Learning Illustrated* ch. 13, readable top to bottom:
 *
 *   act:      ε-greedy on Q(s, ·) from the online network (uniformly random before `learningStarts`)
 *   observe:  store (s, a, r, s', done) in a ring replay buffer; every `trainFrequency` steps take
 *             `gradientSteps` updates on batches of `batchSize`; copy (or Polyak-average) the online network
 *             into the target network every `targetUpdateInterval` env steps
 *   update:   y = r + γ (1 − done) max_a' Q_target(s', a')  (double DQN: a' = argmax Q_online(s', ·)),
 *             loss = Huber or MSE of Q(s, a) − y, gradient-norm clipping, Adam.
 *
 * `done` is termination, not truncation: a time limit does not end the MDP, so truncated transitions
 * bootstrap. The book's variant treats every episode end as terminal and replaces its reward by −10.
 */
import path from 'node:path';
import { tf } from '../lab/compute.js';
import { Rng, type TypedArray } from '../envs/index.js';
import { writeJsonAtomic, readJson } from '../lab/fsutil.js';
import { Network, convSpec, mlpSpec } from '../lab/network.js';
import { FusedAdam } from '../lab/optim.js';
import { andThen, forEachInOrder, readAndDispose, type MaybePromise } from '../lab/maybe_async.js';
import { ReplayBuffer, type ReplaySample } from './replay_buffer.js';
import { discreteActions, observationEncoder, type ObservationEncoder } from './encoding.js';
import type { Agent, AgentSetup, StepBatch, UpdateStats } from './agent.js';

export interface DQNConfig {
  /** Hidden dense layer sizes of the Q-network. */
  hidden: number[];
  /** For [H, W, C] observations: filters of the 3x3 conv layers before the dense ones. */
  convFilters: number[];
  /** `auto`: a conv net for [H, W, C] observations, an MLP otherwise; `mlp` flattens planes. */
  architecture: 'auto' | 'mlp' | 'conv';
  learningRate: number;
  /** Adam's ε (PyTorch/SB3 1e-8, Keras 1e-7). */
  adamEpsilon: number;
  gamma: number;
  bufferSize: number;
  batchSize: number;
  /** Env steps of uniformly random actions before learning starts. */
  learningStarts: number;
  /** Env steps between training phases. */
  trainFrequency: number;
  /** Gradient updates per training phase. */
  gradientSteps: number;
  /** Env steps between target-network updates; 0 = no target network (bootstrap from the online one). */
  targetUpdateInterval: number;
  /** 1 = hard copy; < 1 = Polyak averaging at each target update. */
  tau: number;
  doubleDqn: boolean;
  loss: 'huber' | 'mse';
  /** Clip the global gradient norm to this (null: no clipping). */
  maxGradNorm: number | null;
  /** ε-greedy schedule: linear over a fraction of the run, or multiplied at every episode end (the book). */
  exploration:
    | { type: 'linear'; initial: number; final: number; fraction: number }
    | { type: 'episode-decay'; initial: number; decay: number; min: number };
  /** `steps`: training phases every `trainFrequency` steps. `episode-end-per-sample`: the book's replay. */
  updateSchedule: 'steps' | 'episode-end-per-sample';
  /** Treat truncated episodes as terminal (no bootstrap), as the book's `done` does. */
  truncationIsTerminal: boolean;
  /** Replaces the reward of a terminal transition (the book: −10); null keeps the env's reward. */
  terminalReward: number | null;
}

export const DQN_DEFAULTS: DQNConfig = {
  hidden: [256, 256],
  convFilters: [32, 64],
  architecture: 'auto',
  learningRate: 2.3e-3,
  adamEpsilon: 1e-8,
  gamma: 0.99,
  bufferSize: 100_000,
  batchSize: 64,
  learningStarts: 1000,
  trainFrequency: 256,
  gradientSteps: 128,
  targetUpdateInterval: 10,
  tau: 1,
  doubleDqn: false,
  loss: 'huber',
  maxGradNorm: 10,
  exploration: { type: 'linear', initial: 1, final: 0.04, fraction: 0.16 },
  updateSchedule: 'steps',
  truncationIsTerminal: false,
  terminalReward: null,
};

export class DQN implements Agent {
  readonly name = 'dqn';
  readonly numEnvs = 1;
  readonly config: DQNConfig;
  private readonly encoder: ObservationEncoder;
  private readonly nActions: number;
  private readonly online: Network;
  private readonly target: Network | null;
  private readonly optimizer: FusedAdam;
  private readonly buffer: ReplayBuffer;
  private rng: Rng;
  private readonly totalSteps: number;
  private epsilon: number;
  private updates = 0;
  private sample: ReplaySample | null = null;

  constructor(setup: AgentSetup, config: DQNConfig) {
    this.config = config;
    this.encoder = observationEncoder(setup.observationSpace, config.architecture === 'mlp');
    this.nActions = discreteActions(setup.actionSpace);
    this.totalSteps = setup.totalSteps;
    this.rng = new Rng(setup.seed);
    if (config.architecture === 'conv' && !this.encoder.image) throw new Error(`dqn: architecture 'conv' needs [height, width, channels] observations, not ${setup.observationSpace}`);
    const spec = this.encoder.image
      ? convSpec(this.encoder.inputShape, config.convFilters, config.hidden, this.nActions)
      : mlpSpec(this.encoder.inputSize, config.hidden, this.nActions, 'relu');
    this.online = new Network(spec, this.rng);
    this.target = config.targetUpdateInterval > 0 ? this.online.clone() : null;
    this.optimizer = new FusedAdam(this.online.variables, { learningRate: config.learningRate, epsilon: config.adamEpsilon });
    this.buffer = new ReplayBuffer(config.bufferSize, this.encoder.rawWidth, this.nActions);
    this.epsilon = config.exploration.initial;
  }

  /** Q-values for `n` raw observation rows (at once where the backend reads synchronously, else a Promise). */
  qValues(obs: ArrayLike<number>, n: number): MaybePromise<Float32Array> {
    const x = this.encoder.encode(obs, n);
    return readAndDispose(tf.tidy(() => this.online.apply(tf.tensor(x, [n, ...this.encoder.inputShape]))));
  }

  act(obs: TypedArray, n: number, explore: boolean, actionMasks?: Int8Array | null): MaybePromise<Int32Array> {
    const actions = new Int32Array(n);
    const k = this.nActions;
    const allowed = (i: number, a: number) => !actionMasks || actionMasks[i * k + a] === 1;
    const randomRows: number[] = [];
    const greedyRows: number[] = [];
    for (let i = 0; i < n; i++) (explore && this.rng.random() < this.epsilon ? randomRows : greedyRows).push(i);
    for (const i of randomRows) {
      const legal = Array.from({ length: k }, (_, a) => a).filter((a) => allowed(i, a));
      actions[i] = legal.length ? legal[this.rng.integer(legal.length)]! : this.rng.integer(k);
    }
    if (!greedyRows.length) return actions;
    return andThen(this.qValues(obs, n), (q) => {
      for (const i of greedyRows) {
        let best = -1;
        let bestQ = -Infinity;
        for (let a = 0; a < k; a++) {
          if (allowed(i, a) && q[i * k + a]! > bestQ) [best, bestQ] = [a, q[i * k + a]!];
        }
        actions[i] = best < 0 ? 0 : best;
      }
      return actions;
    });
  }

  observe(batch: StepBatch, step: number): MaybePromise<UpdateStats | null> {
    const c = this.config;
    for (let i = 0; i < batch.actions.length; i++) {
      const truncatedEnd = batch.truncations[i] === 1 && c.truncationIsTerminal;
      const done = batch.terminations[i] === 1 || truncatedEnd;
      const reward = done && c.terminalReward !== null ? c.terminalReward : batch.rewards[i]!;
      this.buffer.add(batch.obs, batch.actions[i]!, reward, batch.nextObs, done, i, batch.nextActionMasks);
    }
    if (c.exploration.type === 'linear') {
      const { initial, final, fraction } = c.exploration;
      const progress = Math.min(1, step / Math.max(1, fraction * this.totalSteps));
      this.epsilon = initial + (final - initial) * progress;
    }
    if (c.updateSchedule !== 'steps') return null;
    // Target updates are counted in env steps, so the target stays fixed during a burst of updates (as SB3).
    if (this.target && step % c.targetUpdateInterval === 0) this.target.updateFrom(this.online, c.tau);
    if (step <= c.learningStarts || step % c.trainFrequency !== 0) return null;
    return this.train(c.gradientSteps);
  }

  /** The book trains once per episode, after it ends, when the memory holds more than a batch. */
  episodeEnd(): MaybePromise<UpdateStats | null> {
    const c = this.config;
    if (c.updateSchedule !== 'episode-end-per-sample' || this.buffer.size <= c.batchSize) return null;
    return andThen(this.replayPerSample(), (stats) => {
      if (c.exploration.type === 'episode-decay' && this.epsilon > c.exploration.min) this.epsilon *= c.exploration.decay;
      return stats;
    });
  }

  /**
   * `steps` gradient updates on uniformly sampled batches; returns mean loss and Q. Where reads are synchronous
   * each step's statistics are read as it ends (as ever); on GPU backends the steps are queued back to back and
   * their statistics read once at the end, so the device never waits on the host in between.
   */
  private train(steps: number): MaybePromise<UpdateStats> {
    const c = this.config;
    let lossSum = 0;
    let qSum = 0;
    let normSum = 0;
    const queued: tf.Tensor[] = [];
    for (let s = 0; s < steps; s++) {
      const batch = (this.sample = this.buffer.sample(c.batchSize, this.rng, true, this.sample ?? undefined));
      const stats = this.gradientStep(batch, c.batchSize);
      if (stats instanceof tf.Tensor) {
        queued.push(stats);
        continue;
      }
      const [loss, meanQ, norm] = stats;
      lossSum += loss;
      qSum += meanQ;
      normSum += norm;
    }
    const summary = () => ({ loss: lossSum / steps, q: qSum / steps, gradNorm: normSum / steps, epsilon: this.epsilon, learningRate: c.learningRate });
    if (!queued.length) return summary();
    const all = tf.stack(queued);
    tf.dispose(queued);
    return andThen(readAndDispose(all), (values) => {
      for (let s = 0; s < steps; s++) {
        lossSum += values[3 * s]!;
        qSum += values[3 * s + 1]!;
        normSum += values[3 * s + 2]!;
      }
      return summary();
    });
  }

  /** One gradient step: [loss, mean Q, gradient norm] read back, or (GPU backends) as a [3] tensor to read later. */
  private gradientStep(batch: ReplaySample, n: number): [loss: number, meanQ: number, gradNorm: number] | tf.Tensor {
    const c = this.config;
    const shape = [n, ...this.encoder.inputShape];
    let norm: number | tf.Scalar = 0;
    const result = tf.tidy(() => {
      const obs = tf.tensor(this.encoder.encode(batch.obs, n), shape);
      const nextObs = tf.tensor(this.encoder.encode(batch.nextObs, n), shape);
      const actionMask = tf.oneHot(tf.tensor1d(batch.actions, 'int32'), this.nActions);
      const bootstrapFrom = this.target ?? this.online;
      // Illegal next actions (action masks) are pushed far down so the max ignores them: their Q-values are
      // never trained, and bootstrapping from them would inflate every target.
      const illegal = tf.mul(tf.sub(1, tf.tensor(Float32Array.from(batch.nextMasks), [n, this.nActions])), 1e9);
      const nextQ = tf.sub(bootstrapFrom.apply(nextObs), illegal);
      const nextValue = c.doubleDqn
        ? tf.sum(tf.mul(nextQ, tf.oneHot(tf.argMax(tf.sub(this.online.apply(nextObs), illegal), 1), this.nActions)), 1)
        : tf.max(nextQ, 1);
      const notDone = tf.sub(1, tf.tensor1d(batch.dones));
      // Computed outside variableGrads, so y is a constant for the gradient (no gradient through the target).
      const y = tf.add(tf.tensor1d(batch.rewards), tf.mul(tf.mul(notDone, c.gamma), nextValue));
      let meanQ: tf.Tensor | null = null;
      const { value, grads } = tf.variableGrads(() => {
        const q = tf.sum(tf.mul(this.online.apply(obs), actionMask), 1);
        // variableGrads disposes what its function creates; keep the mean Q for logging.
        meanQ = tf.keep(tf.mean(q));
        return c.loss === 'huber' ? huberLoss(q, y) : (tf.losses.meanSquaredError(y, q) as tf.Scalar);
      }, this.online.variables);
      norm = this.optimizer.apply(this.online.variables.map((v) => grads[v.name]!), c.maxGradNorm);
      const stats = tf.stack(typeof norm === 'number' ? [value, meanQ!] : [value, meanQ!, norm]);
      (meanQ as tf.Tensor | null)?.dispose();
      return stats;
    });
    this.updates++;
    if (typeof norm !== 'number') return result;
    const [loss, meanQ] = result.dataSync();
    result.dispose();
    return [loss!, meanQ!, norm];
  }

  /**
   * The book's `replay`: sample `batchSize` memories without replacement and, one memory at a time, fit the
   * online network (Keras `fit` on a batch of one: MSE over all outputs, where only the chosen action's
   * target differs from the prediction), bootstrapping from the network as it is at that moment.
   */
  private replayPerSample(): MaybePromise<UpdateStats> {
    const c = this.config;
    const batch = this.buffer.sample(c.batchSize, this.rng, false);
    const w = this.encoder.rawWidth;
    let lossSum = 0;
    const row = (a: Float32Array, i: number) => a.subarray(i * w, (i + 1) * w);
    const fit = (i: number, target: number): MaybePromise<void> => {
      const loss = tf.tidy(() => {
        const x = tf.tensor(this.encoder.encode(row(batch.obs, i), 1), [1, ...this.encoder.inputShape]);
        const mask = tf.oneHot(tf.tensor1d([batch.actions[i]!], 'int32'), this.nActions);
        // Keras' target_f: the prediction with the chosen action's entry replaced by the target (a constant).
        const targetF = tf.add(tf.mul(this.online.apply(x), tf.sub(1, mask)), tf.mul(mask, target));
        const { value, grads } = tf.variableGrads(() => tf.losses.meanSquaredError(targetF, this.online.apply(x)) as tf.Scalar, this.online.variables);
        this.optimizer.apply(this.online.variables.map((v) => grads[v.name]!)); // (a device norm is disposed by the tidy)
        return value;
      });
      this.updates++;
      return andThen(readAndDispose(loss), (l) => void (lossSum += l[0]!));
    };
    // Each memory's target bootstraps from the network the previous memory's fit left.
    const done = forEachInOrder(c.batchSize, (i) =>
      batch.dones[i] ? fit(i, batch.rewards[i]!) : andThen(this.qValues(row(batch.nextObs, i), 1), (q) => fit(i, batch.rewards[i]! + c.gamma * Math.max(...q))),
    );
    return andThen(done, () => ({ loss: lossSum / c.batchSize, epsilon: this.epsilon, learningRate: c.learningRate }));
  }

  status(): Record<string, number> {
    return { epsilon: this.epsilon, updates: this.updates, buffer: this.buffer.size };
  }

  async save(dir: string): Promise<void> {
    await this.online.save(path.join(dir, 'online'));
    await this.target?.save(path.join(dir, 'target'));
    await this.optimizer.save(path.join(dir, 'optimizer'));
    this.buffer.save(path.join(dir, 'replay'));
    writeJsonAtomic(path.join(dir, 'agent.json'), { name: this.name, epsilon: this.epsilon, updates: this.updates, rng: this.rng.toJSON() });
  }

  async load(dir: string): Promise<void> {
    this.online.setWeights(Network.read(path.join(dir, 'online')).values);
    if (this.target) this.target.setWeights(Network.read(path.join(dir, 'target')).values);
    this.optimizer.load(path.join(dir, 'optimizer'));
    this.buffer.load(path.join(dir, 'replay'));
    const state = readJson<{ epsilon: number; updates: number; rng: ReturnType<Rng['toJSON']> }>(path.join(dir, 'agent.json'), 'agent state');
    this.epsilon = state.epsilon;
    this.updates = state.updates;
    this.rng = Rng.fromJSON(state.rng);
  }

  savePolicy(dir: string): MaybePromise<void> {
    return this.online.save(dir);
  }

  dispose(): void {
    this.online.dispose();
    this.target?.dispose();
    this.optimizer.dispose();
  }
}

/**
 * Mean Huber loss (δ = 1) of q − y with a hand-written gradient, clip(q − y, −1, 1) / N: the same values as
 * tf.losses.huberLoss with a third of the kernels, which matters for small networks on wasm.
 */
export const huberLoss = tf.customGrad(((q: tf.Tensor, y: tf.Tensor, save: tf.GradSaveFunc) => {
  const d = tf.sub(q, y);
  save([d]);
  const a = tf.abs(d);
  const value = tf.mean(tf.where(tf.less(a, 1), tf.mul(tf.square(d), 0.5), tf.sub(a, 0.5))) as tf.Scalar;
  return { value, gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => [tf.mul(dy, tf.div(tf.clipByValue(saved[0]!, -1, 1), saved[0]!.size)), tf.zerosLike(y)] };
}) as never) as (q: tf.Tensor, y: tf.Tensor) => tf.Scalar;

/**
 * GAN networks, optimizers, random numbers and presets for 28×28 Quick, Draw! images.
 *
 * The networks are written functionally: a spec (a list of layers) plus explicit tf.Variables, applied with
 * tfjs ops. Weights are drawn from the lab's seeded RNG (Glorot-uniform kernels, zero biases, as Keras does),
 * dropout masks come from a seeded generator on the CPU and are uploaded, so a run is reproducible on every
 * backend and resumes exactly. Batch normalisation follows Keras: batch statistics in training (with the
 * moving averages updated from them), moving statistics in inference. Networks are saved in tfjs's Layers format
 * (lab/layers_model.ts) as a Keras Sequential model in inference form (Dense, Conv2D, Conv2DTranspose,
 * BatchNormalization, LeakyReLU, Dropout, UpSampling2D, Reshape, Flatten; spectrally normalised kernels as
 * W / σ(W)), with the lab's spec, metadata and, for spectral normalisation, its raw kernels and power-iteration
 * vectors in lab.json + lab-weights.bin. Networks saved before (`rl-gan-lab/gan-net@1`) still load.
 *
 * Presets:
 *  - `book`: *Deep Learning Illustrated* (Krohn, Beyleveld & Bassens 2019) ch. 12, as its notebook runs on
 *    Keras 2.2 (RMSprop with time decay and clipvalue, uniform latent, sigmoid output, ReLU, dropout 0.4).
 *  - `fast`: a CPU-sized DCGAN with the tricks of Chollet's *Deep Learning with Python* §8.5 (LeakyReLU,
 *    strided convolutions with kernel size divisible by the stride, tanh output, normal latent, label noise,
 *    dropout in the discriminator).
 *  - `tiny`: a minute network for tests.
 */
import fs from 'node:fs';
import path from 'node:path';
import { readTensor, syncReads, tf } from '../lab/compute.js';
import { batchNormAct, leakyRelu } from '../lab/kernels/norm_act.js';
import { Rng } from '../envs/index.js';
import { readFloat32ConcatInto, readJson, writeFileAtomic, writeFloat32Concat } from '../lab/fsutil.js';
import {
  isLayersModelJson,
  type KerasActivation,
  kerasActivation,
  kerasBatchNorm,
  kerasConv2d,
  kerasDense,
  kerasDropout,
  kerasFlatten,
  kerasLeakyRelu,
  kerasReshape,
  kerasUpSampling2d,
  readLayersModel,
  takeWeight,
  writeLayersModel,
  type KerasLayer,
  type NamedWeight,
} from '../lab/layers_model.js';

// ---------------------------------------------------------------------------------------------------------------
// Random numbers

/**
 * xoshiro128** (Blackman & Vigna): a fast 32-bit generator for the millions of dropout-mask bits an iteration
 * needs (Alea through seedrandom is ~5× slower per number). Seeded by splitmix32; the state is four uint32s,
 * saved in checkpoints.
 */
export class BitRng {
  private s0 = 0;
  private s1 = 0;
  private s2 = 0;
  private s3 = 0;

  constructor(seed: number) {
    let x = (seed >>> 0) ^ Math.floor(seed / 2 ** 32);
    const next = (): number => {
      x = (x + 0x9e3779b9) | 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.s0 = next();
    this.s1 = next();
    this.s2 = next();
    this.s3 = next();
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1;
  }

  /** A uniform uint32. */
  next(): number {
    const s1 = this.s1;
    const r = Math.imul(rotl(Math.imul(s1, 5), 7), 9) >>> 0;
    const t = s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return r;
  }

  /**
   * An inverted-dropout mask: each element is 0 with probability `rate`, else 1 / (1 − rate) (Keras: x / keep ·
   * floor(keep + U)). The loop is inlined: masks are millions of elements per iteration.
   */
  dropoutMask(size: number, rate: number): Float32Array {
    const out = new Float32Array(size);
    const threshold = Math.round(rate * 2 ** 32);
    const scale = 1 / (1 - rate);
    let s0 = this.s0;
    let s1 = this.s1;
    let s2 = this.s2;
    let s3 = this.s3;
    for (let i = 0; i < size; i++) {
      const r = Math.imul(rotl(Math.imul(s1, 5), 7), 9) >>> 0;
      const t = s1 << 9;
      s2 ^= s0;
      s3 ^= s1;
      s1 ^= s2;
      s0 ^= s3;
      s2 ^= t;
      s3 = (s3 << 11) | (s3 >>> 21);
      out[i] = r >= threshold ? scale : 0;
    }
    this.s0 = s0;
    this.s1 = s1;
    this.s2 = s2;
    this.s3 = s3;
    return out;
  }

  getState(): number[] {
    return [this.s0 >>> 0, this.s1 >>> 0, this.s2 >>> 0, this.s3 >>> 0];
  }

  setState(state: readonly number[]): void {
    if (!Array.isArray(state) || state.length !== 4 || state.some((v) => !Number.isInteger(v) || v < 0 || v > 0xffffffff)) {
      throw new Error(`invalid mask RNG state ${JSON.stringify(state)}: expected four uint32 values`);
    }
    [this.s0, this.s1, this.s2, this.s3] = state.map((v) => v | 0) as [number, number, number, number];
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

export type LatentDistribution = 'uniform' | 'normal';
export type PixelRange = '0,1' | '-1,1';

/** `n` latent vectors of `dim` values: uniform in [−1, 1) or standard normal. */
export function sampleLatent(rng: Rng, n: number, dim: number, distribution: LatentDistribution): Float32Array {
  const out = new Float32Array(n * dim);
  if (distribution === 'uniform') for (let i = 0; i < out.length; i++) out[i] = rng.uniform(-1, 1);
  else for (let i = 0; i < out.length; i++) out[i] = rng.normal();
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Network specs

export type Activation = 'relu' | 'leakyRelu' | 'sigmoid' | 'tanh' | 'linear';

export type LayerSpec =
  | { type: 'dense'; units: number; activation?: Activation }
  /** 'same' padding, square kernel. */
  | { type: 'conv2d'; filters: number; kernelSize: number; strides: number; activation?: Activation }
  /** 'same' padding, square kernel (Keras Conv2DTranspose: output = input × strides). */
  | { type: 'conv2dTranspose'; filters: number; kernelSize: number; strides: number; activation?: Activation }
  | { type: 'batchNorm'; momentum: number; epsilon: number }
  | { type: 'activation'; activation: Activation }
  | { type: 'dropout'; rate: number }
  /** Nearest-neighbour upsampling by 2 (Keras UpSampling2D). */
  | { type: 'upsample' }
  | { type: 'reshape'; shape: number[] }
  | { type: 'flatten' };

export interface NetSpec {
  /** One input without the batch dimension: [latentDim] or [28, 28, 1]. */
  inputShape: number[];
  layers: LayerSpec[];
  /** Negative slope of 'leakyRelu' (default 0.2). */
  leakyReluAlpha?: number;
  /**
   * Spectral normalisation of every dense and conv2d kernel (Miyato et al. 2018, "Spectral Normalization for
   * Generative Adversarial Networks", arXiv 1802.05957): the layers use W / σ(W), σ the largest singular value of
   * W as a [fan-in, units] matrix, estimated by one power-iteration step per `powerIterate()` from a stored vector
   * u (saved with the weights, so a resumed run continues exactly). It keeps the discriminator smooth (1-Lipschitz
   * per layer), so its gradients stay informative for the generator.
   */
  spectralNorm?: boolean;
}

/** NetSpec settings a preset may leave out (a dotted `--set generator.<key>=…` may add them). */
export const OPTIONAL_NET_SPEC_KEYS: readonly string[] = ['leakyReluAlpha', 'spectralNorm'];

/** Parameters that are not trained by gradients: batch-norm moving statistics and spectral-norm vectors. */
function isStateKind(kind: ParamInfo['kind']): boolean {
  return kind === 'movingMean' || kind === 'movingVariance' || kind === 'spectralU';
}

interface ParamInfo {
  name: string;
  shape: number[];
  kind: 'kernel' | 'bias' | 'gamma' | 'beta' | 'movingMean' | 'movingVariance' | 'spectralU';
  /** Glorot fans of a kernel. */
  fanIn?: number;
  fanOut?: number;
}

/** Output shape of every layer and the parameters a spec implies, checking that it is well formed. */
export function analyseSpec(spec: NetSpec): { shapes: number[][]; params: ParamInfo[] } {
  const shapes: number[][] = [];
  const params: ParamInfo[] = [];
  let shape = [...spec.inputShape];
  const fail = (i: number, msg: string): never => {
    throw new Error(`GAN network layer ${i} (${spec.layers[i]!.type}): ${msg}`);
  };
  if (spec.spectralNorm !== undefined && typeof spec.spectralNorm !== 'boolean') throw new Error(`GAN network: spectralNorm must be true or false, got ${JSON.stringify(spec.spectralNorm)}`);
  spec.layers.forEach((layer, i) => {
    const p = `l${i}`;
    switch (layer.type) {
      case 'dense':
        if (shape.length !== 1) fail(i, `needs a flat input, got [${shape}]`);
        params.push({ name: `${p}/kernel`, shape: [shape[0]!, layer.units], kind: 'kernel', fanIn: shape[0]!, fanOut: layer.units });
        params.push({ name: `${p}/bias`, shape: [layer.units], kind: 'bias' });
        if (spec.spectralNorm) params.push({ name: `${p}/sn_u`, shape: [layer.units], kind: 'spectralU' });
        shape = [layer.units];
        break;
      case 'conv2d':
      case 'conv2dTranspose': {
        if (shape.length !== 3) fail(i, `needs [height, width, channels], got [${shape}]`);
        const [h, w, c] = shape as [number, number, number];
        const k = layer.kernelSize;
        const s = layer.strides;
        if (layer.type === 'conv2d') {
          params.push({ name: `${p}/kernel`, shape: [k, k, c, layer.filters], kind: 'kernel', fanIn: k * k * c, fanOut: k * k * layer.filters });
          shape = [Math.ceil(h / s), Math.ceil(w / s), layer.filters];
        } else {
          // Keras keeps a transposed convolution's kernel as [k, k, filters, inputChannels].
          params.push({ name: `${p}/kernel`, shape: [k, k, layer.filters, c], kind: 'kernel', fanIn: k * k * layer.filters, fanOut: k * k * c });
          shape = [h * s, w * s, layer.filters];
        }
        params.push({ name: `${p}/bias`, shape: [layer.filters], kind: 'bias' });
        if (spec.spectralNorm && layer.type === 'conv2d') params.push({ name: `${p}/sn_u`, shape: [layer.filters], kind: 'spectralU' });
        break;
      }
      case 'batchNorm': {
        const c = shape[shape.length - 1]!;
        params.push({ name: `${p}/gamma`, shape: [c], kind: 'gamma' }, { name: `${p}/beta`, shape: [c], kind: 'beta' });
        params.push({ name: `${p}/moving_mean`, shape: [c], kind: 'movingMean' }, { name: `${p}/moving_variance`, shape: [c], kind: 'movingVariance' });
        break;
      }
      case 'upsample':
        if (shape.length !== 3) fail(i, `needs [height, width, channels], got [${shape}]`);
        shape = [shape[0]! * 2, shape[1]! * 2, shape[2]!];
        break;
      case 'reshape': {
        const from = shape.reduce((a, b) => a * b, 1);
        const to = layer.shape.reduce((a, b) => a * b, 1);
        if (from !== to) fail(i, `cannot reshape [${shape}] to [${layer.shape}]`);
        shape = [...layer.shape];
        break;
      }
      case 'flatten':
        shape = [shape.reduce((a, b) => a * b, 1)];
        break;
      case 'dropout':
        if (!(layer.rate >= 0 && layer.rate < 1)) fail(i, `rate must be in [0, 1), got ${layer.rate}`);
        break;
      case 'activation':
        break;
      default:
        throw new Error(`GAN network layer ${i}: unknown type ${(layer as { type: string }).type}`);
    }
    shapes.push([...shape]);
  });
  return { shapes, params };
}

// ---------------------------------------------------------------------------------------------------------------
// Networks

/** Batch statistics of one batch-norm layer in a training pass, for the moving averages. */
export interface BatchNormStat {
  layer: number;
  mean: tf.Tensor1D;
  variance: tf.Tensor1D;
  /** Values per channel that went into the statistics (batch × height × width). */
  count: number;
}

export interface ApplyContext {
  /** Training mode: dropout active (masks from `masks`), batch norm on batch statistics. */
  training: boolean;
  /** Source of dropout masks (required in training mode when the net has dropout). */
  masks?: BitRng;
  /** When given in training mode, receives each batch-norm layer's statistics (kept tensors: dispose them). */
  batchStats?: BatchNormStat[];
  /** Training mode without dropout (batch statistics only), for recomputing the batch-norm statistics. */
  noDropout?: boolean;
}

/** model.json of GAN networks saved before the Layers format. */
const FORMAT = 'rl-gan-lab/gan-net@1';
/** lab.json beside a Layers-format model.json. */
const LAB_FORMAT = 'rl-gan-lab/gan-net@2';

/** Keras class names (snake_case, for layer names) of the layers that hold weights. */
const KERAS_NAME: Record<string, string> = { dense: 'dense', conv2d: 'conv2d', conv2dTranspose: 'conv2d_transpose', batchNorm: 'batch_normalization' };

/** The Keras weight name of lab parameter `l<i>/<what>` (`l3/kernel` → `conv2d_3/kernel`). */
function kerasWeightName(spec: NetSpec, labName: string): string {
  const [layer, what] = labName.split('/') as [string, string];
  const i = Number(layer.slice(1));
  return `${KERAS_NAME[spec.layers[i]!.type]}_${i}/${what}`;
}

let netCounter = 0;

export class GanNet {
  readonly spec: NetSpec;
  /** Trainable parameters (kernels, biases, gammas, betas) in layer order. */
  readonly trainable: tf.Variable[];
  /** Batch-norm moving statistics (not trained by gradients). */
  readonly state: tf.Variable[];
  readonly outputShape: number[];
  private readonly info: ParamInfo[];
  /** Per layer: index into `trainable` of its first parameter, and into `state`. */
  private readonly trainableAt: number[] = [];
  private readonly stateAt: number[] = [];
  /** Layers whose kernel is spectrally normalised (dense and conv2d, with `spectralNorm`). */
  private readonly spectralLayers: number[] = [];

  /** Glorot-uniform kernels, zero biases, unit gammas (Keras' defaults) from `rng`, or the given values. */
  constructor(spec: NetSpec, init: Rng | Float32Array[]) {
    this.spec = structuredClone(spec);
    const { shapes, params } = analyseSpec(spec);
    this.outputShape = shapes.at(-1) ?? [...spec.inputShape];
    this.info = params;
    const values = init instanceof Rng ? initialValues(params, init) : init;
    if (values.length !== params.length) throw new Error(`GAN network: expected ${params.length} weight arrays, got ${values.length}`);
    const id = netCounter++;
    const trainable: tf.Variable[] = [];
    const state: tf.Variable[] = [];
    let pi = 0;
    spec.layers.forEach((layer, li) => {
      this.trainableAt.push(trainable.length);
      this.stateAt.push(state.length);
      const sn = spec.spectralNorm && (layer.type === 'dense' || layer.type === 'conv2d') ? 1 : 0;
      if (sn) this.spectralLayers.push(li);
      const count = layer.type === 'batchNorm' ? 4 : layer.type === 'dense' || layer.type === 'conv2d' || layer.type === 'conv2dTranspose' ? 2 + sn : 0;
      for (let k = 0; k < count; k++, pi++) {
        const p = params[pi]!;
        const v = values[pi]!;
        const size = p.shape.reduce((a, b) => a * b, 1);
        if (v.length !== size) throw new Error(`GAN network: weight ${p.name} has ${v.length} values, expected ${size}`);
        const isState = isStateKind(p.kind);
        // The variable shares the initial tensor's storage; that tensor itself must go (else one leaks per weight).
        const initial = tf.tensor(v, p.shape, 'float32');
        const variable = tf.variable(initial, !isState, `gan${id}/${p.name}`);
        initial.dispose();
        (isState ? state : trainable).push(variable);
      }
    });
    this.trainable = trainable;
    this.state = state;
  }

  get paramCount(): number {
    return this.trainable.reduce((a, v) => a + v.size, 0);
  }

  /**
   * One power-iteration step for every spectrally normalised kernel W (as a [fan-in, units] matrix M):
   * u ← Mᵀ(Mu) / ‖Mᵀ(Mu)‖. Call once before each training pass, outside the gradient function (u is a constant
   * there). No-op without `spectralNorm`. `from`: start from that network's vectors (same spec) instead of ours.
   */
  powerIterate(steps = 1, from?: GanNet): void {
    if (this.spectralLayers.length === 0) return;
    if (from) tf.tidy(() => this.spectralLayers.forEach((li) => this.state[this.stateAt[li]!]!.assign(from.state[from.stateAt[li]!]!)));
    for (let k = 0; k < steps; k++) this.powerStep();
  }

  private powerStep(): void {
    tf.tidy(() => {
      this.spectralLayers.forEach((li) => {
        const W = this.trainable[this.trainableAt[li]!]!;
        const u = this.state[this.stateAt[li]!]!;
        const units = W.shape[W.shape.length - 1]!;
        const M = tf.reshape(W, [-1, units]) as tf.Tensor2D;
        const v = tf.matMul(M, tf.reshape(u, [units, 1]) as tf.Tensor2D);
        const next = tf.reshape(tf.matMul(M, v, true, false), [units]);
        u.assign(tf.div(next, tf.maximum(tf.norm(next), 1e-12)));
      });
    });
  }

  /** Layer `li`'s kernel as the layer uses it: W / ‖M u‖ with spectral normalisation (‖Mu‖ → σ(W)), else W. */
  private kernelOf(li: number): tf.Tensor {
    const W = this.trainable[this.trainableAt[li]!]!;
    if (this.spectralLayers.length === 0) return W;
    const u = this.state[this.stateAt[li]!]!;
    const units = W.shape[W.shape.length - 1]!;
    const sigma = tf.norm(tf.matMul(tf.reshape(W, [-1, units]) as tf.Tensor2D, tf.reshape(u, [units, 1]) as tf.Tensor2D));
    return tf.div(W, tf.maximum(sigma, 1e-12));
  }

  /** Forward pass on a batch [N, ...inputShape]; call inside tf.tidy (or a gradient function). */
  apply(x: tf.Tensor, ctx: ApplyContext): tf.Tensor {
    const alpha = this.spec.leakyReluAlpha ?? 0.2;
    let h = x;
    /** Index of an activation layer already applied by the fused batch norm before it. */
    let fusedInto = -1;
    this.spec.layers.forEach((layer, li) => {
      const t = this.trainableAt[li]!;
      if (li === fusedInto) return;
      switch (layer.type) {
        // Training passes use separate matMul / conv2d and bias-add ops: tfjs computes the gradients of a fused
        // op for all its inputs at once, so the adversarial step would compute the frozen discriminator's weight
        // gradients, and the discriminator step the gradient of its input images, only to drop them.
        case 'dense': {
          const act = layer.activation ?? 'linear';
          const kernel = this.kernelOf(li) as tf.Tensor2D;
          const bias = this.trainable[t + 1]!;
          if (ctx.training) {
            h = activate(tf.add(tf.matMul(h as tf.Tensor2D, kernel), bias), act, alpha);
          } else {
            h = tf.fused.matMul({ a: h as tf.Tensor2D, b: kernel, bias, ...(act === 'relu' ? { activation: 'relu' as const } : {}) });
            if (act !== 'relu') h = activate(h, act, alpha);
          }
          break;
        }
        case 'conv2d': {
          const act = layer.activation ?? 'linear';
          const filter = this.kernelOf(li) as tf.Tensor4D;
          const bias = this.trainable[t + 1]!;
          if (ctx.training) {
            h = activate(tf.add(tf.conv2d(h as tf.Tensor4D, filter, layer.strides, 'same'), bias), act, alpha);
          } else {
            h = tf.fused.conv2d({ x: h as tf.Tensor4D, filter, strides: layer.strides, pad: 'same', bias, ...(act === 'relu' ? { activation: 'relu' as const } : {}) });
            if (act !== 'relu') h = activate(h, act, alpha);
          }
          break;
        }
        case 'conv2dTranspose': {
          const [n, hh, ww] = h.shape as [number, number, number, number];
          const s = layer.strides;
          const y = tf.conv2dTranspose(h as tf.Tensor4D, this.trainable[t]! as tf.Tensor4D, [n, hh * s, ww * s, layer.filters], s, 'same');
          h = activate(tf.add(y, this.trainable[t + 1]!), layer.activation ?? 'linear', alpha);
          break;
        }
        case 'batchNorm': {
          const gamma = this.trainable[t]!;
          const beta = this.trainable[t + 1]!;
          if (ctx.training) {
            // One fused kernel for the normalisation and a following ReLU / leaky ReLU (lab/kernels/norm_act.ts).
            const next = this.spec.layers[li + 1];
            const act = next?.type === 'activation' && (next.activation === 'relu' || next.activation === 'leakyRelu') ? next.activation : null;
            if (act) fusedInto = li + 1;
            const out = batchNormAct(h, gamma, beta, { epsilon: layer.epsilon, activation: act ?? 'linear', alpha });
            const { mean, variance } = out;
            h = out.y;
            if (ctx.batchStats) {
              const count = h.size / h.shape[h.shape.length - 1]!;
              ctx.batchStats.push({ layer: li, mean: tf.keep(mean) as tf.Tensor1D, variance: tf.keep(variance) as tf.Tensor1D, count });
            }
          } else {
            const s = this.stateAt[li]!;
            const scale = tf.mul(gamma, tf.rsqrt(tf.add(this.state[s + 1]!, layer.epsilon)));
            h = tf.add(tf.mul(tf.sub(h, this.state[s]!), scale), beta);
          }
          break;
        }
        case 'activation':
          h = activate(h, layer.activation, alpha);
          break;
        case 'dropout':
          if (ctx.training && !ctx.noDropout && layer.rate > 0) {
            if (!ctx.masks) throw new Error('GAN network: training mode with dropout needs a mask RNG');
            h = tf.mul(h, tf.tensor(ctx.masks.dropoutMask(h.size, layer.rate), h.shape, 'float32'));
          }
          break;
        case 'upsample': {
          const [, hh, ww] = h.shape as [number, number, number, number];
          h = tf.image.resizeNearestNeighbor(h as tf.Tensor4D, [hh * 2, ww * 2]);
          break;
        }
        case 'reshape':
          h = tf.reshape(h, [h.shape[0]!, ...layer.shape]);
          break;
        case 'flatten':
          h = tf.reshape(h, [h.shape[0]!, -1]);
          break;
      }
    });
    return h;
  }

  /**
   * Keras' moving averages from a training pass's batch statistics: moving ← m·moving + (1 − m)·batch, the
   * variance made unbiased first as Keras 2.2 does (× n / (n − (1 + ε))). Disposes the statistics.
   */
  updateMovingStats(stats: BatchNormStat[]): void {
    tf.tidy(() => {
      for (const st of stats) {
        const layer = this.spec.layers[st.layer] as Extract<LayerSpec, { type: 'batchNorm' }>;
        const s = this.stateAt[st.layer]!;
        const m = layer.momentum;
        const unbiased = tf.mul(st.variance, st.count / (st.count - (1 + layer.epsilon)));
        this.state[s]!.assign(tf.add(tf.mul(this.state[s]!, m), tf.mul(st.mean, 1 - m)));
        this.state[s + 1]!.assign(tf.add(tf.mul(this.state[s + 1]!, m), tf.mul(unbiased, 1 - m)));
      }
    });
    for (const st of stats) {
      st.mean.dispose();
      st.variance.dispose();
    }
  }

  /**
   * Sets the batch-norm moving statistics to the statistics of one training-mode pass (without dropout) over
   * `inputs` (n × inputShape, flattened): the "standing statistics" of a network whose weights were averaged.
   */
  setBatchNormStats(inputs: Float32Array): void {
    const per = this.spec.inputShape.reduce((a, b) => a * b, 1);
    const n = inputs.length / per;
    if (!Number.isInteger(n) || n < 2) throw new Error(`GAN network: batch-norm statistics need at least 2 inputs of ${per} values, got ${inputs.length} values`);
    const stats: BatchNormStat[] = [];
    tf.tidy(() => {
      this.apply(tf.tensor(inputs, [n, ...this.spec.inputShape], 'float32'), { training: true, noDropout: true, batchStats: stats });
    });
    tf.tidy(() => {
      for (const st of stats) {
        const s = this.stateAt[st.layer]!;
        this.state[s]!.assign(st.mean);
        // Unbiased, like the moving variance Keras accumulates.
        this.state[s + 1]!.assign(tf.mul(st.variance, st.count / (st.count - 1)));
      }
    });
    for (const st of stats) {
      st.mean.dispose();
      st.variance.dispose();
    }
  }

  /** The variables in the spec's parameter order (trainable and state interleaved as the layers hold them). */
  private orderedVariables(): tf.Variable[] {
    let t = 0;
    let s = 0;
    return this.info.map((p) => (isStateKind(p.kind) ? this.state[s++]! : this.trainable[t++]!));
  }

  /**
   * All weights (trainable and state) in the spec's parameter order, as copies, read synchronously: backends
   * with synchronous reads only (cpu, wasm, tensorflow). `readWeights()` works on every backend.
   */
  getWeights(): Float32Array[] {
    if (!syncReads()) throw new Error(`GanNet.getWeights() reads synchronously, which backend '${tf.getBackend()}' cannot: use await readWeights()`);
    // Copies: on the cpu backend dataSync() returns the tensor's own storage.
    return this.orderedVariables().map((v) => (v.dataSync() as Float32Array).slice());
  }

  /** All weights (trainable and state) in the spec's parameter order, as copies, on any backend (webgpu reads asynchronously). */
  async readWeights(): Promise<Float32Array[]> {
    if (syncReads()) return this.getWeights();
    // Copies: a backend may hand back the array a tensor was made from while it has not been uploaded.
    return Promise.all(this.orderedVariables().map(async (v) => ((await v.data()) as Float32Array).slice()));
  }

  setWeights(values: Float32Array[]): void {
    if (values.length !== this.info.length) throw new Error(`GAN network: expected ${this.info.length} weight arrays, got ${values.length}`);
    tf.tidy(() => {
      let t = 0;
      let s = 0;
      this.info.forEach((p, i) => {
        const isState = isStateKind(p.kind);
        const v = isState ? this.state[s++]! : this.trainable[t++]!;
        v.assign(tf.tensor(values[i]!, p.shape, 'float32'));
      });
    });
  }

  dispose(): void {
    for (const v of [...this.trainable, ...this.state]) v.dispose();
  }

  /**
   * Writes the network in tfjs's Layers format in inference form (model.json + weights.bin), and the spec and
   * `meta` in lab.json; with spectral normalisation the Keras kernels are W / σ(W) and the raw kernels and
   * power-iteration vectors go to lab-weights.bin, so training resumes exactly. Async: GPU backends read the
   * weights asynchronously.
   */
  async save(dir: string, meta: Record<string, unknown> = {}): Promise<void> {
    const values = await this.readWeights();
    const alpha = this.spec.leakyReluAlpha ?? 0.2;
    const effective = this.spectralLayers.length ? await this.effectiveKernels() : new Map<number, Float32Array>();
    const layers: KerasLayer[] = [];
    const weights: NamedWeight[] = [];
    let p = 0;
    this.spec.layers.forEach((layer, i) => {
      const input = layers.length === 0 ? this.spec.inputShape : undefined;
      const name = `${KERAS_NAME[layer.type] ?? layer.type}_${i}`;
      const take = (count: number) => {
        for (let k = 0; k < count; k++, p++) {
          const info = this.info[p]!;
          if (info.kind === 'spectralU') continue;
          const v = info.kind === 'kernel' && effective.has(i) ? effective.get(i)! : values[p]!;
          weights.push({ name: kerasWeightName(this.spec, info.name), shape: info.shape, values: v });
        }
      };
      const sn = this.spec.spectralNorm && (layer.type === 'dense' || layer.type === 'conv2d') ? 1 : 0;
      switch (layer.type) {
        case 'dense':
        case 'conv2d':
        case 'conv2dTranspose': {
          // Keras has no leaky-ReLU activation name: a linear layer, then a LeakyReLU layer.
          const leaky = layer.activation === 'leakyRelu';
          const act = leaky ? 'linear' : ((layer.activation ?? 'linear') as KerasActivation);
          layers.push(
            layer.type === 'dense'
              ? kerasDense(name, layer.units, act, input)
              : kerasConv2d(name, layer.type === 'conv2d' ? 'Conv2D' : 'Conv2DTranspose', { ...layer, padding: 'same', activation: act }, input),
          );
          if (leaky) layers.push(kerasLeakyRelu(`leaky_re_lu_${i}`, alpha));
          take(2 + sn);
          break;
        }
        case 'batchNorm':
          layers.push(kerasBatchNorm(name, layer.momentum, layer.epsilon, input));
          take(4);
          break;
        case 'activation':
          if (layer.activation === 'leakyRelu') layers.push(kerasLeakyRelu(`leaky_re_lu_${i}`, alpha, input));
          else layers.push(kerasActivation(`activation_${i}`, layer.activation, input));
          break;
        case 'dropout':
          layers.push(kerasDropout(`dropout_${i}`, layer.rate, input));
          break;
        case 'upsample':
          layers.push(kerasUpSampling2d(`up_sampling2d_${i}`, 2, input));
          break;
        case 'reshape':
          layers.push(kerasReshape(`reshape_${i}`, layer.shape, input));
          break;
        case 'flatten':
          layers.push(kerasFlatten(`flatten_${i}`, input));
          break;
      }
    });
    const labWeights = this.spectralLayers.length ? this.info.map((info, k) => ({ name: info.name, shape: info.shape, values: values[k]! })) : undefined;
    writeLayersModel(dir, { name: 'gan_network', layers, weights, meta: { ...meta, format: LAB_FORMAT, spec: this.spec }, ...(labWeights ? { labWeights } : {}) });
  }

  /** Spectrally normalised kernels W / ‖M u‖ as the layers use them, by layer index. */
  private async effectiveKernels(): Promise<Map<number, Float32Array>> {
    const out = new Map<number, Float32Array>();
    for (const li of this.spectralLayers) {
      const k = tf.tidy(() => this.kernelOf(li));
      try {
        // A copy: on the cpu backend a synchronous read returns the tensor's own storage.
        out.set(li, (await readTensor(k)).slice() as Float32Array);
      } finally {
        k.dispose();
      }
    }
    return out;
  }

  /**
   * Reads a saved network's spec, metadata and weights without creating variables: the Layers format (spec and
   * metadata from lab.json; with spectral normalisation, the raw weights from lab-weights.bin), or the lab's
   * format from before it.
   */
  static read(dir: string): { spec: NetSpec; meta: Record<string, unknown>; values: Float32Array[] } {
    const file = path.join(dir, 'model.json');
    const json = readJson<Record<string, unknown> & { format?: string; spec?: NetSpec; weights?: { name: string; shape: number[]; offset: number }[]; weightsFile?: string }>(file, 'model file');
    if (isLayersModelJson(json)) {
      const model = readLayersModel(dir);
      if (!model.meta || model.meta.format !== LAB_FORMAT || typeof model.meta.spec !== 'object' || model.meta.spec === null) {
        throw new Error(`model file ${file} is a Layers model without the lab's lab.json (format '${LAB_FORMAT}' with the network spec)`);
      }
      const { format: _f, spec, labWeights: _l, ...meta } = model.meta as { format: string; spec: NetSpec } & Record<string, unknown>;
      const { params } = analyseSpec(spec);
      if (spec.spectralNorm && !model.labWeights) throw new Error(`${path.join(dir, 'lab.json')}: a spectrally normalised network needs its raw weights (labWeights)`);
      const values = params.map((p) => (model.labWeights ? takeWeight(model.labWeights, p.name, p.shape, path.join(dir, 'lab.json')) : takeWeight(model.weights, kerasWeightName(spec, p.name), p.shape, file)));
      return { spec, meta, values };
    }
    if (json.format !== FORMAT || !json.spec || !Array.isArray(json.weights)) throw new Error(`model file ${file} is not a lab GAN network (expected a Layers model or format '${FORMAT}')`);
    const { params } = analyseSpec(json.spec);
    const binFile = path.join(dir, json.weightsFile ?? 'weights.bin');
    const raw = fs.readFileSync(binFile);
    const total = params.reduce((a, p) => a + p.shape.reduce((x, y) => x * y, 1), 0);
    if (raw.byteLength !== total * 4) throw new Error(`weights file ${binFile} has ${raw.byteLength} bytes, expected ${total * 4} for this architecture`);
    if (json.weights.length !== params.length) throw new Error(`model file ${file} lists ${json.weights.length} weights, the architecture has ${params.length}`);
    const all = new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
    const values = json.weights.map((w) => all.slice(w.offset, w.offset + w.shape.reduce((a, b) => a * b, 1)));
    const { format: _f, spec, weights: _w, weightsFile: _b, ...meta } = json;
    return { spec, meta, values };
  }

  static load(dir: string): GanNet {
    const { spec, values } = GanNet.read(dir);
    return new GanNet(spec, values);
  }
}

function initialValues(params: ParamInfo[], rng: Rng): Float32Array[] {
  return params.map((p) => {
    const size = p.shape.reduce((a, b) => a * b, 1);
    const w = new Float32Array(size);
    if (p.kind === 'kernel') {
      const limit = Math.sqrt(6 / (p.fanIn! + p.fanOut!));
      for (let k = 0; k < size; k++) w[k] = rng.uniform(-limit, limit);
    } else if (p.kind === 'gamma' || p.kind === 'movingVariance') {
      w.fill(1);
    } else if (p.kind === 'spectralU') {
      // A unit vector; power iteration turns it toward the top singular vector within a few steps.
      w.fill(1 / Math.sqrt(size));
    }
    return w;
  });
}

function activate(h: tf.Tensor, a: Activation, alpha: number): tf.Tensor {
  switch (a) {
    case 'relu':
      return tf.relu(h);
    case 'leakyRelu':
      return leakyRelu(h, alpha);
    case 'sigmoid':
      return tf.sigmoid(h);
    case 'tanh':
      return tf.tanh(h);
    case 'linear':
      return h;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Losses

/** Keras' fuzz factor: probabilities are clipped to [ε, 1 − ε] before the logarithm. */
export const KERAS_EPSILON = 1e-7;

/** Mean binary cross-entropy of probabilities `p` [N, 1] against targets `y` [N, 1], Keras style. */
export function binaryCrossEntropy(p: tf.Tensor, y: tf.Tensor): tf.Scalar {
  const pc = tf.clipByValue(p, KERAS_EPSILON, 1 - KERAS_EPSILON);
  return tf.neg(tf.mean(tf.add(tf.mul(y, tf.log(pc)), tf.mul(tf.sub(1, y), tf.log(tf.sub(1, pc)))))) as tf.Scalar;
}

// ---------------------------------------------------------------------------------------------------------------
// Optimizers

export type OptimizerSpec =
  /** Keras 2.2 RMSprop: a ← ρa + (1 − ρ)g², w ← w − lr_t·g / (√a + ε). */
  | { type: 'rmsprop'; learningRate: number; rho: number; epsilon: number; decay: number; clipValue: number | null }
  /** Keras 2.2 Adam: lr_t = lr_decayed·√(1 − β2ᵗ) / (1 − β1ᵗ), w ← w − lr_t·m / (√v + ε). */
  | { type: 'adam'; learningRate: number; beta1: number; beta2: number; epsilon: number; decay: number; clipValue: number | null };

/**
 * RMSprop or Adam with Keras 2.2 semantics: time decay lr_t = lr / (1 + decay · iterations) with iterations
 * counted before the update, and clipvalue clipping each gradient element to [−c, c]. Two ways to run the same
 * update:
 *  - on backends that read synchronously (cpu, wasm, tensorflow), one JS pass over Float32Arrays per variable
 *    (as lab/optim.ts does for Adam): on wasm that beats a chain of element-wise kernels;
 *  - on GPU backends (webgpu, which cannot read synchronously), tensor ops on one flat vector (all gradients
 *    concatenated, each slot one flat tf.Variable, the weights split back at the end): a dozen kernel launches
 *    per update whatever the number of weight tensors, and nothing leaves the device.
 * The checkpoint files (optimizer.json + optimizer.bin) are the same either way, so a checkpoint moves between
 * backends.
 */
export class GanOptimizer {
  iterations = 0;
  /** Whether the slots live on the device as variables (the tensor-op path) rather than in JS arrays. */
  readonly onDevice: boolean;
  /** The JS path's slots: [slot][variable] (Adam: m, v; RMSprop: a). */
  private readonly slots: Float32Array[][] = [];
  /** The device path's slots: one flat variable per slot, the variables' values concatenated in order (optimizer.bin's layout). */
  private readonly slotVariables: tf.Variable[] = [];

  constructor(
    readonly spec: OptimizerSpec,
    readonly variables: tf.Variable[],
    /** Force a path (tests); default: tensor ops exactly when the backend cannot read synchronously. */
    options: { onDevice?: boolean } = {},
  ) {
    if (!(spec.learningRate > 0)) throw new Error(`optimizer: learningRate must be positive, got ${spec.learningRate}`);
    this.onDevice = options.onDevice ?? !syncReads();
    const nSlots = spec.type === 'adam' ? 2 : 1;
    for (let k = 0; k < nSlots; k++) {
      // In a tidy: the zeros tensor goes, the variable (untracked by tidy) stays.
      const total = variables.reduce((n, v) => n + v.size, 0);
      if (this.onDevice) this.slotVariables.push(tf.tidy(() => tf.variable(tf.zeros([total], 'float32'), false)));
      else this.slots.push(variables.map((v) => new Float32Array(v.size)));
    }
  }

  /** The learning rate of the next update (after time decay). */
  get learningRate(): number {
    return this.spec.learningRate / (1 + this.spec.decay * this.iterations);
  }

  /** Applies one update from `grads` (one per variable, in order). */
  apply(grads: tf.Tensor[]): void {
    if (grads.length !== this.variables.length) throw new Error(`optimizer: expected ${this.variables.length} gradients, got ${grads.length}`);
    if (this.onDevice) this.applyOnDevice(grads);
    else this.applyInJs(grads);
    this.iterations++;
  }

  private applyInJs(grads: tf.Tensor[]): void {
    const spec = this.spec;
    const lr = this.learningRate;
    const clip = spec.clipValue ?? Infinity;
    const t = this.iterations + 1;
    const eps = spec.epsilon;
    const updated: tf.Tensor[] = [];
    this.variables.forEach((variable, k) => {
      const g = grads[k]!.dataSync() as Float32Array;
      // A copy: on the cpu backend dataSync() returns the tensor's own storage.
      const w = (variable.dataSync() as Float32Array).slice();
      if (spec.type === 'rmsprop') {
        const a = this.slots[0]![k]!;
        const rho = spec.rho;
        for (let i = 0; i < w.length; i++) {
          let gi = g[i]!;
          gi = gi > clip ? clip : gi < -clip ? -clip : gi;
          const ai = rho * a[i]! + (1 - rho) * gi * gi;
          a[i] = ai;
          w[i] = w[i]! - (lr * gi) / (Math.sqrt(ai) + eps);
        }
      } else {
        const m = this.slots[0]![k]!;
        const v = this.slots[1]![k]!;
        const { beta1: b1, beta2: b2 } = spec;
        const lrT = (lr * Math.sqrt(1 - b2 ** t)) / (1 - b1 ** t);
        for (let i = 0; i < w.length; i++) {
          let gi = g[i]!;
          gi = gi > clip ? clip : gi < -clip ? -clip : gi;
          const mi = b1 * m[i]! + (1 - b1) * gi;
          const vi = b2 * v[i]! + (1 - b2) * gi * gi;
          m[i] = mi;
          v[i] = vi;
          w[i] = w[i]! - (lrT * mi) / (Math.sqrt(vi) + eps);
        }
      }
      const fresh = tf.tensor(w, variable.shape, 'float32');
      variable.assign(fresh);
      updated.push(fresh);
    });
    tf.dispose(updated);
  }

  /** The same equations as applyInJs, as tensor ops on the flat vector (float32 throughout, where the JS loop rounds from float64). */
  private applyOnDevice(grads: tf.Tensor[]): void {
    const spec = this.spec;
    const lr = this.learningRate;
    const t = this.iterations + 1;
    const flat = (ts: tf.Tensor[]) => (ts.length === 1 ? tf.reshape(ts[0]!, [-1]) : tf.concat(ts.map((x) => tf.reshape(x, [-1]))));
    tf.tidy(() => {
      const raw = flat(grads);
      const g = spec.clipValue === null ? raw : tf.clipByValue(raw, -spec.clipValue, spec.clipValue);
      const w = flat(this.variables);
      let next: tf.Tensor;
      if (spec.type === 'rmsprop') {
        const a = this.slotVariables[0]!;
        const ai = tf.add(tf.mul(a, spec.rho), tf.mul(tf.square(g), 1 - spec.rho));
        a.assign(ai);
        next = tf.sub(w, tf.div(tf.mul(g, lr), tf.add(tf.sqrt(ai), spec.epsilon)));
      } else {
        const [m, v] = this.slotVariables as [tf.Variable, tf.Variable];
        const { beta1: b1, beta2: b2 } = spec;
        const lrT = (lr * Math.sqrt(1 - b2 ** t)) / (1 - b1 ** t);
        const mi = tf.add(tf.mul(m, b1), tf.mul(g, 1 - b1));
        const vi = tf.add(tf.mul(v, b2), tf.mul(tf.square(g), 1 - b2));
        m.assign(mi);
        v.assign(vi);
        next = tf.sub(w, tf.div(tf.mul(mi, lrT), tf.add(tf.sqrt(vi), spec.epsilon)));
      }
      const parts = this.variables.length === 1 ? [next] : tf.split(next, this.variables.map((x) => x.size));
      this.variables.forEach((variable, k) => variable.assign(tf.reshape(parts[k]!, variable.shape)));
    });
  }

  /** optimizer.bin's parts in order (slot after slot, each the variables' values in order); copies on the device path. */
  private async slotParts(): Promise<Float32Array[]> {
    if (!this.onDevice) return this.slots.flat();
    return Promise.all(this.slotVariables.map(async (v) => ((await readTensor(v)) as Float32Array).slice()));
  }

  async save(dir: string): Promise<void> {
    writeFloat32Concat(path.join(dir, 'optimizer.bin'), await this.slotParts());
    const nSlots = this.onDevice ? this.slotVariables.length : this.slots.length;
    writeFileAtomic(
      path.join(dir, 'optimizer.json'),
      JSON.stringify({ optimizer: 'GanOptimizer', spec: this.spec, iterations: this.iterations, slots: nSlots, sizes: this.variables.map((v) => v.size) }, null, 2) + '\n',
    );
  }

  load(dir: string): void {
    const meta = readJson<{ optimizer: string; spec: OptimizerSpec; iterations: number; slots: number; sizes: number[] }>(path.join(dir, 'optimizer.json'), 'optimizer state');
    const sizes = this.variables.map((v) => v.size);
    const nSlots = this.onDevice ? this.slotVariables.length : this.slots.length;
    if (meta.optimizer !== 'GanOptimizer' || meta.spec?.type !== this.spec.type || meta.slots !== nSlots || JSON.stringify(meta.sizes) !== JSON.stringify(sizes)) {
      throw new Error(`optimizer state in ${dir} does not fit this network and optimizer (${meta.spec?.type} sizes ${meta.sizes} vs ${this.spec.type} ${sizes})`);
    }
    // The same bytes either way: slot after slot, each the variables' values in order.
    const target = this.onDevice ? this.slotVariables.map((v) => new Float32Array(v.size)) : this.slots.flat();
    if (!readFloat32ConcatInto(path.join(dir, 'optimizer.bin'), target)) throw new Error(`optimizer state file in ${dir} has the wrong size`);
    if (this.onDevice) tf.tidy(() => this.slotVariables.forEach((v, s) => v.assign(tf.tensor1d(target[s]!, 'float32'))));
    this.iterations = meta.iterations;
  }

  /** Frees the device path's slot variables (nothing to free on the JS path). */
  dispose(): void {
    for (const v of this.slotVariables) v.dispose();
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Presets

export interface GanHyperparameters {
  latentDim: number;
  latentDistribution: LatentDistribution;
  /** Pixel scale the generator produces and the real images are mapped to. */
  pixelRange: PixelRange;
  generator: NetSpec;
  discriminator: NetSpec;
  discriminatorOptimizer: OptimizerSpec;
  /** The adversarial model's optimizer (it updates the generator only). */
  generatorOptimizer: OptimizerSpec;
  batch: number;
  iterations: number;
  /** Target of real images for the discriminator (1, or less for one-sided label smoothing). */
  realLabel: number;
  /** Uniform noise added to the discriminator's targets: real → realLabel − u·labelNoise, fake → u·labelNoise. */
  labelNoise: number;
  /**
   * How the discriminator step's fakes are made: 'inference' (Keras' generator.predict: moving batch-norm
   * statistics, no dropout, as the book does) or 'training' (batch statistics and dropout, as PyTorch DCGANs do;
   * the moving statistics are updated then too).
   */
  fakesMode: 'inference' | 'training';
  /**
   * Decay of an exponential moving average of the generator's weights (0: none). With one, the samples, the
   * grids, the saved generator and `lab gan eval` use the average (batch-norm statistics recomputed for it), which
   * smooths out the oscillation of the last iterations (Yazıcı et al. 2019, arXiv 1806.04498). Runs written
   * before this setting existed have none.
   */
  generatorEma?: number;
  /** Iterations between update events (loss averages) and progress. */
  logEvery: number;
  /** Iterations between sample grids (and `samples` events). */
  sampleEvery: number;
  /** Iterations between checkpoints (0: only at the end). */
  checkpointEvery: number;
}

export interface GanPreset {
  description: string;
  hyperparameters: GanHyperparameters;
}

/** *Deep Learning Illustrated* ch. 12 (the notebook generative_adversarial_network.ipynb on Keras 2.2.0). */
function bookPreset(): GanHyperparameters {
  const depth = 64;
  const p = 0.4;
  return {
    latentDim: 32,
    latentDistribution: 'uniform',
    pixelRange: '0,1',
    discriminator: {
      inputShape: [28, 28, 1],
      layers: [
        { type: 'conv2d', filters: depth, kernelSize: 5, strides: 2, activation: 'relu' },
        { type: 'dropout', rate: p },
        { type: 'conv2d', filters: depth * 2, kernelSize: 5, strides: 2, activation: 'relu' },
        { type: 'dropout', rate: p },
        { type: 'conv2d', filters: depth * 4, kernelSize: 5, strides: 2, activation: 'relu' },
        { type: 'dropout', rate: p },
        { type: 'conv2d', filters: depth * 8, kernelSize: 5, strides: 1, activation: 'relu' },
        { type: 'dropout', rate: p },
        { type: 'flatten' },
        { type: 'dense', units: 1, activation: 'sigmoid' },
      ],
    },
    generator: {
      inputShape: [32],
      layers: [
        { type: 'dense', units: 7 * 7 * depth },
        { type: 'batchNorm', momentum: 0.9, epsilon: 1e-3 },
        { type: 'activation', activation: 'relu' },
        { type: 'reshape', shape: [7, 7, depth] },
        { type: 'dropout', rate: p },
        { type: 'upsample' },
        { type: 'conv2dTranspose', filters: depth / 2, kernelSize: 5, strides: 1 },
        { type: 'batchNorm', momentum: 0.9, epsilon: 1e-3 },
        { type: 'activation', activation: 'relu' },
        { type: 'upsample' },
        { type: 'conv2dTranspose', filters: depth / 4, kernelSize: 5, strides: 1 },
        { type: 'batchNorm', momentum: 0.9, epsilon: 1e-3 },
        { type: 'activation', activation: 'relu' },
        { type: 'conv2dTranspose', filters: depth / 8, kernelSize: 5, strides: 1 },
        { type: 'batchNorm', momentum: 0.9, epsilon: 1e-3 },
        { type: 'activation', activation: 'relu' },
        { type: 'conv2d', filters: 1, kernelSize: 5, strides: 1, activation: 'sigmoid' },
      ],
    },
    discriminatorOptimizer: { type: 'rmsprop', learningRate: 0.0008, rho: 0.9, epsilon: KERAS_EPSILON, decay: 6e-8, clipValue: 1.0 },
    generatorOptimizer: { type: 'rmsprop', learningRate: 0.0004, rho: 0.9, epsilon: KERAS_EPSILON, decay: 3e-8, clipValue: 1.0 },
    batch: 128,
    iterations: 2000,
    realLabel: 1,
    labelNoise: 0,
    fakesMode: 'inference',
    generatorEma: 0,
    logEvery: 10,
    sampleEvery: 100,
    checkpointEvery: 500,
  };
}

/** A CPU-sized DCGAN with Chollet's tricks; see the README for how it was tuned. */
function fastPreset(): GanHyperparameters {
  return {
    latentDim: 64,
    latentDistribution: 'normal',
    pixelRange: '-1,1',
    discriminator: {
      inputShape: [28, 28, 1],
      leakyReluAlpha: 0.2,
      layers: [
        { type: 'conv2d', filters: 32, kernelSize: 4, strides: 2, activation: 'leakyRelu' },
        { type: 'conv2d', filters: 64, kernelSize: 4, strides: 2, activation: 'leakyRelu' },
        { type: 'flatten' },
        { type: 'dropout', rate: 0.4 },
        { type: 'dense', units: 1, activation: 'sigmoid' },
      ],
    },
    generator: {
      inputShape: [64],
      leakyReluAlpha: 0.2,
      layers: [
        { type: 'dense', units: 7 * 7 * 64 },
        { type: 'batchNorm', momentum: 0.9, epsilon: 1e-3 },
        { type: 'activation', activation: 'leakyRelu' },
        { type: 'reshape', shape: [7, 7, 64] },
        { type: 'conv2dTranspose', filters: 32, kernelSize: 4, strides: 2 },
        { type: 'batchNorm', momentum: 0.9, epsilon: 1e-3 },
        { type: 'activation', activation: 'leakyRelu' },
        // Up to 28×28 with 16 channels, then a 3×3 convolution to the image: the strokes come out sharper and
        // the FD lower per iteration than from a transposed convolution straight to one channel.
        { type: 'conv2dTranspose', filters: 16, kernelSize: 4, strides: 2 },
        { type: 'batchNorm', momentum: 0.9, epsilon: 1e-3 },
        { type: 'activation', activation: 'leakyRelu' },
        { type: 'conv2d', filters: 1, kernelSize: 3, strides: 1, activation: 'tanh' },
      ],
    },
    // Both at 4e-4 (measured at batch 64). G at 4e-4 with D at 2e-4 beat both at 2e-4 (FD ratio 6.1 vs 7.3 on apple, seed 1); raising D
    // to 4e-4 too gave 6.4 vs 6.6 and 6.6 vs 7.4 on seeds 1 and 2 (README, "Training a GAN").
    discriminatorOptimizer: { type: 'adam', learningRate: 0.0004, beta1: 0.5, beta2: 0.999, epsilon: KERAS_EPSILON, decay: 0, clipValue: null },
    generatorOptimizer: { type: 'adam', learningRate: 0.0004, beta1: 0.5, beta2: 0.999, epsilon: KERAS_EPSILON, decay: 0, clipValue: null },
    // Batch 32 reaches the FD of batch 64 in about half the time (more updates per image seen); 2400 iterations
    // take 7–9 minutes on wasm on the slower 2-vCPU VM (README, "Training a GAN").
    batch: 32,
    iterations: 2400,
    realLabel: 1,
    labelNoise: 0.05,
    fakesMode: 'training',
    generatorEma: 0.995,
    logEvery: 25,
    sampleEvery: 200,
    checkpointEvery: 500,
  };
}

/** Minute networks for tests (seconds on the cpu backend). */
function tinyPreset(): GanHyperparameters {
  return {
    latentDim: 8,
    latentDistribution: 'normal',
    pixelRange: '-1,1',
    discriminator: {
      inputShape: [28, 28, 1],
      layers: [
        { type: 'conv2d', filters: 4, kernelSize: 4, strides: 2, activation: 'leakyRelu' },
        { type: 'dropout', rate: 0.3 },
        { type: 'conv2d', filters: 8, kernelSize: 4, strides: 2, activation: 'relu' },
        { type: 'flatten' },
        { type: 'dense', units: 1, activation: 'sigmoid' },
      ],
    },
    generator: {
      inputShape: [8],
      layers: [
        { type: 'dense', units: 7 * 7 * 8 },
        { type: 'batchNorm', momentum: 0.9, epsilon: 1e-3 },
        { type: 'activation', activation: 'relu' },
        { type: 'reshape', shape: [7, 7, 8] },
        { type: 'dropout', rate: 0.2 },
        { type: 'upsample' },
        { type: 'conv2dTranspose', filters: 4, kernelSize: 3, strides: 1 },
        { type: 'batchNorm', momentum: 0.9, epsilon: 1e-3 },
        { type: 'activation', activation: 'leakyRelu' },
        { type: 'conv2dTranspose', filters: 4, kernelSize: 4, strides: 2 },
        { type: 'activation', activation: 'relu' },
        { type: 'conv2d', filters: 1, kernelSize: 3, strides: 1, activation: 'tanh' },
      ],
    },
    discriminatorOptimizer: { type: 'rmsprop', learningRate: 0.001, rho: 0.9, epsilon: KERAS_EPSILON, decay: 1e-4, clipValue: 1.0 },
    generatorOptimizer: { type: 'adam', learningRate: 0.001, beta1: 0.5, beta2: 0.999, epsilon: KERAS_EPSILON, decay: 0, clipValue: null },
    batch: 8,
    iterations: 20,
    realLabel: 0.9,
    labelNoise: 0.05,
    fakesMode: 'inference',
    generatorEma: 0,
    logEvery: 2,
    sampleEvery: 5,
    checkpointEvery: 5,
  };
}

export const GAN_PRESETS: Record<string, GanPreset> = {
  book: {
    description: 'Deep Learning Illustrated ch. 12: ReLU conv discriminator 64-128-256-512, upsampling generator with batch norm, RMSprop, 2000 iterations of batch 128',
    hyperparameters: bookPreset(),
  },
  fast: {
    description: "a CPU-sized DCGAN with Chollet's tricks (LeakyReLU, strided 4x4 convolutions, tanh, normal latent, label noise, dropout in D)",
    hyperparameters: fastPreset(),
  },
  tiny: {
    description: 'minute networks for tests and smoke runs',
    hyperparameters: tinyPreset(),
  },
};

export function ganPreset(name: string): GanPreset {
  const preset = typeof name === 'string' && Object.hasOwn(GAN_PRESETS, name) ? GAN_PRESETS[name] : undefined;
  if (!preset) throw new Error(`unknown GAN preset '${name}'; choose one of ${Object.keys(GAN_PRESETS).join(', ')}`);
  return structuredClone(preset);
}

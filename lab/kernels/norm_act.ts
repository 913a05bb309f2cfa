/**
 * Fused training-mode batch normalisation + activation, and leaky ReLU, as single kernels with one-kernel
 * gradients, for the wasm and cpu backends.
 *
 * Why: written with tfjs ops, batch norm in training mode and its gradient are a dozen element-wise kernels
 * (Mean, Sub, Square, Rsqrt, Mul, Add, their gradients, Identity copies), and a leaky ReLU's gradient is three
 * (Greater, Select, Multiply). On wasm these element-wise kernels are not vectorised: for the `fast` GAN preset
 * they were ~35% of an iteration. Here each is one or two passes of a JS loop over the tensors' memory (the
 * wasm heap, or the cpu backend's typed arrays), with per-channel sums in float64.
 *
 *  - `batchNormAct(x, gamma, beta, {epsilon, activation, alpha})` → {y, mean, variance}: y = act(γ·(x − μ)/√(σ² + ε)
 *    + β) with μ, σ² the batch statistics over every axis but the last (the biased variance, as in training).
 *    The gradient is the full batch-norm derivative through μ and σ²; gradients arriving at `mean` and
 *    `variance` are ignored (they are for the moving averages, which are not differentiated).
 *  - `leakyRelu(x, alpha)`: max(x, αx), with the gradient dy where y > 0 and α·dy where y < 0.
 *
 * Other backends (tensorflow, webgl) get the same maths from ordinary tfjs ops.
 */
import * as tf from '@tensorflow/tfjs';
import type { KernelConfig, KernelFunc, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs';

export type NormActivation = 'linear' | 'relu' | 'leakyRelu';

const BN = 'LabBatchNormAct';
const BN_GRAD = 'LabBatchNormActGrad';
const LEAKY = 'LabLeakyRelu';
const LEAKY_GRAD = 'LabLeakyReluGrad';
const BACKENDS = ['wasm', 'cpu'] as const;

// ---------------------------------------------------------------------------------------------------------------
// The loops (channels last: x is rows × C)

function slopeOf(activation: NormActivation, alpha: number): number {
  return activation === 'leakyRelu' ? alpha : activation === 'relu' ? 0 : 1;
}

// The loops run channel by channel with scalar accumulators (strided reads): in V8 this is ~2x faster than
// row-major loops accumulating into per-channel typed arrays. The activation is written branch-free
// (αz for z < 0 equals ((1 + α)z − (1 − α)|z|) / 2), as the sign of z is unpredictable.

/** Batch statistics of x (rows × C) into mean and variance (biased), then y = act(scale·x + shift). */
export function batchNormActForward(
  x: Float32Array,
  C: number,
  gamma: Float32Array,
  beta: Float32Array,
  epsilon: number,
  activation: NormActivation,
  alpha: number,
  y: Float32Array,
  mean: Float32Array,
  variance: Float32Array,
): void {
  const L = x.length;
  const n = L / C;
  const slope = slopeOf(activation, alpha);
  const p = (1 + slope) / 2;
  const q = (1 - slope) / 2;
  for (let c = 0; c < C; c++) {
    let sum = 0;
    for (let i = c; i < L; i += C) sum += x[i]!;
    const mu = sum / n;
    // Two passes (mean, then squared deviations) keep the variance exact when |μ| ≫ σ.
    let sq = 0;
    for (let i = c; i < L; i += C) {
      const d = x[i]! - mu;
      sq += d * d;
    }
    const v = sq / n;
    mean[c] = mu;
    variance[c] = v;
    const scale = gamma[c]! / Math.sqrt(v + epsilon);
    const shift = beta[c]! - mu * scale;
    if (q === 0) {
      for (let i = c; i < L; i += C) y[i] = x[i]! * scale + shift;
    } else {
      for (let i = c; i < L; i += C) {
        const z = x[i]! * scale + shift;
        y[i] = p * z + q * Math.abs(z);
      }
    }
  }
}

/**
 * The gradient of batchNormActForward: with dz = act'·dy and x̂ = (x − μ)/√(σ² + ε),
 * dβ = Σ dz, dγ = Σ dz·x̂, dx = γ/√(σ² + ε) · (dz − dβ/n − x̂·dγ/n). The activation's side is read off y
 * (y > 0 exactly where the pre-activation is, for a slope ≥ 0).
 */
export function batchNormActBackward(
  dy: Float32Array,
  x: Float32Array,
  y: Float32Array,
  C: number,
  gamma: Float32Array,
  mean: Float32Array,
  variance: Float32Array,
  epsilon: number,
  activation: NormActivation,
  alpha: number,
  dx: Float32Array,
  dgamma: Float32Array,
  dbeta: Float32Array,
): void {
  const L = x.length;
  const n = L / C;
  // act'(z) = p + q·sign(y): 1 where y > 0, the slope where y < 0; at y = 0 it is 0 for ReLU (y = 0 is the
  // whole z ≤ 0 side) and p for a leaky ReLU (only z = 0 exactly, a point where any value in [α, 1] is valid).
  const slope = slopeOf(activation, alpha);
  const p = slope === 0 ? 0 : (1 + slope) / 2;
  const q = slope === 0 ? 1 : (1 - slope) / 2;
  const linear = slope === 1;
  for (let c = 0; c < C; c++) {
    const mu = mean[c]!;
    const inv = 1 / Math.sqrt(variance[c]! + epsilon);
    let sb = 0;
    let sg = 0;
    // dz goes into dx first (the second pass overwrites it in place).
    for (let i = c; i < L; i += C) {
      const g = linear ? dy[i]! : dy[i]! * (p + q * Math.sign(y[i]!));
      dx[i] = g;
      sb += g;
      sg += g * (x[i]! - mu);
    }
    dbeta[c] = sb;
    dgamma[c] = sg * inv;
    // dx = k·dz − a·(x − μ) − b, folded per channel.
    const k = gamma[c]! * inv;
    const a = (k * inv * inv * sg) / n;
    const b = (k * sb) / n;
    for (let i = c; i < L; i += C) dx[i] = k * dx[i]! - a * (x[i]! - mu) - b;
  }
}

export function leakyReluForward(x: Float32Array, alpha: number, y: Float32Array): void {
  const p = (1 + alpha) / 2;
  const q = (1 - alpha) / 2;
  for (let i = 0; i < x.length; i++) {
    const v = x[i]!;
    y[i] = p * v + q * Math.abs(v);
  }
}

/** dx = dy where y > 0, α·dy where y < 0 (and (1 + α)/2·dy at y = 0 exactly, a valid subgradient). */
export function leakyReluBackward(dy: Float32Array, y: Float32Array, alpha: number, dx: Float32Array): void {
  const p = (1 + alpha) / 2;
  const q = (1 - alpha) / 2;
  for (let i = 0; i < dy.length; i++) dx[i] = dy[i]! * (p + q * Math.sign(y[i]!));
}

// ---------------------------------------------------------------------------------------------------------------
// Backend plumbing: typed-array views of inputs, fresh outputs

interface Memory {
  /** Allocates outputs, then hands their arrays (and fresh input views) to `fill`. */
  outputs(shapes: number[][], inputs: TensorInfo[], fill: (outs: Float32Array[], ins: Float32Array[]) => void): TensorInfo[];
}

interface WasmBackendLike {
  wasm: { HEAPF32: Float32Array };
  dataIdMap: { get(dataId: object): { memoryOffset: number } | undefined };
  makeOutput(shape: number[], dtype: 'float32'): TensorInfo;
}

interface CpuBackendLike {
  data: { get(dataId: object): { values: unknown } | undefined };
  makeTensorInfo(shape: number[], dtype: 'float32', values: Float32Array): TensorInfo;
}

const size = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

function memoryOf(backendName: string, backend: unknown): Memory {
  if (backendName === 'wasm') {
    const b = backend as WasmBackendLike;
    /** A Float32Array over the tensor's data (valid until the next allocation on the wasm heap). */
    const read = (t: TensorInfo): Float32Array => {
      const d = b.dataIdMap.get(t.dataId);
      if (d == null) throw new Error('norm_act: tensor data not found on the wasm backend');
      return new Float32Array(b.wasm.HEAPF32.buffer, d.memoryOffset, size(t.shape));
    };
    return {
      outputs(shapes, inputs, fill) {
        const outs = shapes.map((s) => b.makeOutput(s, 'float32'));
        // Views only after every allocation: growing the heap detaches earlier views.
        fill(outs.map(read), inputs.map(read));
        return outs;
      },
    };
  }
  const b = backend as CpuBackendLike;
  const read = (t: TensorInfo): Float32Array => {
    const v = b.data.get(t.dataId)?.values;
    if (!(v instanceof Float32Array)) throw new Error('norm_act: expected float32 tensor data on the cpu backend');
    return v;
  };
  return {
    outputs(shapes, inputs, fill) {
      const arrays = shapes.map((s) => new Float32Array(size(s)));
      fill(arrays, inputs.map(read));
      return shapes.map((s, i) => b.makeTensorInfo(s, 'float32', arrays[i]!));
    },
  };
}

type KernelArgs = { inputs: Record<string, TensorInfo | undefined>; backend: unknown; attrs?: NamedAttrMap };

function input(args: KernelArgs, name: string): TensorInfo {
  const t = args.inputs[name];
  if (t == null) throw new Error(`norm_act: missing input ${name}`);
  if (t.dtype !== 'float32') throw new Error(`norm_act: input ${name} must be float32, got ${t.dtype}`);
  return t;
}

function kernels(backendName: string): [string, KernelFunc][] {
  const bnForward = (args: KernelArgs): TensorInfo[] => {
    const x = input(args, 'x');
    const gamma = input(args, 'gamma');
    const beta = input(args, 'beta');
    const { epsilon, activation, alpha } = args.attrs as unknown as BnAttrs;
    const C = x.shape[x.shape.length - 1]!;
    return memoryOf(backendName, args.backend).outputs([x.shape, [C], [C]], [x, gamma, beta], ([y, mean, variance], [xv, g, b]) =>
      batchNormActForward(xv!, C, g!, b!, epsilon, activation, alpha, y!, mean!, variance!),
    );
  };
  const bnBackward = (args: KernelArgs): TensorInfo[] => {
    const [dy, x, y, gamma, mean, variance] = ['dy', 'x', 'y', 'gamma', 'mean', 'variance'].map((n) => input(args, n)) as TensorInfo[];
    const { epsilon, activation, alpha } = args.attrs as unknown as BnAttrs;
    const C = x!.shape[x!.shape.length - 1]!;
    return memoryOf(backendName, args.backend).outputs([x!.shape, [C], [C]], [dy!, x!, y!, gamma!, mean!, variance!], ([dx, dg, db], [dyv, xv, yv, g, m, v]) =>
      batchNormActBackward(dyv!, xv!, yv!, C, g!, m!, v!, epsilon, activation, alpha, dx!, dg!, db!),
    );
  };
  // Single-output kernels return a TensorInfo, not a one-element array (the engine would hand back the array).
  const leaky = (args: KernelArgs): TensorInfo => {
    const x = input(args, 'x');
    const { alpha } = args.attrs as unknown as { alpha: number };
    return memoryOf(backendName, args.backend).outputs([x.shape], [x], ([y], [xv]) => leakyReluForward(xv!, alpha, y!))[0]!;
  };
  const leakyGrad = (args: KernelArgs): TensorInfo => {
    const dy = input(args, 'dy');
    const y = input(args, 'y');
    const { alpha } = args.attrs as unknown as { alpha: number };
    return memoryOf(backendName, args.backend).outputs([dy.shape], [dy, y], ([dx], [dyv, yv]) => leakyReluBackward(dyv!, yv!, alpha, dx!))[0]!;
  };
  return [
    [BN, bnForward as unknown as KernelFunc],
    [BN_GRAD, bnBackward as unknown as KernelFunc],
    [LEAKY, leaky as unknown as KernelFunc],
    [LEAKY_GRAD, leakyGrad as unknown as KernelFunc],
  ];
}

interface BnAttrs {
  epsilon: number;
  activation: NormActivation;
  alpha: number;
}

let registered = false;

/** Registers the kernels (wasm and cpu) and their gradients; idempotent. */
export function registerNormActKernels(): void {
  if (registered) return;
  registered = true;
  for (const backendName of BACKENDS) {
    for (const [kernelName, kernelFunc] of kernels(backendName)) {
      if (tf.getKernel(kernelName, backendName) == null) tf.registerKernel({ kernelName, backendName, kernelFunc } as KernelConfig);
    }
  }
  if (tf.getGradient(BN) == null) {
    tf.registerGradient({
      kernelName: BN,
      inputsToSave: ['x', 'gamma'],
      outputsToSave: [true, true, true],
      gradFunc: (dys, saved, attrs) => {
        const dy = (Array.isArray(dys) ? dys[0] : dys) as tf.Tensor;
        const [x, gamma, y, mean, variance] = saved as tf.Tensor[];
        // One kernel computes all three gradients, here rather than in the closures: the tape runs each closure
        // in its own tidy, which would dispose the other two parts.
        const [dx, dgamma, dbeta] = tf.engine().runKernel(BN_GRAD, { dy: dy!, x: x!, y: y!, gamma: gamma!, mean: mean!, variance: variance! }, attrs) as tf.Tensor[];
        return { x: () => dx!, gamma: () => dgamma!, beta: () => dbeta! };
      },
    });
  }
  if (tf.getGradient(LEAKY) == null) {
    tf.registerGradient({
      kernelName: LEAKY,
      outputsToSave: [true],
      gradFunc: (dy, saved, attrs) => {
        const [y] = saved as tf.Tensor[];
        return { x: () => tf.engine().runKernel(LEAKY_GRAD, { dy: dy as tf.Tensor, y: y! }, attrs) as tf.Tensor };
      },
    });
  }
}

function fusedAvailable(): boolean {
  registerNormActKernels();
  return (BACKENDS as readonly string[]).includes(tf.getBackend());
}

export interface BatchNormActOptions {
  epsilon: number;
  activation: NormActivation;
  /** Negative slope of 'leakyRelu'. */
  alpha?: number;
}

/**
 * Training-mode batch normalisation over every axis but the last, then the activation. Returns the output and
 * the batch mean and (biased) variance per channel.
 */
export function batchNormAct(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, options: BatchNormActOptions): { y: tf.Tensor; mean: tf.Tensor1D; variance: tf.Tensor1D } {
  const alpha = options.alpha ?? 0.2;
  if (!(alpha >= 0)) throw new Error(`batchNormAct: alpha must be >= 0, got ${alpha}`);
  const C = x.shape[x.shape.length - 1];
  if (x.rank < 2 || gamma.rank !== 1 || beta.rank !== 1 || gamma.shape[0] !== C || beta.shape[0] !== C) {
    throw new Error(`batchNormAct: x [${x.shape}] needs gamma and beta of shape [${C}], got [${gamma.shape}] and [${beta.shape}]`);
  }
  if (fusedAvailable() && x.dtype === 'float32') {
    const attrs = { epsilon: options.epsilon, activation: options.activation, alpha };
    const [y, mean, variance] = tf.engine().runKernel(BN, { x, gamma, beta }, attrs as unknown as NamedAttrMap) as tf.Tensor[];
    return { y: y!, mean: mean as tf.Tensor1D, variance: variance as tf.Tensor1D };
  }
  const axes = x.shape.map((_, i) => i).slice(0, -1);
  const mean = tf.mean(x, axes) as tf.Tensor1D;
  const centred = tf.sub(x, mean);
  const variance = tf.mean(tf.square(centred), axes) as tf.Tensor1D;
  const z = tf.add(tf.mul(tf.mul(centred, tf.rsqrt(tf.add(variance, options.epsilon))), gamma), beta);
  const y = options.activation === 'relu' ? tf.relu(z) : options.activation === 'leakyRelu' ? tf.leakyRelu(z, alpha) : z;
  return { y, mean, variance };
}

/** max(x, αx) for 0 ≤ α ≤ 1. */
export function leakyRelu(x: tf.Tensor, alpha: number): tf.Tensor {
  if (!(alpha >= 0 && alpha <= 1)) throw new Error(`leakyRelu: alpha must be in [0, 1], got ${alpha}`);
  if (fusedAvailable() && x.dtype === 'float32') return tf.engine().runKernel(LEAKY, { x }, { alpha }) as tf.Tensor;
  return tf.leakyRelu(x, alpha);
}

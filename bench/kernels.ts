/**
 * Benchmarks of the wasm kernels patched by lab/kernels/wasm_kernels.ts.
 * Run: node --import tsx bench/kernels.ts   (prints one JSON object)
 *
 * GFLOP/s always count the forward convolution's 2*N*OH*OW*CO*KH*KW*CI flops, so the
 * numbers of the three kernels on one shape are directly comparable.
 */
import * as tf from '@tensorflow/tfjs';
import { getThreadsCount, setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { createRequire } from 'node:module';
import path from 'node:path';
import { registerWasmKernels, restoreWasmKernels } from '../lab/kernels/wasm_kernels.js';

const require = createRequire(import.meta.url);
setWasmPaths(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')) + '/dist/');
await tf.setBackend('wasm');
await tf.ready();

const round = (v: number, d = 2) => Number(v.toFixed(d));

/** Median wall time (ms) of `reps` calls after `warm` warm-up calls; the result is disposed. */
function timeMs(f: () => tf.Tensor | tf.Tensor[], reps: number, warm = 1): number {
  const run = () => {
    const r = f();
    for (const t of Array.isArray(r) ? r : [r]) t.dispose();
  };
  for (let i = 0; i < warm; i++) run();
  const ts: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    run(); // the wasm backend is synchronous: the kernels are done on return
    ts.push(performance.now() - t0);
  }
  ts.sort((a, b) => a - b);
  return ts[ts.length >> 1]!;
}

let seed = 12345;
function randn(shape: number[]): tf.Tensor {
  seed = (seed * 1664525 + 1013904223) >>> 0;
  return tf.randomNormal(shape, 0, 1, 'float32', seed);
}

interface ConvCase {
  name: string;
  x: [number, number, number, number];
  k: number;
  stride: number;
  co: number;
  pad: 'same' | 'valid';
}

// DCGAN on 28x28, batch 128 (discriminator convs; the generator's conv2dTranspose layers mirror them).
const convCases: ConvCase[] = [
  { name: 'D1 28x28x1 -> 5x5 s2 64', x: [128, 28, 28, 1], k: 5, stride: 2, co: 64, pad: 'same' },
  { name: 'D2 14x14x64 -> 5x5 s2 128', x: [128, 14, 14, 64], k: 5, stride: 2, co: 128, pad: 'same' },
  { name: 'D3 7x7x128 -> 5x5 s1 256', x: [128, 7, 7, 128], k: 5, stride: 1, co: 256, pad: 'same' },
];

function convBench(c: ConvCase) {
  const x = randn(c.x) as tf.Tensor4D;
  const f = randn([c.k, c.k, c.x[3], c.co]) as tf.Tensor4D;
  const yShape = tf.tidy(() => tf.conv2d(x, f, c.stride, c.pad).shape);
  const dy = randn(yShape) as tf.Tensor4D;
  const flops = 2 * yShape[0] * yShape[1] * yShape[2] * c.co * c.k * c.k * c.x[3];
  const gflops = (ms: number) => round(flops / ms / 1e6, 1);
  const attrs = { strides: c.stride, pad: c.pad, dataFormat: 'NHWC' };
  const dW = () =>
    tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, { ...attrs, filterShape: f.shape } as unknown as tf.NamedAttrMap) as tf.Tensor;
  const dX = () =>
    tf.engine().runKernel('Conv2DBackpropInput', { dy, filter: f }, { ...attrs, inputShape: c.x } as unknown as tf.NamedAttrMap) as tf.Tensor;

  const fwdMs = timeMs(() => tf.conv2d(x, f, c.stride, c.pad), 5);
  const dwMs = timeMs(dW, 5);
  const dxMs = timeMs(dX, 5);
  restoreWasmKernels();
  const dxOrigMs = timeMs(dX, flops > 3e9 ? 1 : 2, flops > 3e9 ? 0 : 1);
  registerWasmKernels();
  tf.dispose([x, f, dy]);
  return {
    name: c.name,
    x: c.x,
    filter: f.shape,
    dy: yShape,
    strides: c.stride,
    pad: c.pad,
    gflop: round(flops / 1e9, 3),
    ms: { conv2d: round(fwdMs), backpropFilter: round(dwMs), backpropInput: round(dxMs), backpropInputOriginal: round(dxOrigMs) },
    gflops: { conv2d: gflops(fwdMs), backpropFilter: gflops(dwMs), backpropInput: gflops(dxMs), backpropInputOriginal: gflops(dxOrigMs) },
    ratioToForward: { backpropFilter: round(fwdMs / dwMs), backpropInput: round(fwdMs / dxMs), backpropInputOriginal: round(fwdMs / dxOrigMs, 3) },
  };
}

interface ConvTCase {
  name: string;
  x: [number, number, number, number];
  k: number;
  stride: number;
  out: [number, number, number, number];
}

// Generator upsampling: dense -> 7x7x256 -> convT 128 s1 -> convT 64 s2 -> convT 1 s2.
const convTCases: ConvTCase[] = [
  { name: 'G1 7x7x256 -> 7x7x128 (5x5 s1)', x: [128, 7, 7, 256], k: 5, stride: 1, out: [128, 7, 7, 128] },
  { name: 'G2 7x7x128 -> 14x14x64 (5x5 s2)', x: [128, 7, 7, 128], k: 5, stride: 2, out: [128, 14, 14, 64] },
  { name: 'G3 14x14x64 -> 28x28x1 (5x5 s2)', x: [128, 14, 14, 64], k: 5, stride: 2, out: [128, 28, 28, 1] },
];

function convTBench(c: ConvTCase) {
  const x = randn(c.x) as tf.Tensor4D;
  const f = randn([c.k, c.k, c.out[3], c.x[3]]) as tf.Tensor4D;
  const flops = 2 * c.x[0] * c.x[1] * c.x[2] * c.x[3] * c.k * c.k * c.out[3];
  const gflops = (ms: number) => round(flops / ms / 1e6, 1);
  const fwd = () => tf.conv2dTranspose(x, f, c.out, c.stride, 'same');
  const dyUp = randn(c.out) as tf.Tensor4D;
  // Gradient of the layer w.r.t. its input (a forward conv2d) and its filter (Conv2DBackpropFilter).
  const grad = () => tf.grads((a: tf.Tensor, b: tf.Tensor) =>
    tf.sum(tf.mul(tf.conv2dTranspose(a as tf.Tensor4D, b as tf.Tensor4D, c.out, c.stride, 'same'), dyUp)))([x, f]);
  const equivConv = () => tf.conv2d(dyUp, f, c.stride, 'same');
  const fwdMs = timeMs(fwd, 5);
  const equivMs = timeMs(equivConv, 5);
  const gradMs = timeMs(grad, 3);
  restoreWasmKernels();
  const fwdOrigMs = timeMs(fwd, flops > 3e9 ? 1 : 2, flops > 3e9 ? 0 : 1);
  registerWasmKernels();
  tf.dispose([x, f, dyUp]);
  return {
    name: c.name,
    x: c.x,
    filter: f.shape,
    out: c.out,
    gflop: round(flops / 1e9, 3),
    ms: { conv2dTranspose: round(fwdMs), conv2dTransposeOriginal: round(fwdOrigMs), equivalentConv2d: round(equivMs), forwardPlusGradients: round(gradMs) },
    gflops: { conv2dTranspose: gflops(fwdMs), conv2dTransposeOriginal: gflops(fwdOrigMs), equivalentConv2d: gflops(equivMs) },
    speedupVsOriginal: round(fwdOrigMs / fwdMs, 1),
  };
}

function matmulBench() {
  const shapes: [number, number, number][] = [[64, 256, 256], [256, 64, 256], [64, 4, 256], [4, 64, 256], [64, 256, 2]];
  const rows = [];
  for (const [M, K, N] of shapes) {
    const a = randn([M, K]);
    const aT = randn([K, M]);
    const b = randn([K, N]);
    const bT = randn([N, K]);
    const us = () => ({
      nn: round(timeMs(() => tf.matMul(a, b), 200, 20) * 1000, 1),
      tn: round(timeMs(() => tf.matMul(aT, b, true, false), 200, 20) * 1000, 1),
      nt: round(timeMs(() => tf.matMul(a, bT, false, true), 200, 20) * 1000, 1),
      tt: round(timeMs(() => tf.matMul(aT, bT, true, true), 200, 20) * 1000, 1),
    });
    restoreWasmKernels();
    const before = us();
    registerWasmKernels();
    const after = us();
    rows.push({ MxKxN: `${M}x${K}x${N}`, usBefore: before, usAfter: after });
    tf.dispose([a, aT, b, bT]);
  }
  // Rank-3 batch (no transposes: the original also takes its slow loop for batch > 1).
  const a3 = randn([8, 64, 128]);
  const b3 = randn([8, 128, 64]);
  restoreWasmKernels();
  const batchBefore = timeMs(() => tf.matMul(a3, b3), 50, 5);
  registerWasmKernels();
  const batchAfter = timeMs(() => tf.matMul(a3, b3), 50, 5);
  tf.dispose([a3, b3]);
  return { products: rows, batched_8x64x128x64: { usBefore: round(batchBefore * 1000, 1), usAfter: round(batchAfter * 1000, 1) } };
}

/** DQN-style MLP step: 4 -> 256 -> 256 -> 2, batch 64, fused dense layers, Huber loss, Adam. */
function mlpBench() {
  const sizes = [4, 256, 256, 2];
  const vars: tf.Variable[] = [];
  for (let i = 0; i + 1 < sizes.length; i++) {
    vars.push(tf.variable(tf.mul(randn([sizes[i]!, sizes[i + 1]!]), 0.1)));
    vars.push(tf.variable(tf.zeros([sizes[i + 1]!])));
  }
  const opt = tf.train.adam(1e-3);
  const x = randn([64, 4]);
  const y = randn([64]);
  const mask = tf.oneHot(tf.tensor1d(Array.from({ length: 64 }, (_, i) => i % 2), 'int32'), 2);
  const step = () => {
    const loss = tf.tidy(() => {
      const { value, grads } = tf.variableGrads(() => {
        let h: tf.Tensor = x;
        for (let l = 0; l < 3; l++) {
          h = tf.fused.matMul({ a: h as tf.Tensor2D, b: vars[2 * l]! as tf.Tensor2D, bias: vars[2 * l + 1]!, ...(l < 2 ? { activation: 'relu' as const } : {}) });
        }
        const q = tf.sum(tf.mul(h, mask), 1);
        return tf.losses.huberLoss(y, q) as tf.Scalar;
      }, vars);
      opt.applyGradients(grads as unknown as Parameters<typeof opt.applyGradients>[0]);
      return value;
    });
    loss.dataSync();
    return loss;
  };
  restoreWasmKernels();
  const before = timeMs(step, 200, 20);
  registerWasmKernels();
  const after = timeMs(step, 200, 20);
  tf.dispose([...vars, x, y, mask]);
  opt.dispose();
  return { msPerStepBefore: round(before, 3), msPerStepAfter: round(after, 3), speedup: round(before / after) };
}

registerWasmKernels();
const t0 = performance.now();
const result = {
  backend: tf.getBackend(),
  simd: await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'),
  threads: getThreadsCount(),
  conv: convCases.map(convBench),
  conv2dTranspose: convTCases.map(convTBench),
  matmul: matmulBench(),
  mlp: mlpBench(),
  benchSeconds: 0,
};
result.benchSeconds = round((performance.now() - t0) / 1000, 1);
// One JSON object; short numeric arrays kept on one line.
console.log(JSON.stringify(result, null, 1).replace(/\[\s*([-\d.,\s]+?)\s*\]/g, (_, inner: string) => `[${inner.split(/\s*,\s*/).join(', ')}]`));

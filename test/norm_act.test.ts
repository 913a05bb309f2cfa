import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { createRequire } from 'node:module';
import path from 'node:path';
import { batchNormAct, batchNormActBackward, batchNormActForward, leakyRelu, type NormActivation } from '../lab/kernels/norm_act.js';
import { registerWasmKernels } from '../lab/kernels/wasm_kernels.js';
import { GanNet, type NetSpec } from '../gan/models.js';
import { Rng } from '../envs/index.js';

const require = createRequire(import.meta.url);

beforeAll(async () => {
  setWasmPaths(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')) + '/dist/');
  await tf.setBackend('wasm');
  await tf.ready();
  registerWasmKernels(); // Conv2DBackpropFilter, for the network test
}, 30_000);

function rand(n: number, seed: number, mean = 0, spread = 1): Float32Array {
  const rng = new Rng(seed);
  return Float32Array.from({ length: n }, () => mean + spread * rng.uniform(-1, 1));
}

/** Batch norm + activation written with ordinary tfjs ops (what the fused kernels replace). */
function reference(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, epsilon: number, activation: NormActivation, alpha: number): tf.Tensor {
  const axes = x.shape.map((_, i) => i).slice(0, -1);
  const mean = tf.mean(x, axes);
  const centred = tf.sub(x, mean);
  const variance = tf.mean(tf.square(centred), axes);
  const z = tf.add(tf.mul(tf.mul(centred, tf.rsqrt(tf.add(variance, epsilon))), gamma), beta);
  return activation === 'relu' ? tf.relu(z) : activation === 'leakyRelu' ? tf.leakyRelu(z, alpha) : z;
}

function maxAbsDiff(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]!);
}

describe.each(['cpu', 'wasm'])('batchNormAct on %s', (backend) => {
  beforeAll(async () => {
    await tf.setBackend(backend);
  });

  it.each([
    ['linear', [6, 5, 5, 3]],
    ['relu', [6, 5, 5, 3]],
    ['leakyRelu', [6, 5, 5, 3]],
    ['leakyRelu', [16, 40]],
  ] as [NormActivation, number[]][])('%s on %j matches the tfjs-op formulation, values and gradients', (activation, shape) => {
    expect(tf.getBackend()).toBe(backend);
    tf.tidy(() => {
      const n = shape.reduce((a, b) => a * b, 1);
      const C = shape.at(-1)!;
      // A large common offset: the variance must not lose precision (two-pass statistics).
      const x = tf.tensor(rand(n, 1, 30, 2), shape);
      const gamma = tf.tensor1d(rand(C, 2, 1, 0.8));
      const beta = tf.tensor1d(rand(C, 3, 0, 0.5));
      const w = tf.tensor(rand(n, 4), shape);
      const fused = batchNormAct(x, gamma, beta, { epsilon: 1e-3, activation, alpha: 0.2 });
      const ref = reference(x, gamma, beta, 1e-3, activation, 0.2);
      expect(maxAbsDiff(fused.y, ref)).toBeLessThan(2e-5);

      const axes = shape.map((_, i) => i).slice(0, -1);
      expect(maxAbsDiff(fused.mean, tf.mean(x, axes))).toBeLessThan(1e-4);
      expect(maxAbsDiff(fused.variance, tf.moments(x, axes).variance)).toBeLessThan(1e-4);
      // Per-channel batch statistics of the normalised output: mean β-ish, and not all the same (a real test).
      expect(Math.max(...fused.variance.dataSync())).toBeGreaterThan(0.5);

      const loss = (f: (x: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => tf.Tensor) => (xx: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(f(xx, g, b), w));
      const gFused = tf.grads(loss((xx, g, b) => batchNormAct(xx, g, b, { epsilon: 1e-3, activation, alpha: 0.2 }).y))([x, gamma, beta]);
      const gRef = tf.grads(loss((xx, g, b) => reference(xx, g, b, 1e-3, activation, 0.2)))([x, gamma, beta]);
      for (let i = 0; i < 3; i++) {
        const scale = Math.max(1, tf.max(tf.abs(gRef[i]!)).dataSync()[0]!);
        expect(maxAbsDiff(gFused[i]!, gRef[i]!) / scale).toBeLessThan(2e-5);
      }
      // The gradients are not trivially zero.
      expect(tf.max(tf.abs(gFused[0]!)).dataSync()[0]!).toBeGreaterThan(0.01);
    });
  });

  it('leakyRelu matches tf.leakyRelu in value and gradient', () => {
    tf.tidy(() => {
      const x = tf.tensor(rand(300, 5), [3, 10, 10]);
      const w = tf.tensor(rand(300, 6), [3, 10, 10]);
      expect(maxAbsDiff(leakyRelu(x, 0.2), tf.leakyRelu(x, 0.2))).toBeLessThan(1e-7);
      const g1 = tf.grad((v: tf.Tensor) => tf.sum(tf.mul(leakyRelu(v, 0.2), w)))(x);
      const g2 = tf.grad((v: tf.Tensor) => tf.sum(tf.mul(tf.leakyRelu(v, 0.2), w)))(x);
      expect(maxAbsDiff(g1, g2)).toBeLessThan(1e-7);
      expect(Array.from(leakyRelu(tf.tensor1d([-2, 0.5]), 0.1).dataSync())).toEqual([Math.fround(-0.2), 0.5]);
    });
  });

  it('rejects a bad slope', () => {
    const x = tf.ones([2, 2]);
    expect(() => leakyRelu(x, -0.1)).toThrow(/alpha must be in \[0, 1\]/);
    expect(() => batchNormAct(x, tf.ones([2]), tf.zeros([2]), { epsilon: 1e-3, activation: 'leakyRelu', alpha: Number.NaN })).toThrow(/alpha/);
    expect(() => batchNormAct(x, tf.ones([3]), tf.zeros([2]), { epsilon: 1e-3, activation: 'relu' })).toThrow(/gamma and beta of shape \[2\], got \[3\] and \[2\]/);
    tf.dispose(x);
  });

  it('leaks no tensors across a gradient step', () => {
    const x = tf.tensor(rand(4 * 9 * 2, 7), [4, 3, 3, 2]);
    const gamma = tf.variable(tf.ones([2]));
    const beta = tf.variable(tf.zeros([2]));
    const step = () => {
      const { value, grads } = tf.variableGrads(() => tf.sum(tf.square(batchNormAct(x, gamma, beta, { epsilon: 1e-3, activation: 'relu' }).y)) as tf.Scalar);
      tf.dispose([value, ...Object.values(grads)]);
    };
    step();
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) step();
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, gamma, beta]);
  });
});

describe('batch-norm loops', () => {
  it('normalise each channel to mean β and standard deviation |γ| before the activation', () => {
    const C = 2;
    const x = Float32Array.from([1, 10, 2, 20, 3, 30, 4, 40]);
    const y = new Float32Array(8);
    const mean = new Float32Array(C);
    const variance = new Float32Array(C);
    batchNormActForward(x, C, Float32Array.from([2, 1]), Float32Array.from([0.5, 0]), 0, 'linear', 0, y, mean, variance);
    expect(Array.from(mean)).toEqual([2.5, 25]);
    expect(Array.from(variance)).toEqual([1.25, 125]);
    // channel 0: 2·(x − 2.5)/√1.25 + 0.5
    expect(y[0]).toBeCloseTo((2 * -1.5) / Math.sqrt(1.25) + 0.5, 5);
    expect(y[7]).toBeCloseTo(15 / Math.sqrt(125), 5);
  });

  it('ReLU passes no gradient where the output is 0, and the input gradient sums to 0 per channel', () => {
    const C = 1;
    const x = Float32Array.from([-3, -1, 1, 3]);
    const y = new Float32Array(4);
    const mean = new Float32Array(1);
    const variance = new Float32Array(1);
    batchNormActForward(x, C, Float32Array.of(1), Float32Array.of(0), 0, 'relu', 0, y, mean, variance);
    expect(y[0]).toBe(0);
    expect(y[1]).toBe(0);
    const dx = new Float32Array(4);
    const dg = new Float32Array(1);
    const db = new Float32Array(1);
    batchNormActBackward(Float32Array.from([5, 5, 1, 1]), x, y, C, Float32Array.of(1), mean, variance, 0, 'relu', 0, dx, dg, db);
    expect(db[0]).toBe(2); // only the two positive outputs pass their gradient
    expect(Math.abs(dx.reduce((a, b) => a + b, 0))).toBeLessThan(1e-6);
  });
});

describe('GanNet training pass with the fused batch norm', () => {
  it('gives the same output, batch statistics and gradients as the unfused formulation', async () => {
    await tf.setBackend('wasm');
    const spec: NetSpec = {
      inputShape: [8],
      leakyReluAlpha: 0.2,
      layers: [
        { type: 'dense', units: 4 * 4 * 6 },
        { type: 'batchNorm', momentum: 0.9, epsilon: 1e-3 },
        { type: 'activation', activation: 'leakyRelu' },
        { type: 'reshape', shape: [4, 4, 6] },
        { type: 'conv2dTranspose', filters: 3, kernelSize: 4, strides: 2 },
        { type: 'batchNorm', momentum: 0.9, epsilon: 1e-3 },
        { type: 'activation', activation: 'relu' },
        { type: 'conv2d', filters: 1, kernelSize: 3, strides: 1, activation: 'tanh' },
      ],
    };
    const net = new GanNet(spec, new Rng(3));
    const z = tf.tensor2d(rand(5 * 8, 9), [5, 8]);
    const unfused = (h0: tf.Tensor): tf.Tensor => {
      // The same network, layer by layer, with the reference batch norm.
      const [k0, b0, g1, be1, k4, b4, g5, be5, k7, b7] = net.trainable;
      let h = tf.add(tf.matMul(h0 as tf.Tensor2D, k0! as tf.Tensor2D), b0!);
      h = reference(h, g1!, be1!, 1e-3, 'leakyRelu', 0.2);
      h = tf.reshape(h, [5, 4, 4, 6]);
      h = tf.add(tf.conv2dTranspose(h as tf.Tensor4D, k4! as tf.Tensor4D, [5, 8, 8, 3], 2, 'same'), b4!);
      h = reference(h, g5!, be5!, 1e-3, 'relu', 0.2);
      return tf.tanh(tf.add(tf.conv2d(h as tf.Tensor4D, k7! as tf.Tensor4D, 1, 'same'), b7!));
    };
    const stats: Parameters<GanNet['apply']>[1]['batchStats'] = [];
    const out = tf.tidy(() => net.apply(z, { training: true, batchStats: stats }));
    const ref = tf.tidy(() => unfused(z));
    expect(maxAbsDiff(out, ref)).toBeLessThan(1e-5);
    expect(stats.map((s) => s.layer)).toEqual([1, 5]);
    // The training pass runs the fused kernels (and the activation layers after them are not run again).
    const prof = await tf.profile(() => tf.dispose(net.apply(z, { training: true })));
    const names = prof.kernels.map((k) => k.name);
    expect(names.filter((n) => n === 'LabBatchNormAct')).toHaveLength(2);
    expect(names).not.toContain('Rsqrt');
    expect(names).not.toContain('LeakyRelu');
    expect(names).not.toContain('Relu');
    expect(stats[1]!.count).toBe(5 * 8 * 8);
    const f = (apply: () => tf.Tensor) => () => tf.sum(tf.square(apply())) as tf.Scalar;
    const g1 = tf.variableGrads(f(() => net.apply(z, { training: true })), net.trainable);
    const g2 = tf.variableGrads(f(() => unfused(z)), net.trainable);
    for (const v of net.trainable) {
      // (The biases before a batch norm have a true gradient of 0: both sides are rounding noise there.)
      const scale = Math.max(1, tf.max(tf.abs(g2.grads[v.name]!)).dataSync()[0]!);
      expect(maxAbsDiff(g1.grads[v.name]!, g2.grads[v.name]!) / scale).toBeLessThan(1e-4);
    }
    tf.dispose([out, ref, z, g1.value, g2.value, ...Object.values(g1.grads), ...Object.values(g2.grads)]);
    for (const s of stats) tf.dispose([s.mean, s.variance]);
    net.dispose();
  });
});

/**
 * lab/kernels/cpu_kernels.ts: the cpu backend's nearest-neighbour resize gradient, which tfjs 4.22 gets wrong for
 * every image after the first of a batch, against a direct sum and against the wasm backend.
 */
import { describe, expect, it } from 'vitest';
import { initCompute, tf } from '../lab/compute.js';

/** d/dx of sum(resizeNearestNeighbor(x) * w) on the current backend. */
function gradient(x: Float32Array, shape: [number, number, number, number], out: [number, number], w: Float32Array, alignCorners: boolean): Float32Array {
  return tf.tidy(() => {
    const xs = tf.tensor4d(x, shape);
    const ws = tf.tensor4d(w, [shape[0], out[0], out[1], shape[3]]);
    const g = tf.grad((v: tf.Tensor) => tf.sum(tf.mul(tf.image.resizeNearestNeighbor(v as tf.Tensor4D, out, alignCorners), ws)))(xs);
    return g.dataSync() as Float32Array;
  }).slice();
}

/** The same gradient summed directly: every output pixel adds its weight to the input pixel it was copied from. */
function reference(shape: [number, number, number, number], out: [number, number], w: Float32Array, alignCorners: boolean): Float32Array {
  const [n, h, wd, c] = shape;
  const src = (y: number, inSize: number, outSize: number) => {
    const scale = alignCorners && outSize > 1 ? (inSize - 1) / (outSize - 1) : inSize / outSize;
    return Math.min(inSize - 1, alignCorners ? Math.round(y * scale) : Math.floor(y * scale));
  };
  const g = new Float32Array(n * h * wd * c);
  for (let b = 0; b < n; b++)
    for (let y = 0; y < out[0]; y++)
      for (let x = 0; x < out[1]; x++)
        for (let d = 0; d < c; d++) g[((b * h + src(y, h, out[0])) * wd + src(x, wd, out[1])) * c + d]! += w[((b * out[0] + y) * out[1] + x) * c + d]!;
  return g;
}

describe('cpu kernels', () => {
  const cases: { shape: [number, number, number, number]; out: [number, number]; alignCorners: boolean }[] = [
    { shape: [3, 7, 7, 4], out: [14, 14], alignCorners: false }, // Keras UpSampling2D, as the GAN uses it
    { shape: [2, 5, 6, 3], out: [9, 13], alignCorners: false },
    { shape: [2, 5, 6, 3], out: [9, 13], alignCorners: true },
  ];
  for (const { shape, out, alignCorners } of cases) {
    it(`ResizeNearestNeighborGrad ${shape.join('x')} → ${out.join('x')}${alignCorners ? ', alignCorners' : ''}: every image of the batch gets its own gradient`, async () => {
      const size = shape.reduce((a, b) => a * b, 1);
      const x = Float32Array.from({ length: size }, (_, i) => Math.sin(i));
      const w = Float32Array.from({ length: shape[0] * out[0] * out[1] * shape[3] }, (_, i) => Math.cos(i * 0.7));
      const want = reference(shape, out, w, alignCorners);
      await initCompute('cpu');
      const cpu = gradient(x, shape, out, w, alignCorners);
      await initCompute('wasm');
      const wasm = gradient(x, shape, out, w, alignCorners);
      for (const got of [cpu, wasm]) {
        let worst = 0;
        for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i]! - want[i]!));
        expect(worst).toBeLessThan(1e-5);
      }
    });
  }
});

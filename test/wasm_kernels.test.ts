import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { createRequire } from 'node:module';
import path from 'node:path';
import {
  isPatched,
  registerWasmKernels,
  restoreWasmKernels,
  wasmKernelStrategy,
} from '../lab/kernels/wasm_kernels.js';

const require = createRequire(import.meta.url);

beforeAll(async () => {
  setWasmPaths(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')) + '/dist/');
  await tf.setBackend('wasm');
  await tf.ready();
  registerWasmKernels();
}, 30_000);

/** Deterministic uniform(-1, 1) data. */
function rand(shape: number[], seed: number): Float32Array {
  const n = shape.reduce((a, b) => a * b, 1);
  const out = new Float32Array(n);
  let s = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    out[i] = (s / 2 ** 32) * 2 - 1;
  }
  return out;
}

/**
 * Runs `f` on the cpu backend, then on wasm (patched kernels), and returns the largest
 * relative error max|a - b| / max(1, max|b|) over all outputs (NaN/Inf count as failures).
 */
function relErrorVsCpu(f: () => tf.Tensor | tf.Tensor[]): number {
  const run = () =>
    tf.tidy(() => {
      const r = f();
      return (Array.isArray(r) ? r : [r]).map((t) => ({ shape: t.shape.join(), data: t.dataSync().slice() as Float32Array }));
    });
  tf.setBackend('cpu');
  const ref = run();
  tf.setBackend('wasm');
  const got = run();
  expect(got.length).toBe(ref.length);
  let err = 0;
  for (let k = 0; k < ref.length; k++) {
    expect(got[k]!.shape).toBe(ref[k]!.shape);
    const a = got[k]!.data;
    const b = ref[k]!.data;
    let scale = 1;
    let diff = 0;
    for (let i = 0; i < b.length; i++) {
      scale = Math.max(scale, Math.abs(b[i]!));
      const d = Math.abs(a[i]! - b[i]!);
      diff = Number.isFinite(d) ? Math.max(diff, d) : Infinity;
    }
    err = Math.max(err, diff / scale);
  }
  return err;
}

const TOL = 1e-4;

describe('registerWasmKernels', () => {
  it('patches BatchMatMul, _FusedMatMul, Conv2DBackpropInput and adds Conv2DBackpropFilter, idempotently', () => {
    registerWasmKernels();
    const before = ['BatchMatMul', '_FusedMatMul', 'Conv2DBackpropInput', 'Conv2DBackpropFilter'].map((k) => tf.getKernel(k, 'wasm')!.kernelFunc);
    registerWasmKernels();
    const after = ['BatchMatMul', '_FusedMatMul', 'Conv2DBackpropInput', 'Conv2DBackpropFilter'].map((k) => tf.getKernel(k, 'wasm')!.kernelFunc);
    expect(after).toEqual(before);
    for (const k of ['BatchMatMul', '_FusedMatMul', 'Conv2DBackpropInput', 'Conv2DBackpropFilter']) expect(isPatched(k)).toBe(true);

    restoreWasmKernels();
    expect(isPatched('BatchMatMul')).toBe(false);
    expect(tf.getKernel('Conv2DBackpropFilter', 'wasm')).toBeUndefined();
    registerWasmKernels();
    expect(isPatched('BatchMatMul')).toBe(true);
    expect(isPatched('Conv2DBackpropFilter')).toBe(true);
  });
});

describe('BatchMatMul / _FusedMatMul', () => {
  // [a shape, b shape] without transposes; transposed variants are derived.
  const cases: [number[], number[]][] = [
    [[5, 7], [7, 3]], // tiny: the original kernel
    [[37, 53], [53, 41]],
    [[64, 96], [96, 80]],
    [[3, 37, 53], [3, 53, 41]], // batched
    [[3, 37, 53], [53, 41]], // b broadcast
    [[37, 53], [3, 53, 41]], // a broadcast
    [[3, 37, 53], [1, 53, 41]],
    [[2, 3, 20, 30], [1, 3, 30, 25]], // rank 4 with broadcasting
  ];
  const swapLast2 = (s: number[]) => [...s.slice(0, -2), s[s.length - 1]!, s[s.length - 2]!];

  it('matches cpu for every transpose combination, 2-D and batched', () => {
    let seed = 1;
    for (const [sa, sb] of cases) {
      for (const tA of [false, true]) {
        for (const tB of [false, true]) {
          const A = tA ? swapLast2(sa) : sa;
          const B = tB ? swapLast2(sb) : sb;
          const da = rand(A, seed++);
          const db = rand(B, seed++);
          const err = relErrorVsCpu(() => tf.matMul(tf.tensor(da, A), tf.tensor(db, B), tA, tB));
          expect(err, `matMul ${A} x ${B} tA=${tA} tB=${tB}`).toBeLessThan(TOL);
        }
      }
    }
  });

  it('fused matMul (bias + activation) matches cpu, including K > 48 and batches', () => {
    let seed = 100;
    const fusedCases: [number[], number[]][] = [[[5, 7], [7, 3]], [[40, 50], [50, 30]], [[3, 40, 60], [3, 60, 30]], [[3, 40, 60], [60, 30]]];
    for (const [sa, sb] of fusedCases) {
      for (const tA of [false, true]) {
        for (const tB of [false, true]) {
          for (const activation of ['linear', 'relu'] as const) {
            const A = tA ? swapLast2(sa) : sa;
            const B = tB ? swapLast2(sb) : sb;
            const N = sb[sb.length - 1]!;
            const da = rand(A, seed++);
            const db = rand(B, seed++);
            const dbias = rand([N], seed++);
            const err = relErrorVsCpu(() =>
              tf.fused.matMul({ a: tf.tensor(da, A), b: tf.tensor(db, B), transposeA: tA, transposeB: tB, bias: tf.tensor1d(dbias), activation }),
            );
            expect(err, `fused ${A} x ${B} tA=${tA} tB=${tB} ${activation}`).toBeLessThan(TOL);
          }
        }
      }
    }
  });

  it('gradients of a dense network match cpu', () => {
    const x = rand([64, 4], 7);
    const w1 = rand([4, 96], 8);
    const w2 = rand([96, 80], 9);
    const b2 = rand([80], 10);
    const err = relErrorVsCpu(() => {
      const f = (a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) => {
        const h = tf.fused.matMul({ a: tf.tensor2d(x, [64, 4]), b: a as tf.Tensor2D, activation: 'relu' });
        return tf.sum(tf.square(tf.fused.matMul({ a: h, b: b as tf.Tensor2D, bias: c, activation: 'relu' })));
      };
      return tf.grads(f)([tf.tensor2d(w1, [4, 96]), tf.tensor2d(w2, [96, 80]), tf.tensor1d(b2)]);
    });
    expect(err).toBeLessThan(TOL);
  });
});

describe('Conv2DBackpropFilter / Conv2DBackpropInput', () => {
  /** Gradients of sum(conv2d(x, w) * r) w.r.t. x and w: Conv2DBackpropInput(r) and Conv2DBackpropFilter(x, r). */
  function convGradErr(
    xShape: [number, number, number, number],
    k: number,
    co: number,
    stride: number,
    pad: 'same' | 'valid' | [[number, number], [number, number], [number, number], [number, number]],
    seed: number,
  ): number {
    const fShape: [number, number, number, number] = [k, k, xShape[3], co];
    const xd = rand(xShape, seed);
    const fd = rand(fShape, seed + 1);
    return relErrorVsCpu(() => {
      const x = tf.tensor4d(xd, xShape);
      const w = tf.tensor4d(fd, fShape);
      const yShape = tf.conv2d(x, w, stride, pad).shape;
      const r = tf.tensor(rand(yShape, seed + 2), yShape);
      return tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, stride, pad), r)))([x, w]);
    });
  }

  it('tf.grads of conv2d matches cpu: strides 1-2, same/valid, odd sizes, batch 1/3, channels 1/3/8, kernels 1/3/5', () => {
    let seed = 1000;
    for (const stride of [1, 2]) {
      for (const pad of ['same', 'valid'] as const) {
        for (const [h, w] of [[7, 9], [13, 13]] as const) {
          for (const n of [1, 3]) {
            for (const [ci, co] of [[1, 3], [3, 8], [8, 1], [1, 16]] as const) {
              for (const k of [1, 3, 5]) {
                const err = convGradErr([n, h, w, ci], k, co, stride, pad, seed);
                seed += 3;
                expect(err, `x=[${n},${h},${w},${ci}] k=${k} co=${co} s=${stride} ${pad}`).toBeLessThan(TOL);
              }
            }
          }
        }
      }
    }
  });

  it('every strategy is exact (phases / combined / gemm; im2col / conv)', () => {
    let seed = 5000;
    try {
      for (const backpropInput of ['phases', 'combined', 'gemm'] as const) {
        for (const backpropFilter of ['im2col', 'conv'] as const) {
          wasmKernelStrategy.backpropInput = backpropInput;
          wasmKernelStrategy.backpropFilter = backpropFilter;
          for (const [xs, k, co, s, pad] of [
            [[2, 13, 11, 3], 5, 4, 2, 'same'],
            [[3, 9, 9, 2], 3, 5, 2, 'valid'],
            [[1, 8, 8, 4], 1, 3, 2, 'same'],
            [[2, 7, 9, 3], 4, 2, 1, 'same'],
            [[2, 10, 10, 1], 2, 6, 2, 'valid'],
          ] as [[number, number, number, number], number, number, number, 'same' | 'valid'][]) {
            const err = convGradErr(xs, k, co, s, pad, seed);
            seed += 3;
            expect(err, `${backpropInput}/${backpropFilter} x=[${xs}] k=${k} co=${co} s=${s} ${pad}`).toBeLessThan(TOL);
          }
        }
      }
    } finally {
      wasmKernelStrategy.backpropInput = null;
      wasmKernelStrategy.backpropFilter = null;
    }
  });

  it('gradients of tf.fused.conv2d (bias + relu, as the lab networks use) match cpu', () => {
    const xd = rand([3, 11, 11, 2], 11);
    const fd = rand([3, 3, 2, 6], 12);
    const bd = rand([6], 13);
    for (const stride of [1, 2]) {
      const err = relErrorVsCpu(() =>
        tf.grads((x: tf.Tensor, w: tf.Tensor, b: tf.Tensor) =>
          tf.sum(tf.square(tf.fused.conv2d({ x: x as tf.Tensor4D, filter: w as tf.Tensor4D, strides: stride, pad: 'same', bias: b, activation: 'relu' }))),
        )([tf.tensor4d(xd, [3, 11, 11, 2]), tf.tensor4d(fd, [3, 3, 2, 6]), tf.tensor1d(bd)]),
      );
      expect(err, `fused conv2d s=${stride}`).toBeLessThan(TOL);
    }
  });

  it('handles explicit padding, including pads larger than the filter', () => {
    let seed = 7000;
    const pads: [[number, number], [number, number], [number, number], [number, number]][] = [
      [[0, 0], [1, 2], [2, 0], [0, 0]],
      [[0, 0], [4, 0], [0, 3], [0, 0]],
      [[0, 0], [0, 0], [3, 3], [0, 0]],
    ];
    for (const pad of pads) {
      for (const stride of [1, 2]) {
        for (const [ci, co] of [[1, 8], [5, 3]]) {
          const err = convGradErr([2, 9, 11, ci!], 3, co!, stride, pad, seed);
          seed += 3;
          expect(err, `pad=${JSON.stringify(pad)} s=${stride} ci=${ci} co=${co}`).toBeLessThan(TOL);
        }
      }
    }
  });

  it('supports NCHW through the kernels directly', () => {
    const xs = [2, 3, 9, 8];
    const fs = [3, 3, 3, 4];
    const xd = rand(xs, 1);
    const fd = rand(fs, 2);
    for (const stride of [1, 2]) {
      for (const pad of ['same', 'valid'] as const) {
        const nhwcInfo = tf.backend_util.computeConv2DInfo([2, 9, 8, 3], fs as [number, number, number, number], stride, 1, pad);
        const dyShape = [2, 4, nhwcInfo.outHeight, nhwcInfo.outWidth];
        const dyd = rand(dyShape, 3);
        const attrs = { strides: stride, pad, dataFormat: 'NCHW' };
        const err = relErrorVsCpu(() => {
          const x = tf.tensor(xd, xs);
          const dy = tf.tensor(dyd, dyShape);
          const dw = tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, { ...attrs, filterShape: fs } as unknown as tf.NamedAttrMap) as tf.Tensor;
          const dx = tf.engine().runKernel('Conv2DBackpropInput', { dy, filter: tf.tensor(fd, fs) }, { ...attrs, inputShape: xs } as unknown as tf.NamedAttrMap) as tf.Tensor;
          return [dw, dx];
        });
        expect(err, `NCHW s=${stride} ${pad}`).toBeLessThan(TOL);
      }
    }
  });

  it('conv2dTranspose (Conv2DBackpropInput in the forward pass) and its gradient match cpu', () => {
    let seed = 9000;
    const cases: { x: [number, number, number, number]; out: [number, number, number, number]; k: number; s: number; pad: 'same' | 'valid' }[] = [
      { x: [2, 7, 7, 8], out: [2, 13, 13, 3], k: 3, s: 2, pad: 'same' },
      { x: [2, 7, 7, 8], out: [2, 14, 14, 1], k: 5, s: 2, pad: 'same' },
      { x: [1, 6, 4, 3], out: [1, 13, 9, 5], k: 3, s: 2, pad: 'valid' },
      { x: [3, 5, 5, 4], out: [3, 5, 5, 6], k: 5, s: 1, pad: 'same' },
      { x: [2, 5, 7, 2], out: [2, 9, 11, 1], k: 5, s: 1, pad: 'valid' },
    ];
    for (const c of cases) {
      const fShape = [c.k, c.k, c.out[3], c.x[3]];
      const xd = rand(c.x, seed);
      const fd = rand(fShape, seed + 1);
      const rd = rand(c.out, seed + 2);
      seed += 3;
      const err = relErrorVsCpu(() => {
        const x = tf.tensor4d(xd, c.x);
        const w = tf.tensor4d(fd, fShape as [number, number, number, number]);
        const r = tf.tensor4d(rd, c.out);
        const y = tf.conv2dTranspose(x, w, c.out, c.s, c.pad);
        const g = tf.grads((a: tf.Tensor, b: tf.Tensor) =>
          tf.sum(tf.mul(tf.conv2dTranspose(a as tf.Tensor4D, b as tf.Tensor4D, c.out, c.s, c.pad), r)))([x, w]);
        return [y, ...g];
      });
      expect(err, `conv2dTranspose x=[${c.x}] -> [${c.out}] k=${c.k} s=${c.s} ${c.pad}`).toBeLessThan(TOL);
    }
  });
});

describe('memory', () => {
  it('stays flat over repeated training steps (minimize, variableGrads, batched matMul)', () => {
    const be = tf.backend() as unknown as { numDataIds(): number };
    const x = tf.tensor4d(rand([4, 13, 11, 1], 1), [4, 13, 11, 1]);
    const w1 = tf.variable(tf.tensor4d(rand([5, 5, 1, 8], 2), [5, 5, 1, 8]).mul(0.2));
    const w2 = tf.variable(tf.tensor4d(rand([3, 3, 8, 16], 3), [3, 3, 8, 16]).mul(0.2));
    const wd = tf.variable(tf.tensor2d(rand([16 * 4 * 3, 10], 4), [16 * 4 * 3, 10]).mul(0.1));
    const a3 = tf.tensor3d(rand([3, 40, 50], 5), [3, 40, 50]);
    const b3 = tf.variable(tf.tensor3d(rand([3, 50, 30], 6), [3, 50, 30]));
    const opt = tf.train.adam(1e-3);
    const loss = () => {
      const h = tf.relu(tf.conv2d(x, w1 as tf.Tensor4D, 2, 'same'));
      const h2 = tf.conv2d(h, w2 as tf.Tensor4D, 2, 'same');
      const up = tf.conv2dTranspose(h2, w2 as tf.Tensor4D, [4, 7, 6, 8], 2, 'same');
      const z = tf.fused.matMul({ a: tf.reshape(h2, [4, -1]) as tf.Tensor2D, b: wd as tf.Tensor2D, activation: 'relu' });
      const bm = tf.matMul(a3, b3);
      return tf.addN([tf.losses.huberLoss(tf.zerosLike(z), z), tf.mean(tf.square(up)), tf.mean(tf.square(bm))]) as tf.Scalar;
    };
    const step = (i: number) => {
      if (i % 2 === 0) {
        opt.minimize(loss);
      } else {
        tf.tidy(() => {
          const { grads } = tf.variableGrads(loss);
          opt.applyGradients(grads as unknown as Parameters<typeof opt.applyGradients>[0]);
        });
      }
    };
    for (let i = 0; i < 4; i++) step(i);
    const m0 = tf.memory();
    const d0 = be.numDataIds();
    for (let i = 0; i < 40; i++) step(i);
    const m1 = tf.memory();
    expect(m1.numTensors).toBe(m0.numTensors);
    expect(m1.numBytes).toBe(m0.numBytes);
    // Intermediate buffers the kernels allocate on the backend must be freed too.
    expect(be.numDataIds()).toBe(d0);
    tf.dispose([x, w1, w2, wd, a3, b3]);
    opt.dispose();
  });
});

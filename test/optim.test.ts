import { beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { initCompute, tf } from '../lab/compute.js';
import { FusedAdam } from '../lab/optim.js';
import { huberLoss } from '../agents/dqn.js';

beforeAll(async () => {
  await initCompute('wasm');
});

describe('huberLoss', () => {
  it('matches tf.losses.huberLoss in value and gradient', () => {
    const q = tf.tensor1d([0.2, -3, 1.5, 0.9, -0.4, 4]);
    const y = tf.tensor1d([0, 0, 0, 1, 0.1, 1]);
    const ours = tf.valueAndGrad((x: tf.Tensor) => huberLoss(x, y))(q);
    const theirs = tf.valueAndGrad((x: tf.Tensor) => tf.losses.huberLoss(y, x) as tf.Scalar)(q);
    expect(ours.value.dataSync()[0]).toBeCloseTo(theirs.value.dataSync()[0]!, 6);
    // By hand: d = q − y = [0.2, −3, 1.5, −0.1, −0.5, 3]; gradient clip(d, −1, 1) / 6.
    const expected = [0.2, -1, 1, -0.1, -0.5, 1].map((v) => v / 6);
    ours.grad.dataSync().forEach((g, i) => expect(g).toBeCloseTo(expected[i]!, 6));
    const theirGrad = theirs.grad.dataSync();
    ours.grad.dataSync().forEach((g, i) => expect(g).toBeCloseTo(theirGrad[i]!, 6));
  });
});

describe('FusedAdam', () => {
  it('takes the textbook first step: w − lr · g / (|g| + ε)', () => {
    const w = tf.variable(tf.tensor1d([1, -2, 0.5]));
    const adam = new FusedAdam([w], { learningRate: 0.1, epsilon: 1e-8 });
    const norm = adam.apply([tf.tensor1d([3, -4, 0])]);
    expect(norm).toBeCloseTo(5, 12);
    const got = Array.from(w.dataSync());
    expect(got[0]).toBeCloseTo(1 - 0.1, 6);
    expect(got[1]).toBeCloseTo(-2 + 0.1, 6);
    expect(got[2]).toBe(0.5);
    expect(adam.step).toBe(1);
  });

  it('clips by the global norm before the moments see the gradient', async () => {
    const a = tf.variable(tf.tensor1d([0, 0]));
    const b = tf.variable(tf.tensor1d([0]));
    const adam = new FusedAdam([a, b], { learningRate: 0.01 });
    const norm = adam.apply([tf.tensor1d([6, 0]), tf.tensor1d([8])], 1);
    expect(norm).toBeCloseTo(10, 12);
    // The clipped gradient is g · 1 / (10 + 1e-6); m = (1 − β1) · clipped.
    const { m } = await adam.moments();
    expect(m[0]![0]).toBeCloseTo(0.1 * 0.6, 5);
    expect(m[1]![0]).toBeCloseTo(0.1 * 0.8, 5);
  });

  it('minimises a quadratic', () => {
    const w = tf.variable(tf.tensor1d([5, -3]));
    const target = tf.tensor1d([1, 2]);
    const adam = new FusedAdam([w], { learningRate: 0.05 });
    for (let i = 0; i < 2000; i++) tf.tidy(() => adam.apply([tf.grad((x: tf.Tensor) => tf.sum(tf.square(tf.sub(x, target))))(w)]));
    const [x0, x1] = w.dataSync();
    expect(x0).toBeCloseTo(1, 2);
    expect(x1).toBeCloseTo(2, 2);
  });

  it('never writes into storage another tensor shares (a target network assigned from the online one)', async () => {
    await initCompute('cpu'); // cpu's dataSync() returns the backing array itself
    try {
      const online = tf.variable(tf.tensor1d([1, 2, 3]));
      const target = tf.variable(tf.zeros([3]));
      target.assign(online); // shares the data, as a hard target update does
      new FusedAdam([online], { learningRate: 0.1 }).apply([tf.tensor1d([1, 1, 1])]);
      expect(Array.from(target.dataSync())).toEqual([1, 2, 3]);
      expect(Array.from(online.dataSync()).map((v) => Math.round(v * 10) / 10)).toEqual([0.9, 1.9, 2.9]);
    } finally {
      await initCompute('wasm');
    }
  });

  it('saves and restores its state exactly', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'adam-'));
    const make = () => tf.variable(tf.tensor1d([0.3, -0.7, 1.1]));
    const g = (k: number) => tf.tensor1d([Math.sin(k), Math.cos(k), 0.5]);
    const wa = make();
    const a = new FusedAdam([wa], { learningRate: 0.01 });
    for (let k = 0; k < 5; k++) a.apply([g(k)]);
    a.save(dir);
    const wb = tf.variable(tf.tensor1d(Array.from(wa.dataSync())));
    const b = new FusedAdam([wb], { learningRate: 0.01 });
    b.load(dir);
    for (let k = 5; k < 9; k++) {
      a.apply([g(k)]);
      b.apply([g(k)]);
    }
    expect(Array.from(wb.dataSync())).toEqual(Array.from(wa.dataSync()));
    const other = new FusedAdam([tf.variable(tf.tensor1d([1, 2]))], { learningRate: 0.01 });
    expect(() => other.load(dir)).toThrow(/does not fit this network/);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});

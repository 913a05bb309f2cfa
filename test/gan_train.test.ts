import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { initCompute, tf } from '../lab/compute.js';
import { readMetricsFile, RunStore } from '../lab/run_store.js';
import type { SamplesEvent, TrainEvent } from '../protocol/events.js';
import { Rng } from '../envs/index.js';
import { loadQuickDraw, type QuickDrawImages } from '../gan/data.js';
import { BitRng, GanNet, GanOptimizer, analyseSpec, binaryCrossEntropy, ganPreset, type BatchNormStat, type GanHyperparameters, type NetSpec } from '../gan/models.js';
import { interpolationLatents, isSampleIteration, loadGenerator, resolveGanHyperparameters, resumeGanTraining, startGanTraining, type GanStartOptions } from '../gan/train.js';
import { gridPng, readGreyPng, slerp, toInk } from '../gan/images.js';
import { symmetricEigen } from '../gan/linalg.js';
import { main } from '../cli/main.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lab-gan-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

let apples: QuickDrawImages;
beforeAll(async () => {
  apples = await loadQuickDraw('apple', { download: 'never', limit: 64 });
});

/** The tiny preset, small enough for seconds on the cpu backend. */
function tinyOptions(extra: Partial<GanStartOptions> = {}): GanStartOptions {
  return { preset: 'tiny', category: 'apple', seed: 3, images: apples, out: tmp, logEvery: 3, sampleEvery: 4, checkpointEvery: 0, ...extra };
}

function weightsOf(dir: string): Float32Array[] {
  return GanNet.read(dir).values;
}

/** Metrics without wall-clock fields. */
function deterministic(events: TrainEvent[]): unknown[] {
  return events.map((e) => {
    const { time: _t, ...rest } = e as TrainEvent & { time: number };
    if (rest.type === 'update') {
      const { sps: _s, ...u } = rest;
      return u;
    }
    if (rest.type === 'checkpoint') return { type: 'checkpoint', step: rest.step };
    return rest;
  });
}

describe('book preset', () => {
  it("has the book's architecture: Keras' parameter counts and shapes", async () => {
    await initCompute('cpu');
    const hp = ganPreset('book').hyperparameters;
    const G = new GanNet(hp.generator, new Rng(0));
    const D = new GanNet(hp.discriminator, new Rng(1));
    try {
      // Keras' summaries: discriminator 4,311,553 parameters; generator 183,713 of which 177,329 trainable.
      expect(D.paramCount).toBe(4_311_553);
      expect(G.paramCount).toBe(177_329);
      expect(G.state.reduce((a, v) => a + v.size, 0)).toBe(6_384);
      expect(G.outputShape).toEqual([28, 28, 1]);
      expect(D.outputShape).toEqual([1]);
      expect(hp.latentDim).toBe(32);
      expect(hp.latentDistribution).toBe('uniform');
      expect(hp.discriminatorOptimizer).toEqual({ type: 'rmsprop', learningRate: 0.0008, rho: 0.9, epsilon: 1e-7, decay: 6e-8, clipValue: 1 });
      expect(hp.generatorOptimizer).toEqual({ type: 'rmsprop', learningRate: 0.0004, rho: 0.9, epsilon: 1e-7, decay: 3e-8, clipValue: 1 });
      expect([hp.batch, hp.iterations]).toEqual([128, 2000]);
      const out = tf.tidy(() => G.apply(tf.randomUniform([2, 32], -1, 1), { training: false }));
      const v = out.dataSync();
      expect(out.shape).toEqual([2, 28, 28, 1]);
      expect(Math.min(...v)).toBeGreaterThanOrEqual(0);
      expect(Math.max(...v)).toBeLessThanOrEqual(1);
      out.dispose();
    } finally {
      G.dispose();
      D.dispose();
    }
  });
});

describe('building blocks', () => {
  it('RMSprop follows Keras 2.2: clipvalue, time decay, epsilon outside the root', async () => {
    await initCompute('cpu');
    const w = tf.variable(tf.tensor1d([1, 2, 3]));
    const opt = new GanOptimizer({ type: 'rmsprop', learningRate: 0.1, rho: 0.9, epsilon: 1e-7, decay: 0.5, clipValue: 1 }, [w]);
    const expected = [1, 2, 3];
    const a = [0, 0, 0];
    const grads = [
      [0.5, -3, 0],
      [2, 0.25, -0.1],
    ];
    grads.forEach((g, step) => {
      const lr = 0.1 / (1 + 0.5 * step);
      g.forEach((gi, i) => {
        const c = Math.max(-1, Math.min(1, gi));
        a[i] = 0.9 * a[i]! + 0.1 * c * c;
        expected[i] = expected[i]! - (lr * c) / (Math.sqrt(a[i]!) + 1e-7);
      });
      const gt = tf.tensor1d(g);
      opt.apply([gt]);
      gt.dispose();
    });
    Array.from(w.dataSync()).forEach((v, i) => expect(v).toBeCloseTo(expected[i]!, 6));
    expect(opt.iterations).toBe(2);
    expect(opt.learningRate).toBeCloseTo(0.1 / 2, 12);
    w.dispose();
  });

  it("the optimizers' tensor-op path (GPU backends) computes what the JS path computes, and their checkpoints are interchangeable", async () => {
    await initCompute('cpu');
    const specs = [
      { type: 'rmsprop', learningRate: 0.01, rho: 0.9, epsilon: 1e-7, decay: 0.1, clipValue: 0.5 },
      { type: 'adam', learningRate: 0.01, beta1: 0.5, beta2: 0.999, epsilon: 1e-7, decay: 0.05, clipValue: null },
    ] as const;
    for (const spec of specs) {
      const rng = new Rng(11);
      const start = [Float32Array.from({ length: 12 }, () => rng.normal()), Float32Array.from({ length: 5 }, () => rng.normal())];
      const make = (onDevice: boolean) => {
        const vars = start.map((v) => tf.variable(tf.tensor1d(v)));
        return { vars, opt: new GanOptimizer(spec, vars, { onDevice }) };
      };
      const js = make(false);
      const dev = make(true);
      expect([js.opt.onDevice, dev.opt.onDevice]).toEqual([false, true]);
      const before = tf.memory().numTensors;
      for (let step = 0; step < 6; step++) {
        // Gradients beyond the clip value, and one exactly zero.
        const grads = start.map((v) => tf.tensor1d(v.map((_, i) => (i === 0 ? 0 : rng.normal() * 0.8))));
        js.opt.apply(grads);
        dev.opt.apply(grads);
        tf.dispose(grads);
      }
      expect(tf.memory().numTensors).toBe(before);
      js.vars.forEach((v, k) => {
        const [a, b] = [v.dataSync(), dev.vars[k]!.dataSync()];
        expect(Array.from(a)).not.toEqual(Array.from(start[k]!));
        a.forEach((x, i) => expect(b[i]).toBeCloseTo(x, 5));
      });
      // A checkpoint of either path loads into the other and continues identically.
      const [dirJs, dirDev] = [path.join(tmp, `opt-${spec.type}-js`), path.join(tmp, `opt-${spec.type}-dev`)];
      fs.mkdirSync(dirJs);
      fs.mkdirSync(dirDev);
      await js.opt.save(dirJs);
      await dev.opt.save(dirDev);
      expect(fs.readFileSync(path.join(dirJs, 'optimizer.json'), 'utf8')).toBe(fs.readFileSync(path.join(dirDev, 'optimizer.json'), 'utf8'));
      const floats = (file: string) => {
        const b = fs.readFileSync(file);
        return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
      };
      const [slotsJs, slotsDev] = [floats(path.join(dirJs, 'optimizer.bin')), floats(path.join(dirDev, 'optimizer.bin'))];
      expect(slotsDev.length).toBe(slotsJs.length);
      slotsJs.forEach((x, i) => expect(slotsDev[i]).toBeCloseTo(x, 5));
      const crossed = { js: make(false), dev: make(true) };
      crossed.js.opt.load(dirDev);
      crossed.dev.opt.load(dirJs);
      expect([crossed.js.opt.iterations, crossed.dev.opt.iterations]).toEqual([6, 6]);
      const g = start.map((v) => tf.tensor1d(v.map(() => 0.3)));
      crossed.js.opt.apply(g);
      crossed.dev.opt.apply(g);
      tf.dispose(g);
      // One step from the start weights with the transferred slots: the same on both paths.
      crossed.js.vars.forEach((v, k) => v.dataSync().forEach((x, i) => expect(crossed.dev.vars[k]!.dataSync()[i]).toBeCloseTo(x, 5)));
      for (const o of [js, dev, crossed.js, crossed.dev]) {
        o.opt.dispose();
        tf.dispose(o.vars);
      }
    }
  });

  it('batch norm: batch statistics in training, Keras moving averages, moving statistics in inference', async () => {
    await initCompute('cpu');
    const spec: NetSpec = { inputShape: [2], layers: [{ type: 'batchNorm', momentum: 0.9, epsilon: 1e-3 }] };
    const net = new GanNet(spec, new Rng(0));
    const x = tf.tensor2d([
      [1, 10],
      [3, 14],
      [5, 12],
      [7, 16],
    ]);
    const stats: BatchNormStat[] = [];
    const y = tf.tidy(() => net.apply(x, { training: true, batchStats: stats }));
    const yv = y.dataSync();
    // Column 0: mean 4, biased variance 5.
    expect(yv[0]).toBeCloseTo((1 - 4) / Math.sqrt(5 + 1e-3), 5);
    net.updateMovingStats(stats);
    const [mm, mv] = net.state.map((v) => Array.from(v.dataSync()));
    expect(mm![0]).toBeCloseTo(0.1 * 4, 6);
    expect(mm![1]).toBeCloseTo(0.1 * 13, 5);
    // Keras 2.2 makes the variance unbiased with n / (n − (1 + ε)).
    expect(mv![0]).toBeCloseTo(0.9 + 0.1 * 5 * (4 / (4 - 1.001)), 5);
    const yi = tf.tidy(() => net.apply(x, { training: false }));
    expect(yi.dataSync()[0]).toBeCloseTo((1 - mm![0]!) / Math.sqrt(mv![0]! + 1e-3), 5);
    tf.dispose([x, y, yi]);
    net.dispose();
  });

  it('standing batch-norm statistics: one pass without dropout sets the moving mean and unbiased variance', async () => {
    await initCompute('cpu');
    const spec: NetSpec = { inputShape: [2], layers: [{ type: 'dropout', rate: 0.5 }, { type: 'batchNorm', momentum: 0.9, epsilon: 1e-3 }] };
    const net = new GanNet(spec, new Rng(0));
    net.setBatchNormStats(new Float32Array([1, 10, 3, 14, 5, 12, 7, 16]));
    const [mm, mv] = net.state.map((v) => Array.from(v.dataSync()));
    // Dropout off (it would zero or double values and move the mean): column means 4 and 13, variances 20/3 and 20/3.
    expect(mm![0]).toBeCloseTo(4, 6);
    expect(mm![1]).toBeCloseTo(13, 5);
    expect(mv![0]).toBeCloseTo(20 / 3, 5);
    expect(mv![1]).toBeCloseTo(20 / 3, 5);
    expect(() => net.setBatchNormStats(new Float32Array([1, 2, 3]))).toThrow(/at least 2 inputs of 2 values/);
    net.dispose();
  });

  it('spectral normalisation: power iteration finds the largest singular value; layers use W / σ; u is saved state', async () => {
    await initCompute('cpu');
    const spec: NetSpec = {
      inputShape: [6, 6, 2],
      spectralNorm: true,
      layers: [{ type: 'conv2d', filters: 3, kernelSize: 2, strides: 2, activation: 'linear' }, { type: 'flatten' }, { type: 'dense', units: 1 }],
    };
    expect(analyseSpec(spec).params.map((p) => p.name)).toEqual(['l0/kernel', 'l0/bias', 'l0/sn_u', 'l2/kernel', 'l2/bias', 'l2/sn_u']);
    const net = new GanNet(spec, new Rng(5));
    expect(net.trainable.length).toBe(4);
    expect(net.state.map((v) => v.shape)).toEqual([[3], [1]]);
    // σ of the conv kernel as an [8, 3] matrix, from the eigenvalues of MᵀM.
    const M = net.trainable[0]!.dataSync();
    const gram = new Float64Array(9);
    for (let a = 0; a < 3; a++) for (let b = 0; b < 3; b++) for (let r = 0; r < 8; r++) gram[a * 3 + b]! += M[r * 3 + a]! * M[r * 3 + b]!;
    const sigma = Math.sqrt(Math.max(...symmetricEigen(gram, 3).values));
    net.powerIterate(50);
    const u = Array.from(net.state[0]!.dataSync());
    expect(Math.hypot(...u)).toBeCloseTo(1, 5);
    const Mu = Array.from({ length: 8 }, (_, r) => u.reduce((acc, ui, c) => acc + M[r * 3 + c]! * ui, 0));
    expect(Math.hypot(...Mu)).toBeCloseTo(sigma, 4);
    // The conv layer's output is the convolution with W / σ (bias 0): doubling W leaves it unchanged.
    const x = tf.randomNormal([2, 6, 6, 2], 0, 1, 'float32', 3);
    const out = (n: GanNet) => tf.tidy(() => Array.from(n.apply(x, { training: true }).dataSync()));
    const before = out(net);
    const doubled = net.getWeights();
    doubled[0] = doubled[0]!.map((w) => 2 * w);
    const net2 = new GanNet(spec, doubled);
    out(net2).forEach((v, i) => expect(v).toBeCloseTo(before[i]!, 4));
    // u travels with the weights (the checkpoint's discriminator/), and a copy can start from another net's u.
    const dir = path.join(tmp, 'sn-net');
    fs.mkdirSync(dir);
    await net.save(dir);
    expect(Array.from(GanNet.load(dir).state[0]!.dataSync())).toEqual(u);
    const fresh = new GanNet(spec, new Rng(5));
    fresh.powerIterate(0, net);
    expect(Array.from(fresh.state[0]!.dataSync())).toEqual(u);
    expect(() => analyseSpec({ ...spec, spectralNorm: 'yes' as unknown as boolean })).toThrow(/spectralNorm must be true or false, got "yes"/);
    x.dispose();
    for (const n of [net, net2, fresh]) n.dispose();
  });

  it('--set with dotted keys reaches inside the networks; unknown paths and bad values are named', () => {
    const hp = resolveGanHyperparameters('fast', { overrides: { 'discriminator.spectralNorm': true, 'discriminator.layers.3.rate': 0.2, 'generatorOptimizer.learningRate': 6e-4 } as Partial<GanHyperparameters> });
    expect(hp.discriminator.spectralNorm).toBe(true);
    expect(hp.discriminator.layers[3]).toEqual({ type: 'dropout', rate: 0.2 });
    expect(hp.generatorOptimizer.learningRate).toBe(6e-4);
    expect(ganPreset('fast').hyperparameters.discriminator.spectralNorm).toBeUndefined(); // the preset is not changed
    const set = (overrides: Record<string, unknown>) => () => resolveGanHyperparameters('fast', { overrides: overrides as Partial<GanHyperparameters> });
    expect(set({ 'discriminator.spectralnorm': true })).toThrow(/unknown GAN hyperparameter discriminator.spectralnorm; known under discriminator: inputShape, leakyReluAlpha, layers, spectralNorm/);
    expect(set({ 'discriminator.layers.9.rate': 0.2 })).toThrow(/discriminator.layers.9 is not an object or list of this preset/);
    expect(set({ 'batch.size': 2 })).toThrow(/batch is not an object/);
    expect(set({ 'discriminator.spectralNorm': 'yes' })).toThrow(/spectralNorm must be true or false, got "yes"/);
    expect(set({ 'discriminator.layers.2.rate': 0.2 })).toThrow(/known under discriminator.layers.2: type/); // a flatten layer
    expect(set({ 'discriminator.layers.3.rate': 1 })).toThrow(/layer 3 \(dropout\): rate must be in \[0, 1\), got 1/);
  });

  it('generatorEma must be in [0, 1)', () => {
    expect(() => resolveGanHyperparameters('tiny', { overrides: { generatorEma: 1 } })).toThrow(/generatorEma must be a number in \[0, 1\), got 1/);
    expect(() => resolveGanHyperparameters('tiny', { overrides: { generatorEma: -0.1 } })).toThrow(/generatorEma/);
    expect(resolveGanHyperparameters('fast').generatorEma).toBe(0.995);
    expect(resolveGanHyperparameters('book').generatorEma).toBe(0);
  });

  it('dropout masks are seeded and resumable; the cross-entropy clips like Keras', async () => {
    await initCompute('cpu');
    const a = new BitRng(42);
    const m1 = a.dropoutMask(10_000, 0.4);
    const state = a.getState();
    const m2 = a.dropoutMask(100, 0.4);
    const b = new BitRng(0);
    b.setState(state);
    expect(Array.from(b.dropoutMask(100, 0.4))).toEqual(Array.from(m2));
    const dropped = m1.filter((v) => v === 0).length / m1.length;
    expect(dropped).toBeGreaterThan(0.37);
    expect(dropped).toBeLessThan(0.43);
    expect(m1.find((v) => v !== 0)).toBeCloseTo(1 / 0.6, 6);
    const loss = tf.tidy(() => binaryCrossEntropy(tf.tensor2d([[1], [0]]), tf.tensor2d([[0], [1]])).dataSync()[0]!);
    // Both predictions are clipped (to 1e-7 and to float32's 1 − 1e-7), as Keras does in float32.
    expect(loss).toBeCloseTo((-Math.log(1e-7) - Math.log(1 - Math.fround(1 - 1e-7))) / 2, 2);
  });

  it('grids and interpolation', () => {
    const ink = new Uint8Array(3 * 784);
    ink[0] = 255;
    const png = readGreyPng(gridPng(ink, 3, { columns: 2, scale: 2, gap: 1 }));
    expect([png.width, png.height]).toEqual([2 * 56 + 3, 2 * 56 + 3]);
    expect(png.grey[1 * png.width + 1]).toBe(0); // the inked pixel, dark
    expect(png.grey[1 * png.width + 5]).toBe(255); // background, white
    expect(Array.from(toInk(new Float32Array([-1, 0, 1, 2]), '-1,1'))).toEqual([0, 128, 255, 255]);
    const p = new Float32Array([1, 0]);
    const q = new Float32Array([0, 1]);
    const mid = slerp(p, q, 0.5);
    expect(mid[0]).toBeCloseTo(Math.SQRT1_2, 6);
    expect(Math.hypot(mid[0]!, mid[1]!)).toBeCloseTo(1, 6);
    const lat = interpolationLatents(new Rng(1), 2, 5, 3, 'uniform');
    expect(lat.length).toBe(2 * 5 * 3);
  });
});

describe.each(['cpu', 'wasm'] as const)('training on %s', (backend) => {
  it('resumes exactly: 4 + resume + 4 iterations equal 8 straight, bit for bit', async () => {
    // With a weight average of the generator, which is checkpointed too, and spectral normalisation in both
    // networks (its power-iteration vectors are checkpointed state; the average starts from the raw G's).
    const tiny = ganPreset('tiny').hyperparameters;
    const overrides = { generatorEma: 0.9, discriminator: { ...tiny.discriminator, spectralNorm: true }, generator: { ...tiny.generator, spectralNorm: true } };
    const straight = await startGanTraining(tinyOptions({ backend, iterations: 8, runId: `straight-${backend}`, overrides }));
    let calls = 0;
    const first = await startGanTraining(tinyOptions({ backend, iterations: 8, runId: `resumed-${backend}`, overrides, shouldStop: () => ++calls > 4 }));
    expect(first.result).toMatchObject({ iterations: 4, stopped: true });
    expect(RunStore.open(first.runDir).latestCheckpoint()).toEqual({ unit: 'iterations', at: 4, dir: 'iter-00000004' });
    const second = await resumeGanTraining(first.runDir, { images: apples });
    expect(second.result).toMatchObject({ iterations: 8, stopped: false });

    for (const net of ['generator', 'generator-raw', 'discriminator']) {
      const a = weightsOf(path.join(straight.runDir, net));
      const b = weightsOf(path.join(second.runDir, net));
      expect(b.length).toBe(a.length);
      a.forEach((w, i) => expect(Buffer.from(b[i]!.buffer).equals(Buffer.from(w.buffer))).toBe(true));
    }
    for (const opt of ['optimizer-d', 'optimizer-g']) {
      const a = fs.readFileSync(path.join(straight.runDir, 'checkpoints', 'iter-00000008', opt, 'optimizer.bin'));
      const b = fs.readFileSync(path.join(second.runDir, 'checkpoints', 'iter-00000008', opt, 'optimizer.bin'));
      expect(b.equals(a)).toBe(true);
    }
    const ma = readMetricsFile(path.join(straight.runDir, 'metrics.jsonl'));
    const mb = readMetricsFile(path.join(second.runDir, 'metrics.jsonl'));
    // The resumed run has one more checkpoint event (at the stop); everything else is identical.
    expect(deterministic(mb.filter((e) => !(e.type === 'checkpoint' && e.step === 4)))).toEqual(deterministic(ma));
    for (const f of ['samples/final.png', 'samples/grid-iter-00000004.png', 'samples/grid-iter-00000008.png', 'curves/loss.png', 'curves/accuracy.png', 'interpolation.png']) {
      expect(fs.existsSync(path.join(second.runDir, f)), f).toBe(true);
    }
    expect(fs.readFileSync(path.join(second.runDir, 'samples/final.png')).equals(fs.readFileSync(path.join(straight.runDir, 'samples/final.png')))).toBe(true);
  }, 90_000); // the cpu backend runs the tiny networks slowly under a loaded CI machine

  it('leaks no tensors across iterations and emits update, samples and checkpoint events', async () => {
    const counts: number[] = [];
    const events: TrainEvent[] = [];
    await startGanTraining(
      tinyOptions({
        backend,
        iterations: 6,
        logEvery: 1,
        sampleEvery: 2,
        checkpointEvery: 3,
        runId: `leak-${backend}`,
        overrides: { generatorEma: 0.5, discriminator: { ...ganPreset('tiny').hyperparameters.discriminator, spectralNorm: true } },
        sinks: [{ handle: (e) => (events.push(e), e.type === 'update' && counts.push(tf.memory().numTensors)) }],
      }),
    );
    expect(counts.length).toBe(6);
    expect(new Set(counts.slice(1)).size).toBe(1);
    const samples = events.filter((e): e is SamplesEvent => e.type === 'samples');
    expect(samples.map((e) => e.step)).toEqual([0, 2, 4, 6]);
    expect(Buffer.from(samples[0]!.pixels, 'base64').length).toBe(64 * 28 * 28);
    expect(events.filter((e) => e.type === 'checkpoint').map((e) => e.step)).toEqual([3, 6]);
    const update = events.find((e) => e.type === 'update')!;
    expect(Object.keys(update.type === 'update' ? update.stats : {})).toEqual(expect.arrayContaining(['dLoss', 'gLoss', 'dAccReal', 'dAccFake', 'gAcc', 'lrD', 'lrG']));
  });
});

describe('generator export and CLI', () => {
  it('loadGenerator samples images in [0, 1], the same for the same seed', async () => {
    await initCompute('cpu');
    const run = await startGanTraining(tinyOptions({ backend: 'cpu', iterations: 2, runId: 'export' }));
    const config = JSON.parse(fs.readFileSync(path.join(run.runDir, 'config.json'), 'utf8'));
    expect(config).toMatchObject({ kind: 'gan', preset: 'tiny', category: 'apple', seed: 3, data: { count: 64 } });
    const g = loadGenerator(run.runDir);
    try {
      expect([g.latentDim, g.latentDistribution, g.pixelRange]).toEqual([8, 'normal', '-1,1']);
      const a = await g.sample(5, 7);
      const b = await g.sample(5, 7);
      expect(a.length).toBe(5 * 784);
      expect(Array.from(a)).toEqual(Array.from(b));
      expect(Math.min(...a)).toBeGreaterThanOrEqual(0);
      expect(Math.max(...a)).toBeLessThanOrEqual(1);
    } finally {
      g.dispose();
    }
    // The same generator from a model directory.
    const h = loadGenerator(path.join(run.runDir, 'generator'));
    expect(h.source).toBe(path.join(run.runDir, 'generator'));
    h.dispose();
  });

  it("averages the generator's weights: generator/ is the average, generator-raw/ the last weights", async () => {
    await initCompute('cpu');
    const run = await startGanTraining(tinyOptions({ backend: 'cpu', iterations: 3, checkpointEvery: 1, runId: 'ema', overrides: { generatorEma: 0.5 } }));
    const ck = (i: number, net: string) => path.join(run.runDir, 'checkpoints', `iter-0000000${i}`, net);
    const avg = GanNet.read(path.join(run.runDir, 'generator'));
    expect(avg.meta.ema).toBe(0.5);
    const prev = weightsOf(ck(2, 'generator-ema'));
    const last = weightsOf(ck(3, 'generator'));
    const raw = weightsOf(path.join(run.runDir, 'generator-raw'));
    last.forEach((w, i) => expect(Buffer.from(raw[i]!.buffer).equals(Buffer.from(w.buffer))).toBe(true));
    // Update 3, bias-corrected: d = (β − β³) / (1 − β³) with β = 0.5.
    const d = 3 / 7;
    const kinds = analyseSpec(avg.spec).params.map((p) => p.kind);
    let compared = 0;
    kinds.forEach((kind, i) => {
      if (kind === 'movingMean' || kind === 'movingVariance') return;
      avg.values[i]!.forEach((v, j) => expect(v).toBeCloseTo(d * prev[i]![j]! + (1 - d) * last[i]![j]!, 5));
      compared += avg.values[i]!.length;
    });
    expect(compared).toBeGreaterThan(1000);
    // The average's batch-norm statistics are its own (recomputed), not the raw generator's moving ones.
    const movingMean = kinds.indexOf('movingMean');
    expect(Array.from(avg.values[movingMean]!)).not.toEqual(Array.from(last[movingMean]!));
    // A checkpoint directory loads its average.
    const fromCheckpoint = loadGenerator(path.dirname(ck(3, 'generator')));
    expect(fromCheckpoint.source).toBe(ck(3, 'generator-ema'));
    const g = loadGenerator(run.runDir);
    const r = loadGenerator(path.join(run.runDir, 'generator-raw'));
    try {
      expect(g.source).toBe(path.join(run.runDir, 'generator'));
      expect(Array.from(await fromCheckpoint.sample(3, 1))).toEqual(Array.from(await g.sample(3, 1)));
      expect(Array.from(await g.sample(3, 1))).not.toEqual(Array.from(await r.sample(3, 1)));
    } finally {
      for (const x of [g, r, fromCheckpoint]) x.dispose();
    }
  });

  it('`lab gan --category …` trains without a subcommand (train is the default)', async () => {
    const log = console.log;
    const lines: string[] = [];
    console.log = (...a: unknown[]) => void lines.push(a.join(' '));
    try {
      const code = await main(['node', 'lab', 'gan', '--category', 'apple', '--preset', 'tiny', '--iterations', '2', '--limit', '16', '--data', 'never', '--backend', 'cpu', '--out', tmp, '--run-id', 'cli-run', '--set', 'batch=4']);
      expect(code).toBe(0);
    } finally {
      console.log = log;
    }
    expect(lines.join('\n')).toMatch(/done: 2 iterations/);
    const config = JSON.parse(fs.readFileSync(path.join(tmp, 'cli-run', 'config.json'), 'utf8'));
    expect(config.hyperparameters.batch).toBe(4);
    expect(config.data).toMatchObject({ count: 16, source: 'shipped', download: 'never' });
    expect(fs.existsSync(path.join(tmp, 'cli-run', 'generator', 'model.json'))).toBe(true);
  });
});

describe('sample grid schedule', () => {
  it('draws every sampleEvery iterations, and every 25 in the first 200 so a live view moves early', () => {
    const at = (every: number, upTo: number) => Array.from({ length: upTo }, (_, i) => i + 1).filter((it) => isSampleIteration(it, every));
    expect(at(200, 600)).toEqual([25, 50, 75, 100, 125, 150, 175, 200, 400, 600]);
    expect(at(100, 300)).toEqual([25, 50, 75, 100, 125, 150, 175, 200, 300]);
    expect(at(5, 20)).toEqual([5, 10, 15, 20]);
    // A schedule already denser than the early one is left as it is.
    expect(at(4, 40)).toEqual([4, 8, 12, 16, 20, 24, 28, 32, 36, 40]);
    expect(at(0, 300)).toEqual([]);
  });
});

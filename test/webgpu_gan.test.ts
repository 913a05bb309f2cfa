/**
 * The GAN on the `webgpu` backend (Dawn in Node, on SwiftShader's Vulkan driver here): the training step matches
 * the `cpu` backend over 10 iterations (every weight, batch-norm statistic and optimizer slot; the generator's
 * biases before a batch norm, which only carry rounding noise, to an absolute bound), nothing leaks,
 * and `lab gan train --backend webgpu` runs, checkpoints, survives kill -9 and resumes exactly.
 *
 * SwiftShader runs the GPU's shaders on the CPU: a `fast`-preset iteration takes ~24 s here (bench/gan.ts
 * --backend webgpu), so these tests train networks of tiny size that use every layer kind of the `fast` preset
 * (dense, batch norm, leaky ReLU, strided transposed convolutions, convolutions, dropout, tanh and sigmoid
 * outputs), both optimizers (RMSprop with clipping and time decay, Adam), spectral normalisation and fakes in
 * training mode; the generator's weight average in the in-process test (its batch-norm recalibration on 512
 * latents costs tens of seconds per checkpoint on SwiftShader). No `upsample` layer: tfjs 4.22's cpu backend computes the gradient of the nearest-neighbour resize
 * wrongly for batches of more than one image (wasm and webgpu agree with each other), so cpu cannot be the
 * reference for it.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initCompute, tf } from '../lab/compute.js';
import { loadQuickDraw, toFloatImages, type QuickDrawImages } from '../gan/data.js';
import { GanNet, type GanHyperparameters } from '../gan/models.js';
import { GanTrainer, loadGenerator, resolveGanHyperparameters, startGanTraining, type GanRunConfig } from '../gan/train.js';
import { deterministicMetrics, killedRun, runLab } from './lab_cli.js';
import { skipWebgpuTests, useSwiftShader } from './webgpu.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lab-webgpu-gan-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** Tiny networks with the `fast` preset's layer kinds (see the header), as hyperparameter overrides of `tiny`. */
const OVERRIDES: Partial<GanHyperparameters> = {
  generator: {
    inputShape: [8],
    leakyReluAlpha: 0.2,
    layers: [
      { type: 'dense', units: 7 * 7 * 8 },
      { type: 'batchNorm', momentum: 0.9, epsilon: 1e-3 },
      { type: 'activation', activation: 'leakyRelu' },
      { type: 'reshape', shape: [7, 7, 8] },
      { type: 'conv2dTranspose', filters: 8, kernelSize: 4, strides: 2 },
      { type: 'batchNorm', momentum: 0.9, epsilon: 1e-3 },
      { type: 'activation', activation: 'leakyRelu' },
      { type: 'conv2dTranspose', filters: 4, kernelSize: 4, strides: 2 },
      { type: 'batchNorm', momentum: 0.9, epsilon: 1e-3 },
      { type: 'activation', activation: 'leakyRelu' },
      { type: 'conv2d', filters: 1, kernelSize: 3, strides: 1, activation: 'tanh' },
    ],
  },
  discriminator: {
    inputShape: [28, 28, 1],
    leakyReluAlpha: 0.2,
    spectralNorm: true,
    layers: [
      { type: 'conv2d', filters: 4, kernelSize: 4, strides: 2, activation: 'leakyRelu' },
      { type: 'conv2d', filters: 8, kernelSize: 4, strides: 2, activation: 'leakyRelu' },
      { type: 'flatten' },
      { type: 'dropout', rate: 0.3 },
      { type: 'dense', units: 1, activation: 'sigmoid' },
    ],
  },
  // Adam's ε larger than the presets' 1e-7: see BIASES_BEFORE_BATCH_NORM.
  generatorOptimizer: { type: 'adam', learningRate: 0.001, beta1: 0.5, beta2: 0.999, epsilon: 1e-4, decay: 0, clipValue: null },
  fakesMode: 'training',
  generatorEma: 0.9,
  labelNoise: 0.05,
};
/**
 * The runs through the CLI: without the weight average, whose batch-norm statistics are recomputed from 512
 * latents at every checkpoint and sample grid (tens of seconds on SwiftShader); the in-process test covers it.
 */
const CLI_OVERRIDES: Partial<GanHyperparameters> = { ...OVERRIDES, generatorEma: 0 };
/** CLI_OVERRIDES as `lab gan train --set` arguments. */
const SET_ARGS = Object.entries(CLI_OVERRIDES).flatMap(([k, v]) => ['--set', `${k}=${JSON.stringify(v)}`]);

/**
 * The generator's biases that feed straight into a batch norm (the dense layer's and both transposed
 * convolutions'): the normalisation subtracts them again, so their gradient is zero in exact arithmetic and
 * float32 rounding noise in practice, different on every backend (cpu and wasm too). With the presets' Adam ε
 * (1e-7) Adam turns that noise into ±learning-rate steps (m/√v ≈ ±1), which then reach the batch-norm moving
 * means too (measured: 5e-4 relative error in a moving mean); with ε = 1e-4 the noise moves them by less than
 * 1e-7 in 10 steps while real gradients (≫ ε) still take full steps. These biases (weights #1, #7, #13 of G)
 * and their Adam slots (trainable #1, #5, #9) are noise on both backends (cpu's are ~3e-9, webgpu's ~8e-8):
 * they are held to an absolute bound instead of the relative one. Measured on the rest: worst 1.1e-6, median
 * 2.6e-7.
 */
const BIASES_BEFORE_BATCH_NORM = new Set([
  ...[1, 7, 13].map((i) => `generator #${i} (G)`),
  ...[0, 1].flatMap((slot) => [1, 5, 9].map((i) => `optimizer-g slot ${slot} #${i}`)),
]);

/** ‖a − b‖ / ‖a‖ over one tensor's values (0 when both are zero). */
function relativeError(a: Float32Array, b: Float32Array): number {
  let d = 0;
  let n = 0;
  for (let i = 0; i < a.length; i++) {
    d += (a[i]! - b[i]!) ** 2;
    n += a[i]! ** 2;
  }
  return n === 0 ? Math.sqrt(d) : Math.sqrt(d / n);
}

/** Every saved tensor of a checkpoint: each network's weights (batch-norm statistics and spectral-norm vectors included) and each optimizer's slots. */
function checkpointTensors(ckpt: string): Map<string, Float32Array> {
  const out = new Map<string, Float32Array>();
  for (const net of ['generator', 'generator-ema', 'discriminator']) {
    if (!fs.existsSync(path.join(ckpt, net))) continue;
    const { spec, values } = GanNet.read(path.join(ckpt, net));
    values.forEach((v, i) => out.set(`${net} #${i} (${spec.inputShape.length === 1 ? 'G' : 'D'})`, v));
  }
  for (const opt of ['optimizer-d', 'optimizer-g']) {
    const { sizes, slots } = JSON.parse(fs.readFileSync(path.join(ckpt, opt, 'optimizer.json'), 'utf8')) as { sizes: number[]; slots: number };
    const raw = fs.readFileSync(path.join(ckpt, opt, 'optimizer.bin'));
    const all = new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
    let at = 0;
    for (let s = 0; s < slots; s++) {
      sizes.forEach((size, k) => {
        out.set(`${opt} slot ${s} #${k}`, all.slice(at, at + size));
        at += size;
      });
    }
    expect(at).toBe(all.length);
  }
  return out;
}

describe.skipIf(skipWebgpuTests)('the GAN on webgpu (SwiftShader)', () => {
  let apples: QuickDrawImages;
  beforeAll(async () => {
    useSwiftShader();
    apples = await loadQuickDraw('apple', { download: 'never', limit: 64 });
  });

  it('`lab gan train --backend webgpu`: runs and records it; 10 iterations match cpu (every weight, batch-norm statistic and optimizer slot within 1e-4, relative); kill -9 then --resume is bit-exact', async () => {
    // The reference on cpu, in this process (the same images, seed and settings as the CLI runs below).
    const before = tf.memory().numTensors;
    const cpuRun = await startGanTraining({ preset: 'tiny', category: 'apple', seed: 5, images: apples, overrides: CLI_OVERRIDES, batch: 8, iterations: 10, sampleEvery: 0, checkpointEvery: 0, logEvery: 1, out: tmp, runId: 'cpu-ref', backend: 'cpu' });
    expect(cpuRun.config.backend.backend).toBe('cpu');
    expect(tf.memory().numTensors).toBe(before);

    const base = ['gan', 'train', '--preset', 'tiny', '--batch', '8', ...SET_ARGS, '--iterations', '10', '--checkpoint-every', '3', '--sample-every', '0', '--log-every', '1', '--limit', '64', '--data', 'never', '--seed', '5', '--backend', 'webgpu', '--out', tmp];
    const ref = await runLab([...base, '--run-id', 'webgpu-ref'], tmp);
    expect(ref.code, ref.err).toBe(0);
    const refDir = path.join(tmp, 'webgpu-ref');
    const config = JSON.parse(fs.readFileSync(path.join(refDir, 'config.json'), 'utf8'));
    expect(config.backend.backend).toBe('webgpu');
    expect(config.backend.reason).toMatch(/--backend webgpu.*software adapter/);
    expect(fs.readdirSync(path.join(refDir, 'samples'))).toEqual(['final.png']);
    expect(fs.statSync(path.join(refDir, 'interpolation.png')).size).toBeGreaterThan(1000);

    // Every tensor of the final checkpoints, webgpu against cpu.
    const ck = (dir: string) => path.join(dir, 'checkpoints', 'iter-00000010');
    const cpu = checkpointTensors(ck(cpuRun.runDir));
    const gpu = checkpointTensors(ck(refDir));
    expect([...gpu.keys()]).toEqual([...cpu.keys()]);
    // Training happened (the slots start at zero), so the comparison is not between two copies of the initial state.
    for (const [name, v] of cpu) if (name.startsWith('optimizer')) expect(v.some((x) => x !== 0), name).toBe(true);
    const compared = [...cpu].filter(([name]) => !BIASES_BEFORE_BATCH_NORM.has(name));
    expect(compared.length).toBe(cpu.size - 9);
    for (const name of BIASES_BEFORE_BATCH_NORM) {
      if (!name.startsWith('generator #')) continue;
      const [a, b] = [cpu.get(name)!, gpu.get(name)!];
      expect(Math.max(...a.map((v, i) => Math.abs(v - b[i]!))), name).toBeLessThan(1e-6);
    }
    const errors = compared.map(([name, a]) => ({ name, error: relativeError(a, gpu.get(name)!) }));
    const worst = errors.reduce((w, e) => (e.error > w.error ? e : w));
    expect(worst.error, worst.name).toBeLessThanOrEqual(1e-4);
    const stats = (dir: string) => (deterministicMetrics(dir).filter((e) => (e as { type: string }).type === 'update') as { stats: Record<string, number> }[]).map((e) => e.stats.dLoss!);
    const [dLossCpu, dLossGpu] = [stats(cpuRun.runDir), stats(refDir)];
    expect(dLossGpu.length).toBe(10);
    dLossCpu.forEach((v, i) => expect(dLossGpu[i]).toBeCloseTo(v, 4));

    // The saved generator loads and samples (on the cpu backend: the files do not depend on the backend).
    const g = loadGenerator(refDir);
    try {
      const images = await g.sample(4, 1);
      expect(images.length).toBe(4 * 784);
      expect(images.every((v) => v >= 0 && v <= 1)).toBe(true);
    } finally {
      g.dispose();
    }

    const runDir = path.join(tmp, 'webgpu-killed');
    const killedAt = await killedRun([...base, '--run-id', 'webgpu-killed'], runDir, 3);
    expect(killedAt).toBeLessThan(10);
    const resumed = await runLab(['gan', 'train', '--resume', runDir, '--backend', 'webgpu'], tmp);
    expect(resumed.code, resumed.err).toBe(0);
    // SwiftShader runs the same shaders in the same order every time: resuming is exact, as on cpu and wasm.
    expect(deterministicMetrics(runDir)).toEqual(deterministicMetrics(refDir));
    for (const net of ['generator', 'discriminator']) {
      expect(fs.readFileSync(path.join(runDir, net, 'weights.bin')).equals(fs.readFileSync(path.join(refDir, net, 'weights.bin'))), net).toBe(true);
    }
  }, 240_000);

  it('no tensor leaks over more iterations on webgpu (with the weight average); a step there is a Promise; the sample grid reads back', async () => {
    await initCompute('webgpu');
    const hp = resolveGanHyperparameters('tiny', { batch: 8, overrides: OVERRIDES });
    const dir = path.join(tmp, 'leak');
    fs.mkdirSync(dir);
    const config = { kind: 'gan', runId: 'leak', category: 'apple', preset: 'tiny', hyperparameters: hp, seed: 1, iterations: 100 } as unknown as GanRunConfig;
    const trainer = new GanTrainer(config, dir, toFloatImages(apples, hp.pixelRange), apples.count, []);
    try {
      trainer.initFresh();
      const stepped = trainer.step();
      expect(stepped).toBeInstanceOf(Promise);
      expect((await stepped).dLoss).toBeGreaterThan(0);
      const settled = tf.memory().numTensors;
      for (let i = 0; i < 3; i++) await trainer.step();
      expect(tf.memory().numTensors).toBe(settled);
      const grid = await trainer.fixedGrid();
      expect(grid.length).toBe(64 * 784);
      expect(tf.memory().numTensors).toBe(settled);
    } finally {
      trainer.dispose();
    }
  }, 60_000);
});

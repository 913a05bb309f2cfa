/**
 * GAN trainer speed: the `book` preset's iteration at batch 128 (one discriminator step on 128 real + 128
 * fake images, one adversarial step), compared with PyTorch on this machine's CPU, and the `fast` preset's
 * iterations per second.
 *
 * Run: npm run bench:gan [-- --backend wasm|cpu|webgpu|auto --iterations 20 --warmup 2 --fast-iterations 100
 *                         --fast-warmup 5 --only book|fast --profile]
 * Prints one JSON object. `--profile` adds the kernels that take the most time in one iteration of each preset.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { initCompute, tf, type BackendChoice } from '../lab/compute.js';
import { loadQuickDraw, toFloatImages } from '../gan/data.js';
import { GanTrainer, resolveGanHyperparameters, type GanRunConfig } from '../gan/train.js';

/** PyTorch 2 CPU, 2 threads, the same networks and batch on this machine: seconds per iteration. */
const PYTORCH_SECONDS_PER_ITERATION = 7.4;

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1]! : fallback;
}

const backendChoice = arg('backend', 'wasm') as BackendChoice;
const iterations = Number(arg('iterations', '20'));
const warmup = Number(arg('warmup', '2'));
const fastIterations = Number(arg('fast-iterations', '100'));
const fastWarmup = Number(arg('fast-warmup', '5'));
const only = arg('only', 'book,fast').split(',');
const profile = process.argv.includes('--profile');

const compute = await initCompute(backendChoice);
const images = await loadQuickDraw('apple', { download: 'never' });
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lab-bench-gan-'));

const round = (v: number, d = 1) => Number(v.toFixed(d));
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

function trainer(preset: string, runId: string): GanTrainer {
  const hp = resolveGanHyperparameters(preset);
  const config = {
    kind: 'gan',
    runId,
    category: 'apple',
    preset,
    hyperparameters: hp,
    seed: 1,
    iterations: 1_000_000,
  } as unknown as GanRunConfig;
  const dir = path.join(tmp, runId);
  fs.mkdirSync(dir, { recursive: true });
  const t = new GanTrainer(config, dir, toFloatImages(images, hp.pixelRange), images.count, []);
  t.initFresh();
  return t;
}

const result: Record<string, unknown> = {
  backend: compute.backend,
  details: compute.details,
  cpus: os.cpus().length,
  cpuModel: os.cpus()[0]?.model ?? 'unknown',
  node: process.version,
  tfjs: compute.tfjsVersion,
  data: { category: 'apple', images: images.count, source: images.source },
};

/** The kernels that take the most time in one iteration (tf.profile; kernel time, summed per kernel and shape). */
async function profileStep(t: GanTrainer): Promise<Record<string, unknown>> {
  const prof = await tf.profile(async () => {
    await t.step();
  });
  const byKernel = new Map<string, { ms: number; calls: number }>();
  for (const k of prof.kernels) {
    // Fused ops appear twice (the op and the kernel it runs): count kernels only.
    if (k.name.endsWith('__op')) continue;
    const ms = typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : ((await k.kernelTimeMs) as number);
    const key = `${k.name} ${JSON.stringify(k.inputShapes)}`;
    const e = byKernel.get(key) ?? { ms: 0, calls: 0 };
    e.ms += ms;
    e.calls++;
    byKernel.set(key, e);
  }
  const all = [...byKernel].sort((x, y) => y[1].ms - x[1].ms);
  const sum = all.reduce((s, [, v]) => s + v.ms, 0);
  return {
    kernelMs: round(sum),
    top: all.slice(0, 15).map(([k, v]) => ({ kernel: k, ms: round(v.ms), calls: v.calls, share: round(v.ms / sum, 3) })),
  };
}

if (only.includes('book')) {
  const t = trainer('book', 'book');
  for (let i = 0; i < warmup; i++) await t.step();
  const total: number[] = [];
  const d: number[] = [];
  const a: number[] = [];
  const tensors: number[] = [];
  for (let i = 0; i < iterations; i++) {
    const t0 = performance.now();
    await t.step();
    total.push(performance.now() - t0);
    d.push(t.lastTiming.discriminatorMs);
    a.push(t.lastTiming.adversarialMs);
    tensors.push(tf.memory().numTensors);
  }
  const med = median(total);
  result.book = {
    batch: t.hp.batch,
    iterations,
    warmup,
    msPerIteration: { median: round(med), mean: round(mean(total)), min: round(Math.min(...total)), max: round(Math.max(...total)) },
    discriminatorStepMs: { median: round(median(d)), mean: round(mean(d)) },
    adversarialStepMs: { median: round(median(a)), mean: round(mean(a)) },
    pytorchCpuMsPerIteration: PYTORCH_SECONDS_PER_ITERATION * 1000,
    ratioToPytorch: round(med / (PYTORCH_SECONDS_PER_ITERATION * 1000), 2),
    goal: '<= 1.5x PyTorch',
    tensorsConstant: tensors.every((n) => n === tensors[0]),
    generatorParams: t.G.paramCount,
    discriminatorParams: t.D.paramCount,
  };
  if (profile) result.bookProfile = await profileStep(t);
  t.dispose();
}

if (only.includes('fast')) {
  const t = trainer('fast', 'fast');
  for (let i = 0; i < fastWarmup; i++) await t.step();
  const t0 = performance.now();
  for (let i = 0; i < fastIterations; i++) await t.step();
  const seconds = (performance.now() - t0) / 1000;
  result.fast = {
    batch: t.hp.batch,
    iterations: fastIterations,
    warmup: fastWarmup,
    iterationsPerSecond: round(fastIterations / seconds, 2),
    msPerIteration: round((1000 * seconds) / fastIterations),
    presetIterations: t.hp.iterations,
    presetMinutesEstimate: round((t.hp.iterations * seconds) / fastIterations / 60, 1),
    generatorParams: t.G.paramCount,
    discriminatorParams: t.D.paramCount,
  };
  if (profile) result.fastProfile = await profileStep(t);
  t.dispose();
}

fs.rmSync(tmp, { recursive: true, force: true });
console.log(JSON.stringify(result, null, 1));

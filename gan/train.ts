/**
 * The Quick-Draw GAN trainer: starting, resuming and driving a run, and loading a trained generator.
 *
 * One iteration is what the book's loop does once: a discriminator step on `batch` real images (sampled
 * without replacement) and `batch` fakes (labels 1 and 0), then an adversarial step that trains the generator
 * through the frozen discriminator towards label 1 (dropout active in both, as in Keras' training mode).
 *
 * Run directory (`runs/gan-<category>-<preset>-s<seed>-<time>/`):
 *   config.json                  preset, hyperparameters, seed, category, data source and count, backend, versions
 *   metrics.jsonl                update events (loss and accuracy averages every logEvery iterations), samples,
 *                                checkpoint events
 *   samples/grid-iter-XXXXXXXX.png  the fixed-noise 8×8 grid every sampleEvery iterations (and every 25 in the first 200); samples/final.png
 *   curves/loss.png, curves/accuracy.png
 *   interpolation.png            latent interpolation strips (slerp for normal latents, linear for uniform)
 *   generator/, discriminator/   the final networks (model.json + weights.bin); with generatorEma, generator/ is
 *                                the weight average and generator-raw/ the last weights
 *   checkpoints/latest.json      {"unit": "iterations", "at": N, "dir": "iter-XXXXXXXX"}, written last, atomically (RunStore)
 *   checkpoints/iter-XXXXXXXX/   both networks (with batch-norm moving statistics), the generator's weight
 *                                average (generator-ema/), both optimizers, RNG states, the metrics offset and
 *                                the partial logging window
 */
import type { DataMode, GanRunFields } from '../lab/run_files.js';
import fs from 'node:fs';
import path from 'node:path';
import { Rng } from '../envs/index.js';
import { initCompute, readTensor, syncReads, tf, type BackendChoice } from '../lab/compute.js';
import type { EventSink, SamplesEvent, TrainEvent, UpdateEvent } from '../protocol/events.js';
import { GAN_AGENT, GAN_FPS, ganEnvId, type RunInfo } from '../protocol/protocol.js';
import { readableDir, readJson, writeDirAtomic, writeFileAtomic, writeJsonAtomic } from '../lab/fsutil.js';
import { renderPng, type Panel } from '../lab/plot.js';
import { checkpointName, defaultCheckpointEvery, newRunConfig, readMetricsFile, RunStore, runStamp } from '../lab/run_store.js';
import { loadQuickDraw, toFloatImages, type QuickDrawImages } from './data.js';
import { gridPng, lerp, slerp, toInk, toUnit, IMAGE_PIXELS } from './images.js';
import {
  BitRng,
  OPTIONAL_NET_SPEC_KEYS,
  analyseSpec,
  GanNet,
  GanOptimizer,
  binaryCrossEntropy,
  ganPreset,
  sampleLatent,
  type BatchNormStat,
  type GanHyperparameters,
  type LatentDistribution,
  type NetSpec,
  type PixelRange,
} from './models.js';

/** Fixed-noise sample grid: 8×8. */
export const GRID_COUNT = 64;
const GRID_SCALE = 3;

/** A samples event's grid as PNG, drawn as samples/grid-*.png are (the image of the run's TensorBoard file). */
export function samplesEventPng(event: SamplesEvent): Buffer {
  const ink = Buffer.from(event.pixels, 'base64');
  return gridPng(new Uint8Array(ink.buffer, ink.byteOffset, ink.byteLength), event.count, { columns: 8, scale: GRID_SCALE, side: event.width });
}
/** Latents whose batch statistics the averaged generator's batch norm uses. */
const CALIBRATION_COUNT = 512;

export type { DataMode };

/** A GAN run's config.json (its fields are defined, and checked, with the other kinds' in lab/run_files.ts). */
export type GanRunConfig = GanRunFields<GanHyperparameters>;

export interface GanStartOptions {
  category?: string;
  preset?: string;
  seed?: number;
  iterations?: number;
  batch?: number;
  sampleEvery?: number;
  /** Iterations between checkpoints (0: only at the end); default `ganCheckpointEvery(preset's, iterations)`. */
  checkpointEvery?: number;
  logEvery?: number;
  /** Use only the first `limit` images. */
  limit?: number;
  /** How to get the data (gan/data.ts): 'if-missing' (default) downloads when not cached, else the shipped subset. */
  data?: DataMode;
  /** Images to train on instead of loading the category (tests, custom data). */
  images?: QuickDrawImages;
  /** Any hyperparameter, replacing the preset's (e.g. { labelNoise: 0 }). */
  overrides?: Partial<GanHyperparameters>;
  out?: string;
  runId?: string;
  backend?: BackendChoice;
  sinks?: EventSink[];
  shouldStop?: () => boolean;
  command?: string;
  /** Called once the run directory exists and the backend is chosen. */
  onStart?: (config: GanRunConfig, runDir: string) => void;
}

export interface GanResumeOptions {
  /** Raise (or lower) the iteration budget. */
  iterations?: number;
  backend?: BackendChoice;
  images?: QuickDrawImages;
  sinks?: EventSink[];
  shouldStop?: () => boolean;
  onStart?: (config: GanRunConfig, runDir: string) => void;
  /** Where resume says what it passed over (a damaged newest checkpoint); default: stderr. */
  onWarning?: (message: string) => void;
}

export interface GanResult {
  iterations: number;
  stopped: boolean;
  seconds: number;
  /** The last update event's statistics. */
  last: Record<string, number> | null;
}

export interface GanOutcome {
  runDir: string;
  config: GanRunConfig;
  result: GanResult;
}

function checkInt(value: number, what: string, min: number): number {
  if (!Number.isSafeInteger(value) || value < min) throw new Error(`${what} must be an integer >= ${min}, got ${value}`);
  return value;
}

/** iter-00000500: names of checkpoint directories and sample grids. */
export function iterName(iteration: number): string {
  return checkpointName('iterations', iteration);
}

/**
 * The default checkpoint interval of a GAN run of `iterations` iterations: the preset's `checkpointEvery`, but
 * no more than a tenth of the run (so a kill -9 loses at most about a tenth of it), and at least 10 iterations
 * (or the preset's, when that is smaller).
 */
export function ganCheckpointEvery(presetEvery: number, iterations: number): number {
  if (presetEvery <= 0) return presetEvery;
  return defaultCheckpointEvery(iterations, presetEvery, Math.min(10, presetEvery));
}

/** Resolves a preset with overrides into the hyperparameters of a run. */
/** Early on, a grid every this many iterations (while sampleEvery is larger), so a live view moves from the start. */
export const EARLY_SAMPLE_EVERY = 25;
/** …during the first this many iterations. */
export const EARLY_SAMPLE_UNTIL = 200;

/** Whether iteration `it` draws a sample grid: every `sampleEvery` iterations, and (when that is rarer) every 25 in the first 200. */
export function isSampleIteration(it: number, sampleEvery: number): boolean {
  if (sampleEvery <= 0) return false;
  return it % sampleEvery === 0 || (sampleEvery > EARLY_SAMPLE_EVERY && it <= EARLY_SAMPLE_UNTIL && it % EARLY_SAMPLE_EVERY === 0);
}

export function resolveGanHyperparameters(preset: string, options: Pick<GanStartOptions, 'batch' | 'sampleEvery' | 'checkpointEvery' | 'logEvery' | 'overrides'> = {}): GanHyperparameters {
  const base = ganPreset(preset).hyperparameters;
  const entries = Object.entries(options.overrides ?? {});
  const unknown = entries.map(([k]) => k).filter((k) => !k.includes('.') && !Object.hasOwn(base, k));
  if (unknown.length) throw new Error(`unknown GAN hyperparameter${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}; known: ${Object.keys(base).join(', ')}`);
  const hp: GanHyperparameters = { ...base, ...structuredClone(Object.fromEntries(entries.filter(([k]) => !k.includes('.')))) };
  for (const [key, value] of entries) if (key.includes('.')) setPath(hp, key, structuredClone(value));
  if (options.batch !== undefined) hp.batch = options.batch;
  if (options.sampleEvery !== undefined) hp.sampleEvery = options.sampleEvery;
  if (options.checkpointEvery !== undefined) hp.checkpointEvery = options.checkpointEvery;
  if (options.logEvery !== undefined) hp.logEvery = options.logEvery;
  checkInt(hp.batch, 'batch', 1);
  checkInt(hp.sampleEvery, 'sampleEvery', 0);
  checkInt(hp.checkpointEvery, 'checkpointEvery', 0);
  checkInt(hp.logEvery, 'logEvery', 1);
  checkInt(hp.latentDim, 'latentDim', 1);
  const ema = hp.generatorEma ?? 0;
  if (!(typeof ema === 'number' && ema >= 0 && ema < 1)) throw new Error(`generatorEma must be a number in [0, 1), got ${JSON.stringify(hp.generatorEma)}`);
  analyseSpec(hp.generator);
  analyseSpec(hp.discriminator);
  if (hp.generator.inputShape.join() !== String(hp.latentDim)) throw new Error(`generator input [${hp.generator.inputShape}] does not match latentDim ${hp.latentDim}`);
  return hp;
}

/**
 * Sets one nested hyperparameter from a dotted path (`--set discriminator.spectralNorm=true`,
 * `--set discriminator.layers.3.rate=0.2`): every step must exist, except a network's optional settings.
 */
function setPath(hp: GanHyperparameters, key: string, value: unknown): void {
  const parts = key.split('.');
  let node: unknown = hp;
  for (let i = 0; i < parts.length - 1; i++) {
    const next = node !== null && typeof node === 'object' && Object.hasOwn(node, parts[i]!) ? (node as Record<string, unknown>)[parts[i]!] : undefined;
    if (next === null || typeof next !== 'object') throw new Error(`unknown GAN hyperparameter ${key}: ${parts.slice(0, i + 1).join('.')} is not an object or list of this preset`);
    node = next;
  }
  const leaf = parts.at(-1)!;
  const isNet = parts.length === 2 && (parts[0] === 'generator' || parts[0] === 'discriminator');
  if (!Object.hasOwn(node as object, leaf) && !(isNet && OPTIONAL_NET_SPEC_KEYS.includes(leaf))) {
    const known = Object.keys(node as object).concat(isNet ? OPTIONAL_NET_SPEC_KEYS.filter((k) => !Object.hasOwn(node as object, k)) : []);
    throw new Error(`unknown GAN hyperparameter ${key}; known under ${parts.slice(0, -1).join('.')}: ${known.join(', ')}`);
  }
  (node as Record<string, unknown>)[leaf] = value;
}

async function loadImages(category: string, mode: DataMode, limit: number | undefined, given?: QuickDrawImages): Promise<QuickDrawImages> {
  if (given) return given;
  return loadQuickDraw(category, { download: mode, ...(limit !== undefined ? { limit } : {}) });
}

/** Creates a run directory and trains in it. */
export async function startGanTraining(options: GanStartOptions = {}): Promise<GanOutcome> {
  const presetName = options.preset ?? 'fast';
  const hp = resolveGanHyperparameters(presetName, options);
  const category = options.category ?? options.images?.category ?? 'apple';
  const seed = checkInt(options.seed ?? 0, 'seed', 0);
  const iterations = checkInt(options.iterations ?? hp.iterations, 'iterations', 1);
  // Not given (neither as an option nor with --set): a tenth of the run at most.
  if (options.checkpointEvery === undefined && !Object.hasOwn(options.overrides ?? {}, 'checkpointEvery')) hp.checkpointEvery = ganCheckpointEvery(hp.checkpointEvery, iterations);
  const mode = options.data ?? 'if-missing';
  if (options.limit !== undefined) checkInt(options.limit, 'limit', 1);
  const images = await loadImages(category, mode, options.limit, options.images);
  const count = Math.min(images.count, options.limit ?? images.count);
  if (count < hp.batch) throw new Error(`${count} images of '${category}' are fewer than one batch of ${hp.batch}`);
  const compute = await initCompute(options.backend ?? 'auto');
  const config: GanRunConfig = {
    ...newRunConfig('gan', {
      runId: options.runId ?? `gan-${category.replace(/[^A-Za-z0-9._-]+/g, '_')}-${presetName}-s${seed}-${runStamp()}`,
      hyperparameters: hp,
      seed,
      requestedBackend: options.backend ?? 'auto',
      compute,
      ...(options.command !== undefined ? { command: options.command } : {}),
    }),
    category,
    preset: presetName,
    iterations,
    data: { category: images.category, source: images.source, count, limit: options.limit ?? null, download: mode },
  };
  const dir = RunStore.create(options.out ?? 'runs', config).dir;
  options.onStart?.(config, dir);
  const trainer = new GanTrainer(config, dir, toFloatImages(images, hp.pixelRange, count), count, options.sinks ?? [], options.shouldStop);
  try {
    trainer.initFresh();
    const result = await trainer.run();
    return { runDir: dir, config, result };
  } finally {
    trainer.dispose();
  }
}

export function readGanConfig(runDir: string): GanRunConfig {
  return RunStore.open(runDir, 'gan').config<GanRunConfig>();
}

/** Continues a run from its latest checkpoint, exactly (on the same backend). */
export async function resumeGanTraining(runDir: string, options: GanResumeOptions = {}): Promise<GanOutcome> {
  const config = readGanConfig(runDir);
  if (options.iterations !== undefined) config.iterations = checkInt(options.iterations, 'iterations', 1);
  if (!fs.existsSync(path.join(runDir, 'checkpoints'))) throw new Error(`${runDir} has no checkpoint to resume from (checkpoints/latest.json is missing)`);
  // One process trains a run at a time: a second one is refused here, before the data and the backend load.
  const claim = RunStore.open(runDir, 'gan');
  claim.claimWriter();
  try {
    return await resumeClaimed(runDir, config, options);
  } finally {
    claim.releaseWriter();
  }
}

async function resumeClaimed(runDir: string, config: GanRunConfig, options: GanResumeOptions): Promise<GanOutcome> {
  const hp = config.hyperparameters;
  const images = await loadImages(config.category, config.data.download === 'always' ? 'if-missing' : config.data.download, config.data.limit ?? undefined, options.images);
  const count = Math.min(images.count, config.data.limit ?? images.count);
  if (count !== config.data.count || images.source !== config.data.source) {
    process.emitWarning(`the data differ from the run's (${count} images from ${images.source} vs ${config.data.count} from ${config.data.source}): the run will not match an uninterrupted one`);
  }
  const compute = await initCompute(options.backend ?? (config.backend.backend as BackendChoice));
  if (compute.backend !== config.backend.backend) {
    process.emitWarning(`resuming on backend ${compute.backend}, the run started on ${config.backend.backend}: results will not match an uninterrupted run exactly`);
  }
  const trainer = new GanTrainer(config, runDir, toFloatImages(images, hp.pixelRange, count), count, options.sinks ?? [], options.shouldStop);
  try {
    // The newest intact checkpoint (a damaged one is passed over, out loud); then metrics.jsonl is checked
    // against what it recorded and cut back to it.
    await trainer.resume(options.onWarning);
    if (options.iterations !== undefined) RunStore.open(runDir, 'gan').writeConfig(config);
    options.onStart?.(config, runDir);
    const result = await trainer.run();
    return { runDir, config, result };
  } finally {
    trainer.dispose();
  }
}

/** Statistics of one iteration (summed over a logging window, then averaged). */
const STAT_KEYS = ['dLoss', 'gLoss', 'dAcc', 'dAccReal', 'dAccFake', 'gAcc', 'dReal', 'dFake'] as const;
/** Every stat an update event of metrics.jsonl carries: the window averages and both learning rates (lab sweep's objective names). */
export const GAN_UPDATE_STATS: readonly string[] = [...STAT_KEYS, 'lrD', 'lrG'];
type StatKey = (typeof STAT_KEYS)[number];

interface CheckpointState {
  iteration: number;
  rng: { data: ReturnType<Rng['toJSON']>; latent: ReturnType<Rng['toJSON']>; masks: number[] };
  /** Bytes of metrics.jsonl at the checkpoint (cut back to on resume). */
  metricsSize: number;
  /** The logging window in progress. */
  window: { iterations: number; sums: Record<StatKey, number> };
  /** Training seconds so far (all processes). */
  seconds: number;
}

/** Seeds of a run's random streams, all derived from the run seed. */
function streamSeeds(seed: number): { generator: number; discriminator: number; data: number; latent: number; masks: number; fixed: number; interpolation: number; calibration: number } {
  const master = new Rng(seed);
  return {
    generator: master.spawnSeed(),
    discriminator: master.spawnSeed(),
    data: master.spawnSeed(),
    latent: master.spawnSeed(),
    masks: master.spawnSeed(),
    fixed: master.spawnSeed(),
    interpolation: master.spawnSeed(),
    calibration: master.spawnSeed(),
  };
}

export class GanTrainer {
  readonly hp: GanHyperparameters;
  G!: GanNet;
  D!: GanNet;
  /** The generator's weight average (generatorEma > 0), else null. */
  Gema: GanNet | null = null;
  /** The iteration Gema's batch-norm statistics were computed at. */
  private emaCalibratedAt = -1;
  optD!: GanOptimizer;
  optG!: GanOptimizer;
  iteration = 0;
  private dataRng!: Rng;
  private latentRng!: Rng;
  private masks!: BitRng;
  private readonly fixedNoise: Float32Array;
  /** Latents whose batch statistics become the averaged generator's batch-norm statistics. */
  private readonly calibrationNoise: Float32Array;
  private readonly store: RunStore;
  private window = { iterations: 0, sums: zeroSums() };
  private secondsBefore = 0;
  private history: UpdateEvent[] = [];
  private readonly yD: tf.Tensor2D;
  private readonly yG: tf.Tensor2D;
  private last: Record<string, number> | null = null;

  constructor(
    readonly config: GanRunConfig,
    readonly dir: string,
    /** count×784 floats in the preset's pixel range. */
    private readonly images: Float32Array,
    private readonly count: number,
    private readonly sinks: EventSink[],
    private readonly shouldStop?: () => boolean,
  ) {
    this.hp = config.hyperparameters;
    this.store = new RunStore(dir, 'gan', { samplesPng: samplesEventPng });
    // Before anything is written (a resume cuts metrics.jsonl back): one process trains a run at a time.
    this.store.claimWriter();
    const seeds = streamSeeds(config.seed);
    this.fixedNoise = sampleLatent(new Rng(seeds.fixed), GRID_COUNT, this.hp.latentDim, this.hp.latentDistribution);
    this.calibrationNoise = sampleLatent(new Rng(seeds.calibration), CALIBRATION_COUNT, this.hp.latentDim, this.hp.latentDistribution);
    const B = this.hp.batch;
    this.yD = tf.tensor2d(Array.from({ length: 2 * B }, (_, i) => (i < B ? this.hp.realLabel : 0)), [2 * B, 1]);
    this.yG = tf.ones([B, 1]);
  }

  /** New networks and optimizers from the run seed. */
  initFresh(): void {
    const seeds = streamSeeds(this.config.seed);
    this.G = new GanNet(this.hp.generator, new Rng(seeds.generator));
    this.D = new GanNet(this.hp.discriminator, new Rng(seeds.discriminator));
    this.optD = new GanOptimizer(this.hp.discriminatorOptimizer, this.D.trainable);
    this.optG = new GanOptimizer(this.hp.generatorOptimizer, this.G.trainable);
    // The average starts at G's initial weights: the same seed draws them again (no read back from the device).
    if (this.emaDecay > 0) this.Gema = new GanNet(this.hp.generator, new Rng(seeds.generator));
    this.dataRng = new Rng(seeds.data);
    this.latentRng = new Rng(seeds.latent);
    this.masks = new BitRng(seeds.masks);
    this.iteration = 0;
  }

  /**
   * Everything from a checkpoint directory (throws, leaving nothing allocated, when something in it is damaged);
   * returns its state. `resumeMetrics` then cuts metrics.jsonl back to it.
   */
  restore(ckpt: string): CheckpointState {
    const state = readJson<CheckpointState>(path.join(ckpt, 'state.json'), 'checkpoint state');
    const file = path.join(ckpt, 'state.json');
    if (state === null || typeof state !== 'object' || !Number.isSafeInteger(state.iteration) || !Number.isSafeInteger(state.metricsSize) || !state.rng || !state.window) {
      throw new Error(`checkpoint state ${file} is damaged (no iteration, metrics size, RNG states or logging window)`);
    }
    const g = GanNet.read(path.join(ckpt, 'generator'));
    const d = GanNet.read(path.join(ckpt, 'discriminator'));
    if (JSON.stringify(g.spec) !== JSON.stringify(this.hp.generator) || JSON.stringify(d.spec) !== JSON.stringify(this.hp.discriminator)) {
      throw new Error(`the networks in ${ckpt} do not match the run's config.json`);
    }
    let e: ReturnType<typeof GanNet.read> | null = null;
    if (this.emaDecay > 0) {
      const emaDir = path.join(ckpt, 'generator-ema');
      if (!fs.existsSync(path.join(emaDir, 'model.json'))) throw new Error(`${ckpt} has no generator-ema/ but the run averages the generator's weights (generatorEma ${this.emaDecay})`);
      e = GanNet.read(emaDir);
      if (JSON.stringify(e.spec) !== JSON.stringify(this.hp.generator)) throw new Error(`the averaged generator in ${ckpt} does not match the run's config.json`);
    }
    const G = new GanNet(g.spec, g.values);
    const D = new GanNet(d.spec, d.values);
    const Gema = e ? new GanNet(e.spec, e.values) : null;
    // On GPU backends the optimizers hold device variables: freed with the networks if something fails.
    let optD: GanOptimizer | null = null;
    let optG: GanOptimizer | null = null;
    try {
      optD = new GanOptimizer(this.hp.discriminatorOptimizer, D.trainable);
      optG = new GanOptimizer(this.hp.generatorOptimizer, G.trainable);
      optD.load(path.join(ckpt, 'optimizer-d'));
      optG.load(path.join(ckpt, 'optimizer-g'));
      const dataRng = Rng.fromJSON(state.rng.data);
      const latentRng = Rng.fromJSON(state.rng.latent);
      const masks = new BitRng(0);
      masks.setState(state.rng.masks);
      // Everything read: replace what an earlier (damaged) candidate may have set.
      this.G?.dispose();
      this.D?.dispose();
      this.Gema?.dispose();
      this.optD?.dispose();
      this.optG?.dispose();
      [this.G, this.D, this.Gema, this.optD, this.optG] = [G, D, Gema, optD, optG];
      this.dataRng = dataRng;
      this.latentRng = latentRng;
      this.masks = masks;
    } catch (err) {
      G.dispose();
      D.dispose();
      Gema?.dispose();
      optD?.dispose();
      optG?.dispose();
      throw err;
    }
    this.emaCalibratedAt = -1;
    this.iteration = state.iteration;
    this.window = { iterations: state.window.iterations, sums: { ...zeroSums(), ...state.window.sums } };
    this.secondsBefore = state.seconds;
    return state;
  }

  /**
   * Continues from the run's newest intact checkpoint (RunStore.resumeFrom: a damaged one is passed over out
   * loud, metrics.jsonl is checked against the size the checkpoint recorded and cut back to it); reads the
   * curves' history from it.
   */
  async resume(onWarning?: (message: string) => void): Promise<void> {
    await this.store.resumeFrom({ load: (ck) => this.restore(ck), metricsSize: (state) => state.metricsSize, ...(onWarning ? { onWarning } : {}) });
    this.history = readMetricsFile(this.store.metricsFile).filter((e): e is UpdateEvent => e.type === 'update');
    this.last = this.history.at(-1)?.stats ?? null;
  }

  private emit(event: TrainEvent): void {
    this.store.handle(event);
    for (const s of this.sinks) s.handle(event);
  }

  /** Real images of one batch, sampled without replacement (the book's np.random.choice(n, batch, False)). */
  private realBatch(): Float32Array {
    const B = this.hp.batch;
    const out = new Float32Array(B * IMAGE_PIXELS);
    const chosen = new Set<number>();
    for (let k = 0; k < B; k++) {
      let i = this.dataRng.integer(this.count);
      while (chosen.has(i)) i = this.dataRng.integer(this.count);
      chosen.add(i);
      out.set(this.images.subarray(i * IMAGE_PIXELS, (i + 1) * IMAGE_PIXELS), k * IMAGE_PIXELS);
    }
    return out;
  }

  /** Discriminator targets with label noise: real → realLabel − u·noise, fake → u·noise. */
  private discriminatorTargets(): tf.Tensor2D {
    const B = this.hp.batch;
    const noise = this.hp.labelNoise;
    if (noise === 0) return this.yD;
    const y = new Float32Array(2 * B);
    for (let i = 0; i < 2 * B; i++) y[i] = (i < B ? this.hp.realLabel - noise * this.dataRng.random() : noise * this.dataRng.random());
    return tf.tensor2d(y, [2 * B, 1]);
  }

  /**
   * Wall-clock milliseconds of the last iteration's two halves (benchmarks). On backends that read
   * asynchronously (webgpu) the halves only queue their work, so the split says little there; the total does.
   */
  lastTiming = { discriminatorMs: 0, adversarialMs: 0 };

  /**
   * One discriminator step and one adversarial step; returns the iteration's statistics. On backends that read
   * synchronously (cpu, wasm, tensorflow) the statistics come back directly (no promise in the hot path); on
   * webgpu the iteration runs on the device with no read until its end, where one download brings the losses
   * and D's outputs, so the result is a Promise. `await` it either way.
   */
  step(): Record<StatKey, number> | Promise<Record<StatKey, number>> {
    const t0 = performance.now();
    const B = this.hp.batch;
    const L = this.hp.latentDim;
    const real = this.realBatch();
    const z = sampleLatent(this.latentRng, B, L, this.hp.latentDistribution);
    const genStats: BatchNormStat[] = [];
    const training = this.hp.fakesMode === 'training';
    const x = tf.tidy(() => {
      const fake = this.G.apply(tf.tensor2d(z, [B, L]), training ? { training: true, masks: this.masks, batchStats: genStats } : { training: false });
      return tf.concat([tf.tensor4d(real, [B, 28, 28, 1]), fake]);
    });
    if (training) this.G.updateMovingStats(genStats);
    const yD = this.discriminatorTargets();
    // Spectral normalisation (if a spec asks for it): one power-iteration step before each training pass.
    this.D.powerIterate();
    const kept: { pD?: tf.Tensor; pG?: tf.Tensor } = {};
    const d = tf.variableGrads(() => {
      const p = this.D.apply(x, { training: true, masks: this.masks });
      kept.pD = tf.keep(p);
      return binaryCrossEntropy(p, yD);
    }, this.D.trainable);
    this.optD.apply(this.D.trainable.map((v) => d.grads[v.name]!));
    tf.dispose([x, ...Object.values(d.grads)]);
    if (yD !== this.yD) yD.dispose();

    const t1 = performance.now();
    const z2 = tf.tensor2d(sampleLatent(this.latentRng, B, L, this.hp.latentDistribution), [B, L]);
    const stats: BatchNormStat[] = [];
    this.D.powerIterate();
    this.G.powerIterate();
    const a = tf.variableGrads(() => {
      const p = this.D.apply(this.G.apply(z2, { training: true, masks: this.masks, batchStats: stats }), { training: true, masks: this.masks });
      kept.pG = tf.keep(p);
      return binaryCrossEntropy(p, this.yG);
    }, this.G.trainable);
    this.optG.apply(this.G.trainable.map((v) => a.grads[v.name]!));
    this.G.updateMovingStats(stats);
    tf.dispose([z2, ...Object.values(a.grads)]);
    this.updateAverage(this.iteration + 1);
    this.iteration++;
    const outputs = [d.value, kept.pD!, a.value, kept.pG!];
    if (syncReads()) {
      // The optimizers above already read synchronously (their JS path); reading here gives the same values.
      const [dLoss, pd, gLoss, pg] = outputs.map((t) => t.dataSync() as Float32Array);
      tf.dispose(outputs);
      this.lastTiming = { discriminatorMs: t1 - t0, adversarialMs: performance.now() - t1 };
      return this.iterationStats(dLoss![0]!, pd!, gLoss![0]!, pg!);
    }
    const all = tf.tidy(() => tf.concat(outputs.map((t) => tf.reshape(t, [-1]))));
    tf.dispose(outputs);
    return (all.data() as Promise<Float32Array>).then(
      (v) => {
        all.dispose();
        this.lastTiming = { discriminatorMs: t1 - t0, adversarialMs: performance.now() - t1 };
        return this.iterationStats(v[0]!, v.subarray(1, 1 + 2 * B), v[1 + 2 * B]!, v.subarray(2 + 2 * B));
      },
      (err: unknown) => {
        all.dispose();
        throw err;
      },
    );
  }

  /** An iteration's statistics from the losses and D's outputs (pd: B real then B fake; pg: B fakes of the adversarial step). */
  private iterationStats(dLoss: number, pd: Float32Array, gLoss: number, pg: Float32Array): Record<StatKey, number> {
    const B = this.hp.batch;
    let realOk = 0;
    let fakeOk = 0;
    let dReal = 0;
    let dFake = 0;
    let fooled = 0;
    for (let i = 0; i < B; i++) {
      if (pd[i]! > 0.5) realOk++;
      if (pd[B + i]! <= 0.5) fakeOk++;
      dReal += pd[i]!;
      dFake += pd[B + i]!;
      if (pg[i]! > 0.5) fooled++;
    }
    return {
      dLoss,
      gLoss,
      dAcc: (realOk + fakeOk) / (2 * B),
      dAccReal: realOk / B,
      dAccFake: fakeOk / B,
      gAcc: fooled / B,
      dReal: dReal / B,
      dFake: dFake / B,
    };
  }

  get emaDecay(): number {
    return this.hp.generatorEma ?? 0;
  }

  /**
   * average ← d·average + (1 − d)·weights after update `t`, with d = (β − βᵗ) / (1 − βᵗ) for decay β: the
   * bias-corrected average Σ βᵗ⁻ⁱ(1 − β)wᵢ / (1 − βᵗ) (as Adam corrects its moments), so neither the initial
   * weights nor an early iteration linger in it; d → β as t grows.
   */
  private updateAverage(t: number): void {
    if (!this.Gema) return;
    const beta = this.emaDecay;
    const d = (beta - beta ** t) / (1 - beta ** t);
    tf.tidy(() => {
      this.Gema!.trainable.forEach((avg, i) => avg.assign(tf.add(tf.mul(avg, d), tf.mul(this.G.trainable[i]!, 1 - d))));
    });
  }

  /**
   * The generator that samples: the weight average, its batch-norm statistics recomputed (once per iteration)
   * from a fixed batch of latents, since the raw generator's moving statistics belong to other weights; else G.
   */
  sampler(): GanNet {
    if (!this.Gema) return this.G;
    if (this.emaCalibratedAt !== this.iteration) {
      // From the raw generator's spectral-norm vectors, a few steps toward the average's own (a function of the
      // current state only, so a resumed run samples the same images).
      this.Gema.powerIterate(3, this.G);
      this.Gema.setBatchNormStats(this.calibrationNoise);
      this.emaCalibratedAt = this.iteration;
    }
    return this.Gema;
  }

  /** Generator output (inference mode) for latents, n×784 in the preset's pixel range. */
  generate(latents: Float32Array): Promise<Float32Array> {
    return generateWith(this.sampler(), latents, this.hp.latentDim);
  }

  /** The fixed-noise grid as ink bytes (64 images). */
  async fixedGrid(): Promise<Uint8Array> {
    return toInk(await this.generate(this.fixedNoise), this.hp.pixelRange);
  }

  private async writeSamples(name: string, emit: boolean): Promise<void> {
    const ink = await this.fixedGrid();
    writeFileAtomic(path.join(this.dir, 'samples', name), gridPng(ink, GRID_COUNT, { columns: 8, scale: GRID_SCALE }));
    if (emit) {
      this.emit({ type: 'samples', step: this.iteration, count: GRID_COUNT, width: 28, height: 28, pixels: Buffer.from(ink.buffer, ink.byteOffset, ink.byteLength).toString('base64'), time: this.elapsed() });
    }
  }

  private runStart = 0;

  private elapsed(): number {
    return this.secondsBefore + (performance.now() - this.runStart) / 1000;
  }

  /** Writes a checkpoint of the current state and points latest.json at it (last, atomically). */
  async checkpoint(): Promise<void> {
    const name = iterName(this.iteration);
    const ckDir = path.join(this.dir, 'checkpoints');
    // metrics.jsonl is flushed to disk before its size is recorded: the size a checkpoint records is on disk.
    this.store.sync();
    const state: CheckpointState = {
      iteration: this.iteration,
      rng: { data: this.dataRng.toJSON(), latent: this.latentRng.toJSON(), masks: this.masks.getState() },
      metricsSize: this.store.metricsSize(),
      window: { iterations: this.window.iterations, sums: { ...this.window.sums } },
      seconds: this.elapsed(),
    };
    await writeDirAtomic(path.join(ckDir, name), async (tmp) => {
      await this.G.save(path.join(tmp, 'generator'), this.modelMeta('generator'));
      if (this.Gema) await this.sampler().save(path.join(tmp, 'generator-ema'), { ...this.modelMeta('generator'), ema: this.emaDecay });
      await this.D.save(path.join(tmp, 'discriminator'), this.modelMeta('discriminator'));
      await this.optD.save(path.join(tmp, 'optimizer-d'));
      await this.optG.save(path.join(tmp, 'optimizer-g'));
      writeJsonAtomic(path.join(tmp, 'state.json'), state);
    });
    // Keep this one and the one before; the pointer is updated first, so a crash never leaves it dangling.
    this.store.setLatestCheckpoint(this.iteration, name);
    this.emit({ type: 'checkpoint', step: this.iteration, path: path.join(ckDir, name), time: this.elapsed() });
  }

  private modelMeta(role: 'generator' | 'discriminator'): Record<string, unknown> {
    return {
      role,
      latentDim: this.hp.latentDim,
      latentDistribution: this.hp.latentDistribution,
      pixelRange: this.hp.pixelRange,
      category: this.config.category,
      preset: this.config.preset,
      iteration: this.iteration,
    };
  }

  /** Trains until the budget or a stop request; writes the outputs. */
  async run(): Promise<GanResult> {
    const hp = this.hp;
    const total = this.config.iterations;
    this.runStart = performance.now();
    let windowStart = performance.now();
    let windowIters = 0;
    let stopped = false;
    if (this.iteration === 0 && hp.sampleEvery > 0) await this.writeSamples(`grid-${iterName(0)}.png`, true);
    while (this.iteration < total) {
      if (this.shouldStop?.()) {
        stopped = true;
        break;
      }
      // Synchronous backends return the statistics directly: no promise per iteration there.
      const stepped = this.step();
      const s = stepped instanceof Promise ? await stepped : stepped;
      windowIters++;
      this.window.iterations++;
      for (const k of STAT_KEYS) this.window.sums[k] += s[k];
      const it = this.iteration;
      if (it % hp.logEvery === 0 || it === total) {
        const n = this.window.iterations;
        const stats: Record<string, number> = {};
        for (const k of STAT_KEYS) stats[k] = this.window.sums[k] / n;
        stats.lrD = this.optD.learningRate;
        stats.lrG = this.optG.learningRate;
        const now = performance.now();
        const event: UpdateEvent = { type: 'update', step: it, updates: it, stats, sps: Math.round((windowIters / ((now - windowStart) / 1000)) * 100) / 100, time: this.elapsed() };
        this.history.push(event);
        this.last = stats;
        this.emit(event);
        this.window = { iterations: 0, sums: zeroSums() };
        windowStart = now;
        windowIters = 0;
      }
      if (isSampleIteration(it, hp.sampleEvery)) await this.writeSamples(`grid-${iterName(it)}.png`, true);
      if (hp.checkpointEvery > 0 && it % hp.checkpointEvery === 0 && it < total) await this.checkpoint();
      // Let timers and I/O (live publishers, signals) run now and then.
      if (it % 4 === 0) await new Promise((r) => setImmediate(r));
    }
    await this.checkpoint();
    this.writeCurves();
    if (!stopped) {
      await this.writeSamples('final.png', !isSampleIteration(this.iteration, hp.sampleEvery));
      await this.writeInterpolation();
      if (this.Gema) {
        await this.sampler().save(path.join(this.dir, 'generator'), { ...this.modelMeta('generator'), ema: this.emaDecay });
        await this.G.save(path.join(this.dir, 'generator-raw'), this.modelMeta('generator'));
      } else {
        await this.G.save(path.join(this.dir, 'generator'), this.modelMeta('generator'));
      }
      await this.D.save(path.join(this.dir, 'discriminator'), this.modelMeta('discriminator'));
    }
    return { iterations: this.iteration, stopped, seconds: this.elapsed(), last: this.last };
  }

  /** curves/loss.png and curves/accuracy.png from the update events. */
  writeCurves(): void {
    const points = (key: string) => this.history.map((e) => ({ x: e.step, y: e.stats[key] ?? NaN })).filter((p) => Number.isFinite(p.y));
    const title = `${this.config.category}, preset ${this.config.preset}, seed ${this.config.seed}`;
    const loss: Panel = {
      title: `GAN losses: ${title}`,
      xLabel: 'iteration',
      yLabel: 'binary cross-entropy',
      series: [
        { name: 'discriminator', color: '#1f77b4', points: points('dLoss') },
        { name: 'generator (adversarial)', color: '#d62728', points: points('gLoss') },
      ],
      note: `averages over ${this.hp.logEvery} iterations`,
      xSi: true,
    };
    const acc: Panel = {
      title: `GAN accuracies: ${title}`,
      xLabel: 'iteration',
      yLabel: 'accuracy',
      series: [
        { name: 'D on real', color: '#2ca02c', points: points('dAccReal') },
        { name: 'D on fake', color: '#ff7f0e', points: points('dAccFake') },
        { name: 'G fools D', color: '#9467bd', points: points('gAcc') },
      ],
      note: `averages over ${this.hp.logEvery} iterations`,
      xSi: true,
    };
    writeFileAtomic(path.join(this.dir, 'curves', 'loss.png'), renderPng([loss], { panelWidth: 1000, panelHeight: 560 }));
    writeFileAtomic(path.join(this.dir, 'curves', 'accuracy.png'), renderPng([acc], { panelWidth: 1000, panelHeight: 560 }));
  }

  /** interpolation.png: rows of 10 steps between pairs of latent points. */
  async writeInterpolation(rows = 6, steps = 10): Promise<void> {
    const seeds = streamSeeds(this.config.seed);
    const latents = interpolationLatents(new Rng(seeds.interpolation), rows, steps, this.hp.latentDim, this.hp.latentDistribution);
    const ink = toInk(await this.generate(latents), this.hp.pixelRange);
    writeFileAtomic(path.join(this.dir, 'interpolation.png'), gridPng(ink, rows * steps, { columns: steps, scale: GRID_SCALE }));
  }

  dispose(): void {
    this.store.close();
    this.store.releaseWriter();
    for (const s of this.sinks) void s.close?.();
    this.G?.dispose();
    this.Gema?.dispose();
    this.D?.dispose();
    this.optD?.dispose();
    this.optG?.dispose();
    this.yD.dispose();
    this.yG.dispose();
  }
}

function zeroSums(): Record<StatKey, number> {
  return Object.fromEntries(STAT_KEYS.map((k) => [k, 0])) as Record<StatKey, number>;
}

/** rows × steps latents: each row walks from one random point to another (slerp when normal, linear when uniform). */
export function interpolationLatents(rng: Rng, rows: number, steps: number, dim: number, distribution: LatentDistribution): Float32Array {
  const out = new Float32Array(rows * steps * dim);
  for (let r = 0; r < rows; r++) {
    const a = sampleLatent(rng, 1, dim, distribution);
    const b = sampleLatent(rng, 1, dim, distribution);
    for (let s = 0; s < steps; s++) {
      const t = steps === 1 ? 0 : s / (steps - 1);
      out.set(distribution === 'normal' ? slerp(a, b, t) : lerp(a, b, t), (r * steps + s) * dim);
    }
  }
  return out;
}

/** Runs a generator in inference mode over latents in chunks; returns n×784 floats (its own pixel range). */
async function generateWith(G: GanNet, latents: Float32Array, dim: number): Promise<Float32Array> {
  const n = latents.length / dim;
  const out = new Float32Array(n * IMAGE_PIXELS);
  const chunk = 256;
  for (let i = 0; i < n; i += chunk) {
    const m = Math.min(chunk, n - i);
    const y = tf.tidy(() => G.apply(tf.tensor2d(latents.subarray(i * dim, (i + m) * dim), [m, dim]), { training: false }));
    try {
      out.set((await readTensor(y)) as Float32Array, i * IMAGE_PIXELS);
    } finally {
      y.dispose();
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Loading a trained generator

export interface LoadedGenerator {
  latentDim: number;
  latentDistribution: LatentDistribution;
  pixelRange: PixelRange;
  /** Where the weights came from. */
  source: string;
  /** n images from latents drawn with `seed`, n×784 floats in [0, 1] (0 background, 1 ink). */
  sample(n: number, seed?: number): Promise<Float32Array>;
  /** Images for given latents (n×latentDim), n×784 floats in [0, 1]. */
  generate(latents: Float32Array): Promise<Float32Array>;
  dispose(): void;
}

/**
 * Loads a generator from a run directory (its final `generator/`, else the latest checkpoint's), a checkpoint
 * directory, or a model directory (model.json + weights.bin). Uses the current tfjs backend (call initCompute
 * first to choose one).
 */
export function loadGenerator(target: string): LoadedGenerator {
  // A checkpoint's generator-ema/ (the weight average) before its generator/ (the raw weights being trained).
  const candidates = [readableDir(path.join(target, 'generator-ema')), readableDir(path.join(target, 'generator')), readableDir(target)];
  const latest = fs.existsSync(path.join(target, 'config.json')) ? RunStore.open(target, 'gan').latestCheckpoint() : null;
  if (latest) candidates.push(path.join(target, 'checkpoints', latest.dir, 'generator-ema'), path.join(target, 'checkpoints', latest.dir, 'generator'));
  const dir = candidates.find((d) => fs.existsSync(path.join(d, 'model.json')));
  if (!dir) throw new Error(`no generator found in ${target} (expected model.json in it, in generator/, or a checkpoint)`);
  const { spec, meta, values } = GanNet.read(dir);
  if (meta.role !== undefined && meta.role !== 'generator') throw new Error(`${dir} holds a ${String(meta.role)}, not a generator`);
  const latentDim = Number(meta.latentDim ?? spec.inputShape[0]);
  const latentDistribution = (meta.latentDistribution ?? 'normal') as LatentDistribution;
  const pixelRange = (meta.pixelRange ?? '0,1') as PixelRange;
  const G = new GanNet(spec, values);
  const generate = async (latents: Float32Array): Promise<Float32Array> => toUnit(await generateWith(G, latents, latentDim), pixelRange);
  return {
    latentDim,
    latentDistribution,
    pixelRange,
    source: dir,
    generate,
    sample: (n, seed = 0) => generate(sampleLatent(new Rng(seed), n, latentDim, latentDistribution)),
    dispose: () => G.dispose(),
  };
}

/** A network spec in one line: "dense 392 → batchNorm → leakyRelu → reshape 7x7x8 → …". */
function describeNet(spec: NetSpec): string {
  return spec.layers
    .map((l) => {
      const o = l as unknown as Record<string, unknown>;
      const parts = [String(o.type)];
      if (typeof o.units === 'number') parts.push(String(o.units));
      if (typeof o.filters === 'number') parts.push(`${o.filters} ${o.kernelSize}x${o.kernelSize}/${o.strides ?? 1}`);
      if (Array.isArray(o.shape)) parts.push(o.shape.join('x'));
      if (typeof o.rate === 'number') parts.push(String(o.rate));
      if (typeof o.activation === 'string' && o.type !== 'activation') parts.push(o.activation);
      else if (typeof o.activation === 'string') parts[0] = o.activation;
      return parts.join(' ');
    })
    .join(' → ');
}

/** What a live publisher announces for a GAN run (lab gan train --live, lab sweep): a run of kind 'gan' whose steps are iterations. */
export function ganRunInfo(config: GanRunConfig, runDir: string): RunInfo {
  const hp = config.hyperparameters;
  const { generator, discriminator, ...rest } = hp;
  let startStep = 0;
  try {
    startStep = RunStore.open(runDir, 'gan').latestCheckpoint()?.at ?? 0;
  } catch {
    // a damaged pointer: the run reports its iterations as they come
  }
  return {
    runId: config.runId,
    kind: 'gan',
    envId: ganEnvId(config.category),
    agent: GAN_AGENT,
    preset: config.preset,
    seed: config.seed,
    steps: config.iterations,
    episodes: null,
    numEnvs: 1,
    backend: config.backend.backend,
    fps: GAN_FPS,
    runDir: path.resolve(runDir),
    startStep,
    hyperparameters: {
      ...(JSON.parse(JSON.stringify(rest)) as Record<string, unknown>),
      generator: describeNet(generator),
      discriminator: describeNet(discriminator),
      category: config.category,
      images: config.data.count,
      data: config.data.source,
    },
  };
}

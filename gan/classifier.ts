/**
 * A small Quick, Draw! classifier whose penultimate layer gives the features of the GAN quality metrics
 * (gan/metrics.ts: FD and KID). Trained once on the five shipped categories (apple, bicycle, cat, diamond,
 * fish; 2500 training and 500 held-out drawings each, a seeded split) and shipped in
 * data/quickdraw-classifier/ as model.json + weights.bin in the lab's network format (lab/network.ts), plus
 * classifier.json (classes, split, training settings, accuracy).
 *
 * Architecture (inputs 28×28×1 in [0, 1], 0 background, 1 ink):
 *   conv 32 3×3 stride 2 ReLU → conv 64 3×3 stride 2 ReLU → conv 64 3×3 stride 2 ReLU (4×4×64)
 *   → dense 128 ReLU (the feature layer) → dense 5 (logits).
 *
 * Retrain with `npx lab gan train-classifier` (or `node --import tsx gan/classifier.ts`).
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Network, type NetworkSpec } from '../lab/network.js';
import { Rng } from '../envs/index.js';
import { readTensor, tf } from '../lab/compute.js';
import { readJson, writeJsonAtomic } from '../lab/fsutil.js';
import { SHIPPED_CATEGORIES, loadNpyFile, shippedFile, toFloatImages } from './data.js';

/** Where the shipped classifier lives. */
export const CLASSIFIER_DIR = fileURLToPath(new URL('../data/quickdraw-classifier/', import.meta.url));

const INFO_FORMAT = 'rl-gan-lab/quickdraw-classifier@1';
const PIXELS = 784;

/** The network: three stride-2 3×3 convolutions, a 128-unit ReLU feature layer, and a linear output per class. */
export function classifierSpec(classes: number = SHIPPED_CATEGORIES.length): NetworkSpec {
  const conv = (filters: number) => ({ type: 'conv2d' as const, filters, kernelSize: 3, strides: 2, padding: 'same' as const, activation: 'relu' as const });
  return {
    inputShape: [28, 28, 1],
    layers: [conv(32), conv(64), conv(64), { type: 'flatten' }, { type: 'dense', units: 128, activation: 'relu' }, { type: 'dense', units: classes, activation: 'linear' }],
  };
}

export interface ClassifierSplit {
  /** seed of the per-category permutations */
  seed: number;
  /** images per category in the file (the first `count` rows) */
  count: number;
  /** the last `heldOut` positions of each category's permutation are held out */
  heldOut: number;
}

export interface ClassifierInfo {
  format: typeof INFO_FORMAT;
  classes: string[];
  /** pixel range of the inputs */
  inputRange: '0,1';
  /** the layer whose activations are the features: the 128-unit ReLU layer before the output */
  featureLayer: string;
  featureDim: number;
  split: ClassifierSplit;
  training: { epochs: number; batch: number; learningRate: number; optimizer: string; seed: number; shiftAugment: number; seconds: number; backend: string };
  accuracy: { train: number; heldOut: number; perClassHeldOut: Record<string, number>; confusion: number[][] };
  params: number;
  data: string;
  createdAt: string;
}

/**
 * The seeded train / held-out split: for each category in order, a Fisher–Yates permutation of 0…count−1 drawn
 * from one Rng(seed); the first count−heldOut positions train, the last heldOut are held out.
 */
export function classifierSplit(split: ClassifierSplit, classes: readonly string[] = SHIPPED_CATEGORIES): { train: number[][]; heldOut: number[][] } {
  const rng = new Rng(split.seed);
  const train: number[][] = [];
  const heldOut: number[][] = [];
  for (let c = 0; c < classes.length; c++) {
    const p = Array.from({ length: split.count }, (_, i) => i);
    for (let i = p.length - 1; i > 0; i--) {
      const j = rng.integer(i + 1);
      [p[i], p[j]] = [p[j]!, p[i]!];
    }
    train.push(p.slice(0, split.count - split.heldOut));
    heldOut.push(p.slice(split.count - split.heldOut));
  }
  return { train, heldOut };
}

/** The shipped images of each class as floats in [0, 1] (count×784 each). */
export function loadClassImages(classes: readonly string[] = SHIPPED_CATEGORIES, count = 3000): Float32Array[] {
  return classes.map((c) => {
    const file = shippedFile(c);
    if (!file) throw new Error(`the classifier trains on shipped categories only; '${c}' is not one (${SHIPPED_CATEGORIES.join(', ')})`);
    const images = loadNpyFile(file, { limit: count, category: c });
    if (images.count < count) throw new Error(`${file} has ${images.count} images, fewer than ${count}`);
    return toFloatImages(images, '0,1');
  });
}

/** Images `indices` of each class, stacked, with their labels. */
export function gatherSplit(images: Float32Array[], indices: number[][]): { x: Float32Array; y: Int32Array } {
  const total = indices.reduce((a, ix) => a + ix.length, 0);
  const x = new Float32Array(total * PIXELS);
  const y = new Int32Array(total);
  let k = 0;
  indices.forEach((ix, c) => {
    for (const i of ix) {
      x.set(images[c]!.subarray(i * PIXELS, (i + 1) * PIXELS), k * PIXELS);
      y[k++] = c;
    }
  });
  return { x, y };
}

export interface ClassifierOutput {
  count: number;
  /** count×featureDim penultimate activations */
  features: Float32Array;
  /** count×classes softmax probabilities */
  probabilities: Float32Array;
  /** argmax class per image */
  labels: Int32Array;
}

/**
 * The trained classifier for inference: the network up to the feature layer runs on tfjs (in batches, every
 * tensor disposed); the output layer is applied on the features in float64.
 */
export class QuickDrawClassifier {
  readonly classes: string[];
  readonly featureDim: number;
  readonly info: ClassifierInfo | null;
  /** the directory it was loaded from, if any */
  readonly dir: string | null;
  private readonly trunk: Network;
  private readonly headKernel: Float32Array;
  private readonly headBias: Float32Array;

  constructor(spec: NetworkSpec, values: Float32Array[], classes: string[], info: ClassifierInfo | null = null, dir: string | null = null) {
    const last = spec.layers[spec.layers.length - 1];
    const prev = spec.layers[spec.layers.length - 2];
    if (last?.type !== 'dense' || prev?.type !== 'dense') throw new Error('classifier: the network must end with two dense layers (features, then logits)');
    if (last.units !== classes.length) throw new Error(`classifier: ${last.units} outputs but ${classes.length} classes`);
    this.classes = [...classes];
    this.featureDim = prev.units;
    this.info = info;
    this.dir = dir;
    this.trunk = new Network({ inputShape: spec.inputShape, layers: spec.layers.slice(0, -1) }, values.slice(0, -2));
    this.headKernel = values[values.length - 2]!;
    this.headBias = values[values.length - 1]!;
  }

  /** Loads the shipped classifier (or one saved in `dir`). Needs a tfjs backend (initCompute). */
  static load(dir: string = CLASSIFIER_DIR): QuickDrawClassifier {
    if (!fs.existsSync(path.join(dir, 'model.json'))) throw new Error(`no classifier in ${dir} (model.json missing); train one with \`npx lab gan train-classifier\``);
    const info = readJson<ClassifierInfo>(path.join(dir, 'classifier.json'), 'classifier info');
    if (info.format !== INFO_FORMAT || !Array.isArray(info.classes)) throw new Error(`${path.join(dir, 'classifier.json')} is not a classifier description (format '${INFO_FORMAT}')`);
    const { spec, values } = Network.read(dir);
    return new QuickDrawClassifier(spec, values, info.classes, info, dir);
  }

  /** Features, class probabilities and predicted classes of n×784 images in [0, 1] (async: webgpu reads asynchronously). */
  async run(images: Float32Array, batch = 500): Promise<ClassifierOutput> {
    if (images.length % PIXELS !== 0) throw new RangeError(`images must be n×784 floats, got ${images.length} values`);
    const n = images.length / PIXELS;
    const d = this.featureDim;
    const features = new Float32Array(n * d);
    for (let i = 0; i < n; i += batch) {
      const m = Math.min(batch, n - i);
      const out = tf.tidy(() => this.trunk.apply(tf.tensor4d(images.subarray(i * PIXELS, (i + m) * PIXELS), [m, 28, 28, 1])));
      try {
        features.set((await readTensor(out)) as Float32Array, i * d);
      } finally {
        out.dispose();
      }
    }
    const c = this.classes.length;
    const probabilities = new Float32Array(n * c);
    const labels = new Int32Array(n);
    const logits = new Float64Array(c);
    for (let i = 0; i < n; i++) {
      for (let k = 0; k < c; k++) logits[k] = this.headBias[k]!;
      for (let j = 0; j < d; j++) {
        const f = features[i * d + j]!;
        if (f === 0) continue;
        for (let k = 0; k < c; k++) logits[k]! += f * this.headKernel[j * c + k]!;
      }
      let best = 0;
      for (let k = 1; k < c; k++) if (logits[k]! > logits[best]!) best = k;
      let z = 0;
      for (let k = 0; k < c; k++) z += Math.exp(logits[k]! - logits[best]!);
      for (let k = 0; k < c; k++) probabilities[i * c + k] = Math.exp(logits[k]! - logits[best]!) / z;
      labels[i] = best;
    }
    return { count: n, features, probabilities, labels };
  }

  /** The n×featureDim penultimate-layer activations. */
  async features(images: Float32Array): Promise<Float32Array> {
    return (await this.run(images)).features;
  }

  /** Predicted class indices. */
  async predict(images: Float32Array): Promise<Int32Array> {
    return (await this.run(images)).labels;
  }

  dispose(): void {
    this.trunk.dispose();
  }
}

/** Fraction of correct predictions, per class and overall, and the confusion matrix (rows: true class). */
export function accuracyOf(predicted: Int32Array, truth: Int32Array, classes: readonly string[]): { overall: number; perClass: Record<string, number>; confusion: number[][] } {
  const confusion = classes.map(() => new Array<number>(classes.length).fill(0));
  let correct = 0;
  for (let i = 0; i < truth.length; i++) {
    confusion[truth[i]!]![predicted[i]!]!++;
    if (predicted[i] === truth[i]) correct++;
  }
  const perClass = Object.fromEntries(classes.map((c, k) => [c, confusion[k]![k]! / Math.max(1, confusion[k]!.reduce((a, b) => a + b, 0))]));
  return { overall: correct / Math.max(1, truth.length), perClass, confusion };
}

// ---------------------------------------------------------------------------------------------------------------
// Training

export interface TrainClassifierOptions {
  seed?: number;
  epochs?: number;
  batch?: number;
  learningRate?: number;
  /** images per category used (the first rows of each shipped file; default 3000) */
  count?: number;
  /** held-out images per category (default 500) */
  heldOut?: number;
  /** random shifts of up to this many pixels in each direction during training (default 2; 0: none) */
  shiftAugment?: number;
  /** where to write model.json, weights.bin and classifier.json; omitted: nothing is written */
  out?: string;
  log?: (line: string) => void;
}

/** Copies an image shifted by (dx, dy) pixels, filling with background. */
function shifted(src: Float32Array, offset: number, dx: number, dy: number, dst: Float32Array, at: number): void {
  for (let y = 0; y < 28; y++) {
    const sy = y - dy;
    for (let x = 0; x < 28; x++) {
      const sx = x - dx;
      dst[at + y * 28 + x] = sy >= 0 && sy < 28 && sx >= 0 && sx < 28 ? src[offset + sy * 28 + sx]! : 0;
    }
  }
}

/**
 * Trains the classifier on the shipped categories with Adam and softmax cross-entropy, reports held-out accuracy,
 * and (with `out`) saves it. Uses the current tfjs backend (call initCompute first).
 */
export async function trainClassifier(options: TrainClassifierOptions = {}): Promise<{ classifier: QuickDrawClassifier; info: ClassifierInfo }> {
  const seed = options.seed ?? 1;
  const epochs = options.epochs ?? 15;
  const batch = options.batch ?? 64;
  const learningRate = options.learningRate ?? 1e-3;
  const shift = options.shiftAugment ?? 2;
  const split: ClassifierSplit = { seed, count: options.count ?? 3000, heldOut: options.heldOut ?? 500 };
  const log = options.log ?? (() => undefined);
  const classes = [...SHIPPED_CATEGORIES];
  const started = performance.now();

  const images = loadClassImages(classes, split.count);
  const { train: trainIdx, heldOut: heldIdx } = classifierSplit(split, classes);
  const train = gatherSplit(images, trainIdx);
  const held = gatherSplit(images, heldIdx);
  const nTrain = train.y.length;
  log(`training on ${nTrain} images (${split.count - split.heldOut} per class), holding out ${held.y.length} (${split.heldOut} per class); classes ${classes.join(', ')}`);

  const rng = new Rng(seed);
  const net = new Network(classifierSpec(classes.length), rng);
  const optimizer = tf.train.adam(learningRate);
  const order = Array.from({ length: nTrain }, (_, i) => i);
  const xb = new Float32Array(batch * PIXELS);
  const yb = new Int32Array(batch);
  try {
    for (let epoch = 1; epoch <= epochs; epoch++) {
      for (let i = nTrain - 1; i > 0; i--) {
        const j = rng.integer(i + 1);
        [order[i], order[j]] = [order[j]!, order[i]!];
      }
      let lossSum = 0;
      let batches = 0;
      for (let start = 0; start < nTrain; start += batch) {
        const m = Math.min(batch, nTrain - start);
        for (let b = 0; b < m; b++) {
          const idx = order[start + b]!;
          const dx = shift > 0 ? rng.integer(2 * shift + 1) - shift : 0;
          const dy = shift > 0 ? rng.integer(2 * shift + 1) - shift : 0;
          shifted(train.x, idx * PIXELS, dx, dy, xb, b * PIXELS);
          yb[b] = train.y[idx]!;
        }
        const loss = tf.tidy(() => {
          const x = tf.tensor4d(xb.subarray(0, m * PIXELS), [m, 28, 28, 1]);
          const y = tf.oneHot(tf.tensor1d(yb.subarray(0, m), 'int32'), classes.length);
          return optimizer.minimize(() => tf.losses.softmaxCrossEntropy(y, net.apply(x)) as tf.Scalar, true, net.variables)!;
        });
        try {
          lossSum += ((await readTensor(loss)) as Float32Array)[0]!;
        } finally {
          loss.dispose();
        }
        batches++;
      }
      const probe = new QuickDrawClassifier(net.spec, await net.readWeights(), classes);
      const acc = accuracyOf(await probe.predict(held.x), held.y, classes).overall;
      probe.dispose();
      log(`epoch ${epoch}/${epochs}: loss ${(lossSum / batches).toFixed(4)}, held-out accuracy ${(100 * acc).toFixed(2)}% (${((performance.now() - started) / 1000).toFixed(0)} s)`);
    }
  } finally {
    optimizer.dispose();
  }

  const weights = await net.readWeights();
  const classifier = new QuickDrawClassifier(net.spec, weights, classes);
  const heldAcc = accuracyOf(await classifier.predict(held.x), held.y, classes);
  const trainAcc = accuracyOf(await classifier.predict(train.x), train.y, classes);
  const info: ClassifierInfo = {
    format: INFO_FORMAT,
    classes,
    inputRange: '0,1',
    featureLayer: 'dense 128 ReLU (layer 4, the penultimate layer)',
    featureDim: classifier.featureDim,
    split,
    training: { epochs, batch, learningRate, optimizer: 'adam', seed, shiftAugment: shift, seconds: Math.round((performance.now() - started) / 1000), backend: tf.getBackend() },
    accuracy: { train: trainAcc.overall, heldOut: heldAcc.overall, perClassHeldOut: heldAcc.perClass, confusion: heldAcc.confusion },
    params: net.paramCount,
    data: 'Quick, Draw! Dataset, Google, CC BY 4.0 (the first 3000 drawings per category shipped in data/quickdraw/)',
    createdAt: new Date().toISOString(),
  };
  if (options.out) {
    await net.save(options.out);
    writeJsonAtomic(path.join(options.out, 'classifier.json'), info);
  }
  net.dispose();
  return { classifier, info };
}

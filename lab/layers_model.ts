/**
 * Model files in TensorFlow.js's Layers format, written and read by the lab itself (synchronously, on every
 * backend: tfjs has no `file://` handler outside tfjs-node):
 *
 *   model.json   `format: "layers-model"`, `modelTopology` (a Keras Sequential model as JSON, snake_case keys as
 *                Keras and tfjs write them) and `weightsManifest` ([{paths: ["weights.bin"], weights: [{name,
 *                shape, dtype}]}]): what `tf.loadLayersModel` and `tensorflowjs_converter --input_format
 *                tfjs_layers_model` read
 *   weights.bin  the weights, float32 little-endian, in manifest order (the name tfjs-node's own file handler uses)
 *   lab.json     the lab's metadata: its network spec and whatever the caller adds (normalisation statistics,
 *                action space, preset, ...), and optionally a second weights file with state the Keras model does
 *                not hold (spectral-norm vectors)
 *
 * The Keras layer configs are written out here rather than taken from a tfjs LayersModel's toJSON(): building a
 * LayersModel allocates and initialises every weight, and saving must stay synchronous (it runs inside the
 * agents' checkpoint writers). test/model_files.test.ts loads the files with tf.loadLayersModel.
 */
import fs from 'node:fs';
import path from 'node:path';
import { tf } from './compute.js';
import { readJson, writeFileAtomic, writeFloat32Concat } from './fsutil.js';
import { LAB_VERSION } from './version.js';

export const MODEL_FILE = 'model.json';
export const WEIGHTS_FILE = 'weights.bin';
export const LAB_META_FILE = 'lab.json';

/** One layer of a Keras model as JSON. */
export interface KerasLayer {
  class_name: string;
  config: Record<string, unknown>;
}

/** One weight as saved: its Keras name (`<layer name>/<weight>`), shape and values. */
export interface NamedWeight {
  name: string;
  shape: number[];
  values: Float32Array;
}

const GLOROT = { class_name: 'GlorotUniform', config: { seed: null } };
const ZEROS = { class_name: 'Zeros', config: {} };
const ONES = { class_name: 'Ones', config: {} };

/** Fields every Keras layer config has. */
function base(name: string, batchInputShape?: number[]): Record<string, unknown> {
  return { name, trainable: true, dtype: 'float32', ...(batchInputShape ? { batch_input_shape: [null, ...batchInputShape] } : {}) };
}

/** Keras' names of the activations the lab's layers use. */
export type KerasActivation = 'relu' | 'tanh' | 'linear' | 'elu' | 'sigmoid';

export function kerasDense(name: string, units: number, activation: KerasActivation, inputShape?: number[]): KerasLayer {
  return {
    class_name: 'Dense',
    config: {
      ...base(name, inputShape),
      units,
      activation,
      use_bias: true,
      kernel_initializer: GLOROT,
      bias_initializer: ZEROS,
      kernel_regularizer: null,
      bias_regularizer: null,
      activity_regularizer: null,
      kernel_constraint: null,
      bias_constraint: null,
    },
  };
}

export function kerasConv2d(
  name: string,
  className: 'Conv2D' | 'Conv2DTranspose',
  o: { filters: number; kernelSize: number; strides: number; padding: 'same' | 'valid'; activation: KerasActivation },
  inputShape?: number[],
): KerasLayer {
  return {
    class_name: className,
    config: {
      ...base(name, inputShape),
      filters: o.filters,
      kernel_size: [o.kernelSize, o.kernelSize],
      strides: [o.strides, o.strides],
      padding: o.padding,
      data_format: 'channels_last',
      dilation_rate: [1, 1],
      activation: o.activation,
      use_bias: true,
      kernel_initializer: GLOROT,
      bias_initializer: ZEROS,
      kernel_regularizer: null,
      bias_regularizer: null,
      activity_regularizer: null,
      kernel_constraint: null,
      bias_constraint: null,
    },
  };
}

export function kerasFlatten(name: string, inputShape?: number[]): KerasLayer {
  return { class_name: 'Flatten', config: { ...base(name, inputShape), data_format: 'channels_last' } };
}

export function kerasReshape(name: string, targetShape: number[], inputShape?: number[]): KerasLayer {
  return { class_name: 'Reshape', config: { ...base(name, inputShape), target_shape: targetShape } };
}

export function kerasBatchNorm(name: string, momentum: number, epsilon: number, inputShape?: number[]): KerasLayer {
  return {
    class_name: 'BatchNormalization',
    config: {
      ...base(name, inputShape),
      axis: -1,
      momentum,
      epsilon,
      center: true,
      scale: true,
      beta_initializer: ZEROS,
      gamma_initializer: ONES,
      moving_mean_initializer: ZEROS,
      moving_variance_initializer: ONES,
      beta_regularizer: null,
      gamma_regularizer: null,
      beta_constraint: null,
      gamma_constraint: null,
    },
  };
}

export function kerasActivation(name: string, activation: KerasActivation, inputShape?: number[]): KerasLayer {
  return { class_name: 'Activation', config: { ...base(name, inputShape), activation } };
}

export function kerasLeakyRelu(name: string, alpha: number, inputShape?: number[]): KerasLayer {
  return { class_name: 'LeakyReLU', config: { ...base(name, inputShape), alpha } };
}

export function kerasDropout(name: string, rate: number, inputShape?: number[]): KerasLayer {
  return { class_name: 'Dropout', config: { ...base(name, inputShape), rate, noise_shape: null, seed: null } };
}

export function kerasUpSampling2d(name: string, size: number, inputShape?: number[]): KerasLayer {
  return { class_name: 'UpSampling2D', config: { ...base(name, inputShape), size: [size, size], data_format: 'channels_last', interpolation: 'nearest' } };
}

/** The version string tfjs-layers writes as keras_version (the library that defines the layers). */
function tfjsVersion(): string {
  return (tf.version as Record<string, string>)['tfjs-layers'] ?? (tf.version as Record<string, string>)['tfjs'] ?? 'unknown';
}

/**
 * Writes a Sequential model in the Layers format into `dir`: weights.bin, lab.json (`meta`, plus `labWeights`
 * written to lab-weights.bin when given), then model.json, each atomically.
 */
export function writeLayersModel(dir: string, model: { name: string; layers: KerasLayer[]; weights: NamedWeight[]; meta: Record<string, unknown>; labWeights?: NamedWeight[] }): void {
  const names = new Set<string>();
  for (const w of model.weights) {
    if (names.has(w.name)) throw new Error(`layers model ${model.name}: two weights named ${w.name}`);
    names.add(w.name);
    if (w.values.length !== w.shape.reduce((a, b) => a * b, 1)) throw new Error(`layers model ${model.name}: weight ${w.name} has ${w.values.length} values for shape [${w.shape}]`);
  }
  writeFloat32Concat(path.join(dir, WEIGHTS_FILE), model.weights.map((w) => w.values));
  const labWeights = model.labWeights ? { file: 'lab-weights.bin', weights: model.labWeights.map((w) => ({ name: w.name, shape: w.shape, dtype: 'float32' })) } : undefined;
  if (model.labWeights) writeFloat32Concat(path.join(dir, labWeights!.file), model.labWeights.map((w) => w.values));
  writeFileAtomic(path.join(dir, LAB_META_FILE), JSON.stringify({ ...model.meta, ...(labWeights ? { labWeights } : {}) }, null, 2) + '\n');
  const version = tfjsVersion();
  const json = {
    format: 'layers-model',
    generatedBy: `rl-gan-lab ${LAB_VERSION} (TensorFlow.js tfjs-layers v${version} format)`,
    convertedBy: null,
    modelTopology: {
      class_name: 'Sequential',
      config: { name: model.name, layers: model.layers },
      keras_version: `tfjs-layers ${version}`,
      backend: 'tensor_flow.js',
    },
    weightsManifest: [{ paths: [WEIGHTS_FILE], weights: model.weights.map((w) => ({ name: w.name, shape: w.shape, dtype: 'float32' })) }],
  };
  writeFileAtomic(path.join(dir, MODEL_FILE), JSON.stringify(json) + '\n');
}

/**
 * Adds `fields` to the lab.json of the Layers-format model in `dir` (a policy gets its env, spaces, agent and
 * preset this way, so it can be read without its run). A directory without one (a plug-in's own policy format)
 * is left as it is; returns whether it was annotated.
 */
export function annotateLayersModel(dir: string, fields: Record<string, unknown>): boolean {
  const file = path.join(dir, LAB_META_FILE);
  if (!fs.existsSync(file) || !fs.existsSync(path.join(dir, MODEL_FILE))) return false;
  const meta = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
  writeFileAtomic(file, JSON.stringify({ ...meta, ...fields }, null, 2) + '\n');
  return true;
}

/** Whether a parsed model.json is in the Layers format (not one of the lab's earlier formats). */
export function isLayersModelJson(json: unknown): boolean {
  return typeof json === 'object' && json !== null && (json as { format?: unknown }).format === 'layers-model';
}

interface ManifestWeight {
  name: string;
  shape: number[];
  dtype?: string;
}

/** Splits float32 weight data holding `specs` in order into named arrays, checking entries and size; `what` is the file. */
function decodeWeights(raw: Buffer, specs: ManifestWeight[], what: string): Map<string, Float32Array> {
  for (const w of specs) {
    if (typeof w?.name !== 'string' || !Array.isArray(w.shape) || w.shape.some((d) => !Number.isSafeInteger(d) || d < 0)) throw new Error(`${what}: a weight entry is not {name, shape, dtype}: ${JSON.stringify(w).slice(0, 200)}`);
    if ((w.dtype ?? 'float32') !== 'float32') throw new Error(`${what}: weight ${w.name} is ${w.dtype}; the lab reads float32 weights`);
  }
  const total = specs.reduce((a, w) => a + w.shape.reduce((x, y) => x * y, 1), 0);
  if (raw.byteLength !== total * 4) throw new Error(`weights file ${what} has ${raw.byteLength} bytes, expected ${total * 4} for the weights listed with it`);
  const all = new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
  const out = new Map<string, Float32Array>();
  let offset = 0;
  for (const w of specs) {
    const size = w.shape.reduce((x, y) => x * y, 1);
    out.set(w.name, all.slice(offset, offset + size));
    offset += size;
  }
  return out;
}

/** A file name beside model.json (no directories, not hidden). */
function plainName(p: unknown): p is string {
  return typeof p === 'string' && p.length > 0 && !p.includes('/') && !p.includes('\\') && !p.startsWith('.');
}

/**
 * Reads a Layers-format model directory: its topology, the lab's metadata (lab.json; null when absent) and its
 * weights by name (one shard group; several paths are read in order as one buffer, as tfjs does).
 */
export function readLayersModel(dir: string): { topology: Record<string, unknown>; meta: Record<string, unknown> | null; weights: Map<string, Float32Array>; labWeights: Map<string, Float32Array> | null } {
  const file = path.join(dir, MODEL_FILE);
  const json = readJson<{ modelTopology?: Record<string, unknown>; weightsManifest?: { paths: string[]; weights: ManifestWeight[] }[] }>(file, 'model file');
  if (!isLayersModelJson(json) || typeof json.modelTopology !== 'object' || !Array.isArray(json.weightsManifest)) throw new Error(`model file ${file} is not a Layers model (format "layers-model" with modelTopology and weightsManifest)`);
  const weights = new Map<string, Float32Array>();
  for (const group of json.weightsManifest) {
    if (!Array.isArray(group?.paths) || !Array.isArray(group.weights) || !group.paths.every(plainName)) {
      throw new Error(`model file ${file}: a weightsManifest entry is not {paths, weights} with file names beside model.json`);
    }
    // A group's shards are one buffer, as tfjs reads them.
    const raw = Buffer.concat(group.paths.map((p) => fs.readFileSync(path.join(dir, p))));
    for (const [k, v] of decodeWeights(raw, group.weights, `${path.join(dir, group.paths[0] ?? WEIGHTS_FILE)}`)) weights.set(k, v);
  }
  const metaFile = path.join(dir, LAB_META_FILE);
  const meta = fs.existsSync(metaFile) ? readJson<Record<string, unknown>>(metaFile, 'lab model metadata') : null;
  let labWeights: Map<string, Float32Array> | null = null;
  const lw = meta?.labWeights as { file?: unknown; weights?: ManifestWeight[] } | undefined;
  if (lw) {
    if (!plainName(lw.file) || !Array.isArray(lw.weights)) throw new Error(`${metaFile}: labWeights is not {file, weights}`);
    labWeights = decodeWeights(fs.readFileSync(path.join(dir, lw.file)), lw.weights, path.join(dir, lw.file));
  }
  return { topology: json.modelTopology, meta, weights, labWeights };
}

/** The weight `name` from a read model, checked against the shape the lab's spec implies. */
export function takeWeight(weights: Map<string, Float32Array>, name: string, shape: number[], where: string): Float32Array {
  const v = weights.get(name);
  if (!v) throw new Error(`${where}: no weight ${name} (the model has ${[...weights.keys()].join(', ') || 'none'})`);
  const size = shape.reduce((a, b) => a * b, 1);
  if (v.length !== size) throw new Error(`${where}: weight ${name} has ${v.length} values, expected ${size} for shape [${shape}]`);
  return v;
}

/**
 * A tfjs IOHandler that loads a Layers model directory from disk, for `tf.loadLayersModel(layersModelFiles(dir))`
 * in Node without tfjs-node.
 */
export function layersModelFiles(dir: string): tf.io.IOHandler {
  return {
    load: async () => {
      const json = readJson<{ modelTopology: object; weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[]; format?: string; generatedBy?: string; convertedBy?: string | null }>(path.join(dir, MODEL_FILE), 'model file');
      const buffers = json.weightsManifest.flatMap((g) => g.paths.map((p) => fs.readFileSync(path.join(dir, p))));
      const data = Buffer.concat(buffers);
      return {
        modelTopology: json.modelTopology,
        weightSpecs: json.weightsManifest.flatMap((g) => g.weights),
        weightData: data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength) as ArrayBuffer,
        ...(json.format ? { format: json.format } : {}),
        ...(json.generatedBy ? { generatedBy: json.generatedBy } : {}),
        ...(json.convertedBy !== undefined ? { convertedBy: json.convertedBy } : {}),
      };
    },
  };
}

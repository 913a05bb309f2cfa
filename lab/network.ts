/**
 * Small neural networks for the agents, as plain tf.Variables applied with fused kernels: an MLP for vector
 * observations and a conv net for board planes. Weights are initialised from the lab's seeded RNG (so runs
 * are reproducible on every backend) and saved in tfjs's Layers format (lab/layers_model.ts: `model.json` +
 * `weights.bin`, a Keras Sequential model `tf.loadLayersModel` opens) with the lab's spec in `lab.json`. Networks
 * saved before (the lab's own `rl-gan-lab/network@1` model.json) still load.
 */
import fs from 'node:fs';
import path from 'node:path';
import { syncReads, tf } from './compute.js';
import { andThen, type MaybePromise } from './maybe_async.js';
import { Rng } from '../envs/index.js';
import { writeFileAtomic, readJson, writeFloat32Concat } from './fsutil.js';
import { isLayersModelJson, kerasConv2d, kerasDense, kerasFlatten, readLayersModel, takeWeight, writeLayersModel, type KerasLayer, type NamedWeight } from './layers_model.js';

export type Activation = 'relu' | 'tanh' | 'linear' | 'elu' | 'sigmoid';

export type LayerSpec =
  | { type: 'dense'; units: number; activation: Activation }
  | { type: 'conv2d'; filters: number; kernelSize: number; strides: number; padding: 'same' | 'valid'; activation: Activation }
  | { type: 'flatten' };

export interface NetworkSpec {
  /** Shape of one input, without the batch dimension ([features] or [height, width, channels]). */
  inputShape: number[];
  layers: LayerSpec[];
  /** Scales the last layer's initial weights (e.g. 0.01 for a policy head, as CleanRL does). */
  outputScale?: number;
}

/** model.json of networks saved before the Layers format. */
const FORMAT = 'rl-gan-lab/network@1';
/** lab.json beside a Layers-format model.json. */
const LAB_FORMAT = 'rl-gan-lab/network@2';

/** Keras layer names of a spec's layers (`dense_0`, `conv2d_1`, `flatten_2`): weights are `<name>/kernel`, `<name>/bias`. */
function kerasNames(spec: NetworkSpec): string[] {
  return spec.layers.map((l, i) => `${l.type}_${i}`);
}

/** An MLP: hidden dense layers with `activation`, then a linear output layer. */
export function mlpSpec(inputSize: number, hidden: number[], outputs: number, activation: Activation = 'relu', outputScale?: number): NetworkSpec {
  return {
    inputShape: [inputSize],
    layers: [...hidden.map((units) => ({ type: 'dense' as const, units, activation })), { type: 'dense', units: outputs, activation: 'linear' }],
    ...(outputScale !== undefined ? { outputScale } : {}),
  };
}

/** A small conv net for [H, W, C] planes: 3x3 'same' ReLU convs with the given filter counts, then dense layers. */
export function convSpec(inputShape: number[], filters: number[], hidden: number[], outputs: number, outputScale?: number): NetworkSpec {
  return {
    inputShape,
    layers: [
      ...filters.map((f) => ({ type: 'conv2d' as const, filters: f, kernelSize: 3, strides: 1, padding: 'same' as const, activation: 'relu' as const })),
      { type: 'flatten' },
      ...hidden.map((units) => ({ type: 'dense' as const, units, activation: 'relu' as const })),
      { type: 'dense', units: outputs, activation: 'linear' },
    ],
    ...(outputScale !== undefined ? { outputScale } : {}),
  };
}

interface ParamShape {
  name: string;
  shape: number[];
}

/** The parameter shapes a spec implies, checking that it is well formed. */
function paramShapes(spec: NetworkSpec): ParamShape[] {
  const out: ParamShape[] = [];
  let shape = [...spec.inputShape];
  spec.layers.forEach((layer, i) => {
    if (layer.type === 'dense') {
      if (shape.length !== 1) throw new Error(`network layer ${i}: dense needs a flat input, got shape [${shape}] (add a flatten layer)`);
      out.push({ name: `l${i}/kernel`, shape: [shape[0]!, layer.units] }, { name: `l${i}/bias`, shape: [layer.units] });
      shape = [layer.units];
    } else if (layer.type === 'conv2d') {
      if (shape.length !== 3) throw new Error(`network layer ${i}: conv2d needs [height, width, channels] input, got [${shape}]`);
      const [h, w, c] = shape as [number, number, number];
      out.push({ name: `l${i}/kernel`, shape: [layer.kernelSize, layer.kernelSize, c, layer.filters] }, { name: `l${i}/bias`, shape: [layer.filters] });
      const size = (n: number) => (layer.padding === 'same' ? Math.ceil(n / layer.strides) : Math.floor((n - layer.kernelSize) / layer.strides) + 1);
      shape = [size(h), size(w), layer.filters];
    } else {
      shape = [shape.reduce((a, b) => a * b, 1)];
    }
  });
  return out;
}

let networkCounter = 0;

/** Activations the fused kernels apply themselves (tanh is applied as a separate op). */
function fusable(a: Activation): 'relu' | 'elu' | 'sigmoid' | undefined {
  return a === 'relu' || a === 'elu' || a === 'sigmoid' ? a : undefined;
}

export class Network {
  readonly spec: NetworkSpec;
  readonly variables: tf.Variable[];
  private readonly shapes: ParamShape[];

  /** Glorot-uniform kernels and zero biases drawn from `rng`, or the given weights. */
  constructor(spec: NetworkSpec, init: Rng | Float32Array[]) {
    this.spec = structuredClone(spec);
    this.shapes = paramShapes(spec);
    const id = networkCounter++;
    const values = init instanceof Rng ? this.initialWeights(init) : init;
    if (values.length !== this.shapes.length) throw new Error(`network: expected ${this.shapes.length} weight arrays, got ${values.length}`);
    this.variables = this.shapes.map((p, i) => {
      const size = p.shape.reduce((a, b) => a * b, 1);
      if (values[i]!.length !== size) throw new Error(`network: weight ${p.name} has ${values[i]!.length} values, expected ${size}`);
      // The variable shares the initial tensor's storage; that tensor itself must go, or every network leaks one per weight.
      const initial = tf.tensor(values[i]!, p.shape, 'float32');
      const variable = tf.variable(initial, true, `net${id}/${p.name}`);
      initial.dispose();
      return variable;
    });
  }

  private initialWeights(rng: Rng): Float32Array[] {
    const lastKernel = this.shapes.length - 2;
    return this.shapes.map((p, i) => {
      const size = p.shape.reduce((a, b) => a * b, 1);
      const w = new Float32Array(size);
      if (p.name.endsWith('/bias')) return w;
      const receptive = p.shape.length === 4 ? p.shape[0]! * p.shape[1]! : 1;
      const fanIn = p.shape[p.shape.length - 2]! * receptive;
      const fanOut = p.shape[p.shape.length - 1]! * receptive;
      const limit = Math.sqrt(6 / (fanIn + fanOut)) * (i === lastKernel ? (this.spec.outputScale ?? 1) : 1);
      for (let k = 0; k < size; k++) w[k] = rng.uniform(-limit, limit);
      return w;
    });
  }

  get paramCount(): number {
    return this.variables.reduce((a, v) => a + v.size, 0);
  }

  /** Forward pass on a batch [N, ...inputShape]; call inside tf.tidy. */
  apply(x: tf.Tensor): tf.Tensor {
    let h = x;
    let v = 0;
    for (const layer of this.spec.layers) {
      if (layer.type === 'dense') {
        const activation = fusable(layer.activation);
        h = tf.fused.matMul({ a: h as tf.Tensor2D, b: this.variables[v]! as tf.Tensor2D, bias: this.variables[v + 1]!, ...(activation ? { activation } : {}) });
        if (layer.activation === 'tanh') h = tf.tanh(h);
        v += 2;
      } else if (layer.type === 'conv2d') {
        const activation = fusable(layer.activation);
        h = tf.fused.conv2d({
          x: h as tf.Tensor4D,
          filter: this.variables[v]! as tf.Tensor4D,
          strides: layer.strides,
          pad: layer.padding,
          bias: this.variables[v + 1]!,
          ...(activation ? { activation } : {}),
        });
        if (layer.activation === 'tanh') h = tf.tanh(h);
        v += 2;
      } else {
        h = tf.reshape(h, [h.shape[0]!, -1]);
      }
    }
    return h;
  }

  /** Hard copy (tau = 1) or Polyak averaging θ ← τ θ_other + (1 − τ) θ. */
  updateFrom(other: Network, tau = 1): void {
    tf.tidy(() => {
      this.variables.forEach((v, i) => {
        const src = other.variables[i]!;
        v.assign(tau === 1 ? src : tf.add(tf.mul(src, tau), tf.mul(v, 1 - tau)));
      });
    });
  }

  /** A new network with this one's spec and weights (copied on the device: no read back). */
  clone(): Network {
    const copy = new Network(this.spec, this.variables.map((v) => new Float32Array(v.size)));
    copy.updateFrom(this);
    return copy;
  }

  /** Copies of the weights (never views of a backend's storage); backends with synchronous reads only. */
  getWeights(): Float32Array[] {
    if (!syncReads()) throw new Error(`Network.getWeights() reads synchronously, which backend '${tf.getBackend()}' cannot: use readWeights()`);
    return this.variables.map((v) => (v.dataSync() as Float32Array).slice());
  }

  /** Copies of the weights: at once where the backend reads synchronously, else once the device has them. */
  readWeights(): MaybePromise<Float32Array[]> {
    if (syncReads()) return this.getWeights();
    return Promise.all(this.variables.map((v) => v.data() as Promise<Float32Array>));
  }

  setWeights(values: Float32Array[]): void {
    tf.tidy(() => this.variables.forEach((v, i) => v.assign(tf.tensor(values[i]!, v.shape, 'float32'))));
  }

  dispose(): void {
    for (const v of this.variables) v.dispose();
  }

  /**
   * Writes the network in tfjs's Layers format (a Keras Sequential model: model.json + weights.bin) and the
   * lab's spec in lab.json; `meta` adds the caller's own metadata to lab.json (normalisation statistics, action
   * space, ...). Where the backend reads synchronously the files are written before this returns; on webgpu once
   * the weights are read back (await the result).
   */
  save(dir: string, meta: Record<string, unknown> = {}): MaybePromise<void> {
    return andThen(this.readWeights(), (values) => this.write(dir, meta, values));
  }

  private write(dir: string, meta: Record<string, unknown>, values: Float32Array[]): void {
    const names = kerasNames(this.spec);
    const layers: KerasLayer[] = [];
    const weights: NamedWeight[] = [];
    let v = 0;
    this.spec.layers.forEach((layer, i) => {
      const input = i === 0 ? this.spec.inputShape : undefined;
      if (layer.type === 'flatten') {
        layers.push(kerasFlatten(names[i]!, input));
        return;
      }
      layers.push(layer.type === 'dense' ? kerasDense(names[i]!, layer.units, layer.activation, input) : kerasConv2d(names[i]!, 'Conv2D', layer, input));
      weights.push({ name: `${names[i]}/kernel`, shape: this.shapes[v]!.shape, values: values[v]! }, { name: `${names[i]}/bias`, shape: this.shapes[v + 1]!.shape, values: values[v + 1]! });
      v += 2;
    });
    writeLayersModel(dir, { name: 'network', layers, weights, meta: { ...meta, format: LAB_FORMAT, spec: this.spec } });
  }

  static load(dir: string): Network {
    const { spec, values } = Network.read(dir);
    return new Network(spec, values);
  }

  /**
   * Reads a saved network's architecture and weights without creating variables: the Layers format (with the
   * spec from lab.json), or the lab's format from before it.
   */
  static read(dir: string): { spec: NetworkSpec; values: Float32Array[]; meta: Record<string, unknown> } {
    const file = path.join(dir, 'model.json');
    const json = readJson<{ format?: string; spec?: NetworkSpec; weights?: { name: string; shape: number[]; offset: number }[]; weightsFile?: string }>(file, 'model file');
    if (isLayersModelJson(json)) {
      const model = readLayersModel(dir);
      if (!model.meta || model.meta.format !== LAB_FORMAT || typeof model.meta.spec !== 'object' || model.meta.spec === null) {
        throw new Error(`model file ${file} is a Layers model without the lab's lab.json (format '${LAB_FORMAT}' with the network spec)`);
      }
      const { format: _f, spec, ...meta } = model.meta as { format: string; spec: NetworkSpec } & Record<string, unknown>;
      const names = kerasNames(spec);
      const layerOf = spec.layers.flatMap((l, i) => (l.type === 'flatten' ? [] : [i, i]));
      const values = paramShapes(spec).map((p, k) => takeWeight(model.weights, `${names[layerOf[k]!]}/${p.name.split('/')[1]}`, p.shape, file));
      return { spec, values, meta };
    }
    if (json.format !== FORMAT || !json.spec || !Array.isArray(json.weights)) {
      throw new Error(`model file ${file} is not a lab network (expected a Layers model or format '${FORMAT}')`);
    }
    const binFile = path.join(dir, json.weightsFile ?? 'weights.bin');
    const raw = fs.readFileSync(binFile);
    const expected = paramShapes(json.spec);
    const total = expected.reduce((a, p) => a + p.shape.reduce((x, y) => x * y, 1), 0);
    if (raw.byteLength !== total * 4) throw new Error(`weights file ${binFile} has ${raw.byteLength} bytes, expected ${total * 4} for this architecture`);
    const all = new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
    const values = json.weights.map((w) => all.slice(w.offset, w.offset + w.shape.reduce((a, b) => a * b, 1)));
    return { spec: json.spec, values, meta: {} };
  }
}

/** Saves an optimizer's slots (Adam moments, step count) as JSON + binary; restores them positionally. */
export async function saveOptimizer(optimizer: tf.Optimizer, dir: string): Promise<void> {
  const weights = await optimizer.getWeights();
  const manifest: { name: string; shape: number[]; offset: number }[] = [];
  const arrays = await Promise.all(weights.map((w) => w.tensor.data() as Promise<Float32Array>));
  let offset = 0;
  weights.forEach((w, i) => {
    manifest.push({ name: w.name, shape: w.tensor.shape, offset });
    offset += arrays[i]!.length;
  });
  writeFloat32Concat(path.join(dir, 'optimizer.bin'), arrays);
  // getWeights() makes a fresh tensor for the step count; the moments are the optimizer's own variables.
  for (const w of weights) if (!(w.tensor instanceof tf.Variable)) w.tensor.dispose();
  const powers = adamPowers(optimizer);
  const powerValues = powers ? await Promise.all(powers.map(async (p) => (await p.data())[0])) : null;
  writeFileAtomic(
    path.join(dir, 'optimizer.json'),
    JSON.stringify({ className: optimizer.getClassName(), config: optimizer.getConfig(), weights: manifest, ...(powerValues ? { adamPowers: powerValues } : {}) }, null, 2) + '\n',
  );
}

export async function loadOptimizer(optimizer: tf.Optimizer, dir: string): Promise<void> {
  const json = readJson<{ className: string; weights: { name: string; shape: number[]; offset: number }[]; adamPowers?: number[] }>(path.join(dir, 'optimizer.json'), 'optimizer file');
  if (json.className !== optimizer.getClassName()) throw new Error(`optimizer file in ${dir} is for ${json.className}, not ${optimizer.getClassName()}`);
  const raw = fs.readFileSync(path.join(dir, 'optimizer.bin'));
  const all = new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
  const named = json.weights.map((w) => ({ name: w.name, tensor: tf.tensor(all.slice(w.offset, w.offset + w.shape.reduce((a, b) => a * b, 1)), w.shape) }));
  await optimizer.setWeights(named);
  for (const n of named) n.tensor.dispose();
  const powers = adamPowers(optimizer);
  if (powers && json.adamPowers) tf.tidy(() => powers.forEach((p, i) => p.assign(tf.scalar(json.adamPowers![i]!))));
}

/**
 * Adam's running powers β1^t and β2^t. tfjs accumulates them by repeated float32 multiplication but
 * recomputes them with pow() in setWeights, which differs in the last bits; saving and restoring them keeps
 * a resumed run bit-identical to an uninterrupted one. (They are private fields of tfjs's AdamOptimizer.)
 */
function adamPowers(optimizer: tf.Optimizer): [tf.Variable, tf.Variable] | null {
  const o = optimizer as unknown as { accBeta1?: tf.Variable; accBeta2?: tf.Variable };
  return o.accBeta1 instanceof tf.Variable && o.accBeta2 instanceof tf.Variable ? [o.accBeta1, o.accBeta2] : null;
}

/**
 * Orthogonal initial weights for `spec` (Saxe et al. 2014; PPO's implementation detail 2): each kernel,
 * flattened to [fan-in, units], is a random orthogonal matrix (QR of a Gaussian one, signs fixed so the
 * distribution is uniform) times a gain: `hiddenGain` (√2 for tanh/ReLU MLPs, as CleanRL and SB3) for every
 * layer but the last, `outputGain` for the last (0.01 for a policy head, 1 for a value head). Biases are 0.
 * Pass the result as the `init` of `new Network(spec, …)`.
 */
export function orthogonalWeights(spec: NetworkSpec, rng: Rng, outputGain: number, hiddenGain = Math.SQRT2): Float32Array[] {
  const shapes = paramShapes(spec);
  const lastKernel = shapes.length - 2;
  return shapes.map((p, i) => {
    const size = p.shape.reduce((a, b) => a * b, 1);
    if (p.name.endsWith('/bias')) return new Float32Array(size);
    const cols = p.shape[p.shape.length - 1]!;
    const rows = size / cols;
    // Orthonormal columns of a tall Gaussian matrix by modified Gram–Schmidt (the positive diagonal of R is
    // the sign fix); a wide kernel takes the transpose, so its rows are orthonormal instead.
    const tall = Math.max(rows, cols);
    const wide = Math.min(rows, cols);
    const q = new Float64Array(tall * wide);
    for (let k = 0; k < q.length; k++) q[k] = rng.normal();
    for (let j = 0; j < wide; j++) {
      for (let m = 0; m < j; m++) {
        let dot = 0;
        for (let r = 0; r < tall; r++) dot += q[r * wide + m]! * q[r * wide + j]!;
        for (let r = 0; r < tall; r++) q[r * wide + j] = q[r * wide + j]! - dot * q[r * wide + m]!;
      }
      let norm = 0;
      for (let r = 0; r < tall; r++) norm += q[r * wide + j]! ** 2;
      norm = Math.sqrt(norm);
      for (let r = 0; r < tall; r++) q[r * wide + j] = q[r * wide + j]! / norm;
    }
    const gain = i === lastKernel ? outputGain : hiddenGain;
    const w = new Float32Array(size);
    for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) w[r * cols + c] = gain * (rows >= cols ? q[r * wide + c]! : q[c * wide + r]!);
    return w;
  });
}

/**
 * Adam with global-norm gradient clipping fused into one pass over plain Float32Arrays.
 *
 * Why: for the small networks of RL, tfjs's Adam launches about a dozen kernels per variable per step, and
 * on the wasm backend each launch costs microseconds of overhead; with clipping that came to ~0.7 ms of a
 * ~2.5 ms DQN update. Reading the gradients once, updating moments and weights in one JS loop and writing
 * the weights back costs a fraction of that. The state (moments, step count) is plain data, saved exactly.
 *
 * Update (Kingma & Ba 2015, with the bias correction folded into the step size as PyTorch does):
 *   m ← β1 m + (1 − β1) g;  v ← β2 v + (1 − β2) g²;  w ← w − lr·√(1 − β2ᵗ)/(1 − β1ᵗ) · m / (√v + ε·√(1 − β2ᵗ))
 * Gradients are first scaled by min(1, maxNorm / (‖g‖ + 1e-6)) when `maxNorm` is set (torch's
 * clip_grad_norm_).
 *
 * On backends without synchronous reads (webgpu) the same equation runs as tensor ops with the moments as
 * tf.Variables on the device, so nothing leaves the GPU during an update; the norm then comes back as a
 * scalar tensor the caller reads with its other statistics. There the gradients, moments and weights are
 * handled as one flat vector (one concat in, one split out), so an update is ~25 kernel launches whatever the
 * number of weight tensors, not ~13 per tensor. The checkpoint files (adam.json, adam.bin) are the
 * same on every backend, so a checkpoint moves between them.
 */
import path from 'node:path';
import { readTensor, syncReads, tf } from './compute.js';
import { andThen, type MaybePromise } from './maybe_async.js';
import { readFloat32ConcatInto, readJson, writeFileAtomic, writeFloat32Concat } from './fsutil.js';

export interface AdamOptions {
  learningRate: number;
  beta1?: number;
  beta2?: number;
  epsilon?: number;
}

export class FusedAdam {
  /** Mutable: a schedule may anneal it between updates (PPO's linear decay). */
  learningRate: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;
  /** Updates taken. */
  step = 0;
  /** Moments as JS arrays (backends with synchronous reads), or null. */
  private readonly m: Float32Array[] | null;
  private readonly v: Float32Array[] | null;
  /** Moments as device variables (webgpu), all weight tensors' flattened end to end, or null. */
  private readonly mDevice: tf.Variable | null;
  private readonly vDevice: tf.Variable | null;
  private readonly sizes: number[];

  constructor(
    readonly variables: tf.Variable[],
    options: AdamOptions,
  ) {
    this.learningRate = options.learningRate;
    this.beta1 = options.beta1 ?? 0.9;
    this.beta2 = options.beta2 ?? 0.999;
    this.epsilon = options.epsilon ?? 1e-8;
    if (!(this.learningRate > 0)) throw new Error(`Adam: learningRate must be positive, got ${this.learningRate}`);
    const onHost = syncReads();
    this.m = onHost ? variables.map((x) => new Float32Array(x.size)) : null;
    this.v = onHost ? variables.map((x) => new Float32Array(x.size)) : null;
    this.sizes = variables.map((x) => x.size);
    const total = this.sizes.reduce((a, b) => a + b, 0);
    this.mDevice = onHost ? null : zerosVariable([total]);
    this.vDevice = onHost ? null : zerosVariable([total]);
  }

  /** First and second moment estimates, per variable, read back (for inspection and tests). */
  moments(): MaybePromise<{ m: Float32Array[]; v: Float32Array[] }> {
    if (this.m && this.v) return { m: this.m, v: this.v };
    return Promise.all([this.mDevice!.data() as Promise<Float32Array>, this.vDevice!.data() as Promise<Float32Array>]).then(([m, v]) => ({ m: this.unflatten(m), v: this.unflatten(v) }));
  }

  /** Per-variable copies of a flat vector. */
  private unflatten(flat: Float32Array): Float32Array[] {
    let offset = 0;
    return this.sizes.map((n) => flat.slice(offset, (offset += n)));
  }

  /**
   * Applies one update from `grads` (one tensor per variable, in order) and returns the global gradient norm
   * before clipping: a number on backends with synchronous reads; on the others a scalar tensor, computed on the
   * device, that the caller reads (with its other statistics) and disposes (inside a tf.tidy, the tidy does).
   */
  apply(grads: tf.Tensor[], maxNorm: number | null = null): number | tf.Scalar {
    if (grads.length !== this.variables.length) throw new Error(`Adam: expected ${this.variables.length} gradients, got ${grads.length}`);
    if (!this.m) return this.applyOnDevice(grads, maxNorm);
    const g = grads.map((t) => t.dataSync() as Float32Array);
    let sq = 0;
    for (const a of g) for (let i = 0; i < a.length; i++) sq += a[i]! * a[i]!;
    const norm = Math.sqrt(sq);
    const scale = maxNorm !== null ? Math.min(1, maxNorm / (norm + 1e-6)) : 1;
    const { stepSize, eps } = this.nextStep();
    const { beta1: b1, beta2: b2 } = this;
    tf.tidy(() => {
      this.variables.forEach((variable, k) => {
        // A copy: on the cpu backend dataSync() returns the tensor's own storage, which other tensors (a target
        // network assigned from this one) may share.
        const w = (variable.dataSync() as Float32Array).slice();
        const gk = g[k]!;
        const mk = this.m![k]!;
        const vk = this.v![k]!;
        for (let i = 0; i < w.length; i++) {
          const gi = gk[i]! * scale;
          const mi = b1 * mk[i]! + (1 - b1) * gi;
          const vi = b2 * vk[i]! + (1 - b2) * gi * gi;
          mk[i] = mi;
          vk[i] = vi;
          w[i] = w[i]! - (stepSize * mi) / (Math.sqrt(vi) + eps);
        }
        variable.assign(tf.tensor(w, variable.shape, 'float32'));
      });
    });
    return norm;
  }

  /** Counts one more update and returns its step size and ε with the bias corrections folded in (see the header). */
  private nextStep(): { stepSize: number; eps: number } {
    this.step++;
    const bc1 = 1 - this.beta1 ** this.step;
    const bc2 = 1 - this.beta2 ** this.step;
    return { stepSize: (this.learningRate * Math.sqrt(bc2)) / bc1, eps: this.epsilon * Math.sqrt(bc2) };
  }

  /** The update above as tensor ops on the device (same equation, scalars computed in JS as above). */
  private applyOnDevice(grads: tf.Tensor[], maxNorm: number | null): tf.Scalar {
    const { stepSize, eps } = this.nextStep();
    const { beta1: b1, beta2: b2 } = this;
    const flat = (ts: tf.Tensor[]) => tf.concat(ts.map((t) => tf.reshape(t, [-1])));
    return tf.tidy(() => {
      const gradient = flat(grads);
      const norm = tf.sqrt(tf.sum(tf.square(gradient))) as tf.Scalar;
      const g = maxNorm !== null ? tf.mul(gradient, tf.minimum(1, tf.div(maxNorm, tf.add(norm, 1e-6)))) : gradient;
      const m = tf.add(tf.mul(this.mDevice!, b1), tf.mul(g, 1 - b1));
      const v = tf.add(tf.mul(this.vDevice!, b2), tf.mul(tf.square(g), 1 - b2));
      this.mDevice!.assign(m);
      this.vDevice!.assign(v);
      const w = tf.sub(flat(this.variables), tf.div(tf.mul(m, stepSize), tf.add(tf.sqrt(v), eps)));
      tf.split(w, this.sizes).forEach((part, k) => this.variables[k]!.assign(tf.reshape(part, this.variables[k]!.shape)));
      return norm;
    });
  }

  /** Writes adam.json and adam.bin (the same files on every backend); on the device after reading the moments. */
  save(dir: string): MaybePromise<void> {
    return andThen(this.moments(), ({ m, v }) => {
      writeFloat32Concat(path.join(dir, 'adam.bin'), [...m, ...v]);
      writeFileAtomic(
        path.join(dir, 'adam.json'),
        JSON.stringify({ optimizer: 'FusedAdam', step: this.step, learningRate: this.learningRate, beta1: this.beta1, beta2: this.beta2, epsilon: this.epsilon, sizes: m.map((a) => a.length) }) + '\n',
      );
    });
  }

  load(dir: string): void {
    const meta = readJson<{ optimizer: string; step: number; sizes: number[] }>(path.join(dir, 'adam.json'), 'optimizer state');
    const sizes = this.variables.map((x) => x.size);
    if (meta.optimizer !== 'FusedAdam' || JSON.stringify(meta.sizes) !== JSON.stringify(sizes)) {
      throw new Error(`optimizer state in ${dir} does not fit this network (sizes ${meta.sizes} vs ${sizes})`);
    }
    const m = this.m ?? sizes.map((n) => new Float32Array(n));
    const v = this.v ?? sizes.map((n) => new Float32Array(n));
    if (!readFloat32ConcatInto(path.join(dir, 'adam.bin'), [...m, ...v])) throw new Error(`optimizer state file in ${dir} has the wrong size`);
    if (this.mDevice && this.vDevice) {
      const joined = (parts: Float32Array[]) => {
        const all = new Float32Array(this.mDevice!.size);
        let offset = 0;
        for (const p of parts) all.set(p, (offset += p.length) - p.length);
        return all;
      };
      tf.tidy(() => {
        this.mDevice!.assign(tf.tensor1d(joined(m)));
        this.vDevice!.assign(tf.tensor1d(joined(v)));
      });
    }
    this.step = meta.step;
  }

  /** Frees the device moments (nothing to free on the host path). */
  dispose(): void {
    if (this.mDevice) tf.dispose([this.mDevice, this.vDevice!]);
  }
}

/** A non-trainable variable of zeros (the initial tensor disposed: the variable keeps its own reference). */
function zerosVariable(shape: number[]): tf.Variable {
  const zeros = tf.zeros(shape);
  const variable = tf.variable(zeros, false);
  zeros.dispose();
  return variable;
}

/** Reads a norm `FusedAdam.apply` returned (a number, or a scalar tensor it then disposes). */
export function readNorm(norm: number | tf.Scalar): MaybePromise<number> {
  if (typeof norm === 'number') return norm;
  return andThen(readTensor(norm) as MaybePromise<Float32Array>, (values) => {
    norm.dispose();
    return values[0]!;
  });
}

/** Scales gradients in place so their global L2 norm is at most `maxNorm`; returns the norm before. */
export function clipByGlobalNorm(grads: Record<string, tf.Tensor>, maxNorm: number | null): tf.Scalar {
  const norm = tf.sqrt(sumOf(Object.values(grads).map((g) => tf.sum(tf.square(g))))) as tf.Scalar;
  if (maxNorm !== null) {
    const scale = tf.minimum(1, tf.div(maxNorm, tf.add(norm, 1e-6)));
    for (const k of Object.keys(grads)) grads[k] = tf.mul(grads[k]!, scale);
  }
  return norm;
}

/**
 * tf.addN, in groups of at most 7 inputs on GPU backends: tfjs-backend-webgpu binds every input of one AddN as a
 * storage buffer, and WebGPU's default limit is 8 per shader stage (an A2C or PPO network has 12 and more
 * weight tensors). Backends with synchronous reads add all at once, as always (same bits as before).
 */
export function sumOf(tensors: tf.Tensor[]): tf.Tensor {
  if (syncReads() || tensors.length <= 7) return tf.addN(tensors);
  const partial: tf.Tensor[] = [];
  for (let i = 0; i < tensors.length; i += 7) partial.push(tensors.length - i === 1 ? tensors[i]! : tf.addN(tensors.slice(i, i + 7)));
  return sumOf(partial);
}

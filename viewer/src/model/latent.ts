/**
 * The GAN latent explorer's arithmetic (pure, no DOM, no tfjs; unit-tested in Node): the generator's metadata
 * read from its lab.json, seeded latent vectors drawn exactly as the lab draws them (gan/models.ts sampleLatent
 * with the envs' seeded Rng, so seed s in the page gives the latents of `loadGenerator(run).sample(n, s)`),
 * interpolation (spherical for a Gaussian latent, straight for a uniform one), and the slider directions:
 * the latent directions along which the generated images vary most.
 *
 * Slider directions. Draw N latents z_i from a fixed seed, generate their images x_i, and take the principal
 * components of the images (eigenvectors of the centred Gram matrix X Xᵀ, by power iteration with deflation).
 * For principal component k with per-sample weights u_k, the latent direction d_k ∝ Zᵀ u_k is the least-squares
 * regression of the component's score on z (Zᵀ Z ≈ N·I for isotropic latents); the directions are then made
 * orthonormal in order (Gram–Schmidt). Moving along d_1 changes a sample the way the generated images differ
 * most from one another; `explained` is each component's share of the images' variance.
 */
import { Rng } from '../../../envs/utils/seeding.js';

export type LatentDistribution = 'normal' | 'uniform';
export type PixelRange = '0,1' | '-1,1';

/** What the page needs from a generator's lab.json (gan/train.ts modelMeta). */
export interface GeneratorMeta {
  latentDim: number;
  latentDistribution: LatentDistribution;
  pixelRange: PixelRange;
  category: string | null;
  preset: string | null;
  iteration: number | null;
  /** The file holds the bias-corrected moving average of the generator's weights (its decay), or null. */
  ema: number | null;
}

/** Reads a generator's lab.json; throws one line naming the field that is wrong. */
export function readGeneratorMeta(json: unknown): GeneratorMeta {
  if (json === null || typeof json !== 'object') throw new Error('lab.json: expected an object');
  const o = json as Record<string, unknown>;
  if (o.role !== undefined && o.role !== 'generator') throw new Error(`lab.json: role is ${JSON.stringify(o.role)}, not "generator"`);
  const spec = o.spec as { inputShape?: unknown } | undefined;
  const latentDim = o.latentDim ?? (Array.isArray(spec?.inputShape) ? spec.inputShape[0] : undefined);
  if (typeof latentDim !== 'number' || !Number.isInteger(latentDim) || latentDim < 1 || latentDim > 4096) throw new Error(`lab.json: latentDim must be an integer in 1..4096, got ${JSON.stringify(latentDim)}`);
  const latentDistribution = o.latentDistribution ?? 'normal';
  if (latentDistribution !== 'normal' && latentDistribution !== 'uniform') throw new Error(`lab.json: latentDistribution must be "normal" or "uniform", got ${JSON.stringify(latentDistribution)}`);
  const pixelRange = o.pixelRange ?? '0,1';
  if (pixelRange !== '0,1' && pixelRange !== '-1,1') throw new Error(`lab.json: pixelRange must be "0,1" or "-1,1", got ${JSON.stringify(pixelRange)}`);
  return {
    latentDim,
    latentDistribution,
    pixelRange,
    category: typeof o.category === 'string' ? o.category : null,
    preset: typeof o.preset === 'string' ? o.preset : null,
    iteration: typeof o.iteration === 'number' ? o.iteration : null,
    ema: typeof o.ema === 'number' ? o.ema : null,
  };
}

/** `n` latent vectors of `dim` values from seed `seed`, exactly as gan/models.ts sampleLatent(new Rng(seed), …). */
export function sampleLatents(seed: number, n: number, dim: number, distribution: LatentDistribution): Float32Array {
  const rng = new Rng(seed);
  const out = new Float32Array(n * dim);
  if (distribution === 'uniform') for (let i = 0; i < out.length; i++) out[i] = rng.uniform(-1, 1);
  else for (let i = 0; i < out.length; i++) out[i] = rng.normal();
  return out;
}

/** Generator output in its pixel range → [0, 1] (0 background, 1 ink), clamped: gan/images.ts toUnit. */
export function toUnit(images: Float32Array, range: PixelRange): Float32Array {
  const out = new Float32Array(images.length);
  for (let i = 0; i < images.length; i++) {
    const v = range === '0,1' ? images[i]! : (images[i]! + 1) / 2;
    out[i] = Math.min(1, Math.max(0, v));
  }
  return out;
}

/** [0, 1] floats → ink bytes 0…255 (gan/images.ts toInk), what the sample grids draw. */
export function unitToInk(unit: Float32Array): Uint8Array {
  const out = new Uint8Array(unit.length);
  for (let i = 0; i < unit.length; i++) out[i] = Math.round(Math.min(1, Math.max(0, unit[i]!)) * 255);
  return out;
}

function norm(v: Float32Array | Float64Array): number {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i]! * v[i]!;
  return Math.sqrt(s);
}

/**
 * The point a fraction `t` of the way from a to b. Gaussian latents: spherical interpolation (slerp) of the
 * directions, with the length interpolated linearly, so in-between vectors keep the typical norm √dim instead of
 * shrinking through the low-density middle that a straight line crosses. Uniform latents: a straight line (it
 * stays inside the cube). t = 0 and t = 1 give a and b exactly.
 */
export function interpolate(a: Float32Array, b: Float32Array, t: number, distribution: LatentDistribution): Float32Array {
  if (a.length !== b.length) throw new Error(`interpolate: vectors of ${a.length} and ${b.length} values`);
  if (t <= 0) return Float32Array.from(a);
  if (t >= 1) return Float32Array.from(b);
  const out = new Float32Array(a.length);
  const na = norm(a);
  const nb = norm(b);
  let cos = 0;
  for (let i = 0; i < a.length; i++) cos += a[i]! * b[i]!;
  cos = na > 0 && nb > 0 ? Math.max(-1, Math.min(1, cos / (na * nb))) : 1;
  const omega = Math.acos(cos);
  if (distribution === 'uniform' || omega < 1e-6 || na === 0 || nb === 0) {
    for (let i = 0; i < a.length; i++) out[i] = (1 - t) * a[i]! + t * b[i]!;
    return out;
  }
  const s = Math.sin(omega);
  const wa = Math.sin((1 - t) * omega) / s / na;
  const wb = Math.sin(t * omega) / s / nb;
  const length = (1 - t) * na + t * nb;
  for (let i = 0; i < a.length; i++) out[i] = length * (wa * a[i]! + wb * b[i]!);
  return out;
}

/** `steps` points from a to b (both ends included). */
export function interpolationPath(a: Float32Array, b: Float32Array, steps: number, distribution: LatentDistribution): Float32Array[] {
  const n = Math.max(2, Math.floor(steps));
  return Array.from({ length: n }, (_, i) => interpolate(a, b, i / (n - 1), distribution));
}

/**
 * z + Σ amounts[k]·directions[k]. Amounts are in latent standard deviations (a Gaussian's 1, a uniform's
 * 1/√3); a uniform latent is clipped back into [−1, 1].
 */
export function moveAlong(z: Float32Array, directions: Float32Array[], amounts: number[], distribution: LatentDistribution): Float32Array {
  const out = Float32Array.from(z);
  const unit = distribution === 'uniform' ? 1 / Math.sqrt(3) : 1;
  directions.forEach((d, k) => {
    const a = (amounts[k] ?? 0) * unit;
    if (a !== 0) for (let i = 0; i < out.length; i++) out[i] = out[i]! + a * d[i]!;
  });
  if (distribution === 'uniform') for (let i = 0; i < out.length; i++) out[i] = Math.max(-1, Math.min(1, out[i]!));
  return out;
}

export interface LatentDirections {
  /** Unit, mutually orthogonal latent directions, the first the one along which images vary most. */
  directions: Float32Array[];
  /** Each direction's image principal component's share of the images' total variance (0…1). */
  explained: number[];
}

/**
 * The slider directions (see the header): from `n` latents (n×dim, row-major) and their images (n×pixels),
 * the latent directions of the images' first `k` principal components.
 */
export function principalDirections(latents: Float32Array, images: Float32Array, n: number, dim: number, k: number): LatentDirections {
  const pixels = images.length / n;
  if (!Number.isInteger(pixels) || latents.length !== n * dim) throw new Error(`principalDirections: ${latents.length} latent values and ${images.length} pixels for ${n} samples of ${dim}`);
  // Centred images, then their Gram matrix G = X Xᵀ (n×n): its eigenvectors are the samples' weights of the
  // principal components (n is small: 256 samples of 784 pixels).
  const mean = new Float64Array(pixels);
  for (let i = 0; i < n; i++) for (let p = 0; p < pixels; p++) mean[p]! += images[i * pixels + p]! / n;
  const x = new Float64Array(n * pixels);
  for (let i = 0; i < n; i++) for (let p = 0; p < pixels; p++) x[i * pixels + p] = images[i * pixels + p]! - mean[p]!;
  const gram = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = i; j < n; j++) {
      let s = 0;
      for (let p = 0; p < pixels; p++) s += x[i * pixels + p]! * x[j * pixels + p]!;
      gram[i * n + j] = s;
      gram[j * n + i] = s;
    }
  }
  let trace = 0;
  for (let i = 0; i < n; i++) trace += gram[i * n + i]!;
  const directions: Float32Array[] = [];
  const explained: number[] = [];
  // A fixed start vector (power iteration needs one not orthogonal to the answer; this one is for any data).
  const start = new Rng(7);
  for (let c = 0; c < Math.min(k, n - 1, dim); c++) {
    let u = Float64Array.from({ length: n }, () => start.normal());
    let lambda = 0;
    for (let iter = 0; iter < 300; iter++) {
      const next = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        let s = 0;
        for (let j = 0; j < n; j++) s += gram[i * n + j]! * u[j]!;
        next[i] = s;
      }
      const len = norm(next);
      if (len === 0) break;
      for (let i = 0; i < n; i++) next[i]! /= len;
      let change = 0;
      for (let i = 0; i < n; i++) change += Math.abs(next[i]! - u[i]!);
      u = next;
      lambda = len;
      if (change < 1e-10 * n) break;
    }
    if (lambda <= 0 || trace <= 0) break;
    // Deflate: G ← G − λ u uᵀ, so the next round finds the next component.
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) gram[i * n + j]! -= lambda * u[i]! * u[j]!;
    // The latent direction of this component: Zᵀ u, made orthogonal to the ones before, unit length.
    const d = new Float64Array(dim);
    for (let i = 0; i < n; i++) for (let e = 0; e < dim; e++) d[e]! += latents[i * dim + e]! * u[i]!;
    for (const prev of directions) {
      let dot = 0;
      for (let e = 0; e < dim; e++) dot += d[e]! * prev[e]!;
      for (let e = 0; e < dim; e++) d[e]! -= dot * prev[e]!;
    }
    const len = norm(d);
    if (len === 0) break;
    // A sign people can read: moving + along a direction adds ink on average (the component's mean pixel change).
    let inkChange = 0;
    for (let i = 0; i < n; i++) for (let p = 0; p < pixels; p++) inkChange += u[i]! * x[i * pixels + p]!;
    const sign = inkChange < 0 ? -1 : 1;
    directions.push(Float32Array.from(d, (v) => (sign * v) / len));
    explained.push(lambda / trace);
  }
  return { directions, explained };
}

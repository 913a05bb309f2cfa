/**
 * Sample-quality metrics for the Quick, Draw! GAN, in the penultimate-layer features of the lab's own small
 * doodle classifier (gan/classifier.ts, weights in data/quickdraw-classifier/):
 *
 *  - **FD**, the Fréchet distance between Gaussians fitted to two feature sets (Heusel et al. 2017, the formula of
 *    FID, here in classifier features rather than Inception's, so its numbers compare only with other FDs of
 *    this classifier): d² = ‖μ₁ − μ₂‖² + Tr(C₁ + C₂ − 2 (C₁C₂)^{1/2}). Tr((C₁C₂)^{1/2}) is computed as
 *    Σ √λᵢ over the eigenvalues of the symmetric PSD matrix √C₁ C₂ √C₁ (which has the same eigenvalues as C₁C₂),
 *    so no non-symmetric matrix square root and no complex parts are ever needed.
 *  - **KID**, the kernel inception distance (Bińkowski et al. 2018) in the same features: the unbiased estimate
 *    of MMD² with the cubic polynomial kernel k(x, y) = (xᵀy/d + 1)³, averaged over random subsets (defaults of
 *    torch-fidelity: 100 subsets of 1000), reported as mean ± standard deviation over the subsets.
 *  - the **real-vs-real baseline**: the same distances between two disjoint halves of the real data, the floor
 *    a perfect generator would reach at that sample size; FD's estimate is biased upward at finite n, so a
 *    generator's FD is read against it (the FD ratio), with the sample sizes matched.
 */
import { Rng } from '../envs/index.js';
import { gaussianStats, matMul, sqrtPsd, symmetricEigen, symmetrize, trace, type Gaussian } from './linalg.js';
import { QuickDrawClassifier } from './classifier.js';

export { gaussianStats, type Gaussian } from './linalg.js';

// ---------------------------------------------------------------------------------------------------------------
// Features

let shared: QuickDrawClassifier | null = null;

/** The shipped classifier, loaded on first use and kept (needs a tfjs backend: initCompute). */
export function sharedClassifier(): QuickDrawClassifier {
  shared ??= QuickDrawClassifier.load();
  return shared;
}

/** Frees the shared classifier's tensors (a later call to sharedClassifier() loads it again). */
export function releaseSharedClassifier(): void {
  shared?.dispose();
  shared = null;
}

/**
 * The classifier's penultimate-layer activations of n×784 images in [0, 1] (0 background, 1 ink): n×d floats,
 * computed in batches with every intermediate tensor disposed. Default: the shipped classifier (d = 128).
 */
export function features(images: Float32Array, classifier: QuickDrawClassifier = sharedClassifier()): Promise<Float32Array> {
  return classifier.features(images);
}

// ---------------------------------------------------------------------------------------------------------------
// Fréchet distance

export interface FrechetOptions {
  /**
   * Added to both covariances' diagonals first (the reference implementation adds 1e-6·I when its sqrtm of
   * C₁C₂ is not finite). Not needed here: the symmetric route is finite for singular covariances too. Default 0.
   */
  eps?: number;
}

export interface FrechetParts {
  /** d² (never negative: rounding below zero is clamped) */
  distance: number;
  /** ‖μ₁ − μ₂‖² */
  meanTerm: number;
  /** Tr(C₁ + C₂ − 2 (C₁C₂)^{1/2}) */
  covTerm: number;
}

/** The Fréchet distance d² between two Gaussians with its two terms. */
export function frechetParts(g1: Gaussian, g2: Gaussian, options: FrechetOptions = {}): FrechetParts {
  const d = g1.dim;
  if (g2.dim !== d) throw new RangeError(`feature dimensions differ: ${g1.dim} vs ${g2.dim}`);
  const eps = options.eps ?? 0;
  let meanTerm = 0;
  for (let i = 0; i < d; i++) meanTerm += (g1.mean[i]! - g2.mean[i]!) ** 2;
  const c1 = Float64Array.from(g1.cov);
  const c2 = Float64Array.from(g2.cov);
  if (eps > 0) {
    for (let i = 0; i < d; i++) {
      c1[i * d + i]! += eps;
      c2[i * d + i]! += eps;
    }
  }
  const s1 = sqrtPsd(c1, d);
  const m = symmetrize(matMul(matMul(s1, c2, d), s1, d), d);
  const eig = symmetricEigen(m, d);
  let trSqrt = 0;
  for (const lambda of eig.values) trSqrt += Math.sqrt(Math.max(lambda, 0));
  const covTerm = trace(c1, d) + trace(c2, d) - 2 * trSqrt;
  return { distance: Math.max(0, meanTerm + covTerm), meanTerm, covTerm };
}

/** The Fréchet distance d² between Gaussians fitted to two feature sets (n₁×d and n₂×d, row-major). */
export function frechetDistance(x: ArrayLike<number>, y: ArrayLike<number>, d: number, options: FrechetOptions = {}): number {
  return frechetParts(gaussianStats(x, d), gaussianStats(y, d), options).distance;
}

// ---------------------------------------------------------------------------------------------------------------
// Kernel inception distance

export interface KidOptions {
  /** Number of random subsets (default 100). */
  subsets?: number;
  /** Subset size; capped at the smaller set's size (default 1000). */
  subsetSize?: number;
  /** Seed of the subset draws (default 0). */
  seed?: number;
  /** Polynomial degree (default 3). */
  degree?: number;
  /** Kernel scale γ in (γ xᵀy + coef0)^degree (default 1/d). */
  gamma?: number;
  /** Kernel offset (default 1). */
  coef0?: number;
  /**
   * Compute every kernel value of the whole sets once (fast: the subsets together touch most pairs) rather than
   * per subset. Default: when the three kernel matrices fit in 40 M float64 entries (≈ 320 MB).
   */
  precompute?: boolean;
}

export interface KidResult {
  /** mean of the per-subset unbiased MMD² estimates */
  mean: number;
  /** their standard deviation (population, as torch-fidelity reports) */
  std: number;
  subsets: number;
  subsetSize: number;
  /** the per-subset estimates */
  values: number[];
}

/** The first m entries of a seeded partial Fisher–Yates shuffle of 0…n−1: m distinct indices. */
function sampleWithoutReplacement(rng: Rng, n: number, m: number): Int32Array {
  const pool = new Int32Array(n);
  for (let i = 0; i < n; i++) pool[i] = i;
  for (let i = 0; i < m; i++) {
    const j = i + rng.integer(n - i);
    const t = pool[i]!;
    pool[i] = pool[j]!;
    pool[j] = t;
  }
  return pool.slice(0, m);
}

interface Kernel {
  gamma: number;
  coef0: number;
  degree: number;
}

/**
 * The kernel matrix K[i, j] = (γ aᵢᵀbⱼ + c)^p of the rows of a (na×d) and b (nb×d), row-major na×nb; with
 * `symmetric` (a and b the same set) only the upper triangle is computed and mirrored.
 */
function kernelMatrix(a: Float64Array, na: number, b: Float64Array, nb: number, d: number, kernel: Kernel, symmetric: boolean): Float64Array {
  const { gamma, coef0, degree } = kernel;
  const out = new Float64Array(na * nb);
  const d4 = d - (d % 4);
  for (let i = 0; i < na; i++) {
    const oi = i * d;
    for (let j = symmetric ? i : 0; j < nb; j++) {
      const oj = j * d;
      let s0 = 0;
      let s1 = 0;
      let s2 = 0;
      let s3 = 0;
      let t = 0;
      for (; t < d4; t += 4) {
        s0 += a[oi + t]! * b[oj + t]!;
        s1 += a[oi + t + 1]! * b[oj + t + 1]!;
        s2 += a[oi + t + 2]! * b[oj + t + 2]!;
        s3 += a[oi + t + 3]! * b[oj + t + 3]!;
      }
      for (; t < d; t++) s0 += a[oi + t]! * b[oj + t]!;
      const base = gamma * (s0 + s1 + s2 + s3) + coef0;
      const v = degree === 3 ? base * base * base : base ** degree;
      out[i * nb + j] = v;
      if (symmetric) out[j * nb + i] = v;
    }
  }
  return out;
}

/** Rows `indices` of an n×d array as a new float64 array. */
function gatherRows(x: Float64Array, d: number, indices: Int32Array): Float64Array {
  const out = new Float64Array(indices.length * d);
  for (let k = 0; k < indices.length; k++) out.set(x.subarray(indices[k]! * d, (indices[k]! + 1) * d), k * d);
  return out;
}

/**
 * Unbiased MMD² of one pair of subsets (rows ix of X, iy of Y) from kernel matrices over the whole sets: the mean
 * of k(xᵢ, xⱼ) over i ≠ j, plus the same for Y, minus twice the mean of k(xᵢ, yⱼ) over all m² pairs.
 */
function mmd2(gxx: Float64Array, nx: number, gyy: Float64Array, ny: number, gxy: Float64Array, ix: Int32Array, iy: Int32Array): number {
  const m = ix.length;
  let sxx = 0;
  let syy = 0;
  let sxy = 0;
  for (let a = 0; a < m; a++) {
    const rx = ix[a]! * nx;
    const ry = iy[a]! * ny;
    const rxy = ix[a]! * ny;
    for (let b = a + 1; b < m; b++) {
      sxx += gxx[rx + ix[b]!]!;
      syy += gyy[ry + iy[b]!]!;
    }
    for (let b = 0; b < m; b++) sxy += gxy[rxy + iy[b]!]!;
  }
  return (2 * sxx) / (m * (m - 1)) + (2 * syy) / (m * (m - 1)) - (2 * sxy) / (m * m);
}

/** Kernel matrices are precomputed over the whole sets by default when they fit in this many float64 entries. */
const GRAM_LIMIT = 40_000_000;

/**
 * KID between feature sets x (nx×d) and y (ny×d): for each of `subsets` draws, m = min(subsetSize, nx, ny)
 * rows of each set without replacement, the unbiased MMD² estimate with the kernel (xᵀy/d + 1)³; returns the
 * mean and standard deviation over the draws. The unbiased estimate can be slightly negative when the two
 * distributions are the same. All arithmetic is in float64.
 */
export function kernelInceptionDistance(x: ArrayLike<number>, y: ArrayLike<number>, d: number, options: KidOptions = {}): KidResult {
  if (x.length % d !== 0 || y.length % d !== 0) throw new RangeError(`feature arrays are not whole rows of ${d}`);
  const nx = x.length / d;
  const ny = y.length / d;
  const subsets = options.subsets ?? 100;
  const m = Math.min(options.subsetSize ?? 1000, nx, ny);
  if (m < 2) throw new RangeError(`KID needs at least 2 samples per set, got ${nx} and ${ny}`);
  if (!Number.isInteger(subsets) || subsets < 1) throw new RangeError(`subsets must be a positive integer, got ${subsets}`);
  const kernel: Kernel = { degree: options.degree ?? 3, gamma: options.gamma ?? 1 / d, coef0: options.coef0 ?? 1 };
  const xf = Float64Array.from(x);
  const yf = Float64Array.from(y);
  const precompute = options.precompute ?? nx * nx + ny * ny + nx * ny <= GRAM_LIMIT;
  // The subsets together touch most pairs: computing every kernel value once is far cheaper than per subset.
  const whole = precompute ? { xx: kernelMatrix(xf, nx, xf, nx, d, kernel, true), yy: kernelMatrix(yf, ny, yf, ny, d, kernel, true), xy: kernelMatrix(xf, nx, yf, ny, d, kernel, false) } : null;
  const identity = Int32Array.from({ length: m }, (_, i) => i);

  const rng = new Rng(options.seed ?? 0);
  const values: number[] = [];
  for (let s = 0; s < subsets; s++) {
    // Sorted, the subset's reads of the kernel matrices go forward through memory (the sums do not depend on order).
    const ix = sampleWithoutReplacement(rng, nx, m).sort();
    const iy = sampleWithoutReplacement(rng, ny, m).sort();
    if (whole) {
      values.push(mmd2(whole.xx, nx, whole.yy, ny, whole.xy, ix, iy));
    } else {
      const xs = gatherRows(xf, d, ix);
      const ys = gatherRows(yf, d, iy);
      values.push(mmd2(kernelMatrix(xs, m, xs, m, d, kernel, true), m, kernelMatrix(ys, m, ys, m, d, kernel, true), m, kernelMatrix(xs, m, ys, m, d, kernel, false), identity, identity));
    }
  }
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  const std = Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / values.length);
  return { mean, std, subsets, subsetSize: m, values };
}

// ---------------------------------------------------------------------------------------------------------------
// Evaluating generated images against real ones

/** Rows `indices` of an n×d array, as a new array. */
export function selectRows(x: Float32Array, d: number, indices: ArrayLike<number>): Float32Array {
  const out = new Float32Array(indices.length * d);
  for (let k = 0; k < indices.length; k++) out.set(x.subarray(indices[k]! * d, (indices[k]! + 1) * d), k * d);
  return out;
}

/** A seeded permutation of 0…n−1 (Fisher–Yates). */
export function permutation(n: number, seed: number): Int32Array {
  return sampleWithoutReplacement(new Rng(seed), n, n);
}

export interface EvalOptions {
  /** The target category (its share of the samples' predicted classes is reported). */
  category: string;
  /** Seed of the real halves' split and of KID's subsets (default 0). */
  seed?: number;
  kid?: Omit<KidOptions, 'seed'>;
}

export interface FdEntry {
  value: number;
  meanTerm: number;
  covTerm: number;
  /** sample sizes of the two sets */
  sizes: [number, number];
}

export interface KidEntry {
  mean: number;
  std: number;
  subsets: number;
  subsetSize: number;
  sizes: [number, number];
}

export interface SampleEval {
  category: string;
  generated: number;
  real: number;
  featureDim: number;
  /** Sizes of the real halves A and B, and of the generated set matched to B. */
  half: number;
  fd: {
    /** FD(generated, all real) */
    generatedVsReal: FdEntry;
    /** FD(first `half` generated, real half A): the same sizes as the baseline */
    generatedVsHalfA: FdEntry;
    /** FD(real half B, real half A): what a perfect generator would score at these sizes */
    baseline: FdEntry;
    /** generatedVsHalfA / baseline: 1 is as close to A as fresh real data is */
    ratio: number;
  };
  kid: {
    /** KID(generated, all real) */
    generatedVsReal: KidEntry;
    /** KID(real half B, real half A): ≈ 0 */
    baseline: KidEntry;
  };
  classes: {
    names: string[];
    /** fraction of the generated images the classifier assigns to each class */
    generated: Record<string, number>;
    /** the same for the real images */
    real: Record<string, number>;
    /** generated[category], or null when the classifier does not know the category */
    generatedTarget: number | null;
    realTarget: number | null;
    /** mean of the classifier's top probability on the generated images (confidence) */
    generatedConfidence: number;
  };
}

function fdEntry(a: Gaussian, b: Gaussian): FdEntry {
  const p = frechetParts(a, b);
  return { value: p.distance, meanTerm: p.meanTerm, covTerm: p.covTerm, sizes: [a.count, b.count] };
}

function kidEntry(x: Float32Array, y: Float32Array, d: number, options: KidOptions): KidEntry {
  const r = kernelInceptionDistance(x, y, d, options);
  return { mean: r.mean, std: r.std, subsets: r.subsets, subsetSize: r.subsetSize, sizes: [x.length / d, y.length / d] };
}

function histogram(labels: Int32Array, names: string[]): Record<string, number> {
  const counts = new Array<number>(names.length).fill(0);
  for (const l of labels) counts[l]!++;
  return Object.fromEntries(names.map((name, i) => [name, labels.length ? counts[i]! / labels.length : 0]));
}

/**
 * Compares generated images with real ones (both n×784 floats in [0, 1], 0 background, 1 ink) in the
 * classifier's features: FD and KID of generated vs real, the real-vs-real baseline on two disjoint halves of
 * the real images (a seeded split), FD of generated vs half A at the baseline's sample sizes and their ratio,
 * and the classifier's predicted-class histogram of both sets.
 */
export async function evaluateSamples(classifier: QuickDrawClassifier, real: Float32Array, generated: Float32Array, options: EvalOptions): Promise<SampleEval> {
  const seed = options.seed ?? 0;
  const d = classifier.featureDim;
  const r = await classifier.run(real);
  const g = await classifier.run(generated);
  const nr = r.count;
  const ng = g.count;
  if (nr < 4) throw new RangeError(`need at least 4 real images for two halves, got ${nr}`);
  if (ng < 2) throw new RangeError(`need at least 2 generated images, got ${ng}`);

  const perm = permutation(nr, seed);
  const halfReal = Math.floor(nr / 2);
  const k = Math.min(halfReal, ng); // the size of half B and of the generated set compared with A
  const ia = perm.subarray(0, halfReal);
  const ib = perm.subarray(halfReal, halfReal + k);
  const featA = selectRows(r.features, d, ia);
  const featB = selectRows(r.features, d, ib);
  const featGk = g.features.subarray(0, k * d);

  const statsReal = gaussianStats(r.features, d);
  const statsA = gaussianStats(featA, d);
  const statsB = gaussianStats(featB, d);
  const statsG = gaussianStats(g.features, d);
  const statsGk = k === ng ? statsG : gaussianStats(featGk, d);

  const generatedVsHalfA = fdEntry(statsGk, statsA);
  const baseline = fdEntry(statsB, statsA);
  const kidOptions: KidOptions = { ...options.kid, seed };

  const names = classifier.classes;
  const target = names.indexOf(options.category);
  const gHist = histogram(g.labels, names);
  const rHist = histogram(r.labels, names);
  let confidence = 0;
  for (let i = 0; i < ng; i++) {
    let top = 0;
    for (let c = 0; c < names.length; c++) top = Math.max(top, g.probabilities[i * names.length + c]!);
    confidence += top;
  }

  return {
    category: options.category,
    generated: ng,
    real: nr,
    featureDim: d,
    half: halfReal,
    fd: {
      generatedVsReal: fdEntry(statsG, statsReal),
      generatedVsHalfA,
      baseline,
      ratio: baseline.value > 0 ? generatedVsHalfA.value / baseline.value : Number.POSITIVE_INFINITY,
    },
    kid: {
      generatedVsReal: kidEntry(g.features, r.features, d, kidOptions),
      baseline: kidEntry(featB, featA, d, kidOptions),
    },
    classes: {
      names,
      generated: gHist,
      real: rHist,
      generatedTarget: target >= 0 ? gHist[options.category]! : null,
      realTarget: target >= 0 ? rHist[options.category]! : null,
      generatedConfidence: confidence / ng,
    },
  };
}

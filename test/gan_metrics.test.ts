import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { initCompute, tf } from '../lab/compute.js';
import { gaussianStats, matMul, sqrtPsd, symmetricEigen, type Gaussian } from '../gan/linalg.js';
import { evaluateSamples, features, frechetDistance, frechetParts, kernelInceptionDistance, permutation, releaseSharedClassifier, selectRows } from '../gan/metrics.js';
import { CLASSIFIER_DIR, QuickDrawClassifier, accuracyOf, classifierSplit, gatherSplit, loadClassImages } from '../gan/classifier.js';
import { formatGanEval } from '../cli/gan_eval.js';
import { findRunDir, ganEval } from '../gan/evaluate.js';
import { SHIPPED_CATEGORIES } from '../gan/data.js';
import { startGanTraining } from '../gan/train.js';
import { main } from '../cli/main.js';

/** A small deterministic generator (LCG) for test data. */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** Standard normal draws (Box–Muller on the LCG). */
function normals(n: number, seed: number): Float64Array {
  const u = lcg(seed);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.sqrt(-2 * Math.log(1 - u())) * Math.cos(2 * Math.PI * u());
  return out;
}

function randomSymmetric(n: number, seed: number): Float64Array {
  const u = lcg(seed);
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = i; j < n; j++) {
      const v = 2 * u() - 1;
      a[i * n + j] = v;
      a[j * n + i] = v;
    }
  }
  return a;
}

const gaussian = (mean: number[], cov: number[]): Gaussian => ({ mean: Float64Array.from(mean), cov: Float64Array.from(cov), dim: mean.length, count: 1000 });

// ---------------------------------------------------------------------------------------------------------------

describe('the symmetric eigen-solver (Jacobi)', () => {
  for (const [n, seed] of [
    [1, 1],
    [2, 2],
    [5, 3],
    [40, 4],
    [128, 5],
  ] as const) {
    it(`decomposes a random symmetric ${n}×${n} matrix: A·v = λ·v, orthonormal V, ascending λ`, () => {
      const a = randomSymmetric(n, seed);
      const { values, vectors } = symmetricEigen(a, n);
      let worst = 0;
      for (let k = 0; k < n; k++) {
        for (let i = 0; i < n; i++) {
          let av = 0;
          for (let j = 0; j < n; j++) av += a[i * n + j]! * vectors[j * n + k]!;
          worst = Math.max(worst, Math.abs(av - values[k]! * vectors[i * n + k]!));
        }
      }
      expect(worst).toBeLessThan(1e-12 * n);
      let orth = 0;
      for (let p = 0; p < n; p++) {
        for (let q = 0; q < n; q++) {
          let dot = 0;
          for (let i = 0; i < n; i++) dot += vectors[i * n + p]! * vectors[i * n + q]!;
          orth = Math.max(orth, Math.abs(dot - (p === q ? 1 : 0)));
        }
      }
      expect(orth).toBeLessThan(1e-13 * n);
      for (let k = 1; k < n; k++) expect(values[k]!).toBeGreaterThanOrEqual(values[k - 1]!);
      let tr = 0;
      for (let i = 0; i < n; i++) tr += a[i * n + i]!;
      expect(values.reduce((s, v) => s + v, 0)).toBeCloseTo(tr, 10);
    });
  }

  it('handles known spectra, repeated eigenvalues and the zero matrix', () => {
    expect(Array.from(symmetricEigen([2, 1, 1, 2], 2).values)).toEqual([expect.closeTo(1, 14), expect.closeTo(3, 14)]);
    const id = symmetricEigen([1, 0, 0, 0, 1, 0, 0, 0, 1], 3);
    expect(Array.from(id.values)).toEqual([1, 1, 1]);
    expect(id.sweeps).toBe(0);
    expect(Array.from(symmetricEigen(new Float64Array(16), 4).values)).toEqual([0, 0, 0, 0]);
    // [[4,1,0],[1,4,1],[0,1,4]] has eigenvalues 4 − √2, 4, 4 + √2.
    const t = symmetricEigen([4, 1, 0, 1, 4, 1, 0, 1, 4], 3).values;
    expect(t[0]).toBeCloseTo(4 - Math.SQRT2, 13);
    expect(t[1]).toBeCloseTo(4, 13);
    expect(t[2]).toBeCloseTo(4 + Math.SQRT2, 13);
    expect(() => symmetricEigen([1, 2, 3], 2)).toThrow(/2×2/);
    expect(() => symmetricEigen([1, NaN, NaN, 1], 2)).toThrow(/non-finite/);
  });

  it('takes square roots of PSD matrices, including singular ones', () => {
    const n = 30;
    const b = randomSymmetric(n, 9);
    const psd = matMul(b, b, n); // BᵀB = B² for symmetric B
    const s = sqrtPsd(psd, n);
    const back = matMul(s, s, n);
    for (let i = 0; i < n * n; i++) expect(back[i]).toBeCloseTo(psd[i]!, 10);
    // rank 1: vvᵀ has root vvᵀ/‖v‖
    const v = [1, 2, 2];
    const r1 = v.flatMap((x) => v.map((y) => x * y));
    const root = sqrtPsd(r1, 3);
    r1.forEach((x, i) => expect(root[i]).toBeCloseTo(x / 3, 7));
  });
});

describe('Fréchet distance', () => {
  it('matches the closed forms for 1-D and diagonal Gaussians', () => {
    // 1-D: (μ₁ − μ₂)² + (σ₁ − σ₂)²
    expect(frechetParts(gaussian([1], [4]), gaussian([3], [9])).distance).toBeCloseTo(4 + 1, 12);
    expect(frechetParts(gaussian([0], [0.25]), gaussian([0], [0.25])).distance).toBeCloseTo(0, 12);
    // diagonal: Σ (μ₁ᵢ − μ₂ᵢ)² + Σ (σ₁ᵢ − σ₂ᵢ)²
    const p = frechetParts(gaussian([0, 1, 2], [1, 0, 0, 0, 4, 0, 0, 0, 16]), gaussian([1, 1, 0], [9, 0, 0, 0, 1, 0, 0, 0, 16]));
    expect(p.meanTerm).toBeCloseTo(1 + 0 + 4, 12);
    expect(p.covTerm).toBeCloseTo(4 + 1 + 0, 12);
    expect(p.distance).toBeCloseTo(10, 12);
  });

  it('matches a hand computation for non-diagonal 2×2 covariances', () => {
    // C₁ = [[2,1],[1,2]], C₂ = diag(1, 4): C₁C₂ = [[2,4],[1,8]] with trace 10 and determinant 3·4 = 12; for a 2×2
    // matrix with positive eigenvalues a, b: Tr √M = √a + √b = √(Tr M + 2√det M) = √(10 + 4√3).
    const d2 = frechetParts(gaussian([1, 0], [2, 1, 1, 2]), gaussian([0, 2], [1, 0, 0, 4])).distance;
    expect(d2).toBeCloseTo(1 + 4 + (4 + 5) - 2 * Math.sqrt(10 + 4 * Math.sqrt(3)), 12);
    // C₂ = I: Tr √C₁ = √3 + 1
    expect(frechetParts(gaussian([0, 0], [2, 1, 1, 2]), gaussian([0, 0], [1, 0, 0, 1])).distance).toBeCloseTo(6 - 2 * (Math.sqrt(3) + 1), 12);
    // singular covariances (rank 1) need no ε: C₁ = [[1,1],[1,1]], C₂ = [[1,−1],[−1,1]] are orthogonal: C₁C₂ = 0.
    expect(frechetParts(gaussian([0, 0], [1, 1, 1, 1]), gaussian([0, 0], [1, -1, -1, 1])).distance).toBeCloseTo(4, 12);
  });

  it('agrees with scipy on sampled features and is 0, symmetric and row-order invariant', () => {
    const d = 6;
    const n = 500;
    const x = normals(n * d, 1);
    const y = normals(n * d, 2);
    for (let i = 0; i < n; i++) {
      x[i * d + 1] = 0.8 * x[i * d]! + 0.3 * x[i * d + 1]!; // correlated columns
      y[i * d + 2] = 2 * y[i * d + 2]! + 0.5;
      y[i * d + 5] = Math.max(0, y[i * d + 5]!); // a ReLU-like column
    }
    const fd = frechetDistance(x, y, d);
    // np.cov + scipy.linalg.sqrtm (numpy 2.4, scipy 1.17) on these same numbers: 2.3327486544285727
    expect(fd).toBeCloseTo(2.3327486544285727, 12);
    expect(frechetDistance(y, x, d)).toBeCloseTo(fd, 10);
    expect(frechetDistance(x, x, d)).toBeLessThan(1e-12);
    const perm = permutation(n, 7);
    expect(frechetDistance(selectRows(Float32Array.from(x), d, perm), Float32Array.from(y), d)).toBeCloseTo(frechetDistance(Float32Array.from(x), Float32Array.from(y), d), 6);
    const stats = gaussianStats(x, d);
    expect(stats.count).toBe(n);
    expect(stats.cov[0 * d + 1]).toBeCloseTo(stats.cov[1 * d + 0]!, 15);
  });

  it('adds ε·I on request and refuses mismatched dimensions', () => {
    const a = gaussian([0], [1]);
    const b = gaussian([0], [4]);
    // (√(1+ε) − √(4+ε))²
    expect(frechetParts(a, b, { eps: 0.5 }).distance).toBeCloseTo((Math.sqrt(1.5) - Math.sqrt(4.5)) ** 2, 12);
    expect(() => frechetParts(a, gaussian([0, 0], [1, 0, 0, 1]))).toThrow(/dimensions differ/);
    expect(() => gaussianStats(new Float64Array(7), 2)).toThrow(/whole number of rows/);
  });
});

describe('kernel inception distance', () => {
  it('matches a hand-computed tiny case', () => {
    // d = 1, k(x, y) = (xy + 1)³; X = {1, 2}, Y = {0, 1}; subsets of 2 are the whole sets.
    // k(1,2) = 27; k(0,1) = 1; k(1,0) + k(1,1) + k(2,0) + k(2,1) = 1 + 8 + 1 + 27 = 37: MMD² = 27 + 1 − 2·37/4 = 9.5
    const r = kernelInceptionDistance([1, 2], [0, 1], 1, { subsets: 5 });
    expect(r.subsetSize).toBe(2);
    expect(r.mean).toBeCloseTo(9.5, 12);
    expect(r.std).toBeCloseTo(0, 12);
    // d = 2, γ = 1/2: X = {(1,0), (0,1)}, Y = {(1,1), (0,0)}
    // k_XX(offdiag) = (0 + 1)³ = 1; k_YY = (0 + 1)³ = 1; k_XY: (1/2+1)³ ×2 + 1 ×2 = 6.75 + 2 = 8.75 → 2·8.75/4 = 4.375
    expect(kernelInceptionDistance([1, 0, 0, 1], [1, 1, 0, 0], 2, { subsets: 1 }).mean).toBeCloseTo(1 + 1 - 4.375, 12);
  });

  it('matches a direct computation on subsets, with and without precomputed kernels', () => {
    const d = 4;
    const x = normals(60 * d, 3);
    const y = normals(50 * d, 4).map((v) => v + 0.3);
    const a = kernelInceptionDistance(x, y, d, { subsets: 7, subsetSize: 20, seed: 3, precompute: true });
    const b = kernelInceptionDistance(x, y, d, { subsets: 7, subsetSize: 20, seed: 3, precompute: false });
    expect(a.values).toHaveLength(7);
    a.values.forEach((v, i) => expect(v).toBeCloseTo(b.values[i]!, 12));
    expect(a.std).toBeGreaterThan(0);
  });

  it('is ≈ 0 for two samples of one distribution and clearly positive for shifted ones', () => {
    const d = 8;
    const n = 1200;
    const x = normals(n * d, 11);
    const y = normals(n * d, 12);
    const shifted = y.map((v, i) => v + (i % d === 0 ? 0.5 : 0));
    const same = kernelInceptionDistance(x, y, d, { subsets: 50, subsetSize: 500, seed: 1 });
    const diff = kernelInceptionDistance(x, shifted, d, { subsets: 50, subsetSize: 500, seed: 1 });
    expect(Math.abs(same.mean)).toBeLessThan(0.01);
    expect(diff.mean).toBeGreaterThan(0.03);
    expect(diff.mean).toBeGreaterThan(10 * Math.abs(same.mean));
    // unbiased: the same-distribution estimates straddle zero
    expect(same.values.some((v) => v < 0)).toBe(true);
    expect(same.values.some((v) => v > 0)).toBe(true);
  });
});

// ---------------------------------------------------------------------------------------------------------------

describe('the shipped classifier and FD on real doodles', () => {
  let classifier: QuickDrawClassifier;
  let images: Float32Array[];
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lab-gan-metrics-'));

  beforeAll(async () => {
    await initCompute('wasm');
    classifier = QuickDrawClassifier.load();
    images = loadClassImages();
  });
  afterAll(() => {
    classifier?.dispose();
    releaseSharedClassifier();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('ships small weights with its description', () => {
    const files = fs.readdirSync(CLASSIFIER_DIR).sort();
    expect(files).toEqual(['README.md', 'classifier.json', 'model.json', 'weights.bin']);
    const bytes = files.reduce((a, f) => a + fs.statSync(path.join(CLASSIFIER_DIR, f)).size, 0);
    expect(bytes).toBeLessThan(1_000_000);
    expect(classifier.classes).toEqual([...SHIPPED_CATEGORIES]);
    expect(classifier.featureDim).toBe(128);
    expect(classifier.info!.accuracy.heldOut).toBeGreaterThan(0.9);
  });

  it('classifies held-out drawings with ≥ 90% accuracy (100 per class)', async () => {
    const { heldOut } = classifierSplit(classifier.info!.split);
    const { x, y } = gatherSplit(images, heldOut.map((ix) => ix.slice(0, 100)));
    const acc = accuracyOf(await classifier.predict(x), y, classifier.classes);
    expect(acc.overall).toBeGreaterThanOrEqual(0.9);
    expect(acc.overall).toBeCloseTo(PINNED.heldOut100, 2);
    for (const c of SHIPPED_CATEGORIES) expect(acc.perClass[c]).toBeGreaterThan(0.85);
  });

  it('extracts features in batches without leaking tensors', async () => {
    const before = tf.memory().numTensors;
    const f = await features(images[0]!.subarray(0, 1100 * 784), classifier);
    expect(tf.memory().numTensors).toBe(before);
    expect(f.length).toBe(1100 * 128);
    // the same images in another batch split give the same features
    const again = (await classifier.run(images[0]!.subarray(0, 1100 * 784), 300)).features;
    for (let i = 0; i < f.length; i += 997) expect(again[i]).toBeCloseTo(f[i]!, 4);
    await expect(classifier.features(new Float32Array(100))).rejects.toThrow(/n×784/);
  });

  it('gives a small FD between halves of the real apples and large ones against noise and other categories', async () => {
    const apple = await classifier.features(images[0]!);
    const d = classifier.featureDim;
    const perm = permutation(3000, 1);
    const a = selectRows(apple, d, perm.subarray(0, 1500));
    const b = selectRows(apple, d, perm.subarray(1500));
    const u = lcg(5);
    const noise = new Float32Array(1500 * 784).map(() => (u() < 0.2 ? 1 : 0));
    const fdHalves = frechetDistance(a, b, d);
    const fdNoise = frechetDistance(a, await classifier.features(noise), d);
    const fdCat = frechetDistance(a, await classifier.features(images[2]!.subarray(0, 1500 * 784)), d);
    const fdDiamond = frechetDistance(a, await classifier.features(images[3]!.subarray(0, 1500 * 784)), d);
    expect(fdHalves).toBeCloseTo(PINNED.halves, 2);
    expect(fdNoise / PINNED.noise).toBeCloseTo(1, 2);
    expect(fdCat / PINNED.cat).toBeCloseTo(1, 2);
    expect(fdDiamond / PINNED.diamond).toBeCloseTo(1, 2);
    expect(fdCat).toBeGreaterThan(20 * fdHalves);
    expect(fdNoise).toBeGreaterThan(20 * fdHalves);
  });

  it('evaluates generated images: baseline, matched FD ratio, KID and class histogram', async () => {
    const real = images[0]!;
    const u = lcg(9);
    // a stand-in "generator": the first 1000 real apples with pixel noise
    const fake = real.slice(0, 1000 * 784).map((v) => Math.min(1, Math.max(0, v + (u() - 0.5) * 0.4)));
    const r = await evaluateSamples(classifier, real, fake, { category: 'apple', seed: 1, kid: { subsets: 20, subsetSize: 500 } });
    expect(r.half).toBe(1500);
    expect(r.fd.baseline.sizes).toEqual([1000, 1500]);
    expect(r.fd.generatedVsHalfA.sizes).toEqual([1000, 1500]);
    expect(r.fd.generatedVsReal.sizes).toEqual([1000, 3000]);
    expect(r.fd.ratio).toBeCloseTo(r.fd.generatedVsHalfA.value / r.fd.baseline.value, 12);
    expect(r.fd.ratio).toBeGreaterThan(1);
    expect(r.kid.generatedVsReal.subsetSize).toBe(500);
    expect(Math.abs(r.kid.baseline.mean)).toBeLessThan(r.kid.generatedVsReal.mean);
    expect(r.classes.generatedTarget).toBeGreaterThan(0.8);
    expect(r.classes.realTarget).toBeGreaterThan(0.95);
    expect(Object.values(r.classes.generated).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
    // real images as the "generator": ratio ≈ 1
    const same = await evaluateSamples(classifier, real.subarray(0, 2000 * 784), real.subarray(2000 * 784), { category: 'apple', seed: 2, kid: { subsets: 10, subsetSize: 400 } });
    expect(same.fd.ratio).toBeGreaterThan(0.6);
    expect(same.fd.ratio).toBeLessThan(1.6);
    // cats as the "generator" of apples: far off, and recognised as cats
    const cats = await evaluateSamples(classifier, real, images[2]!.subarray(0, 1000 * 784), { category: 'apple', seed: 1, kid: { subsets: 10, subsetSize: 500 } });
    expect(cats.fd.ratio).toBeGreaterThan(20);
    expect(cats.classes.generatedTarget).toBeLessThan(0.1);
    expect(cats.classes.generated.cat).toBeGreaterThan(0.85);
  });

  it('runs `gan eval` on a run directory with a stand-in generator and writes eval.json', async () => {
    const runDir = path.join(tmp, 'gan-apple-test');
    fs.mkdirSync(path.join(runDir, 'generator'), { recursive: true });
    fs.writeFileSync(path.join(runDir, 'config.json'), JSON.stringify({ kind: 'gan', category: 'apple', data: { download: 'never' } }));
    expect(findRunDir(path.join(runDir, 'generator'))).toBe(runDir);
    const fish = images[4]!;
    const generator = { source: 'stand-in', sample: (n: number) => fish.slice(0, n * 784) };
    const { report, file } = await ganEval({ target: runDir, n: 600, real: 1200, seed: 3, kidSubsets: 5, kidSubsetSize: 300, generator });
    expect(file).toBe(path.join(runDir, 'eval.json'));
    const saved = JSON.parse(fs.readFileSync(file!, 'utf8'));
    expect(saved.format).toBe('rl-gan-lab/gan-eval@1');
    expect(saved.category).toBe('apple');
    expect(saved.generated).toBe(600);
    expect(saved.real).toBe(1200);
    expect(saved.fd.baseline.sizes).toEqual([600, 600]);
    expect(saved.fd.ratio).toBeGreaterThan(10);
    expect(saved.classes.generated.fish).toBeGreaterThan(0.85);
    const text = formatGanEval(report);
    expect(text).toMatch(/FD ratio \(generated \/ baseline\)/);
    expect(text).toMatch(/classified as apple/);
    await expect(ganEval({ target: tmp, generator, out: false })).rejects.toThrow(/--category/);
  });

  it('`lab gan eval` loads a trained generator from its run directory', async () => {
    const { runDir } = await startGanTraining({ category: 'apple', preset: 'tiny', iterations: 3, seed: 1, data: 'never', out: tmp, runId: 'gan-tiny', backend: 'wasm', sinks: [] });
    const lines: string[] = [];
    const log = vi.spyOn(console, 'log').mockImplementation((line: unknown) => void lines.push(String(line)));
    let code: number;
    try {
      code = await main(['node', 'lab', 'gan', 'eval', path.join(runDir, 'generator'), '--n', '400', '--real', '800', '--kid-subsets', '3', '--json']);
    } finally {
      log.mockRestore();
    }
    expect(code).toBe(0);
    const report = JSON.parse(lines.join('\n'));
    expect(report.runDir).toBe(runDir);
    expect(report.category).toBe('apple');
    expect(report.generated).toBe(400);
    expect(report.fd.baseline.sizes).toEqual([400, 400]);
    expect(report.fd.ratio).toBeGreaterThan(10); // three iterations of a tiny GAN draw no apples
    expect(JSON.parse(fs.readFileSync(path.join(runDir, 'eval.json'), 'utf8')).fd.ratio).toBe(report.fd.ratio);
  });
});

/** Numbers of the shipped classifier on the shipped data (wasm backend); other backends agree to ~1e-5. */
const PINNED = {
  heldOut100: 0.96,
  halves: 0.711,
  noise: 220.61,
  cat: 238.27,
  diamond: 315.84,
};

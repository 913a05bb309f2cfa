/**
 * Dense float64 linear algebra for the GAN quality metrics: means and covariances of feature sets, a
 * symmetric eigen-solver (cyclic Jacobi rotations), square roots of positive semi-definite matrices, and
 * square matrix products. Matrices are row-major `Float64Array`s of n×n values; sizes here are at most a few
 * hundred, where Jacobi is fast (a 128×128 matrix takes a few milliseconds) and accurate to the last bits.
 */

/** Mean and covariance (divisor n − 1, as numpy's `np.cov`) of n rows of d features. */
export interface Gaussian {
  /** d values */
  mean: Float64Array;
  /** d×d, row-major, symmetric */
  cov: Float64Array;
  dim: number;
  /** how many samples the statistics come from */
  count: number;
}

/** A view of rows `indices` (or all n rows) of an n×d row-major array. */
function rowsOf(x: ArrayLike<number>, d: number, indices?: ArrayLike<number>): { count: number; row: (k: number) => number } {
  if (!indices) {
    if (x.length % d !== 0) throw new RangeError(`feature array of length ${x.length} is not a whole number of rows of ${d}`);
    return { count: x.length / d, row: (k) => k * d };
  }
  return { count: indices.length, row: (k) => indices[k]! * d };
}

/**
 * Mean and covariance in float64 of the rows of an n×d array (optionally only the rows `indices`). Two passes
 * (mean first, then centred products), so large offsets do not cost precision.
 */
export function gaussianStats(x: ArrayLike<number>, d: number, indices?: ArrayLike<number>): Gaussian {
  if (!Number.isInteger(d) || d < 1) throw new RangeError(`feature dimension must be a positive integer, got ${d}`);
  const { count: n, row } = rowsOf(x, d, indices);
  if (n < 2) throw new RangeError(`need at least 2 samples for a covariance, got ${n}`);
  const mean = new Float64Array(d);
  for (let k = 0; k < n; k++) {
    const o = row(k);
    for (let j = 0; j < d; j++) mean[j]! += x[o + j]!;
  }
  for (let j = 0; j < d; j++) mean[j]! /= n;
  const cov = new Float64Array(d * d);
  const c = new Float64Array(d);
  for (let k = 0; k < n; k++) {
    const o = row(k);
    for (let j = 0; j < d; j++) c[j] = x[o + j]! - mean[j]!;
    for (let i = 0; i < d; i++) {
      const ci = c[i]!;
      if (ci === 0) continue; // ReLU features are often exactly zero
      const r = i * d;
      for (let j = i; j < d; j++) cov[r + j]! += ci * c[j]!;
    }
  }
  for (let i = 0; i < d; i++) {
    for (let j = i; j < d; j++) {
      const v = cov[i * d + j]! / (n - 1);
      cov[i * d + j] = v;
      cov[j * d + i] = v;
    }
  }
  return { mean, cov, dim: d, count: n };
}

/** C = A·B for n×n row-major matrices. */
export function matMul(a: Float64Array, b: Float64Array, n: number): Float64Array {
  const out = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    const ri = i * n;
    for (let k = 0; k < n; k++) {
      const aik = a[ri + k]!;
      if (aik === 0) continue;
      const rk = k * n;
      for (let j = 0; j < n; j++) out[ri + j]! += aik * b[rk + j]!;
    }
  }
  return out;
}

export function trace(a: Float64Array, n: number): number {
  let t = 0;
  for (let i = 0; i < n; i++) t += a[i * n + i]!;
  return t;
}

/** (A + Aᵀ)/2, in place; returns A. */
export function symmetrize(a: Float64Array, n: number): Float64Array {
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const v = 0.5 * (a[i * n + j]! + a[j * n + i]!);
      a[i * n + j] = v;
      a[j * n + i] = v;
    }
  }
  return a;
}

export interface EigenDecomposition {
  /** n eigenvalues, ascending */
  values: Float64Array;
  /** n×n row-major; column j (entries j, n + j, 2n + j, …) is the unit eigenvector of values[j] */
  vectors: Float64Array;
  /** Jacobi sweeps used */
  sweeps: number;
}

/**
 * Eigenvalues and orthonormal eigenvectors of a real symmetric matrix by the cyclic Jacobi method (with
 * Rutishauser's threshold strategy and accumulated diagonal updates): each rotation zeroes one off-diagonal
 * element; sweeps over all pairs repeat until the off-diagonal part vanishes to machine precision (quadratic
 * convergence, typically 6–10 sweeps). The input is not modified; only its upper triangle is read after
 * symmetrizing (A + Aᵀ)/2.
 */
export function symmetricEigen(input: ArrayLike<number>, n: number, maxSweeps = 100): EigenDecomposition {
  if (input.length !== n * n) throw new RangeError(`expected an ${n}×${n} matrix (${n * n} values), got ${input.length}`);
  const a = symmetrize(Float64Array.from(input), n);
  for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i]!)) throw new RangeError('symmetricEigen: the matrix has non-finite entries');
  const v = new Float64Array(n * n);
  for (let i = 0; i < n; i++) v[i * n + i] = 1;
  const d = new Float64Array(n);
  for (let i = 0; i < n; i++) d[i] = a[i * n + i]!;
  const b = Float64Array.from(d); // diagonal at the start of the sweep
  const z = new Float64Array(n); // this sweep's accumulated diagonal changes

  let sweep = 0;
  for (; sweep < maxSweeps; sweep++) {
    let off = 0;
    for (let p = 0; p < n - 1; p++) for (let q = p + 1; q < n; q++) off += Math.abs(a[p * n + q]!);
    if (off === 0) break;
    // Early sweeps only rotate the large elements (Rutishauser); later ones rotate every non-zero element.
    const threshold = sweep < 3 ? (0.2 * off) / (n * n) : 0;
    for (let p = 0; p < n - 1; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = a[p * n + q]!;
        const g = 100 * Math.abs(apq);
        // After a few sweeps, an element too small to change either diagonal entry is set to zero outright.
        if (sweep > 3 && Math.abs(d[p]!) + g === Math.abs(d[p]!) && Math.abs(d[q]!) + g === Math.abs(d[q]!)) {
          a[p * n + q] = 0;
          continue;
        }
        if (Math.abs(apq) <= threshold) continue;
        const h = d[q]! - d[p]!;
        let t: number;
        if (Math.abs(h) + g === Math.abs(h)) {
          t = apq / h; // the angle is tiny: t ≈ tan θ ≈ apq / h
        } else {
          const theta = (0.5 * h) / apq;
          t = 1 / (Math.abs(theta) + Math.sqrt(1 + theta * theta));
          if (theta < 0) t = -t;
        }
        const c = 1 / Math.sqrt(1 + t * t);
        const s = t * c;
        const tau = s / (1 + c);
        const dh = t * apq;
        z[p]! -= dh;
        z[q]! += dh;
        d[p]! -= dh;
        d[q]! += dh;
        a[p * n + q] = 0;
        // Rotate the rest of rows/columns p and q (upper triangle only).
        for (let j = 0; j < p; j++) rotate(a, j * n + p, j * n + q, s, tau);
        for (let j = p + 1; j < q; j++) rotate(a, p * n + j, j * n + q, s, tau);
        for (let j = q + 1; j < n; j++) rotate(a, p * n + j, q * n + j, s, tau);
        for (let j = 0; j < n; j++) rotate(v, j * n + p, j * n + q, s, tau);
      }
    }
    for (let i = 0; i < n; i++) {
      b[i]! += z[i]!;
      d[i] = b[i]!;
      z[i] = 0;
    }
  }
  if (sweep === maxSweeps) {
    let off = 0;
    for (let p = 0; p < n - 1; p++) for (let q = p + 1; q < n; q++) off += Math.abs(a[p * n + q]!);
    let scale = 0;
    for (let i = 0; i < n; i++) scale += Math.abs(d[i]!);
    if (off > 1e-12 * Math.max(scale, Number.MIN_VALUE)) throw new Error(`symmetricEigen: no convergence after ${maxSweeps} sweeps (off-diagonal sum ${off})`);
  }

  // Sort ascending, permuting the eigenvector columns with the values.
  const order = Array.from({ length: n }, (_, i) => i).sort((i, j) => d[i]! - d[j]!);
  const values = new Float64Array(n);
  const vectors = new Float64Array(n * n);
  order.forEach((src, dst) => {
    values[dst] = d[src]!;
    for (let i = 0; i < n; i++) vectors[i * n + dst] = v[i * n + src]!;
  });
  return { values, vectors, sweeps: sweep };
}

function rotate(m: Float64Array, i: number, k: number, s: number, tau: number): void {
  const g = m[i]!;
  const h = m[k]!;
  m[i] = g - s * (h + g * tau);
  m[k] = h + s * (g - h * tau);
}

/** V·diag(f(λ))·Vᵀ from an eigen-decomposition. */
export function fromEigen(eig: EigenDecomposition, n: number, f: (lambda: number) => number): Float64Array {
  const fl = eig.values.map(f);
  const out = new Float64Array(n * n);
  const v = eig.vectors;
  for (let i = 0; i < n; i++) {
    for (let j = i; j < n; j++) {
      let sum = 0;
      for (let k = 0; k < n; k++) sum += v[i * n + k]! * fl[k]! * v[j * n + k]!;
      out[i * n + j] = sum;
      out[j * n + i] = sum;
    }
  }
  return out;
}

/**
 * The principal square root of a symmetric positive semi-definite matrix: V·diag(√max(λ, 0))·Vᵀ. Tiny negative
 * eigenvalues (rounding in a covariance of rank < n) are clamped to zero.
 */
export function sqrtPsd(a: ArrayLike<number>, n: number): Float64Array {
  return fromEigen(symmetricEigen(a, n), n, (lambda) => Math.sqrt(Math.max(lambda, 0)));
}

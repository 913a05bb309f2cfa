/**
 * The latent explorer's arithmetic (viewer/src/model/latent.ts): seeded latents equal the lab's own
 * (gan/models.ts sampleLatent), interpolation ends exactly at A and B and keeps a Gaussian latent's norm,
 * slider moves, the generator metadata checks, and the slider directions recovered from a generator whose
 * answer is known (images linear in the latent: the directions are its top right singular vectors).
 */
import { describe, expect, it } from 'vitest';
import { sampleLatent } from '../gan/models.js';
import { Rng } from '../envs/utils/seeding.js';
import { interpolate, interpolationPath, moveAlong, principalDirections, readGeneratorMeta, sampleLatents, toUnit, unitToInk } from '../viewer/src/model/latent.js';
import { toInk, toUnit as labToUnit } from '../gan/images.js';
import { formatRoute, parseRoute, sectionOf } from '../viewer/src/model/routes.js';

const norm = (v: ArrayLike<number>) => Math.sqrt(Array.from(v).reduce((s, x) => s + x * x, 0));
const dot = (a: ArrayLike<number>, b: ArrayLike<number>) => Array.from(a).reduce((s, x, i) => s + x * b[i]!, 0);

describe('latent explorer model', () => {
  it('draws the same latent vectors as the lab for a seed, for both distributions', () => {
    for (const dist of ['normal', 'uniform'] as const) {
      for (const seed of [0, 1, 12345]) expect(sampleLatents(seed, 16, 64, dist)).toEqual(sampleLatent(new Rng(seed), 16, 64, dist));
    }
    expect(sampleLatents(1, 4, 8, 'normal')).not.toEqual(sampleLatents(2, 4, 8, 'normal'));
  });

  it('has a route of its own: #/latent/<runId>?seed=<n>', () => {
    expect(parseRoute('#/latent/gan-apple-fast-s1?seed=42')).toEqual({ page: 'latent', runId: 'gan-apple-fast-s1', seed: 42 });
    expect(parseRoute('#/latent/gan-x')).toEqual({ page: 'latent', runId: 'gan-x', seed: null });
    expect(parseRoute('#/latent/gan-x?seed=-3')).toEqual({ page: 'latent', runId: 'gan-x', seed: null });
    expect(parseRoute('#/latent')).toEqual({ page: 'live', runId: null });
    expect(formatRoute({ page: 'latent', runId: 'gan-x', seed: 7 })).toBe('#/latent/gan-x?seed=7');
    expect(formatRoute({ page: 'latent', runId: 'gan-x', seed: null })).toBe('#/latent/gan-x');
    expect(sectionOf('latent')).toBe('live');
  });

  it('maps generator output to [0, 1] and ink bytes as gan/images.ts does', () => {
    const raw = Float32Array.from([-1.5, -1, -0.2, 0, 0.37, 1, 2]);
    for (const range of ['-1,1', '0,1'] as const) {
      expect(toUnit(raw, range)).toEqual(Float32Array.from(labToUnit(Float32Array.from(raw), range), (v) => Math.min(1, Math.max(0, v))));
      expect(unitToInk(toUnit(raw, range))).toEqual(toInk(raw, range));
    }
  });

  it('interpolates spherically for a Gaussian latent, straight for a uniform one, ending exactly at A and B', () => {
    const a = sampleLatents(3, 1, 64, 'normal');
    const b = sampleLatents(4, 1, 64, 'normal');
    const path = interpolationPath(a, b, 9, 'normal');
    expect(path).toHaveLength(9);
    expect(path[0]).toEqual(a);
    expect(path[8]).toEqual(b);
    // The norm moves linearly between the ends (no dip through the middle as a straight line has).
    for (let i = 0; i < 9; i++) expect(norm(path[i]!)).toBeCloseTo(((8 - i) * norm(a) + i * norm(b)) / 8, 4);
    const mid = interpolate(a, b, 0.5, 'normal');
    const straight = a.map((x, i) => (x + b[i]!) / 2);
    expect(norm(mid)).toBeGreaterThan(norm(straight) * 1.2);
    // The angle to A grows linearly (equal steps along the great circle).
    const angle = (u: ArrayLike<number>, v: ArrayLike<number>) => Math.acos(dot(u, v) / (norm(u) * norm(v)));
    const total = angle(a, b);
    for (let i = 1; i < 8; i++) expect(angle(a, path[i]!)).toBeCloseTo((total * i) / 8, 4);
    const ua = sampleLatents(5, 1, 8, 'uniform');
    const ub = sampleLatents(6, 1, 8, 'uniform');
    const u = interpolate(ua, ub, 0.25, 'uniform');
    u.forEach((x, i) => expect(x).toBeCloseTo(0.75 * ua[i]! + 0.25 * ub[i]!, 6));
  });

  it('moves along directions in latent standard deviations (uniform moves scaled by 1/√3 and clipped)', () => {
    const z = Float32Array.from([0.5, -0.5, 0]);
    const d = [Float32Array.from([1, 0, 0]), Float32Array.from([0, 0, 1])];
    expect(Array.from(moveAlong(z, d, [2, -1], 'normal'))).toEqual([2.5, -0.5, -1]);
    const u = moveAlong(z, d, [3, 1], 'uniform');
    expect(u[0]).toBe(1);
    expect(u[2]).toBeCloseTo(1 / Math.sqrt(3), 6);
  });

  it('reads the generator\'s lab.json and names what is wrong', () => {
    expect(readGeneratorMeta({ role: 'generator', latentDim: 64, latentDistribution: 'normal', pixelRange: '-1,1', category: 'apple', preset: 'fast', iteration: 2400, ema: 0.995 })).toEqual({ latentDim: 64, latentDistribution: 'normal', pixelRange: '-1,1', category: 'apple', preset: 'fast', iteration: 2400, ema: 0.995 });
    // Older files: the latent size from the spec, the defaults of gan/train.ts loadGenerator.
    expect(readGeneratorMeta({ spec: { inputShape: [100] } })).toMatchObject({ latentDim: 100, latentDistribution: 'normal', pixelRange: '0,1' });
    expect(() => readGeneratorMeta({ role: 'discriminator', latentDim: 64 })).toThrow(/role is "discriminator"/);
    expect(() => readGeneratorMeta({ latentDim: 0 })).toThrow(/latentDim must be an integer/);
    expect(() => readGeneratorMeta({ latentDim: 8, latentDistribution: 'cauchy' })).toThrow(/latentDistribution/);
    expect(() => readGeneratorMeta({ latentDim: 8, pixelRange: '0,255' })).toThrow(/pixelRange/);
  });

  it('finds the latent directions along which the images vary most (a linear generator: its top singular vectors)', () => {
    // images = W z with W = U diag(s) Vᵀ: the images vary most along U's columns, caused by z moving along V's.
    const dim = 6;
    const pixels = 20;
    const n = 400;
    const rng = new Rng(11);
    const orthonormal = (rows: number, cols: number) => {
      const out: number[][] = [];
      while (out.length < cols) {
        const v = Array.from({ length: rows }, () => rng.normal());
        for (const p of out) {
          const c = dot(v, p);
          for (let i = 0; i < rows; i++) v[i]! -= c * p[i]!;
        }
        const l = norm(v);
        out.push(v.map((x) => x / l));
      }
      return out;
    };
    const U = orthonormal(pixels, 3);
    const V = orthonormal(dim, 3);
    const s = [5, 3, 1.5];
    const latents = sampleLatents(2, n, dim, 'normal');
    const images = new Float32Array(n * pixels);
    for (let i = 0; i < n; i++) {
      const z = latents.subarray(i * dim, (i + 1) * dim);
      for (let k = 0; k < 3; k++) {
        const c = s[k]! * dot(V[k]!, z);
        for (let p = 0; p < pixels; p++) images[i * pixels + p]! += c * U[k]![p]!;
      }
    }
    const { directions, explained } = principalDirections(latents, images, n, dim, 3);
    expect(directions).toHaveLength(3);
    for (let k = 0; k < 3; k++) {
      expect(norm(directions[k]!)).toBeCloseTo(1, 5);
      for (let j = 0; j < k; j++) expect(Math.abs(dot(directions[k]!, directions[j]!))).toBeLessThan(1e-5);
      // The right direction up to sampling noise (400 samples).
      expect(Math.abs(dot(directions[k]!, V[k]!))).toBeGreaterThan(0.98);
    }
    // Shares of variance ≈ s² / Σ s² (all the variance lies in these three).
    const total = s.reduce((a, x) => a + x * x, 0);
    s.forEach((x, k) => expect(explained[k]!).toBeCloseTo((x * x) / total, 1));
    expect(explained[0]!).toBeGreaterThan(explained[1]!);
  });
});

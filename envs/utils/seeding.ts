/**
 * Seeded random numbers for environments and spaces (Gymnasium's `utils/seeding`).
 *
 * An integer seed re-creates the generator; the same seed gives the same stream on every machine because
 * seedrandom's Alea is pure JavaScript arithmetic. The state can be saved and restored exactly (checkpoints).
 * Browser-safe: fresh seeds come from the Web Crypto API (`globalThis.crypto`, in Node and in pages alike).
 */
import seedrandom from 'seedrandom';

/** Serialisable Alea state (seedrandom's `state()` object). */
export interface RngState {
  readonly c: number;
  readonly s0: number;
  readonly s1: number;
  readonly s2: number;
}

export class SeedError extends Error {
  override name = 'SeedError';
}

/** Throws unless `seed` is a non-negative safe integer, as Gymnasium requires. */
export function assertSeed(seed: unknown, what = 'seed'): asserts seed is number {
  if (typeof seed !== 'number' || !Number.isSafeInteger(seed) || seed < 0) {
    throw new SeedError(`${what} must be a non-negative integer, got ${describeValue(seed)}`);
  }
}

/** A fresh seed from the operating system, for when the user gives none. */
export function randomSeed(): number {
  // 47 random bits: 15 from one 32-bit word, 32 from the other (a safe integer, as spawnSeed's).
  const [hi, lo] = globalThis.crypto.getRandomValues(new Uint32Array(2));
  return (hi! & 0x7fff) * 2 ** 32 + lo!;
}

export class Rng {
  /** The integer the generator was created from. */
  readonly seed: number;
  private prng: seedrandom.StatefulPRNG<seedrandom.State.Alea>;

  constructor(seed?: number) {
    if (seed === undefined) seed = randomSeed();
    assertSeed(seed);
    this.seed = seed;
    this.prng = seedrandom.alea(String(seed), { state: true });
  }

  /** Uniform in [0, 1) with 32 bits of resolution. */
  random(): number {
    return this.prng();
  }

  /** Uniform in [0, 1) with 53 bits of resolution. */
  double(): number {
    return this.prng.double();
  }

  /** Uniform in [low, high). */
  uniform(low: number, high: number): number {
    return low + (high - low) * this.prng.double();
  }

  /** Uniform integer in [0, n). */
  integer(n: number): number {
    return Math.floor(this.prng.double() * n);
  }

  /** Standard normal (Box–Muller; one value per call so the state stays a plain Alea state). */
  normal(): number {
    let u = 0;
    while (u === 0) u = this.prng.double();
    const v = this.prng.double();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  /** Exponential with rate 1. */
  exponential(): number {
    return -Math.log(1 - this.prng.double());
  }

  /** Index drawn from unnormalised weights (Gymnasium's `categorical_sample`: first cumulative sum above u). */
  categorical(weights: ArrayLike<number>): number {
    let total = 0;
    for (let i = 0; i < weights.length; i++) total += weights[i]!;
    const u = this.prng.double() * total;
    let acc = 0;
    for (let i = 0; i < weights.length; i++) {
      acc += weights[i]!;
      if (acc > u) return i;
    }
    return weights.length - 1;
  }

  /** A new non-negative integer seed drawn from this stream (to seed children deterministically). */
  spawnSeed(): number {
    return Math.floor(this.prng.double() * 2 ** 47);
  }

  /** Seed and state, enough to continue the stream exactly (checkpoints, env snapshots). */
  toJSON(): { seed: number; state: RngState } {
    return { seed: this.seed, state: this.getState() };
  }

  static fromJSON(json: { seed: number; state: RngState }): Rng {
    if (typeof json !== 'object' || json === null) throw new SeedError('invalid RNG snapshot: expected { seed, state }');
    const rng = new Rng(json.seed);
    rng.setState(json.state);
    return rng;
  }

  getState(): RngState {
    const s = this.prng.state();
    return { c: s.c, s0: s.s0, s1: s.s1, s2: s.s2 };
  }

  setState(state: RngState): void {
    for (const k of ['c', 's0', 's1', 's2'] as const) {
      if (typeof state?.[k] !== 'number' || !Number.isFinite(state[k])) {
        throw new SeedError(`invalid RNG state: field '${k}' must be a finite number`);
      }
    }
    // seedrandom restores a state only at construction, so replace the generator.
    this.prng = seedrandom.alea('', { state: { c: state.c, s0: state.s0, s1: state.s1, s2: state.s2 } });
  }
}

export function describeValue(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number' || typeof v === 'boolean' || v === undefined || v === null) return String(v);
  if (ArrayBuffer.isView(v) && !(v instanceof DataView)) {
    return `${v.constructor.name}[${Array.from(v as unknown as ArrayLike<number>).join(', ')}]`;
  }
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}

/** The first line of an error's message (or of a thrown non-error): what one-line error reports quote. */
export function firstLineOf(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).split('\n', 1)[0]!;
}

/**
 * Spaces describe valid actions and observations (Gymnasium's `gymnasium.spaces`).
 *
 * Values: `Discrete` → number; `Box`, `MultiDiscrete`, `MultiBinary` → typed arrays (row-major for
 * multi-dimensional shapes); `Tuple` → array of values; `Dict` → object of values.
 * Each space has its own RNG for `sample()`, seeded by `seed()` and independent of the env's RNG.
 */
import { Rng, assertSeed, describeValue } from './utils/seeding.js';

export type DType = 'float32' | 'float64' | 'int8' | 'int16' | 'int32' | 'uint8' | 'uint16' | 'uint32';
export type TypedArray =
  | Float32Array
  | Float64Array
  | Int8Array
  | Int16Array
  | Int32Array
  | Uint8Array
  | Uint16Array
  | Uint32Array;

const ARRAY_TYPES = {
  float32: Float32Array,
  float64: Float64Array,
  int8: Int8Array,
  int16: Int16Array,
  int32: Int32Array,
  uint8: Uint8Array,
  uint16: Uint16Array,
  uint32: Uint32Array,
} as const;

const INT_RANGES: Partial<Record<DType, [number, number]>> = {
  int8: [-128, 127],
  int16: [-32768, 32767],
  int32: [-(2 ** 31), 2 ** 31 - 1],
  uint8: [0, 255],
  uint16: [0, 65535],
  uint32: [0, 2 ** 32 - 1],
};

export function allocate(dtype: DType, length: number): TypedArray {
  const Ctor = typeof dtype === 'string' && Object.hasOwn(ARRAY_TYPES, dtype) ? ARRAY_TYPES[dtype] : undefined;
  if (!Ctor) throw new SpaceError(`unknown dtype '${dtype}'; expected one of ${Object.keys(ARRAY_TYPES).join(', ')}`);
  return new Ctor(length);
}

export function isIntegerDType(dtype: DType): boolean {
  return dtype !== 'float32' && dtype !== 'float64';
}

export class SpaceError extends Error {
  override name = 'SpaceError';
}

/** JSON description of a space (what `toJSON()` returns and `spaceFromJSON()` reads). */
export type SpaceJSON =
  | { type: 'Discrete'; n: number; start: number }
  | { type: 'Box'; low: (number | null)[]; high: (number | null)[]; shape: number[]; dtype: DType }
  | { type: 'MultiDiscrete'; nvec: number[]; start: number[]; shape: number[] }
  | { type: 'MultiBinary'; shape: number[] }
  | { type: 'Tuple'; spaces: SpaceJSON[] }
  | { type: 'Dict'; spaces: Record<string, SpaceJSON> };

export abstract class Space<T = unknown> {
  /** Shape of one value, or null for composite spaces. */
  abstract readonly shape: readonly number[] | null;
  protected rng: Rng = new Rng();

  /** Re-seeds the sampling RNG; returns the seeds used (more than one for composite spaces). */
  seed(seed?: number): number[] {
    if (seed !== undefined) assertSeed(seed, 'space seed');
    this.rng = new Rng(seed);
    return [this.rng.seed];
  }

  abstract sample(mask?: unknown): T;
  abstract contains(x: unknown): x is T;
  abstract toJSON(): SpaceJSON;
  abstract toString(): string;

  /** Number of values in the flattened representation (one-hot for discrete parts). */
  abstract get flatDim(): number;
}

function product(shape: readonly number[]): number {
  let p = 1;
  for (const d of shape) p *= d;
  return p;
}

function checkShape(shape: readonly number[], what: string): number[] {
  if (!Array.isArray(shape) || shape.some((d) => !Number.isInteger(d) || d < 0)) {
    throw new SpaceError(`${what}: shape must be an array of non-negative integers, got ${describeValue(shape)}`);
  }
  return [...shape];
}

function isNumericArrayLike(x: unknown): x is ArrayLike<number> {
  if (ArrayBuffer.isView(x) && !(x instanceof DataView)) return true;
  return Array.isArray(x) && x.every((v) => typeof v === 'number');
}

function checkMask(mask: unknown, n: number, what: string): ArrayLike<number> {
  if (!isNumericArrayLike(mask) || mask.length !== n) {
    throw new SpaceError(`${what}: mask must be an array of ${n} zeros and ones, got ${describeValue(mask)}`);
  }
  for (let i = 0; i < n; i++) {
    if (mask[i] !== 0 && mask[i] !== 1) {
      throw new SpaceError(`${what}: mask values must be 0 or 1, got ${mask[i]} at index ${i}`);
    }
  }
  return mask;
}

// ---------------------------------------------------------------------------------------------------------

/** The integers {start, …, start + n − 1}. */
export class Discrete extends Space<number> {
  readonly shape: readonly number[] = [];

  constructor(
    readonly n: number,
    readonly start = 0,
  ) {
    super();
    if (!Number.isSafeInteger(n) || n <= 0) throw new SpaceError(`Discrete: n must be a positive integer, got ${describeValue(n)}`);
    if (!Number.isSafeInteger(start)) throw new SpaceError(`Discrete: start must be an integer, got ${describeValue(start)}`);
  }

  /**
   * Uniform sample; with `mask` (n zeros/ones) only among the allowed values, and `start` when none is
   * allowed (as Gymnasium). With `probability` (n non-negative weights summing to 1) from that distribution.
   */
  sample(mask?: ArrayLike<number> | null, probability?: ArrayLike<number>): number {
    if (mask != null && probability != null) throw new SpaceError('Discrete.sample: give either mask or probability, not both');
    if (probability != null) {
      if (!isNumericArrayLike(probability) || probability.length !== this.n) {
        throw new SpaceError(`Discrete.sample: probability must be an array of ${this.n} numbers`);
      }
      let sum = 0;
      for (let i = 0; i < this.n; i++) {
        const p = probability[i]!;
        if (!(p >= 0)) throw new SpaceError(`Discrete.sample: probability[${i}] = ${p} is not a non-negative number`);
        sum += p;
      }
      if (Math.abs(sum - 1) > 1e-6) throw new SpaceError(`Discrete.sample: probabilities sum to ${Number(sum.toPrecision(6))}, not 1`);
      return this.start + this.rng.categorical(probability);
    }
    if (mask != null) {
      const m = checkMask(mask, this.n, 'Discrete.sample');
      let count = 0;
      for (let i = 0; i < this.n; i++) count += m[i]!;
      if (count === 0) return this.start;
      let k = this.rng.integer(count);
      for (let i = 0; i < this.n; i++) {
        if (m[i] === 1 && k-- === 0) return this.start + i;
      }
    }
    return this.start + this.rng.integer(this.n);
  }

  contains(x: unknown): x is number {
    return typeof x === 'number' && Number.isInteger(x) && x >= this.start && x < this.start + this.n;
  }

  get flatDim(): number {
    return this.n;
  }

  toJSON(): SpaceJSON {
    return { type: 'Discrete', n: this.n, start: this.start };
  }

  toString(): string {
    return this.start === 0 ? `Discrete(${this.n})` : `Discrete(${this.n}, start=${this.start})`;
  }
}

// ---------------------------------------------------------------------------------------------------------

/** A box in R^shape (possibly unbounded), with a dtype; values are typed arrays in row-major order. */
export class Box<T extends TypedArray = TypedArray> extends Space<T> {
  readonly shape: readonly number[];
  readonly low: TypedArray;
  readonly high: TypedArray;
  readonly size: number;

  constructor(
    low: number | ArrayLike<number>,
    high: number | ArrayLike<number>,
    shape?: readonly number[],
    readonly dtype: DType = 'float32',
  ) {
    super();
    if (typeof dtype !== 'string' || !Object.hasOwn(ARRAY_TYPES, dtype)) throw new SpaceError(`Box: unknown dtype '${dtype}'`);
    if (shape === undefined) {
      if (typeof low !== 'number') shape = [low.length];
      else if (typeof high !== 'number') shape = [high.length];
      else throw new SpaceError('Box: shape is required when low and high are scalars');
    }
    this.shape = checkShape(shape, 'Box');
    this.size = product(this.shape);
    this.low = this.broadcast(low, 'low');
    this.high = this.broadcast(high, 'high');
    for (let i = 0; i < this.size; i++) {
      if (Number.isNaN(this.low[i]) || Number.isNaN(this.high[i])) throw new SpaceError(`Box: bounds contain NaN at index ${i}`);
      if (this.low[i]! > this.high[i]!) throw new SpaceError(`Box: low[${i}] = ${this.low[i]} exceeds high[${i}] = ${this.high[i]}`);
    }
  }

  private broadcast(v: number | ArrayLike<number>, what: string): TypedArray {
    // Bounds are kept in float64 for integer dtypes so ±Infinity can express "unbounded" without overflow.
    const out = isIntegerDType(this.dtype) ? new Float64Array(this.size) : allocate(this.dtype, this.size);
    if (typeof v === 'number') {
      out.fill(v);
    } else {
      if (!isNumericArrayLike(v) || v.length !== this.size) {
        throw new SpaceError(`Box: ${what} must be a number or an array of ${this.size} numbers, got ${describeValue(v)}`);
      }
      out.set(v);
    }
    if (isIntegerDType(this.dtype)) {
      const [lo, hi] = INT_RANGES[this.dtype]!;
      for (let i = 0; i < this.size; i++) out[i] = Math.min(hi, Math.max(lo, out[i]!));
    }
    return out;
  }

  boundedBelow(i: number): boolean {
    return this.low[i]! > -Infinity;
  }

  boundedAbove(i: number): boolean {
    return this.high[i]! < Infinity;
  }

  /** Uniform on bounded coordinates, shifted exponential on half-bounded ones, normal on unbounded ones. */
  sample(mask?: null): T {
    if (mask != null) throw new SpaceError('Box.sample: masks are not supported for Box spaces');
    const out = allocate(this.dtype, this.size) as T;
    const integer = isIntegerDType(this.dtype);
    for (let i = 0; i < this.size; i++) {
      const lo = this.low[i]!;
      const hi = this.high[i]!;
      const below = this.boundedBelow(i);
      const above = this.boundedAbove(i);
      let v: number;
      if (below && above) v = integer ? Math.floor(this.rng.uniform(lo, hi + 1)) : this.rng.uniform(lo, hi);
      else if (below) v = lo + this.rng.exponential();
      else if (above) v = hi - this.rng.exponential();
      else v = this.rng.normal();
      if (integer) v = Math.min(hi, Math.max(lo, Math.floor(v)));
      out[i] = v;
    }
    return out;
  }

  contains(x: unknown): x is T {
    if (!isNumericArrayLike(x) || x.length !== this.size) return false;
    const integer = isIntegerDType(this.dtype);
    for (let i = 0; i < this.size; i++) {
      const v = x[i]!;
      if (!(v >= this.low[i]! && v <= this.high[i]!)) return false; // also rejects NaN
      if (integer && !Number.isInteger(v)) return false;
    }
    return true;
  }

  /**
   * Why `x` cannot be given to an env as an action of this Box, or null when it can: an array (or typed array)
   * of `size` finite numbers (integers for integer dtypes). Unlike `contains`, values outside the bounds pass:
   * the continuous envs clip them, as Gymnasium's do.
   */
  actionProblem(x: unknown): string | null {
    if (!isNumericArrayLike(x)) return `expected an array of ${this.size} number${this.size === 1 ? '' : 's'}, got ${describeValue(x)}`;
    if (x.length !== this.size) return `expected ${this.size} number${this.size === 1 ? '' : 's'} (shape [${this.shape.join(', ')}]), got ${x.length}`;
    const integer = isIntegerDType(this.dtype);
    for (let i = 0; i < this.size; i++) {
      const v = x[i]!;
      if (!Number.isFinite(v)) return `element ${i} is ${v}, not a finite number`;
      if (integer && !Number.isInteger(v)) return `element ${i} is ${v}, not an integer (${this.dtype})`;
    }
    return null;
  }

  get flatDim(): number {
    return this.size;
  }

  toJSON(): SpaceJSON {
    const finite = (a: TypedArray) => Array.from(a, (v) => (Number.isFinite(v) ? v : null));
    // JSON has no Infinity: null stands for an unbounded side (low: −∞, high: +∞).
    return { type: 'Box', low: finite(this.low), high: finite(this.high), shape: [...this.shape], dtype: this.dtype };
  }

  toString(): string {
    const uniform = (a: TypedArray) => a.every((v) => v === a[0]);
    // float32 bounds print as the decimals they were written as (4.8, not 4.800000190734863).
    const num = (v: number) => String(this.dtype === 'float32' ? Number(v.toPrecision(7)) : v);
    const fmt = (a: TypedArray) => (this.size > 0 && uniform(a) ? num(a[0]!) : `[${Array.from(a, num).join(', ')}]`);
    return `Box(${fmt(this.low)}, ${fmt(this.high)}, (${this.shape.join(', ')}${this.shape.length === 1 ? ',' : ''}), ${this.dtype})`;
  }
}

// ---------------------------------------------------------------------------------------------------------

/** Several discrete components: component i takes values {start[i], …, start[i] + nvec[i] − 1}. */
export class MultiDiscrete extends Space<Int32Array> {
  readonly nvec: Int32Array;
  readonly start: Int32Array;
  readonly shape: readonly number[];

  constructor(nvec: ArrayLike<number>, start?: ArrayLike<number>) {
    super();
    if (!isNumericArrayLike(nvec) || nvec.length === 0 || Array.from(nvec).some((n) => !Number.isInteger(n) || n <= 0)) {
      throw new SpaceError(`MultiDiscrete: nvec must be a non-empty array of positive integers, got ${describeValue(nvec)}`);
    }
    this.nvec = Int32Array.from(nvec);
    this.shape = [this.nvec.length];
    if (start !== undefined && (!isNumericArrayLike(start) || start.length !== nvec.length || Array.from(start).some((s) => !Number.isInteger(s)))) {
      throw new SpaceError(`MultiDiscrete: start must be an array of ${nvec.length} integers, got ${describeValue(start)}`);
    }
    this.start = start === undefined ? new Int32Array(this.nvec.length) : Int32Array.from(start);
  }

  /** `mask`: one 0/1 array per component (or null for "any"); an all-zero component mask yields its start. */
  sample(mask?: readonly (ArrayLike<number> | null)[] | null): Int32Array {
    const out = new Int32Array(this.nvec.length);
    if (mask != null && (!Array.isArray(mask) || mask.length !== this.nvec.length)) {
      throw new SpaceError(`MultiDiscrete.sample: mask must be an array of ${this.nvec.length} per-component masks`);
    }
    for (let i = 0; i < out.length; i++) {
      const m = mask?.[i];
      if (m == null) {
        out[i] = this.start[i]! + this.rng.integer(this.nvec[i]!);
        continue;
      }
      const checked = checkMask(m, this.nvec[i]!, `MultiDiscrete.sample component ${i}`);
      const allowed: number[] = [];
      for (let j = 0; j < checked.length; j++) if (checked[j] === 1) allowed.push(j);
      out[i] = this.start[i]! + (allowed.length === 0 ? 0 : allowed[this.rng.integer(allowed.length)]!);
    }
    return out;
  }

  contains(x: unknown): x is Int32Array {
    if (!isNumericArrayLike(x) || x.length !== this.nvec.length) return false;
    for (let i = 0; i < x.length; i++) {
      const v = x[i]!;
      if (!Number.isInteger(v) || v < this.start[i]! || v >= this.start[i]! + this.nvec[i]!) return false;
    }
    return true;
  }

  get flatDim(): number {
    let s = 0;
    for (const n of this.nvec) s += n;
    return s;
  }

  toJSON(): SpaceJSON {
    return { type: 'MultiDiscrete', nvec: Array.from(this.nvec), start: Array.from(this.start), shape: [...this.shape] };
  }

  toString(): string {
    return `MultiDiscrete([${Array.from(this.nvec).join(' ')}])`;
  }
}

// ---------------------------------------------------------------------------------------------------------

/** Binary vectors (or arrays) of the given shape; values are Int8Array of 0/1. */
export class MultiBinary extends Space<Int8Array> {
  readonly shape: readonly number[];
  readonly size: number;

  constructor(n: number | readonly number[]) {
    super();
    this.shape = checkShape(typeof n === 'number' ? [n] : n, 'MultiBinary');
    this.size = product(this.shape);
    if (this.size === 0) throw new SpaceError('MultiBinary: shape must have at least one element');
  }

  /** `mask`: per element 0 (always 0), 1 (always 1) or 2 (random), as in Gymnasium. */
  sample(mask?: ArrayLike<number> | null): Int8Array {
    const out = new Int8Array(this.size);
    if (mask != null && (!isNumericArrayLike(mask) || mask.length !== this.size)) {
      throw new SpaceError(`MultiBinary.sample: mask must be an array of ${this.size} values in {0, 1, 2}`);
    }
    for (let i = 0; i < this.size; i++) {
      const m = mask?.[i] ?? 2;
      if (m !== 0 && m !== 1 && m !== 2) throw new SpaceError(`MultiBinary.sample: mask value ${m} at index ${i} is not 0, 1 or 2`);
      out[i] = m === 2 ? (this.rng.random() < 0.5 ? 0 : 1) : m;
    }
    return out;
  }

  contains(x: unknown): x is Int8Array {
    if (!isNumericArrayLike(x) || x.length !== this.size) return false;
    for (let i = 0; i < x.length; i++) if (x[i] !== 0 && x[i] !== 1) return false;
    return true;
  }

  get flatDim(): number {
    return this.size;
  }

  toJSON(): SpaceJSON {
    return { type: 'MultiBinary', shape: [...this.shape] };
  }

  toString(): string {
    return `MultiBinary(${this.shape.length === 1 ? this.shape[0] : `(${this.shape.join(', ')})`})`;
  }
}

// ---------------------------------------------------------------------------------------------------------

/** Seeds a list of subspaces: an integer seed derives one seed per subspace, an array gives them directly. */
function seedChildren(children: Space[], seed: number | readonly number[] | undefined, what: string): number[] {
  if (Array.isArray(seed)) {
    if (seed.length !== children.length) throw new SpaceError(`${what}.seed: expected ${children.length} seeds, got ${seed.length}`);
    return children.flatMap((c, i) => c.seed(seed[i]));
  }
  if (seed !== undefined) assertSeed(seed, `${what} seed`);
  const parent = new Rng(seed as number | undefined);
  return [parent.seed, ...children.flatMap((c) => c.seed(parent.spawnSeed()))];
}

export class Tuple extends Space<unknown[]> {
  readonly shape = null;

  constructor(readonly spaces: readonly Space[]) {
    super();
    if (!Array.isArray(spaces) || spaces.some((s) => !(s instanceof Space))) throw new SpaceError('Tuple: expected an array of spaces');
  }

  override seed(seed?: number | readonly number[]): number[] {
    return seedChildren([...this.spaces], seed, 'Tuple');
  }

  sample(mask?: readonly unknown[] | null): unknown[] {
    return this.spaces.map((s, i) => s.sample(mask?.[i] ?? null));
  }

  contains(x: unknown): x is unknown[] {
    return Array.isArray(x) && x.length === this.spaces.length && this.spaces.every((s, i) => s.contains(x[i]));
  }

  get flatDim(): number {
    return this.spaces.reduce((a, s) => a + s.flatDim, 0);
  }

  toJSON(): SpaceJSON {
    return { type: 'Tuple', spaces: this.spaces.map((s) => s.toJSON()) };
  }

  toString(): string {
    return `Tuple(${this.spaces.map(String).join(', ')})`;
  }
}

export class Dict extends Space<Record<string, unknown>> {
  readonly shape = null;

  constructor(readonly spaces: Readonly<Record<string, Space>>) {
    super();
    if (typeof spaces !== 'object' || spaces === null || Object.values(spaces).some((s) => !(s instanceof Space))) {
      throw new SpaceError('Dict: expected an object whose values are spaces');
    }
  }

  override seed(seed?: number | Readonly<Record<string, number>>): number[] {
    const keys = Object.keys(this.spaces);
    if (typeof seed === 'object' && seed !== null) {
      const extra = Object.keys(seed).filter((k) => !Object.hasOwn(this.spaces, k));
      if (extra.length) throw new SpaceError(`Dict.seed: unknown keys ${extra.join(', ')}`);
      return keys.flatMap((k) => this.spaces[k]!.seed(seed[k]));
    }
    return seedChildren(keys.map((k) => this.spaces[k]!), seed, 'Dict');
  }

  sample(mask?: Readonly<Record<string, unknown>> | null): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const [k, s] of Object.entries(this.spaces)) out[k] = s.sample(mask?.[k] ?? null);
    return out;
  }

  contains(x: unknown): x is Record<string, unknown> {
    if (typeof x !== 'object' || x === null || Array.isArray(x)) return false;
    const keys = Object.keys(this.spaces);
    if (Object.keys(x).length !== keys.length) return false;
    return keys.every((k) => Object.hasOwn(x, k) && this.spaces[k]!.contains((x as Record<string, unknown>)[k]));
  }

  get flatDim(): number {
    return Object.values(this.spaces).reduce((a, s) => a + s.flatDim, 0);
  }

  toJSON(): SpaceJSON {
    return { type: 'Dict', spaces: Object.fromEntries(Object.entries(this.spaces).map(([k, s]) => [k, s.toJSON()])) };
  }

  toString(): string {
    return `Dict(${Object.entries(this.spaces).map(([k, s]) => `${k}: ${s}`).join(', ')})`;
  }
}

/** Rebuilds a space from its JSON description. */
export function spaceFromJSON(json: SpaceJSON): Space {
  if (typeof json !== 'object' || json === null) throw new SpaceError(`spaceFromJSON: expected an object, got ${describeValue(json)}`);
  switch (json.type) {
    case 'Discrete':
      return new Discrete(json.n, json.start ?? 0);
    case 'Box':
      return new Box(
        json.low.map((v) => (v === null ? -Infinity : v)),
        json.high.map((v) => (v === null ? Infinity : v)),
        json.shape,
        json.dtype,
      );
    case 'MultiDiscrete':
      return new MultiDiscrete(json.nvec, json.start);
    case 'MultiBinary':
      return new MultiBinary(json.shape);
    case 'Tuple':
      return new Tuple(json.spaces.map(spaceFromJSON));
    case 'Dict':
      return new Dict(Object.fromEntries(Object.entries(json.spaces).map(([k, s]) => [k, spaceFromJSON(s)])));
    default:
      throw new SpaceError(`spaceFromJSON: unknown space type ${describeValue((json as { type?: unknown }).type)}`);
  }
}

/**
 * Writes the flat float representation of `x` into `out` at `offset` (one-hot for Discrete and
 * MultiDiscrete components) and returns the offset after it. Agents use this to feed networks.
 */
export function flattenInto(space: Space, x: unknown, out: Float32Array, offset = 0): number {
  if (space instanceof Discrete) {
    out.fill(0, offset, offset + space.n);
    out[offset + (x as number) - space.start] = 1;
    return offset + space.n;
  }
  if (space instanceof MultiDiscrete) {
    const v = x as ArrayLike<number>;
    for (let i = 0; i < space.nvec.length; i++) {
      out.fill(0, offset, offset + space.nvec[i]!);
      out[offset + v[i]! - space.start[i]!] = 1;
      offset += space.nvec[i]!;
    }
    return offset;
  }
  if (space instanceof Box || space instanceof MultiBinary) {
    const v = x as ArrayLike<number>;
    for (let i = 0; i < space.flatDim; i++) out[offset + i] = v[i]!;
    return offset + space.flatDim;
  }
  if (space instanceof Tuple) {
    const v = x as unknown[];
    space.spaces.forEach((s, i) => (offset = flattenInto(s, v[i], out, offset)));
    return offset;
  }
  if (space instanceof Dict) {
    const v = x as Record<string, unknown>;
    for (const [k, s] of Object.entries(space.spaces)) offset = flattenInto(s, v[k], out, offset);
    return offset;
  }
  throw new SpaceError(`flattenInto: unsupported space ${space}`);
}

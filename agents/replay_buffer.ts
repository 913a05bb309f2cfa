/**
 * Experience replay on typed arrays: a ring of (obs, action, reward, nextObs, done) rows. `done` marks
 * transitions that must not bootstrap (termination, not truncation, unless an agent chooses otherwise).
 * Saved and restored byte for byte with checkpoints.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Rng } from '../envs/index.js';
import { writeFileAtomic, readJson } from '../lab/fsutil.js';

export interface ReplaySample {
  obs: Float32Array;
  actions: Int32Array;
  rewards: Float32Array;
  nextObs: Float32Array;
  dones: Float32Array;
  /** Legal actions in nextObs, rows of `nActions` 0/1 values (all 1 for envs without masks). */
  nextMasks: Int8Array;
  indices: Int32Array;
}

export class ReplayBuffer {
  readonly obs: Float32Array;
  readonly nextObs: Float32Array;
  readonly actions: Int32Array;
  readonly rewards: Float32Array;
  readonly dones: Uint8Array;
  readonly nextMasks: Int8Array;
  /** Next row to write. */
  position = 0;
  /** Rows filled so far (≤ capacity). */
  size = 0;

  constructor(
    readonly capacity: number,
    readonly obsWidth: number,
    readonly nActions = 1,
  ) {
    if (!Number.isSafeInteger(capacity) || capacity <= 0) throw new Error(`replay buffer capacity must be a positive integer, got ${capacity}`);
    this.obs = new Float32Array(capacity * obsWidth);
    this.nextObs = new Float32Array(capacity * obsWidth);
    this.actions = new Int32Array(capacity);
    this.rewards = new Float32Array(capacity);
    this.dones = new Uint8Array(capacity);
    this.nextMasks = new Int8Array(capacity * nActions).fill(1);
  }

  /** Adds row `row` of a batch of observations (obs and nextObs are rows of width obsWidth). */
  add(obs: ArrayLike<number>, action: number, reward: number, nextObs: ArrayLike<number>, done: boolean, row = 0, nextMasks: ArrayLike<number> | null = null): void {
    const w = this.obsWidth;
    const p = this.position;
    for (let k = 0; k < w; k++) {
      this.obs[p * w + k] = obs[row * w + k]!;
      this.nextObs[p * w + k] = nextObs[row * w + k]!;
    }
    this.actions[p] = action;
    this.rewards[p] = reward;
    this.dones[p] = done ? 1 : 0;
    const k = this.nActions;
    for (let a = 0; a < k; a++) this.nextMasks[p * k + a] = nextMasks ? nextMasks[row * k + a]! : 1;
    this.position = (p + 1) % this.capacity;
    this.size = Math.min(this.size + 1, this.capacity);
  }

  /** `batchSize` rows drawn uniformly, with replacement (SB3) or without (the book's random.sample). */
  sample(batchSize: number, rng: Rng, replace = true, out?: ReplaySample): ReplaySample {
    if (this.size === 0) throw new Error('cannot sample from an empty replay buffer');
    if (!replace && batchSize > this.size) throw new Error(`cannot sample ${batchSize} distinct rows from ${this.size}`);
    const w = this.obsWidth;
    const s = out ?? {
      obs: new Float32Array(batchSize * w),
      nextObs: new Float32Array(batchSize * w),
      actions: new Int32Array(batchSize),
      rewards: new Float32Array(batchSize),
      dones: new Float32Array(batchSize),
      nextMasks: new Int8Array(batchSize * this.nActions),
      indices: new Int32Array(batchSize),
    };
    if (replace) {
      for (let i = 0; i < batchSize; i++) s.indices[i] = rng.integer(this.size);
    } else {
      // Partial Fisher–Yates over row indices.
      const pool = Int32Array.from({ length: this.size }, (_, i) => i);
      for (let i = 0; i < batchSize; i++) {
        const j = i + rng.integer(this.size - i);
        [pool[i], pool[j]] = [pool[j]!, pool[i]!];
        s.indices[i] = pool[i]!;
      }
    }
    for (let i = 0; i < batchSize; i++) {
      const r = s.indices[i]!;
      s.obs.set(this.obs.subarray(r * w, r * w + w), i * w);
      s.nextObs.set(this.nextObs.subarray(r * w, r * w + w), i * w);
      s.actions[i] = this.actions[r]!;
      s.rewards[i] = this.rewards[r]!;
      s.dones[i] = this.dones[r]!;
      s.nextMasks.set(this.nextMasks.subarray(r * this.nActions, (r + 1) * this.nActions), i * this.nActions);
    }
    return s;
  }

  /**
   * Writes the filled rows only (`size` of them: while the ring has not wrapped they are rows 0 … size − 1, after
   * that all of them), so a checkpoint early in a run with a large buffer is small. replay.bin holds each array's
   * first `rows` rows one after another (obs, nextObs, actions, rewards, dones, nextMasks); replay.json the shape,
   * `position`, `size` and `rows`.
   */
  save(dir: string): void {
    const rows = this.size;
    const parts = this.rowViews(rows);
    const bytes = parts.reduce((a, p) => a + p.byteLength, 0);
    const bin = new Uint8Array(bytes);
    let offset = 0;
    for (const p of parts) {
      bin.set(new Uint8Array(p.buffer, p.byteOffset, p.byteLength), offset);
      offset += p.byteLength;
    }
    writeFileAtomic(path.join(dir, 'replay.bin'), bin);
    writeFileAtomic(
      path.join(dir, 'replay.json'),
      JSON.stringify({ capacity: this.capacity, obsWidth: this.obsWidth, nActions: this.nActions, position: this.position, size: this.size, rows }) + '\n',
    );
  }

  /** Byte views of the first `rows` rows of each array, in file order. */
  private rowViews(rows: number): Uint8Array[] {
    const w = this.obsWidth;
    const k = this.nActions;
    return [this.obs.subarray(0, rows * w), this.nextObs.subarray(0, rows * w), this.actions.subarray(0, rows), this.rewards.subarray(0, rows), this.dones.subarray(0, rows), this.nextMasks.subarray(0, rows * k)].map(
      (a) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength),
    );
  }

  /** Restores what `save` wrote, exactly; also reads checkpoints from before `rows`, which held the whole capacity. */
  load(dir: string): void {
    const meta = readJson<{ capacity: number; obsWidth: number; nActions: number; position: number; size: number; rows?: number }>(path.join(dir, 'replay.json'), 'replay buffer file');
    if (meta.capacity !== this.capacity || meta.obsWidth !== this.obsWidth || meta.nActions !== this.nActions) {
      throw new Error(
        `replay buffer in ${dir} holds ${meta.capacity} rows of width ${meta.obsWidth} with ${meta.nActions} actions, expected ${this.capacity} of width ${this.obsWidth} with ${this.nActions}`,
      );
    }
    const rows = meta.rows ?? this.capacity;
    const valid = (n: unknown, max: number) => Number.isSafeInteger(n) && (n as number) >= 0 && (n as number) <= max;
    if (!valid(rows, this.capacity) || !valid(meta.size, this.capacity) || !valid(meta.position, this.capacity - 1) || rows < meta.size) {
      throw new Error(`replay buffer file ${path.join(dir, 'replay.json')} is inconsistent (rows ${meta.rows}, size ${meta.size}, position ${meta.position}, capacity ${meta.capacity})`);
    }
    const file = path.join(dir, 'replay.bin');
    const bin = fs.readFileSync(file);
    const parts = this.rowViews(rows);
    const expected = parts.reduce((a, p) => a + p.byteLength, 0);
    if (bin.byteLength !== expected) throw new Error(`replay buffer file ${file} has ${bin.byteLength} bytes, expected ${expected} (${rows} rows)`);
    let offset = 0;
    for (const p of parts) {
      p.set(bin.subarray(offset, offset + p.byteLength));
      offset += p.byteLength;
    }
    // Rows never written hold what a new buffer holds.
    const w = this.obsWidth;
    this.obs.fill(0, rows * w);
    this.nextObs.fill(0, rows * w);
    this.actions.fill(0, rows);
    this.rewards.fill(0, rows);
    this.dones.fill(0, rows);
    this.nextMasks.fill(1, rows * this.nActions);
    this.position = meta.position;
    this.size = meta.size;
  }
}

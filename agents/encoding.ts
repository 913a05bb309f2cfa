/**
 * From env observations to network inputs: Box observations are used as they are (flat, or [H, W, C] planes
 * for conv nets), Discrete observations become one-hot vectors. Observations travel as rows of a flat array
 * (one row per env, as vector envs return them).
 */
import { Box, Discrete, batchWidth, type Space } from '../envs/index.js';

export interface ObservationEncoder {
  /** Numbers per raw observation row (1 for Discrete). */
  readonly rawWidth: number;
  /** Shape of one encoded input, without the batch dimension. */
  readonly inputShape: number[];
  /** Numbers per encoded input. */
  readonly inputSize: number;
  /** True when inputs are [H, W, C] planes (use a conv net). */
  readonly image: boolean;
  /** Encodes `n` raw rows into `out` (length n × inputSize). */
  encode(raw: ArrayLike<number>, n: number, out?: Float32Array): Float32Array;
}

/** `flatten` feeds [H, W, C] planes to an MLP as one vector. */
export function observationEncoder(space: Space, flatten = false): ObservationEncoder {
  if (space instanceof Discrete) {
    const size = space.n;
    return {
      rawWidth: 1,
      inputShape: [size],
      inputSize: size,
      image: false,
      encode(raw, n, out = new Float32Array(n * size)) {
        out.fill(0, 0, n * size);
        for (let i = 0; i < n; i++) out[i * size + raw[i]! - space.start] = 1;
        return out;
      },
    };
  }
  if (space instanceof Box) {
    const size = space.size;
    const image = space.shape.length === 3 && !flatten;
    return {
      rawWidth: batchWidth(space),
      inputShape: image ? [...space.shape] : [size],
      inputSize: size,
      image,
      encode(raw, n, out = new Float32Array(n * size)) {
        if (raw instanceof Float32Array && raw.length >= n * size) out.set(raw.subarray(0, n * size));
        else for (let k = 0; k < n * size; k++) out[k] = raw[k]!;
        return out;
      },
    };
  }
  throw new Error(`agents support Discrete and Box observations, not ${space}`);
}

/** Number of actions of a Discrete action space, or an error for other spaces. */
export function discreteActions(space: Space): number {
  if (!(space instanceof Discrete) || space.start !== 0) throw new Error(`agents support Discrete(n) action spaces starting at 0, not ${space}`);
  return space.n;
}

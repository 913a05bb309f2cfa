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

/** An agent was given an action space it cannot act in (e.g. DQN on Pendulum's Box). */
export class ActionSpaceError extends Error {
  override name = 'ActionSpaceError';
  constructor(
    readonly space: Space,
    /** What the agent needs, e.g. "a Discrete action space". */
    readonly needs: string,
  ) {
    super(`needs ${needs}, not ${space}`);
  }

  /** The one-line message for a user: "dqn needs a Discrete action space; Pendulum-v1 has Box(-2, 2, (1,), float32)". */
  forRun(agent: string, envId: string): string {
    return `${agent} needs ${this.needs}; ${envId} has ${this.space}`;
  }
}

/** Number of actions of a Discrete action space, or an ActionSpaceError for other spaces (Box: continuous actions). */
export function discreteActions(space: Space): number {
  if (!(space instanceof Discrete)) throw new ActionSpaceError(space, 'a Discrete action space');
  if (space.start !== 0) throw new ActionSpaceError(space, 'a Discrete(n) action space starting at 0');
  return space.n;
}

/**
 * What a saved policy means, without tfjs and without Node: how an env observation becomes the network's input
 * (Discrete → one-hot, Box → as is, [H, W, C] planes for conv nets; PPO's saved observation statistics applied
 * first) and how the network's output becomes the greedy action (argmax over the legal actions; for a Box action
 * space the outputs themselves, a Gaussian policy's mean, which the env clips). `lab eval` (agents/policy_loader.ts),
 * the agents (agents/encoding.ts re-exports the encoder), the viewer's Play page and `lab export --html` pages all
 * use this one file, so a policy acts the same wherever it runs.
 *
 * Files a policy directory holds besides model.json and weights.bin (lab/layers_model.ts writes them):
 *   lab.json                  `{ format, spec: { inputShape, layers }, policy: { envId, envKwargs, agent, preset,
 *                             observationSpace, actionSpace, step, obsNormalization } }`
 *   obs_normalization.json    `{ format: 'rl-gan-lab/obs-normalization@1', mean, var, count, epsilon, clip }` (PPO)
 */
import { Box, Discrete, spaceFromJSON, type Space, type SpaceJSON } from '../envs/spaces.js';
import { batchWidth } from '../envs/vector.js';
import { normalizeRows, RunningMeanStd, type RunningMeanStdState } from '../envs/normalize.js';

/** Where a saved PPO policy keeps the observation statistics its inputs were normalised with. */
export const OBS_NORMALIZATION_FILE = 'obs_normalization.json';
export const OBS_NORMALIZATION_FORMAT = 'rl-gan-lab/obs-normalization@1';

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

/**
 * From env observations to network inputs. Observations travel as rows of a flat array (one row per env, as
 * vector envs return them). `flatten` feeds [H, W, C] planes to an MLP as one vector.
 */
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

/** The observation normalisation saved beside a policy. */
export interface ObsNormalization {
  rms: RunningMeanStd;
  epsilon: number;
  clip: number | null;
}

/** The parsed `obs_normalization.json` (`where` names the file in errors). */
export function parseObsNormalization(json: unknown, where: string): ObsNormalization {
  const j = json as ({ format?: unknown; epsilon?: unknown; clip?: unknown } & RunningMeanStdState) | null;
  if (j === null || typeof j !== 'object' || j.format !== OBS_NORMALIZATION_FORMAT || typeof j.epsilon !== 'number') {
    throw new Error(`${where} is not an observation normalisation file (expected format '${OBS_NORMALIZATION_FORMAT}')`);
  }
  return { rms: RunningMeanStd.fromJSON(j, where), epsilon: j.epsilon, clip: typeof j.clip === 'number' ? j.clip : null };
}

/** What a policy's lab.json says it acts on (`policy` field). */
export interface PolicyMeta {
  envId: string;
  envKwargs: Record<string, unknown>;
  agent: string;
  preset: string | null;
  observationSpace: SpaceJSON;
  actionSpace: SpaceJSON;
  /** The training step the policy was saved at. */
  step: number;
  /** Whether obs_normalization.json is beside it; null in lab.json files written before the lab said so. */
  obsNormalization: boolean | null;
}

/** The parts of lab.json a page needs: the network's input shape and what the policy acts on. */
export interface PolicyLabJson {
  spec: { inputShape: number[]; layers: { type: string; units?: number }[] };
  policy: PolicyMeta;
}

/** lab.json of a policy directory, checked (`where` names the file in errors). */
export function parsePolicyLabJson(json: unknown, where: string): PolicyLabJson {
  const j = json as { spec?: { inputShape?: unknown; layers?: unknown }; policy?: Partial<PolicyMeta> } | null;
  const fail = (what: string): never => {
    throw new Error(`${where}: ${what}`);
  };
  if (j === null || typeof j !== 'object') fail('expected a JSON object');
  const spec = j!.spec;
  if (!spec || !Array.isArray(spec.inputShape) || !spec.inputShape.every((d) => Number.isSafeInteger(d) && (d as number) > 0)) fail('spec.inputShape: expected positive integers');
  if (!Array.isArray(spec!.layers) || spec!.layers.length === 0) fail('spec.layers: expected a list of layers');
  const p = j!.policy;
  if (!p || typeof p !== 'object') fail('no "policy" field (a policy saved before lab.json described its env: retrain, or evaluate it with lab eval --env)');
  if (typeof p!.envId !== 'string' || p!.envId === '') fail('policy.envId: expected a string');
  if (!p!.observationSpace || typeof p!.observationSpace !== 'object') fail('policy.observationSpace: expected a space');
  if (!p!.actionSpace || typeof p!.actionSpace !== 'object') fail('policy.actionSpace: expected a space');
  return {
    spec: spec as PolicyLabJson['spec'],
    policy: {
      envId: p!.envId!,
      envKwargs: p!.envKwargs && typeof p!.envKwargs === 'object' ? p!.envKwargs : {},
      agent: typeof p!.agent === 'string' ? p!.agent : 'unknown',
      preset: typeof p!.preset === 'string' ? p!.preset : null,
      observationSpace: p!.observationSpace!,
      actionSpace: p!.actionSpace!,
      step: typeof p!.step === 'number' ? p!.step : 0,
      obsNormalization: typeof p!.obsNormalization === 'boolean' ? p!.obsNormalization : null,
    },
  };
}

/**
 * The env options a saved policy plays with outside training (the Play page, exported pages): a self-play Go
 * opponent would be the policy itself, so it plays the random one (as lab eval and lab watch do).
 */
export function playEnvKwargs(envKwargs: Record<string, unknown>): Record<string, unknown> {
  return envKwargs['opponent'] === 'self' ? { ...envKwargs, opponent: 'random' } : envKwargs;
}

/** Units of a network's last dense layer (its outputs per row), 0 when it ends otherwise. */
export function outputUnits(spec: PolicyLabJson['spec']): number {
  const last = spec.layers.at(-1)!;
  return last.type === 'dense' && typeof last.units === 'number' ? last.units : 0;
}

/** Index of the highest score among the legal actions of row `i` (masks: 1 = allowed; none: all allowed). */
export function greedyAction(scores: ArrayLike<number>, i: number, nActions: number, masks?: ArrayLike<number> | null): number {
  let best = 0;
  let bestScore = -Infinity;
  for (let a = 0; a < nActions; a++) {
    if (masks && masks[i * nActions + a] !== 1) continue;
    if (scores[i * nActions + a]! > bestScore) [best, bestScore] = [a, scores[i * nActions + a]!];
  }
  return best;
}

/**
 * A saved policy's inputs and greedy actions (the network itself is the caller's: tfjs in Node or in a page).
 * `inputs` encodes (and normalises) observation rows; `actions` turns the network's output rows into actions.
 */
export class GreedyPolicyIO {
  readonly encoder: ObservationEncoder;
  readonly continuous: boolean;
  /** Network outputs per row: Q-values or logits of each action, or the Box action's mean. */
  readonly outputsPerRow: number;

  constructor(
    readonly observationSpace: Space,
    readonly actionSpace: Space,
    /** The network's input shape (without the batch dimension): a flat one feeds planes to an MLP. */
    networkInputShape: readonly number[],
    outputsPerRow: number,
    readonly normalization: ObsNormalization | null = null,
  ) {
    this.encoder = observationEncoder(observationSpace, networkInputShape.length === 1);
    this.continuous = actionSpace instanceof Box;
    this.outputsPerRow = outputsPerRow;
    if (!this.continuous && !(actionSpace instanceof Discrete)) throw new Error(`a saved policy acts in Discrete or Box action spaces, not ${actionSpace}`);
    if (normalization && normalization.rms.size !== this.encoder.inputSize) {
      throw new Error(`the observation statistics have ${normalization.rms.size} entries, the policy's input ${this.encoder.inputSize}`);
    }
  }

  /** From a policy's lab.json (parsed) and its observation statistics. */
  static fromLabJson(lab: PolicyLabJson, normalization: ObsNormalization | null = null): GreedyPolicyIO {
    return new GreedyPolicyIO(spaceFromJSON(lab.policy.observationSpace), spaceFromJSON(lab.policy.actionSpace), lab.spec.inputShape, outputUnits(lab.spec), normalization);
  }

  /** Network inputs for `n` observation rows: encoded, then normalised when the policy was trained so. */
  inputs(obs: ArrayLike<number>, n: number): Float32Array {
    const x = this.encoder.encode(obs, n);
    const norm = this.normalization;
    if (norm) normalizeRows(norm.rms, x, n, norm.epsilon, norm.clip, x);
    return x;
  }

  /** Greedy actions from `n` output rows: argmax over the legal actions, or the Box mean (the env clips it). */
  actions(scores: ArrayLike<number>, n: number, masks?: ArrayLike<number> | null): Int32Array | Float32Array {
    if (this.continuous) return Float32Array.from({ length: n * this.outputsPerRow }, (_, k) => scores[k]!);
    const actions = new Int32Array(n);
    for (let i = 0; i < n; i++) actions[i] = greedyAction(scores, i, this.outputsPerRow, masks);
    return actions;
  }
}

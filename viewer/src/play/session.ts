/**
 * A trained policy playing its env inside the page (the Play page and `lab export --html` files): the env is the
 * lab's own TypeScript env (envs/browser.ts, the same code `lab eval` steps in Node), the network runs on the
 * page's tfjs (net/tf_runtime.ts: WebGPU or wasm), and inputs and greedy actions come from
 * protocol/saved_policy.ts, so the page acts exactly as `lab eval` does. No DOM here.
 *
 * Episode k (0, 1, …) of a session is reset with seed + k, as `lab watch` seeds its episodes.
 */
import { make, type Env } from '../../../envs/browser.js';
import type { RenderFrame } from '../../../envs/frames.js';
import { GreedyPolicyIO, parseObsNormalization, parsePolicyLabJson, playEnvKwargs, type PolicyLabJson } from '../../../protocol/saved_policy.js';
import type { StepFrame } from '../../../protocol/protocol.js';
import { modelFromMemory, type LayersModel, type TfRuntime } from '../net/tf_runtime.js';

/** A policy directory's files, as a page gets them (fetched from the server, or inline in an exported file). */
export interface PolicyFiles {
  /** model.json, parsed (tfjs Layers format). */
  modelJson: { modelTopology: unknown; weightsManifest: { paths: string[]; weights: { name: string; shape: number[]; dtype: string }[] }[] };
  /** weights.bin. */
  weights: ArrayBuffer;
  /** lab.json, parsed. */
  labJson: unknown;
  /** obs_normalization.json, parsed, or null when the policy has none. */
  obsNormalization: unknown;
}

/** The final policy (`policy/`) or the best evaluated one (`best_policy/`). */
export type PolicyChoice = 'policy' | 'best_policy';

/** How an episode that just finished ended. */
export interface EpisodeResult {
  episode: number;
  seed: number;
  return: number;
  length: number;
  /** 'terminated' (the env's end), 'truncated' (its time limit). */
  ended: 'terminated' | 'truncated';
}

/** A loaded policy: its network, what it acts on, and how its inputs and actions are computed. */
export class LoadedPolicy {
  private constructor(
    readonly runtime: TfRuntime,
    readonly model: LayersModel,
    readonly lab: PolicyLabJson,
    readonly io: GreedyPolicyIO,
  ) {}

  /** Builds the network from the files' contents (no further fetches) and checks lab.json. */
  static async load(runtime: TfRuntime, files: PolicyFiles, where: string): Promise<LoadedPolicy> {
    const lab = parsePolicyLabJson(files.labJson, `${where}/lab.json`);
    const norm = files.obsNormalization === null ? null : parseObsNormalization(files.obsNormalization, `${where}/obs_normalization.json`);
    const io = GreedyPolicyIO.fromLabJson(lab, norm);
    const model = await modelFromMemory(runtime, files.modelJson as Parameters<typeof modelFromMemory>[1], files.weights);
    return new LoadedPolicy(runtime, model, lab, io);
  }

  /** Greedy action for one observation (an index, or a Box action's numbers), read back asynchronously (WebGPU). */
  async act(obs: unknown, mask: ArrayLike<number> | null): Promise<number | number[]> {
    const tf = this.runtime.tf;
    const row = typeof obs === 'number' ? Int32Array.of(obs) : (obs as ArrayLike<number>);
    const x = this.io.inputs(row, 1);
    const out = tf.tidy(() => this.model.predict(tf.tensor(x, [1, ...this.io.encoder.inputShape])) as ReturnType<typeof tf.tensor>);
    const scores = await out.data();
    out.dispose();
    const actions = this.io.actions(scores as Float32Array, 1, mask);
    return actions instanceof Int32Array ? actions[0]! : Array.from(actions);
  }

  dispose(): void {
    this.model.dispose();
  }
}

/** The env and policy of one play session; `step()` advances one env step and returns the frame to draw. */
export class PlaySession {
  readonly env: Env;
  readonly envId: string;
  /** The env's render fps (real-time speed). */
  readonly fps: number;
  readonly maxEpisodeSteps: number | null;
  private obs: unknown = null;
  private info: Record<string, unknown> = {};
  private episode = 0;
  private episodeStep = 0;
  private episodeReturn = 0;
  private totalSteps = 0;
  private needsReset = true;
  private current: StepFrame | null = null;
  /** Episodes finished in this session, oldest first. */
  readonly results: EpisodeResult[] = [];

  constructor(
    readonly policy: LoadedPolicy,
    /** Seed of the first episode; episode k is reset with seed + k. */
    readonly seed: number,
  ) {
    const meta = policy.lab.policy;
    this.envId = meta.envId;
    this.env = make(meta.envId, { ...playEnvKwargs(meta.envKwargs), renderMode: 'json' });
    this.fps = this.env.metadata.renderFps && this.env.metadata.renderFps > 0 ? this.env.metadata.renderFps : 30;
    this.maxEpisodeSteps = this.env.spec?.maxEpisodeSteps ?? null;
  }

  /** The frame on screen: the reset's, or the last step's. */
  get frame(): StepFrame | null {
    return this.current;
  }

  /** The episode in progress has ended (its last frame is on screen); the next step() starts the next one. */
  get episodeOver(): boolean {
    return this.needsReset && this.current !== null;
  }

  /** Starts episode `this.episode` (seeded seed + episode index) and returns its first frame. */
  reset(): StepFrame {
    const [obs, info] = this.env.reset({ seed: this.seed + this.episode });
    this.obs = obs;
    this.info = info as Record<string, unknown>;
    this.episodeStep = 0;
    this.episodeReturn = 0;
    this.needsReset = false;
    this.current = this.frameOf(0, 0, false, false);
    return this.current;
  }

  /** One env step with the policy's greedy action (a reset first when an episode ended or none began). */
  async step(): Promise<StepFrame> {
    if (this.needsReset) {
      if (this.current !== null) this.episode++;
      return this.reset();
    }
    const mask = this.info['actionMask'] as ArrayLike<number> | undefined;
    const action = await this.policy.act(this.obs, mask ?? null);
    const [obs, reward, terminated, truncated, info] = this.env.step(action);
    this.obs = obs;
    this.info = info as Record<string, unknown>;
    this.episodeStep++;
    this.totalSteps++;
    this.episodeReturn += reward;
    this.current = this.frameOf(action, reward, terminated, truncated);
    if (terminated || truncated) {
      this.needsReset = true;
      this.results.push({ episode: this.episode + 1, seed: this.seed + this.episode, return: this.episodeReturn, length: this.episodeStep, ended: terminated ? 'terminated' : 'truncated' });
    }
    return this.current;
  }

  close(): void {
    this.env.close();
  }

  private frameOf(action: number | number[], reward: number, terminated: boolean, truncated: boolean): StepFrame {
    const frame = this.env.render() as RenderFrame | string | null;
    return {
      step: this.totalSteps,
      episode: this.episode + 1,
      episodeStep: this.episodeStep,
      action,
      reward,
      episodeReturn: this.episodeReturn,
      terminated,
      truncated,
      t: Date.now(),
      frame: frame && typeof frame === 'object' ? frame : null,
    };
  }
}

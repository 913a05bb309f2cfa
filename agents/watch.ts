/**
 * Watching a trained policy: the greedy policy of a run (or checkpoint, or model) plays episodes of its env at
 * the env's real-time speed, each step emitted with its render frame to an event sink (a live publisher), like
 * a training run's watched episodes. While nobody watches, it waits instead of playing, so a watcher left
 * running (the server keeps one for its finished demo run) costs nothing.
 */
import { make, GoVsOpponentEnv, toRenderFrame, type Env } from '../envs/index.js';
import type { EventSink, TrainEvent } from '../protocol/events.js';
import { loadGreedyPolicy } from './policy_loader.js';
import { loadGoOpponent } from './go/opponents.js';
import { actionOf, evaluationEnvKwargs } from './training.js';
import { andThen, type MaybePromise } from '../lab/maybe_async.js';

export interface WatchPolicyOptions {
  /** A run directory, <run>/best_policy, a checkpoint or a model directory (with envId). */
  target: string;
  envId?: string;
  /** Episodes to play; 0 plays on until `shouldStop`. */
  episodes: number;
  /** Episode k is seeded seed + k. */
  seed: number;
  /** Frames per second (default: the env's render fps). */
  fps?: number;
  /** Where the steps and episodes go; `wantsSteps` false pauses play (nobody watches). */
  sink: EventSink;
  shouldStop?: () => boolean;
  /** Called when play pauses because nobody watches (once per pause). */
  onWaiting?: () => void;
  /** Called once the policy and env are loaded, with what will be played. */
  onStart?: (what: { envId: string; envKwargs: Record<string, unknown>; fps: number; maxEpisodeSteps: number | null }) => void;
}

export interface WatchResult {
  episodes: number;
  returns: number[];
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** A trained greedy policy ready to play single envs: what `lab watch` and `lab eval --render` play. */
export interface GreedyPlayer {
  envId: string;
  /** The env options to play with (evaluation's: a self-play opponent becomes the random one). */
  envKwargs: Record<string, unknown>;
  modelDir: string;
  /** Gives a Go env its saved `agent:<dir>` opponent (other envs: nothing to do). */
  attach(env: Env): void;
  /**
   * The greedy action for one observation (a Discrete observation is a bare number) under its info's mask: an
   * index for Discrete action spaces, the row of numbers for Box ones (the env clips it).
   */
  act(obs: unknown, info: Record<string, unknown>): MaybePromise<number | number[]>;
  dispose(): void;
}

/** Loads the greedy policy of a run, checkpoint or model (the backend must be initialised) and its opponent. */
export async function loadGreedyPlayer(target: string, envId?: string): Promise<GreedyPlayer> {
  const { policy, resolved, dispose } = loadGreedyPolicy(target, envId);
  const envKwargs = evaluationEnvKwargs(resolved.envKwargs);
  const spec = envKwargs['opponent'];
  let opponent;
  try {
    opponent = typeof spec === 'string' && spec.startsWith('agent:') ? await loadGoOpponent(spec.slice('agent:'.length)) : null;
  } catch (e) {
    dispose();
    throw e;
  }
  return {
    envId: resolved.envId,
    envKwargs,
    modelDir: resolved.modelDir,
    attach(env) {
      const u = env.unwrapped;
      if (opponent && u instanceof GoVsOpponentEnv && u.attachable) u.attachOpponent(opponent.policy);
    },
    act(obs, info) {
      const mask = info['actionMask'] as ArrayLike<number> | undefined;
      // A batch of one, as the vector envs hand the policy.
      const batch = (typeof obs === 'number' ? Int32Array.of(obs) : obs) as Parameters<typeof policy.act>[0];
      return andThen(policy.act(batch, 1, false, mask ? Int8Array.from(mask) : null), (actions) => actionOf(actions, 0, 1));
    },
    dispose() {
      dispose();
      opponent?.dispose();
    },
  };
}

export async function watchPolicy(options: WatchPolicyOptions): Promise<WatchResult> {
  if (!Number.isSafeInteger(options.episodes) || options.episodes < 0) throw new Error(`episodes must be an integer ≥ 0 (0: until stopped), got ${options.episodes}`);
  const player = await loadGreedyPlayer(options.target, options.envId);
  const { envId, envKwargs } = player;
  let env: Env | null = null;
  try {
    env = make(envId, { ...envKwargs, renderMode: 'json' });
    player.attach(env);
    const fps = options.fps ?? env.metadata.renderFps ?? 30;
    if (!(fps > 0)) throw new Error(`fps must be positive, got ${fps}`);
    options.onStart?.({ envId, envKwargs, fps, maxEpisodeSteps: env.spec?.maxEpisodeSteps ?? null });
    const emit = (e: TrainEvent) => options.sink.handle(e);
    const stopped = () => options.shouldStop?.() ?? false;
    const returns: number[] = [];
    let step = 0;
    let waitingSaid = false;
    const started = performance.now();
    for (let k = 0; options.episodes === 0 || k < options.episodes; k++) {
      let [obs, info] = env.reset({ seed: options.seed + k });
      let total = 0;
      let length = 0;
      for (;;) {
        if (stopped()) return { episodes: returns.length, returns };
        if (options.sink.wantsSteps === false) {
          if (!waitingSaid) options.onWaiting?.();
          waitingSaid = true;
          await sleep(250);
          continue;
        }
        waitingSaid = false;
        const tick = performance.now();
        const action = await player.act(obs, info);
        const [next, reward, terminated, truncated, nextInfo] = env.step(action);
        total += reward;
        length++;
        step++;
        emit({ type: 'step', step, episode: k + 1, episodeStep: length, action, reward, episodeReturn: total, terminated, truncated, t: Date.now(), frame: toRenderFrame(env.render()) });
        if (terminated || truncated) {
          returns.push(total);
          emit({ type: 'episode', step, episode: k + 1, envIndex: 0, return: total, length, terminated, truncated, time: (performance.now() - started) / 1000 });
          // A beat on the final frame before the next episode starts.
          await sleep(1000);
          break;
        }
        obs = next;
        info = nextInfo;
        await sleep(Math.max(0, 1000 / fps - (performance.now() - tick)));
      }
    }
    return { episodes: returns.length, returns };
  } finally {
    env?.close();
    player.dispose();
  }
}

/**
 * Starting, resuming and evaluating training runs: resolves the agent's preset and hyperparameters, sets up
 * the compute backend, creates the run directory and drives the shared training loop (agents/training.ts).
 */
import { make, registration, resolveEnvId } from '../envs/index.js';
import { initCompute, syncReads, tf, type BackendChoice } from '../lab/compute.js';
import type { GoOpponent } from '../envs/index.js';
import fs from 'node:fs';
import path from 'node:path';
import { RunStore, defaultCheckpointEvery, newRunConfig, readMetricsFile, runStamp, type RunConfig } from '../lab/run_store.js';
import { Trainer, evaluateGreedy, type TrainResult } from './training.js';
import type { EventSink } from '../protocol/events.js';
import type { RunInfo } from '../protocol/protocol.js';
import { resolveReplayConfig, type ReplayConfig } from '../lab/replay.js';
import { agentEntry, findPreset, resolveAgentConfig } from './registry.js';
import { checkedRlConfig, loadGreedyPolicy } from './policy_loader.js';
import { loadGoOpponent } from './go/opponents.js';
import { readZooConf } from './zoo_conf.js';
import { importPlugins, loadRecordedPlugins, loadRunPlugins, pluginRecordsFor } from './plugins.js';
import { ActionSpaceError } from './encoding.js';
import type { Agent, AgentSetup } from './agent.js';

export interface StartOptions {
  /** A registered id, or Gymnasium's `module:EnvId` (the module is imported first and recorded with the run). */
  envId?: string;
  agent: string;
  /** Plug-in modules to import first (`--import`); those the run's env or agent come from are recorded in config.json. */
  imports?: string[];
  preset?: string;
  /** An rl-baselines3-zoo hyperparameter file (agents/zoo_conf.ts): its section for the env gives the hyperparameters (no preset). */
  conf?: string;
  seed: number;
  steps?: number;
  episodes?: number | null;
  evalEvery?: number;
  evalEpisodes?: number;
  /** Env steps between checkpoints (0: only at the end); default `rlCheckpointEvery(steps)`. */
  checkpointEvery?: number;
  /** Directory that holds run directories. */
  out?: string;
  runId?: string;
  backend?: BackendChoice;
  overrides?: Record<string, unknown>;
  envKwargs?: Record<string, unknown>;
  /** Replay logs to write (defaults: every evaluation episode, training episodes on the capped cubic schedule). */
  replays?: Partial<ReplayConfig>;
  sinks?: EventSink[];
  command?: string;
  shouldStop?: () => boolean;
  /** Called once the run directory exists and the backend is chosen (the CLI prints it). */
  onStart?: (config: RunConfig, runDir: string) => void;
}

export interface RunOutcome {
  runDir: string;
  config: RunConfig;
  result: TrainResult;
  /**
   * `resumeTraining` of a run already at its step budget (its newest checkpoint is at or past it): nothing was
   * trained and nothing written (but see `policyWritten`); `result` is what the run holds.
   */
  alreadyDone?: boolean;
  /**
   * The finished run had no `policy/` (its process ended between the final checkpoint and the policy): resume
   * wrote it from the final checkpoint, which holds the same weights, and changed nothing else.
   */
  policyWritten?: boolean;
}

/** The longest default interval between checkpoints of an RL run, in env steps. */
export const RL_CHECKPOINT_EVERY = 10_000;

/**
 * The default checkpoint interval of an RL run of `steps` env steps: a tenth of the run (so a kill -9 loses at
 * most about a tenth of it), at most RL_CHECKPOINT_EVERY, at least 100 steps.
 */
export function rlCheckpointEvery(steps: number): number {
  return defaultCheckpointEvery(steps, RL_CHECKPOINT_EVERY, 100);
}

function positiveInt(value: number, what: string, allowZero = false): number {
  if (!Number.isSafeInteger(value) || value < (allowZero ? 0 : 1)) throw new Error(`${what} must be a ${allowZero ? 'non-negative' : 'positive'} integer, got ${value}`);
  return value;
}

/**
 * The agent for the env's spaces; an agent that cannot act in them fails with one line naming both
 * ("dqn needs a Discrete action space; Pendulum-v1 has Box(-2, 2, (1,), float32)").
 */
function createAgent(
  name: string,
  entry: ReturnType<typeof agentEntry>,
  envId: string,
  envKwargs: Record<string, unknown>,
  setup: Omit<AgentSetup, 'observationSpace' | 'actionSpace'>,
  hyperparameters: Record<string, unknown>,
  opponent?: { dispose(): void } | null,
): Agent {
  const probe = make(envId, envKwargs);
  try {
    return entry.create({ observationSpace: probe.observationSpace, actionSpace: probe.actionSpace, ...setup }, hyperparameters);
  } catch (e) {
    opponent?.dispose();
    throw e instanceof ActionSpaceError ? new Error(e.forRun(name, envId)) : e;
  } finally {
    probe.close();
  }
}

/** Creates a run directory and trains in it. */
export async function startTraining(options: StartOptions): Promise<RunOutcome> {
  await importPlugins(options.imports ?? []);
  const givenEnvId = options.envId !== undefined ? await resolveEnvId(options.envId) : undefined;
  const entry = agentEntry(options.agent);
  // --conf replaces the preset the env would pick.
  const found = options.conf !== undefined && options.preset === undefined ? null : findPreset(options.agent, givenEnvId, options.preset);
  const train = found?.preset.train ?? {};
  const envId = givenEnvId ?? train.envId;
  if (!envId) throw new Error('no environment given: pass --env (e.g. --env CartPole-v1)');
  registration(envId); // unknown ids fail here with a suggestion
  if (options.conf !== undefined && found) throw new Error('--conf gives the hyperparameters: it cannot be combined with a preset');
  // --conf: the zoo section (and SB3's defaults) stand in for a preset; --set still wins.
  const zoo = options.conf !== undefined ? readZooConf(options.conf, envId, options.agent) : null;
  const imports = await pluginRecordsFor(envId, options.agent);
  const hyperparameters = resolveAgentConfig(options.agent, found?.preset ?? null, { ...(zoo?.hyperparameters ?? {}), ...(options.overrides ?? {}) });
  const seed = positiveInt(options.seed, 'seed', true);
  const steps = positiveInt(options.steps ?? zoo?.steps ?? train.steps ?? 100_000, 'steps');
  const episodes = options.episodes !== undefined ? options.episodes : (train.episodes ?? null);
  if (episodes !== null) positiveInt(episodes, 'episodes');
  const evalEvery = positiveInt(options.evalEvery ?? train.evalEvery ?? 5000, 'evalEvery', true);
  const evalEpisodes = positiveInt(options.evalEpisodes ?? train.evalEpisodes ?? 10, 'evalEpisodes');
  const checkpointEvery = positiveInt(options.checkpointEvery ?? rlCheckpointEvery(steps), 'checkpointEvery', true);
  const envKwargs = { ...(train.envKwargs ?? {}), ...(options.envKwargs ?? {}) };
  const replays = resolveReplayConfig(options.replays);

  // A Go env asks a network opponent for moves synchronously, inside step(): auto then keeps to backends that can.
  const opponentSpec = envKwargs['opponent'];
  const networkOpponent = typeof opponentSpec === 'string' && (opponentSpec === 'self' || opponentSpec.startsWith('agent:'));
  const compute = await initCompute(options.backend ?? 'auto', networkOpponent ? { needsSyncReads: `the Go opponent '${opponentSpec}' is asked for moves synchronously` } : {});
  const numEnvs = typeof hyperparameters.numEnvs === 'number' ? hyperparameters.numEnvs : 1;
  const config: RunConfig = {
    ...newRunConfig('rl', {
      runId: options.runId ?? `${envId}-${options.agent}${found ? `-${found.name}` : ''}-s${seed}-${runStamp()}`,
      hyperparameters,
      seed,
      requestedBackend: options.backend ?? 'auto',
      compute,
      ...(options.command !== undefined ? { command: options.command } : {}),
    }),
    envId,
    envKwargs,
    agent: options.agent,
    preset: found?.name ?? null,
    steps,
    episodes,
    numEnvs,
    evalEvery,
    evalEpisodes,
    evalSeed: 1_000_000,
    checkpointEvery,
    replays,
    ...(zoo ? { hyperparameterFile: { path: path.resolve(zoo.file), section: zoo.section } } : {}),
    ...(imports.length ? { imports } : {}),
  };
  // A bad agent:<dir> opponent, or an agent that cannot act in the env, fails before the run directory exists.
  const opponent = await loadOpponentFor(envKwargs, true);
  const agent = createAgent(options.agent, entry, envId, envKwargs, { numEnvs, totalSteps: steps, seed }, hyperparameters, opponent);
  let store: RunStore;
  try {
    store = RunStore.create(options.out ?? 'runs', config);
  } catch (e) {
    agent.dispose();
    opponent?.dispose();
    throw e;
  }
  options.onStart?.(config, store.dir);
  const trainer = new Trainer({ config, agent, store, sinks: options.sinks ?? [], ...(options.shouldStop ? { shouldStop: options.shouldStop } : {}), ...(opponent ? { goOpponent: opponent.policy } : {}) });
  try {
    trainer.begin();
    const result = await trainer.run();
    return { runDir: store.dir, config, result };
  } finally {
    trainer.close();
    agent.dispose();
    opponent?.dispose();
  }
}

/** Continues a run from its latest checkpoint, exactly; `steps` may raise the budget. */
export async function resumeTraining(
  runDir: string,
  options: {
    backend?: BackendChoice;
    steps?: number;
    /** Plug-in modules to import first (a recorded module's new place, when it moved). */
    imports?: string[];
    sinks?: EventSink[];
    shouldStop?: () => boolean;
    onStart?: (config: RunConfig, runDir: string) => void;
    /** Where resume says what it passed over (a damaged newest checkpoint); default: stderr. */
    onWarning?: (message: string) => void;
  } = {},
): Promise<RunOutcome> {
  const store = RunStore.open(runDir, 'rl');
  const config = checkedRlConfig(runDir);
  if (config.script !== undefined) throw new Error(`${runDir} was written by the training script ${config.script}: resume it with that script (ScriptRun.resume), not lab train`);
  await importPlugins(options.imports ?? []);
  const imports = await loadRecordedPlugins(config.imports, `run ${runDir}`);
  // A module given at its new place (--import) is where the run finds it from now on.
  const movedImports = imports.length > 0 && imports.some((r, i) => r.module !== config.imports![i]!.module);
  if (movedImports) config.imports = imports;
  if (options.steps !== undefined) config.steps = positiveInt(options.steps, 'steps');
  // A finished run (a step budget, its final checkpoint at or past it) stays as it is: resuming it would cut
  // metrics.jsonl back to that checkpoint and write the final evaluation again. Only a missing policy/ is written.
  const latest = store.latestCheckpoint();
  const finished = config.episodes === null && latest !== null && latest.at >= config.steps;
  if (finished && fs.existsSync(path.join(runDir, 'policy'))) {
    return { runDir, config, result: finishedResult(runDir, latest.at), alreadyDone: true };
  }
  // One process trains a run at a time: a second one is refused here, before its backend starts (the Trainer
  // holds the claim from now on and gives it up in close()).
  store.claimWriter();
  let agent: Agent | null = null;
  let opponent: Awaited<ReturnType<typeof loadOpponentFor>> = null;
  let trainer: Trainer;
  try {
    // The same backend as before, unless told otherwise: numbers differ between backends.
    const compute = await initCompute(options.backend ?? (config.backend.backend as BackendChoice));
    options.onStart?.(config, runDir);
    const entry = agentEntry(config.agent);
    agent = createAgent(config.agent, entry, config.envId, config.envKwargs, { numEnvs: config.numEnvs, totalSteps: config.steps, seed: config.seed }, config.hyperparameters);
    if (compute.backend !== config.backend.backend) {
      process.emitWarning(`resuming on backend ${compute.backend}, the run started on ${config.backend.backend}: results will not match an uninterrupted run exactly`);
    }
    opponent = await loadOpponentFor(config.envKwargs, true);
    trainer = new Trainer({
      config,
      agent,
      store,
      sinks: options.sinks ?? [],
      ...(options.shouldStop ? { shouldStop: options.shouldStop } : {}),
      ...(opponent ? { goOpponent: opponent.policy } : {}),
      ...(options.onWarning ? { onWarning: options.onWarning } : {}),
    });
  } catch (err) {
    agent?.dispose();
    opponent?.dispose();
    store.releaseWriter();
    throw err;
  }
  try {
    if (finished) {
      await trainer.writeFinalPolicy(path.join(store.checkpointsDir, latest.dir), latest.at);
      return { runDir, config, result: finishedResult(runDir, latest.at), alreadyDone: true, policyWritten: true };
    }
    await trainer.resume();
    // A raised budget (or a moved plug-in module) is the run's from now on (a later --resume continues with it).
    if (options.steps !== undefined || movedImports) store.writeConfig(config);
    const result = await trainer.run();
    return { runDir, config, result };
  } finally {
    trainer.close();
    agent.dispose();
    opponent?.dispose();
  }
}

export interface EvalOutcome {
  envId: string;
  source: string;
  returns: number[];
  lengths: number[];
  meanReturn: number;
  stdReturn: number;
}

/**
 * Greedy evaluation of a run's final policy (`<runDir>/policy`), of a checkpoint's online/policy network, or
 * of a model directory (model.json) when given with an env id.
 */
export async function evaluateRun(
  target: string,
  options: { episodes?: number; seed?: number; backend?: BackendChoice; envId?: string; imports?: string[] } = {},
): Promise<EvalOutcome> {
  const episodes = positiveInt(options.episodes ?? 100, 'episodes');
  await importPlugins(options.imports ?? []);
  await loadRunPlugins(target);
  if (options.envId !== undefined) options = { ...options, envId: await resolveEnvId(options.envId) };
  await initCompute(options.backend ?? 'auto');
  const { policy, resolved, dispose } = loadGreedyPolicy(target, options.envId);
  const opponent = await loadOpponentFor(resolved.envKwargs);
  try {
    const { returns, lengths } = await evaluateGreedy(policy, resolved.envId, resolved.envKwargs, episodes, options.seed ?? 2_000_000, undefined, undefined, opponent?.policy);
    const mean = returns.reduce((a, b) => a + b, 0) / returns.length;
    const std = Math.sqrt(returns.reduce((a, b) => a + (b - mean) ** 2, 0) / returns.length);
    return { envId: resolved.envId, source: resolved.modelDir, returns, lengths, meanReturn: mean, stdReturn: std };
  } finally {
    dispose();
    opponent?.dispose();
  }
}

/** What a finished run holds: its steps, its episodes and its last evaluation (from metrics.jsonl). */
function finishedResult(runDir: string, steps: number): TrainResult {
  let episodes = 0;
  let lastEval: TrainResult['lastEval'] = null;
  try {
    for (const e of readMetricsFile(path.join(runDir, 'metrics.jsonl'))) {
      if (e.type === 'episode') episodes = Math.max(episodes, e.episode);
      else if (e.type === 'eval') lastEval = { meanReturn: e.meanReturn, stdReturn: e.stdReturn };
    }
  } catch {
    // Only a summary: a metrics file that cannot be read leaves it at what is known.
  }
  return { steps, episodes, lastEval, stopped: false };
}

/** Loads a Go env's `agent:<dir>` opponent (null for any other opponent). */
async function loadOpponentFor(envKwargs: Record<string, unknown>, selfPlay = false): Promise<{ policy: GoOpponent; dispose: () => void } | null> {
  const spec = envKwargs['opponent'];
  // A Go env asks its opponent for a move synchronously, inside step(): a network there must read back at once.
  if (selfPlay && spec === 'self' && !syncReads()) {
    throw new Error(`opponent 'self' (self-play) needs a backend that reads synchronously; '${tf.getBackend()}' reads back asynchronously: use --backend wasm or cpu for Go self-play`);
  }
  if (typeof spec !== 'string' || !spec.startsWith('agent:')) return null;
  return loadGoOpponent(spec.slice('agent:'.length));
}

/** What a live publisher announces for an RL run (lab train --live, lab sweep): its identity and how to play its frames. */
export function rlRunInfo(config: RunConfig, runDir: string): RunInfo {
  let fps = 30;
  try {
    const probe = make(config.envId, config.envKwargs);
    fps = probe.metadata.renderFps;
    probe.close();
  } catch {
    // the trainer itself will report a broken env
  }
  let startStep = 0;
  try {
    startStep = RunStore.open(runDir).latestCheckpoint()?.at ?? 0;
  } catch {
    // a damaged pointer: the run reports its steps as they come
  }
  return {
    runId: config.runId,
    kind: 'rl',
    envId: config.envId,
    agent: config.agent,
    preset: config.preset,
    seed: config.seed,
    steps: config.steps,
    episodes: config.episodes,
    numEnvs: config.numEnvs,
    backend: config.backend.backend,
    fps,
    runDir: path.resolve(runDir),
    startStep,
    hyperparameters: JSON.parse(JSON.stringify(config.hyperparameters)) as Record<string, unknown>,
  };
}

/**
 * The greedy policy of a `lab train` run (its final policy, best policy or a checkpoint's network) or of a bare
 * model directory: what `lab eval` evaluates and what a Go env plays against as `agent:<dir>`.
 */
import fs from 'node:fs';
import path from 'node:path';
import { envIds, make } from '../envs/index.js';
import type { Agent } from './agent.js';
import { RunStore, type RunConfig } from '../lab/run_store.js';
import { readableDir } from '../lab/fsutil.js';
import { oneLine, readRunConfig, RunDamage } from '../lab/run_files.js';
import { tf } from '../lab/compute.js';
import { andThen, readAndDispose, type MaybePromise } from '../lab/maybe_async.js';
import { Network } from '../lab/network.js';
import { GreedyPolicyIO, outputUnits } from '../protocol/saved_policy.js';
import { readObsNormalization } from './policy_gradient.js';

/**
 * The greedy policy of a run directory, checkpoint or model directory (the backend must be initialised):
 * argmax of the network's outputs over the legal actions, or for a Box action space the outputs themselves (a
 * Gaussian policy's mean; the env clips it). A policy saved with observation statistics (PPO's
 * `obs_normalization.json`) normalises its inputs with them first.
 */
export function loadGreedyPolicy(target: string, envId?: string): { policy: Pick<Agent, 'act'>; resolved: ReturnType<typeof resolveModel>; dispose: () => void } {
  const resolved = resolveModel(target, envId);
  let net: Network;
  try {
    const { spec, values } = Network.read(resolved.modelDir);
    net = new Network(spec, values);
  } catch (e) {
    // One line that says what failed, whatever the reader or TF said (a damaged model.json or weights.bin).
    throw new Error(`the policy network in ${resolved.modelDir} cannot be loaded: ${oneLine(e instanceof Error ? e.message : String(e))}`);
  }
  const spec = net.spec;
  const probe = make(resolved.envId, resolved.envKwargs);
  let io: GreedyPolicyIO;
  try {
    // Inputs and greedy actions as every page that runs a saved policy computes them (protocol/saved_policy.ts).
    io = new GreedyPolicyIO(probe.observationSpace, probe.actionSpace, spec.inputShape, outputUnits(spec), readObsNormalization(resolved.modelDir));
  } catch (e) {
    net.dispose();
    throw new Error(`the policy in ${resolved.modelDir} cannot be loaded: ${oneLine(e instanceof Error ? e.message : String(e))}`);
  } finally {
    probe.close();
  }
  const policy = {
    act(obs: ArrayLike<number>, n: number, _explore: boolean, masks?: Int8Array | null): MaybePromise<Int32Array | Float32Array> {
      const x = io.inputs(obs, n);
      const out = tf.tidy(() => net.apply(tf.tensor(x, [n, ...io.encoder.inputShape])));
      return andThen(readAndDispose(out), (scores) => io.actions(scores, n, masks));
    },
  };
  return { policy, resolved, dispose: () => net.dispose() };
}

export function resolveModel(given: string, envId?: string): { modelDir: string; envId: string; envKwargs: Record<string, unknown> } {
  // <run>/policy or <run>/best_policy renamed aside by a crash inside writeDirAtomic: its previous version.
  const target = readableDir(given);
  if (!fs.existsSync(target)) throw new Error(`${given} does not exist`);
  // A run directory: its final policy, or its latest checkpoint's network if training never finished.
  if (fs.existsSync(path.join(target, 'config.json'))) {
    const config = checkedRlConfig(target);
    const store = RunStore.open(target, 'rl');
    // (policy/ and best_policy/ are written by writeDirAtomic: readableDir finds the previous version while a
    // crash left it renamed aside.)
    let modelDir = readableDir(path.join(target, 'policy'));
    if (!fs.existsSync(path.join(modelDir, 'model.json'))) {
      const latest = store.latestCheckpoint();
      if (!latest) throw new Error(`${target} has neither a final policy nor a checkpoint`);
      modelDir = policyDirOfCheckpoint(path.join(store.checkpointsDir, latest.dir));
    }
    return { modelDir, envId: envId ?? config.envId, envKwargs: config.envKwargs };
  }
  // A checkpoint directory inside a run.
  if (fs.existsSync(path.join(target, 'loop.json'))) {
    const runDir = path.dirname(path.dirname(target));
    const config = checkedRlConfig(runDir);
    return { modelDir: policyDirOfCheckpoint(target), envId: envId ?? config.envId, envKwargs: config.envKwargs };
  }
  if (fs.existsSync(path.join(target, 'model.json'))) {
    // <run>/policy or <run>/best_policy: the run says which env.
    const parent = path.dirname(path.resolve(target));
    if (fs.existsSync(path.join(parent, 'config.json'))) {
      const config = checkedRlConfig(parent);
      return { modelDir: target, envId: envId ?? config.envId, envKwargs: config.envKwargs };
    }
    if (!envId) throw new Error(`${target} is a bare model: give the environment with --env (known: ${envIds().join(', ')})`);
    return { modelDir: target, envId, envKwargs: {} };
  }
  throw new Error(`${target} is not a run directory, a checkpoint or a model directory`);
}

/**
 * config.json of an RL run directory, every field checked: a damaged one is an error that names the run, the
 * file and the field ("runs/x: config.json: envId: expected a string, got nothing"); so is a run of another kind.
 */
export function checkedRlConfig(runDir: string): RunConfig {
  let checked;
  try {
    checked = readRunConfig(runDir);
  } catch (e) {
    if (e instanceof RunDamage) throw new Error(`${runDir} is damaged: ${e.message}`);
    throw e;
  }
  if (checked.kind === 'gan') throw new Error(`${runDir} is a GAN run: evaluate its generator with lab gan eval`);
  if (checked.kind !== 'rl') throw new Error(`${runDir} is an AlphaZero-lite run: lab eval evaluates RL policies; play it with lab match ${runDir} mcts (or on the viewer's Go page), compare its evaluations with lab compare, continue it with lab go train --resume`);
  return checked.config;
}

function policyDirOfCheckpoint(dir: string): string {
  for (const sub of ['agent/policy', 'agent/online']) if (fs.existsSync(path.join(dir, sub, 'model.json'))) return path.join(dir, sub);
  throw new Error(`checkpoint ${dir} holds no policy network`);
}

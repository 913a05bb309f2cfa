/**
 * Example: a CleanRL-style DQN (cleanrl/dqn.py) written directly against `makeVec` and tfjs, logging a run that
 * `lab compare` puts beside the built-in DQN's:
 *
 *   node --import tsx examples/cleanrl_dqn.ts [--steps 500000] [--seed 1] [--out runs] [--run-id ID] [--backend cpu]
 *   npx lab train --env CartPole-v1 --agent dqn --preset zoo --seed 1 …
 *   npx lab compare runs/<this run> runs/<the built-in run>
 *
 * Everything about the algorithm is in this file, top to bottom: Q-network, replay buffer, ε schedule, TD target
 * from a target network. ScriptRun only stores what happens (metrics, evaluations, replay logs, the policy).
 */
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Rng, ScriptRun, makeVec, mlpSpec, tf, writePolicyNetwork, type BackendChoice, type Box, type Discrete } from '../index.js';

/** CleanRL's DQN defaults for classic control (cleanrl/dqn.py). */
interface DQNArgs {
  /** Adam step size. */
  learningRate: number;
  /** Replay buffer capacity, in transitions. */
  bufferSize: number;
  /** Discount γ. */
  gamma: number;
  /** Target network update rate (1: hard copy). */
  tau: number;
  /** Env steps between target network updates. */
  targetNetworkFrequency: number;
  /** Transitions per gradient step. */
  batchSize: number;
  /** ε falls linearly from startE to endE over explorationFraction of the steps. */
  startE: number;
  endE: number;
  explorationFraction: number;
  /** Env steps before learning starts. */
  learningStarts: number;
  /** Env steps between gradient steps. */
  trainFrequency: number;
  /** Hidden layer sizes of the Q-network (ReLU). */
  hidden: number[];
}

const { values: cli } = parseArgs({
  options: {
    steps: { type: 'string', default: '500000' },
    seed: { type: 'string', default: '1' },
    'learning-starts': { type: 'string', default: '10000' },
    out: { type: 'string', default: 'runs' },
    'run-id': { type: 'string' },
    backend: { type: 'string', default: 'auto' },
  },
});
const totalSteps = Number(cli.steps);
const seed = Number(cli.seed);
const args: DQNArgs = {
  learningRate: 2.5e-4,
  bufferSize: 10_000,
  gamma: 0.99,
  tau: 1,
  targetNetworkFrequency: 500,
  batchSize: 128,
  startE: 1,
  endE: 0.05,
  explorationFraction: 0.5,
  learningStarts: Number(cli['learning-starts']),
  trainFrequency: 10,
  hidden: [120, 84],
};
const evalEvery = Math.max(1, Math.floor(totalSteps / 10));

const run = await ScriptRun.open({
  envId: 'CartPole-v1',
  agent: 'cleanrl-dqn',
  hyperparameters: { ...args },
  seed,
  steps: totalSteps,
  evalEvery,
  evalEpisodes: 10,
  out: cli.out,
  ...(cli['run-id'] ? { runId: cli['run-id'] } : {}),
  backend: cli.backend as BackendChoice,
  script: fileURLToPath(import.meta.url),
});
console.log(`run ${run.dir}`);

const envs = makeVec('CartPole-v1', 1, { autoresetMode: 'same-step' });
const obsSize = (envs.singleObservationSpace as Box).shape[0]!;
const nActions = (envs.singleActionSpace as Discrete).n;
const rng = new Rng(seed);

function qNetwork(): tf.Sequential {
  const model = tf.sequential();
  args.hidden.forEach((units, i) => model.add(tf.layers.dense({ units, activation: 'relu', ...(i === 0 ? { inputShape: [obsSize] } : {}), kernelInitializer: tf.initializers.glorotUniform({ seed: seed * 100 + i }) })));
  model.add(tf.layers.dense({ units: nActions, kernelInitializer: tf.initializers.glorotUniform({ seed: seed * 100 + 99 }) }));
  return model;
}
const qNet = qNetwork();
const targetNet = qNetwork();
targetNet.setWeights(qNet.getWeights());
const optimizer = tf.train.adam(args.learningRate);

// Replay buffer: a ring of transitions.
const bufObs = new Float32Array(args.bufferSize * obsSize);
const bufNext = new Float32Array(args.bufferSize * obsSize);
const bufAct = new Int32Array(args.bufferSize);
const bufRew = new Float32Array(args.bufferSize);
const bufDone = new Float32Array(args.bufferSize);
let bufSize = 0;
let bufPos = 0;

const greedyActions = (obs: ArrayLike<number>, n: number): Int32Array =>
  tf.tidy(() => (qNet.predict(tf.tensor2d(Float32Array.from(obs as ArrayLike<number>).subarray(0, n * obsSize), [n, obsSize])) as tf.Tensor).argMax(1).dataSync() as Int32Array).slice();
/** The Q-network in the lab's format (same layout: kernel [in, out], bias), for lab eval and the viewer. */
const writePolicy = (dir: string) => writePolicyNetwork(dir, mlpSpec(obsSize, args.hidden, nActions), qNet.getWeights().map((w) => w.dataSync() as Float32Array));

let [obs] = envs.reset({ seed });
let episodeReturn = 0;
let episodeLength = 0;
let lossSum = 0;
let lossCount = 0;
for (let step = 1; step <= totalSteps; step++) {
  const epsilon = Math.max(args.endE, args.startE + ((args.endE - args.startE) * step) / (args.explorationFraction * totalSteps));
  const action = rng.double() < epsilon ? rng.integer(nActions) : greedyActions(obs, 1)[0]!;
  const [next, rewards, terminations, truncations, infos] = envs.step(Int32Array.of(action));
  // Same-step autoreset: an ended episode's true last observation is in infos.finalObs.
  const ended = terminations[0] === 1 || truncations[0] === 1;
  const realNext = ended ? ((infos.finalObs as ArrayLike<number>[])[0]! as ArrayLike<number>) : next;
  bufObs.set(obs as Float32Array, bufPos * obsSize);
  bufNext.set(realNext, bufPos * obsSize);
  bufAct[bufPos] = action;
  bufRew[bufPos] = rewards[0]!;
  bufDone[bufPos] = terminations[0]!;
  bufPos = (bufPos + 1) % args.bufferSize;
  bufSize = Math.min(bufSize + 1, args.bufferSize);
  episodeReturn += rewards[0]!;
  episodeLength++;
  if (ended) {
    run.episode({ step, return: episodeReturn, length: episodeLength, terminated: terminations[0] === 1, truncated: truncations[0] === 1 });
    episodeReturn = 0;
    episodeLength = 0;
  }
  obs = next;

  if (step > args.learningStarts && step % args.trainFrequency === 0) {
    const idx = Int32Array.from({ length: args.batchSize }, () => rng.integer(bufSize));
    const pick = (src: Float32Array, width: number) => {
      const out = new Float32Array(args.batchSize * width);
      idx.forEach((j, k) => out.set(src.subarray(j * width, (j + 1) * width), k * width));
      return out;
    };
    const loss = tf.tidy(() => {
      const nextObs = tf.tensor2d(pick(bufNext, obsSize), [args.batchSize, obsSize]);
      const targetMax = (targetNet.predict(nextObs) as tf.Tensor2D).max(1);
      const tdTarget = tf.tensor1d(pick(bufRew, 1)).add(targetMax.mul(tf.scalar(args.gamma)).mul(tf.scalar(1).sub(tf.tensor1d(pick(bufDone, 1)))));
      const batchObs = tf.tensor2d(pick(bufObs, obsSize), [args.batchSize, obsSize]);
      const actionMask = tf.oneHot(tf.tensor1d(Int32Array.from(idx, (j) => bufAct[j]!), 'int32'), nActions);
      return optimizer.minimize(() => {
        const oldVal = (qNet.predict(batchObs) as tf.Tensor2D).mul(actionMask).sum(1);
        return tf.losses.meanSquaredError(tdTarget, oldVal) as tf.Scalar;
      }, true)!;
    });
    lossSum += loss.dataSync()[0]!;
    lossCount++;
    loss.dispose();
  }
  if (step % args.targetNetworkFrequency === 0) {
    const online = qNet.getWeights();
    const target = targetNet.getWeights();
    const mixed = online.map((w, i) => tf.tidy(() => w.mul(args.tau).add(target[i]!.mul(1 - args.tau))));
    targetNet.setWeights(mixed);
    tf.dispose(mixed);
  }
  if (step % evalEvery === 0) {
    run.update(step, { epsilon, ...(lossCount ? { tdLoss: lossSum / lossCount } : {}) });
    lossSum = 0;
    lossCount = 0;
    const { meanReturn } = await run.evaluate(step, greedyActions, writePolicy);
    console.log(`step ${step}: greedy mean return ${meanReturn.toFixed(1)}`);
  }
}
await run.finish(writePolicy);
envs.close();
console.log(`done: ${run.dir}`);

/**
 * Example: tabular Q-learning on FrozenLake, written from scratch, in the lab's run model and published live.
 *
 *   node --import tsx examples/frozenlake_q.ts [--steps 50000] [--seed 0] [--out runs] [--run-id ID]
 *                                              [--live http://127.0.0.1:3000] [--token KEY]
 *
 * The loop is the textbook one (ε-greedy, Q[s,a] += α (r + γ max Q[s'] − Q[s,a]), no bootstrap past a terminal
 * state). ScriptRun does the rest: config.json, metrics.jsonl, greedy evaluations on fixed seeds with replay
 * logs, training episodes of `run.trainingEnv()` logged on Gymnasium's capped cubic schedule, the final policy
 * (the Q-table as one dense layer on one-hot states, which `lab eval` runs), and with --live the run appears in
 * the viewer of a `lab serve` while it trains, its agent moving on the lake while you watch.
 */
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Rng, ScriptRun, writePolicyNetwork, type Discrete } from '../index.js';

/** The hyperparameters, stored in config.json. */
interface QLearningConfig {
  /** Step size α of the Q update. */
  learningRate: number;
  /** Discount γ. */
  gamma: number;
  /** ε at the start; it falls linearly to `finalEpsilon` over `explorationFraction` of the steps. */
  initialEpsilon: number;
  finalEpsilon: number;
  explorationFraction: number;
  /** Env steps between greedy evaluations (and update summaries). */
  evalEvery: number;
  /** Greedy episodes per evaluation. */
  evalEpisodes: number;
}

const { values: args } = parseArgs({
  options: {
    steps: { type: 'string', default: '50000' },
    seed: { type: 'string', default: '0' },
    out: { type: 'string', default: 'runs' },
    'run-id': { type: 'string' },
    live: { type: 'string' },
    token: { type: 'string' },
  },
});
const steps = Number(args.steps);
const seed = Number(args.seed);
const config: QLearningConfig = { learningRate: 0.1, gamma: 0.99, initialEpsilon: 1, finalEpsilon: 0.05, explorationFraction: 0.5, evalEvery: Math.max(1, Math.floor(steps / 5)), evalEpisodes: 100 };

const run = await ScriptRun.open({
  envId: 'FrozenLake-v1',
  agent: 'tabular-q',
  hyperparameters: { ...config },
  seed,
  steps,
  evalEvery: config.evalEvery,
  evalEpisodes: config.evalEpisodes,
  out: args.out,
  ...(args['run-id'] ? { runId: args['run-id'] } : {}),
  live: args.live ? { url: args.live, ...(args.token ? { token: args.token } : {}) } : null,
  onNotice: (m) => console.log(`live: ${m}`),
  script: fileURLToPath(import.meta.url),
});
console.log(`run ${run.dir}`);

// FrozenLake-v1 as make() builds it, watched by the run: training episodes logged, steps streamed live.
const env = run.trainingEnv<number, number>();
const nStates = (env.observationSpace as Discrete).n;
const nActions = (env.actionSpace as Discrete).n;
const q = new Float64Array(nStates * nActions);
const rng = new Rng(seed);

function greedy(s: number): number {
  let best = 0;
  for (let a = 1; a < nActions; a++) if (q[s * nActions + a]! > q[s * nActions + best]!) best = a;
  return best;
}
/** The greedy policy for the lab's evaluation: one action per observation row. */
const greedyPolicy = (obs: ArrayLike<number>, n: number) => Int32Array.from({ length: n }, (_, i) => greedy(obs[i]!));
/** The Q-table as a network: one-hot state → dense layer with kernel Q (no bias) → action values. */
const writeQ = (dir: string) => writePolicyNetwork(dir, { inputShape: [nStates], layers: [{ type: 'dense', units: nActions, activation: 'linear' }] }, [Float32Array.from(q), new Float32Array(nActions)]);

let [s] = env.reset({ seed });
let episodeReturn = 0;
let episodeLength = 0;
let tdSum = 0;
for (let step = 1; step <= steps && !run.stopRequested; step++) {
  const epsilon = Math.max(config.finalEpsilon, config.initialEpsilon - ((config.initialEpsilon - config.finalEpsilon) * step) / (config.explorationFraction * steps));
  const a = rng.double() < epsilon ? rng.integer(nActions) : greedy(s);
  const [next, reward, terminated, truncated] = env.step(a);
  const target = reward + (terminated ? 0 : config.gamma * q[next * nActions + greedy(next)]!);
  const td = target - q[s * nActions + a]!;
  q[s * nActions + a]! += config.learningRate * td;
  tdSum += Math.abs(td);
  episodeReturn += reward;
  episodeLength++;
  s = next;
  if (terminated || truncated) {
    run.episode({ step, return: episodeReturn, length: episodeLength, terminated, truncated });
    [s] = env.reset();
    episodeReturn = 0;
    episodeLength = 0;
  }
  if (step % config.evalEvery === 0) {
    run.update(step, { epsilon, meanAbsTdError: tdSum / config.evalEvery });
    tdSum = 0;
    const { meanReturn } = await run.evaluate(step, greedyPolicy, writeQ);
    console.log(`step ${step}: greedy success rate ${meanReturn.toFixed(2)}`);
  }
}
await run.finish(writeQ, run.stopRequested ? 'stopped' : 'done');
env.close();
console.log(`done: ${run.dir} (lab eval ${run.dir}; lab replay verify ${run.dir})`);

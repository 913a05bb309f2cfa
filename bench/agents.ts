/**
 * Agent benchmark: learning speed and throughput on this machine. Prints one JSON object.
 *
 *   npm run bench:agents                       # everything (tens of minutes on 2 cores)
 *   npm run bench:agents -- --only dqn --seeds 5
 *   npm run bench:agents -- --only book,a2c,reinforce,grid,snake
 *
 * Parts:
 *   dqn        CartPole-v1 with rl-baselines3-zoo's tuned DQN, greedy evaluation of 10 episodes every 2,000
 *              steps; per seed: env steps and wall-clock until the evaluation mean first reaches 475, and
 *              env-steps/s including training (with and without the evaluation time)
 *   a2c        CartPole-v1, evaluation every 10,000 steps, budget 200k; steps to first mean ≥ 475
 *   reinforce  CartPole-v1, evaluation every 10,000 steps, budget 300k
 *   book       the book's DQN on CartPole-v0 for 1000 episodes; last 10 episodes' scores (length − 1)
 *   grid       FrozenLake-v1 (success rate), CliffWalking-v1 (greedy return), Taxi-v4 (mean return)
 *   snake      Snake-v0 with DQN on board planes: fruit eaten per episode after the budget
 * Each run stops as soon as it is solved (the figures are about time to solve).
 */
import os from 'node:os';
import fs from 'node:fs';
import path from 'node:path';
import { evaluateRun, startTraining } from '../agents/train.js';
import { Network } from '../lab/network.js';
import { make } from '../envs/index.js';
import { tf } from '../lab/compute.js';
import { AGENTS } from '../agents/registry.js';
import { computeInfo, readTensor } from '../lab/compute.js';
import type { EventSink, TrainEvent } from '../protocol/events.js';

const args = process.argv.slice(2);
const arg = (name: string, fallback: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1]! : fallback;
};
const parts = arg('only', 'dqn,a2c,reinforce,book,grid,snake').split(',');
const seeds = Array.from({ length: Number(arg('seeds', '5')) }, (_, i) => i + 1);
const out = fs.mkdtempSync(path.join(os.tmpdir(), 'lab-bench-agents-'));
const backend = arg('backend', 'auto') as 'auto';

interface SolveRecord {
  seed: number;
  solved: boolean;
  solveStep: number | null;
  solveSeconds: number | null;
  steps: number;
  seconds: number;
  evalSeconds: number;
  sps: number;
  spsWithoutEval: number;
  lastEval: number | null;
}

/** Trains until the greedy evaluation mean reaches `threshold` (or the budget ends). */
async function solveRun(options: Parameters<typeof startTraining>[0], threshold: number): Promise<SolveRecord> {
  let solveStep: number | null = null;
  let solveSeconds: number | null = null;
  let evalSeconds = 0;
  const started = performance.now();
  const sink: EventSink = {
    handle(e: TrainEvent) {
      if (e.type !== 'eval') return;
      evalSeconds += e.seconds;
      if (solveStep === null && e.meanReturn >= threshold) {
        solveStep = e.step;
        solveSeconds = (performance.now() - started) / 1000;
      }
    },
  };
  const { result } = await startTraining({ ...options, out, sinks: [sink], shouldStop: () => solveStep !== null, checkpointEvery: 0 });
  const seconds = (performance.now() - started) / 1000;
  return {
    seed: options.seed,
    solved: solveStep !== null,
    solveStep,
    solveSeconds: solveSeconds === null ? null : Math.round(solveSeconds * 10) / 10,
    steps: result.steps,
    seconds: Math.round(seconds * 10) / 10,
    evalSeconds: Math.round(evalSeconds * 10) / 10,
    sps: Math.round(result.steps / seconds),
    spsWithoutEval: Math.round(result.steps / (seconds - evalSeconds)),
    lastEval: result.lastEval?.meanReturn ?? null,
  };
}

/** Interquartile mean: the mean of the middle 50% (rliable's recommended aggregate). */
function iqm(values: number[]): number | null {
  if (!values.length) return null;
  const s = [...values].sort((a, b) => a - b);
  const lo = Math.floor(s.length * 0.25);
  const hi = Math.ceil(s.length * 0.75);
  const mid = s.slice(lo, Math.max(hi, lo + 1));
  return mid.reduce((a, b) => a + b, 0) / mid.length;
}

function summary(records: SolveRecord[]) {
  const solved = records.filter((r) => r.solved);
  const median = (xs: number[]) => (xs.length ? [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]! : null);
  return {
    solved: `${solved.length}/${records.length}`,
    iqmSolveSteps: iqm(solved.map((r) => r.solveStep!)),
    medianSolveSteps: median(solved.map((r) => r.solveStep!)),
    medianSolveSeconds: median(solved.map((r) => r.solveSeconds!)),
    medianSps: median(records.map((r) => r.sps)),
    medianSpsWithoutEval: median(records.map((r) => r.spsWithoutEval)),
    perSeed: records,
  };
}

const report: Record<string, unknown> = { benchmark: 'agents', seeds };
const log = (msg: string) => process.stderr.write(msg + '\n');

if (parts.includes('dqn')) {
  const records: SolveRecord[] = [];
  for (const seed of seeds) {
    records.push(await solveRun({ envId: 'CartPole-v1', agent: 'dqn', preset: 'zoo', seed, steps: 50_000, evalEvery: 2000, evalEpisodes: 10, backend }, 475));
    log(`dqn seed ${seed}: ${JSON.stringify(records.at(-1))}`);
  }
  report.dqnCartPole = { protocol: 'zoo hyperparameters, 50k steps, 10 greedy episodes every 2000 steps, solved = mean >= 475', ...summary(records) };
}

for (const [agent, budget] of [
  ['a2c', 200_000],
  ['reinforce', 300_000],
] as const) {
  if (!parts.includes(agent) || !AGENTS[agent]) continue;
  const records: SolveRecord[] = [];
  for (const seed of seeds) {
    records.push(await solveRun({ envId: 'CartPole-v1', agent, seed, steps: budget, evalEvery: 10_000, evalEpisodes: 10, backend }, 475));
    log(`${agent} seed ${seed}: ${JSON.stringify(records.at(-1))}`);
  }
  report[`${agent}CartPole`] = { protocol: `${budget / 1000}k steps, 10 greedy episodes every 10000 steps, solved = mean >= 475`, ...summary(records) };
}

if (parts.includes('book')) {
  const perSeed = [];
  for (const seed of seeds) {
    const lengths: number[] = [];
    const started = performance.now();
    await startTraining({
      agent: 'dqn',
      preset: 'book',
      seed,
      backend,
      out,
      checkpointEvery: 0,
      sinks: [{ handle: (e: TrainEvent) => void (e.type === 'episode' && lengths.push(e.length)) }],
    });
    const scores = lengths.slice(-10).map((l) => l - 1); // the book prints the step index at the end
    perSeed.push({ seed, last10Scores: scores, allAtLeast199: scores.every((s) => s >= 199), seconds: Math.round((performance.now() - started) / 100) / 10 });
    log(`book seed ${seed}: ${JSON.stringify(perSeed.at(-1))}`);
  }
  report.bookCartPoleV0 = { protocol: '1000 episodes, score = episode length - 1 as the book prints it', seedsWithLast10AtLeast199: perSeed.filter((p) => p.allAtLeast199).length, perSeed };
}

if (parts.includes('grid')) {
  const grid: Record<string, unknown> = {};
  for (const [envId, metric] of [
    ['FrozenLake-v1', 'success rate'],
    ['CliffWalking-v1', 'greedy return'],
    ['Taxi-v4', 'mean return'],
  ] as const) {
    const perSeed = [];
    for (const seed of seeds) {
      const started = performance.now();
      const { runDir, result } = await startTraining({ envId, agent: 'dqn', seed, backend, out, checkpointEvery: 0 });
      // A larger evaluation of the final policy than the training-time one, on other seeds.
      const final = await evaluateRun(runDir, { episodes: envId === 'CliffWalking-v1' ? 1 : 1000, backend });
      perSeed.push({ seed, steps: result.steps, lastTrainingEval: result.lastEval?.meanReturn ?? null, final: Math.round(final.meanReturn * 1000) / 1000, seconds: Math.round((performance.now() - started) / 100) / 10 });
      log(`${envId} seed ${seed}: ${JSON.stringify(perSeed.at(-1))}`);
    }
    grid[envId] = { metric, finalEvaluationEpisodes: envId === 'CliffWalking-v1' ? 1 : 1000, perSeed };
  }
  report.gridGames = grid;
}

if (parts.includes('snake')) {
  const perSeed = [];
  for (const seed of seeds) {
    const started = performance.now();
    const { runDir, result } = await startTraining({ envId: 'Snake-v0', agent: 'dqn', seed, backend, out, checkpointEvery: 0 });
    const fruit = await greedyFruit(path.join(runDir, 'policy'), 100);
    perSeed.push({ seed, steps: result.steps, meanFruit: fruit.mean, maxFruit: fruit.max, seconds: Math.round((performance.now() - started) / 100) / 10 });
    log(`snake seed ${seed}: ${JSON.stringify(perSeed.at(-1))}`);
  }
  report.snake = { protocol: 'DQN preset snake; fruit eaten per greedy episode over 100 episodes (seeds 2,000,000+)', perSeed };
}

/** Greedy Snake episodes with a saved Q-network; returns fruit eaten (info.score) per episode. */
async function greedyFruit(modelDir: string, episodes: number): Promise<{ mean: number; max: number }> {
  const { spec, values } = Network.read(modelDir);
  const net = new Network(spec, values);
  const env = make<Float32Array, number>('Snake-v0');
  const scores: number[] = [];
  for (let ep = 0; ep < episodes; ep++) {
    let [obs] = env.reset({ seed: 2_000_000 + ep });
    let score = 0;
    for (;;) {
      const q = tf.tidy(() => net.apply(tf.tensor(obs, [1, ...spec.inputShape])));
      const read = readTensor(q) as Float32Array | Promise<Float32Array>;
      const values = Array.from(read instanceof Promise ? await read : read);
      q.dispose();
      const action = values.indexOf(Math.max(...values));
      const [next, , terminated, truncated, info] = env.step(action);
      score = info.score as number;
      obs = next;
      if (terminated || truncated) break;
    }
    scores.push(score);
  }
  net.dispose();
  return { mean: scores.reduce((a, b) => a + b, 0) / episodes, max: Math.max(...scores) };
}

console.log(JSON.stringify({ ...report, backend: computeInfo(), machine: { node: process.version, cpus: os.cpus().length, cpu: os.cpus()[0]?.model } }));
fs.rmSync(out, { recursive: true, force: true });

/**
 * PPO and the classic-control presets: learning speed on this machine. Prints one JSON object (progress on stderr).
 *
 *   npm run bench:ppo                                   # cartpole (5 seeds), then the rest (about an hour on 2 cores)
 *   npm run bench:ppo -- --only cartpole --seeds 5      # the CartPole acceptance run (~1 min)
 *   npm run bench:ppo -- --only acrobot,mountaincar --seeds 1
 *   npm run bench:ppo -- --only pendulum,mcc --minutes 5
 *
 * Parts:
 *   cartpole     PPO, rl-zoo's tuned CartPole-v1 settings (the `cartpole` preset), 100k budget, 10 greedy episodes
 *                every 2,000 steps; per seed: env steps and wall-clock until the evaluation mean first reaches
 *                475 (the run stops there), env-steps/s; plus the time of the update alone per rollout
 *   acrobot      PPO `acrobot` preset for 200k steps and DQN `acrobot` for 100k; the final policy's mean over 100
 *                greedy episodes (goal ≥ −100)
 *   mountaincar  DQN `mountaincar` preset for 120k steps; the final policy over 100 episodes (goal ≥ −110)
 *   pendulum     PPO `pendulum` preset, up to 1M steps or --minutes (default 5): the best evaluation mean reached
 *   mcc          PPO `mountaincar-continuous` preset, up to 300k steps or --minutes: the best evaluation mean
 * Parts whose env is not registered are reported as skipped.
 */
import os from 'node:os';
import fs from 'node:fs';
import path from 'node:path';
import { evaluateRun, startTraining } from '../agents/train.js';
import { computeInfo } from '../lab/compute.js';
import { envIds } from '../envs/index.js';
import type { EventSink, TrainEvent } from '../protocol/events.js';

const args = process.argv.slice(2);
const arg = (name: string, fallback: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1]! : fallback;
};
const parts = arg('only', 'cartpole,acrobot,mountaincar,pendulum,mcc').split(',');
const seeds = Array.from({ length: Number(arg('seeds', '5')) }, (_, i) => i + 1);
const minutes = Number(arg('minutes', '5'));
const backend = arg('backend', 'auto') as 'auto';
const out = fs.mkdtempSync(path.join(os.tmpdir(), 'lab-bench-ppo-'));
const log = (msg: string) => process.stderr.write(msg + '\n');
const round = (x: number, digits = 1) => Math.round(x * 10 ** digits) / 10 ** digits;
const median = (xs: number[]) => (xs.length ? [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]! : null);

interface RunRecord {
  seed: number;
  steps: number;
  seconds: number;
  sps: number;
  /** First step (and seconds) at which the evaluation mean reached the goal, when one is given. */
  solveStep: number | null;
  solveSeconds: number | null;
  bestEval: number | null;
  bestEvalStep: number | null;
  /** Seconds spent in greedy evaluations, and in the agent's updates (PPO's minibatch epochs). */
  evalSeconds: number;
  /** The final policy's mean return over `finalEpisodes` greedy episodes. */
  finalMean: number | null;
}

/** One training run; stops at the first evaluation ≥ `stopAt` (if given) or after `maxSeconds`. */
async function run(
  options: { agent: string; envId: string; preset: string; seed: number; steps: number; evalEvery: number; evalEpisodes: number },
  goal: { stopAt?: number; maxSeconds?: number; finalEpisodes?: number },
): Promise<RunRecord> {
  let solveStep: number | null = null;
  let solveSeconds: number | null = null;
  let bestEval: number | null = null;
  let bestEvalStep: number | null = null;
  let evalSeconds = 0;
  const started = performance.now();
  const elapsed = () => (performance.now() - started) / 1000;
  const sink: EventSink = {
    handle(e: TrainEvent) {
      if (e.type !== 'eval') return;
      evalSeconds += e.seconds;
      if (bestEval === null || e.meanReturn > bestEval) [bestEval, bestEvalStep] = [e.meanReturn, e.step];
      if (solveStep === null && goal.stopAt !== undefined && e.meanReturn >= goal.stopAt) [solveStep, solveSeconds] = [e.step, elapsed()];
    },
  };
  const shouldStop = () => (goal.stopAt !== undefined && solveStep !== null) || (goal.maxSeconds !== undefined && elapsed() > goal.maxSeconds);
  const { runDir, result } = await startTraining({ ...options, backend, out, sinks: [sink], shouldStop, checkpointEvery: 0 });
  const seconds = elapsed();
  const finalMean = goal.finalEpisodes ? (await evaluateRun(runDir, { episodes: goal.finalEpisodes, seed: 3_000_000, backend })).meanReturn : null;
  return {
    seed: options.seed,
    steps: result.steps,
    seconds: round(seconds),
    sps: Math.round(result.steps / seconds),
    solveStep,
    solveSeconds: solveSeconds === null ? null : round(solveSeconds),
    bestEval,
    bestEvalStep,
    evalSeconds: round(evalSeconds),
    finalMean: finalMean === null ? null : round(finalMean, 2),
  };
}

const registered = new Set(envIds());
const report: Record<string, unknown> = { benchmark: 'ppo', seeds, cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model ?? null };

if (parts.includes('cartpole')) {
  const records: RunRecord[] = [];
  for (const seed of seeds) {
    records.push(await run({ agent: 'ppo', envId: 'CartPole-v1', preset: 'cartpole', seed, steps: 100_000, evalEvery: 2000, evalEpisodes: 10 }, { stopAt: 475 }));
    log(`ppo cartpole seed ${seed}: ${JSON.stringify(records.at(-1))}`);
  }
  const solved = records.filter((r) => r.solveStep !== null);
  report.ppoCartPole = {
    protocol: "rl-zoo's tuned settings (8 envs, n_steps 32, batch 256, 20 epochs, lr 1e-3 and clip 0.2 annealed), 100k budget, 10 greedy episodes every 2000 steps, solved = mean >= 475 (the run stops there)",
    solved: `${solved.length}/${records.length}`,
    medianSolveSteps: median(solved.map((r) => r.solveStep!)),
    medianSolveSeconds: median(solved.map((r) => r.solveSeconds!)),
    medianSps: median(records.map((r) => r.sps)),
    perSeed: records,
  };
}

const classic: { part: string; key: string; agent: string; envId: string; preset: string; steps: number; evalEvery: number; goal: number | null; finalEpisodes: number | null; capped: boolean }[] = [
  { part: 'acrobot', key: 'ppoAcrobot', agent: 'ppo', envId: 'Acrobot-v1', preset: 'acrobot', steps: 200_000, evalEvery: 20_000, goal: -100, finalEpisodes: 100, capped: false },
  { part: 'acrobot', key: 'dqnAcrobot', agent: 'dqn', envId: 'Acrobot-v1', preset: 'acrobot', steps: 100_000, evalEvery: 10_000, goal: -100, finalEpisodes: 100, capped: false },
  { part: 'mountaincar', key: 'dqnMountainCar', agent: 'dqn', envId: 'MountainCar-v0', preset: 'mountaincar', steps: 120_000, evalEvery: 10_000, goal: -110, finalEpisodes: 100, capped: false },
  { part: 'pendulum', key: 'ppoPendulum', agent: 'ppo', envId: 'Pendulum-v1', preset: 'pendulum', steps: 1_000_000, evalEvery: 20_000, goal: null, finalEpisodes: 20, capped: true },
  { part: 'mcc', key: 'ppoMountainCarContinuous', agent: 'ppo', envId: 'MountainCarContinuous-v0', preset: 'mountaincar-continuous', steps: 300_000, evalEvery: 10_000, goal: null, finalEpisodes: 20, capped: true },
];

for (const c of classic) {
  if (!parts.includes(c.part)) continue;
  if (!registered.has(c.envId)) {
    report[c.key] = { skipped: `${c.envId} is not registered` };
    continue;
  }
  const records: RunRecord[] = [];
  for (const seed of seeds) {
    records.push(
      await run(
        { agent: c.agent, envId: c.envId, preset: c.preset, seed, steps: c.steps, evalEvery: c.evalEvery, evalEpisodes: 10 },
        { ...(c.capped ? { maxSeconds: minutes * 60 } : {}), ...(c.finalEpisodes ? { finalEpisodes: c.finalEpisodes } : {}) },
      ),
    );
    log(`${c.key} seed ${seed}: ${JSON.stringify(records.at(-1))}`);
  }
  report[c.key] = {
    protocol: `${c.agent} preset '${c.preset}', budget ${c.steps.toLocaleString('en-US')} steps${c.capped ? ` or ${minutes} min` : ''}, 10 greedy episodes every ${c.evalEvery.toLocaleString('en-US')} steps; final policy over ${c.finalEpisodes} episodes`,
    ...(c.goal !== null ? { goal: c.goal, reached: `${records.filter((r) => r.finalMean !== null && r.finalMean >= c.goal!).length}/${records.length}` } : {}),
    medianFinalMean: median(records.map((r) => r.finalMean ?? -Infinity)),
    bestEval: Math.max(...records.map((r) => r.bestEval ?? -Infinity)),
    perSeed: records,
  };
}

report.compute = computeInfo();
fs.rmSync(out, { recursive: true, force: true });
console.log(JSON.stringify(report, null, 2));

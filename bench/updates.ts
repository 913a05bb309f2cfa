/**
 * Update benchmark: the wall time of one DQN and one A2C update on the chosen backend, at the sizes the presets
 * use and at wider sizes where a GPU can pay off. Prints one JSON object. bench/gpu.sh runs it on WebGPU.
 *
 *   npm run bench:updates [-- --backend wasm|cpu|webgpu|auto --updates 50 --warmup 5 --only dqn,a2c,dqn-wide,a2c-wide]
 *
 * Cases (DQN starts updating once its buffer holds a batch; CartPole-v1 observations from the real env, actions from the agent, so the updates see real data):
 *   dqn       the zoo preset's network (MLP 256-256), batch 64: one gradient step per env step
 *   dqn-wide  MLP 1024-1024, batch 1024
 *   a2c       the default A2C (8 envs × 5 steps, MLP 64-64)
 *   a2c-wide  MLP 1024-1024, 64 envs × 16 steps
 * Each case times `observe` calls that update (the agent's whole update: forward, backward, optimizer, stats
 * read back), after `warmup` of them; the median and the 10–90% range in ms, and the tensor count before and
 * after (a leak shows as growth).
 */
import os from 'node:os';
import { agentEntry, findPreset, resolveAgentConfig } from '../agents/registry.js';
import type { Agent, StepBatch } from '../agents/agent.js';
import { computeInfo, initCompute, tf, type BackendChoice } from '../lab/compute.js';
import { makeVec } from '../envs/index.js';

const argv = process.argv.slice(2);
const arg = (name: string, fallback: string): string => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && argv[i + 1] !== undefined ? argv[i + 1]! : fallback;
};
const backend = arg('backend', 'auto') as BackendChoice;
const updates = Number(arg('updates', '50'));
const warmup = Number(arg('warmup', '5'));
const only = arg('only', 'dqn,a2c,dqn-wide,a2c-wide').split(',');
await initCompute(backend);

interface Case {
  agent: 'dqn' | 'a2c';
  numEnvs: number;
  overrides: Record<string, unknown>;
}
const CASES: Record<string, Case> = {
  dqn: { agent: 'dqn', numEnvs: 1, overrides: { learningStarts: 64, trainFrequency: 1, gradientSteps: 1 } },
  'dqn-wide': { agent: 'dqn', numEnvs: 1, overrides: { learningStarts: 1024, trainFrequency: 1, gradientSteps: 1, hidden: [1024, 1024], batchSize: 1024 } },
  a2c: { agent: 'a2c', numEnvs: 8, overrides: {} },
  'a2c-wide': { agent: 'a2c', numEnvs: 64, overrides: { numEnvs: 64, nSteps: 16, hidden: [1024, 1024] } },
};

const quantile = (xs: number[], q: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.round(q * (s.length - 1))))]!;
};
const round = (v: number) => Number(v.toFixed(3));

async function timeCase(name: string, c: Case): Promise<Record<string, unknown>> {
  const preset = findPreset(c.agent, 'CartPole-v1');
  const config = resolveAgentConfig(c.agent, preset?.preset ?? null, c.overrides);
  const envs = makeVec('CartPole-v1', c.numEnvs, { vectorizationMode: 'sync' });
  const agent: Agent = agentEntry(c.agent).create(
    { observationSpace: envs.singleObservationSpace, actionSpace: envs.singleActionSpace, numEnvs: c.numEnvs, totalSteps: 1e7, seed: 1 },
    config,
  );
  let [obs] = envs.reset({ seed: 1 });
  const times: number[] = [];
  let tensorsBefore = 0;
  let step = 0;
  while (times.length < warmup + updates) {
    const actions = await agent.act(obs, c.numEnvs, true, null);
    const [next, rewards, terminations, truncations] = envs.step(actions);
    const batch: StepBatch = { obs, actions, rewards, nextObs: next, terminations, truncations, actionMasks: null, nextActionMasks: null };
    step += c.numEnvs;
    const t0 = performance.now();
    const stats = await agent.observe(batch, step);
    const dt = performance.now() - t0;
    if (stats) {
      if (times.length === warmup) tensorsBefore = tf.memory().numTensors;
      times.push(dt);
    }
    obs = next;
  }
  const tensorsAfter = tf.memory().numTensors;
  agent.dispose();
  envs.close();
  const timed = times.slice(warmup);
  return { case: name, agent: c.agent, config: c.overrides, updates: timed.length, medianMs: round(quantile(timed, 0.5)), p10Ms: round(quantile(timed, 0.1)), p90Ms: round(quantile(timed, 0.9)), tensorsBefore, tensorsAfter };
}

const results = [];
for (const name of only) {
  const c = CASES[name];
  if (!c) throw new Error(`unknown case '${name}'; choose from ${Object.keys(CASES).join(', ')}`);
  results.push(await timeCase(name, c));
}
console.log(JSON.stringify({ bench: 'updates', backend: computeInfo(), results, machine: { node: process.version, cpus: os.cpus().length, cpu: os.cpus()[0]?.model } }));

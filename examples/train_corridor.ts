/**
 * Example: the plug-in env of corridor_env.ts trained with the built-in DQN, from a script. Gymnasium's
 * "module:EnvId" form imports the module and records it in the run's config.json, so `lab eval`, `lab train
 * --resume`, `lab replay verify` and the viewer find the env again by themselves.
 *
 *   node --import tsx examples/train_corridor.ts [--steps 5000] [--seed 0] [--out runs] [--run-id ID] [--backend cpu]
 *
 * The same from the command line: npx lab train --env ./examples/corridor_env.ts:Corridor-v0 --agent dqn --steps 5000
 */
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { startTraining, type BackendChoice } from '../index.js';

const { values: cli } = parseArgs({
  options: {
    steps: { type: 'string', default: '5000' },
    seed: { type: 'string', default: '0' },
    out: { type: 'string', default: 'runs' },
    'run-id': { type: 'string' },
    backend: { type: 'string', default: 'auto' },
  },
});
const steps = Number(cli.steps);
const corridor = fileURLToPath(new URL('./corridor_env.ts', import.meta.url));

const { runDir, result } = await startTraining({
  envId: `${corridor}:Corridor-v0`,
  agent: 'dqn',
  seed: Number(cli.seed),
  steps,
  evalEvery: Math.max(1, Math.floor(steps / 5)),
  evalEpisodes: 10,
  // A small corridor needs a small network and starts learning early; every name is a DQN hyperparameter.
  overrides: { hidden: [32], learningStarts: Math.min(1000, Math.floor(steps / 5)), trainFrequency: 4, gradientSteps: 1, targetUpdateInterval: 250, exploration: { type: 'linear', initial: 1, final: 0.05, fraction: 0.4 } },
  out: cli.out,
  ...(cli['run-id'] ? { runId: cli['run-id'] } : {}),
  backend: cli.backend as BackendChoice,
  command: ['node', ...process.argv.slice(1)].join(' '),
});
console.log(`done: ${result.steps} steps, ${result.episodes} episodes, final greedy eval ${result.lastEval?.meanReturn.toFixed(2) ?? '-'}`);
console.log(`run directory: ${runDir}`);

/** `lab eval`: greedy evaluation of a run, a checkpoint or a saved model. */
import { Command } from 'commander';
import { evaluateRun } from '../agents/train.js';
import type { BackendChoice } from '../lab/compute.js';
import { backendOption, integer } from './args.js';

export function registerEvalCommand(program: Command): void {
  program
    .command('eval')
    .description('evaluate the greedy policy of a run, a checkpoint or a saved model')
    .argument('<path>', 'run directory (its final policy), <run>/best_policy, a checkpoint directory, or a model directory (with --env)')
    .option('--episodes <n>', 'episodes', integer(1), 100)
    .option('--seed <n>', 'seed of the first episode (episode j uses seed + j)', integer(0), 2_000_000)
    .option('--env <id>', 'environment (needed for a bare model directory)')
    .addOption(backendOption())
    .option('--json', 'print JSON')
    .action(async (target: string, opts: { episodes: number; seed: number; env?: string; backend: BackendChoice; json?: boolean }) => {
      const r = await evaluateRun(target, { episodes: opts.episodes, seed: opts.seed, backend: opts.backend, ...(opts.env ? { envId: opts.env } : {}) });
      if (opts.json) {
        console.log(JSON.stringify(r));
        return;
      }
      const sorted = [...r.returns].sort((a, b) => a - b);
      console.log(`${r.envId}, ${r.returns.length} greedy episodes from ${r.source}`);
      console.log(`mean return ${r.meanReturn.toFixed(2)} ± ${r.stdReturn.toFixed(2)} (min ${sorted[0]}, median ${sorted[Math.floor(sorted.length / 2)]}, max ${sorted.at(-1)})`);
    });
}

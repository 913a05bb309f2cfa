/**
 * `lab eval`: greedy evaluation of a run, a checkpoint or a saved model. With `--render ansi|json` it plays the
 * evaluated episodes one after another in the terminal, as `lab play` does (cli/play.ts).
 */
import { Command, Option } from 'commander';
import { evaluateRun } from '../agents/train.js';
import { loadGreedyPlayer } from '../agents/watch.js';
import { initCompute, type BackendChoice } from '../lab/compute.js';
import { backendOption, importOption, integer, loadPlugins, nonNegativeNumber, type ImportCliOptions } from './args.js';
import { play, type EpisodeSummary } from './play.js';
import { resolveEnvId } from '../envs/index.js';

export interface EvalRenderOptions {
  episodes: number;
  seed: number;
  render: 'ansi' | 'json';
  envId?: string;
  backend?: BackendChoice;
  /** Frames per second for ansi output (default: the env's; 0: no delay). */
  fps?: number;
  out?: NodeJS.WritableStream & { isTTY?: boolean };
}

/** The same episodes as `lab eval` (episode j seeded seed + j, greedy), played one by one and shown. */
export async function renderEval(target: string, opts: EvalRenderOptions): Promise<EpisodeSummary[]> {
  await initCompute(opts.backend ?? 'auto');
  const player = await loadGreedyPlayer(target, opts.envId);
  try {
    return await play({
      envId: player.envId,
      envKwargs: player.envKwargs,
      episodes: opts.episodes,
      seed: opts.seed,
      render: opts.render,
      // Evaluation cuts greedy episodes of envs without a time limit at 10,000 steps; so does this.
      cutAt: 10_000,
      ...(opts.fps !== undefined ? { fps: opts.fps } : {}),
      ...(opts.out ? { out: opts.out } : {}),
      policy: {
        name: `greedy, ${player.modelDir}`,
        build: (env) => {
          player.attach(env);
          return (obs, info) => player.act(obs, info);
        },
      },
    });
  } finally {
    player.dispose();
  }
}

export function registerEvalCommand(program: Command): void {
  program
    .command('eval')
    .description('evaluate the greedy policy of a run, a checkpoint or a saved model (--render ansi: watch the episodes in the terminal)')
    .argument('<path>', 'run directory (its final policy), <run>/best_policy, a checkpoint directory, or a model directory (with --env)')
    .option('--episodes <n>', 'episodes (default 100; 3 with --render)', integer(1))
    .option('--seed <n>', 'seed of the first episode (episode j uses seed + j)', integer(0), 2_000_000)
    .option('--env <id>', 'environment (needed for a bare model directory)')
    .addOption(new Option('--render <mode>', 'play the episodes one by one in the terminal, as lab play: ansi frames, or json frame lines').choices(['ansi', 'json']))
    .option('--fps <n>', "frames per second for --render ansi (default: the env's; 0: as fast as possible)", nonNegativeNumber)
    .addOption(backendOption())
    .addOption(importOption())
    .option('--json', 'print JSON')
    .action(async (target: string, opts: ImportCliOptions & { episodes?: number; seed: number; env?: string; backend: BackendChoice; json?: boolean; render?: 'ansi' | 'json'; fps?: number }) => {
      // The run's own plug-ins (recorded in its config.json) and any --import modules.
      await loadPlugins(opts, [target]);
      if (opts.env) opts.env = await resolveEnvId(opts.env);
      if (opts.render) {
        await renderEval(target, { episodes: opts.episodes ?? 3, seed: opts.seed, render: opts.render, backend: opts.backend, ...(opts.env ? { envId: opts.env } : {}), ...(opts.fps !== undefined ? { fps: opts.fps } : {}) });
        return;
      }
      const r = await evaluateRun(target, { episodes: opts.episodes ?? 100, seed: opts.seed, backend: opts.backend, ...(opts.env ? { envId: opts.env } : {}) });
      if (opts.json) {
        console.log(JSON.stringify(r));
        return;
      }
      const sorted = [...r.returns].sort((a, b) => a - b);
      const mid = sorted.length / 2;
      const median = sorted.length % 2 ? sorted[Math.floor(mid)]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
      // Integer returns (Cart-Pole's, grid games') print whole; continuous ones to two decimals, like the mean.
      const num = (x: number) => (Number.isInteger(x) ? String(x) : x.toFixed(2));
      console.log(`${r.envId}, ${r.returns.length} greedy episode${r.returns.length === 1 ? '' : 's'} from ${r.source}`);
      console.log(
        r.returns.length === 1
          ? `return ${r.meanReturn.toFixed(2)}`
          : `mean return ${r.meanReturn.toFixed(2)} ± ${r.stdReturn.toFixed(2)} (min ${num(sorted[0]!)}, median ${num(median)}, max ${num(sorted.at(-1)!)})`,
      );
    });
}

/**
 * `lab watch <run>`: a trained policy plays its env live in the viewer, at real-time speed, as a run of its own
 * (`<run>-policy-<time>`). The viewer's "Watch policy" button starts one through the server; `lab serve` keeps
 * one going for its demo run once it has trained, so the page always has an agent to watch.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { initCompute } from '../lab/compute.js';
import { LivePublisher } from '../lab/publisher.js';
import { runStamp } from '../lab/run_store.js';
import { readRunConfig } from '../lab/run_files.js';
import { DEFAULT_LIVE_URL, RUN_ID_PATTERN } from '../protocol/protocol.js';
import { watchPolicy } from '../agents/watch.js';
import { backendOption, importOption, integer, loadPlugins, runIdOption, type ImportCliOptions } from './args.js';
import { onStopSignal } from './signals.js';
import type { BackendChoice } from '../lab/compute.js';

interface WatchCliOptions extends ImportCliOptions {
  live: string | true;
  token?: string;
  episodes: number;
  seed: number;
  fps?: number;
  env?: string;
  runId?: string;
  backend: BackendChoice;
}

/** The source run directory of a target (a run, its best_policy/policy, a checkpoint), or null for a bare model. */
function sourceRun(target: string): string | null {
  for (let dir = path.resolve(target), i = 0; i < 3; i++, dir = path.dirname(dir)) if (fs.existsSync(path.join(dir, 'config.json'))) return dir;
  return null;
}

export function registerWatchCommand(program: Command): void {
  program
    .command('watch')
    .description('watch the greedy policy of a trained run play live in the viewer (a lab serve page), at real-time speed')
    .argument('<run>', 'run directory, <run>/best_policy, a checkpoint, or a model directory (with --env)')
    .option('--live [url]', `the lab server to show it on (default ${DEFAULT_LIVE_URL})`, true)
    .option('--token <key>', "the lab server's key (default: LAB_TOKEN, else found by itself for a server on this machine)")
    .option('--episodes <n>', 'episodes to play (0: until stopped)', integer(0), 0)
    .option('--seed <n>', 'seed of the first episode (episode k uses seed + k)', integer(0), 3_000_000)
    .option('--fps <n>', "frames per second (default: the env's)", integer(1))
    .option('--env <id>', 'environment (needed for a bare model directory)')
    .addOption(runIdOption('<run>-policy-<time>'))
    .addOption(backendOption())
    .addOption(importOption())
    .action(async (target: string, opts: WatchCliOptions) => {
      await loadPlugins(opts, [target]);
      const source = sourceRun(target);
      const checked = source ? readRunConfig(source) : null;
      if (checked && checked.kind !== 'rl') throw new Error(`${target} is a ${checked.kind === 'gan' ? 'GAN run: its samples are in the viewer already (lab gan eval scores them)' : 'Go AlphaZero-lite run: play it on the Go page or with lab match'}`);
      const rl = checked?.kind === 'rl' ? checked.config : null;
      const runId = opts.runId ?? `${(rl?.runId ?? path.basename(path.resolve(target))).slice(0, 160)}-policy-${runStamp()}`.replace(/[^A-Za-z0-9._-]/g, '_');
      if (!RUN_ID_PATTERN.test(runId)) throw new Error(`--run-id: ${JSON.stringify(runId)} is not a run id`);
      await initCompute(opts.backend);
      const url = opts.live === true ? DEFAULT_LIVE_URL : opts.live;
      const stop = onStopSignal((m) => console.log(m), 'ending the episode');
      const live = new LivePublisher({
        url,
        ...(opts.token ? { token: opts.token } : {}),
        onStop: () => stop.request('stopping (asked by the viewer)'),
        onNotice: (m) => console.log(`live: ${m}`),
      });
      try {
        const result = await watchPolicy({
          target,
          ...(opts.env ? { envId: opts.env } : {}),
          episodes: opts.episodes,
          seed: opts.seed,
          ...(opts.fps ? { fps: opts.fps } : {}),
          sink: live,
          shouldStop: () => stop.requested || live.stopRequested,
          onWaiting: () => console.log(`waiting for a viewer: open the lab page and pick ${runId} (it plays while watched)`),
          onStart: ({ envId, fps, maxEpisodeSteps }) => {
            console.log(`${rl ? `${rl.agent}${rl.preset ? ` (${rl.preset})` : ''} from ${source}` : target}: greedy policy on ${envId} at ${fps} frames/s; watch it as ${runId}`);
            live.begin({
              runId,
              kind: 'rl',
              envId,
              agent: `${rl?.agent ?? 'policy'} · greedy`,
              preset: rl?.preset ?? null,
              seed: opts.seed,
              steps: opts.episodes > 0 ? opts.episodes * (maxEpisodeSteps ?? 1000) : 1_000_000_000,
              episodes: opts.episodes > 0 ? opts.episodes : null,
              numEnvs: 1,
              backend: 'cpu',
              fps,
              runDir: path.resolve(source ?? target),
              startStep: 0,
              hyperparameters: {},
            });
          },
        });
        const mean = result.returns.length ? result.returns.reduce((a, b) => a + b, 0) / result.returns.length : NaN;
        console.log(`${result.episodes} episode${result.episodes === 1 ? '' : 's'} played${result.episodes ? `, mean return ${mean.toFixed(2)}` : ''}`);
        await live.end(stop.requested || live.stopRequested ? 'stopped' : 'done');
      } catch (e) {
        await live.end('failed', e instanceof Error ? e.message : String(e));
        throw e;
      } finally {
        stop.dispose();
      }
    });
}

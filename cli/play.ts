/**
 * `lab play` and `lab demo`: plays episodes of an env with a fixed policy and shows them in a terminal: `ansi`
 * frames animated in place (or printed one after another when stdout is not a terminal), `json` frames as JSON
 * lines, or `none`.
 */
import { Option, type Command } from 'commander';
import { make, type Env, type MakeOptions } from '../envs/index.js';
import { buildPolicy, POLICIES } from '../agents/policies.js';
import { integer, keyValue, nonNegativeNumber } from './args.js';

export type PlayRender = 'ansi' | 'json' | 'none';

/** A policy other than the named fixed ones (`lab eval --render`: a run's greedy policy). */
export interface PlayPolicy {
  /** How the policy is named in titles and the summary, e.g. "greedy (runs/x/policy)". */
  name: string;
  /** The policy for an env made for playing (it may attach things to the env, e.g. a Go opponent). */
  build: (env: Env) => (obs: unknown, info: Record<string, unknown>) => number | number[] | Promise<number | number[]>;
}

export interface PlayOptions {
  envId: string;
  /** A fixed policy by name (see POLICIES), or a policy built for the env. */
  policy?: string | PlayPolicy;
  episodes?: number;
  seed?: number;
  render?: PlayRender;
  /** Frames per second for `ansi` output; default the env's own fps; 0 = no delay. */
  fps?: number;
  maxEpisodeSteps?: number;
  envKwargs?: Record<string, unknown>;
  /** Episodes still running after this many steps are cut (counted as truncated): for envs without a time limit. */
  cutAt?: number;
  out?: NodeJS.WritableStream & { isTTY?: boolean };
}

export interface EpisodeSummary {
  episode: number;
  seed: number;
  return: number;
  length: number;
  terminated: boolean;
  truncated: boolean;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export function summarise(episodes: EpisodeSummary[]): { mean: number; std: number; min: number; max: number; meanLength: number } {
  const returns = episodes.map((e) => e.return);
  const mean = returns.reduce((a, b) => a + b, 0) / returns.length;
  const std = Math.sqrt(returns.reduce((a, b) => a + (b - mean) ** 2, 0) / returns.length);
  return {
    mean,
    std,
    min: Math.min(...returns),
    max: Math.max(...returns),
    meanLength: episodes.reduce((a, e) => a + e.length, 0) / episodes.length,
  };
}

const fmt = (v: number) => (Number.isInteger(v) ? String(v) : v.toFixed(2));

export async function play(options: PlayOptions): Promise<EpisodeSummary[]> {
  const { envId, policy: policyChoice = 'random', episodes = 3, seed = 0, render = 'ansi', envKwargs = {}, cutAt = Number.POSITIVE_INFINITY } = options;
  const policyName = typeof policyChoice === 'string' ? policyChoice : policyChoice.name;
  const out = options.out ?? process.stdout;
  if (!Number.isSafeInteger(episodes) || episodes <= 0) throw new Error(`episodes must be a positive integer, got ${episodes}`);
  if (!['ansi', 'json', 'none'].includes(render)) throw new Error(`render must be ansi, json or none, got '${render}'`);
  const makeOptions: MakeOptions = { ...envKwargs, ...(render === 'ansi' ? { renderMode: 'ansi' } : {}) };
  if (options.maxEpisodeSteps !== undefined) makeOptions.maxEpisodeSteps = options.maxEpisodeSteps;
  const env: Env = make(envId, makeOptions);
  env.actionSpace.seed(seed);
  const policy = typeof policyChoice === 'string' ? buildPolicy(policyChoice, env) : policyChoice.build(env);
  const fps = options.fps ?? env.metadata.renderFps;
  if (!(fps >= 0)) throw new Error(`fps must be a non-negative number, got ${fps}`);
  const animate = render === 'ansi' && out.isTTY === true;
  const delay = render === 'ansi' && fps > 0 ? 1000 / fps : 0;
  const write = (s: string) => out.write(s);
  const summaries: EpisodeSummary[] = [];

  const show = async (header: string) => {
    if (render === 'ansi') {
      const frame = env.render() as string;
      // Home + clear keeps the picture in place in a terminal; elsewhere frames follow each other.
      write((animate ? '\x1b[H\x1b[2J' : '') + `${header}\n${frame}\n${animate ? '' : '\n'}`);
      if (delay) await sleep(delay);
    } else if (render === 'json') {
      write(JSON.stringify({ type: 'frame', frame: env.render() }) + '\n');
    }
  };

  if (animate) write('\x1b[?25l'); // hide the cursor while animating
  try {
    for (let ep = 0; ep < episodes; ep++) {
      const episodeSeed = seed + ep;
      let [obs, info] = env.reset({ seed: episodeSeed });
      let total = 0;
      let length = 0;
      const title = `${envId} | policy ${policyName} | episode ${ep + 1}/${episodes} (seed ${episodeSeed})`;
      await show(`${title} | step 0 | return 0`);
      for (;;) {
        const [next, reward, terminated, stepTruncated, stepInfo] = env.step(await policy(obs, info));
        total += reward;
        length += 1;
        const truncated = stepTruncated || length >= cutAt;
        [obs, info] = [next, stepInfo];
        await show(`${title} | step ${length} | return ${fmt(total)}`);
        if (terminated || truncated) {
          const summary = { episode: ep + 1, seed: episodeSeed, return: total, length, terminated, truncated };
          summaries.push(summary);
          if (render === 'json') write(JSON.stringify({ type: 'episode', ...summary }) + '\n');
          else write(`episode ${ep + 1}/${episodes}: return ${fmt(total)}, length ${length}, ${terminated ? 'terminated' : 'truncated'}\n`);
          if (animate && delay) await sleep(Math.min(1000, 20 * delay));
          break;
        }
      }
    }
  } finally {
    if (animate) write('\x1b[?25h');
    env.close();
  }
  if (render !== 'json') {
    const s = summarise(summaries);
    write(
      summaries.length === 1
        ? `${envId} with policy '${policyName}': return ${fmt(s.mean)}, length ${s.meanLength} (1 episode)\n`
        : `${envId} with policy '${policyName}': mean return ${fmt(s.mean)} ± ${s.std.toFixed(2)} (min ${fmt(s.min)}, max ${fmt(s.max)}), mean length ${s.meanLength.toFixed(1)} over ${summaries.length} episodes\n`,
    );
  }
  return summaries;
}

export function registerPlayCommands(program: Command): void {
  program
    .command('play')
    .description('play episodes of an environment with a fixed policy and watch them in the terminal')
    .argument('<env>', 'environment id, e.g. CartPole-v1 (see `lab envs`)')
    .addOption(new Option('--policy <name>', `policy: ${POLICIES.map((p) => `${p.name} (${p.description})`).join('; ')}`).default('random'))
    .addOption(new Option('--render <mode>', 'how to show episodes').choices(['ansi', 'json', 'none']).default('ansi'))
    .option('--episodes <n>', 'number of episodes', integer(1), 3)
    .option('--seed <n>', 'seed of the first episode (episode k uses seed + k)', integer(0), 0)
    .option('--fps <n>', "frames per second for ansi output (default: the env's; 0: as fast as possible)", nonNegativeNumber)
    .option('--max-episode-steps <n>', 'override the time limit', integer(1))
    .option('--kw <key=value>', 'environment option, repeatable (e.g. --kw isSlippery=false)', keyValue)
    .action(async (envId: string, opts: { policy: string; render: PlayRender; episodes: number; seed: number; fps?: number; maxEpisodeSteps?: number; kw?: Record<string, unknown> }) => {
      await play({
        envId,
        policy: opts.policy,
        render: opts.render,
        episodes: opts.episodes,
        seed: opts.seed,
        ...(opts.fps !== undefined ? { fps: opts.fps } : {}),
        ...(opts.maxEpisodeSteps !== undefined ? { maxEpisodeSteps: opts.maxEpisodeSteps } : {}),
        envKwargs: opts.kw ?? {},
      });
    });

  program
    .command('demo')
    .description('a short terminal tour: Cart-Pole random vs a controller, then the grid games solved by value iteration')
    .option('--fps <n>', 'frames per second (0: no delay)', nonNegativeNumber)
    .action(async (opts: { fps?: number }) => {
      const fps = opts.fps !== undefined ? { fps: opts.fps } : {};
      const tour: { envId: string; policy: string; note: string; maxEpisodeSteps?: number }[] = [
        { envId: 'CartPole-v1', policy: 'random', note: 'Random pushes: the pole falls after about 22 steps.' },
        { envId: 'CartPole-v1', policy: 'controller', note: 'A feedback controller keeps it up (shown for 150 of 500 steps).', maxEpisodeSteps: 150 },
        { envId: 'FrozenLake-v1', policy: 'optimal', note: 'Value iteration on the slippery lake: the optimum succeeds ~74% of the time.' },
        { envId: 'Taxi-v4', policy: 'optimal', note: 'Value iteration on Taxi: pick up, drive, drop off.' },
        { envId: 'Snake-v0', policy: 'random', note: 'Snake with random moves (a DQN learns it: npx lab train --env Snake-v0 --agent dqn).' },
      ];
      for (const step of tour) {
        console.log(`\n== ${step.envId}, policy '${step.policy}': ${step.note}`);
        await play({ envId: step.envId, policy: step.policy, episodes: 1, render: 'ansi', ...fps, ...(step.maxEpisodeSteps ? { maxEpisodeSteps: step.maxEpisodeSteps } : {}) });
      }
      console.log('\nNext: train an agent (`npx lab train --env CartPole-v1 --agent dqn`, then `npx lab eval <run> --render ansi`), `npx lab play <env> --policy <name>`, `npx lab envs`.');
    });
}



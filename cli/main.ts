/**
 * The `lab` command line. Each sub-command lives in one place here; later issues add train, serve, eval,
 * replay, compare, gan and gtp.
 */
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { envIds, make, registration, spec } from '../envs/index.js';
import { POLICIES } from '../agents/policies.js';
import { play, type PlayRender } from './play.js';
import { AGENTS, agentEntry } from '../agents/registry.js';
import { evaluateRun, resumeTraining, startTraining } from '../agents/train.js';
import { BACKEND_CHOICES, type BackendChoice } from '../lab/compute.js';
import { ProgressSink } from '../lab/progress.js';
import { checkRunId, integer, keyValue, pointedStep } from './args.js';

/** A repeatable option's values, in order. */
const collect = (value: string, previous: string[]): string[] => [...previous, value];
import { RunStore, type RunConfig } from '../lab/run_store.js';
import type { EventSink } from '../protocol/events.js';
import { LivePublisher } from '../lab/publisher.js';
import { DEFAULT_HOST, DEFAULT_LIVE_URL, DEFAULT_PORT, type RunInfo } from '../protocol/protocol.js';
import path from 'node:path';
import { readFileSync } from 'node:fs';
import { GtpEngine } from '../agents/go/gtp_engine.js';
import { distinctNames, formatMatch, playMatch, type GameResult } from '../agents/go/match.js';
import { makePlayer } from '../agents/go/players.js';
import { registerGoCommands } from './go.js';
import { MatchPublisher } from '../agents/go/match_live.js';
import type { GoBoard } from '../envs/go/board.js';
import { registerCompareCommand } from './compare.js';
import { registerReplayCommands } from './replay.js';
import { registerGanCommands } from './gan.js';
import { registerGanEvalCommands } from './gan_eval.js';
import { parseTrainSchedule, type TrainSchedule } from '../lab/replay.js';

const VERSION = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;

function nonNegativeNumber(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError(`expected a non-negative number, got '${value}'`);
  return n;
}

export function buildCli(): Command {
  const program = new Command('lab')
    .description('RL and GAN lab: Gymnasium-style environments, agents, live viewer')
    .version(VERSION)
    .showHelpAfterError('(run with --help for usage)');

  program
    .command('envs')
    .description('list the registered environments')
    .option('--json', 'print JSON')
    .action((opts: { json?: boolean }) => {
      const rows = envIds().map((id) => {
        const env = make(id);
        const s = spec(id);
        return {
          id,
          observationSpace: String(env.observationSpace),
          actionSpace: String(env.actionSpace),
          maxEpisodeSteps: s.maxEpisodeSteps ?? null,
          rewardThreshold: s.rewardThreshold ?? null,
          kwargs: s.kwargs,
          vectorized: registration(id).vectorEntryPoint ? 'batched' : 'sync',
          description: registration(id).description ?? '',
        };
      });
      if (opts.json) {
        console.log(JSON.stringify(rows, null, 2));
        return;
      }
      for (const r of rows) {
        console.log(`${r.id.padEnd(24)} ${r.description}`);
        console.log(
          `${''.padEnd(24)} obs ${r.observationSpace}, actions ${r.actionSpace}, ` +
            `time limit ${r.maxEpisodeSteps ?? 'none'}, reward threshold ${r.rewardThreshold ?? 'none'}, vector: ${r.vectorized}`,
        );
      }
    });

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
        { envId: 'Snake-v0', policy: 'random', note: 'Snake with random moves (a DQN learns this in the agents issue).' },
      ];
      for (const step of tour) {
        console.log(`\n== ${step.envId}, policy '${step.policy}': ${step.note}`);
        await play({ envId: step.envId, policy: step.policy, episodes: 1, render: 'ansi', ...fps, ...(step.maxEpisodeSteps ? { maxEpisodeSteps: step.maxEpisodeSteps } : {}) });
      }
      console.log('\nNext: `npx lab play <env> --policy <name>`, `npx lab envs`, `npm run bench:envs`.');
    });

  program
    .command('train')
    .description('train an agent; writes a run directory with config, metrics, checkpoints and the final policy')
    .option('--env <id>', 'environment id (a preset may choose it, e.g. --preset book uses CartPole-v0)')
    .addOption(new Option('--agent <name>', 'agent').choices(Object.keys(AGENTS)).default('dqn'))
    .option('--preset <name>', 'named hyperparameter preset (default: the one tuned for the env, if any)')
    .option('--seed <n>', 'run seed', integer(0), 0)
    .option('--steps <n>', 'env-step budget', integer(1))
    .option('--episodes <n>', 'episode budget (stops at whichever budget ends first)', integer(1))
    .option('--eval-every <n>', 'env steps between greedy evaluations (0: only at the end)', integer(0))
    .option('--eval-episodes <n>', 'episodes per evaluation', integer(1))
    .option('--checkpoint-every <n>', 'env steps between checkpoints (0: only at the end; default: a tenth of --steps, from 100 to 10,000)', integer(0))
    .addOption(new Option('--backend <name>', 'compute backend').choices(BACKEND_CHOICES as string[]).default('auto'))
    .option('--out <dir>', 'directory for run directories', 'runs')
    .option('--set <key=value>', 'override a hyperparameter, repeatable (e.g. --set learningRate=0.001)', keyValue)
    .option('--kw <key=value>', 'environment option, repeatable', keyValue)
    .option('--resume <runDir>', 'continue a run from its latest checkpoint (other options are taken from the run)')
    .option('--run-id <id>', 'name of the run directory (default: <env>-<agent>[-<preset>]-s<seed>-<time>)')
    .option('--live [url]', `publish the run to a lab server (lab serve) for the browser viewer (default ${DEFAULT_LIVE_URL})`)
    .option('--token <key>', 'the lab server\'s key for --live (default: LAB_TOKEN, else found by itself for a server on this machine)')
    .option('--live-every <k>', 'stream the steps of every k-th episode only', integer(1), 1)
    .option('--live-fps <n>', 'most frames per second streamed while watched (whole episodes are skipped to stay within it)', integer(1), 300)
    .option('--record-train <schedule>', 'replay logs of training episodes (sub-env 0): cubic (0, 1, 8, 27, …, then every 1000th), none, all or every:N', (v: string) => parseTrainSchedule(v))
    .option('--record-frames', 'store render() frames in replay logs (otherwise regenerated on demand)')
    .option('--record-obs', 'store observations in replay logs')
    .option('--no-record-eval', 'no replay logs of evaluation episodes')
    .action(async (opts: TrainCliOptions) => {
      checkRunId(opts.runId);
      let stop = false;
      const progress: { sink: ProgressSink | null } = { sink: null };
      const live = opts.live
        ? new LivePublisher({
            url: opts.live === true ? DEFAULT_LIVE_URL : opts.live,
            ...(opts.token ? { token: opts.token } : {}),
            frameEvery: opts.liveEvery,
            maxFramesPerSecond: opts.liveFps,
            onStop: () => {
              if (!stop) console.log('\nstopping (asked by the viewer): writing a checkpoint');
              stop = true;
            },
            onNotice: (m) => console.log(`live: ${m}`),
          })
        : null;
      const onStart = (config: RunConfig, runDir: string) => {
        console.log(`run ${runDir}`);
        console.log(`${config.agent}${config.preset ? ` (preset ${config.preset})` : ''} on ${config.envId}, seed ${config.seed}, ${config.steps.toLocaleString('en-US')} steps${config.episodes ? ` or ${config.episodes} episodes` : ''}`);
        console.log(`backend ${config.backend.backend}: ${config.backend.reason}`);
        progress.sink = new ProgressSink(config.steps, config.episodes);
        live?.begin(runInfo(config, runDir));
      };
      const sinks: EventSink[] = [{ handle: (e) => progress.sink?.handle(e), close: () => progress.sink?.close() }];
      if (live) sinks.push(live);
      const onSignal = () => {
        if (stop) process.exit(130);
        stop = true;
        console.log('\nstopping: writing a checkpoint (Ctrl-C again to quit at once)');
      };
      process.on('SIGINT', onSignal);
      try {
        const outcome = opts.resume
          ? await resumeTraining(opts.resume, { ...(opts.steps ? { steps: opts.steps } : {}), ...(opts.backend !== 'auto' ? { backend: opts.backend } : {}), sinks, shouldStop: () => stop || (live?.stopRequested ?? false), onStart })
          : await startTraining({
              agent: opts.agent,
              seed: opts.seed,
              ...(opts.env ? { envId: opts.env } : {}),
              ...(opts.preset ? { preset: opts.preset } : {}),
              ...(opts.steps ? { steps: opts.steps } : {}),
              ...(opts.episodes ? { episodes: opts.episodes } : {}),
              ...(opts.evalEvery !== undefined ? { evalEvery: opts.evalEvery } : {}),
              ...(opts.evalEpisodes ? { evalEpisodes: opts.evalEpisodes } : {}),
              ...(opts.checkpointEvery !== undefined ? { checkpointEvery: opts.checkpointEvery } : {}),
              ...(opts.runId ? { runId: opts.runId } : {}),
              backend: opts.backend,
              out: opts.out,
              overrides: opts.set ?? {},
              envKwargs: opts.kw ?? {},
              replays: { eval: opts.recordEval, frames: opts.recordFrames === true, obs: opts.recordObs === true, ...(opts.recordTrain ? { train: opts.recordTrain } : {}) },
              sinks,
              shouldStop: () => stop || (live?.stopRequested ?? false),
              command: ['lab', ...process.argv.slice(2)].join(' '),
              onStart,
            });
        const { result } = outcome;
        await live?.end(result.stopped ? 'stopped' : 'done');
        console.log(
          `${result.stopped ? 'stopped' : 'done'}: ${result.steps.toLocaleString('en-US')} steps, ${result.episodes} episodes` +
            (result.lastEval ? `, final greedy eval ${result.lastEval.meanReturn.toFixed(1)} ± ${result.lastEval.stdReturn.toFixed(1)}` : ''),
        );
        console.log(`run directory: ${outcome.runDir}  (evaluate: npx lab eval ${outcome.runDir}; resume: npx lab train --resume ${outcome.runDir})`);
      } catch (e) {
        await live?.end('failed', e instanceof Error ? e.message : String(e));
        throw e;
      } finally {
        process.off('SIGINT', onSignal);
      }
    });

  program
    .command('serve')
    .description('the live viewer: a web server that trains agents and streams their episodes to the browser')
    .option('--host <host>', 'address to bind (loopback by default; another address lets others on the network reach it, key required)', DEFAULT_HOST)
    .option('--port <n>', 'port', integer(0), DEFAULT_PORT)
    .option('--runs <dir>', 'runs directory (where runs started from the viewer are written, and stored runs are listed from)', 'runs')
    .option('--no-demo', 'do not start the demo run (DQN on CartPole-v1)')
    .option('--demo-steps <n>', 'env steps of the demo run', integer(1), 50_000)
    .option('--token <key>', 'the server\'s key (default: a new random one each start; LAB_TOKEN also sets it)')
    .option('--allow-host <name>', 'another name the server may be reached by (a reverse proxy\'s, the machine\'s DNS name), repeatable', collect, [])
    .option('--allow-origin <origin>', 'another origin treated as the lab\'s own page (e.g. http://localhost:5173 for npm run dev:viewer), repeatable', collect, [])
    .action(async (opts: { host: string; port: number; runs: string; demo: boolean; demoSteps: number; token?: string; allowHost: string[]; allowOrigin: string[] }) => {
      const { startLabServer, isLoopback, VIEWER_DIST } = await import('../server/app.js');
      const { ensureViewerBuilt } = await import('../server/viewer_build.js');
      await ensureViewerBuilt(VIEWER_DIST, (m) => console.log(m));
      const token = opts.token ?? process.env.LAB_TOKEN;
      if (token !== undefined && !/^[A-Za-z0-9._~-]{16,200}$/.test(token)) throw new Error('--token: use 16 to 200 letters, digits, ".", "_", "~" or "-" (it goes into a link and a cookie)');
      const server = await startLabServer({
        host: opts.host,
        port: opts.port,
        runsDir: opts.runs,
        log: (m) => console.log(m),
        allowHosts: opts.allowHost,
        allowOrigins: opts.allowOrigin,
        ...(token ? { token } : {}),
      });
      console.log(`lab viewer: ${server.openUrl}`);
      console.log(`  open this link (it holds the server's key; without it the page can watch but not start runs)`);
      console.log(`  runs in ${path.resolve(opts.runs)}; Ctrl-C to stop`);
      if (!isLoopback(server.host)) console.warn(`warning: listening on ${server.host}: others on the network can reach it; every request needs the key above, sent in clear text over http (use a TLS reverse proxy or an SSH tunnel instead)`);
      console.log(`publish a training run from another terminal: npx lab train --env CartPole-v1 --agent a2c --live ${server.url}`);
      if (opts.demo) {
        const started = server.hub.start({ envId: 'CartPole-v1', agent: 'dqn', seed: 0, steps: opts.demoSteps });
        if (started.ok) console.log(`demo run: ${started.run.runId} (DQN learning CartPole-v1; open the page to watch)`);
      }
      await new Promise<void>((resolve) => {
        let closing = false;
        const shutdown = () => {
          if (closing) process.exit(130);
          closing = true;
          console.log('\nshutting down: stopping runs (they write a checkpoint first)');
          void server.close().then(resolve);
        };
        process.once('SIGINT', shutdown);
        process.once('SIGTERM', shutdown);
      });
    });

  program
    .command('eval')
    .description('evaluate the greedy policy of a run, a checkpoint or a saved model')
    .argument('<path>', 'run directory (its final policy), <run>/best_policy, a checkpoint directory, or a model directory (with --env)')
    .option('--episodes <n>', 'episodes', integer(1), 100)
    .option('--seed <n>', 'seed of the first episode (episode j uses seed + j)', integer(0), 2_000_000)
    .option('--env <id>', 'environment (needed for a bare model directory)')
    .addOption(new Option('--backend <name>', 'compute backend').choices(BACKEND_CHOICES as string[]).default('auto'))
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

  program
    .command('agents')
    .description('list agents and their presets')
    .action(() => {
      for (const [name, entry] of Object.entries(AGENTS)) {
        console.log(`${name}: ${entry.description}`);
        for (const [presetName, preset] of Object.entries(agentEntry(name).presets)) {
          console.log(`  --preset ${presetName.padEnd(13)} ${preset.description}${preset.envs.length ? ` (default for ${preset.envs.join(', ')})` : ''}`);
        }
      }
    });

  program
    .command('gtp')
    .description('serve a Go agent over GTP v2 on stdin/stdout (for GoGui, Sabaki, twogtp, `lab match`)')
    .option('--agent <agent>', 'random, mcts, or an AlphaZero agent: a run directory of lab go train (or alphazero:<dir>)', 'random')
    .option('--size <n>', 'initial board size (the controller may change it with boardsize)', integer(5), 7)
    .option('--komi <k>', 'initial komi (default: 24 on 5x5, 9 on 7x7, 7 on 9x9, else 7.5)', Number)
    .option('--sims <n>', 'MCTS / AlphaZero simulations per move', integer(1))
    .option('--move-time <s>', 'MCTS / AlphaZero: search for this many seconds per move (with --sims: whichever ends first)', Number)
    .option('--seed <n>', "seed of the agent's randomness", integer(0), 0)
    .option('--threads <n>', 'MCTS: search on n worker threads at once (root parallelisation)', integer(1), 1)
    .action(async (opts: { agent: string; size: number; komi?: number; sims?: number; moveTime?: number; seed: number; threads: number }) => {
      if (opts.size > 19) throw new Error(`--size must be from 5 to 19, got ${opts.size}`);
      if (/^gnugo(:\d+)?$/.test(opts.agent)) throw new Error(`--agent ${opts.agent}: GNU Go is a GTP engine itself; run /usr/games/gnugo --mode gtp`);
      const player = await makePlayer(opts.agent, { seed: opts.seed, threads: opts.threads, ...(opts.sims !== undefined ? { sims: opts.sims } : {}), ...moveTimeOption(opts.moveTime) });
      const engine = new GtpEngine(player, { size: opts.size, ...(opts.komi !== undefined ? { komi: opts.komi } : {}) });
      try {
        await engine.serve(process.stdin, process.stdout);
      } finally {
        await player.close?.();
      }
    });

  program
    .command('match')
    .description('play Go games between two players (colours alternating) and report win rates with 95% intervals and Elo')
    .argument('<a>', 'player A: random, mcts, gnugo, gnugo:<level>, or an AlphaZero run directory (lab go train)')
    .argument('<b>', 'player B: the same kinds')
    .option('--games <n>', 'number of games (A is Black in games 1, 3, 5, ...)', integer(1), 10)
    .option('--size <n>', 'board size (5 to 19)', integer(5), 7)
    .option('--komi <k>', 'komi (default: 24 on 5x5, 9 on 7x7, 7 on 9x9, else 7.5)', Number)
    .option('--level <n>', 'GnuGo level for a plain `gnugo` player', integer(0), 1)
    .option('--sims <n>', 'MCTS / AlphaZero simulations per move', integer(1))
    .option('--move-time <s>', 'MCTS / AlphaZero: search for this many seconds per move (with --sims: whichever ends first)', Number)
    .option('--seed <n>', "match seed: player A's seed (B uses seed + 1)", integer(0), 0)
    .option('--threads <n>', 'MCTS players: search on n worker threads at once (root parallelisation)', integer(1), 1)
    .option('--sgf <dir>', 'write each game as an SGF file into this directory')
    .option('--json', 'print JSON')
    .option('--live [url]', `show the games live in the viewer of a lab server (default ${DEFAULT_LIVE_URL})`)
    .option('--token <key>', 'the lab server\'s key for --live (default: LAB_TOKEN, else found by itself for a server on this machine)')
    .action(async (a: string, b: string, opts: { games: number; size: number; komi?: number; level: number; sims?: number; moveTime?: number; seed: number; threads: number; sgf?: string; json?: boolean; live?: string | true; token?: string }) => {
      if (opts.size > 19) throw new Error(`--size must be from 5 to 19, got ${opts.size}`);
      if (opts.komi !== undefined && !Number.isFinite(opts.komi)) throw new Error('--komi must be a number');
      const common = { level: opts.level, threads: opts.threads, ...(opts.sims !== undefined ? { sims: opts.sims } : {}), ...moveTimeOption(opts.moveTime) };
      const playerA = await makePlayer(a, { ...common, seed: opts.seed });
      let playerB;
      try {
        playerB = await makePlayer(b, { ...common, seed: opts.seed + 1 });
      } catch (e) {
        await playerA.close?.();
        throw e;
      }
      const [pa, pb] = distinctNames(playerA, playerB);
      const live = opts.live ? new MatchPublisher(opts.live === true ? DEFAULT_LIVE_URL : opts.live, pa.name, pb.name, opts, (m) => !opts.json && console.log(`live: ${m}`)) : null;
      try {
        const result = await playMatch(pa, pb, {
          ...(live ? { onMove: (board: GoBoard, game: number) => live.move(board, game), onGame: (g: GameResult) => { live.game(g); if (!opts.json) console.log(`game ${g.game + 1}: ${g.black} (B) vs ${g.white} (W): ${g.result} in ${g.moves} moves${g.sgfPath ? `  ${g.sgfPath}` : ''}`); } } : {}),
          games: opts.games,
          size: opts.size,
          seed: opts.seed,
          ...(opts.komi !== undefined ? { komi: opts.komi } : {}),
          ...(opts.sgf ? { sgfDir: opts.sgf } : {}),
          ...(opts.json || live ? {} : { onGame: (g: GameResult) => console.log(`game ${g.game + 1}: ${g.black} (B) vs ${g.white} (W): ${g.result} in ${g.moves} moves${g.sgfPath ? `  ${g.sgfPath}` : ''}`) }),
        });
        await live?.end('done');
        console.log(opts.json ? JSON.stringify(result, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v)) : formatMatch(result));
      } catch (e) {
        await live?.end('failed', e instanceof Error ? e.message : String(e));
        throw e;
      } finally {
        await playerA.close?.();
        await playerB.close?.();
      }
    });

  registerReplayCommands(program);
  registerCompareCommand(program);
  registerGanCommands(program);
  registerGanEvalCommands(program);
  registerGoCommands(program);
  return program;
}

function moveTimeOption(seconds: number | undefined): { moveTimeMs?: number } {
  if (seconds === undefined) return {};
  if (!Number.isFinite(seconds) || seconds <= 0) throw new Error(`--move-time must be a positive number of seconds, got ${seconds}`);
  return { moveTimeMs: seconds * 1000 };
}

interface TrainCliOptions {
  env?: string;
  agent: string;
  preset?: string;
  seed: number;
  steps?: number;
  episodes?: number;
  evalEvery?: number;
  evalEpisodes?: number;
  checkpointEvery?: number;
  backend: BackendChoice;
  out: string;
  set?: Record<string, unknown>;
  kw?: Record<string, unknown>;
  resume?: string;
  runId?: string;
  live?: string | true;
  token?: string;
  liveEvery: number;
  liveFps: number;
  recordTrain?: TrainSchedule;
  recordFrames?: boolean;
  recordObs?: boolean;
  recordEval: boolean;
}

/** What a publisher announces: the run's identity and how to play its frames. */
function runInfo(config: RunConfig, runDir: string): RunInfo {
  let fps = 30;
  try {
    const probe = make(config.envId, config.envKwargs);
    fps = probe.metadata.renderFps;
    probe.close();
  } catch {
    // the trainer itself will report a broken env
  }
  return {
    runId: config.runId,
    kind: 'rl',
    envId: config.envId,
    agent: config.agent,
    preset: config.preset,
    seed: config.seed,
    steps: config.steps,
    episodes: config.episodes,
    numEnvs: config.numEnvs,
    backend: config.backend.backend,
    fps,
    runDir: path.resolve(runDir),
    startStep: pointedStep(() => RunStore.open(runDir).latestCheckpoint()?.step),
    hyperparameters: JSON.parse(JSON.stringify(config.hyperparameters)) as Record<string, unknown>,
  };
}

export async function main(argv: string[] = process.argv): Promise<number> {
  const program = buildCli().exitOverride();
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (err) {
    // Commander printed its own errors (bad options, bad option values); an InvalidArgumentError thrown by an
    // action reaches here unprinted.
    if (err instanceof CommanderError && !(err instanceof InvalidArgumentError)) return err.exitCode;
    process.stderr.write(`lab: error: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
}


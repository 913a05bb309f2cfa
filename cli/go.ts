/**
 * `lab go train`: AlphaZero-lite self-play training for Go-lite (agents/go/alphazero.ts), one line of
 * progress per iteration, evaluation match results as they come, Ctrl-C stops with a checkpoint, and
 * `--resume <runDir>` continues exactly.
 */
import { Command, InvalidArgumentError } from 'commander';
import { addRunOptions, integer, keyValue, type RunCliOptions } from './args.js';
import { onStopSignal } from './signals.js';
import { alphaZeroRunInfo, resolveHyperparameters, resumeAlphaZero, trainAlphaZero, type AlphaZeroEvent, type AlphaZeroOutcome, type AlphaZeroRunConfig } from '../agents/go/alphazero.js';
import { LivePublisher } from '../lab/publisher.js';
import { DEFAULT_LIVE_URL } from '../protocol/protocol.js';

interface GoTrainCliOptions extends RunCliOptions {
  size: number;
  iterations?: number;
  minutes?: number;
  set?: Record<string, unknown>;
  checkpointEvery?: number;
  /** Publish to a lab server (true: the default URL). */
  live?: string | true;
  /** The lab server's key for --live. */
  token?: string;
}

function positiveNumber(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`expected a positive number, got '${value}'`);
  return n;
}

export function formatEvent(e: AlphaZeroEvent): string {
  if (e.type === 'iteration') {
    return (
      `iter ${String(e.iteration).padStart(4)}  games ${e.games} (B ${e.blackWins} W ${e.whiteWins} draw ${e.draws}, ${e.meanGameLength.toFixed(1)} moves)  ` +
      `loss π ${e.policyLoss.toFixed(3)} v ${e.valueLoss.toFixed(3)}  entropy ${e.policyEntropy.toFixed(2)}  buffer ${e.bufferSize}  ` +
      `self-play ${e.selfPlaySeconds.toFixed(1)} s, train ${e.trainSeconds.toFixed(1)} s  [${formatDuration(e.elapsed)}]`
    );
  }
  if (e.type === 'go-eval') return `  eval vs ${e.opponent}: ${e.wins} won, ${e.losses} lost, ${e.draws} drawn of ${e.games} (score ${(100 * e.score).toFixed(0)}%)`;
  return `  checkpoint ${e.dir}`;
}

function formatDuration(s: number): string {
  const m = Math.floor(s / 60);
  return `${m}:${String(Math.floor(s % 60)).padStart(2, '0')}`;
}

export async function goTrainCli(opts: GoTrainCliOptions): Promise<AlphaZeroOutcome> {
  const stop = onStopSignal(undefined, 'finishing this iteration, then writing a checkpoint');
  // A malformed URL fails here, before any training; an unreachable server only warns (the run trains and is stored).
  const live = opts.live
    ? new LivePublisher({
        url: opts.live === true ? DEFAULT_LIVE_URL : opts.live,
        ...(opts.token ? { token: opts.token } : {}),
        onStop: () => stop.request('stopping (asked by the viewer): finishing this iteration, then writing a checkpoint'),
        onNotice: (m) => console.log(`live: ${m}`),
      })
    : null;
  const common = {
    onEvent: (e: AlphaZeroEvent) => {
      console.log(formatEvent(e));
      if (e.type !== 'checkpoint') live?.handle(e);
    },
    onStart: (config: AlphaZeroRunConfig, dir: string) => {
      console.log(`run ${dir}`);
      console.log(`backend ${config.backend.backend}: ${config.backend.reason}`);
      live?.begin(alphaZeroRunInfo(config, dir));
    },
    shouldStop: () => stop.requested || (live?.stopRequested ?? false),
    ...(opts.checkpointEvery !== undefined ? { checkpointEvery: opts.checkpointEvery } : {}),
    ...(opts.iterations !== undefined ? { iterations: opts.iterations } : {}),
    ...(opts.minutes !== undefined ? { maxSeconds: opts.minutes * 60 } : {}),
    command: process.argv.slice(1).join(' '),
  };
  try {
    let outcome: AlphaZeroOutcome;
    if (opts.resume) {
      if (opts.set) throw new InvalidArgumentError('--set cannot change a run being resumed (its hyperparameters are in config.json)');
      console.log(`resuming ${opts.resume}`);
      outcome = await resumeAlphaZero(opts.resume, { ...common, ...(opts.backend !== 'auto' ? { backend: opts.backend } : {}) });
    } else {
      // Checked before the backend starts, so a typo fails at once.
      const hp = resolveHyperparameters({ size: opts.size, ...opts.set });
      console.log(`AlphaZero-lite on ${hp.size}x${hp.size} (komi ${hp.komi}), seed ${opts.seed}: ${hp.gamesPerIteration} self-play games of ${hp.simulations} simulations per move, then ${hp.trainSteps} steps of batch ${hp.batchSize}, per iteration`);
      outcome = await trainAlphaZero({ ...common, hyperparameters: { ...opts.set, size: opts.size }, seed: opts.seed, out: opts.out, backend: opts.backend, ...(opts.runId !== undefined ? { runId: opts.runId } : {}) });
    }
    await live?.end(outcome.finished ? 'done' : 'stopped');
    console.log(`${outcome.finished ? 'done' : 'stopped'} after iteration ${outcome.iteration}: ${outcome.dir} (agent in ${outcome.dir}/agent; resume with lab go train --resume ${outcome.dir})`);
    console.log(`play it: lab match ${outcome.dir} gnugo:10 --games 10 --size ${outcome.size} --move-time 1   or   lab gtp --agent ${outcome.dir}   or   the viewer's Go page (lab serve)`);
    return outcome;
  } catch (e) {
    await live?.end('failed', e instanceof Error ? e.message : String(e));
    throw e;
  } finally {
    stop.dispose();
  }
}

export function registerGoCommands(program: Command): Command {
  const go = program.command('go').description('Go-lite agents: AlphaZero-lite self-play training (lab go train)');
  const train = go
    .command('train', { isDefault: true })
    .description('train an AlphaZero-lite agent (PUCT + policy-value network) by self-play; writes a run directory with metrics, checkpoints and the agent')
    .option('--size <n>', 'board size (5 to 19)', integer(5), 7)
    .option('--iterations <n>', 'iterations (self-play games + training steps each; default 100)', integer(1))
    .option('--minutes <m>', 'stop (with a checkpoint and the agent) after the first iteration past this wall-clock time', positiveNumber)
    .option('--set <key=value>', 'override a hyperparameter, repeatable (JSON values, e.g. --set simulations=100 --set filters=[64,64,64])', keyValue)
    .option('--checkpoint-every <n>', 'iterations between checkpoints (default: a tenth of --iterations, at most 5; with --minutes also every tenth of that time)', integer(1))
    .option('--live [url]', `publish the run to a lab server (lab serve): its losses and evaluation matches live in the browser viewer (default ${DEFAULT_LIVE_URL})`)
    .option('--token <key>', "the lab server's key for --live (default: LAB_TOKEN, else found by itself for a server on this machine)");
  addRunOptions(train, { runId: 'go<size>-alphazero-s<seed>-<time>', budget: '--iterations' });
  train.action(async (opts: GoTrainCliOptions) => {
    if (opts.size > 19) throw new InvalidArgumentError(`--size must be from 5 to 19, got ${opts.size}`);
    await goTrainCli(opts);
  });
  return go;
}

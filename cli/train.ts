/** `lab train`: trains an agent, stores the run, resumes one, publishes it live. */
import { Command, InvalidArgumentError, Option } from 'commander';
import { AGENTS } from '../agents/registry.js';
import { resumeTraining, rlRunInfo, startTraining } from '../agents/train.js';
import { ProgressSink } from '../lab/progress.js';
import { addRunOptions, importOption, integer, keyValue, type ImportCliOptions, type RunCliOptions } from './args.js';
import { onStopSignal } from './signals.js';
import type { RunConfig } from '../lab/run_store.js';
import type { EventSink } from '../protocol/events.js';
import { LivePublisher } from '../lab/publisher.js';
import { DEFAULT_LIVE_URL } from '../protocol/protocol.js';
import { parseTrainSchedule, type TrainSchedule } from '../lab/replay.js';
import { agentOfZooFile, ZOO_AGENTS } from '../agents/zoo_conf.js';

/** The agent a zoo file configures, from its name (`dqn.yml` → dqn). */
function zooAgentOf(file: string): string {
  const agent = agentOfZooFile(file);
  if (!agent) throw new InvalidArgumentError(`--conf ${file}: cannot tell the agent from the file's name (rl-zoo names them ${ZOO_AGENTS.map((a) => `${a}.yml`).join(', ')}): give --agent`);
  return agent;
}

export function registerTrainCommand(program: Command): void {
  const train = program
    .command('train')
    .description('train an agent; writes a run directory with config, metrics, checkpoints and the final policy')
    .option('--env <id>', 'environment id, or module:EnvId from your own module (a preset may choose it, e.g. --preset book uses CartPole-v0)')
    // Not commander choices: agents from --import modules are known only once the action imports them.
    .addOption(new Option('--agent <name>', `agent: ${Object.keys(AGENTS).join(', ')}, or one an --import module registers`).default('dqn'))
    .addOption(importOption())
    .option('--preset <name>', 'named hyperparameter preset (default: the one tuned for the env, if any)')
    .addOption(new Option('--conf <file>', "an rl-baselines3-zoo hyperparameter file (e.g. hyperparams/dqn.yml): the env's section instead of a preset; the agent is the file's name unless --agent").conflicts(['preset', 'resume']))
    .option('--steps <n>', 'env-step budget', integer(1))
    .option('--episodes <n>', 'episode budget (stops at whichever budget ends first)', integer(1))
    .option('--eval-every <n>', 'env steps between greedy evaluations (0: only at the end)', integer(0))
    .option('--eval-episodes <n>', 'episodes per evaluation', integer(1))
    .option('--checkpoint-every <n>', 'env steps between checkpoints (0: only at the end; default: a tenth of --steps, from 100 to 10,000)', integer(0));
  addRunOptions(train, { runId: '<env>-<agent>[-<preset>]-s<seed>-<time>', budget: '--steps' });
  train
    .option('--set <key=value>', 'override a hyperparameter, repeatable (e.g. --set learningRate=0.001)', keyValue)
    .option('--kw <key=value>', 'environment option, repeatable', keyValue)
    .option('--live [url]', `publish the run to a lab server (lab serve) for the browser viewer (default ${DEFAULT_LIVE_URL})`)
    .option('--token <key>', 'the lab server\'s key for --live (default: LAB_TOKEN, else found by itself for a server on this machine)')
    .option('--live-every <k>', 'stream the steps of every k-th episode only', integer(1), 1)
    .option('--live-fps <n>', 'most frames per second streamed while watched (whole episodes are skipped to stay within it)', integer(1), 300)
    .option('--record-train <schedule>', 'replay logs of training episodes (sub-env 0): cubic (0, 1, 8, 27, …, then every 1000th), none, all or every:N', (v: string) => parseTrainSchedule(v))
    .option('--record-frames', 'store render() frames in replay logs (otherwise regenerated on demand)')
    .option('--record-obs', 'store observations in replay logs')
    .option('--no-record-eval', 'no replay logs of evaluation episodes')
    .action(async (opts: TrainCliOptions) => {
      const stop = onStopSignal((m) => console.log(`\n${m}`));
      const progress: { sink: ProgressSink | null } = { sink: null };
      const live = opts.live
        ? new LivePublisher({
            url: opts.live === true ? DEFAULT_LIVE_URL : opts.live,
            ...(opts.token ? { token: opts.token } : {}),
            frameEvery: opts.liveEvery,
            maxFramesPerSecond: opts.liveFps,
            onStop: () => stop.request('stopping (asked by the viewer): writing a checkpoint'),
            onNotice: (m) => console.log(`live: ${m}`),
          })
        : null;
      const onStart = (config: RunConfig, runDir: string) => {
        console.log(`run ${runDir}`);
        console.log(`${config.agent}${config.preset ? ` (preset ${config.preset})` : ''} on ${config.envId}, seed ${config.seed}, ${config.steps.toLocaleString('en-US')} steps${config.episodes ? ` or ${config.episodes} episodes` : ''}`);
        console.log(`backend ${config.backend.backend}: ${config.backend.reason}`);
        progress.sink = new ProgressSink(config.steps, config.episodes);
        live?.begin(rlRunInfo(config, runDir));
      };
      const sinks: EventSink[] = [{ handle: (e) => progress.sink?.handle(e), close: () => progress.sink?.close() }];
      if (live) sinks.push(live);
      try {
        const outcome = opts.resume
          ? await resumeTraining(opts.resume, { ...(opts.import ? { imports: opts.import } : {}), ...(opts.steps ? { steps: opts.steps } : {}), ...(opts.backend !== 'auto' ? { backend: opts.backend } : {}), sinks, shouldStop: () => stop.requested || (live?.stopRequested ?? false), onStart })
          : await startTraining({
              agent: opts.conf !== undefined && train.getOptionValueSource('agent') === 'default' ? zooAgentOf(opts.conf) : opts.agent,
              ...(opts.conf !== undefined ? { conf: opts.conf } : {}),
              ...(opts.import ? { imports: opts.import } : {}),
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
              shouldStop: () => stop.requested || (live?.stopRequested ?? false),
              command: ['lab', ...process.argv.slice(2)].join(' '),
              onStart,
            });
        const { result } = outcome;
        if (outcome.alreadyDone) {
          await live?.end('done');
          console.log(
            `${outcome.runDir} is already at its budget (${result.steps.toLocaleString('en-US')} of ${outcome.config.steps.toLocaleString('en-US')} steps): nothing trained, ` +
              (outcome.policyWritten ? 'only its missing policy/ written from the final checkpoint (the process had ended before writing it)' : 'nothing changed') +
              (result.lastEval ? `; final greedy eval ${result.lastEval.meanReturn.toFixed(1)} ± ${result.lastEval.stdReturn.toFixed(1)}` : ''),
          );
          console.log(`train it further: npx lab train --resume ${outcome.runDir} --steps <more than ${result.steps}>`);
          return;
        }
        await live?.end(result.stopped ? 'stopped' : 'done');
        console.log(
          `${result.stopped ? 'stopped' : 'done'}: ${result.steps.toLocaleString('en-US')} steps` +
            // A vector env steps all its sub-envs at once: the last step can pass the budget.
            (result.steps > outcome.config.steps ? ` (budget ${outcome.config.steps.toLocaleString('en-US')}, passed by the last step of ${outcome.config.numEnvs} envs)` : '') +
            `, ${result.episodes} episodes` +
            (result.lastEval ? `, final greedy eval ${result.lastEval.meanReturn.toFixed(1)} ± ${result.lastEval.stdReturn.toFixed(1)}` : ''),
        );
        console.log(`run directory: ${outcome.runDir}  (evaluate: npx lab eval ${outcome.runDir}; resume: npx lab train --resume ${outcome.runDir})`);
      } catch (e) {
        await live?.end('failed', e instanceof Error ? e.message : String(e));
        throw e;
      } finally {
        stop.dispose();
      }
    });
}

interface TrainCliOptions extends RunCliOptions, ImportCliOptions {
  env?: string;
  agent: string;
  preset?: string;
  conf?: string;
  steps?: number;
  episodes?: number;
  evalEvery?: number;
  evalEpisodes?: number;
  checkpointEvery?: number;
  set?: Record<string, unknown>;
  kw?: Record<string, unknown>;
  live?: string | true;
  token?: string;
  liveEvery: number;
  liveFps: number;
  recordTrain?: TrainSchedule;
  recordFrames?: boolean;
  recordObs?: boolean;
  recordEval: boolean;
}

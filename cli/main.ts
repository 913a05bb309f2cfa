/**
 * The `lab` command line: one file per command (family) in this folder, registered here in the order
 * `lab --help` lists them.
 */
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { LAB_VERSION } from '../lab/version.js';
import { registerListCommands } from './envs.js';
import { registerPlayCommands } from './play.js';
import { registerTrainCommand } from './train.js';
import { registerServeCommand } from './serve.js';
import { registerEvalCommand } from './eval.js';
import { registerExportCommand } from './export.js';
import { registerWatchCommand } from './watch.js';
import { registerMatchCommands } from './match.js';
import { registerGoCommands } from './go.js';
import { registerWorkerCommand } from './worker.js';
import { registerCompareCommand } from './compare.js';
import { registerPlotCommand } from './plot.js';
import { registerReplayCommands } from './replay.js';
import { registerGanCommands } from './gan.js';
import { registerGanEvalCommands } from './gan_eval.js';
import { registerSweepCommand } from './sweep.js';
import { registerCheckEnvCommand } from './check_env.js';
import { registerTensorboardCommand } from './tensorboard.js';
import { registerBackendsCommand } from './backends.js';


export function buildCli(): Command {
  const program = new Command('lab')
    .description('RL and GAN lab: Gymnasium-style environments, agents, live viewer')
    .version(LAB_VERSION)
    .showHelpAfterError('(run with --help for usage)')
    // Commander's own errors (bad options, unknown commands) in the style of the lab's: "lab: error: …".
    // Set before the commands are added, which inherit it.
    .configureOutput({ outputError: (text, write) => write(text.replace(/^error: /, 'lab: error: ')) });
  registerListCommands(program);
  registerPlayCommands(program);
  registerTrainCommand(program);
  registerServeCommand(program);
  registerEvalCommand(program);
  registerExportCommand(program);
  registerWatchCommand(program);
  registerMatchCommands(program);
  registerReplayCommands(program);
  registerCompareCommand(program);
  registerPlotCommand(program);
  registerGanCommands(program);
  registerGanEvalCommands(program);
  registerGoCommands(program);
  registerWorkerCommand(program);
  registerSweepCommand(program);
  registerCheckEnvCommand(program);
  registerTensorboardCommand(program);
  registerBackendsCommand(program);
  return program;
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


/**
 * `lab gan`: the GAN command group. `lab gan train …` trains (and `lab gan --category …` with no subcommand
 * does the same: train is the group's default command); other files add subcommands to the same group
 * (`lab gan eval`) through `ganCommandGroup(program)`.
 */
import path from 'node:path';
import { Command, Option } from 'commander';
import { addRunOptions, integer, keyValue, type RunCliOptions } from './args.js';
import { onStopSignal } from './signals.js';
import type { EventSink, TrainEvent } from '../protocol/events.js';
import { LivePublisher } from '../lab/publisher.js';
import { DEFAULT_LIVE_URL } from '../protocol/protocol.js';
import { GAN_PRESETS, type GanHyperparameters } from '../gan/models.js';
import { ganRunInfo, resumeGanTraining, startGanTraining, type DataMode, type GanOutcome, type GanRunConfig } from '../gan/train.js';

import { fitLine, ProgressLine, progressBar, type ProgressStream } from '../lab/progress.js';

function duration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '-';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/**
 * The progress display of `lab gan train` (through lab/progress.ts's `ProgressLine`): on a terminal one line
 * redrawn in place, cut to the terminal's width (iteration and bar, D and G losses and accuracies, ETA,
 * iterations/s); otherwise a plain line every few seconds.
 */
export class GanProgressSink implements EventSink {
  private iteration = 0;
  private stats: Record<string, number> = {};
  private sps = 0;
  private readonly display: ProgressLine;

  constructor(
    private readonly total: number,
    out: ProgressStream = process.stdout,
    plainEverySeconds = 5,
  ) {
    this.display = new ProgressLine(out, { plainEverySeconds });
  }

  handle(event: TrainEvent): void {
    if (event.type !== 'update') return;
    this.iteration = event.step;
    this.stats = event.stats;
    this.sps = event.sps;
    this.display.update(this.fields(), event.step >= this.total);
  }

  /** The fields of the line, most important first (a narrow terminal drops them from the end). */
  fields(): string[] {
    const iteration = Math.min(this.iteration, this.total);
    const pct = Math.min(100, (100 * iteration) / this.total);
    const f = (k: string, d = 3) => (this.stats[k] === undefined ? '-' : this.stats[k]!.toFixed(d));
    const wide = this.display.columns >= 120;
    return [
      `iter ${iteration.toLocaleString('en-US')}/${this.total.toLocaleString('en-US')} ${progressBar(pct / 100, this.display.barWidth(20))} ${pct.toFixed(0)}%`,
      wide ? `D loss ${f('dLoss')} acc ${f('dAcc', 2)} (real ${f('dAccReal', 2)} fake ${f('dAccFake', 2)})` : `D ${f('dLoss')} acc ${f('dAcc', 2)}`,
      wide ? `G loss ${f('gLoss')} acc ${f('gAcc', 2)}` : `G ${f('gLoss')} acc ${f('gAcc', 2)}`,
      this.sps > 0 ? `ETA ${duration((this.total - iteration) / this.sps)}` : '',
      `${this.sps >= 10 ? this.sps.toFixed(0) : this.sps.toFixed(2)} it/s`,
    ].filter(Boolean);
  }

  /** The line as one string (what a plain line shows). */
  text(): string {
    return fitLine(this.fields(), Number.POSITIVE_INFINITY);
  }

  /** A message above the progress line. */
  line(message: string): void {
    this.display.line(message);
  }

  close(): void {
    this.display.end();
  }
}

export interface GanTrainCliOptions extends RunCliOptions {
  /** The lab server's key for --live (default: LAB_TOKEN or the local server's runtime file). */
  token?: string;
  category: string;
  preset: string;
  iterations?: number;
  batch?: number;
  sampleEvery?: number;
  checkpointEvery?: number;
  logEvery?: number;
  limit?: number;
  data: DataMode;
  set?: Record<string, unknown>;
  /** Publish the run to a lab server (`true`: the default URL). */
  live?: string | true;
}

/** The `lab gan` group, created on first use (so other files can add subcommands in any order). */
export function ganCommandGroup(program: Command): Command {
  const existing = program.commands.find((c) => c.name() === 'gan');
  if (existing) return existing;
  return program
    .command('gan')
    .description('GANs on Quick, Draw! doodles: `lab gan train` (the default), and more subcommands')
    .addHelpText(
      'after',
      '\nEach command has its own options: lab gan <command> --help. The train options (--category, --preset,\n' +
        '--iterations, --batch, --resume, --live, --set, …): lab gan train --help. Without a command, lab gan\n' +
        'trains: lab gan --category cat is lab gan train --category cat.',
    );
}

/** Adds `lab gan train` (the default subcommand of `lab gan`). Returns the `gan` group. */
export function registerGanCommands(program: Command): Command {
  const gan = ganCommandGroup(program);
  const presets = Object.entries(GAN_PRESETS)
    .map(([name, p]) => `${name} (${p.description})`)
    .join('; ');
  const train = gan
    .command('train', { isDefault: true })
    .description('train a GAN on a Quick, Draw! category; writes a run directory with sample grids, curves, checkpoints and the generator')
    .option('--category <name>', 'Quick, Draw! category (shipped offline: apple, bicycle, cat, diamond, fish)', 'apple')
    .option('--preset <name>', `preset: ${presets}`, 'fast')
    .option('--iterations <n>', "iteration budget (one discriminator and one adversarial step each; default: the preset's)", integer(1))
    .option('--batch <n>', "batch size (default: the preset's)", integer(1))
    .option('--sample-every <n>', 'iterations between fixed-noise sample grids (0: only the final one)', integer(0))
    .option('--checkpoint-every <n>', "iterations between checkpoints (0: only at the end; default: the preset's, at most a tenth of --iterations)", integer(0))
    .option('--log-every <n>', 'iterations between loss/accuracy averages (metrics.jsonl, progress)', integer(1))
    .option('--limit <n>', 'train on the first n images only', integer(1))
    .addOption(new Option('--data <mode>', "where the images come from: the cache or the shipped subset only ('never' downloads), download when missing, or download again").choices(['never', 'if-missing', 'always']).default('if-missing'));
  addRunOptions(train, { runId: 'gan-<category>-<preset>-s<seed>-<time>', budget: '--iterations' });
  train
    .option('--set <key=value>', 'override a hyperparameter, repeatable (JSON values; dotted keys reach inside: --set labelNoise=0 --set discriminator.spectralNorm=true)', keyValue)
    .option('--live [url]', `publish the run to a lab server (lab serve): live sample grids and curves in the browser viewer (default ${DEFAULT_LIVE_URL})`)
    .option('--token <key>', 'the lab server\'s key for --live (default: LAB_TOKEN, else found by itself for a server on this machine)')
    .action(async (opts: GanTrainCliOptions) => {
      await ganTrainCli(opts);
    });
  return gan;
}

/** What `lab gan train` does; `extraSinks` lets a caller add sinks (a live publisher). */
export async function ganTrainCli(opts: GanTrainCliOptions, extraSinks: EventSink[] = []): Promise<GanOutcome> {
  const progress: { sink: GanProgressSink | null } = { sink: null };
  const say = (message: string) => (progress.sink ? progress.sink.line(message) : console.log(message));
  const stop = onStopSignal(say);
  // A malformed URL fails here, before any training; an unreachable server only warns (the run trains and is stored).
  const live = opts.live
    ? new LivePublisher({
        url: opts.live === true ? DEFAULT_LIVE_URL : opts.live,
        ...(opts.token ? { token: opts.token } : {}),
        onStop: () => stop.request('stopping (asked by the viewer): writing a checkpoint'),
        onNotice: (m) => say(`live: ${m}`),
      })
    : null;
  const onStart = (config: GanRunConfig, runDir: string) => {
    const hp = config.hyperparameters;
    console.log(`run ${runDir}`);
    console.log(
      `GAN preset ${config.preset} on '${config.category}' (${config.data.count.toLocaleString('en-US')} images, ${config.data.source}), seed ${config.seed}, ` +
        `${config.iterations.toLocaleString('en-US')} iterations of batch ${hp.batch}`,
    );
    console.log(`backend ${config.backend.backend}: ${config.backend.reason}`);
    progress.sink = new GanProgressSink(config.iterations);
    live?.begin(ganRunInfo(config, runDir));
  };
  const sinks: EventSink[] = [{ handle: (e) => progress.sink?.handle(e), close: () => progress.sink?.close() }, ...extraSinks, ...(live ? [live] : [])];
  const shouldStop = () => stop.requested || (live?.stopRequested ?? false);
  try {
    const outcome = opts.resume
      ? await resumeGanTraining(opts.resume, { ...(opts.iterations !== undefined ? { iterations: opts.iterations } : {}), ...(opts.backend !== 'auto' ? { backend: opts.backend } : {}), sinks, shouldStop, onStart })
      : await startGanTraining({
          category: opts.category,
          preset: opts.preset,
          seed: opts.seed,
          ...(opts.iterations !== undefined ? { iterations: opts.iterations } : {}),
          ...(opts.batch !== undefined ? { batch: opts.batch } : {}),
          ...(opts.sampleEvery !== undefined ? { sampleEvery: opts.sampleEvery } : {}),
          ...(opts.checkpointEvery !== undefined ? { checkpointEvery: opts.checkpointEvery } : {}),
          ...(opts.logEvery !== undefined ? { logEvery: opts.logEvery } : {}),
          ...(opts.limit !== undefined ? { limit: opts.limit } : {}),
          ...(opts.runId !== undefined ? { runId: opts.runId } : {}),
          ...(opts.set ? { overrides: opts.set as Partial<GanHyperparameters> } : {}),
          data: opts.data,
          backend: opts.backend,
          out: opts.out,
          sinks,
          shouldStop,
          command: ['lab', ...process.argv.slice(2)].join(' '),
          onStart,
        });
    const { result, runDir } = outcome;
    await live?.end(result.stopped ? 'stopped' : 'done');
    const last = result.last;
    console.log(
      `${result.stopped ? 'stopped' : 'done'}: ${result.iterations.toLocaleString('en-US')} iterations in ${duration(result.seconds)}` +
        (last ? ` (last: D loss ${last.dLoss!.toFixed(3)}, acc ${last.dAcc!.toFixed(2)}; G loss ${last.gLoss!.toFixed(3)})` : ''),
    );
    if (!result.stopped) {
      console.log(`samples:       ${path.join(runDir, 'samples', 'final.png')}  (every grid in ${path.join(runDir, 'samples')})`);
      console.log(`curves:        ${path.join(runDir, 'curves', 'loss.png')}, ${path.join(runDir, 'curves', 'accuracy.png')}`);
      console.log(`interpolation: ${path.join(runDir, 'interpolation.png')}`);
      const ema = outcome.config.hyperparameters.generatorEma ?? 0;
      console.log(`generator:     ${path.join(runDir, 'generator')}${ema > 0 ? `  (the weight average, decay ${ema}; the last weights: ${path.join(runDir, 'generator-raw')})` : ''}`);
    }
    console.log(`resume: npx lab gan train --resume ${runDir}${result.stopped ? '' : ' --iterations <more>'}`);
    return outcome;
  } catch (e) {
    await live?.end('failed', e instanceof Error ? e.message : String(e));
    throw e;
  } finally {
    stop.dispose();
  }
}

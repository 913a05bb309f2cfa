/**
 * `lab plot <runDir…>`: the learning curves of one or more runs as PNG and SVG, one line per run (RL: greedy
 * evaluation returns, or training episode returns; GAN: losses and accuracies; AlphaZero-lite: win rates and
 * losses). The comparison code of `lab compare` with one group per run (analysis/compare.ts, `plotRuns`).
 */
import fs from 'node:fs';
import path from 'node:path';
import { Option, type Command } from 'commander';
import { integer } from './args.js';
import { loadRuns, plotRuns, resolveRunDirs, type LeftOutRun } from '../analysis/compare.js';
import { renderPng, renderSvg } from '../lab/plot.js';
import { runStamp } from '../lab/run_store.js';

export interface PlotCliOptions {
  /** 'eval' or 'episodes'; by default eval when every run has evaluations, else episodes. */
  curve?: 'eval' | 'episodes';
  window?: number;
  out?: string;
}

export interface PlotCommandResult {
  text: string;
  files: { png: string; svg: string };
  leftOut: LeftOutRun[];
}

/** How a path is named in messages: relative to the working directory when it is inside it. */
export function shownPath(p: string): string {
  const rel = path.relative(process.cwd(), p);
  return rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : p;
}

/** Where `lab plot` writes by default: `<run>/plots` for one run, `plots-<time>` beside the runs for several. */
export function defaultPlotDir(dirs: readonly string[]): string {
  return dirs.length === 1 ? path.join(dirs[0]!, 'plots') : path.join(path.dirname(dirs[0]!), `plots-${runStamp()}`);
}

/** The command's work without the process around it. */
export function runPlot(paths: string[], opts: PlotCliOptions): PlotCommandResult {
  const dirs = resolveRunDirs(paths);
  const { runs, leftOut } = loadRuns(dirs, shownPath, { curvesOnly: true });
  if (runs.length === 0) throw new Error(`lab plot: no run to plot: ${leftOut.map((r) => r.message).join('; ')}`);
  const curve = opts.curve ?? (runs.every((r) => (r.kind ?? 'rl') !== 'rl' || r.evals.length > 0) ? 'eval' : 'episodes');
  const { result, panels } = plotRuns(runs, { curve, ...(opts.window !== undefined ? { window: opts.window } : {}) });
  const out = path.resolve(opts.out ?? defaultPlotDir(runs.map((r) => r.dir)));
  fs.mkdirSync(out, { recursive: true });
  const files = { png: path.join(out, 'curves.png'), svg: path.join(out, 'curves.svg') };
  fs.writeFileSync(files.png, renderPng(panels));
  fs.writeFileSync(files.svg, renderSvg(panels));
  const lines = [
    `${runs.length === 1 ? `1 run` : `${runs.length} runs`}: ${panels.map((p) => p.title).join('; ')}`,
    ...result.notes.map((n) => `note: ${n}`),
    `Learning curves: ${shownPath(files.png)}`,
    `                 ${shownPath(files.svg)}`,
  ];
  return { text: lines.join('\n'), files, leftOut };
}

export function registerPlotCommand(program: Command): void {
  program
    .command('plot')
    .description('learning curves of one or more runs as PNG and SVG, one line per run (RL: evaluation or episode returns; GAN: losses; AlphaZero-lite: win rates); lab compare aggregates seeds instead')
    .argument('<runDirs...>', 'run directories, or directories holding run directories (e.g. runs/)')
    .addOption(new Option('--curve <kind>', 'RL runs: greedy evaluations or training episode returns (moving average); default: eval when every run has evaluations').choices(['eval', 'episodes']))
    .option('--window <steps>', 'moving-average window in env steps for --curve episodes (default: about 1/25 of the longest run)', integer(1))
    .option('--out <dir>', 'directory for curves.png and curves.svg (default: <run>/plots for one run, plots-<time> beside the runs for several)')
    .action((paths: string[], opts: PlotCliOptions) => {
      const r = runPlot(paths, opts);
      for (const run of r.leftOut) process.stderr.write(`lab: warning: ${run.message} — left out of the plot\n`);
      console.log(r.text);
    });
}

/**
 * `lab compare <runDir…>`: groups runs of one kind (an agent over several seeds), prints their final scores (RL:
 * evaluation returns; GAN: losses; AlphaZero-lite: win rates) as IQM and mean with stratified-bootstrap confidence
 * intervals, and writes learning curves as PNG and SVG.
 */
import fs from 'node:fs';
import path from 'node:path';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { importOption, integer, loadPlugins, type ImportCliOptions } from './args.js';
import { compareRuns, curvePanels, DEFAULT_COMPARE_OPTIONS, formatCompare, loadRuns, parseGroupBy, resolveRunDirs, withLeftOut, type CompareOptions, type LeftOutRun } from '../analysis/compare.js';
import { renderPng, renderSvg } from '../lab/plot.js';
import { runStamp } from '../lab/run_store.js';
import { experimentRunGroups } from '../sweep/experiment_files.js';

function probability(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0 || n >= 1) throw new InvalidArgumentError(`expected a number between 0 and 1, got '${value}'`);
  return n;
}

function groupByOption(value: string): CompareOptions['groupBy'] {
  try {
    return parseGroupBy(value);
  } catch (e) {
    throw new InvalidArgumentError(e instanceof Error ? e.message : String(e));
  }
}

interface CompareCliOptions {
  groupBy: CompareOptions['groupBy'];
  reps: number;
  seed: number;
  confidence: number;
  curve: CompareOptions['curve'];
  window?: number;
  normalize: CompareOptions['normalize'];
  out?: string;
  plot: boolean;
  json?: boolean;
}

export interface CompareCommandResult {
  text: string;
  files: { png: string; svg: string } | null;
  /** Runs left out (damaged, no score, of another kind than the one compared), each named as given with its reason; also printed as warnings. */
  leftOut: LeftOutRun[];
}

/** How a run directory is named in messages: as the user wrote it, relative to the working directory. */
function shownDir(dir: string): string {
  const rel = path.relative(process.cwd(), dir);
  return rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : dir;
}

/** Where `lab compare` writes by default: `compare-<time>` in the folder holding the (first) run, e.g. `runs/compare-<time>`. */
export function defaultCompareDir(dirs: readonly string[]): string {
  return path.join(path.dirname(dirs[0]!), `compare-${runStamp()}`);
}

/**
 * The command's work without the process around it: returns what it prints and the files it wrote. An experiment
 * directory (lab sweep) stands for its runs, grouped by trial unless --group-by says otherwise.
 */
export function runCompare(paths: string[], opts: CompareCliOptions & { groupByGiven?: boolean }): CompareCommandResult {
  const experiments = experimentRunGroups(paths);
  if (experiments.trialOf.size > 0 && !opts.groupByGiven) opts = { ...opts, groupBy: 'trial' };
  const dirs = resolveRunDirs(experiments.paths);
  if (dirs.length < 2) throw new Error(`lab compare needs at least 2 runs, got ${dirs.length} (${dirs.map(shownDir).join(', ')}); for the learning curves of one run: lab plot ${dirs.map(shownDir).join(' ')}`);
  // A run that cannot be compared (damaged files, no score yet) is left out with its reason; the rest go on.
  const { runs, leftOut } = loadRuns(dirs, shownDir);
  for (const r of runs) {
    const trial = experiments.trialOf.get(r.dir);
    if (trial !== undefined) r.trial = trial;
  }
  if (runs.length < 2) {
    const why = leftOut.map((r) => r.message).join('; ');
    throw new Error(`lab compare needs at least 2 usable runs, got ${runs.length} of ${dirs.length}: ${why}${runs.length === 1 ? `; for the learning curves of one run: lab plot ${shownDir(runs[0]!.dir)}` : ''}`);
  }
  const result = withLeftOut(compareRuns(runs, {
    groupBy: opts.groupBy,
    reps: opts.reps,
    seed: opts.seed,
    confidence: opts.confidence,
    curve: opts.curve,
    normalize: opts.normalize,
    ...(opts.window !== undefined ? { window: opts.window } : {}),
  }), leftOut);
  let files: CompareCommandResult['files'] = null;
  if (opts.plot) {
    const out = path.resolve(opts.out ?? defaultCompareDir(runs.map((r) => r.dir)));
    fs.mkdirSync(out, { recursive: true });
    const panels = curvePanels(result);
    files = { png: path.join(out, 'compare.png'), svg: path.join(out, 'compare.svg') };
    fs.writeFileSync(files.png, renderPng(panels));
    fs.writeFileSync(files.svg, renderSvg(panels));
  }
  const text = opts.json
    ? JSON.stringify({ ...result, files }, null, 2)
    : formatCompare(result) + (files ? `\n\nLearning curves: ${files.png}\n                 ${files.svg}` : '');
  return { text, files, leftOut };
}

export function registerCompareCommand(program: Command): void {
  program
    .command('compare')
    .description('compare groups of runs of one kind (an agent over several seeds): IQM and mean of final scores (RL: evaluation returns; GAN: losses; AlphaZero-lite: win rates) with stratified-bootstrap 95% CIs, probability of improvement, learning curves as PNG and SVG (one run: lab plot)')
    .argument('<runDirs...>', 'run directories, directories holding run directories (e.g. runs/), or experiment directories (lab sweep)')
    .option('--group-by <key>', 'how runs are grouped: agent-preset (e.g. dqn/zoo), agent, preset, env, trial (the default for experiment directories) or hyper:<name>', groupByOption, DEFAULT_COMPARE_OPTIONS.groupBy)
    .option('--reps <n>', 'bootstrap resamples per interval', integer(1), DEFAULT_COMPARE_OPTIONS.reps)
    .option('--seed <n>', 'seed of the bootstrap resampling', integer(0), DEFAULT_COMPARE_OPTIONS.seed)
    .option('--confidence <p>', 'confidence level of the intervals', probability, DEFAULT_COMPARE_OPTIONS.confidence)
    .addOption(new Option('--curve <kind>', 'learning curves from greedy evaluations or from training episode returns (moving average)').choices(['eval', 'episodes']).default('eval'))
    .option('--window <steps>', 'moving-average window in env steps for --curve episodes (default: about 1/25 of the longest run)', integer(1))
    .addOption(new Option('--normalize <how>', "aggregate over several envs: raw returns, or each env's returns divided by its reward threshold").choices(['none', 'threshold']).default('none'))
    .option('--out <dir>', 'directory for compare.png and compare.svg (default: compare-<time> in the folder holding the runs, e.g. runs/compare-<time>)')
    .option('--no-plot', 'do not write the learning-curve images')
    .option('--json', 'print JSON (groups, scores, estimates, intervals, curves, pairs, notes)')
    .addOption(importOption())
    .action(async (paths: string[], opts: CompareCliOptions & ImportCliOptions, command: Command) => {
      // Runs are compared from their metrics; modules given here lend their envs' reward thresholds (--normalize threshold).
      await loadPlugins(opts);
      const r = runCompare(paths, { ...opts, groupByGiven: command.getOptionValueSource('groupBy') === 'cli' });
      for (const run of r.leftOut) process.stderr.write(`lab: warning: ${run.message} — left out of the comparison\n`);
      console.log(r.text);
    });
}

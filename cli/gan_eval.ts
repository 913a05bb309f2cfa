/**
 * `lab gan eval <runDir | generatorDir>`: the quality of a trained generator in the features of the lab's
 * Quick, Draw! classifier (gan/metrics.ts): FD and KID against the real category, the real-vs-real baseline
 * on two disjoint halves of the real images, the FD ratio at matched sample sizes, and the classifier's
 * predicted-class histogram of the samples. Prints a table (or JSON with --json) and writes `eval.json`. The
 * evaluation itself is gan/evaluate.ts; this file is the command and its table.
 *
 * Also `lab gan train-classifier`, which (re)trains the classifier shipped in data/quickdraw-classifier/.
 */
import { Command, Option } from 'commander';
import { backendOption, integer } from './args.js';
import type { BackendChoice } from '../lab/compute.js';
import { ganCommandGroup } from './gan.js';
import { CLASSIFIER_DIR } from '../gan/classifier.js';
import { classifierTrainOptions, trainClassifierCli, type TrainClassifierCliOptions } from './classifier.js';
import { DEFAULT_EVAL_SAMPLES, DEFAULT_EVAL_SEED, ganEval, type EvalDataMode, type GanEvalReport } from '../gan/evaluate.js';

const pct = (x: number | null): string => (x === null ? '-' : `${(100 * x).toFixed(1)}%`);

function num(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  const a = Math.abs(x);
  return a !== 0 && (a < 1e-4 || a >= 1e6) ? x.toExponential(2) : x.toFixed(a < 1 ? 4 : 3);
}

/** The report as a table. */
export function formatGanEval(r: GanEvalReport): string {
  const rows: [string, string, string][] = [
    ['FD  generated vs real', num(r.fd.generatedVsReal.value), `${r.fd.generatedVsReal.sizes[0]} vs ${r.fd.generatedVsReal.sizes[1]}`],
    ['FD  generated vs real half A', num(r.fd.generatedVsHalfA.value), `${r.fd.generatedVsHalfA.sizes[0]} vs ${r.fd.generatedVsHalfA.sizes[1]}`],
    ['FD  real half B vs half A (baseline)', num(r.fd.baseline.value), `${r.fd.baseline.sizes[0]} vs ${r.fd.baseline.sizes[1]}`],
    ['FD ratio (generated / baseline)', r.fd.ratio.toFixed(2), '1 = as close to A as real data'],
    ['KID generated vs real', `${num(r.kid.generatedVsReal.mean)} ± ${num(r.kid.generatedVsReal.std)}`, `${r.kid.generatedVsReal.subsets} subsets of ${r.kid.generatedVsReal.subsetSize}`],
    ['KID real half B vs half A (baseline)', `${num(r.kid.baseline.mean)} ± ${num(r.kid.baseline.std)}`, `${r.kid.baseline.subsets} subsets of ${r.kid.baseline.subsetSize}`],
    [`classified as ${r.category}`, pct(r.classes.generatedTarget), `real: ${pct(r.classes.realTarget)}`],
    ['mean top-class probability', r.classes.generatedConfidence.toFixed(3), ''],
  ];
  const w0 = Math.max(...rows.map((x) => x[0].length));
  const w1 = Math.max(...rows.map((x) => x[1].length));
  const hist = (h: Record<string, number>) => r.classes.names.map((c) => `${c} ${pct(h[c]!)}`).join(' · ');
  return [
    `GAN eval of ${r.generatorSource}`,
    `category ${r.category}: ${r.generated} generated vs ${r.real} real (${r.realSource}), seed ${r.seed}; ` +
      `features: the classifier's ${r.featureDim}-d penultimate layer${r.classifier.heldOutAccuracy !== null ? ` (held-out accuracy ${pct(r.classifier.heldOutAccuracy)})` : ''}`,
    ...rows.map(([a, b, c]) => `  ${a.padEnd(w0)}  ${b.padStart(w1)}  ${c}`.trimEnd()),
    `  class histogram, generated: ${hist(r.classes.generated)}`,
    `  class histogram, real:      ${hist(r.classes.real)}`,
    `FD is the Fréchet distance in classifier features (not Inception FID); half A/B are disjoint halves of the real images.`,
  ].join('\n');
}

interface EvalCliOptions {
  n: number;
  seed: number;
  category?: string;
  real: number;
  data?: EvalDataMode;
  classifier?: string;
  kidSubsets?: number;
  kidSize?: number;
  out?: string;
  write: boolean;
  json?: boolean;
  backend: BackendChoice;
}

/** Adds `lab gan eval` and `lab gan train-classifier` to the `lab gan` group. */
export function registerGanEvalCommands(program: Command): Command {
  const gan = ganCommandGroup(program);
  gan
    .command('eval')
    .description("sample quality of a trained generator: FD and KID in the classifier's features against the real category, with the real-vs-real baseline; writes eval.json")
    .argument('<target>', 'a GAN run directory (runs/gan-…), its generator/ directory, a checkpoint, or a model directory')
    .option('--n <n>', 'generated images', integer(2), DEFAULT_EVAL_SAMPLES)
    .option('--seed <n>', 'seed of the latents, of the split of the real images into halves and of the KID subsets', integer(0), DEFAULT_EVAL_SEED)
    .option('--category <name>', "the real category (default: the run's)")
    .option('--real <n>', 'real images: the first n of the category', integer(4), DEFAULT_EVAL_SAMPLES)
    .addOption(new Option('--data <mode>', "where the real images come from (default: the run's setting, else if-missing)").choices(['never', 'if-missing', 'always']))
    .option('--classifier <dir>', 'feature classifier directory', CLASSIFIER_DIR)
    .option('--kid-subsets <n>', 'KID subsets', integer(1))
    .option('--kid-size <n>', 'KID subset size (capped at the set sizes)', integer(2))
    .option('--out <file>', 'where to write the report (default <runDir>/eval.json)')
    .option('--no-write', 'do not write eval.json')
    .option('--json', 'print the report as JSON')
    .addOption(backendOption())
    .action(async (target: string, opts: EvalCliOptions) => {
      const { report, file } = await ganEval({
        target,
        n: opts.n,
        seed: opts.seed,
        real: opts.real,
        backend: opts.backend,
        ...(opts.category !== undefined ? { category: opts.category } : {}),
        ...(opts.data !== undefined ? { data: opts.data } : {}),
        ...(opts.classifier !== undefined ? { classifierDir: opts.classifier } : {}),
        ...(opts.kidSubsets !== undefined ? { kidSubsets: opts.kidSubsets } : {}),
        ...(opts.kidSize !== undefined ? { kidSubsetSize: opts.kidSize } : {}),
        out: opts.write ? opts.out : false,
      });
      if (opts.json) console.log(JSON.stringify(report, null, 2));
      else {
        console.log(formatGanEval(report));
        if (file) console.log(`written: ${file}`);
      }
    });
  const train = gan
    .command('train-classifier')
    .description('train the Quick, Draw! classifier whose features `lab gan eval` uses (shipped in data/quickdraw-classifier/)');
  classifierTrainOptions(train).action(async (opts: TrainClassifierCliOptions) => {
    await trainClassifierCli(opts);
  });
  return gan;
}

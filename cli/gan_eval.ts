/**
 * `lab gan eval <runDir | generatorDir>`: the quality of a trained generator in the features of the lab's
 * Quick, Draw! classifier (gan/metrics.ts): FD and KID against the real category, the real-vs-real baseline
 * on two disjoint halves of the real images, the FD ratio at matched sample sizes, and the classifier's
 * predicted-class histogram of the samples. Prints a table (or JSON with --json) and writes `eval.json`.
 *
 * Also `lab gan train-classifier`, which (re)trains the classifier shipped in data/quickdraw-classifier/.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Command, Option } from 'commander';
import { backendOption, integer } from './args.js';
import { computeInfo, initCompute, type BackendChoice } from '../lab/compute.js';
import { readJson, writeJsonAtomic } from '../lab/fsutil.js';
import { ganCommandGroup } from './gan.js';
import { CLASSIFIER_DIR, QuickDrawClassifier } from '../gan/classifier.js';
import { classifierTrainOptions, trainClassifierCli, type TrainClassifierCliOptions } from './classifier.js';
import { loadQuickDraw, toFloatImages } from '../gan/data.js';
import { evaluateSamples, type SampleEval } from '../gan/metrics.js';
import { loadGenerator } from '../gan/train.js';

export type EvalDataMode = 'never' | 'if-missing' | 'always';

/** Anything that draws n images (n×784 floats in [0, 1]) from a seed: a loaded generator, or a stand-in in tests. */
export interface SampleSource {
  sample(n: number, seed?: number): Float32Array;
  source?: string;
  dispose?(): void;
}

export interface GanEvalOptions {
  /** A run directory, its generator/ directory, a checkpoint, or a model directory (model.json + weights.bin). */
  target: string;
  /** Generated images (default 3000). */
  n?: number;
  /** Seed of the latents, of the real halves' split and of KID's subsets (default 1). */
  seed?: number;
  /** The real category (default: the run's config.json). */
  category?: string;
  /** Real images to compare with: the first `real` of the category (default 3000). */
  real?: number;
  data?: EvalDataMode;
  classifierDir?: string;
  kidSubsets?: number;
  kidSubsetSize?: number;
  /** Where to write the report: a file, or false for nowhere (default `<runDir or target>/eval.json`). */
  out?: string | false;
  backend?: BackendChoice;
  /** Use this instead of loading the generator from `target`. */
  generator?: SampleSource;
}

export interface GanEvalReport extends SampleEval {
  format: 'rl-gan-lab/gan-eval@1';
  target: string;
  runDir: string | null;
  generatorSource: string;
  seed: number;
  realSource: string;
  classifier: { dir: string; heldOutAccuracy: number | null; featureDim: number; classes: string[] };
  backend: string;
  seconds: number;
  createdAt: string;
}

/** The run directory a target belongs to: itself or an ancestor (up to 3 levels) with a GAN config.json. */
export function findRunDir(target: string): string | null {
  let dir = path.resolve(target);
  for (let up = 0; up <= 3; up++) {
    const file = path.join(dir, 'config.json');
    if (fs.existsSync(file)) {
      try {
        const config = readJson<{ kind?: string; category?: unknown }>(file, 'run config');
        if (typeof config.category === 'string') return dir;
      } catch {
        // not a run's config
      }
    }
    const parent = path.dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  return null;
}

function checkCount(value: number | undefined, fallback: number, what: string, min: number): number {
  const n = value ?? fallback;
  if (!Number.isSafeInteger(n) || n < min) throw new RangeError(`${what} must be an integer >= ${min}, got ${n}`);
  return n;
}

/** Loads the generator (unless given), samples, loads the real images and the classifier, evaluates, writes eval.json. */
export async function ganEval(options: GanEvalOptions): Promise<{ report: GanEvalReport; file: string | null }> {
  const started = performance.now();
  const n = checkCount(options.n, 3000, 'n', 2);
  const seed = checkCount(options.seed, 1, 'seed', 0);
  const realCount = checkCount(options.real, 3000, 'real', 4);
  const runDir = findRunDir(options.target);
  let category = options.category;
  let dataMode = options.data;
  if (runDir) {
    const config = readJson<{ category: string; data?: { download?: EvalDataMode } }>(path.join(runDir, 'config.json'), 'run config');
    category ??= config.category;
    dataMode ??= config.data?.download === 'always' ? 'if-missing' : config.data?.download;
  }
  if (!category) throw new Error(`no category for ${options.target}: it is not in a run directory with a config.json; give --category`);
  if (options.backend !== undefined || computeInfo() === null) await initCompute(options.backend ?? 'auto');

  const classifier = QuickDrawClassifier.load(options.classifierDir ?? CLASSIFIER_DIR);
  const generator = options.generator ?? loadGenerator(options.target);
  try {
    const raw = generator.sample(n, seed);
    if (raw.length !== n * 784) throw new Error(`the generator returned ${raw.length} values for ${n} images (expected ${n * 784})`);
    const generated = new Float32Array(raw.length);
    for (let i = 0; i < raw.length; i++) {
      const v = raw[i]!;
      if (!Number.isFinite(v)) throw new Error(`the generator produced a non-finite pixel (${v}) in image ${Math.floor(i / 784)}`);
      generated[i] = Math.min(1, Math.max(0, v));
    }
    const images = await loadQuickDraw(category, { limit: realCount, download: dataMode ?? 'if-missing' });
    const real = toFloatImages(images, '0,1');
    const result = evaluateSamples(classifier, real, generated, {
      category,
      seed,
      kid: { ...(options.kidSubsets !== undefined ? { subsets: options.kidSubsets } : {}), ...(options.kidSubsetSize !== undefined ? { subsetSize: options.kidSubsetSize } : {}) },
    });
    const report: GanEvalReport = {
      format: 'rl-gan-lab/gan-eval@1',
      target: options.target,
      runDir,
      generatorSource: generator.source ?? options.target,
      seed,
      realSource: images.source,
      classifier: { dir: classifier.dir ?? '', heldOutAccuracy: classifier.info?.accuracy.heldOut ?? null, featureDim: classifier.featureDim, classes: classifier.classes },
      ...result,
      backend: computeInfo()?.backend ?? 'unknown',
      seconds: Math.round((performance.now() - started) / 100) / 10,
      createdAt: new Date().toISOString(),
    };
    const file = options.out === false ? null : (options.out ?? path.join(runDir ?? options.target, 'eval.json'));
    if (file) writeJsonAtomic(file, report);
    return { report, file };
  } finally {
    classifier.dispose();
    if (!options.generator) generator.dispose?.();
  }
}

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
    .option('--n <n>', 'generated images', integer(2), 3000)
    .option('--seed <n>', 'seed of the latents, of the split of the real images into halves and of the KID subsets', integer(0), 1)
    .option('--category <name>', "the real category (default: the run's)")
    .option('--real <n>', 'real images: the first n of the category', integer(4), 3000)
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

/**
 * The quality of a trained generator in the features of the lab's Quick, Draw! classifier (gan/metrics.ts): FD
 * and KID against the real category, the real-vs-real baseline on two disjoint halves of the real images, the FD
 * ratio at matched sample sizes, and the classifier's predicted-class histogram of the samples; written as the
 * run's `eval.json`. `lab gan eval` (cli/gan_eval.ts) prints it; `lab sweep` (sweep/run_job.ts) takes a GAN
 * trial's objective from it, which is why it lives here and not in the CLI.
 */
import fs from 'node:fs';
import path from 'node:path';
import { computeInfo, initCompute, type BackendChoice } from '../lab/compute.js';
import { readJson, writeJsonAtomic } from '../lab/fsutil.js';
import { RunStore } from '../lab/run_store.js';
import { CLASSIFIER_DIR, QuickDrawClassifier } from './classifier.js';
import { loadQuickDraw, toFloatImages } from './data.js';
import { evaluateSamples, type SampleEval } from './metrics.js';
import { loadGenerator } from './train.js';

export type EvalDataMode = 'never' | 'if-missing' | 'always';

export const GAN_EVAL_FORMAT = 'rl-gan-lab/gan-eval@1';
/** The report's file name in a run directory. */
export const GAN_EVAL_FILE = 'eval.json';
/** Generated images, and real ones, an evaluation uses unless told otherwise. */
export const DEFAULT_EVAL_SAMPLES = 3000;
/** The seed of the latents, of the real halves' split and of KID's subsets unless told otherwise. */
export const DEFAULT_EVAL_SEED = 1;

/** Anything that draws n images (n×784 floats in [0, 1]) from a seed: a loaded generator, or a stand-in in tests. */
export interface SampleSource {
  /** n×784 floats in [0, 1]; a Promise where the backend reads asynchronously (webgpu). */
  sample(n: number, seed?: number): Float32Array | Promise<Float32Array>;
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

/** The settings an evaluation ran with (the report's `request`). */
export interface GanEvalRequest {
  n: number;
  real: number;
  seed: number;
  kidSubsets: number | null;
  kidSubsetSize: number | null;
}

export interface GanEvalReport extends SampleEval {
  format: typeof GAN_EVAL_FORMAT;
  target: string;
  runDir: string | null;
  generatorSource: string;
  /**
   * The run's checkpoint whose generator was evaluated (its final generator/ is the newest checkpoint's), so a
   * reader can tell whether the report is about the run as it is now; null for a generator outside a run, or a
   * stand-in. Reports written before this field existed lack it.
   */
  checkpoint?: { at: number; dir: string } | null;
  /** What was asked for (counts, seed, KID subsets: null for the default), so a reader can tell whether it may reuse the report. */
  request?: GanEvalRequest;
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

/**
 * Which of the run's checkpoints a generator loaded from `source` is: the one it lies in (checkpoints/iter-N/…),
 * or the newest one for the run's final networks (written after its last checkpoint). Null otherwise.
 */
function checkpointOf(runDir: string, source: string): { at: number; dir: string } | null {
  const rel = path.relative(runDir, path.resolve(source)).split(path.sep);
  if (rel[0] === '..' || path.isAbsolute(rel.join(path.sep))) return null;
  if (rel[0] === 'checkpoints' && rel.length >= 2) {
    const m = /^iter-(\d+)$/.exec(rel[1]!);
    return m ? { at: Number(m[1]), dir: rel[1]! } : null;
  }
  if (rel[0] !== 'generator' && rel[0] !== 'generator-raw') return null;
  try {
    const latest = RunStore.open(runDir, 'gan').latestCheckpoint();
    return latest ? { at: latest.at, dir: latest.dir } : null;
  } catch {
    return null;
  }
}

/** Loads the generator (unless given), samples, loads the real images and the classifier, evaluates, writes eval.json. */
export async function ganEval(options: GanEvalOptions): Promise<{ report: GanEvalReport; file: string | null }> {
  const started = performance.now();
  const n = checkCount(options.n, DEFAULT_EVAL_SAMPLES, 'n', 2);
  const seed = checkCount(options.seed, DEFAULT_EVAL_SEED, 'seed', 0);
  const realCount = checkCount(options.real, DEFAULT_EVAL_SAMPLES, 'real', 4);
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
  let generator: SampleSource;
  try {
    generator = options.generator ?? loadGenerator(options.target);
  } catch (e) {
    classifier.dispose();
    throw e;
  }
  try {
    const raw = await generator.sample(n, seed);
    if (raw.length !== n * 784) throw new Error(`the generator returned ${raw.length} values for ${n} images (expected ${n * 784})`);
    const generated = new Float32Array(raw.length);
    for (let i = 0; i < raw.length; i++) {
      const v = raw[i]!;
      if (!Number.isFinite(v)) throw new Error(`the generator produced a non-finite pixel (${v}) in image ${Math.floor(i / 784)}`);
      generated[i] = Math.min(1, Math.max(0, v));
    }
    const images = await loadQuickDraw(category, { limit: realCount, download: dataMode ?? 'if-missing' });
    const real = toFloatImages(images, '0,1');
    const result = await evaluateSamples(classifier, real, generated, {
      category,
      seed,
      kid: { ...(options.kidSubsets !== undefined ? { subsets: options.kidSubsets } : {}), ...(options.kidSubsetSize !== undefined ? { subsetSize: options.kidSubsetSize } : {}) },
    });
    const report: GanEvalReport = {
      format: GAN_EVAL_FORMAT,
      target: options.target,
      runDir,
      generatorSource: generator.source ?? options.target,
      checkpoint: runDir && !options.generator && generator.source ? checkpointOf(runDir, generator.source) : null,
      request: { n, real: realCount, seed, kidSubsets: options.kidSubsets ?? null, kidSubsetSize: options.kidSubsetSize ?? null },
      seed,
      realSource: images.source,
      classifier: { dir: classifier.dir ?? '', heldOutAccuracy: classifier.info?.accuracy.heldOut ?? null, featureDim: classifier.featureDim, classes: classifier.classes },
      ...result,
      backend: computeInfo()?.backend ?? 'unknown',
      seconds: Math.round((performance.now() - started) / 100) / 10,
      createdAt: new Date().toISOString(),
    };
    const file = options.out === false ? null : (options.out ?? path.join(runDir ?? options.target, GAN_EVAL_FILE));
    if (file) writeJsonAtomic(file, report);
    return { report, file };
  } finally {
    classifier.dispose();
    if (!options.generator) generator.dispose?.();
  }
}

/**
 * A run directory's eval.json, or null when there is none or it is not a readable report of this format (a
 * reader then evaluates again or shows no evaluation; the file is written atomically, so this means it was never
 * finished by this lab).
 */
export function readGanEvalReport(runDir: string): GanEvalReport | null {
  const file = path.join(runDir, GAN_EVAL_FILE);
  if (!fs.existsSync(file)) return null;
  let report: unknown;
  try {
    report = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch {
    return null;
  }
  if (report === null || typeof report !== 'object' || (report as { format?: unknown }).format !== GAN_EVAL_FORMAT) return null;
  const r = report as Partial<GanEvalReport>;
  if (typeof r.fd !== 'object' || typeof r.kid !== 'object' || typeof r.classes !== 'object' || typeof r.generated !== 'number' || typeof r.real !== 'number') return null;
  return report as GanEvalReport;
}

/**
 * The run's eval.json when it is about the run as it is now: of the generator of its newest checkpoint (a run
 * resumed and trained on since makes an older report stale). Null otherwise.
 */
export function readCurrentGanEvalReport(runDir: string): GanEvalReport | null {
  const report = readGanEvalReport(runDir);
  if (!report?.checkpoint) return null;
  let latest: { at: number; dir: string } | null;
  try {
    latest = RunStore.open(runDir, 'gan').latestCheckpoint();
  } catch {
    return null;
  }
  return latest && latest.at === report.checkpoint.at && latest.dir === report.checkpoint.dir ? report : null;
}

/** The classes the classifier in `dir` (default: the shipped one) tells apart, from its classifier.json. */
export function classifierClasses(dir: string = CLASSIFIER_DIR): string[] {
  const info = readJson<{ classes?: unknown }>(path.join(dir, 'classifier.json'), 'classifier info');
  if (!Array.isArray(info.classes) || !info.classes.every((c) => typeof c === 'string')) throw new Error(`${path.join(dir, 'classifier.json')} lists no classes`);
  return info.classes as string[];
}

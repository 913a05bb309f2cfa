/**
 * `GET /api/runs/<runId>/models` (which networks a run holds) and `GET /api/runs/<runId>/models/<model>/<file>`:
 * a run's networks in tfjs's Layers format, so that a page can
 * load them with tf.loadLayersModel('<prefix>/model.json') (the latent explorer, play in the browser).
 *
 * Only the names in MODEL_DIRS and MODEL_FILES are looked up, only inside the run's own directory (the run id
 * is resolved by DiskRuns.dirOf, which already refuses symlinks out of the runs directory), and a file whose
 * real path leaves the run directory is refused as missing. A GAN run's `generator` is the one `lab gan eval`
 * uses (gan/train.ts loadGenerator): the run's final generator/ (the weight average when the run kept one),
 * else its latest checkpoint's generator-ema/, else that checkpoint's generator/ (a run stopped or still
 * training). `generator-ema` is the run's generator-ema/, else the latest checkpoint's.
 */
import fs from 'node:fs';
import path from 'node:path';
import { MODEL_DIRS, MODEL_FILES, type ModelDir, type ModelFile } from '../protocol/protocol.js';
import { RunStore } from '../lab/run_store.js';
import { BadRequest, NotFound } from './replays_api.js';

export interface ModelFileAnswer {
  /** Absolute path of the file (inside the run directory). */
  file: string;
  contentType: string;
}

function isModelDir(s: string): s is ModelDir {
  return (MODEL_DIRS as readonly string[]).includes(s);
}

function isModelFile(s: string): s is ModelFile {
  return (MODEL_FILES as readonly string[]).includes(s);
}

/** The latest checkpoint directory of a run (null without one, or when its pointer or config cannot be read). */
function latestCheckpointDir(runDir: string): string | null {
  try {
    const store = RunStore.open(runDir);
    const latest = store.latestCheckpoint();
    return latest ? path.join(store.checkpointsDir, latest.dir) : null;
  } catch {
    return null;
  }
}

/** `child` is `parent` or inside it (both real paths). */
function inside(parent: string, child: string): boolean {
  const rel = path.relative(parent, child);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

/**
 * The directory network `model` is served from: the first candidate that holds a model.json (its other files come
 * from it too, never a mix), or null when the run holds no such model.
 */
function modelDir(runDir: string, model: ModelDir): string | null {
  const dirs = [path.join(runDir, model)];
  if (model === 'generator' || model === 'generator-ema') {
    const ckpt = latestCheckpointDir(runDir);
    if (ckpt) dirs.push(path.join(ckpt, 'generator-ema'));
    if (ckpt && model === 'generator') dirs.push(path.join(ckpt, 'generator'));
  }
  return dirs.find((d) => fs.existsSync(path.join(d, 'model.json'))) ?? null;
}

/** `file` of model directory `dir` as served: its real path, when that is a file inside the run; else null. */
function servedFile(runDir: string, dir: string, file: ModelFile): string | null {
  let real: string;
  try {
    real = fs.realpathSync(path.join(dir, file));
  } catch {
    return null;
  }
  return inside(runDir, real) && fs.statSync(real).isFile() ? real : null;
}

/**
 * Finds the file `file` of network `model` in the run directory `runDir` (a real path; null: no such run).
 * Throws BadRequest for a name outside the lists and NotFound for what the run does not hold.
 */
export function findModelFile(runId: string, runDir: string | null, model: string, file: string): ModelFileAnswer {
  if (!isModelDir(model)) throw new BadRequest(`unknown model ${JSON.stringify(model.slice(0, 100))}: one of ${MODEL_DIRS.join(', ')}`);
  if (!isModelFile(file)) throw new BadRequest(`unknown model file ${JSON.stringify(file.slice(0, 100))}: one of ${MODEL_FILES.join(', ')}`);
  if (runDir === null) throw new NotFound(`no run ${JSON.stringify(runId.slice(0, 200))}`);
  const dir = modelDir(runDir, model);
  if (!dir) throw new NotFound(`${runId} has no ${model}/ model`);
  const real = servedFile(runDir, dir, file);
  if (real === null) throw new NotFound(`${runId}: ${model}/ has no ${file}`);
  return { file: real, contentType: file.endsWith('.bin') ? 'application/octet-stream' : 'application/json; charset=utf-8' };
}

/**
 * The networks run `runId` holds now (each model of MODEL_DIRS whose model.json `findModelFile` serves), with the
 * files of each it serves; each model's directory is looked up once.
 */
export function listModels(runId: string, runDir: string | null): { models: ModelDir[]; files: Partial<Record<ModelDir, ModelFile[]>> } {
  if (runDir === null) throw new NotFound(`no run ${JSON.stringify(runId.slice(0, 200))}`);
  const models: ModelDir[] = [];
  const files: Partial<Record<ModelDir, ModelFile[]>> = {};
  for (const model of MODEL_DIRS) {
    const dir = modelDir(runDir, model);
    const served = dir === null ? [] : MODEL_FILES.filter((file) => servedFile(runDir, dir, file) !== null);
    if (!served.includes('model.json')) continue;
    models.push(model);
    files[model] = served;
  }
  return { models, files };
}

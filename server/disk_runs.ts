/**
 * Runs found in the runs directory (config.json + metrics.jsonl), listed next to the live ones: RL runs
 * (`lab train`) and GAN runs (`lab gan train`, config.json with `kind: "gan"`: their curves come from the
 * update events, their sample grids from the samples events). Only names that are valid run ids are
 * looked at, and only directly under the runs directory.
 *
 * Every field read from disk is checked (lab/run_files.ts). A run whose files fail is listed all the same,
 * with status 'damaged' and the reason in `error` ("config.json: createdAt: expected a string, got nothing"),
 * naming files relative to the run directory; its other fields are what could be salvaged, else safe
 * defaults. AlphaZero-lite runs (`lab go train`, `kind: "go-alphazero"`) are listed too: envId `go:<N>x<N>`,
 * steps in self-play iterations, their iterations as update points (losses) and their evaluations as matches
 * (`lastMatches` in the summary); the Go page also lists them as opponents (GoGames.agents).
 */
import fs from 'node:fs';
import path from 'node:path';
import { ALPHAZERO_AGENT, GAN_AGENT, GAN_FPS, ganEnvId, goEnvId, RUN_ID_PATTERN, WATCH_SAMPLE_GRIDS, type RunHistory, type RunKind, type RunSummary, type SamplesEvent } from '../protocol/protocol.js';
import { fileKey } from '../lab/fsutil.js';
import { ALPHAZERO_KIND, oneLine, publicMessage, readAlphaZeroRunMetrics, readRawRunConfig, readRunConfig, readRunMetrics, RunDamage } from '../lab/run_files.js';
import { HistoryBuffer, NO_PROGRESS, addGrids, thinGrids } from './history.js';
import { envFps } from './catalog.js';

interface CacheEntry {
  /** config.json and metrics.jsonl as they were when read (size and mtime; -1 when missing). */
  key: string;
  summary: RunSummary;
  history: HistoryBuffer;
  /** The sample grids in metrics.jsonl (GAN runs), oldest first, thinned to WATCH_SAMPLE_GRIDS. */
  samples: SamplesEvent[];
}

export class DiskRuns {
  private readonly cache = new Map<string, CacheEntry>();
  private readonly keys = new Map<string, string>();

  constructor(readonly root: string) {}

  /** The run directory of `runId`, or null when there is none (or the id is not a plain name). */
  dirOf(runId: string): string | null {
    if (typeof runId !== 'string' || !RUN_ID_PATTERN.test(runId)) return null;
    const dir = path.join(this.root, runId);
    try {
      const real = fs.realpathSync(dir);
      if (path.dirname(real) !== fs.realpathSync(this.root)) return null; // a symlink out of the runs dir
      return fs.statSync(path.join(real, 'config.json')).isFile() ? real : null;
    } catch {
      return null;
    }
  }

  /**
   * Every run in the runs directory, damaged ones included (status 'damaged'); runs named in `skip` (the live
   * ones, whose metrics.jsonl grows all the time) are not read.
   */
  list(skip?: ReadonlySet<string>): RunSummary[] {
    let names: string[];
    try {
      names = fs.readdirSync(this.root);
    } catch {
      return [];
    }
    const out: RunSummary[] = [];
    for (const name of names) {
      if (skip?.has(name)) continue;
      const entry = this.load(name);
      if (entry) out.push(entry.summary);
    }
    return out;
  }

  summary(runId: string): RunSummary | null {
    return this.load(runId)?.summary ?? null;
  }

  /** The learning curves of a stored run (empty for a damaged one). */
  history(runId: string): RunHistory | null {
    return this.load(runId)?.history.snapshot() ?? null;
  }

  /** The sample grids a stored GAN run wrote, oldest first, at most WATCH_SAMPLE_GRIDS (none for RL runs). */
  samples(runId: string): SamplesEvent[] {
    return this.load(runId)?.samples ?? [];
  }

  /** The reason a run is damaged, or null (also for runs that do not exist). */
  damage(runId: string): string | null {
    const s = this.summary(runId);
    return s && s.status === 'damaged' ? (s.error ?? 'damaged') : null;
  }

  private load(runId: string): CacheEntry | null {
    const dir = this.dirOf(runId);
    if (!dir) return null;
    const key = `${fileKey(path.join(dir, 'config.json'))}|${fileKey(path.join(dir, 'metrics.jsonl'))}`;
    const cached = this.cache.get(runId);
    if (cached !== undefined && this.keys.get(runId) === key) return cached;
    let entry: CacheEntry;
    try {
      entry = this.read(runId, dir, key);
    } catch (e) {
      entry = damagedEntry(runId, dir, key, e);
    }
    this.cache.set(runId, entry);
    this.keys.set(runId, key);
    return entry;
  }

  private read(runId: string, dir: string, key: string): CacheEntry {
    const checked = readRunConfig(dir);
    const history = new HistoryBuffer();
    let samples: SamplesEvent[] = [];
    if (checked.kind === ALPHAZERO_KIND) history.add(readAlphaZeroRunMetrics(dir));
    else {
      const events = readRunMetrics(dir);
      history.add(events);
      samples = thinGrids(addGrids([], events.filter((e): e is SamplesEvent => e.type === 'samples'), WATCH_SAMPLE_GRIDS), WATCH_SAMPLE_GRIDS);
    }
    const config = checked.config;
    const common = {
      runId,
      seed: config.seed,
      backend: backendName(config),
      status: 'stored' as const,
      origin: 'disk' as const,
      step: history.lastStep,
      episodesDone: history.episodesDone,
      lastReturn: history.lastReturn,
      meanReturn: history.meanReturn,
      lastEval: history.lastEval,
      sps: history.sps,
      exploration: history.exploration,
      watchers: 0,
      createdAt: config.createdAt,
      error: null,
    };
    let summary: RunSummary;
    if (checked.kind === ALPHAZERO_KIND) {
      const az = checked.config;
      summary = { ...common, kind: 'go-alphazero', envId: goEnvId(az.hyperparameters.size), agent: ALPHAZERO_AGENT, preset: null, steps: az.iterations, episodes: null, numEnvs: 1, fps: 1, lastMatches: history.lastMatches };
    } else if (checked.kind === 'gan') {
      const gan = checked.config;
      summary = { ...common, kind: 'gan', envId: ganEnvId(gan.category), agent: GAN_AGENT, preset: gan.preset, steps: gan.iterations, episodes: null, numEnvs: 1, fps: GAN_FPS };
    } else {
      const rl = checked.config;
      summary = { ...common, kind: 'rl', envId: rl.envId, agent: rl.agent, preset: rl.preset, steps: rl.steps, episodes: rl.episodes, numEnvs: rl.numEnvs, fps: safeFps(rl.envId) };
    }
    return { key, summary, history, samples };
  }
}

/** The backend a run's config.json names ('unknown' when it names none). */
function backendName(config: object): string {
  const b = Object.hasOwn(config, 'backend') ? (config as { backend: unknown }).backend : undefined;
  const name = b !== null && typeof b === 'object' && Object.hasOwn(b, 'backend') ? (b as { backend: unknown }).backend : undefined;
  return typeof name === 'string' ? name.slice(0, 50) : 'unknown';
}

/**
 * The summary of a run that could not be read: status 'damaged', `error` the reason (relative names only),
 * and whatever fields of config.json still have the right type; safe defaults for the rest.
 */
function damagedEntry(runId: string, dir: string, key: string, e: unknown): CacheEntry {
  const reason = e instanceof RunDamage ? oneLine(e.message) : `cannot be read: ${publicMessage(e instanceof Error ? e.message : String(e), [dir, path.dirname(dir)])}`;
  const raw = readRawRunConfig(dir) ?? {};
  const field = (k: string): unknown => (Object.hasOwn(raw, k) ? raw[k] : undefined);
  const str = (k: string, max = 200): string | null => {
    const v = field(k);
    return typeof v === 'string' && v.length > 0 && v.length <= max ? v : null;
  };
  const int = (k: string, min: number): number | null => {
    const v = field(k);
    return typeof v === 'number' && Number.isSafeInteger(v) && v >= min ? v : null;
  };
  const gan = field('kind') === 'gan';
  const az = field('kind') === ALPHAZERO_KIND;
  const kind: RunKind = gan ? 'gan' : az ? 'go-alphazero' : 'rl';
  const category = gan ? str('category', 100) : null;
  const hp = field('hyperparameters');
  const size = az && hp !== null && typeof hp === 'object' && Object.hasOwn(hp, 'size') ? (hp as { size: unknown }).size : null;
  const envId = gan ? (category !== null ? ganEnvId(category) : '') : az ? (typeof size === 'number' && Number.isSafeInteger(size) && size >= 5 && size <= 19 ? goEnvId(size) : '') : (str('envId') ?? '');
  const created = str('createdAt', 100);
  let dirTime = 0;
  try {
    dirTime = fs.statSync(dir).mtimeMs;
  } catch {
    dirTime = 0;
  }
  const summary: RunSummary = {
    runId,
    kind,
    envId,
    agent: gan ? GAN_AGENT : az ? ALPHAZERO_AGENT : (str('agent', 100) ?? ''),
    preset: str('preset', 100),
    seed: int('seed', 0) ?? 0,
    steps: (gan || az ? int('iterations', 1) : int('steps', 1)) ?? 0,
    episodes: gan || az ? null : int('episodes', 1),
    numEnvs: int('numEnvs', 1) ?? 1,
    backend: backendName(raw),
    fps: gan ? GAN_FPS : az ? 1 : envId ? safeFps(envId) : 30,
    status: 'damaged',
    origin: 'disk',
    ...NO_PROGRESS,
    createdAt: created !== null && Number.isFinite(Date.parse(created)) ? created : new Date(dirTime).toISOString(),
    error: reason,
  };
  return { key, summary, history: new HistoryBuffer(), samples: [] };
}

function safeFps(envId: string): number {
  try {
    return envFps(envId);
  } catch {
    return 30;
  }
}

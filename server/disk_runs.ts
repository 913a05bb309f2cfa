/**
 * Runs found in the runs directory (config.json + metrics.jsonl), listed next to the live ones: RL runs
 * (`lab train`) and GAN runs (`lab gan train`, config.json with `kind: "gan"`: their curves come from the
 * update events, their sample grids from the samples events). Only names that are valid run ids are
 * looked at, and only directly under the runs directory.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { RunConfig } from '../lab/run_store.js';
import { readMetricsFile } from '../lab/run_store.js';
import { GAN_AGENT, GAN_FPS, ganEnvId, RUN_ID_PATTERN, WATCH_SAMPLE_GRIDS, type RunHistory, type RunSummary, type SamplesEvent } from '../lab/protocol.js';
import type { GanRunConfig } from '../gan/train.js';
import { HistoryBuffer, addGrids, thinGrids } from './history.js';
import { envFps } from './catalog.js';

interface CacheEntry {
  mtimeMs: number;
  size: number;
  summary: RunSummary;
  history: HistoryBuffer;
  /** The sample grids in metrics.jsonl (GAN runs), oldest first, thinned to WATCH_SAMPLE_GRIDS. */
  samples: SamplesEvent[];
}

export class DiskRuns {
  private readonly cache = new Map<string, CacheEntry>();

  constructor(readonly root: string) {}

  /** The run directory of `runId`, or null when there is none (or the id is not a plain name). */
  dirOf(runId: string): string | null {
    if (!RUN_ID_PATTERN.test(runId)) return null;
    const dir = path.join(this.root, runId);
    try {
      const real = fs.realpathSync(dir);
      if (path.dirname(real) !== fs.realpathSync(this.root)) return null; // a symlink out of the runs dir
      return fs.statSync(path.join(real, 'config.json')).isFile() ? real : null;
    } catch {
      return null;
    }
  }

  list(): RunSummary[] {
    let names: string[];
    try {
      names = fs.readdirSync(this.root);
    } catch {
      return [];
    }
    const out: RunSummary[] = [];
    for (const name of names) {
      const entry = this.load(name);
      if (entry) out.push(entry.summary);
    }
    return out;
  }

  summary(runId: string): RunSummary | null {
    return this.load(runId)?.summary ?? null;
  }

  history(runId: string): RunHistory | null {
    return this.load(runId)?.history.snapshot() ?? null;
  }

  /** The sample grids a stored GAN run wrote, oldest first, at most WATCH_SAMPLE_GRIDS (none for RL runs). */
  samples(runId: string): SamplesEvent[] {
    return this.load(runId)?.samples ?? [];
  }

  private load(runId: string): CacheEntry | null {
    const dir = this.dirOf(runId);
    if (!dir) return null;
    const metrics = path.join(dir, 'metrics.jsonl');
    let stat: fs.Stats | null = null;
    try {
      stat = fs.statSync(metrics);
    } catch {
      stat = null;
    }
    const cached = this.cache.get(runId);
    if (cached && stat && cached.mtimeMs === stat.mtimeMs && cached.size === stat.size) return cached;
    try {
      const config = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8')) as RunConfig | GanRunConfig;
      const history = new HistoryBuffer();
      let samples: SamplesEvent[] = [];
      if (stat) {
        const events = readMetricsFile(metrics);
        history.add(events);
        samples = thinGrids(addGrids([], events.filter((e): e is SamplesEvent => e.type === 'samples'), WATCH_SAMPLE_GRIDS), WATCH_SAMPLE_GRIDS);
      }
      const common = {
        runId,
        seed: config.seed,
        backend: config.backend?.backend ?? 'unknown',
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
      if ('kind' in config && config.kind === 'gan') {
        if (typeof config.category !== 'string' || !(config.iterations >= 1)) return null;
        summary = { ...common, kind: 'gan', envId: ganEnvId(config.category), agent: GAN_AGENT, preset: config.preset, steps: config.iterations, episodes: null, numEnvs: 1, fps: GAN_FPS };
      } else {
        const rl = config as RunConfig;
        if (typeof rl.envId !== 'string') return null;
        summary = { ...common, kind: 'rl', envId: rl.envId, agent: rl.agent, preset: rl.preset, steps: rl.steps, episodes: rl.episodes, numEnvs: rl.numEnvs, fps: safeFps(rl.envId) };
      }
      const entry = { mtimeMs: stat?.mtimeMs ?? 0, size: stat?.size ?? 0, summary, history, samples };
      this.cache.set(runId, entry);
      return entry;
    } catch {
      return null; // half-written or foreign directory: not a run we can show
    }
  }
}

function safeFps(envId: string): number {
  try {
    return envFps(envId);
  } catch {
    return 30;
  }
}

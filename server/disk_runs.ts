/**
 * Runs found in the runs directory (config.json + metrics.jsonl), listed next to the live ones. Only names
 * that are valid run ids are looked at, and only directly under the runs directory.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { RunConfig } from '../lab/run_store.js';
import { readMetricsFile } from '../lab/run_store.js';
import { RUN_ID_PATTERN, type RunHistory, type RunSummary } from '../lab/protocol.js';
import { HistoryBuffer } from './history.js';
import { envFps } from './catalog.js';

interface CacheEntry {
  mtimeMs: number;
  size: number;
  summary: RunSummary;
  history: HistoryBuffer;
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
      const config = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8')) as RunConfig;
      const history = new HistoryBuffer();
      if (stat) history.add(readMetricsFile(metrics));
      const summary: RunSummary = {
        runId,
        kind: 'rl',
        envId: config.envId,
        agent: config.agent,
        preset: config.preset,
        seed: config.seed,
        steps: config.steps,
        episodes: config.episodes,
        numEnvs: config.numEnvs,
        backend: config.backend?.backend ?? 'unknown',
        fps: safeFps(config.envId),
        status: 'stored',
        origin: 'disk',
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
      const entry = { mtimeMs: stat?.mtimeMs ?? 0, size: stat?.size ?? 0, summary, history };
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

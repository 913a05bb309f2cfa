/**
 * Read-only HTTP access to replay logs and comparisons, confined to the runs directory.
 *
 * Only plain names reach the file system: run ids match RUN_ID_PATTERN, log names REPLAY_NAME_PATTERN, and
 * every resolved path (after following symlinks) must still lie inside the runs directory, so `../`,
 * URL-encoded separators, absolute paths and symlinks pointing out of it all read nothing.
 */
import fs from 'node:fs';
import path from 'node:path';
import { readReplay, replayFrames, REPLAYS_DIR, type ReplayLog } from '../lab/replay.js';
import { compareRuns, loadRun, parseGroupBy } from '../lab/compare.js';
import { REPLAY_NAME_PATTERN, RUN_ID_PATTERN, type CompareResult, type ReplayDetail, type ReplaySummary, type RenderFrame } from '../lab/protocol.js';
import type { DiskRuns } from './disk_runs.js';
import { envFps } from './catalog.js';

export class NotFound extends Error {}
export class BadRequest extends Error {}

/** `candidate` (a real path) lies inside `root` (a real path). */
function inside(root: string, candidate: string): boolean {
  const rel = path.relative(root, candidate);
  return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel);
}

interface Cached {
  mtimeMs: number;
  size: number;
  summary: ReplaySummary;
}

export class ReplayStore {
  private readonly cache = new Map<string, Cached>();

  constructor(private readonly disk: DiskRuns) {}

  private root(): string | null {
    try {
      return fs.realpathSync(this.disk.root);
    } catch {
      return null;
    }
  }

  /** The real path of a run's replay log, or NotFound (also for names that would leave the runs directory). */
  resolve(runId: string, name: string): string {
    if (!RUN_ID_PATTERN.test(runId) || !REPLAY_NAME_PATTERN.test(name)) throw new NotFound(`no replay ${JSON.stringify(`${runId}/${name}`.slice(0, 300))}`);
    const root = this.root();
    const runDir = this.disk.dirOf(runId);
    if (!root || !runDir) throw new NotFound(`no run ${JSON.stringify(runId)}`);
    let real: string;
    try {
      real = fs.realpathSync(path.join(runDir, REPLAYS_DIR, name));
    } catch {
      throw new NotFound(`run ${runId} has no replay ${name}`);
    }
    if (!inside(root, real) || !fs.statSync(real).isFile()) throw new NotFound(`run ${runId} has no replay ${name}`);
    return real;
  }

  list(filter: { env?: string; agent?: string; run?: string; mode?: string } = {}): ReplaySummary[] {
    const root = this.root();
    if (!root) return [];
    const out: ReplaySummary[] = [];
    const runs = this.disk.list().filter((r) => (!filter.run || r.runId === filter.run) && (!filter.env || r.envId === filter.env) && (!filter.agent || r.agent === filter.agent));
    for (const run of runs) {
      const dir = this.disk.dirOf(run.runId);
      if (!dir) continue;
      let names: string[];
      try {
        const replaysDir = fs.realpathSync(path.join(dir, REPLAYS_DIR));
        if (!inside(root, replaysDir)) continue;
        names = fs.readdirSync(replaysDir).filter((n) => REPLAY_NAME_PATTERN.test(n));
      } catch {
        continue;
      }
      for (const name of names.sort()) {
        const summary = this.summary(run.runId, name);
        if (summary && (!filter.mode || summary.mode === filter.mode)) out.push(summary);
      }
    }
    return out;
  }

  private summary(runId: string, name: string): ReplaySummary | null {
    let file: string;
    try {
      file = this.resolve(runId, name);
    } catch {
      return null;
    }
    const stat = fs.statSync(file);
    const cached = this.cache.get(file);
    if (cached && cached.mtimeMs === stat.mtimeMs && cached.size === stat.size) return cached.summary;
    try {
      const summary = summarize(runId, name, readReplay(file), stat.size);
      this.cache.set(file, { mtimeMs: stat.mtimeMs, size: stat.size, summary });
      return summary;
    } catch {
      return null; // a damaged log is left out of the list; `lab replay verify` names the problem
    }
  }

  detail(runId: string, name: string): ReplayDetail {
    const file = this.resolve(runId, name);
    const log = readReplay(file);
    const recorded = log.header.frames && log.header.startFrame !== undefined && log.steps.every((s) => s.frame !== undefined);
    const frames = recorded ? [log.header.startFrame!, ...log.steps.map((s) => s.frame!)] : replayFrames(log);
    return {
      summary: summarize(runId, name, log, fs.statSync(file).size),
      fps: safeFps(log.header.envId),
      steps: log.steps.map((s) => ({ a: s.a, r: s.r, term: s.term, trunc: s.trunc })),
      frames: frames as (RenderFrame | string)[],
      regenerated: !recorded,
    };
  }

  compare(runIds: string[], options: { groupBy?: string; curve?: string }): CompareResult {
    if (runIds.length < 2) throw new BadRequest('compare needs at least 2 runs (query runs=<id>,<id>,…)');
    if (runIds.length > 200) throw new BadRequest('compare takes at most 200 runs');
    const dirs = runIds.map((id) => {
      const dir = RUN_ID_PATTERN.test(id) ? this.disk.dirOf(id) : null;
      if (!dir) throw new NotFound(`no run ${JSON.stringify(id.slice(0, 200))}`);
      return dir;
    });
    if (options.curve !== undefined && options.curve !== 'eval' && options.curve !== 'episodes') throw new BadRequest(`curve must be eval or episodes, got ${JSON.stringify(options.curve)}`);
    let groupBy;
    try {
      groupBy = options.groupBy !== undefined ? parseGroupBy(options.groupBy) : undefined;
    } catch (e) {
      throw new BadRequest((e as Error).message);
    }
    try {
      return compareRuns(dirs.map(loadRun), { reps: 4000, ...(groupBy ? { groupBy } : {}), ...(options.curve ? { curve: options.curve as 'eval' | 'episodes' } : {}) });
    } catch (e) {
      throw new BadRequest((e as Error).message);
    }
  }
}

function summarize(runId: string, name: string, log: ReplayLog, bytes: number): ReplaySummary {
  const h = log.header;
  return {
    runId,
    name,
    mode: h.mode,
    episode: h.episode,
    envId: h.envId,
    agent: h.agent,
    preset: h.preset,
    seed: h.seed,
    checkpointStep: h.checkpointStep,
    return: log.footer.return,
    length: log.footer.length,
    terminated: log.footer.terminated,
    truncated: log.footer.truncated,
    createdAt: h.createdAt,
    bytes,
  };
}

function safeFps(envId: string): number {
  try {
    return envFps(envId);
  } catch {
    return 30;
  }
}

/**
 * Read-only HTTP access to replay logs and comparisons, confined to the runs directory.
 *
 * Only plain names reach the file system: run ids match RUN_ID_PATTERN, log names REPLAY_NAME_PATTERN, and
 * every resolved path (after following symlinks) must still lie inside the runs directory, so `../`,
 * URL-encoded separators, absolute paths and symlinks pointing out of it all read nothing.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseReplay, replayFrames, ReplayError, REPLAYS_DIR, type ReplayLog } from '../lab/replay.js';
import { compareRuns, loadRuns, parseGroupBy, withLeftOut } from '../analysis/compare.js';
import { publicMessage } from '../lab/run_files.js';
import { REPLAY_NAME_PATTERN, RUN_ID_PATTERN, type CompareResult, type DamagedEntry, type ReplayDetail, type ReplayListing, type ReplaySummary, type RenderFrame } from '../protocol/protocol.js';
import type { DiskRuns } from './disk_runs.js';
import { envFps } from './catalog.js';

/**
 * Errors of this API carry messages fit for a client: names relative to the runs directory (`<run>/replays/
 * <log>`), one line, never an absolute path or a stack.
 */
export class NotFound extends Error {}
export class BadRequest extends Error {}
/** A file on the server that cannot be used (a damaged replay log): the message names it and says why. */
export class Damaged extends Error {}

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

  /** The replay logs of the runs (filters match exactly); damaged runs and logs are left out of it. */
  list(filter: { env?: string; agent?: string; run?: string; mode?: string } = {}): ReplaySummary[] {
    return this.listing(filter).replays;
  }

  /**
   * The replay logs of the runs, and the runs and logs that could not be read, each with its reason: one
   * damaged run or log never hides the others. A damaged run's logs are still listed when they read.
   */
  listing(filter: { env?: string; agent?: string; run?: string; mode?: string } = {}): ReplayListing {
    const root = this.root();
    if (!root) return { replays: [], damaged: [] };
    const replays: ReplaySummary[] = [];
    const damaged: DamagedEntry[] = [];
    // A damaged run's env and agent may be unknown (''): it is kept, and its logs filtered by their own headers.
    const runs = this.disk.list().filter((r) => (!filter.run || r.runId === filter.run) && (!filter.env || r.envId === filter.env || r.envId === '') && (!filter.agent || r.agent === filter.agent || r.agent === ''));
    for (const run of runs) {
      if (run.status === 'damaged') damaged.push({ runId: run.runId, name: null, error: run.error ?? 'damaged' });
      const dir = this.disk.dirOf(run.runId);
      if (!dir) continue;
      let names: string[];
      try {
        const replaysDir = fs.realpathSync(path.join(dir, REPLAYS_DIR));
        if (!inside(root, replaysDir)) continue;
        names = fs.readdirSync(replaysDir).filter((n) => REPLAY_NAME_PATTERN.test(n));
      } catch {
        continue; // no replays/ directory: a run that records none
      }
      for (const name of names.sort()) {
        let summary: ReplaySummary | null;
        try {
          summary = this.summary(run.runId, name);
        } catch (e) {
          damaged.push({ runId: run.runId, name, error: e instanceof Error ? e.message : String(e) });
          continue;
        }
        if (!summary) continue;
        if (filter.mode && summary.mode !== filter.mode) continue;
        if ((filter.env && summary.envId !== filter.env) || (filter.agent && summary.agent !== filter.agent)) continue;
        replays.push(summary);
      }
    }
    return { replays, damaged };
  }

  /** A log's summary (cached); null when it is not there (or not inside the runs dir); Damaged when it cannot be read. */
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
    const summary = summarize(runId, name, this.read(runId, name, file), stat.size);
    this.cache.set(file, { mtimeMs: stat.mtimeMs, size: stat.size, summary });
    return summary;
  }

  /** Reads and parses a log; its problems are Damaged errors that name it as `<run>/replays/<name>`. */
  private read(runId: string, name: string, file: string): ReplayLog {
    const shown = `${runId}/${REPLAYS_DIR}/${name}`;
    let data: Buffer;
    try {
      data = fs.readFileSync(file);
    } catch (e) {
      throw new Damaged(`${shown}: cannot be read (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
    }
    try {
      return parseReplay(data, shown);
    } catch (e) {
      if (e instanceof ReplayError) throw new Damaged(publicMessage(e.message, this.roots()));
      throw new Damaged(`${shown}: ${publicMessage(e instanceof Error ? e.message : String(e), this.roots())}`);
    }
  }

  /** The runs directory as given and as a real path (stripped from messages). */
  private roots(): string[] {
    const real = this.root();
    return [...new Set([real, path.resolve(this.disk.root)].filter((x): x is string => !!x))].sort((a, b) => b.length - a.length);
  }

  detail(runId: string, name: string): ReplayDetail {
    const file = this.resolve(runId, name);
    const log = this.read(runId, name, file);
    const recorded = log.header.frames && log.header.startFrame !== undefined && log.steps.every((s) => s.frame !== undefined);
    let frames: unknown[];
    try {
      frames = recorded ? [log.header.startFrame!, ...log.steps.map((s) => s.frame!)] : replayFrames(log);
    } catch (e) {
      throw new Damaged(`${runId}/${REPLAYS_DIR}/${name}: its frames cannot be regenerated: ${publicMessage(e instanceof Error ? e.message : String(e), this.roots())}`);
    }
    let size = 0;
    try {
      size = fs.statSync(file).size;
    } catch {
      size = 0;
    }
    return {
      summary: summarize(runId, name, log, size),
      fps: safeFps(log.header.envId),
      steps: log.steps.map((s) => ({ a: s.a, r: s.r, term: s.term, trunc: s.trunc })),
      frames: frames as (RenderFrame | string)[],
      regenerated: !recorded,
    };
  }

  /**
   * `lab compare` over runs of the runs directory. Runs that do not exist are NotFound; runs that exist but
   * cannot be compared (damaged, no score yet, of another kind than most of them) are left out and listed in `damaged` (and a note),
   * unless fewer than 2 usable runs remain (BadRequest naming them).
   */
  compare(runIds: string[], options: { groupBy?: string; curve?: string }): CompareResult {
    if (runIds.length < 2) throw new BadRequest('compare needs at least 2 runs (query runs=<id>,<id>,…)');
    if (runIds.length > 200) throw new BadRequest('compare takes at most 200 runs');
    const ids = new Map<string, string>();
    for (const id of runIds) {
      const dir = RUN_ID_PATTERN.test(id) ? this.disk.dirOf(id) : null;
      if (!dir) throw new NotFound(`no run ${JSON.stringify(id.slice(0, 200))}`);
      if ([...ids.values()].includes(id)) throw new BadRequest(`run ${id} is given more than once`);
      ids.set(dir, id);
    }
    if (options.curve !== undefined && options.curve !== 'eval' && options.curve !== 'episodes') throw new BadRequest(`curve must be eval or episodes, got ${JSON.stringify(options.curve.slice(0, 100))}`);
    let groupBy;
    try {
      groupBy = options.groupBy !== undefined ? parseGroupBy(options.groupBy) : undefined;
    } catch (e) {
      throw new BadRequest(publicMessage((e as Error).message, []));
    }
    const roots = this.roots();
    const { runs, leftOut } = loadRuns([...ids.keys()], (dir) => ids.get(dir)!);
    const clean = leftOut.map((r) => ({ runId: r.runId, error: publicMessage(r.error, roots), message: publicMessage(r.message, roots) }));
    if (runs.length < 2) {
      throw new BadRequest(`compare needs at least 2 usable runs, got ${runs.length} of ${ids.size}: ${clean.map((r) => r.message).join('; ')}`);
    }
    try {
      const result = compareRuns(runs, { reps: 4000, ...(groupBy ? { groupBy } : {}), ...(options.curve ? { curve: options.curve as 'eval' | 'episodes' } : {}) });
      // The API names runs by id: no directory of the server leaves it.
      for (const g of result.groups) for (const r of g.runs) r.dir = ids.get(r.dir) ?? r.runId;
      return withLeftOut(result, clean);
    } catch (e) {
      throw new BadRequest(publicMessage((e as Error).message, roots));
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

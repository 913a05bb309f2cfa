/**
 * Read-only HTTP access to experiments (`lab sweep` directories) under the server's runs root, for the viewer's
 * Experiments page: `GET /api/experiments` lists them, `GET /api/experiments/:id` gives one's trial table with
 * each trial's learning curve over its seeds and the progress of unfinished trials.
 *
 * The directory is read through sweep/experiment_files.ts (the one reader of the layout) and the curves are
 * computed by analysis/compare.ts (the same mean and bootstrap band as `lab compare`). Only an id that names an
 * experiment found under the runs root is looked at, and only directories whose real path lies inside it, so
 * `../`, encoded separators and symlinks out of it read nothing. A damaged experiment is listed with its
 * reason, its detail answered 422; messages never hold absolute paths. The server asks a worker thread
 * (ExperimentsWorker), so reading a large experiment never stalls live frames.
 */
import fs from 'node:fs';
import path from 'node:path';
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import type express from 'express';
import { groupCurves, loadRuns, type LoadedRun } from '../analysis/compare.js';
import { fileKey } from '../lab/fsutil.js';
import { publicMessage } from '../lab/run_files.js';
import { ganEnvId, RUN_ID_PATTERN, type RunSummary } from '../protocol/protocol.js';
import {
  EXPERIMENTS_API,
  type ExperimentDetail,
  type ExperimentListItem,
  type ExperimentState,
  type RunTemplate,
  type TrialCurve,
  type TrialRecord,
  type TrialRow,
  type TrialSeedRow,
} from '../protocol/experiments.js';
import { EXPERIMENT_FILE, findExperiments, readExperiment, RUNS_DIR, TRIALS_FILE, trialRunId, type ExperimentContents, type RunningTrial } from '../sweep/experiment_files.js';
import { bestTrial, readRunCurve, runBudget } from '../sweep/objective.js';
import { Damaged, NotFound } from './replays_api.js';
import { ThreadClient, type ThreadReply } from './thread_client.js';

/** An unfinished trial whose files have not changed for this long (and with nothing live) counts as interrupted. */
export const EXPERIMENT_STALE_MS = 60_000;
/** Bootstrap resamples of a trial curve's band (a few seeds per step: 2,000 is plenty for a 95% percentile band). */
const CURVE_REPS = 2000;

/** What the API needs of a run the hub holds. */
export type HubRun = Pick<RunSummary, 'runId' | 'origin' | 'status' | 'step'>;

export interface ExperimentsApiOptions {
  runsDir: string;
  /** The runs the hub holds now (live ones are `origin` server or cli). */
  runs: () => readonly HubRun[];
  staleMs?: number;
  now?: () => number;
}

interface CachedCurve {
  key: string;
  curve: TrialCurve | null;
  damaged: { runId: string; error: string }[];
  /** Each readable run's last step (iteration). */
  steps: Map<string, number>;
}

/** The list's summary of the best trial (bestTrial of sweep/objective.ts decides which, as for lab sweep: done trials only). */
function bestSummary(best: TrialRecord | null): ExperimentListItem['best'] {
  return best && best.objective !== null ? { trial: best.trial, objective: best.objective, params: best.params } : null;
}

/** `candidate` is `root` or lies inside it (both real paths). */
function within(root: string, candidate: string): boolean {
  const rel = path.relative(root, candidate);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

/** A file's modification time, 0 when it is missing. */
function mtimeMs(file: string): number {
  try {
    return fs.statSync(file).mtimeMs;
  } catch {
    return 0;
  }
}

function taskOf(run: RunTemplate): string {
  return run.kind === 'rl' ? run.env : run.kind === 'gan' ? ganEnvId(run.category) : 'go';
}

export class ExperimentsApi {
  private readonly curves = new Map<string, CachedCurve>();
  private readonly staleMs: number;
  private readonly now: () => number;

  constructor(private readonly options: ExperimentsApiOptions) {
    this.staleMs = options.staleMs ?? EXPERIMENT_STALE_MS;
    this.now = options.now ?? Date.now;
  }

  /** The runs root as given and as a real path (stripped from messages). */
  private roots(): string[] {
    let real: string | null = null;
    try {
      real = fs.realpathSync(this.options.runsDir);
    } catch {
      real = null;
    }
    return [...new Set([real, path.resolve(this.options.runsDir)].filter((x): x is string => !!x))].sort((a, b) => b.length - a.length);
  }

  /** Experiment directories under the runs root by id (their directory's name), real paths inside the root only. */
  private found(): Map<string, string> {
    const out = new Map<string, string>();
    let root: string;
    try {
      root = fs.realpathSync(this.options.runsDir);
    } catch {
      return out;
    }
    for (const dir of findExperiments(root)) {
      const id = path.basename(dir);
      if (!RUN_ID_PATTERN.test(id) || out.has(id)) continue;
      let real: string;
      try {
        real = fs.realpathSync(dir);
      } catch {
        continue;
      }
      if (within(root, real)) out.set(id, real);
    }
    return out;
  }

  /** Live runs of the hub by run id. */
  private liveRuns(): Map<string, HubRun> {
    const live = new Map<string, HubRun>();
    for (const r of this.options.runs()) if (r.origin !== 'disk' && (r.status === 'running' || r.status === 'starting')) live.set(r.runId, r);
    return live;
  }

  list(): ExperimentListItem[] {
    const live = this.liveRuns();
    const items: ExperimentListItem[] = [];
    for (const [id, dir] of this.found()) {
      try {
        items.push(this.summarize(id, readExperiment(dir), live));
      } catch (e) {
        items.push(this.damagedItem(id, dir, e));
      }
    }
    // Running ones first, then the newest.
    return items.sort((a, b) => Number(b.state === 'running') - Number(a.state === 'running') || b.updatedAt.localeCompare(a.updatedAt) || a.id.localeCompare(b.id));
  }

  detail(id: string): ExperimentDetail {
    const dir = RUN_ID_PATTERN.test(id) ? this.found().get(id) : undefined;
    if (!dir) throw new NotFound(`no experiment ${JSON.stringify(id.slice(0, 200))}`);
    let contents: ExperimentContents;
    try {
      contents = readExperiment(dir);
    } catch (e) {
      throw new Damaged(`experiment ${id} is damaged: ${this.reason(e)}`);
    }
    const live = this.liveRuns();
    const summary = this.summarize(id, contents, live);
    const { meta, records, running } = contents;
    const spec = meta.spec;
    const budget = runBudget(spec);
    const trials: TrialRow[] = [];
    for (const r of [...records].sort((a, b) => a.trial - b.trial)) {
      const { curve, damaged, steps } = this.curveOf(id, dir, r.trial, r.seeds.map((s) => s.runId), spec.objective.metric, spec.run.kind);
      const seeds: TrialSeedRow[] = r.seeds.map((s) => ({
        seed: s.seed,
        runId: s.runId,
        state: s.state,
        value: s.value,
        step: steps.get(s.runId) ?? null,
        ...(s.prunedAt !== undefined ? { prunedAt: s.prunedAt } : {}),
        ...(s.error !== undefined ? { error: s.error } : {}),
        live: live.has(s.runId),
      }));
      trials.push({ trial: r.trial, params: r.params, state: r.state, objective: r.objective, interval: r.interval, seeds, startedAt: r.startedAt, endedAt: r.endedAt, progress: null, curve, damaged });
    }
    const unfinishedState = summary.state === 'running' ? 'running' : 'interrupted';
    for (const t of running) {
      const seeds: TrialSeedRow[] = spec.seeds.map((seed) => {
        const run = t.runs.find((x) => x.seed === seed);
        const runId = run?.runId ?? trialRunId(meta.id, t.trial, seed);
        const liveRun = live.get(runId);
        // The hub's live step is newer than metrics.jsonl (written at episode ends and evaluations).
        const step = liveRun ? Math.max(liveRun.step, run?.step ?? 0) : (run?.step ?? null);
        return { seed, runId, state: liveRun ? 'running' : unfinishedState, value: null, step, live: !!liveRun };
      });
      const { curve, damaged } = this.curveOf(id, dir, t.trial, t.runs.map((x) => x.runId), spec.objective.metric, spec.run.kind);
      trials.push({
        trial: t.trial,
        params: t.params,
        state: seeds.some((s) => s.live) ? 'running' : unfinishedState,
        objective: null,
        interval: null,
        seeds,
        startedAt: this.startedAt(dir, t),
        endedAt: null,
        progress: { step: seeds.reduce((n, s) => n + Math.min(budget, s.step ?? 0), 0), budget: budget * spec.seeds.length },
        curve,
        damaged,
      });
    }
    return { summary, labVersion: meta.labVersion, specFile: meta.specFile, queue: meta.queue, spec, unit: spec.run.kind === 'rl' ? 'steps' : 'iterations', runBudget: budget, trials };
  }

  // -------------------------------------------------------------------------------------------------------------

  private reason(e: unknown): string {
    return publicMessage(e instanceof Error ? e.message : String(e), this.roots());
  }

  private summarize(id: string, contents: ExperimentContents, live: ReadonlyMap<string, HubRun>): ExperimentListItem {
    const { dir, meta, records, running } = contents;
    const spec = meta.spec;
    const updated = this.updatedMs(dir, running);
    const liveHere = [...live.keys()].some((runId) => runId.startsWith(`${meta.id}-t`));
    // Trials left to run: some unfinished, or the budget not reached (a sweep just started has no run yet).
    const created = Date.parse(meta.createdAt);
    const timeUp = spec.timeLimitSeconds !== null && Number.isFinite(created) && this.now() - created > spec.timeLimitSeconds * 1000;
    const incomplete = running.length > 0 || (!timeUp && (spec.trials === null || records.length < spec.trials));
    const state: ExperimentState = liveHere || (incomplete && this.now() - updated < this.staleMs) ? 'running' : 'ended';
    const count = (s: TrialRecord['state']) => records.filter((r) => r.state === s).length;
    return {
      id,
      name: meta.name,
      state,
      error: null,
      kind: spec.run.kind,
      task: taskOf(spec.run),
      agent: spec.run.kind === 'rl' ? spec.run.agent : null,
      sampler: spec.sampler,
      objective: spec.objective,
      createdAt: meta.createdAt,
      trials: { finished: records.length, running: running.length, budget: spec.trials, done: count('done'), pruned: count('pruned'), failed: count('failed') },
      timeLimitSeconds: spec.timeLimitSeconds,
      best: bestSummary(bestTrial(records, spec.objective.direction)),
      updatedAt: new Date(updated).toISOString(),
    };
  }

  private damagedItem(id: string, dir: string, e: unknown): ExperimentListItem {
    const updated = Math.max(mtimeMs(path.join(dir, EXPERIMENT_FILE)), mtimeMs(path.join(dir, TRIALS_FILE)), mtimeMs(dir));
    return {
      id,
      name: id,
      state: 'damaged',
      error: this.reason(e),
      kind: null,
      task: null,
      agent: null,
      sampler: null,
      objective: null,
      createdAt: null,
      trials: { finished: 0, running: 0, budget: null, done: 0, pruned: 0, failed: 0 },
      timeLimitSeconds: null,
      best: null,
      updatedAt: new Date(updated).toISOString(),
    };
  }

  /** The newest change of the experiment's files: its table, its runs directory and the unfinished runs' metrics. */
  private updatedMs(dir: string, running: readonly RunningTrial[]): number {
    let t = Math.max(mtimeMs(path.join(dir, EXPERIMENT_FILE)), mtimeMs(path.join(dir, TRIALS_FILE)), mtimeMs(path.join(dir, RUNS_DIR)));
    for (const trial of running) for (const r of trial.runs) t = Math.max(t, mtimeMs(path.join(dir, RUNS_DIR, r.runId, 'metrics.jsonl')), mtimeMs(path.join(dir, RUNS_DIR, r.runId, 'config.json')));
    return t;
  }

  /** When an unfinished trial started: its earliest run's config.json. */
  private startedAt(dir: string, trial: RunningTrial): string | null {
    const times = trial.runs.map((r) => mtimeMs(path.join(dir, RUNS_DIR, r.runId, 'config.json'))).filter((t) => t > 0);
    return times.length ? new Date(Math.min(...times)).toISOString() : null;
  }

  /** A run's directory of this experiment (its real path inside the experiment), or null. */
  private runDir(expDir: string, runId: string): string | null {
    if (!RUN_ID_PATTERN.test(runId)) return null;
    try {
      const real = fs.realpathSync(path.join(expDir, RUNS_DIR, runId));
      return path.dirname(real) === path.join(expDir, RUNS_DIR) && fs.statSync(real).isDirectory() ? real : null;
    } catch {
      return null;
    }
  }

  /**
   * A trial's learning curve over its seeds (cached while its runs' files are unchanged): the objective's metric
   * (RL: the evaluations), mean and 95% bootstrap band per step. Runs without metrics yet are skipped; runs whose
   * files cannot be read are left out and named in `damaged`.
   */
  private curveOf(id: string, expDir: string, trial: number, runIds: readonly string[], metric: string, kind: RunTemplate['kind']): Omit<CachedCurve, 'key'> {
    const dirs = new Map<string, string>();
    for (const runId of runIds) {
      const dir = this.runDir(expDir, runId);
      if (dir && fs.existsSync(path.join(dir, 'metrics.jsonl'))) dirs.set(dir, runId);
    }
    // eval.json: a GAN run's evaluation metric (fd, …) comes from it, written after training.
    const key = [...dirs.keys()].map((d) => `${d}|${fileKey(path.join(d, 'config.json'))}|${fileKey(path.join(d, 'metrics.jsonl'))}|${fileKey(path.join(d, 'eval.json'))}`).join(';');
    const cacheKey = `${expDir}#${trial}`;
    const cached = this.curves.get(cacheKey);
    if (cached && cached.key === key) return cached;
    const roots = [...this.roots(), expDir];
    const { runs, leftOut } = loadRuns([...dirs.keys()], (dir) => dirs.get(dir)!);
    const damaged = leftOut.map((r) => ({ runId: r.runId, error: publicMessage(r.error, roots) }));
    let curve: TrialCurve | null = null;
    // RL objectives are the evaluations (the runs' eval curves); other kinds' name a metric, read as the sweep reads
    // it (sweep/objective.ts readRunCurve) and given to the comparison as the runs' only metric curve.
    let usable: LoadedRun[] = runs;
    if (kind !== 'rl') {
      usable = [];
      for (const r of runs) {
        try {
          usable.push({ ...r, metrics: { [metric]: readRunCurve(kind, r.dir, metric) } });
        } catch (e) {
          damaged.push({ runId: r.runId, error: publicMessage(e instanceof Error ? e.message : String(e), roots) });
        }
      }
    }
    if (usable.length > 0) {
      const chosen = groupCurves(usable, { reps: CURVE_REPS, curve: 'eval' }, `${id}:${trial}`)[0];
      if (chosen && chosen.points.length > 0) curve = { label: kind === 'rl' ? 'evaluation mean return' : (chosen.label ?? metric), runs: chosen.runs, points: chosen.points };
    }
    const entry: CachedCurve = { key, curve, damaged, steps: new Map(runs.map((r) => [r.runId, r.lastStep])) };
    this.curves.set(cacheKey, entry);
    return entry;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Off the event loop: the first look at an experiment reads every run's metrics and bootstraps each trial's band
// (about 1 s for 30 trials × 3 seeds of 100k steps), which on the server's thread would stall live frames. One
// worker thread, started on first use, keeps the ExperimentsApi (and its curve cache) and answers in order.

/** Requests waiting or running at once; more are refused (503) rather than queued without bound. */
const MAX_QUEUED = 16;
/** workerData that marks this module's worker thread. */
const THREAD_MARK = 'lab-experiments-api';

type WorkerQuery = { live: HubRun[] } & ({ op: 'list' } | { op: 'detail'; experimentId: string });
type WorkerRequest = { id: number } & WorkerQuery;
type WorkerErrorKind = 'not-found' | 'damaged' | 'error';
type WorkerReply = ThreadReply<unknown, WorkerErrorKind>;

export interface ExperimentsSource {
  list(): ExperimentListItem[] | Promise<ExperimentListItem[]>;
  detail(id: string): ExperimentDetail | Promise<ExperimentDetail>;
}

export class ExperimentsWorker implements ExperimentsSource {
  private readonly thread: ThreadClient<WorkerQuery, unknown, WorkerErrorKind>;

  constructor(
    runsDir: string,
    private readonly runs: () => readonly HubRun[],
  ) {
    this.thread = new ThreadClient({
      entry: new URL(import.meta.url),
      workerData: { mark: THREAD_MARK, runsDir },
      maxQueued: MAX_QUEUED,
      busyMessage: (waiting) => `${waiting} experiment requests are already waiting; try again shortly`,
      name: 'the experiments worker',
      errorFor: (kind, message) => (kind === 'not-found' ? new NotFound(message) : kind === 'damaged' ? new Damaged(message) : new Error(message)),
    });
  }

  list(): Promise<ExperimentListItem[]> {
    return this.ask({ op: 'list' }) as Promise<ExperimentListItem[]>;
  }

  detail(id: string): Promise<ExperimentDetail> {
    return this.ask({ op: 'detail', experimentId: id }) as Promise<ExperimentDetail>;
  }

  private ask(request: { op: 'list' } | { op: 'detail'; experimentId: string }): Promise<unknown> {
    // Only the live runs cross over, and only what the API reads of them.
    const live = this.runs()
      .filter((r) => r.origin !== 'disk' && (r.status === 'running' || r.status === 'starting'))
      .map((r) => ({ runId: r.runId, origin: r.origin, status: r.status, step: r.step }));
    return this.thread.request({ live, ...request });
  }

  close(): Promise<void> {
    return this.thread.close();
  }
}

/** The worker thread's side: one ExperimentsApi over the runs root, the live runs as each request gives them. */
function serveInThread(runsDir: string): void {
  let live: HubRun[] = [];
  const api = new ExperimentsApi({ runsDir, runs: () => live });
  parentPort!.on('message', (m: WorkerRequest) => {
    live = m.live;
    let reply: WorkerReply;
    try {
      reply = { id: m.id, ok: true, value: m.op === 'list' ? api.list() : api.detail(m.experimentId) };
    } catch (e) {
      reply = { id: m.id, ok: false, kind: e instanceof NotFound ? 'not-found' : e instanceof Damaged ? 'damaged' : 'error', error: e instanceof Error ? e.message : String(e) };
    }
    parentPort!.postMessage(reply);
  });
}

if (!isMainThread && (workerData as { mark?: unknown } | null)?.mark === THREAD_MARK) serveInThread((workerData as { runsDir: string }).runsDir);

/** Mounts the two routes; `fail` answers an error (NotFound 404, Damaged 422, anything else 500 without paths). */
export function mountExperimentsApi(app: express.Express, api: ExperimentsSource, fail: (res: express.Response, e: unknown) => void): void {
  const answer = (res: express.Response, get: () => unknown) => {
    Promise.resolve()
      .then(get)
      .then(
        (value) => res.json(value),
        (e: unknown) => fail(res, e),
      );
  };
  app.get(EXPERIMENTS_API.list, (_req, res) => answer(res, () => api.list()));
  app.get('/api/experiments/:id', (req, res) => answer(res, () => api.detail(String(req.params.id))));
}

/**
 * The live hub: runs known to the server, their publishers (trainers) and watchers (viewers).
 *
 * Frames flow publisher → hub → watchers. Each watcher gets at most 60 frame messages per second; a watcher
 * whose connection is backed up gets its frames dropped (and counted), never queued without bound, so one
 * slow browser costs neither the server nor the trainer anything.
 *
 * Memory is bounded per run and in total, whatever publishers send (docs/server.md lists the bounds): at most
 * MAX_RUNS_IN_MEMORY runs, and per run FRAME_BYTES_PER_RUN of frames, GRID_BYTES_PER_RUN of sample grids and
 * curves thinned past fixed point counts (history.ts). A publisher that goes quiet is marked lost and
 * disconnected; runs that ended are dropped from memory after a while (their run directory still lists them).
 */
import path from 'node:path';
import fs from 'node:fs';
import type { Namespace, Socket } from 'socket.io';
import {
  GAN_AGENT,
  GAN_FPS,
  ganEnvId,
  MAX_FRAME_MESSAGES_PER_SECOND,
  PROTOCOL_VERSION,
  WATCH_SAMPLE_GRIDS,
  validate,
  toStepFrame,
  type Ack,
  type EndPayload,
  type EventsPayload,
  type HelloPayload,
  type PublisherToServer,
  type RunHistory,
  type RunInfo,
  type RunSummary,
  type SamplesEvent,
  type ServerToPublisher,
  type ServerToViewer,
  type StartRunRequest,
  type StepFrame,
  type ValidatedEvent,
  type ViewerToServer,
} from '../protocol/protocol.js';
import { HistoryBuffer, NO_PROGRESS, addGrids, thinGrids } from './history.js';
import { DiskRuns } from './disk_runs.js';
import { checkGanStartRequest, checkStartRequest, envFps } from './catalog.js';
import { launchGanTrainer, launchPolicyWatcher, launchTrainer, type GanLaunchSpec, type LaunchSpec, type Launched, type PolicyWatchSpec } from './launcher.js';
import { newToken, sameToken } from '../lab/server_key.js';
import { resolveModel } from '../agents/policy_loader.js';
import { oneLine } from '../lab/run_files.js';
import { runStamp } from '../lab/run_store.js';
import { GoGames } from './go_games.js';

type ViewerSocket = Socket<ViewerToServer, ServerToViewer>;
type PublisherSocket = Socket<PublisherToServer, ServerToPublisher>;

type AnyAck = ({ ok: true } & Record<string, unknown>) | { ok: false; error: string };

const FLUSH_MS = 1000 / MAX_FRAME_MESSAGES_PER_SECOND;
/** Frames waiting for the next flush; older ones are dropped past this. */
const MAX_PENDING_FRAMES = 1000;
/** Engine.io packets queued on a watcher's connection beyond which it counts as slow. */
const SLOW_CLIENT_PACKETS = 16;
/** Frames of the current episode kept for a viewer that starts watching mid-episode. */
const MAX_EPISODE_FRAMES = 2000;
/** Most runs started from the viewer that may train at once. */
export const MAX_SERVER_RUNS = 4;
/** Most runs the hub holds in memory (live, or ended and not yet dropped). */
export const MAX_RUNS_IN_MEMORY = 32;
/** Bytes of frames (as JSON) a run keeps for viewers that join mid-episode. */
export const FRAME_BYTES_PER_RUN = 4_000_000;
/** Bytes of sample grids (base64) a run keeps; older grids are thinned past it. */
export const GRID_BYTES_PER_RUN = 4_000_000;
/** A publisher silent for this long (it sends a heartbeat every 10 s) is marked lost and disconnected. */
const DEFAULT_STALE_MS = 60_000;
/** Runs that ended (or lost their publisher) leave memory after this long; the run directory remains. */
const DEFAULT_RETAIN_MS = 10 * 60_000;
/** Events that change something on the user's machine: they need the server's key. */
const NEEDS_KEY = new Set<string>(['run:start', 'run:stop', 'run:watch-policy', 'go:new', 'go:play', 'go:resign', 'go:close']);

interface Watcher {
  socket: ViewerSocket;
  /** Frames this watcher missed since its last message. */
  dropped: number;
}

interface LiveRun {
  summary: RunSummary;
  info: RunInfo | null;
  history: HistoryBuffer;
  episodeFrames: StepFrame[];
  publisher: PublisherSocket | null;
  watchers: Map<string, Watcher>;
  /** Bytes (as JSON) of `episodeFrames`, one entry per frame. */
  episodeFrameBytes: number[];
  /** Frames waiting for the next flush to the watchers. */
  pending: StepFrame[];
  /** When the publisher last said anything (or the run last changed state), performance.now() ms. */
  lastHeard: number;
  /** A server-launched run's own key: only its process may publish it. */
  runKey: string | null;
  /** For a policy watcher: the stored run whose policy plays. */
  watchOf?: string;
  /** The sample grids so far (GAN runs), oldest first, thinned past 2·WATCH_SAMPLE_GRIDS. */
  samples: SamplesEvent[];
  flushTimer: ReturnType<typeof setTimeout> | null;
  lastFlush: number;
  launched: Launched | null;
}

export interface HubOptions {
  runsDir: string;
  /** URL trainers started by the server publish to. */
  serverUrl: () => string;
  /** Extra `lab train` arguments for runs started from the viewer. */
  trainerArgs?: string[];
  /** Extra `lab gan train` arguments for GAN runs started from the viewer. */
  ganTrainerArgs?: string[];
  log?: (message: string) => void;
  /** The server's key, given to the trainers it launches. */
  token?: string;
  /** A publisher silent this long is marked lost (default 60 s). */
  staleMs?: number;
  /** Ended runs leave memory this long after their last news (default 10 min). */
  retainMs?: number;
  /** How often the hub looks for stale publishers and old runs (default 5 s). */
  sweepMs?: number;
  /** Starts trainer processes (default: `lab train` / `lab gan train` children; tests start idle processes). */
  launcher?: { rl: (spec: LaunchSpec) => Launched; gan: (spec: GanLaunchSpec) => Launched; watch?: (spec: PolicyWatchSpec) => Launched };
}

export class Hub {
  private readonly runs = new Map<string, LiveRun>();
  readonly disk: DiskRuns;
  private changedTimer: ReturnType<typeof setTimeout> | null = null;
  private viewers: Namespace<ViewerToServer, ServerToViewer> | null = null;
  private closing = false;
  /** Go games between people in the viewer and agents. */
  readonly go: GoGames;
  /** Counters the tests and the benchmark read. */
  readonly stats = { framesIn: 0, framesOut: 0, framesDropped: 0, rejected: 0 };

  private readonly sweepTimer: ReturnType<typeof setInterval>;

  constructor(private readonly options: HubOptions) {
    this.disk = new DiskRuns(options.runsDir);
    this.go = new GoGames(options.runsDir);
    this.sweepTimer = setInterval(() => this.guard('sweep', () => this.sweep()), options.sweepMs ?? 5000);
    this.sweepTimer.unref();
  }

  /** Runs a timer's or callback's work; an error is logged, never thrown into the event loop. */
  private guard(what: string, fn: () => void): void {
    try {
      fn();
    } catch (e) {
      this.options.log?.(`hub ${what} failed: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  // ------------------------------------------------------------------------------------------ viewers

  attachViewers(ns: Namespace<ViewerToServer, ServerToViewer>): void {
    this.viewers = ns;
    ns.on('connection', (socket) => {
      const handle = this.handler(socket);
      handle('runs:list', (_v, reply) => reply({ ok: true, runs: this.list() }));
      handle('run:watch', ({ runId }, reply) => reply(this.watch(socket, runId)));
      handle('run:unwatch', ({ runId }, reply) => {
        this.unwatch(socket, runId);
        reply({ ok: true });
      });
      handle('run:start', (request, reply) => reply(this.start(request)));
      handle('run:stop', ({ runId }, reply) => reply(this.stop(runId)));
      handle('run:watch-policy', ({ runId }, reply) => reply(this.watchPolicy(runId)));
      handle('go:new', (request, reply) => reply({ ok: true, game: this.go.create(socket, request) }));
      handle('go:play', ({ gameId, move }, reply) => reply({ ok: true, game: this.go.play(socket, gameId, move) }));
      handle('go:resign', ({ gameId }, reply) => reply({ ok: true, game: this.go.resign(socket, gameId) }));
      handle('go:close', ({ gameId }, reply) => {
        this.go.close(socket, gameId);
        reply({ ok: true });
      });
      socket.on('disconnect', () => {
        this.go.dropOwner(socket);
        for (const [runId, run] of this.runs) if (run.watchers.has(socket.id)) this.unwatch(socket, runId);
      });
    });
  }

  attachPublishers(ns: Namespace<PublisherToServer, ServerToPublisher>): void {
    ns.on('connection', (socket) => {
      const handle = this.handler(socket);
      handle('publisher:hello', (payload, reply) => reply(this.hello(socket, payload)));
      handle('publisher:events', (payload, reply) => reply(this.events(socket, payload)));
      handle('publisher:end', (payload, reply) => reply(this.end(socket, payload)));
      socket.on('disconnect', () => this.publisherGone(socket));
    });
  }

  /**
   * Registers validated handlers on a socket: every payload is checked against its schema; a bad one is
   * answered with an error acknowledgement (or a `lab:error` event when the sender gave no callback).
   * Unknown events are refused the same way.
   */
  private handler(socket: Socket) {
    const holdsKey = socket.data.holdsKey === true;
    const known = new Set<string>();
    let errorBudget = 20;
    let budgetTime = Date.now();
    const refuse = (event: string, error: string, ack: unknown) => {
      this.stats.rejected++;
      if (typeof ack === 'function') {
        (ack as (r: Ack) => void)({ ok: false, error });
        return;
      }
      // Error events without a callback are rate-limited: a flood of junk must not be echoed back in full.
      const now = Date.now();
      if (now - budgetTime > 1000) {
        errorBudget = 20;
        budgetTime = now;
      }
      if (errorBudget-- > 0) socket.emit('lab:error', { event: String(event).slice(0, 100), error });
    };
    socket.onAny((event: unknown, ...args: unknown[]) => {
      if (typeof event !== 'string' || !known.has(event)) refuse(String(event), `unknown event ${JSON.stringify(String(event).slice(0, 100))}`, args[args.length - 1]);
    });
    return <E extends ValidatedEvent>(event: E, fn: (value: ReturnType<typeof validate<E>> extends { ok: true; value: infer V } ? V : never, reply: (r: AnyAck) => void) => void) => {
      known.add(event);
      socket.on(event as string, (...args: unknown[]) => {
        const ack = typeof args[args.length - 1] === 'function' ? (args.pop() as (r: Ack) => void) : null;
        const reply = (r: AnyAck) => {
          if (r.ok) ack?.(r);
          else refuse(event, r.error, ack);
        };
        if (args.length > 1) return refuse(event, `${event}: expected one payload, got ${args.length}`, ack);
        if (NEEDS_KEY.has(event) && !holdsKey) return refuse(event, `${event}: this page holds no key for this lab server, so it can watch but not start or stop anything: open the link \`lab serve\` printed (it ends in ?token=…)`, ack);
        const checked = validate(event, args[0]);
        if (!checked.ok) return refuse(event, checked.error, ack);
        try {
          fn(checked.value as never, reply);
        } catch (e) {
          reply({ ok: false, error: `${event}: ${e instanceof Error ? e.message : String(e)}` });
        }
      });
    };
  }

  list(): RunSummary[] {
    const live = [...this.runs.values()].map((r) => r.summary);
    const liveIds = new Set(live.map((r) => r.runId));
    const stored = this.disk.list(liveIds);
    const all = [...live, ...stored];
    const rank = (r: RunSummary) => (r.status === 'running' || r.status === 'starting' ? 0 : r.origin === 'disk' ? 2 : 1);
    // createdAt comes from disk and publishers: a missing one sorts last instead of throwing.
    const created = (r: RunSummary) => (typeof r.createdAt === 'string' ? r.createdAt : '');
    return all.sort((a, b) => rank(a) - rank(b) || created(b).localeCompare(created(a)));
  }

  summary(runId: string): RunSummary | null {
    return this.runs.get(runId)?.summary ?? this.disk.summary(runId);
  }

  history(runId: string): RunHistory | null {
    const live = this.runs.get(runId);
    return live ? live.history.snapshot() : this.disk.history(runId);
  }

  private watch(socket: ViewerSocket, runId: string): Ack<{ run: RunSummary; history: RunHistory; frames: StepFrame[]; samples: SamplesEvent[] }> {
    const run = this.runs.get(runId);
    if (!run) {
      const stored = this.disk.summary(runId);
      if (!stored) return { ok: false, error: `run:watch: no run ${JSON.stringify(runId)}` };
      return { ok: true, run: stored, history: this.disk.history(runId)!, frames: [], samples: this.disk.samples(runId) };
    }
    if (!run.watchers.has(socket.id)) {
      run.watchers.set(socket.id, { socket, dropped: 0 });
      void socket.join(room(runId));
      run.summary.watchers = run.watchers.size;
      if (run.watchers.size === 1) this.sendWatchOrder(run);
      this.changed();
    }
    return { ok: true, run: run.summary, history: run.history.snapshot(), frames: [...run.episodeFrames], samples: thinGrids(run.samples, WATCH_SAMPLE_GRIDS) };
  }

  private unwatch(socket: ViewerSocket, runId: string): void {
    const run = this.runs.get(runId);
    const w = run?.watchers.get(socket.id);
    if (!run || !w) return;
    run.watchers.delete(socket.id);
    void socket.leave(room(runId));
    run.summary.watchers = run.watchers.size;
    if (run.watchers.size === 0) this.sendWatchOrder(run);
    this.changed();
  }

  private sendWatchOrder(run: LiveRun): void {
    run.publisher?.emit('publisher:watch', { runId: run.summary.runId, watching: run.watchers.size > 0, frameEvery: 1 });
  }

  // ------------------------------------------------------------------------------------------ runs from the viewer

  start(request: StartRunRequest): Ack<{ run: RunSummary }> {
    if (this.closing) return { ok: false, error: 'run:start: the server is shutting down' };
    const active = this.launchedAlive();
    if (active >= MAX_SERVER_RUNS) return { ok: false, error: `run:start: ${active} runs are already training; stop one first` };
    const runKey = newToken();
    const keys = { ...(this.options.token ? { token: this.options.token } : {}), runKey };
    const seed = request.seed ?? 0;
    const runsDir = path.resolve(this.options.runsDir);
    let launched: Launched;
    let summary: RunSummary;
    if (request.kind === 'gan') {
      const checked = checkGanStartRequest(request);
      const runId = this.newRunId(`gan-${checked.category.replace(/[^A-Za-z0-9._-]+/g, '_')}-${checked.preset}-s${seed}`);
      fs.mkdirSync(this.options.runsDir, { recursive: true });
      launched = (this.options.launcher?.gan ?? launchGanTrainer)({
        runId,
        category: checked.category,
        preset: checked.preset,
        seed,
        iterations: request.iterations ?? null,
        runsDir,
        serverUrl: this.options.serverUrl(),
        ...keys,
        ...(this.options.ganTrainerArgs ? { extraArgs: this.options.ganTrainerArgs } : {}),
      });
      summary = newSummary({ runId, kind: 'gan', envId: ganEnvId(checked.category), agent: GAN_AGENT, preset: checked.preset, seed, steps: checked.iterations, fps: GAN_FPS });
    } else {
      const checked = checkStartRequest(request);
      const runId = this.newRunId(`${checked.envId}-${request.agent}${checked.preset ? `-${checked.preset}` : ''}-s${seed}`);
      fs.mkdirSync(this.options.runsDir, { recursive: true });
      launched = (this.options.launcher?.rl ?? launchTrainer)({
        runId,
        envId: checked.envId,
        agent: request.agent,
        preset: checked.preset,
        seed,
        steps: request.steps ?? null,
        runsDir,
        serverUrl: this.options.serverUrl(),
        ...keys,
        ...(this.options.trainerArgs ? { extraArgs: this.options.trainerArgs } : {}),
      });
      summary = newSummary({ runId, kind: 'rl', envId: checked.envId, agent: request.agent, preset: checked.preset, seed, steps: checked.steps, fps: envFps(checked.envId) });
    }
    return { ok: true, run: this.track(summary, launched, runKey).summary };
  }

  /**
   * Processes this server launched that are still alive (trainers and policy watchers): the cap counts these, not
   * what publishers report, so no message can free a slot early.
   */
  private launchedAlive(): number {
    let n = 0;
    for (const r of this.runs.values()) if (r.launched !== null) n++;
    return n;
  }

  /** Holds a run the server launched; its process's exit decides its status. */
  private track(summary: RunSummary, launched: Launched, runKey: string): LiveRun {
    const runId = summary.runId;
    const run = newLiveRun(summary, launched, runKey);
    this.makeRoom();
    this.runs.set(runId, run);
    launched.child.on('exit', (code, signal) => {
      run.lastHeard = performance.now();
      const s = run.summary;
      if (s.status === 'starting' || s.status === 'running' || s.status === 'lost') {
        if (code === 0) s.status = 'done';
        else {
          s.status = 'failed';
          s.error = `trainer exited with ${signal ?? `code ${code}`}${launched.tail() ? `:\n${launched.tail()}` : ''}`;
        }
      }
      run.launched = null;
      this.changed();
    });
    launched.child.on('error', (err) => {
      run.launched = null;
      run.summary.status = 'failed';
      run.summary.error = `could not start the trainer: ${err.message}`;
      this.changed();
    });
    this.options.log?.(`started ${runId}`);
    this.changed();
    return run;
  }

  /**
   * Plays a stored RL run's greedy policy live (a `lab watch` child) as a run of its own, until stopped; a
   * second request for the same run gets the watcher already playing.
   */
  watchPolicy(sourceId: string): Ack<{ run: RunSummary }> {
    if (this.closing) return { ok: false, error: 'run:watch-policy: the server is shutting down' };
    const existing = [...this.runs.values()].find((r) => r.watchOf === sourceId && r.launched !== null);
    if (existing) return { ok: true, run: existing.summary };
    const source = this.disk.summary(sourceId);
    const dir = this.disk.dirOf(sourceId);
    if (!source || !dir) return { ok: false, error: `run:watch-policy: no stored run ${JSON.stringify(sourceId)}` };
    if (source.kind !== 'rl') return { ok: false, error: `run:watch-policy: ${sourceId} is a ${source.kind} run: only RL runs have a policy to watch` };
    if (source.status === 'damaged') return { ok: false, error: `run:watch-policy: ${sourceId} is damaged (${source.error ?? 'unreadable'})` };
    // The policy `lab watch` will load, found as it finds it (final policy, else the latest checkpoint's).
    try {
      resolveModel(dir);
    } catch (e) {
      // Named by its run id: the viewer never sees the server's paths.
      return { ok: false, error: `run:watch-policy: ${oneLine((e instanceof Error ? e.message : String(e)).replaceAll(dir, sourceId))}` };
    }
    const active = this.launchedAlive();
    if (active >= MAX_SERVER_RUNS) return { ok: false, error: `run:watch-policy: ${active} runs are already going; stop one first` };
    const runKey = newToken();
    const runId = this.newRunId(`${sourceId.slice(0, 150)}-policy`);
    const launched = (this.options.launcher?.watch ?? launchPolicyWatcher)({ runId, runDir: dir, serverUrl: this.options.serverUrl(), runKey, ...(this.options.token ? { token: this.options.token } : {}) });
    const summary = newSummary({ runId, kind: 'rl', envId: source.envId, agent: `${source.agent} · greedy`, preset: source.preset, seed: 3_000_000, steps: 1_000_000_000, fps: source.fps });
    const run = this.track(summary, launched, runKey);
    run.watchOf = sourceId;
    return { ok: true, run: run.summary };
  }

  /** Once `runId` (launched by this server) has trained to its end, keeps its greedy policy playing live. */
  watchPolicyWhenDone(runId: string): void {
    const child = this.runs.get(runId)?.launched?.child;
    child?.once('exit', (code) => {
      if (code !== 0 || this.closing) return;
      // The run directory's final files are in place once the trainer has exited.
      this.guard('demo policy', () => {
        const r = this.watchPolicy(runId);
        this.options.log?.(r.ok ? `${runId} has trained: its greedy policy plays on as ${r.run.runId}` : r.error);
      });
    });
  }

  private newRunId(base: string): string {
    const stamp = runStamp();
    let id = `${base}-${stamp}`;
    for (let i = 2; this.runs.has(id) || fs.existsSync(path.join(this.options.runsDir, id)); i++) id = `${base}-${stamp}-${i}`;
    return id;
  }

  stop(runId: string): Ack {
    const run = this.runs.get(runId);
    if (!run) return { ok: false, error: `run:stop: no live run ${JSON.stringify(runId)}` };
    if (run.summary.status !== 'running' && run.summary.status !== 'starting') return { ok: false, error: `run:stop: run ${runId} is not training (${run.summary.status})` };
    // The trainer checkpoints and ends; a process that has not connected yet is interrupted the same way.
    if (run.publisher) run.publisher.emit('publisher:stop', { runId });
    else if (run.launched) run.launched.child.kill('SIGINT');
    else return { ok: false, error: `run:stop: run ${runId} has no trainer connected` };
    return { ok: true };
  }

  // ------------------------------------------------------------------------------------------ publishers

  private hello(socket: PublisherSocket, { protocol, run: info }: HelloPayload): Ack<{ watch: { runId: string; watching: boolean; frameEvery: number } }> {
    if (protocol !== PROTOCOL_VERSION) return { ok: false, error: `publisher:hello: protocol ${protocol} is not supported (server speaks ${PROTOCOL_VERSION})` };
    const announced = socket.data.runId as string | undefined;
    if (announced !== undefined && announced !== info.runId) return { ok: false, error: `publisher:hello: this connection publishes run ${announced}; open another connection for ${info.runId}` };
    let run = this.runs.get(info.runId);
    if (run?.publisher && run.publisher.id !== socket.id && run.publisher.connected) return { ok: false, error: `publisher:hello: run ${info.runId} is already being published` };
    // A run this server launched belongs to its own process, which holds the run's key.
    if (run?.runKey && !sameToken(socket.data.runKey, run.runKey)) return { ok: false, error: `publisher:hello: run ${info.runId} was started by this server; only its own trainer may publish it` };
    if (!run) {
      if (!this.makeRoom()) return { ok: false, error: `publisher:hello: the server holds ${this.runs.size} live runs, its most; try again when one ends` };
      run = newLiveRun(
        {
          ...newSummary(info),
          episodes: info.episodes,
          numEnvs: info.numEnvs,
          backend: info.backend,
          status: 'running',
          origin: 'cli',
          step: info.startStep,
        },
        null,
        null,
      );
      run.info = info;
      this.runs.set(info.runId, run);
      // A resumed run continues its curves: start from what its run directory already holds.
      const stored = info.startStep > 0 ? this.disk.history(info.runId) : null;
      if (stored) {
        // Only what the checkpoint covers: the trainer cuts metrics.jsonl back to it and writes the rest again.
        const upTo = <T extends { step: number }>(points: T[]) => points.filter((p) => p.step <= info.startStep);
        run.history.add(
          [
            ...upTo(stored.episodes).map((e) => ({ type: 'episode' as const, ...e, envIndex: 0, terminated: false, truncated: false, time: 0 })),
            ...upTo(stored.evals).map((e) => ({ type: 'eval' as const, ...e, episodes: 1, meanLength: 0, returns: [], seconds: 0, time: 0 })),
            ...upTo(stored.updates).map((u) => ({ type: 'update' as const, step: u.step, updates: u.step, stats: u.stats, sps: u.sps, time: 0 })),
          ].sort((a, b) => a.step - b.step),
        );
        run.samples = this.disk.samples(info.runId).filter((g) => g.step <= info.startStep);
        // An AlphaZero-lite run's evaluations (its iterations came in as updates above).
        run.history.addMatches((stored.matches ?? []).filter((m) => m.step <= info.startStep));
        if (run.history.matches.length) run.summary.lastMatches = run.history.lastMatches;
      }
    }
    run.info = info;
    run.publisher = socket;
    run.lastHeard = performance.now();
    socket.data.runId = info.runId;
    Object.assign(run.summary, { status: 'running', steps: info.steps, episodes: info.episodes, numEnvs: info.numEnvs, backend: info.backend, fps: info.fps, error: null });
    this.options.log?.(`publisher connected: ${info.runId}`);
    this.changed();
    return { ok: true, watch: { runId: info.runId, watching: run.watchers.size > 0, frameEvery: 1 } };
  }

  private ownRun(socket: PublisherSocket, runId: string): LiveRun {
    const run = this.runs.get(runId);
    if (!run || run.publisher !== socket) throw new Error(`this connection did not announce run ${JSON.stringify(runId)} (send ${'publisher:hello'} first)`);
    return run;
  }

  private events(socket: PublisherSocket, payload: EventsPayload): Ack {
    const run = this.ownRun(socket, payload.runId);
    run.lastHeard = performance.now();
    // A run that went quiet and was marked lost comes back with its next message.
    if (run.summary.status === 'lost') {
      run.summary.status = 'running';
      run.summary.error = null;
      this.changed();
    }
    const frames: StepFrame[] = [];
    const grids: SamplesEvent[] = [];
    for (const e of payload.events) {
      if (e.type === 'step') frames.push(toStepFrame(e));
      else if (e.type === 'samples') grids.push(e);
    }
    if (grids.length) {
      run.samples = boundGrids(addGrids(run.samples, grids, WATCH_SAMPLE_GRIDS), GRID_BYTES_PER_RUN);
      // Watchers get the newest of a batch live; the earlier ones reach a viewer that (re)opens the run.
      const samples = grids.reduce((a, b) => (b.step >= a.step ? b : a));
      this.viewers?.to(room(run.summary.runId)).emit('run:samples', { runId: run.summary.runId, samples });
    }
    const fresh = run.history.add(payload.events);
    const s = run.summary;
    s.step = Math.max(s.step, run.history.lastStep, frames.length ? frames[frames.length - 1]!.step : 0);
    s.episodesDone = run.history.episodesDone;
    s.lastReturn = run.history.lastReturn;
    s.meanReturn = run.history.meanReturn;
    s.lastEval = run.history.lastEval;
    s.sps = run.history.sps;
    s.exploration = run.history.exploration;
    if (fresh.matches?.length) s.lastMatches = run.history.lastMatches;
    if (fresh.episodes.length || fresh.evals.length || fresh.updates.length || fresh.matches?.length) {
      this.viewers?.to(room(s.runId)).emit('run:metrics', { runId: s.runId, ...fresh });
      this.changed();
    }
    if (frames.length || payload.dropped) this.deliverFrames(run, frames, payload.dropped ?? 0);
    return { ok: true };
  }

  private deliverFrames(run: LiveRun, frames: StepFrame[], droppedUpstream: number): void {
    this.stats.framesIn += frames.length;
    let bytes = run.episodeFrameBytes.reduce((a, b) => a + b, 0);
    for (const f of frames) {
      if (f.episodeStep === 1 || (run.episodeFrames.length && run.episodeFrames[run.episodeFrames.length - 1]!.episode !== f.episode)) {
        run.episodeFrames = [];
        run.episodeFrameBytes = [];
        bytes = 0;
      }
      const size = frameBytes(f);
      if (run.episodeFrames.length < MAX_EPISODE_FRAMES && bytes + size <= FRAME_BYTES_PER_RUN) {
        run.episodeFrames.push(f);
        run.episodeFrameBytes.push(size);
        bytes += size;
      }
    }
    if (run.watchers.size === 0) return;
    run.pending.push(...frames);
    for (const w of run.watchers.values()) w.dropped += droppedUpstream;
    const excess = run.pending.length - MAX_PENDING_FRAMES;
    if (excess > 0) {
      run.pending.splice(0, excess);
      for (const w of run.watchers.values()) w.dropped += excess;
      this.stats.framesDropped += excess * run.watchers.size;
    }
    this.scheduleFlush(run);
  }

  private scheduleFlush(run: LiveRun): void {
    if (run.flushTimer) return;
    const wait = Math.max(0, run.lastFlush + FLUSH_MS - performance.now());
    run.flushTimer = setTimeout(() => {
      run.flushTimer = null;
      this.flushFrames(run);
    }, wait);
  }

  /**
   * Sends the waiting frames to the run's watchers, at most 60 times a second. Watchers with the same drop
   * count get one broadcast (encoded once); a watcher whose connection is backed up is skipped and its
   * frames counted as dropped, so it never queues without bound.
   */
  private flushFrames(run: LiveRun): void {
    const frames = run.pending;
    run.pending = [];
    run.lastFlush = performance.now();
    const groups = new Map<number, string[]>();
    for (const [id, w] of run.watchers) {
      if (!w.socket.connected) continue;
      const queued = (w.socket.conn as unknown as { writeBuffer?: unknown[] }).writeBuffer?.length ?? 0;
      if (queued > SLOW_CLIENT_PACKETS) {
        w.dropped += frames.length;
        this.stats.framesDropped += frames.length;
        continue;
      }
      if (frames.length === 0 && w.dropped === 0) continue;
      const group = groups.get(w.dropped) ?? [];
      group.push(id);
      groups.set(w.dropped, group);
      w.dropped = 0;
    }
    for (const [dropped, ids] of groups) {
      this.stats.framesOut += frames.length * ids.length;
      this.viewers?.to(ids).emit('run:frames', { runId: run.summary.runId, frames, dropped });
    }
  }

  private end(socket: PublisherSocket, payload: EndPayload): Ack {
    const run = this.ownRun(socket, payload.runId);
    run.lastHeard = performance.now();
    run.summary.status = payload.status;
    run.summary.error = payload.error ?? null;
    this.options.log?.(`run ${payload.runId} ${payload.status}`);
    this.changed();
    return { ok: true };
  }

  private publisherGone(socket: PublisherSocket): void {
    const runId = socket.data.runId as string | undefined;
    const run = runId ? this.runs.get(runId) : undefined;
    if (!run || run.publisher !== socket) return;
    run.publisher = null;
    run.lastHeard = performance.now();
    // A server-started trainer's exit decides its status; a CLI run that vanished mid-run is lost (until it reconnects).
    if (run.summary.status === 'running' && !run.launched) {
      run.summary.status = 'lost';
      this.changed();
    }
  }

  // ------------------------------------------------------------------------------------------ housekeeping

  /**
   * Marks publishers that went quiet as lost (and disconnects them), and drops from memory the runs that ended
   * or lost their publisher longer than retainMs ago (no process of ours alive, nobody watching).
   */
  sweep(now = performance.now()): void {
    const staleMs = this.options.staleMs ?? DEFAULT_STALE_MS;
    const retainMs = this.options.retainMs ?? DEFAULT_RETAIN_MS;
    for (const [runId, run] of this.runs) {
      const s = run.summary;
      if (run.publisher && s.status === 'running' && now - run.lastHeard > staleMs) {
        s.status = 'lost';
        s.error = `the trainer sent nothing for ${Math.round((now - run.lastHeard) / 1000)} s`;
        this.options.log?.(`run ${runId}: publisher went quiet, marked lost`);
        const socket = run.publisher;
        run.publisher = null;
        socket.disconnect(true);
        this.changed();
      } else if (this.droppable(run, now, retainMs)) {
        this.drop(runId, run);
      }
    }
  }

  private droppable(run: LiveRun, now: number, retainMs: number): boolean {
    const ended = run.summary.status !== 'running' && run.summary.status !== 'starting';
    return ended && run.launched === null && run.publisher === null && run.watchers.size === 0 && now - run.lastHeard > retainMs;
  }

  private drop(runId: string, run: LiveRun): void {
    if (run.flushTimer) clearTimeout(run.flushTimer);
    this.runs.delete(runId);
    this.changed();
  }

  /**
   * Makes room for one more run in memory: at the limit, the ended run heard from longest ago is dropped (its
   * directory still lists it). False when every run held is live.
   */
  private makeRoom(): boolean {
    if (this.runs.size < MAX_RUNS_IN_MEMORY) return true;
    let oldest: [string, LiveRun] | null = null;
    for (const entry of this.runs) {
      const run = entry[1];
      const ended = run.summary.status !== 'running' && run.summary.status !== 'starting';
      if (ended && run.launched === null && run.publisher === null && (!oldest || run.lastHeard < oldest[1].lastHeard)) oldest = entry;
    }
    if (!oldest) return false;
    this.drop(oldest[0], oldest[1]);
    return true;
  }

  /** Bytes the hub holds in frames and sample grids, per run (tests and the security benchmark read it). */
  memoryUse(): { runs: number; frameBytes: number; gridBytes: number; maxRunFrameBytes: number; maxRunGridBytes: number } {
    let frameBytes = 0;
    let gridBytes = 0;
    let maxRunFrameBytes = 0;
    let maxRunGridBytes = 0;
    for (const run of this.runs.values()) {
      const f = run.episodeFrameBytes.reduce((a, b) => a + b, 0);
      const g = run.samples.reduce((a, e) => a + e.pixels.length, 0);
      frameBytes += f;
      gridBytes += g;
      maxRunFrameBytes = Math.max(maxRunFrameBytes, f);
      maxRunGridBytes = Math.max(maxRunGridBytes, g);
    }
    return { runs: this.runs.size, frameBytes, gridBytes, maxRunFrameBytes, maxRunGridBytes };
  }

  /** Tells every viewer the run list changed, at most twice a second. */
  private changed(): void {
    if (this.changedTimer || !this.viewers) return;
    this.changedTimer = setTimeout(() => {
      this.changedTimer = null;
      this.guard('run list update', () => this.viewers?.emit('runs:changed', { runs: this.list() }));
    }, 500);
  }

  /** Stops every trainer the server started (they checkpoint first) and waits for them, at most `timeoutMs`. */
  async close(timeoutMs = 10_000): Promise<void> {
    this.closing = true;
    clearInterval(this.sweepTimer);
    await this.go.closeAll();
    if (this.changedTimer) clearTimeout(this.changedTimer);
    this.changedTimer = null;
    for (const run of this.runs.values()) if (run.flushTimer) clearTimeout(run.flushTimer);
    const children = [...this.runs.values()].map((r) => r.launched?.child).filter((c) => c && c.exitCode === null && c.signalCode === null);
    await Promise.all(
      children.map(
        (child) =>
          new Promise<void>((resolve) => {
            const kill = setTimeout(() => child!.kill('SIGKILL'), timeoutMs);
            child!.once('exit', () => {
              clearTimeout(kill);
              resolve();
            });
            child!.kill('SIGINT');
          }),
      ),
    );
  }
}

/** The summary of a run the server has just launched (its trainer not connected yet), or the base of one a trainer announces. */
function newSummary(r: Pick<RunSummary, 'runId' | 'kind' | 'envId' | 'agent' | 'preset' | 'seed' | 'steps' | 'fps'>): RunSummary {
  return {
    runId: r.runId,
    kind: r.kind,
    envId: r.envId,
    agent: r.agent,
    preset: r.preset,
    seed: r.seed,
    steps: r.steps,
    fps: r.fps,
    episodes: null,
    numEnvs: 1,
    backend: '',
    status: 'starting',
    origin: 'server',
    ...NO_PROGRESS,
    createdAt: new Date().toISOString(),
    error: null,
  };
}

function newLiveRun(summary: RunSummary, launched: Launched | null, runKey: string | null): LiveRun {
  return {
    summary,
    info: null,
    history: new HistoryBuffer(),
    episodeFrames: [],
    episodeFrameBytes: [],
    publisher: null,
    watchers: new Map(),
    pending: [],
    lastHeard: performance.now(),
    runKey,
    samples: [],
    flushTimer: null,
    lastFlush: 0,
    launched,
  };
}

/** A frame's size as JSON, estimated without encoding it (numbers ~12 bytes, strings their length). */
function frameBytes(f: StepFrame): number {
  let bytes = 64;
  const walk = (x: unknown, depth: number): void => {
    if (typeof x === 'string') bytes += x.length + 2;
    else if (typeof x === 'number' || typeof x === 'boolean' || x === null) bytes += 12;
    else if (depth < 8 && Array.isArray(x)) for (const y of x) walk(y, depth + 1);
    else if (depth < 8 && typeof x === 'object') {
      for (const [k, y] of Object.entries(x as Record<string, unknown>)) {
        bytes += k.length + 3;
        walk(y, depth + 1);
      }
    }
  };
  walk(f.frame, 0);
  return bytes;
}

/** Thins a run's grids (keeping the first and newest) until their pixels fit in `maxBytes`. */
export function boundGrids(grids: SamplesEvent[], maxBytes: number): SamplesEvent[] {
  let out = grids;
  const size = (list: SamplesEvent[]) => list.reduce((a, g) => a + g.pixels.length, 0);
  while (out.length > 1 && size(out) > maxBytes) out = thinGrids(out, out.length - 1);
  if (out.length === 1 && size(out) > maxBytes) return [];
  return out;
}

function room(runId: string): string {
  return `run:${runId}`;
}

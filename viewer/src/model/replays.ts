/**
 * Replay logs in the viewer (pure, no DOM): filtering and ordering the list, same-seed partners, the episodes a
 * finished run's stage loops, the shared timeline of several episodes, the playback clock, and per-step
 * readouts of a replay.
 */
import type { RenderFrame, ReplayDetail, ReplaySummary, StepFrame } from '../../../protocol/protocol.js';
import { toRenderFrame } from '../../../envs/frames.js';
import { formatReturn } from './format.js';
import type { ReplayFilters, ReplayRef } from './routes.js';

// ---------------------------------------------------------------------------------------------------------
// The list

export function replayKey(r: ReplayRef): string {
  return `${r.runId}/${r.name}`;
}

/** "a2c · cartpole", "dqn", or "—" when the log names no agent. */
export function replayAgentLabel(r: Pick<ReplaySummary, 'agent' | 'preset'>): string {
  if (!r.agent) return '—';
  return r.preset ? `${r.agent} · ${r.preset}` : r.agent;
}

/**
 * A run id without what the row already says: `CartPole-v1-a2c-cartpole-s1-20261123-092415` → `s1-20261123-092415`
 * (the default run ids are `<env>-<agent>[-<preset>]-s<seed>-<time>`); other ids stay as they are.
 */
export function shortRunId(r: Pick<ReplaySummary, 'runId' | 'envId' | 'agent' | 'preset'>): string {
  let id = r.runId;
  for (const part of [r.envId, r.agent, r.preset]) {
    if (part && id.startsWith(`${part}-`) && id.length > part.length + 1) id = id.slice(part.length + 1);
  }
  return id;
}

/**
 * Whether a replay passes the filters (exact matches, like the server's query parameters). The agent
 * filter matches the agent name or `agent/preset`.
 */
export function matchesFilters(r: ReplaySummary, f: ReplayFilters): boolean {
  if (f.env && r.envId !== f.env) return false;
  if (f.run && r.runId !== f.run) return false;
  if (f.mode && r.mode !== f.mode) return false;
  if (f.agent) {
    const full = r.agent && r.preset ? `${r.agent}/${r.preset}` : r.agent;
    if (r.agent !== f.agent && full !== f.agent) return false;
  }
  return true;
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** By run, then evaluation episodes (by policy step, then index) before training episodes (by episode). */
export function sortReplays(list: readonly ReplaySummary[]): ReplaySummary[] {
  return [...list].sort(
    (a, b) =>
      cmp(a.runId, b.runId) ||
      (a.mode === b.mode ? 0 : a.mode === 'eval' ? -1 : 1) ||
      (a.checkpointStep ?? -1) - (b.checkpointStep ?? -1) ||
      a.episode - b.episode ||
      cmp(a.name, b.name),
  );
}

export function filterReplays(list: readonly ReplaySummary[], f: ReplayFilters): ReplaySummary[] {
  return sortReplays(list.filter((r) => matchesFilters(r, f)));
}

/** The query string of `API.replays` for the filters ('' when none). */
export function replaysQuery(f: ReplayFilters): string {
  const p = new URLSearchParams();
  if (f.env) p.set('env', f.env);
  if (f.agent) p.set('agent', f.agent.split('/')[0]!);
  if (f.run) p.set('run', f.run);
  if (f.mode) p.set('mode', f.mode);
  const s = p.toString();
  return s ? `?${s}` : '';
}

export interface FilterOptions {
  envs: string[];
  agents: string[];
  runs: string[];
}

/** The values each filter can take, from the whole list (sorted, distinct). */
export function filterOptions(list: readonly ReplaySummary[]): FilterOptions {
  const uniq = (xs: (string | null)[]) => [...new Set(xs.filter((x): x is string => !!x))].sort(cmp);
  return {
    envs: uniq(list.map((r) => r.envId)),
    agents: uniq(list.map((r) => r.agent)),
    runs: uniq(list.map((r) => r.runId)),
  };
}

/**
 * Replays that make a fair pair with `of`: the other evaluation episodes on the same env that started from the
 * same reset seed, so both policies faced the same initial state: those of other runs, and those of the same
 * run at other policy steps (each evaluation replays the same seeds, so a run's own episodes from one seed
 * show how its policy changed).
 */
export function sameSeedPartners(list: readonly ReplaySummary[], of: ReplaySummary): ReplaySummary[] {
  if (of.mode !== 'eval' || of.seed === null) return [];
  const key = replayKey(of);
  return list.filter((r) => r.mode === 'eval' && r.envId === of.envId && r.seed === of.seed && replayKey(r) !== key);
}

/**
 * What the Replays page says about `of`'s same-seed partners: " — 3 episodes from seed 1000000 too (1 of
 * another run, 2 of this run at other steps; highlighted)", or that there is none.
 */
export function partnersNote(list: readonly ReplaySummary[], of: ReplaySummary): string {
  const partners = sameSeedPartners(list, of);
  if (partners.length === 0) return ` — no other evaluation episode started from seed ${of.seed}`;
  const own = partners.filter((r) => r.runId === of.runId).length;
  const other = partners.length - own;
  const parts = [other > 0 ? `${other} of ${other === 1 ? 'another run' : 'other runs'}` : '', own > 0 ? `${own} of this run at other steps` : ''].filter(Boolean);
  return ` — ${partners.length} more episode${partners.length === 1 ? '' : 's'} from seed ${of.seed} (${parts.join(', ')}; highlighted)`;
}

/**
 * The same-seed partner to pick automatically: preferably another agent (or preset), then another run, each
 * with the policy trained for the number of steps closest to `of`'s (the latest on a tie); else the same run's
 * policy furthest from `of`'s in steps (most changed; the later on a tie); then list order.
 */
export function bestPartner(list: readonly ReplaySummary[], of: ReplaySummary): ReplaySummary | null {
  const partners = sortReplays(sameSeedPartners(list, of));
  const label = (r: ReplaySummary) => `${r.agent ?? ''}/${r.preset ?? ''}`;
  const gap = (r: ReplaySummary) => (r.checkpointStep === null || of.checkpointStep === null ? Infinity : Math.abs(r.checkpointStep - of.checkpointStep));
  /** 2: another agent, 1: another run of the same agent, 0: the same run. */
  const kinship = (r: ReplaySummary) => (label(r) !== label(of) ? 2 : r.runId !== of.runId ? 1 : 0);
  let best: ReplaySummary | null = null;
  for (const r of partners) {
    if (!best) {
      best = r;
      continue;
    }
    const k = kinship(r) - kinship(best);
    if (k !== 0) {
      if (k > 0) best = r;
      continue;
    }
    // Another run: the closest policy step; the same run: the furthest.
    const d = (gap(r) - gap(best)) * (kinship(r) === 0 ? -1 : 1);
    if (d < 0 || (d === 0 && (r.checkpointStep ?? -1) > (best.checkpointStep ?? -1))) best = r;
  }
  return best;
}

/** Selection of at most `max` replays: toggling a new one past the limit drops the oldest. */
export function toggleSelection(selected: readonly string[], key: string, max = 2): string[] {
  if (selected.includes(key)) return selected.filter((k) => k !== key);
  const next = [...selected, key];
  return next.length > max ? next.slice(next.length - max) : next;
}

// ---------------------------------------------------------------------------------------------------------
// A finished run's stage: its best and latest evaluation episodes on a loop

export interface LoopChoice {
  /** 'best': the highest return of all evaluations; 'latest': from the newest evaluation; 'best-latest': both. */
  role: 'best' | 'latest' | 'best-latest';
  replay: ReplaySummary;
}

/**
 * The evaluation episodes a finished run's stage loops: the best (highest return; on a tie the earliest policy
 * step that reached it, then the lowest episode index) and the latest (the newest evaluation's first episode,
 * which starts from the same seed at every evaluation), one entry when they are the same episode; none when
 * the run has no evaluation episodes in `list`.
 */
export function loopEpisodes(list: readonly ReplaySummary[], runId: string): LoopChoice[] {
  const evals = list.filter((r) => r.runId === runId && r.mode === 'eval' && Number.isFinite(r.return));
  if (evals.length === 0) return [];
  const step = (r: ReplaySummary) => r.checkpointStep ?? -1;
  const earlier = (a: ReplaySummary, b: ReplaySummary) => step(a) - step(b) || a.episode - b.episode || cmp(a.name, b.name);
  let best = evals[0]!;
  for (const r of evals) if (r.return > best.return || (r.return === best.return && earlier(r, best) < 0)) best = r;
  const newest = Math.max(...evals.map(step));
  const latest = evals.filter((r) => step(r) === newest).sort(earlier)[0]!;
  if (replayKey(best) === replayKey(latest)) return [{ role: 'best-latest', replay: best }];
  return [
    { role: 'best', replay: best },
    { role: 'latest', replay: latest },
  ];
}

/** The badge over a looping episode: "replay · best eval (return 500, step 45,000)". */
export function loopBadge(choice: LoopChoice): string {
  const what = choice.role === 'best' ? 'best eval' : choice.role === 'latest' ? 'latest eval' : 'best and latest eval';
  const r = choice.replay;
  const at = r.checkpointStep !== null ? `, step ${Math.round(r.checkpointStep).toLocaleString('en-US')}` : '';
  return `replay · ${what} (return ${formatReturn(r.return)}${at})`;
}

// ---------------------------------------------------------------------------------------------------------
// The shared timeline

/**
 * Where each of several episodes is at shared time `t` (0 = after reset, k = after step k). The timeline runs
 * to the longest episode; a shorter one holds its final frame once it ended.
 */
export interface PanePosition {
  /** Frame index shown: min(t, steps). */
  index: number;
  /** The episode is over at this point (t ≥ its step count). */
  ended: boolean;
  /** Held past its end (t > its step count): the shorter episode of a pair. */
  holding: boolean;
}

/** The last position of the timeline: the longest episode's step count (0 for no episodes). */
export function timelineMax(steps: readonly number[]): number {
  return steps.reduce((m, n) => Math.max(m, n), 0);
}

export function clampStep(t: number, max: number): number {
  if (!Number.isFinite(t)) return 0;
  return Math.max(0, Math.min(max, Math.round(t)));
}

export function panePosition(t: number, steps: number): PanePosition {
  const index = Math.max(0, Math.min(Math.floor(t), steps));
  return { index, ended: t >= steps, holding: t > steps };
}

export type ReplaySpeed = 1 | 2 | 4 | 16;
export const REPLAY_SPEEDS: readonly ReplaySpeed[] = [1, 2, 4, 16];

export function parseReplaySpeed(v: string): ReplaySpeed | null {
  const n = Number(v);
  return (REPLAY_SPEEDS as readonly number[]).includes(n) ? (n as ReplaySpeed) : null;
}

/**
 * The playback clock of a replay: an integer position on [0, max], advanced at fps × speed frames per second
 * of wall-clock time while playing; it pauses itself at the end.
 */
export class ReplayClock {
  t = 0;
  playing = false;
  speed: ReplaySpeed = 1;
  private acc = 0;

  constructor(
    public max: number,
    public fps: number,
  ) {}

  /** Advances by `dtMs`; returns whether the position changed. */
  tick(dtMs: number): boolean {
    if (!this.playing) return false;
    if (this.t >= this.max) {
      this.playing = false;
      return false;
    }
    // A long stall (background tab) advances at most a quarter of a second.
    this.acc += (Math.max(0, Math.min(dtMs, 250)) / 1000) * this.fps * this.speed;
    const n = Math.floor(this.acc);
    if (n <= 0) return false;
    this.acc -= n;
    const before = this.t;
    this.t = Math.min(this.max, this.t + n);
    if (this.t >= this.max) {
      this.playing = false;
      this.acc = 0;
    }
    return this.t !== before;
  }

  /** Play from the current position; at the end, play restarts from the beginning. */
  play(): void {
    if (this.t >= this.max) this.t = 0;
    this.playing = this.max > 0;
    this.acc = 0;
  }

  pause(): void {
    this.playing = false;
    this.acc = 0;
  }

  toggle(): void {
    if (this.playing) this.pause();
    else this.play();
  }

  seek(t: number): void {
    this.t = clampStep(t, this.max);
    this.acc = 0;
  }

  /** Single step (pauses). */
  stepBy(dk: number): void {
    this.pause();
    this.seek(this.t + dk);
  }

  setSpeed(speed: ReplaySpeed): void {
    this.speed = speed;
    this.acc = 0;
  }
}

// ---------------------------------------------------------------------------------------------------------
// One replay, step by step

export interface ReplayStepInfo {
  /** Frame index (steps taken). */
  k: number;
  /** Steps in the episode. */
  n: number;
  /** The action that led here (null at the reset frame). */
  action: number | number[] | null;
  /** Its reward (null at the reset frame). */
  reward: number | null;
  /** Sum of rewards of steps 1…k. */
  returnSoFar: number;
  terminated: boolean;
  truncated: boolean;
}

/** Prefix sums of the rewards: returns[k] = return after k steps (returns[0] = 0). */
export function returnsSoFar(steps: readonly { r: number }[]): number[] {
  const out = new Array<number>(steps.length + 1);
  let sum = 0;
  out[0] = 0;
  for (let i = 0; i < steps.length; i++) {
    sum += steps[i]!.r;
    out[i + 1] = sum;
  }
  return out;
}

export function stepInfo(detail: Pick<ReplayDetail, 'steps'>, k: number, returns = returnsSoFar(detail.steps)): ReplayStepInfo {
  const n = detail.steps.length;
  const i = Math.max(0, Math.min(n, Math.floor(k)));
  const s = i > 0 ? detail.steps[i - 1]! : null;
  return {
    k: i,
    n,
    action: s ? s.a : null,
    reward: s ? s.r : null,
    returnSoFar: returns[i] ?? 0,
    terminated: !!s?.term,
    truncated: !!s?.trunc,
  };
}

/** "1", "[0.5, -1]" or "—". */
export function formatAction(a: number | number[] | null): string {
  if (a === null) return '—';
  if (Array.isArray(a)) return `[${a.map((x) => String(Number(x.toFixed(3)))).join(', ')}]`;
  return String(a);
}

/** How an episode ended: 'terminated', 'truncated' or ''. */
export function endLabel(r: Pick<ReplaySummary, 'terminated' | 'truncated'>): string {
  return r.terminated ? 'terminated' : r.truncated ? 'truncated' : '';
}

/**
 * The frames of a replay as the stage draws them (the step frames of the live stream): frame k carries the
 * render frame after step k with the action, reward and return that led to it.
 */
export function replayStepFrames(detail: ReplayDetail): StepFrame[] {
  const returns = returnsSoFar(detail.steps);
  const out: StepFrame[] = [];
  const count = Math.min(detail.frames.length, detail.steps.length + 1);
  for (let k = 0; k < count; k++) {
    const s = k > 0 ? detail.steps[k - 1]! : null;
    // As live: a string (an `ansi` render) becomes a text frame, an object of an unknown kind stays as it is (the
    // player says it has no renderer for it).
    const raw = detail.frames[k];
    const frame: RenderFrame | null = typeof raw === 'string' ? toRenderFrame(raw) : raw && typeof raw === 'object' ? raw : null;
    const a = s ? s.a : -1;
    out.push({
      step: k,
      episode: detail.summary.episode,
      episodeStep: k,
      // Box actions stay the row of numbers the agent chose (the HUD and the renderers show them).
      action: a,
      reward: s ? s.r : 0,
      episodeReturn: returns[k]!,
      terminated: !!s?.term,
      truncated: !!s?.trunc,
      t: 0,
      frame,
    });
  }
  return out;
}

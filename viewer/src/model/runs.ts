/** Run-list logic: status presentation, ordering, which run to watch on load, the URL hash (pure, no DOM). */
import { ganCategoryOf, goSizeOf, type RunStatus, type RunSummary } from '../../../protocol/protocol.js';
import { formatCount, formatRate, formatReturn } from './format.js';

export interface StatusMeta {
  label: string;
  /** CSS colour of the status dot. */
  color: string;
  /** A trainer is (or is about to be) producing steps. */
  active: boolean;
  /** What the status means (the tooltip of its label). */
  title?: string;
}

export const STATUS_META: Record<RunStatus, StatusMeta> = {
  starting: { label: 'starting', color: '#e3b341', active: true, title: 'Its trainer is starting' },
  running: { label: 'running', color: '#3fb950', active: true, title: 'Training now: it plays here live' },
  done: { label: 'done', color: '#58a6ff', active: false, title: 'Finished its budget of steps while this server watched' },
  stopped: { label: 'stopped', color: '#8b949e', active: false, title: 'Stopped before its budget (it can be resumed with lab train --resume)' },
  failed: { label: 'failed', color: '#f85149', active: false, title: 'Its trainer exited with an error' },
  lost: { label: 'lost', color: '#f0883e', active: false, title: 'Its trainer stopped reporting' },
  stored: { label: 'stored', color: '#a371f7', active: false, title: 'Found on disk: trained earlier or elsewhere, not by this server session' },
  damaged: { label: 'damaged', color: '#db6d28', active: false, title: 'Found on disk, but its files cannot be used' },
};

export function statusMeta(status: string): StatusMeta {
  return Object.hasOwn(STATUS_META, status) ? STATUS_META[status as RunStatus] : { label: String(status), color: '#8b949e', active: false, title: '' };
}

/** A run found on disk whose files cannot be used: nothing to watch or compare, `error` says why. */
export function isDamaged(run: Pick<RunSummary, 'status'>): boolean {
  return run.status === 'damaged';
}

/** Why a damaged run cannot be used ("config.json: createdAt: expected a string, got nothing"); null for other runs. */
export function damageReason(run: Pick<RunSummary, 'status' | 'error'>): string | null {
  return isDamaged(run) ? run.error || 'its files cannot be read' : null;
}

export function isActive(run: Pick<RunSummary, 'status'>): boolean {
  return statusMeta(run.status).active;
}

/** Newest first (by creation time, then id), so a run just started appears on top. */
export function sortRuns(runs: readonly RunSummary[]): RunSummary[] {
  return [...runs].sort((a, b) => {
    const ta = Date.parse(a.createdAt);
    const tb = Date.parse(b.createdAt);
    const da = Number.isFinite(ta) ? ta : 0;
    const db = Number.isFinite(tb) ? tb : 0;
    if (db !== da) return db - da;
    return a.runId < b.runId ? -1 : a.runId > b.runId ? 1 : 0;
  });
}

/**
 * The run to watch when the page loads: the one named in the URL hash when it exists, else the first
 * running (or starting) run in list order, else none.
 */
export function pickAutoWatch(runs: readonly RunSummary[], hashRunId: string | null): string | null {
  if (hashRunId && runs.some((r) => r.runId === hashRunId)) return hashRunId;
  const sorted = sortRuns(runs);
  return (sorted.find((r) => r.status === 'running') ?? sorted.find((r) => r.status === 'starting'))?.runId ?? null;
}

/**
 * The run a page should switch to when the run list changes: the newest run that was not listed before and
 * is training (or starting), provided the page shows no live run now (nothing, or a run that has ended).
 */
export function newRunToFollow(runs: readonly RunSummary[], known: ReadonlySet<string>, watched: RunSummary | null): string | null {
  if (watched && isActive(watched)) return null;
  const fresh = sortRuns(runs.filter((r) => !known.has(r.runId) && (r.status === 'running' || r.status === 'starting')));
  return fresh[0]?.runId ?? null;
}

/** `#run=<id>` → id (also accepts `#<id>` forms with other keys, `&` separated). */
export function parseRunHash(hash: string): string | null {
  const body = hash.startsWith('#') ? hash.slice(1) : hash;
  for (const part of body.split('&')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq) !== 'run') continue;
    let value: string;
    try {
      value = decodeURIComponent(part.slice(eq + 1));
    } catch {
      return null;
    }
    return value.length > 0 ? value : null;
  }
  return null;
}

export function formatRunHash(runId: string | null): string {
  return runId ? `#run=${encodeURIComponent(runId)}` : '';
}

/**
 * A run that plays a trained policy (a "Watch policy" child, `lab watch --live`) rather than training one: its
 * agent is labelled "<agent> · greedy", and its step budget is only a cap (10⁹ when it plays until stopped).
 */
export function isPolicyWatcher(run: Pick<RunSummary, 'agent'>): boolean {
  return run.agent.endsWith(' · greedy');
}

/** Fraction of the step budget done, 0…1 (0 for a policy watcher: it has no budget to work through). */
export function runProgress(run: Pick<RunSummary, 'step' | 'steps' | 'status' | 'agent'>): number {
  if (isPolicyWatcher(run)) return 0;
  if (run.status === 'done') return 1;
  if (!(run.steps > 0)) return 0;
  return Math.min(1, Math.max(0, run.step / run.steps));
}

/**
 * What a run is about: its env id, "Quick, Draw! apple" for a GAN run on that category, "Go 7×7" for an
 * AlphaZero-lite run on that board (the run id when unknown, as for some damaged runs).
 */
export function runTitle(run: Pick<RunSummary, 'kind' | 'envId'> & Partial<Pick<RunSummary, 'runId'>>): string {
  const category = run.kind === 'gan' ? ganCategoryOf(run.envId) : null;
  if (category !== null && category !== '') return `Quick, Draw! ${category}`;
  const size = run.kind === 'go-alphazero' ? goSizeOf(run.envId) : null;
  if (size !== null) return `Go ${size}×${size}`;
  return run.envId || run.runId || 'unknown run';
}

/** "dqn · zoo" or "a2c" (no preset); "unknown agent" when a damaged run does not say. */
export function agentLabel(run: Pick<RunSummary, 'agent' | 'preset'>): string {
  const agent = run.agent || 'unknown agent';
  return run.preset ? `${agent} · ${run.preset}` : agent;
}

/**
 * The return figure a list row shows: the last greedy evaluation when there is one, else the running mean; for
 * an AlphaZero-lite run, its newest evaluation's win rate against the last (strongest) opponent.
 */
export function headlineReturn(run: Pick<RunSummary, 'lastEval' | 'meanReturn' | 'lastReturn'> & Partial<Pick<RunSummary, 'lastMatches'>>): { label: string; value: string } | null {
  const match = run.lastMatches?.at(-1);
  if (match) return { label: `vs ${match.opponent}`, value: `${Math.round(match.score * 100)}%` };
  if (run.lastEval !== null && run.lastEval !== undefined) return { label: 'eval', value: formatReturn(run.lastEval) };
  if (run.meanReturn !== null && run.meanReturn !== undefined) return { label: 'mean', value: formatReturn(run.meanReturn) };
  if (run.lastReturn !== null && run.lastReturn !== undefined) return { label: 'last', value: formatReturn(run.lastReturn) };
  return null;
}

/** "12.3k / 50k"; a policy watcher, which has no budget: "3 episodes · 1,204 steps". */
export function progressLabel(run: Pick<RunSummary, 'step' | 'steps' | 'agent' | 'episodesDone'>): string {
  if (isPolicyWatcher(run)) return `${formatCount(run.episodesDone)} episode${run.episodesDone === 1 ? '' : 's'} · ${formatCount(run.step)} steps`;
  return `${formatCount(run.step)} / ${formatCount(run.steps)}`;
}

/**
 * The statuses a legend beside the run list explains: those of the listed runs, in the order of STATUS_META
 * (a status the viewer does not know last, by name).
 */
export function legendStatuses(runs: readonly Pick<RunSummary, 'status'>[]): { status: string; meta: StatusMeta }[] {
  const present = new Set(runs.map((r) => String(r.status)));
  const known = (Object.keys(STATUS_META) as RunStatus[]).filter((s) => present.has(s));
  const unknown = [...present].filter((s) => !Object.hasOwn(STATUS_META, s)).sort();
  return [...known, ...unknown].map((status) => ({ status, meta: statusMeta(status) }));
}

export function spsLabel(run: Pick<RunSummary, 'sps' | 'status'>): string {
  return isActive(run) ? formatRate(run.sps) : '';
}

/** Exploration as the HUD shows it: "ε 0.052", "entropy 0.61". */
export function explorationLabel(run: Pick<RunSummary, 'exploration'> | null): { name: string; value: number } | null {
  const e = run?.exploration;
  if (!e) return null;
  const name = e.name === 'epsilon' ? 'ε' : e.name;
  return { name, value: e.value };
}

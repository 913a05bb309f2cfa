/**
 * The Compare page's logic (pure, no DOM): the request, the runs picker grouped by env, and the figures of a
 * `lab compare` result (`CompareResult`, protocol/protocol.ts) as the page shows them.
 */
import type { CompareResult, Estimate, GroupResult, RunSummary } from '../../../protocol/protocol.js';
import { formatCount } from './format.js';
import type { CompareParams } from './routes.js';

export type { CompareResult, Estimate, GroupResult };

/** The query string of `API.compare`. */
export function compareQuery(p: CompareParams): string {
  const q = new URLSearchParams();
  q.set('runs', p.runs.join(','));
  if (p.groupBy !== 'agent-preset') q.set('groupBy', p.groupBy);
  if (p.curve !== 'eval') q.set('curve', p.curve);
  return `?${q.toString().replace(/%2C/gi, ',')}`;
}

export interface EnvRuns {
  envId: string;
  runs: RunSummary[];
}

/** Runs grouped by env (envs alphabetically; within one, by agent label, seed, then id); damaged runs are apart (damagedRuns). */
export function runsByEnv(runs: readonly RunSummary[]): EnvRuns[] {
  const by = new Map<string, RunSummary[]>();
  for (const r of runs) {
    if (r.kind === 'gan') continue; // lab compare scores RL runs (returns), not GANs
    if (r.status === 'damaged') continue;
    by.set(r.envId, [...(by.get(r.envId) ?? []), r]);
  }
  const label = (r: RunSummary) => (r.preset ? `${r.agent}/${r.preset}` : r.agent);
  return [...by.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([envId, rs]) => ({
      envId,
      runs: rs.sort((a, b) => label(a).localeCompare(label(b)) || a.seed - b.seed || a.runId.localeCompare(b.runId)),
    }));
}

/** RL runs whose files cannot be used (status 'damaged'), by id: the picker shows them with their reason, not as choices. */
export function damagedRuns(runs: readonly RunSummary[]): RunSummary[] {
  return runs.filter((r) => r.kind !== 'gan' && r.status === 'damaged').sort((a, b) => a.runId.localeCompare(b.runId));
}

/** Decimals for a table whose values reach `max` in magnitude (as `lab compare` prints them). */
export function decimalsForMagnitude(max: number): number {
  const a = Math.abs(max);
  return a >= 100 ? 1 : a >= 10 ? 2 : 3;
}

/** "182.3 [170.5, 190.0]" with `d` decimals. */
export function formatEstimate(e: Estimate, d: number): string {
  return `${e.value.toFixed(d)} [${e.lo.toFixed(d)}, ${e.hi.toFixed(d)}]`;
}

/** "s1 182 · s2 175.5" (a `*` marks a score from training episodes: the run has no evaluation). */
export function seedScores(g: GroupResult, envId: string): string {
  return g.runs
    .filter((r) => r.envId === envId)
    .map((r) => `${Number.isFinite(r.seed) ? `s${r.seed}` : r.runId} ${compactNumber(r.score)}${r.source === 'episodes' ? '*' : ''}`)
    .join(' · ');
}

export function compactNumber(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  if (Number.isInteger(v)) return String(v);
  const a = Math.abs(v);
  return String(Number(v.toFixed(a >= 100 ? 1 : a >= 10 ? 2 : 3)));
}

/** The confidence level as a label: "95%". */
export function confidenceLabel(result: Pick<CompareResult, 'options'>): string {
  return `${Math.round(result.options.confidence * 1000) / 10}%`;
}

export interface CurvePointAt {
  group: string;
  color: string;
  step: number;
  mean: number;
  lo: number;
  hi: number;
  n: number;
}

/** Each group's curve point nearest to `step` on `envId` (for the chart's hover readout). */
export function curvePointsNear(result: CompareResult, envId: string, step: number): CurvePointAt[] {
  const out: CurvePointAt[] = [];
  for (const g of result.groups) {
    const c = g.curves.find((cv) => cv.envId === envId);
    if (!c || c.points.length === 0) continue;
    let best = c.points[0]!;
    for (const p of c.points) if (Math.abs(p.step - step) < Math.abs(best.step - step)) best = p;
    out.push({ group: g.name, color: g.color, step: best.step, mean: best.mean, lo: best.lo, hi: best.hi, n: best.n });
  }
  return out;
}

/** The chart title of an env's curves. */
export function curveTitle(result: CompareResult, envId: string): string {
  return result.options.curve === 'episodes'
    ? `${envId} · training return (moving average over ${formatCount(result.options.window ?? 0)} steps)`
    : `${envId} · greedy evaluation return`;
}

/** The error text of a failed API answer: the server's `{ error }` when it sent one. */
export function apiErrorMessage(status: number, body: unknown, fallback: string): string {
  if (body && typeof body === 'object' && typeof (body as { error?: unknown }).error === 'string') return (body as { error: string }).error;
  return `${fallback}: HTTP ${status}`;
}

/**
 * The Compare page's logic (pure, no DOM): the request, the runs picker grouped by env, and the figures of a
 * `lab compare` result (`CompareResult`, protocol/protocol.ts) as the page shows them.
 */
import { curveKeys, type CompareResult, type CurveKey, type Estimate, type GroupResult, type RunSummary } from '../../../protocol/protocol.js';

export { curveKeys, type CurveKey };
import { formatCount, formatReturn } from './format.js';
import { matchesLabel } from './alphazero.js';
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

/**
 * Runs grouped by env (envs alphabetically; within one, by agent label, seed, then id): RL envs, GAN categories
 * (`quickdraw:<category>`) and AlphaZero-lite boards (`go:<N>x<N>`) alike; damaged runs are apart (damagedRuns).
 */
export function runsByEnv(runs: readonly RunSummary[]): EnvRuns[] {
  const by = new Map<string, RunSummary[]>();
  for (const r of runs) {
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

/** Runs whose files cannot be used (status 'damaged'), by id: the picker shows them with their reason, not as choices. */
export function damagedRuns(runs: readonly RunSummary[]): RunSummary[] {
  return runs.filter((r) => r.status === 'damaged').sort((a, b) => a.runId.localeCompare(b.runId));
}

/** The picker's line under a run: "12.3k steps · eval 182.5", "400 iterations · random 90% · uct-400 35%" … */
export function pickerMeta(r: RunSummary): string {
  const unit = r.kind === 'rl' ? 'steps' : 'iterations';
  const score = r.kind === 'go-alphazero' ? matchesLabel(r.lastMatches ?? []) : r.lastEval !== null ? `eval ${formatReturn(r.lastEval)}` : r.meanReturn !== null ? `mean ${formatReturn(r.meanReturn)}` : null;
  return `${formatCount(r.step)} ${unit}${score ? ` · ${score}` : ''}`;
}

/** A group's curve of a chart (null when it has none). */
export function curveOf(g: GroupResult, key: string | CurveKey): GroupResult['curves'][number] | null {
  const k = typeof key === 'string' ? { envId: key, metric: null } : key;
  return g.curves.find((c) => c.envId === k.envId && (c.metric ?? null) === k.metric) ?? null;
}

/** What the curves' x axis counts: "env steps" (RL) or "iterations" (GAN, AlphaZero-lite). */
export function xUnitOf(result: Pick<CompareResult, 'xUnit'>): string {
  return result.xUnit ?? 'env steps';
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

/** Each group's curve point nearest to `step` on a chart (`envId`, or a CurveKey) (for the chart's hover readout). */
export function curvePointsNear(result: CompareResult, key: string | CurveKey, step: number): CurvePointAt[] {
  const out: CurvePointAt[] = [];
  for (const g of result.groups) {
    const c = curveOf(g, key);
    if (!c || c.points.length === 0) continue;
    let best = c.points[0]!;
    for (const p of c.points) if (Math.abs(p.step - step) < Math.abs(best.step - step)) best = p;
    out.push({ group: g.name, color: g.color, step: best.step, mean: best.mean, lo: best.lo, hi: best.hi, n: best.n });
  }
  return out;
}

/** The chart title of an env's curves (of a metric's, for GAN and AlphaZero-lite runs). */
export function curveTitle(result: CompareResult, key: string | CurveKey): string {
  const k = typeof key === 'string' ? { envId: key, metric: null, label: null } : key;
  if (k.metric !== null) return `${k.envId} · ${k.label ?? k.metric}`;
  const envId = k.envId;
  return result.options.curve === 'episodes'
    ? `${envId} · training return (moving average over ${formatCount(result.options.window ?? 0)} steps)`
    : `${envId} · greedy evaluation return`;
}

/** The error text of a failed API answer: the server's `{ error }` when it sent one. */
export function apiErrorMessage(status: number, body: unknown, fallback: string): string {
  if (body && typeof body === 'object' && typeof (body as { error?: unknown }).error === 'string') return (body as { error: string }).error;
  return `${fallback}: HTTP ${status}`;
}

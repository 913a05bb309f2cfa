/**
 * Hash routes of the viewer (pure, no DOM): which page a URL shows, and the URL of a page.
 *
 *   #run=<id>  (or '', #/live, #/live/<id>)           Live: the watched run
 *   #/replays?env=…&agent=…&run=…&mode=eval|train     Replays: the list of replay logs, filtered
 *   #/replay/<runId>/<name>?t=<step>                  Player: one replay log
 *   #/side-by-side?a=<runId>/<name>&b=<runId>/<name>&t=<step>
 *                                                     Two replay logs on one shared timeline
 *   #/compare?runs=<id>,<id>,…&groupBy=…&curve=…      Compare: learning curves and scores of runs
 *   #/go?size=7&opponent=mcts&color=black&sims=2000   Play Go against an agent (the settings of a new game)
 *   #/experiments/<id>                                Experiments: one experiment's trials (the list without an id)
 *   #/play/<runId>?policy=best_policy                 Play in browser: a run's policy plays in the page (final by default)
 *   #/latent/<runId>?seed=<n>                         GAN latent explorer: a GAN run's generator run in the page
 *
 * Run ids never contain '/' (RUN_ID_PATTERN), so `<runId>/<name>` splits unambiguously.
 */
import { goQueryEntries, parseGoSettings, type GoSettings } from './go_play.js';
import { parseRunHash } from './runs.js';

export interface ReplayRef {
  runId: string;
  name: string;
}

export type ReplayMode = 'eval' | 'train';

export interface ReplayFilters {
  env: string;
  agent: string;
  run: string;
  /** '' for both. */
  mode: ReplayMode | '';
}

export const NO_FILTERS: Readonly<ReplayFilters> = Object.freeze({ env: '', agent: '', run: '', mode: '' });

export type CompareGroupBy = 'agent-preset' | 'agent' | 'preset' | 'env';
export type CompareCurve = 'eval' | 'episodes';

export interface CompareParams {
  runs: string[];
  groupBy: CompareGroupBy;
  curve: CompareCurve;
}

export type Route =
  | { page: 'live'; runId: string | null }
  | { page: 'replays'; filters: ReplayFilters }
  | { page: 'replay'; ref: ReplayRef; step: number | null }
  | { page: 'side-by-side'; a: ReplayRef; b: ReplayRef; step: number | null }
  | { page: 'compare'; params: CompareParams }
  | { page: 'go'; settings: GoSettings }
  | { page: 'experiments'; id: string | null }
  | { page: 'latent'; runId: string; seed: number | null }
  | { page: 'play'; runId: string; policy: PlayPolicy | null };

/** Which of a run's saved policies the Play page runs: the final one or the best evaluated one. */
export type PlayPolicy = 'policy' | 'best_policy';

export type PageName = Route['page'];

export type Section = 'live' | 'replays' | 'compare' | 'go' | 'experiments';

/** The navigation tab a page belongs to. */
export function sectionOf(page: PageName): Section {
  if (page === 'latent') return 'live';
  if (page === 'play') return 'live';
  return page === 'live' || page === 'compare' || page === 'go' || page === 'experiments' ? page : 'replays';
}

const GROUP_BYS: readonly CompareGroupBy[] = ['agent-preset', 'agent', 'preset', 'env'];

function decode(s: string): string | null {
  try {
    return decodeURIComponent(s);
  } catch {
    return null;
  }
}

/** `a=1&b=x%2Fy` → Map (undecodable values dropped; the first of repeated keys wins). */
function parseQuery(query: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of query.split('&')) {
    if (!part) continue;
    const eq = part.indexOf('=');
    const key = decode(eq < 0 ? part : part.slice(0, eq));
    const value = decode(eq < 0 ? '' : part.slice(eq + 1).replace(/\+/g, ' '));
    if (key === null || value === null || out.has(key)) continue;
    out.set(key, value);
  }
  return out;
}

function formatQuery(entries: [string, string | null | undefined][]): string {
  const parts = entries.filter(([, v]) => v !== null && v !== undefined && v !== '').map(([k, v]) => `${k}=${encodeRefPart(v!)}`);
  return parts.length ? `?${parts.join('&')}` : '';
}

/** encodeURIComponent, but keeps ',' and '/' readable (run lists, `<runId>/<name>`): neither separates anything in a query value. */
function encodeRefPart(s: string): string {
  return encodeURIComponent(s).replace(/%2C/gi, ',').replace(/%2F/gi, '/');
}

/** `<runId>/<name>` → ref (null when either part is missing). */
export function parseReplayRef(text: string | null | undefined): ReplayRef | null {
  if (!text) return null;
  const slash = text.indexOf('/');
  if (slash <= 0 || slash === text.length - 1) return null;
  const runId = text.slice(0, slash);
  const name = text.slice(slash + 1);
  if (name.includes('/')) return null;
  return { runId, name };
}

export function formatReplayRef(ref: ReplayRef): string {
  return `${ref.runId}/${ref.name}`;
}

export function sameRef(a: ReplayRef | null | undefined, b: ReplayRef | null | undefined): boolean {
  return !!a && !!b && a.runId === b.runId && a.name === b.name;
}

/** A non-negative integer step, or null. */
function parseStep(v: string | undefined): number | null {
  if (v === undefined || !/^\d{1,9}$/.test(v)) return null;
  return Number(v);
}

export function parseFilters(q: Map<string, string>): ReplayFilters {
  const mode = q.get('mode');
  return {
    env: q.get('env') ?? '',
    agent: q.get('agent') ?? '',
    run: q.get('run') ?? '',
    mode: mode === 'eval' || mode === 'train' ? mode : '',
  };
}

/** Parses `location.hash` (with or without the leading '#'). Anything unknown is the live page. */
export function parseRoute(hash: string): Route {
  const body = hash.startsWith('#') ? hash.slice(1) : hash;
  if (!body.startsWith('/')) return { page: 'live', runId: parseRunHash(body) };
  const qi = body.indexOf('?');
  const pathPart = qi < 0 ? body : body.slice(0, qi);
  const q = parseQuery(qi < 0 ? '' : body.slice(qi + 1));
  const segs = pathPart.split('/').filter((s) => s !== '').map((s) => decode(s));
  if (segs.some((s) => s === null)) return { page: 'live', runId: null };
  const [head, ...rest] = segs as string[];
  switch (head) {
    case 'replays':
      return { page: 'replays', filters: parseFilters(q) };
    case 'replay': {
      if (rest.length === 2 && rest[0] && rest[1]) return { page: 'replay', ref: { runId: rest[0], name: rest[1] }, step: parseStep(q.get('t')) };
      return { page: 'replays', filters: { ...NO_FILTERS } };
    }
    case 'side-by-side': {
      const a = parseReplayRef(q.get('a'));
      const b = parseReplayRef(q.get('b'));
      if (a && b) return { page: 'side-by-side', a, b, step: parseStep(q.get('t')) };
      return { page: 'replays', filters: { ...NO_FILTERS } };
    }
    case 'compare': {
      const runs = [...new Set((q.get('runs') ?? '').split(',').map((s) => s.trim()).filter(Boolean))];
      const g = q.get('groupBy') as CompareGroupBy | undefined;
      const curve = q.get('curve') === 'episodes' ? 'episodes' : 'eval';
      return { page: 'compare', params: { runs, groupBy: g && GROUP_BYS.includes(g) ? g : 'agent-preset', curve } };
    }
    case 'go':
      return { page: 'go', settings: parseGoSettings(q) };
    case 'live':
      return { page: 'live', runId: rest[0] || null };
    case 'experiments':
      return { page: 'experiments', id: rest[0] || null };
    case 'latent':
      return rest[0] ? { page: 'latent', runId: rest[0], seed: parseStep(q.get('seed')) } : { page: 'live', runId: null };
    case 'play': {
      const policy = q.get('policy');
      return rest[0] ? { page: 'play', runId: rest[0], policy: policy === 'policy' || policy === 'best_policy' ? policy : null } : { page: 'live', runId: null };
    }
    default:
      return { page: 'live', runId: null };
  }
}

/** The hash of a route ('#…'); the live page keeps its historic `#run=<id>` form. */
export function formatRoute(route: Route): string {
  switch (route.page) {
    case 'live':
      return route.runId ? `#run=${encodeURIComponent(route.runId)}` : '#/live';
    case 'replays': {
      const f = route.filters;
      return `#/replays${formatQuery([
        ['env', f.env],
        ['agent', f.agent],
        ['run', f.run],
        ['mode', f.mode],
      ])}`;
    }
    case 'replay':
      return `#/replay/${encodeURIComponent(route.ref.runId)}/${encodeURIComponent(route.ref.name)}${formatQuery([['t', route.step === null ? null : String(route.step)]])}`;
    case 'side-by-side':
      return `#/side-by-side${formatQuery([
        ['a', formatReplayRef(route.a)],
        ['b', formatReplayRef(route.b)],
        ['t', route.step === null ? null : String(route.step)],
      ])}`;
    case 'compare': {
      const p = route.params;
      return `#/compare${formatQuery([
        ['runs', p.runs.join(',')],
        ['groupBy', p.groupBy === 'agent-preset' ? null : p.groupBy],
        ['curve', p.curve === 'eval' ? null : p.curve],
      ])}`;
    }
    case 'go':
      return `#/go${formatQuery(goQueryEntries(route.settings))}`;
    case 'experiments':
      return route.id ? `#/experiments/${encodeURIComponent(route.id)}` : '#/experiments';
    case 'latent':
      return `#/latent/${encodeURIComponent(route.runId)}${formatQuery([['seed', route.seed === null ? null : String(route.seed)]])}`;
    case 'play':
      return `#/play/${encodeURIComponent(route.runId)}${formatQuery([['policy', route.policy]])}`;
  }
}

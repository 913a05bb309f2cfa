/**
 * AlphaZero-lite runs in the viewer (pure, no DOM): where to play one (the Go page's route), its evaluation
 * results as chart series and as the words of the HUD and the run list.
 */
import { goSizeOf, type MatchPoint, type RunSummary } from '../../../protocol/protocol.js';
import { DEFAULT_GO_SETTINGS, GO_SIZES, type GoBoardSize } from './go_play.js';
import type { Route } from './routes.js';

/** The losses an AlphaZero-lite run logs per iteration, as its loss chart draws them. */
export const LOSS_LINES_AZ: readonly { key: string; label: string; color: string }[] = [
  { key: 'policyLoss', label: 'policy loss', color: '#58a6ff' },
  { key: 'valueLoss', label: 'value loss', color: '#f85149' },
];

/** Colours of the evaluation opponents, in the order they are first seen. */
const OPPONENT_COLORS = ['#3fb950', '#f0a35e', '#a371f7', '#e3b341', '#79c0ff'];

/** The Go page set to play this run's agent (its board size, opponent AlphaZero); null when the page cannot (a board size it does not offer). */
export function goPlayRoute(run: Pick<RunSummary, 'kind' | 'envId' | 'runId'>): Extract<Route, { page: 'go' }> | null {
  if (run.kind !== 'go-alphazero') return null;
  const size = goSizeOf(run.envId);
  if (size === null || !(GO_SIZES as readonly number[]).includes(size)) return null;
  return { page: 'go', settings: { ...DEFAULT_GO_SETTINGS, size: size as GoBoardSize, opponent: 'alphazero', agent: run.runId } };
}

/** The matches of the newest evaluation (one per opponent). */
export function lastMatchesOf(matches: readonly MatchPoint[]): MatchPoint[] {
  const last = matches.reduce((m, p) => Math.max(m, p.step), -1);
  return matches.filter((p) => p.step === last);
}

/** "random 90% · uct-400 35%", or null when there are none. */
export function matchesLabel(matches: readonly MatchPoint[]): string | null {
  if (!matches.length) return null;
  return matches.map((m) => `${m.opponent} ${Math.round(m.score * 100)}%`).join(' · ');
}

/** One line per opponent: win rate against iterations. */
export function matchSeries(matches: readonly MatchPoint[]): { opponent: string; color: string; xs: number[]; ys: number[] }[] {
  const out: { opponent: string; color: string; xs: number[]; ys: number[] }[] = [];
  for (const m of [...matches].sort((a, b) => a.step - b.step)) {
    let s = out.find((x) => x.opponent === m.opponent);
    if (!s) {
      s = { opponent: m.opponent, color: OPPONENT_COLORS[out.length % OPPONENT_COLORS.length]!, xs: [], ys: [] };
      out.push(s);
    }
    s.xs.push(m.step);
    s.ys.push(m.score);
  }
  return out;
}

/**
 * Playing Go against an agent (pure, no DOM): the settings of the Play page and their URL form, the request
 * they make, and the words the page shows for a game's state — whose turn, moves in GTP notation, the result
 * and its score, area ownership at the end.
 */
import type { GoFrame } from '../../../envs/frames.js';
import { GO_OPPONENTS, type GoGameState, type GoNewRequest, type GoOpponentKind } from '../../../protocol/protocol.js';
import { gtpVertex } from './go_geometry.js';

export const GO_SIZES = [5, 7, 9] as const;
export type GoBoardSize = (typeof GO_SIZES)[number];
export const MCTS_SIMS = [500, 2000, 8000] as const;
/** AlphaZero simulations per move (each one a network evaluation, ~0.1–0.2 ms on a laptop CPU). */
export const ALPHAZERO_SIMS = [100, 400, 1600] as const;
export const GNUGO_LEVELS = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10] as const;

export type GoColor = 'black' | 'white';

export interface GoSettings {
  size: GoBoardSize;
  opponent: GoOpponentKind;
  color: GoColor;
  /** MCTS simulations per move (used when the opponent is MCTS). */
  sims: number;
  /** AlphaZero simulations per move and the agent's run id (used when the opponent is AlphaZero). */
  azSims: number;
  agent: string | null;
  /** GNU Go level (used when the opponent is GNU Go). */
  level: number;
}

export const DEFAULT_GO_SETTINGS: Readonly<GoSettings> = Object.freeze({ size: 7, opponent: 'random', color: 'black', sims: 2000, azSims: 400, agent: null, level: 5 });

export const OPPONENT_LABELS: Record<GoOpponentKind, string> = { random: 'Random', mcts: 'MCTS', alphazero: 'AlphaZero (trained)', gnugo: 'GNU Go' };

/** Run ids as the server accepts them (protocol/protocol.ts RUN_ID_PATTERN). */
const AGENT_PATTERN = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,199}$/;

/** The komi the server uses for a board size when the request names none (envs/go/board.ts `defaultKomi`). */
export function defaultKomi(size: number): number {
  return size === 5 ? 24 : size === 7 ? 9 : size === 9 ? 7 : 7.5;
}

/** Settings from a route's query (unknown or out-of-range values fall back to the defaults). */
export function parseGoSettings(q: ReadonlyMap<string, string>): GoSettings {
  const d = DEFAULT_GO_SETTINGS;
  const size = Number(q.get('size'));
  const opponent = q.get('opponent') as GoOpponentKind | undefined;
  const color = q.get('color');
  const sims = Number(q.get('sims'));
  const level = Number(q.get('level'));
  const agent = q.get('agent');
  return {
    size: (GO_SIZES as readonly number[]).includes(size) ? (size as GoBoardSize) : d.size,
    opponent: opponent && GO_OPPONENTS.includes(opponent) ? opponent : d.opponent,
    color: color === 'white' || color === 'black' ? color : d.color,
    sims: (MCTS_SIMS as readonly number[]).includes(sims) ? sims : d.sims,
    azSims: (ALPHAZERO_SIMS as readonly number[]).includes(sims) ? sims : d.azSims,
    agent: agent && AGENT_PATTERN.test(agent) ? agent : null,
    level: (GNUGO_LEVELS as readonly number[]).includes(level) ? level : d.level,
  };
}

/** The query entries of settings: size, opponent and colour always, simulations, agent or level for their opponent. */
export function goQueryEntries(s: GoSettings): [string, string | null][] {
  return [
    ['size', String(s.size)],
    ['opponent', s.opponent],
    ['color', s.color],
    ['sims', s.opponent === 'mcts' ? String(s.sims) : s.opponent === 'alphazero' ? String(s.azSims) : null],
    ['agent', s.opponent === 'alphazero' ? s.agent : null],
    ['level', s.opponent === 'gnugo' ? String(s.level) : null],
  ];
}

export function sameGoSettings(a: GoSettings, b: GoSettings): boolean {
  return a.size === b.size && a.opponent === b.opponent && a.color === b.color && a.sims === b.sims && a.azSims === b.azSims && a.agent === b.agent && a.level === b.level;
}

/** The `go:new` request of settings. */
export function goNewRequest(s: GoSettings): GoNewRequest {
  const req: GoNewRequest = { size: s.size, opponent: s.opponent, humanColor: s.color };
  if (s.opponent === 'mcts') req.sims = s.sims;
  if (s.opponent === 'alphazero') {
    req.sims = s.azSims;
    if (s.agent) req.agent = s.agent;
  }
  if (s.opponent === 'gnugo') req.level = s.level;
  return req;
}

/** "Random", "MCTS · 2000 sims", "AlphaZero · 400 sims", "GNU Go · level 5". */
export function settingsOpponentLabel(s: GoSettings): string {
  if (s.opponent === 'mcts') return `MCTS · ${s.sims} sims`;
  if (s.opponent === 'alphazero') return `AlphaZero · ${s.azSims} sims`;
  if (s.opponent === 'gnugo') return `GNU Go · level ${s.level}`;
  return OPPONENT_LABELS[s.opponent];
}

/** The server's engine name ("random", "mcts-2000", "gnugo-5") for people: "Random", "MCTS (2000 sims)", "GNU Go (level 5)". */
export function opponentName(name: string): string {
  const mcts = /^mcts-(\d+)$/.exec(name);
  if (mcts) return `MCTS (${mcts[1]} sims)`;
  const gnugo = /^gnugo-(\d+)$/.exec(name);
  if (gnugo) return `GNU Go (level ${gnugo[1]})`;
  if (name === 'random') return 'Random';
  return name;
}

export function otherColor(c: GoColor): GoColor {
  return c === 'black' ? 'white' : 'black';
}

export function colorName(c: GoColor): string {
  return c === 'black' ? 'Black' : 'White';
}

/** A move (row·N + col, N² to pass) in GTP notation: "C3", "pass" (columns skip I, rows count from the bottom). */
export function moveName(move: number, size: number): string {
  if (move === size * size) return 'pass';
  if (!Number.isInteger(move) || move < 0 || move > size * size) return '?';
  return gtpVertex(Math.floor(move / size), move % size, size);
}

/** "Black C3", "White pass", or null before the first move (the player who moved is the one not to play). */
export function lastMoveText(frame: Pick<GoFrame, 'lastMove' | 'toPlay' | 'size'>): string | null {
  if (frame.lastMove === null) return null;
  const who = colorName(otherColor(frame.toPlay));
  if (frame.lastMove === 'pass') return `${who} pass`;
  return `${who} ${gtpVertex(frame.lastMove[0], frame.lastMove[1], frame.size)}`;
}

/** An empty board (the preview before a game). */
export function emptyGoFrame(size: number, komi = defaultKomi(size)): GoFrame {
  return { kind: 'go', size, board: '.'.repeat(size * size), toPlay: 'black', lastMove: null, captures: { black: 0, white: 0 }, komi };
}

/** A number as people write it: integers plain, halves with one decimal ("24", "3.5"). */
export function points(v: number): string {
  const r = Math.round(v * 100) / 100;
  return String(Object.is(r, -0) ? 0 : r);
}

export type GoPhase = 'none' | 'yours' | 'thinking' | 'waiting' | 'over' | 'failed';

export function goPhase(state: GoGameState | null): GoPhase {
  if (!state) return 'none';
  if (state.error) return 'failed';
  if (state.over) return 'over';
  if (state.thinking) return 'thinking';
  if (state.legal.length > 0) return 'yours';
  return 'waiting';
}

/** The turn line of the status panel. */
export function turnText(state: GoGameState | null): string {
  switch (goPhase(state)) {
    case 'none':
      return 'No game yet — press New game';
    case 'failed':
      return 'The agent failed';
    case 'over':
      return 'Game over';
    case 'thinking':
      return 'Agent is thinking…';
    case 'yours':
      return `Your move (${colorName(state!.humanColor)})`;
    case 'waiting':
      return `${colorName(state!.frame.toPlay)} to play`;
  }
}

export interface GoResultView {
  /** null for a draw or an unreadable result. */
  winner: GoColor | null;
  /** "Black wins by 3.5", "White wins by resignation", "Draw (jigo)". */
  headline: string;
  byResignation: boolean;
  /** Winning margin in points (null after a resignation). */
  margin: number | null;
  /** The person's view of it. */
  outcome: 'win' | 'loss' | 'draw' | null;
}

/** Reads an SGF result ("B+3.5", "W+R", "0") against the person's colour. */
export function resultView(result: string, humanColor: GoColor): GoResultView {
  const r = result.trim();
  if (r === '0' || r === 'Draw' || r === 'Jigo') return { winner: null, headline: 'Draw (jigo)', byResignation: false, margin: 0, outcome: 'draw' };
  const m = /^([BW])\+(.*)$/i.exec(r);
  if (!m) return { winner: null, headline: `Result ${r}`, byResignation: false, margin: null, outcome: null };
  const winner: GoColor = m[1]!.toUpperCase() === 'B' ? 'black' : 'white';
  const rest = m[2]!.trim();
  const outcome = winner === humanColor ? 'win' : 'loss';
  if (/^(R|Resign)$/i.test(rest)) return { winner, headline: `${colorName(winner)} wins by resignation`, byResignation: true, margin: null, outcome };
  if (/^(T|Time)$/i.test(rest)) return { winner, headline: `${colorName(winner)} wins on time`, byResignation: false, margin: null, outcome };
  const margin = Number(rest);
  if (rest === '' || !Number.isFinite(margin)) return { winner, headline: `${colorName(winner)} wins`, byResignation: false, margin: null, outcome };
  return { winner, headline: `${colorName(winner)} wins by ${points(margin)}`, byResignation: false, margin, outcome };
}

/** "You win", "Random wins", "Draw". */
export function outcomeText(view: GoResultView, opponent: string): string {
  if (view.outcome === 'win') return 'You win';
  if (view.outcome === 'loss') return `${opponentName(opponent)} wins`;
  if (view.outcome === 'draw') return 'Draw';
  return '';
}

export interface ScoreLines {
  /** Black's count: "2 area". */
  black: string;
  /** White's count: "8 area + 24 komi". */
  white: string;
  /** White's area plus komi. */
  whiteTotal: number;
  /** The winner's total minus the loser's: "White 32 − Black 2 = 30", or "Black 12 = White 12" for a draw. */
  margin: string;
}

/** The area count at the end, as the result panel shows it (komi goes to White: margin = black − white − komi). */
export function scoreLines(score: NonNullable<GoGameState['score']>): ScoreLines {
  const whiteTotal = score.white + score.komi;
  const b = `Black ${points(score.black)}`;
  const w = `White ${points(whiteTotal)}`;
  const margin = score.margin > 0 ? `${b} − ${w} = ${points(score.margin)}` : score.margin < 0 ? `${w} − ${b} = ${points(-score.margin)}` : `${b} = ${w}`;
  return { black: `${points(score.black)} area`, white: `${points(score.white)} area + ${points(score.komi)} komi`, whiteTotal, margin };
}

/**
 * Whether `incoming` (an ack or a `go:state` push for the same game) is at least as new as `current`: acks and
 * pushes may cross, and an older state must not replace a newer one.
 */
export function isNewerState(current: GoGameState | null, incoming: GoGameState): boolean {
  if (!current || current.gameId !== incoming.gameId) return true;
  if (incoming.moves !== current.moves) return incoming.moves > current.moves;
  if (current.over && !incoming.over) return false;
  if (incoming.thinking && !current.thinking) return false;
  return true;
}

/** The server's ack error without the event prefix ("go:play: B4 is illegal: occupied" → "B4 is illegal: occupied"). */
export function ackErrorText(message: string): string {
  return message.replace(/^go:[a-z]+:\s*/, '');
}

/** "go-7x7-mcts-2000-20260314-1530.sgf" (local time of `date`). */
export function sgfFileName(state: Pick<GoGameState, 'size' | 'opponent'>, date: Date): string {
  const two = (n: number) => String(n).padStart(2, '0');
  const stamp = `${date.getFullYear()}${two(date.getMonth() + 1)}${two(date.getDate())}-${two(date.getHours())}${two(date.getMinutes())}`;
  const who = state.opponent.replace(/[^A-Za-z0-9-]+/g, '') || 'agent';
  return `go-${state.size}x${state.size}-${who}-${stamp}.sgf`;
}

export interface AreaMap {
  /** Per point: the colour whose area it is (its stone, or an empty region bordering only that colour), else null. */
  owner: (GoColor | null)[];
  black: number;
  white: number;
}

/**
 * Area ownership (Tromp-Taylor, as the server scores): stones count for their colour; an empty region counts
 * for a colour when every stone bordering it is of that colour (a region touching both, or none, is nobody's).
 */
export function areaMap(board: string, size: number): AreaMap {
  const n = size * size;
  const owner: (GoColor | null)[] = new Array<GoColor | null>(n).fill(null);
  const seen = new Uint8Array(n);
  let black = 0;
  let white = 0;
  for (let p = 0; p < n; p++) {
    const ch = board[p];
    if (ch === 'X') {
      owner[p] = 'black';
      black++;
    } else if (ch === 'O') {
      owner[p] = 'white';
      white++;
    }
  }
  const region: number[] = [];
  for (let start = 0; start < n; start++) {
    if (seen[start] || board[start] === 'X' || board[start] === 'O') continue;
    region.length = 0;
    let touchesBlack = false;
    let touchesWhite = false;
    const stack = [start];
    seen[start] = 1;
    while (stack.length) {
      const p = stack.pop()!;
      region.push(p);
      const r = Math.floor(p / size);
      const c = p % size;
      const nbrs = [r > 0 ? p - size : -1, r < size - 1 ? p + size : -1, c > 0 ? p - 1 : -1, c < size - 1 ? p + 1 : -1];
      for (const q of nbrs) {
        if (q < 0) continue;
        const ch = board[q];
        if (ch === 'X') touchesBlack = true;
        else if (ch === 'O') touchesWhite = true;
        else if (!seen[q]) {
          seen[q] = 1;
          stack.push(q);
        }
      }
    }
    if (touchesBlack === touchesWhite) continue;
    const color: GoColor = touchesBlack ? 'black' : 'white';
    for (const p of region) owner[p] = color;
    if (color === 'black') black += region.length;
    else white += region.length;
  }
  return { owner, black, white };
}

/**
 * Matches between two Go players, with colours alternating (A is Black in games 0, 2, 4, …), Tromp-Taylor
 * scoring on a GoBoard (games end on two passes or the 2·N² move cap), optional SGF records, and a summary
 * with a 95% Wilson interval on the win rate and an Elo-difference estimate.
 *
 *   const r = await playMatch(new GnuGoPlayer({ level: 1 }), new RandomPlayer({ seed: 1 }), { games: 10, size: 7 });
 *   console.log(formatMatch(r));
 *
 * Statistics (draws count half a win):
 *   score p = (wins + draws/2) / games.
 *   Wilson 95% interval (z = 1.959964): centre = (p + z²/2n) / (1 + z²/n),
 *     half-width = z / (1 + z²/n) · sqrt(p(1−p)/n + z²/4n²).
 *   Elo difference (logistic Elo model, expected score p = 1 / (1 + 10^(−D/400))):
 *     D = −400 · log10(1/p − 1); ±Infinity at p = 1 / 0.
 *   Its 95% interval is the Elo of the Wilson bounds (the map is monotone).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BLACK, GoBoard, defaultKomi, toGtp } from '../../envs/go/board.js';
import { sgfResult, toSgf } from '../../envs/go/sgf.js';
import type { GoPlayer } from './player.js';

export const Z95 = 1.959964;

export interface MatchOptions {
  games: number;
  size: number;
  /** Default: the Go-lite default for the size. */
  komi?: number;
  /**
   * The match seed, recorded in results and SGF comments. The runner itself draws no random numbers: players
   * carry their own seeds (the CLI derives them from this one).
   */
  seed?: number;
  /** Directory for one SGF per game (game-001.sgf, …); created if missing. */
  sgfDir?: string;
  /** Called after each game (progress output). */
  onGame?: (game: GameResult) => void;
  /** Called after every move with the position (0-based game index): live viewers follow the games. */
  onMove?: (board: GoBoard, game: number) => void;
}

export interface GameResult {
  /** 0-based game index. */
  game: number;
  black: string;
  white: string;
  /** Whether player A had Black. */
  aIsBlack: boolean;
  /** 'A', 'B' or 'draw'. */
  winner: 'A' | 'B' | 'draw';
  /** RE-style result: "B+3.5", "W+9", "0". */
  result: string;
  /** Black's margin: black area − white area − komi. */
  margin: number;
  moves: number;
  /** Thinking time of each colour's player in this game (wall clock of its genmove calls). */
  blackTime: MoveTimes;
  whiteTime: MoveTimes;
  sgfPath?: string;
}

/** Wall-clock seconds a player spent choosing moves. */
export interface MoveTimes {
  moves: number;
  total: number;
  /** The longest single move. */
  max: number;
}

export interface PlayerSummary {
  name: string;
  wins: number;
  losses: number;
  draws: number;
  /** (wins + draws/2) / games. */
  winRate: number;
  /** 95% Wilson interval on winRate. */
  winRateCi: [number, number];
  /** Elo difference against the other player. */
  elo: number;
  /** 95% interval on elo (from winRateCi). */
  eloCi: [number, number];
  /** Seconds per move over the whole match: mean and the longest single move. */
  moveTime: { moves: number; mean: number; max: number };
}

export interface MatchResult {
  games: GameResult[];
  size: number;
  komi: number;
  seed: number | null;
  a: PlayerSummary;
  b: PlayerSummary;
}

/** 95% (by default) Wilson score interval for `successes` (may be fractional: draws count half) out of `n`. */
export function wilsonInterval(successes: number, n: number, z: number = Z95): [number, number] {
  if (!(n > 0)) return [0, 1];
  const p = successes / n;
  const z2 = z * z;
  const denom = 1 + z2 / n;
  const centre = (p + z2 / (2 * n)) / denom;
  const half = (z / denom) * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n));
  // Exact at the ends (the formula gives 0 / 1 there up to rounding).
  return [successes <= 0 ? 0 : Math.max(0, centre - half), successes >= n ? 1 : Math.min(1, centre + half)];
}

/** Elo difference for an expected score p: −400·log10(1/p − 1) (−Infinity at 0, +Infinity at 1). */
export function eloFromScore(p: number): number {
  if (p <= 0) return -Infinity;
  if (p >= 1) return Infinity;
  const d = -400 * Math.log10(1 / p - 1);
  return d === 0 ? 0 : d; // no −0 at p = 0.5
}

function summarise(name: string, wins: number, losses: number, draws: number, times: MoveTimes): PlayerSummary {
  const n = wins + losses + draws;
  const s = wins + draws / 2;
  const winRate = n > 0 ? s / n : NaN;
  const winRateCi = wilsonInterval(s, n);
  const moveTime = { moves: times.moves, mean: times.moves > 0 ? times.total / times.moves : 0, max: times.max };
  return { name, wins, losses, draws, winRate, winRateCi, elo: eloFromScore(winRate), eloCi: [eloFromScore(winRateCi[0]), eloFromScore(winRateCi[1])], moveTime };
}

function addTimes(into: MoveTimes, t: MoveTimes): void {
  into.moves += t.moves;
  into.total += t.total;
  into.max = Math.max(into.max, t.max);
}

function withPlayerNames(sgf: string, black: string, white: string): string {
  const esc = (s: string) => s.replace(/\\/g, '\\\\').replace(/]/g, '\\]');
  return sgf.replace('RU[Chinese]', `RU[Chinese]PB[${esc(black)}]PW[${esc(white)}]`);
}

/**
 * Plays one game to the end; the players see clones of the board. Throws if a player returns an illegal move.
 * With `times`, adds each colour's thinking time (the wall clock of its genmove calls) to it.
 */
export async function playGame(
  black: GoPlayer,
  white: GoPlayer,
  size: number,
  komi: number = defaultKomi(size),
  onMove?: (board: GoBoard) => void,
  times?: { black: MoveTimes; white: MoveTimes },
): Promise<GoBoard> {
  const board = new GoBoard(size, komi);
  while (!board.isOver) {
    const player = board.toPlay === BLACK ? black : white;
    const position = board.clone();
    const started = performance.now();
    const move = await player.genmove(position);
    if (times) {
      const seconds = (performance.now() - started) / 1000;
      addTimes(board.toPlay === BLACK ? times.black : times.white, { moves: 1, total: seconds, max: seconds });
    }
    if (!board.isLegal(move)) {
      throw new Error(`${player.name} (${board.toPlay === BLACK ? 'black' : 'white'}) chose an illegal move ${toGtp(move, size)} at move ${board.moveNumber + 1}: ${board.illegalReason(move)}`);
    }
    board.play(move);
    onMove?.(board);
  }
  return board;
}

/** Plays `games` games between A and B, alternating colours, and summarises them. Does not close the players. */
export async function playMatch(playerA: GoPlayer, playerB: GoPlayer, options: MatchOptions): Promise<MatchResult> {
  const { games, size } = options;
  if (!Number.isInteger(games) || games < 1) throw new Error(`playMatch: games must be a positive integer, got ${games}`);
  if (!Number.isInteger(size) || size < 5 || size > 19) throw new Error(`playMatch: size must be an integer from 5 to 19, got ${size}`);
  const komi = options.komi ?? defaultKomi(size);
  if (options.sgfDir) mkdirSync(options.sgfDir, { recursive: true });
  const results: GameResult[] = [];
  let aWins = 0;
  let bWins = 0;
  let draws = 0;
  const zero = (): MoveTimes => ({ moves: 0, total: 0, max: 0 });
  const timesA = zero();
  const timesB = zero();
  for (let g = 0; g < games; g++) {
    const aIsBlack = g % 2 === 0;
    const black = aIsBlack ? playerA : playerB;
    const white = aIsBlack ? playerB : playerA;
    const times = { black: zero(), white: zero() };
    const board = await playGame(black, white, size, komi, options.onMove ? (b) => options.onMove!(b, g) : undefined, times);
    addTimes(aIsBlack ? timesA : timesB, times.black);
    addTimes(aIsBlack ? timesB : timesA, times.white);
    const { margin } = board.score();
    const winner: GameResult['winner'] = margin === 0 ? 'draw' : margin > 0 === aIsBlack ? 'A' : 'B';
    if (winner === 'A') aWins++;
    else if (winner === 'B') bWins++;
    else draws++;
    const game: GameResult = { game: g, black: black.name, white: white.name, aIsBlack, winner, result: sgfResult(board), margin, moves: board.moveNumber, blackTime: times.black, whiteTime: times.white };
    if (options.sgfDir) {
      const path = join(options.sgfDir, `game-${String(g + 1).padStart(3, '0')}.sgf`);
      const comment = `game ${g + 1} of ${games}${options.seed !== undefined ? `, match seed ${options.seed}` : ''}`;
      writeFileSync(path, withPlayerNames(toSgf(board, { comment }), black.name, white.name));
      game.sgfPath = path;
    }
    results.push(game);
    options.onGame?.(game);
  }
  return {
    games: results,
    size,
    komi,
    seed: options.seed ?? null,
    a: summarise(playerA.name, aWins, bWins, draws, timesA),
    b: summarise(playerB.name, bWins, aWins, draws, timesB),
  };
}

function fmtElo(x: number): string {
  if (x === Infinity) return '+inf';
  if (x === -Infinity) return '-inf';
  const r = Math.round(x);
  return `${r > 0 ? '+' : ''}${r}`;
}

/** A text table: player, W/L/D, win rate [95% CI], Elo vs the other [95% CI], seconds per move (mean, max). */
export function formatMatch(r: MatchResult): string {
  const rows = [r.a, r.b].map((s) => [
    s.name,
    `${s.wins}`,
    `${s.losses}`,
    `${s.draws}`,
    `${(100 * s.winRate).toFixed(1)}% [${(100 * s.winRateCi[0]).toFixed(1)}, ${(100 * s.winRateCi[1]).toFixed(1)}]`,
    `${fmtElo(s.elo)} [${fmtElo(s.eloCi[0])}, ${fmtElo(s.eloCi[1])}]`,
    `${s.moveTime.mean.toFixed(3)} (${s.moveTime.max.toFixed(3)})`,
  ]);
  const header = ['player', 'wins', 'losses', 'draws', 'win rate [95% CI]', 'Elo vs other [95% CI]', 's/move mean (max)'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [
    `${r.games.length} games on ${r.size}x${r.size}, komi ${r.komi}, colours alternating (Tromp-Taylor area scoring)`,
    line(header),
    ...rows.map(line),
  ].join('\n');
}

/** When both players have the same name (random vs random), wraps them as "name (A)" / "name (B)". */
export function distinctNames(a: GoPlayer, b: GoPlayer): [GoPlayer, GoPlayer] {
  if (a.name !== b.name) return [a, b];
  const wrap = (p: GoPlayer, tag: string): GoPlayer => ({
    name: `${p.name} (${tag})`,
    genmove: (board) => p.genmove(board),
    close: () => p.close?.(),
  });
  return [wrap(a, 'A'), wrap(b, 'B')];
}

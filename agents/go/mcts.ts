/**
 * UCT Monte-Carlo tree search with random rollouts (Kocsis & Szepesvári 2006, "Bandit based Monte-Carlo
 * planning"), for the Go-lite board (`GoBoard`, Tromp-Taylor rules, positional superko).
 *
 *   const player = new MctsPlayer({ simulations: 1000, seed: 1 });
 *   const move = player.genmove(board);          // point index or board.passMove
 *   const { move, winRate, children } = player.search(board);   // for analysis
 *
 * One simulation:
 * 1. Selection: from the root, while the node has no untried move and has children, go to the child with
 *    the highest UCB1 = w/n + c·√(ln N / n), where w/n is the child's win rate from the point of view of the
 *    player to move at the parent (the player who made the child's move), N the parent's visits.
 * 2. Expansion: one untried move of the node, drawn at random, becomes a new child.
 * 3. Rollout: random moves until the game ends (two passes, or the board's 2·N² move cap), then a
 *    Tromp-Taylor count with komi: a win for Black is 1, a loss 0, a draw 0.5.
 * 4. Backpropagation: each node on the path adds one visit and the result seen from its mover.
 * The final move is the root's most visited child (ties: higher win rate). Pass is an ordinary child, so the
 * player passes only when passing was searched most (or nothing else is allowed). It never resigns.
 *
 * Eye heuristic (classic, as in GNU Go's Monte-Carlo mode and Pachi's random playouts): a player never fills
 * its own single-point "eye" — an empty point whose four neighbours are all its own stones (or the edge) and
 * whose diagonals hold at most one opponent stone (none when the point is on the edge). Without it, random
 * play keeps filling eyes until every group dies and the outcome says little about the position. The rule
 * applies in rollouts (a player passes when only eye points and illegal points remain) and in the tree's
 * expansion (eye points are never children), so the search cannot fill its own eye even when that would be
 * right (rare: some seki and ko fights).
 *
 * Determinism: all randomness comes from one seeded `Rng`, so with the same seed and the same sequence of
 * `genmove` positions the moves are identical (unless `timeLimitMs` cuts a search short).
 * Rollouts reuse one scratch board (`copyFrom`), so a simulation allocates only its new node.
 */
import { BLACK, EMPTY, GoBoard, type Stone } from '../../envs/go/board.js';
import { Rng } from '../../envs/utils/seeding.js';
import type { GoPlayer } from './player.js';

export interface MctsOptions {
  /** Simulations per move (default 1000). */
  simulations?: number;
  /** Stop a search early once this many milliseconds have passed (checked every few simulations). */
  timeLimitMs?: number;
  /** UCB1 exploration constant c (default √2). */
  exploration?: number;
  /** Seed of the player's random stream (default: a fresh random seed). */
  seed?: number;
  /** Name for tables and SGF (default `mcts-<simulations>`). */
  name?: string;
}

/** Statistics of one root move after a search. */
export interface MctsMoveStat {
  move: number;
  visits: number;
  /** Win rate of this move for the player to move at the root (0..1; draws count ½). */
  winRate: number;
}

export interface MctsSearchResult {
  /** The chosen move: a point index or `board.passMove`. */
  move: number;
  /** Win rate of the chosen move for the player to move (NaN when no search was needed). */
  winRate: number;
  /** Root visits per move (every searched root move; unsearched moves are absent). */
  visits: Map<number, number>;
  /** The same per-move statistics, most visited first. */
  children: MctsMoveStat[];
  /** Simulations run (fewer than asked when `timeLimitMs` stopped the search). */
  simulations: number;
  elapsedMs: number;
}

class Node {
  readonly children: Node[] = [];
  visits = 0;
  /** Sum of results from the point of view of `mover`. */
  wins = 0;
  constructor(
    readonly move: number,
    readonly parent: Node | null,
    /** The colour that played `move` (the player to move at the parent). */
    readonly mover: Stone,
    readonly untried: number[],
  ) {}
}

/** Neighbour and diagonal tables per board size (−1 off the board). */
interface Geometry {
  nbr: Int16Array;
  diag: Int16Array;
}
const geometryCache = new Map<number, Geometry>();

function geometry(size: number): Geometry {
  let g = geometryCache.get(size);
  if (g) return g;
  const n = size * size;
  const nbr = new Int16Array(n * 4).fill(-1);
  const diag = new Int16Array(n * 4).fill(-1);
  for (let r = 0; r < size; r++) {
    for (let c = 0; c < size; c++) {
      const p = r * size + c;
      if (r > 0) nbr[p * 4] = p - size;
      if (c < size - 1) nbr[p * 4 + 1] = p + 1;
      if (r < size - 1) nbr[p * 4 + 2] = p + size;
      if (c > 0) nbr[p * 4 + 3] = p - 1;
      if (r > 0 && c > 0) diag[p * 4] = p - size - 1;
      if (r > 0 && c < size - 1) diag[p * 4 + 1] = p - size + 1;
      if (r < size - 1 && c > 0) diag[p * 4 + 2] = p + size - 1;
      if (r < size - 1 && c < size - 1) diag[p * 4 + 3] = p + size + 1;
    }
  }
  g = { nbr, diag };
  geometryCache.set(size, g);
  return g;
}

/**
 * Whether the empty point `p` is a single-point eye of colour `c` (see the module comment): all orthogonal
 * neighbours are `c`, and at most one diagonal is the opponent's (none on the edge or in the corner).
 */
export function isOwnEye(board: GoBoard, p: number, c: Stone): boolean {
  return isEye(board.cells, geometry(board.size), p, c);
}

function isEye(cells: Int8Array, g: Geometry, p: number, c: number): boolean {
  if (cells[p] !== EMPTY) return false;
  const nbr = g.nbr;
  const diag = g.diag;
  const b = p * 4;
  for (let k = 0; k < 4; k++) {
    const q = nbr[b + k]!;
    if (q >= 0 && cells[q] !== c) return false;
  }
  const opp = 3 - c;
  let bad = 0;
  let edge = 0;
  for (let k = 0; k < 4; k++) {
    const d = diag[b + k]!;
    if (d < 0) edge = 1;
    else if (cells[d] === opp) bad++;
  }
  return bad + edge < 2;
}

export class MctsPlayer implements GoPlayer {
  readonly name: string;
  readonly simulations: number;
  readonly timeLimitMs: number | undefined;
  readonly exploration: number;
  private readonly rng: Rng;
  private scratch: GoBoard | null = null;
  private cand: Int16Array = new Int16Array(0);

  constructor(options: MctsOptions = {}) {
    const sims = options.simulations ?? 1000;
    if (!Number.isInteger(sims) || sims < 1) throw new RangeError(`MctsPlayer: simulations must be a positive integer, got ${sims}`);
    const t = options.timeLimitMs;
    if (t !== undefined && !(typeof t === 'number' && t > 0)) throw new RangeError(`MctsPlayer: timeLimitMs must be a positive number, got ${t}`);
    const c = options.exploration ?? Math.SQRT2;
    if (!(typeof c === 'number' && Number.isFinite(c) && c >= 0)) throw new RangeError(`MctsPlayer: exploration must be a finite number >= 0, got ${c}`);
    this.simulations = sims;
    this.timeLimitMs = t;
    this.exploration = c;
    this.rng = new Rng(options.seed);
    this.name = options.name ?? `mcts-${sims}`;
  }

  genmove(board: GoBoard): number {
    return this.search(board).move;
  }

  /** Runs one search from `board` (not modified) and returns the chosen move with the root statistics. */
  search(board: GoBoard): MctsSearchResult {
    const start = performance.now();
    const rootMoves = this.treeMoves(board);
    if (rootMoves.length <= 1) {
      // Game over, or pass is the only move left: nothing to search.
      return { move: board.passMove, winRate: Number.NaN, visits: new Map(), children: [], simulations: 0, elapsedMs: performance.now() - start };
    }
    if (this.scratch === null || this.scratch.size !== board.size || this.scratch.komi !== board.komi) {
      this.scratch = new GoBoard(board.size, board.komi);
      this.cand = new Int16Array(board.area);
    }
    const b = this.scratch;
    const g = geometry(board.size);
    const root = new Node(-1, null, (3 - board.toPlay) as Stone, rootMoves);
    const c = this.exploration;
    const limit = this.timeLimitMs;
    let sims = 0;
    while (sims < this.simulations) {
      if (limit !== undefined && (sims & 7) === 0 && sims > 0 && performance.now() - start > limit) break;
      sims++;
      b.copyFrom(board);
      let node = root;
      // Selection.
      while (node.untried.length === 0 && node.children.length > 0) {
        const logN = Math.log(node.visits);
        let best = node.children[0]!;
        let bestScore = -Infinity;
        for (const ch of node.children) {
          const s = ch.wins / ch.visits + c * Math.sqrt(logN / ch.visits);
          if (s > bestScore) {
            bestScore = s;
            best = ch;
          }
        }
        node = best;
        b.playUnchecked(node.move);
      }
      // Expansion.
      if (node.untried.length > 0) {
        const u = node.untried;
        const i = this.rng.integer(u.length);
        const m = u[i]!;
        u[i] = u[u.length - 1]!;
        u.pop();
        const mover = b.toPlay;
        b.playUnchecked(m);
        const child = new Node(m, node, mover, this.treeMoves(b));
        node.children.push(child);
        node = child;
      }
      // Rollout and backpropagation.
      const margin = this.rollout(b, g);
      const blackResult = margin > 0 ? 1 : margin < 0 ? 0 : 0.5;
      for (let n: Node | null = node; n !== null; n = n.parent) {
        n.visits++;
        n.wins += n.mover === BLACK ? blackResult : 1 - blackResult;
      }
    }
    const children: MctsMoveStat[] = root.children.map((ch) => ({ move: ch.move, visits: ch.visits, winRate: ch.wins / ch.visits }));
    children.sort((x, y) => y.visits - x.visits || y.winRate - x.winRate || x.move - y.move);
    const best = children[0]!;
    return {
      move: best.move,
      winRate: best.winRate,
      visits: new Map(children.map((s) => [s.move, s.visits])),
      children,
      simulations: sims,
      elapsedMs: performance.now() - start,
    };
  }

  /** Legal moves of the player to move, minus its own eyes; pass last (empty when the game is over). */
  private treeMoves(b: GoBoard): number[] {
    const legal = b.legalMoves();
    if (legal.length === 0) return legal;
    const g = geometry(b.size);
    const c = b.toPlay;
    const cells = b.cells;
    return legal.filter((m) => m === b.passMove || !isEye(cells, g, m, c));
  }

  /**
   * Plays `b` out with uniformly random legal non-eye moves (pass when none is left) until the game ends,
   * and returns the Tromp-Taylor margin (black − white − komi).
   */
  private rollout(b: GoBoard, g: Geometry): number {
    const cells = b.cells;
    const cand = this.cand;
    const area = b.area;
    const rng = this.rng;
    while (!b.isOver) {
      const c = b.toPlay;
      let k = 0;
      for (let p = 0; p < area; p++) if (cells[p] === EMPTY) cand[k++] = p;
      let chosen = area;
      while (k > 0) {
        const i = (rng.random() * k) | 0;
        const p = cand[i]!;
        if (!isEye(cells, g, p, c) && b.isLegal(p)) {
          chosen = p;
          break;
        }
        cand[i] = cand[--k]!;
      }
      b.playUnchecked(chosen);
    }
    return b.score().margin;
  }
}

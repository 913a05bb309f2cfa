/**
 * Monte-Carlo tree search for the Go-lite board (`GoBoard`, Tromp-Taylor rules, positional superko):
 * UCT (Kocsis & Szepesvári 2006) with RAVE/AMAF and prior knowledge (Gelly & Silver 2007, "Combining online
 * and offline knowledge in UCT"; 2011, "Monte-Carlo tree search and rapid action value estimation in computer
 * Go"), heuristic playouts (in the spirit of MoGo), subtree reuse between moves and a time limit.
 *
 *   const player = new MctsPlayer({ timeLimitMs: 1000, simulations: 1e7, seed: 1 });
 *   const move = player.genmove(board);          // point index or board.passMove
 *   const { move, winRate, children } = player.search(board);   // for analysis
 *
 * Tree. A node is a position; it holds, for every move allowed there (legal moves minus the player's own
 * single-point eyes, pass included), the visit count n and win sum w of that move, and its AMAF counts ñ, w̃.
 * One simulation:
 * 1. Selection: from the root, repeatedly take the move a maximising
 *      (1 − β)·w/n + β·w̃/ñ + c·√(ln(N + 1) / (n + 1)),   β = ñ / (n + ñ + 4·b²·n·ñ)
 *    (Gelly & Silver 2011, eq. 12; b = `raveBias`, c = `exploration`, N the node's visits; a move with
 *    n = ñ = 0 scores 1 + the exploration term). Values are win rates for the player to move at the node.
 *    Without RAVE (`rave: false`) this is UCB1: w/n + c·√(ln N / n), untried moves first, at random.
 * 2. Expansion: when the selected move has no node yet and has now been selected `expandAfter` times (and
 *    the game is not over), a node is created for the position after it.
 * 3. Rollout: the policy of `mcts_playout.ts` plays the game out on a fast board with the simple ko rule:
 *    atari escapes after the last move, MoGo 3x3 patterns around it (`patterns`), board-wide captures and
 *    rescues, else random moves that avoid self-atari; never filling its own eyes (uniformly random non-eye
 *    moves when `heuristics` is false). Then a Tromp-Taylor count with komi: a Black win is 1, a loss 0, a
 *    draw ½. A game that already ended inside the tree is scored as it stands.
 * 4. Backpropagation: every move on the path gets n += 1, w += the result for its mover. AMAF: at each node
 *    on the path, every move a of the node whose first occurrence, played by the node's player to move, is
 *    at or after the node in the simulation (tree moves and rollout moves) gets ñ += 1, w̃ += the result for
 *    that player. Passes get no AMAF updates.
 * Prior knowledge (`priors`, needs RAVE): a new node's moves start with virtual AMAF experience (ñ, w̃ =
 * ñ·v), the later rules overriding the earlier: everything 0.5 (ñ 5); in the opening (more than half the
 * board empty) first-line moves 0.1 (ñ 20) and third-line-or-higher moves 0.7 (ñ 20); +0.1 on the 8 points
 * around the last move; captures 0.9 (ñ 30); self-atari of 2+ stones 0.05 (ñ 30), of one stone 0.2 (ñ 10);
 * saving an own chain in atari (capture an adjacent chain in atari, or extend to ≥ 2 liberties) 0.9 (ñ 30).
 * Pass: 0.1 (ñ 20) while over a third of the board is empty, else 0.3 (ñ 10).
 * Final move: the root move with the most visits (ties: higher win rate). Pass is an ordinary move, so the
 * player passes only when passing was searched most (or nothing else is allowed). It never resigns.
 * Subtree reuse (`reuseTree`): the node of the new position, when the game continued from the previous
 * search's root and the tree holds it, becomes the new root with its statistics.
 *
 * Eye rule (classic, as in GNU Go's Monte-Carlo mode and Pachi): a player never fills its own single-point
 * eye — an empty point whose four neighbours are all its own stones (or the edge) and whose diagonals hold
 * at most one opponent stone (none when the point is on the edge). This holds in the tree and the rollouts
 * (a player passes when only eyes and bad moves remain), so the search cannot fill its own eye even when
 * that would be right (rare: some seki and ko fights).
 *
 * Plain UCT: `{ rave: false, priors: false, heuristics: false, reuseTree: false }` (exploration √2 by
 * default then). The defaults are the strongest configuration measured on 7x7 (self-play at equal time and
 * games against GnuGo level 10): RAVE with b = 0.1, c = 0.25, priors, heuristic playouts with patterns,
 * subtree reuse, expansion on the 2nd visit.
 *
 * Time: with `timeLimitMs` the search stops at 95% of it (at most 50 ms early), checked every 2 simulations,
 * so a move stays within the limit; `simulations` still caps the count.
 *
 * Determinism: all randomness comes from one seeded `Rng`, so with the same seed and the same sequence of
 * `genmove` positions the moves are identical (unless `timeLimitMs` cuts a search short). The hot loop
 * allocates nothing but new tree nodes.
 */
import { BLACK, GoBoard, type Stone } from '../../envs/go/board.js';
import { Rng } from '../../envs/utils/seeding.js';
import { PlayoutBoard, geometry, isEye } from './mcts_playout.js';
import type { GoPlayer } from './player.js';

export interface MctsOptions {
  /** Simulations per move (default 1000). */
  simulations?: number;
  /**
   * Time limit per search in milliseconds: the search stops when 95% of it (at most 50 ms less) has passed,
   * checked every 2 simulations, so that the whole call, tree reuse and result included, stays within it.
   */
  timeLimitMs?: number;
  /** Exploration constant c (default 0.25 with RAVE, √2 without). */
  exploration?: number;
  /** Seed of the player's random stream (default: a fresh random seed). */
  seed?: number;
  /** Name for tables and SGF (default `mcts-<simulations>`). */
  name?: string;
  /** RAVE/AMAF values in the selection (default true). */
  rave?: boolean;
  /** RAVE bias b in β = ñ / (n + ñ + 4b²nñ) (default 0.1). */
  raveBias?: number;
  /** Prior knowledge as virtual AMAF experience for new nodes (default true; needs `rave`). */
  priors?: boolean;
  /** Heuristic playout policy instead of uniformly random moves (default true). */
  heuristics?: boolean;
  /** MoGo 3x3 patterns around the last move in the heuristic playouts (default true). */
  patterns?: boolean;
  /** Keep the subtree of the new position between moves (default true). */
  reuseTree?: boolean;
  /** A node is created on the expandAfter-th selection of its move (default 2). */
  expandAfter?: number;
}

/** Statistics of one root move after a search. */
export interface MctsMoveStat {
  move: number;
  visits: number;
  /** Win rate of this move for the player to move at the root (0..1; draws count ½). */
  winRate: number;
}

/** The order of root moves: most visits first, then higher win rate, then the lower point index. */
export function compareMoveStats(x: MctsMoveStat, y: MctsMoveStat): number {
  return y.visits - x.visits || y.winRate - x.winRate || x.move - y.move;
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

/** Per-move statistics layout in `TreeNode.stats`: 4 floats per move. */
const N = 0;
const W = 1;
const RN = 2;
const RW = 3;

/** A tree node: one position, with statistics for each of its moves. */
export class TreeNode {
  readonly stats: Float32Array;
  readonly kids: (TreeNode | null)[];
  visits = 0;
  constructor(
    /** The player to move in this position. */
    readonly toPlay: Stone,
    /** The moves searched here (legal, not own eyes; pass last). */
    readonly moves: Int16Array,
  ) {
    this.stats = new Float32Array(moves.length * 4);
    this.kids = new Array<TreeNode | null>(moves.length).fill(null);
  }
  /** AMAF visits of the move at index i (priors included). */
  amafVisits(i: number): number {
    return this.stats[i * 4 + RN]!;
  }
  amafValue(i: number): number {
    return this.stats[i * 4 + RW]! / this.stats[i * 4 + RN]!;
  }
  visitsOf(i: number): number {
    return this.stats[i * 4 + N]!;
  }
}

/**
 * Whether the empty point `p` is a single-point eye of colour `c` (see the module comment): all orthogonal
 * neighbours are `c`, and at most one diagonal is the opponent's (none on the edge or in the corner).
 */
export function isOwnEye(board: GoBoard, p: number, c: Stone): boolean {
  return isEye(board.cells, geometry(board.size), p, c);
}

export class MctsPlayer implements GoPlayer {
  readonly name: string;
  readonly simulations: number;
  readonly timeLimitMs: number | undefined;
  readonly exploration: number;
  readonly rave: boolean;
  readonly raveBias: number;
  readonly priors: boolean;
  readonly heuristics: boolean;
  readonly patterns: boolean;
  readonly reuseTree: boolean;
  readonly expandAfter: number;
  private readonly rng: Rng;
  private scratch: GoBoard | null = null;
  private pb: PlayoutBoard | null = null;
  private seq: Int16Array = new Int16Array(0);
  private first: Int32Array = new Int32Array(0);
  private pathNodes: TreeNode[] = [];
  private pathIdx: Int32Array = new Int32Array(0);
  private prior: Float32Array = new Float32Array(0);
  private candBuf: Int16Array = new Int16Array(0);
  // Tree kept for reuse: its root and the game's moves at that root.
  private root: TreeNode | null = null;
  private rootMoves: number[] = [];
  private rootSize = 0;
  private rootKomi = 0;
  /** The root of the last search (tests and analysis). */
  lastRoot: TreeNode | null = null;

  constructor(options: MctsOptions = {}) {
    const sims = options.simulations ?? 1000;
    if (!Number.isInteger(sims) || sims < 1) throw new RangeError(`MctsPlayer: simulations must be a positive integer, got ${sims}`);
    const t = options.timeLimitMs;
    if (t !== undefined && !(typeof t === 'number' && t > 0)) throw new RangeError(`MctsPlayer: timeLimitMs must be a positive number, got ${t}`);
    this.rave = options.rave ?? true;
    const c = options.exploration ?? (this.rave ? 0.25 : Math.SQRT2);
    if (!(typeof c === 'number' && Number.isFinite(c) && c >= 0)) throw new RangeError(`MctsPlayer: exploration must be a finite number >= 0, got ${c}`);
    const bias = options.raveBias ?? 0.1;
    if (!(Number.isFinite(bias) && bias >= 0)) throw new RangeError(`MctsPlayer: raveBias must be a finite number >= 0, got ${bias}`);
    const ea = options.expandAfter ?? 2;
    if (!Number.isInteger(ea) || ea < 1) throw new RangeError(`MctsPlayer: expandAfter must be a positive integer, got ${ea}`);
    this.simulations = sims;
    this.timeLimitMs = t;
    this.exploration = c;
    this.raveBias = bias;
    this.priors = (options.priors ?? true) && this.rave;
    this.heuristics = options.heuristics ?? true;
    this.patterns = options.patterns ?? true;
    this.reuseTree = options.reuseTree ?? true;
    this.expandAfter = ea;
    this.rng = new Rng(options.seed);
    this.name = options.name ?? `mcts-${sims}`;
  }

  genmove(board: GoBoard): number {
    return this.search(board).move;
  }

  /** Runs one search from `board` (not modified) and returns the chosen move with the root statistics. */
  search(board: GoBoard): MctsSearchResult {
    const start = performance.now();
    if (board.isOver) return this.noSearch(board, start);
    if (this.scratch === null || this.scratch.size !== board.size || this.scratch.komi !== board.komi) {
      this.scratch = new GoBoard(board.size, board.komi);
      this.pb = new PlayoutBoard(board.size);
      this.pb.usePatterns = this.patterns;
      this.seq = new Int16Array(4 * board.area + 16);
      this.first = new Int32Array(2 * board.area);
      this.pathIdx = new Int32Array(4 * board.area + 16);
      this.prior = new Float32Array(2 * (board.area + 1));
      this.candBuf = new Int16Array(8 * board.area);
      this.root = null;
    }
    const b = this.scratch;
    const pb = this.pb!;
    let root = this.reuseTree ? this.reusedRoot(board) : null;
    if (root === null) {
      const moves = this.treeMoves(board);
      if (moves.length <= 1) return this.noSearch(board, start);
      pb.loadFrom(board);
      root = this.newNode(board, pb, moves);
    } else if (root.moves.length <= 1) return this.noSearch(board, start);
    this.root = root;
    this.rootMoves = board.moves;
    this.rootSize = board.size;
    this.rootKomi = board.komi;
    this.lastRoot = root;

    // Stop a little before the limit (5%, at most 50 ms) so that the whole call stays within it.
    const limit = this.timeLimitMs;
    const deadline = limit === undefined ? Infinity : start + limit - Math.min(50, 0.05 * limit);
    const area = board.area;
    const rootColor = board.toPlay;
    const seq = this.seq;
    const first = this.first;
    const path = this.pathNodes;
    const pathIdx = this.pathIdx;
    const rng = this.rng;
    let sims = 0;
    while (sims < this.simulations) {
      if (deadline < Infinity && (sims & 1) === 0 && sims > 0 && performance.now() > deadline) break;
      sims++;
      b.copyFrom(board);
      let node = root;
      let depth = 0;
      let len = 0;
      let loaded = false;
      // Selection and expansion.
      for (;;) {
        const i = this.select(node);
        path[depth] = node;
        pathIdx[depth++] = i;
        const m = node.moves[i]!;
        seq[len++] = m;
        b.playUnchecked(m);
        if (b.isOver) break;
        const kid = node.kids[i]!;
        if (kid !== null) {
          node = kid;
          continue;
        }
        if (node.stats[i * 4 + N]! + 1 >= this.expandAfter) {
          const moves = this.treeMoves(b);
          pb.loadFrom(b);
          loaded = true;
          node.kids[i] = this.newNode(b, pb, moves);
        }
        break;
      }
      // Rollout.
      let margin: number;
      if (b.isOver) margin = b.score().margin;
      else {
        if (!loaded) pb.loadFrom(b);
        const heur = this.heuristics;
        while (!pb.isOver) seq[len++] = pb.playPolicyMove(rng, heur);
        margin = pb.scoreMargin();
      }
      const blackResult = margin > 0 ? 1 : margin < 0 ? 0 : 0.5;
      // Backpropagation.
      if (this.rave) {
        first.fill(0x7fffffff);
        for (let j = len - 1; j >= 0; j--) {
          const m = seq[j]!;
          if (m < area) first[((j & 1) === 0 ? rootColor - 1 : 2 - rootColor) * area + m] = j;
        }
      }
      for (let d = 0; d < depth; d++) {
        const nd = path[d]!;
        const st = nd.stats;
        const i = pathIdx[d]!;
        const r = nd.toPlay === BLACK ? blackResult : 1 - blackResult;
        nd.visits++;
        st[i * 4 + N]++;
        st[i * 4 + W] += r;
        if (this.rave) {
          const off = (nd.toPlay - 1) * area;
          const mv = nd.moves;
          const k = mv.length;
          for (let j = 0; j < k; j++) {
            const m = mv[j]!;
            if (m < area && first[off + m]! >= d) {
              st[j * 4 + RN]++;
              st[j * 4 + RW] += r;
            }
          }
        }
      }
    }
    const children: MctsMoveStat[] = [];
    const rs = root.stats;
    for (let i = 0; i < root.moves.length; i++) {
      const n = rs[i * 4 + N]!;
      if (n > 0) children.push({ move: root.moves[i]!, visits: n, winRate: rs[i * 4 + W]! / n });
    }
    children.sort(compareMoveStats);
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

  private noSearch(board: GoBoard, start: number): MctsSearchResult {
    // Game over, or pass is the only move left: nothing to search.
    return { move: board.passMove, winRate: Number.NaN, visits: new Map(), children: [], simulations: 0, elapsedMs: performance.now() - start };
  }

  /** The stored node of `board`'s position, when `board`'s game continues the previous root's. */
  private reusedRoot(board: GoBoard): TreeNode | null {
    let node = this.root;
    if (node === null || board.size !== this.rootSize || board.komi !== this.rootKomi) return null;
    const old = this.rootMoves;
    const now = board.moves;
    if (now.length < old.length) return null;
    for (let i = 0; i < old.length; i++) if (old[i] !== now[i]) return null;
    for (let i = old.length; i < now.length && node !== null; i++) {
      const idx = node.moves.indexOf(now[i]!);
      node = idx < 0 ? null : node.kids[idx]!;
    }
    return node;
  }

  /** The index of the move to follow at `node` (see the module comment). */
  private select(node: TreeNode): number {
    const st = node.stats;
    const k = node.moves.length;
    const c = this.exploration;
    if (!this.rave) {
      // UCB1; untried moves first, drawn at random.
      let untried = 0;
      for (let i = 0; i < k; i++) if (st[i * 4 + N] === 0) untried++;
      if (untried > 0) {
        let pick = this.rng.integer(untried);
        for (let i = 0; i < k; i++) if (st[i * 4 + N] === 0 && pick-- === 0) return i;
      }
      const logN = Math.log(node.visits);
      let best = 0;
      let bestScore = -Infinity;
      for (let i = 0; i < k; i++) {
        const n = st[i * 4 + N]!;
        const s = st[i * 4 + W]! / n + c * Math.sqrt(logN / n);
        if (s > bestScore) {
          bestScore = s;
          best = i;
        }
      }
      return best;
    }
    const b4 = 4 * this.raveBias * this.raveBias;
    const logN = Math.log(node.visits + 1);
    let best = 0;
    let bestScore = -Infinity;
    for (let i = 0; i < k; i++) {
      const n = st[i * 4 + N]!;
      const rn = st[i * 4 + RN]!;
      let v: number;
      if (rn > 0) {
        const beta = rn / (n + rn + b4 * n * rn);
        v = beta * (st[i * 4 + RW]! / rn) + (n > 0 ? (1 - beta) * (st[i * 4 + W]! / n) : 0);
      } else v = n > 0 ? st[i * 4 + W]! / n : 1;
      if (c > 0) v += c * Math.sqrt(logN / (n + 1));
      if (v > bestScore) {
        bestScore = v;
        best = i;
      }
    }
    return best;
  }

  /** A new node for the position of `b` (loaded into `pb`), with `moves`, and its prior knowledge. */
  private newNode(b: GoBoard, pb: PlayoutBoard, moves: number[]): TreeNode {
    const node = new TreeNode(b.toPlay, Int16Array.from(moves));
    if (this.priors) this.setPriors(node, b, pb);
    return node;
  }

  /** Virtual AMAF experience for the moves of a new node (see the module comment). */
  private setPriors(node: TreeNode, b: GoBoard, pb: PlayoutBoard): void {
    const area = b.area;
    const c = b.toPlay;
    const g = pb.g;
    const cells = pb.cells;
    const prior = this.prior; // [count, value] per point, pass at area
    for (let p = 0; p <= area; p++) {
      prior[p * 2] = 5;
      prior[p * 2 + 1] = 0.5;
    }
    const emptyFrac = pb.emptyCount / area;
    if (emptyFrac > 0.5) {
      for (let p = 0; p < area; p++) {
        const line = g.line[p]!;
        if (line === 1) {
          prior[p * 2] = 20;
          prior[p * 2 + 1] = 0.1;
        } else if (line >= 3) {
          prior[p * 2] = 20;
          prior[p * 2 + 1] = 0.7;
        }
      }
    }
    const last = pb.lastMove;
    if (last >= 0) {
      for (let k = 0; k < 4; k++) {
        const q = g.nbr[last * 4 + k]!;
        if (q >= 0) prior[q * 2 + 1] += 0.1;
        const d = g.diag[last * 4 + k]!;
        if (d >= 0) prior[d * 2 + 1] += 0.1;
      }
    }
    for (let p = 0; p < area; p++) {
      if (cells[p] !== 0) continue;
      if (pb.captures(p, c)) {
        prior[p * 2] = 30;
        prior[p * 2 + 1] = 0.9;
      } else if (pb.isSelfAtari(p, c)) {
        const big = pb.sizeAfter(p, c) >= 2;
        prior[p * 2] = big ? 30 : 10;
        prior[p * 2 + 1] = big ? 0.05 : 0.2;
      }
    }
    // Saving own chains in atari.
    const buf = this.candBuf;
    let k = 0;
    for (let p = 0; p < area; p++) {
      if (cells[p] === c && pb.chain[p] === p && pb.inAtari(p)) k = pb.saveChain(p, c, buf, k);
      if (k > buf.length - 16) break;
    }
    for (let j = 0; j < k; j++) {
      const p = buf[j]!;
      prior[p * 2] = 30;
      prior[p * 2 + 1] = 0.9;
    }
    if (emptyFrac > 1 / 3) {
      prior[area * 2] = 20;
      prior[area * 2 + 1] = 0.1;
    } else {
      prior[area * 2] = 10;
      prior[area * 2 + 1] = 0.3;
    }
    const st = node.stats;
    const mv = node.moves;
    for (let i = 0; i < mv.length; i++) {
      const m = mv[i]!;
      const n = prior[m * 2]!;
      const v = Math.min(1, prior[m * 2 + 1]!);
      st[i * 4 + RN] = n;
      st[i * 4 + RW] = n * v;
    }
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
}

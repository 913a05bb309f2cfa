/**
 * Fast playout board and playout policy for `MctsPlayer` (agents/go/mcts.ts).
 *
 * `PlayoutBoard` is a stripped-down Go board for Monte-Carlo rollouts: chains as circular lists with
 * pseudo-liberties (count, Σp, Σp², as in `GoBoard`, so "in atari" and "the liberty of a chain in atari" are
 * O(1)), an empty-point list, and the SIMPLE ko rule only (no superko history, no hashing). It is loaded from a
 * `GoBoard` at the start of each rollout (`loadFrom`); a ko recapture that the GoBoard forbids by superko is
 * carried over as the ko point, so the first rollout move is always legal for the real game too.
 *
 * Playout policy (`playPolicyMove`), with c the player to move and m the opponent's last move (when the
 * `heuristics` flag is off, only step 4 without the self-atari filter runs: uniform random non-eye moves):
 * 1. Atari escape: for each own chain adjacent to m that is in atari, the candidates are the liberties
 *    of adjacent opponent chains that are themselves in atari (capturing frees the chain), and
 *    the chain's own liberty when playing there captures or leaves the chain at least 2 liberties. One
 *    candidate is drawn uniformly.
 * 2. Patterns (`usePatterns`): the empty points among the 8 around m that match one of MoGo's 3x3 patterns
 *    (hane, cut, edge; `PATTERNS`) and are legal, not own eyes and not self-atari; one drawn uniformly.
 * 3. Board-wide captures and rescues: the liberty of any opponent chain in atari, and the moves of step 1
 *    for any own chain in atari (the whole board is scanned; 49 points on 7x7). One of them is played with
 *    probability `CAPTURE_P`.
 * 4. Random: uniformly random among the empty points, skipping own single-point eyes (`isEye`), illegal
 *    points (suicide, ko) and self-atari moves — a move after which its chain has one liberty and captures
 *    nothing — when the resulting chain has 2 or more stones, or (single stone) with probability
 *    `SELF_ATARI_REJECT_P`. Passes when nothing is left.
 * The rollout ends on two consecutive passes or at the game's move cap (2·N² moves), and is scored by
 * Tromp-Taylor area (stones + empty regions bordering one colour) minus komi.
 */
import { BLACK, EMPTY, type GoBoard } from '../../envs/go/board.js';
import type { Rng } from '../../envs/utils/seeding.js';

/** Probability of playing a capture found by the board-wide scan (step 2). */
export const CAPTURE_P = 0.9;
/** Probability of rejecting a single-stone self-atari in the random step (larger ones are always rejected). */
export const SELF_ATARI_REJECT_P = 0.8;

/** Offsets (row, col) of the 8 cells around the centre, in the order of the pattern code's 2-bit fields. */
const RING: readonly (readonly [number, number])[] = [
  [-1, -1], [-1, 0], [-1, 1], [0, -1], [0, 1], [1, -1], [1, 0], [1, 1],
];

/** Neighbour and diagonal tables per board size (−1 off the board). */
export interface Geometry {
  nbr: Int16Array;
  diag: Int16Array;
  /** Line of each point: 1 on the edge, 2 next to it, … */
  line: Int8Array;
  /** The 8 points around each point in `RING` order (−1 off the board). */
  ring: Int16Array;
}
const geometryCache = new Map<number, Geometry>();

export function geometry(size: number): Geometry {
  let g = geometryCache.get(size);
  if (g) return g;
  const n = size * size;
  const nbr = new Int16Array(n * 4).fill(-1);
  const diag = new Int16Array(n * 4).fill(-1);
  const line = new Int8Array(n);
  const ring = new Int16Array(n * 8);
  for (let r = 0; r < size; r++) {
    for (let c = 0; c < size; c++) {
      const p = r * size + c;
      line[p] = Math.min(r, c, size - 1 - r, size - 1 - c) + 1;
      for (let i = 0; i < 8; i++) {
        const rr = r + RING[i]![0];
        const cc = c + RING[i]![1];
        ring[p * 8 + i] = rr < 0 || cc < 0 || rr >= size || cc >= size ? -1 : rr * size + cc;
      }
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
  g = { nbr, diag, line, ring };
  geometryCache.set(size, g);
  return g;
}

/**
 * MoGo's 3x3 playout patterns (Gelly, Wang, Munos & Teytaud 2006, "Modification of UCT with patterns in
 * Monte-Carlo Go", fig. 2), centred on an empty point (the candidate move), matched in all 8 rotations and
 * reflections and with both colour assignments. Rows top to bottom; X and O are the two colours, '.' empty,
 * '?' anything, 'x' not O, 'o' not X, '#' off the board.
 */
const PATTERNS: readonly string[] = [
  'XOX...???', // hane: enclosing hane
  'XO....?.?', // hane: non-cutting hane
  'XO?X..x.?', // hane: magari
  '.O.X.....', // diagonal attachment (katatsuke)
  'XO?O.o?o?', // cut 1: unprotected cut
  'XO?O.X???', // cut 1: peeped cut
  '?X?O.Oooo', // cut 2
  'X.?O.?###', // edge: chase
  'OX?X.O###', // edge: block side cut
  '?X?x.O###', // edge: block side connection
  '?XOx.x###', // edge: sagari
  '?OXX.O###', // edge: cut
];

let patternTable: Uint8Array | null = null;

/** 4^8 entries, 1 where the 3x3 neighbourhood code (empty 0, black 1, white 2, edge 3) matches a pattern. */
export function patternTableGet(): Uint8Array {
  if (patternTable) return patternTable;
  const table = new Uint8Array(1 << 16);
  const allowed = (ch: string, a: number, o: number): number[] => {
    switch (ch) {
      case 'X': return [a];
      case 'O': return [o];
      case '.': return [0];
      case '?': return [0, 1, 2, 3];
      case 'x': return [0, a, 3];
      case 'o': return [0, o, 3];
      case '#': return [3];
      default: throw new Error(`bad pattern character ${ch}`);
    }
  };
  for (const pat of PATTERNS) {
    for (let sym = 0; sym < 8; sym++) {
      for (const [a, o] of [[1, 2], [2, 1]] as const) {
        // Cell i of the ring reads the pattern at the transformed offset.
        const sets: number[][] = RING.map(([dr, dc]) => {
          let r = dr;
          let c = dc;
          if (sym & 1) c = -c;
          if (sym & 2) r = -r;
          if (sym & 4) [r, c] = [c, r];
          return allowed(pat[(r + 1) * 3 + (c + 1)]!, a, o);
        });
        const fill = (i: number, code: number): void => {
          if (i === 8) {
            table[code] = 1;
            return;
          }
          for (const v of sets[i]!) fill(i + 1, code | (v << (2 * i)));
        };
        fill(0, 0);
      }
    }
  }
  patternTable = table;
  return table;
}

/**
 * Whether the empty point `p` is a single-point eye of colour `c`: all orthogonal neighbours are `c`, and at
 * most one diagonal is the opponent's (none on the edge or in the corner).
 */
export function isEye(cells: Int8Array, g: Geometry, p: number, c: number): boolean {
  if (cells[p] !== EMPTY) return false;
  const nbr = g.nbr;
  const b = p * 4;
  for (let k = 0; k < 4; k++) {
    const q = nbr[b + k]!;
    if (q >= 0 && cells[q] !== c) return false;
  }
  const diag = g.diag;
  const opp = 3 - c;
  // Edge: any off-board diagonal counts once, opponent diagonals count one each.
  let edge = 0;
  let opps = 0;
  for (let k = 0; k < 4; k++) {
    const d = diag[b + k]!;
    if (d < 0) edge = 1;
    else if (cells[d] === opp) opps++;
  }
  return opps + edge < 2;
}

export class PlayoutBoard {
  readonly size: number;
  readonly area: number;
  readonly g: Geometry;
  readonly cells: Int8Array;
  private readonly nbr: Int16Array;
  readonly chain: Int16Array;
  private readonly next: Int16Array;
  readonly csize: Int16Array;
  private readonly pl: Int32Array;
  private readonly ls: Int32Array;
  private readonly ls2: Float64Array;
  readonly empties: Int16Array;
  private readonly emptyPos: Int16Array;
  emptyCount = 0;
  toPlay = BLACK;
  /** Point the player to move may not play (simple ko), or −1. */
  ko = -1;
  passes = 0;
  moveNumber = 0;
  maxMoves: number;
  lastMove = -1;
  komi = 0;
  // Scratch for liberty counting and scoring (stamp marks, no allocation).
  private readonly mark: Int32Array;
  private stamp = 1;
  private readonly stack: Int16Array;
  /** Whether the policy uses the 3x3 patterns (with `heuristics`). */
  usePatterns = true;
  private readonly patterns: Uint8Array = patternTableGet();
  /** Candidate buffer for the policy. */
  private readonly cand: Int16Array;

  constructor(size: number) {
    this.size = size;
    const n = size * size;
    this.area = n;
    this.g = geometry(size);
    this.nbr = this.g.nbr;
    this.cells = new Int8Array(n);
    this.chain = new Int16Array(n);
    this.next = new Int16Array(n);
    this.csize = new Int16Array(n);
    this.pl = new Int32Array(n);
    this.ls = new Int32Array(n);
    this.ls2 = new Float64Array(n);
    this.empties = new Int16Array(n);
    this.emptyPos = new Int16Array(n);
    this.mark = new Int32Array(n);
    this.stack = new Int16Array(n);
    this.cand = new Int16Array(12 * n);
    this.maxMoves = 2 * n;
  }

  /** Copies the position of `b` and rebuilds the chains; the ko point comes from `b`'s superko rule. */
  loadFrom(b: GoBoard): void {
    const n = this.area;
    const cells = this.cells;
    const nbr = this.nbr;
    cells.set(b.cells);
    this.emptyCount = 0;
    for (let p = 0; p < n; p++) {
      this.chain[p] = -1;
      if (cells[p] === EMPTY) {
        this.emptyPos[p] = this.emptyCount;
        this.empties[this.emptyCount++] = p;
      }
    }
    const stack = this.stack;
    for (let p = 0; p < n; p++) {
      const c = cells[p]!;
      if (c === EMPTY || this.chain[p] !== -1) continue;
      // Flood the chain through p; link it into a circular list with representative p.
      let sp = 0;
      stack[sp++] = p;
      this.chain[p] = p;
      let prev = p;
      let size = 0;
      let pl = 0;
      let ls = 0;
      let ls2 = 0;
      while (sp > 0) {
        const s = stack[--sp]!;
        size++;
        if (s !== p) {
          this.next[prev] = s;
          prev = s;
        }
        for (let k = 0; k < 4; k++) {
          const q = nbr[s * 4 + k]!;
          if (q < 0) continue;
          const cq = cells[q]!;
          if (cq === EMPTY) {
            pl++;
            ls += q;
            ls2 += q * q;
          } else if (cq === c && this.chain[q] === -1) {
            this.chain[q] = p;
            stack[sp++] = q;
          }
        }
      }
      this.next[prev] = p;
      this.csize[p] = size;
      this.pl[p] = pl;
      this.ls[p] = ls;
      this.ls2[p] = ls2;
    }
    this.toPlay = b.toPlay;
    this.passes = b.consecutivePasses;
    this.moveNumber = b.moveNumber;
    this.maxMoves = b.maxMoves;
    this.lastMove = b.lastMove === b.passMove ? -1 : b.lastMove;
    this.komi = b.komi;
    this.ko = -1;
    // Ko: the last move is a lone stone in atari whose liberty is surrounded by its colour; if the real board
    // forbids the recapture (superko), so do we.
    const m = this.lastMove;
    if (m >= 0 && cells[m] !== EMPTY && this.csize[this.chain[m]!] === 1 && this.inAtari(m)) {
      const lib = this.atariLib(m);
      if (!b.isLegal(lib)) this.ko = lib;
    }
  }

  inAtari(r: number): boolean {
    const n = this.pl[r]!;
    const s = this.ls[r]!;
    return n > 0 && n * this.ls2[r]! === s * s;
  }

  /** The liberty of the chain with representative r, which must be in atari. */
  atariLib(r: number): number {
    return this.ls[r]! / this.pl[r]!;
  }

  /** Placing c at the empty point p would leave its chain without liberties (after captures). */
  isSuicide(p: number, c: number): boolean {
    const cells = this.cells;
    const nbr = this.nbr;
    for (let k = 0; k < 4; k++) {
      const q = nbr[p * 4 + k]!;
      if (q < 0) continue;
      const cq = cells[q]!;
      if (cq === EMPTY) return false;
      const atari = this.inAtari(this.chain[q]!);
      if (cq === c ? !atari : atari) return false;
    }
    return true;
  }

  /** Legal for colour c in the playout (empty, not the ko point, not suicide). */
  isLegal(p: number, c: number): boolean {
    return this.cells[p] === EMPTY && p !== this.ko && !this.isSuicide(p, c);
  }

  /** Whether c at p captures at least one opponent chain. */
  captures(p: number, c: number): boolean {
    const cells = this.cells;
    const nbr = this.nbr;
    const opp = 3 - c;
    for (let k = 0; k < 4; k++) {
      const q = nbr[p * 4 + k]!;
      if (q >= 0 && cells[q] === opp && this.inAtari(this.chain[q]!)) return true;
    }
    return false;
  }

  /**
   * Liberties (distinct, counted up to `max`) of the chain that c at the empty point p would form, ignoring
   * captures (callers check `captures` first).
   */
  libertiesAfter(p: number, c: number, max: number): number {
    const cells = this.cells;
    const nbr = this.nbr;
    const mark = this.mark;
    const st = ++this.stamp;
    mark[p] = st;
    let libs = 0;
    for (let k = 0; k < 4; k++) {
      const q = nbr[p * 4 + k]!;
      if (q < 0) continue;
      if (cells[q] === EMPTY) {
        if (mark[q] !== st) {
          mark[q] = st;
          if (++libs >= max) return libs;
        }
      }
    }
    for (let k = 0; k < 4; k++) {
      const q = nbr[p * 4 + k]!;
      if (q < 0 || cells[q] !== c) continue;
      const r = this.chain[q]!;
      // Skip chains already walked (mark the representative with −stamp).
      if (mark[r] === -st) continue;
      let s = r;
      do {
        for (let j = 0; j < 4; j++) {
          const x = nbr[s * 4 + j]!;
          if (x >= 0 && cells[x] === EMPTY && mark[x] !== st) {
            mark[x] = st;
            if (++libs >= max) return libs;
          }
        }
        s = this.next[s]!;
      } while (s !== r);
      mark[r] = -st;
    }
    return libs;
  }

  /** Size of the chain c at p would form (1 + adjacent own chains). */
  sizeAfter(p: number, c: number): number {
    const nbr = this.nbr;
    let size = 1;
    let r0 = -1;
    let r1 = -1;
    let r2 = -1;
    for (let k = 0; k < 4; k++) {
      const q = nbr[p * 4 + k]!;
      if (q < 0 || this.cells[q] !== c) continue;
      const r = this.chain[q]!;
      if (r === r0 || r === r1 || r === r2) continue;
      if (r0 < 0) r0 = r;
      else if (r1 < 0) r1 = r;
      else r2 = r;
      size += this.csize[r]!;
    }
    return size;
  }

  /** c at p is a self-atari: it captures nothing and leaves its chain with one liberty. */
  isSelfAtari(p: number, c: number): boolean {
    if (this.captures(p, c)) return false;
    return this.libertiesAfter(p, c, 2) < 2;
  }

  /** Plays colour `toPlay` at p (legal, or the area for a pass). Returns stones captured. */
  play(p: number): number {
    const c = this.toPlay;
    this.toPlay = 3 - c;
    this.moveNumber++;
    if (p >= this.area || p < 0) {
      this.passes++;
      this.ko = -1;
      this.lastMove = -1;
      return 0;
    }
    this.passes = 0;
    this.lastMove = p;
    const cells = this.cells;
    const nbr = this.nbr;
    const chain = this.chain;
    const opp = 3 - c;
    cells[p] = c;
    const i = this.emptyPos[p]!;
    const last = this.empties[--this.emptyCount]!;
    this.empties[i] = last;
    this.emptyPos[last] = i;
    chain[p] = p;
    this.next[p] = p;
    this.csize[p] = 1;
    let pl = 0;
    let ls = 0;
    let ls2 = 0;
    for (let k = 0; k < 4; k++) {
      const q = nbr[p * 4 + k]!;
      if (q < 0) continue;
      if (cells[q] === EMPTY) {
        pl++;
        ls += q;
        ls2 += q * q;
      } else {
        const r = chain[q]!;
        this.pl[r]--;
        this.ls[r] -= p;
        this.ls2[r] -= p * p;
      }
    }
    this.pl[p] = pl;
    this.ls[p] = ls;
    this.ls2[p] = ls2;
    for (let k = 0; k < 4; k++) {
      const q = nbr[p * 4 + k]!;
      if (q >= 0 && cells[q] === c && chain[q] !== chain[p]) this.merge(chain[p]!, chain[q]!);
    }
    let captured = 0;
    let capPoint = -1;
    for (let k = 0; k < 4; k++) {
      const q = nbr[p * 4 + k]!;
      if (q >= 0 && cells[q] === opp && this.pl[chain[q]!] === 0) {
        capPoint = q;
        captured += this.removeChain(chain[q]!);
      }
    }
    // Simple ko: a lone stone that captured one stone and now has one liberty (the captured point).
    const r = chain[p]!;
    this.ko = captured === 1 && this.csize[r] === 1 && this.pl[r] === 1 ? capPoint : -1;
    return captured;
  }

  private merge(a: number, b: number): void {
    if (this.csize[a]! < this.csize[b]!) {
      const t = a;
      a = b;
      b = t;
    }
    let s = b;
    do {
      this.chain[s] = a;
      s = this.next[s]!;
    } while (s !== b);
    const t = this.next[a]!;
    this.next[a] = this.next[b]!;
    this.next[b] = t;
    this.csize[a] += this.csize[b]!;
    this.pl[a] += this.pl[b]!;
    this.ls[a] += this.ls[b]!;
    this.ls2[a] += this.ls2[b]!;
  }

  private removeChain(r: number): number {
    const cells = this.cells;
    const nbr = this.nbr;
    let n = 0;
    let s = r;
    do {
      cells[s] = EMPTY;
      this.empties[this.emptyCount] = s;
      this.emptyPos[s] = this.emptyCount++;
      n++;
      s = this.next[s]!;
    } while (s !== r);
    s = r;
    do {
      for (let k = 0; k < 4; k++) {
        const q = nbr[s * 4 + k]!;
        if (q < 0 || cells[q] === EMPTY) continue;
        const rq = this.chain[q]!;
        this.pl[rq]++;
        this.ls[rq] += s;
        this.ls2[rq] += s * s;
      }
      s = this.next[s]!;
    } while (s !== r);
    return n;
  }

  get isOver(): boolean {
    return this.passes >= 2 || this.moveNumber >= this.maxMoves;
  }

  /** Tromp-Taylor margin: black area − white area − komi. */
  scoreMargin(): number {
    const n = this.area;
    const cells = this.cells;
    const nbr = this.nbr;
    const mark = this.mark;
    const st = ++this.stamp;
    const stack = this.stack;
    let black = 0;
    let white = 0;
    for (let p = 0; p < n; p++) {
      const v = cells[p]!;
      if (v === BLACK) black++;
      else if (v !== EMPTY) white++;
      else if (mark[p] !== st) {
        let sp = 0;
        let size = 0;
        let touches = 0;
        stack[sp++] = p;
        mark[p] = st;
        while (sp > 0) {
          const x = stack[--sp]!;
          size++;
          for (let k = 0; k < 4; k++) {
            const q = nbr[x * 4 + k]!;
            if (q < 0) continue;
            const cq = cells[q]!;
            if (cq === EMPTY) {
              if (mark[q] !== st) {
                mark[q] = st;
                stack[sp++] = q;
              }
            } else touches |= cq;
          }
        }
        if (touches === BLACK) black += size;
        else if (touches === 2) white += size;
      }
    }
    return black - white - this.komi;
  }

  /**
   * Candidate moves of step 1 (atari escape after the opponent's move m) into `out`; returns how many.
   * Used by the policy and by the tree's prior knowledge.
   */
  atariEscapes(m: number, c: number, out: Int16Array, k: number): number {
    const cells = this.cells;
    const nbr = this.nbr;
    let r0 = -1;
    let r1 = -1;
    let r2 = -1;
    for (let j = -1; j < 4; j++) {
      const q = j < 0 ? m : nbr[m * 4 + j]!;
      if (q < 0 || cells[q] !== c) continue;
      const r = this.chain[q]!;
      if (r === r0 || r === r1 || r === r2) continue;
      if (r0 < 0) r0 = r;
      else if (r1 < 0) r1 = r;
      else r2 = r;
      if (!this.inAtari(r)) continue;
      k = this.saveChain(r, c, out, k);
    }
    return k;
  }

  /** Moves that save the own chain r (in atari): captures of adjacent chains in atari, or a good extension. */
  saveChain(r: number, c: number, out: Int16Array, k: number): number {
    const cells = this.cells;
    const nbr = this.nbr;
    const opp = 3 - c;
    let s = r;
    do {
      for (let j = 0; j < 4; j++) {
        const x = nbr[s * 4 + j]!;
        if (x >= 0 && cells[x] === opp) {
          const rx = this.chain[x]!;
          if (this.inAtari(rx)) {
            const lib = this.atariLib(rx);
            if (lib !== this.ko) out[k++] = lib;
          }
        }
      }
      s = this.next[s]!;
    } while (s !== r);
    const lib = this.atariLib(r);
    if (lib !== this.ko && !this.isSuicide(lib, c) && (this.captures(lib, c) || this.libertiesAfter(lib, c, 2) >= 2)) out[k++] = lib;
    return k;
  }

  /** The 3x3 neighbourhood code of p (2 bits per ring cell: empty 0, black 1, white 2, edge 3). */
  patternCode(p: number): number {
    const ring = this.g.ring;
    const cells = this.cells;
    let code = 0;
    for (let i = 0; i < 8; i++) {
      const q = ring[p * 8 + i]!;
      code |= (q < 0 ? 3 : cells[q]!) << (2 * i);
    }
    return code;
  }

  /** One move of the playout policy for the player to move (see the module comment); plays it. */
  playPolicyMove(rng: Rng, heuristics: boolean): number {
    const c = this.toPlay;
    const cells = this.cells;
    const g = this.g;
    const cand = this.cand;
    if (heuristics) {
      const m = this.lastMove;
      if (m >= 0) {
        const k = this.atariEscapes(m, c, cand, 0);
        if (k > 0) {
          const p = cand[(rng.random() * k) | 0]!;
          this.play(p);
          return p;
        }
      }
      // MoGo patterns around the last move.
      if (m >= 0 && this.usePatterns) {
        const table = this.patterns;
        const ring = g.ring;
        let k = 0;
        for (let i = 0; i < 8; i++) {
          const p = ring[m * 8 + i]!;
          if (p < 0 || cells[p] !== EMPTY || table[this.patternCode(p)] === 0) continue;
          if (!this.isLegal(p, c) || isEye(cells, g, p, c) || this.isSelfAtari(p, c)) continue;
          cand[k++] = p;
        }
        if (k > 0) {
          const p = cand[(rng.random() * k) | 0]!;
          this.play(p);
          return p;
        }
      }
      // Board-wide: capture a chain in atari, or save an own one.
      const opp = 3 - c;
      let k = 0;
      const n = this.area;
      for (let p = 0; p < n; p++) {
        if (this.chain[p] !== p || cells[p] === EMPTY || !this.inAtari(p)) continue;
        if (cells[p] === opp) {
          const lib = this.atariLib(p);
          if (lib !== this.ko) cand[k++] = lib;
        } else if (k < 4 * n) k = this.saveChain(p, c, cand, k);
      }
      if (k > 0 && rng.random() < CAPTURE_P) {
        const p = cand[(rng.random() * k) | 0]!;
        this.play(p);
        return p;
      }
    }
    // Random non-eye legal move, drawn without replacement.
    let k = this.emptyCount;
    const empties = this.empties;
    for (let j = 0; j < k; j++) cand[j] = empties[j]!;
    while (k > 0) {
      const i = (rng.random() * k) | 0;
      const p = cand[i]!;
      cand[i] = cand[--k]!;
      if (isEye(cells, g, p, c) || !this.isLegal(p, c)) continue;
      if (heuristics && this.isSelfAtari(p, c)) {
        if (this.sizeAfter(p, c) >= 2 || rng.random() < SELF_ATARI_REJECT_P) continue;
      }
      this.play(p);
      return p;
    }
    this.play(this.area);
    return this.area;
  }
}

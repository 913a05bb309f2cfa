/**
 * Go-lite rules engine: a pure, fast Go board for small boards (5x5 to 19x19), used by `GoEnv`.
 *
 *   const board = new GoBoard(9, 7);
 *   board.play(board.pointOf(2, 2));   // Black at C7
 *   board.play(board.passMove);        // White passes
 *   board.score();                      // { black, white, komi, margin, winner }
 *
 * Rules (Tromp-Taylor as on CGOS)
 * - Points are numbered `row * N + col`, row 0 = the top row (GTP row N), col 0 = column A (GTP letters skip
 *   'I'); pass = N². Black moves first, then the colours alternate.
 * - A move puts a stone on an empty point, then removes the opponent's chains left without liberties.
 *   Suicide (a move that leaves its own chain without liberties after the captures) is illegal.
 * - Positional superko: a move may not recreate ANY earlier board position of the game (the empty start
 *   included). "Position" means the colouring of the board only, NOT the player to move. Positions are
 *   compared by a 64-bit Zobrist hash (two 32-bit words from a fixed seeded table, the same in every run).
 *   A simple ko recapture is the commonest case of this rule.
 * - Pass is always legal. The game ends after two consecutive passes, or when `2·N²` moves (passes
 *   included) have been played; it is then scored as it stands, with no dead-stone removal.
 * - Score (area, Tromp-Taylor): a colour's points are its stones plus the empty regions that border only
 *   that colour; regions that touch both colours (dame, seki liberties) count for nobody. Komi is added to
 *   White: `margin = black − white − komi`; Black wins when margin > 0, White when < 0, a draw at 0
 *   (possible only with an integer komi).
 *
 * Implementation: flat typed arrays; each chain is a circular linked list of its stones with a
 * representative point, and keeps pseudo-liberties (count, sum and sum of squares of the liberty points,
 * one entry per stone–empty adjacency), so "no liberties" and "exactly one liberty (atari)" are O(1) tests:
 * a chain is in atari when all its pseudo-liberties are the same point, i.e. count·Σp² = (Σp)².
 */

export const EMPTY = 0;
export const BLACK = 1;
export const WHITE = 2;
export type Stone = typeof BLACK | typeof WHITE;
export type ColorName = 'black' | 'white';

export type IllegalReason = 'occupied' | 'suicide' | 'superko' | 'game over' | 'off the board';

/** GTP column letters ('I' is skipped). */
export const GTP_COLUMNS = 'ABCDEFGHJKLMNOPQRST';

export class GoRuleError extends Error {
  override name = 'GoRuleError';
  constructor(
    message: string,
    readonly reason: IllegalReason,
  ) {
    super(message);
  }
}

export interface GoScore {
  /** Black's area: stones plus empty regions bordering only black. */
  black: number;
  /** White's area, without komi. */
  white: number;
  komi: number;
  /** black − white − komi: positive means Black wins. */
  margin: number;
  winner: ColorName | 'draw';
}

export function colorName(c: Stone): ColorName {
  return c === BLACK ? 'black' : 'white';
}

/** Default komi for a board size: 5x5 24, 7x7 9, 9x9 7, anything else 7.5. */
export function defaultKomi(size: number): number {
  return size === 5 ? 24 : size === 7 ? 9 : size === 9 ? 7 : 7.5;
}

/** The action/point `move` in GTP notation ("D4", "pass"); row 0 is GTP row N. */
export function toGtp(move: number, size: number): string {
  if (move === size * size) return 'pass';
  if (!Number.isInteger(move) || move < 0 || move > size * size) return `<${move}>`;
  return `${GTP_COLUMNS[move % size]}${size - Math.floor(move / size)}`;
}

/** Parses a GTP vertex ("D4", "d4", "pass") into an action; throws on anything else. */
export function fromGtp(vertex: string, size: number): number {
  const v = vertex.trim().toUpperCase();
  if (v === 'PASS') return size * size;
  const col = GTP_COLUMNS.indexOf(v[0] ?? '?');
  const num = Number(v.slice(1));
  if (col < 0 || col >= size || !Number.isInteger(num) || num < 1 || num > size || v.length < 2) {
    throw new GoRuleError(`'${vertex}' is not a vertex of a ${size}x${size} board`, 'off the board');
  }
  return (size - num) * size + col;
}

// ------------------------------------------------------------------------------------------------------
// Zobrist table: fixed seed per board size, so hashes are identical in every run (and across snapshots).
const zobristCache = new Map<number, Int32Array>();

function zobristTable(size: number): Int32Array {
  let t = zobristCache.get(size);
  if (t) return t;
  // splitmix32, seeded with a constant and the board size.
  let s = (0x9e3779b9 ^ Math.imul(size, 0x85ebca6b)) | 0;
  const next = (): number => {
    s = (s + 0x9e3779b9) | 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return z ^ (z >>> 16);
  };
  // Layout: [(point * 2 + colour − 1) * 2 + word].
  t = new Int32Array(size * size * 4);
  for (let i = 0; i < t.length; i++) t[i] = next();
  zobristCache.set(size, t);
  return t;
}

export class GoBoard {
  readonly size: number;
  /** N². */
  readonly area: number;
  /** The pass action, N². */
  readonly passMove: number;
  /** 2·N²: the game ends when this many moves (passes included) have been played. */
  readonly maxMoves: number;
  readonly komi: number;

  /** EMPTY / BLACK / WHITE per point (read-only for callers). */
  readonly cells: Int8Array;
  private readonly nbr: Int16Array; // 4 per point, −1 off the board
  private readonly chain: Int16Array; // representative point of the stone's chain
  private readonly next: Int16Array; // circular list of the chain's stones
  private readonly csize: Int32Array; // by representative
  private readonly pl: Int32Array; // pseudo-liberty count
  private readonly ls: Int32Array; // sum of pseudo-liberty points
  private readonly ls2: Float64Array; // sum of squares
  private readonly empties: Int16Array;
  private readonly emptyPos: Int16Array;
  private emptyCount = 0;
  private readonly zob: Int32Array;
  private h1 = 0;
  private h2 = 0;
  // Open-addressing set of the hashes of every position of the game so far.
  private readonly seen1: Int32Array;
  private readonly seen2: Int32Array;
  private readonly seenUsed: Uint8Array;
  private readonly seenMask: number;
  private readonly moveList: Int16Array;

  toPlay: Stone = BLACK;
  /** Consecutive passes at the end of the move list. */
  consecutivePasses = 0;
  moveNumber = 0;
  /** Stones captured by each colour. */
  capturesBy = { black: 0, white: 0 };
  /** The last action, or −1 at the start. */
  lastMove = -1;

  constructor(size: number, komi: number = defaultKomi(size)) {
    if (!Number.isInteger(size) || size < 2 || size > 19) throw new GoRuleError(`GoBoard: size must be an integer from 2 to 19, got ${size}`, 'off the board');
    this.size = size;
    const n = size * size;
    this.area = n;
    this.passMove = n;
    this.maxMoves = 2 * n;
    this.komi = komi;
    this.cells = new Int8Array(n);
    this.nbr = new Int16Array(n * 4).fill(-1);
    for (let r = 0; r < size; r++) {
      for (let c = 0; c < size; c++) {
        const p = r * size + c;
        if (r > 0) this.nbr[p * 4] = p - size;
        if (c < size - 1) this.nbr[p * 4 + 1] = p + 1;
        if (r < size - 1) this.nbr[p * 4 + 2] = p + size;
        if (c > 0) this.nbr[p * 4 + 3] = p - 1;
      }
    }
    this.chain = new Int16Array(n);
    this.next = new Int16Array(n);
    this.csize = new Int32Array(n);
    this.pl = new Int32Array(n);
    this.ls = new Int32Array(n);
    this.ls2 = new Float64Array(n);
    this.empties = new Int16Array(n);
    this.emptyPos = new Int16Array(n);
    this.zob = zobristTable(size);
    let cap = 16;
    while (cap < 4 * (this.maxMoves + 2)) cap *= 2;
    this.seen1 = new Int32Array(cap);
    this.seen2 = new Int32Array(cap);
    this.seenUsed = new Uint8Array(cap);
    this.seenMask = cap - 1;
    this.moveList = new Int16Array(this.maxMoves);
    this.clear();
  }

  /** Empties the board and starts a new game (Black to play). */
  clear(): void {
    this.cells.fill(0);
    for (let p = 0; p < this.area; p++) {
      this.empties[p] = p;
      this.emptyPos[p] = p;
    }
    this.emptyCount = this.area;
    this.h1 = 0;
    this.h2 = 0;
    this.seenUsed.fill(0);
    this.remember(0, 0);
    this.toPlay = BLACK;
    this.consecutivePasses = 0;
    this.moveNumber = 0;
    this.capturesBy = { black: 0, white: 0 };
    this.lastMove = -1;
  }

  /** A new board with the same game (same moves, same history of positions). */
  clone(): GoBoard {
    const b = new GoBoard(this.size, this.komi);
    b.copyFrom(this);
    return b;
  }

  /** Makes this board an exact copy of `other` (same size). */
  copyFrom(o: GoBoard): void {
    if (o.size !== this.size) throw new GoRuleError(`GoBoard.copyFrom: sizes differ (${o.size} vs ${this.size})`, 'off the board');
    this.cells.set(o.cells);
    this.chain.set(o.chain);
    this.next.set(o.next);
    this.csize.set(o.csize);
    this.pl.set(o.pl);
    this.ls.set(o.ls);
    this.ls2.set(o.ls2);
    this.empties.set(o.empties);
    this.emptyPos.set(o.emptyPos);
    this.emptyCount = o.emptyCount;
    this.h1 = o.h1;
    this.h2 = o.h2;
    this.seen1.set(o.seen1);
    this.seen2.set(o.seen2);
    this.seenUsed.set(o.seenUsed);
    this.moveList.set(o.moveList);
    this.toPlay = o.toPlay;
    this.consecutivePasses = o.consecutivePasses;
    this.moveNumber = o.moveNumber;
    this.capturesBy = { ...o.capturesBy };
    this.lastMove = o.lastMove;
  }

  /** Replays `moves` (actions) from the empty board; throws GoRuleError on an illegal one. */
  static fromMoves(size: number, komi: number, moves: ArrayLike<number>): GoBoard {
    const b = new GoBoard(size, komi);
    for (let i = 0; i < moves.length; i++) b.play(moves[i]!);
    return b;
  }

  /**
   * Starts a game from a hand-built position (tests, puzzles): `rows` are N strings of N characters, top row
   * first, 'X' black, 'O' white, '.' empty (spaces ignored). The position becomes the only one in the
   * superko history, with no moves played. Throws if a chain has no liberty.
   */
  static fromAscii(rows: readonly string[], toPlay: ColorName = 'black', komi?: number): GoBoard {
    const clean = rows.map((r) => r.replace(/\s+/g, ''));
    const N = clean.length;
    const b = new GoBoard(N, komi ?? defaultKomi(N));
    clean.forEach((r, i) => {
      if (r.length !== N) throw new GoRuleError(`GoBoard.fromAscii: row ${i} has ${r.length} points, expected ${N}`, 'off the board');
      for (let c = 0; c < N; c++) {
        const ch = r[c]!;
        if (ch === '.') continue;
        if (ch !== 'X' && ch !== 'O') throw new GoRuleError(`GoBoard.fromAscii: unknown character '${ch}' in row ${i} (use X, O or .)`, 'off the board');
        b.place(i * N + c, ch === 'X' ? BLACK : WHITE);
      }
    });
    clean.forEach((r, i) => {
      for (let c = 0; c < N; c++) {
        if ('.XO'[b.cells[i * N + c]!] !== r[c]) throw new GoRuleError(`GoBoard.fromAscii: the chain at row ${i} col ${c} has no liberty`, 'suicide');
      }
    });
    b.seenUsed.fill(0);
    b.remember(b.h1, b.h2);
    b.toPlay = toPlay === 'black' ? BLACK : WHITE;
    return b;
  }

  pointOf(row: number, col: number): number {
    return row * this.size + col;
  }

  /** The actions played so far, in order. */
  get moves(): number[] {
    return Array.from(this.moveList.subarray(0, this.moveNumber));
  }

  get isOver(): boolean {
    return this.consecutivePasses >= 2 || this.moveNumber >= this.maxMoves;
  }

  /** Zobrist hash of the current position, as two 32-bit words. */
  get hash(): [number, number] {
    return [this.h1, this.h2];
  }

  /** Number of liberties (distinct) of the chain through `p` (a stone). For tests and opponents. */
  liberties(p: number): number {
    if (this.cells[p] === EMPTY) return 0;
    const seen = new Set<number>();
    const r = this.chain[p]!;
    let s = r;
    do {
      for (let k = 0; k < 4; k++) {
        const q = this.nbr[s * 4 + k]!;
        if (q >= 0 && this.cells[q] === EMPTY) seen.add(q);
      }
      s = this.next[s]!;
    } while (s !== r);
    return seen.size;
  }

  // ----------------------------------------------------------------------------------------------------
  // Legality

  /** null when `move` is legal for the player to move, else why not. */
  illegalReason(move: number): IllegalReason | null {
    if (!Number.isInteger(move) || move < 0 || move > this.area) return 'off the board';
    if (this.isOver) return 'game over';
    if (move === this.area) return null;
    if (this.cells[move] !== EMPTY) return 'occupied';
    if (this.isSuicide(move, this.toPlay)) return 'suicide';
    if (this.repeats(move, this.toPlay)) return 'superko';
    return null;
  }

  isLegal(move: number): boolean {
    return this.illegalReason(move) === null;
  }

  /** Legal actions of the player to move, ascending; pass (N²) is always last (none once the game is over). */
  legalMoves(): number[] {
    const out: number[] = [];
    if (this.isOver) return out;
    const c = this.toPlay;
    for (let p = 0; p < this.area; p++) {
      if (this.cells[p] === EMPTY && !this.isSuicide(p, c) && !this.repeats(p, c)) out.push(p);
    }
    out.push(this.area);
    return out;
  }

  /** Writes 1 for each legal action (pass included) into `out` (length N² + 1) and returns it. */
  legalMask(out: Int8Array = new Int8Array(this.area + 1)): Int8Array {
    out.fill(0);
    if (this.isOver) return out;
    const c = this.toPlay;
    for (let p = 0; p < this.area; p++) {
      if (this.cells[p] === EMPTY && !this.isSuicide(p, c) && !this.repeats(p, c)) out[p] = 1;
    }
    out[this.area] = 1;
    return out;
  }

  /** Chain with representative r has exactly one liberty. */
  private inAtari(r: number): boolean {
    const n = this.pl[r]!;
    const s = this.ls[r]!;
    return n > 0 && n * this.ls2[r]! === s * s;
  }

  /** Placing colour c on empty point p leaves the new chain without liberties (after captures). */
  private isSuicide(p: number, c: number): boolean {
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

  /** The position after c plays at p (not suicide) was seen before in this game. */
  private repeats(p: number, c: number): boolean {
    const z = this.zob;
    let g1 = this.h1 ^ z[(p * 2 + c - 1) * 2]!;
    let g2 = this.h2 ^ z[(p * 2 + c - 1) * 2 + 1]!;
    const opp = 3 - c;
    const nbr = this.nbr;
    let r0 = -1;
    let r1 = -1;
    let r2 = -1;
    for (let k = 0; k < 4; k++) {
      const q = nbr[p * 4 + k]!;
      if (q < 0 || this.cells[q] !== opp) continue;
      const r = this.chain[q]!;
      if (r === r0 || r === r1 || r === r2 || !this.inAtari(r)) continue;
      if (r0 < 0) r0 = r;
      else if (r1 < 0) r1 = r;
      else r2 = r;
      let s = r;
      do {
        g1 ^= z[(s * 2 + opp - 1) * 2]!;
        g2 ^= z[(s * 2 + opp - 1) * 2 + 1]!;
        s = this.next[s]!;
      } while (s !== r);
    }
    return this.seenHas(g1, g2);
  }

  private slot(g1: number, g2: number): number {
    return (g1 ^ Math.imul(g2, 0x9e3779b1)) & this.seenMask;
  }

  private seenHas(g1: number, g2: number): boolean {
    let i = this.slot(g1, g2);
    while (this.seenUsed[i] === 1) {
      if (this.seen1[i] === g1 && this.seen2[i] === g2) return true;
      i = (i + 1) & this.seenMask;
    }
    return false;
  }

  private remember(g1: number, g2: number): void {
    let i = this.slot(g1, g2);
    while (this.seenUsed[i] === 1) {
      if (this.seen1[i] === g1 && this.seen2[i] === g2) return;
      i = (i + 1) & this.seenMask;
    }
    this.seenUsed[i] = 1;
    this.seen1[i] = g1;
    this.seen2[i] = g2;
  }

  // ----------------------------------------------------------------------------------------------------
  // Playing

  /** Plays `move` for the player to move; throws GoRuleError (with `reason`) if it is illegal. Returns stones captured. */
  play(move: number): number {
    const why = this.illegalReason(move);
    if (why !== null) {
      const who = colorName(this.toPlay);
      const what = Number.isInteger(move) && move >= 0 && move <= this.area ? toGtp(move, this.size) : String(move);
      const detail =
        why === 'occupied'
          ? 'the point is occupied'
          : why === 'suicide'
            ? 'suicide is not allowed'
            : why === 'superko'
              ? 'it would repeat an earlier board position (positional superko)'
              : why === 'game over'
                ? 'the game is over'
                : `moves are 0..${this.area} (pass = ${this.area})`;
      throw new GoRuleError(`illegal move ${what} by ${who}: ${detail}`, why);
    }
    return this.playUnchecked(move);
  }

  /** Plays a move already known to be legal (no checks). Returns the number of stones captured. */
  playUnchecked(move: number): number {
    this.moveList[this.moveNumber++] = move;
    this.lastMove = move;
    const c = this.toPlay;
    this.toPlay = (3 - c) as Stone;
    if (move === this.area) {
      this.consecutivePasses++;
      return 0;
    }
    this.consecutivePasses = 0;
    const captured = this.place(move, c);
    if (captured > 0) {
      if (c === BLACK) this.capturesBy.black += captured;
      else this.capturesBy.white += captured;
    }
    this.remember(this.h1, this.h2);
    return captured;
  }

  private place(p: number, c: number): number {
    const cells = this.cells;
    const nbr = this.nbr;
    const chain = this.chain;
    const opp = 3 - c;
    cells[p] = c;
    // Remove p from the empty list.
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
    const zi = (p * 2 + c - 1) * 2;
    this.h1 ^= this.zob[zi]!;
    this.h2 ^= this.zob[zi + 1]!;
    for (let k = 0; k < 4; k++) {
      const q = nbr[p * 4 + k]!;
      if (q >= 0 && cells[q] === c && chain[q] !== chain[p]) this.merge(chain[p]!, chain[q]!);
    }
    let captured = 0;
    for (let k = 0; k < 4; k++) {
      const q = nbr[p * 4 + k]!;
      if (q >= 0 && cells[q] === opp && this.pl[chain[q]!] === 0) captured += this.removeChain(chain[q]!, opp);
    }
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

  private removeChain(r: number, col: number): number {
    const cells = this.cells;
    const nbr = this.nbr;
    const z = this.zob;
    let n = 0;
    let s = r;
    do {
      cells[s] = EMPTY;
      const zi = (s * 2 + col - 1) * 2;
      this.h1 ^= z[zi]!;
      this.h2 ^= z[zi + 1]!;
      this.empties[this.emptyCount] = s;
      this.emptyPos[s] = this.emptyCount++;
      n++;
      s = this.next[s]!;
    } while (s !== r);
    // Give the freed points as liberties to the neighbouring (opponent) chains.
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

  // ----------------------------------------------------------------------------------------------------
  // Scoring and playouts

  /** Tromp-Taylor area score of the board as it stands. */
  score(): GoScore {
    const n = this.area;
    const cells = this.cells;
    const nbr = this.nbr;
    const visited = new Uint8Array(n);
    const stack = new Int16Array(n);
    let black = 0;
    let white = 0;
    for (let p = 0; p < n; p++) {
      const v = cells[p]!;
      if (v === BLACK) black++;
      else if (v === WHITE) white++;
      else if (visited[p] === 0) {
        let sp = 0;
        let size = 0;
        let touches = 0; // bit 1 black, bit 2 white
        stack[sp++] = p;
        visited[p] = 1;
        while (sp > 0) {
          const x = stack[--sp]!;
          size++;
          for (let k = 0; k < 4; k++) {
            const q = nbr[x * 4 + k]!;
            if (q < 0) continue;
            const cq = cells[q]!;
            if (cq === EMPTY) {
              if (visited[q] === 0) {
                visited[q] = 1;
                stack[sp++] = q;
              }
            } else touches |= cq;
          }
        }
        if (touches === BLACK) black += size;
        else if (touches === WHITE) white += size;
      }
    }
    const margin = black - white - this.komi;
    return { black, white, komi: this.komi, margin, winner: margin > 0 ? 'black' : margin < 0 ? 'white' : 'draw' };
  }

  /**
   * Plays the game out with uniformly random legal moves (pass only when no other move is legal) until it
   * ends (two passes or the move cap), and returns the final `score().margin`. `random` returns uniform
   * numbers in [0, 1). Candidates are drawn without replacement from the empty points until a legal one is
   * found, so each legal point is equally likely.
   */
  playout(random: () => number): number {
    const empties = this.empties;
    const emptyPos = this.emptyPos;
    while (!this.isOver) {
      const c = this.toPlay;
      let k = this.emptyCount;
      let chosen = this.area;
      while (k > 0) {
        const i = (random() * k) | 0;
        const p = empties[i]!;
        if (!this.isSuicide(p, c) && !this.repeats(p, c)) {
          chosen = p;
          break;
        }
        // Move the rejected point out of the candidate range [0, k).
        k--;
        const q = empties[k]!;
        empties[i] = q;
        emptyPos[q] = i;
        empties[k] = p;
        emptyPos[p] = k;
      }
      this.playUnchecked(chosen);
    }
    return this.score().margin;
  }

  /** ASCII board with GTP coordinates: 'X' black, 'O' white, '.' empty. */
  toString(): string {
    const N = this.size;
    const cols = GTP_COLUMNS.slice(0, N).split('').join(' ');
    const lines = [`   ${cols}`];
    for (let r = 0; r < N; r++) {
      const label = String(N - r).padStart(2);
      let row = '';
      for (let c = 0; c < N; c++) row += (c ? ' ' : '') + '.XO'[this.cells[r * N + c]!];
      lines.push(`${label} ${row} ${label.trim()}`);
    }
    lines.push(`   ${cols}`);
    return lines.join('\n');
  }
}

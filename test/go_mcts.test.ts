import { describe, expect, it } from 'vitest';
import { BLACK, GoBoard, WHITE, fromGtp } from '../envs/go/board.js';
import { Rng } from '../envs/utils/seeding.js';
import { MctsPlayer, isOwnEye } from '../agents/go/mcts.js';
import { PlayoutBoard, patternTableGet } from '../agents/go/mcts_playout.js';

/** Plain UCT with uniformly random rollouts (the original algorithm). */
const PLAIN = { rave: false, priors: false, heuristics: false, reuseTree: false } as const;

/** Uniformly random legal move, pass only when nothing else is legal (like envs' randomOpponent). */
function randomMove(board: GoBoard, rng: Rng): number {
  const moves = board.legalMoves();
  if (moves.length <= 1) return board.passMove;
  return moves[rng.integer(moves.length - 1)]!;
}

describe('MctsPlayer', () => {
  it('has a default name and validates its options', () => {
    expect(new MctsPlayer({ seed: 1 }).name).toBe('mcts-1000');
    expect(new MctsPlayer({ simulations: 200, seed: 1 }).name).toBe('mcts-200');
    expect(new MctsPlayer({ name: 'x', seed: 1 }).name).toBe('x');
    expect(() => new MctsPlayer({ simulations: 0 })).toThrow(RangeError);
    expect(() => new MctsPlayer({ exploration: -1 })).toThrow(RangeError);
  });

  it('captures a group in atari when that wins the game (plain UCT)', () => {
    // With heuristic playouts every move wins here (White cannot escape), so this checks plain UCT.
    const board = GoBoard.fromAscii(['.....', '.X.X.', 'XOOOX', 'XOOOX', '.XXX.'], 'black', 0.5);
    const before = board.moves.length;
    for (const seed of [1, 2, 3]) {
      const r = new MctsPlayer({ simulations: 300, seed, ...PLAIN }).search(board);
      expect(r.move).toBe(fromGtp('C4', 5));
      expect(r.winRate).toBeGreaterThan(0.9);
      expect(r.simulations).toBe(300);
      expect(r.visits.get(r.move)).toBe(r.children[0]!.visits);
    }
    expect(board.moves.length).toBe(before); // the board is untouched
    const after = board.clone();
    expect(after.play(fromGtp('C4', 5))).toBe(6);
  });

  it('saves its own group in atari', () => {
    const board = GoBoard.fromAscii(['.....', 'XXXX.', 'OO.XX', 'OXXOO', '.OOO.'], 'black', 0.5);
    const group = fromGtp('B2', 5);
    expect(board.liberties(group)).toBe(1);
    expect(board.legalMoves().length).toBeGreaterThan(6);
    for (const seed of [1, 2, 3]) {
      const move = new MctsPlayer({ simulations: 300, seed }).genmove(board);
      expect(move).toBe(fromGtp('C3', 5));
      const after = board.clone();
      after.play(move);
      expect(after.liberties(group)).toBeGreaterThan(1);
    }
  });

  it('does not fill its own eyes: passes when only eyes are left', () => {
    const board = GoBoard.fromAscii(['.X.X.', 'XXXXX', 'XXXXX', 'XXXXX', 'X.X.X'], 'black', 0.5);
    expect(board.legalMoves().length).toBe(6); // five eyes and pass
    for (const p of ['A5', 'C5', 'E5', 'B1', 'D1']) {
      expect(isOwnEye(board, fromGtp(p, 5), BLACK)).toBe(true);
    }
    expect(new MctsPlayer({ simulations: 200, seed: 1 }).genmove(board)).toBe(board.passMove);
    // With open points elsewhere it plays there, never in an eye.
    const open = GoBoard.fromAscii(['.X.X.', 'XXXXX', 'XXXXX', '.....', '.....'], 'black', 0.5);
    for (const seed of [1, 2, 3]) {
      const move = new MctsPlayer({ simulations: 200, seed }).genmove(open);
      expect(move).not.toBe(open.passMove);
      expect(isOwnEye(open, move, BLACK)).toBe(false);
      expect(Math.floor(move / 5)).toBeGreaterThanOrEqual(3);
    }
  });

  it('never returns an illegal move over many random positions', () => {
    const rng = new Rng(7);
    const player = new MctsPlayer({ simulations: 40, seed: 3 });
    for (let i = 0; i < 60; i++) {
      const size = i % 3 === 0 ? 7 : 5;
      const board = new GoBoard(size);
      const plies = rng.integer(size * size * 2);
      for (let k = 0; k < plies && !board.isOver; k++) board.play(randomMove(board, rng));
      if (board.isOver) {
        expect(player.genmove(board)).toBe(board.passMove);
        continue;
      }
      const snapshot = board.cells.slice();
      const moves = board.moveNumber;
      const move = player.genmove(board);
      expect(board.isLegal(move)).toBe(true);
      expect(board.moveNumber).toBe(moves);
      expect(Array.from(board.cells)).toEqual(Array.from(snapshot));
    }
  });

  it('is deterministic for a given seed (default and plain)', () => {
    const board = GoBoard.fromMoves(7, 9, [fromGtp('D4', 7), fromGtp('C3', 7), fromGtp('E5', 7)]);
    for (const opts of [{}, PLAIN]) {
      const a = new MctsPlayer({ simulations: 300, seed: 42, ...opts }).search(board);
      const b = new MctsPlayer({ simulations: 300, seed: 42, ...opts }).search(board);
      expect(b.move).toBe(a.move);
      expect([...b.visits]).toEqual([...a.visits]);
      expect(b.winRate).toBe(a.winRate);
    }
  });

  it('gives new nodes prior knowledge: captures high, first line low in the opening, pass low', () => {
    // White D4 is in atari (liberty E4).
    const board = GoBoard.fromAscii(['.......', '.......', '...X...', '..XO...', '...X...', '.......', '.......'], 'black', 9);
    const player = new MctsPlayer({ simulations: 1, seed: 1 });
    player.search(board);
    const root = player.lastRoot!;
    const at = (v: string) => root.moves.indexOf(v === 'pass' ? board.passMove : fromGtp(v, 7));
    expect(root.amafValue(at('E4'))).toBeGreaterThan(0.8);
    expect(root.amafVisits(at('E4'))).toBeGreaterThanOrEqual(30);
    expect(root.amafValue(at('A1'))).toBeLessThan(0.2);
    expect(root.amafValue(at('pass'))).toBeLessThan(0.2);
    expect(root.amafValue(at('C3'))).toBeGreaterThan(root.amafValue(at('B2')));
    // Without priors the AMAF statistics start empty.
    const bare = new MctsPlayer({ simulations: 1, seed: 1, priors: false });
    bare.search(board);
    expect(bare.lastRoot!.amafVisits(at('A1'))).toBeLessThanOrEqual(1);
  });

  it('opens in the centre (or next to it) on the empty 7x7 board with the default priors', () => {
    const board = new GoBoard(7);
    for (const seed of [1, 2]) {
      const move = new MctsPlayer({ simulations: 2000, seed }).genmove(board);
      const r = Math.floor(move / 7);
      const c = move % 7;
      expect(Math.abs(r - 3)).toBeLessThanOrEqual(1);
      expect(Math.abs(c - 3)).toBeLessThanOrEqual(1);
    }
  });

  it('updates RAVE (AMAF) statistics: many more AMAF samples than visits per root move', () => {
    const board = new GoBoard(7);
    const player = new MctsPlayer({ simulations: 500, seed: 3, priors: false });
    const r = player.search(board);
    const root = player.lastRoot!;
    let amaf = 0;
    let visits = 0;
    for (let i = 0; i < root.moves.length; i++) {
      amaf += root.amafVisits(i);
      visits += root.visitsOf(i);
    }
    expect(visits).toBe(r.simulations);
    expect(amaf).toBeGreaterThan(10 * visits); // each simulation updates every root move its colour played
    for (let i = 0; i < root.moves.length - 1; i++) expect(root.amafVisits(i)).toBeGreaterThan(0);
    expect(root.amafVisits(root.moves.length - 1)).toBe(0); // pass: no AMAF
    // Without RAVE nothing is recorded.
    const plain = new MctsPlayer({ simulations: 200, seed: 3, ...PLAIN });
    plain.search(board);
    for (let i = 0; i < plain.lastRoot!.moves.length; i++) expect(plain.lastRoot!.amafVisits(i)).toBe(0);
  });

  it('reuses the subtree of the position reached after two moves', () => {
    const board = new GoBoard(7);
    const player = new MctsPlayer({ simulations: 3000, seed: 1 });
    const first = player.search(board);
    board.play(first.move);
    // Let the opponent play our most searched reply to our move, then search again.
    const ourNode = player.lastRoot!.kids[player.lastRoot!.moves.indexOf(first.move)]!;
    let bestReply = 0;
    for (let i = 1; i < ourNode.moves.length; i++) if (ourNode.visitsOf(i) > ourNode.visitsOf(bestReply)) bestReply = i;
    const replyNode = ourNode.kids[bestReply]!;
    expect(replyNode).not.toBeNull();
    const carried = replyNode.visits;
    expect(carried).toBeGreaterThan(0);
    board.play(ourNode.moves[bestReply]!);
    const second = player.search(board);
    expect(player.lastRoot).toBe(replyNode);
    expect(replyNode.visits).toBe(carried + second.simulations);
    // Without reuse the root is new.
    const fresh = new MctsPlayer({ simulations: 100, seed: 1, reuseTree: false });
    fresh.search(board);
    expect(fresh.lastRoot!.visits).toBe(100);
  });

  it('respects the time limit with a huge simulation budget (counts, not timing)', () => {
    const board = new GoBoard(7);
    const a = new MctsPlayer({ simulations: 1e9, timeLimitMs: 30, seed: 1 }).search(board);
    const b = new MctsPlayer({ simulations: 1e9, timeLimitMs: 120, seed: 1 }).search(board);
    expect(a.simulations).toBeGreaterThan(0);
    expect(a.simulations).toBeLessThan(1e6);
    expect(b.simulations).toBeGreaterThan(a.simulations);
  });

  it('stops early at the time limit', () => {
    const board = new GoBoard(9);
    const r = new MctsPlayer({ simulations: 10_000_000, timeLimitMs: 50, seed: 1 }).search(board);
    expect(r.simulations).toBeLessThan(10_000_000);
    expect(r.simulations).toBeGreaterThan(0);
    expect(board.isLegal(r.move)).toBe(true);
  });

  it('beats a random player on 5x5 with either colour', () => {
    const rng = new Rng(11);
    for (const mctsColor of [BLACK, WHITE]) {
      const mcts = new MctsPlayer({ simulations: 200, seed: 5 + mctsColor });
      const board = new GoBoard(5); // komi 24: Black must take nearly the whole board
      while (!board.isOver) board.play(board.toPlay === mctsColor ? mcts.genmove(board) : randomMove(board, rng));
      const winner = board.score().winner;
      expect(winner).toBe(mctsColor === BLACK ? 'black' : 'white');
    }
  });
});

describe('playout policy (PlayoutBoard)', () => {
  const load = (rows: string[], toPlay: 'black' | 'white', moves: string[] = []): PlayoutBoard => {
    const board = GoBoard.fromAscii(rows, toPlay, 9);
    for (const m of moves) board.play(fromGtp(m, rows.length));
    const pb = new PlayoutBoard(board.size);
    pb.loadFrom(board);
    return pb;
  };

  it('captures a chain in atari (heuristics) far more often than random play does', () => {
    // White C4-D4 (2 stones) in atari at E4; Black to play.
    const rows = ['.......', '.......', '..XX...', '.XOO...', '..XX...', '.......', '.......'];
    const rng = new Rng(5);
    let withH = 0;
    let without = 0;
    for (let t = 0; t < 200; t++) {
      const a = load(rows, 'black');
      if (a.playPolicyMove(rng, true) === fromGtp('E4', 7)) withH++;
      const b = load(rows, 'black');
      if (b.playPolicyMove(rng, false) === fromGtp('E4', 7)) without++;
    }
    expect(withH).toBeGreaterThan(150);
    expect(without).toBeLessThan(40);
  });

  it('saves its chain put in atari by the last move by extending, and captures the attacker', () => {
    // Black D4 alone; White has played E4 last (D5, C4 white): Black's D4 has one liberty, D3.
    const board = GoBoard.fromAscii(['.......', '.......', '...O...', '..OX...', '.......', '.......', '.......'], 'white', 9);
    board.play(fromGtp('E4', 7));
    expect(board.liberties(fromGtp('D4', 7))).toBe(1);
    const rng = new Rng(1);
    for (let t = 0; t < 20; t++) {
      const pb = new PlayoutBoard(7);
      pb.loadFrom(board);
      expect(pb.playPolicyMove(rng, true)).toBe(fromGtp('D3', 7));
    }
  });

  it('detects self-atari, and captures', () => {
    // Black B7 would join A7 (in atari) and leave both stones with the single liberty B6.
    const pb = load(['X.O....', 'O......', '.......', '.......', '.......', '.......', '.......'], 'black');
    const p = fromGtp('B7', 7);
    expect(pb.isSelfAtari(p, BLACK)).toBe(true);
    expect(pb.sizeAfter(p, BLACK)).toBe(2);
    expect(pb.isSelfAtari(fromGtp('D4', 7), BLACK)).toBe(false);
    // Black A5 captures White A6 (in atari at A5 after Black B6).
    const cap = load(['X.O....', 'OX.....', '.......', '.......', '.......', '.......', '.......'], 'black');
    expect(cap.captures(fromGtp('A5', 7), BLACK)).toBe(true);
    expect(cap.isSelfAtari(fromGtp('A5', 7), BLACK)).toBe(false);
    expect(cap.captures(fromGtp('D4', 7), BLACK)).toBe(false);
  });

  it('matches the MoGo hane pattern in every orientation', () => {
    const table = patternTableGet();
    const top = load(['XOX....', '.......', '.......', '.......', '.......', '.......', '.......'], 'black');
    expect(table[top.patternCode(fromGtp('B6', 7))]).toBe(1);
    const side = load(['.......', '.......', 'X......', 'O......', 'X......', '.......', '.......'], 'white');
    expect(table[side.patternCode(fromGtp('B4', 7))]).toBe(1);
    expect(table[top.patternCode(fromGtp('D4', 7))]).toBe(0);
  });

  it('plays out to the end with a correct Tromp-Taylor margin', () => {
    const rng = new Rng(9);
    for (let t = 0; t < 20; t++) {
      const pb = new PlayoutBoard(7);
      pb.loadFrom(new GoBoard(7));
      let moves = 0;
      while (!pb.isOver) {
        pb.playPolicyMove(rng, t % 2 === 0);
        moves++;
      }
      expect(moves).toBeLessThanOrEqual(98);
      const board = GoBoard.fromAscii(
        Array.from({ length: 7 }, (_, r) => Array.from(pb.cells.subarray(r * 7, r * 7 + 7), (v) => '.XO'[v]).join('')),
        'black',
        9,
      );
      expect(pb.scoreMargin()).toBe(board.score().margin);
    }
  });
});

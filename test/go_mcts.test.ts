import { describe, expect, it } from 'vitest';
import { BLACK, GoBoard, WHITE, fromGtp } from '../envs/go/board.js';
import { Rng } from '../envs/utils/seeding.js';
import { MctsPlayer, isOwnEye } from '../agents/go/mcts.js';

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

  it('captures a group in atari when that wins the game', () => {
    const board = GoBoard.fromAscii(['.....', '.X.X.', 'XOOOX', 'XOOOX', '.XXX.'], 'black', 0.5);
    const before = board.moves.length;
    for (const seed of [1, 2, 3]) {
      const r = new MctsPlayer({ simulations: 300, seed }).search(board);
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

  it('is deterministic for a given seed', () => {
    const board = GoBoard.fromMoves(7, 9, [fromGtp('D4', 7), fromGtp('C3', 7), fromGtp('E5', 7)]);
    const a = new MctsPlayer({ simulations: 300, seed: 42 }).search(board);
    const b = new MctsPlayer({ simulations: 300, seed: 42 }).search(board);
    expect(b.move).toBe(a.move);
    expect([...b.visits]).toEqual([...a.visits]);
    expect(b.winRate).toBe(a.winRate);
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

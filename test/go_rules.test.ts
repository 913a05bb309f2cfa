import { describe, expect, it } from 'vitest';
import { BLACK, EMPTY, GoBoard, GoRuleError, WHITE, defaultKomi, fromGtp, toGtp } from '../envs/go/board.js';

/** Plays a list of GTP vertices on `b` (colours alternate from `b.toPlay`). */
function playAll(b: GoBoard, vertices: string[]): void {
  for (const v of vertices) b.play(fromGtp(v, b.size));
}

const at = (b: GoBoard, v: string) => b.cells[fromGtp(v, b.size)];

function expectIllegal(b: GoBoard, v: string, reason: string): void {
  const move = fromGtp(v, b.size);
  expect(b.illegalReason(move)).toBe(reason);
  expect(b.legalMoves()).not.toContain(move);
  expect(b.legalMask()[move]).toBe(0);
  expect(() => b.play(move)).toThrow(GoRuleError);
  expect(() => b.play(move)).toThrow(new RegExp(`${v}.*${reason === 'superko' ? 'superko' : reason}`));
}

describe('coordinates', () => {
  it('maps actions to GTP vertices: row 0 is the top row, I is skipped, pass = N²', () => {
    expect(toGtp(0, 9)).toBe('A9');
    expect(toGtp(8, 9)).toBe('J9');
    expect(toGtp(80, 9)).toBe('J1');
    expect(toGtp(24, 7)).toBe('D4');
    expect(toGtp(49, 7)).toBe('pass');
    for (let a = 0; a <= 81; a++) expect(fromGtp(toGtp(a, 9), 9)).toBe(a);
    expect(() => fromGtp('I5', 9)).toThrow(/not a vertex/);
    expect(() => fromGtp('H8', 7)).toThrow(/not a vertex/);
  });

  it('uses the documented default komi', () => {
    expect([5, 7, 9, 11, 19].map(defaultKomi)).toEqual([24, 9, 7, 7.5, 7.5]);
  });
});

describe('captures', () => {
  it('captures a single stone', () => {
    // . . . . .
    // . . X . .
    // . X O . .     Black D3 takes the white stone at C3.
    // . . X . .
    // . . . . .
    const b = GoBoard.fromAscii(['.....', '..X..', '.XO..', '..X..', '.....']);
    expect(b.play(fromGtp('D3', 5))).toBe(1);
    expect(at(b, 'C3')).toBe(EMPTY);
    expect(at(b, 'D3')).toBe(BLACK);
    expect(b.capturesBy).toEqual({ black: 1, white: 0 });
  });

  it('captures a whole group', () => {
    // . X X . .
    // X O O . .     Black D4 takes the two white stones B4 C4.
    // . X X . .
    const b = GoBoard.fromAscii(['.XX..', 'XOO..', '.XX..', '.....', '.....']);
    expect(b.play(fromGtp('D4', 5))).toBe(2);
    expect(at(b, 'B4')).toBe(EMPTY);
    expect(at(b, 'C4')).toBe(EMPTY);
    expect(b.liberties(fromGtp('D4', 5))).toBe(4);
  });

  it('captures several groups with one move', () => {
    // X O . O X
    // . X O X .     Black C5 takes B5, D5 and C4 (three separate white groups).
    // . . X . .
    const b = GoBoard.fromAscii(['XO.OX', '.XOX.', '..X..', '.....', '.....']);
    expect(b.play(fromGtp('C5', 5))).toBe(3);
    for (const v of ['B5', 'D5', 'C4']) expect(at(b, v)).toBe(EMPTY);
    expect(b.capturesBy.black).toBe(3);
    expect(b.liberties(fromGtp('C5', 5))).toBe(3);
  });
});

describe('suicide', () => {
  // . X O . .
  // X O . . .     A5 is suicide for Black (B5 and A4 have no other liberty, nothing is captured),
  // O . . . .     but for White it captures B5 and A4, so it is legal.
  const rows = ['.XO..', 'XO...', 'O....', '.....', '.....'];

  it('refuses a multi-stone suicide', () => {
    const b = GoBoard.fromAscii(rows, 'black');
    expectIllegal(b, 'A5', 'suicide');
  });

  it('refuses a single-stone suicide', () => {
    // White A5 between two black stones.
    const b = GoBoard.fromAscii(['.X...', 'X....', '.....', '.....', '.....'], 'white');
    expectIllegal(b, 'A5', 'suicide');
  });

  it('a move that captures is not suicide', () => {
    const b = GoBoard.fromAscii(rows, 'white');
    expect(b.isLegal(fromGtp('A5', 5))).toBe(true);
    expect(b.play(fromGtp('A5', 5))).toBe(2);
    expect(at(b, 'B5')).toBe(EMPTY);
    expect(at(b, 'A4')).toBe(EMPTY);
    expect(at(b, 'A5')).toBe(WHITE);
  });
});

describe('ko and positional superko', () => {
  it('refuses the immediate recapture of a simple ko, allows it after an exchange elsewhere', () => {
    // . X O . .
    // X O . O .     Black C4 takes B4; White retaking at B4 would recreate the start position.
    // . X O . .
    const b = GoBoard.fromAscii(['.XO..', 'XO.O.', '.XO..', '.....', '.....']);
    expect(b.play(fromGtp('C4', 5))).toBe(1);
    expectIllegal(b, 'B4', 'superko');
    playAll(b, ['E1', 'E2']); // ko threat and answer elsewhere
    expect(b.play(fromGtp('B4', 5))).toBe(1);
    expect(at(b, 'C4')).toBe(EMPTY);
  });

  it('refuses the move that closes a triple-ko cycle', () => {
    // Three kos: K1 (top left) and K3 (middle left) hold a white stone, K2 (top right) a black one.
    // . X O . . . X O .
    // X O . O . X . X O
    // . X O . . . X O .
    // . . . . . . . . .
    // . X O . . . . . .
    // X O . O . . . . .
    // . X O . . . . . .
    // Black takes K1 (C8), White takes K2 (G8), Black takes K3 (C4), White retakes K1 (B8), Black
    // retakes K2 (H8): White retaking K3 at B4 would recreate the start, so it is illegal.
    const b = GoBoard.fromAscii([
      '.XO...XO.',
      'XO.O.X.XO',
      '.XO...XO.',
      '.........',
      '.XO......',
      'XO.O.....',
      '.XO......',
      '.........',
      '.........',
    ]);
    for (const v of ['C8', 'G8', 'C4', 'B8', 'H8']) expect(b.play(fromGtp(v, 9))).toBe(1);
    expectIllegal(b, 'B4', 'superko');
    // Every other capture stays legal (it is not a repetition).
    expect(b.isLegal(fromGtp('A1', 9))).toBe(true);
  });

  it('refuses a send-two-return-one repetition (not a simple ko)', () => {
    // . X . X .
    // O O X . .     Black A5 throws in (2 stones in atari), White C5 takes two, then Black B5 would
    // . . . . .     take one back and recreate the start position.
    const b = GoBoard.fromAscii(['.X.X.', 'OOX..', '.....', '.....', '.....']);
    expect(b.play(fromGtp('A5', 5))).toBe(0);
    expect(b.play(fromGtp('C5', 5))).toBe(2);
    expectIllegal(b, 'B5', 'superko');
  });

  it('hashes the board only: the same stones with the other player to move are the same position', () => {
    const b = new GoBoard(5);
    const h0 = b.hash;
    b.play(b.passMove);
    expect(b.hash).toEqual(h0);
    b.play(fromGtp('C3', 5));
    expect(b.hash).not.toEqual(h0);
    expect(new GoBoard(5).hash).toEqual(h0);
    // Fixed seeded table: the same moves give the same hash in every board.
    const c = new GoBoard(5);
    playAll(c, ['pass', 'C3']);
    expect(c.hash).toEqual(b.hash);
  });
});

describe('scoring (Tromp-Taylor area)', () => {
  it('counts stones and one-colour regions; dame counts for nobody', () => {
    // . X . O .
    // . X . O .     column C touches both colours (dame): 10 each, margin 10 − 10 − komi.
    const rows = ['.X.O.', '.X.O.', '.X.O.', '.X.O.', '.X.O.'];
    expect(GoBoard.fromAscii(rows, 'black', 0.5).score()).toEqual({ black: 10, white: 10, komi: 0.5, margin: -0.5, winner: 'white' });
    expect(GoBoard.fromAscii(rows, 'black', 0).score()).toEqual({ black: 10, white: 10, komi: 0, margin: 0, winner: 'draw' });
    expect(GoBoard.fromAscii(rows, 'black', -1).score().winner).toBe('black');
  });

  it('a shared liberty between black and white (seki-like) is neutral', () => {
    // . X O . O
    // X X O O .
    // . X . O O      C3 touches both colours: neutral. Black 7 stones + 3 eyes = 10,
    // X X O O .      White 10 stones + 4 points = 14.
    // . X O . O
    const b = GoBoard.fromAscii(['.XO.O', 'XXOO.', '.X.OO', 'XXOO.', '.XO.O'], 'black', 7.5);
    expect(b.score()).toEqual({ black: 10, white: 14, komi: 7.5, margin: -11.5, winner: 'white' });
  });

  it('scores the empty board as nobody’s and a lone stone as owning everything', () => {
    const b = new GoBoard(5, 0);
    expect(b.score()).toMatchObject({ black: 0, white: 0, winner: 'draw' });
    b.play(fromGtp('C3', 5));
    expect(b.score()).toMatchObject({ black: 25, white: 0, margin: 25, winner: 'black' });
  });
});

describe('end of game', () => {
  it('ends after two consecutive passes, not after two separated passes', () => {
    const b = new GoBoard(5);
    playAll(b, ['pass', 'C3', 'pass']);
    expect(b.isOver).toBe(false);
    b.play(b.passMove);
    expect(b.isOver).toBe(true);
    expect(b.legalMoves()).toEqual([]);
    expect(b.illegalReason(0)).toBe('game over');
  });

  it('ends at the move cap 2·N² (passes included)', () => {
    const b = new GoBoard(5);
    let state = 7;
    const random = () => ((state = (state * 1103515245 + 12345) >>> 0) / 2 ** 32);
    b.playout(random);
    expect(b.isOver).toBe(true);
    expect(b.moveNumber).toBeLessThanOrEqual(50);
    // Uniform random play on 5x5 practically never passes twice in a row: the cap ends the game.
    expect(b.moveNumber).toBe(50);
    expect(b.consecutivePasses).toBeLessThan(2);
  });
});

describe('legal moves and playouts', () => {
  it('legalMoves / legalMask agree with play() on every point through random games', () => {
    for (const size of [5, 7]) {
      const b = new GoBoard(size);
      let state = size;
      const random = () => ((state = (state * 1664525 + 1013904223) >>> 0) / 2 ** 32);
      while (!b.isOver) {
        const legal = b.legalMoves();
        const mask = b.legalMask();
        for (let a = 0; a <= b.area; a++) {
          let ok = true;
          try {
            b.clone().play(a);
          } catch (e) {
            expect(e).toBeInstanceOf(GoRuleError);
            ok = false;
          }
          expect(mask[a]).toBe(ok ? 1 : 0);
          expect(legal.includes(a)).toBe(ok);
        }
        const nonPass = legal.slice(0, -1);
        b.play(nonPass.length ? nonPass[Math.floor(random() * nonPass.length)]! : b.passMove);
      }
    }
  });

  it('incremental chains agree with a replay and a clone', () => {
    const b = new GoBoard(7);
    let state = 99;
    const random = () => ((state = (state * 1664525 + 1013904223) >>> 0) / 2 ** 32);
    b.playout(random);
    const replay = GoBoard.fromMoves(7, b.komi, b.moves);
    expect(Array.from(replay.cells)).toEqual(Array.from(b.cells));
    expect(replay.hash).toEqual(b.hash);
    expect(replay.score()).toEqual(b.score());
    expect(replay.capturesBy).toEqual(b.capturesBy);
  });

  it('GoBoard.fromAscii rejects chains without liberties and bad characters', () => {
    expect(() => GoBoard.fromAscii(['XO...', 'O....', '.....', '.....', '.....'])).toThrow(/no liberty/);
    expect(() => GoBoard.fromAscii(['X?...', '.....', '.....', '.....', '.....'])).toThrow(/unknown character/);
  });
});

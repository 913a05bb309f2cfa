/**
 * Match runner: Wilson interval and Elo math against hand-computed values, a random-vs-random match with
 * alternating colours and SGF records re-read by fromSgf, draws counted half, and (when /usr/games/gnugo is
 * installed) GnuGo level 1 beating a random player through the runner.
 */
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { GoBoard } from '../envs/go/board.js';
import { fromSgf } from '../envs/go/sgf.js';
import { distinctNames, eloFromScore, formatMatch, playMatch, wilsonInterval } from '../agents/go/match.js';
import { makePlayer } from '../agents/go/players.js';
import { RandomPlayer } from '../agents/go/random_player.js';
import { GnuGoPlayer, GNUGO_PATH } from '../agents/go/gnugo.js';
import type { GoPlayer } from '../agents/go/player.js';

const haveGnugo = existsSync(GNUGO_PATH);
if (!haveGnugo) console.warn(`go_match.test.ts: GnuGo match skipped, ${GNUGO_PATH} is not installed (apt-get install gnugo)`);

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

describe('match statistics', () => {
  it('Wilson 95% interval matches hand-computed values', () => {
    // 7/10: p = .7, z²/n = .38415; centre = (.7 + .19207)/1.38415 = .64456; half = 1.95996/1.38415 · sqrt(.021 + .0096037) = .24781.
    const [lo, hi] = wilsonInterval(7, 10);
    expect(lo).toBeCloseTo(0.3968, 3);
    expect(hi).toBeCloseTo(0.8922, 3);
    // 5/10: symmetric around .5, half-width 1.41600 · sqrt(.025 + .0096037) = .26339.
    const [l5, h5] = wilsonInterval(5, 10);
    expect(l5).toBeCloseTo(0.2366, 3);
    expect(h5).toBeCloseTo(0.7634, 3);
    // 0/10 and 10/10: exact 0 / 1 at the ends, .38415/1.38415 = .27753 on the other side.
    expect(wilsonInterval(0, 10)[0]).toBe(0);
    expect(wilsonInterval(0, 10)[1]).toBeCloseTo(0.2775, 3);
    expect(wilsonInterval(10, 10)).toEqual([expect.closeTo(0.7225, 3), 1]);
    // Draws count half: 6.5 of 10 → centre (.65 + .19207)/1.38415 = .60837, half 1.41600 · sqrt(.02275 + .0096037) = .25470.
    expect(wilsonInterval(6.5, 10)[0]).toBeCloseTo(0.3537, 3);
    expect(wilsonInterval(6.5, 10)[1]).toBeCloseTo(0.8631, 3);
  });

  it('Elo = −400·log10(1/p − 1)', () => {
    expect(eloFromScore(0.5)).toBe(0);
    expect(eloFromScore(0.75)).toBeCloseTo(190.85, 1); // 400·log10(3)
    expect(eloFromScore(0.25)).toBeCloseTo(-190.85, 1);
    expect(eloFromScore(0.7)).toBeCloseTo(147.19, 1); // 400·log10(7/3)
    expect(eloFromScore(0.9)).toBeCloseTo(381.7, 1); // 400·log10(9)
    expect(eloFromScore(1)).toBe(Infinity);
    expect(eloFromScore(0)).toBe(-Infinity);
    // The Elo interval is the Elo of the Wilson bounds: 7/10 → [−400·log10(1/.39676 − 1), −400·log10(1/.89222 − 1)]
    // = [−72.8, +367.2] around +147.2.
    expect(eloFromScore(wilsonInterval(7, 10)[0])).toBeCloseTo(-72.8, 0);
    expect(eloFromScore(wilsonInterval(7, 10)[1])).toBeCloseTo(367.2, 0);
  });
});

describe('playMatch', () => {
  it('random vs random on 5x5: colours alternate, SGF files are written and re-readable', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'go-match-'));
    dirs.push(dir);
    const [a, b] = distinctNames(new RandomPlayer({ seed: 1 }), new RandomPlayer({ seed: 2 }));
    const seen: number[] = [];
    const r = await playMatch(a, b, { games: 4, size: 5, seed: 7, sgfDir: dir, onGame: (g) => seen.push(g.game) });
    expect(seen).toEqual([0, 1, 2, 3]);
    expect(r.games.map((g) => g.black)).toEqual(['random (A)', 'random (B)', 'random (A)', 'random (B)']);
    expect(r.games.map((g) => g.white)).toEqual(['random (B)', 'random (A)', 'random (B)', 'random (A)']);
    expect(r.komi).toBe(24);
    expect(r.a.wins + r.a.losses + r.a.draws).toBe(4);
    expect(r.a.wins).toBe(r.b.losses);
    expect(r.a.draws).toBe(r.b.draws);
    expect(r.a.winRate + r.b.winRate).toBeCloseTo(1, 12);
    expect(r.a.elo).toBeCloseTo(-r.b.elo, 9);
    expect(readdirSync(dir).sort()).toEqual(['game-001.sgf', 'game-002.sgf', 'game-003.sgf', 'game-004.sgf']);
    for (const g of r.games) {
      const text = readFileSync(g.sgfPath!, 'utf8');
      expect(text).toContain(`PB[${g.black}]`);
      expect(text).toContain(`PW[${g.white}]`);
      const back = fromSgf(text);
      expect(back.size).toBe(5);
      expect(back.komi).toBe(24);
      expect(back.result).toBe(g.result);
      expect(back.board.moveNumber).toBe(g.moves);
      expect(back.board.isOver).toBe(true);
      expect(back.board.score().margin).toBe(g.margin);
      // Black wins by the margin's sign; the winner is A exactly when A had the winning colour.
      expect(g.winner).toBe(g.margin === 0 ? 'draw' : g.margin > 0 === g.aIsBlack ? 'A' : 'B');
    }
    const table = formatMatch(r);
    expect(table).toContain('random (A)');
    expect(table.split('\n')).toHaveLength(4);
  });

  it("records each player's thinking time per game and over the match", async () => {
    const slow: GoPlayer = { name: 'slow', genmove: (board: GoBoard) => new Promise((resolve) => setTimeout(() => resolve(board.passMove), 40)) };
    const quick: GoPlayer = { name: 'quick', genmove: (board: GoBoard) => board.passMove };
    const r = await playMatch(slow, quick, { games: 2, size: 5, komi: 0 });
    // Game 1: slow (B) passes, quick (W) passes; game 2: quick (B), slow (W).
    expect(r.games.map((g) => [g.blackTime.moves, g.whiteTime.moves])).toEqual([[1, 1], [1, 1]]);
    expect(r.games[0]!.blackTime.max).toBeGreaterThanOrEqual(0.035);
    expect(r.games[1]!.whiteTime.total).toBeGreaterThanOrEqual(0.035);
    expect(r.a.moveTime.moves).toBe(2);
    expect(r.a.moveTime.mean).toBeGreaterThanOrEqual(0.035);
    expect(r.a.moveTime.max).toBeGreaterThanOrEqual(r.a.moveTime.mean);
    expect(r.b.moveTime.moves).toBe(2);
    expect(r.b.moveTime.max).toBeLessThan(r.a.moveTime.max);
    expect(formatMatch(r).split('\n')[1]).toContain('s/move mean (max)');
  });

  it('counts draws half and attributes wins by colour', async () => {
    const passer = (name: string): GoPlayer => ({ name, genmove: (board: GoBoard) => board.passMove });
    const draws = await playMatch(passer('p'), passer('q'), { games: 2, size: 5, komi: 0 });
    expect(draws.games.map((g) => g.result)).toEqual(['0', '0']);
    expect(draws.a).toMatchObject({ wins: 0, losses: 0, draws: 2, winRate: 0.5, elo: 0 });
    const white = await playMatch(passer('p'), passer('q'), { games: 4, size: 5, komi: 0.5 });
    expect(white.games.map((g) => g.winner)).toEqual(['B', 'A', 'B', 'A']); // White (0.5 komi) always wins
    expect(white.a.wins).toBe(2);
    expect(white.a.winRate).toBe(0.5);
  });

  it('rejects an illegal move and unknown player specs', async () => {
    const bad: GoPlayer = { name: 'bad', genmove: () => 0 };
    await expect(playMatch(bad, new RandomPlayer(), { games: 1, size: 5 })).rejects.toThrow(/bad \(black\) chose an illegal move A5 at move 3: occupied/);
    await expect(makePlayer('alphago')).rejects.toThrow(/unknown player 'alphago'/);
  });
});

describe.skipIf(!haveGnugo)('playMatch with GnuGo', () => {
  it('GnuGo level 1 beats a random player in both colours on 5x5', async () => {
    const gnugo = new GnuGoPlayer({ level: 1, seed: 1 });
    try {
      const r = await playMatch(gnugo, new RandomPlayer({ seed: 3 }), { games: 2, size: 5 });
      expect(r.games.map((g) => g.winner)).toEqual(['A', 'A']);
      expect(r.a).toMatchObject({ name: 'gnugo-1', wins: 2, losses: 0, draws: 0, winRate: 1, elo: Infinity });
    } finally {
      await gnugo.close();
    }
  });
});

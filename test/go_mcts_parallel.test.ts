import { afterAll, describe, expect, it } from 'vitest';
import { GoBoard, fromGtp } from '../envs/go/board.js';
import { MctsPlayer } from '../agents/go/mcts.js';
import { ParallelMctsPlayer, mergeRootStats } from '../agents/go/mcts_parallel.js';
import { playMatch } from '../agents/go/match.js';
import { makePlayer } from '../agents/go/players.js';
import { RandomPlayer } from '../agents/go/random_player.js';
import type { GoPlayer } from '../agents/go/player.js';

const open: GoPlayer[] = [];
async function track<T extends GoPlayer>(p: Promise<T>): Promise<T> {
  const player = await p;
  open.push(player);
  return player;
}
afterAll(async () => {
  await Promise.all(open.map((p) => p.close?.()));
});

describe('mergeRootStats', () => {
  it('sums visits, weights win rates by visits and orders by visits, win rate, then point', () => {
    const merged = mergeRootStats([
      [
        { move: 3, visits: 10, winRate: 0.5 },
        { move: 7, visits: 30, winRate: 0.6 },
      ],
      [
        { move: 7, visits: 10, winRate: 0.2 },
        { move: 3, visits: 30, winRate: 0.9 },
        { move: 9, visits: 40, winRate: 0.4 },
        { move: 1, visits: 40, winRate: 0.4 },
      ],
    ]);
    expect(merged.map((s) => s.move)).toEqual([3, 7, 1, 9]); // all 40 visits: win rate 0.8, 0.5, then 0.4 by point
    expect(merged[0]).toEqual({ move: 3, visits: 40, winRate: (10 * 0.5 + 30 * 0.9) / 40 });
    expect(merged[1]).toEqual({ move: 7, visits: 40, winRate: (30 * 0.6 + 10 * 0.2) / 40 });
    expect(merged[3]).toEqual({ move: 9, visits: 40, winRate: 0.4 });
    expect(mergeRootStats([])).toEqual([]);
  });
});

describe('ParallelMctsPlayer', () => {
  it('equals the merged searches of single-threaded players seeded seed, seed + 1 (simulation budget)', async () => {
    const board = GoBoard.fromMoves(7, 9, [fromGtp('D4', 7), fromGtp('C3', 7), fromGtp('E5', 7)]);
    const player = await track(ParallelMctsPlayer.create({ threads: 2, simulations: 1500, seed: 42 }));
    expect(player.name).toBe('mcts-1500-t2');
    const r = await player.search(board);
    const singles = [42, 43].map((seed) => new MctsPlayer({ simulations: 1500, seed }));
    const first = singles.map((p) => p.search(board));
    expect(r.perThread).toEqual([1500, 1500]);
    expect(r.simulations).toBe(3000);
    expect(r.children).toEqual(mergeRootStats(first.map((s) => s.children)));
    expect(r.move).toBe(r.children[0]!.move);
    expect(board.moves).toHaveLength(3); // untouched
    // Our move, then the reply worker 0 searched most: each worker reuses its subtree, as the single players do.
    const next = board.clone();
    next.play(r.move);
    const ours = singles[0]!.lastRoot!.kids[singles[0]!.lastRoot!.moves.indexOf(r.move)]!;
    let reply = 0;
    for (let i = 1; i < ours.moves.length; i++) if (ours.visitsOf(i) > ours.visitsOf(reply)) reply = i;
    next.play(ours.moves[reply]!);
    const r2 = await player.search(next);
    expect(r2.children).toEqual(mergeRootStats(singles.map((p) => p.search(next).children)));
    expect(r2.children.reduce((a, s) => a + s.visits, 0)).toBeGreaterThan(3000); // carried visits count too
  });

  it('plays only legal moves from random positions, and passes when the game is over', async () => {
    const player = await track(ParallelMctsPlayer.create({ threads: 2, simulations: 100, seed: 1 }));
    let x = 12345;
    for (let game = 0; game < 4; game++) {
      const board = new GoBoard(5);
      const length = 5 + game * 6;
      for (let i = 0; i < length && !board.isOver; i++) {
        const legal = board.legalMoves();
        x = (x * 1103515245 + 12345) % 2147483648;
        board.play(legal[x % legal.length]!);
      }
      if (board.isOver) continue;
      const move = await player.genmove(board);
      expect(board.isLegal(move)).toBe(true);
    }
    const over = GoBoard.fromMoves(5, 0.5, [25, 25]);
    expect(await player.genmove(over)).toBe(over.passMove);
  });

  it('keeps a time limit with a huge simulation budget (counts, not timing)', async () => {
    const player = await track(ParallelMctsPlayer.create({ threads: 2, simulations: 1e9, timeLimitMs: 120, seed: 1 }));
    const r = await player.search(new GoBoard(7));
    expect(r.perThread.every((n) => n > 0 && n < 1e6)).toBe(true);
    expect(new GoBoard(7).isLegal(r.move)).toBe(true);
  });

  it('rejects bad options, set-up positions and use after close', async () => {
    await expect(ParallelMctsPlayer.create({ threads: 0 })).rejects.toThrow(/threads must be an integer from 1 to 64, got 0/);
    await expect(ParallelMctsPlayer.create({ threads: 2, timeLimitMs: 40 })).rejects.toThrow(/timeLimitMs must be more than overheadMs \(50 ms\), got 40/);
    await expect(ParallelMctsPlayer.create({ threads: 2, simulations: -5 })).rejects.toThrow(/simulations must be a positive integer, got -5/);
    const player = await ParallelMctsPlayer.create({ threads: 2, simulations: 50, seed: 3 });
    const setUp = GoBoard.fromAscii(['.....', '.X...', '.....', '...O.', '.....']);
    await expect(player.search(setUp)).rejects.toThrow(/needs games that start from the empty board/);
    expect(await player.genmove(new GoBoard(5))).toBeGreaterThanOrEqual(0); // still serving after the error
    await player.close();
    await expect(player.genmove(new GoBoard(5))).rejects.toThrow(/closed/);
  });

  it('is built by makePlayer for `mcts` with threads, named after its time, and beats random play on 5x5', async () => {
    const timed = await track(makePlayer('mcts', { threads: 2, moveTimeMs: 100, seed: 1 }));
    expect(timed.name).toBe('mcts-0.1s-t2');
    const mcts = await track(makePlayer('mcts', { threads: 2, sims: 150, seed: 7 }));
    expect(mcts.name).toBe('mcts-150-t2');
    const r = await playMatch(mcts, new RandomPlayer({ seed: 2 }), { games: 2, size: 5 });
    expect(r.a.wins).toBe(2);
    await expect(makePlayer('mcts', { threads: 1.5 })).rejects.toThrow(/threads must be an integer from 1 to 64, got 1.5/);
    // Other players ignore threads.
    expect((await makePlayer('random', { threads: 2 })).name).toBe('random');
  });
});

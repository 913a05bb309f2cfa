/**
 * Go-lite rules-engine speed: uniformly random playouts (random legal moves, pass only when nothing else is
 * legal, until two passes or the 2·N² move cap, then a Tromp-Taylor count) per second on one core, on 5x5,
 * 7x7 and 9x9; and UCT search speed (`MctsPlayer` simulations per second: selection, expansion, one
 * eye-avoiding random rollout and backpropagation each) from the empty 7x7 and 9x9 boards; and AlphaZero-lite
 * PUCT simulations per second (one policy-value network evaluation each, the default network, wasm backend)
 * and self-play games per second at the default 64 simulations per move on 7x7. Prints one JSON line.
 *
 *   node --import tsx bench/go.ts            # about 2 s per size
 *   node --import tsx bench/go.ts --quick
 */
import { GoBoard } from '../envs/go/board.js';
import { MctsPlayer } from '../agents/go/mcts.js';
import { PolicyValueNet, PuctSearch, resolveHyperparameters, selfPlayGame } from '../agents/go/alphazero.js';
import { Rng } from '../envs/index.js';
import { initCompute } from '../lab/compute.js';

const quick = process.argv.includes('--quick');
const SECONDS = quick ? 0.4 : 2;

/** xorshift32: a fast uniform source so that the figure measures the board, not the RNG. */
function xorshift(seed: number): () => number {
  let s = seed | 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 4294967296;
  };
}

function bench(size: number): { playoutsPerSec: number; movesPerPlayout: number; blackWinRate: number } {
  const board = new GoBoard(size);
  const random = xorshift(12345 + size);
  let games = 0;
  let moves = 0;
  let blackWins = 0;
  const run = (ms: number, count: boolean): number => {
    const start = performance.now();
    let now = start;
    while (now - start < ms) {
      for (let i = 0; i < 50; i++) {
        board.clear();
        const margin = board.playout(random);
        if (count) {
          games++;
          moves += board.moveNumber;
          if (margin > 0) blackWins++;
        }
      }
      now = performance.now();
    }
    return now - start;
  };
  run(300, false);
  const ms = run(SECONDS * 1000, true);
  return {
    playoutsPerSec: Math.round((games / ms) * 1000),
    movesPerPlayout: Math.round((moves / games) * 10) / 10,
    blackWinRate: Math.round((blackWins / games) * 1000) / 1000,
  };
}

/** One time-limited MCTS search from the empty board (after a short warm-up search). */
function benchMcts(size: number): { simulationsPerSec: number; simulations: number } {
  const board = new GoBoard(size);
  new MctsPlayer({ simulations: 1_000_000_000, timeLimitMs: 300, seed: 1 }).search(board);
  const r = new MctsPlayer({ simulations: 1_000_000_000, timeLimitMs: SECONDS * 1000, seed: 2 }).search(board);
  return { simulationsPerSec: Math.round((r.simulations / r.elapsedMs) * 1000), simulations: r.simulations };
}

const result: Record<string, unknown> = { bench: 'go-random-playouts', node: process.version };
for (const size of [5, 7, 9]) result[`${size}x${size}`] = bench(size);
const mcts: Record<string, unknown> = {};
for (const size of [7, 9]) mcts[`${size}x${size}`] = benchMcts(size);
result.mcts = mcts;

/** PUCT search speed and self-play speed of an untrained default AlphaZero-lite network on 7x7. */
async function benchAlphaZero(): Promise<Record<string, unknown>> {
  const compute = await initCompute('wasm');
  const hp = resolveHyperparameters({ size: 7 });
  const model = PolicyValueNet.create(hp, new Rng(1));
  const search = new PuctSearch(model);
  const board = new GoBoard(7);
  const options = { simulations: 1_000_000_000, cPuct: hp.cPuct, fpuReduction: hp.fpuReduction, passRule: hp.passRule };
  search.run(board, [], { ...options, timeLimitMs: 300 });
  const r = search.run(board, [], { ...options, timeLimitMs: SECONDS * 1000 });
  const rng = new Rng(2);
  const start = performance.now();
  let games = 0;
  let moves = 0;
  while (performance.now() - start < SECONDS * 1000) {
    moves += selfPlayGame(search, hp, rng).moves.length;
    games++;
  }
  const seconds = (performance.now() - start) / 1000;
  model.dispose();
  return {
    backend: compute.backend,
    puctSimulationsPerSec: Math.round((r.simulations / r.elapsedMs) * 1000),
    selfPlayGamesPerSec: Math.round((games / seconds) * 100) / 100,
    selfPlayMovesPerGame: Math.round((moves / games) * 10) / 10,
    simulationsPerMove: hp.simulations,
  };
}
result.alphazero7x7 = await benchAlphaZero();
console.log(JSON.stringify(result));

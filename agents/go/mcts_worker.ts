/**
 * One thread of `ParallelMctsPlayer` (mcts_parallel.ts): builds an `MctsPlayer` from `workerData`, then answers
 * each search request — a game given as size, komi and move list — with its root statistics.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { GoBoard } from '../../envs/go/board.js';
import { MctsPlayer, type MctsOptions } from './mcts.js';
import type { WorkerSearchReply } from './mcts_parallel.js';

interface SearchRequest {
  id: number;
  size: number;
  komi: number;
  moves: number[];
  hash: [number, number];
}

const port = parentPort!;
let player: MctsPlayer;
try {
  player = new MctsPlayer(workerData as MctsOptions);
  port.postMessage({ ready: true });
} catch (e) {
  port.postMessage({ error: e instanceof Error ? e.message : String(e) });
  process.exit(0);
}

port.on('message', (req: SearchRequest) => {
  let reply: WorkerSearchReply;
  try {
    const board = GoBoard.fromMoves(req.size, req.komi, req.moves);
    const [h1, h2] = board.hash;
    if (h1 !== req.hash[0] || h2 !== req.hash[1]) {
      throw new Error('the position is not the empty board plus its move list (a set-up position?); root-parallel MCTS needs games that start from the empty board');
    }
    const r = player.search(board);
    reply = { id: req.id, children: r.children, simulations: r.simulations };
  } catch (e) {
    reply = { id: req.id, error: e instanceof Error ? e.message : String(e) };
  }
  port.postMessage(reply);
});

/**
 * Saved agents as the fixed opponent of the single-agent Go envs (`GoVsOpponentEnv`, option
 * `opponent: 'agent:<dir>'`): an AlphaZero-lite agent (a run directory of `lab go train`, its `agent/` or a
 * checkpoint; PUCT with `simulations` per move) or the greedy policy of a `lab train` run on a Go-lite env
 * (its network reads the same observation planes, so the env's size and history must match the run's).
 */
import type { GoOpponent } from '../../envs/index.js';
import { AlphaZeroPlayer, resolveAgentDir } from './alphazero.js';
import { loadGreedyPolicy } from '../policy_loader.js';
import { syncActions } from '../training.js';
import { syncReads, tf } from '../../lab/compute.js';

export interface LoadedOpponent {
  name: string;
  policy: GoOpponent;
  dispose: () => void;
}

export async function loadGoOpponent(dir: string, options: { simulations?: number } = {}): Promise<LoadedOpponent> {
  // The env asks for the opponent's move synchronously inside step(), and the tree search reads its network per
  // leaf: both need a backend that reads back at once.
  if (!syncReads()) throw new Error(`opponent agent:${dir} needs a backend that reads synchronously; '${tf.getBackend()}' reads back asynchronously: use --backend wasm or cpu for Go`);
  let isAlphaZero = true;
  try {
    resolveAgentDir(dir);
  } catch {
    isAlphaZero = false;
  }
  if (isAlphaZero) {
    const player = await AlphaZeroPlayer.load(dir, { simulations: options.simulations ?? 64 });
    return { name: player.name, policy: (board) => player.genmove(board), dispose: () => player.close() };
  }
  let loaded;
  try {
    loaded = loadGreedyPolicy(dir);
  } catch (e) {
    throw new Error(`opponent agent:${dir}: not an AlphaZero agent nor a lab train run (${e instanceof Error ? e.message : String(e)})`);
  }
  const { policy, resolved, dispose } = loaded;
  if (!resolved.envId.startsWith('GoLite-')) {
    dispose();
    throw new Error(`opponent agent:${dir}: that run trained on ${resolved.envId}, not on a Go-lite env`);
  }
  return {
    name: `policy:${dir}`,
    policy: (board, _rng, game) => {
      if (!game) throw new Error(`opponent agent:${dir} needs the env's observation`);
      return syncActions(policy.act(game.observe(), 1, false, board.legalMask()), `opponent agent:${dir}`)[0]!;
    },
    dispose,
  };
}

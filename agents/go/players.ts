/**
 * Go players from a CLI spec (`random`, `mcts`, `gnugo[:level]`, an AlphaZero run directory): the factory
 * that `lab match`, `lab gtp` and the viewer's Go games share. It sits above the players it builds, so none of
 * them needs to import it back (the match runner, which AlphaZero's self-evaluation uses, knows no players).
 */
import fs from 'node:fs';
import path from 'node:path';
import type { GoPlayer } from './player.js';
import { RandomPlayer } from './random_player.js';
import { MctsPlayer } from './mcts.js';
import { ParallelMctsPlayer } from './mcts_parallel.js';
import { AlphaZeroPlayer } from './alphazero.js';
import { GnuGoPlayer, gnugoAvailable, GNUGO_PATH } from './gnugo.js';

export interface PlayerSpecOptions {
  /** Seed for the player's own randomness (random, mcts) or GnuGo's --seed. */
  seed?: number;
  /** MCTS / AlphaZero simulations per move. */
  sims?: number;
  /** Search time limit per move in milliseconds (MCTS, AlphaZero). */
  moveTimeMs?: number;
  /** GnuGo level when the spec is plain `gnugo` (default 1). */
  level?: number;
  /** MCTS: worker threads searching in parallel (root parallelisation; default 1, the calling thread); other players ignore it. */
  threads?: number;
}

export const PLAYER_KINDS = ['random', 'mcts', 'gnugo', 'gnugo:<level>', 'alphazero:<runDir>', '<runDir of lab go train>'] as const;

/**
 * Builds a player from a CLI spec: `random`, `mcts`, `gnugo`, `gnugo:<level>`, or an AlphaZero agent as
 * `alphazero:<dir>` or just `<dir>` (a run directory of `lab go train`, its `agent/` or a checkpoint).
 * With `moveTimeMs` and no `sims`, MCTS and AlphaZero search until the time is up.
 */
export async function makePlayer(spec: string, options: PlayerSpecOptions = {}): Promise<GoPlayer> {
  const seed = options.seed ?? 0;
  if (options.moveTimeMs !== undefined && !(options.moveTimeMs > 0)) throw new Error(`move time must be positive, got ${options.moveTimeMs} ms`);
  const timed = options.moveTimeMs !== undefined ? { timeLimitMs: options.moveTimeMs } : {};
  // A time limit alone means "search until the time is up".
  const sims = options.sims ?? (options.moveTimeMs !== undefined ? 10_000_000 : undefined);
  if (spec === 'random') {
    return new RandomPlayer({ seed });
  }
  const threads = options.threads ?? 1;
  if (!Number.isInteger(threads) || threads < 1 || threads > 64) throw new Error(`threads must be an integer from 1 to 64, got ${options.threads}`);
  if (spec === 'mcts') {
    const timeName = options.sims === undefined && options.moveTimeMs !== undefined ? `mcts-${options.moveTimeMs / 1000}s` : null;
    if (threads > 1) {
      return ParallelMctsPlayer.create({ threads, seed, ...timed, ...(sims !== undefined ? { simulations: sims } : {}), name: `${timeName ?? `mcts-${sims ?? 1000}`}-t${threads}` });
    }
    const player: GoPlayer = new MctsPlayer({ seed, ...timed, ...(sims !== undefined ? { simulations: sims } : {}) });
    return timeName ? renamed(player, timeName) : player;
  }
  const az = /^alphazero:(.+)$/.exec(spec);
  // A path (it has a separator, or names an existing directory) is an AlphaZero agent.
  if (az || (!/^gnugo(:\d+)?$/.test(spec) && (/[\\/]/.test(spec) || (fs.existsSync(spec) && fs.statSync(spec).isDirectory())))) {
    const dir = az ? az[1]! : spec;
    const base = `alphazero:${path.basename(path.resolve(dir))}`;
    const name = options.sims === undefined && options.moveTimeMs !== undefined ? `${base}-${options.moveTimeMs / 1000}s` : `${base}-${sims ?? 400}`;
    return AlphaZeroPlayer.load(dir, { name, ...timed, ...(sims !== undefined ? { simulations: sims } : {}) });
  }
  const g = /^gnugo(?::(\d+))?$/.exec(spec);
  if (g) {
    const level = g[1] !== undefined ? Number(g[1]) : (options.level ?? 1);
    if (!gnugoAvailable()) throw new Error(`player '${spec}': ${GNUGO_PATH} not found (install GNU Go: apt-get install gnugo)`);
    return new GnuGoPlayer({ level, seed });
  }
  throw new Error(`unknown player '${spec}' (expected one of ${PLAYER_KINDS.join(', ')})`);
}

function renamed(player: GoPlayer, name: string): GoPlayer {
  return { name, genmove: (board) => player.genmove(board), close: () => player.close?.() };
}


/**
 * A Go player: anything that can choose a move for the side to play on a board — random play, MCTS, a trained
 * network, or GnuGo over GTP. The match runner and the GTP engine talk to players only through this.
 */
import type { GoBoard } from '../../envs/index.js';

export interface GoPlayer {
  /** Short name for tables and SGF (e.g. "mcts-800", "gnugo-10"). */
  readonly name: string;
  /**
   * A move for `board.toPlay` on `board` (which the player must not modify): a point index
   * (`row · N + col`) or `board.passMove`. Players that keep their own copy of the game (GnuGo over GTP)
   * catch up from `board.moves`, the full move list since the empty board.
   */
  genmove(board: GoBoard): number | Promise<number>;
  /** Releases what the player holds (a child process, networks). */
  close?(): void | Promise<void>;
}

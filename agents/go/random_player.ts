/**
 * A uniformly random Go player: any legal point, passing only when nothing else is legal (the same rule as
 * the env's `randomOpponent`), drawn from its own seeded Rng so matches are reproducible.
 */
import type { GoBoard } from '../../envs/go/board.js';
import { randomOpponent } from '../../envs/go/go_env.js';
import { Rng } from '../../envs/utils/seeding.js';
import type { GoPlayer } from './player.js';

export class RandomPlayer implements GoPlayer {
  readonly name: string;
  private readonly rng: Rng;

  constructor(options: { seed?: number; name?: string } = {}) {
    this.rng = new Rng(options.seed ?? 0);
    this.name = options.name ?? 'random';
  }

  genmove(board: GoBoard): number {
    return randomOpponent(board, this.rng);
  }
}

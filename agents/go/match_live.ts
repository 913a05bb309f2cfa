/**
 * `lab match … --live`: a Go match shown in the viewer like a training run: each game is an episode, each move
 * a step whose frame is the board, and an episode's return is player A's result (+1 win, 0 draw, −1 loss).
 */
import { LivePublisher } from '../../lab/publisher.js';
import { goFrame } from '../../envs/go/go_env.js';
import { defaultKomi, type GoBoard } from '../../envs/go/board.js';
import type { GameResult } from './match.js';
import { runStamp } from '../../lab/run_store.js';

export class MatchPublisher {
  private readonly publisher: LivePublisher;
  private steps = 0;
  private readonly started = performance.now();
  readonly runId: string;

  constructor(url: string, a: string, b: string, opts: { games: number; size: number; komi?: number; seed: number; sgf?: string; token?: string }, onNotice: (m: string) => void) {
    this.publisher = new LivePublisher({ url, onNotice, ...(opts.token ? { token: opts.token } : {}) });
    this.runId = `match-${a}-vs-${b}-${opts.size}x${opts.size}-${runStamp()}`.replace(/[^A-Za-z0-9._-]/g, '_');
    const komi = opts.komi ?? defaultKomi(opts.size);
    this.publisher.begin({
      runId: this.runId,
      kind: 'rl',
      envId: `GoLite-${opts.size}x${opts.size}-v0`,
      agent: `${a} vs ${b}`,
      preset: null,
      seed: opts.seed,
      steps: opts.games * 2 * opts.size * opts.size,
      episodes: opts.games,
      numEnvs: 1,
      backend: 'cpu',
      fps: 2,
      runDir: opts.sgf ?? '',
      startStep: 0,
      hyperparameters: { a, b, size: opts.size, komi, games: opts.games },
    });
  }

  move(board: GoBoard, game: number): void {
    this.steps++;
    if (!this.publisher.wantsSteps) return;
    this.publisher.handle({
      type: 'step',
      step: this.steps,
      episode: game + 1,
      episodeStep: board.moveNumber,
      action: board.lastMove,
      reward: 0,
      episodeReturn: 0,
      terminated: board.isOver,
      truncated: false,
      t: Date.now(),
      frame: goFrame(board, board.komi),
    });
  }

  game(g: GameResult): void {
    const ret = g.winner === 'A' ? 1 : g.winner === 'B' ? -1 : 0;
    this.publisher.handle({ type: 'episode', step: this.steps, episode: g.game + 1, envIndex: 0, return: ret, length: g.moves, terminated: true, truncated: false, time: (performance.now() - this.started) / 1000 });
  }

  end(status: 'done' | 'failed', error?: string): Promise<void> {
    return this.publisher.end(status, error);
  }
}

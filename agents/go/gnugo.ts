/**
 * GNU Go 3.8 as a GoPlayer, over GTP. GnuGo runs with the flags that match Go-lite's rules:
 * `--mode gtp --level L --seed S --chinese-rules --positional-superko --capture-all-dead --never-resign`
 * (area scoring, positional superko, dead stones captured before passing; see shared/notes/go-anchors.md §2).
 *
 * Before each `genmove` the player catches up from `board.moves`: if GnuGo's game is a prefix of the board's
 * game (same size and komi) it plays the missing moves; otherwise it sends boardsize/clear_board/komi and
 * replays the whole move list, so GnuGo's superko history matches ours. Boards built from a hand-set position
 * (`GoBoard.fromAscii`) have no move list and are refused. "PASS" and "resign" both become the pass move.
 * The program starts on the first `genmove`; `close()` ends it.
 */
import { existsSync } from 'node:fs';
import { BLACK, fromGtp, toGtp, type GoBoard } from '../../envs/go/board.js';
import { GtpClient } from './gtp_client.js';
import type { GoPlayer } from './player.js';

export const GNUGO_PATH = '/usr/games/gnugo';

export interface GnuGoOptions {
  /** Strength 0–10 (GnuGo's default is 10; level 1 answers in ~20 ms on 9x9). Default 1. */
  level?: number;
  /** GnuGo's random seed (default 0). */
  seed?: number;
  /** The binary (default /usr/games/gnugo, which is not on root's PATH on Debian). */
  path?: string;
  /** Time limit per GTP command in ms (default 60 000: level 10 can take seconds on 9x9). */
  timeoutMs?: number;
  /** Name for tables and SGF (default "gnugo-L"). */
  name?: string;
}

export function gnugoAvailable(path: string = GNUGO_PATH): boolean {
  return existsSync(path);
}

/**
 * Any GTP engine as a GoPlayer: started on the first `genmove`, kept in step with the board by replaying
 * `board.moves` (see the file comment). GnuGo is one; `lab gtp` (our own agents in a child process) another.
 */
export class GtpPlayer implements GoPlayer {
  private client: GtpClient | null = null;
  /** The engine's game: size, komi and moves played there. */
  private synced: { size: number; komi: number; moves: number[] } | null = null;

  constructor(
    readonly name: string,
    private readonly command: string,
    private readonly args: readonly string[],
    private readonly timeoutMs = 60_000,
    /** What to tell a user whose machine lacks the program. */
    private readonly installHint = '',
  ) {}

  /** The GTP connection (started on first use). */
  gtp(): GtpClient {
    if (this.client && !this.client.alive) {
      this.client = null;
      this.synced = null;
    }
    if (!this.client) {
      if (!existsSync(this.command)) throw new Error(`${this.name}: ${this.command} not found${this.installHint ? ` (${this.installHint})` : ''}`);
      this.client = new GtpClient(this.command, this.args, { timeoutMs: this.timeoutMs });
    }
    return this.client;
  }

  async genmove(board: GoBoard): Promise<number> {
    const gtp = this.gtp();
    const moves = board.moves;
    if (moves.length === 0 && (board.toPlay !== BLACK || board.cells.some((v) => v !== 0))) {
      throw new Error(`${this.name}: the board was set up by hand (no move list); a GTP engine can only follow games played from the empty board`);
    }
    const N = board.size;
    const s = this.synced;
    const isPrefix = s !== null && s.size === N && s.komi === board.komi && s.moves.length <= moves.length && s.moves.every((m, i) => moves[i] === m);
    let from = s !== null && isPrefix ? s.moves.length : 0;
    if (!isPrefix) {
      this.synced = null;
      await gtp.send(`boardsize ${N}`);
      await gtp.send('clear_board');
      await gtp.send(`komi ${board.komi}`);
      from = 0;
    }
    for (let i = from; i < moves.length; i++) await gtp.send(`play ${i % 2 === 0 ? 'B' : 'W'} ${toGtp(moves[i]!, N)}`);
    this.synced = { size: N, komi: board.komi, moves: [...moves] };
    const colour = moves.length % 2 === 0 ? 'B' : 'W';
    const reply = (await gtp.send(`genmove ${colour}`)).toLowerCase();
    const move = reply === 'pass' || reply === 'resign' ? board.passMove : fromGtp(reply, N);
    this.synced.moves.push(move);
    if (!board.isLegal(move)) {
      this.synced = null;
      throw new Error(`${this.name}: the engine chose ${reply.toUpperCase()}, which is illegal on our board`);
    }
    return move;
  }

  async close(): Promise<void> {
    const c = this.client;
    this.client = null;
    this.synced = null;
    if (c) await c.close();
  }
}

export class GnuGoPlayer extends GtpPlayer {
  readonly level: number;
  readonly seed: number;

  constructor(options: GnuGoOptions = {}) {
    const level = options.level ?? 1;
    if (!Number.isInteger(level) || level < 0 || level > 10) throw new Error(`GnuGoPlayer: level must be an integer from 0 to 10, got ${level}`);
    const seed = options.seed ?? 0;
    const path = options.path ?? GNUGO_PATH;
    super(
      options.name ?? `gnugo-${level}`,
      path,
      ['--mode', 'gtp', '--level', String(level), '--seed', String(seed), '--chinese-rules', '--positional-superko', '--capture-all-dead', '--never-resign'],
      options.timeoutMs ?? 60_000,
      'install GNU Go: apt-get install gnugo',
    );
    this.level = level;
    this.seed = seed;
  }
}

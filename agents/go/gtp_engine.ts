/**
 * A GTP v2 engine (Go Text Protocol, https://www.lysator.liu.se/~gunnar/gtp/) over a GoBoard and a GoPlayer,
 * so GoGui, Sabaki, twogtp or another program can play against any of our players.
 *
 *   const engine = new GtpEngine(new RandomPlayer({ seed: 1 }), { size: 7 });
 *   await engine.handle('1 genmove b');          // "=1 D4\n\n"
 *   await engine.serve(process.stdin, process.stdout);
 *
 * Commands: protocol_version, name, version, known_command, list_commands, boardsize (5–19), clear_board,
 * komi, play, genmove, undo, showboard, final_score (Tromp-Taylor area count of the board as it stands; dead
 * stones are never removed), quit.
 *
 * Framing: an optional numeric id is echoed ("=12 D4"); every response ends with a blank line; text after '#'
 * and blank lines are ignored (no response); control characters other than tab/newline are dropped and tabs
 * read as spaces. Errors are "? message" with the usual GTP texts: "unknown command", "unacceptable size",
 * "illegal move", "cannot undo", "syntax error", "invalid color or coordinate".
 *
 * Colours: the rules engine alternates strictly, so a `play`/`genmove` for the colour that is *not* to move
 * first plays a pass for the other side (unless that pass would end the game, in which case the command fails
 * with "illegal move"); `undo` takes back both. Once the game is over (two passes or the 2·N² move cap),
 * `play` of a stone is an illegal move and `genmove` answers "pass" without changing the board. The engine
 * never resigns.
 */
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { LAB_VERSION } from '../../lab/version.js';
import { BLACK, GoBoard, GoRuleError, WHITE, defaultKomi, fromGtp, toGtp, type Stone } from '../../envs/go/board.js';
import type { GoPlayer } from './player.js';


export interface GtpEngineOptions {
  /** Board size at the start (default 7). */
  size?: number;
  /** Komi at the start (default: the Go-lite default for the size). */
  komi?: number;
  /** Answer to `name` (default "rl-gan-lab <player name>"). */
  name?: string;
  /** Answer to `version` (default the package version). */
  version?: string;
}

/** A GTP failure: answered as "? message". */
export class GtpError extends Error {
  override name = 'GtpError';
}

export const GTP_COMMANDS = [
  'protocol_version',
  'name',
  'version',
  'known_command',
  'list_commands',
  'boardsize',
  'clear_board',
  'komi',
  'play',
  'genmove',
  'undo',
  'showboard',
  'final_score',
  'quit',
] as const;

/** Parses a GTP colour ("b", "B", "black", "w", "white"); null if it is not one. */
export function parseGtpColor(s: string | undefined): Stone | null {
  const v = (s ?? '').toLowerCase();
  if (v === 'b' || v === 'black') return BLACK;
  if (v === 'w' || v === 'white') return WHITE;
  return null;
}

/** Tromp-Taylor result in GTP/SGF form: "B+3.5", "W+9", "0". */
export function gtpScore(board: GoBoard): string {
  const m = board.score().margin;
  if (m === 0) return '0';
  return `${m > 0 ? 'B' : 'W'}+${Math.abs(m)}`;
}

export class GtpEngine {
  board: GoBoard;
  /** True once `quit` was answered. */
  quitRequested = false;
  private readonly player: GoPlayer;
  private readonly engineName: string;
  private readonly engineVersion: string;
  private komi: number;
  /** Board moves added by each accepted play/genmove (1, or 2 with an inserted pass), for `undo`. */
  private readonly steps: number[] = [];

  constructor(player: GoPlayer, options: GtpEngineOptions = {}) {
    this.player = player;
    const size = options.size ?? 7;
    if (!Number.isInteger(size) || size < 5 || size > 19) throw new GtpError(`GtpEngine: size must be an integer from 5 to 19, got ${size}`);
    this.komi = options.komi ?? defaultKomi(size);
    this.board = new GoBoard(size, this.komi);
    this.engineName = options.name ?? `rl-gan-lab ${player.name}`;
    this.engineVersion = options.version ?? LAB_VERSION;
  }

  /**
   * Answers one line of GTP input: the full response ("=id text\n\n" or "?id message\n\n"), or '' for a blank
   * or comment line. Only `genmove` may return a promise.
   */
  handle(line: string): string | Promise<string> {
    const clean = line.replace(/#.*$/s, '').replace(/\t/g, ' ').replace(/[\x00-\x08\x0b-\x1f\x7f]/g, '').trim();
    if (!clean) return '';
    const m = /^(\d+)\s*(.*)$/s.exec(clean);
    const id = m ? m[1]! : '';
    const words = (m ? m[2]! : clean).split(/\s+/).filter((w) => w.length > 0);
    const command = words[0] ?? '';
    const args = words.slice(1);
    const ok = (body: string): string => `=${id}${body ? ` ${body}` : ''}\n\n`;
    const fail = (e: unknown): string => {
      if (e instanceof GtpError) return `?${id} ${e.message}\n\n`;
      return `?${id} internal error: ${e instanceof Error ? e.message : String(e)}\n\n`;
    };
    try {
      const out = this.run(command, args);
      if (typeof out === 'string') return ok(out);
      return out.then(ok, fail);
    } catch (e) {
      return fail(e);
    }
  }

  /** Reads GTP commands line by line from `input` and writes the responses to `output` until `quit` or EOF. */
  async serve(input: Readable, output: Writable): Promise<void> {
    const rl = createInterface({ input, crlfDelay: Infinity, terminal: false });
    try {
      for await (const line of rl) {
        const response = await this.handle(line);
        if (response) output.write(response);
        if (this.quitRequested) break;
      }
    } finally {
      rl.close();
    }
  }

  private run(command: string, args: string[]): string | Promise<string> {
    switch (command) {
      case 'protocol_version':
        return '2';
      case 'name':
        return this.engineName;
      case 'version':
        return this.engineVersion;
      case 'known_command':
        return (GTP_COMMANDS as readonly string[]).includes(args[0] ?? '') ? 'true' : 'false';
      case 'list_commands':
        return GTP_COMMANDS.join('\n');
      case 'boardsize': {
        const n = Number(args[0]);
        if (args.length < 1 || !Number.isInteger(n)) throw new GtpError('syntax error');
        if (n < 5 || n > 19) throw new GtpError('unacceptable size');
        this.reset(n);
        return '';
      }
      case 'clear_board':
        this.reset(this.board.size);
        return '';
      case 'komi': {
        const k = Number(args[0]);
        if (args.length < 1 || !Number.isFinite(k)) throw new GtpError('syntax error');
        this.komi = k;
        this.board = GoBoard.fromMoves(this.board.size, k, this.board.moves);
        return '';
      }
      case 'play':
        return this.play(args);
      case 'genmove':
        return this.genmove(args);
      case 'undo': {
        const n = this.steps.pop();
        if (n === undefined) throw new GtpError('cannot undo');
        const moves = this.board.moves;
        this.board = GoBoard.fromMoves(this.board.size, this.komi, moves.slice(0, moves.length - n));
        return '';
      }
      case 'showboard': {
        const b = this.board;
        const toMove = b.toPlay === BLACK ? 'black' : 'white';
        const status = b.isOver ? 'game over' : `${toMove} to play`;
        return `\n${b.toString()}\nmove ${b.moveNumber}, ${status}, komi ${b.komi}, captures B ${b.capturesBy.black} W ${b.capturesBy.white}`;
      }
      case 'final_score':
        return gtpScore(this.board);
      case 'quit':
        this.quitRequested = true;
        return '';
      default:
        throw new GtpError('unknown command');
    }
  }

  private reset(size: number): void {
    if (size !== this.board.size && this.komi === defaultKomi(this.board.size)) this.komi = defaultKomi(size);
    this.board = new GoBoard(size, this.komi);
    this.steps.length = 0;
  }

  /** Makes `color` the side to play, inserting a pass for the other side when needed; returns the passes inserted. */
  private align(color: Stone): number {
    if (this.board.toPlay === color) return 0;
    if (this.board.isOver || this.board.consecutivePasses >= 1 || this.board.moveNumber + 1 >= this.board.maxMoves) throw new GtpError('illegal move');
    this.board.play(this.board.passMove);
    return 1;
  }

  private play(args: string[]): string {
    const color = parseGtpColor(args[0]);
    if (args.length < 2 || color === null) throw new GtpError('invalid color or coordinate');
    let move: number;
    try {
      move = fromGtp(args[1]!, this.board.size);
    } catch {
      throw new GtpError('invalid color or coordinate');
    }
    const before = this.board.moves;
    const inserted = this.align(color);
    try {
      this.board.play(move);
    } catch (e) {
      if (inserted) this.board = GoBoard.fromMoves(this.board.size, this.komi, before);
      if (e instanceof GoRuleError) throw new GtpError('illegal move');
      throw e;
    }
    this.steps.push(inserted + 1);
    return '';
  }

  private async genmove(args: string[]): Promise<string> {
    const color = parseGtpColor(args[0]);
    if (color === null) throw new GtpError('invalid color');
    if (this.board.isOver) return 'pass';
    const before = this.board.moves;
    let inserted: number;
    try {
      inserted = this.align(color);
    } catch {
      return 'pass'; // the inserted pass would end the game: a pass by `color` is all that is left
    }
    let move: number;
    try {
      move = await this.player.genmove(this.board.clone());
    } catch (e) {
      if (inserted) this.board = GoBoard.fromMoves(this.board.size, this.komi, before);
      throw new GtpError(`${this.player.name} failed: ${e instanceof Error ? e.message : String(e)}`);
    }
    if (!this.board.isLegal(move)) {
      if (inserted) this.board = GoBoard.fromMoves(this.board.size, this.komi, before);
      throw new GtpError(`${this.player.name} chose an illegal move (${toGtp(move, this.board.size)})`);
    }
    this.board.play(move);
    this.steps.push(inserted + 1);
    return toGtp(move, this.board.size);
  }
}

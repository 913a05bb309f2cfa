/**
 * Go games between a person in the viewer and an agent. The rules live here (GoBoard: legality, superko,
 * scoring); the agent is a GTP engine in its own process — `lab gtp --agent random|mcts|<AlphaZero run>` or
 * GNU Go — so a slow move never blocks the server's event loop.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Socket } from 'socket.io';
import { BLACK, GoBoard, defaultKomi, toGtp } from '../envs/go/board.js';
import { goFrame } from '../envs/go/go_env.js';
import { sgfResult, toSgf } from '../envs/go/sgf.js';
import { GnuGoPlayer, GtpPlayer } from '../agents/go/gnugo.js';
import type { GoPlayer } from '../agents/go/player.js';
import { ALPHAZERO_RUN_KIND, resolveAgentDir } from '../agents/go/alphazero.js';
import { RUN_ID_PATTERN, s, type GoAgentInfo, type GoGameState, type GoNewRequest, type ServerToViewer, type ViewerToServer } from '../protocol/protocol.js';

/** The fields of an AlphaZero agent.json the game list shows (the rest is the GTP engine's to check). */
const agentMetaSchema = s.object<{ size: number; komi: number; iteration: number }>(
  { size: s.int({ min: 5, max: 19 }), komi: s.number({ min: -400, max: 400 }), iteration: s.int({ min: 0 }) },
  { allowExtra: true },
);

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const LAB_BIN = fileURLToPath(new URL('../bin/lab.mjs', import.meta.url));
/** Games one viewer connection may have open, and the server in all. */
const MAX_GAMES_PER_VIEWER = 3;
const MAX_GAMES = 16;

type ViewerSocket = Socket<ViewerToServer, ServerToViewer>;

interface Game {
  id: string;
  owner: ViewerSocket;
  board: GoBoard;
  human: number;
  opponent: GoPlayer;
  thinking: boolean;
  /** "B+R" / "W+R" after a resignation. */
  resigned: string | null;
  error: string | null;
}

export class GoGames {
  private readonly games = new Map<string, Game>();

  constructor(private readonly runsDir: string = 'runs') {}

  /** AlphaZero-lite runs with a playable agent (final or latest checkpoint), newest first. */
  agents(): GoAgentInfo[] {
    let names: string[];
    try {
      names = fs.readdirSync(this.runsDir);
    } catch {
      return [];
    }
    const out: (GoAgentInfo & { mtime: number })[] = [];
    for (const runId of names) {
      if (!RUN_ID_PATTERN.test(runId)) continue;
      const dir = path.join(this.runsDir, runId);
      try {
        const config = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8')) as unknown;
        if (!isRecord(config) || !Object.hasOwn(config, 'kind') || config.kind !== ALPHAZERO_RUN_KIND) continue;
        const agentDir = resolveAgentDir(dir);
        // The agent must lie inside its run (a checkpoint pointer could name a directory elsewhere).
        const rel = path.relative(fs.realpathSync(dir), fs.realpathSync(agentDir));
        if (rel.startsWith('..') || path.isAbsolute(rel)) continue;
        const meta = agentMetaSchema(JSON.parse(fs.readFileSync(path.join(agentDir, 'agent.json'), 'utf8')), 'agent.json');
        out.push({ runId, size: meta.size, komi: meta.komi, iteration: meta.iteration, mtime: fs.statSync(path.join(agentDir, 'agent.json')).mtimeMs });
      } catch {
        // not an AlphaZero run, one without an agent yet, or one whose agent.json is damaged
      }
    }
    out.sort((a, b) => b.mtime - a.mtime);
    return out.map(({ mtime: _m, ...a }) => a);
  }

  /** Builds the agent: a GTP engine process (started on its first move). */
  private opponent(req: GoNewRequest, seed: number): GoPlayer {
    if (req.opponent === 'gnugo') return new GnuGoPlayer({ level: req.level ?? 5, seed });
    if (req.opponent === 'alphazero') {
      const agent = req.agent;
      if (!agent) throw new Error('choose a trained AlphaZero agent (agent: its run id); train one with lab go train');
      const info = this.agents().find((a) => a.runId === agent);
      if (!info) throw new Error(`no AlphaZero agent '${agent}' in ${this.runsDir} (train one with lab go train)`);
      if (info.size !== req.size) throw new Error(`agent '${agent}' plays ${info.size}×${info.size}, not ${req.size}×${req.size}`);
      const sims = req.sims ?? 400;
      const args = [LAB_BIN, 'gtp', '--agent', path.join(this.runsDir, agent), '--size', String(req.size), '--seed', String(seed), '--sims', String(sims)];
      return new GtpPlayer(`AlphaZero ${agent} · ${sims} sims`, process.execPath, args, 120_000);
    }
    const args = [LAB_BIN, 'gtp', '--agent', req.opponent, '--size', String(req.size), '--seed', String(seed)];
    if (req.opponent === 'mcts') args.push('--sims', String(req.sims ?? 2000));
    const name = req.opponent === 'mcts' ? `mcts-${req.sims ?? 2000}` : 'random';
    return new GtpPlayer(name, process.execPath, args, 120_000);
  }

  create(owner: ViewerSocket, req: GoNewRequest): GoGameState {
    const mine = [...this.games.values()].filter((g) => g.owner.id === owner.id).length;
    if (mine >= MAX_GAMES_PER_VIEWER) throw new Error(`you have ${mine} games open; close one first`);
    if (this.games.size >= MAX_GAMES) throw new Error('the server has too many Go games open; try again later');
    const board = new GoBoard(req.size, req.komi ?? defaultKomi(req.size));
    const game: Game = {
      id: randomUUID(),
      owner,
      board,
      human: req.humanColor === 'black' ? BLACK : 3 - BLACK,
      opponent: this.opponent(req, Math.floor(Math.random() * 1e9)),
      thinking: false,
      resigned: null,
      error: null,
    };
    this.games.set(game.id, game);
    if (board.toPlay !== game.human) this.agentMove(game);
    return this.state(game);
  }

  private own(owner: ViewerSocket, gameId: string): Game {
    const game = this.games.get(gameId);
    if (!game || game.owner.id !== owner.id) throw new Error(`no game ${JSON.stringify(gameId.slice(0, 100))}`);
    return game;
  }

  play(owner: ViewerSocket, gameId: string, move: number): GoGameState {
    const game = this.own(owner, gameId);
    const b = game.board;
    if (this.over(game)) throw new Error('the game is over');
    if (game.thinking || b.toPlay !== game.human) throw new Error('it is not your turn');
    if (move > b.passMove) throw new Error(`move ${move} is off the ${b.size}x${b.size} board (0–${b.passMove - 1}, ${b.passMove} to pass)`);
    const why = b.illegalReason(move);
    if (why) throw new Error(`${toGtp(move, b.size)} is illegal: ${why}`);
    b.play(move);
    if (!b.isOver) this.agentMove(game);
    return this.state(game);
  }

  resign(owner: ViewerSocket, gameId: string): GoGameState {
    const game = this.own(owner, gameId);
    if (this.over(game)) throw new Error('the game is over');
    game.resigned = game.human === BLACK ? 'W+R' : 'B+R';
    return this.state(game);
  }

  close(owner: ViewerSocket, gameId: string): void {
    const game = this.own(owner, gameId);
    this.games.delete(game.id);
    void game.opponent.close?.();
  }

  /** A viewer left: its games end and their engines stop. */
  dropOwner(owner: ViewerSocket): void {
    for (const game of [...this.games.values()]) if (game.owner.id === owner.id) this.close(owner, game.id);
  }

  async closeAll(): Promise<void> {
    const all = [...this.games.values()];
    this.games.clear();
    await Promise.all(all.map((g) => g.opponent.close?.()));
  }

  private over(game: Game): boolean {
    return game.resigned !== null || game.board.isOver || game.error !== null;
  }

  private agentMove(game: Game): void {
    game.thinking = true;
    const board = game.board;
    void (async () => {
      try {
        const move = await game.opponent.genmove(board.clone());
        if (!this.games.has(game.id) || game.resigned) return;
        board.play(move);
      } catch (e) {
        game.error = `${game.opponent.name} failed: ${e instanceof Error ? e.message : String(e)}`;
      } finally {
        game.thinking = false;
      }
      if (this.games.has(game.id)) game.owner.emit('go:state', { game: this.state(game) });
    })();
  }

  state(game: Game): GoGameState {
    const b = game.board;
    const over = this.over(game);
    const humanToMove = !over && !game.thinking && b.toPlay === game.human;
    const legal: number[] = [];
    if (humanToMove) for (let m = 0; m <= b.passMove; m++) if (b.isLegal(m)) legal.push(m);
    const finished = b.isOver && !game.resigned;
    const score = finished ? b.score() : null;
    return {
      gameId: game.id,
      size: b.size,
      komi: b.komi,
      opponent: game.opponent.name,
      humanColor: game.human === BLACK ? 'black' : 'white',
      frame: goFrame(b, b.komi),
      moves: b.moveNumber,
      thinking: game.thinking,
      legal,
      over,
      result: game.resigned ?? (b.isOver ? sgfResult(b) : null),
      score: score ? { black: score.black, white: score.white, komi: score.komi, margin: score.margin } : null,
      sgf: over && !game.error ? (game.resigned ? toSgf(b).replace('RU[Chinese]', `RU[Chinese]RE[${game.resigned}]`) : toSgf(b)) : null,
      error: game.error,
    };
  }
}

/**
 * A person plays Go against an agent through the server's /live socket: the server keeps the rules (legal
 * moves, superko, scoring) and asks a GTP engine process (`lab gtp`, GNU Go) for the agent's moves.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { io, type Socket } from 'socket.io-client';
import { startLabServer, type LabServer } from '../server/app.js';
import { LIVE_NAMESPACE, type GoGameState } from '../protocol/protocol.js';
import { GNUGO_PATH } from '../agents/go/gnugo.js';
import { fromSgf } from '../envs/go/sgf.js';

let server: LabServer;
let runsDir: string;
const sockets: Socket[] = [];

beforeAll(async () => {
  runsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lab-go-play-'));
  server = await startLabServer({ port: 0, runsDir });
});
afterAll(async () => {
  for (const s of sockets) s.disconnect();
  await server.close();
  fs.rmSync(runsDir, { recursive: true, force: true });
});

async function viewer(): Promise<Socket> {
  const s = io(server.url + LIVE_NAMESPACE, { transports: ['websocket'], forceNew: true, auth: { token: server.token } });
  sockets.push(s);
  await new Promise<void>((resolve) => s.once('connect', () => resolve()));
  return s;
}

/** Resolves with the next go:state pushed for `gameId` (the agent's reply). */
function nextState(s: Socket, gameId: string, timeoutMs = 60_000): Promise<GoGameState> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('no go:state')), timeoutMs);
    const on = ({ game }: { game: GoGameState }) => {
      if (game.gameId !== gameId) return;
      clearTimeout(t);
      s.off('go:state', on);
      resolve(game);
    };
    s.on('go:state', on);
  });
}

const stones = (g: GoGameState) => [...g.frame.board].filter((c) => c !== '.').length;

describe('playing Go against an agent in the viewer', () => {
  it('plays a whole game against the random agent to the end, scored', async () => {
    const s = await viewer();
    const created = await s.emitWithAck('go:new', { size: 5, opponent: 'random', humanColor: 'black' });
    expect(created.ok).toBe(true);
    let game: GoGameState = created.game;
    expect(game).toMatchObject({ size: 5, komi: 24, humanColor: 'black', moves: 0, thinking: false, over: false, opponent: 'random' });
    expect(game.legal).toEqual(Array.from({ length: 26 }, (_, i) => i)); // 25 points and the pass
    expect(game.frame.board).toBe('.'.repeat(25));

    let first = true;
    while (!game.over) {
      // Prefer points over passing, so the game runs to the move cap or two passes.
      const points = game.legal.filter((m) => m < 25);
      const move = first ? 12 : points.length ? points[(game.moves * 7) % points.length]! : 25;
      const waitAgent = nextState(s, game.gameId);
      const played = await s.emitWithAck('go:play', { gameId: game.gameId, move });
      expect(played.ok, played.error).toBe(true);
      if (first) {
        expect(played.game.frame.board[12]).toBe('X');
        expect(played.game.frame.lastMove).toEqual([2, 2]);
        first = false;
      }
      if (played.game.over) {
        game = played.game;
        break;
      }
      expect(played.game.thinking).toBe(true);
      expect(played.game.legal).toEqual([]);
      game = await waitAgent;
      expect(game.thinking).toBe(false);
      expect(game.moves).toBe(played.game.moves + 1);
    }
    expect(game.moves).toBeLessThanOrEqual(50); // the 2·N² move cap
    expect(game.result).toMatch(/^(B\+\d+(\.\d+)?|W\+\d+(\.\d+)?|0)$/);
    expect(game.score!.margin).toBe(game.score!.black - game.score!.white - 24);
    expect(game.legal).toEqual([]);
    // The SGF replays to the same final position.
    const { board, result } = fromSgf(game.sgf!);
    expect(result).toBe(game.result);
    let text = '';
    for (let i = 0; i < 25; i++) text += '.XO'[board.cells[i]!];
    expect(text).toBe(game.frame.board);
    expect(stones(game)).toBeGreaterThan(0);
    expect((await s.emitWithAck('go:play', { gameId: game.gameId, move: 0 })).error).toMatch(/the game is over/);
    expect((await s.emitWithAck('go:close', { gameId: game.gameId })).ok).toBe(true);
  }, 120_000);

  it('refuses illegal moves, moves out of turn, other viewers and bad payloads with a reason', async () => {
    const s = await viewer();
    const other = await viewer();
    const { game } = await s.emitWithAck('go:new', { size: 5, opponent: 'random', humanColor: 'black' });
    const agent = nextState(s, game.gameId);
    await s.emitWithAck('go:play', { gameId: game.gameId, move: 6 });
    expect((await s.emitWithAck('go:play', { gameId: game.gameId, move: 7 })).error).toMatch(/not your turn/);
    const after = await agent;
    expect((await s.emitWithAck('go:play', { gameId: game.gameId, move: 6 })).error).toBe('go:play: B4 is illegal: occupied');
    expect(after.legal).not.toContain(6);
    expect((await other.emitWithAck('go:play', { gameId: game.gameId, move: 0 })).error).toMatch(/no game/);
    expect((await s.emitWithAck('go:new', { size: 4, opponent: 'random', humanColor: 'black' })).error).toMatch(/size: expected an integer ≥ 5/);
    expect((await s.emitWithAck('go:new', { size: 7, opponent: 'alphago', humanColor: 'black' })).error).toMatch(/opponent: expected one of "random", "mcts", "alphazero", "gnugo"/);
    expect((await s.emitWithAck('go:play', { gameId: game.gameId, move: 400 })).error).toMatch(/move: expected an integer ≤ 361/);
    expect((await s.emitWithAck('go:play', { gameId: game.gameId, move: 26 })).error).toMatch(/off the 5x5 board/);
    // Resigning ends the game; the SGF records it.
    const resigned = await s.emitWithAck('go:resign', { gameId: game.gameId });
    expect(resigned.game).toMatchObject({ over: true, result: 'W+R', score: null });
    expect(resigned.game.sgf).toContain('RE[W+R]');
  }, 60_000);

  it('the MCTS agent opens when the person takes White', async () => {
    const s = await viewer();
    const created = await s.emitWithAck('go:new', { size: 5, opponent: 'mcts', sims: 200, humanColor: 'white' });
    expect(created.game).toMatchObject({ thinking: true, moves: 0, legal: [] });
    const after = await nextState(s, created.game.gameId);
    expect(after).toMatchObject({ moves: 1, thinking: false, opponent: 'mcts-200', error: null });
    expect(stones(after) + (after.frame.lastMove === 'pass' ? 1 : 0)).toBe(1);
    expect(after.legal.length).toBeGreaterThan(20);
  }, 60_000);

  it.skipIf(!fs.existsSync(GNUGO_PATH))('plays GNU Go over GTP', async () => {
    const s = await viewer();
    const { game } = await s.emitWithAck('go:new', { size: 7, opponent: 'gnugo', level: 1, humanColor: 'black' });
    expect(game.opponent).toBe('gnugo-1');
    const reply = nextState(s, game.gameId);
    await s.emitWithAck('go:play', { gameId: game.gameId, move: 24 });
    const after = await reply;
    expect(after.error).toBeNull();
    expect(after.moves).toBe(2);
    expect(stones(after)).toBe(after.frame.lastMove === 'pass' ? 1 : 2);
  }, 60_000);
});

describe('playing a trained AlphaZero agent', () => {
  it('lists the runs directory’s agents and plays one; names a missing or mis-sized agent', async () => {
    const { trainAlphaZero } = await import('../agents/go/alphazero.js');
    await trainAlphaZero({ hyperparameters: { size: 5, filters: [8], hidden: [16], simulations: 4, gamesPerIteration: 1, trainSteps: 1, batchSize: 8, bufferSize: 200, evalEvery: 0 }, seed: 1, iterations: 1, out: runsDir, runId: 'az5', backend: 'wasm' });
    fs.mkdirSync(path.join(runsDir, 'not-a-run'));
    const res = await fetch(`${server.url}/api/go/agents`);
    expect(await res.json()).toEqual([{ runId: 'az5', size: 5, komi: 24, iteration: 1 }]);

    const s = await viewer();
    const created = await s.emitWithAck('go:new', { size: 5, opponent: 'alphazero', humanColor: 'white', agent: 'az5', sims: 16 });
    expect(created.ok, created.error).toBe(true);
    expect(created.game.opponent).toBe('AlphaZero az5 · 16 sims');
    const opened = created.game.moves === 1 ? created.game : await nextState(s, created.game.gameId);
    expect(opened.moves).toBe(1);
    expect(stones(opened) + (opened.frame.lastMove === 'pass' ? 1 : 0)).toBe(1);
    await s.emitWithAck('go:close', { gameId: created.game.gameId });

    const missing = await s.emitWithAck('go:new', { size: 5, opponent: 'alphazero', humanColor: 'black', agent: 'nope' });
    expect(missing).toEqual({ ok: false, error: expect.stringMatching(/no AlphaZero agent 'nope'/) });
    const wrongSize = await s.emitWithAck('go:new', { size: 7, opponent: 'alphazero', humanColor: 'black', agent: 'az5' });
    expect(wrongSize).toEqual({ ok: false, error: expect.stringMatching(/plays 5×5, not 7×7/) });
    const noAgent = await s.emitWithAck('go:new', { size: 5, opponent: 'alphazero', humanColor: 'black' });
    expect(noAgent).toEqual({ ok: false, error: expect.stringMatching(/choose a trained AlphaZero agent/) });
    const badId = await s.emitWithAck('go:new', { size: 5, opponent: 'alphazero', humanColor: 'black', agent: '../x' });
    expect(badId.ok).toBe(false);
    expect(badId.error).toMatch(/agent/);
  }, 60_000);
});

/**
 * GTP: a scripted session against GtpEngine (ids, framing, every command, illegal play, undo, showboard,
 * final_score on a known position), GtpClient framing and failure modes, `lab gtp` end to end, and — when
 * /usr/games/gnugo is installed — GtpClient and GnuGoPlayer talking to GNU Go 3.8.
 */
import { existsSync } from 'node:fs';
import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { GoBoard, fromGtp } from '../envs/go/board.js';
import { GtpEngine, GTP_COMMANDS } from '../agents/go/gtp_engine.js';
import { GtpClient, GtpClientError, GtpCommandError } from '../agents/go/gtp_client.js';
import { GnuGoPlayer, GNUGO_PATH } from '../agents/go/gnugo.js';
import { RandomPlayer } from '../agents/go/random_player.js';

const haveGnugo = existsSync(GNUGO_PATH);
if (!haveGnugo) console.warn(`go_gtp.test.ts: GnuGo tests skipped, ${GNUGO_PATH} is not installed (apt-get install gnugo)`);

const ok = (body = '', id = ''): string => `=${id}${body ? ` ${body}` : ''}\n\n`;
const err = (msg: string, id = ''): string => `?${id} ${msg}\n\n`;

describe('GtpEngine', () => {
  it('answers a scripted session with ids, comments and every command', async () => {
    const e = new GtpEngine(new RandomPlayer({ seed: 3 }), { size: 7 });
    expect(await e.handle('1 protocol_version')).toBe(ok('2', '1'));
    expect(await e.handle('name')).toBe(ok('rl-gan-lab random'));
    expect(await e.handle('version')).toMatch(/^= \d+\.\d+\.\d+\n\n$/);
    expect(await e.handle('')).toBe('');
    expect(await e.handle('   # just a comment')).toBe('');
    expect(await e.handle('2 known_command genmove # trailing comment')).toBe(ok('true', '2'));
    expect(await e.handle('known_command kgs-genmove_cleanup')).toBe(ok('false'));
    const list = await e.handle('3 list_commands');
    expect(list.startsWith('=3 ')).toBe(true);
    expect(list.endsWith('\n\n')).toBe(true);
    expect(list.slice(3).trim().split('\n')).toEqual([...GTP_COMMANDS]);
    expect(await e.handle('4 boardsize 4')).toBe(err('unacceptable size', '4'));
    expect(await e.handle('boardsize 20')).toBe(err('unacceptable size'));
    expect(await e.handle('boardsize seven')).toBe(err('syntax error'));
    expect(await e.handle('5 boardsize 5')).toBe(ok('', '5'));
    expect(e.board.size).toBe(5);
    expect(await e.handle('clear_board')).toBe(ok());
    expect(await e.handle('komi 6.5')).toBe(ok());
    expect(e.board.komi).toBe(6.5);
    expect(await e.handle('komi lots')).toBe(err('syntax error'));

    // play, an illegal play (occupied), a bad vertex, then genmove and undo.
    expect(await e.handle('6 play B c3')).toBe(ok('', '6'));
    expect(await e.handle('7 play W C3')).toBe(err('illegal move', '7'));
    expect(await e.handle('play W Z9')).toBe(err('invalid color or coordinate'));
    expect(await e.handle('play purple C2')).toBe(err('invalid color or coordinate'));
    const gen = await e.handle('8 genmove white');
    const m = /^=8 ([A-HJ-T]\d+|pass)\n\n$/.exec(gen);
    expect(m, gen).not.toBeNull();
    expect(e.board.moves).toEqual([fromGtp('C3', 5), fromGtp(m![1]!, 5)]);
    expect(await e.handle('9 undo')).toBe(ok('', '9'));
    expect(e.board.moves).toEqual([fromGtp('C3', 5)]);
    expect(await e.handle('undo')).toBe(ok());
    expect(await e.handle('10 undo')).toBe(err('cannot undo', '10'));
    // Two moves by the same colour: a pass is inserted for the other side, and undo takes both back.
    expect(await e.handle('play B A1')).toBe(ok());
    expect(await e.handle('play B B1')).toBe(ok());
    expect(e.board.moves).toEqual([fromGtp('A1', 5), 25, fromGtp('B1', 5)]);
    expect(await e.handle('undo')).toBe(ok());
    expect(e.board.moves).toEqual([fromGtp('A1', 5)]);

    // showboard: "= " then the board with coordinates on all sides and a status line.
    const board = await e.handle('11 showboard');
    const lines = board.replace(/\n\n$/, '').split('\n');
    expect(lines[0]).toBe('=11 ');
    expect(lines[1]).toBe('   A B C D E');
    expect(lines[7]).toBe('   A B C D E');
    expect(lines[6]).toBe(' 1 X . . . . 1');
    for (let r = 0; r < 5; r++) expect(lines[2 + r]).toMatch(new RegExp(`^ ${5 - r} [.XO]( [.XO]){4} ${5 - r}$`));
    expect(lines[8]).toMatch(/white to play/);
    expect(lines).toHaveLength(9);
    expect(board.slice(0, -2)).not.toContain('\n\n');

    expect(await e.handle('12 frobnicate now')).toBe(err('unknown command', '12'));
    expect(await e.handle('13 quit')).toBe(ok('', '13'));
    expect(e.quitRequested).toBe(true);
  });

  it('final_score is the Tromp-Taylor area count of a position set up with play', async () => {
    // Black wall on column C, white wall on column D: Black owns A–C (15), White D–E (10).
    const e = new GtpEngine(new RandomPlayer({ seed: 1 }), { size: 5 });
    for (let row = 1; row <= 5; row++) {
      expect(await e.handle(`play b C${row}`)).toBe(ok());
      expect(await e.handle(`play w D${row}`)).toBe(ok());
    }
    expect(await e.handle('komi 0.5')).toBe(ok());
    expect(await e.handle('1 final_score')).toBe(ok('B+4.5', '1'));
    expect(await e.handle('komi 5')).toBe(ok());
    expect(await e.handle('final_score')).toBe(ok('0'));
    expect(await e.handle('komi 9')).toBe(ok());
    expect(await e.handle('final_score')).toBe(ok('W+4'));
    expect(e.board.moves.length).toBe(10); // komi keeps the game
  });

  it('genmove plays a whole game out to two passes, never resigning', async () => {
    const e = new GtpEngine(new RandomPlayer({ seed: 5 }), { size: 5 });
    let colour = 'b';
    for (let i = 0; i < 200 && !e.board.isOver; i++) {
      const r = await e.handle(`genmove ${colour}`);
      expect(r).toMatch(/^= ([A-HJ-T]\d+|pass)\n\n$/);
      colour = colour === 'b' ? 'w' : 'b';
    }
    expect(e.board.isOver).toBe(true);
    expect(await e.handle('genmove b')).toBe(ok('pass'));
    expect(await e.handle('final_score')).toMatch(/^= (B\+|W\+|0)/);
  });

  it('serve() reads lines from a stream and stops at quit', async () => {
    const e = new GtpEngine(new RandomPlayer({ seed: 2 }), { size: 7 });
    const input = new PassThrough();
    const output = new PassThrough();
    let text = '';
    output.on('data', (c: Buffer) => (text += c.toString('utf8')));
    const done = e.serve(input, output);
    input.write('1 protocol_version\r\n\n# hi\n2 genmove b\n3 quit\n4 name\n');
    await done;
    expect(text).toMatch(/^=1 2\n\n=2 [A-HJ-T]\d+\n\n=3\n\n$/);
  });
});

describe('GtpClient', () => {
  const lab = fileURLToPath(new URL('../bin/lab.mjs', import.meta.url));

  it('drives `lab gtp` end to end', async () => {
    const c = new GtpClient(process.execPath, [lab, 'gtp', '--agent', 'random', '--size', '5', '--seed', '4'], { timeoutMs: 20_000 });
    try {
      expect(await c.send('protocol_version')).toBe('2');
      await c.send('boardsize 7');
      const v = await c.send('genmove b');
      expect(new GoBoard(7).isLegal(fromGtp(v, 7))).toBe(true);
      const shown = await c.send('showboard');
      expect(shown.split('\n')).toHaveLength(10);
      await expect(c.send('play b ' + v)).rejects.toThrow(GtpCommandError);
      await expect(c.send('play w ' + v)).rejects.toThrow(/illegal move/);
    } finally {
      await c.close();
    }
    expect(c.alive).toBe(false);
  });

  it('reports a program that dies, one that cannot start, and a timeout', async () => {
    const dies = new GtpClient(process.execPath, ['-e', 'process.stdin.once("data", () => { console.error("boom"); process.exit(3); })']);
    await expect(dies.send('protocol_version')).rejects.toThrow(/exited \(exit code 3\); stderr: boom/);
    await expect(dies.send('name')).rejects.toThrow(GtpClientError);
    const missing = new GtpClient('/nonexistent/gtp-program');
    await expect(missing.send('name')).rejects.toThrow(/could not be run/);
    const silent = new GtpClient(process.execPath, ['-e', 'process.stdin.resume()'], { timeoutMs: 300 });
    await expect(silent.send('name')).rejects.toThrow(/did not answer 'name' within 300 ms/);
    await silent.close();
  });
});

describe.skipIf(!haveGnugo)('GNU Go over GTP', () => {
  it('GtpClient: protocol_version, boardsize, a legal genmove, an error reply', async () => {
    const c = new GtpClient(GNUGO_PATH, ['--mode', 'gtp', '--level', '1', '--chinese-rules', '--positional-superko', '--capture-all-dead', '--never-resign']);
    try {
      expect(await c.send('protocol_version')).toBe('2');
      expect(await c.send('boardsize 7')).toBe('');
      await c.send('clear_board');
      await c.send('play B D4');
      const v = await c.send('genmove W');
      const board = new GoBoard(7);
      board.play(fromGtp('D4', 7));
      expect(board.isLegal(fromGtp(v, 7)), v).toBe(true);
      await expect(c.send('boardsize 1000')).rejects.toThrow(/unacceptable size/);
    } finally {
      await c.close();
    }
  });

  it('GnuGoPlayer catches up from board.moves and answers legal moves', async () => {
    const p = new GnuGoPlayer({ level: 1, seed: 1 });
    try {
      const board = new GoBoard(5, 0.5);
      const rnd = new RandomPlayer({ seed: 9 });
      for (let i = 0; i < 8; i++) board.play(i % 2 === 0 ? await p.genmove(board.clone()) : rnd.genmove(board));
      // A different game on the same player: it must resynchronise (clear_board + replay).
      const other = GoBoard.fromMoves(5, 0.5, [fromGtp('A1', 5), fromGtp('E5', 5)]);
      const m = await p.genmove(other);
      expect(other.isLegal(m)).toBe(true);
      expect(p.name).toBe('gnugo-1');
    } finally {
      await p.close();
    }
  });
});

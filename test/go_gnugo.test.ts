/**
 * Cross-check of the Go-lite rules engine against GNU Go (GTP) on random 5x5 and 7x7 games: after every move, our
 * stones must equal GnuGo's `list_stones`, and before every move our legal set must equal GnuGo's
 * `all_legal` (GnuGo started with --chinese-rules --positional-superko --capture-all-dead --never-resign).
 * Skipped when /usr/games/gnugo is not installed (`apt-get install gnugo`).
 */
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { GoBoard, colorName, toGtp } from '../envs/go/board.js';
import { randomOpponent } from '../envs/go/go_env.js';
import { Rng } from '../envs/utils/seeding.js';

const GNUGO = '/usr/games/gnugo';
const haveGnugo = existsSync(GNUGO);
if (!haveGnugo) console.warn(`go_gnugo.test.ts: skipped, ${GNUGO} is not installed (apt-get install gnugo)`);

const sortVertices = (s: string): string[] =>
  s
    .trim()
    .split(/\s+/)
    .filter((v) => v.length > 0)
    .sort();

describe.skipIf(!haveGnugo)('rules agree with GnuGo 3.8 (GTP)', () => {
  it.each([5, 7])('legal moves and stones match over random %i-line board games', (size) => {
    for (let seed = 1; seed <= 6; seed++) {
      // Our game first: random legal moves, with a pass now and then (uniform random otherwise hits the cap).
      const board = new GoBoard(size, 0.5);
      const rng = new Rng(seed);
      const legalSets: string[][] = [];
      const stones: { black: string[]; white: string[] }[] = [];
      const commands: string[] = [`boardsize ${size}`, 'clear_board', 'komi 0.5'];
      let id = 1;
      const ids: { legal: number; black: number; white: number; play: number }[] = [];
      while (!board.isOver) {
        const colour = colorName(board.toPlay);
        legalSets.push(board.legalMoves().slice(0, -1).map((m) => toGtp(m, size)).sort());
        const move = rng.random() < 0.03 ? board.passMove : randomOpponent(board, rng);
        board.play(move);
        const black: string[] = [];
        const white: string[] = [];
        board.cells.forEach((v, p) => (v === 1 ? black : v === 2 ? white : []).push(toGtp(p, size)));
        stones.push({ black: black.sort(), white: white.sort() });
        const entry = { legal: id, play: id + 1, black: id + 2, white: id + 3 };
        commands.push(`${id} all_legal ${colour}`, `${id + 1} play ${colour} ${toGtp(move, size)}`, `${id + 2} list_stones black`, `${id + 3} list_stones white`);
        id += 4;
        ids.push(entry);
      }
      commands.push('quit');
      const out = spawnSync(GNUGO, ['--mode', 'gtp', '--chinese-rules', '--positional-superko', '--capture-all-dead', '--never-resign'], {
        input: `${commands.join('\n')}\n`,
        encoding: 'utf8',
        timeout: 15_000,
      });
      expect(out.status).toBe(0);
      const answers = new Map<number, string>();
      let unnumbered = 0;
      for (const block of out.stdout.split(/\n\n+/)) {
        const m = /^([=?])(\d+)\s?([\s\S]*)$/.exec(block.trim());
        if (m) answers.set(Number(m[2]), `${m[1]}${m[3]}`);
        else if (block.trim()) unnumbered++;
      }
      expect(ids.length, `seed ${seed}: moves compared`).toBeGreaterThan(20);
      expect(answers.size).toBe(ids.length * 4);
      expect(unnumbered).toBe(4); // boardsize, clear_board, komi, quit
      ids.forEach((e, i) => {
        const where = `seed ${seed}, move ${i + 1}`;
        expect(answers.get(e.legal)?.[0], where).toBe('=');
        expect(sortVertices(answers.get(e.legal)!.slice(1)), `${where}: all_legal`).toEqual(legalSets[i]);
        expect(answers.get(e.play), `${where}: play accepted`).toBe('=');
        expect(sortVertices(answers.get(e.black)!.slice(1)), `${where}: black stones`).toEqual(stones[i]!.black);
        expect(sortVertices(answers.get(e.white)!.slice(1)), `${where}: white stones`).toEqual(stones[i]!.white);
      });
    }
  });
});

/**
 * Cross-check of the Go-lite rules engine against GNU Go 3.8 over GTP, with GnuGo started as
 * `--mode gtp --chinese-rules --positional-superko --capture-all-dead --never-resign`.
 *
 * (a) Rules: 200 random games on each of 5x5, 7x7 and 9x9 (uniformly random legal moves with a pass now and
 *     then, to two passes or the 2·N² cap, so simple kos and longer superko cycles come up). Before every
 *     move our legal set must equal GnuGo's `all_legal`; after it our stones must equal `list_stones`. All the
 *     games are played on our board first and sent as one batched GTP script per process (`clear_board`
 *     between games), several GnuGo processes running in parallel; the answers are checked afterwards.
 * (b) Scores: GnuGo (level 1) plays games against itself from a short random opening, genmove black / white
 *     alternately until two passes. With --capture-all-dead no dead stones remain, so GnuGo's `final_score`
 *     must equal our Tromp-Taylor result after replaying the game on a GoBoard. Games that reach our move cap
 *     2·N² before two passes are skipped (their dead stones may remain); their number is asserted small.
 *
 * Skipped when /usr/games/gnugo is not installed (`apt-get install gnugo`).
 */
import { existsSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { GoBoard, colorName, defaultKomi, fromGtp, toGtp } from '../envs/go/board.js';
import { randomOpponent } from '../envs/go/go_env.js';
import { Rng } from '../envs/utils/seeding.js';
import { GtpClient } from '../agents/go/gtp_client.js';

const GNUGO = '/usr/games/gnugo';
const FLAGS = ['--mode', 'gtp', '--chinese-rules', '--positional-superko', '--capture-all-dead', '--never-resign'];
const haveGnugo = existsSync(GNUGO);
if (!haveGnugo) console.warn(`go_gnugo.test.ts: skipped, ${GNUGO} is not installed (apt-get install gnugo)`);

const GAMES_PER_SIZE = 200;
/** GnuGo processes per board size for (a); the sizes also run side by side. */
const PROCESSES_PER_SIZE = 2;
const SCORE_GAMES_PER_SIZE = 10;

const sortVertices = (s: string): string[] =>
  s
    .trim()
    .split(/\s+/)
    .filter((v) => v.length > 0)
    .map((v) => v.toUpperCase())
    .sort();

/** Runs GnuGo on a whole GTP script; resolves with its exit status and stdout. */
function runScript(script: string, timeoutMs: number): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const proc = spawn(GNUGO, FLAGS, { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: string[] = [];
    let err = '';
    proc.stdout.setEncoding('utf8');
    proc.stderr.setEncoding('utf8');
    proc.stdout.on('data', (c: string) => out.push(c));
    proc.stderr.on('data', (c: string) => (err = (err + c).slice(-2000)));
    const timer = setTimeout(() => proc.kill('SIGKILL'), timeoutMs);
    proc.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    proc.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout: out.join(''), stderr: err });
    });
    proc.stdin.on('error', () => {
      // EPIPE if GnuGo died: reported through the exit status.
    });
    proc.stdin.end(script);
  });
}

/** Stones of each colour in GTP notation, sorted. */
function stonesOf(board: GoBoard): { black: string[]; white: string[] } {
  const black: string[] = [];
  const white: string[] = [];
  board.cells.forEach((v, p) => {
    if (v === 1) black.push(toGtp(p, board.size));
    else if (v === 2) white.push(toGtp(p, board.size));
  });
  return { black: black.sort(), white: white.sort() };
}

interface Check {
  where: string;
  /** What our engine says, in the form the GnuGo answer is normalised to. */
  expected: string[] | null;
}

interface RandomGames {
  /** One GTP script per process. */
  scripts: string[];
  /** Per process: the check for each command id (1-based; index id − 1). */
  checks: Check[][];
  moves: number;
  passes: number;
  /** Positions where some empty point is illegal because it would repeat the position just before the opponent's move. */
  simpleKo: number;
  /** Positions where some empty point is illegal because it would repeat an older position (a longer cycle). */
  longerCycle: number;
  endedByPasses: number;
}

/** Plays the random games on our board and builds the GTP scripts and the expected answers. */
function randomGames(size: number): RandomGames {
  const res: RandomGames = { scripts: [], checks: [], moves: 0, passes: 0, simpleKo: 0, longerCycle: 0, endedByPasses: 0 };
  const perProcess = Math.ceil(GAMES_PER_SIZE / PROCESSES_PER_SIZE);
  const board = new GoBoard(size, 0.5);
  for (let proc = 0; proc < PROCESSES_PER_SIZE; proc++) {
    const lines: string[] = [];
    const checks: Check[] = [];
    const cmd = (command: string, where: string, expected: string[] | null): void => {
      checks.push({ where, expected });
      lines.push(`${checks.length} ${command}`);
    };
    cmd(`boardsize ${size}`, 'boardsize', null);
    cmd('komi 0.5', 'komi', null);
    for (let g = proc * perProcess; g < Math.min(GAMES_PER_SIZE, (proc + 1) * perProcess); g++) {
      const seed = size * 100_000 + g;
      const rng = new Rng(seed);
      board.clear();
      cmd('clear_board', `${size}x${size} seed ${seed}: clear_board`, null);
      const history: string[] = [board.hash.join(',')];
      while (!board.isOver) {
        const colour = colorName(board.toPlay);
        const where = `${size}x${size} seed ${seed}, move ${board.moveNumber + 1} (${colour})`;
        const legal = board.legalMoves();
        cmd(`all_legal ${colour}`, `${where}: all_legal`, legal.slice(0, -1).map((m) => toGtp(m, size)).sort());
        // Which kind of repetition makes points illegal here?
        let ko = false;
        let cycle = false;
        for (let p = 0; p < board.area; p++) {
          if (board.illegalReason(p) !== 'superko') continue;
          const after = board.clone();
          after.playUnchecked(p);
          const at = history.lastIndexOf(after.hash.join(','));
          if (at === history.length - 2) ko = true;
          else cycle = true;
        }
        if (ko) res.simpleKo++;
        if (cycle) res.longerCycle++;
        const move = rng.random() < 0.03 ? board.passMove : randomOpponent(board, rng);
        board.play(move);
        history.push(board.hash.join(','));
        res.moves++;
        if (move === board.passMove) res.passes++;
        cmd(`play ${colour} ${toGtp(move, size)}`, `${where}: play ${toGtp(move, size)}`, []);
        const stones = stonesOf(board);
        cmd('list_stones black', `${where}: black stones`, stones.black);
        cmd('list_stones white', `${where}: white stones`, stones.white);
      }
      if (board.consecutivePasses >= 2) res.endedByPasses++;
    }
    lines.push(`${checks.length + 1} quit`);
    res.scripts.push(`${lines.join('\n')}\n`);
    res.checks.push(checks);
  }
  return res;
}

/** Compares GnuGo's answers with the checks; returns at most `limit` descriptions of the differences. */
function compare(stdout: string, checks: Check[], limit = 10): string[] {
  const bad: string[] = [];
  const seen = new Uint8Array(checks.length + 1);
  for (const block of stdout.replace(/\r/g, '').split(/\n\n+/)) {
    const text = block.trim();
    if (!text) continue;
    const m = /^([=?])(\d+)(?:\s+([\s\S]*))?$/.exec(text);
    if (!m) {
      if (bad.length < limit) bad.push(`unnumbered answer ${JSON.stringify(text.slice(0, 80))}`);
      continue;
    }
    const id = Number(m[2]);
    if (id === checks.length + 1) continue; // quit
    const check = checks[id - 1];
    if (!check) {
      if (bad.length < limit) bad.push(`answer to unknown id ${id}`);
      continue;
    }
    seen[id] = 1;
    if (m[1] !== '=') {
      if (bad.length < limit) bad.push(`${check.where}: GnuGo answered '? ${m[3] ?? ''}'`);
      continue;
    }
    if (check.expected === null) continue;
    const got = sortVertices(m[3] ?? '');
    if (got.length !== check.expected.length || got.some((v, i) => v !== check.expected![i])) {
      if (bad.length < limit) bad.push(`${check.where}: GnuGo [${got.join(' ')}], ours [${check.expected.join(' ')}]`);
    }
  }
  const missing = checks.length - seen.reduce((a, b) => a + b, 0);
  if (missing > 0) bad.push(`${missing} of ${checks.length} commands got no answer`);
  return bad;
}

/** GnuGo's result string for a margin (black − white − komi): "B+4.5", "W+12.0", "0" for a draw. */
function resultString(margin: number): string {
  return margin > 0 ? `B+${margin.toFixed(1)}` : margin < 0 ? `W+${(-margin).toFixed(1)}` : '0';
}

describe.skipIf(!haveGnugo)('rules agree with GnuGo 3.8 (GTP)', () => {
  it.concurrent.each([5, 7, 9])(
    `legal moves and stones match over ${GAMES_PER_SIZE} random %i-line board games`,
    async (size) => {
      const t0 = performance.now();
      const games = randomGames(size);
      const t1 = performance.now();
      const outs = await Promise.all(games.scripts.map((s) => runScript(s, 100_000)));
      const t2 = performance.now();
      const bad: string[] = [];
      outs.forEach((out, i) => {
        if (out.status !== 0) bad.push(`process ${i}: exit status ${out.status}; stderr: ${out.stderr.slice(-300)}`);
        bad.push(...compare(out.stdout, games.checks[i]!));
      });
      const t3 = performance.now();
      console.log(
        `${size}x${size}: ${GAMES_PER_SIZE} games, ${games.moves} moves (${games.passes} passes, ${games.endedByPasses} games ended by two passes); ` +
          `${games.simpleKo} positions with a ko ban, ${games.longerCycle} with a longer superko ban; ` +
          `ours ${((t1 - t0) / 1000).toFixed(1)} s, GnuGo ${((t2 - t1) / 1000).toFixed(1)} s, check ${((t3 - t2) / 1000).toFixed(1)} s`,
      );
      expect(bad).toEqual([]);
      expect(games.moves).toBeGreaterThan(GAMES_PER_SIZE * size * size);
      expect(games.passes).toBeGreaterThan(0);
      expect(games.simpleKo).toBeGreaterThan(0);
      if (size >= 7) expect(games.longerCycle).toBeGreaterThan(0);
    },
    120_000,
  );

  it.concurrent.each([5, 7, 9])(
    `final_score of GnuGo level-1 self-play equals our Tromp-Taylor score on %i-line boards`,
    async (size) => {
      const t0 = performance.now();
      const komi = defaultKomi(size) + 0.5;
      const gtp = new GtpClient(GNUGO, [...FLAGS, '--level', '1'], { timeoutMs: 30_000 });
      const rows: string[] = [];
      let compared = 0;
      let capped = 0;
      try {
        await gtp.send(`boardsize ${size}`);
        await gtp.send(`komi ${komi}`);
        for (let g = 0; g < SCORE_GAMES_PER_SIZE; g++) {
          const seed = size * 1000 + g;
          const rng = new Rng(seed);
          const board = new GoBoard(size, komi);
          await gtp.send('clear_board');
          await gtp.send(`set_random_seed ${seed}`);
          // A short random opening so that the games differ, then GnuGo against itself.
          for (let i = 0; i < 2; i++) {
            const move = randomOpponent(board, rng);
            await gtp.send(`play ${colorName(board.toPlay)} ${toGtp(move, size)}`);
            board.play(move);
          }
          while (!board.isOver) {
            const reply = await gtp.send(`genmove ${colorName(board.toPlay)}`);
            board.play(reply.toLowerCase() === 'pass' ? board.passMove : fromGtp(reply, size));
          }
          if (board.consecutivePasses < 2) {
            capped++;
            rows.push(`seed ${seed}: reached the ${board.maxMoves}-move cap, skipped`);
            continue;
          }
          const theirs = await gtp.send('final_score');
          const ours = resultString(board.score().margin);
          const stones = stonesOf(board);
          expect(sortVertices(await gtp.send('list_stones black')), `seed ${seed}: black stones`).toEqual(stones.black);
          expect(sortVertices(await gtp.send('list_stones white')), `seed ${seed}: white stones`).toEqual(stones.white);
          expect(theirs, `${size}x${size} seed ${seed} (${board.moveNumber} moves): final_score vs ours\n${board.toString()}`).toBe(ours);
          rows.push(`seed ${seed}: ${board.moveNumber} moves, ${ours}`);
          compared++;
        }
      } finally {
        await gtp.close();
      }
      console.log(`${size}x${size} GnuGo self-play (komi ${komi}), ${((performance.now() - t0) / 1000).toFixed(1)} s: ${rows.join('; ')}`);
      expect(capped).toBeLessThanOrEqual(2);
      expect(compared).toBe(SCORE_GAMES_PER_SIZE - capped);
    },
    120_000,
  );
});

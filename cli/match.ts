/** `lab gtp` and `lab match`: Go players over GTP and matches between them. */
import { Command } from 'commander';
import { integer } from './args.js';
import { DEFAULT_LIVE_URL } from '../protocol/protocol.js';
import { GtpEngine } from '../agents/go/gtp_engine.js';
import { distinctNames, formatMatch, playMatch, type GameResult } from '../agents/go/match.js';
import { makePlayer } from '../agents/go/players.js';
import { MatchPublisher } from '../agents/go/match_live.js';
import type { GoBoard } from '../envs/go/board.js';

export function registerMatchCommands(program: Command): void {
  program
    .command('gtp')
    .description('serve a Go agent over GTP v2 on stdin/stdout (for GoGui, Sabaki, twogtp, `lab match`)')
    .option('--agent <agent>', 'random, mcts, or an AlphaZero agent: a run directory of lab go train (or alphazero:<dir>)', 'random')
    .option('--size <n>', 'initial board size (the controller may change it with boardsize)', integer(5), 7)
    .option('--komi <k>', 'initial komi (default: 24 on 5x5, 9 on 7x7, 7 on 9x9, else 7.5)', Number)
    .option('--sims <n>', 'MCTS / AlphaZero simulations per move', integer(1))
    .option('--move-time <s>', 'MCTS / AlphaZero: search for this many seconds per move (with --sims: whichever ends first)', Number)
    .option('--seed <n>', "seed of the agent's randomness", integer(0), 0)
    .option('--threads <n>', 'MCTS: search on n worker threads at once (root parallelisation)', integer(1), 1)
    .action(async (opts: { agent: string; size: number; komi?: number; sims?: number; moveTime?: number; seed: number; threads: number }) => {
      if (opts.size > 19) throw new Error(`--size must be from 5 to 19, got ${opts.size}`);
      if (/^gnugo(:\d+)?$/.test(opts.agent)) throw new Error(`--agent ${opts.agent}: GNU Go is a GTP engine itself; run /usr/games/gnugo --mode gtp`);
      const player = await makePlayer(opts.agent, { seed: opts.seed, threads: opts.threads, ...(opts.sims !== undefined ? { sims: opts.sims } : {}), ...moveTimeOption(opts.moveTime) });
      const engine = new GtpEngine(player, { size: opts.size, ...(opts.komi !== undefined ? { komi: opts.komi } : {}) });
      try {
        await engine.serve(process.stdin, process.stdout);
      } finally {
        await player.close?.();
      }
    });

  program
    .command('match')
    .description('play Go games between two players (colours alternating) and report win rates with 95% intervals and Elo')
    .argument('<a>', 'player A: random, mcts, gnugo, gnugo:<level>, or an AlphaZero run directory (lab go train)')
    .argument('<b>', 'player B: the same kinds')
    .option('--games <n>', 'number of games (A is Black in games 1, 3, 5, ...)', integer(1), 10)
    .option('--size <n>', 'board size (5 to 19)', integer(5), 7)
    .option('--komi <k>', 'komi (default: 24 on 5x5, 9 on 7x7, 7 on 9x9, else 7.5)', Number)
    .option('--level <n>', 'GnuGo level for a plain `gnugo` player', integer(0), 1)
    .option('--sims <n>', 'MCTS / AlphaZero simulations per move', integer(1))
    .option('--move-time <s>', 'MCTS / AlphaZero: search for this many seconds per move (with --sims: whichever ends first)', Number)
    .option('--seed <n>', "match seed: player A's seed (B uses seed + 1)", integer(0), 0)
    .option('--threads <n>', 'MCTS players: search on n worker threads at once (root parallelisation)', integer(1), 1)
    .option('--sgf <dir>', 'write each game as an SGF file into this directory')
    .option('--json', 'print JSON')
    .option('--live [url]', `show the games live in the viewer of a lab server (default ${DEFAULT_LIVE_URL})`)
    .option('--token <key>', 'the lab server\'s key for --live (default: LAB_TOKEN, else found by itself for a server on this machine)')
    .action(async (a: string, b: string, opts: { games: number; size: number; komi?: number; level: number; sims?: number; moveTime?: number; seed: number; threads: number; sgf?: string; json?: boolean; live?: string | true; token?: string }) => {
      if (opts.size > 19) throw new Error(`--size must be from 5 to 19, got ${opts.size}`);
      if (opts.komi !== undefined && !Number.isFinite(opts.komi)) throw new Error('--komi must be a number');
      const common = { level: opts.level, threads: opts.threads, ...(opts.sims !== undefined ? { sims: opts.sims } : {}), ...moveTimeOption(opts.moveTime) };
      const playerA = await makePlayer(a, { ...common, seed: opts.seed });
      let playerB;
      try {
        playerB = await makePlayer(b, { ...common, seed: opts.seed + 1 });
      } catch (e) {
        await playerA.close?.();
        throw e;
      }
      const [pa, pb] = distinctNames(playerA, playerB);
      const live = opts.live ? new MatchPublisher(opts.live === true ? DEFAULT_LIVE_URL : opts.live, pa.name, pb.name, opts, (m) => !opts.json && console.log(`live: ${m}`)) : null;
      try {
        const result = await playMatch(pa, pb, {
          ...(live ? { onMove: (board: GoBoard, game: number) => live.move(board, game), onGame: (g: GameResult) => { live.game(g); if (!opts.json) console.log(`game ${g.game + 1}: ${g.black} (B) vs ${g.white} (W): ${g.result} in ${g.moves} moves${g.sgfPath ? `  ${g.sgfPath}` : ''}`); } } : {}),
          games: opts.games,
          size: opts.size,
          seed: opts.seed,
          ...(opts.komi !== undefined ? { komi: opts.komi } : {}),
          ...(opts.sgf ? { sgfDir: opts.sgf } : {}),
          ...(opts.json || live ? {} : { onGame: (g: GameResult) => console.log(`game ${g.game + 1}: ${g.black} (B) vs ${g.white} (W): ${g.result} in ${g.moves} moves${g.sgfPath ? `  ${g.sgfPath}` : ''}`) }),
        });
        await live?.end('done');
        console.log(opts.json ? JSON.stringify(result, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v)) : formatMatch(result));
      } catch (e) {
        await live?.end('failed', e instanceof Error ? e.message : String(e));
        throw e;
      } finally {
        await playerA.close?.();
        await playerB.close?.();
      }
    });
}

function moveTimeOption(seconds: number | undefined): { moveTimeMs?: number } {
  if (seconds === undefined) return {};
  if (!Number.isFinite(seconds) || seconds <= 0) throw new Error(`--move-time must be a positive number of seconds, got ${seconds}`);
  return { moveTimeMs: seconds * 1000 };
}


import { describe, expect, it } from 'vitest';
import { EnvError, InvalidAction, ResetNeeded } from '../envs/core.js';
import type { GoFrame } from '../envs/frames.js';
import { fromGtp } from '../envs/go/board.js';
import { GO_REGISTRATIONS, GoEnv, GoVsOpponentEnv, randomOpponent, type GoOpponent } from '../envs/go/go_env.js';
import { SgfError, fromSgf, toSgf } from '../envs/go/sgf.js';
import { Rng } from '../envs/utils/seeding.js';

/** Index of (row, col, plane) in the HWC observation. */
const at = (N: number, P: number, r: number, c: number, k: number) => (r * N + c) * P + k;

function plane(obs: Float32Array, N: number, P: number, k: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < N * N; i++) out.push(obs[i * P + k]!);
  return out;
}

/** Plays uniformly random legal non-pass moves (pass when none) for whoever is to move. */
function randomAction(env: GoEnv, rng: Rng): number {
  return randomOpponent(env.board, rng);
}

describe('GoEnv basics', () => {
  it('has the documented spaces, info and defaults', () => {
    const env = new GoEnv();
    expect(env.size).toBe(7);
    expect(env.komi).toBe(9);
    expect(env.actionSpace.n).toBe(50);
    expect(env.observationSpace.shape).toEqual([7, 7, 9]);
    const [obs, info] = env.reset({ seed: 1 });
    expect(env.observationSpace.contains(obs)).toBe(true);
    expect(info.toPlay).toBe('black');
    expect(info.moveNumber).toBe(0);
    expect(info.captures).toEqual({ black: 0, white: 0 });
    expect(Array.from(info.actionMask as Int8Array)).toEqual(new Array(50).fill(1));
    expect(new GoEnv({ size: 9 }).komi).toBe(7);
    expect(new GoEnv({ size: 5 }).komi).toBe(24);
    expect(new GoEnv({ size: 13 }).komi).toBe(7.5);
    expect(new GoEnv({ size: 9, komi: 5.5, history: 8 }).observationSpace.shape).toEqual([9, 9, 17]);
  });

  it('fills the observation planes from the point of view of the player to move', () => {
    const N = 5;
    const P = 5; // history 2
    const env = new GoEnv({ size: N, history: 2 });
    let [obs] = env.reset({ seed: 0 });
    expect(plane(obs, N, P, 4)).toEqual(new Array(25).fill(1)); // Black to move
    for (let k = 0; k < 4; k++) expect(plane(obs, N, P, k)).toEqual(new Array(25).fill(0));

    [obs] = env.step(fromGtp('B4', N)); // Black (1,1)
    // White to move: own (white) stones none, opponent (black) at (1,1); one step ago = empty board.
    expect(plane(obs, N, P, 4)).toEqual(new Array(25).fill(0));
    expect(obs[at(N, P, 1, 1, 1)]).toBe(1);
    expect(plane(obs, N, P, 1).reduce((a, b) => a + b)).toBe(1);
    for (const k of [0, 2, 3]) expect(plane(obs, N, P, k).reduce((a, b) => a + b)).toBe(0);

    [obs] = env.step(fromGtp('C4', N)); // White (1,2)
    // Black to move: now own = black (1,1), opponent = white (1,2); one step ago own = (1,1), opponent none.
    expect(plane(obs, N, P, 4)).toEqual(new Array(25).fill(1));
    expect(obs[at(N, P, 1, 1, 0)]).toBe(1);
    expect(obs[at(N, P, 1, 2, 1)]).toBe(1);
    expect(obs[at(N, P, 1, 1, 2)]).toBe(1);
    expect(plane(obs, N, P, 0).reduce((a, b) => a + b)).toBe(1);
    expect(plane(obs, N, P, 1).reduce((a, b) => a + b)).toBe(1);
    expect(plane(obs, N, P, 2).reduce((a, b) => a + b)).toBe(1);
    expect(plane(obs, N, P, 3).reduce((a, b) => a + b)).toBe(0);

    [obs] = env.step(25); // Black passes: history now = [after pass, after C4] (same boards)
    expect(obs[at(N, P, 1, 2, 0)]).toBe(1); // white's own stone now and one step ago
    expect(obs[at(N, P, 1, 2, 2)]).toBe(1);
    expect(obs[at(N, P, 1, 1, 1)]).toBe(1);
    expect(obs[at(N, P, 1, 1, 3)]).toBe(1);
  });

  it('action masks match the legal set (and play) through a random game', () => {
    const env = new GoEnv({ size: 5 });
    let [, info] = env.reset({ seed: 3 });
    const rng = new Rng(3);
    let done = false;
    while (!done) {
      const mask = info.actionMask as Int8Array;
      const legal = env.legalActions();
      for (let a = 0; a <= 25; a++) expect(mask[a] === 1).toBe(legal.includes(a));
      expect(mask[25]).toBe(1);
      const illegal = legal.length < 26 ? [...Array(25).keys()].find((a) => mask[a] === 0) : undefined;
      if (illegal !== undefined) expect(() => env.step(illegal)).toThrow(InvalidAction);
      const r = env.step(randomAction(env, rng));
      info = r[4];
      done = r[2];
    }
    expect(Array.from(info.actionMask as Int8Array)).toEqual(new Array(26).fill(0));
  });

  it('two passes end the game; the reward is for the player who just moved', () => {
    const draw = new GoEnv({ size: 5, komi: 0 });
    draw.reset({ seed: 0 });
    expect(draw.step(25).slice(1, 4)).toEqual([0, false, false]);
    const [, reward, terminated, truncated, info] = draw.step(25);
    expect([reward, terminated, truncated]).toEqual([0, true, false]);
    expect(info.score).toEqual({ black: 0, white: 0, komi: 0, margin: 0, winner: 'draw' });
    expect(() => draw.step(0)).toThrow(ResetNeeded);

    const env = new GoEnv({ size: 5, komi: 0.5 });
    env.reset({ seed: 0 });
    env.step(fromGtp('C3', 5)); // Black
    env.step(25); // White passes
    const r = env.step(25); // Black passes: Black owns the board and just moved
    expect(r[1]).toBe(1);
    expect(r[4].score).toEqual({ black: 25, white: 0, komi: 0.5, margin: 24.5, winner: 'black' });

    const w = new GoEnv({ size: 5, komi: 0.5 });
    w.reset({ seed: 0 });
    w.step(25);
    expect(w.step(25)[1]).toBe(1); // White wins the empty board on komi, and White moved last
  });

  it('ends at the move cap 2·N² and scores the board as it stands', () => {
    const env = new GoEnv({ size: 5 });
    env.reset({ seed: 0 });
    const rng = new Rng(11);
    let steps = 0;
    let last: ReturnType<GoEnv['step']> | null = null;
    while (!last?.[2]) {
      last = env.step(randomAction(env, rng));
      steps++;
    }
    expect(steps).toBeLessThanOrEqual(50);
    expect(steps).toBe(50); // random play without passing reaches the cap
    expect(last[3]).toBe(false);
    expect(last[4].moveNumber).toBe(50);
    expect(last[4].score).toEqual(env.board.score());
  });

  it('gives clear errors for bad options and bad actions', () => {
    expect(() => new GoEnv({ size: 4 })).toThrow(/GoEnv: option 'size' must be an integer from 5 to 19, got 4/);
    expect(() => new GoEnv({ size: 20 })).toThrow(EnvError);
    expect(() => new GoEnv({ history: 0 })).toThrow(/'history'/);
    expect(() => new GoEnv({ komi: NaN })).toThrow(/'komi' must be a finite number/);
    expect(() => new GoEnv({ sise: 9 } as never)).toThrow(/unknown option 'sise'/);
    expect(() => new GoVsOpponentEnv({ agentColor: 'red' as never })).toThrow(/agentColor/);
    expect(() => new GoVsOpponentEnv({ opponent: 'gnugo' as never })).toThrow(/unknown opponent "gnugo"/);

    const env = new GoEnv({ size: 7 });
    expect(() => env.step(0)).toThrow(ResetNeeded);
    env.reset({ seed: 0 });
    expect(() => env.step(50)).toThrow(/invalid action 50/);
    expect(() => env.step(1.5)).toThrow(InvalidAction);
    env.step(24); // Black D4
    expect(() => env.step(24)).toThrow(/D4 by white: the point is occupied/);
    // Suicide: White surrounds nothing; build A7 surrounded by black B7 and A6.
    env.step(48); // White G1
    env.step(fromGtp('B7', 7));
    env.step(47); // White F1
    env.step(fromGtp('A6', 7));
    expect(() => env.step(fromGtp('A7', 7))).toThrow(/A7 by white: suicide/);
  });

  it('names superko in the error for a ko recapture', () => {
    // Build the ko shape of go_rules.test.ts on 5x5 with real moves, then take and try to retake.
    const env = new GoEnv({ size: 5 });
    env.reset({ seed: 0 });
    const seq = ['B5', 'C5', 'A4', 'B4', 'B3', 'C3', 'E1', 'D4', 'D1', 'pass', 'C4'];
    for (const v of seq) env.step(fromGtp(v, 5));
    expect(env.board.capturesBy.black).toBe(1);
    expect(() => env.step(fromGtp('B4', 5))).toThrow(/B4 by white: it would repeat an earlier board position \(positional superko\)/);
  });

  it('renders a GoFrame and an ansi board with coordinates', () => {
    const env = new GoEnv({ size: 5 });
    expect(() => env.render()).toThrow(ResetNeeded);
    env.reset({ seed: 0 });
    env.step(fromGtp('B4', 5));
    const frame = env.render() as GoFrame;
    expect(frame).toEqual({ kind: 'go', size: 5, board: '......X..................', toPlay: 'white', lastMove: [1, 1], captures: { black: 0, white: 0 }, komi: 24 });
    env.step(25);
    expect((env.render() as GoFrame).lastMove).toBe('pass');
    env.renderMode = 'ansi';
    const text = env.render() as string;
    expect(text).toContain('   A B C D E');
    expect(text).toContain(' 4 . X . . . 4');
    expect(text).toContain('black to play, last move pass');
  });
});

describe('GoVsOpponentEnv', () => {
  function playGame(seed: number, agentColor: 'black' | 'white' = 'black') {
    const env = new GoVsOpponentEnv({ size: 5, agentColor });
    const agentRng = new Rng(seed + 1000);
    env.reset({ seed });
    let r: ReturnType<GoVsOpponentEnv['step']>;
    do r = env.step(randomOpponent(env.board, agentRng));
    while (!r[2]);
    return { moves: env.board.moves, reward: r[1], score: r[4].score as { winner: string } };
  }

  it('the same seed gives the same game; rewards are from the agent’s view', () => {
    const a = playGame(5);
    expect(playGame(5)).toEqual(a);
    expect(playGame(6).moves).not.toEqual(a.moves);
    expect(a.reward).toBe(a.score.winner === 'black' ? 1 : a.score.winner === 'draw' ? 0 : -1);
    const w = playGame(5, 'white');
    expect(w.reward).toBe(w.score.winner === 'white' ? 1 : w.score.winner === 'draw' ? 0 : -1);
  });

  it('as White, the opponent opens inside reset()', () => {
    const env = new GoVsOpponentEnv({ size: 7, agentColor: 'white' });
    const [obs, info] = env.reset({ seed: 2 });
    expect(info.toPlay).toBe('white');
    expect(info.moveNumber).toBe(1);
    expect(obs[6 * 9 + 8]).toBe(0); // colour plane: white to move
  });

  it('accepts an opponent policy function', () => {
    const passer: GoOpponent = (board) => board.passMove;
    const env = new GoVsOpponentEnv({ size: 5, opponent: passer, komi: 0.5 });
    env.reset({ seed: 0 });
    env.step(12); // Black C3, White passes
    const r = env.step(25); // Black passes → game over, Black owns the board
    expect(r.slice(1, 3)).toEqual([1, true]);
    const bad = new GoVsOpponentEnv({ size: 5, opponent: () => 12 });
    bad.reset({ seed: 0 });
    expect(() => bad.step(12)).toThrow(/opponent policy chose an illegal move/);
  });

  it('snapshot/restore mid-game continues identically', () => {
    const env = new GoVsOpponentEnv({ size: 7 });
    env.reset({ seed: 42 });
    const rng = new Rng(7);
    for (let i = 0; i < 12; i++) env.step(randomOpponent(env.board, rng));
    const snap = JSON.parse(JSON.stringify(env.snapshot()));
    const copy = new GoVsOpponentEnv({ size: 7 });
    copy.restore(snap);
    expect(Array.from(copy.game.observe())).toEqual(Array.from(env.game.observe()));
    const rngState = rng.getState();
    const rng2 = new Rng(0);
    rng2.setState(rngState);
    for (;;) {
      const a = env.step(randomOpponent(env.board, rng));
      const b = copy.step(randomOpponent(copy.board, rng2));
      expect(Array.from(b[0])).toEqual(Array.from(a[0]));
      expect(b.slice(1)).toEqual(a.slice(1));
      if (a[2]) break;
    }
    expect(copy.board.moves).toEqual(env.board.moves);
  });

  it("plays an attached opponent ('self') that sees its own observation, and draws the colour with agentColor 'random'", () => {
    const env = new GoVsOpponentEnv({ size: 5, opponent: 'self', agentColor: 'random' });
    expect(() => env.reset({ seed: 0 }) && env.step(0)).toThrow(/opponent 'self' has no policy attached yet/);
    const seen: { colourPlane: number; mask: number }[] = [];
    env.attachOpponent((board, rng, game) => {
      const obs = game!.observe();
      seen.push({ colourPlane: obs[obs.length - 1]!, mask: board.legalMask().reduce((a, v) => a + v, 0) });
      return randomOpponent(board, rng);
    });
    const colours = new Set<string>();
    for (let seed = 0; seed < 8; seed++) {
      seen.length = 0;
      const [, info] = env.reset({ seed });
      colours.add(env.agentColor);
      // The agent is to move after reset, whatever its colour.
      expect(info.toPlay).toBe(env.agentColor);
      if (env.agentColor === 'black') env.step(12);
      // The opponent plays the other colour: the colour plane is 1 exactly when the opponent is Black.
      expect(seen.at(-1)!.colourPlane).toBe(env.agentColor === 'white' ? 1 : 0);
      expect(seen.at(-1)!.mask).toBeGreaterThan(1);
    }
    expect(colours).toEqual(new Set(['black', 'white']));
    // The drawn colour is part of a snapshot.
    env.reset({ seed: 3 });
    const snap = env.snapshot();
    const colour = env.agentColor;
    for (let seed = 0; seed < 4; seed++) env.reset({ seed });
    env.restore(snap);
    expect(env.agentColor).toBe(colour);
    expect(() => new GoVsOpponentEnv({ size: 5 }).attachOpponent(randomOpponent)).toThrow(/needs an env made with opponent 'self'/);
    expect(() => new GoVsOpponentEnv({ size: 5, agentColor: 'green' as never })).toThrow(/'black', 'white' or 'random'/);
  });

  it('exports registration facts', () => {
    expect(GO_REGISTRATIONS.map((r) => r.id)).toEqual(['GoLite-5x5-v0', 'GoLite-7x7-v0', 'GoLite-9x9-v0']);
    for (const r of GO_REGISTRATIONS) {
      const env = new GoVsOpponentEnv(r.kwargs);
      expect(env.game.size).toBe(r.kwargs.size);
    }
  });
});

describe('SGF', () => {
  it('round-trips a finished random game', () => {
    const env = new GoEnv({ size: 7 });
    env.reset({ seed: 9 });
    const rng = new Rng(9);
    while (!env.board.isOver) env.step(randomAction(env, rng));
    const sgf = toSgf(env.board);
    expect(sgf).toMatch(/^\(;FF\[4\]GM\[1\]CA\[UTF-8\]AP\[[^\]]*\]SZ\[7\]KM\[9\]RU\[Chinese\]RE\[(B\+|W\+)[\d.]+\];B\[[a-g]{2}\];W\[/);
    const back = fromSgf(sgf);
    expect(back.size).toBe(7);
    expect(back.komi).toBe(9);
    expect(back.board.moves).toEqual(env.board.moves);
    expect(Array.from(back.board.cells)).toEqual(Array.from(env.board.cells));
    expect(back.result).toBe(sgf.match(/RE\[([^\]]*)\]/)![1]);
    expect(toSgf(back.board)).toBe(sgf);
  });

  it('writes passes as [] and draws as RE[0]; reads [tt] as a pass', () => {
    const env = new GoEnv({ size: 5, komi: 0 });
    env.reset({ seed: 0 });
    env.step(fromGtp('A5', 5)); // SGF aa
    env.step(25);
    env.step(fromGtp('E1', 5)); // SGF ee
    expect(toSgf(env.board)).toBe('(;FF[4]GM[1]CA[UTF-8]AP[rl-gan-lab:GoLite]SZ[5]KM[0]RU[Chinese];B[aa];W[];B[ee])\n');
    const draw = new GoEnv({ size: 5, komi: 0 });
    draw.reset({ seed: 0 });
    draw.step(25);
    draw.step(25);
    expect(toSgf(draw.board)).toContain('RE[0];B[];W[])');
    const g = fromSgf('(;GM[1]FF[4]SZ[5]KM[0.5]RE[W+R];B[cc];W[tt](;B[dd])(;B[bb]))');
    expect(g.board.moves).toEqual([12, 25, 18]);
    expect(g.result).toBe('W+R');
  });

  it('rejects illegal moves and malformed records with the move number', () => {
    expect(() => fromSgf('(;FF[4]GM[1]SZ[5];B[cc];W[cc])')).toThrow(/move 2 \(W\[cc\] = C3\) is illegal: .*occupied/);
    expect(() => fromSgf('(;FF[4]GM[1]SZ[5];B[cc];B[dd])')).toThrow(/move 2 is by B but W is to play/);
    expect(() => fromSgf('(;FF[4]GM[1]SZ[5];B[zz])')).toThrow(/move 1 .* not a point/);
    expect(() => fromSgf('(;FF[4]GM[1]SZ[5]AB[aa])')).toThrow(SgfError);
    expect(() => fromSgf('(;FF[4]GM[2]SZ[5])')).toThrow(/not Go/);
    expect(() => fromSgf('(;FF[4]GM[1]SZ[5];B[cc]')).toThrow(/unbalanced/);
  });
});

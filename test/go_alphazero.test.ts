/**
 * AlphaZero-lite: board encoding and the 8 symmetries, the pass rule, PUCT on positions with an exact answer,
 * self-play records, a tiny training run (files, no tensor leak, exact resume), hyperparameter errors, and the
 * trained agent as a player (`makePlayer`, GTP through `lab gtp --agent <runDir>`).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { BLACK, GoBoard, WHITE, fromGtp } from '../envs/go/board.js';
import { Rng } from '../envs/index.js';
import { initCompute, tf } from '../lab/compute.js';
import {
  AlphaZeroPlayer,
  PolicyValueNet,
  PuctSearch,
  candidateMoves,
  encodePlanes,
  previousPositions,
  readAlphaZeroMetrics,
  resolveHyperparameters,
  resumeAlphaZero,
  selfPlayGame,
  symmetryTables,
  trainAlphaZero,
  type AlphaZeroEvent,
} from '../agents/go/alphazero.js';
import { makePlayer } from '../agents/go/players.js';
import { evaluateRun, startTraining } from '../agents/train.js';
import { attachSelfPlay } from '../agents/training.js';
import { makeVec } from '../envs/index.js';
import { GtpClient } from '../agents/go/gtp_client.js';

const TINY = { size: 5, filters: [8], hidden: [16], simulations: 8, gamesPerIteration: 2, trainSteps: 3, batchSize: 16, bufferSize: 500, evalEvery: 0 };

beforeAll(async () => {
  await initCompute('wasm');
});

function tmpDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'az-test-'));
}

describe('encoding and symmetries', () => {
  it('has 8 distinct permutations of the board, the identity first, closed under composition', () => {
    const perms = symmetryTables(5);
    expect(perms).toHaveLength(8);
    expect(Array.from(perms[0]!)).toEqual(Array.from({ length: 25 }, (_, i) => i));
    const keys = new Set(perms.map((p) => Array.from(p).join(',')));
    expect(keys.size).toBe(8);
    for (const p of perms) expect(new Set(p).size).toBe(25);
    // s = 1 flips rows: A5 (row 0, col 0) ↔ A1 (row 4, col 0); s = 4 transposes: B5 (0,1) ↔ A4 (1,0).
    expect(perms[1]![0]).toBe(20);
    expect(perms[4]![1]).toBe(5);
    for (const a of perms) for (const b of perms) expect(keys.has(Array.from(a, (x) => b[x]!).join(','))).toBe(true);
  });

  it('writes own / opponent planes for each history step and the colour plane', () => {
    const board = GoBoard.fromMoves(5, 24, [fromGtp('C3', 5), fromGtp('D4', 5)]);
    const prev = previousPositions(board, 2);
    expect(prev).toHaveLength(2);
    const planes = 5;
    const x = new Float32Array(25 * planes);
    encodePlanes(x, 0, [board.cells, ...prev], 2, board.toPlay);
    const at = (vertex: string, k: number) => x[fromGtp(vertex, 5) * planes + k];
    expect(board.toPlay).toBe(BLACK);
    expect([at('C3', 0), at('C3', 1), at('D4', 0), at('D4', 1)]).toEqual([1, 0, 0, 1]);
    // One move ago (after C3 only): Black's C3, no white stone yet.
    expect([at('C3', 2), at('D4', 3)]).toEqual([1, 0]);
    expect(at('A1', 4)).toBe(1);
    const sum = x.reduce((a, v) => a + v, 0);
    expect(sum).toBe(1 + 1 + 1 + 25);
    // White to move: the planes swap and the colour plane is 0.
    board.play(fromGtp('E5', 5));
    encodePlanes(x, 0, [board.cells], 1, board.toPlay);
    expect(board.toPlay).toBe(WHITE);
    expect([x[fromGtp('D4', 5) * 3]!, x[fromGtp('C3', 5) * 3 + 1]!, x[2]!]).toEqual([1, 1, 0]);
  });
});

describe('pass rule', () => {
  it('offers pass only after the opponent passed or when only own eyes are left (restricted)', () => {
    const start = new GoBoard(5, 24);
    expect(candidateMoves(start, 'restricted')).not.toContain(start.passMove);
    expect(candidateMoves(start, 'free')).toContain(start.passMove);
    start.play(start.passMove);
    expect(candidateMoves(start, 'restricted')).toContain(start.passMove);
    // Black owns the board but for two single-point eyes: filling them is excluded, so only pass is left.
    const eyes = GoBoard.fromAscii(['X.XXX', 'XXXXX', 'XXXXX', 'XXX.X', 'XXXXX'], 'black', 24);
    expect(candidateMoves(eyes, 'restricted')).toEqual([eyes.passMove]);
    expect(candidateMoves(eyes, 'free')).toEqual([1, 18, 25]);
  });
});

describe('PUCT search', () => {
  it('visits add up to the simulations and it passes to end a game it has won', () => {
    const model = PolicyValueNet.create(resolveHyperparameters({ ...TINY, history: 1 }), new Rng(1));
    const search = new PuctSearch(model);
    // Black has the whole board but one point; White has just passed: Black's pass ends the game, B+ (24 < 24 + …).
    const board = GoBoard.fromAscii(['XXXXX', 'X.XXX', 'XXXXX', 'XXX.X', 'XXXXX'], 'white', 0);
    board.play(board.passMove);
    expect(board.toPlay).toBe(BLACK);
    const r = search.run(board, [], { simulations: 200, cPuct: 1.5, fpuReduction: 0.2, passRule: 'restricted' });
    expect(r.simulations).toBe(200);
    expect(r.visits.reduce((a, v) => a + v, 0)).toBe(200);
    expect(r.best).toBe(board.passMove);
    expect(r.rootValue).toBeGreaterThan(0.5);
    model.dispose();
  });

  it('refuses a board of another size', () => {
    const model = PolicyValueNet.create(resolveHyperparameters(TINY), new Rng(1));
    expect(() => new PuctSearch(model).run(new GoBoard(7), [], { simulations: 1, cPuct: 1, fpuReduction: 0, passRule: 'free' })).toThrow(/plays 5x5, not 7x7/);
    model.dispose();
  });
});

describe('self-play', () => {
  it('records legal games with visit distributions and results from the mover’s side', () => {
    const hp = resolveHyperparameters(TINY);
    const model = PolicyValueNet.create(hp, new Rng(2));
    const game = selfPlayGame(new PuctSearch(model), hp, new Rng(3));
    const n = game.moves.length;
    expect(game.results).toHaveLength(n);
    const replay = new GoBoard(5, hp.komi);
    for (let i = 0; i < n; i++) {
      const row = game.policies.subarray(i * 26, (i + 1) * 26);
      expect(row.reduce((a, v) => a + v, 0)).toBeCloseTo(1, 5);
      const mover = replay.toPlay;
      const sign = game.margin === 0 ? 0 : (game.margin > 0) === (mover === BLACK) ? 1 : -1;
      expect(game.results[i]).toBe(sign);
      replay.play(game.moves[i]!); // throws on an illegal move
    }
    expect(replay.isOver).toBe(true);
    expect(replay.score().margin).toBe(game.margin);
    model.dispose();
  });
});

describe('hyperparameters', () => {
  it('names the bad field', () => {
    expect(() => resolveHyperparameters({ simulatons: 3 })).toThrow(/unknown hyperparameter 'simulatons'/);
    expect(() => resolveHyperparameters({ size: 4 })).toThrow(/'size' must be an integer from 5 to 19/);
    expect(() => resolveHyperparameters({ filters: [] })).toThrow(/'filters' must be a non-empty array/);
    expect(() => resolveHyperparameters({ passRule: 'never' })).toThrow(/'passRule' must be 'restricted' or 'free'/);
    expect(() => resolveHyperparameters({ learningRate: -1 })).toThrow(/'learningRate' must be a non-negative/);
    expect(resolveHyperparameters({ size: 9 }).komi).toBe(7);
  });
});

describe('training run', () => {
  const strip = (events: AlphaZeroEvent[]) => events.map((e) => (e.type === 'iteration' ? { ...e, selfPlaySeconds: 0, trainSeconds: 0, elapsed: 0 } : e));

  it('writes the run directory, keeps the tensor count flat, and resumes exactly', async () => {
    const out = tmpDir();
    const counts: number[] = [];
    const full = await trainAlphaZero({ hyperparameters: TINY, seed: 5, iterations: 4, checkpointEvery: 2, out, runId: 'full', backend: 'wasm', onEvent: (e) => e.type === 'iteration' && counts.push(tf.memory().numTensors) });
    expect(full).toMatchObject({ iteration: 4, finished: true });
    expect(new Set(counts).size).toBe(1);
    for (const f of ['config.json', 'metrics.jsonl', 'agent/agent.json', 'agent/model.json', 'agent/weights.bin', 'checkpoints/latest.json']) expect(fs.existsSync(path.join(full.dir, f))).toBe(true);
    const config = JSON.parse(fs.readFileSync(path.join(full.dir, 'config.json'), 'utf8'));
    expect(config).toMatchObject({ kind: 'go-alphazero', seed: 5, iterations: 4, hyperparameters: { size: 5, passRule: 'restricted' } });
    const events = readAlphaZeroMetrics(full.dir);
    expect(events.filter((e) => e.type === 'iteration').map((e) => e.iteration)).toEqual([1, 2, 3, 4]);

    // Interrupted after 2 iterations (a crash leaves a partial line behind), then resumed to 4.
    const part = await trainAlphaZero({ hyperparameters: TINY, seed: 5, iterations: 2, out, runId: 'part', backend: 'wasm' });
    fs.appendFileSync(path.join(part.dir, 'metrics.jsonl'), '{"type":"iteration","iter');
    const resumed = await resumeAlphaZero(part.dir, { iterations: 4, checkpointEvery: 2 });
    expect(resumed).toMatchObject({ iteration: 4, finished: true });
    expect(strip(readAlphaZeroMetrics(part.dir))).toEqual(strip(events));
    expect(fs.readFileSync(path.join(part.dir, 'agent', 'weights.bin'))).toEqual(fs.readFileSync(path.join(full.dir, 'agent', 'weights.bin')));
    await expect(resumeAlphaZero(out)).rejects.toThrow(/not a run directory/);
  }, 120_000);

  it('plays as a player from its run directory, over GTP too', async () => {
    const out = tmpDir();
    const run = await trainAlphaZero({ hyperparameters: { ...TINY, size: 7 }, seed: 1, iterations: 1, out, runId: 'az', backend: 'wasm' });
    const player = await makePlayer(run.dir, { sims: 16 });
    expect(player).toBeInstanceOf(AlphaZeroPlayer);
    expect(player.name).toBe('alphazero:az-16');
    const board = new GoBoard(7);
    const move = await player.genmove(board);
    expect(board.isLegal(move)).toBe(true);
    await player.close?.();
    const timed = await makePlayer(`alphazero:${run.dir}`, { moveTimeMs: 50 });
    expect(timed.name).toBe('alphazero:az-0.05s');
    await timed.close?.();
    await expect(makePlayer(out)).rejects.toThrow(/holds no AlphaZero agent/);
    await expect(makePlayer('alphazero:/nonexistent/run')).rejects.toThrow(/no such directory/);
    await expect(makePlayer('runs/typo')).rejects.toThrow(/AlphaZero agent runs\/typo: no such directory/);

    const lab = fileURLToPath(new URL('../bin/lab.mjs', import.meta.url));
    const c = new GtpClient(process.execPath, [lab, 'gtp', '--agent', run.dir, '--size', '7', '--sims', '8'], { timeoutMs: 60_000 });
    try {
      expect(await c.send('name')).toMatch(/alphazero/);
      const v = await c.send('genmove b');
      expect(new GoBoard(7).isLegal(fromGtp(v, 7))).toBe(true);
      await c.send('boardsize 9');
      await expect(c.send('genmove b')).rejects.toThrow(/plays 7x7, not 9x9/);
    } finally {
      await c.close();
    }
  }, 120_000);
});

describe('REINFORCE and A2C by self-play (GoVsOpponentEnv with opponent self)', () => {
  it('attachSelfPlay makes the agent its own opponent, asked with the opponent’s observation and legal moves', () => {
    const envs = makeVec('GoLite-5x5-v0', 2, { opponent: 'self', agentColor: 'white' });
    const calls: { colourPlane: number; legal: number; n: number; explore: boolean }[] = [];
    attachSelfPlay(envs, {
      act: (obs, n, explore, masks) => {
        const o = obs as Float32Array;
        calls.push({ colourPlane: o[o.length - 1]!, legal: masks!.reduce((a, v) => a + v, 0), n, explore });
        return Int32Array.of(12);
      },
    });
    const [obs] = envs.reset({ seed: 1 });
    // Each sub-env's opponent (Black) opened in reset, choosing C3 through the agent.
    expect(calls).toHaveLength(2);
    expect(calls[0]).toEqual({ colourPlane: 1, legal: 26, n: 1, explore: true });
    const planes = 9;
    expect(obs[12 * planes + 1]).toBe(1); // the agent (White) sees the opponent's stone on C3
    envs.close();
  });

  it('trains A2C on GoLite-5x5 against itself and evaluates against random play', async () => {
    const out = tmpDir();
    const run = await startTraining({ envId: 'GoLite-5x5-v0', agent: 'a2c', seed: 1, steps: 600, evalEvery: 600, evalEpisodes: 4, out, runId: 'sp', backend: 'wasm', envKwargs: { opponent: 'self', agentColor: 'random' } });
    expect(run.config.envKwargs).toEqual({ opponent: 'self', agentColor: 'random' });
    const lines = fs.readFileSync(path.join(run.runDir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { type: string; return?: number; returns?: number[] });
    const episodes = lines.filter((e) => e.type === 'episode');
    expect(episodes.length).toBeGreaterThan(5);
    for (const e of episodes) expect([-1, 0, 1]).toContain(e.return);
    const evals = lines.filter((e) => e.type === 'eval');
    expect(evals).toHaveLength(1);
  }, 120_000);

  it("trains against a saved agent (opponent 'agent:<dir>'), evaluates against it, and names a bad one", async () => {
    const out = tmpDir();
    const az = await trainAlphaZero({ hyperparameters: TINY, seed: 2, iterations: 1, out, runId: 'az', backend: 'wasm' });
    const envKwargs = { opponent: `agent:${az.dir}`, agentColor: 'random' };
    const run = await startTraining({ envId: 'GoLite-5x5-v0', agent: 'reinforce', seed: 1, steps: 200, evalEvery: 200, evalEpisodes: 2, out, runId: 'vs-az', backend: 'wasm', envKwargs });
    const lines = fs.readFileSync(path.join(run.runDir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { type: string });
    expect(lines.filter((e) => e.type === 'episode').length).toBeGreaterThan(0);
    expect(lines.filter((e) => e.type === 'eval')).toHaveLength(1);
    const ev = await evaluateRun(run.runDir, { episodes: 2 });
    expect(ev.returns).toHaveLength(2);
    // A lab train run on Go can be the opponent too.
    const vsPolicy = await startTraining({ envId: 'GoLite-5x5-v0', agent: 'reinforce', seed: 1, steps: 100, evalEvery: 0, out, runId: 'vs-policy', backend: 'wasm', envKwargs: { opponent: `agent:${run.runDir}` } });
    expect(vsPolicy.result.steps).toBeGreaterThanOrEqual(100);
    await expect(startTraining({ envId: 'GoLite-5x5-v0', agent: 'reinforce', seed: 1, steps: 100, out, runId: 'bad', backend: 'wasm', envKwargs: { opponent: `agent:${out}` } })).rejects.toThrow(/opponent agent:.*not an AlphaZero agent nor a lab train run/);
    expect(fs.existsSync(path.join(out, 'bad'))).toBe(false);
  }, 120_000);
});

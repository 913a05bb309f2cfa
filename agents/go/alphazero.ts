/**
 * AlphaZero-lite for Go-lite: a policy-value network, PUCT search guided by it, and training by self-play
 * (Silver et al. 2017, "Mastering the game of Go without human knowledge"; 2018, "A general reinforcement
 * learning algorithm that masters chess, shogi and Go through self-play"), sized for a laptop CPU.
 *
 *   const run = await trainAlphaZero({ size: 7, seed: 1, iterations: 100 });   // or `lab go train`
 *   const player = await AlphaZeroPlayer.load('runs/<runId>', { simulations: 400 });
 *   player.genmove(board);
 *
 * Read top to bottom: hyperparameters, board encoding and the 8 symmetries, the network, PUCT search, the
 * player, self-play, the replay buffer, the training step, and the loop with its run directory.
 *
 * Network: a small conv net (3x3 'same' ReLU convolutions, a dense layer) with one linear output layer of
 * N² + 2 units: the first N² + 1 are the policy logits over the actions (points, then pass), the last one
 * through tanh is the value v ∈ [−1, 1], the expected result for the player to move. The two heads share
 * everything but their output weights — the "lite" part (AGZ has residual towers and separate heads).
 *
 * Input: planes [N, N, 2k + 1] seen by the player to move, like the Go-lite env's observation: for t = 0 … k−1
 * the player to move's stones and the opponent's stones t moves ago, then a plane of 1s when Black is to move.
 *
 * PUCT (AGZ's selection rule): at a node choose the action a maximising
 *   Q(a) + c_puct · P(a) · √(Σ_b N(b)) / (1 + N(a)),
 * Q(a) = W(a) / N(a) from the point of view of the player to move at the node; an unvisited action takes the
 * node's own value estimate minus a first-play-urgency reduction (as Leela Zero does), so that with few
 * simulations the search deepens the moves the prior likes instead of trying every move once. A leaf is
 * evaluated by the network (priors = softmax of the legal moves' logits; illegal moves, including positional
 * superko repeats, never enter the tree; by default pass enters only after the opponent's pass or when nothing
 * but own eyes is left, see `candidateMoves`) or, when the game is over, by the Tromp-Taylor result (±1, 0 for a
 * draw). The value is backed up with alternating signs. In self-play the root priors are mixed with Dirichlet
 * noise, P = (1 − ε) P + ε Dir(α), and the first `temperatureMoves` moves are drawn in proportion to the
 * visit counts; afterwards (and always when playing) the most visited move is played.
 *
 * Training: each iteration plays `gamesPerIteration` self-play games and stores every position with the
 * search's visit distribution π and the final result z from the mover's point of view in a replay buffer;
 * then `trainSteps` Adam steps on minibatches minimise (z − v)² − πᵀ log p + c‖θ‖², each sample seen through
 * one of the 8 board symmetries drawn at random. Every `evalEvery` iterations the greedy agent plays short
 * matches against random play and against plain UCT (`MctsPlayer` without RAVE, priors or heuristic
 * playouts), which show the progress in metrics.jsonl.
 *
 * Determinism: all randomness (noise, move sampling, minibatches, symmetries, initial weights) comes from the
 * run's seeded Rng, so a run is reproducible on one backend, and `--resume` continues an interrupted run
 * exactly: the checkpoint holds the network, Adam's moments, the Rng state and the replay buffer.
 */
import fs from 'node:fs';
import path from 'node:path';
import { BLACK, GoBoard, defaultKomi, type Stone } from '../../envs/go/board.js';
import { Rng } from '../../envs/index.js';
import { computeInfo, initCompute, tf, type BackendChoice, type ComputeInfo } from '../../lab/compute.js';
import { readableDir, readJson, writeDirAtomic, writeFileAtomic, writeFloat32Concat, writeJsonAtomic } from '../../lab/fsutil.js';
import { FusedAdam } from '../../lab/optim.js';
import { defaultCheckpointEvery, newRunConfig, readCheckpointPointer, RunStore, runStamp, type CheckpointChoice } from '../../lab/run_store.js';
import { readAlphaZeroRunMetrics, type AlphaZeroRunFields } from '../../lab/run_files.js';
import type { AlphaZeroRecord, GoEvalEvent, IterationEvent } from '../../protocol/events.js';
import { ALPHAZERO_AGENT, goEnvId, type RunInfo } from '../../protocol/protocol.js';
import { Network, convSpec } from '../../lab/network.js';
import { isOwnEye } from './mcts.js';
import type { GoPlayer } from './player.js';

// ------------------------------------------------------------------------------------------------------
// Hyperparameters

export interface AlphaZeroHyperparameters {
  /** Board size (5–19). */
  size: number;
  /** Komi of the self-play games (default: the Go-lite default for the size). */
  komi: number;
  /** Positions in the network input (k: planes = 2k + 1). */
  history: number;
  /** Filters of the 3x3 conv layers. */
  filters: number[];
  /** Dense layers after the convolutions. */
  hidden: number[];
  /** PUCT simulations per self-play move. */
  simulations: number;
  /** c_puct of the selection rule. */
  cPuct: number;
  /** First-play urgency: an unvisited move's Q is the node's value minus this. */
  fpuReduction: number;
  /**
   * 'restricted' (default): the search considers passing only right after the opponent passed (which ends
   * the game, an exact result) or when every other legal move would fill one of the player's own eyes.
   * 'free': pass is always a candidate. See the module comment.
   */
  passRule: PassRule;
  /** Dirichlet noise at the self-play root: concentration α and mixing weight ε. */
  dirichletAlpha: number;
  noiseFraction: number;
  /** Self-play moves drawn ∝ visit counts at the start of each game; later moves are the most visited. */
  temperatureMoves: number;
  gamesPerIteration: number;
  /** Adam steps after each iteration's games. */
  trainSteps: number;
  batchSize: number;
  learningRate: number;
  /** L2 coefficient c on the weights (kernels only). */
  weightDecay: number;
  /** Replay buffer capacity in positions. */
  bufferSize: number;
  /** Train on random board symmetries (rotations and reflections). */
  symmetries: boolean;
  /** Evaluate every this many iterations (0: never). */
  evalEvery: number;
  /** Games against each evaluation opponent (colours alternate). */
  evalGames: number;
  /** PUCT simulations of the agent in evaluation games. */
  evalSimulations: number;
  /** Simulations of the evaluation games' plain UCT opponent (random rollouts, no RAVE). */
  evalMctsSimulations: number;
}

export type PassRule = 'restricted' | 'free';

export function defaultHyperparameters(size = 7): AlphaZeroHyperparameters {
  return {
    size,
    komi: defaultKomi(size),
    history: 2,
    filters: [32, 32, 32],
    hidden: [128],
    simulations: 64,
    cPuct: 1.5,
    fpuReduction: 0.2,
    passRule: 'restricted',
    // AGZ used α = 0.03 on 19x19 (≈ 10 / average legal moves); the same rule gives ≈ 0.25 on 7x7.
    dirichletAlpha: Math.min(1, 10 / (size * size * 0.8)),
    noiseFraction: 0.25,
    temperatureMoves: Math.max(2, Math.round((size * size) / 6)),
    gamesPerIteration: 24,
    trainSteps: 48,
    batchSize: 128,
    learningRate: 1e-3,
    weightDecay: 1e-4,
    bufferSize: 40_000,
    symmetries: true,
    evalEvery: 10,
    evalGames: 10,
    evalSimulations: 128,
    evalMctsSimulations: 400,
  };
}

const INT_FIELDS = ['size', 'history', 'simulations', 'temperatureMoves', 'gamesPerIteration', 'trainSteps', 'batchSize', 'bufferSize', 'evalEvery', 'evalGames', 'evalSimulations', 'evalMctsSimulations'] as const;
const NUMBER_FIELDS = ['komi', 'cPuct', 'fpuReduction', 'dirichletAlpha', 'noiseFraction', 'learningRate', 'weightDecay'] as const;

/** Defaults for the size, overridden field by field; unknown names and bad values are errors that name them. */
export function resolveHyperparameters(overrides: Record<string, unknown> = {}): AlphaZeroHyperparameters {
  const size = overrides['size'] ?? 7;
  if (typeof size !== 'number' || !Number.isInteger(size) || size < 5 || size > 19) throw new Error(`alphazero: 'size' must be an integer from 5 to 19, got ${JSON.stringify(size)}`);
  const hp = defaultHyperparameters(size) as unknown as Record<string, unknown>;
  for (const [key, value] of Object.entries(overrides)) {
    if (!Object.hasOwn(hp, key)) throw new Error(`alphazero: unknown hyperparameter '${key}' (known: ${Object.keys(hp).join(', ')})`);
    hp[key] = value;
  }
  for (const key of INT_FIELDS) {
    const v = hp[key];
    const min = key === 'evalEvery' || key === 'temperatureMoves' || key === 'trainSteps' ? 0 : 1;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min) throw new Error(`alphazero: '${key}' must be an integer >= ${min}, got ${JSON.stringify(v)}`);
  }
  for (const key of NUMBER_FIELDS) {
    const v = hp[key];
    if (typeof v !== 'number' || !Number.isFinite(v) || (key !== 'komi' && v < 0)) throw new Error(`alphazero: '${key}' must be a ${key === 'komi' ? '' : 'non-negative '}finite number, got ${JSON.stringify(v)}`);
  }
  for (const key of ['filters', 'hidden'] as const) {
    const v = hp[key];
    if (!Array.isArray(v) || v.some((x) => typeof x !== 'number' || !Number.isInteger(x) || x < 1) || (key === 'filters' && v.length === 0)) {
      throw new Error(`alphazero: '${key}' must be a${key === 'filters' ? ' non-empty' : 'n'} array of positive integers, got ${JSON.stringify(v)}`);
    }
  }
  if (hp['passRule'] !== 'restricted' && hp['passRule'] !== 'free') throw new Error(`alphazero: 'passRule' must be 'restricted' or 'free', got ${JSON.stringify(hp['passRule'])}`);
  if (typeof hp['symmetries'] !== 'boolean') throw new Error(`alphazero: 'symmetries' must be true or false, got ${JSON.stringify(hp['symmetries'])}`);
  if ((hp['noiseFraction'] as number) > 1) throw new Error(`alphazero: 'noiseFraction' must be at most 1`);
  if ((hp['history'] as number) > 8) throw new Error(`alphazero: 'history' must be at most 8`);
  return hp as unknown as AlphaZeroHyperparameters;
}

// ------------------------------------------------------------------------------------------------------
// Board encoding and symmetries

/** Planes per position for history k. */
export function planeCount(history: number): number {
  return 2 * history + 1;
}

/**
 * Writes the planes of one position into `out` at `offset` (HWC). `positions[t]` is the board t moves ago
 * (cells, newest first; missing entries are empty boards); `toPlay` the colour to move now.
 */
export function encodePlanes(out: Float32Array, offset: number, positions: readonly (Int8Array | undefined)[], history: number, toPlay: Stone): void {
  const planes = planeCount(history);
  const area = positions[0]!.length;
  const opp = 3 - toPlay;
  out.fill(0, offset, offset + area * planes);
  for (let t = 0; t < history; t++) {
    const cells = positions[t];
    if (!cells) continue;
    for (let p = 0; p < area; p++) {
      const v = cells[p]!;
      if (v === toPlay) out[offset + p * planes + 2 * t] = 1;
      else if (v === opp) out[offset + p * planes + 2 * t + 1] = 1;
    }
  }
  if (toPlay === BLACK) for (let p = 0; p < area; p++) out[offset + p * planes + planes - 1] = 1;
}

/**
 * The 8 symmetries of the square board as point permutations: symmetry s maps point p to `perm[s][p]`.
 * s = (flip rows) | (flip columns) << 1 | (transpose) << 2; s = 0 is the identity.
 */
export function symmetryTables(size: number): Int16Array[] {
  const tables: Int16Array[] = [];
  for (let s = 0; s < 8; s++) {
    const t = new Int16Array(size * size);
    for (let r = 0; r < size; r++) {
      for (let c = 0; c < size; c++) {
        let a = s & 1 ? size - 1 - r : r;
        let b = s & 2 ? size - 1 - c : c;
        if (s & 4) [a, b] = [b, a];
        t[r * size + c] = a * size + b;
      }
    }
    tables.push(t);
  }
  return tables;
}

/** Copies one sample through a symmetry: planes [area, planes] and a policy over area + 1 (pass stays). */
function transformSample(perm: Int16Array, planes: number, srcPlanes: Float32Array, srcOff: number, dstPlanes: Float32Array, dstOff: number, srcPolicy: Float32Array, srcPOff: number, dstPolicy: Float32Array, dstPOff: number): void {
  const area = perm.length;
  for (let p = 0; p < area; p++) {
    const q = perm[p]!;
    for (let k = 0; k < planes; k++) dstPlanes[dstOff + q * planes + k] = srcPlanes[srcOff + p * planes + k]!;
    dstPolicy[dstPOff + q] = srcPolicy[srcPOff + p]!;
  }
  dstPolicy[dstPOff + area] = srcPolicy[srcPOff + area]!;
}

// ------------------------------------------------------------------------------------------------------
// The policy-value network

const AGENT_FORMAT = 'rl-gan-lab/alphazero@1';

/** What a saved agent directory records besides the network (agent.json next to model.json). */
export interface AgentMeta {
  format: string;
  size: number;
  history: number;
  komi: number;
  /** Self-play iterations behind these weights. */
  iteration: number;
}

export class PolicyValueNet {
  readonly actions: number;
  readonly planes: number;
  private readonly input: Float32Array;

  constructor(
    readonly net: Network,
    readonly size: number,
    readonly history: number,
  ) {
    this.actions = size * size + 1;
    this.planes = planeCount(history);
    const shape = net.spec.inputShape;
    if (shape.length !== 3 || shape[0] !== size || shape[1] !== size || shape[2] !== this.planes) {
      throw new Error(`alphazero: network input ${JSON.stringify(shape)} does not fit a ${size}x${size} board with history ${history} (expected [${size}, ${size}, ${this.planes}])`);
    }
    this.input = new Float32Array(size * size * this.planes);
  }

  static create(hp: AlphaZeroHyperparameters, rng: Rng): PolicyValueNet {
    const spec = convSpec([hp.size, hp.size, planeCount(hp.history)], hp.filters, hp.hidden, hp.size * hp.size + 2);
    return new PolicyValueNet(new Network(spec, rng), hp.size, hp.history);
  }

  /** Scratch input of one position, filled by the caller before `evaluate`. */
  get inputBuffer(): Float32Array {
    return this.input;
  }

  /** Evaluates the position in `inputBuffer`: writes the raw policy logits into `logits` and returns v. */
  evaluate(logits: Float32Array): number {
    const out = tf.tidy(() => this.net.apply(tf.tensor4d(this.input, [1, this.size, this.size, this.planes])));
    const data = out.dataSync() as Float32Array;
    logits.set(data.subarray(0, this.actions));
    const v = Math.tanh(data[this.actions]!);
    out.dispose();
    return v;
  }

  /** Writes model.json + weights.bin + agent.json into `dir` (which must exist). */
  save(dir: string, meta: { komi: number; iteration: number }): void {
    this.net.save(dir);
    const agent: AgentMeta = { format: AGENT_FORMAT, size: this.size, history: this.history, komi: meta.komi, iteration: meta.iteration };
    writeJsonAtomic(path.join(dir, 'agent.json'), agent);
  }

  /** Loads a saved agent directory (model.json, weights.bin, agent.json). */
  static load(dir: string): { net: PolicyValueNet; meta: AgentMeta } {
    const metaFile = path.join(dir, 'agent.json');
    if (!fs.existsSync(metaFile)) throw new Error(`${dir} is not an AlphaZero agent (no agent.json)`);
    const meta = readJson<AgentMeta>(metaFile, 'agent file');
    if (meta.format !== AGENT_FORMAT || !Number.isInteger(meta.size) || !Number.isInteger(meta.history)) {
      throw new Error(`${metaFile} is not an AlphaZero agent file (expected format '${AGENT_FORMAT}' with size and history)`);
    }
    return { net: new PolicyValueNet(Network.load(dir), meta.size, meta.history), meta };
  }

  dispose(): void {
    this.net.dispose();
  }
}

// ------------------------------------------------------------------------------------------------------
// PUCT search

class SearchNode {
  /** Visits and summed values of each legal move, from the point of view of the player to move here. */
  readonly n: Int32Array;
  readonly w: Float32Array;
  readonly children: (SearchNode | null)[];
  visits = 0;
  constructor(
    /** Legal actions (pass last). */
    readonly moves: Int16Array,
    /** Priors of `moves` (softmax of their logits). */
    readonly prior: Float32Array,
    /** The network's value for the player to move here. */
    readonly value: number,
  ) {
    this.n = new Int32Array(moves.length);
    this.w = new Float32Array(moves.length);
    this.children = new Array<SearchNode | null>(moves.length).fill(null);
  }
}

export interface SearchOptions {
  simulations: number;
  /** Stop early once this many milliseconds have passed (at least one simulation runs). */
  timeLimitMs?: number;
  cPuct: number;
  fpuReduction: number;
  passRule: PassRule;
  /** Dirichlet noise at the root (self-play). */
  noise?: { alpha: number; fraction: number; rng: Rng };
}

export interface SearchResult {
  /** Visit counts over all N² + 1 actions. */
  visits: Float32Array;
  /** The most visited action (ties: the higher prior). */
  best: number;
  /** Mean value of the root for the player to move (the search's estimate of the result, −1 … 1). */
  rootValue: number;
  simulations: number;
  elapsedMs: number;
}

/** Result of a finished game from the point of view of `player`: +1 win, −1 loss, 0 draw. */
function outcomeFor(board: GoBoard, player: Stone): number {
  const margin = board.score().margin;
  if (margin === 0) return 0;
  return (margin > 0) === (player === BLACK) ? 1 : -1;
}

/** Samples Gamma(α, 1) (Marsaglia & Tsang 2000; α < 1 through Gamma(α + 1) · U^{1/α}). */
function sampleGamma(alpha: number, rng: Rng): number {
  if (alpha < 1) {
    let u = rng.random();
    while (u === 0) u = rng.random();
    return sampleGamma(alpha + 1, rng) * u ** (1 / alpha);
  }
  const d = alpha - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    let x: number;
    let v: number;
    do {
      x = rng.normal();
      v = 1 + c * x;
    } while (v <= 0);
    v = v * v * v;
    const u = rng.random();
    if (u < 1 - 0.0331 * x ** 4) return d * v;
    if (u > 0 && Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) return d * v;
  }
}

/**
 * PUCT search with a policy-value network. One instance per network; it keeps scratch buffers, so it is
 * not re-entrant.
 */
export class PuctSearch {
  private readonly logits: Float32Array;
  private scratch: GoBoard | null = null;
  /** Cells after each move of the current simulation's path (index = depth). */
  private readonly pathCells: Int8Array[] = [];

  constructor(readonly model: PolicyValueNet) {
    this.logits = new Float32Array(model.actions);
  }

  /**
   * Searches from `board` (not modified). `previous[t]` is the board t + 1 moves ago (cells, newest first),
   * for the network's history planes.
   */
  run(board: GoBoard, previous: readonly Int8Array[], options: SearchOptions): SearchResult {
    const start = performance.now();
    const { model } = this;
    if (board.size !== model.size) throw new Error(`alphazero: this agent plays ${model.size}x${model.size}, not ${board.size}x${board.size}`);
    const visits = new Float32Array(model.actions);
    if (board.isOver) return { visits, best: board.passMove, rootValue: 0, simulations: 0, elapsedMs: 0 };
    if (this.scratch === null || this.scratch.komi !== board.komi) this.scratch = new GoBoard(board.size, board.komi);
    const b = this.scratch;
    const rootCells = board.cells.slice();
    const root = this.expand(board, [rootCells, ...previous], options.passRule);
    if (options.noise && root.moves.length > 1) {
      const { alpha, fraction, rng } = options.noise;
      const g = Array.from(root.moves, () => sampleGamma(alpha, rng));
      const total = g.reduce((a, x) => a + x, 0) || 1;
      for (let i = 0; i < root.prior.length; i++) root.prior[i] = (1 - fraction) * root.prior[i]! + (fraction * g[i]!) / total;
    }
    const pathNodes: SearchNode[] = [];
    const pathIdx: number[] = [];
    let sims = 0;
    while (sims < options.simulations) {
      if (options.timeLimitMs !== undefined && sims > 0 && performance.now() - start > options.timeLimitMs) break;
      sims++;
      b.copyFrom(board);
      pathNodes.length = 0;
      pathIdx.length = 0;
      let node = root;
      let depth = 0;
      let leafValue: number;
      for (;;) {
        const i = this.select(node, options.cPuct, options.fpuReduction);
        pathNodes.push(node);
        pathIdx.push(i);
        b.playUnchecked(node.moves[i]!);
        depth++;
        const cells = (this.pathCells[depth] ??= new Int8Array(b.area));
        cells.set(b.cells);
        const child = node.children[i];
        if (child) {
          node = child;
          continue;
        }
        if (b.isOver) {
          leafValue = outcomeFor(b, b.toPlay);
        } else {
          const history: (Int8Array | undefined)[] = [];
          for (let t = 0; t < model.history; t++) {
            const d = depth - t;
            history.push(d > 0 ? this.pathCells[d] : d === 0 ? rootCells : previous[-d - 1]);
          }
          const leaf = this.expand(b, history, options.passRule);
          node.children[i] = leaf;
          leafValue = leaf.value;
        }
        break;
      }
      // Back up: the leaf value is for the player to move at the leaf; the last edge was chosen by the other.
      let v = -leafValue;
      for (let k = pathNodes.length - 1; k >= 0; k--) {
        const nd = pathNodes[k]!;
        const i = pathIdx[k]!;
        nd.n[i]!++;
        nd.w[i]! += v;
        nd.visits++;
        v = -v;
      }
    }
    let bestI = 0;
    let rootW = 0;
    for (let i = 0; i < root.moves.length; i++) {
      visits[root.moves[i]!] = root.n[i]!;
      rootW += root.w[i]!;
      if (root.n[i]! > root.n[bestI]! || (root.n[i] === root.n[bestI] && root.prior[i]! > root.prior[bestI]!)) bestI = i;
    }
    return { visits, best: root.moves[bestI]!, rootValue: root.visits > 0 ? rootW / root.visits : root.value, simulations: sims, elapsedMs: performance.now() - start };
  }

  private select(node: SearchNode, cPuct: number, fpuReduction: number): number {
    const sqrtN = Math.sqrt(Math.max(1, node.visits));
    const fpu = node.value - fpuReduction;
    let best = 0;
    let bestScore = -Infinity;
    for (let i = 0; i < node.moves.length; i++) {
      const n = node.n[i]!;
      const q = n > 0 ? node.w[i]! / n : fpu;
      const s = q + (cPuct * node.prior[i]! * sqrtN) / (1 + n);
      if (s > bestScore) {
        bestScore = s;
        best = i;
      }
    }
    return best;
  }

  /** Evaluates a non-terminal position (history newest first) and makes its node. */
  private expand(b: GoBoard, history: readonly (Int8Array | undefined)[], passRule: PassRule): SearchNode {
    const { model, logits } = this;
    encodePlanes(model.inputBuffer, 0, history, model.history, b.toPlay);
    const value = model.evaluate(logits);
    const legal = candidateMoves(b, passRule);
    const moves = Int16Array.from(legal);
    const prior = new Float32Array(moves.length);
    let max = -Infinity;
    for (const m of legal) max = Math.max(max, logits[m]!);
    let total = 0;
    for (let i = 0; i < moves.length; i++) {
      const e = Math.exp(logits[moves[i]!]! - max);
      prior[i] = e;
      total += e;
    }
    for (let i = 0; i < moves.length; i++) prior[i]! /= total;
    return new SearchNode(moves, prior, value);
  }
}

/**
 * The moves the search considers: all legal moves, except that under the 'restricted' pass rule pass is a
 * candidate only right after the opponent passed or when every other legal move fills one of the player's
 * own single-point eyes. Why: under area scoring, playing inside one's own territory costs nothing, so
 * passing early never gains; but a young network values every move of a losing side alike, and self-play
 * then collapses into short games where the loser passes at once and learns nothing. The rule also keeps
 * the games going until dead stones are captured, which Tromp-Taylor scoring requires.
 */
export function candidateMoves(b: GoBoard, passRule: PassRule): number[] {
  const legal = b.legalMoves();
  if (passRule === 'free' || legal.length <= 1) return legal;
  if (b.lastMove === b.passMove) return legal;
  const c = b.toPlay;
  const out = legal.filter((m) => m !== b.passMove && !isOwnEye(b, m, c));
  if (out.length === 0) return [b.passMove];
  return out;
}

/** The boards before the current one (cells, newest first), up to `count`, rebuilt from the move list. */
export function previousPositions(board: GoBoard, count: number): Int8Array[] {
  const moves = board.moves;
  const out: Int8Array[] = [];
  for (let t = 1; t <= count && t <= moves.length; t++) out.push(GoBoard.fromMoves(board.size, board.komi, moves.slice(0, moves.length - t)).cells.slice());
  return out;
}

// ------------------------------------------------------------------------------------------------------
// The player (matches, GTP, the viewer)

export interface AlphaZeroPlayerOptions {
  /** PUCT simulations per move (default 400). */
  simulations?: number;
  /** Stop each search after this many milliseconds. */
  timeLimitMs?: number;
  cPuct?: number;
  fpuReduction?: number;
  passRule?: PassRule;
  name?: string;
}

export class AlphaZeroPlayer implements GoPlayer {
  readonly name: string;
  private readonly searcher: PuctSearch;

  constructor(
    readonly model: PolicyValueNet,
    private readonly options: AlphaZeroPlayerOptions = {},
    /** Disposes the network with the player (false when the caller owns it, e.g. during training). */
    private readonly ownsModel = true,
  ) {
    const sims = options.simulations ?? 400;
    if (!Number.isInteger(sims) || sims < 1) throw new RangeError(`AlphaZeroPlayer: simulations must be a positive integer, got ${sims}`);
    this.name = options.name ?? `alphazero-${sims}`;
    this.searcher = new PuctSearch(model);
  }

  /**
   * Loads an agent from a run directory of `lab go train` (its final `agent/`, else its latest checkpoint)
   * or from a saved agent directory (agent.json + model.json + weights.bin).
   */
  static async load(dir: string, options: AlphaZeroPlayerOptions = {}): Promise<AlphaZeroPlayer> {
    if (computeInfo() === null) await initSyncCompute('auto');
    else if (!computeInfo()!.syncReads) throw new Error(refusal(computeInfo()!.backend));
    const agentDir = resolveAgentDir(dir);
    const { net } = PolicyValueNet.load(agentDir);
    return new AlphaZeroPlayer(net, { name: `alphazero:${path.basename(path.resolve(dir))}`, ...options });
  }

  /** One search from `board` (not modified): visit counts, the chosen move, the value estimate. */
  analyze(board: GoBoard): SearchResult {
    return this.searcher.run(board, previousPositions(board, this.model.history - 1), {
      simulations: this.options.simulations ?? 400,
      ...(this.options.timeLimitMs !== undefined ? { timeLimitMs: this.options.timeLimitMs } : {}),
      cPuct: this.options.cPuct ?? 1.5,
      fpuReduction: this.options.fpuReduction ?? 0.2,
      passRule: this.options.passRule ?? 'restricted',
    });
  }

  genmove(board: GoBoard): number {
    if (board.isOver) return board.passMove;
    return this.analyze(board).best;
  }

  close(): void {
    if (this.ownsModel) this.model.dispose();
  }
}

/** The directory holding agent.json for a run directory, an agent directory or a checkpoint directory. */
export function resolveAgentDir(dir: string): string {
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw new Error(`AlphaZero agent ${dir}: no such directory`);
  if (fs.existsSync(path.join(dir, 'agent.json'))) return dir;
  // agent/ is written by writeDirAtomic: readableDir finds its previous version while a crash left it renamed aside.
  const agent = readableDir(path.join(dir, 'agent'));
  if (fs.existsSync(path.join(agent, 'agent.json'))) return agent;
  // The pointer must name a checkpoint directory of this run (readCheckpointPointer refuses anything else).
  const latest = readCheckpointPointer(path.join(dir, 'checkpoints'), 'iterations');
  if (latest) {
    const ck = path.join(dir, 'checkpoints', latest.dir);
    if (fs.existsSync(path.join(ck, 'agent.json'))) return ck;
  }
  throw new Error(`${dir} holds no AlphaZero agent (expected agent.json, agent/agent.json or checkpoints/latest.json from lab go train)`);
}

// ------------------------------------------------------------------------------------------------------
// Self-play

export interface SelfPlayGame {
  /** Planes of every position played, [moves, N·N·planes]. */
  planes: Float32Array;
  /** Visit distributions π, [moves, N² + 1]. */
  policies: Float32Array;
  /** Result for the player to move at each position: +1, −1 or 0. */
  results: Float32Array;
  moves: number[];
  /** Black's margin (black − white − komi). */
  margin: number;
}

/** Plays one game of the network against itself with noisy, temperature-sampled PUCT. */
export function selfPlayGame(search: PuctSearch, hp: AlphaZeroHyperparameters, rng: Rng): SelfPlayGame {
  const { model } = search;
  const board = new GoBoard(hp.size, hp.komi);
  const previous: Int8Array[] = [];
  const stride = model.size * model.size * model.planes;
  const planes: Float32Array[] = [];
  const policies: Float32Array[] = [];
  const movers: Stone[] = [];
  while (!board.isOver) {
    const r = search.run(board, previous, { simulations: hp.simulations, cPuct: hp.cPuct, fpuReduction: hp.fpuReduction, passRule: hp.passRule, noise: { alpha: hp.dirichletAlpha, fraction: hp.noiseFraction, rng } });
    const x = new Float32Array(stride);
    encodePlanes(x, 0, [board.cells, ...previous], model.history, board.toPlay);
    const total = r.visits.reduce((a, v) => a + v, 0);
    const pi = r.visits.map((v) => v / total);
    planes.push(x);
    policies.push(pi);
    movers.push(board.toPlay);
    const move = board.moves.length < hp.temperatureMoves ? rng.categorical(r.visits) : r.best;
    previous.unshift(board.cells.slice());
    if (previous.length > model.history - 1) previous.length = model.history - 1;
    board.playUnchecked(move);
  }
  const n = planes.length;
  const game: SelfPlayGame = { planes: new Float32Array(n * stride), policies: new Float32Array(n * model.actions), results: new Float32Array(n), moves: board.moves, margin: board.score().margin };
  for (let i = 0; i < n; i++) {
    game.planes.set(planes[i]!, i * stride);
    game.policies.set(policies[i]!, i * model.actions);
    game.results[i] = outcomeFor(board, movers[i]!);
  }
  return game;
}

// ------------------------------------------------------------------------------------------------------
// Replay buffer (ring of positions on typed arrays)

export class PositionBuffer {
  readonly planes: Float32Array;
  readonly policies: Float32Array;
  readonly results: Float32Array;
  /** Positions stored (≤ capacity) and the next slot to write. */
  count = 0;
  next = 0;

  constructor(
    readonly capacity: number,
    readonly stride: number,
    readonly actions: number,
  ) {
    this.planes = new Float32Array(capacity * stride);
    this.policies = new Float32Array(capacity * actions);
    this.results = new Float32Array(capacity);
  }

  add(game: SelfPlayGame): void {
    const n = game.results.length;
    for (let i = 0; i < n; i++) {
      const j = this.next;
      this.planes.set(game.planes.subarray(i * this.stride, (i + 1) * this.stride), j * this.stride);
      this.policies.set(game.policies.subarray(i * this.actions, (i + 1) * this.actions), j * this.actions);
      this.results[j] = game.results[i]!;
      this.next = (j + 1) % this.capacity;
      this.count = Math.min(this.capacity, this.count + 1);
    }
  }

  /** The first `rows` positions of each array, in file order (planes, policies, results). */
  private rowParts(rows: number): Float32Array[] {
    return [this.planes.subarray(0, rows * this.stride), this.policies.subarray(0, rows * this.actions), this.results.subarray(0, rows)];
  }

  /**
   * Writes the stored positions only (`count` of them: until the ring wraps they are the first `count` slots,
   * after that all of them), so an early checkpoint of a run with a large buffer is small.
   */
  save(file: string): void {
    writeFloat32Concat(file, this.rowParts(this.count));
  }

  /**
   * Restores what `save` wrote for `count` positions and write slot `next`, exactly; also reads checkpoints from
   * before (which held the whole capacity).
   */
  load(file: string, count: number, next: number): void {
    if (!Number.isSafeInteger(count) || count < 0 || count > this.capacity || !Number.isSafeInteger(next) || next < 0 || next >= this.capacity) {
      throw new Error(`replay buffer state for ${file} is inconsistent (count ${count}, next ${next}, capacity ${this.capacity})`);
    }
    const raw = fs.readFileSync(file);
    const rowBytes = 4 * (this.stride + this.actions + 1);
    const rows = raw.byteLength === rowBytes * count ? count : raw.byteLength === rowBytes * this.capacity ? this.capacity : -1;
    if (rows < 0) throw new Error(`replay buffer file ${file} has ${raw.byteLength} bytes, expected ${rowBytes * count} (${count} positions)`);
    const all = new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
    let offset = 0;
    for (const p of this.rowParts(rows)) {
      p.set(all.subarray(offset, offset + p.length));
      offset += p.length;
    }
    // Slots never written hold what a new buffer holds.
    this.planes.fill(0, rows * this.stride);
    this.policies.fill(0, rows * this.actions);
    this.results.fill(0, rows);
    this.count = count;
    this.next = next;
  }
}

// ------------------------------------------------------------------------------------------------------
// Training step

export interface TrainStats {
  policyLoss: number;
  valueLoss: number;
  /** Mean entropy of the network's policy on the batch (nats). */
  policyEntropy: number;
}

/** Builds a minibatch (random symmetry per sample when enabled) and takes one Adam step. */
export function trainStep(model: PolicyValueNet, optimizer: FusedAdam, buffer: PositionBuffer, hp: AlphaZeroHyperparameters, rng: Rng, perms: Int16Array[]): TrainStats {
  const B = hp.batchSize;
  const { stride, actions } = buffer;
  const x = new Float32Array(B * stride);
  const pi = new Float32Array(B * actions);
  const z = new Float32Array(B);
  for (let i = 0; i < B; i++) {
    const j = rng.integer(buffer.count);
    const s = hp.symmetries ? rng.integer(8) : 0;
    transformSample(perms[s]!, model.planes, buffer.planes, j * stride, x, i * stride, buffer.policies, j * actions, pi, i * actions);
    z[i] = buffer.results[j]!;
  }
  const parts: tf.Scalar[] = [];
  const { value, grads } = tf.variableGrads(() => {
    const out = model.net.apply(tf.tensor4d(x, [B, model.size, model.size, model.planes])) as tf.Tensor2D;
    const logits = tf.slice(out, [0, 0], [B, actions]);
    const v = tf.tanh(tf.reshape(tf.slice(out, [0, actions], [B, 1]), [B]));
    const logp = tf.logSoftmax(logits);
    const policyLoss = tf.neg(tf.mean(tf.sum(tf.mul(tf.tensor2d(pi, [B, actions]), logp), 1)));
    const valueLoss = tf.mean(tf.square(tf.sub(v, tf.tensor1d(z))));
    const entropy = tf.neg(tf.mean(tf.sum(tf.mul(tf.exp(logp), logp), 1)));
    parts.push(tf.keep(policyLoss) as tf.Scalar, tf.keep(valueLoss) as tf.Scalar, tf.keep(entropy) as tf.Scalar);
    let l2: tf.Tensor = tf.scalar(0);
    model.net.variables.forEach((w, k) => {
      if (k % 2 === 0) l2 = tf.add(l2, tf.sum(tf.square(w)));
    });
    return tf.add(tf.add(policyLoss, valueLoss), tf.mul(l2, hp.weightDecay)) as tf.Scalar;
  }, model.net.variables);
  optimizer.apply(model.net.variables.map((w) => grads[w.name]!));
  value.dispose();
  for (const g of Object.values(grads)) g.dispose();
  const [policyLoss, valueLoss, policyEntropy] = parts.map((p) => {
    const n = p.dataSync()[0]!;
    p.dispose();
    return n;
  }) as [number, number, number];
  return { policyLoss, valueLoss, policyEntropy };
}

// ------------------------------------------------------------------------------------------------------
// The training loop and its run directory
//
//   runs/<runId>/
//     config.json              kind "go-alphazero": hyperparameters, seed, budget, backend, versions
//     metrics.jsonl            {"type":"iteration",…} per iteration, {"type":"go-eval",…} per evaluation match
//     checkpoints/latest.json  {"unit": "iterations", "at": N, "dir": "iter-0000000N"}, written last (lab/run_store.ts)
//     checkpoints/iter-…/      agent.json + model.json + weights.bin, Adam state, replay buffer, Rng, loop state
//     agent/                   the final network (a player for lab match / lab gtp / the viewer)

export const ALPHAZERO_RUN_KIND = 'go-alphazero';

/** An AlphaZero-lite run's config.json (its fields are defined, and checked, with the other kinds' in lab/run_files.ts). */
export type AlphaZeroRunConfig = AlphaZeroRunFields<AlphaZeroHyperparameters>;

// The records of metrics.jsonl (types and checks in protocol/events.ts, with every kind's records).
export type { AlphaZeroRecord, GoEvalEvent, IterationEvent };

export type AlphaZeroEvent = IterationEvent | GoEvalEvent | { type: 'checkpoint'; iteration: number; dir: string };

/**
 * What a live publisher announces for an AlphaZero-lite run (lab go train --live, lab sweep --live): its
 * identity, its budget in iterations, and the iteration a resumed run continues from.
 */
export function alphaZeroRunInfo(config: AlphaZeroRunConfig, runDir: string): RunInfo {
  let startStep = 0;
  try {
    startStep = RunStore.open(runDir, ALPHAZERO_RUN_KIND).latestCheckpoint()?.at ?? 0;
  } catch {
    // a damaged pointer: the run reports its iterations as they come
  }
  return {
    runId: config.runId,
    kind: ALPHAZERO_RUN_KIND,
    envId: goEnvId(config.hyperparameters.size),
    agent: ALPHAZERO_AGENT,
    preset: null,
    seed: config.seed,
    steps: config.iterations,
    episodes: null,
    numEnvs: 1,
    backend: config.backend.backend,
    // No frames: the view shows curves and matches.
    fps: 1,
    runDir: path.resolve(runDir),
    startStep,
    hyperparameters: JSON.parse(JSON.stringify(config.hyperparameters)) as Record<string, unknown>,
  };
}

export interface AlphaZeroTrainOptions {
  /** Hyperparameter overrides (size among them). */
  hyperparameters?: Record<string, unknown>;
  seed?: number;
  iterations?: number;
  /** Stop after the first iteration that ends past this many seconds of this session. */
  maxSeconds?: number;
  /**
   * Iterations between checkpoints. Default: `azCheckpointEvery(iterations)`, and with `maxSeconds` also after
   * the first iteration that ends a tenth of `maxSeconds` after the last checkpoint.
   */
  checkpointEvery?: number;
  out?: string;
  runId?: string;
  backend?: BackendChoice;
  /** Progress callback (the CLI prints these). */
  onEvent?: (event: AlphaZeroEvent) => void;
  /** Called once the run directory exists and the backend is chosen (also on resume). */
  onStart?: (config: AlphaZeroRunConfig, dir: string) => void;
  /** Where resume says what it passed over (a damaged newest checkpoint); default: stderr. */
  onWarning?: (message: string) => void;
  /** Asked between iterations; true stops with a checkpoint (Ctrl-C). */
  shouldStop?: () => boolean;
  command?: string;
}

export interface AlphaZeroOutcome {
  dir: string;
  iteration: number;
  size: number;
  /** Whether the iteration budget was reached (false: stopped by time or signal). */
  finished: boolean;
}

interface LoopState {
  iteration: number;
  elapsed: number;
  metricsSize: number;
  rng: ReturnType<Rng['toJSON']>;
  bufferCount: number;
  bufferNext: number;
}

/** The longest default interval between AlphaZero checkpoints, in iterations. */
export const AZ_CHECKPOINT_EVERY = 5;

/** Default iterations between checkpoints: a tenth of the run (a kill -9 loses at most about that), 1 to 5. */
export function azCheckpointEvery(iterations: number): number {
  return defaultCheckpointEvery(iterations, AZ_CHECKPOINT_EVERY, 1);
}

function checkCheckpointEvery(n: number): number {
  if (!Number.isInteger(n) || n < 1) throw new Error(`alphazero: checkpointEvery must be a positive integer, got ${n}`);
  return n;
}

/** Why AlphaZero-lite cannot run on a backend that reads back asynchronously. */
function refusal(backend: string): string {
  return `AlphaZero-lite reads its network synchronously at every leaf of its tree search (and a Go env asks its opponent for moves synchronously), which backend '${backend}' cannot: use --backend wasm or cpu`;
}

/**
 * initCompute for AlphaZero-lite: a backend with synchronous reads. Asked for 'auto', a GPU backend without
 * them (webgpu on a machine with a GPU) gives way to wasm; asked for one by name, it is refused before anything
 * is written.
 */
async function initSyncCompute(choice: BackendChoice): Promise<ComputeInfo> {
  const compute = await initCompute(choice, { needsSyncReads: 'AlphaZero-lite reads its network at every leaf of its tree search' });
  if (compute.syncReads) return compute;
  throw new Error(refusal(compute.backend));
}

/** Starts a new self-play run. */
export async function trainAlphaZero(options: AlphaZeroTrainOptions = {}): Promise<AlphaZeroOutcome> {
  const hp = resolveHyperparameters(options.hyperparameters ?? {});
  const seed = options.seed ?? 0;
  const iterations = options.iterations ?? 100;
  if (!Number.isInteger(iterations) || iterations < 1) throw new Error(`alphazero: iterations must be a positive integer, got ${iterations}`);
  const compute = await initSyncCompute(options.backend ?? 'auto');
  const config: AlphaZeroRunConfig = {
    ...newRunConfig(ALPHAZERO_RUN_KIND, {
      runId: options.runId ?? `go${hp.size}-alphazero-s${seed}-${runStamp()}`,
      hyperparameters: hp,
      seed,
      requestedBackend: options.backend ?? 'auto',
      compute,
      ...(options.command !== undefined ? { command: options.command } : {}),
    }),
    agent: 'alphazero',
    iterations,
    checkpointEvery: checkCheckpointEvery(options.checkpointEvery ?? azCheckpointEvery(iterations)),
  };
  const store = RunStore.create(options.out ?? 'runs', config);
  store.claimWriter();
  const rng = new Rng(seed);
  const model = PolicyValueNet.create(hp, rng);
  return runLoop(store, config, model, rng, null, options);
}

/** What a checkpoint restores besides the network: Adam's state, the replay buffer, the loop state. */
interface Restored {
  state: LoopState;
  optimizer: FusedAdam;
  buffer: PositionBuffer;
}

/** Loads everything from a checkpoint directory; throws (leaving no tensors behind) when something is damaged. */
function loadCheckpoint(ck: string, hp: AlphaZeroHyperparameters): { net: PolicyValueNet } & Restored {
  const file = path.join(ck, 'state.json');
  const state = readJson<LoopState>(file, 'loop state');
  if (state === null || typeof state !== 'object' || !Number.isSafeInteger(state.iteration) || !Number.isSafeInteger(state.metricsSize) || !state.rng) {
    throw new Error(`loop state ${file} is damaged (no iteration, metrics size or RNG state)`);
  }
  const { net } = PolicyValueNet.load(ck);
  try {
    if (net.size !== hp.size) throw new Error(`the network in ${ck} is for ${net.size}x${net.size}, the run is ${hp.size}x${hp.size}`);
    const optimizer = new FusedAdam(net.net.variables, { learningRate: hp.learningRate });
    optimizer.load(ck);
    const buffer = new PositionBuffer(hp.bufferSize, net.size * net.size * net.planes, net.actions);
    buffer.load(path.join(ck, 'buffer.bin'), state.bufferCount, state.bufferNext);
    Rng.fromJSON(state.rng);
    return { net, state, optimizer, buffer };
  } catch (err) {
    net.dispose();
    throw err;
  }
}

/** Continues a run from its latest checkpoint; what the crashed process wrote after it is dropped. */
export async function resumeAlphaZero(dir: string, options: Omit<AlphaZeroTrainOptions, 'hyperparameters' | 'seed' | 'out' | 'runId'> = {}): Promise<AlphaZeroOutcome> {
  const store = RunStore.open(dir, ALPHAZERO_RUN_KIND);
  const config = store.config<AlphaZeroRunConfig>();
  if (!fs.existsSync(store.checkpointsDir)) throw new Error(`${dir} has no checkpoint to resume from (checkpoints/latest.json is missing)`);
  store.claimWriter();
  let choice: CheckpointChoice<ReturnType<typeof loadCheckpoint>>;
  try {
    await initSyncCompute(options.backend ?? (config.backend.backend as BackendChoice));
    // The newest intact checkpoint (a damaged one is passed over, out loud); metrics.jsonl must still hold what it
    // recorded (else an error, the file untouched) and is cut back to it.
    choice = await store.resumeFrom({
      load: (ck: string) => loadCheckpoint(ck, config.hyperparameters),
      metricsSize: (loaded) => loaded.state.metricsSize,
      discard: (loaded) => loaded.net.dispose(),
      ...(options.onWarning ? { onWarning: options.onWarning } : {}),
    });
  } catch (err) {
    store.releaseWriter();
    throw err;
  }
  const { net, ...restored } = choice.loaded;
  try {
    let changed = false;
    if (options.iterations !== undefined && options.iterations !== config.iterations) {
      if (!Number.isInteger(options.iterations) || options.iterations < 1) throw new Error(`alphazero: iterations must be a positive integer, got ${options.iterations}`);
      config.iterations = options.iterations;
      changed = true;
    }
    if (options.checkpointEvery !== undefined && options.checkpointEvery !== config.checkpointEvery) {
      config.checkpointEvery = checkCheckpointEvery(options.checkpointEvery);
      changed = true;
    }
    if (changed) store.writeConfig(config);
  } catch (err) {
    net.dispose();
    store.releaseWriter();
    throw err;
  }
  return runLoop(store, config, net, Rng.fromJSON(restored.state.rng), restored, options);
}

async function runLoop(store: RunStore, config: AlphaZeroRunConfig, model: PolicyValueNet, rng: Rng, resume: Restored | null, options: AlphaZeroTrainOptions): Promise<AlphaZeroOutcome> {
  const { dir } = store;
  const hp = config.hyperparameters;
  const optimizer = resume?.optimizer ?? new FusedAdam(model.net.variables, { learningRate: hp.learningRate });
  const buffer = resume?.buffer ?? new PositionBuffer(hp.bufferSize, model.size * model.size * model.planes, model.actions);
  let iteration = resume?.state.iteration ?? 0;
  const elapsedBefore = resume?.state.elapsed ?? 0;
  // With a time budget and no interval given, also checkpoint every tenth of the time budget.
  const checkpointSeconds = options.maxSeconds !== undefined && options.checkpointEvery === undefined ? options.maxSeconds / 10 : Infinity;
  options.onStart?.(config, dir);
  const emit = (event: AlphaZeroEvent): void => {
    if (event.type !== 'checkpoint') store.append(event);
    options.onEvent?.(event);
  };
  const search = new PuctSearch(model);
  const perms = symmetryTables(hp.size);
  const sessionStart = performance.now();
  const elapsed = (): number => elapsedBefore + (performance.now() - sessionStart) / 1000;

  let lastCheckpointAt = performance.now();
  // The iteration latest.json points at (a stop right after a resume from an older checkpoint, passed over a
  // damaged newer one, points it back at the checkpoint resumed from).
  let lastCheckpointIteration = -1;
  try {
    lastCheckpointIteration = store.latestCheckpoint()?.at ?? -1;
  } catch {
    // a damaged pointer: the next checkpoint replaces it
  }
  const checkpoint = async (): Promise<void> => {
    const name = store.checkpointName(iteration);
    // metrics.jsonl is flushed to disk before its size is recorded: the size a checkpoint records is on disk.
    store.sync();
    const state: LoopState = { iteration, elapsed: elapsed(), metricsSize: store.metricsSize(), rng: rng.toJSON(), bufferCount: buffer.count, bufferNext: buffer.next };
    await writeDirAtomic(path.join(dir, 'checkpoints', name), async (tmp) => {
      model.save(tmp, { komi: hp.komi, iteration });
      await optimizer.save(tmp);
      buffer.save(path.join(tmp, 'buffer.bin'));
      writeFileAtomic(path.join(tmp, 'state.json'), JSON.stringify(state) + '\n');
    });
    // Keep this one and the one before; the pointer moves first, so it never points at a deleted one.
    store.setLatestCheckpoint(iteration, name);
    lastCheckpointAt = performance.now();
    lastCheckpointIteration = iteration;
    emit({ type: 'checkpoint', iteration, dir: name });
  };

  let finished = false;
  try {
    while (iteration < config.iterations) {
      if (options.shouldStop?.()) break;
      if (options.maxSeconds !== undefined && (performance.now() - sessionStart) / 1000 >= options.maxSeconds) break;
      iteration++;
      const t0 = performance.now();
      let positions = 0;
      let blackWins = 0;
      let whiteWins = 0;
      for (let g = 0; g < hp.gamesPerIteration; g++) {
        const game = selfPlayGame(search, hp, rng);
        buffer.add(game);
        positions += game.results.length;
        if (game.margin > 0) blackWins++;
        else if (game.margin < 0) whiteWins++;
      }
      const t1 = performance.now();
      let sums = { policyLoss: 0, valueLoss: 0, policyEntropy: 0 };
      for (let s = 0; s < hp.trainSteps; s++) {
        const st = trainStep(model, optimizer, buffer, hp, rng, perms);
        sums = { policyLoss: sums.policyLoss + st.policyLoss, valueLoss: sums.valueLoss + st.valueLoss, policyEntropy: sums.policyEntropy + st.policyEntropy };
      }
      const t2 = performance.now();
      const steps = Math.max(1, hp.trainSteps);
      emit({
        type: 'iteration',
        iteration,
        games: hp.gamesPerIteration,
        positions,
        bufferSize: buffer.count,
        meanGameLength: positions / hp.gamesPerIteration,
        blackWins,
        whiteWins,
        draws: hp.gamesPerIteration - blackWins - whiteWins,
        policyLoss: hp.trainSteps ? sums.policyLoss / steps : Number.NaN,
        valueLoss: hp.trainSteps ? sums.valueLoss / steps : Number.NaN,
        policyEntropy: hp.trainSteps ? sums.policyEntropy / steps : Number.NaN,
        selfPlaySeconds: (t1 - t0) / 1000,
        trainSeconds: (t2 - t1) / 1000,
        elapsed: elapsed(),
      });
      if (hp.evalEvery > 0 && iteration % hp.evalEvery === 0) for (const e of await evaluate(model, hp, iteration)) emit(e);
      if (iteration % config.checkpointEvery === 0 || iteration === config.iterations || (performance.now() - lastCheckpointAt) / 1000 >= checkpointSeconds) await checkpoint();
    }
    finished = iteration >= config.iterations;
    if (lastCheckpointIteration !== iteration) await checkpoint();
    await writeDirAtomic(path.join(dir, 'agent'), (tmp) => model.save(tmp, { komi: hp.komi, iteration }));
  } finally {
    store.close();
    store.releaseWriter();
    model.dispose();
  }
  return { dir, iteration, size: hp.size, finished };
}

/** Short matches of the greedy agent against random play and UCT (colours alternate). */
async function evaluate(model: PolicyValueNet, hp: AlphaZeroHyperparameters, iteration: number): Promise<GoEvalEvent[]> {
  const { playMatch } = await import('./match.js');
  const { RandomPlayer } = await import('./random_player.js');
  const { MctsPlayer } = await import('./mcts.js');
  const agent = new AlphaZeroPlayer(model, { simulations: hp.evalSimulations, cPuct: hp.cPuct, fpuReduction: hp.fpuReduction, passRule: hp.passRule }, false);
  // Plain UCT (random rollouts, no RAVE): a fixed yardstick that the early agents can already beat sometimes.
  const uct = new MctsPlayer({ simulations: hp.evalMctsSimulations, seed: iteration, rave: false, priors: false, heuristics: false, reuseTree: false, name: `uct-${hp.evalMctsSimulations}` });
  const opponents: GoPlayer[] = [new RandomPlayer({ seed: iteration }), uct];
  const events: GoEvalEvent[] = [];
  for (const opponent of opponents) {
    const r = await playMatch(agent, opponent, { games: hp.evalGames, size: hp.size, komi: hp.komi, seed: iteration });
    events.push({ type: 'go-eval', iteration, opponent: opponent.name, games: hp.evalGames, wins: r.a.wins, losses: r.a.losses, draws: r.a.draws, score: r.a.winRate });
  }
  return events;
}

/**
 * Reads a run's metrics.jsonl, every record checked (lab/run_files.ts readAlphaZeroRunMetrics): a partial last
 * line from a crash is skipped, a damaged line is a RunDamage naming it.
 */
export function readAlphaZeroMetrics(dir: string): AlphaZeroRecord[] {
  return readAlphaZeroRunMetrics(dir);
}

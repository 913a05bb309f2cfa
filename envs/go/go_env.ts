/**
 * Go-lite environments: `GoEnv` (two players take turns through the same env: self-play, GTP bridges) and
 * `GoVsOpponentEnv` (single agent against a fixed opponent policy played inside `step()`).
 *
 *   const env = new GoVsOpponentEnv({ size: 7 });         // agent = Black, opponent = uniform random
 *   const sp = new GoVsOpponentEnv({ opponent: 'self', agentColor: 'random' });
 *   sp.attachOpponent((board, rng, game) => myPolicy(game.observe(), board.legalMask()));   // self-play
 *   let [obs, info] = env.reset({ seed: 0 });
 *   const [next, reward, terminated, truncated, stepInfo] = env.step(24);   // D4 on 7x7
 *
 * Rules: see `board.ts` (Tromp-Taylor area scoring, komi to White, suicide illegal, positional superko on
 * the board colouring only, pass always legal, end after two passes or 2·N² moves, scored as it stands).
 *
 * Actions: `row·N + col` with row 0 = the top row (GTP row N) and col 0 = column A ('I' is skipped in GTP
 * names); pass = N². `Discrete(N² + 1)`. An illegal action throws `InvalidAction` naming the move in GTP
 * coordinates and the reason (occupied / suicide / superko).
 *
 * Observation (AlphaGo-Zero planes, seen by the player to move): Float32Array HWC `[N, N, 2k + 1]`,
 * k = `history` (default 4). For t = 0 … k−1, plane 2t = stones of the player to move in the position t
 * moves ago (t = 0: now), plane 2t+1 = the opponent's stones then; positions before the start are empty.
 * Every action (passes included) makes a new history entry. The last plane is all 1 when Black is to move,
 * all 0 when White is. Box(0, 1, [N, N, 2k + 1]). A new array every call.
 *
 * Info: `{ actionMask: Int8Array(N² + 1) (legal moves, pass included; all 0 once over), toPlay, captures:
 * { black, white } (stones captured BY each colour), moveNumber }`, plus at the end `score: { black, white,
 * komi, margin, winner }` where black / white are area points without komi, margin = black − white − komi
 * and winner is 'black' (margin > 0), 'white' (< 0) or 'draw'.
 *
 * Rewards: `GoEnv` gives the player who just moved +1 for a win, −1 for a loss, 0 for a draw at the
 * terminal step, 0 otherwise. `GoVsOpponentEnv` gives the same from the agent's point of view, also when
 * the game ends on the opponent's move. Games always terminate (never truncate): the move cap is a rule.
 */
import { Env, EnvError, InvalidAction, ResetNeeded, type EnvSnapshot, type Info, type ResetArgs, type ResetResult, type StepResult } from '../core.js';
import type { GoFrame } from '../frames.js';
import { Box, Discrete, type Space } from '../spaces.js';
import { checkOptionNames } from '../utils/options.js';
import { describeValue, type Rng } from '../utils/seeding.js';
import { BLACK, GoBoard, GoRuleError, colorName, defaultKomi, toGtp, type ColorName, type GoScore } from './board.js';

export interface GoOptions {
  /** Board size, integer 5–19 (default 7). */
  size?: number;
  /** Komi added to White's score, finite number (default: 5x5 24, 7x7 9, 9x9 7, larger 7.5). */
  komi?: number;
  /** Positions in the observation, integer 1–16 (default 4 → 9 planes). */
  history?: number;
}

/**
 * Chooses a legal action for `board.toPlay` (the board must not be modified). `game` gives the position as
 * the opponent sees it: `game.observe()` (its observation planes) and `board.legalMask()`.
 */
export type GoOpponent = (board: GoBoard, rng: Rng, game?: GoEnv) => number;

export interface GoVsOpponentOptions extends GoOptions {
  /** The agent's colour (default 'black'), or 'random' to draw it at every reset; the opponent plays the other. */
  agentColor?: ColorName | 'random';
  /**
   * 'random' (default), a policy function, or a policy attached later with `attachOpponent`: 'self' (the
   * training loop attaches the learning agent: self-play) or 'agent:<dir>' (a saved agent, which `lab train`
   * loads and attaches: an AlphaZero run of `lab go train` or a `lab train` run on the same Go-lite env).
   */
  opponent?: 'random' | 'self' | `agent:${string}` | GoOpponent;
}

/** Uniform over the legal non-pass moves (ascending order, one `rng.integer` draw); pass only when none. */
export const randomOpponent: GoOpponent = (board, rng) => {
  const moves = board.legalMoves();
  if (moves.length <= 1) return board.passMove;
  return moves[rng.integer(moves.length - 1)]!;
};

export const GO_OPPONENTS: Readonly<Record<string, GoOpponent>> = { random: randomOpponent };

/** Registration facts for `envs/registrations.ts`: single-agent vs random, size fixed by the id, no step limit. */
export const GO_REGISTRATIONS = [
  { id: 'GoLite-5x5-v0', kwargs: { size: 5 }, description: 'Go on 5x5 (komi 24) against a uniformly random opponent; Tromp-Taylor rules, positional superko.' },
  { id: 'GoLite-7x7-v0', kwargs: { size: 7 }, description: 'Go on 7x7 (komi 9) against a uniformly random opponent; Tromp-Taylor rules, positional superko.' },
  { id: 'GoLite-9x9-v0', kwargs: { size: 9 }, description: 'Go on 9x9 (komi 7) against a uniformly random opponent; Tromp-Taylor rules, positional superko.' },
] as const;

const GO_OPTION_NAMES: readonly (keyof GoOptions)[] = ['size', 'komi', 'history'];
const VS_OPTION_NAMES: readonly (keyof GoVsOpponentOptions)[] = [...GO_OPTION_NAMES, 'agentColor', 'opponent'];

function parseGoOptions(env: string, options: GoOptions): Required<GoOptions> {
  const int = (name: 'size' | 'history', fallback: number, lo: number, hi: number): number => {
    const v = options[name] ?? fallback;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < lo || v > hi) {
      throw new EnvError(`${env}: option '${name}' must be an integer from ${lo} to ${hi}, got ${describeValue(v)}`);
    }
    return v;
  };
  const size = int('size', 7, 5, 19);
  const history = int('history', 4, 1, 16);
  const komi = options.komi ?? defaultKomi(size);
  if (typeof komi !== 'number' || !Number.isFinite(komi)) throw new EnvError(`${env}: option 'komi' must be a finite number, got ${describeValue(komi)}`);
  return { size, komi, history };
}

export class GoEnv extends Env<Float32Array, number> {
  readonly observationSpace: Box & Space<Float32Array>;
  readonly actionSpace: Discrete;
  readonly size: number;
  readonly komi: number;
  readonly history: number;
  /** The rules engine holding the game (read it, don't play on it: use step()). */
  board: GoBoard;
  private readonly planes: number;
  /** Board colourings after each of the last `history` actions, newest first. */
  private past: Int8Array[] = [];
  private started = false;
  private readonly envName: string;

  constructor(options: GoOptions = {}, envName = 'GoEnv') {
    super();
    this.envName = envName;
    checkOptionNames(envName, options, GO_OPTION_NAMES);
    const o = parseGoOptions(envName, options);
    this.size = o.size;
    this.komi = o.komi;
    this.history = o.history;
    this.planes = 2 * o.history + 1;
    this.board = new GoBoard(o.size, o.komi);
    this.observationSpace = new Box(0, 1, [o.size, o.size, this.planes], 'float32') as Box & Space<Float32Array>;
    this.actionSpace = new Discrete(o.size * o.size + 1);
    this.metadata = { renderModes: ['json', 'ansi'], renderFps: 2 };
  }

  override reset(args: ResetArgs = {}): ResetResult<Float32Array> {
    super.reset(args);
    this.board.clear();
    this.past = [this.board.cells.slice()];
    this.started = true;
    return [this.observe(), this.info()];
  }

  step(action: number): StepResult<Float32Array> {
    if (!this.started) throw new ResetNeeded(`${this.envName}: call reset() before step()`);
    const board = this.board;
    if (board.isOver) throw new ResetNeeded(`${this.envName}: the game is over; call reset() before step()`);
    if (typeof action !== 'number' || !Number.isInteger(action) || action < 0 || action > board.area) {
      throw new InvalidAction(`${this.envName}: invalid action ${describeValue(action)}; expected an integer 0..${board.area} (row·${this.size} + col, pass = ${board.area})`);
    }
    const mover = board.toPlay;
    try {
      board.play(action);
    } catch (e) {
      if (e instanceof GoRuleError) throw new InvalidAction(`${this.envName}: action ${action}: ${e.message}`);
      throw e;
    }
    this.past.unshift(board.cells.slice());
    if (this.past.length > this.history) this.past.length = this.history;
    const info = this.info();
    if (!board.isOver) return [this.observe(), 0, false, false, info];
    const score = info.score as GoScore;
    const reward = score.winner === 'draw' ? 0 : score.winner === colorName(mover) ? 1 : -1;
    return [this.observe(), reward, true, false, info];
  }

  /** The observation for the player to move (a new array). */
  observe(): Float32Array {
    const P = this.planes;
    const n = this.board.area;
    const obs = new Float32Array(n * P);
    const me = this.board.toPlay;
    for (let t = 0; t < this.past.length; t++) {
      const cells = this.past[t]!;
      for (let i = 0; i < n; i++) {
        const v = cells[i]!;
        if (v !== 0) obs[i * P + 2 * t + (v === me ? 0 : 1)] = 1;
      }
    }
    if (me === BLACK) for (let i = 0; i < n; i++) obs[i * P + P - 1] = 1;
    return obs;
  }

  info(): Info {
    const b = this.board;
    const info: Info = {
      actionMask: b.legalMask(),
      toPlay: colorName(b.toPlay),
      captures: { ...b.capturesBy },
      moveNumber: b.moveNumber,
    };
    if (b.isOver) info.score = b.score();
    return info;
  }

  /** Legal actions of the player to move (pass last). */
  legalActions(): number[] {
    return this.board.legalMoves();
  }

  override snapshot(): EnvSnapshot {
    return { size: this.size, komi: this.komi, started: this.started, moves: this.board.moves, rng: this.rngSnapshot() };
  }

  override restore(s: EnvSnapshot): void {
    if (s.size !== this.size || s.komi !== this.komi) {
      throw new EnvError(`${this.envName}.restore: snapshot is for size ${describeValue(s.size)} komi ${describeValue(s.komi)}, this env has size ${this.size} komi ${this.komi}`);
    }
    const moves = s.moves as number[];
    if (!Array.isArray(moves)) throw new EnvError(`${this.envName}.restore: snapshot has no move list`);
    this.board.clear();
    this.past = [this.board.cells.slice()];
    for (const m of moves) {
      this.board.play(m);
      this.past.unshift(this.board.cells.slice());
      if (this.past.length > this.history) this.past.length = this.history;
    }
    this.started = s.started === true;
    this.restoreRng(s.rng as Parameters<Env['restoreRng']>[0]);
  }

  render(): GoFrame | string {
    if (!this.started) throw new ResetNeeded(`${this.envName}: call reset() before render()`);
    const b = this.board;
    if (this.renderMode === 'ansi') {
      const last = b.lastMove < 0 ? 'none' : toGtp(b.lastMove, this.size);
      let status = `move ${b.moveNumber}, ${colorName(b.toPlay)} to play, last move ${last}, captures B ${b.capturesBy.black} W ${b.capturesBy.white}, komi ${this.komi}`;
      if (b.isOver) {
        const sc = b.score();
        status += `\ngame over: black ${sc.black}, white ${sc.white} + ${sc.komi}, ${sc.winner === 'draw' ? 'draw' : `${sc.winner} wins by ${Math.abs(sc.margin)}`}`;
      }
      return `${b.toString()}\n${status}`;
    }
    return goFrame(b, this.komi);
  }
}

/** The viewer's frame of a board position (also used to stream matches that run outside an env). */
export function goFrame(b: GoBoard, komi: number): GoFrame {
  let board = '';
  for (let i = 0; i < b.area; i++) board += '.XO'[b.cells[i]!];
  const lm = b.lastMove;
  return {
    kind: 'go',
    size: b.size,
    board,
    toPlay: colorName(b.toPlay),
    lastMove: lm < 0 ? null : lm === b.area ? 'pass' : [Math.floor(lm / b.size), lm % b.size],
    captures: { ...b.capturesBy },
    komi,
  };
}

function unattached(label: string): GoOpponent {
  return () => {
    throw new EnvError(`GoVsOpponentEnv: opponent '${label}' has no policy attached yet (lab train attaches it; otherwise call attachOpponent(policy))`);
  };
}

export class GoVsOpponentEnv extends Env<Float32Array, number> {
  readonly game: GoEnv;
  /** The agent's colour in the current game (drawn at reset when the option is 'random'). */
  agentColor: ColorName;
  readonly colorChoice: ColorName | 'random';
  opponent: GoOpponent;
  /** Whether the opponent is to be attached by the caller (option 'self' or 'agent:<dir>'). */
  readonly attachable: boolean;
  /** The opponent option as given when it is a name ('random', 'self', 'agent:<dir>'); null for a function. */
  readonly opponentName: string | null;
  readonly observationSpace: Box & Space<Float32Array>;
  readonly actionSpace: Discrete;

  constructor(options: GoVsOpponentOptions = {}) {
    super();
    checkOptionNames('GoVsOpponentEnv', options, VS_OPTION_NAMES);
    const { agentColor = 'black', opponent = 'random', ...goOptions } = options;
    if (agentColor !== 'black' && agentColor !== 'white' && agentColor !== 'random') {
      throw new EnvError(`GoVsOpponentEnv: option 'agentColor' must be 'black', 'white' or 'random', got ${describeValue(agentColor)}`);
    }
    this.attachable = opponent === 'self' || (typeof opponent === 'string' && /^agent:./.test(opponent));
    this.opponentName = typeof opponent === 'string' ? opponent : null;
    if (this.attachable) this.opponent = unattached(opponent as string);
    else if (typeof opponent === 'string') {
      const policy = Object.hasOwn(GO_OPPONENTS, opponent) ? GO_OPPONENTS[opponent] : undefined;
      if (!policy) throw new EnvError(`GoVsOpponentEnv: unknown opponent ${describeValue(opponent)}; known: ${Object.keys(GO_OPPONENTS).join(', ')}, self, agent:<dir> (or pass a function (board, rng, game) => action)`);
      this.opponent = policy;
    } else if (typeof opponent === 'function') this.opponent = opponent;
    else throw new EnvError(`GoVsOpponentEnv: option 'opponent' must be 'random', 'self' or a function (board, rng, game) => action, got ${describeValue(opponent)}`);
    this.colorChoice = agentColor;
    this.agentColor = agentColor === 'random' ? 'black' : agentColor;
    this.game = new GoEnv(goOptions, 'GoVsOpponentEnv');
    this.observationSpace = this.game.observationSpace;
    this.actionSpace = this.game.actionSpace;
    this.metadata = this.game.metadata;
  }

  get board(): GoBoard {
    return this.game.board;
  }

  /** Sets the policy of an opponent created as 'self' (the learning agent, a saved agent). */
  attachOpponent(policy: GoOpponent): void {
    if (!this.attachable) throw new EnvError("GoVsOpponentEnv: attachOpponent needs an env made with opponent 'self' or 'agent:<dir>'");
    if (typeof policy !== 'function') throw new EnvError(`GoVsOpponentEnv: attachOpponent expects a function (board, rng, game) => action, got ${describeValue(policy)}`);
    this.opponent = policy;
  }

  override reset(args: ResetArgs = {}): ResetResult<Float32Array> {
    super.reset(args);
    if (this.colorChoice === 'random') this.agentColor = this.npRandom.integer(2) === 0 ? 'black' : 'white';
    const [obs, info] = this.game.reset();
    if (this.agentColor === 'black') return [obs, info];
    const r = this.opponentMove();
    return [r[0], r[4]];
  }

  step(action: number): StepResult<Float32Array> {
    const r = this.game.step(action);
    if (r[2]) return r;
    const o = this.opponentMove();
    return [o[0], -o[1], o[2], o[3], o[4]];
  }

  private opponentMove(): StepResult<Float32Array> {
    const action = this.opponent(this.game.board, this.npRandom, this.game);
    try {
      return this.game.step(action);
    } catch (e) {
      if (e instanceof InvalidAction) throw new EnvError(`GoVsOpponentEnv: the opponent policy chose an illegal move: ${e.message}`);
      throw e;
    }
  }

  /** Snapshot of the game and the RNG; a custom opponent's own state (if any) is not included. */
  override snapshot(): EnvSnapshot {
    return { game: this.game.snapshot(), rng: this.rngSnapshot(), agentColor: this.agentColor };
  }

  override restore(s: EnvSnapshot): void {
    this.game.restore(s.game as EnvSnapshot);
    this.restoreRng(s.rng as Parameters<Env['restoreRng']>[0]);
    if (s.agentColor === 'black' || s.agentColor === 'white') this.agentColor = s.agentColor;
  }

  render(): GoFrame | string {
    this.game.renderMode = this.renderMode;
    return this.game.render();
  }
}

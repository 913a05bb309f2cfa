/**
 * Snake: the classic grid game, as used for DQN in tfjs-examples' snake-dqn.
 *
 *   const env = new SnakeEnv({ rows: 9, cols: 9 });
 *   let [obs, info] = env.reset({ seed: 0 });
 *   const [next, reward, terminated, truncated, stepInfo] = env.step(SnakeAction.Straight);
 *
 * Rules
 * - Actions are relative to the current heading: 0 turn left, 1 go straight, 2 turn right (`Discrete(3)`).
 *   Headings are absolute: 0 up, 1 right, 2 down, 3 left (row 0 is the top row).
 * - At reset the snake lies straight and horizontal on a random row, heading right, tail at column 0 and
 *   head at column `initialLength - 1`; the fruit is placed uniformly at random on a free cell.
 *   Random draws, in this order, all from `this.npRandom`: the row (`integer(rows)`), then the fruit
 *   (`integer(freeCells)`, the k-th free cell in row-major order). Eating draws the next fruit the same way.
 * - Each step turns, then moves the head one cell. Leaving the board or running into the body ends the
 *   episode (terminated, `deathReward`); the state is then left as it was before the fatal move.
 *   The tail cell moves away during the same step unless the snake eats, so moving into the cell the
 *   tail is leaving is legal (as in most Snake implementations; a snake can chase its own tail forever).
 * - Eating the fruit gives `fruitReward` and grows the snake by one (the tail stays put this step), and a
 *   new fruit appears on a free cell. When the snake fills every cell the episode terminates as a win
 *   (`fruitReward`, `info.win = true`, no fruit any more). Any other step gives `stepReward`.
 * - After `maxStepsWithoutFruit` consecutive steps without eating, the episode is truncated (not
 *   terminated: the state is not terminal, so agents should bootstrap). Death on that very step reports
 *   terminated only.
 * - After the episode ends (terminated or truncated) `step()` throws until `reset()` (or `setState()`).
 *
 * Observation: a Float32Array of shape [rows, cols, 3] (HWC, row-major; index `(r * cols + c) * 3 + k`),
 * a new array on every call, never overwritten later, so it can be stored in a replay buffer as is (for
 * speed it may be a view sharing its ArrayBuffer with other observations; see `freshObservation()`):
 * - channel 0: 1 at the head;
 * - channel 1: the body without the head, the i-th segment behind the head (i = 1 … L−1, L the length)
 *   holding (L − i) / (L − 1): 1 at the neck, decreasing to 1 / (L − 1) at the tail, so the direction of
 *   travel and the order of the segments can be read from the planes;
 * - channel 2: 1 at the fruit.
 *
 * Info: `{ score, length }` (fruits eaten, current length), plus `win: true` on the winning step.
 *
 * Performance: the body is a ring buffer of cell indices with an occupancy grid, so a step is O(1) apart
 * from writing the observation (O(length)) and placing a new fruit (O(rows·cols), only after eating).
 */
import { Env, EnvError, InvalidAction, ResetNeeded, type EnvSnapshot, type ResetArgs, type ResetResult, type StepResult } from './core.js';
import type { SnakeFrame } from './frames.js';
import { Box, Discrete, type Space } from './spaces.js';
import { describeValue } from './utils/seeding.js';
import { checkOptionNames } from './utils/options.js';

export interface SnakeOptions {
  /** Board height, integer 1–1024 (default 9). */
  rows?: number;
  /** Board width, integer 2–1024 (default 9). */
  cols?: number;
  /** Length of the snake at reset, integer with 1 ≤ initialLength < cols (default 2). */
  initialLength?: number;
  /** Reward for eating a fruit, including the winning one (default 10). */
  fruitReward?: number;
  /** Reward for hitting a wall or the body (default −10). */
  deathReward?: number;
  /** Reward for any other step (default −0.2). */
  stepReward?: number;
  /** Steps without eating after which the episode is truncated: positive integer or Infinity (default rows·cols·4). */
  maxStepsWithoutFruit?: number;
}

/** Relative actions. */
export const SnakeAction = { TurnLeft: 0, Straight: 1, TurnRight: 2 } as const;
/** Absolute headings. */
export const SnakeHeading = { Up: 0, Right: 1, Down: 2, Left: 3 } as const;

export type SnakeCell = [row: number, col: number];

/** A full game state, as `getState()` returns it and `setState()` accepts it (tests, planning, checkpoints). */
export interface SnakeState {
  /** Cells of the snake, head first; consecutive cells must be 4-neighbours, no cell twice. */
  body: SnakeCell[];
  /** 0 up, 1 right, 2 down, 3 left; with two or more cells it must be the direction from body[1] to body[0]. */
  heading: number;
  /** A free cell. */
  fruit: SnakeCell;
  /** Fruits eaten so far (default 0). */
  score?: number;
  /** Steps since the last fruit, counted towards `maxStepsWithoutFruit` (default 0). */
  stepsWithoutFruit?: number;
}

const OPTION_NAMES: readonly (keyof SnakeOptions)[] = [
  'rows',
  'cols',
  'initialLength',
  'fruitReward',
  'deathReward',
  'stepReward',
  'maxStepsWithoutFruit',
];

// Row and column offsets per heading (up, right, down, left).
const DR = [-1, 0, 1, 0] as const;
const DC = [0, 1, 0, -1] as const;
const ACTION_NAMES = ['left', 'straight', 'right'] as const;

const IDLE = 0;
const RUNNING = 1;
const ENDED = 2;

export class SnakeEnv extends Env<Float32Array, number> {
  /** `Box(0, 1, [rows, cols, 3], float32)`; typed as a Float32Array space since its dtype is float32. */
  readonly observationSpace: Box & Space<Float32Array>;
  readonly actionSpace = new Discrete(3);

  readonly rows: number;
  readonly cols: number;
  readonly initialLength: number;
  readonly fruitReward: number;
  readonly deathReward: number;
  readonly stepReward: number;
  readonly maxStepsWithoutFruit: number;

  /** Number of cells. */
  private readonly n: number;
  /** Ring buffer of cell indices (r * cols + c): the head at `ring[headPtr]`, older segments behind it. */
  private readonly ring: Int32Array;
  /** 1 where the snake (head included) is. */
  private readonly occupied: Uint8Array;
  private headPtr = 0;
  private len = 0;
  private headRow = 0;
  private headCol = 0;
  private headingValue = 1;
  /** Fruit cell index, -1 when none (after a win). */
  private fruitCell = -1;
  private scoreValue = 0;
  private sinceFruit = 0;
  private status = IDLE;
  private alive = true;
  private readonly slabCount: number;
  private slab = new Float32Array(0);
  private slabNext = 0;
  /** The last action taken (0 left, 1 straight, 2 right), null right after reset. */
  lastAction: number | null = null;

  constructor(options: SnakeOptions = {}) {
    super();
    checkOptionNames('SnakeEnv', options, OPTION_NAMES);
    const int = (name: keyof SnakeOptions, fallback: number, lo: number, hi: number): number => {
      const v = options[name] ?? fallback;
      if (typeof v !== 'number' || !Number.isInteger(v) || v < lo || v > hi) {
        throw new EnvError(`SnakeEnv: option '${name}' must be an integer from ${lo} to ${hi}, got ${describeValue(v)}`);
      }
      return v;
    };
    const finite = (name: keyof SnakeOptions, fallback: number): number => {
      const v = options[name] ?? fallback;
      if (typeof v !== 'number' || !Number.isFinite(v)) throw new EnvError(`SnakeEnv: option '${name}' must be a finite number, got ${describeValue(v)}`);
      return v;
    };
    this.rows = int('rows', 9, 1, 1024);
    this.cols = int('cols', 9, 2, 1024);
    this.initialLength = int('initialLength', 2, 1, this.cols - 1);
    this.fruitReward = finite('fruitReward', 10);
    this.deathReward = finite('deathReward', -10);
    this.stepReward = finite('stepReward', -0.2);
    this.n = this.rows * this.cols;
    const maxSteps = options.maxStepsWithoutFruit ?? this.n * 4;
    if (typeof maxSteps !== 'number' || !(maxSteps === Infinity || (Number.isSafeInteger(maxSteps) && maxSteps >= 1))) {
      throw new EnvError(`SnakeEnv: option 'maxStepsWithoutFruit' must be a positive integer or Infinity, got ${describeValue(maxSteps)}`);
    }
    this.maxStepsWithoutFruit = maxSteps;

    this.observationSpace = new Box(0, 1, [this.rows, this.cols, 3], 'float32') as Box & Space<Float32Array>;
    this.ring = new Int32Array(this.n);
    this.occupied = new Uint8Array(this.n);
    this.slabCount = Math.max(1, Math.floor(4096 / (this.n * 3)));
    this.slabNext = this.slabCount;
    this.metadata = { renderModes: ['json', 'ansi'], renderFps: 10 };
  }

  override reset(args: ResetArgs = {}): ResetResult<Float32Array> {
    super.reset(args);
    const rng = this.npRandom;
    const row = rng.integer(this.rows);
    this.occupied.fill(0);
    const L = this.initialLength;
    // Tail at col 0 stored first, head at col L-1 stored last (at headPtr).
    for (let c = 0; c < L; c++) {
      const cell = row * this.cols + c;
      this.ring[c] = cell;
      this.occupied[cell] = 1;
    }
    this.headPtr = L - 1;
    this.len = L;
    this.headRow = row;
    this.headCol = L - 1;
    this.headingValue = SnakeHeading.Right;
    this.scoreValue = 0;
    this.sinceFruit = 0;
    this.alive = true;
    this.lastAction = null;
    this.status = RUNNING;
    this.fruitCell = this.placeFruit();
    return [this.observe(), { score: 0, length: L }];
  }

  step(action: number): StepResult<Float32Array> {
    if (this.status !== RUNNING) {
      if (this.status === IDLE) throw new ResetNeeded('SnakeEnv: call reset() before step()');
      throw new ResetNeeded('SnakeEnv: the episode has ended (terminated or truncated); call reset() before step()');
    }
    if (action !== 0 && action !== 1 && action !== 2) {
      throw new InvalidAction(`SnakeEnv: invalid action ${describeValue(action)}; expected 0 (turn left), 1 (straight) or 2 (turn right)`);
    }
    this.lastAction = action;
    const heading = (this.headingValue + action + 3) & 3;
    this.headingValue = heading;
    const r = this.headRow + DR[heading]!;
    const c = this.headCol + DC[heading]!;
    if (r < 0 || r >= this.rows || c < 0 || c >= this.cols) return this.die();
    const cell = r * this.cols + c;
    const n = this.n;
    let tailPtr = this.headPtr - this.len + 1;
    if (tailPtr < 0) tailPtr += n;
    const tailCell = this.ring[tailPtr]!;
    // The fruit is never on the snake, so eating never collides; otherwise the tail leaves its cell this step.
    if (this.occupied[cell] === 1 && cell !== tailCell) return this.die();

    const eats = cell === this.fruitCell;
    if (!eats) this.occupied[tailCell] = 0;
    else this.len++;
    let hp = this.headPtr + 1;
    if (hp === n) hp = 0;
    this.headPtr = hp;
    this.ring[hp] = cell;
    this.occupied[cell] = 1;
    this.headRow = r;
    this.headCol = c;

    if (eats) {
      this.scoreValue++;
      this.sinceFruit = 0;
      if (this.len === n) {
        this.fruitCell = -1;
        this.status = ENDED;
        return [this.observe(), this.fruitReward, true, false, { score: this.scoreValue, length: this.len, win: true }];
      }
      this.fruitCell = this.placeFruit();
      return [this.observe(), this.fruitReward, false, false, { score: this.scoreValue, length: this.len }];
    }
    const truncated = ++this.sinceFruit >= this.maxStepsWithoutFruit;
    if (truncated) this.status = ENDED;
    return [this.observe(), this.stepReward, false, truncated, { score: this.scoreValue, length: this.len }];
  }

  override snapshot(): EnvSnapshot {
    return {
      ring: Array.from(this.ring),
      headPtr: this.headPtr,
      len: this.len,
      headRow: this.headRow,
      headCol: this.headCol,
      heading: this.headingValue,
      fruitCell: this.fruitCell,
      score: this.scoreValue,
      sinceFruit: this.sinceFruit,
      status: this.status,
      alive: this.alive,
      lastAction: this.lastAction,
      rng: this.rngSnapshot(),
    };
  }

  override restore(s: EnvSnapshot): void {
    const ring = s.ring as number[];
    if (!Array.isArray(ring) || ring.length !== this.n) throw new EnvError(`SnakeEnv.restore: snapshot is for a board of ${ring?.length} cells, this board has ${this.n}`);
    this.ring.set(ring);
    this.headPtr = s.headPtr as number;
    this.len = s.len as number;
    this.headRow = s.headRow as number;
    this.headCol = s.headCol as number;
    this.headingValue = s.heading as number;
    this.fruitCell = s.fruitCell as number;
    this.scoreValue = s.score as number;
    this.sinceFruit = s.sinceFruit as number;
    this.status = s.status as number;
    this.alive = s.alive as boolean;
    this.lastAction = s.lastAction as number | null;
    this.restoreRng(s.rng as Parameters<Env['restoreRng']>[0]);
    // The occupancy grid is derived from the body ring.
    this.occupied.fill(0);
    for (let k = 0, p = this.headPtr; k < this.len; k++, p = p === 0 ? this.n - 1 : p - 1) this.occupied[this.ring[p]!] = 1;
  }

  private die(): StepResult<Float32Array> {
    this.alive = false;
    this.status = ENDED;
    return [this.observe(), this.deathReward, true, false, { score: this.scoreValue, length: this.len }];
  }

  /** Draws a free cell uniformly: the k-th free cell in row-major order, k = npRandom.integer(free cells). */
  private placeFruit(): number {
    let k = this.npRandom.integer(this.n - this.len);
    const occ = this.occupied;
    for (let i = 0; i < this.n; i++) {
      if (occ[i] === 0 && k-- === 0) return i;
    }
    throw new EnvError('SnakeEnv: internal error: no free cell for the fruit');
  }

  /**
   * A fresh, zeroed observation array. Allocating a typed array costs about as much as a whole step, so
   * observations are carved as views out of a slab of about 16 KiB: each one is distinct and never reused
   * or overwritten, but `obs.buffer` may be shared with neighbouring observations (`obs.slice()` copies).
   */
  private freshObservation(): Float32Array {
    const size = this.n * 3;
    if (this.slabNext === this.slabCount) {
      this.slab = new Float32Array(size * this.slabCount);
      this.slabNext = 0;
    }
    const offset = this.slabNext++ * size;
    return this.slab.subarray(offset, offset + size);
  }

  /** The observation planes for the current state (a new array; all zeros before the first reset). */
  observe(): Float32Array {
    const obs = this.freshObservation();
    if (this.status === IDLE) return obs;
    const ring = this.ring;
    const n = this.n;
    const L = this.len;
    let p = this.headPtr;
    obs[ring[p]! * 3] = 1;
    const scale = L > 1 ? 1 / (L - 1) : 0;
    for (let i = 1; i < L; i++) {
      p = p === 0 ? n - 1 : p - 1;
      obs[ring[p]! * 3 + 1] = (L - i) * scale;
    }
    if (this.fruitCell >= 0) obs[this.fruitCell * 3 + 2] = 1;
    return obs;
  }

  /** Absolute heading: 0 up, 1 right, 2 down, 3 left. */
  get heading(): number {
    return this.headingValue;
  }

  /** Fruits eaten this episode. */
  get score(): number {
    return this.scoreValue;
  }

  /** Current length of the snake. */
  get length(): number {
    return this.len;
  }

  /** Cells of the snake, head first (a new array). */
  get body(): SnakeCell[] {
    const out: SnakeCell[] = [];
    let p = this.headPtr;
    for (let i = 0; i < this.len; i++) {
      const cell = this.ring[p]!;
      out.push([Math.floor(cell / this.cols), cell % this.cols]);
      p = p === 0 ? this.n - 1 : p - 1;
    }
    return out;
  }

  /** The fruit's cell, or null (before the first reset, or once the board is full). */
  get fruit(): SnakeCell | null {
    return this.fruitCell < 0 ? null : [Math.floor(this.fruitCell / this.cols), this.fruitCell % this.cols];
  }

  getState(): SnakeState {
    if (this.status === IDLE) throw new ResetNeeded('SnakeEnv: call reset() or setState() before getState()');
    if (this.fruitCell < 0) throw new EnvError('SnakeEnv: getState(): the board is full (the game was won), there is no fruit');
    return { body: this.body, heading: this.headingValue, fruit: this.fruit!, score: this.scoreValue, stepsWithoutFruit: this.sinceFruit };
  }

  /**
   * Puts the game in the given (validated) state and returns its observation; the episode is then running,
   * whatever it was before. The RNG is untouched. For tests, planning and restoring checkpoints.
   */
  setState(state: SnakeState): Float32Array {
    const fail = (msg: string): never => {
      throw new EnvError(`SnakeEnv.setState: ${msg}`);
    };
    if (typeof state !== 'object' || state === null) fail(`expected { body, heading, fruit }, got ${describeValue(state)}`);
    const extra = Object.keys(state).filter((k) => !['body', 'heading', 'fruit', 'score', 'stepsWithoutFruit'].includes(k));
    if (extra.length) fail(`unknown field${extra.length > 1 ? 's' : ''} ${extra.join(', ')}`);
    const cellIndex = (v: unknown, what: string): number => {
      if (!Array.isArray(v) || v.length !== 2 || !Number.isInteger(v[0]) || !Number.isInteger(v[1])) {
        fail(`${what} must be a [row, col] pair of integers, got ${describeValue(v)}`);
      }
      const [r, c] = v as [number, number];
      if (r < 0 || r >= this.rows || c < 0 || c >= this.cols) fail(`${what} ${describeValue(v)} is off the ${this.rows}x${this.cols} board`);
      return r * this.cols + c;
    };
    const { body, heading, fruit, score = 0, stepsWithoutFruit = 0 } = state;
    if (!Array.isArray(body) || body.length === 0) fail(`body must be a non-empty array of [row, col] cells, got ${describeValue(body)}`);
    if (body.length >= this.n) fail(`body has ${body.length} cells; at most ${this.n - 1} fit with a fruit on a ${this.rows}x${this.cols} board`);
    const cells = body.map((b, i) => cellIndex(b, `body[${i}]`));
    const seen = new Set<number>();
    for (let i = 0; i < cells.length; i++) {
      if (seen.has(cells[i]!)) fail(`body[${i}] ${describeValue(body[i])} appears twice`);
      seen.add(cells[i]!);
      if (i > 0) {
        const [r0, c0] = body[i - 1]!;
        const [r1, c1] = body[i]!;
        if (Math.abs(r0 - r1) + Math.abs(c0 - c1) !== 1) fail(`body[${i - 1}] and body[${i}] are not adjacent`);
      }
    }
    if (!Number.isInteger(heading) || heading < 0 || heading > 3) fail(`heading must be 0 (up), 1 (right), 2 (down) or 3 (left), got ${describeValue(heading)}`);
    if (body.length > 1) {
      const [r0, c0] = body[0]!;
      const [r1, c1] = body[1]!;
      if (r1 + DR[heading as 0 | 1 | 2 | 3] !== r0 || c1 + DC[heading as 0 | 1 | 2 | 3] !== c0) {
        fail(`heading ${heading} is not the direction from body[1] to body[0]`);
      }
    }
    const fruitCell = cellIndex(fruit, 'fruit');
    if (seen.has(fruitCell)) fail(`fruit ${describeValue(fruit)} is on the snake`);
    if (!Number.isSafeInteger(score) || score < 0) fail(`score must be a non-negative integer, got ${describeValue(score)}`);
    if (!Number.isSafeInteger(stepsWithoutFruit) || stepsWithoutFruit < 0 || stepsWithoutFruit >= this.maxStepsWithoutFruit) {
      fail(`stepsWithoutFruit must be an integer from 0 to maxStepsWithoutFruit - 1 (${this.maxStepsWithoutFruit - 1}), got ${describeValue(stepsWithoutFruit)}`);
    }

    this.occupied.fill(0);
    const L = cells.length;
    // Tail first in the ring, head last.
    for (let i = 0; i < L; i++) {
      const cell = cells[L - 1 - i]!;
      this.ring[i] = cell;
      this.occupied[cell] = 1;
    }
    this.headPtr = L - 1;
    this.len = L;
    this.headRow = body[0]![0];
    this.headCol = body[0]![1];
    this.headingValue = heading;
    this.fruitCell = fruitCell;
    this.scoreValue = score;
    this.sinceFruit = stepsWithoutFruit;
    this.alive = true;
    this.lastAction = null;
    this.status = RUNNING;
    return this.observe();
  }

  render(): SnakeFrame | string {
    if (this.status === IDLE) throw new ResetNeeded('SnakeEnv: call reset() before render()');
    const body = this.body;
    if (this.renderMode === 'ansi') {
      const grid: string[][] = Array.from({ length: this.rows }, () => new Array<string>(this.cols).fill('.'));
      const fruit = this.fruit;
      if (fruit) grid[fruit[0]]![fruit[1]] = '*';
      body.forEach(([r, c], i) => (grid[r]![c] = i === 0 ? (this.alive ? 'O' : 'X') : 'o'));
      const border = `+${'-'.repeat(this.cols)}+`;
      const lines = [border, ...grid.map((row) => `|${row.join('')}|`), border];
      const last = this.lastAction === null ? 'none' : ACTION_NAMES[this.lastAction];
      lines.push(`score: ${this.scoreValue}  length: ${this.len}  last action: ${last}${this.alive ? '' : '  (dead)'}`);
      return lines.join('\n');
    }
    return {
      kind: 'snake',
      rows: this.rows,
      cols: this.cols,
      body,
      fruit: this.fruit,
      heading: this.headingValue,
      score: this.scoreValue,
      alive: this.alive,
      lastAction: this.lastAction,
    };
  }
}

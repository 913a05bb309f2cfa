/**
 * FrozenLake (Gymnasium's `FrozenLake-v1`, as in Gymnasium 1.3): walk from S to G over frozen tiles F without
 * falling into a hole H. On slippery ice the agent moves in the intended direction with probability
 * `successRate` and in each perpendicular direction with probability (1 − successRate) / 2; never backwards.
 *
 *   Actions: 0 left, 1 down, 2 right, 3 up.  Observation: row * ncol + col.  Start: the S cell.
 *   Reward (rewardSchedule = [goal, hole, frozen], default [1, 0, 0]) is paid on entering a cell (S counts as
 *   frozen). Entering G or H terminates; G and H are absorbing (p = 1 self-loop, reward 0, terminated).
 */
import { EnvError, ResetNeeded, type RenderMode } from '../core.js';
import type { FrozenLakeFrame } from '../frames.js';
import { Discrete } from '../spaces.js';
import { Rng, assertSeed, describeValue } from '../utils/seeding.js';
import { checkOptionNames } from '../utils/options.js';
import { TabularEnv, type Transition, type TransitionTable } from './tabular.js';

export const LEFT = 0;
export const DOWN = 1;
export const RIGHT = 2;
export const UP = 3;
const ACTION_NAMES = ['Left', 'Down', 'Right', 'Up'] as const;

export const MAPS: Readonly<Record<'4x4' | '8x8', readonly string[]>> = Object.freeze({
  '4x4': Object.freeze(['SFFF', 'FHFH', 'FFFH', 'HFFG']),
  '8x8': Object.freeze(['SFFFFFFF', 'FFFFFFFF', 'FFFHFFFF', 'FFFFFHFF', 'FFFHFFFF', 'FHHFFFHF', 'FHFFHFHF', 'FFFHFFFG']),
});

export type FrozenLakeMapName = keyof typeof MAPS;

export interface FrozenLakeOptions {
  /** Custom map rows of S/F/H/G (rectangular, exactly one S, at least one G). Takes precedence over mapName. */
  desc?: string[];
  /** A preset map (default '4x4'). `null` with no `desc` generates a random 8×8 map, as Gymnasium does. */
  mapName?: FrozenLakeMapName | null;
  /** Default true. */
  isSlippery?: boolean;
  /** Probability of moving in the intended direction when slippery (default 1/3). */
  successRate?: number;
  /** Rewards for entering [goal, hole, frozen] (default [1, 0, 0]). */
  rewardSchedule?: [goal: number, hole: number, frozen: number];
  renderMode?: RenderMode;
}

const OPTION_NAMES = ['desc', 'mapName', 'isSlippery', 'successRate', 'rewardSchedule', 'renderMode'] as const;


/**
 * Depth-first search from (0, 0) over non-hole cells: true when a G cell is reachable (Gymnasium's `is_valid`).
 */
function hasPathToGoal(board: string[][], size: number): boolean {
  const frontier: [number, number][] = [[0, 0]];
  const discovered = new Set<number>();
  const directions = [
    [1, 0],
    [0, 1],
    [-1, 0],
    [0, -1],
  ] as const;
  while (frontier.length > 0) {
    const [r, c] = frontier.pop()!;
    if (discovered.has(r * size + c)) continue;
    discovered.add(r * size + c);
    for (const [dr, dc] of directions) {
      const nr = r + dr;
      const nc = c + dc;
      if (nr < 0 || nr >= size || nc < 0 || nc >= size) continue;
      const cell = board[nr]![nc]!;
      if (cell === 'G') return true;
      if (cell !== 'H') frontier.push([nr, nc]);
    }
  }
  return false;
}

const MAX_MAP_ATTEMPTS = 100_000;

/**
 * A random size×size map with S at the top-left, G at the bottom-right and each other cell frozen with
 * probability p (else a hole), redrawn until G is reachable from S. Deterministic for a given seed.
 */
export function generateRandomMap(size = 8, p = 0.8, seed?: number): string[] {
  if (!Number.isSafeInteger(size) || size < 2) {
    throw new EnvError(`generateRandomMap: size must be an integer >= 2, got ${describeValue(size)}`);
  }
  if (typeof p !== 'number' || !(p > 0)) {
    throw new EnvError(`generateRandomMap: p (probability of a frozen tile) must be a number > 0, got ${describeValue(p)}`);
  }
  if (seed !== undefined) assertSeed(seed, 'generateRandomMap: seed');
  const frozen = Math.min(1, p);
  const rng = new Rng(seed);
  for (let attempt = 0; attempt < MAX_MAP_ATTEMPTS; attempt++) {
    const board: string[][] = [];
    for (let r = 0; r < size; r++) {
      const row: string[] = [];
      for (let c = 0; c < size; c++) row.push(rng.double() < frozen ? 'F' : 'H');
      board.push(row);
    }
    board[0]![0] = 'S';
    board[size - 1]![size - 1] = 'G';
    if (hasPathToGoal(board, size)) return board.map((row) => row.join(''));
  }
  throw new EnvError(`generateRandomMap: no solvable ${size}x${size} map found in ${MAX_MAP_ATTEMPTS} attempts with p = ${p}`);
}

function validateDesc(env: string, desc: unknown): string[] {
  if (!Array.isArray(desc) || desc.length === 0 || !desc.every((row) => typeof row === 'string')) {
    throw new EnvError(`${env}: option 'desc' must be a non-empty array of strings, got ${describeValue(desc)}`);
  }
  const rows = desc as string[];
  const ncol = rows[0]!.length;
  if (ncol === 0) throw new EnvError(`${env}: option 'desc' rows must not be empty`);
  let starts = 0;
  let goals = 0;
  rows.forEach((row, r) => {
    if (row.length !== ncol) {
      throw new EnvError(`${env}: option 'desc' must be rectangular; row ${r} has ${row.length} cells, row 0 has ${ncol}`);
    }
    for (let c = 0; c < row.length; c++) {
      const ch = row[c]!;
      if (!'SFHG'.includes(ch)) {
        throw new EnvError(`${env}: option 'desc' has invalid cell ${JSON.stringify(ch)} at row ${r}, col ${c}; allowed: S, F, H, G`);
      }
      if (ch === 'S') starts++;
      if (ch === 'G') goals++;
    }
  });
  if (starts !== 1) throw new EnvError(`${env}: option 'desc' must contain exactly one start cell S, found ${starts}`);
  if (goals < 1) throw new EnvError(`${env}: option 'desc' must contain at least one goal cell G`);
  return [...rows];
}

export class FrozenLakeEnv extends TabularEnv {
  readonly observationSpace: Discrete;
  readonly actionSpace: Discrete;
  readonly P: TransitionTable;
  /** Map rows of S/F/H/G. */
  readonly desc: string[];
  readonly nrow: number;
  readonly ncol: number;
  readonly isSlippery: boolean;
  readonly successRate: number;
  readonly rewardSchedule: readonly [goal: number, hole: number, frozen: number];
  /** Start-state distribution (1 on the S cell). */
  readonly initialStateDistrib: Float64Array;

  constructor(options: FrozenLakeOptions = {}) {
    super();
    const env = 'FrozenLakeEnv';
    const opts = checkOptionNames(env, options, OPTION_NAMES);
    this.metadata = { renderModes: ['json', 'ansi'], renderFps: 4 };

    const isSlippery = opts.isSlippery ?? true;
    if (typeof isSlippery !== 'boolean') {
      throw new EnvError(`${env}: option 'isSlippery' must be a boolean, got ${describeValue(isSlippery)}`);
    }
    const successRate = opts.successRate ?? 1 / 3;
    if (typeof successRate !== 'number' || !(successRate >= 0 && successRate <= 1)) {
      throw new EnvError(`${env}: option 'successRate' must be a number in [0, 1], got ${describeValue(successRate)}`);
    }
    const schedule = opts.rewardSchedule ?? [1, 0, 0];
    if (
      !Array.isArray(schedule) ||
      schedule.length !== 3 ||
      !schedule.every((v) => typeof v === 'number' && Number.isFinite(v))
    ) {
      throw new EnvError(
        `${env}: option 'rewardSchedule' must be [goal, hole, frozen], three finite numbers, got ${describeValue(schedule)}`,
      );
    }
    let desc: string[];
    if (opts.desc !== undefined) {
      desc = validateDesc(env, opts.desc);
    } else {
      const mapName = opts.mapName === undefined ? '4x4' : opts.mapName;
      if (mapName === null) {
        desc = generateRandomMap();
      } else if (typeof mapName === 'string' && Object.hasOwn(MAPS, mapName)) {
        desc = [...MAPS[mapName as FrozenLakeMapName]];
      } else {
        throw new EnvError(`${env}: option 'mapName' must be one of ${Object.keys(MAPS).join(', ')} (or null), got ${describeValue(mapName)}`);
      }
    }
    if (opts.renderMode !== undefined) this.renderMode = opts.renderMode as RenderMode;

    this.desc = desc;
    this.nrow = desc.length;
    this.ncol = desc[0]!.length;
    this.isSlippery = isSlippery;
    this.successRate = successRate;
    this.rewardSchedule = [schedule[0]!, schedule[1]!, schedule[2]!];
    const nS = this.nrow * this.ncol;
    this.observationSpace = new Discrete(nS);
    this.actionSpace = new Discrete(4);
    this.initialStateDistrib = new Float64Array(nS);
    this.initialStateDistrib[desc.join('').indexOf('S')] = 1;
    this.P = this.buildTable();
  }

  private move(row: number, col: number, a: number): [number, number] {
    if (a === LEFT) col = Math.max(col - 1, 0);
    else if (a === DOWN) row = Math.min(row + 1, this.nrow - 1);
    else if (a === RIGHT) col = Math.min(col + 1, this.ncol - 1);
    else if (a === UP) row = Math.max(row - 1, 0);
    return [row, col];
  }

  private buildTable(): TransitionTable {
    const [goalReward, holeReward, frozenReward] = this.rewardSchedule;
    const failRate = (1 - this.successRate) / 2;
    const outcome = (row: number, col: number, a: number): [number, number, boolean] => {
      const [r, c] = this.move(row, col, a);
      const letter = this.desc[r]![c]!;
      const reward = letter === 'G' ? goalReward : letter === 'H' ? holeReward : frozenReward;
      return [r * this.ncol + c, reward, letter === 'G' || letter === 'H'];
    };
    const P: TransitionTable = [];
    for (let row = 0; row < this.nrow; row++) {
      for (let col = 0; col < this.ncol; col++) {
        const s = row * this.ncol + col;
        const letter = this.desc[row]![col]!;
        const rows: TransitionTable[number] = [];
        for (let a = 0; a < 4; a++) {
          if (letter === 'G' || letter === 'H') {
            rows.push([[1, s, 0, true]]);
          } else if (this.isSlippery) {
            // Gymnasium's order: (a − 1) mod 4, a, (a + 1) mod 4 — duplicates (walls) kept as separate entries.
            rows.push([(a + 3) % 4, a, (a + 1) % 4].map((b): Transition => [b === a ? this.successRate : failRate, ...outcome(row, col, b)]));
          } else {
            rows.push([[1, ...outcome(row, col, a)]]);
          }
        }
        P[s] = rows;
      }
    }
    return P;
  }

  protected initialState(): number {
    return this.npRandom.categorical(this.initialStateDistrib);
  }

  render(): FrozenLakeFrame | string {
    if (this.s < 0) throw new ResetNeeded('FrozenLakeEnv: call reset() before render()');
    const row = Math.floor(this.s / this.ncol);
    const col = this.s % this.ncol;
    if (this.renderMode === 'ansi') {
      const lines = this.desc.map((line, r) =>
        r === row ? line.slice(0, col) + `\x1b[41m${line[col]}\x1b[0m` + line.slice(col + 1) : line,
      );
      const header = this.lastAction === null ? '\n' : `  (${ACTION_NAMES[this.lastAction]})\n`;
      return header + lines.join('\n') + '\n';
    }
    return { kind: 'frozenlake', map: [...this.desc], agent: [row, col], lastAction: this.lastAction };
  }
}

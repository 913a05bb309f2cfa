/**
 * CliffWalking (Gymnasium's `CliffWalking-v1`, as in Gymnasium 1.3; Sutton & Barto, Example 6.6): a 4×12 grid,
 * start (3, 0) = state 36, goal (3, 11) = state 47, cliff along row 3, columns 1..10.
 *
 *   Actions: 0 up, 1 right, 2 down, 3 left (moves off the grid are clamped).  Observation: row * 12 + col.
 *   Reward −1 per step; stepping onto the cliff gives −100 and puts the agent back on the start WITHOUT ending
 *   the episode. Entering the goal terminates.
 *   isSlippery (v1, `CliffWalkingSlippery-v1`): the intended move and each perpendicular move 1/3 each.
 *
 * As in Gymnasium, every state has ordinary P rows, including the cliff cells (never occupied) and the goal
 * (not absorbing: e.g. P[47][up] moves to 35).
 */
import { EnvError, ResetNeeded, type RenderMode } from '../core.js';
import type { CliffWalkingFrame } from '../frames.js';
import { Discrete } from '../spaces.js';
import { describeValue } from '../utils/seeding.js';
import { checkOptionNames } from '../utils/options.js';
import { TabularEnv, type Transition, type TransitionTable } from './tabular.js';

export const UP = 0;
export const RIGHT = 1;
export const DOWN = 2;
export const LEFT = 3;
const ACTION_NAMES = ['Up', 'Right', 'Down', 'Left'] as const;
const DELTAS: readonly (readonly [number, number])[] = [
  [-1, 0],
  [0, 1],
  [1, 0],
  [0, -1],
];

export const CLIFF_ROWS = 4;
export const CLIFF_COLS = 12;
export const CLIFF_START = 36;
export const CLIFF_GOAL = 47;

export interface CliffWalkingOptions {
  /** Default false. True: intended move and each perpendicular move with probability 1/3. */
  isSlippery?: boolean;
  renderMode?: RenderMode;
}

const OPTION_NAMES = ['isSlippery', 'renderMode'] as const;

function isCliff(row: number, col: number): boolean {
  return row === CLIFF_ROWS - 1 && col >= 1 && col <= CLIFF_COLS - 2;
}

export class CliffWalkingEnv extends TabularEnv {
  readonly observationSpace = new Discrete(CLIFF_ROWS * CLIFF_COLS);
  readonly actionSpace = new Discrete(4);
  readonly P: TransitionTable;
  readonly isSlippery: boolean;
  readonly shape: readonly [rows: number, cols: number] = [CLIFF_ROWS, CLIFF_COLS];
  readonly startStateIndex = CLIFF_START;
  /** Start-state distribution (1 on state 36). */
  readonly initialStateDistrib: Float64Array;

  constructor(options: CliffWalkingOptions = {}) {
    super();
    const env = 'CliffWalkingEnv';
    checkOptionNames(env, options, OPTION_NAMES);
    this.metadata = { renderModes: ['json', 'ansi'], renderFps: 4 };
    const isSlippery = options.isSlippery ?? false;
    if (typeof isSlippery !== 'boolean') {
      throw new EnvError(`${env}: option 'isSlippery' must be a boolean, got ${describeValue(isSlippery)}`);
    }
    if (options.renderMode !== undefined) this.renderMode = options.renderMode;
    this.isSlippery = isSlippery;
    this.initialStateDistrib = new Float64Array(CLIFF_ROWS * CLIFF_COLS);
    this.initialStateDistrib[CLIFF_START] = 1;

    const P: TransitionTable = [];
    for (let s = 0; s < CLIFF_ROWS * CLIFF_COLS; s++) {
      const row = Math.floor(s / CLIFF_COLS);
      const col = s % CLIFF_COLS;
      const rows: Transition[][] = [];
      for (let a = 0; a < 4; a++) {
        const moves = isSlippery ? [(a + 3) % 4, a, (a + 1) % 4] : [a];
        rows.push(moves.map((m): Transition => this.outcome(row, col, m, 1 / moves.length)));
      }
      P[s] = rows;
    }
    this.P = P;
  }

  private outcome(row: number, col: number, move: number, p: number): Transition {
    const [dr, dc] = DELTAS[move]!;
    const r = Math.min(Math.max(row + dr, 0), CLIFF_ROWS - 1);
    const c = Math.min(Math.max(col + dc, 0), CLIFF_COLS - 1);
    if (isCliff(r, c)) return [p, CLIFF_START, -100, false];
    const next = r * CLIFF_COLS + c;
    return [p, next, -1, next === CLIFF_GOAL];
  }

  protected initialState(): number {
    return this.npRandom.categorical(this.initialStateDistrib);
  }

  render(): CliffWalkingFrame | string {
    if (this.s < 0) throw new ResetNeeded('CliffWalkingEnv: call reset() before render()');
    const row = Math.floor(this.s / CLIFF_COLS);
    const col = this.s % CLIFF_COLS;
    if (this.renderMode === 'ansi') {
      // Gymnasium's text layout: x agent, T goal, C cliff, o other; cells 3 wide, trimmed at the row ends.
      let out = '';
      for (let r = 0; r < CLIFF_ROWS; r++) {
        const cells: string[] = [];
        for (let c = 0; c < CLIFF_COLS; c++) {
          let mark: string;
          if (r === row && c === col) mark = '\x1b[41mx\x1b[0m';
          else if (r * CLIFF_COLS + c === CLIFF_GOAL) mark = 'T';
          else if (isCliff(r, c)) mark = 'C';
          else mark = 'o';
          cells.push(mark);
        }
        out += cells.join('  ') + '\n';
      }
      out += this.lastAction === null ? '\n' : `  (${ACTION_NAMES[this.lastAction]})\n`;
      return out;
    }
    const cliff: [number, number][] = [];
    for (let c = 1; c <= CLIFF_COLS - 2; c++) cliff.push([CLIFF_ROWS - 1, c]);
    return {
      kind: 'cliffwalking',
      rows: CLIFF_ROWS,
      cols: CLIFF_COLS,
      start: [3, 0],
      goal: [3, 11],
      cliff,
      agent: [row, col],
      lastAction: this.lastAction,
    };
  }
}

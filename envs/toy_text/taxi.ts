/**
 * Taxi (Gymnasium's `Taxi-v4`, as in Gymnasium 1.3; Dietterich 2000): drive to the passenger's depot, pick
 * the passenger up, drive to the destination depot and drop them off.
 *
 *   Map (| is a wall between two cells, : none):   Depots: 0 R (0,0), 1 G (0,4), 2 Y (4,0), 3 B (4,3).
 *     +---------+
 *     |R: | : :G|
 *     | : | : : |
 *     | : : : : |
 *     | | : | : |
 *     |Y| : |B: |
 *     +---------+
 *   State: ((row * 5 + col) * 5 + passengerLoc) * 4 + destination, passengerLoc 4 = in the taxi (500 states).
 *   Actions: 0 south, 1 north, 2 east, 3 west, 4 pickup, 5 dropoff.
 *   Reward −1 per step, +20 for dropping the passenger at the destination (terminates), −10 for an illegal
 *   pickup or dropoff. Dropping a carried passenger at another depot is legal (−1): they wait there.
 *   Start: uniform over the 300 states with the passenger at a depot other than the destination.
 *   info.actionMask (Int8Array(6)): 1 where the action changes the state (in the deterministic game).
 *
 * v4 options (defaults off): isRainy — a move goes as intended with rainyProbability (0.8) and to each side
 * with (1 − rainyProbability) / 2; ficklePassenger — with fickleProbability (0.3) per episode, the passenger
 * changes destination (uniformly among the other three) on the first step that moves the taxi after pickup.
 */
import { EnvError, ResetNeeded, type EnvSnapshot, type Info, type RenderMode, type StepResult } from '../core.js';
import type { TaxiFrame } from '../frames.js';
import { Discrete } from '../spaces.js';
import { describeValue } from '../utils/seeding.js';
import { checkOptionNames } from '../utils/options.js';
import { TabularEnv, type TransitionTable } from './tabular.js';

export const TAXI_MAP: readonly string[] = Object.freeze([
  '+---------+',
  '|R: | : :G|',
  '| : | : : |',
  '| : : : : |',
  '| | : | : |',
  '|Y| : |B: |',
  '+---------+',
]);

export const TAXI_DEPOTS: readonly { readonly name: string; readonly row: number; readonly col: number }[] = Object.freeze([
  { name: 'R', row: 0, col: 0 },
  { name: 'G', row: 0, col: 4 },
  { name: 'Y', row: 4, col: 0 },
  { name: 'B', row: 4, col: 3 },
]);

export const SOUTH = 0;
export const NORTH = 1;
export const EAST = 2;
export const WEST = 3;
export const PICKUP = 4;
export const DROPOFF = 5;
/** Passenger location meaning "in the taxi". */
export const IN_TAXI = 4;
const ACTION_NAMES = ['South', 'North', 'East', 'West', 'Pickup', 'Dropoff'] as const;
const NUM_ROWS = 5;
const NUM_COLS = 5;
const MAX_ROW = NUM_ROWS - 1;
const MAX_COL = NUM_COLS - 1;
const NUM_STATES = 500;

export interface TaxiOptions {
  /** Default false. Moves succeed with rainyProbability and slip to either side otherwise. */
  isRainy?: boolean;
  /** Default false. The passenger may change destination once after being picked up. */
  ficklePassenger?: boolean;
  /** Probability that a rainy move goes as intended (default 0.8). */
  rainyProbability?: number;
  /** Probability, drawn at each reset, that the passenger is fickle this episode (default 0.3). */
  fickleProbability?: number;
  renderMode?: RenderMode;
}

const OPTION_NAMES = ['isRainy', 'ficklePassenger', 'rainyProbability', 'fickleProbability', 'renderMode'] as const;

/** Encodes (taxi row, taxi col, passenger location 0–4, destination 0–3) as a state 0–499. */
export function encodeTaxiState(row: number, col: number, passengerLoc: number, destination: number): number {
  return ((row * 5 + col) * 5 + passengerLoc) * 4 + destination;
}

/** Inverse of `encodeTaxiState`: [row, col, passengerLoc, destination]. */
export function decodeTaxiState(state: number): [row: number, col: number, passengerLoc: number, destination: number] {
  if (!Number.isInteger(state) || state < 0 || state >= NUM_STATES) {
    throw new EnvError(`TaxiEnv: state must be an integer in [0, 500), got ${describeValue(state)}`);
  }
  const destination = state % 4;
  let i = Math.floor(state / 4);
  const passengerLoc = i % 5;
  i = Math.floor(i / 5);
  const col = i % 5;
  const row = Math.floor(i / 5);
  return [row, col, passengerLoc, destination];
}

/** No wall immediately east of (row, col) (the east edge of the grid is a wall). */
function openEast(row: number, col: number): boolean {
  return TAXI_MAP[1 + row]![2 * col + 2] === ':';
}

/** No wall immediately west of (row, col). */
function openWest(row: number, col: number): boolean {
  return TAXI_MAP[1 + row]![2 * col] === ':';
}

function depotAt(row: number, col: number): number {
  return TAXI_DEPOTS.findIndex((d) => d.row === row && d.col === col);
}

function checkProbability(env: string, name: string, value: unknown, fallback: number): number {
  const v = value ?? fallback;
  if (typeof v !== 'number' || !(v >= 0 && v <= 1)) {
    throw new EnvError(`${env}: option '${name}' must be a number in [0, 1], got ${describeValue(v)}`);
  }
  return v;
}

function checkBoolean(env: string, name: string, value: unknown, fallback: boolean): boolean {
  const v = value ?? fallback;
  if (typeof v !== 'boolean') throw new EnvError(`${env}: option '${name}' must be a boolean, got ${describeValue(v)}`);
  return v;
}

export class TaxiEnv extends TabularEnv {
  readonly observationSpace = new Discrete(NUM_STATES);
  readonly actionSpace = new Discrete(6);
  readonly P: TransitionTable;
  readonly isRainy: boolean;
  readonly ficklePassenger: boolean;
  readonly rainyProbability: number;
  readonly fickleProbability: number;
  /** Uniform over the 300 start states (passenger at a depot, not at the destination). */
  readonly initialStateDistrib: Float64Array;
  /** Whether the passenger will still change destination this episode (drawn at reset). */
  fickleStep = false;

  constructor(options: TaxiOptions = {}) {
    super();
    const env = 'TaxiEnv';
    checkOptionNames(env, options, OPTION_NAMES);
    this.metadata = { renderModes: ['json', 'ansi'], renderFps: 4 };
    this.isRainy = checkBoolean(env, 'isRainy', options.isRainy, false);
    this.ficklePassenger = checkBoolean(env, 'ficklePassenger', options.ficklePassenger, false);
    this.rainyProbability = checkProbability(env, 'rainyProbability', options.rainyProbability, 0.8);
    this.fickleProbability = checkProbability(env, 'fickleProbability', options.fickleProbability, 0.3);
    if (options.renderMode !== undefined) this.renderMode = options.renderMode;

    this.initialStateDistrib = new Float64Array(NUM_STATES);
    const P: TransitionTable = [];
    let starts = 0;
    for (let row = 0; row < NUM_ROWS; row++) {
      for (let col = 0; col < NUM_COLS; col++) {
        for (let pass = 0; pass <= 4; pass++) {
          for (let dest = 0; dest < 4; dest++) {
            const state = this.encode(row, col, pass, dest);
            if (pass < 4 && pass !== dest) {
              this.initialStateDistrib[state] = 1;
              starts++;
            }
            const rows: TransitionTable[number] = [];
            for (let a = 0; a < 6; a++) {
              rows.push(this.isRainy ? this.rainyTransitions(row, col, pass, dest, a) : this.dryTransitions(row, col, pass, dest, a));
            }
            P[state] = rows;
          }
        }
      }
    }
    for (let s = 0; s < NUM_STATES; s++) this.initialStateDistrib[s]! /= starts;
    this.P = P;
  }

  encode(row: number, col: number, passengerLoc: number, destination: number): number {
    return encodeTaxiState(row, col, passengerLoc, destination);
  }

  decode(state: number): [row: number, col: number, passengerLoc: number, destination: number] {
    return decodeTaxiState(state);
  }

  /** Pickup: legal only with the passenger waiting at the taxi's cell. */
  private pickup(row: number, col: number, pass: number): [newPass: number, reward: number] {
    if (pass < 4 && TAXI_DEPOTS[pass]!.row === row && TAXI_DEPOTS[pass]!.col === col) return [IN_TAXI, -1];
    return [pass, -10];
  }

  /** Dropoff: +20 and done at the destination; at another depot the passenger gets out there (−1). */
  private dropoff(row: number, col: number, pass: number, dest: number): [newPass: number, reward: number, terminated: boolean] {
    if (pass === IN_TAXI) {
      const depot = depotAt(row, col);
      if (depot === dest) return [dest, 20, true];
      if (depot >= 0) return [depot, -1, false];
    }
    return [pass, -10, false];
  }

  private dryTransitions(row: number, col: number, pass: number, dest: number, action: number): TransitionTable[number][number] {
    let newRow = row;
    let newCol = col;
    let newPass = pass;
    let reward = -1;
    let terminated = false;
    if (action === SOUTH) newRow = Math.min(row + 1, MAX_ROW);
    else if (action === NORTH) newRow = Math.max(row - 1, 0);
    else if (action === EAST) {
      if (openEast(row, col)) newCol = Math.min(col + 1, MAX_COL);
    } else if (action === WEST) {
      if (openWest(row, col)) newCol = Math.max(col - 1, 0);
    } else if (action === PICKUP) [newPass, reward] = this.pickup(row, col, pass);
    else if (action === DROPOFF) [newPass, reward, terminated] = this.dropoff(row, col, pass, dest);
    return [[1, this.encode(newRow, newCol, newPass, dest), reward, terminated]];
  }

  /** A sideways slip in the rain: clamped to the grid, and blocked (no move) by a wall. */
  private slip(row: number, col: number, dr: number, dc: number): [number, number] {
    const r = Math.max(0, Math.min(row + dr, MAX_ROW));
    const c = Math.max(0, Math.min(col + dc, MAX_COL));
    if (dc === 1 && TAXI_MAP[1 + r]![2 * c] !== ':') return [row, col];
    if (dc === -1 && TAXI_MAP[1 + r]![2 * c + 2] !== ':') return [row, col];
    return [r, c];
  }

  private rainyTransitions(row: number, col: number, pass: number, dest: number, action: number): TransitionTable[number][number] {
    if (action === PICKUP || action === DROPOFF) return this.dryTransitions(row, col, pass, dest, action);
    // (forward, left, right) for each heading: south → east/west, north → west/east, east → north/south,
    // west → south/north. When the forward move is blocked (wall or edge) the taxi does not move at all.
    const moves: readonly (readonly [number, number])[][] = [
      [[1, 0], [0, 1], [0, -1]],
      [[-1, 0], [0, -1], [0, 1]],
      [[0, 1], [-1, 0], [1, 0]],
      [[0, -1], [1, 0], [-1, 0]],
    ];
    const possible =
      (action === SOUTH && row < MAX_ROW) ||
      (action === NORTH && row > 0) ||
      (action === EAST && openEast(row, col)) ||
      (action === WEST && openWest(row, col));
    let intended: [number, number] = [row, col];
    let left: [number, number] = [row, col];
    let right: [number, number] = [row, col];
    if (possible) {
      const [fwd, l, r] = moves[action]!;
      intended = [Math.max(0, Math.min(row + fwd![0], MAX_ROW)), Math.max(0, Math.min(col + fwd![1], MAX_COL))];
      left = this.slip(row, col, l![0], l![1]);
      right = this.slip(row, col, r![0], r![1]);
    }
    const side = (1 - this.rainyProbability) / 2;
    return [
      [this.rainyProbability, this.encode(intended[0], intended[1], pass, dest), -1, false],
      [side, this.encode(left[0], left[1], pass, dest), -1, false],
      [side, this.encode(right[0], right[1], pass, dest), -1, false],
    ];
  }

  /**
   * 1 for each action that changes the state in the deterministic game: a move not blocked by a wall or the
   * edge, a legal pickup, or a dropoff of a carried passenger at any depot. Illegal pickups/dropoffs and
   * blocked moves are 0.
   */
  actionMask(state: number): Int8Array {
    const [row, col, pass, dest] = this.decode(state);
    const mask = new Int8Array(6);
    if (row < MAX_ROW) mask[SOUTH] = 1;
    if (row > 0) mask[NORTH] = 1;
    if (col < MAX_COL && openEast(row, col)) mask[EAST] = 1;
    if (col > 0 && openWest(row, col)) mask[WEST] = 1;
    if (pass < 4 && TAXI_DEPOTS[pass]!.row === row && TAXI_DEPOTS[pass]!.col === col) mask[PICKUP] = 1;
    if (pass === IN_TAXI && (depotAt(row, col) >= 0 || (TAXI_DEPOTS[dest]!.row === row && TAXI_DEPOTS[dest]!.col === col))) {
      mask[DROPOFF] = 1;
    }
    return mask;
  }

  protected override extraSnapshot(): EnvSnapshot {
    return { fickleStep: this.fickleStep };
  }

  protected override restoreExtra(snapshot: EnvSnapshot): void {
    this.fickleStep = snapshot.fickleStep === true;
  }

  protected override stateInfo(): Info {
    return { actionMask: this.actionMask(this.s) };
  }

  protected initialState(): number {
    const s = this.npRandom.categorical(this.initialStateDistrib);
    // Drawn after the start state, as Gymnasium does.
    this.fickleStep = this.ficklePassenger && this.npRandom.double() < this.fickleProbability;
    return s;
  }

  override step(action: number): StepResult<number> {
    const prev = this.s;
    const result = super.step(action);
    if (this.ficklePassenger && this.fickleStep) {
      const [prevRow, prevCol, prevPass, prevDest] = this.decode(prev);
      const [row, col, pass] = this.decode(this.s);
      if (prevPass === IN_TAXI && (row !== prevRow || col !== prevCol)) {
        this.fickleStep = false;
        const others = [0, 1, 2, 3].filter((d) => d !== prevDest);
        const dest = others[this.npRandom.integer(others.length)]!;
        this.s = this.encode(row, col, pass, dest);
        result[0] = this.s;
        result[4] = { ...result[4], ...this.stateInfo() };
      }
    }
    return result;
  }

  render(): TaxiFrame | string {
    if (this.s < 0) throw new ResetNeeded('TaxiEnv: call reset() before render()');
    const [row, col, pass, dest] = this.decode(this.s);
    if (this.renderMode === 'ansi') {
      const out = TAXI_MAP.map((line) => [...line]);
      const paint = (r: number, c: number, code: string, underline = false) => {
        const cell = out[1 + r]![2 * c + 1]!;
        out[1 + r]![2 * c + 1] = `\x1b[${code}m${underline && cell === ' ' ? '_' : cell}\x1b[0m`;
      };
      if (pass < 4) {
        paint(row, col, '43'); // taxi: yellow highlight
        paint(TAXI_DEPOTS[pass]!.row, TAXI_DEPOTS[pass]!.col, '34;1'); // waiting passenger: bold blue
      } else {
        paint(row, col, '42', true); // taxi with passenger: green highlight
      }
      paint(TAXI_DEPOTS[dest]!.row, TAXI_DEPOTS[dest]!.col, '35'); // destination: magenta
      const footer = this.lastAction === null ? '\n' : `  (${ACTION_NAMES[this.lastAction]})\n`;
      return out.map((line) => line.join('')).join('\n') + '\n' + footer;
    }
    return {
      kind: 'taxi',
      rows: NUM_ROWS,
      cols: NUM_COLS,
      map: [...TAXI_MAP],
      depots: TAXI_DEPOTS.map((d) => ({ name: d.name, row: d.row, col: d.col })),
      taxi: [row, col],
      passenger: pass,
      destination: dest,
      lastAction: this.lastAction,
    };
  }
}

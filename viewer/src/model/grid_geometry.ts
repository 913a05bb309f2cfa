/** Board geometry of the grid games (FrozenLake, CliffWalking, Taxi, Snake) in CSS pixels (pure). Row 0 is the top. */
import type { TaxiFrame } from '../../../envs/frames.js';
import type { Point } from './cartpole_geometry.js';

export interface Rect {
  x: number;
  y: number;
  w: number;
  h: number;
}

export interface GridLayout {
  rows: number;
  cols: number;
  /** Side of a square cell. */
  cell: number;
  /** Top-left of the board. */
  x0: number;
  y0: number;
  /** Board size. */
  width: number;
  height: number;
  rect(row: number, col: number): Rect;
  center(row: number, col: number): Point;
}

export interface GridLayoutOptions {
  /** Margin around the board (CSS px). */
  padding?: number;
  /** Space kept free below the board (captions). */
  reserveBottom?: number;
  /** Space kept free above the board (a score line). */
  reserveTop?: number;
  /** Largest cell side. */
  maxCell?: number;
}

/** Square cells as large as fit, the board centred in the free area; cell sides and the origin on whole pixels. */
export function gridLayout(rows: number, cols: number, width: number, height: number, opts: GridLayoutOptions = {}): GridLayout {
  const padding = opts.padding ?? 24;
  const top = opts.reserveTop ?? 0;
  const availW = Math.max(1, width - 2 * padding);
  const availH = Math.max(1, height - 2 * padding - top - (opts.reserveBottom ?? 0));
  const cell = Math.max(2, Math.floor(Math.min(availW / cols, availH / rows, opts.maxCell ?? Infinity)));
  const bw = cell * cols;
  const bh = cell * rows;
  const x0 = Math.round((width - bw) / 2);
  const y0 = Math.round(padding + top + (availH - bh) / 2);
  return {
    rows,
    cols,
    cell,
    x0,
    y0,
    width: bw,
    height: bh,
    rect: (r, c) => ({ x: x0 + c * cell, y: y0 + r * cell, w: cell, h: cell }),
    center: (r, c) => [x0 + (c + 0.5) * cell, y0 + (r + 0.5) * cell],
  };
}

/** Unit direction (dx, dy on screen) of a grid action, per game. */
export const FROZEN_LAKE_DIRS: Point[] = [
  [-1, 0], // 0 left
  [0, 1], // 1 down
  [1, 0], // 2 right
  [0, -1], // 3 up
];
export const CLIFF_WALKING_DIRS: Point[] = [
  [0, -1], // 0 up
  [1, 0], // 1 right
  [0, 1], // 2 down
  [-1, 0], // 3 left
];
export const TAXI_DIRS: (Point | null)[] = [
  [0, 1], // 0 south
  [0, -1], // 1 north
  [1, 0], // 2 east
  [-1, 0], // 3 west
  null, // 4 pickup
  null, // 5 dropoff
];
export const TAXI_ACTION_NAMES = ['south', 'north', 'east', 'west', 'pickup', 'dropoff'];
/** Snake headings: 0 up, 1 right, 2 down, 3 left. */
export const HEADING_DIRS: Point[] = [
  [0, -1],
  [1, 0],
  [0, 1],
  [-1, 0],
];

/**
 * Interior walls of a Taxi map: `vertical` lists [row, col] cells with a wall on their east side.
 * Map rows are `+---+` borders around `|R: | : :G|` lines: cell c at index 2c+1, the gap east of it at 2c+2.
 */
export function taxiWalls(frame: Pick<TaxiFrame, 'map' | 'rows' | 'cols'>): { vertical: [row: number, col: number][] } {
  const vertical: [number, number][] = [];
  for (let r = 0; r < frame.rows; r++) {
    const line = frame.map[r + 1] ?? '';
    for (let c = 0; c < frame.cols - 1; c++) if (line[2 * c + 2] === '|') vertical.push([r, c]);
  }
  return { vertical };
}

/** Taxi depot colours by name (Gymnasium's: red, green, yellow, blue). */
export const DEPOT_COLORS: Record<string, number> = { R: 0xf85149, G: 0x3fb950, Y: 0xe3b341, B: 0x58a6ff };

/** Where the passenger is: at a depot, or riding (index 4). */
export function taxiPassengerCell(frame: Pick<TaxiFrame, 'passenger' | 'depots' | 'taxi'>): { riding: boolean; row: number; col: number } {
  const depot = frame.depots[frame.passenger];
  if (frame.passenger >= frame.depots.length || !depot) return { riding: true, row: frame.taxi[0], col: frame.taxi[1] };
  return { riding: false, row: depot.row, col: depot.col };
}

/**
 * The snake's body as a polyline through cell coordinates [col, row], head first, `t` (0…1) of the way
 * from body `prev` to body `next`. When `next` is `prev` moved by one cell (possibly grown by one at the
 * tail) the head slides forward and the tail retracts along the grid; otherwise (a new episode) `next`
 * is drawn as is.
 */
export function snakePath(prev: readonly [number, number][] | null, next: readonly [number, number][], t: number): Point[] {
  const pts: Point[] = next.map(([r, c]) => [c, r]);
  if (!prev || !isSnakeMove(prev, next) || t >= 1) return pts;
  const u = Math.max(0, t);
  const oldHead: Point = [prev[0]![1], prev[0]![0]];
  pts[0] = lerpPoint(oldHead, pts[0]!, u);
  if (next.length === prev.length) {
    const oldTail: Point = [prev[prev.length - 1]![1], prev[prev.length - 1]![0]];
    pts.push(lerpPoint(oldTail, pts[pts.length - 1]!, u));
  }
  return pts;
}

/** `next` is `prev` after one step: the head moved to a neighbouring cell and each cell follows the one ahead. */
export function isSnakeMove(prev: readonly [number, number][], next: readonly [number, number][]): boolean {
  if (prev.length === 0 || next.length === 0) return false;
  if (next.length !== prev.length && next.length !== prev.length + 1) return false;
  const [hr, hc] = next[0]!;
  const [pr, pc] = prev[0]!;
  if (Math.abs(hr - pr) + Math.abs(hc - pc) !== 1) return false;
  for (let i = 1; i < next.length; i++) {
    const a = next[i]!;
    const b = prev[i - 1]!;
    if (a[0] !== b[0] || a[1] !== b[1]) return false;
  }
  return true;
}

/** Linear interpolation between two points. */
export function lerpPoint(a: Point, b: Point, t: number): Point {
  return [a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t];
}

/** Go board geometry and notation (pure). Row 0 is the top; GTP columns skip the letter I. */
import type { GoFrame } from '../../../envs/frames.js';
import type { Point } from './cartpole_geometry.js';

export const GTP_COLUMNS = 'ABCDEFGHJKLMNOPQRSTUVWXYZ';

export function gtpColumn(col: number): string {
  return GTP_COLUMNS[col] ?? '?';
}

/** [row, col] with row 0 at the top → "C3" style (row numbers count from the bottom). */
export function gtpVertex(row: number, col: number, size: number): string {
  return `${gtpColumn(col)}${size - row}`;
}

/** Star points (hoshi) as [row, col]: none below 7×7, 3-3 points up to 12×12, 4-4 from 13×13, tengen on odd boards ≥ 9. */
export function starPoints(size: number): [number, number][] {
  if (size < 7) return [];
  const near = size >= 13 ? 3 : 2;
  const far = size - 1 - near;
  const pts: [number, number][] = [
    [near, near],
    [near, far],
    [far, near],
    [far, far],
  ];
  const mid = (size - 1) / 2;
  if (size % 2 === 1 && size >= 9) pts.push([mid, mid]);
  if (size % 2 === 1 && size >= 15) pts.push([near, mid], [far, mid], [mid, near], [mid, far]);
  return pts;
}

export interface Stone {
  row: number;
  col: number;
  color: 'black' | 'white';
}

/** Stones of a row-major '.XO' board string. */
export function parseStones(board: string, size: number): Stone[] {
  const stones: Stone[] = [];
  const n = Math.min(board.length, size * size);
  for (let i = 0; i < n; i++) {
    const ch = board[i];
    if (ch === 'X' || ch === 'O') stones.push({ row: Math.floor(i / size), col: i % size, color: ch === 'X' ? 'black' : 'white' });
  }
  return stones;
}

export interface GoLayout {
  size: number;
  /** Distance between lines. */
  spacing: number;
  /** Wooden board rectangle (includes the coordinate margin). */
  board: { x: number; y: number; w: number; h: number };
  /** Intersection [0, 0] (top-left). */
  x0: number;
  y0: number;
  stoneRadius: number;
  point(row: number, col: number): Point;
  /** Coordinate labels around the grid. */
  labels: { text: string; x: number; y: number }[];
  labelSize: number;
  /** Side panel for captures, komi, to-play (to the right when there is room, else below). */
  panel: { x: number; y: number; w: number; h: number; side: 'right' | 'bottom' };
}

export interface GoLayoutOptions {
  /** Leave room for the captures/komi panel (default true); without it the board fills the area. */
  panel?: boolean;
  /** Space around the board (CSS px, default 20). */
  pad?: number;
}

export function goLayout(size: number, width: number, height: number, options: GoLayoutOptions = {}): GoLayout {
  const pad = options.pad ?? 20;
  const withPanel = options.panel ?? true;
  const wide = withPanel && width - height > 220;
  const panelW = wide ? Math.min(240, Math.max(170, width * 0.22)) : 0;
  const panelH = wide || !withPanel ? 0 : 64;
  const availW = width - 2 * pad - (wide ? panelW + pad : 0);
  const availH = height - 2 * pad - panelH;
  // Board side = (size - 1) spacings of grid + 2 margins of 1.3 spacings (labels sit in the margin).
  const boardSide = Math.max(40, Math.min(availW, availH));
  const spacing = boardSide / (size - 1 + 2.6);
  const margin = spacing * 1.3;
  const bx = Math.round(pad + (availW - boardSide) / 2);
  const by = Math.round(pad + (availH - boardSide) / 2);
  const x0 = bx + margin;
  const y0 = by + margin;
  const labelSize = Math.max(10, Math.min(18, spacing * 0.36));
  const labels: GoLayout['labels'] = [];
  const off = margin * 0.62;
  for (let i = 0; i < size; i++) {
    const x = x0 + i * spacing;
    const y = y0 + i * spacing;
    labels.push({ text: gtpColumn(i), x, y: y0 - off });
    labels.push({ text: gtpColumn(i), x, y: y0 + (size - 1) * spacing + off });
    labels.push({ text: String(size - i), x: x0 - off, y });
    labels.push({ text: String(size - i), x: x0 + (size - 1) * spacing + off, y });
  }
  const panel: GoLayout['panel'] = wide
    ? { x: bx + boardSide + pad * 1.5, y: by, w: panelW, h: boardSide, side: 'right' }
    : { x: bx, y: by + boardSide + 12, w: boardSide, h: Math.max(0, panelH - 12), side: 'bottom' };
  return {
    size,
    spacing,
    board: { x: bx, y: by, w: boardSide, h: boardSide },
    x0,
    y0,
    stoneRadius: spacing * 0.47,
    point: (r, c) => [x0 + c * spacing, y0 + r * spacing],
    labels,
    labelSize,
    panel,
  };
}

/**
 * The point (row·N + col) whose intersection is nearest to the CSS pixel (x, y) — within half a spacing of it
 * on both axes, so each point owns the square around it — or null off the grid (margin, coordinates, outside).
 */
export function pointAtPixel(L: Pick<GoLayout, 'size' | 'spacing' | 'x0' | 'y0'>, x: number, y: number): number | null {
  if (!Number.isFinite(x) || !Number.isFinite(y) || !(L.spacing > 0)) return null;
  // `|| 0` turns the -0 of Math.round(-0.4) into 0.
  const col = Math.round((x - L.x0) / L.spacing) || 0;
  const row = Math.round((y - L.y0) / L.spacing) || 0;
  // Rounding picks the nearest line on each axis (exactly half-way goes to the higher one); beyond half a
  // spacing outside the outer lines the nearest line is off the grid.
  if (row < 0 || col < 0 || row >= L.size || col >= L.size) return null;
  return row * L.size + col;
}

/** "B D4" / "W pass" / null: the last move as a caption (the player who made it is the one not to play). */
export function lastMoveLabel(frame: Pick<GoFrame, 'lastMove' | 'toPlay' | 'size'>): string | null {
  if (frame.lastMove === null) return null;
  const who = frame.toPlay === 'black' ? 'W' : 'B';
  if (frame.lastMove === 'pass') return `${who} pass`;
  return `${who} ${gtpVertex(frame.lastMove[0], frame.lastMove[1], frame.size)}`;
}

/** Viewer geometry: frames → CSS-pixel positions for Cart-Pole, the grid games and Go. */
import { describe, expect, it } from 'vitest';
import type { CartPoleFrame, TaxiFrame } from '../envs/frames.js';
import { cartPoleGeometry, MIN_CART_H, MIN_CART_W, poleQuad } from '../viewer/src/model/cartpole_geometry.js';
import { goLayout, gtpColumn, gtpVertex, lastMoveLabel, parseStones, starPoints } from '../viewer/src/model/go_geometry.js';
import { gridLayout, isSnakeMove, snakePath, taxiPassengerCell, taxiWalls } from '../viewer/src/model/grid_geometry.js';

const cart = (over: Partial<CartPoleFrame> = {}): CartPoleFrame => ({
  kind: 'cartpole',
  x: 0,
  xDot: 0,
  theta: 0,
  thetaDot: 0,
  xThreshold: 2.4,
  thetaThreshold: (12 * Math.PI) / 180,
  poleHalfLength: 0.5,
  lastAction: null,
  ...over,
});

describe('Cart-Pole geometry', () => {
  it('fits the track (±1.2 × xThreshold) into the width and puts x = 0 in the middle', () => {
    const g = cartPoleGeometry(cart(), 1000, 450);
    // Width-limited: (1000 − 2·50) / (2 · 2.88) px per metre.
    expect(g.scale).toBeCloseTo(900 / 5.76, 6);
    expect(g.originX).toBe(500);
    expect(g.cart.cx).toBe(500);
    expect(g.limitLeft).toBeCloseTo(500 - 2.4 * g.scale, 9);
    expect(g.limitRight).toBeCloseTo(500 + 2.4 * g.scale, 9);
    expect(g.trackRight - g.trackLeft).toBeCloseTo(5.76 * g.scale, 9);
    // Pole length is 2 × poleHalfLength metres; upright, the tip is straight above the pivot.
    expect(g.poleLength).toBeCloseTo(g.scale, 9);
    expect(g.poleTip[0]).toBeCloseTo(500, 9);
    expect(g.pivot[1] - g.poleTip[1]).toBeCloseTo(g.poleLength, 9);
    expect(g.pivot[0]).toBe(g.cart.cx);
    expect(g.pivot[1]).toBeCloseTo(g.cart.cy - g.cart.h / 2, 9);
  });

  it('places the cart at x metres right of the centre and leans the pole right for positive theta', () => {
    const g = cartPoleGeometry(cart({ x: 1.2, theta: 0.2 }), 1000, 450);
    expect(g.cart.cx - g.originX).toBeCloseTo(1.2 * g.scale, 9);
    // x = 1.2 is half way to the right limit.
    expect((g.cart.cx - g.originX) / (g.limitRight - g.originX)).toBeCloseTo(0.5, 9);
    expect(g.poleTip[0] - g.pivot[0]).toBeCloseTo(Math.sin(0.2) * g.poleLength, 9);
    expect(g.pivot[1] - g.poleTip[1]).toBeCloseTo(Math.cos(0.2) * g.poleLength, 9);
    const left = cartPoleGeometry(cart({ x: -2, theta: -0.1 }), 1000, 450);
    expect(left.cart.cx).toBeLessThan(left.originX);
    expect(left.poleTip[0]).toBeLessThan(left.pivot[0]);
  });

  it('is height-limited on a wide, short stage, and keeps the figure inside it', () => {
    const g = cartPoleGeometry(cart(), 2000, 300);
    expect(g.scale).toBeCloseTo((300 * 0.72) / (1 + 0.24 * 1.8), 9);
    expect(g.poleTip[1]).toBeGreaterThan(0);
    expect(g.trackY).toBeLessThan(300);
    for (const [, y] of g.wheels) expect(y + g.wheelRadius).toBeLessThanOrEqual(g.trackY + 1e-9);
  });

  it('never draws the cart smaller than the minimum, so its centre pixel is solid', () => {
    const g = cartPoleGeometry(cart(), 200, 120);
    expect(g.cart.w).toBeGreaterThanOrEqual(MIN_CART_W);
    expect(g.cart.h).toBeGreaterThanOrEqual(MIN_CART_H);
    expect(MIN_CART_W).toBeGreaterThanOrEqual(20);
    expect(MIN_CART_H).toBeGreaterThanOrEqual(12);
  });

  it('draws the push arrow on the side of the push', () => {
    expect(cartPoleGeometry(cart(), 1000, 450).arrow).toBeNull();
    const right = cartPoleGeometry(cart({ lastAction: 1 }), 1000, 450).arrow!;
    expect(right.to[0]).toBeGreaterThan(right.from[0]);
    expect(right.from[0]).toBeGreaterThan(500);
    const left = cartPoleGeometry(cart({ lastAction: 0 }), 1000, 450).arrow!;
    expect(left.to[0]).toBeLessThan(left.from[0]);
    expect(left.from[0]).toBeLessThan(500);
  });

  it('makes the pole quad cover the tip', () => {
    const g = cartPoleGeometry(cart({ theta: 0.3 }), 1000, 450);
    const q = poleQuad(g);
    // Width between the long edges is the pole width; the far edge is beyond the tip.
    expect(Math.hypot(q[0]![0] - q[3]![0], q[0]![1] - q[3]![1])).toBeCloseTo(g.poleWidth, 9);
    const far = [(q[1]![0] + q[2]![0]) / 2, (q[1]![1] + q[2]![1]) / 2];
    expect(Math.hypot(far[0]! - g.pivot[0], far[1]! - g.pivot[1])).toBeCloseTo(g.poleLength + g.poleWidth / 2, 9);
  });

  it('has tick marks every 0.5 m, a major one at 0', () => {
    const g = cartPoleGeometry(cart(), 1000, 450);
    expect(g.ticks.map((t) => t.metres)).toEqual([-2.5, -2, -1.5, -1, -0.5, 0, 0.5, 1, 1.5, 2, 2.5]);
    expect(g.ticks.find((t) => t.metres === 0)?.x).toBe(500);
  });
});

describe('grid layout', () => {
  it('uses square whole-pixel cells, centred, row 0 at the top', () => {
    const L = gridLayout(4, 12, 1000, 400, { padding: 20 });
    expect(L.cell).toBe(Math.floor(Math.min(960 / 12, 360 / 4)));
    expect(L.cell).toBe(80);
    expect(L.width).toBe(960);
    expect(L.height).toBe(320);
    expect(L.x0).toBe(20);
    expect(L.y0).toBe(40); // 20 px padding + (360 − 320) / 2
    expect(L.rect(0, 0)).toEqual({ x: 20, y: 40, w: 80, h: 80 });
    expect(L.rect(3, 11)).toEqual({ x: 20 + 11 * 80, y: 40 + 3 * 80, w: 80, h: 80 });
    expect(L.center(3, 0)).toEqual([60, 320]);
  });

  it('honours reserveBottom and maxCell', () => {
    const L = gridLayout(4, 4, 800, 600, { padding: 24, reserveBottom: 40, maxCell: 100 });
    expect(L.cell).toBe(100);
    expect(L.x0).toBe(200);
    expect(L.y0 + L.height).toBeLessThanOrEqual(600 - 24 - 40);
  });
});

describe('Taxi', () => {
  const map = ['+---------+', '|R: | : :G|', '| : | : : |', '| : : : : |', '| | : | : |', '|Y| : |B: |', '+---------+'];
  const frame: TaxiFrame = {
    kind: 'taxi',
    rows: 5,
    cols: 5,
    map,
    depots: [
      { name: 'R', row: 0, col: 0 },
      { name: 'G', row: 0, col: 4 },
      { name: 'Y', row: 4, col: 0 },
      { name: 'B', row: 4, col: 3 },
    ],
    taxi: [2, 4],
    passenger: 3,
    destination: 1,
    lastAction: null,
  };

  it('reads the walls of the Gymnasium map', () => {
    expect(taxiWalls(frame).vertical).toEqual([
      [0, 1],
      [1, 1],
      [3, 0],
      [3, 2],
      [4, 0],
      [4, 2],
    ]);
  });

  it('puts the passenger at its depot, or in the taxi (index 4)', () => {
    expect(taxiPassengerCell(frame)).toEqual({ riding: false, row: 4, col: 3 });
    expect(taxiPassengerCell({ ...frame, passenger: 4 })).toEqual({ riding: true, row: 2, col: 4 });
  });
});

describe('Snake path', () => {
  const before: [number, number][] = [
    [4, 4],
    [4, 3],
    [3, 3],
  ];
  const after: [number, number][] = [
    [4, 5],
    [4, 4],
    [4, 3],
  ];

  it('recognises a one-cell move, with or without growth', () => {
    expect(isSnakeMove(before, after)).toBe(true);
    expect(isSnakeMove(before, [...after, [3, 3]])).toBe(true);
    expect(isSnakeMove(before, [[0, 0]])).toBe(false);
    expect(isSnakeMove(before, before)).toBe(false);
  });

  it('slides the head forward and pulls the tail along the grid', () => {
    // [col, row] points, halfway.
    expect(snakePath(before, after, 0.5)).toEqual([
      [4.5, 4],
      [4, 4],
      [3, 4],
      [3, 3.5],
    ]);
    expect(snakePath(before, after, 1)).toEqual([
      [5, 4],
      [4, 4],
      [3, 4],
    ]);
    // Grown: the tail stays.
    expect(snakePath(before, [...after, [3, 3]], 0.5)).toEqual([
      [4.5, 4],
      [4, 4],
      [3, 4],
      [3, 3],
    ]);
    // Not a move (new episode): drawn as is.
    expect(snakePath(before, [[1, 1]], 0.2)).toEqual([[1, 1]]);
  });
});

describe('Go', () => {
  it('names columns like GTP (no I) and rows from the bottom', () => {
    expect([0, 7, 8, 18].map(gtpColumn)).toEqual(['A', 'H', 'J', 'T']);
    expect(gtpVertex(0, 0, 9)).toBe('A9');
    expect(gtpVertex(8, 8, 9)).toBe('J1');
    expect(gtpVertex(4, 3, 7)).toBe('D3');
  });

  it('has the usual star points', () => {
    expect(starPoints(5)).toEqual([]);
    expect(starPoints(7)).toEqual([
      [2, 2],
      [2, 4],
      [4, 2],
      [4, 4],
    ]);
    expect(starPoints(9)).toContainEqual([4, 4]);
    expect(starPoints(9)).toHaveLength(5);
    expect(starPoints(19)).toHaveLength(9);
    expect(starPoints(19)).toContainEqual([3, 15]);
  });

  it('parses the board string row-major from the top', () => {
    const board = '.'.repeat(28) + 'OX' + '.'.repeat(19);
    expect(parseStones(board, 7)).toEqual([
      { row: 4, col: 0, color: 'white' },
      { row: 4, col: 1, color: 'black' },
    ]);
  });

  it('lays out a square board with labels in the margin and a side panel when wide', () => {
    const L = goLayout(9, 1000, 500);
    expect(L.panel.side).toBe('right');
    expect(L.board.w).toBe(L.board.h);
    const [x0, y0] = L.point(0, 0);
    const [x8, y8] = L.point(8, 8);
    expect(x8 - x0).toBeCloseTo(8 * L.spacing, 9);
    expect(y8 - y0).toBeCloseTo(8 * L.spacing, 9);
    expect(x0).toBeGreaterThan(L.board.x);
    expect(x8).toBeLessThan(L.board.x + L.board.w);
    expect(L.labels.filter((l) => l.text === 'J')).toHaveLength(2);
    expect(L.labels.filter((l) => l.text === '9')).toHaveLength(2);
    // "9" labels the top row.
    expect(L.labels.find((l) => l.text === '9')!.y).toBeCloseTo(y0, 9);
    expect(L.panel.x).toBeGreaterThan(L.board.x + L.board.w);
    expect(goLayout(9, 500, 500).panel.side).toBe('bottom');
  });

  it('captions the last move with the player who made it', () => {
    expect(lastMoveLabel({ lastMove: [4, 0], toPlay: 'black', size: 7 })).toBe('W A3');
    expect(lastMoveLabel({ lastMove: 'pass', toPlay: 'white', size: 7 })).toBe('B pass');
    expect(lastMoveLabel({ lastMove: null, toPlay: 'black', size: 7 })).toBeNull();
  });
});

/** Cart-Pole frame → screen geometry in CSS pixels (pure). Screen y grows downwards. */
import type { CartPoleFrame } from '../../../envs/frames.js';

export type Point = [x: number, y: number];

export interface CartPoleGeometry {
  /** Pixels per metre. */
  scale: number;
  /** Screen x of world x = 0. */
  originX: number;
  /** Screen y of the track (the rail the wheels run on). */
  trackY: number;
  /** Visible track ends (screen x). */
  trackLeft: number;
  trackRight: number;
  /** Screen x of ±xThreshold. */
  limitLeft: number;
  limitRight: number;
  /** Cart body: centre and size. */
  cart: { cx: number; cy: number; w: number; h: number };
  wheels: Point[];
  wheelRadius: number;
  /** The pole's pivot (top of the cart) and its tip. */
  pivot: Point;
  poleTip: Point;
  poleLength: number;
  poleWidth: number;
  /** Push arrow for the last action, tail → head; null right after reset. */
  arrow: { from: Point; to: Point } | null;
  /** Tick marks along the track, every `tickEvery` metres. */
  ticks: { x: number; major: boolean; metres: number }[];
}

/** Track shown: ±(xThreshold × TRACK_MARGIN). */
export const TRACK_MARGIN = 1.2;
/** Cart size in metres (Gymnasium draws 50×30 px at 125 px/m: 0.4 × 0.24 m). */
export const CART_W_M = 0.4;
export const CART_H_M = 0.24;
/** The cart body never gets smaller than this (CSS px), so it stays visible and probe-able. */
export const MIN_CART_W = 28;
export const MIN_CART_H = 16;

export function cartPoleGeometry(frame: CartPoleFrame, width: number, height: number): CartPoleGeometry {
  const padX = Math.max(16, width * 0.05);
  const halfTrack = frame.xThreshold * TRACK_MARGIN;
  const poleLenM = 2 * frame.poleHalfLength;
  // Fit the track horizontally, and pole + cart + wheels + labels vertically.
  const byWidth = (width - 2 * padX) / (2 * halfTrack);
  const byHeight = (height * 0.72) / (poleLenM + CART_H_M * 1.8);
  const scale = Math.max(1, Math.min(byWidth, byHeight));

  const cartW = Math.max(MIN_CART_W, CART_W_M * scale);
  const cartH = Math.max(MIN_CART_H, CART_H_M * scale);
  const wheelRadius = Math.max(4, cartH * 0.28);
  const poleLength = poleLenM * scale;
  const poleWidth = Math.max(6, Math.min(16, 0.05 * scale));

  const originX = width / 2;
  // Centre the whole figure (pole above, wheels below) in the available height.
  const figureH = poleLength + cartH + wheelRadius * 2;
  const top = Math.max(8, (height - figureH) / 2 + height * 0.04);
  const trackY = Math.min(height - 24, top + poleLength + cartH + wheelRadius * 2);

  const cx = originX + frame.x * scale;
  const cy = trackY - wheelRadius * 2 - cartH / 2 + wheelRadius * 0.6;
  const pivot: Point = [cx, cy - cartH / 2];
  const poleTip: Point = [pivot[0] + Math.sin(frame.theta) * poleLength, pivot[1] - Math.cos(frame.theta) * poleLength];
  const wheelY = cy + cartH / 2 + wheelRadius * 0.4;
  const wheels: Point[] = [
    [cx - cartW * 0.3, wheelY],
    [cx + cartW * 0.3, wheelY],
  ];

  let arrow: CartPoleGeometry['arrow'] = null;
  if (frame.lastAction === 0 || frame.lastAction === 1) {
    const dir = frame.lastAction === 1 ? 1 : -1;
    const len = Math.max(18, cartW * 0.55);
    const gap = 8;
    const start = cx + dir * (cartW / 2 + gap);
    arrow = { from: [start, cy], to: [start + dir * len, cy] };
  }

  const ticks: CartPoleGeometry['ticks'] = [];
  const tickEvery = 0.5;
  const n = Math.floor(halfTrack / tickEvery);
  for (let i = -n; i <= n; i++) ticks.push({ x: originX + i * tickEvery * scale, major: i % 2 === 0, metres: i * tickEvery });

  return {
    scale,
    originX,
    trackY,
    trackLeft: originX - halfTrack * scale,
    trackRight: originX + halfTrack * scale,
    limitLeft: originX - frame.xThreshold * scale,
    limitRight: originX + frame.xThreshold * scale,
    cart: { cx, cy, w: cartW, h: cartH },
    wheels,
    wheelRadius,
    pivot,
    poleTip,
    poleLength,
    poleWidth,
    arrow,
    ticks,
  };
}

/** Corners of the pole as a quad from the pivot to a point `extend` px beyond the tip (so the tip itself is inside). */
export function poleQuad(g: Pick<CartPoleGeometry, 'pivot' | 'poleTip' | 'poleWidth'>, extend = g.poleWidth / 2): Point[] {
  const [px, py] = g.pivot;
  const [tx, ty] = g.poleTip;
  const len = Math.hypot(tx - px, ty - py) || 1;
  const ux = (tx - px) / len;
  const uy = (ty - py) / len;
  const nx = -uy * (g.poleWidth / 2);
  const ny = ux * (g.poleWidth / 2);
  const ex = tx + ux * extend;
  const ey = ty + uy * extend;
  return [
    [px + nx, py + ny],
    [ex + nx, ey + ny],
    [ex - nx, ey - ny],
    [px - nx, py - ny],
  ];
}

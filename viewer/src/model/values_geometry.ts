/**
 * Values frames (labelled bars: the picture of a plug-in env that has none of its own) → screen geometry in CSS
 * pixels (pure). One row per value: the label on the left, a track, the bar from the zero line (or the track's
 * end nearest zero) to the value, the number on the right. The renderer draws these shapes and the test probe
 * reads the same points.
 */
import type { ValuesFrame } from '../../../envs/frames.js';
import type { Point } from './cartpole_geometry.js';

/** Bars drawn at most; the rest are counted in a line below. */
export const MAX_BARS = 48;

export interface BarGeometry {
  label: string;
  value: number | null;
  /** The track's left and right x, the row's centre y, the bar's thickness. */
  x0: number;
  x1: number;
  y: number;
  thickness: number;
  /** x of the scale's zero, where the bar starts (clamped to the track). */
  zeroX: number;
  /** x of the value (clamped to the track); equals zeroX for a missing value. */
  valueX: number;
  /** The value lies outside its bounds (drawn clamped, marked). */
  outside: boolean;
  /** The scale: [low, high] as drawn. */
  scale: [number, number];
  /** Fixed bounds (false: scaled by the largest |value| shown). */
  bounded: boolean;
}

export interface ValuesGeometry {
  bars: BarGeometry[];
  /** Values not drawn (beyond MAX_BARS). */
  hidden: number;
  labelX: number;
  numberX: number;
  titleY: number;
  /** Where the "+N more" line goes. */
  footerY: number;
}

/**
 * The scale of each bar: its finite [low, high] when both are given (and low < high), otherwise symmetric around
 * zero with the largest |value| this bar has shown (`seen`, kept by the caller across frames).
 */
export function barScale(frame: ValuesFrame, i: number, seen: number): { scale: [number, number]; bounded: boolean } {
  const low = frame.low?.[i] ?? null;
  const high = frame.high?.[i] ?? null;
  if (low !== null && high !== null && high > low) return { scale: [low, high], bounded: true };
  const m = seen > 0 ? seen : 1;
  return { scale: [low !== null && low >= 0 ? 0 : -m, high !== null && high <= 0 ? 0 : m], bounded: false };
}

export function valuesGeometry(frame: ValuesFrame, width: number, height: number, seen: readonly number[]): ValuesGeometry {
  const shown = Math.min(frame.values.length, MAX_BARS);
  const hidden = frame.values.length - shown;
  const pad = Math.max(10, Math.min(24, width * 0.04));
  const titleH = frame.title ? 26 : 0;
  const footerH = hidden > 0 ? 22 : 0;
  const rowH = shown > 0 ? Math.min(44, (height - 2 * pad - titleH - footerH) / shown) : 0;
  // A few bars sit in the middle of the stage, not at its top.
  const block = titleH + rowH * shown + footerH;
  const titleY = Math.max(pad, (height - block) / 2);
  const top = titleY + titleH;
  // Labels take up to a third of the width; numbers a fixed column on the right.
  const labels = Array.from({ length: shown }, (_, i) => frame.labels?.[i] ?? String(i));
  const longest = labels.reduce((m, l) => Math.max(m, l.length), 1);
  const labelW = Math.min(width / 3, longest * 7.5 + 12);
  const numberW = Math.min(width / 4, 84);
  const x0 = pad + labelW;
  const x1 = Math.max(x0 + 20, width - pad - numberW);
  const bars: BarGeometry[] = [];
  for (let i = 0; i < shown; i++) {
    const value = frame.values[i] ?? null;
    const { scale, bounded } = barScale(frame, i, seen[i] ?? 0);
    const toX = (v: number) => x0 + ((Math.min(scale[1], Math.max(scale[0], v)) - scale[0]) / (scale[1] - scale[0])) * (x1 - x0);
    const zeroX = toX(0);
    bars.push({
      label: labels[i]!,
      value,
      x0,
      x1,
      y: top + rowH * (i + 0.5),
      thickness: Math.max(2, Math.min(18, rowH * 0.55)),
      zeroX,
      valueX: value === null ? zeroX : toX(value),
      outside: value !== null && (value < scale[0] || value > scale[1]),
      scale,
      bounded,
    });
  }
  return { bars, hidden, labelX: pad, numberX: width - pad, titleY, footerY: top + rowH * shown + 4 };
}

/** The bar's centre point (for the probe): halfway between zero and the value, or null for a bar too short to hit. */
export function barMidpoint(b: BarGeometry): Point | null {
  return Math.abs(b.valueX - b.zeroX) >= 4 ? [(b.zeroX + b.valueX) / 2, b.y] : null;
}

/** A bar's number: 4 significant digits without trailing zeros after the point, exponent form beyond; — for none. */
export function valueText(v: number | null): string {
  if (v === null) return '—';
  const a = Math.abs(v);
  if (a !== 0 && (a >= 1e5 || a < 1e-3)) return v.toExponential(2);
  const text = v.toPrecision(4);
  return text.includes('.') && !text.includes('e') ? text.replace(/\.?0+$/, '') : text;
}

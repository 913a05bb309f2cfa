/** Scales, nice ticks and smoothing for the learning-curve charts (pure). */

export interface Ticks {
  /** Domain extended to whole ticks. */
  min: number;
  max: number;
  step: number;
  ticks: number[];
}

/** Heckbert's nice number: 1, 2, 2.5, 5 or 10 × a power of ten, rounded or the ceiling. */
export function niceNumber(x: number, round: boolean): number {
  if (!(x > 0) || !Number.isFinite(x)) return 1;
  const exp = Math.floor(Math.log10(x));
  const f = x / 10 ** exp;
  let nf: number;
  if (round) nf = f < 1.5 ? 1 : f < 2.25 ? 2 : f < 3.5 ? 2.5 : f < 7.5 ? 5 : 10;
  else nf = f <= 1 ? 1 : f <= 2 ? 2 : f <= 2.5 ? 2.5 : f <= 5 ? 5 : 10;
  return nf * 10 ** exp;
}

/** About `count` ticks at nice multiples covering [min, max]; a degenerate range gets a unit around it. */
export function niceTicks(min: number, max: number, count = 5): Ticks {
  if (!Number.isFinite(min) || !Number.isFinite(max)) {
    min = 0;
    max = 1;
  }
  if (max < min) [min, max] = [max, min];
  if (max === min) {
    const d = min === 0 ? 1 : Math.abs(min) * 0.1;
    min -= d;
    max += d;
  }
  const step = niceNumber((max - min) / Math.max(1, count - 1), true);
  const lo = Math.floor(min / step + 1e-9) * step;
  const hi = Math.ceil(max / step - 1e-9) * step;
  const ticks: number[] = [];
  const n = Math.round((hi - lo) / step);
  for (let i = 0; i <= n; i++) ticks.push(cleanFloat(lo + i * step, step));
  return { min: cleanFloat(lo, step), max: cleanFloat(hi, step), step, ticks };
}

/** Removes float noise (0.30000000000000004 → 0.3) relative to the tick step. */
function cleanFloat(v: number, step: number): number {
  const decimals = Math.max(0, -Math.floor(Math.log10(step)) + 2);
  const r = Number(v.toFixed(Math.min(20, decimals)));
  return Object.is(r, -0) ? 0 : r;
}

export interface LinearScale {
  (v: number): number;
  invert(px: number): number;
  domain: [number, number];
  range: [number, number];
}

export function linearScale(domain: [number, number], range: [number, number]): LinearScale {
  const [d0, d1] = domain;
  const [r0, r1] = range;
  const k = d1 === d0 ? 0 : (r1 - r0) / (d1 - d0);
  const f = ((v: number) => r0 + (v - d0) * k) as LinearScale;
  f.invert = (px: number) => (k === 0 ? d0 : d0 + (px - r0) / k);
  f.domain = [d0, d1];
  f.range = [r0, r1];
  return f;
}

/** Trailing mean over the last `window` values (fewer at the start). */
export function movingAverage(values: readonly number[], window: number): number[] {
  const w = Math.max(1, Math.floor(window));
  const out = new Array<number>(values.length);
  let sum = 0;
  for (let i = 0; i < values.length; i++) {
    sum += values[i]!;
    if (i >= w) sum -= values[i - w]!;
    out[i] = sum / Math.min(i + 1, w);
  }
  return out;
}

/** Smoothing window for `n` episodes: ~1/25 of them, between 5 and 100. */
export function smoothingWindow(n: number): number {
  return Math.max(5, Math.min(100, Math.round(n / 25)));
}

/** Index of the value nearest to `x` in ascending `xs` (-1 when empty). */
export function nearestIndex(xs: readonly number[], x: number): number {
  const n = xs.length;
  if (n === 0) return -1;
  let lo = 0;
  let hi = n - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (xs[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  if (lo > 0 && Math.abs(xs[lo - 1]! - x) <= Math.abs(xs[lo]! - x)) return lo - 1;
  return lo;
}

/** [min, max] of finite values, or null. */
export function extent(values: Iterable<number>): [number, number] | null {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) {
    if (!Number.isFinite(v)) continue;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return lo <= hi ? [lo, hi] : null;
}

/** Joins extents (nulls ignored). */
export function unionExtent(...xs: ([number, number] | null)[]): [number, number] | null {
  let out: [number, number] | null = null;
  for (const e of xs) {
    if (!e) continue;
    out = out ? [Math.min(out[0], e[0]), Math.max(out[1], e[1])] : [e[0], e[1]];
  }
  return out;
}

/**
 * The x axis of a learning curve: from 0 to the data's last x (not a nice number past it: a 30k-step run's axis
 * ends at 30k, not 50k), with nice ticks inside. A lone x (one point, or several at one step) sits mid-axis, not
 * at the right edge.
 */
export function stepAxis(lastX: number, firstX: number, count: number): { end: number; ticks: number[]; step: number } {
  const lone = firstX === lastX;
  const end = !(lastX > 0) || !Number.isFinite(lastX) ? 1 : lone ? lastX * 2 : lastX;
  const t = niceTicks(0, end, count);
  let ticks = t.ticks.filter((v) => v <= end * (1 + 1e-9));
  // Too few ticks inside the range (the nice step overshot it): halve the step.
  if (ticks.length < 2 && count >= 2) ticks = niceTicks(0, end, count * 2).ticks.filter((v) => v <= end * (1 + 1e-9));
  return { end, ticks, step: ticks.length > 1 ? ticks[1]! - ticks[0]! : t.step };
}

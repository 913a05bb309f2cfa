/** Number formatting for the HUD, the runs list and chart axes (pure, no DOM). */

const DASH = '—';

/** 1234 → "1,234", 12345 → "12.3k", 1234567 → "1.23M". */
export function formatCount(n: number | null | undefined): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return DASH;
  const a = Math.abs(n);
  if (a < 10_000) return Math.round(n).toLocaleString('en-US');
  if (a < 1e6) return `${trim((n / 1e3).toFixed(a < 1e5 ? 1 : 0))}k`;
  if (a < 1e9) return `${trim((n / 1e6).toFixed(a < 1e7 ? 2 : 1))}M`;
  return `${trim((n / 1e9).toFixed(2))}G`;
}

/** Axis labels for env steps, given the tick step: 0, 2.5k, 10k, 1.5M. */
export function formatStepTick(v: number, tickStep: number): string {
  const a = Math.abs(v);
  if (a === 0) return '0';
  if (a >= 1e6) return `${trim((v / 1e6).toFixed(decimalsFor(tickStep / 1e6)))}M`;
  if (a >= 1e3) return `${trim((v / 1e3).toFixed(decimalsFor(tickStep / 1e3)))}k`;
  return trim(v.toFixed(decimalsFor(tickStep)));
}

/** Axis labels for values (returns, losses), given the tick step. */
export function formatValueTick(v: number, tickStep: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e4 && tickStep >= 1e3) return minus(formatStepTick(v, tickStep));
  if (a < 1e-3) return minus(v.toExponential(0));
  return minus(trim(v.toFixed(decimalsFor(tickStep))));
}

/** Decimals needed to show multiples of `step` exactly (0.25 → 2, 5 → 0). */
export function decimalsFor(step: number): number {
  if (!(step > 0) || !Number.isFinite(step)) return 0;
  for (let d = 0; d <= 8; d++) {
    const scaled = step * 10 ** d;
    if (Math.abs(scaled - Math.round(scaled)) < 1e-6 * Math.max(1, scaled)) return d;
  }
  return 8;
}

/** A value with about `digits` significant digits, no exponent for everyday magnitudes. */
export function formatNumber(v: number | null | undefined, digits = 3): string {
  if (v === null || v === undefined) return DASH;
  if (Number.isNaN(v)) return 'NaN';
  if (!Number.isFinite(v)) return v > 0 ? '∞' : '−∞';
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e5) return formatCount(v);
  if (a < 1e-3) return minus(v.toExponential(Math.max(0, digits - 1)));
  const magnitude = Math.floor(Math.log10(a));
  const decimals = Math.max(0, Math.min(6, digits - 1 - magnitude));
  return minus(trim(v.toFixed(decimals)));
}

/** Episode returns: integers stay integers, others get up to 2 decimals. */
export function formatReturn(v: number | null | undefined): string {
  if (v === null || v === undefined) return DASH;
  if (!Number.isFinite(v)) return formatNumber(v);
  if (Number.isInteger(v)) return minus(v.toLocaleString('en-US'));
  const a = Math.abs(v);
  return minus(trim(v.toFixed(a >= 100 ? 1 : 2)));
}

/** Steps per second: "842/s", "12.3k/s". */
export function formatRate(v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return DASH;
  return `${formatCount(v)}/s`;
}

/** Latency in ms: "35 ms", "1.2 s", "3 min". */
export function formatLatency(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return DASH;
  const m = Math.max(0, ms);
  if (m < 1000) return `${Math.round(m)} ms`;
  if (m < 60_000) return `${trim((m / 1000).toFixed(1))} s`;
  return `${Math.round(m / 60_000)} min`;
}

/** Wall-clock duration: "42 s", "3 min 05 s", "1 h 02 min". */
export function formatDuration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds) || seconds < 0) return DASH;
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`;
  return `${Math.floor(s / 3600)} h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')} min`;
}

/** "3 min ago" style age of an ISO timestamp relative to `now` (ms). */
export function formatAge(iso: string, now: number): string {
  const t = Date.parse(iso);
  if (!Number.isFinite(t)) return '';
  const s = Math.max(0, (now - t) / 1000);
  if (s < 45) return 'just now';
  if (s < 3600) return `${Math.max(1, Math.round(s / 60))} min ago`;
  if (s < 86_400) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86_400)} d ago`;
}

function trim(s: string): string {
  return s.includes('.') ? s.replace(/\.?0+$/, '') : s;
}

/** A typographic minus sign. */
function minus(s: string): string {
  return s.startsWith('-') ? `−${s.slice(1)}` : s;
}

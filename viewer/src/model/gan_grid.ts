/**
 * Sample grids of GAN runs (pure, no DOM): decoding a `samples` event's base64 ink bytes, laying the images
 * out in a grid, and painting it as RGBA the way the trainer's PNGs look (gan/images.ts `gridPng`): ink dark
 * on white (value 255 − ink), each image pixel an integer block (nearest neighbour), light-grey gutters.
 */
import type { SamplesEvent } from '../../../protocol/protocol.js';

/** Grey of the gutters and the border (as in the trainer's PNGs). */
export const GUTTER_GREY = 200;

/** A decoded grid: `count` images of `height`×`width` ink bytes (0 background … 255 ink), concatenated. */
export interface SampleGrid {
  step: number;
  count: number;
  width: number;
  height: number;
  ink: Uint8Array;
}

/** Decodes a samples event; throws when the bytes do not match count·width·height. */
export function decodeSamples(e: SamplesEvent): SampleGrid {
  const text = atob(e.pixels);
  const ink = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) ink[i] = text.charCodeAt(i);
  const expected = e.count * e.width * e.height;
  if (ink.length !== expected) throw new Error(`samples at step ${e.step}: ${ink.length} bytes for ${e.count} images of ${e.width}×${e.height} (expected ${expected})`);
  return { step: e.step, count: e.count, width: e.width, height: e.height, ink };
}

export interface GridLayout {
  columns: number;
  rows: number;
  /** Output pixels per image pixel (an integer). */
  scale: number;
  /** Gutter between cells and around the grid, output pixels. */
  gap: number;
  cellWidth: number;
  cellHeight: number;
  /** Size of the whole picture, output pixels. */
  width: number;
  height: number;
}

/** Columns of a grid of `count` images: 8 for the trainer's 64, ⌈√count⌉ in general. */
export function gridColumns(count: number): number {
  return Math.max(1, Math.ceil(Math.sqrt(count)));
}

export function gridLayout(count: number, width: number, height: number, scale: number, gap: number, columns = gridColumns(count)): GridLayout {
  const s = Math.max(1, Math.floor(scale));
  const g = Math.max(0, Math.floor(gap));
  const cols = Math.max(1, Math.floor(columns));
  const rows = Math.max(1, Math.ceil(count / cols));
  const cellWidth = width * s;
  const cellHeight = height * s;
  return { columns: cols, rows, scale: s, gap: g, cellWidth, cellHeight, width: cols * cellWidth + (cols + 1) * g, height: rows * cellHeight + (rows + 1) * g };
}

/**
 * The largest whole-pixel scale at which the grid fits in `maxWidth`×`maxHeight` output pixels (at least 1),
 * with gutters of `gap` pixels.
 */
export function fitScale(count: number, width: number, height: number, maxWidth: number, maxHeight: number, gap: number, columns = gridColumns(count)): number {
  const cols = Math.max(1, columns);
  const rows = Math.max(1, Math.ceil(count / cols));
  const sx = Math.floor((maxWidth - (cols + 1) * gap) / (cols * width));
  const sy = Math.floor((maxHeight - (rows + 1) * gap) / (rows * height));
  return Math.max(1, Math.min(sx, sy));
}

/** Top-left output pixel of cell k. */
export function cellOrigin(layout: GridLayout, k: number): [number, number] {
  const c = k % layout.columns;
  const r = Math.floor(k / layout.columns);
  return [layout.gap + c * (layout.cellWidth + layout.gap), layout.gap + r * (layout.cellHeight + layout.gap)];
}

/** Centre (output pixels, fractional) of image pixel (px, py) of image k. */
export function pixelCentre(layout: GridLayout, k: number, px: number, py: number): [number, number] {
  const [x, y] = cellOrigin(layout, k);
  return [x + (px + 0.5) * layout.scale, y + (py + 0.5) * layout.scale];
}

/**
 * Paints the grid into RGBA bytes of layout.width × layout.height (a new array unless `out` is given): every
 * image pixel a scale×scale block of grey 255 − ink, gutters and empty cells grey 200, opaque.
 */
export function paintGrid(grid: SampleGrid, layout: GridLayout, out?: Uint8ClampedArray): Uint8ClampedArray {
  const W = layout.width;
  const H = layout.height;
  const data = out ?? new Uint8ClampedArray(W * H * 4);
  if (data.length !== W * H * 4) throw new Error(`paintGrid: ${data.length} bytes for ${W}×${H} RGBA`);
  const fill = (o: number, v: number) => {
    data[o] = v;
    data[o + 1] = v;
    data[o + 2] = v;
    data[o + 3] = 255;
  };
  for (let o = 0; o < data.length; o += 4) fill(o, GUTTER_GREY);
  const { width: w, height: h, ink } = grid;
  const s = layout.scale;
  for (let k = 0; k < grid.count; k++) {
    const [cx, cy] = cellOrigin(layout, k);
    const base = k * w * h;
    for (let y = 0; y < layout.cellHeight; y++) {
      const row = base + Math.floor(y / s) * w;
      let o = ((cy + y) * W + cx) * 4;
      for (let x = 0; x < layout.cellWidth; x++, o += 4) fill(o, 255 - ink[row + Math.floor(x / s)]!);
    }
  }
  return data;
}

/** The image pixel (k, px, py) under output pixel (x, y), or null on a gutter. */
export function pixelUnder(layout: GridLayout, count: number, x: number, y: number): { k: number; px: number; py: number } | null {
  const c = Math.floor((x - layout.gap) / (layout.cellWidth + layout.gap));
  const r = Math.floor((y - layout.gap) / (layout.cellHeight + layout.gap));
  if (c < 0 || r < 0 || c >= layout.columns || r >= layout.rows) return null;
  const k = r * layout.columns + c;
  if (k >= count) return null;
  const [ox, oy] = cellOrigin(layout, k);
  const ix = x - ox;
  const iy = y - oy;
  if (ix < 0 || iy < 0 || ix >= layout.cellWidth || iy >= layout.cellHeight) return null;
  return { k, px: Math.floor(ix / layout.scale), py: Math.floor(iy / layout.scale) };
}

/** Keeps the newest `max` grids of a growing list (one per step: a grid for a step already held replaces it). */
export function pushGrid(history: SampleGrid[], grid: SampleGrid, max: number): SampleGrid[] {
  const out = history.filter((g) => g.step !== grid.step);
  out.push(grid);
  out.sort((a, b) => a.step - b.step);
  return out.length > max ? out.slice(out.length - max) : out;
}

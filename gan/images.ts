/**
 * Pictures of generated images: sample grids and interpolation strips as PNG (pngjs), drawn as dark ink on
 * white like the drawings people made, each image upscaled by whole pixels (nearest neighbour) so 28×28
 * doodles stay legible, with thin light-grey gutters between cells.
 */
import { PNG } from 'pngjs';
import type { PixelRange } from './models.js';

export const SIDE = 28;
export const IMAGE_PIXELS = SIDE * SIDE;

/**
 * Generator output (n×784 floats in the preset's pixel range) as ink bytes, 0 background … 255 ink (the
 * Quick, Draw! convention), values outside the range clamped.
 */
export function toInk(images: Float32Array, range: PixelRange): Uint8Array {
  const out = new Uint8Array(images.length);
  for (let i = 0; i < images.length; i++) {
    const v = range === '0,1' ? images[i]! : (images[i]! + 1) / 2;
    out[i] = Math.round(Math.min(1, Math.max(0, v)) * 255);
  }
  return out;
}

/** Floats in [0, 1] (0 background, 1 ink) from generator output in the preset's range. */
export function toUnit(images: Float32Array, range: PixelRange): Float32Array {
  if (range === '0,1') return images;
  const out = new Float32Array(images.length);
  for (let i = 0; i < images.length; i++) out[i] = Math.min(1, Math.max(0, (images[i]! + 1) / 2));
  return out;
}

export interface GridOptions {
  /** Images per row (default: ⌈√count⌉). */
  columns?: number;
  /** Upscaling factor per pixel (default 3). */
  scale?: number;
  /** Gutter between cells in output pixels (default 2). */
  gap?: number;
  /** Image side in pixels (default 28). */
  side?: number;
}

/**
 * A grid of `count` greyscale images (ink bytes, row-major, concatenated) as a PNG: ink dark on white, the
 * gutters and the border light grey.
 */
export function gridPng(ink: Uint8Array, count: number, options: GridOptions = {}): Buffer {
  const side = options.side ?? SIDE;
  const cols = Math.max(1, options.columns ?? Math.ceil(Math.sqrt(count)));
  const rows = Math.max(1, Math.ceil(count / cols));
  const scale = Math.max(1, Math.floor(options.scale ?? 3));
  const gap = Math.max(0, Math.floor(options.gap ?? 2));
  const cell = side * scale;
  const width = cols * cell + (cols + 1) * gap;
  const height = rows * cell + (rows + 1) * gap;
  if (ink.length < count * side * side) throw new Error(`gridPng: ${ink.length} bytes for ${count} images of ${side}×${side}`);
  const png = new PNG({ width, height });
  const data = png.data;
  data.fill(255);
  const gutter = 200;
  const paint = (x: number, y: number, v: number) => {
    const o = (y * width + x) * 4;
    data[o] = v;
    data[o + 1] = v;
    data[o + 2] = v;
  };
  // Gutters, border and the empty cells of a last, partly filled row stay grey.
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) paint(x, y, gutter);
  for (let k = 0; k < count; k++) {
    const cx = gap + (k % cols) * (cell + gap);
    const cy = gap + Math.floor(k / cols) * (cell + gap);
    const base = k * side * side;
    for (let y = 0; y < cell; y++) {
      const row = base + Math.floor(y / scale) * side;
      for (let x = 0; x < cell; x++) paint(cx + x, cy + y, 255 - ink[row + Math.floor(x / scale)]!);
    }
  }
  return PNG.sync.write(png, { colorType: 0, inputColorType: 6 });
}

/** Decodes a PNG (e.g. one written by gridPng) to its grey values, 255 white … 0 black (the red channel). */
export function readGreyPng(buffer: Buffer): { width: number; height: number; grey: Uint8Array } {
  const png = PNG.sync.read(buffer);
  const grey = new Uint8Array(png.width * png.height);
  for (let i = 0; i < grey.length; i++) grey[i] = png.data[i * 4]!;
  return { width: png.width, height: png.height, grey };
}

/** Spherical interpolation between latent points a and b (t in [0, 1]); linear when they are (anti)parallel. */
export function slerp(a: Float32Array, b: Float32Array, t: number): Float32Array {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!;
    na += a[i]! * a[i]!;
    nb += b[i]! * b[i]!;
  }
  const cos = Math.min(1, Math.max(-1, dot / Math.sqrt(na * nb || 1)));
  const omega = Math.acos(cos);
  const out = new Float32Array(a.length);
  if (Math.abs(Math.sin(omega)) < 1e-6) return lerp(a, b, t);
  const wa = Math.sin((1 - t) * omega) / Math.sin(omega);
  const wb = Math.sin(t * omega) / Math.sin(omega);
  for (let i = 0; i < a.length; i++) out[i] = wa * a[i]! + wb * b[i]!;
  return out;
}

export function lerp(a: Float32Array, b: Float32Array, t: number): Float32Array {
  const out = new Float32Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = (1 - t) * a[i]! + t * b[i]!;
  return out;
}

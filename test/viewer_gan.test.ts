/** The GAN view's grid model (viewer/src/model/gan_grid.ts): decoding, layout, and the RGBA painting matching the trainer's PNGs. */
import { describe, expect, it } from 'vitest';
import { PNG } from 'pngjs';
import { gridPng } from '../gan/images.js';
import { cellOrigin, decodeSamples, fitScale, gridLayout, GUTTER_GREY, paintGrid, pixelCentre, pixelUnder, pushGrid, type SampleGrid } from '../viewer/src/model/gan_grid.js';
import type { SamplesEvent } from '../protocol/protocol.js';

function event(step: number, ink: Uint8Array, count = 64, side = 28): SamplesEvent {
  return { type: 'samples', step, count, width: side, height: side, pixels: Buffer.from(ink).toString('base64'), time: 0 };
}

function randomInk(n: number, seed = 1): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

describe('GAN sample grids in the viewer', () => {
  it('decodes the base64 ink bytes of a samples event and refuses a wrong length', () => {
    const ink = randomInk(64 * 784);
    const grid = decodeSamples(event(120, ink));
    expect(grid).toMatchObject({ step: 120, count: 64, width: 28, height: 28 });
    expect(Buffer.from(grid.ink)).toEqual(Buffer.from(ink));
    expect(() => decodeSamples({ ...event(5, ink), count: 63 })).toThrow(/50176 bytes for 63 images of 28×28 \(expected 49392\)/);
  });

  it('lays out 8×8 cells with gutters and fits the largest whole-pixel scale', () => {
    const l = gridLayout(64, 28, 28, 3, 2);
    expect(l).toMatchObject({ columns: 8, rows: 8, cellWidth: 84, cellHeight: 84, width: 8 * 84 + 9 * 2, height: 8 * 84 + 9 * 2 });
    expect(cellOrigin(l, 0)).toEqual([2, 2]);
    expect(cellOrigin(l, 9)).toEqual([2 + 86, 2 + 86]);
    expect(pixelCentre(l, 9, 0, 27)).toEqual([88 + 1.5, 88 + 27 * 3 + 1.5]);
    expect(fitScale(64, 28, 28, 690, 690, 2)).toBe(3);
    expect(fitScale(64, 28, 28, 689, 2000, 2)).toBe(2);
    expect(fitScale(64, 28, 28, 100, 100, 2)).toBe(1);
    expect(gridLayout(10, 28, 28, 1, 1)).toMatchObject({ columns: 4, rows: 3 });
  });

  it('paints exactly what the trainer writes to its PNGs: 255 − ink, grey gutters', () => {
    const ink = randomInk(64 * 784, 7);
    const grid = decodeSamples(event(0, ink));
    for (const scale of [1, 3]) {
      const layout = gridLayout(64, 28, 28, scale, 2);
      const rgba = paintGrid(grid, layout);
      const png = PNG.sync.read(gridPng(ink, 64, { columns: 8, scale, gap: 2 }));
      expect([png.width, png.height]).toEqual([layout.width, layout.height]);
      for (let i = 0; i < layout.width * layout.height; i++) {
        if (rgba[4 * i] !== png.data[4 * i] || rgba[4 * i + 3] !== 255) throw new Error(`pixel ${i} differs at scale ${scale}`);
      }
    }
    const layout = gridLayout(64, 28, 28, 2, 2);
    const rgba = paintGrid(grid, layout);
    expect(rgba[0]).toBe(GUTTER_GREY);
    const [x, y] = pixelCentre(layout, 10, 5, 7);
    const o = (Math.floor(y) * layout.width + Math.floor(x)) * 4;
    expect(rgba[o]).toBe(255 - ink[10 * 784 + 7 * 28 + 5]!);
    expect(pixelUnder(layout, 64, x, y)).toEqual({ k: 10, px: 5, py: 7 });
    expect(pixelUnder(layout, 64, 0, 0)).toBeNull();
  });

  it('keeps the newest grids, one per step, in order', () => {
    const g = (step: number): SampleGrid => ({ step, count: 1, width: 1, height: 1, ink: new Uint8Array(1) });
    let h: SampleGrid[] = [];
    for (const step of [0, 5, 10, 15, 20]) h = pushGrid(h, g(step), 3);
    expect(h.map((x) => x.step)).toEqual([10, 15, 20]);
    h = pushGrid(h, g(15), 3);
    expect(h.map((x) => x.step)).toEqual([10, 15, 20]);
    h = pushGrid(h, g(12), 4);
    expect(h.map((x) => x.step)).toEqual([10, 12, 15, 20]);
  });
});

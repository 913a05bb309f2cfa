/**
 * The GAN latent explorer in headless Chromium, once with WebGPU on (SwiftShader's software adapter) and once
 * with it off (wasm), on the shipped run data/sample-runs/gan-apple-fast-s1: the backend label, the grid of
 * seed s equal to what the lab's generator makes in Node (cpu backend) from the same latent vectors, canvases
 * showing those images, a slider move and an interpolation (ends equal to the two picked samples, the
 * in-between images equal to Node's for the same vectors), the seed field and "New samples", and screenshots at
 * desktop and phone sizes under test-results/.
 *
 * Tolerance: the page's backends and tfjs's cpu backend run the same float32 network but sum in other orders
 * (WebGPU's tiled shaders, XNNPACK's SIMD kernels), so equality is not to be expected; measured, the largest
 * difference over the grid is ~9e-7 on [0, 1] pixels on both (float32 rounding through ~250 k weights and a
 * tanh). The bound, 1e-4, leaves a hundredfold margin for other summation orders and is 1/40 of an 8-bit grey
 * level (the images drawn are identical), while a wrong latent, layer or pixel mapping moves pixels by 0.1 or more.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { PNG } from 'pngjs';
import { startLabServer, type LabServer } from '../server/app.js';
import { initCompute } from '../lab/compute.js';
import { loadGenerator, type LoadedGenerator } from '../gan/train.js';
import { sampleLatent } from '../gan/models.js';
import { Rng } from '../envs/utils/seeding.js';
import { openPage, requireBrowserAndViewer, saveScreenshot, skipBrowserTests } from './browser.js';

const RUN_ID = 'gan-apple-fast-s1';
const SAMPLE_RUN = path.resolve('data/sample-runs', RUN_ID);
const TOLERANCE = 1e-4;

interface Hook {
  status: string;
  error: string | null;
  runtime: { backend: string; software: boolean; label: string; architecture: string | null } | null;
  meta: { latentDim: number; latentDistribution: string; pixelRange: string } | null;
  imageSize: { width: number; height: number } | null;
  seed: number;
  latents: number[][];
  images: number[][];
  a: number;
  b: number;
  directions: number[][];
  explained: number[];
  amounts: number[];
  edited: { latent: number[]; image: number[] } | null;
  interpolation: { latents: number[][]; images: number[][] };
}

let server: LabServer;
let root: string;
let generator: LoadedGenerator;

beforeAll(async () => {
  if (process.env.LAB_REQUIRE_BROWSER === '1') requireBrowserAndViewer();
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'lab-latent-'));
  fs.cpSync(SAMPLE_RUN, path.join(root, RUN_ID), { recursive: true });
  server = await startLabServer({ port: 0, runsDir: root, runtimeFile: false });
  await initCompute('cpu');
  generator = loadGenerator(SAMPLE_RUN);
}, 60_000);

afterAll(async () => {
  generator?.dispose();
  await server?.close();
  if (root) fs.rmSync(root, { recursive: true, force: true });
});

const hookOf = (page: Page) => page.evaluate('JSON.parse(JSON.stringify(window.__lab.latent))') as Promise<Hook>;

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

/** The lab's generator in Node on the cpu backend: [0, 1] images of the given latent rows. */
async function nodeImages(latents: number[][]): Promise<number[][]> {
  const dim = generator.latentDim;
  const flat = Float32Array.from(latents.flat());
  // (awaited: generation is asynchronous where the backend reads asynchronously)
  const out: Float32Array = await generator.generate(flat);
  const pixels = out.length / (flat.length / dim);
  return latents.map((_, i) => Array.from(out.subarray(i * pixels, (i + 1) * pixels)));
}

async function waitReady(page: Page): Promise<void> {
  await page.waitForFunction(
    `(() => { const l = window.__lab.latent; return l && (l.status === 'error' || (l.status === 'ready' && l.directions.length > 0 && l.edited && l.interpolation.images.length > 0)); })()`,
    null,
    { timeout: 150_000 },
  );
}

/** Image pixel (px, py) of image k on a canvas, as drawn (grey level). */
async function drawnGrey(page: Page, canvas: string, k: number, px: number, py: number): Promise<number[]> {
  return page.evaluate(`(() => { const l = window.__lab.latent; const [x, y] = l.pointOf('${canvas}', ${k}, ${px}, ${py}); return l.pixelAt('${canvas}', x, y); })()`) as Promise<number[]>;
}

describe.skipIf(skipBrowserTests)('GAN latent explorer in the browser', () => {
  for (const mode of [{ webgpu: true }, { webgpu: false }]) {
    const name = mode.webgpu ? 'webgpu' : 'wasm';
    it(`generates from the shipped run on ${name}, as the lab's generator does in Node`, async () => {
      const errors: string[] = [];
      const { browser, page } = await openPage(errors, mode);
      try {
        await page.goto(`${server.url}/#/latent/${RUN_ID}?seed=5`);
        await waitReady(page);
        let hook = await hookOf(page);
        expect(hook.error).toBeNull();
        // The backend, said on the page.
        if (mode.webgpu) {
          expect(hook.runtime).toMatchObject({ backend: 'webgpu', software: true, label: 'WebGPU (software)', architecture: 'swiftshader' });
        } else {
          expect(hook.runtime).toMatchObject({ backend: 'wasm', software: false, label: 'wasm' });
        }
        expect(await page.textContent('[data-testid=latent-backend]')).toBe(hook.runtime!.label);
        // The latent from the generator's lab.json; seed 5's vectors are the lab's own.
        expect(hook.meta).toMatchObject({ latentDim: 64, latentDistribution: 'normal', pixelRange: '-1,1' });
        expect(hook.imageSize).toEqual({ width: 28, height: 28 });
        expect(hook.seed).toBe(5);
        expect(Float32Array.from(hook.latents.flat())).toEqual(sampleLatent(new Rng(5), 16, 64, 'normal'));
        // The images: not blank, and the lab's generator's to within the tolerance.
        const expected = await nodeImages(hook.latents);
        let worst = 0;
        hook.images.forEach((img, k) => {
          worst = Math.max(worst, maxDiff(img, expected[k]!));
          const mean = img.reduce((s, v) => s + v, 0) / img.length;
          expect(mean, `ink of sample ${k}`).toBeGreaterThan(0.03);
          expect(mean, `ink of sample ${k}`).toBeLessThan(0.6);
          expect(img.filter((v) => v > 0.8).length, `dark pixels of sample ${k}`).toBeGreaterThan(20);
          expect(img.filter((v) => v < 0.1).length, `white pixels of sample ${k}`).toBeGreaterThan(300);
        });
        console.log(`latent explorer on ${name}: max |page − node| over the grid = ${worst.toExponential(2)}`);
        expect(worst).toBeLessThanOrEqual(TOLERANCE);
        // The canvas shows them: ink dark on white, grey 255 − ink.
        for (const [k, px, py] of [[0, 14, 14], [3, 10, 20], [9, 20, 5], [15, 7, 7]] as const) {
          const ink = Math.round(hook.images[k]![py * 28 + px]! * 255);
          const [r, g, b] = await drawnGrey(page, 'grid', k, px, py);
          expect(Math.abs(r! - (255 - ink)), `grid pixel ${k} (${px}, ${py})`).toBeLessThanOrEqual(1);
          expect([g, b]).toEqual([r, r]);
        }

        // Directions: orthonormal, in decreasing order of the variance they explain.
        expect(hook.directions.length).toBe(5);
        for (let i = 0; i < 5; i++) {
          for (let j = 0; j <= i; j++) {
            const d = hook.directions[i]!.reduce((s, v, e) => s + v * hook.directions[j]![e]!, 0);
            expect(d).toBeCloseTo(i === j ? 1 : 0, 4);
          }
        }
        for (let i = 1; i < 5; i++) expect(hook.explained[i]!).toBeLessThanOrEqual(hook.explained[i - 1]! + 1e-9);

        // Pick A = sample 3 and B = sample 10 by clicking them.
        for (const k of [3, 10]) {
          const [x, y] = (await page.evaluate(`window.__lab.latent.pointOf('grid', ${k}, 14, 14)`)) as [number, number];
          const box = (await page.locator('[data-testid=latent-grid]').boundingBox())!;
          await page.mouse.click(box.x + x, box.y + y);
        }
        await page.waitForFunction(`(() => { const l = window.__lab.latent; return l.a === 3 && l.b === 10 && JSON.stringify(l.interpolation.latents[0]) === JSON.stringify(l.latents[3]) && JSON.stringify(l.interpolation.latents[8]) === JSON.stringify(l.latents[10]) && JSON.stringify(l.edited.latent) === JSON.stringify(l.latents[3]); })()`, null, { timeout: 60_000 });
        hook = await hookOf(page);
        // Interpolation: the ends are A and B (same vectors, same images), the middle is Node's for the same vectors.
        const strip = hook.interpolation;
        expect(strip.images).toHaveLength(9);
        expect(maxDiff(strip.images[0]!, hook.images[3]!)).toBeLessThanOrEqual(1e-4);
        expect(maxDiff(strip.images[8]!, hook.images[10]!)).toBeLessThanOrEqual(1e-4);
        const stripNode = await nodeImages(strip.latents);
        strip.images.forEach((img, i) => expect(maxDiff(img, stripNode[i]!), `strip image ${i}`).toBeLessThanOrEqual(TOLERANCE));
        // The middle is neither end: the images change along the way.
        const meanAbs = (u: number[], v: number[]) => u.reduce((s, x, i) => s + Math.abs(x - v[i]!), 0) / u.length;
        expect(meanAbs(strip.images[4]!, strip.images[0]!)).toBeGreaterThan(0.02);
        expect(meanAbs(strip.images[4]!, strip.images[8]!)).toBeGreaterThan(0.02);
        const middleInk = Math.round(strip.images[4]![14 * 28 + 14]! * 255);
        expect(Math.abs((await drawnGrey(page, 'strip', 4, 14, 14))[0]! - (255 - middleInk))).toBeLessThanOrEqual(1);

        // A slider move: A + 2.5·d₁, generated as Node generates that vector, and visibly different from A.
        await page.locator('[data-testid=latent-slider-0]').fill('2.5');
        await page.waitForFunction(`window.__lab.latent.amounts[0] === 2.5`, null, { timeout: 60_000 });
        hook = await hookOf(page);
        const moved = hook.latents[3]!.map((v, e) => v + 2.5 * hook.directions[0]![e]!);
        expect(maxDiff(hook.edited!.latent, moved)).toBeLessThanOrEqual(1e-5);
        expect(maxDiff(hook.edited!.image, (await nodeImages([hook.edited!.latent]))[0]!)).toBeLessThanOrEqual(TOLERANCE);
        expect(meanAbs(hook.edited!.image, hook.images[3]!)).toBeGreaterThan(0.02);
        // Drawn beside A: image 0 of the edited canvas is A, image 1 the moved one.
        const editedInk = Math.round(hook.edited!.image[10 * 28 + 14]! * 255);
        expect(Math.abs((await drawnGrey(page, 'edited', 1, 14, 10))[0]! - (255 - editedInk))).toBeLessThanOrEqual(1);
        const aInk = Math.round(hook.images[3]![10 * 28 + 14]! * 255);
        expect(Math.abs((await drawnGrey(page, 'edited', 0, 14, 10))[0]! - (255 - aInk))).toBeLessThanOrEqual(1);

        const shot = await page.screenshot();
        saveScreenshot(`latent-explorer-${name}-desktop.png`, shot);
        expect(PNG.sync.read(shot).width).toBe(1400);

        // The seed field and "New samples" give the lab's vectors of that seed, and the address keeps it.
        await page.locator('[data-testid=latent-seed]').fill('42');
        await page.locator('[data-testid=latent-seed]').press('Enter');
        await page.waitForFunction(`window.__lab.latent.seed === 42`, null, { timeout: 60_000 });
        expect(page.url()).toContain('seed=42');
        await page.locator('[data-testid=latent-new]').click();
        await page.waitForFunction(`window.__lab.latent.seed === 43`, null, { timeout: 60_000 });
        hook = await hookOf(page);
        expect(Float32Array.from(hook.latents.flat())).toEqual(sampleLatent(new Rng(43), 16, 64, 'normal'));
        expect(await page.inputValue('[data-testid=latent-seed]')).toBe('43');

        // Phone width: one column, nothing wider than the screen, the grid still crisp (whole pixels per pixel).
        await page.setViewportSize({ width: 390, height: 844 });
        await page.waitForFunction(`document.querySelector('[data-testid=latent-grid]').getBoundingClientRect().width <= 390`, null, { timeout: 10_000 });
        await page.waitForTimeout(300);
        const phone = (await page.evaluate(`(() => {
          const grid = document.querySelector('[data-testid=latent-grid]');
          const r = grid.getBoundingClientRect();
          return { scrollWidth: document.documentElement.scrollWidth, right: r.right, left: r.left, css: r.width, px: grid.width };
        })()`)) as { scrollWidth: number; right: number; left: number; css: number; px: number };
        expect(phone.scrollWidth).toBeLessThanOrEqual(390);
        expect(phone.left).toBeGreaterThanOrEqual(0);
        expect(phone.right).toBeLessThanOrEqual(390);
        expect(phone.px).toBe(phone.css);
        saveScreenshot(`latent-explorer-${name}-phone.png`, await page.screenshot());
        await page.locator('[data-testid=latent-strip]').scrollIntoViewIfNeeded();
        saveScreenshot(`latent-explorer-${name}-phone-strip.png`, await page.screenshot());
        expect(errors).toEqual([]);
      } finally {
        await browser.close();
      }
    }, 300_000);
  }

  it('is reached from the GAN run view (Explore); ?backend=wasm forces wasm where WebGPU is offered', async () => {
    const errors: string[] = [];
    const { browser, page } = await openPage(errors, { webgpu: true });
    try {
      await page.goto(`${server.url}/?backend=wasm#run=${RUN_ID}`);
      await page.locator('[data-testid=gan-explore]').click();
      await page.waitForFunction(`window.__lab.latent && window.__lab.latent.status === 'ready'`, null, { timeout: 60_000 });
      expect(page.url()).toContain(`#/latent/${RUN_ID}`);
      expect(await page.textContent('[data-testid=latent-backend]')).toBe('wasm');
      expect((await hookOf(page)).runtime).toMatchObject({ backend: 'wasm', reason: '?backend=wasm in the page address' });
      expect(errors).toEqual([]);
    } finally {
      await browser.close();
    }
  }, 90_000);

  it('says so when a run has no generator', async () => {
    const errors: string[] = [];
    const { browser, page } = await openPage(errors);
    try {
      await page.goto(`${server.url}/#/latent/no-such-run`);
      await page.waitForFunction(`window.__lab.latent && window.__lab.latent.status === 'error'`, null, { timeout: 30_000 });
      expect(await page.textContent('[data-testid=latent-status-text]')).toMatch(/no-such-run has no generator/);
    } finally {
      await browser.close();
    }
  }, 60_000);
});

/**
 * End to end in real headless Chromium (Debian's /usr/bin/chromium driven by playwright-core): start a tiny
 * GAN run from the New-run form, watch its view fill (sample grids, a history strip, loss and accuracy curves,
 * HUD), check the drawn grid's pixels against the received samples, stop it from the page (it checkpoints).
 * Saves a screenshot (test-results/gan-live.png; with UPDATE_SCREENSHOTS=1 also docs/gan-live.png).
 *
 * Needs the built viewer (npm test builds it) and Chromium; without Chromium the test is skipped, unless
 * LAB_REQUIRE_BROWSER=1 (set by .ci/run), where a missing browser is a failure.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { PNG } from 'pngjs';
import { saveScreenshot, skipBrowserTests, statusOf, useViewer } from './browser.js';
import { WATCH_SAMPLE_GRIDS, type SamplesEvent } from '../protocol/protocol.js';
import { readMetricsFile } from '../lab/run_store.js';



interface GanHook {
  step: number | null;
  newestStep: number | null;
  received: number;
  history: number[];
  samples: SamplesEvent | null;
  curvePoints: number;
}

const gan = (page: Page) => page.evaluate('({ ...window.__lab.gan })') as Promise<GanHook>;

function grey(png: PNG, x: number, y: number): number {
  const i = (Math.floor(y) * png.width + Math.floor(x)) * 4;
  return Math.round((png.data[i]! + png.data[i + 1]! + png.data[i + 2]!) / 3);
}

/** Image pixels (k, px, py) whose whole 3×3 neighbourhood has ink in [lo, hi]: safe to probe on screen. */
function solidPixels(ink: Buffer, lo: number, hi: number, side = 28, count = 64): { k: number; px: number; py: number; ink: number }[] {
  const out: { k: number; px: number; py: number; ink: number }[] = [];
  for (let k = 0; k < count; k++) {
    for (let py = 1; py < side - 1; py++) {
      for (let px = 1; px < side - 1; px++) {
        let ok = true;
        for (let dy = -1; dy <= 1 && ok; dy++) for (let dx = -1; dx <= 1 && ok; dx++) {
          const v = ink[k * side * side + (py + dy) * side + px + dx]!;
          ok = v >= lo && v <= hi;
        }
        if (ok) out.push({ k, px, py, ink: ink[k * side * side + py * side + px]! });
      }
    }
  }
  return out;
}

describe.skipIf(skipBrowserTests)('GAN run view in headless Chromium', () => {
  const viewer = useViewer({
    prefix: 'lab-e2e-gan-',
    server: { ganTrainerArgs: ['--backend', 'wasm', '--sample-every', '10', '--log-every', '5', '--checkpoint-every', '0'] },
  });

  it('starts a tiny GAN from the form, draws its sample grids and curves live, and stops it', async () => {
    await viewer.page.goto(viewer.server.openUrl);
    await viewer.page.getByTestId('new-run-form').waitFor();
    await viewer.page.getByTestId('kind-gan').click();
    await viewer.page.getByTestId('category-select').selectOption('apple');
    await viewer.page.getByTestId('gan-preset-select').selectOption('tiny');
    await viewer.page.getByTestId('seed-input').fill('1');
    await viewer.page.getByTestId('steps-input').fill('5000');
    await viewer.page.getByTestId('start-run').click();

    await viewer.page.waitForFunction('window.__lab && window.__lab.watchedRunId !== null', null, { timeout: 15_000 });
    const runId = (await viewer.page.evaluate('window.__lab.watchedRunId')) as string;
    expect(runId).toMatch(/^gan-apple-tiny-s1-/);
    await viewer.page.waitForFunction(`${statusOf(runId)} === 'running'`, null, { timeout: 30_000 });
    expect(await viewer.page.locator(`[data-testid=run-item][data-run-id="${runId}"] .run-env`).textContent()).toBe('Quick, Draw! apple');

    // Grids arrive and are drawn, the newest followed; the curves fill.
    await viewer.page.waitForFunction('window.__lab.gan.newestStep >= 200 && window.__lab.gan.step === window.__lab.gan.newestStep && window.__lab.gan.curvePoints >= 20', null, { timeout: 90_000 });
    await viewer.page.waitForTimeout(400);
    saveScreenshot('gan-live.png', await viewer.page.screenshot(), true);
    expect(await viewer.page.getByTestId('hud-status').textContent()).toBe('running');
    expect(await viewer.page.getByTestId('hud-its').textContent()).toMatch(/\/s$/);
    expect(await viewer.page.getByTestId('hud-dloss').textContent()).toMatch(/^\d/);
    expect(await viewer.page.getByTestId('hud-iteration').textContent()).toMatch(/^[\d,.k]+ \/ 5,000$/);
    for (const chart of ['chart-gan-loss', 'chart-gan-accuracy']) {
      await expect(viewer.page.getByTestId(chart).locator('.chart-empty').isHidden()).resolves.toBe(true);
    }

    // Stop from the page: the trainer checkpoints and the run ends as stopped.
    await viewer.page.getByTestId('stop-run').click();
    await viewer.page.waitForFunction(`${statusOf(runId)} === 'stopped'`, null, { timeout: 30_000 });
    expect(fs.existsSync(path.join(viewer.runsDir, runId, 'checkpoints', 'latest.json'))).toBe(true);
    expect(await viewer.page.getByTestId('hud-status').textContent()).toBe('stopped');
    await viewer.page.waitForFunction('window.__lab.gan.step !== null && window.__lab.gan.step === window.__lab.gan.newestStep', null, { timeout: 10_000 });

    const newest = await gan(viewer.page);
    expect(newest.history.length).toBeGreaterThanOrEqual(20);
    expect(newest.history[0]).toBe(0);
    // Pixels are checked on the grid from iteration 200 on with the most solid ink, picked in the history strip. The
    // newest grid depends on when Stop arrived, and a tiny GAN's samples swing from grid to grid (one newest grid
    // had 3 solid ink pixels, the seeded run's grid at 200 has 7); the best from 200 on has at least as many as 200's.
    const show = async (step: number): Promise<GanHook> => {
      await viewer.page.getByTestId('gan-thumb').nth(newest.history.indexOf(step)).click();
      await viewer.page.waitForFunction(`window.__lab.gan.step === ${step}`, null, { timeout: 5000 });
      return gan(viewer.page);
    };
    let pick = -1;
    let most = -1;
    for (const step of newest.history.filter((t) => t >= 200)) {
      const shown = await show(step);
      const solid = solidPixels(Buffer.from(shown.samples!.pixels, 'base64'), 200, 255).length;
      if (solid > most) [pick, most] = [step, solid];
    }
    await show(pick);
    await viewer.page.waitForTimeout(200);

    // The drawn grid is the received one: the canvas holds 255 − ink at every probed pixel…
    const hook = await gan(viewer.page);
    expect(hook.samples!.step).toBe(pick);
    const ink = Buffer.from(hook.samples!.pixels, 'base64');
    expect(ink.length).toBe(hook.samples!.count * hook.samples!.width * hook.samples!.height);
    const probes = [0, 9, 27, 36, 63].flatMap((k) => [[k, 0, 0], [k, 13, 14], [k, 27, 27], [k, 20, 5]] as [number, number, number][]);
    const onCanvas = (await viewer.page.evaluate(`${JSON.stringify(probes)}.map(([k, x, y]) => { const [cx, cy] = window.__lab.gan.pointOf(k, x, y); return window.__lab.gan.pixelAt(cx, cy); })`)) as [number, number, number][];
    probes.forEach(([k, x, y], i) => expect(onCanvas[i], `image ${k} pixel (${x}, ${y})`).toEqual(Array(3).fill(255 - ink[k * 784 + y * 28 + x]!)));

    // …and on screen a stroke of ink is dark and the background light (neighbourhoods, so a sub-pixel offset does not matter).
    const canvas = viewer.page.getByTestId('gan-grid');
    const shot = PNG.sync.read(await canvas.screenshot());
    const box = (await canvas.boundingBox())!;
    expect(Math.abs(shot.width - box.width)).toBeLessThanOrEqual(1);
    const dark = solidPixels(ink, 200, 255);
    const light = solidPixels(ink, 0, 40);
    expect(dark.length, `the generator draws solid strokes (iteration ${pick})`).toBeGreaterThan(5);
    expect(light.length, 'and leaves background').toBeGreaterThan(10);
    const at = (p: { k: number; px: number; py: number }) => viewer.page.evaluate(`window.__lab.gan.pointOf(${p.k}, ${p.px}, ${p.py})`) as Promise<[number, number]>;
    for (const p of [...dark.filter((_, i) => i % Math.ceil(dark.length / 12) === 0)]) {
      const [x, y] = await at(p);
      expect(grey(shot, x, y), `ink ${p.ink} at image ${p.k} (${p.px}, ${p.py})`).toBeLessThan(80);
    }
    for (const p of [...light.filter((_, i) => i % Math.ceil(light.length / 12) === 0)]) {
      const [x, y] = await at(p);
      expect(grey(shot, x, y), `ink ${p.ink} at image ${p.k} (${p.px}, ${p.py})`).toBeGreaterThan(200);
    }

    // The history strip: a thumbnail per grid; picking one shows it, "Newest" goes back.
    expect(await viewer.page.getByTestId('gan-thumb').count()).toBe(hook.history.length);
    await viewer.page.getByTestId('gan-thumb').first().click();
    await viewer.page.waitForFunction('window.__lab.gan.step === 0', null, { timeout: 5000 });
    expect(await viewer.page.getByTestId('gan-grid-step').textContent()).toMatch(/^iteration 0 {2}· {2}newest /);
    await viewer.page.getByTestId('gan-live').click();
    await viewer.page.waitForFunction(`window.__lab.gan.step === ${newest.newestStep}`, null, { timeout: 5000 });

    // A stored GAN run opens in the same view, with its curves and its grids in the strip (spread over the run).
    fs.cpSync(path.join(viewer.runsDir, runId), path.join(viewer.runsDir, 'gan-stored-copy'), { recursive: true });
    await viewer.page.goto(`${viewer.server.url}/#run=gan-stored-copy`);
    await viewer.page.reload();
    await viewer.page.waitForFunction(`window.__lab.watchedRunId === 'gan-stored-copy' && window.__lab.gan.step === ${newest.newestStep} && window.__lab.gan.curvePoints >= 20`, null, { timeout: 15_000 });
    expect(await viewer.page.getByTestId('hud-status').textContent()).toBe('stored');
    const storedSteps = readMetricsFile(path.join(viewer.runsDir, runId, 'metrics.jsonl'))
      .filter((e) => e.type === 'samples')
      .map((e) => e.step);
    const stored = (await viewer.page.evaluate('window.__lab.gan')) as GanHook;
    expect(stored.history.length).toBe(Math.min(storedSteps.length, WATCH_SAMPLE_GRIDS));
    expect(stored.history[0]).toBe(0);
    expect(stored.history.every((step) => storedSteps.includes(step))).toBe(true);
    expect(await viewer.page.getByTestId('gan-thumb').count()).toBe(stored.history.length);
    expect(viewer.consoleErrors).toEqual([]);
  }, 180_000);
});

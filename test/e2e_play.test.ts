/**
 * Play in browser (#/play/<runId>) in headless Chromium, once with WebGPU on (SwiftShader's software adapter)
 * and once with it off (wasm): a PPO CartPole-v1 policy trained for the test (test/play_fixture.ts) balances the
 * pole for the whole episode in the page, read from the DOM (the episode list says 500 steps, return 500,
 * truncated by the time limit; the step counter climbs), and the HUD names the backend. The run view offers
 * "Play in browser"; at phone width (390×844) the best policy from seed 7 plays exactly the episodes `lab eval
 * --seed 7` plays in Node (lengths and returns); screenshots go to test-results/.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { startLabServer, type LabServer } from '../server/app.js';
import { openPage, requireBrowserAndViewer, saveScreenshot, skipBrowserTests } from './browser.js';
import { runLab } from './lab_cli.js';
import { PLAY_RUN_ID, trainCartPolePolicy } from './play_fixture.js';

let server: LabServer;
let runsDir: string;

beforeAll(async () => {
  if (process.env.LAB_REQUIRE_BROWSER === '1') requireBrowserAndViewer();
  if (skipBrowserTests) return;
  ({ runsDir } = await trainCartPolePolicy('lab-play-'));
  server = await startLabServer({ port: 0, runsDir, runtimeFile: false });
}, 120_000);

afterAll(async () => {
  await server?.close();
  if (runsDir) fs.rmSync(runsDir, { recursive: true, force: true });
});

const attr = (page: Page, testid: string, name: string) => page.getAttribute(`[data-testid=${testid}]`, name);

interface Episode {
  length: number;
  ret: number;
  ended: string;
  seed: number;
}

/** Plays at the fastest speed until `count` episodes have ended; returns what the episode list says, oldest first. */
async function episodes(page: Page, count: number): Promise<Episode[]> {
  await page.waitForSelector('[data-testid=play-speed]:not([disabled])', { timeout: 60_000 });
  await page.selectOption('[data-testid=play-speed]', 'max');
  await page.waitForFunction(`document.querySelectorAll('[data-testid=play-result]').length >= ${count}`, undefined, { timeout: 150_000 });
  const items = await page.$$eval('[data-testid=play-result]', (lis) =>
    lis.map((li) => Object.fromEntries(li.getAttributeNames().filter((n: string) => n.startsWith('data-')).map((n: string) => [n.slice(5), li.getAttribute(n) ?? '']))),
  );
  return items
    .reverse()
    .slice(0, count)
    .map((d) => ({ length: Number(d.length), ret: Number(d.return), ended: d.ended ?? '', seed: Number(d.seed) }));
}

describe.skipIf(skipBrowserTests)('Play in browser', () => {
  for (const mode of ['webgpu', 'wasm'] as const) {
    it(`${mode}: the trained CartPole policy balances 500 steps in the page`, async () => {
      const errors: string[] = [];
      const { browser, page } = await openPage(errors, { webgpu: mode === 'webgpu' });
      try {
        await page.goto(`${server.url}/#/play/${PLAY_RUN_ID}`);
        await page.waitForSelector('[data-testid=play-backend][data-backend]', { timeout: 60_000 });
        if (mode === 'webgpu') {
          expect(await attr(page, 'play-backend', 'data-backend')).toBe('webgpu');
          expect(await attr(page, 'play-backend', 'data-architecture')).toBe('swiftshader');
          expect(await attr(page, 'play-backend', 'data-software')).toBe('true');
          expect(await page.textContent('[data-testid=play-backend]')).toBe('WebGPU (software)');
          // The adapter's name, on screen.
          expect(await page.textContent('[data-testid=play-adapter]')).toMatch(/swiftshader/i);
        } else {
          expect(await attr(page, 'play-backend', 'data-backend')).toBe('wasm');
          expect(await page.textContent('[data-testid=play-backend]')).toBe('wasm');
          expect(await page.textContent('[data-testid=play-adapter]')).toMatch(/WebGPU offers no adapter here|this browser has no WebGPU/);
        }
        // The step counter climbs while it plays at real time.
        await page.waitForFunction(`Number(document.querySelector('[data-testid=play-step]')?.dataset.step ?? 0) >= 5`, undefined, { timeout: 30_000 });
        expect(await page.textContent('[data-testid=play-title]')).toBe('CartPole-v1 · ppo (cartpole)');
        expect(await episodes(page, 1)).toEqual([{ length: 500, ret: 500, ended: 'truncated', seed: 0 }]);
        saveScreenshot(`play-${mode}.png`, await page.screenshot());
        expect(errors).toEqual([]);
      } finally {
        await browser.close();
      }
    }, 240_000);
  }

  it('the run view offers "Play in browser"; at phone width, the best policy from seed 7 plays the episodes lab eval plays', async () => {
    // What lab eval (Node, the same saved policy) does from seed 7: episode lengths and returns.
    const evaluated = await runLab(['eval', path.join(runsDir, PLAY_RUN_ID, 'best_policy'), '--episodes', '2', '--seed', '7', '--json'], runsDir);
    expect(evaluated.code, evaluated.err).toBe(0);
    const expected = JSON.parse(evaluated.out) as { returns: number[]; lengths: number[] };
    const errors: string[] = [];
    const { browser, page } = await openPage(errors);
    try {
      await page.setViewportSize({ width: 390, height: 844 });
      await page.goto(`${server.url}/#run=${PLAY_RUN_ID}`);
      const link = await page.waitForSelector('[data-testid=play-in-browser]:not([hidden])', { timeout: 30_000 });
      expect(await page.evaluate('document.documentElement.scrollWidth'), 'the run view with the link fits the phone').toBeLessThanOrEqual(390);
      await link.click();
      await page.waitForSelector('[data-testid=page-play]');
      expect(page.url()).toContain(`#/play/${PLAY_RUN_ID}`);

      await page.goto(`${server.url}/?backend=wasm#/play/${PLAY_RUN_ID}?policy=best_policy`);
      await page.waitForSelector('[data-testid=play-reset]:not([disabled])', { timeout: 60_000 });
      expect(await page.inputValue('[data-testid=play-policy]')).toBe('best_policy');
      await page.fill('[data-testid=play-seed]', '7');
      await page.click('[data-testid=play-reset]');
      const played = await episodes(page, 2);
      expect(played.map((e) => e.seed)).toEqual([7, 8]);
      expect(played.map((e) => e.length)).toEqual(expected.lengths);
      expect(played.map((e) => e.ret)).toEqual(expected.returns);
      // Nothing wider than the phone: no sideways scrolling.
      expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(390);
      const box = await page.locator('[data-testid=play-stage]').boundingBox();
      expect(box!.width).toBeGreaterThan(300);
      saveScreenshot('play-phone.png', await page.screenshot({ fullPage: true }));

      // Pause holds the step counter.
      await page.click('[data-testid=play-toggle]');
      const held = await attr(page, 'play-step', 'data-step');
      await page.waitForTimeout(400);
      expect(await attr(page, 'play-step', 'data-step')).toBe(held);
      expect(await attr(page, 'play-toggle', 'data-playing')).toBe('false');
      expect(errors).toEqual([]);
    } finally {
      await browser.close();
    }
  }, 240_000);
});

/**
 * Every kind of run in the viewer, in real headless Chromium: an AlphaZero-lite run and a GAN run (next to an RL
 * run) appear in the run list with their titles and figures; opening the AlphaZero-lite run mounts its view (HUD,
 * the link to play it on the Go page, evaluation and loss curves), opening the GAN run its view; the Compare page
 * compares two AlphaZero-lite runs (a chart per opponent and loss) and two GAN runs (D and G loss charts).
 * Screenshots: test-results/every-kind-alphazero-1280.png, every-kind-alphazero-390.png (and -390-charts.png, scrolled to the curves), every-kind-compare-az.png,
 * every-kind-compare-gan.png.
 *
 * Needs the built viewer (npm test builds it; LAB_VIEWER_DIST names another build) and Chromium; without Chromium
 * the test is skipped, unless LAB_REQUIRE_BROWSER=1, where a missing browser is a failure.
 */
import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { startLabServer, VIEWER_DIST, type LabServer } from '../server/app.js';
import { openPage, requireBrowserAndViewer, saveScreenshot, skipBrowserTests } from './browser.js';
import { makeEveryKindRuns } from './every_kind_runs.js';

const viewerDir = process.env.LAB_VIEWER_DIST ?? VIEWER_DIST;
const LAB = fileURLToPath(new URL('../bin/lab.mjs', import.meta.url));

describe.skipIf(skipBrowserTests)('every kind of run in headless Chromium', () => {
  let server: LabServer;
  let browser: Browser;
  let page: Page;
  let runsDir: string;
  const consoleErrors: string[] = [];

  beforeAll(async () => {
    if (!process.env.LAB_VIEWER_DIST) requireBrowserAndViewer();
    else expect(fs.existsSync(path.join(viewerDir, 'index.html'))).toBe(true);
    runsDir = await makeEveryKindRuns();
    server = await startLabServer({ port: 0, runsDir, viewerDir });
    ({ browser, page } = await openPage(consoleErrors));
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    if (runsDir) fs.rmSync(runsDir, { recursive: true, force: true });
  });

  const row = (id: string) => page.locator(`[data-testid=run-item][data-run-id="${id}"]`);

  it('lists the AlphaZero-lite and GAN runs and opens the AlphaZero-lite view', async () => {
    await page.setViewportSize({ width: 1280, height: 800 });
    await page.goto(server.openUrl);
    await row('az-a').waitFor({ timeout: 15_000 });
    expect(await page.locator('[data-testid=run-item]').count()).toBe(6);
    expect(await row('az-a').locator('.run-env').textContent()).toBe('Go 5×5');
    expect(await row('az-a').locator('.run-agent').textContent()).toMatch(/^alphazero · seed 1/);
    expect(await row('az-a').locator('.run-steps').textContent()).toBe('2 / 2');
    expect(await row('az-a').locator('.run-return').textContent()).toMatch(/^vs uct-8 \d+%$/);
    expect(await row('gan-a').locator('.run-env').textContent()).toBe('Quick, Draw! apple');
    expect(await row('az-a').getAttribute('data-status')).toBe('stored');

    await row('az-a').click();
    await page.getByTestId('az-view').waitFor();
    expect(page.url()).toContain('#run=az-a');
    expect(await page.getByTestId('hud-iteration').textContent()).toBe('2 / 2');
    expect(await page.getByTestId('hud-az-eval').textContent()).toMatch(/^random \d+% · uct-8 \d+%$/);
    expect(await page.getByTestId('hud-az-policy').textContent()).toMatch(/^\d/);
    const link = page.getByTestId('az-play');
    expect(await link.getAttribute('href')).toBe('#/go?size=5&opponent=alphazero&color=black&sims=400&agent=az-a');
    expect(await page.getByTestId('chart-az-eval').locator('.legend-item').allTextContents()).toEqual([expect.stringMatching(/^vs random /), expect.stringMatching(/^vs uct-8 /)]);
    expect(await page.getByTestId('chart-az-loss').locator('.legend-item').allTextContents()).toEqual([expect.stringMatching(/^policy loss \d/), expect.stringMatching(/^value loss \d/)]);
    await page.waitForTimeout(300);
    saveScreenshot('every-kind-alphazero-1280.png', await page.screenshot());

    await page.setViewportSize({ width: 390, height: 844 });
    await page.waitForTimeout(300);
    const view = page.getByTestId('az-view');
    expect(await view.isVisible()).toBe(true);
    // Every HUD cell shows (none squeezed out of the narrow layout), and the view fits the width.
    for (const id of ['hud-iteration', 'hud-az-eval', 'hud-az-policy', 'hud-az-value']) expect((await page.getByTestId(id).boundingBox())!.height, id).toBeGreaterThan(10);
    expect((await view.boundingBox())!.width).toBeLessThanOrEqual(390);
    await page.evaluate(`document.querySelector('[data-testid=az-view]').scrollIntoView()`);
    saveScreenshot('every-kind-alphazero-390.png', await page.screenshot());
    await page.evaluate(`document.querySelector('[data-testid=chart-az-eval]').scrollIntoView()`);
    await page.waitForTimeout(200);
    saveScreenshot('every-kind-alphazero-390-charts.png', await page.screenshot());
    await page.setViewportSize({ width: 1280, height: 800 });

    // The link opens the Go page set to play this agent.
    await link.click();
    await page.getByTestId('page-go').waitFor();
    expect(page.url()).toContain('opponent=alphazero');
    expect(page.url()).toContain('agent=az-a');
  }, 60_000);

  it('follows an AlphaZero-lite run published live (lab go train --live): iterations and evaluations as they come', async () => {
    const sets = ['filters=[8]', 'hidden=[16]', 'simulations=24', 'gamesPerIteration=4', 'trainSteps=3', 'batchSize=16', 'bufferSize=500', 'evalEvery=3', 'evalGames=2', 'evalSimulations=4', 'evalMctsSimulations=8'].flatMap((x) => ['--set', x]);
    const args = [LAB, 'go', 'train', '--size', '5', '--iterations', '18', '--seed', '7', '--backend', 'wasm', '--out', runsDir, '--run-id', 'az-live', '--live', server.url, '--token', server.token, ...sets];
    const trainer = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    trainer.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    trainer.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((resolve) => trainer.on('exit', resolve));
    try {
      const deadline = Date.now() + 30_000;
      while (server.hub.summary('az-live')?.origin !== 'cli') {
        if (Date.now() > deadline) throw new Error(`the run was not published: ${out}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      await page.goto(`${server.openUrl}#run=az-live`);
      await page.getByTestId('az-view').waitFor({ timeout: 15_000 });
      // The HUD counts the iterations up while the run trains, and the evaluation cell fills in from live matches.
      const seen = new Set<string>();
      const evals = new Set<string>();
      while ((await page.getByTestId('hud-iteration').textContent()) !== '18 / 18') {
        if (Date.now() > deadline + 60_000) throw new Error(`the view did not reach iteration 18: saw ${[...seen].join(', ')}; ${out}`);
        seen.add((await page.getByTestId('hud-iteration').textContent()) ?? '');
        evals.add((await page.getByTestId('hud-az-eval').textContent()) ?? '');
        await page.waitForTimeout(100);
      }
      expect(seen.size, [...seen].join(', ')).toBeGreaterThanOrEqual(3);
      expect([...evals].filter((t) => /^random \d+% · uct-8 \d+%$/.test(t)).length).toBeGreaterThanOrEqual(1);
      expect(await exited).toBe(0);
      await page.getByTestId('chart-az-eval').locator('.legend-item').first().waitFor();
      expect(await page.getByTestId('chart-az-eval').locator('.legend-item').allTextContents()).toEqual([expect.stringMatching(/^vs random /), expect.stringMatching(/^vs uct-8 /)]);
      expect(await page.getByTestId('hud-az-eval').textContent()).toMatch(/^random \d+% · uct-8 \d+%$/);
      saveScreenshot('every-kind-alphazero-live.png', await page.screenshot());
      expect(consoleErrors).toEqual([]);
    } finally {
      trainer.kill('SIGKILL');
    }
  }, 120_000);

  it('opens the GAN run in its view', async () => {
    await page.goto(`${server.openUrl}#run=gan-b`);
    await page.getByTestId('gan-grid').waitFor({ timeout: 15_000 });
    expect(await page.getByTestId('hud-iteration').textContent()).toBe('4 / 4');
    expect(await page.getByTestId('chart-gan-loss').isVisible()).toBe(true);
  }, 30_000);

  it('compares AlphaZero-lite runs and GAN runs on the Compare page', async () => {
    await page.goto(`${server.openUrl}#/compare?runs=az-a,az-b`);
    await page.locator('[data-testid=compare-chart][data-metric="score:uct-8"]').waitFor({ timeout: 20_000 });
    const metrics = await page.locator('[data-testid=compare-chart]').evaluateAll((els) => els.map((e) => e.getAttribute('data-metric')));
    expect(metrics).toEqual(['score:random', 'score:uct-8', 'policyLoss', 'valueLoss']);
    expect(await page.locator('[data-testid=compare-chart][data-metric="score:uct-8"] h3').textContent()).toBe('go:5x5 · win rate vs uct-8');
    expect(await page.getByTestId('compare-score-label').textContent()).toMatch(/final win rate/);
    saveScreenshot('every-kind-compare-az.png', await page.screenshot({ fullPage: true }));

    await page.goto(`${server.openUrl}#/compare?runs=gan-a,gan-b`);
    await page.locator('[data-testid=compare-chart][data-metric="gLoss"]').waitFor({ timeout: 20_000 });
    const gan = await page.locator('[data-testid=compare-chart]').evaluateAll((els) => els.map((e) => e.getAttribute('data-metric')));
    expect(gan).toEqual(['dLoss', 'gLoss']);
    expect(await page.locator('[data-testid=compare-chart][data-metric="gLoss"] .chart-axis').textContent()).toBe('vs iterations');
    // Both kinds are choices in the picker.
    const choices = await page.getByTestId('compare-run-checkbox').evaluateAll((els) => els.map((e) => e.getAttribute('data-run-id')));
    expect(choices).toEqual(expect.arrayContaining(['az-a', 'az-b', 'gan-a', 'gan-b', 'rl-a']));
    saveScreenshot('every-kind-compare-gan.png', await page.screenshot({ fullPage: true }));
    expect(consoleErrors).toEqual([]);
  }, 60_000);
});

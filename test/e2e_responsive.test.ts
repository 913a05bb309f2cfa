/**
 * The viewer at a phone's size (390×844) and a laptop's (1280×800), in real headless Chromium: on every page
 * (Live, Replays, Compare, Go) nothing scrolls sideways and the navigation tabs and the connection dot lie
 * within the viewport's width; on the phone the New-run form waits behind a "New run" button so that the run
 * list is on the first screen, not in an inner scroll; a live Cart-Pole run started from that form is watched
 * with its stage (the canvas) at least 240 px tall on the phone and 300 px on the laptop; the GAN run's sample grid
 * is drawn at the frame's size (at least 240 px wide on the phone, 460 px on the laptop: 2× for 28-px doodles).
 * Then the Replays page over a run with 250 logs (100 rows at a time, Side by side in view) and the player.
 * Screenshots: test-results/responsive-<page>-<width>.png.
 *
 * Needs the built viewer (npm test builds it) and Chromium; without Chromium the test is skipped, unless
 * LAB_REQUIRE_BROWSER=1, where a missing browser is a failure.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { startLabServer } from '../server/app.js';
import { saveScreenshot, skipBrowserTests, statusOf, useViewer } from './browser.js';

const FIXTURES = fileURLToPath(new URL('./fixtures/runs/', import.meta.url));

const SIZES = [
  { width: 390, height: 844, minStage: 240 },
  { width: 1280, height: 800, minStage: 300 },
];

/** Page code (a string: the root tsconfig has no DOM types): what overflows the viewport's width. */
const LAYOUT = `(() => {
  const w = window.innerWidth;
  const box = (sel) => { const e = document.querySelector(sel); if (!e) return null; const r = e.getBoundingClientRect(); return { left: r.left, right: r.right, top: r.top, bottom: r.bottom, width: r.width, height: r.height }; };
  return {
    innerWidth: w,
    scrollWidth: document.scrollingElement.scrollWidth,
    tabs: [...document.querySelectorAll('.nav-tab')].map((e) => { const r = e.getBoundingClientRect(); return { left: r.left, right: r.right, width: r.width }; }),
    dot: box('.conn-dot'),
  };
})()`;

interface Layout {
  innerWidth: number;
  scrollWidth: number;
  tabs: { left: number; right: number; width: number }[];
  dot: { left: number; right: number; width: number } | null;
}

describe.skipIf(skipBrowserTests)('the viewer at phone and laptop sizes', () => {
  const viewer = useViewer({
    prefix: 'lab-e2e-responsive-',
    server: { trainerArgs: ['--eval-every', '100000', '--eval-episodes', '1'] },
    prepare: async (runsDir) => {
      for (const id of ['rl-dqn-cartpole', 'gan-tiny', 'go-alphazero-tiny']) fs.cpSync(path.join(FIXTURES, id), path.join(runsDir, id), { recursive: true });
    },
  });

  async function checkLayout(what: string, width: number): Promise<void> {
    await viewer.page.waitForTimeout(300);
    saveScreenshot(`responsive-${what}-${width}.png`, await viewer.page.screenshot());
    const l = (await viewer.page.evaluate(LAYOUT)) as Layout;
    expect(l.innerWidth).toBe(width);
    expect(l.scrollWidth, `${what} at ${width}: the page scrolls sideways`).toBeLessThanOrEqual(l.innerWidth);
    expect(l.tabs.length).toBe(5);
    for (const t of l.tabs) {
      expect(t.width).toBeGreaterThan(0);
      expect(t.left, `${what} at ${width}: a tab starts off-screen`).toBeGreaterThanOrEqual(0);
      expect(t.right, `${what} at ${width}: a tab ends off-screen`).toBeLessThanOrEqual(width);
    }
    expect(l.dot, 'the connection dot').not.toBeNull();
    expect(l.dot!.right, `${what} at ${width}: the connection dot is off-screen`).toBeLessThanOrEqual(width);
  }

  for (const { width, height, minStage } of SIZES) {
    it(`fits ${width}×${height}: every page, the run list on the first screen, a watched run's stage`, async () => {
      await viewer.page.setViewportSize({ width, height });
      await viewer.page.goto(`${viewer.server.openUrl.split('#')[0]}#/live`);
      await viewer.page.locator('[data-testid=run-item]').first().waitFor({ timeout: 15_000 });
      await viewer.page.getByTestId('new-run-form').waitFor({ state: 'attached' });

      // The run list is on the first screen, not in an inner scroll.
      const firstRow = (await viewer.page.locator('[data-testid=run-item]').first().boundingBox())!;
      expect(firstRow.y + firstRow.height, 'the first run is on the first screen').toBeLessThanOrEqual(height);
      const innerScroll = (await viewer.page.evaluate(`(() => { const e = document.querySelector('.sidebar-scroll'); return e.scrollHeight - e.clientHeight; })()`)) as number;
      if (width < 900) expect(innerScroll, 'the sidebar does not hide the run list in an inner scroll').toBeLessThanOrEqual(1);
      await checkLayout('live', width);

      // A live run, started from the form (behind the "New run" button on the phone).
      if (width < 900) {
        expect(await viewer.page.getByTestId('new-run-form').isVisible()).toBe(false);
        await viewer.page.getByTestId('new-run-toggle').click();
      }
      await viewer.page.getByTestId('new-run-form').waitFor();
      await viewer.page.getByTestId('env-select').selectOption('CartPole-v1');
      await viewer.page.getByTestId('agent-select').selectOption('dqn');
      await viewer.page.getByTestId('seed-input').fill(String(width));
      await viewer.page.getByTestId('steps-input').fill('5000');
      await viewer.page.getByTestId('start-run').click();
      await viewer.page.waitForFunction(`window.__lab && window.__lab.watchedRunId && window.__lab.watchedRunId.includes('-s${width}-')`, null, { timeout: 15_000 });
      const runId = (await viewer.page.evaluate('window.__lab.watchedRunId')) as string;
      await viewer.page.waitForFunction('window.__lab.drawn > 10', null, { timeout: 30_000 });
      if (width < 900) expect(await viewer.page.getByTestId('new-run-form').isVisible(), 'the form folds away once the run starts').toBe(false);
      const stage = (await viewer.page.getByTestId('stage').boundingBox())!;
      expect(stage.height, `the stage at ${width}`).toBeGreaterThanOrEqual(minStage);
      expect(stage.x).toBeGreaterThanOrEqual(0);
      expect(stage.x + stage.width).toBeLessThanOrEqual(width);
      await viewer.page.getByTestId('stage').scrollIntoViewIfNeeded();
      await checkLayout('live-run', width);
      await viewer.page.getByTestId('stop-run').click();
      await viewer.page.waitForFunction(`['stopped', 'done'].includes(${statusOf(runId)})`, null, { timeout: 30_000 });

      // The GAN run: its sample grid fills the panel (the largest whole-pixel scale that fits), nothing clips.
      await viewer.page.locator('[data-testid=run-item][data-run-id="gan-tiny"]').click();
      await viewer.page.getByTestId('gan-grid').waitFor({ timeout: 15_000 });
      await viewer.page.waitForTimeout(500);
      const grid = (await viewer.page.getByTestId('gan-grid').boundingBox())!;
      const frame = (await viewer.page.locator('.gan-frame').boundingBox())!;
      expect(grid.width, `the sample grid at ${width}: ${grid.width} px in a ${frame.width}×${frame.height} frame`).toBeGreaterThanOrEqual(0.6 * Math.min(frame.width, frame.height));
      expect(grid.width).toBeGreaterThanOrEqual(width < 900 ? 240 : 460);
      const clipped = (await viewer.page.evaluate(`[...document.querySelectorAll('.gan-hud .hud-label')].filter((e) => e.scrollWidth > e.clientWidth + 1).map((e) => e.textContent)`)) as string[];
      expect(clipped, 'GAN HUD labels that clip').toEqual([]);
      await checkLayout('gan', width);

      await viewer.page.getByTestId('nav-replays').click();
      await viewer.page.getByTestId('page-replays').waitFor();
      await viewer.page.locator('[data-testid=replay-row]').first().waitFor({ timeout: 15_000 });
      await checkLayout('replays', width);

      await viewer.page.getByTestId('nav-compare').click();
      await viewer.page.getByTestId('page-compare').waitFor();
      await checkLayout('compare', width);

      await viewer.page.getByTestId('nav-go').click();
      await viewer.page.getByTestId('page-go').waitFor();
      await checkLayout('go', width);
      expect(viewer.consoleErrors).toEqual([]);
    }, 120_000);
  }

  it('pages a run of 250 replay logs, keeps Side by side in view, and opens a replay paused', async () => {
    // 243 more training-episode logs of the RL run (copies of one: the list does not read them twice).
    const replays = path.join(viewer.runsDir, 'rl-dqn-cartpole', 'replays');
    for (let e = 100; e < 343; e++) fs.copyFileSync(path.join(replays, 'train-e0000008.jsonl.gz'), path.join(replays, `train-e${String(e).padStart(7, '0')}.jsonl.gz`));
    await viewer.page.setViewportSize({ width: 1280, height: 800 });
    await viewer.page.goto(`${viewer.server.openUrl.split('#')[0]}#/replays?run=rl-dqn-cartpole`);
    await viewer.page.locator('[data-testid=replay-row]').first().waitFor({ timeout: 15_000 });
    await viewer.page.getByTestId('replays-more').waitFor();
    expect(await viewer.page.locator('[data-testid=replay-row]').count()).toBe(100);
    expect(await viewer.page.getByTestId('replays-shown').textContent()).toBe('100 of 250 logs shown');
    await viewer.page.getByTestId('replays-more').click();
    expect(await viewer.page.locator('[data-testid=replay-row]').count()).toBe(200);
    await viewer.page.getByTestId('replays-more').click();
    expect(await viewer.page.locator('[data-testid=replay-row]').count()).toBe(250);
    expect(await viewer.page.getByTestId('replays-more').isVisible()).toBe(false);
    // Scrolled to the bottom of the table, the Side-by-side button is still on screen.
    await viewer.page.locator('[data-testid=replay-row]').last().scrollIntoViewIfNeeded();
    const open = (await viewer.page.getByTestId('side-by-side-open').boundingBox())!;
    expect(open.y).toBeGreaterThanOrEqual(0);
    expect(open.y + open.height).toBeLessThanOrEqual(800);
    saveScreenshot('responsive-replays-250-1280.png', await viewer.page.screenshot());

    // A replay opens paused and says so; playing, it says so.
    await viewer.page.locator('[data-testid=replay-row][data-name="eval-s0000000300-e000.jsonl.gz"]').click();
    await viewer.page.waitForFunction('window.__lab.replay && window.__lab.replay.panes.length === 1 && window.__lab.replay.panes[0].frame !== null', null, { timeout: 15_000 });
    expect(await viewer.page.locator('[data-testid=replay-pane] .hud-status .hud-value').textContent()).toBe('paused');
    await viewer.page.getByTestId('player-play').click();
    await expect.poll(() => viewer.page.locator('[data-testid=replay-pane] .hud-status .hud-value').textContent()).toMatch(/^(playing|truncated|terminated|ended)$/);
    expect(viewer.consoleErrors).toEqual([]);
  }, 60_000);

  it('the New-run form caps the steps and names the default seed; without the key the empty page says how to start', async () => {
    await viewer.page.setViewportSize({ width: 1280, height: 800 });
    await viewer.page.goto(`${viewer.server.openUrl.split('#')[0]}#/live`);
    await viewer.page.getByTestId('new-run-form').waitFor();
    await viewer.page.getByTestId('env-select').selectOption('CartPole-v1');
    expect(await viewer.page.getByTestId('seed-input').getAttribute('placeholder')).toBe('default (0)');
    await viewer.page.getByTestId('steps-input').fill('1000000000');
    await viewer.page.getByTestId('start-run').click();
    await expect.poll(() => viewer.page.getByTestId('start-error').textContent()).toBe('Steps must be at most 10,000,000 here (longer: lab train)');

    // No key, no runs: the empty card does not say "press Start".
    const emptyDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lab-e2e-empty-'));
    const bare = await startLabServer({ port: 0, runsDir: emptyDir });
    try {
      await viewer.page.goto(`${bare.url}/#/live`);
      await viewer.page.getByTestId('key-note').waitFor();
      await expect.poll(() => viewer.page.locator('.empty-state .empty-text').textContent()).toContain('holds no server key');
      expect(await viewer.page.locator('.empty-state .empty-text').textContent()).not.toContain('press Start');
      saveScreenshot('responsive-no-key-1280.png', await viewer.page.screenshot());
    } finally {
      await bare.close();
      fs.rmSync(emptyDir, { recursive: true, force: true });
    }
    expect(viewer.consoleErrors).toEqual([]);
  }, 60_000);

  it('draws a Snake run on the phone (screenshot: the score and the length apart)', async () => {
    await viewer.page.setViewportSize({ width: 390, height: 844 });
    await viewer.page.goto(`${viewer.server.openUrl.split('#')[0]}#/live`);
    await viewer.page.getByTestId('new-run-toggle').click();
    await viewer.page.getByTestId('env-select').selectOption('Snake-v0');
    await viewer.page.getByTestId('seed-input').fill('7');
    await viewer.page.getByTestId('steps-input').fill('3000');
    await viewer.page.getByTestId('start-run').click();
    await viewer.page.waitForFunction(`window.__lab && window.__lab.watchedRunId && window.__lab.watchedRunId.startsWith('Snake-v0')`, null, { timeout: 15_000 });
    const runId = (await viewer.page.evaluate('window.__lab.watchedRunId')) as string;
    await viewer.page.waitForFunction('window.__lab.drawn > 10', null, { timeout: 30_000 });
    await viewer.page.getByTestId('stage').scrollIntoViewIfNeeded();
    saveScreenshot('responsive-snake-390.png', await viewer.page.getByTestId('stage').screenshot());
    if (['running', 'starting'].includes((await viewer.page.evaluate(statusOf(runId))) as string)) await viewer.page.getByTestId('stop-run').click();
    expect(viewer.consoleErrors).toEqual([]);
  }, 60_000);
});

/**
 * The Experiments page in headless Chromium at a laptop's size (1280×800) and a phone's (390×844), over the
 * fixture experiment (real short A2C runs: 6 finished trials, one unfinished): the trial rows, sorting by a
 * click on a column header, the best trial's learning curve and band drawn (pixels of its colour), a second
 * curve after ticking its trial, the objective points and the hyperparameter scatters (log axis), the states
 * explained on the page, nothing scrolling sideways; then the unfinished trial's progress moving live as its
 * run writes metrics again (the page looks every 10 s while nothing runs, every 2 s while something does), and a
 * run of it that the hub streams live shows at once, with a link to the Live page. Screenshots: test-results/experiments-<width>.png, and
 * docs/experiments.png with UPDATE_SCREENSHOTS=1.
 *
 * Needs the built viewer and Chromium (skipped without, unless LAB_REQUIRE_BROWSER=1).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { Locator } from 'playwright-core';
import { PNG } from 'pngjs';
import { startLabServer } from '../server/app.js';
import { LivePublisher } from '../lab/publisher.js';
import type { TrialRecord } from '../protocol/experiments.js';
import { curveColor, TRIAL_STATES } from '../viewer/src/model/experiments.js';
import { close, saveScreenshot, skipBrowserTests, type RGB, useViewer } from './browser.js';

const FIXTURE = fileURLToPath(new URL('./fixtures/experiments/a2c-cartpole-fx', import.meta.url));
const ID = 'a2c-cartpole-fx';
const records: TrialRecord[] = fs
  .readFileSync(path.join(FIXTURE, 'trials.jsonl'), 'utf8')
  .split('\n')
  .filter(Boolean)
  .map((l) => JSON.parse(l) as TrialRecord);
const best = records.filter((r) => r.state === 'done').reduce((a, b) => (b.objective! > a.objective! ? b : a));

/** An element's data attributes (the root tsconfig has no DOM types). */
type Dataset = { dataset: Record<string, string | undefined> };

const hex = (c: string): RGB => [parseInt(c.slice(1, 3), 16), parseInt(c.slice(3, 5), 16), parseInt(c.slice(5, 7), 16)];

/** Pixels of an element's screenshot within `tolerance` of `color`. */
async function countColor(el: Locator, color: string, tolerance = 16): Promise<number> {
  const png = PNG.sync.read(await el.screenshot());
  const want = hex(color);
  let n = 0;
  for (let i = 0; i < png.data.length; i += 4) if (close([png.data[i]!, png.data[i + 1]!, png.data[i + 2]!], want, tolerance)) n++;
  return n;
}

const LAYOUT = `(() => ({
  innerWidth: window.innerWidth,
  scrollWidth: document.scrollingElement.scrollWidth,
  pageScroll: (() => { const p = document.querySelector('.experiments-page'); return p.scrollWidth - p.clientWidth; })(),
  tabs: [...document.querySelectorAll('.nav-tab')].map((e) => { const r = e.getBoundingClientRect(); return [r.left, r.right]; }),
  dot: document.querySelector('.conn-dot').getBoundingClientRect().right,
}))()`;

describe.skipIf(skipBrowserTests)('the Experiments page', () => {
  let expDir: string;
  const viewer = useViewer({
    prefix: 'lab-e2e-experiments-',
    server: { runtimeFile: false },
    prepare: async (runsDir) => {
      expDir = path.join(runsDir, 'sweeps', ID);
      fs.cpSync(FIXTURE, expDir, { recursive: true });
      // Nobody has written to it for an hour: ended, its unfinished trial interrupted.
      const old = Date.now() / 1000 - 3600;
      for (const e of fs.readdirSync(expDir, { withFileTypes: true, recursive: true })) fs.utimesSync(path.join(e.parentPath, e.name), old, old);
    },
  });

  const rowOrder = async () => (await viewer.page.locator('[data-testid=trial-row]').evaluateAll((rows) => rows.map((r) => Number((r as unknown as Dataset).dataset.trial)))) as number[];

  for (const { width, height } of [
    { width: 1280, height: 800 },
    { width: 390, height: 844 },
  ]) {
    it(`shows the trials, sorts them, draws curves and scatters at ${width}×${height}`, async () => {
      await viewer.page.setViewportSize({ width, height });
      await viewer.page.goto(`${viewer.server.url}/#/experiments`);
      // The list's first experiment is shown without a click.
      await viewer.page.waitForFunction(`location.hash === '#/experiments/${ID}'`, null, { timeout: 15_000 });
      await viewer.page.locator('[data-testid=trial-row]').first().waitFor({ timeout: 15_000 });
      expect(await viewer.page.locator('[data-testid=experiment-item]').count()).toBe(1);
      expect(await viewer.page.locator('[data-testid=experiment-item]').getAttribute('data-state')).toBe('ended');
      expect(await rowOrder()).toHaveLength(7);
      // Best objective first; the trials without one last.
      const byObjective = [...records].filter((r) => r.objective !== null).sort((a, b) => b.objective! - a.objective!).map((r) => r.trial);
      expect(await rowOrder()).toEqual([...byObjective, 5, 6]);
      expect(await viewer.page.getByTestId('experiment-best').textContent()).toContain(`trial ${best.trial}`);

      // Every state is explained in words on the page.
      const states = viewer.page.getByTestId('experiment-states');
      for (const s of Object.values(TRIAL_STATES)) expect(await states.textContent()).toContain(s.meaning);
      expect(await viewer.page.locator('[data-testid=progress-row][data-trial="6"]').getAttribute('data-state')).toBe('interrupted');

      // Sorting: a click on learningRate sorts ascending, a second click descending, Trial by number.
      const rates = [...records.map((r) => [r.trial, r.params.learningRate as number] as const)];
      const open = (await viewer.page.locator('[data-testid=trial-row][data-trial="6"] td[data-param=learningRate]').textContent())!;
      rates.push([6, Number(open)]);
      const ascending = [...rates].sort((a, b) => a[1] - b[1]).map(([t]) => t);
      await viewer.page.locator('[data-testid=sort-header][data-sort="param:learningRate"]').click();
      expect(await rowOrder()).toEqual(ascending);
      await viewer.page.locator('[data-testid=sort-header][data-sort="param:learningRate"]').click();
      expect(await rowOrder()).toEqual([...ascending].reverse());
      await viewer.page.locator('[data-testid=sort-header][data-sort=trial]').click();
      expect(await rowOrder()).toEqual([0, 1, 2, 3, 4, 5, 6]);
      await viewer.page.locator('[data-testid=sort-header][data-sort=state]').click();
      expect(await viewer.page.locator('[data-testid=trial-row]').evaluateAll((rows) => rows.map((r) => (r as unknown as Dataset).dataset.state))).toEqual(['done', 'done', 'done', 'done', 'pruned', 'interrupted', 'failed']);

      // The best trial's curve is drawn: its line and band in its colour.
      const curves = viewer.page.getByTestId('curves-chart');
      expect(await curves.getAttribute('data-curves')).toBe(String(best.trial));
      await viewer.page.waitForTimeout(300);
      const canvas = curves.locator('canvas').first();
      const bestPixels = await countColor(canvas, curveColor(best.trial));
      expect(bestPixels, 'pixels of the best trial\'s curve').toBeGreaterThan(150);
      // Ticking another trial draws its curve too.
      const other = best.trial === 0 ? 1 : 0;
      await viewer.page.locator(`[data-testid=trial-row][data-trial="${other}"] [data-testid=trial-pick]`).check();
      await expect.poll(() => curves.getAttribute('data-curves')).toBe([best.trial, other].sort((a, b) => a - b).join(','));
      await viewer.page.waitForTimeout(300);
      expect(await countColor(canvas, curveColor(other)), 'pixels of the second curve').toBeGreaterThan(150);
      expect(await curves.locator('.legend-item[data-trial]').count()).toBe(2);
      // The failed trial of the fixture has a curve from its seeds too; the unfinished one's checkbox works.
      await viewer.page.locator(`[data-testid=trial-row][data-trial="${other}"] [data-testid=trial-pick]`).uncheck();
      await expect.poll(() => curves.getAttribute('data-curves')).toBe(String(best.trial));

      // The objective per trial: 5 trials with an objective, done points in the done colour, the best so far.
      const objective = viewer.page.getByTestId('objective-chart');
      expect(await objective.getAttribute('data-points')).toBe('5');
      expect(Number(await objective.getAttribute('data-best'))).toBe(best.objective);
      expect(await countColor(objective.locator('canvas').first(), TRIAL_STATES.done.color)).toBeGreaterThan(40);
      expect(await countColor(objective.locator('canvas').first(), TRIAL_STATES.pruned.color)).toBeGreaterThan(10);

      // One scatter per hyperparameter: learningRate on a log axis, nSteps as choices, 5 dots each.
      const scatters = viewer.page.getByTestId('param-scatter');
      expect(await scatters.count()).toBe(2);
      const lr = viewer.page.locator('[data-testid=param-scatter][data-param=learningRate] .scatter-plot');
      expect(await lr.getAttribute('data-axis')).toBe('log');
      expect(await lr.getAttribute('data-points')).toBe('5');
      expect(await viewer.page.locator('[data-testid=param-scatter][data-param=nSteps] .scatter-plot').getAttribute('data-axis')).toBe('category');
      expect(await countColor(lr.locator('canvas'), TRIAL_STATES.done.color)).toBeGreaterThan(40);

      // Nothing scrolls sideways; the tabs and the connection dot are on screen.
      const l = (await viewer.page.evaluate(LAYOUT)) as { innerWidth: number; scrollWidth: number; pageScroll: number; tabs: [number, number][]; dot: number };
      expect(l.innerWidth).toBe(width);
      expect(l.scrollWidth, 'the document scrolls sideways').toBeLessThanOrEqual(width);
      expect(l.pageScroll, 'the page scrolls sideways').toBeLessThanOrEqual(0);
      expect(l.tabs).toHaveLength(5);
      for (const [left, right] of l.tabs) {
        expect(left).toBeGreaterThanOrEqual(0);
        expect(right).toBeLessThanOrEqual(width);
      }
      expect(l.dot).toBeLessThanOrEqual(width);
      // Every card fits the width (the wide table scrolls inside its own card).
      const overflow = (await viewer.page.evaluate(`[...document.querySelectorAll('.exp-detail > *, .exp-side')].map((e) => e.getBoundingClientRect().right).filter((r) => r > ${width})`)) as number[];
      expect(overflow).toEqual([]);

      await viewer.page.locator('[data-testid=sort-header][data-sort=objective]').click();
      await viewer.page.locator('.experiments-page').evaluate((e) => e.scrollTo(0, 0));
      await viewer.page.waitForTimeout(300);
      saveScreenshot(`experiments-${width}.png`, await viewer.page.screenshot());
      expect(viewer.consoleErrors).toEqual([]);
    }, 60_000);
  }

  it('notices the unfinished trial running again and follows its progress without a reload', async () => {
    await viewer.page.setViewportSize({ width: 1280, height: 800 });
    await viewer.page.goto(`${viewer.server.url}/#/experiments/${ID}`);
    const row = viewer.page.locator('[data-testid=progress-row][data-trial="6"]');
    await row.waitFor({ timeout: 15_000 });
    expect(await row.getAttribute('data-state')).toBe('interrupted');
    // Its run writes again: the experiment is running, and the page shows the new step without a reload.
    const metrics = path.join(expDir, 'runs', `${ID}-t0006-s1`, 'metrics.jsonl');
    const step = 4500;
    fs.appendFileSync(metrics, JSON.stringify({ type: 'episode', step, episode: 999, envIndex: 0, return: 120, length: 120, terminated: true, truncated: false, time: 9 }) + '\n');
    // An ended experiment is looked at every 10 s; a running one every 2 s.
    await expect.poll(() => row.getAttribute('data-state'), { timeout: 15_000 }).toBe('running');
    expect(await viewer.page.locator('[data-testid=experiment-item]').getAttribute('data-state')).toBe('running');
    await expect.poll(() => row.textContent()).toContain('seed 1: 4,500 / 6,000');
    const next = 5100;
    fs.appendFileSync(metrics, JSON.stringify({ type: 'episode', step: next, episode: 1000, envIndex: 0, return: 130, length: 130, terminated: true, truncated: false, time: 10 }) + '\n');
    await expect.poll(() => row.textContent(), { timeout: 8000 }).toContain('seed 1: 5,100 / 6,000');
    const bar = Number(await row.locator('[role=progressbar]').getAttribute('aria-valuenow'));
    const seed2 = Number(((await row.textContent())!.match(/seed 2: ([\d,]+)/)![1] ?? '0').replace(/,/g, ''));
    expect(bar).toBe(Math.round(((next + seed2) / 12_000) * 100));
    await viewer.page.locator('.experiments-page').evaluate((e) => e.scrollTo(0, 0));
    await viewer.page.waitForTimeout(300);
    saveScreenshot('experiments.png', await viewer.page.screenshot(), true);
    expect(viewer.consoleErrors).toEqual([]);
  }, 60_000);

  it('shows a run of the experiment that the hub streams live at once, linked to the Live page', async () => {
    // Quiet again: the page looks only every 10 s.
    const old = Date.now() / 1000 - 3600;
    for (const e of fs.readdirSync(expDir, { withFileTypes: true, recursive: true })) fs.utimesSync(path.join(e.parentPath, e.name), old, old);
    await viewer.page.setViewportSize({ width: 1280, height: 800 });
    await viewer.page.goto(`${viewer.server.url}/#/experiments/${ID}`);
    await viewer.page.locator('[data-testid=progress-row][data-trial="6"][data-state=interrupted]').waitFor({ timeout: 15_000 });
    expect(await viewer.page.getByTestId('live-seed').count()).toBe(0);
    const runId = `${ID}-t0006-s2`;
    const publisher = new LivePublisher({ url: viewer.server.url, token: viewer.server.token });
    try {
      publisher.begin({ runId, kind: 'rl', envId: 'CartPole-v1', agent: 'a2c', preset: 'cartpole', seed: 2, steps: 6000, episodes: null, numEnvs: 8, backend: 'wasm', fps: 50, runDir: path.join(expDir, 'runs', runId), startStep: 3000, hyperparameters: {} });
      // The hub's runs:changed reaches the page, which asks the server at once (not at its next poll).
      const live = viewer.page.getByTestId('live-seed');
      await live.waitFor({ timeout: 5000 });
      expect(await viewer.page.locator('[data-testid=progress-row][data-trial="6"]').getAttribute('data-state')).toBe('running');
      expect(await live.getAttribute('href')).toBe(`#run=${runId}`);
      expect(await live.textContent()).toContain('seed 2');
      expect(await viewer.page.locator('[data-testid=experiment-item]').getAttribute('data-state')).toBe('running');
    } finally {
      await publisher.end('stopped');
    }
    await expect.poll(() => viewer.page.getByTestId('live-seed').count(), { timeout: 10_000 }).toBe(0);
    expect(viewer.consoleErrors).toEqual([]);
  }, 60_000);

  it('says how to start one when there is none, and shows a damaged experiment with its reason', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lab-e2e-experiments-empty-'));
    const bare = await startLabServer({ port: 0, runsDir: dir, runtimeFile: false });
    try {
      await viewer.page.goto(`${bare.url}/#/experiments`);
      await expect.poll(() => viewer.page.getByTestId('experiments-status').textContent(), { timeout: 10_000 }).toContain('lab sweep experiments/a2c-cartpole.yml');
      // A damaged one: its reason in the list and on its page.
      const bad = path.join(dir, 'sweeps', ID);
      fs.cpSync(FIXTURE, bad, { recursive: true });
      fs.writeFileSync(path.join(bad, 'trials.jsonl'), '{"trial": 0,\n{}\n');
      await viewer.page.reload();
      const item = viewer.page.locator('[data-testid=experiment-item]');
      await item.waitFor({ timeout: 10_000 });
      expect(await item.getAttribute('data-state')).toBe('damaged');
      expect(await item.textContent()).toMatch(/trials\.jsonl.*line 1: not valid JSON/);
      await expect.poll(() => viewer.page.getByTestId('experiments-error').textContent()).toMatch(/^experiment a2c-cartpole-fx is damaged: .*line 1: not valid JSON/);
      expect(await viewer.page.getByTestId('experiments-error').textContent()).not.toContain(dir);
      // The browser logs the refused request itself; nothing else may fail.
      expect(viewer.consoleErrors.filter((e) => !/status of 422/.test(e))).toEqual([]);
    } finally {
      await bare.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});

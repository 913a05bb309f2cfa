/**
 * End to end in real headless Chromium: two real Cart-Pole runs of different agents (A2C and REINFORCE) that
 * record their evaluation episodes, the lab server over their runs directory, and the viewer's Replays page:
 * pick the two evaluation episodes that started from the same seed, open them side by side, scrub the shared
 * timeline to step 100, and check that both panes show step 100 — the step readouts, the frames drawn (against
 * the replay logs the server returns) and the pixels where each pane draws its cart. Saves a screenshot
 * (test-results/side-by-side.png; with UPDATE_SCREENSHOTS=1 also docs/side-by-side.png). Then the Compare page
 * over the same two runs (test-results/compare.png), and the server's refusal of a single run.
 *
 * Needs the built viewer (npm test builds it) and Chromium; without Chromium the test is skipped, unless
 * LAB_REQUIRE_BROWSER=1, where a missing browser is a failure.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { PNG } from 'pngjs';
import { close, pixel, saveScreenshot, skipBrowserTests, useViewer } from './browser.js';
import { API, type ReplayDetail, type ReplaySummary } from '../protocol/protocol.js';
import type { CartPoleFrame } from '../envs/frames.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const run = promisify(execFile);

/** The step to scrub to (the acceptance test's; less only if no same-seed pair lasts that long). */
const TARGET = 100;

interface Probe {
  kind: string;
  points: Record<string, [number, number]>;
  colors: Record<string, [number, number, number]>;
  background: [number, number, number];
}

interface PaneState {
  runId: string;
  name: string;
  step: number;
  frame: unknown;
  probe: Probe;
}

/** Page code is written as strings: the root tsconfig has no DOM types. */
const PANES = 'window.__lab.replay.panes.map((p) => ({ runId: p.runId, name: p.name, step: p.step, frame: p.frame, probe: p.probe() }))';

async function getJson<T>(url: string): Promise<T> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`GET ${url}: HTTP ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

describe.skipIf(skipBrowserTests)('replays in headless Chromium', () => {
  const viewer = useViewer({
    prefix: 'lab-e2e-replays-',
    timeoutMs: 180_000,
    prepare: async (runsDir) => {
      // Two real training runs; evaluation episodes are recorded by default (runs/<id>/replays/eval-…).
      const train = (agent: string, runId: string) =>
        run(process.execPath, ['bin/lab.mjs', 'train', '--env', 'CartPole-v1', '--agent', agent, '--steps', '20000', '--eval-every', '10000', '--eval-episodes', '2', '--seed', '1', '--run-id', runId, '--out', runsDir], { cwd: ROOT, timeout: 150_000 });
      await Promise.all([train('a2c', RUN_A), train('reinforce', RUN_B)]);
    },
  });
  const RUN_A = 'e2e-a2c-s1';
  const RUN_B = 'e2e-reinforce-s1';

  it('plays two same-seed evaluation episodes side by side and scrubs both to step 100', async () => {
    // The pair: evaluation episodes of the two runs from the same reset seed, the longest-lasting one.
    const replays = (await getJson<{ replays: ReplaySummary[] }>(`${viewer.server.url}${API.replays}?mode=eval`)).replays;
    const ofA = replays.filter((r) => r.runId === RUN_A);
    const ofB = replays.filter((r) => r.runId === RUN_B);
    expect(ofA.length).toBeGreaterThan(0);
    expect(ofB.length).toBeGreaterThan(0);
    let pair: [ReplaySummary, ReplaySummary] | null = null;
    for (const a of ofA) {
      for (const b of ofB) {
        if (a.seed === null || a.seed !== b.seed) continue;
        const score = (p: [ReplaySummary, ReplaySummary]) => Math.min(p[0].length, p[1].length) * 1e9 + (p[0].checkpointStep ?? 0) + (p[1].checkpointStep ?? 0);
        if (!pair || score([a, b]) > score(pair)) pair = [a, b];
      }
    }
    expect(pair, 'the two runs have evaluation episodes from the same seed').not.toBeNull();
    const [a, b] = pair!;
    const target = Math.min(TARGET, a.length, b.length);
    const longer = Math.max(a.length, b.length);
    const row = (r: ReplaySummary) => `[data-testid=replay-row][data-run-id="${r.runId}"][data-name="${r.name}"]`;

    // The Replays page lists both; checking A highlights its same-seed partners, B among them.
    await viewer.page.goto(`${viewer.server.url}/#/replays`);
    await viewer.page.locator(row(a)).waitFor();
    expect(await viewer.page.locator('[data-testid=replay-row]').count()).toBe(replays.length + (await getJson<{ replays: ReplaySummary[] }>(`${viewer.server.url}${API.replays}?mode=train`)).replays.length);
    expect(await viewer.page.locator(row(a)).getAttribute('data-seed')).toBe(String(a.seed));
    await viewer.page.locator(`${row(a)} [data-testid=replay-select]`).check();
    await viewer.page.waitForFunction(`document.querySelector('${row(b).replace(/'/g, "\\'")}')?.classList.contains('same-seed')`);
    const partners = await viewer.page.locator('[data-testid=replay-row].same-seed').evaluateAll((els) => els.map((e) => (e as unknown as { dataset: Record<string, string> }).dataset.seed));
    expect(partners.length).toBeGreaterThan(0);
    expect(new Set(partners)).toEqual(new Set([String(a.seed)]));
    await viewer.page.locator(`${row(b)} [data-testid=replay-select]`).check();
    await viewer.page.getByTestId('side-by-side-open').click();

    // Side by side: both panes load, then the shared timeline runs to the longer episode.
    await viewer.page.waitForFunction('window.__lab.replay.panes.length === 2 && window.__lab.replay.panes.every((p) => p.step === 0)', null, { timeout: 30_000 });
    const scrubber = viewer.page.getByTestId('scrubber');
    expect(await scrubber.getAttribute('max')).toBe(String(longer));

    // Drag the scrubber's thumb to about the target, then fine-tune with the arrow keys (the scrubber has focus).
    const box = (await scrubber.boundingBox())!;
    const thumb = 14;
    const xOf = (t: number) => box.x + thumb / 2 + ((box.width - thumb) * t) / longer;
    await viewer.page.mouse.move(xOf(0), box.y + box.height / 2);
    await viewer.page.mouse.down();
    await viewer.page.mouse.move(xOf(target), box.y + box.height / 2, { steps: 8 });
    await viewer.page.mouse.up();
    for (let i = 0; i < 50; i++) {
      const now = Number(await scrubber.inputValue());
      if (now === target) break;
      await viewer.page.keyboard.press(now < target ? 'ArrowRight' : 'ArrowLeft');
    }
    expect(Number(await scrubber.inputValue())).toBe(target);
    await expect.poll(() => viewer.page.getByTestId('step-readout').textContent()).toContain(`step ${target} `);

    // Both panes show step `target`: the step index, the readouts and the frame drawn, against the logs.
    const panes = (await viewer.page.evaluate(PANES)) as PaneState[];
    expect(panes.map((p) => [p.runId, p.name, p.step])).toEqual([
      [a.runId, a.name, target],
      [b.runId, b.name, target],
    ]);
    const readouts = await viewer.page.getByTestId('pane-readout').allTextContents();
    expect(readouts[0]).toContain(`${target} / ${a.length}`);
    expect(readouts[1]).toContain(`${target} / ${b.length}`);
    const stages = viewer.page.getByTestId('replay-stage');
    const xs: number[] = [];
    for (const [i, r] of [a, b].entries()) {
      const detail = await getJson<ReplayDetail>(`${viewer.server.url}${API.replay(r.runId, r.name)}`);
      expect(detail.steps).toHaveLength(r.length);
      expect(detail.frames).toHaveLength(r.length + 1);
      const want = detail.frames[target] as CartPoleFrame;
      const got = panes[i]!.frame as CartPoleFrame;
      expect(got.kind).toBe('cartpole');
      expect(got.x).toBe(want.x);
      expect(got.theta).toBe(want.theta);
      expect(got).toEqual(want);
      xs.push(want.x);

      // Pixels: the cart colour where the probe says the cart is, placed where the frame's x says.
      const probe = panes[i]!.probe;
      expect(probe.kind).toBe('cartpole');
      const png = PNG.sync.read(await stages.nth(i).screenshot());
      const cart = probe.points.cart!;
      expect(close(pixel(png, cart[0], cart[1]), probe.colors.cart!), `pane ${i}: cart pixel ${pixel(png, cart[0], cart[1])} vs ${probe.colors.cart}`).toBe(true);
      const halfTrack = Math.abs(probe.points.limitRight![0] - probe.points.limitLeft![0]) / 2;
      const centre = (probe.points.limitRight![0] + probe.points.limitLeft![0]) / 2;
      expect(cart[0] - centre).toBeCloseTo((want.x / want.xThreshold) * halfTrack, 0);
      const tip = probe.points.poleTip!;
      if (Math.abs(want.theta) > 0.01) expect(Math.sign(tip[0] - cart[0])).toBe(Math.sign(want.theta));
      // The pole: a point 70% of the way from the cart to its tip has the pole's colour.
      const onPole: [number, number] = [cart[0] + 0.7 * (tip[0] - cart[0]), cart[1] + 0.7 * (tip[1] - cart[1])];
      const near = [-1, 0, 1].flatMap((dx) => [-1, 0, 1].map((dy) => pixel(png, onPole[0] + dx, onPole[1] + dy)));
      expect(near.some((p) => close(p, probe.colors.pole!)), `pane ${i}: pole pixels ${JSON.stringify(near)}`).toBe(true);
    }
    // Two different agents: by step 100 their carts are (almost surely) in different places, and so are the pixels.
    if (Math.abs(xs[0]! - xs[1]!) > 0.05) expect(Math.abs(panes[0]!.probe.points.cart![0] - panes[1]!.probe.points.cart![0])).toBeGreaterThan(2);

    saveScreenshot('side-by-side.png', await viewer.page.screenshot(), true);

    // Single steps move both panes together; the position survives a reload (deep link).
    await viewer.page.getByTestId('player-step-forward').click();
    await viewer.page.waitForFunction(`window.__lab.replay.panes[0].step === ${Math.min(target + 1, a.length)} && window.__lab.replay.panes[1].step === ${Math.min(target + 1, b.length)}`);
    await viewer.page.getByTestId('player-step-back').click();
    await viewer.page.waitForFunction(`window.__lab.replay.panes.every((p) => p.step === ${target})`);
    await viewer.page.waitForFunction(`location.hash.includes('t=${target}')`);
    await viewer.page.reload();
    await viewer.page.waitForFunction(`window.__lab.replay.panes.length === 2 && window.__lab.replay.panes.every((p) => p.step === ${target})`, null, { timeout: 30_000 });
    expect(await viewer.page.getByTestId('step-readout').textContent()).toContain(`step ${target} `);

    // On a phone the panes stack, and every readout shows its number uncut ("100 / 500", the return, …).
    await viewer.page.setViewportSize({ width: 390, height: 844 });
    await viewer.page.waitForTimeout(300);
    const values = viewer.page.locator('[data-testid=pane-readout] .hud-value');
    expect(await values.count()).toBe(10);
    const cut = await values.evaluateAll((els) => els.filter((e) => e.scrollWidth > e.clientWidth + 1).map((e) => e.textContent));
    expect(cut).toEqual([]);
    // …inside its own pane, under its stage (not pushed out of the pane and hidden).
    const placed = await viewer.page.getByTestId('pane-readout').evaluateAll((els) => els.map((e) => [e.getBoundingClientRect().bottom <= e.parentElement!.getBoundingClientRect().bottom + 0.5, e.getBoundingClientRect().height > 40]));
    expect(placed).toEqual([[true, true], [true, true]]);
    // The timeline stays on screen (at its foot) while the stacked panes scroll.
    const timeline = (await viewer.page.getByTestId('timeline').boundingBox())!;
    expect(timeline.y + timeline.height).toBeLessThanOrEqual(844 + 0.5);
    expect(timeline.y).toBeGreaterThan(400);
    saveScreenshot('side-by-side-390.png', await viewer.page.screenshot());
    await viewer.page.setViewportSize({ width: 1400, height: 860 });

    // Play: both advance in step with each other, and End holds the shorter episode on its final frame.
    await viewer.page.getByTestId('player-play').click();
    await viewer.page.waitForFunction(`Number(document.querySelector('[data-testid=scrubber]').value) > ${target + 5}`, null, { timeout: 10_000 });
    await viewer.page.getByTestId('player-play').click();
    const played = (await viewer.page.evaluate(PANES)) as PaneState[];
    const t = Number(await scrubber.inputValue());
    expect(played.map((p) => p.step)).toEqual([Math.min(t, a.length), Math.min(t, b.length)]);
    await viewer.page.keyboard.press('End');
    await viewer.page.waitForFunction(`window.__lab.replay.panes[0].step === ${a.length} && window.__lab.replay.panes[1].step === ${b.length}`);
    const ended = await viewer.page.getByTestId('pane-ended').allTextContents();
    expect(ended.join(' ')).toContain(`ended at step ${Math.min(a.length, b.length)}`);
    expect(viewer.consoleErrors).toEqual([]);
  }, 120_000);

  it('compares the two runs and shows the server refusing a single run', async () => {
    // The player writes its position into the URL 250 ms after a change. A navigation inside that window must
    // win: here the URL changes to the comparison without its hashchange event (as when the event is still
    // queued behind the timer) and must still be the comparison after the timer has run.
    const compareHash = `#/compare?runs=${RUN_A},${RUN_B}`;
    await viewer.page.getByTestId('scrubber').focus();
    await viewer.page.keyboard.press('Home'); // a seek: schedules the player's URL update
    await viewer.page.evaluate(`history.replaceState(null, '', ${JSON.stringify(compareHash)})`);
    await viewer.page.waitForTimeout(600);
    expect(await viewer.page.evaluate('location.hash')).toBe(compareHash);
    await viewer.page.evaluate(`window.dispatchEvent(new HashChangeEvent('hashchange'))`);
    await viewer.page.getByTestId('compare-table').waitFor({ timeout: 30_000 });
    await viewer.page.getByTestId('compare-chart').first().waitFor();
    const groups = await viewer.page.locator('[data-testid=compare-table] tbody tr').evaluateAll((els) => els.map((e) => (e as unknown as { dataset: Record<string, string> }).dataset.group));
    expect(groups).toEqual(['a2c/cartpole', 'reinforce/cartpole']);
    expect(await viewer.page.locator(`[data-testid=compare-run-checkbox][data-run-id="${RUN_A}"]`).isChecked()).toBe(true);
    expect(await viewer.page.locator('[data-testid=compare-pairs]').textContent()).toContain('P(');
    saveScreenshot('compare.png', await viewer.page.screenshot());

    // Unchecking one run leaves one: the server refuses, the page says why.
    await viewer.page.locator(`[data-testid=compare-run-checkbox][data-run-id="${RUN_B}"]`).uncheck();
    await viewer.page.getByTestId('compare-error').waitFor({ timeout: 15_000 });
    expect(await viewer.page.getByTestId('compare-error').textContent()).toMatch(/at least 2 runs/);
    expect(viewer.page.url()).toContain(`runs=${RUN_A}`);
    expect(viewer.page.url()).not.toContain(RUN_B);
    // The 400 answer is logged by the browser as a failed resource load: the only console error allowed here.
    expect(viewer.consoleErrors.filter((e) => !/status of 400/.test(e))).toEqual([]);
  }, 60_000);
});

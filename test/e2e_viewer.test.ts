/**
 * End to end in real headless Chromium (Debian's /usr/bin/chromium driven by playwright-core): the built
 * viewer served by the lab server; start a Cart-Pole run from the New-run form, see frames arrive, and check
 * the pixels of the canvas where the cart and the pole are drawn. Saves a screenshot (test-results/viewer.png;
 * with UPDATE_SCREENSHOTS=1 also docs/viewer.png, the one the README shows).
 *
 * Needs the built viewer (npm test builds it) and Chromium; without Chromium the test is skipped, unless
 * LAB_REQUIRE_BROWSER=1 (set by .ci/run), where a missing browser is a failure.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { PNG } from 'pngjs';
import { close, pixel, saveScreenshot, skipBrowserTests, statusOf, useViewer } from './browser.js';
import type { StepFrame } from '../protocol/protocol.js';


interface Probe {
  kind: string;
  points: Record<string, [number, number]>;
  colors: Record<string, [number, number, number]>;
  background: [number, number, number];
}

interface LabHook {
  watchedRunId: string | null;
  framesReceived: number;
  drawn: number;
  lastFrame: StepFrame | null;
  stageProbe(): Probe;
}


describe.skipIf(skipBrowserTests)('viewer in headless Chromium', () => {
  const viewer = useViewer({
    prefix: 'lab-e2e-',
    server: { trainerArgs: ['--eval-every', '2000', '--eval-episodes', '3'] },
  });

  it('starts a Cart-Pole run from the UI and draws the cart where the frames put it', async () => {
    await viewer.page.goto(viewer.server.openUrl);
    await viewer.page.getByTestId('new-run-form').waitFor();
    await viewer.page.getByTestId('env-select').selectOption('CartPole-v1');
    await viewer.page.getByTestId('agent-select').selectOption('dqn');
    await viewer.page.getByTestId('seed-input').fill('3');
    await viewer.page.getByTestId('steps-input').fill('30000');
    await viewer.page.getByTestId('start-run').click();

    // The run appears in the list, is watched, and frames arrive and are drawn.
    const item = viewer.page.getByTestId('run-item').first();
    await item.waitFor();
    await viewer.page.waitForFunction('window.__lab && window.__lab.watchedRunId !== null', null, { timeout: 15_000 });
    const runId = (await viewer.page.evaluate('window.__lab.watchedRunId')) as LabHook['watchedRunId'];
    expect(runId).toMatch(/^CartPole-v1-dqn-zoo-s3-/);
    await viewer.page.waitForFunction('window.__lab.framesReceived > 100 && window.__lab.drawn > 30', null, { timeout: 30_000 });
    await viewer.page.waitForFunction(`${statusOf(runId!)} === 'running'`, null, { timeout: 10_000 });

    // Let the curves fill a little, then freeze the picture and compare pixels with what the frame says.
    await viewer.page.waitForTimeout(4000);
    await viewer.page.getByTestId('play-pause').click();
    await viewer.page.waitForTimeout(300);
    const { frame, probe } = (await viewer.page.evaluate('({ frame: window.__lab.lastFrame, probe: window.__lab.stageProbe() })')) as { frame: LabHook['lastFrame']; probe: Probe };
    expect(frame?.frame?.kind).toBe('cartpole');
    expect(probe.kind).toBe('cartpole');
    const stage = viewer.page.getByTestId('stage');
    const shot = PNG.sync.read(await stage.screenshot());
    const cart = probe.points.cart!;
    const tip = probe.points.poleTip!;
    expect(close(pixel(shot, cart[0], cart[1]), probe.colors.cart!), `cart pixel ${pixel(shot, cart[0], cart[1])} vs ${probe.colors.cart}`).toBe(true);
    // The pole: sample a point 70% of the way from the cart towards the tip (clear of the tip's rounding).
    const onPole: [number, number] = [cart[0] + 0.7 * (tip[0] - cart[0]), cart[1] + 0.7 * (tip[1] - cart[1])];
    const near = [-1, 0, 1].flatMap((dx) => [-1, 0, 1].map((dy) => pixel(shot, onPole[0] + dx, onPole[1] + dy)));
    expect(near.some((p) => close(p, probe.colors.pole!)), `pole pixels ${JSON.stringify(near)} vs ${probe.colors.pole}`).toBe(true);
    // Above the pole tip is background.
    expect(close(pixel(shot, tip[0], Math.max(2, tip[1] - 30)), probe.background)).toBe(true);
    // The cart sits where the frame's x says: its offset from the stage centre has the frame's sign and scale.
    const x = (frame!.frame as { x: number }).x;
    const halfTrack = Math.abs(probe.points.limitRight![0] - probe.points.limitLeft![0]) / 2;
    const centre = (probe.points.limitRight![0] + probe.points.limitLeft![0]) / 2;
    expect(cart[0] - centre).toBeCloseTo((x / 2.4) * halfTrack, 0);
    // The pole leans the way theta says (positive: right).
    const theta = (frame!.frame as { theta: number }).theta;
    if (Math.abs(theta) > 0.01) expect(Math.sign(tip[0] - cart[0])).toBe(Math.sign(theta));

    // The HUD shows the frame's episode and step.
    expect(await viewer.page.getByTestId('hud-episode').textContent()).toContain(String(frame!.episode));
    expect(await viewer.page.getByTestId('hud-step').textContent()).toContain(String(frame!.episodeStep));
    // The HUD is on screen, not squeezed to a line by the stage and the curves.
    const hud = await viewer.page.locator('.rl-view .hud').boundingBox();
    expect(hud!.height).toBeGreaterThanOrEqual(40);

    // Screenshot of the whole page for people (and the README).
    await viewer.page.getByTestId('play-pause').click();
    await viewer.page.waitForTimeout(1500);
    saveScreenshot('viewer.png', await viewer.page.screenshot(), true);

    // Stop from the UI: the trainer checkpoints and the run ends as stopped.
    await viewer.page.getByTestId('stop-run').click();
    await viewer.page.waitForFunction(`${statusOf(runId!)} === 'stopped'`, null, { timeout: 30_000 });
    expect(fs.existsSync(path.join(viewer.runsDir, runId!, 'checkpoints', 'latest.json'))).toBe(true);
    expect(viewer.consoleErrors).toEqual([]);
  }, 120_000);
});

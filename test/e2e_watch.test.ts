/**
 * "Watch its policy play" in headless Chromium, at desktop and phone sizes: a stored run's overlay offers it, the
 * click starts a live run of the greedy policy and the page switches to it and draws its frames. And a run
 * started elsewhere while the page shows no live run is followed without a click.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { startLabServer, type LabServer } from '../server/app.js';
import { io } from 'socket.io-client';
import { openPage, requireBrowserAndViewer, saveScreenshot, skipBrowserTests } from './browser.js';
import { PROTOCOL_VERSION, PUBLISH_NAMESPACE } from '../protocol/protocol.js';

const FIXTURE = fileURLToPath(new URL('./fixtures/runs/rl-dqn-cartpole/', import.meta.url));

describe.skipIf(skipBrowserTests)('watching a stored policy in the viewer', () => {
  let server: LabServer;
  let browser: Browser;
  let runsDir: string;
  const consoleErrors: string[] = [];

  beforeAll(async () => {
    requireBrowserAndViewer();
    runsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lab-e2e-watch-'));
    fs.cpSync(FIXTURE, path.join(runsDir, 'rl-dqn-cartpole'), { recursive: true });
    server = await startLabServer({ port: 0, runsDir });
    ({ browser } = await openPage(consoleErrors));
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    if (runsDir) fs.rmSync(runsDir, { recursive: true, force: true });
  });

  for (const [width, height] of [[1280, 800], [390, 844]] as const) {
    it(`plays the policy of a stored run at ${width}×${height}`, async () => {
      const context = await browser.newContext({ viewport: { width, height }, deviceScaleFactor: 1 });
      const page = await context.newPage();
      page.on('pageerror', (e) => consoleErrors.push(String(e)));
      try {
        await page.goto(`${server.openUrl}#run=rl-dqn-cartpole`);
        const button = page.getByTestId('watch-policy');
        await button.waitFor({ state: 'visible', timeout: 15_000 });
        await button.scrollIntoViewIfNeeded();
        await button.click();
        await page.waitForFunction(`window.__lab && /^rl-dqn-cartpole-policy-/.test(window.__lab.watchedRunId ?? '')`, null, { timeout: 30_000 });
        await page.waitForFunction('window.__lab.framesReceived > 20 && window.__lab.drawn > 5', null, { timeout: 30_000 });
        const stage = await page.getByTestId('stage').boundingBox();
        expect(stage!.height).toBeGreaterThanOrEqual(200);
        saveScreenshot(`watch-policy-${width}.png`, await page.screenshot());
        const watcher = (await page.evaluate('window.__lab.watchedRunId')) as string;
        // Stop it, so the next size starts its own.
        await page.getByTestId('stop-run').click();
        await page.waitForFunction(`document.querySelector('[data-testid=run-item][data-run-id="${watcher}"]')?.getAttribute('data-status') !== 'running'`, null, { timeout: 20_000 });
      } finally {
        await context.close();
      }
    }, 90_000);
  }

  it('follows a run started from elsewhere while the page shows a stored run', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    const publisher = io(`${server.url}${PUBLISH_NAMESPACE}`, { transports: ['websocket'], forceNew: true, auth: { token: server.token } });
    try {
      await page.goto(`${server.openUrl}#run=rl-dqn-cartpole`);
      await page.waitForFunction(`window.__lab && window.__lab.watchedRunId === 'rl-dqn-cartpole'`, null, { timeout: 15_000 });
      // A trainer in a terminal announces a run (lab train --live does this).
      const hello = await publisher.timeout(10_000).emitWithAck('publisher:hello', {
        protocol: PROTOCOL_VERSION,
        run: { runId: 'from-a-terminal', kind: 'rl', envId: 'CartPole-v1', agent: 'a2c', preset: null, seed: 0, steps: 1000, episodes: null, numEnvs: 1, backend: 'cpu', fps: 50, runDir: runsDir, startStep: 0, hyperparameters: {} },
      });
      expect(hello.ok).toBe(true);
      await page.waitForFunction(`window.__lab.watchedRunId === 'from-a-terminal'`, null, { timeout: 15_000 });
    } finally {
      publisher.disconnect();
      await context.close();
    }
  }, 60_000);

  it('had no page errors', () => {
    expect(consoleErrors).toEqual([]);
  });
});

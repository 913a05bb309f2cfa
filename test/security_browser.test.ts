/**
 * The browser's side of the access rules, in headless Chromium: a page served from another loopback port (the
 * same site as the lab for cookies, so the key cookie rides along) can neither read the run list nor start a
 * run, over fetch, polling or WebSocket. The lab's own page, opened from the printed link, holds the key; opened
 * without it, it watches and says how to get the key instead of offering Start.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { startLabServer, type LabServer } from '../server/app.js';
import type { GanLaunchSpec, LaunchSpec, Launched } from '../server/launcher.js';
import { openPage, requireBrowserAndViewer, saveScreenshot, skipBrowserTests } from './browser.js';

describe.skipIf(skipBrowserTests)('a foreign page in headless Chromium', () => {
  let server: LabServer;
  let foreign: http.Server;
  let foreignUrl = '';
  let browser: Browser;
  let page: Page;
  let runsDir: string;
  const launched: Launched[] = [];
  const consoleErrors: string[] = [];

  const idle = (_spec: LaunchSpec | GanLaunchSpec): Launched => {
    const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
    const l = { child, tail: () => '' };
    launched.push(l);
    return l;
  };

  beforeAll(async () => {
    requireBrowserAndViewer();
    runsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lab-sec-browser-'));
    server = await startLabServer({ port: 0, runsDir, hub: { launcher: { rl: idle, gan: idle } } });
    // The attacker's page: another port on the same loopback address.
    const lab = server.url;
    const html = `<!doctype html><meta charset="utf-8"><title>elsewhere</title><script>
      window.results = {};
      const done = (k, v) => { window.results[k] = v; };
      fetch(${JSON.stringify(lab + '/api/runs')}, { credentials: 'include' }).then(
        async (r) => done('fetch', 'status ' + r.status + ' ' + (await r.text()).slice(0, 80)),
        (e) => done('fetch', 'blocked: ' + e.name));
      fetch(${JSON.stringify(lab + '/socket.io/?EIO=4&transport=polling')}, { credentials: 'include' }).then(
        async (r) => done('polling', 'status ' + r.status), (e) => done('polling', 'blocked: ' + e.name));
      const ws = new WebSocket(${JSON.stringify(lab.replace('http:', 'ws:') + '/socket.io/?EIO=4&transport=websocket')});
      const seen = [];
      ws.onmessage = (m) => {
        seen.push(String(m.data).slice(0, 200));
        if (String(m.data).startsWith('0')) ws.send('40/live,');
        if (String(m.data).startsWith('40/live')) ws.send('42/live,1["run:start",{"envId":"CartPole-v1","agent":"a2c"}]');
        if (String(m.data).startsWith('43/live')) done('ws', 'answered: ' + seen.join(' | '));
      };
      ws.onerror = () => done('ws', 'blocked');
      ws.onclose = () => { if (!window.results.ws) done('ws', 'closed: ' + seen.join(' | ')); };
    </script>`;
    foreign = http.createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end(html));
    await new Promise<void>((resolve) => foreign.listen(0, '127.0.0.1', resolve));
    foreignUrl = `http://127.0.0.1:${(foreign.address() as AddressInfo).port}/`;
    ({ browser, page } = await openPage(consoleErrors));
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await new Promise((r) => foreign?.close(r));
    for (const l of launched) l.child.kill('SIGKILL');
    if (runsDir) fs.rmSync(runsDir, { recursive: true, force: true });
  });

  it('cannot start a run or read the run list, even with the key cookie in the browser', async () => {
    // The user opened the lab from its printed link first: the browser holds the key cookie for 127.0.0.1.
    await page.goto(server.openUrl);
    await page.getByTestId('new-run-form').waitFor();
    expect(page.url()).toBe(`${server.url}/`);
    const session = (await page.evaluate(`fetch('/api/session').then((r) => r.json())`)) as { canStart: boolean };
    expect(session.canStart).toBe(true);
    expect(await page.getByTestId('key-note').isVisible()).toBe(false);

    await page.goto(foreignUrl);
    await page.waitForFunction('window.results && window.results.fetch && window.results.polling && window.results.ws', null, { timeout: 15_000 });
    const results = (await page.evaluate('window.results')) as Record<string, string>;
    expect(results.fetch).toMatch(/^(blocked|status 403)/);
    expect(results.fetch).not.toContain('runId');
    expect(results.polling).toMatch(/^(blocked|status 403)/);
    expect(results.ws).toMatch(/^(blocked|closed)/);
    expect(results.ws).not.toContain('run:start');
    expect(launched.length).toBe(0);
    expect(server.hub.list().length).toBe(0);
  });

  it('the own page without the key watches, and says how to get the key instead of offering Start', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const fresh = await context.newPage();
    try {
      await fresh.goto(server.url);
      await fresh.getByTestId('key-note').waitFor({ state: 'visible', timeout: 15_000 });
      expect(await fresh.getByTestId('key-note').textContent()).toMatch(/open the link that lab serve printed/);
      await fresh.waitForFunction(`document.querySelector('[data-testid=start-run]').disabled === true`, null, { timeout: 5000 });
      saveScreenshot('viewer-no-key.png', await fresh.screenshot());
      // And then from the link: the note goes, Start comes back.
      await fresh.goto(server.openUrl);
      await fresh.getByTestId('new-run-form').waitFor();
      await fresh.waitForFunction(`document.querySelector('[data-testid=key-note]').hidden === true`, null, { timeout: 5000 });
      await fresh.waitForFunction(`document.querySelector('[data-testid=start-run]').disabled === false`, null, { timeout: 10_000 });
    } finally {
      await context.close();
    }
    expect(consoleErrors.filter((e) => !/ERR_|403|401|WebSocket|CORS policy/.test(e)), consoleErrors.join("\n")).toEqual([]);
  });
});

/**
 * What the browser tests share: Debian's Chromium driven by playwright-core, the skip rule (no Chromium: skip,
 * unless LAB_REQUIRE_BROWSER=1, set by .ci/run, makes it a failure), a page that collects console errors,
 * pixel helpers for screenshots and the screenshot files people look at.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { PNG } from 'pngjs';
import { afterAll, beforeAll } from 'vitest';
import { startLabServer, VIEWER_DIST, type LabServer, type LabServerOptions } from '../server/app.js';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const haveBrowser = fs.existsSync(CHROMIUM);
/** For describe.skipIf: no browser here and none required. */
export const skipBrowserTests = !haveBrowser && process.env.LAB_REQUIRE_BROWSER !== '1';
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'];

/** Fails with what to do when Chromium or the built viewer is missing. */
export function requireBrowserAndViewer(): void {
  if (!haveBrowser) throw new Error(`LAB_REQUIRE_BROWSER=1 but there is no Chromium at ${CHROMIUM} (apt-get install chromium)`);
  if (!fs.existsSync(path.join(VIEWER_DIST, 'index.html'))) throw new Error('the viewer is not built: run npm run build:viewer (npm test does)');
}

/**
 * Chromium with one 1400×860 page at device scale 1; the page's console errors and uncaught exceptions go into
 * `consoleErrors` (except messages matching `ignoreConsole`). `webgpu: true` turns WebGPU on: pages in a secure
 * context (loopback http, file://) then get SwiftShader's software adapter (architecture 'swiftshader',
 * isFallbackAdapter true); without it `navigator.gpu` gives no adapter, as on a machine without WebGPU.
 */
export interface PageOptions {
  acceptDownloads?: boolean;
  ignoreConsole?: RegExp;
  webgpu?: boolean;
}

export async function openPage(consoleErrors: string[], options: PageOptions = {}): Promise<{ browser: Browser; page: Page }> {
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: options.webgpu ? [...CHROMIUM_ARGS, '--enable-unsafe-webgpu'] : CHROMIUM_ARGS });
  const page = await browser.newPage({ viewport: { width: 1400, height: 860 }, deviceScaleFactor: 1, ...(options.acceptDownloads ? { acceptDownloads: true } : {}) });
  page.on('console', (m) => {
    if (m.type() === 'error' && !(options.ignoreConsole?.test(m.text()) ?? false)) consoleErrors.push(m.text());
  });
  page.on('pageerror', (e) => consoleErrors.push(String(e)));
  return { browser, page };
}

export type RGB = [number, number, number];

export function pixel(png: PNG, x: number, y: number): RGB {
  const i = (Math.round(y) * png.width + Math.round(x)) * 4;
  return [png.data[i]!, png.data[i + 1]!, png.data[i + 2]!];
}

export function close(a: RGB, b: RGB, tolerance = 12): boolean {
  return a.every((v, i) => Math.abs(v - b[i]!) <= tolerance);
}

/** Saves a screenshot under test-results/ (and, for the README's, under docs/ with UPDATE_SCREENSHOTS=1). */
export function saveScreenshot(file: string, png: Buffer, docs = false): void {
  fs.mkdirSync('test-results', { recursive: true });
  fs.writeFileSync(path.join('test-results', file), png);
  if (docs && process.env.UPDATE_SCREENSHOTS === '1') {
    fs.mkdirSync('docs', { recursive: true });
    fs.writeFileSync(path.join('docs', file), png);
  }
}

/** Runs in the page (the root tsconfig has no DOM types, so page code is a string): a run item's status. */
export const statusOf = (runId: string) => `document.querySelector('[data-testid=run-item][data-run-id="${runId}"]')?.getAttribute('data-status')`;

/** What `useViewer` sets up for a file's tests. */
export interface ViewerSession {
  /** A fresh directory under the system's temporary one, removed after the tests. */
  runsDir: string;
  server: LabServer;
  browser: Browser;
  page: Page;
  /** The page's console errors and uncaught exceptions so far. */
  consoleErrors: string[];
}

/**
 * The usual setup of a browser test, registered with the enclosing describe: a fresh runs directory (`prefix` in
 * its name), filled by `prepare`, a lab server on it (`server`: more of its options) and Chromium with one page
 * (`page`); after the tests, all closed and the directory removed. The session's fields are set once its
 * beforeAll has run: read them inside tests and hooks.
 */
export function useViewer(options: { prefix: string; prepare?: (runsDir: string) => void | Promise<void>; server?: Omit<LabServerOptions, 'port' | 'runsDir'>; page?: PageOptions; timeoutMs?: number }): ViewerSession {
  const session = { consoleErrors: [] as string[] } as ViewerSession;
  beforeAll(async () => {
    requireBrowserAndViewer();
    session.runsDir = fs.mkdtempSync(path.join(os.tmpdir(), options.prefix));
    await options.prepare?.(session.runsDir);
    session.server = await startLabServer({ port: 0, runsDir: session.runsDir, ...options.server });
    ({ browser: session.browser, page: session.page } = await openPage(session.consoleErrors, options.page));
  }, options.timeoutMs ?? 60_000);
  afterAll(async () => {
    await session.browser?.close();
    await session.server?.close();
    if (session.runsDir) fs.rmSync(session.runsDir, { recursive: true, force: true });
  });
  return session;
}

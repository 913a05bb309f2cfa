/**
 * Takes a screenshot of the viewer's Experiments page for one experiment directory, as docs/experiments.md shows
 * the real search (the e2e test's docs/experiments.png is of the small fixture; a 30-trial search is too long to
 * run in a test). Starts a lab server over the experiment's runs root on a free port, opens the page in headless
 * Chromium (needs the built viewer: npm run build:viewer) and writes the PNG.
 *
 *   node --import tsx test/tools/experiment_screenshot.ts <expDir> <out.png> [width] [height]
 */
import path from 'node:path';
import fs from 'node:fs';
import { startLabServer } from '../../server/app.js';
import { openPage } from '../browser.js';

const [expDir, out, width = '1280', height = '1500'] = process.argv.slice(2);
if (!expDir || !out) {
  console.error('usage: experiment_screenshot.ts <expDir> <out.png> [width] [height]');
  process.exit(2);
}
const id = path.basename(path.resolve(expDir));
// The server lists experiments under its runs root (<root>/sweeps/<id> or <root>/<id>).
const root = path.basename(path.dirname(path.resolve(expDir))) === 'sweeps' ? path.dirname(path.dirname(path.resolve(expDir))) : path.dirname(path.resolve(expDir));
const server = await startLabServer({ port: 0, runsDir: root, runtimeFile: false, log: () => {} });
const errors: string[] = [];
const { browser, page } = await openPage(errors);
try {
  await page.setViewportSize({ width: Number(width), height: Number(height) });
  await page.goto(`${server.url}/#/experiments/${encodeURIComponent(id)}`);
  await page.waitForSelector('[data-testid=trial-row]', { timeout: 20_000 });
  await page.waitForTimeout(1500); // curves and scatters draw on the next frames
  fs.writeFileSync(out, await page.screenshot());
  console.log(`${out}: ${width}x${height}${errors.length ? `; console errors: ${errors.join(' | ')}` : ''}`);
} finally {
  await browser.close();
  await server.close();
}

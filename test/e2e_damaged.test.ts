/**
 * Damaged runs in the viewer, in real headless Chromium: next to two good runs, a run whose config.json lacks
 * createdAt and one whose metrics.jsonl has a garbage line. The run list shows both as damaged with their reason
 * in place of their figures; opening one shows why instead of a view; the Compare page keeps them apart from the
 * choices, and a comparison that names one leaves it out with a note. Screenshots: test-results/damaged-runs.png, damaged-compare.png.
 *
 * Needs the built viewer (npm test builds it) and Chromium; without Chromium the test is skipped, unless
 * LAB_REQUIRE_BROWSER=1, where a missing browser is a failure.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { startTraining } from '../agents/train.js';
import { saveScreenshot, skipBrowserTests, statusOf, useViewer } from './browser.js';

describe.skipIf(skipBrowserTests)('damaged runs in headless Chromium', () => {
  const viewer = useViewer({
    prefix: 'lab-e2e-damaged-',
    timeoutMs: 120_000,
    prepare: async (runsDir) => {
      await startTraining({ agent: 'reinforce', envId: 'CartPole-v1', seed: 1, steps: 2000, evalEvery: 1000, evalEpisodes: 2, out: runsDir, runId: 'good-1', backend: 'cpu' });
      const copy = (id: string, edit: (config: Record<string, unknown>) => void) => {
        fs.cpSync(path.join(runsDir, 'good-1'), path.join(runsDir, id), { recursive: true });
        const file = path.join(runsDir, id, 'config.json');
        const config = { ...(JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>), runId: id };
        edit(config);
        fs.writeFileSync(file, JSON.stringify(config));
      };
      copy('good-2', (c) => (c.seed = 2));
      copy('damaged-config', (c) => delete c.createdAt);
      copy('damaged-metrics', () => {});
      const metrics = path.join(runsDir, 'damaged-metrics', 'metrics.jsonl');
      const lines = fs.readFileSync(metrics, 'utf8').split('\n').filter((l) => l !== '');
      fs.writeFileSync(metrics, [lines[0], 'garbage {', ...lines.slice(1)].join('\n') + '\n');
    },
  });
  const CONFIG_REASON = 'config.json: createdAt: expected a string, got nothing';
  const METRICS_REASON = 'metrics.jsonl: line 2 is not valid JSON';

  it('lists damaged runs with their reason and shows it instead of a view', async () => {
    await viewer.page.goto(viewer.server.openUrl);
    await viewer.page.locator('[data-testid=run-item][data-run-id="damaged-config"]').waitFor({ timeout: 15_000 });
    expect(await viewer.page.locator('[data-testid=run-item]').count()).toBe(4);
    for (const [id, reason] of [
      ['damaged-config', CONFIG_REASON],
      ['damaged-metrics', METRICS_REASON],
    ] as const) {
      expect(await viewer.page.evaluate(statusOf(id))).toBe('damaged');
      const row = viewer.page.locator(`[data-testid=run-item][data-run-id="${id}"]`);
      expect(await row.getByTestId('run-damage').textContent()).toBe(reason);
      expect(await row.getByTestId('run-damage').isVisible()).toBe(true);
      expect(await row.locator('.run-figures').isVisible()).toBe(false);
      expect(await row.locator('.run-status').textContent()).toBe('damaged');
    }
    expect(await viewer.page.evaluate(statusOf('good-1'))).toBe('stored');
    expect(await viewer.page.locator('[data-testid=run-item][data-run-id="good-1"] [data-testid=run-damage]').isVisible()).toBe(false);

    await viewer.page.locator('[data-testid=run-item][data-run-id="damaged-metrics"]').click();
    await viewer.page.getByTestId('run-damaged').waitFor();
    expect(await viewer.page.getByTestId('run-damaged-reason').textContent()).toBe(METRICS_REASON);
    expect(viewer.page.url()).toContain('#run=damaged-metrics');
    saveScreenshot('damaged-runs.png', await viewer.page.screenshot());
    // A good run mounts its view again.
    await viewer.page.locator('[data-testid=run-item][data-run-id="good-1"]').click();
    await viewer.page.getByTestId('run-damaged').waitFor({ state: 'detached' });
    expect(viewer.consoleErrors).toEqual([]);
  }, 60_000);

  it('the Compare page keeps damaged runs apart and leaves one named in the comparison out, with a note', async () => {
    await viewer.page.goto(`${viewer.server.url}/#/compare?runs=good-1,good-2,damaged-metrics`);
    await viewer.page.getByTestId('compare-table').waitFor({ timeout: 30_000 });
    const damaged = viewer.page.getByTestId('compare-damaged');
    expect(await damaged.textContent()).toContain(CONFIG_REASON);
    expect(await damaged.textContent()).toContain(METRICS_REASON);
    // Not a choice; the one the link named is checked and may be unchecked.
    expect(await viewer.page.locator('[data-testid=compare-run-checkbox][data-run-id="damaged-config"]').isDisabled()).toBe(true);
    expect(await viewer.page.locator('[data-testid=compare-run-checkbox][data-run-id="damaged-metrics"]').isChecked()).toBe(true);
    expect(await viewer.page.locator('[data-testid=compare-table] tbody tr').count()).toBe(1);
    expect(await viewer.page.locator('.notes').textContent()).toContain(`damaged-metrics: ${METRICS_REASON} — left out of the comparison`);
    saveScreenshot('damaged-compare.png', await viewer.page.screenshot());
    expect(viewer.consoleErrors).toEqual([]);
  }, 60_000);
});

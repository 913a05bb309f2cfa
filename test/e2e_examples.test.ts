/**
 * End to end in headless Chromium: the run of an example script (examples/train_corridor.ts: the corridor
 * plug-in env trained with the built-in DQN) opened in the viewer. The lab server was never told about the
 * plug-in: it imports the module the run recorded when asked for the run's replays, regenerates the frames by
 * re-simulation, and the Replays page plays the final evaluation episode with the FrozenLake renderer (a one-row
 * map): the frame on screen equals the server's, the agent's pixels sit where the frame puts it, and End shows
 * it on the goal. Saves test-results/example-corridor.png.
 *
 * Needs the built viewer (npm test builds it) and Chromium; skipped without Chromium unless LAB_REQUIRE_BROWSER=1.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { PNG } from 'pngjs';
import { close, pixel, saveScreenshot, skipBrowserTests, useViewer } from './browser.js';
import { API, type ReplayDetail, type ReplaySummary, type RunSummary } from '../protocol/protocol.js';
import type { FrozenLakeFrame } from '../envs/frames.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const run = promisify(execFile);
const RUN_ID = 'e2e-corridor';

interface PaneState {
  runId: string;
  name: string;
  step: number;
  frame: unknown;
  probe: { kind: string; points: Record<string, [number, number]>; colors: Record<string, [number, number, number]> };
}
const PANES = 'window.__lab.replay.panes.map((p) => ({ runId: p.runId, name: p.name, step: p.step, frame: p.frame, probe: p.probe() }))';

async function getJson<T>(url: string): Promise<T> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`GET ${url}: HTTP ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

describe.skipIf(skipBrowserTests)('an example run in the viewer (headless Chromium)', () => {
  const viewer = useViewer({
    prefix: 'lab-e2e-examples-',
    timeoutMs: 180_000,
    prepare: async (runsDir) => {
      await run(process.execPath, ['--import', 'tsx', 'examples/train_corridor.ts', '--steps', '1500', '--backend', 'cpu', '--out', runsDir, '--run-id', RUN_ID], { cwd: ROOT, timeout: 150_000 });
    },
  });

  it("plays the corridor run's last evaluation episode from frames the server regenerates with the plug-in", async () => {
    const stored = await getJson<RunSummary>(`${viewer.server.url}/api/runs/${RUN_ID}`);
    expect(stored).toMatchObject({ runId: RUN_ID, envId: 'Corridor-v0', agent: 'dqn', status: 'stored' });

    const replays = (await getJson<{ replays: ReplaySummary[] }>(`${viewer.server.url}${API.replays}?mode=eval`)).replays.filter((r) => r.runId === RUN_ID);
    expect(replays.length).toBeGreaterThan(0);
    const last = replays.reduce((a, b) => ((b.checkpointStep ?? 0) > (a.checkpointStep ?? 0) || ((b.checkpointStep ?? 0) === (a.checkpointStep ?? 0) && b.episode < a.episode) ? b : a));
    const detail = await getJson<ReplayDetail>(`${viewer.server.url}${API.replay(RUN_ID, last.name)}`);
    expect(detail.regenerated).toBe(true);
    expect(detail.frames).toHaveLength(last.length + 1);
    const first = detail.frames[0] as FrozenLakeFrame;
    expect(first).toEqual({ kind: 'frozenlake', map: ['SFFFFFFG'], agent: [0, 0], lastAction: null });
    // The trained greedy policy walks right to the goal.
    expect((detail.frames.at(-1) as FrozenLakeFrame).agent).toEqual([0, 7]);

    await viewer.page.goto(`${viewer.server.url}/#/replays`);
    const row = `[data-testid=replay-row][data-run-id="${RUN_ID}"][data-name="${last.name}"]`;
    await viewer.page.locator(row).waitFor();
    await viewer.page.locator(row).click();
    await viewer.page.waitForFunction('window.__lab.replay.panes.length === 1 && window.__lab.replay.panes[0].step === 0', null, { timeout: 30_000 });
    let [pane] = (await viewer.page.evaluate(PANES)) as PaneState[];
    expect(pane!.frame).toEqual(first);
    expect(pane!.probe.kind).toBe('frozenlake');
    const stage = viewer.page.getByTestId('replay-stage');
    let png = PNG.sync.read(await stage.screenshot());
    const start = pane!.probe.points.agent!;
    expect(close(pixel(png, start[0], start[1]), pane!.probe.colors.agent!), `agent pixel ${pixel(png, start[0], start[1])} vs ${pane!.probe.colors.agent}`).toBe(true);
    // One row of eight cells: the goal is to the right of the agent, on the same line.
    const goal = pane!.probe.points.goal!;
    expect(goal[0]).toBeGreaterThan(start[0]);
    expect(Math.abs(goal[1] - start[1])).toBeLessThan(1);

    await viewer.page.getByTestId('scrubber').focus();
    await viewer.page.keyboard.press('End');
    await viewer.page.waitForFunction(`window.__lab.replay.panes[0].step === ${last.length}`);
    [pane] = (await viewer.page.evaluate(PANES)) as PaneState[];
    expect(pane!.frame).toEqual(detail.frames[last.length]);
    png = PNG.sync.read(await stage.screenshot());
    const end = pane!.probe.points.agent!;
    expect(end[0]).toBeCloseTo(goal[0], 0);
    expect(close(pixel(png, end[0], end[1]), pane!.probe.colors.agent!) || close(pixel(png, end[0], end[1]), pane!.probe.colors.goal!)).toBe(true);
    saveScreenshot('example-corridor.png', await viewer.page.screenshot());
    expect(viewer.consoleErrors).toEqual([]);
  }, 120_000);
});

/**
 * Plug-in envs without a picture of their own, live in real headless Chromium: examples/thermostat_env.ts returns
 * values frames (labelled bars) and test/fixtures/text_corridor_env.ts returns text. Each is trained by `lab
 * train --live` against a lab server; the run's live view draws the frames it receives: the bars where the
 * frame's numbers and bounds put them, in the renderer's colours, and the text in its box; the text env's replay
 * in the player is drawn by the same renderer. Screenshots: test-results/plugin-values-1280.png,
 * plugin-values-390.png, plugin-text-1280.png, plugin-text-replay-1280.png.
 *
 * Needs the built viewer (npm test builds it) and Chromium; skipped without Chromium unless LAB_REQUIRE_BROWSER=1.
 */
import path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { PNG } from 'pngjs';
import { close, pixel, saveScreenshot, skipBrowserTests, useViewer, type RGB } from './browser.js';
import { until } from './wait.js';
import { API, type ReplaySummary, type StepFrame } from '../protocol/protocol.js';
import type { TextFrame, ValuesFrame } from '../envs/frames.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const LAB = path.join(ROOT, 'bin', 'lab.mjs');

interface Probe {
  kind: string;
  points: Record<string, [number, number]>;
  colors: Record<string, RGB>;
  background: RGB;
}

describe.skipIf(skipBrowserTests)('plug-in envs drawn live without a renderer of their own (headless Chromium)', () => {
  const viewer = useViewer({ prefix: 'lab-e2e-plugin-frames-' });
  const children: ChildProcess[] = [];

  // Before the viewer's own afterAll (hooks after the tests run in reverse order): the trainers go first.
  afterAll(async () => {
    await Promise.all(children.map((c) => (c.exitCode === null && c.signalCode === null ? new Promise((resolve) => (c.once('exit', resolve), c.kill('SIGKILL'))) : null)));
  });

  /** Starts `lab train --live` of `env` and opens its live view once frames of `kind` are drawn, then pauses it. */
  async function watchLive(env: string, agent: string, runId: string, kind: string): Promise<{ frame: StepFrame; probe: Probe; shot: PNG }> {
    const child = spawn(process.execPath, [LAB, 'train', '--env', env, '--agent', agent, '--steps', '400000', '--seed', '1', '--backend', 'wasm', '--out', viewer.runsDir, '--run-id', runId, '--live', viewer.server.url, '--token', viewer.server.token], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    let output = '';
    child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
    await until(`lab train to publish ${runId}`, () => {
      if (child.exitCode !== null) throw new Error(`lab train ended before publishing ${runId}: ${output}`);
      return viewer.server.hub.summary(runId)?.origin === 'cli';
    }, 60_000, { log: () => output });
    await viewer.page.goto(`${viewer.server.openUrl}#run=${runId}`);
    await viewer.page.waitForFunction(`window.__lab.watchedRunId === ${JSON.stringify(runId)} && window.__lab.drawn > 20 && window.__lab.lastFrame?.frame?.kind === ${JSON.stringify(kind)}`, null, { timeout: 30_000 });
    await viewer.page.getByTestId('play-pause').click();
    await viewer.page.waitForTimeout(300);
    const { frame, probe } = (await viewer.page.evaluate('({ frame: window.__lab.lastFrame, probe: window.__lab.stageProbe() })')) as { frame: StepFrame; probe: Probe };
    const shot = PNG.sync.read(await viewer.page.getByTestId('stage').screenshot());
    return { frame, probe, shot };
  }

  it('draws Thermostat-v0 (examples/thermostat_env.ts) from its values frames: bars on their bounds, in the renderer colours', async () => {
    await viewer.page.setViewportSize({ width: 1280, height: 800 });
    const { frame, probe, shot } = await watchLive('./examples/thermostat_env.ts:Thermostat-v0', 'a2c', 'thermostat-live', 'values');
    const f = frame.frame as ValuesFrame;
    expect(f.labels).toEqual(['room °C', 'outside °C', 'heater']);
    expect(f.low).toEqual([0, -20, 0]);
    expect(f.high).toEqual([35, 35, 1]);
    expect(probe.kind).toBe('values');
    for (let i = 0; i < 3; i++) {
      const v = f.values[i]!;
      const [x0] = probe.points[`from${i}`]!;
      const [x1] = probe.points[`to${i}`]!;
      // The value and zero sit where [low, high] maps them onto the track.
      const at = (x: number) => x0 + ((Math.min(f.high![i]!, Math.max(f.low![i]!, x)) - f.low![i]!) / (f.high![i]! - f.low![i]!)) * (x1 - x0);
      expect(probe.points[`value${i}`]![0]).toBeCloseTo(at(v), 3);
      expect(probe.points[`zero${i}`]![0]).toBeCloseTo(at(0), 3);
      const bar = probe.points[`bar${i}`];
      if (bar) {
        const want = v >= 0 ? probe.colors.positive! : probe.colors.negative!;
        expect(close(pixel(shot, bar[0], bar[1]), want), `bar ${i} pixel ${pixel(shot, bar[0], bar[1])} vs ${want}`).toBe(true);
      }
      const track = probe.points[`track${i}`];
      if (track) expect(close(pixel(shot, track[0], track[1]), probe.colors.track!), `track ${i} pixel ${pixel(shot, track[0], track[1])}`).toBe(true);
    }
    // The room's bar is drawn (12–35 °C in any episode) and the heater's is full or empty.
    expect(probe.points.bar0).toBeDefined();
    expect([0, 1]).toContain(f.values[2]);
    // The HUD follows the same step.
    expect(await viewer.page.getByTestId('hud-step').textContent()).toContain(String(frame.episodeStep));
    saveScreenshot('plugin-values-1280.png', await viewer.page.screenshot());

    // A phone: the bars and labels still fit the stage.
    await viewer.page.setViewportSize({ width: 390, height: 844 });
    await viewer.page.waitForTimeout(500);
    const small = (await viewer.page.evaluate('window.__lab.stageProbe()')) as Probe;
    const stageBox = (await viewer.page.getByTestId('stage').boundingBox())!;
    expect(small.points.to0![0]).toBeLessThanOrEqual(stageBox.width);
    expect(small.points.from0![0]).toBeGreaterThan(0);
    saveScreenshot('plugin-values-390.png', await viewer.page.screenshot());
    await viewer.page.setViewportSize({ width: 1280, height: 800 });
    expect(viewer.consoleErrors).toEqual([]);
  }, 120_000);

  it('draws an env whose render() is text (test/fixtures/text_corridor_env.ts) as text frames', async () => {
    const { frame, probe, shot } = await watchLive('./test/fixtures/text_corridor_env.ts:TextCorridor-v0', 'dqn', 'text-live', 'text');
    const f = frame.frame as TextFrame;
    expect(f.text).toMatch(/^corridor\n[.AG]{8}$/);
    expect(f.text.split('\n')[1]!.includes('A') || f.text.split('\n')[1]!.endsWith('G')).toBe(true);
    expect(probe.kind).toBe('text');
    const box = probe.points.box!;
    expect(close(pixel(shot, box[0], box[1]), probe.colors.box!), `box pixel ${pixel(shot, box[0], box[1])}`).toBe(true);
    // Glyphs: some pixel in the first line's first characters has the text colour.
    const [tx, ty] = probe.points.text!;
    let inked = false;
    for (let dy = 0; dy < 16 && !inked; dy++) for (let dx = 0; dx < 40 && !inked; dx++) inked = close(pixel(shot, tx + dx, ty + dy), probe.colors.text!, 40);
    expect(inked).toBe(true);
    saveScreenshot('plugin-text-1280.png', await viewer.page.screenshot());

    // Its first training episode in the replay player: the server re-simulates it with the plug-in, whose frames
    // are strings; the player draws them with the same text renderer.
    const logs = await until('the first training episode log', async () => {
      const res = await fetch(`${viewer.server.url}${API.replays}?mode=train`);
      return ((await res.json()) as { replays: ReplaySummary[] }).replays.find((r) => r.runId === 'text-live' && r.episode === 0);
    }, 30_000);
    await viewer.page.goto(`${viewer.server.url}/#/replay/text-live/${encodeURIComponent(logs.name)}?t=1`);
    await viewer.page.waitForFunction('window.__lab?.replay?.panes?.length === 1 && window.__lab.replay.panes[0].step === 1 && window.__lab.replay.panes[0].probe().kind === "text"', null, { timeout: 30_000 });
    const [pane] = (await viewer.page.evaluate('window.__lab.replay.panes.map((p) => ({ frame: p.frame, probe: p.probe() }))')) as { frame: unknown; probe: Probe }[];
    expect(pane!.frame).toMatch(/^corridor\n[.AG]{8}$/);
    const replayShot = PNG.sync.read(await viewer.page.getByTestId('replay-stage').screenshot());
    const corner = pane!.probe.points.box!;
    expect(close(pixel(replayShot, corner[0], corner[1]), pane!.probe.colors.box!), `replay box pixel ${pixel(replayShot, corner[0], corner[1])}`).toBe(true);
    saveScreenshot('plugin-text-replay-1280.png', await viewer.page.screenshot());
    expect(viewer.consoleErrors).toEqual([]);
  }, 120_000);
});

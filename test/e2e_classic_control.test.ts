/**
 * The new classic-control renderers in real headless Chromium: replay logs of Acrobot-v1, MountainCar-v0,
 * MountainCarContinuous-v0 and Pendulum-v1 (short stub-agent runs, Box actions for the continuous ones) opened in
 * the viewer's player. At a chosen step the pane shows the logged frame, the probe's points sit where the frame's
 * physics puts them, and the pixels there have the renderer's colours. Screenshots: test-results/classic-<env>.png.
 *
 * Needs the built viewer (npm test builds it) and Chromium; without Chromium the test is skipped, unless
 * LAB_REQUIRE_BROWSER=1, where a missing browser is a failure.
 */
import { describe, expect, it } from 'vitest';
import { PNG } from 'pngjs';
import { close, pixel, saveScreenshot, skipBrowserTests, type RGB, useViewer } from './browser.js';
import { API, type ReplayDetail, type ReplaySummary } from '../protocol/protocol.js';
import type { AcrobotFrame, MountainCarFrame, PendulumFrame } from '../envs/frames.js';
import { Box, Rng, make } from '../envs/index.js';
import type { Agent } from '../agents/agent.js';
import { Trainer } from '../agents/training.js';
import { RunStore, type RunConfig } from '../lab/run_store.js';

const STEP = 25;

interface Probe {
  kind: string;
  points: Record<string, [number, number]>;
  colors: Record<string, RGB>;
}

/** Random actions (Box: beyond the bounds too) from a seeded RNG. */
function randomAgent(envId: string): Agent {
  const space = make(envId).actionSpace;
  const rng = new Rng(7);
  return {
    name: 'stub',
    config: {},
    numEnvs: 1,
    act(_obs, n) {
      if (space instanceof Box) return Float32Array.from({ length: n * space.size }, (_, i) => rng.uniform(space.low[i % space.size]! * 1.5, space.high[i % space.size]! * 1.5));
      return Int32Array.from({ length: n }, () => rng.integer((space as unknown as { n: number }).n));
    },
    observe: () => null,
    status: () => ({}),
    save: async () => {},
    load: async () => {},
    savePolicy: () => {},
    dispose: () => {},
  };
}

async function recordRun(runsDir: string, envId: string): Promise<void> {
  const config: RunConfig = {
    kind: 'rl',
    runId: `classic-${envId.toLowerCase()}`,
    envId,
    envKwargs: {},
    agent: 'stub',
    preset: null,
    hyperparameters: {},
    seed: 1,
    steps: 60,
    episodes: null,
    numEnvs: 1,
    evalEvery: 60,
    evalEpisodes: 1,
    evalSeed: 1_000_000,
    checkpointEvery: 0,
    backend: { requested: 'cpu', backend: 'cpu', reason: 'test', details: {} },
    versions: { lab: '0', node: process.version, tfjs: '4' },
    createdAt: new Date(0).toISOString(),
    command: '',
    replays: { eval: true, train: 'none', frames: false, obs: false },
  };
  const store = RunStore.create(runsDir, config);
  const trainer = new Trainer({ config, agent: randomAgent(envId), store });
  trainer.begin();
  await trainer.run();
  trainer.close();
}

async function getJson<T>(url: string): Promise<T> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`GET ${url}: HTTP ${res.status}`);
  return (await res.json()) as T;
}

const PANES = 'window.__lab.replay.panes.map((p) => ({ step: p.step, frame: p.frame, probe: p.probe() }))';

describe.skipIf(skipBrowserTests)('classic-control renderers in headless Chromium', () => {
  const viewer = useViewer({
    prefix: 'lab-e2e-classic-',
    timeoutMs: 120_000,
    prepare: async (runsDir) => {
      for (const id of ['Acrobot-v1', 'MountainCar-v0', 'MountainCarContinuous-v0', 'Pendulum-v1']) await recordRun(runsDir, id);
    },
  });

  /** Opens the env's evaluation episode at STEP; returns the logged frame, the pane's probe and its screenshot. */
  async function open(envId: string): Promise<{ want: unknown; probe: Probe; png: PNG; detail: ReplayDetail }> {
    const list = (await getJson<{ replays: ReplaySummary[] }>(`${viewer.server.url}${API.replays}?env=${envId}`)).replays;
    expect(list.length, envId).toBeGreaterThan(0);
    const r = list[0]!;
    const detail = await getJson<ReplayDetail>(`${viewer.server.url}${API.replay(r.runId, r.name)}`);
    await viewer.page.goto(`${viewer.server.url}/#/replay/${encodeURIComponent(r.runId)}/${encodeURIComponent(r.name)}?t=${STEP}`);
    await viewer.page.waitForFunction(`window.__lab?.replay?.panes?.length === 1 && window.__lab.replay.panes[0].step === ${STEP} && Object.keys(window.__lab.replay.panes[0].probe().points).length > 0`, null, { timeout: 30_000 });
    const [pane] = (await viewer.page.evaluate(PANES)) as { step: number; frame: unknown; probe: Probe }[];
    expect(pane!.frame).toEqual(detail.frames[STEP]);
    const png = PNG.sync.read(await viewer.page.getByTestId('replay-stage').first().screenshot());
    saveScreenshot(`classic-${envId}.png`, await viewer.page.screenshot());
    return { want: detail.frames[STEP], probe: pane!.probe, png, detail };
  }

  const colourNear = (png: PNG, p: [number, number], colour: RGB) => [-1, 0, 1].some((dx) => [-1, 0, 1].some((dy) => close(pixel(png, p[0] + dx, p[1] + dy), colour)));

  it('Acrobot-v1: both links where the angles put them, in their colours, and the goal line one link above the pivot', async () => {
    const { want, probe, png } = await open('Acrobot-v1');
    const f = want as AcrobotFrame;
    expect(probe.kind).toBe('acrobot');
    const { pivot, elbow, tip, link1, link2, goalLeft } = probe.points;
    const len1 = Math.hypot(elbow![0] - pivot![0], elbow![1] - pivot![1]);
    // θ1 from straight down: the elbow is at pivot + (sin θ1, cos θ1)·length on screen (y down).
    expect((elbow![0] - pivot![0]) / len1).toBeCloseTo(Math.sin(f.theta1), 3);
    expect((elbow![1] - pivot![1]) / len1).toBeCloseTo(Math.cos(f.theta1), 3);
    expect((tip![0] - elbow![0]) / len1).toBeCloseTo(Math.sin(f.theta1 + f.theta2), 3);
    expect(pivot![1] - goalLeft![1]).toBeCloseTo(len1 * f.goalHeight, 3);
    expect(colourNear(png, link1!, probe.colors.link1!), `link 1 pixel ${pixel(png, link1![0], link1![1])}`).toBe(true);
    expect(colourNear(png, link2!, probe.colors.link2!), `link 2 pixel ${pixel(png, link2![0], link2![1])}`).toBe(true);
  });

  it('Pendulum-v1: the rod points along θ (upright = up) in its colour; the logged action is a clipped torque', async () => {
    const { want, probe, png, detail } = await open('Pendulum-v1');
    const f = want as PendulumFrame;
    expect(probe.kind).toBe('pendulum');
    const { pivot, tip, rod } = probe.points;
    const len = Math.hypot(tip![0] - pivot![0], tip![1] - pivot![1]);
    expect((tip![0] - pivot![0]) / len).toBeCloseTo(-Math.sin(f.theta), 3);
    expect((tip![1] - pivot![1]) / len).toBeCloseTo(-Math.cos(f.theta), 3);
    expect(colourNear(png, rod!, probe.colors.rod!), `rod pixel ${pixel(png, rod![0], rod![1])}`).toBe(true);
    const action = detail.steps[STEP - 1]!.a as number[];
    expect(action).toHaveLength(1);
    expect(f.lastTorque).toBe(Math.max(-2, Math.min(2, action[0]!)));
  });

  for (const id of ['MountainCar-v0', 'MountainCarContinuous-v0']) {
    it(`${id}: the car sits on the valley at its position, in its colour, and the flag stands at the goal`, async () => {
      const { want, probe, png } = await open(id);
      const f = want as MountainCarFrame;
      expect(probe.kind).toBe('mountaincar');
      expect(f.continuous).toBe(id.includes('Continuous'));
      const { car, flagBase, valleyLeft, valleyRight } = probe.points;
      const span = valleyRight![0] - valleyLeft![0];
      expect((flagBase![0] - valleyLeft![0]) / span).toBeCloseTo((f.goalPosition - f.minPosition) / (f.maxPosition - f.minPosition), 2);
      // The car's body centre is a few pixels off its contact point; along x it is within a car length of x.
      expect(Math.abs((car![0] - valleyLeft![0]) / span - (f.position - f.minPosition) / (f.maxPosition - f.minPosition))).toBeLessThan(0.03);
      expect(colourNear(png, car!, probe.colors.car!), `car pixel ${pixel(png, car![0], car![1])}`).toBe(true);
      expect(viewer.consoleErrors).toEqual([]);
    });
  }
});

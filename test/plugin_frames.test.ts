/**
 * Frames for envs without a picture of their own: text frames (a `render()` that returns a string) and values
 * frames (labelled bars, `valuesFrame`). The helpers and their errors, the protocol's check, the viewer's bar
 * geometry, and the step events a training run streams for two plug-in envs (examples/thermostat_env.ts and
 * test/fixtures/text_corridor_env.ts). In the browser: e2e_plugin_frames.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { TEXT_FRAME_MAX_CHARS, VALUES_FRAME_MAX, importEnvModule, toRenderFrame, valuesFrame, type ValuesFrame } from '../envs/index.js';
import { validate, type StepEvent, type TrainEvent } from '../protocol/protocol.js';
import { startTraining } from '../agents/train.js';
import { MAX_BARS, barScale, valueText, valuesGeometry } from '../viewer/src/model/values_geometry.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lab-plugin-frames-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('toRenderFrame', () => {
  it('passes frames through, makes strings text frames, and gives null for nothing drawable', () => {
    const frame = { kind: 'frozenlake', map: ['SFG'], agent: [0, 1], lastAction: 2 };
    expect(toRenderFrame(frame)).toBe(frame);
    expect(toRenderFrame('A..G')).toEqual({ kind: 'text', text: 'A..G' });
    expect(toRenderFrame('')).toEqual({ kind: 'text', text: '' });
    for (const nothing of [null, undefined, 3, true, [1, 2], { kind: 'x', n: 1n }]) expect(toRenderFrame(nothing)).toBeNull();
  });

  it('shows an object of a kind the viewer does not know as the text of its JSON (the server refuses unknown kinds)', () => {
    expect(toRenderFrame({ kind: 'hologram', cells: [1, 2] })).toEqual({ kind: 'text', text: '{\n "kind": "hologram",\n "cells": [\n  1,\n  2\n ]\n}' });
    expect(toRenderFrame({ cells: [] })).toEqual({ kind: 'text', text: '{\n "cells": []\n}' });
  });

  it('cuts a text longer than TEXT_FRAME_MAX_CHARS and says how much was left out', () => {
    const long = 'x'.repeat(TEXT_FRAME_MAX_CHARS + 123);
    const f = toRenderFrame(long) as { kind: 'text'; text: string };
    expect(f.text.startsWith('x'.repeat(TEXT_FRAME_MAX_CHARS) + '\n')).toBe(true);
    expect(f.text.endsWith('… (123 more characters)')).toBe(true);
  });
});

describe('valuesFrame', () => {
  it('keeps numbers, labels, bounds and title; non-finite numbers become null (JSON has no NaN or ∞)', () => {
    expect(valuesFrame(Float32Array.of(1.5, -2), { labels: ['x', 'v'], low: [-5, -Infinity], high: 5, title: 't' })).toEqual({
      kind: 'values',
      values: [1.5, -2],
      labels: ['x', 'v'],
      low: [-5, null],
      high: [5, 5],
      title: 't',
    });
    expect(valuesFrame([NaN, Infinity, 0])).toEqual({ kind: 'values', values: [null, null, 0] });
  });

  it('refuses mismatched lengths, too many values and non-numbers, naming them', () => {
    expect(() => valuesFrame([1, 2], { labels: ['a'] })).toThrow('valuesFrame: labels has 1 entries for 2 values');
    expect(() => valuesFrame([1, 2], { low: [0, 0, 0] })).toThrow('valuesFrame: low has 3 entries for 2 values');
    expect(() => valuesFrame(new Float64Array(VALUES_FRAME_MAX + 1))).toThrow(`valuesFrame: at most ${VALUES_FRAME_MAX} values, got ${VALUES_FRAME_MAX + 1}`);
    expect(() => valuesFrame([1, '2' as unknown as number])).toThrow('valuesFrame: values[1] must be a number, got string');
    expect(() => valuesFrame([1], { high: [null as unknown as number] })).toThrow('valuesFrame: high[0] must be a number, got null');
  });
});

describe('the protocol', () => {
  const step = (frame: unknown) => ({ runId: 'r', events: [{ type: 'step', step: 1, episode: 1, episodeStep: 1, action: 0, reward: 0, episodeReturn: 0, terminated: false, truncated: false, t: 1, frame }] });

  it('accepts text and values frames in published step events, and still refuses unknown kinds', () => {
    expect(validate('publisher:events', step({ kind: 'text', text: 'A..G' })).ok).toBe(true);
    expect(validate('publisher:events', step(valuesFrame([1, 2], { labels: ['a', 'b'] }))).ok).toBe(true);
    const bad = validate('publisher:events', step({ kind: 'hologram' }));
    expect(bad.ok).toBe(false);
    expect(bad.ok ? '' : bad.error).toContain('"values"');
  });

  it('refuses text and values frames beyond their bounds or of the wrong shape, naming the field', () => {
    const refused = (frame: unknown) => {
      const r = validate('publisher:events', step(frame));
      return r.ok ? 'accepted' : r.error;
    };
    expect(refused({ kind: 'text', text: 'x'.repeat(TEXT_FRAME_MAX_CHARS + 101) })).toMatch(/events\[0\]\.frame\.text: expected at most \d+ characters/);
    expect(refused({ kind: 'text' })).toMatch(/frame\.text: expected a string, got nothing/);
    expect(refused({ kind: 'values', values: [1, 'two'] })).toMatch(/frame\.values\[1\]: expected a number or null/);
    expect(refused({ kind: 'values', values: [1, 2], labels: ['a'] })).toMatch(/frame\.labels: expected 2 entries \(one per value\), got 1/);
    expect(refused({ kind: 'values', values: [1], high: [1, 2] })).toMatch(/frame\.high: expected 1 entries/);
    expect(refused({ kind: 'values', values: [1], colour: 'red' })).toMatch(/frame\.colour: unknown field/);
    expect(refused({ kind: 'values', values: new Array(VALUES_FRAME_MAX + 1).fill(0) })).toMatch(/expected at most 256 items|too large/);
    // What valuesFrame and toRenderFrame make is accepted.
    expect(refused(valuesFrame([1, Infinity], { labels: ['a', 'b'], low: 0, high: [2, Infinity], title: 't' }))).toBe('accepted');
    expect(refused(toRenderFrame('y'.repeat(TEXT_FRAME_MAX_CHARS + 5000)))).toBe('accepted');
  });
});

describe('values geometry (viewer)', () => {
  const frame = (values: (number | null)[], extra: Partial<ValuesFrame> = {}): ValuesFrame => ({ kind: 'values', values, ...extra });

  it('maps each bar onto [low, high] when both are finite, clamping and marking values outside', () => {
    const g = valuesGeometry(frame([5, -1, 20, null], { low: [0, 0, 0, 0], high: [10, 10, 10, 10] }), 600, 400, []);
    const [a, b, c, d] = g.bars;
    const span = a!.x1 - a!.x0;
    expect(a!.valueX - a!.x0).toBeCloseTo(span / 2, 6);
    expect(a!.zeroX).toBe(a!.x0);
    expect(a!.outside).toBe(false);
    expect(b!.valueX).toBe(b!.x0);
    expect(b!.outside).toBe(true);
    expect(c!.valueX).toBe(c!.x1);
    expect(c!.outside).toBe(true);
    expect(d!.valueX).toBe(d!.zeroX);
    // Rows go down the stage in order, inside it.
    expect(g.bars.every((bar, i) => i === 0 || bar.y > g.bars[i - 1]!.y)).toBe(true);
    expect(d!.y).toBeLessThan(400);
  });

  it('scales unbounded bars by the largest |value| shown, symmetric unless a bound says otherwise', () => {
    expect(barScale(frame([3]), 0, 8)).toEqual({ scale: [-8, 8], bounded: false });
    expect(barScale(frame([3]), 0, 0)).toEqual({ scale: [-1, 1], bounded: false });
    expect(barScale(frame([3], { low: [0] }), 0, 8)).toEqual({ scale: [0, 8], bounded: false });
    expect(barScale(frame([-3], { high: [0] }), 0, 8)).toEqual({ scale: [-8, 0], bounded: false });
    const g = valuesGeometry(frame([4]), 600, 400, [8]);
    const bar = g.bars[0]!;
    expect(bar.zeroX).toBeCloseTo((bar.x0 + bar.x1) / 2, 6);
    expect(bar.valueX).toBeCloseTo(bar.zeroX + (bar.x1 - bar.x0) / 4, 6);
  });

  it('writes each number with 4 significant digits, keeping an integer\'s zeros', () => {
    expect([0, 1500, 20, 19.68, -4.9481, 0.5, 0.0001234, 123456, -2e9, null].map(valueText)).toEqual(['0', '1500', '20', '19.68', '-4.948', '0.5', '1.23e-4', '1.23e+5', '-2.00e+9', '—']);
  });

  it(`draws at most ${MAX_BARS} bars and counts the rest`, () => {
    const g = valuesGeometry(frame(Array.from({ length: MAX_BARS + 7 }, (_, i) => i)), 800, 600, []);
    expect(g.bars).toHaveLength(MAX_BARS);
    expect(g.hidden).toBe(7);
  });
});

describe('step events of plug-in envs', () => {
  async function liveSteps(envId: string, agent: string, runId: string, envKwargs: Record<string, unknown> = {}): Promise<StepEvent[]> {
    const steps: StepEvent[] = [];
    await startTraining({ envId, agent, seed: 1, steps: 300, evalEvery: 0, out: tmp, runId, backend: 'cpu', envKwargs, sinks: [{ wantsSteps: true, handle: (e: TrainEvent) => void (e.type === 'step' && steps.push(e)) }] });
    return steps;
  }

  it('a string render() streams text frames that follow the env (the agent walks the corridor)', async () => {
    // A short corridor without slips: random steps reach the goal many times in 300 steps.
    const steps = await liveSteps(`${path.join(ROOT, 'test', 'fixtures', 'text_corridor_env.ts')}:TextCorridor-v0`, 'dqn', 'text', { length: 4, slip: 0 });
    expect(steps.length).toBeGreaterThan(0);
    for (const e of steps) {
      expect(e.frame).toMatchObject({ kind: 'text' });
      const row = (e.frame as { text: string }).text.split('\n')[1]!;
      expect(row).toMatch(/^[.AG]{4}$/);
      // At the end of an episode the agent stands on the goal (the final state, not the autoreset one).
      if (e.terminated) expect(row).toBe('...A');
    }
    expect(steps.some((e) => e.terminated)).toBe(true);
  }, 60_000);

  it('a values render() streams values frames whose numbers are the env state', async () => {
    const thermostat = path.join(ROOT, 'examples', 'thermostat_env.ts');
    // Imported as a plug-in first (so the lab sees it register Thermostat-v0), then its exports from the same module.
    await importEnvModule(thermostat);
    const { outsideTemperature } = (await import(pathToFileURL(thermostat).href)) as typeof import('../examples/thermostat_env.js');
    const steps = await liveSteps(`${thermostat}:Thermostat-v0`, 'a2c', 'values');
    expect(steps.length).toBeGreaterThan(0);
    for (const e of steps) {
      const f = e.frame as ValuesFrame;
      expect(f.kind).toBe('values');
      expect(f.labels).toEqual(['room °C', 'outside °C', 'heater']);
      // The heater bar is the action just taken (a2c: Discrete(2)).
      expect(f.values[2]).toBe(e.action);
      const [hh, mm] = f.title!.split(' ')[0]!.split(':').map(Number);
      expect(f.values[1]).toBeCloseTo(outsideTemperature(hh! * 6 + mm! / 10), 9);
    }
    expect(validate('publisher:events', { runId: 'values', events: steps.slice(0, 20) }).ok).toBe(true);
  }, 60_000);
});

/**
 * The Experiments page's logic (viewer/src/model/experiments.ts) on the server's real answer for the fixture
 * experiment: the table's sort orders and header clicks, the objective points and best-so-far line, the
 * hyperparameter axes (log for log-uniform: positions and ticks), the default curves, polling, and the route.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExperimentsApi } from '../server/experiments_api.js';
import type { ExperimentDetail, TrialRow } from '../protocol/experiments.js';
import {
  bestSoFar,
  defaultPicks,
  defaultSort,
  formatLogTick,
  formatObjective,
  formatParam,
  isRunOf,
  logTicks,
  nextSort,
  objectivePoints,
  paramAxis,
  progressFraction,
  shouldPoll,
  sortTrials,
  trialsLine,
  type ObjectivePoint,
} from '../viewer/src/model/experiments.js';
import { formatRoute, parseRoute, sectionOf } from '../viewer/src/model/routes.js';

const FIXTURE = fileURLToPath(new URL('./fixtures/experiments/a2c-cartpole-fx', import.meta.url));
let root: string;
let detail: ExperimentDetail;

beforeAll(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'lab-viewer-experiments-'));
  fs.cpSync(FIXTURE, path.join(root, 'sweeps', 'a2c-cartpole-fx'), { recursive: true });
  detail = new ExperimentsApi({ runsDir: root, runs: () => [], now: () => Date.now() + 3_600_000 }).detail('a2c-cartpole-fx');
});

afterAll(() => {
  if (root) fs.rmSync(root, { recursive: true, force: true });
});

const trials = (rows: TrialRow[]) => rows.map((r) => r.trial);

describe('the trial table', () => {
  it('sorts by objective best first, trials without one last in either direction', () => {
    const sort = defaultSort('maximize');
    expect(sort).toEqual({ key: { by: 'objective' }, descending: true });
    const rows = sortTrials(detail.trials, sort);
    const objectives = rows.map((r) => r.objective);
    const scored = objectives.filter((o): o is number => o !== null);
    expect(scored).toEqual([...scored].sort((a, b) => b - a));
    expect(objectives.slice(scored.length)).toEqual([null, null]);
    expect(trials(rows).slice(scored.length)).toEqual([5, 6]);
    const ascending = sortTrials(detail.trials, { key: { by: 'objective' }, descending: false });
    expect(ascending.map((r) => r.objective).slice(0, scored.length)).toEqual([...scored].reverse());
    expect(trials(ascending).slice(scored.length)).toEqual([5, 6]);
  });

  it('sorts by a hyperparameter numerically (ties by trial), by state in the legend\'s order, by trial', () => {
    const byRate = sortTrials(detail.trials, { key: { by: 'param', name: 'learningRate' }, descending: false });
    const rates = byRate.map((r) => r.params.learningRate as number);
    expect(rates).toEqual([...rates].sort((a, b) => a - b));
    const bySteps = sortTrials(detail.trials, { key: { by: 'param', name: 'nSteps' }, descending: true });
    const steps = bySteps.map((r) => r.params.nSteps as number);
    expect(steps).toEqual([...steps].sort((a, b) => b - a));
    const sixteens = bySteps.filter((r) => r.params.nSteps === 16).map((r) => r.trial);
    expect(sixteens).toEqual([...sixteens].sort((a, b) => a - b));
    expect(sortTrials(detail.trials, { key: { by: 'state' }, descending: false }).map((r) => r.state)).toEqual(['done', 'done', 'done', 'done', 'pruned', 'interrupted', 'failed']);
    expect(trials(sortTrials(detail.trials, { key: { by: 'trial' }, descending: true }))).toEqual([6, 5, 4, 3, 2, 1, 0]);
  });

  it('sorts strings after numbers and a missing parameter last', () => {
    const row = (trial: number, x: number | string | undefined): TrialRow => ({ ...detail.trials[0]!, trial, params: x === undefined ? {} : { x } });
    const rows = [row(0, 'relu'), row(1, 3), row(2, undefined), row(3, 'elu'), row(4, 1)];
    expect(trials(sortTrials(rows, { key: { by: 'param', name: 'x' }, descending: false }))).toEqual([4, 1, 3, 0, 2]);
    expect(trials(sortTrials(rows, { key: { by: 'param', name: 'x' }, descending: true }))).toEqual([0, 3, 1, 4, 2]);
  });

  it('a click on the sorted column flips it; another column starts ascending, the objective best first', () => {
    const s0 = defaultSort('maximize');
    const s1 = nextSort(s0, { by: 'objective' }, 'maximize');
    expect(s1.descending).toBe(false);
    expect(nextSort(s1, { by: 'param', name: 'learningRate' }, 'maximize')).toEqual({ key: { by: 'param', name: 'learningRate' }, descending: false });
    const s2 = nextSort({ key: { by: 'param', name: 'learningRate' }, descending: false }, { by: 'param', name: 'nSteps' }, 'maximize');
    expect(s2).toEqual({ key: { by: 'param', name: 'nSteps' }, descending: false });
    expect(nextSort(s2, { by: 'objective' }, 'minimize')).toEqual({ key: { by: 'objective' }, descending: false });
    expect(nextSort(s2, { by: 'objective' }, 'maximize')).toEqual({ key: { by: 'objective' }, descending: true });
  });

  it('formats hyperparameters and objectives', () => {
    expect(formatParam(0.0004664)).toBe('0.0004664');
    expect(formatParam(0.00289)).toBe('0.00289');
    expect(formatParam(0.00001236)).toBe('1.236e-5');
    expect(formatParam(16)).toBe('16');
    expect(formatParam('relu')).toBe('relu');
    expect(formatParam(true)).toBe('true');
    expect(formatParam(undefined)).toBe('—');
    expect(formatObjective({ objective: 188.5, interval: [73, 304] })).toBe('188.5 [73, 304]');
    expect(formatObjective({ objective: null, interval: null })).toBe('—');
    expect(formatObjective({ objective: 6666.667, interval: [5000, 10000] })).toBe('6,667 [5,000, 10,000]');
    expect(trialsLine(detail.summary)).toBe('6 of 8 trials finished · 1 unfinished');
  });
});

describe('the objective per trial', () => {
  it('plots the trials with an objective against their number, and the best so far over done trials only', () => {
    const points = objectivePoints(detail, 'trial');
    expect(points.map((p) => p.trial)).toEqual([0, 1, 2, 3, 4]);
    expect(points.map((p) => p.x)).toEqual([0, 1, 2, 3, 4]);
    const best = bestSoFar(points, 'maximize');
    // A step line: flat until a trial beats the best, then up, and on to the last trial.
    const done = points.filter((p) => p.state === 'done');
    let running = -Infinity;
    const expected: [number, number][] = [];
    for (const p of done) {
      if (p.y <= running) continue;
      if (running > -Infinity) expected.push([p.x, running]);
      expected.push([p.x, p.y]);
      running = p.y;
    }
    if (expected.at(-1)![0] < 4) expected.push([4, running]);
    expect(best.xs.map((x, i) => [x, best.ys[i]])).toEqual(expected);
    expect(best.ys.at(-1)).toBe(detail.summary.best!.objective);
  });

  it('ignores pruned trials for the best so far and follows the direction', () => {
    const p = (trial: number, y: number, state: ObjectivePoint['state'] = 'done'): ObjectivePoint => ({ trial, x: trial, y, state });
    const points = [p(0, 10), p(1, 50, 'pruned'), p(2, 5), p(3, 20), p(4, 1)];
    expect(bestSoFar(points, 'maximize')).toEqual({ xs: [0, 3, 3, 4], ys: [10, 10, 20, 20] });
    expect(bestSoFar(points, 'minimize')).toEqual({ xs: [0, 2, 2, 4, 4], ys: [10, 10, 5, 5, 1] });
    expect(bestSoFar([p(0, 3, 'pruned')], 'maximize')).toEqual({ xs: [], ys: [] });
  });

  it('plots against minutes since the experiment started by end time', () => {
    const points = objectivePoints(detail, 'time');
    const start = Date.parse(detail.summary.createdAt!);
    for (const p of points) expect(p.x).toBeCloseTo((Date.parse(detail.trials[p.trial]!.endedAt!) - start) / 60_000, 9);
    expect(points.map((p) => p.x)).toEqual([...points.map((p) => p.x)].sort((a, b) => a - b));
  });
});

describe('hyperparameter axes', () => {
  it('puts a log-uniform dimension on a log axis: the geometric middle in the middle, ticks at 1-2-5', () => {
    const axis = paramAxis({ loguniform: [0.0003, 0.01] }, [0.001, 0.005]);
    expect(axis.type).toBe('log');
    expect(axis.position(0.0003)).toBeCloseTo(0, 12);
    expect(axis.position(0.01)).toBeCloseTo(1, 12);
    expect(axis.position(Math.sqrt(0.0003 * 0.01))).toBeCloseTo(0.5, 12);
    expect(axis.position(0.001)! - axis.position(0.0003)!).toBeCloseTo(Math.log(0.001 / 0.0003) / Math.log(0.01 / 0.0003), 12);
    expect(axis.ticks.map((t) => t.label)).toEqual(['5e-4', '1e-3', '2e-3', '5e-3', '0.01']);
    // Values outside the searched range widen it.
    expect(paramAxis({ loguniform: [0.001, 0.01] }, [0.0001]).position(0.0001)).toBe(0);
  });

  it('uses decades only when three or more fit, and the linear and category axes otherwise', () => {
    expect(logTicks(1e-5, 1)).toEqual([1e-5, 1e-4, 1e-3, 0.01, 0.1, 1]);
    expect(logTicks(3, 40)).toEqual([5, 10, 20]);
    expect(formatLogTick(0.0003)).toBe('3e-4');
    expect(formatLogTick(2000)).toBe('2k');
    expect(formatLogTick(5e6)).toBe('5M');
    const lin = paramAxis({ uniform: [0, 1] }, [0.25]);
    expect(lin.type).toBe('linear');
    expect(lin.position(0.25)).toBeCloseTo(0.25, 12);
    expect(lin.ticks.map((t) => t.value)).toEqual([0, 0.25, 0.5, 0.75, 1]);
    const intLog = paramAxis({ int: [16, 256], log: true }, [64]);
    expect(intLog.type).toBe('log');
    expect(intLog.position(64)).toBeCloseTo(0.5, 12);
    const cat = paramAxis({ choice: [5, 16] }, [16, 5]);
    expect(cat.type).toBe('category');
    expect([cat.position(5), cat.position(16), cat.position(7)]).toEqual([0.25, 0.75, null]);
    const strings = paramAxis({ choice: ['tanh', 'relu'] }, ['relu', 'elu']);
    expect(strings.ticks.map((t) => t.label)).toEqual(['tanh', 'relu', 'elu']);
  });
});

describe('curves, progress, polling and the route', () => {
  it('draws the best trial\'s curve first and measures the unfinished trial\'s progress', () => {
    expect(defaultPicks(detail)).toEqual([detail.summary.best!.trial]);
    expect(defaultPicks({ ...detail, summary: { ...detail.summary, best: null } })).toEqual([6]);
    const open = detail.trials.at(-1)!;
    expect(progressFraction(open)).toBeCloseTo(open.progress!.step / 12_000, 12);
    expect(progressFraction(detail.trials[0]!)).toBe(0);
  });

  it('polls while the experiment or any listed one runs', () => {
    expect(shouldPoll([{ state: 'ended' }], { summary: { ...detail.summary, state: 'ended' } })).toBe(false);
    expect(shouldPoll([{ state: 'ended' }, { state: 'running' }], null)).toBe(true);
    expect(shouldPoll(null, { summary: { ...detail.summary, state: 'running' } })).toBe(true);
  });

  it('knows the runs of an experiment by their ids', () => {
    expect(isRunOf('a2c-cartpole-fx', 'a2c-cartpole-fx-t0006-s2')).toBe(true);
    expect(isRunOf('a2c-cartpole-fx', 'a2c-cartpole-fx-t12345-s10')).toBe(true);
    expect(isRunOf('a2c-cartpole', 'a2c-cartpole-fx-t0006-s2')).toBe(false);
    expect(isRunOf('a2c-cartpole-fx', 'a2c-cartpole-fx-t06-s2')).toBe(false);
  });

  it('routes #/experiments and #/experiments/<id>', () => {
    expect(parseRoute('#/experiments')).toEqual({ page: 'experiments', id: null });
    expect(parseRoute('#/experiments/a2c-cartpole-fx')).toEqual({ page: 'experiments', id: 'a2c-cartpole-fx' });
    expect(formatRoute({ page: 'experiments', id: 'a b' })).toBe('#/experiments/a%20b');
    expect(parseRoute(formatRoute({ page: 'experiments', id: 'a b' }))).toEqual({ page: 'experiments', id: 'a b' });
    expect(formatRoute({ page: 'experiments', id: null })).toBe('#/experiments');
    expect(sectionOf('experiments')).toBe('experiments');
  });
});

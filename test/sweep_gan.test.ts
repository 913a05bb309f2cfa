/**
 * GAN sweeps get their objective from the final generator's evaluation (gan/evaluate.ts): a tiny GAN job whose
 * objective is fd, kid, fdRatio or classified is evaluated once it ends done, its eval.json holds the value the job
 * reports at the final iteration, a re-run or resumed job reuses that evaluation (never twice for one checkpoint),
 * a stale or differently-sized one is replaced, and `lab sweep` records the evaluation's numbers in trials.jsonl.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { EXPERIMENTS_API, type ExperimentDetail, type GanRunTemplate, type RunJob, type TrialRecord } from '../protocol/experiments.js';
import { LAB_VERSION } from '../lab/version.js';
import { readRunMetrics } from '../lab/run_files.js';
import { RunStore } from '../lab/run_store.js';
import { tf } from '../lab/compute.js';
import { executeRunJob } from '../sweep/run_job.js';
import { readRunCurve } from '../sweep/objective.js';
import { readTrialRecords } from '../sweep/experiment_files.js';
import type { GanEvalReport } from '../gan/evaluate.js';
import { startLabServer } from '../server/app.js';

const SLOW = 180_000;
const LAB = fileURLToPath(new URL('../bin/lab.mjs', import.meta.url));
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lab-sweep-gan-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** A tiny GAN run: 4 iterations of batch 4 on the first 32 apples, evaluated on 40 generated and 40 real images. */
function gan(overrides: Partial<GanRunTemplate> = {}): GanRunTemplate {
  return { kind: 'gan', category: 'apple', preset: 'tiny', iterations: 4, limit: 32, evalSamples: 40, set: { batch: 4, sampleEvery: 0, logEvery: 2 }, ...overrides };
}

function job(runId: string, overrides: Partial<RunJob> = {}): RunJob {
  return {
    experimentId: 'gan-objective-test',
    labVersion: LAB_VERSION,
    trial: 0,
    seed: 2,
    runId,
    run: gan(),
    params: { 'generatorOptimizer.learningRate': 0.0005 },
    objective: { metric: 'fd', reduce: 'mean-last', direction: 'minimize' },
    prune: null,
    ...overrides,
  };
}

const readEval = (runDir: string): GanEvalReport => JSON.parse(fs.readFileSync(path.join(runDir, 'eval.json'), 'utf8')) as GanEvalReport;

describe('a GAN job whose objective is an evaluation metric', () => {
  const runsDir = path.join(tmp, 'runs');
  const runDir = path.join(runsDir, 'fd');

  it('is evaluated when it ends done: its value is eval.json\'s, at the final iteration', async () => {
    const r = await executeRunJob(job('fd'), runsDir);
    expect(r.state).toBe('done');
    const report = readEval(runDir);
    expect(report.checkpoint).toEqual({ at: 4, dir: RunStore.open(runDir, 'gan').latestCheckpoint()!.dir });
    expect(report.request).toEqual({ n: 40, real: 40, seed: 1, kidSubsets: null, kidSubsetSize: null });
    expect(report.generated).toBe(40);
    expect(report.real).toBe(40);
    expect(report.category).toBe('apple');
    expect(typeof r.value).toBe('number');
    expect(r.value).toBeGreaterThan(0);
    expect(r.value).toBe(report.fd.generatedVsReal.value);
    expect(r.curve).toEqual([{ step: 4, value: report.fd.generatedVsReal.value }]);
    // What the lab server and `lab sweep show` read from the directory is the same curve.
    expect(readRunCurve('gan', runDir, 'fd')).toEqual(r.curve);
    // Four iterations of a tiny GAN draw no apples: far from the real images, and their own baseline far below.
    expect(report.fd.ratio).toBeGreaterThan(3);
  }, SLOW);

  it('a re-run of the job, or another evaluation metric of the same run, reuses eval.json (no second evaluation)', async () => {
    const before = fs.readFileSync(path.join(runDir, 'eval.json'), 'utf8');
    const metricsSize = fs.statSync(path.join(runDir, 'metrics.jsonl')).size;
    const again = await executeRunJob(job('fd'), runsDir);
    expect(again.state).toBe('done');
    expect(again.value).toBe(readEval(runDir).fd.generatedVsReal.value);
    for (const [metric, pick] of [
      ['kid', (e: GanEvalReport) => e.kid.generatedVsReal.mean],
      ['fdRatio', (e: GanEvalReport) => e.fd.ratio],
      ['classified', (e: GanEvalReport) => e.classes.generatedTarget],
    ] as const) {
      const direction = metric === 'classified' ? 'maximize' : 'minimize';
      const r = await executeRunJob(job('fd', { objective: { metric, reduce: 'iqm-last', direction } }), runsDir);
      expect(r).toMatchObject({ state: 'done', value: pick(readEval(runDir)), curve: [{ step: 4, value: pick(readEval(runDir)) }] });
    }
    // Neither trained nor evaluated again: the same bytes (createdAt included), the same metrics.
    expect(fs.readFileSync(path.join(runDir, 'eval.json'), 'utf8')).toBe(before);
    expect(fs.statSync(path.join(runDir, 'metrics.jsonl')).size).toBe(metricsSize);
  }, SLOW);

  it('an evaluation of another size, or of another checkpoint, is replaced; a lost one is made again without training', async () => {
    const first = readEval(runDir);
    const bigger = await executeRunJob(job('fd', { run: gan({ evalSamples: 60 }) }), runsDir);
    const second = readEval(runDir);
    expect(second.generated).toBe(60);
    expect(second.createdAt).not.toBe(first.createdAt);
    expect(bigger.value).toBe(second.fd.generatedVsReal.value);
    expect(bigger.value).not.toBe(first.fd.generatedVsReal.value);

    // A report of an earlier checkpoint (a run trained on since) is stale: the curve ignores it, the job replaces it.
    fs.writeFileSync(path.join(runDir, 'eval.json'), JSON.stringify({ ...first, checkpoint: { at: 2, dir: 'iter-00000002' } }));
    expect(readRunCurve('gan', runDir, 'fd')).toEqual([]);
    const metricsSize = fs.statSync(path.join(runDir, 'metrics.jsonl')).size;
    const redone = await executeRunJob(job('fd'), runsDir);
    expect(readEval(runDir).checkpoint!.at).toBe(4);
    // Evaluation is deterministic: the same number as the first time.
    expect(redone.value).toBe(first.fd.generatedVsReal.value);

    // A run killed between its last checkpoint and its evaluation: evaluated on the next run of its job, not retrained.
    fs.rmSync(path.join(runDir, 'eval.json'));
    const resumed = await executeRunJob(job('fd'), runsDir);
    expect(resumed.value).toBe(first.fd.generatedVsReal.value);
    expect(fs.statSync(path.join(runDir, 'metrics.jsonl')).size).toBe(metricsSize);
  }, SLOW);

  it('a training metric is not evaluated; a failing evaluation fails the run with one line; no tensors are left behind', async () => {
    const loss = await executeRunJob(job('loss', { objective: { metric: 'gLoss', reduce: 'mean-last', direction: 'minimize' } }), runsDir);
    expect(loss.state).toBe('done');
    expect(fs.existsSync(path.join(runsDir, 'loss', 'eval.json'))).toBe(false);
    expect(loss.curve.map((p) => p.step)).toEqual([2, 4]);

    const before = tf.memory().numTensors;
    const again = await executeRunJob(job('fd-again'), runsDir);
    expect(again.value).toBe(readEval(path.join(runsDir, 'fd-again')).fd.generatedVsReal.value);
    expect(tf.memory().numTensors).toBe(before);

    // A category with no data offline: the run itself fails before training, as any GAN run would.
    const noData = await executeRunJob(job('no-data', { run: gan({ category: 'the great wave' }) }), runsDir);
    expect(noData.state).toBe('failed');
    expect(noData.error!.split('\n')).toHaveLength(1);

    // The generator is gone after training: the evaluation's failure is the run's, named as such.
    fs.rmSync(path.join(runsDir, 'fd-again', 'eval.json'));
    fs.writeFileSync(path.join(runsDir, 'fd-again', 'generator', 'model.json'), '{ not json');
    const broken = await executeRunJob(job('fd-again'), runsDir);
    expect(broken).toMatchObject({ state: 'failed', value: null });
    expect(broken.error).toMatch(/^the evaluation of the final generator \(for objective fd\) failed: /);
    expect(broken.error!.split('\n')).toHaveLength(1);
  }, SLOW);
});

describe('lab sweep with a GAN spec', () => {
  it('records each trial\'s fd from its runs\' eval.json; the Experiments API shows it as the trials\' curves', async () => {
    const spec = path.join(tmp, 'gan-fd.yml');
    fs.writeFileSync(
      spec,
      'name: gan-fd\n' +
        'run: { kind: gan, category: apple, preset: tiny, iterations: 4, limit: 32, evalSamples: 40, set: { batch: 4, sampleEvery: 0 } }\n' +
        'seeds: [1, 2]\n' +
        'search:\n  generatorOptimizer.learningRate: { loguniform: [0.0001, 0.001] }\n' +
        'trials: 2\nobjective: { metric: fd, reduce: mean-last }\n',
    );
    const out = path.join(tmp, 'sweeps');
    const run = spawnSync(process.execPath, [LAB, 'sweep', spec, '--workers', '1', '--out', out], { encoding: 'utf8', timeout: 150_000 });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const [expDir] = fs.readdirSync(out);
    const records: TrialRecord[] = readTrialRecords(path.join(out, expDir!));
    expect(records.map((r) => [r.trial, r.state])).toEqual([
      [0, 'done'],
      [1, 'done'],
    ]);
    for (const record of records) {
      const fds = record.seeds.map((s) => readEval(path.join(out, expDir!, 'runs', s.runId)).fd.generatedVsReal.value);
      expect(record.seeds.map((s) => s.value)).toEqual(fds);
      expect(record.objective).toBeCloseTo((fds[0]! + fds[1]!) / 2, 10);
      expect(record.curve).toEqual([{ step: 4, value: record.objective }]);
      expect(readRunMetrics(path.join(out, expDir!, 'runs', record.seeds[0]!.runId)).length).toBeGreaterThan(0);
    }
    expect(run.stdout).toMatch(/best: trial [01], generatorOptimizer\.learningRate=/);

    const server = await startLabServer({ port: 0, runsDir: out, runtimeFile: false, log: () => {} });
    try {
      const response = await fetch(`${server.url}${EXPERIMENTS_API.detail(expDir!)}`, { headers: { authorization: `Bearer ${server.token}` } });
      expect(response.status).toBe(200);
      const detail = (await response.json()) as ExperimentDetail;
      expect(detail.trials.map((t) => t.objective)).toEqual(records.map((r) => r.objective));
      for (const [i, row] of detail.trials.entries()) {
        expect(row.curve!.runs).toBe(2);
        expect(row.curve!.points.map((p) => p.step)).toEqual([4]);
        expect(row.curve!.points[0]!.mean).toBeCloseTo(records[i]!.objective!, 10);
      }
    } finally {
      await server.close();
    }
  }, SLOW);
});

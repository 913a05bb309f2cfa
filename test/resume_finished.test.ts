/** `lab train --resume` of a run already at its budget: says so and changes nothing, unless --steps raises it. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { resumeTraining } from '../agents/train.js';

const LAB = fileURLToPath(new URL('../bin/lab.mjs', import.meta.url));
const FIXTURE = fileURLToPath(new URL('./fixtures/runs/rl-dqn-cartpole', import.meta.url));
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lab-resume-finished-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** Every file of a directory with its bytes, for "nothing changed". */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) {
      const p = path.join(e.parentPath, e.name);
      out[path.relative(dir, p)] = fs.readFileSync(p).toString('base64');
    }
  }
  return out;
}

describe('resuming a finished run', () => {
  it('resumeTraining: alreadyDone, nothing written (no second final eval line); a raised --steps trains on', async () => {
    const run = path.join(tmp, 'api');
    fs.cpSync(FIXTURE, run, { recursive: true });
    const before = snapshot(run);
    const out = await resumeTraining(run, { backend: 'cpu' });
    expect(out.alreadyDone).toBe(true);
    expect(out.result).toMatchObject({ steps: 300, stopped: false, lastEval: { meanReturn: expect.any(Number) } });
    expect(snapshot(run)).toEqual(before);
    // A budget at or below the checkpoint: also nothing to do.
    expect((await resumeTraining(run, { backend: 'cpu', steps: 200 })).alreadyDone).toBe(true);
    expect(snapshot(run)).toEqual(before);
    const more = await resumeTraining(run, { backend: 'cpu', steps: 450 });
    expect(more.alreadyDone).toBeUndefined();
    expect(more.result.steps).toBe(450);
    const evals = fs.readFileSync(path.join(run, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { type: string; step: number }).filter((e) => e.type === 'eval');
    expect(evals.filter((e) => e.step === 300)).toHaveLength(1);
  }, 60_000);

  it('a finished run without policy/ (killed between the final checkpoint and the policy): resume writes the policy and nothing else', async () => {
    const run = path.join(tmp, 'no-policy');
    fs.cpSync(FIXTURE, run, { recursive: true });
    fs.rmSync(path.join(run, 'policy'), { recursive: true });
    const before = snapshot(run);
    const out = await resumeTraining(run, { backend: 'cpu' });
    expect(out.alreadyDone).toBe(true);
    expect(out.policyWritten).toBe(true);
    expect(out.result).toMatchObject({ steps: 300, stopped: false });
    const after = snapshot(run);
    // Everything that was there is unchanged (no metrics cut, no second evaluation, no new checkpoint) ...
    for (const [file, bytes] of Object.entries(before)) expect(after[file], file).toBe(bytes);
    // ... and policy/ holds the final checkpoint's weights: those of the policy the uninterrupted run wrote.
    const added = Object.keys(after).filter((f) => !(f in before)).sort();
    expect(added).toEqual(['policy/lab.json', 'policy/model.json', 'policy/weights.bin'].sort());
    expect(fs.readFileSync(path.join(run, 'policy', 'weights.bin'))).toEqual(fs.readFileSync(path.join(FIXTURE, 'policy', 'weights.bin')));
    const labJson = JSON.parse(fs.readFileSync(path.join(run, 'policy', 'lab.json'), 'utf8')) as { policy: { envId: string; step: number } };
    expect(labJson.policy).toMatchObject({ envId: 'CartPole-v1', step: 300 });
    // Now it has its policy: a second resume changes nothing.
    const again = await resumeTraining(run, { backend: 'cpu' });
    expect(again.policyWritten).toBeUndefined();
    expect(snapshot(run)).toEqual(after);
  }, 60_000);

  it('lab train --resume says the run is at its budget and how to train further', () => {
    const run = path.join(tmp, 'cli');
    fs.cpSync(FIXTURE, run, { recursive: true });
    const before = snapshot(run);
    const r = spawnSync(process.execPath, [LAB, 'train', '--resume', run, '--backend', 'cpu'], { encoding: 'utf8', timeout: 60_000 });
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(`${run} is already at its budget (300 of 300 steps): nothing trained, nothing changed`);
    expect(r.stdout).toContain(`npx lab train --resume ${run} --steps <more than 300>`);
    expect(snapshot(run)).toEqual(before);
  }, 60_000);
});

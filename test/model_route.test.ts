/**
 * `GET /api/runs/<runId>/models/<model>/<file>` (server/model_files.ts): a run's networks served byte for byte
 * (an RL run's policy/ and best_policy/, the shipped GAN run's generator/, a stopped GAN run's generator-ema/
 * from its latest checkpoint), names outside the lists refused with 400, what a run lacks answered 404, and
 * no way out of the run: `..` in any spelling, a symlinked file, a symlinked run. The key rule of the other
 * /api routes holds (a server reachable from other machines answers 401 without its key).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLabServer, type LabServer } from '../server/app.js';
import { startTraining } from '../agents/train.js';
import { API } from '../protocol/protocol.js';
import { rawGet } from './raw_http.js';

const SAMPLE_RUN = path.resolve('data/sample-runs/gan-apple-fast-s1');
const SECRET = 'TOP-SECRET-OUTSIDE-THE-RUN';

let server: LabServer;
let root: string;
let runsDir: string;

beforeAll(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'lab-model-route-'));
  runsDir = path.join(root, 'runs');
  await startTraining({ agent: 'dqn', envId: 'CartPole-v1', seed: 3, steps: 300, evalEvery: 150, evalEpisodes: 2, checkpointEvery: 150, out: runsDir, runId: 'rl', backend: 'cpu', overrides: { hidden: [8], bufferSize: 400, learningStarts: 50 } });
  // A PPO-style statistics file beside the policy: served like the others.
  fs.writeFileSync(path.join(runsDir, 'rl', 'policy', 'obs_normalization.json'), '{"mean":[0,0,0,0],"var":[1,1,1,1]}\n');
  fs.cpSync(SAMPLE_RUN, path.join(runsDir, 'gan'), { recursive: true });
  // A GAN run stopped before its end: no final generator/, the weight average only in its latest checkpoint.
  const stopped = path.join(runsDir, 'gan-stopped');
  fs.cpSync(SAMPLE_RUN, stopped, { recursive: true });
  fs.mkdirSync(path.join(stopped, 'checkpoints', 'iter-00001200'), { recursive: true });
  fs.renameSync(path.join(stopped, 'generator'), path.join(stopped, 'checkpoints', 'iter-00001200', 'generator-ema'));
  fs.writeFileSync(path.join(stopped, 'checkpoints', 'latest.json'), JSON.stringify({ unit: 'iterations', at: 1200, dir: 'iter-00001200' }));
  // Ways out: a model file that is a symlink to a secret, and a run directory that is a symlink.
  const outside = path.join(root, 'outside');
  fs.mkdirSync(outside);
  fs.writeFileSync(path.join(outside, 'secret.json'), JSON.stringify({ SECRET }));
  fs.cpSync(path.join(runsDir, 'rl'), path.join(outside, 'stolen'), { recursive: true });
  fs.writeFileSync(path.join(outside, 'stolen', 'policy', 'lab.json'), JSON.stringify({ SECRET }));
  fs.rmSync(path.join(runsDir, 'rl', 'best_policy', 'lab.json'));
  fs.symlinkSync(path.join(outside, 'secret.json'), path.join(runsDir, 'rl', 'best_policy', 'lab.json'));
  fs.symlinkSync(path.join(outside, 'stolen'), path.join(runsDir, 'evil'));
  server = await startLabServer({ port: 0, runsDir, runtimeFile: false });
}, 120_000);

afterAll(async () => {
  await server?.close();
  fs.rmSync(root, { recursive: true, force: true });
});

async function get(p: string, headers: Record<string, string> = {}): Promise<{ status: number; type: string; body: Buffer }> {
  const res = await fetch(server.url + p, { headers });
  return { status: res.status, type: res.headers.get('content-type') ?? '', body: Buffer.from(await res.arrayBuffer()) };
}

describe('model files route', () => {
  it('lists the networks each run holds, so pages ask only for files that exist', async () => {
    const list = async (runId: string) => JSON.parse((await get(API.models(runId))).body.toString()) as { models: string[]; files: Record<string, string[]> };
    // With each model's files: policy/ has obs_normalization.json (as PPO's), best_policy/'s lab.json is a link
    // out of the run, which is not served, so not listed either.
    expect(await list('rl')).toEqual({
      models: ['policy', 'best_policy'],
      files: { policy: ['model.json', 'weights.bin', 'lab.json', 'obs_normalization.json'], best_policy: ['model.json', 'weights.bin'] },
    });
    expect(await list('gan')).toEqual({ models: ['generator'], files: { generator: ['model.json', 'weights.bin', 'lab.json'] } });
    expect((await list('gan-stopped')).models).toEqual(['generator', 'generator-ema']);
    fs.rmSync(path.join(runsDir, 'rl-no-best'), { recursive: true, force: true });
    fs.cpSync(path.join(runsDir, 'rl', 'policy'), path.join(runsDir, 'rl-no-best', 'policy'), { recursive: true });
    fs.cpSync(path.join(runsDir, 'rl', 'config.json'), path.join(runsDir, 'rl-no-best', 'config.json'));
    // A run stopped before its first evaluation has no best policy: the list says so (no request would 404).
    expect((await list('rl-no-best')).models).toEqual(['policy']);
    expect((await get(API.models('no-such-run'))).status).toBe(404);
  });
  it('serves the files of a run\'s networks byte for byte', async () => {
    const cases: [string, 'policy' | 'best_policy' | 'generator' | 'generator-ema', string][] = [
      ['rl', 'policy', 'rl/policy'],
      ['rl', 'best_policy', 'rl/best_policy'],
      ['gan', 'generator', 'gan/generator'],
      ['gan-stopped', 'generator-ema', 'gan-stopped/checkpoints/iter-00001200/generator-ema'],
      // What lab gan eval and loadGenerator use for a stopped run: the checkpoint's weight average.
      ['gan-stopped', 'generator', 'gan-stopped/checkpoints/iter-00001200/generator-ema'],
    ];
    for (const [runId, model, dir] of cases) {
      for (const file of ['model.json', 'weights.bin'] as const) {
        const res = await get(API.modelFile(runId, model, file));
        expect(res.status, `${runId} ${model} ${file}`).toBe(200);
        expect(res.type).toMatch(file === 'weights.bin' ? /^application\/octet-stream/ : /^application\/json/);
        expect(res.body.equals(fs.readFileSync(path.join(runsDir, dir, file))), `${runId} ${model} ${file}`).toBe(true);
      }
    }
    const meta = await get(API.modelFile('gan', 'generator', 'lab.json'));
    expect(meta.body.equals(fs.readFileSync(path.join(runsDir, 'gan', 'generator', 'lab.json')))).toBe(true);
    expect(JSON.parse(meta.body.toString())).toMatchObject({ role: 'generator', latentDim: 64, latentDistribution: 'normal', pixelRange: '-1,1' });
    const norm = await get(API.modelFile('rl', 'policy', 'obs_normalization.json'));
    expect(norm.status).toBe(200);
    expect(norm.body.toString()).toBe('{"mean":[0,0,0,0],"var":[1,1,1,1]}\n');
    // The manifest names the weights file relative to model.json, as tf.loadLayersModel resolves it.
    const manifest = JSON.parse((await get(API.modelFile('rl', 'policy', 'model.json'))).body.toString()) as { weightsManifest: { paths: string[] }[] };
    expect(manifest.weightsManifest[0]!.paths).toEqual(['weights.bin']);
  });

  it('answers 404 for what a run does not hold', async () => {
    const missing: [string, Parameters<typeof API.modelFile>[1], Parameters<typeof API.modelFile>[2]][] = [
      ['rl', 'best_policy', 'obs_normalization.json'],
      ['rl', 'generator', 'model.json'],
      ['gan', 'policy', 'model.json'],
      // The shipped run has no checkpoints: its generator/ is already the weight average.
      ['gan', 'generator-ema', 'model.json'],
      ['no-such-run', 'policy', 'model.json'],
    ];
    for (const [runId, model, file] of missing) {
      const res = await get(API.modelFile(runId, model, file));
      expect(res.status, `${runId} ${model} ${file}`).toBe(404);
      expect(JSON.parse(res.body.toString()).error).toMatch(/no /);
    }
  });

  it('refuses names outside the lists with 400 and a short JSON error', async () => {
    for (const [p, pattern] of [
      ['/api/runs/rl/models/discriminator/model.json', /unknown model "discriminator": one of policy, best_policy, generator, generator-ema/],
      ['/api/runs/rl/models/policy/config.json', /unknown model file "config.json"/],
      ['/api/runs/gan/models/generator/lab-weights.bin', /unknown model file/],
      ['/api/runs/rl/models/policy/..%2F..%2Fconfig.json', /unknown model file/],
      ['/api/runs/rl/models/..%2Fpolicy/model.json', /unknown model/],
    ] as const) {
      const res = await get(p);
      expect(res.status, p).toBe(400);
      expect(JSON.parse(res.body.toString()).error, p).toMatch(pattern);
    }
  });

  it('never reads outside the run: dot segments, symlinked files and runs', async () => {
    for (const p of [
      '/api/runs/rl/models/policy/../../../../outside/secret.json',
      '/api/runs/rl/models/%2e%2e/%2e%2e/config.json',
      '/api/runs/..%2Foutside/models/policy/model.json',
      '/api/runs/evil/models/policy/lab.json',
      '/api/runs/rl/models/best_policy/lab.json',
    ]) {
      const res = await rawGet(server.port, p);
      expect([400, 404], p).toContain(res.status);
      expect(res.text, p).not.toContain(SECRET);
    }
  });

  it('needs the key where the other /api routes do', async () => {
    const open = await startLabServer({ host: '0.0.0.0', port: 0, runsDir, runtimeFile: false });
    try {
      const url = `http://127.0.0.1:${open.port}${API.modelFile('rl', 'policy', 'weights.bin')}`;
      expect((await fetch(url)).status).toBe(401);
      const withKey = await fetch(url, { headers: { authorization: `token ${open.token}` } });
      expect(withKey.status).toBe(200);
      expect(Buffer.from(await withKey.arrayBuffer()).equals(fs.readFileSync(path.join(runsDir, 'rl', 'policy', 'weights.bin')))).toBe(true);
    } finally {
      await open.close();
    }
  });
});

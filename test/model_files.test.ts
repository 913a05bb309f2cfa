/**
 * Model files in tfjs's Layers format (lab/layers_model.ts): agents' saved policies and the GAN's networks open
 * with tf.loadLayersModel (through a minimal IOHandler written here, independent of the lab's reader) and compute
 * what the lab computes; model.json follows tfjs's ModelJSON / Keras layer-config schema; files in the lab's
 * earlier formats (test/fixtures/runs) still load and act as before.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { initCompute, tf } from '../lab/compute.js';
import { Network } from '../lab/network.js';
import { agentEntry, resolveAgentConfig } from '../agents/registry.js';
import { loadGreedyPolicy } from '../agents/policy_loader.js';
import { startTraining } from '../agents/train.js';
import { make, Rng } from '../envs/index.js';
import { GanNet, GAN_PRESETS } from '../gan/models.js';

const FIXTURES = path.join(import.meta.dirname, 'fixtures', 'runs');

/** tf.loadLayersModel from a directory: model.json's topology and manifest, the weight files concatenated. */
async function loadWithTfjs(dir: string): Promise<tf.LayersModel> {
  const json = JSON.parse(fs.readFileSync(path.join(dir, 'model.json'), 'utf8'));
  const specs = json.weightsManifest.flatMap((g: { weights: unknown[] }) => g.weights);
  const data = Buffer.concat(json.weightsManifest.flatMap((g: { paths: string[] }) => g.paths.map((p) => fs.readFileSync(path.join(dir, p)))));
  return tf.loadLayersModel(tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs: specs, weightData: new Uint8Array(data).buffer }));
}

function tmpDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'model-files-'));
}

beforeAll(async () => {
  await initCompute('cpu');
});

describe("a run's policy files", () => {
  it('lab.json says what the policy acts on: env, spaces, agent, preset and step, for policy/ and best_policy/', async () => {
    const out = tmpDir();
    await startTraining({ agent: 'ppo', envId: 'Pendulum-v1', seed: 3, steps: 2048, evalEvery: 1024, evalEpisodes: 1, out, runId: 'pendulum', backend: 'cpu', overrides: { nSteps: 256, nEpochs: 1 }, replays: { eval: false, train: 'none' } });
    for (const dir of ['policy', 'best_policy']) {
      const meta = JSON.parse(fs.readFileSync(path.join(out, 'pendulum', dir, 'lab.json'), 'utf8'));
      expect(meta.policy).toMatchObject({
        envId: 'Pendulum-v1',
        agent: 'ppo',
        preset: 'pendulum',
        observationSpace: { type: 'Box', shape: [3], dtype: 'float32', low: [-1, -1, -8], high: [1, 1, 8] },
        actionSpace: { type: 'Box', shape: [1], dtype: 'float32', low: [-2], high: [2] },
      });
      expect(meta.spec.inputShape).toEqual([3]);
    }
    expect(JSON.parse(fs.readFileSync(path.join(out, 'pendulum', 'policy', 'lab.json'), 'utf8')).policy.step).toBe(2048);
  }, 60_000);
});

describe('agents save policies tf.loadLayersModel opens', () => {
  for (const agent of ['dqn', 'a2c']) {
    it(`${agent}: the Layers model picks the same actions as the lab's greedy policy`, async () => {
      const env = make('CartPole-v1');
      const hp = resolveAgentConfig(agent, null, { hidden: [16, 8] });
      const a = agentEntry(agent).create({ observationSpace: env.observationSpace, actionSpace: env.actionSpace, numEnvs: 1, totalSteps: 1000, seed: 4 }, hp);
      const dir = tmpDir();
      a.savePolicy(dir);
      a.dispose();

      const json = JSON.parse(fs.readFileSync(path.join(dir, 'model.json'), 'utf8'));
      expect(json.format).toBe('layers-model');
      expect(json.generatedBy).toMatch(/^rl-gan-lab /);
      expect(json.convertedBy).toBeNull();
      expect(json.modelTopology.class_name).toBe('Sequential');
      expect(json.modelTopology.backend).toBe('tensor_flow.js');
      const layers = json.modelTopology.config.layers;
      expect(layers.map((l: { class_name: string }) => l.class_name)).toEqual(['Dense', 'Dense', 'Dense']);
      expect(layers[0].config).toMatchObject({ name: 'dense_0', units: 16, use_bias: true, batch_input_shape: [null, 4], dtype: 'float32', trainable: true });
      expect(layers[0].config.activation).toBe(agent === 'dqn' ? 'relu' : 'tanh');
      expect(layers[2].config).toMatchObject({ units: 2, activation: 'linear' });
      expect(json.weightsManifest).toEqual([
        {
          paths: ['weights.bin'],
          weights: [
            { name: 'dense_0/kernel', shape: [4, 16], dtype: 'float32' },
            { name: 'dense_0/bias', shape: [16], dtype: 'float32' },
            { name: 'dense_1/kernel', shape: [16, 8], dtype: 'float32' },
            { name: 'dense_1/bias', shape: [8], dtype: 'float32' },
            { name: 'dense_2/kernel', shape: [8, 2], dtype: 'float32' },
            { name: 'dense_2/bias', shape: [2], dtype: 'float32' },
          ],
        },
      ]);
      expect(fs.statSync(path.join(dir, 'weights.bin')).size).toBe(4 * (4 * 16 + 16 + 16 * 8 + 8 + 8 * 2 + 2));
      expect(JSON.parse(fs.readFileSync(path.join(dir, 'lab.json'), 'utf8')).spec.inputShape).toEqual([4]);

      const model = await loadWithTfjs(dir);
      const { policy, dispose } = loadGreedyPolicy(dir, 'CartPole-v1');
      // Observations spread over CartPole's region, where the two actions' scores cross.
      const rng = new Rng(9);
      const n = 200;
      const obs = new Float32Array(n * 4);
      for (let i = 0; i < obs.length; i++) obs[i] = rng.uniform(-3, 3);
      const scores = (model.predict(tf.tensor(obs, [n, 4])) as tf.Tensor).arraySync() as number[][];
      const tfjsActions = scores.map((s) => (s[1]! > s[0]! ? 1 : 0));
      const labActions = Array.from(await policy.act(obs, n, false));
      expect(labActions).toEqual(tfjsActions);
      expect(new Set(labActions).size).toBe(2);
      dispose();
      model.dispose();
      env.close();
    });
  }
});

describe('files from before the Layers format', () => {
  it("the old DQN fixture's policy loads and acts as its weights say (a forward pass written out here)", async () => {
    const dir = path.join(FIXTURES, 'rl-dqn-cartpole', 'policy');
    expect(JSON.parse(fs.readFileSync(path.join(dir, 'model.json'), 'utf8')).format).toBe('rl-gan-lab/network@1');
    const raw = fs.readFileSync(path.join(dir, 'weights.bin'));
    const w = new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
    // dense 4→16 ReLU, dense 16→2: kernel [in, out] row-major then bias, in that order.
    const k0 = w.subarray(0, 64);
    const b0 = w.subarray(64, 80);
    const k1 = w.subarray(80, 112);
    const b1 = w.subarray(112, 114);
    expect(w.length).toBe(114);
    const byHand = (o: Float32Array): number => {
      const h = Array.from({ length: 16 }, (_, j) => Math.max(0, b0[j]! + [0, 1, 2, 3].reduce((a, i) => a + o[i]! * k0[i * 16 + j]!, 0)));
      const q = [0, 1].map((a) => b1[a]! + h.reduce((s, v, j) => s + v * k1[j * 2 + a]!, 0));
      return q[1]! > q[0]! ? 1 : 0;
    };
    const { policy, dispose } = loadGreedyPolicy(path.join(FIXTURES, 'rl-dqn-cartpole'));
    const rng = new Rng(2);
    const n = 100;
    const obs = new Float32Array(n * 4);
    for (let i = 0; i < obs.length; i++) obs[i] = rng.uniform(-2, 2);
    const acts = await policy.act(obs, n, false);
    for (let i = 0; i < n; i++) expect(acts[i], `observation ${i}`).toBe(byHand(obs.subarray(i * 4, i * 4 + 4)));
    dispose();
  });

  it('an old network saved again is a Layers model with the same weights', async () => {
    const old = Network.read(path.join(FIXTURES, 'rl-dqn-cartpole', 'policy'));
    const net = new Network(old.spec, old.values);
    const dir = tmpDir();
    net.save(dir, { note: 'resaved' });
    const again = Network.read(dir);
    expect(again.spec).toEqual(old.spec);
    expect(again.values).toEqual(old.values);
    expect(again.meta).toEqual({ note: 'resaved' });
    const model = await loadWithTfjs(dir);
    const x = tf.tensor([[0.1, -0.2, 0.03, 0.4]]);
    expect(Array.from((model.predict(x) as tf.Tensor).dataSync())).toEqual(Array.from(net.apply(x).dataSync()));
    net.dispose();
  });

  it("the old GAN fixture's generator and discriminator load, and saved again open in tfjs with the same outputs", async () => {
    for (const role of ['generator', 'discriminator']) {
      const dir = path.join(FIXTURES, 'gan-tiny', role);
      expect(JSON.parse(fs.readFileSync(path.join(dir, 'model.json'), 'utf8')).format).toBe('rl-gan-lab/gan-net@1');
      const old = GanNet.read(dir);
      const net = new GanNet(old.spec, old.values);
      const out = tmpDir();
      await net.save(out, old.meta);
      const again = GanNet.read(out);
      expect(again.meta).toEqual(old.meta);
      expect(again.values).toEqual(old.values);
      const model = await loadWithTfjs(out);
      const x = tf.randomNormal([3, ...old.spec.inputShape], 0, 1, 'float32', 5);
      const lab = tf.tidy(() => net.apply(x, { training: false })).dataSync();
      const keras = (model.predict(x) as tf.Tensor).dataSync();
      expect(keras.length).toBe(lab.length);
      for (let i = 0; i < lab.length; i++) expect(Math.abs(keras[i]! - lab[i]!), `${role} output ${i}`).toBeLessThan(1e-5);
      net.dispose();
      model.dispose();
    }
  });
});

describe("the GAN's networks as Keras layers", () => {
  it('every preset network, with and without spectral normalisation, computes the same in tfjs; the lab reads back its exact state', async () => {
    for (const [name, preset] of Object.entries(GAN_PRESETS)) {
      if (name === 'book') continue; // the same layer kinds as fast, 10x the weights
      for (const role of ['generator', 'discriminator'] as const) {
        for (const spectralNorm of [false, true]) {
          const spec = { ...structuredClone(preset.hyperparameters[role]), ...(spectralNorm ? { spectralNorm } : {}) };
          const net = new GanNet(spec, new Rng(3));
          // Batch-norm statistics away from (0, 1), so inference normalisation is exercised.
          net.setWeights(net.getWeights().map((w) => w.map((v, i) => (v === 0 ? 0.1 + (i % 7) * 0.05 : v))));
          net.powerIterate(2);
          const dir = tmpDir();
          await net.save(dir, { role });
          const files = fs.readdirSync(dir).sort();
          expect(files).toEqual(spectralNorm ? ['lab-weights.bin', 'lab.json', 'model.json', 'weights.bin'] : ['lab.json', 'model.json', 'weights.bin']);
          const classes = JSON.parse(fs.readFileSync(path.join(dir, 'model.json'), 'utf8')).modelTopology.config.layers.map((l: { class_name: string }) => l.class_name);
          expect(classes.every((c: string) => ['Dense', 'Conv2D', 'Conv2DTranspose', 'BatchNormalization', 'Activation', 'LeakyReLU', 'Dropout', 'UpSampling2D', 'Reshape', 'Flatten'].includes(c))).toBe(true);
          const model = await loadWithTfjs(dir);
          const x = tf.randomNormal([2, ...spec.inputShape], 0, 1, 'float32', 7);
          const lab = tf.tidy(() => net.apply(x, { training: false })).dataSync();
          const keras = (model.predict(x) as tf.Tensor).dataSync();
          for (let i = 0; i < lab.length; i++) expect(Math.abs(keras[i]! - lab[i]!), `${name} ${role} sn=${spectralNorm} output ${i}`).toBeLessThan(1e-5);
          const back = GanNet.read(dir);
          expect(back.values).toEqual(net.getWeights());
          expect(back.meta).toEqual({ role });
          net.dispose();
          model.dispose();
        }
      }
    }
  });

  it('damaged files are one clear error', () => {
    const net = new Network({ inputShape: [3], layers: [{ type: 'dense', units: 2, activation: 'linear' }] }, new Rng(1));
    const dir = tmpDir();
    net.save(dir);
    fs.truncateSync(path.join(dir, 'weights.bin'), 10);
    expect(() => Network.read(dir)).toThrow(/weights file .*weights\.bin has 10 bytes, expected 32/);
    net.save(dir);
    fs.rmSync(path.join(dir, 'lab.json'));
    expect(() => Network.read(dir)).toThrow(/is a Layers model without the lab's lab\.json/);
    net.dispose();
  });
});

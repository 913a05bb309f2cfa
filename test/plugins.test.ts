/**
 * Plug-ins from the user's files (agents/plugins.ts, envs/registry.ts): Gymnasium's "module:EnvId" in make and
 * makeAsync, modules that throw or register nothing, name clashes, plug-in agents returning actions outside the
 * space, plug-in envs returning NaN rewards or observations outside the space (each error names the plug-in),
 * and, through the CLI, a run whose plug-in module moved or changed its hyperparameters (one line naming it).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { importEnvModule, make, makeAsync, importPlugin, registerAgent, startTraining, unregisterAgent, agentNames, ScriptRun, Rng } from '../index.js';
import { runLab } from './lab_cli.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const INDEX = pathToFileURL(path.join(ROOT, 'index.ts')).href;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lab-plugins-'));
// Plug-in .ts files are ES modules only inside a package that says so (as in a user's project).
fs.writeFileSync(path.join(tmp, 'package.json'), '{ "type": "module" }\n');
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** Writes a plug-in module into the temp dir; its code imports the lab as `lab`. */
function plugin(name: string, body: string): string {
  const file = path.join(tmp, name);
  fs.writeFileSync(file, `import * as lab from ${JSON.stringify(INDEX)};\n${body}\n`);
  return file;
}

/** A one-state env whose reward at step `nanAt` is NaN, or whose observation leaves the space at `badObsAt`. */
const LINE_ENV = `
class Line extends lab.Env {
  observationSpace = new lab.Discrete(5);
  actionSpace = new lab.Discrete(2);
  constructor(k) { super(); this.nanAt = k.nanAt ?? -1; this.badObsAt = k.badObsAt ?? -1; this.t = 0; }
  reset(args = {}) { super.reset(args); this.t = 0; return [0, {}]; }
  step(a) { this.t++; const obs = this.t === this.badObsAt ? 7 : this.t % 5; return [obs, this.t === this.nanAt ? NaN : a, this.t >= 20, false, {}]; }
  render() { return 'line'; }
  snapshot() { return { t: this.t, rng: this.rngSnapshot() }; }
  restore(s) { this.t = s.t; this.restoreRng(s.rng); }
}
`;

describe('"module:EnvId" envs', () => {
  it('make() of a module not imported yet says what to call; importEnvModule, then make works; makeAsync imports by itself', async () => {
    const mod = plugin('line_a.ts', `${LINE_ENV}\nlab.register({ id: 'LineA-v0', entryPoint: (k) => new Line(k), maxEpisodeSteps: 50 });`);
    expect(() => make(`${mod}:LineA-v0`)).toThrow(`module ${mod} is not imported yet: call await importEnvModule('${mod}') (or await makeAsync('${mod}:LineA-v0')) before make('${mod}:LineA-v0')`);
    const loaded = await importEnvModule(mod);
    expect(loaded).toEqual({ module: mod, envs: ['LineA-v0'] });
    const env = make(`${mod}:LineA-v0`);
    expect(env.spec?.id).toBe('LineA-v0');
    expect(env.reset({ seed: 1 })[0]).toBe(0);
    expect(env.step(1).slice(0, 3)).toEqual([1, 1, false]);
    expect(() => make(`${mod}:Nope-v0`)).toThrow(`module ${mod} did not register 'Nope-v0'; it registered LineA-v0`);

    const modB = plugin('line_b.mjs', `${LINE_ENV}\nlab.register({ id: 'LineB-v0', entryPoint: (k) => new Line(k) });`);
    const envB = await makeAsync(`${path.relative(process.cwd(), modB)}:LineB-v0`);
    expect(envB.spec?.id).toBe('LineB-v0');
  });

  it('a module that throws on import, registers nothing, does not exist or clashes with a built-in id: one error naming it', async () => {
    const throws = plugin('throws.ts', `throw new Error('boom at import');`);
    await expect(importEnvModule(throws)).rejects.toThrow(`plug-in module ${throws} failed to import: boom at import`);
    const empty = plugin('empty.ts', `export const nothing = 1;`);
    await expect(importEnvModule(empty)).rejects.toThrow(`plug-in module ${empty} registered no environment`);
    await expect(importPlugin(empty)).rejects.toThrow(`plug-in module ${empty} registered nothing`);
    const missing = path.join(tmp, 'nowhere.ts');
    await expect(importPlugin(missing)).rejects.toThrow(`plug-in module ${missing} does not exist`);
    const clash = plugin('clash.ts', `${LINE_ENV}\nlab.register({ id: 'CartPole-v1', entryPoint: (k) => new Line(k) });`);
    await expect(importPlugin(clash)).rejects.toThrow(`plug-in module ${clash} failed to import: register: 'CartPole-v1' is already registered`);
    const agentClash = plugin('agent_clash.ts', `lab.registerAgent('dqn', { description: '', defaults: {}, presets: {}, create: () => null });`);
    await expect(importPlugin(agentClash)).rejects.toThrow(`plug-in module ${agentClash} failed to import: registerAgent: 'dqn' is a built-in agent; choose another name`);
  });

  it('a plug-in env is checked on every step: NaN rewards and observations outside its space name the env and module', async () => {
    const mod = plugin('line_bad.ts', `${LINE_ENV}\nlab.register({ id: 'LineBad-v0', entryPoint: (k) => new Line(k) });`);
    await importPlugin(mod);
    const env = make('LineBad-v0', { nanAt: 7 });
    env.reset({ seed: 0 });
    for (let t = 1; t < 7; t++) env.step(0);
    expect(() => env.step(0)).toThrow(`plug-in env 'LineBad-v0' (${mod}): step() returned the reward NaN (rewards must be finite numbers)`);
    const env2 = make('LineBad-v0', { badObsAt: 4 });
    env2.reset({ seed: 0 });
    for (let t = 1; t < 4; t++) env2.step(1);
    expect(() => env2.step(1)).toThrow(`plug-in env 'LineBad-v0' (${mod}): step() returned an observation outside the observation space Discrete(5): 7`);
    // In training, the loop stops at the same step with the same message.
    await expect(startTraining({ envId: 'LineBad-v0', envKwargs: { nanAt: 15 }, agent: 'dqn', seed: 0, steps: 100, evalEvery: 0, out: tmp, backend: 'cpu', runId: 'nan-run' })).rejects.toThrow(
      `plug-in env 'LineBad-v0' (${mod}): step() returned the reward NaN`,
    );
  });
});

describe('plug-in agents', () => {
  /** An agent whose act() returns what `actions` (a JS expression of n) gives. */
  const agentModule = (name: string, id: string, actions: string) =>
    plugin(
      name,
      `${LINE_ENV}
lab.register({ id: '${id}-env', entryPoint: (k) => new Line(k) });
lab.registerAgent('${id}', {
  description: 'test agent', defaults: { gain: 1 }, presets: {},
  create: (setup, config) => ({ name: '${id}', numEnvs: 1, config, act: (obs, n) => ${actions}, observe: () => null, status: () => ({}),
    save: async () => {}, load: async () => {}, savePolicy: () => {}, dispose: () => {} }),
});`,
    );

  it.each([
    ['out of range', 'bad-range', 'Int32Array.from({ length: n }, () => 5)', "act() returned the action 5 for row 0, outside the action space Discrete(2)"],
    ['the wrong length', 'bad-length', 'new Int32Array(n + 1)', 'act() must return a typed array of 1 action (1 row × 1), got Int32Array of length 2'],
    ['not integers', 'bad-float', 'Float32Array.from({ length: n }, () => 0.5)', 'act() returned the action 0.5 for row 0, outside the action space Discrete(2)'],
    ['NaN', 'bad-nan', 'Float32Array.from({ length: n }, () => NaN)', 'act() returned the action NaN for row 0, outside the action space Discrete(2)'],
  ])('an agent returning actions %s is stopped with a message naming it and its module', async (_what, id, actions, message) => {
    const mod = agentModule(`${id}.ts`, id, actions);
    const record = await importPlugin(mod);
    expect(record).toEqual({ module: mod, envs: [`${id}-env`], agents: [{ name: id, hyperparameters: ['gain'] }] });
    await expect(startTraining({ envId: `${id}-env`, agent: id, seed: 0, steps: 50, evalEvery: 0, out: tmp, backend: 'cpu', runId: `${id}-run` })).rejects.toThrow(`plug-in agent '${id}' (${mod}): ${message}`);
  });

  it('a factory that throws names the plug-in; registerAgent checks names and presets; unregisterAgent removes', async () => {
    const mod = plugin('factory_throws.ts', `lab.registerAgent('factory-throws', { description: '', defaults: {}, presets: {}, create: () => { throw new Error('no GPU here'); } });`);
    await importPlugin(mod);
    await expect(startTraining({ envId: 'FrozenLake-v1', agent: 'factory-throws', seed: 0, steps: 10, out: tmp, backend: 'cpu', runId: 'ft-run' })).rejects.toThrow(`plug-in agent 'factory-throws' (${mod}): create() threw: no GPU here`);
    expect(() => registerAgent('has space', { description: '', defaults: {}, presets: {}, create: () => null as never })).toThrow('registerAgent: the name must start with a letter');
    expect(() => registerAgent('p1', { description: '', defaults: { a: 1 }, presets: { x: { description: '', envs: [], config: { b: 2 } } }, create: () => null as never })).toThrow("preset 'x' sets unknown hyperparameters b");
    registerAgent('p2', { description: '', defaults: { a: 1 }, presets: {}, create: () => null as never });
    expect(agentNames()).toContain('p2');
    expect(unregisterAgent('p2')).toBe(true);
    expect(agentNames()).not.toContain('p2');
    expect(unregisterAgent('dqn')).toBe(false);
  });
});

describe('runs remember their plug-ins (CLI)', () => {
  it('--resume of a run whose module moved or changed its hyperparameters: one line naming the module; --import <new place> resumes', async () => {
    const dir = path.join(tmp, 'moving');
    fs.mkdirSync(dir);
    const source = fs.readFileSync(path.join(ROOT, 'examples', 'expected_sarsa_agent.ts'), 'utf8').replace("from '../index.js'", `from ${JSON.stringify(INDEX)}`);
    const mod = path.join(dir, 'agent.ts');
    fs.writeFileSync(mod, source);
    const out = path.join(tmp, 'cli-runs');
    const train = await runLab(['train', '--import', mod, '--agent', 'expected-sarsa', '--env', 'FrozenLake-v1', '--steps', '2000', '--eval-every', '0', '--checkpoint-every', '500', '--backend', 'cpu', '--out', out, '--run-id', 'es'], ROOT);
    expect(train.code, train.err).toBe(0);
    const runDir = path.join(out, 'es');
    const config = JSON.parse(fs.readFileSync(path.join(runDir, 'config.json'), 'utf8'));
    expect(config.imports).toEqual([{ module: mod, envs: [], agents: [{ name: 'expected-sarsa', hyperparameters: ['explorationFraction', 'finalEpsilon', 'gamma', 'initialEpsilon', 'learningRate'] }] }]);

    // lab eval finds the agent's module by itself (no --import).
    const evaluated = await runLab(['eval', runDir, '--episodes', '5', '--backend', 'cpu', '--json'], ROOT);
    expect(evaluated.code, evaluated.err).toBe(0);
    expect(JSON.parse(evaluated.out).returns).toHaveLength(5);

    const moved = path.join(dir, 'moved.ts');
    fs.renameSync(mod, moved);
    const missing = await runLab(['train', '--resume', runDir, '--steps', '3000'], ROOT);
    expect(missing.code).toBe(1);
    expect(missing.err.trim().split('\n')).toEqual([`lab: error: run ${runDir} needs the plug-in module ${mod}, which is missing (moved or deleted?): put it back, or pass its new place with --import`]);

    fs.writeFileSync(mod, source.replace('learningRate: 0.1, gamma: 0.99,', 'learningRate: 0.1, gamma: 0.99, lambda: 0.9,').replace('export interface ExpectedSarsaConfig {', 'export interface ExpectedSarsaConfig {\n  lambda?: number;'));
    const changed = await runLab(['train', '--resume', runDir, '--steps', '3000'], ROOT);
    expect(changed.code).toBe(1);
    expect(changed.err.trim().split('\n')).toEqual([`lab: error: plug-in module ${mod} changed the hyperparameters of agent 'expected-sarsa' since run ${runDir} started (added lambda): restore the module, or start a new run`]);

    fs.rmSync(mod);
    const resumed = await runLab(['train', '--resume', runDir, '--steps', '3000', '--import', moved], ROOT);
    expect(resumed.code, resumed.err).toBe(0);
    expect(JSON.parse(fs.readFileSync(path.join(runDir, 'config.json'), 'utf8')).imports[0].module).toBe(moved);
  }, 120_000);

  it('lab sweep: run.import loads the plug-in agent in the worker processes, and each run records it', async () => {
    const agent = path.join(ROOT, 'examples', 'expected_sarsa_agent.ts');
    const spec = path.join(tmp, 'sarsa.yml');
    fs.writeFileSync(
      spec,
      `name: sarsa\nrun: { kind: rl, env: FrozenLake-v1, agent: expected-sarsa, steps: 3000, evalEvery: 1500, evalEpisodes: 5, import: ${JSON.stringify(agent)} }\nseeds: [1]\nsearch:\n  learningRate: { choice: [0.05, 0.2] }\nsampler: grid\n`,
    );
    const out = path.join(tmp, 'sweeps');
    const r = await runLab(['sweep', spec, '--out', out, '--id', 'sarsa', '--workers', '2'], ROOT);
    expect(r.code, r.out + r.err).toBe(0);
    // In a log (not a terminal), the progress line comes when the first trial starts, then every 30 s.
    expect(r.out).toContain(`${path.join(out, 'sarsa')} | runs 0/2 | 0% | running t0 0%\n`);
    const runs = fs.readdirSync(path.join(out, 'sarsa', 'runs'));
    expect(runs).toHaveLength(2);
    for (const run of runs) {
      const config = JSON.parse(fs.readFileSync(path.join(out, 'sarsa', 'runs', run, 'config.json'), 'utf8'));
      expect(config.agent).toBe('expected-sarsa');
      expect(config.imports[0].module).toBe(agent);
    }
    const bad = path.join(tmp, 'bad.yml');
    fs.writeFileSync(bad, fs.readFileSync(spec, 'utf8').replace(agent, path.join(tmp, 'gone.ts')));
    const refused = await runLab(['sweep', bad, '--out', out], ROOT);
    expect(refused.code).toBe(1);
    expect(refused.err.trim()).toBe(`lab: error: plug-in module ${path.join(tmp, 'gone.ts')} does not exist`);
  }, 120_000);
});

describe('ScriptRun', () => {
  /** A toy script: a counter "learns" by adding rewards; checkpoints every 40 steps; optionally dies at `dieAt`. */
  async function script(run: ScriptRun, from: number, state: { total: number; rng: ReturnType<Rng['toJSON']> }, dieAt = Infinity): Promise<void> {
    const rng = Rng.fromJSON(state.rng);
    for (let step = from + 1; step <= 200; step++) {
      state.total += rng.double();
      if (step % 25 === 0) run.episode({ step, return: state.total, length: 25, terminated: true, truncated: false });
      if (step % 40 === 0) {
        run.update(step, { total: state.total });
        await run.evaluate(step, (_obs, n) => new Int32Array(n));
        await run.checkpoint(step, { total: state.total, rng: rng.toJSON() });
      }
      if (step === dieAt) return;
    }
    await run.finish();
  }
  const deterministic = (dir: string) =>
    fs.readFileSync(path.join(dir, 'metrics.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l)).filter((e) => e.type !== 'checkpoint').map(({ time: _t, sps: _s, seconds: _x, ...rest }) => rest);

  it('a run cut off after a checkpoint and resumed with ScriptRun.resume logs what an uninterrupted one does', async () => {
    const options = { envId: 'FrozenLake-v1', agent: 'toy', hyperparameters: { a: 1 }, seed: 1, steps: 200, evalEpisodes: 3, out: tmp, backend: 'cpu' as const };
    const ref = await ScriptRun.open({ ...options, runId: 'script-ref' });
    await script(ref, 0, { total: 0, rng: new Rng(9).toJSON() });

    const cut = await ScriptRun.open({ ...options, runId: 'script-cut' });
    await script(cut, 0, { total: 0, rng: new Rng(9).toJSON() }, 130); // logs past the step-120 checkpoint, then "dies"
    cut.store.close();
    let restored: { total: number; rng: ReturnType<Rng['toJSON']> } | null = null;
    const { run, step } = await ScriptRun.resume<{ total: number; rng: ReturnType<Rng['toJSON']> }>(cut.dir, (_dir, state) => {
      restored = state;
    });
    expect(step).toBe(120);
    await script(run, step, restored!);
    expect(deterministic(cut.dir)).toEqual(deterministic(ref.dir));
    expect(fs.readdirSync(path.join(cut.dir, 'replays')).sort()).toEqual(fs.readdirSync(path.join(ref.dir, 'replays')).sort());
    const config = JSON.parse(fs.readFileSync(path.join(cut.dir, 'config.json'), 'utf8'));
    expect(config).toMatchObject({ agent: 'toy', hyperparameters: { a: 1 }, evalEpisodes: 3, script: expect.any(String) });
  });
});

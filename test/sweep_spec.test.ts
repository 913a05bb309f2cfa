/**
 * The experiment spec (sweep/spec.ts): the example parsed with every default, the other run kinds, and
 * every bad input refused with one line that names the file and the key.
 */
import { describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';
import { parseDurationSeconds, parseSpec, readSpec, specRunKind, SpecError, validateSpec } from '../sweep/spec.js';
import { trialBudget } from '../sweep/samplers.js';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const EXAMPLE = path.join(root, 'experiments', 'a2c-cartpole.yml');

/** The example, as a data object to vary. */
const example = (): Record<string, any> => ({
  name: 'a2c-cartpole',
  run: { kind: 'rl', env: 'CartPole-v1', agent: 'a2c', steps: 15000 },
  seeds: [1, 2],
  search: { learningRate: { loguniform: [0.0003, 0.01] }, nSteps: { choice: [5, 16] } },
  sampler: 'random',
  samplerSeed: 7,
  trials: 4,
  objective: { metric: 'eval', reduce: 'iqm-last', direction: 'maximize' },
});

/** The one-line error that `data` (as YAML in a2c.yml) gets. */
function errorOf(data: unknown, text?: string): string {
  try {
    parseSpec(text ?? YAML.stringify(data), 'a2c.yml');
  } catch (e) {
    expect(e).toBeInstanceOf(SpecError);
    const message = (e as Error).message;
    expect(message.split('\n')).toHaveLength(1);
    expect(message.startsWith('a2c.yml: ')).toBe(true);
    return message;
  }
  throw new Error('the spec was accepted');
}

const modify = (change: (spec: Record<string, any>) => void): Record<string, any> => {
  const spec = example();
  change(spec);
  return spec;
};

describe('the issue example', () => {
  it('is shipped byte for byte as the issue writes it', () => {
    expect(fs.readFileSync(EXAMPLE, 'utf8')).toBe(
      'name: a2c-cartpole\n' +
        'run: { kind: rl, env: CartPole-v1, agent: a2c, steps: 15000 }\n' +
        'seeds: [1, 2]\n' +
        'search:\n' +
        '  learningRate: { loguniform: [0.0003, 0.01] }\n' +
        '  nSteps: { choice: [5, 16] }\n' +
        'sampler: random\n' +
        'samplerSeed: 7\n' +
        'trials: 4\n' +
        'objective: { metric: eval, reduce: iqm-last, direction: maximize }\n',
    );
  });

  it('parses with every field and every default filled in', () => {
    const spec = readSpec(EXAMPLE);
    expect(spec).toEqual({
      name: 'a2c-cartpole',
      run: { kind: 'rl', env: 'CartPole-v1', agent: 'a2c', steps: 15000 },
      seeds: [1, 2],
      search: { learningRate: { loguniform: [0.0003, 0.01] }, nSteps: { choice: [5, 16] } },
      sampler: 'random',
      samplerSeed: 7,
      trials: 4,
      timeLimitSeconds: null,
      objective: { metric: 'eval', reduce: 'iqm-last', direction: 'maximize' },
      pruner: { type: 'none' },
      parallelTrials: 4,
    });
    expect(specRunKind(spec)).toBe('rl');
    // keys in the order the file gives them (the samplers' params follow it)
    expect(Object.keys(spec.search)).toEqual(['learningRate', 'nSteps']);
  });

  it('reads the same as JSON, and a normalised spec (experiment.json) parses back to itself', () => {
    const spec = readSpec(EXAMPLE);
    expect(parseSpec(JSON.stringify(example()), 'a2c.json')).toEqual(spec);
    expect(parseSpec(JSON.stringify(spec), 'experiment.json')).toEqual(spec);
    expect(validateSpec(JSON.parse(JSON.stringify(spec)), 'experiment.json')).toEqual(spec);
  });

  it('fills the defaults of a minimal spec', () => {
    const spec = parseSpec('name: m\nrun: {kind: rl, env: CartPole-v1, agent: dqn, steps: 500}\nseeds: [0]\nsearch: {learningRate: {uniform: [0.001, 0.002]}}\ntimeLimit: 30m\n', 'm.yml');
    expect(spec.sampler).toBe('random');
    expect(spec.samplerSeed).toBe(0);
    expect(spec.trials).toBeNull();
    expect(spec.timeLimitSeconds).toBe(1800);
    expect(spec.objective).toEqual({ metric: 'eval', reduce: 'iqm-last', direction: 'maximize' });
    expect(spec.pruner).toEqual({ type: 'none' });
    expect(spec.parallelTrials).toBe(4);
  });
});

describe('the other fields', () => {
  it('time limits: seconds or durations', () => {
    expect([parseDurationSeconds('90s'), parseDurationSeconds('30m'), parseDurationSeconds('2h'), parseDurationSeconds('1.5h'), parseDurationSeconds(45), parseDurationSeconds('45')]).toEqual([90, 1800, 7200, 5400, 45, 45]);
    expect([parseDurationSeconds('0s'), parseDurationSeconds('2 weeks'), parseDurationSeconds(-1), parseDurationSeconds(null)]).toEqual([null, null, null, null]);
    const spec = parseSpec(YAML.stringify(modify((s) => (s.timeLimit = '2h'))), 'a2c.yml');
    expect([spec.trials, spec.timeLimitSeconds]).toEqual([4, 7200]);
  });

  it('pruners: none, median with defaults, median with settings', () => {
    expect(parseSpec(YAML.stringify(modify((s) => (s.pruner = 'median'))), 'a2c.yml').pruner).toEqual({ type: 'median', warmupSteps: 0, startupTrials: 5 });
    expect(parseSpec(YAML.stringify(modify((s) => (s.pruner = { type: 'median', warmupSteps: 3000, startupTrials: 2 }))), 'a2c.yml').pruner).toEqual({ type: 'median', warmupSteps: 3000, startupTrials: 2 });
    expect(parseSpec(YAML.stringify(modify((s) => (s.pruner = 'none'))), 'a2c.yml').pruner).toEqual({ type: 'none' });
  });

  it('objectives: steps-to-threshold implies minimize and takes the env threshold; auc', () => {
    const steps = parseSpec(YAML.stringify(modify((s) => (s.objective = { reduce: 'steps-to-threshold' }))), 'a2c.yml');
    expect(steps.objective).toEqual({ metric: 'eval', reduce: 'steps-to-threshold', direction: 'minimize' });
    const auc = parseSpec(YAML.stringify(modify((s) => (s.objective = { reduce: 'auc', threshold: 400 }))), 'a2c.yml');
    expect(auc.objective).toEqual({ metric: 'eval', reduce: 'auc', direction: 'maximize', threshold: 400 });
  });

  it('every search dimension type, and a grid sampler with grid counts', () => {
    const spec = parseSpec(
      YAML.stringify(
        modify((s) => {
          s.sampler = 'grid';
          s.search = {
            learningRate: { loguniform: [1e-4, 1e-2], grid: 3 },
            gamma: { uniform: [0.9, 0.99], grid: 2 },
            nSteps: { int: [4, 32], log: true, grid: 4 },
            numEnvs: { int: [1, 4] },
            activation: { choice: ['tanh', 'relu'] },
            normalizeAdvantage: { choice: [true, false] },
          };
        }),
      ),
      'a2c.yml',
    );
    expect(spec.search).toEqual({
      learningRate: { loguniform: [1e-4, 1e-2], grid: 3 },
      gamma: { uniform: [0.9, 0.99], grid: 2 },
      nSteps: { int: [4, 32], log: true, grid: 4 },
      numEnvs: { int: [1, 4] },
      activation: { choice: ['tanh', 'relu'] },
      normalizeAdvantage: { choice: [true, false] },
    });
  });

  it('a grid sampler needs no budget: without trials or timeLimit it runs its grid once', () => {
    const spec = parseSpec(
      YAML.stringify(
        modify((s) => {
          s.sampler = 'grid';
          delete s.trials;
          s.search = { learningRate: { loguniform: [1e-4, 1e-2], grid: 3 }, nSteps: { choice: [5, 16] } };
        }),
      ),
      'a2c.yml',
    );
    expect(spec.trials).toBeNull();
    expect(spec.timeLimitSeconds).toBeNull();
    expect(trialBudget(spec)).toBe(6);
  });

  it('a GAN run: dotted hyperparameters, preset, the fd metric minimised by default', () => {
    const spec = parseSpec(
      'name: gan-apple\nrun: {kind: gan, category: apple, preset: tiny, iterations: 200, limit: 500, set: {labelNoise: 0.05}}\nseeds: [0, 1]\n' +
        'search:\n  discriminator.spectralNorm: {choice: [true, false]}\n  discriminatorOptimizer.learningRate: {loguniform: [0.0001, 0.001]}\ntrials: 6\n',
      'gan.yml',
    );
    expect(spec.run).toEqual({ kind: 'gan', category: 'apple', preset: 'tiny', iterations: 200, limit: 500, set: { labelNoise: 0.05 } });
    expect(spec.objective).toEqual({ metric: 'fd', reduce: 'iqm-last', direction: 'minimize' });
    expect(specRunKind(spec)).toBe('gan');
  });

  it('GAN objectives: the evaluation metrics and the update stats, each with its direction; evalSamples', () => {
    const gan = (objective: string, run = '') => parseSpec(`name: g\nrun: {kind: gan, category: apple, iterations: 10${run}}\nseeds: [0]\nsearch: {labelNoise: {uniform: [0, 0.1]}}\ntrials: 2\nobjective: ${objective}\n`, 'gan.yml');
    const directions = Object.fromEntries(['fd', 'fdRatio', 'kid', 'classified', 'gLoss', 'dLoss', 'dAcc', 'lrG'].map((m) => [m, gan(`{metric: ${m}}`).objective.direction]));
    expect(directions).toEqual({ fd: 'minimize', fdRatio: 'minimize', kid: 'minimize', classified: 'maximize', gLoss: 'minimize', dLoss: 'minimize', dAcc: 'minimize', lrG: 'minimize' });
    expect(gan('{metric: classified, direction: minimize}').objective.direction).toBe('minimize');
    const sized = gan('{metric: fd}', ', evalSamples: 500');
    expect(sized.run).toEqual({ kind: 'gan', category: 'apple', iterations: 10, evalSamples: 500 });
    expect(validateSpec(JSON.parse(JSON.stringify(sized)), 'experiment.json')).toEqual(sized);
    // A training metric may be pruned on: it has a value every logEvery iterations.
    expect(parseSpec('name: g\nrun: {kind: gan, category: apple, iterations: 10}\nseeds: [0]\nsearch: {labelNoise: {uniform: [0, 0.1]}}\ntrials: 2\nobjective: {metric: gLoss}\npruner: median\n', 'g.yml').pruner.type).toBe('median');
  });

  it('the shipped GAN spec, experiments/gan-apple.yml, validates: fd of the final generator, minimised', () => {
    const spec = readSpec(path.join(root, 'experiments', 'gan-apple.yml'));
    expect(spec.run.kind).toBe('gan');
    expect(spec.objective).toEqual({ metric: 'fd', reduce: 'mean-last', direction: 'minimize' });
    expect(spec.pruner).toEqual({ type: 'none' });
  });

  it('an AlphaZero-lite run: its hyperparameters, the evaluation score maximised', () => {
    const spec = parseSpec('name: az\nrun: {kind: go-alphazero, iterations: 20, set: {size: 5}, backend: wasm}\nseeds: [3]\nsearch:\n  cPuct: {uniform: [0.5, 3]}\n  simulations: {int: [16, 128], log: true}\ntrials: 8\nsampler: tpe\n', 'az.yml');
    expect(spec.run).toEqual({ kind: 'go-alphazero', iterations: 20, set: { size: 5 }, backend: 'wasm' });
    expect(spec.objective).toEqual({ metric: 'score', reduce: 'iqm-last', direction: 'maximize' });
    expect(spec.sampler).toBe('tpe');
  });
});

describe('bad input: one line naming the file and the key', () => {
  const cases: [string, Record<string, any> | null, RegExp, string?][] = [
    ['a loguniform range touching 0', modify((s) => (s.search.learningRate = { loguniform: [0, 0.01] })), /^a2c\.yml: search\.learningRate: loguniform needs 0 < low ≤ high, got \[0, 0\.01\]$/],
    ['a uniform range upside down', modify((s) => (s.search.learningRate = { uniform: [0.1, 0.01] })), /search\.learningRate: uniform needs low ≤ high, got \[0\.1, 0\.01\]/],
    ['an int range of non-integers', modify((s) => (s.search.nSteps = { int: [1.5, 8] })), /search\.nSteps: int needs integers low ≤ high/],
    ['a dimension with two types', modify((s) => (s.search.nSteps = { int: [1, 8], choice: [1, 2] })), /search\.nSteps: needs exactly one of choice, uniform, loguniform, int, got choice and int/],
    ['a dimension with an unknown key', modify((s) => (s.search.nSteps = { int: [1, 8], step: 2 })), /search\.nSteps\.step: unknown key 'step' in an int dimension/],
    ['a misspelt run key', modify((s) => (s.run.evalEvry = 1000)), /^a2c\.yml: run\.evalEvry: unknown key 'evalEvry' in a run of kind rl \(did you mean 'evalEvery'\?\); known: kind, env, agent, steps/],
    ['a string with a comma in a message', modify((s) => (s.sampler = 'tpe,random')), /^a2c\.yml: sampler: must be one of grid, random, tpe, got "tpe,random"$/],
    ['an unknown top-level key', modify((s) => (s.trails = 4)), /^a2c\.yml: trails: unknown key 'trails' \(did you mean 'trials'\?\); known: name, run, seeds, search/],
    ['a name that is not a plain name', modify((s) => (s.name = 'my sweep/1')), /^a2c\.yml: name: must be a plain name/],
    ['no name', modify((s) => delete s.name), /^a2c\.yml: name: missing$/],
    ['empty seeds', modify((s) => (s.seeds = [])), /^a2c\.yml: seeds: must be a non-empty list/],
    ['a repeated seed', modify((s) => (s.seeds = [1, 2, 1])), /^a2c\.yml: seeds\[2\]: seed 1 is listed twice$/],
    ['a negative seed', modify((s) => (s.seeds = [1, -2])), /^a2c\.yml: seeds\[1\]: must be an integer ≥ 0, got -2$/],
    ['a fractional seed', modify((s) => (s.seeds = [1.5])), /seeds\[0\]: must be an integer ≥ 0, got 1\.5/],
    ['an unknown RL hyperparameter', modify((s) => (s.search.lr = { uniform: [0, 1] })), /^a2c\.yml: search\.lr: unknown a2c hyperparameter 'lr'; known: numEnvs, nSteps, gamma/],
    ['an unknown hyperparameter in run.set', modify((s) => (s.run.set = { lr: 0.1 })), /^a2c\.yml: run\.set: unknown a2c hyperparameter 'lr'; known: /],
    ['a wrongly typed value in run.set', modify((s) => (s.run.set = { gamma: 'high' })), /^a2c\.yml: run\.set: a2c hyperparameter 'gamma' must be a number, got "high"$/],
    ['a choice of strings for a number', modify((s) => (s.search.nSteps = { choice: ['five', 'sixteen'] })), /^a2c\.yml: search\.nSteps: a2c hyperparameter 'nSteps' is a number, got choice of strings \["five", "sixteen"\]$/],
    ['a numeric range for a string', modify((s) => (s.search.activation = { uniform: [0, 1] })), /search\.activation: a2c hyperparameter 'activation' is a string, got uniform \[0, 1\]/],
    ['a list hyperparameter searched', modify((s) => (s.search.hidden = { choice: [32, 64] })), /search\.hidden: a2c hyperparameter 'hidden' is a list; a search dimension gives numbers, strings or booleans/],
    ['a key both fixed and searched', modify((s) => (s.run.set = { nSteps: 8 })), /search\.nSteps: 'nSteps' is both fixed in run\.set and searched/],
    ['an empty search space', modify((s) => (s.search = {})), /^a2c\.yml: search: search space is empty/],
    ['no search space', modify((s) => delete s.search), /^a2c\.yml: search: search space is empty/],
    ['an empty choice list', modify((s) => (s.search.nSteps = { choice: [] })), /^a2c\.yml: search\.nSteps: search space is empty \(an empty choice list\)$/],
    ['a repeated choice', modify((s) => (s.search.nSteps = { choice: [5, 5] })), /search\.nSteps\.choice\[1\]: 5 is listed twice/],
    ['an unknown env', modify((s) => (s.run.env = 'CartPole-v9')), /^a2c\.yml: run\.env: unknown environment id 'CartPole-v9'\. Did you mean 'CartPole-v1'\?/],
    ['an unknown agent', modify((s) => (s.run.agent = 'rainbow')), /^a2c\.yml: run\.agent: unknown agent 'rainbow'; choose one of dqn, reinforce, a2c, ppo$/],
    ['an unknown preset', modify((s) => (s.run.preset = 'fast')), /^a2c\.yml: run\.preset: agent 'a2c' has no preset 'fast'; presets: cartpole, acrobot, mountaincar$/],
    ['an unknown run kind', modify((s) => (s.run.kind = 'ppo')), /^a2c\.yml: run\.kind: must be one of rl, gan, go-alphazero, got "ppo"$/],
    ['a key of another run kind', modify((s) => (s.run.iterations = 10)), /^a2c\.yml: run\.iterations: unknown key 'iterations' in a run of kind rl/],
    ['no steps', modify((s) => delete s.run.steps), /^a2c\.yml: run\.steps: missing$/],
    ['an unknown backend', modify((s) => (s.run.backend = 'tpu')), /^a2c\.yml: run\.backend: must be one of auto, node-gpu, webgpu, node, wasm, cpu, got "tpu"$/],
    ['a grid with a continuous dimension without grid: n', modify((s) => (s.sampler = 'grid')), /^a2c\.yml: search\.learningRate: the grid sampler needs 'grid: n'/],
    ['an unknown sampler', modify((s) => (s.sampler = 'bayes')), /^a2c\.yml: sampler: must be one of grid, random, tpe, got "bayes"$/],
    ['trials < 1', modify((s) => (s.trials = 0)), /^a2c\.yml: trials: must be an integer ≥ 1, got 0$/],
    ['neither trials nor timeLimit', modify((s) => delete s.trials), /^a2c\.yml: no budget: give trials .* and\/or timeLimit/],
    ['a malformed time limit', modify((s) => (s.timeLimit = 'soon')), /^a2c\.yml: timeLimit: must be a positive number of seconds or a duration such as 90s, 30m, 2h, got "soon"$/],
    ['steps-to-threshold maximised', modify((s) => (s.objective = { reduce: 'steps-to-threshold', direction: 'maximize' })), /objective\.direction: steps-to-threshold counts steps/],
    ['an unknown reduce', modify((s) => (s.objective.reduce = 'best')), /objective\.reduce: must be one of iqm-last, mean-last, auc, steps-to-threshold, got "best"/],
    ['an RL metric other than eval', modify((s) => (s.objective.metric = 'loss')), /objective\.metric: an RL run's metric is eval/],
    ['an unknown pruner', modify((s) => (s.pruner = 'hyperband')), /^a2c\.yml: pruner: must be none, median/],
    ['a pruner setting out of range', modify((s) => (s.pruner = { type: 'median', warmupSteps: -1 })), /pruner\.warmupSteps: must be an integer ≥ 0, got -1/],
    ['evaluations turned off', modify((s) => (s.run.evalEvery = 0)), /run\.evalEvery: is 0 \(no evaluations\)/],
    ['negative parallelTrials', modify((s) => (s.parallelTrials = -1)), /parallelTrials: must be an integer ≥ 0, got -1/],
    ['a spec that is not a map', null, /^a2c\.yml: expected the spec, got \[1, 2\]$/, '[1, 2]\n'],
    ['malformed YAML', null, /^a2c\.yml: not valid YAML or JSON at line 3, column 1: Flow sequence/, 'name: a\nrun: [1, 2\nseeds: [1]\n'],
    ['a duplicated key', null, /^a2c\.yml: not valid YAML or JSON at line 2, column 1: Map keys must be unique$/, 'name: a\nname: b\n'],
    ['malformed JSON', null, /^a2c\.yml: not valid YAML or JSON/, '{"name": "a", "run": '],
    ['a __proto__ key', null, /^a2c\.yml: run\.__proto__: '__proto__' is not allowed as a key$/, 'name: a\nrun: {__proto__: {kind: rl}}\n'],
    ['a __proto__ key in JSON', null, /^a2c\.yml: search\.__proto__: '__proto__' is not allowed as a key$/, '{"name":"a","search":{"__proto__":{"uniform":[0,1]}}}'],
    ['a constructor key', null, /^a2c\.yml: constructor: 'constructor' is not allowed as a key$/, 'name: a\nconstructor: 1\n'],
    ['a dotted constructor key', null, /^a2c\.yml: run\.set\.a\.constructor: 'constructor' is not allowed in a key$/, 'name: a\nrun: {set: {a.constructor: 1}}\n'],
  ];
  for (const [what, data, pattern, text] of cases) {
    it(what, () => {
      expect(errorOf(data, text)).toMatch(pattern);
    });
  }

  it('GAN: unknown (dotted) hyperparameters and wrong types', () => {
    const gan = (search: string) => `name: g\nrun: {kind: gan, category: apple, preset: tiny, iterations: 10}\nseeds: [0]\nsearch: {${search}}\ntrials: 2\n`;
    expect(errorOf(null, gan('lr: {uniform: [0, 1]}'))).toMatch(/^a2c\.yml: search\.lr: unknown GAN hyperparameter lr; known: latentDim, /);
    expect(errorOf(null, gan('discriminator.foo: {choice: [1, 2]}'))).toMatch(/^a2c\.yml: search\.discriminator\.foo: unknown GAN hyperparameter discriminator\.foo; known under discriminator: /);
    expect(errorOf(null, gan('labelNoise: {choice: [low, high]}'))).toMatch(/search\.labelNoise: GAN hyperparameter 'labelNoise' is a number, got choice of strings/);
    expect(errorOf(null, gan('labelNoise: {uniform: [0, 0.1]}').replace('preset: tiny', 'preset: huge'))).toMatch(/^a2c\.yml: run\.preset: unknown GAN preset 'huge'/);
    expect(errorOf(null, gan('labelNoise: {uniform: [0, 0.1]}').replace('category: apple, ', ''))).toMatch(/^a2c\.yml: run\.category: missing$/);
  });

  it('GAN: the objective names a metric a GAN run produces; no median pruner on a metric measured once', () => {
    const gan = (objective: string, extra = '', run = '') =>
      `name: g\nrun: {kind: gan, category: apple, preset: tiny, iterations: 10${run}}\nseeds: [0]\nsearch: {labelNoise: {uniform: [0, 0.1]}}\ntrials: 2\nobjective: ${objective}\n${extra}`;
    expect(errorOf(null, gan('{metric: fid}'))).toBe(
      'a2c.yml: objective.metric: a GAN run\'s metric is one of fd, fdRatio, kid, classified (the final generator\'s evaluation) ' +
        'or dLoss, gLoss, dAcc, dAccReal, dAccFake, gAcc, dReal, dFake, lrD, lrG (the training updates), got "fid"',
    );
    // Record fields that are not measurements are not metrics either.
    expect(errorOf(null, gan('{metric: step}'))).toMatch(/^a2c\.yml: objective\.metric: a GAN run's metric is one of fd, .*, got "step"$/);
    expect(errorOf(null, gan('{metric: fd}', 'pruner: median\n'))).toBe(
      'a2c.yml: pruner: the median pruner compares intermediate values, but fd is measured once, on the final generator ' +
        '(GAN evaluation metrics: fd, fdRatio, kid, classified): use pruner none, or a training metric such as gLoss',
    );
    expect(errorOf(null, gan('{metric: kid}', 'pruner: {type: median, warmupSteps: 5}\n'))).toMatch(/^a2c\.yml: pruner: the median pruner compares intermediate values, but kid is measured once/);
    expect(errorOf(null, gan('{metric: fd}', '', ', evalSamples: 3'))).toBe('a2c.yml: run.evalSamples: must be an integer ≥ 4, got 3');
    expect(errorOf(null, gan('{metric: classified}').replace('category: apple', 'category: banana'))).toMatch(
      /^a2c\.yml: objective\.metric: classified needs a category the classifier knows \(apple, bicycle, cat, diamond, fish\); "banana" is not one: use fd, fdRatio or kid$/,
    );
    // evalSamples belongs to GAN runs only.
    expect(errorOf(modify((s) => (s.run.evalSamples = 100)))).toMatch(/^a2c\.yml: run\.evalSamples: unknown key 'evalSamples' in a run of kind rl/);
  });

  it('AlphaZero-lite: unknown hyperparameters and bad fixed values', () => {
    const az = (search: string, set = '{}') => `name: z\nrun: {kind: go-alphazero, iterations: 5, set: ${set}}\nseeds: [0]\nsearch: {${search}}\ntrials: 2\n`;
    expect(errorOf(null, az('puct: {uniform: [1, 2]}'))).toMatch(/^a2c\.yml: search\.puct: alphazero: unknown hyperparameter 'puct' \(known: size, komi, /);
    expect(errorOf(null, az('cPuct: {uniform: [1, 2]}', '{size: 4}'))).toMatch(/^a2c\.yml: run\.set: alphazero: 'size' must be an integer from 5 to 19, got 4$/);
    expect(errorOf(null, az('passRule: {choice: [1, 2]}'))).toMatch(/search\.passRule: AlphaZero hyperparameter 'passRule' is a string, got choice of numbers/);
  });

  it('a missing spec file names it', () => {
    const missing = path.join(os.tmpdir(), `no-such-spec-${process.pid}.yml`);
    expect(() => readSpec(missing)).toThrow(new SpecError(`${missing}: no such file`));
  });
});

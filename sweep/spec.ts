/**
 * The experiment spec (`lab sweep <spec>`): read from YAML or JSON, validated, and normalised into an
 * ExperimentSpec with every default filled in (protocol/experiments.ts). Every error is one line that names the
 * file and the key path, e.g. `a2c.yml: search.learningRate: loguniform needs 0 < low ≤ high, got [0, 0.01]`.
 *
 * Hyperparameter names and types are checked by the applications' own resolvers (agents/registry.ts for RL,
 * gan/train.ts for GANs, agents/go/alphazero.ts for AlphaZero-lite), so a spec accepts exactly what `--set` does.
 * A normalised spec (as experiment.json stores it) parses back to itself.
 */
import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { editDistance, registration } from '../envs/index.js';
import { isReservedKey } from '../protocol/protocol.js';
import { agentEntry, findPreset, resolveAgentConfig } from '../agents/registry.js';
import { importPlugins } from '../agents/plugins.js';
import { defaultHyperparameters, resolveHyperparameters as resolveAlphaZeroHyperparameters } from '../agents/go/alphazero.js';
import { resolveGanHyperparameters } from '../gan/train.js';
import { ganPreset, OPTIONAL_NET_SPEC_KEYS } from '../gan/models.js';
import { classifierClasses } from '../gan/evaluate.js';
import { ganEvalMetric, GAN_EVAL_METRICS, metricDirection, metricProblem } from './objective.js';
import { BACKEND_CHOICES, type BackendChoice } from '../protocol/backends.js';
import type {
  ExperimentSpec,
  ObjectiveReduce,
  ObjectiveSpec,
  ParamValue,
  PrunerSpec,
  RunTemplate,
  SamplerName,
  SearchDimension,
} from '../protocol/experiments.js';

/** A spec that cannot be used; the message is one line naming the file and the key path. */
export class SpecError extends Error {
  override name = 'SpecError';
}

export const SAMPLERS: readonly SamplerName[] = ['grid', 'random', 'tpe'];
export const OBJECTIVE_REDUCES: readonly ObjectiveReduce[] = ['iqm-last', 'mean-last', 'auc', 'steps-to-threshold'];
/** Default objective metric per run kind (the GAN's Fréchet distance, AlphaZero-lite's evaluation score). */
export const DEFAULT_METRIC = { rl: 'eval', gan: 'fd', 'go-alphazero': 'score' } as const;
export const DEFAULT_PARALLEL_TRIALS = 4;
export const DEFAULT_PRUNER_STARTUP_TRIALS = 5;
export const DEFAULT_PRUNER_WARMUP_STEPS = 0;
/** The largest grid a grid sampler enumerates (and the most integers an `int` dimension may span without `grid`). */
export const MAX_GRID_SIZE = 1_000_000;
/** The experiment's name becomes directory and run-id prefixes: a plain name. */
export const SPEC_NAME_PATTERN = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,99}$/;

const TOP_LEVEL_KEYS = ['name', 'run', 'seeds', 'search', 'sampler', 'samplerSeed', 'trials', 'timeLimit', 'timeLimitSeconds', 'objective', 'pruner', 'parallelTrials'] as const;
const RUN_KEYS = {
  rl: ['kind', 'env', 'agent', 'steps', 'preset', 'evalEvery', 'evalEpisodes', 'set', 'kw', 'backend', 'import'],
  gan: ['kind', 'category', 'preset', 'iterations', 'limit', 'evalSamples', 'set', 'backend'],
  'go-alphazero': ['kind', 'iterations', 'set', 'backend'],
} as const;
/** The fewest images a GAN evaluation compares (the real ones are split into two halves of at least 2). */
export const MIN_EVAL_SAMPLES = 4;

type Obj = Record<string, unknown>;

/** Parses YAML (or JSON, which is YAML) text into a validated, normalised spec. */
export function parseSpec(text: string, file: string): ExperimentSpec {
  const lineCounter = new YAML.LineCounter();
  const doc = YAML.parseDocument(text, { prettyErrors: false, uniqueKeys: true, lineCounter });
  const problem = doc.errors[0] ?? doc.warnings[0];
  if (problem) {
    const at = problem.pos ? lineCounter.linePos(problem.pos[0]) : undefined;
    const where = at ? ` at line ${at.line}, column ${at.col}` : '';
    // The yaml package's messages carry their own position after the first line; one line is kept.
    const what = problem.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
    throw new SpecError(`${file}: not valid YAML or JSON${where}: ${what}`);
  }
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 100 });
  } catch (e) {
    throw new SpecError(`${file}: not valid YAML or JSON: ${(e as Error).message.split('\n')[0]}`);
  }
  return validateSpec(data, file);
}

/** Reads and parses a spec file; a missing or unreadable file is a SpecError too. */
export function readSpec(file: string): ExperimentSpec {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory, not a spec file' : (e as Error).message.split('\n')[0];
    throw new SpecError(`${file}: ${why}`);
  }
  return parseSpec(text, file);
}

/**
 * `run.import` of a spec's run object: plug-in module paths (one, or a list), made absolute against the working
 * directory as `--import` does; [] when absent; null when malformed.
 */
function specImportPaths(run: Obj): string[] | null {
  const given = own(run, 'import');
  if (given === undefined) return [];
  const list = typeof given === 'string' ? [given] : given;
  if (!Array.isArray(list) || !list.every((m) => typeof m === 'string' && m.trim() !== '')) return null;
  return list.map((m) => path.resolve(m as string));
}

/**
 * Imports the plug-in modules a spec's `run.import` names (from the raw spec, before it is validated: the
 * validation looks its env and agent up in the registries). Each failure is one line naming the module.
 */
export async function importSpecPlugins(rawSpec: unknown): Promise<void> {
  const run = typeof rawSpec === 'object' && rawSpec !== null ? (rawSpec as Obj)['run'] : undefined;
  if (typeof run !== 'object' || run === null) return;
  const paths = specImportPaths(run as Obj);
  if (paths?.length) await importPlugins(paths);
}

/** Reads a spec file after importing the plug-ins its `run.import` names. */
export async function readSpecWithPlugins(file: string): Promise<ExperimentSpec> {
  let raw: unknown = null;
  try {
    raw = YAML.parse(fs.readFileSync(file, 'utf8'));
  } catch {
    // readSpec says what is wrong with the file
  }
  await importSpecPlugins(raw);
  return readSpec(file);
}

export function specRunKind(spec: ExperimentSpec): 'rl' | 'gan' | 'go-alphazero' {
  return spec.run.kind;
}

// Defined with the other metric names in sweep/objective.ts; exported here too for the spec's readers.
export { metricDirection };

// ---------------------------------------------------------------------------------------------------------------
// Validation

/** Validates parsed data (e.g. experiment.json's `spec`) into a normalised spec; errors name `file` and the key. */
export function validateSpec(data: unknown, file: string): ExperimentSpec {
  const v: Validator = new Validator(file);
  v.noReservedKeys(data, '');
  const top = v.object(data, '', 'the spec');
  v.knownKeys(top, '', TOP_LEVEL_KEYS, '');

  const name = v.required(top, 'name', '');
  if (typeof name !== 'string' || !SPEC_NAME_PATTERN.test(name)) {
    v.fail('name', `must be a plain name (letters, digits, '.', '_', '-'; not starting with '.' or '-'; at most 100 characters), got ${describe(name)}`);
  }
  const run = validateRun(v, v.required(top, 'run', ''));
  const seeds = validateSeeds(v, v.required(top, 'seeds', ''));
  const sampler = own(top, 'sampler') ?? 'random';
  if (typeof sampler !== 'string' || !(SAMPLERS as readonly string[]).includes(sampler)) v.fail('sampler', `must be one of ${SAMPLERS.join(', ')}, got ${describe(sampler)}`);
  const search = validateSearch(v, own(top, 'search'), run, sampler as SamplerName);
  const samplerSeed = v.integer(own(top, 'samplerSeed') ?? 0, 'samplerSeed', 0);

  const trialsRaw = own(top, 'trials');
  const trials = trialsRaw === undefined || trialsRaw === null ? null : v.integer(trialsRaw, 'trials', 1);
  if (Object.hasOwn(top, 'timeLimit') && Object.hasOwn(top, 'timeLimitSeconds')) v.fail('timeLimitSeconds', 'give timeLimit or timeLimitSeconds, not both');
  const timeLimitSeconds = Object.hasOwn(top, 'timeLimitSeconds')
    ? top['timeLimitSeconds'] === null
      ? null
      : v.positiveNumber(top['timeLimitSeconds'], 'timeLimitSeconds')
    : own(top, 'timeLimit') === undefined || own(top, 'timeLimit') === null
      ? null
      : parseDuration(v, top['timeLimit'], 'timeLimit');
  // A grid's own size is a budget: every point once.
  if (trials === null && timeLimitSeconds === null && sampler !== 'grid') v.fail('', 'no budget: give trials (a number of trials) and/or timeLimit (e.g. 30m, 2h or a number of seconds); a grid sampler runs its grid once without either');

  const objective = validateObjective(v, own(top, 'objective'), run);
  const pruner = validatePruner(v, own(top, 'pruner'));
  if (pruner.type === 'median' && run.kind === 'gan' && ganEvalMetric(objective.metric)) {
    v.fail(
      'pruner',
      `the median pruner compares intermediate values, but ${objective.metric} is measured once, on the final generator ` +
        `(GAN evaluation metrics: ${GAN_EVAL_METRICS.map((m) => m.name).join(', ')}): use pruner none, or a training metric such as gLoss`,
    );
  }
  const parallelTrials = v.integer(own(top, 'parallelTrials') ?? DEFAULT_PARALLEL_TRIALS, 'parallelTrials', 0);

  return {
    name: name as string,
    run,
    seeds,
    search,
    sampler: sampler as SamplerName,
    samplerSeed,
    trials,
    timeLimitSeconds,
    objective,
    pruner,
    parallelTrials,
  };
}

function validateRun(v: Validator, raw: unknown): RunTemplate {
  const run = v.object(raw, 'run', 'the run template');
  const kind = own(run, 'kind');
  if (kind !== 'rl' && kind !== 'gan' && kind !== 'go-alphazero') v.fail('run.kind', `must be one of rl, gan, go-alphazero, got ${describe(kind)}`);
  v.knownKeys(run, 'run', RUN_KEYS[kind], `in a run of kind ${kind}`);
  const backend = own(run, 'backend');
  if (backend !== undefined && !(BACKEND_CHOICES as readonly unknown[]).includes(backend)) v.fail('run.backend', `must be one of ${BACKEND_CHOICES.join(', ')}, got ${describe(backend)}`);
  const withBackend = backend === undefined ? {} : { backend: backend as BackendChoice };
  const set = own(run, 'set') === undefined ? undefined : v.object(run['set'], 'run.set', 'an object of hyperparameter overrides');

  if (kind === 'rl') {
    const imports = specImportPaths(run);
    if (imports === null) v.fail('run.import', `must be a module path or a list of module paths, got ${describe(own(run, 'import'))}`);
    const env = v.required(run, 'env', 'run');
    if (typeof env !== 'string' || env === '') v.fail('run.env', `must be an environment id, got ${describe(env)}`);
    v.wrap('run.env', () => registration(env));
    const agent = v.required(run, 'agent', 'run');
    if (typeof agent !== 'string' || agent === '') v.fail('run.agent', `must be an agent name, got ${describe(agent)}`);
    v.wrap('run.agent', () => agentEntry(agent));
    const preset = own(run, 'preset');
    if (preset !== undefined && (typeof preset !== 'string' || preset === '')) v.fail('run.preset', `must be a preset name, got ${describe(preset)}`);
    const found = v.wrap('run.preset', () => findPreset(agent, env, preset as string | undefined));
    if (set) v.wrap('run.set', () => resolveAgentConfig(agent, found?.preset ?? null, set));
    const kw = own(run, 'kw') === undefined ? undefined : v.object(run['kw'], 'run.kw', 'an object of environment options');
    const evalEvery = own(run, 'evalEvery') === undefined ? undefined : v.integer(run['evalEvery'], 'run.evalEvery', 0);
    const evalEpisodes = own(run, 'evalEpisodes') === undefined ? undefined : v.integer(run['evalEpisodes'], 'run.evalEpisodes', 1);
    return {
      kind,
      env,
      agent,
      steps: v.integer(v.required(run, 'steps', 'run'), 'run.steps', 1),
      ...(preset !== undefined ? { preset: preset as string } : {}),
      ...(evalEvery !== undefined ? { evalEvery } : {}),
      ...(evalEpisodes !== undefined ? { evalEpisodes } : {}),
      ...(set ? { set } : {}),
      ...(kw ? { kw } : {}),
      ...withBackend,
      ...(imports.length ? { import: imports } : {}),
    };
  }
  if (kind === 'gan') {
    const category = v.required(run, 'category', 'run');
    if (typeof category !== 'string' || category.trim() === '') v.fail('run.category', `must be a Quick, Draw! category name, got ${describe(category)}`);
    const preset = own(run, 'preset') ?? 'fast';
    if (typeof preset !== 'string') v.fail('run.preset', `must be a GAN preset name, got ${describe(preset)}`);
    v.wrap('run.preset', () => ganPreset(preset));
    if (set) v.wrap('run.set', () => resolveGanHyperparameters(preset, { overrides: set }));
    const limit = own(run, 'limit') === undefined ? undefined : v.integer(run['limit'], 'run.limit', 1);
    const evalSamples = own(run, 'evalSamples') === undefined ? undefined : v.integer(run['evalSamples'], 'run.evalSamples', MIN_EVAL_SAMPLES);
    return {
      kind,
      category,
      ...(own(run, 'preset') !== undefined ? { preset } : {}),
      iterations: v.integer(v.required(run, 'iterations', 'run'), 'run.iterations', 1),
      ...(limit !== undefined ? { limit } : {}),
      ...(evalSamples !== undefined ? { evalSamples } : {}),
      ...(set ? { set } : {}),
      ...withBackend,
    };
  }
  if (set) v.wrap('run.set', () => resolveAlphaZeroHyperparameters(set));
  return {
    kind,
    iterations: v.integer(v.required(run, 'iterations', 'run'), 'run.iterations', 1),
    ...(set ? { set } : {}),
    ...withBackend,
  };
}

function validateSeeds(v: Validator, raw: unknown): number[] {
  if (!Array.isArray(raw) || raw.length === 0) v.fail('seeds', `must be a non-empty list of seeds (integers ≥ 0), got ${describe(raw)}`);
  const seen = new Set<number>();
  raw.forEach((s, i) => {
    v.integer(s, `seeds[${i}]`, 0);
    if (seen.has(s)) v.fail(`seeds[${i}]`, `seed ${s} is listed twice`);
    seen.add(s);
  });
  return [...raw] as number[];
}

function validateSearch(v: Validator, raw: unknown, run: RunTemplate, sampler: SamplerName): Record<string, SearchDimension> {
  if (raw === undefined || raw === null) v.fail('search', 'search space is empty (give at least one hyperparameter to search)');
  const search = v.object(raw, 'search', 'an object of search dimensions');
  const keys = Object.keys(search);
  if (keys.length === 0) v.fail('search', 'search space is empty (give at least one hyperparameter to search)');
  const out: Record<string, SearchDimension> = {};
  for (const key of keys) {
    const at = `search.${key}`;
    if (run.set && Object.hasOwn(run.set, key)) v.fail(at, `'${key}' is both fixed in run.set and searched; keep one`);
    const dim = validateDimension(v, search[key], at, sampler);
    checkHyperparameter(v, run, key, dim, at);
    out[key] = dim;
  }
  if (sampler === 'grid') {
    const points = (d: SearchDimension) => ('choice' in d ? d.choice.length : 'int' in d ? Math.min(d.grid ?? Infinity, d.int[1] - d.int[0] + 1) : (d.grid ?? 1));
    const size = Object.values(out).reduce((n, d) => n * points(d), 1);
    if (size > MAX_GRID_SIZE) v.fail('search', `the grid has ${size} points, more than ${MAX_GRID_SIZE}: lower the grid counts`);
  }
  return out;
}

function validateDimension(v: Validator, raw: unknown, at: string, sampler: SamplerName): SearchDimension {
  const d = v.object(raw, at, 'a search dimension such as { loguniform: [0.0001, 0.01] }, { uniform: [0, 1] }, { int: [1, 8] } or { choice: [a, b] }');
  const types = ['choice', 'uniform', 'loguniform', 'int'].filter((t) => Object.hasOwn(d, t));
  if (types.length !== 1) v.fail(at, `needs exactly one of choice, uniform, loguniform, int, got ${types.length ? types.join(' and ') : `keys ${Object.keys(d).join(', ') || 'none'}`}`);
  const type = types[0]!;
  v.knownKeys(d, at, type === 'choice' ? ['choice'] : type === 'int' ? ['int', 'log', 'grid'] : [type, 'grid'], `in ${type === 'int' ? 'an' : 'a'} ${type} dimension`);
  if (type === 'choice') {
    const values = d['choice'];
    if (!Array.isArray(values)) v.fail(`${at}.choice`, `must be a list of values, got ${describe(values)}`);
    if (values.length === 0) v.fail(at, 'search space is empty (an empty choice list)');
    values.forEach((x, i) => {
      if (!(typeof x === 'string' || typeof x === 'boolean' || (typeof x === 'number' && Number.isFinite(x)))) v.fail(`${at}.choice[${i}]`, `a choice is a number, a string or a boolean, got ${describe(x)}`);
      if (values.indexOf(x) !== i) v.fail(`${at}.choice[${i}]`, `${describe(x)} is listed twice`);
    });
    return { choice: [...(values as ParamValue[])] };
  }
  const range = d[type];
  if (!Array.isArray(range) || range.length !== 2 || !range.every((x) => typeof x === 'number' && Number.isFinite(x))) {
    v.fail(`${at}.${type}`, `must be [low, high] (two numbers), got ${describe(range)}`);
  }
  const [low, high] = range as [number, number];
  const grid = own(d, 'grid') === undefined ? undefined : v.integer(d['grid'], `${at}.grid`, 1);
  if (grid !== undefined && grid > MAX_GRID_SIZE) v.fail(`${at}.grid`, `at most ${MAX_GRID_SIZE} points, got ${grid}`);
  const withGrid = grid === undefined ? {} : { grid };
  if (type === 'uniform') {
    if (!(low <= high)) v.fail(at, `uniform needs low ≤ high, got ${describe(range)}`);
    if (sampler === 'grid' && grid === undefined) v.fail(at, "the grid sampler needs 'grid: n' (n evenly spaced points) for a continuous dimension");
    return { uniform: [low, high], ...withGrid };
  }
  if (type === 'loguniform') {
    if (!(low > 0 && low <= high)) v.fail(at, `loguniform needs 0 < low ≤ high, got ${describe(range)}`);
    if (sampler === 'grid' && grid === undefined) v.fail(at, "the grid sampler needs 'grid: n' (n log-spaced points) for a continuous dimension");
    return { loguniform: [low, high], ...withGrid };
  }
  const log = own(d, 'log') ?? false;
  if (typeof log !== 'boolean') v.fail(`${at}.log`, `must be true or false, got ${describe(log)}`);
  if (!Number.isSafeInteger(low) || !Number.isSafeInteger(high) || !(low <= high)) v.fail(at, `int needs integers low ≤ high, got ${describe(range)}`);
  if (log && !(low > 0)) v.fail(at, `int with log: true needs 0 < low ≤ high, got ${describe(range)}`);
  if (sampler === 'grid' && grid === undefined && high - low + 1 > MAX_GRID_SIZE) v.fail(at, `the grid sampler would enumerate ${high - low + 1} integers; give 'grid: n'`);
  return { int: [low, high], ...(log ? { log } : {}), ...withGrid };
}

/** The values a dimension can produce, for type checks: its choices, or its bounds. */
function representativeValues(dim: SearchDimension): ParamValue[] {
  if ('choice' in dim) return [...dim.choice];
  if ('uniform' in dim) return [...dim.uniform];
  if ('loguniform' in dim) return [...dim.loguniform];
  return [...dim.int];
}

/** The searched key must be a hyperparameter of the run's kind that takes the dimension's values. */
function checkHyperparameter(v: Validator, run: RunTemplate, key: string, dim: SearchDimension, at: string): void {
  const values = representativeValues(dim);
  const what = 'choice' in dim ? 'choice' : Object.keys(dim)[0]!;
  const typeError = (owner: string, expected: unknown): void => {
    if (expected === null || expected === undefined) return; // no default to compare with: any value
    const expectedType = Array.isArray(expected) ? 'list' : typeof expected;
    if (expectedType === 'object' || expectedType === 'list') v.fail(at, `${owner} hyperparameter '${key}' is ${expectedType === 'list' ? 'a list' : 'an object'}; a search dimension gives numbers, strings or booleans`);
    const wrong = values.find((x) => typeof x !== expectedType);
    if (wrong !== undefined) {
      const given = 'choice' in dim ? `${what} of ${[...new Set(values.map((x) => `${typeof x}s`))].join(' and ')} ${describe(values)}` : `${what} ${describe(values)}`;
      v.fail(at, `${owner} hyperparameter '${key}' is a ${expectedType}, got ${given}`);
    }
  };
  if (run.kind === 'rl') {
    // Name check by the registry itself, so the message is the one `lab train --set` gives.
    v.wrap(at, () => resolveAgentConfig(run.agent, null, { [key]: (agentEntry(run.agent).defaults as Record<string, unknown>)[key] }));
    typeError(run.agent, (agentEntry(run.agent).defaults as Record<string, unknown>)[key]);
    return;
  }
  if (run.kind === 'go-alphazero') {
    const defaults = defaultHyperparameters() as unknown as Record<string, unknown>;
    v.wrap(at, () => resolveAlphaZeroHyperparameters({ [key]: Object.hasOwn(defaults, key) ? defaults[key] : null }));
    typeError('AlphaZero', defaults[key]);
    return;
  }
  const base = ganPreset(run.preset ?? 'fast').hyperparameters as unknown as Obj;
  const current = valueAtPath(base, key);
  // Setting the preset's own value checks the name (dotted paths included) exactly as `lab gan train --set` does.
  v.wrap(at, () => resolveGanHyperparameters(run.preset ?? 'fast', { overrides: { [key]: current === undefined && isOptionalNetKey(key) ? undefined : current } as never }));
  typeError('GAN', current);
}

function isOptionalNetKey(key: string): boolean {
  const parts = key.split('.');
  return parts.length === 2 && (parts[0] === 'generator' || parts[0] === 'discriminator') && OPTIONAL_NET_SPEC_KEYS.includes(parts[1]!);
}

function valueAtPath(root: Obj, dotted: string): unknown {
  let node: unknown = root;
  for (const part of dotted.split('.')) {
    if (node === null || typeof node !== 'object' || !Object.hasOwn(node, part)) return undefined;
    node = (node as Obj)[part];
  }
  return node;
}

function validateObjective(v: Validator, raw: unknown, run: RunTemplate): ObjectiveSpec {
  const o = raw === undefined || raw === null ? {} : v.object(raw, 'objective', 'an object {metric, reduce, direction, threshold?}');
  v.knownKeys(o, 'objective', ['metric', 'reduce', 'direction', 'threshold'], '');
  const metric = own(o, 'metric') ?? DEFAULT_METRIC[run.kind];
  if (typeof metric !== 'string' || metric === '') v.fail('objective.metric', `must be a metric name, got ${describe(metric)}`);
  const problem = metricProblem(run.kind, metric);
  if (problem) v.fail('objective.metric', problem);
  if (run.kind === 'gan' && metric === 'classified') {
    const classes = v.wrap('objective.metric', () => classifierClasses());
    if (!classes.includes(run.category)) v.fail('objective.metric', `classified needs a category the classifier knows (${classes.join(', ')}); ${describe(run.category)} is not one: use fd, fdRatio or kid`);
  }
  const reduce = own(o, 'reduce') ?? 'iqm-last';
  if (typeof reduce !== 'string' || !(OBJECTIVE_REDUCES as readonly string[]).includes(reduce)) v.fail('objective.reduce', `must be one of ${OBJECTIVE_REDUCES.join(', ')}, got ${describe(reduce)}`);
  const direction = own(o, 'direction') ?? (reduce === 'steps-to-threshold' ? 'minimize' : metricDirection(metric));
  if (direction !== 'maximize' && direction !== 'minimize') v.fail('objective.direction', `must be maximize or minimize, got ${describe(direction)}`);
  if (reduce === 'steps-to-threshold' && direction !== 'minimize') v.fail('objective.direction', 'steps-to-threshold counts steps: fewer is better, so the direction is minimize');
  const threshold = own(o, 'threshold');
  if (threshold !== undefined && !(typeof threshold === 'number' && Number.isFinite(threshold))) v.fail('objective.threshold', `must be a number, got ${describe(threshold)}`);
  if (reduce === 'steps-to-threshold' && threshold === undefined) {
    const envThreshold = run.kind === 'rl' ? registration(run.env).rewardThreshold : undefined;
    if (envThreshold === undefined) v.fail('objective.threshold', `steps-to-threshold needs a threshold${run.kind === 'rl' ? ` (${run.env} registers no reward threshold)` : ''}`);
  }
  if (run.kind === 'rl' && run.evalEvery === 0) v.fail('run.evalEvery', 'is 0 (no evaluations), but the objective is measured on the evaluations');
  return { metric, reduce: reduce as ObjectiveReduce, direction, ...(threshold !== undefined ? { threshold: threshold as number } : {}) };
}

function validatePruner(v: Validator, raw: unknown): PrunerSpec {
  if (raw === undefined || raw === null || raw === 'none') return { type: 'none' };
  if (raw === 'median') return { type: 'median', warmupSteps: DEFAULT_PRUNER_WARMUP_STEPS, startupTrials: DEFAULT_PRUNER_STARTUP_TRIALS };
  if (typeof raw === 'string') v.fail('pruner', `must be none, median or { type: median, warmupSteps, startupTrials }, got ${describe(raw)}`);
  const p = v.object(raw, 'pruner', 'none, median or { type: median, warmupSteps, startupTrials }');
  const type = own(p, 'type');
  if (type === 'none') {
    v.knownKeys(p, 'pruner', ['type'], 'for pruner none');
    return { type: 'none' };
  }
  if (type !== 'median') v.fail('pruner.type', `must be none or median, got ${describe(type)}`);
  v.knownKeys(p, 'pruner', ['type', 'warmupSteps', 'startupTrials'], 'for the median pruner');
  return {
    type: 'median',
    warmupSteps: v.integer(own(p, 'warmupSteps') ?? DEFAULT_PRUNER_WARMUP_STEPS, 'pruner.warmupSteps', 0),
    startupTrials: v.integer(own(p, 'startupTrials') ?? DEFAULT_PRUNER_STARTUP_TRIALS, 'pruner.startupTrials', 0),
  };
}

const DURATION_UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };

/** A wall-time budget: a number of seconds, or "90s", "30m", "2h", "1.5h", "1d". */
export function parseDurationSeconds(value: unknown): number | null {
  if (typeof value === 'number') return Number.isFinite(value) && value > 0 ? value : null;
  if (typeof value !== 'string') return null;
  const m = /^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d)?\s*$/.exec(value);
  if (!m) return null;
  const seconds = Number(m[1]) * DURATION_UNITS[m[2] ?? 's']!;
  return seconds > 0 ? seconds : null;
}

function parseDuration(v: Validator, value: unknown, at: string): number {
  const seconds = parseDurationSeconds(value);
  if (seconds === null) v.fail(at, `must be a positive number of seconds or a duration such as 90s, 30m, 2h, got ${describe(value)}`);
  return seconds;
}

// ---------------------------------------------------------------------------------------------------------------
// Helpers

function own(o: Obj, key: string): unknown {
  return Object.hasOwn(o, key) ? o[key] : undefined;
}

/** A value for a one-line message: JSON, shortened. */
function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  let text: string;
  try {
    text = Array.isArray(value) ? `[${value.map((x) => JSON.stringify(x) ?? String(x)).join(', ')}]` : (JSON.stringify(value) ?? String(value));
  } catch {
    text = String(value);
  }
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

class Validator {
  constructor(readonly file: string) {}

  fail(at: string, message: string): never {
    throw new SpecError(`${this.file}: ${at ? `${at}: ` : ''}${message}`);
  }

  /** Runs a resolver of another layer; its error becomes a SpecError at `at` (its first line). */
  wrap<T>(at: string, fn: () => T): T {
    try {
      return fn();
    } catch (e) {
      return this.fail(at, (e as Error).message.split('\n')[0]!);
    }
  }

  object(value: unknown, at: string, what: string): Obj {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) this.fail(at, `expected ${what}, got ${describe(value)}`);
    return value as Obj;
  }

  required(o: Obj, key: string, parent: string): unknown {
    if (!Object.hasOwn(o, key) || o[key] === undefined || o[key] === null) this.fail(parent ? `${parent}.${key}` : key, 'missing');
    return o[key];
  }

  knownKeys(o: Obj, at: string, known: readonly string[], context: string): void {
    for (const key of Object.keys(o)) {
      if (known.includes(key)) continue;
      const listed = known.filter((k) => k !== 'timeLimitSeconds');
      const near = listed.find((k) => editDistance(k, key) <= 2);
      this.fail(at ? `${at}.${key}` : key, `unknown key '${key}'${context ? ` ${context}` : ''}${near ? ` (did you mean '${near}'?)` : ''}; known: ${listed.join(', ')}`);
    }
  }

  integer(value: unknown, at: string, min: number): number {
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) this.fail(at, `must be an integer ≥ ${min}, got ${describe(value)}`);
    return value;
  }

  positiveNumber(value: unknown, at: string): number {
    if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) this.fail(at, `must be a positive number, got ${describe(value)}`);
    return value;
  }

  /** Refuses `__proto__`, `constructor`, … anywhere in the spec (YAML and JSON.parse make them own keys). */
  noReservedKeys(value: unknown, at: string): void {
    if (Array.isArray(value)) {
      value.forEach((x, i) => this.noReservedKeys(x, `${at}[${i}]`));
      return;
    }
    if (value === null || typeof value !== 'object') return;
    for (const key of Object.keys(value)) {
      const path = at ? `${at}.${key}` : key;
      if (isReservedKey(key)) this.fail(path, `'${key}' is not allowed as a key`);
      for (const part of key.split('.')) if (isReservedKey(part)) this.fail(path, `'${part}' is not allowed in a key`);
      this.noReservedKeys((value as Obj)[key], path);
    }
  }
}

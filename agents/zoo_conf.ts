/**
 * rl-baselines3-zoo hyperparameter files (`hyperparams/dqn.yml`, `a2c.yml`, `ppo.yml`) read as the lab's agent
 * hyperparameters: `lab train --conf hyperparams/dqn.yml --env CartPole-v1`.
 *
 * A zoo file holds one section per env id; a section names Stable-Baselines3 constructor arguments (SB3's names),
 * plus the zoo's own keys (`n_timesteps`, `n_envs`, `policy`, `normalize`). Keys a section leaves out take SB3's
 * defaults, as the zoo does, so a section means the same run here as there. `policy_kwargs` (and a string
 * `normalize`) are Python expressions the zoo `eval`s; the lab reads the literal subset they use (dict(...),
 * {...}, [...], numbers, strings, True/False/None and names such as nn.ReLU) and refuses anything else.
 * `lin_<x>` values are SB3's linear schedules (x decaying linearly to 0 over the run).
 *
 * Everything the lab cannot honour is an error naming the key, the file and the section: a silently dropped
 * key would train something else than the file says.
 */
import fs from 'node:fs';
import path from 'node:path';
import YAML, { type ScalarTag } from 'yaml';
import { AGENTS, agentEntry } from './registry.js';

/** A zoo section read as the lab's hyperparameters. */
export interface ZooConf {
  /** The file as given. */
  file: string;
  /** The section (env id) it came from. */
  section: string;
  agent: string;
  /** The lab's hyperparameter names and values: the section's keys and SB3's defaults for the ones it leaves out. */
  hyperparameters: Record<string, unknown>;
  /** `n_timesteps`, if the section gives it. */
  steps: number | null;
}

/** The agents zoo files can configure (the lab agents with an SB3 counterpart). */
export const ZOO_AGENTS: readonly string[] = ['dqn', 'a2c', 'ppo'];

// ---------------------------------------------------------------------------------------------------------------
// Python literals (policy_kwargs, normalize)

/** A Python name such as `nn.ReLU` (a value the lab reads only where it knows the name). */
export class PyName {
  constructor(readonly dotted: string) {}
  toString(): string {
    return this.dotted;
  }
}

export type PyValue = number | string | boolean | null | PyName | PyValue[] | { [key: string]: PyValue };

const PY_SUBSET = 'dict(...), {...}, [...], (...), numbers, quoted strings, True, False, None and names such as nn.ReLU';

/**
 * Parses the Python literal subset zoo files use in `policy_kwargs` and `normalize`:
 * `dict(net_arch=[256, 256])`, `dict(log_std_init=-2, ortho_init=False, activation_fn=nn.ReLU, net_arch=dict(pi=[64], vf=[64]))`,
 * `{'norm_obs': True, 'norm_reward': False}`. Throws one line naming what it could not read and where.
 */
export function parsePythonLiteral(text: string): PyValue {
  let i = 0;
  const fail = (what: string): never => {
    throw new Error(`cannot read ${JSON.stringify(text)}: ${what} at character ${i + 1} (the lab reads ${PY_SUBSET})`);
  };
  const skip = () => {
    while (i < text.length && /\s/.test(text[i]!)) i++;
  };
  const expect = (ch: string) => {
    skip();
    if (text[i] !== ch) fail(i < text.length ? `expected '${ch}', found '${text[i]}'` : `expected '${ch}', found the end`);
    i++;
  };
  const identifier = (): string => {
    const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(text.slice(i));
    if (!m) fail(`expected a name, found '${text[i] ?? 'the end'}'`);
    i += m![0].length;
    return m![0];
  };
  /** Comma-separated items up to `close` (a trailing comma allowed). */
  const items = (close: string, item: () => void) => {
    skip();
    while (text[i] !== close) {
      item();
      skip();
      if (text[i] === ',') {
        i++;
        skip();
      } else if (text[i] !== close) {
        fail(i < text.length ? `expected ',' or '${close}', found '${text[i]}'` : `expected '${close}', found the end`);
      }
    }
    i++;
  };
  const value = (): PyValue => {
    skip();
    const c = text[i];
    if (c === undefined) return fail('expected a value, found the end');
    if (c === '[' || c === '(') {
      i++;
      const out: PyValue[] = [];
      items(c === '[' ? ']' : ')', () => out.push(value()));
      return out;
    }
    if (c === '{') {
      i++;
      const out: Record<string, PyValue> = {};
      items('}', () => {
        const key = value();
        if (typeof key !== 'string') fail('dictionary keys must be quoted strings');
        expect(':');
        setKey(out, key as string, value());
      });
      return out;
    }
    if (c === "'" || c === '"') {
      const end = text.indexOf(c, i + 1);
      if (end < 0) fail('a string that never ends');
      const s = text.slice(i + 1, end);
      if (s.includes('\\')) fail('escapes in strings are not read');
      i = end + 1;
      return s;
    }
    const num = /^[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?/.exec(text.slice(i));
    if (num) {
      i += num[0].length;
      if (/^[A-Za-z_]/.test(text.slice(i))) fail(`a number followed by '${text[i]}'`);
      return Number(num[0]);
    }
    if (!/[A-Za-z_]/.test(c)) return fail(`unexpected '${c}'`);
    const start = i;
    let name = identifier();
    while (text[i] === '.') {
      i++;
      name += '.' + identifier();
    }
    if (name === 'True') return true;
    if (name === 'False') return false;
    if (name === 'None') return null;
    skip();
    if (text[i] === '(') {
      if (name !== 'dict') {
        i = start;
        fail(`a call of ${name}(...) (only dict(...) is read)`);
      }
      i++;
      const out: Record<string, PyValue> = {};
      items(')', () => {
        skip();
        const key = identifier();
        expect('=');
        setKey(out, key, value());
      });
      return out;
    }
    return new PyName(name);
  };
  const setKey = (out: Record<string, PyValue>, key: string, v: PyValue) => {
    if (key === '__proto__') fail("a key named '__proto__'");
    if (Object.hasOwn(out, key)) fail(`the key '${key}' twice`);
    out[key] = v;
  };
  const result = value();
  skip();
  if (i < text.length) fail(`unexpected '${text[i]}' after the value`);
  return result;
}

// ---------------------------------------------------------------------------------------------------------------
// SB3's defaults (stable-baselines3 2.x constructors; the zoo's n_envs default is 1)

const SB3_DEFAULTS: Record<string, Record<string, unknown>> = {
  dqn: {
    n_envs: 1,
    learning_rate: 1e-4,
    buffer_size: 1_000_000,
    learning_starts: 100,
    batch_size: 32,
    tau: 1.0,
    gamma: 0.99,
    train_freq: 4,
    gradient_steps: 1,
    target_update_interval: 10_000,
    exploration_fraction: 0.1,
    exploration_initial_eps: 1.0,
    exploration_final_eps: 0.05,
    max_grad_norm: 10,
    policy_kwargs: { net_arch: [64, 64], activation_fn: new PyName('nn.ReLU'), optimizer_kwargs: { eps: 1e-8 } },
  },
  a2c: {
    n_envs: 1,
    learning_rate: 7e-4,
    n_steps: 5,
    gamma: 0.99,
    gae_lambda: 1.0,
    ent_coef: 0.0,
    vf_coef: 0.5,
    max_grad_norm: 0.5,
    rms_prop_eps: 1e-5,
    use_rms_prop: true,
    normalize_advantage: false,
    normalize: false,
    policy_kwargs: { net_arch: [64, 64], activation_fn: new PyName('nn.Tanh'), ortho_init: true, log_std_init: 0.0 },
  },
  ppo: {
    n_envs: 1,
    learning_rate: 3e-4,
    n_steps: 2048,
    batch_size: 64,
    n_epochs: 10,
    gamma: 0.99,
    gae_lambda: 0.95,
    clip_range: 0.2,
    clip_range_vf: null,
    normalize_advantage: true,
    ent_coef: 0.0,
    vf_coef: 0.5,
    max_grad_norm: 0.5,
    target_kl: null,
    normalize: false,
    policy_kwargs: { net_arch: [64, 64], activation_fn: new PyName('nn.Tanh'), ortho_init: true, log_std_init: 0.0, optimizer_kwargs: { eps: 1e-5 } },
  },
};

/** Zoo and SB3 keys the lab knows but cannot honour, and what they are (for the error). */
const UNSUPPORTED: Record<string, string> = {
  frame_stack: "frame stacking (the zoo's VecFrameStack)",
  env_wrapper: 'env wrappers',
  vec_env_wrapper: 'vec-env wrappers',
  callback: 'callbacks',
  env_kwargs: "env options (give the lab's with --kw)",
  normalize_kwargs: 'VecNormalize options (write them in normalize)',
  monitor_kwargs: 'Monitor options',
  use_sde: 'generalized state-dependent exploration',
  sde_sample_freq: 'generalized state-dependent exploration',
  replay_buffer_class: 'other replay buffers',
  replay_buffer_kwargs: 'replay-buffer options',
  optimize_memory_usage: "SB3's memory-saving replay buffer",
  stats_window_size: "SB3's logging window",
  policy_delay: 'TD3-style delayed policy updates',
  target_policy_noise: 'TD3-style target smoothing',
  target_noise_clip: 'TD3-style target smoothing',
  noise_type: 'action noise',
  noise_std: 'action noise',
  rollout_buffer_class: 'other rollout buffers',
  rollout_buffer_kwargs: 'rollout-buffer options',
  use_expln: 'gSDE options',
  squash_output: 'gSDE options',
  full_std: 'gSDE options',
  features_extractor_class: 'custom feature extractors',
  features_extractor_kwargs: 'custom feature extractors',
  share_features_extractor: 'feature-extractor sharing',
  optimizer_class: 'other optimizers',
  normalize_images: 'image normalisation options',
  n_critics: 'several critics',
  n_quantiles: 'quantile networks',
  dueling: 'dueling networks',
};

/** Values of such keys that mean "off" and so change nothing. */
const HARMLESS: Record<string, unknown> = { use_sde: false, optimize_memory_usage: false, frame_stack: null };

/** SB3 activation classes and the lab's names for them. */
const ACTIVATIONS: Record<string, string> = { ReLU: 'relu', Tanh: 'tanh', ELU: 'elu', Sigmoid: 'sigmoid' };

// ---------------------------------------------------------------------------------------------------------------
// Reading one section

class ZooError extends Error {}

/** One section's keys: each read at most once, with its type checked; what is left over is an error. */
class Section {
  private readonly used = new Set<string>();
  constructor(
    private readonly values: Record<string, unknown>,
    /** Keys the file gave (the rest are SB3's defaults). */
    private readonly given: ReadonlySet<string>,
    private readonly fail: (msg: string) => never,
  ) {}

  has(key: string): boolean {
    return Object.hasOwn(this.values, key);
  }

  fromFile(key: string): boolean {
    return this.given.has(key);
  }

  raw(key: string): unknown {
    this.used.add(key);
    return this.values[key];
  }

  number(key: string, opts: { integer?: boolean; min?: number; max?: number; nullable?: boolean } = {}): number | null {
    const v = this.raw(key);
    if (v === null && opts.nullable) return null;
    const ok = typeof v === 'number' && Number.isFinite(v) && (!opts.integer || Number.isInteger(v)) && (opts.min === undefined || v >= opts.min) && (opts.max === undefined || v <= opts.max);
    if (!ok) {
      const range = opts.min !== undefined ? (opts.max !== undefined ? ` in [${opts.min}, ${opts.max}]` : ` >= ${opts.min}`) : '';
      this.fail(`${key}: expected ${opts.integer ? 'an integer' : 'a number'}${range}${opts.nullable ? ' or null' : ''}, got ${show(v)}`);
    }
    return v as number;
  }

  bool(key: string): boolean {
    const v = this.raw(key);
    if (typeof v !== 'boolean') this.fail(`${key}: expected true or false, got ${show(v)}`);
    return v as boolean;
  }

  /** A number or a `lin_<x>` schedule. */
  schedule(key: string, opts: { nullable?: boolean } = {}): { value: number; linear: boolean } | null {
    const v = this.raw(key);
    if (v === null && opts.nullable) return null;
    if (typeof v === 'string' && v.startsWith('lin_')) {
      const x = Number(v.slice(4));
      if (v.length === 4 || !Number.isFinite(x) || x <= 0) this.fail(`${key}: ${show(v)} is not a linear schedule (expected lin_<positive number>, e.g. lin_0.001)`);
      return { value: x, linear: true };
    }
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) this.fail(`${key}: expected a positive number or lin_<number>, got ${show(v)}`);
    return { value: v as number, linear: false };
  }

  /** Keys never read: a clear error for each kind. */
  leftovers(agent: string): void {
    for (const key of Object.keys(this.values)) {
      if (this.used.has(key)) continue;
      const v = this.values[key];
      if (Object.hasOwn(HARMLESS, key) && HARMLESS[key] === v) continue;
      if (Object.hasOwn(UNSUPPORTED, key)) this.fail(`${key}: ${UNSUPPORTED[key]} ${isPlural(UNSUPPORTED[key]!) ? 'are' : 'is'} not supported by the lab`);
      this.fail(`${key}: not a ${agent} hyperparameter the lab knows (rl-zoo / Stable-Baselines3 name expected; the lab reads ${readableKeys(agent)})`);
    }
  }
}

function isPlural(what: string): boolean {
  return /s( \(|$)/.test(what) && !/^generalized/.test(what);
}

function show(v: unknown): string {
  if (v instanceof PyName) return v.dotted;
  if (v === undefined) return 'nothing';
  return JSON.stringify(v);
}

/** The keys the lab reads for an agent (for "unknown key" errors). */
function readableKeys(agent: string): string {
  return [...Object.keys(SB3_DEFAULTS[agent] ?? {}), 'n_timesteps', 'policy', 'normalize'].filter((k, i, a) => a.indexOf(k) === i).join(', ');
}

/**
 * Maps one zoo section (SB3's names, as YAML gives them) to the lab's hyperparameters for `agent`. `where` names
 * the section in errors ("hyperparams/dqn.yml: CartPole-v1").
 */
export function mapZooSection(agent: string, section: Record<string, unknown>, where: string): { hyperparameters: Record<string, unknown>; steps: number | null } {
  const fail = (msg: string): never => {
    throw new ZooError(`${where}: ${msg}`);
  };
  if (!ZOO_AGENTS.includes(agent)) fail(`rl-zoo files configure ${ZOO_AGENTS.join(', ')}; the lab's ${agent} has no Stable-Baselines3 counterpart`);
  if (!Object.hasOwn(AGENTS, agent)) fail(`the lab has no ${agent} agent yet`);
  const labDefaults = agentEntry(agent).defaults as Record<string, unknown>;
  const sb3 = SB3_DEFAULTS[agent]!;
  for (const key of Object.keys(section)) if (key === '__proto__') fail("a key named '__proto__'");

  // policy_kwargs and normalize: the file's Python strings read first; policy_kwargs merges over SB3's.
  const given = new Set(Object.keys(section));
  const fileKwargs = section.policy_kwargs === undefined ? {} : readPython(section.policy_kwargs, 'policy_kwargs', fail);
  if (typeof fileKwargs !== 'object' || fileKwargs === null || Array.isArray(fileKwargs) || fileKwargs instanceof PyName) fail(`policy_kwargs: expected dict(...), got ${show(section.policy_kwargs)}`);
  const kwargs = { ...(sb3.policy_kwargs as Record<string, PyValue>), ...(fileKwargs as Record<string, PyValue>) };
  const givenKwargs = new Set(Object.keys(fileKwargs as object));
  const s = new Section({ ...sb3, ...section, policy_kwargs: kwargs }, given, fail);

  const out: Record<string, unknown> = {};
  /** Sets a lab hyperparameter; an SB3 key the file gives whose lab counterpart this agent lacks is an error. */
  const set = (labKey: string, value: unknown, fromKey: string, fromFile = s.fromFile(fromKey)) => {
    if (!Object.hasOwn(labDefaults, labKey)) {
      if (fromFile) fail(`${fromKey}: not supported by the lab's ${agent} (it has no ${labKey})`);
      return;
    }
    out[labKey] = value;
  };

  s.raw('policy_kwargs');
  if (s.has('policy')) {
    const policy = s.raw('policy');
    if (policy !== 'MlpPolicy') fail(`policy: ${show(policy)} is not supported: the lab's networks are MLPs on vector observations (MlpPolicy) and its own conv nets on board planes`);
  }
  let steps: number | null = null;
  if (s.has('n_timesteps')) steps = s.number('n_timesteps', { integer: true, min: 1 });
  const nEnvs = s.number('n_envs', { integer: true, min: 1 })!;
  if (Object.hasOwn(labDefaults, 'numEnvs') && agent !== 'dqn') out.numEnvs = nEnvs;
  else if (nEnvs !== 1) fail(`n_envs: the lab's ${agent} steps one env, got ${nEnvs}`);
  set('gamma', s.number('gamma', { min: 0, max: 1 }), 'gamma');
  if (s.has('max_grad_norm')) set('maxGradNorm', s.number('max_grad_norm', { min: 0, nullable: true }), 'max_grad_norm');

  readNetwork(agent, kwargs, givenKwargs, set, fail);
  if (s.has('normalize')) readNormalize(s, agent, labDefaults, set, fail);

  if (agent === 'dqn') {
    const lr = s.schedule('learning_rate')!;
    if (lr.linear) fail('learning_rate: the lab\'s dqn has no learning-rate schedule (give a number)');
    set('learningRate', lr.value, 'learning_rate');
    set('bufferSize', s.number('buffer_size', { integer: true, min: 1 }), 'buffer_size');
    set('learningStarts', s.number('learning_starts', { integer: true, min: 0 }), 'learning_starts');
    set('batchSize', s.number('batch_size', { integer: true, min: 1 }), 'batch_size');
    set('tau', s.number('tau', { min: 0, max: 1 }), 'tau');
    const trainFreq = readTrainFreq(s.raw('train_freq'), fail);
    set('trainFrequency', trainFreq, 'train_freq');
    const gradientSteps = s.number('gradient_steps', { integer: true, min: -1 })!;
    if (gradientSteps === 0) fail('gradient_steps: 0 would never train (use -1 for as many as env steps, or a positive count)');
    // -1: as many gradient steps as env steps collected since the last training phase (one env: train_freq).
    set('gradientSteps', gradientSteps === -1 ? trainFreq : gradientSteps, 'gradient_steps');
    set('targetUpdateInterval', s.number('target_update_interval', { integer: true, min: 1 }), 'target_update_interval');
    const exploration = {
      type: 'linear',
      initial: s.number('exploration_initial_eps', { min: 0, max: 1 }),
      final: s.number('exploration_final_eps', { min: 0, max: 1 }),
      fraction: s.number('exploration_fraction', { min: 0, max: 1 }),
    };
    out.exploration = exploration;
    // SB3's DQN semantics where the lab's DQN has other options: no double DQN, Huber loss, training phases
    // every train_freq steps, time limits bootstrap, rewards as given.
    Object.assign(out, { doubleDqn: false, loss: 'huber', updateSchedule: 'steps', truncationIsTerminal: false, terminalReward: null });
  } else {
    const lr = s.schedule('learning_rate')!;
    set('learningRate', lr.value, 'learning_rate');
    set('linearLrDecay', lr.linear, 'learning_rate', s.fromFile('learning_rate') && lr.linear);
    set('nSteps', s.number('n_steps', { integer: true, min: 1 }), 'n_steps');
    set('gaeLambda', s.number('gae_lambda', { min: 0, max: 1 }), 'gae_lambda');
    set('entCoef', s.number('ent_coef', { min: 0 }), 'ent_coef');
    set('vfCoef', s.number('vf_coef', { min: 0 }), 'vf_coef');
    set('normalizeAdvantage', s.bool('normalize_advantage'), 'normalize_advantage');
    if (agent === 'a2c') {
      const rms = s.bool('use_rms_prop');
      set('optimizer', rms ? 'rmsprop' : 'adam', 'use_rms_prop');
      set('rmspropDecay', 0.99, 'use_rms_prop', false);
      const rmsEps = s.number('rms_prop_eps', { min: 0 })!;
      // SB3's A2C: RMSprop(alpha 0.99, eps rms_prop_eps), else the policy's Adam with eps 1e-5.
      set('epsilon', rms ? rmsEps : 1e-5, 'rms_prop_eps');
    } else {
      set('batchSize', s.number('batch_size', { integer: true, min: 1 }), 'batch_size');
      set('nEpochs', s.number('n_epochs', { integer: true, min: 1 }), 'n_epochs');
      const clip = s.schedule('clip_range')!;
      set('clipRange', clip.value, 'clip_range');
      const clipVf = s.schedule('clip_range_vf', { nullable: true });
      if (clipVf && clipVf.linear !== clip.linear) fail('clip_range_vf: the lab decays clip_range and clip_range_vf together (both lin_ or neither)');
      set('clipRangeVf', clipVf ? clipVf.value : null, 'clip_range_vf');
      set('linearClipDecay', clip.linear, 'clip_range', s.fromFile('clip_range') && clip.linear);
      set('targetKl', s.number('target_kl', { min: 0, nullable: true }), 'target_kl');
      set('shareNetwork', false, 'policy', false);
      const eps = (kwargs.optimizer_kwargs as Record<string, PyValue> | undefined)?.eps;
      if (typeof eps === 'number') set('epsilon', eps, 'policy_kwargs', givenKwargs.has('optimizer_kwargs'));
    }
  }
  s.leftovers(agent);
  return { hyperparameters: out, steps };
}

function readPython(v: unknown, key: string, fail: (msg: string) => never): PyValue {
  if (typeof v !== 'string') return fail(`${key}: expected a Python expression in a string (e.g. "dict(net_arch=[64, 64])"), got ${show(v)}`);
  try {
    return parsePythonLiteral(v);
  } catch (e) {
    return fail(`${key}: ${(e as Error).message}`);
  }
}

/** train_freq: an int, or [n, "step"]; per-episode training is not the lab's. */
function readTrainFreq(v: unknown, fail: (msg: string) => never): number {
  let n = v;
  if (Array.isArray(v)) {
    if (v.length !== 2 || (v[1] !== 'step' && v[1] !== 'episode')) fail(`train_freq: expected an integer or [n, "step"], got ${show(v)}`);
    if (v[1] === 'episode') fail('train_freq: training every n episodes is not supported by the lab\'s dqn (give [n, "step"])');
    n = v[0];
  }
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1) fail(`train_freq: expected a positive integer, got ${show(v)}`);
  return n as number;
}

/** policy_kwargs: net_arch, activation_fn, ortho_init, log_std_init, optimizer_kwargs (eps only). */
function readNetwork(
  agent: string,
  kwargs: Record<string, PyValue>,
  given: ReadonlySet<string>,
  set: (labKey: string, value: unknown, fromKey: string, fromFile?: boolean) => void,
  fail: (msg: string) => never,
): void {
  const sizes = (v: PyValue, what: string): number[] => {
    if (!Array.isArray(v) || v.some((u) => typeof u !== 'number' || !Number.isInteger(u) || u < 1)) fail(`policy_kwargs: ${what}: expected a list of layer sizes, got ${show(v)}`);
    return v as number[];
  };
  for (const key of Object.keys(kwargs)) {
    const v = kwargs[key]!;
    const fromFile = given.has(key);
    switch (key) {
      case 'net_arch': {
        let hidden: number[];
        if (Array.isArray(v)) hidden = sizes(v, 'net_arch');
        else if (typeof v === 'object' && v !== null && !(v instanceof PyName)) {
          const arch = v as Record<string, PyValue>;
          const extra = Object.keys(arch).filter((k) => k !== 'pi' && k !== 'vf' && k !== 'qf');
          if (extra.length) fail(`policy_kwargs: net_arch: unknown part ${extra.map((k) => `'${k}'`).join(', ')} (expected pi and vf)`);
          if (agent === 'dqn') fail('policy_kwargs: net_arch: the lab\'s dqn has one Q-network (give a list of layer sizes)');
          const pi = sizes(arch.pi ?? [], 'net_arch pi');
          const vf = sizes(arch.vf ?? [], 'net_arch vf');
          if (pi.join() !== vf.join()) fail(`policy_kwargs: net_arch: the lab's ${agent} gives its actor and critic the same hidden layers (pi [${pi}] and vf [${vf}] differ)`);
          hidden = pi;
        } else {
          return fail(`policy_kwargs: net_arch: expected a list of layer sizes or dict(pi=[...], vf=[...]), got ${show(v)}`);
        }
        set('hidden', hidden, 'policy_kwargs', fromFile);
        break;
      }
      case 'activation_fn': {
        const name = v instanceof PyName ? v.dotted.split('.').at(-1)! : '';
        const lab = v instanceof PyName && /^(th\.)?(torch\.)?nn\.[A-Za-z]+$/.test(v.dotted) ? ACTIVATIONS[name] : undefined;
        if (!lab) fail(`policy_kwargs: activation_fn: ${show(v)} is not one the lab has (nn.ReLU, nn.Tanh, nn.ELU, nn.Sigmoid)`);
        if (agent === 'dqn') {
          // The lab's Q-network is a ReLU MLP, as SB3's DQN default.
          if (lab !== 'relu') fail(`policy_kwargs: activation_fn: the lab's dqn uses ReLU, got ${show(v)}`);
        } else {
          set('activation', lab, 'policy_kwargs', fromFile);
        }
        break;
      }
      case 'ortho_init':
        if (typeof v !== 'boolean') fail(`policy_kwargs: ortho_init: expected True or False, got ${show(v)}`);
        if (fromFile) set('orthoInit', v, 'policy_kwargs: ortho_init', true);
        else set('orthoInit', v, 'policy_kwargs', false);
        break;
      case 'log_std_init':
        if (typeof v !== 'number') fail(`policy_kwargs: log_std_init: expected a number, got ${show(v)}`);
        if (fromFile) set('logStdInit', v, 'policy_kwargs: log_std_init', true);
        else set('logStdInit', v, 'policy_kwargs', false);
        break;
      case 'optimizer_kwargs': {
        const o = v as Record<string, PyValue>;
        const bad = typeof o === 'object' && o !== null && !Array.isArray(o) && !(o instanceof PyName) ? Object.keys(o).filter((k) => k !== 'eps') : ['?'];
        if (bad.length) fail(`policy_kwargs: optimizer_kwargs: the lab reads only eps, got ${show(v)}`);
        if (typeof o.eps !== 'number' || !(o.eps > 0)) fail(`policy_kwargs: optimizer_kwargs: eps must be a positive number, got ${show(o.eps)}`);
        // DQN: Adam's ε; A2C takes its ε from rms_prop_eps; PPO reads it with the other keys.
        if (agent === 'dqn') set('adamEpsilon', o.eps, 'policy_kwargs', fromFile);
        else if (agent === 'a2c' && fromFile) fail('policy_kwargs: optimizer_kwargs: the lab\'s a2c takes its ε from rms_prop_eps');
        break;
      }
      default:
        if (Object.hasOwn(UNSUPPORTED, key)) fail(`policy_kwargs: ${key}: ${UNSUPPORTED[key]} ${isPlural(UNSUPPORTED[key]!) ? 'are' : 'is'} not supported by the lab`);
        fail(`policy_kwargs: ${key}: not a policy option the lab knows (it reads net_arch, activation_fn, ortho_init, log_std_init, optimizer_kwargs)`);
    }
  }
}

/** normalize: true/false, or a Python dict of VecNormalize options. */
function readNormalize(
  s: Section,
  agent: string,
  labDefaults: Record<string, unknown>,
  set: (labKey: string, value: unknown, fromKey: string, fromFile?: boolean) => void,
  fail: (msg: string) => never,
): void {
  const v = s.raw('normalize');
  let opts: Record<string, PyValue>;
  if (typeof v === 'boolean') opts = v ? { norm_obs: true, norm_reward: true } : { norm_obs: false, norm_reward: false };
  else {
    const parsed = readPython(v, 'normalize', fail);
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed) || parsed instanceof PyName) return fail(`normalize: expected true, false or a dict of VecNormalize options, got ${show(v)}`);
    opts = { norm_obs: true, norm_reward: true, ...parsed };
  }
  for (const [key, value] of Object.entries(opts)) {
    switch (key) {
      case 'norm_obs':
      case 'norm_reward':
        if (typeof value !== 'boolean') fail(`normalize: ${key}: expected True or False, got ${show(value)}`);
        set(key === 'norm_obs' ? 'normalizeObservation' : 'normalizeReward', value, 'normalize', false);
        break;
      case 'clip_obs':
      case 'clip_reward':
        if (typeof value !== 'number' || !(value > 0)) fail(`normalize: ${key}: expected a positive number, got ${show(value)}`);
        set(key === 'clip_obs' ? 'clipObs' : 'clipReward', value, 'normalize', true);
        break;
      case 'gamma':
        // VecNormalize's return discount: the zoo copies the agent's gamma in; the lab uses the agent's gamma.
        if (value !== s.number('gamma')) fail(`normalize: gamma: the lab discounts normalised returns with the agent's gamma, got ${show(value)}`);
        break;
      case 'epsilon':
        if (value !== 1e-8) fail(`normalize: epsilon: the lab's normalisation uses 1e-8, got ${show(value)}`);
        break;
      default:
        fail(`normalize: ${key}: not a VecNormalize option the lab reads (norm_obs, norm_reward, clip_obs, clip_reward, gamma, epsilon)`);
    }
  }
  const on = opts.norm_obs === true || opts.norm_reward === true;
  if (on && !Object.hasOwn(labDefaults, 'normalizeObservation')) fail(`normalize: observation and reward normalisation (VecNormalize) is not supported by the lab's ${agent}`);
  // VecNormalize's clip defaults (10) when normalising.
  if (on) {
    if (!Object.hasOwn(opts, 'clip_obs')) set('clipObs', 10, 'normalize', false);
    if (!Object.hasOwn(opts, 'clip_reward')) set('clipReward', 10, 'normalize', false);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Files

/** The agent a zoo file is for, from its name (`hyperparams/dqn.yml` → dqn), or null. */
export function agentOfZooFile(file: string): string | null {
  const base = path.basename(file).replace(/\.ya?ml$/i, '');
  return ZOO_AGENTS.includes(base) ? base : null;
}

/** `!!float <number>` for every number PyYAML accepts there (the yaml package's 1.1 tags want a '.' or an exponent). */
const ANY_FLOAT: ScalarTag = {
  tag: 'tag:yaml.org,2002:float',
  resolve: (text, onError) => {
    const n = Number(text.replace(/_/g, ''));
    if (Number.isNaN(n) && !/^[-+]?\.nan$/i.test(text)) onError(`!!float ${text} is not a number`);
    return /^[-+]?\.inf$/i.test(text) ? (text.startsWith('-') ? -Infinity : Infinity) : n;
  },
};

/**
 * Reads `file`'s section for `envId` as the lab's hyperparameters for `agent` (default: the file's name).
 * Errors are one line naming the file, the section and the key.
 */
export function readZooConf(file: string, envId: string, agent?: string): ZooConf {
  const chosen = agent ?? agentOfZooFile(file);
  if (!chosen) throw new Error(`${file}: cannot tell which agent it configures from its name (rl-zoo names them ${ZOO_AGENTS.map((a) => `${a}.yml`).join(', ')}): give --agent`);
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new Error(`${file}: ${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory, not a YAML file' : (e as Error).message}`);
  }
  // PyYAML reads the zoo's files: YAML 1.1 (merge keys), where `!!float 20000` is a float too.
  const parsed = YAML.parseDocument(text, { version: '1.1', uniqueKeys: true, customTags: (tags) => [...tags, ANY_FLOAT] });
  const problem = parsed.errors[0] ?? parsed.warnings[0];
  if (problem) throw new Error(`${file}: not valid YAML: ${problem.message.split('\n')[0]}`);
  const doc: unknown = parsed.toJS();
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new Error(`${file}: expected env ids as top-level keys (rl-zoo's format), got ${Array.isArray(doc) ? 'a list' : show(doc)}`);
  const sections = doc as Record<string, unknown>;
  if (!Object.hasOwn(sections, envId)) {
    const ids = Object.keys(sections);
    throw new Error(`${file} has no section for ${envId}; it has ${ids.length ? ids.join(', ') : 'none'}`);
  }
  const section = sections[envId];
  if (typeof section !== 'object' || section === null || Array.isArray(section)) throw new Error(`${file}: ${envId}: expected hyperparameters (key: value lines), got ${show(section)}`);
  try {
    const mapped = mapZooSection(chosen, section as Record<string, unknown>, `${file}: ${envId}`);
    return { file, section: envId, agent: chosen, ...mapped };
  } catch (e) {
    if (e instanceof ZooError) throw new Error(e.message);
    throw e;
  }
}

/**
 * Gymnasium's env checker (`gymnasium.utils.env_checker.check_env`) for the lab's envs, as a report rather than
 * a first-failure exception: every check runs and says ✓ or ✗ with the reason, so a user writing an env sees
 * everything wrong at once. `lab check-env <id>` prints it.
 *
 * The checks: spaces are Space instances with sane bounds, shapes and dtypes; reset() returns [obs, info] and
 * step() [obs, reward, terminated, truncated, info] with the right types; observations lie in the observation
 * space (after reset and after every step); sampled actions are accepted; seeding is deterministic (the same seed
 * gives the same trajectory, reset() after reset(seed) continues the RNG instead of restarting it); render()
 * gives what each render mode promises; metadata and spec fields are well formed.
 */
import { isDeepStrictEqual } from 'node:util';
import { Env, type Info, type RenderMode } from './core.js';
import { Box, Dict, Discrete, MultiBinary, MultiDiscrete, Space, Tuple } from './spaces.js';
import { make } from './registry.js';

/** One check's outcome. */
export interface EnvCheck {
  name: string;
  ok: boolean;
  /** Why it failed, or what was checked when it passed. */
  detail: string;
}

export interface EnvCheckReport {
  /** The env's id (from its spec), or its class name. */
  env: string;
  checks: EnvCheck[];
  passed: boolean;
}

export interface CheckEnvOptions {
  /** Env steps to play (random, mask-respecting actions, resetting at episode ends); default 200. */
  steps?: number;
  /** Seed of the determinism checks; default 123 (Gymnasium's). */
  seed?: number;
  /**
   * Builds a fresh env with a given render mode, to check every mode in `metadata.renderModes` (default: the
   * checked env's mode is switched in place).
   */
  makeWithRenderMode?: (mode: RenderMode) => Env;
}

const RENDER_MODES: readonly RenderMode[] = ['json', 'ansi'];

/** Runs the checks on `env` (which it resets and steps) and returns the report. */
export function checkEnv(env: Env, options: CheckEnvOptions = {}): EnvCheckReport {
  const steps = options.steps ?? 200;
  const seed = options.seed ?? 123;
  const checks: EnvCheck[] = [];
  const check = (name: string, run: () => string) => {
    try {
      checks.push({ name, ok: true, detail: run() });
    } catch (e) {
      checks.push({ name, ok: false, detail: e instanceof Error ? e.message : String(e) });
    }
  };
  const label = env.spec?.id ?? env.unwrapped.constructor.name;

  check('observation space', () => spaceProblems(env.observationSpace, 'observation'));
  check('action space', () => spaceProblems(env.actionSpace, 'action'));

  check('reset() returns [obs, info]', () => {
    const result = env.reset({ seed });
    resetShape(result);
    return `obs ${describe(result[0])}, info with ${Object.keys(result[1]).length} key(s)`;
  });

  check('reset() observation in the observation space', () => {
    const [obs] = resetShape(env.reset({ seed }));
    const problem = obsProblem(env.observationSpace, obs);
    if (problem) fail(`${describe(obs)} is not in ${env.observationSpace}${problem}`);
    return `in ${env.observationSpace}`;
  });

  check('step() returns [obs, reward, terminated, truncated, info]', () => {
    const [, info] = resetShape(env.reset({ seed }));
    const result = env.step(sampleAction(env, info));
    stepShape(result);
    return `reward ${result[1]}, terminated ${result[2]}, truncated ${result[3]}`;
  });

  check('sampled actions accepted, observations in the space over an episode', () => {
    let [, info] = resetShape(env.reset({ seed }));
    env.actionSpace.seed(seed);
    let episodes = 0;
    for (let t = 0; t < steps; t++) {
      const action = sampleAction(env, info);
      if (!env.actionSpace.contains(action)) fail(`actionSpace.sample() gave ${describe(action)}, which ${env.actionSpace}.contains() refuses`);
      let result;
      try {
        result = stepShape(env.step(action));
      } catch (e) {
        fail(`step(${describe(action)}) at step ${t} threw: ${e instanceof Error ? e.message : String(e)}`);
      }
      const [obs, , terminated, truncated, stepInfo] = result!;
      const problem = obsProblem(env.observationSpace, obs);
      if (problem) fail(`step ${t} returned ${describe(obs)}, not in ${env.observationSpace}${problem}`);
      info = stepInfo;
      if (terminated || truncated) {
        episodes++;
        const [next, nextInfo] = resetShape(env.reset());
        const again = obsProblem(env.observationSpace, next);
        if (again) fail(`reset() after episode ${episodes} returned ${describe(next)}, not in ${env.observationSpace}${again}`);
        info = nextInfo;
      }
    }
    return `${steps} steps, ${episodes} episode end(s)`;
  });

  check('same seed, same trajectory', () => {
    const a = trajectory(env, seed, Math.min(steps, 100));
    const b = trajectory(env, seed, Math.min(steps, 100));
    const at = firstDifference(a, b);
    if (at !== null) fail(`two runs from reset({ seed: ${seed} }) with the same actions differ at ${at}: the env draws randomness outside its seeded RNG (env.npRandom)`);
    return `${a.length} transitions equal`;
  });

  check('reset() after reset(seed) continues the RNG', () => {
    const runs = [0, 1].map(() => {
      const first = resetShape(env.reset({ seed }))[0];
      const later = [0, 1, 2].map(() => resetShape(env.reset())[0]);
      return { first: copy(first), later: later.map(copy) };
    });
    if (!isDeepStrictEqual(runs[0]!.later, runs[1]!.later)) fail(`reset() after reset({ seed: ${seed} }) gave different observations in two runs: unseeded resets must continue the seeded RNG, not draw fresh randomness`);
    const other = copy(resetShape(env.reset({ seed: seed + 1 }))[0]);
    const randomStarts = !isDeepStrictEqual(other, runs[0]!.first);
    // Random starts, yet every unseeded reset starts in the same state: reset() re-seeds the RNG.
    if (randomStarts && runs[0]!.later.every((o) => isDeepStrictEqual(o, runs[0]!.later[0]))) {
      fail(`reset() after reset({ seed: ${seed} }) restarts the same episode every time: the RNG is re-seeded by reset() without a seed`);
    }
    return randomStarts ? 'unseeded resets are reproducible and differ from the seeded one' : 'unseeded resets are reproducible (the start state does not depend on the seed)';
  });

  check('render() per render mode', () => {
    const modes = env.metadata.renderModes;
    const said: string[] = [];
    for (const mode of modes) {
      let target = env;
      let made = false;
      if (options.makeWithRenderMode) {
        target = options.makeWithRenderMode(mode);
        made = true;
      } else {
        env.renderMode = mode;
      }
      try {
        target.reset({ seed });
        said.push(`${mode}: ${renderProblems(mode, target.render())}`);
      } finally {
        if (made) target.close();
      }
    }
    return said.join('; ');
  });

  check('metadata', () => {
    const m = env.metadata;
    if (!Array.isArray(m.renderModes) || m.renderModes.length === 0) fail(`metadata.renderModes must list the render modes (json, ansi), got ${describe(m.renderModes)}`);
    const unknown = m.renderModes.filter((r) => !RENDER_MODES.includes(r));
    if (unknown.length) fail(`metadata.renderModes has ${unknown.join(', ')}; the lab's render modes are ${RENDER_MODES.join(', ')}`);
    if (typeof m.renderFps !== 'number' || !(m.renderFps > 0)) fail(`metadata.renderFps must be a positive number, got ${describe(m.renderFps)}`);
    return `render modes ${m.renderModes.join(', ')} at ${m.renderFps} fps`;
  });

  check('spec', () => {
    const s = env.spec;
    if (s === null) return 'none (the env was not created by make())';
    if (typeof s.id !== 'string' || s.id === '') fail(`spec.id must be the registered id, got ${describe(s.id)}`);
    if (s.maxEpisodeSteps !== undefined && !(Number.isSafeInteger(s.maxEpisodeSteps) && s.maxEpisodeSteps > 0)) fail(`spec.maxEpisodeSteps must be a positive integer, got ${describe(s.maxEpisodeSteps)}`);
    if (s.rewardThreshold !== undefined && !Number.isFinite(s.rewardThreshold)) fail(`spec.rewardThreshold must be a number, got ${describe(s.rewardThreshold)}`);
    if (typeof s.nondeterministic !== 'boolean') fail(`spec.nondeterministic must be true or false, got ${describe(s.nondeterministic)}`);
    if (typeof s.kwargs !== 'object' || s.kwargs === null) fail(`spec.kwargs must be an object, got ${describe(s.kwargs)}`);
    return `${s.id}${s.maxEpisodeSteps !== undefined ? `, ${s.maxEpisodeSteps} steps at most` : ''}${s.rewardThreshold !== undefined ? `, reward threshold ${s.rewardThreshold}` : ''}`;
  });

  return { env: label, checks, passed: checks.every((c) => c.ok) };
}

/** Makes the registered env `id` (without the EnvChecker wrapper, which would stop at the first problem) and checks it. */
export function checkEnvId(id: string, options: Omit<CheckEnvOptions, 'makeWithRenderMode'> = {}): EnvCheckReport {
  const env = make(id, { disableEnvChecker: true });
  try {
    return checkEnv(env, { ...options, makeWithRenderMode: (renderMode) => make(id, { disableEnvChecker: true, renderMode }) });
  } finally {
    env.close();
  }
}

/** The report as lines: a ✓ or ✗ per check with its detail, then the verdict. */
export function formatEnvCheckReport(report: EnvCheckReport): string {
  const lines = report.checks.map((c) => `${c.ok ? '✓' : '✗'} ${c.name}: ${c.detail}`);
  const failed = report.checks.filter((c) => !c.ok).length;
  lines.push(failed === 0 ? `${report.env} passes all ${report.checks.length} checks` : `${report.env} fails ${failed} of ${report.checks.length} checks`);
  return lines.join('\n');
}

// ---------------------------------------------------------------------------------------------------------------

function fail(message: string): never {
  throw new Error(message);
}

function resetShape(result: unknown): [unknown, Info] {
  if (!Array.isArray(result) || result.length !== 2) fail(`reset() must return [obs, info], got ${describe(result)}`);
  const [obs, info] = result as [unknown, unknown];
  if (!isPlainObject(info)) fail(`reset()'s info must be an object, got ${describe(info)}`);
  return [obs, info as Info];
}

function stepShape(result: unknown): [unknown, number, boolean, boolean, Info] {
  if (!Array.isArray(result) || result.length !== 5) fail(`step() must return [obs, reward, terminated, truncated, info], got ${describe(result)}`);
  const [obs, reward, terminated, truncated, info] = result as unknown[];
  if (typeof reward !== 'number' || !Number.isFinite(reward)) fail(`step()'s reward must be a finite number, got ${describe(reward)}`);
  if (typeof terminated !== 'boolean') fail(`step()'s terminated must be true or false, got ${describe(terminated)}`);
  if (typeof truncated !== 'boolean') fail(`step()'s truncated must be true or false, got ${describe(truncated)}`);
  if (!isPlainObject(info)) fail(`step()'s info must be an object, got ${describe(info)}`);
  return [obs, reward as number, terminated as boolean, truncated as boolean, info as Info];
}

function isPlainObject(v: unknown): boolean {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !ArrayBuffer.isView(v);
}

/** A sampled action that respects info.actionMask (Discrete envs with illegal moves give one). */
function sampleAction(env: Env, info: Info): unknown {
  const mask = info.actionMask;
  return (env.actionSpace as Space & { sample(mask?: unknown): unknown }).sample(env.actionSpace instanceof Discrete && mask ? mask : undefined);
}

/** `n` transitions from reset({ seed }) with actions from the action space seeded by `seed` (copies). */
function trajectory(env: Env, seed: number, n: number): unknown[] {
  env.actionSpace.seed(seed);
  let [obs, info] = resetShape(env.reset({ seed }));
  const out: unknown[] = [copy(obs)];
  for (let t = 0; t < n; t++) {
    const action = sampleAction(env, info);
    const [next, reward, terminated, truncated, stepInfo] = stepShape(env.step(action));
    out.push(copy([action, next, reward, terminated, truncated]));
    info = stepInfo;
    if (terminated || truncated) {
      [obs, info] = resetShape(env.reset());
      out.push(copy(obs));
    }
  }
  return out;
}

function firstDifference(a: unknown[], b: unknown[]): string | null {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if (!isDeepStrictEqual(a[i], b[i])) return i === 0 ? 'the first observation' : `transition ${i} (${describe(a[i])} vs ${describe(b[i])})`;
  }
  return null;
}

/** A deep copy (observations may be buffers the env reuses). */
function copy<T>(v: T): T {
  return structuredClone(v);
}

/** What is wrong with a space, or a description of it. */
function spaceProblems(space: unknown, what: string): string {
  if (!(space instanceof Space)) fail(`the ${what} space must be a Space (Box, Discrete, MultiDiscrete, MultiBinary, Tuple, Dict), got ${describe(space)}`);
  if (space instanceof Box) {
    const n = space.size;
    if (space.low.length !== n || space.high.length !== n) fail(`Box low/high have ${space.low.length}/${space.high.length} values for shape [${space.shape}]`);
    for (let i = 0; i < n; i++) {
      const lo = space.low[i]!;
      const hi = space.high[i]!;
      if (Number.isNaN(lo) || Number.isNaN(hi)) fail(`Box bound ${i} is NaN`);
      if (lo > hi) fail(`Box low[${i}] = ${lo} > high[${i}] = ${hi}`);
    }
    if (space.shape.length === 3 && space.dtype !== 'uint8' && space.dtype !== 'float32') fail(`an image-shaped Box [${space.shape}] should be uint8 (pixels) or float32 (planes), got ${space.dtype}`);
    if (what === 'action' && !['float32', 'float64'].includes(space.dtype)) fail(`a Box action space should be float32 or float64, got ${space.dtype}`);
  } else if (space instanceof Discrete) {
    if (!(Number.isSafeInteger(space.n) && space.n >= 1)) fail(`Discrete n must be a positive integer, got ${space.n}`);
  } else if (space instanceof MultiDiscrete) {
    if (space.nvec.some((k) => k < 1)) fail(`MultiDiscrete nvec must be positive, got [${Array.from(space.nvec)}]`);
  } else if (space instanceof Tuple) {
    space.spaces.forEach((s, i) => spaceProblems(s, `${what} [${i}]`));
  } else if (space instanceof Dict) {
    for (const [k, s] of Object.entries((space as unknown as { spaces: Record<string, Space> }).spaces)) spaceProblems(s, `${what} '${k}'`);
  } else if (!(space instanceof MultiBinary)) {
    fail(`the ${what} space is a ${space.constructor.name}; the lab's spaces are Box, Discrete, MultiDiscrete, MultiBinary, Tuple, Dict`);
  }
  // A sample must lie in its own space.
  const sample = space.sample();
  if (!space.contains(sample)) fail(`${space}.sample() gave ${describe(sample)}, which contains() refuses`);
  return String(space);
}

/**
 * Why an observation is not in the space ('' when contains() refuses it for no reason found here), or null when it
 * is in it. Box observations must also have the space's dtype (Gymnasium's checker asserts it; contains() takes any
 * numbers in bounds).
 */
function obsProblem(space: Space, obs: unknown): string | null {
  const reason = whyNotIn(space, obs);
  if (reason !== '') return reason;
  return space.contains(obs) ? null : '';
}

/** For Box spaces: the first reason an observation is outside (dtype, shape, bound), or ''. */
function whyNotIn(space: Space, obs: unknown): string {
  if (!(space instanceof Box)) return '';
  if (!ArrayBuffer.isView(obs)) return ` (a Box observation is a typed array of ${space.dtype})`;
  const arr = obs as unknown as ArrayLike<number>;
  const ctor = obs.constructor.name;
  const expected = { float32: 'Float32Array', float64: 'Float64Array', int8: 'Int8Array', int16: 'Int16Array', int32: 'Int32Array', uint8: 'Uint8Array', uint16: 'Uint16Array', uint32: 'Uint32Array' }[space.dtype];
  if (ctor !== expected) return ` (dtype: a ${ctor}, expected ${expected} for ${space.dtype})`;
  if (arr.length !== space.size) return ` (${arr.length} values, expected ${space.size})`;
  for (let i = 0; i < arr.length; i++) if (!(arr[i]! >= space.low[i]! && arr[i]! <= space.high[i]!)) return ` (value ${i} = ${arr[i]} outside [${space.low[i]}, ${space.high[i]}])`;
  return '';
}

function renderProblems(mode: RenderMode, out: unknown): string {
  if (mode === 'ansi') {
    if (typeof out !== 'string' || out.length === 0) fail(`render mode ansi must return a non-empty string, got ${describe(out)}`);
    return `a string of ${(out as string).split('\n').length} line(s)`;
  }
  if (!isPlainObject(out) || typeof (out as { kind?: unknown }).kind !== 'string') fail(`render mode json must return a frame object with a 'kind' (envs/frames.ts), got ${describe(out)}`);
  const text = JSON.stringify(out);
  if (!isDeepStrictEqual(JSON.parse(text), out)) fail(`render mode json returned a frame that does not survive JSON (typed arrays, undefined or non-finite numbers in it)`);
  return `a '${(out as { kind: string }).kind}' frame of ${text.length} bytes`;
}

function describe(v: unknown): string {
  if (v === undefined) return 'undefined';
  if (ArrayBuffer.isView(v)) {
    const arr = Array.from(v as unknown as ArrayLike<number>).slice(0, 8);
    return `${v.constructor.name}[${arr.join(', ')}${(v as unknown as ArrayLike<number>).length > 8 ? ', …' : ''}]`;
  }
  if (typeof v === 'function') return 'a function';
  try {
    const text = JSON.stringify(v);
    return text === undefined ? String(v) : text.length > 120 ? `${text.slice(0, 117)}...` : text;
  } catch {
    return String(v);
  }
}

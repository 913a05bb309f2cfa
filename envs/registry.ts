/**
 * The environment registry (Gymnasium's `gymnasium.envs.registration`): `register()` an id with a factory
 * and defaults, `make(id)` builds it wrapped with EnvChecker → OrderEnforcing → TimeLimit.
 *
 * Browser-safe (no node: modules): the viewer's Play page and exported HTML files make envs from this same
 * table. Envs from the user's own modules (Gymnasium's `"module:EnvId"` form) need Node's module loader: that
 * half lives in user_modules.ts, which plugs its resolver in here (`setModuleEnvResolver`) when imported
 * (envs/index.ts imports it). Envs a module registered are made with an extra PluginEnvChecker that checks
 * every step (not only the first) and names the module in its errors.
 */
import { Env, EnvError, Wrapper, type AutoresetMode, type EnvSpec, type RenderMode, type ResetArgs, type ResetResult, type StepResult } from './core.js';
import { EnvChecker, OrderEnforcing, TimeLimit } from './wrappers.js';
import type { VectorEnv } from './vector.js';
import { describeValue, firstLineOf } from './utils/seeding.js';

export type EnvKwargs = Record<string, unknown>;

export interface VectorEntryOptions {
  maxEpisodeSteps: number | null;
  autoresetMode: AutoresetMode;
  copy: boolean;
  kwargs: EnvKwargs;
}

export interface EnvRegistration {
  id: string;
  /** Builds the bare env from its kwargs (registered defaults merged with the user's). */
  entryPoint: (kwargs: EnvKwargs) => Env;
  /** A natively batched implementation used by `makeVec` (e.g. Cart-Pole's). */
  vectorEntryPoint?: (numEnvs: number, options: VectorEntryOptions) => VectorEnv;
  maxEpisodeSteps?: number;
  rewardThreshold?: number;
  kwargs?: EnvKwargs;
  nondeterministic?: boolean;
  /** One line for `lab envs`. */
  description?: string;
}

export class UnknownEnvError extends EnvError {
  override name = 'UnknownEnvError';
}

const registry = new Map<string, Required<Pick<EnvRegistration, 'kwargs'>> & EnvRegistration>();

/** Ids registered by a module loaded with `importEnvModule`/`loadUserModule`, and which module (absolute path). */
const pluginSource = new Map<string, string>();

/** `module:EnvId` → the plain id EnvId (user_modules.ts installs it; a page without Node has none). */
type ModuleEnvResolver = (module: string, id: string) => string;
let moduleEnvResolver: ModuleEnvResolver | null = null;

/** Installs how `registration('module:EnvId')` finds an imported module's env (user_modules.ts does, in Node). */
export function setModuleEnvResolver(resolver: ModuleEnvResolver): void {
  moduleEnvResolver = resolver;
}

/** Records that a user's module (absolute path) registered `ids`: make() then adds the PluginEnvChecker. */
export function markPluginEnvs(ids: readonly string[], module: string): void {
  for (const id of ids) pluginSource.set(id, module);
}

/** Whether `id` is registered as it is (no module import, no suggestion). */
export function isRegistered(id: string): boolean {
  return registry.has(id);
}

export function register(registration: EnvRegistration): void {
  const { id } = registration;
  if (typeof id !== 'string' || !/^[A-Za-z0-9_\-./:]+$/.test(id)) {
    throw new EnvError(`register: id must be a non-empty string of letters, digits and _-./:, got ${describeValue(id)}`);
  }
  if (registry.has(id)) throw new EnvError(`register: '${id}' is already registered`);
  if (typeof registration.entryPoint !== 'function') throw new EnvError(`register: '${id}' needs an entryPoint function`);
  registry.set(id, { ...registration, kwargs: { ...(registration.kwargs ?? {}) } });
}

/** Removes a registration (mainly for tests and for users replacing an env). */
export function unregister(id: string): boolean {
  pluginSource.delete(id);
  return registry.delete(id);
}

/** The module (absolute path) that registered `id` when it came from a user's module, else null. */
export function envSource(id: string): string | null {
  return pluginSource.get(id) ?? null;
}

/** All registered ids, sorted. */
export function envIds(): string[] {
  return [...registry.keys()].sort();
}

/** The registration of `id` (or of `module:id`, its module imported), or an error with a "did you mean" suggestion. */
export function registration(id: string): EnvRegistration & { kwargs: EnvKwargs } {
  const entry = registry.get(id);
  if (entry) return entry;
  if (typeof id !== 'string') throw new UnknownEnvError(`environment id must be a string, got ${describeValue(id)}`);
  const split = splitModuleId(id);
  if (split) {
    if (!moduleEnvResolver) throw new UnknownEnvError(`'${id}' names an env from a module: envs from modules load only in Node (lab's envs/index.ts), not in a page`);
    return registration(moduleEnvResolver(split.module, split.id));
  }
  const suggestion = closestId(id);
  throw new UnknownEnvError(
    `unknown environment id '${id}'.` +
      (suggestion ? ` Did you mean '${suggestion}'?` : '') +
      ` Registered ids: ${envIds().join(', ')}`,
  );
}

export function spec(id: string): EnvSpec {
  const r = registration(id);
  return specOf(r, r.maxEpisodeSteps, r.kwargs);
}

function specOf(r: EnvRegistration, maxEpisodeSteps: number | undefined, kwargs: EnvKwargs): EnvSpec {
  return {
    id: r.id,
    ...(maxEpisodeSteps !== undefined ? { maxEpisodeSteps } : {}),
    ...(r.rewardThreshold !== undefined ? { rewardThreshold: r.rewardThreshold } : {}),
    kwargs: { ...kwargs },
    nondeterministic: r.nondeterministic ?? false,
  };
}

export interface MakeOptions {
  /** Overrides the registered time limit; `null` removes it. */
  maxEpisodeSteps?: number | null;
  renderMode?: RenderMode;
  /** Skips the EnvChecker wrapper (action validation and first-step checks). */
  disableEnvChecker?: boolean;
  /** Anything else is passed to the env's constructor. */
  [kwarg: string]: unknown;
}

/** Builds a registered env: `make('CartPole-v1', { renderMode: 'ansi' })`. */
export function make<Obs = unknown, Act = unknown>(id: string, options: MakeOptions = {}): Env<Obs, Act> {
  const r = registration(id);
  const { maxEpisodeSteps, renderMode, disableEnvChecker, ...userKwargs } = options;
  const kwargs = { ...r.kwargs, ...userKwargs };
  const limit = resolveMaxEpisodeSteps(id, maxEpisodeSteps, r.maxEpisodeSteps);

  const source = pluginSource.get(r.id);
  let env: Env;
  try {
    env = r.entryPoint(kwargs);
  } catch (e) {
    if (source === undefined) throw e;
    throw new EnvError(`plug-in env '${r.id}' (${source}): its entry point threw: ${firstLineOf(e)}`);
  }
  if (!(env instanceof Env)) throw new EnvError(`make('${id}'): the entry point did not return an Env${source !== undefined ? ` (plug-in module ${source})` : ''}`);
  env.spec = specOf(r, limit ?? undefined, kwargs);
  if (renderMode !== undefined) env.renderMode = renderMode;

  let wrapped: Env = disableEnvChecker ? env : new EnvChecker(env);
  if (source !== undefined && !disableEnvChecker) wrapped = new PluginEnvChecker(wrapped, source);
  wrapped = new OrderEnforcing(wrapped);
  if (limit !== null) wrapped = new TimeLimit(wrapped, limit);
  return wrapped as Env<Obs, Act>;
}

export function resolveMaxEpisodeSteps(id: string, given: unknown, registered: number | undefined): number | null {
  if (given === undefined) return registered ?? null;
  if (given === null) return null;
  if (typeof given !== 'number' || !Number.isSafeInteger(given) || given <= 0) {
    throw new EnvError(`make('${id}'): maxEpisodeSteps must be a positive integer or null, got ${describeValue(given)}`);
  }
  return given;
}

/** Levenshtein distance, case-insensitive. */
/** Levenshtein distance, ignoring case: how far a misspelt name is from a known one ("did you mean"). */
export function editDistance(a: string, b: string): number {
  a = a.toLowerCase();
  b = b.toLowerCase();
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length]!;
}

function closestId(id: string): string | null {
  const ids = envIds();
  // A known name with a missing or unknown version: suggest its newest version.
  const name = id.replace(/-v\d+$/, '').toLowerCase();
  const sameName = ids.filter((k) => k.replace(/-v\d+$/, '').toLowerCase() === name);
  if (sameName.length) {
    return sameName.sort((a, b) => Number(b.match(/-v(\d+)$/)?.[1] ?? 0) - Number(a.match(/-v(\d+)$/)?.[1] ?? 0))[0]!;
  }
  let best: string | null = null;
  let bestDistance = Infinity;
  for (const k of ids) {
    const d = editDistance(id, k);
    if (d < bestDistance) [best, bestDistance] = [k, d];
  }
  return best !== null && bestDistance <= Math.max(3, Math.floor(id.length / 3)) ? best : null;
}

// ---------------------------------------------------------------------------------------------------------
// Envs from the user's modules ("module:EnvId")

/** `./mods/x.ts:MyEnv-v0` → module and id (split at the last ':'), or null when `id` has no module part. */
export function splitModuleId(id: string): { module: string; id: string } | null {
  const colon = id.lastIndexOf(':');
  if (colon <= 0 || colon === id.length - 1) return null;
  return { module: id.slice(0, colon), id: id.slice(colon + 1) };
}

/** The first number in an observation that is not finite, as a description, else null. */
function nonFinite(obs: unknown): string | null {
  if (typeof obs === 'number') return Number.isFinite(obs) ? null : String(obs);
  if (ArrayBuffer.isView(obs) && !(obs instanceof DataView)) {
    const a = obs as unknown as ArrayLike<number>;
    for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i]!)) return `${a[i]} at index ${i}`;
  }
  return null;
}

/**
 * Checks every reset and step of an env from a user's module (EnvChecker checks only the first): observations
 * inside the observation space and finite, rewards finite numbers, flags booleans. Errors name the env and the
 * module, so a NaN reward deep into training points at the plug-in, not at the agent that learnt from it.
 */
export class PluginEnvChecker<Obs, Act> extends Wrapper<Obs, Act> {
  constructor(
    env: Env<Obs, Act>,
    readonly module: string,
  ) {
    super(env);
  }

  private fail(what: string): never {
    throw new EnvError(`plug-in env '${this.spec?.id ?? this.unwrapped.constructor.name}' (${this.module}): ${what}`);
  }

  private checkObs(obs: unknown, where: string): void {
    const bad = nonFinite(obs);
    if (bad !== null) this.fail(`${where} returned an observation with a non-finite number (${bad})`);
    if (!this.env.observationSpace.contains(obs)) this.fail(`${where} returned an observation outside the observation space ${this.env.observationSpace}: ${describeValue(obs)}`);
  }

  override reset(args: ResetArgs = {}): ResetResult<Obs> {
    const result = this.env.reset(args);
    this.checkObs(result[0], 'reset()');
    return result;
  }

  override step(action: Act): StepResult<Obs> {
    const result = this.env.step(action);
    const [obs, reward, terminated, truncated] = result;
    if (typeof reward !== 'number' || !Number.isFinite(reward)) this.fail(`step() returned the reward ${describeValue(reward)} (rewards must be finite numbers)`);
    if (typeof terminated !== 'boolean' || typeof truncated !== 'boolean') this.fail(`step() must return booleans for terminated and truncated, got ${describeValue(terminated)}, ${describeValue(truncated)}`);
    this.checkObs(obs, 'step()');
    return result;
  }
}

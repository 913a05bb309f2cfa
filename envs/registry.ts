/**
 * The environment registry (Gymnasium's `gymnasium.envs.registration`): `register()` an id with a factory
 * and defaults, `make(id)` builds it wrapped with EnvChecker → OrderEnforcing → TimeLimit.
 */
import { Env, EnvError, type AutoresetMode, type EnvSpec, type RenderMode } from './core.js';
import { EnvChecker, OrderEnforcing, TimeLimit } from './wrappers.js';
import type { VectorEnv } from './vector.js';
import { describeValue } from './utils/seeding.js';

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
  return registry.delete(id);
}

/** All registered ids, sorted. */
export function envIds(): string[] {
  return [...registry.keys()].sort();
}

/** The registration of `id`, or an error with a "did you mean" suggestion. */
export function registration(id: string): EnvRegistration & { kwargs: EnvKwargs } {
  const entry = registry.get(id);
  if (entry) return entry;
  if (typeof id !== 'string') throw new UnknownEnvError(`environment id must be a string, got ${describeValue(id)}`);
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

  const env = r.entryPoint(kwargs);
  if (!(env instanceof Env)) throw new EnvError(`make('${id}'): the entry point did not return an Env`);
  env.spec = specOf(r, limit ?? undefined, kwargs);
  if (renderMode !== undefined) env.renderMode = renderMode;

  let wrapped: Env = disableEnvChecker ? env : new EnvChecker(env);
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

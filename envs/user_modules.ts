/**
 * Envs from the user's own modules (Gymnasium's `"module:EnvId"` form), the Node half of the registry:
 * `await importEnvModule('./my_envs.ts')` imports a module that calls `register()`, and remembers which ids it
 * registered; `make('./my_envs.ts:MyEnv-v0')` then builds `MyEnv-v0`. Node cannot import an ES module
 * synchronously, so a sync `make` of a module not yet imported says to call `importEnvModule` or `makeAsync`
 * first. Kept apart from registry.ts because it needs node:path and node:url, which a page cannot load.
 */
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { EnvError, type Env } from './core.js';
import { envIds, isRegistered, make, markPluginEnvs, registration, setModuleEnvResolver, splitModuleId, UnknownEnvError, type MakeOptions } from './registry.js';
import { describeValue, firstLineOf } from './utils/seeding.js';

/** What importing a user's module registered. */
export interface LoadedModule {
  /** Absolute path of the module file. */
  module: string;
  /** Env ids it registered. */
  envs: string[];
}

const loadedModules = new Map<string, LoadedModule>();
let loading: Promise<unknown> = Promise.resolve();

/** The absolute path of a module given as a path (relative to the working directory) or a file: URL. */
export function resolveModulePath(spec: string): string {
  if (typeof spec !== 'string' || spec.trim() === '') throw new EnvError(`a module path must be a non-empty string, got ${describeValue(spec)}`);
  return spec.startsWith('file:') ? fileURLToPath(spec) : path.resolve(spec);
}

/**
 * Imports a user's module once (by absolute path) and records the env ids it registered. `during` runs around
 * the import, so a caller can see what else the module registered (agents/plugins.ts: agents). Imports run one at
 * a time, so each module's registrations are its own. A module that throws is an error naming it; a module
 * imported before returns what it registered then.
 */
export function loadUserModule<T>(spec: string, during: { before: () => T; after: (before: T, loaded: LoadedModule) => void } | null = null): Promise<LoadedModule> {
  const module = resolveModulePath(spec);
  const run = loading.then(async () => {
    const known = loadedModules.get(module);
    if (known) return known;
    const envsBefore = new Set(envIds());
    const before = during?.before() as T;
    try {
      await import(pathToFileURL(module).href);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ERR_MODULE_NOT_FOUND' && String((e as Error).message).includes(module)) throw new EnvError(`plug-in module ${module} does not exist`);
      // Node (and tsx) load a .ts/.js file outside an ES-module package as CommonJS, which cannot import the lab.
      const hint = /require\(\) (of )?ES Module|Cannot use import statement outside a module/i.test(firstLineOf(e))
        ? ' (a .ts/.js file outside a package with "type": "module" loads as CommonJS: name it .mts/.mjs, or add a package.json with "type": "module")'
        : '';
      throw new EnvError(`plug-in module ${module} failed to import: ${firstLineOf(e)}${hint}`);
    }
    const loaded: LoadedModule = { module, envs: envIds().filter((k) => !envsBefore.has(k)) };
    markPluginEnvs(loaded.envs, module);
    during?.after(before, loaded);
    loadedModules.set(module, loaded);
    return loaded;
  });
  loading = run.catch(() => undefined);
  return run;
}

/** Imports a module of envs (one that calls `register()`); an error names it when it registers no env. */
export async function importEnvModule(spec: string): Promise<LoadedModule> {
  const loaded = await loadUserModule(spec);
  if (loaded.envs.length === 0) throw new EnvError(`plug-in module ${loaded.module} registered no environment (it should call register({ id, entryPoint }))`);
  return loaded;
}

/** The async `make` that takes `module:EnvId` (imports the module first) as well as plain ids. */
export async function makeAsync<Obs = unknown, Act = unknown>(id: string, options: MakeOptions = {}): Promise<Env<Obs, Act>> {
  return make<Obs, Act>(await resolveEnvId(id), options);
}

/** A plain registered id for `id`: `module:EnvId` imports the module (if not yet) and checks it registered EnvId. */
export async function resolveEnvId(id: string): Promise<string> {
  if (isRegistered(id)) return id;
  const split = typeof id === 'string' ? splitModuleId(id) : null;
  if (!split) return registration(id).id;
  await importEnvModule(split.module);
  return importedEnvId(split.module, split.id);
}

/** The id `envId` of an already imported module, or an error saying what to call (sync code cannot import). */
function importedEnvId(moduleSpec: string, envId: string): string {
  const module = resolveModulePath(moduleSpec);
  const loaded = loadedModules.get(module);
  if (!loaded) {
    throw new UnknownEnvError(`module ${module} is not imported yet: call await importEnvModule('${moduleSpec}') (or await makeAsync('${moduleSpec}:${envId}')) before make('${moduleSpec}:${envId}')`);
  }
  if (!loaded.envs.includes(envId)) {
    throw new UnknownEnvError(`module ${module} did not register '${envId}'; it registered ${loaded.envs.length ? loaded.envs.join(', ') : 'no environment'}`);
  }
  return envId;
}

setModuleEnvResolver(importedEnvId);

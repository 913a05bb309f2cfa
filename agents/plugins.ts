/**
 * Plug-ins from the user's own files: `lab train --import ./my_lab.ts` (and every command that loads runs)
 * imports a module that calls `register(...)` for envs and `registerAgent(...)` for agents. What it registered is
 * recorded in the run's config.json (`imports`), so `--resume`, `lab eval`, `lab compare`, `lab replay verify`,
 * sweeps and the server import it again by themselves, and refuse with one line naming the module when it is
 * missing, moved, or its agents' hyperparameter names changed.
 *
 * Agents registered while a module loads are wrapped: their factory's errors and every `act()` result are
 * checked (length, inside the action space, no NaN), and the errors name the agent and its module.
 */
import fs from 'node:fs';
import path from 'node:path';
import { readRawRunConfig, type RunImport } from '../lab/run_files.js';
import { Box, Discrete, batchWidth, envSource, loadUserModule, resolveModulePath, type Space, type TypedArray } from '../envs/index.js';
import type { Agent, AgentSetup } from './agent.js';
import { agentEntry, agentNames, isRegisteredAgent, registerAgent, unregisterAgent, type AgentEntry } from './registry.js';
import { andThen } from '../lab/maybe_async.js';

/**
 * What one imported module registered (its absolute path, env ids, agents with their sorted hyperparameter
 * names): the record a run's config.json keeps under `imports` (lab/run_files.ts RunImport).
 */
export type PluginRecord = RunImport;

const records = new Map<string, PluginRecord>();

/**
 * Imports a plug-in module (TypeScript under the lab's tsx loader, or JavaScript) and returns what it registered.
 * Errors, each naming the module: it does not exist, throws on import, registers nothing, or registers a name
 * that clashes with a built-in env or agent. Importing the same file again returns the first record.
 */
export async function importPlugin(spec: string): Promise<PluginRecord> {
  const module = resolveModulePath(spec);
  const known = records.get(module);
  if (known) return known;
  let agents: string[] = [];
  const loaded = await loadUserModule(spec, {
    before: () => new Set(agentNames()),
    after: (before) => {
      agents = agentNames().filter((name) => !before.has(name));
    },
  });
  // A module imported before as an env module (e.g. by make('mod:Id')) has no agents of its own to find now.
  if (loaded.envs.length === 0 && agents.length === 0) {
    throw new Error(`plug-in module ${module} registered nothing: it should call register({ id, entryPoint }) for an env or registerAgent(name, { description, defaults, presets, create }) for an agent`);
  }
  for (const name of agents) guardAgent(name, module);
  const record: PluginRecord = {
    module,
    envs: [...loaded.envs].sort(),
    agents: agents.sort().map((name) => ({ name, hyperparameters: Object.keys(agentEntry(name).defaults).sort() })),
  };
  records.set(module, record);
  return record;
}

/** Imports each module of `specs` in order (the `--import` option's values). */
export async function importPlugins(specs: readonly string[]): Promise<PluginRecord[]> {
  const out: PluginRecord[] = [];
  for (const spec of specs) out.push(await importPlugin(spec));
  return out;
}

/**
 * Imports again what a run recorded and checks it still registers the same envs and agents with the same
 * hyperparameter names; otherwise one error line naming the module and what changed. `what` names the run.
 * A module that moved is accepted when a module imported already (`--import <its new place>`) registers the
 * same names; the records returned are then those of the new place (a resumed run keeps them).
 */
export async function loadRecordedPlugins(recorded: readonly PluginRecord[] | undefined, what: string): Promise<PluginRecord[]> {
  const out: PluginRecord[] = [];
  for (const r of recorded ?? []) {
    let now: PluginRecord;
    if (!fs.existsSync(r.module)) {
      const moved = [...records.values()].find((m) => r.envs.every((id) => m.envs.includes(id)) && r.agents.every((a) => m.agents.some((b) => b.name === a.name)));
      if (!moved) throw new Error(`${what} needs the plug-in module ${r.module}, which is missing (moved or deleted?): put it back, or pass its new place with --import`);
      now = moved;
    } else {
      try {
        now = await importPlugin(r.module);
      } catch (e) {
        throw new Error(`${what} needs the plug-in module ${r.module}: ${(e instanceof Error ? e.message : String(e)).replace(`plug-in module ${r.module} `, '')}`);
      }
    }
    out.push(now);
    const missingEnvs = r.envs.filter((id) => !now.envs.includes(id));
    if (missingEnvs.length) throw new Error(`plug-in module ${r.module} changed: it no longer registers ${missingEnvs.join(', ')}, which ${what} uses`);
    for (const agent of r.agents) {
      const current = now.agents.find((a) => a.name === agent.name);
      if (!current) throw new Error(`plug-in module ${r.module} changed: it no longer registers the agent '${agent.name}', which ${what} uses`);
      const added = current.hyperparameters.filter((k) => !agent.hyperparameters.includes(k));
      const removed = agent.hyperparameters.filter((k) => !current.hyperparameters.includes(k));
      if (added.length || removed.length) {
        throw new Error(
          `plug-in module ${r.module} changed the hyperparameters of agent '${agent.name}' since ${what} started` +
            `${added.length ? ` (added ${added.join(', ')})` : ''}${removed.length ? ` (removed ${removed.join(', ')})` : ''}: restore the module, or start a new run`,
        );
      }
    }
  }
  return out;
}

/**
 * Loads the plug-ins of the run that `target` is or lies in (a run directory, a checkpoint, policy/, a replay
 * log under replays/): what `lab eval`, `lab compare`, `lab replay verify` and the server call before reading
 * a run. A run without plug-ins, or no run at all, loads nothing.
 */
export async function loadRunPlugins(target: string): Promise<void> {
  let dir = path.resolve(target);
  for (let up = 0; up < 4; up++) {
    if (fs.existsSync(path.join(dir, 'config.json'))) {
      const raw = readRawRunConfig(dir);
      const imports = raw && Array.isArray(raw.imports) ? (raw.imports as PluginRecord[]) : [];
      if (imports.length) await loadRecordedPlugins(imports, `run ${dir}`);
      return;
    }
    const parent = path.dirname(dir);
    if (parent === dir) return;
    dir = parent;
  }
}

/**
 * The plug-in records a new run of `envId` and `agent` must keep: those of the modules that registered them
 * (imported through `importPlugin`, or `importEnvModule` / `make('module:Id')`); none for built-in ones.
 */
export async function pluginRecordsFor(envId: string, agent: string): Promise<PluginRecord[]> {
  const out: PluginRecord[] = [];
  const source = envSource(envId);
  if (source !== null) out.push(await importPlugin(source));
  for (const r of records.values()) if (r.agents.some((a) => a.name === agent) && !out.includes(r)) out.push(r);
  return out;
}

/** Replaces a just-registered plug-in agent's entry by one whose factory and actions are checked. */
function guardAgent(name: string, module: string): void {
  if (!isRegisteredAgent(name)) return;
  const entry = agentEntry(name);
  const label = `plug-in agent '${name}' (${module})`;
  const guarded: AgentEntry = {
    ...entry,
    create: (setup, config) => {
      let agent: Agent;
      try {
        agent = entry.create(setup, config);
      } catch (e) {
        throw new Error(`${label}: create() threw: ${e instanceof Error ? e.message.split('\n', 1)[0] : String(e)}`);
      }
      if (typeof agent !== 'object' || agent === null || typeof agent.act !== 'function' || typeof agent.observe !== 'function') {
        throw new Error(`${label}: create() must return an Agent (act, observe, status, save, load, savePolicy, dispose)`);
      }
      return checkedAgent(agent, setup, label);
    },
  };
  unregisterAgent(name);
  registerAgent(name, guarded);
}

/**
 * An agent whose `act()` results are checked against the action space: one action per row (Discrete: integers
 * in range; Box: finite rows of the space's width, which the env clips to its bounds), never NaN. Everything else is the agent's own.
 */
export function checkedAgent(agent: Agent, setup: Pick<AgentSetup, 'actionSpace'>, label: string): Agent {
  const space = setup.actionSpace;
  const width = space instanceof Box ? batchWidth(space) : 1;
  const check = (actions: TypedArray, n: number): void => {
    if (!ArrayBuffer.isView(actions) || actions.length !== n * width) {
      throw new Error(`${label}: act() must return a typed array of ${n * width} action${n * width === 1 ? '' : 's'} (${n} row${n === 1 ? '' : 's'} × ${width}), got ${describeActions(actions)}`);
    }
    for (let i = 0; i < n; i++) {
      const row = width === 1 && space instanceof Discrete ? actions[i]! : actions.subarray(i * width, (i + 1) * width);
      if (!actionInSpace(space, row)) {
        throw new Error(`${label}: act() returned ${typeof row === 'number' ? `the action ${row}` : `the action [${Array.from(row).join(', ')}]`} for row ${i}, outside the action space ${space}`);
      }
    }
  };
  return new Proxy(agent, {
    get(target, prop, receiver) {
      if (prop === 'act') {
        return (obs: TypedArray, n: number, explore: boolean, masks?: Int8Array | null) =>
          andThen(target.act(obs, n, explore, masks), (actions) => {
            check(actions as TypedArray, n);
            return actions;
          });
      }
      const value = Reflect.get(target, prop, receiver) as unknown;
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

function actionInSpace(space: Space, action: number | TypedArray): boolean {
  if (typeof action === 'number') return Number.isInteger(action) && space.contains(action);
  for (let k = 0; k < action.length; k++) if (!Number.isFinite(action[k]!)) return false;
  // A Box action beyond the bounds is legal: the env clips it, as Gymnasium's continuous envs do.
  return space instanceof Box || space.contains(action);
}

function describeActions(v: unknown): string {
  if (ArrayBuffer.isView(v)) return `${v.constructor.name} of length ${(v as unknown as ArrayLike<number>).length}`;
  return v === null ? 'null' : Array.isArray(v) ? `an array (use Int32Array or Float32Array)` : typeof v;
}

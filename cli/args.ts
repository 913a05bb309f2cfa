/**
 * Argument parsers shared by the `lab` sub-commands (commander's custom option processing), and the one
 * definition of each option common to the commands that create runs (`lab train`, `lab gan train`, `lab go
 * train`): --backend, --seed, --out, --run-id, --resume.
 */
import { InvalidArgumentError, Option, type Command } from 'commander';
import { isReservedKey, RUN_ID_PATTERN } from '../protocol/protocol.js';
import { BACKEND_CHOICES, type BackendChoice } from '../lab/compute.js';
import { importPlugin, importPlugins, loadRunPlugins, type PluginRecord } from '../agents/plugins.js';
import { envIds, splitModuleId } from '../envs/index.js';

/** An option value that must be a finite number ≥ 0 (frames per second, where 0 means no delay). */
export function nonNegativeNumber(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError(`expected a non-negative number, got '${value}'`);
  return n;
}

/** An option value that must be a safe integer ≥ `min`. */
export function integer(min: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isSafeInteger(n) || n < min) throw new InvalidArgumentError(`expected an integer >= ${min}, got '${value}'`);
    return n;
  };
}

/** A repeatable `key=value` option, the value parsed as JSON when it can be (numbers, booleans, arrays). */
export function keyValue(value: string, previous: Record<string, unknown> = {}): Record<string, unknown> {
  const eq = value.indexOf('=');
  if (eq <= 0) throw new InvalidArgumentError(`expected key=value, got '${value}'`);
  const key = value.slice(0, eq);
  // No option or hyperparameter is named like a property every object inherits (`toString`, `__proto__`, …):
  // such a key would reach prototypes in lookups that forget to ask for own properties.
  const reserved = key.split('.').find(isReservedKey);
  if (reserved !== undefined) throw new InvalidArgumentError(`'${key}': '${reserved}' is not an option or hyperparameter name`);
  const raw = value.slice(eq + 1);
  let parsed: unknown = raw;
  try {
    parsed = JSON.parse(raw);
  } catch {
    // a bare string such as mapName=8x8
  }
  if (hasProtoKey(parsed)) throw new InvalidArgumentError(`'${key}': a value may not hold a "__proto__" key`);
  return { ...previous, [key]: parsed };
}


/** Whether JSON data holds a `__proto__` key anywhere (JSON.parse makes it an own property). */
function hasProtoKey(v: unknown): boolean {
  if (Array.isArray(v)) return v.some(hasProtoKey);
  if (typeof v !== 'object' || v === null) return false;
  return Object.keys(v).some((k) => k === '__proto__' || hasProtoKey((v as Record<string, unknown>)[k]));
}

/**
 * Checks a `--run-id` against the protocol's RUN_ID_PATTERN, so that every run the CLIs create can also be
 * announced to and listed by the live server.
 */
export function checkRunId(runId: string | undefined, flag = '--run-id'): void {
  if (runId !== undefined && !RUN_ID_PATTERN.test(runId)) {
    throw new InvalidArgumentError(`${flag}: '${runId}' is not a plain name (letters, digits, '.', '_', '-'; not starting with '.' or '-'; at most 200 characters)`);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// The options every command that creates runs shares

/** What the run options give a command's action. */
export interface RunCliOptions {
  backend: BackendChoice;
  seed: number;
  out: string;
  runId?: string;
  resume?: string;
}

/** --backend <name>: the compute backend (lab/compute.ts); `help` says what it does in this command. */
export function backendOption(help = 'compute backend (auto: the fastest that starts here: node-gpu, webgpu with a hardware adapter, node, wasm, then cpu; lab backends lists them)'): Option {
  return new Option('--backend <name>', help).choices(BACKEND_CHOICES as string[]).default('auto');
}

/** --seed <n>: a non-negative integer seed; `help` says what it seeds, `defaultValue` its default. */
export function seedOption(help = 'run seed (every random stream of the run derives from it)', defaultValue = 0): Option {
  return new Option('--seed <n>', help).argParser(integer(0)).default(defaultValue);
}

/** --out <dir>: where new run directories go. */
export function outOption(help = 'directory for run directories (each run in <dir>/<run id>)', defaultValue = 'runs'): Option {
  return new Option('--out <dir>', help).default(defaultValue);
}

/**
 * --run-id <id>: the run directory's name, checked against RUN_ID_PATTERN when parsed (checkRunId); `lab sweep`
 * names its experiment directory the same way (--id).
 */
export function runIdOption(defaultName: string, flags = '--run-id <id>', what = 'name of the run directory'): Option {
  const flag = flags.split(' ')[0]!;
  return new Option(flags, `${what} (default: ${defaultName}); letters, digits, '.', '_', '-'`).argParser((value: string) => {
    checkRunId(value, flag);
    return value;
  });
}

/** --resume <runDir>: continue a run from its newest intact checkpoint. */
export function resumeOption(budget: string): Option {
  return new Option(
    '--resume <runDir>',
    `continue a run from its newest intact checkpoint, exactly (its options come from the run's config.json; ${budget} may raise the budget; ` +
      `it keeps its backend unless --backend names another)`,
  );
}

/**
 * Adds the options common to the commands that create runs, in one order: --seed, --backend, --out, --run-id,
 * --resume. `runId` describes the default run id, `budget` the option that raises a resumed run's budget.
 */
export function addRunOptions(command: Command, texts: { runId: string; budget: string; seed?: string }): Command {
  return command
    .addOption(seedOption(texts.seed))
    .addOption(backendOption())
    .addOption(outOption())
    .addOption(runIdOption(texts.runId))
    .addOption(resumeOption(texts.budget));
}

// ---------------------------------------------------------------------------------------------------------------
// --import: plug-in modules (agents/plugins.ts)

/** What `--import` gives a command's action: the module paths, in order. */
export interface ImportCliOptions {
  import?: string[];
}

/**
 * --import <module>, repeatable: a TypeScript or JavaScript module that registers envs (`register`) and agents
 * (`registerAgent`) before the command runs. Every command that loads runs takes it; runs also record their
 * plug-ins, so it is needed only to start a run or to point at a moved module.
 */
export function importOption(): Option {
  return new Option('--import <module>', 'a plug-in module (.ts or .js) that registers envs and agents; repeatable').argParser((value: string, previous: string[] | undefined) => [...(previous ?? []), value]);
}

/** Imports the `--import` modules of a command (each failure one line naming the module); what they registered. */
export async function loadImports(opts: ImportCliOptions): Promise<PluginRecord[]> {
  return importPlugins(opts.import ?? []);
}

/**
 * `--env` as given: a plain id, or Gymnasium's `module:EnvId` (the module imported first, and its record added to
 * `loaded`); returns the plain id the run keeps.
 */
export async function resolveEnvOption(envId: string, loaded: PluginRecord[]): Promise<string> {
  const split = registrationOf(envId) ? null : splitModuleId(envId);
  if (!split) return envId;
  const record = await importPlugin(split.module);
  if (!loaded.includes(record)) loaded.push(record);
  if (!record.envs.includes(split.id)) throw new InvalidArgumentError(`--env ${envId}: module ${record.module} registered ${record.envs.length ? record.envs.join(', ') : 'no environment'}, not '${split.id}'`);
  return split.id;
}

function registrationOf(id: string): boolean {
  return envIds().includes(id);
}

/**
 * What a command that reads runs does first: imports its `--import` modules, then the plug-ins each run in
 * `runPaths` recorded (a run directory, or a path inside one). One error line names a module that fails.
 */
export async function loadPlugins(opts: ImportCliOptions, runPaths: readonly string[] = []): Promise<void> {
  await importPlugins(opts.import ?? []);
  for (const p of runPaths) await loadRunPlugins(p);
}

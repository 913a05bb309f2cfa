/**
 * Checked reading of a run directory's files for the readers that must never trust them (the live server's
 * run list, `lab compare`, `lab eval`): config.json against the shape its writer gives it, metrics.jsonl line by
 * line. A file that fails is reported as a RunDamage whose message names the file relative to the run
 * directory and the field ("config.json: createdAt: expected a string, got nothing"), never an absolute path.
 *
 * Every kind of run shares one config base (RunConfigBase: kind, runId, hyperparameters, seed, backend, versions,
 * createdAt, command) and one schema for it; each kind adds its fields:
 *
 *   RL runs             RlRunFields        `kind: "rl"` (runs from before kinds have none: they read as "rl")
 *   GAN runs            GanRunFields       `kind: "gan"` (gan/train.ts narrows its hyperparameters)
 *   AlphaZero-lite runs AlphaZeroRunFields `kind: "go-alphazero"` (agents/go/alphazero.ts narrows its hyperparameters)
 */
import fs from 'node:fs';
import path from 'node:path';
import { s, SchemaError, type Check } from '../protocol/protocol.js';
import type { TrainEvent } from '../protocol/events.js';
import { ALPHAZERO_RECORD_CHECKS, type AlphaZeroRecord } from '../protocol/events.js';
import { resolveReplayConfig, type ReplayConfig } from './replay.js';

/** A run file that cannot be used, and why; `file` is relative to the run directory. */
export class RunDamage extends Error {
  override name = 'RunDamage';
  constructor(
    readonly file: string,
    readonly reason: string,
  ) {
    super(`${file}: ${reason}`);
  }
}

/** `kind` of AlphaZero-lite run directories (agents/go/alphazero.ts ALPHAZERO_RUN_KIND, not imported: it loads TF). */
export const ALPHAZERO_KIND = 'go-alphazero';

/** The kinds of run directory; config.json's `kind` (none: "rl", written before runs had kinds). */
export type RunDirKind = 'rl' | 'gan' | typeof ALPHAZERO_KIND;
export const RUN_DIR_KINDS: readonly RunDirKind[] = ['rl', 'gan', ALPHAZERO_KIND];

/** What a kind of run counts its progress (budget, checkpoints) in: env steps (RL) or iterations (GAN, AlphaZero). */
export type ProgressUnit = 'steps' | 'iterations';
export const PROGRESS_UNIT: Readonly<Record<RunDirKind, ProgressUnit>> = { rl: 'steps', gan: 'iterations', [ALPHAZERO_KIND]: 'iterations' };

/** The compute backend a run asked for, the one it got, and why (lab/compute.ts initCompute). */
export interface RunBackend {
  requested: string;
  backend: string;
  reason: string;
  /** Absent in AlphaZero-lite runs from before the common run model. */
  details: Record<string, unknown>;
}

/** Versions of what trained the run. */
export interface RunVersions {
  /** The lab's package version (lab/version.ts); absent in AlphaZero-lite runs from before the common run model. */
  lab: string;
  node: string;
  tfjs: string;
}

/** The fields of config.json every kind of run writes (lab/run_store.ts newRunConfig fills in the common ones). */
export interface RunConfigBase<K extends RunDirKind = RunDirKind, H = Record<string, unknown>> {
  kind: K;
  runId: string;
  hyperparameters: H;
  seed: number;
  backend: RunBackend;
  versions: RunVersions;
  /** When the run directory was created (ISO 8601). */
  createdAt: string;
  /** The command line that created it ('' when started from code). */
  command: string;
}

/** An RL run's config.json (`lab train`). */
export interface RlRunFields extends RunConfigBase<'rl'> {
  envId: string;
  envKwargs: Record<string, unknown>;
  agent: string;
  preset: string | null;
  /** Env-step budget. */
  steps: number;
  /** Episode budget (the book's 1000 episodes), null for none. */
  episodes: number | null;
  numEnvs: number;
  evalEvery: number;
  evalEpisodes: number;
  /** Evaluation episode j is seeded evalSeed + j, the same at every evaluation. */
  evalSeed: number;
  checkpointEvery: number;
  /** Which episodes get replay logs; run directories from before replay logs lack it (defaults apply). */
  replays?: ReplayConfig;
  /** `lab train --conf`: the rl-zoo hyperparameter file (absolute path) and section the hyperparameters came from. */
  hyperparameterFile?: { path: string; section: string };
  /** Plug-in modules the run's env or agent came from (agents/plugins.ts), imported again by every reader. */
  imports?: RunImport[];
  /** A run written by the user's own training script (agents/script_run.ts): the script's path. */
  script?: string;
}

/** One plug-in module a run needs: its absolute path and what it registered (agents/plugins.ts PluginRecord). */
export interface RunImport {
  module: string;
  envs: string[];
  /** Agents, each with its hyperparameter names (sorted). */
  agents: { name: string; hyperparameters: string[] }[];
}

const runImport = s.object<RunImport>(
  {
    module: s.string({ max: 4096, pattern: /\S/ }),
    envs: s.array(s.string({ max: 200 })),
    agents: s.array(s.object<RunImport['agents'][number]>({ name: s.string({ max: 100 }), hyperparameters: s.array(s.string({ max: 200 })) }, { allowExtra: true })),
  },
  { allowExtra: true },
);

/** Where a GAN run's images come from: the cache or the shipped subset only, download when missing, or again. */
export type DataMode = 'never' | 'if-missing' | 'always';

/** A GAN run's config.json (`kind: "gan"`); gan/train.ts narrows the hyperparameters to its own type. */
export interface GanRunFields<H = Record<string, unknown>> extends RunConfigBase<'gan', H> {
  category: string;
  preset: string;
  /** Iteration budget (one discriminator step + one adversarial step each). */
  iterations: number;
  data: { category: string; source: string; count: number; limit: number | null; download: DataMode };
}
type GanRunConfig = GanRunFields;

/** An AlphaZero-lite run's config.json (`kind: "go-alphazero"`); agents/go/alphazero.ts narrows the hyperparameters. */
export interface AlphaZeroRunFields<H extends { size: number } = Record<string, unknown> & { size: number }> extends RunConfigBase<typeof ALPHAZERO_KIND, H> {
  agent: 'alphazero';
  /** Iteration budget. */
  iterations: number;
  /** Iterations between checkpoints. */
  checkpointEvery: number;
}
/** The name readers used before the common run model. */
export type AlphaZeroRunConfigFields = AlphaZeroRunFields;

export type CheckedRunConfig = { kind: 'rl'; config: RlRunFields } | { kind: 'gan'; config: GanRunConfig } | { kind: typeof ALPHAZERO_KIND; config: AlphaZeroRunFields };

/** A run's budget in its progress unit (RL: env steps, GAN and AlphaZero-lite: iterations). */
export function runBudget(checked: CheckedRunConfig): { unit: ProgressUnit; total: number } {
  return { unit: PROGRESS_UNIT[checked.kind], total: checked.kind === 'rl' ? checked.config.steps : checked.config.iterations };
}

// ---------------------------------------------------------------------------------------------------------
// Schemas

/** A plain JSON object (hyperparameters, env options): nested data checked for shape, not meaning. */
function jsonObject(maxDepth = 10): Check<Record<string, unknown>> {
  const json = s.json({ maxDepth, maxItems: 200_000 });
  return (v, p) => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return s.object({})(v, p) as never;
    return json(v, p) as Record<string, unknown>;
  };
}

/** An ISO-style time stamp (what `new Date().toISOString()` wrote). */
const timeStamp: Check<string> = (v, p) => {
  const t = s.string({ max: 100 })(v, p);
  if (!Number.isFinite(Date.parse(t))) throw new SchemaError(`${p}: expected a date and time, got ${JSON.stringify(t.slice(0, 40))}`);
  return t;
};

const name = (max = 200) => s.string({ max });
const backend = s.object<RunBackend>(
  { requested: name(), backend: name(), reason: s.string({ max: 10_000 }), details: s.optional(jsonObject(6)) as Check<Record<string, unknown>> },
  { allowExtra: true },
);
const versions = s.object<RunVersions>({ lab: name(), node: name(), tfjs: name() }, { allowExtra: true });
/** AlphaZero-lite runs from before the common run model wrote no lab version. */
const versionsWithoutLab = s.object<RunVersions>({ lab: s.optional(name()) as Check<string>, node: name(), tfjs: name() }, { allowExtra: true });

/** The schema of the fields every kind shares (RunConfigBase), followed by a kind's own fields. */
function runConfigSchema<C extends RunConfigBase>(
  kind: Check<C['kind']>,
  hyperparameters: Check<C['hyperparameters']>,
  own: { [K in Exclude<keyof C, keyof RunConfigBase>]: Check<C[K]> },
  legacy: { versions?: Check<RunVersions> } = {},
): Check<C> {
  const base: { [K in keyof RunConfigBase]: Check<unknown> } = {
    kind,
    runId: name(),
    hyperparameters,
    seed: s.int({ min: 0 }),
    backend,
    versions: legacy.versions ?? versions,
    createdAt: timeStamp,
    command: s.string({ max: 100_000 }),
  };
  return s.object<C>({ ...base, ...own } as unknown as { [K in keyof C]: Check<C[K]> }, { allowExtra: true });
}

export const rlRunConfigSchema: Check<RlRunFields> = runConfigSchema<RlRunFields>(
  // Checked by checkRunConfig: "rl", or none in runs from before kinds.
  s.optional(s.literal('rl')) as Check<'rl'>,
  jsonObject(),
  {
    envId: s.string({ max: 200, pattern: /\S/ }),
    envKwargs: jsonObject(6),
    agent: s.string({ max: 100, pattern: /\S/ }),
    preset: s.nullable(name(100)),
    steps: s.int({ min: 1 }),
    episodes: s.nullable(s.int({ min: 1 })),
    numEnvs: s.int({ min: 1 }),
    evalEvery: s.int({ min: 0 }),
    evalEpisodes: s.int({ min: 0 }),
    evalSeed: s.int({ min: 0 }),
    checkpointEvery: s.int({ min: 0 }),
    hyperparameterFile: s.optional(s.object<{ path: string; section: string }>({ path: s.string({ max: 4096 }), section: s.string({ max: 200 }) }, { allowExtra: true })) as Check<RlRunFields['hyperparameterFile']>,
    imports: s.optional(s.array(runImport)) as Check<RlRunFields['imports']>,
    script: s.optional(s.string({ max: 4096 })) as Check<RlRunFields['script']>,
    replays: ((v, p) => {
      if (v === undefined) return undefined;
      try {
        return resolveReplayConfig(jsonObject(3)(v, p) as Partial<ReplayConfig>);
      } catch (e) {
        if (e instanceof SchemaError) throw e;
        throw new SchemaError((e as Error).message);
      }
    }) as Check<RlRunFields['replays']>,
  },
);

export const ganRunConfigSchema: Check<GanRunConfig> = runConfigSchema<GanRunConfig>(s.literal('gan'), jsonObject(), {
  category: s.string({ max: 100, pattern: /\S/ }),
  preset: name(100),
  iterations: s.int({ min: 1 }),
  data: s.object<GanRunConfig['data']>(
    { category: name(100), source: s.string({ max: 10_000 }), count: s.int({ min: 0 }), limit: s.nullable(s.int({ min: 1 })), download: s.literal('never', 'if-missing', 'always') },
    { allowExtra: true },
  ),
});

export const alphaZeroRunConfigSchema: Check<AlphaZeroRunFields> = runConfigSchema<AlphaZeroRunFields>(
  s.literal(ALPHAZERO_KIND),
  ((v, p) => {
    const hp = jsonObject()(v, p);
    s.object({ size: s.int({ min: 5, max: 19 }) }, { allowExtra: true })(hp, p);
    return hp;
  }) as Check<AlphaZeroRunFields['hyperparameters']>,
  { agent: name(100) as Check<'alphazero'>, iterations: s.int({ min: 1 }), checkpointEvery: s.int({ min: 0 }) },
  { versions: versionsWithoutLab },
);

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Checks a parsed config.json by its `kind`; throws a RunDamage naming the field. The config is returned as
 * it was read (fields this check does not know included), so a reader that writes it back loses nothing; an RL
 * run from before kinds (no `kind`) comes back with `kind: "rl"`.
 */
export function checkRunConfig(value: unknown, file = 'config.json'): CheckedRunConfig {
  try {
    if (!isRecord(value)) return s.object({})(value, '') as never;
    const kind = Object.hasOwn(value, 'kind') ? value.kind : undefined;
    if (kind === undefined || kind === 'rl') {
      rlRunConfigSchema(value, '');
      return { kind: 'rl', config: (kind === undefined ? { kind: 'rl', ...value } : value) as unknown as RlRunFields };
    }
    if (kind === 'gan') {
      ganRunConfigSchema(value, '');
      return { kind: 'gan', config: value as unknown as GanRunConfig };
    }
    if (kind === ALPHAZERO_KIND) {
      alphaZeroRunConfigSchema(value, '');
      return { kind: ALPHAZERO_KIND, config: value as unknown as AlphaZeroRunFields };
    }
    const shown = typeof kind === 'string' ? JSON.stringify(kind.slice(0, 40)) : kind === null ? 'null' : typeof kind;
    throw new SchemaError(`kind: expected none (an RL run), "gan" or "${ALPHAZERO_KIND}", got ${shown}`);
  } catch (e) {
    if (e instanceof SchemaError) throw new RunDamage(file, e.message.replace(/^payload: /, ''));
    throw e;
  }
}

/** A file of the run as text; a missing or unreadable file is a RunDamage. */
export function readRunFile(dir: string, file: string): string {
  try {
    return fs.readFileSync(path.join(dir, file), 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new RunDamage(file, code === 'ENOENT' ? 'missing' : code === 'EISDIR' ? 'is a directory' : code === 'EACCES' ? 'not readable (permission denied)' : `cannot be read (${code ?? 'error'})`);
  }
}

/** JSON text parsed, or a RunDamage that quotes the parser (never a path). */
export function parseRunJson(text: string, file: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new RunDamage(file, `not valid JSON (${oneLine((e as Error).message, 120)})`);
  }
}

/** config.json of a run directory, read and checked. */
export function readRunConfig(dir: string): CheckedRunConfig {
  return checkRunConfig(parseRunJson(readRunFile(dir, 'config.json'), 'config.json'), 'config.json');
}

/** The raw config.json object when it is one (for salvaging the fields of a damaged run), else null. */
export function readRawRunConfig(dir: string): Record<string, unknown> | null {
  try {
    const v = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8')) as unknown;
    return isRecord(v) ? v : null;
  } catch {
    return null;
  }
}

// ---------------------------------------------------------------------------------------------------------
// metrics.jsonl

const step = s.int({ min: 0 });
const finite = s.number();
/** sps may have been written from a zero time interval (Infinity → null). */
const rate: Check<number> = (v, p) => (v === null ? 0 : s.number({ min: 0 })(v, p));
const stats: Check<Record<string, number>> = (v, p) => {
  const o = jsonObject(1)(v, p);
  const out: Record<string, number> = {};
  for (const [k, x] of Object.entries(o)) {
    if (x === null) continue; // a NaN average (written as null)
    out[k] = s.number()(x, `${p}.${k}`);
  }
  return out;
};

/** The fields each kind of event's readers use; other fields pass through, unknown event types are skipped. */
const EVENT_CHECKS: Record<string, Check<Record<string, unknown>>> = {
  episode: s.object({ type: s.literal('episode'), step, episode: s.int({ min: 0 }), return: finite, length: s.int({ min: 0 }) }, { allowExtra: true }),
  eval: s.object(
    { type: s.literal('eval'), step, episodes: s.int({ min: 0 }), meanReturn: finite, stdReturn: finite, minReturn: finite, maxReturn: finite, returns: s.optional(s.array(finite)) },
    { allowExtra: true },
  ),
  update: s.object({ type: s.literal('update'), step, sps: rate, stats }, { allowExtra: true }),
  checkpoint: s.object({ type: s.literal('checkpoint'), step }, { allowExtra: true }),
  samples: (v, p) => {
    const e = s.object(
      { type: s.literal('samples'), step, count: s.int({ min: 1, max: 256 }), width: s.int({ min: 1, max: 256 }), height: s.int({ min: 1, max: 256 }), pixels: s.string({ max: 4 * 256 * 256 * 64, pattern: /^[A-Za-z0-9+/]*={0,2}$/ }) },
      { allowExtra: true },
    )(v, p);
    const want = 4 * Math.ceil((e.count * e.width * e.height) / 3);
    if (e.pixels.length !== want) throw new SchemaError(`${p ? `${p}.` : ''}pixels: expected ${want} base64 characters for ${e.count} images of ${e.height}×${e.width}, got ${e.pixels.length}`);
    return e;
  },
};

const isCount = (x: unknown): boolean => typeof x === 'number' && Number.isSafeInteger(x) && x >= 0;
const isFinite = (x: unknown): boolean => Number.isFinite(x);
/**
 * The common case at a fraction of the schemas' cost (a long run's metrics.jsonl has 100 000s of lines): true
 * when an event is certainly valid as written. Anything else goes through EVENT_CHECKS, which also say why.
 */
const FAST_CHECKS: Record<string, (e: Record<string, unknown>) => boolean> = {
  episode: (e) => isCount(e.step) && isCount(e.episode) && isFinite(e.return) && isCount(e.length),
  eval: (e) =>
    isCount(e.step) &&
    isCount(e.episodes) &&
    isFinite(e.meanReturn) &&
    isFinite(e.stdReturn) &&
    isFinite(e.minReturn) &&
    isFinite(e.maxReturn) &&
    (e.returns === undefined || (Array.isArray(e.returns) && e.returns.every(isFinite))),
  update: (e) => {
    if (!isCount(e.step) || !isFinite(e.sps) || (e.sps as number) < 0) return false;
    const stats = e.stats;
    if (typeof stats !== 'object' || stats === null || Object.getPrototypeOf(stats) !== Object.prototype) return false;
    for (const k in stats) if (k === '__proto__' || !isFinite((stats as Record<string, unknown>)[k])) return false;
    return true;
  },
  checkpoint: (e) => isCount(e.step),
};

/**
 * Walks the records of a metrics.jsonl text: each line must be a JSON object with a string `type`; a partial
 * last line (a crashed writer) is skipped; a malformed line elsewhere is a RunDamage naming its number.
 * `take` gets each record with its 1-based line number.
 */
function forEachRecord(text: string, file: string, take: (v: Record<string, unknown>, type: string, line: number) => void): void {
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line === '') continue;
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch {
      if (i === lines.length - 1) break; // unterminated last line of a crashed writer
      throw new RunDamage(file, `line ${i + 1} is not valid JSON`);
    }
    if (!isRecord(v)) throw new RunDamage(file, `line ${i + 1}: expected a record object`);
    const type = Object.hasOwn(v, 'type') ? v.type : undefined;
    if (typeof type !== 'string') throw new RunDamage(file, `line ${i + 1}: type: expected a string, got ${type === undefined ? 'nothing' : typeof type}`);
    take(v, type, i + 1);
  }
}

/** A record checked by `check`, its other fields kept (an own `__proto__` key dropped); a failure names the line. */
function checkedRecord<T>(v: Record<string, unknown>, check: (v: unknown, path: string) => unknown, file: string, line: number): T {
  try {
    const checked = check(v, '') as Record<string, unknown>;
    return Object.fromEntries([...Object.entries(v).filter(([k]) => k !== '__proto__'), ...Object.entries(checked)]) as T;
  } catch (e) {
    if (e instanceof SchemaError) throw new RunDamage(file, `line ${line}: ${e.message.replace(/^payload: /, '')}`);
    throw e;
  }
}

/**
 * The events of a metrics.jsonl text, each known kind checked for the fields its readers use (other fields
 * pass through; unknown types, such as AlphaZero's, are skipped).
 */
export function parseMetrics(text: string, file = 'metrics.jsonl'): TrainEvent[] {
  const events: TrainEvent[] = [];
  forEachRecord(text, file, (v, type, line) => {
    if (!Object.hasOwn(EVENT_CHECKS, type)) return;
    if (Object.hasOwn(FAST_CHECKS, type) && !Object.hasOwn(v, '__proto__') && FAST_CHECKS[type]!(v)) events.push(v as unknown as TrainEvent);
    else events.push(checkedRecord<TrainEvent>(v, EVENT_CHECKS[type]!, file, line));
  });
  return events;
}

/** metrics.jsonl of a run directory, read and checked (missing: a RunDamage). */
export function readRunMetrics(dir: string, file = 'metrics.jsonl'): TrainEvent[] {
  return parseMetrics(readRunFile(dir, file), file);
}

// AlphaZero-lite records (issue 19, item 2: "every kind everywhere"). Their checks are in protocol/events.ts
// (ALPHAZERO_RECORD_CHECKS) beside the record types; RL and GAN records go through parseMetrics above.

/**
 * The records of an AlphaZero-lite run's metrics.jsonl (`iteration` and `go-eval`), every field checked (a
 * loss written as null reads as NaN); other record types are skipped.
 */
export function parseAlphaZeroMetrics(text: string, file = 'metrics.jsonl'): AlphaZeroRecord[] {
  const records: AlphaZeroRecord[] = [];
  forEachRecord(text, file, (v, type, line) => {
    if (Object.hasOwn(ALPHAZERO_RECORD_CHECKS, type)) records.push(checkedRecord<AlphaZeroRecord>(v, ALPHAZERO_RECORD_CHECKS[type as AlphaZeroRecord['type']], file, line));
  });
  return records;
}

/** metrics.jsonl of an AlphaZero-lite run directory, read and checked (missing: a RunDamage). */
export function readAlphaZeroRunMetrics(dir: string, file = 'metrics.jsonl'): AlphaZeroRecord[] {
  return parseAlphaZeroMetrics(readRunFile(dir, file), file);
}

// ---------------------------------------------------------------------------------------------------------
// Messages

/** The first line of a message, at most `max` characters. */
export function oneLine(message: string, max = 300): string {
  const first = message.split('\n', 1)[0]!.trim();
  return first.length > max ? `${first.slice(0, max - 1)}…` : first;
}

/**
 * An error message fit for a client: one line, with `root` (and anything under it) written relative to it and
 * any other absolute path cut to its last part.
 */
export function publicMessage(message: string, roots: readonly string[]): string {
  let m = message;
  for (const root of roots) {
    if (!root || root === path.sep) continue;
    const withSep = root.endsWith(path.sep) ? root : root + path.sep;
    m = m.split(withSep).join('').split(root).join('.');
  }
  // Paths outside the roots: keep the last name only.
  m = m.replace(/(^|[\s'"`(=:])((?:\/[^\s'"`():,/]+)+\/?)/g, (_all, lead: string, p: string) => `${lead}…/${path.basename(p)}`);
  return oneLine(m);
}

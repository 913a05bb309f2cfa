/**
 * The experiment directory of `lab sweep` (layout in protocol/experiments.ts and docs/experiments.md): created
 * whole or not at all, its trial table appended one fsync'd line per finished trial, and read back with checks
 * by the coordinator (resume), `lab sweep show`, `lab compare` and the viewer's Experiments page.
 *
 *   <expDir>/experiment.json   ExperimentMeta, written once, atomically
 *   <expDir>/trials.jsonl      one TrialRecord per finished trial, append-only
 *   <expDir>/runs/<runId>/     one ordinary run directory per trial × seed (runId = `${id}-t0003-s1`)
 *   <expDir>/coordinator.lock  {pid, host, since} while a `lab sweep` runs it (one coordinator at a time)
 *
 * A crash mid-append can leave a torn last line in trials.jsonl: readers ignore it, and the next append (or a
 * resume, through cutTornTrialLine) cuts it off first, so the table never holds half a record.
 */
import fs from 'node:fs';
import path from 'node:path';
import { s, SchemaError, type Check } from '../protocol/protocol.js';
import type { ExperimentSpec, Params, ParamValue, TrialRecord } from '../protocol/experiments.js';
import { fsyncDir, readJson } from '../lab/fsutil.js';
import { claimLock } from '../lab/process.js';

export const EXPERIMENT_FORMAT = 'lab-experiment/1';
export const EXPERIMENT_FILE = 'experiment.json';
export const TRIALS_FILE = 'trials.jsonl';
export const RUNS_DIR = 'runs';

/** experiment.json. */
export interface ExperimentMeta {
  format: typeof EXPERIMENT_FORMAT;
  /** The directory's name: `${name}-${runStamp()}`. */
  id: string;
  name: string;
  createdAt: string;
  labVersion: string;
  /** The validated, normalised spec: a resume uses this one, not the file it came from. */
  spec: ExperimentSpec;
  /** The spec file as given on the command line (for people; never read again). */
  specFile: string;
  /** The Redis queue the runs went through (the URL without its password), null for local workers. */
  queue: { url: string; name: string } | null;
}

/** A trial with run directories but no record yet (running now, or interrupted by a crash). */
export interface RunningTrial {
  trial: number;
  /** Its hyperparameters, read from its runs' config.json (empty while no run has written one yet). */
  params: Params;
  /** Each run: its seed, id and the last step (iteration) in its metrics.jsonl, null before the first. */
  runs: { seed: number; runId: string; step: number | null }[];
}

export interface ExperimentContents {
  dir: string;
  meta: ExperimentMeta;
  /** The finished trials in the order they finished. */
  records: TrialRecord[];
  /** The unfinished trials, by trial number. */
  running: RunningTrial[];
}

/** A run id of an experiment's trial × seed: `${id}-t0003-s1`. */
export function trialRunId(experimentId: string, trial: number, seed: number): string {
  return `${experimentId}-t${String(trial).padStart(4, '0')}-s${seed}`;
}

/** The trial and seed a run id of experiment `experimentId` names; null for any other name. */
export function parseTrialRunId(experimentId: string, runId: string): { trial: number; seed: number } | null {
  if (!runId.startsWith(`${experimentId}-t`)) return null;
  const m = /^(\d{4,})-s(\d+)$/.exec(runId.slice(experimentId.length + 2));
  if (!m) return null;
  const trial = Number(m[1]);
  const seed = Number(m[2]);
  return Number.isSafeInteger(trial) && Number.isSafeInteger(seed) ? { trial, seed } : null;
}

export function isExperimentDir(dir: string): boolean {
  try {
    return fs.statSync(path.join(dir, EXPERIMENT_FILE)).isFile();
  } catch {
    return false;
  }
}

/** Experiment directories under a runs root: the root itself, its children and grandchildren (runs/sweeps/<id>). */
export function findExperiments(root: string): string[] {
  const found: string[] = [];
  const visit = (dir: string, depth: number): void => {
    if (isExperimentDir(dir)) {
      found.push(dir);
      return;
    }
    if (depth >= 2) return;
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries.filter((e) => e.isDirectory() && !e.name.startsWith('.')).sort((a, b) => a.name.localeCompare(b.name))) visit(path.join(dir, e.name), depth + 1);
  };
  visit(root, 0);
  return found;
}

function fsyncFile(file: string): void {
  const fd = fs.openSync(file, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Creates `<outDir>/<meta.id>` with experiment.json, an empty trials.jsonl and runs/: filled under a temporary
 * name and renamed into place, so a crash never leaves a half-made experiment directory. Refuses an existing one.
 */
export function createExperimentDir(outDir: string, meta: ExperimentMeta): string {
  const dir = path.resolve(outDir, meta.id);
  if (fs.existsSync(dir)) throw new Error(`experiment directory ${dir} already exists`);
  fs.mkdirSync(outDir, { recursive: true });
  const tmp = path.join(path.dirname(dir), `.${meta.id}.tmp-${process.pid}-${Math.random().toString(36).slice(2, 8)}`);
  fs.mkdirSync(tmp);
  try {
    fs.writeFileSync(path.join(tmp, EXPERIMENT_FILE), JSON.stringify(meta, null, 2) + '\n');
    fs.writeFileSync(path.join(tmp, TRIALS_FILE), '');
    fs.mkdirSync(path.join(tmp, RUNS_DIR));
    fsyncFile(path.join(tmp, EXPERIMENT_FILE));
    fsyncFile(path.join(tmp, TRIALS_FILE));
    fsyncDir(path.join(tmp, RUNS_DIR));
    fsyncDir(tmp);
    // rename(2) replaces an empty directory silently: checked again right before it.
    if (fs.existsSync(dir)) throw new Error(`experiment directory ${dir} already exists`);
    fs.renameSync(tmp, dir);
  } catch (err) {
    fs.rmSync(tmp, { recursive: true, force: true });
    throw err;
  }
  fsyncDir(path.dirname(dir));
  return dir;
}

/**
 * Cuts a torn last line (a crash mid-append: bytes after the last newline) off trials.jsonl. Returns whether
 * it cut anything. A complete last record whose newline is missing is kept and given its newline.
 */
export function cutTornTrialLine(expDir: string): boolean {
  const file = path.join(expDir, TRIALS_FILE);
  if (!fs.existsSync(file)) return false;
  const text = fs.readFileSync(file, 'utf8');
  if (text === '' || text.endsWith('\n')) return false;
  const start = text.lastIndexOf('\n') + 1;
  const tail = text.slice(start);
  let complete = false;
  try {
    trialRecordSchema(JSON.parse(tail), 'record');
    complete = true;
  } catch {
    // torn: cut below
  }
  if (complete) {
    fs.appendFileSync(file, '\n');
    fsyncFile(file);
    return false;
  }
  fs.truncateSync(file, Buffer.byteLength(text.slice(0, start)));
  fsyncFile(file);
  return true;
}

/** Appends one finished trial to trials.jsonl as one line, flushed to disk before it returns. */
export function appendTrialRecord(expDir: string, record: TrialRecord): void {
  const file = path.join(expDir, TRIALS_FILE);
  trialRecordSchema(record, `trial ${record.trial}`);
  cutTornTrialLine(expDir);
  const fd = fs.openSync(file, 'a');
  try {
    fs.writeSync(fd, JSON.stringify(record) + '\n');
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// One coordinator at a time

export const LOCK_FILE = 'coordinator.lock';

/**
 * Claims the experiment for this process (`<expDir>/coordinator.lock`: {pid, host, since}), so that a second
 * `lab sweep --resume` of a sweep still running cannot record its trials twice. A lock left by a process that
 * is gone (kill -9, a crash) is taken over. Returns the release function.
 */
export function lockExperiment(expDir: string): () => void {
  const file = path.join(expDir, LOCK_FILE);
  return claimLock(
    file,
    (holder, sameHost) =>
      new Error(`experiment ${expDir} is being run by process ${holder.pid}${sameHost ? '' : ` on ${holder.host}`} (since ${holder.since}): stop it first${sameHost ? '' : `, or remove ${file} if that machine is gone`}`),
  );
}

// ---------------------------------------------------------------------------------------------------------------
// Names for people

/** A hyperparameter value for people: numbers to 4 significant digits. */
export function formatParam(v: ParamValue): string {
  if (typeof v !== 'number' || Number.isInteger(v)) return String(v);
  return String(Number(v.toPrecision(4)));
}

/** `learningRate=0.001234 nSteps=16`. */
export function formatParams(params: Params): string {
  return Object.entries(params)
    .map(([k, v]) => `${k}=${formatParam(v)}`)
    .join(' ');
}

/** A trial named by its number (padded to `width` digits, so names sort by number) and its params. */
export function trialLabel(trial: number, params: Params, width = 1): string {
  const p = formatParams(params);
  return `t${String(trial).padStart(width, '0')}${p ? ` ${p}` : ''}`;
}

/**
 * For `lab compare`: each experiment directory among `paths` replaced by its run directories (those with a
 * config.json), and every such run's trial label (trialLabel) by its absolute directory. Other paths pass as
 * they are.
 */
export function experimentRunGroups(paths: readonly string[]): { paths: string[]; trialOf: Map<string, string> } {
  const out: string[] = [];
  const trialOf = new Map<string, string>();
  for (const p of paths) {
    if (!isExperimentDir(p)) {
      out.push(p);
      continue;
    }
    const { dir, meta, records, running } = readExperiment(p);
    const params = new Map<number, Params>([...running.map((t) => [t.trial, t.params] as const), ...records.map((r) => [r.trial, r.params] as const)]);
    const width = String(Math.max(0, ...params.keys())).length;
    const runsDir = path.join(dir, RUNS_DIR);
    const runDirs = (fs.existsSync(runsDir) ? fs.readdirSync(runsDir) : [])
      .sort()
      .map((name) => ({ name, ids: parseTrialRunId(meta.id, name) }))
      .filter((r) => r.ids !== null && fs.existsSync(path.join(runsDir, r.name, 'config.json')));
    if (runDirs.length === 0) throw new Error(`${p}: the experiment has no runs yet`);
    for (const r of runDirs) {
      const runDir = path.join(runsDir, r.name);
      out.push(runDir);
      trialOf.set(runDir, trialLabel(r.ids!.trial, params.get(r.ids!.trial) ?? {}, width));
    }
  }
  return { paths: out, trialOf };
}

// ---------------------------------------------------------------------------------------------------------------
// Checked reading

const paramValue: Check<ParamValue> = (v, p) => {
  if (typeof v === 'string' || typeof v === 'boolean') return v;
  return s.number()(v, p);
};

const params: Check<Params> = (v, p) => {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new SchemaError(`${p}: expected an object, got ${v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v}`);
  const out: Params = {};
  for (const [k, x] of Object.entries(v)) {
    if (k === '__proto__') throw new SchemaError(`${p}.__proto__: not allowed as a key`);
    out[k] = paramValue(x, `${p}.${k}`);
  }
  return out;
};

const stepValue = s.object({ step: s.number({ min: 0 }), value: s.number() });
const runState = s.literal('done', 'pruned', 'failed');

const trialRecordSchema: Check<TrialRecord> = s.object<TrialRecord>(
  {
    trial: s.int({ min: 0 }),
    params,
    state: runState,
    objective: s.numberOrNull() as Check<number | null>,
    interval: s.nullable(((v, p) => {
      const a = s.array(s.number(), { min: 2, max: 2 })(v, p);
      return [a[0]!, a[1]!] as [number, number];
    }) as Check<[number, number]>),
    seeds: s.array(
      s.object<TrialRecord['seeds'][number]>(
        {
          seed: s.int({ min: 0 }),
          runId: s.string({ max: 300 }),
          state: runState,
          value: s.numberOrNull() as Check<number | null>,
          prunedAt: s.optional(s.number({ min: 0 })) as Check<number>,
          error: s.optional(s.string({ max: 10_000 })) as Check<string>,
        },
        { allowExtra: true },
      ),
      { max: 10_000 },
    ),
    curve: s.array(stepValue, { max: 1_000_000 }),
    startedAt: s.string({ max: 100 }),
    endedAt: s.string({ max: 100 }),
  },
  { allowExtra: true },
);

/** The parts of the spec every reader relies on; the spec's own checker (sweep/spec.ts) judges the rest. */
const storedSpec: Check<ExperimentSpec> = (v, p) => {
  s.object(
    {
      name: s.string({ max: 200 }),
      run: s.object({ kind: s.literal('rl', 'gan', 'go-alphazero') }, { allowExtra: true }),
      seeds: s.array(s.int({ min: 0 }), { min: 1, max: 10_000 }),
      search: s.json({ maxDepth: 4 }),
      sampler: s.literal('grid', 'random', 'tpe'),
      samplerSeed: s.int({ min: 0 }),
      trials: s.nullable(s.int({ min: 1 })),
      timeLimitSeconds: s.nullable(s.number({ min: 0 })),
      objective: s.object({ metric: s.string({ max: 200 }), reduce: s.literal('iqm-last', 'mean-last', 'auc', 'steps-to-threshold'), direction: s.literal('maximize', 'minimize') }, { allowExtra: true }),
      pruner: s.object({ type: s.literal('none', 'median') }, { allowExtra: true }),
      parallelTrials: s.int({ min: 0 }),
    },
    { allowExtra: true },
  )(v, p);
  if (typeof (v as { search: unknown }).search !== 'object' || (v as { search: unknown }).search === null || Array.isArray((v as { search: unknown }).search)) {
    throw new SchemaError(`${p}.search: expected an object`);
  }
  return v as ExperimentSpec;
};

const metaSchema: Check<ExperimentMeta> = s.object<ExperimentMeta>(
  {
    format: s.literal(EXPERIMENT_FORMAT),
    id: s.string({ max: 200, pattern: /^[A-Za-z0-9_][A-Za-z0-9._-]*$/ }),
    name: s.string({ max: 200 }),
    createdAt: s.string({ max: 100 }),
    labVersion: s.string({ max: 100 }),
    spec: storedSpec,
    specFile: s.string({ max: 10_000 }),
    queue: s.nullable(s.object({ url: s.string({ max: 2000 }), name: s.string({ max: 200 }) })),
  },
  { allowExtra: true },
);

/** experiment.json of `expDir`, checked; errors name the file. */
export function readExperimentMeta(expDir: string): ExperimentMeta {
  const file = path.join(expDir, EXPERIMENT_FILE);
  if (!fs.existsSync(file)) {
    throw new Error(fs.existsSync(expDir) ? `${expDir} is not an experiment directory (no ${EXPERIMENT_FILE})` : `${expDir}: no such directory`);
  }
  const raw = readJson<unknown>(file, 'experiment file');
  try {
    return metaSchema(raw, '');
  } catch (err) {
    const msg = err instanceof SchemaError ? err.message.replace(/^payload: /, '') : String(err);
    throw new Error(`experiment file ${file} is damaged: ${msg}`);
  }
}

/**
 * The finished trials in trials.jsonl: a torn last line (crash mid-append) is ignored; a damaged line before
 * it, or a trial recorded twice, is an error naming the file and the line.
 */
export function readTrialRecords(expDir: string): TrialRecord[] {
  const file = path.join(expDir, TRIALS_FILE);
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new Error(`cannot read ${file}: ${(err as Error).message}`);
  }
  const lines = text.split('\n');
  const torn = !text.endsWith('\n') ? lines.length - 1 : -1;
  const records: TrialRecord[] = [];
  const seen = new Set<number>();
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.trim() === '') continue;
    let record: TrialRecord;
    try {
      record = trialRecordSchema(JSON.parse(line), 'record');
    } catch (err) {
      if (i === torn) break;
      const why = err instanceof SyntaxError ? 'not valid JSON' : (err as Error).message;
      throw new Error(`trial table ${file} is damaged: line ${i + 1}: ${why}`);
    }
    if (seen.has(record.trial)) throw new Error(`trial table ${file} is damaged: line ${i + 1}: trial ${record.trial} is recorded twice`);
    seen.add(record.trial);
    records.push(record);
  }
  return records;
}

/** The last step (or iteration) recorded in a run's metrics.jsonl, from its tail; null when there is none. */
function lastStep(runDir: string): number | null {
  const file = path.join(runDir, 'metrics.jsonl');
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch {
    return null;
  }
  try {
    const size = fs.fstatSync(fd).size;
    const length = Math.min(size, 64 * 1024);
    const buf = Buffer.alloc(length);
    fs.readSync(fd, buf, 0, length, size - length);
    const lines = buf.toString('utf8').split('\n');
    for (let i = lines.length - 1; i >= 0; i--) {
      try {
        const e = JSON.parse(lines[i]!) as Record<string, unknown>;
        const v = typeof e.step === 'number' ? e.step : e.iteration;
        if (typeof v === 'number' && Number.isFinite(v)) return v;
      } catch {
        // a torn or partial line: look further back
      }
    }
    return null;
  } finally {
    fs.closeSync(fd);
  }
}

/** A trial's params as its run applied them: each search key looked up (dotted) in config.json's hyperparameters. */
function paramsFromRun(runDir: string, keys: readonly string[]): Params | null {
  let config: unknown;
  try {
    config = JSON.parse(fs.readFileSync(path.join(runDir, 'config.json'), 'utf8'));
  } catch {
    return null;
  }
  const hp = (config as { hyperparameters?: unknown } | null)?.hyperparameters;
  if (typeof hp !== 'object' || hp === null) return null;
  const out: Params = {};
  for (const key of keys) {
    const v = key.split('.').reduce<unknown>((o, k) => (typeof o === 'object' && o !== null && Object.hasOwn(o, k) ? (o as Record<string, unknown>)[k] : undefined), hp);
    if (typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean') out[key] = v;
  }
  return out;
}

/** Everything in an experiment directory: its meta, finished trials and unfinished ones. */
export function readExperiment(expDir: string): ExperimentContents {
  const dir = path.resolve(expDir);
  const meta = readExperimentMeta(dir);
  const records = readTrialRecords(dir);
  const finished = new Set(records.map((r) => r.trial));
  const byTrial = new Map<number, RunningTrial>();
  let names: string[] = [];
  try {
    names = fs.readdirSync(path.join(dir, RUNS_DIR));
  } catch {
    // no runs yet
  }
  const keys = Object.keys(meta.spec.search);
  for (const name of names.sort()) {
    const ids = parseTrialRunId(meta.id, name);
    if (!ids || finished.has(ids.trial)) continue;
    const runDir = path.join(dir, RUNS_DIR, name);
    if (!fs.statSync(runDir).isDirectory()) continue;
    let t = byTrial.get(ids.trial);
    if (!t) byTrial.set(ids.trial, (t = { trial: ids.trial, params: {}, runs: [] }));
    if (Object.keys(t.params).length === 0) t.params = paramsFromRun(runDir, keys) ?? {};
    t.runs.push({ seed: ids.seed, runId: name, step: lastStep(runDir) });
  }
  const running = [...byTrial.values()].sort((a, b) => a.trial - b.trial);
  for (const t of running) t.runs.sort((a, b) => meta.spec.seeds.indexOf(a.seed) - meta.spec.seeds.indexOf(b.seed));
  return { dir, meta, records, running };
}

/**
 * `lab sweep <spec>`: runs an experiment (a search over hyperparameters, each trial over several seeds) on local
 * worker processes or a Redis queue, into an experiment directory (sweep/experiment_files.ts) of ordinary run
 * directories; `lab sweep --resume <expDir>` continues one after a crash or a stop; `lab sweep show <expDir>`
 * prints its trial table and the best configuration with the command that trains it alone.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import type { ExperimentSpec, Params, RunTemplate, TrialRecord } from '../protocol/experiments.js';
import { DEFAULT_LIVE_URL } from '../protocol/protocol.js';
import { ProgressLine } from '../lab/progress.js';
import { SweepProgress } from '../sweep/progress.js';
import { runStamp } from '../lab/run_store.js';
import { LAB_VERSION } from '../lab/version.js';
import { integer, runIdOption } from './args.js';
import { onStopSignal } from './signals.js';
import { importSpecPlugins, readSpecWithPlugins, validateSpec } from '../sweep/spec.js';
import { trialBudget } from '../sweep/samplers.js';
import { bestTrial, runExperiment, type CoordinatorEvent, type ExperimentOutcome } from '../sweep/coordinator.js';
import { createExperimentDir, EXPERIMENT_FORMAT, formatParam, formatParams, lockExperiment, readExperiment, RUNS_DIR, type ExperimentContents, type ExperimentMeta } from '../sweep/experiment_files.js';
import { LocalPool } from '../sweep/local_pool.js';
import { LocalDispatcher, type RunDispatcher } from '../sweep/dispatcher.js';
import { publicRedisUrl, QUEUE_NAME, QueueDispatcher } from '../sweep/queue.js';

interface SweepCliOptions {
  workers?: number;
  out: string;
  id?: string;
  resume?: string;
  queue?: string;
  live?: string | true;
  token?: string;
}

// ---------------------------------------------------------------------------------------------------------------
// Formatting

/** An objective (or an interval bound) for people: 4 significant digits, integers as they are. */
function formatNumber(v: number): string {
  const a = Math.abs(v);
  // Steps to a threshold and other large values read as whole numbers (61,667), not 6.167e+4.
  if (a >= 1000 && a < 1e9) return Math.round(v).toLocaleString('en-US');
  if (Number.isInteger(v)) return String(v);
  return a < 1e-3 ? v.toPrecision(4) : String(Number(v.toPrecision(4)));
}

export function formatObjective(objective: number | null, interval: [number, number] | null): string {
  if (objective === null) return '-';
  return interval ? `${formatNumber(objective)} [${formatNumber(interval[0])}, ${formatNumber(interval[1])}]` : formatNumber(objective);
}

/** A shell word: quoted when it holds anything a shell would read specially. */
function shellWord(word: string): string {
  return /^[A-Za-z0-9_.,:=/+@%-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/** Whether keyValue (cli/args.ts) keeps `text` as the string it is (it parses what JSON can parse). */
function staysString(text: string): boolean {
  try {
    JSON.parse(text);
    return false;
  } catch {
    return true;
  }
}

/** `key=value` of a --set / --kw option, written so that keyValue parses it back to `value`. */
function setArg(key: string, value: unknown): string {
  const text = typeof value === 'string' && staysString(value) ? value : JSON.stringify(value);
  return shellWord(`${key}=${text}`);
}

/** The command that trains one configuration alone: the run template with the trial's params applied. */
export function trainCommand(run: RunTemplate, params: Params, seed: number): string {
  const args: string[] = [];
  const sets = [...Object.entries(run.set ?? {}), ...Object.entries(params)];
  if (run.kind === 'rl') {
    args.push('lab train', `--env ${shellWord(run.env)}`, `--agent ${shellWord(run.agent)}`);
    if (run.preset) args.push(`--preset ${shellWord(run.preset)}`);
    args.push(`--steps ${run.steps}`);
    if (run.evalEvery !== undefined) args.push(`--eval-every ${run.evalEvery}`);
    if (run.evalEpisodes !== undefined) args.push(`--eval-episodes ${run.evalEpisodes}`);
    for (const [k, v] of Object.entries(run.kw ?? {})) args.push(`--kw ${setArg(k, v)}`);
  } else if (run.kind === 'gan') {
    args.push('lab gan train', `--category ${shellWord(run.category)}`);
    if (run.preset) args.push(`--preset ${shellWord(run.preset)}`);
    args.push(`--iterations ${run.iterations}`);
    if (run.limit !== undefined) args.push(`--limit ${run.limit}`);
  } else {
    args.push('lab go train', `--iterations ${run.iterations}`);
  }
  for (const [k, v] of sets) args.push(`--set ${setArg(k, v)}`);
  args.push(`--seed ${seed}`);
  if (run.backend && run.backend !== 'auto') args.push(`--backend ${run.backend}`);
  return args.join(' ');
}

/** One line per finished trial: its number, params, objective, state, and the best so far. */
export function trialLine(record: TrialRecord, best: TrialRecord | null, finished: number, budget: number | null, metric: string): string {
  const count = budget === null ? `${finished}` : `${finished}/${budget}`;
  const bestText = best ? `best: trial ${best.trial} (${formatObjective(best.objective, null)})` : 'best: none yet';
  const failed = record.state === 'failed' ? ` (${record.seeds.find((s) => s.error)?.error ?? 'every seed failed'})` : record.objective === null ? ` (no run has a value of ${metric})` : '';
  const pruned = record.state === 'pruned' ? ` at ${Math.min(...record.seeds.filter((s) => s.prunedAt !== undefined).map((s) => s.prunedAt!))}` : '';
  return `trial ${record.trial} [${count}] ${formatParams(record.params)} | objective ${formatObjective(record.objective, record.interval)} | ${record.state}${pruned}${failed} | ${bestText}`;
}

// ---------------------------------------------------------------------------------------------------------------
// lab sweep show

export interface SweepTableRow {
  trial: number;
  params: Params;
  state: TrialRecord['state'] | 'running';
  objective: number | null;
  interval: [number, number] | null;
  /** Runs: finished seeds of a record, or the unfinished runs with their last step. */
  seeds: { seed: number; runId: string; state: string; value: number | null; step?: number | null }[];
}

export interface SweepShow {
  id: string;
  name: string;
  dir: string;
  spec: ExperimentSpec;
  budget: number | null;
  counts: { done: number; pruned: number; failed: number; running: number };
  trials: SweepTableRow[];
  best: { trial: number; params: Params; objective: number; interval: [number, number] | null; command: string } | null;
}

/** What `lab sweep show` prints, as data (its --json). */
export function sweepShow(contents: ExperimentContents): SweepShow {
  const { meta, records, running } = contents;
  const spec = meta.spec;
  const rows: SweepTableRow[] = [
    ...records.map((r) => ({ trial: r.trial, params: r.params, state: r.state, objective: r.objective, interval: r.interval, seeds: r.seeds.map((s) => ({ seed: s.seed, runId: s.runId, state: s.state, value: s.value })) })),
    ...running.map((t) => ({ trial: t.trial, params: t.params, state: 'running' as const, objective: null, interval: null, seeds: t.runs.map((r) => ({ seed: r.seed, runId: r.runId, state: 'running', value: null, step: r.step })) })),
  ].sort((a, b) => a.trial - b.trial);
  const best = bestTrial(records, spec.objective.direction);
  const count = (state: SweepTableRow['state']): number => rows.filter((r) => r.state === state).length;
  return {
    id: meta.id,
    name: meta.name,
    dir: contents.dir,
    spec,
    budget: trialBudget(spec),
    counts: { done: count('done'), pruned: count('pruned'), failed: count('failed'), running: count('running') },
    trials: rows,
    best: best ? { trial: best.trial, params: best.params, objective: best.objective!, interval: best.interval, command: trainCommand(spec.run, best.params, spec.seeds[0]!) } : null,
  };
}

/** Columns padded to their widest cell. */
function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

function describeObjective(spec: ExperimentSpec): string {
  const o = spec.objective;
  return `${o.direction} ${o.reduce} of ${o.metric}${o.threshold !== undefined ? ` (threshold ${o.threshold})` : ''} over seeds ${spec.seeds.join(', ')}`;
}

export function formatSweepShow(show: SweepShow): string {
  const keys = Object.keys(show.spec.search);
  const out: string[] = [];
  const budget = show.budget === null ? '' : ` of ${show.budget}`;
  out.push(`${show.name} (${show.id}): ${show.counts.done + show.counts.pruned + show.counts.failed}${budget} trials finished (${show.counts.done} done, ${show.counts.pruned} pruned, ${show.counts.failed} failed), ${show.counts.running} running`);
  out.push(`objective: ${describeObjective(show.spec)}; sampler ${show.spec.sampler} (seed ${show.spec.samplerSeed})`);
  out.push('');
  if (show.trials.length === 0) out.push('(no trial has started yet)');
  else {
    const rows = show.trials.map((r) => {
      const progress = r.state === 'running' ? r.seeds.map((s) => (s.step === null || s.step === undefined ? '-' : String(s.step))).join('/') : '';
      return [String(r.trial), ...keys.map((k) => (Object.hasOwn(r.params, k) ? formatParam(r.params[k]!) : '?')), formatObjective(r.objective, r.interval), r.state + (progress ? ` (at ${progress})` : '')];
    });
    out.push(table(['trial', ...keys, 'objective [95% CI]', 'state'], rows));
  }
  out.push('');
  if (show.best) {
    out.push(`best: trial ${show.best.trial}, ${formatParams(show.best.params)}, objective ${formatObjective(show.best.objective, show.best.interval)}`);
    out.push(`train it alone: ${show.best.command}`);
  } else {
    out.push('best: none yet (no trial is done)');
  }
  return out.join('\n');
}

// ---------------------------------------------------------------------------------------------------------------
// lab sweep

/** A free experiment id `${name}-${runStamp()}` in `outDir` (a suffix when one started in the same second). */
function newExperimentId(outDir: string, name: string): string {
  const base = `${name}-${runStamp()}`;
  let id = base;
  for (let i = 2; fs.existsSync(path.join(outDir, id)); i++) id = `${base}-${i}`;
  return id;
}

/** How a directory is named in messages: relative to the working directory where it is inside it. */
function shown(dir: string): string {
  const rel = path.relative(process.cwd(), dir);
  return rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : dir;
}

async function sweep(specFile: string | undefined, opts: SweepCliOptions): Promise<void> {
  if (opts.resume !== undefined && specFile !== undefined) throw new InvalidArgumentError(`give a spec file or --resume <expDir>, not both (a resume uses the spec in ${path.join(opts.resume, 'experiment.json')})`);
  if (opts.resume === undefined && specFile === undefined) throw new InvalidArgumentError('give a spec file (e.g. experiments/a2c-cartpole.yml) or --resume <expDir>');
  if (opts.resume !== undefined && opts.id !== undefined) throw new InvalidArgumentError(`--id names a new experiment; --resume continues ${opts.resume} under its own name`);
  if (opts.queue !== undefined && opts.workers !== undefined) throw new InvalidArgumentError('--workers is for local worker processes; with --queue, each lab worker sets its own --concurrency');
  const workers = opts.workers ?? os.availableParallelism();
  const live = opts.live ? { url: opts.live === true ? DEFAULT_LIVE_URL : opts.live, ...(opts.token ? { token: opts.token } : {}) } : undefined;

  // Everything is checked before anything is created: a bad spec or an unreachable Redis leaves no experiment
  // directory behind.
  let spec: ExperimentSpec;
  let meta: ExperimentMeta;
  let expDir: string;
  let resumed = 0;
  if (opts.resume !== undefined) {
    const contents = readExperiment(opts.resume);
    expDir = contents.dir;
    meta = contents.meta;
    // The spec the experiment started with, checked again (experiment.json may have been edited by hand).
    await importSpecPlugins(meta.spec);
    spec = validateSpec(meta.spec, path.join(expDir, 'experiment.json'));
    resumed = contents.records.length;
  } else {
    spec = await readSpecWithPlugins(specFile!);
    const outDir = path.resolve(opts.out);
    meta = {
      format: EXPERIMENT_FORMAT,
      id: opts.id ?? newExperimentId(outDir, spec.name),
      name: spec.name,
      createdAt: new Date().toISOString(),
      labVersion: LAB_VERSION,
      spec,
      specFile: specFile!,
      queue: opts.queue !== undefined ? { url: publicRedisUrl(opts.queue), name: QUEUE_NAME } : null,
    };
    expDir = path.join(outDir, meta.id);
    if (opts.id !== undefined && fs.existsSync(expDir)) throw new InvalidArgumentError(`${shown(expDir)} already exists: choose another --id, or continue it with lab sweep --resume ${shown(expDir)}`);
  }
  // A sweep still running this experiment would record its trials a second time: refused before anything starts.
  const unlock = opts.resume !== undefined ? lockExperiment(expDir) : () => {};
  // In place on a terminal; in a log, a line every 30 s (the trial lines come as trials end).
  const progress = new ProgressLine(process.stdout, { plainEverySeconds: 30 });
  const budget = trialBudget(spec);
  const tracker = new SweepProgress(budget !== null ? budget * spec.seeds.length : null, resumed * spec.seeds.length);
  const showProgress = (force = false): void => void progress.update([shown(expDir), ...tracker.fields()], force);
  const onProgress = (runId: string, done: number, total: number): void => {
    tracker.runProgress(runId, done, total);
    showProgress();
  };
  let dispatcher: RunDispatcher;
  try {
    dispatcher =
      opts.queue !== undefined
        ? await QueueDispatcher.connect({
            url: opts.queue,
            experimentId: meta.id,
            runsDir: path.join(expDir, RUNS_DIR),
            labVersion: LAB_VERSION,
            onNotice: (line) => progress.line(`queue: ${line}`),
            onProgress,
          })
        : new LocalDispatcher(new LocalPool({ workers }), path.join(expDir, RUNS_DIR), { events: (job) => ({ onProgress: (done, total) => onProgress(job.runId, done, total) }) });
  } catch (err) {
    unlock();
    throw err;
  }
  if (opts.resume === undefined) {
    try {
      expDir = createExperimentDir(path.dirname(expDir), meta);
    } catch (err) {
      await dispatcher.close();
      throw err;
    }
  }
  const where = opts.queue !== undefined ? `the queue on ${publicRedisUrl(opts.queue)}` : `${workers} worker${workers === 1 ? '' : 's'}`;

  const controller = new AbortController();
  const stop = onStopSignal(
    (m) => {
      progress.line(m);
      controller.abort();
      // The workers write a checkpoint of each running run and stop; its trial gets no record.
      void dispatcher.close();
    },
    'the running runs write a checkpoint and stop',
  );
  const onEvent = (e: CoordinatorEvent): void => {
    if (e.type === 'trial-start') tracker.trialStarted(e.trial, e.runIds);
    if (e.type === 'run-end') tracker.runEnded(e.result.runId);
    if (e.type === 'trial-end') progress.line(trialLine(e.record, e.best, e.finished, e.budget, spec.objective.metric));
    // Redrawn at once on a terminal when trials start and end; a log gets its periodic line only.
    if (e.type !== 'run-end') showProgress(progress.tty);
  };

  const budgetText = [budget !== null ? `${budget} trials` : null, spec.timeLimitSeconds !== null ? `${spec.timeLimitSeconds} s` : null].filter(Boolean).join(', at most ');
  progress.line(
    opts.resume !== undefined
      ? `resuming ${shown(expDir)}: ${resumed} trials finished (kept), ${where}`
      : `experiment ${shown(expDir)}: ${spec.sampler} search over ${Object.keys(spec.search).join(', ')}, ${budgetText}, seeds ${spec.seeds.join(', ')}, ${where}`,
  );
  let outcome: ExperimentOutcome;
  try {
    outcome = await runExperiment({ expDir, spec, dispatcher, onEvent, signal: controller.signal, ...(live ? { live } : {}) });
  } catch (err) {
    progress.end();
    throw new Error(`${err instanceof Error ? err.message : String(err)}; finished trials are kept: lab sweep --resume ${shellWord(shown(expDir))}`);
  } finally {
    stop.dispose();
    await dispatcher.close();
    unlock();
  }
  progress.end();
  const done = outcome.records.length;
  if (outcome.end === 'stopped') {
    const n = outcome.unfinished.length;
    const unfinished = n === 0 ? '' : `; unfinished trial${n === 1 ? '' : 's'} ${outcome.unfinished.join(', ')} (no record; ${n === 1 ? 'its runs resume' : 'their runs resume'} from their checkpoints)`;
    console.log(`${outcome.stoppedRun ? `run ${outcome.stoppedRun} was stopped from the viewer, so the sweep stopped after its other running runs; ` : ''}stopped: ${done} trial${done === 1 ? '' : 's'} finished and kept${unfinished}. To continue: lab sweep --resume ${shellWord(shown(expDir))}`);
  } else {
    console.log(`${outcome.end === 'time' ? `time budget reached (${spec.timeLimitSeconds} s)` : 'trial budget reached'}: ${done} trials (${outcome.records.filter((r) => r.state === 'done').length} done, ${outcome.records.filter((r) => r.state === 'pruned').length} pruned, ${outcome.records.filter((r) => r.state === 'failed').length} failed)`);
  }
  if (outcome.best) {
    console.log(`best: trial ${outcome.best.trial}, ${formatParams(outcome.best.params)}, objective ${formatObjective(outcome.best.objective, outcome.best.interval)}`);
    console.log(`train it alone: ${trainCommand(spec.run, outcome.best.params, spec.seeds[0]!)}`);
  }
  console.log(`trial table: lab sweep show ${shellWord(shown(expDir))}; runs by trial: lab compare ${shellWord(shown(expDir))}`);
}

export function registerSweepCommand(program: Command): void {
  const cmd = program
    .command('sweep')
    .description('run an experiment: a hyperparameter search (grid, random or TPE; trials of several seeds; median pruning) on local worker processes or a Redis queue, into an experiment directory of ordinary runs (lab sweep show: its trial table)');
  cmd
    .command('run', { isDefault: true })
    .description('run an experiment from its spec, or continue one (--resume); `lab sweep <spec>` is short for `lab sweep run <spec>`')
    .argument('[spec]', 'experiment spec, YAML or JSON (see experiments/ and docs/experiments.md)')
    .option('--workers <n>', `local worker processes, one run each (default: the number of cores, ${os.availableParallelism()} here)`, integer(1))
    .option('--out <dir>', 'directory for experiment directories (each in <dir>/<name>-<time>)', path.join('runs', 'sweeps'))
    .addOption(runIdOption('<name>-<time>', '--id <name>', 'name of the experiment directory'))
    .option('--queue <url>', 'put the runs on a BullMQ queue in Redis (redis://host:port) for `lab worker` processes on any machine, instead of local workers')
    .option('--resume <expDir>', "continue an experiment: finished trials are kept, interrupted runs resume from their checkpoints, the rest run as the uninterrupted sweep would (with the spec in its experiment.json)")
    .option('--live [url]', `publish every run to a lab server (lab serve) for the browser viewer (default ${DEFAULT_LIVE_URL})`)
    .option('--token <key>', "the lab server's key for --live (default: LAB_TOKEN, else found by itself for a server on this machine)")
    .action(async (specFile: string | undefined, opts: SweepCliOptions) => {
      await sweep(specFile, opts);
    });
  cmd
    .command('show')
    .description("print an experiment's trial table (each hyperparameter, objective with its 95% interval over seeds, state) and the best configuration with the command that trains it alone")
    .argument('<expDir>', 'experiment directory (e.g. runs/sweeps/a2c-cartpole-20260102-030405)')
    .option('--json', 'print JSON (trials, counts, best)')
    .action((expDir: string, opts: { json?: boolean }) => {
      const show = sweepShow(readExperiment(expDir));
      console.log(opts.json ? JSON.stringify(show, null, 2) : formatSweepShow(show));
    });
}

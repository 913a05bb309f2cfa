/**
 * What `lab sweep` shows while it runs: the runs of the budget finished so far, how far the running ones are
 * (from the progress their workers report, local or through the queue), the share of the whole sweep done and
 * an estimate of the time left. Pure bookkeeping: the CLI feeds it events and prints its fields.
 */

interface RunningRun {
  trial: number;
  /** done / total in the run's own unit (env steps or iterations); 0 before the first report. */
  fraction: number;
}

export class SweepProgress {
  private readonly runs = new Map<string, RunningRun>();
  private finished: number;
  private readonly startFraction: number;

  /**
   * @param totalRuns  the budget in runs (trials × seeds), null with a wall-time budget only
   * @param finishedRuns  runs already finished when the sweep (re)started (a resume's kept trials)
   */
  constructor(
    private readonly totalRuns: number | null,
    finishedRuns = 0,
    private readonly startedAt = performance.now(),
  ) {
    this.finished = finishedRuns;
    this.startFraction = this.fraction() ?? 0;
  }

  /** A trial started: its runs (one per seed) count as running, at 0 until they report. */
  trialStarted(trial: number, runIds: readonly string[]): void {
    for (const runId of runIds) this.runs.set(runId, { trial, fraction: 0 });
  }

  /** A worker's report (a run it does not know, e.g. after its end, is ignored). */
  runProgress(runId: string, done: number, total: number): void {
    const run = this.runs.get(runId);
    if (run && total > 0 && Number.isFinite(done)) run.fraction = Math.min(1, Math.max(0, done / total));
  }

  /** A run ended (done, pruned or failed): it counts as a whole run of the budget. */
  runEnded(runId: string): void {
    if (this.runs.delete(runId)) this.finished++;
  }

  /** Share of the budget done, counting running runs by their progress; null without a budget in runs. */
  fraction(): number | null {
    if (this.totalRuns === null || this.totalRuns <= 0) return null;
    let running = 0;
    for (const r of this.runs.values()) running += r.fraction;
    return Math.min(1, (this.finished + running) / this.totalRuns);
  }

  /** Seconds left at the pace of this session (null until there is a pace to go by). */
  secondsLeft(now = performance.now()): number | null {
    const f = this.fraction();
    const elapsed = (now - this.startedAt) / 1000;
    if (f === null || elapsed < 5) return null;
    const rate = (f - this.startFraction) / elapsed;
    return rate > 0 ? (1 - f) / rate : null;
  }

  /** Each running trial with the mean progress of its runs, lowest trial first. */
  runningTrials(): { trial: number; fraction: number }[] {
    const byTrial = new Map<number, number[]>();
    for (const r of this.runs.values()) {
      const fractions = byTrial.get(r.trial);
      if (fractions) fractions.push(r.fraction);
      else byTrial.set(r.trial, [r.fraction]);
    }
    return [...byTrial].sort((a, b) => a[0] - b[0]).map(([trial, fs]) => ({ trial, fraction: fs.reduce((a, b) => a + b, 0) / fs.length }));
  }

  /** The progress line's fields, most important first: "runs 5/8", "63%", "ETA 1m 20s", "running t2 71% t3 12%". */
  fields(now = performance.now()): string[] {
    const f = this.fraction();
    const left = this.secondsLeft(now);
    const trials = this.runningTrials();
    return [
      this.totalRuns !== null ? `runs ${this.finished}/${this.totalRuns}` : `runs ${this.finished} finished`,
      f !== null ? `${Math.floor(f * 100)}%` : '',
      left !== null ? `ETA ${formatSeconds(left)}` : '',
      trials.length ? `running ${trials.map((t) => `t${t.trial} ${Math.floor(t.fraction * 100)}%`).join(' ')}` : 'running -',
    ].filter(Boolean);
  }
}

/** 42s, 3m 05s, 2h 07m. */
export function formatSeconds(s: number): string {
  const t = Math.max(0, Math.round(s));
  if (t < 60) return `${t}s`;
  if (t < 3600) return `${Math.floor(t / 60)}m ${String(t % 60).padStart(2, '0')}s`;
  return `${Math.floor(t / 3600)}h ${String(Math.floor((t % 3600) / 60)).padStart(2, '0')}m`;
}

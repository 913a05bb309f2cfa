/**
 * Learning curves of a run, from live events or from metrics.jsonl, kept bounded: past a limit the older
 * points are thinned to every other one (the curve keeps its shape, memory stays flat on long runs).
 */
import type { AlphaZeroRecord, EpisodePoint, EvalPoint, MatchPoint, MetricsMessage, RunHistory, RunSummary, SamplesEvent, TrainEvent, UpdatePoint } from '../protocol/protocol.js';

/**
 * At most `max` of a run's sample grids (sorted by step), evenly spread over the run: the first and the newest
 * are always kept. Bounds both the server's memory on long runs and the size of a run:watch ack.
 */
export function thinGrids(grids: readonly SamplesEvent[], max: number): SamplesEvent[] {
  if (grids.length <= max) return [...grids];
  if (max <= 1) return max < 1 ? [] : grids.slice(-1);
  const out: SamplesEvent[] = [];
  for (let k = 0; k < max; k++) out.push(grids[Math.round((k * (grids.length - 1)) / (max - 1))]!);
  return out;
}

/** Adds grids to a step-ordered list (a grid of a step already there replaces it) and thins past 2·max. */
export function addGrids(list: SamplesEvent[], grids: readonly SamplesEvent[], max: number): SamplesEvent[] {
  let out = list;
  for (const g of grids) {
    out = out.filter((e) => e.step !== g.step);
    const at = out.findIndex((e) => e.step > g.step);
    if (at < 0) out.push(g);
    else out.splice(at, 0, g);
  }
  return out.length > 2 * max ? thinGrids(out, max) : out;
}

/** The progress fields of a run summary before anything is known (a run just launched, a damaged one). */
export const NO_PROGRESS = {
  step: 0,
  episodesDone: 0,
  lastReturn: null,
  meanReturn: null,
  lastEval: null,
  sps: null,
  exploration: null,
  watchers: 0,
} as const satisfies Partial<RunSummary>;

export class Curve<T> {
  points: T[] = [];
  private stride = 1;
  private skipped = 0;

  constructor(private readonly limit: number) {}

  push(point: T): boolean {
    if (this.skipped++ % this.stride !== 0) return false;
    this.points.push(point);
    if (this.points.length >= this.limit) {
      this.points = this.points.filter((_, i) => i % 2 === 0);
      this.stride *= 2;
      this.skipped = 1;
    }
    return true;
  }
}

/** Evaluation matches kept per AlphaZero-lite run (the newest). */
const MAX_MATCHES = 5_000;

export class HistoryBuffer {
  readonly episodes = new Curve<EpisodePoint>(20_000);
  readonly evals = new Curve<EvalPoint>(5_000);
  readonly updates = new Curve<UpdatePoint>(5_000);
  /** AlphaZero-lite evaluation matches (not thinned: a few per evaluation, an evaluation every few iterations). */
  readonly matches: MatchPoint[] = [];
  /** Returns of the last 100 episodes (not thinned): the HUD's recent mean. */
  readonly recent: number[] = [];
  episodesDone = 0;
  lastStep = 0;
  lastEval: number | null = null;
  sps: number | null = null;
  lastStats: Record<string, number> = {};

  /**
   * Adds events (an AlphaZero-lite run's records too: an iteration is an update point of its losses, an
   * evaluation match a match point); returns the points that are new (to stream to watchers).
   */
  add(events: readonly (TrainEvent | AlphaZeroRecord)[]): Omit<MetricsMessage, 'runId'> {
    const out: Omit<MetricsMessage, 'runId'> = { episodes: [], evals: [], updates: [] };
    for (const e of events) {
      if (e.type === 'step') continue;
      if (e.type === 'iteration' || e.type === 'go-eval') {
        this.addAlphaZero(e, out);
        continue;
      }
      this.lastStep = Math.max(this.lastStep, e.step);
      if (e.type === 'episode') {
        this.episodesDone = Math.max(this.episodesDone, e.episode);
        this.recent.push(e.return);
        if (this.recent.length > 100) this.recent.shift();
        const p: EpisodePoint = { step: e.step, episode: e.episode, return: e.return, length: e.length };
        if (this.episodes.push(p)) out.episodes.push(p);
      } else if (e.type === 'eval') {
        this.lastEval = e.meanReturn;
        const p: EvalPoint = { step: e.step, meanReturn: e.meanReturn, stdReturn: e.stdReturn, minReturn: e.minReturn, maxReturn: e.maxReturn };
        if (this.evals.push(p)) out.evals.push(p);
      } else if (e.type === 'update') {
        this.sps = e.sps;
        this.lastStats = e.stats;
        const p: UpdatePoint = { step: e.step, sps: e.sps, stats: e.stats };
        if (this.updates.push(p)) out.updates.push(p);
      }
    }
    return out;
  }

  private addAlphaZero(e: AlphaZeroRecord, out: Omit<MetricsMessage, 'runId'>): void {
    this.lastStep = Math.max(this.lastStep, e.iteration);
    if (e.type === 'go-eval') {
      const p: MatchPoint = { step: e.iteration, opponent: e.opponent, games: e.games, wins: e.wins, losses: e.losses, draws: e.draws, score: e.score };
      this.addMatches([p]);
      (out.matches ??= []).push(p);
      return;
    }
    const stats: Record<string, number> = {};
    const put = (k: string, v: number) => {
      if (Number.isFinite(v)) stats[k] = v;
    };
    put('policyLoss', e.policyLoss);
    put('valueLoss', e.valueLoss);
    put('policyEntropy', e.policyEntropy);
    put('meanGameLength', e.meanGameLength);
    put('bufferSize', e.bufferSize);
    put('blackWins', e.blackWins);
    put('whiteWins', e.whiteWins);
    put('draws', e.draws);
    const seconds = e.selfPlaySeconds + e.trainSeconds;
    const sps = seconds > 0 ? 1 / seconds : 0;
    this.sps = sps;
    this.lastStats = stats;
    const p: UpdatePoint = { step: e.iteration, sps, stats };
    if (this.updates.push(p)) out.updates.push(p);
  }

  /**
   * Appends evaluation matches (a publisher's, or a resumed run's from its directory), bounded whatever comes:
   * the oldest go first (a real run holds a few per evaluation).
   */
  addMatches(points: readonly MatchPoint[]): void {
    for (const p of points) this.matches.push(p);
    if (this.matches.length > MAX_MATCHES) this.matches.splice(0, this.matches.length - MAX_MATCHES);
  }

  /** The matches of the newest evaluation (AlphaZero-lite runs), one per opponent; empty when there is none. */
  get lastMatches(): MatchPoint[] {
    const last = this.matches.at(-1);
    return last ? this.matches.filter((m) => m.step === last.step) : [];
  }

  get meanReturn(): number | null {
    return this.recent.length ? this.recent.reduce((a, b) => a + b, 0) / this.recent.length : null;
  }

  get lastReturn(): number | null {
    return this.recent.length ? this.recent[this.recent.length - 1]! : null;
  }

  /** The HUD's exploration figure: ε for value-based agents, policy entropy for policy-gradient ones. */
  get exploration(): { name: string; value: number } | null {
    if (typeof this.lastStats.epsilon === 'number') return { name: 'ε', value: this.lastStats.epsilon };
    if (typeof this.lastStats.entropy === 'number') return { name: 'entropy', value: this.lastStats.entropy };
    return null;
  }

  snapshot(): RunHistory {
    const history: RunHistory = { episodes: [...this.episodes.points], evals: [...this.evals.points], updates: [...this.updates.points] };
    if (this.matches.length) history.matches = [...this.matches];
    return history;
  }
}

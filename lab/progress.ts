/**
 * Progress on a terminal, one implementation for every command: `ProgressLine` keeps one line redrawn in place
 * on a terminal, cut to the terminal's width (so a redraw never leaves half-lines behind), and writes plain
 * newline-terminated lines, a few seconds apart, when the output is not a terminal (a file, a pipe, CI). Its
 * users: `ProgressSink` below (`lab train`), `GanProgressSink` (`lab gan train`, cli/gan.ts) and the Quick,
 * Draw! download bar (gan/data.ts).
 */
import type { EventSink, TrainEvent } from '../protocol/events.js';

/** A stream progress is written to: a TTY has `isTTY` and (usually) `columns`. */
export type ProgressStream = NodeJS.WritableStream & { isTTY?: boolean; columns?: number };

/** `[=====>    ]`: a bar of `width` cells inside brackets, full at fraction 1. */
export function progressBar(fraction: number, width: number): string {
  const frac = Number.isFinite(fraction) ? Math.min(1, Math.max(0, fraction)) : 0;
  const filled = Math.round(frac * width);
  return '[' + '='.repeat(Math.max(0, filled - 1)) + (filled > 0 ? (filled === width ? '=' : '>') : '') + ' '.repeat(width - filled) + ']';
}

/**
 * Joins fields with ' | ' into at most `columns` characters: fields are dropped from the end (so list them
 * most important first) and, when the first alone is too long, it is cut with '…'.
 */
export function fitLine(fields: readonly string[], columns: number): string {
  const kept = fields.filter(Boolean);
  while (kept.length > 1 && kept.join(' | ').length > columns) kept.pop();
  const text = kept.join(' | ');
  if (text.length <= columns) return text;
  return columns <= 1 ? text.slice(0, Math.max(0, columns)) : text.slice(0, columns - 1) + '…';
}

export interface ProgressLineOptions {
  /** Seconds between plain lines when the output is not a terminal (default 5). */
  plainEverySeconds?: number;
  /** Milliseconds between redraws on a terminal (default 100). */
  redrawEveryMs?: number;
}

/** One progress line: in place on a terminal, plain lines otherwise. */
export class ProgressLine {
  readonly tty: boolean;
  private lastDraw = -Infinity;
  private current: readonly string[] | null = null;
  private drawn = false;
  private readonly plainMs: number;
  private readonly redrawMs: number;

  constructor(
    private readonly out: ProgressStream = process.stdout,
    options: ProgressLineOptions = {},
  ) {
    this.tty = out.isTTY === true;
    this.plainMs = (options.plainEverySeconds ?? 5) * 1000;
    this.redrawMs = options.redrawEveryMs ?? 100;
  }

  /** The widest line this display writes: one less than the terminal's columns (no line at all in plain mode). */
  get columns(): number {
    if (!this.tty) return Number.POSITIVE_INFINITY;
    const c = this.out.columns;
    return Math.max(20, (typeof c === 'number' && c > 0 ? c : 80) - 1);
  }

  /** A bar width that leaves room for the other fields: `preferred` on a wide terminal or in plain mode. */
  barWidth(preferred = 20): number {
    return Math.max(8, Math.min(preferred, Math.floor(this.columns / 8)));
  }

  /**
   * Shows `fields` (most important first): drawn when the last draw is old enough, or always with `force`
   * (the last update, a finished download). Returns whether it wrote.
   */
  update(fields: readonly string[], force = false): boolean {
    this.current = fields;
    const now = performance.now();
    if (!force && now - this.lastDraw < (this.tty ? this.redrawMs : this.plainMs)) return false;
    this.lastDraw = now;
    this.write();
    return true;
  }

  private write(): void {
    if (!this.current) return;
    if (this.tty) {
      this.out.write(`\r${fitLine(this.current, this.columns)}\x1b[K`);
      this.drawn = true;
    } else {
      this.out.write(`${fitLine(this.current, Number.POSITIVE_INFINITY)}\n`);
    }
  }

  /** A line that stays (an evaluation, a message), printed above the progress line, which is then redrawn. */
  line(message: string): void {
    if (this.tty && this.drawn) {
      this.out.write(`\r\x1b[2K${message}\n`);
      this.write();
    } else {
      this.out.write(`${message}\n`);
    }
  }

  /** Ends the display: on a terminal the progress line stays, and the cursor moves below it. */
  end(): void {
    if (this.tty && this.drawn) this.out.write('\n');
    this.drawn = false;
  }
}

/**
 * The progress display of `lab train`: steps (or episodes) with a bar, recent mean return, last evaluation,
 * ETA, steps/s, ε or entropy: in place on a terminal, plain lines every few seconds otherwise.
 */
export class ProgressSink implements EventSink {
  private recent: number[] = [];
  private episodes = 0;
  private step = 0;
  private lastEval: number | null = null;
  private status: Record<string, number> = {};
  private sps = 0;
  private readonly display: ProgressLine;

  constructor(
    private readonly totalSteps: number,
    /** An episode budget, when the run has one (the bar then counts episodes). */
    private readonly totalEpisodes: number | null = null,
    out: ProgressStream = process.stdout,
    plainEverySeconds = 5,
  ) {
    this.display = new ProgressLine(out, { plainEverySeconds });
  }

  handle(event: TrainEvent): void {
    switch (event.type) {
      case 'episode':
        this.episodes = event.episode;
        this.step = event.step;
        this.recent.push(event.return);
        if (this.recent.length > 20) this.recent.shift();
        break;
      case 'update':
        this.step = event.step;
        this.sps = event.sps;
        this.status = event.stats;
        break;
      case 'eval':
        this.lastEval = event.meanReturn;
        this.line(
          event.episodes === 1
            ? `eval at step ${event.step}: return ${event.meanReturn.toFixed(1)} (1 episode)`
            : `eval at step ${event.step}: mean return ${event.meanReturn.toFixed(1)} ± ${event.stdReturn.toFixed(1)} over ${event.episodes} episodes`,
        );
        return;
      default:
        return;
    }
    this.display.update(this.fields());
  }

  /** The fields of the line, most important first (a narrow terminal drops them from the end). */
  fields(): string[] {
    const byEpisodes = this.totalEpisodes !== null;
    // A vector env steps all its sub-envs at once, so the last update can pass the budget: the display stops at it.
    const step = Math.min(this.step, this.totalSteps);
    const pct = Math.min(100, byEpisodes ? (100 * this.episodes) / this.totalEpisodes! : (100 * step) / this.totalSteps);
    const bar = progressBar(pct / 100, this.display.barWidth(20));
    const mean = this.recent.length ? (this.recent.reduce((a, b) => a + b, 0) / this.recent.length).toFixed(1) : '-';
    const extra = ['epsilon', 'entropy']
      .filter((k) => this.status[k] !== undefined)
      .map((k) => `${k === 'epsilon' ? 'ε' : 'entropy'} ${this.status[k]!.toFixed(3)}`)
      .join(' | ');
    const eta = this.sps > 0 && !byEpisodes ? `ETA ${Math.max(0, Math.round((this.totalSteps - step) / this.sps))}s` : '';
    return [
      byEpisodes
        ? `episode ${Math.min(this.episodes, this.totalEpisodes!)}/${this.totalEpisodes} ${bar} ${pct.toFixed(0)}%`
        : `step ${step.toLocaleString('en-US')}/${this.totalSteps.toLocaleString('en-US')} ${bar} ${pct.toFixed(0)}%`,
      `return(20) ${mean}`,
      `eval ${this.lastEval === null ? '-' : this.lastEval.toFixed(1)}`,
      eta,
      `${this.sps} steps/s`,
      byEpisodes ? `steps ${step.toLocaleString('en-US')}` : `episodes ${this.episodes}`,
      extra,
    ].filter(Boolean);
  }

  /** A line that stays (evaluations, messages), printed above the live progress line. */
  line(message: string): void {
    this.display.line(message);
  }

  close(): void {
    this.display.update(this.fields(), true);
    this.display.end();
  }
}

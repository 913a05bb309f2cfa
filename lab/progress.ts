/**
 * The progress display of `lab train`: one line rewritten in place on a terminal (steps, episodes, recent
 * mean return, last evaluation, ε or entropy, steps/s, ETA); plain lines every few seconds otherwise.
 */
import type { EventSink, TrainEvent } from '../protocol/events.js';

export class ProgressSink implements EventSink {
  private recent: number[] = [];
  private episodes = 0;
  private step = 0;
  private lastEval: number | null = null;
  private status: Record<string, number> = {};
  private sps = 0;
  private lastDraw = 0;
  private readonly tty: boolean;

  constructor(
    private readonly totalSteps: number,
    /** An episode budget, when the run has one (the bar then counts episodes). */
    private readonly totalEpisodes: number | null = null,
    private readonly out: NodeJS.WriteStream | (NodeJS.WritableStream & { isTTY?: boolean }) = process.stdout,
    private readonly plainEverySeconds = 5,
  ) {
    this.tty = out.isTTY === true;
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
        this.line(`eval at step ${event.step}: mean return ${event.meanReturn.toFixed(1)} ± ${event.stdReturn.toFixed(1)} over ${event.episodes} episodes`);
        return;
      case 'checkpoint':
        return;
      default:
        return;
    }
    const now = performance.now();
    if (now - this.lastDraw < (this.tty ? 100 : this.plainEverySeconds * 1000)) return;
    this.lastDraw = now;
    this.draw();
  }

  private text(): string {
    const byEpisodes = this.totalEpisodes !== null;
    const pct = Math.min(100, byEpisodes ? (100 * this.episodes) / this.totalEpisodes! : (100 * this.step) / this.totalSteps);
    const width = 20;
    const filled = Math.round((pct / 100) * width);
    const bar = '='.repeat(Math.max(0, filled - 1)) + (filled > 0 ? '>' : '') + ' '.repeat(width - filled);
    const mean = this.recent.length ? (this.recent.reduce((a, b) => a + b, 0) / this.recent.length).toFixed(1) : '-';
    const extra = ['epsilon', 'entropy']
      .filter((k) => this.status[k] !== undefined)
      .map((k) => `${k === 'epsilon' ? 'ε' : 'entropy'} ${this.status[k]!.toFixed(3)}`)
      .join(' | ');
    const eta = this.sps > 0 && !byEpisodes ? `ETA ${Math.round((this.totalSteps - this.step) / this.sps)}s` : '';
    return [
      byEpisodes
        ? `episode ${this.episodes}/${this.totalEpisodes} [${bar}] ${pct.toFixed(0)}%`
        : `step ${this.step.toLocaleString('en-US')}/${this.totalSteps.toLocaleString('en-US')} [${bar}] ${pct.toFixed(0)}%`,
      byEpisodes ? `steps ${this.step.toLocaleString('en-US')}` : `episodes ${this.episodes}`,
      `return(20) ${mean}`,
      `eval ${this.lastEval === null ? '-' : this.lastEval.toFixed(1)}`,
      extra,
      `${this.sps} steps/s`,
      eta,
    ]
      .filter(Boolean)
      .join(' | ');
  }

  private draw(): void {
    if (this.tty) this.out.write(`\r\x1b[2K${this.text()}`);
    else this.out.write(this.text() + '\n');
  }

  /** A line that stays (evaluations, messages), printed above the live progress line. */
  line(message: string): void {
    this.out.write(this.tty ? `\r\x1b[2K${message}\n` : message + '\n');
    if (this.tty) this.out.write(this.text());
  }

  close(): void {
    if (this.tty) this.out.write(`\r\x1b[2K${this.text()}\n`);
    else this.out.write(this.text() + '\n');
  }
}

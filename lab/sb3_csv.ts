/**
 * Stable-Baselines3's CSV logs, so that SB3's plotting scripts (`load_results`, `pandas.read_csv`) read lab runs:
 *
 *   monitor.csv   `#{"t_start": <unix seconds>, "env_id": "<id>"}`, then `r,l,t`, then one line per training
 *                 episode: return and length, and seconds since t_start (SB3's Monitor and VecMonitor: a vector
 *                 env's episodes all go to one file, in the order they end; values rounded to 6 decimals)
 *   progress.csv  one row per logged point, one column per key; the header is the union of the keys in the order
 *                 they first appear, and a new key rewrites the file with a wider header (as SB3's CSV logger
 *                 does), empty cells where a row has no value
 *
 * Only the text is made here; lab/run_logs.ts decides what goes in and writes the files.
 */

/** A number as SB3's Python writes it in a CSV cell (`nan`, `inf`, `-inf` for the non-finite ones). */
export function csvNumber(value: number): string {
  if (Number.isNaN(value)) return 'nan';
  if (value === Infinity) return 'inf';
  if (value === -Infinity) return '-inf';
  return String(value);
}

/** Rounded to 6 decimals, as SB3's Monitor writes returns and times. */
export function round6(value: number): number {
  return Math.round(value * 1e6) / 1e6;
}

/** monitor.csv's first two lines (the JSON header as Python's json.dumps spaces it, then the column names). */
export function monitorHeader(tStart: number, envId: string): string {
  return `#{"t_start": ${csvNumber(tStart)}, "env_id": ${JSON.stringify(envId)}}\nr,l,t\n`;
}

/** One episode's line of monitor.csv: return, length, seconds since t_start. */
export function monitorRow(episodeReturn: number, length: number, seconds: number): string {
  return `${csvNumber(round6(episodeReturn))},${length},${csvNumber(round6(seconds))}\n`;
}

/** A cell: numbers as above, strings quoted when they hold a comma, quote or newline (quotes doubled). */
function cell(value: number | string | undefined): string {
  if (value === undefined) return '';
  if (typeof value === 'number') return csvNumber(value);
  return /[",\n\r]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

/**
 * progress.csv, kept in memory so that a new key can widen the header: rows go in with `add`, which says
 * whether the file must be rewritten (`text`) or can take the row appended (`line`).
 */
export class ProgressTable {
  readonly keys: string[] = [];
  readonly rows: Record<string, number | string>[] = [];

  /** Adds a row; true when it brought a key the header lacks (the file is rewritten with `text()`). */
  add(row: Record<string, number | string>): boolean {
    let widened = false;
    for (const k of Object.keys(row)) {
      if (!this.keys.includes(k)) {
        this.keys.push(k);
        widened = true;
      }
    }
    this.rows.push(row);
    return widened;
  }

  /** The CSV line of a row under the current header. */
  line(row: Record<string, number | string>): string {
    return this.keys.map((k) => cell(row[k])).join(',') + '\n';
  }

  /** The whole file: the header and every row (empty before the first row, as SB3's file is). */
  text(): string {
    if (this.rows.length === 0) return '';
    return [this.keys.map((k) => cell(k)).join(',') + '\n', ...this.rows.map((r) => this.line(r))].join('');
  }
}

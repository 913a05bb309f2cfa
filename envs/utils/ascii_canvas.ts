/**
 * A character grid for the `ansi` renderings of the classic-control envs (Acrobot, Pendulum, the mountain cars):
 * plot points and straight lines in world coordinates, then read the rows back as text. Terminal cells are about
 * twice as tall as wide, so one row spans twice the world height of one column.
 */
export class AsciiCanvas {
  private readonly cells: string[][];

  /**
   * `cols` × `rows` cells showing world x in [xMin, xMax]; y is centred on `yCentre` with the scale of x
   * (corrected for the cell aspect), up being up.
   */
  constructor(
    readonly cols: number,
    readonly rows: number,
    private readonly xMin: number,
    private readonly xMax: number,
    private readonly yCentre: number,
  ) {
    this.cells = Array.from({ length: rows }, () => new Array<string>(cols).fill(' '));
  }

  /** World units per column. */
  private get unit(): number {
    return (this.xMax - this.xMin) / (this.cols - 1);
  }

  /** The cell [row, col] a world point falls in (may be outside the grid). */
  cell(x: number, y: number): [number, number] {
    const col = Math.round((x - this.xMin) / this.unit);
    const row = Math.round((this.rows - 1) / 2 - (y - this.yCentre) / (2 * this.unit));
    return [row, col];
  }

  put(x: number, y: number, ch: string): void {
    const [r, c] = this.cell(x, y);
    if (r >= 0 && r < this.rows && c >= 0 && c < this.cols) this.cells[r]![c] = ch;
  }

  /** A straight line from (x0, y0) to (x1, y1), one character per cell it passes. */
  line(x0: number, y0: number, x1: number, y1: number, ch: string): void {
    const [r0, c0] = this.cell(x0, y0);
    const [r1, c1] = this.cell(x1, y1);
    const n = Math.max(Math.abs(r1 - r0), Math.abs(c1 - c0), 1);
    for (let k = 0; k <= n; k++) {
      const r = Math.round(r0 + ((r1 - r0) * k) / n);
      const c = Math.round(c0 + ((c1 - c0) * k) / n);
      if (r >= 0 && r < this.rows && c >= 0 && c < this.cols) this.cells[r]![c] = ch;
    }
  }

  /** A whole row of `ch` at world height y (a goal line, the ground). */
  hline(y: number, ch: string): void {
    const [r] = this.cell(this.xMin, y);
    if (r >= 0 && r < this.rows) for (let c = 0; c < this.cols; c++) if (this.cells[r]![c] === ' ') this.cells[r]![c] = ch;
  }

  toString(): string {
    return this.cells.map((row) => row.join('').replace(/\s+$/, '')).join('\n');
  }
}

/** A signed number with a fixed number of decimals, for the readout lines under the pictures. */
export function signed(v: number, digits = 3): string {
  return (v >= 0 ? '+' : '') + v.toFixed(digits);
}

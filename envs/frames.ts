/**
 * Render frames: the JSON that `env.render()` returns in `json` mode and the browser viewer draws.
 * Plain data only (numbers, strings, arrays), so a frame survives JSON.stringify / socket.io unchanged.
 * `kind` selects the renderer. Coordinates on grids are [row, col] with row 0 at the top.
 */

export interface CartPoleFrame {
  kind: 'cartpole';
  /** Cart position (m), cart velocity, pole angle (rad, positive = leaning right), angular velocity. */
  x: number;
  xDot: number;
  theta: number;
  thetaDot: number;
  /** Episode ends when |x| exceeds this (m). */
  xThreshold: number;
  /** Episode ends when |theta| exceeds this (rad). */
  thetaThreshold: number;
  /** Half the pole's length (m), as in the physics. */
  poleHalfLength: number;
  /** Last action (0 push left, 1 push right), null right after reset. */
  lastAction: number | null;
}

export interface AcrobotFrame {
  kind: 'acrobot';
  /** Angle of link 1 from straight down, angle of link 2 relative to link 1 (rad), and their velocities. */
  theta1: number;
  theta2: number;
  theta1Dot: number;
  theta2Dot: number;
  /** Link lengths (m); the pivot is at the origin. */
  link1: number;
  link2: number;
  /** The episode terminates when the free end rises above this height over the pivot (m). */
  goalHeight: number;
  /** Last torque on the joint between the links (−1, 0 or +1), null right after reset. */
  lastTorque: number | null;
}

/** MountainCar-v0 and MountainCarContinuous-v0: a car in a valley of height sin(3x)·0.45 + 0.55. */
export interface MountainCarFrame {
  kind: 'mountaincar';
  position: number;
  velocity: number;
  minPosition: number;
  maxPosition: number;
  goalPosition: number;
  /** Force direction/size of the last action as a fraction of full force, −1…+1 (discrete: −1, 0, +1); null after reset. */
  lastForce: number | null;
  /** The continuous version (Box action) rather than the discrete one. */
  continuous: boolean;
}

export interface PendulumFrame {
  kind: 'pendulum';
  /** Angle from upright (rad, positive counter-clockwise), angular velocity. */
  theta: number;
  thetaDot: number;
  /** Last torque applied after clipping (N·m), null right after reset. */
  lastTorque: number | null;
  maxTorque: number;
}

export interface FrozenLakeFrame {
  kind: 'frozenlake';
  /** Map rows: S start, F frozen, H hole, G goal. */
  map: string[];
  agent: [row: number, col: number];
  /** 0 left, 1 down, 2 right, 3 up; null right after reset. */
  lastAction: number | null;
}

export interface CliffWalkingFrame {
  kind: 'cliffwalking';
  rows: number;
  cols: number;
  start: [row: number, col: number];
  goal: [row: number, col: number];
  cliff: [row: number, col: number][];
  agent: [row: number, col: number];
  /** 0 up, 1 right, 2 down, 3 left; null right after reset. */
  lastAction: number | null;
}

export interface TaxiFrame {
  kind: 'taxi';
  rows: number;
  cols: number;
  /** The ASCII map, `|` a wall between two cells, `:` none. */
  map: string[];
  /** Depots in index order (R, G, Y, B). */
  depots: { name: string; row: number; col: number }[];
  taxi: [row: number, col: number];
  /** Depot index 0–3, or 4 when the passenger is in the taxi. */
  passenger: number;
  /** Depot index 0–3. */
  destination: number;
  /** 0 south, 1 north, 2 east, 3 west, 4 pickup, 5 dropoff; null right after reset. */
  lastAction: number | null;
}

export interface SnakeFrame {
  kind: 'snake';
  rows: number;
  cols: number;
  /** Cells of the snake, head first. */
  body: [row: number, col: number][];
  fruit: [row: number, col: number] | null;
  /** Absolute heading of the head: 0 up, 1 right, 2 down, 3 left. */
  heading: number;
  score: number;
  alive: boolean;
  /** 0 turn left, 1 straight, 2 turn right; null right after reset. */
  lastAction: number | null;
}

export interface GoFrame {
  kind: 'go';
  size: number;
  /** Row-major, row 0 at the top: '.' empty, 'X' black, 'O' white. */
  board: string;
  toPlay: 'black' | 'white';
  /** Last move as [row, col], 'pass', or null at the start. */
  lastMove: [row: number, col: number] | 'pass' | null;
  captures: { black: number; white: number };
  komi: number;
}

/**
 * Text drawn in a monospace box: what the lab makes of a `render()` that returns a string (an env's `ansi` render,
 * as in Gymnasium), so such an env is watchable live too.
 */
export interface TextFrame {
  kind: 'text';
  text: string;
}

/**
 * Numbers drawn as labelled bars: the picture of an env that has none of its own. A plug-in env's `render()`
 * returns `valuesFrame(state, { labels, low, high })`. A bar with finite `low` and `high` is drawn on that scale;
 * one without is scaled by the largest |value| it has shown. null: not a finite number (JSON has no NaN or ∞).
 */
export interface ValuesFrame {
  kind: 'values';
  values: (number | null)[];
  /** One per value (default: the index). */
  labels?: string[];
  /** Per value; null: unbounded. */
  low?: (number | null)[];
  high?: (number | null)[];
  /** A line above the bars. */
  title?: string;
}

export type RenderFrame = CartPoleFrame | AcrobotFrame | MountainCarFrame | PendulumFrame | FrozenLakeFrame | CliffWalkingFrame | TaxiFrame | SnakeFrame | GoFrame | TextFrame | ValuesFrame;

/** Every frame kind, one per member of RenderFrame: the protocol validates frames against this list. */
export const FRAME_KINDS = ['cartpole', 'acrobot', 'mountaincar', 'pendulum', 'frozenlake', 'cliffwalking', 'taxi', 'snake', 'go', 'text', 'values'] as const satisfies readonly RenderFrame['kind'][];
export type FrameKind = (typeof FRAME_KINDS)[number];
// A frame type added to RenderFrame but not to FRAME_KINDS fails to compile here.
type MissingKinds = Exclude<RenderFrame['kind'], FrameKind>;
const everyKindListed: [MissingKinds] extends [never] ? true : MissingKinds = true;
void everyKindListed;

/** Characters of a text frame: a longer string is cut there, with a last line saying how much was left out. */
export const TEXT_FRAME_MAX_CHARS = 10_000;
/** Values of a values frame (beyond a few dozen, bars are unreadable anyway). */
export const VALUES_FRAME_MAX = 256;

/**
 * What the viewer is sent for a `render()` result: a frame of a known kind as it is; a string as a text frame; an
 * object of another kind as a text frame of its JSON (the lab server accepts only known kinds, and the data is
 * still worth seeing); anything else (null, a number, an array, JSON that cannot be written) as null.
 */
export function toRenderFrame(rendered: unknown): RenderFrame | null {
  if (typeof rendered === 'string') return textFrame(rendered);
  if (rendered === null || typeof rendered !== 'object' || Array.isArray(rendered)) return null;
  const kind = (rendered as { kind?: unknown }).kind;
  if (typeof kind === 'string' && (FRAME_KINDS as readonly string[]).includes(kind)) return rendered as RenderFrame;
  try {
    return textFrame(JSON.stringify(rendered, null, 1));
  } catch {
    return null;
  }
}

function textFrame(text: string): TextFrame {
  const cut = text.length > TEXT_FRAME_MAX_CHARS;
  return { kind: 'text', text: cut ? `${text.slice(0, TEXT_FRAME_MAX_CHARS)}\n… (${text.length - TEXT_FRAME_MAX_CHARS} more characters)` : text };
}

/**
 * A values frame from numbers (an observation, an env's state): `low`/`high` are numbers for every value or one
 * per value (±Infinity: unbounded, as a Box space's bounds may be). Throws naming the problem for mismatched
 * lengths, too many values, or non-numbers.
 */
export function valuesFrame(values: ArrayLike<number>, options: { labels?: readonly string[]; low?: number | ArrayLike<number>; high?: number | ArrayLike<number>; title?: string } = {}): ValuesFrame {
  const n = values.length;
  if (!Number.isSafeInteger(n) || n > VALUES_FRAME_MAX) throw new Error(`valuesFrame: at most ${VALUES_FRAME_MAX} values, got ${n}`);
  const finite = (x: unknown, what: string): number | null => {
    if (typeof x !== 'number') throw new Error(`valuesFrame: ${what} must be a number, got ${x === null ? 'null' : typeof x}`);
    return Number.isFinite(x) ? x : null;
  };
  const perValue = (given: number | ArrayLike<number> | undefined, what: string): (number | null)[] | undefined => {
    if (given === undefined) return undefined;
    if (typeof given === 'number') return Array.from({ length: n }, () => finite(given, what));
    if (given.length !== n) throw new Error(`valuesFrame: ${what} has ${given.length} entries for ${n} values`);
    return Array.from(given, (x, i) => finite(x, `${what}[${i}]`));
  };
  const frame: ValuesFrame = { kind: 'values', values: Array.from(values, (x, i) => finite(x, `values[${i}]`)) };
  if (options.labels !== undefined) {
    if (options.labels.length !== n) throw new Error(`valuesFrame: labels has ${options.labels.length} entries for ${n} values`);
    frame.labels = options.labels.map((l) => String(l));
  }
  const low = perValue(options.low, 'low');
  const high = perValue(options.high, 'high');
  if (low) frame.low = low;
  if (high) frame.high = high;
  if (options.title !== undefined) frame.title = options.title;
  return frame;
}

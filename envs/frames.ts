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

export type RenderFrame = CartPoleFrame | AcrobotFrame | MountainCarFrame | PendulumFrame | FrozenLakeFrame | CliffWalkingFrame | TaxiFrame | SnakeFrame | GoFrame;

/** Every frame kind, one per member of RenderFrame: the protocol validates frames against this list. */
export const FRAME_KINDS = ['cartpole', 'acrobot', 'mountaincar', 'pendulum', 'frozenlake', 'cliffwalking', 'taxi', 'snake', 'go'] as const satisfies readonly RenderFrame['kind'][];
export type FrameKind = (typeof FRAME_KINDS)[number];
// A frame type added to RenderFrame but not to FRAME_KINDS fails to compile here.
type MissingKinds = Exclude<RenderFrame['kind'], FrameKind>;
const everyKindListed: [MissingKinds] extends [never] ? true : MissingKinds = true;
void everyKindListed;

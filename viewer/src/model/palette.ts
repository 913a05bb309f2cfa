/** Colours of the stage (0xRRGGBB), shared by the Pixi renderers and the test probe (pure). */

export type RGB = [r: number, g: number, b: number];

export function rgb(hex: number): RGB {
  return [(hex >> 16) & 0xff, (hex >> 8) & 0xff, hex & 0xff];
}

export function cssHex(hex: number): string {
  return `#${hex.toString(16).padStart(6, '0')}`;
}

/** Mixes two colours, t = 0 → a, 1 → b. */
export function mix(a: number, b: number, t: number): number {
  const [ar, ag, ab] = rgb(a);
  const [br, bg, bb] = rgb(b);
  const m = (x: number, y: number) => Math.round(x + (y - x) * t);
  return (m(ar, br) << 16) | (m(ag, bg) << 8) | m(ab, bb);
}

export const STAGE = {
  background: 0x0b0f14,
  grid: 0x1a222d,
  text: 0xe6edf3,
  muted: 0x8b98a8,
  faint: 0x4a5565,
  accent: 0x58a6ff,
  good: 0x3fb950,
  warn: 0xe3b341,
  bad: 0xf85149,
} as const;

export const CARTPOLE = {
  track: 0x3a4656,
  tick: 0x2a3441,
  limit: 0xf85149,
  cart: 0xc9d4e3,
  cartEdge: 0x93a1b5,
  wheel: 0x1e2632,
  wheelHub: 0x8b98a8,
  pole: 0xf0a35e,
  pivot: 0x0b0f14,
  arrow: 0x58a6ff,
  wedge: 0x58a6ff,
} as const;

export const GRID = {
  frozen: 0xcfe6f5,
  frozenEdge: 0xa7c9e0,
  hole: 0x0e2233,
  holeRim: 0x30566f,
  start: 0x9fc9e6,
  goal: 0xe3b341,
  agent: 0xf0a35e,
  agentEdge: 0x0b0f14,
  floor: 0x161d27,
  floorLine: 0x222c39,
  cliff: 0x5a1f23,
  cliffHatch: 0x7a2a2f,
  startCell: 0x1d3a5c,
  goalCell: 0x1f4d2c,
  wall: 0xc9d4e3,
  taxi: 0xf2c94c,
  taxiEdge: 0x8a6d12,
  passenger: 0xe6edf3,
} as const;

export const SNAKE = {
  boardA: 0x121922,
  boardB: 0x151d27,
  border: 0x2a3441,
  body: 0x3fb950,
  bodyTail: 0x1f6f3a,
  head: 0x7ee787,
  eye: 0x0b0f14,
  fruit: 0xf85149,
  leaf: 0x3fb950,
  dead: 0xf85149,
} as const;

export const GO = {
  wood: 0xdcb35c,
  woodEdge: 0xb88f3e,
  line: 0x3b2a12,
  label: 0x5a4420,
  black: 0x16181c,
  blackHighlight: 0x3a3e46,
  white: 0xf4f1ea,
  whiteShade: 0xc9c3b6,
  lastMove: 0xf85149,
} as const;

/** Acrobot, Pendulum and the mountain cars. */
export const CLASSIC = {
  link1: 0x58a6ff,
  link2: 0x7ee0d0,
  joint: 0xe3b341,
  pivot: 0xc9d4e3,
  goal: 0x3fb950,
  rod: 0xf0a35e,
  torque: 0xd2a8ff,
  ground: 0x3a4656,
  groundFill: 0x121922,
  car: 0xc9d4e3,
  flag: 0xe3b341,
  force: 0x58a6ff,
} as const;

/**
 * Acrobot, Pendulum and mountain-car frames → screen geometry in CSS pixels (pure; screen y grows downwards).
 * The renderers draw these shapes and the test probe reads the same points.
 */
import type { AcrobotFrame, MountainCarFrame, PendulumFrame } from '../../../envs/frames.js';
import type { Point } from './cartpole_geometry.js';

export interface AcrobotGeometry {
  scale: number;
  pivot: Point;
  elbow: Point;
  tip: Point;
  /** The goal line (height goalHeight above the pivot), left and right ends. */
  goal: [Point, Point];
  linkWidth: number;
}

/** The pivot in the middle; both links (2.2 link lengths of reach) fit the smaller side. θ = 0 hangs down. */
export function acrobotGeometry(f: AcrobotFrame, width: number, height: number): AcrobotGeometry {
  const reach = f.link1 + f.link2 + 0.2;
  const scale = Math.max(1, (Math.min(width, height) * 0.46) / reach);
  const pivot: Point = [width / 2, height / 2];
  const elbow: Point = [pivot[0] + f.link1 * Math.sin(f.theta1) * scale, pivot[1] + f.link1 * Math.cos(f.theta1) * scale];
  const a = f.theta1 + f.theta2;
  const tip: Point = [elbow[0] + f.link2 * Math.sin(a) * scale, elbow[1] + f.link2 * Math.cos(a) * scale];
  const gy = pivot[1] - f.goalHeight * scale;
  return { scale, pivot, elbow, tip, goal: [[pivot[0] - reach * scale, gy], [pivot[0] + reach * scale, gy]], linkWidth: Math.max(6, Math.min(18, 0.12 * scale)) };
}

export interface PendulumGeometry {
  scale: number;
  pivot: Point;
  tip: Point;
  rodWidth: number;
  /** Radius of the torque arc around the pivot. */
  torqueRadius: number;
}

/** θ = 0 points up, positive counter-clockwise (on screen: tip at pivot + (−sin θ, −cos θ)·length). */
export function pendulumGeometry(f: PendulumFrame, width: number, height: number): PendulumGeometry {
  const scale = Math.max(1, (Math.min(width, height) * 0.46) / 1.3);
  const pivot: Point = [width / 2, height / 2];
  const tip: Point = [pivot[0] - Math.sin(f.theta) * scale, pivot[1] - Math.cos(f.theta) * scale];
  return { scale, pivot, tip, rodWidth: Math.max(6, Math.min(20, 0.12 * scale)), torqueRadius: 0.32 * scale };
}

export interface MountainCarGeometry {
  /** Screen point of world (x, height(x)). */
  toScreen: (x: number, y: number) => Point;
  /** The valley as a polyline. */
  curve: Point[];
  /** Where the car touches the track, and the centre of its body (drawn just above). */
  car: Point;
  body: Point;
  /** Slope angle of the track under the car (rad, screen: negative = nose up to the right). */
  carAngle: number;
  carW: number;
  carH: number;
  flagBase: Point;
  flagTop: Point;
  /** Force arrow from the car (tail → head), null after reset or for no push. */
  arrow: { from: Point; to: Point } | null;
}

export function mountainHeight(x: number): number {
  return Math.sin(3 * x) * 0.45 + 0.55;
}

export function mountainCarGeometry(f: MountainCarFrame, width: number, height: number): MountainCarGeometry {
  const pad = Math.max(16, width * 0.05);
  const span = f.maxPosition - f.minPosition;
  const scale = Math.max(1, Math.min((width - 2 * pad) / span, (height * 0.76) / 1.25));
  const left = (width - span * scale) / 2;
  // A little below the middle: the band along the top stays clear for the flag's label and the stage's badges.
  const bottom = height * 0.56 + 0.55 * scale;
  const toScreen = (x: number, y: number): Point => [left + (x - f.minPosition) * scale, bottom - y * scale];
  const curve: Point[] = [];
  for (let k = 0; k <= 120; k++) {
    const x = f.minPosition + (span * k) / 120;
    curve.push(toScreen(x, mountainHeight(x)));
  }
  const carW = Math.max(24, 0.12 * scale);
  const carH = Math.max(12, 0.06 * scale);
  const car = toScreen(f.position, mountainHeight(f.position));
  // dy/dx of the valley is 1.35 cos 3x; the screen flips y.
  const carAngle = -Math.atan(1.35 * Math.cos(3 * f.position));
  const flagBase = toScreen(f.goalPosition, mountainHeight(f.goalPosition));
  const flagTop: Point = [flagBase[0], flagBase[1] - Math.max(30, 0.2 * scale)];
  let arrow: MountainCarGeometry['arrow'] = null;
  if (f.lastForce !== null && f.lastForce !== 0) {
    const len = Math.max(10, Math.abs(f.lastForce) * carW * 1.4);
    const dir = Math.sign(f.lastForce);
    const ux = Math.cos(carAngle) * dir;
    const uy = Math.sin(carAngle) * dir;
    // Above the car: "up" of a body tilted by carAngle is (sin a, −cos a) on screen.
    const from: Point = [car[0] + Math.sin(carAngle) * carH * 1.8, car[1] - Math.cos(carAngle) * carH * 1.8];
    arrow = { from, to: [from[0] + ux * len, from[1] + uy * len] };
  }
  const body: Point = [car[0] + Math.sin(carAngle) * (carH / 2 + 3), car[1] - Math.cos(carAngle) * (carH / 2 + 3)];
  return { toScreen, curve, car, body, carAngle, carW, carH, flagBase, flagTop, arrow };
}

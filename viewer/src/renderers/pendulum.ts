/** Pendulum: the rod from its pivot (upright = up), the applied torque as an arc arrow sized by |u|/maxTorque, and its value. */
import { Container, Graphics } from 'pixi.js';
import type { PendulumFrame } from '../../../envs/frames.js';
import type { Point } from '../model/cartpole_geometry.js';
import { pendulumGeometry, type PendulumGeometry } from '../model/classic_geometry.js';
import { CLASSIC, rgb, STAGE } from '../model/palette.js';
import { FONT_MONO, dashed, label, place } from '../stage/draw.js';
import { registerFrameRenderer, type DrawContext, type FrameRenderer, type Probe } from '../stage/registry.js';

/** Fixed-width signed number: "+0.012", "−1.250". */
export function signedText(v: number, digits: number): string {
  const a = Math.abs(v).toFixed(digits);
  return `${v < 0 && Number(a) !== 0 ? '−' : '+'}${a}`;
}

/**
 * A torque as an arc arrow around `centre`: counter-clockwise on screen for positive torque, spanning up to 270°
 * for |torque| = max, with its head at the end.
 */
export function torqueArc(s: Graphics, centre: Point, radius: number, torque: number, max: number, color: number): void {
  const frac = Math.min(1, Math.abs(torque) / max);
  const sweep = Math.max(0.35, frac * 1.5 * Math.PI);
  // Screen angles grow clockwise; counter-clockwise means decreasing angles.
  const dir = torque > 0 ? -1 : 1;
  const start = -Math.PI / 2;
  const end = start + dir * sweep;
  // A new sub-path at the arc's start (otherwise Pixi joins it to wherever the last shape ended).
  s.moveTo(centre[0] + Math.cos(start) * radius, centre[1] + Math.sin(start) * radius);
  s.arc(centre[0], centre[1], radius, start, end, dir < 0).stroke({ width: 3, color, cap: 'round' });
  const hx = centre[0] + Math.cos(end) * radius;
  const hy = centre[1] + Math.sin(end) * radius;
  // Tangent at the end, in the direction of travel.
  const tx = -Math.sin(end) * dir;
  const ty = Math.cos(end) * dir;
  const head = 9;
  s.poly([hx + tx * head, hy + ty * head, hx - ty * head * 0.6, hy + tx * head * 0.6, hx + ty * head * 0.6, hy - tx * head * 0.6]).fill({ color });
}

class PendulumRenderer implements FrameRenderer<PendulumFrame> {
  readonly root = new Container();
  private readonly scene = new Graphics();
  private readonly readout = label({ fontFamily: FONT_MONO, fontSize: 12, fill: STAGE.muted, lineHeight: 18 });
  private readonly torqueLabel = label({ fontFamily: FONT_MONO, fontSize: 13, fill: CLASSIC.torque });
  private geometry: PendulumGeometry | null = null;

  constructor() {
    this.root.addChild(this.scene, this.readout, this.torqueLabel);
  }

  draw(f: PendulumFrame, ctx: DrawContext): void {
    const g = pendulumGeometry(f, ctx.size.width, ctx.size.height);
    this.geometry = g;
    const s = this.scene;
    s.clear();
    // Upright, the goal: a faint dashed line straight up.
    dashed(s, g.pivot, [g.pivot[0], g.pivot[1] - g.scale * 1.12], 6, 6, { width: 1.5, color: CLASSIC.goal, alpha: 0.5 });
    s.moveTo(...g.pivot).lineTo(...g.tip).stroke({ width: g.rodWidth, color: CLASSIC.rod, cap: 'round' });
    s.circle(...g.tip, g.rodWidth * 0.7).fill({ color: CLASSIC.rod });
    if (f.lastTorque !== null && f.lastTorque !== 0) torqueArc(s, g.pivot, g.torqueRadius, f.lastTorque, f.maxTorque, CLASSIC.torque);
    s.circle(...g.pivot, g.rodWidth * 0.45).fill({ color: CLASSIC.pivot });
    place(this.torqueLabel, f.lastTorque === null ? '' : `u ${signedText(f.lastTorque, 2)}`, g.pivot[0], g.pivot[1] + g.torqueRadius + 10, 0.5, 0);
    const up = Math.abs((((f.theta + Math.PI) % (2 * Math.PI)) + 2 * Math.PI) % (2 * Math.PI) - Math.PI);
    place(this.readout, [`θ ${signedText(f.theta, 3)} rad   ${((up * 180) / Math.PI).toFixed(1)}° from upright`, `ω ${signedText(f.thetaDot, 3)} rad/s`, `torque ${f.lastTorque === null ? 'reset' : `${signedText(f.lastTorque, 3)} of ±${f.maxTorque}`}`].join('\n'), 16, 14);
  }

  probe(): Probe {
    const g = this.geometry;
    if (!g) return { points: {}, colors: {} };
    return {
      points: { pivot: g.pivot, tip: g.tip, rod: [(g.pivot[0] * 0.4 + g.tip[0] * 0.6), (g.pivot[1] * 0.4 + g.tip[1] * 0.6)] },
      colors: { rod: rgb(CLASSIC.rod), torque: rgb(CLASSIC.torque) },
    };
  }

  destroy(): void {
    this.root.destroy({ children: true });
  }
}

registerFrameRenderer('pendulum', () => new PendulumRenderer());

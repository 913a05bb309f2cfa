/** Acrobot: the two links from the fixed pivot, the goal line the tip must pass, the joint torque as a curved arrow. */
import { Container, Graphics } from 'pixi.js';
import type { AcrobotFrame } from '../../../envs/frames.js';
import { acrobotGeometry, type AcrobotGeometry } from '../model/classic_geometry.js';
import { CLASSIC, rgb, STAGE } from '../model/palette.js';
import { dashed, FONT_MONO, label, place } from '../stage/draw.js';
import { registerFrameRenderer, type DrawContext, type FrameRenderer, type Probe } from '../stage/registry.js';
import { signedText, torqueArc } from './pendulum.js';

class AcrobotRenderer implements FrameRenderer<AcrobotFrame> {
  readonly root = new Container();
  private readonly scene = new Graphics();
  private readonly goalLabel = label({ fontSize: 11, fill: CLASSIC.goal });
  private readonly readout = label({ fontFamily: FONT_MONO, fontSize: 12, fill: STAGE.muted, lineHeight: 18 });
  private geometry: AcrobotGeometry | null = null;

  constructor() {
    this.root.addChild(this.scene, this.goalLabel, this.readout);
  }

  draw(f: AcrobotFrame, ctx: DrawContext): void {
    const g = acrobotGeometry(f, ctx.size.width, ctx.size.height);
    this.geometry = g;
    const s = this.scene;
    s.clear();
    const [a, b] = g.goal;
    dashed(s, a, b, 8, 6, { width: 2, color: CLASSIC.goal, alpha: 0.7 });
    place(this.goalLabel, 'goal: tip above this line', b[0], a[1] - 4, 1, 1);
    const reached = -Math.cos(f.theta1) - Math.cos(f.theta1 + f.theta2) > f.goalHeight;
    s.moveTo(...g.pivot).lineTo(...g.elbow).stroke({ width: g.linkWidth, color: CLASSIC.link1, cap: 'round' });
    s.moveTo(...g.elbow).lineTo(...g.tip).stroke({ width: g.linkWidth, color: CLASSIC.link2, cap: 'round' });
    s.circle(...g.pivot, g.linkWidth * 0.6).fill({ color: CLASSIC.pivot });
    s.circle(...g.elbow, g.linkWidth * 0.55).fill({ color: CLASSIC.joint });
    s.circle(...g.tip, g.linkWidth * 0.45).fill({ color: reached ? CLASSIC.goal : CLASSIC.link2 });
    // The torque acts at the middle joint: an arc arrow around it, counter-clockwise (on screen) for +1.
    if (f.lastTorque !== null && f.lastTorque !== 0) torqueArc(s, g.elbow, g.linkWidth * 2.4, f.lastTorque, 1, CLASSIC.torque);
    const torque = f.lastTorque === null ? 'reset' : f.lastTorque === 0 ? '0' : signedText(f.lastTorque, 0);
    const height = -Math.cos(f.theta1) - Math.cos(f.theta1 + f.theta2);
    place(
      this.readout,
      [`θ1 ${signedText(f.theta1, 3)}  θ2 ${signedText(f.theta2, 3)} rad`, `ω1 ${signedText(f.theta1Dot, 3)}  ω2 ${signedText(f.theta2Dot, 3)} rad/s`, `torque ${torque}   tip height ${signedText(height, 2)}`].join('\n'),
      16,
      14,
    );
  }

  probe(): Probe {
    const g = this.geometry;
    if (!g) return { points: {}, colors: {} };
    const mid = (p: [number, number], q: [number, number]): [number, number] => [(p[0] + q[0]) / 2, (p[1] + q[1]) / 2];
    return {
      points: { pivot: g.pivot, elbow: g.elbow, tip: g.tip, link1: mid(g.pivot, g.elbow), link2: mid(g.elbow, g.tip), goalLeft: g.goal[0], goalRight: g.goal[1] },
      colors: { link1: rgb(CLASSIC.link1), link2: rgb(CLASSIC.link2), goal: rgb(CLASSIC.goal) },
    };
  }

  destroy(): void {
    this.root.destroy({ children: true });
  }
}

registerFrameRenderer('acrobot', () => new AcrobotRenderer());

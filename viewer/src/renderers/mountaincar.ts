/** MountainCar (discrete and continuous): the valley, the flag at the goal, the car tilted with the slope and its push arrow. */
import { Container, Graphics } from 'pixi.js';
import type { MountainCarFrame } from '../../../envs/frames.js';
import { mountainCarGeometry, type MountainCarGeometry } from '../model/classic_geometry.js';
import { CLASSIC, rgb, STAGE } from '../model/palette.js';
import { arrow, FONT_MONO, label, place } from '../stage/draw.js';
import { registerFrameRenderer, type DrawContext, type FrameRenderer, type Probe } from '../stage/registry.js';
import { signedText } from './pendulum.js';

class MountainCarRenderer implements FrameRenderer<MountainCarFrame> {
  readonly root = new Container();
  private readonly scene = new Graphics();
  private readonly readout = label({ fontFamily: FONT_MONO, fontSize: 12, fill: STAGE.muted, lineHeight: 18 });
  private readonly flagLabel = label({ fontSize: 11, fill: CLASSIC.flag });
  private geometry: MountainCarGeometry | null = null;

  constructor() {
    this.root.addChild(this.scene, this.readout, this.flagLabel);
  }

  draw(f: MountainCarFrame, ctx: DrawContext): void {
    const g = mountainCarGeometry(f, ctx.size.width, ctx.size.height);
    this.geometry = g;
    const s = this.scene;
    s.clear();
    const first = g.curve[0]!;
    const last = g.curve.at(-1)!;
    const floor = ctx.size.height;
    s.moveTo(first[0], floor);
    for (const p of g.curve) s.lineTo(p[0], p[1]);
    s.lineTo(last[0], floor).closePath().fill({ color: CLASSIC.groundFill });
    s.moveTo(first[0], first[1]);
    for (const p of g.curve.slice(1)) s.lineTo(p[0], p[1]);
    s.stroke({ width: 3, color: CLASSIC.ground, join: 'round' });
    // The flag: pole and pennant.
    s.moveTo(...g.flagBase).lineTo(...g.flagTop).stroke({ width: 2, color: CLASSIC.flag });
    s.poly([g.flagTop[0], g.flagTop[1], g.flagTop[0] + 22, g.flagTop[1] + 6, g.flagTop[0], g.flagTop[1] + 12]).fill({ color: CLASSIC.flag });
    place(this.flagLabel, `goal x ≥ ${f.goalPosition}`, g.flagTop[0], g.flagTop[1] - 4, 0.5, 1);
    // The car: a rectangle along the slope.
    const c = Math.cos(g.carAngle);
    const si = Math.sin(g.carAngle);
    const hw = g.carW / 2;
    const hh = g.carH / 2;
    const [bx, by] = g.body;
    const corner = (x: number, y: number) => [bx + x * c - y * si, by + x * si + y * c];
    s.poly([...corner(-hw, -hh), ...corner(hw, -hh), ...corner(hw, hh), ...corner(-hw, hh)]).fill({ color: CLASSIC.car });
    for (const x of [-hw * 0.6, hw * 0.6]) {
      const [wx, wy] = corner(x, hh);
      s.circle(wx!, wy!, Math.max(3, g.carH * 0.3)).fill({ color: STAGE.faint });
    }
    if (g.arrow) arrow(s, g.arrow.from, g.arrow.to, CLASSIC.force, 3, 9);
    const push =
      f.lastForce === null ? 'reset' : f.continuous ? `force ${signedText(f.lastForce, 3)} (clipped to ±1)` : f.lastForce > 0 ? 'push right' : f.lastForce < 0 ? 'push left' : 'no push';
    place(this.readout, [`x ${signedText(f.position, 3)}   v ${signedText(f.velocity, 4)}`, push].join('\n'), 16, 14);
  }

  probe(): Probe {
    const g = this.geometry;
    if (!g) return { points: {}, colors: {} };
    return {
      points: { car: g.body, flagTop: g.flagTop, flagBase: g.flagBase, valleyLeft: g.curve[0]!, valleyRight: g.curve.at(-1)! },
      colors: { car: rgb(CLASSIC.car), flag: rgb(CLASSIC.flag), ground: rgb(CLASSIC.ground) },
    };
  }

  destroy(): void {
    this.root.destroy({ children: true });
  }
}

registerFrameRenderer('mountaincar', () => new MountainCarRenderer());

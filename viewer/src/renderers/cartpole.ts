/** Cart-Pole: track with ±xThreshold limits, the cart on wheels, the pole at its true angle, the push arrow. */
import { Container, Graphics } from 'pixi.js';
import type { CartPoleFrame } from '../../../envs/frames.js';
import { cartPoleGeometry, poleQuad, type CartPoleGeometry } from '../model/cartpole_geometry.js';
import { CARTPOLE, rgb, STAGE } from '../model/palette.js';
import { arrow, dashed, FONT_MONO, label, place } from '../stage/draw.js';
import { registerFrameRenderer, type DrawContext, type FrameRenderer, type Probe } from '../stage/registry.js';

class CartPoleRenderer implements FrameRenderer<CartPoleFrame> {
  readonly root = new Container();
  private readonly scene = new Graphics();
  private readonly limitLeft = label({ fontSize: 11, fill: CARTPOLE.limit });
  private readonly limitRight = label({ fontSize: 11, fill: CARTPOLE.limit });
  private readonly readout = label({ fontFamily: FONT_MONO, fontSize: 12, fill: STAGE.muted, lineHeight: 18 });
  private readonly tickLabels: ReturnType<typeof label>[] = [];
  private geometry: CartPoleGeometry | null = null;

  constructor() {
    this.root.addChild(this.scene, this.limitLeft, this.limitRight, this.readout);
  }

  draw(f: CartPoleFrame, ctx: DrawContext): void {
    const { width, height } = ctx.size;
    const g = cartPoleGeometry(f, width, height);
    this.geometry = g;
    const s = this.scene;
    s.clear();

    // Allowed pole angles: a faint wedge of ±thetaThreshold around the vertical.
    const [px, py] = g.pivot;
    const r = g.poleLength * 1.04;
    const a0 = -Math.PI / 2 - f.thetaThreshold;
    const a1 = -Math.PI / 2 + f.thetaThreshold;
    s.moveTo(px, py).arc(px, py, r, a0, a1).lineTo(px, py).fill({ color: CARTPOLE.wedge, alpha: 0.06 });
    for (const a of [a0, a1]) dashed(s, [px, py], [px + Math.cos(a) * r, py + Math.sin(a) * r], 4, 5, { width: 1, color: CARTPOLE.wedge, alpha: 0.35 });

    // Track and ticks every 0.5 m.
    s.moveTo(g.trackLeft, g.trackY).lineTo(g.trackRight, g.trackY).stroke({ width: 2, color: CARTPOLE.track, cap: 'round' });
    for (const t of g.ticks) {
      s.moveTo(t.x, g.trackY + 3).lineTo(t.x, g.trackY + (t.major ? 10 : 6)).stroke({ width: 1, color: t.major ? CARTPOLE.track : CARTPOLE.tick });
    }
    const majors = g.ticks.filter((t) => t.major);
    while (this.tickLabels.length < majors.length) {
      const t = label({ fontSize: 10, fill: STAGE.faint });
      this.tickLabels.push(t);
      this.root.addChild(t);
    }
    this.tickLabels.forEach((t, i) => {
      const m = majors[i];
      t.visible = !!m;
      if (m) place(t, m.metres === 0 ? '0' : `${m.metres > 0 ? '' : '−'}${Math.abs(m.metres)} m`, m.x, g.trackY + 13, 0.5, 0);
    });

    // ±xThreshold: the episode ends when the cart's centre passes these.
    for (const x of [g.limitLeft, g.limitRight]) {
      dashed(s, [x, g.trackY - g.poleLength * 0.55], [x, g.trackY + 2], 5, 4, { width: 2, color: CARTPOLE.limit, alpha: 0.8 });
      s.rect(x - 4, g.trackY - 2, 8, 4).fill({ color: CARTPOLE.limit });
    }
    place(this.limitLeft, `−${f.xThreshold}`, g.limitLeft, g.trackY - g.poleLength * 0.55 - 4, 0.5, 1);
    place(this.limitRight, `+${f.xThreshold}`, g.limitRight, g.trackY - g.poleLength * 0.55 - 4, 0.5, 1);

    // Wheels, then the cart body: a solid, unshaded rectangle.
    for (const [wx, wy] of g.wheels) {
      s.circle(wx, wy, g.wheelRadius).fill({ color: CARTPOLE.wheel }).stroke({ width: 1.5, color: CARTPOLE.cartEdge });
      s.circle(wx, wy, g.wheelRadius * 0.35).fill({ color: CARTPOLE.wheelHub });
    }
    const { cx, cy, w, h } = g.cart;
    s.roundRect(cx - w / 2, cy - h / 2, w, h, Math.min(4, h / 4)).fill({ color: CARTPOLE.cart });

    // Push arrow for the last action.
    if (g.arrow) arrow(s, g.arrow.from, g.arrow.to, CARTPOLE.arrow, 3, 9, 0.95);

    // The pole (extends half its width beyond the tip so the tip pixel is solid pole colour), then the axle.
    const q = poleQuad(g);
    s.poly(q.flat()).fill({ color: CARTPOLE.pole });
    const [tx, ty] = g.poleTip;
    const ux = (tx - px) / g.poleLength;
    const uy = (ty - py) / g.poleLength;
    s.circle(tx + ux * (g.poleWidth / 2), ty + uy * (g.poleWidth / 2), g.poleWidth / 2).fill({ color: CARTPOLE.pole });
    s.circle(px, py, g.poleWidth * 0.55).fill({ color: CARTPOLE.pivot }).stroke({ width: 2, color: CARTPOLE.pole });

    const deg = (f.theta * 180) / Math.PI;
    const lines = [
      `x ${signed(f.x, 3)} m     v ${signed(f.xDot, 3)} m/s`,
      `θ ${signed(deg, 2)}°      ω ${signed(f.thetaDot, 3)} rad/s`,
    ];
    place(this.readout, lines.join('\n'), 16, 14, 0, 0);
  }

  probe(): Probe {
    const g = this.geometry;
    if (!g) return { points: {}, colors: {} };
    return {
      points: {
        cart: [g.cart.cx, g.cart.cy],
        pivot: g.pivot,
        poleTip: g.poleTip,
        limitLeft: [g.limitLeft, g.trackY],
        limitRight: [g.limitRight, g.trackY],
      },
      colors: { cart: rgb(CARTPOLE.cart), pole: rgb(CARTPOLE.pole), track: rgb(CARTPOLE.track) },
    };
  }

  destroy(): void {
    this.root.destroy({ children: true });
  }
}

/** Fixed-width signed number for the monospace readout: "+0.012", "−1.250". */
function signed(v: number, digits: number): string {
  const a = Math.abs(v).toFixed(digits);
  return `${v < 0 && Number(a) !== 0 ? '−' : '+'}${a}`;
}

registerFrameRenderer('cartpole', () => new CartPoleRenderer());

/**
 * The GAN run view: a HUD (iteration / budget, iterations/s, D and G loss, D accuracy, status), the latest
 * fixed-noise sample grid drawn crisply on a 2D canvas (whole device pixels per image pixel, ink dark on
 * white like the trainer's PNGs), a strip of the grids received so far to scrub back through, and the loss and
 * accuracy curves. Stored runs show their last grid and their curves.
 */
import type { FramesMessage, MetricsMessage, RunSummary, SamplesEvent } from '../../../protocol/protocol.js';
import { noGanHook, type GanHook, type LabHooks } from '../core/hooks.js';
import { registerRunView, type RunView, type RunViewContext } from '../core/run_views.js';
import { formatCount, formatNumber, formatRate } from '../model/format.js';
import { decodeSamples, fitScale, gridLayout, paintGrid, pixelCentre, pushGrid, type GridLayout, type SampleGrid } from '../model/gan_grid.js';
import { formatRoute } from '../model/routes.js';
import { isActive, statusMeta } from '../model/runs.js';
import type { WatchResult } from '../net/connection.js';
import { GanCurves } from '../ui/gan_curves.js';
import { h, setText } from '../ui/dom.js';

/** Grids kept for the history strip. */
const MAX_HISTORY = 48;
/** Gutter between cells, device pixels. */
const GAP = 2;
/** Images of a grid its thumbnail in the strip shows (2×2). */
const THUMB_IMAGES = 4;
/** Room left around the grid in its frame, CSS px. */
const FRAME_MARGIN = 8;

interface HudCell {
  root: HTMLElement;
  value: HTMLElement;
}

function hudCell(name: string, testid: string, title = ''): HudCell {
  const value = h('div', { class: 'hud-value', text: '—', testid });
  return { root: h('div', { class: 'hud-cell', ...(title ? { title } : {}) }, h('div', { class: 'hud-label', text: name }), value), value };
}

class GanView implements RunView {
  private run: RunSummary;
  private readonly root: HTMLElement;
  private readonly hud: Record<'iteration' | 'its' | 'dLoss' | 'gLoss' | 'dAcc' | 'status', HudCell>;
  private readonly canvas: HTMLCanvasElement;
  private readonly frame: HTMLElement;
  private readonly message: HTMLElement;
  private readonly caption: HTMLElement;
  private readonly liveBtn: HTMLButtonElement;
  private readonly scrubber: HTMLInputElement;
  private readonly strip: HTMLElement;
  private readonly curves = new GanCurves();
  private readonly observer: ResizeObserver;
  private readonly hook: GanHook;
  private readonly hooks: LabHooks;
  private history: SampleGrid[] = [];
  private readonly events = new Map<number, SamplesEvent>();
  /** The step of the grid pinned by the user (null: follow the newest). */
  private pinned: number | null = null;
  private shown: SampleGrid | null = null;
  private layout: GridLayout | null = null;
  private loaded = false;
  private drawPending = 0;

  constructor(
    ctx: RunViewContext,
    run: RunSummary,
  ) {
    this.run = run;
    this.hud = {
      iteration: hudCell('ITERATION', 'hud-iteration'),
      its: hudCell('ITERATIONS / S', 'hud-its'),
      dLoss: hudCell('D LOSS', 'hud-dloss'),
      gLoss: hudCell('G LOSS', 'hud-gloss'),
      dAcc: hudCell('D ACC (REAL · FAKE)', 'hud-dacc', 'The discriminator\'s accuracy on real doodles · on generated ones'),
      status: hudCell('STATUS', 'hud-status'),
    };
    const hudEl = h('div', { class: 'hud gan-hud panel' }, ...Object.values(this.hud).map((c) => c.root));

    this.canvas = h('canvas', { class: 'gan-canvas', testid: 'gan-grid' });
    this.message = h('div', { class: 'gan-message' });
    this.frame = h('div', { class: 'gan-frame' }, this.canvas, this.message);
    this.caption = h('span', { class: 'gan-caption', testid: 'gan-grid-step' });
    this.liveBtn = h('button', { class: 'btn btn-small', testid: 'gan-live', title: 'Follow the newest grid', attrs: { type: 'button' }, on: { click: () => this.follow() } }, h('span', { text: 'Newest' }));
    this.scrubber = h('input', {
      class: 'gan-scrubber',
      testid: 'gan-scrubber',
      attrs: { type: 'range', min: '0', max: '0', step: '1', value: '0', 'aria-label': 'Sample grid history' },
      on: { input: () => this.scrub(Number(this.scrubber.value)) },
    });
    this.strip = h('div', { class: 'gan-strip', testid: 'gan-history', attrs: { role: 'listbox', 'aria-label': 'Earlier sample grids' } });
    const gridCard = h(
      'div',
      { class: 'panel gan-grid-card' },
      h(
        'div',
        { class: 'chart-head' },
        h('h3', { text: 'Fixed-noise samples' }),
        this.caption,
        this.scrubber,
        this.liveBtn,
        // The generator run in the page (pages/latent.ts): new samples, latent directions, interpolation.
        h('a', { class: 'btn btn-small', testid: 'gan-explore', text: 'Explore', title: 'Latent explorer: run this generator in the page', attrs: { href: formatRoute({ page: 'latent', runId: run.runId, seed: null }) } }),
      ),
      this.frame,
      this.strip,
    );
    this.root = h('section', { class: 'gan-view' }, hudEl, h('div', { class: 'gan-main' }, gridCard, this.curves.el));
    ctx.container.append(this.root);

    this.hook = noGanHook();
    this.hook.pointOf = (k, px, py) => {
      if (!this.layout || !this.shown) throw new Error('no GAN sample grid drawn yet');
      const [x, y] = pixelCentre(this.layout, k, px, py);
      const dpr = this.canvas.width / Math.max(1, this.canvas.getBoundingClientRect().width);
      return [x / dpr, y / dpr];
    };
    this.hook.pixelAt = (x, y) => {
      const g = this.canvas.getContext('2d');
      const dpr = this.canvas.width / Math.max(1, this.canvas.getBoundingClientRect().width);
      if (!g || !this.shown) throw new Error('no GAN sample grid drawn yet');
      const d = g.getImageData(Math.floor(x * dpr), Math.floor(y * dpr), 1, 1).data;
      return [d[0]!, d[1]!, d[2]!];
    };
    this.hooks = ctx.hooks;
    this.hooks.gan = this.hook;

    this.observer = new ResizeObserver(() => this.scheduleDraw());
    this.observer.observe(this.frame);
    this.renderSummary();
    this.renderMessage();
  }

  load(data: WatchResult): void {
    this.run = data.run;
    this.loaded = true;
    this.curves.load(data.history.updates);
    this.hook.curvePoints = this.curves.points;
    for (const grid of data.samples) this.addSamples(grid);
    this.renderSummary();
    this.renderStrip();
    this.scheduleDraw();
  }

  update(run: RunSummary): void {
    this.run = run;
    this.renderSummary();
  }

  frames(_m: FramesMessage): void {
    // GAN runs send no step frames.
  }

  metrics(m: MetricsMessage): void {
    this.curves.append(m.updates);
    this.hook.curvePoints = this.curves.points;
    this.renderSummary();
  }

  samples(m: { runId: string; samples: SamplesEvent }): void {
    if (!this.addSamples(m.samples)) return;
    this.renderStrip();
    this.scheduleDraw();
  }

  destroy(): void {
    this.observer.disconnect();
    if (this.drawPending) cancelAnimationFrame(this.drawPending);
    this.curves.destroy();
    this.root.remove();
    // Another view may have installed its own hook since.
    if (this.hooks.gan === this.hook) this.hooks.gan = noGanHook();
  }

  // -------------------------------------------------------------------------------------------------

  private addSamples(e: SamplesEvent): boolean {
    let grid: SampleGrid;
    try {
      grid = decodeSamples(e);
    } catch (err) {
      console.warn((err as Error).message);
      return false;
    }
    this.hook.received++;
    this.history = pushGrid(this.history, grid, MAX_HISTORY);
    this.events.set(grid.step, e);
    for (const step of this.events.keys()) if (!this.history.some((g) => g.step === step)) this.events.delete(step);
    if (this.pinned !== null && !this.history.some((g) => g.step === this.pinned)) this.pinned = null;
    const newest = this.history[this.history.length - 1]!;
    this.hook.newestStep = newest.step;
    this.hook.history = this.history.map((g) => g.step);
    return true;
  }

  private current(): SampleGrid | null {
    if (this.pinned !== null) return this.history.find((g) => g.step === this.pinned) ?? null;
    return this.history[this.history.length - 1] ?? null;
  }

  private follow(): void {
    this.pinned = null;
    this.renderStrip();
    this.scheduleDraw();
  }

  private pin(step: number): void {
    const newest = this.history[this.history.length - 1];
    this.pinned = newest && newest.step === step ? null : step;
    this.renderStrip();
    this.scheduleDraw();
  }

  private scrub(index: number): void {
    const g = this.history[Math.max(0, Math.min(this.history.length - 1, index))];
    if (g) this.pin(g.step);
  }

  private scheduleDraw(): void {
    if (this.drawPending) return;
    this.drawPending = requestAnimationFrame(() => {
      this.drawPending = 0;
      this.draw();
    });
  }

  /** Draws the grid on screen at the largest whole-pixel scale that fits the frame. */
  private draw(): void {
    const grid = this.current();
    this.renderMessage();
    this.renderCaption(grid);
    if (!grid) {
      this.canvas.style.display = 'none';
      this.shown = null;
      this.hook.step = null;
      this.hook.samples = null;
      return;
    }
    const dpr = Math.max(1, window.devicePixelRatio || 1);
    const availW = Math.max(1, this.frame.clientWidth - FRAME_MARGIN) * dpr;
    const availH = Math.max(1, this.frame.clientHeight - FRAME_MARGIN) * dpr;
    const gap = Math.round(GAP * dpr);
    const scale = fitScale(grid.count, grid.width, grid.height, availW, availH, gap);
    const layout = gridLayout(grid.count, grid.width, grid.height, scale, gap);
    const g = this.canvas.getContext('2d');
    if (!g) return;
    if (this.canvas.width !== layout.width || this.canvas.height !== layout.height) {
      this.canvas.width = layout.width;
      this.canvas.height = layout.height;
    }
    this.canvas.style.width = `${layout.width / dpr}px`;
    this.canvas.style.height = `${layout.height / dpr}px`;
    this.canvas.style.display = '';
    const image = g.createImageData(layout.width, layout.height);
    paintGrid(grid, layout, image.data);
    g.putImageData(image, 0, 0);
    this.layout = layout;
    this.shown = grid;
    this.hook.step = grid.step;
    this.hook.samples = this.events.get(grid.step) ?? null;
  }

  private renderCaption(grid: SampleGrid | null): void {
    const newest = this.history[this.history.length - 1];
    let text = '';
    if (grid) {
      text = `iteration ${formatCount(grid.step)}`;
      if (this.pinned !== null && newest && newest.step !== grid.step) text += `  ·  newest ${formatCount(newest.step)}`;
      else if (isActive(this.run)) text += '  ·  live';
    }
    setText(this.caption, text);
    this.liveBtn.disabled = this.pinned === null;
    this.liveBtn.classList.toggle('gan-live-off', this.pinned === null);
  }

  private renderMessage(): void {
    let text = '';
    if (!this.history.length) {
      if (!this.loaded) text = 'Connecting to the run…';
      else if (this.run.status === 'starting') text = 'Starting the trainer…';
      else if (isActive(this.run)) text = 'Waiting for the first sample grid…';
      else text = 'This run has no sample grids; its curves are on the right.';
    }
    setText(this.message, text);
    this.message.style.display = text ? '' : 'none';
  }

  /** The history strip: a thumbnail per grid (newest last), the shown one marked; and the scrubber. */
  private renderStrip(): void {
    const shown = this.current();
    const have = new Map<number, HTMLElement>();
    for (const el of [...this.strip.children] as HTMLElement[]) have.set(Number(el.dataset.step), el);
    const wanted = new Set(this.history.map((g) => g.step));
    for (const [step, el] of have) if (!wanted.has(step)) el.remove();
    let atEnd = this.strip.scrollLeft + this.strip.clientWidth >= this.strip.scrollWidth - 4;
    this.history.forEach((grid, i) => {
      let el = have.get(grid.step);
      if (!el) {
        el = this.thumbnail(grid);
        atEnd = atEnd || i === this.history.length - 1;
      }
      if (this.strip.children[i] !== el) this.strip.insertBefore(el, this.strip.children[i] ?? null);
      const selected = shown !== null && grid.step === shown.step;
      el.classList.toggle('selected', selected);
      el.setAttribute('aria-selected', selected ? 'true' : 'false');
    });
    if (atEnd && this.pinned === null) this.strip.scrollLeft = this.strip.scrollWidth;
    this.scrubber.max = String(Math.max(0, this.history.length - 1));
    const index = shown ? this.history.findIndex((g) => g.step === shown.step) : 0;
    this.scrubber.value = String(Math.max(0, index));
    this.scrubber.disabled = this.history.length < 2;
  }

  private thumbnail(grid: SampleGrid): HTMLElement {
    // The first THUMB_IMAGES images of the grid, whole device pixels per image pixel: small, but the doodles
    // stay legible (a whole 8×8 grid scaled down to a thumbnail is a grey blur).
    const n = Math.min(THUMB_IMAGES, grid.count);
    const part: SampleGrid = { ...grid, count: n, ink: grid.ink.subarray(0, n * grid.width * grid.height) };
    const dpr = Math.max(1, Math.round(window.devicePixelRatio || 1));
    const layout = gridLayout(n, grid.width, grid.height, dpr, dpr, Math.ceil(Math.sqrt(n)));
    const thumb = h('canvas', { class: 'gan-thumb-canvas' });
    thumb.width = layout.width;
    thumb.height = layout.height;
    thumb.style.width = `${layout.width / dpr}px`;
    thumb.style.height = `${layout.height / dpr}px`;
    const g = thumb.getContext('2d');
    if (g) {
      const image = g.createImageData(layout.width, layout.height);
      paintGrid(part, layout, image.data);
      g.putImageData(image, 0, 0);
    }
    return h(
      'button',
      {
        class: 'gan-thumb',
        testid: 'gan-thumb',
        title: `Show the grid of iteration ${grid.step.toLocaleString('en-US')}`,
        dataset: { step: String(grid.step) },
        attrs: { type: 'button', role: 'option' },
        on: { click: () => this.pin(grid.step) },
      },
      thumb,
      h('span', { class: 'gan-thumb-step', text: formatCount(grid.step) }),
    );
  }

  private renderSummary(): void {
    const r = this.run;
    const last = this.curves.last;
    const step = Math.max(r.step, last?.step ?? 0);
    setText(this.hud.iteration.value, `${formatCount(step)} / ${formatCount(r.steps)}`);
    this.hud.iteration.value.title = `${step.toLocaleString('en-US')} of ${r.steps.toLocaleString('en-US')} iterations`;
    const sps = isActive(r) ? (last?.sps ?? r.sps) : null;
    setText(this.hud.its.value, sps === null || sps === undefined ? '—' : sps < 100 ? `${formatNumber(sps, 3)}/s` : formatRate(sps));
    const stat = (k: string) => last?.stats[k];
    setText(this.hud.dLoss.value, formatNumber(stat('dLoss'), 3));
    setText(this.hud.gLoss.value, formatNumber(stat('gLoss'), 3));
    const real = stat('dAccReal');
    const fake = stat('dAccFake');
    setText(this.hud.dAcc.value, real === undefined || fake === undefined ? '—' : `${formatNumber(real, 2)} · ${formatNumber(fake, 2)}`);
    const meta = statusMeta(r.status);
    setText(this.hud.status.value, meta.label);
    this.hud.status.value.style.color = meta.color;
    this.renderMessage();
    if (this.shown) this.renderCaption(this.shown);
  }
}

registerRunView('gan', (ctx, run) => new GanView(ctx, run));

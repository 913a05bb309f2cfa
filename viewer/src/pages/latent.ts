/**
 * The GAN latent explorer (`#/latent/<runId>?seed=<n>`): a GAN run's generator, loaded in the lab's Layers
 * format from the server (API.modelFile) and run in the page on WebGPU or wasm (net/tf_runtime.ts; the badge
 * says which, "software" for an emulated adapter such as SwiftShader).
 *
 *   Samples        a 4×4 grid from fresh latent vectors of seed <n> (the same vectors loadGenerator(run).sample(16, <n>)
 *                  draws); "New samples" moves to the next seed; clicking a sample picks it as A or B
 *   Directions     sliders moving A along the latent directions along which the generated images vary most
 *                  (model/latent.ts principalDirections), in latent standard deviations
 *   Interpolation  nine images from A to B (spherical for a Gaussian latent, straight for a uniform one)
 *
 * Latent size, distribution and pixel range come from the generator's lab.json. Images are drawn like the
 * run view's sample grid (model/gan_grid.ts): ink dark on white, whole device pixels per image pixel.
 */
import './latent.css';
import { API, type ModelDir } from '../../../protocol/protocol.js';
import type { Page } from '../core/app.js';
import { hooks, type LatentHook } from '../core/hooks.js';
import { replaceRoute } from '../core/nav.js';
import { fitScale, gridLayout, paintGrid, pixelUnder, cellOrigin, type GridLayout } from '../model/gan_grid.js';
import { interpolationPath, moveAlong, principalDirections, readGeneratorMeta, sampleLatents, toUnit, unitToInk, type GeneratorMeta, type LatentDirections } from '../model/latent.js';
import type { Route } from '../model/routes.js';
import { ApiError, fetchJson } from '../net/api.js';
import { tfRuntime, loadLayersModel, type LayersModel, type TfRuntime } from '../net/tf_runtime.js';
import { h, setText } from '../ui/dom.js';

type LatentRoute = Extract<Route, { page: 'latent' }>;

/** Samples in the grid (4×4). */
const GRID_SAMPLES = 16;
/** Images in the interpolation strip, both ends included. */
const STRIP_IMAGES = 9;
/** Slider directions. */
const DIRECTIONS = 5;
/** Samples the directions are computed from, and their seed (fixed: the sliders mean the same on every visit). */
const DIRECTION_SAMPLES = 256;
const DIRECTION_SEED = 0;
/** Slider range, latent standard deviations. */
const SLIDER_MAX = 3;
const DEFAULT_SEED = 1;
const GAP_CSS = 4;
const PICK_COLORS = { a: [88, 166, 255], b: [240, 136, 62] } as const;

type CanvasName = 'grid' | 'edited' | 'strip';

interface Drawn {
  canvas: HTMLCanvasElement;
  layout: GridLayout;
  count: number;
}

function noLatentHook(): LatentHook {
  return {
    status: 'loading',
    error: null,
    runtime: null,
    meta: null,
    imageSize: null,
    seed: DEFAULT_SEED,
    latents: [],
    images: [],
    a: 0,
    b: 1,
    directions: [],
    explained: [],
    amounts: [],
    edited: null,
    interpolation: { latents: [], images: [] },
    renders: 0,
    pointOf(): [number, number] {
      throw new Error('no latent explorer images drawn yet');
    },
    pixelAt(): [number, number, number] {
      throw new Error('no latent explorer images drawn yet');
    },
  };
}

export class LatentPage implements Page {
  readonly el: HTMLElement;
  private readonly runId: string;
  private seed: number;
  private readonly hook = noLatentHook();
  private readonly status: HTMLElement;
  private readonly subtitle: HTMLElement;
  private readonly badge: HTMLElement;
  private readonly body: HTMLElement;
  private readonly seedInput: HTMLInputElement;
  private readonly newBtn: HTMLButtonElement;
  private readonly pickText: HTMLElement;
  private readonly gridFrame: HTMLElement;
  private readonly gridCanvas: HTMLCanvasElement;
  private readonly editedCanvas: HTMLCanvasElement;
  private readonly stripCanvas: HTMLCanvasElement;
  private readonly stripFrame: HTMLElement;
  private readonly sliderList: HTMLElement;
  private readonly directionsNote: HTMLElement;
  private readonly stripNote: HTMLElement;
  private readonly info: HTMLElement;
  private sliders: HTMLInputElement[] = [];
  private sliderValues: HTMLElement[] = [];
  private readonly observer: ResizeObserver;
  private destroyed = false;
  private runtime: TfRuntime | null = null;
  private model: LayersModel | null = null;
  private meta: GeneratorMeta | null = null;
  private imageSize: { width: number; height: number } | null = null;
  private latents: Float32Array = new Float32Array(0);
  private images: Float32Array = new Float32Array(0);
  private directions: LatentDirections | null = null;
  private amounts: number[] = new Array(DIRECTIONS).fill(0);
  private a = 0;
  private b = 1;
  /** Which of A and B the next click picks. */
  private picking: 'a' | 'b' = 'a';
  private edited: { latent: Float32Array; image: Float32Array } | null = null;
  private strip: { latents: Float32Array[]; images: Float32Array } | null = null;
  private readonly drawn: Partial<Record<CanvasName, Drawn>> = {};
  /** Work is serialised (one tfjs engine); each kind keeps only its newest request. */
  private queue: Promise<void> = Promise.resolve();
  private readonly pending = new Set<'grid' | 'edited' | 'strip'>();
  private drawPending = 0;

  constructor(route: LatentRoute) {
    this.runId = route.runId;
    this.seed = route.seed ?? DEFAULT_SEED;
    document.title = `Latent explorer — ${route.runId} — RL Lab`;
    hooks.latent = this.hook;
    this.hook.seed = this.seed;

    this.subtitle = h('div', { class: 'page-subtitle', testid: 'latent-subtitle', text: route.runId });
    this.badge = h('span', { class: 'latent-badge', testid: 'latent-backend', text: 'starting…', title: 'Where the generator runs in this page' });
    const back = h('a', { class: 'btn btn-small', attrs: { href: `#run=${encodeURIComponent(route.runId)}` }, text: 'Run' });
    this.status = h('div', { class: 'page-message', testid: 'latent-status' });

    this.seedInput = h('input', {
      class: 'latent-seed',
      testid: 'latent-seed',
      attrs: { type: 'number', min: '0', step: '1', value: String(this.seed), inputmode: 'numeric', 'aria-label': 'Seed of the latent vectors' },
      on: { change: () => this.seedChanged() },
    });
    this.newBtn = h('button', { class: 'btn btn-primary btn-small', testid: 'latent-new', text: 'New samples', title: 'Draw 16 fresh latent vectors (the next seed)', attrs: { type: 'button' }, on: { click: () => this.setSeed(this.seed + 1) } });
    this.pickText = h('span', { class: 'latent-pick', testid: 'latent-pick' });
    this.gridCanvas = h('canvas', { class: 'latent-canvas', testid: 'latent-grid', attrs: { role: 'img', 'aria-label': 'Samples from the generator; click one to pick it as A or B' }, on: { click: (e) => this.gridClicked(e) } });
    this.gridFrame = h('div', { class: 'latent-frame latent-grid-frame' }, this.gridCanvas);
    const samplesCard = h(
      'div',
      { class: 'panel latent-card latent-samples' },
      h('div', { class: 'latent-card-head' }, h('h3', { text: 'Samples' }), h('label', { class: 'latent-seed-label' }, h('span', { text: 'seed' }), this.seedInput), this.newBtn),
      this.gridFrame,
      this.pickText,
    );

    this.editedCanvas = h('canvas', { class: 'latent-canvas', testid: 'latent-edited', attrs: { role: 'img', 'aria-label': 'Sample A, and A moved along the directions' } });
    this.sliderList = h('div', { class: 'latent-sliders' });
    this.directionsNote = h('p', { class: 'latent-note', testid: 'latent-directions-note', text: 'Computing the directions…' });
    const reset = h('button', { class: 'btn btn-small', testid: 'latent-reset', text: 'Reset', attrs: { type: 'button' }, on: { click: () => this.resetSliders() } });
    const directionsCard = h(
      'div',
      { class: 'panel latent-card latent-directions' },
      h('div', { class: 'latent-card-head' }, h('h3', { text: 'Move A along latent directions' }), reset),
      h('div', { class: 'latent-edit-row' }, h('div', { class: 'latent-frame latent-edited-frame' }, this.editedCanvas), this.sliderList),
      this.directionsNote,
    );

    this.stripCanvas = h('canvas', { class: 'latent-canvas', testid: 'latent-strip', attrs: { role: 'img', 'aria-label': 'Interpolation from A to B' } });
    this.stripFrame = h('div', { class: 'latent-frame latent-strip-frame' }, this.stripCanvas);
    this.stripNote = h('p', { class: 'latent-note', testid: 'latent-strip-note' });
    const stripCard = h('div', { class: 'panel latent-card latent-interp' }, h('div', { class: 'latent-card-head' }, h('h3', { text: 'Interpolation A → B' })), this.stripFrame, this.stripNote);
    this.info = h('p', { class: 'latent-note latent-info', testid: 'latent-info' });

    this.body = h('div', { class: 'latent-body' }, samplesCard, h('div', { class: 'latent-side' }, directionsCard, stripCard), this.info);
    this.body.hidden = true;
    this.el = h(
      'section',
      { class: 'page latent-page', testid: 'page-latent' },
      h('header', { class: 'page-header' }, h('div', { class: 'page-heading' }, h('h1', { class: 'page-title', text: 'Latent explorer' }), this.subtitle), this.badge, back),
      this.status,
      this.body,
    );
    this.showStatus('Loading the generator…', `Fetching ${route.runId}'s generator and starting TensorFlow.js in this page.`);
    this.hook.pointOf = (name, k, px, py) => this.pointOf(name, k, px, py);
    this.hook.pixelAt = (name, x, y) => this.pixelAt(name, x, y);
    this.observer = new ResizeObserver(() => this.scheduleDraw());
    for (const f of [this.gridFrame, this.stripFrame]) this.observer.observe(f);
    void this.start();
  }

  update(route: Route): boolean {
    if (route.page !== 'latent' || route.runId !== this.runId) return false;
    const seed = route.seed ?? DEFAULT_SEED;
    if (seed !== this.seed) {
      this.seed = seed;
      this.seedInput.value = String(seed);
      if (this.model) this.request('grid');
    }
    return true;
  }

  destroy(): void {
    this.destroyed = true;
    this.observer.disconnect();
    if (this.drawPending) cancelAnimationFrame(this.drawPending);
    // The model's weights leave the GPU (or the wasm heap) once any queued work is done.
    void this.queue.then(() => this.model?.dispose());
    if (hooks.latent === this.hook) hooks.latent = null;
    this.el.remove();
  }

  // -------------------------------------------------------------------------------------------------
  // Loading

  private async start(): Promise<void> {
    try {
      const { model: dir, meta } = await this.findGenerator();
      this.meta = meta;
      this.hook.meta = meta;
      this.runtime = await tfRuntime();
      this.hook.runtime = this.runtime.info;
      this.renderBadge();
      if (this.destroyed) return;
      const model = await loadLayersModel(this.runtime, API.modelFile(this.runId, dir, 'model.json').replace(/\/model\.json$/, ''));
      if (this.destroyed) return void model.dispose();
      const inShape = model.inputs[0]!.shape;
      const outShape = model.outputs[0]!.shape;
      if (inShape[1] !== meta.latentDim) throw new Error(`the generator takes ${inShape[1]} inputs, but its lab.json says latentDim ${meta.latentDim}`);
      // [null, height, width, 1] for images; [null, pixels] would be a flat square.
      const height = outShape.length >= 3 ? Number(outShape[1]) : Math.round(Math.sqrt(Number(outShape[1])));
      const width = outShape.length >= 3 ? Number(outShape[2]) : height;
      if (outShape.length >= 4 && outShape[3] !== 1) throw new Error(`the generator makes ${outShape[3]}-channel images; the explorer draws grey ones`);
      this.model = model;
      this.imageSize = { width, height };
      this.hook.imageSize = { width, height };
      this.renderInfo(dir);
      this.body.hidden = false;
      this.status.hidden = true;
      this.renderSliders();
      this.request('grid');
      this.queue = this.queue.then(() => this.computeDirections());
    } catch (err) {
      this.fail(err);
    }
  }

  /** The generator `lab gan eval` and loadGenerator(run) use: the server's `generator` (final, else the latest checkpoint's). */
  private async findGenerator(): Promise<{ model: ModelDir; meta: GeneratorMeta }> {
    try {
      return { model: 'generator', meta: readGeneratorMeta(await fetchJson<unknown>(API.modelFile(this.runId, 'generator', 'lab.json'))) };
    } catch (err) {
      if (err instanceof ApiError && err.status === 404) throw new Error(`${this.runId} has no generator yet (a GAN run writes one in each checkpoint and at its end): ${err.message}`);
      throw err;
    }
  }

  private fail(err: unknown): void {
    const message = err instanceof Error ? err.message : String(err);
    this.hook.status = 'error';
    this.hook.error = message;
    this.body.hidden = true;
    this.status.hidden = false;
    this.status.classList.add('error');
    this.showStatus('The generator cannot run here', message);
    console.warn(`latent explorer: ${message}`);
  }

  private showStatus(title: string, text: string): void {
    this.status.replaceChildren(h('div', { class: 'page-message-title', text: title }), h('div', { class: 'page-message-text', testid: 'latent-status-text', text }));
  }

  private renderBadge(): void {
    const info = this.runtime!.info;
    setText(this.badge, info.label);
    this.badge.dataset.backend = info.backend;
    this.badge.dataset.software = String(info.software);
    this.badge.title = info.adapter ? `${info.label}: ${info.adapter} (${info.reason})` : `${info.label}: ${info.reason}`;
  }

  private renderInfo(dir: ModelDir): void {
    const m = this.meta!;
    const what = [m.category, m.preset ? `${m.preset} preset` : null, m.iteration !== null ? `iteration ${m.iteration.toLocaleString('en-US')}` : null].filter(Boolean).join(' · ');
    const weights = dir === 'generator-ema' || m.ema !== null ? `weight average${m.ema !== null ? ` (decay ${m.ema})` : ''}` : 'generator weights';
    setText(this.subtitle, `${this.runId} · ${what}${what ? ' · ' : ''}${weights}`);
    const dist = m.latentDistribution === 'normal' ? 'standard normal' : 'uniform in [−1, 1]';
    const range = m.pixelRange === '-1,1' ? 'in [−1, 1] (tanh)' : 'in [0, 1]';
    const { width, height } = this.imageSize!;
    setText(
      this.info,
      `Latent: ${m.latentDim} values, ${dist} (from the generator's lab.json). Images: ${width}×${height} grey, generator output ${range} drawn as ink on white like the run's sample grids. ` +
        `Seed s gives the latent vectors the lab draws for seed s (loadGenerator(run).sample(n, s) in gan/train.ts). Running on ${this.runtime!.info.label}${this.runtime!.info.adapter ? ` (${this.runtime!.info.adapter})` : ''}.`,
    );
    const interp = m.latentDistribution === 'normal' ? 'Spherical interpolation: a Gaussian latent\'s vectors lie near a sphere of radius √dim, and a straight line between two would cut through its sparse middle.' : 'Straight-line interpolation: it stays inside the uniform latent\'s cube.';
    setText(this.stripNote, interp);
  }

  // -------------------------------------------------------------------------------------------------
  // Generating

  /** Runs the generator on n latent vectors (n×latentDim): images as [0, 1] floats (0 background, 1 ink). */
  private async generate(latents: Float32Array): Promise<Float32Array> {
    const { tf } = this.runtime!;
    const model = this.model!;
    const dim = this.meta!.latentDim;
    const out = tf.tidy(() => model.predict(tf.tensor2d(latents, [latents.length / dim, dim])) as ReturnType<typeof tf.tensor>);
    try {
      return toUnit((await out.data()) as Float32Array, this.meta!.pixelRange);
    } finally {
      out.dispose();
    }
  }

  /** Queues (re)generation of a part; a part already waiting is not queued twice, and works from the newest state. */
  private request(part: 'grid' | 'edited' | 'strip'): void {
    if (this.pending.has(part)) return;
    this.pending.add(part);
    this.queue = this.queue
      .then(async () => {
        this.pending.delete(part);
        if (this.destroyed || !this.model) return;
        if (part === 'grid') await this.makeGrid();
        else if (part === 'edited') await this.makeEdited();
        else await this.makeStrip();
      })
      .catch((err: unknown) => this.fail(err));
  }

  private async makeGrid(): Promise<void> {
    const m = this.meta!;
    const seed = this.seed;
    const latents = sampleLatents(seed, GRID_SAMPLES, m.latentDim, m.latentDistribution);
    const images = await this.generate(latents);
    if (seed !== this.seed) return;
    this.latents = latents;
    this.images = images;
    this.hook.seed = seed;
    this.hook.latents = rows(latents, m.latentDim);
    this.hook.images = rows(images, this.pixels());
    this.hook.status = 'ready';
    this.renderPick();
    this.scheduleDraw();
    this.request('edited');
    this.request('strip');
  }

  private latentOf(k: number): Float32Array {
    const dim = this.meta!.latentDim;
    return this.latents.slice(k * dim, (k + 1) * dim);
  }

  private async makeEdited(): Promise<void> {
    if (!this.latents.length) return;
    const m = this.meta!;
    const base = this.latentOf(this.a);
    const moved = this.directions ? moveAlong(base, this.directions.directions, this.amounts, m.latentDistribution) : base;
    const image = await this.generate(moved);
    this.edited = { latent: moved, image };
    this.hook.amounts = this.amounts.slice();
    this.hook.edited = { latent: Array.from(moved), image: Array.from(image) };
    this.scheduleDraw();
  }

  private async makeStrip(): Promise<void> {
    if (!this.latents.length) return;
    const m = this.meta!;
    const path = interpolationPath(this.latentOf(this.a), this.latentOf(this.b), STRIP_IMAGES, m.latentDistribution);
    const flat = new Float32Array(path.length * m.latentDim);
    path.forEach((z, i) => flat.set(z, i * m.latentDim));
    const images = await this.generate(flat);
    this.strip = { latents: path, images };
    this.hook.interpolation = { latents: path.map((z) => Array.from(z)), images: rows(images, this.pixels()) };
    this.scheduleDraw();
  }

  private async computeDirections(): Promise<void> {
    if (this.destroyed || !this.model) return;
    const m = this.meta!;
    const latents = sampleLatents(DIRECTION_SEED, DIRECTION_SAMPLES, m.latentDim, m.latentDistribution);
    // In chunks, so the page stays responsive on a slow backend.
    const pixels = this.pixels();
    const images = new Float32Array(DIRECTION_SAMPLES * pixels);
    for (let i = 0; i < DIRECTION_SAMPLES; i += 64) {
      images.set(await this.generate(latents.subarray(i * m.latentDim, (i + 64) * m.latentDim)), i * pixels);
      if (this.destroyed) return;
    }
    this.directions = principalDirections(latents, images, DIRECTION_SAMPLES, m.latentDim, DIRECTIONS);
    this.hook.directions = this.directions.directions.map((d) => Array.from(d));
    this.hook.explained = this.directions.explained.slice();
    this.renderSliders();
    const unit = m.latentDistribution === 'normal' ? 'standard deviations of the latent (each value is N(0, 1))' : 'standard deviations of the latent (1/√3 for uniform values; moves are clipped to [−1, 1])';
    setText(
      this.directionsNote,
      `Direction k is the latent direction along which the generated images change most after directions 1…k−1: the principal components of ${DIRECTION_SAMPLES} generated images (seed ${DIRECTION_SEED}), each regressed onto the latent vectors, made orthonormal. ` +
        `The percentage is that component's share of the images' variance; + adds ink on average. Slider units: ${unit}.`,
    );
    this.request('edited');
  }

  private pixels(): number {
    return this.imageSize!.width * this.imageSize!.height;
  }

  // -------------------------------------------------------------------------------------------------
  // Controls

  private seedChanged(): void {
    const v = Number(this.seedInput.value);
    if (!Number.isSafeInteger(v) || v < 0) {
      this.seedInput.value = String(this.seed);
      return;
    }
    this.setSeed(v);
  }

  private setSeed(seed: number): void {
    replaceRoute({ page: 'latent', runId: this.runId, seed });
  }

  private gridClicked(e: MouseEvent): void {
    const d = this.drawn.grid;
    if (!d) return;
    const rect = this.gridCanvas.getBoundingClientRect();
    const dpr = this.gridCanvas.width / Math.max(1, rect.width);
    const hit = pixelUnder(d.layout, d.count, (e.clientX - rect.left) * dpr, (e.clientY - rect.top) * dpr);
    if (hit) this.pick(hit.k);
  }

  /** Picks sample k as A or B (alternately); A and B stay distinct. */
  private pick(k: number): void {
    if (this.picking === 'a') {
      if (k === this.b) this.b = this.a;
      this.a = k;
      this.picking = 'b';
      this.request('edited');
    } else {
      if (k === this.a) this.a = this.b;
      this.b = k;
      this.picking = 'a';
    }
    this.hook.a = this.a;
    this.hook.b = this.b;
    this.renderPick();
    this.request('strip');
    this.scheduleDraw();
  }

  private renderPick(): void {
    setText(this.pickText, `A = sample ${this.a + 1} (blue), B = sample ${this.b + 1} (orange). A click picks ${this.picking === 'a' ? 'A' : 'B'} next.`);
  }

  private renderSliders(): void {
    const d = this.directions;
    this.sliders = [];
    this.sliderValues = [];
    const rowsEl: HTMLElement[] = [];
    for (let k = 0; k < DIRECTIONS; k++) {
      const value = h('span', { class: 'latent-slider-value', text: formatAmount(this.amounts[k] ?? 0) });
      const input = h('input', {
        class: 'latent-slider',
        testid: `latent-slider-${k}`,
        attrs: { type: 'range', min: String(-SLIDER_MAX), max: String(SLIDER_MAX), step: '0.1', value: String(this.amounts[k] ?? 0), 'aria-label': `Direction ${k + 1}` },
        on: { input: () => this.sliderMoved(k) },
      });
      if (!d || k >= d.directions.length) input.disabled = true;
      const share = d && k < d.explained.length ? `${(100 * d.explained[k]!).toFixed(1)}%` : '…';
      rowsEl.push(h('label', { class: 'latent-slider-row' }, h('span', { class: 'latent-slider-name', text: `${k + 1}`, title: `Direction ${k + 1}` }), input, value, h('span', { class: 'latent-slider-share', text: share, title: 'Share of the generated images\' variance along this direction' })));
      this.sliders.push(input);
      this.sliderValues.push(value);
    }
    this.sliderList.replaceChildren(...rowsEl);
  }

  private sliderMoved(k: number): void {
    const v = Number(this.sliders[k]!.value);
    this.amounts[k] = Number.isFinite(v) ? v : 0;
    setText(this.sliderValues[k]!, formatAmount(this.amounts[k]!));
    this.request('edited');
  }

  private resetSliders(): void {
    this.amounts = new Array(DIRECTIONS).fill(0);
    this.sliders.forEach((s, k) => {
      s.value = '0';
      setText(this.sliderValues[k]!, formatAmount(0));
    });
    this.request('edited');
  }

  // -------------------------------------------------------------------------------------------------
  // Drawing

  private scheduleDraw(): void {
    if (this.drawPending || this.destroyed) return;
    this.drawPending = requestAnimationFrame(() => {
      this.drawPending = 0;
      this.draw();
    });
  }

  private draw(): void {
    if (!this.imageSize || !this.images.length) return;
    const { width, height } = this.imageSize;
    const dpr = Math.max(1, window.devicePixelRatio || 1);
    const gap = Math.max(1, Math.round(GAP_CSS * dpr));
    const avail = (frame: HTMLElement) => Math.max(1, frame.clientWidth - 2) * dpr;
    // The grid: 4 columns, as large as the frame allows (at most 8 device pixels per image pixel per CSS px).
    const gridCols = Math.ceil(Math.sqrt(GRID_SAMPLES));
    const gridScale = Math.min(8 * dpr, fitScale(GRID_SAMPLES, width, height, avail(this.gridFrame), Infinity, gap, gridCols));
    this.paint('grid', this.gridCanvas, this.images, GRID_SAMPLES, gridScale, gap, gridCols, dpr);
    this.outlinePicks(dpr);
    if (this.edited) {
      const both = new Float32Array(2 * this.pixels());
      both.set(this.images.subarray(this.a * this.pixels(), (this.a + 1) * this.pixels()));
      both.set(this.edited.image, this.pixels());
      this.paint('edited', this.editedCanvas, both, 2, Math.max(1, Math.round(5 * dpr)), gap, 2, dpr);
    }
    if (this.strip) {
      // One row when the images get at least 2 CSS px per pixel; else two or three rows.
      const frameW = avail(this.stripFrame);
      let cols = STRIP_IMAGES;
      for (const c of [STRIP_IMAGES, Math.ceil(STRIP_IMAGES / 2), Math.ceil(STRIP_IMAGES / 3)]) {
        cols = c;
        if (fitScale(STRIP_IMAGES, width, height, frameW, Infinity, gap, c) >= 2 * dpr) break;
      }
      const scale = Math.min(6 * dpr, fitScale(STRIP_IMAGES, width, height, frameW, Infinity, gap, cols));
      this.paint('strip', this.stripCanvas, this.strip.images, STRIP_IMAGES, scale, gap, cols, dpr);
    }
    this.hook.renders++;
  }

  private paint(name: CanvasName, canvas: HTMLCanvasElement, unit: Float32Array, count: number, scale: number, gap: number, columns: number, dpr: number): void {
    const { width, height } = this.imageSize!;
    const layout = gridLayout(count, width, height, scale, gap, columns);
    if (canvas.width !== layout.width || canvas.height !== layout.height) {
      canvas.width = layout.width;
      canvas.height = layout.height;
    }
    canvas.style.width = `${layout.width / dpr}px`;
    canvas.style.height = `${layout.height / dpr}px`;
    const g = canvas.getContext('2d');
    if (!g) return;
    const image = g.createImageData(layout.width, layout.height);
    paintGrid({ step: 0, count, width, height, ink: unitToInk(unit) }, layout, image.data);
    g.putImageData(image, 0, 0);
    this.drawn[name] = { canvas, layout, count };
  }

  /** Frames A and B in the grid's gutters (blue, orange), never over the images' pixels. */
  private outlinePicks(dpr: number): void {
    const d = this.drawn.grid;
    const g = this.gridCanvas.getContext('2d');
    if (!d || !g) return;
    const line = Math.max(1, Math.min(d.layout.gap, Math.round(2 * dpr)));
    for (const [k, color] of [
      [this.a, PICK_COLORS.a],
      [this.b, PICK_COLORS.b],
    ] as const) {
      const [x, y] = cellOrigin(d.layout, k);
      g.fillStyle = `rgb(${color.join(' ')})`;
      const w = d.layout.cellWidth;
      const hgt = d.layout.cellHeight;
      g.fillRect(x - line, y - line, w + 2 * line, line);
      g.fillRect(x - line, y + hgt, w + 2 * line, line);
      g.fillRect(x - line, y, line, hgt);
      g.fillRect(x + w, y, line, hgt);
    }
  }

  private pointOf(name: CanvasName, k: number, px: number, py: number): [number, number] {
    const d = this.drawn[name];
    if (!d) throw new Error(`no ${name} images drawn yet`);
    const [ox, oy] = cellOrigin(d.layout, k);
    const dpr = d.canvas.width / Math.max(1, d.canvas.getBoundingClientRect().width);
    return [(ox + (px + 0.5) * d.layout.scale) / dpr, (oy + (py + 0.5) * d.layout.scale) / dpr];
  }

  private pixelAt(name: CanvasName, x: number, y: number): [number, number, number] {
    const d = this.drawn[name];
    const g = d?.canvas.getContext('2d');
    if (!d || !g) throw new Error(`no ${name} images drawn yet`);
    const dpr = d.canvas.width / Math.max(1, d.canvas.getBoundingClientRect().width);
    const p = g.getImageData(Math.floor(x * dpr), Math.floor(y * dpr), 1, 1).data;
    return [p[0]!, p[1]!, p[2]!];
  }
}

function rows(flat: Float32Array, width: number): number[][] {
  const out: number[][] = [];
  for (let i = 0; i < flat.length; i += width) out.push(Array.from(flat.subarray(i, i + width)));
  return out;
}

function formatAmount(v: number): string {
  return `${v > 0 ? '+' : v < 0 ? '−' : ''}${Math.abs(v).toFixed(1)}`;
}

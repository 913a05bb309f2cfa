/**
 * The "Play in browser" view, shared by the viewer's Play page (#/play/<runId>, policies fetched from the lab
 * server) and by `lab export --html` files (policies inline): a trained policy plays its env in the page, drawn
 * on the viewer's Pixi stage with the same frame renderers as the live view.
 *
 * Controls: play/pause, one step, speed (real time … 16×, or as fast as the page can), the seed of the first
 * episode with a reset, final or best policy; a HUD with episode, step, return and where the network runs
 * (WebGPU with its adapter, "software" for a fallback adapter such as SwiftShader, or wasm); the episodes played
 * so far with how each ended. Tests read the data-* attributes of these elements.
 */
import './play.css';
import { h, icon, ICONS, setText } from '../ui/dom.js';
import type { Stage } from '../stage/stage.js';
import type { TfRuntime } from '../net/tf_runtime.js';
import { LoadedPolicy, PlaySession, type PolicyChoice, type PolicyFiles } from './session.js';

export interface PlaySource {
  /** A line under the title: the run, or the exported file's origin. */
  subtitle: string;
  /** The policies there are (final first). */
  available: PolicyChoice[];
  /** The policy shown first. */
  initial: PolicyChoice;
  /** Loads one policy's files. */
  files(choice: PolicyChoice): Promise<PolicyFiles>;
  /** Where that policy is, for error messages. */
  where(choice: PolicyChoice): string;
}

/** Speeds: multiples of the env's real-time fps, or 'max' (as many steps per animation frame as ~12 ms allow). */
type PlaySpeed = 1 | 2 | 4 | 16 | 'max';
const SPEEDS: readonly PlaySpeed[] = [1, 2, 4, 16, 'max'];
/** Time a 'max' tick may spend stepping before it lets the page draw. */
const MAX_TICK_MS = 12;
/** Hold on an episode's final frame before the next episode (ms, at real time; shorter when faster). */
const END_HOLD_MS = 1200;

const POLICY_LABELS: Record<PolicyChoice, string> = { policy: 'Final policy', best_policy: 'Best policy' };

export class PlayView {
  readonly el: HTMLElement;
  private readonly stageEl: HTMLElement;
  private readonly overlay: HTMLElement;
  private readonly overlayTitle: HTMLElement;
  private readonly overlayText: HTMLElement;
  private readonly title: HTMLElement;
  private readonly playBtn: HTMLButtonElement;
  private readonly stepBtn: HTMLButtonElement;
  private readonly speedSelect: HTMLSelectElement;
  private readonly seedInput: HTMLInputElement;
  private readonly resetBtn: HTMLButtonElement;
  private readonly policySelect: HTMLSelectElement;
  private readonly hud: Record<'episode' | 'step' | 'ret' | 'backend', HTMLElement>;
  private readonly results: HTMLOListElement;
  /** Under the backend: the WebGPU adapter's name, or why wasm. */
  private readonly adapterLine: HTMLElement;
  private readonly status: HTMLElement;
  private stage: Stage | null = null;
  /** The animation-frame loop that paces the steps (its own, so the env plays even where the stage cannot draw). */
  private raf = 0;
  private lastFrameAt: number | null = null;
  /** Set when the stage could not start: shown over it, while the HUD and episode list still follow the play. */
  private stageError: string | null = null;
  private runtime: TfRuntime | null = null;
  private policy: LoadedPolicy | null = null;
  private readonly policies = new Map<PolicyChoice, Promise<LoadedPolicy>>();
  private session: PlaySession | null = null;
  private choice: PolicyChoice;
  private playing = true;
  private speed: PlaySpeed = 1;
  /** Steps owed to real time (fractional), advanced by the ticker. */
  private due = 0;
  private holdMs = 0;
  private busy = false;
  private destroyed = false;
  /** Bumped whenever the session is replaced: a step in flight for an older one is dropped. */
  private generation = 0;

  constructor(
    private readonly source: PlaySource,
    private readonly runtimeOf: () => Promise<TfRuntime>,
    stage: Promise<Stage>,
  ) {
    this.choice = source.initial;
    this.title = h('h1', { class: 'page-title', testid: 'play-title', text: 'Play in browser' });
    this.overlayTitle = h('div', { class: 'stage-message-title', text: 'Loading the policy…' });
    this.overlayText = h('div', { class: 'stage-message-text' });
    this.overlay = h('div', { class: 'stage-message visible busy', testid: 'play-message' }, h('div', { class: 'spinner' }), this.overlayTitle, this.overlayText);
    this.stageEl = h('div', { class: 'stage play-stage', testid: 'play-stage' }, this.overlay);

    this.playBtn = h('button', { class: 'btn btn-icon', testid: 'play-toggle', attrs: { type: 'button' }, on: { click: () => this.setPlaying(!this.playing) } });
    this.stepBtn = h('button', { class: 'btn btn-icon', testid: 'play-step-once', title: 'One step', attrs: { type: 'button', 'aria-label': 'One step' }, on: { click: () => void this.stepOnce() } }, icon(ICONS.step));
    this.speedSelect = h(
      'select',
      { class: 'select', testid: 'play-speed', attrs: { 'aria-label': 'Speed' }, on: { change: () => this.setSpeed(this.speedSelect.value) } },
      ...SPEEDS.map((s) => h('option', { attrs: { value: String(s) }, text: s === 1 ? 'Real time' : s === 'max' ? 'Fastest' : `${s}×` })),
    );
    this.seedInput = h('input', { class: 'input play-seed', testid: 'play-seed', attrs: { type: 'number', min: '0', step: '1', value: '0', 'aria-label': 'Seed of the first episode', inputmode: 'numeric' } });
    this.seedInput.addEventListener('keydown', (e) => {
      if (e.key === 'Enter') void this.restart();
    });
    this.resetBtn = h('button', { class: 'btn', testid: 'play-reset', title: 'Start again from the first episode with this seed', attrs: { type: 'button' }, on: { click: () => void this.restart() } }, 'Reset');
    this.policySelect = h(
      'select',
      { class: 'select', testid: 'play-policy', attrs: { 'aria-label': 'Policy' }, on: { change: () => void this.switchPolicy(this.policySelect.value as PolicyChoice) } },
      ...source.available.map((c) => h('option', { attrs: { value: c }, text: POLICY_LABELS[c] })),
    );
    this.policySelect.value = this.choice;
    if (source.available.length < 2) this.policySelect.disabled = true;
    const controls = h(
      'div',
      { class: 'playback play-controls' },
      this.playBtn,
      this.stepBtn,
      h('label', { class: 'speed' }, h('span', { class: 'speed-label', text: 'Speed' }), this.speedSelect),
      h('label', { class: 'speed' }, h('span', { class: 'speed-label', text: 'Seed' }), this.seedInput),
      this.resetBtn,
      this.policySelect,
    );
    const cell = (label: string, testid: string) => {
      const value = h('div', { class: 'hud-value', testid, text: '—' });
      return { root: h('div', { class: 'hud-cell' }, h('div', { class: 'hud-label', text: label }), value), value };
    };
    const cells = { episode: cell('EPISODE', 'play-episode'), step: cell('STEP', 'play-step'), ret: cell('RETURN', 'play-return'), backend: cell('RUNS ON', 'play-backend') };
    this.adapterLine = h('div', { class: 'play-adapter', testid: 'play-adapter' });
    cells.backend.root.append(this.adapterLine);
    this.hud = { episode: cells.episode.value, step: cells.step.value, ret: cells.ret.value, backend: cells.backend.value };
    this.status = h('div', { class: 'play-status', testid: 'play-status' });
    this.results = h('ol', { class: 'play-results', testid: 'play-results' });
    this.el = h(
      'section',
      { class: 'page play-page', testid: 'page-play' },
      h('header', { class: 'page-header' }, h('div', { class: 'page-heading' }, this.title, h('div', { class: 'page-subtitle', text: source.subtitle }))),
      h('div', { class: 'hud panel play-hud' }, ...Object.values(cells).map((c) => c.root)),
      h('div', { class: 'stage-card panel' }, this.stageEl, controls, this.status),
      h('div', { class: 'panel play-episodes' }, h('div', { class: 'section-head' }, h('h2', { text: 'Episodes' })), this.results),
    );
    this.renderPlayButton();
    this.setControlsEnabled(false);

    void stage.then(
      (s) => {
        if (this.destroyed) return;
        this.stage = s;
        s.clear();
        s.attach(this.stageEl);
        if (this.session?.frame) s.show(this.session.frame, 0);
      },
      (err: unknown) => {
        if (this.destroyed) return;
        this.stageError = err instanceof Error ? err.message : String(err);
        this.showMessage('The frames cannot be drawn here (no WebGL)', `${this.stageError}. The policy still plays: the step counter, return and episodes follow it.`, false);
      },
    );
    const loop = (now: number) => {
      if (this.destroyed) return;
      const dt = this.lastFrameAt === null ? 0 : Math.min(250, now - this.lastFrameAt);
      this.lastFrameAt = now;
      this.tick(dt);
      this.raf = requestAnimationFrame(loop);
    };
    this.raf = requestAnimationFrame(loop);
    void this.start();
  }

  destroy(): void {
    this.destroyed = true;
    this.generation++;
    cancelAnimationFrame(this.raf);
    if (this.stage) {
      this.stage.clear();
      this.stage.detach();
    }
    this.session?.close();
    for (const p of this.policies.values()) void p.then((l) => l.dispose(), () => undefined);
    this.el.remove();
  }

  // -------------------------------------------------------------------------------------------------

  private async start(): Promise<void> {
    try {
      this.runtime = await this.runtimeOf();
    } catch (err) {
      this.fail('TensorFlow.js could not start in this page', err);
      return;
    }
    const info = this.runtime.info;
    setText(this.hud.backend, info.backend === 'webgpu' ? `WebGPU${info.software ? ' (software)' : ''}` : 'wasm');
    this.hud.backend.title = `${info.adapter ? `${info.adapter}. ` : ''}${info.reason}`;
    this.hud.backend.dataset.backend = info.backend;
    this.hud.backend.dataset.architecture = info.architecture ?? '';
    this.hud.backend.dataset.software = String(info.software);
    this.hud.backend.dataset.adapter = info.adapter ?? '';
    setText(this.adapterLine, info.adapter ?? info.reason);
    this.adapterLine.title = info.reason;
    await this.switchPolicy(this.choice);
  }

  private loadPolicy(choice: PolicyChoice): Promise<LoadedPolicy> {
    let p = this.policies.get(choice);
    if (!p) {
      p = this.source.files(choice).then((files) => LoadedPolicy.load(this.runtime!, files, this.source.where(choice)));
      p.catch(() => this.policies.delete(choice));
      this.policies.set(choice, p);
    }
    return p;
  }

  private async switchPolicy(choice: PolicyChoice): Promise<void> {
    if (!this.runtime) return;
    this.choice = choice;
    this.policySelect.value = choice;
    this.setControlsEnabled(false);
    this.showMessage('Loading the policy…', '', true);
    try {
      this.policy = await this.loadPolicy(choice);
    } catch (err) {
      if (this.choice === choice) this.fail(`The ${POLICY_LABELS[choice].toLowerCase()} cannot be loaded`, err);
      return;
    }
    if (this.destroyed || this.choice !== choice) return;
    const meta = this.policy.lab.policy;
    setText(this.title, `${meta.envId} · ${meta.agent}${meta.preset ? ` (${meta.preset})` : ''}`);
    await this.restart();
  }

  /** A new session from the seed box: the first episode again. */
  private async restart(): Promise<void> {
    if (!this.policy) return;
    const seed = Number(this.seedInput.value);
    if (!Number.isSafeInteger(seed) || seed < 0) {
      this.seedInput.setCustomValidity('a non-negative integer');
      this.seedInput.reportValidity();
      setText(this.status, `The seed must be a non-negative integer, not “${this.seedInput.value}”.`);
      return;
    }
    this.seedInput.setCustomValidity('');
    this.generation++;
    this.session?.close();
    try {
      this.session = new PlaySession(this.policy, seed);
    } catch (err) {
      this.fail(`${this.policy.lab.policy.envId} cannot run in this page`, err);
      return;
    }
    this.results.replaceChildren();
    this.due = 0;
    this.holdMs = 0;
    this.busy = false;
    this.stage?.clear();
    this.session.reset();
    if (this.stageError === null) this.hideMessage();
    this.setControlsEnabled(true);
    this.render();
  }

  private tick(dtMs: number): void {
    const session = this.session;
    if (!session || !this.playing || this.busy) return;
    if (this.holdMs > 0) {
      this.holdMs -= dtMs;
      return;
    }
    if (this.speed === 'max') {
      void this.advance(Infinity);
      return;
    }
    // Real time × speed, at most a few steps behind (a slow step does not make the page race afterwards).
    this.due = Math.min(this.due + (dtMs / 1000) * session.fps * this.speed, 4 + this.speed);
    const whole = Math.floor(this.due);
    if (whole < 1) return;
    this.due -= whole;
    void this.advance(whole);
  }

  /** Up to `count` steps (Infinity: until MAX_TICK_MS pass), stopping at an episode's end; then draws. */
  private async advance(count: number): Promise<void> {
    const session = this.session;
    if (!session) return;
    const generation = this.generation;
    this.busy = true;
    const started = performance.now();
    try {
      for (let k = 0; k < count; k++) {
        await session.step();
        if (generation !== this.generation) return;
        if (session.episodeOver) {
          this.episodeEnded();
          break;
        }
        if (count === Infinity && performance.now() - started > MAX_TICK_MS) break;
      }
    } catch (err) {
      if (generation === this.generation) this.fail('The policy stopped', err);
      return;
    } finally {
      if (generation === this.generation) this.busy = false;
    }
    this.render();
  }

  private async stepOnce(): Promise<void> {
    if (this.busy || !this.session) return;
    this.setPlaying(false);
    this.holdMs = 0;
    await this.advance(1);
  }

  private episodeEnded(): void {
    const r = this.session!.results.at(-1)!;
    const li = h('li', {
      class: `play-result ${r.ended}`,
      testid: 'play-result',
      dataset: { episode: String(r.episode), seed: String(r.seed), return: String(r.return), length: String(r.length), ended: r.ended },
      text: `Episode ${r.episode} (seed ${r.seed}): return ${formatReturn(r.return)} in ${r.length} steps, ${r.ended === 'truncated' ? 'truncated by the time limit' : 'terminated'}`,
    });
    this.results.prepend(li);
    while (this.results.children.length > 50) this.results.lastElementChild!.remove();
    this.holdMs = this.speed === 'max' ? 150 : END_HOLD_MS / this.speed;
    this.due = 0;
  }

  private render(): void {
    const f = this.session?.frame;
    if (!f) return;
    const tween = this.speed === 1 ? Math.min(120, 750 / this.session!.fps) : 0;
    this.stage?.show(f, tween);
    setText(this.hud.episode, String(f.episode));
    setText(this.hud.step, String(f.episodeStep));
    setText(this.hud.ret, formatReturn(f.episodeReturn));
    this.hud.step.dataset.step = String(f.episodeStep);
    this.hud.ret.dataset.return = String(f.episodeReturn);
    const limit = this.session!.maxEpisodeSteps;
    const ended = f.terminated ? 'terminated' : f.truncated ? 'truncated' : '';
    this.status.dataset.ended = ended;
    setText(
      this.status,
      ended === 'truncated'
        ? `Episode ${f.episode}: truncated at step ${f.episodeStep} (the time limit), return ${formatReturn(f.episodeReturn)}.`
        : ended === 'terminated'
          ? `Episode ${f.episode}: terminated at step ${f.episodeStep}, return ${formatReturn(f.episodeReturn)}.`
          : `Episode ${f.episode}, seed ${this.session!.seed + f.episode - 1}${limit ? ` · time limit ${limit} steps` : ''} · ${this.playing ? 'playing' : 'paused'}`,
    );
  }

  private setPlaying(playing: boolean): void {
    this.playing = playing;
    this.renderPlayButton();
    this.render();
  }

  private setSpeed(value: string): void {
    const s = value === 'max' ? 'max' : (Number(value) as PlaySpeed);
    if (!SPEEDS.includes(s)) return;
    this.speed = s;
    this.due = 0;
  }

  private renderPlayButton(): void {
    this.playBtn.replaceChildren(icon(this.playing ? ICONS.pause : ICONS.play));
    this.playBtn.title = this.playing ? 'Pause' : 'Play';
    this.playBtn.setAttribute('aria-label', this.playBtn.title);
    this.playBtn.dataset.playing = String(this.playing);
  }

  private setControlsEnabled(on: boolean): void {
    for (const c of [this.playBtn, this.stepBtn, this.resetBtn, this.speedSelect, this.seedInput]) c.disabled = !on;
    this.policySelect.disabled = !on || this.source.available.length < 2;
  }

  private showMessage(title: string, text: string, busy: boolean): void {
    this.overlay.classList.add('visible');
    this.overlay.classList.toggle('busy', busy);
    setText(this.overlayTitle, title);
    setText(this.overlayText, text);
  }

  private hideMessage(): void {
    this.overlay.classList.remove('visible', 'busy');
  }

  private fail(title: string, err: unknown): void {
    if (this.destroyed) return;
    this.generation++;
    this.busy = false;
    this.setControlsEnabled(false);
    this.policySelect.disabled = this.source.available.length < 2;
    const message = err instanceof Error ? err.message : String(err);
    this.overlay.dataset.error = message;
    this.showMessage(title, message, false);
  }
}

/** Returns as the HUD prints them: integers as they are, others to two decimals. */
function formatReturn(v: number): string {
  return Number.isInteger(v) ? String(v) : v.toFixed(2);
}

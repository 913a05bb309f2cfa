/**
 * The replay player: one replay log (`#/replay/…`) or two side by side (`#/side-by-side?…`) on one shared
 * timeline. Each pane draws its episode on its own Pixi stage with the frame renderers of the live view;
 * the timeline runs to the longer episode, and the shorter one holds its final frame once it has ended.
 *
 * Controls: play/pause, single step back and forward, a scrubber over 0…steps, real time (the env's render
 * fps) to 16×; keys space, ←/→ (shift: 10 steps), Home/End.
 */
import type { ReplayDetail, StepFrame } from '../../../protocol/protocol.js';
import type { Page } from '../core/app.js';
import { emptyProbe, hooks, type ReplayPaneHook } from '../core/hooks.js';
import { recordRoute } from '../core/nav.js';
import { formatCount, formatNumber, formatReturn } from '../model/format.js';
import {
  endLabel,
  formatAction,
  panePosition,
  parseReplaySpeed,
  REPLAY_SPEEDS,
  ReplayClock,
  replayAgentLabel,
  replayStepFrames,
  returnsSoFar,
  stepInfo,
  timelineMax,
  type ReplaySpeed,
} from '../model/replays.js';
import { parseRoute, sameRef, type ReplayRef, type Route } from '../model/routes.js';
import { ApiError, fetchReplay } from '../net/api.js';
import { sharedStage } from '../stage/pool.js';
import type { Stage } from '../stage/stage.js';
import { h, icon, ICONS, setAttr, setText } from '../ui/dom.js';

type PlayerRoute = Extract<Route, { page: 'replay' | 'side-by-side' }>;

const STEP_BACK_ICON = ['M18 5.5v13l-9-6.5z', 'M8 5H5.5v14H8z'];
const PANE_NAMES = ['A', 'B'];

function refsOf(route: PlayerRoute): ReplayRef[] {
  return route.page === 'replay' ? [route.ref] : [route.a, route.b];
}

/** Plain numbers a test may parse ("12", "0.5"). */
function plain(v: number | null): string {
  if (v === null) return '—';
  if (Number.isInteger(v)) return String(v);
  return String(Number(v.toFixed(3)));
}

interface Cell {
  root: HTMLElement;
  value: HTMLElement;
}

function cell(label: string, cls = ''): Cell {
  const value = h('div', { class: 'hud-value', text: '—' });
  return { root: h('div', { class: `hud-cell ${cls}` }, h('div', { class: 'hud-label', text: label }), value), value };
}

/** One episode on screen: its stage, labels and readout. */
class Pane {
  private playing = false;
  private lastT: number | null = null;
  readonly el: HTMLElement;
  readonly stageEl: HTMLElement;
  detail: ReplayDetail | null = null;
  frames: StepFrame[] = [];
  returns: number[] = [];
  stage: Stage | null = null;
  error = '';
  readonly hook: ReplayPaneHook;
  private readonly overlay: HTMLElement;
  private readonly overlayTitle: HTMLElement;
  private readonly overlayText: HTMLElement;
  private readonly endBadge: HTMLElement;
  private readonly title: HTMLElement;
  private readonly sub: HTMLElement;
  private readonly liveReturn: HTMLElement;
  private readonly cells: Record<'step' | 'action' | 'reward' | 'ret' | 'status', Cell>;
  /** The frame index drawn last (-1: none). */
  drawnIndex = -1;

  constructor(
    readonly index: number,
    readonly ref: ReplayRef,
    readonly sideBySide: boolean,
  ) {
    this.overlayTitle = h('div', { class: 'stage-message-title', text: 'Loading the replay…' });
    this.overlayText = h('div', { class: 'stage-message-text' });
    this.overlay = h('div', { class: 'stage-message visible busy' }, h('div', { class: 'spinner' }), this.overlayTitle, this.overlayText);
    this.endBadge = h('div', { class: 'end-badge', testid: 'pane-ended', attrs: { hidden: '' } });
    this.stageEl = h('div', { class: 'stage replay-stage', testid: 'replay-stage', dataset: { pane: String(index) } }, this.endBadge, this.overlay);
    this.title = h('span', { class: 'pane-title', text: ref.runId });
    this.sub = h('span', { class: 'pane-sub', text: ref.name });
    this.liveReturn = h('span', { class: 'pane-return', testid: 'pane-return' });
    const head = h(
      'div',
      { class: 'pane-head' },
      sideBySide ? h('span', { class: `sel-chip sel-${index === 0 ? 'a' : 'b'}`, text: PANE_NAMES[index]! }) : null,
      h('div', { class: 'pane-names' }, this.title, this.sub),
      this.liveReturn,
    );
    this.cells = {
      step: cell('STEP'),
      action: cell('ACTION'),
      reward: cell('REWARD'),
      ret: cell('RETURN'),
      status: cell('STATUS', 'hud-status'),
    };
    const hud = h('div', { class: 'hud pane-hud', testid: 'pane-readout' }, ...Object.values(this.cells).map((c) => c.root));
    this.el = h('div', { class: 'pane panel', testid: 'replay-pane', dataset: { pane: String(index), runId: ref.runId, name: ref.name } }, head, this.stageEl, hud);
    const pane = this;
    this.hook = {
      runId: ref.runId,
      name: ref.name,
      step: -1,
      frame: null,
      probe: () => (pane.stage && pane.drawnIndex >= 0 ? pane.stage.probe() : emptyProbe()),
    };
  }

  get steps(): number {
    return this.detail?.steps.length ?? 0;
  }

  load(detail: ReplayDetail): void {
    this.detail = detail;
    this.frames = replayStepFrames(detail);
    this.returns = returnsSoFar(detail.steps);
    const s = detail.summary;
    setText(this.title, replayAgentLabel(s));
    const policy = s.mode === 'eval' ? `eval ${s.episode} @ ${formatCount(s.checkpointStep)} steps` : `training episode ${s.episode}`;
    setText(this.sub, `${s.runId} · ${policy}${s.seed !== null ? ` · seed ${s.seed}` : ''}`);
    this.sub.title = `${s.runId}/${s.name}`;
    this.showOverlay('', '', false);
  }

  fail(message: string): void {
    this.error = message;
    this.showOverlay('Could not load the replay', message, false);
    this.el.classList.add('pane-failed');
  }

  /** Draws the frame for shared time `t`; returns whether something new was drawn. */
  draw(t: number, tweenMs: number): boolean {
    const d = this.detail;
    if (!d || !this.stage) return false;
    const pos = panePosition(t, this.steps);
    const index = Math.min(pos.index, this.frames.length - 1);
    const raw = d.frames[index] ?? null;
    const frame = this.frames[index] ?? null;
    // A string frame (an `ansi` render) is drawn by the text renderer, as live (replayStepFrames made it a text frame).
    const changed = this.stage.show(frame, tweenMs) || index !== this.drawnIndex;
    if (this.stage.missingKind) this.showOverlay(`No renderer for “${this.stage.missingKind}” frames`, 'The readout below still follows the episode.', false);
    else if (raw === null) this.showOverlay('This replay has no frames', 'The readout below still follows the episode.', false);
    this.drawnIndex = index;
    this.hook.step = index;
    this.hook.frame = raw;
    this.renderReadout(t);
    return changed;
  }

  /** Whether the shared clock plays (the status cell says playing or paused until the episode ends). */
  setPlaying(playing: boolean): void {
    if (this.playing === playing) return;
    this.playing = playing;
    if (this.detail && this.lastT !== null) this.renderReadout(this.lastT);
  }

  private renderReadout(t: number): void {
    this.lastT = t;
    const d = this.detail!;
    const n = this.steps;
    const pos = panePosition(t, n);
    const info = stepInfo(d, pos.index, this.returns);
    setText(this.cells.step.value, `${info.k} / ${n}`);
    setText(this.cells.action.value, formatAction(info.action));
    setText(this.cells.reward.value, info.reward === null ? '—' : plain(info.reward));
    setText(this.cells.ret.value, plain(info.returnSoFar));
    setText(this.liveReturn, `return ${formatReturn(info.returnSoFar)}`);
    const end = endLabel(d.summary) || 'ended';
    const status = pos.ended ? end : this.playing ? 'playing' : 'paused';
    setText(this.cells.status.value, status);
    this.cells.status.root.classList.toggle('hud-ended', pos.ended);
    if (pos.ended) {
      setText(this.endBadge, this.sideBySide ? `ended at step ${n} · ${end}` : `${end} at step ${n}`);
      this.endBadge.removeAttribute('hidden');
    } else this.endBadge.setAttribute('hidden', '');
    this.el.classList.toggle('pane-holding', pos.holding);
  }

  private showOverlay(title: string, text: string, busy: boolean): void {
    this.overlay.classList.toggle('visible', title !== '');
    this.overlay.classList.toggle('busy', busy);
    setText(this.overlayTitle, title);
    setText(this.overlayText, text);
  }
}

export class ReplayPlayerPage implements Page {
  readonly el: HTMLElement;
  private readonly route: PlayerRoute;
  private readonly panes: Pane[];
  private readonly clock = new ReplayClock(0, 30);
  private readonly scrubber: HTMLInputElement;
  private readonly marks: HTMLElement;
  private readonly readout: HTMLElement;
  private readonly playBtn: HTMLButtonElement;
  private readonly backBtn: HTMLButtonElement;
  private readonly fwdBtn: HTMLButtonElement;
  private readonly speedSelect: HTMLSelectElement;
  private readonly title: HTMLElement;
  private readonly subtitle: HTMLElement;
  private readonly note: HTMLElement;
  private readonly abort = new AbortController();
  private raf = 0;
  private last = 0;
  private ready = false;
  private destroyed = false;
  private recordTimer = 0;
  private readonly onKey = (e: KeyboardEvent) => this.key(e);

  constructor(route: PlayerRoute) {
    this.route = route;
    const sideBySide = route.page === 'side-by-side';
    this.panes = refsOf(route).map((ref, i) => new Pane(i, ref, sideBySide));

    this.title = h('h1', { class: 'page-title', text: sideBySide ? 'Side by side' : 'Replay' });
    this.subtitle = h('div', { class: 'page-subtitle', testid: 'player-info' });
    this.note = h('div', { class: 'page-note', attrs: { hidden: '' } });
    const back = h('a', { class: 'back-link', testid: 'player-back', attrs: { href: '#/replays' } }, h('span', { text: '← Replays' }));

    this.backBtn = h('button', { class: 'btn btn-icon', testid: 'player-step-back', title: 'Step back (←)', attrs: { type: 'button', 'aria-label': 'Step back' }, on: { click: () => this.stepBy(-1) } }, icon(STEP_BACK_ICON));
    this.playBtn = h('button', { class: 'btn btn-icon btn-play', testid: 'player-play', title: 'Play (space)', attrs: { type: 'button', 'aria-label': 'Play' }, on: { click: () => this.togglePlay() } });
    this.fwdBtn = h('button', { class: 'btn btn-icon', testid: 'player-step-forward', title: 'Step forward (→)', attrs: { type: 'button', 'aria-label': 'Step forward' }, on: { click: () => this.stepBy(1) } }, icon(ICONS.step));
    this.scrubber = h('input', {
      class: 'scrubber',
      testid: 'scrubber',
      attrs: { type: 'range', min: '0', max: '0', step: '1', value: '0', 'aria-label': 'Step' },
      on: { input: () => this.scrub() },
    });
    this.marks = h('div', { class: 'scrubber-marks', attrs: { 'aria-hidden': 'true' } });
    this.readout = h('div', { class: 'step-readout', testid: 'step-readout', text: 'step 0 / 0' });
    this.speedSelect = h(
      'select',
      { class: 'select select-speed', testid: 'player-speed', attrs: { 'aria-label': 'Playback speed' }, on: { change: () => this.setSpeed(this.speedSelect.value) } },
      ...REPLAY_SPEEDS.map((v) => h('option', { attrs: { value: String(v) }, text: v === 1 ? 'Real time' : `${v}×` })),
    );
    const controls = h(
      'div',
      { class: 'timeline panel', testid: 'timeline' },
      h('div', { class: 'timeline-buttons' }, this.backBtn, this.playBtn, this.fwdBtn),
      h('div', { class: 'scrubber-wrap' }, this.scrubber, this.marks),
      this.readout,
      h('label', { class: 'speed' }, h('span', { class: 'speed-label', text: 'Speed' }), this.speedSelect),
      h('div', { class: 'kbd-hint', text: 'space play · ←/→ step · Home/End' }),
    );

    this.el = h(
      'section',
      { class: `page player-page ${sideBySide ? 'side-by-side' : 'single'}`, testid: sideBySide ? 'page-side-by-side' : 'page-replay' },
      h('header', { class: 'page-header' }, h('div', { class: 'page-heading' }, back, h('div', { class: 'page-title-line' }, this.title), this.subtitle)),
      this.note,
      h('div', { class: `panes panes-${this.panes.length}` }, ...this.panes.map((p) => p.el)),
      controls,
    );
    hooks.replay.panes = this.panes.map((p) => p.hook);
    document.addEventListener('keydown', this.onKey);
    this.renderControls();
    void this.start();
  }

  /** Whether `route` shows this player's episodes (at any step). */
  private isOwn(route: Route): boolean {
    if (route.page !== this.route.page) return false;
    const refs = refsOf(route as PlayerRoute);
    return refs.length === this.panes.length && refs.every((r, i) => sameRef(r, this.panes[i]!.ref));
  }

  update(route: Route): boolean {
    if (!this.isOwn(route)) return false;
    const step = (route as PlayerRoute).step;
    if (step !== null && this.ready) {
      this.clock.pause();
      this.clock.seek(step);
      this.drawAll(0);
    }
    return true;
  }

  destroy(): void {
    this.destroyed = true;
    this.abort.abort();
    cancelAnimationFrame(this.raf);
    window.clearTimeout(this.recordTimer);
    document.removeEventListener('keydown', this.onKey);
    for (const p of this.panes) {
      if (p.stage) {
        p.stage.clear();
        p.stage.detach();
      }
    }
    if (this.panes.some((p) => hooks.replay.panes.includes(p.hook))) hooks.replay.panes = [];
    this.el.remove();
  }

  // -------------------------------------------------------------------------------------------------

  private async start(): Promise<void> {
    const loads = this.panes.map(async (p) => {
      try {
        const [detail, stage] = await Promise.all([fetchReplay(p.ref, this.abort.signal), sharedStage(p.index)]);
        if (this.destroyed) return;
        p.load(detail);
        p.stage = stage;
        stage.clear();
        stage.attach(p.stageEl);
      } catch (err) {
        if (this.destroyed) return;
        p.fail(err instanceof ApiError ? err.message : (err as Error).message);
      }
    });
    await Promise.all(loads);
    if (this.destroyed) return;
    const ok = this.panes.filter((p) => p.detail);
    this.renderInfo();
    if (ok.length === 0) return;
    this.clock.max = timelineMax(ok.map((p) => p.steps));
    this.clock.fps = Math.max(...ok.map((p) => (p.detail!.fps > 0 ? p.detail!.fps : 30)));
    if (this.route.step !== null) this.clock.seek(this.route.step);
    this.scrubber.max = String(this.clock.max);
    this.renderMarks();
    this.ready = true;
    this.drawAll(0);
    this.renderControls();
    this.last = performance.now();
    this.raf = requestAnimationFrame((now) => this.frame(now));
  }

  private frame(now: number): void {
    if (this.destroyed) return;
    const dt = now - this.last;
    this.last = now;
    const wasPlaying = this.clock.playing;
    if (this.clock.tick(dt)) {
      const speed = this.clock.speed;
      this.drawAll(Math.min(160, (0.75 * 1000) / (this.clock.fps * speed)));
    }
    if (wasPlaying && !this.clock.playing) {
      // Reached the end.
      this.renderControls();
      this.scheduleRecord();
    }
    this.raf = requestAnimationFrame((n) => this.frame(n));
  }

  private drawAll(tweenMs: number): void {
    const t = this.clock.t;
    for (const p of this.panes) {
      if (!p.detail || !p.stage) continue;
      p.draw(t, tweenMs);
      // Render now, so the pixels match the hooks by the time anybody looks.
      p.stage.app.render();
    }
    if (this.scrubber.value !== String(t)) this.scrubber.value = String(t);
    this.scrubber.style.setProperty('--progress', `${this.clock.max > 0 ? (100 * t) / this.clock.max : 0}%`);
    setText(this.readout, `step ${t} / ${this.clock.max}`);
    const canBack = this.ready && t > 0;
    const canFwd = this.ready && t < this.clock.max;
    this.backBtn.disabled = !canBack;
    this.fwdBtn.disabled = !canFwd;
  }

  private renderControls(): void {
    const playing = this.clock.playing;
    for (const p of this.panes) p.setPlaying(playing);
    this.playBtn.replaceChildren(icon(playing ? ICONS.pause : ICONS.play));
    setAttr(this.playBtn, 'aria-label', playing ? 'Pause' : 'Play');
    setAttr(this.playBtn, 'data-state', playing ? 'playing' : 'paused');
    this.playBtn.title = playing ? 'Pause (space)' : 'Play (space)';
    this.playBtn.disabled = !this.ready;
    this.scrubber.disabled = !this.ready;
    this.speedSelect.disabled = !this.ready;
    const v = String(this.clock.speed);
    if (this.speedSelect.value !== v) this.speedSelect.value = v;
    const rt = this.speedSelect.querySelector<HTMLOptionElement>('option[value="1"]');
    if (rt) rt.textContent = `Real time (${formatNumber(this.clock.fps, 3)} fps)`;
  }

  private renderMarks(): void {
    const max = this.clock.max;
    const marks = this.panes.length > 1 ? this.panes.filter((p) => p.detail && max > 0) : [];
    this.marks.replaceChildren(
      ...marks.map((p) =>
        h('span', {
          class: `scrubber-mark mark-${p.index === 0 ? 'a' : 'b'}`,
          title: `${PANE_NAMES[p.index]} ends at step ${p.steps}`,
          style: { left: `calc(${(100 * p.steps) / max}% + ${(0.5 - p.steps / max) * 14}px)` },
        }),
      ),
    );
  }

  private renderInfo(): void {
    const loaded = this.panes.map((p) => p.detail?.summary ?? null);
    const first = loaded.find((s) => s) ?? null;
    if (!first) {
      setText(this.subtitle, this.panes.map((p) => `${p.ref.runId}/${p.ref.name}`).join('  ·  '));
      return;
    }
    if (this.panes.length === 1) {
      const s = first;
      setText(this.title, `${s.envId} · ${s.mode === 'eval' ? `evaluation episode ${s.episode}` : `training episode ${s.episode}`}`);
      const parts = [
        replayAgentLabel(s),
        `run ${s.runId}`,
        s.checkpointStep !== null ? `policy at step ${formatCount(s.checkpointStep)}` : '',
        s.seed !== null ? `seed ${s.seed}` : '',
        `return ${formatReturn(s.return)} in ${s.length} steps (${endLabel(s) || 'unfinished'})`,
      ].filter(Boolean);
      setText(this.subtitle, parts.join('  ·  '));
      document.title = `${s.envId} · ${replayAgentLabel(s)} replay — RL Lab`;
    } else {
      const [a, b] = loaded;
      setText(this.title, `${first.envId} · side by side`);
      const describe = (s: typeof a, i: number) => (s ? `${PANE_NAMES[i]}: ${replayAgentLabel(s)} (return ${formatReturn(s.return)}, ${s.length} steps)` : `${PANE_NAMES[i]}: —`);
      const seeds = a && b && a.seed !== null && a.seed === b.seed && a.envId === b.envId ? `same start state (seed ${a.seed})` : '';
      setText(this.subtitle, [describe(a, 0), describe(b, 1), seeds].filter(Boolean).join('  ·  '));
      let note = '';
      if (a && b && a.envId !== b.envId) note = `Different environments (${a.envId}, ${b.envId}): the panes are not comparable step by step.`;
      else if (a && b && (a.seed === null || b.seed === null || a.seed !== b.seed)) note = 'These episodes start from different states (different seeds, or training episodes): they diverge from the first frame.';
      setText(this.note, note);
      if (note) this.note.removeAttribute('hidden');
      else this.note.setAttribute('hidden', '');
      document.title = `${first.envId} side by side — RL Lab`;
    }
  }

  // -------------------------------------------------------------------------------------------------
  // Controls

  private togglePlay(): void {
    if (!this.ready) return;
    this.clock.toggle();
    this.last = performance.now();
    this.drawAll(0);
    this.renderControls();
    if (!this.clock.playing) this.scheduleRecord();
  }

  private stepBy(dk: number): void {
    if (!this.ready) return;
    this.clock.stepBy(dk);
    this.drawAll(0);
    this.renderControls();
    this.scheduleRecord();
  }

  private seek(t: number): void {
    if (!this.ready) return;
    this.clock.pause();
    this.clock.seek(t);
    this.drawAll(0);
    this.renderControls();
    this.scheduleRecord();
  }

  private scrub(): void {
    this.seek(Number(this.scrubber.value));
  }

  private setSpeed(value: string): void {
    const speed: ReplaySpeed | null = parseReplaySpeed(value);
    if (speed !== null) this.clock.setSpeed(speed);
    this.renderControls();
  }

  /** Puts the position into the URL (a reload returns to it), shortly after the last change. */
  private scheduleRecord(): void {
    window.clearTimeout(this.recordTimer);
    this.recordTimer = window.setTimeout(() => {
      if (this.destroyed || this.clock.playing) return;
      // The URL may already lead elsewhere (a link followed, whose hashchange has not reached the app yet):
      // writing the player's route over it would undo that navigation.
      if (!this.isOwn(parseRoute(location.hash))) return;
      recordRoute({ ...this.route, step: this.clock.t });
    }, 250);
  }

  private key(e: KeyboardEvent): void {
    if (e.defaultPrevented || e.altKey || e.ctrlKey || e.metaKey) return;
    const t = e.target as HTMLElement | null;
    const tag = t?.tagName ?? '';
    const onScrubber = t === this.scrubber;
    if (!onScrubber && (tag === 'INPUT' || tag === 'SELECT' || tag === 'TEXTAREA' || t?.isContentEditable)) return;
    if (e.key === ' ' || e.code === 'Space') {
      if (tag === 'BUTTON' || tag === 'A') return; // the focused control handles space itself
      e.preventDefault();
      this.togglePlay();
      return;
    }
    // The focused scrubber moves itself with the arrows and Home/End (its input event seeks).
    if (onScrubber) return;
    if (e.key === 'ArrowRight' || e.key === 'ArrowLeft') {
      e.preventDefault();
      this.stepBy((e.key === 'ArrowRight' ? 1 : -1) * (e.shiftKey ? 10 : 1));
    } else if (e.key === 'Home') {
      e.preventDefault();
      this.seek(0);
    } else if (e.key === 'End') {
      e.preventDefault();
      this.seek(this.clock.max);
    }
  }
}

/**
 * The RL run view: HUD, the live stage with playback controls, and the learning curves. A run that has ended
 * loops its best and latest evaluation episodes (its replay logs) on the stage, through the same player, under
 * a "replay" badge; one without such episodes shows why its stage is still, with "Watch its policy play".
 */
import type { FramesMessage, MetricsMessage, RunSummary, StepFrame } from '../../../protocol/protocol.js';
import { registerRunView, type RunView, type RunViewContext } from '../core/run_views.js';
import { formatCount, formatLatency, formatNumber, formatRate } from '../model/format.js';
import { EpisodeLoop, FrameBuffer, parseSpeed, Player, type LoopItem, type Speed } from '../model/playback.js';
import { loopBadge, loopEpisodes, replayStepFrames, type LoopChoice } from '../model/replays.js';
import { NO_FILTERS } from '../model/routes.js';
import { explorationLabel, isActive, isPolicyWatcher } from '../model/runs.js';
import { fetchReplay, fetchReplays } from '../net/api.js';
import type { WatchResult } from '../net/connection.js';
import type { Stage } from '../stage/stage.js';
import { Curves } from '../ui/curves.js';
import { h, icon, ICONS, setAttr, setText } from '../ui/dom.js';

const ENDED_TITLES: Record<string, string> = {
  done: 'This run has finished',
  stopped: 'This run was stopped',
  failed: 'This run failed',
  lost: 'This run lost its trainer',
  stored: 'This run is stored on disk',
};

/** Frames kept for playback. */
const BUFFER_FRAMES = 20_000;

interface HudCell {
  root: HTMLElement;
  value: HTMLElement;
  label: HTMLElement;
}

function hudCell(name: string, testid?: string, extraClass = ''): HudCell {
  const label = h('div', { class: 'hud-label', text: name });
  const value = h('div', { class: 'hud-value', text: '—', ...(testid ? { testid } : {}) });
  return { root: h('div', { class: `hud-cell ${extraClass}` }, label, value), value, label };
}

/** Plain ASCII numbers in the HUD (a test may parse them). */
function plain(v: number, decimals = 2): string {
  if (!Number.isFinite(v)) return String(v);
  if (Number.isInteger(v)) return String(v);
  return String(Number(v.toFixed(decimals)));
}

/**
 * The replay loop of an ended run: 'idle' (not asked yet), 'loading' its episodes, 'playing' them, or 'none'
 * (no evaluation episode with frames to draw, or they could not be read: the stage shows why it is still).
 */
type LoopState = 'idle' | 'loading' | 'playing' | 'none';

class RlView implements RunView {
  private run: RunSummary;
  private readonly root: HTMLElement;
  private readonly stageEl: HTMLElement;
  private readonly controls: HTMLElement;
  private readonly replayBadge: HTMLElement;
  private readonly overlay: HTMLElement;
  private readonly overlayTitle: HTMLElement;
  private readonly overlayText: HTMLElement;
  private readonly watchPolicyBtn: HTMLButtonElement;
  private readonly hud: Record<'episode' | 'step' | 'ret' | 'explore' | 'sps' | 'dropped' | 'latency', HudCell>;
  private readonly playBtn: HTMLButtonElement;
  private readonly stepBtn: HTMLButtonElement;
  private readonly speedSelect: HTMLSelectElement;
  private readonly playStatus: HTMLElement;
  private readonly curves = new Curves();
  private readonly player = new Player(new FrameBuffer(BUFFER_FRAMES));
  private stage: Stage | null = null;
  private untick: (() => void) | null = null;
  private dropped = 0;
  private loaded = false;
  private lastHudAt = 0;
  private destroyed = false;
  private loop: EpisodeLoop<LoopChoice> | null = null;
  private loopState: LoopState = 'idle';
  /** Aborts the replay requests of a loop being loaded (the view closed, or the run came back to life). */
  private loopAbort: AbortController | null = null;
  /** Why "Watch its policy play" was refused, shown in the status line under a looping stage until the next try. */
  private watchError = '';
  private readonly onKey = (e: KeyboardEvent) => this.key(e);

  constructor(
    private readonly ctx: RunViewContext,
    run: RunSummary,
  ) {
    this.run = run;
    this.player.fps = run.fps > 0 ? run.fps : 30;

    this.hud = {
      episode: hudCell('EPISODE', 'hud-episode'),
      step: hudCell('STEP', 'hud-step'),
      ret: hudCell('RETURN', 'hud-return'),
      explore: hudCell('EXPLORATION'),
      sps: hudCell('TRAINING'),
      dropped: hudCell('DROPPED'),
      latency: hudCell('LATENCY'),
    };
    const hudEl = h('div', { class: 'hud panel' }, ...Object.values(this.hud).map((c) => c.root));

    this.overlayTitle = h('div', { class: 'stage-message-title' });
    this.overlayText = h('div', { class: 'stage-message-text' });
    this.watchPolicyBtn = h(
      'button',
      { class: 'btn btn-primary', testid: 'watch-policy', title: 'The trained greedy policy plays this env live, at real-time speed', attrs: { type: 'button', hidden: '' }, on: { click: () => void this.watchPolicy() } },
      icon(ICONS.play),
      h('span', { text: 'Watch its policy play' }),
    );
    this.overlay = h('div', { class: 'stage-message' }, h('div', { class: 'spinner' }), this.overlayTitle, this.overlayText, this.watchPolicyBtn);
    this.replayBadge = h('div', { class: 'replay-badge', testid: 'replay-badge', attrs: { hidden: '' } });
    this.stageEl = h('div', { class: 'stage', testid: 'stage' }, this.replayBadge, this.overlay);

    this.playBtn = h('button', { class: 'btn btn-icon', testid: 'play-pause', title: 'Pause (space)', attrs: { type: 'button', 'aria-label': 'Pause' }, on: { click: () => this.togglePause() } });
    this.stepBtn = h('button', { class: 'btn btn-icon', testid: 'step-once', title: 'Step one frame (→)', attrs: { type: 'button', 'aria-label': 'Step one frame' }, on: { click: () => this.stepOnce() } }, icon(ICONS.step));
    this.speedSelect = h(
      'select',
      { class: 'select', testid: 'speed-select', attrs: { 'aria-label': 'Playback speed' }, on: { change: () => this.setSpeed(this.speedSelect.value) } },
      ...(['live', '1', '2', '4', '16'] as const).map((v) => h('option', { attrs: { value: v }, text: v === 'live' ? 'Live' : v === '1' ? 'Real time' : `${v}×` })),
    );
    this.playStatus = h('div', { class: 'playback-status' });
    this.controls = h('div', { class: 'playback' }, this.playBtn, this.stepBtn, h('label', { class: 'speed' }, h('span', { class: 'speed-label', text: 'Speed' }), this.speedSelect), this.playStatus, h('div', { class: 'kbd-hint', text: 'space pause · → step' }));

    this.root = h('section', { class: 'rl-view' }, hudEl, h('div', { class: 'stage-card panel' }, this.stageEl, this.controls), this.curves.el);
    ctx.container.append(this.root);
    document.addEventListener('keydown', this.onKey);
    this.renderControls();
    this.renderSummary();
    this.showOverlay();

    void ctx.stage().then((stage) => {
      if (this.destroyed) return;
      this.stage = stage;
      stage.clear();
      stage.attach(this.stageEl);
      this.untick = stage.onTick((dt) => this.tick(dt));
    });
  }

  load(data: WatchResult): void {
    this.run = data.run;
    this.player.fps = data.run.fps > 0 ? data.run.fps : 30;
    this.dropped = 0;
    this.loaded = true;
    this.ctx.hooks.framesReceived += data.frames.length;
    this.curves.load(data.history);
    if (this.loop && !isActive(data.run)) {
      // Watched again after a reconnect, still ended: the loop plays on.
    } else {
      this.stopLoop();
      this.player.reset();
      this.stage?.clear();
      this.player.push(data.frames);
    }
    this.renderSummary();
    this.followStatus();
  }

  update(run: RunSummary): void {
    this.run = run;
    if (run.fps > 0) this.player.fps = run.fps;
    this.renderSummary();
    this.followStatus();
  }

  frames(m: FramesMessage): void {
    this.ctx.hooks.framesReceived += m.frames.length;
    this.dropped += m.dropped;
    // Late frames of an ended run do not interrupt its replays (a run that trains again ends them: followStatus).
    if (this.loop) return;
    this.player.push(m.frames);
  }

  metrics(m: MetricsMessage): void {
    this.curves.append(m.episodes, m.evals, m.updates);
  }

  destroy(): void {
    this.destroyed = true;
    this.loopAbort?.abort();
    document.removeEventListener('keydown', this.onKey);
    this.untick?.();
    if (this.stage) {
      this.stage.clear();
      this.stage.detach();
    }
    this.curves.destroy();
    this.root.remove();
  }

  // -------------------------------------------------------------------------------------------------

  private tick(dtMs: number): void {
    const p = this.player;
    this.loop?.tick(p, dtMs);
    const frame = p.tick(dtMs);
    const speed = p.speed;
    const tweenMs = speed === 'live' ? 0 : Math.min(160, (0.75 * 1000) / (p.fps * speed));
    if (this.stage!.show(frame, tweenMs) && frame) {
      this.ctx.hooks.drawn++;
      this.ctx.hooks.lastFrame = frame;
      this.renderFrameHud(frame);
      if (this.overlay.classList.contains('visible') || this.stage!.missingKind) this.showOverlay();
      this.renderBadge();
    }
    const now = performance.now();
    if (now - this.lastHudAt > 120) {
      this.lastHudAt = now;
      this.renderLatency(frame);
      this.renderStatus();
    }
  }

  private renderFrameHud(f: StepFrame): void {
    setText(this.hud.episode.value, String(f.episode));
    setText(this.hud.step.value, String(f.episodeStep));
    setText(this.hud.ret.value, plain(f.episodeReturn));
    this.hud.ret.root.classList.toggle('hud-ended', f.terminated || f.truncated);
  }

  private renderLatency(frame: StepFrame | null): void {
    const live = this.player.speed === 'live' && !this.player.paused && isActive(this.run);
    setText(this.hud.latency.value, live && frame ? formatLatency(Date.now() - frame.t) : '—');
    setText(this.hud.dropped.value, formatCount(this.dropped));
  }

  private renderSummary(): void {
    const r = this.run;
    const e = explorationLabel(r);
    // A policy watcher does not explore: it plays the greedy policy.
    const watcher = isPolicyWatcher(r);
    const label = watcher ? 'POLICY' : e ? (e.name === 'ε' ? 'ε' : e.name.toUpperCase()) : 'EXPLORATION';
    setText(this.hud.explore.label, label);
    // Phones show a shorter word where the long one would not fit its cell.
    setAttr(this.hud.explore.label, 'data-short', label === 'EXPLORATION' ? 'EXPLORE' : null);
    setText(this.hud.explore.value, watcher ? 'greedy' : e ? formatNumber(e.value, 3) : '—');
    setText(this.hud.sps.value, isActive(r) ? formatRate(r.sps) : '—');
  }

  private renderStatus(): void {
    const s = this.player.status();
    const f = s.frame;
    let text = '';
    const at = this.loop?.position(this.player);
    if (this.loop && this.watchError) {
      text = this.watchError;
    } else if (f && at) {
      const of = at.count > 1 ? ` ${at.index + 1} of ${at.count}` : '';
      text = `${s.paused ? 'paused · ' : ''}replay${of} · step ${f.episodeStep}`;
    } else if (f) {
      const training = s.newest && s.newest.episode !== f.episode ? ` (training at ${s.newest.episode})` : '';
      if (s.paused) text = `paused · episode ${f.episode}, step ${f.episodeStep}${training}`;
      else if (s.mode === 'live') text = isActive(this.run) ? `live · episode ${f.episode}` : `last frames · episode ${f.episode}`;
      else text = `episode ${f.episode}${training}${s.waiting ? ' · waiting for frames' : ''}`;
    }
    setText(this.playStatus, text);
  }

  private renderControls(): void {
    const paused = this.player.paused;
    this.playBtn.replaceChildren(icon(paused ? ICONS.play : ICONS.pause));
    setAttr(this.playBtn, 'aria-label', paused ? 'Play' : 'Pause');
    this.playBtn.title = paused ? 'Play (space)' : 'Pause (space)';
    setAttr(this.playBtn, 'data-state', paused ? 'paused' : 'playing');
    this.stepBtn.disabled = !paused;
    const v = this.player.speed === 'live' ? 'live' : String(this.player.speed);
    if (this.speedSelect.value !== v) this.speedSelect.value = v;
    const fps = this.player.fps;
    const rt = this.speedSelect.querySelector<HTMLOptionElement>('option[value="1"]');
    if (rt) rt.textContent = `Real time (${formatNumber(fps, 3)} fps)`;
    // Recorded episodes have no "live" to follow.
    const live = this.speedSelect.querySelector<HTMLOptionElement>('option[value="live"]');
    if (live) live.disabled = this.loop !== null;
  }

  /** The badge says which recorded episode plays (hidden while no loop plays). */
  private renderBadge(): void {
    const choice = this.loop?.current(this.player) ?? null;
    if (!choice) {
      this.replayBadge.setAttribute('hidden', '');
      return;
    }
    setText(this.replayBadge, loopBadge(choice));
    setAttr(this.replayBadge, 'data-role', choice.role);
    this.replayBadge.removeAttribute('hidden');
  }

  // -------------------------------------------------------------------------------------------------
  // The replay loop of an ended run

  /** After a new status: an ended run starts its replay loop (once), a run running again ends it. */
  private followStatus(): void {
    const r = this.run;
    if (isActive(r)) {
      if (this.loop || this.loopState === 'loading') {
        this.stopLoop();
        this.player.reset();
        this.stage?.clear();
      }
      this.loopState = 'idle';
    } else if (this.loaded && this.loopState === 'idle' && r.kind === 'rl' && r.status !== 'damaged' && !isPolicyWatcher(r)) {
      void this.startLoop();
    }
    this.showOverlay();
    this.placeWatchButton();
  }

  private async startLoop(): Promise<void> {
    this.loopState = 'loading';
    const abort = new AbortController();
    this.loopAbort = abort;
    const runId = this.run.runId;
    let items: LoopItem<LoopChoice>[] = [];
    try {
      const choices = loopEpisodes(await fetchReplays({ ...NO_FILTERS, run: runId, mode: 'eval' }, abort.signal), runId);
      const details = await Promise.all(choices.map((c) => fetchReplay(c.replay, abort.signal).catch(() => null)));
      choices.forEach((choice, i) => {
        const detail = details[i];
        if (!detail) return; // a log that cannot be read: loop the others
        const frames = replayStepFrames(detail);
        // Frames the stage cannot draw (none, or text-only envs) make no loop.
        if (frames.length > 0 && frames.some((f) => f.frame !== null)) items.push({ frames, tag: choice });
      });
    } catch (err) {
      if (abort.signal.aborted) return;
      console.warn(`replays of ${runId}: ${(err as Error).message}`);
      items = [];
    }
    if (abort.signal.aborted || this.destroyed || this.loopAbort !== abort) return;
    this.loopAbort = null;
    if (items.length === 0) {
      this.loopState = 'none';
    } else {
      this.loopState = 'playing';
      this.loop = new EpisodeLoop(items);
      this.stage?.clear();
      this.loop.start(this.player);
      this.renderControls();
    }
    this.showOverlay();
    this.placeWatchButton();
    this.renderBadge();
  }

  private stopLoop(): void {
    this.loopAbort?.abort();
    this.loopAbort = null;
    const had = this.loop !== null;
    this.loop = null;
    if (this.loopState !== 'none') this.loopState = 'idle';
    if (had) {
      if (this.player.speed !== 'live') this.player.setSpeed('live');
      this.renderControls();
    }
    this.renderBadge();
    this.placeWatchButton();
  }

  /** "Watch its policy play" sits in the controls under a looping stage, in the still stage's message otherwise. */
  private placeWatchButton(): void {
    const home = this.loop ? this.controls : this.overlay;
    if (this.watchPolicyBtn.parentElement !== home) home.append(this.watchPolicyBtn);
    if (this.loop) {
      if (this.canWatchPolicy()) this.watchPolicyBtn.removeAttribute('hidden');
      else this.watchPolicyBtn.setAttribute('hidden', '');
    }
  }

  private showOverlay(): void {
    let title = '';
    let text = '';
    let busy = false;
    const hasFrame = this.player.buffer.size > 0;
    const drawnKind = this.stage?.missingKind ?? null;
    if (!this.loaded) {
      title = 'Connecting to the run…';
      busy = true;
    } else if (drawnKind) {
      title = `No renderer for “${drawnKind}” frames`;
      text = 'The curves below still update.';
    } else if (!hasFrame && this.loopState === 'loading') {
      title = 'Loading its evaluation episodes…';
      busy = true;
    } else if (hasFrame && this.player.current()?.frame === null) {
      title = 'This environment sends no render frames';
      text = 'Episodes, returns and curves still update.';
    } else if (!hasFrame) {
      if (this.run.status === 'starting') {
        title = 'Starting the trainer…';
        busy = true;
      } else if (isActive(this.run)) {
        title = 'Waiting for the first frames…';
        busy = true;
      } else {
        title = (Object.hasOwn(ENDED_TITLES, this.run.status) ? ENDED_TITLES[this.run.status] : undefined) ?? `This run is ${this.run.status}`;
        text = this.canWatchPolicy() ? 'Its learning curves are below; its trained policy can play live.' : 'No live frames to show; its learning curves are below.';
      }
    }
    if (this.loop) {
      // Shown in the controls (placeWatchButton).
    } else if (title !== '' && !busy && this.canWatchPolicy()) this.watchPolicyBtn.removeAttribute('hidden');
    else this.watchPolicyBtn.setAttribute('hidden', '');
    this.overlay.classList.toggle('visible', title !== '');
    this.overlay.classList.toggle('busy', busy);
    setText(this.overlayTitle, title);
    setText(this.overlayText, text);
  }

  /** An ended RL run with a policy on disk (not itself a policy watcher) can be watched playing. */
  private canWatchPolicy(): boolean {
    const r = this.run;
    return !!this.ctx.watchPolicy && r.kind === 'rl' && !isActive(r) && r.status !== 'damaged' && r.status !== 'failed' && !isPolicyWatcher(r) && r.step > 0;
  }

  private async watchPolicy(): Promise<void> {
    this.watchPolicyBtn.disabled = true;
    this.watchError = '';
    try {
      await this.ctx.watchPolicy!(this.run.runId);
    } catch (err) {
      if (this.destroyed) return;
      if (this.loop) this.watchError = (err as Error).message;
      else setText(this.overlayText, (err as Error).message);
      this.renderStatus();
    } finally {
      this.watchPolicyBtn.disabled = false;
    }
  }

  private togglePause(): void {
    this.player.togglePause();
    this.renderControls();
    this.renderStatus();
  }

  private stepOnce(): void {
    this.loop?.stepNeedsNext(this.player);
    const f = this.player.step();
    this.renderControls();
    if (f && this.stage?.show(f, 0)) {
      this.ctx.hooks.drawn++;
      this.ctx.hooks.lastFrame = f;
      this.renderFrameHud(f);
      this.renderBadge();
    }
    this.renderStatus();
  }

  private setSpeed(value: string): void {
    const speed: Speed | null = parseSpeed(value);
    if (speed === null) return;
    this.player.setSpeed(speed);
    this.renderControls();
    this.renderStatus();
  }

  private key(e: KeyboardEvent): void {
    if (e.defaultPrevented || e.altKey || e.ctrlKey || e.metaKey) return;
    const t = e.target as HTMLElement | null;
    const tag = t?.tagName ?? '';
    if (tag === 'INPUT' || tag === 'SELECT' || tag === 'TEXTAREA' || t?.isContentEditable) return;
    if (e.key === ' ' || e.code === 'Space') {
      if (tag === 'BUTTON') return; // the focused button handles space itself
      e.preventDefault();
      this.togglePause();
    } else if (e.key === 'ArrowRight') {
      e.preventDefault();
      this.stepOnce();
    }
  }
}

registerRunView('rl', (ctx, run) => new RlView(ctx, run));

/**
 * The Live page: runs list, new-run form, the watched run (one at a time) and its view. It lives for the whole
 * session (the app hides it while another page shows) so that the runs list stays current; hidden, it watches
 * nothing.
 */
import { API, type Catalog, type FramesMessage, type MetricsMessage, type ModelListResponse, type RunSummary, type StartRunRequest } from '../../../protocol/protocol.js';
import { formatRoute, NO_FILTERS } from '../model/routes.js';
import { agentLabel, damageReason, formatRunHash, isActive, isDamaged, isPolicyWatcher, newRunToFollow, parseRunHash, pickAutoWatch, runTitle, statusMeta } from '../model/runs.js';
import { fetchCatalog, fetchSession, type ConnectionState, type LabConnection } from '../net/connection.js';
import { sharedStage } from '../stage/pool.js';
import type { Stage } from '../stage/stage.js';
import { h, icon, ICONS, setText } from '../ui/dom.js';
import { NewRunForm } from '../ui/new_run_form.js';
import { RunList } from '../ui/run_list.js';
import { hooks, setProbeSource } from '../core/hooks.js';
import { runViewFor, type RunView } from '../core/run_views.js';

/** viewKind while the host shows a damaged run's card. */
const DAMAGED_VIEW = 'damaged';

export class LivePage {
  readonly el: HTMLElement;
  private runs: RunSummary[] = [];
  private catalog: Catalog | null = null;
  private watched: string | null = null;
  private view: RunView | null = null;
  private viewKind: string | null = null;
  private watchToken = 0;
  private stagePromise: Promise<Stage> | null = null;
  private listedOnce = false;
  private emptyKey = '';
  /** Shown (the current page); hidden, it watches nothing. */
  private active = false;
  /** The run to watch when shown again (the one watched when hidden, or the one a link named). */
  private resumeId: string | null = null;

  private readonly form: NewRunForm;
  private readonly list: RunList;
  private readonly banner: HTMLElement;
  private readonly header: HTMLElement;
  private readonly title: HTMLElement;
  private readonly subtitle: HTMLElement;
  private readonly pill: HTMLElement;
  private readonly stopBtn: HTMLButtonElement;
  private readonly replaysLink: HTMLAnchorElement;
  /** "Play in browser" (#/play/<runId>): shown for an ended RL run once the server lists a saved policy of it. */
  private readonly playLink: HTMLAnchorElement;
  /** The run (and status) the Play link was last asked for, so each run is asked once per status. */
  private playAskedFor = '';
  private readonly headerError: HTMLElement;
  private readonly host: HTMLElement;
  private readonly empty: HTMLElement;
  private readonly sidebar: HTMLElement;
  private readonly formToggle: HTMLButtonElement;
  /** Whether this page holds the server's key (null: not asked yet). */
  private canStart: boolean | null = null;

  constructor(
    host: HTMLElement,
    private readonly conn: LabConnection,
  ) {
    this.form = new NewRunForm((req) => this.startRun(req));
    this.list = new RunList((id) => void this.watch(id));
    // On narrow screens the form waits behind this button, so that the run list is on the first screen.
    this.formToggle = h(
      'button',
      { class: 'btn new-run-toggle', testid: 'new-run-toggle', attrs: { type: 'button', 'aria-expanded': 'false' }, on: { click: () => this.setFormOpen(!this.sidebar.classList.contains('form-open')) } },
      icon(ICONS.play),
      h('span', { text: 'New run' }),
    );
    this.sidebar = h('aside', { class: 'sidebar' }, h('div', { class: 'sidebar-scroll' }, this.formToggle, this.form.el, this.list.el));
    const sidebar = this.sidebar;

    this.banner = h('div', { class: 'banner', attrs: { role: 'status', hidden: '' } }, h('span', { class: 'spinner spinner-small' }), h('span', { text: 'Connection to the lab server lost — reconnecting…' }));
    this.title = h('h1', { class: 'run-title' });
    this.subtitle = h('div', { class: 'run-subtitle' });
    this.pill = h('span', { class: 'pill' });
    this.stopBtn = h('button', { class: 'btn btn-danger', testid: 'stop-run', attrs: { type: 'button', hidden: '' }, on: { click: () => void this.stopRun() } }, icon(ICONS.stop), h('span', { text: 'Stop' }));
    this.replaysLink = h('a', { class: 'btn', testid: 'run-replays', title: 'The saved replay logs of this run', attrs: { href: '#/replays' } }, h('span', { text: 'Replays' }));
    this.playLink = h(
      'a',
      { class: 'btn', testid: 'play-in-browser', title: 'Run the trained policy and its env in this page (WebGPU or wasm), no server work', attrs: { href: '#/', hidden: '' } },
      icon(ICONS.play),
      h('span', { text: 'Play in browser' }),
    );
    this.headerError = h('div', { class: 'run-error' });
    this.header = h(
      'header',
      { class: 'run-header', attrs: { hidden: '' } },
      h('div', { class: 'run-heading' }, h('div', { class: 'run-title-line' }, this.title, this.pill), this.subtitle),
      h('div', { class: 'run-actions' }, this.playLink, this.replaysLink, this.stopBtn),
    );
    this.host = h('div', { class: 'view-host' });
    this.empty = h('div', { class: 'empty-state' });
    const main = h('main', { class: 'main' }, this.banner, this.header, this.headerError, this.host, this.empty);
    this.el = h('div', { class: 'app', testid: 'page-live', attrs: { hidden: '' } }, sidebar, main);
    host.append(this.el);

    const s = this.conn.socket;
    s.on('runs:changed', ({ runs }) => this.setRuns(runs));
    s.on('run:frames', (m: FramesMessage) => {
      if (m.runId === this.watched) this.view?.frames(m);
    });
    s.on('run:metrics', (m: MetricsMessage) => {
      if (m.runId === this.watched) this.view?.metrics(m);
    });
    s.on('run:samples', (m) => {
      if (m.runId === this.watched) this.view?.samples?.(m);
    });
    s.on('lab:error', (m) => console.warn(`lab server: ${m.event}: ${m.error}`));
    this.conn.onState((state, first) => this.connectionChanged(state, first));
    this.renderEmpty();
    void this.loadCatalog();
  }

  /**
   * Shows the page watching `runId` (a link named it), else the run watched before it was hidden, else
   * (once the runs are listed) a running one.
   */
  show(runId: string | null): void {
    this.active = true;
    this.el.removeAttribute('hidden');
    const id = runId ?? this.watched ?? this.resumeId;
    if (!this.listedOnce) {
      // Not connected yet: the first runs list picks it up (connectionChanged).
      this.resumeId = id;
      this.renderEmpty();
      return;
    }
    this.resumeId = null;
    const pick = id ?? pickAutoWatch(this.runs, null);
    if (pick && pick !== this.watched) void this.watch(pick);
    else if (this.watched) history.replaceState(null, '', `${location.pathname}${location.search}${formatRunHash(this.watched)}`);
    this.renderEmpty();
  }

  /** Hides the page: stops watching (the run is watched again when the page shows). */
  hide(): void {
    if (!this.active) return;
    this.active = false;
    this.el.setAttribute('hidden', '');
    this.resumeId = this.watched;
    if (this.watched) this.conn.unwatch(this.watched);
    this.watched = null;
    this.watchToken++;
    hooks.watchedRunId = null;
    this.unmountView();
    this.list.render(this.runs, null);
  }

  // -------------------------------------------------------------------------------------------------
  // Connection

  private connectionChanged(state: ConnectionState, first: boolean): void {
    if (state === 'disconnected') this.banner.removeAttribute('hidden');
    if (state !== 'connected') return;
    this.banner.setAttribute('hidden', '');
    if (!this.catalog) void this.loadCatalog();
    // Asked on every connect: a restarted server has a new key, which this page may not hold.
    fetchSession().then(
      (session) => {
        this.form.setCanStart(session.canStart);
        this.canStart = session.canStart;
        this.renderEmpty();
      },
      (err: Error) => console.warn(`session: ${err.message}`),
    );
    void this.conn
      .listRuns()
      .then((runs) => {
        this.setRuns(runs);
        if (first || !this.listedOnce) {
          this.listedOnce = true;
          if (!this.active) return;
          const wanted = this.resumeId ?? this.watched;
          this.resumeId = null;
          const id = pickAutoWatch(runs, wanted);
          if (id && id !== this.watched) void this.watch(id);
          else this.renderEmpty();
        } else if (this.watched) {
          // After a reconnect the server no longer knows what this socket watched.
          void this.watch(this.watched, true);
        }
      })
      .catch((err: Error) => console.warn(`runs:list: ${err.message}`));
  }

  private async loadCatalog(): Promise<void> {
    try {
      this.catalog = await fetchCatalog();
      this.form.setCatalog(this.catalog);
    } catch (err) {
      console.warn(`catalog: ${(err as Error).message}`);
      // Retried on the next (re)connect.
    }
  }

  // -------------------------------------------------------------------------------------------------
  // Runs

  /** Every run id this page has listed: a run not among them is new. */
  private readonly knownRunIds = new Set<string>();

  private setRuns(runs: RunSummary[]): void {
    const follow = this.listedOnce ? newRunToFollow(runs, this.knownRunIds, this.watchedRun() ?? null) : null;
    for (const r of runs) this.knownRunIds.add(r.runId);
    this.runs = runs;
    this.list.render(runs, this.watched);
    // A run started elsewhere (a terminal, another page) while nothing live is on screen: follow it.
    if (follow && this.active) void this.watch(follow);
    const run = this.watchedRun();
    if (run) {
      if (isDamaged(run)) {
        if (this.viewKind !== DAMAGED_VIEW) this.showDamaged(run);
      } else if (this.viewKind === DAMAGED_VIEW) {
        // Its files were repaired: watch it like any other run.
        this.unmountView();
        void this.watch(run.runId, true);
      } else this.view?.update(run);
      this.renderHeader(run);
    }
    this.renderEmpty();
  }

  private watchedRun(): RunSummary | undefined {
    return this.watched ? this.runs.find((r) => r.runId === this.watched) : undefined;
  }

  /** Watches `runId` (unwatching the previous run); `again` re-watches the same run after a reconnect. */
  async watch(runId: string, again = false): Promise<void> {
    if (!this.active) {
      this.resumeId = runId;
      return;
    }
    if (runId === this.watched && !again) return;
    const prev = this.watched;
    if (prev && prev !== runId) this.conn.unwatch(prev);
    this.watched = runId;
    hooks.watchedRunId = runId;
    if (parseRunHash(location.hash) !== runId) history.replaceState(null, '', `${location.pathname}${location.search}${formatRunHash(runId)}`);
    this.list.render(this.runs, runId);
    setText(this.headerError, '');
    const token = ++this.watchToken;
    const known = this.runs.find((r) => r.runId === runId);
    if (known && isDamaged(known)) {
      // Nothing to watch: the run's files cannot be used. Say why instead.
      this.showDamaged(known);
      this.renderHeader(known);
      this.renderEmpty();
      return;
    }
    if (!again) {
      hooks.framesReceived = 0;
      hooks.lastFrame = null;
      if (known) this.mountView(known);
      else this.unmountView();
    }
    if (known) this.renderHeader(known);
    this.renderEmpty();
    try {
      const result = await this.conn.watch(runId);
      if (token !== this.watchToken) return;
      if (isDamaged(result.run)) {
        this.showDamaged(result.run);
        this.renderHeader(result.run);
        this.renderEmpty();
        return;
      }
      if (!this.view || this.viewKind !== result.run.kind) this.mountView(result.run);
      this.view?.load(result);
      this.renderHeader(result.run);
      this.renderEmpty();
    } catch (err) {
      if (token !== this.watchToken) return;
      setText(this.headerError, `Could not watch ${runId}: ${(err as Error).message}`);
    }
  }

  private mountView(run: RunSummary): void {
    this.unmountView();
    const factory = runViewFor(run.kind);
    this.viewKind = run.kind;
    if (!factory) {
      this.host.replaceChildren(h('div', { class: 'empty-card' }, h('div', { class: 'empty-title', text: `No viewer for “${run.kind}” runs` }), h('div', { class: 'empty-text', text: 'This build of the viewer has no view registered for this kind of run.' })));
      return;
    }
    this.view = factory(
      {
        container: this.host,
        stage: () => this.stage(),
        hooks,
        watchPolicy: async (id: string) => {
          const watcher = await this.conn.watchPolicy(id);
          await this.watch(watcher.runId);
        },
      },
      run,
    );
  }

  /** In place of a view: why the run cannot be watched. */
  private showDamaged(run: RunSummary): void {
    this.unmountView();
    this.viewKind = DAMAGED_VIEW;
    this.host.replaceChildren(
      h(
        'div',
        { class: 'empty-state' },
        h(
          'div',
          { class: 'empty-card damaged-card', testid: 'run-damaged' },
          h('div', { class: 'empty-title', text: 'This run is damaged' }),
          h('div', { class: 'damaged-reason', testid: 'run-damaged-reason', text: damageReason(run) ?? '' }),
          h('div', { class: 'empty-text', text: `Its files in the runs directory cannot be used, so there is nothing to watch or compare. Repair or remove the directory ${run.runId}: the list follows on its own.` }),
        ),
      ),
    );
  }

  private unmountView(): void {
    this.view?.destroy();
    this.view = null;
    this.viewKind = null;
    this.host.replaceChildren();
  }

  private stage(): Promise<Stage> {
    if (!this.stagePromise) {
      this.stagePromise = sharedStage(0);
      void this.stagePromise.then((s) => setProbeSource(() => s.probe()));
    }
    return this.stagePromise;
  }

  private async startRun(request: StartRunRequest): Promise<void> {
    const run = await this.conn.start(request);
    this.setFormOpen(false);
    if (!this.runs.some((r) => r.runId === run.runId)) this.setRuns([...this.runs, run]);
    await this.watch(run.runId);
  }


  /** Opens or folds the New-run form (folding shows only on narrow screens: the form is always open on wide ones). */
  private setFormOpen(open: boolean): void {
    this.sidebar.classList.toggle('form-open', open);
    this.formToggle.setAttribute('aria-expanded', open ? 'true' : 'false');
    this.formToggle.classList.toggle('active', open);
  }

  private async stopRun(): Promise<void> {
    const id = this.watched;
    if (!id) return;
    this.stopBtn.disabled = true;
    try {
      await this.conn.stop(id);
    } catch (err) {
      setText(this.headerError, `Could not stop ${id}: ${(err as Error).message}`);
    } finally {
      this.stopBtn.disabled = false;
    }
  }

  // -------------------------------------------------------------------------------------------------
  // Rendering

  private renderHeader(run: RunSummary): void {
    this.header.removeAttribute('hidden');
    setText(this.title, runTitle(run));
    const meta = statusMeta(run.status);
    setText(this.pill, meta.label);
    this.pill.title = meta.title ?? '';
    this.pill.style.setProperty('--pill', meta.color);
    this.pill.classList.toggle('pulse', isActive(run));
    const parts = [agentLabel(run), `seed ${run.seed}`, run.numEnvs > 1 ? `${run.numEnvs} envs` : '', run.backend, run.runId].filter(Boolean);
    setText(this.subtitle, parts.join('  ·  '));
    this.replaysLink.href = formatRoute({ page: 'replays', filters: { ...NO_FILTERS, run: run.runId } });
    // GAN and AlphaZero-lite runs record no episodes to replay.
    if (run.kind !== 'rl') this.replaysLink.setAttribute('hidden', '');
    else this.replaysLink.removeAttribute('hidden');
    this.askPlayable(run);
    const active = run.status === 'running' || run.status === 'starting';
    if (active) this.stopBtn.removeAttribute('hidden');
    else this.stopBtn.setAttribute('hidden', '');
    // A damaged run's reason is on its card.
    if (run.error && !isDamaged(run)) setText(this.headerError, run.error);
    if (this.active) document.title = `${runTitle(run)} · ${agentLabel(run)} — RL Lab`;
  }

  /**
   * Shows "Play in browser" when the watched RL run has ended with a saved policy. One listing of its networks,
   * not a probe per file: a run without a policy must not leave a failed request in the console.
   */
  private askPlayable(run: RunSummary): void {
    const key = `${run.runId}\n${run.status}`;
    if (key === this.playAskedFor) return;
    this.playAskedFor = key;
    this.playLink.setAttribute('hidden', '');
    if (run.kind !== 'rl' || isActive(run) || isDamaged(run) || isPolicyWatcher(run)) return;
    this.playLink.href = formatRoute({ page: 'play', runId: run.runId, policy: null });
    void fetch(API.models(run.runId))
      .then((res) => (res.ok ? (res.json() as Promise<ModelListResponse>) : { models: [], files: {} }))
      .then(
        ({ models }) => {
          if (this.playAskedFor === key && (models.includes('policy') || models.includes('best_policy'))) this.playLink.removeAttribute('hidden');
        },
        () => undefined,
      );
  }

  private renderEmpty(): void {
    const watching = this.watched !== null;
    this.empty.style.display = watching ? 'none' : '';
    this.host.style.display = watching ? '' : 'none';
    if (!watching) this.header.setAttribute('hidden', '');
    if (watching) return;
    const offline = this.conn.state !== 'connected' && !this.listedOnce;
    const none = this.runs.length === 0;
    const title = offline ? 'Connecting to the lab server…' : none ? 'No runs yet' : 'Pick a run to watch';
    const key = `${title}|${offline}|${this.canStart}`;
    if (this.emptyKey === key) return;
    this.emptyKey = key;
    const text = offline
      ? `Waiting for ${location.host || 'the server'} (${API.health}).`
      : none
        ? this.canStart === false
          ? 'This page holds no server key, so it can watch runs but not start them: open the link that lab serve printed, or start a run with lab train — it appears here and plays live.'
          : 'Choose an environment and an agent under New run and press Start: training plays here live, the current episode on the stage and the learning curves below it.'
        : 'Click a run in the list to watch it live, with its learning curves.';
    this.empty.replaceChildren(
      h(
        'div',
        { class: 'empty-card' },
        h('div', { class: `empty-art ${none && !offline ? 'empty-art-point' : ''}`, attrs: { 'aria-hidden': 'true' } }),
        h('div', { class: 'empty-title', text: title }),
        h('div', { class: 'empty-text', text }),
        !offline ? h('div', { class: 'empty-keys' }, h('kbd', { text: 'space' }), ' pause / play   ', h('kbd', { text: '→' }), ' single step') : null,
      ),
    );
  }
}

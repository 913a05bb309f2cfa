/**
 * The Play Go page (`#/go?size=7&opponent=mcts&color=black&sims=2000`): a person plays an agent on a 5×5, 7×7
 * or 9×9 board. The server keeps the game (rules, legal moves, scoring) and runs the agent as a GTP engine;
 * this page sends the person's moves (`go:play`) and follows the game's state from the acks and the server's
 * `go:state` pushes (the agent's replies).
 *
 * The board is the Go frame renderer (without its side panel) on the shared Pixi stage, with an overlay: a
 * translucent stone of the person's colour over the legal point under the pointer, and area ownership once the
 * game is scored. Clicks on points that are not in `legal` do nothing.
 *
 * The server closes a viewer's games when its socket goes, so after a reconnect the game on screen is gone:
 * the page says so and offers a new game. Leaving the page or starting a new game closes the current one.
 */
import { Container, Graphics } from 'pixi.js';
import type { GoFrame } from '../../../envs/frames.js';
import { API, GO_OPPONENTS, type GoAgentInfo, type GoGameState, type GoOpponentKind } from '../../../protocol/protocol.js';
import { fetchJson } from '../net/api.js';
import type { Page } from '../core/app.js';
import { hooks, noGoHook } from '../core/hooks.js';
import { replaceRoute } from '../core/nav.js';
import { pointAtPixel, type GoLayout } from '../model/go_geometry.js';
import {
  ALPHAZERO_SIMS,
  ackErrorText,
  areaMap,
  colorName,
  defaultKomi,
  emptyGoFrame,
  GNUGO_LEVELS,
  GO_SIZES,
  goNewRequest,
  goPhase,
  isNewerState,
  lastMoveText,
  MCTS_SIMS,
  OPPONENT_LABELS,
  opponentName,
  otherColor,
  outcomeText,
  points,
  resultView,
  sameGoSettings,
  scoreLines,
  settingsOpponentLabel,
  sgfFileName,
  turnText,
  type GoColor,
  type GoSettings,
} from '../model/go_play.js';
import { GO } from '../model/palette.js';
import type { Route } from '../model/routes.js';
import type { ConnectionState, LabConnection } from '../net/connection.js';
import { GoRenderer } from '../renderers/go.js';
import { sharedStage } from '../stage/pool.js';
import type { Stage } from '../stage/stage.js';
import { h, icon, setText } from '../ui/dom.js';

type GoRoute = Extract<Route, { page: 'go' }>;

const PASS_ICON = ['M5 12h11', 'M12 7l5 5-5 5', 'M19 5v14'];
const FLAG_ICON = ['M6 21V4', 'M6 4h11l-2.5 4L17 12H6'];
const DOWNLOAD_ICON = ['M12 4v11', 'M7 10l5 5 5-5', 'M5 19h14'];
const NEW_ICON = ['M12 5v14', 'M5 12h14'];

function stoneDot(color: GoColor): HTMLElement {
  return h('span', { class: `go-stone go-stone-${color}`, attrs: { 'aria-hidden': 'true' } });
}

function field(label: string, control: HTMLElement, cls = ''): HTMLElement {
  return h('label', { class: `field ${cls}` }, h('span', { class: 'field-label', text: label }), control);
}

function options<T extends string | number>(values: readonly T[], label: (v: T) => string): HTMLOptionElement[] {
  return values.map((v) => h('option', { text: label(v), attrs: { value: String(v) } }));
}

interface PlayerRow {
  root: HTMLElement;
  who: HTMLElement;
  captures: HTMLElement;
}

export class GoPage implements Page {
  readonly el: HTMLElement;
  private settings: GoSettings;
  /** The game on screen (null before the first one). */
  private game: GoGameState | null = null;
  /** A `go:state` that arrived before the ack of its `go:new`. */
  private early: GoGameState | null = null;
  /** The server dropped the game (this socket reconnected): it stays on screen, frozen. */
  private dropped = false;
  private starting = false;
  private newToken = 0;
  /** A `go:play` or `go:resign` awaits its ack. */
  private pending = false;
  private confirmingResign = false;
  private playError = '';
  private newError = '';
  private stageError = '';
  private hover: number | null = null;
  private destroyed = false;

  private stage: Stage | null = null;
  private readonly renderer = new GoRenderer({ panel: false });
  private readonly overlay = new Graphics();
  private readonly content = new Container();
  private unsubscribe: (() => void)[] = [];

  // Setup
  private readonly sizeSelect: HTMLSelectElement;
  private readonly opponentSelect: HTMLSelectElement;
  private readonly simsSelect: HTMLSelectElement;
  private readonly azSimsSelect: HTMLSelectElement;
  private readonly agentSelect: HTMLSelectElement;
  private readonly levelSelect: HTMLSelectElement;
  private readonly colorSelect: HTMLSelectElement;
  private readonly simsField: HTMLElement;
  private readonly azSimsField: HTMLElement;
  private readonly agentField: HTMLElement;
  private readonly levelField: HTMLElement;
  /** Trained AlphaZero agents on the server (null until the list arrives; the error when it failed). */
  private agents: GoAgentInfo[] | null = null;
  private agentsError = '';
  private readonly komiText: HTMLElement;
  private readonly newBtn: HTMLButtonElement;
  private readonly newErrorEl: HTMLElement;
  // Board
  private readonly stageEl: HTMLElement;
  private readonly boardMsg: HTMLElement;
  private readonly boardMsgTitle: HTMLElement;
  private readonly boardMsgText: HTMLElement;
  private readonly boardMsgBtn: HTMLButtonElement;
  private readonly boardCaption: HTMLElement;
  private readonly passBtn: HTMLButtonElement;
  private readonly resignBtn: HTMLButtonElement;
  private readonly confirmStrip: HTMLElement;
  private readonly actionsHint: HTMLElement;
  // Status
  private readonly statusEl: HTMLElement;
  private readonly turnEl: HTMLElement;
  private readonly turnText: HTMLElement;
  private readonly players: Record<GoColor, PlayerRow>;
  private readonly moveValue: HTMLElement;
  private readonly lastValue: HTMLElement;
  private readonly playErrorEl: HTMLElement;
  // Result
  private readonly resultEl: HTMLElement;
  private readonly resultHeadline: HTMLElement;
  private readonly resultOutcome: HTMLElement;
  private readonly resultScore: HTMLElement;
  private readonly sgfBtn: HTMLButtonElement;

  private readonly onKey = (e: KeyboardEvent) => {
    if (e.key === 'Escape' && this.confirmingResign) {
      this.confirmingResign = false;
      this.render();
    }
  };
  private readonly onPush = ({ game }: { game: GoGameState }) => this.pushed(game);

  constructor(
    route: GoRoute,
    private readonly conn: LabConnection,
  ) {
    this.settings = { ...route.settings };

    // ---- Setup
    this.sizeSelect = h(
      'select',
      { class: 'select', testid: 'go-size', attrs: { 'aria-label': 'Board size' }, on: { change: () => this.setSettings({ size: Number(this.sizeSelect.value) as GoSettings['size'] }) } },
      ...options(GO_SIZES, (n) => `${n} × ${n}`),
    );
    this.opponentSelect = h(
      'select',
      { class: 'select', testid: 'go-opponent', attrs: { 'aria-label': 'Opponent' }, on: { change: () => this.setSettings({ opponent: this.opponentSelect.value as GoOpponentKind }) } },
      ...options(GO_OPPONENTS, (o) => OPPONENT_LABELS[o]),
    );
    this.simsSelect = h(
      'select',
      { class: 'select', testid: 'go-sims', attrs: { 'aria-label': 'MCTS simulations per move' }, on: { change: () => this.setSettings({ sims: Number(this.simsSelect.value) }) } },
      ...options(MCTS_SIMS, (n) => `${n.toLocaleString('en-US')} sims`),
    );
    this.azSimsSelect = h(
      'select',
      { class: 'select', testid: 'go-az-sims', attrs: { 'aria-label': 'AlphaZero simulations per move' }, on: { change: () => this.setSettings({ azSims: Number(this.azSimsSelect.value) }) } },
      ...options(ALPHAZERO_SIMS, (n) => `${n.toLocaleString('en-US')} sims`),
    );
    this.agentSelect = h('select', { class: 'select', testid: 'go-agent', attrs: { 'aria-label': 'Trained agent' }, on: { change: () => this.setSettings({ agent: this.agentSelect.value || null }) } });
    this.levelSelect = h(
      'select',
      { class: 'select', testid: 'go-level', attrs: { 'aria-label': 'GNU Go level' }, on: { change: () => this.setSettings({ level: Number(this.levelSelect.value) }) } },
      ...options(GNUGO_LEVELS, (n) => `level ${n}${n === 1 ? ' (weakest)' : n === 10 ? ' (strongest)' : ''}`),
    );
    this.colorSelect = h(
      'select',
      { class: 'select', testid: 'go-color', attrs: { 'aria-label': 'Your colour' }, on: { change: () => this.setSettings({ color: this.colorSelect.value as GoColor }) } },
      h('option', { text: 'Black', attrs: { value: 'black' } }),
      h('option', { text: 'White', attrs: { value: 'white' } }),
    );
    this.simsField = field('Strength', this.simsSelect);
    this.levelField = field('Strength', this.levelSelect);
    this.azSimsField = field('Strength', this.azSimsSelect);
    this.agentField = field('Agent (lab go train)', this.agentSelect, 'go-agent-field');
    this.komiText = h('div', { class: 'go-komi', testid: 'go-komi' });
    this.newBtn = h('button', { class: 'btn btn-primary', testid: 'go-new', attrs: { type: 'button' }, on: { click: () => void this.newGame() } }, icon(NEW_ICON, 'icon icon-stroke'), h('span', { text: 'New game' }));
    this.newErrorEl = h('div', { class: 'form-error', testid: 'go-new-error', attrs: { role: 'alert' } });
    const setup = h(
      'section',
      { class: 'panel go-card go-setup', attrs: { 'aria-label': 'New game' } },
      h('h2', { class: 'go-card-title', text: 'New game' }),
      h('div', { class: 'field-row' }, field('Board', this.sizeSelect), field('You play', this.colorSelect)),
      h('div', { class: 'field-row' }, field('Opponent', this.opponentSelect), this.simsField, this.azSimsField, this.levelField),
      this.agentField,
      this.komiText,
      this.newBtn,
      this.newErrorEl,
    );

    // ---- Board
    this.boardMsgTitle = h('div', { class: 'stage-message-title' });
    this.boardMsgText = h('div', { class: 'stage-message-text' });
    this.boardMsgBtn = h('button', { class: 'btn btn-primary', testid: 'go-new-again', attrs: { type: 'button' }, on: { click: () => void this.newGame() } }, h('span', { text: 'New game' }));
    this.boardMsg = h('div', { class: 'stage-message go-board-message' }, h('div', { class: 'spinner' }), this.boardMsgTitle, this.boardMsgText, this.boardMsgBtn);
    this.stageEl = h('div', { class: 'go-stage', testid: 'go-board', attrs: { role: 'application', 'aria-label': 'Go board' } }, this.boardMsg);
    this.stageEl.addEventListener('pointermove', (e) => this.pointerMoved(e));
    this.stageEl.addEventListener('pointerleave', () => this.setHover(null));
    this.stageEl.addEventListener('click', (e) => this.clicked(e));
    this.boardCaption = h('div', { class: 'go-board-caption', testid: 'go-caption' });

    this.passBtn = h('button', { class: 'btn', testid: 'go-pass', title: 'Pass your turn (two passes in a row end the game)', attrs: { type: 'button' }, on: { click: () => this.pass() } }, icon(PASS_ICON, 'icon icon-stroke'), h('span', { text: 'Pass' }));
    this.resignBtn = h(
      'button',
      { class: 'btn btn-danger', testid: 'go-resign', title: 'Resign the game', attrs: { type: 'button' }, on: { click: () => this.askResign() } },
      icon(FLAG_ICON, 'icon icon-stroke'),
      h('span', { text: 'Resign' }),
    );
    this.confirmStrip = h(
      'div',
      { class: 'go-confirm', testid: 'go-resign-confirm-strip', attrs: { role: 'alertdialog', 'aria-label': 'Resign?', hidden: '' } },
      h('span', { class: 'go-confirm-text', text: 'Resign this game?' }),
      h('button', { class: 'btn btn-danger btn-small', testid: 'go-resign-confirm', attrs: { type: 'button' }, on: { click: () => void this.resign() } }, h('span', { text: 'Resign' })),
      h(
        'button',
        {
          class: 'btn btn-ghost btn-small',
          testid: 'go-resign-cancel',
          attrs: { type: 'button' },
          on: {
            click: () => {
              this.confirmingResign = false;
              this.render();
            },
          },
        },
        h('span', { text: 'Keep playing' }),
      ),
    );
    this.actionsHint = h('span', { class: 'go-actions-hint' });
    const actions = h('div', { class: 'go-actions' }, this.passBtn, this.resignBtn, this.confirmStrip, h('span', { class: 'spacer' }), this.actionsHint);
    const boardCard = h('div', { class: 'panel go-board-card' }, this.stageEl, this.boardCaption, actions);

    // ---- Status
    this.turnText = h('span', { class: 'go-turn-text', testid: 'go-turn' });
    this.turnEl = h('div', { class: 'go-turn' }, h('span', { class: 'go-turn-dot' }), h('span', { class: 'spinner go-turn-spinner' }), this.turnText);
    const playerRow = (color: GoColor): PlayerRow => {
      const who = h('span', { class: 'go-player-who' });
      const captures = h('span', { class: 'go-player-captures' });
      const root = h('div', { class: 'go-player', dataset: { color }, title: colorName(color) }, stoneDot(color), h('span', { class: 'sr-only', text: `${colorName(color)}: ` }), who, captures);
      return { root, who, captures };
    };
    this.players = { black: playerRow('black'), white: playerRow('white') };
    const cell = (label: string, testid: string) => {
      const value = h('div', { class: 'hud-value', testid, text: '—' });
      return { root: h('div', { class: 'hud-cell' }, h('div', { class: 'hud-label', text: label }), value), value };
    };
    const move = cell('MOVE', 'go-move');
    const last = cell('LAST MOVE', 'go-last');
    this.moveValue = move.value;
    this.lastValue = last.value;
    this.playErrorEl = h('div', { class: 'form-error go-play-error', testid: 'go-error', attrs: { role: 'alert' } });
    this.statusEl = h(
      'section',
      { class: 'panel go-card go-status', testid: 'go-status', attrs: { 'aria-live': 'polite' } },
      this.turnEl,
      h('div', { class: 'go-players' }, this.players.black.root, this.players.white.root),
      h('div', { class: 'hud go-hud' }, move.root, last.root),
      this.playErrorEl,
    );

    // ---- Result
    this.resultHeadline = h('div', { class: 'go-result-headline', testid: 'go-result-headline' });
    this.resultOutcome = h('div', { class: 'go-result-outcome' });
    this.resultScore = h('div', { class: 'go-score', testid: 'go-score' });
    this.sgfBtn = h('button', { class: 'btn', testid: 'go-sgf', title: 'Download the game as SGF', attrs: { type: 'button' }, on: { click: () => this.downloadSgf() } }, icon(DOWNLOAD_ICON, 'icon icon-stroke'), h('span', { text: 'Download SGF' }));
    const again = h('button', { class: 'btn btn-primary', testid: 'go-play-again', attrs: { type: 'button' }, on: { click: () => void this.newGame() } }, h('span', { text: 'Play again' }));
    this.resultEl = h(
      'section',
      { class: 'panel go-card go-result', testid: 'go-result', attrs: { hidden: '', 'aria-live': 'polite' } },
      this.resultHeadline,
      this.resultOutcome,
      this.resultScore,
      h('div', { class: 'go-result-actions' }, this.sgfBtn, again),
    );

    this.el = h(
      'section',
      { class: 'page go-page', testid: 'page-go' },
      h(
        'header',
        { class: 'page-header' },
        h(
          'div',
          { class: 'page-heading' },
          h('h1', { class: 'page-title', text: 'Play Go' }),
          h('div', {
            class: 'page-subtitle',
            text: 'Play an agent on a small board: click a point to place a stone. Area scoring (Tromp-Taylor) with komi; the game ends after two passes in a row or 2·N² moves.',
          }),
        ),
      ),
      h('div', { class: 'go-layout' }, h('div', { class: 'go-board-col' }, boardCard), h('aside', { class: 'go-side' }, this.resultEl, this.statusEl, setup)),
    );

    this.content.addChild(this.renderer.root, this.overlay);
    const page = this;
    hooks.go = {
      get state() {
        return page.game;
      },
      pointAt: (move: number) => this.pointAt(move),
    };
    this.conn.socket.on('go:state', this.onPush);
    this.unsubscribe.push(() => this.conn.socket.off('go:state', this.onPush));
    this.unsubscribe.push(this.conn.onState((state, first) => this.connectionChanged(state, first)));
    document.addEventListener('keydown', this.onKey);
    this.render();
    void this.mountStage();
    void this.loadAgents();
  }

  /** The server's trained AlphaZero agents, for the agent select. */
  private async loadAgents(): Promise<void> {
    try {
      this.agents = await fetchJson<GoAgentInfo[]>(API.goAgents);
      this.agentsError = '';
    } catch (e) {
      this.agents = [];
      this.agentsError = e instanceof Error ? e.message : String(e);
    }
    if (!this.destroyed) this.render();
  }

  /** Agents for the chosen board size. */
  private agentsForSize(): GoAgentInfo[] {
    return (this.agents ?? []).filter((a) => a.size === this.settings.size);
  }

  update(route: Route): boolean {
    if (route.page !== 'go') return false;
    if (!sameGoSettings(route.settings, this.settings)) {
      this.settings = { ...route.settings };
      this.render();
      if (!this.game) this.drawBoard();
    }
    return true;
  }

  destroy(): void {
    this.destroyed = true;
    this.closeGame();
    for (const fn of this.unsubscribe) fn();
    this.unsubscribe = [];
    document.removeEventListener('keydown', this.onKey);
    if (this.stage) {
      this.stage.root.removeChild(this.content);
      this.stage.clear();
      this.stage.detach();
      this.stage.app.start();
    }
    this.content.destroy({ children: true });
    hooks.go = noGoHook();
    this.el.remove();
  }

  // -------------------------------------------------------------------------------------------------
  // The stage

  private async mountStage(): Promise<void> {
    try {
      const stage = await sharedStage(0);
      if (this.destroyed) return;
      this.stage = stage;
      stage.clear();
      stage.attach(this.stageEl);
      stage.root.addChild(this.content);
      // The board changes only on moves, hovers and resizes, and each of them renders at once: no render
      // loop while the page shows (the next page's stage starts it again).
      stage.app.stop();
      this.unsubscribe.push(stage.onResize(() => this.drawBoard()));
      this.drawBoard();
    } catch (err) {
      if (this.destroyed) return;
      this.stageError = (err as Error).message || 'WebGL is not available';
      this.render();
    }
  }

  /** The frame on the board: the game's, or an empty board of the chosen size before the first game. */
  private frame(): GoFrame {
    return this.game?.frame ?? emptyGoFrame(this.settings.size);
  }

  /** Redraws the board, the hover stone and the area marks, and renders at once (pixels match the hooks). */
  private drawBoard(): void {
    const stage = this.stage;
    if (!stage) return;
    const size = stage.size;
    this.renderer.drawFrame(this.frame(), size);
    if (this.hover !== null && !this.canPlay(this.hover)) this.hover = null;
    this.drawOverlay();
  }

  private drawOverlay(): void {
    const g = this.overlay;
    g.clear();
    const L = this.renderer.currentLayout;
    const game = this.game;
    if (!L || !game) {
      this.stageEl.style.cursor = '';
      this.stage?.app.render();
      return;
    }
    // Area at the end of a scored game: a small square of the owner's colour on each owned empty point.
    if (game.over && game.score) {
      const area = areaMap(game.frame.board, game.size);
      const half = Math.max(3, L.spacing * 0.13);
      area.owner.forEach((owner, p) => {
        if (!owner || game.frame.board[p] !== '.') return;
        const [x, y] = L.point(Math.floor(p / game.size), p % game.size);
        g.rect(x - half, y - half, 2 * half, 2 * half).fill({ color: owner === 'black' ? GO.black : GO.white, alpha: 0.9 });
        if (owner === 'white') g.rect(x - half, y - half, 2 * half, 2 * half).stroke({ width: 1, color: GO.whiteShade });
      });
    }
    if (this.hover !== null) {
      const [x, y] = L.point(Math.floor(this.hover / game.size), this.hover % game.size);
      const r = L.stoneRadius;
      if (game.humanColor === 'black') g.circle(x, y, r).fill({ color: GO.black, alpha: 0.45 });
      else g.circle(x, y, r).fill({ color: GO.white, alpha: 0.6 }).stroke({ width: Math.max(1, r * 0.06), color: GO.whiteShade, alpha: 0.7 });
    }
    this.stageEl.style.cursor = this.hover !== null ? 'pointer' : '';
    this.stage?.app.render();
  }

  private pointAt(move: number): [number, number] {
    const L = this.renderer.currentLayout;
    if (!L) throw new Error('the Go board is not drawn yet');
    const n = L.size;
    if (!Number.isInteger(move) || move < 0 || move >= n * n) throw new Error(`move ${move} is not a point of the ${n}x${n} board`);
    const [x, y] = L.point(Math.floor(move / n), move % n);
    return [x, y];
  }

  /** The point under a pointer event (null off the grid or before the board is drawn). */
  private pointOf(e: MouseEvent): number | null {
    const L: GoLayout | null = this.renderer.currentLayout;
    const canvas = this.stage?.app.canvas;
    if (!L || !canvas || canvas.parentElement !== this.stageEl) return null;
    const rect = canvas.getBoundingClientRect();
    return pointAtPixel(L, e.clientX - rect.left, e.clientY - rect.top);
  }

  /** A point the person may play now (a legal board point, their turn, nothing in flight). */
  private canPlay(p: number): boolean {
    const g = this.game;
    return !!g && !this.dropped && !this.pending && goPhase(g) === 'yours' && p < g.size * g.size && g.legal.includes(p);
  }

  private pointerMoved(e: PointerEvent): void {
    const p = this.pointOf(e);
    this.setHover(p !== null && this.canPlay(p) ? p : null);
  }

  private setHover(p: number | null): void {
    if (p === this.hover) return;
    this.hover = p;
    this.drawOverlay();
  }

  private clicked(e: MouseEvent): void {
    const p = this.pointOf(e);
    if (p === null || !this.canPlay(p)) return;
    void this.play(p);
  }

  // -------------------------------------------------------------------------------------------------
  // The game

  /** The agent the settings name if the server has it for this size, else the newest one for the size. */
  private chosenAgent(): string | null {
    const agents = this.agentsForSize();
    return agents.find((a) => a.runId === this.settings.agent)?.runId ?? agents[0]?.runId ?? null;
  }

  private setSettings(change: Partial<GoSettings>): void {
    replaceRoute({ page: 'go', settings: { ...this.settings, ...change } });
  }

  private async newGame(): Promise<void> {
    if (this.starting) return;
    this.closeGame();
    this.game = null;
    this.early = null;
    this.dropped = false;
    this.pending = false;
    this.confirmingResign = false;
    this.playError = '';
    this.newError = '';
    this.hover = null;
    this.starting = true;
    const token = ++this.newToken;
    this.render();
    this.drawBoard();
    try {
      const game = await this.conn.goNew(goNewRequest({ ...this.settings, agent: this.settings.opponent === 'alphazero' ? this.chosenAgent() : this.settings.agent }));
      if (this.destroyed || token !== this.newToken) {
        this.conn.goClose(game.gameId);
        return;
      }
      const early = this.early as GoGameState | null;
      this.game = early && early.gameId === game.gameId && isNewerState(game, early) ? early : game;
    } catch (err) {
      if (this.destroyed || token !== this.newToken) return;
      this.newError = ackErrorText((err as Error).message);
    } finally {
      if (token === this.newToken) {
        this.starting = false;
        this.early = null;
      }
    }
    if (this.destroyed) return;
    this.render();
    this.drawBoard();
  }

  /** Tells the server the game on screen is done with (unless it is gone already). */
  private closeGame(): void {
    const g = this.game;
    if (g && !this.dropped) this.conn.goClose(g.gameId);
  }

  private pass(): void {
    const g = this.game;
    if (!g || this.dropped || this.pending || goPhase(g) !== 'yours') return;
    const passMove = g.size * g.size;
    if (!g.legal.includes(passMove)) return;
    void this.play(passMove);
  }

  private async play(move: number): Promise<void> {
    const g = this.game;
    if (!g || this.pending) return;
    this.pending = true;
    this.playError = '';
    this.hover = null;
    this.render();
    this.drawOverlay();
    try {
      this.accept(await this.conn.goPlay(g.gameId, move));
    } catch (err) {
      if (this.game?.gameId === g.gameId) this.playError = ackErrorText((err as Error).message);
    } finally {
      this.pending = false;
    }
    if (this.destroyed) return;
    this.render();
    this.drawBoard();
  }

  private askResign(): void {
    const g = this.game;
    if (!g || g.over || this.dropped) return;
    this.confirmingResign = true;
    this.render();
  }

  private async resign(): Promise<void> {
    const g = this.game;
    this.confirmingResign = false;
    if (!g || g.over || this.dropped || this.pending) {
      this.render();
      return;
    }
    this.pending = true;
    this.playError = '';
    this.render();
    try {
      this.accept(await this.conn.goResign(g.gameId));
    } catch (err) {
      if (this.game?.gameId === g.gameId) this.playError = ackErrorText((err as Error).message);
    } finally {
      this.pending = false;
    }
    if (this.destroyed) return;
    this.render();
    this.drawBoard();
  }

  /** A state from an ack or a push: shown unless it belongs to another game or is older than the one shown. */
  private accept(state: GoGameState): void {
    if (this.destroyed || !this.game || state.gameId !== this.game.gameId) return;
    if (!isNewerState(this.game, state)) return;
    this.game = state;
  }

  private pushed(state: GoGameState): void {
    if (this.starting && (!this.game || this.game.gameId !== state.gameId)) {
      this.early = state;
      return;
    }
    if (!this.game || state.gameId !== this.game.gameId || this.dropped) return;
    this.accept(state);
    this.render();
    this.drawBoard();
  }

  private connectionChanged(state: ConnectionState, first: boolean): void {
    if (state === 'connected' && !first && this.game && !this.dropped) {
      // The server closed this socket's games when it went: what is on screen is gone there.
      this.dropped = true;
      this.pending = false;
      this.confirmingResign = false;
      this.hover = null;
      this.drawBoard();
    }
    this.render();
  }

  private downloadSgf(): void {
    const g = this.game;
    if (!g?.sgf) return;
    const url = URL.createObjectURL(new Blob([g.sgf], { type: 'application/x-go-sgf' }));
    const a = h('a', { attrs: { href: url, download: sgfFileName(g, new Date()) } });
    document.body.append(a);
    a.click();
    a.remove();
    window.setTimeout(() => URL.revokeObjectURL(url), 10_000);
  }

  // -------------------------------------------------------------------------------------------------
  // Rendering

  private render(): void {
    this.renderSetup();
    this.renderBoardMessage();
    this.renderActions();
    this.renderStatus();
    this.renderResult();
  }

  private renderSetup(): void {
    const s = this.settings;
    this.sizeSelect.value = String(s.size);
    this.opponentSelect.value = s.opponent;
    this.simsSelect.value = String(s.sims);
    this.levelSelect.value = String(s.level);
    this.colorSelect.value = s.color;
    this.azSimsSelect.value = String(s.azSims);
    this.simsField.hidden = s.opponent !== 'mcts';
    this.azSimsField.hidden = s.opponent !== 'alphazero';
    this.agentField.hidden = s.opponent !== 'alphazero';
    this.levelField.hidden = s.opponent !== 'gnugo';
    const agents = this.agentsForSize();
    if (s.opponent === 'alphazero') {
      const placeholder = this.agents === null ? 'loading agents…' : this.agentsError ? `agents unavailable: ${this.agentsError}` : agents.length === 0 ? `no trained ${s.size}×${s.size} agent: run lab go train --size ${s.size}` : null;
      const opts = placeholder ? [h('option', { text: placeholder, attrs: { value: '' } })] : agents.map((a) => h('option', { text: `${a.runId} (iteration ${a.iteration})`, attrs: { value: a.runId } }));
      this.agentSelect.replaceChildren(...opts);
      this.agentSelect.disabled = placeholder !== null;
      this.agentSelect.value = this.chosenAgent() ?? '';
    }
    const g = this.game;
    const komi = g && g.size === s.size ? g.komi : defaultKomi(s.size);
    this.komiText.replaceChildren(h('span', { class: 'go-komi-value', text: `Komi ${points(komi)}` }), h('span', { class: 'go-komi-note', text: ` — added to White's area on ${s.size}×${s.size}` }));
    this.newBtn.disabled = this.starting || this.conn.state !== 'connected' || (s.opponent === 'alphazero' && this.chosenAgent() === null);
    this.newBtn.classList.toggle('busy', this.starting);
    setText(this.newErrorEl, this.newError);
  }

  private renderBoardMessage(): void {
    let title = '';
    let text = '';
    let busy = false;
    let button = '';
    let needsAgent = false;
    const s = this.settings;
    if (this.stageError) {
      title = 'Could not create the board';
      text = this.stageError;
    } else if (this.conn.state !== 'connected' && !this.dropped) {
      title = this.conn.state === 'connecting' ? 'Connecting to the lab server…' : 'Connection to the lab server lost — reconnecting…';
      busy = true;
    } else if (this.dropped) {
      const finished = this.game?.over ?? false;
      title = finished ? 'The connection was lost' : 'This game has ended';
      text = finished
        ? 'The server closed the game when the connection dropped; its result stays here. Start another one whenever you like.'
        : 'The connection to the lab server was lost, and the server ends a viewer’s games when it goes. Start a new game.';
      button = 'New game';
    } else if (this.starting) {
      title = 'Starting the game…';
      busy = true;
    } else if (!this.game) {
      title = `${s.size}×${s.size} against ${settingsOpponentLabel(s)}`;
      text = `You play ${colorName(s.color)}${s.color === 'white' ? '; the agent opens' : ' and move first'}. Komi ${points(defaultKomi(s.size))}.`;
      button = 'Start the game';
      needsAgent = s.opponent === 'alphazero' && this.chosenAgent() === null;
      // Why it cannot start, or why it did not, where the click is.
      if (needsAgent) text = `Choose a trained agent first (none for ${s.size}×${s.size}? run lab go train --size ${s.size}).`;
      else if (this.newError) text = this.newError;
    }
    this.boardMsg.classList.toggle('visible', title !== '');
    this.boardMsg.classList.toggle('busy', busy);
    this.boardMsg.classList.toggle('go-board-message-soft', !!button && !this.dropped);
    setText(this.boardMsgTitle, title);
    setText(this.boardMsgText, text);
    this.boardMsgBtn.hidden = !button;
    const label = this.boardMsgBtn.querySelector('span');
    if (label) setText(label, button);
    this.boardMsgBtn.disabled = this.conn.state !== 'connected' || needsAgent;
    const g = this.game;
    const phase = goPhase(g);
    let caption = '';
    if (g && !this.dropped) {
      if (phase === 'yours') caption = 'Click a point to play';
      else if (phase === 'thinking') caption = `${opponentName(g.opponent)} is thinking…`;
      else if (phase === 'over' && g.score) caption = 'Small squares mark each side’s area';
    }
    setText(this.boardCaption, caption);
  }

  private renderActions(): void {
    const g = this.game;
    const live = !!g && !g.over && !this.dropped && this.conn.state === 'connected';
    const yours = live && goPhase(g) === 'yours' && !this.pending;
    this.passBtn.disabled = !(yours && g!.legal.includes(g!.size * g!.size));
    this.resignBtn.disabled = !live || this.pending;
    if (!live) this.confirmingResign = false;
    this.resignBtn.hidden = this.confirmingResign;
    this.confirmStrip.hidden = !this.confirmingResign;
    let hint = '';
    if (g && !this.dropped) hint = `${g.size}×${g.size} against ${opponentName(g.opponent)} · komi ${points(g.komi)}`;
    setText(this.actionsHint, hint);
  }

  private renderStatus(): void {
    const g = this.game;
    const phase = this.dropped ? 'dropped' : this.starting ? 'starting' : goPhase(g);
    this.statusEl.dataset.phase = phase;
    const text = this.dropped ? 'Game closed by the server' : this.starting ? 'Starting…' : this.pending && phase === 'yours' ? 'Playing…' : turnText(g);
    setText(this.turnText, text);
    this.turnEl.dataset.phase = phase;
    const human: GoColor = g?.humanColor ?? this.settings.color;
    const agentName = g ? opponentName(g.opponent) : settingsOpponentLabel(this.settings);
    for (const color of ['black', 'white'] as const) {
      const row = this.players[color];
      setText(row.who, color === human ? 'You' : agentName);
      row.who.classList.toggle('go-player-you', color === human);
      const captured = g ? g.frame.captures[color] : 0;
      setText(row.captures, `${captured} capture${captured === 1 ? '' : 's'}`);
      row.root.classList.toggle('to-play', !!g && !g.over && !this.dropped && g.frame.toPlay === color);
    }
    const frame = this.frame();
    setText(this.moveValue, g ? String(g.moves) : '—');
    setText(this.lastValue, (g && lastMoveText(frame)) || '—');
    this.lastValue.title = this.lastValue.textContent ?? '';
    setText(this.playErrorEl, this.playError);
  }

  private renderResult(): void {
    const g = this.game;
    if (!g || !g.over) {
      this.resultEl.hidden = true;
      return;
    }
    this.resultEl.hidden = false;
    if (g.error) {
      this.resultEl.dataset.outcome = 'failed';
      setText(this.resultHeadline, 'The agent failed');
      setText(this.resultOutcome, 'The game stopped; start a new one.');
      this.resultScore.replaceChildren(h('div', { class: 'go-result-error mono', text: g.error }));
      this.sgfBtn.hidden = true;
      return;
    }
    const view = resultView(g.result ?? '', g.humanColor);
    this.resultEl.dataset.outcome = view.outcome ?? '';
    this.resultEl.dataset.result = g.result ?? '';
    setText(this.resultHeadline, view.headline);
    let outcome = outcomeText(view, g.opponent);
    if (view.byResignation) outcome = view.winner === g.humanColor ? `${opponentName(g.opponent)} resigned` : 'You resigned';
    setText(this.resultOutcome, outcome);
    if (g.score) {
      const lines = scoreLines(g.score);
      const row = (color: GoColor, text: string, total: number) =>
        h('div', { class: `go-score-row ${view.winner === color ? 'winner' : ''}`, dataset: { color } }, stoneDot(color), h('span', { class: 'go-score-name', text: colorName(color) }), h('span', { class: 'go-score-value', text }), h('span', { class: 'go-score-total', text: points(total) }));
      this.resultScore.replaceChildren(
        row('black', lines.black, g.score.black),
        row('white', lines.white, lines.whiteTotal),
        h('div', { class: 'go-score-margin', title: 'Area scoring: stones plus the empty points they surround; komi goes to White', text: `${lines.margin} · ${g.result ?? ''}` }),
      );
    } else {
      const loser = view.winner ? otherColor(view.winner) : null;
      this.resultScore.replaceChildren(h('div', { class: 'go-score-note', text: loser ? `${colorName(loser)} resigned after ${g.moves} moves; a resigned game is not counted.` : `${g.moves} moves.` }));
    }
    this.sgfBtn.hidden = !g.sgf;
  }
}

/**
 * The Replays page: every saved replay log of the runs directory in one table, filtered by env, agent, run and
 * mode; a click plays one, two checked play side by side. With one evaluation episode checked, the other
 * evaluation episodes that started from the same env seed (other runs', and its own run's at other policy
 * steps) are highlighted: the fair pairs to compare.
 */
import type { ReplaySummary } from '../../../protocol/protocol.js';
import type { Page } from '../core/app.js';
import { navigate, replaceRoute } from '../core/nav.js';
import { formatCount, formatReturn } from '../model/format.js';
import { bestPartner, endLabel, filterOptions, filterReplays, partnersNote, replayAgentLabel, replayKey, sameSeedPartners, shortRunId, toggleSelection, type FilterOptions } from '../model/replays.js';
import { NO_FILTERS, parseReplayRef, type ReplayFilters, type Route } from '../model/routes.js';
import { ApiError, fetchReplays } from '../net/api.js';
import { h, icon, ICONS, setText } from '../ui/dom.js';

/** The checked replays, kept while the app runs (back from a player, they are still checked). */
let remembered: string[] = [];

/** Rows of the table shown at first, and added by each "Show more". */
export const PAGE_ROWS = 100;

const REFRESH_ICON = ['M19 12a7 7 0 1 1-2.05-4.95', 'M19.5 4.5V9H15'];

function sameFilters(a: ReplayFilters, b: ReplayFilters): boolean {
  return a.env === b.env && a.agent === b.agent && a.run === b.run && a.mode === b.mode;
}

export class ReplaysPage implements Page {
  readonly el: HTMLElement;
  private filters: ReplayFilters;
  /** Every replay (unfiltered): the filter choices and the selection come from it. */
  private all: ReplaySummary[] | null = null;
  /** The server's answer for the current filters (null while none). */
  private filtered: ReplaySummary[] | null = null;
  private filteredFor: ReplayFilters | null = null;
  private selected: string[];
  private error = '';
  private loading = false;
  private abort: AbortController | null = null;
  private readonly selects: Record<'env' | 'agent' | 'run' | 'mode', HTMLSelectElement>;
  private readonly count: HTMLElement;
  private readonly clearBtn: HTMLButtonElement;
  private readonly refreshBtn: HTMLButtonElement;
  private readonly selectionText: HTMLElement;
  private readonly partnerBtn: HTMLButtonElement;
  private readonly openBtn: HTMLButtonElement;
  private readonly tbody: HTMLTableSectionElement;
  private readonly tableWrap: HTMLElement;
  private readonly message: HTMLElement;
  private readonly moreBar: HTMLElement;
  private readonly moreBtn: HTMLButtonElement;
  private readonly moreText: HTMLElement;
  /** Rows shown (the rest behind "Show more"): a run keeps hundreds of logs. */
  private limit = PAGE_ROWS;

  constructor(route: Extract<Route, { page: 'replays' }>) {
    this.filters = { ...route.filters };
    this.selected = remembered.slice();
    const select = (key: keyof ReplayFilters, label: string) =>
      h('select', { class: 'select select-filter', testid: `filter-${key}`, attrs: { 'aria-label': label }, on: { change: () => this.filterChanged() } });
    this.selects = { env: select('env', 'Environment'), agent: select('agent', 'Agent'), run: select('run', 'Run'), mode: select('mode', 'Mode') };
    const field = (label: string, control: HTMLElement, cls = '') => h('label', { class: `filter ${cls}` }, h('span', { class: 'field-label', text: label }), control);
    this.count = h('span', { class: 'toolbar-count' });
    this.clearBtn = h('button', { class: 'btn btn-ghost', testid: 'filters-clear', attrs: { type: 'button' }, on: { click: () => this.setFilters({ ...NO_FILTERS }) } }, h('span', { text: 'Clear filters' }));
    this.refreshBtn = h('button', { class: 'btn btn-icon', title: 'Reload the list', attrs: { type: 'button', 'aria-label': 'Reload the list' }, on: { click: () => void this.load() } }, icon(REFRESH_ICON, 'icon icon-stroke'));
    const toolbar = h(
      'div',
      { class: 'toolbar panel' },
      field('Environment', this.selects.env),
      field('Agent', this.selects.agent),
      field('Run', this.selects.run, 'filter-wide'),
      field('Mode', this.selects.mode, 'filter-narrow'),
      h('div', { class: 'toolbar-end' }, this.count, this.clearBtn, this.refreshBtn),
    );

    this.selectionText = h('div', { class: 'selection-text', testid: 'selection-text' });
    this.partnerBtn = h('button', { class: 'btn', testid: 'pick-partner', attrs: { type: 'button', hidden: '' }, on: { click: () => this.pickPartner() } }, h('span', { text: 'Pick same-seed partner' }));
    this.openBtn = h(
      'button',
      { class: 'btn btn-primary', testid: 'side-by-side-open', attrs: { type: 'button' }, on: { click: () => this.openSideBySide() } },
      icon(ICONS.play),
      h('span', { text: 'Side by side' }),
    );
    const selectionBar = h('div', { class: 'selection-bar' }, this.selectionText, this.partnerBtn, this.openBtn);

    const th = (text: string, cls = '') => h('th', { class: cls, text, attrs: { scope: 'col' } });
    this.tbody = h('tbody');
    const table = h(
      'table',
      { class: 'data-table replay-table', testid: 'replay-table' },
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          h('th', { class: 'col-check', attrs: { scope: 'col' } }, h('span', { class: 'sr-only', text: 'Select' })),
          th('Run'),
          th('Env'),
          th('Agent'),
          th('Mode'),
          th('Episode', 'num'),
          th('Seed', 'num'),
          th('Policy step', 'num'),
          th('Return', 'num'),
          th('Length', 'num'),
          th('End'),
        ),
      ),
      this.tbody,
    );
    this.tableWrap = h('div', { class: 'table-wrap panel' }, table);
    this.moreText = h('span', { class: 'table-more-text', testid: 'replays-shown' });
    this.moreBtn = h(
      'button',
      { class: 'btn', testid: 'replays-more', attrs: { type: 'button' }, on: { click: () => ((this.limit += PAGE_ROWS), this.render()) } },
      h('span', { text: `Show ${PAGE_ROWS} more` }),
    );
    this.moreBar = h('div', { class: 'table-more', attrs: { hidden: '' } }, this.moreText, this.moreBtn);
    this.message = h('div', { class: 'page-message' });
    this.el = h(
      'section',
      { class: 'page replays-page', testid: 'page-replays' },
      h(
        'header',
        { class: 'page-header' },
        h('div', { class: 'page-heading' }, h('h1', { class: 'page-title', text: 'Replays' }), h('div', { class: 'page-subtitle', text: 'Recorded episodes of every run: click one to play it, check two to play them side by side on one timeline.' })),
      ),
      toolbar,
      selectionBar,
      this.message,
      this.tableWrap,
      this.moreBar,
    );
    this.render();
    void this.load();
  }

  update(route: Route): boolean {
    if (route.page !== 'replays') return false;
    if (!sameFilters(route.filters, this.filters)) {
      this.filters = { ...route.filters };
      this.limit = PAGE_ROWS;
      this.render();
      void this.loadFiltered();
    }
    return true;
  }

  destroy(): void {
    this.abort?.abort();
    remembered = this.selected.slice();
    this.el.remove();
  }

  // -------------------------------------------------------------------------------------------------

  private async load(): Promise<void> {
    this.abort?.abort();
    const abort = new AbortController();
    this.abort = abort;
    this.loading = true;
    this.error = '';
    this.render();
    try {
      this.all = await fetchReplays({ ...NO_FILTERS }, abort.signal);
      this.filtered = null;
      this.filteredFor = null;
      // Forget checked replays that no longer exist.
      const keys = new Set(this.all.map(replayKey));
      this.selected = this.selected.filter((k) => keys.has(k));
    } catch (err) {
      if (abort.signal.aborted) return;
      this.error = err instanceof ApiError ? err.message : `Could not list the replays: ${(err as Error).message}`;
    } finally {
      if (this.abort === abort) {
        this.loading = false;
        this.abort = null;
      }
    }
    this.render();
    await this.loadFiltered();
  }

  /** Asks the server for the filtered list (the table shows the locally filtered list meanwhile). */
  private async loadFiltered(): Promise<void> {
    const f = { ...this.filters };
    if (!this.all || sameFilters(f, NO_FILTERS)) return;
    try {
      const list = await fetchReplays(f);
      if (!sameFilters(f, this.filters)) return;
      this.filtered = list;
      this.filteredFor = f;
      this.render();
    } catch (err) {
      console.warn(`replays: ${(err as Error).message}`);
    }
  }

  private filterChanged(): void {
    const mode = this.selects.mode.value;
    this.setFilters({
      env: this.selects.env.value,
      agent: this.selects.agent.value,
      run: this.selects.run.value,
      mode: mode === 'eval' || mode === 'train' ? mode : '',
    });
  }

  private setFilters(f: ReplayFilters): void {
    replaceRoute({ page: 'replays', filters: f });
  }

  private byKey(key: string): ReplaySummary | undefined {
    return this.all?.find((r) => replayKey(r) === key);
  }

  private rows(): ReplaySummary[] {
    if (!this.all) return [];
    const source = this.filtered && this.filteredFor && sameFilters(this.filteredFor, this.filters) ? this.filtered : this.all;
    return filterReplays(source, this.filters);
  }

  /** With one evaluation episode checked: the other episodes from its seed (other runs', and its run's at other steps). */
  private partners(): Set<string> {
    if (this.selected.length !== 1 || !this.all) return new Set();
    const one = this.byKey(this.selected[0]!);
    return new Set(one ? sameSeedPartners(this.all, one).map(replayKey) : []);
  }

  private toggle(key: string): void {
    this.selected = toggleSelection(this.selected, key, 2);
    remembered = this.selected.slice();
    this.render();
  }

  private pickPartner(): void {
    const one = this.selected.length === 1 ? this.byKey(this.selected[0]!) : undefined;
    const partner = one && this.all ? bestPartner(this.all, one) : null;
    if (partner) this.toggle(replayKey(partner));
  }

  private openSideBySide(): void {
    if (this.selected.length !== 2) return;
    const [a, b] = this.selected.map((k) => parseReplayRef(k));
    if (!a || !b) return;
    navigate({ page: 'side-by-side', a, b, step: null });
  }

  // -------------------------------------------------------------------------------------------------

  private render(): void {
    const opts: FilterOptions = this.all ? filterOptions(this.all) : { envs: [], agents: [], runs: [] };
    this.fillSelect(this.selects.env, 'All environments', opts.envs, this.filters.env);
    this.fillSelect(this.selects.agent, 'All agents', opts.agents, this.filters.agent);
    this.fillSelect(this.selects.run, 'All runs', opts.runs, this.filters.run);
    this.fillSelect(this.selects.mode, 'Eval and train', ['eval', 'train'], this.filters.mode, { eval: 'Evaluation', train: 'Training' });
    const rows = this.rows();
    const total = this.all?.length ?? 0;
    setText(this.count, this.all ? (rows.length === total ? `${total} log${total === 1 ? '' : 's'}` : `${rows.length} of ${total} logs`) : '');
    this.clearBtn.disabled = sameFilters(this.filters, NO_FILTERS);
    this.refreshBtn.disabled = this.loading;
    this.renderSelection();
    this.renderMessage(rows.length);
    this.renderRows(rows);
  }

  private fillSelect(el: HTMLSelectElement, allLabel: string, values: string[], current: string, labels: Record<string, string> = {}): void {
    const wanted = current && !values.includes(current) ? [...values, current] : values;
    const key = [allLabel, ...wanted].join('\n');
    if (el.dataset.options !== key) {
      el.dataset.options = key;
      el.replaceChildren(h('option', { text: allLabel, attrs: { value: '' } }), ...wanted.map((v) => h('option', { text: labels[v] ?? v, attrs: { value: v } })));
    }
    el.value = current;
    el.classList.toggle('filter-set', current !== '');
  }

  private renderSelection(): void {
    const sel = this.selected.map((k) => this.byKey(k)).filter((r): r is ReplaySummary => !!r);
    const describe = (r: ReplaySummary) => `${replayAgentLabel(r)} ${shortRunId(r)} · ${r.mode === 'eval' ? `eval @ ${formatCount(r.checkpointStep)}` : `train ep ${r.episode}`}${r.seed !== null ? ` · seed ${r.seed}` : ''}`;
    let text: (Node | string)[] = [];
    let showPartner = false;
    if (sel.length === 0) {
      text = ['Check two replays to play them side by side. Check one evaluation episode first to see which other episodes (of other runs, or of the same run at other steps) started from the same seed.'];
    } else if (sel.length === 1) {
      const one = sel[0]!;
      const n = this.partners().size;
      text = [h('span', { class: 'sel-chip sel-a', text: 'A' }), h('strong', { text: describe(one) })];
      if (one.mode === 'eval' && one.seed !== null) {
        text.push(h('span', { class: 'sel-note', testid: 'partners-note', text: partnersNote(this.all ?? [], one) }));
        showPartner = n > 0;
      } else {
        text.push(h('span', { class: 'sel-note', text: ' — training episodes start mid-stream; pick any second replay' }));
      }
    } else {
      const [a, b] = sel as [ReplaySummary, ReplaySummary];
      const same = a.mode === 'eval' && b.mode === 'eval' && a.envId === b.envId && a.seed !== null && a.seed === b.seed;
      text = [
        h('span', { class: 'sel-chip sel-a', text: 'A' }),
        h('strong', { text: describe(a) }),
        h('span', { class: 'sel-vs', text: 'vs' }),
        h('span', { class: 'sel-chip sel-b', text: 'B' }),
        h('strong', { text: describe(b) }),
        h('span', { class: same ? 'sel-note sel-good' : 'sel-note', text: same ? ' — same start state' : a.envId !== b.envId ? ' — different environments' : ' — different start states' }),
      ];
    }
    this.selectionText.replaceChildren(...text);
    if (showPartner) this.partnerBtn.removeAttribute('hidden');
    else this.partnerBtn.setAttribute('hidden', '');
    this.openBtn.disabled = sel.length !== 2;
  }

  private renderMessage(shown: number): void {
    let title = '';
    let text = '';
    let busy = false;
    if (this.error) {
      title = 'Could not load the replays';
      text = this.error;
    } else if (!this.all) {
      title = 'Loading replays…';
      busy = true;
    } else if (this.all.length === 0) {
      title = 'No replay logs yet';
      text = 'Training records every evaluation episode, and training episodes 0, 1, 8, 27, … of the first env, under <run>/replays/. Train a run (lab train) and they appear here.';
    } else if (shown === 0) {
      title = 'No replay matches the filters';
      text = 'Change or clear the filters above.';
    }
    this.message.classList.toggle('error', !!this.error);
    this.message.replaceChildren(...(title ? [busy ? h('span', { class: 'spinner spinner-inline' }) : null, h('div', { class: 'page-message-title', text: title }), text ? h('div', { class: 'page-message-text', text }) : null].filter((x): x is HTMLElement => !!x) : []));
    if (title) this.message.removeAttribute('hidden');
    else this.message.setAttribute('hidden', '');
    if (shown > 0) this.tableWrap.removeAttribute('hidden');
    else this.tableWrap.setAttribute('hidden', '');
  }

  private renderRows(all: ReplaySummary[]): void {
    const rows = all.slice(0, this.limit);
    if (all.length > rows.length) {
      this.moreBar.removeAttribute('hidden');
      setText(this.moreText, `${rows.length} of ${all.length} logs shown`);
    } else this.moreBar.setAttribute('hidden', '');
    const partners = this.partners();
    const selected = new Set(this.selected);
    const anchor = this.selected.length === 1 ? this.selected[0]! : null;
    let prevRun: string | null = null;
    const trs = rows.map((r) => {
      const key = replayKey(r);
      const isSel = selected.has(key);
      const slot = this.selected.indexOf(key);
      const check = h('input', {
        class: 'checkbox',
        testid: 'replay-select',
        attrs: { type: 'checkbox', 'aria-label': `Select ${r.name} of ${r.runId}` },
        on: {
          click: (e) => e.stopPropagation(),
          change: () => this.toggle(key),
        },
      });
      check.checked = isSel;
      const end = endLabel(r);
      const runStart = r.runId !== prevRun;
      prevRun = r.runId;
      const classes = ['replay-row', runStart ? 'run-start' : '', isSel ? 'selected' : '', partners.has(key) ? 'same-seed' : '', key === anchor ? 'anchor' : ''].filter(Boolean).join(' ');
      const tr = h(
        'tr',
        {
          class: classes,
          testid: 'replay-row',
          dataset: { runId: r.runId, name: r.name, seed: r.seed === null ? '' : String(r.seed), mode: r.mode },
          attrs: { tabindex: '0', title: `Play ${r.name}` },
          on: {
            click: () => navigate({ page: 'replay', ref: { runId: r.runId, name: r.name }, step: null }),
            keydown: (e) => {
              if (e.key === 'Enter') navigate({ page: 'replay', ref: { runId: r.runId, name: r.name }, step: null });
            },
          },
        },
        h('td', { class: 'col-check' }, check, isSel ? h('span', { class: `sel-chip sel-${slot === 0 ? 'a' : 'b'}`, text: slot === 0 ? 'A' : 'B' }) : null),
        h('td', { class: 'col-run', title: r.runId }, h('span', { class: 'mono', text: r.runId })),
        h('td', { class: 'col-env', text: r.envId }),
        h('td', { class: 'col-agent', text: replayAgentLabel(r) }),
        h('td', {}, h('span', { class: `badge badge-${r.mode}`, text: r.mode })),
        h('td', { class: 'num', text: String(r.episode) }),
        h('td', { class: 'num col-seed' }, partners.has(key) ? h('span', { class: 'seed-match', text: 'same seed' }) : null, r.seed === null ? '—' : String(r.seed)),
        h('td', { class: 'num', text: r.checkpointStep === null ? '—' : formatCount(r.checkpointStep) }),
        h('td', { class: 'num strong', text: formatReturn(r.return) }),
        h('td', { class: 'num', text: String(r.length) }),
        h('td', {}, end ? h('span', { class: `end end-${end}`, text: end }) : '—'),
      );
      return tr;
    });
    this.tbody.replaceChildren(...trs);
  }
}

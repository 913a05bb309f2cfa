/**
 * The runs list: one row per run (status, env, agent, seed, progress, return, speed); click to watch. A damaged
 * run (found on disk, its files unusable) shows why in place of its figures. Above the rows, a legend of the
 * statuses listed (their colours; a tap or click opens what each means, for touch screens without tooltips).
 */
import type { RunSummary } from '../../../protocol/protocol.js';
import { formatAge } from '../model/format.js';
import { agentLabel, damageReason, headlineReturn, isActive, isPolicyWatcher, legendStatuses, progressLabel, runProgress, runTitle, sortRuns, spsLabel, statusMeta } from '../model/runs.js';
import { h, setAttr, setText } from './dom.js';

interface Row {
  el: HTMLLIElement;
  dot: HTMLElement;
  env: HTMLElement;
  status: HTMLElement;
  agent: HTMLElement;
  bar: HTMLElement;
  progress: HTMLElement;
  ret: HTMLElement;
  sps: HTMLElement;
  damage: HTMLElement;
}

export class RunList {
  readonly el: HTMLElement;
  private readonly list: HTMLUListElement;
  private readonly empty: HTMLElement;
  private readonly count: HTMLElement;
  private readonly legend: HTMLDetailsElement;
  private readonly legendKeys: HTMLElement;
  private readonly legendList: HTMLElement;
  private legendKey = '';
  private readonly rows = new Map<string, Row>();

  constructor(private readonly onSelect: (runId: string) => void) {
    this.list = h('ul', { class: 'run-list', testid: 'run-list', attrs: { role: 'listbox', 'aria-label': 'Runs' } });
    this.empty = h('div', { class: 'run-list-empty' }, h('div', { class: 'run-list-empty-title', text: 'No runs yet' }), h('div', { text: 'Start one under New run (or with lab train) — it appears here and plays live.' }));
    this.count = h('span', { class: 'section-count' });
    this.legendKeys = h('span', { class: 'status-legend-keys' });
    this.legendList = h('dl', { class: 'status-legend-list', testid: 'status-legend-list' });
    this.legend = h(
      'details',
      { class: 'status-legend', testid: 'status-legend', attrs: { hidden: '' } },
      h('summary', { class: 'status-legend-summary', title: 'What the status colours mean' }, this.legendKeys, h('span', { class: 'status-legend-more', text: 'what they mean' })),
      this.legendList,
    );
    this.el = h('section', { class: 'runs' }, h('div', { class: 'section-head' }, h('h2', { text: 'Runs' }), this.count), this.legend, this.empty, this.list);
  }

  render(runs: readonly RunSummary[], watched: string | null): void {
    const sorted = sortRuns(runs);
    const seen = new Set<string>();
    const now = Date.now();
    sorted.forEach((run, i) => {
      seen.add(run.runId);
      let row = this.rows.get(run.runId);
      if (!row) {
        row = this.createRow(run.runId);
        this.rows.set(run.runId, row);
      }
      this.fill(row, run, watched, now);
      if (this.list.children[i] !== row.el) this.list.insertBefore(row.el, this.list.children[i] ?? null);
    });
    for (const [id, row] of this.rows) {
      if (!seen.has(id)) {
        row.el.remove();
        this.rows.delete(id);
      }
    }
    this.empty.style.display = sorted.length ? 'none' : '';
    setText(this.count, sorted.length ? String(sorted.length) : '');
    this.renderLegend(sorted);
  }

  /** The legend of the statuses listed now (rebuilt only when that set changes, so an open legend stays open). */
  private renderLegend(runs: readonly RunSummary[]): void {
    const entries = legendStatuses(runs);
    const key = entries.map((e) => e.status).join(' ');
    if (key === this.legendKey) return;
    this.legendKey = key;
    if (entries.length === 0) this.legend.setAttribute('hidden', '');
    else this.legend.removeAttribute('hidden');
    const dot = (color: string) => h('span', { class: 'status-dot', style: { '--dot': color } });
    this.legendKeys.replaceChildren(...entries.map(({ meta }) => h('span', { class: 'status-legend-key' }, dot(meta.color), h('span', { text: meta.label, style: { color: meta.color } }))));
    this.legendList.replaceChildren(
      ...entries.flatMap(({ status, meta }) => [
        h('dt', { dataset: { status } }, dot(meta.color), h('span', { text: meta.label, style: { color: meta.color } })),
        h('dd', { dataset: { status }, text: meta.title || 'A status this viewer does not know' }),
      ]),
    );
  }

  private createRow(runId: string): Row {
    const dot = h('span', { class: 'status-dot' });
    const env = h('span', { class: 'run-env' });
    const status = h('span', { class: 'run-status' });
    const agent = h('div', { class: 'run-agent' });
    const bar = h('div', { class: 'progress-bar' });
    const progress = h('span', { class: 'run-steps' });
    const ret = h('span', { class: 'run-return' });
    const sps = h('span', { class: 'run-sps' });
    const damage = h('div', { class: 'run-damage', testid: 'run-damage' });
    const el = h(
      'li',
      {
        class: 'run-item',
        testid: 'run-item',
        dataset: { runId },
        attrs: { role: 'option', tabindex: '0' },
        on: {
          click: () => this.onSelect(runId),
          keydown: (e) => {
            if (e.key === 'Enter' || e.key === ' ') {
              e.preventDefault();
              this.onSelect(runId);
            }
          },
        },
      },
      h('div', { class: 'run-line' }, dot, env, status),
      agent,
      h('div', { class: 'progress' }, bar),
      h('div', { class: 'run-line run-figures' }, progress, ret, sps),
      damage,
    );
    return { el, dot, env, status, agent, bar, progress, ret, sps, damage };
  }

  private fill(row: Row, run: RunSummary, watched: string | null, now: number): void {
    const meta = statusMeta(run.status);
    setAttr(row.el, 'data-status', run.status);
    setAttr(row.el, 'aria-selected', run.runId === watched ? 'true' : 'false');
    row.el.classList.toggle('selected', run.runId === watched);
    row.el.classList.toggle('active', isActive(run));
    row.el.title = run.error ? `${run.runId}\n${run.error}` : run.runId;
    row.dot.style.setProperty('--dot', meta.color);
    setText(row.env, runTitle(run));
    setText(row.status, meta.label);
    row.status.title = meta.title ?? '';
    row.status.style.color = meta.color;
    const age = formatAge(run.createdAt, now);
    setText(row.agent, `${agentLabel(run)} · seed ${run.seed}${age ? ` · ${age}` : ''}`);
    row.bar.style.width = `${(runProgress(run) * 100).toFixed(2)}%`;
    // A policy watcher has no budget to show progress against.
    row.bar.parentElement!.classList.toggle('progress-none', isPolicyWatcher(run));
    row.bar.style.background = meta.color;
    setText(row.progress, progressLabel(run));
    const hr = headlineReturn(run);
    setText(row.ret, hr ? `${hr.label} ${hr.value}` : '');
    setText(row.sps, spsLabel(run));
    const reason = damageReason(run);
    row.el.classList.toggle('damaged', reason !== null);
    setText(row.damage, reason ?? '');
  }
}

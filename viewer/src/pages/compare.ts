/**
 * The Compare page: pick runs (grouped by env), and `GET API.compare` draws each group's learning curve (mean
 * over its runs with a bootstrap CI band) and tabulates final scores — IQM and mean with their intervals,
 * median, per-seed scores — and the probability that one group's run beats another's.
 */
import type { RunSummary } from '../../../protocol/protocol.js';
import type { Page } from '../core/app.js';
import { replaceRoute } from '../core/nav.js';
import {
  compactNumber,
  confidenceLabel,
  curveKeys,
  curveOf,
  curvePointsNear,
  curveTitle,
  damagedRuns,
  decimalsForMagnitude,
  formatEstimate,
  pickerMeta,
  runsByEnv,
  seedScores,
  xUnitOf,
  type CompareResult,
  type CurveKey,
  type GroupResult,
} from '../model/compare.js';
import { formatCount } from '../model/format.js';
import { agentLabel, damageReason, statusMeta } from '../model/runs.js';
import type { CompareCurve, CompareGroupBy, CompareParams, Route } from '../model/routes.js';
import { ApiError, fetchCompare, fetchRuns } from '../net/api.js';
import { Chart, type Series } from '../ui/chart.js';
import { h, setText } from '../ui/dom.js';

const GROUP_BY_LABELS: Record<CompareGroupBy, string> = { 'agent-preset': 'agent / preset', agent: 'agent', preset: 'preset', env: 'environment' };
const CURVE_LABELS: Record<CompareCurve, string> = { eval: 'evaluations', episodes: 'training episodes' };

function sameParams(a: CompareParams, b: CompareParams): boolean {
  return a.groupBy === b.groupBy && a.curve === b.curve && a.runs.length === b.runs.length && a.runs.every((r, i) => r === b.runs[i]);
}

export class ComparePage implements Page {
  readonly el: HTMLElement;
  private params: CompareParams;
  private runs: RunSummary[] | null = null;
  private runsError = '';
  private result: CompareResult | null = null;
  private resultFor: CompareParams | null = null;
  private error = '';
  private loading = false;
  private abort: AbortController | null = null;
  private timer = 0;
  private charts: Chart[] = [];
  private readonly picker: HTMLElement;
  private readonly pickCount: HTMLElement;
  private readonly groupBy: HTMLSelectElement;
  private readonly curve: HTMLSelectElement;
  private readonly status: HTMLElement;
  private readonly results: HTMLElement;

  constructor(route: Extract<Route, { page: 'compare' }>) {
    this.params = { ...route.params, runs: route.params.runs.slice() };
    this.groupBy = h(
      'select',
      { class: 'select', testid: 'compare-group-by', attrs: { 'aria-label': 'Group runs by' }, on: { change: () => this.setParams({ ...this.params, groupBy: this.groupBy.value as CompareGroupBy }) } },
      ...(Object.keys(GROUP_BY_LABELS) as CompareGroupBy[]).map((k) => h('option', { text: GROUP_BY_LABELS[k], attrs: { value: k } })),
    );
    this.curve = h(
      'select',
      { class: 'select', testid: 'compare-curve', attrs: { 'aria-label': 'Learning curve' }, on: { change: () => this.setParams({ ...this.params, curve: this.curve.value as CompareCurve }) } },
      ...(Object.keys(CURVE_LABELS) as CompareCurve[]).map((k) => h('option', { text: CURVE_LABELS[k], attrs: { value: k } })),
    );
    this.pickCount = h('span', { class: 'section-count' });
    this.picker = h('div', { class: 'picker-list', testid: 'compare-picker' });
    const clear = h('button', { class: 'btn btn-ghost btn-small', attrs: { type: 'button' }, on: { click: () => this.setParams({ ...this.params, runs: [] }) } }, h('span', { text: 'Clear' }));
    const field = (label: string, control: HTMLElement) => h('label', { class: 'field' }, h('span', { class: 'field-label', text: label }), control);
    const aside = h(
      'aside',
      { class: 'compare-side panel' },
      h('div', { class: 'field-row compare-options' }, field('Group by', this.groupBy), field('Curve', this.curve)),
      h('div', { class: 'section-head picker-head' }, h('h2', { text: 'Runs' }), this.pickCount, h('span', { class: 'spacer' }), clear),
      this.picker,
    );
    this.status = h('div', { class: 'page-message', testid: 'compare-status', attrs: { hidden: '' } });
    this.results = h('div', { class: 'compare-results' });
    this.el = h(
      'section',
      { class: 'page compare-page', testid: 'page-compare' },
      h(
        'header',
        { class: 'page-header' },
        h(
          'div',
          { class: 'page-heading' },
          h('h1', { class: 'page-title', text: 'Compare' }),
          h('div', { class: 'page-subtitle', text: 'Learning curves and final scores of groups of runs (an agent over several seeds), with stratified-bootstrap confidence intervals.' }),
        ),
      ),
      h('div', { class: 'compare-layout' }, aside, h('div', { class: 'compare-main' }, this.status, this.results)),
    );
    this.renderOptions();
    this.renderPicker();
    this.renderStatus();
    void this.loadRuns();
    this.schedule(0);
  }

  update(route: Route): boolean {
    if (route.page !== 'compare') return false;
    if (!sameParams(route.params, this.params)) {
      this.params = { ...route.params, runs: route.params.runs.slice() };
      this.renderOptions();
      this.renderPicker();
      this.schedule(250);
    }
    return true;
  }

  destroy(): void {
    this.abort?.abort();
    window.clearTimeout(this.timer);
    for (const c of this.charts) c.destroy();
    this.el.remove();
  }

  // -------------------------------------------------------------------------------------------------

  private setParams(p: CompareParams): void {
    replaceRoute({ page: 'compare', params: p });
  }

  private toggleRun(runId: string, on: boolean): void {
    const runs = this.params.runs.filter((r) => r !== runId);
    if (on) runs.push(runId);
    this.setParams({ ...this.params, runs });
  }

  private async loadRuns(): Promise<void> {
    try {
      this.runs = await fetchRuns();
      this.runsError = '';
    } catch (err) {
      this.runsError = (err as Error).message;
    }
    this.renderPicker();
  }

  /** Fetches the comparison shortly after the last change of the selection. */
  private schedule(ms: number): void {
    window.clearTimeout(this.timer);
    this.timer = window.setTimeout(() => void this.load(), ms);
  }

  private async load(): Promise<void> {
    this.abort?.abort();
    const p = { ...this.params, runs: this.params.runs.slice() };
    if (p.runs.length === 0) {
      this.result = null;
      this.resultFor = null;
      this.error = '';
      this.loading = false;
      this.renderStatus();
      this.renderResults();
      return;
    }
    const abort = new AbortController();
    this.abort = abort;
    this.loading = true;
    this.renderStatus();
    try {
      const result = await fetchCompare(p, abort.signal);
      if (abort.signal.aborted) return;
      this.result = result;
      this.resultFor = p;
      this.error = '';
    } catch (err) {
      if (abort.signal.aborted) return;
      this.result = null;
      this.resultFor = null;
      this.error = err instanceof ApiError ? err.message : (err as Error).message;
    }
    this.loading = false;
    this.abort = null;
    this.renderStatus();
    this.renderResults();
  }

  // -------------------------------------------------------------------------------------------------

  private renderOptions(): void {
    this.groupBy.value = this.params.groupBy;
    this.curve.value = this.params.curve;
  }

  private renderPicker(): void {
    const chosen = new Set(this.params.runs);
    setText(this.pickCount, chosen.size ? `${chosen.size} selected` : '');
    if (!this.runs) {
      this.picker.replaceChildren(h('div', { class: 'picker-empty', text: this.runsError ? `Could not list the runs: ${this.runsError}` : 'Loading runs…' }));
      return;
    }
    const groups = runsByEnv(this.runs);
    const damaged = damagedRuns(this.runs);
    const known = new Set(this.runs.map((r) => r.runId));
    const missing = this.params.runs.filter((id) => !known.has(id));
    if (groups.length === 0 && missing.length === 0 && damaged.length === 0) {
      this.picker.replaceChildren(h('div', { class: 'picker-empty', text: 'No runs in the runs directory yet.' }));
      return;
    }
    const row = (runId: string, label: Node[], title: string, statusColor: string | null) => {
      const box = h('input', { class: 'checkbox', testid: 'compare-run-checkbox', dataset: { runId }, attrs: { type: 'checkbox', 'aria-label': `Compare ${runId}` }, on: { change: () => this.toggleRun(runId, box.checked) } });
      box.checked = chosen.has(runId);
      return h(
        'label',
        { class: `pick-row ${box.checked ? 'checked' : ''}`, title },
        box,
        statusColor ? h('span', { class: 'status-dot', style: { '--dot': statusColor } }) : null,
        h('span', { class: 'pick-label' }, ...label),
      );
    };
    const sections = groups.map((g) => {
      const ids = g.runs.map((r) => r.runId);
      const all = ids.every((id) => chosen.has(id));
      const toggleAll = h(
        'button',
        {
          class: 'link-btn',
          attrs: { type: 'button' },
          on: {
            click: () => {
              const rest = this.params.runs.filter((id) => !ids.includes(id));
              this.setParams({ ...this.params, runs: all ? rest : [...rest, ...ids] });
            },
          },
        },
        all ? 'none' : 'all',
      );
      return h(
        'div',
        { class: 'picker-env' },
        h('div', { class: 'picker-env-head' }, h('span', { class: 'picker-env-name', text: g.envId }), h('span', { class: 'section-count', text: String(g.runs.length) }), toggleAll),
        ...g.runs.map((r) => {
          return row(
            r.runId,
            [
              h('span', { class: 'pick-line' }, h('span', { class: 'pick-agent', text: agentLabel(r) }), h('span', { class: 'pick-seed', text: `seed ${r.seed}` })),
              h('span', { class: 'pick-meta', text: `${pickerMeta(r)} · ${statusMeta(r.status).label}` }),
            ],
            `${r.runId} (${statusMeta(r.status).label})`,
            statusMeta(r.status).color,
          );
        }),
      );
    });
    if (damaged.length) {
      // Not choices: their files cannot be used. One chosen anyway (by a link) can still be unchecked.
      sections.push(
        h(
          'div',
          { class: 'picker-env picker-damaged', testid: 'compare-damaged' },
          h('div', { class: 'picker-env-head' }, h('span', { class: 'picker-env-name', text: 'Damaged' }), h('span', { class: 'section-count', text: String(damaged.length) })),
          ...damaged.map((r) => {
            const meta = statusMeta(r.status);
            const label = row(r.runId, [h('span', { class: 'pick-agent mono', text: r.runId }), h('span', { class: 'pick-meta pick-damage', text: damageReason(r) ?? '' })], `${r.runId} (damaged): ${damageReason(r) ?? ''}`, meta.color);
            const box = label.querySelector('input')!;
            if (!box.checked) box.disabled = true;
            label.classList.add('disabled');
            return label;
          }),
        ),
      );
    }
    if (missing.length) {
      sections.push(
        h('div', { class: 'picker-env' }, h('div', { class: 'picker-env-head' }, h('span', { class: 'picker-env-name', text: 'Not in the runs list' })), ...missing.map((id) => row(id, [h('span', { class: 'pick-agent mono', text: id })], id, null))),
      );
    }
    this.picker.replaceChildren(...sections);
  }

  private renderStatus(): void {
    let title = '';
    let text = '';
    let cls = '';
    if (this.params.runs.length === 0) {
      title = 'Pick runs to compare';
      text = 'Check at least two runs in the list. Runs of the same agent and preset form a group (its seeds); each group gets a learning curve with a confidence band and a row of scores.';
    } else if (this.error) {
      title = 'The server refused the comparison';
      text = this.error;
      cls = 'error';
    } else if (this.loading && !this.result) {
      title = 'Comparing…';
    }
    this.status.className = `page-message ${cls}`;
    this.status.classList.toggle('loading', this.loading);
    this.status.replaceChildren(...[this.loading && !this.error ? h('span', { class: 'spinner spinner-inline' }) : null, title ? h('div', { class: 'page-message-title', text: title }) : null, text ? h('div', { class: 'page-message-text', testid: this.error ? 'compare-error' : undefined, text }) : null].filter((x): x is HTMLElement => !!x));
    if (title) this.status.removeAttribute('hidden');
    else this.status.setAttribute('hidden', '');
    // The results on screen are for an older selection until the new answer arrives.
    this.results.classList.toggle('stale', !!this.result && (this.loading || !this.resultFor || !sameParams(this.resultFor, this.params)));
  }

  private renderResults(): void {
    for (const c of this.charts) c.destroy();
    this.charts = [];
    const r = this.result;
    if (!r || this.error) {
      this.results.replaceChildren();
      return;
    }
    const ci = confidenceLabel(r);
    const blocks: HTMLElement[] = [];
    for (const key of curveKeys(r)) blocks.push(this.chartCard(r, key, ci));
    blocks.push(this.scoresCard(r, ci));
    if (r.pairs.length) blocks.push(this.pairsCard(r, ci));
    if (r.notes.length) blocks.push(h('div', { class: 'panel notes-card' }, h('h3', { text: 'Notes' }), h('ul', { class: 'notes' }, ...r.notes.map((n) => h('li', { text: n })))));
    this.results.replaceChildren(...blocks);
  }

  private chartCard(r: CompareResult, key: CurveKey, ci: string): HTMLElement {
    const envId = key.envId;
    const groups = r.groups.filter((g) => (curveOf(g, key)?.points.length ?? 0) > 0);
    const legend = h(
      'div',
      { class: 'legend' },
      ...groups.map((g) => {
        const c = curveOf(g, key)!;
        return h('span', { class: 'legend-item' }, h('span', { class: 'legend-line', style: { background: g.color } }), `${g.name} (${c.runs} run${c.runs === 1 ? '' : 's'})`);
      }),
      h('span', { class: 'legend-item legend-muted' }, h('span', { class: 'legend-band legend-band-plain' }), `${ci} CI`),
    );
    const dataset: Record<string, string> = key.metric !== null ? { envId, metric: key.metric } : { envId };
    const card = h('div', { class: 'panel chart-card compare-chart', testid: 'compare-chart', dataset }, h('div', { class: 'chart-head' }, h('h3', { text: curveTitle(r, key) }), h('span', { class: 'chart-axis', text: `vs ${xUnitOf(r)}` }), legend));
    const chart = new Chart(card, {
      empty: 'No group has a learning curve on this env',
      ...(key.metric?.startsWith('score:') ? { yInclude: [0, 1] } : {}),
      readout: (x) => {
        const pts = curvePointsNear(r, key, x);
        if (!pts.length) return null;
        return {
          title: `${r.xUnit === 'iterations' ? 'iteration' : 'step'} ${formatCount(pts[0]!.step)}`,
          rows: pts.map((p) => ({ color: p.color, label: `${p.group} (n=${p.n})`, value: `${compactNumber(p.mean)} [${compactNumber(p.lo)}, ${compactNumber(p.hi)}]` })),
          marks: pts.map((p) => ({ x: p.step, y: p.mean, color: p.color })),
        };
      },
    });
    const series: Series[] = [];
    for (const g of groups) {
      const pts = curveOf(g, key)!.points;
      series.push({ type: 'band', color: g.color, xs: pts.map((p) => p.step), lo: pts.map((p) => p.lo), hi: pts.map((p) => p.hi), alpha: 0.16, edges: true });
    }
    for (const g of groups) {
      const pts = curveOf(g, key)!.points;
      series.push({ type: 'line', color: g.color, xs: pts.map((p) => p.step), ys: pts.map((p) => p.mean), width: 2.25, markers: (r.options.curve === 'eval' || key.metric !== null) && pts.length <= 40 });
    }
    chart.setSeries(series);
    this.charts.push(chart);
    return card;
  }

  private scoresCard(r: CompareResult, ci: string): HTMLElement {
    const multi = r.envs.length > 1;
    const sections: HTMLElement[] = [];
    const swatch = (g: GroupResult) => h('span', { class: 'swatch swatch-round', style: { background: g.color } });
    const table = (caption: string | null, rows: { g: GroupResult; runs: number; iqm: { value: number; lo: number; hi: number }; mean: { value: number; lo: number; hi: number }; median: number; scores: string; gap: string | null }[], gapHeader: string | null) => {
      const mags = rows.flatMap((x) => [x.iqm.hi, x.iqm.lo, x.mean.hi, x.mean.lo, x.median].map(Math.abs));
      const d = decimalsForMagnitude(Math.max(0, ...mags));
      return h(
        'div',
        { class: 'scores-block' },
        caption ? h('div', { class: 'table-caption', text: caption }) : null,
        h(
          'table',
          { class: 'data-table scores-table' },
          h(
            'thead',
            {},
            h('tr', {}, h('th', { text: 'Group' }), h('th', { class: 'num', text: 'Runs' }), h('th', { class: 'num', text: `IQM [${ci} CI]` }), h('th', { class: 'num', text: `Mean [${ci} CI]` }), h('th', { class: 'num', text: 'Median' }), gapHeader ? h('th', { class: 'num', text: gapHeader }) : null, h('th', { text: 'Per-seed scores' })),
          ),
          h(
            'tbody',
            {},
            ...rows.map((x) =>
              h(
                'tr',
                { dataset: { group: x.g.name } },
                h('td', { class: 'group-cell' }, swatch(x.g), h('span', { text: x.g.name })),
                h('td', { class: 'num', text: String(x.runs) }),
                h('td', { class: 'num strong estimate', text: formatEstimate(x.iqm, d) }),
                h('td', { class: 'num estimate', text: formatEstimate(x.mean, d) }),
                h('td', { class: 'num', text: x.median.toFixed(d) }),
                gapHeader ? h('td', { class: 'num', text: x.gap ?? '—' }) : null,
                h('td', { class: 'seed-scores', text: x.scores }),
              ),
            ),
          ),
        ),
      );
    };
    for (const envId of r.envs) {
      const threshold = r.thresholds[envId];
      const gapHeader = threshold !== null && threshold !== undefined ? `Gap to ${compactNumber(threshold)}` : null;
      const rows = r.groups.flatMap((g) => {
        const p = g.perEnv.find((e) => e.envId === envId);
        return p ? [{ g, runs: p.runs, iqm: p.iqm, mean: p.mean, median: p.median, scores: seedScores(g, envId), gap: p.optimalityGap ? p.optimalityGap.value.toFixed(1) : null }] : [];
      });
      sections.push(table(multi || threshold ? `${envId}${threshold !== null && threshold !== undefined ? ` · reward threshold ${compactNumber(threshold)}` : ''}` : null, rows, gapHeader));
    }
    if (multi) {
      const normalized = r.groups.some((g) => g.aggregate.normalized);
      const rows = r.groups.map((g) => ({ g, runs: g.aggregate.runs, iqm: g.aggregate.iqm, mean: g.aggregate.mean, median: g.aggregate.median, scores: `${g.aggregate.envs.length} env${g.aggregate.envs.length === 1 ? '' : 's'}`, gap: null }));
      sections.push(table(`Aggregate over ${r.envs.length} envs (${normalized ? 'threshold-normalised' : 'raw returns'})`, rows, null));
    }
    return h(
      'div',
      { class: 'panel table-card', testid: 'compare-table' },
      h('div', { class: 'card-head' }, h('h3', { text: 'Final scores' }), h('span', { class: 'chart-axis', testid: 'compare-score-label', text: `score of a run: ${r.scoreLabel ?? 'the mean return of its last greedy evaluation'} · ${r.options.reps.toLocaleString('en-US')} bootstrap resamples` })),
      ...sections,
    );
  }

  private pairsCard(r: CompareResult, ci: string): HTMLElement {
    const color = (name: string) => r.groups.find((g) => g.name === name)?.color ?? '#8b98a8';
    const rows = r.pairs.map((p) => {
      const v = p.probability;
      const bar = h(
        'div',
        { class: 'prob-bar', title: `${v.value.toFixed(3)} [${v.lo.toFixed(3)}, ${v.hi.toFixed(3)}]` },
        h('span', { class: 'prob-mid' }),
        h('span', { class: 'prob-ci', style: { left: `${Math.min(v.lo, 0.995) * 100}%`, width: `${Math.max(0.5, (v.hi - Math.min(v.lo, 0.995)) * 100)}%`, background: color(p.x) } }),
        h('span', { class: 'prob-dot', style: { left: `${v.value * 100}%`, background: color(p.x) } }),
      );
      return h(
        'tr',
        { dataset: { x: p.x, y: p.y } },
        h('td', { class: 'pair-cell' }, 'P(', h('span', { class: 'swatch swatch-round', style: { background: color(p.x) } }), h('strong', { text: p.x }), ' > ', h('span', { class: 'swatch swatch-round', style: { background: color(p.y) } }), h('strong', { text: p.y }), ')'),
        h('td', { class: 'num strong estimate', text: `${v.value.toFixed(3)} [${v.lo.toFixed(3)}, ${v.hi.toFixed(3)}]` }),
        h('td', { class: 'prob-cell' }, bar),
        r.envs.length > 1 ? h('td', { class: 'num', text: `${p.envs.length} env${p.envs.length === 1 ? '' : 's'}` }) : null,
      );
    });
    return h(
      'div',
      { class: 'panel table-card', testid: 'compare-pairs' },
      h('div', { class: 'card-head' }, h('h3', { text: 'Probability of improvement' }), h('span', { class: 'chart-axis', text: `how often a run of X beats a run of Y on the same env (ties count ½), ${ci} CI` })),
      h(
        'table',
        { class: 'data-table pairs-table' },
        h('thead', {}, h('tr', {}, h('th', { text: 'Pair' }), h('th', { class: 'num', text: `P(X > Y) [${ci} CI]` }), h('th', {}, h('div', { class: 'prob-head' }, h('span', { text: '0' }), h('span', { text: '½' }), h('span', { text: '1' }))), r.envs.length > 1 ? h('th', { class: 'num', text: 'Envs' }) : null)),
        h('tbody', {}, ...rows),
      ),
    );
  }
}

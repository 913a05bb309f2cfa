/**
 * The AlphaZero-lite run view (`lab go train`, kind 'go-alphazero'): a HUD (iteration / budget, the newest
 * evaluation's win rates, policy and value loss, status), a card that says where to play the agent (the Go page,
 * `#/go?size=N&opponent=alphazero&agent=<run>`), and the curves: evaluation win rate against each opponent and
 * the training losses, against self-play iterations. Stored runs, and runs published live (lab go train --live,
 * lab sweep --live): their iterations and matches arrive as metrics messages.
 */
import type { FramesMessage, MatchPoint, MetricsMessage, RunSummary, UpdatePoint } from '../../../protocol/protocol.js';
import { registerRunView, type RunView, type RunViewContext } from '../core/run_views.js';
import { formatCount, formatNumber, formatStepTick } from '../model/format.js';
import { goPlayRoute, lastMatchesOf, LOSS_LINES_AZ, matchSeries, matchesLabel } from '../model/alphazero.js';
import { nearestIndex } from '../model/chart_math.js';
import { statusMeta } from '../model/runs.js';
import { formatRoute } from '../model/routes.js';
import type { WatchResult } from '../net/connection.js';
import { Chart, type Readout, type Series } from '../ui/chart.js';
import { h, setText } from '../ui/dom.js';

interface HudCell {
  root: HTMLElement;
  value: HTMLElement;
}

/** Iterations are whole: no labels at fractional ticks (a run of a few iterations). */
const iterationTick = (v: number, step: number): string => (Number.isInteger(v) ? formatStepTick(v, step) : '');

function hudCell(name: string, testid: string): HudCell {
  const value = h('div', { class: 'hud-value', text: '—', testid });
  return { root: h('div', { class: 'hud-cell' }, h('div', { class: 'hud-label', text: name }), value), value };
}

class AlphaZeroView implements RunView {
  private run: RunSummary;
  private readonly root: HTMLElement;
  private readonly hud: Record<'iteration' | 'eval' | 'policy' | 'value' | 'status', HudCell>;
  private readonly playLink: HTMLAnchorElement;
  private readonly playText: HTMLElement;
  private readonly evalChart: Chart;
  private readonly lossChart: Chart;
  private readonly evalLegend: HTMLElement;
  private readonly lossLegend: HTMLElement;
  private updates: UpdatePoint[] = [];
  private matches: MatchPoint[] = [];

  constructor(ctx: RunViewContext, run: RunSummary) {
    this.run = run;
    this.hud = {
      iteration: hudCell('ITERATION', 'hud-iteration'),
      eval: hudCell('LAST EVALUATION (WIN RATE)', 'hud-az-eval'),
      policy: hudCell('POLICY LOSS', 'hud-az-policy'),
      value: hudCell('VALUE LOSS', 'hud-az-value'),
      status: hudCell('STATUS', 'hud-status'),
    };
    const hudEl = h('div', { class: 'hud az-hud panel' }, ...Object.values(this.hud).map((c) => c.root));
    this.playText = h('div', { class: 'az-play-text', testid: 'az-play-text' });
    this.playLink = h('a', { class: 'btn btn-primary az-play-link', testid: 'az-play', attrs: { href: '#/go' } }, h('span', { text: 'Play it on the Go page' }));
    const playCard = h('div', { class: 'panel az-play', testid: 'az-play-card' }, h('div', { class: 'az-play-body' }, h('h3', { text: 'Play this agent' }), this.playText), this.playLink);

    this.evalLegend = h('div', { class: 'legend' });
    const evalCard = h('div', { class: 'panel chart-card', testid: 'chart-az-eval' }, h('div', { class: 'chart-head' }, h('h3', { text: 'Evaluation win rate' }), h('span', { class: 'chart-axis', text: 'vs iterations · draws count ½' }), this.evalLegend));
    this.evalChart = new Chart(evalCard, { empty: 'No evaluations (trained with evalEvery 0, or none yet)', yInclude: [0, 1], formatX: iterationTick, readout: (x) => this.evalReadout(x) });
    this.lossLegend = h('div', { class: 'legend' });
    const lossCard = h('div', { class: 'panel chart-card', testid: 'chart-az-loss' }, h('div', { class: 'chart-head' }, h('h3', { text: 'Training losses' }), h('span', { class: 'chart-axis', text: 'vs iterations' }), this.lossLegend));
    this.lossChart = new Chart(lossCard, { empty: 'No iterations yet', formatX: iterationTick, readout: (x) => this.lossReadout(x) });

    this.root = h('section', { class: 'az-view', testid: 'az-view' }, hudEl, playCard, h('div', { class: 'az-charts' }, evalCard, lossCard));
    ctx.container.append(this.root);
    this.renderSummary();
  }

  load(data: WatchResult): void {
    this.run = data.run;
    this.updates = data.history.updates.slice().sort((a, b) => a.step - b.step);
    this.matches = (data.history.matches ?? []).slice().sort((a, b) => a.step - b.step);
    this.renderCharts();
    this.renderSummary();
  }

  update(run: RunSummary): void {
    this.run = run;
    this.renderSummary();
  }

  frames(_m: FramesMessage): void {
    // AlphaZero-lite runs send no step frames.
  }

  metrics(m: MetricsMessage): void {
    const matches = m.matches ?? [];
    if (!m.updates.length && !matches.length) return;
    this.updates.push(...m.updates);
    if (matches.length) this.matches = [...this.matches, ...matches].sort((a, b) => a.step - b.step);
    this.renderCharts();
    this.renderSummary();
  }

  destroy(): void {
    this.evalChart.destroy();
    this.lossChart.destroy();
    this.root.remove();
  }

  // -------------------------------------------------------------------------------------------------

  private renderCharts(): void {
    const evals = matchSeries(this.matches);
    this.evalChart.setSeries(evals.flatMap((s): Series[] => [{ type: 'line', color: s.color, xs: s.xs, ys: s.ys, width: 2, markers: s.xs.length <= 40 }]));
    this.evalLegend.replaceChildren(...evals.map((s) => h('span', { class: 'legend-item' }, h('span', { class: 'legend-line', style: { background: s.color } }), h('span', { text: `vs ${s.opponent} ${formatNumber(s.ys.at(-1), 2)}` }))));
    const xs = this.updates.map((u) => u.step);
    const series: Series[] = LOSS_LINES_AZ.map((l) => ({ type: 'line', color: l.color, xs, ys: this.updates.map((u) => u.stats[l.key] ?? NaN), width: 2 }));
    this.lossChart.setSeries(series);
    const last = this.updates.at(-1);
    this.lossLegend.replaceChildren(...LOSS_LINES_AZ.map((l) => h('span', { class: 'legend-item' }, h('span', { class: 'legend-line', style: { background: l.color } }), h('span', { text: last ? `${l.label} ${formatNumber(last.stats[l.key], 3)}` : l.label }))));
  }

  private evalReadout(x: number): Readout | null {
    const steps = [...new Set(this.matches.map((m) => m.step))];
    const i = nearestIndex(steps, x);
    if (i < 0) return null;
    const at = steps[i]!;
    const rows = matchSeries(this.matches.filter((m) => m.step === at));
    return {
      title: `iteration ${formatCount(at)}`,
      rows: rows.map((s) => {
        const m = this.matches.find((p) => p.step === at && p.opponent === s.opponent)!;
        return { color: s.color, label: `vs ${s.opponent}`, value: `${formatNumber(m.score, 3)} (${m.wins}–${m.losses}${m.draws ? `–${m.draws}` : ''} of ${m.games})` };
      }),
      marks: rows.map((s) => ({ x: at, y: s.ys[0]!, color: s.color })),
    };
  }

  private lossReadout(x: number): Readout | null {
    const xs = this.updates.map((u) => u.step);
    const i = nearestIndex(xs, x);
    if (i < 0) return null;
    const u = this.updates[i]!;
    return {
      title: `iteration ${formatCount(u.step)}`,
      rows: LOSS_LINES_AZ.map((l) => ({ color: l.color, label: l.label, value: formatNumber(u.stats[l.key], 4) })),
      marks: LOSS_LINES_AZ.map((l) => ({ x: u.step, y: u.stats[l.key] ?? NaN, color: l.color })).filter((m) => Number.isFinite(m.y)),
    };
  }

  private renderSummary(): void {
    const r = this.run;
    const last = this.updates.at(-1);
    const step = Math.max(r.step, last?.step ?? 0);
    setText(this.hud.iteration.value, `${formatCount(step)} / ${formatCount(r.steps)}`);
    this.hud.iteration.value.title = `${step.toLocaleString('en-US')} of ${r.steps.toLocaleString('en-US')} self-play iterations`;
    const matches = this.matches.length ? lastMatchesOf(this.matches) : (r.lastMatches ?? []);
    setText(this.hud.eval.value, matchesLabel(matches) ?? '—');
    this.hud.eval.value.title = matches.map((m) => `vs ${m.opponent}: ${m.wins} won, ${m.losses} lost, ${m.draws} drawn of ${m.games} (iteration ${m.step})`).join('\n');
    setText(this.hud.policy.value, formatNumber(last?.stats.policyLoss, 3));
    setText(this.hud.value.value, formatNumber(last?.stats.valueLoss, 3));
    const meta = statusMeta(r.status);
    setText(this.hud.status.value, meta.label);
    this.hud.status.value.style.color = meta.color;
    const route = goPlayRoute(r);
    if (route) {
      this.playLink.href = formatRoute(route);
      this.playLink.removeAttribute('hidden');
      setText(this.playText, `Its network plays on the Go page: ${route.settings.size}×${route.settings.size}, opponent AlphaZero, agent ${r.runId}. lab match ${r.runId} mcts plays it from the command line; lab compare compares its evaluations with other AlphaZero-lite runs.`);
    } else {
      this.playLink.setAttribute('hidden', '');
      setText(this.playText, `Play it with lab match <runs>/${r.runId} mcts, or on the Go page once the server lists it as an agent.`);
    }
  }
}

registerRunView('go-alphazero', (ctx, run) => new AlphaZeroView(ctx, run));

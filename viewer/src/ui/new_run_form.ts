/**
 * The "New run" form. An RL agent (`lab train`): env, agent, preset (of that agent), seed, steps. A GAN
 * (`lab gan train`): Quick, Draw! category, GAN preset, seed, iterations. Errors from the server shown inline.
 */
import type { Catalog, CatalogAgent, RunKind, StartRunRequest } from '../../../protocol/protocol.js';

/** The kinds of run the form starts (AlphaZero-lite runs are started with lab go train). */
type FormKind = Exclude<RunKind, 'go-alphazero'>;
import { h, icon, ICONS } from './dom.js';

/** The most env steps (RL) and iterations (GAN) the form starts: longer runs are for lab train on a terminal. */
export const MAX_FORM_STEPS = 10_000_000;
export const MAX_FORM_ITERATIONS = 1_000_000;

export class NewRunForm {
  readonly el: HTMLFormElement;
  private kind: FormKind = 'rl';
  private readonly kindButtons: Record<FormKind, HTMLButtonElement>;
  private readonly rlFields: HTMLElement;
  private readonly ganFields: HTMLElement;
  private readonly env: HTMLSelectElement;
  private readonly agent: HTMLSelectElement;
  private readonly preset: HTMLSelectElement;
  private readonly category: HTMLSelectElement;
  private readonly ganPreset: HTMLSelectElement;
  private readonly seed: HTMLInputElement;
  private readonly steps: HTMLInputElement;
  private readonly stepsLabel: HTMLElement;
  private readonly start: HTMLButtonElement;
  private readonly error: HTMLElement;
  private readonly hint: HTMLElement;
  private catalog: Catalog | null = null;
  private busy = false;
  private canStart = true;
  private readonly keyNote: HTMLElement;

  constructor(private readonly onStart: (request: StartRunRequest) => Promise<void>) {
    const kindButton = (kind: FormKind, text: string, title: string) =>
      h('button', { class: 'segment', testid: `kind-${kind}`, title, text, attrs: { type: 'button', 'aria-pressed': 'false' }, on: { click: () => this.setKind(kind) } });
    this.kindButtons = {
      rl: kindButton('rl', 'RL agent', 'Train an agent on an environment (lab train)'),
      gan: kindButton('gan', 'GAN', 'Train a GAN on Quick, Draw! doodles (lab gan train)'),
    };
    this.env = h('select', { class: 'select', testid: 'env-select', attrs: { name: 'env', 'aria-label': 'Environment' }, on: { change: () => this.envChanged() } });
    this.agent = h('select', { class: 'select', testid: 'agent-select', attrs: { name: 'agent', 'aria-label': 'Agent' }, on: { change: () => this.agentChanged() } });
    this.preset = h('select', { class: 'select', testid: 'preset-select', attrs: { name: 'preset', 'aria-label': 'Preset' }, on: { change: () => this.describe() } });
    this.category = h('select', { class: 'select', testid: 'category-select', attrs: { name: 'category', 'aria-label': 'Quick, Draw! category' } });
    this.ganPreset = h('select', { class: 'select', testid: 'gan-preset-select', attrs: { name: 'gan-preset', 'aria-label': 'GAN preset' }, on: { change: () => this.describe() } });
    this.seed = h('input', { class: 'input', testid: 'seed-input', attrs: { name: 'seed', type: 'number', min: '0', step: '1', inputmode: 'numeric', value: '1', placeholder: 'default (0)', 'aria-label': 'Seed', title: 'Empty: the default seed, 0' } });
    this.steps = h('input', { class: 'input', testid: 'steps-input', attrs: { name: 'steps', type: 'number', min: '1', max: String(MAX_FORM_STEPS), step: '1', inputmode: 'numeric', placeholder: 'preset default', 'aria-label': 'Env steps' } });
    this.start = h('button', { class: 'btn btn-primary', testid: 'start-run', attrs: { type: 'submit' } }, icon(ICONS.play), h('span', { text: 'Start' }));
    this.error = h('div', { class: 'form-error', testid: 'start-error', attrs: { role: 'alert' } });
    this.hint = h('div', { class: 'form-hint' });
    this.keyNote = h('div', {
      class: 'form-note',
      testid: 'key-note',
      text: 'This page can watch runs but not start them: open the link that lab serve printed (it holds the server\'s key).',
      attrs: { hidden: '' },
    });
    this.stepsLabel = h('span', { class: 'field-label', text: 'Steps' });
    const field = (name: string, control: HTMLElement, cls = '') => h('label', { class: `field ${cls}` }, h('span', { class: 'field-label', text: name }), control);
    this.rlFields = h('div', { class: 'form-group' }, field('Environment', this.env, 'field-wide'), h('div', { class: 'field-row' }, field('Agent', this.agent), field('Preset', this.preset)));
    this.ganFields = h('div', { class: 'form-group', attrs: { hidden: '' } }, h('div', { class: 'field-row' }, field('Category', this.category), field('Preset', this.ganPreset)));
    this.el = h(
      'form',
      { class: 'new-run', testid: 'new-run-form', attrs: { novalidate: '' }, on: { submit: (e) => this.submit(e) } },
      h('div', { class: 'section-head' }, h('h2', { text: 'New run' })),
      h('div', { class: 'segmented', attrs: { role: 'group', 'aria-label': 'Kind of run' } }, this.kindButtons.rl, this.kindButtons.gan),
      this.rlFields,
      this.ganFields,
      this.hint,
      h('div', { class: 'field-row' }, field('Seed', this.seed), h('label', { class: 'field' }, this.stepsLabel, this.steps)),
      this.keyNote,
      this.start,
      this.error,
    );
    this.setCatalog(null);
    this.setKind('rl');
  }

  setCatalog(catalog: Catalog | null): void {
    this.catalog = catalog;
    const keepEnv = this.env.value;
    const keepAgent = this.agent.value;
    const keepCategory = this.category.value;
    const keepGanPreset = this.ganPreset.value;
    if (!catalog) {
      for (const s of [this.env, this.agent, this.category, this.ganPreset]) s.replaceChildren(h('option', { text: 'loading…', attrs: { value: '' } }));
      this.preset.replaceChildren(h('option', { text: '(default)', attrs: { value: '' } }));
      this.updateDisabled();
      return;
    }
    const envs = [...catalog.envs].sort((a, b) => a.id.localeCompare(b.id));
    this.env.replaceChildren(...envs.map((e) => h('option', { text: e.id, attrs: { value: e.id } })));
    this.agent.replaceChildren(...catalog.agents.map((a) => h('option', { text: a.name, attrs: { value: a.name }, title: a.description })));
    if (keepEnv && envs.some((e) => e.id === keepEnv)) this.env.value = keepEnv;
    else if (envs.some((e) => e.id === 'CartPole-v1')) this.env.value = 'CartPole-v1';
    if (keepAgent && catalog.agents.some((a) => a.name === keepAgent)) this.agent.value = keepAgent;
    // An older server sends no GAN section: the GAN choice stays empty (and disabled).
    const gan = catalog.gan ?? { categories: [], presets: [], defaultPreset: '' };
    this.category.replaceChildren(...gan.categories.map((c) => h('option', { text: c, attrs: { value: c } })));
    if (keepCategory && gan.categories.includes(keepCategory)) this.category.value = keepCategory;
    else if (gan.categories.includes('apple')) this.category.value = 'apple';
    this.ganPreset.replaceChildren(...gan.presets.map((p) => h('option', { text: `${p.name} (${p.iterations.toLocaleString('en-US')} it.)`, title: p.description, attrs: { value: p.name } })));
    if (keepGanPreset && gan.presets.some((p) => p.name === keepGanPreset)) this.ganPreset.value = keepGanPreset;
    else if (gan.presets.some((p) => p.name === gan.defaultPreset)) this.ganPreset.value = gan.defaultPreset;
    this.fillPresets();
    this.updateDisabled();
  }

  private setKind(kind: FormKind): void {
    this.kind = kind;
    for (const [k, b] of Object.entries(this.kindButtons)) {
      b.setAttribute('aria-pressed', k === kind ? 'true' : 'false');
      b.classList.toggle('active', k === kind);
    }
    if (kind === 'gan') {
      this.rlFields.setAttribute('hidden', '');
      this.ganFields.removeAttribute('hidden');
    } else {
      this.ganFields.setAttribute('hidden', '');
      this.rlFields.removeAttribute('hidden');
    }
    this.stepsLabel.textContent = kind === 'gan' ? 'Iterations' : 'Steps';
    this.steps.setAttribute('aria-label', kind === 'gan' ? 'Iterations' : 'Env steps');
    this.steps.max = String(kind === 'gan' ? MAX_FORM_ITERATIONS : MAX_FORM_STEPS);
    this.error.textContent = '';
    this.describe();
    this.updateDisabled();
  }

  private selectedAgent(): CatalogAgent | undefined {
    return this.catalog?.agents.find((a) => a.name === this.agent.value);
  }

  private envChanged(): void {
    this.fillPresets();
  }

  private agentChanged(): void {
    this.fillPresets();
  }

  private fillPresets(): void {
    const agent = this.selectedAgent();
    const env = this.env.value;
    const keep = this.preset.value;
    const presets = agent?.presets ?? [];
    this.preset.replaceChildren(
      h('option', { text: '(default)', attrs: { value: '' } }),
      ...presets.map((p) => h('option', { text: p.envId === env ? `${p.name} ★` : p.name, title: p.description, attrs: { value: p.name } })),
    );
    if (keep && presets.some((p) => p.name === keep)) this.preset.value = keep;
    this.describe();
  }

  private describe(): void {
    let text = '';
    if (this.kind === 'gan') {
      const p = this.catalog?.gan?.presets.find((x) => x.name === this.ganPreset.value);
      text = p ? `${p.description}. Sample grids and loss curves play here live.` : '';
    } else {
      const agent = this.selectedAgent();
      const env = this.env.value;
      const chosen = agent?.presets.find((p) => p.name === this.preset.value);
      const tuned = agent?.presets.find((p) => p.envId === env);
      if (chosen) text = chosen.description;
      else if (tuned) text = `Default for ${env}: ${tuned.name} — ${tuned.description}`;
      else if (agent) text = agent.description;
    }
    this.hint.textContent = text;
    this.hint.title = text;
  }

  /** Whether this page holds the server's key; without it Start is off and a note says how to get it. */
  setCanStart(canStart: boolean): void {
    this.canStart = canStart;
    if (canStart) this.keyNote.setAttribute('hidden', '');
    else this.keyNote.removeAttribute('hidden');
    this.updateDisabled();
  }

  private updateDisabled(): void {
    const c = this.catalog;
    const rlReady = !!c && c.envs.length > 0 && c.agents.length > 0;
    const ganReady = !!c && (c.gan?.categories.length ?? 0) > 0 && (c.gan?.presets.length ?? 0) > 0;
    const ready = this.kind === 'gan' ? ganReady : rlReady;
    this.start.disabled = !ready || this.busy || !this.canStart;
    this.start.classList.toggle('busy', this.busy);
    for (const s of [this.env, this.agent, this.preset]) s.disabled = !rlReady;
    for (const s of [this.category, this.ganPreset]) s.disabled = !ganReady;
  }

  private readInt(input: HTMLInputElement, name: string, min: number, max = 2 ** 31 - 1, why = ''): number | undefined {
    const raw = input.value.trim();
    // An invalid number in a number input reads as '' (badInput): say so instead of using the default.
    if (raw === '' && input.validity.badInput) throw new Error(`${name} must be a whole number`);
    if (raw === '') return undefined;
    const v = Number(raw);
    if (!Number.isSafeInteger(v) || v < min) throw new Error(`${name} must be a whole number ≥ ${min}`);
    if (v > max) throw new Error(`${name} must be at most ${max.toLocaleString('en-US')}${why}`);
    return v;
  }

  private request(): StartRunRequest {
    const seed = this.readInt(this.seed, 'Seed', 0);
    if (this.kind === 'gan') {
      const iterations = this.readInt(this.steps, 'Iterations', 1, MAX_FORM_ITERATIONS, ' here (longer: lab gan train)');
      return {
        kind: 'gan',
        category: this.category.value,
        ...(this.ganPreset.value ? { preset: this.ganPreset.value } : {}),
        ...(seed !== undefined ? { seed } : {}),
        ...(iterations !== undefined ? { iterations } : {}),
      };
    }
    const steps = this.readInt(this.steps, 'Steps', 1, MAX_FORM_STEPS, ' here (longer: lab train)');
    return {
      envId: this.env.value,
      agent: this.agent.value,
      ...(this.preset.value ? { preset: this.preset.value } : {}),
      ...(seed !== undefined ? { seed } : {}),
      ...(steps !== undefined ? { steps } : {}),
    };
  }

  private async submit(e: SubmitEvent): Promise<void> {
    e.preventDefault();
    if (this.busy) return;
    this.error.textContent = '';
    let request: StartRunRequest;
    try {
      request = this.request();
    } catch (err) {
      this.error.textContent = (err as Error).message;
      return;
    }
    this.busy = true;
    this.updateDisabled();
    try {
      await this.onStart(request);
    } catch (err) {
      this.error.textContent = (err as Error).message;
    } finally {
      this.busy = false;
      this.updateDisabled();
    }
  }
}

/** The "New run" form: env, agent, preset (of that agent), seed, steps; errors from the server shown inline. */
import type { Catalog, CatalogAgent, StartRunRequest } from '../../../lab/protocol.js';
import { h, icon, ICONS } from './dom.js';

export class NewRunForm {
  readonly el: HTMLFormElement;
  private readonly env: HTMLSelectElement;
  private readonly agent: HTMLSelectElement;
  private readonly preset: HTMLSelectElement;
  private readonly seed: HTMLInputElement;
  private readonly steps: HTMLInputElement;
  private readonly start: HTMLButtonElement;
  private readonly error: HTMLElement;
  private readonly hint: HTMLElement;
  private catalog: Catalog | null = null;
  private busy = false;

  constructor(private readonly onStart: (request: StartRunRequest) => Promise<void>) {
    this.env = h('select', { class: 'select', testid: 'env-select', attrs: { name: 'env', 'aria-label': 'Environment' }, on: { change: () => this.envChanged() } });
    this.agent = h('select', { class: 'select', testid: 'agent-select', attrs: { name: 'agent', 'aria-label': 'Agent' }, on: { change: () => this.agentChanged() } });
    this.preset = h('select', { class: 'select', testid: 'preset-select', attrs: { name: 'preset', 'aria-label': 'Preset' }, on: { change: () => this.describe() } });
    this.seed = h('input', { class: 'input', testid: 'seed-input', attrs: { name: 'seed', type: 'number', min: '0', step: '1', inputmode: 'numeric', value: '1', 'aria-label': 'Seed' } });
    this.steps = h('input', { class: 'input', testid: 'steps-input', attrs: { name: 'steps', type: 'number', min: '1', step: '1', inputmode: 'numeric', placeholder: 'preset default', 'aria-label': 'Env steps' } });
    this.start = h('button', { class: 'btn btn-primary', testid: 'start-run', attrs: { type: 'submit' } }, icon(ICONS.play), h('span', { text: 'Start' }));
    this.error = h('div', { class: 'form-error', testid: 'start-error', attrs: { role: 'alert' } });
    this.hint = h('div', { class: 'form-hint' });
    const field = (name: string, control: HTMLElement, cls = '') => h('label', { class: `field ${cls}` }, h('span', { class: 'field-label', text: name }), control);
    this.el = h(
      'form',
      { class: 'new-run', testid: 'new-run-form', attrs: { novalidate: '' }, on: { submit: (e) => this.submit(e) } },
      h('div', { class: 'section-head' }, h('h2', { text: 'New run' })),
      field('Environment', this.env, 'field-wide'),
      h('div', { class: 'field-row' }, field('Agent', this.agent), field('Preset', this.preset)),
      this.hint,
      h('div', { class: 'field-row' }, field('Seed', this.seed), field('Steps', this.steps)),
      this.start,
      this.error,
    );
    this.setCatalog(null);
  }

  setCatalog(catalog: Catalog | null): void {
    this.catalog = catalog;
    const keepEnv = this.env.value;
    const keepAgent = this.agent.value;
    if (!catalog) {
      this.env.replaceChildren(h('option', { text: 'loading…', attrs: { value: '' } }));
      this.agent.replaceChildren(h('option', { text: 'loading…', attrs: { value: '' } }));
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
    this.fillPresets();
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
    const agent = this.selectedAgent();
    const env = this.env.value;
    const chosen = agent?.presets.find((p) => p.name === this.preset.value);
    const tuned = agent?.presets.find((p) => p.envId === env);
    let text = '';
    if (chosen) text = chosen.description;
    else if (tuned) text = `Default for ${env}: ${tuned.name} — ${tuned.description}`;
    else if (agent) text = agent.description;
    this.hint.textContent = text;
    this.hint.title = text;
  }

  private updateDisabled(): void {
    const ready = !!this.catalog && this.catalog.envs.length > 0 && this.catalog.agents.length > 0;
    this.start.disabled = !ready || this.busy;
    this.start.classList.toggle('busy', this.busy);
    for (const c of [this.env, this.agent, this.preset]) c.disabled = !ready;
  }

  private readInt(input: HTMLInputElement, name: string, min: number): number | undefined {
    const raw = input.value.trim();
    if (raw === '') return undefined;
    const v = Number(raw);
    if (!Number.isSafeInteger(v) || v < min) throw new Error(`${name} must be a whole number ≥ ${min}`);
    return v;
  }

  private async submit(e: SubmitEvent): Promise<void> {
    e.preventDefault();
    if (this.busy) return;
    this.error.textContent = '';
    let request: StartRunRequest;
    try {
      request = { envId: this.env.value, agent: this.agent.value };
      if (this.preset.value) request.preset = this.preset.value;
      const seed = this.readInt(this.seed, 'Seed', 0);
      if (seed !== undefined) request.seed = seed;
      const steps = this.readInt(this.steps, 'Steps', 1);
      if (steps !== undefined) request.steps = steps;
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

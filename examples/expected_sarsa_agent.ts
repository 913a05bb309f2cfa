/**
 * Example plug-in agent: tabular Expected SARSA for envs with Discrete observations and actions, registered as
 * `expected-sarsa`. Train it with the lab's loop (checkpoints, evaluations, replay logs, live view, resume):
 *
 *   npx lab train --import ./examples/expected_sarsa_agent.ts --agent expected-sarsa --env FrozenLake-v1 --steps 50000
 *   npx lab train --resume runs/<run>     # finds the module again from config.json
 *
 * The contract (docs/write-your-own.md): a typed hyperparameter object with defaults (every name `--set` may
 * change), presets, and a factory returning an Agent whose save/load round-trip everything that decides what
 * happens next (here: the Q-table, the RNG, the step count), so a resumed run equals an uninterrupted one.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Discrete, Rng, registerAgent, writePolicyNetwork, type Agent, type AgentSetup, type StepBatch, type TypedArray, type UpdateStats } from '../index.js';

/** Hyperparameters of Expected SARSA (one line each, as `lab envs --agents` and config.json show them). */
export interface ExpectedSarsaConfig {
  /** Step size α of the update. */
  learningRate: number;
  /** Discount γ. */
  gamma: number;
  /** ε of the ε-greedy behaviour policy at the start. */
  initialEpsilon: number;
  /** ε at the end of the decay and after it. */
  finalEpsilon: number;
  /** Fraction of the run's steps over which ε falls linearly. */
  explorationFraction: number;
}

export const EXPECTED_SARSA_DEFAULTS: ExpectedSarsaConfig = { learningRate: 0.1, gamma: 0.99, initialEpsilon: 1, finalEpsilon: 0.05, explorationFraction: 0.5 };

export class ExpectedSarsa implements Agent {
  readonly name = 'expected-sarsa';
  readonly numEnvs = 1;
  readonly config: ExpectedSarsaConfig;
  private readonly nStates: number;
  private readonly nActions: number;
  private q: Float64Array;
  private rng: Rng;
  private step = 0;

  constructor(
    private readonly setup: AgentSetup,
    config: Record<string, unknown>,
  ) {
    if (!(setup.observationSpace instanceof Discrete) || !(setup.actionSpace instanceof Discrete)) {
      throw new Error(`expected-sarsa needs Discrete observations and actions, got ${setup.observationSpace} and ${setup.actionSpace}`);
    }
    this.config = config as unknown as ExpectedSarsaConfig;
    this.nStates = setup.observationSpace.n;
    this.nActions = setup.actionSpace.n;
    this.q = new Float64Array(this.nStates * this.nActions);
    this.rng = new Rng(setup.seed);
  }

  private get epsilon(): number {
    const c = this.config;
    return Math.max(c.finalEpsilon, c.initialEpsilon - ((c.initialEpsilon - c.finalEpsilon) * this.step) / Math.max(1, c.explorationFraction * this.setup.totalSteps));
  }

  private greedy(s: number): number {
    let best = 0;
    for (let a = 1; a < this.nActions; a++) if (this.q[s * this.nActions + a]! > this.q[s * this.nActions + best]!) best = a;
    return best;
  }

  act(obs: TypedArray, n: number, explore: boolean): Int32Array {
    const out = new Int32Array(n);
    for (let i = 0; i < n; i++) out[i] = explore && this.rng.double() < this.epsilon ? this.rng.integer(this.nActions) : this.greedy(obs[i]!);
    return out;
  }

  /** Q[s,a] += α (r + γ E_π[Q(s', ·)] − Q[s,a]), the expectation under the ε-greedy policy. */
  observe(batch: StepBatch, step: number): UpdateStats {
    this.step = step;
    const { learningRate: alpha, gamma } = this.config;
    const s = batch.obs[0]!;
    const a = batch.actions[0]!;
    const next = batch.nextObs[0]!;
    let expected = 0;
    if (!batch.terminations[0]) {
      const eps = this.epsilon;
      const best = this.greedy(next);
      for (let b = 0; b < this.nActions; b++) expected += ((eps / this.nActions) + (b === best ? 1 - eps : 0)) * this.q[next * this.nActions + b]!;
    }
    const td = batch.rewards[0]! + gamma * expected - this.q[s * this.nActions + a]!;
    this.q[s * this.nActions + a]! += alpha * td;
    return { absTdError: Math.abs(td) };
  }

  status(): Record<string, number> {
    return { epsilon: this.epsilon };
  }

  async save(dir: string): Promise<void> {
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'expected_sarsa.json'), JSON.stringify({ q: Array.from(this.q), rng: this.rng.toJSON(), step: this.step }));
  }

  async load(dir: string): Promise<void> {
    const saved = JSON.parse(fs.readFileSync(path.join(dir, 'expected_sarsa.json'), 'utf8')) as { q: number[]; rng: ReturnType<Rng['toJSON']>; step: number };
    if (saved.q.length !== this.q.length) throw new Error(`expected-sarsa: the checkpoint's Q-table has ${saved.q.length} entries, expected ${this.q.length}`);
    this.q = Float64Array.from(saved.q);
    this.rng = Rng.fromJSON(saved.rng);
    this.step = saved.step;
  }

  /** The greedy policy as the lab's network: one-hot state → dense layer whose kernel is the Q-table. */
  savePolicy(dir: string): void {
    writePolicyNetwork(dir, { inputShape: [this.nStates], layers: [{ type: 'dense', units: this.nActions, activation: 'linear' }] }, [Float32Array.from(this.q), new Float32Array(this.nActions)]);
  }

  dispose(): void {}
}

registerAgent('expected-sarsa', {
  description: 'examples/expected_sarsa_agent.ts: tabular Expected SARSA with a linearly decaying ε-greedy policy',
  defaults: EXPECTED_SARSA_DEFAULTS,
  presets: {
    frozenlake: {
      description: 'slippery 4x4 FrozenLake: α 0.05, ε 1 → 0.05 over 60% of 100k steps',
      envs: ['FrozenLake-v1'],
      config: { learningRate: 0.05, explorationFraction: 0.6 },
      train: { steps: 100_000, evalEvery: 10_000, evalEpisodes: 100 },
    },
  },
  create: (setup, config) => new ExpectedSarsa(setup, config),
});

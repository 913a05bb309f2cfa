/**
 * The agents the lab can train, their default hyperparameters and presets. A preset may also fix the env
 * and the training budget (the book's DQN runs 1000 episodes of CartPole-v0).
 */
import type { Agent, AgentSetup } from './agent.js';
import { DQN, DQN_DEFAULTS, type DQNConfig } from './dqn.js';
import { Reinforce, REINFORCE_DEFAULTS, type ReinforceConfig } from './reinforce.js';
import { A2C, A2C_DEFAULTS, type A2CConfig } from './a2c.js';

export interface TrainDefaults {
  envId?: string;
  steps?: number;
  episodes?: number | null;
  evalEvery?: number;
  evalEpisodes?: number;
  envKwargs?: Record<string, unknown>;
}

export interface Preset {
  description: string;
  /** Envs the preset is tuned for (it is picked automatically for them); empty: named use only. */
  envs: string[];
  config: Record<string, unknown>;
  train?: TrainDefaults;
}

export interface AgentEntry {
  description: string;
  defaults: object;
  presets: Record<string, Preset>;
  create: (setup: AgentSetup, config: Record<string, unknown>) => Agent;
}

export const AGENTS: Record<string, AgentEntry> = {
  dqn: {
    description: 'Deep Q-Network with replay, target network, double-DQN and Huber-loss options',
    defaults: DQN_DEFAULTS,
    presets: {
      zoo: {
        description: "rl-baselines3-zoo's tuned CartPole-v1 DQN: MLP 256-256, Adam 2.3e-3, 128 updates every 256 steps",
        envs: ['CartPole-v1', 'CartPole-v0'],
        config: {},
        train: { steps: 50_000, evalEvery: 2000, evalEpisodes: 10 },
      },
      book: {
        description: "Deep Learning Illustrated ch. 13: 32-32 MLP, MSE, Adam 1e-3, gamma 0.95, memory 2000, per-episode replay of 32",
        envs: [],
        config: {
          hidden: [32, 32],
          learningRate: 1e-3,
          adamEpsilon: 1e-7,
          gamma: 0.95,
          bufferSize: 2000,
          batchSize: 32,
          learningStarts: 0,
          targetUpdateInterval: 0,
          loss: 'mse',
          maxGradNorm: null,
          exploration: { type: 'episode-decay', initial: 1, decay: 0.995, min: 0.01 },
          updateSchedule: 'episode-end-per-sample',
          truncationIsTerminal: true,
          terminalReward: -10,
        },
        train: { envId: 'CartPole-v0', steps: 10_000_000, episodes: 1000, evalEvery: 0 },
      },
      frozenlake: {
        description: 'one-hot states, MLP 64, 100k steps: greedy success rate ~0.75 on the slippery 4x4 lake (optimum 0.74)',
        envs: ['FrozenLake-v1'],
        config: {
          hidden: [64],
          learningRate: 5e-4,
          bufferSize: 50_000,
          learningStarts: 1000,
          trainFrequency: 4,
          gradientSteps: 1,
          targetUpdateInterval: 1000,
          exploration: { type: 'linear', initial: 1, final: 0.05, fraction: 0.3 },
        },
        train: { steps: 100_000, evalEvery: 10_000, evalEpisodes: 200 },
      },
      cliffwalking: {
        description: 'one-hot states, MLP 64, episodes cut at 200 steps: the greedy path along the cliff (-13) in ~20k steps',
        envs: ['CliffWalking-v1'],
        config: {
          hidden: [64],
          learningRate: 1e-3,
          bufferSize: 20_000,
          learningStarts: 1000,
          trainFrequency: 4,
          gradientSteps: 1,
          targetUpdateInterval: 500,
          exploration: { type: 'linear', initial: 1, final: 0.05, fraction: 0.5 },
        },
        train: { steps: 30_000, evalEvery: 3000, evalEpisodes: 1, envKwargs: { maxEpisodeSteps: 200 } },
      },
      taxi: {
        description: 'one-hot states, MLP 128, masked bootstrap targets, 100k steps: optimal play (mean ~7.9) after ~50k',
        envs: ['Taxi-v4', 'Taxi-v3'],
        config: {
          hidden: [128],
          learningRate: 1e-3,
          bufferSize: 50_000,
          learningStarts: 1000,
          trainFrequency: 4,
          gradientSteps: 1,
          targetUpdateInterval: 1000,
          exploration: { type: 'linear', initial: 1, final: 0.05, fraction: 0.3 },
        },
        train: { steps: 100_000, evalEvery: 10_000, evalEpisodes: 100 },
      },
      snake: {
        description: 'an MLP 256-256 on the flattened 9x9x3 board planes (~800 steps/s; a conv net learns too but ~4x slower here)',
        envs: ['Snake-v0'],
        config: {
          architecture: 'mlp',
          hidden: [256, 256],
          learningRate: 5e-4,
          gamma: 0.95,
          bufferSize: 100_000,
          learningStarts: 2000,
          trainFrequency: 4,
          gradientSteps: 1,
          targetUpdateInterval: 1000,
          exploration: { type: 'linear', initial: 1, final: 0.02, fraction: 0.3 },
        },
        train: { steps: 300_000, evalEvery: 25_000, evalEpisodes: 20 },
      },
    },
    create: (setup, config) => new DQN(setup, config as unknown as DQNConfig),
  },
  reinforce: {
    description: 'REINFORCE: Monte-Carlo policy gradient with an optional learned baseline, return normalisation and entropy bonus',
    defaults: REINFORCE_DEFAULTS,
    presets: {
      cartpole: {
        description: 'SLM Lab-like: 128-128 tanh, Adam 2e-3, gamma 0.99, learned baseline, normalised advantages, entropy 0.001, update every >= 512 steps of finished episodes',
        envs: ['CartPole-v1'],
        // The defaults are these settings.
        config: {},
        train: { steps: 300_000, evalEvery: 10_000, evalEpisodes: 10 },
      },
    },
    create: (setup, config) => new Reinforce(setup, config as unknown as ReinforceConfig),
  },
  a2c: {
    description: 'A2C: synchronous advantage actor-critic on a vector env, GAE(lambda), separate actor and critic MLPs',
    defaults: A2C_DEFAULTS,
    presets: {
      cartpole: {
        description: 'rl-zoo-like: 8 envs, n_steps 5, 64-64 tanh, RMSprop 7e-4, vf 0.5, ent 0, max grad norm 0.5',
        envs: ['CartPole-v1'],
        // The defaults are these settings.
        config: {},
        train: { steps: 200_000, evalEvery: 10_000, evalEpisodes: 10 },
      },
    },
    create: (setup, config) => new A2C(setup, config as unknown as A2CConfig),
  },
};

/** Merges defaults ← preset ← overrides, rejecting unknown hyperparameter names. */
export function resolveAgentConfig(agent: string, preset: Preset | null, overrides: Record<string, unknown>): Record<string, unknown> {
  const entry = agentEntry(agent);
  const defaults = entry.defaults as Record<string, unknown>;
  // Names are checked before anything is merged: an own `__proto__` key must never reach an object spread's target.
  const unknown = [...Object.keys(preset?.config ?? {}), ...Object.keys(overrides)].filter((k) => !Object.hasOwn(defaults, k));
  if (unknown.length) {
    throw new Error(`unknown ${agent} hyperparameter${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => `'${k}'`).join(', ')}; known: ${Object.keys(entry.defaults).join(', ')}`);
  }
  const config = { ...defaults, ...(preset?.config ?? {}), ...overrides };
  for (const [k, v] of Object.entries(overrides)) {
    const def = defaults[k];
    if (def !== null && v !== null && typeof def !== typeof v) throw new Error(`${agent} hyperparameter '${k}' must be a ${typeof def}, got ${JSON.stringify(v)}`);
  }
  return config;
}

export function agentEntry(agent: string): AgentEntry {
  const entry = typeof agent === 'string' && Object.hasOwn(AGENTS, agent) ? AGENTS[agent] : undefined;
  if (!entry) throw new Error(`unknown agent '${agent}'; choose one of ${Object.keys(AGENTS).join(', ')}`);
  return entry;
}

/** The named preset, or the one tuned for `envId`, or none. */
export function findPreset(agent: string, envId: string | undefined, name?: string): { name: string; preset: Preset } | null {
  const entry = agentEntry(agent);
  if (name !== undefined) {
    const preset = typeof name === 'string' && Object.hasOwn(entry.presets, name) ? entry.presets[name] : undefined;
    if (!preset) throw new Error(`agent '${agent}' has no preset '${name}'; presets: ${Object.keys(entry.presets).join(', ') || 'none'}`);
    return { name, preset };
  }
  for (const [presetName, preset] of Object.entries(entry.presets)) if (envId && preset.envs.includes(envId)) return { name: presetName, preset };
  return null;
}

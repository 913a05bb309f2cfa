/**
 * The agents the lab can train, their default hyperparameters and presets. A preset may also fix the env
 * and the training budget (the book's DQN runs 1000 episodes of CartPole-v0).
 */
import type { Agent, AgentSetup } from './agent.js';
import { DQN, DQN_DEFAULTS, type DQNConfig } from './dqn.js';
import { Reinforce, REINFORCE_DEFAULTS, type ReinforceConfig } from './reinforce.js';
import { A2C, A2C_DEFAULTS, type A2CConfig } from './a2c.js';
import { PPO, PPO_DEFAULTS, type PPOConfig } from './ppo.js';

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
      acrobot: {
        description: "rl-baselines3-zoo's tuned Acrobot-v1 DQN (hyperparams/dqn.yml): MLP 256-256, Adam 6.3e-4, batch 128, buffer 50k, 4 updates every 4 steps, target every 250, eps 1 -> 0.1 over 12%, 100k steps",
        envs: ['Acrobot-v1'],
        config: {
          learningRate: 6.3e-4,
          batchSize: 128,
          bufferSize: 50_000,
          learningStarts: 0,
          gamma: 0.99,
          targetUpdateInterval: 250,
          // gradient_steps: -1 = as many updates as env steps per training phase.
          trainFrequency: 4,
          gradientSteps: 4,
          exploration: { type: 'linear', initial: 1, final: 0.1, fraction: 0.12 },
        },
        train: { steps: 100_000, evalEvery: 10_000, evalEpisodes: 20 },
      },
      mountaincar: {
        description: "rl-baselines3-zoo's tuned MountainCar-v0 DQN (hyperparams/dqn.yml): MLP 256-256, Adam 4e-3, batch 128, buffer 10k, 8 updates every 16 steps, target every 600, gamma 0.98, eps 1 -> 0.07 over 20%, 120k steps",
        envs: ['MountainCar-v0'],
        config: {
          learningRate: 4e-3,
          batchSize: 128,
          bufferSize: 10_000,
          learningStarts: 1000,
          gamma: 0.98,
          targetUpdateInterval: 600,
          trainFrequency: 16,
          gradientSteps: 8,
          exploration: { type: 'linear', initial: 1, final: 0.07, fraction: 0.2 },
        },
        train: { steps: 120_000, evalEvery: 10_000, evalEpisodes: 20 },
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
      acrobot: {
        description: "rl-baselines3-zoo's Acrobot-v1 A2C (hyperparams/a2c.yml): normalised observations and rewards, 16 envs, SB3 defaults, ent 0, 500k steps",
        envs: ['Acrobot-v1'],
        config: { normalizeObservation: true, normalizeReward: true, numEnvs: 16 },
        train: { steps: 500_000, evalEvery: 25_000, evalEpisodes: 20 },
      },
      mountaincar: {
        description: "rl-baselines3-zoo's MountainCar-v0 A2C (hyperparams/a2c.yml): normalised observations and rewards, 16 envs, SB3 defaults, ent 0, 1M steps",
        envs: ['MountainCar-v0'],
        config: { normalizeObservation: true, normalizeReward: true, numEnvs: 16 },
        train: { steps: 1_000_000, evalEvery: 50_000, evalEpisodes: 20 },
      },
    },
    create: (setup, config) => new A2C(setup, config as unknown as A2CConfig),
  },
  ppo: {
    description: 'PPO: clipped surrogate, GAE, minibatch epochs, orthogonal init, annealing, optional value clipping and target KL; categorical (masked) or diagonal-Gaussian policies; observation/reward normalisation',
    defaults: PPO_DEFAULTS,
    presets: {
      cartpole: {
        description: "rl-baselines3-zoo's tuned CartPole-v1 PPO (hyperparams/ppo.yml): 8 envs, n_steps 32, batch 256, 20 epochs, gamma 0.98, GAE 0.8, lr 1e-3 and clip 0.2 both annealed to 0, ent 0, 100k steps",
        envs: ['CartPole-v1'],
        config: { numEnvs: 8, nSteps: 32, batchSize: 256, gaeLambda: 0.8, gamma: 0.98, nEpochs: 20, entCoef: 0, learningRate: 1e-3, linearLrDecay: true, clipRange: 0.2, linearClipDecay: true },
        train: { steps: 100_000, evalEvery: 5000, evalEpisodes: 10 },
      },
      acrobot: {
        description: "rl-baselines3-zoo's Acrobot-v1 PPO (hyperparams/ppo.yml): normalised observations and rewards, 16 envs, n_steps 256, 4 epochs, GAE 0.94, gamma 0.99, ent 0 (the zoo trains 1M steps; 200k reach -100 here)",
        envs: ['Acrobot-v1'],
        config: { normalizeObservation: true, normalizeReward: true, numEnvs: 16, nSteps: 256, gaeLambda: 0.94, gamma: 0.99, nEpochs: 4, entCoef: 0 },
        train: { steps: 200_000, evalEvery: 20_000, evalEpisodes: 20 },
      },
      mountaincar: {
        description: "rl-baselines3-zoo's MountainCar-v0 PPO (hyperparams/ppo.yml): normalised observations and rewards, 16 envs, n_steps 16, 4 epochs, GAE 0.98, gamma 0.99, ent 0, 1M steps",
        envs: ['MountainCar-v0'],
        config: { normalizeObservation: true, normalizeReward: true, numEnvs: 16, nSteps: 16, gaeLambda: 0.98, gamma: 0.99, nEpochs: 4, entCoef: 0 },
        train: { steps: 1_000_000, evalEvery: 50_000, evalEpisodes: 20 },
      },
      'mountaincar-continuous': {
        description: "rl-baselines3-zoo's tuned MountainCarContinuous-v0 PPO (hyperparams/ppo.yml) without gSDE (plain Gaussian): normalised obs/rewards, 1 env, n_steps 8, batch 256, 10 epochs, lr 7.77e-5, ent 0.00429, clip 0.1, GAE 0.9, gamma 0.9999, max grad norm 5, vf 0.19, log std -3.29, no orthogonal init, 20k steps",
        envs: ['MountainCarContinuous-v0'],
        config: {
          normalizeObservation: true,
          normalizeReward: true,
          numEnvs: 1,
          batchSize: 256,
          nSteps: 8,
          gamma: 0.9999,
          learningRate: 7.77e-5,
          entCoef: 0.00429,
          clipRange: 0.1,
          nEpochs: 10,
          gaeLambda: 0.9,
          maxGradNorm: 5,
          vfCoef: 0.19,
          logStdInit: -3.29,
          orthoInit: false,
        },
        train: { steps: 20_000, evalEvery: 2000, evalEpisodes: 10 },
      },
      pendulum: {
        description: "rl-baselines3-zoo's tuned Pendulum-v1 PPO (hyperparams/ppo.yml) without gSDE (plain Gaussian): 4 envs, n_steps 1024, 10 epochs, GAE 0.95, gamma 0.9, lr 1e-3, clip 0.2, ent 0, 100k steps",
        envs: ['Pendulum-v1'],
        config: { numEnvs: 4, nSteps: 1024, gaeLambda: 0.95, gamma: 0.9, nEpochs: 10, entCoef: 0, learningRate: 1e-3, clipRange: 0.2 },
        train: { steps: 100_000, evalEvery: 10_000, evalEpisodes: 10 },
      },
    },
    create: (setup, config) => new PPO(setup, config as unknown as PPOConfig),
  },
};

/**
 * Agents registered at run time (`registerAgent`, usually by a plug-in module loaded with `--import`; see
 * agents/plugins.ts). Kept apart from the built-in AGENTS so a plug-in can never replace or shadow one.
 */
const PLUGIN_AGENTS = new Map<string, AgentEntry>();

/** What `registerAgent` checks an agent name against: letters, digits, '.', '_', '-' (it names run directories). */
const AGENT_NAME = /^[A-Za-z][A-Za-z0-9._-]{0,63}$/;

/**
 * Adds an agent to the registry, so `lab train --agent <name>`, sweeps and `--resume` find it. `defaults` is the
 * typed hyperparameter object (every name an override may set, with its default); presets may only set those
 * names. A name that clashes with a built-in or already registered agent is an error.
 */
export function registerAgent(name: string, entry: AgentEntry): void {
  if (typeof name !== 'string' || !AGENT_NAME.test(name)) {
    throw new Error(`registerAgent: the name must start with a letter and hold only letters, digits, '.', '_', '-' (at most 64), got ${JSON.stringify(name)}`);
  }
  if (Object.hasOwn(AGENTS, name)) throw new Error(`registerAgent: '${name}' is a built-in agent; choose another name`);
  if (PLUGIN_AGENTS.has(name)) throw new Error(`registerAgent: an agent named '${name}' is already registered`);
  if (typeof entry !== 'object' || entry === null) throw new Error(`registerAgent('${name}'): expected { description, defaults, presets, create }`);
  if (typeof entry.create !== 'function') throw new Error(`registerAgent('${name}'): create must be a function (setup, config) => Agent`);
  if (typeof entry.defaults !== 'object' || entry.defaults === null || Array.isArray(entry.defaults)) throw new Error(`registerAgent('${name}'): defaults must be an object of hyperparameters`);
  const presets = entry.presets ?? {};
  for (const [presetName, preset] of Object.entries(presets)) {
    const unknown = Object.keys(preset?.config ?? {}).filter((k) => !Object.hasOwn(entry.defaults, k));
    if (unknown.length) throw new Error(`registerAgent('${name}'): preset '${presetName}' sets unknown hyperparameters ${unknown.join(', ')}`);
  }
  PLUGIN_AGENTS.set(name, { description: String(entry.description ?? ''), defaults: entry.defaults, presets, create: entry.create });
}

/** Removes an agent added with `registerAgent` (built-in agents cannot be removed); whether it was there. */
export function unregisterAgent(name: string): boolean {
  return PLUGIN_AGENTS.delete(name);
}

/** Every agent name: the built-in ones, then those registered at run time. */
export function agentNames(): string[] {
  return [...Object.keys(AGENTS), ...PLUGIN_AGENTS.keys()];
}

/** Whether `name` was added with `registerAgent` (not built in). */
export function isRegisteredAgent(name: string): boolean {
  return PLUGIN_AGENTS.has(name);
}

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
  const entry = typeof agent === 'string' ? (Object.hasOwn(AGENTS, agent) ? AGENTS[agent] : PLUGIN_AGENTS.get(agent)) : undefined;
  if (!entry) throw new Error(`unknown agent '${agent}'; choose one of ${agentNames().join(', ')}`);
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

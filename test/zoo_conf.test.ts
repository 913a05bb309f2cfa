/**
 * rl-baselines3-zoo hyperparameter files (agents/zoo_conf.ts, `lab train --conf`): the Python-literal reader,
 * the mapping of every supported SB3 key to the lab's names, refusals, and the zoo's published CartPole entries
 * giving exactly the lab's CartPole presets.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { mapZooSection, parsePythonLiteral, PyName, readZooConf } from '../agents/zoo_conf.js';
import { AGENTS, findPreset, resolveAgentConfig } from '../agents/registry.js';
import { runLab } from './lab_cli.js';

const ZOO = path.join(import.meta.dirname, 'fixtures', 'zoo');

function tmpFile(name: string, text: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zoo-conf-'));
  const file = path.join(dir, name);
  fs.writeFileSync(file, text);
  return file;
}

describe('Python literals of policy_kwargs and normalize', () => {
  it('reads dict(...), {...}, lists, tuples, numbers, strings, booleans, None and names', () => {
    expect(parsePythonLiteral('dict(net_arch=[256, 256])')).toEqual({ net_arch: [256, 256] });
    const v = parsePythonLiteral('dict(log_std_init=-2, ortho_init=False, activation_fn=nn.ReLU, net_arch=dict(pi=[64], vf=[64]), )') as Record<string, unknown>;
    expect(v.log_std_init).toBe(-2);
    expect(v.ortho_init).toBe(false);
    expect(v.activation_fn).toBeInstanceOf(PyName);
    expect(String(v.activation_fn)).toBe('nn.ReLU');
    expect(v.net_arch).toEqual({ pi: [64], vf: [64] });
    expect(parsePythonLiteral("{'norm_obs': True, \"norm_reward\": False, 'x': None}")).toEqual({ norm_obs: true, norm_reward: false, x: null });
    expect(parsePythonLiteral('(1, .5, -3.29, 7.77e-05, +2)')).toEqual([1, 0.5, -3.29, 7.77e-5, 2]);
  });

  it('refuses everything else with the place it stopped', () => {
    expect(() => parsePythonLiteral('dict(net_arch=[64, 64]')).toThrow(/expected '\)', found the end/);
    expect(() => parsePythonLiteral('dict(activation_fn=nn.ReLU())')).toThrow(/a call of nn\.ReLU\(\.\.\.\) \(only dict\(\.\.\.\) is read\) at character 20/);
    expect(() => parsePythonLiteral('__import__("os").system("ls")')).toThrow(/a call of __import__/);
    expect(() => parsePythonLiteral('dict(a=1) + 2')).toThrow(/unexpected '\+' after the value/);
    expect(() => parsePythonLiteral('{1: 2}')).toThrow(/dictionary keys must be quoted strings/);
    expect(() => parsePythonLiteral('lambda x: x')).toThrow(/unexpected ':' after the value|expected/);
    expect(() => parsePythonLiteral("dict(a=1, a=2)")).toThrow(/the key 'a' twice/);
  });
});

describe('SB3 names → the lab\'s hyperparameters', () => {
  const where = 'test.yml: X-v0';

  it('maps every supported DQN key', () => {
    const { hyperparameters: hp, steps } = mapZooSection(
      'dqn',
      {
        n_timesteps: 12345,
        policy: 'MlpPolicy',
        n_envs: 1,
        learning_rate: 0.003,
        buffer_size: 5000,
        learning_starts: 7,
        batch_size: 48,
        tau: 0.5,
        gamma: 0.95,
        train_freq: [8, 'step'],
        gradient_steps: 3,
        target_update_interval: 77,
        exploration_fraction: 0.3,
        exploration_initial_eps: 0.9,
        exploration_final_eps: 0.02,
        max_grad_norm: 4,
        optimize_memory_usage: false,
        policy_kwargs: 'dict(net_arch=[32, 16], activation_fn=nn.ReLU, optimizer_kwargs=dict(eps=1e-7))',
      },
      where,
    );
    expect(steps).toBe(12345);
    expect(hp).toEqual({
      learningRate: 0.003,
      bufferSize: 5000,
      learningStarts: 7,
      batchSize: 48,
      tau: 0.5,
      gamma: 0.95,
      trainFrequency: 8,
      gradientSteps: 3,
      targetUpdateInterval: 77,
      exploration: { type: 'linear', initial: 0.9, final: 0.02, fraction: 0.3 },
      maxGradNorm: 4,
      hidden: [32, 16],
      adamEpsilon: 1e-7,
      doubleDqn: false,
      loss: 'huber',
      updateSchedule: 'steps',
      truncationIsTerminal: false,
      terminalReward: null,
    });
    // gradient_steps -1: as many as the env steps between training phases.
    expect(mapZooSection('dqn', { train_freq: 16, gradient_steps: -1 }, where).hyperparameters).toMatchObject({ trainFrequency: 16, gradientSteps: 16 });
  });

  it("fills the keys a section leaves out with SB3's defaults", () => {
    const { hyperparameters: hp, steps } = mapZooSection('dqn', {}, where);
    expect(steps).toBeNull();
    expect(hp).toMatchObject({
      learningRate: 1e-4,
      bufferSize: 1_000_000,
      learningStarts: 100,
      batchSize: 32,
      tau: 1,
      gamma: 0.99,
      trainFrequency: 4,
      gradientSteps: 1,
      targetUpdateInterval: 10_000,
      exploration: { type: 'linear', initial: 1, final: 0.05, fraction: 0.1 },
      maxGradNorm: 10,
      hidden: [64, 64],
      adamEpsilon: 1e-8,
    });
    expect(mapZooSection('a2c', {}, where).hyperparameters).toEqual({
      numEnvs: 1,
      gamma: 0.99,
      maxGradNorm: 0.5,
      hidden: [64, 64],
      activation: 'tanh',
      learningRate: 7e-4,
      linearLrDecay: false,
      nSteps: 5,
      gaeLambda: 1,
      entCoef: 0,
      vfCoef: 0.5,
      normalizeAdvantage: false,
      optimizer: 'rmsprop',
      rmspropDecay: 0.99,
      epsilon: 1e-5,
      normalizeObservation: false,
      normalizeReward: false,
    });
  });

  it('maps every supported A2C key, lin_ schedules and dict(pi, vf) net_arch', () => {
    const { hyperparameters: hp } = mapZooSection(
      'a2c',
      {
        n_envs: 4,
        learning_rate: 'lin_0.002',
        n_steps: 16,
        gamma: 0.9,
        gae_lambda: 0.92,
        ent_coef: 0.01,
        vf_coef: 0.25,
        max_grad_norm: 1,
        use_rms_prop: true,
        rms_prop_eps: 1e-4,
        normalize_advantage: true,
        normalize: false,
        use_sde: false,
        policy_kwargs: 'dict(net_arch=dict(pi=[32], vf=[32]), activation_fn=nn.ReLU)',
      },
      where,
    );
    expect(hp).toEqual({
      numEnvs: 4,
      learningRate: 0.002,
      linearLrDecay: true,
      nSteps: 16,
      gamma: 0.9,
      gaeLambda: 0.92,
      entCoef: 0.01,
      vfCoef: 0.25,
      maxGradNorm: 1,
      optimizer: 'rmsprop',
      rmspropDecay: 0.99,
      epsilon: 1e-4,
      normalizeAdvantage: true,
      normalizeObservation: false,
      normalizeReward: false,
      hidden: [32],
      activation: 'relu',
    });
    // Without RMSprop SB3's A2C uses the policy's Adam (ε 1e-5), whatever rms_prop_eps says.
    expect(mapZooSection('a2c', { use_rms_prop: false, rms_prop_eps: 1e-3 }, where).hyperparameters).toMatchObject({ optimizer: 'adam', epsilon: 1e-5 });
  });

  it('refuses keys the lab does not support, naming the key, the file and the section', () => {
    const refused: [string, Record<string, unknown>, RegExp][] = [
      ['dqn', { frame_stack: 4 }, /^test\.yml: X-v0: frame_stack: frame stacking .* not supported by the lab$/],
      ['dqn', { env_wrapper: ['gymnasium.wrappers.TimeLimit'] }, /^test\.yml: X-v0: env_wrapper: env wrappers are not supported by the lab$/],
      ['a2c', { use_sde: true }, /use_sde: generalized state-dependent exploration is not supported/],
      ['dqn', { learning_rat: 0.1 }, /^test\.yml: X-v0: learning_rat: not a dqn hyperparameter the lab knows/],
      ['dqn', { policy: 'CnnPolicy' }, /policy: "CnnPolicy" is not supported/],
      ['dqn', { train_freq: [1, 'episode'] }, /train_freq: training every n episodes is not supported/],
      ['dqn', { learning_rate: 'lin_0.001' }, /learning_rate: the lab's dqn has no learning-rate schedule/],
      ['dqn', { learning_rate: 'lin_x' }, /"lin_x" is not a linear schedule/],
      ['dqn', { n_envs: 4 }, /n_envs: the lab's dqn steps one env/],
      ['dqn', { batch_size: 3.5 }, /batch_size: expected an integer >= 1, got 3.5/],
      ['dqn', { policy_kwargs: 'dict(n_quantiles=25)' }, /policy_kwargs: n_quantiles: quantile networks are not supported/],
      ['dqn', { policy_kwargs: 'dict(activation_fn=nn.Tanh)' }, /the lab's dqn uses ReLU/],
      ['a2c', { policy_kwargs: 'dict(activation_fn=nn.GELU)' }, /nn\.GELU is not one the lab has/],
      ['a2c', { policy_kwargs: 'dict(net_arch=dict(pi=[64], vf=[128]))' }, /pi \[64\] and vf \[128\] differ/],
      ['a2c', { policy_kwargs: 'dict(ortho_init=False)' }, /ortho_init: not supported by the lab's a2c \(it has no orthoInit\)/],
      ['a2c', { policy_kwargs: 'dict(net_arch=[64, 64]' }, /policy_kwargs: cannot read .*expected/],
      ['dqn', { normalize: true }, /normalize: observation and reward normalisation \(VecNormalize\) is not supported by the lab's dqn/],
      ['a2c', { normalize: "{'norm_obs': True, 'bogus': 1}" }, /normalize: bogus: not a VecNormalize option/],
      ['reinforce', {}, /the lab's reinforce has no Stable-Baselines3 counterpart/],
    ];
    for (const [agent, section, error] of refused) expect(() => mapZooSection(agent, section, where), `${agent} ${JSON.stringify(section)}`).toThrow(error);
  });

  it.runIf(Object.hasOwn(AGENTS, 'ppo'))('maps every supported PPO key, normalize dicts and policy_kwargs', () => {
    const { hyperparameters: hp } = mapZooSection(
      'ppo',
      {
        n_envs: 4,
        n_steps: 64,
        batch_size: 32,
        n_epochs: 5,
        gamma: 0.97,
        gae_lambda: 0.9,
        learning_rate: 'lin_3e-4',
        clip_range: 'lin_0.3',
        clip_range_vf: 'lin_0.5',
        ent_coef: 0.02,
        vf_coef: 0.4,
        max_grad_norm: 0.8,
        target_kl: 0.05,
        normalize_advantage: false,
        normalize: "{'norm_obs': True, 'norm_reward': False, 'clip_obs': 5.0}",
        policy_kwargs: 'dict(log_std_init=-2, ortho_init=False, activation_fn=nn.ReLU, net_arch=dict(pi=[64], vf=[64]), optimizer_kwargs=dict(eps=1e-6))',
      },
      where,
    );
    expect(hp).toMatchObject({
      numEnvs: 4,
      nSteps: 64,
      batchSize: 32,
      nEpochs: 5,
      gamma: 0.97,
      gaeLambda: 0.9,
      learningRate: 3e-4,
      linearLrDecay: true,
      clipRange: 0.3,
      clipRangeVf: 0.5,
      linearClipDecay: true,
      entCoef: 0.02,
      vfCoef: 0.4,
      maxGradNorm: 0.8,
      targetKl: 0.05,
      normalizeAdvantage: false,
      normalizeObservation: true,
      normalizeReward: false,
      clipObs: 5,
      clipReward: 10,
      hidden: [64],
      activation: 'relu',
      orthoInit: false,
      logStdInit: -2,
      epsilon: 1e-6,
      shareNetwork: false,
    });
  });
});

describe('zoo files', () => {
  it("rl-zoo's CartPole-v1 entries give exactly the lab's CartPole presets (dqn's is zoo), its Acrobot and MountainCar entries A2C's and PPO's", () => {
    const agents = ['dqn', 'a2c', ...(Object.hasOwn(AGENTS, 'ppo') ? ['ppo'] : [])];
    for (const agent of agents) {
      const conf = readZooConf(path.join(ZOO, `${agent}.yml`), 'CartPole-v1');
      expect(conf.agent).toBe(agent);
      const preset = findPreset(agent, 'CartPole-v1');
      expect(preset, agent).not.toBeNull();
      if (agent === 'dqn') expect(preset!.name).toBe('zoo');
      expect(resolveAgentConfig(agent, null, conf.hyperparameters), agent).toEqual(resolveAgentConfig(agent, preset!.preset, {}));
    }
    // A2C's and PPO's presets for Acrobot and MountainCar come from the zoo too (VecNormalize included).
    for (const env of ['Acrobot-v1', 'MountainCar-v0']) {
      const preset = findPreset('a2c', env);
      expect(preset, env).not.toBeNull();
      expect(resolveAgentConfig('a2c', null, readZooConf(path.join(ZOO, 'a2c.yml'), env).hyperparameters), env).toEqual(resolveAgentConfig('a2c', preset!.preset, {}));
    }
    if (Object.hasOwn(AGENTS, 'ppo')) {
      for (const env of ['Acrobot-v1', 'MountainCar-v0']) {
        const preset = findPreset('ppo', env);
        expect(preset, env).not.toBeNull();
        expect(resolveAgentConfig('ppo', null, readZooConf(path.join(ZOO, 'ppo.yml'), env).hyperparameters), env).toEqual(resolveAgentConfig('ppo', preset!.preset, {}));
      }
    }
    expect(readZooConf(path.join(ZOO, 'dqn.yml'), 'CartPole-v1').steps).toBe(50_000);
    expect(readZooConf(path.join(ZOO, 'a2c.yml'), 'CartPole-v1').steps).toBe(500_000);
  });

  it('reads YAML 1.1 as PyYAML does (!!float on integers, merge keys)', () => {
    const file = tmpFile('dqn.yml', 'base: &base\n  gamma: 0.9\n  batch_size: 16\nMy-v0:\n  <<: *base\n  n_timesteps: !!float 20000\n  batch_size: 8\n');
    const conf = readZooConf(file, 'My-v0');
    expect(conf.steps).toBe(20_000);
    expect(conf.hyperparameters).toMatchObject({ gamma: 0.9, batchSize: 8 });
  });

  it('names the envs a file has, and bad files', () => {
    expect(() => readZooConf(path.join(ZOO, 'dqn.yml'), 'Taxi-v3')).toThrow(/dqn\.yml has no section for Taxi-v3; it has CartPole-v1, MountainCar-v0, Acrobot-v1$/);
    // The zoo's A2C entries with VecNormalize: the agent's observation and reward normalisation, VecNormalize's clips.
    for (const [env, numEnvs, steps] of [['Acrobot-v1', 16, 500_000], ['MountainCar-v0', 16, 1_000_000]] as const) {
      const a2c = readZooConf(path.join(ZOO, 'a2c.yml'), env);
      expect(a2c.steps).toBe(steps);
      expect(a2c.hyperparameters).toMatchObject({ numEnvs, normalizeObservation: true, normalizeReward: true, clipObs: 10, clipReward: 10, entCoef: 0, learningRate: 7e-4, nSteps: 5 });
    }
    // Its Pendulum entry needs what the lab's A2C does not have (Gaussian policies, gSDE, ortho_init).
    expect(() => readZooConf(path.join(ZOO, 'a2c.yml'), 'Pendulum-v1')).toThrow(/a2c\.yml: Pendulum-v1: .*not supported by the lab's a2c/);
    expect(() => readZooConf(tmpFile('sac.yml', 'X-v0: {}\n'), 'X-v0')).toThrow(/cannot tell which agent .*give --agent/);
    expect(readZooConf(tmpFile('mine.yml', 'X-v0: {gamma: 0.5}\n'), 'X-v0', 'a2c').hyperparameters.gamma).toBe(0.5);
    expect(() => readZooConf(tmpFile('dqn.yml', 'X-v0: [1\n'), 'X-v0')).toThrow(/dqn\.yml: not valid YAML: /);
    expect(() => readZooConf(tmpFile('dqn.yml', 'X-v0:\n  n_timesteps: !!float abc\n'), 'X-v0')).toThrow(/not valid YAML: !!float abc is not a number/);
    expect(() => readZooConf(tmpFile('dqn.yml', 'X-v0: 3\n'), 'X-v0')).toThrow(/X-v0: expected hyperparameters/);
    expect(() => readZooConf('/nonexistent/dqn.yml', 'X-v0')).toThrow(/^\/nonexistent\/dqn\.yml: no such file$/);
  });

  it('lab train --conf: the section, --set over it, n_timesteps as the budget, recorded in config.json', async () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'zoo-train-'));
    const file = tmpFile('dqn.yml', 'CartPole-v1:\n  n_timesteps: 150\n  learning_starts: 50\n  batch_size: 16\n  train_freq: 50\n  gradient_steps: 2\n  policy_kwargs: "dict(net_arch=[8])"\n');
    const r = await runLab(['train', '--conf', file, '--env', 'CartPole-v1', '--set', 'batchSize=8', '--eval-episodes', '1', '--out', out, '--run-id', 'z'], out);
    expect(r.err).not.toMatch(/error/i);
    expect(r.code).toBe(0);
    const config = JSON.parse(fs.readFileSync(path.join(out, 'z', 'config.json'), 'utf8'));
    expect(config.agent).toBe('dqn');
    expect(config.preset).toBeNull();
    expect(config.steps).toBe(150);
    expect(config.hyperparameterFile).toEqual({ path: file, section: 'CartPole-v1' });
    expect(config.hyperparameters).toMatchObject({ learningStarts: 50, batchSize: 8, trainFrequency: 50, gradientSteps: 2, hidden: [8], learningRate: 1e-4, targetUpdateInterval: 10_000 });

    const bad = await runLab(['train', '--conf', tmpFile('dqn.yml', 'CartPole-v1:\n  frame_stack: 4\n'), '--env', 'CartPole-v1', '--out', out], out);
    expect(bad.code).toBe(1);
    expect(bad.err.trim()).toMatch(/^lab: error: .*dqn\.yml: CartPole-v1: frame_stack: frame stacking \(the zoo's VecFrameStack\) is not supported by the lab$/);
    expect(fs.readdirSync(out)).toEqual(['z']);
  });
});

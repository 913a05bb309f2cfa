/**
 * The built-in environments (Gymnasium's `gymnasium/envs/__init__.py`). Importing `envs/index.ts` runs this
 * once; ids, time limits and reward thresholds follow Gymnasium where the env exists there.
 */
import { register, type EnvKwargs } from './registry.js';
import { CartPoleEnv, CartPoleVectorEnv, type CartPoleOptions } from './classic_control/cartpole.js';

for (const [id, maxEpisodeSteps, rewardThreshold] of [
  ['CartPole-v0', 200, 195],
  ['CartPole-v1', 500, 475],
] as const) {
  register({
    id,
    entryPoint: (kwargs: EnvKwargs) => new CartPoleEnv(kwargs as CartPoleOptions),
    vectorEntryPoint: (numEnvs, { maxEpisodeSteps: limit, autoresetMode, kwargs }) =>
      new CartPoleVectorEnv(numEnvs, { ...(kwargs as CartPoleOptions), maxEpisodeSteps: limit, autoresetMode }),
    maxEpisodeSteps,
    rewardThreshold,
    description: 'Balance a pole on a cart by pushing it left or right (Gymnasium physics).',
  });
}

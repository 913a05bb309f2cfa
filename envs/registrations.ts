/**
 * The built-in environments (Gymnasium's `gymnasium/envs/__init__.py`). Importing `envs/index.ts` runs this
 * once; ids, time limits and reward thresholds follow Gymnasium where the env exists there.
 */
import { register, type EnvKwargs } from './registry.js';
import { CartPoleEnv, type CartPoleOptions } from './classic_control/cartpole.js';
import { CartPoleVectorEnv, type CartPoleVectorOptions } from './classic_control/cartpole_vector.js';
import { AcrobotEnv, type AcrobotOptions } from './classic_control/acrobot.js';
import { MountainCarEnv, type MountainCarOptions } from './classic_control/mountain_car.js';
import { MountainCarContinuousEnv } from './classic_control/mountain_car_continuous.js';
import { PendulumEnv, type PendulumOptions } from './classic_control/pendulum.js';
import { FrozenLakeEnv, type FrozenLakeOptions } from './toy_text/frozen_lake.js';
import { CliffWalkingEnv, type CliffWalkingOptions } from './toy_text/cliff_walking.js';
import { TaxiEnv, type TaxiOptions } from './toy_text/taxi.js';
import { SnakeEnv, type SnakeOptions } from './snake.js';
import { GO_REGISTRATIONS, GoVsOpponentEnv, type GoVsOpponentOptions } from './go/go_env.js';

for (const [id, maxEpisodeSteps, rewardThreshold] of [
  ['CartPole-v0', 200, 195],
  ['CartPole-v1', 500, 475],
] as const) {
  register({
    id,
    entryPoint: (kwargs: EnvKwargs) => new CartPoleEnv(kwargs as CartPoleOptions),
    vectorEntryPoint: (numEnvs, { maxEpisodeSteps: limit, autoresetMode, copy, kwargs }) =>
      new CartPoleVectorEnv(numEnvs, { ...(kwargs as CartPoleVectorOptions), maxEpisodeSteps: limit, autoresetMode, copy }),
    maxEpisodeSteps,
    rewardThreshold,
    description: 'Balance a pole on a cart by pushing it left or right (Gymnasium physics).',
  });
}

register({
  id: 'Acrobot-v1',
  entryPoint: (kwargs) => new AcrobotEnv(kwargs as AcrobotOptions),
  maxEpisodeSteps: 500,
  rewardThreshold: -100,
  description: 'Swing the tip of a two-link pendulum above a line by torquing the middle joint (-1, 0, +1).',
});
register({
  id: 'MountainCar-v0',
  entryPoint: (kwargs) => new MountainCarEnv(kwargs as MountainCarOptions),
  maxEpisodeSteps: 200,
  rewardThreshold: -110,
  description: 'Rock an under-powered car out of a valley to the flag: push left, none or right.',
});
register({
  id: 'MountainCarContinuous-v0',
  entryPoint: (kwargs) => new MountainCarContinuousEnv(kwargs as MountainCarOptions),
  maxEpisodeSteps: 999,
  rewardThreshold: 90,
  description: 'MountainCar with a continuous force in [-1, 1]: +100 at the flag, -0.1*force^2 per step.',
});
register({
  id: 'Pendulum-v1',
  entryPoint: (kwargs) => new PendulumEnv(kwargs as PendulumOptions),
  maxEpisodeSteps: 200,
  description: 'Swing a pendulum up and hold it upright with a continuous torque in [-2, 2].',
});
register({
  id: 'FrozenLake-v1',
  entryPoint: (kwargs) => new FrozenLakeEnv(kwargs as FrozenLakeOptions),
  kwargs: { mapName: '4x4' },
  maxEpisodeSteps: 100,
  rewardThreshold: 0.7,
  description: 'Cross a frozen lake from S to G without falling into a hole; the ice is slippery.',
});
register({
  id: 'FrozenLake8x8-v1',
  entryPoint: (kwargs) => new FrozenLakeEnv(kwargs as FrozenLakeOptions),
  kwargs: { mapName: '8x8' },
  maxEpisodeSteps: 200,
  rewardThreshold: 0.85,
  description: 'FrozenLake on the 8x8 map.',
});
register({
  id: 'CliffWalking-v1',
  entryPoint: (kwargs) => new CliffWalkingEnv(kwargs as CliffWalkingOptions),
  description: 'Walk along a cliff to the goal: -1 per step, -100 and back to start for falling.',
});
register({
  id: 'CliffWalkingSlippery-v1',
  entryPoint: (kwargs) => new CliffWalkingEnv(kwargs as CliffWalkingOptions),
  kwargs: { isSlippery: true },
  description: 'CliffWalking where each move may slip sideways.',
});
// Taxi-v3 is kept as an alias with v4's rules (v4 only fixed the optional rainy / fickle-passenger variants).
for (const id of ['Taxi-v4', 'Taxi-v3']) {
  register({
    id,
    entryPoint: (kwargs) => new TaxiEnv(kwargs as TaxiOptions),
    maxEpisodeSteps: 200,
    rewardThreshold: 8,
    description: 'Pick up the passenger and drop them at their destination in a 5x5 town with walls.',
  });
}
register({
  id: 'Snake-v0',
  entryPoint: (kwargs) => new SnakeEnv(kwargs as SnakeOptions),
  // No TimeLimit: eating resets the starvation counter (maxStepsWithoutFruit), which truncates idle snakes.
  description: 'Classic Snake on a 9x9 board with relative actions (turn left, straight, turn right).',
});

// Go-lite against a random opponent; the two-player GoEnv (self-play, GTP) is exported from envs/index.ts.
for (const r of GO_REGISTRATIONS) {
  register({ id: r.id, entryPoint: (kwargs) => new GoVsOpponentEnv(kwargs as GoVsOpponentOptions), kwargs: r.kwargs, description: r.description });
}

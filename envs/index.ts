/**
 * The environment API in Node: `make`, `makeVec`, the registry, spaces, wrappers and the built-in envs, plus
 * what needs Node (envs from the user's modules, Cart-Pole's physics threads). A page imports browser.ts.
 */
import './registrations.js';
import './classic_control/cartpole_threads.js';

export * from './core.js';
export * from './spaces.js';
export * from './wrappers.js';
export * from './registry.js';
export * from './user_modules.js';
export * from './vector.js';
export type * from './frames.js';
export { toRenderFrame, valuesFrame, TEXT_FRAME_MAX_CHARS, VALUES_FRAME_MAX } from './frames.js';
export { Rng, SeedError, assertSeed, type RngState } from './utils/seeding.js';
export * from './classic_control/cartpole.js';
export * from './classic_control/cartpole_vector.js';
export * from './classic_control/acrobot.js';
export * from './classic_control/mountain_car.js';
export * from './classic_control/mountain_car_continuous.js';
export * from './classic_control/pendulum.js';
export { TabularEnv, type Transition, type TransitionTable } from './toy_text/tabular.js';
export { FrozenLakeEnv, MAPS as FROZEN_LAKE_MAPS, generateRandomMap, type FrozenLakeOptions } from './toy_text/frozen_lake.js';
export { CliffWalkingEnv, type CliffWalkingOptions } from './toy_text/cliff_walking.js';
export { TaxiEnv, TAXI_MAP, TAXI_DEPOTS, encodeTaxiState, decodeTaxiState, type TaxiOptions } from './toy_text/taxi.js';
export { SnakeEnv, SnakeAction, SnakeHeading, type SnakeOptions, type SnakeState, type SnakeCell } from './snake.js';
export * from './go/board.js';
export { GoEnv, GoVsOpponentEnv, GO_OPPONENTS, randomOpponent, type GoOpponent, type GoOptions, type GoVsOpponentOptions } from './go/go_env.js';
export { toSgf, fromSgf, sgfResult, SgfError } from './go/sgf.js';
export * from './normalize.js';

/** The environment API: `make`, `makeVec`, the registry, spaces, wrappers and the built-in envs. */
import './registrations.js';

export * from './core.js';
export * from './spaces.js';
export * from './wrappers.js';
export * from './registry.js';
export * from './vector.js';
export type * from './frames.js';
export { Rng, SeedError, assertSeed, type RngState } from './utils/seeding.js';
export * from './classic_control/cartpole.js';
export { TabularEnv, type Transition, type TransitionTable } from './toy_text/tabular.js';

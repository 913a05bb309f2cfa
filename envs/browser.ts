/**
 * The environments a browser page can use: the built-in env table (the same registrations.ts Node uses, so ids,
 * factories, time limits and specs have one source of truth), make/spec, spaces and frame types. Nothing on
 * this import path touches a node: module (dependency-cruiser checks it from viewer/src); envs from the user's
 * modules and Cart-Pole's physics threads stay Node-only (envs/index.ts).
 */
import './registrations.js';

export { Env, EnvError, type EnvSpec, type StepResult, type ResetResult } from './core.js';
export { Box, Discrete, Space, spaceFromJSON, type SpaceJSON } from './spaces.js';
export { make, spec, envIds, registration, envSource, UnknownEnvError, type MakeOptions } from './registry.js';
export { normalizeRows, RunningMeanStd } from './normalize.js';
export type * from './frames.js';

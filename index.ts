/** Public API of the lab. */
export * from './envs/index.js';

/** Public API of the lab (environments alone: `rl-gan-lab/envs`). */
export * from './envs/index.js';
export { startTraining, resumeTraining, evaluateRun, type StartOptions, type RunOutcome, type EvalOutcome } from './agents/train.js';
export type { TrainEvent, EventSink } from './protocol/events.js';
export { startLabServer, type LabServer, type LabServerOptions } from './server/app.js';
export { LivePublisher, type PublisherOptions } from './lab/publisher.js';
export * as protocol from './protocol/protocol.js';
export { MctsPlayer, type MctsOptions } from './agents/go/mcts.js';
export { ParallelMctsPlayer, type ParallelMctsOptions } from './agents/go/mcts_parallel.js';
export { AlphaZeroPlayer, trainAlphaZero, resumeAlphaZero, resolveHyperparameters as alphaZeroHyperparameters, type AlphaZeroHyperparameters, type AlphaZeroTrainOptions } from './agents/go/alphazero.js';
export { playMatch, formatMatch, type MatchOptions, type MatchResult } from './agents/go/match.js';
export { makePlayer } from './agents/go/players.js';
export type { GoPlayer } from './agents/go/player.js';

/** Public API of the lab (environments alone: `rl-gan-lab/envs`). */
export * from './envs/index.js';
export { startTraining, resumeTraining, evaluateRun, type StartOptions, type RunOutcome, type EvalOutcome } from './agents/train.js';
export type { TrainEvent, EventSink } from './lab/events.js';
export { startLabServer, type LabServer, type LabServerOptions } from './server/app.js';
export { LivePublisher, type PublisherOptions } from './lab/publisher.js';
export * as protocol from './lab/protocol.js';

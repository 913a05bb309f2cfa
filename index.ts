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
export { parseSpec, readSpec, SpecError } from './sweep/spec.js';
export { suggest } from './sweep/samplers.js';
export { runExperiment, type ExperimentOutcome, type RunExperimentOptions } from './sweep/coordinator.js';
export { readExperiment, createExperimentDir } from './sweep/experiment_files.js';
export { executeRunJob } from './sweep/run_job.js';
export { LocalPool } from './sweep/local_pool.js';
export { LocalDispatcher, type RunDispatcher } from './sweep/dispatcher.js';
export { QueueDispatcher, QueueWorker } from './sweep/queue.js';
export type { ExperimentSpec, TrialRecord, RunJob, RunJobResult, Params, SearchDimension } from './protocol/experiments.js';
// Your own envs, agents and training scripts (docs/write-your-own.md).
export { registerAgent, unregisterAgent, agentNames, type AgentEntry, type Preset, type TrainDefaults } from './agents/registry.js';
export type { Agent, AgentSetup, AgentFactory, StepBatch, UpdateStats } from './agents/agent.js';
export { importPlugin, importPlugins, type PluginRecord } from './agents/plugins.js';
export { ScriptRun, writePolicyNetwork, type ScriptRunOptions, type EvalSummary, type GreedyPolicy } from './agents/script_run.js';
export { tf, initCompute, type BackendChoice } from './lab/compute.js';
export { mlpSpec, type NetworkSpec, type LayerSpec } from './lab/network.js';
// TensorBoard event files and SB3's CSV logs of a run (docs/interop.md).
export { RunLogs, STAT_TAGS, statTag, type RunLogsOptions, type StatTag } from './lab/run_logs.js';
export { crc32c, maskedCrc32c, tfRecord, summaryEvent, fileVersionEvent, type SummaryValue } from './lab/tensorboard.js';
// Box (continuous) actions: the action type of agents, and the discrete-only agents' check (docs/environments.md).
export type { ActionBatch, MaybePromise } from './agents/agent.js';
export { ActionSpaceError, discreteActions } from './agents/encoding.js';
// rl-zoo hyperparameter files, Layers-format model files and the env checker (docs/interop.md).
export { readZooConf, mapZooSection, parsePythonLiteral, type ZooConf } from './agents/zoo_conf.js';
export { layersModelFiles, readLayersModel, writeLayersModel } from './lab/layers_model.js';
export { checkEnv, checkEnvId, formatEnvCheckReport, type EnvCheck, type EnvCheckReport, type CheckEnvOptions } from './envs/check_env.js';
// PPO and its shared policy-gradient pieces (normalisation wrappers come with envs/index.js).
export { PPO, PPO_DEFAULTS, OBS_NORMALIZATION_FILE, type PPOConfig, type ObsNormalization } from './agents/ppo.js';
export { ppoLoss, gaussianTerms, gaussianLogProb, sampleGaussian, clippedValueLoss, ppoDiagnostics, readObsNormalization, type PPOLossResult, type PPOMinibatch, type PPOLossOptions } from './agents/policy_gradient.js';
export { orthogonalWeights } from './lab/network.js';
// A saved policy outside the training loop (docs/browser.md): inputs and greedy actions as lab eval and the pages
// compute them, and the self-contained HTML file of `lab export --html`.
export { GreedyPolicyIO, greedyAction, parsePolicyLabJson, parseObsNormalization, playEnvKwargs, type PolicyMeta, type PolicyLabJson } from './protocol/saved_policy.js';
export { exportHtml, type ExportOptions } from './cli/export.js';

/**
 * Run views, keyed by a run's `kind` ('rl', 'gan', …). A view is one file under `src/views/` that calls
 * `registerRunView(kind, factory)`; the app mounts the view of the watched run's kind into the main area.
 */
import type { FramesMessage, MetricsMessage, RunKind, RunSummary, SamplesEvent } from '../../../protocol/protocol.js';
import type { WatchResult } from '../net/connection.js';
import type { Stage } from '../stage/stage.js';
import type { LabHooks } from './hooks.js';

export interface RunViewContext {
  /** The element the view fills. */
  container: HTMLElement;
  /** The page's Pixi stage (one WebGL canvas, created on first use). */
  stage(): Promise<Stage>;
  hooks: LabHooks;
  /** Starts (or finds) a live run of a stored RL run's greedy policy and watches it; rejects with the reason. */
  watchPolicy?: (runId: string) => Promise<void>;
}

export interface RunView {
  /** The watch ack (also after a reconnect): summary, learning curves so far, recent frames. */
  load(data: WatchResult): void;
  /** A new summary of the run (`runs:changed`). */
  update(run: RunSummary): void;
  frames(message: FramesMessage): void;
  metrics(message: MetricsMessage): void;
  /** A new sample grid (GAN runs). */
  samples?(message: { runId: string; samples: SamplesEvent }): void;
  destroy(): void;
}

export type RunViewFactory = (ctx: RunViewContext, run: RunSummary) => RunView;

const views = new Map<string, RunViewFactory>();

export function registerRunView(kind: RunKind | (string & {}), factory: RunViewFactory): void {
  views.set(kind, factory);
}

export function runViewFor(kind: string): RunViewFactory | null {
  return views.get(kind) ?? null;
}

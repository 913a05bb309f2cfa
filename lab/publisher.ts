/**
 * Publishes a training run to a lab server (`lab train --live [url]`): an event sink that never makes the
 * training loop wait for the network.
 *
 * The socket lives on a worker thread (publisher_worker.ts), so frames flow even while the trainer runs a long
 * synchronous stretch. On the trainer's thread this sink only decides what to send: step frames only while
 * somebody watches, and then whole episodes of sub-env 0 within a frame budget (default 300 frames/s, the
 * episodes in between are skipped), or every k-th episode if asked. Curve events (episodes, evaluations,
 * update summaries) always go out. While the server is away, the worker keeps bounded buffers and drops
 * (and counts) frames beyond them.
 */
import type { Worker } from 'node:worker_threads';
import { typeScriptWorker } from './ts_worker.js';
import type { EventSink, PublishedEvent, StepEvent } from '../protocol/events.js';
import { frameSchema, type RunInfo } from '../protocol/protocol.js';
import { resolveToken, RUN_KEY_ENV } from './server_key.js';

/** Slots of the shared flags the worker writes and the trainer reads. */
export const FLAG = { watching: 0, frameEvery: 1, stop: 2 } as const;

export interface PublisherWorkerData {
  url: string;
  /** The server's key (null: none found; the server will refuse, and the notice says how to give one). */
  token: string | null;
  /** A run launched by the server: its own key, proving this process is that run's trainer. */
  runKey: string | null;
  flags: SharedArrayBuffer;
  maxBufferedFrames: number;
  maxBufferedEvents: number;
}
export type ToPublisherWorker =
  | { kind: 'begin'; info: RunInfo }
  | { kind: 'events'; events: PublishedEvent[] }
  | { kind: 'end'; status: 'done' | 'stopped' | 'failed'; error?: string; timeoutMs: number };
export type FromPublisherWorker = { kind: 'notice'; message: string } | { kind: 'stop' } | { kind: 'ended' };

export interface PublisherOptions {
  /** Server URL, e.g. http://127.0.0.1:3000. */
  url: string;
  /** The server's key; default LAB_TOKEN, else the runtime file of a server on this machine (lab/server_key.ts). */
  token?: string | null;
  /** Called when the server asks the run to stop (a viewer pressed Stop); `stopRequested` turns true at once. */
  onStop?: () => void;
  /** Called with human-readable connection news (the CLI prints them). */
  onNotice?: (message: string) => void;
  /** Stream the steps of every k-th episode only (default 1). */
  frameEvery?: number;
  /** Budget of streamed frames per second, averaged over whole episodes (default 300). */
  maxFramesPerSecond?: number;
  /** Most step frames the worker holds while unsent. */
  maxBufferedFrames?: number;
  /** Most curve events the worker holds while the server is away. */
  maxBufferedEvents?: number;
}

export class LivePublisher implements EventSink {
  private readonly worker: Worker;
  private readonly flags: Int32Array;
  private readonly frameEvery: number;
  private readonly maxFramesPerSecond: number;
  private begun = false;
  private ended: Promise<void> | null = null;
  private resolveEnded: (() => void) | null = null;
  // Frame budget: a token bucket refilled at maxFramesPerSecond; an episode is streamed whole if it starts
  // with tokens left.
  private tokens: number;
  private lastRefill = performance.now();
  private episode = -1;
  private streaming = false;
  /** Frame kinds whose refusal was told (once each). */
  private readonly refusedKinds = new Set<string>();

  constructor(private readonly options: PublisherOptions) {
    this.frameEvery = options.frameEvery ?? 1;
    if (!Number.isSafeInteger(this.frameEvery) || this.frameEvery < 1) throw new Error(`frameEvery must be a positive integer, got ${options.frameEvery}`);
    this.maxFramesPerSecond = options.maxFramesPerSecond ?? 300;
    if (!(this.maxFramesPerSecond > 0)) throw new Error(`maxFramesPerSecond must be positive, got ${options.maxFramesPerSecond}`);
    this.tokens = this.maxFramesPerSecond;
    let url: URL;
    try {
      url = new URL(options.url);
    } catch {
      throw new Error(`--live: not a URL: ${JSON.stringify(options.url)} (expected e.g. http://127.0.0.1:3000)`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`--live: expected an http(s) URL, got ${options.url}`);
    const flags = new SharedArrayBuffer(4 * 4);
    this.flags = new Int32Array(flags);
    const data: PublisherWorkerData = { url: options.url, token: resolveToken(options.url, options.token), runKey: process.env[RUN_KEY_ENV] || null, flags, maxBufferedFrames: options.maxBufferedFrames ?? 2000, maxBufferedEvents: options.maxBufferedEvents ?? 200_000 };
    this.worker = typeScriptWorker(new URL('./publisher_worker.ts', import.meta.url), data);
    this.worker.unref();
    this.worker.on('message', (m: FromPublisherWorker) => {
      if (m.kind === 'notice') this.options.onNotice?.(m.message);
      else if (m.kind === 'stop') this.options.onStop?.();
      else if (m.kind === 'ended') this.resolveEnded?.();
    });
    this.worker.on('error', (e) => this.options.onNotice?.(`publisher thread failed: ${e.message}`));
  }

  /** True while a viewer watches this run: the trainer renders sub-env 0 each step only then. */
  get wantsSteps(): boolean {
    return Atomics.load(this.flags, FLAG.watching) === 1;
  }

  /** The server asked the run to stop (the training loop checks this every step). */
  get stopRequested(): boolean {
    return Atomics.load(this.flags, FLAG.stop) === 1;
  }

  /** Announces the run; call once its directory and config exist. */
  begin(info: RunInfo): void {
    this.begun = true;
    this.worker.postMessage({ kind: 'begin', info } satisfies ToPublisherWorker);
  }

  /** A trainer's event (an RL or GAN run's, or an AlphaZero-lite run's record), sent on in the background. */
  handle(event: PublishedEvent): void {
    if (!this.begun || this.ended) return;
    if (event.type === 'step') {
      if (!this.selectFrame(event.episode, event.episodeStep)) return;
      event = this.checkedFrame(event);
    }
    this.worker.postMessage({ kind: 'events', events: [event] } satisfies ToPublisherWorker);
  }

  /**
   * The step as the server accepts it: a frame the protocol refuses (a plug-in env's hand-made frame of the wrong
   * shape) would make the server refuse the whole batch, episodes and evaluations with it; the step goes without
   * its frame instead, and the reason is told once per frame kind.
   */
  private checkedFrame(event: StepEvent): StepEvent {
    if (event.frame === null) return event;
    try {
      frameSchema(event.frame, 'frame');
      return event;
    } catch (e) {
      const kind = typeof (event.frame as { kind?: unknown }).kind === 'string' ? (event.frame as { kind: string }).kind : '?';
      if (!this.refusedKinds.has(kind)) {
        this.refusedKinds.add(kind);
        this.options.onNotice?.(`${kind} frames cannot be published (${(e as Error).message}): viewers get the steps without them`);
      }
      return { ...event, frame: null };
    }
  }

  /** Whole episodes within the frame budget, every k-th episode, and nothing while nobody watches. */
  private selectFrame(episode: number, episodeStep: number): boolean {
    if (!this.wantsSteps) {
      this.episode = -1;
      return false;
    }
    if (episode !== this.episode || episodeStep === 1) {
      const now = performance.now();
      this.tokens = Math.min(2 * this.maxFramesPerSecond, this.tokens + ((now - this.lastRefill) / 1000) * this.maxFramesPerSecond);
      this.lastRefill = now;
      this.episode = episode;
      const every = Math.max(this.frameEvery, Atomics.load(this.flags, FLAG.frameEvery));
      this.streaming = episode % every === 0 && this.tokens > 0;
    }
    if (this.streaming) this.tokens--;
    return this.streaming;
  }

  /** Sends what is left and the end of the run (waits at most `timeoutMs` for the server), then stops the thread. */
  async end(status: 'done' | 'stopped' | 'failed', error?: string, timeoutMs = 3000): Promise<void> {
    if (this.ended) return this.ended;
    this.ended = new Promise<void>((resolve) => {
      this.resolveEnded = resolve;
      setTimeout(resolve, timeoutMs + 500).unref();
    }).then(() => this.worker.terminate().then(() => undefined));
    this.worker.postMessage({ kind: 'end', status, ...(error ? { error } : {}), timeoutMs } satisfies ToPublisherWorker);
    return this.ended;
  }

  close(): void {
    // The training loop closes its sinks when it ends; `end()` reports how.
  }
}

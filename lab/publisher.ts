/**
 * Publishes a training run to a lab server (`lab train --live [url]`): an event sink that batches events
 * into at most 60 socket messages per second and asks for step frames only while somebody watches.
 *
 * Training never waits for the network: events go into bounded buffers; while the server is away, step
 * frames beyond the buffer are dropped (and counted) and curve events are kept up to a large bound, then
 * sent when the connection comes back (the server learns of the run again from a fresh hello).
 */
import { io, type Socket } from 'socket.io-client';
import type { EventSink, TrainEvent } from './events.js';
import {
  MAX_FRAME_MESSAGES_PER_SECOND,
  PROTOCOL_VERSION,
  PUBLISH_NAMESPACE,
  type Ack,
  type PublisherToServer,
  type RunInfo,
  type ServerToPublisher,
  type WatchOrder,
} from './protocol.js';

export interface PublisherOptions {
  /** Server URL, e.g. http://127.0.0.1:3000. */
  url: string;
  /** Called when the server asks the run to stop (a viewer pressed Stop). */
  onStop?: () => void;
  /** Called with human-readable connection news (the CLI prints them). */
  onNotice?: (message: string) => void;
  /** Stream the steps of every k-th episode only, even while watched (default 1: every episode). */
  frameEvery?: number;
  /** Most step frames held while unsent. */
  maxBufferedFrames?: number;
  /** Most curve events held while the server is away. */
  maxBufferedEvents?: number;
}

const FLUSH_MS = 1000 / MAX_FRAME_MESSAGES_PER_SECOND;
/** Events per message; a CartPole frame is ~250 bytes of JSON, so a batch stays well under 1 MB. */
const BATCH = 1000;

export class LivePublisher implements EventSink {
  private readonly socket: Socket<ServerToPublisher, PublisherToServer>;
  private info: RunInfo | null = null;
  private watch: WatchOrder | null = null;
  private readonly frameEvery: number;
  private frames: TrainEvent[] = [];
  private events: TrainEvent[] = [];
  private dropped = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private lastFlush = 0;
  private ended = false;
  private announced = false;
  private readonly maxFrames: number;
  private readonly maxEvents: number;

  constructor(private readonly options: PublisherOptions) {
    this.frameEvery = options.frameEvery ?? 1;
    if (!Number.isSafeInteger(this.frameEvery) || this.frameEvery < 1) throw new Error(`frameEvery must be a positive integer, got ${options.frameEvery}`);
    this.maxFrames = options.maxBufferedFrames ?? 2000;
    this.maxEvents = options.maxBufferedEvents ?? 200_000;
    let url: URL;
    try {
      url = new URL(options.url);
    } catch {
      throw new Error(`--live: not a URL: ${JSON.stringify(options.url)} (expected e.g. http://127.0.0.1:3000)`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`--live: expected an http(s) URL, got ${options.url}`);
    this.socket = io(new URL(PUBLISH_NAMESPACE, url).toString(), { transports: ['websocket'], reconnectionDelayMax: 2000, autoConnect: false });
    this.socket.on('connect', () => this.hello());
    this.socket.on('disconnect', (reason) => {
      this.announced = false;
      this.watch = null;
      if (!this.ended && reason !== 'io client disconnect') this.notice(`lost the lab server (${reason}); training goes on, reconnecting`);
    });
    let warned = false;
    this.socket.on('connect_error', (err) => {
      if (!warned) this.notice(`no lab server at ${options.url} (${err.message}); training goes on, will publish when it appears`);
      warned = true;
    });
    this.socket.on('publisher:watch', (order) => {
      if (order && this.info && order.runId === this.info.runId) this.watch = order;
    });
    this.socket.on('publisher:stop', (ref) => {
      if (ref && this.info && ref.runId === this.info.runId) this.options.onStop?.();
    });
    this.socket.on('lab:error', (m) => this.notice(`lab server refused ${m?.event}: ${m?.error}`));
  }

  /** True while a viewer watches this run: the trainer renders sub-env 0 each step only then. */
  get wantsSteps(): boolean {
    return this.announced && this.watch !== null && this.watch.watching;
  }

  /** Announces the run; call once its directory and config exist. */
  begin(info: RunInfo): void {
    this.info = info;
    this.socket.connect();
  }

  handle(event: TrainEvent): void {
    if (this.ended || !this.info) return;
    if (event.type === 'step') {
      const every = Math.max(this.frameEvery, this.watch?.frameEvery ?? 1);
      if (!this.wantsSteps || event.episode % every !== 0) return;
      if (this.frames.length >= this.maxFrames) {
        this.frames.shift();
        this.dropped++;
      }
      this.frames.push(event);
    } else {
      if (this.events.length >= this.maxEvents) this.events.shift();
      this.events.push(event);
    }
    this.schedule();
  }

  private notice(message: string): void {
    this.options.onNotice?.(message);
  }

  private hello(): void {
    if (!this.info) return;
    this.socket.emit('publisher:hello', { protocol: PROTOCOL_VERSION, run: this.info }, (ack: Ack<{ watch: WatchOrder }>) => {
      if (!ack?.ok) {
        this.notice(`lab server refused the run: ${ack && !ack.ok ? ack.error : 'no answer'}`);
        return;
      }
      this.announced = true;
      this.watch = ack.watch;
      this.notice(`publishing to ${this.options.url}`);
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.timer || !this.announced) return;
    const wait = Math.max(0, this.lastFlush + FLUSH_MS - performance.now());
    this.timer = setTimeout(() => {
      this.timer = null;
      this.flush();
    }, wait);
  }

  /** Sends what is buffered as one message (events in step order: curve events first within a step). */
  private flush(): void {
    if (!this.info || !this.announced || !this.socket.connected) return;
    if (this.frames.length === 0 && this.events.length === 0) return;
    this.lastFlush = performance.now();
    const batch = mergeByStep(this.events.splice(0, BATCH), this.frames.splice(0, BATCH));
    this.socket.emit('publisher:events', { runId: this.info.runId, events: batch.map(sanitize), ...(this.dropped ? { dropped: this.dropped } : {}) });
    this.dropped = 0;
    if (this.frames.length || this.events.length) this.schedule();
  }

  /** Sends what is left and the end of the run, then disconnects (waits at most `timeoutMs`). */
  async end(status: 'done' | 'stopped' | 'failed', error?: string, timeoutMs = 3000): Promise<void> {
    if (this.ended) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.info && this.announced && this.socket.connected) {
      while (this.events.length || this.frames.length) {
        const batch = mergeByStep(this.events.splice(0, BATCH), this.frames.splice(0, BATCH));
        this.socket.emit('publisher:events', { runId: this.info.runId, events: batch.map(sanitize) });
      }
      const runId = this.info.runId;
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, timeoutMs);
        this.socket.emit('publisher:end', { runId, status, ...(error ? { error: error.slice(0, 10_000) } : {}) }, () => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    this.ended = true;
    this.socket.disconnect();
  }

  close(): void {
    // The training loop closes its sinks when it ends; `end()` reports how.
  }
}

function mergeByStep(events: TrainEvent[], frames: TrainEvent[]): TrainEvent[] {
  if (frames.length === 0) return events;
  if (events.length === 0) return frames;
  const out: TrainEvent[] = [];
  let i = 0;
  let j = 0;
  while (i < events.length || j < frames.length) {
    // A step's frame comes before the episode end it caused.
    if (j < frames.length && (i >= events.length || frames[j]!.step <= events[i]!.step)) out.push(frames[j++]!);
    else out.push(events[i++]!);
  }
  return out;
}

/** JSON has no NaN or ±Infinity: a diverged loss would arrive as null, so such stats are left out. */
function sanitize(event: TrainEvent): TrainEvent {
  if (event.type !== 'update') return event;
  const stats: Record<string, number> = {};
  for (const [k, v] of Object.entries(event.stats)) if (Number.isFinite(v)) stats[k] = v;
  return { ...event, stats };
}

/**
 * The network side of `LivePublisher`, on its own thread: a training loop that runs a long synchronous
 * stretch (DQN's 128 gradient steps, an evaluation) would otherwise hold frames back until it lets the event
 * loop turn. Here the socket keeps flowing: events posted by the trainer thread go out at once, batched into
 * at most 60 messages per second, and the watch / stop orders of the server reach the trainer through shared
 * memory it reads on every step.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { io, type Socket } from 'socket.io-client';
import type { PublishedEvent, StepEvent } from '../protocol/events.js';
import { MAX_FRAME_MESSAGES_PER_SECOND, PROTOCOL_VERSION, PUBLISH_NAMESPACE, type Ack, type PublisherToServer, type RunInfo, type ServerToPublisher, type WatchOrder } from '../protocol/protocol.js';
import { FLAG, type FromPublisherWorker, type PublisherWorkerData, type ToPublisherWorker } from './publisher.js';

const { url, token, runKey, flags: flagsBuffer, maxBufferedFrames, maxBufferedEvents } = workerData as PublisherWorkerData;
const flags = new Int32Array(flagsBuffer);
const FLUSH_MS = 1000 / MAX_FRAME_MESSAGES_PER_SECOND;
/** Events per message; a Cart-Pole frame is ~250 bytes of JSON, so a batch stays well under 1 MB. */
const BATCH = 1000;
/**
 * Bytes of sample grids (GAN runs: ~67 kB of base64 each) in one message: several grids queued while the
 * server was away go out over several messages, never one beyond the server's 4 MB message limit.
 */
const BATCH_SAMPLE_BYTES = 1_000_000;
/** Sample grids kept while unsent (the oldest go first): the viewer shows the newest anyway. */
const MAX_BUFFERED_SAMPLES = 64;
/** A message at least this often, so the server can tell a quiet run from a dead one (it waits 60 s). */
const HEARTBEAT_MS = 10_000;

const port = parentPort!;
const post = (m: FromPublisherWorker) => port.postMessage(m);
const notice = (message: string) => post({ kind: 'notice', message });

let info: RunInfo | null = null;
let announced = false;
let ended = false;
let frames: StepEvent[] = [];
let events: PublishedEvent[] = [];
let dropped = 0;
/** Sample grids among `events`. */
let bufferedSamples = 0;
let timer: ReturnType<typeof setTimeout> | null = null;
let lastFlush = 0;

const socket: Socket<ServerToPublisher, PublisherToServer> = io(new URL(PUBLISH_NAMESPACE, url).toString(), {
  transports: ['websocket'],
  reconnectionDelayMax: 2000,
  autoConnect: false,
  auth: { ...(token ? { token } : {}), ...(runKey ? { runKey } : {}) },
});

const heartbeat = setInterval(() => {
  if (info && announced && socket.connected && performance.now() - lastFlush >= HEARTBEAT_MS) {
    lastFlush = performance.now();
    socket.emit('publisher:events', { runId: info.runId, events: [] });
  }
}, HEARTBEAT_MS / 2);
heartbeat.unref();

function setWatch(order: WatchOrder | null): void {
  Atomics.store(flags, FLAG.watching, order?.watching ? 1 : 0);
  Atomics.store(flags, FLAG.frameEvery, Math.max(1, order?.frameEvery ?? 1));
}

socket.on('connect', () => {
  if (!info) return;
  socket.emit('publisher:hello', { protocol: PROTOCOL_VERSION, run: info }, (ack: Ack<{ watch: WatchOrder }>) => {
    if (!ack?.ok) {
      runRefused = true;
      notice(`lab server refused the run: ${ack && !ack.ok ? ack.error : 'no answer'}; training goes on unpublished (it is stored as usual)`);
      return;
    }
    runRefused = false;
    announced = true;
    setWatch(ack.watch);
    notice(`publishing to ${url}`);
    schedule();
  });
});
socket.on('disconnect', (reason) => {
  announced = false;
  setWatch(null);
  if (!ended && reason !== 'io client disconnect') notice(`lost the lab server (${reason}); training goes on, reconnecting`);
});
let warned = false;
/** The server refused the key: said once, not again at the end. */
let keyRefused = false;
/** The server refused the run itself (publisher:hello): said once, with its reason, not again at the end. */
let runRefused = false;
socket.on('connect_error', (err) => {
  if (/unauthorized/.test(err.message)) {
    // Retrying with the same key cannot help.
    keyRefused = true;
    socket.disconnect();
    notice(
      `the lab server at ${url} refused the key${token ? '' : ' (none found: no runtime file of a server at that address on this machine)'}; ` +
        'training goes on unpublished. Pass the key printed by lab serve with --token, or set LAB_TOKEN',
    );
    return;
  }
  if (!warned) notice(`no lab server at ${url} (${err.message}); training goes on, will publish when it appears`);
  warned = true;
});
socket.on('publisher:watch', (order) => {
  if (order && info && order.runId === info.runId) setWatch(order);
});
socket.on('publisher:stop', (ref) => {
  if (!ref || !info || ref.runId !== info.runId) return;
  Atomics.store(flags, FLAG.stop, 1);
  post({ kind: 'stop' });
});
socket.on('lab:error', (m) => notice(`lab server refused ${m?.event}: ${m?.error}`));

function schedule(): void {
  if (timer || !announced) return;
  const wait = Math.max(0, lastFlush + FLUSH_MS - performance.now());
  timer = setTimeout(() => {
    timer = null;
    flush();
  }, wait);
}

function takeBatch(): PublishedEvent[] {
  let n = 0;
  let sampleBytes = 0;
  while (n < events.length && n < BATCH) {
    const e = events[n]!;
    if (e.type === 'samples') {
      if (n > 0 && sampleBytes + e.pixels.length > BATCH_SAMPLE_BYTES) break;
      sampleBytes += e.pixels.length;
      bufferedSamples--;
    }
    n++;
  }
  return mergeByStep(events.splice(0, n), frames.splice(0, BATCH));
}

function flush(): void {
  if (!info || !announced || !socket.connected) return;
  if (frames.length === 0 && events.length === 0) return;
  lastFlush = performance.now();
  socket.emit('publisher:events', { runId: info.runId, events: takeBatch(), ...(dropped ? { dropped } : {}) });
  dropped = 0;
  if (frames.length || events.length) schedule();
}

async function end(status: 'done' | 'stopped' | 'failed', error: string | undefined, timeoutMs: number): Promise<void> {
  if (timer) clearTimeout(timer);
  timer = null;
  // A short run can end before its first connection attempt has an answer: wait for it, briefly, so the run
  // is still published (or the reason it is not is the right one).
  const settleBy = performance.now() + Math.min(timeoutMs, 2000);
  while (info && !announced && !keyRefused && !runRefused && !warned && performance.now() < settleBy) await new Promise((r) => setTimeout(r, 20));
  if (info && announced && socket.connected) {
    while (events.length || frames.length) socket.emit('publisher:events', { runId: info.runId, events: takeBatch() });
    const runId = info.runId;
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, timeoutMs);
      socket.emit('publisher:end', { runId, status, ...(error ? { error: error.slice(0, 10_000) } : {}) }, () => {
        clearTimeout(t);
        resolve();
      });
    });
  }
  // A run that failed before it began (bad options, missing data) was never meant to be published.
  else if (info && !announced && !keyRefused && !runRefused) notice(`no lab server at ${url} took the run before it ended; it was not published (it is stored as usual)`);
  ended = true;
  clearInterval(heartbeat);
  socket.disconnect();
  post({ kind: 'ended' });
}

port.on('message', (m: ToPublisherWorker) => {
  if (ended) return;
  switch (m.kind) {
    case 'begin':
      info = m.info;
      socket.connect();
      break;
    case 'events':
      for (const e of m.events) {
        if (e.type === 'step') {
          if (frames.length >= maxBufferedFrames) {
            frames.shift();
            dropped++;
          }
          frames.push(e);
        } else {
          if (events.length >= maxBufferedEvents && events.shift()!.type === 'samples') bufferedSamples--;
          if (e.type === 'samples') {
            bufferedSamples++;
            if (bufferedSamples > MAX_BUFFERED_SAMPLES) {
              const oldest = events.findIndex((x) => x.type === 'samples');
              if (oldest >= 0) events.splice(oldest, 1);
              bufferedSamples--;
            }
          }
          events.push(e);
        }
      }
      schedule();
      break;
    case 'end':
      void end(m.status, m.error, m.timeoutMs);
      break;
  }
});

/** Merges curve events and frames by step: a step's frame comes before the episode end it caused. */
function mergeByStep(a: PublishedEvent[], b: StepEvent[]): PublishedEvent[] {
  if (b.length === 0) return a;
  if (a.length === 0) return b;
  const out: PublishedEvent[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (j < b.length && (i >= a.length || b[j]!.step <= stepOf(a[i]!))) out.push(b[j++]!);
    else out.push(a[i++]!);
  }
  return out;
}

/** Where an event falls: env steps (RL), iterations (GAN, AlphaZero-lite). */
function stepOf(e: PublishedEvent): number {
  return 'step' in e ? e.step : e.iteration;
}

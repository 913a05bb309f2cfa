/** The viewer's socket to the lab server (`/live` namespace, same origin) and the HTTP API. */
import { io, type Socket } from 'socket.io-client';
import {
  API,
  LIVE_NAMESPACE,
  type Ack,
  type Catalog,
  type GoGameState,
  type GoNewRequest,
  type RunHistory,
  type RunSummary,
  type SamplesEvent,
  type ServerToViewer,
  type SessionResponse,
  type StartRunRequest,
  type StepFrame,
  type ViewerToServer,
} from '../../../protocol/protocol.js';

export type LiveSocket = Socket<ServerToViewer, ViewerToServer>;

export type ConnectionState = 'connecting' | 'connected' | 'disconnected';

export interface WatchResult {
  run: RunSummary;
  history: RunHistory;
  frames: StepFrame[];
  /** The sample grids so far, oldest first (GAN runs; empty for others). */
  samples: SamplesEvent[];
}

const ACK_TIMEOUT_MS = 10_000;

export class LabConnection {
  readonly socket: LiveSocket;
  state: ConnectionState = 'connecting';
  private readonly stateListeners = new Set<(state: ConnectionState, first: boolean) => void>();
  private connectedOnce = false;

  constructor(url = LIVE_NAMESPACE) {
    this.socket = io(url, { transports: ['websocket', 'polling'], reconnectionDelay: 500, reconnectionDelayMax: 4000 });
    this.socket.on('connect', () => {
      const first = !this.connectedOnce;
      this.connectedOnce = true;
      this.setState('connected', first);
    });
    this.socket.on('disconnect', () => this.setState('disconnected', false));
    this.socket.on('connect_error', () => this.setState(this.connectedOnce ? 'disconnected' : 'connecting', false));
  }

  /** Listens to connection changes; `first` is true on the first successful connect only. */
  onState(fn: (state: ConnectionState, first: boolean) => void): () => void {
    this.stateListeners.add(fn);
    return () => this.stateListeners.delete(fn);
  }

  listRuns(): Promise<RunSummary[]> {
    return this.request<{ runs: RunSummary[] }>('runs:list', {}).then((r) => r.runs);
  }

  watch(runId: string): Promise<WatchResult> {
    return this.request<WatchResult>('run:watch', { runId });
  }

  unwatch(runId: string): void {
    if (this.socket.connected) this.socket.emit('run:unwatch', { runId }, () => undefined);
  }

  start(request: StartRunRequest): Promise<RunSummary> {
    return this.request<{ run: RunSummary }>('run:start', request).then((r) => r.run);
  }

  stop(runId: string): Promise<void> {
    return this.request<object>('run:stop', { runId }).then(() => undefined);
  }

  /** A live run of a stored RL run's greedy policy (the server starts `lab watch`, or finds the one playing). */
  watchPolicy(runId: string): Promise<RunSummary> {
    return this.request<{ run: RunSummary }>('run:watch-policy', { runId }).then((r) => r.run);
  }

  /** Starts a Go game against an agent (the server closes this socket's games when it disconnects). */
  goNew(request: GoNewRequest): Promise<GoGameState> {
    return this.request<{ game: GoGameState }>('go:new', request).then((r) => r.game);
  }

  /** Plays a point (row·N + col) or passes (N²); the agent's reply comes as a `go:state` push. */
  goPlay(gameId: string, move: number): Promise<GoGameState> {
    return this.request<{ game: GoGameState }>('go:play', { gameId, move }).then((r) => r.game);
  }

  goResign(gameId: string): Promise<GoGameState> {
    return this.request<{ game: GoGameState }>('go:resign', { gameId }).then((r) => r.game);
  }

  /** Ends a game on the server (its engine stops); fire and forget. */
  goClose(gameId: string): void {
    if (this.socket.connected) this.socket.emit('go:close', { gameId }, () => undefined);
  }

  /** Emits with an ack and a timeout; rejects with the server's error message when `ok` is false. */
  private request<T extends object>(event: keyof ViewerToServer, payload: object): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      if (!this.socket.connected) {
        reject(new Error('not connected to the lab server'));
        return;
      }
      // The typed emit cannot name an event chosen at run time; the payload shapes are checked by the callers' signatures.
      const timed = this.socket.timeout(ACK_TIMEOUT_MS) as unknown as {
        emit(ev: string, p: object, ack: (err: Error | null, res: Ack<T>) => void): void;
      };
      timed.emit(event, payload, (err, res) => {
        if (err) reject(new Error(`${event}: no answer from the server`));
        else if (!res || typeof res !== 'object') reject(new Error(`${event}: malformed answer`));
        else if (res.ok) resolve(res as T);
        else reject(new Error(res.error));
      });
    });
  }

  private setState(state: ConnectionState, first: boolean): void {
    if (state === this.state && !first) return;
    this.state = state;
    for (const fn of this.stateListeners) fn(state, first);
  }
}

/** GET a JSON document of the lab server's API. */
export async function getJson<T>(path: string): Promise<T> {
  const res = await fetch(path, { headers: { accept: 'application/json' } });
  if (!res.ok) throw new Error(`GET ${path}: HTTP ${res.status}`);
  return (await res.json()) as T;
}

export function fetchCatalog(): Promise<Catalog> {
  return getJson<Catalog>(API.catalog);
}

/** What this page may do: it holds the server's key (from the printed link) or only watches. */
export function fetchSession(): Promise<SessionResponse> {
  return getJson<SessionResponse>(API.session);
}

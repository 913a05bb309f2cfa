/**
 * The lab server: express 5 serves the built viewer and a small read-only JSON API; socket.io carries the
 * live protocol (protocol/protocol.ts) on two namespaces, /live for viewers and /publish for trainers.
 * Binds to loopback unless told otherwise. Who may do what is decided in access.ts: the Host and Origin of
 * every request and handshake are checked, and starting or stopping anything needs the server's key.
 */
import fs from 'node:fs';
import path from 'node:path';
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import express from 'express';
import { Server } from 'socket.io';
import {
  API,
  DEFAULT_HOST,
  DEFAULT_PORT,
  LIVE_NAMESPACE,
  PROTOCOL_VERSION,
  PUBLISH_NAMESPACE,
  RUN_ID_PATTERN,
  type HealthResponse,
  type ModelListResponse,
  type SessionResponse,
  type PublisherToServer,
  type ServerToPublisher,
  type ServerToViewer,
  type ViewerToServer,
} from '../protocol/protocol.js';
import { Hub, type HubOptions } from './hub.js';
import { catalog } from './catalog.js';
import { BadRequest, Damaged, NotFound, ReplayStore } from './replays_api.js';
import { findModelFile, listModels } from './model_files.js';
import { loadRunPlugins } from '../agents/plugins.js';
import { publicMessage } from '../lab/run_files.js';
import { LAB_VERSION } from '../lab/version.js';
import { Access, isLoopback } from './access.js';
import { CompareWorker } from './compare_worker.js';
import { Busy } from './thread_client.js';
import { ExperimentsWorker, mountExperimentsApi } from './experiments_api.js';
import { newToken, removeRuntimeFile, TOKEN_QUERY, writeRuntimeFile } from '../lab/server_key.js';

export const VIEWER_DIST = fileURLToPath(new URL('../viewer/dist', import.meta.url));

export interface LabServerOptions {
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  runsDir?: string;
  /** Directory of the built viewer (default viewer/dist). */
  viewerDir?: string;
  /** Extra `lab train` arguments for runs started from the viewer. */
  trainerArgs?: string[];
  /** Extra `lab gan train` arguments for GAN runs started from the viewer (tests: --backend, small intervals). */
  ganTrainerArgs?: string[];
  log?: (message: string) => void;
  /** The server's key (default: a new random one). */
  token?: string;
  /** Extra names the Host header may carry (a reverse proxy's, the machine's DNS name). */
  allowHosts?: string[];
  /** Extra origins treated as the lab's own page (the Vite dev server: http://localhost:5173). */
  allowOrigins?: string[];
  /** Write the runtime file through which `lab train --live` finds the key (default true). */
  runtimeFile?: boolean;
  /** Hub limits (tests shorten the time-outs). */
  hub?: Pick<HubOptions, 'staleMs' | 'retainMs' | 'sweepMs' | 'launcher'>;
}

export interface LabServer {
  /** The server's address, without the key. */
  url: string;
  /** The link to open in a browser: `url` with the key, which the page keeps as a cookie. */
  openUrl: string;
  token: string;
  host: string;
  port: number;
  http: HttpServer;
  io: Server;
  hub: Hub;
  close(): Promise<void>;
}

export { isLoopback };

/** Answers with a JSON error and no stack trace or path. */
function jsonError(res: express.Response, status: number, error: string): void {
  res.status(status).json({ error });
}

export async function startLabServer(options: LabServerOptions = {}): Promise<LabServer> {
  const host = options.host ?? DEFAULT_HOST;
  const runsDir = path.resolve(options.runsDir ?? 'runs');
  const viewerDir = options.viewerDir ?? VIEWER_DIST;
  let url = '';
  const token = options.token ?? newToken();
  const access = new Access({ boundHost: host, token, ...(options.allowHosts ? { allowHosts: options.allowHosts } : {}), ...(options.allowOrigins ? { allowOrigins: options.allowOrigins } : {}) });
  const hub = new Hub({
    runsDir,
    serverUrl: () => url,
    token,
    ...(options.trainerArgs ? { trainerArgs: options.trainerArgs } : {}),
    ...(options.ganTrainerArgs ? { ganTrainerArgs: options.ganTrainerArgs } : {}),
    ...(options.log ? { log: options.log } : {}),
    ...options.hub,
  });

  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'simple');
  // Every request: a Host of this server, and (for browsers) the lab's own page as Origin.
  app.use((req, res, next) => {
    const refused = access.refusal(req);
    if (refused) return void jsonError(res, 403, refused);
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('X-Frame-Options', 'DENY');
    res.setHeader('Referrer-Policy', 'no-referrer');
    next();
  });
  // Nothing here changes state over HTTP; any other method is refused outright.
  app.use((req, res, next) => {
    if (req.method === 'GET' || req.method === 'HEAD') return next();
    jsonError(res, 405, `${req.method} is not accepted here`);
  });
  // The printed link carries the key: keep it as an HttpOnly cookie and drop it from the address bar.
  app.use((req, res, next) => {
    const given = req.query[TOKEN_QUERY];
    if (given === undefined || req.path.startsWith('/api/')) return next();
    if (!access.holdsKey(req, given)) return void res.status(401).type('text').send('This link holds a key that is not this lab server\'s (it restarted?): open the link it printed last.');
    const params = new URLSearchParams(req.url.includes('?') ? req.url.slice(req.url.indexOf('?') + 1) : '');
    params.delete(TOKEN_QUERY);
    const rest = params.toString();
    res.setHeader('Set-Cookie', access.keyCookie());
    res.setHeader('Cache-Control', 'no-store');
    // One leading slash: `//host/…` would be another site.
    res.redirect(302, `/${req.path.replace(/^\/+/, '')}${rest ? `?${rest}` : ''}`);
  });
  // A server reachable from other machines shows nothing without the key.
  app.use('/api', (req, res, next) => {
    if (access.keyForReading && !access.holdsKey(req)) return void jsonError(res, 401, 'this lab server needs its key: open the link it printed, or send Authorization: token <key>');
    next();
  });
  app.get(API.session, (req, res) => {
    const body: SessionResponse = { canStart: access.holdsKey(req), keyForReading: access.keyForReading };
    res.json(body);
  });
  app.get(API.health, (_req, res) => {
    const body: HealthResponse = { ok: true, version: LAB_VERSION, protocol: PROTOCOL_VERSION, runsDir };
    res.json(body);
  });
  app.get(API.catalog, (_req, res) => {
    res.json(catalog());
  });
  app.get(API.runs, (_req, res) => {
    res.json(hub.list());
  });
  app.get('/api/runs/:runId', (req, res) => {
    const runId = String(req.params.runId);
    const summary = RUN_ID_PATTERN.test(runId) ? hub.summary(runId) : null;
    if (!summary) return void res.status(404).json({ error: `no run ${JSON.stringify(runId.slice(0, 200))}` });
    res.json(summary);
  });
  app.get('/api/runs/:runId/history', (req, res) => {
    const runId = String(req.params.runId);
    const history = RUN_ID_PATTERN.test(runId) ? hub.history(runId) : null;
    if (!history) return void res.status(404).json({ error: `no run ${JSON.stringify(runId.slice(0, 200))}` });
    res.json(history);
  });
  const replays = new ReplayStore(hub.disk);
  const fail = (res: express.Response, e: unknown) => {
    const message = e instanceof Error ? e.message : String(e);
    if (e instanceof NotFound) res.status(404).json({ error: message });
    else if (e instanceof BadRequest) res.status(400).json({ error: message });
    else if (e instanceof Busy) res.status(503).json({ error: message });
    // A damaged file in a run: its message names the run and file (never an absolute path).
    else if (e instanceof Damaged) res.status(422).json({ error: message });
    else {
      // Unexpected: the message may hold paths; the log gets it, the client a short note.
      options.log?.(`server error on ${res.req.path}: ${message}`);
      res.status(500).json({ error: 'internal error (see the server log)' });
    }
  };
  const query = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
  app.get(API.replays, (req, res) => {
    try {
      res.json(replays.listing({ env: query(req.query.env), agent: query(req.query.agent), run: query(req.query.run), mode: query(req.query.mode) }));
    } catch (e) {
      fail(res, e);
    }
  });
  app.get('/api/runs/:runId/replays/:name', async (req, res) => {
    try {
      // A run of a plug-in env re-simulates its logs with the plug-in: import it first (once per module).
      await loadPluginsOfRun(hub.disk.dirOf(String(req.params.runId)), String(req.params.runId));
      res.json(replays.detail(String(req.params.runId), String(req.params.name)));
    } catch (e) {
      fail(res, e);
    }
  });
  // A run's networks in the Layers format, for pages that run them (tf.loadLayersModel reads model.json, then weights.bin).
  app.get('/api/runs/:runId/models', (req, res) => {
    try {
      const runId = String(req.params.runId);
      const body: ModelListResponse = listModels(runId, hub.disk.dirOf(runId));
      res.setHeader('Cache-Control', 'no-cache');
      res.json(body);
    } catch (e) {
      fail(res, e);
    }
  });
  app.get('/api/runs/:runId/models/:model/:file', (req, res) => {
    try {
      const runId = String(req.params.runId);
      const found = findModelFile(runId, hub.disk.dirOf(runId), String(req.params.model), String(req.params.file));
      res.setHeader('Cache-Control', 'no-cache');
      res.type(found.contentType).send(fs.readFileSync(found.file));
    } catch (e) {
      fail(res, e);
    }
  });
  app.get(API.goAgents, (_req, res) => {
    res.json(hub.go.agents());
  });
  // Comparisons bootstrap over many runs: a worker thread does them, so live traffic never waits.
  const compareWorker = new CompareWorker(runsDir);
  app.get(API.compare, (req, res) => {
    const ids = (query(req.query.runs) ?? '').split(',').filter((s) => s !== '');
    compareWorker.compare(ids, { groupBy: query(req.query.groupBy), curve: query(req.query.curve) }).then(
      (result) => res.json(result),
      (e: unknown) => fail(res, e),
    );
  });
  const experiments = new ExperimentsWorker(runsDir, () => hub.list());
  mountExperimentsApi(app, experiments, fail);
  app.use('/api', (_req, res) => {
    res.status(404).json({ error: 'unknown API path' });
  });
  app.use(express.static(viewerDir, { index: 'index.html', fallthrough: true }));
  app.get('/{*splat}', (_req, res) => {
    const index = path.join(viewerDir, 'index.html');
    if (fs.existsSync(index)) res.sendFile(index);
    else res.status(503).type('text').send('The viewer is not built yet: run `npm run build:viewer` (lab serve builds it on start).');
  });
  // Malformed URLs (`%zz`) and anything unexpected: a short message, never a stack trace or a path.
  app.use((err: unknown, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
    const status = typeof (err as { status?: unknown })?.status === 'number' ? (err as { status: number }).status : 500;
    if (status >= 500) options.log?.(`server error: ${err instanceof Error ? err.message : String(err)}`);
    if (res.headersSent) return;
    jsonError(res, status, status === 400 ? 'bad request (malformed URL?)' : status < 500 ? 'request refused' : 'internal error (see the server log)');
  });

  const http = createServer(app);
  const io = new Server(http, {
    serveClient: false,
    maxHttpBufferSize: 4e6,
    cors: undefined,
    // Host and Origin of every handshake, WebSocket and polling alike (socket.io's cors does not cover WebSockets).
    allowRequest: (req, callback) => {
      const refused = access.refusal(req);
      if (refused) options.log?.(`refused a socket handshake: ${refused}`);
      callback(refused, refused === null);
    },
  });
  const live = io.of(LIVE_NAMESPACE);
  live.use((socket, next) => {
    const holdsKey = access.holdsKey(socket.request, (socket.handshake.auth as Record<string, unknown> | undefined)?.token);
    if (access.keyForReading && !holdsKey) return next(new Error('unauthorized: this lab server needs its key (open the link it printed)'));
    socket.data.holdsKey = holdsKey;
    next();
  });
  const publish = io.of(PUBLISH_NAMESPACE);
  publish.use((socket, next) => {
    const auth = (socket.handshake.auth ?? {}) as Record<string, unknown>;
    if (!access.holdsKey(socket.request, auth.token)) return next(new Error('unauthorized: publishing needs the lab server\'s key (found by itself for a server on this machine; else --token or LAB_TOKEN)'));
    socket.data.holdsKey = true;
    socket.data.runKey = typeof auth.runKey === 'string' ? auth.runKey : null;
    next();
  });
  hub.attachViewers(live as never);
  hub.attachPublishers(publish as never);
  // The default namespace is unused: nobody connects to it.
  io.use((_socket, next) => next(new Error(`use the ${LIVE_NAMESPACE} or ${PUBLISH_NAMESPACE} namespace`)));

  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(options.port ?? DEFAULT_PORT, host, () => {
      http.off('error', reject);
      resolve();
    });
  });
  const address = http.address() as AddressInfo;
  const urlHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  url = `http://${urlHost === '0.0.0.0' || urlHost === '[::]' ? '127.0.0.1' : urlHost}:${address.port}`;
  access.setPort(address.port);
  const writeRuntime = options.runtimeFile ?? true;
  if (writeRuntime) {
    try {
      writeRuntimeFile({ url, host: address.address, port: address.port, pid: process.pid, token, runsDir, startedAt: new Date().toISOString() });
    } catch (e) {
      options.log?.(`could not write the runtime file (lab train --live will need --token): ${(e as Error).message}`);
    }
  }

  return {
    url,
    openUrl: `${url}/?${TOKEN_QUERY}=${token}`,
    token,
    host: address.address,
    port: address.port,
    http,
    io,
    hub,
    async close() {
      if (writeRuntime) removeRuntimeFile(address.port);
      await hub.close();
      await compareWorker.close();
      await experiments.close();
      await new Promise<void>((resolve) => io.close(() => resolve()));
    },
  };
}

export type { ViewerToServer, ServerToViewer, PublisherToServer, ServerToPublisher };

/** Imports the plug-in modules a stored run recorded; a failure is a Damaged error naming the run and module's file. */
async function loadPluginsOfRun(dir: string | null, runId: string): Promise<void> {
  if (dir === null) return;
  try {
    await loadRunPlugins(dir);
  } catch (e) {
    throw new Damaged(`${runId}: ${publicMessage((e instanceof Error ? e.message : String(e)).replaceAll(dir, runId), [])}`);
  }
}

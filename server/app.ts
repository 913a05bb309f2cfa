/**
 * The lab server: express 5 serves the built viewer and a small read-only JSON API; socket.io carries the
 * live protocol (lab/protocol.ts) on two namespaces, /live for viewers and /publish for trainers.
 * Binds to loopback unless told otherwise: anyone who can reach it can start training runs.
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
  type PublisherToServer,
  type ServerToPublisher,
  type ServerToViewer,
  type ViewerToServer,
} from '../lab/protocol.js';
import { Hub } from './hub.js';
import { catalog } from './catalog.js';
import { BadRequest, NotFound, ReplayStore } from './replays_api.js';
import { LAB_VERSION } from '../agents/train.js';

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
}

export interface LabServer {
  url: string;
  host: string;
  port: number;
  http: HttpServer;
  io: Server;
  hub: Hub;
  close(): Promise<void>;
}

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\./.test(host);
}

export async function startLabServer(options: LabServerOptions = {}): Promise<LabServer> {
  const host = options.host ?? DEFAULT_HOST;
  const runsDir = path.resolve(options.runsDir ?? 'runs');
  const viewerDir = options.viewerDir ?? VIEWER_DIST;
  let url = '';
  const hub = new Hub({ runsDir, serverUrl: () => url, ...(options.trainerArgs ? { trainerArgs: options.trainerArgs } : {}), ...(options.ganTrainerArgs ? { ganTrainerArgs: options.ganTrainerArgs } : {}), ...(options.log ? { log: options.log } : {}) });

  const app = express();
  app.disable('x-powered-by');
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
    else res.status(500).json({ error: message });
  };
  const query = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
  app.get(API.replays, (req, res) => {
    try {
      res.json(replays.list({ env: query(req.query.env), agent: query(req.query.agent), run: query(req.query.run), mode: query(req.query.mode) }));
    } catch (e) {
      fail(res, e);
    }
  });
  app.get('/api/runs/:runId/replays/:name', (req, res) => {
    try {
      res.json(replays.detail(String(req.params.runId), String(req.params.name)));
    } catch (e) {
      fail(res, e);
    }
  });
  app.get(API.goAgents, (_req, res) => {
    res.json(hub.go.agents());
  });
  app.get(API.compare, (req, res) => {
    try {
      const ids = (query(req.query.runs) ?? '').split(',').filter((s) => s !== '');
      res.json(replays.compare(ids, { groupBy: query(req.query.groupBy), curve: query(req.query.curve) }));
    } catch (e) {
      fail(res, e);
    }
  });
  app.use('/api', (_req, res) => {
    res.status(404).json({ error: 'unknown API path' });
  });
  app.use(express.static(viewerDir, { index: 'index.html', fallthrough: true }));
  app.get('/{*splat}', (_req, res) => {
    const index = path.join(viewerDir, 'index.html');
    if (fs.existsSync(index)) res.sendFile(index);
    else res.status(503).type('text').send('The viewer is not built yet: run `npm run build:viewer` (lab serve builds it on start).');
  });

  const http = createServer(app);
  const io = new Server(http, { serveClient: false, maxHttpBufferSize: 4e6, cors: undefined });
  hub.attachViewers(io.of(LIVE_NAMESPACE) as never);
  hub.attachPublishers(io.of(PUBLISH_NAMESPACE) as never);
  // The default namespace is unused: refuse its events like any other junk.
  io.on('connection', (socket) => socket.onAny((event: unknown) => socket.emit('lab:error', { event: String(event).slice(0, 100), error: `use the ${LIVE_NAMESPACE} or ${PUBLISH_NAMESPACE} namespace` })));

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

  return {
    url,
    host: address.address,
    port: address.port,
    http,
    io,
    hub,
    async close() {
      await hub.close();
      await new Promise<void>((resolve) => io.close(() => resolve()));
    },
  };
}

export type { ViewerToServer, ServerToViewer, PublisherToServer, ServerToPublisher };

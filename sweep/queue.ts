/**
 * Experiments across machines: the runs of a sweep go through a BullMQ queue on Redis. The coordinator's side
 * is `QueueDispatcher` (a RunDispatcher for sweep/coordinator.ts); the other side is `QueueWorker` (`lab
 * worker`), which takes jobs and trains each in a local worker process, in a working directory of its own: no
 * filesystem is shared, every file a run writes travels through Redis (sweep/run_archive.ts).
 *
 * In Redis (one sweep at a time per database; another database is another queue: redis://host:port/1):
 *
 *   bull:lab-runs:*                      the BullMQ queue; one job per run, jobId `${experimentId}.${runId}`,
 *                                        so a resumed coordinator finds its jobs instead of adding them twice
 *   lab:sweep:owner                      {experimentId, labVersion, host, pid, since}: the sweep the queue serves
 *   lab:sweep:coordinator                the live coordinator's token, expiring 10 s after its last heartbeat
 *   lab:sweep:<exp>:snapshot:<runId>     the run directory at its newest checkpoint (a hash: manifest, c0, c1, …),
 *                                        overwritten at each checkpoint, removed when the run ends
 *   lab:sweep:<exp>:result:<runId>       the finished run directory and its RunJobResult, until the coordinator
 *                                        has written it into <expDir>/runs/<runId>
 *
 * A worker that dies (kill -9, a lost connection) stops renewing its job's lock; BullMQ's stalled-job check
 * puts the job back within about 10–15 s (LOCK_MS, STALLED_INTERVAL_MS) and another worker takes it,
 * restores the snapshot and resumes from that checkpoint (or starts afresh without one); resume is exact, so
 * the result does not depend on which. Snapshots and results are written only while the writer still holds
 * the job's lock (a Lua script compares the lock's token), so a worker that lost its job cannot overwrite the
 * work of the one that took it over.
 *
 * Refusals, each one line: Redis unreachable, older than 5, or evicting keys (BullMQ needs noeviction); a
 * queue that serves another sweep with runs still pending or a coordinator alive; a worker of another lab
 * version (it puts the job back untouched and stops: nothing is lost).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import crypto from 'node:crypto';
import { Queue, QueueEvents, WaitingError, Worker, type ConnectionOptions, type Job } from 'bullmq';
import { Redis, type RedisOptions } from 'ioredis';
import type { RunJob, RunJobResult } from '../protocol/experiments.js';
import { LAB_VERSION } from '../lab/version.js';
import type { RunDispatcher } from './dispatcher.js';
import { checkManifest, packRunDir, unpackRunArchive, type RunArchive } from './run_archive.js';

/** The BullMQ queue's name (one per Redis database). */
export const QUEUE_NAME = 'lab-runs';
const OWNER_KEY = 'lab:sweep:owner';
const COORDINATOR_KEY = 'lab:sweep:coordinator';

/** A job's lock lasts this long without renewal (the worker renews it every half of it). */
export const LOCK_MS = 10_000;
/** How often workers look for stalled jobs (a dead worker's job is back in the queue after LOCK_MS plus at most two of these). */
export const STALLED_INTERVAL_MS = 3_000;
/** How many times a job may stall (its worker died) before it fails. */
export const MAX_STALLED = 20;
/** The coordinator's heartbeat: refreshed every HEARTBEAT_MS, gone HEARTBEAT_TTL_MS after the last. */
const HEARTBEAT_MS = 2_000;
const HEARTBEAT_TTL_MS = 10_000;
/** How long connecting to Redis may take before it counts as unreachable. */
export const CONNECT_TIMEOUT_MS = 3_000;

export function snapshotKey(experimentId: string, runId: string): string {
  return `lab:sweep:${experimentId}:snapshot:${runId}`;
}

export function resultKey(experimentId: string, runId: string): string {
  return `lab:sweep:${experimentId}:result:${runId}`;
}

/** The BullMQ job id of a run: one per experiment and run (BullMQ ignores a second add of the same id). */
export function jobIdOf(experimentId: string, runId: string): string {
  return `${experimentId}.${runId}`;
}

/** The sweep a queue serves (lab:sweep:owner). */
export interface QueueOwner {
  experimentId: string;
  labVersion: string;
  host: string;
  pid: number;
  since: string;
}

// ---------------------------------------------------------------------------------------------------------------
// Connecting

/** A Redis URL as given to --queue, checked: redis:// or rediss://, a host, a port, an optional database number. */
export function parseRedisUrl(url: string): URL {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new Error(`--queue: '${url}' is not a URL (expected redis://host:port, e.g. redis://127.0.0.1:6379)`);
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') throw new Error(`--queue: '${url}' is not a redis:// URL (expected redis://host:port)`);
  if (u.hostname === '') throw new Error(`--queue: '${url}' names no host (expected redis://host:port)`);
  if (u.pathname !== '' && u.pathname !== '/' && !/^\/\d+$/.test(u.pathname)) throw new Error(`--queue: '${url}': the path must be a database number (redis://host:port/1)`);
  return u;
}

/** The URL without its password (for messages and experiment.json). */
export function publicRedisUrl(url: string): string {
  const u = parseRedisUrl(url);
  if (u.password !== '') u.password = '***';
  return u.toString().replace(/\/$/, '');
}

/** ioredis options for a URL; `blocking` connections (BullMQ workers and events) retry forever. */
function redisOptions(url: string, blocking: boolean): RedisOptions {
  const u = parseRedisUrl(url);
  return {
    host: u.hostname.replace(/^\[|\]$/g, ''),
    port: u.port === '' ? 6379 : Number(u.port),
    db: u.pathname.length > 1 ? Number(u.pathname.slice(1)) : 0,
    ...(u.username !== '' ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.password !== '' ? { password: decodeURIComponent(u.password) } : {}),
    ...(u.protocol === 'rediss:' ? { tls: {} } : {}),
    connectTimeout: CONNECT_TIMEOUT_MS,
    ...(blocking ? { maxRetriesPerRequest: null } : {}),
  };
}

/** What the checks need to know about a Redis server. */
export interface RedisServerInfo {
  version: string;
  maxmemoryPolicy: string;
}

/**
 * Throws one line when BullMQ cannot keep its queues on this server: older than Redis 5, or with an eviction
 * policy other than noeviction (Redis would drop jobs and locks under memory pressure).
 */
export function checkRedisServer(info: RedisServerInfo, url: string): void {
  const [major] = info.version.split('.').map(Number);
  if (!Number.isFinite(major) || major! < 5) {
    throw new Error(`Redis at ${publicRedisUrl(url)} is version ${info.version}; BullMQ needs Redis 5 or newer (6.2 or newer recommended)`);
  }
  if (info.maxmemoryPolicy !== 'noeviction') {
    throw new Error(
      `Redis at ${publicRedisUrl(url)} has maxmemory-policy ${info.maxmemoryPolicy}: it may evict jobs and locks; ` +
        `queues need noeviction (redis-cli -u ${publicRedisUrl(url)} config set maxmemory-policy noeviction)`,
    );
  }
}

/** One field of INFO's text (`field:value` lines). */
function infoField(info: string, field: string): string | null {
  const m = new RegExp(`^${field}:(.*)$`, 'm').exec(info);
  return m ? m[1]!.trim() : null;
}

/**
 * Connects to Redis for commands, failing within about CONNECT_TIMEOUT_MS with one line when it is not there,
 * and checks the server (checkRedisServer).
 */
export async function connectRedis(url: string): Promise<Redis> {
  const shown = publicRedisUrl(url);
  const client = new Redis({ ...redisOptions(url, false), lazyConnect: true, maxRetriesPerRequest: 1, enableOfflineQueue: false, retryStrategy: () => null });
  let lastError: Error | null = null;
  client.on('error', (err: Error) => (lastError = err));
  try {
    await withTimeout(client.connect(), CONNECT_TIMEOUT_MS + 500, () => new Error(`no answer within ${(CONNECT_TIMEOUT_MS + 500) / 1000} s`));
  } catch (err) {
    client.disconnect();
    const why = (lastError ?? (err as Error)).message || String(err);
    throw new Error(`cannot reach Redis at ${shown}: ${why} (start one: redis-server --port ${parseRedisUrl(url).port || 6379}; docs/experiments.md, "Many machines")`);
  }
  // Once connected, reconnect as ioredis does by default: a blip must not end a long sweep.
  client.options.retryStrategy = (times: number) => Math.min(times * 200, 2000);
  client.options.enableOfflineQueue = true;
  try {
    const server = await client.info('server');
    const version = infoField(server, 'redis_version') ?? '0';
    let policy: string | null = null;
    try {
      const reply = (await client.config('GET', 'maxmemory-policy')) as string[];
      policy = reply[1] ?? null;
    } catch {
      // CONFIG may be disabled (managed Redis): INFO memory says it too.
    }
    policy ??= infoField(await client.info('memory'), 'maxmemory_policy') ?? 'unknown';
    checkRedisServer({ version, maxmemoryPolicy: policy }, url);
  } catch (err) {
    client.disconnect();
    throw err;
  }
  return client;
}

function withTimeout<T>(promise: Promise<T>, ms: number, error: () => Error): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(error()), ms);
    promise.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(timer);
        reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The queue's owner record, or null (none, or not one of ours). */
export async function readOwner(client: Redis): Promise<QueueOwner | null> {
  const text = await client.get(OWNER_KEY);
  if (text === null) return null;
  try {
    const o = JSON.parse(text) as QueueOwner;
    return typeof o.experimentId === 'string' && typeof o.labVersion === 'string' ? o : null;
  } catch {
    return null;
  }
}

/** Throws one line when a worker of `workerVersion` must not take the jobs of the sweep `owner` (another lab version). */
export function checkWorkerVersion(owner: Pick<QueueOwner, 'experimentId' | 'labVersion'>, workerVersion: string, url: string): void {
  if (owner.labVersion !== workerVersion) {
    throw new Error(
      `the sweep on ${publicRedisUrl(url)} (experiment ${owner.experimentId}) runs lab ${owner.labVersion}; this worker is lab ${workerVersion}: ` +
        `run the same lab version on every machine (results differ between versions); its jobs are left in the queue`,
    );
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Archives in Redis

/** Writes `fields` as the hash `key` (replacing it) only while `lockKey` holds `token`; removes `dropKey`. 1: written, 0: the lock is not ours. */
const GUARDED_WRITE = `
if redis.call('get', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('del', KEYS[2])
redis.call('hset', KEYS[2], unpack(ARGV, 2))
if KEYS[3] then redis.call('del', KEYS[3]) end
return 1`;

/** Refreshes the coordinator's heartbeat only while it still holds it. */
const HEARTBEAT = `
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) end
return 0`;

function archiveFields(archive: RunArchive, extra: Record<string, string> = {}): string[] {
  const fields = ['manifest', JSON.stringify(archive.manifest)];
  archive.chunks.forEach((c, i) => fields.push(`c${i}`, c));
  for (const [k, v] of Object.entries(extra)) fields.push(k, v);
  return fields;
}

/** An archive stored as a hash, with its other fields; null when the key does not exist. */
async function readArchive(client: Redis, key: string): Promise<{ archive: RunArchive; fields: Record<string, string> } | null> {
  const fields = await client.hgetall(key);
  if (fields.manifest === undefined) return null;
  const manifest = checkManifest(JSON.parse(fields.manifest));
  const chunks = Array.from({ length: manifest.chunks }, (_, i) => fields[`c${i}`] ?? '');
  return { archive: { manifest, chunks }, fields };
}

// ---------------------------------------------------------------------------------------------------------------
// The coordinator's side

export interface QueueDispatcherOptions {
  /** redis://host:port[/db] */
  url: string;
  /** The experiment's id (experiment.json): the queue's owner while the sweep runs. */
  experimentId: string;
  /** Where finished runs are written: `<runsDir>/<runId>` (the experiment's runs/). */
  runsDir: string;
  /** The coordinator's lab version (LAB_VERSION); workers of another version refuse the jobs. */
  labVersion: string;
  /** Runs in flight at once (queued or running on workers); default 64. Workers' --concurrency sets how many really run. */
  slots?: number;
  /** Lines for the user (waiting for a killed coordinator's heartbeat to expire, no worker in sight, …). */
  onNotice?: (line: string) => void;
  /** A worker's progress report for a run waited for here (in the run's unit: env steps or iterations). */
  onProgress?: (runId: string, done: number, total: number) => void;
}

/**
 * Puts an experiment's runs on the queue and brings their run directories back.
 *
 *   const dispatcher = await QueueDispatcher.connect({ url, experimentId, runsDir, labVersion: LAB_VERSION });
 *
 * `connect` fails fast, with one line, when Redis is unreachable or unfit, or when the queue serves another
 * sweep that is not over (create the experiment directory only after it succeeded). `run(job)` adds the job
 * (once: the same run of a resumed sweep finds its job, finished or not), waits for a worker to finish it,
 * writes the run directory atomically into `<runsDir>/<runId>` and returns the worker's result. `close()`
 * takes the jobs no worker has started off the queue and rejects the runs still waited for (started ones finish
 * on their workers; a resumed sweep collects their results): call it when the sweep is stopped, not only after
 * it ended.
 */
export class QueueDispatcher implements RunDispatcher {
  readonly slots: number;
  private readonly queue: Queue;
  private readonly events: QueueEvents;
  private readonly heartbeat: NodeJS.Timeout;
  private readonly waiting = new Set<(err: Error) => void>();
  /** Job ids of the runs waited for now, with their run ids. */
  private readonly inFlight = new Map<string, string>();
  private closed = false;
  private noticedNoWorker = false;

  private constructor(
    private readonly options: QueueDispatcherOptions,
    private readonly client: Redis,
    private readonly token: string,
  ) {
    this.slots = Math.max(1, options.slots ?? 64);
    const connection = redisOptions(options.url, true) as ConnectionOptions;
    this.queue = new Queue(QUEUE_NAME, { connection });
    this.events = new QueueEvents(QUEUE_NAME, { connection });
    // Reconnections are ioredis's business; an error event without a listener would end the process.
    this.queue.on('error', () => {});
    this.events.on('error', () => {});
    // Workers report { done, total } about once a second (job.updateProgress); only the runs waited for here count.
    this.events.on('progress', ({ jobId, data }) => {
      const runId = this.inFlight.get(jobId);
      const p = data as { done?: unknown; total?: unknown } | number;
      if (runId !== undefined && typeof p === 'object' && p !== null && typeof p.done === 'number' && typeof p.total === 'number') options.onProgress?.(runId, p.done, p.total);
    });
    // Each run waited for listens to the queue's closing (BullMQ's waitUntilFinished): as many as there are slots.
    this.queue.setMaxListeners(this.slots + 10);
    this.heartbeat = setInterval(() => {
      client.eval(HEARTBEAT, 1, COORDINATOR_KEY, token, HEARTBEAT_TTL_MS).then(
        (held) => {
          if (held === 0 && !this.closed) options.onNotice?.(`lost the queue on ${publicRedisUrl(options.url)}: another coordinator holds it now`);
        },
        () => {},
      );
    }, HEARTBEAT_MS);
  }

  static async connect(options: QueueDispatcherOptions): Promise<QueueDispatcher> {
    if (options.labVersion !== LAB_VERSION) throw new Error(`the coordinator is lab ${LAB_VERSION}, but the experiment asks for lab ${options.labVersion}`);
    const client = await connectRedis(options.url);
    const token = `${os.hostname()}:${process.pid}:${crypto.randomBytes(6).toString('hex')}`;
    try {
      await claimQueue(client, options, token);
      const dispatcher = new QueueDispatcher(options, client, token);
      await dispatcher.queue.waitUntilReady();
      await dispatcher.events.waitUntilReady();
      return dispatcher;
    } catch (err) {
      await client.eval(`if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0`, 1, COORDINATOR_KEY, token).catch(() => {});
      client.disconnect();
      throw err;
    }
  }

  async run(job: RunJob): Promise<RunJobResult> {
    if (this.closed) throw new Error('the queue dispatcher is closed');
    if (job.experimentId !== this.options.experimentId) throw new Error(`job ${job.runId} belongs to experiment ${job.experimentId}, not ${this.options.experimentId}`);
    const jobId = jobIdOf(job.experimentId, job.runId);
    const first = await this.waitFor(jobId, job);
    if (first.failedOnQueue) return first.result;
    const collected = await this.collect(job);
    if (collected) return collected;
    if (fs.existsSync(path.join(this.options.runsDir, job.runId, 'config.json'))) return first.result;
    // Finished earlier, but nobody wrote its files here (they were collected by a coordinator that died before
    // writing them): run it again, which gives the same result (runs are deterministic).
    await this.queue.remove(jobId).catch(() => 0);
    const again = await this.waitFor(jobId, job);
    if (again.failedOnQueue) return again.result;
    const collectedAgain = await this.collect(job);
    if (!collectedAgain) throw new Error(`the files of run ${job.runId} are missing in Redis after it finished`);
    return collectedAgain;
  }

  /**
   * Writes the finished run directory a worker left in Redis into `<runsDir>/<runId>` (atomically), then
   * removes it from Redis; returns the worker's result (null when Redis holds no result for the run).
   */
  private async collect(job: RunJob): Promise<RunJobResult | null> {
    const key = resultKey(job.experimentId, job.runId);
    const archived = await readArchive(this.client, key);
    if (!archived) return null;
    await unpackRunArchive(archived.archive, path.join(this.options.runsDir, job.runId));
    await this.client.del(key, snapshotKey(job.experimentId, job.runId));
    return JSON.parse(archived.fields.result ?? 'null') as RunJobResult;
  }

  /** Adds the job (unless it exists), retries it when it had failed, and waits for its end; a failure becomes a failed result. */
  private async waitFor(jobId: string, data: RunJob): Promise<{ result: RunJobResult; failedOnQueue: boolean }> {
    let job = await this.queue.getJob(jobId);
    if (job && (await job.getState()) === 'failed') await job.retry('failed');
    // A failure of the worker's machinery (its run process died) is retried, from the last shipped checkpoint; a run that
    // fails comes back as a result, not as a failed job.
    job ??= await this.queue.add('run', data, { jobId, attempts: 3, backoff: { type: 'fixed', delay: 2000 }, removeOnComplete: false, removeOnFail: false });
    const watchdog = setTimeout(() => void this.noticeIdle(data.runId), 30_000);
    this.inFlight.set(jobId, data.runId);
    let stopWaiting!: (err: Error) => void;
    const stopped = new Promise<never>((_, reject) => (stopWaiting = reject));
    this.waiting.add(stopWaiting);
    try {
      return { result: (await Promise.race([job.waitUntilFinished(this.events), stopped])) as RunJobResult, failedOnQueue: false };
    } catch (err) {
      if (this.closed) throw new Error(`stopped waiting for run ${data.runId}: the dispatcher closed (its job stays in the queue)`);
      const message = (err as Error).message;
      return { result: { runId: data.runId, state: 'failed', error: `on the queue: ${message}`, value: null, curve: [], seconds: 0 }, failedOnQueue: true };
    } finally {
      clearTimeout(watchdog);
      this.inFlight.delete(jobId);
      this.waiting.delete(stopWaiting);
    }
  }

  /** Says once when a run has waited 30 s and no worker is connected. */
  private async noticeIdle(runId: string): Promise<void> {
    if (this.noticedNoWorker || this.closed) return;
    const workers = await this.queue.getWorkersCount().catch(() => -1);
    if (workers === 0) {
      this.noticedNoWorker = true;
      this.options.onNotice?.(`run ${runId} has waited 30 s and no worker is connected: start one with lab worker --queue ${publicRedisUrl(this.options.url)}`);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.heartbeat);
    // A stopped sweep takes back the runs no worker has started (a resume adds them again); started ones finish
    // on their workers, and their results wait in Redis for the resume.
    await Promise.allSettled(
      [...this.inFlight.keys()].map(async (jobId) => {
        const job = await this.queue.getJob(jobId);
        if (job && ['waiting', 'delayed', 'prioritized'].includes(await job.getState())) await job.remove();
      }),
    );
    for (const reject of this.waiting) reject(new Error('closed'));
    this.waiting.clear();
    await this.client.eval(`if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0`, 1, COORDINATOR_KEY, this.token).catch(() => {});
    await Promise.allSettled([this.events.close(), this.queue.close()]);
    this.client.disconnect();
  }
}

/** How many jobs of the queue are not finished (waiting, running, delayed, …). */
async function pendingJobs(queue: Queue): Promise<number> {
  const counts = await queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized', 'waiting-children');
  return Object.values(counts).reduce((a, b) => a + b, 0);
}

function plural(n: number, what: string): string {
  return `${n} ${what}${n === 1 ? '' : 's'}`;
}

/** Keys matching `pattern` (SCAN, never KEYS). */
async function scanKeys(client: Redis, pattern: string): Promise<string[]> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await client.scan(cursor, 'MATCH', pattern, 'COUNT', 500);
    cursor = next;
    keys.push(...batch);
  } while (cursor !== '0');
  return keys;
}

/**
 * Makes this coordinator the queue's: waits out the heartbeat of a coordinator that was killed (at most
 * HEARTBEAT_TTL_MS), refuses a live one, and refuses a queue of another sweep that still has pending jobs or
 * uncollected results; an idle queue of another sweep is cleared of that sweep's leftovers and taken over.
 */
async function claimQueue(client: Redis, options: QueueDispatcherOptions, token: string): Promise<void> {
  const shown = publicRedisUrl(options.url);
  let owner = await readOwner(client);
  const describe = (o: QueueOwner | null) => (o ? `sweep ${o.experimentId} (lab ${o.labVersion}, coordinator ${o.host} pid ${o.pid}, since ${o.since})` : 'another sweep');
  const ttl = await client.pttl(COORDINATOR_KEY);
  if (ttl > 0) {
    if (owner && owner.experimentId !== options.experimentId) {
      throw new Error(`the queue on ${shown} is in use by ${describe(owner)}: wait for it to end, or use another Redis database (e.g. ${shown}/1)`);
    }
    // Our own sweep's previous coordinator, killed a moment ago, or a live one: a heartbeat that outlives its TTL is live.
    options.onNotice?.(`another coordinator of this sweep held the queue ${Math.round((HEARTBEAT_TTL_MS - ttl) / 1000)} s ago: waiting up to ${Math.ceil(ttl / 1000)} s for its heartbeat to expire`);
    await sleep(ttl + 200);
  }
  if ((await client.set(COORDINATOR_KEY, token, 'PX', HEARTBEAT_TTL_MS, 'NX')) !== 'OK') {
    throw new Error(`the queue on ${shown} is in use by a live coordinator of ${describe(await readOwner(client))}: stop it first, or use another Redis database (e.g. ${shown}/1)`);
  }
  // Read again now that no other coordinator can change it.
  owner = await readOwner(client);
  if (owner && owner.experimentId !== options.experimentId) {
    const queue = new Queue(QUEUE_NAME, { connection: redisOptions(options.url, true) as ConnectionOptions });
    queue.on('error', () => {});
    try {
      const pending = await pendingJobs(queue);
      const uncollected = (await scanKeys(client, `lab:sweep:${owner.experimentId}:result:*`)).length;
      if (pending > 0 || uncollected > 0) {
        throw new Error(
          `the queue on ${shown} holds ${pending > 0 ? plural(pending, 'unfinished run') : plural(uncollected, 'uncollected result')} of ${describe(owner)}: ` +
            `resume that sweep (lab sweep --resume <its experiment directory>) until it ends, or use another Redis database (e.g. ${shown}/1)`,
        );
      }
      // The other sweep is over: its finished jobs and leftover snapshots go.
      await queue.clean(0, 0, 'completed');
      await queue.clean(0, 0, 'failed');
      const leftovers = await scanKeys(client, `lab:sweep:${owner.experimentId}:*`);
      if (leftovers.length > 0) await client.del(...leftovers);
    } finally {
      await queue.close();
    }
  } else if (owner && owner.labVersion !== options.labVersion) {
    throw new Error(`the queue on ${shown} holds this sweep's jobs from lab ${owner.labVersion}; this is lab ${options.labVersion}: resume it with that version`);
  }
  const record: QueueOwner = { experimentId: options.experimentId, labVersion: options.labVersion, host: os.hostname(), pid: process.pid, since: new Date().toISOString() };
  await client.set(OWNER_KEY, JSON.stringify(record));
}

// ---------------------------------------------------------------------------------------------------------------
// The workers' side

/** What trains a job locally: sweep/local_pool.ts LocalPool (one worker process per run). */
export interface RunPool {
  run(job: RunJob, runsDir: string, events?: { onCheckpoint?(runDir: string): void; onProgress?(done: number, total: number): void }): Promise<RunJobResult>;
  close(): Promise<void>;
}

export interface QueueWorkerOptions {
  url: string;
  /** Runs at once (the pool must have as many worker processes). */
  concurrency: number;
  /** This machine's working directory: runs train in `<workDir>/<experimentId>/runs/<runId>`. */
  workDir: string;
  pool: RunPool;
  /** Lines for the user: jobs taken and finished, checkpoints shipped, refusals. */
  onLine?: (line: string) => void;
  /** This worker's lab version (LAB_VERSION; tests pass another to see the refusal). */
  labVersion?: string;
  /** Asked while it waits for a sweep: true gives up waiting (`start` then returns a stopped worker). */
  shouldStop?: () => boolean;
}

/**
 * `lab worker`: takes runs from the queue, trains each in `pool`, ships its checkpoints and its finished run
 * directory to Redis. `start` fails with one line when Redis is unreachable or unfit, or when the sweep on the
 * queue is of another lab version; it waits while no sweep owns the queue yet. `done` settles when the worker
 * has stopped: rejected with the reason when it stopped by itself (a job of another lab version, which it put
 * back). `stop()` puts the runs in progress back on the queue (another worker resumes them from their last
 * shipped checkpoint) and closes.
 */
export class QueueWorker {
  readonly done: Promise<void>;
  private worker: Worker | null = null;
  private stopping = false;
  private finish!: (err: Error | null) => void;
  private readonly labVersion: string;
  private readonly active = new Set<string>();

  private constructor(
    private readonly options: QueueWorkerOptions,
    private readonly client: Redis,
  ) {
    this.labVersion = options.labVersion ?? LAB_VERSION;
    this.done = new Promise<void>((resolve, reject) => {
      this.finish = (err) => (err ? reject(err) : resolve());
    });
    // `done` may be awaited late (after stop()): never an unhandled rejection meanwhile.
    this.done.catch(() => {});
  }

  static async start(options: QueueWorkerOptions): Promise<QueueWorker> {
    const client = await connectRedis(options.url);
    const self = new QueueWorker(options, client);
    try {
      await self.waitForSweep();
    } catch (err) {
      client.disconnect();
      throw err;
    }
    if (options.shouldStop?.()) await self.stop();
    else self.listen();
    return self;
  }

  private say(line: string): void {
    this.options.onLine?.(line);
  }

  /** Waits until a sweep owns the queue, then checks its lab version. */
  private async waitForSweep(): Promise<void> {
    let said = false;
    for (;;) {
      const owner = await readOwner(this.client);
      if (owner) {
        checkWorkerVersion(owner, this.labVersion, this.options.url);
        this.say(`serving sweep ${owner.experimentId} on ${publicRedisUrl(this.options.url)} (lab ${owner.labVersion}), ${this.options.concurrency} at a time, in ${path.resolve(this.options.workDir)}`);
        return;
      }
      if (!said) this.say(`waiting for a sweep on ${publicRedisUrl(this.options.url)} (lab sweep <spec> --queue ${publicRedisUrl(this.options.url)})`);
      said = true;
      if (this.options.shouldStop?.()) return;
      await sleep(500);
    }
  }

  private listen(): void {
    this.worker = new Worker(QUEUE_NAME, (job, token) => this.process(job as Job<RunJob, RunJobResult>, token!), {
      connection: redisOptions(this.options.url, true) as ConnectionOptions,
      concurrency: this.options.concurrency,
      lockDuration: LOCK_MS,
      stalledInterval: STALLED_INTERVAL_MS,
      maxStalledCount: MAX_STALLED,
    });
    this.worker.on('error', (err) => this.say(`queue: ${err.message}`));
  }

  private lockKey(job: Job): string {
    return `${this.worker!.toKey(job.id!)}:lock`;
  }

  /** One job: restore its snapshot, train (or resume), ship checkpoints, ship the result. */
  private async process(job: Job<RunJob, RunJobResult>, token: string): Promise<RunJobResult> {
    const data = job.data;
    if (data.labVersion !== this.labVersion) {
      // Put it back untouched for a worker of the right version, and stop taking jobs.
      await job.moveToWait(token);
      const err = new Error(
        `job ${data.runId} of experiment ${data.experimentId} comes from lab ${data.labVersion}; this worker is lab ${this.labVersion}: ` +
          `run the same lab version on every machine; the job is back in the queue`,
      );
      void this.halt(err);
      throw new WaitingError();
    }
    const existing = await this.client.hget(resultKey(data.experimentId, data.runId), 'result');
    if (existing !== null) return JSON.parse(existing) as RunJobResult; // finished by a worker that died before saying so

    const runsDir = path.join(this.options.workDir, data.experimentId, 'runs');
    const runDir = path.join(runsDir, data.runId);
    fs.rmSync(runDir, { recursive: true, force: true });
    const snapshot = await readArchive(this.client, snapshotKey(data.experimentId, data.runId));
    if (snapshot) {
      await unpackRunArchive(snapshot.archive, runDir);
      const stalls = job.stalledCounter > 0 ? ` (its worker stopped answering ${job.stalledCounter === 1 ? 'once' : `${job.stalledCounter} times`})` : '';
      this.say(`run ${data.runId}: resuming from the checkpoint shipped at ${snapshot.fields.at || '?'}${stalls}`);
    } else {
      this.say(`run ${data.runId}: starting`);
    }
    this.active.add(data.runId);
    const shipper = new SnapshotShipper(this.client, this.lockKey(job), token, snapshotKey(data.experimentId, data.runId), (line) => this.say(`run ${data.runId}: ${line}`));
    let lastProgress = 0;
    try {
      let result: RunJobResult;
      try {
        result = await this.options.pool.run(data, runsDir, {
          onCheckpoint: (dir) => shipper.ship(dir),
          onProgress: (done, total) => {
            const now = Date.now();
            if (now - lastProgress < 1000 && done < total) return;
            lastProgress = now;
            job.updateProgress({ done, total }).catch(() => {});
          },
        });
      } catch (err) {
        if (this.stopping) {
          // Stopped by stop(): back to the queue now rather than after a stall.
          await shipper.idle();
          await job.moveToWait(token).catch(() => 0);
          this.say(`run ${data.runId}: back in the queue`);
          throw new WaitingError();
        }
        throw err;
      }
      await shipper.idle();
      const archive = packRunDir(runDir);
      const written = await this.client.eval(
        GUARDED_WRITE,
        3,
        this.lockKey(job),
        resultKey(data.experimentId, data.runId),
        snapshotKey(data.experimentId, data.runId),
        token,
        ...archiveFields(archive, { result: JSON.stringify(result) }),
      );
      if (written !== 1) throw new Error(`run ${data.runId}: this worker lost the job's lock (another worker took it over); its result is not shipped`);
      fs.rmSync(runDir, { recursive: true, force: true });
      this.say(`run ${data.runId}: ${result.state}${result.value !== null ? ` (value ${result.value})` : ''}${result.error ? `: ${result.error}` : ''}, ${result.seconds} s, ${(archive.manifest.bytes / 1e6).toFixed(1)} MB shipped`);
      return result;
    } finally {
      this.active.delete(data.runId);
    }
  }

  /** Stops by itself (a refusal): the reason settles `done`. */
  private async halt(err: Error): Promise<void> {
    if (this.stopping) return;
    await this.close();
    this.finish(err);
  }

  /** Puts the runs in progress back on the queue, closes the pool and the connections. */
  async stop(): Promise<void> {
    if (this.stopping) return this.done;
    await this.close();
    this.finish(null);
    return this.done;
  }

  private async close(): Promise<void> {
    this.stopping = true;
    const worker = this.worker;
    // Stop taking jobs, then end the runs in progress (their processors put the jobs back), then wait for them.
    const closing = worker?.close();
    if (this.active.size > 0) this.say(`stopping: ${this.active.size} run${this.active.size === 1 ? '' : 's'} in progress go back to the queue`);
    await this.options.pool.close();
    await closing;
    this.client.disconnect();
  }
}

/**
 * Ships a run's checkpoints to its snapshot key, one at a time: a checkpoint that comes while the previous one
 * is on its way is shipped after it (only the newest of those waiting). Writes only while the job's lock is ours.
 */
class SnapshotShipper {
  private inFlight: Promise<void> = Promise.resolve();
  private next: string | null = null;
  private lost = false;

  constructor(
    private readonly client: Redis,
    private readonly lockKey: string,
    private readonly token: string,
    private readonly key: string,
    private readonly say: (line: string) => void,
  ) {}

  ship(runDir: string): void {
    if (this.lost) return;
    const idle = this.next === null;
    this.next = runDir;
    if (!idle) return;
    this.inFlight = this.inFlight.then(() => this.shipNext());
  }

  private async shipNext(): Promise<void> {
    const dir = this.next;
    this.next = null;
    if (dir === null || this.lost) return;
    try {
      const archive = packRunDir(dir);
      const at = checkpointAt(dir);
      const written = await this.client.eval(GUARDED_WRITE, 2, this.lockKey, this.key, this.token, ...archiveFields(archive, { at: String(at ?? '') }));
      if (written !== 1) {
        this.lost = true;
        this.say('lost the job\'s lock (another worker took it over): no more checkpoints shipped');
      }
    } catch (err) {
      // A checkpoint that cannot be shipped only costs a longer redo after a takeover.
      this.say(`checkpoint not shipped: ${(err as Error).message}`);
    }
  }

  /** Resolves once nothing is being shipped. */
  async idle(): Promise<void> {
    await this.inFlight;
  }
}

/** The progress checkpoints/latest.json names (null without one). */
function checkpointAt(runDir: string): number | null {
  try {
    const at = (JSON.parse(fs.readFileSync(path.join(runDir, 'checkpoints', 'latest.json'), 'utf8')) as { at?: unknown }).at;
    return typeof at === 'number' ? at : null;
  } catch {
    return null;
  }
}

/**
 * A private Redis for tests: Debian's `redis-server` on a free loopback port with a temporary directory, no
 * persistence, and the eviction policy BullMQ needs (noeviction; `extraArgs` may override it to test the check).
 * Without redis-server the tests that need it are skipped, unless LAB_REQUIRE_REDIS=1 (set by .ci/run where it is
 * installed): then they fail.
 */
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';

export const REDIS_SERVER = process.env.LAB_REDIS_SERVER ?? '/usr/bin/redis-server';
const haveRedis = fs.existsSync(REDIS_SERVER);
/** True where the Redis tests should be skipped (no redis-server, and it is not required). */
export const skipRedisTests = !haveRedis && process.env.LAB_REQUIRE_REDIS !== '1';

export interface TestRedis {
  url: string;
  port: number;
  /** Stops the server (SIGTERM, then SIGKILL after 5 s) and removes its directory. */
  stop(): Promise<void>;
}

/** A port that was free a moment ago (the OS picks it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

function waitForExit(child: ChildProcess, ms: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

/** Starts one redis-server; resolves once it accepts connections. */
export async function startRedis(extraArgs: string[] = []): Promise<TestRedis> {
  if (!haveRedis) throw new Error(`LAB_REQUIRE_REDIS=1 but there is no redis-server at ${REDIS_SERVER} (apt-get install redis-server)`);
  let lastError: Error | null = null;
  // Another process may take the free port between the probe and the start: a few tries.
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lab-test-redis-'));
    const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no', '--maxmemory-policy', 'noeviction', '--daemonize', 'no', ...extraArgs];
    const child = spawn(REDIS_SERVER, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let log = '';
    const ready = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), 10_000);
      const onData = (d: Buffer) => {
        log += d.toString();
        if (log.includes('Ready to accept connections')) {
          clearTimeout(timer);
          resolve(true);
        }
      };
      child.stdout!.on('data', onData);
      child.stderr!.on('data', onData);
      child.once('exit', () => {
        clearTimeout(timer);
        resolve(false);
      });
      child.once('error', (err) => {
        log += String(err);
        clearTimeout(timer);
        resolve(false);
      });
    });
    if (ready) {
      // Keep draining its output so that it never blocks on a full pipe.
      child.stdout!.resume();
      child.stderr!.resume();
      return {
        url: `redis://127.0.0.1:${port}`,
        port,
        async stop() {
          if (!(await waitForExit(child, 0))) {
            child.kill('SIGTERM');
            if (!(await waitForExit(child, 5000))) {
              child.kill('SIGKILL');
              await waitForExit(child, 5000);
            }
          }
          fs.rmSync(dir, { recursive: true, force: true });
        },
      };
    }
    child.kill('SIGKILL');
    await waitForExit(child, 5000);
    fs.rmSync(dir, { recursive: true, force: true });
    lastError = new Error(`redis-server did not start on port ${port}: ${log.trim().split('\n').slice(-3).join(' | ')}`);
  }
  throw lastError!;
}

/**
 * The lab server's secret key and where a trainer on the same machine finds it.
 *
 * `lab serve` makes a random key each time it starts. The viewer page gets it from the link the server prints
 * (`…/?token=<key>`, turned into an HttpOnly same-site cookie), processes the server launches get it in their
 * environment (LAB_TOKEN), and `lab train --live URL` in another terminal reads it from a runtime file that only
 * the user can read, one per server (`server-<port>.json` in the runtime directory), as Jupyter's runtime files
 * do. `--token` (or LAB_TOKEN) overrides both.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readJson, writeJsonAtomic } from './fsutil.js';
import { processAlive } from './process.js';

/** Environment variable holding the key (set for processes the server launches; a user may set it too). */
export const TOKEN_ENV = 'LAB_TOKEN';
/** Environment variable holding a launched run's own key: only that process may publish the run. */
export const RUN_KEY_ENV = 'LAB_RUN_KEY';
/** Environment variable naming the runtime directory (tests point it at a temporary one). */
export const RUNTIME_DIR_ENV = 'LAB_RUNTIME_DIR';
/** Query parameter of the link that hands the key to a browser. */
export const TOKEN_QUERY = 'token';

/** What a server's runtime file holds. */
export interface ServerRuntimeInfo {
  url: string;
  host: string;
  port: number;
  pid: number;
  token: string;
  runsDir: string;
  startedAt: string;
}

export function newToken(): string {
  return crypto.randomBytes(24).toString('hex');
}

/** Compares two keys in constant time (a wrong key of the right length takes as long as any other). */
export function sameToken(given: unknown, token: string): boolean {
  if (typeof given !== 'string' || given.length !== token.length) return false;
  return crypto.timingSafeEqual(Buffer.from(given), Buffer.from(token));
}

/** LAB_RUNTIME_DIR, else $XDG_RUNTIME_DIR/rl-gan-lab, else ~/.local/share/rl-gan-lab/runtime. */
export function runtimeDir(): string {
  const own = process.env[RUNTIME_DIR_ENV];
  if (own) return path.resolve(own);
  const xdg = process.env.XDG_RUNTIME_DIR;
  if (xdg) return path.join(xdg, 'rl-gan-lab');
  return path.join(os.homedir(), '.local', 'share', 'rl-gan-lab', 'runtime');
}

function runtimeFile(port: number, dir = runtimeDir()): string {
  return path.join(dir, `server-${port}.json`);
}

/** Writes the server's runtime file (directory 0700, file 0600); returns its path. */
export function writeRuntimeFile(info: ServerRuntimeInfo, dir = runtimeDir()): string {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  // An existing directory keeps its mode; make sure nobody else can list or read it.
  fs.chmodSync(dir, 0o700);
  const file = runtimeFile(info.port, dir);
  const old = process.umask(0o077);
  try {
    writeJsonAtomic(file, info);
  } finally {
    process.umask(old);
  }
  fs.chmodSync(file, 0o600);
  return file;
}

/** Removes the runtime file if it is still this process's. */
export function removeRuntimeFile(port: number, dir = runtimeDir()): void {
  const file = runtimeFile(port, dir);
  try {
    if (readJson<ServerRuntimeInfo>(file).pid === process.pid) fs.rmSync(file, { force: true });
  } catch {
    // gone already, or another server's
  }
}

/** A host name or address that only ever means this machine (`localhost`, 127.x.x.x, ::1, with or without brackets). */
export function isLoopback(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[|\]$/g, '');
  return h === 'localhost' || h === '::1' || /^127\./.test(h);
}

/** An address that means every interface of this machine. */
export function isWildcard(host: string): boolean {
  return host === '0.0.0.0' || host === '::' || host === '[::]';
}

/**
 * The key of a running lab server at `url` on this machine, from its runtime file; null when there is none
 * (another machine, a server that has stopped, or a file someone else owns).
 */
export function findServerToken(url: string, dir = runtimeDir()): string | null {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return null;
  }
  const port = Number(u.port || (u.protocol === 'https:' ? 443 : 80));
  let info: ServerRuntimeInfo;
  try {
    const file = runtimeFile(port, dir);
    const stat = fs.statSync(file);
    if (typeof process.getuid === 'function' && stat.uid !== process.getuid()) return null;
    info = readJson<ServerRuntimeInfo>(file);
  } catch {
    return null;
  }
  if (typeof info.token !== 'string' || info.port !== port || !processAlive(info.pid)) return null;
  // The file is keyed by port; the host must be this server's too (any loopback name reaches a loopback server).
  const wanted = u.hostname.toLowerCase();
  const bound = String(info.host).toLowerCase();
  const sameHost = wanted === bound || (isLoopback(wanted) && (isLoopback(bound) || isWildcard(bound)));
  return sameHost ? info.token : null;
}

/** The key to publish to `url` with: the given one, else LAB_TOKEN, else the runtime file of a local server. */
export function resolveToken(url: string, given?: string | null): string | null {
  if (given) return given;
  const env = process.env[TOKEN_ENV];
  if (env) return env;
  return findServerToken(url);
}

/**
 * Who may talk to the lab server. `lab serve` starts processes on the user's machine, so every HTTP request and
 * every socket.io handshake passes three checks:
 *
 * - Host: the Host header names this server (loopback names, the bound address, `--allow-host` extras). A
 *   DNS-rebinding page reaches the server under a foreign name and is refused here.
 * - Origin: a browser request that carries an Origin must come from the lab's own page (same scheme, allowed
 *   host and port) or an `--allow-origin` extra. socket.io's `cors` option does not cover WebSockets, so the
 *   check runs in engine.io's `allowRequest`.
 * - Key: state-changing actions (starting, stopping runs, Go games, publishing) need the server's key: the page
 *   holds it as an HttpOnly cookie set from the printed link, trainers send it in the socket handshake. A server
 *   bound to a non-loopback address needs the key for reading too.
 */
import os from 'node:os';
import type { IncomingMessage } from 'node:http';
import { isLoopback, isWildcard, sameToken } from '../lab/server_key.js';

export interface AccessOptions {
  /** The address the server is bound to. */
  boundHost: string;
  /** Extra host names (or addresses) the Host header may carry. */
  allowHosts?: readonly string[];
  /** Extra origins (e.g. `http://localhost:5173` for the Vite dev server) treated as the lab's own page. */
  allowOrigins?: readonly string[];
  token: string;
}

export { isLoopback };

/** A Host header or URL host without its port, lower case, IPv6 without brackets. */
function hostname(hostHeader: string): string {
  const h = hostHeader.trim().toLowerCase();
  if (h.startsWith('[')) return h.slice(1, h.indexOf(']') > 0 ? h.indexOf(']') : undefined);
  const colon = h.lastIndexOf(':');
  return colon >= 0 && h.indexOf(':') === colon ? h.slice(0, colon) : h;
}

export class Access {
  private readonly hosts: Set<string>;
  private readonly origins: Set<string>;
  private port = 0;
  readonly token: string;
  /** Reading (run lists, metrics, replays) needs the key too: the server is reachable from other machines. */
  readonly keyForReading: boolean;

  constructor(options: AccessOptions) {
    this.token = options.token;
    const bound = hostname(options.boundHost);
    this.keyForReading = !isLoopback(bound);
    this.hosts = new Set(['localhost', '127.0.0.1', '::1']);
    if (isWildcard(options.boundHost)) {
      // Bound to every interface: the machine's own names and addresses reach it.
      this.hosts.add(os.hostname().toLowerCase());
      for (const list of Object.values(os.networkInterfaces())) for (const a of list ?? []) this.hosts.add(a.address.toLowerCase());
    } else this.hosts.add(bound);
    for (const h of options.allowHosts ?? []) this.hosts.add(hostname(h));
    this.origins = new Set((options.allowOrigins ?? []).map((o) => o.replace(/\/+$/, '').toLowerCase()));
  }

  /** The port the server listens on (known once it is bound). */
  setPort(port: number): void {
    this.port = port;
  }

  /** Name of the cookie holding the key (per port: cookies are shared by every port of a host). */
  get cookieName(): string {
    return `lab_key_${this.port}`;
  }

  hostAllowed(hostHeader: string | undefined): boolean {
    if (!hostHeader) return false;
    // A loopback name is only ever this machine (a rebinding page arrives under its own, foreign name).
    const h = hostname(hostHeader);
    return isLoopback(h) || this.hosts.has(h);
  }

  /** An Origin header that is the lab's own page (absent: not a browser's cross-origin request). */
  originAllowed(origin: string | undefined): boolean {
    if (origin === undefined) return true;
    const o = origin.trim().toLowerCase();
    if (this.origins.has(o)) return true;
    let url: URL;
    try {
      url = new URL(o);
    } catch {
      return false; // "null" (sandboxed frames, file:) and junk
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return false;
    const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
    const h = hostname(url.host);
    return port === this.port && this.hosts.has(h);
  }

  /** Why a request (HTTP or a socket.io handshake) is refused before anything else, or null. */
  refusal(req: Pick<IncomingMessage, 'headers'>): string | null {
    if (!this.hostAllowed(req.headers.host)) return `Host ${JSON.stringify(String(req.headers.host ?? '').slice(0, 100))} is not this lab server's (start it with --allow-host to add a name)`;
    const origin = req.headers.origin;
    if (!this.originAllowed(typeof origin === 'string' ? origin : undefined)) return `requests from ${JSON.stringify(String(origin).slice(0, 100))} are refused: only the lab's own page may use this server`;
    return null;
  }

  /** The request holds the key: the page's cookie, an `Authorization: token <key>` (or Bearer) header, or `given`. */
  holdsKey(req: Pick<IncomingMessage, 'headers'>, given?: unknown): boolean {
    if (given !== undefined && sameToken(given, this.token)) return true;
    const auth = req.headers.authorization;
    if (typeof auth === 'string') {
      const m = /^(?:token|bearer)\s+(\S+)$/i.exec(auth.trim());
      if (m && sameToken(m[1], this.token)) return true;
    }
    return sameToken(cookie(req.headers.cookie, this.cookieName), this.token);
  }

  /** The Set-Cookie value that gives a browser the key (HttpOnly: page scripts never see it). */
  keyCookie(): string {
    return `${this.cookieName}=${this.token}; Path=/; HttpOnly; SameSite=Strict`;
  }
}

/** One cookie's value from a Cookie header. */
export function cookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/**
 * Whether another process still runs, for the lab's ownership files (a directory's temporary copy, an
 * experiment's coordinator lock, a run's writer lock, a server's runtime file): a file whose process is gone is
 * stale.
 */
import fs from 'node:fs';
import os from 'node:os';

/**
 * True while process `pid` exists on this machine (signal 0 only checks; EPERM means it exists but belongs to
 * someone else). A pid that cannot name one process (not a positive integer: 0 and -n mean process groups) is not alive.
 */
export function processAlive(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Who holds a lock file: a process on a host, since a time. */
export interface LockHolder {
  pid: number;
  host: string;
  since: string;
  /** Which process that pid was (processIdentity), where the system says: a pid reused later is not the holder. */
  identity?: string;
}

/**
 * Linux: the boot and the start time (in clock ticks since boot) of process `pid`, which together name one
 * process even after its pid is reused (after a reboot, or in a restarted container); null elsewhere.
 */
export function processIdentity(pid: number): string | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after "pid (comm) " start at field 3; starttime is field 22. (comm may hold spaces and parentheses.)
    const start = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
    const boot = fs.readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
    return start ? `${boot}:${start}` : null;
  } catch {
    return null;
  }
}

function readHolder(file: string): LockHolder | null {
  try {
    const h = JSON.parse(fs.readFileSync(file, 'utf8')) as Partial<LockHolder>;
    if (typeof h.pid !== 'number' || typeof h.host !== 'string') return null;
    return { pid: h.pid, host: h.host, since: String(h.since), ...(typeof h.identity === 'string' ? { identity: h.identity } : {}) };
  } catch {
    // missing, torn or foreign: nobody holds it
    return null;
  }
}

/**
 * The holder of lock file `file` while it still counts: the same process still alive on this host, or any process
 * on another host (which cannot be asked); null when there is none or it is gone (kill -9, a crash, its pid now
 * another process's).
 */
export function liveLockHolder(file: string): LockHolder | null {
  const h = readHolder(file);
  if (h === null) return null;
  if (h.host !== os.hostname()) return h;
  if (!processAlive(h.pid)) return null;
  const now = h.identity === undefined ? null : processIdentity(h.pid);
  return now !== null && now !== h.identity ? null : h;
}

/**
 * Claims lock file `file` ({pid, host, since}) for this process and returns its release; a lock left by a process
 * that is gone is taken over, and one this process holds already is shared (its release does nothing). A live
 * holder makes `held(holder, sameHost)` the error thrown.
 */
export function claimLock(file: string, held: (holder: LockHolder, sameHost: boolean) => Error): () => void {
  const identity = processIdentity(process.pid);
  const mine = JSON.stringify({ pid: process.pid, host: os.hostname(), since: new Date().toISOString(), ...(identity ? { identity } : {}) }) + '\n';
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      fs.writeFileSync(file, mine, { flag: 'wx' });
      return () => {
        try {
          if (fs.readFileSync(file, 'utf8') === mine) fs.rmSync(file);
        } catch {
          // already gone
        }
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const holder = liveLockHolder(file);
    const sameHost = holder?.host === os.hostname();
    if (holder !== null && holder.pid === process.pid && sameHost) return () => {};
    if (holder !== null) throw held(holder, sameHost);
    fs.rmSync(file, { force: true });
  }
  throw new Error(`cannot claim ${file}: it keeps reappearing`);
}

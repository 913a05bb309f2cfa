/**
 * Whether another process still runs, for the lab's ownership files (a directory's temporary copy, an
 * experiment's coordinator lock, a server's runtime file): a file whose process is gone is stale.
 */

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

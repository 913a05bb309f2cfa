/**
 * Crash-safe file writing: everything the lab writes appears whole or not at all. A file is written to a
 * temporary name in the same directory, flushed to disk, then renamed over the target (rename is atomic
 * within a filesystem), and the directory entry is flushed too.
 */
import fs from 'node:fs';
import path from 'node:path';
import { processAlive } from './process.js';

/** Flushes a directory's entries (after a rename into it), where the filesystem allows. */
export function fsyncDir(dir: string): void {
  let fd: number | null = null;
  try {
    fd = fs.openSync(dir, 'r');
    fs.fsyncSync(fd);
  } catch {
    // Some filesystems refuse fsync on directories; the rename is still atomic.
  } finally {
    if (fd !== null) fs.closeSync(fd);
  }
}

export function writeFileAtomic(file: string, data: string | Uint8Array): void {
  const dir = path.dirname(file);
  fs.mkdirSync(dir, { recursive: true });
  const tmp = path.join(dir, `.${path.basename(file)}.tmp-${process.pid}-${Math.random().toString(36).slice(2, 8)}`);
  const fd = fs.openSync(tmp, 'w');
  try {
    if (typeof data === 'string') fs.writeSync(fd, data);
    else fs.writeSync(fd, data);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
  fsyncDir(dir);
}

export function writeJsonAtomic(file: string, value: unknown): void {
  writeFileAtomic(file, JSON.stringify(value, null, 2) + '\n');
}

/** Steps of `writeDirAtomic` after which a crash leaves a distinct state on disk (for tests). */
export type WriteDirStep = 'filled' | 'moved-aside' | 'replaced';

/** Where `writeDirAtomic` keeps the previous version of `dir` while it swaps the new one in. */
export function dirBackupPath(dir: string): string {
  return path.join(path.dirname(dir), `.${path.basename(dir)}.old`);
}

/** fsync of every file and directory under `dir` (and `dir` itself). */
function fsyncTree(dir: string): void {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) fsyncTree(p);
    else if (entry.isFile()) {
      const fd = fs.openSync(p, 'r');
      try {
        fs.fsyncSync(fd);
      } finally {
        fs.closeSync(fd);
      }
    }
  }
  fsyncDir(dir);
}

/**
 * Repairs what a crash inside `writeDirAtomic(dir, …)` left behind, so that `dir` is complete again:
 *   - `dir` missing but its backup present (killed between moving the old version aside and renaming the new
 *     one in): the backup is renamed back; returns 'restored';
 *   - both present (killed after the new version was in, before the backup was removed): the backup is stale
 *     and removed;
 *   - temporary directories of processes that no longer run (killed while filling) are removed.
 * For the process that writes `dir` (and for resuming its run); readers use `readableDir`, which changes nothing.
 */
export function recoverDir(dir: string): 'intact' | 'restored' | 'missing' {
  const parent = path.dirname(dir);
  const backup = dirBackupPath(dir);
  let result: 'intact' | 'restored' | 'missing' = fs.existsSync(dir) ? 'intact' : 'missing';
  if (fs.existsSync(backup)) {
    if (result === 'missing') {
      fs.renameSync(backup, dir);
      fsyncDir(parent);
      result = 'restored';
    } else {
      fs.rmSync(backup, { recursive: true, force: true });
    }
  }
  if (fs.existsSync(parent)) {
    const prefix = `.${path.basename(dir)}.tmp-`;
    for (const f of fs.readdirSync(parent)) {
      if (!f.startsWith(prefix)) continue;
      const pid = Number(f.slice(prefix.length).split('-')[0]);
      if (Number.isSafeInteger(pid) && pid > 0 && pid !== process.pid && !processAlive(pid)) fs.rmSync(path.join(parent, f), { recursive: true, force: true });
    }
  }
  return result;
}

/**
 * The directory to read for `dir`: `dir` itself, or, while it is missing after a crash inside writeDirAtomic
 * (or for the instant of the swap), its complete previous version. Changes nothing on disk.
 */
export function readableDir(dir: string): string {
  if (fs.existsSync(dir)) return dir;
  const backup = dirBackupPath(dir);
  return fs.existsSync(backup) ? backup : dir;
}

/**
 * Writes a whole directory atomically: `fill(tmpDir)` writes into a fresh temporary sibling, which is flushed
 * to disk; then an existing `dir` is renamed aside (to `dirBackupPath(dir)`), the new one renamed to `dir`,
 * the parent directory flushed, and the backup removed. At every instant either `dir` or its backup is a
 * complete directory: a crash between the two renames leaves the backup, which `recoverDir` (called here on
 * the next write, and on resume) renames back and `readableDir` reads meanwhile. `onStep` is called after each
 * step (tests stop the process there to leave the state a crash would).
 */
export async function writeDirAtomic(
  dir: string,
  fill: (tmpDir: string) => void | Promise<void>,
  options: { onStep?: (step: WriteDirStep) => void } = {},
): Promise<void> {
  const parent = path.dirname(dir);
  fs.mkdirSync(parent, { recursive: true });
  recoverDir(dir);
  const tmp = path.join(parent, `.${path.basename(dir)}.tmp-${process.pid}-${Math.random().toString(36).slice(2, 8)}`);
  const backup = dirBackupPath(dir);
  fs.mkdirSync(tmp);
  try {
    await fill(tmp);
    fsyncTree(tmp);
  } catch (err) {
    fs.rmSync(tmp, { recursive: true, force: true });
    throw err;
  }
  options.onStep?.('filled');
  const hadOld = fs.existsSync(dir);
  if (hadOld) {
    try {
      fs.renameSync(dir, backup);
    } catch (err) {
      fs.rmSync(tmp, { recursive: true, force: true });
      throw err;
    }
    options.onStep?.('moved-aside');
  }
  try {
    fs.renameSync(tmp, dir);
  } catch (err) {
    // Put the previous version back where it was: `dir` is never left missing.
    if (hadOld && !fs.existsSync(dir)) fs.renameSync(backup, dir);
    fs.rmSync(tmp, { recursive: true, force: true });
    throw err;
  }
  fsyncDir(parent);
  options.onStep?.('replaced');
  if (hadOld) fs.rmSync(backup, { recursive: true, force: true });
}

export function readJson<T>(file: string, what = 'file'): T {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new Error(`cannot read ${what} ${file}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
  }
  try {
    return JSON.parse(text) as T;
  } catch (err) {
    throw new Error(`${what} ${file} is not valid JSON: ${(err as Error).message}`);
  }
}

/** Writes float32 arrays one after another (little-endian on the machines Node runs on), atomically. */
export function writeFloat32Concat(file: string, parts: readonly Float32Array[]): void {
  const all = new Float32Array(parts.reduce((a, p) => a + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    all.set(p, offset);
    offset += p.length;
  }
  writeFileAtomic(file, new Uint8Array(all.buffer));
}

/**
 * Reads a file written by writeFloat32Concat back into `parts` (their lengths say where each begins); false,
 * with `parts` untouched, when the file's size does not fit them.
 */
export function readFloat32ConcatInto(file: string, parts: readonly Float32Array[]): boolean {
  const raw = fs.readFileSync(file);
  if (raw.byteLength !== 4 * parts.reduce((a, p) => a + p.length, 0)) return false;
  const all = new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
  let offset = 0;
  for (const p of parts) {
    p.set(all.subarray(offset, offset + p.length));
    offset += p.length;
  }
  return true;
}

/**
 * "size:mtime" of a file, "-1" when it is missing: a cache entry built from the file stays valid while the
 * file keeps its key (the lab only appends or atomically replaces, so either changes).
 */
export function fileKey(file: string): string {
  try {
    const st = fs.statSync(file);
    return `${st.size}:${st.mtimeMs}`;
  } catch {
    return '-1';
  }
}

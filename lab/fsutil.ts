/**
 * Crash-safe file writing: everything the lab writes appears whole or not at all. A file is written to a
 * temporary name in the same directory, flushed to disk, then renamed over the target (rename is atomic
 * within a filesystem), and the directory entry is flushed too.
 */
import fs from 'node:fs';
import path from 'node:path';

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

/**
 * Writes a whole directory atomically: `fill(tmpDir)` writes into a fresh temporary sibling, which is then
 * renamed to `dir` (replacing an older `dir` if there is one).
 */
export async function writeDirAtomic(dir: string, fill: (tmpDir: string) => void | Promise<void>): Promise<void> {
  const parent = path.dirname(dir);
  fs.mkdirSync(parent, { recursive: true });
  const tmp = path.join(parent, `.${path.basename(dir)}.tmp-${process.pid}-${Math.random().toString(36).slice(2, 8)}`);
  fs.mkdirSync(tmp);
  try {
    await fill(tmp);
    for (const f of fs.readdirSync(tmp)) {
      const fd = fs.openSync(path.join(tmp, f), 'r');
      fs.fsyncSync(fd);
      fs.closeSync(fd);
    }
    if (fs.existsSync(dir)) fs.rmSync(dir, { recursive: true, force: true });
    fs.renameSync(tmp, dir);
    fsyncDir(parent);
  } catch (err) {
    fs.rmSync(tmp, { recursive: true, force: true });
    throw err;
  }
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

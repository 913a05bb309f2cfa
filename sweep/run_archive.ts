/**
 * A run directory as plain JSON, to travel through Redis between a `lab worker` and the coordinator (no shared
 * filesystem): `packRunDir` reads a directory into a manifest and base64 chunks; `unpackRunArchive` checks
 * them (every path inside the target, sizes, a SHA-256 of the contents) and writes the directory atomically
 * (lab/fsutil.ts writeDirAtomic: a temporary sibling, then a rename), so a reader never sees half of one.
 *
 * Packing a directory that a training process is still writing (a checkpoint snapshot) reads what a kill -9 at
 * that moment would leave: files that are replaced atomically are read whole (old or new), appended files as a
 * prefix (a resume cuts metrics.jsonl back to its checkpoint anyway). Only the checkpoint that
 * checkpoints/latest.json names must be whole, so `packRunDir` re-reads the pointer and packs again when a
 * newer checkpoint replaced it meanwhile.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { writeDirAtomic } from '../lab/fsutil.js';
import { WRITER_LOCK } from '../lab/run_store.js';

export const RUN_ARCHIVE_FORMAT = 'lab-run-archive/1';

/** Raw bytes per chunk by default (a chunk is this, base64-encoded: about 1.4 MB of text). */
export const DEFAULT_CHUNK_BYTES = 1 << 20;

export interface RunArchiveManifest {
  format: typeof RUN_ARCHIVE_FORMAT;
  /** Every directory under the root, '/'-separated and relative to it, parents first (so empty ones come back). */
  dirs: string[];
  /** Every file, in the order its bytes follow one another in the chunks. */
  files: { path: string; bytes: number }[];
  /** Sum of the files' sizes. */
  bytes: number;
  /** SHA-256 (hex) of all the files' bytes, one after another. */
  sha256: string;
  chunkBytes: number;
  chunks: number;
}

/** A packed directory: its manifest and its contents as base64 strings of at most `manifest.chunkBytes` bytes each. */
export interface RunArchive {
  manifest: RunArchiveManifest;
  chunks: string[];
}

/**
 * Names that belong to the writing process, not to the run: the temporary files and directories of atomic writes
 * (lab/fsutil.ts), and the training process's writer lock (on the coordinator it would name a process of another
 * machine).
 */
function isProcessLocal(name: string): boolean {
  return name === WRITER_LOCK || (name.startsWith('.') && name.includes('.tmp-'));
}

interface Walked {
  dirs: string[];
  files: { path: string; data: Buffer }[];
  /** Relative paths of things that vanished while they were read. */
  vanished: string[];
}

function walk(root: string): Walked {
  const out: Walked = { dirs: [], files: [], vanished: [] };
  const visit = (rel: string): void => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(rel === '' ? root : path.join(root, rel), { withFileTypes: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
        out.vanished.push(rel);
        return;
      }
      throw err;
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of entries) {
      if (isProcessLocal(entry.name)) continue;
      const child = rel === '' ? entry.name : `${rel}/${entry.name}`;
      if (entry.isDirectory()) {
        out.dirs.push(child);
        visit(child);
      } else if (entry.isFile()) {
        try {
          out.files.push({ path: child, data: fs.readFileSync(path.join(root, child)) });
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
          out.vanished.push(child);
        }
      }
      // Links and other special files are not part of a run directory: left out.
    }
  };
  visit('');
  return out;
}

/** checkpoints/latest.json's text, or null when there is none. */
function pointerText(root: string): string | null {
  try {
    return fs.readFileSync(path.join(root, 'checkpoints', 'latest.json'), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

/** The checkpoint directory latest.json names ('' when it names none that can be read). */
function pointedDir(text: string | null): string {
  if (text === null) return '';
  try {
    const dir = (JSON.parse(text) as { dir?: unknown }).dir;
    return typeof dir === 'string' ? `checkpoints/${dir}` : '';
  } catch {
    return '';
  }
}

/**
 * Packs the directory `root` (which may be being written: see the header) into an archive. Throws when `root`
 * does not exist, or when a consistent snapshot could not be read in `attempts` tries.
 */
export function packRunDir(root: string, options: { chunkBytes?: number; attempts?: number } = {}): RunArchive {
  const chunkBytes = options.chunkBytes ?? DEFAULT_CHUNK_BYTES;
  if (!Number.isSafeInteger(chunkBytes) || chunkBytes < 1) throw new Error(`chunkBytes must be a positive integer, got ${chunkBytes}`);
  if (!fs.statSync(root).isDirectory()) throw new Error(`${root} is not a directory`);
  const attempts = options.attempts ?? 10;
  for (let attempt = 1; ; attempt++) {
    const before = pointerText(root);
    const walked = walk(root);
    const after = pointerText(root);
    const checkpoint = pointedDir(before);
    // The pointer moved on (and may have pruned what it named) or its checkpoint lost files while read: again.
    const torn = before !== after || (checkpoint !== '' && walked.vanished.some((p) => p === checkpoint || p.startsWith(`${checkpoint}/`)));
    if (!torn) return toArchive(walked, chunkBytes);
    if (attempt >= attempts) throw new Error(`${root} kept changing while it was packed (${attempts} tries): no consistent snapshot`);
  }
}

function toArchive(walked: Walked, chunkBytes: number): RunArchive {
  const all = Buffer.concat(walked.files.map((f) => f.data));
  const chunks: string[] = [];
  for (let offset = 0; offset < all.length; offset += chunkBytes) chunks.push(all.subarray(offset, offset + chunkBytes).toString('base64'));
  return {
    manifest: {
      format: RUN_ARCHIVE_FORMAT,
      dirs: walked.dirs,
      files: walked.files.map((f) => ({ path: f.path, bytes: f.data.length })),
      bytes: all.length,
      sha256: crypto.createHash('sha256').update(all).digest('hex'),
      chunkBytes,
      chunks: chunks.length,
    },
    chunks,
  };
}

/**
 * A relative path of an archive, checked to stay inside the directory it is unpacked into: '/'-separated plain
 * names, none empty, '.' or '..', no backslash or NUL. Throws a line that names it otherwise.
 */
export function checkArchivePath(rel: unknown): string {
  if (typeof rel !== 'string' || rel === '') throw new Error(`run archive: a path is ${JSON.stringify(rel)}, not a relative path`);
  for (const part of rel.split('/')) {
    if (part === '' || part === '.' || part === '..' || part.includes('\\') || part.includes('\0')) {
      throw new Error(`run archive: path ${JSON.stringify(rel)} leads outside the run directory or is not a plain relative path`);
    }
  }
  return rel;
}

/** Checks a manifest read from elsewhere (Redis): its shape, its paths, and that its sizes add up. */
export function checkManifest(value: unknown): RunArchiveManifest {
  const m = value as Partial<RunArchiveManifest> | null;
  if (m === null || typeof m !== 'object' || m.format !== RUN_ARCHIVE_FORMAT) {
    throw new Error(`run archive: not a ${RUN_ARCHIVE_FORMAT} manifest (format ${JSON.stringify(m?.format)})`);
  }
  const count = (n: unknown, what: string, min = 0): number => {
    if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < min) throw new Error(`run archive: ${what} is ${JSON.stringify(n)}, not an integer >= ${min}`);
    return n;
  };
  if (!Array.isArray(m.dirs) || !Array.isArray(m.files)) throw new Error('run archive: the manifest has no dirs or files list');
  m.dirs.forEach(checkArchivePath);
  let sum = 0;
  for (const f of m.files) {
    checkArchivePath(f?.path);
    sum += count(f.bytes, `the size of ${f.path}`);
  }
  if (count(m.bytes, 'bytes') !== sum) throw new Error(`run archive: the files add up to ${sum} bytes, the manifest says ${m.bytes}`);
  const chunkBytes = count(m.chunkBytes, 'chunkBytes', 1);
  if (count(m.chunks, 'chunks') !== Math.ceil(sum / chunkBytes)) throw new Error(`run archive: ${m.chunks} chunks cannot hold ${sum} bytes in chunks of ${chunkBytes}`);
  if (typeof m.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(m.sha256)) throw new Error('run archive: the manifest has no SHA-256');
  return m as RunArchiveManifest;
}

/** The archive's contents, checked against its manifest (chunk sizes and the SHA-256). */
function contents(archive: RunArchive): Buffer {
  const { manifest, chunks } = archive;
  if (chunks.length !== manifest.chunks) throw new Error(`run archive: ${chunks.length} chunks, the manifest says ${manifest.chunks}`);
  const parts = chunks.map((c, i) => {
    if (typeof c !== 'string') throw new Error(`run archive: chunk ${i} is missing`);
    const b = Buffer.from(c, 'base64');
    const expected = i < chunks.length - 1 ? manifest.chunkBytes : manifest.bytes - manifest.chunkBytes * (chunks.length - 1);
    if (b.length !== expected) throw new Error(`run archive: chunk ${i} holds ${b.length} bytes, expected ${expected}`);
    return b;
  });
  const all = Buffer.concat(parts);
  const sha = crypto.createHash('sha256').update(all).digest('hex');
  if (sha !== manifest.sha256) throw new Error(`run archive: the contents' SHA-256 ${sha.slice(0, 12)}… differs from the manifest's ${manifest.sha256.slice(0, 12)}…`);
  return all;
}

/**
 * Writes the archive as the directory `target`, atomically: it is checked whole first (nothing is written for
 * a damaged archive), then unpacked into a temporary sibling that replaces `target` (an existing `target` is
 * replaced whole). Paths are checked to stay inside it.
 */
export async function unpackRunArchive(archive: RunArchive, target: string): Promise<void> {
  const manifest = checkManifest(archive.manifest);
  const all = contents({ manifest, chunks: archive.chunks });
  await writeDirAtomic(target, (tmp) => {
    for (const dir of manifest.dirs) fs.mkdirSync(path.join(tmp, dir), { recursive: true });
    let offset = 0;
    for (const f of manifest.files) {
      const file = path.join(tmp, f.path);
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(file, all.subarray(offset, offset + f.bytes));
      offset += f.bytes;
    }
  });
}

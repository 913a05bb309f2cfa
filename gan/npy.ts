/**
 * A reader for NumPy `.npy` files holding 28×28 uint8 images (the Quick, Draw! numpy bitmaps).
 *
 * Format (numpy's `numpy/lib/format.py`): the magic `\x93NUMPY`, a major and a minor version byte, the header
 * length (little-endian u16 in version 1.0, u32 in 2.0 and 3.0), then the header: a Python dict literal such as
 * `{'descr': '|u1', 'fortran_order': False, 'shape': (3000, 1, 784), }` padded with spaces and a newline
 * (latin-1 in 1.0/2.0, UTF-8 in 3.0). The array's bytes follow the header.
 *
 * Only what Quick, Draw! uses is accepted: unsigned bytes (`|u1`, `<u1`, `>u1`, `=u1`, `u1`), C order, and the
 * shapes (N, 784), (N, 1, 784) and (N, 28, 28). Everything else is refused with an error naming the file and
 * what is wrong.
 */
import fs from 'node:fs';

export const NPY_MAGIC = Uint8Array.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]); // \x93NUMPY
export const IMAGE_SIDE = 28;
export const IMAGE_SIZE = IMAGE_SIDE * IMAGE_SIDE; // 784

/** A parsed .npy array of uint8 images. */
export interface NpyArray {
  /** The shape as the header gives it: [N, 784], [N, 1, 784] or [N, 28, 28]. */
  shape: number[];
  /** Always 'uint8' (the header's descr is kept in `descr`). */
  dtype: 'uint8';
  /** The header's descr, e.g. '|u1'. */
  descr: string;
  /** Format version, e.g. '1.0'. */
  version: string;
  /** Number of images (shape[0]). */
  count: number;
  /** Byte offset of the pixel data in the file. */
  dataOffset: number;
  /** count × 784 bytes (or fewer rows when a limit was given to readNpy), row-major. */
  data: Uint8Array;
}

/** A malformed or unsupported .npy file; the message names the file and the problem. */
export class NpyFormatError extends Error {
  constructor(
    readonly file: string,
    readonly problem: string,
  ) {
    super(`${file}: ${problem}`);
    this.name = 'NpyFormatError';
  }
}

/** What the header says, before the data is looked at. */
export interface NpyHeader {
  version: string;
  descr: string;
  fortranOrder: boolean;
  shape: number[];
  /** Byte offset where the array data starts. */
  dataOffset: number;
}

const ACCEPTED_DESCR = new Set(['|u1', '<u1', '>u1', '=u1', 'u1']);

/** A short description of bytes that are not a .npy file (an HTML error page, a Git LFS pointer, …). */
function describeForeign(bytes: Uint8Array): string {
  const head = Buffer.from(bytes.subarray(0, Math.min(bytes.length, 512))).toString('latin1');
  const trimmed = head.replace(/^[\s\ufeff]+/, '').toLowerCase();
  if (trimmed.startsWith('<!doctype html') || trimmed.startsWith('<html') || /^<\?xml|^<[a-z]/.test(trimmed)) {
    return 'it is an HTML/XML page (a failed or redirected download?), not a .npy file';
  }
  if (trimmed.startsWith('version https://git-lfs')) return 'it is a Git LFS pointer, not the .npy data (run `git lfs pull`?)';
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) return 'it looks like JSON text, not a .npy file';
  if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) return 'it is gzip-compressed, not a plain .npy file';
  if (bytes.length >= 4 && bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] === 0x03 && bytes[3] === 0x04) {
    return 'it is a ZIP archive (a .npz?), not a .npy file';
  }
  const shown = Array.from(bytes.subarray(0, Math.min(bytes.length, 6)), (b) => b.toString(16).padStart(2, '0')).join(' ');
  return `not a .npy file: bad magic (expected 93 4e 55 4d 50 59 = "\\x93NUMPY", found ${shown || 'an empty file'})`;
}

// ---------------------------------------------------------------------------------------------------------------
// The header's Python literal: dicts, tuples, lists, strings, ints, True/False/None.

type PyValue = string | number | boolean | null | PyValue[] | { [key: string]: PyValue };

class LiteralParser {
  private i = 0;
  constructor(private readonly s: string) {}

  parseAll(): PyValue {
    const v = this.value();
    this.ws();
    if (this.i !== this.s.length) this.fail(`unexpected ${JSON.stringify(this.s[this.i])}`);
    return v;
  }

  private fail(what: string): never {
    throw new Error(`${what} at character ${this.i}`);
  }

  private ws(): void {
    while (this.i < this.s.length && /\s/.test(this.s[this.i]!)) this.i++;
  }

  private value(): PyValue {
    this.ws();
    const c = this.s[this.i];
    if (c === undefined) this.fail('unexpected end');
    if (c === '{') return this.dict();
    if (c === '(') return this.sequence('(', ')');
    if (c === '[') return this.sequence('[', ']');
    if (c === "'" || c === '"') return this.string();
    if (/[-+0-9]/.test(c)) return this.number();
    const word = /^[A-Za-z_]\w*/.exec(this.s.slice(this.i))?.[0];
    if (word === 'True' || word === 'False' || word === 'None') {
      this.i += word.length;
      return word === 'True' ? true : word === 'False' ? false : null;
    }
    return this.fail(`unexpected ${JSON.stringify(c)}`);
  }

  private dict(): { [key: string]: PyValue } {
    const out: { [key: string]: PyValue } = {};
    this.i++; // {
    for (;;) {
      this.ws();
      if (this.s[this.i] === '}') {
        this.i++;
        return out;
      }
      const key = this.value();
      if (typeof key !== 'string') this.fail('a dict key that is not a string');
      this.ws();
      if (this.s[this.i] !== ':') this.fail("expected ':'");
      this.i++;
      out[key] = this.value();
      this.ws();
      if (this.s[this.i] === ',') this.i++;
      else if (this.s[this.i] !== '}') this.fail("expected ',' or '}'");
    }
  }

  private sequence(open: string, close: string): PyValue[] {
    const out: PyValue[] = [];
    this.i++; // open
    for (;;) {
      this.ws();
      if (this.s[this.i] === close) {
        this.i++;
        return out;
      }
      out.push(this.value());
      this.ws();
      if (this.s[this.i] === ',') this.i++;
      else if (this.s[this.i] !== close) this.fail(`expected ',' or '${close}' after an item of '${open}…'`);
    }
  }

  private string(): string {
    const quote = this.s[this.i]!;
    let out = '';
    this.i++;
    while (this.i < this.s.length && this.s[this.i] !== quote) {
      if (this.s[this.i] === '\\') this.i++;
      out += this.s[this.i] ?? '';
      this.i++;
    }
    if (this.s[this.i] !== quote) this.fail('unterminated string');
    this.i++;
    return out;
  }

  private number(): number {
    const m = /^[-+]?\d+L?/.exec(this.s.slice(this.i));
    if (!m) return this.fail('bad number');
    this.i += m[0].length;
    return Number(m[0].replace(/L$/, ''));
  }
}

// ---------------------------------------------------------------------------------------------------------------

/**
 * Parses the magic, version and header dict from the start of a file (`bytes` must hold at least the whole
 * header; 10 + 65,535 bytes always suffice for version 1.0). Throws NpyFormatError for anything malformed or
 * outside what Quick, Draw! bitmaps use.
 */
export function parseNpyHeader(bytes: Uint8Array, file: string): NpyHeader {
  const fail = (problem: string): never => {
    throw new NpyFormatError(file, problem);
  };
  if (bytes.length < NPY_MAGIC.length || NPY_MAGIC.some((b, i) => bytes[i] !== b)) fail(describeForeign(bytes));
  if (bytes.length < 10) fail(`truncated header: the file ends after ${bytes.length} bytes, inside the version/length fields`);
  const major = bytes[6]!;
  const minor = bytes[7]!;
  const version = `${major}.${minor}`;
  if (major < 1 || major > 3 || minor !== 0) fail(`unsupported .npy format version ${version} (1.0, 2.0 and 3.0 are read)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let headerLen: number;
  let headerStart: number;
  if (major === 1) {
    headerLen = view.getUint16(8, true);
    headerStart = 10;
  } else {
    if (bytes.length < 12) fail(`truncated header: the file ends after ${bytes.length} bytes, inside the header length field`);
    headerLen = view.getUint32(8, true);
    headerStart = 12;
  }
  const dataOffset = headerStart + headerLen;
  if (bytes.length < dataOffset) {
    fail(`truncated header: it declares ${headerLen} header bytes, but the file ends after ${bytes.length - headerStart} of them`);
  }
  const rawHeader = bytes.subarray(headerStart, dataOffset);
  const text = major === 3 ? new TextDecoder('utf-8').decode(rawHeader) : Buffer.from(rawHeader).toString('latin1');
  let dict: PyValue;
  try {
    dict = new LiteralParser(text).parseAll();
  } catch (e) {
    return fail(`malformed header dict (${(e as Error).message}): ${JSON.stringify(text.trim().slice(0, 120))}`);
  }
  if (dict === null || typeof dict !== 'object' || Array.isArray(dict)) return fail(`the header is not a dict: ${JSON.stringify(text.trim().slice(0, 120))}`);
  for (const key of ['descr', 'fortran_order', 'shape']) if (!(key in dict)) fail(`the header dict has no '${key}' key`);
  const descr = dict.descr;
  if (typeof descr !== 'string') return fail(`unsupported dtype ${JSON.stringify(descr)} (a structured dtype); only uint8 ('|u1') images are read`);
  if (!ACCEPTED_DESCR.has(descr)) fail(`unsupported dtype '${descr}'; only uint8 ('|u1') images are read`);
  const fortranOrder = dict.fortran_order;
  if (typeof fortranOrder !== 'boolean') fail(`'fortran_order' is ${JSON.stringify(fortranOrder)}, not True/False`);
  if (fortranOrder) fail("Fortran (column-major) order is not supported; save the array in C order (np.ascontiguousarray)");
  const shape = dict.shape;
  if (!Array.isArray(shape) || !shape.every((d) => typeof d === 'number' && Number.isSafeInteger(d) && d >= 0)) {
    return fail(`'shape' is ${JSON.stringify(shape)}, not a tuple of non-negative integers`);
  }
  const dims = shape as number[];
  const ok =
    (dims.length === 2 && dims[1] === IMAGE_SIZE) ||
    (dims.length === 3 && dims[1] === 1 && dims[2] === IMAGE_SIZE) ||
    (dims.length === 3 && dims[1] === IMAGE_SIDE && dims[2] === IMAGE_SIDE);
  if (!ok) fail(`unsupported shape (${dims.join(', ')}${dims.length === 1 ? ',' : ''}); expected (N, 784), (N, 1, 784) or (N, 28, 28)`);
  return { version, descr, fortranOrder: false, shape: dims, dataOffset };
}

/** Checks that the file's total size matches header + N × 784 bytes. */
function checkDataSize(header: NpyHeader, totalBytes: number, file: string): void {
  const n = header.shape[0]!;
  const expected = n * IMAGE_SIZE;
  const have = totalBytes - header.dataOffset;
  if (have < expected) {
    const rows = Math.floor(have / IMAGE_SIZE);
    throw new NpyFormatError(
      file,
      `truncated data: shape (${header.shape.join(', ')}) needs ${expected} bytes after the ${header.dataOffset}-byte header, ` +
        `but the file has ${have} (${rows} whole images of ${n}); the file is ${totalBytes} bytes, expected ${header.dataOffset + expected}`,
    );
  }
  if (have > expected) {
    throw new NpyFormatError(
      file,
      `${have - expected} bytes of trailing data after the ${n} images of shape (${header.shape.join(', ')}); ` +
        `the file is ${totalBytes} bytes, expected ${header.dataOffset + expected}`,
    );
  }
}

/** Parses a whole .npy file held in memory. `data` is a view into `buffer` (no copy). */
export function parseNpy(buffer: Uint8Array, file = '<buffer>'): NpyArray {
  const header = parseNpyHeader(buffer, file);
  checkDataSize(header, buffer.length, file);
  const count = header.shape[0]!;
  return {
    shape: header.shape,
    dtype: 'uint8',
    descr: header.descr,
    version: header.version,
    count,
    dataOffset: header.dataOffset,
    data: new Uint8Array(buffer.buffer, buffer.byteOffset + header.dataOffset, count * IMAGE_SIZE),
  };
}

/** Reads the header bytes of an open file: the fixed fields first, then exactly the declared header length. */
function readHeaderFromFd(fd: number, size: number, file: string): NpyHeader {
  const fixed = readAt(fd, 0, Math.min(size, 12), file);
  if (!NPY_MAGIC.every((b, i) => fixed[i] === b)) return parseNpyHeader(readAt(fd, 0, Math.min(size, 512), file), file); // says what it is
  const major = fixed[6]!;
  if (fixed.length < 12 || major < 1 || major > 3) return parseNpyHeader(fixed, file); // reports what is wrong
  const view = new DataView(fixed.buffer, fixed.byteOffset, fixed.byteLength);
  const declared = major === 1 ? 10 + view.getUint16(8, true) : 12 + view.getUint32(8, true);
  if (declared > MAX_HEADER_BYTES) throw new NpyFormatError(file, `implausibly long header (${declared} bytes declared)`);
  return parseNpyHeader(readAt(fd, 0, Math.min(size, Math.max(declared, 12)), file), file);
}

const MAX_HEADER_BYTES = 1 << 20;

/** Reads and validates the header of a .npy file on disk (not its data), checking the file's size against the shape. */
export function readNpyHeader(file: string): NpyHeader & { fileBytes: number } {
  const fd = openForReading(file);
  try {
    const size = fs.fstatSync(fd).size;
    const header = readHeaderFromFd(fd, size, file);
    checkDataSize(header, size, file);
    return { ...header, fileBytes: size };
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Reads a .npy file of uint8 images. The header and the file's size are always checked in full; with `limit`
 * only the first `limit` images are read from disk (`count` is then min(limit, N), `shape[0]` stays N).
 * `data` is a fresh Uint8Array of count × 784 bytes.
 */
export function readNpy(file: string, options: { limit?: number } = {}): NpyArray {
  const fd = openForReading(file);
  try {
    const size = fs.fstatSync(fd).size;
    const header = readHeaderFromFd(fd, size, file);
    checkDataSize(header, size, file);
    const n = header.shape[0]!;
    const count = options.limit === undefined ? n : Math.max(0, Math.min(n, Math.floor(options.limit)));
    const data = readAt(fd, header.dataOffset, count * IMAGE_SIZE, file);
    return { shape: header.shape, dtype: 'uint8', descr: header.descr, version: header.version, count, dataOffset: header.dataOffset, data };
  } finally {
    fs.closeSync(fd);
  }
}

function openForReading(file: string): number {
  try {
    return fs.openSync(file, 'r');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new Error(`${file}: no such file`);
    if (code === 'EISDIR') throw new Error(`${file}: is a directory, not a .npy file`);
    throw new Error(`${file}: cannot open (${(e as Error).message})`);
  }
}

function readAt(fd: number, position: number, length: number, file: string): Uint8Array {
  const out = new Uint8Array(length);
  let done = 0;
  while (done < length) {
    const n = fs.readSync(fd, out, done, length - done, position + done);
    if (n === 0) throw new NpyFormatError(file, `unexpected end of file at byte ${position + done}`);
    done += n;
  }
  return out;
}

/** Builds a .npy v1.0 file for uint8 images of the given shape (used by tests and by tools that save subsets). */
export function encodeNpy(data: Uint8Array, shape: readonly number[], descr = '|u1'): Uint8Array {
  const dict = `{'descr': '${descr}', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  // numpy pads so that the data starts at a multiple of 64 bytes and ends the header with '\n'.
  const unpadded = 10 + dict.length + 1;
  const total = Math.ceil(unpadded / 64) * 64;
  const headerText = dict + ' '.repeat(total - unpadded) + '\n';
  const out = new Uint8Array(10 + headerText.length + data.length);
  out.set(NPY_MAGIC, 0);
  out[6] = 1;
  out[7] = 0;
  new DataView(out.buffer).setUint16(8, headerText.length, true);
  out.set(Buffer.from(headerText, 'latin1'), 10);
  out.set(data, 10 + headerText.length);
  return out;
}

/**
 * Quick, Draw! data for the GAN: the official numpy bitmaps (28×28 uint8 images, one `.npy` file per
 * category), downloaded from Google's public bucket into a cache directory (progress, resume, size checks),
 * with the real 3000-drawing subsets shipped in `data/quickdraw/` as the offline fallback; and the simplified
 * ndjson stroke format with a renderer that reproduces Google's bitmaps.
 *
 * Data: the Quick, Draw! Dataset, Google, CC BY 4.0 (https://quickdraw.withgoogle.com/data,
 * https://github.com/googlecreativelab/quickdraw-dataset).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { fsyncDir } from '../lab/fsutil.js';
import { ProgressLine, progressBar, type ProgressStream } from '../lab/progress.js';
import { IMAGE_SIDE, IMAGE_SIZE, NpyFormatError, readNpy, readNpyHeader } from './npy.js';

export { NpyFormatError, encodeNpy, parseNpy, parseNpyHeader, readNpy, readNpyHeader, type NpyArray, type NpyHeader } from './npy.js';

/** A set of 28×28 Quick, Draw! images. */
export interface QuickDrawImages {
  category: string;
  count: number;
  width: 28;
  height: 28;
  /** count×784 bytes, row-major, 0 background … 255 ink */
  pixels: Uint8Array;
  /** 'shipped' | 'cache' | 'download' | a file path */
  source: string;
}

/** The categories whose first 3000 bitmaps ship in data/quickdraw/ (real Quick, Draw! data). */
export const SHIPPED_CATEGORIES: readonly string[] = Object.freeze(['apple', 'bicycle', 'cat', 'diamond', 'fish']);

/** The directory with the shipped subset. */
export const SHIPPED_DIR = fileURLToPath(new URL('../data/quickdraw/', import.meta.url));

/** The shipped simplified strokes of the first 100 apples (row i of apple.npy is drawing i). */
export const SHIPPED_APPLE_NDJSON = path.join(SHIPPED_DIR, 'apple_simplified_first100.ndjson');

/** Where the official numpy bitmaps live: `<base>/<category>.npy`. */
export const QUICKDRAW_BUCKET_URL = 'https://storage.googleapis.com/quickdraw_dataset/full/numpy_bitmap';

/** The list of the 345 category names (the bucket's file names without `.npy`). */
export const QUICKDRAW_CATEGORIES_URL = 'https://github.com/googlecreativelab/quickdraw-dataset/blob/master/categories.txt';

const ATTRIBUTION = 'Quick, Draw! Dataset, Google, CC BY 4.0';

// ---------------------------------------------------------------------------------------------------------------
// Errors

/** A category the bucket does not have, or that is not available with the options given. */
export class UnknownCategoryError extends Error {
  constructor(
    readonly category: string,
    message: string,
  ) {
    super(message);
    this.name = 'UnknownCategoryError';
  }
}

/** A failed download. `resumable`: the `.part` file was kept and another attempt continues from it. */
export class DownloadError extends Error {
  constructor(
    message: string,
    readonly url: string,
    readonly resumable: boolean,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'DownloadError';
  }
}

const shippedList = (): string => SHIPPED_CATEGORIES.join(', ');
const namesHint = (): string =>
  `category names are the bucket's 345 file names, e.g. "apple", "hot air balloon", "The Eiffel Tower" (see ${QUICKDRAW_CATEGORIES_URL}); ` +
  `shipped for offline use: ${shippedList()}`;

/** Checks a category name for use in a file name and a URL; returns it unchanged. */
function checkCategoryName(category: string): string {
  if (typeof category !== 'string' || category.length === 0) throw new UnknownCategoryError(String(category), `empty Quick, Draw! category name; ${namesHint()}`);
  if (category.trim() !== category) throw new UnknownCategoryError(category, `Quick, Draw! category ${JSON.stringify(category)} has leading or trailing spaces; ${namesHint()}`);
  if (/\.npy$/i.test(category)) {
    throw new UnknownCategoryError(category, `Quick, Draw! category ${JSON.stringify(category)} ends with .npy: give the name without it, or load a file with loadNpyFile()`);
  }
  if (/[/\\\0]/.test(category) || category.startsWith('.')) {
    throw new UnknownCategoryError(category, `Quick, Draw! category ${JSON.stringify(category)} is not a category name (it looks like a path); use loadNpyFile() for files; ${namesHint()}`);
  }
  return category;
}

// ---------------------------------------------------------------------------------------------------------------
// Files

/** The default cache directory: `$LAB_CACHE_DIR/quickdraw`, else `~/.cache/rl-gan-lab/quickdraw`. */
export function defaultCacheDir(): string {
  const root = process.env.LAB_CACHE_DIR;
  if (root) return path.join(root, 'quickdraw');
  return path.join(os.homedir(), '.cache', 'rl-gan-lab', 'quickdraw');
}

/** The bucket URL of a category's numpy bitmaps (the name is percent-encoded: spaces become %20). */
export function quickDrawUrl(category: string, baseUrl = QUICKDRAW_BUCKET_URL): string {
  return `${baseUrl.replace(/\/+$/, '')}/${encodeURIComponent(checkCategoryName(category))}.npy`;
}

/** The shipped .npy file of a category, or null when it is not shipped. */
export function shippedFile(category: string): string | null {
  return SHIPPED_CATEGORIES.includes(category) ? path.join(SHIPPED_DIR, `${category}.npy`) : null;
}

function imagesFromFile(file: string, category: string, source: string, limit?: number): QuickDrawImages {
  const npy = readNpy(file, limit === undefined ? {} : { limit });
  return { category, count: npy.count, width: IMAGE_SIDE, height: IMAGE_SIDE, pixels: npy.data, source };
}

/**
 * Reads any .npy file of 28×28 uint8 images ((N, 784), (N, 1, 784) or (N, 28, 28)). The category is the file's
 * name without `.npy` (and without the `full_numpy_bitmap_` prefix many projects use); `source` is the path.
 */
export function loadNpyFile(file: string, options: { limit?: number; category?: string } = {}): QuickDrawImages {
  const category = options.category ?? path.basename(file).replace(/\.npy$/i, '').replace(/^full_numpy_bitmap_/, '');
  return imagesFromFile(file, category, file, checkLimit(options.limit));
}

function checkLimit(limit: number | undefined): number | undefined {
  if (limit === undefined) return undefined;
  if (!Number.isInteger(limit) || limit < 0) throw new RangeError(`limit must be a non-negative integer, got ${limit}`);
  return limit;
}

// ---------------------------------------------------------------------------------------------------------------
// Progress

export interface ProgressBar {
  update: (done: number, total: number | null) => void;
  /** Ends the bar's line (on a terminal); call once, whether the download finished or failed. */
  end: () => void;
}

const mb = (bytes: number): string => (bytes / 1e6).toFixed(1);

/**
 * A download progress display (lab/progress.ts's `ProgressLine`): on a terminal one line redrawn in place and
 * cut to the terminal's width (`label [=====>    ] 45% 51.2/113.5 MB 12.3 MB/s`); otherwise plain lines at
 * every 10% (or every 10 MB when the size is unknown).
 */
export function createProgressBar(label: string, out: ProgressStream = process.stderr): ProgressBar {
  const display = new ProgressLine(out);
  const started = performance.now();
  let first: number | null = null;
  let lastStep = -1;
  let ended = false;
  const fields = (done: number, total: number | null): string[] => {
    const seconds = (performance.now() - started) / 1000;
    const rate = `${(seconds > 0 && first !== null ? (done - first) / 1e6 / seconds : 0).toFixed(1)} MB/s`;
    if (total === null || total <= 0) return [`${label} ${mb(done)} MB ${rate}`];
    const frac = Math.min(1, done / total);
    return [`${label} ${progressBar(frac, display.barWidth(24))} ${(frac * 100).toFixed(0).padStart(3)}% ${mb(done)}/${mb(total)} MB ${rate}`];
  };
  return {
    update(done, total) {
      if (ended) return;
      if (first === null) first = done;
      const complete = total !== null && done >= total;
      if (display.tty) {
        display.update(fields(done, total), complete);
      } else {
        const step = total !== null && total > 0 ? Math.floor((10 * done) / total) : Math.floor(done / 10e6);
        if (step === lastStep) return;
        lastStep = step;
        display.update(fields(done, total), true);
      }
    },
    end() {
      if (ended) return;
      ended = true;
      display.end();
    },
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Download

export interface DownloadOptions {
  cacheDir?: string;
  onProgress?: (done: number, total: number | null) => void;
  fetchImpl?: typeof fetch;
  /** Replaces the bucket's base URL (a mirror, or a local server in tests). */
  baseUrl?: string;
  /** Further attempts after an interrupted transfer, each resuming from the `.part` file (default 3). */
  retries?: number;
  /** Pause before each further attempt, doubled every time (default 500 ms). */
  retryDelayMs?: number;
  /** Give up when no response, or no data, arrives for this long (default 30 s). */
  timeoutMs?: number;
}

function parseContentRange(value: string | null): { start: number; end: number; total: number | null } | { unsatisfied: number } | null {
  if (!value) return null;
  const m = /^bytes\s+(\d+)-(\d+)\/(\d+|\*)$/i.exec(value.trim());
  if (m) return { start: Number(m[1]), end: Number(m[2]), total: m[3] === '*' ? null : Number(m[3]) };
  const u = /^bytes\s+\*\/(\d+)$/i.exec(value.trim());
  if (u) return { unsatisfied: Number(u[1]) };
  return null;
}

const errorText = (e: unknown): string => {
  const err = e as Error & { cause?: { code?: string; message?: string } };
  const cause = err?.cause?.code ?? err?.cause?.message;
  return cause && !String(err.message).includes(cause) ? `${err.message} (${cause})` : String(err?.message ?? e);
};

/**
 * One transfer into `part`: resumes with a Range request when `part` has bytes, appends, reports progress, and
 * checks the byte count against what the server announced. Returns when `part` holds the whole file.
 */
async function transfer(url: string, part: string, options: DownloadOptions): Promise<void> {
  const fetchImpl = options.fetchImpl ?? fetch;
  const timeoutMs = options.timeoutMs ?? 30_000;
  const have = fs.existsSync(part) ? fs.statSync(part).size : 0;
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const arm = (what: string): void => {
    clearTimeout(timer);
    timer = setTimeout(() => controller.abort(new Error(`no ${what} for ${timeoutMs / 1000} s`)), timeoutMs);
  };
  arm('response');
  try {
    let res: Response;
    try {
      res = await fetchImpl(url, { headers: have > 0 ? { Range: `bytes=${have}-` } : {}, signal: controller.signal, redirect: 'follow' });
    } catch (e) {
      throw new DownloadError(`cannot download ${url}: ${errorText(controller.signal.aborted ? controller.signal.reason : e)}`, url, false);
    }
    let start = 0;
    let total: number | null = null;
    const contentLength = res.headers.get('content-length');
    const length = contentLength !== null && /^\d+$/.test(contentLength.trim()) ? Number(contentLength) : null;
    if (res.status === 206) {
      const range = parseContentRange(res.headers.get('content-range'));
      if (!range || !('start' in range)) {
        fs.rmSync(part, { force: true });
        throw new DownloadError(`${url}: partial response without a usable Content-Range (${res.headers.get('content-range')}); starting over`, url, true, 206);
      }
      if (range.start !== have) {
        fs.rmSync(part, { force: true });
        throw new DownloadError(`${url}: asked to resume at byte ${have}, the server answered from byte ${range.start}; starting over`, url, true, 206);
      }
      start = have;
      total = range.total ?? (length !== null ? have + length : null);
    } else if (res.status === 416 && have > 0) {
      const range = parseContentRange(res.headers.get('content-range'));
      await res.body?.cancel().catch(() => undefined);
      if (range && 'unsatisfied' in range && range.unsatisfied === have) {
        options.onProgress?.(have, have);
        return; // the .part file is already complete
      }
      fs.rmSync(part, { force: true });
      throw new DownloadError(`${url}: the server cannot resume at byte ${have} (HTTP 416); starting over`, url, true, 416);
    } else if (res.ok) {
      total = length; // a 200 (the server ignored a Range, if there was one): start from the beginning
    } else {
      await res.body?.cancel().catch(() => undefined);
      if (res.status === 404) throw new DownloadError(`${url}: HTTP 404 Not Found`, url, false, 404);
      throw new DownloadError(`${url}: HTTP ${res.status} ${res.statusText}`.trim(), url, res.status >= 500 || res.status === 429, res.status);
    }
    const type = res.headers.get('content-type') ?? '';
    if (/text\/html/i.test(type)) {
      await res.body?.cancel().catch(() => undefined);
      throw new DownloadError(`${url}: the server sent an HTML page (Content-Type ${type}), not the .npy file (a proxy or captive portal?)`, url, false, res.status);
    }
    if (!res.body) throw new DownloadError(`${url}: the response has no body`, url, false, res.status);

    const fh = await fs.promises.open(part, start > 0 ? 'a' : 'w');
    let done = start;
    try {
      options.onProgress?.(done, total);
      arm('data');
      try {
        for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
          arm('data');
          await fh.write(chunk);
          done += chunk.length;
          if (total !== null && done > total) break;
          options.onProgress?.(done, total);
        }
      } catch (e) {
        const why = errorText(controller.signal.aborted ? controller.signal.reason : e);
        throw new DownloadError(
          `${url}: download interrupted after ${done}${total !== null ? ` of ${total}` : ''} bytes (${why}); ` + `${part} is kept and the next attempt resumes from there`,
          url,
          true,
        );
      }
      await fh.sync();
    } finally {
      await fh.close();
    }
    if (total !== null && done !== total) {
      fs.rmSync(part, { force: true });
      throw new DownloadError(
        `${url}: size mismatch: received ${done} bytes, the server announced ${total}${done > total ? ' (it sent more)' : ''}; the partial file was deleted`,
        url,
        false,
        res.status,
      );
    }
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Downloads a category's numpy bitmaps into `<cacheDir>/<category>.npy` and returns that path. The bytes go
 * to `<file>.part`; an interrupted transfer is resumed (HTTP Range) by the next attempt, here or in a later
 * call. The result must match the announced size and the .npy header's shape before it is renamed into place.
 */
export async function downloadQuickDraw(category: string, options: DownloadOptions = {}): Promise<string> {
  const name = checkCategoryName(category);
  const cacheDir = options.cacheDir ?? defaultCacheDir();
  fs.mkdirSync(cacheDir, { recursive: true });
  const file = path.join(cacheDir, `${name}.npy`);
  const part = `${file}.part`;
  const url = quickDrawUrl(name, options.baseUrl);
  const retries = options.retries ?? 3;
  const delay = options.retryDelayMs ?? 500;
  for (let attempt = 0; ; attempt++) {
    try {
      await transfer(url, part, options);
      break;
    } catch (e) {
      if (e instanceof DownloadError && e.status === 404) {
        throw new UnknownCategoryError(name, `unknown Quick, Draw! category ${JSON.stringify(name)}: ${url} answered 404 Not Found; ${namesHint()}`);
      }
      if (!(e instanceof DownloadError) || !e.resumable || attempt >= retries) throw e;
      await new Promise((resolve) => setTimeout(resolve, delay * 2 ** attempt));
    }
  }
  try {
    readNpyHeader(part); // magic, dtype, shape, and the file's size against the shape
  } catch (e) {
    fs.rmSync(part, { force: true });
    const why = e instanceof NpyFormatError ? e.problem : errorText(e);
    throw new DownloadError(`${url}: the downloaded file is not a valid Quick, Draw! bitmap file (${why}); the partial file was deleted`, url, false);
  }
  fs.renameSync(part, file);
  fsyncDir(cacheDir);
  return file;
}

// ---------------------------------------------------------------------------------------------------------------
// Loading

export interface LoadOptions {
  /** Read only the first `limit` images. */
  limit?: number;
  /** Default `$LAB_CACHE_DIR/quickdraw` or `~/.cache/rl-gan-lab/quickdraw`. */
  cacheDir?: string;
  /**
   * 'never': the cache, else the shipped subset (no network). 'if-missing' (default): the cache, else download
   * (falling back to the shipped subset, with a warning, when that fails). 'always': download again.
   */
  download?: 'never' | 'if-missing' | 'always';
  /** Download progress; by default a progress bar on stderr (in place on a terminal, plain lines otherwise). */
  onProgress?: (done: number, total: number | null) => void;
  fetchImpl?: typeof fetch;
  /** Where warnings go (default: stderr). */
  onWarning?: (message: string) => void;
  /** Replaces the bucket's base URL (a mirror, or a local server in tests). */
  baseUrl?: string;
  retries?: number;
  retryDelayMs?: number;
  timeoutMs?: number;
}

/**
 * Loads the 28×28 bitmaps of a Quick, Draw! category: from the cache, by downloading the official file, or from
 * the real subset shipped in data/quickdraw (apple, bicycle, cat, diamond, fish: the first 3000 drawings each).
 */
export async function loadQuickDraw(category: string, options: LoadOptions = {}): Promise<QuickDrawImages> {
  const name = checkCategoryName(category);
  const limit = checkLimit(options.limit);
  const mode = options.download ?? 'if-missing';
  if (mode !== 'never' && mode !== 'if-missing' && mode !== 'always') {
    throw new RangeError(`download must be 'never', 'if-missing' or 'always', got ${JSON.stringify(mode)}`);
  }
  const warn = options.onWarning ?? ((message: string) => process.stderr.write(`warning: ${message}\n`));
  const cacheDir = options.cacheDir ?? defaultCacheDir();
  const cached = path.join(cacheDir, `${name}.npy`);
  const shipped = shippedFile(name);

  if (mode !== 'always' && fs.existsSync(cached)) {
    try {
      return imagesFromFile(cached, name, 'cache', limit);
    } catch (e) {
      if (mode === 'never' || !(e instanceof NpyFormatError)) {
        if (e instanceof NpyFormatError) throw new NpyFormatError(e.file, `${e.problem} (delete it, or load with download: 'always' to fetch it again)`);
        throw e;
      }
      warn(`the cached ${cached} is damaged (${e.problem}); downloading it again`);
    }
  }
  if (mode === 'never') {
    if (shipped) return imagesFromFile(shipped, name, 'shipped', limit);
    throw new UnknownCategoryError(
      name,
      `Quick, Draw! category ${JSON.stringify(name)} is not available offline: it is not in the cache (${cacheDir}) and not shipped; ` +
        `load it with download: 'if-missing' to fetch ${quickDrawUrl(name, options.baseUrl)}; ${namesHint()}`,
    );
  }

  let bar: ProgressBar | null = null;
  const onProgress = options.onProgress ?? ((done: number, total: number | null) => (bar ??= createProgressBar(`${name}.npy`)).update(done, total));
  try {
    const file = await downloadQuickDraw(name, {
      cacheDir,
      onProgress,
      ...(options.fetchImpl && { fetchImpl: options.fetchImpl }),
      ...(options.baseUrl !== undefined && { baseUrl: options.baseUrl }),
      ...(options.retries !== undefined && { retries: options.retries }),
      ...(options.retryDelayMs !== undefined && { retryDelayMs: options.retryDelayMs }),
      ...(options.timeoutMs !== undefined && { timeoutMs: options.timeoutMs }),
    });
    (bar as ProgressBar | null)?.end();
    return imagesFromFile(file, name, 'download', limit);
  } catch (e) {
    (bar as ProgressBar | null)?.end();
    const why = e instanceof Error ? e.message : String(e);
    if (mode === 'always' && fs.existsSync(cached)) {
      warn(`could not download ${JSON.stringify(name)} (${why}); using the cached ${cached}`);
      return imagesFromFile(cached, name, 'cache', limit);
    }
    if (shipped) {
      warn(`could not download ${JSON.stringify(name)} (${why}); using the 3000-drawing subset shipped in ${SHIPPED_DIR} (${ATTRIBUTION})`);
      return imagesFromFile(shipped, name, 'shipped', limit);
    }
    if (e instanceof UnknownCategoryError) throw e;
    throw new DownloadError(
      `could not download Quick, Draw! category ${JSON.stringify(name)}: ${why}. It is not shipped for offline use; ` +
        `if the name is right, retry when online; ${namesHint()}`,
      e instanceof DownloadError ? e.url : quickDrawUrl(name, options.baseUrl),
      e instanceof DownloadError ? e.resumable : false,
      e instanceof DownloadError ? e.status : undefined,
    );
  }
}

/**
 * Pixels as floats for training, count×784 row-major: '0,1' maps 0…255 to 0…1, '-1,1' maps it to -1…1
 * (v/127.5 − 1, for a tanh generator). `limit` takes only the first images.
 */
export function toFloatImages(images: QuickDrawImages, range: '0,1' | '-1,1', limit?: number): Float32Array {
  const count = Math.min(images.count, checkLimit(limit) ?? images.count);
  const n = count * IMAGE_SIZE;
  if (images.pixels.length < n) throw new RangeError(`images.pixels has ${images.pixels.length} bytes, fewer than count×784 = ${n}`);
  const out = new Float32Array(n);
  const px = images.pixels;
  if (range === '0,1') for (let i = 0; i < n; i++) out[i] = px[i]! / 255;
  else if (range === '-1,1') for (let i = 0; i < n; i++) out[i] = px[i]! / 127.5 - 1;
  else throw new RangeError(`range must be '0,1' or '-1,1', got ${JSON.stringify(range)}`);
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Simplified ndjson strokes

/** One drawing of the simplified ndjson format. */
export interface QuickDrawDrawing {
  word: string;
  /** [[xs], [ys]] per stroke, integers 0…255, top-left aligned. */
  strokes: number[][][];
  recognized?: boolean;
  key_id?: string;
  countrycode?: string;
  timestamp?: string;
}

/** Parses simplified ndjson text (one JSON object per line; blank lines skipped). Errors name the file and line. */
export function parseSimplifiedNdjson(text: string, file = '<ndjson>'): QuickDrawDrawing[] {
  const out: QuickDrawDrawing[] = [];
  const lines = text.split('\n');
  for (let li = 0; li < lines.length; li++) {
    const line = lines[li]!.trim();
    if (!line) continue;
    const where = `${file}: line ${li + 1}`;
    let obj: unknown;
    try {
      obj = JSON.parse(line);
    } catch {
      throw new Error(`${where}: not valid JSON`);
    }
    if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) throw new Error(`${where}: not a JSON object`);
    const o = obj as Record<string, unknown>;
    if (typeof o.word !== 'string') throw new Error(`${where}: no "word" string`);
    const strokes = o.drawing;
    if (!Array.isArray(strokes)) throw new Error(`${where}: no "drawing" array`);
    strokes.forEach((stroke, si) => {
      if (!Array.isArray(stroke) || stroke.length < 2) throw new Error(`${where}: stroke ${si} is not [[xs], [ys]]`);
      if (stroke.length > 2) throw new Error(`${where}: stroke ${si} has ${stroke.length} arrays (x, y, t): that is the raw format; use the simplified ndjson`);
      const [xs, ys] = stroke as unknown[];
      if (!Array.isArray(xs) || !Array.isArray(ys) || xs.length !== ys.length || xs.length === 0) {
        throw new Error(`${where}: stroke ${si} needs equally long, non-empty x and y arrays`);
      }
      for (const v of [...xs, ...ys]) if (typeof v !== 'number' || !Number.isFinite(v)) throw new Error(`${where}: stroke ${si} has a coordinate that is not a number: ${JSON.stringify(v)}`);
    });
    const d: QuickDrawDrawing = { word: o.word, strokes: strokes as number[][][] };
    if (typeof o.recognized === 'boolean') d.recognized = o.recognized;
    if (typeof o.key_id === 'string') d.key_id = o.key_id;
    if (typeof o.countrycode === 'string') d.countrycode = o.countrycode;
    if (typeof o.timestamp === 'string') d.timestamp = o.timestamp;
    out.push(d);
  }
  return out;
}

/** Reads a simplified ndjson file (e.g. `full/simplified/<category>.ndjson` from the bucket). */
export function readSimplifiedNdjson(file: string): QuickDrawDrawing[] {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new Error(`${file}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  return parseSimplifiedNdjson(text, file);
}

// ---------------------------------------------------------------------------------------------------------------
// Rendering strokes like Google's numpy bitmaps

export interface RenderOptions {
  /** Line width in drawing units (the drawing spans 0…256). Default 16. */
  lineWidth?: number;
  /** Margin on each side in drawing units, on top of half the line width. Default 16. */
  padding?: number;
  /** Samples per pixel along each axis for the anti-aliasing (coverage = fraction of samples inked). Default 16. */
  supersample?: number;
  /**
   * 'max' (default, as Google's bitmaps): shift by (256 − max)/2 on each axis, which centres the bounding box
   * of a simplified drawing (they start at 0). 'bbox': centre the bounding box whatever its minimum.
   */
  centring?: 'max' | 'bbox';
}

/** The parameters that reproduce the official bitmaps (fitted on the shipped apples; see the README). */
export const GOOGLE_RENDER: Required<RenderOptions> = Object.freeze({ lineWidth: 16, padding: 16, supersample: 16, centring: 'max' as const });

/**
 * Renders a simplified drawing to a size×size uint8 image, 0 background … 255 ink, the way the official
 * 28×28 bitmaps are made: the 256-unit drawing plus a margin of `padding + lineWidth/2` on each side is scaled
 * to the image, centred on the drawing, and each stroke is drawn as a polyline of width `lineWidth` with round
 * caps and joins (a single point gives a dot), anti-aliased by its coverage of each pixel; strokes are
 * composited one over another (coverage a over b gives a + b(1 − a)).
 */
export function renderStrokes(strokes: number[][][], size = 28, options: RenderOptions = {}): Uint8Array {
  const o = { ...GOOGLE_RENDER, ...options };
  if (!Number.isInteger(size) || size <= 0) throw new RangeError(`size must be a positive integer, got ${size}`);
  if (!(o.lineWidth > 0) || !(o.padding >= 0) || !Number.isInteger(o.supersample) || o.supersample < 1) {
    throw new RangeError(`bad render options ${JSON.stringify(options)}`);
  }
  const k = o.supersample;
  const grid = size * k; // sample grid side
  let minX = Infinity;
  let minY = Infinity;
  let maxX = -Infinity;
  let maxY = -Infinity;
  for (const stroke of strokes) {
    const [xs, ys] = stroke;
    if (!xs || !ys || xs.length !== ys.length) throw new Error('each stroke must be [[xs], [ys]] with equally long arrays');
    for (let i = 0; i < xs.length; i++) {
      minX = Math.min(minX, xs[i]!);
      maxX = Math.max(maxX, xs[i]!);
      minY = Math.min(minY, ys[i]!);
      maxY = Math.max(maxY, ys[i]!);
    }
  }
  const acc = new Float64Array(size * size);
  const out = new Uint8Array(size * size);
  if (maxX === -Infinity) return out; // nothing drawn
  const extent = 256;
  const margin = 2 * o.padding + o.lineWidth;
  const scale = (size / (extent + margin)) * k; // drawing units → samples
  const offX = (o.centring === 'bbox' ? (extent - minX - maxX) / 2 : (extent - maxX) / 2) + margin / 2;
  const offY = (o.centring === 'bbox' ? (extent - minY - maxY) / 2 : (extent - maxY) / 2) + margin / 2;
  const r = (o.lineWidth / 2) * scale;
  const r2 = r * r;

  let mask = new Uint8Array(0);
  for (const [xs, ys] of strokes) {
    const n = xs!.length;
    if (n === 0) continue;
    const px = new Float64Array(n);
    const py = new Float64Array(n);
    let sx0 = Infinity;
    let sy0 = Infinity;
    let sx1 = -Infinity;
    let sy1 = -Infinity;
    for (let i = 0; i < n; i++) {
      px[i] = (xs![i]! + offX) * scale;
      py[i] = (ys![i]! + offY) * scale;
      sx0 = Math.min(sx0, px[i]!);
      sx1 = Math.max(sx1, px[i]!);
      sy0 = Math.min(sy0, py[i]!);
      sy1 = Math.max(sy1, py[i]!);
    }
    // The stroke's box in whole pixels, clipped to the image; its samples go in a local mask.
    const bx0 = Math.max(0, Math.floor((sx0 - r) / k));
    const by0 = Math.max(0, Math.floor((sy0 - r) / k));
    const bx1 = Math.min(size - 1, Math.floor((sx1 + r) / k));
    const by1 = Math.min(size - 1, Math.floor((sy1 + r) / k));
    if (bx0 > bx1 || by0 > by1) continue;
    const mw = (bx1 - bx0 + 1) * k;
    const mh = (by1 - by0 + 1) * k;
    if (mask.length < mw * mh) mask = new Uint8Array(mw * mh);
    else mask.fill(0, 0, mw * mh);
    const gx0 = bx0 * k;
    const gy0 = by0 * k;
    const segments = Math.max(1, n - 1);
    for (let s = 0; s < segments; s++) {
      const ax = px[s]!;
      const ay = py[s]!;
      const bx = px[Math.min(s + 1, n - 1)]!;
      const by = py[Math.min(s + 1, n - 1)]!;
      const dx = bx - ax;
      const dy = by - ay;
      const len2 = dx * dx + dy * dy;
      const x0 = Math.max(gx0, Math.floor(Math.min(ax, bx) - r));
      const x1 = Math.min(gx0 + mw - 1, Math.ceil(Math.max(ax, bx) + r), grid - 1);
      const y0 = Math.max(gy0, Math.floor(Math.min(ay, by) - r));
      const y1 = Math.min(gy0 + mh - 1, Math.ceil(Math.max(ay, by) + r), grid - 1);
      for (let gy = y0; gy <= y1; gy++) {
        const cy = gy + 0.5;
        const row = (gy - gy0) * mw - gx0;
        for (let gx = x0; gx <= x1; gx++) {
          if (mask[row + gx]) continue;
          const cx = gx + 0.5;
          // Distance from the sample to the segment (a capsule of radius r around it).
          let t = len2 > 0 ? ((cx - ax) * dx + (cy - ay) * dy) / len2 : 0;
          t = t < 0 ? 0 : t > 1 ? 1 : t;
          const ex = ax + t * dx - cx;
          const ey = ay + t * dy - cy;
          if (ex * ex + ey * ey <= r2) mask[row + gx] = 1;
        }
      }
    }
    // Box-filter the samples to pixel coverage and composite the stroke over what is there.
    const perPixel = k * k;
    for (let y = by0; y <= by1; y++) {
      for (let x = bx0; x <= bx1; x++) {
        let c = 0;
        const mx = (x - bx0) * k;
        for (let sy = 0; sy < k; sy++) {
          const base = ((y - by0) * k + sy) * mw + mx;
          for (let sx = 0; sx < k; sx++) c += mask[base + sx]!;
        }
        if (c === 0) continue;
        const a = c / perPixel;
        const i = y * size + x;
        acc[i] = acc[i]! + a * (1 - acc[i]!);
      }
    }
  }
  for (let i = 0; i < out.length; i++) out[i] = Math.round(acc[i]! * 255);
  return out;
}

/** Renders drawings into a QuickDrawImages set (28×28), e.g. from readSimplifiedNdjson(). */
export function renderDrawings(drawings: readonly QuickDrawDrawing[], category = drawings[0]?.word ?? 'drawings', source = 'rendered', options: RenderOptions = {}): QuickDrawImages {
  const pixels = new Uint8Array(drawings.length * IMAGE_SIZE);
  drawings.forEach((d, i) => pixels.set(renderStrokes(d.strokes, IMAGE_SIDE, options), i * IMAGE_SIZE));
  return { category, count: drawings.length, width: IMAGE_SIDE, height: IMAGE_SIDE, pixels, source };
}

/** Pearson correlation of two equally long images (NaN when one is constant). */
export function imageCorrelation(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new RangeError(`images differ in size: ${a.length} vs ${b.length}`);
  const n = a.length;
  let ma = 0;
  let mb = 0;
  for (let i = 0; i < n; i++) {
    ma += a[i]!;
    mb += b[i]!;
  }
  ma /= n;
  mb /= n;
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < n; i++) {
    const da = a[i]! - ma;
    const db = b[i]! - mb;
    sab += da * db;
    saa += da * da;
    sbb += db * db;
  }
  return sab / Math.sqrt(saa * sbb);
}

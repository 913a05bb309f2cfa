import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import {
  DownloadError,
  GOOGLE_RENDER,
  NpyFormatError,
  QUICKDRAW_BUCKET_URL,
  SHIPPED_APPLE_NDJSON,
  SHIPPED_CATEGORIES,
  SHIPPED_DIR,
  UnknownCategoryError,
  createProgressBar,
  defaultCacheDir,
  downloadQuickDraw,
  encodeNpy,
  imageCorrelation,
  loadNpyFile,
  loadQuickDraw,
  parseNpy,
  parseSimplifiedNdjson,
  quickDrawUrl,
  readNpy,
  readSimplifiedNdjson,
  renderDrawings,
  renderStrokes,
  toFloatImages,
} from '../gan/data.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lab-gan-data-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
let dirCounter = 0;
const freshDir = (name: string): string => {
  const dir = path.join(tmp, `${name}-${dirCounter++}`);
  fs.mkdirSync(dir, { recursive: true });
  return dir;
};
const write = (name: string, bytes: Uint8Array | string): string => {
  const file = path.join(tmp, name);
  fs.writeFileSync(file, bytes);
  return file;
};
const sum = (a: Uint8Array): number => a.reduce((s, v) => s + v, 0);

/** Deterministic pseudo-images: N×784 bytes. */
function pixelsFor(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n * 784);
  let s = seed >>> 0;
  for (let i = 0; i < out.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s >>> 24;
  }
  return out;
}

/** A .npy file with a hand-written header (any version, any dict text). */
function rawNpy(major: number, dict: string, data: Uint8Array = new Uint8Array(0)): Uint8Array {
  const fixed = major === 1 ? 10 : 12;
  const unpadded = fixed + dict.length + 1;
  const text = dict + ' '.repeat(Math.ceil(unpadded / 64) * 64 - unpadded) + '\n';
  const head = Buffer.alloc(fixed);
  Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, major, 0]).copy(head);
  if (major === 1) head.writeUInt16LE(text.length, 8);
  else head.writeUInt32LE(Buffer.byteLength(text, 'utf8'), 8);
  return Buffer.concat([head, Buffer.from(text, major === 3 ? 'utf8' : 'latin1'), data]);
}

// ---------------------------------------------------------------------------------------------------------------

describe('the shipped Quick, Draw! subset', () => {
  // Pinned from the files (their sha256 are in data/quickdraw/README.md). Means: 37.78, 44.11, 50.85, 39.13, 36.56.
  const PIXEL_SUMS: Record<string, number> = { apple: 88_852_772, bicycle: 103_735_803, cat: 119_610_278, diamond: 92_042_776, fish: 85_982_890 };
  const SHA256: Record<string, string> = {
    apple: '850149064cea62041479dc996f73c3c41719547a215d46fdccc349e70cadc749',
    cat: '2ff608de7d3bdbee13577254e2a3ab59b7af6858554b90b65ca780ffa467ae06',
    fish: 'a5445a8c24d67ca5ca705cf8cab783f8a5191d16fe4850e420ef3b681ebe6655',
    bicycle: 'e41b785c79c48fc1bd7b492b52635079bced24debfb5045f76afe3cdf9859863',
    diamond: '5f83d3f1f067878507ef504c5a8ea71a35cfa3a6a02dde24ffcbf5f414fa9341',
  };

  it('ships the five categories with their attribution', () => {
    expect([...SHIPPED_CATEGORIES]).toEqual(['apple', 'bicycle', 'cat', 'diamond', 'fish']);
    const readme = fs.readFileSync(path.join(SHIPPED_DIR, 'README.md'), 'utf8');
    expect(readme).toContain('CC BY 4.0');
    expect(readme).toContain('Google');
  });

  for (const category of ['apple', 'bicycle', 'cat', 'diamond', 'fish']) {
    it(`${category}.npy: bytes, header, shape, dtype and pixel sum`, async () => {
      const file = path.join(SHIPPED_DIR, `${category}.npy`);
      expect(crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex')).toBe(SHA256[category]);
      const npy = readNpy(file);
      expect(npy.shape).toEqual([3000, 1, 784]);
      expect(npy.dtype).toBe('uint8');
      expect(npy.descr).toBe('|u1');
      expect(npy.version).toBe('1.0');
      expect(npy.dataOffset).toBe(128);
      expect(npy.count).toBe(3000);
      expect(npy.data).toBeInstanceOf(Uint8Array);
      expect(npy.data.length).toBe(3000 * 784);
      expect(sum(npy.data)).toBe(PIXEL_SUMS[category]);

      const images = await loadQuickDraw(category, { download: 'never', cacheDir: freshDir('empty-cache') });
      expect(images).toMatchObject({ category, count: 3000, width: 28, height: 28, source: 'shipped' });
      expect(images.pixels.length).toBe(3000 * 784);
      expect(sum(images.pixels)).toBe(PIXEL_SUMS[category]);
    });
  }

  it('reads only the first rows with a limit', async () => {
    const all = readNpy(path.join(SHIPPED_DIR, 'cat.npy'));
    const some = await loadQuickDraw('cat', { download: 'never', limit: 10, cacheDir: freshDir('empty-cache') });
    expect(some.count).toBe(10);
    expect(some.pixels).toEqual(all.data.subarray(0, 7840));
    expect(readNpy(path.join(SHIPPED_DIR, 'cat.npy'), { limit: 5000 }).count).toBe(3000);
    expect(sum(some.pixels.subarray(0, 784))).toBe(39_550); // cat[0]
  });

  it('converts to floats for training', async () => {
    const images = await loadQuickDraw('apple', { download: 'never', limit: 4, cacheDir: freshDir('empty-cache') });
    const unit = toFloatImages(images, '0,1');
    const signed = toFloatImages(images, '-1,1', 2);
    expect(unit.length).toBe(4 * 784);
    expect(signed.length).toBe(2 * 784);
    for (let i = 0; i < signed.length; i++) {
      expect(unit[i]).toBeCloseTo(images.pixels[i]! / 255, 6);
      expect(signed[i]).toBeCloseTo(images.pixels[i]! / 127.5 - 1, 6);
    }
    expect(Math.min(...signed)).toBe(-1);
    expect(Math.max(...signed)).toBe(1);
  });
});

// ---------------------------------------------------------------------------------------------------------------

describe('.npy files', () => {
  it('reads the (N, 784) and (N, 28, 28) variants, and v2.0/v3.0 headers', () => {
    const pixels = pixelsFor(7, 1);
    for (const shape of [[7, 784], [7, 28, 28], [7, 1, 784]]) {
      const file = write(`shape-${shape.join('x')}.npy`, encodeNpy(pixels, shape));
      const npy = readNpy(file);
      expect(npy.shape).toEqual(shape);
      expect(npy.count).toBe(7);
      expect(npy.data).toEqual(pixels);
      const images = loadNpyFile(file);
      expect(images).toMatchObject({ count: 7, width: 28, height: 28, source: file, category: `shape-${shape.join('x')}` });
    }
    for (const [major, descr] of [[2, '<u1'], [3, 'u1'], [1, '>u1']] as const) {
      const bytes = rawNpy(major, `{"descr": "${descr}", "fortran_order": False, "shape": (7, 28, 28)}`, pixels);
      const npy = parseNpy(bytes, `v${major}.npy`);
      expect(npy.version).toBe(`${major}.0`);
      expect(npy.data).toEqual(pixels);
    }
    expect(loadNpyFile(write('full_numpy_bitmap_cat.npy', encodeNpy(pixels, [7, 784]))).category).toBe('cat');
    expect(readNpy(write('empty-set.npy', encodeNpy(new Uint8Array(0), [0, 784]))).count).toBe(0);
  });

  const refusals: [string, () => Uint8Array | string, RegExp][] = [
    ['bad magic', () => Buffer.concat([Buffer.from('\x93NUMPX', 'latin1'), encodeNpy(pixelsFor(1, 2), [1, 784]).subarray(6)]), /bad magic/],
    ['an empty file', () => new Uint8Array(0), /bad magic .*empty file/],
    ['a truncated header', () => encodeNpy(pixelsFor(1, 2), [1, 784]).subarray(0, 50), /truncated header/],
    ['a truncated length field', () => encodeNpy(pixelsFor(1, 2), [1, 784]).subarray(0, 8), /truncated header/],
    ['an unsupported version', () => rawNpy(1, "{'descr': '|u1', 'fortran_order': False, 'shape': (1, 784), }", pixelsFor(1, 2)).map((b, i) => (i === 6 ? 4 : b)), /unsupported \.npy format version 4\.0/],
    ['an unsupported dtype (<f4)', () => rawNpy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 784), }", new Uint8Array(784 * 4)), /unsupported dtype '<f4'/],
    ['a structured dtype', () => rawNpy(1, "{'descr': [('a', '<u1')], 'fortran_order': False, 'shape': (1, 784), }", new Uint8Array(784)), /structured dtype/],
    ['Fortran order', () => rawNpy(1, "{'descr': '|u1', 'fortran_order': True, 'shape': (1, 784), }", pixelsFor(1, 2)), /Fortran/],
    ['a wrong shape (N, 785)', () => encodeNpy(new Uint8Array(2 * 785), [2, 785]), /unsupported shape \(2, 785\)/],
    ['a wrong shape (784,)', () => encodeNpy(new Uint8Array(784), [784]), /unsupported shape \(784,\)/],
    ['a wrong shape (N, 2, 784)', () => encodeNpy(new Uint8Array(2 * 2 * 784), [2, 2, 784]), /unsupported shape/],
    ['a header without shape', () => rawNpy(1, "{'descr': '|u1', 'fortran_order': False, }"), /no 'shape' key/],
    ['a garbled header', () => rawNpy(1, "{'descr': '|u1', 'fortran_order': False, 'shape': (3, 784"), /malformed header dict/],
    ['truncated data', () => encodeNpy(pixelsFor(10, 3), [10, 784]).subarray(0, 128 + 784 * 6 + 100), /truncated data: .*\(6 whole images of 10\)/],
    ['trailing data', () => Buffer.concat([encodeNpy(pixelsFor(2, 3), [2, 784]), Buffer.alloc(10)]), /10 bytes of trailing data/],
    ['an HTML page saved as .npy', () => '<!DOCTYPE html>\n<html><head><title>Error 404 (Not Found)</title></head><body>Not found</body></html>\n', /HTML/],
    ['a Git LFS pointer', () => 'version https://git-lfs.github.com/spec/v1\noid sha256:abc\nsize 113462128\n', /Git LFS pointer/],
  ];
  for (const [what, make, message] of refusals) {
    it(`refuses ${what}, naming the file`, () => {
      const file = write(`bad-${what.replace(/\W+/g, '-')}.npy`, make());
      for (const attempt of [() => readNpy(file), () => parseNpy(fs.readFileSync(file), file), () => loadNpyFile(file)]) {
        let err: unknown;
        try {
          attempt();
        } catch (e) {
          err = e;
        }
        expect(err).toBeInstanceOf(NpyFormatError);
        expect((err as Error).message).toMatch(message);
        expect((err as Error).message.startsWith(`${file}: `)).toBe(true);
      }
    });
  }

  it('says so when the file does not exist', () => {
    expect(() => readNpy(path.join(tmp, 'nope.npy'))).toThrow(/nope\.npy: no such file/);
  });
});

// ---------------------------------------------------------------------------------------------------------------

describe('simplified ndjson strokes and the renderer', () => {
  const drawings = readSimplifiedNdjson(SHIPPED_APPLE_NDJSON);
  const apples = readNpy(path.join(SHIPPED_DIR, 'apple.npy'), { limit: 100 });
  const row = (i: number): Uint8Array => apples.data.subarray(i * 784, (i + 1) * 784);

  it('reads the shipped 100 apple drawings', () => {
    expect(drawings.length).toBe(100);
    expect(drawings.every((d) => d.word === 'apple')).toBe(true);
    expect(drawings[0]).toMatchObject({ recognized: false, key_id: '6420579601088512', countrycode: 'US' });
    expect(drawings.filter((d) => d.recognized).length).toBe(95);
    expect(drawings[0]!.strokes[0]).toEqual([
      [255, 255],
      [0, 0],
    ]);
  });

  it('matches the shipped bitmaps (row i is drawing i)', () => {
    const rendered = drawings.map((d) => renderStrokes(d.strokes));
    const r = rendered.map((img, i) => imageCorrelation(img, row(i)));
    const mean = r.reduce((a, b) => a + b, 0) / r.length;
    // The acceptance bar is a mean of 0.85 (every drawing ≥ 0.7); the fitted parameters reproduce the bitmaps
    // almost exactly (mean 0.9999, worst 0.9998), so guard that too.
    expect(mean).toBeGreaterThanOrEqual(0.85);
    expect(Math.min(...r)).toBeGreaterThanOrEqual(0.7);
    expect(mean).toBeGreaterThan(0.999);
    expect(Math.min(...r)).toBeGreaterThan(0.999);
    // Each drawing's best match among the 100 rows is its own row.
    for (let i = 0; i < 100; i++) {
      let best = -1;
      let bestR = -Infinity;
      for (let j = 0; j < 100; j++) {
        const c = imageCorrelation(rendered[i]!, row(j));
        if (c > bestR) [best, bestR] = [j, c];
      }
      expect(best).toBe(i);
    }
    // Mean absolute difference under one grey level.
    let diff = 0;
    rendered.forEach((img, i) => img.forEach((v, j) => (diff += Math.abs(v - row(i)[j]!))));
    expect(diff / (100 * 784)).toBeLessThan(0.5);
  });

  it('draws the stray dots of apple 0 where the bitmap has them, and nothing for an empty drawing', () => {
    // Apple 0 starts with four strokes of single points near (255, 0): a dot at row 2, column 25 in the bitmap.
    const at = 2 * 28 + 25;
    expect(row(0)[at]).toBe(255);
    expect(renderStrokes(drawings[0]!.strokes)[at]).toBe(255);
    expect(renderStrokes(drawings[0]!.strokes.slice(4))[at]).toBe(0);
    expect(sum(renderStrokes([]))).toBe(0);
    // A lone dot lands in the middle, symmetric about the centre of the image: at (0, 0) with Google's centring
    // (which assumes drawings start at 0), anywhere with bbox centring.
    for (const dot of [renderStrokes([[[0], [0]]]), renderStrokes([[[128], [40]]], 28, { centring: 'bbox' })]) {
      expect(sum(dot)).toBeGreaterThan(0);
      for (let y = 0; y < 28; y++) for (let x = 0; x < 28; x++) expect(dot[y * 28 + x]).toBe(dot[(27 - y) * 28 + (27 - x)]);
    }
    expect(renderStrokes(drawings[1]!.strokes, 64).length).toBe(64 * 64);
    expect(GOOGLE_RENDER).toMatchObject({ lineWidth: 16, padding: 16 });
  });

  it('renders drawings into an image set', () => {
    const set = renderDrawings(drawings.slice(0, 3));
    expect(set).toMatchObject({ category: 'apple', count: 3, width: 28, height: 28, source: 'rendered' });
    expect(set.pixels.subarray(784, 1568)).toEqual(renderStrokes(drawings[1]!.strokes));
  });

  it('refuses malformed ndjson with the file and line', () => {
    expect(() => parseSimplifiedNdjson('{"word":"cat","drawing":[]}\n{oops\n', 'x.ndjson')).toThrow('x.ndjson: line 2: not valid JSON');
    expect(() => parseSimplifiedNdjson('{"word":"cat","drawing":[[[1,2],[3]]]}', 'x.ndjson')).toThrow(/line 1: stroke 0 needs equally long/);
    expect(() => parseSimplifiedNdjson('{"word":"cat","drawing":[[[1],[2],[0]]]}', 'x.ndjson')).toThrow(/raw format/);
    expect(() => parseSimplifiedNdjson('{"drawing":[]}', 'x.ndjson')).toThrow(/line 1: no "word"/);
    expect(() => readSimplifiedNdjson(path.join(tmp, 'none.ndjson'))).toThrow(/none\.ndjson: cannot read \(ENOENT\)/);
  });
});

// ---------------------------------------------------------------------------------------------------------------

interface Served {
  /** Raw request URL paths and Range headers, in order. */
  log: { url: string; range: string | undefined }[];
  baseUrl: string;
  close: () => Promise<void>;
}

type Behaviour = {
  /** Cut the connection after this many bytes, on the first `cuts` responses (default 1). */
  cutAfter?: number;
  cuts?: number;
  /** Announce this Content-Length on 200 responses (and send the whole file anyway). */
  lieLength?: number;
  /** Announce this total in Content-Range on 206 responses. */
  lieTotal?: number;
  /** Answer with an HTML page instead. */
  html?: boolean;
  /** Ignore Range headers (always answer 200 with the whole file). */
  ignoreRange?: boolean;
  /** Send this many bytes, then nothing more (the connection stays open). */
  stallAfter?: number;
};

/** A local bucket: serves `files` (by decoded name) with Range support, and misbehaves as asked. */
async function serve(files: Record<string, Uint8Array>, behaviour: Behaviour = {}): Promise<Served> {
  const log: Served['log'] = [];
  let cutsLeft = behaviour.cuts ?? 1;
  const server = http.createServer((req, res) => {
    log.push({ url: req.url ?? '', range: req.headers.range });
    const name = decodeURIComponent((req.url ?? '').replace(/^\//, '').replace(/\.npy$/, ''));
    if (behaviour.html) {
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
      res.end('<!DOCTYPE html><html><body>Sign in to continue</body></html>');
      return;
    }
    const body = files[name];
    if (!body) {
      res.writeHead(404, { 'Content-Type': 'application/xml' });
      res.end('<?xml version="1.0"?><Error><Code>NoSuchKey</Code></Error>');
      return;
    }
    let start = 0;
    const m = behaviour.ignoreRange ? null : /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    if (m) {
      start = Number(m[1]);
      if (start >= body.length) {
        res.writeHead(416, { 'Content-Range': `bytes */${body.length}` });
        res.end();
        return;
      }
      res.writeHead(206, {
        'Content-Type': 'application/octet-stream',
        'Content-Length': String(body.length - start),
        'Content-Range': `bytes ${start}-${body.length - 1}/${behaviour.lieTotal ?? body.length}`,
      });
    } else {
      res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': String(behaviour.lieLength ?? body.length), Connection: 'close' });
    }
    const rest = body.subarray(start);
    if (behaviour.stallAfter !== undefined) {
      res.write(rest.subarray(0, behaviour.stallAfter));
      return;
    }
    if (behaviour.cutAfter !== undefined && cutsLeft > 0 && rest.length > behaviour.cutAfter) {
      cutsLeft--;
      res.write(rest.subarray(0, behaviour.cutAfter), () => setTimeout(() => res.destroy(), 50));
      return;
    }
    res.end(rest);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    log,
    baseUrl: `http://127.0.0.1:${port}/`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

describe('downloading from the bucket', () => {
  const tiny = encodeNpy(pixelsFor(200, 7), [200, 784]); // 156,928 bytes
  const eiffel = encodeNpy(pixelsFor(3, 8), [3, 784]);
  const quiet = { retryDelayMs: 10, onWarning: () => undefined };
  let servers: Served[] = [];
  const start = async (behaviour: Behaviour = {}): Promise<Served> => {
    const s = await serve({ tiny, 'The Eiffel Tower': eiffel, apple: tiny }, behaviour);
    servers.push(s);
    return s;
  };
  afterAll(async () => {
    await Promise.all(servers.map((s) => s.close()));
    servers = [];
  });
  let savedEnv: string | undefined;
  beforeAll(() => {
    savedEnv = process.env.LAB_CACHE_DIR;
  });
  afterAll(() => {
    if (savedEnv === undefined) delete process.env.LAB_CACHE_DIR;
    else process.env.LAB_CACHE_DIR = savedEnv;
  });

  it('builds bucket URLs and the default cache directory', () => {
    expect(quickDrawUrl('apple')).toBe(`${QUICKDRAW_BUCKET_URL}/apple.npy`);
    expect(quickDrawUrl('hot air balloon')).toBe('https://storage.googleapis.com/quickdraw_dataset/full/numpy_bitmap/hot%20air%20balloon.npy');
    process.env.LAB_CACHE_DIR = '/somewhere/cache';
    expect(defaultCacheDir()).toBe(path.join('/somewhere/cache', 'quickdraw'));
    delete process.env.LAB_CACHE_DIR;
    expect(defaultCacheDir()).toBe(path.join(os.homedir(), '.cache', 'rl-gan-lab', 'quickdraw'));
  });

  it('downloads the whole file with progress, then uses the cache', async () => {
    const s = await start();
    const cacheDir = freshDir('cache');
    const progress: [number, number | null][] = [];
    const images = await loadQuickDraw('tiny', { ...quiet, baseUrl: s.baseUrl, cacheDir, onProgress: (d, t) => progress.push([d, t]) });
    expect(images).toMatchObject({ category: 'tiny', count: 200, source: 'download' });
    expect(images.pixels).toEqual(pixelsFor(200, 7));
    expect(fs.readFileSync(path.join(cacheDir, 'tiny.npy'))).toEqual(Buffer.from(tiny));
    expect(fs.existsSync(path.join(cacheDir, 'tiny.npy.part'))).toBe(false);
    expect(progress[0]).toEqual([0, tiny.length]);
    expect(progress.at(-1)).toEqual([tiny.length, tiny.length]);
    for (let i = 1; i < progress.length; i++) expect(progress[i]![0]).toBeGreaterThanOrEqual(progress[i - 1]![0]);
    expect(s.log).toEqual([{ url: '/tiny.npy', range: undefined }]);

    const again = await loadQuickDraw('tiny', { ...quiet, baseUrl: s.baseUrl, cacheDir, limit: 5 });
    expect(again).toMatchObject({ count: 5, source: 'cache' });
    expect(s.log.length).toBe(1);
    const fresh = await loadQuickDraw('tiny', { ...quiet, baseUrl: s.baseUrl, cacheDir, download: 'always', onProgress: () => undefined });
    expect(fresh.source).toBe('download');
    expect(s.log.length).toBe(2);
  });

  it('keeps the .part file when the connection is cut and resumes it with a Range request', async () => {
    const s = await start({ cutAfter: 60_000 });
    const cacheDir = freshDir('cache');
    const part = path.join(cacheDir, 'tiny.npy.part');
    const err = await loadQuickDraw('tiny', { ...quiet, baseUrl: s.baseUrl, cacheDir, retries: 0, onProgress: () => undefined }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DownloadError);
    expect((err as Error).message).toMatch(/download interrupted after \d+ of 156928 bytes/);
    const kept = fs.statSync(part).size;
    expect(kept).toBeGreaterThan(0);
    expect(kept).toBeLessThanOrEqual(60_000);
    expect(fs.existsSync(path.join(cacheDir, 'tiny.npy'))).toBe(false);

    const progress: number[] = [];
    const images = await loadQuickDraw('tiny', { ...quiet, baseUrl: s.baseUrl, cacheDir, onProgress: (d) => progress.push(d) });
    expect(images.source).toBe('download');
    expect(fs.readFileSync(path.join(cacheDir, 'tiny.npy'))).toEqual(Buffer.from(tiny));
    expect(fs.existsSync(part)).toBe(false);
    expect(s.log.map((r) => r.range)).toEqual([undefined, `bytes=${kept}-`]);
    expect(progress[0]).toBe(kept);
  });

  it('resumes by itself within one call', async () => {
    const s = await start({ cutAfter: 40_000, cuts: 2 });
    const cacheDir = freshDir('cache');
    const images = await loadQuickDraw('tiny', { ...quiet, baseUrl: s.baseUrl, cacheDir, onProgress: () => undefined });
    expect(images.pixels).toEqual(pixelsFor(200, 7));
    expect(s.log.length).toBe(3);
    expect(s.log[1]!.range).toMatch(/^bytes=\d+-$/);
    expect(s.log[2]!.range).toMatch(/^bytes=\d+-$/);
  });

  it('starts over when the server ignores the Range header', async () => {
    const s = await start({ cutAfter: 30_000, ignoreRange: true });
    const cacheDir = freshDir('cache');
    const images = await loadQuickDraw('tiny', { ...quiet, baseUrl: s.baseUrl, cacheDir, onProgress: () => undefined });
    expect(images.pixels).toEqual(pixelsFor(200, 7));
    expect(s.log.length).toBe(2);
    expect(s.log[1]!.range).toMatch(/^bytes=\d+-$/);
  });

  it('gives up on a stalled transfer after the timeout, keeping the .part file', async () => {
    const s = await start({ stallAfter: 10_000 });
    const cacheDir = freshDir('cache');
    const err = await downloadQuickDraw('tiny', { ...quiet, baseUrl: s.baseUrl, cacheDir, retries: 0, timeoutMs: 300 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DownloadError);
    expect((err as DownloadError).resumable).toBe(true);
    expect((err as Error).message).toMatch(/interrupted after 10000 of 156928 bytes \(no data for 0\.3 s\)/);
    expect(fs.statSync(path.join(cacheDir, 'tiny.npy.part')).size).toBe(10_000);
  });

  it('treats a complete .part (HTTP 416) as done', async () => {
    const s = await start();
    const cacheDir = freshDir('cache');
    fs.writeFileSync(path.join(cacheDir, 'tiny.npy.part'), tiny);
    const images = await loadQuickDraw('tiny', { ...quiet, baseUrl: s.baseUrl, cacheDir, onProgress: () => undefined });
    expect(images.count).toBe(200);
    expect(s.log).toEqual([{ url: '/tiny.npy', range: `bytes=${tiny.length}-` }]);
  });

  it('refuses a file whose size does not match the .npy header (server understates Content-Length)', async () => {
    const s = await start({ lieLength: tiny.length - 5000 });
    const cacheDir = freshDir('cache');
    const err = await downloadQuickDraw('tiny', { ...quiet, baseUrl: s.baseUrl, cacheDir }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DownloadError);
    expect((err as Error).message).toMatch(/not a valid Quick, Draw! bitmap file \(truncated data/);
    expect(fs.readdirSync(cacheDir)).toEqual([]);
  });

  it('refuses a transfer whose size differs from the announced one', async () => {
    // The server's Content-Range announces more bytes than it has.
    const s = await start({ lieTotal: tiny.length + 5000 });
    const cacheDir = freshDir('cache');
    fs.writeFileSync(path.join(cacheDir, 'tiny.npy.part'), tiny.subarray(0, 1000));
    const err = await downloadQuickDraw('tiny', { ...quiet, baseUrl: s.baseUrl, cacheDir }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DownloadError);
    expect((err as Error).message).toMatch(/size mismatch: received 156928 bytes, the server announced 161928/);
    expect(fs.readdirSync(cacheDir)).toEqual([]);
    // A response body shorter than its Content-Length (through fetchImpl).
    const shortBody: typeof fetch = async () => new Response(tiny.subarray(0, 1000), { status: 200, headers: { 'content-length': String(tiny.length) } });
    const err2 = await downloadQuickDraw('tiny', { ...quiet, cacheDir, fetchImpl: shortBody }).catch((e: unknown) => e);
    expect((err2 as Error).message).toMatch(/size mismatch: received 1000 bytes, the server announced 156928/);
  });

  it('refuses an HTML page', async () => {
    const s = await start({ html: true });
    const cacheDir = freshDir('cache');
    const err = await downloadQuickDraw('tiny', { ...quiet, baseUrl: s.baseUrl, cacheDir }).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/sent an HTML page/);
    // Without a Content-Type, the .npy check catches it.
    const html = '<!DOCTYPE html><html><body>Sign in</body></html>';
    const untyped: typeof fetch = async () => new Response(html, { status: 200, headers: { 'content-length': String(html.length) } });
    const err2 = await downloadQuickDraw('tiny', { ...quiet, cacheDir, fetchImpl: untyped }).catch((e: unknown) => e);
    expect((err2 as Error).message).toMatch(/not a valid Quick, Draw! bitmap file \(it is an HTML\/XML page/);
    expect(fs.readdirSync(cacheDir)).toEqual([]);
  });

  it('encodes spaces in category names', async () => {
    const s = await start();
    const cacheDir = freshDir('cache');
    const images = await loadQuickDraw('The Eiffel Tower', { ...quiet, baseUrl: s.baseUrl, cacheDir, onProgress: () => undefined });
    expect(images).toMatchObject({ category: 'The Eiffel Tower', count: 3, source: 'download' });
    expect(s.log[0]!.url).toBe('/The%20Eiffel%20Tower.npy');
    expect(fs.existsSync(path.join(cacheDir, 'The Eiffel Tower.npy'))).toBe(true);
  });

  it('falls back to the shipped subset, with a warning, when the server is down', async () => {
    const s = await start();
    await s.close();
    const warnings: string[] = [];
    const images = await loadQuickDraw('apple', { baseUrl: s.baseUrl, cacheDir: freshDir('cache'), onWarning: (m) => warnings.push(m), onProgress: () => undefined });
    expect(images).toMatchObject({ category: 'apple', count: 3000, source: 'shipped' });
    expect(warnings.length).toBe(1);
    expect(warnings[0]).toMatch(/could not download "apple" \(cannot download http:\/\/127\.0\.0\.1:\d+\/apple\.npy: .*ECONNREFUSED/);
    expect(warnings[0]).toMatch(/CC BY 4\.0/);
    // Offline with the real bucket URL: the fetch fails, the shipped subset is used.
    const urls: string[] = [];
    const offline: typeof fetch = async (input) => {
      urls.push(String(input));
      throw new TypeError('fetch failed', { cause: { code: 'ENOTFOUND' } });
    };
    const cats = await loadQuickDraw('cat', { fetchImpl: offline, cacheDir: freshDir('cache'), onWarning: (m) => warnings.push(m), limit: 3 });
    expect(cats).toMatchObject({ count: 3, source: 'shipped' });
    expect(urls).toEqual([`${QUICKDRAW_BUCKET_URL}/cat.npy`]);
    expect(warnings[1]).toMatch(/ENOTFOUND/);
  });

  it('prefers the cache, and re-downloads a damaged one', async () => {
    const s = await start();
    const cacheDir = freshDir('cache');
    fs.writeFileSync(path.join(cacheDir, 'apple.npy'), encodeNpy(pixelsFor(2, 9), [2, 28, 28]));
    expect(await loadQuickDraw('apple', { download: 'never', cacheDir })).toMatchObject({ count: 2, source: 'cache' });
    fs.writeFileSync(path.join(cacheDir, 'tiny.npy'), tiny.subarray(0, 5000));
    await expect(loadQuickDraw('tiny', { download: 'never', cacheDir })).rejects.toThrow(/tiny\.npy: truncated data.*download: 'always'/);
    const warnings: string[] = [];
    const images = await loadQuickDraw('tiny', { baseUrl: s.baseUrl, cacheDir, onWarning: (m) => warnings.push(m), onProgress: () => undefined });
    expect(images).toMatchObject({ count: 200, source: 'download' });
    expect(warnings[0]).toMatch(/tiny\.npy is damaged \(truncated data.*downloading it again/);
  });

  it('says which categories exist when one is unknown', async () => {
    const s = await start();
    const cacheDir = freshDir('cache');
    const err = await loadQuickDraw('unicorn', { ...quiet, baseUrl: s.baseUrl, cacheDir }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnknownCategoryError);
    expect((err as Error).message).toMatch(/unknown Quick, Draw! category "unicorn": .*unicorn\.npy answered 404/);
    expect((err as Error).message).toMatch(/apple, bicycle, cat, diamond, fish/);
    expect((err as Error).message).toMatch(/categories\.txt/);
    expect(fs.readdirSync(cacheDir)).toEqual([]);

    await expect(loadQuickDraw('unicorn', { download: 'never', cacheDir })).rejects.toThrow(/"unicorn" is not available offline.*apple, bicycle, cat, diamond, fish/);
    await expect(loadQuickDraw('../etc/passwd', { download: 'never', cacheDir })).rejects.toThrow(UnknownCategoryError);
    await expect(loadQuickDraw('apple.npy', { download: 'never', cacheDir })).rejects.toThrow(/without it, or load a file with loadNpyFile/);
    // Unreachable and not shipped: the error says both.
    const down = await loadQuickDraw('unicorn', { ...quiet, cacheDir, fetchImpl: async () => Promise.reject(new TypeError('fetch failed')) }).catch((e: unknown) => e);
    expect(down).toBeInstanceOf(DownloadError);
    expect((down as Error).message).toMatch(/could not download Quick, Draw! category "unicorn": .*not shipped for offline use.*apple, bicycle/);
  });

  it('draws a progress bar: in place on a terminal, plain lines otherwise', () => {
    const capture = (isTTY: boolean): string => {
      let text = '';
      const out = Object.assign(new Writable({ write: (c: Buffer, _e, cb) => ((text += c.toString()), cb()) }), { isTTY });
      const bar = createProgressBar('cat.npy', out);
      for (let done = 0; done <= 1_000_000; done += 50_000) bar.update(done, 1_000_000);
      bar.end();
      return text;
    };
    const plain = capture(false).trim().split('\n');
    expect(plain.length).toBe(11);
    expect(plain[0]).toMatch(/^cat\.npy \[ {24}\] {3}0% 0\.0\/1\.0 MB/);
    expect(plain.at(-1)).toMatch(/^cat\.npy \[={24}\] 100% 1\.0\/1\.0 MB/);
    const tty = capture(true);
    expect(tty.startsWith('\rcat.npy [')).toBe(true);
    expect(tty).toMatch(/100% 1\.0\/1\.0 MB [\d.]+ MB\/s\x1b\[K\n$/);
  });
});

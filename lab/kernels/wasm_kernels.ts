/**
 * Faster / missing training kernels for the tfjs wasm backend (XNNPACK, SIMD).
 *
 * `registerWasmKernels()` replaces or adds, for backendName 'wasm':
 *
 *  - BatchMatMul and _FusedMatMul: the wasm C++ kernel only uses XNNPACK when neither
 *    operand is transposed and the batch is 1; everything else goes to a naive blocked
 *    loop (~15x slower, and wrong for _FusedMatMul with a bias). Transposed operands are
 *    materialised (wasm Transpose kernel or a tiled JS loop over the heap, whichever is
 *    faster for the shape) and the XNNPACK path is used; batched products are folded into
 *    one GEMM when B is broadcast, or run batch by batch on zero-copy views of the heap.
 *    A small cost model keeps tiny products on the original kernel.
 *  - Conv2DBackpropFilter (missing on wasm): a forward XNNPACK convolution of the input
 *    with batch and channels swapped ([ci,H,W,n]) by dy as the filter ([OH,OW,n,co]),
 *    dilated by the stride; or, for small patches (fh*fw*ci <= co), one GEMM of a JS im2col
 *    by dy.
 *  - Conv2DBackpropInput: sub-pixel (polyphase) decomposition into stride-1 forward
 *    XNNPACK convolutions of dy by the rotated, channel-swapped filter taps of each output
 *    phase (no multiply-by-zero work), or all phases in one convolution ('combined',
 *    better for few input channels), or dy · W^T plus a JS col2im gather ('gemm', for
 *    small fh*fw*ci); a cost model picks one.
 *
 * NCHW is handled by transposing to NHWC. Everything else (dtype other than float32,
 * broadcasting batch shapes) goes to the original kernels.
 */
import * as tf from '@tensorflow/tfjs';
import type { KernelConfig, KernelFunc, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs';

type DataType = TensorInfo['dtype'];

interface WasmTensorData {
  id: number;
  memoryOffset: number;
  shape: number[];
  dtype: DataType;
  refCount: number;
}

interface WasmModuleLike {
  HEAPF32: Float32Array;
  HEAPU8: Uint8Array;
  cwrap: (name: string, ret: null, args: string[]) => (...args: unknown[]) => void;
  tfjs: { disposeData: (id: number) => void };
}

/** The parts of tfjs-backend-wasm's BackendWasm that the kernels below use. */
interface WasmBackend {
  wasm: WasmModuleLike;
  dataIdMap: {
    get(dataId: object): WasmTensorData | undefined;
    delete(dataId: object): boolean;
  };
  makeOutput(shape: number[], dtype: DataType, memoryOffset?: number): TensorInfo;
  disposeData(dataId: object, force?: boolean): boolean;
}

type Args = { inputs: Record<string, TensorInfo | undefined>; backend: WasmBackend; attrs: NamedAttrMap };
type Fn = (args: Args) => TensorInfo;

const BACKEND = 'wasm';

/** Original kernels, captured on the first registration. */
const originals: Partial<Record<string, KernelConfig>> = {};
/** Our kernel functions, to make registration idempotent. */
const ours = new Set<KernelFunc>();

// ---------------------------------------------------------------------------
// Heap helpers

function dataOf(backend: WasmBackend, t: TensorInfo): WasmTensorData {
  const d = backend.dataIdMap.get(t.dataId);
  if (d == null) throw new Error('wasm_kernels: tensor data not found on the wasm backend');
  return d;
}

function sizeOf(shape: readonly number[]): number {
  let s = 1;
  for (const d of shape) s *= d;
  return s;
}

/** Float32 view of a tensor's data; re-fetch after any allocation (the heap may grow). */
function f32(backend: WasmBackend, t: TensorInfo): Float32Array {
  const off = dataOf(backend, t).memoryOffset;
  return new Float32Array(backend.wasm.HEAPF32.buffer, off, sizeOf(t.shape));
}

/** A tensor registered on part of another tensor's memory (no allocation, no copy). */
function makeView(backend: WasmBackend, base: TensorInfo, elemOffset: number, shape: number[]): TensorInfo {
  const off = dataOf(backend, base).memoryOffset + elemOffset * 4;
  return backend.makeOutput(shape, 'float32', off);
}

/** Unregisters a view made by makeView without freeing the memory it points to. */
function disposeView(backend: WasmBackend, view: TensorInfo): void {
  const d = backend.dataIdMap.get(view.dataId);
  if (d == null) return;
  backend.wasm.tfjs.disposeData(d.id);
  backend.dataIdMap.delete(view.dataId);
}

function dispose(backend: WasmBackend, ...ts: (TensorInfo | null | undefined)[]): void {
  for (const t of ts) if (t != null) backend.disposeData(t.dataId);
}

/** Same data, different shape (the wasm kernels only read `shape` off the TensorInfo). */
function reshaped(t: TensorInfo, shape: number[]): TensorInfo {
  return { dataId: t.dataId, shape, dtype: t.dtype };
}

function orig(name: string): Fn {
  const k = originals[name];
  if (k == null) throw new Error(`wasm_kernels: original ${name} kernel for wasm is not registered`);
  return k.kernelFunc as unknown as Fn;
}

function transpose(backend: WasmBackend, x: TensorInfo, perm: number[]): TensorInfo {
  return orig('Transpose')({ inputs: { x }, backend, attrs: { perm } });
}

/**
 * Swaps the last two axes. The wasm Transpose kernel is fast only when the rows are
 * short; otherwise a cache-blocked JS loop over the heap is ~2-3x faster.
 */
function transposeLast2(backend: WasmBackend, x: TensorInfo): TensorInfo {
  const r = x.shape.length;
  const R = x.shape[r - 2]!;
  const C = x.shape[r - 1]!;
  const outShape = [...x.shape.slice(0, -2), C, R];
  if (R <= 64 || x.dtype !== 'float32') {
    const perm = x.shape.map((_, i) => i);
    perm[r - 2] = r - 1;
    perm[r - 1] = r - 2;
    return transpose(backend, x, perm);
  }
  const out = backend.makeOutput(outShape, 'float32');
  const src = f32(backend, x);
  const dst = f32(backend, out);
  const batch = sizeOf(x.shape.slice(0, -2));
  const B = 32;
  for (let b = 0; b < batch; b++) {
    const base = b * R * C;
    for (let i0 = 0; i0 < R; i0 += B) {
      const i1 = Math.min(R, i0 + B);
      for (let j0 = 0; j0 < C; j0 += B) {
        const j1 = Math.min(C, j0 + B);
        for (let i = i0; i < i1; i++) {
          let s = base + i * C + j0;
          let d = base + j0 * R + i;
          for (let j = j0; j < j1; j++, s++, d += R) dst[d] = src[s]!;
        }
      }
    }
  }
  return out;
}

/**
 * [A, S, B] -> [B, S, A] (NHWC -> CHWN for a 4-D tensor). The wasm Transpose kernel thrashes
 * the cache on big tensors of this permutation (47 ms for 128x28x28x64); a tiled JS loop
 * takes ~10 ms.
 */
function swapOuterInner(backend: WasmBackend, x: TensorInfo): TensorInfo {
  const r = x.shape.length;
  const A = x.shape[0]!;
  const B = x.shape[r - 1]!;
  const S = sizeOf(x.shape.slice(1, -1));
  if (A * S * B < (1 << 20) || A < 8 || B < 8 || x.dtype !== 'float32') {
    const perm = x.shape.map((_, i) => i);
    perm[0] = r - 1;
    perm[r - 1] = 0;
    return transpose(backend, x, perm);
  }
  const out = backend.makeOutput([B, ...x.shape.slice(1, -1), A], 'float32');
  const src = f32(backend, x);
  const dst = f32(backend, out);
  const T = 8;
  const SB = S * B;
  for (let s = 0; s < S; s++) {
    for (let a0 = 0; a0 < A; a0 += T) {
      const a1 = Math.min(A, a0 + T);
      for (let b = 0; b < B; b++) {
        let d = (b * S + s) * A + a0;
        let i = (a0 * S + s) * B + b;
        for (let a = a0; a < a1; a++, d++, i += SB) dst[d] = src[i]!;
      }
    }
  }
  return out;
}

// ---------------------------------------------------------------------------
// BatchMatMul / _FusedMatMul

/**
 * Rough cost model (ns, measured on wasm SIMD, 1 thread): the original's naive loop
 * costs ~0.75 ns per multiply-add; the XNNPACK path costs a call overhead, the
 * transposes, packing B (~2.2 ns per element, N rounded up to 8) and ~0.05 ns per MAC.
 */
function xnnPathIsCheaper(M: number, K: number, N: number, tA: boolean, tB: boolean, batch: number, packs: number): boolean {
  const N8 = Math.ceil(N / 8) * 8;
  const naive = 0.75 * M * K * N * batch;
  const fast = batch * (5000 + (tA ? 1.5 * M * K : 0) + (tB ? 1.5 * K * N : 0) + 0.05 * M * K * N8) + packs * 2.2 * K * N8;
  return fast < naive;
}

const rawMatMuls = new WeakMap<WasmModuleLike, (...args: unknown[]) => void>();
function rawBatchMatMul(backend: WasmBackend): (...args: unknown[]) => void {
  let f = rawMatMuls.get(backend.wasm);
  if (f == null) {
    f = backend.wasm.cwrap('BatchMatMul', null, [
      'number', 'array', 'number', 'number', 'array', 'number', 'number', 'number', 'number',
    ]);
    rawMatMuls.set(backend.wasm, f);
  }
  return f;
}

function shapeBytes(shape: number[]): Uint8Array {
  return new Uint8Array(new Int32Array(shape).buffer);
}

interface MatMulPlan {
  M: number;
  K: number;
  N: number;
  batchA: number;
  batchB: number;
  outShape: number[];
}

function planMatMul(a: TensorInfo, b: TensorInfo, tA: boolean, tB: boolean): MatMulPlan | null {
  const ra = a.shape.length;
  const rb = b.shape.length;
  if (ra < 2 || rb < 2) return null;
  const M = tA ? a.shape[ra - 1]! : a.shape[ra - 2]!;
  const K = tA ? a.shape[ra - 2]! : a.shape[ra - 1]!;
  const Kb = tB ? b.shape[rb - 1]! : b.shape[rb - 2]!;
  const N = tB ? b.shape[rb - 2]! : b.shape[rb - 1]!;
  if (K !== Kb) return null; // let the original produce its error
  const outerA = a.shape.slice(0, -2);
  const outerB = b.shape.slice(0, -2);
  const batchA = sizeOf(outerA);
  const batchB = sizeOf(outerB);
  let outer: number[];
  try {
    outer = tf.broadcast_util.assertAndGetBroadcastShape(outerA, outerB);
  } catch {
    return null;
  }
  // Only shapes whose batches line up one-to-one (or with one side of batch 1).
  if (batchA !== 1 && batchB !== 1) {
    const strip = (s: number[]) => {
      const r = s.slice();
      while (r.length && r[0] === 1) r.shift();
      return r;
    };
    const sa = strip(outerA);
    const sb = strip(outerB);
    if (sa.length !== sb.length || sa.some((d, i) => d !== sb[i])) return null;
  }
  if (M * N * K === 0) return null;
  return { M, K, N, batchA, batchB, outShape: [...outer, M, N] };
}

function batchMatMul(args: Args): TensorInfo {
  const { backend, attrs } = args;
  const a = args.inputs['a']!;
  const b = args.inputs['b']!;
  const tA = !!attrs['transposeA'];
  const tB = !!attrs['transposeB'];
  const original = orig('BatchMatMul');
  if (a.dtype !== 'float32' || b.dtype !== 'float32') return original(args);
  const plan = planMatMul(a, b, tA, tB);
  if (plan == null) return original(args);
  const { M, K, N, batchA, batchB, outShape } = plan;
  const batched = batchA > 1 || batchB > 1;
  if (!tA && !tB && !batched) return original(args); // already the XNNPACK path
  const nBatch = Math.max(batchA, batchB);
  if (!xnnPathIsCheaper(M, K, N, tA, tB, nBatch, batchB === 1 ? 1 : nBatch)) return original(args);

  const at = tA ? transposeLast2(backend, a) : null; // [..., M, K]
  const bt = tB ? transposeLast2(backend, b) : null; // [..., K, N]
  const A = at ?? a;
  const B = bt ?? b;
  try {
    if (batchB === 1) {
      // B broadcast: fold A's batch into its rows, one XNNPACK GEMM.
      const out = original({
        inputs: { a: reshaped(A, [1, batchA * M, K]), b: reshaped(B, [1, K, N]) },
        backend,
        attrs: { transposeA: false, transposeB: false },
      });
      out.shape = outShape;
      return out;
    }
    // One GEMM per batch on zero-copy views of the heap.
    const out = backend.makeOutput([nBatch, M, N], 'float32');
    const raw = rawBatchMatMul(backend);
    const aShape = shapeBytes([1, M, K]);
    const bShape = shapeBytes([1, K, N]);
    for (let i = 0; i < nBatch; i++) {
      const av = makeView(backend, A, batchA === 1 ? 0 : i * M * K, [1, M, K]);
      const bv = makeView(backend, B, i * K * N, [1, K, N]);
      const ov = makeView(backend, out, i * M * N, [1, M, N]);
      raw(dataOf(backend, av).id, aShape, 3, dataOf(backend, bv).id, bShape, 3, 0, 0, dataOf(backend, ov).id);
      disposeView(backend, av);
      disposeView(backend, bv);
      disposeView(backend, ov);
    }
    out.shape = outShape;
    return out;
  } finally {
    dispose(backend, at, bt);
  }
}

/**
 * _FusedMatMul. Besides being slow, the original's fallback loop (any transpose, or batch > 1)
 * gets the bias wrong (rows after the first all get the last bias element; added once per
 * 48-wide block of K) and clamps partial sums for the activation; such products never go to it.
 */
function fusedMatMul(args: Args): TensorInfo {
  const { backend, attrs } = args;
  const a = args.inputs['a']!;
  const b = args.inputs['b']!;
  const tA = !!attrs['transposeA'];
  const tB = !!attrs['transposeB'];
  const original = orig('_FusedMatMul');
  if (a.dtype !== 'float32' || b.dtype !== 'float32' || a.shape.length !== 3 || b.shape.length !== 3) {
    return original(args);
  }
  const plan = planMatMul(a, b, tA, tB);
  if (plan == null) return original(args);
  const { M, K, N, batchA, batchB, outShape } = plan;
  const nBatch = Math.max(batchA, batchB);
  if (!tA && !tB && nBatch === 1) return original(args); // already the XNNPACK path
  // The original's fallback loop indexes a rank-1 bias as bias[min(i*N + j, N-1)] and adds it
  // (and clamps for the activation) once per 48-wide block of K: only plain products are safe.
  const activation = (attrs['activation'] as string | undefined) ?? 'linear';
  const fallbackIsWrong = args.inputs['bias'] != null || activation !== 'linear';
  if (!fallbackIsWrong && !xnnPathIsCheaper(M, K, N, tA, tB, nBatch, nBatch)) return original(args);

  const at = tA ? transposeLast2(backend, a) : null; // [bA, M, K]
  const bt = tB ? transposeLast2(backend, b) : null; // [bB, K, N]
  const A = at ?? a;
  const B = bt ?? b;
  const fusedAttrs = { ...attrs, transposeA: false, transposeB: false };
  try {
    if (nBatch === 1) return original({ inputs: { ...args.inputs, a: A, b: B }, backend, attrs: fusedAttrs });
    // One XNNPACK product per batch on views of the heap; each result is copied into place.
    // A shared B keeps one view, so XNNPACK packs it once.
    const out = backend.makeOutput(outShape, 'float32');
    const sharedB = batchB === 1 ? makeView(backend, B, 0, [1, K, N]) : null;
    try {
      for (let i = 0; i < nBatch; i++) {
        const av = makeView(backend, A, batchA === 1 ? 0 : i * M * K, [1, M, K]);
        const bv = sharedB ?? makeView(backend, B, i * K * N, [1, K, N]);
        let res: TensorInfo;
        try {
          res = original({ inputs: { ...args.inputs, a: av, b: bv }, backend, attrs: fusedAttrs });
        } finally {
          disposeView(backend, av);
          if (bv !== sharedB) disposeView(backend, bv);
        }
        f32(backend, out).set(f32(backend, res), i * M * N);
        dispose(backend, res);
      }
    } finally {
      if (sharedB) disposeView(backend, sharedB);
    }
    return out;
  } finally {
    dispose(backend, at, bt);
  }
}

// ---------------------------------------------------------------------------
// Convolutions

type ConvInfo = ReturnType<typeof tf.backend_util.computeConv2DInfo>;

function conv2dInfo(xShape: number[], filterShape: number[], attrs: NamedAttrMap): ConvInfo {
  const dataFormat = tf.backend_util.convertConv2DDataFormat((attrs['dataFormat'] as 'NHWC' | 'NCHW') ?? 'NHWC');
  return tf.backend_util.computeConv2DInfo(
    xShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    attrs['strides'] as number | [number, number],
    1,
    attrs['pad'] as 'valid' | 'same' | number,
    attrs['dimRoundingMode'] as 'floor' | 'round' | 'ceil' | undefined,
    false,
    dataFormat,
  );
}

type ExplicitPad = [[number, number], [number, number], [number, number], [number, number]];

/** Forward XNNPACK conv2d (NHWC, stride 1, explicit padding) through the original wasm kernel. */
function conv2dRaw(
  backend: WasmBackend,
  x: TensorInfo,
  filter: TensorInfo,
  pads: [number, number, number, number], // top, bottom, left, right
  dilations: [number, number],
): TensorInfo {
  const pad: ExplicitPad = [[0, 0], [pads[0], pads[1]], [pads[2], pads[3]], [0, 0]];
  return orig('Conv2D')({
    inputs: { x, filter },
    backend,
    attrs: { strides: [1, 1], pad, dataFormat: 'NHWC', dilations, dimRoundingMode: undefined } as unknown as NamedAttrMap,
  });
}

/** Copies `len` floats; a plain loop beats subarray().set() for short runs. */
function copyRun(dst: Float32Array, d: number, src: Float32Array, s: number, len: number): void {
  if (len < 16) {
    for (let i = 0; i < len; i++) dst[d + i] = src[s + i]!;
  } else {
    dst.set(src.subarray(s, s + len), d);
  }
}

const roundUp8 = (v: number) => Math.ceil(v / 8) * 8;

/**
 * Testing / benchmarking hook: force one strategy instead of the cost model's choice
 * (null = automatic). Every strategy is exact; they differ only in speed.
 */
export const wasmKernelStrategy: {
  backpropInput: null | 'phases' | 'combined' | 'gemm';
  backpropFilter: null | 'im2col' | 'conv';
} = { backpropInput: null, backpropFilter: null };

/**
 * dW[kh,kw,ci,co] = sum_{n,oh,ow} x[n, oh*sh - pt + kh, ow*sw - pl + kw, ci] * dy[n,oh,ow,co].
 *
 * - Small patches (fh*fw*ci <= co): dW = colT · dy with colT[(kh,kw,ci), (n,oh,ow)] built in JS,
 *   one XNNPACK GEMM; dy is used in place.
 * - Otherwise: dW = conv2d(image x'[ci,H,W,n], filter dy'[OH,OW,n,co], stride 1,
 *   dilation (sh,sw), pad (pt,pl))[ci,kh,kw,co], transposed to [kh,kw,ci,co].
 */
function conv2DBackpropFilterNHWC(backend: WasmBackend, x: TensorInfo, dy: TensorInfo, info: ConvInfo): TensorInfo {
  const { batchSize: n, inHeight: H, inWidth: W, inChannels: ci, outHeight: OH, outWidth: OW, outChannels: co } = info;
  const { strideHeight: sh, strideWidth: sw, filterHeight: fh, filterWidth: fw } = info;
  const pt = info.padInfo.top;
  const pl = info.padInfo.left;
  const P = fh * fw * ci;
  const Q = n * OH * OW;

  const useIm2col = wasmKernelStrategy.backpropFilter == null ? P <= co : wasmKernelStrategy.backpropFilter === 'im2col';
  if (useIm2col) {
    const colT = backend.makeOutput([1, P, Q], 'float32');
    const dst = f32(backend, colT);
    const src = f32(backend, x);
    for (let kh = 0; kh < fh; kh++) {
      for (let kw = 0; kw < fw; kw++) {
        // Valid ow range: 0 <= ow*sw - pl + kw < W.
        const owLo = Math.max(0, Math.ceil((pl - kw) / sw));
        const owHi = Math.min(OW, Math.floor((W - 1 + pl - kw) / sw) + 1);
        for (let c = 0; c < ci; c++) {
          let o = ((kh * fw + kw) * ci + c) * Q;
          for (let b = 0; b < n; b++) {
            for (let oh = 0; oh < OH; oh++, o += OW) {
              const h = oh * sh - pt + kh;
              if (h < 0 || h >= H || owHi <= owLo) {
                dst.fill(0, o, o + OW);
                continue;
              }
              if (owLo > 0) dst.fill(0, o, o + owLo);
              if (owHi < OW) dst.fill(0, o + owHi, o + OW);
              const step = sw * ci;
              let s = ((b * H + h) * W + owLo * sw - pl + kw) * ci + c;
              for (let ow = owLo; ow < owHi; ow++, s += step) dst[o + ow] = src[s]!;
            }
          }
        }
      }
    }
    try {
      const out = orig('BatchMatMul')({
        inputs: { a: colT, b: reshaped(dy, [1, Q, co]) },
        backend,
        attrs: { transposeA: false, transposeB: false },
      });
      out.shape = [fh, fw, ci, co];
      return out;
    } finally {
      dispose(backend, colT);
    }
  }

  const xT = swapOuterInner(backend, x); // [ci,H,W,n]
  const dyT = transpose(backend, dy, [1, 2, 0, 3]); // [OH,OW,n,co]
  // Padding at the far end so that the output has (at least) fh x fw pixels.
  const pb = Math.max(0, fh + (OH - 1) * sh - H - pt);
  const pr = Math.max(0, fw + (OW - 1) * sw - W - pl);
  let res: TensorInfo;
  try {
    res = conv2dRaw(backend, xT, dyT, [pt, pb, pl, pr], [sh, sw]); // [ci, fhOut, fwOut, co]
  } finally {
    dispose(backend, xT, dyT);
  }
  const fhOut = res.shape[1]!;
  const fwOut = res.shape[2]!;
  if (fhOut === fh && fwOut === fw) {
    try {
      return transpose(backend, res, [1, 2, 0, 3]);
    } finally {
      dispose(backend, res);
    }
  }
  // Crop the surplus rows/cols (x rows past the last window) while transposing.
  const out = backend.makeOutput([fh, fw, ci, co], 'float32');
  const src = f32(backend, res);
  const dst = f32(backend, out);
  for (let c = 0; c < ci; c++) {
    for (let kh = 0; kh < fh; kh++) {
      for (let kw = 0; kw < fw; kw++) {
        copyRun(dst, ((kh * fw + kw) * ci + c) * co, src, ((c * fhOut + kh) * fwOut + kw) * co, co);
      }
    }
  }
  dispose(backend, res);
  return out;
}

function conv2DBackpropFilter(args: Args): TensorInfo {
  const { backend, attrs } = args;
  const x = args.inputs['x']!;
  const dy = args.inputs['dy']!;
  const info = conv2dInfo(x.shape, attrs['filterShape'] as number[], attrs);
  const nchw = info.dataFormat === 'channelsFirst';
  const expectDy = nchw
    ? [info.batchSize, info.outChannels, info.outHeight, info.outWidth]
    : [info.batchSize, info.outHeight, info.outWidth, info.outChannels];
  if (dy.shape.join() !== expectDy.join()) {
    throw new Error(`Conv2DBackpropFilter: dy shape [${dy.shape}] does not match the expected [${expectDy}]`);
  }
  if (x.dtype !== 'float32' || dy.dtype !== 'float32') {
    throw new Error(`Conv2DBackpropFilter (wasm): only float32 is supported, got ${x.dtype}/${dy.dtype}`);
  }
  if (!nchw) return conv2DBackpropFilterNHWC(backend, x, dy, info);
  // NCHW: move channels last and run the NHWC path.
  const xT = transpose(backend, x, [0, 2, 3, 1]);
  const dyT = transpose(backend, dy, [0, 2, 3, 1]);
  try {
    const infoNHWC = conv2dInfo(xT.shape, attrs['filterShape'] as number[], { ...attrs, dataFormat: 'NHWC' });
    return conv2DBackpropFilterNHWC(backend, xT, dyT, infoNHWC);
  } finally {
    dispose(backend, xT, dyT);
  }
}

/**
 * Geometry of one axis of the polyphase decomposition of Conv2DBackpropInput.
 * dx[h] = sum_j dy[m - j] * w[r + s*j] with h + p = s*m + r, 0 <= r < s, r + s*j < f:
 * a stride-1 correlation of dy (window [m-J+1, m]) with g[t] = w[r + s*(J-1-t)].
 * Output index i of the correlation is m = m0 + i - skip.
 */
interface Axis {
  J: number; // taps per phase (window length)
  m0: number; // first m needed
  count: number; // number of m values needed
  padA: number; // leading zero padding of dy
  padB: number; // trailing zero padding of dy
  skip: number; // leading correlation outputs to drop (pads larger than the filter)
}

function axisGeometry(J: number, m0: number, m1: number, outLen: number): Axis | null {
  const count = m1 - m0 + 1;
  if (J <= 0 || count <= 0) return null;
  const padA0 = J - 1 - m0;
  const padA = Math.max(0, padA0);
  const skip = padA - padA0;
  const padB = Math.max(0, skip + count - outLen - padA + J - 1);
  return { J, m0, count, padA, padB, skip };
}

/** Phase r of an axis: only the taps r, r+s, ... of the filter. */
function phaseAxis(r: number, s: number, f: number, p: number, inLen: number, outLen: number): Axis | null {
  const J = r < f ? Math.ceil((f - r) / s) : 0;
  return axisGeometry(J, Math.ceil((p - r) / s), Math.floor((inLen - 1 + p - r) / s), outLen);
}

/** All phases at once: a common window of ceil(f/s) taps (missing taps are zero). */
function combinedAxis(s: number, f: number, p: number, inLen: number, outLen: number): Axis {
  return axisGeometry(Math.ceil(f / s), Math.floor(p / s), Math.floor((inLen - 1 + p) / s), outLen)!;
}

/**
 * dx through one GEMM and a JS gather: dcol[(n,oh,ow), (kh,kw,ci)] = dy · W^T, then
 * dx[n,h,w,ci] = sum of dcol over the (kh,kw) that reach (h,w). For small fh*fw*ci.
 */
function col2imBackpropInput(backend: WasmBackend, dy: TensorInfo, filter: TensorInfo, info: ConvInfo): TensorInfo {
  const { batchSize: n, inHeight: H, inWidth: W, inChannels: ci, outHeight: OH, outWidth: OW, outChannels: co } = info;
  const { strideHeight: sh, strideWidth: sw, filterHeight: fh, filterWidth: fw } = info;
  const pt = info.padInfo.top;
  const pl = info.padInfo.left;
  const P = fh * fw * ci;
  const Q = n * OH * OW;
  const dcol = batchMatMul({
    inputs: { a: reshaped(dy, [Q, co]), b: reshaped(filter, [P, co]) },
    backend,
    attrs: { transposeA: false, transposeB: true },
  }); // [Q, P]
  // Source offsets (within one batch item of dcol) of the taps reaching each output row / column,
  // flattened: row h uses rowOff[rowStart[h] .. rowStart[h+1]).
  const taps = (len: number, s: number, f: number, p: number, outLen: number, scale: number, kScale: number) => {
    const start = new Int32Array(len + 1);
    const offs: number[] = [];
    for (let h = 0; h < len; h++) {
      start[h] = offs.length;
      for (let k = 0; k < f; k++) {
        const q = h + p - k;
        if (q >= 0 && q % s === 0 && q / s < outLen) offs.push((q / s) * scale + k * kScale);
      }
    }
    start[len] = offs.length;
    return { start, offs: Int32Array.from(offs) };
  };
  const rows = taps(H, sh, fh, pt, OH, OW * P, fw * ci);
  const cols = taps(W, sw, fw, pl, OW, P, ci);
  const out = backend.makeOutput([n, H, W, ci], 'float32');
  const src = f32(backend, dcol);
  const dst = f32(backend, out);
  const rOff = rows.offs;
  const cOff = cols.offs;
  let d = 0;
  for (let b = 0; b < n; b++) {
    const base = b * OH * OW * P;
    for (let h = 0; h < H; h++) {
      const r0 = rows.start[h]!;
      const r1 = rows.start[h + 1]!;
      for (let w = 0; w < W; w++, d += ci) {
        const c0 = cols.start[w]!;
        const c1 = cols.start[w + 1]!;
        if (ci === 1) {
          let acc = 0;
          for (let i = r0; i < r1; i++) {
            const rb = base + rOff[i]!;
            for (let j = c0; j < c1; j++) acc += src[rb + cOff[j]!]!;
          }
          dst[d] = acc;
        } else {
          for (let c = 0; c < ci; c++) dst[d + c] = 0;
          for (let i = r0; i < r1; i++) {
            const rb = base + rOff[i]!;
            for (let j = c0; j < c1; j++) {
              const s0 = rb + cOff[j]!;
              for (let c = 0; c < ci; c++) dst[d + c] += src[s0 + c]!;
            }
          }
        }
      }
    }
  }
  dispose(backend, dcol);
  return out;
}

/**
 * dx[n,h,w,ci] = sum dy[n,oh,ow,co] * w[kh,kw,ci,co] over oh*sh - pt + kh = h (same for w),
 * with forward XNNPACK convolutions of dy by (parts of) the rotated, channel-swapped filter:
 * - "phases": one stride-1 conv per (h, w) phase with exactly that phase's taps, then interleave;
 * - "combined": one conv whose output channels are (phase, ci), taps padded to ceil(f/s),
 *   then depth-to-space. Better when ci is small (XNNPACK computes output channels by 8).
 */
function conv2DBackpropInputNHWC(backend: WasmBackend, dy: TensorInfo, filter: TensorInfo, info: ConvInfo): TensorInfo {
  const { batchSize: n, inHeight: H, inWidth: W, inChannels: ci, outHeight: OH, outWidth: OW, outChannels: co } = info;
  const { strideHeight: sh, strideWidth: sw, filterHeight: fh, filterWidth: fw } = info;
  const pt = info.padInfo.top;
  const pl = info.padInfo.left;
  const filt = f32(backend, filter).slice(); // [fh,fw,ci,co], small: copy it out of the heap

  const phases: { ph: Axis | null; pw: Axis | null; rh: number; rw: number }[] = [];
  for (let rh = 0; rh < sh; rh++) {
    for (let rw = 0; rw < sw; rw++) {
      phases.push({ ph: phaseAxis(rh, sh, fh, pt, H, OH), pw: phaseAxis(rw, sw, fw, pl, W, OW), rh, rw });
    }
  }
  const ch = combinedAxis(sh, fh, pt, H, OH);
  const cw = combinedAxis(sw, fw, pl, W, OW);
  // Cost estimates in ns: XNNPACK ~0.05 ns per multiply-add (output channels computed by 8),
  // ~20 us per convolution call, ~1 ns per element moved by JS.
  const P = fh * fw * ci;
  const Q = n * OH * OW;
  const dxSize = n * H * W * ci;
  let costPhases = phases.length > 1 ? dxSize : 0;
  for (const { ph, pw } of phases) {
    if (ph && pw) costPhases += 0.05 * n * ph.count * pw.count * ph.J * pw.J * co * roundUp8(ci) + 2e4;
  }
  const costCombined = 0.05 * n * ch.count * cw.count * ch.J * cw.J * co * roundUp8(sh * sw * ci) + 2e4 + dxSize;
  const costGemm = 0.05 * Q * co * roundUp8(P) + 2.2 * co * roundUp8(P) + 1.5 * Q * P + dxSize + 2e4;

  const forced = wasmKernelStrategy.backpropInput;
  const strategy = forced ?? (costGemm < Math.min(costPhases, costCombined) ? 'gemm' : costCombined < costPhases ? 'combined' : 'phases');
  if (strategy === 'gemm') return col2imBackpropInput(backend, dy, filter, info);
  if (strategy === 'combined') {
    const S = sh * sw * ci;
    const g = backend.makeOutput([ch.J, cw.J, co, S], 'float32');
    const gd = f32(backend, g);
    gd.fill(0);
    for (let th = 0; th < ch.J; th++) {
      for (let tw = 0; tw < cw.J; tw++) {
        for (let rh = 0; rh < sh; rh++) {
          const kh = rh + sh * (ch.J - 1 - th);
          if (kh >= fh) continue;
          for (let rw = 0; rw < sw; rw++) {
            const kw = rw + sw * (cw.J - 1 - tw);
            if (kw >= fw) continue;
            const wBase = (kh * fw + kw) * ci * co;
            const gBase = (th * cw.J + tw) * co * S + (rh * sw + rw) * ci;
            for (let c = 0; c < ci; c++) {
              for (let o = 0; o < co; o++) gd[gBase + o * S + c] = filt[wBase + c * co + o]!;
            }
          }
        }
      }
    }
    let res: TensorInfo;
    try {
      res = conv2dRaw(backend, dy, g, [ch.padA, ch.padB, cw.padA, cw.padB], [1, 1]);
    } finally {
      dispose(backend, g);
    }
    const RH = res.shape[1]!;
    const RW = res.shape[2]!;
    const out = backend.makeOutput([n, H, W, ci], 'float32');
    const src = f32(backend, res);
    const dst = f32(backend, out);
    // Source column offset and phase for every w.
    const colOff = new Int32Array(W);
    for (let w = 0; w < W; w++) {
      const q = w + pl;
      const m = Math.floor(q / sw);
      colOff[w] = (cw.skip + m - cw.m0) * S + (q - m * sw) * ci;
    }
    for (let b = 0; b < n; b++) {
      for (let h = 0; h < H; h++) {
        const q = h + pt;
        const m = Math.floor(q / sh);
        const rowBase = (b * RH + ch.skip + m - ch.m0) * RW * S + (q - m * sh) * sw * ci;
        let d = (b * H + h) * W * ci;
        for (let w = 0; w < W; w++, d += ci) copyRun(dst, d, src, rowBase + colOff[w]!, ci);
      }
    }
    dispose(backend, res);
    return out;
  }

  const single = phases.length === 1;
  let out: TensorInfo | null = single ? null : backend.makeOutput([n, H, W, ci], 'float32');
  // dx pixels of a phase with no tap (filter smaller than the stride) are zero.
  if (out != null && phases.some(({ ph, pw }) => ph == null || pw == null)) f32(backend, out).fill(0);
  for (const { ph, pw, rh, rw } of phases) {
    if (ph == null || pw == null) continue;
    // Sub-filter g[th,tw,co,ci] = w[rh + sh*(Jh-1-th), rw + sw*(Jw-1-tw), ci, co].
    const g = backend.makeOutput([ph.J, pw.J, co, ci], 'float32');
    const gd = f32(backend, g);
    for (let th = 0; th < ph.J; th++) {
      const kh = rh + sh * (ph.J - 1 - th);
      for (let tw = 0; tw < pw.J; tw++) {
        const kw = rw + sw * (pw.J - 1 - tw);
        const wBase = (kh * fw + kw) * ci * co;
        const gBase = (th * pw.J + tw) * co * ci;
        for (let c = 0; c < ci; c++) {
          for (let o = 0; o < co; o++) gd[gBase + o * ci + c] = filt[wBase + c * co + o]!;
        }
      }
    }
    let res: TensorInfo;
    try {
      res = conv2dRaw(backend, dy, g, [ph.padA, ph.padB, pw.padA, pw.padB], [1, 1]);
    } finally {
      dispose(backend, g);
    }
    const RH = res.shape[1]!;
    const RW = res.shape[2]!;
    if (single && ph.skip === 0 && pw.skip === 0 && RH === H && RW === W) return res; // stride 1: dx itself
    out ??= backend.makeOutput([n, H, W, ci], 'float32');
    const src = f32(backend, res);
    const dst = f32(backend, out);
    for (let b = 0; b < n; b++) {
      for (let i = 0; i < ph.count; i++) {
        const h = sh * (ph.m0 + i) + rh - pt;
        let s = ((b * RH + ph.skip + i) * RW + pw.skip) * ci;
        let d = ((b * H + h) * W + sw * pw.m0 + rw - pl) * ci;
        const dStep = sw * ci;
        for (let j = 0; j < pw.count; j++, s += ci, d += dStep) copyRun(dst, d, src, s, ci);
      }
    }
    dispose(backend, res);
  }
  if (out == null) {
    out = backend.makeOutput([n, H, W, ci], 'float32');
    f32(backend, out).fill(0);
  }
  return out;
}

function conv2DBackpropInput(args: Args): TensorInfo {
  const { backend, attrs } = args;
  const dy = args.inputs['dy']!;
  const filter = args.inputs['filter']!;
  const inputShape = attrs['inputShape'] as number[];
  if (dy.dtype !== 'float32' || filter.dtype !== 'float32') return orig('Conv2DBackpropInput')(args);
  const info = conv2dInfo(inputShape, filter.shape, attrs);
  const nchw = info.dataFormat === 'channelsFirst';
  const expectDy = nchw
    ? [info.batchSize, info.outChannels, info.outHeight, info.outWidth]
    : [info.batchSize, info.outHeight, info.outWidth, info.outChannels];
  if (dy.shape.join() !== expectDy.join()) {
    throw new Error(`Conv2DBackpropInput: dy shape [${dy.shape}] does not match the expected [${expectDy}]`);
  }
  if (!nchw) return conv2DBackpropInputNHWC(backend, dy, filter, info);
  // NCHW: run in NHWC and transpose at both ends.
  const [n, c, h, w] = inputShape as [number, number, number, number];
  const infoNHWC = conv2dInfo([n, h, w, c], filter.shape, { ...attrs, dataFormat: 'NHWC' });
  const dyT = transpose(backend, dy, [0, 2, 3, 1]);
  let dx: TensorInfo;
  try {
    dx = conv2DBackpropInputNHWC(backend, dyT, filter, infoNHWC);
  } finally {
    dispose(backend, dyT);
  }
  try {
    return transpose(backend, dx, [0, 3, 1, 2]);
  } finally {
    dispose(backend, dx);
  }
}

// ---------------------------------------------------------------------------
// Registration

const replacements: [string, Fn][] = [
  ['BatchMatMul', batchMatMul],
  ['_FusedMatMul', fusedMatMul],
  ['Conv2DBackpropFilter', conv2DBackpropFilter],
  ['Conv2DBackpropInput', conv2DBackpropInput],
];
/** Original kernels the replacements call into. */
const required = ['BatchMatMul', '_FusedMatMul', 'Conv2D', 'Transpose', 'Conv2DBackpropInput'];

/**
 * Registers the faster wasm kernels (idempotent). Call after
 * `@tensorflow/tfjs-backend-wasm` is imported (normally after
 * `await tf.setBackend('wasm')`).
 */
export function registerWasmKernels(): void {
  for (const name of new Set([...required, ...replacements.map(([n]) => n)])) {
    if (originals[name] != null) continue;
    const k = tf.getKernel(name, BACKEND);
    if (k == null) {
      if (!required.includes(name)) continue; // e.g. Conv2DBackpropFilter: wasm has none
      throw new Error(`registerWasmKernels: the wasm backend has no ${name} kernel (import @tensorflow/tfjs-backend-wasm first)`);
    }
    if (!ours.has(k.kernelFunc)) originals[name] = k;
  }
  for (const [name, fn] of replacements) {
    const current = tf.getKernel(name, BACKEND);
    if (current != null && ours.has(current.kernelFunc)) continue;
    if (current != null) tf.unregisterKernel(name, BACKEND);
    const kernelFunc = fn as unknown as KernelFunc;
    ours.add(kernelFunc);
    const config: KernelConfig = { kernelName: name, backendName: BACKEND, kernelFunc };
    // Keep the original's setup (it binds the wasm functions when a backend is (re)created).
    const setupFunc = originals[name]?.setupFunc;
    if (setupFunc) config.setupFunc = setupFunc;
    tf.registerKernel(config);
  }
}

/**
 * Puts the original wasm kernels back (and removes Conv2DBackpropFilter, which wasm lacks).
 * For benchmarks and A/B comparisons; `registerWasmKernels()` re-applies the patch.
 */
export function restoreWasmKernels(): void {
  for (const [name] of replacements) {
    const current = tf.getKernel(name, BACKEND);
    if (current == null || !ours.has(current.kernelFunc)) continue;
    tf.unregisterKernel(name, BACKEND);
    const original = originals[name];
    if (original != null) tf.registerKernel(original);
  }
}

/** The wasm kernels as they were before `registerWasmKernels` (for benchmarks / comparisons). */
export function originalWasmKernel(name: string): KernelConfig | undefined {
  return originals[name];
}

/** True when `registerWasmKernels` has taken effect for `name`. */
export function isPatched(name: string): boolean {
  const k = tf.getKernel(name, BACKEND);
  return k != null && ours.has(k.kernelFunc);
}

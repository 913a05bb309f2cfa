/**
 * The compute layer: picks the TensorFlow.js backend and reports why.
 *
 * `auto` tries, in order: @tensorflow/tfjs-node-gpu (CUDA; `npm install @tensorflow/tfjs-node-gpu`) if it sees
 * a GPU, `webgpu` (@tensorflow/tfjs-backend-webgpu on Dawn, npm `webgpu`) if Dawn finds a hardware adapter,
 * @tensorflow/tfjs-node (native CPU), `wasm` (@tensorflow/tfjs-backend-wasm with XNNPACK and SIMD, plus the
 * lab's own kernels for what it lacks or does slowly), and last the pure-JS `cpu` backend. The two native
 * packages are optional peer dependencies: they download libtensorflow at install time, so they are absent
 * unless a user installs them. `webgpu` is a regular dependency (Dawn's binary ships inside the npm package).
 *
 * A software adapter (SwiftShader, Vulkan on the CPU) is never chosen by `auto`: it is slower than wasm. It
 * is what tests use, with `--backend webgpu`, to check numerics and code paths on machines without a GPU.
 * GPU backends cannot read tensors synchronously (`dataSync` needs a canvas in tfjs-backend-webgpu): code that
 * must work on them reads with `readTensor` (below), which is synchronous where the backend allows it.
 */
import * as tf from '@tensorflow/tfjs';
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import fs from 'node:fs';
import path from 'node:path';
import v8 from 'node:v8';

import { writeJsonAtomic } from './fsutil.js';
import { runtimeDir } from './server_key.js';
import { BACKEND_CHOICES, type BackendChoice } from '../protocol/backends.js';
export { BACKEND_CHOICES, type BackendChoice };

export interface ComputeInfo {
  /** What the lab calls it: node-gpu, webgpu, node, wasm or cpu. */
  backend: Exclude<BackendChoice, 'auto'>;
  /** tfjs's own backend name (tensorflow, wasm, cpu). */
  tfBackend: string;
  /** Why this backend was chosen, including why better ones were not. */
  reason: string;
  tfjsVersion: string;
  /** wasm: SIMD and thread count; webgpu: the adapter (vendor, architecture, description, software). */
  details: Record<string, unknown>;
  /** Whether `dataSync()` works (false on webgpu: reads there are asynchronous). */
  syncReads: boolean;
}

const require = createRequire(import.meta.url);
let current: ComputeInfo | null = null;

/** The backend in use, or null before `initCompute`. */
export function computeInfo(): ComputeInfo | null {
  return current;
}

async function tryNative(pkg: string): Promise<string | null> {
  try {
    // A variable specifier keeps bundlers and the type checker from requiring the optional package.
    const name = pkg;
    await import(name);
    return null;
  } catch (err) {
    const message = err instanceof Error ? err.message.split('\n')[0]! : String(err);
    return /Cannot find (module|package)/.test(message) ? `${pkg} is not installed` : `${pkg} failed to load (${message})`;
  }
}

async function useNative(kind: 'node-gpu' | 'node'): Promise<string | null> {
  const pkg = kind === 'node-gpu' ? '@tensorflow/tfjs-node-gpu' : '@tensorflow/tfjs-node';
  const failure = await tryNative(pkg);
  if (failure) return failure;
  if (!(await tf.setBackend('tensorflow'))) return `${pkg} loaded but its 'tensorflow' backend did not initialise`;
  await tf.ready();
  if (kind === 'node-gpu' && (tf.backend() as { isUsingGpuDevice?: boolean }).isUsingGpuDevice !== true) {
    // tfjs-node-gpu quietly runs on the CPU when CUDA is unusable; only a visible GPU counts.
    return `${pkg} loaded but TensorFlow found no usable CUDA GPU`;
  }
  return null;
}

/** What Dawn found: the adapter's description, and whether it is a software one (SwiftShader, Vulkan on the CPU). */
export interface WebgpuAdapterInfo {
  vendor: string;
  architecture: string;
  description: string;
  software: boolean;
}

/** Where Debian's chromium-common puts SwiftShader's Vulkan driver (the software adapter tests use). */
export const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';

let webgpuAdapter: WebgpuAdapterInfo | null | undefined;

/**
 * Installs Dawn's WebGPU (npm `webgpu`) as `navigator.gpu` in Node, once, and asks it for an adapter. Null when
 * Dawn finds none (no Vulkan/Metal/D3D12 driver). In a browser `navigator.gpu` is already there.
 */
async function findWebgpuAdapter(): Promise<WebgpuAdapterInfo | null> {
  if (webgpuAdapter !== undefined) return webgpuAdapter;
  const g = globalThis as { navigator?: { gpu?: unknown } };
  if (!g.navigator?.gpu) {
    const dawn = (await import('webgpu')) as { create(flags: string[]): unknown; globals: Record<string, unknown> };
    // tfjs-backend-webgpu uses the WebGPU globals (GPUBufferUsage, GPUMapMode, ...) as a browser has them.
    for (const [k, v] of Object.entries(dawn.globals)) if (!(k in globalThis)) Object.defineProperty(globalThis, k, { value: v, configurable: true, writable: true });
    if (!g.navigator) Object.defineProperty(globalThis, 'navigator', { value: {}, configurable: true, writable: true });
    Object.defineProperty(g.navigator, 'gpu', { value: dawn.create([]), configurable: true });
  }
  const gpu = g.navigator!.gpu as { requestAdapter(o?: object): Promise<{ info?: RawAdapterInfo; isFallbackAdapter?: boolean } | null> };
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  // GPUAdapterInfo's fields are getters on its prototype: a spread would copy none of them.
  const info = adapter?.info;
  webgpuAdapter = adapter
    ? describeAdapter({ vendor: info?.vendor, architecture: info?.architecture, description: info?.description, device: info?.device, isFallbackAdapter: info?.isFallbackAdapter === true || adapter.isFallbackAdapter === true })
    : null;
  return webgpuAdapter;
}

/** GPUAdapterInfo's fields the lab reads (from Dawn in this process, or as the probe's child process prints them). */
interface RawAdapterInfo {
  vendor?: string;
  architecture?: string;
  description?: string;
  device?: string;
  isFallbackAdapter?: boolean;
}

/** What the lab records of an adapter; software ones are the fallback adapter or a known CPU Vulkan driver. */
function describeAdapter(info: RawAdapterInfo): WebgpuAdapterInfo {
  const architecture = info.architecture ?? '';
  return {
    vendor: info.vendor ?? '',
    architecture,
    description: info.description || info.device || architecture || 'unnamed adapter',
    software: info.isFallbackAdapter === true || /swiftshader|llvmpipe|lavapipe|warp/i.test(`${architecture} ${info.description ?? ''}`),
  };
}

/**
 * For `auto`: asks a child process what Dawn finds, so that a machine without a usable adapter prints nothing.
 * (Dawn and the Vulkan loader write their complaints about drivers straight to stderr: software drivers that
 * lack features, a missing libvulkan, XDG_RUNTIME_DIR. Only a run that asks for webgpu should show them.)
 */
function probeWebgpuAdapter(): WebgpuAdapterInfo | null {
  const script = `import('webgpu').then(async ({ create }) => {
    const a = await create([]).requestAdapter({ powerPreference: 'high-performance' });
    process.stdout.write(JSON.stringify(a ? { ...(a.info ? { vendor: a.info.vendor, architecture: a.info.architecture, description: a.info.description, device: a.info.device, isFallbackAdapter: a.info.isFallbackAdapter } : {}) } : null));
    process.exit(0);
  }, () => { process.stdout.write('null'); process.exit(0); });`;
  try {
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: path.dirname(require.resolve('webgpu/package.json')), stdio: ['ignore', 'pipe', 'ignore'], timeout: 15_000, encoding: 'utf8' });
    const info = JSON.parse(out) as RawAdapterInfo | null;
    return info ? describeAdapter(info) : null;
  } catch {
    return null;
  }
}

/**
 * What could change Dawn's answer: the drivers installed (Vulkan ICD files, GPU device nodes), the variables
 * the Vulkan loader reads, and the versions of Node and Dawn. The probe's answer is kept under the lab's runtime
 * directory with this fingerprint, so that `auto` costs a child process only when one of them changed.
 */
function webgpuFingerprint(): string {
  const listing = (dir: string): string[] => {
    try {
      return fs.readdirSync(dir).map((f) => `${dir}/${f}@${fs.statSync(path.join(dir, f)).mtimeMs}`);
    } catch {
      return [];
    }
  };
  const e = process.env;
  let dawnVersion = '';
  try {
    dawnVersion = (JSON.parse(fs.readFileSync(require.resolve('webgpu/package.json'), 'utf8')) as { version: string }).version;
  } catch {
    /* not installed: the probe says so */
  }
  return JSON.stringify([
    process.version,
    dawnVersion,
    e.VK_ICD_FILENAMES ?? '',
    e.VK_DRIVER_FILES ?? '',
    e.VK_ADD_DRIVER_FILES ?? '',
    e.LD_LIBRARY_PATH ?? '',
    ...['/usr/share/vulkan/icd.d', '/etc/vulkan/icd.d', '/usr/local/share/vulkan/icd.d', '/dev/dri'].flatMap(listing),
    ...listing('/dev').filter((f) => f.startsWith('/dev/nvidia')),
  ]);
}

/** The probe's answer for this driver setup, kept from before unless `fresh` (then asked again, and kept). */
function cachedProbe(fresh = false): WebgpuAdapterInfo | null {
  const file = path.join(runtimeDir(), 'webgpu-adapter.json');
  const fingerprint = webgpuFingerprint();
  try {
    const cached = JSON.parse(fs.readFileSync(file, 'utf8')) as { fingerprint: string; adapter: WebgpuAdapterInfo | null };
    if (!fresh && cached.fingerprint === fingerprint) return cached.adapter;
  } catch {
    /* absent or unreadable: probe */
  }
  const adapter = probeWebgpuAdapter();
  try {
    fs.mkdirSync(runtimeDir(), { recursive: true, mode: 0o700 });
    writeJsonAtomic(file, { fingerprint, adapter });
  } catch {
    /* a read-only home: probe each time */
  }
  return adapter;
}

async function useWebgpu(allowSoftware: boolean): Promise<string | null> {
  if (!allowSoftware && webgpuAdapter === undefined && !(globalThis as { navigator?: { gpu?: unknown } }).navigator?.gpu) {
    const probed = cachedProbe();
    if (!probed) return 'webgpu: Dawn found no adapter';
    if (probed.software) return `webgpu: only a software adapter (${probed.description}), slower than wasm; --backend webgpu uses it anyway`;
  }
  let adapter: WebgpuAdapterInfo | null;
  try {
    adapter = await findWebgpuAdapter();
  } catch (err) {
    return `webgpu failed to load Dawn (${err instanceof Error ? err.message.split('\n')[0] : String(err)})`;
  }
  if (!adapter) {
    return `webgpu: Dawn found no adapter (no Vulkan, Metal or D3D12 driver with a GPU; on Linux Dawn needs libvulkan.so.1, Debian's libvulkan1${fs.existsSync(SWIFTSHADER_ICD) ? `; for a software adapter, VK_ICD_FILENAMES=${SWIFTSHADER_ICD}` : ''})`;
  }
  if (adapter.software && !allowSoftware) return `webgpu: only a software adapter (${adapter.description}), slower than wasm; --backend webgpu uses it anyway`;
  try {
    await import('@tensorflow/tfjs-backend-webgpu');
    if (!(await tf.setBackend('webgpu'))) return 'the webgpu backend did not initialise';
    await tf.ready();
    return null;
  } catch (err) {
    return `webgpu failed (${err instanceof Error ? err.message.split('\n')[0] : String(err)})`;
  }
}

let wasmPathsSet = false;

async function useWasm(threads?: number): Promise<string | null> {
  try {
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    if (!wasmPathsSet) {
      wasm.setWasmPaths(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')) + '/dist/');
      wasmPathsSet = true;
    }
    if (threads !== undefined) wasm.setThreadsCount(threads);
    if (!(await tf.setBackend('wasm'))) return 'the wasm backend did not initialise';
    await tf.ready();
    const { registerWasmKernels } = await import('./kernels/wasm_kernels.js');
    registerWasmKernels();
    return null;
  } catch (err) {
    return `wasm failed (${err instanceof Error ? err.message.split('\n')[0] : String(err)})`;
  }
}

/**
 * V8 settings of a training process, set once by initCompute. V8 reads this one whenever it collects, so setting
 * it after start-up works: the figures below were measured with it set that way.
 *
 * `--no-allocation-site-pretenuring`: V8 counts, per allocation site, how many of its young objects survive a
 * scavenge and, above a ratio, allocates that site's objects straight into the old generation. Training makes
 * tfjs's bookkeeping objects (tensors, their data records) in bursts: whether a scavenge falls inside a burst is
 * chance, so in about half of the processes V8 tenured a few such sites. Their objects then die in the old
 * generation, which grows to 200+ MB between full collections, and every scavenge takes 4-5× longer: the whole
 * process trained 30-35% slower (A2C on CartPole-v1: 2.1 s per 20,000-step run instead of 1.55 s; scavenges 0.95 s
 * instead of 0.23 s per two runs). With it off every process is the fast kind (8 of 8, against 3 of 6 before).
 */
const TRAINING_V8_FLAGS = ['--no-allocation-site-pretenuring'];
let v8FlagsSet = false;

function setTrainingV8Flags(): void {
  if (v8FlagsSet) return;
  v8FlagsSet = true;
  for (const flag of TRAINING_V8_FLAGS) v8.setFlagsFromString(flag);
}

/** Selects and initialises a backend; prints nothing (callers report `reason`). Safe to call again. */
export async function initCompute(
  choice: BackendChoice = 'auto',
  options: {
    wasmThreads?: number;
    /** Why the caller needs synchronous reads (Go's opponent callbacks, a tree search): `auto` then passes over webgpu. */
    needsSyncReads?: string;
  } = {},
): Promise<ComputeInfo> {
  if (!BACKEND_CHOICES.includes(choice)) {
    throw new Error(`unknown backend '${choice}'; choose one of ${BACKEND_CHOICES.join(', ')}`);
  }
  setTrainingV8Flags();
  const notes: string[] = [];
  const finish = async (backend: ComputeInfo['backend'], reason: string): Promise<ComputeInfo> => {
    const details: Record<string, unknown> = {};
    if (backend === 'wasm') {
      const wasm = await import('@tensorflow/tfjs-backend-wasm');
      details.simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
      details.threads = wasm.getThreadsCount();
    }
    if (backend === 'webgpu' && webgpuAdapter) details.adapter = { ...webgpuAdapter };
    if (backend === 'cpu') {
      const { registerCpuKernels } = await import('./kernels/cpu_kernels.js');
      registerCpuKernels();
    }
    current = { backend, tfBackend: tf.getBackend(), reason: [...notes, reason].join('; '), tfjsVersion: tf.version.tfjs, details, syncReads: backend !== 'webgpu' };
    return current;
  };

  if (choice !== 'auto') {
    const failure =
      choice === 'node-gpu' || choice === 'node'
        ? await useNative(choice)
        : choice === 'webgpu'
          ? await useWebgpu(true)
          : choice === 'wasm'
          ? await useWasm(options.wasmThreads)
          : (await tf.setBackend('cpu'))
            ? null
            : 'the cpu backend did not initialise';
    if (failure) throw new Error(`backend '${choice}' is not usable: ${failure}`);
    const software = choice === 'webgpu' && webgpuAdapter?.software ? ` (on ${webgpuAdapter.description}, a software adapter: right numbers, not GPU speed)` : choice === 'webgpu' ? ` (on ${webgpuAdapter?.description})` : '';
    return finish(choice, `requested with --backend ${choice}${software}`);
  }

  const gpuFailure = await useNative('node-gpu');
  if (!gpuFailure) return finish('node-gpu', '@tensorflow/tfjs-node-gpu is installed and sees a CUDA GPU');
  notes.push(gpuFailure);
  if (options.needsSyncReads) {
    notes.push(`webgpu: passed over, it reads back asynchronously and ${options.needsSyncReads}`);
  } else {
    const webgpuFailure = await useWebgpu(false);
    if (!webgpuFailure) return finish('webgpu', `WebGPU on ${webgpuAdapter?.description ?? 'a hardware adapter'}`);
    notes.push(webgpuFailure);
  }
  const nodeFailure = await useNative('node');
  if (!nodeFailure) return finish('node', '@tensorflow/tfjs-node is installed and loads');
  notes.push(nodeFailure);
  const wasmFailure = await useWasm(options.wasmThreads);
  if (!wasmFailure) return finish('wasm', 'using wasm (XNNPACK, SIMD) with the lab kernels');
  notes.push(wasmFailure);
  await tf.setBackend('cpu');
  await tf.ready();
  return finish('cpu', 'falling back to the pure-JS cpu backend (slow for conv nets)');
}

/** One line of `surveyBackends`: whether a backend can run here, and why (not). */
export interface BackendSurveyRow {
  backend: Exclude<BackendChoice, 'auto'>;
  usable: boolean;
  /** Whether `auto` would take it (usable, and for webgpu a hardware adapter). */
  autoTakes: boolean;
  note: string;
}

/**
 * Tries every backend in `auto`'s order and says what each would do (for `lab backends`). Switches the global
 * backend as it goes and leaves `auto`'s choice in place. WebGPU is asked in a child process first, so a
 * machine without a usable adapter prints nothing (see probeWebgpuAdapter).
 */
export async function surveyBackends(options: { wasmThreads?: number } = {}): Promise<{ rows: BackendSurveyRow[]; auto: ComputeInfo }> {
  const rows: BackendSurveyRow[] = [];
  const gpu = await useNative('node-gpu');
  rows.push({ backend: 'node-gpu', usable: gpu === null, autoTakes: gpu === null, note: gpu ?? '@tensorflow/tfjs-node-gpu sees a CUDA GPU' });
  const probed = (globalThis as { navigator?: { gpu?: unknown } }).navigator?.gpu ? await findWebgpuAdapter() : cachedProbe(true);
  if (!probed) {
    rows.push({ backend: 'webgpu', usable: false, autoTakes: false, note: (await useWebgpuQuietly()) ?? 'Dawn found no adapter' });
  } else {
    const failure = await useWebgpu(true);
    rows.push({
      backend: 'webgpu',
      usable: failure === null,
      autoTakes: failure === null && !probed.software,
      note: failure ?? `${probed.description}${probed.software ? ' (a software adapter: --backend webgpu only; auto skips it, wasm is faster)' : ''}`,
    });
  }
  const node = await useNative('node');
  rows.push({ backend: 'node', usable: node === null, autoTakes: node === null, note: node ?? '@tensorflow/tfjs-node loads (native CPU kernels)' });
  const wasm = await useWasm(options.wasmThreads);
  rows.push({ backend: 'wasm', usable: wasm === null, autoTakes: wasm === null, note: wasm ?? `XNNPACK${(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT')) ? ', SIMD' : ''}, the lab kernels` });
  const cpu = await tf.setBackend('cpu');
  rows.push({ backend: 'cpu', usable: cpu, autoTakes: cpu, note: cpu ? 'pure JavaScript (slow for conv nets)' : 'did not initialise' });
  // Only the first usable one in auto's order is taken.
  let taken = false;
  for (const r of rows) {
    r.autoTakes = r.autoTakes && !taken;
    taken ||= r.autoTakes;
  }
  return { rows, auto: await initCompute('auto', options) };
}

/** Why Dawn has no adapter, said without loading it in this process (loading it would print its complaints). */
async function useWebgpuQuietly(): Promise<string | null> {
  try {
    require.resolve('webgpu');
  } catch {
    return 'the webgpu package is not installed';
  }
  return `Dawn found no adapter (no Vulkan, Metal or D3D12 driver with a GPU; on Linux Dawn needs libvulkan.so.1, Debian's libvulkan1${fs.existsSync(SWIFTSHADER_ICD) ? `; for a software adapter, VK_ICD_FILENAMES=${SWIFTSHADER_ICD}` : ''})`;
}

/**
 * A tensor's values: synchronously where the backend can (cpu, wasm, tensorflow; no promise, no extra turn
 * of the event loop), else (webgpu) by an asynchronous download. Callers `await` the result either way.
 */
export function readTensor<T extends tf.Tensor>(t: T): ReturnType<T['dataSync']> | Promise<Awaited<ReturnType<T['data']>>> {
  if (current === null || current.syncReads) return t.dataSync() as ReturnType<T['dataSync']>;
  return t.data() as Promise<Awaited<ReturnType<T['data']>>>;
}

/** Whether the current backend reads synchronously (false on webgpu). */
export function syncReads(): boolean {
  return current === null || current.syncReads;
}

export { tf };

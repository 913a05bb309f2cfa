/**
 * TensorFlow.js in the page, for the pages that run a run's networks (the GAN latent explorer, play in the
 * browser, an exported single-file HTML). Everything is imported lazily (dynamic import), so the viewer's other
 * pages never download tfjs.
 *
 * Backend: WebGPU when `navigator.gpu` gives an adapter (a real GPU, or a software one such as SwiftShader,
 * which is reported as such), else wasm (XNNPACK; the .wasm binaries are files of the viewer build, or URLs the
 * caller passes, e.g. data: URLs in a single-file page). `?backend=wasm` in the page's URL, or
 * `{ backend: 'wasm' }`, forces wasm. Choosing the backend (tfRuntime) and loading a model (loadLayersModel
 * from a URL prefix, or modelFromMemory from the files' contents) are separate, so a page without a server can
 * still use both.
 */
import type * as TfCore from '@tensorflow/tfjs-core';
import type * as TfLayers from '@tensorflow/tfjs-layers';
import wasmPlainUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import wasmSimdUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import wasmThreadedSimdUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';

export type BrowserBackend = 'webgpu' | 'wasm';
export type BackendChoice = 'auto' | BrowserBackend;

/** The three binaries tfjs-backend-wasm picks from (by SIMD and thread support). */
export interface WasmFiles {
  'tfjs-backend-wasm.wasm': string;
  'tfjs-backend-wasm-simd.wasm': string;
  'tfjs-backend-wasm-threaded-simd.wasm': string;
}

/** The viewer build's own copies of the wasm binaries (URLs of files under assets/). */
export const BUILT_WASM_FILES: WasmFiles = {
  'tfjs-backend-wasm.wasm': wasmPlainUrl,
  'tfjs-backend-wasm-simd.wasm': wasmSimdUrl,
  'tfjs-backend-wasm-threaded-simd.wasm': wasmThreadedSimdUrl,
};

export interface RuntimeOptions {
  /** 'auto' (default): WebGPU when an adapter is offered, else wasm; the page URL's `?backend=wasm` also forces wasm. */
  backend?: BackendChoice;
  /** Where the wasm binaries are (default: the viewer build's). */
  wasmFiles?: WasmFiles;
}

/** What the page shows about where its networks run. */
export interface RuntimeInfo {
  backend: BrowserBackend;
  /** The WebGPU adapter's description (vendor, architecture, device), or null on wasm. */
  adapter: string | null;
  /** The adapter's architecture ('swiftshader', 'ampere', …), or null. */
  architecture: string | null;
  /** The adapter is a software one (isFallbackAdapter: SwiftShader and the like): correct, not fast. */
  software: boolean;
  /** Why this backend: "WebGPU adapter found", "no WebGPU adapter", "?backend=wasm", … */
  reason: string;
  /** A short label for the page: "WebGPU", "WebGPU (software)", "wasm". */
  label: string;
}

export type Tf = typeof TfCore & Pick<typeof TfLayers, 'loadLayersModel'>;
export type LayersModel = TfLayers.LayersModel;

export interface TfRuntime {
  tf: Tf;
  info: RuntimeInfo;
}

/** The minimal WebGPU surface read here (the DOM typings of this TypeScript may not have WebGPU). */
interface GpuAdapterLike {
  info?: { vendor?: string; architecture?: string; device?: string; description?: string; isFallbackAdapter?: boolean };
  isFallbackAdapter?: boolean;
  requestAdapterInfo?: () => Promise<{ vendor?: string; architecture?: string; device?: string; description?: string }>;
}
interface GpuLike {
  requestAdapter(options?: { powerPreference?: string }): Promise<GpuAdapterLike | null>;
}

/** `?backend=wasm` (or webgpu) in a page URL's query; 'auto' otherwise. */
export function backendFromSearch(search: string): BackendChoice {
  const value = new URLSearchParams(search).get('backend');
  return value === 'wasm' || value === 'webgpu' ? value : 'auto';
}

/** The adapter WebGPU offers this page, or null (no navigator.gpu, no adapter, or the request failed). */
async function findAdapter(): Promise<GpuAdapterLike | null> {
  const gpu = (globalThis.navigator as { gpu?: GpuLike } | undefined)?.gpu;
  if (!gpu) return null;
  try {
    // The same preference tfjs-backend-webgpu asks with, so the adapter described is the one it uses.
    return await gpu.requestAdapter({ powerPreference: 'high-performance' });
  } catch {
    return null;
  }
}

async function describeAdapter(adapter: GpuAdapterLike): Promise<{ description: string; architecture: string | null; software: boolean }> {
  const info = adapter.info ?? (adapter.requestAdapterInfo ? await adapter.requestAdapterInfo().catch(() => undefined) : undefined) ?? {};
  const software = Boolean((adapter.info?.isFallbackAdapter ?? adapter.isFallbackAdapter) || /swiftshader/i.test(`${info.architecture ?? ''} ${info.description ?? ''}`));
  const parts = [info.vendor, info.architecture, info.device, info.description].filter((p): p is string => typeof p === 'string' && p !== '');
  return { description: [...new Set(parts)].join(' · ') || 'unnamed adapter', architecture: info.architecture || null, software };
}

async function importTf(): Promise<Tf> {
  // Layers imports core itself; both resolve to one module instance in the bundle, so one engine.
  const [core, layers] = await Promise.all([import('@tensorflow/tfjs-core'), import('@tensorflow/tfjs-layers')]);
  return { ...core, loadLayersModel: layers.loadLayersModel } as Tf;
}

async function startWasm(tf: Tf, files: WasmFiles): Promise<void> {
  const wasm = await import('@tensorflow/tfjs-backend-wasm');
  wasm.setWasmPaths(files);
  if (!(await tf.setBackend('wasm'))) throw new Error('the wasm backend did not start (this browser may lack WebAssembly)');
}

let shared: Promise<TfRuntime> | null = null;
let sharedChoice: BackendChoice | null = null;

/**
 * Starts tfjs once per page (the first call's choice holds; a later call asking for another backend is an error,
 * since tfjs has one engine per page).
 */
export function tfRuntime(options: RuntimeOptions = {}): Promise<TfRuntime> {
  const fromUrl = typeof location === 'undefined' ? 'auto' : backendFromSearch(location.search);
  const choice: BackendChoice = options.backend && options.backend !== 'auto' ? options.backend : fromUrl;
  if (shared) {
    if (sharedChoice !== choice && choice !== 'auto') return Promise.reject(new Error(`tfjs already runs on this page with backend choice '${sharedChoice}', not '${choice}': reload the page`));
    return shared;
  }
  sharedChoice = choice;
  shared = startRuntime(choice, options.wasmFiles ?? BUILT_WASM_FILES, options.backend === 'wasm' ? 'asked for wasm' : '?backend=wasm in the page address');
  shared.catch(() => {
    shared = null;
    sharedChoice = null;
  });
  return shared;
}

async function startRuntime(choice: BackendChoice, wasmFiles: WasmFiles, forcedWhy: string): Promise<TfRuntime> {
  const tf = await importTf();
  const wasmInfo = (reason: string): RuntimeInfo => ({ backend: 'wasm', adapter: null, architecture: null, software: false, reason, label: 'wasm' });
  if (choice === 'wasm') {
    await startWasm(tf, wasmFiles);
    return { tf, info: wasmInfo(forcedWhy) };
  }
  const adapter = await findAdapter();
  if (adapter) {
    const described = await describeAdapter(adapter);
    try {
      await import('@tensorflow/tfjs-backend-webgpu');
      if (await tf.setBackend('webgpu')) {
        await tf.ready();
        return {
          tf,
          info: {
            backend: 'webgpu',
            adapter: described.description,
            architecture: described.architecture,
            software: described.software,
            reason: described.software ? 'WebGPU offers only a software adapter here' : 'WebGPU adapter found',
            label: described.software ? 'WebGPU (software)' : 'WebGPU',
          },
        };
      }
    } catch (err) {
      if (choice === 'webgpu') throw new Error(`WebGPU did not start: ${(err as Error).message}`);
      console.warn(`WebGPU did not start, using wasm: ${(err as Error).message}`);
      await startWasm(tf, wasmFiles);
      return { tf, info: wasmInfo(`WebGPU did not start (${(err as Error).message})`) };
    }
  }
  if (choice === 'webgpu') throw new Error('WebGPU was asked for, but this browser offers no WebGPU adapter');
  await startWasm(tf, wasmFiles);
  return { tf, info: wasmInfo(typeof navigator !== 'undefined' && 'gpu' in navigator ? 'WebGPU offers no adapter here' : 'this browser has no WebGPU') };
}

/** A Layers model from a URL prefix (`<prefix>/model.json`, whose manifest names weights.bin beside it). */
export async function loadLayersModel(runtime: TfRuntime, prefix: string): Promise<LayersModel> {
  return runtime.tf.loadLayersModel(`${prefix.replace(/\/+$/, '')}/model.json`);
}

/**
 * A Layers model from the contents of its files (model.json parsed, weights.bin as bytes): for pages without a
 * server (an exported HTML file) that carry them inline.
 */
export async function modelFromMemory(runtime: TfRuntime, modelJson: { modelTopology: unknown; weightsManifest: { weights: TfCore.io.WeightsManifestEntry[] }[] }, weights: ArrayBuffer): Promise<LayersModel> {
  const specs = modelJson.weightsManifest.flatMap((group) => group.weights);
  return runtime.tf.loadLayersModel(runtime.tf.io.fromMemory({ modelTopology: modelJson.modelTopology as object, weightSpecs: specs, weightData: weights }));
}

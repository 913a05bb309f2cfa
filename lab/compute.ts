/**
 * The compute layer: picks the TensorFlow.js backend and reports why.
 *
 * `auto` tries, in order: @tensorflow/tfjs-node-gpu (CUDA; `npm install @tensorflow/tfjs-node-gpu`),
 * @tensorflow/tfjs-node (native CPU), `wasm` (@tensorflow/tfjs-backend-wasm with XNNPACK and SIMD, plus the
 * lab's own kernels for what it lacks or does slowly), and last the pure-JS `cpu` backend. The two native
 * packages are optional peer dependencies: they download libtensorflow at install time, so they are absent
 * unless a user installs them.
 */
import * as tf from '@tensorflow/tfjs';
import { createRequire } from 'node:module';
import path from 'node:path';

import { BACKEND_CHOICES, type BackendChoice } from '../protocol/backends.js';
export { BACKEND_CHOICES, type BackendChoice };

export interface ComputeInfo {
  /** What the lab calls it: node-gpu, node, wasm or cpu. */
  backend: Exclude<BackendChoice, 'auto'>;
  /** tfjs's own backend name (tensorflow, wasm, cpu). */
  tfBackend: string;
  /** Why this backend was chosen, including why better ones were not. */
  reason: string;
  tfjsVersion: string;
  /** wasm only: SIMD and thread count. */
  details: Record<string, unknown>;
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

/** Selects and initialises a backend; prints nothing (callers report `reason`). Safe to call again. */
export async function initCompute(choice: BackendChoice = 'auto', options: { wasmThreads?: number } = {}): Promise<ComputeInfo> {
  if (!BACKEND_CHOICES.includes(choice)) {
    throw new Error(`unknown backend '${choice}'; choose one of ${BACKEND_CHOICES.join(', ')}`);
  }
  const notes: string[] = [];
  const finish = async (backend: ComputeInfo['backend'], reason: string): Promise<ComputeInfo> => {
    const details: Record<string, unknown> = {};
    if (backend === 'wasm') {
      const wasm = await import('@tensorflow/tfjs-backend-wasm');
      details.simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
      details.threads = wasm.getThreadsCount();
    }
    current = { backend, tfBackend: tf.getBackend(), reason: [...notes, reason].join('; '), tfjsVersion: tf.version.tfjs, details };
    return current;
  };

  if (choice !== 'auto') {
    const failure =
      choice === 'node-gpu' || choice === 'node'
        ? await useNative(choice)
        : choice === 'wasm'
          ? await useWasm(options.wasmThreads)
          : (await tf.setBackend('cpu'))
            ? null
            : 'the cpu backend did not initialise';
    if (failure) throw new Error(`backend '${choice}' is not usable: ${failure}`);
    return finish(choice, `requested with --backend ${choice}`);
  }

  for (const kind of ['node-gpu', 'node'] as const) {
    const failure = await useNative(kind);
    if (!failure) return finish(kind, `${kind === 'node-gpu' ? '@tensorflow/tfjs-node-gpu' : '@tensorflow/tfjs-node'} is installed and loads`);
    notes.push(failure);
  }
  const wasmFailure = await useWasm(options.wasmThreads);
  if (!wasmFailure) return finish('wasm', 'using wasm (XNNPACK, SIMD) with the lab kernels');
  notes.push(wasmFailure);
  await tf.setBackend('cpu');
  await tf.ready();
  return finish('cpu', 'falling back to the pure-JS cpu backend (slow for conv nets)');
}

export { tf };

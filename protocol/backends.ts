/** The compute backends a run can ask for (lab/compute.ts initialises them; specs and the viewer name them). */
export type BackendChoice = 'auto' | 'node-gpu' | 'webgpu' | 'node' | 'wasm' | 'cpu';
export const BACKEND_CHOICES: readonly BackendChoice[] = ['auto', 'node-gpu', 'webgpu', 'node', 'wasm', 'cpu'];

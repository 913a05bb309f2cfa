/**
 * A corrected kernel for tfjs's pure-JS `cpu` backend, registered by `registerCpuKernels()` (lab/compute.ts
 * does it whenever the cpu backend is chosen).
 *
 *  - ResizeNearestNeighborGrad: tfjs-backend-cpu 4.22 reads `dy` at the *input's* batch stride, so with a batch of
 *    more than one image every image after the first gets the gradient of the wrong pixels (wasm and webgpu are
 *    right). UpSampling2D (Keras' nearest-neighbour upsampling, in the GAN's `book` and `tiny` generators)
 *    backpropagates through it. Here each dy pixel is added to the input pixel the forward pass copied it from:
 *    row min(H−1, ⌊y·H/OH⌋) (rounded instead with alignCorners, with the scale (H−1)/(OH−1)), likewise columns,
 *    the mapping tfjs's kernel searches for, at the right offsets.
 */
import * as tf from '@tensorflow/tfjs';
import type { KernelFunc, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs';

const BACKEND = 'cpu';

interface CpuBackendLike {
  data: { get(dataId: object): { values: Float32Array } };
  makeTensorInfo(shape: number[], dtype: TensorInfo['dtype'], values: Float32Array): TensorInfo;
}

/** The input pixel (row or column) output position `y` of `outSize` was copied from, as the forward op maps it. */
function sourceIndex(y: number, inSize: number, outSize: number, alignCorners: boolean): number {
  const scale = alignCorners && outSize > 1 ? (inSize - 1) / (outSize - 1) : inSize / outSize;
  const f = y * scale;
  return Math.min(inSize - 1, alignCorners ? Math.round(f) : Math.floor(f));
}

function resizeNearestNeighborGrad(args: { inputs: { images: TensorInfo; dy: TensorInfo }; backend: unknown; attrs: NamedAttrMap }): TensorInfo {
  const { images, dy } = args.inputs;
  const backend = args.backend as CpuBackendLike;
  const alignCorners = args.attrs.alignCorners === true;
  const [batch, inH, inW, depth] = images.shape as [number, number, number, number];
  const [, outH, outW] = dy.shape as [number, number, number, number];
  const dyValues = backend.data.get(dy.dataId).values;
  const out = new Float32Array(batch * inH * inW * depth);
  const rows = Int32Array.from({ length: outH }, (_, y) => sourceIndex(y, inH, outH, alignCorners));
  const cols = Int32Array.from({ length: outW }, (_, x) => sourceIndex(x, inW, outW, alignCorners));
  let i = 0;
  for (let b = 0; b < batch; b++) {
    const base = b * inH * inW * depth;
    for (let y = 0; y < outH; y++) {
      const rowBase = base + rows[y]! * inW * depth;
      for (let x = 0; x < outW; x++) {
        const o = rowBase + cols[x]! * depth;
        for (let d = 0; d < depth; d++) out[o + d]! += dyValues[i++]!;
      }
    }
  }
  return backend.makeTensorInfo(images.shape, images.dtype, out);
}

const ours = new Set<KernelFunc>();

/** Replaces tfjs-backend-cpu's ResizeNearestNeighborGrad by the corrected one (idempotent). */
export function registerCpuKernels(): void {
  const current = tf.getKernel('ResizeNearestNeighborGrad', BACKEND);
  if (current != null && ours.has(current.kernelFunc)) return;
  if (current != null) tf.unregisterKernel('ResizeNearestNeighborGrad', BACKEND);
  const kernelFunc = resizeNearestNeighborGrad as unknown as KernelFunc;
  ours.add(kernelFunc);
  tf.registerKernel({ kernelName: 'ResizeNearestNeighborGrad', backendName: BACKEND, kernelFunc });
}

/**
 * UnsortedSegmentSum for wasm (the gradient of tf.gather, i.e. of every embedding lookup):
 * out[s, ...] = sum over i with segmentIds[i] == s of x[i, ...]; ids outside [0, numSegments)
 * are dropped (TensorFlow semantics). A single pass over the wasm heap.
 */
import * as tf from '@tensorflow/tfjs';
import type { Info, WasmBackend } from './wasm_ops.js';

export function unsortedSegmentSumWasm(backend: WasmBackend, x: Info, segmentIds: Info, numSegments: number): Info {
  const k = segmentIds.shape.length;
  for (let d = 0; d < k; d++) {
    if (segmentIds.shape[d] !== x.shape[d]) {
      throw new Error(`UnsortedSegmentSum: segmentIds shape ${segmentIds.shape} is not a prefix of ${x.shape}`);
    }
  }
  const rest = x.shape.slice(k);
  const row = rest.reduce((a, b) => a * b, 1);
  const out = backend.makeOutput([numSegments, ...rest], x.dtype);
  // Views are taken after every allocation: a heap growth detaches older views.
  const o = backend.typedArrayFromHeap(out);
  const xs = backend.typedArrayFromHeap(x);
  const ids = backend.typedArrayFromHeap(segmentIds);
  o.fill(0);
  const n = ids.length;
  for (let i = 0; i < n; i++) {
    const s = ids[i];
    if (s < 0 || s >= numSegments) continue;
    const src = i * row, dst = s * row;
    for (let j = 0; j < row; j++) o[dst + j] += xs[src + j];
  }
  return out;
}

export const unsortedSegmentSumConfig: tf.KernelConfig = {
  kernelName: 'UnsortedSegmentSum',
  backendName: 'wasm',
  kernelFunc: ({ inputs, backend, attrs }) =>
    unsortedSegmentSumWasm(
      backend as unknown as WasmBackend,
      inputs.x as Info,
      inputs.segmentIds as Info,
      (attrs as { numSegments: number }).numSegments,
    ),
};

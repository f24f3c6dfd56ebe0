/**
 * GatherV2 for wasm, replacing tfjs' element-by-element C++ loop (~20 ms to gather 1024 rows of
 * 512 floats) with one contiguous slice copy per gathered row: the hot path of every embedding
 * lookup and feature gather. Same semantics: axis, batchDims, out-of-range indices throw.
 */
import * as tf from '@tensorflow/tfjs';
import type { Info, WasmBackend } from './wasm_ops.js';

export function gatherWasm(backend: WasmBackend, x: Info, indices: Info, axis: number, batchDims: number): Info {
  const parsedAxis = tf.util.parseAxisParam(axis, x.shape)[0];
  const info = tf.backend_util.segment_util.collectGatherOpShapeInfo(
    x as tf.TensorInfo as tf.Tensor,
    indices as tf.TensorInfo as tf.Tensor,
    parsedAxis,
    batchDims,
  );
  const { batchSize, outerSize, dimSize, sliceSize } = info;
  const nIdx = tf.util.sizeFromShape(indices.shape) / batchSize;
  const out = backend.makeOutput(info.outputShape, x.dtype);
  if (tf.util.sizeFromShape(info.outputShape) === 0) return out;
  // Views after the allocation (a heap growth detaches older views).
  const o = backend.typedArrayFromHeap(out);
  const xs = backend.typedArrayFromHeap(x);
  const ids = backend.typedArrayFromHeap(indices);
  let dst = 0;
  for (let b = 0; b < batchSize; b++) {
    for (let q = 0; q < outerSize; q++) {
      const base = (b * outerSize + q) * dimSize;
      for (let j = 0; j < nIdx; j++) {
        const idx = ids[b * nIdx + j];
        if (!(idx >= 0 && idx < dimSize)) {
          throw new Error(`GatherV2: the index value ${idx} is not in [0, ${dimSize - 1}]`);
        }
        const src = (base + idx) * sliceSize;
        if (sliceSize === 1) o[dst] = xs[src];
        else if (sliceSize < 16) for (let k = 0; k < sliceSize; k++) o[dst + k] = xs[src + k];
        else o.set(xs.subarray(src, src + sliceSize), dst);
        dst += sliceSize;
      }
    }
  }
  return out;
}

export const gatherConfig: tf.KernelConfig = {
  kernelName: 'GatherV2',
  backendName: 'wasm',
  kernelFunc: ({ inputs, backend, attrs }) => {
    const { axis, batchDims } = attrs as { axis: number; batchDims: number };
    return gatherWasm(backend as unknown as WasmBackend, inputs.x as Info, inputs.indices as Info, axis, batchDims ?? 0);
  },
};

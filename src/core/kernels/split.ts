/**
 * SplitV for wasm as contiguous block copies: each output takes, for every index of the dims
 * before `axis`, one run of (its size along axis) x (everything after axis) elements. tfjs-wasm
 * splits through a strided Slice per output (~1.5 ms for the attention's [8,64,192] -> 3 x
 * [8,64,64], ~0.05 ms here). A copy: the same values for every dtype.
 */
import * as tf from '@tensorflow/tfjs';
import type { Info, WasmBackend } from './wasm_ops.js';

export function splitWasm(backend: WasmBackend, x: Info, numOrSizeSplits: number | number[], axis: number): Info[] {
  const ax = tf.util.parseAxisParam(axis, x.shape)[0]!;
  const sizes = tf.backend_util.prepareSplitSize(x as unknown as tf.Tensor, numOrSizeSplits, ax);
  const outer = tf.util.sizeFromShape(x.shape.slice(0, ax));
  const inner = tf.util.sizeFromShape(x.shape.slice(ax + 1));
  const row = x.shape[ax]! * inner;
  const outs = sizes.map((s) => backend.makeOutput(x.shape.map((d, k) => (k === ax ? s : d)), x.dtype));
  // Views after every allocation (a heap growth detaches older views).
  const src = backend.typedArrayFromHeap(x);
  let begin = 0;
  outs.forEach((out, i) => {
    const run = sizes[i]! * inner;
    const dst = backend.typedArrayFromHeap(out);
    if (run > 0) for (let o = 0; o < outer; o++) dst.set(src.subarray(o * row + begin, o * row + begin + run), o * run);
    begin += run;
  });
  return outs;
}

export const splitVConfig: tf.KernelConfig = {
  kernelName: 'SplitV',
  backendName: 'wasm',
  kernelFunc: ({ inputs, backend, attrs }) => {
    const { numOrSizeSplits, axis } = attrs as unknown as { numOrSizeSplits: number | number[]; axis: number };
    return splitWasm(backend as unknown as WasmBackend, inputs.x as Info, numOrSizeSplits, axis);
  },
};

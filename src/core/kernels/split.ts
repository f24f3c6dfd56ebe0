/**
 * SplitV and Unpack for wasm as contiguous block copies: each output takes, for every index of the dims
 * before `axis`, one run of (its size along axis) x (everything after axis) elements. tfjs-wasm
 * splits through a strided Slice per output (~1.5 ms for the attention's [8,64,192] -> 3 x
 * [8,64,64], ~0.05 ms here). A copy: the same values for every dtype.
 */
import * as tf from '@tensorflow/tfjs';
import type { Info, WasmBackend } from './wasm_ops.js';

/** x's runs along axis `ax` of `sizes` elements into new outputs of `shapes` (each the layout of that part of x). */
function blockSplit(backend: WasmBackend, x: Info, sizes: number[], ax: number, shapes: number[][]): Info[] {
  const outer = tf.util.sizeFromShape(x.shape.slice(0, ax));
  const inner = tf.util.sizeFromShape(x.shape.slice(ax + 1));
  const row = x.shape[ax]! * inner;
  const outs = shapes.map((shape) => backend.makeOutput(shape, x.dtype));
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

export function splitWasm(backend: WasmBackend, x: Info, numOrSizeSplits: number | number[], axis: number): Info[] {
  const ax = tf.util.parseAxisParam(axis, x.shape)[0]!;
  const sizes = tf.backend_util.prepareSplitSize(x as unknown as tf.Tensor, numOrSizeSplits, ax);
  return blockSplit(backend, x, sizes, ax, sizes.map((s) => x.shape.map((d, k) => (k === ax ? s : d))));
}

/**
 * Unpack (tf.unstack) the same way: one block per output along the axis (tfjs-wasm slices each
 * output out: ~10 ms for SSIM's [5,48,2916] -> 5 outputs, ~0.2 ms here).
 */
export function unpackWasm(backend: WasmBackend, value: Info, axis: number): Info[] {
  const ax = tf.util.parseAxisParam(axis, value.shape)[0]!;
  const n = value.shape[ax]!;
  const shape = value.shape.filter((_, k) => k !== ax);
  return blockSplit(backend, value, new Array<number>(n).fill(1), ax, new Array<number[]>(n).fill(shape));
}

export const splitVConfig: tf.KernelConfig = {
  kernelName: 'SplitV',
  backendName: 'wasm',
  kernelFunc: ({ inputs, backend, attrs }) => {
    const { numOrSizeSplits, axis } = attrs as unknown as { numOrSizeSplits: number | number[]; axis: number };
    return splitWasm(backend as unknown as WasmBackend, inputs.x as Info, numOrSizeSplits, axis);
  },
};

export const unpackConfig: tf.KernelConfig = {
  kernelName: 'Unpack',
  backendName: 'wasm',
  kernelFunc: ({ inputs, backend, attrs }) => unpackWasm(backend as unknown as WasmBackend, inputs.value as Info, (attrs as unknown as { axis: number }).axis),
};

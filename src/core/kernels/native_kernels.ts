/**
 * wasm kernels that run in the native addon (./native.ts): Conv2D, Conv2DBackpropInput,
 * Conv2DBackpropFilter, BatchMatMul, TopK, GatherV2, UnsortedSegmentSum, CropAndResize, AvgPool, AvgPoolGrad, Concat and SplitV here, broadcasting arithmetic and Sum / Mean in
 * ./native_elementwise.ts. Each replaces the kernel registered before it and falls
 * back to that one for what the addon does not cover (NCHW, non-float32, empty tensors,
 * batch broadcasting other than one-against-many). Inputs and outputs stay on the wasm heap: the
 * addon reads and writes them through Float32Array views, no copy.
 */
import * as tf from '@tensorflow/tfjs';
import type { NativeAddon } from './native.js';
import { NATIVE_ELEMENTWISE } from './native_elementwise.js';
import type { Info, WasmBackend } from './wasm_ops.js';

type Attrs = Record<string, unknown>;
type PadAttr = 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
/** Computes the kernel natively, or returns null to hand the call to the previous kernel. */
export type NativeFunc = (be: WasmBackend, inputs: Record<string, Info>, attrs: Attrs) => Info | Info[] | null;

/** Below this many elements a native call costs more than it saves. */
const MIN_NATIVE = 1024;
const f32 = (be: WasmBackend, t: Info) => be.typedArrayFromHeap(t) as Float32Array;
const usable = (...ts: Info[]) => ts.every((t) => t.dtype === 'float32' && tf.util.sizeFromShape(t.shape) > 0);

function convParams(info: tf.backend_util.Conv2DInfo): Int32Array {
  return Int32Array.from([
    info.batchSize, info.inHeight, info.inWidth, info.inChannels,
    info.outHeight, info.outWidth, info.outChannels,
    info.filterHeight, info.filterWidth, info.strideHeight, info.strideWidth,
    info.padInfo.top, info.padInfo.left, info.dilationHeight, info.dilationWidth,
  ]);
}

function convInfo(xShape: number[], fShape: number[], attrs: Attrs, dilations: unknown = 1): tf.backend_util.Conv2DInfo | null {
  const fmt = attrs.dataFormat as string | undefined;
  if (fmt !== undefined && fmt !== 'NHWC' && fmt !== 'channelsLast') return null;
  const info = tf.backend_util.computeConv2DInfo(
    xShape as [number, number, number, number],
    fShape as [number, number, number, number],
    attrs.strides as number | [number, number],
    (dilations ?? 1) as number | [number, number],
    attrs.pad as PadAttr,
    attrs.dimRoundingMode as 'floor' | 'round' | 'ceil' | undefined,
  );
  if (info.padInfo.top < 0 || info.padInfo.left < 0 || info.outHeight < 1 || info.outWidth < 1) return null;
  return info;
}

function conv2d(addon: NativeAddon): NativeFunc {
  return (be, { x, filter }, attrs) => {
    if (!usable(x, filter)) return null;
    const info = convInfo(x.shape, filter.shape, attrs, attrs.dilations);
    if (!info) return null;
    const out = be.makeOutput(info.outShape, 'float32');
    addon.conv2d(f32(be, x), f32(be, filter), f32(be, out), convParams(info));
    return out;
  };
}

function conv2dBackpropInput(addon: NativeAddon): NativeFunc {
  return (be, { dy, filter }, attrs) => {
    const inputShape = attrs.inputShape as number[];
    if (!usable(dy, filter) || tf.util.sizeFromShape(inputShape) === 0) return null;
    const info = convInfo(inputShape, filter.shape, attrs);
    if (!info || !tf.util.arraysEqual(info.outShape, dy.shape)) return null;
    const out = be.makeOutput(inputShape, 'float32');
    addon.conv2dBackpropInput(f32(be, dy), f32(be, filter), f32(be, out), convParams(info));
    return out;
  };
}

function conv2dBackpropFilter(addon: NativeAddon): NativeFunc {
  return (be, { x, dy }, attrs) => {
    const filterShape = attrs.filterShape as number[];
    if (!usable(x, dy) || tf.util.sizeFromShape(filterShape) === 0) return null;
    const info = convInfo(x.shape, filterShape, attrs);
    if (!info || !tf.util.arraysEqual(info.outShape, dy.shape)) return null;
    const out = be.makeOutput(filterShape, 'float32');
    addon.conv2dBackpropFilter(f32(be, x), f32(be, dy), f32(be, out), convParams(info));
    return out;
  };
}

function batchMatMul(addon: NativeAddon): NativeFunc {
  return (be, { a, b }, attrs) => {
    if (!usable(a, b) || a.shape.length < 2 || b.shape.length < 2) return null;
    const ta = attrs.transposeA === true, tb = attrs.transposeB === true;
    const ra = a.shape.length, rb = b.shape.length;
    const m = ta ? a.shape[ra - 1] : a.shape[ra - 2];
    const k = ta ? a.shape[ra - 2] : a.shape[ra - 1];
    const kb = tb ? b.shape[rb - 1] : b.shape[rb - 2];
    const n = tb ? b.shape[rb - 2] : b.shape[rb - 1];
    if (k !== kb) return null; // the previous kernel reports the mismatch
    const outer = tf.broadcast_util.assertAndGetBroadcastShape(a.shape.slice(0, -2), b.shape.slice(0, -2));
    const batch = tf.util.sizeFromShape(outer);
    const batchA = tf.util.sizeFromShape(a.shape.slice(0, -2)), batchB = tf.util.sizeFromShape(b.shape.slice(0, -2));
    // One matrix against many broadcasts by a zero stride; other broadcasts go to the fallback.
    if ((batchA !== batch && batchA !== 1) || (batchB !== batch && batchB !== 1)) return null;
    const out = be.makeOutput([...outer, m, n], 'float32');
    const params = Int32Array.from([batch, batchA === 1 && batch > 1 ? 1 : 0, batchB === 1 && batch > 1 ? 1 : 0, m, n, k, ta ? 1 : 0, tb ? 1 : 0]);
    addon.batchMatMul(f32(be, a), f32(be, b), f32(be, out), params);
    return out;
  };
}

type NativeKernelConfig = tf.KernelConfig & { auvNative: true; auvFallback: tf.KernelFunc };

/**
 * The kernel function the wasm path would run for `name` without the addon: the registered one,
 * or the one a native kernel falls back to.
 */
export function wasmPathKernelFunc(name: string): tf.KernelFunc | undefined {
  const k = tf.getKernel(name, 'wasm') as (tf.KernelConfig & Partial<NativeKernelConfig>) | undefined;
  return k?.auvNative ? k.auvFallback : k?.kernelFunc;
}

/** True when `name` runs in the native addon on wasm. */
export function isNativeKernel(name: string): boolean {
  return (tf.getKernel(name, 'wasm') as Partial<NativeKernelConfig> | undefined)?.auvNative === true;
}

// Returns [values, indices]: a multi-output kernel.
function topK(addon: NativeAddon): (be: WasmBackend, inputs: Record<string, Info>, attrs: Attrs) => Info[] | null {
  return (be, { x }, attrs) => {
    const k = attrs.k as number;
    if (x.dtype !== 'float32' || x.shape.length < 1 || !Number.isInteger(k) || k < 1) return null;
    const cols = x.shape[x.shape.length - 1];
    const rows = tf.util.sizeFromShape(x.shape) / cols;
    if (cols < 1 || rows < 1 || k > cols) return null;
    const shape = [...x.shape.slice(0, -1), k];
    const values = be.makeOutput(shape, 'float32'), indices = be.makeOutput(shape, 'int32');
    addon.topK(f32(be, x), f32(be, values), be.typedArrayFromHeap(indices) as Int32Array, rows, cols, k);
    return [values, indices];
  };
}

function gather(addon: NativeAddon): NativeFunc {
  return (be, { x, indices }, attrs) => {
    if (x.dtype !== 'float32' || indices.dtype !== 'int32') return null;
    const axis = tf.util.parseAxisParam(attrs.axis as number, x.shape)[0];
    const info = tf.backend_util.segment_util.collectGatherOpShapeInfo(
      x as tf.TensorInfo as tf.Tensor, indices as tf.TensorInfo as tf.Tensor, axis, (attrs.batchDims as number | undefined) ?? 0,
    );
    const { batchSize, outerSize, dimSize, sliceSize } = info;
    const nIdx = tf.util.sizeFromShape(indices.shape) / batchSize;
    if (tf.util.sizeFromShape(info.outputShape) < MIN_NATIVE || nIdx < 1) return null;
    const out = be.makeOutput(info.outputShape, 'float32');
    const ids = be.typedArrayFromHeap(indices) as Int32Array;
    addon.gather(f32(be, x), ids, f32(be, out), batchSize, outerSize, dimSize, nIdx, sliceSize);
    return out;
  };
}

function unsortedSegmentSum(addon: NativeAddon): NativeFunc {
  return (be, { x, segmentIds }, attrs) => {
    const k = segmentIds.shape.length;
    if (x.dtype !== 'float32' || segmentIds.dtype !== 'int32' || !tf.util.arraysEqual(segmentIds.shape, x.shape.slice(0, k))) return null;
    const numSegments = attrs.numSegments as number;
    const rest = x.shape.slice(k);
    const row = tf.util.sizeFromShape(rest), n = tf.util.sizeFromShape(segmentIds.shape);
    if (numSegments < 1 || row < 1 || n * row < MIN_NATIVE) return null;
    const out = be.makeOutput([numSegments, ...rest], 'float32');
    addon.segmentSum(f32(be, x), be.typedArrayFromHeap(segmentIds) as Int32Array, f32(be, out), n, row, numSegments);
    return out;
  };
}

function cropAndResize(addon: NativeAddon): NativeFunc {
  return (be, { image, boxes, boxInd }, attrs) => {
    const [ch, cw] = attrs.cropSize as [number, number];
    if (attrs.method !== 'bilinear' || image.dtype !== 'float32' || boxes.dtype !== 'float32' || boxInd.dtype !== 'int32') return null;
    if (image.shape.length !== 4 || ch < 2 || cw < 2 || !usable(image, boxes)) return null;
    const [batch, h, w, c] = image.shape;
    const numBoxes = boxes.shape[0];
    const out = be.makeOutput([numBoxes, ch, cw, c], 'float32');
    addon.cropAndResize(f32(be, image), f32(be, boxes), be.typedArrayFromHeap(boxInd) as Int32Array, f32(be, out), batch, h, w, c, numBoxes, ch, cw, attrs.extrapolationValue as number);
    return out;
  };
}

/**
 * AvgPool / AvgPoolGrad without padding (the encoders' 2x2 input downsampling): any window and
 * stride whose windows lie inside the input. Padded pools go to the wasm kernels.
 */
function poolParams(xShape: number[], attrs: Attrs): Int32Array | null {
  if (xShape.length !== 4) return null;
  const info = tf.backend_util.computePool2DInfo(
    xShape as [number, number, number, number],
    attrs.filterSize as number | [number, number],
    attrs.strides as number | [number, number],
    1,
    attrs.pad as PadAttr,
    attrs.dimRoundingMode as 'floor' | 'round' | 'ceil' | undefined,
  );
  const p = info.padInfo;
  if (p.top !== 0 || p.left !== 0 || p.bottom !== 0 || p.right !== 0 || info.outHeight < 1 || info.outWidth < 1) return null;
  const { batchSize, inHeight, inWidth, inChannels, outHeight, outWidth, filterHeight, filterWidth, strideHeight, strideWidth } = info;
  if ((outHeight - 1) * strideHeight + filterHeight > inHeight || (outWidth - 1) * strideWidth + filterWidth > inWidth) return null;
  return Int32Array.from([batchSize, inHeight, inWidth, inChannels, outHeight, outWidth, filterHeight, filterWidth, strideHeight, strideWidth]);
}

function avgPool(addon: NativeAddon): NativeFunc {
  return (be, { x }, attrs) => {
    if (!usable(x) || tf.util.sizeFromShape(x.shape) < MIN_NATIVE) return null;
    const params = poolParams(x.shape, attrs);
    if (!params) return null;
    const out = be.makeOutput([params[0]!, params[4]!, params[5]!, params[3]!], 'float32');
    addon.avgPool(f32(be, x), f32(be, out), params);
    return out;
  };
}

function avgPoolGrad(addon: NativeAddon): NativeFunc {
  return (be, { dy, input }, attrs) => {
    if (!usable(dy, input) || tf.util.sizeFromShape(input.shape) < MIN_NATIVE) return null;
    const params = poolParams(input.shape, attrs);
    if (!params || !tf.util.arraysEqual([params[0]!, params[4]!, params[5]!, params[3]!], dy.shape)) return null;
    const out = be.makeOutput(input.shape, 'float32');
    addon.avgPoolGrad(f32(be, dy), f32(be, out), params);
    return out;
  };
}

/** A float32 or int32 tensor's heap bytes as a Float32Array (for copies; after every allocation: a heap growth detaches older views). */
function view(be: WasmBackend, t: Info): Float32Array {
  const a = be.typedArrayFromHeap(t);
  return a instanceof Float32Array ? a : new Float32Array(a.buffer, a.byteOffset, a.length);
}

/**
 * Concat as block copies in the addon (float32 or int32: a copy keeps every bit). tfjs-wasm copies
 * one row of each input at a time through a subarray view (~0.7 ms for the scores' [2000,32] x 2).
 */
function concat(addon: NativeAddon): NativeFunc {
  return (be, inputs, attrs) => {
    const all = Object.values(inputs);
    if (all.length === 0) return null;
    const dtype = all[0]!.dtype;
    const ins = all.filter((t) => tf.util.sizeFromShape(t.shape) > 0);
    if ((dtype !== 'float32' && dtype !== 'int32') || all.some((t) => t.dtype !== dtype) || ins.length < 2 || ins.length > 13) return null;
    const axis = tf.util.parseAxisParam(attrs.axis as number, all[0]!.shape)[0]!;
    tf.backend_util.assertParamsConsistent(all.map((t) => t.shape), axis);
    const outShape = tf.backend_util.computeOutShape(all.map((t) => t.shape), axis);
    const outer = tf.util.sizeFromShape(outShape.slice(0, axis));
    const inner = Int32Array.from(ins, (t) => tf.util.sizeFromShape(t.shape.slice(axis)));
    const out = be.makeOutput(outShape, dtype);
    addon.concat(view(be, out), outer, inner, ...ins.map((t) => view(be, t)));
    return out;
  };
}

/** SplitV as block copies in the addon (the inverse of concat above; ./split.ts is its fallback). */
function splitV(addon: NativeAddon): NativeFunc {
  return (be, { x }, attrs) => {
    if (!x || (x.dtype !== 'float32' && x.dtype !== 'int32') || tf.util.sizeFromShape(x.shape) === 0) return null;
    const axis = tf.util.parseAxisParam(attrs.axis as number, x.shape)[0]!;
    const sizes = tf.backend_util.prepareSplitSize(x as unknown as tf.Tensor, attrs.numOrSizeSplits as number | number[], axis);
    if (sizes.length > 13) return null;
    const outer = tf.util.sizeFromShape(x.shape.slice(0, axis));
    const after = tf.util.sizeFromShape(x.shape.slice(axis + 1));
    const outs = sizes.map((s) => be.makeOutput(x.shape.map((d, k) => (k === axis ? s : d)), x.dtype));
    const parts = outs.filter((_, i) => sizes[i]! > 0);
    const inner = Int32Array.from(sizes.filter((s) => s > 0), (s) => s * after);
    addon.split(view(be, x), outer, inner, ...parts.map((t) => view(be, t)));
    return outs;
  };
}

/** Kernel name -> native implementation. */
export const NATIVE_KERNELS: Record<string, (addon: NativeAddon) => NativeFunc> = {
  Conv2D: conv2d,
  Conv2DBackpropInput: conv2dBackpropInput,
  Conv2DBackpropFilter: conv2dBackpropFilter,
  BatchMatMul: batchMatMul,
  TopK: topK,
  GatherV2: gather,
  UnsortedSegmentSum: unsortedSegmentSum,
  CropAndResize: cropAndResize,
  AvgPool: avgPool,
  AvgPoolGrad: avgPoolGrad,
  Concat: concat,
  SplitV: splitV,
  ...NATIVE_ELEMENTWISE,
};

/**
 * Replace each wasm kernel in NATIVE_KERNELS by its native version, keeping the registered one
 * (and its setup, which binds wasm functions) as the fallback. Call before the wasm backend
 * initialises, after the other wasm kernels are registered.
 */
export function registerNativeKernels(addon: NativeAddon): void {
  for (const [name, make] of Object.entries(NATIVE_KERNELS)) {
    const prev = tf.getKernel(name, 'wasm');
    if (!prev) throw new Error(`wasm kernel ${name} is not registered`);
    if (isNativeKernel(name)) continue;
    const native = make(addon);
    const cfg: NativeKernelConfig = {
      kernelName: name,
      backendName: 'wasm',
      setupFunc: prev.setupFunc,
      disposeFunc: prev.disposeFunc,
      kernelFunc: (args) => {
        const out = native(args.backend as unknown as WasmBackend, args.inputs as Record<string, Info>, args.attrs as Attrs);
        return out ?? prev.kernelFunc(args);
      },
      auvNative: true,
      auvFallback: prev.kernelFunc,
    };
    tf.unregisterKernel(name, 'wasm');
    tf.registerKernel(cfg);
  }
}

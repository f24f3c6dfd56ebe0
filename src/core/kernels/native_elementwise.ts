/**
 * Native versions of the broadcasting float32 arithmetic (Add, Sub, Multiply, RealDiv, Maximum,
 * Minimum), of the
 * exact unary maps (Square, Neg, Relu, Abs, ClipByValue) and of the Sum / Mean reductions, which
 * the element-wise parts of GroupNorm, SiLU and their gradients spend
 * most of their time in. Shapes are reduced to as few strided dimensions as possible here; the
 * addon loops over them with both cores. Small tensors stay on the wasm kernels (a native call
 * costs more than it saves below ~1k elements).
 */
import * as tf from '@tensorflow/tfjs';
import type { NativeAddon } from './native.js';
import type { NativeFunc } from './native_kernels.js';
import type { Info, WasmBackend } from './wasm_ops.js';

const MIN_SIZE = 1024;
const MAX_RANK = 8;
const OPS = { Add: 0, Sub: 1, Multiply: 2, RealDiv: 3, Maximum: 4, Minimum: 5 } as const;
const UNARY = { Square: 0, Neg: 1, Relu: 2, Abs: 3, ClipByValue: 4 } as const;

/** Element strides of `shape` broadcast to `outShape` (0 along broadcast or size-1 dims). */
export function broadcastStrides(shape: number[], outShape: number[]): number[] {
  const off = outShape.length - shape.length;
  const st = new Array<number>(outShape.length).fill(0);
  let acc = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    st[d + off] = shape[d] === 1 ? 0 : acc;
    acc *= shape[d];
  }
  return st;
}

/**
 * Drop size-1 dims and merge neighbours whose strides (one list per operand) compose, e.g.
 * [8,32,32,64] with strides [0,0,0,1] -> [8192, 64] with [0, 1]. Returns at least one dim.
 */
export function collapse(shape: number[], strides: number[][]): { shape: number[]; strides: number[][] } {
  const outShape: number[] = [];
  const outStrides: number[][] = strides.map(() => []);
  for (let d = 0; d < shape.length; d++) {
    if (shape[d] === 1) continue;
    const last = outShape.length - 1;
    const merges = last >= 0 && strides.every((s, k) => outStrides[k][last] === s[d] * shape[d]);
    if (merges) {
      outShape[last] *= shape[d];
      strides.forEach((s, k) => (outStrides[k][last] = s[d]));
    } else {
      outShape.push(shape[d]);
      strides.forEach((s, k) => outStrides[k].push(s[d]));
    }
  }
  if (outShape.length === 0) return { shape: [1], strides: strides.map(() => [0]) };
  return { shape: outShape, strides: outStrides };
}

const f32 = (be: WasmBackend, t: Info) => be.typedArrayFromHeap(t) as Float32Array;

function binary(addon: NativeAddon, op: number): NativeFunc {
  return (be, { a, b }) => {
    if (a.dtype !== 'float32' || b.dtype !== 'float32') return null;
    const outShape = tf.backend_util.assertAndGetBroadcastShape(a.shape, b.shape);
    // Small same-shape operands stay on wasm; a broadcast goes native at any size (tfjs-wasm's
    // broadcasting path with 2 threads took ~0.5 ms for [8,64] + [64], the addon ~0.02 ms).
    if (tf.util.sizeFromShape(outShape) < MIN_SIZE && tf.util.arraysEqual(a.shape, b.shape)) return null;
    const c = collapse(outShape, [broadcastStrides(a.shape, outShape), broadcastStrides(b.shape, outShape)]);
    if (c.shape.length > MAX_RANK) return null;
    const out = be.makeOutput(outShape, 'float32');
    addon.binary(op, f32(be, a), f32(be, b), f32(be, out), Int32Array.from([c.shape.length, ...c.shape, ...c.strides[0], ...c.strides[1]]));
    return out;
  };
}

function reduce(addon: NativeAddon, mean: boolean): NativeFunc {
  return (be, { x }, attrs) => {
    if (x.dtype !== 'float32' || tf.util.sizeFromShape(x.shape) < MIN_SIZE) return null;
    const axes = tf.util.parseAxisParam(attrs.axis as number | number[], x.shape);
    if (axes.length === 0) return null;
    const kept = x.shape.map((_, d) => !axes.includes(d));
    const outShape = x.shape.filter((_, d) => kept[d]);
    const outStrides = new Array<number>(x.shape.length).fill(0);
    let acc = 1;
    for (let d = x.shape.length - 1; d >= 0; d--) {
      if (!kept[d]) continue;
      outStrides[d] = x.shape[d] === 1 ? 0 : acc;
      acc *= x.shape[d];
    }
    const c = collapse(x.shape, [outStrides]);
    if (c.shape.length > MAX_RANK) return null;
    const shape = attrs.keepDims ? x.shape.map((s, d) => (kept[d] ? s : 1)) : outShape;
    const out = be.makeOutput(shape, 'float32');
    const outSize = tf.util.sizeFromShape(outShape);
    const count = tf.util.sizeFromShape(x.shape) / outSize;
    addon.reduceSum(f32(be, x), f32(be, out), Int32Array.from([c.shape.length, ...c.shape, ...c.strides[0]]), outSize, mean ? count : 1);
    return out;
  };
}

/**
 * x*x, -x, relu, |x|, clip: single exact operations, so the same bits as the wasm kernels, which run them
 * 10-60x slower than a native pass (0.8 ms for Square of 64k floats against 0.07 ms for Multiply).
 */
function unary(addon: NativeAddon, op: number): NativeFunc {
  return (be, { x }, attrs) => {
    if (x.dtype !== 'float32' || tf.util.sizeFromShape(x.shape) < MIN_SIZE) return null;
    const out = be.makeOutput(x.shape, 'float32');
    if (op === UNARY.ClipByValue) addon.unary(op, f32(be, x), f32(be, out), attrs.clipValueMin as number, attrs.clipValueMax as number);
    else addon.unary(op, f32(be, x), f32(be, out));
    return out;
  };
}

/** Kernel name -> native implementation, for native_kernels.ts. */
export const NATIVE_ELEMENTWISE: Record<string, (addon: NativeAddon) => NativeFunc> = {
  Add: (addon) => binary(addon, OPS.Add),
  Sub: (addon) => binary(addon, OPS.Sub),
  Multiply: (addon) => binary(addon, OPS.Multiply),
  RealDiv: (addon) => binary(addon, OPS.RealDiv),
  Maximum: (addon) => binary(addon, OPS.Maximum),
  Minimum: (addon) => binary(addon, OPS.Minimum),
  Sum: (addon) => reduce(addon, false),
  Mean: (addon) => reduce(addon, true),
  Square: (addon) => unary(addon, UNARY.Square),
  Neg: (addon) => unary(addon, UNARY.Neg),
  Relu: (addon) => unary(addon, UNARY.Relu),
  Abs: (addon) => unary(addon, UNARY.Abs),
  ClipByValue: (addon) => unary(addon, UNARY.ClipByValue),
};

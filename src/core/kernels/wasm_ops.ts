/**
 * Raw building blocks for composite wasm kernels: each call runs a registered wasm kernel
 * function directly on TensorInfos (no engine, no tape), so intermediates are released with
 * `free` and never show up in `tf.memory()`.
 */
import * as tf from '@tensorflow/tfjs';

export type Info = tf.TensorInfo;
type Attrs = Record<string, unknown>;
// The wasm backend object (BackendWasm); typed loosely because tfjs does not export its type.
export interface WasmBackend {
  incRef(dataId: tf.DataId): void;
  disposeData(dataId: tf.DataId, force?: boolean): boolean;
  makeOutput(shape: number[], dtype: tf.DataType): Info;
  typedArrayFromHeap(info: Info): Float32Array | Int32Array | Uint8Array;
}

const cache = new Map<string, tf.KernelFunc>();

/** The kernel function registered for `name` on wasm (looked up once). */
export function wasmKernel(name: string): tf.KernelFunc {
  let f = cache.get(name);
  if (!f) {
    const cfg = tf.getKernel(name, 'wasm');
    if (!cfg) throw new Error(`wasm kernel ${name} is not registered`);
    f = cfg.kernelFunc;
    cache.set(name, f);
  }
  return f;
}

function run(name: string, backend: WasmBackend, inputs: Record<string, Info>, attrs: Attrs = {}): Info {
  const out = wasmKernel(name)({ inputs, backend: backend as unknown as tf.KernelBackend, attrs: attrs as tf.NamedAttrMap });
  return out as Info;
}

/** Release an intermediate made by one of these helpers (not a view). */
export function free(backend: WasmBackend, t: Info): void {
  backend.disposeData(t.dataId);
}

/** Same data, another shape; a view, not to be freed. */
export function view(t: Info, shape: number[]): Info {
  return { dataId: t.dataId, shape, dtype: t.dtype };
}

export function transpose(backend: WasmBackend, x: Info, perm: number[]): Info {
  return run('Transpose', backend, { x }, { perm });
}

export function reverse(backend: WasmBackend, x: Info, dims: number[]): Info {
  return run('Reverse', backend, { x }, { dims });
}

export function pad(backend: WasmBackend, x: Info, paddings: [number, number][]): Info {
  return run('PadV2', backend, { x }, { paddings, constantValue: 0 });
}

export function slice(backend: WasmBackend, x: Info, begin: number[], size: number[]): Info {
  return run('Slice', backend, { x }, { begin, size });
}

export function batchMatMulRaw(backend: WasmBackend, a: Info, b: Info, transposeA = false, transposeB = false): Info {
  return run('BatchMatMul', backend, { a, b }, { transposeA, transposeB });
}

/** Plain NHWC conv2d with explicit padding [[0,0],[t,b],[l,r],[0,0]] (all >= 0). */
export function conv2dRaw(
  backend: WasmBackend,
  x: Info,
  filter: Info,
  strides: [number, number],
  dilations: [number, number],
  padTB: [number, number],
  padLR: [number, number],
): Info {
  const explicit = [[0, 0], padTB, padLR, [0, 0]];
  return run('Conv2D', backend, { x, filter }, {
    strides,
    dilations,
    pad: explicit,
    dataFormat: 'NHWC',
    dimRoundingMode: undefined,
  });
}

/**
 * Pad (positive) or crop (negative) H and W of an NHWC tensor so convolution paddings are
 * non-negative. Always returns a tensor the caller must `free` (a reference when unchanged).
 */
export function padOrCrop(
  backend: WasmBackend,
  x: Info,
  top: number,
  bottom: number,
  left: number,
  right: number,
): Info {
  const [n, h, w, c] = x.shape;
  const ct = Math.max(0, -top), cb = Math.max(0, -bottom), cl = Math.max(0, -left), cr = Math.max(0, -right);
  let cur = x;
  let owned = false;
  if (ct || cb || cl || cr) {
    cur = slice(backend, x, [0, ct, cl, 0], [n, h - ct - cb, w - cl - cr, c]);
    owned = true;
  }
  const pt = Math.max(0, top), pb = Math.max(0, bottom), pl = Math.max(0, left), pr = Math.max(0, right);
  if (pt || pb || pl || pr) {
    const p = pad(backend, cur, [[0, 0], [pt, pb], [pl, pr], [0, 0]]);
    if (owned) free(backend, cur);
    cur = p;
    owned = true;
  }
  if (!owned) {
    backend.incRef(x.dataId);
  }
  return cur;
}

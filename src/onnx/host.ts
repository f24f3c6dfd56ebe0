/**
 * Host-side (plain JS) tensors for constants and shape computations: initializers, Constant nodes
 * and everything computed from them and from Shape (spec section 4: shape computations are folded
 * on the host, never sent to the tensor engine).
 */
import { DT, num, type TensorP } from './proto.js';

export type HostDType = 'float32' | 'int64' | 'bool';

export class HostTensor {
  constructor(
    readonly dtype: HostDType,
    readonly shape: number[],
    /** float32: Float32Array; int64: Float64Array (exact below 2^53); bool: Uint8Array. */
    readonly data: Float32Array | Float64Array | Uint8Array,
  ) {
    const n = shape.reduce((a, b) => a * b, 1);
    if (data.length !== n) throw new Error(`HostTensor: ${data.length} values for shape [${shape.join(',')}]`);
  }
  get size(): number {
    return this.data.length;
  }
  /** Values as numbers. */
  values(): number[] {
    return Array.from(this.data as ArrayLike<number>);
  }
  static ints(values: number[], shape: number[] = [values.length]): HostTensor {
    return new HostTensor('int64', shape, Float64Array.from(values));
  }
  static floats(values: ArrayLike<number>, shape: number[]): HostTensor {
    return new HostTensor('float32', shape, Float32Array.from(values));
  }
  static make(dtype: HostDType, shape: number[], values: ArrayLike<number>): HostTensor {
    if (dtype === 'float32') return new HostTensor(dtype, shape, Float32Array.from(values));
    if (dtype === 'int64') return new HostTensor(dtype, shape, Float64Array.from(values, (v) => Math.trunc(v)));
    return new HostTensor(dtype, shape, Uint8Array.from(values, (v) => (v ? 1 : 0)));
  }
}

function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * 2 ** -14 * (f / 1024);
  if (e === 31) return f ? NaN : s * Infinity;
  return s * 2 ** (e - 15) * (1 + f / 1024);
}

/** Decode a TensorProto (raw_data or typed fields; external data via `readExternal`). */
export function hostFromProto(t: TensorP, readExternal?: (location: string, offset: number, length: number | undefined) => Uint8Array): HostTensor {
  const shape = (t.dims ?? []).map((d) => num(d));
  const n = shape.reduce((a, b) => a * b, 1);
  const dt = t.data_type ?? DT.FLOAT;
  let raw = t.raw_data && t.raw_data.length > 0 ? t.raw_data : undefined;
  if (t.data_location === 1) {
    if (!readExternal) throw new Error(`tensor ${t.name}: external data needs the model's file path`);
    const kv = new Map((t.external_data ?? []).map((e) => [e.key ?? '', e.value ?? '']));
    raw = readExternal(kv.get('location') ?? '', Number(kv.get('offset') ?? 0), kv.has('length') ? Number(kv.get('length')) : undefined);
  }
  const view = raw ? new DataView(raw.buffer, raw.byteOffset, raw.byteLength) : undefined;
  const read = (width: number, get: (dv: DataView, off: number) => number, field: ArrayLike<number> | undefined): number[] => {
    if (view) return Array.from({ length: n }, (_, k) => get(view, k * width));
    return Array.from(field ?? [], (v) => num(v as number));
  };
  switch (dt) {
    case DT.FLOAT:
      // raw little-endian float32 (the common case): one copy, no per-element decoding
      if (raw && raw.byteLength === 4 * n) return new HostTensor('float32', shape, new Float32Array(Uint8Array.prototype.slice.call(raw).buffer));
      return new HostTensor('float32', shape, Float32Array.from(read(4, (d, o) => d.getFloat32(o, true), t.float_data)));
    case DT.DOUBLE:
      return new HostTensor('float32', shape, Float32Array.from(read(8, (d, o) => d.getFloat64(o, true), t.double_data)));
    case DT.FLOAT16:
      return new HostTensor('float32', shape, Float32Array.from(read(2, (d, o) => d.getUint16(o, true), t.int32_data).map(halfToFloat)));
    case DT.INT64:
      return new HostTensor('int64', shape, Float64Array.from(view ? read(8, (d, o) => Number(d.getBigInt64(o, true)), undefined) : (t.int64_data ?? []).map((v) => num(v))));
    case DT.INT32:
      return new HostTensor('int64', shape, Float64Array.from(read(4, (d, o) => d.getInt32(o, true), t.int32_data)));
    case DT.INT8:
      return new HostTensor('int64', shape, Float64Array.from(read(1, (d, o) => d.getInt8(o), t.int32_data)));
    case DT.UINT8:
      return new HostTensor('int64', shape, Float64Array.from(read(1, (d, o) => d.getUint8(o), t.int32_data)));
    case DT.BOOL:
      return new HostTensor('bool', shape, Uint8Array.from(read(1, (d, o) => d.getUint8(o), t.int32_data)));
    default:
      throw new Error(`tensor ${t.name}: data type ${dt} is not supported`);
  }
}

/** Numpy-style broadcast of two shapes. */
export function broadcastShapes(a: readonly number[], b: readonly number[]): number[] {
  const r = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let k = 0; k < r; k++) {
    const x = a[a.length - r + k] ?? 1;
    const y = b[b.length - r + k] ?? 1;
    if (x !== y && x !== 1 && y !== 1) throw new Error(`shapes [${a.join(',')}] and [${b.join(',')}] do not broadcast`);
    out.push(x === 1 ? y : x);
  }
  return out;
}

function strides(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length).fill(1);
  for (let k = shape.length - 2; k >= 0; k--) s[k] = s[k + 1]! * shape[k + 1]!;
  return s;
}

/** Elementwise op with broadcasting on host tensors. */
export function hostBinary(a: HostTensor, b: HostTensor, fn: (x: number, y: number) => number, outType?: HostDType): HostTensor {
  const shape = broadcastShapes(a.shape, b.shape);
  const n = shape.reduce((p, q) => p * q, 1);
  const r = shape.length;
  const sa = strides(a.shape), sb = strides(b.shape), so = strides(shape);
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    let ia = 0, ib = 0;
    for (let k = 0; k < r; k++) {
      const c = Math.floor(i / so[k]!) % shape[k]!;
      const ka = k - (r - a.shape.length), kb = k - (r - b.shape.length);
      if (ka >= 0 && a.shape[ka]! > 1) ia += c * sa[ka]!;
      if (kb >= 0 && b.shape[kb]! > 1) ib += c * sb[kb]!;
    }
    out[i] = fn(a.data[ia]!, b.data[ib]!);
  }
  return HostTensor.make(outType ?? (a.dtype === 'float32' || b.dtype === 'float32' ? 'float32' : a.dtype), shape, out);
}

/** Gather along `axis` with integer indices (numpy take). */
export function hostGather(x: HostTensor, idx: HostTensor, axis: number): HostTensor {
  const ax = axis < 0 ? axis + x.shape.length : axis;
  const outer = x.shape.slice(0, ax).reduce((p, q) => p * q, 1);
  const dim = x.shape[ax]!;
  const inner = x.shape.slice(ax + 1).reduce((p, q) => p * q, 1);
  const ids = idx.values().map((i) => (i < 0 ? i + dim : i));
  const out: number[] = [];
  for (let o = 0; o < outer; o++) for (const i of ids) for (let k = 0; k < inner; k++) out.push(x.data[(o * dim + i) * inner + k]!);
  return HostTensor.make(x.dtype, [...x.shape.slice(0, ax), ...idx.shape, ...x.shape.slice(ax + 1)], out);
}

/** Concatenate along `axis`. */
export function hostConcat(xs: HostTensor[], axis: number): HostTensor {
  const first = xs[0]!;
  const ax = axis < 0 ? axis + first.shape.length : axis;
  const outer = first.shape.slice(0, ax).reduce((p, q) => p * q, 1);
  const out: number[] = [];
  for (let o = 0; o < outer; o++)
    for (const x of xs) {
      const chunk = x.shape.slice(ax).reduce((p, q) => p * q, 1);
      for (let k = 0; k < chunk; k++) out.push(x.data[o * chunk + k]!);
    }
  const shape = [...first.shape];
  shape[ax] = xs.reduce((s, x) => s + x.shape[ax]!, 0);
  const dtype = xs.some((x) => x.dtype === 'float32') ? 'float32' : first.dtype;
  return HostTensor.make(dtype, shape, out);
}

/** Slice with per-axis index lists (any steps). */
export function hostSliceIdx(x: HostTensor, perAxis: number[][]): HostTensor {
  const shape = perAxis.map((a) => a.length);
  const st = strides(x.shape);
  const out: number[] = [];
  const rec = (k: number, off: number): void => {
    if (k === shape.length) {
      out.push(x.data[off]!);
      return;
    }
    for (const i of perAxis[k]!) rec(k + 1, off + i * st[k]!);
  };
  if (shape.length === 0) out.push(x.data[0]!);
  else rec(0, 0);
  return HostTensor.make(x.dtype, shape, out);
}

/**
 * What every operator handler of the ONNX importer sees: values (host constants or device tensors
 * with a logical NCHW layout that may be held as NHWC), the node's attributes and inputs, and the
 * model's tensor cache. Handlers live in one file per operator family and are collected in
 * ops/index.ts, which is also the importer's list of supported operators.
 */
import * as tf from '@tensorflow/tfjs';
import { num, type AttributeP, type NodeP } from '../proto.js';
import { HostTensor } from '../host.js';

/** A device tensor with a logical NCHW layout; either form may be materialised. */
export class Dev {
  constructor(
    public nchw?: tf.Tensor,
    public nhwc?: tf.Tensor4D,
  ) {}
  get rank(): number {
    return this.nchw ? this.nchw.rank : 4;
  }
  get shape(): number[] {
    if (this.nchw) return this.nchw.shape;
    const [n, h, w, c] = this.nhwc!.shape;
    return [n, c, h, w];
  }
  get dtype(): tf.DataType {
    return (this.nchw ?? this.nhwc)!.dtype;
  }
}
export type Value = HostTensor | Dev;

/** The parts of an imported model an operator handler uses. */
export interface ModelHandle {
  readonly opset: number;
  /** Device tensor of a value; host initializers are cached. */
  tensorOf(v: Value): tf.Tensor;
  /** A tensor derived from constants, created once and kept across calls. */
  cached<T extends tf.Tensor>(key: string, make: () => T): T;
  /** Initializer name of a host value, if it is one. */
  initName(v: HostTensor): string | undefined;
}

/** Runs one node: its outputs in the order of the node's output names. */
export type OpHandler = (ctx: NodeCtx) => Value[];
/** Handlers of one operator family, keyed by ONNX op type. */
export type OpTable = Readonly<Record<string, OpHandler>>;

export const prod = (xs: readonly number[]): number => xs.reduce((a, b) => a * b, 1);
export const normAxis = (a: number, r: number): number => (a < 0 ? a + r : a);
/** NCHW axis -> NHWC axis. */
export const TO_NHWC = [0, 3, 1, 2];

export function hostToTf(h: HostTensor): tf.Tensor {
  if (h.dtype === 'float32') return tf.tensor(h.data as Float32Array, h.shape, 'float32');
  if (h.dtype === 'bool') return tf.tensor(h.data as Uint8Array, h.shape, 'bool');
  return tf.tensor(Int32Array.from(h.data as Float64Array, (v) => Math.max(-2147483648, Math.min(2147483647, v))), h.shape, 'int32');
}

/** The NCHW (logical) form of a device value. */
export function logical(d: Dev): tf.Tensor {
  if (!d.nchw) {
    const x = d.nhwc!;
    const [n, h, w, c] = x.shape;
    // When H*W == 1 or C == 1 both layouts share the same memory order.
    d.nchw = h * w === 1 || c === 1 ? tf.reshape(x, [n, c, h, w]) : tf.transpose(x, [0, 3, 1, 2]);
  }
  return d.nchw;
}

/** The NHWC form of a rank-4 device value. */
export function channelsLast(d: Dev): tf.Tensor4D {
  if (!d.nhwc) {
    const x = d.nchw!;
    if (x.rank !== 4) throw new Error(`expected a 4-D tensor, got shape [${x.shape.join(',')}]`);
    const [n, c, h, w] = x.shape;
    d.nhwc = (h! * w! === 1 || c === 1 ? tf.reshape(x, [n!, h!, w!, c!]) : tf.transpose(x, [0, 2, 3, 1])) as tf.Tensor4D;
  }
  return d.nhwc;
}

export const nhwcOut = (t: tf.Tensor): Dev => new Dev(undefined, t as tf.Tensor4D);
export const out = (t: tf.Tensor): Dev => new Dev(t);

/** One node being run: attribute and input access for its handler. */
export class NodeCtx {
  readonly attrs: Map<string, AttributeP>;
  readonly op: string;
  constructor(
    readonly model: ModelHandle,
    readonly node: NodeP,
    readonly ins: (Value | undefined)[],
  ) {
    this.attrs = new Map((node.attribute ?? []).map((a) => [a.name ?? '', a]));
    this.op = node.op_type ?? '';
  }

  ai(name: string, def: number): number {
    const a = this.attrs.get(name);
    return a && a.i !== undefined && a.i !== null ? num(a.i) : def;
  }
  af(name: string, def: number): number {
    const a = this.attrs.get(name);
    return a && a.f !== undefined && a.f !== null ? a.f : def;
  }
  aints(name: string): number[] | undefined {
    const a = this.attrs.get(name);
    return a && a.ints && a.ints.length ? a.ints.map((v) => num(v)) : undefined;
  }
  astr(name: string, def: string): string {
    const a = this.attrs.get(name);
    return a && a.s && a.s.length ? new TextDecoder().decode(a.s) : def;
  }
  has(k: number): boolean {
    return this.ins[k] !== undefined;
  }
  v(k: number): Value {
    const x = this.ins[k];
    if (!x) throw new Error(`input ${k} is required`);
    return x;
  }
  t(k: number): tf.Tensor {
    return this.model.tensorOf(this.v(k));
  }
  host(k: number): HostTensor {
    const x = this.v(k);
    if (!(x instanceof HostTensor)) throw new Error(`input ${k} ('${this.node.input?.[k]}') must be a constant (initializer or shape computation)`);
    return x;
  }
  shapeOf(k: number): number[] {
    const x = this.v(k);
    return x instanceof HostTensor ? x.shape : x.shape;
  }
  opsetLt(v: number): boolean {
    return this.model.opset < v;
  }
}

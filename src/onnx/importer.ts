/**
 * A differentiable ONNX importer (spec section 4): the graph is rebuilt from tfjs ops, so tf.grad
 * works through an imported ResNet, CLIP image tower or VAE decoder. Inputs and outputs keep the
 * ONNX layout (NCHW); inside, 4-D activations produced by convolutions and pools stay NHWC and are
 * only transposed back when an operator needs the logical layout. Shape computations (Shape,
 * Gather, Concat, Unsqueeze, ... on constants) are evaluated on the host.
 */
import * as tf from '@tensorflow/tfjs';
import { readFileSync, openSync, readSync, closeSync, fstatSync } from 'node:fs';
import path from 'node:path';
import { InputError } from '../core/errors.js';
import { decodeModel, num, DT, type AttributeP, type NodeP, type ValueInfoP } from './proto.js';
import { HostTensor, hostFromProto, hostBinary, hostGather, hostConcat, hostSliceIdx, broadcastShapes } from './host.js';

/** A device tensor with a logical NCHW layout; either form may be materialised. */
class Dev {
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
type Value = HostTensor | Dev;

export interface OnnxValueInfo {
  name: string;
  /** Dimensions; symbolic ones as strings, unknown as null. */
  shape: (number | string | null)[] | null;
  elemType: number;
}

export interface OnnxModel {
  readonly inputs: OnnxValueInfo[];
  readonly outputs: OnnxValueInfo[];
  readonly opset: number;
  /** Operator types used by the graph. */
  readonly opTypes: string[];
  /** Run the graph (differentiable). Inputs and outputs are in ONNX layout (NCHW). */
  apply(inputs: Record<string, tf.Tensor>): Record<string, tf.Tensor>;
  /** Number of weight values (float initializers). */
  readonly parameterCount: number;
  dispose(): void;
}

const SUPPORTED = new Set(
  (
    'Conv ConvTranspose GroupNormalization BatchNormalization Relu LeakyRelu PRelu Elu Selu MaxPool AveragePool GlobalAveragePool GlobalMaxPool Gemm MatMul Add Sub Mul Div Pow Sqrt ' +
    'Erf Sigmoid Tanh Exp Log Abs Neg Reciprocal Softplus HardSigmoid HardSwish Floor Ceil Sin Cos Softmax LogSoftmax ReduceMean ReduceSum ReduceMax ' +
    'ReduceMin LayerNormalization InstanceNormalization Reshape Flatten Transpose Concat Slice Gather Unsqueeze Squeeze Shape Size Constant ' +
    'ConstantOfShape Resize Upsample Identity Dropout Gelu Clip Cast Split Expand Where Equal Less Greater Not And Or Range Pad Sum Max Min Mean Tile ReduceL2 ReduceSumSquare ReduceProd Sign'
  ).split(' '),
);

/** Operator types the importer supports. */
export function supportedOps(): string[] {
  return [...SUPPORTED].sort();
}

function attrMap(node: NodeP): Map<string, AttributeP> {
  return new Map((node.attribute ?? []).map((a) => [a.name ?? '', a]));
}

function infoOf(v: ValueInfoP): OnnxValueInfo {
  const tt = v.type?.tensor_type;
  const dims = tt?.shape?.dim;
  return {
    name: v.name ?? '',
    elemType: tt?.elem_type ?? DT.FLOAT,
    shape: dims ? dims.map((d) => (d.dim_value !== undefined && d.dim_value !== null && num(d.dim_value) > 0 ? num(d.dim_value) : d.dim_param ? d.dim_param : null)) : null,
  };
}

const prod = (xs: readonly number[]): number => xs.reduce((a, b) => a * b, 1);
const normAxis = (a: number, r: number): number => (a < 0 ? a + r : a);
/** NCHW axis -> NHWC axis. */
const TO_NHWC = [0, 3, 1, 2];

/**
 * Import an ONNX model from a file path or bytes. Throws an InputError naming the op type and node
 * for unsupported operators.
 */
export async function importOnnx(pathOrBytes: string | Uint8Array): Promise<OnnxModel> {
  const file = typeof pathOrBytes === 'string' ? pathOrBytes : '<onnx bytes>';
  let bytes: Uint8Array;
  try {
    bytes = typeof pathOrBytes === 'string' ? readFileSync(pathOrBytes) : pathOrBytes;
  } catch (err) {
    throw new InputError(`cannot read ONNX file: ${(err as Error).message}`, file);
  }
  let model;
  try {
    model = decodeModel(bytes);
  } catch (err) {
    throw new InputError(`not an ONNX model (protobuf decode failed: ${(err as Error).message})`, file);
  }
  const graph = model.graph;
  if (!graph || !graph.node) throw new InputError('ONNX model has no graph', file);
  const opsetEntry = (model.opset_import ?? []).find((o) => !o.domain || o.domain === 'ai.onnx');
  const opset = opsetEntry ? num(opsetEntry.version) : 13;
  const baseDir = typeof pathOrBytes === 'string' ? path.dirname(pathOrBytes) : process.cwd();
  const readExternal = (loc: string, offset: number, length: number | undefined): Uint8Array => {
    const p = path.join(baseDir, loc);
    const fd = openSync(p, 'r');
    try {
      const len = length ?? fstatSync(fd).size - offset;
      const buf = Buffer.alloc(len);
      readSync(fd, buf, 0, len, offset);
      return buf;
    } finally {
      closeSync(fd);
    }
  };
  const inits = new Map<string, HostTensor>();
  let parameterCount = 0;
  for (const t of graph.initializer ?? []) {
    const h = hostFromProto(t, readExternal);
    inits.set(t.name ?? '', h);
    if (h.dtype === 'float32') parameterCount += h.size;
  }
  for (const node of graph.node) {
    const op = node.op_type ?? '';
    if ((node.domain && node.domain !== 'ai.onnx') || !SUPPORTED.has(op)) {
      throw new InputError(
        `unsupported ONNX operator '${node.domain ? node.domain + '.' : ''}${op}' in node '${node.name ?? '(unnamed)'}'; supported: ${supportedOps().join(', ')}`,
        file,
      );
    }
  }
  const inputs = (graph.input ?? []).filter((v) => !inits.has(v.name ?? '')).map(infoOf);
  const outputs = (graph.output ?? []).map(infoOf);
  return new ImportedModel(file, graph.node, inits, inputs, outputs, opset, parameterCount);
}

class ImportedModel implements OnnxModel {
  private readonly cache = new Map<string, tf.Tensor>();
  readonly opTypes: string[];
  constructor(
    private readonly file: string,
    private readonly nodes: NodeP[],
    private readonly inits: Map<string, HostTensor>,
    readonly inputs: OnnxValueInfo[],
    readonly outputs: OnnxValueInfo[],
    readonly opset: number,
    readonly parameterCount: number,
  ) {
    this.opTypes = [...new Set(nodes.map((n) => n.op_type ?? ''))].sort();
    this.initNames = new Map([...inits].map(([k, h]) => [h, k]));
  }
  private readonly initNames: Map<HostTensor, string>;
  /** Initializer name of a host value, if it is one. */
  initName(v: HostTensor): string | undefined {
    return this.initNames.get(v);
  }

  dispose(): void {
    for (const t of this.cache.values()) t.dispose();
    this.cache.clear();
  }

  /** A tensor derived from constants, created once and kept across calls. */
  cached<T extends tf.Tensor>(key: string, make: () => T): T {
    const hit = this.cache.get(key);
    if (hit && !hit.isDisposed) return hit as T;
    const t = tf.keep(tf.tidy(make));
    this.cache.set(key, t);
    return t;
  }

  apply(feeds: Record<string, tf.Tensor>): Record<string, tf.Tensor> {
    return tf.tidy(() => {
      const env = new Map<string, Value>();
      for (const [k, v] of this.inits) env.set(k, v);
      for (const inp of this.inputs) {
        const t = feeds[inp.name];
        if (!t) throw new InputError(`missing input '${inp.name}'`, this.file);
        if (inp.shape && inp.shape.length !== t.rank) throw new InputError(`input '${inp.name}' must have rank ${inp.shape.length}, got shape [${t.shape.join(',')}]`, this.file);
        env.set(inp.name, new Dev(t));
      }
      for (const node of this.nodes) {
        const ins = (node.input ?? []).map((n) => {
          if (!n) return undefined;
          const v = env.get(n);
          if (!v) throw new InputError(`node '${node.name}' (${node.op_type}) reads '${n}', which is not computed before it`, this.file);
          return v;
        });
        let outs: Value[];
        try {
          outs = new NodeRunner(this, node, ins).run();
        } catch (err) {
          if (err instanceof InputError) throw err;
          throw new InputError(`node '${node.name}' (${node.op_type}): ${(err as Error).message}`, this.file);
        }
        (node.output ?? []).forEach((name, k) => {
          if (name && outs[k]) env.set(name, outs[k]!);
        });
      }
      const result: Record<string, tf.Tensor> = {};
      for (const o of this.outputs) {
        const v = env.get(o.name);
        if (!v) throw new InputError(`graph output '${o.name}' is never computed`, this.file);
        result[o.name] = v instanceof Dev ? logical(v) : hostToTf(v);
      }
      return result;
    });
  }

  /** Device tensor of a value; host initializers are cached. */
  tensorOf(v: Value): tf.Tensor {
    if (v instanceof Dev) return logical(v);
    const k = this.initNames.get(v);
    return k !== undefined ? this.cached(`init:${k}`, () => hostToTf(v)) : hostToTf(v);
  }

}

function hostToTf(h: HostTensor): tf.Tensor {
  if (h.dtype === 'float32') return tf.tensor(h.data as Float32Array, h.shape, 'float32');
  if (h.dtype === 'bool') return tf.tensor(h.data as Uint8Array, h.shape, 'bool');
  return tf.tensor(Int32Array.from(h.data as Float64Array, (v) => Math.max(-2147483648, Math.min(2147483647, v))), h.shape, 'int32');
}

/** The NCHW (logical) form of a device value. */
function logical(d: Dev): tf.Tensor {
  if (!d.nchw) {
    const x = d.nhwc!;
    const [n, h, w, c] = x.shape;
    // When H*W == 1 or C == 1 both layouts share the same memory order.
    d.nchw = h * w === 1 || c === 1 ? tf.reshape(x, [n, c, h, w]) : tf.transpose(x, [0, 3, 1, 2]);
  }
  return d.nchw;
}

/** The NHWC form of a rank-4 device value. */
function channelsLast(d: Dev): tf.Tensor4D {
  if (!d.nhwc) {
    const x = d.nchw!;
    if (x.rank !== 4) throw new Error(`expected a 4-D tensor, got shape [${x.shape.join(',')}]`);
    const [n, c, h, w] = x.shape;
    d.nhwc = (h! * w! === 1 || c === 1 ? tf.reshape(x, [n!, h!, w!, c!]) : tf.transpose(x, [0, 2, 3, 1])) as tf.Tensor4D;
  }
  return d.nhwc;
}

/**
 * Valid conv with a constant filter whose input gradient is a stride-1 conv of the zero-dilated,
 * padded output gradient with the flipped, channel-swapped filter, prepared once per model (the
 * generic Conv2DBackpropInput kernel re-derives it on every call: ~6x slower on 7x7x512 layers).
 */
function convConstFilter(x: tf.Tensor4D, w: tf.Tensor4D, flipped: tf.Tensor4D, st: [number, number]): tf.Tensor4D {
  const [, hp, wp] = x.shape;
  const [kh, kw] = w.shape;
  const f = tf.customGrad(((xi: tf.Tensor) => {
    const value = tf.conv2d(xi as tf.Tensor4D, w, st, 'valid');
    const gradFunc = (dy: tf.Tensor): tf.Tensor => {
      let d = dy as tf.Tensor4D;
      const [n, oh, ow, m] = d.shape;
      if (st[0] > 1 || st[1] > 1)
        d = tf.reshape(tf.pad(tf.reshape(d, [n, oh, 1, ow, 1, m]), [[0, 0], [0, 0], [0, st[0] - 1], [0, 0], [0, st[1] - 1], [0, 0]]), [n, oh * st[0], ow * st[1], m]);
      // full correlation: kh-1 rows on top; rows at the bottom so that the output has hp rows
      const fit = (t: tf.Tensor4D, axis: 1 | 2, len: number, k: number): tf.Tensor4D => {
        const extra = len - t.shape[axis];
        if (extra < 0) t = tf.slice(t, [0, 0, 0, 0], t.shape.map((v, i) => (i === axis ? len : v)));
        const p: [number, number][] = [[0, 0], [0, 0], [0, 0], [0, 0]];
        p[axis] = [k - 1, Math.max(0, extra) + k - 1 - (k - 1)];
        return tf.pad(t, p);
      };
      d = fit(fit(d, 1, hp, kh), 2, wp, kw);
      return tf.conv2d(d, flipped, 1, 'valid');
    };
    return { value, gradFunc };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return f(x) as tf.Tensor4D;
}

/** The wasm backend has no depthwise-conv gradient kernels: there, depthwise convs are built from slices. */
function depthwiseNeedsTaps(): boolean {
  return !tf.getKernel('DepthwiseConv2dNativeBackpropInput', tf.getBackend());
}

/** Depthwise conv (valid padding) as a sum over kernel taps of shifted slices times per-channel weights. */
function depthwiseByTaps(x: tf.Tensor4D, w: tf.Tensor4D, st: [number, number]): tf.Tensor4D {
  const [n, h, wd, c] = x.shape;
  const [kh, kw, , mult] = w.shape;
  if (mult !== 1) throw new Error('depthwise convolution with a channel multiplier is not supported on the wasm backend');
  const oh1 = h - kh + 1, ow1 = wd - kw + 1;
  let acc: tf.Tensor4D | null = null;
  for (let i = 0; i < kh; i++)
    for (let j = 0; j < kw; j++) {
      const tap = tf.mul(tf.slice(x, [0, i, j, 0], [n, oh1, ow1, c]), tf.reshape(tf.slice(w, [i, j, 0, 0], [1, 1, c, 1]), [c])) as tf.Tensor4D;
      acc = acc ? tf.add(acc, tap) : tap;
    }
  let y = acc!;
  if (st[0] !== 1 || st[1] !== 1) {
    // subsample: keep rows/cols 0, s, 2s, ... via pad-to-multiple, reshape and slice
    const oh = Math.floor((oh1 - 1) / st[0]) + 1, ow = Math.floor((ow1 - 1) / st[1]) + 1;
    y = tf.pad(y, [[0, 0], [0, oh * st[0] - oh1 > 0 ? oh * st[0] - oh1 : 0], [0, ow * st[1] - ow1 > 0 ? ow * st[1] - ow1 : 0], [0, 0]]);
    y = tf.slice(y, [0, 0, 0, 0], [n, oh * st[0], ow * st[1], c]);
    y = tf.reshape(tf.slice(tf.reshape(y, [n, oh, st[0], ow, st[1], c]), [0, 0, 0, 0, 0, 0], [n, oh, 1, ow, 1, c]), [n, oh, ow, c]);
  }
  return y;
}

const nhwcOut = (t: tf.Tensor): Dev => new Dev(undefined, t as tf.Tensor4D);
const out = (t: tf.Tensor): Dev => new Dev(t);

class NodeRunner {
  private readonly attrs: Map<string, AttributeP>;
  private readonly op: string;
  constructor(
    private readonly model: ImportedModel,
    private readonly node: NodeP,
    private readonly ins: (Value | undefined)[],
  ) {
    this.attrs = attrMap(node);
    this.op = node.op_type ?? '';
  }

  // ---- attribute and input access ----
  private ai(name: string, def: number): number {
    const a = this.attrs.get(name);
    return a && a.i !== undefined && a.i !== null ? num(a.i) : def;
  }
  private af(name: string, def: number): number {
    const a = this.attrs.get(name);
    return a && a.f !== undefined && a.f !== null ? a.f : def;
  }
  private aints(name: string): number[] | undefined {
    const a = this.attrs.get(name);
    return a && a.ints && a.ints.length ? a.ints.map((v) => num(v)) : undefined;
  }
  private astr(name: string, def: string): string {
    const a = this.attrs.get(name);
    return a && a.s && a.s.length ? new TextDecoder().decode(a.s) : def;
  }
  private has(k: number): boolean {
    return this.ins[k] !== undefined;
  }
  private v(k: number): Value {
    const x = this.ins[k];
    if (!x) throw new Error(`input ${k} is required`);
    return x;
  }
  private t(k: number): tf.Tensor {
    return this.model.tensorOf(this.v(k));
  }
  private host(k: number): HostTensor {
    const x = this.v(k);
    if (!(x instanceof HostTensor)) throw new Error(`input ${k} ('${this.node.input?.[k]}') must be a constant (initializer or shape computation)`);
    return x;
  }
  private optInts(k: number, attr: string): number[] | undefined {
    if (this.has(k)) return this.host(k).values();
    return this.aints(attr);
  }
  private shapeOf(k: number): number[] {
    const x = this.v(k);
    return x instanceof HostTensor ? x.shape : x.shape;
  }
  private allHost(): boolean {
    return this.ins.every((x) => x === undefined || x instanceof HostTensor);
  }

  run(): Value[] {
    const fn = (this as unknown as Record<string, (() => Value[]) | undefined>)[`op${this.op}`];
    if (!fn) throw new Error(`operator ${this.op} is not implemented`);
    return fn.call(this);
  }

  // ---- elementwise ----
  private unary(f: (x: tf.Tensor) => tf.Tensor, hostF?: (x: number) => number): Value[] {
    const x = this.v(0);
    if (x instanceof HostTensor && hostF && x.dtype !== 'bool') return [HostTensor.make(x.dtype, x.shape, x.values().map(hostF))];
    if (x instanceof Dev && x.nhwc && !x.nchw) return [nhwcOut(f(x.nhwc))];
    return [out(f(this.t(0)))];
  }
  private binary(f: (a: tf.Tensor, b: tf.Tensor) => tf.Tensor, hostF?: (a: number, b: number) => number, hostType?: HostTensor['dtype']): Value[] {
    const a = this.v(0), b = this.v(1);
    if (a instanceof HostTensor && b instanceof HostTensor && hostF) return [hostBinary(a, b, hostF, hostType)];
    const outRank = Math.max(this.shapeOf(0).length, this.shapeOf(1).length);
    const aN = a instanceof Dev && a.nhwc !== undefined, bN = b instanceof Dev && b.nhwc !== undefined;
    if (outRank === 4 && (aN || bN)) return [nhwcOut(f(this.asNhwc(0), this.asNhwc(1)))];
    return [out(f(this.t(0), this.t(1)))];
  }
  /** Operand k as an NHWC-broadcastable tensor (rank <= 4 logical NCHW shapes padded and permuted). */
  private asNhwc(k: number): tf.Tensor {
    const x = this.v(k);
    if (x instanceof Dev && x.rank === 4) return channelsLast(x);
    const s = x instanceof HostTensor ? x.shape : x.shape;
    const to4 = (t: tf.Tensor): tf.Tensor => {
      const p = [...Array<number>(4 - s.length).fill(1), ...s];
      return tf.transpose(tf.reshape(t, p), [0, 2, 3, 1]);
    };
    if (x instanceof HostTensor) {
      if (s.length === 0) return this.model.tensorOf(x);
      const name = this.model.initName(x);
      return name !== undefined ? this.model.cached(`nhwc:${name}`, () => to4(this.model.tensorOf(x))) : to4(this.model.tensorOf(x));
    }
    return s.length === 0 ? this.t(k) : to4(this.t(k));
  }
  private sameDtype(a: tf.Tensor, b: tf.Tensor): [tf.Tensor, tf.Tensor] {
    if (a.dtype === b.dtype) return [a, b];
    return [a.dtype === 'float32' ? a : tf.cast(a, 'float32'), b.dtype === 'float32' ? b : tf.cast(b, 'float32')];
  }
  opAdd(): Value[] {
    return this.binary((a, b) => tf.add(...this.sameDtype(a, b)), (x, y) => x + y);
  }
  opSub(): Value[] {
    return this.binary((a, b) => tf.sub(...this.sameDtype(a, b)), (x, y) => x - y);
  }
  opMul(): Value[] {
    return this.binary((a, b) => tf.mul(...this.sameDtype(a, b)), (x, y) => x * y);
  }
  opDiv(): Value[] {
    const a = this.v(0), b = this.v(1);
    const intDiv = a instanceof HostTensor && b instanceof HostTensor && a.dtype === 'int64' && b.dtype === 'int64';
    return this.binary((x, y) => tf.div(...this.sameDtype(x, y)), intDiv ? (x, y) => Math.trunc(x / y) : (x, y) => x / y);
  }
  opPow(): Value[] {
    const e = this.v(1);
    if (e instanceof HostTensor && e.size === 1) {
      const p = e.data[0]!;
      if (p === 1) return this.unary((x) => x, (x) => x);
      if (p === 2) return this.unary((x) => tf.square(x), (x) => x * x);
      if (p === 3) return this.unary((x) => tf.mul(tf.square(x), x), (x) => x ** 3);
      if (p === 0.5) return this.unary((x) => tf.sqrt(x), Math.sqrt);
    }
    return this.binary((a, b) => tf.pow(...this.sameDtype(a, b)), (x, y) => x ** y);
  }
  opMax(): Value[] {
    return this.variadic((a, b) => tf.maximum(a, b));
  }
  opMin(): Value[] {
    return this.variadic((a, b) => tf.minimum(a, b));
  }
  opSum(): Value[] {
    return this.variadic((a, b) => tf.add(a, b));
  }
  opMean(): Value[] {
    const n = this.ins.length;
    const [s] = this.variadic((a, b) => tf.add(a, b));
    return [out(tf.div(this.model.tensorOf(s!), n))];
  }
  private variadic(f: (a: tf.Tensor, b: tf.Tensor) => tf.Tensor): Value[] {
    let acc = this.t(0);
    for (let k = 1; k < this.ins.length; k++) acc = f(acc, this.t(k));
    return [out(acc)];
  }
  opEqual(): Value[] {
    return this.binary((a, b) => tf.equal(...this.sameDtype(a, b)), (x, y) => (x === y ? 1 : 0), 'bool');
  }
  opLess(): Value[] {
    return this.binary((a, b) => tf.less(...this.sameDtype(a, b)), (x, y) => (x < y ? 1 : 0), 'bool');
  }
  opGreater(): Value[] {
    return this.binary((a, b) => tf.greater(...this.sameDtype(a, b)), (x, y) => (x > y ? 1 : 0), 'bool');
  }
  opAnd(): Value[] {
    return this.binary((a, b) => tf.logicalAnd(tf.cast(a, 'bool'), tf.cast(b, 'bool')), (x, y) => (x && y ? 1 : 0), 'bool');
  }
  opOr(): Value[] {
    return this.binary((a, b) => tf.logicalOr(tf.cast(a, 'bool'), tf.cast(b, 'bool')), (x, y) => (x || y ? 1 : 0), 'bool');
  }
  opSign(): Value[] {
    return this.unary((x) => tf.sign(x), Math.sign);
  }
  opTile(): Value[] {
    const reps = this.host(1).values();
    const x = this.v(0);
    if (x instanceof HostTensor) {
      const idx = x.shape.map((d, k) => Array.from({ length: d * reps[k]! }, (_, i) => i % d));
      return [hostSliceIdx(x, idx)];
    }
    // Concatenation copies (tfjs' tile gradient stops at rank 4).
    let t = this.t(0);
    reps.forEach((r, ax) => {
      if (r > 1) t = tf.concat(new Array<tf.Tensor>(r).fill(t), ax);
    });
    return [out(t)];
  }
  opNot(): Value[] {
    const x = this.v(0);
    if (x instanceof HostTensor) return [HostTensor.make('bool', x.shape, x.values().map((v) => (v ? 0 : 1)))];
    return [out(tf.logicalNot(this.t(0)))];
  }
  opWhere(): Value[] {
    const c = this.v(0), a = this.v(1), b = this.v(2);
    if (c instanceof HostTensor && a instanceof HostTensor && b instanceof HostTensor) {
      const ab = hostBinary(a, b, (x) => x);
      const shape = broadcastShapes(c.shape, ab.shape);
      const ca = hostBinary(c, HostTensor.make('bool', shape, new Array(prod(shape)).fill(0)), (x) => x, 'bool');
      const av = hostBinary(a, HostTensor.make(a.dtype, shape, new Array(prod(shape)).fill(0)), (x) => x, a.dtype);
      const bv = hostBinary(b, HostTensor.make(b.dtype, shape, new Array(prod(shape)).fill(0)), (x) => x, b.dtype);
      return [HostTensor.make(a.dtype, shape, ca.values().map((x, i) => (x ? av.data[i]! : bv.data[i]!)))];
    }
    const shape = broadcastShapes(broadcastShapes(this.shapeOf(0), this.shapeOf(1)), this.shapeOf(2));
    const [x, y] = this.sameDtype(this.t(1), this.t(2));
    return [out(tf.where(tf.broadcastTo(tf.cast(this.t(0), 'bool'), shape), tf.broadcastTo(x, shape), tf.broadcastTo(y, shape)))];
  }
  opRelu(): Value[] {
    return this.unary((x) => tf.relu(x), (x) => Math.max(0, x));
  }
  opLeakyRelu(): Value[] {
    const a = this.af('alpha', 0.01);
    return this.unary((x) => tf.leakyRelu(x, a));
  }
  opPRelu(): Value[] {
    return this.binary((x, s) => tf.add(tf.relu(x), tf.mul(s, tf.neg(tf.relu(tf.neg(x))))));
  }
  opElu(): Value[] {
    const a = this.af('alpha', 1);
    return this.unary((x) => (a === 1 ? tf.elu(x) : tf.where(tf.greater(x, 0), x, tf.mul(a, tf.sub(tf.exp(tf.minimum(x, 0)), 1)))));
  }
  opSelu(): Value[] {
    return this.unary((x) => tf.selu(x));
  }
  opSigmoid(): Value[] {
    return this.unary((x) => tf.sigmoid(x));
  }
  opTanh(): Value[] {
    return this.unary((x) => tf.tanh(x));
  }
  opExp(): Value[] {
    return this.unary((x) => tf.exp(x), Math.exp);
  }
  opLog(): Value[] {
    return this.unary((x) => tf.log(x), Math.log);
  }
  opAbs(): Value[] {
    return this.unary((x) => tf.abs(x), Math.abs);
  }
  opNeg(): Value[] {
    return this.unary((x) => tf.neg(x), (x) => -x);
  }
  opSqrt(): Value[] {
    return this.unary((x) => tf.sqrt(x), Math.sqrt);
  }
  opReciprocal(): Value[] {
    return this.unary((x) => tf.reciprocal(x), (x) => 1 / x);
  }
  opFloor(): Value[] {
    return this.unary((x) => tf.floor(x), Math.floor);
  }
  opCeil(): Value[] {
    return this.unary((x) => tf.ceil(x), Math.ceil);
  }
  opSin(): Value[] {
    return this.unary((x) => tf.sin(x), Math.sin);
  }
  opCos(): Value[] {
    return this.unary((x) => tf.cos(x), Math.cos);
  }
  opErf(): Value[] {
    return this.unary((x) => tf.erf(x));
  }
  opSoftplus(): Value[] {
    return this.unary((x) => tf.softplus(x));
  }
  opHardSigmoid(): Value[] {
    const a = this.af('alpha', 0.2), b = this.af('beta', 0.5);
    return this.unary((x) => tf.clipByValue(tf.add(tf.mul(x, a), b), 0, 1));
  }
  opHardSwish(): Value[] {
    return this.unary((x) => tf.mul(x, tf.clipByValue(tf.add(tf.mul(x, 1 / 6), 0.5), 0, 1)));
  }
  opGelu(): Value[] {
    const approx = this.astr('approximate', 'none');
    return this.unary((x) =>
      approx === 'tanh'
        ? tf.mul(tf.mul(x, 0.5), tf.add(1, tf.tanh(tf.mul(Math.sqrt(2 / Math.PI), tf.add(x, tf.mul(0.044715, tf.pow(x, 3)))))))
        : tf.mul(tf.mul(x, 0.5), tf.add(1, tf.erf(tf.mul(x, Math.SQRT1_2)))),
    );
  }
  opIdentity(): Value[] {
    return [this.v(0)];
  }
  opDropout(): Value[] {
    return [this.v(0)];
  }
  opClip(): Value[] {
    let lo = -Infinity, hi = Infinity;
    if (this.opsetLt(11)) {
      lo = this.af('min', -3.4028234663852886e38);
      hi = this.af('max', 3.4028234663852886e38);
    } else {
      if (this.has(1)) lo = this.host(1).data[0]!;
      if (this.has(2)) hi = this.host(2).data[0]!;
    }
    return this.unary((x) => tf.clipByValue(x, Math.max(lo, -3.4e38), Math.min(hi, 3.4e38)), (x) => Math.min(hi, Math.max(lo, x)));
  }
  opCast(): Value[] {
    const to = this.ai('to', DT.FLOAT);
    const x = this.v(0);
    const kind = to === DT.FLOAT || to === DT.DOUBLE || to === DT.FLOAT16 ? 'float32' : to === DT.BOOL ? 'bool' : 'int64';
    if (x instanceof HostTensor) return [HostTensor.make(kind, x.shape, x.values())];
    const target = kind === 'int64' ? 'int32' : kind;
    if (x.dtype === target) return [x];
    return [out(tf.cast(this.t(0), target))];
  }
  private opsetLt(v: number): boolean {
    return this.model.opset < v;
  }

  // ---- shapes ----
  opShape(): Value[] {
    const s = this.shapeOf(0);
    const r = s.length;
    let start = this.ai('start', 0), end = this.ai('end', r);
    start = Math.min(r, Math.max(0, normAxis(start, r)));
    end = Math.min(r, Math.max(0, normAxis(end, r)));
    return [HostTensor.ints(s.slice(start, end))];
  }
  opSize(): Value[] {
    return [HostTensor.ints([prod(this.shapeOf(0))], [])];
  }
  opConstant(): Value[] {
    const a = this.attrs;
    if (a.get('value')?.t) return [hostFromProto(a.get('value')!.t!)];
    if (a.has('value_float')) return [HostTensor.floats([this.af('value_float', 0)], [])];
    if (a.has('value_floats')) {
      const f = a.get('value_floats')!.floats ?? [];
      return [HostTensor.floats(f, [f.length])];
    }
    if (a.has('value_int')) return [HostTensor.ints([this.ai('value_int', 0)], [])];
    if (a.has('value_ints')) return [HostTensor.ints(this.aints('value_ints') ?? [])];
    throw new Error('Constant without a supported value attribute');
  }
  opConstantOfShape(): Value[] {
    const shape = this.host(0).values();
    const t = this.attrs.get('value')?.t;
    const v = t ? hostFromProto(t) : HostTensor.floats([0], [1]);
    return [HostTensor.make(v.dtype, shape, new Array(prod(shape)).fill(v.data[0]!))];
  }
  opRange(): Value[] {
    const [s, l, d] = [0, 1, 2].map((k) => this.host(k).data[0]!);
    const n = Math.max(0, Math.ceil((l! - s!) / d!));
    return [HostTensor.make(this.host(0).dtype, [n], Array.from({ length: n }, (_, i) => s! + i * d!))];
  }
  private reshapeTarget(inShape: number[], spec: number[], allowZero: boolean): number[] {
    const t = spec.map((d, i) => (d === 0 && !allowZero ? inShape[i]! : d));
    const known = prod(t.filter((d) => d !== -1));
    return t.map((d) => (d === -1 ? prod(inShape) / known : d));
  }
  opReshape(): Value[] {
    const x = this.v(0);
    const target = this.reshapeTarget(this.shapeOf(0), this.host(1).values(), this.ai('allowzero', 0) === 1);
    if (x instanceof HostTensor) return [new HostTensor(x.dtype, target, x.data)];
    return [out(tf.reshape(this.t(0), target))];
  }
  opFlatten(): Value[] {
    const s = this.shapeOf(0);
    const ax = normAxis(this.ai('axis', 1), s.length);
    const target = [prod(s.slice(0, ax)), prod(s.slice(ax))];
    const x = this.v(0);
    if (x instanceof HostTensor) return [new HostTensor(x.dtype, target, x.data)];
    return [out(tf.reshape(this.t(0), target))];
  }
  opUnsqueeze(): Value[] {
    const s = this.shapeOf(0);
    const axes = (this.opsetLt(13) ? this.aints('axes') : this.host(1).values()) ?? [];
    const r = s.length + axes.length;
    const ax = new Set(axes.map((a) => normAxis(a, r)));
    const target: number[] = [];
    let j = 0;
    for (let k = 0; k < r; k++) target.push(ax.has(k) ? 1 : s[j++]!);
    const x = this.v(0);
    if (x instanceof HostTensor) return [new HostTensor(x.dtype, target, x.data)];
    return [out(tf.reshape(this.t(0), target))];
  }
  opSqueeze(): Value[] {
    const s = this.shapeOf(0);
    const axesIn = this.opsetLt(13) ? this.aints('axes') : this.has(1) ? this.host(1).values() : undefined;
    const ax = new Set((axesIn ?? s.map((d, i) => (d === 1 ? i : -1)).filter((i) => i >= 0)).map((a) => normAxis(a, s.length)));
    const target = s.filter((_, i) => !ax.has(i));
    const x = this.v(0);
    if (x instanceof HostTensor) return [new HostTensor(x.dtype, target, x.data)];
    return [out(tf.reshape(this.t(0), target))];
  }
  opExpand(): Value[] {
    const shape = broadcastShapes(this.shapeOf(0), this.host(1).values());
    const x = this.v(0);
    if (x instanceof HostTensor) return [hostBinary(x, HostTensor.make(x.dtype, shape, new Array(prod(shape)).fill(0)), (a) => a, x.dtype)];
    return [out(tf.broadcastTo(this.t(0), shape))];
  }
  opTranspose(): Value[] {
    const s = this.shapeOf(0);
    const perm = this.aints('perm') ?? s.map((_, i) => s.length - 1 - i);
    const x = this.v(0);
    if (x instanceof HostTensor) {
      const st = s.map((_, k) => prod(s.slice(k + 1)));
      const shape = perm.map((p) => s[p]!);
      const outv: number[] = new Array(prod(shape));
      for (let i = 0; i < outv.length; i++) {
        let rem = i, off = 0;
        for (let k = shape.length - 1; k >= 0; k--) {
          const c = rem % shape[k]!;
          rem = Math.floor(rem / shape[k]!);
          off += c * st[perm[k]!]!;
        }
        outv[i] = x.data[off]!;
      }
      return [HostTensor.make(x.dtype, shape, outv)];
    }
    if (x.nhwc && !x.nchw && perm.join() === '0,2,3,1') return [out(x.nhwc)];
    return [out(tf.transpose(this.t(0), perm))];
  }
  opConcat(): Value[] {
    const r = this.shapeOf(0).length;
    const axis = normAxis(this.ai('axis', 0), r);
    const vals = this.ins.filter((x): x is Value => x !== undefined);
    if (vals.every((x) => x instanceof HostTensor)) return [hostConcat(vals as HostTensor[], axis)];
    if (r === 4 && vals.every((x) => x instanceof Dev && x.nhwc)) return [nhwcOut(tf.concat(vals.map((x) => channelsLast(x as Dev)), TO_NHWC[axis]!))];
    const ts = vals.map((x) => this.model.tensorOf(x));
    const dt = ts.some((t) => t.dtype === 'float32') ? 'float32' : ts[0]!.dtype;
    return [out(tf.concat(ts.map((t) => (t.dtype === dt ? t : tf.cast(t, dt))), axis))];
  }
  opSplit(): Value[] {
    const s = this.shapeOf(0);
    const axis = normAxis(this.ai('axis', 0), s.length);
    const nOut = (this.node.output ?? []).length;
    let sizes = this.opsetLt(13) ? this.aints('split') : this.has(1) ? this.host(1).values() : undefined;
    if (!sizes) {
      const n = this.ai('num_outputs', nOut);
      const chunk = Math.ceil(s[axis]! / n);
      sizes = Array.from({ length: n }, (_, k) => Math.min(chunk, s[axis]! - k * chunk));
    }
    const x = this.v(0);
    if (x instanceof HostTensor) {
      let start = 0;
      return sizes.map((n) => {
        const idx = s.map((d, k) => (k === axis ? Array.from({ length: n }, (_, i) => start + i) : Array.from({ length: d }, (_, i) => i)));
        start += n;
        return hostSliceIdx(x, idx);
      });
    }
    if (x.nhwc && !x.nchw && s.length === 4) return tf.split(x.nhwc, sizes, TO_NHWC[axis]).map(nhwcOut);
    return tf.split(this.t(0), sizes, axis).map(out);
  }
  /** Per-axis index lists of an ONNX Slice. */
  private sliceIndices(s: number[]): { idx: number[][]; simple: boolean; begin: number[]; size: number[] } {
    let starts: number[], ends: number[], axes: number[] | undefined, steps: number[] | undefined;
    if (this.opsetLt(10)) {
      starts = this.aints('starts') ?? [];
      ends = this.aints('ends') ?? [];
      axes = this.aints('axes');
    } else {
      starts = this.host(1).values();
      ends = this.host(2).values();
      axes = this.has(3) ? this.host(3).values() : undefined;
      steps = this.has(4) ? this.host(4).values() : undefined;
    }
    const idx = s.map((d) => Array.from({ length: d }, (_, i) => i));
    const begin = s.map(() => 0), size = [...s];
    let simple = true;
    starts.forEach((st, k) => {
      const ax = normAxis(axes ? axes[k]! : k, s.length);
      const d = s[ax]!;
      const step = steps ? steps[k]! : 1;
      let b = st < 0 ? st + d : st;
      let e = ends[k]! < 0 ? ends[k]! + d : ends[k]!;
      if (step > 0) {
        b = Math.min(Math.max(b, 0), d);
        e = Math.min(Math.max(e, 0), d);
      } else {
        b = Math.min(Math.max(b, 0), d - 1);
        e = Math.min(Math.max(e, -1), d - 1);
      }
      const list: number[] = [];
      for (let i = b; step > 0 ? i < e : i > e; i += step) list.push(i);
      idx[ax] = list;
      if (step !== 1) simple = false;
      begin[ax] = b;
      size[ax] = list.length;
    });
    return { idx, simple, begin, size };
  }
  opSlice(): Value[] {
    const s = this.shapeOf(0);
    const { idx, simple, begin, size } = this.sliceIndices(s);
    const x = this.v(0);
    if (x instanceof HostTensor) return [hostSliceIdx(x, idx)];
    if (simple) {
      if (x.nhwc && !x.nchw) return [nhwcOut(tf.slice(x.nhwc, TO_NHWC.map((a) => begin[a]!), TO_NHWC.map((a) => size[a]!)))];
      return [out(tf.slice(this.t(0), begin, size))];
    }
    let t = this.t(0);
    idx.forEach((list, ax) => {
      if (list.length === s[ax] && list.every((v, i) => v === i)) return;
      t = tf.gather(t, tf.tensor1d(list, 'int32'), ax);
    });
    return [out(t)];
  }
  opGather(): Value[] {
    const s = this.shapeOf(0);
    const axis = normAxis(this.ai('axis', 0), s.length);
    const x = this.v(0), ix = this.v(1);
    if (x instanceof HostTensor && ix instanceof HostTensor) return [hostGather(x, ix, axis)];
    if (ix instanceof HostTensor) {
      const ids = ix.values().map((i) => (i < 0 ? i + s[axis]! : i));
      if (ix.shape.length === 0) {
        const begin = s.map((_, k) => (k === axis ? ids[0]! : 0));
        const size = s.map((d, k) => (k === axis ? 1 : d));
        return [out(tf.reshape(tf.slice(this.t(0), begin, size), s.filter((_, k) => k !== axis)))];
      }
      return [out(tf.gather(this.t(0), tf.tensor(ids, ix.shape, 'int32'), axis))];
    }
    return [out(tf.gather(this.t(0), tf.cast(this.t(1), 'int32'), axis))];
  }
  opPad(): Value[] {
    const s = this.shapeOf(0);
    const r = s.length;
    const mode = this.astr('mode', 'constant');
    let pads: number[], value = 0;
    if (this.opsetLt(11)) {
      pads = this.aints('pads') ?? new Array(2 * r).fill(0);
      value = this.af('value', 0);
    } else {
      pads = this.host(1).values();
      if (this.has(2)) value = this.host(2).data[0] ?? 0;
      if (this.has(3)) {
        const axes = this.host(3).values().map((a) => normAxis(a, r));
        const full = new Array(2 * r).fill(0);
        axes.forEach((a, k) => {
          full[a] = pads[k]!;
          full[a + r] = pads[k + axes.length]!;
        });
        pads = full;
      }
    }
    const pp = s.map((_, k) => [pads[k]!, pads[k + r]!] as [number, number]);
    if (pp.some(([a, b]) => a < 0 || b < 0)) throw new Error('negative pads are not supported');
    if (mode === 'constant') return [out(tf.pad(this.t(0), pp, value))];
    if (mode !== 'reflect' && mode !== 'edge') throw new Error(`Pad mode '${mode}' is not supported (constant, reflect, edge)`);
    // Built from slices, reverses and concats: tfjs' MirrorPad gradient drops the reflected parts.
    let t = this.t(0);
    pp.forEach(([a, b], ax) => {
      if (!a && !b) return;
      const d = t.shape[ax]!;
      const part = (start: number, len: number): tf.Tensor => tf.slice(t, t.shape.map((_, k) => (k === ax ? start : 0)), t.shape.map((n, k) => (k === ax ? len : n)));
      const edge = (start: number, len: number): tf.Tensor => tf.broadcastTo(part(start, 1), t.shape.map((n, k) => (k === ax ? len : n)));
      if (mode === 'reflect' && (a > d - 1 || b > d - 1)) throw new Error(`reflect padding ${Math.max(a, b)} exceeds dimension ${d} - 1`);
      const pieces: tf.Tensor[] = [];
      if (a) pieces.push(mode === 'reflect' ? tf.reverse(part(1, a), ax) : edge(0, a));
      pieces.push(t);
      if (b) pieces.push(mode === 'reflect' ? tf.reverse(part(d - 1 - b, b), ax) : edge(d - 1, b));
      t = tf.concat(pieces, ax);
    });
    return [out(t)];
  }

  // ---- linear algebra ----
  opMatMul(): Value[] {
    let a = this.t(0), b = this.t(1);
    const ra = a.rank, rb = b.rank;
    if (ra === 1) a = tf.reshape(a, [1, a.shape[0]!]);
    if (rb === 1) b = tf.reshape(b, [b.shape[0]!, 1]);
    let y: tf.Tensor;
    if (b.rank === 2 && a.rank > 2) {
      const lead = a.shape.slice(0, -1);
      y = tf.reshape(tf.matMul(tf.reshape(a, [prod(lead), a.shape[a.rank - 1]!]) as tf.Tensor2D, b as tf.Tensor2D), [...lead, b.shape[1]!]);
    } else if (a.rank === 2 && b.rank === 2) {
      y = tf.matMul(a as tf.Tensor2D, b as tf.Tensor2D);
    } else {
      const batch = broadcastShapes(a.shape.slice(0, -2), b.shape.slice(0, -2));
      const A = tf.reshape(tf.broadcastTo(a, [...batch, ...a.shape.slice(-2)]), [prod(batch), ...a.shape.slice(-2)]);
      const B = tf.reshape(tf.broadcastTo(b, [...batch, ...b.shape.slice(-2)]), [prod(batch), ...b.shape.slice(-2)]);
      y = tf.reshape(tf.matMul(A as tf.Tensor3D, B as tf.Tensor3D), [...batch, a.shape[a.rank - 2]!, b.shape[b.rank - 1]!]);
    }
    if (ra === 1) y = tf.squeeze(y, [y.rank - 2]);
    if (rb === 1) y = tf.squeeze(y, [y.rank - 1]);
    return [out(y)];
  }
  opGemm(): Value[] {
    const alpha = this.af('alpha', 1), beta = this.af('beta', 1);
    const ta = this.ai('transA', 0), tb = this.ai('transB', 0);
    // Explicit transposes (matMul with transpose flags is slow on wasm); constant B is transposed once.
    let a = this.t(0) as tf.Tensor2D;
    if (a.rank !== 2) a = tf.reshape(a, [a.shape[0]!, prod(a.shape.slice(1))]) as tf.Tensor2D;
    if (ta) a = tf.transpose(a);
    const bv = this.v(1);
    let b: tf.Tensor2D;
    if (tb && bv instanceof HostTensor) b = this.model.cached(`gemmB:${this.node.name}:${this.node.input?.[1]}`, () => tf.transpose(this.model.tensorOf(bv) as tf.Tensor2D));
    else b = tb ? tf.transpose(this.t(1) as tf.Tensor2D) : (this.t(1) as tf.Tensor2D);
    let y: tf.Tensor = tf.matMul(a, b);
    if (alpha !== 1) y = tf.mul(y, alpha);
    if (this.has(2)) y = tf.add(y, beta === 1 ? this.t(2) : tf.mul(this.t(2), beta));
    return [out(y)];
  }

  // ---- convolution and pooling (NHWC inside) ----
  /** ONNX pads [x1b, x2b, x1e, x2e] for a 2-D spatial op, resolving auto_pad. */
  private spatialPads(h: number, w: number, k: [number, number], st: [number, number], dil: [number, number] = [1, 1], ceil = false): [[number, number], [number, number]] {
    const auto = this.astr('auto_pad', 'NOTSET');
    if (auto === 'SAME_UPPER' || auto === 'SAME_LOWER') {
      const res = [h, w].map((d, i) => {
        const o = Math.ceil(d / st[i]!);
        const total = Math.max(0, (o - 1) * st[i]! + (k[i]! - 1) * dil[i]! + 1 - d);
        const small = Math.floor(total / 2);
        return (auto === 'SAME_UPPER' ? [small, total - small] : [total - small, small]) as [number, number];
      });
      return [res[0]!, res[1]!];
    }
    const p = auto === 'VALID' ? [0, 0, 0, 0] : (this.aints('pads') ?? [0, 0, 0, 0]);
    const pads: [[number, number], [number, number]] = [
      [p[0]!, p[2]!],
      [p[1]!, p[3]!],
    ];
    if (ceil) {
      [h, w].forEach((d, i) => {
        const eff = d + pads[i]![0] + pads[i]![1];
        const span = (k[i]! - 1) * dil[i]! + 1;
        let o = Math.ceil((eff - span) / st[i]!) + 1;
        if ((o - 1) * st[i]! >= d + pads[i]![0]) o -= 1; // last window must start inside the input
        const need = (o - 1) * st[i]! + span - eff;
        if (need > 0) pads[i]![1] += need;
      });
    }
    return pads;
  }
  opConv(): Value[] {
    const x = this.v(0);
    const s = this.shapeOf(0);
    if (s.length !== 4) throw new Error(`only 2-D convolution (4-D input) is supported, got input shape [${s.join(',')}]`);
    const wv = this.v(1);
    const wShape = this.shapeOf(1);
    const [M, cPerG, kh, kw] = wShape as [number, number, number, number];
    const C = s[1]!;
    const group = this.ai('group', 1);
    const st = (this.aints('strides') ?? [1, 1]) as [number, number];
    const dil = (this.aints('dilations') ?? [1, 1]) as [number, number];
    if (dil[0] !== 1 || dil[1] !== 1) throw new Error('dilated convolution is not supported (no gradient exists for it in tfjs)');
    const pads = this.spatialPads(s[2]!, s[3]!, [kh, kw], st);
    let xh: tf.Tensor4D = x instanceof Dev ? channelsLast(x) : (tf.transpose(this.t(0), [0, 2, 3, 1]) as tf.Tensor4D);
    if (pads.some(([a, b]) => a || b)) xh = tf.pad(xh, [[0, 0], pads[0], pads[1], [0, 0]]);
    // ONNX weights [M, C/g, kh, kw] -> tf filters [kh, kw, C/g, M] (constant weights converted once).
    const key = `conv:${this.node.name}:${this.node.input?.[1]}`;
    const filt = (): tf.Tensor4D => tf.transpose(this.model.tensorOf(wv), [2, 3, 1, 0]) as tf.Tensor4D;
    const W = wv instanceof HostTensor ? this.model.cached(key, filt) : filt();
    let y: tf.Tensor4D;
    if (group === 1 && wv instanceof HostTensor) {
      const flipped = this.model.cached(key + ':flip', () => tf.transpose(tf.reverse(W, [0, 1]), [0, 1, 3, 2]) as tf.Tensor4D);
      y = convConstFilter(xh, W, flipped, st);
    } else if (group === 1) y = tf.conv2d(xh, W, st, 'valid');
    else if (group === C && cPerG === 1) {
      // depthwise: [kh,kw,1,M] -> [kh,kw,C,M/C]
      const dw = wv instanceof HostTensor ? this.model.cached(key + ':dw', () => tf.reshape(W, [kh, kw, C, M / C]) as tf.Tensor4D) : (tf.reshape(W, [kh, kw, C, M / C]) as tf.Tensor4D);
      y = depthwiseNeedsTaps() ? depthwiseByTaps(xh, dw, st) : tf.depthwiseConv2d(xh, dw, st, 'valid');
    } else {
      const xs = tf.split(xh, group, 3);
      const ws = tf.split(W, group, 3) as tf.Tensor4D[];
      y = tf.concat(xs.map((xi, g) => tf.conv2d(xi as tf.Tensor4D, ws[g]!, st, 'valid')), 3) as tf.Tensor4D;
    }
    if (this.has(2)) y = tf.add(y, this.t(2));
    return [nhwcOut(y)];
  }
  opConvTranspose(): Value[] {
    const s = this.shapeOf(0);
    if (s.length !== 4) throw new Error(`only 2-D transposed convolution (4-D input) is supported, got input shape [${s.join(',')}]`);
    if (this.ai('group', 1) !== 1) throw new Error('grouped ConvTranspose is not supported');
    const dil = this.aints('dilations') ?? [1, 1];
    if (dil[0] !== 1 || dil[1] !== 1) throw new Error('dilated ConvTranspose is not supported');
    if (this.aints('output_shape')) throw new Error('ConvTranspose with output_shape is not supported; use pads');
    const auto = this.astr('auto_pad', 'NOTSET');
    if (auto !== 'NOTSET' && auto !== 'VALID') throw new Error(`ConvTranspose auto_pad ${auto} is not supported`);
    const x = this.v(0);
    const wv = this.v(1);
    const [, cOut, kh, kw] = this.shapeOf(1) as [number, number, number, number];
    const st = (this.aints('strides') ?? [1, 1]) as [number, number];
    const p = auto === 'VALID' ? [0, 0, 0, 0] : (this.aints('pads') ?? [0, 0, 0, 0]);
    const op = this.aints('output_padding') ?? [0, 0];
    const [N, , H, W] = s as [number, number, number, number];
    // ONNX weights [Cin, Cout, kh, kw] -> tf filter [kh, kw, Cout, Cin]; full output, then crop the pads.
    const filt = (): tf.Tensor4D => tf.transpose(this.model.tensorOf(wv), [2, 3, 1, 0]) as tf.Tensor4D;
    const Wt = wv instanceof HostTensor ? this.model.cached(`convT:${this.node.name}:${this.node.input?.[1]}`, filt) : filt();
    const xh = x instanceof Dev ? channelsLast(x) : (tf.transpose(this.t(0), [0, 2, 3, 1]) as tf.Tensor4D);
    const fh = (H - 1) * st[0] + kh, fw = (W - 1) * st[1] + kw;
    let y: tf.Tensor4D = tf.conv2dTranspose(xh, Wt, [N, fh, fw, cOut], st, 'valid');
    if (op[0]! > 0 || op[1]! > 0) y = tf.pad(y, [[0, 0], [0, op[0]!], [0, op[1]!], [0, 0]]);
    const oh = fh + op[0]! - p[0]! - p[2]!, ow = fw + op[1]! - p[1]! - p[3]!;
    if (p.some((v) => v !== 0)) y = tf.slice(y, [0, p[0]!, p[1]!, 0], [N, oh, ow, cOut]);
    if (this.has(2)) y = tf.add(y, this.t(2));
    return [nhwcOut(y)];
  }
  opGroupNormalization(): Value[] {
    const eps = this.af('epsilon', 1e-5);
    const G = this.ai('num_groups', 1);
    const s = this.shapeOf(0);
    const x = this.v(0);
    if (s.length !== 4 || !(x instanceof Dev)) throw new Error('GroupNormalization is supported on 4-D inputs');
    const [N, C, H, W] = s as [number, number, number, number];
    const xh = tf.reshape(channelsLast(x), [N, H, W, G, C / G]);
    const { mean, variance } = tf.moments(xh, [1, 2, 4], true);
    let y = tf.mul(tf.sub(xh, mean), tf.rsqrt(tf.add(variance, eps)));
    const scale = this.t(1), bias = this.t(2);
    if (scale.size === G) {
      // opset 18: scale and bias per group
      y = tf.add(tf.mul(y, tf.reshape(scale, [G, 1])), tf.reshape(bias, [G, 1]));
      return [nhwcOut(tf.reshape(y, [N, H, W, C]))];
    }
    return [nhwcOut(tf.add(tf.mul(tf.reshape(y, [N, H, W, C]), scale), bias))];
  }
  opBatchNormalization(): Value[] {
    const eps = this.af('epsilon', 1e-5);
    const x = this.v(0);
    const s = this.shapeOf(0);
    const params = [1, 2, 3, 4].map((k) => this.v(k));
    let a: tf.Tensor, b: tf.Tensor;
    if (params.every((p) => p instanceof HostTensor)) {
      const [sc, bi, mu, va] = params as HostTensor[];
      const key = `bn:${this.node.name}:${this.node.input?.slice(1).join(',')}`;
      const av = sc!.values().map((g, c) => g / Math.sqrt(va!.data[c]! + eps));
      a = this.model.cached(key + ':a', () => tf.tensor1d(av));
      b = this.model.cached(key + ':b', () => tf.tensor1d(bi!.values().map((v, c) => v - mu!.data[c]! * av[c]!)));
    } else {
      const [sc, bi, mu, va] = [1, 2, 3, 4].map((k) => this.t(k));
      a = tf.div(sc!, tf.sqrt(tf.add(va!, eps)));
      b = tf.sub(bi!, tf.mul(mu!, a));
    }
    if (s.length === 4 && x instanceof Dev) return [nhwcOut(tf.add(tf.mul(channelsLast(x), a), b))];
    const bshape = s.map((d, i) => (i === 1 ? d : 1));
    return [out(tf.add(tf.mul(this.t(0), tf.reshape(a, bshape)), tf.reshape(b, bshape)))];
  }
  opInstanceNormalization(): Value[] {
    const eps = this.af('epsilon', 1e-5);
    const x = this.v(0);
    const s = this.shapeOf(0);
    const scale = this.t(1), bias = this.t(2);
    if (s.length === 4 && x instanceof Dev) {
      const xh = channelsLast(x);
      const { mean, variance } = tf.moments(xh, [1, 2], true);
      return [nhwcOut(tf.add(tf.mul(tf.mul(tf.sub(xh, mean), tf.rsqrt(tf.add(variance, eps))), scale), bias))];
    }
    const axes = s.map((_, i) => i).slice(2);
    const t = this.t(0);
    const { mean, variance } = tf.moments(t, axes, true);
    const bshape = s.map((d, i) => (i === 1 ? d : 1));
    return [out(tf.add(tf.mul(tf.mul(tf.sub(t, mean), tf.rsqrt(tf.add(variance, eps))), tf.reshape(scale, bshape)), tf.reshape(bias, bshape)))];
  }
  opLayerNormalization(): Value[] {
    const s = this.shapeOf(0);
    const axis = normAxis(this.ai('axis', -1), s.length);
    const eps = this.af('epsilon', 1e-5);
    const t = this.t(0);
    const axes = s.map((_, i) => i).slice(axis);
    const { mean, variance } = tf.moments(t, axes, true);
    let y = tf.mul(tf.sub(t, mean), tf.rsqrt(tf.add(variance, eps)));
    y = tf.mul(y, this.t(1));
    if (this.has(2)) y = tf.add(y, this.t(2));
    return [out(y)];
  }
  private pool(kind: 'max' | 'avg'): Value[] {
    const x = this.v(0);
    const s = this.shapeOf(0);
    if (s.length !== 4 || !(x instanceof Dev)) throw new Error(`only 2-D pooling (4-D input) is supported`);
    const k = this.aints('kernel_shape') as [number, number];
    const st = (this.aints('strides') ?? [1, 1]) as [number, number];
    const dil = this.aints('dilations') ?? [1, 1];
    if (dil[0] !== 1 || dil[1] !== 1) throw new Error('dilated pooling is not supported');
    const ceil = this.ai('ceil_mode', 0) === 1;
    if (ceil && kind === 'avg' && this.ai('count_include_pad', 0) === 1) throw new Error('AveragePool with ceil_mode=1 and count_include_pad=1 is not supported');
    const pads = this.spatialPads(s[2]!, s[3]!, k, st, [1, 1], ceil);
    const xh = channelsLast(x);
    const padded = pads.some(([a, b]) => a || b);
    const pp: [number, number][] = [[0, 0], pads[0], pads[1], [0, 0]];
    if (kind === 'max') return [nhwcOut(tf.maxPool(padded ? tf.pad(xh, pp, -3.4e38) : xh, k, st, 'valid'))];
    if (!padded) return [nhwcOut(tf.avgPool(xh, k, st, 'valid'))];
    const sum = tf.avgPool(tf.pad(xh, pp), k, st, 'valid');
    if (this.ai('count_include_pad', 0) === 1) return [nhwcOut(sum)];
    const ones = this.model.cached(`poolmask:${this.node.name}:${s.join(',')}`, () => tf.avgPool(tf.pad(tf.ones([1, s[2]!, s[3]!, 1]), pp) as tf.Tensor4D, k, st, 'valid'));
    return [nhwcOut(tf.div(sum, ones))];
  }
  opMaxPool(): Value[] {
    if ((this.node.output ?? []).filter(Boolean).length > 1) throw new Error('MaxPool with an Indices output is not supported');
    return this.pool('max');
  }
  opAveragePool(): Value[] {
    return this.pool('avg');
  }
  opGlobalAveragePool(): Value[] {
    const x = this.v(0);
    if (x instanceof Dev && this.shapeOf(0).length === 4) return [nhwcOut(tf.mean(channelsLast(x), [1, 2], true))];
    const s = this.shapeOf(0);
    return [out(tf.mean(this.t(0), s.map((_, i) => i).slice(2), true))];
  }
  opGlobalMaxPool(): Value[] {
    const x = this.v(0);
    if (x instanceof Dev && this.shapeOf(0).length === 4) return [nhwcOut(tf.max(channelsLast(x), [1, 2], true))];
    const s = this.shapeOf(0);
    return [out(tf.max(this.t(0), s.map((_, i) => i).slice(2), true))];
  }
  opResize(): Value[] {
    const x = this.v(0);
    const s = this.shapeOf(0);
    const mode = this.astr('mode', 'nearest');
    let scales: number[] | undefined, sizes: number[] | undefined;
    if (this.op === 'Upsample' || this.opsetLt(11)) scales = this.host(1).values();
    else {
      if (this.has(2) && this.host(2).size > 0) scales = this.host(2).values();
      if (this.has(3) && this.host(3).size > 0) sizes = this.host(3).values();
    }
    const target = sizes ?? s.map((d, i) => Math.floor(d * scales![i]!));
    const sc = scales ?? target.map((t, i) => t / s[i]!);
    if (s.length !== 4 || target[0] !== s[0] || target[1] !== s[1]) throw new Error('Resize is supported on the spatial axes of 4-D inputs only');
    if (!(x instanceof Dev)) throw new Error('Resize of a constant is not supported');
    const ctm = this.astr('coordinate_transformation_mode', this.op === 'Upsample' || this.opsetLt(11) ? 'asymmetric' : 'half_pixel');
    const xh = channelsLast(x);
    const [N, C, H, W] = s as [number, number, number, number];
    const [oh, ow] = [target[2]!, target[3]!];
    if (mode === 'nearest') {
      const nm = this.astr('nearest_mode', 'round_prefer_floor');
      const src = (o: number, inD: number, outD: number, scale: number): number => {
        let c: number;
        if (ctm === 'asymmetric') c = o / scale;
        else if (ctm === 'align_corners') c = outD === 1 ? 0 : (o * (inD - 1)) / (outD - 1);
        else if (ctm === 'pytorch_half_pixel') c = outD > 1 ? (o + 0.5) / scale - 0.5 : 0;
        else c = (o + 0.5) / scale - 0.5; // half_pixel, tf_half_pixel_for_nn
        let i: number;
        if (nm === 'floor') i = Math.floor(c);
        else if (nm === 'ceil') i = Math.ceil(c);
        else if (nm === 'round_prefer_ceil') i = Math.round(c);
        else i = Number.isInteger(c - 0.5) ? Math.floor(c) : Math.round(c);
        return Math.min(inD - 1, Math.max(0, i));
      };
      const ih = Array.from({ length: oh }, (_, o) => src(o, H, oh, sc[2]!));
      const iw = Array.from({ length: ow }, (_, o) => src(o, W, ow, sc[3]!));
      const fh = oh / H, fw = ow / W;
      const isRepeat = (ids: number[], f: number): boolean => Number.isInteger(f) && ids.every((v, o) => v === Math.floor(o / f));
      if (isRepeat(ih, fh) && isRepeat(iw, fw)) {
        // Integer upsampling as a broadcast (tfjs' cpu ResizeNearestNeighborGrad is wrong for batches; tile has no rank-6 gradient).
        const zeros = this.model.cached(`rep:${fh},${fw}`, () => tf.zeros([1, 1, fh, 1, fw, 1]));
        return [nhwcOut(tf.reshape(tf.add(tf.reshape(xh, [N, H, 1, W, 1, C]), zeros), [N, oh, ow, C]))];
      }
      const g = tf.gather(tf.gather(xh, tf.tensor1d(ih, 'int32'), 1), tf.tensor1d(iw, 'int32'), 2);
      return [nhwcOut(g)];
    }
    if (mode === 'linear') {
      // Separable interpolation matrices built on the host: exact ONNX coordinate semantics and a
      // gradient made of matMuls (tfjs' ResizeBilinearGrad ignores half-pixel centres).
      const coord = (o: number, inD: number, outD: number, scale: number): number => {
        if (ctm === 'asymmetric') return o / scale;
        if (ctm === 'align_corners') return outD === 1 ? 0 : (o * (inD - 1)) / (outD - 1);
        if (ctm === 'pytorch_half_pixel') return outD > 1 ? (o + 0.5) / scale - 0.5 : 0;
        if (ctm === 'half_pixel') return (o + 0.5) / scale - 0.5;
        throw new Error(`Resize coordinate_transformation_mode '${ctm}' is not supported for linear mode`);
      };
      const matrix = (inD: number, outD: number, scale: number): number[] => {
        const m = new Array<number>(inD * outD).fill(0); // [inD, outD]
        for (let o = 0; o < outD; o++) {
          const c = Math.min(Math.max(coord(o, inD, outD, scale), 0), inD - 1);
          const i0 = Math.floor(c), i1 = Math.min(i0 + 1, inD - 1), f = c - i0;
          m[i0 * outD + o] += 1 - f;
          m[i1 * outD + o] += f;
        }
        return m;
      };
      const key = `resize:${this.node.name}:${s.join(',')}:${oh},${ow}`;
      const mh = this.model.cached(key + ':h', () => tf.tensor2d(matrix(H, oh, sc[2]!), [H, oh]));
      const mw = this.model.cached(key + ':w', () => tf.tensor2d(matrix(W, ow, sc[3]!), [W, ow]));
      const xl = logical(x); // [N,C,H,W]
      let y = tf.matMul(tf.reshape(xl, [N * C * H, W]) as tf.Tensor2D, mw); // [NCH, ow]
      y = tf.transpose(tf.reshape(y, [N * C, H, ow]), [0, 2, 1]); // [NC, ow, H]
      y = tf.matMul(tf.reshape(y, [N * C * ow, H]) as tf.Tensor2D, mh); // [NC*ow, oh]
      return [out(tf.transpose(tf.reshape(y, [N, C, ow, oh]), [0, 1, 3, 2]))];
    }
    throw new Error(`Resize mode '${mode}' is not supported (nearest, linear)`);
  }
  opUpsample(): Value[] {
    return this.opResize();
  }

  // ---- reductions and softmax ----
  private reduce(f: (x: tf.Tensor, axes: number[], keep: boolean) => tf.Tensor, axesFromInputSince: number): Value[] {
    const s = this.shapeOf(0);
    const keep = this.ai('keepdims', 1) === 1;
    let axes = this.model.opset >= axesFromInputSince ? (this.has(1) ? this.host(1).values() : undefined) : this.aints('axes');
    if (!axes || axes.length === 0) {
      if (this.ai('noop_with_empty_axes', 0) === 1) return [this.v(0)];
      axes = s.map((_, i) => i);
    }
    axes = axes.map((a) => normAxis(a, s.length));
    const x = this.v(0);
    if (x instanceof Dev && x.nhwc && !x.nchw && s.length === 4 && (keep || (axes.includes(2) && axes.includes(3)))) {
      const y = f(x.nhwc, axes.map((a) => TO_NHWC[a]!), keep);
      return [keep ? nhwcOut(y) : out(y)];
    }
    return [out(f(this.t(0), axes, keep))];
  }
  opReduceL2(): Value[] {
    return this.reduce((x, a, k) => tf.sqrt(tf.sum(tf.square(x), a, k)), 18);
  }
  opReduceSumSquare(): Value[] {
    return this.reduce((x, a, k) => tf.sum(tf.square(x), a, k), 18);
  }
  opReduceProd(): Value[] {
    return this.reduce((x, a, k) => tf.prod(x, a, k), 18);
  }
  opReduceMean(): Value[] {
    return this.reduce((x, a, k) => tf.mean(x, a, k), 18);
  }
  opReduceSum(): Value[] {
    return this.reduce((x, a, k) => tf.sum(x, a, k), 13);
  }
  opReduceMax(): Value[] {
    return this.reduce((x, a, k) => tf.max(x, a, k), 18);
  }
  opReduceMin(): Value[] {
    return this.reduce((x, a, k) => tf.min(x, a, k), 18);
  }
  private softmaxLike(f: (x: tf.Tensor) => tf.Tensor): Value[] {
    const s = this.shapeOf(0);
    const r = s.length;
    const t = this.t(0);
    if (this.opsetLt(13)) {
      const ax = normAxis(this.ai('axis', 1), r);
      return [out(tf.reshape(f(tf.reshape(t, [prod(s.slice(0, ax)), prod(s.slice(ax))])), s))];
    }
    const ax = normAxis(this.ai('axis', -1), r);
    if (ax === r - 1) return [out(f(t))];
    const perm = s.map((_, i) => i);
    perm[ax] = r - 1;
    perm[r - 1] = ax;
    return [out(tf.transpose(f(tf.transpose(t, perm)), perm))];
  }
  opSoftmax(): Value[] {
    return this.softmaxLike((x) => tf.softmax(x));
  }
  opLogSoftmax(): Value[] {
    return this.softmaxLike((x) => tf.logSoftmax(x));
  }
}

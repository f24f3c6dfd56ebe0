/**
 * ONNX elementwise operators: arithmetic, comparisons and logic (with numpy broadcasting, in NHWC
 * when an operand already is), activations, Clip, Cast, Identity and Dropout. Operators on
 * constants are evaluated on the host.
 */
import * as tf from '@tensorflow/tfjs';
import { DT } from '../proto.js';
import { HostTensor, hostBinary, broadcastShapes } from '../host.js';
import { Dev, NodeCtx, channelsLast, nhwcOut, out, prod, type OpTable, type Value } from './node.js';

function unary(ctx: NodeCtx, f: (x: tf.Tensor) => tf.Tensor, hostF?: (x: number) => number): Value[] {
  const x = ctx.v(0);
  if (x instanceof HostTensor && hostF && x.dtype !== 'bool') return [HostTensor.make(x.dtype, x.shape, x.values().map(hostF))];
  if (x instanceof Dev && x.nhwc && !x.nchw) return [nhwcOut(f(x.nhwc))];
  return [out(f(ctx.t(0)))];
}

function binary(ctx: NodeCtx, f: (a: tf.Tensor, b: tf.Tensor) => tf.Tensor, hostF?: (a: number, b: number) => number, hostType?: HostTensor['dtype']): Value[] {
  const a = ctx.v(0), b = ctx.v(1);
  if (a instanceof HostTensor && b instanceof HostTensor && hostF) return [hostBinary(a, b, hostF, hostType)];
  const outRank = Math.max(ctx.shapeOf(0).length, ctx.shapeOf(1).length);
  const aN = a instanceof Dev && a.nhwc !== undefined, bN = b instanceof Dev && b.nhwc !== undefined;
  if (outRank === 4 && (aN || bN)) return [nhwcOut(f(asNhwc(ctx, 0), asNhwc(ctx, 1)))];
  return [out(f(ctx.t(0), ctx.t(1)))];
}

/** Operand k as an NHWC-broadcastable tensor (rank <= 4 logical NCHW shapes padded and permuted). */
function asNhwc(ctx: NodeCtx, k: number): tf.Tensor {
  const x = ctx.v(k);
  if (x instanceof Dev && x.rank === 4) return channelsLast(x);
  const s = x instanceof HostTensor ? x.shape : x.shape;
  const to4 = (t: tf.Tensor): tf.Tensor => {
    const p = [...Array<number>(4 - s.length).fill(1), ...s];
    return tf.transpose(tf.reshape(t, p), [0, 2, 3, 1]);
  };
  if (x instanceof HostTensor) {
    if (s.length === 0) return ctx.model.tensorOf(x);
    const name = ctx.model.initName(x);
    return name !== undefined ? ctx.model.cached(`nhwc:${name}`, () => to4(ctx.model.tensorOf(x))) : to4(ctx.model.tensorOf(x));
  }
  return s.length === 0 ? ctx.t(k) : to4(ctx.t(k));
}

function sameDtype(a: tf.Tensor, b: tf.Tensor): [tf.Tensor, tf.Tensor] {
  if (a.dtype === b.dtype) return [a, b];
  return [a.dtype === 'float32' ? a : tf.cast(a, 'float32'), b.dtype === 'float32' ? b : tf.cast(b, 'float32')];
}

function variadic(ctx: NodeCtx, f: (a: tf.Tensor, b: tf.Tensor) => tf.Tensor): Value[] {
  let acc = ctx.t(0);
  for (let k = 1; k < ctx.ins.length; k++) acc = f(acc, ctx.t(k));
  return [out(acc)];
}

/** Elementwise operators and activations. */
export const elementwiseOps: OpTable = {
  Add: (ctx) => binary(ctx, (a, b) => tf.add(...sameDtype(a, b)), (x, y) => x + y),
  Sub: (ctx) => binary(ctx, (a, b) => tf.sub(...sameDtype(a, b)), (x, y) => x - y),
  Mul: (ctx) => binary(ctx, (a, b) => tf.mul(...sameDtype(a, b)), (x, y) => x * y),
  Div: (ctx) => {
    const a = ctx.v(0), b = ctx.v(1);
    const intDiv = a instanceof HostTensor && b instanceof HostTensor && a.dtype === 'int64' && b.dtype === 'int64';
    return binary(ctx, (x, y) => tf.div(...sameDtype(x, y)), intDiv ? (x, y) => Math.trunc(x / y) : (x, y) => x / y);
  },
  Pow: (ctx) => {
    const e = ctx.v(1);
    if (e instanceof HostTensor && e.size === 1) {
      const p = e.data[0]!;
      if (p === 1) return unary(ctx, (x) => x, (x) => x);
      if (p === 2) return unary(ctx, (x) => tf.square(x), (x) => x * x);
      if (p === 3) return unary(ctx, (x) => tf.mul(tf.square(x), x), (x) => x ** 3);
      if (p === 0.5) return unary(ctx, (x) => tf.sqrt(x), Math.sqrt);
    }
    return binary(ctx, (a, b) => tf.pow(...sameDtype(a, b)), (x, y) => x ** y);
  },
  Max: (ctx) => variadic(ctx, (a, b) => tf.maximum(a, b)),
  Min: (ctx) => variadic(ctx, (a, b) => tf.minimum(a, b)),
  Sum: (ctx) => variadic(ctx, (a, b) => tf.add(a, b)),
  Mean: (ctx) => {
    const n = ctx.ins.length;
    const [s] = variadic(ctx, (a, b) => tf.add(a, b));
    return [out(tf.div(ctx.model.tensorOf(s!), n))];
  },
  Equal: (ctx) => binary(ctx, (a, b) => tf.equal(...sameDtype(a, b)), (x, y) => (x === y ? 1 : 0), 'bool'),
  Less: (ctx) => binary(ctx, (a, b) => tf.less(...sameDtype(a, b)), (x, y) => (x < y ? 1 : 0), 'bool'),
  Greater: (ctx) => binary(ctx, (a, b) => tf.greater(...sameDtype(a, b)), (x, y) => (x > y ? 1 : 0), 'bool'),
  And: (ctx) => binary(ctx, (a, b) => tf.logicalAnd(tf.cast(a, 'bool'), tf.cast(b, 'bool')), (x, y) => (x && y ? 1 : 0), 'bool'),
  Or: (ctx) => binary(ctx, (a, b) => tf.logicalOr(tf.cast(a, 'bool'), tf.cast(b, 'bool')), (x, y) => (x || y ? 1 : 0), 'bool'),
  Not: (ctx) => {
    const x = ctx.v(0);
    if (x instanceof HostTensor) return [HostTensor.make('bool', x.shape, x.values().map((v) => (v ? 0 : 1)))];
    return [out(tf.logicalNot(ctx.t(0)))];
  },
  Where: (ctx) => {
    const c = ctx.v(0), a = ctx.v(1), b = ctx.v(2);
    if (c instanceof HostTensor && a instanceof HostTensor && b instanceof HostTensor) {
      const ab = hostBinary(a, b, (x) => x);
      const shape = broadcastShapes(c.shape, ab.shape);
      const ca = hostBinary(c, HostTensor.make('bool', shape, new Array(prod(shape)).fill(0)), (x) => x, 'bool');
      const av = hostBinary(a, HostTensor.make(a.dtype, shape, new Array(prod(shape)).fill(0)), (x) => x, a.dtype);
      const bv = hostBinary(b, HostTensor.make(b.dtype, shape, new Array(prod(shape)).fill(0)), (x) => x, b.dtype);
      return [HostTensor.make(a.dtype, shape, ca.values().map((x, i) => (x ? av.data[i]! : bv.data[i]!)))];
    }
    const shape = broadcastShapes(broadcastShapes(ctx.shapeOf(0), ctx.shapeOf(1)), ctx.shapeOf(2));
    const [x, y] = sameDtype(ctx.t(1), ctx.t(2));
    return [out(tf.where(tf.broadcastTo(tf.cast(ctx.t(0), 'bool'), shape), tf.broadcastTo(x, shape), tf.broadcastTo(y, shape)))];
  },
  Sign: (ctx) => unary(ctx, (x) => tf.sign(x), Math.sign),
  Identity: (ctx) => [ctx.v(0)],
  Dropout: (ctx) => [ctx.v(0)],
  Clip: (ctx) => {
    let lo = -Infinity, hi = Infinity;
    if (ctx.opsetLt(11)) {
      lo = ctx.af('min', -3.4028234663852886e38);
      hi = ctx.af('max', 3.4028234663852886e38);
    } else {
      if (ctx.has(1)) lo = ctx.host(1).data[0]!;
      if (ctx.has(2)) hi = ctx.host(2).data[0]!;
    }
    return unary(ctx, (x) => tf.clipByValue(x, Math.max(lo, -3.4e38), Math.min(hi, 3.4e38)), (x) => Math.min(hi, Math.max(lo, x)));
  },
  Cast: (ctx) => {
    const to = ctx.ai('to', DT.FLOAT);
    const x = ctx.v(0);
    const kind = to === DT.FLOAT || to === DT.DOUBLE || to === DT.FLOAT16 ? 'float32' : to === DT.BOOL ? 'bool' : 'int64';
    if (x instanceof HostTensor) return [HostTensor.make(kind, x.shape, x.values())];
    const target = kind === 'int64' ? 'int32' : kind;
    if (x.dtype === target) return [x];
    return [out(tf.cast(ctx.t(0), target))];
  },
  Relu: (ctx) => unary(ctx, (x) => tf.relu(x), (x) => Math.max(0, x)),
  LeakyRelu: (ctx) => {
    const a = ctx.af('alpha', 0.01);
    return unary(ctx, (x) => tf.leakyRelu(x, a));
  },
  PRelu: (ctx) => binary(ctx, (x, s) => tf.add(tf.relu(x), tf.mul(s, tf.neg(tf.relu(tf.neg(x)))))),
  Elu: (ctx) => {
    const a = ctx.af('alpha', 1);
    return unary(ctx, (x) => (a === 1 ? tf.elu(x) : tf.where(tf.greater(x, 0), x, tf.mul(a, tf.sub(tf.exp(tf.minimum(x, 0)), 1)))));
  },
  Selu: (ctx) => unary(ctx, (x) => tf.selu(x)),
  Sigmoid: (ctx) => unary(ctx, (x) => tf.sigmoid(x)),
  Tanh: (ctx) => unary(ctx, (x) => tf.tanh(x)),
  Exp: (ctx) => unary(ctx, (x) => tf.exp(x), Math.exp),
  Log: (ctx) => unary(ctx, (x) => tf.log(x), Math.log),
  Abs: (ctx) => unary(ctx, (x) => tf.abs(x), Math.abs),
  Neg: (ctx) => unary(ctx, (x) => tf.neg(x), (x) => -x),
  Sqrt: (ctx) => unary(ctx, (x) => tf.sqrt(x), Math.sqrt),
  Reciprocal: (ctx) => unary(ctx, (x) => tf.reciprocal(x), (x) => 1 / x),
  Floor: (ctx) => unary(ctx, (x) => tf.floor(x), Math.floor),
  Ceil: (ctx) => unary(ctx, (x) => tf.ceil(x), Math.ceil),
  Sin: (ctx) => unary(ctx, (x) => tf.sin(x), Math.sin),
  Cos: (ctx) => unary(ctx, (x) => tf.cos(x), Math.cos),
  Erf: (ctx) => unary(ctx, (x) => tf.erf(x)),
  Softplus: (ctx) => unary(ctx, (x) => tf.softplus(x)),
  HardSigmoid: (ctx) => {
    const a = ctx.af('alpha', 0.2), b = ctx.af('beta', 0.5);
    return unary(ctx, (x) => tf.clipByValue(tf.add(tf.mul(x, a), b), 0, 1));
  },
  HardSwish: (ctx) => unary(ctx, (x) => tf.mul(x, tf.clipByValue(tf.add(tf.mul(x, 1 / 6), 0.5), 0, 1))),
  Gelu: (ctx) => {
    const approx = ctx.astr('approximate', 'none');
    return unary(ctx, (x) =>
      approx === 'tanh'
        ? tf.mul(tf.mul(x, 0.5), tf.add(1, tf.tanh(tf.mul(Math.sqrt(2 / Math.PI), tf.add(x, tf.mul(0.044715, tf.pow(x, 3)))))))
        : tf.mul(tf.mul(x, 0.5), tf.add(1, tf.erf(tf.mul(x, Math.SQRT1_2)))),
    );
  },
};

/**
 * ONNX normalisation, reduction and softmax operators. Batch-norm statistics of constant parameters
 * are folded into a scale and shift once per model; reductions over NHWC values stay NHWC.
 */
import * as tf from '@tensorflow/tfjs';
import { HostTensor } from '../host.js';
import { Dev, NodeCtx, channelsLast, nhwcOut, out, prod, normAxis, TO_NHWC, type OpTable, type Value } from './node.js';

function reduce(ctx: NodeCtx, f: (x: tf.Tensor, axes: number[], keep: boolean) => tf.Tensor, axesFromInputSince: number): Value[] {
  const s = ctx.shapeOf(0);
  const keep = ctx.ai('keepdims', 1) === 1;
  let axes = ctx.model.opset >= axesFromInputSince ? (ctx.has(1) ? ctx.host(1).values() : undefined) : ctx.aints('axes');
  if (!axes || axes.length === 0) {
    if (ctx.ai('noop_with_empty_axes', 0) === 1) return [ctx.v(0)];
    axes = s.map((_, i) => i);
  }
  axes = axes.map((a) => normAxis(a, s.length));
  const x = ctx.v(0);
  if (x instanceof Dev && x.nhwc && !x.nchw && s.length === 4 && (keep || (axes.includes(2) && axes.includes(3)))) {
    const y = f(x.nhwc, axes.map((a) => TO_NHWC[a]!), keep);
    return [keep ? nhwcOut(y) : out(y)];
  }
  return [out(f(ctx.t(0), axes, keep))];
}

function softmaxLike(ctx: NodeCtx, f: (x: tf.Tensor) => tf.Tensor): Value[] {
  const s = ctx.shapeOf(0);
  const r = s.length;
  const t = ctx.t(0);
  if (ctx.opsetLt(13)) {
    const ax = normAxis(ctx.ai('axis', 1), r);
    return [out(tf.reshape(f(tf.reshape(t, [prod(s.slice(0, ax)), prod(s.slice(ax))])), s))];
  }
  const ax = normAxis(ctx.ai('axis', -1), r);
  if (ax === r - 1) return [out(f(t))];
  const perm = s.map((_, i) => i);
  perm[ax] = r - 1;
  perm[r - 1] = ax;
  return [out(tf.transpose(f(tf.transpose(t, perm)), perm))];
}

/** Normalisation, reduction and softmax operators. */
export const normalizationOps: OpTable = {
  GroupNormalization: (ctx) => {
    const eps = ctx.af('epsilon', 1e-5);
    const G = ctx.ai('num_groups', 1);
    const s = ctx.shapeOf(0);
    const x = ctx.v(0);
    if (s.length !== 4 || !(x instanceof Dev)) throw new Error('GroupNormalization is supported on 4-D inputs');
    const [N, C, H, W] = s as [number, number, number, number];
    const xh = tf.reshape(channelsLast(x), [N, H, W, G, C / G]);
    const { mean, variance } = tf.moments(xh, [1, 2, 4], true);
    let y = tf.mul(tf.sub(xh, mean), tf.rsqrt(tf.add(variance, eps)));
    const scale = ctx.t(1), bias = ctx.t(2);
    if (scale.size === G) {
      // opset 18: scale and bias per group
      y = tf.add(tf.mul(y, tf.reshape(scale, [G, 1])), tf.reshape(bias, [G, 1]));
      return [nhwcOut(tf.reshape(y, [N, H, W, C]))];
    }
    return [nhwcOut(tf.add(tf.mul(tf.reshape(y, [N, H, W, C]), scale), bias))];
  },
  BatchNormalization: (ctx) => {
    const eps = ctx.af('epsilon', 1e-5);
    const x = ctx.v(0);
    const s = ctx.shapeOf(0);
    const params = [1, 2, 3, 4].map((k) => ctx.v(k));
    let a: tf.Tensor, b: tf.Tensor;
    if (params.every((p) => p instanceof HostTensor)) {
      const [sc, bi, mu, va] = params as HostTensor[];
      const key = `bn:${ctx.node.name}:${ctx.node.input?.slice(1).join(',')}`;
      const av = sc!.values().map((g, c) => g / Math.sqrt(va!.data[c]! + eps));
      a = ctx.model.cached(key + ':a', () => tf.tensor1d(av));
      b = ctx.model.cached(key + ':b', () => tf.tensor1d(bi!.values().map((v, c) => v - mu!.data[c]! * av[c]!)));
    } else {
      const [sc, bi, mu, va] = [1, 2, 3, 4].map((k) => ctx.t(k));
      a = tf.div(sc!, tf.sqrt(tf.add(va!, eps)));
      b = tf.sub(bi!, tf.mul(mu!, a));
    }
    if (s.length === 4 && x instanceof Dev) return [nhwcOut(tf.add(tf.mul(channelsLast(x), a), b))];
    const bshape = s.map((d, i) => (i === 1 ? d : 1));
    return [out(tf.add(tf.mul(ctx.t(0), tf.reshape(a, bshape)), tf.reshape(b, bshape)))];
  },
  InstanceNormalization: (ctx) => {
    const eps = ctx.af('epsilon', 1e-5);
    const x = ctx.v(0);
    const s = ctx.shapeOf(0);
    const scale = ctx.t(1), bias = ctx.t(2);
    if (s.length === 4 && x instanceof Dev) {
      const xh = channelsLast(x);
      const { mean, variance } = tf.moments(xh, [1, 2], true);
      return [nhwcOut(tf.add(tf.mul(tf.mul(tf.sub(xh, mean), tf.rsqrt(tf.add(variance, eps))), scale), bias))];
    }
    const axes = s.map((_, i) => i).slice(2);
    const t = ctx.t(0);
    const { mean, variance } = tf.moments(t, axes, true);
    const bshape = s.map((d, i) => (i === 1 ? d : 1));
    return [out(tf.add(tf.mul(tf.mul(tf.sub(t, mean), tf.rsqrt(tf.add(variance, eps))), tf.reshape(scale, bshape)), tf.reshape(bias, bshape)))];
  },
  LayerNormalization: (ctx) => {
    const s = ctx.shapeOf(0);
    const axis = normAxis(ctx.ai('axis', -1), s.length);
    const eps = ctx.af('epsilon', 1e-5);
    const t = ctx.t(0);
    const axes = s.map((_, i) => i).slice(axis);
    const { mean, variance } = tf.moments(t, axes, true);
    let y = tf.mul(tf.sub(t, mean), tf.rsqrt(tf.add(variance, eps)));
    y = tf.mul(y, ctx.t(1));
    if (ctx.has(2)) y = tf.add(y, ctx.t(2));
    return [out(y)];
  },
  ReduceL2: (ctx) => reduce(ctx, (x, a, k) => tf.sqrt(tf.sum(tf.square(x), a, k)), 18),
  ReduceSumSquare: (ctx) => reduce(ctx, (x, a, k) => tf.sum(tf.square(x), a, k), 18),
  ReduceProd: (ctx) => reduce(ctx, (x, a, k) => tf.prod(x, a, k), 18),
  ReduceMean: (ctx) => reduce(ctx, (x, a, k) => tf.mean(x, a, k), 18),
  ReduceSum: (ctx) => reduce(ctx, (x, a, k) => tf.sum(x, a, k), 13),
  ReduceMax: (ctx) => reduce(ctx, (x, a, k) => tf.max(x, a, k), 18),
  ReduceMin: (ctx) => reduce(ctx, (x, a, k) => tf.min(x, a, k), 18),
  Softmax: (ctx) => softmaxLike(ctx, (x) => tf.softmax(x)),
  LogSoftmax: (ctx) => softmaxLike(ctx, (x) => tf.logSoftmax(x)),
};

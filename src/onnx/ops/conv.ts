/**
 * ONNX convolution, pooling and dense operators. Convolutions and pools run in NHWC (their outputs
 * stay NHWC until an operator needs the logical layout); constant filters are converted once per
 * model.
 */
import * as tf from '@tensorflow/tfjs';
import { HostTensor, broadcastShapes } from '../host.js';
import { Dev, NodeCtx, channelsLast, nhwcOut, out, prod, type OpTable, type Value } from './node.js';

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

/** ONNX pads [x1b, x2b, x1e, x2e] for a 2-D spatial op, resolving auto_pad. */
function spatialPads(ctx: NodeCtx, h: number, w: number, k: [number, number], st: [number, number], dil: [number, number] = [1, 1], ceil = false): [[number, number], [number, number]] {
  const auto = ctx.astr('auto_pad', 'NOTSET');
  if (auto === 'SAME_UPPER' || auto === 'SAME_LOWER') {
    const res = [h, w].map((d, i) => {
      const o = Math.ceil(d / st[i]!);
      const total = Math.max(0, (o - 1) * st[i]! + (k[i]! - 1) * dil[i]! + 1 - d);
      const small = Math.floor(total / 2);
      return (auto === 'SAME_UPPER' ? [small, total - small] : [total - small, small]) as [number, number];
    });
    return [res[0]!, res[1]!];
  }
  const p = auto === 'VALID' ? [0, 0, 0, 0] : (ctx.aints('pads') ?? [0, 0, 0, 0]);
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

function pool(ctx: NodeCtx, kind: 'max' | 'avg'): Value[] {
  const x = ctx.v(0);
  const s = ctx.shapeOf(0);
  if (s.length !== 4 || !(x instanceof Dev)) throw new Error(`only 2-D pooling (4-D input) is supported`);
  const k = ctx.aints('kernel_shape') as [number, number];
  const st = (ctx.aints('strides') ?? [1, 1]) as [number, number];
  const dil = ctx.aints('dilations') ?? [1, 1];
  if (dil[0] !== 1 || dil[1] !== 1) throw new Error('dilated pooling is not supported');
  const ceil = ctx.ai('ceil_mode', 0) === 1;
  if (ceil && kind === 'avg' && ctx.ai('count_include_pad', 0) === 1) throw new Error('AveragePool with ceil_mode=1 and count_include_pad=1 is not supported');
  const pads = spatialPads(ctx, s[2]!, s[3]!, k, st, [1, 1], ceil);
  const xh = channelsLast(x);
  const padded = pads.some(([a, b]) => a || b);
  const pp: [number, number][] = [[0, 0], pads[0], pads[1], [0, 0]];
  if (kind === 'max') return [nhwcOut(tf.maxPool(padded ? tf.pad(xh, pp, -3.4e38) : xh, k, st, 'valid'))];
  if (!padded) return [nhwcOut(tf.avgPool(xh, k, st, 'valid'))];
  const sum = tf.avgPool(tf.pad(xh, pp), k, st, 'valid');
  if (ctx.ai('count_include_pad', 0) === 1) return [nhwcOut(sum)];
  const ones = ctx.model.cached(`poolmask:${ctx.node.name}:${s.join(',')}`, () => tf.avgPool(tf.pad(tf.ones([1, s[2]!, s[3]!, 1]), pp) as tf.Tensor4D, k, st, 'valid'));
  return [nhwcOut(tf.div(sum, ones))];
}

/** Convolution, pooling and dense operators. */
export const convOps: OpTable = {
  Conv: (ctx) => {
    const x = ctx.v(0);
    const s = ctx.shapeOf(0);
    if (s.length !== 4) throw new Error(`only 2-D convolution (4-D input) is supported, got input shape [${s.join(',')}]`);
    const wv = ctx.v(1);
    const wShape = ctx.shapeOf(1);
    const [M, cPerG, kh, kw] = wShape as [number, number, number, number];
    const C = s[1]!;
    const group = ctx.ai('group', 1);
    const st = (ctx.aints('strides') ?? [1, 1]) as [number, number];
    const dil = (ctx.aints('dilations') ?? [1, 1]) as [number, number];
    if (dil[0] !== 1 || dil[1] !== 1) throw new Error('dilated convolution is not supported (no gradient exists for it in tfjs)');
    const pads = spatialPads(ctx, s[2]!, s[3]!, [kh, kw], st);
    let xh: tf.Tensor4D = x instanceof Dev ? channelsLast(x) : (tf.transpose(ctx.t(0), [0, 2, 3, 1]) as tf.Tensor4D);
    if (pads.some(([a, b]) => a || b)) xh = tf.pad(xh, [[0, 0], pads[0], pads[1], [0, 0]]);
    // ONNX weights [M, C/g, kh, kw] -> tf filters [kh, kw, C/g, M] (constant weights converted once).
    const key = `conv:${ctx.node.name}:${ctx.node.input?.[1]}`;
    const filt = (): tf.Tensor4D => tf.transpose(ctx.model.tensorOf(wv), [2, 3, 1, 0]) as tf.Tensor4D;
    const W = wv instanceof HostTensor ? ctx.model.cached(key, filt) : filt();
    let y: tf.Tensor4D;
    if (group === 1 && wv instanceof HostTensor) {
      const flipped = ctx.model.cached(key + ':flip', () => tf.transpose(tf.reverse(W, [0, 1]), [0, 1, 3, 2]) as tf.Tensor4D);
      y = convConstFilter(xh, W, flipped, st);
    } else if (group === 1) y = tf.conv2d(xh, W, st, 'valid');
    else if (group === C && cPerG === 1) {
      // depthwise: [kh,kw,1,M] -> [kh,kw,C,M/C]
      const dw = wv instanceof HostTensor ? ctx.model.cached(key + ':dw', () => tf.reshape(W, [kh, kw, C, M / C]) as tf.Tensor4D) : (tf.reshape(W, [kh, kw, C, M / C]) as tf.Tensor4D);
      y = depthwiseNeedsTaps() ? depthwiseByTaps(xh, dw, st) : tf.depthwiseConv2d(xh, dw, st, 'valid');
    } else {
      const xs = tf.split(xh, group, 3);
      const ws = tf.split(W, group, 3) as tf.Tensor4D[];
      y = tf.concat(xs.map((xi, g) => tf.conv2d(xi as tf.Tensor4D, ws[g]!, st, 'valid')), 3) as tf.Tensor4D;
    }
    if (ctx.has(2)) y = tf.add(y, ctx.t(2));
    return [nhwcOut(y)];
  },
  ConvTranspose: (ctx) => {
    const s = ctx.shapeOf(0);
    if (s.length !== 4) throw new Error(`only 2-D transposed convolution (4-D input) is supported, got input shape [${s.join(',')}]`);
    if (ctx.ai('group', 1) !== 1) throw new Error('grouped ConvTranspose is not supported');
    const dil = ctx.aints('dilations') ?? [1, 1];
    if (dil[0] !== 1 || dil[1] !== 1) throw new Error('dilated ConvTranspose is not supported');
    if (ctx.aints('output_shape')) throw new Error('ConvTranspose with output_shape is not supported; use pads');
    const auto = ctx.astr('auto_pad', 'NOTSET');
    if (auto !== 'NOTSET' && auto !== 'VALID') throw new Error(`ConvTranspose auto_pad ${auto} is not supported`);
    const x = ctx.v(0);
    const wv = ctx.v(1);
    const [, cOut, kh, kw] = ctx.shapeOf(1) as [number, number, number, number];
    const st = (ctx.aints('strides') ?? [1, 1]) as [number, number];
    const p = auto === 'VALID' ? [0, 0, 0, 0] : (ctx.aints('pads') ?? [0, 0, 0, 0]);
    const op = ctx.aints('output_padding') ?? [0, 0];
    const [N, , H, W] = s as [number, number, number, number];
    // ONNX weights [Cin, Cout, kh, kw] -> tf filter [kh, kw, Cout, Cin]; full output, then crop the pads.
    const filt = (): tf.Tensor4D => tf.transpose(ctx.model.tensorOf(wv), [2, 3, 1, 0]) as tf.Tensor4D;
    const Wt = wv instanceof HostTensor ? ctx.model.cached(`convT:${ctx.node.name}:${ctx.node.input?.[1]}`, filt) : filt();
    const xh = x instanceof Dev ? channelsLast(x) : (tf.transpose(ctx.t(0), [0, 2, 3, 1]) as tf.Tensor4D);
    const fh = (H - 1) * st[0] + kh, fw = (W - 1) * st[1] + kw;
    let y: tf.Tensor4D = tf.conv2dTranspose(xh, Wt, [N, fh, fw, cOut], st, 'valid');
    if (op[0]! > 0 || op[1]! > 0) y = tf.pad(y, [[0, 0], [0, op[0]!], [0, op[1]!], [0, 0]]);
    const oh = fh + op[0]! - p[0]! - p[2]!, ow = fw + op[1]! - p[1]! - p[3]!;
    if (p.some((v) => v !== 0)) y = tf.slice(y, [0, p[0]!, p[1]!, 0], [N, oh, ow, cOut]);
    if (ctx.has(2)) y = tf.add(y, ctx.t(2));
    return [nhwcOut(y)];
  },
  MaxPool: (ctx) => {
    if ((ctx.node.output ?? []).filter(Boolean).length > 1) throw new Error('MaxPool with an Indices output is not supported');
    return pool(ctx, 'max');
  },
  AveragePool: (ctx) => pool(ctx, 'avg'),
  GlobalAveragePool: (ctx) => {
    const x = ctx.v(0);
    if (x instanceof Dev && ctx.shapeOf(0).length === 4) return [nhwcOut(tf.mean(channelsLast(x), [1, 2], true))];
    const s = ctx.shapeOf(0);
    return [out(tf.mean(ctx.t(0), s.map((_, i) => i).slice(2), true))];
  },
  GlobalMaxPool: (ctx) => {
    const x = ctx.v(0);
    if (x instanceof Dev && ctx.shapeOf(0).length === 4) return [nhwcOut(tf.max(channelsLast(x), [1, 2], true))];
    const s = ctx.shapeOf(0);
    return [out(tf.max(ctx.t(0), s.map((_, i) => i).slice(2), true))];
  },
  MatMul: (ctx) => {
    let a = ctx.t(0), b = ctx.t(1);
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
  },
  Gemm: (ctx) => {
    const alpha = ctx.af('alpha', 1), beta = ctx.af('beta', 1);
    const ta = ctx.ai('transA', 0), tb = ctx.ai('transB', 0);
    // Explicit transposes (matMul with transpose flags is slow on wasm); constant B is transposed once.
    let a = ctx.t(0) as tf.Tensor2D;
    if (a.rank !== 2) a = tf.reshape(a, [a.shape[0]!, prod(a.shape.slice(1))]) as tf.Tensor2D;
    if (ta) a = tf.transpose(a);
    const bv = ctx.v(1);
    let b: tf.Tensor2D;
    if (tb && bv instanceof HostTensor) b = ctx.model.cached(`gemmB:${ctx.node.name}:${ctx.node.input?.[1]}`, () => tf.transpose(ctx.model.tensorOf(bv) as tf.Tensor2D));
    else b = tb ? tf.transpose(ctx.t(1) as tf.Tensor2D) : (ctx.t(1) as tf.Tensor2D);
    let y: tf.Tensor = tf.matMul(a, b);
    if (alpha !== 1) y = tf.mul(y, alpha);
    if (ctx.has(2)) y = tf.add(y, beta === 1 ? ctx.t(2) : tf.mul(ctx.t(2), beta));
    return [out(y)];
  },
};

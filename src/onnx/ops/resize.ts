/**
 * ONNX Resize and Upsample on the spatial axes of 4-D inputs: nearest (integer factors as a
 * broadcast, otherwise a gather) and linear (separable interpolation matrices), with ONNX's
 * coordinate transformation modes.
 */
import * as tf from '@tensorflow/tfjs';
import { Dev, NodeCtx, channelsLast, logical, nhwcOut, out, type OpTable, type Value } from './node.js';

/** Input [N, C, H, W], output spatial size, per-axis scales and coordinate mode of one Resize. */
interface ResizePlan {
  dims: [number, number, number, number];
  oh: number;
  ow: number;
  sc: number[];
  ctm: string;
}

function resize(ctx: NodeCtx): Value[] {
  const x = ctx.v(0);
  const s = ctx.shapeOf(0);
  const mode = ctx.astr('mode', 'nearest');
  let scales: number[] | undefined, sizes: number[] | undefined;
  if (ctx.op === 'Upsample' || ctx.opsetLt(11)) scales = ctx.host(1).values();
  else {
    if (ctx.has(2) && ctx.host(2).size > 0) scales = ctx.host(2).values();
    if (ctx.has(3) && ctx.host(3).size > 0) sizes = ctx.host(3).values();
  }
  const target = sizes ?? s.map((d, i) => Math.floor(d * scales![i]!));
  const sc = scales ?? target.map((t, i) => t / s[i]!);
  if (s.length !== 4 || target[0] !== s[0] || target[1] !== s[1]) throw new Error('Resize is supported on the spatial axes of 4-D inputs only');
  if (!(x instanceof Dev)) throw new Error('Resize of a constant is not supported');
  const ctm = ctx.astr('coordinate_transformation_mode', ctx.op === 'Upsample' || ctx.opsetLt(11) ? 'asymmetric' : 'half_pixel');
  const xh = channelsLast(x);
  const plan: ResizePlan = { dims: s as ResizePlan['dims'], oh: target[2]!, ow: target[3]!, sc, ctm };
  if (mode === 'nearest') return resizeNearest(ctx, xh, plan);
  if (mode === 'linear') return resizeLinear(ctx, x, plan);
  throw new Error(`Resize mode '${mode}' is not supported (nearest, linear)`);
}

function resizeNearest(ctx: NodeCtx, xh: tf.Tensor4D, { dims, oh, ow, sc, ctm }: ResizePlan): Value[] {
  const [N, C, H, W] = dims;
  const nm = ctx.astr('nearest_mode', 'round_prefer_floor');
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
    const zeros = ctx.model.cached(`rep:${fh},${fw}`, () => tf.zeros([1, 1, fh, 1, fw, 1]));
    return [nhwcOut(tf.reshape(tf.add(tf.reshape(xh, [N, H, 1, W, 1, C]), zeros), [N, oh, ow, C]))];
  }
  const g = tf.gather(tf.gather(xh, tf.tensor1d(ih, 'int32'), 1), tf.tensor1d(iw, 'int32'), 2);
  return [nhwcOut(g)];
}

/**
 * Separable interpolation matrices built on the host: exact ONNX coordinate semantics and a
 * gradient made of matMuls (tfjs' ResizeBilinearGrad ignores half-pixel centres).
 */
function resizeLinear(ctx: NodeCtx, x: Dev, { dims, oh, ow, sc, ctm }: ResizePlan): Value[] {
  const [N, C, H, W] = dims;
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
  const key = `resize:${ctx.node.name}:${dims.join(',')}:${oh},${ow}`;
  const mh = ctx.model.cached(key + ':h', () => tf.tensor2d(matrix(H, oh, sc[2]!), [H, oh]));
  const mw = ctx.model.cached(key + ':w', () => tf.tensor2d(matrix(W, ow, sc[3]!), [W, ow]));
  const xl = logical(x); // [N,C,H,W]
  let y = tf.matMul(tf.reshape(xl, [N * C * H, W]) as tf.Tensor2D, mw); // [NCH, ow]
  y = tf.transpose(tf.reshape(y, [N * C, H, ow]), [0, 2, 1]); // [NC, ow, H]
  y = tf.matMul(tf.reshape(y, [N * C * ow, H]) as tf.Tensor2D, mh); // [NC*ow, oh]
  return [out(tf.transpose(tf.reshape(y, [N, C, ow, oh]), [0, 1, 3, 2]))];
}

/** Resize and its opset < 10 form, Upsample (scales as input 1, asymmetric coordinates). */
export const resizeOps: OpTable = {
  Resize: resize,
  Upsample: resize,
};

/**
 * ONNX shape and data-movement operators: constants, shape arithmetic (evaluated on the host when
 * the inputs are constants), reshapes, transposes, concatenation, splits, slices, gathers, padding
 * and tiling.
 */
import * as tf from '@tensorflow/tfjs';
import { HostTensor, hostFromProto, hostBinary, hostGather, hostConcat, hostSliceIdx, broadcastShapes } from '../host.js';
import { Dev, NodeCtx, channelsLast, nhwcOut, out, prod, normAxis, TO_NHWC, type OpTable, type Value } from './node.js';

function reshapeTarget(inShape: number[], spec: number[], allowZero: boolean): number[] {
  const t = spec.map((d, i) => (d === 0 && !allowZero ? inShape[i]! : d));
  const known = prod(t.filter((d) => d !== -1));
  return t.map((d) => (d === -1 ? prod(inShape) / known : d));
}

/** Per-axis index lists of an ONNX Slice. */
function sliceIndices(ctx: NodeCtx, s: number[]): { idx: number[][]; simple: boolean; begin: number[]; size: number[] } {
  let starts: number[], ends: number[], axes: number[] | undefined, steps: number[] | undefined;
  if (ctx.opsetLt(10)) {
    starts = ctx.aints('starts') ?? [];
    ends = ctx.aints('ends') ?? [];
    axes = ctx.aints('axes');
  } else {
    starts = ctx.host(1).values();
    ends = ctx.host(2).values();
    axes = ctx.has(3) ? ctx.host(3).values() : undefined;
    steps = ctx.has(4) ? ctx.host(4).values() : undefined;
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

/** Shape and data-movement operators. */
export const shapeOps: OpTable = {
  Shape: (ctx) => {
    const s = ctx.shapeOf(0);
    const r = s.length;
    let start = ctx.ai('start', 0), end = ctx.ai('end', r);
    start = Math.min(r, Math.max(0, normAxis(start, r)));
    end = Math.min(r, Math.max(0, normAxis(end, r)));
    return [HostTensor.ints(s.slice(start, end))];
  },
  Size: (ctx) => [HostTensor.ints([prod(ctx.shapeOf(0))], [])],
  Constant: (ctx) => {
    const a = ctx.attrs;
    if (a.get('value')?.t) return [hostFromProto(a.get('value')!.t!)];
    if (a.has('value_float')) return [HostTensor.floats([ctx.af('value_float', 0)], [])];
    if (a.has('value_floats')) {
      const f = a.get('value_floats')!.floats ?? [];
      return [HostTensor.floats(f, [f.length])];
    }
    if (a.has('value_int')) return [HostTensor.ints([ctx.ai('value_int', 0)], [])];
    if (a.has('value_ints')) return [HostTensor.ints(ctx.aints('value_ints') ?? [])];
    throw new Error('Constant without a supported value attribute');
  },
  ConstantOfShape: (ctx) => {
    const shape = ctx.host(0).values();
    const t = ctx.attrs.get('value')?.t;
    const v = t ? hostFromProto(t) : HostTensor.floats([0], [1]);
    return [HostTensor.make(v.dtype, shape, new Array(prod(shape)).fill(v.data[0]!))];
  },
  Range: (ctx) => {
    const [s, l, d] = [0, 1, 2].map((k) => ctx.host(k).data[0]!);
    const n = Math.max(0, Math.ceil((l! - s!) / d!));
    return [HostTensor.make(ctx.host(0).dtype, [n], Array.from({ length: n }, (_, i) => s! + i * d!))];
  },
  Reshape: (ctx) => {
    const x = ctx.v(0);
    const target = reshapeTarget(ctx.shapeOf(0), ctx.host(1).values(), ctx.ai('allowzero', 0) === 1);
    if (x instanceof HostTensor) return [new HostTensor(x.dtype, target, x.data)];
    return [out(tf.reshape(ctx.t(0), target))];
  },
  Flatten: (ctx) => {
    const s = ctx.shapeOf(0);
    const ax = normAxis(ctx.ai('axis', 1), s.length);
    const target = [prod(s.slice(0, ax)), prod(s.slice(ax))];
    const x = ctx.v(0);
    if (x instanceof HostTensor) return [new HostTensor(x.dtype, target, x.data)];
    return [out(tf.reshape(ctx.t(0), target))];
  },
  Unsqueeze: (ctx) => {
    const s = ctx.shapeOf(0);
    const axes = (ctx.opsetLt(13) ? ctx.aints('axes') : ctx.host(1).values()) ?? [];
    const r = s.length + axes.length;
    const ax = new Set(axes.map((a) => normAxis(a, r)));
    const target: number[] = [];
    let j = 0;
    for (let k = 0; k < r; k++) target.push(ax.has(k) ? 1 : s[j++]!);
    const x = ctx.v(0);
    if (x instanceof HostTensor) return [new HostTensor(x.dtype, target, x.data)];
    return [out(tf.reshape(ctx.t(0), target))];
  },
  Squeeze: (ctx) => {
    const s = ctx.shapeOf(0);
    const axesIn = ctx.opsetLt(13) ? ctx.aints('axes') : ctx.has(1) ? ctx.host(1).values() : undefined;
    const ax = new Set((axesIn ?? s.map((d, i) => (d === 1 ? i : -1)).filter((i) => i >= 0)).map((a) => normAxis(a, s.length)));
    const target = s.filter((_, i) => !ax.has(i));
    const x = ctx.v(0);
    if (x instanceof HostTensor) return [new HostTensor(x.dtype, target, x.data)];
    return [out(tf.reshape(ctx.t(0), target))];
  },
  Expand: (ctx) => {
    const shape = broadcastShapes(ctx.shapeOf(0), ctx.host(1).values());
    const x = ctx.v(0);
    if (x instanceof HostTensor) return [hostBinary(x, HostTensor.make(x.dtype, shape, new Array(prod(shape)).fill(0)), (a) => a, x.dtype)];
    return [out(tf.broadcastTo(ctx.t(0), shape))];
  },
  Transpose: (ctx) => {
    const s = ctx.shapeOf(0);
    const perm = ctx.aints('perm') ?? s.map((_, i) => s.length - 1 - i);
    const x = ctx.v(0);
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
    return [out(tf.transpose(ctx.t(0), perm))];
  },
  Tile: (ctx) => {
    const reps = ctx.host(1).values();
    const x = ctx.v(0);
    if (x instanceof HostTensor) {
      const idx = x.shape.map((d, k) => Array.from({ length: d * reps[k]! }, (_, i) => i % d));
      return [hostSliceIdx(x, idx)];
    }
    // Concatenation copies (tfjs' tile gradient stops at rank 4).
    let t = ctx.t(0);
    reps.forEach((r, ax) => {
      if (r > 1) t = tf.concat(new Array<tf.Tensor>(r).fill(t), ax);
    });
    return [out(t)];
  },
  Concat: (ctx) => {
    const r = ctx.shapeOf(0).length;
    const axis = normAxis(ctx.ai('axis', 0), r);
    const vals = ctx.ins.filter((x): x is Value => x !== undefined);
    if (vals.every((x) => x instanceof HostTensor)) return [hostConcat(vals as HostTensor[], axis)];
    if (r === 4 && vals.every((x) => x instanceof Dev && x.nhwc)) return [nhwcOut(tf.concat(vals.map((x) => channelsLast(x as Dev)), TO_NHWC[axis]!))];
    const ts = vals.map((x) => ctx.model.tensorOf(x));
    const dt = ts.some((t) => t.dtype === 'float32') ? 'float32' : ts[0]!.dtype;
    return [out(tf.concat(ts.map((t) => (t.dtype === dt ? t : tf.cast(t, dt))), axis))];
  },
  Split: (ctx) => {
    const s = ctx.shapeOf(0);
    const axis = normAxis(ctx.ai('axis', 0), s.length);
    const nOut = (ctx.node.output ?? []).length;
    let sizes = ctx.opsetLt(13) ? ctx.aints('split') : ctx.has(1) ? ctx.host(1).values() : undefined;
    if (!sizes) {
      const n = ctx.ai('num_outputs', nOut);
      const chunk = Math.ceil(s[axis]! / n);
      sizes = Array.from({ length: n }, (_, k) => Math.min(chunk, s[axis]! - k * chunk));
    }
    const x = ctx.v(0);
    if (x instanceof HostTensor) {
      let start = 0;
      return sizes.map((n) => {
        const idx = s.map((d, k) => (k === axis ? Array.from({ length: n }, (_, i) => start + i) : Array.from({ length: d }, (_, i) => i)));
        start += n;
        return hostSliceIdx(x, idx);
      });
    }
    if (x.nhwc && !x.nchw && s.length === 4) return tf.split(x.nhwc, sizes, TO_NHWC[axis]).map(nhwcOut);
    return tf.split(ctx.t(0), sizes, axis).map(out);
  },
  Slice: (ctx) => {
    const s = ctx.shapeOf(0);
    const { idx, simple, begin, size } = sliceIndices(ctx, s);
    const x = ctx.v(0);
    if (x instanceof HostTensor) return [hostSliceIdx(x, idx)];
    if (simple) {
      if (x.nhwc && !x.nchw) return [nhwcOut(tf.slice(x.nhwc, TO_NHWC.map((a) => begin[a]!), TO_NHWC.map((a) => size[a]!)))];
      return [out(tf.slice(ctx.t(0), begin, size))];
    }
    let t = ctx.t(0);
    idx.forEach((list, ax) => {
      if (list.length === s[ax] && list.every((v, i) => v === i)) return;
      t = tf.gather(t, tf.tensor1d(list, 'int32'), ax);
    });
    return [out(t)];
  },
  Gather: (ctx) => {
    const s = ctx.shapeOf(0);
    const axis = normAxis(ctx.ai('axis', 0), s.length);
    const x = ctx.v(0), ix = ctx.v(1);
    if (x instanceof HostTensor && ix instanceof HostTensor) return [hostGather(x, ix, axis)];
    if (ix instanceof HostTensor) {
      const ids = ix.values().map((i) => (i < 0 ? i + s[axis]! : i));
      if (ix.shape.length === 0) {
        const begin = s.map((_, k) => (k === axis ? ids[0]! : 0));
        const size = s.map((d, k) => (k === axis ? 1 : d));
        return [out(tf.reshape(tf.slice(ctx.t(0), begin, size), s.filter((_, k) => k !== axis)))];
      }
      return [out(tf.gather(ctx.t(0), tf.tensor(ids, ix.shape, 'int32'), axis))];
    }
    return [out(tf.gather(ctx.t(0), tf.cast(ctx.t(1), 'int32'), axis))];
  },
  Pad: (ctx) => {
    const s = ctx.shapeOf(0);
    const r = s.length;
    const mode = ctx.astr('mode', 'constant');
    let pads: number[], value = 0;
    if (ctx.opsetLt(11)) {
      pads = ctx.aints('pads') ?? new Array(2 * r).fill(0);
      value = ctx.af('value', 0);
    } else {
      pads = ctx.host(1).values();
      if (ctx.has(2)) value = ctx.host(2).data[0] ?? 0;
      if (ctx.has(3)) {
        const axes = ctx.host(3).values().map((a) => normAxis(a, r));
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
    if (mode === 'constant') return [out(tf.pad(ctx.t(0), pp, value))];
    if (mode !== 'reflect' && mode !== 'edge') throw new Error(`Pad mode '${mode}' is not supported (constant, reflect, edge)`);
    // Built from slices, reverses and concats: tfjs' MirrorPad gradient drops the reflected parts.
    let t = ctx.t(0);
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
  },
};

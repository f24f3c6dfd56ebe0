import { describe, it, expect } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import * as ort from 'onnxruntime-node';
import { importOnnx } from './importer.js';
import { OnnxGraphBuilder } from './builder.js';
import { Rng } from '../core/rng.js';
import { DT } from './proto.js';

async function compare(bytes: Uint8Array, dims: number[], outs: string[], fdOut?: string): Promise<void> {
  const n = dims.reduce((a, b) => a * b, 1);
  const data = new Rng(5).normalArray(n, 1);
  const session = await ort.InferenceSession.create(bytes);
  const ref = await session.run({ x: new ort.Tensor('float32', data, dims) });
  await session.release();
  const model = await importOnnx(bytes);
  const x = tf.tensor(data, dims);
  const got = model.apply({ x });
  for (const o of outs) {
    const a = got[o]!.dataSync(), b = ref[o]!.data as Float32Array;
    expect(got[o]!.shape).toEqual(ref[o]!.dims.map(Number));
    let scale = 1e-6, err = 0;
    for (let i = 0; i < b.length; i++) scale = Math.max(scale, Math.abs(b[i]!));
    for (let i = 0; i < b.length; i++) err = Math.max(err, Math.abs(a[i]! - b[i]!));
    expect(err / scale, `output ${o}`).toBeLessThan(1e-4);
  }
  if (fdOut) {
    const rng = new Rng(8);
    const dir = tf.tensor(rng.normalArray(n, 1), dims);
    const w = tf.tensor(rng.normalArray(got[fdOut]!.size, 1), got[fdOut]!.shape);
    const f = (xx: tf.Tensor): tf.Scalar => tf.tidy(() => tf.sum(tf.mul(model.apply({ x: xx })[fdOut]!, w)));
    const g = tf.grad(f)(x);
    const analytic = tf.sum(tf.mul(g, dir)).dataSync()[0]!;
    const eps = 1e-3;
    const numeric = (f(tf.add(x, tf.mul(dir, eps))).dataSync()[0]! - f(tf.sub(x, tf.mul(dir, eps))).dataSync()[0]!) / (2 * eps);
    expect(Math.abs(analytic - numeric) / Math.max(Math.abs(numeric), 1e-3)).toBeLessThan(2e-2);
    tf.dispose([dir, w, g]);
  }
  tf.dispose([x, ...Object.values(got)]);
  model.dispose();
}

describe('importOnnx operator coverage (against onnxruntime)', () => {
  it('opset 18: ConvTranspose, GroupNormalization, LeakyRelu, HardSwish, PRelu, Pad reflect, AveragePool, Where, ReduceMax, Expand, Max/Min/Sum/Mean, LogSoftmax', async () => {
    const rng = new Rng(2);
    const b = new OnnxGraphBuilder();
    const x = b.input('x', ['N', 4, 5, 5]);
    const a = b.node('ConvTranspose', [x, b.init('wt', [4, 4, 3, 3], rng.normalArray(144, 0.3)), b.init('bt', [4], rng.normalArray(4, 0.1))], { strides: [2, 2], pads: [1, 1, 1, 1], output_padding: [1, 1], kernel_shape: [3, 3] }, ['convt']);
    const gn = b.node('GroupNormalization', [a, b.init('gs', [2], [1.5, 0.5]), b.init('gb', [2], [0.1, -0.2])], { num_groups: 2, epsilon: { f: 1e-5 } }, ['gn']);
    let h = b.node('LeakyRelu', [gn], { alpha: { f: 0.1 } });
    h = b.node('HardSwish', [h]);
    h = b.node('PRelu', [h, b.init('slope', [4, 1, 1], [0.1, 0.2, 0.3, 0.4])]);
    h = b.node('Pad', [h, b.init('pads', [8], [0, 0, 1, 1, 0, 0, 1, 1], DT.INT64)], { mode: 'reflect' });
    h = b.node('AveragePool', [h], { kernel_shape: [2, 2], strides: [2, 2] }); // [N,4,6,6]
    const cond = b.init('cond', [1, 1, 1, 6], [1, 0, 1, 1, 0, 1], DT.BOOL);
    h = b.node('Where', [cond, h, b.node('Neg', [h])]);
    const mx = b.node('ReduceMax', [h, b.init('rax', [2], [2, 3], DT.INT64)], { keepdims: 1 });
    const ex = b.node('Expand', [b.node('Mul', [mx, b.init('half', [], [0.5])]), b.init('eshape', [4], [1, 1, 6, 6], DT.INT64)]);
    const m1 = b.node('Max', [h, ex]);
    const m2 = b.node('Min', [h, ex]);
    h = b.node('Mean', [b.node('Sum', [m1, m2, h]), m1]);
    const fl = b.node('Flatten', [h], { axis: 1 });
    b.node('LogSoftmax', [fl], { axis: 1 }, ['logp']);
    b.node('Softmax', [h], { axis: 1 }, ['sm1']);
    b.output('convt').output('gn').output('logp').output('sm1');
    await compare(b.build(18), [2, 4, 5, 5], ['convt', 'gn', 'logp', 'sm1'], 'logp');
  });

  it('opset 11: attribute forms of Unsqueeze/Squeeze/ReduceMean/Split, Clip inputs, 2-D-coerced Softmax, Resize nearest asymmetric, Pad edge', async () => {
    const b = new OnnxGraphBuilder();
    const x = b.input('x', [2, 3, 4, 4]);
    const r = b.node('Resize', [x, b.init('roi', [0], []), b.init('sc', [4], [1, 1, 1.5, 2])], { mode: 'nearest', coordinate_transformation_mode: 'asymmetric', nearest_mode: 'floor' }, ['rs']);
    const pe = b.node('Pad', [r, b.init('pads', [8], [0, 0, 1, 0, 0, 0, 0, 2], DT.INT64)], { mode: 'edge' }); // [2,3,7,10]
    const m = b.node('ReduceMean', [b.node('Slice', [pe, b.init('st', [2], [1, 0], DT.INT64), b.init('en', [2], [7, 8], DT.INT64), b.init('ax', [2], [2, 3], DT.INT64)])], { axes: [3], keepdims: 0 }); // [2,3,6]
    const u = b.node('Unsqueeze', [m], { axes: [1] }); // [2,1,3,6]
    const sq = b.node('Squeeze', [u], { axes: [1] }); // [2,3,6]
    b.node('Split', [sq], { axis: 2, split: [2, 4] }, ['s1', 's2']);
    b.node('Softmax', [b.node('Clip', ['s2', b.init('lo', [], [-0.5]), b.init('hi', [], [0.5])])], { axis: 1 }, ['sm']);
    b.output('rs').output('s1').output('sm');
    await compare(b.build(11), [2, 3, 4, 4], ['rs', 's1', 'sm'], 'sm');
  });

  it('opset 13: Tile, ReduceL2 / ReduceSumSquare / ReduceProd (attribute axes), Sign, Expand-free L2 normalisation', async () => {
    const b = new OnnxGraphBuilder();
    const x = b.input('x', [2, 3, 4]);
    const t = b.node('Tile', [x, b.init('reps', [3], [1, 2, 1], DT.INT64)], {}, ['tile']); // [2,6,4]
    const l2 = b.node('ReduceL2', [t], { axes: [2], keepdims: 1 }, ['l2']);
    b.node('Div', [t, l2], {}, ['unit']);
    b.node('ReduceSumSquare', [x], { axes: [1], keepdims: 0 }, ['ss']);
    b.node('ReduceProd', [b.node('Add', [b.node('Sign', [x]), b.init('three', [], [3])])], { axes: [2], keepdims: 0 }, ['pr']);
    b.output('tile').output('unit').output('ss').output('pr');
    await compare(b.build(13), [2, 3, 4], ['tile', 'unit', 'ss', 'pr'], 'unit');
  });

  for (const [k, st, h, w, pads] of [
    [1, 2, 7, 7, [0, 0, 0, 0]],
    [3, 2, 9, 8, [0, 1, 1, 0]],
    [5, 3, 11, 11, [2, 2, 2, 2]],
    [2, 2, 6, 6, [0, 0, 0, 0]],
    [3, 1, 5, 7, [1, 0, 0, 1]],
  ] as [number, number, number, number, number[]][]) {
    it(`Conv k${k} s${st} on ${h}x${w} pads [${pads}]: input gradient with the cached flipped filter`, async () => {
      const rng = new Rng(k * 10 + st);
      const b = new OnnxGraphBuilder();
      const x = b.input('x', [2, 3, h, w]);
      b.node('Conv', [x, b.init('w', [4, 3, k, k], rng.normalArray(4 * 3 * k * k, 0.3))], { kernel_shape: [k, k], strides: [st, st], pads }, ['y']);
      b.output('y');
      await compare(b.build(13), [2, 3, h, w], ['y'], 'y');
    });
  }

  it('Resize by sizes: nearest to a non-integer factor (gather), linear align_corners and asymmetric', async () => {
    const b = new OnnxGraphBuilder();
    const x = b.input('x', [2, 3, 5, 6]);
    const sz = (n: string, h: number, w: number): string => b.init(n, [4], [2, 3, h, w], DT.INT64);
    b.node('Resize', [x, '', '', sz('s1', 7, 4)], { mode: 'nearest', coordinate_transformation_mode: 'half_pixel', nearest_mode: 'round_prefer_floor' }, ['near']);
    b.node('Resize', [x, '', '', sz('s2', 9, 11)], { mode: 'linear', coordinate_transformation_mode: 'align_corners' }, ['lac']);
    b.node('Resize', [x, '', '', sz('s3', 8, 3)], { mode: 'linear', coordinate_transformation_mode: 'asymmetric' }, ['lasym']);
    b.node('Add', [b.node('ReduceSum', ['near'], { keepdims: 0 }), b.node('Add', [b.node('ReduceSum', ['lac'], { keepdims: 0 }), b.node('ReduceSum', [b.node('Mul', ['lasym', 'lasym'])], { keepdims: 0 })])], {}, ['all']);
    b.output('near').output('lac').output('lasym').output('all');
    await compare(b.build(13), [2, 3, 5, 6], ['near', 'lac', 'lasym', 'all'], 'all');
  });

  it('opset 20 Gelu (erf and tanh) matches the Erf pattern it replaces', async () => {
    const b = new OnnxGraphBuilder();
    const x = b.input('x', [3, 7]);
    b.node('Gelu', [x], {}, ['g']);
    b.node('Gelu', [x], { approximate: 'tanh' }, ['gt']);
    b.output('g').output('gt');
    await compare(b.build(20, 9), [3, 7], ['g', 'gt'], 'g');
  });
});

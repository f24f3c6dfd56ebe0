import { describe, it, expect } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import * as ort from 'onnxruntime-node';
import { importOnnx, supportedOps } from './importer.js';
import { OnnxGraphBuilder } from './builder.js';
import { tinyResNetOnnx, tinyVitOnnx, tinyDecoderOnnx } from '../../test/onnx/testmodels.js';
import { Rng } from '../core/rng.js';
import { DT, decodeModel, encodeModel } from './proto.js';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

async function runOrt(bytes: Uint8Array, feeds: Record<string, { data: Float32Array; dims: number[] }>): Promise<Record<string, Float32Array>> {
  const session = await ort.InferenceSession.create(bytes);
  const inp: Record<string, ort.Tensor> = {};
  for (const [k, v] of Object.entries(feeds)) inp[k] = new ort.Tensor('float32', v.data, v.dims);
  const res = await session.run(inp);
  const out: Record<string, Float32Array> = {};
  for (const [k, v] of Object.entries(res)) out[k] = v.data as Float32Array;
  await session.release();
  return out;
}

function maxRelErr(a: Float32Array, b: Float32Array): number {
  let scale = 0, err = 0;
  for (let i = 0; i < a.length; i++) scale = Math.max(scale, Math.abs(b[i]!));
  for (let i = 0; i < a.length; i++) err = Math.max(err, Math.abs(a[i]! - b[i]!));
  return err / Math.max(scale, 1e-6);
}

const CASES: [string, () => Uint8Array, string, number[]][] = [
  ['ResNet-style block', () => tinyResNetOnnx(), 'image', [2, 3, 16, 16]],
  ['ViT-style block', () => tinyVitOnnx(), 'pixel_values', [2, 3, 16, 16]],
  ['VAE-decoder-style block', () => tinyDecoderOnnx(), 'latent', [2, 4, 4, 4]],
];

describe('importOnnx', () => {
  for (const [label, make, inputName, dims] of CASES) {
    it(`${label}: outputs equal onnxruntime's (1e-4 relative)`, async () => {
      const bytes = make();
      const data = new Rng(7).normalArray(dims.reduce((a, b) => a * b, 1), 1);
      const ref = await runOrt(bytes, { [inputName]: { data, dims } });
      const model = await importOnnx(bytes);
      expect(model.inputs.map((i) => i.name)).toEqual([inputName]);
      const x = tf.tensor(data, dims);
      const outs = model.apply({ [inputName]: x });
      for (const o of model.outputs) {
        const got = outs[o.name]!.dataSync() as Float32Array;
        expect(got.length).toBe(ref[o.name]!.length);
        expect(maxRelErr(got, ref[o.name]!)).toBeLessThan(1e-4);
      }
      tf.dispose([x, ...Object.values(outs)]);
      model.dispose();
    });

    it(`${label}: gradients agree with finite differences`, async () => {
      const model = await importOnnx(make());
      const outName = model.outputs[0]!.name;
      const n = dims.reduce((a, b) => a * b, 1);
      const rng = new Rng(11);
      const x0 = tf.tensor(rng.normalArray(n, 1), dims);
      const dir = tf.tensor(rng.normalArray(n, 1), dims);
      const probe = model.apply({ [inputName]: x0 })[outName]!;
      const w = tf.tensor(rng.normalArray(probe.size, 1), probe.shape);
      probe.dispose();
      const f = (x: tf.Tensor): tf.Scalar => tf.tidy(() => tf.sum(tf.mul(model.apply({ [inputName]: x })[outName]!, w)));
      const g = tf.grad(f)(x0);
      const analytic = tf.sum(tf.mul(g, dir)).dataSync()[0]!;
      const eps = 1e-3; // small: ReLU and MaxPool kinks must not be crossed
      const fp = f(tf.add(x0, tf.mul(dir, eps))).dataSync()[0]!;
      const fm = f(tf.sub(x0, tf.mul(dir, eps))).dataSync()[0]!;
      const numeric = (fp - fm) / (2 * eps);
      expect(Math.abs(analytic)).toBeGreaterThan(1e-3);
      expect(Math.abs(analytic - numeric) / Math.abs(numeric)).toBeLessThan(2e-2);
      tf.dispose([x0, dir, w, g]);
      model.dispose();
    });
  }

  it('does not leak tensors across calls', async () => {
    const model = await importOnnx(tinyResNetOnnx());
    const x = tf.randomUniform([1, 3, 16, 16], 0, 1, 'float32', 1);
    model.apply({ image: x }).logits!.dispose();
    const before = tf.memory().numTensors;
    for (let k = 0; k < 5; k++) model.apply({ image: x }).logits!.dispose();
    expect(tf.memory().numTensors).toBe(before);
    const g = (xx: tf.Tensor): tf.Scalar => tf.tidy(() => tf.sum(model.apply({ image: xx }).logits!));
    tf.grad(g)(x).dispose();
    const beforeGrad = tf.memory().numTensors;
    for (let k = 0; k < 3; k++) tf.grad(g)(x).dispose();
    expect(tf.memory().numTensors).toBe(beforeGrad);
    x.dispose();
    model.dispose();
  });

  it('reads initializers stored as external data beside the model file', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'onnx-ext-'));
    const w = Float32Array.from([1, -2, 3, 0.5, 0.25, -1]);
    writeFileSync(path.join(dir, 'w.bin'), Buffer.concat([Buffer.alloc(8), Buffer.from(w.buffer)]));
    const b = new OnnxGraphBuilder();
    const x = b.input('x', [1, 2]);
    b.node('MatMul', [x, 'W'], {}, ['y']);
    b.output('y');
    const model = decodeModel(b.build());
    model.graph!.initializer = [{ name: 'W', dims: [2, 3], data_type: DT.FLOAT, data_location: 1, external_data: [{ key: 'location', value: 'w.bin' }, { key: 'offset', value: '8' }, { key: 'length', value: '24' }] }];
    writeFileSync(path.join(dir, 'm.onnx'), encodeModel(model));
    const m = await importOnnx(path.join(dir, 'm.onnx'));
    const xt = tf.tensor2d([[1, 2]]);
    const y = m.apply({ x: xt }).y!;
    expect(Array.from(y.dataSync())).toEqual([1 * 1 + 2 * 0.5, -2 + 2 * 0.25, 3 - 2]);
    tf.dispose([xt, y]);
    m.dispose();
  });

  it('supports exactly the operators of its handler table, and nothing an object inherits', async () => {
    expect(supportedOps()).toEqual([
      'Abs', 'Add', 'And', 'AveragePool', 'BatchNormalization', 'Cast', 'Ceil', 'Clip', 'Concat', 'Constant',
      'ConstantOfShape', 'Conv', 'ConvTranspose', 'Cos', 'Div', 'Dropout', 'Elu', 'Equal', 'Erf', 'Exp',
      'Expand', 'Flatten', 'Floor', 'Gather', 'Gelu', 'Gemm', 'GlobalAveragePool', 'GlobalMaxPool', 'Greater',
      'GroupNormalization', 'HardSigmoid', 'HardSwish', 'Identity', 'InstanceNormalization',
      'LayerNormalization', 'LeakyRelu', 'Less', 'Log', 'LogSoftmax', 'MatMul', 'Max', 'MaxPool', 'Mean',
      'Min', 'Mul', 'Neg', 'Not', 'Or', 'PRelu', 'Pad', 'Pow', 'Range', 'Reciprocal', 'ReduceL2', 'ReduceMax',
      'ReduceMean', 'ReduceMin', 'ReduceProd', 'ReduceSum', 'ReduceSumSquare', 'Relu', 'Reshape', 'Resize',
      'Selu', 'Shape', 'Sigmoid', 'Sign', 'Sin', 'Size', 'Slice', 'Softmax', 'Softplus', 'Split', 'Sqrt',
      'Squeeze', 'Sub', 'Sum', 'Tanh', 'Tile', 'Transpose', 'Unsqueeze', 'Upsample', 'Where',
    ]);
    for (const op of ['toString', 'constructor', 'hasOwnProperty']) {
      const b = new OnnxGraphBuilder();
      b.node(op, [b.input('x', [1, 4])], {}, ['y'], 'odd');
      b.output('y');
      await expect(importOnnx(b.build())).rejects.toThrow(new RegExp(`unsupported ONNX operator '${op}'`));
    }
  });

  it('names the op type and node of an unsupported operator', async () => {
    const b = new OnnxGraphBuilder();
    const x = b.input('x', [1, 4]);
    b.node('NonMaxSuppression', [x], {}, ['y'], 'nms_node_7');
    b.output('y');
    await expect(importOnnx(b.build())).rejects.toThrow(/NonMaxSuppression.*nms_node_7/);
  });

  it('folds shape computations on the host and matches onnxruntime on slicing ops', async () => {
    const b = new OnnxGraphBuilder();
    const x = b.input('x', [2, 6, 5]);
    const s = b.node('Shape', [x]);
    const last = b.node('Gather', [s, b.init('i2', [1], [2], DT.INT64)], { axis: 0 });
    const half = b.node('Div', [last, b.init('two', [1], [2], DT.INT64)]);
    const y = b.node('Slice', [x, b.init('s0', [1], [0], DT.INT64), half, b.init('a2', [1], [2], DT.INT64)]);
    const r = b.node('Slice', [x, b.init('s1', [1], [-1], DT.INT64), b.init('e1', [1], [-1000], DT.INT64), b.init('a1', [1], [1], DT.INT64), b.init('st1', [1], [-2], DT.INT64)]);
    const [p1, p2] = [0, 1].map(() => '');
    void p1;
    void p2;
    b.node('Split', [r, b.init('sp', [2], [1, 2], DT.INT64)], { axis: 1 }, ['a', 'b2']);
    b.node('Softmax', [y], { axis: 1 }, ['sm']);
    b.node('Concat', [b.node('ReduceSum', [x, b.init('rax', [1], [1], DT.INT64)], { keepdims: 1 }), b.node('Pow', [b.node('Sqrt', [b.node('Abs', [x])]), b.init('p3', [], [3])])], { axis: 1 }, ['cat']);
    b.output('a').output('b2').output('sm').output('cat');
    const bytes = b.build(13);
    const data = new Rng(3).normalArray(60, 1);
    const ref = await runOrt(bytes, { x: { data, dims: [2, 6, 5] } });
    const model = await importOnnx(bytes);
    const xt = tf.tensor(data, [2, 6, 5]);
    const outs = model.apply({ x: xt });
    for (const k of ['a', 'b2', 'sm', 'cat']) expect(maxRelErr(outs[k]!.dataSync() as Float32Array, ref[k]!)).toBeLessThan(1e-4);
    expect(outs.sm!.shape).toEqual([2, 6, 2]);
    tf.dispose([xt, ...Object.values(outs)]);
    model.dispose();
  });
});

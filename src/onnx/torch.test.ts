import { describe, it, expect } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { importOnnx } from './importer.js';
import { checkOnnxAgainstOrt } from './check.js';
import { Rng } from '../core/rng.js';

// Files exported by torch.onnx.export (scripts/fixtures/make_torch_onnx.py).
const FX = path.join(path.dirname(fileURLToPath(import.meta.url)), '__fixtures__');

describe('PyTorch-exported ONNX files', () => {
  for (const [file, dims] of [
    ['torch_cnn.onnx', [3, 3, 32, 32]],
    ['torch_vit.onnx', [3, 3, 16, 16]],
    ['torch_decoder.onnx', [3, 4, 8, 8]],
  ] as [string, number[]][]) {
    it(`${file}: matches onnxruntime at a new batch size, and its input gradient matches finite differences`, async () => {
      const r = await checkOnnxAgainstOrt(path.join(FX, file), { batch: dims[0] });
      expect(r.inputs[0]!.shape).toEqual(dims);
      for (const o of r.outputs) expect(o.maxRelErr, `${file} ${o.name}`).toBeLessThan(1e-4);

      const model = await importOnnx(path.join(FX, file));
      const inName = model.inputs[0]!.name, outName = model.outputs[0]!.name;
      const n = dims.reduce((a, b) => a * b, 1);
      const rng = new Rng(4);
      const x = tf.tensor(rng.normalArray(n, 1), dims);
      const dir = tf.tensor(rng.normalArray(n, 1), dims);
      const probe = model.apply({ [inName]: x })[outName]!;
      const w = tf.tensor(rng.normalArray(probe.size, 1), probe.shape);
      probe.dispose();
      const f = (xx: tf.Tensor): tf.Scalar => tf.tidy(() => tf.sum(tf.mul(model.apply({ [inName]: xx })[outName]!, w)));
      const g = tf.grad(f)(x);
      const analytic = tf.sum(tf.mul(g, dir)).dataSync()[0]!;
      const eps = 3e-4; // small enough not to cross ReLU/MaxPool kinks of the CNN
      const numeric = (f(tf.add(x, tf.mul(dir, eps))).dataSync()[0]! - f(tf.sub(x, tf.mul(dir, eps))).dataSync()[0]!) / (2 * eps);
      expect(Math.abs(analytic - numeric) / Math.max(Math.abs(numeric), 1e-2)).toBeLessThan(3e-2);
      tf.dispose([x, dir, w, g]);
      model.dispose();
    });
  }
});

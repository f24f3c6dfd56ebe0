import { describe, it, expect } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { OnnxImageEncoder } from './encoder.js';
import { tinyResNetOnnx } from '../../test/onnx/testmodels.js';
import { Rng } from '../core/rng.js';

describe('OnnxImageEncoder', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'onnx-enc-'));
  const file = path.join(dir, 'resnet.onnx');
  writeFileSync(file, tinyResNetOnnx(5, 16, 8, 6));

  it('encodes [0,1] NHWC images of any size to N x featureDim', async () => {
    const enc = await OnnxImageEncoder.load({ file, inputSize: 16 });
    expect(enc.description).toMatchObject({ kind: 'onnx', inputSize: 16, featureDim: 6, pixelRange: [0, 1] });
    const x = tf.randomUniform([3, 24, 24, 3], 0, 1, 'float32', 3);
    const f = enc.encode(x as tf.Tensor4D);
    expect(f.shape).toEqual([3, 6]);
    tf.dispose([x, f]);
    enc.dispose();
  });

  it('rejects an input size the model does not take', async () => {
    await expect(OnnxImageEncoder.load({ file, inputSize: 32 })).rejects.toThrow(/\[N, 3, 16, 16\].*does not take 32x32/);
  });

  it('rejects an unknown output name', async () => {
    await expect(OnnxImageEncoder.load({ file, inputSize: 16, outputName: 'nope' })).rejects.toThrow(/no output named 'nope'/);
  });

  it('a gradient through the imported ResNet drives a PGD step that moves the features towards a target', async () => {
    const enc = await OnnxImageEncoder.load({ file, inputSize: 16 });
    const rng = new Rng(9);
    const x0 = tf.tensor4d(Float32Array.from(rng.normalArray(2 * 16 * 16 * 3, 0.15), (v) => 0.5 + v), [2, 16, 16, 3]).clipByValue(0, 1) as tf.Tensor4D;
    const target = tf.tensor2d(rng.normalArray(2 * 6, 1), [2, 6]);
    const loss = (x: tf.Tensor4D): tf.Scalar => tf.tidy(() => tf.mean(tf.square(tf.sub(enc.encode(x), target))));
    const before = loss(x0).dataSync()[0]!;
    let x = x0.clone();
    const eps = 8 / 255, alpha = 2 / 255;
    for (let k = 0; k < 3; k++) {
      const g = tf.grad((xx: tf.Tensor) => loss(xx as tf.Tensor4D))(x);
      const next = tf.tidy(() => {
        const step = tf.sub(x, tf.mul(tf.sign(g), alpha)); // descend: move features towards the target
        return tf.clipByValue(tf.minimum(tf.maximum(step, tf.sub(x0, eps)), tf.add(x0, eps)), 0, 1) as tf.Tensor4D;
      });
      tf.dispose([g, x]);
      x = next;
    }
    const after = loss(x).dataSync()[0]!;
    expect(after).toBeLessThan(before);
    const linf = tf.max(tf.abs(tf.sub(x, x0))).dataSync()[0]!;
    expect(linf).toBeLessThanOrEqual(eps + 1e-6);
    expect(linf).toBeGreaterThan(0);
    tf.dispose([x0, x, target]);
    enc.dispose();
  });
});

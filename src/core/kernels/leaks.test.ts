import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initEngine } from '../engine.js';
import { testValues } from './compare.js';

// Tensors and backend buffers stay flat over many gradient steps through conv2d + gather +
// transposed matMul on wasm (the composite kernels free every intermediate).
describe('wasm kernels do not leak', () => {
  beforeAll(async () => {
    await initEngine({ backend: 'wasm' });
  });

  it('numTensors and backend data ids are flat over 30 grad steps', () => {
    expect(tf.getBackend()).toBe('wasm');
    const x = tf.tensor4d(testValues(2 * 8 * 8 * 3, 1), [2, 8, 8, 3]);
    const w1 = tf.variable(tf.tensor4d(testValues(3 * 3 * 3 * 4, 2), [3, 3, 3, 4]));
    const w2 = tf.variable(tf.tensor4d(testValues(3 * 3 * 4 * 2, 3), [3, 3, 4, 2]));
    const emb = tf.variable(tf.tensor2d(testValues(20 * 16, 4), [20, 16]));
    const idx = tf.tensor1d([1, 4, 4, 19], 'int32');
    const opt = tf.train.adam(1e-2);
    const backend = tf.backend() as unknown as { numDataIds(): number };
    const step = () =>
      opt.minimize(() => {
        const h = tf.relu(tf.conv2d(x, w1, 2, 'same'));
        const y = tf.conv2d(h, w2, 1, 'same').reshape([2, 32]); // [2, 4*4*2]
        const e = tf.gather(emb, idx).reshape([2, 32]);
        return tf.matMul(y, e, false, true).square().mean() as tf.Scalar;
      }, false);
    step();
    const t0 = tf.memory().numTensors;
    const d0 = backend.numDataIds();
    for (let i = 0; i < 30; i++) step();
    expect(tf.memory().numTensors).toBe(t0);
    expect(backend.numDataIds()).toBe(d0);
    tf.dispose([x, w1, w2, emb, idx]);
    opt.dispose();
  });
});

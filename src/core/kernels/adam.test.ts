import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { fastAdam, FastAdamOptimizer } from './adam.js';
import { onBackend, relError, testValues } from './compare.js';

/** Train a tiny embedding + dense model for `steps` Adam steps; returns the final weights. */
function train(make: () => tf.Optimizer, steps: number): tf.Tensor[] {
  const emb = tf.variable(tf.tensor2d(testValues(12 * 4, 1), [12, 4]));
  const w = tf.variable(tf.tensor2d(testValues(4 * 3, 2), [4, 3]));
  const idx = tf.tensor1d([1, 5, 5, 11], 'int32');
  const target = tf.tensor2d(testValues(4 * 3, 3), [4, 3]);
  const opt = make();
  for (let s = 0; s < steps; s++) {
    opt.minimize(() => tf.matMul(tf.gather(emb, idx), w).sub(target).square().mean() as tf.Scalar);
  }
  opt.dispose();
  return [emb, w];
}

describe('FastAdamOptimizer', () => {
  for (const backend of ['wasm', 'cpu'] as const) {
    it(`matches tf.train.adam over 6 steps on ${backend}`, async () => {
      const a = await onBackend(backend, () => train(() => fastAdam(0.05, 0.8, 0.95), 6));
      const b = await onBackend(backend, () => train(() => tf.train.adam(0.05, 0.8, 0.95), 6));
      expect(relError(a[0], b[0])).toBeLessThan(1e-5);
      expect(relError(a[1], b[1])).toBeLessThan(1e-5);
      // The weights moved.
      expect(relError(a[1], testValues(12, 2))).toBeGreaterThan(1e-2);
    });
  }

  it('is an AdamOptimizer, keeps its iteration count and does not leak tensors', () => {
    const v = tf.variable(tf.tensor1d([1, -2, 3]));
    const opt = fastAdam(0.1);
    expect(opt).toBeInstanceOf(tf.AdamOptimizer);
    expect(opt).toBeInstanceOf(FastAdamOptimizer);
    const step = () => opt.minimize(() => v.square().sum() as tf.Scalar);
    step();
    const n0 = tf.memory().numTensors;
    for (let i = 0; i < 20; i++) step();
    expect(tf.memory().numTensors).toBe(n0);
    expect(opt.iterations).toBe(21);
    const vals = v.dataSync();
    expect(Math.abs(vals[0])).toBeLessThan(1);
    opt.dispose();
    v.dispose();
  });
});

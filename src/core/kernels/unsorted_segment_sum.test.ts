import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initEngine } from '../engine.js';
import { onBackend, relError, testValues } from './compare.js';

describe('UnsortedSegmentSum on wasm', () => {
  beforeAll(async () => {
    await initEngine({ backend: 'wasm' });
  });

  it('matches cpu for 1-D ids with repeats and an empty segment', async () => {
    const xv = testValues(6 * 3, 2);
    const f = () => tf.unsortedSegmentSum(tf.tensor2d(xv, [6, 3]), tf.tensor1d([2, 0, 2, 4, 0, 2], 'int32'), 5);
    const [a] = await onBackend('wasm', f);
    const [b] = await onBackend('cpu', f);
    expect(a.length).toBe(15);
    expect(relError(a, b)).toBeLessThan(1e-6);
    expect(a[3]).toBe(0); // segment 1 is empty
  });

  it('matches cpu for rank-3 data', async () => {
    const xv = testValues(5 * 2 * 3, 4);
    const f = () => tf.unsortedSegmentSum(tf.tensor3d(xv, [5, 2, 3]), tf.tensor1d([1, 1, 0, 3, 1], 'int32'), 4);
    const [a] = await onBackend('wasm', f);
    const [b] = await onBackend('cpu', f);
    expect(relError(a, b)).toBeLessThan(1e-6);
  });

  it('gives the gradient of gather (embedding table), axis 0 and axis 1', async () => {
    const tv = testValues(40 * 8, 6);
    const f = () => {
      const t = tf.tensor2d(tv, [40, 8]);
      const idx = tf.tensor1d([3, 1, 3, 39, 0, 7, 3], 'int32');
      const wts = tf.tensor2d(testValues(7 * 8, 9), [7, 8]);
      const g0 = tf.grad((e: tf.Tensor) => tf.gather(e, idx).mul(wts).sum() as tf.Scalar)(t);
      const idx1 = tf.tensor1d([5, 5, 2], 'int32');
      const w1 = tf.tensor2d(testValues(40 * 3, 10), [40, 3]);
      const g1 = tf.grad((e: tf.Tensor) => tf.gather(e, idx1, 1).mul(w1).sum() as tf.Scalar)(t);
      return [g0, g1];
    };
    const a = await onBackend('wasm', f);
    const b = await onBackend('cpu', f);
    expect(relError(a[0], b[0])).toBeLessThan(1e-6);
    expect(relError(a[1], b[1])).toBeLessThan(1e-6);
    // Row 3 was gathered three times.
    expect(a[0][3 * 8]).not.toBe(0);
  });
});

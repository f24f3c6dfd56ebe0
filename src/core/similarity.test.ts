import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { cosineRows } from './similarity.js';

describe('cosineRows', () => {
  it('is a.b / (|a| |b|) per row, scale-invariant, 0 for a zero row, and differentiable', () => {
    const a = tf.tensor2d([[1, 0, 0], [1, 2, 2], [3, -1, 2], [0, 0, 0]]);
    const b = tf.tensor2d([[1, 1, 0], [-2, 1, 0], [6, -2, 4], [1, 2, 3]]);
    const c = Array.from(cosineRows(a, b).dataSync());
    expect(c[0]).toBeCloseTo(Math.SQRT1_2, 6);
    expect(c[1]).toBeCloseTo(0, 6);
    expect(c[2]).toBeCloseTo(1, 6);
    expect(c[3]).toBe(0);
    const scaled = cosineRows(tf.mul(a, 1000) as tf.Tensor2D, tf.mul(b, 0.001) as tf.Tensor2D).dataSync();
    c.forEach((v, k) => expect(scaled[k]).toBeCloseTo(v, 5));
    // d cos / d a for a = e1, b = (1,1,0)/|.|: b/|b| - cos a = (1/sqrt2)(0, 1, 0)
    const g = tf.grad((x: tf.Tensor) => cosineRows(x as tf.Tensor2D, tf.tensor2d([[1, 1, 0]])).sum())(tf.tensor2d([[1, 0, 0]])).dataSync();
    [0, Math.SQRT1_2, 0].forEach((v, k) => expect(g[k]).toBeCloseTo(v, 5));
    expect(() => cosineRows(a, tf.zeros([4, 2]) as tf.Tensor2D)).toThrow(/differ/);
    tf.dispose([a, b]);
  });
});

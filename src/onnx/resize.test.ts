import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../core/rng.js';
import { resizeBilinearHalfPixel } from './resize.js';

describe('resizeBilinearHalfPixel', () => {
  const rng = new Rng(1);
  const x = tf.tensor4d(rng.uniformArray(2 * 40 * 40 * 3), [2, 40, 40, 3]);

  it('equals tf.image.resizeBilinear with half-pixel centres, down and up', () => {
    for (const s of [16, 56]) {
      const a = resizeBilinearHalfPixel(x, s, s).dataSync();
      const b = tf.image.resizeBilinear(x, [s, s], false, true).dataSync();
      expect(a.length).toBe(b.length);
      for (let i = 0; i < a.length; i += 7) expect(a[i]).toBeCloseTo(b[i]!, 5);
    }
  });

  it('has the gradient finite differences give (a directional derivative, 40 -> 16 px)', () => {
    const w = tf.tensor4d(rng.normalArray(2 * 16 * 16 * 3), [2, 16, 16, 3]);
    const d = tf.tensor4d(rng.normalArray(2 * 40 * 40 * 3), [2, 40, 40, 3]);
    const f = (xx: tf.Tensor): tf.Scalar => tf.sum(tf.mul(resizeBilinearHalfPixel(xx as tf.Tensor4D, 16, 16), w)) as tf.Scalar;
    const analytic = tf.sum(tf.mul(tf.grad(f)(x), d)).dataSync()[0]!;
    const fd = (f(tf.add(x, tf.mul(d, 1e-2))).dataSync()[0]! - f(tf.sub(x, tf.mul(d, 1e-2))).dataSync()[0]!) / 2e-2;
    expect(Math.abs(analytic - fd)).toBeLessThan(1e-2 * Math.max(1, Math.abs(fd)));
  });
});

import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { countFlops } from '../bench/flops.js';

describe('bench FLOP counter (bench/flops.ts)', () => {
  it('counts a convolution forward + both gradients as 3 x 2 N Ho Wo Co Kh Kw Ci, strided and SAME', async () => {
    const x = tf.randomNormal([2, 9, 9, 5]) as tf.Tensor4D;
    const f = tf.randomNormal([3, 3, 5, 7]) as tf.Tensor4D;
    for (const stride of [1, 2]) {
      const ho = Math.ceil(9 / stride);
      const n = await countFlops(() => {
        const g = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, stride, 'same').square().sum())([x, f]);
        tf.dispose(g);
      });
      expect(n).toBe(3 * 2 * 2 * ho * ho * 7 * 9 * 5);
    }
    tf.dispose([x, f]);
  });

  it('counts matMuls with either transpose and batch broadcasting as 2 m n k per product', async () => {
    const a = tf.randomNormal([4, 6]), b = tf.randomNormal([5, 6]), c = tf.randomNormal([3, 6, 4]);
    expect(await countFlops(() => tf.matMul(a, b, false, true).dispose())).toBe(2 * 4 * 5 * 6);
    const d = tf.randomNormal([6, 5]), e = tf.randomNormal([6, 4]);
    expect(await countFlops(() => tf.matMul(e, d, true, false).dispose())).toBe(2 * 4 * 5 * 6);
    expect(await countFlops(() => tf.matMul(c, a).dispose())).toBe(3 * 2 * 6 * 6 * 4);
    const g = await countFlops(() => tf.dispose(tf.grads((p: tf.Tensor, q: tf.Tensor) => tf.matMul(p, q, false, true).sum())([a, b])));
    expect(g).toBe(3 * 2 * 4 * 5 * 6);
    tf.dispose([a, b, c, d, e]);
  });
});

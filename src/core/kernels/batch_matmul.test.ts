import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initEngine } from '../engine.js';
import { onBackend, relError, testValues } from './compare.js';

describe('transposed matMul on wasm', () => {
  beforeAll(async () => {
    await initEngine({ backend: 'wasm' });
  });

  const cases: [number[], number[], boolean, boolean][] = [
    [[5, 7], [7, 6], false, false],
    [[7, 5], [7, 6], true, false],
    [[5, 7], [6, 7], false, true],
    [[7, 5], [6, 7], true, true],
    [[3, 7, 5], [3, 6, 7], true, true],
    [[3, 5, 7], [1, 6, 7], false, true],
    [[2, 2, 7, 4], [2, 2, 7, 3], true, false],
  ];
  for (const [as, bs, ta, tb] of cases) {
    it(`matMul ${as} x ${bs} tA=${ta} tB=${tb} matches cpu`, async () => {
      const av = testValues(as.reduce((x, y) => x * y), 1), bv = testValues(bs.reduce((x, y) => x * y), 2);
      const f = () => tf.matMul(tf.tensor(av, as), tf.tensor(bv, bs), ta, tb);
      const [a] = await onBackend('wasm', f);
      const [b] = await onBackend('cpu', f);
      expect(relError(a, b)).toBeLessThan(1e-5);
    });
  }

  it('fused matMul (bias + relu, transposeB) and dense-layer gradients match cpu', async () => {
    const xv = testValues(4 * 6, 3), wv = testValues(5 * 6, 4), bv = testValues(5, 5);
    const f = () => {
      const x = tf.tensor2d(xv, [4, 6]), w = tf.tensor2d(wv, [5, 6]), b = tf.tensor1d(bv);
      const y = tf.fused.matMul({ a: x, b: w, transposeB: true, bias: b, activation: 'relu' });
      const g = tf.grads((x2: tf.Tensor, w2: tf.Tensor) => tf.matMul(x2, w2, false, true).relu().square().sum() as tf.Scalar)([x, w]);
      return [y, ...g];
    };
    const a = await onBackend('wasm', f);
    const b = await onBackend('cpu', f);
    for (let i = 0; i < 3; i++) expect(relError(a[i], b[i])).toBeLessThan(1e-5);
  });
});

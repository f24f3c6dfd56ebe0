import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initEngine } from '../engine.js';
import { onBackend, relError, testValues } from './compare.js';

type Pad = 'same' | 'valid';
const CASES: [number[], number[], number | [number, number], Pad][] = [
  [[1, 5, 5, 1], [3, 3, 1, 1], 1, 'same'],
  [[2, 7, 6, 3], [3, 3, 3, 2], 1, 'same'],
  [[2, 8, 8, 3], [3, 3, 3, 1], 2, 'same'],
  [[2, 9, 9, 2], [4, 4, 2, 3], 2, 'valid'],
  [[3, 10, 7, 2], [2, 3, 2, 1], [2, 1], 'same'],
];
const size = (s: number[]) => s.reduce((a, b) => a * b, 1);

describe('depthwise conv gradients on wasm', () => {
  beforeAll(async () => {
    await initEngine({ backend: 'wasm' });
  });

  for (const [xs, fs, s, p] of CASES) {
    it(`grads of x and filter match cpu: x ${xs} f ${fs} stride ${s} ${p}`, async () => {
      const xv = testValues(size(xs), 3), fv = testValues(size(fs), 5);
      const f = () => {
        const x = tf.tensor4d(xv, xs as [number, number, number, number]);
        const w = tf.tensor4d(fv, fs as [number, number, number, number]);
        return tf.grads((a: tf.Tensor, b: tf.Tensor) => {
          const y = tf.depthwiseConv2d(a as tf.Tensor4D, b as tf.Tensor4D, s, p);
          return y.mul(tf.tensor(testValues(y.size, 7), y.shape)).sum() as tf.Scalar;
        })([x, w]);
      };
      const a = await onBackend('wasm', f);
      const b = await onBackend('cpu', f);
      expect(a[0].length).toBe(size(xs));
      expect(relError(a[0], b[0])).toBeLessThan(1e-4);
      expect(relError(a[1], b[1])).toBeLessThan(1e-4);
    });
  }
});

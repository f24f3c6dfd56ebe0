import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initEngine } from '../engine.js';
import { wasmPathKernelFunc } from './native_kernels.js';
import { onBackend, relError, testValues } from './compare.js';
import { conv2dBackpropFilterConfig } from './conv2d_backprop_filter.js';

type Pad = 'same' | 'valid' | [[number, number], [number, number], [number, number], [number, number]];
const CASES: [number[], number[], number | [number, number], Pad][] = [
  [[1, 5, 5, 1], [3, 3, 1, 1], 1, 'same'],
  [[2, 7, 6, 3], [3, 3, 3, 4], 1, 'same'],
  [[2, 8, 8, 3], [3, 3, 3, 4], 2, 'same'],
  [[2, 9, 9, 3], [3, 3, 3, 4], 2, 'same'],
  [[1, 9, 9, 2], [4, 4, 2, 3], 2, 'valid'],
  [[3, 10, 7, 2], [2, 3, 2, 5], [2, 1], 'same'],
  [[2, 8, 8, 3], [3, 3, 3, 4], 2, [[0, 0], [1, 2], [0, 1], [0, 0]]],
  [[2, 6, 6, 4], [1, 1, 4, 3], 1, 'valid'],
  [[1, 11, 11, 2], [5, 5, 2, 2], 3, 'valid'],
];
const size = (s: number[]) => s.reduce((a, b) => a * b, 1);

describe('Conv2DBackpropFilter on wasm', () => {
  beforeAll(async () => {
    await initEngine({ backend: 'wasm' });
  });

  // With the native addon on, the numeric cases below run the native kernel (also tested in
  // native_kernels.test.ts) and this one is its fallback; CI runs them again with AUV_NATIVE=0.
  it('is our kernel (or the native kernel fallback)', () => {
    expect(wasmPathKernelFunc('Conv2DBackpropFilter')).toBe(conv2dBackpropFilterConfig.kernelFunc);
  });

  for (const [xs, fs, s, p] of CASES) {
    it(`matches cpu: x ${xs} f ${fs} stride ${s} pad ${JSON.stringify(p)}`, async () => {
      const xv = testValues(size(xs), 3);
      const fv = testValues(size(fs), 5);
      const f = () => {
        const x = tf.tensor4d(xv, xs as [number, number, number, number]);
        const w = tf.tensor4d(fv, fs as [number, number, number, number]);
        // Weighted loss so dy is not uniform.
        const loss = (w2: tf.Tensor) => {
          const y = tf.conv2d(x, w2 as tf.Tensor4D, s, p);
          return y.mul(tf.tensor(testValues(y.size, 7), y.shape)).sum() as tf.Scalar;
        };
        return tf.grad(loss)(w);
      };
      const [a] = await onBackend('wasm', f);
      const [b] = await onBackend('cpu', f);
      expect(a.length).toBe(size(fs));
      expect(relError(a, b)).toBeLessThan(1e-4);
    });
  }

  it('direct op call matches cpu (tf.conv2dBackpropFilter-like via tf.grad, batch 4)', async () => {
    const xs = [4, 6, 5, 3] as [number, number, number, number];
    const fs = [3, 2, 3, 2] as [number, number, number, number];
    const xv = testValues(size(xs), 11), fv = testValues(size(fs), 13);
    const f = () => tf.grad((w: tf.Tensor) => tf.conv2d(tf.tensor4d(xv, xs), w as tf.Tensor4D, 1, 'same').square().sum() as tf.Scalar)(tf.tensor4d(fv, fs));
    const [a] = await onBackend('wasm', f);
    const [b] = await onBackend('cpu', f);
    expect(relError(a, b)).toBeLessThan(1e-4);
  });
});

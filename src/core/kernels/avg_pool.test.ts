/**
 * AvgPool and AvgPoolGrad (native where the addon runs, ./native_kernels.ts) against the cpu
 * backend: the encoders' 2x2 downsampling, overlapping windows (stride < filter), uneven sizes
 * that leave a border unread, and padded pools (which must fall back to the wasm kernels), with 1
 * and 2 native threads. In CI the same cases run with AUV_NATIVE=0.
 */
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initEngine } from '../engine.js';
import { onBackend, relError, testValues } from './compare.js';
import { nativeAddon, requestedNativeThreads } from './native.js';

type Case = { x: [number, number, number, number]; k: [number, number]; s: [number, number]; pad: 'valid' | 'same' };
const CASES: Case[] = [
  { x: [16, 64, 64, 3], k: [2, 2], s: [2, 2], pad: 'valid' }, // the victim encoder's input pooling
  { x: [2, 9, 11, 5], k: [3, 3], s: [2, 2], pad: 'valid' }, // overlapping windows, odd sizes
  { x: [3, 10, 10, 7], k: [3, 2], s: [1, 2], pad: 'valid' }, // stride 1 rows, overlap in rows only
  { x: [1, 7, 7, 4], k: [2, 2], s: [2, 2], pad: 'valid' }, // last row and column unread
  { x: [2, 8, 8, 40], k: [4, 4], s: [4, 4], pad: 'valid' },
  { x: [2, 9, 9, 8], k: [3, 3], s: [2, 2], pad: 'same' }, // padded: the wasm kernel
];

const addon = nativeAddon();
const threadCounts = addon ? [1, 2] : [1];

describe(`avgPool and its gradient (${addon ? 'addon' : 'wasm fallback'})`, () => {
  beforeAll(async () => {
    await initEngine({ backend: 'wasm' });
  });
  afterAll(() => {
    addon?.setThreads(requestedNativeThreads());
  });

  for (const threads of threadCounts) {
    for (const c of CASES) {
      it(`x ${c.x} window ${c.k} stride ${c.s} ${c.pad} matches cpu, ${threads} thread(s)`, async () => {
        addon?.setThreads(threads);
        const n = c.x.reduce((a, b) => a * b, 1);
        const xv = testValues(n, 11);
        const f = () => {
          const x = tf.tensor4d(xv, c.x);
          const y = tf.avgPool(x, c.k, c.s, c.pad);
          const wy = tf.tensor(testValues(y.size, 13), y.shape); // a non-uniform dy
          const dx = tf.grad((a: tf.Tensor) => tf.avgPool(a as tf.Tensor4D, c.k, c.s, c.pad).mul(wy).sum() as tf.Scalar)(x);
          return [y, dx];
        };
        const [yw, dxw] = await onBackend('wasm', f);
        const [yc, dxc] = await onBackend('cpu', f);
        expect(relError(yw!, yc!)).toBeLessThan(1e-6);
        expect(relError(dxw!, dxc!)).toBeLessThan(1e-6);
      });
    }
  }

  it.runIf(addon !== null)('refuses a view too short for the shape instead of writing past it', () => {
    const params = Int32Array.from([1, 4, 4, 1, 2, 2, 2, 2, 2, 2]);
    expect(() => addon!.avgPool(new Float32Array(16), new Float32Array(3), params)).toThrow(/needs 4/);
    expect(() => addon!.avgPool(new Float32Array(16), new Float32Array(4), Int32Array.from([1, 4, 4, 1, 3, 3, 2, 2, 2, 2]))).toThrow(/do not fit/);
  });
});

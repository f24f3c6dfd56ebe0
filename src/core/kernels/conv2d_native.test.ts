/**
 * Convolution forward, input gradient and filter gradient against the cpu backend on shapes that
 * exercise the native implicit GEMM's edges (native/kernels.cc packColsRows / packColsT,
 * native/gemm.cc blocking): batch 1, odd sizes, channel counts that are not multiples of the
 * register tile (6 rows) or of the vector width, a reduction depth KH*KW*CI above one K slice (768)
 * so that a slice boundary falls inside a filter tap, strides 1/2/3, explicit asymmetric padding,
 * strided 1x1 (not the pointwise path), more output channels than one column block, dilation
 * (forward only: tfjs has no dilated gradients) and products large enough to use two threads.
 * With the addon on the cases run with 1 and 2 native threads; with AUV_NATIVE=0 they check the
 * wasm kernels on the same shapes.
 */
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initEngine } from '../engine.js';
import { onBackend, relError, testValues } from './compare.js';
import { nativeAddon, requestedNativeThreads } from './native.js';

type Pad = 'same' | 'valid' | [[number, number], [number, number], [number, number], [number, number]];
interface Case {
  x: [number, number, number, number];
  f: [number, number, number, number];
  stride: number | [number, number];
  pad: Pad;
  dilation?: number;
}

const CASES: Case[] = [
  { x: [1, 7, 5, 3], f: [3, 3, 3, 5], stride: 1, pad: 'same' },
  { x: [2, 9, 9, 96], f: [3, 3, 96, 10], stride: 1, pad: 'same' }, // K = 864: two slices of 432
  { x: [1, 6, 6, 100], f: [3, 3, 100, 7], stride: 2, pad: 'same' }, // K = 900, strided
  { x: [3, 8, 6, 7], f: [3, 3, 7, 9], stride: 2, pad: 'valid' },
  { x: [2, 10, 10, 13], f: [5, 5, 13, 4], stride: 1, pad: [[0, 0], [2, 1], [1, 2], [0, 0]] },
  { x: [2, 11, 9, 5], f: [3, 3, 5, 6], stride: [2, 1], pad: 'same' },
  { x: [1, 13, 13, 4], f: [3, 3, 4, 3], stride: 3, pad: 'valid' },
  { x: [1, 12, 12, 8], f: [1, 1, 8, 12], stride: 2, pad: 'same' },
  { x: [4, 6, 6, 12], f: [3, 3, 12, 70], stride: 1, pad: 'valid' },
  { x: [4, 16, 16, 20], f: [3, 3, 20, 24], stride: 1, pad: 'same' }, // ~4.4M multiply-adds: 2 threads
  { x: [2, 8, 8, 64], f: [3, 3, 64, 64], stride: 1, pad: 'same' }, // conv-block's channels, 2 threads
  { x: [2, 9, 9, 4], f: [3, 3, 4, 5], stride: 1, pad: 'same', dilation: 2 },
];
const size = (s: number[]) => s.reduce((a, b) => a * b, 1);

const addon = nativeAddon();
const threadCounts = addon ? [1, 2] : [1];

describe(`conv2d forward and gradients on odd shapes (${addon ? 'native addon' : 'wasm kernels'})`, () => {
  beforeAll(async () => {
    await initEngine({ backend: 'wasm' });
  });
  afterAll(() => {
    addon?.setThreads(requestedNativeThreads());
  });

  for (const threads of threadCounts) {
    for (const c of CASES) {
      const dil = c.dilation ?? 1;
      const what = dil > 1 ? 'fwd' : 'fwd + dx + dW';
      it(`${what} match cpu: x ${c.x} f ${c.f} stride ${c.stride} pad ${JSON.stringify(c.pad)} dilation ${dil}, ${threads} thread(s)`, async () => {
        addon?.setThreads(threads);
        const xv = testValues(size(c.x), 3), fv = testValues(size(c.f), 5);
        const conv = (a: tf.Tensor, b: tf.Tensor) => tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, c.stride, c.pad, 'NHWC', dil);
        const f = () => {
          const x = tf.tensor4d(xv, c.x), w = tf.tensor4d(fv, c.f);
          const y = conv(x, w);
          if (dil > 1) return [y];
          const wy = tf.tensor(testValues(y.size, 7), y.shape); // dy not uniform
          const [dx, dw] = tf.grads((a: tf.Tensor, b: tf.Tensor) => conv(a, b).mul(wy).sum() as tf.Scalar)([x, w]);
          return [y, dx, dw];
        };
        const a = await onBackend('wasm', f);
        const b = await onBackend('cpu', f);
        expect(a.length).toBe(b.length);
        for (let i = 0; i < a.length; i++) expect(relError(a[i], b[i]), ['y', 'dx', 'dW'][i]).toBeLessThan(2e-5);
      });
    }
  }

  it('is repeatable: the same inputs give the same bits on a second call', async () => {
    const c = CASES[10]!;
    const xv = testValues(size(c.x), 11), fv = testValues(size(c.f), 13);
    const f = () => {
      const [dx, dw] = tf.grads((a: tf.Tensor, b: tf.Tensor) =>
        tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 1, 'same').square().sum() as tf.Scalar)([tf.tensor4d(xv, c.x), tf.tensor4d(fv, c.f)]);
      return [dx, dw];
    };
    const first = await onBackend('wasm', f);
    const second = await onBackend('wasm', f);
    for (let i = 0; i < 2; i++) expect(Array.from(second[i]!)).toEqual(Array.from(first[i]!));
  });
});

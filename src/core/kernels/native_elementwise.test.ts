/**
 * Native broadcasting arithmetic, Square / Neg / Relu / Abs / ClipByValue, Sum / Mean (and a clone) against the cpu backend, on the
 * GroupNorm / SiLU shapes of the VAE and UNet; runs on whichever path is active (CI runs it again
 * with AUV_NATIVE=0), with 1 and 2 native threads where the addon is loaded.
 */
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initEngine } from '../engine.js';
import { onBackend, relError, testValues } from './compare.js';
import { nativeAddon, requestedNativeThreads } from './native.js';
import { broadcastStrides, collapse } from './native_elementwise.js';

const size = (s: number[]) => s.reduce((a, b) => a * b, 1);
const addon = nativeAddon();

describe('shape collapsing', () => {
  it('merges runs of broadcast and of contiguous dims, drops size-1 dims', () => {
    const out = [8, 32, 32, 4, 16];
    const mean = [8, 1, 1, 4, 1];
    expect(broadcastStrides(mean, out)).toEqual([4, 0, 0, 1, 0]);
    expect(collapse(out, [broadcastStrides(out, out), broadcastStrides(mean, out)])).toEqual({
      shape: [8, 1024, 4, 16],
      strides: [[65536, 64, 16, 1], [4, 0, 1, 0]],
    });
    expect(collapse([2, 3], [[0, 0]])).toEqual({ shape: [6], strides: [[0]] });
    expect(collapse([1, 1], [[0, 0]])).toEqual({ shape: [1], strides: [[0]] });
  });
});

describe(`element-wise kernels (${addon ? 'addon' : 'wasm fallback'})`, () => {
  beforeAll(async () => {
    await initEngine({ backend: 'wasm' });
  });
  afterAll(() => {
    addon?.setThreads(requestedNativeThreads());
  });

  const BIN: [number[], number[]][] = [
    [[4, 8, 8, 32], [4, 8, 8, 32]],
    [[4, 8, 8, 32], [32]],
    [[4, 8, 8, 4, 8], [4, 1, 1, 4, 1]],
    [[4, 1, 1, 4, 1], [4, 8, 8, 4, 8]],
    [[4, 8, 8, 32], []],
    [[], [4, 8, 8, 32]],
    [[5, 1, 300], [1, 7, 1]], // both broadcast
    [[8, 64], [64]], // small broadcasts (native at any size)
    [[3, 1, 5], [1, 4, 1]],
    [[8, 64], []],
  ];
  const OPS: [string, (a: tf.Tensor, b: tf.Tensor) => tf.Tensor][] = [
    ['add', tf.add], ['sub', tf.sub], ['mul', tf.mul], ['div', tf.div],
  ];
  const REDUCE: [number[], number[], boolean][] = [
    [[4, 8, 8, 4, 8], [1, 2, 4], true], // GroupNorm moments
    [[4, 8, 8, 32], [0, 1, 2], false], // bias gradient
    [[4, 8, 8, 32], [3], false],
    [[4, 8, 8, 32], [0, 1, 2, 3], false],
    [[64, 40], [0], true],
    [[3, 1000], [1], false],
  ];

  for (const threads of addon ? [1, 2] : [1]) {
    for (const [as, bs] of BIN) {
      it(`add/sub/mul/div [${as}] with [${bs}] give the cpu bits, ${threads} thread(s)`, async () => {
        addon?.setThreads(threads);
        const av = testValues(size(as), 1), bv = testValues(size(bs), 2).map((v) => v + 2); // no division by ~0
        for (const [name, op] of OPS) {
          const f = () => op(tf.tensor(av, as), tf.tensor(bv, bs));
          const [a] = await onBackend('wasm', f);
          const [b] = await onBackend('cpu', f);
          expect(Buffer.from(a.buffer).equals(Buffer.from(b.buffer)), name).toBe(true);
        }
      });
    }
    it(`maximum/minimum give the cpu bits (overlapping values, signed zeros, NaN), ${threads} thread(s)`, async () => {
      addon?.setThreads(threads);
      const n = 4 * 8 * 8 * 32;
      const av = testValues(n, 3), bv = testValues(n, 4);
      // Signed zeros and NaN: the addon follows the cpu backend (Math.max / Math.min); tfjs-wasm's
      // XNNPACK kernel does not, so the wasm fallback is checked on ordinary values only.
      const special: [number, number][] = [[0, -0], [-0, 0], [-0, -0], [NaN, 1], [1, NaN], [2, 2], [-Infinity, 5], [Infinity, -1]];
      if (addon) special.forEach(([x, y], i) => ((av[i] = x), (bv[i] = y)));
      else bv[0] = av[0]!; // one tie
      for (const [name, op] of [['maximum', tf.maximum], ['minimum', tf.minimum]] as const) {
        for (const [xs, ys] of [[[4, 8, 8, 32], [4, 8, 8, 32]], [[4, 8, 8, 32], [32]]]) {
          const f = () => op(tf.tensor(av, xs!), tf.tensor(bv.subarray(0, size(ys!)), ys!));
          const [a] = await onBackend('wasm', f);
          const [b] = await onBackend('cpu', f);
          // the same bits, except that any NaN equals any NaN (JS and C++ write different NaN payloads)
          const bits = (v: Float32Array) => Array.from(new Uint32Array(v.buffer), (u, i) => (Number.isNaN(v[i]) ? -1 : u));
          expect(bits(a!), `${name} [${xs}] with [${ys}]`).toEqual(bits(b!));
        }
      }
    });
    for (const shape of [[4, 8, 8, 32], [3000, 32], [300]]) {
      it(`square/neg/relu/abs/clip of [${shape}] and their gradients give the cpu bits, ${threads} thread(s)`, async () => {
        addon?.setThreads(threads);
        const xv = testValues(size(shape), 7);
        xv[0] = 0;
        xv[1] = -0;
        const f = () => {
          const x = tf.tensor(xv, shape);
          const dy = tf.tensor(testValues(size(shape), 8), shape);
          const clip = (t: tf.Tensor) => tf.clipByValue(t, -0.3, 0.45);
          const ops = [tf.square, tf.neg, tf.relu, tf.abs, clip] as ((t: tf.Tensor) => tf.Tensor)[];
          return [...ops.map((op) => op(x)), ...ops.map((op) => tf.grad((t) => op(t))(x, dy))];
        };
        const a = await onBackend('wasm', f);
        const b = await onBackend('cpu', f);
        for (let i = 0; i < a.length; i++) expect(Buffer.from(a[i].buffer).equals(Buffer.from(b[i].buffer)), `output ${i}`).toBe(true);
      });
    }
    for (const [xs, axes, keep] of REDUCE) {
      it(`sum and mean of [${xs}] over [${axes}] keepDims=${keep} match cpu, ${threads} thread(s)`, async () => {
        addon?.setThreads(threads);
        const xv = testValues(size(xs), 3);
        const f = () => {
          const x = tf.tensor(xv, xs);
          return [tf.sum(x, axes, keep), tf.mean(x, axes, keep), x.clone().mul(1)];
        };
        const a = await onBackend('wasm', f);
        const b = await onBackend('cpu', f);
        expect(a.map((t) => t.length)).toEqual(b.map((t) => t.length));
        for (let i = 0; i < 3; i++) expect(relError(a[i], b[i])).toBeLessThan(1e-5);
      });
    }
  }

  it('GroupNorm + SiLU and its gradients match cpu', async () => {
    const xs = [2, 8, 8, 16];
    const xv = testValues(size(xs), 4), gv = testValues(16, 5), bv = testValues(16, 6);
    const f = () => {
      const x = tf.tensor4d(xv, xs as [number, number, number, number]), g = tf.tensor1d(gv), be = tf.tensor1d(bv);
      const loss = (a: tf.Tensor, gg: tf.Tensor, bb: tf.Tensor) => {
        const xg = a.reshape([2, 8, 8, 4, 4]);
        const { mean, variance } = tf.moments(xg, [1, 2, 4], true);
        const y = xg.sub(mean).mul(tf.rsqrt(variance.add(1e-5))).reshape(xs).mul(gg).add(bb);
        return y.mul(tf.sigmoid(y)).square().mean() as tf.Scalar;
      };
      return tf.grads(loss)([x, g, be]);
    };
    const a = await onBackend('wasm', f);
    const b = await onBackend('cpu', f);
    for (let i = 0; i < 3; i++) expect(relError(a[i], b[i])).toBeLessThan(1e-4);
  });
});

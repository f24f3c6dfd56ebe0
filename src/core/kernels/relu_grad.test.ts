/**
 * ReLU's gradient (one native kernel where the addon runs, ./relu_grad.ts) against the cpu
 * backend: exact equality with zeros of both signs in x and dy, at the victim encoder's sizes and
 * an odd small one; NaN inputs give NaN as tfjs' Step does (with AUV_NATIVE=0 the same test checks
 * tfjs' own kernels).
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initEngine } from '../engine.js';
import { onBackend, testValues } from './compare.js';
import { nativeAddon } from './native.js';

const addon = nativeAddon();

function values(n: number, seed: number): Float32Array {
  const v = testValues(n, seed);
  for (let i = 0; i < n; i += 13) v[i] = i % 26 === 0 ? 0 : -0;
  return v;
}

describe(`relu gradient (${addon ? 'native kernel' : 'tfjs kernels'})`, () => {
  beforeAll(async () => {
    await initEngine({ backend: 'wasm' });
  });

  for (const shape of [[16, 32, 32, 16], [3, 5, 7]]) {
    it(`x ${shape}: the same values as cpu`, async () => {
      const n = shape.reduce((a, b) => a * b, 1);
      const xv = values(n, 31), wv = values(n, 32);
      const f = () => {
        const x = tf.tensor(xv, shape), w = tf.tensor(wv, shape);
        return tf.grad((a: tf.Tensor) => tf.relu(a).mul(w).sum())(x);
      };
      const [gw] = await onBackend('wasm', f);
      const [gc] = await onBackend('cpu', f);
      expect(Array.from(gw!)).toEqual(Array.from(gc!));
      let pass = 0;
      for (let i = 0; i < n; i++) if (xv[i]! > 0) pass++;
      expect(gw!.filter((g) => g !== 0).length).toBeGreaterThan(pass * 0.9);
    });
  }

  it('gives NaN at NaN inputs on wasm, as tfjs-wasm Step does', async () => {
    const [g] = await onBackend('wasm', () => tf.grad((a: tf.Tensor) => tf.relu(a).sum())(tf.tensor1d([NaN, 1, -1, 0])));
    expect(Array.from(g!)).toEqual([NaN, 1, 0, 0]);
  });
});

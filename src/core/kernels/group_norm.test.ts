/**
 * groupNorm (fused native kernel where the addon is loaded on wasm, composite tfjs ops elsewhere)
 * against the composite form on the cpu backend: values and gradients of x, gamma and beta, with
 * and without SiLU, 1 and 2 native threads.
 */
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initEngine } from '../engine.js';
import { onBackend, relError, testValues } from './compare.js';
import { fusedGroupNormActive, groupNorm, groupNormComposite } from './group_norm.js';
import { nativeAddon, requestedNativeThreads } from './native.js';

const addon = nativeAddon();
const CASES: [number[], number][] = [
  [[2, 8, 8, 16], 4],
  [[3, 5, 7, 32], 8],
  [[1, 4, 4, 8], 2],
  [[4, 16, 16, 64], 8],
];

describe(`groupNorm (${addon ? 'fused native kernel' : 'composite'})`, () => {
  beforeAll(async () => {
    await initEngine({ backend: 'wasm' });
  });
  afterAll(() => {
    addon?.setThreads(requestedNativeThreads());
  });

  it('uses the fused kernel exactly when the addon is loaded', () => {
    expect(fusedGroupNormActive()).toBe(addon !== null);
  });

  for (const threads of addon ? [1, 2] : [1]) {
    for (const [xs, groups] of CASES) {
      for (const silu of [false, true]) {
        it(`x ${xs}, ${groups} groups, silu ${silu}: values and gradients match cpu, ${threads} thread(s)`, async () => {
          addon?.setThreads(threads);
          const c = xs[3];
          const n = xs.reduce((a, b) => a * b, 1);
          const xv = testValues(n, 1).map((v) => 3 * v + 0.5), gv = testValues(c, 2), bv = testValues(c, 3);
          const wv = testValues(n, 4);
          const run = (gn: typeof groupNorm) => () => {
            const x = tf.tensor4d(xv, xs as [number, number, number, number]), g = tf.tensor1d(gv), b = tf.tensor1d(bv);
            const w = tf.tensor4d(wv, xs as [number, number, number, number]);
            const f = (a: tf.Tensor, gg: tf.Tensor, bb: tf.Tensor) =>
              gn(a as tf.Tensor4D, gg as tf.Tensor1D, bb as tf.Tensor1D, groups, { silu }).mul(w).sum() as tf.Scalar;
            const y = gn(x, g, b, groups, { silu });
            return [y, ...tf.grads(f)([x, g, b])];
          };
          const a = await onBackend('wasm', run(groupNorm));
          const b = await onBackend('cpu', run(groupNormComposite));
          ['y', 'dx', 'dgamma', 'dbeta'].forEach((name, i) => expect(relError(a[i], b[i]), name).toBeLessThan(2e-4));
        });
      }
    }
  }

  it('rejects channels not divisible by the groups', () => {
    expect(() => groupNorm(tf.zeros([1, 2, 2, 6]) as tf.Tensor4D, tf.ones([6]), tf.zeros([6]), 4)).toThrow(/6 channels/);
  });
});

/**
 * optimizePixels on wasm (the fused Adam + projection kernel where the addon runs) against the
 * same loop on the cpu backend (tfjs ops): the same bits after several Adam steps, and for the sign
 * optimizer; every iterate inside the budget and [0,1].
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initEngine } from '../core/engine.js';
import { onBackend, testValues } from '../core/kernels/compare.js';
import { optimizePixels, type PixelOptimizer } from './pixel-optimize.js';

const SHAPE: [number, number, number, number] = [2, 9, 7, 3];
const n = SHAPE.reduce((a, b) => a * b, 1);
const x0v = Float32Array.from(testValues(n, 41), (v) => (v + 1) / 2);
const tv = Float32Array.from(testValues(n, 42), (v) => (v + 1) / 2);
const wv = testValues(n, 43);

function run(optimizer: PixelOptimizer, eps: number): () => tf.Tensor {
  return () => {
    const x0 = tf.tensor4d(x0v, SHAPE), t = tf.tensor4d(tv, SHAPE), w = tf.tensor4d(wv, SHAPE);
    // a loss whose gradient varies in sign and size, from IEEE-exact ops only: sum(w (x - t)^2) + sum(x^3)
    const loss = (x: tf.Tensor4D) => x.sub(t).square().mul(w).sum().add(x.square().mul(x).sum()) as tf.Scalar;
    return optimizePixels(x0, loss, { eps, steps: 6, optimizer, lr: eps / 4 });
  };
}

describe('optimizePixels', () => {
  beforeAll(async () => {
    await initEngine({ backend: 'wasm' });
  });

  for (const optimizer of ['adam', 'sign'] as const) {
    it(`${optimizer}: the same bits on wasm and cpu, inside the budget`, async () => {
      const eps = 16 / 255;
      const [a] = await onBackend('wasm', run(optimizer, eps));
      const [b] = await onBackend('cpu', run(optimizer, eps));
      expect(Array.from(new Uint32Array(a!.buffer))).toEqual(Array.from(new Uint32Array(b!.buffer)));
      let moved = 0;
      for (let i = 0; i < n; i++) {
        expect(Math.abs(a![i]! - x0v[i]!)).toBeLessThanOrEqual(eps + 1e-6);
        expect(a![i]!).toBeGreaterThanOrEqual(0);
        expect(a![i]!).toBeLessThanOrEqual(1);
        if (a![i] !== x0v[i]) moved++;
      }
      expect(moved).toBeGreaterThan(n / 2);
    });
  }

  it('leaves no tensor behind', () => {
    const x0 = tf.tensor4d(x0v, SHAPE);
    const before = tf.memory().numTensors;
    const loss = (x: tf.Tensor4D) => x.square().sum() as tf.Scalar;
    tf.dispose(optimizePixels(x0, loss, { eps: 8 / 255, steps: 4, optimizer: 'adam', lr: 0.01 }));
    expect(tf.memory().numTensors).toBe(before);
    x0.dispose();
  });
});

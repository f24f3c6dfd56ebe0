/**
 * Sum's and Mean's gradients (./reduce_grad.ts) on wasm and cpu: exactly dy broadcast over the
 * reduced axes (divided by the count, rounded to float32, for Mean), as tfjs' own gradients give,
 * for inner, outer, several and all axes, keepDims and negative axes.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initEngine } from '../engine.js';
import { onBackend, testValues } from './compare.js';

type Case = { shape: number[]; axis?: number | number[]; keepDims?: boolean };
const CASES: Case[] = [
  { shape: [16, 8, 8, 64], axis: [1, 2] }, // the encoder's global pooling
  { shape: [2000, 16], axis: 0 }, // the INSA loss's mean over users
  { shape: [3, 4, 5], axis: -1, keepDims: true },
  { shape: [3, 4, 5] }, // every axis
];

/** Where element i of x lands in the reduced output (its kept coordinates). */
function outIndex(shape: number[], axes: number[], i: number): number {
  let rest = i, idx = 0, stride = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    const c = rest % shape[d]!;
    rest = Math.floor(rest / shape[d]!);
    if (!axes.includes(d)) {
      idx += c * stride;
      stride *= shape[d]!;
    }
  }
  return idx;
}

describe('Sum / Mean gradients', () => {
  beforeAll(async () => {
    await initEngine({ backend: 'wasm' });
  });

  for (const backend of ['wasm', 'cpu'] as const) {
    for (const c of CASES) {
      for (const op of ['sum', 'mean'] as const) {
        it(`${op} of [${c.shape}] over ${JSON.stringify(c.axis ?? 'all')}${c.keepDims ? ' keepDims' : ''} on ${backend}`, async () => {
          const n = c.shape.reduce((a, b) => a * b, 1);
          const axes = tf.util.parseAxisParam(c.axis ?? null!, c.shape);
          const count = axes.reduce((a, d) => a * c.shape[d]!, 1);
          const w = testValues(n / count, 5);
          const [g] = await onBackend(backend, () => {
            const x = tf.tensor(testValues(n, 4), c.shape);
            return tf.grad((a: tf.Tensor) => {
              const r = op === 'sum' ? tf.sum(a, c.axis, c.keepDims) : tf.mean(a, c.axis, c.keepDims);
              return r.mul(tf.tensor(w, r.shape)).sum();
            })(x);
          });
          for (let i = 0; i < n; i++) {
            const wi = w[outIndex(c.shape, axes, i)]!;
            if (g![i] !== (op === 'sum' ? wi : Math.fround(wi / count))) {
              expect([i, g![i]]).toEqual([i, op === 'sum' ? wi : Math.fround(wi / count)]);
            }
          }
        });
      }
    }
  }
});

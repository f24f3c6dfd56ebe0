import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initEngine } from '../engine.js';
import { onBackend, relError, testValues } from './compare.js';
import { wasmPathKernelFunc } from './native_kernels.js';
import { gatherConfig } from './gather.js';

describe('GatherV2 on wasm', () => {
  beforeAll(async () => {
    await initEngine({ backend: 'wasm' });
  });

  // With the native addon on, the cases below run its gather (also in native_kernels.test.ts)
  // and this kernel is its fallback; CI runs them again with AUV_NATIVE=0.
  it('is our kernel (or the native kernel fallback)', () => {
    expect(wasmPathKernelFunc('GatherV2')).toBe(gatherConfig.kernelFunc);
  });

  const cases: [number[], number[], number[], number, number][] = [
    // x shape, indices, indices shape, axis, batchDims
    [[10], [3, 0, 9, 3], [4], 0, 0],
    [[10, 4], [3, 0, 9, 3, 3], [5], 0, 0],
    [[10, 40], [1, 7, 2], [3], 0, 0],
    [[6, 5, 3], [4, 0], [2], 1, 0],
    [[6, 5, 3], [2, 2, 1, 0], [2, 2], 2, 0],
    [[3, 5, 4], [0, 4, 1, 2, 3, 3], [3, 2], 1, 1],
  ];
  for (const [xs, ids, is, axis, bd] of cases) {
    it(`x ${xs} idx ${is} axis ${axis} batchDims ${bd} matches cpu`, async () => {
      const xv = testValues(xs.reduce((a, b) => a * b), 7);
      const f = () => tf.gather(tf.tensor(xv, xs), tf.tensor(ids, is, 'int32'), axis, bd);
      const [a] = await onBackend('wasm', f);
      const [b] = await onBackend('cpu', f);
      expect(a.length).toBeGreaterThan(0);
      expect(relError(a, b)).toBe(0);
    });
  }

  it('gathers int32 values and rejects out-of-range indices', async () => {
    const [a] = await onBackend('wasm', () => tf.gather(tf.tensor1d([5, 6, 7], 'int32'), tf.tensor1d([2, 0], 'int32')).toFloat());
    expect(Array.from(a)).toEqual([7, 5]);
    expect(() => tf.gather(tf.tensor1d([1, 2, 3]), tf.tensor1d([3], 'int32'))).toThrow(/not in \[0, 2\]/);
  });
});

/** The one-kernel gather gradient (./gather_grad.ts): tfjs' own gradient's bits, on wasm and cpu, every axis. */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initEngine } from '../engine.js';
import { onBackend, testValues } from './compare.js';
import { stockGatherGradient } from './gather_grad.js';

/** Run `fn` with tfjs' own gather gradient registered instead of ours. */
async function withStock<T>(fn: () => Promise<T>): Promise<T> {
  const mine = tf.getGradient('GatherV2')!;
  tf.registerGradient(stockGatherGradient()!);
  try {
    return await fn();
  } finally {
    tf.registerGradient(mine);
  }
}

describe('gather gradient', () => {
  beforeAll(async () => {
    await initEngine({ backend: 'wasm' });
  });

  const cases: { xShape: number[]; idxShape: number[]; axis: number }[] = [
    { xShape: [50, 8], idxShape: [200], axis: 0 },
    { xShape: [50, 3, 4], idxShape: [20, 10], axis: 0 },
    { xShape: [6, 40], idxShape: [30], axis: 1 },
  ];
  for (const { xShape, idxShape, axis } of cases) {
    it(`x ${xShape}, indices ${idxShape}, axis ${axis}: the stock gradient's bits on wasm and cpu`, async () => {
      const n = idxShape.reduce((a, b) => a * b, 1);
      const idx = Int32Array.from({ length: n }, (_, i) => (i * 7 + (i % 3)) % xShape[axis]!);
      const outShape = [...xShape.slice(0, axis), ...idxShape, ...xShape.slice(axis + 1)];
      const w = testValues(outShape.reduce((a, b) => a * b, 1), 5);
      const f = () => {
        const x = tf.tensor(testValues(xShape.reduce((a, b) => a * b, 1), 4), xShape);
        const ids = tf.tensor(idx, idxShape, 'int32');
        return tf.grads((t: tf.Tensor) => tf.gather(t, ids, axis).mul(tf.tensor(w, outShape)).sum())([x]);
      };
      for (const backend of ['wasm', 'cpu'] as const) {
        const want = Array.from((await withStock(() => onBackend(backend, f)))[0]!);
        const before = tf.memory().numTensors;
        expect(Array.from((await onBackend(backend, f))[0]!)).toEqual(want);
        expect(tf.memory().numTensors).toBe(before);
      }
    });
  }

  it('is registered, and runs one UnsortedSegmentSum and no Transpose for an axis-0 lookup', () => {
    expect(stockGatherGradient()).toBeDefined();
    const x = tf.variable(tf.tensor2d(testValues(40 * 4, 1), [40, 4]));
    const ids = tf.tensor1d([3, 1, 3, 39], 'int32');
    const seen: string[] = [];
    const eng = tf.engine() as unknown as { runKernel: (name: string, ...rest: unknown[]) => unknown };
    const run = eng.runKernel.bind(eng);
    eng.runKernel = (name, ...rest) => {
      seen.push(name);
      return run(name, ...rest);
    };
    try {
      tf.dispose(tf.grads((t: tf.Tensor) => tf.gather(t, ids).sum())([x]));
    } finally {
      eng.runKernel = run;
    }
    expect(seen.filter((k) => k === 'UnsortedSegmentSum')).toHaveLength(1);
    expect(seen.filter((k) => k === 'Transpose')).toHaveLength(0);
    tf.dispose([x, ids]);
  });
});

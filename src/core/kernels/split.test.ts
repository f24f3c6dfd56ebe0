/** SplitV as block copies (native where the addon runs, ./split.ts otherwise) against the cpu backend: every axis, uneven sizes, int32, gradient. */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initEngine } from '../engine.js';
import { onBackend, testValues } from './compare.js';
import { fastKernelsEnabled } from './index.js';
import { wasmPathKernelFunc } from './native_kernels.js';
import { splitVConfig, unpackConfig } from './split.js';

describe('wasm SplitV and Unpack', () => {
  beforeAll(async () => {
    await initEngine({ backend: 'wasm' });
  });

  it("is the wasm path's kernel when the fast kernels are on (the native one falls back to it)", () => {
    if (fastKernelsEnabled()) expect(wasmPathKernelFunc('SplitV')).toBe(splitVConfig.kernelFunc);
  });

  const cases: [number[], number | number[], number][] = [
    [[8, 64, 192], 3, 2],
    [[8, 16, 16, 64], 2, 3],
    [[6, 5, 4], [1, 3, 2], 0],
    [[6, 5, 4], [2, 0, 3], 1],
    [[6, 5, 4], [3, -1], -1],
    [[7], 7, 0],
  ];
  for (const [shape, splits, axis] of cases) {
    it(`split [${shape}] into ${JSON.stringify(splits)} along ${axis}: the cpu values, float32 and int32`, async () => {
      const n = shape.reduce((a, b) => a * b, 1);
      const v = testValues(n, 3);
      const f = () => tf.split(tf.tensor(v, shape), splits, axis);
      const g = () => tf.split(tf.tensor(Int32Array.from(v, (x) => Math.round(x * 1000)), shape, 'int32'), splits, axis).map((t) => t.toFloat());
      for (const fn of [f, g]) {
        const a = await onBackend('wasm', fn);
        const b = await onBackend('cpu', fn);
        expect(a.length).toBe(b.length);
        for (let i = 0; i < a.length; i++) expect(Array.from(a[i]!)).toEqual(Array.from(b[i]!));
      }
    });
  }

  it('its gradient (a concat) and no leaked tensor', async () => {
    const v = testValues(4 * 6, 5);
    const f = () => tf.grads((x: tf.Tensor) => {
      const [p, q] = tf.split(x, [2, 4], 1);
      return p!.sum().add(q!.square().sum());
    })([tf.tensor2d(v, [4, 6])]);
    const before = tf.memory().numTensors;
    const a = await onBackend('wasm', f);
    expect(tf.memory().numTensors).toBe(before);
    const b = await onBackend('cpu', f);
    expect(Array.from(a[0]!)).toEqual(Array.from(b[0]!));
  });

  it('Unpack is the registered wasm kernel when the fast kernels are on', () => {
    if (fastKernelsEnabled()) expect(tf.getKernel('Unpack', 'wasm')?.kernelFunc).toBe(unpackConfig.kernelFunc);
  });

  const unstackCases: [number[], number][] = [[[5, 48, 29], 0], [[4, 3, 5], 1], [[4, 3, 5], -1], [[2, 6], 0], [[3], 0]];
  for (const [shape, axis] of unstackCases) {
    it(`unstack [${shape}] along ${axis}: the cpu values and shapes, float32 and int32, and its gradient`, async () => {
      const n = shape.reduce((a, b) => a * b, 1);
      const v = testValues(n, 7);
      const f = () => tf.unstack(tf.tensor(v, shape), axis);
      const g = () => tf.unstack(tf.tensor(Int32Array.from(v, (x) => Math.round(x * 1000)), shape, 'int32'), axis).map((t) => t.toFloat());
      for (const fn of [f, g]) {
        const a = await onBackend('wasm', fn);
        const b = await onBackend('cpu', fn);
        expect(a.length).toBe(b.length);
        for (let i = 0; i < a.length; i++) expect(Array.from(a[i]!)).toEqual(Array.from(b[i]!));
      }
      const shapes = await onBackend('wasm', () => tf.unstack(tf.zeros(shape), axis).map((t) => tf.tensor1d(t.shape)));
      expect(shapes.map((s) => Array.from(s))).toEqual(tf.unstack(tf.zeros(shape), axis).map((t) => t.shape));
      const grad = () => tf.grads((x: tf.Tensor) => tf.unstack(x, axis).reduce((acc, t, i) => acc.add(t.square().mul(i + 1).sum()), tf.scalar(0)))([tf.tensor(v, shape)]);
      const ga = await onBackend('wasm', grad);
      const gb = await onBackend('cpu', grad);
      expect(Array.from(ga[0]!)).toEqual(Array.from(gb[0]!));
    });
  }
});

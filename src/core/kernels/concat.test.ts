/**
 * Concat (block copies in the addon where it runs, ./native_kernels.ts) against the cpu backend:
 * exact equality for float32 and int32 along every axis, inputs of different widths, an empty
 * input, one input, and bool (the wasm kernel's fallback); its gradient (SplitV). In CI the same
 * cases run with AUV_NATIVE=0.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initEngine } from '../engine.js';
import { onBackend, testValues } from './compare.js';
import { isNativeKernel } from './native_kernels.js';
import { nativeAddon } from './native.js';

const addon = nativeAddon();

type Case = { shapes: number[][]; axis: number; dtype: 'float32' | 'int32' | 'bool' };
const CASES: Case[] = [
  { shapes: [[2000, 32], [2000, 32]], axis: 1, dtype: 'float32' }, // the VBPR score's user factors
  { shapes: [[16, 32], [16, 32]], axis: -1, dtype: 'float32' },
  { shapes: [[2, 3, 5, 4], [2, 3, 1, 4], [2, 3, 7, 4]], axis: 2, dtype: 'float32' },
  { shapes: [[3, 4], [5, 4], [1, 4]], axis: 0, dtype: 'float32' },
  { shapes: [[40, 3], [40, 0], [40, 9]], axis: 1, dtype: 'float32' }, // an empty input
  { shapes: [[40, 3], [40, 0]], axis: 1, dtype: 'float32' }, // one non-empty input
  { shapes: [[300, 2], [300, 5]], axis: 1, dtype: 'int32' },
  { shapes: [[30, 2], [30, 5]], axis: 1, dtype: 'bool' }, // the wasm kernel
];

function make(shape: number[], k: number, dtype: Case['dtype']): tf.Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const v = testValues(n, 20 + k);
  if (dtype === 'float32') return tf.tensor(v, shape);
  return tf.tensor(Int32Array.from(v, (x) => (dtype === 'bool' ? (x > 0 ? 1 : 0) : Math.round(x * 1e6))), shape, dtype);
}

describe(`concat (${addon ? 'addon' : 'wasm kernel'})`, () => {
  beforeAll(async () => {
    await initEngine({ backend: 'wasm' });
  });

  it.runIf(addon !== null)('runs natively', () => {
    expect(isNativeKernel('Concat')).toBe(true);
  });

  for (const c of CASES) {
    it(`${c.dtype} ${c.shapes.map((s) => `[${s}]`).join(' + ')} along ${c.axis}: equal to cpu`, async () => {
      const f = () => tf.concat(c.shapes.map((s, k) => make(s, k, c.dtype)), c.axis).toFloat();
      const [w] = await onBackend('wasm', f);
      const [cpu] = await onBackend('cpu', f);
      expect(w!.length).toBe(cpu!.length);
      expect(Array.from(w!)).toEqual(Array.from(cpu!));
    });
  }

  it('passes the gradient to every input (SplitV)', async () => {
    const f = () => {
      const xs = [make([50, 3], 1, 'float32'), make([50, 8], 2, 'float32')];
      const wy = make([50, 11], 3, 'float32');
      const gs = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.concat([a, b], 1).mul(wy).sum())(xs);
      return [...gs, wy];
    };
    const [ga, gb, wy] = await onBackend('wasm', f);
    for (let r = 0; r < 50; r++) {
      for (let j = 0; j < 3; j++) expect(ga![r * 3 + j]).toBe(wy![r * 11 + j]);
      for (let j = 0; j < 8; j++) expect(gb![r * 8 + j]).toBe(wy![r * 11 + 3 + j]);
    }
  });

  it.runIf(addon !== null)('refuses a view too short for the shape', () => {
    const a = new Float32Array(6);
    expect(() => addon!.concat(new Float32Array(11), 2, Int32Array.of(3, 3), a, a)).toThrow(/needs 12/);
  });
});

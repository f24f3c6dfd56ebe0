/** The copy-free Identity / same-dtype Cast / no-op Transpose (./share.ts) against the cpu backend. */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initEngine } from '../engine.js';
import { onBackend, testValues } from './compare.js';
import { fastKernelsEnabled } from './index.js';
import { isNoOpPermutation } from './share.js';

const buffers = () => (tf.backend() as unknown as { numDataIds(): number }).numDataIds();

describe('copy-free Identity, Cast and Transpose on wasm', () => {
  beforeAll(async () => {
    await initEngine({ backend: 'wasm' });
  });

  it('isNoOpPermutation: only size-1 axes may move', () => {
    expect(isNoOpPermutation([4, 3], [0, 1])).toBe(true);
    expect(isNoOpPermutation([4, 3], [1, 0])).toBe(false);
    expect(isNoOpPermutation([1, 4, 1, 3], [2, 1, 0, 3])).toBe(true);
    expect(isNoOpPermutation([1, 4, 1, 3], [0, 3, 2, 1])).toBe(false);
    expect(isNoOpPermutation([4, 1], [1, 0])).toBe(true);
    expect(isNoOpPermutation([], [])).toBe(true);
  });

  it('a clone, a same-dtype cast and a no-op transpose share the data; they outlive the source', () => {
    const x = tf.tensor3d(testValues(4096, 1), [64, 1, 64]);
    const want = Array.from(x.dataSync());
    const n0 = buffers();
    const y = [tf.clone(x), tf.cast(x, 'float32'), tf.transpose(x, [1, 0, 2])];
    expect(buffers() - n0).toBe(fastKernelsEnabled() ? 0 : 3);
    expect(y[2]!.shape).toEqual([1, 64, 64]);
    x.dispose();
    for (const t of y) expect(Array.from(t.dataSync())).toEqual(want);
    tf.dispose(y);
    expect(buffers()).toBe(n0 - 1);
  });

  it('a variable assigned after a clone leaves the clone unchanged', () => {
    const v = tf.variable(tf.tensor1d([1, 2, 3]));
    const c = tf.clone(v);
    v.assign(tf.tensor1d([7, 8, 9]));
    expect(Array.from(c.dataSync())).toEqual([1, 2, 3]);
    expect(Array.from(v.dataSync())).toEqual([7, 8, 9]);
    tf.dispose([v, c]);
  });

  it('a real transpose and a dtype-changing cast still compute (the cpu values)', async () => {
    const f = () => {
      const x = tf.tensor3d(testValues(2 * 3 * 4, 2).map((v) => v * 10), [2, 3, 4]);
      return [tf.transpose(x, [2, 0, 1]), tf.cast(tf.cast(x, 'int32'), 'float32')];
    };
    const a = await onBackend('wasm', f);
    const b = await onBackend('cpu', f);
    for (let i = 0; i < a.length; i++) expect(Array.from(a[i]!)).toEqual(Array.from(b[i]!));
  });

  it('gradients through gather, square and clone give the cpu bits, without leaking', async () => {
    const f = () => {
      const table = tf.tensor2d(testValues(300 * 16, 3), [300, 16]);
      const idx = tf.tensor1d(Int32Array.from({ length: 256 }, (_, i) => (i * 37) % 300), 'int32');
      return tf.grads((t: tf.Tensor) => tf.gather(t, idx).square().sum().add(tf.clone(t).mul(t).mean()))([table]);
    };
    const before = tf.memory().numTensors;
    const n0 = buffers();
    const a = await onBackend('wasm', f);
    expect(tf.memory().numTensors).toBe(before);
    expect(buffers()).toBe(n0);
    const b = await onBackend('cpu', f);
    expect(Array.from(a[0]!)).toEqual(Array.from(b[0]!));
  });
});

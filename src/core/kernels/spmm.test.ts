import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { onBackend, relError, testValues } from './compare.js';
import { csrFromCoo, normalizedBipartite, SparseMatrix } from './spmm.js';

function dense(rows: number, cols: number, r: Int32Array, c: Int32Array, v: Float32Array): Float32Array {
  const m = new Float32Array(rows * cols);
  for (let k = 0; k < r.length; k++) m[r[k] * cols + c[k]] += v[k];
  return m;
}

describe('SparseMatrix.matMul (AuvSpMM)', () => {
  const rows = 7, cols = 5, d = 6; // d = 6 covers the 4-wide and the remainder loops
  const r = Int32Array.from([0, 0, 2, 6, 6, 3, 0]);
  const c = Int32Array.from([1, 4, 2, 0, 0, 3, 1]); // (0,1) repeated, (6,0) repeated
  const v = Float32Array.from([0.5, -1, 2, 0.25, 1, 3, 0.5]);
  const sm = new SparseMatrix(csrFromCoo(rows, cols, r, c, v));
  const A = dense(rows, cols, r, c, v);
  const xv = testValues(cols * d, 3);
  const wv = testValues(rows * d, 4);

  for (const backend of ['wasm', 'cpu'] as const) {
    it(`matches a dense product and its gradient on ${backend}`, async () => {
      const f = () => {
        const x = tf.tensor2d(xv, [cols, d]);
        const y = sm.matMul(x);
        const g = tf.grad((x2: tf.Tensor) => sm.matMul(x2 as tf.Tensor2D).mul(tf.tensor2d(wv, [rows, d])).sum() as tf.Scalar)(x);
        return [y, g];
      };
      const ref = () => {
        const x = tf.tensor2d(xv, [cols, d]);
        const Ad = tf.tensor2d(A, [rows, cols]);
        const g = tf.grad((x2: tf.Tensor) => tf.matMul(Ad, x2).mul(tf.tensor2d(wv, [rows, d])).sum() as tf.Scalar)(x);
        return [tf.matMul(Ad, x), g];
      };
      const a = await onBackend(backend, f);
      const b = await onBackend('cpu', ref);
      expect(relError(a[0], b[0])).toBeLessThan(1e-6);
      expect(relError(a[1], b[1])).toBeLessThan(1e-6);
      expect(a[0].some((x) => x !== 0)).toBe(true);
    });
  }

  it('normalizedBipartite is symmetric with D^-1/2 A D^-1/2 weights', () => {
    const g = normalizedBipartite(2, 3, Int32Array.from([0, 0, 1]), Int32Array.from([0, 2, 2]));
    expect(g.nnz).toBe(6);
    const M = dense(5, 5, (() => { const rr: number[] = []; for (let i = 0; i < 5; i++) for (let p = g.a.indptr[i]; p < g.a.indptr[i + 1]; p++) rr.push(i); return Int32Array.from(rr); })(), g.a.indices, g.a.values);
    for (let i = 0; i < 5; i++) for (let j = 0; j < 5; j++) expect(M[i * 5 + j]).toBeCloseTo(M[j * 5 + i], 7);
    // user 0 (deg 2) - item 0 (node 2, deg 1): 1/sqrt(2)
    expect(M[0 * 5 + 2]).toBeCloseTo(1 / Math.sqrt(2), 6);
    // user 1 (deg 1) - item 2 (node 4, deg 2)
    expect(M[1 * 5 + 4]).toBeCloseTo(1 / Math.sqrt(2), 6);
  });

  it('does not leak tensors over repeated gradient steps', () => {
    const x = tf.variable(tf.tensor2d(xv, [cols, d]));
    const opt = tf.train.sgd(0.1);
    const step = () => opt.minimize(() => sm.matMul(x).square().sum() as tf.Scalar);
    step();
    const n0 = tf.memory().numTensors;
    for (let i = 0; i < 20; i++) step();
    expect(tf.memory().numTensors).toBe(n0);
    x.dispose();
    opt.dispose();
  });
});

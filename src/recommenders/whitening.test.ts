import { describe, expect, it, beforeAll } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initEngine } from '../core/engine.js';
import { Rng } from '../core/rng.js';
import { fitWhitening, symmetricEigen } from './whitening.js';

beforeAll(async () => {
  await initEngine();
});

describe('symmetricEigen', () => {
  it('decomposes a hand-checked 2x2 and a random symmetric matrix (A V = V diag(w))', () => {
    // [[2,1],[1,2]] has eigenvalues 1 and 3.
    const two = symmetricEigen(Float64Array.of(2, 1, 1, 2), 2);
    expect([...two.values].sort()).toEqual([expect.closeTo(1, 12), expect.closeTo(3, 12)]);
    const n = 7;
    const r = new Rng(3).normalArray(n * n, 1);
    const a = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) a[i * n + j] = r[i * n + j]! + r[j * n + i]!;
    const { values, vectors } = symmetricEigen(a, n);
    for (let k = 0; k < n; k++)
      for (let i = 0; i < n; i++) {
        let av = 0;
        for (let j = 0; j < n; j++) av += a[i * n + j]! * vectors[j * n + k]!;
        expect(av).toBeCloseTo(values[k]! * vectors[i * n + k]!, 9);
      }
  });
});

describe('fitWhitening', () => {
  /** Features with a known spectrum: 3 signal directions of variances 9, 4, 1 plus tiny noise, in 6-d. */
  function features(n: number): tf.Tensor2D {
    const rng = new Rng(5);
    const z = rng.normalArray(n * 6, 1);
    const data = new Float32Array(n * 6);
    const sd = [3, 2, 1, 1e-4, 1e-4, 1e-4];
    // Rotate by a fixed orthogonal mix of axes 0 and 1 so the directions are not the coordinate axes.
    for (let i = 0; i < n; i++) {
      const v = sd.map((s, k) => s * z[i * 6 + k]!);
      const c = Math.cos(0.6),
        s = Math.sin(0.6);
      data.set([c * v[0]! - s * v[1]! + 5, s * v[0]! + c * v[1]! - 2, v[2]!, v[3]!, v[4]!, v[5]!], i * 6);
    }
    return tf.tensor2d(data, [n, 6]);
  }

  it('finds the principal variances, whitens the kept directions to variance 1/d and drops the rest', () => {
    const f = features(4000);
    const w = fitWhitening(f, { maxDims: 3, seed: 1 });
    expect(w.projection.shape).toEqual([6, 3]);
    expect(w.variances[0]).toBeCloseTo(9, 0);
    expect(w.variances[1]).toBeCloseTo(4, 0);
    expect(w.variances[2]).toBeCloseTo(1, 1);
    expect(w.varianceKept).toBeGreaterThan(0.999);
    const white = tf.tidy(() => f.sub(w.mean).matMul(w.projection));
    const cov = tf.tidy(() => white.transpose().matMul(white).div(4000).arraySync() as number[][]);
    for (let a = 0; a < 3; a++) for (let b = 0; b < 3; b++) expect(cov[a]![b]!).toBeCloseTo(a === b ? 1 / 3 : 0, 3);
    tf.dispose([f, w.mean, w.projection, white]);
  });

  it('keeps only directions above the numerical rank, is deterministic for a seed, and leaks no tensor', () => {
    const f = features(500);
    const before = tf.memory().numTensors;
    const a = fitWhitening(f, { maxDims: 6, seed: 2, minRelativeVariance: 1e-4 });
    // (a copy of f: fitted anew, not the map remembered for f)
    const g = tf.tidy(() => f.add(0) as tf.Tensor2D);
    const b = fitWhitening(g, { maxDims: 6, seed: 2, minRelativeVariance: 1e-4 });
    expect(a.projection.shape[1]).toBe(3); // the 1e-4-sd directions are below 1e-4 of the top variance
    expect(Array.from(a.projection.dataSync())).toEqual(Array.from(b.projection.dataSync()));
    // the remembered fit: fresh tensors with the first fit's values, other options fitted anew
    const c = fitWhitening(f, { maxDims: 6, seed: 2, minRelativeVariance: 1e-4 });
    expect(c.projection).not.toBe(a.projection);
    expect(Array.from(c.projection.dataSync())).toEqual(Array.from(a.projection.dataSync()));
    expect(Array.from(c.mean.dataSync())).toEqual(Array.from(a.mean.dataSync()));
    const d = fitWhitening(f, { maxDims: 2, seed: 2, minRelativeVariance: 1e-4 });
    expect(d.projection.shape[1]).toBe(2);
    tf.dispose([a.mean, a.projection, b.mean, b.projection, c.mean, c.projection, d.mean, d.projection, g]);
    expect(tf.memory().numTensors).toBe(before);
    f.dispose();
  });
});

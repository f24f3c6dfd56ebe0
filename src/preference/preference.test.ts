import * as tf from '@tensorflow/tfjs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Rng } from '../core/rng.js';
import { knnGraph, lightGcn, propagateJs, toTensorGraph, userItemGraph, userMeanGraph, propagate } from './graph.js';
import { PreferenceEncoder, preferenceConfig, ridgeProjection } from './model.js';

function dense(nu: number, ni: number, train: number[][]): number[][] {
  const n = nu + ni;
  const A = Array.from({ length: n }, () => new Array<number>(n).fill(0));
  for (let u = 0; u < nu; u++) for (const i of train[u]!) A[u]![nu + i] = A[nu + i]![u] = 1;
  const deg = A.map((r) => r.reduce((a, b) => a + b, 0));
  return A.map((r, a) => r.map((v, b) => (v ? v / Math.sqrt(deg[a]! * deg[b]!) : 0)));
}

describe('sparse graphs', () => {
  const train = [[0, 2], [1], [0, 1, 3], []];
  it('sparse LightGCN propagation equals the dense D^-1/2 A D^-1/2 computation', async () => {
    const g = userItemGraph(train, 4, 5);
    const A = dense(4, 5, train);
    const rng = new Rng(3);
    const x = rng.normalArray(9 * 3);
    const js = propagateJs(g, x, 3);
    for (let a = 0; a < 9; a++)
      for (let c = 0; c < 3; c++) {
        let s = 0;
        for (let b = 0; b < 9; b++) s += A[a]![b]! * x[b * 3 + c]!;
        expect(js[a * 3 + c]).toBeCloseTo(s, 5);
      }
    // tf version (gather + unsortedSegmentSum), 3 layers, mean over layers 0..3
    const tg = toTensorGraph(g);
    const xt = tf.tensor2d(x, [9, 3]);
    const out = lightGcn(tg, xt, 3);
    const got = await out.data();
    let cur = x;
    const sum = Float32Array.from(x);
    for (let l = 0; l < 3; l++) {
      cur = propagateJs(g, cur, 3);
      for (let j = 0; j < sum.length; j++) sum[j] += cur[j]!;
    }
    for (let j = 0; j < sum.length; j++) expect(got[j]).toBeCloseTo(sum[j]! / 4, 5);
    tf.dispose([xt, out]);
    tg.dispose();
  });

  it('user mean graph averages the user items', async () => {
    const g = userMeanGraph(train, 4, 5);
    const x = Float32Array.from([1, 2, 3, 4, 5]);
    const out = propagateJs(g, x, 1);
    expect(Array.from(out)).toEqual([2, 2, (1 + 2 + 4) / 3, 0].map((v) => Math.fround(v)).map((v, i) => (i === 2 ? out[2] : v)));
    expect(out[2]).toBeCloseTo(7 / 3, 5);
  });

  it('KNN graph is symmetric, has k neighbours per item and is D^-1/2 S D^-1/2 normalised', () => {
    const rng = new Rng(5);
    const n = 40;
    const dim = 6;
    const f = rng.normalArray(n * dim);
    const g = knnGraph(f, n, dim, 4, 7); // block 7 exercises the blocked path
    const W = new Map<string, number>();
    for (let e = 0; e < g.src.length; e++) {
      expect(g.src[e]).not.toBe(g.dst[e]);
      W.set(`${g.src[e]},${g.dst[e]}`, g.weight[e]!);
    }
    for (const [k, v] of W) {
      const [a, b] = k.split(',');
      expect(W.get(`${b},${a}`)).toBeCloseTo(v, 6);
    }
    // each item keeps at least its own positive-similarity neighbours (<= k out, >= 1 edge)
    const outDeg = new Int32Array(n);
    for (let e = 0; e < g.src.length; e++) outDeg[g.src[e]!]++;
    for (let i = 0; i < n; i++) expect(outDeg[i]).toBeGreaterThanOrEqual(1);
    // recover raw weights: w_ab = s_ab / sqrt(d_a d_b) -> the normalised matrix has spectral radius 1
    // check: with x = sqrt(deg), A x = x
    const raw = new Float64Array(n);
    // brute-force cosine to recompute the symmetrised S
    const cos = (a: number, b: number): number => {
      let s = 0, na = 0, nb = 0;
      for (let j = 0; j < dim; j++) {
        s += f[a * dim + j]! * f[b * dim + j]!;
        na += f[a * dim + j]! ** 2;
        nb += f[b * dim + j]! ** 2;
      }
      return s / Math.sqrt(na * nb);
    };
    for (const k of W.keys()) {
      const [a] = k.split(',').map(Number);
      const b = Number(k.split(',')[1]);
      raw[a!] += Math.max(0, cos(a!, b));
    }
    const x = Float32Array.from(raw, (v) => Math.sqrt(v));
    const y = propagateJs(g, x, 1);
    for (let i = 0; i < n; i++) expect(y[i]).toBeCloseTo(x[i]!, 4);
    // the true top-1 neighbour of item 0 is in its edge list
    let best = -1, bv = -Infinity;
    for (let j = 1; j < n; j++) if (cos(0, j) > bv) { bv = cos(0, j); best = j; }
    expect(W.has(`0,${best}`)).toBe(true);
  });

  it('tf propagation over an empty graph gives zeros', async () => {
    const tg = toTensorGraph({ numNodes: 3, src: new Int32Array(0), dst: new Int32Array(0), weight: new Float32Array(0) });
    const x = tf.ones([3, 2]) as tf.Tensor2D;
    const y = propagate(tg, x);
    expect(Array.from(await y.data())).toEqual([0, 0, 0, 0, 0, 0]);
    tf.dispose([x, y]);
    tg.dispose();
  });
});

/** Tiny synthetic data: users prefer items whose feature aligns with their taste. */
function toyData(seed: number) {
  const rng = new Rng(seed);
  const nu = 60, ni = 50, fd = 8;
  const feats = rng.normalArray(ni * fd);
  const taste = rng.normalArray(nu * fd);
  const train: number[][] = [];
  for (let u = 0; u < nu; u++) {
    const s = Array.from({ length: ni }, (_, i) => {
      let v = 0;
      for (let j = 0; j < fd; j++) v += taste[u * fd + j]! * feats[i * fd + j]!;
      return [v, i] as const;
    }).filter(([, i]) => i < 45); // items 45..49 are cold
    s.sort((a, b) => b[0] - a[0]);
    train.push(s.slice(0, 6).map(([, i]) => i));
  }
  return { numUsers: nu, numItems: ni, train, features: feats, featDim: fd, excludedNegatives: new Set([45, 46, 47, 48, 49]) };
}

describe('PreferenceEncoder', () => {
  it('rejects bad config keys', () => {
    expect(() => preferenceConfig({ views: 'nope' })).toThrow(/views/);
    expect(() => preferenceConfig({ layerz: 3 })).toThrow();
  });

  it('BPR training lowers the loss, cold items have no ID signal, save/load round-trips', async () => {
    const data = toyData(1);
    const before = tf.memory().numTensors;
    const { model, report } = await PreferenceEncoder.fit(data, { epochs: 30, batchSize: 128, dim: 16, lr: 0.02, k: 5 }, new Rng(7));
    expect(tf.memory().numTensors).toBe(before);
    expect(report.lossCurve[report.lossCurve.length - 1]!).toBeLessThan(report.lossCurve[0]! - 0.05);
    // training positives outscore random items on average
    const s = model.score(Int32Array.from([0, 1, 2]), Int32Array.from(Array.from({ length: 50 }, (_, i) => i)));
    const sv = await s.array();
    s.dispose();
    for (let u = 0; u < 3; u++) {
      const posMean = data.train[u]!.reduce((a, i) => a + sv[u]![i]!, 0) / data.train[u]!.length;
      const allMean = sv[u]!.reduce((a, b) => a + b, 0) / 50;
      expect(posMean).toBeGreaterThan(allMean);
    }
    // a cold item's vector equals h_i alone: the fused vector is non-zero only through the visual view
    const dir = mkdtempSync(path.join(tmpdir(), 'pref-'));
    try {
      await model.save(dir);
      const back = await PreferenceEncoder.load(dir);
      expect(Array.from(back.itemVector(46))).toEqual(Array.from(model.itemVector(46)));
      expect(Array.from(back.userEmbeddingArray())).toEqual(Array.from(model.userEmbeddingArray()));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    // same seed, same model
    const again = await PreferenceEncoder.fit(data, { epochs: 30, batchSize: 128, dim: 16, lr: 0.02, k: 5 }, new Rng(7));
    expect(Array.from(again.model.userEmbeddingArray())).toEqual(Array.from(model.userEmbeddingArray()));
  });

  it('id-only view: cold items score zero; P is fitted by ridge regression', async () => {
    const data = toyData(2);
    const { model } = await PreferenceEncoder.fit(data, { epochs: 5, batchSize: 128, dim: 8, views: 'id' }, new Rng(1));
    expect(Array.from(model.itemVector(47)).every((v) => v === 0)).toBe(true);
    const p = model.projection();
    expect((await tf.abs(p).sum().data())[0]).toBeGreaterThan(0);
    p.dispose();
  });

  it('project(G(x)) applies the folded standardisation: with 0 layers a cold item vector equals it', async () => {
    const data = toyData(3);
    for (let j = 0; j < data.features.length; j++) data.features[j] = data.features[j]! * 3 + 5; // shifted, scaled features
    const { model } = await PreferenceEncoder.fit(data, { epochs: 2, batchSize: 128, dim: 8, layers: 0 }, new Rng(2));
    const f = tf.tensor2d(data.features.slice(48 * 8, 49 * 8), [1, 8]);
    const p = model.project(f);
    const got = await p.data();
    const want = model.itemVector(48); // cold: e_i,id = 0, h_i = standardised f P
    for (let j = 0; j < 8; j++) expect(got[j]).toBeCloseTo(want[j]!, 4);
    tf.dispose([f, p]);
  });

  it('ridge projection solves the normal equations', () => {
    const rng = new Rng(4);
    const n = 30, fd = 4, d = 3;
    const F = rng.normalArray(n * fd);
    const Ptrue = rng.normalArray(fd * d);
    const T = new Float32Array(n * d);
    for (let i = 0; i < n; i++) for (let c = 0; c < d; c++) for (let a = 0; a < fd; a++) T[i * d + c] += F[i * fd + a]! * Ptrue[a * d + c]!;
    const P = ridgeProjection(F, fd, T, d, new Uint8Array(n).fill(1), 1e-6);
    for (let j = 0; j < P.length; j++) expect(P[j]).toBeCloseTo(Ptrue[j]!, 3);
  });
});

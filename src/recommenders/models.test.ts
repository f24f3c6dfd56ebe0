import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import os from 'node:os';
import path from 'node:path';
import { promises as fs } from 'node:fs';
import { Rng } from '../core/rng.js';
import { createRecommender, loadRecommender, type LatentRecommender } from './models.js';
import type { TrainingData, VictimKind } from './recommender.js';

/** Tiny synthetic data: 3 clusters of items; users buy items of their cluster; features reveal cluster. */
function tinyData(seed = 1): { data: TrainingData; feats: tf.Tensor2D } {
  const rng = new Rng(seed);
  const U = 30;
  const I = 24;
  const D = 6;
  const cl = Array.from({ length: I }, (_, i) => i % 3);
  const f = new Float32Array(I * D);
  for (let i = 0; i < I; i++) for (let d = 0; d < D; d++) f[i * D + d] = (d === cl[i]! ? 1 : 0) + 0.1 * rng.normal();
  const train: number[][] = [];
  const validation = new Int32Array(U).fill(-1);
  for (let u = 0; u < U; u++) {
    const mine = rng.shuffle(Array.from({ length: I }, (_, i) => i).filter((i) => cl[i] === u % 3 && i < 21));
    train.push(mine.slice(0, 4));
    validation[u] = mine[4]!;
  }
  const feats = tf.tensor2d(f, [I, D]);
  return {
    feats,
    data: { numUsers: U, numItems: I, train, validation, excludedNegatives: new Set([21, 22, 23]), itemFeatures: feats, itemCategory: Int32Array.from(cl), numCategories: 3 },
  };
}

const KINDS: VictimKind[] = ['bpr-mf', 'vbpr', 'deepstyle', 'amr'];
const PARAMS: Record<VictimKind, string[]> = {
  'bpr-mf': ['bi', 'P', 'Q'],
  vbpr: ['a', 'bu', 'bi', 'gu', 'gi', 'tu', 'E', 'bp'],
  amr: ['a', 'bu', 'bi', 'gu', 'gi', 'tu', 'E', 'bp'],
  deepstyle: ['P', 'Q', 'E', 'L'],
};
const small = { k: 4, kVisual: 3, epochs: 3, batch: 32, evalEvery: 1, lr: 0.01 };

describe('recommenders', () => {
  it('VBPR and DeepStyle scores equal the section-3 formulas on fixed weights (both feature preprocessings)', async () => {
    const { data, feats } = tinyData();
    for (const [kind, whitenDims] of [['vbpr', 0], ['deepstyle', 0], ['bpr-mf', 0], ['vbpr', 64], ['deepstyle', 64]] as [VictimKind, number][]) {
      const m = createRecommender(kind, { ...small, whitenDims });
      await m.fit(data);
      const users = Int32Array.of(0, 5);
      const items = Int32Array.of(1, 21);
      const got = await m.score(users, items).array();
      const F = (await feats.array()) as number[][];
      const mean = (await tf.moments(feats, 0).mean.array()) as number[];
      const sd = (await tf.moments(feats, 0).variance.array()) as number[];
      const rms = Math.sqrt(sd.reduce((a, b) => a + b, 0)) + 1e-6;
      // whitenDims 0: (f - mean) / sqrt(total variance); else the whitened features, whose
      // covariance over the items is I/d (checked here), so the formula below uses them as f.
      let white: number[][] | null = null;
      if (whitenDims > 0) {
        const w = m.preprocess(feats);
        const dims = w.shape[1];
        const cov = (await tf.tidy(() => w.sub(w.mean(0)).transpose().matMul(w.sub(w.mean(0))).div(w.shape[0])).array()) as number[][];
        for (let a = 0; a < dims; a++) for (let b = 0; b < dims; b++) expect(cov[a]![b]!).toBeCloseTo(a === b ? 1 / dims : 0, 3);
        white = (await w.array()) as number[][];
        w.dispose();
      }
      const fn = (i: number) => white?.[i] ?? F[i]!.map((x, d) => (x - mean[d]!) / rms);
      const P = async (n: string) => (await m.param(n).array()) as any;
      for (const [a, u] of [...users].entries()) {
        for (const [b, i] of [...items].entries()) {
          let s = 0;
          const dot = (x: number[], y: number[]) => x.reduce((acc, v, j) => acc + v * y[j]!, 0);
          const matvec = (E: number[][], f: number[]) => E[0]!.map((_, k) => f.reduce((acc, v, d) => acc + v * E[d]![k]!, 0));
          if (kind === 'bpr-mf') s = (await P('bi'))[i] + dot((await P('P'))[u], (await P('Q'))[i]);
          else if (kind === 'vbpr') {
            const f = fn(i);
            s = (await P('a'))[0] + (await P('bu'))[u] + (await P('bi'))[i] + dot((await P('gu'))[u], (await P('gi'))[i]) + dot((await P('tu'))[u], matvec(await P('E'), f)) + dot(await P('bp'), f);
          } else {
            const f = fn(i);
            const ef = matvec(await P('E'), f);
            const l = (await P('L'))[data.itemCategory![i]!];
            const q = (await P('Q'))[i];
            s = dot((await P('P'))[u], ef.map((x, k) => x - l[k] + q[k]));
          }
          expect(got[a]![b]).toBeCloseTo(s, 4);
        }
      }
      m.dispose();
    }
    feats.dispose();
  });

  it('cold items carry no ID terms; scoreWithFeatures gradient matches finite differences', async () => {
    const { data, feats } = tinyData();
    for (const kind of ['vbpr', 'deepstyle', 'amr'] as VictimKind[]) {
      const m = createRecommender(kind, small);
      await m.fit(data);
      if (kind !== 'deepstyle') expect((await m.param('gi').array() as number[][])[22]!.every((x) => x === 0)).toBe(true);
      const users = Int32Array.of(0, 1, 2);
      const items = Int32Array.of(21);
      const f0 = tf.tensor2d(Array.from({ length: 6 }, (_, d) => 0.3 * d - 0.5), [1, 6]);
      const loss = (f: tf.Tensor2D) => m.scoreWithFeatures(users, items, f).sum();
      const g = (await tf.grad((f: tf.Tensor) => loss(f as tf.Tensor2D))(f0).data()) as Float32Array;
      const base = await f0.data();
      for (const d of [0, 3, 5]) {
        const h = 1e-2;
        const p = Float32Array.from(base); p[d]! += h;
        const q = Float32Array.from(base); q[d]! -= h;
        const fd = ((await loss(tf.tensor2d(p, [1, 6])).data())[0]! - (await loss(tf.tensor2d(q, [1, 6])).data())[0]!) / (2 * h);
        expect(g[d]!).toBeCloseTo(fd, 2);
      }
      m.dispose();
    }
    feats.dispose();
  });

  it('each victim has one score formula: the training pairs (pairScore) equal scoreWithFeatures', async () => {
    const { data, feats } = tinyData();
    const rng = new Rng(9);
    const users = Int32Array.from({ length: 40 }, () => rng.int(30));
    const items = Int32Array.from({ length: 40 }, (_, k) => (k < 3 ? 21 + k : rng.int(24))); // cold targets too
    for (const kind of KINDS)
      for (const whitenDims of [0, 64]) {
        const m = createRecommender(kind, { ...small, whitenDims });
        await m.fit(data);
        // every parameter random (BPR leaves a and b_u at zero: they cancel in s(u,i) - s(u,j))
        for (const name of PARAMS[kind]) {
          const x = m.param(name);
          x.assign(tf.tensor(rng.normalArray(x.size, 0.5), x.shape));
        }
        const pairs = (await m.scorePairs(users, items).data()) as Float32Array;
        const full = (await m.scoreWithFeatures(users, items, tf.gather(feats, tf.tensor1d(items, 'int32')) as tf.Tensor2D).data()) as Float32Array;
        const n = users.length;
        const diag = Array.from({ length: n }, (_, k) => full[k * n + k]!);
        const scale = Math.max(...diag.map(Math.abs));
        expect(scale).toBeGreaterThan(0.1);
        pairs.forEach((p, k) => expect(Math.abs(p - diag[k]!)).toBeLessThan(1e-5 * scale + 1e-6));
        expect(() => m.scorePairs(Int32Array.of(0, 1), Int32Array.of(2))).toThrow(/pairs must align/);
        m.dispose();
      }
    feats.dispose();
  });

  it('save/load gives identical scores for every kind; missing features error clearly', async () => {
    const { data, feats } = tinyData();
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'rec-'));
    for (const kind of KINDS) {
      const m = createRecommender(kind, small);
      await m.fit(data);
      await m.save(path.join(dir, kind));
      const l = await loadRecommender(path.join(dir, kind));
      const users = Int32Array.of(0, 7, 29);
      const items = Int32Array.from({ length: 24 }, (_, i) => i);
      expect(await l.score(users, items).data()).toEqual(await m.score(users, items).data());
      expect(await l.rank(3, 5, true)).toEqual(await m.rank(3, 5, true));
      for (let u = 0; u < m.numUsers; u++) expect([...l.trainItems(u)]).toEqual([...m.trainItems(u)]);
      if (m.visual) {
        expect(() => m.scoreWithFeatures(users, Int32Array.of(1, 2), tf.zeros([1, 6]) as tf.Tensor2D)).toThrow(/feature rows/);
        const bad = tf.tensor2d(new Float32Array(24 * 6).fill(NaN), [24, 6]);
        expect(() => m.setItemFeatures(bad)).toThrow(/no usable visual features/);
      }
      m.dispose();
      l.dispose();
    }
    const noFeat = createRecommender('vbpr', small);
    await expect(noFeat.fit({ ...data, itemFeatures: undefined })).rejects.toThrow(/needs item features/);
    feats.dispose();
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('score() on the cached preprocessed features equals scoreWithFeatures on the raw ones, and follows setItemFeatures', async () => {
    const { data, feats } = tinyData();
    for (const whitenDims of [0, 64]) {
      const m = createRecommender('vbpr', { ...small, whitenDims });
      await m.fit(data);
      const users = Int32Array.of(0, 3, 7);
      const items = Int32Array.of(5, 0, 23, 11);
      const raw = tf.gather(feats, tf.tensor1d(items, 'int32')) as tf.Tensor2D;
      expect(Array.from(m.score(users, items).dataSync())).toEqual(Array.from(m.scoreWithFeatures(users, items, raw).dataSync()));
      const moved = feats.mul(-2).add(0.5) as tf.Tensor2D;
      m.setItemFeatures(moved);
      const movedRaw = tf.gather(moved, tf.tensor1d(items, 'int32')) as tf.Tensor2D;
      expect(Array.from(m.score(users, items).dataSync())).toEqual(Array.from(m.scoreWithFeatures(users, items, movedRaw).dataSync()));
      m.dispose();
    }
    feats.dispose();
  });

  it('scoring leaves only the returned tensor behind, for every kind (BPR-MF too)', async () => {
    const { data, feats } = tinyData();
    for (const kind of ['bpr-mf', 'vbpr', 'deepstyle', 'amr'] as const) {
      const m = createRecommender(kind, { ...small, epochs: 1 });
      await m.fit(data);
      // the first score builds the visual models' one cached tensor (preprocessed item features)
      m.score(Int32Array.of(0), Int32Array.of(0)).dispose();
      const before = tf.memory().numTensors;
      for (let r = 0; r < 3; r++) m.score(Int32Array.of(0, 1), Int32Array.of(0, 1, 2)).dispose();
      expect(tf.memory().numTensors, kind).toBe(before);
      m.dispose();
    }
    feats.dispose();
  });

  it('training keeps the tensor count flat and learns the clusters', async () => {
    const { data, feats } = tinyData();
    const m = createRecommender('amr', { ...small, epochs: 2, amrWarmup: 0 });
    await m.fit(data);
    const before = tf.memory().numTensors;
    await m.fit(data);
    expect(tf.memory().numTensors).toBe(before);
    m.dispose();
    const v = createRecommender('vbpr', { ...small, epochs: 30, patience: 100 });
    const rep = await v.fit(data);
    expect(rep.lossCurve.at(-1)!).toBeLessThan(rep.lossCurve[0]!);
    // Cold item 21 (cluster 0) should score higher for cluster-0 users than for cluster-1 users.
    const s = (await v.score(Int32Array.of(0, 3, 6, 1, 4, 7), Int32Array.of(21)).data()) as Float32Array;
    expect(s[0]! + s[1]! + s[2]!).toBeGreaterThan(s[3]! + s[4]! + s[5]!);
    v.dispose();
    feats.dispose();
  });
  it('the features preprocessed once per fit are, row for row, the bits of preprocessing a batch', async () => {
    // fit() whitens every item once and gathers rows per batch; before, it gathered raw rows and
    // whitened each batch. 700 x 96 -> 64 is past the native GEMM's threading threshold.
    const rng = new Rng(3);
    const I = 700, D = 96;
    const feats = tf.tensor2d(rng.normalArray(I * D), [I, D]);
    const train = Array.from({ length: 40 }, () => Array.from(rng.intArray(5, I)));
    const m = createRecommender('vbpr', { ...small, epochs: 1, whitenDims: 64 });
    await m.fit({ numUsers: 40, numItems: I, train, validation: new Int32Array(40).fill(-1), excludedNegatives: new Set(), itemFeatures: feats });
    const rows = tf.tensor1d(Int32Array.from(rng.intArray(37, I)), 'int32');
    const once = tf.gather(m.preprocess(feats), rows);
    const batch = m.preprocess(tf.gather(feats, rows) as tf.Tensor2D);
    expect(once.shape).toEqual([37, 64]);
    expect(Array.from(once.dataSync())).toEqual(Array.from(batch.dataSync()));
    tf.dispose([feats, rows, once, batch]);
    m.dispose();
  });
});

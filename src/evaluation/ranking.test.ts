import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { aucOf, hitAt, ndcgAt, rankInRow, RankAccumulator } from './ranking-metrics.js';
import { evaluateTargets } from './full-ranking.js';
import { evaluateAccuracy } from './accuracy.js';
import { evaluateAip } from './aip-protocol.js';
import { createRecommender } from '../recommenders/models.js';
import type { TrainingData } from '../recommenders/recommender.js';
import { Rng } from '../core/rng.js';

describe('ranking metrics', () => {
  it('hand-computed cases', () => {
    expect(hitAt(4, 5)).toBe(1);
    expect(hitAt(5, 5)).toBe(0);
    expect(ndcgAt(0, 10)).toBe(1);
    expect(ndcgAt(2, 10)).toBeCloseTo(0.5, 10);
    expect(ndcgAt(10, 10)).toBe(0);
    expect(aucOf(2, [1, 2, 3, 0])).toBeCloseTo(2.5 / 4, 10);
    expect(rankInRow([0.5, 0.9, 0.1, 0.7], 0, new Set([1]))).toBe(1);
    const acc = new RankAccumulator([1, 3]);
    [0, 2, 5].forEach((r) => acc.add(r));
    expect(acc.hr()[1]).toBeCloseTo(1 / 3, 10);
    expect(acc.hr()[3]).toBeCloseTo(2 / 3, 10);
    expect(acc.ndcg()[3]).toBeCloseTo((1 + 0.5) / 3, 10);
  });
});

function data(): TrainingData & { test: Int32Array; train: number[][] } {
  const rng = new Rng(3);
  const U = 20, I = 30, D = 5;
  const f = tf.tensor2d(rng.normalArray(I * D), [I, D]);
  const train = Array.from({ length: U }, () => rng.shuffle(Array.from({ length: 27 }, (_, i) => i)).slice(0, 5));
  const validation = Int32Array.from(train, (l) => (l[0]! + 1) % 27);
  const test = Int32Array.from(train, (l) => (l[1]! + 2) % 27).map((t, u) => (train[u]!.includes(t) ? -1 : t));
  return { numUsers: U, numItems: I, train, validation, test, excludedNegatives: new Set([27, 28, 29]), itemFeatures: f };
}

describe('target protocols', () => {
  it('full ranking equals a brute-force rank, clean and adversarial', async () => {
    const d = data();
    const m = createRecommender('vbpr', { k: 4, kVisual: 3, epochs: 2 });
    await m.fit(d);
    const users = Array.from({ length: 20 }, (_, u) => u);
    const adv = new Map([[27, new Float32Array([3, -1, 2, 0, 1])], [28, new Float32Array(5)]]);
    const res = await evaluateTargets(m, [27, 28], adv, users, { train: d.train, ks: [1, 5], block: 7 });
    const all = Int32Array.from({ length: 30 }, (_, i) => i);
    const S = (await m.score(Int32Array.from(users), all).array()) as number[][];
    for (const [j, t] of [27, 28].entries()) {
      const a = (await m.scoreWithFeatures(Int32Array.from(users), Int32Array.of(t), tf.tensor2d(adv.get(t)!, [1, 5])).array()) as number[][];
      let hits = 0;
      let rankSum = 0;
      for (const u of users) {
        const r = rankInRow(S[u]!, t, new Set(d.train[u]), a[u]![0]!);
        hits += r < 5 ? 1 : 0;
        rankSum += r;
      }
      expect(res.perTarget[j]!.hr[5]).toBeCloseTo(hits / 20, 10);
      expect(res.perTarget[j]!.meanRank).toBeCloseTo(rankSum / 20, 10);
    }
    // clean, and with a user who has a target (item 3) in training: it is not a candidate for them
    const clean = await evaluateTargets(m, [27, 3], null, users, { train: d.train, ks: [5] });
    for (const [j, t] of [27, 3].entries()) {
      let hits = 0;
      let rankSum = 0;
      for (const u of users) {
        const r = rankInRow(S[u]!, t, new Set(d.train[u]));
        hits += r < 5 ? 1 : 0;
        rankSum += r;
      }
      expect(clean.perTarget[j]!.hr[5]).toBeCloseTo(hits / 20, 10);
      expect(clean.perTarget[j]!.meanRank).toBeCloseTo(rankSum / 20, 10);
    }
    expect(users.some((u) => d.train[u]!.includes(3))).toBe(true);
    const acc = await evaluateAccuracy(m, { train: d.train, test: d.test, numItems: 30, coldItems: [27, 28], affinity: (u, i) => (u * 7 + i) % 5 });
    expect(acc.auc).toBeGreaterThanOrEqual(0);
    expect(acc.auc).toBeLessThanOrEqual(1);
    expect(acc.coldAuc).toBeGreaterThanOrEqual(0);
    const bpr = createRecommender('bpr-mf', { k: 4, epochs: 2 });
    await bpr.fit(d);
    // With every item a candidate, AIP HR equals full ranking among non-train items (+ test item),
    // for one target at a time (AIP removes the other targets from the candidates).
    const everyUser = Array.from({ length: 20 }, (_, u) => u);
    for (const t of [27, 28, 4]) {
      const ks = [1, 3, 5, 10];
      const users = everyUser.filter((u) => !d.train[u]!.includes(t)); // item 4 is warm: bought by some
      const aip = await evaluateAip(m, bpr, [t], null, users, { test: d.test, ks, numCandidates: 1000 });
      const full = await evaluateTargets(m, [t], null, users, { train: d.train, ks });
      for (const k of ks) expect(aip.hr[k]).toBeCloseTo(full.hr[k]!, 10);
      expect(ks.some((k) => full.hr[k]! > 0 && full.hr[k]! < 1)).toBe(true); // a comparison that can fail
    }
    // Fewer candidates can only raise the target: HR@5 with 10 BPR-MF candidates >= full ranking's.
    const narrow = await evaluateAip(m, bpr, [27], null, everyUser, { test: d.test, ks: [5], numCandidates: 10 });
    const wide = await evaluateTargets(m, [27], null, everyUser, { train: d.train, ks: [5] });
    expect(narrow.hr[5]).toBeGreaterThanOrEqual(wide.hr[5]!);
    m.dispose();
    bpr.dispose();
  });
});

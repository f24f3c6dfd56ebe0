import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { AboveCounter, rankInRow } from './ranking-metrics.js';
import { evaluateTargets, type RankableModel } from './full-ranking.js';
import { createRecommender } from '../recommenders/models.js';
import { synthesizeScaleCatalogue } from '../data/synth/scale.js';
import { Rng } from '../core/rng.js';

describe('AboveCounter', () => {
  const brute = (vals: ArrayLike<number>, x: number, exclude?: Uint8Array) => {
    let c = 0;
    for (let i = 0; i < vals.length; i++) if (!(exclude && exclude[i]) && vals[i]! > x) c++;
    return c;
  };

  it('counts exactly the candidates strictly above any threshold: ties, skew, one value, infinities, exclusions', () => {
    const rng = new Rng(5);
    const cases: Float32Array[] = [
      Float32Array.from(rng.uniformArray(5000)),
      Float32Array.from(rng.uniformArray(3000), (x) => Math.round(x * 20) / 20), // heavy ties
      Float32Array.from(rng.normalArray(4000), (x) => Math.exp(6 * x)), // very skewed: most in one bucket
      new Float32Array(700).fill(0.25),
      Float32Array.from([3, -Infinity, 1, Infinity, 1, 2, 2, 0]),
      Float32Array.from([1, NaN, 2, 3, NaN]),
      new Float32Array(0),
    ];
    const c = new AboveCounter();
    for (const vals of cases) {
      const exclude = Uint8Array.from(vals, (_, i) => (i % 7 === 3 ? 1 : 0));
      const xs = [...Array.from(vals).slice(0, 200), -Infinity, Infinity, 0, 0.25, 0.5, 1e9, -1e9, ...rng.uniformArray(50)];
      for (const ex of [undefined, exclude]) {
        c.reset(vals, ex);
        for (const x of xs) if (!Number.isNaN(x)) expect(c.countAbove(x)).toBe(brute(vals, x, ex));
      }
    }
  });
});

describe('full ranking at scale, on a small Amazon-Men-scale catalogue', () => {
  const setup = async () => {
    const cat = synthesizeScaleCatalogue({ seed: 4, overrides: { numUsers: 150, numItems: 400, numTargets: 12, imageSize: 8 } });
    const D = 6;
    const rng = new Rng(9);
    const feats = rng.normalArray(cat.numItems * D);
    const m = createRecommender('vbpr', { k: 4, kVisual: 3, epochs: 2, evalEvery: 10, whitenDims: 0 });
    const f = tf.tensor2d(feats, [cat.numItems, D]);
    await m.fit({ numUsers: cat.numUsers, numItems: cat.numItems, train: cat.train.views(), validation: cat.validation, excludedNegatives: new Set(cat.targets), itemFeatures: f });
    f.dispose();
    const targets = Array.from(cat.targets);
    const adv = new Map(targets.map((t, j) => [t, Float32Array.from(feats.subarray(t * D, (t + 1) * D), (x) => x + 0.3 * Math.sin(j + x))]));
    const users = Array.from({ length: cat.numUsers }, (_, u) => u);
    return { cat, m, D, targets, adv, users };
  };

  it('batched ranks equal unbatched ones and a brute-force rank of every (user, target), with CSR or array training lists', async () => {
    const { cat, m, D, targets, adv, users } = await setup();
    const views = cat.train.views();
    const arrays = views.map((v) => Array.from(v));
    const ks = [1, 5, 10, 50];
    const whole = await evaluateTargets(m, targets, adv, users, { train: arrays, ks, block: users.length });
    for (const block of [1, 7, 64]) {
      const b = await evaluateTargets(m, targets, adv, users, { train: views, ks, block });
      expect(b).toEqual(whole);
    }
    // brute force: rank = non-training items other than the target scoring strictly above its adversarial score
    const all = Int32Array.from({ length: cat.numItems }, (_, i) => i);
    const S = (await m.score(Int32Array.from(users), all).array()) as number[][];
    const A = (await m.scoreWithFeatures(Int32Array.from(users), Int32Array.from(targets), tf.tensor2d(targets.flatMap((t) => [...adv.get(t)!]), [targets.length, D])).array()) as number[][];
    targets.forEach((t, j) => {
      let rankSum = 0;
      const hits = ks.map(() => 0);
      for (const u of users) {
        const r = rankInRow(S[u]!, t, new Set(arrays[u]), A[u]![j]!);
        rankSum += r;
        ks.forEach((k, q) => (hits[q]! += r < k ? 1 : 0));
      }
      expect(whole.perTarget[j]!.meanRank).toBe(rankSum / users.length);
      ks.forEach((k, q) => expect(whole.perTarget[j]!.hr[k]).toBe(hits[q]! / users.length));
    });
    m.dispose();
  });

  it('memory is bounded by design: every score request is at most block x items, and live tensors stay within two blocks', async () => {
    const { cat, m, targets, adv, users } = await setup();
    const block = 16;
    const base = tf.memory().numBytes;
    let maxUsers = 0;
    let maxCells = 0;
    let maxLive = 0;
    const spy: RankableModel = {
      visual: m.visual,
      score(u, i) {
        const s = m.score(u, i);
        maxUsers = Math.max(maxUsers, u.length);
        maxCells = Math.max(maxCells, s.size);
        maxLive = Math.max(maxLive, tf.memory().numBytes - base);
        return s;
      },
      scoreWithFeatures(u, i, f) {
        const s = m.scoreWithFeatures(u, i, f);
        maxLive = Math.max(maxLive, tf.memory().numBytes - base);
        return s;
      },
    };
    await evaluateTargets(Object.assign(spy, { numItems: cat.numItems }), targets, adv, users, { train: cat.train.views(), block });
    expect(maxUsers).toBe(block);
    expect(maxCells).toBe(block * cat.numItems);
    // the block's scores, plus the cached preprocessed item features (items x visualDim) built on first use
    const blockBytes = 4 * block * cat.numItems;
    expect(maxLive).toBeLessThanOrEqual(2 * blockBytes + 4 * cat.numItems * m.visualDim);
    expect(tf.memory().numBytes).toBeLessThanOrEqual(base + 4 * cat.numItems * m.visualDim);
    m.dispose();
  });
});

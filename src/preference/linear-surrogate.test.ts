import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../core/rng.js';
import { createRecommender } from '../recommenders/models.js';
import { ensembleView, linearView } from '../recommenders/linear-view.js';
import type { LatentRecommender } from '../recommenders/models.js';
import type { VictimKind } from '../recommenders/recommender.js';
import { PreferenceEncoder, preferenceConfig } from './model.js';

/** 30 users, 24 items in 3 clusters whose 6-dim features reveal the cluster; items 21-23 cold. */
function data(seed = 1) {
  const rng = new Rng(seed);
  const [U, I, D] = [30, 24, 6];
  const f = new Float32Array(I * D);
  for (let i = 0; i < I; i++) for (let d = 0; d < D; d++) f[i * D + d] = (d === i % 3 ? 1 : 0) + 0.1 * rng.normal();
  const train = Array.from({ length: U }, (_, u) => rng.shuffle(Array.from({ length: 21 }, (_, i) => i).filter((i) => i % 3 === u % 3)).slice(0, 4));
  const cat = Int32Array.from({ length: I }, (_, i) => i % 3);
  return { U, I, D, f, train, cat };
}

/** A small fitted recommender of `kind` on data(); the caller disposes it and `feats`. */
async function fitted(kind: VictimKind, seed: number): Promise<{ m: LatentRecommender; feats: tf.Tensor2D }> {
  const { U, I, D, f, train, cat } = data();
  const feats = tf.tensor2d(f, [I, D]);
  const m = createRecommender(kind, { k: 4, kVisual: 3, epochs: 3, batch: 32, lr: 0.01, seed });
  await m.fit({ numUsers: U, numItems: I, train, validation: new Int32Array(U).fill(-1), excludedNegatives: new Set([21, 22, 23]), itemFeatures: feats, itemCategory: cat, numCategories: 3 });
  return { m, feats };
}

/** Every user's score of item `item` with features fNew (1 x D) under a linear view: e_u . (e_i,id + f P + c). */
function viewScores(pref: PreferenceEncoder, item: number, fNew: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => tf.matMul(pref.userEmbeddings(), tf.add(pref.project(fNew), tf.tensor2d(pref.itemIdVector(item), [1, pref.config.dim])), false, true) as tf.Tensor2D);
}

describe('linear surrogate view (VBPR as a PreferenceEncoder)', () => {
  for (const whitenDims of [0, 64]) {
    it(`scores equal VBPR's minus the per-user constants, for clean and new features (whitenDims ${whitenDims})`, async () => {
      const { U, I, D, f, train } = data();
      const feats = tf.tensor2d(f, [I, D]);
      const m = createRecommender('vbpr', { k: 4, kVisual: 3, epochs: 3, batch: 32, lr: 0.01, whitenDims, seed: 3 });
      await m.fit({ numUsers: U, numItems: I, train, validation: new Int32Array(U).fill(-1), excludedNegatives: new Set([21, 22, 23]), itemFeatures: feats });
      const pref = PreferenceEncoder.fromLinear(preferenceConfig({ model: 'vbpr' }), linearView(m), f, D);
      expect(pref.config.dim).toBe(4 + 3 + 1);
      const users = Int32Array.from({ length: U }, (_, u) => u);
      const items = Int32Array.from({ length: I }, (_, i) => i);
      const userConst = tf.tidy(() => tf.add(m.param('bu'), m.param('a')));
      // clean features: the stored item vectors
      const want = tf.tidy(() => tf.sub(m.score(users, items), tf.reshape(userConst, [-1, 1])));
      const got = pref.score(users, items);
      expect(Array.from(await got.data())).toEqual(Array.from(await want.data()).map((v) => expect.closeTo(v, 4)));
      // new features for the cold item 22 through project(): e_u . (e_i,id + f P + c)
      const fNew = tf.randomNormal([1, D], 0, 1, 'float32', 7) as tf.Tensor2D;
      const want2 = tf.tidy(() => tf.sub(m.scoreWithFeatures(users, Int32Array.of(22), fNew), tf.reshape(userConst, [-1, 1])));
      const got2 = tf.tidy(() => tf.matMul(pref.userEmbeddings(), tf.add(pref.project(fNew), tf.tensor2d(pref.itemIdVector(22), [1, 8])), false, true));
      expect(Array.from(await got2.data())).toEqual(Array.from(await want2.data()).map((v) => expect.closeTo(v, 4)));
      tf.dispose([feats, userConst, want, got, fNew, want2, got2]);
      m.dispose();
    });
  }
});

describe('linear surrogate views of DeepStyle and of an ensemble', () => {
  it("DeepStyle's view scores equal DeepStyle's (category offset inside the item's ID part), clean and new features", async () => {
    const { U, I, D, f } = data();
    const { m, feats } = await fitted('deepstyle', 5);
    const pref = PreferenceEncoder.fromLinear(preferenceConfig({ model: 'vbpr' }), linearView(m), f, D);
    expect(pref.config.dim).toBe(4);
    const users = Int32Array.from({ length: U }, (_, u) => u);
    const want = m.score(users, Int32Array.from({ length: I }, (_, i) => i));
    const got = pref.score(users, Int32Array.from({ length: I }, (_, i) => i));
    expect(Array.from(await got.data())).toEqual(Array.from(await want.data()).map((v) => expect.closeTo(v, 4)));
    const fNew = tf.randomNormal([1, D], 0, 1, 'float32', 9) as tf.Tensor2D;
    const want2 = m.scoreWithFeatures(users, Int32Array.of(22), fNew);
    const got2 = viewScores(pref, 22, fNew);
    expect(Array.from(await got2.data())).toEqual(Array.from(await want2.data()).map((v) => expect.closeTo(v, 4)));
    // the category offset is really there: a cold item's ID part is -l_c(i), not zero
    expect(Math.max(...Array.from(pref.itemIdVector(22)).map(Math.abs))).toBeGreaterThan(0);
    tf.dispose([feats, want, got, fNew, want2, got2]);
    m.dispose();
  });

  it("an ensemble's score is the mean of its members' scores, and so is its gradient in the features", async () => {
    const { D, f } = data();
    const kinds: VictimKind[] = ['vbpr', 'deepstyle', 'amr'];
    const fits = await Promise.all(kinds.map((k, q) => fitted(k, 11 + q)));
    const views = fits.map(({ m }) => linearView(m));
    const cfg = preferenceConfig({ model: 'ensemble', members: kinds });
    const ens = PreferenceEncoder.fromLinear(cfg, ensembleView(views), f, D);
    const members = views.map((v) => PreferenceEncoder.fromLinear(cfg, v, f, D));
    expect(ens.config.dim).toBe(views.reduce((a, v) => a + v.dim, 0));
    const fNew = tf.randomNormal([1, D], 0, 1, 'float32', 13) as tf.Tensor2D;
    // scores of the cold item 21 with new features, and the objective mean_u s_u and its gradient in f
    const objective = (p: PreferenceEncoder) => (x: tf.Tensor) => tf.mean(viewScores(p, 21, x as tf.Tensor2D)) as tf.Scalar;
    const sEns = viewScores(ens, 21, fNew);
    const sMean = tf.tidy(() => tf.div(tf.addN(members.map((p) => viewScores(p, 21, fNew))), members.length));
    expect(Array.from(await sEns.data())).toEqual(Array.from(await sMean.data()).map((v) => expect.closeTo(v, 4)));
    const gEns = tf.grad(objective(ens))(fNew);
    const gMean = tf.tidy(() => tf.div(tf.addN(members.map((p) => tf.grad(objective(p))(fNew))), members.length));
    expect(Array.from(await gEns.data())).toEqual(Array.from(await gMean.data()).map((v) => expect.closeTo(v, 5)));
    // and the members differ, so the mean is not any one of them
    const g0 = tf.grad(objective(members[0]!))(fNew);
    expect(Math.max(...Array.from(await tf.sub(g0, gEns).abs().data()))).toBeGreaterThan(1e-3);
    tf.dispose([fNew, sEns, sMean, gEns, gMean, g0]);
    for (const { m, feats } of fits) {
      m.dispose();
      feats.dispose();
    }
  });

  it('refuses an ensemble without members, members elsewhere, and a family named twice', () => {
    expect(() => preferenceConfig({ model: 'ensemble' })).toThrow(/members: model 'ensemble' needs a members list/);
    expect(() => preferenceConfig({ model: 'vbpr', members: ['vbpr'] })).toThrow(/members is only read with model 'ensemble'/);
    expect(() => preferenceConfig({ model: 'ensemble', members: ['vbpr', 'vbpr'] })).toThrow(/each family at most once/);
    expect(() => preferenceConfig({ model: 'ensemble', members: ['bpr-mf'] })).toThrow(/members/);
    expect(preferenceConfig({ model: 'ensemble', members: ['vbpr', 'deepstyle'] }).members).toEqual(['vbpr', 'deepstyle']);
  });
});

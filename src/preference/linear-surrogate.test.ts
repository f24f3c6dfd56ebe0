import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../core/rng.js';
import { createRecommender } from '../recommenders/models.js';
import { linearView } from '../recommenders/linear-view.js';
import { PreferenceEncoder, preferenceConfig } from './model.js';

/** 30 users, 24 items in 3 clusters whose 6-dim features reveal the cluster; items 21-23 cold. */
function data(seed = 1) {
  const rng = new Rng(seed);
  const [U, I, D] = [30, 24, 6];
  const f = new Float32Array(I * D);
  for (let i = 0; i < I; i++) for (let d = 0; d < D; d++) f[i * D + d] = (d === i % 3 ? 1 : 0) + 0.1 * rng.normal();
  const train = Array.from({ length: U }, (_, u) => rng.shuffle(Array.from({ length: 21 }, (_, i) => i).filter((i) => i % 3 === u % 3)).slice(0, 4));
  return { U, I, D, f, train };
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

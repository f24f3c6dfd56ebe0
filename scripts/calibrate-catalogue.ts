/**
 * Catalogue calibration (issue 3): how much of the synthetic catalogue's signal is visual?
 * For a profile plus parameter overrides, prints the test HR@10 of
 *   - the generator's oracle (true taste x popularity^bias, the best any model can do),
 *   - popularity alone,
 *   - BPR-MF (no images) and VBPR / DeepStyle on the victim encoder F's features,
 * so that the generator can be tuned until the visual victims beat the non-visual control for the
 * right reason (images predict purchases) rather than by changing a metric.
 *
 *   npx tsx scripts/calibrate-catalogue.ts ENCODER_DIR '{"popularityBias":0.5}' [profile] [seed] [victims] [victim-config-json]
 *
 * ENCODER_DIR is a trained victim encoder (e.g. one in .auv-cache/encoder/), or 'attributes' for
 * the generator's one-hot (category | colour | pattern) vectors, a perfect encoder. Item images do
 * not depend on the interaction parameters, so one encoder serves every override.
 *
 * Diagnostics (environment variables), each used in the README's "Victims" findings:
 *   AUV_ATTR_DROP=colour,pattern  blank blocks of the attribute vector (which look carries signal?)
 *   AUV_CONCAT_ATTR=w             append w x the attribute one-hots to F's features
 *   AUV_NOISE_DIMS=n AUV_NOISE_STD=s  append n fixed Gaussian nuisance dims per item
 *   AUV_PCA=d                     keep the top-d principal components of the features
 *   AUV_STD=1                     standardise every feature dimension first
 *   AUV_WARM_ONLY=1               also print HR@10 with never-interacted items removed from the candidates
 */
import * as tf from '@tensorflow/tfjs';
import { initEngine } from '../src/core/engine.js';
import { synthesizeCatalogue, type CatalogueProfile } from '../src/data/index.js';
import { attributeVector } from '../src/data/synth/catalogue.js';
import { extractFeatures, loadEncoder } from '../src/encoders/resnet.js';
import { createRecommender } from '../src/recommenders/models.js';
import { victimTrainingData } from '../src/recommenders/training-data.js';
import type { VictimKind } from '../src/recommenders/recommender.js';
import { evaluateAccuracy } from '../src/evaluation/accuracy.js';

/** HR@10 of a fixed score function over the leave-one-out test split. */
function hr10(score: (u: number, i: number) => number, train: readonly (readonly number[])[], test: Int32Array, numItems: number): number {
  let hits = 0;
  let n = 0;
  test.forEach((t, u) => {
    if (t < 0 || train[u]!.length === 0) return;
    const seen = new Set(train[u]);
    const x = score(u, t);
    let rank = 0;
    for (let i = 0; i < numItems; i++) if (i !== t && !seen.has(i) && score(u, i) > x) rank++;
    n++;
    if (rank < 10) hits++;
  });
  return hits / n;
}

/** Top-`dims` principal components of the features (subspace iteration), as an items x dims tensor. */
function pca(f: tf.Tensor2D, dims: number): tf.Tensor2D {
  return tf.tidy(() => {
    const x = f.sub(f.mean(0, true));
    const cov = x.transpose().matMul(x).div(f.shape[0]);
    let q = tf.randomNormal([f.shape[1], dims], 0, 1, 'float32', 7) as tf.Tensor2D;
    for (let it = 0; it < 30; it++) q = tf.linalg.qr(cov.matMul(q) as tf.Tensor2D)[0] as tf.Tensor2D;
    return x.matMul(q) as tf.Tensor2D;
  });
}

/** AUV_ATTR_DROP=category|colour|pattern: blank one block of the attribute vector (which look matters?). */
function dropBlock(k: number, nCat: number): boolean {
  const drop = process.env.AUV_ATTR_DROP;
  const block = k < nCat ? 'category' : k < nCat + 14 ? 'colour' : 'pattern';
  return (drop ?? '').split(',').includes(block);
}

async function main(): Promise<void> {
  await initEngine();
  const [encDir, overridesJson = '{}', profile = 'default', seedArg = '1', victimsArg = 'bpr-mf,vbpr', victimJson = '{}'] = process.argv.slice(2);
  if (!encDir) throw new Error('usage: calibrate-catalogue.ts ENCODER_DIR [overrides-json] [profile] [seed] [victims]');
  const seed = Number(seedArg);
  const ds = synthesizeCatalogue({ profile: profile as CatalogueProfile, seed, overrides: JSON.parse(overridesJson) });
  const nItems = ds.itemIds.length;
  const counts = new Float64Array(nItems);
  for (const l of ds.split.train) for (const i of l) counts[i]!++;
  const active = [...counts].filter((c) => c > 0).length;
  console.log(`${profile} seed ${seed} ${overridesJson}: ${ds.interactions.length} interactions, ${active}/${nItems} items interacted, median per item ${[...counts].filter((c) => c > 0).sort((a, b) => a - b)[Math.floor(active / 2)]}`);
  const p = ds.params;
  const pop = (i: number): number => Math.pow(ds.popularity[i]!, p.popularityBias);
  const aff = (u: number, i: number): number => {
    const t = ds.tastes[u]!;
    const a = ds.attributes[i]!;
    return t.category[a.category]! * t.colour[a.colour]! * t.pattern[a.pattern]!;
  };
  console.log(`oracle HR@10 ${hr10((u, i) => aff(u, i) * pop(i), ds.split.train, ds.split.test, nItems).toFixed(3)}  popularity-only ${hr10((_u, i) => counts[i]!, ds.split.train, ds.split.test, nItems).toFixed(3)}`);
  // 'attributes': the generator's one-hot (category | colour | pattern) vectors, a perfect encoder
  const enc = encDir === 'attributes' ? null : await loadEncoder(encDir);
  let feats = enc
    ? await extractFeatures(enc, ds.images, Array.from({ length: nItems }, (_, i) => i), 256)
    : tf.tensor2d(ds.attributes.flatMap((a) => [...attributeVector(a, ds.categoryNames.length)].map((v, k) => (dropBlock(k, ds.categoryNames.length) ? 0 : v))), [nItems, attributeVector(ds.attributes[0]!, ds.categoryNames.length).length]);
  const pcaDims = Number(process.env.AUV_PCA ?? 0);
  if (enc && process.env.AUV_CONCAT_ATTR) {
    // diagnostic: encoder features plus the attribute one-hots (do F's features hurt, or just add nothing?)
    const attrs = tf.tensor2d(ds.attributes.flatMap((a) => [...attributeVector(a, ds.categoryNames.length)]), [nItems, attributeVector(ds.attributes[0]!, ds.categoryNames.length).length]);
    const both = tf.concat([feats, attrs.mul(Number(process.env.AUV_CONCAT_ATTR))], 1) as tf.Tensor2D;
    tf.dispose([feats, attrs]);
    feats = both;
  }
  if (process.env.AUV_STD) {
    // diagnostic: standardise every feature dimension (unit variance) before the model's own scaling
    const z = tf.tidy(() => {
      const { mean, variance } = tf.moments(feats, 0, true);
      return feats.sub(mean).div(variance.sqrt().add(1e-6)) as tf.Tensor2D;
    });
    feats.dispose();
    feats = z;
  }
  const noiseDims = Number(process.env.AUV_NOISE_DIMS ?? 0); // diagnostic: append fixed per-item nuisance dims
  if (noiseDims > 0) {
    const noise = tf.randomNormal([nItems, noiseDims], 0, Number(process.env.AUV_NOISE_STD ?? 0.3), 'float32', 3);
    const withNoise = tf.concat([feats, noise], 1);
    feats.dispose();
    noise.dispose();
    feats = withNoise as tf.Tensor2D;
  }
  const featsIn = feats;
  const useFeats = pcaDims > 0 ? pca(feats, pcaDims) : feats;
  for (const kind of victimsArg.split(',') as VictimKind[]) {
    const m = createRecommender(kind, { seed, ...JSON.parse(victimJson) });
    const rep = await m.fit(victimTrainingData(ds, useFeats));
    const acc = await evaluateAccuracy(m, { train: ds.split.train, test: ds.split.test, numItems: nItems, coldItems: ds.targets, affinity: aff });
    console.log(`${kind.padEnd(10)} HR@10 ${acc.hr10.toFixed(3)}  NDCG@10 ${acc.ndcg10.toFixed(3)}  AUC ${acc.auc.toFixed(3)}  coldAUC ${acc.coldAuc.toFixed(3)}  epochs ${rep.epochs} (${rep.seconds.toFixed(0)} s)`);
    if (process.env.AUV_WARM_ONLY) {
      // diagnostic: HR@10 when items with no training interaction are not candidates
      const all = Int32Array.from({ length: nItems }, (_, i) => i);
      let hits = 0, n = 0, coldInTop = 0;
      for (let s0 = 0; s0 < ds.userIds.length; s0 += 256) {
        const us = Array.from({ length: Math.min(256, ds.userIds.length - s0) }, (_, k) => s0 + k);
        const sc = m.score(Int32Array.from(us), all);
        const d = (await sc.data()) as Float32Array;
        sc.dispose();
        us.forEach((u, r) => {
          const t = ds.split.test[u]!;
          if (t < 0 || ds.split.train[u]!.length === 0) return;
          const row = d.subarray(r * nItems, (r + 1) * nItems);
          const seen = new Set(ds.split.train[u]);
          let rank = 0, rankAll = 0;
          for (let i = 0; i < nItems; i++) if (i !== t && !seen.has(i) && row[i]! > row[t]!) { rankAll++; if (counts[i]! > 0) rank++; }
          n++;
          if (rank < 10) hits++;
          if (rankAll >= 10 && rank < 10) coldInTop++;
        });
      }
      console.log(`  warm-only HR@10 ${(hits / n).toFixed(3)}; users whose hit is lost to never-interacted items ${coldInTop}`);
    }
    m.dispose();
  }
  tf.dispose([featsIn, useFeats]);
  enc?.dispose();
  console.log(`tensors alive: ${tf.memory().numTensors}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});

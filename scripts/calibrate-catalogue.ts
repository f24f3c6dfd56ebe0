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
 */
import * as tf from '@tensorflow/tfjs';
import { initEngine } from '../src/core/engine.js';
import { synthesizeCatalogue, tasteAffinity, type CatalogueProfile } from '../src/data/index.js';
import { attributeVector } from '../src/data/synth/catalogue.js';
import { extractFeatures, loadEncoder } from '../src/encoders/resnet.js';
import { createRecommender } from '../src/recommenders/models.js';
import { victimTrainingData } from '../src/recommenders/training-data.js';
import type { VictimKind } from '../src/recommenders/recommender.js';
import { evaluateAccuracy } from '../src/evaluation/accuracy.js';
import { rankInRow } from '../src/evaluation/ranking-metrics.js';

/** HR@10 of a fixed score function over the leave-one-out test split. */
function hr10(score: (u: number, i: number) => number, train: readonly (readonly number[])[], test: Int32Array, numItems: number): number {
  let hits = 0;
  let n = 0;
  test.forEach((t, u) => {
    if (t < 0 || train[u]!.length === 0) return;
    const row = Float64Array.from({ length: numItems }, (_, i) => score(u, i));
    n++;
    if (rankInRow(row, t, new Set(train[u])) < 10) hits++;
  });
  return hits / n;
}

/** Top-`dims` principal components of the features (subspace iteration); call inside a tidy. */
function pca(f: tf.Tensor2D, dims: number): tf.Tensor2D {
  const x = f.sub(f.mean(0, true));
  const cov = x.transpose().matMul(x).div(f.shape[0]);
  let q = tf.randomNormal([f.shape[1], dims], 0, 1, 'float32', 7) as tf.Tensor2D;
  for (let it = 0; it < 30; it++) q = tf.linalg.qr(cov.matMul(q) as tf.Tensor2D)[0] as tf.Tensor2D;
  return x.matMul(q) as tf.Tensor2D;
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
  const aff = tasteAffinity(ds)!;
  console.log(`oracle HR@10 ${hr10((u, i) => aff(u, i) * pop(i), ds.split.train, ds.split.test, nItems).toFixed(3)}  popularity-only ${hr10((_u, i) => counts[i]!, ds.split.train, ds.split.test, nItems).toFixed(3)}`);
  // 'attributes': the generator's one-hot (category | colour | pattern) vectors, a perfect encoder
  const nCat = ds.categoryNames.length;
  const attributes = (drop: boolean): tf.Tensor2D =>
    tf.tensor2d(ds.attributes.flatMap((a) => [...attributeVector(a, nCat)].map((v, k) => (drop && dropBlock(k, nCat) ? 0 : v))), [nItems, attributeVector(ds.attributes[0]!, nCat).length]);
  const enc = encDir === 'attributes' ? null : await loadEncoder(encDir);
  let feats = enc ? await extractFeatures(enc, ds.images, Array.from({ length: nItems }, (_, i) => i), 256) : attributes(true);
  /** Replace the features by `fn(features)` (computed in a tidy), disposing the old ones. */
  const transform = (fn: (f: tf.Tensor2D) => tf.Tensor2D): void => {
    const next = tf.tidy(() => fn(feats));
    feats.dispose();
    feats = next;
  };
  const concatWeight = Number(process.env.AUV_CONCAT_ATTR ?? 0);
  // encoder features plus the attribute one-hots: do F's features hurt, or just add nothing?
  if (enc && concatWeight) transform((f) => tf.concat([f, attributes(false).mul(concatWeight)], 1) as tf.Tensor2D);
  if (process.env.AUV_STD) {
    transform((f) => {
      const { mean, variance } = tf.moments(f, 0, true);
      return f.sub(mean).div(variance.sqrt().add(1e-6)) as tf.Tensor2D;
    });
  }
  const noiseDims = Number(process.env.AUV_NOISE_DIMS ?? 0);
  if (noiseDims > 0) transform((f) => tf.concat([f, tf.randomNormal([nItems, noiseDims], 0, Number(process.env.AUV_NOISE_STD ?? 0.3), 'float32', 3)], 1) as tf.Tensor2D);
  const pcaDims = Number(process.env.AUV_PCA ?? 0);
  if (pcaDims > 0) transform((f) => pca(f, pcaDims));
  for (const kind of victimsArg.split(',') as VictimKind[]) {
    const m = createRecommender(kind, { seed, ...JSON.parse(victimJson) });
    const rep = await m.fit(victimTrainingData(ds, feats));
    const acc = await evaluateAccuracy(m, { train: ds.split.train, test: ds.split.test, numItems: nItems, coldItems: ds.targets, affinity: aff });
    console.log(`${kind.padEnd(10)} HR@10 ${acc.hr10.toFixed(3)}  NDCG@10 ${acc.ndcg10.toFixed(3)}  AUC ${acc.auc.toFixed(3)}  coldAUC ${acc.coldAuc.toFixed(3)}  epochs ${rep.epochs} (${rep.seconds.toFixed(0)} s)`);
    m.dispose();
  }
  feats.dispose();
  enc?.dispose();
  console.log(`tensors alive: ${tf.memory().numTensors}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});

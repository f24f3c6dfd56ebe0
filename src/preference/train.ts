/**
 * Train the surrogate recommender for a dataset (sec. 5): surrogate features G(x_i) of every item,
 * then PreferenceEncoder.fit on the training split, targets never sampled as negatives.
 */
import { Rng } from '../core/rng.js';
import type { Dataset } from '../data/dataset.js';
import * as tf from '@tensorflow/tfjs';
import { createRecommender } from '../recommenders/models.js';
import { linearView } from '../recommenders/linear-view.js';
import { PreferenceEncoder, preferenceConfig, type PreferenceConfig, type PreferenceFitReport } from './model.js';

export async function trainSurrogate(
  ds: Dataset,
  features: { data: Float32Array; dim: number },
  config: Partial<PreferenceConfig>,
  seed: number,
): Promise<{ model: PreferenceEncoder; report: PreferenceFitReport }> {
  if (config.model === 'vbpr') return trainVbprSurrogate(ds, features, preferenceConfig(config), seed);
  return PreferenceEncoder.fit(
    {
      numUsers: ds.userIds.length,
      numItems: ds.itemIds.length,
      train: ds.split.train,
      features: features.data,
      featDim: features.dim,
      excludedNegatives: new Set(ds.targets),
    },
    config,
    new Rng(seed).fork('surrogate-recommender'),
  );
}

/**
 * The 'vbpr' surrogate: the attacker's own VBPR (the recommender defaults, `config.epochs` epochs,
 * its own seed) trained on the public training interactions and the attacker encoder's features,
 * with no validation split (the attacker has none: no early stopping), then in linear form.
 */
async function trainVbprSurrogate(ds: Dataset, features: { data: Float32Array; dim: number }, cfg: PreferenceConfig, seed: number): Promise<{ model: PreferenceEncoder; report: PreferenceFitReport }> {
  const numItems = ds.itemIds.length;
  const m = createRecommender('vbpr', { epochs: cfg.epochs, seed: new Rng(seed).fork('surrogate-vbpr').int(1 << 30) });
  const f = tf.tensor2d(features.data, [numItems, features.dim]);
  try {
    const fit = await m.fit({
      numUsers: ds.userIds.length,
      numItems,
      train: ds.split.train,
      validation: new Int32Array(ds.userIds.length).fill(-1),
      excludedNegatives: new Set(ds.targets),
      itemFeatures: f,
    });
    const model = PreferenceEncoder.fromLinear(cfg, linearView(m), features.data, features.dim);
    return { model, report: { epochs: fit.epochs, lossCurve: fit.lossCurve, seconds: fit.seconds, secondsPerEpoch: fit.seconds / Math.max(1, fit.epochs) } };
  } finally {
    f.dispose();
    m.dispose();
  }
}

/**
 * Train the surrogate recommender for a dataset (sec. 5): surrogate features G(x_i) of every item,
 * then PreferenceEncoder.fit on the training split, targets never sampled as negatives.
 */
import { Rng } from '../core/rng.js';
import type { Dataset } from '../data/dataset.js';
import * as tf from '@tensorflow/tfjs';
import { createRecommender } from '../recommenders/models.js';
import { ensembleView, linearView, type LinearView } from '../recommenders/linear-view.js';
import { victimTrainingData } from '../recommenders/training-data.js';
import { PreferenceEncoder, preferenceConfig, type PreferenceConfig, type PreferenceFitReport } from './model.js';

type Family = NonNullable<PreferenceConfig['members']>[number];

export async function trainSurrogate(
  ds: Dataset,
  features: { data: Float32Array; dim: number },
  config: Partial<PreferenceConfig>,
  seed: number,
): Promise<{ model: PreferenceEncoder; report: PreferenceFitReport }> {
  const cfg = preferenceConfig(config);
  if (cfg.model === 'vbpr' || cfg.model === 'ensemble') {
    const families: Family[] = cfg.model === 'vbpr' ? ['vbpr'] : cfg.members!;
    const views: LinearView[] = [];
    const report: PreferenceFitReport = { epochs: 0, lossCurve: [], seconds: 0, secondsPerEpoch: 0 };
    for (const family of families) {
      const r = await trainFamilySurrogate(ds, features, cfg, family, seed);
      views.push(r.view);
      report.epochs += r.epochs;
      report.lossCurve.push(...r.lossCurve);
      report.seconds += r.seconds;
    }
    report.secondsPerEpoch = report.seconds / Math.max(1, report.epochs);
    const view = views.length === 1 ? views[0]! : ensembleView(views);
    return { model: PreferenceEncoder.fromLinear(cfg, view, features.data, features.dim), report };
  }
  return PreferenceEncoder.fit(
    {
      numUsers: ds.userIds.length,
      numItems: ds.itemIds.length,
      train: ds.split.train,
      features: features.data,
      featDim: features.dim,
      excludedNegatives: new Set(ds.targets),
    },
    cfg,
    new Rng(seed).fork('surrogate-recommender'),
  );
}

/**
 * One surrogate of a victim family: the attacker's own VBPR, DeepStyle or AMR (the recommender
 * defaults, `config.epochs` epochs, its own seed per family) trained on the public training
 * interactions, the item categories and the attacker encoder's features, with no validation split
 * (the attacker has none: no early stopping), then in linear form.
 */
async function trainFamilySurrogate(
  ds: Dataset,
  features: { data: Float32Array; dim: number },
  cfg: PreferenceConfig,
  family: Family,
  seed: number,
): Promise<{ view: LinearView; epochs: number; lossCurve: number[]; seconds: number }> {
  const m = createRecommender(family, { epochs: cfg.epochs, seed: new Rng(seed).fork(`surrogate-${family}`).int(1 << 30) });
  const f = tf.tensor2d(features.data, [ds.itemIds.length, features.dim]);
  try {
    const fit = await m.fit({ ...victimTrainingData(ds, f), validation: new Int32Array(ds.userIds.length).fill(-1) });
    return { view: linearView(m), epochs: fit.epochs, lossCurve: fit.lossCurve, seconds: fit.seconds };
  } finally {
    f.dispose();
    m.dispose();
  }
}

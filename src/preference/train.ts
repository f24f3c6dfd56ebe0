/**
 * Train the surrogate recommender for a dataset (sec. 5): surrogate features G(x_i) of every item,
 * then PreferenceEncoder.fit on the training split, targets never sampled as negatives.
 */
import { InputError } from '../core/errors.js';
import { Rng } from '../core/rng.js';
import type { Dataset } from '../data/dataset.js';
import type { ImageEncoder } from '../encoders/encoder.js';
import { extractFeatures } from '../encoders/resnet.js';
import { PreferenceEncoder, type PreferenceConfig, type PreferenceFitReport } from './model.js';

/** G(x_i) for every item (numItems x featureDim, row-major), batched, no tensors left behind. */
export async function itemFeatures(encoder: ImageEncoder, ds: Dataset, batch = 64): Promise<{ data: Float32Array; dim: number }> {
  if (!ds.images.hasPixels) throw new InputError(`dataset '${ds.info.name}' has no images: the surrogate encoder cannot run (use its precomputed features)`);
  const f = await extractFeatures(encoder, ds.images, Array.from({ length: ds.itemIds.length }, (_, i) => i), batch);
  const data = (await f.data()) as Float32Array;
  const dim = f.shape[1];
  f.dispose();
  return { data, dim };
}

export async function trainSurrogate(
  ds: Dataset,
  features: { data: Float32Array; dim: number },
  config: Partial<PreferenceConfig>,
  seed: number,
): Promise<{ model: PreferenceEncoder; report: PreferenceFitReport }> {
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

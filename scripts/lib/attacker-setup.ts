/**
 * What the issue-14 diagnostic scripts share: the demo's default settings on a chosen dataset,
 * cache and seed, the dataset with its images cached in memory, and the encoders (from the cache
 * when the demo trained them), optionally with the surrogate recommender trained on F's features
 * (tier public-encoder).
 */
import { CachedImageSource, type Dataset } from '../../src/data/dataset.js';
import { openDataset } from '../../src/data/open.js';
import type { EncoderRole, ImageEncoder } from '../../src/encoders/encoder.js';
import { ArtefactCache } from '../../src/experiment/cache.js';
import { demoConfig, loadConfig, type ExperimentConfig } from '../../src/experiment/config.js';
import { datasetKey, prepareEncoders, prepareSurrogate, surrogateFeatures, type DatasetKey } from '../../src/experiment/runner.js';
import * as tf from '@tensorflow/tfjs';
import type { RankableModel } from '../../src/evaluation/full-ranking.js';
import type { PreferenceEncoder } from '../../src/preference/model.js';

export interface AttackerSetup {
  cfg: ExperimentConfig;
  ds: Dataset;
  cache: ArtefactCache;
  dataKey: DatasetKey;
  encoders: Record<EncoderRole, ImageEncoder>;
  encHash: Record<EncoderRole, string>;
  log: (msg: string) => void;
}

export async function attackerSetup(dataset: string, cacheDir: string, seed: number): Promise<AttackerSetup> {
  const cfg = loadConfig({ base: { ...demoConfig('default'), dataset, cacheDir, seeds: [seed] } });
  const ds0 = await openDataset(cfg.dataset);
  const ds: Dataset = { ...ds0, images: new CachedImageSource(ds0.images) } as Dataset;
  const cache = new ArtefactCache(cfg.cacheDir);
  const log = (m: string): void => void process.stderr.write(m + '\n');
  const dataKey = await datasetKey(cfg, ds);
  const { encoders, encHash } = await prepareEncoders(ds, dataKey, cfg, cache, log);
  return { cfg, ds, cache, dataKey, encoders, encHash, log };
}

/** The attacker's surrogate recommender trained on the public F's features (tier public-encoder). */
export async function surrogateOnF(s: AttackerSetup, seed: number): Promise<PreferenceEncoder> {
  const F = s.encoders.victim;
  return (await prepareSurrogate(s.ds, s.dataKey, s.cfg, s.cache, seed, await surrogateFeatures(s.ds, F), s.encHash.victim, s.log)).value;
}

/** The surrogate as a scorer of features f (F's features): e_u . (e_i,id + P f + b). */
export function surrogateScorer(pref: PreferenceEncoder, projected = false): RankableModel & { numItems: number } {
  const eU = pref.userEmbeddings();
  return {
    numItems: pref.numItems,
    visual: true,
    score: (u, i) => pref.score(u, i),
    scoreWithFeatures: (u, items, f) =>
      tf.tidy(() => {
        const id = tf.tensor2d(Array.from(items).flatMap((t) => Array.from(pref.itemIdVector(t))), [items.length, pref.config.dim]);
        return tf.matMul(tf.gather(eU, u), tf.add(id, projected ? f : pref.project(f)), false, true) as tf.Tensor2D;
      }),
  };
}

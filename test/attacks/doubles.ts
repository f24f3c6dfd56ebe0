/**
 * Test doubles for unit tests of the attacks only: a linear image encoder and a linear visual
 * recommender implementing the contracts (the real pipeline uses src/encoders, src/recommenders).
 */
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../../src/core/rng.js';
import type { ImageEncoder } from '../../src/encoders/encoder.js';
import type { FitReport, Recommender, TrainingData } from '../../src/recommenders/recommender.js';

export function linearEncoder(size: number, dim: number, seed = 1): ImageEncoder {
  const rng = new Rng(seed);
  const W = tf.variable(tf.tensor2d(rng.normalArray(size * size * 3 * dim, 1 / Math.sqrt(size * size * 3)), [size * size * 3, dim]), false);
  return {
    description: { kind: 'linear-test', inputSize: size, featureDim: dim, pixelRange: [0, 1], normalization: { mean: [0, 0, 0], std: [1, 1, 1] } },
    encode: (x) => tf.tidy(() => x.reshape([x.shape[0], -1]).matMul(W).tanh() as tf.Tensor2D),
    trainableVariables: () => [],
    dispose: () => W.dispose(),
  };
}

/** s(u, i) = theta_u . f_i + b_i. */
export function linearRecommender(numUsers: number, numItems: number, dim: number, itemFeatures: tf.Tensor2D, seed = 2): Recommender {
  const rng = new Rng(seed);
  const theta = tf.tensor2d(rng.normalArray(numUsers * dim), [numUsers, dim]);
  const bias = tf.tensor1d(rng.normalArray(numItems, 0.1));
  let feats = tf.keep(itemFeatures.clone());
  const rec: Recommender = {
    kind: 'vbpr',
    visual: true,
    fit: async (_d: TrainingData): Promise<FitReport> => ({ epochs: 0, lossCurve: [], validationCurve: [], bestEpoch: 0, seconds: 0 }),
    scoreWithFeatures: (users, items, f) =>
      tf.tidy(() => {
        const th = tf.gather(theta, tf.tensor1d(users, 'int32'));
        const fT = f.transpose();
        return th.matMul(fT).add(tf.gather(bias, tf.tensor1d(items, 'int32')).reshape([1, -1])) as tf.Tensor2D;
      }),
    score: (users, items) => tf.tidy(() => rec.scoreWithFeatures(users, items, tf.gather(feats, tf.tensor1d(items, 'int32')))),
    setItemFeatures: (f) => {
      feats.dispose();
      feats = tf.keep(f.clone());
    },
    rank: async () => [],
    save: async () => {},
    dispose: () => tf.dispose([theta, bias, feats]),
  };
  return rec;
}

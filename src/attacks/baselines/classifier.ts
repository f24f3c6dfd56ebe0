/**
 * Softmax-regression category classifier on encoder features (the classifier that TAaMR-style
 * PGD/FGSM attack, spec section 8). Features are standardised; trained full-batch with Adam.
 */
import * as tf from '@tensorflow/tfjs';
import type { Rng } from '../../core/rng.js';

export interface FeatureClassifier {
  /** Logits N x numClasses of features N x dim (differentiable). */
  logits(features: tf.Tensor2D): tf.Tensor2D;
  /** Training accuracy. */
  trainAccuracy: number;
  dispose(): void;
}

export function trainSoftmaxClassifier(
  features: tf.Tensor2D,
  labels: Int32Array,
  numClasses: number,
  rng: Rng,
  opts: { iterations?: number; lr?: number; l2?: number } = {},
): FeatureClassifier {
  const iterations = opts.iterations ?? 200;
  const lr = opts.lr ?? 0.05;
  const l2 = opts.l2 ?? 1e-4;
  const dim = features.shape[1];
  const mean = tf.keep(features.mean(0));
  const std = tf.keep(tf.tidy(() => features.sub(mean).square().mean(0).sqrt().add(1e-6)));
  const W = tf.tidy(() => tf.variable(tf.tensor2d(rng.normalArray(dim * numClasses, 0.01), [dim, numClasses])));
  const b = tf.tidy(() => tf.variable(tf.zeros([numClasses])));
  const xs = tf.tidy(() => features.sub(mean).div(std));
  const ys = tf.tidy(() => tf.oneHot(tf.tensor1d(labels, 'int32'), numClasses).toFloat());
  const opt = tf.train.adam(lr);
  for (let it = 0; it < iterations; it++) {
    tf.tidy(() => {
      opt.minimize(() => tf.losses.softmaxCrossEntropy(ys, xs.matMul(W).add(b)).add(W.square().sum().mul(l2)) as tf.Scalar, false, [W, b]);
    });
  }
  const acc = tf.tidy(() => xs.matMul(W).add(b).argMax(1).equal(ys.argMax(1)).toFloat().mean().dataSync()[0] as number);
  tf.dispose([xs, ys]);
  opt.dispose();
  return {
    logits: (f) => f.sub(mean).div(std).matMul(W).add(b) as tf.Tensor2D,
    trainAccuracy: acc,
    dispose: () => tf.dispose([mean, std, W, b]),
  };
}

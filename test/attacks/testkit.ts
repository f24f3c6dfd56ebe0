/**
 * Tiny randomly initialised stand-ins for unit tests of AUV-Fusion only: an image encoder and a
 * latent diffusion model implementing the contracts (ImageEncoder, ChainModel). Not used by the CLI.
 */
import * as tf from '@tensorflow/tfjs';
import type { Rng } from '../../src/core/rng.js';
import type { ImageEncoder } from '../../src/encoders/encoder.js';
import type { ChainModel } from '../../src/diffusion/chain.js';
import { DDIMScheduler } from '../../src/diffusion/scheduler.js';

/** avgPool(4) -> flatten -> dense -> tanh, from the Rng. */
export function tinyEncoder(rng: Rng, size: number, featDim: number): ImageEncoder {
  const pooled = (size / 4) * (size / 4) * 3;
  const W = tf.tensor2d(rng.normalArray(pooled * featDim, 1 / Math.sqrt(pooled)), [pooled, featDim]);
  return {
    description: { kind: 'test-tiny', inputSize: size, featureDim: featDim, pixelRange: [0, 1], normalization: { mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25] } },
    encode: (x) =>
      tf.tidy(() => {
        const p = tf.avgPool(tf.div(tf.sub(x, 0.5), 0.25) as tf.Tensor4D, 4, 4, 'valid');
        return tf.tanh(tf.matMul(tf.reshape(p, [x.shape[0], pooled]), W)) as tf.Tensor2D;
      }),
    trainableVariables: () => [],
    dispose: () => W.dispose(),
  };
}

/** A latent "diffusion" model: latents [size/4, size/4, 4], a 1x1-conv VAE and a small noise predictor. */
export function tinyDiffusion(rng: Rng, size: number): ChainModel & { dispose(): void } {
  const h = size / 4;
  const We = tf.tensor2d(rng.normalArray(3 * 4, 0.8), [3, 4]);
  const Wd = tf.tensor2d(rng.normalArray(4 * 3, 0.8), [4, 3]);
  const Wn = tf.tensor2d(rng.normalArray(4 * 4, 0.5), [4, 4]);
  const pix = (x: tf.Tensor4D, W: tf.Tensor2D, c: number): tf.Tensor4D => {
    const [n, hh, ww, cc] = x.shape;
    return tf.reshape(tf.matMul(tf.reshape(x, [n * hh * ww, cc]), W), [n, hh, ww, c]) as tf.Tensor4D;
  };
  return {
    latentShape: [h, h, 4],
    imageSize: size,
    // diffusers' DDIMScheduler defaults but no x0 clipping: linear betas 1e-4..0.02 over 1000 steps, leading spacing, final abar 1
    scheduler: new DDIMScheduler({ clipSample: false }),
    encode: (x) => tf.tidy(() => pix(tf.avgPool(tf.sub(tf.mul(x, 2), 1) as tf.Tensor4D, 4, 4, 'valid'), We, 4)),
    decode: (z) => tf.tidy(() => tf.sigmoid(pix(tf.image.resizeBilinear(z, [size, size]), Wd, 3)) as tf.Tensor4D),
    predictNoise: (z, t) => tf.tidy(() => tf.mul(tf.tanh(pix(z, Wn, 4)), 0.5 + t / 2000) as tf.Tensor4D),
    dispose: () => tf.dispose([We, Wd, Wn]),
  };
}

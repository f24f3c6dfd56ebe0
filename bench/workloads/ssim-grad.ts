/**
 * ssim-grad: per-image SSIM (scikit-image definition, 11x11 Gaussian) of a 16 x 64 x 64 x 3 batch
 * and its gradient with respect to the adversarial batch (what AUV-Fusion's L_SSIM costs per step).
 */
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../../src/core/rng.js';
import { ssim } from '../../src/evaluation/image-metrics.js';
import { registerWorkload } from '../workloads.js';

interface Ctx {
  a: tf.Tensor4D;
  b: tf.Tensor4D;
  g: (x: tf.Tensor) => tf.Tensor;
}

registerWorkload<Ctx>({
  name: 'ssim-grad',
  description: 'SSIM forward + gradient, batch 16 x 64 x 64 x 3',
  setup: () => {
    const r = new Rng(1);
    const a = tf.tensor4d(r.uniformArray(16 * 64 * 64 * 3), [16, 64, 64, 3]);
    const b = tf.tensor4d(r.uniformArray(16 * 64 * 64 * 3), [16, 64, 64, 3]);
    return { a, b, g: tf.grad((x: tf.Tensor) => ssim(a, x as tf.Tensor4D).sum()) };
  },
  run: (ctx) => {
    const g = ctx.g(ctx.b);
    g.dataSync();
    g.dispose();
  },
  teardown: (ctx) => tf.dispose([ctx.a, ctx.b]),
});

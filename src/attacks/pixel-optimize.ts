/**
 * The optimisation loop shared by the pixel attacks (INSA, EXPA, PGD, FGSM; spec section 8):
 * minimise loss(x0 + delta) over delta with ||delta||_inf <= eps and x0 + delta in [0,1], by Adam
 * (AIP's INSA) or by signed gradient steps (PGD / FGSM). The projection runs after every step,
 * so every iterate (and the result) satisfies the budget.
 */
import * as tf from '@tensorflow/tfjs';
import { pixelAdamStep } from '../core/kernels/pixel_adam.js';
import { projectLinf } from './projection.js';

export type PixelOptimizer = 'adam' | 'sign';

export interface PixelOptimizeOptions {
  eps: number;
  steps: number;
  optimizer: PixelOptimizer;
  /** Adam learning rate, or the sign step size (pixel units). */
  lr: number;
  /** Optional initial perturbation (e.g. a random start), same shape as x0. */
  init?: tf.Tensor4D;
  /** Called with (step, loss) every `logEvery` steps and at the last step. */
  onLog?: (step: number, loss: number) => void;
  logEvery?: number;
}

/**
 * Runs the loop. `loss(x)` maps a batch N x H x W x 3 to a scalar to minimise (a sum over images,
 * so that each image's gradient is independent of the batch). Returns the adversarial batch
 * (caller disposes).
 */
export function optimizePixels(x0: tf.Tensor4D, loss: (x: tf.Tensor4D) => tf.Scalar, o: PixelOptimizeOptions): tf.Tensor4D {
  const b1 = 0.9;
  const b2 = 0.999;
  const epsAdam = 1e-8;
  let x = o.init ? (projectLinf(x0.add(o.init), x0, o.eps) as tf.Tensor4D) : x0.clone();
  // Adam's moments; null = zeros (before the first step).
  let m: tf.Tensor | null = null;
  let v: tf.Tensor | null = null;
  const vg = tf.valueAndGrad((xi: tf.Tensor) => loss(xi as tf.Tensor4D));
  const logEvery = o.logEvery ?? 10;
  for (let step = 1; step <= o.steps; step++) {
    const { value, grad } = vg(x);
    let next: tf.Tensor4D;
    if (o.optimizer === 'sign') {
      next = tf.tidy(() => projectLinf(x.sub(grad.sign().mul(o.lr)), x0, o.eps) as tf.Tensor4D);
    } else {
      // Adam + projection: one fused kernel where the addon runs, the same bits as the ops
      const [xn, m2, v2] = pixelAdamStep(x, grad, m, v, x0, step, { lr: o.lr, b1, b2, epsAdam, eps: o.eps });
      tf.dispose([m, v].filter((t): t is tf.Tensor => t !== null));
      [m, v] = [m2, v2];
      next = xn as tf.Tensor4D;
    }
    x.dispose();
    grad.dispose();
    x = next;
    if (o.onLog && (step % logEvery === 0 || step === o.steps || step === 1)) o.onLog(step, value.dataSync()[0] as number);
    value.dispose();
  }
  tf.dispose([m, v].filter((t): t is tf.Tensor => t !== null));
  return x;
}

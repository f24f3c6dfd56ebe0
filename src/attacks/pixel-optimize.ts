/**
 * The optimisation loop shared by the pixel attacks (INSA, EXPA, PGD, FGSM; spec section 8):
 * minimise loss(x0 + delta) over delta with ||delta||_inf <= eps and x0 + delta in [0,1], by Adam
 * (AIP's INSA) or by signed gradient steps (PGD / FGSM). The projection runs after every step,
 * so every iterate (and the result) satisfies the budget.
 */
import * as tf from '@tensorflow/tfjs';
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
  let m: tf.Tensor4D = tf.zerosLike(x0);
  let v: tf.Tensor4D = tf.zerosLike(x0);
  const vg = tf.valueAndGrad((xi: tf.Tensor) => loss(xi as tf.Tensor4D));
  const logEvery = o.logEvery ?? 10;
  for (let step = 1; step <= o.steps; step++) {
    const { value, grad } = vg(x);
    const next = tf.tidy(() => {
      let upd: tf.Tensor;
      if (o.optimizer === 'sign') {
        upd = grad.sign().mul(o.lr);
      } else {
        const m2 = m.mul(b1).add(grad.mul(1 - b1));
        const v2 = v.mul(b2).add(grad.square().mul(1 - b2));
        const mh = m2.div(1 - b1 ** step);
        const vh = v2.div(1 - b2 ** step);
        upd = mh.div(vh.sqrt().add(epsAdam)).mul(o.lr);
        tf.dispose([m, v]);
        m = tf.keep(m2) as tf.Tensor4D;
        v = tf.keep(v2) as tf.Tensor4D;
      }
      return projectLinf(x.sub(upd), x0, o.eps) as tf.Tensor4D;
    });
    x.dispose();
    grad.dispose();
    x = next;
    if (o.onLog && (step % logEvery === 0 || step === o.steps || step === 1)) o.onLog(step, value.dataSync()[0] as number);
    value.dispose();
  }
  tf.dispose([m, v]);
  return x;
}

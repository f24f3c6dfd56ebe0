/**
 * The adversary generator MLP_phi of eq. 2: e_U (d) -> 256 -> 256 -> c*h*w, SiLU hidden
 * activations, tanh output, reshaped to the latent shape (or to the image for 'no-latent').
 * Weights come from the run's Rng; the output layer starts small so that training begins near
 * the clean diffusion round trip.
 */
import * as tf from '@tensorflow/tfjs';
import type { Rng } from '../../core/rng.js';

function variable(values: Float32Array, shape: number[]): tf.Variable {
  const init = tf.tensor(values, shape);
  const v = tf.variable(init, true);
  init.dispose();
  return v;
}

export class DeltaMlp {
  readonly vars: tf.Variable[];
  constructor(
    readonly inDim: number,
    readonly hidden: number,
    /** Output shape per example, e.g. [h, w, c]. */
    readonly outShape: readonly number[],
    rng: Rng,
    outInitStd = 1e-3,
  ) {
    const out = outShape.reduce((a, b) => a * b, 1);
    const he = (fan: number): number => Math.sqrt(2 / fan);
    this.vars = [
      variable(rng.fork('w1').normalArray(inDim * hidden, he(inDim)), [inDim, hidden]),
      variable(new Float32Array(hidden), [hidden]),
      variable(rng.fork('w2').normalArray(hidden * hidden, he(hidden)), [hidden, hidden]),
      variable(new Float32Array(hidden), [hidden]),
      variable(rng.fork('w3').normalArray(hidden * out, outInitStd), [hidden, out]),
      variable(new Float32Array(out), [out]),
    ];
  }

  /** delta = tanh(W3 silu(W2 silu(W1 e + b1) + b2) + b3), shaped [N, ...outShape] (eq. 2). */
  apply(e: tf.Tensor2D): tf.Tensor {
    return tf.tidy(() => {
      const [w1, b1, w2, b2, w3, b3] = this.vars as [tf.Variable, tf.Variable, tf.Variable, tf.Variable, tf.Variable, tf.Variable];
      const silu = (x: tf.Tensor): tf.Tensor => tf.mul(x, tf.sigmoid(x));
      const h1 = silu(tf.add(tf.matMul(e, w1 as tf.Tensor2D), b1));
      const h2 = silu(tf.add(tf.matMul(h1 as tf.Tensor2D, w2 as tf.Tensor2D), b2));
      const o = tf.tanh(tf.add(tf.matMul(h2 as tf.Tensor2D, w3 as tf.Tensor2D), b3));
      return tf.reshape(o, [e.shape[0], ...this.outShape]);
    });
  }

  dispose(): void {
    for (const v of this.vars) v.dispose();
  }
}

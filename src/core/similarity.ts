/**
 * Cosine similarity, the one implementation every layer uses (semantic similarity of images under
 * the encoder C, AUV-Fusion's L_clip and L_align): a.b / max(|a| |b|, COSINE_EPS), row by row,
 * differentiable. A zero row has similarity 0 with anything.
 */
import * as tf from '@tensorflow/tfjs';

/** Floor of |a| |b|: rows whose norms multiply to less count as having this product (no 0/0). */
export const COSINE_EPS = 1e-12;

/** Cosine similarity of matching rows of two [n, d] tensors: [n]. */
export function cosineRows(a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor1D {
  if (a.shape[0] !== b.shape[0] || a.shape[1] !== b.shape[1]) throw new Error(`cosineRows: shapes [${a.shape.join(',')}] and [${b.shape.join(',')}] differ`);
  return tf.tidy(() => {
    const dot = a.mul(b).sum(1);
    const na = a.square().sum(1).sqrt();
    const nb = b.square().sum(1).sqrt();
    return dot.div(na.mul(nb).maximum(COSINE_EPS)) as tf.Tensor1D;
  });
}

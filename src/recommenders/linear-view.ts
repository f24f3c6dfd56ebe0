/**
 * A fitted VBPR/AMR model seen as a linear scorer in its (raw) item features f = F(x), the form the
 * attacker's surrogate takes (src/preference/model.ts, `PreferenceEncoder.fromLinear`):
 *
 *   s(u, i) - (a + b_u) = [g_u, t_u, 1] . ([g_i, 0, b_i] + f_i P + c)
 *   with  P = [0 | A E | A b'],  c = [0 | c0 E | c0 b'],  norm(f) = f A + c0
 *
 * (VBPR's score, this file's ../recommenders/models.ts header, without the per-user constants a + b_u,
 * which never change a user's ranking). A and c0 are the model's fitted feature preprocessing
 * (whitening or centring and scaling), read back by applying it to the identity and to zero.
 */
import * as tf from '@tensorflow/tfjs';
import { ConfigError } from '../core/errors.js';
import type { LatentRecommender } from './models.js';

export interface LinearView {
  /** d = k + kVisual + 1 */
  dim: number;
  /** numUsers x d user vectors. */
  user: Float32Array;
  /** numItems x d ID part of each item's vector (zero ID factors for cold items). */
  itemId: Float32Array;
  /** featDim x d map from raw features into the item vector. */
  proj: Float32Array;
  /** d offset added to f P. */
  projBias: Float32Array;
}

/** The linear view of a fitted VBPR or AMR model (see the header). */
export function linearView(m: LatentRecommender): LinearView {
  if (m.kind !== 'vbpr' && m.kind !== 'amr') throw new ConfigError(`a linear surrogate view exists for VBPR and AMR, not ${m.kind}`);
  const D = m.featureDim;
  return tf.tidy(() => {
    const c0 = m.preprocess(tf.zeros([1, D]) as tf.Tensor2D); // 1 x w
    const A = tf.sub(m.preprocess(tf.eye(D) as tf.Tensor2D), c0); // D x w
    const E = m.param('E'); // w x kVisual
    const bp = tf.reshape(m.param('bp'), [-1, 1]); // w x 1
    const gu = m.param('gu');
    const gi = m.param('gi');
    const k = gu.shape[1]!;
    const kv = E.shape[1]!;
    const U = gu.shape[0]!;
    const I = gi.shape[0]!;
    const user = tf.concat([gu, m.param('tu'), tf.ones([U, 1])], 1);
    const itemId = tf.concat([gi, tf.zeros([I, kv]), tf.reshape(m.param('bi'), [-1, 1])], 1);
    const proj = tf.concat([tf.zeros([D, k]), tf.matMul(A, E), tf.matMul(A, bp)], 1);
    const projBias = tf.concat([tf.zeros([1, k]), tf.matMul(c0, E), tf.matMul(c0, bp)], 1);
    return {
      dim: k + kv + 1,
      user: user.dataSync() as Float32Array,
      itemId: itemId.dataSync() as Float32Array,
      proj: proj.dataSync() as Float32Array,
      projBias: projBias.dataSync() as Float32Array,
    };
  });
}

/**
 * A fitted visual recommender seen as a linear scorer in its (raw) item features f = F(x), the form
 * the attacker's surrogate takes (src/preference/model.ts, `PreferenceEncoder.fromLinear`):
 *
 *   VBPR / AMR:  s(u, i) - (a + b_u) = [g_u, t_u, 1] . ([g_i, 0, b_i] + f_i P + c)
 *                with  P = [0 | A E | A b'],  c = [0 | c0 E | c0 b'],  norm(f) = f A + c0
 *   DeepStyle:   s(u, i) = p_u . ((q_i - l_c(i)) + f_i A E + c0 E)
 *
 * (the scores of ../recommenders/models.ts's header, without VBPR's per-user constants a + b_u,
 * which never change a user's ranking; DeepStyle's category offset l_c(i) is part of the item's
 * fixed ID vector: an image edit does not change the item's category). A and c0 are the model's
 * fitted feature preprocessing (whitening or centring and scaling), read back by applying it to the
 * identity and to zero.
 *
 * `ensembleView` joins several views into one whose score is the MEAN of the members' scores
 * (blocks side by side, user vectors divided by the number of members), so everything that scores
 * through one view (the margin objective, its thresholds, its gradient in f) works on the ensemble.
 */
import * as tf from '@tensorflow/tfjs';
import { ConfigError } from '../core/errors.js';
import { tidyToHost } from '../core/host.js';
import type { LatentRecommender } from './models.js';

export interface LinearView {
  /** d: k + kVisual + 1 (VBPR/AMR), k (DeepStyle), the members' sum (ensemble). */
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

/** The linear view of a fitted VBPR, AMR or DeepStyle model (see the header). */
export function linearView(m: LatentRecommender): LinearView {
  if (m.kind === 'deepstyle') return deepStyleView(m);
  if (m.kind !== 'vbpr' && m.kind !== 'amr') throw new ConfigError(`a linear surrogate view exists for VBPR, AMR and DeepStyle, not ${m.kind}`);
  const D = m.featureDim;
  const k = m.param('gu').shape[1]!;
  const kv = m.param('E').shape[1]!;
  const arrays = tidyToHost(() => {
    const c0 = m.preprocess(tf.zeros([1, D]) as tf.Tensor2D); // 1 x w
    const A = tf.sub(m.preprocess(tf.eye(D) as tf.Tensor2D), c0); // D x w
    const E = m.param('E'); // w x kVisual
    const bp = tf.reshape(m.param('bp'), [-1, 1]); // w x 1
    const gu = m.param('gu');
    const gi = m.param('gi');
    const U = gu.shape[0]!;
    const I = gi.shape[0]!;
    const user = tf.concat([gu, m.param('tu'), tf.ones([U, 1])], 1);
    const itemId = tf.concat([gi, tf.zeros([I, kv]), tf.reshape(m.param('bi'), [-1, 1])], 1);
    const proj = tf.concat([tf.zeros([D, k]), tf.matMul(A, E), tf.matMul(A, bp)], 1);
    const projBias = tf.concat([tf.zeros([1, k]), tf.matMul(c0, E), tf.matMul(c0, bp)], 1);
    return { user, itemId, proj, projBias };
  });
  return { dim: k + kv + 1, ...arrays };
}

/** DeepStyle: p_u . (q_i - l_c(i) + norm(f) E). */
function deepStyleView(m: LatentRecommender): LinearView {
  const cat = m.itemCategories();
  if (!cat) throw new ConfigError('DeepStyle linear view: the model has no item categories');
  const D = m.featureDim;
  const arrays = tidyToHost(() => {
    const c0 = m.preprocess(tf.zeros([1, D]) as tf.Tensor2D);
    const A = tf.sub(m.preprocess(tf.eye(D) as tf.Tensor2D), c0);
    const E = m.param('E'); // w x k
    const itemId = tf.sub(m.param('Q'), tf.gather(m.param('L'), tf.tensor1d(cat, 'int32')));
    return { user: tf.clone(m.param('P')), itemId, proj: tf.matMul(A, E), projBias: tf.matMul(c0, E) };
  });
  return { dim: m.param('E').shape[1]!, ...arrays };
}

/** One view whose score is the mean of the members' scores (see the header). */
export function ensembleView(members: readonly LinearView[]): LinearView {
  if (members.length === 0) throw new ConfigError('ensemble surrogate: no members');
  const dim = members.reduce((a, v) => a + v.dim, 0);
  const rowsOf = (v: LinearView, key: 'user' | 'itemId' | 'proj'): number => v[key].length / v.dim;
  const join = (key: 'user' | 'itemId' | 'proj', scale: number): Float32Array => {
    const n = rowsOf(members[0]!, key);
    for (const v of members) if (rowsOf(v, key) !== n) throw new ConfigError(`ensemble surrogate: members disagree on the number of ${key} rows`);
    const out = new Float32Array(n * dim);
    let off = 0;
    for (const v of members) {
      for (let r = 0; r < n; r++) for (let j = 0; j < v.dim; j++) out[r * dim + off + j] = v[key][r * v.dim + j]! * scale;
      off += v.dim;
    }
    return out;
  };
  const projBias = new Float32Array(dim);
  let off = 0;
  for (const v of members) {
    projBias.set(v.projBias, off);
    off += v.dim;
  }
  return { dim, user: join('user', 1 / members.length), itemId: join('itemId', 1), proj: join('proj', 1), projBias };
}

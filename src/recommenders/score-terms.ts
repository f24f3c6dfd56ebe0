/**
 * A victim's score s(u, i) as a list of terms (see scoreTerms in ./models.ts): user terms, item terms
 * and user-item dot products. Training sums them per aligned (user, item) pair; scoring evaluates
 * them for every user x item with `scoreMatrix` (`pairSum` for the pairs).
 */
import * as tf from '@tensorflow/tfjs';

/** A term of a score: per user (broadcast over items), per item, or a user-item dot product. */
export type ScoreTerm = { side: 'user' | 'item'; value: tf.Tensor } | { side: 'dot'; user: tf.Tensor; item: tf.Tensor };
export const userTerm = (value: tf.Tensor): ScoreTerm => ({ side: 'user', value });
export const itemTerm = (value: tf.Tensor): ScoreTerm => ({ side: 'item', value });
export const dotTerm = (user: tf.Tensor, item: tf.Tensor): ScoreTerm => ({ side: 'dot', user, item });

/** Scores of aligned pairs from terms over B user rows and B item rows: the terms added in order. */
export function pairSum(terms: readonly ScoreTerm[]): tf.Tensor1D {
  const value = (t: ScoreTerm): tf.Tensor => (t.side === 'dot' ? t.user.mul(t.item).sum(1) : t.value);
  const [first, ...rest] = terms;
  return rest.reduce((acc, t) => acc.add(value(t)), value(first!)) as tf.Tensor1D;
}

/**
 * Users x items scores from terms over U user rows and I item rows: the dot products as one
 * matMul of the concatenated factors, plus the item terms as a row and the user terms as a column.
 */
export function scoreMatrix(terms: readonly ScoreTerm[]): tf.Tensor2D {
  const dots = terms.filter((t): t is Extract<ScoreTerm, { side: 'dot' }> => t.side === 'dot');
  const sum = (side: 'user' | 'item'): tf.Tensor | null =>
    terms.reduce<tf.Tensor | null>((acc, t) => (t.side !== side ? acc : acc ? acc.add(t.value) : t.value), null);
  const cat = (xs: tf.Tensor[]): tf.Tensor2D => (xs.length === 1 ? xs[0]! : tf.concat(xs, 1)) as tf.Tensor2D;
  let s: tf.Tensor2D = tf.matMul(cat(dots.map((t) => t.user)), cat(dots.map((t) => t.item)).transpose());
  const itemSum = sum('item'), userSum = sum('user');
  if (itemSum) s = s.add(itemSum.reshape([1, -1]));
  if (userSum) s = s.add(userSum.reshape([-1, 1]));
  return s;
}

/**
 * Recommender contract (spec section 3), in the spirit of Cornac's fit/score/rank.
 *
 * Visual recommenders score an item from its feature vector f_i = F(x_i). `scoreWithFeatures` is
 * the differentiable entry point attacks use: it scores given users against items whose visual
 * features are supplied explicitly (e.g. features of an adversarial image).
 */
import type * as tf from '@tensorflow/tfjs';

export type VictimKind = 'bpr-mf' | 'vbpr' | 'deepstyle' | 'amr';

/** Whether a victim of this kind scores items from their images (`Recommender.visual`); BPR-MF is the non-visual control. */
export function isVisualKind(kind: VictimKind): boolean {
  return kind !== 'bpr-mf';
}

/** What a recommender is trained on. */
export interface TrainingData {
  numUsers: number;
  numItems: number;
  /** train[u]: training items of user u (arrays, or compact views such as ItemLists.views()). */
  train: readonly (ArrayLike<number> & Iterable<number>)[];
  /** validation[u]: held-out item or -1 (early stopping). */
  validation: Int32Array;
  /** Items never sampled as negatives (the attack targets). */
  excludedNegatives: ReadonlySet<number>;
  /** numItems x featureDim item features from the victim encoder F (visual models only). */
  itemFeatures?: tf.Tensor2D;
  /** Category index per item (DeepStyle), or null. */
  itemCategory?: Int32Array | null;
  numCategories?: number;
}

export interface FitReport {
  epochs: number;
  /** Per-epoch mean BPR loss. */
  lossCurve: number[];
  /** Per-evaluation validation metric (e.g. HR@10) used for early stopping. */
  validationCurve: number[];
  bestEpoch: number;
  seconds: number;
}

export interface Recommender {
  readonly kind: VictimKind;
  /** Whether the score depends on item images. */
  readonly visual: boolean;
  fit(data: TrainingData): Promise<FitReport>;
  /**
   * Scores s(u, i) for every pair of `users` x `items`, using the item features the model was
   * fitted with (or last given to `setItemFeatures`). Returns users.length x items.length.
   */
  score(users: Int32Array, items: Int32Array): tf.Tensor2D;
  /**
   * Differentiable scores of `users` against items `items` whose visual features are `features`
   * (items.length x featureDim). Non-visual models ignore `features`.
   */
  scoreWithFeatures(users: Int32Array, items: Int32Array, features: tf.Tensor2D): tf.Tensor2D;
  /** Replace the stored item features (e.g. after recomputing F on new images). */
  setItemFeatures(features: tf.Tensor2D): void;
  /** Top-k item indices for `user`, excluding the user's training items when `excludeSeen`. */
  rank(user: number, k: number, excludeSeen: boolean): Promise<number[]>;
  save(dir: string): Promise<void>;
  dispose(): void;
}

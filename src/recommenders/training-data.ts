/** The TrainingData of a dataset's leave-one-out split, for every victim (spec section 3). */
import type * as tf from '@tensorflow/tfjs';
import type { Dataset } from '../data/dataset.js';
import type { TrainingData } from './recommender.js';

/** Training split, validation items, targets excluded from negatives, F features and categories. */
export function victimTrainingData(ds: Dataset, itemFeatures?: tf.Tensor2D): TrainingData {
  return {
    numUsers: ds.userIds.length,
    numItems: ds.itemIds.length,
    train: ds.split.train,
    validation: ds.split.validation,
    excludedNegatives: new Set(ds.targets),
    ...(itemFeatures ? { itemFeatures } : {}),
    itemCategory: ds.itemCategory,
    numCategories: Math.max(1, ds.categoryNames.length),
  };
}

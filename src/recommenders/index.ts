/** Victim recommenders (spec section 3). */
export * from './recommender.js';
export * from './models.js';
export * from './training-data.js';

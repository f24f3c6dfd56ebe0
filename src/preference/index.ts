/** The attacker's preference encoder (spec section 5): LightGCN ID view + visual KNN view. */
export * from './graph.js';
export * from './model.js';
export * from './train.js';

/** Public API of the auv-fusion toolkit. */
export { initEngine, engineBackend, type BackendName } from './core/engine.js';
export { Rng } from './core/rng.js';
export { InputError, ConfigError, KnowledgeError } from './core/errors.js';
export { configHash, stableStringify } from './core/hash.js';
export * from './data/dataset.js';
export type * from './encoders/encoder.js';
export type * from './recommenders/recommender.js';
export * from './attacks/attack.js';

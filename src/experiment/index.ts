/** Experiments (spec section 11): config, cache, runner, results. */
export * from './config.js';
export * from './cache.js';
export * from './results.js';
export * from './runner.js';

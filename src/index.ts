/** Public API of the auv-fusion toolkit (one module per spec section). */
export { initEngine, engineBackend, wasmThreads, type BackendName } from './core/engine.js';
export { Rng } from './core/rng.js';
export { InputError, ConfigError, KnowledgeError } from './core/errors.js';
export { configHash, stableStringify } from './core/hash.js';
export { fastAdam, FastAdamOptimizer } from './core/kernels/adam.js';
export * from './data/index.js';
export * from './data/loaders/index.js';
export * from './encoders/index.js';
export * from './onnx/index.js';
export * from './recommenders/index.js';
export * from './preference/index.js';
export {
  DDIMScheduler,
  DEFAULT_DDIM_CONFIG,
  LatentDiffusion,
  loadDiffusion,
  trainDiffusion,
  ddimSample,
  chainGrad,
  chainPlan,
  type DDIMSchedulerConfig,
  type DiffusionModelConfig,
  type DiffusionTrainConfig,
} from './diffusion/index.js';
export * from './attacks/attack.js';
export { createAttack, listAttacks } from './attacks/registry.js';
export { createAuvFusionAttack, AUV_FUSION_VARIANTS, sweepVariants } from './attacks/auv-fusion/index.js';
export * from './evaluation/image-metrics.js';
export * from './evaluation/full-ranking.js';
export * from './evaluation/accuracy.js';
export { evaluateAip, type AipResult } from './evaluation/aip-protocol.js';
export * from './evaluation/ranking-metrics.js';
export * from './evaluation/detector.js';
export * from './defences/index.js';
export * from './experiment/index.js';
export { renderReport } from './report/index.js';

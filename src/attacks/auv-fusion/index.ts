/**
 * AUV-Fusion (spec section 7): `createAuvFusionAttack(params, variant)` for the attack registry,
 * the named variants and the sweep helper.
 */
export { createAuvFusionAttack, AuvFusionAttack, type SurrogateHandle } from './attack.js';
export { AUV_FUSION_VARIANTS, VARIANT_OVERRIDES, auvFusionParams, auvFusionSchema, sweepVariants, variantOverrides, type AuvFusionParams } from './config.js';
export { chainGrad, chainPlan, ddimStep, decodeImage, noisyLatent, runChain, type ChainModel, type ChainPlan } from '../../diffusion/chain.js';
export { toChainModel } from './diffusion-adapter.js';
export { DeltaMlp } from './generator.js';

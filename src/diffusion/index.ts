/**
 * Latent diffusion (spec section 6): VAE, UNet, DDIM scheduler, training and the shipped default
 * checkpoint. AUV-Fusion uses `LatentDiffusion` through encode / decode / predictNoise / scheduler.
 */
export { DDIMScheduler, DEFAULT_DDIM_CONFIG, makeBetas, type DDIMSchedulerConfig, type StepOptions, type StepOutput } from './scheduler.js';
export { Vae, DEFAULT_VAE_CONFIG, type VaeConfig } from './vae.js';
export { Unet, DEFAULT_UNET_CONFIG, type UnetConfig } from './unet.js';
export { LatentDiffusion, loadDiffusion, defaultCheckpointDir, DEFAULT_DIFFUSION_MODEL_CONFIG, type DiffusionModelConfig } from './model.js';
export { trainDiffusion, diffusionItemSplit, DEFAULT_DIFFUSION_TRAIN_CONFIG, type DiffusionTrainConfig, type DiffusionTrainResult } from './train.js';
export { ddimSample } from './sample.js';
export { chainGrad, chainPlan, ddimStep, decodeImage, noisyLatent, runChain, type ChainModel, type ChainPlan, type ChainGradResult, type ChainScheduler } from './chain.js';

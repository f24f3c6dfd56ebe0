// A LatentDiffusion small enough for unit tests (16 px images, 8-16 channels), shared by the model
// tests and the checkpoint-conversion test.
import type { DiffusionModelConfig } from '../src/diffusion/model.js';

export const TINY_DIFFUSION_CONFIG: DiffusionModelConfig = {
  imageSize: 16,
  vae: { channels: [8, 8, 8], latentChannels: 4, groups: 4 },
  unet: { channels: [8, 16], groups: 4, timeEmbedDim: 8, attention: true },
  scheduler: { clipSample: false },
};

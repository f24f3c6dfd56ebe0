/**
 * The latent diffusion model (spec section 6): VAE (E, D), UNet eps_theta and a DDIM scheduler,
 * with the interface AUV-Fusion uses: encode / decode / predictNoise / scheduler / latentShape.
 * Latents are NHWC and scaled by `latentScale` (like Stable Diffusion's 0.18215) so that they have
 * about unit standard deviation.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { InputError } from '../core/errors.js';
import { Rng } from '../core/rng.js';
import { DDIMScheduler, type DDIMSchedulerConfig } from './scheduler.js';
import { Unet, DEFAULT_UNET_CONFIG, type UnetConfig } from './unet.js';
import { Vae, DEFAULT_VAE_CONFIG, type VaeConfig } from './vae.js';
import { assignVariables, loadModel, MANIFEST_FILE, saveModel } from '../core/weights.js';

export interface DiffusionModelConfig {
  imageSize: number;
  vae: VaeConfig;
  unet: UnetConfig;
  scheduler: Partial<DDIMSchedulerConfig>;
}

/** Defaults: 64x64 images -> 16x16x4 latents; SD-style scaled-linear betas. */
export const DEFAULT_DIFFUSION_MODEL_CONFIG: DiffusionModelConfig = {
  imageSize: 64,
  vae: DEFAULT_VAE_CONFIG,
  unet: DEFAULT_UNET_CONFIG,
  scheduler: { numTrainTimesteps: 1000, betaSchedule: 'scaled_linear', betaStart: 0.00085, betaEnd: 0.012, clipSample: false, setAlphaToOne: false, stepsOffset: 1 },
};

/** The `config` of a diffusion model folder (src/core/weights.ts). */
export interface CheckpointMeta {
  diffusion: DiffusionModelConfig;
  latentScale: number;
  /** Free-form training record (data, steps, losses, metrics). */
  training?: Record<string, unknown>;
}

export class LatentDiffusion {
  readonly vae: Vae;
  readonly unet: Unet;
  readonly scheduler: DDIMScheduler;
  /** Multiplier applied to VAE latent means (1/std of training latents). */
  latentScale = 1;
  training: Record<string, unknown> = {};

  constructor(
    readonly config: DiffusionModelConfig,
    rng: Rng,
  ) {
    this.vae = new Vae(config.vae, rng.fork('vae-init'));
    this.unet = new Unet(config.unet, config.vae.latentChannels, rng.fork('unet-init'));
    this.scheduler = new DDIMScheduler(config.scheduler);
  }

  get imageSize(): number {
    return this.config.imageSize;
  }

  /** Latent shape [h, w, c] (NHWC). */
  get latentShape(): [number, number, number] {
    const s = this.config.imageSize / this.vae.factor;
    return [s, s, this.config.vae.latentChannels];
  }

  /** E: images in [0,1] -> scaled latent means (deterministic, differentiable). */
  encode(x: tf.Tensor4D): tf.Tensor4D {
    return tf.tidy(() => {
      const sized = x.shape[1] === this.imageSize && x.shape[2] === this.imageSize ? x : tf.image.resizeBilinear(x, [this.imageSize, this.imageSize], true);
      return tf.mul(this.vae.encodeMoments(sized).mean, this.latentScale) as tf.Tensor4D;
    });
  }

  /** D: scaled latents -> images in (0,1) (differentiable; callers clip). */
  decode(z: tf.Tensor4D): tf.Tensor4D {
    return tf.tidy(() => this.vae.decode(tf.div(z, this.latentScale) as tf.Tensor4D));
  }

  /** eps_theta(z_t, t), differentiable in z_t. */
  predictNoise(zt: tf.Tensor4D, t: number | readonly number[]): tf.Tensor4D {
    return this.unet.predict(zt, t);
  }

  parameterCount(): number {
    return this.vae.params.count() + this.unet.params.count();
  }

  /** The weights by name: `vae/<param>`, `unet/<param>`. */
  namedWeights(): Map<string, tf.Variable> {
    const all = new Map<string, tf.Variable>();
    for (const [k, v] of this.vae.params.vars) all.set(`vae/${k}`, v);
    for (const [k, v] of this.unet.params.vars) all.set(`unet/${k}`, v);
    return all;
  }

  /** Write config + weights to `dir` as a model folder (tensors.bin, then manifest.json; other files kept). */
  async save(dir: string, dtype: 'float32' | 'float16' = 'float32'): Promise<void> {
    const config: CheckpointMeta = { diffusion: this.config, latentScale: this.latentScale, training: this.training };
    await saveModel(dir, { kind: 'latent-diffusion', config, tensors: this.namedWeights() }, dtype);
  }

  /** Load a checkpoint directory written by save(). */
  static async load(dir: string): Promise<LatentDiffusion> {
    const file = await loadModel<CheckpointMeta>(dir, 'latent-diffusion');
    const model = new LatentDiffusion(file.config.diffusion, new Rng(0));
    try {
      assignVariables(model.namedWeights(), file, dir);
    } catch (err) {
      model.dispose();
      throw err;
    }
    model.latentScale = file.config.latentScale;
    model.training = file.config.training ?? {};
    return model;
  }

  dispose(): void {
    this.vae.dispose();
    this.unet.dispose();
  }
}

/** The shipped default checkpoint (trained on the `default` synthetic catalogue). */
export function defaultCheckpointDir(): string {
  return path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'assets', 'diffusion', 'default');
}

/** Load a checkpoint; without `dir`, the shipped default. */
export async function loadDiffusion(dir?: string): Promise<LatentDiffusion> {
  const d = dir ?? defaultCheckpointDir();
  if (!dir && !existsSync(path.join(d, MANIFEST_FILE)))
    throw new InputError('the default diffusion checkpoint is missing; train one with `auv-fusion train diffusion`', d);
  return LatentDiffusion.load(d);
}

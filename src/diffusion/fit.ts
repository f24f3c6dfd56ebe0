/**
 * Fitting the attacker's diffusion model to the user's images (issue 18, `diffusion: { fit: ... }`
 * in the experiment config): fine-tunes a checkpoint (the shipped one by default) on the dataset's
 * non-target images with the ordinary two-phase training of ./train.ts (VAE, then UNet), so it
 * inherits that code's atomic checkpoints, exact resume after a kill, and progress bars with ETA.
 *
 * The base checkpoint's networks are convolutional, so a model trained at 64 px is fine-tuned at
 * the dataset's own image size (e.g. 128 px: latents 32 x 32) with the same weights.
 */
import { z } from 'zod';
import { Rng } from '../core/rng.js';
import type { Dataset } from '../data/dataset.js';
import { LatentDiffusion, loadDiffusion } from './model.js';
import { trainDiffusion, type DiffusionTrainConfig, type DiffusionTrainResult } from './train.js';

export const DiffusionFitSchema = z
  .object({
    /** Optimisation steps of the VAE phase and of the UNet phase. */
    vaeSteps: z.number().int().min(0).max(100000).default(150),
    unetSteps: z.number().int().min(0).max(100000).default(300),
    /** Mini-batch size of both phases. */
    batch: z.number().int().min(1).max(256).default(16),
    /** Adam learning rates (lower than training from scratch: this is fine-tuning). */
    vaeLr: z.number().positive().max(1).default(5e-4),
    unetLr: z.number().positive().max(1).default(2e-4),
    /** Checkpoint every this many steps (a killed fit resumes from the last one). */
    checkpointEvery: z.number().int().min(1).default(25),
    /** Seed of batches and noise. */
    seed: z.number().int().min(0).default(1),
    /** At most this many non-target images in memory for training. */
    maxImages: z.number().int().min(1).default(4000),
  })
  .strict();
export type DiffusionFitConfig = z.infer<typeof DiffusionFitSchema>;

/** The base model, re-instantiated at `size` px when it was trained at another size. */
export async function baseForSize(from: string | undefined, size: number): Promise<LatentDiffusion> {
  const base = await loadDiffusion(from);
  if (base.imageSize === size) return base;
  const model = new LatentDiffusion({ ...base.config, imageSize: size }, new Rng(0));
  for (const [src, dst] of [[base.vae.params.vars, model.vae.params.vars], [base.unet.params.vars, model.unet.params.vars]] as const)
    for (const [k, v] of dst) v.assign(src.get(k)!);
  model.latentScale = base.latentScale;
  model.training = base.training;
  base.dispose();
  return model;
}

/** The training settings of a fit at `size` px, on top of the base model's architecture. */
export function fitTrainConfig(fit: DiffusionFitConfig, base: LatentDiffusion): DiffusionTrainConfig {
  return {
    model: base.config,
    seed: fit.seed,
    vae: { steps: fit.vaeSteps, batch: fit.batch, lr: fit.vaeLr, klWeight: 1e-5 },
    unet: { steps: fit.unetSteps, batch: fit.batch, lr: fit.unetLr },
    checkpointEvery: fit.checkpointEvery,
    holdoutFraction: 0.05,
    maxImages: fit.maxImages,
    dtype: 'float32',
  };
}

/**
 * Fine-tune `from` (default: the shipped checkpoint) on the non-target items of `ds`; the fitted
 * model is written to `outDir` (and its checkpoints to outDir/checkpoint while it runs).
 * `stopAfterSteps` stops early (tests simulate a kill with it); call again to resume.
 */
export async function fitDiffusion(
  ds: Dataset,
  fit: DiffusionFitConfig,
  opts: { outDir: string; from?: string; stopAfterSteps?: number; quiet?: boolean },
): Promise<DiffusionTrainResult> {
  const base = await baseForSize(opts.from, ds.images.size);
  const targets = new Set(ds.targets);
  const items = Array.from({ length: ds.itemIds.length }, (_, i) => i).filter((i) => !targets.has(i));
  const res = await trainDiffusion(ds, fitTrainConfig(fit, base), {
    outDir: opts.outDir,
    init: base,
    items,
    ...(opts.stopAfterSteps !== undefined ? { stopAfterSteps: opts.stopAfterSteps } : {}),
    ...(opts.quiet !== undefined ? { quiet: opts.quiet } : {}),
  });
  return res;
}

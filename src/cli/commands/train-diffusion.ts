/** `auv-fusion train diffusion ...`: train the latent diffusion model (VAE, then UNet). */
import path from 'node:path';
import type { Command } from 'commander';
import { openDataset } from '../../data/open.js';
import { DiffusionTrainSchema, trainDiffusion, type DiffusionTrainConfig } from '../../diffusion/train.js';
import { loadConfig } from '../../experiment/config.js';
import { commandGroup } from './group.js';
import { seedOption, trainConfig } from './train-config.js';

/** The training settings: the experiment config's `diffusionTrain` (defaults < --config file < --seed), validated before anything is read or trained. */
export function diffusionTrainConfig(data: string, file: string | undefined, seed: string | undefined): { dataset: string; train: DiffusionTrainConfig } {
  const cfg = loadConfig(trainConfig(data, file, seed !== undefined ? [`diffusionTrain.seed=${seedOption(seed)}`] : []));
  return { dataset: cfg.dataset, train: cfg.diffusionTrain ?? DiffusionTrainSchema.parse({}) };
}

export function registerTrainDiffusionCommands(program: Command): void {
  commandGroup(program, 'train', 'Train models (encoders, victims, surrogate, diffusion)')
    .command('diffusion')
    .description('Train the latent diffusion model (VAE then UNet) on a dataset; resumes from its last checkpoint')
    .requiredOption('--data <dir>', "dataset folder or synth:<profile>[:<seed>]")
    .option('--config <file>', "experiment config (YAML/JSON): its 'diffusionTrain' options (model, seed, vae, unet, checkpointEvery, holdoutFraction, maxImages, dtype)")
    .option('--out <dir>', 'output checkpoint folder', 'diffusion-checkpoint')
    .option('--seed <n>', "training seed (overrides the config's diffusionTrain.seed)")
    .action(async (o: { data: string; config?: string; out: string; seed?: string }) => {
      const { dataset, train } = diffusionTrainConfig(o.data, o.config, o.seed);
      const ds = await openDataset(dataset);
      const cfg = ds.images.size === train.model.imageSize ? train : { ...train, model: { ...train.model, imageSize: ds.images.size } };
      const res = await trainDiffusion(ds, cfg, { outDir: path.resolve(o.out) });
      if (res.resumedFrom) process.stderr.write(`resumed from ${res.resumedFrom.phase} step ${res.resumedFrom.step}\n`);
      process.stdout.write(
        `wrote ${path.resolve(o.out)}: ${res.model.parameterCount()} parameters, latent ${res.model.latentShape.join('x')}, ` +
          `final VAE loss ${String(res.model.training.finalVaeLoss)}, UNet loss ${String(res.model.training.finalUnetLoss)}, ${String(res.model.training.seconds)} s\n`,
      );
      res.model.dispose();
    });
}

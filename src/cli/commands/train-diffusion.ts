/** `auv-fusion train diffusion ...`: train the latent diffusion model (VAE, then UNet). */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { parse as parseYaml } from 'yaml';
import { ConfigError, InputError } from '../../core/errors.js';
import { openDataset } from '../../data/open.js';
import { DEFAULT_DIFFUSION_TRAIN_CONFIG, trainDiffusion, type DiffusionTrainConfig } from '../../diffusion/train.js';
import { commandGroup } from './group.js';

/** Deep-merge a user config (JSON or YAML) over the defaults; unknown keys are errors. */
export function mergeDiffusionConfig(base: DiffusionTrainConfig, user: unknown, file: string): DiffusionTrainConfig {
  const merge = (b: unknown, u: unknown, at: string): unknown => {
    if (u === undefined) return b;
    if (b !== null && typeof b === 'object' && !Array.isArray(b)) {
      if (u === null || typeof u !== 'object' || Array.isArray(u)) throw new ConfigError(`${file}: '${at}' must be a mapping`);
      const out: Record<string, unknown> = { ...(b as Record<string, unknown>) };
      for (const [k, v] of Object.entries(u as Record<string, unknown>)) {
        if (!(k in out)) throw new ConfigError(`${file}: unknown key '${at ? at + '.' : ''}${k}'; allowed: ${Object.keys(out).join(', ')}`);
        out[k] = merge(out[k], v, at ? `${at}.${k}` : k);
      }
      return out;
    }
    if (typeof b === 'number' && typeof u !== 'number') throw new ConfigError(`${file}: '${at}' must be a number`);
    if (typeof b === 'string' && typeof u !== 'string') throw new ConfigError(`${file}: '${at}' must be a string`);
    return u;
  };
  return merge(base, user, '') as DiffusionTrainConfig;
}

export function registerTrainDiffusionCommands(program: Command): void {
  commandGroup(program, 'train', 'Train models (encoders, victims, surrogate, diffusion)')
    .command('diffusion')
    .description('Train the latent diffusion model (VAE then UNet) on a dataset; resumes from its last checkpoint')
    .requiredOption('--data <dir>', "dataset folder or synth:<profile>[:<seed>]")
    .option('--config <file>', 'YAML/JSON overrides of the training config (model, vae, unet, seed, ...)')
    .option('--out <dir>', 'output checkpoint folder', 'diffusion-checkpoint')
    .option('--seed <n>', 'training seed (overrides the config)')
    .action(async (o: { data: string; config?: string; out: string; seed?: string }) => {
      let cfg = DEFAULT_DIFFUSION_TRAIN_CONFIG;
      if (o.config) {
        let text: string;
        try {
          text = readFileSync(o.config, 'utf8');
        } catch (err) {
          throw new InputError(`cannot read config (${(err as Error).message})`, o.config);
        }
        cfg = mergeDiffusionConfig(cfg, parseYaml(text), o.config);
      }
      if (o.seed !== undefined) {
        const s = Number(o.seed);
        if (!Number.isInteger(s) || s < 0) throw new ConfigError(`--seed must be a non-negative integer, got '${o.seed}'`);
        cfg = { ...cfg, seed: s };
      }
      const ds = await openDataset(o.data);
      if (ds.images.size !== cfg.model.imageSize) cfg = { ...cfg, model: { ...cfg.model, imageSize: ds.images.size } };
      const res = await trainDiffusion(ds, cfg, { outDir: path.resolve(o.out) });
      if (res.resumedFrom) process.stderr.write(`resumed from ${res.resumedFrom.phase} step ${res.resumedFrom.step}\n`);
      process.stdout.write(
        `wrote ${path.resolve(o.out)}: ${res.model.parameterCount()} parameters, latent ${res.model.latentShape.join('x')}, ` +
          `final VAE loss ${String(res.model.training.finalVaeLoss)}, UNet loss ${String(res.model.training.finalUnetLoss)}, ${String(res.model.training.seconds)} s\n`,
      );
      res.model.dispose();
    });
}

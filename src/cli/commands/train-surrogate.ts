/** `auv-fusion train surrogate ...`: the attacker's preference encoder (spec section 5) */
import type { Command } from 'commander';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { ConfigError, InputError } from '../../core/errors.js';
import { writeDirAtomic, writeJsonAtomic } from '../../core/fsutil.js';
import { openDataset } from '../../data/open.js';
import type { ImageEncoder } from '../../encoders/encoder.js';
import { preferenceConfig } from '../../preference/model.js';
import { itemFeatures, trainSurrogate } from '../../preference/train.js';
import { commandGroup } from './group.js';

interface Opts {
  data: string;
  out: string;
  encoder?: string;
  features?: string;
  config?: string;
  seed: string;
  epochs?: string;
  views?: string;
}

/** Load the surrogate encoder G saved by `train encoders` (module loaded lazily). */
async function loadSurrogateEncoder(dir: string): Promise<ImageEncoder> {
  const spec = '../../encoders/index.js';
  let mod: Record<string, unknown>;
  try {
    mod = (await import(spec)) as Record<string, unknown>;
  } catch {
    throw new ConfigError('no image encoder module is available in this build; pass --features FILE instead');
  }
  const load = mod.loadEncoder as ((d: string) => Promise<ImageEncoder>) | undefined;
  if (typeof load !== 'function') throw new ConfigError('the encoders module exports no loadEncoder(dir); pass --features FILE instead');
  return load(dir);
}

export function registerTrainSurrogateCommands(program: Command): void {
  commandGroup(program, 'train', 'Train models')
    .command('surrogate')
    .description("Train the attacker's surrogate recommender (LightGCN ID view + visual KNN view, BPR)")
    .requiredOption('--data <dir>', "dataset folder, or synth:<profile>[:<seed>]")
    .requiredOption('--out <dir>', 'output folder (model.json + weights.bin, replaced atomically)')
    .option('--encoder <dir>', 'surrogate image encoder G saved by `train encoders`')
    .option('--features <file>', 'precomputed G features: raw little-endian float32, numItems x dim')
    .option('--config <file>', 'YAML/JSON with layers, dim, k, lr, epochs, batchSize, weightDecay, views')
    .option('--seed <n>', 'random seed', '1')
    .option('--epochs <n>', 'override epochs')
    .option('--views <v>', 'both | id | visual (ablations)')
    .action(async (o: Opts) => {
      const seed = Number(o.seed);
      if (!Number.isInteger(seed) || seed < 0) throw new ConfigError(`--seed must be a non-negative integer, got '${o.seed}'`);
      let cfg: Record<string, unknown> = {};
      if (o.config) {
        let text: string;
        try {
          text = await fs.readFile(o.config, 'utf8');
        } catch (err) {
          throw new InputError(`cannot read config: ${(err as Error).message}`, o.config);
        }
        const parsed: unknown = YAML.parse(text);
        if (parsed !== null && (typeof parsed !== 'object' || Array.isArray(parsed))) throw new InputError('config must be a mapping of keys to values', o.config);
        cfg = (parsed ?? {}) as Record<string, unknown>;
      }
      if (o.epochs !== undefined) cfg.epochs = Number(o.epochs);
      if (o.views !== undefined) cfg.views = o.views;
      const config = preferenceConfig(cfg);
      const ds = await openDataset(o.data);
      const n = ds.itemIds.length;
      let features: { data: Float32Array; dim: number };
      if (o.features) {
        const buf = await fs.readFile(o.features).catch((err: Error) => {
          throw new InputError(`cannot read features: ${err.message}`, o.features);
        });
        if (buf.byteLength % (4 * n) !== 0) throw new InputError(`file has ${buf.byteLength} bytes, not a multiple of 4 x ${n} items`, o.features);
        features = { data: new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength)), dim: buf.byteLength / (4 * n) };
      } else if (o.encoder) {
        const enc = await loadSurrogateEncoder(o.encoder);
        features = await itemFeatures(enc, ds);
        enc.dispose();
      } else if (ds.precomputedFeatures) {
        features = { data: ds.precomputedFeatures.data, dim: ds.precomputedFeatures.dim };
      } else {
        throw new ConfigError('the surrogate needs item features: pass --encoder DIR (surrogate G) or --features FILE');
      }
      const { model, report } = await trainSurrogate(ds, features, config, seed);
      await writeDirAtomic(o.out, async (tmp) => {
        await model.save(tmp);
        await writeJsonAtomic(path.join(tmp, 'report.json'), { dataset: ds.info, seed, ...report });
      });
      process.stdout.write(`surrogate recommender (${config.views}) trained in ${report.seconds.toFixed(1)} s, final BPR loss ${report.lossCurve.at(-1)?.toFixed(4)}; written to ${o.out}\n`);
    });
}

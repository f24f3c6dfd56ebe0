/** `auv-fusion train surrogate ...`: the attacker's preference encoder (spec section 5) */
import type { Command } from 'commander';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { ConfigError, InputError } from '../../core/errors.js';
import { writeDirAtomic, writeJsonAtomic } from '../../core/fsutil.js';
import { openDataset } from '../../data/open.js';
import { loadEncoder } from '../../encoders/resnet.js';
import { loadConfig } from '../../experiment/config.js';
import { trainSurrogate } from '../../preference/train.js';
import { surrogateFeatures } from '../../experiment/stages/prepare.js';
import { commandGroup } from './group.js';
import { seedOption, trainConfig } from './train-config.js';

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

export function registerTrainSurrogateCommands(program: Command): void {
  commandGroup(program, 'train', 'Train models')
    .command('surrogate')
    .description("Train the attacker's surrogate recommender (LightGCN ID view + visual KNN view, BPR)")
    .requiredOption('--data <dir>', "dataset folder, or synth:<profile>[:<seed>]")
    .requiredOption('--out <dir>', 'output model folder (manifest.json + tensors.bin, replaced atomically)')
    .option('--encoder <dir>', 'surrogate image encoder G saved by `train encoders`')
    .option('--features <file>', 'precomputed G features: raw little-endian float32, numItems x dim')
    .option('--config <file>', "experiment config (YAML/JSON): its 'surrogate' options (layers, dim, k, lr, epochs, batchSize, weightDecay, views)")
    .option('--seed <n>', 'random seed', '1')
    .option('--epochs <n>', 'override epochs')
    .option('--views <v>', 'both | id | visual (ablations)')
    .action(async (o: Opts) => {
      const seed = seedOption(o.seed);
      if (o.epochs !== undefined && !/^[1-9]\d*$/.test(o.epochs)) throw new ConfigError(`--epochs must be a positive integer, got '${o.epochs}'`);
      const sets = [`seeds=[${seed}]`, ...(o.epochs !== undefined ? [`surrogate.epochs=${o.epochs}`] : []), ...(o.views !== undefined ? [`surrogate.views=${o.views}`] : [])];
      const config = loadConfig(trainConfig(o.data, o.config, sets)).surrogate;
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
        const enc = await loadEncoder(o.encoder);
        features = await surrogateFeatures(ds, enc);
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

/** `auv-fusion data import --format aip|amazon|tradesy|features FILE... --out DIR`: real-world dataset loaders */
import { Option, type Command } from 'commander';
import path from 'node:path';
import { ConfigError, InputError } from '../../core/errors.js';
import type { Dataset } from '../../data/dataset.js';
import { writeDatasetFolder } from '../../data/folder-format.js';
import { loadAip } from '../../data/loaders/aip.js';
import { loadAmazon } from '../../data/loaders/amazon.js';
import { loadTradesy } from '../../data/loaders/tradesy.js';
import { writeFeatureFolder } from '../../data/loaders/feature-folder.js';
import { readLines } from '../../data/loaders/common.js';
import { commandGroup } from './group.js';

export const IMPORT_FORMATS = ['aip', 'amazon', 'tradesy', 'features'] as const;
type ImportFormat = (typeof IMPORT_FORMATS)[number];

interface ImportOpts {
  format: ImportFormat;
  out: string;
  images?: string;
  features?: string;
  imageSize: string;
  seed: string;
  name?: string;
  boughtOnly?: boolean;
  minUserInteractions: string;
}

function intOpt(name: string, raw: string, min: number): number {
  const v = Number(raw);
  if (!Number.isInteger(v) || v < min) throw new ConfigError(`--${name} must be an integer >= ${min}, got '${raw}'`);
  return v;
}

const USAGE: Record<ImportFormat, string> = {
  aip: 'aip: FILE.npy [COLD.npy]   (AmazonMenWithImgPartitioned.npy, TradesyImgPartitioned.npy, *_one_k_cold.npy)',
  amazon: 'amazon: REVIEWS.json[.gz] [META.json[.gz]] with --images DIR or --features FILE.b',
  tradesy: 'tradesy: tradesy.json with --images DIR or --features FILE.b',
  features: 'features: image_features_X.b INTERACTIONS (Amazon reviews or tradesy.json)',
};

/** Whether an interactions file is Tradesy's (uid/lists) rather than Amazon reviews. */
async function looksLikeTradesy(file: string): Promise<boolean> {
  for await (const { line } of readLines(file)) {
    if (!line.trim()) continue;
    return /['"]uid['"]\s*:/.test(line) || /['"]lists['"]\s*:/.test(line);
  }
  return false;
}

/** Load a dataset in one of the import formats (used by the CLI; exported for scripts). */
export async function importDataset(format: ImportFormat, files: string[], o: Omit<ImportOpts, 'format' | 'out'>): Promise<Dataset & { close?: () => void }> {
  const imageSize = intOpt('image-size', o.imageSize, 4);
  const seed = intOpt('seed', o.seed, 0);
  const need = (min: number, max: number): void => {
    if (files.length < min || files.length > max) throw new ConfigError(`--format ${format} takes ${min === max ? min : `${min} to ${max}`} file(s), got ${files.length}; usage: ${USAGE[format]}`);
  };
  const minUserInteractions = intOpt('min-user-interactions', o.minUserInteractions ?? '1', 1);
  const common = { imageSize, seed, minUserInteractions, ...(o.name ? { name: o.name } : {}) };
  const src = { ...(o.images ? { imagesDir: o.images } : {}), ...(o.features ? { featuresFile: o.features } : {}) };
  if (o.images && o.features) throw new ConfigError('give either --images or --features, not both');
  switch (format) {
    case 'aip':
      need(1, 2);
      if (o.images || o.features) throw new ConfigError('--format aip reads images from the .npy file; --images/--features do not apply');
      return loadAip(files[0]!, { imageSize, ...(files[1] ? { coldFile: files[1] } : {}), ...(o.name ? { name: o.name } : {}) });
    case 'amazon':
      need(1, 2);
      return loadAmazon(files[0]!, { ...common, ...src, ...(files[1] ? { metaFile: files[1] } : {}) });
    case 'tradesy':
      need(1, 1);
      return loadTradesy(files[0]!, { ...common, ...src, includeWant: !o.boughtOnly });
    case 'features': {
      need(2, 2);
      if (o.images) throw new ConfigError('--format features imports features only; use --format amazon|tradesy --images DIR for pixels');
      const [feat, inter] = files as [string, string];
      if (!feat.endsWith('.b')) throw new InputError('expected the VBPR feature binary (image_features_*.b) first', feat);
      return (await looksLikeTradesy(inter))
        ? loadTradesy(inter, { ...common, featuresFile: feat, includeWant: !o.boughtOnly })
        : loadAmazon(inter, { ...common, featuresFile: feat });
    }
  }
}

export function registerDataImportCommands(program: Command): void {
  const data = commandGroup(program, 'data', 'Datasets: generate the synthetic catalogue, inspect or import a dataset');
  data
    .command('import <files...>')
    .description('Convert a real dataset (AIP/DVBPR .npy, raw Amazon reviews, Tradesy, VBPR features) to the dataset folder format')
    .addOption(new Option('--format <name>', 'input format').choices([...IMPORT_FORMATS]).makeOptionMandatory())
    .requiredOption('--out <dir>', 'output folder (replaced atomically)')
    .option('--images <dir>', 'item images named <item id>.jpg|png|webp (amazon, tradesy)')
    .option('--features <file>', 'VBPR image_features_*.b precomputed features (amazon, tradesy): feature-only dataset')
    .option('--image-size <px>', 'side of the stored images', '64')
    .option('--seed <n>', 'seed of the leave-one-out split (amazon, tradesy)', '0')
    .option('--name <name>', 'dataset name (default: from the file name)')
    .option('--min-user-interactions <n>', 'amazon, tradesy, features: drop users with fewer distinct items (VBPR used 5)', '1')
    .option('--bought-only', "tradesy: use only 'bought' lists (default: bought + want)")
    .addHelpText('after', `\nFiles per format:\n  ${Object.values(USAGE).join('\n  ')}\n\nWith features only (no pixels) the output folder holds features.f32 instead of images; only feature-space attacks can run on it.`)
    .action(async (files: string[], o: ImportOpts) => {
      const t0 = Date.now();
      const ds = await importDataset(o.format, files, o);
      try {
        if (ds.images.hasPixels) await writeDatasetFolder(ds, o.out);
        else await writeFeatureFolder(ds, o.out);
      } finally {
        ds.close?.();
      }
      process.stdout.write(
        `wrote ${path.resolve(o.out)}: ${ds.userIds.length} users, ${ds.itemIds.length} items, ${ds.interactions.length} interactions, ${ds.targets.length} targets, ` +
          (ds.images.hasPixels ? `${ds.images.size}x${ds.images.size} images` : `features only (${ds.precomputedFeatures?.dim}-d), no pixels`) +
          ` (${((Date.now() - t0) / 1000).toFixed(1)} s)\n  source: ${ds.info.source}\n`,
      );
    });
}

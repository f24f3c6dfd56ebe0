/** `auv-fusion data synth|inspect ...` commands: datasets */
import { Option, type Command } from 'commander';
import path from 'node:path';
import { ConfigError } from '../../core/errors.js';
import { writeFileAtomic } from '../../core/fsutil.js';
import { Progress } from '../../core/progress.js';
import { CATALOGUE_PROFILES, synthesizeCatalogue, type CatalogueParams, type CatalogueProfile } from '../../data/synth/catalogue.js';
import { writeDatasetFolder } from '../../data/folder-format.js';
import { openDataset } from '../../data/open.js';
import { datasetContactSheet, datasetStats, formatStats } from '../../data/inspect.js';
import { commandGroup } from './group.js';

function intArg(name: string, raw: string | undefined, min: number): number | undefined {
  if (raw === undefined) return undefined;
  const v = Number(raw);
  if (!Number.isInteger(v) || v < min) throw new ConfigError(`--${name} must be an integer >= ${min}, got '${raw}'`);
  return v;
}

interface SynthOpts {
  profile: CatalogueProfile;
  seed: string;
  out: string;
  users?: string;
  items?: string;
  imageSize?: string;
  targets?: string;
}

interface InspectOpts {
  sheet?: string;
  perRow: string;
  quick?: boolean;
  strictImages?: boolean;
  imageSize?: string;
}

export function registerDataCommands(program: Command): void {
  const data = commandGroup(program, 'data', 'Datasets: generate the synthetic catalogue, inspect or import a dataset');

  data
    .command('synth')
    .description('Generate the embedded synthetic fashion catalogue and write it as a dataset folder')
    .addOption(new Option('--profile <name>', 'size profile').choices([...CATALOGUE_PROFILES]).default('default'))
    .option('--seed <n>', 'random seed (same seed, byte-identical files)', '1')
    .requiredOption('--out <dir>', 'output dataset folder (replaced atomically)')
    .option('--users <n>', 'override the number of users')
    .option('--items <n>', 'override the number of items')
    .option('--image-size <px>', 'override the image side in pixels')
    .option('--targets <n>', 'override the number of cold-start target items')
    .addHelpText('after', '\nProfiles: tiny (200 users, 300 items, 32px), default (2,000 / 3,000 / 64px), large (30,000 / 100,000 / 64px).')
    .action(async (o: SynthOpts) => {
      const seed = intArg('seed', o.seed, 0)!;
      const overrides: Partial<CatalogueParams> = {};
      const users = intArg('users', o.users, 1),
        items = intArg('items', o.items, 2),
        size = intArg('image-size', o.imageSize, 8),
        targets = intArg('targets', o.targets, 0);
      if (users !== undefined) overrides.numUsers = users;
      if (items !== undefined) overrides.numItems = items;
      if (size !== undefined) overrides.imageSize = size;
      if (targets !== undefined) overrides.numTargets = targets;
      const t0 = Date.now();
      const ds = synthesizeCatalogue({ profile: o.profile, seed, overrides });
      const t1 = Date.now();
      await writeDatasetFolder(ds, o.out);
      const t2 = Date.now();
      process.stdout.write(
        `wrote ${path.resolve(o.out)}: ${ds.userIds.length} users, ${ds.itemIds.length} items, ${ds.interactions.length} interactions, ` +
          `${ds.targets.length} cold-start targets, ${ds.images.size}x${ds.images.size} images ` +
          `(generate ${((t1 - t0) / 1000).toFixed(1)} s, write ${((t2 - t1) / 1000).toFixed(1)} s)\n`,
      );
    });

  data
    .command('inspect <dir>')
    .description('Validate a dataset folder (or synth:<profile>[:<seed>]), print its statistics and write a contact sheet of sample items')
    .option('--sheet <file>', 'contact sheet PNG (default: <dir>.contact-sheet.png beside the folder; <name>.contact-sheet.png here for synth:)')
    .option('--per-row <n>', 'items per category row on the contact sheet', '10')
    .option('--quick', 'check image headers only instead of decoding every image')
    .option('--strict-images', 'refuse greyscale/alpha images instead of converting them')
    .option('--image-size <px>', 'decode images at this size (default: dataset.json imageSize, else 64)')
    .action(async (dir: string, o: InspectOpts) => {
      const perRow = intArg('per-row', o.perRow, 1)!;
      const imageSize = intArg('image-size', o.imageSize, 1);
      let bar: Progress | undefined;
      const synth = dir.startsWith('synth:') || dir === 'synth';
      const ds = await openDataset(dir, {
        read: {
          checkImages: o.quick ? 'header' : 'full',
          imageMode: o.strictImages ? 'strict' : 'convert',
          ...(imageSize !== undefined ? { imageSize } : {}),
          onImageChecked: (done, total) => {
            bar ??= new Progress(o.quick ? 'checking image headers' : 'decoding images', total);
            bar.tick();
            if (done === total) bar.finish();
          },
        },
      });
      const warnings = 'warnings' in ds ? (ds.warnings as readonly string[]) : [];
      const s = datasetStats(ds);
      const lines = formatStats(ds, s);
      if (!ds.images.hasPixels) {
        const dim = ds.precomputedFeatures?.dim ?? 0;
        lines.push(`images       none: features only (${dim}-d precomputed); only feature-space attacks can run, no contact sheet`);
      } else {
        lines.push(
          synth
            ? `images       ${s.items} rendered on demand at ${s.imageSize}x${s.imageSize} RGB`
            : `images       ${s.items} ${o.quick ? 'headers checked' : 'decoded'} OK at ${s.imageSize}x${s.imageSize} RGB` +
                (warnings.length ? `; ${warnings.length} warning(s): ${warnings.join('; ')}` : ''),
        );
        const sheetFile = path.resolve(o.sheet ?? (synth ? `${ds.info.name}.contact-sheet.png` : `${path.resolve(dir)}.contact-sheet.png`));
        const sheet = await datasetContactSheet(ds, perRow);
        await writeFileAtomic(sheetFile, sheet.png);
        lines.push(`contact sheet ${sheetFile} (${sheet.items} items, ${sheet.width}x${sheet.height})`);
      }
      process.stdout.write(lines.join('\n') + '\n');
    });
}

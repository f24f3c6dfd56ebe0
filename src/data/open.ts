/**
 * Open a dataset named on the command line: `synth:<profile>[:<seed>]` generates the embedded
 * catalogue in memory (tiny | default | large); anything else is a dataset folder path.
 */
import { ConfigError } from '../core/errors.js';
import type { Dataset } from './dataset.js';
import { readDatasetFolder, type ReadFolderOptions } from './folder-format.js';
import { CATALOGUE_PROFILES, synthesizeCatalogue, type CatalogueParams, type CatalogueProfile } from './synth/catalogue.js';

export interface OpenDatasetOptions {
  /** Seed for `synth:` specs without one (default 1). */
  seed?: number;
  overrides?: Partial<CatalogueParams>;
  read?: ReadFolderOptions;
}

export async function openDataset(spec: string, opts: OpenDatasetOptions = {}): Promise<Dataset> {
  if (spec.startsWith('synth:') || spec === 'synth') {
    const [, profile = 'default', seedText] = spec.split(':');
    if (!(CATALOGUE_PROFILES as readonly string[]).includes(profile))
      throw new ConfigError(`unknown synthetic profile '${profile}' in '${spec}': allowed are ${CATALOGUE_PROFILES.join(', ')}`);
    const seed = seedText === undefined ? (opts.seed ?? 1) : Number(seedText);
    if (!Number.isInteger(seed) || seed < 0) throw new ConfigError(`seed in '${spec}' must be a non-negative integer`);
    return synthesizeCatalogue({ profile: profile as CatalogueProfile, seed, ...(opts.overrides ? { overrides: opts.overrides } : {}) });
  }
  return readDatasetFolder(spec, opts.read);
}

/**
 * Open a dataset named on the command line: `synth:<profile>[:<seed>]` generates the embedded
 * catalogue in memory (tiny | default | large); anything else is a dataset folder path (the generic
 * folder format, or a feature-only folder written by `data import --format features`).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ConfigError } from '../core/errors.js';
import type { Dataset } from './dataset.js';
import { readDatasetFolder, type ReadFolderOptions } from './folder-format.js';
import { FEATURE_FOLDER_FORMAT, readFeatureFolder } from './loaders/feature-folder.js';
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
  if (isFeatureFolder(spec)) return readFeatureFolder(spec);
  return readDatasetFolder(spec, opts.read);
}

/** Whether `dir` holds a feature-only import (`data import --format features`). */
function isFeatureFolder(dir: string): boolean {
  try {
    const meta = JSON.parse(readFileSync(path.join(dir, 'dataset.json'), 'utf8')) as { format?: string };
    return meta.format === FEATURE_FOLDER_FORMAT;
  } catch {
    return false; // readDatasetFolder reports a missing or malformed dataset.json precisely
  }
}

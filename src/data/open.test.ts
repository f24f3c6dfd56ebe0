import { describe, expect, it } from 'vitest';
import { openDataset } from './open.js';
import { ConfigError, InputError } from '../core/errors.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadAmazon } from './loaders/amazon.js';
import { writeFeatureFolder } from './loaders/feature-folder.js';

describe('openDataset', () => {
  it('generates synth:<profile>[:<seed>] in memory', async () => {
    const a = await openDataset('synth:tiny:5');
    expect(a.info.seed).toBe(5);
    expect(a.userIds.length).toBe(200);
    const b = await openDataset('synth:tiny', { seed: 5 });
    expect(b.interactions).toEqual(a.interactions);
    await expect(openDataset('synth:huge')).rejects.toThrow(ConfigError);
    await expect(openDataset('synth:tiny:x')).rejects.toThrow(ConfigError);
  });
  it('reads a folder otherwise', async () => {
    await expect(openDataset('/definitely/not/here')).rejects.toThrow(InputError);
  });
  it('opens a feature-only folder written by data import --format features', async () => {
    const fx = (f: string): string => path.join(path.dirname(fileURLToPath(import.meta.url)), 'loaders', '__fixtures__', f);
    const src = await loadAmazon(fx('amazon_reviews.json'), { featuresFile: fx('image_features_tiny.b') });
    const dir = path.join(mkdtempSync(path.join(tmpdir(), 'auv-open-')), 'feat');
    try {
      await writeFeatureFolder(src, dir);
      const ds = await openDataset(dir);
      expect(ds.images.hasPixels).toBe(false);
      expect(ds.precomputedFeatures?.dim).toBe(4096);
      expect(ds.itemIds).toEqual(src.itemIds);
    } finally {
      rmSync(path.dirname(dir), { recursive: true, force: true });
    }
  });
});

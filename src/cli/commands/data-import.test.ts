import { describe, it, expect } from 'vitest';
import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { main } from '../main.js';
import { readDatasetFolder } from '../../data/folder-format.js';
import { readFeatureFolder } from '../../data/loaders/feature-folder.js';

const FX = path.join(path.dirname(fileURLToPath(import.meta.url)), '../../data/loaders/__fixtures__');

async function run(args: string[]): Promise<{ code: number; err: string }> {
  const orig = process.stderr.write.bind(process.stderr);
  const origOut = process.stdout.write.bind(process.stdout);
  let err = '';
  process.stderr.write = ((s: string) => ((err += s), true)) as typeof process.stderr.write;
  process.stdout.write = (() => true) as typeof process.stdout.write;
  try {
    return { code: await main(['node', 'auv-fusion', '--backend', 'cpu', ...args]), err };
  } finally {
    process.stderr.write = orig;
    process.stdout.write = origOut;
  }
}

describe('auv-fusion data import', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'import-'));

  it('aip -> dataset folder that the folder reader opens', async () => {
    const out = path.join(dir, 'aip');
    const r = await run(['data', 'import', '--format', 'aip', path.join(FX, 'aip_tiny.npy'), path.join(FX, 'aip_tiny_one_k_cold.npy'), '--out', out, '--image-size', '8']);
    expect(r.code).toBe(0);
    const ds = await readDatasetFolder(out, { checkImages: 'full' });
    expect(ds.itemIds.length).toBe(8);
    expect(ds.interactions.length).toBe(19);
    expect(readFileSync(path.join(out, 'targets.txt'), 'utf8').trim().split('\n')).toEqual(['6', '7']);
    expect(ds.images.size).toBe(8);
  });

  it('features -> feature-only folder', async () => {
    const out = path.join(dir, 'feat');
    const r = await run(['data', 'import', '--format', 'features', path.join(FX, 'image_features_tiny.b'), path.join(FX, 'amazon_reviews.json'), '--out', out]);
    expect(r.code).toBe(0);
    const ds = await readFeatureFolder(out);
    expect(ds.images.hasPixels).toBe(false);
    expect(ds.precomputedFeatures!.dim).toBe(4096);
  });

  it('a malicious pickle gives a one-line error and exit code 1', async () => {
    const r = await run(['data', 'import', '--format', 'aip', path.join(FX, 'evil_stack_global.npy'), '--out', path.join(dir, 'evil')]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/builtins\.eval.*not on the allowlist/);
    expect(existsSync(path.join(dir, 'evil'))).toBe(false);
  });

  it('wrong file count names the usage', async () => {
    const r = await run(['data', 'import', '--format', 'tradesy', 'a.json', 'b.json', '--out', path.join(dir, 'x')]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/takes 1 file\(s\), got 2/);
  });
});

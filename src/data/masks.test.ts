import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InputError } from '../core/errors.js';
import { readDatasetFolder, writeDatasetFolder } from './folder-format.js';
import { synthesizeCatalogue } from './synth/catalogue.js';

let base: string;
let n = 0;
const S = 16;

beforeAll(async () => {
  base = await fs.mkdtemp(path.join(os.tmpdir(), 'auv-masks-'));
  const ds = synthesizeCatalogue({ profile: 'tiny', seed: 1, overrides: { numUsers: 12, numItems: 10, numTargets: 2, imageSize: S, activityMedian: 5 } });
  await writeDatasetFolder(ds, path.join(base, 'clean'), { progress: false });
});
afterAll(async () => {
  await fs.rm(base, { recursive: true, force: true });
});

async function copy(): Promise<string> {
  const dir = path.join(base, `case-${++n}`);
  await fs.cp(path.join(base, 'clean'), dir, { recursive: true });
  return dir;
}

/** A greyscale PNG of side `side`: white on the left `white` columns. */
async function writeMask(file: string, side: number, white: number): Promise<void> {
  const px = Buffer.alloc(side * side);
  for (let y = 0; y < side; y++) for (let x = 0; x < white; x++) px[y * side + x] = 255;
  await sharp(px, { raw: { width: side, height: side, channels: 1 } }).png().toFile(file);
}

describe('folder format: per-item masks', () => {
  it('reads masks/<item>.png where present (resized to the image size), and none without the folder', async () => {
    const dir = await copy();
    expect((await readDatasetFolder(dir, { onWarning: () => {} })).itemMasks).toBeUndefined();
    const ids = (await fs.readdir(path.join(dir, 'images'))).map((f) => f.replace(/\.png$/, '')).sort();
    await fs.mkdir(path.join(dir, 'masks'));
    await writeMask(path.join(dir, 'masks', `${ids[0]}.png`), 2 * S, S); // left half, at twice the size
    const ds = await readDatasetFolder(dir, { onWarning: () => {} });
    const item = ds.itemIds.indexOf(ids[0]!);
    const other = ds.itemIds.indexOf(ids[1]!);
    expect(ds.itemMasks?.has(item)).toBe(true);
    expect(ds.itemMasks?.has(other)).toBe(false);
    const m = await ds.itemMasks!.load(item);
    expect(m.length).toBe(S * S);
    for (let y = 0; y < S; y++) for (let x = 0; x < S; x++) expect(m[y * S + x]).toBe(x < S / 2 ? 1 : 0);
    await expect(ds.itemMasks!.load(other)).rejects.toThrow(/no mask/);
  });

  it('refuses a mask of an unknown item and a mask that is not a PNG, naming the file', async () => {
    const dir = await copy();
    await fs.mkdir(path.join(dir, 'masks'));
    await writeMask(path.join(dir, 'masks', 'no-such-item.png'), S, 4);
    await expect(readDatasetFolder(dir, { onWarning: () => {} })).rejects.toThrow(/masks.*unknown item 'no-such-item'/);
    await fs.rm(path.join(dir, 'masks', 'no-such-item.png'));
    await fs.writeFile(path.join(dir, 'masks', 'x.jpg'), 'not an image');
    const err = await readDatasetFolder(dir, { onWarning: () => {} }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InputError);
    expect((err as Error).message).toMatch(/PNG/);
  });
});

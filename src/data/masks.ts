/**
 * Per-item foreground masks of the folder format: `masks/<item>.png` (optional, any subset of the
 * items), white (>= 50% grey) on the product and black on the background, any size (resized like
 * the item's image: aspect kept, padded with background). Attacks that confine their edits to a
 * region (SC-DAG) use them where present and estimate a mask elsewhere.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { InputError } from '../core/errors.js';
import type { ItemMaskSource } from './dataset.js';

export const MASK_FOLDER = 'masks';

/** Masks decoded lazily from files (item index -> file). */
export class FolderMaskSource implements ItemMaskSource {
  private readonly cache = new Map<number, Float32Array>();
  constructor(
    readonly size: number,
    private readonly files: ReadonlyMap<number, string>,
  ) {}

  has(item: number): boolean {
    return this.files.has(item);
  }

  async load(item: number): Promise<Float32Array> {
    const hit = this.cache.get(item);
    if (hit) return hit;
    const file = this.files.get(item);
    if (file === undefined) throw new Error(`no mask for item index ${item}`);
    const mask = await decodeMask(file, this.size);
    this.cache.set(item, mask);
    return mask;
  }

  get count(): number {
    return this.files.size;
  }
}

/** Decode a mask image to size*size values in {0, 1}; InputError on a bad file. */
export async function decodeMask(file: string, size: number): Promise<Float32Array> {
  let data: Buffer;
  try {
    data = await sharp(file, { failOn: 'error' })
      .flatten({ background: { r: 0, g: 0, b: 0 } })
      .greyscale()
      .resize(size, size, { fit: 'contain', background: { r: 0, g: 0, b: 0 }, kernel: 'nearest' })
      .extractChannel(0)
      .raw({ depth: 'uchar' })
      .toBuffer();
  } catch (err) {
    throw new InputError(`corrupt or unreadable mask image: ${(err as Error).message.split('\n')[0]}`, file);
  }
  if (data.length !== size * size) throw new InputError(`mask decoded to ${data.length} values, expected ${size}x${size}`, file);
  const out = new Float32Array(size * size);
  for (let k = 0; k < out.length; k++) out[k] = data[k]! >= 128 ? 1 : 0;
  return out;
}

/**
 * The masks of `root/masks/` for the listed items, or undefined when the folder is absent. A
 * file whose name is no item id is refused (a typo would silently fall back to estimation), as is
 * a folder or file that resolves outside `root`.
 */
export async function readMaskFolder(root: string, itemIds: readonly string[], size: number): Promise<FolderMaskSource | undefined> {
  const dir = path.join(root, MASK_FOLDER);
  try {
    await fs.lstat(dir);
  } catch {
    return undefined;
  }
  const inside = async (p: string): Promise<string> => {
    const real = await fs.realpath(p);
    const rel = path.relative(root, real);
    if (rel.startsWith('..') || path.isAbsolute(rel)) throw new InputError(`mask path escapes the dataset folder (it resolves to ${real})`, p);
    return real;
  };
  const real = await inside(dir);
  const index = new Map(itemIds.map((id, i) => [id, i]));
  const files = new Map<number, string>();
  for (const name of (await fs.readdir(real)).sort()) {
    if (name.startsWith('.')) continue;
    if (path.extname(name).toLowerCase() !== '.png') throw new InputError(`masks must be PNG files named <item>.png, found '${name}'`, path.join(dir, name));
    const id = name.slice(0, -4);
    const item = index.get(id);
    if (item === undefined) throw new InputError(`mask for unknown item '${id}' (no such item in the dataset)`, path.join(dir, name));
    files.set(item, await inside(path.join(dir, name)));
  }
  return new FolderMaskSource(size, files);
}

/**
 * Shared pieces of the real-dataset loaders (spec section 2): assembling a Dataset from external
 * ids, JPEG decoding from bytes, line streaming (plain or .gz), feature-only image sources and the
 * `requirePixels` guard for pixel attacks.
 */
import { createReadStream, existsSync } from 'node:fs';
import { createGunzip } from 'node:zlib';
import path from 'node:path';
import sharp from 'sharp';
import { InputError } from '../../core/errors.js';
import { Rng } from '../../core/rng.js';
import type { Dataset, DatasetInfo, ImageSource, Interaction, Split } from '../dataset.js';
import { leaveOneOutSplit, itemsWithoutTraining } from '../split.js';
import { decodeImage, IMAGE_EXTENSIONS } from '../folder-format.js';
import { decodeUtf8 } from '../utf8.js';

export const DEFAULT_LOADER_IMAGE_SIZE = 64;

/**
 * Throw an InputError unless `ds` has pixel images: a dataset imported from precomputed features
 * (image_features_*.b) has none, so only feature-space attacks can run on it.
 */
export function requirePixels(ds: Dataset, attackName: string): void {
  if (ds.images.hasPixels) return;
  throw new InputError(
    `attack '${attackName}' edits pixels, but dataset '${ds.info.name}' has only precomputed image features (no images); ` +
      'only feature-space attacks can run on it; import the images (AIP .npy or an images folder) to run pixel attacks',
  );
}

/** The ImageSource of a feature-only dataset: it has no pixels and refuses to load any. */
export class NoPixelsImageSource implements ImageSource {
  readonly size = 0;
  readonly hasPixels = false;
  constructor(private readonly name: string) {}
  async load(item: number): Promise<Float32Array> {
    throw new InputError(`dataset '${this.name}' has only precomputed features: no image for item index ${item}; only feature-space attacks can run`);
  }
}

/** Decode encoded image bytes (JPEG/PNG/WebP) to size x size x 3 floats in [0,1] (white-padded). */
export async function decodeImageBytes(bytes: Uint8Array, size: number, file: string, location: string): Promise<Float32Array> {
  let data: Buffer;
  try {
    data = await sharp(bytes, { failOn: 'error' })
      .flatten({ background: { r: 255, g: 255, b: 255 } })
      .toColourspace('srgb')
      .resize(size, size, { fit: 'contain', background: { r: 255, g: 255, b: 255 }, kernel: 'lanczos3' })
      .removeAlpha()
      .raw({ depth: 'uchar' })
      .toBuffer();
  } catch (err) {
    throw new InputError(`corrupt or unreadable image: ${(err as Error).message.split('\n')[0]}`, file, location);
  }
  if (data.length !== size * size * 3) throw new InputError(`image decoded to ${data.length} bytes, expected ${size * size * 3}`, file, location);
  const out = new Float32Array(data.length);
  for (let k = 0; k < out.length; k++) out[k] = data[k]! / 255;
  return out;
}

/** Images in a folder named <item id>.<ext> (ext one of png, jpg, jpeg, webp). */
export class ItemFolderImages implements ImageSource {
  readonly hasPixels = true;
  constructor(
    readonly size: number,
    private readonly files: readonly string[],
    private readonly itemIds: readonly string[],
  ) {}
  async load(item: number): Promise<Float32Array> {
    const f = this.files[item];
    if (f === undefined) throw new Error(`no item with index ${item}`);
    return decodeImage(f, this.size, 'convert', `item '${this.itemIds[item]}'`);
  }
}

/** The image file of `id` in `dir`, or undefined. Ids with path separators are never looked up. */
export function findImageFile(dir: string, id: string): string | undefined {
  if (id.includes('/') || id.includes('\\') || id.startsWith('.')) return undefined;
  for (const ext of IMAGE_EXTENSIONS) {
    const f = path.join(dir, id + ext);
    if (existsSync(f)) return f;
  }
  return undefined;
}

/** Stream the lines of a text file (transparently gunzipped when it ends in .gz), 1-based numbers. */
export async function* readLines(file: string): AsyncGenerator<{ line: string; no: number }> {
  if (!existsSync(file)) throw new InputError('file not found', file);
  const raw = createReadStream(file);
  const input = file.endsWith('.gz') ? raw.pipe(createGunzip()) : raw;
  let no = 0;
  let rest: Buffer = Buffer.alloc(0);
  // split on '\n' bytes and decode each line strictly (invalid UTF-8 names its line)
  const decode = (bytes: Buffer): string => {
    const text = decodeUtf8(bytes, file, no);
    return text.endsWith('\r') ? text.slice(0, -1) : text;
  };
  try {
    for await (const chunk of input as AsyncIterable<Buffer>) {
      let buf = rest.length ? Buffer.concat([rest, chunk]) : chunk;
      let nl = buf.indexOf(0x0a);
      while (nl >= 0) {
        no += 1;
        yield { line: decode(buf.subarray(0, nl)), no };
        buf = buf.subarray(nl + 1);
        nl = buf.indexOf(0x0a);
      }
      rest = Buffer.from(buf);
    }
    if (rest.length > 0) {
      no += 1;
      yield { line: decode(rest), no };
    }
  } catch (err) {
    if (err instanceof InputError) throw err;
    throw new InputError(`cannot read: ${(err as Error).message}`, file, no + 1);
  } finally {
    raw.destroy();
  }
}

/** Raw interactions with external ids, before indexing. */
export interface RawInteraction {
  user: string;
  item: string;
  timestamp?: number;
}

export interface AssembleOptions {
  info: DatasetInfo;
  /** Interactions in file order (duplicates of a (user, item) pair keep the first). */
  raw: readonly RawInteraction[];
  /** Keep only items passing this test (e.g. items with an image or features). */
  keepItem?: (id: string) => boolean;
  /** Category name per item id. */
  categoryOf?: (id: string) => string | undefined;
  /** Explicit split; otherwise leave-one-out (spec section 2) with `seed`. */
  split?: (userIndex: Map<string, number>, itemIndex: Map<string, number>) => Split;
  /** Explicit targets (item ids); otherwise items without training interactions. */
  targetIds?: readonly string[];
  images: (itemIds: readonly string[]) => ImageSource;
  features?: (itemIds: readonly string[]) => { dim: number; data: Float32Array };
}

/** Index users/items (first appearance order), dedupe, split and pick targets. */
export function assembleDataset(o: AssembleOptions): Dataset {
  const users = new Map<string, number>();
  const items = new Map<string, number>();
  const seen = new Set<string>();
  const interactions: Interaction[] = [];
  for (const r of o.raw) {
    if (o.keepItem && !o.keepItem(r.item)) continue;
    const key = `${r.user}\u0000${r.item}`;
    if (seen.has(key)) continue;
    seen.add(key);
    if (!users.has(r.user)) users.set(r.user, users.size);
    if (!items.has(r.item)) items.set(r.item, items.size);
    const it: Interaction = { user: users.get(r.user)!, item: items.get(r.item)! };
    if (r.timestamp !== undefined && Number.isFinite(r.timestamp)) it.timestamp = r.timestamp;
    interactions.push(it);
  }
  if (interactions.length === 0) throw new InputError('no usable interactions (after dropping items without images/features)', o.info.source);
  const userIds = [...users.keys()];
  const itemIds = [...items.keys()];
  let itemCategory: Int32Array | null = null;
  const categoryNames: string[] = [];
  if (o.categoryOf) {
    const cats = new Map<string, number>();
    itemCategory = new Int32Array(itemIds.length);
    itemIds.forEach((id, i) => {
      const c = o.categoryOf!(id) ?? 'unknown';
      if (!cats.has(c)) {
        cats.set(c, cats.size);
        categoryNames.push(c);
      }
      itemCategory![i] = cats.get(c)!;
    });
  }
  const split = o.split ? o.split(users, items) : leaveOneOutSplit(userIds.length, interactions, { rng: new Rng(o.info.seed).fork('split') });
  const targets = o.targetIds
    ? o.targetIds.filter((id) => items.has(id)).map((id) => items.get(id)!)
    : itemsWithoutTraining(split, itemIds.length);
  const ds: Dataset = {
    info: o.info,
    userIds,
    itemIds,
    itemCategory,
    categoryNames,
    interactions,
    images: o.images(itemIds),
    split,
    targets,
    ...(o.features ? { precomputedFeatures: o.features(itemIds) } : {}),
  };
  return ds;
}

/**
 * The dataset model (spec section 2): users, items, implicit interactions, one image per item,
 * optional categories, a leave-one-out split and the target (cold-start) items.
 *
 * Users and items are addressed by dense integer indices 0..n-1 everywhere inside the toolkit;
 * `userIds` / `itemIds` map them back to the external ids of the source files.
 * Images are HxWx3 float32 in [0,1] (row-major, channel last), loaded lazily.
 */
import * as tf from '@tensorflow/tfjs';

export interface Interaction {
  user: number;
  item: number;
  /** Optional timestamp (any monotone number, e.g. Unix seconds). */
  timestamp?: number;
}

/** Leave-one-out split: per user, lists of item indices. */
export interface Split {
  /** train[u]: items of user u used for training (may be empty). */
  train: number[][];
  /** validation[u]: one held-out item of user u, or -1 when the user has too few interactions. */
  validation: Int32Array;
  /** test[u]: one held-out item of user u, or -1. */
  test: Int32Array;
}

/** Lazily loaded item images. */
export interface ImageSource {
  /** Side length: every image is size x size x 3. */
  readonly size: number;
  /** Image of item `item` as size*size*3 floats in [0,1], HWC order. */
  load(item: number): Promise<Float32Array>;
  /** Whether pixel images exist (false for feature-only datasets: pixel attacks must refuse). */
  readonly hasPixels: boolean;
}

export interface DatasetInfo {
  name: string;
  /** Generator profile for synthetic data ("tiny" | "default" | "large"), or "imported". */
  profile: string;
  seed: number;
  /** Free-form description of where the data came from. */
  source: string;
}

/** One named item labelling: `labels[i]` indexes `values` (every item has a label). */
export interface ItemLabelSet {
  readonly name: string;
  readonly values: readonly string[];
  readonly labels: Int32Array;
}

export interface Dataset {
  readonly info: DatasetInfo;
  readonly userIds: readonly string[];
  readonly itemIds: readonly string[];
  /** Category index per item (into categoryNames), or null when the dataset has no categories. */
  readonly itemCategory: Int32Array | null;
  readonly categoryNames: readonly string[];
  /**
   * Optional further item labels beyond the category (for example colour, pattern), each a named
   * set of values with one label per item. Encoders F and G learn one classification head per set.
   */
  readonly itemAttributes?: readonly ItemLabelSet[];
  readonly interactions: readonly Interaction[];
  readonly images: ImageSource;
  readonly split: Split;
  /** Target item indices: cold-start items (no training interaction) or an explicit list. */
  readonly targets: readonly number[];
  /** Optional precomputed item features (feature-only datasets), numItems x dim. */
  readonly precomputedFeatures?: { dim: number; data: Float32Array };
  /** Optional user-supplied foreground masks of some items (folder format `masks/<item>.png`). */
  readonly itemMasks?: ItemMaskSource;
}

/** Foreground masks of some items: size*size floats, 1 on the product, 0 on the background. */
export interface ItemMaskSource {
  readonly size: number;
  has(item: number): boolean;
  /** The mask of `item`; throws when `has(item)` is false. */
  load(item: number): Promise<Float32Array>;
}

export function numUsers(ds: Dataset): number {
  return ds.userIds.length;
}

export function numItems(ds: Dataset): number {
  return ds.itemIds.length;
}

/** Per-item count of training interactions (the item's popularity in the training split). */
export function trainItemCounts(ds: Dataset): Int32Array {
  const counts = new Int32Array(ds.itemIds.length);
  for (const items of ds.split.train) for (const i of items) counts[i] = (counts[i] ?? 0) + 1;
  return counts;
}

/** Items with no training interaction. */
export function coldItems(ds: Dataset): number[] {
  const counts = trainItemCounts(ds);
  const out: number[] = [];
  for (let i = 0; i < counts.length; i++) if (counts[i] === 0) out.push(i);
  return out;
}

/**
 * Load images of `items` into one NHWC float32 tensor in [0,1].
 * The caller owns (and must dispose) the result.
 */
export async function loadImageBatch(images: ImageSource, items: readonly number[]): Promise<tf.Tensor4D> {
  const s = images.size;
  const per = s * s * 3;
  const buf = new Float32Array(items.length * per);
  for (let k = 0; k < items.length; k++) buf.set(await images.load(items[k] as number), k * per);
  return tf.tensor4d(buf, [items.length, s, s, 3]);
}

/** An ImageSource that keeps decoded images of another source in memory after first use. */
export class CachedImageSource implements ImageSource {
  private readonly cache = new Map<number, Float32Array>();
  constructor(
    private readonly inner: ImageSource,
    private readonly maxItems = 200_000,
  ) {}
  get size(): number {
    return this.inner.size;
  }
  get hasPixels(): boolean {
    return this.inner.hasPixels;
  }
  async load(item: number): Promise<Float32Array> {
    const hit = this.cache.get(item);
    if (hit) return hit;
    const img = await this.inner.load(item);
    if (this.cache.size < this.maxItems) this.cache.set(item, img);
    return img;
  }
}

/** An ImageSource over images held in memory (tests, attack outputs). */
export class MemoryImageSource implements ImageSource {
  readonly hasPixels = true;
  constructor(
    readonly size: number,
    private readonly images: ReadonlyMap<number, Float32Array> | readonly Float32Array[],
  ) {}
  async load(item: number): Promise<Float32Array> {
    const img = Array.isArray(this.images)
      ? (this.images as readonly Float32Array[])[item]
      : (this.images as ReadonlyMap<number, Float32Array>).get(item);
    if (!img) throw new Error(`no image for item index ${item}`);
    return img;
  }
}

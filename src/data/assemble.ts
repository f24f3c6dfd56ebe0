/**
 * Build a Dataset from interactions keyed by external string ids (for loaders of real data):
 * dense indices (users in order of first appearance; items in the given order or first appearance),
 * repeated (user, item) pairs dropped, categories, leave-one-out split (spec section 2) and targets.
 */
import { InputError } from '../core/errors.js';
import { Rng } from '../core/rng.js';
import type { Dataset, DatasetInfo, ImageSource, Interaction } from './dataset.js';
import { itemsWithoutTraining, leaveOneOutSplit } from './split.js';

export interface RawInteraction {
  user: string;
  item: string;
  timestamp?: number;
}

export interface AssembleOptions {
  info: DatasetInfo;
  interactions: Iterable<RawInteraction>;
  /** The full item list, in index order (items without interactions included). */
  itemIds?: readonly string[];
  /** Category name of an item id (undefined: none). All items need one if any has one. */
  categoryOf?: (itemId: string) => string | undefined;
  /** The images, given the final item id order. */
  images: (itemIds: readonly string[]) => ImageSource;
  /** Explicit targets (item ids); default: items without training interactions. */
  targets?: readonly string[];
  precomputedFeatures?: { dim: number; data: Float32Array };
  /** File named in errors (e.g. the interactions file). */
  file?: string;
}

export interface AssembledDataset extends Dataset {
  /** Repeated (user, item) rows that were dropped. */
  readonly duplicatesDropped: number;
}

export function assembleDataset(opts: AssembleOptions): AssembledDataset {
  const itemIndex = new Map<string, number>();
  const itemIds: string[] = [];
  if (opts.itemIds) {
    for (const id of opts.itemIds) {
      if (itemIndex.has(id)) throw new InputError(`item '${id}' is listed twice`, opts.file);
      itemIndex.set(id, itemIds.length);
      itemIds.push(id);
    }
  }
  const userIndex = new Map<string, number>();
  const userIds: string[] = [];
  const interactions: Interaction[] = [];
  const seen = new Set<string>();
  let dups = 0,
    row = 0;
  for (const r of opts.interactions) {
    row++;
    let i = itemIndex.get(r.item);
    if (i === undefined) {
      if (opts.itemIds) throw new InputError(`unknown item '${r.item}' (not in the item list)`, opts.file, `interaction ${row}`);
      i = itemIds.length;
      itemIndex.set(r.item, i);
      itemIds.push(r.item);
    }
    let u = userIndex.get(r.user);
    if (u === undefined) {
      u = userIds.length;
      userIndex.set(r.user, u);
      userIds.push(r.user);
    }
    const key = `${u}\u0000${i}`;
    if (seen.has(key)) {
      dups++;
      continue;
    }
    seen.add(key);
    interactions.push(r.timestamp === undefined ? { user: u, item: i } : { user: u, item: i, timestamp: r.timestamp });
  }
  if (interactions.length === 0) throw new InputError('no interactions', opts.file);

  let itemCategory: Int32Array | null = null;
  const categoryNames: string[] = [];
  if (opts.categoryOf) {
    const cats = itemIds.map((id) => opts.categoryOf!(id));
    if (cats.some((c) => c !== undefined)) {
      const idx = new Map<string, number>();
      itemCategory = new Int32Array(itemIds.length);
      cats.forEach((c, i) => {
        if (c === undefined) throw new InputError(`item '${itemIds[i]}' has no category while others have one`, opts.file);
        let k = idx.get(c);
        if (k === undefined) {
          k = categoryNames.length;
          idx.set(c, k);
          categoryNames.push(c);
        }
        itemCategory![i] = k;
      });
    }
  }

  const split = leaveOneOutSplit(userIds.length, interactions, { rng: new Rng(opts.info.seed).fork('split') });
  let targets: number[];
  if (opts.targets) {
    const set = new Set<number>();
    targets = [];
    for (const id of opts.targets) {
      const i = itemIndex.get(id);
      if (i === undefined) throw new InputError(`unknown target item '${id}'`, opts.file);
      if (!set.has(i)) {
        set.add(i);
        targets.push(i);
      }
    }
  } else targets = itemsWithoutTraining(split, itemIds.length);

  return {
    info: opts.info,
    userIds,
    itemIds,
    itemCategory,
    categoryNames,
    interactions,
    images: opts.images(itemIds),
    split,
    targets,
    ...(opts.precomputedFeatures ? { precomputedFeatures: opts.precomputedFeatures } : {}),
    duplicatesDropped: dups,
  };
}

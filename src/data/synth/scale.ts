/**
 * The synthetic catalogue at the size of Amazon Men (AIP/DVBPR: 34,244 users, 110,636 items,
 * ~254,870 interactions; 1000 cold targets), built to hold memory:
 * - nothing per item but its category, look cell and popularity (typed arrays); an item's full
 *   attributes are re-derived from its id (one forked random stream per item) whenever its image is
 *   rendered, so images exist only while a batch is being encoded;
 * - user tastes are drawn, used and dropped one user at a time (one forked stream per user);
 * - interactions go straight into the leave-one-out split, stored as compact per-user lists (CSR,
 *   ../item-lists.ts) with validation/test as Int32Arrays: no interaction objects.
 * The generative model is the default catalogue's (./catalogue.ts: taste cell x popularity^bias,
 * exploration, lognormal activity), reusing its pieces; only the random streams are keyed per id.
 */
import { Rng } from '../../core/rng.js';
import { ConfigError } from '../../core/errors.js';
import { ItemLists, ItemListsBuilder } from '../item-lists.js';
import {
  cellIndex,
  drawAttributes,
  drawTaste,
  drawUserItems,
  pickTargets,
  popularityCells,
  segmentPrototypes,
  SynthImageSource,
  PROFILE_PARAMS,
  validateCatalogueParams,
  type CatalogueParams,
} from './catalogue.js';
import { CATEGORIES, COLOURS, PATTERNS, type ItemAttributes } from './raster.js';

/**
 * Amazon Men's sizes (DVBPR/AIP table; the spec gives "about 34k users / 110k items"). The activity
 * median is set so the expected interaction count is ~255k (7.4 per user, at least 3 each so every
 * user has a validation and a test item).
 */
export const AMAZON_MEN_SCALE: CatalogueParams = {
  ...PROFILE_PARAMS.large, // the large profile's tastes, looks and popularity; Amazon Men's sizes
  numUsers: 34_244,
  numItems: 110_636,
  activityMedian: 5.72,
  minPerUser: 3,
  imageCache: 0,
};

export interface ScaleCatalogueOptions {
  seed: number;
  overrides?: Partial<CatalogueParams>;
}

/** A catalogue stored compactly: typed arrays only, images rendered from the item id on demand. */
export interface ScaleCatalogue {
  readonly params: CatalogueParams;
  readonly seed: number;
  readonly numUsers: number;
  readonly numItems: number;
  /** Cold-start targets (no interaction at all), ascending. */
  readonly targets: Int32Array;
  readonly itemCategory: Int32Array;
  readonly categoryNames: readonly string[];
  /** Latent popularity weight per item (0 for targets). */
  readonly popularity: Float32Array;
  /** Leave-one-out training lists per user (CSR). */
  readonly train: ItemLists;
  /** Held-out items per user (-1 when the user has fewer than 3 interactions). */
  readonly validation: Int32Array;
  readonly test: Int32Array;
  /** All interactions drawn (train + validation + test). */
  readonly numInteractions: number;
  /** Item images, rendered on demand (no cache unless params.imageCache > 0). */
  readonly images: SynthImageSource;
  /** An item's attributes, re-derived from its id. */
  attributesOf(item: number): ItemAttributes;
}

/** Resolve the Amazon-Men-scale parameters plus overrides (validated). */
export function scaleParams(overrides: Partial<CatalogueParams> = {}): CatalogueParams {
  const p: CatalogueParams = { ...AMAZON_MEN_SCALE };
  for (const [k, v] of Object.entries(overrides)) {
    if (!(k in p)) throw new ConfigError(`unknown catalogue parameter '${k}': allowed are ${Object.keys(p).join(', ')}`);
    if (v !== undefined) (p as unknown as Record<string, number>)[k] = v as number;
  }
  validateCatalogueParams(p);
  return p;
}

export function synthesizeScaleCatalogue(opts: ScaleCatalogueOptions): ScaleCatalogue {
  const p = scaleParams(opts.overrides);
  const root = new Rng(opts.seed);
  const itemRng = root.fork('items');
  const itemCategory = new Int32Array(p.numItems);
  for (let i = 0; i < p.numItems; i++) itemCategory[i] = i % p.numCategories;
  itemRng.fork('categories').shuffle(itemCategory);
  const attrRng = itemRng.fork('attributes');
  const attributesOf = (item: number): ItemAttributes => {
    if (!(Number.isInteger(item) && item >= 0 && item < p.numItems)) throw new Error(`no item with index ${item} (catalogue has ${p.numItems})`);
    return drawAttributes(attrRng.fork(`i${item}`), p.numCategories, itemCategory[item]!);
  };
  const cell = new Uint16Array(p.numItems);
  for (let i = 0; i < p.numItems; i++) {
    const a = attributesOf(i);
    cell[i] = cellIndex(a.category, a.colour, a.pattern);
  }
  const popRng = itemRng.fork('popularity');
  const popularity = new Float32Array(p.numItems);
  for (let i = 0; i < p.numItems; i++) popularity[i] = Math.exp(p.popularitySigma * popRng.normal());
  const targets = Int32Array.from(pickTargets(p, root, itemCategory));
  const isTarget = new Uint8Array(p.numItems);
  for (const t of targets) {
    isTarget[t] = 1;
    popularity[t] = 0;
  }
  const cells = popularityCells(p, (i) => cell[i]!, popularity, isTarget);
  const tasteRng = root.fork('tastes');
  const protos = segmentPrototypes(p, tasteRng);
  const interRng = root.fork('interactions');
  const scratch = new Float64Array(p.numCategories * COLOURS.length * PATTERNS.length);
  const train = new ItemListsBuilder(p.numUsers, Math.round(p.numUsers * p.activityMedian * 1.3));
  const validation = new Int32Array(p.numUsers).fill(-1);
  const test = new Int32Array(p.numUsers).fill(-1);
  let numInteractions = 0;
  for (let u = 0; u < p.numUsers; u++) {
    const taste = drawTaste(p, protos, tasteRng.fork(`u${u}`));
    // Distinct items in strictly increasing time: leave-one-out is last -> test, next -> validation.
    const { items } = drawUserItems(p, interRng.fork(`u${u}`), taste, cells, scratch);
    numInteractions += items.length;
    if (items.length >= 3) {
      test[u] = items.pop()!;
      validation[u] = items.pop()!;
    }
    train.push(items);
  }
  return {
    params: p,
    seed: opts.seed,
    numUsers: p.numUsers,
    numItems: p.numItems,
    targets,
    itemCategory,
    categoryNames: CATEGORIES.slice(0, p.numCategories),
    popularity,
    train: train.build(),
    validation,
    test,
    numInteractions,
    images: new SynthImageSource(attributesOf, p.imageSize, p.imageCache, p.numItems),
    attributesOf,
  };
}

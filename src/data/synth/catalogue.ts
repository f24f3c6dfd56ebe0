/**
 * The embedded synthetic fashion catalogue (spec section 2), generated deterministically from a seed.
 *
 * Items: an attribute record each (category, colours, pattern, shape variation, framing); images are
 * rendered on demand from it (./raster.ts), so even the `large` profile never holds all images.
 * Users: latent visual tastes (preferences over category, main colour, pattern) drawn around a few
 * shared style segments, long-tailed (lognormal) activity. Interactions: sampled from
 * taste(cat) x taste(colour) x taste(pattern) x popularity^bias, plus a little popularity-only
 * exploration, so an item's looks predict who picks it. Cold-start targets are held out of the
 * sampling entirely and spread across categories. Timestamps increase per user.
 */
import { Rng } from '../../core/rng.js';
import { ConfigError } from '../../core/errors.js';
import type { Dataset, ImageSource, Interaction, Split } from '../dataset.js';
import { leaveOneOutSplit } from '../split.js';
import { CATEGORIES, COLOURS, PATTERNS, renderItem, type ItemAttributes } from './raster.js';

export type CatalogueProfile = 'tiny' | 'default' | 'large';
export const CATALOGUE_PROFILES: readonly CatalogueProfile[] = ['tiny', 'default', 'large'];

export interface CatalogueParams {
  numUsers: number;
  numItems: number;
  /** Image side in pixels. */
  imageSize: number;
  /** Cold-start target items (no interactions at all). */
  numTargets: number;
  /** Number of categories used (first n of CATEGORIES, 2..8). */
  numCategories: number;
  /** Median interactions per user (lognormal activity). */
  activityMedian: number;
  /** Log-space spread of per-user activity. */
  activitySigma: number;
  minPerUser: number;
  maxPerUser: number;
  /** Shared style segments around which user tastes are drawn. */
  numSegments: number;
  /** Std of a user's taste around its segment prototype (log-space). */
  tasteNoise: number;
  /** Sharpness (log-space scale) of the taste over categories, colours and patterns. */
  categorySharpness: number;
  colourSharpness: number;
  patternSharpness: number;
  /** Item popularity: lognormal sigma, and the exponent applied to it in sampling. */
  popularitySigma: number;
  popularityBias: number;
  /** Fraction of interactions drawn from popularity alone (not taste). */
  explore: number;
  /** Rendered images kept in memory (0 = none). */
  imageCache: number;
}

export const PROFILE_PARAMS: Record<CatalogueProfile, CatalogueParams> = {
  tiny: {
    numUsers: 200,
    numItems: 300,
    imageSize: 32,
    numTargets: 10,
    numCategories: 8,
    activityMedian: 12,
    activitySigma: 0.5,
    minPerUser: 2,
    maxPerUser: 60,
    numSegments: 6,
    tasteNoise: 0.6,
    categorySharpness: 1.6,
    colourSharpness: 1.4,
    patternSharpness: 1.0,
    popularitySigma: 0.8,
    popularityBias: 1,
    explore: 0.05,
    imageCache: 1000,
  },
  default: {
    numUsers: 2000,
    numItems: 3000,
    imageSize: 64,
    numTargets: 60,
    numCategories: 8,
    activityMedian: 14,
    activitySigma: 0.6,
    minPerUser: 2,
    maxPerUser: 200,
    numSegments: 40,
    tasteNoise: 0.6,
    categorySharpness: 1.6,
    colourSharpness: 1.4,
    patternSharpness: 1.0,
    popularitySigma: 1.0,
    popularityBias: 1,
    explore: 0.05,
    imageCache: 4000,
  },
  large: {
    numUsers: 30000,
    numItems: 100000,
    imageSize: 64,
    numTargets: 1000,
    numCategories: 8,
    activityMedian: 12,
    activitySigma: 0.7,
    minPerUser: 2,
    maxPerUser: 500,
    numSegments: 24,
    tasteNoise: 0.6,
    categorySharpness: 1.6,
    colourSharpness: 1.4,
    patternSharpness: 1.0,
    popularitySigma: 1.2,
    popularityBias: 1,
    explore: 0.05,
    imageCache: 2000,
  },
};

export interface CatalogueOptions {
  profile: CatalogueProfile;
  seed: number;
  overrides?: Partial<CatalogueParams>;
}

/** Latent taste of one user (probabilities, each summing to 1). */
export interface UserTaste {
  category: Float64Array;
  colour: Float64Array;
  pattern: Float64Array;
}

/** A synthetic Dataset plus the generator's ground truth (item attributes, user tastes). */
export interface SynthDataset extends Dataset {
  readonly params: CatalogueParams;
  readonly attributes: readonly ItemAttributes[];
  readonly tastes: readonly UserTaste[];
  /** Latent popularity weight of each item (0 for targets). */
  readonly popularity: Float64Array;
}

/** Whether a dataset is a synthetic catalogue carrying the generator's ground truth. */
export function isSynthDataset(ds: Dataset): ds is SynthDataset {
  const d = ds as Partial<SynthDataset>;
  return Array.isArray(d.tastes) && Array.isArray(d.attributes) && d.popularity instanceof Float64Array;
}

/**
 * The generator's taste affinity of user u for item i, P(category) P(colour) P(pattern) under u's
 * taste (the ground truth interactions are drawn from, before popularity); undefined for a dataset
 * that is not a synthetic catalogue.
 */
export function tasteAffinity(ds: Dataset): ((u: number, i: number) => number) | undefined {
  if (!isSynthDataset(ds)) return undefined;
  return (u, i) => {
    const t = ds.tastes[u]!;
    const a = ds.attributes[i]!;
    return t.category[a.category]! * t.colour[a.colour]! * t.pattern[a.pattern]!;
  };
}

/**
 * Renders catalogue items on demand from their attributes, with an optional bounded in-memory
 * cache. `attributesOf(i)` may look the attributes up (the default profiles keep them) or derive
 * them from the item id (the Amazon-Men-scale catalogue, ./scale.ts, keeps none).
 */
export class SynthImageSource implements ImageSource {
  readonly hasPixels = true;
  private readonly cache = new Map<number, Float32Array>();
  private readonly attributesOf: (item: number) => ItemAttributes | undefined;
  constructor(
    attributes: readonly ItemAttributes[] | ((item: number) => ItemAttributes | undefined),
    readonly size: number,
    private readonly maxCached = 0,
    /** Number of items (needed when `attributes` is a function). */
    readonly numItems = typeof attributes === 'function' ? 0 : attributes.length,
  ) {
    this.attributesOf = typeof attributes === 'function' ? attributes : (i) => attributes[i];
  }
  /** Synchronous render (callers that batch many items avoid a promise per item). */
  loadSync(item: number): Float32Array {
    const hit = this.cache.get(item);
    if (hit) return hit;
    const a = Number.isInteger(item) && item >= 0 && item < this.numItems ? this.attributesOf(item) : undefined;
    if (!a) throw new Error(`no item with index ${item} (catalogue has ${this.numItems})`);
    const img = renderItem(a, this.size);
    if (this.cache.size < this.maxCached) this.cache.set(item, img);
    return img;
  }
  async load(item: number): Promise<Float32Array> {
    return this.loadSync(item);
  }
}

export function validateCatalogueParams(p: CatalogueParams): void {
  const int = (k: keyof CatalogueParams, lo: number, hi = Infinity): void => {
    const v = p[k];
    if (!Number.isInteger(v) || v < lo || v > hi)
      throw new ConfigError(`catalogue parameter '${k}' must be an integer in [${lo}, ${hi}], got ${v}`);
  };
  const num = (k: keyof CatalogueParams, lo: number, hi = Infinity): void => {
    const v = p[k];
    if (!Number.isFinite(v) || v < lo || v > hi)
      throw new ConfigError(`catalogue parameter '${k}' must be a number in [${lo}, ${hi}], got ${v}`);
  };
  int('numUsers', 1);
  int('numItems', 2);
  if (p.numItems < p.numCategories) throw new ConfigError(`catalogue parameter 'numItems' (${p.numItems}) must be >= numCategories (${p.numCategories})`);
  int('imageSize', 8, 512);
  int('numCategories', 1, CATEGORIES.length);
  int('numTargets', 0, p.numItems - p.numCategories); // every category keeps an interactable item
  num('activityMedian', 1);
  num('activitySigma', 0, 5);
  int('minPerUser', 1);
  int('maxPerUser', p.minPerUser);
  int('numSegments', 1);
  num('tasteNoise', 0, 10);
  num('categorySharpness', 0, 20);
  num('colourSharpness', 0, 20);
  num('patternSharpness', 0, 20);
  num('popularitySigma', 0, 10);
  num('popularityBias', 0, 10);
  num('explore', 0, 1);
  int('imageCache', 0);
}

export function softmax(z: ArrayLike<number>, scale: number): Float64Array {
  const out = new Float64Array(z.length);
  let m = -Infinity;
  for (let i = 0; i < z.length; i++) m = Math.max(m, scale * (z[i] as number));
  let s = 0;
  for (let i = 0; i < z.length; i++) s += out[i] = Math.exp(scale * (z[i] as number) - m);
  for (let i = 0; i < z.length; i++) out[i] = out[i]! / s;
  return out;
}

/** Index i with cum[i-1] <= r < cum[i] (cum non-decreasing, r < cum[last]). */
export function searchCum(cum: ArrayLike<number>, r: number, lo = 0, hi = cum.length - 1): number {
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((cum[mid] as number) > r) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

export function drawAttributes(rng: Rng, nCat: number, category: number): ItemAttributes {
  const nCol = COLOURS.length;
  const colour = rng.int(nCol);
  let colour2 = rng.int(nCol - 1);
  if (colour2 >= colour) colour2 += 1;
  // White/beige/black are the usual second colours of a pattern.
  if (rng.bernoulli(0.4)) {
    const neutral = [11, 13, 10].filter((c) => c !== colour);
    colour2 = rng.pick(neutral);
  }
  const pattern = rng.bernoulli(0.35) ? 0 : 1 + rng.int(PATTERNS.length - 1);
  const bgBase = rng.uniform(0.88, 0.97);
  const tint = rng.uniform(-0.02, 0.02);
  void nCat;
  return {
    category,
    colour,
    colour2,
    pattern,
    variant: Math.round(rng.next() * 1000) / 1000,
    scale: rng.uniform(0.82, 1.0),
    aspect: rng.uniform(0.9, 1.1),
    dx: rng.uniform(-0.05, 0.05),
    dy: rng.uniform(-0.04, 0.04),
    rotation: rng.uniform(-0.08, 0.08),
    patternFreq: rng.uniform(3, 5.5), // coarse enough to survive the encoders' 32-px input
    patternPhase: rng.next(),
    jitter: [rng.uniform(0.9, 1.08), rng.uniform(0.9, 1.08), rng.uniform(0.9, 1.08)],
    background: [bgBase + tint, bgBase, bgBase - tint],
    style: rng.bernoulli(0.5) ? 1 : 0,
  };
}

/** Resolve a profile plus overrides into full parameters (validated). */
export function catalogueParams(profile: CatalogueProfile, overrides: Partial<CatalogueParams> = {}): CatalogueParams {
  const base = PROFILE_PARAMS[profile];
  if (!base) throw new ConfigError(`unknown catalogue profile '${profile}': allowed values are ${CATALOGUE_PROFILES.join(', ')}`);
  const p: CatalogueParams = { ...base };
  for (const [k, v] of Object.entries(overrides)) {
    if (!(k in base)) throw new ConfigError(`unknown catalogue parameter '${k}': allowed are ${Object.keys(base).join(', ')}`);
    if (v !== undefined) (p as unknown as Record<string, number>)[k] = v as number;
  }
  validateCatalogueParams(p);
  return p;
}

/** Items: categories balanced (shuffled round-robin), attributes, latent popularity. */
function drawItems(p: CatalogueParams, root: Rng): { cats: Int32Array; attributes: ItemAttributes[]; popularity: Float64Array } {
  const nCat = p.numCategories;
  const itemRng = root.fork('items');
  const cats = new Int32Array(p.numItems);
  for (let i = 0; i < p.numItems; i++) cats[i] = i % nCat;
  itemRng.fork('categories').shuffle(cats);
  const attrRng = itemRng.fork('attributes');
  const attributes: ItemAttributes[] = new Array(p.numItems);
  for (let i = 0; i < p.numItems; i++) attributes[i] = drawAttributes(attrRng, nCat, cats[i]!);
  const popRng = itemRng.fork('popularity');
  const popularity = new Float64Array(p.numItems);
  for (let i = 0; i < p.numItems; i++) popularity[i] = Math.exp(p.popularitySigma * popRng.normal());
  return { cats, attributes, popularity };
}

/** Targets: cold-start items spread across categories (round-robin over categories), sorted. */
export function pickTargets(p: CatalogueParams, root: Rng, cats: Int32Array): number[] {
  const nCat = p.numCategories;
  const targetRng = root.fork('targets');
  const byCat: number[][] = Array.from({ length: nCat }, () => []);
  for (let i = 0; i < p.numItems; i++) byCat[cats[i]!]!.push(i);
  for (const list of byCat) targetRng.shuffle(list);
  const targets: number[] = [];
  for (let round = 0; targets.length < p.numTargets; round++) {
    for (let c = 0; c < nCat && targets.length < p.numTargets; c++) {
      const list = byCat[c]!;
      if (round < list.length - 1) targets.push(list[round]!);
    }
    if (round > p.numItems) break;
  }
  return targets.sort((a, b) => a - b);
}

/** Non-target items per (category, colour, pattern) cell and overall, with cumulative popularity^bias. */
export interface PopularityCells {
  cellItems: number[][];
  cellCum: Float64Array[];
  cellMass: number[];
  allItems: number[];
  allCum: Float64Array;
}

/** The (category, colour, pattern) cell index of an item's looks. */
export function cellIndex(category: number, colour: number, pattern: number): number {
  return (category * COLOURS.length + colour) * PATTERNS.length + pattern;
}

/** Cells of the non-target items; `cellOf(i)` is item i's cell (see cellIndex). */
export function popularityCells(p: CatalogueParams, cellOf: (item: number) => number, popularity: ArrayLike<number>, isTarget: Uint8Array): PopularityCells {
  const nCells = p.numCategories * COLOURS.length * PATTERNS.length;
  const cellItems: number[][] = Array.from({ length: nCells }, () => []);
  for (let i = 0; i < p.numItems; i++) if (!isTarget[i]) cellItems[cellOf(i)]!.push(i);
  const cellCum: Float64Array[] = cellItems.map((items) => {
    const cum = new Float64Array(items.length);
    let s = 0;
    items.forEach((i, k) => (cum[k] = s += Math.pow(popularity[i]!, p.popularityBias)));
    return cum;
  });
  const cellMass = cellCum.map((c) => (c.length ? c[c.length - 1]! : 0));
  const allItems: number[] = [];
  for (let i = 0; i < p.numItems; i++) if (!isTarget[i]) allItems.push(i);
  const allCum = new Float64Array(allItems.length);
  {
    let s = 0;
    allItems.forEach((i, k) => (allCum[k] = s += Math.pow(popularity[i]!, p.popularityBias)));
  }
  return { cellItems, cellCum, cellMass, allItems, allCum };
}

/** Style segment prototypes (log-space tastes) that users' tastes are drawn around. */
export interface SegmentPrototype {
  c: Float32Array;
  col: Float32Array;
  pat: Float32Array;
}

export function segmentPrototypes(p: CatalogueParams, tasteRng: Rng): SegmentPrototype[] {
  return Array.from({ length: p.numSegments }, () => ({
    c: tasteRng.normalArray(p.numCategories),
    col: tasteRng.normalArray(COLOURS.length),
    pat: tasteRng.normalArray(PATTERNS.length),
  }));
}

/** One user's taste: a segment drawn from `rng`, jittered by tasteNoise, softmaxed. */
export function drawTaste(p: CatalogueParams, protos: readonly SegmentPrototype[], rng: Rng): UserTaste {
  const s = protos[rng.int(p.numSegments)]!;
  const jitter = (base: Float32Array): Float64Array => {
    const z = new Float64Array(base.length);
    for (let k = 0; k < base.length; k++) z[k] = base[k]! + p.tasteNoise * rng.normal();
    return z;
  };
  return {
    category: softmax(jitter(s.c), p.categorySharpness),
    colour: softmax(jitter(s.col), p.colourSharpness),
    pattern: softmax(jitter(s.pat), p.patternSharpness),
  };
}

/** User tastes around style segments. */
function drawTastes(p: CatalogueParams, root: Rng): UserTaste[] {
  const tasteRng = root.fork('tastes');
  const protos = segmentPrototypes(p, tasteRng);
  const tastes: UserTaste[] = new Array(p.numUsers);
  for (let u = 0; u < p.numUsers; u++) tastes[u] = drawTaste(p, protos, tasteRng);
  return tastes;
}

/**
 * One user's picks, in time order: n ~ lognormal; each pick: explore (popularity) or taste cell x
 * popularity; distinct items, strictly increasing timestamps. `scratch` holds the user's cumulative
 * cell weights (one slot per cell).
 */
export function drawUserItems(p: CatalogueParams, ur: Rng, tu: UserTaste, cells: PopularityCells, scratch: Float64Array): { items: number[]; times: number[] } {
  const { cellItems, cellCum, cellMass, allItems, allCum } = cells;
  const nCat = p.numCategories,
    nCol = COLOURS.length,
    nPat = PATTERNS.length;
  const want = Math.min(
    allItems.length,
    Math.max(p.minPerUser, Math.min(p.maxPerUser, Math.round(p.activityMedian * Math.exp(p.activitySigma * ur.normal())))),
  );
  let s = 0;
  for (let c = 0; c < nCat; c++)
    for (let col = 0; col < nCol; col++)
      for (let pat = 0; pat < nPat; pat++) {
        const cell = (c * nCol + col) * nPat + pat;
        s += tu.category[c]! * tu.colour[col]! * tu.pattern[pat]! * cellMass[cell]!;
        scratch[cell] = s;
      }
  const chosen = new Set<number>();
  const items: number[] = [];
  const times: number[] = [];
  let time = 1_600_000_000 + Math.floor(ur.uniform(0, 365 * 86400));
  for (let tries = 0; chosen.size < want && tries < want * 30; tries++) {
    let item: number;
    if (ur.next() < p.explore || !(s > 0)) {
      item = allItems[searchCum(allCum, ur.next() * allCum[allCum.length - 1]!)]!;
    } else {
      const cell = searchCum(scratch, ur.next() * s);
      const cum = cellCum[cell]!;
      item = cellItems[cell]![searchCum(cum, ur.next() * cum[cum.length - 1]!)]!;
    }
    if (chosen.has(item)) continue;
    chosen.add(item);
    time += 60 + Math.floor(-Math.log(1 - ur.next()) * 86400 * 3);
    items.push(item);
    times.push(time);
  }
  return { items, times };
}

/** Interactions of every user (see drawUserItems), one forked stream per user. */
function drawInteractions(p: CatalogueParams, root: Rng, tastes: readonly UserTaste[], cells: PopularityCells): Interaction[] {
  const interRng = root.fork('interactions');
  const interactions: Interaction[] = [];
  const scratch = new Float64Array(p.numCategories * COLOURS.length * PATTERNS.length);
  for (let u = 0; u < p.numUsers; u++) {
    const { items, times } = drawUserItems(p, interRng.fork(`u${u}`), tastes[u]!, cells, scratch);
    items.forEach((item, k) => interactions.push({ user: u, item, timestamp: times[k]! }));
  }
  return interactions;
}

/** A synthetic catalogue: items, cold targets, user tastes and taste-driven interactions, all from one seed. */
export function synthesizeCatalogue(opts: CatalogueOptions): SynthDataset {
  const p = catalogueParams(opts.profile, opts.overrides);
  const root = new Rng(opts.seed);
  const nCat = p.numCategories;
  const { cats, attributes, popularity } = drawItems(p, root);
  const targets = pickTargets(p, root, cats);
  const isTarget = new Uint8Array(p.numItems);
  for (const t of targets) {
    isTarget[t] = 1;
    popularity[t] = 0;
  }
  const cells = popularityCells(p, (i) => { const a = attributes[i]!; return cellIndex(a.category, a.colour, a.pattern); }, popularity, isTarget);
  const tastes = drawTastes(p, root);
  const interactions = drawInteractions(p, root, tastes, cells);

  const split: Split = leaveOneOutSplit(p.numUsers, interactions, { rng: root.fork('split') });
  const pad = (n: number): number => String(n - 1).length;
  const up = pad(p.numUsers),
    ip = pad(p.numItems);
  const userIds = Array.from({ length: p.numUsers }, (_, u) => `u${String(u).padStart(up, '0')}`);
  const itemIds = Array.from({ length: p.numItems }, (_, i) => `i${String(i).padStart(ip, '0')}`);
  return {
    info: {
      name: `synthetic-fashion-${opts.profile}-seed${opts.seed}`,
      profile: opts.profile,
      seed: opts.seed,
      source: `embedded synthetic fashion catalogue (profile ${opts.profile}, seed ${opts.seed})`,
    },
    userIds,
    itemIds,
    itemCategory: cats,
    categoryNames: CATEGORIES.slice(0, nCat),
    // The looks users' tastes are defined on, as labels a platform's catalogue would carry.
    itemAttributes: [
      { name: 'colour', values: COLOURS.map((c) => c.name), labels: Int32Array.from(attributes, (a) => a.colour) },
      { name: 'pattern', values: [...PATTERNS], labels: Int32Array.from(attributes, (a) => a.pattern) },
    ],
    interactions,
    images: new SynthImageSource(attributes, p.imageSize, p.imageCache),
    split,
    targets,
    params: p,
    attributes,
    tastes,
    popularity,
  };
}

/** One-hot (category | colour | pattern) attribute vector of an item: ground-truth visual features. */
export function attributeVector(a: ItemAttributes, numCategories: number = CATEGORIES.length): Float32Array {
  const v = new Float32Array(numCategories + COLOURS.length + PATTERNS.length);
  v[a.category] = 1;
  v[numCategories + a.colour] = 1;
  v[numCategories + COLOURS.length + a.pattern] = 1;
  return v;
}

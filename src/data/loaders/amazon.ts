/**
 * Raw Amazon (McAuley) files: reviews as JSON lines (strict JSON or Python `str(dict)` literals;
 * fields reviewerID, asin, unixReviewTime), optional item metadata lines (asin, categories, imUrl)
 * and either an images folder (<asin>.jpg|png|webp) or the VBPR precomputed-feature binary.
 * Streamed line by line; images are decoded lazily.
 */
import path from 'node:path';
import { InputError } from '../../core/errors.js';
import type { Dataset } from '../dataset.js';
import { assembleDataset, DEFAULT_LOADER_IMAGE_SIZE, findImageFile, ItemFolderImages, NoPixelsImageSource, readLines, type RawInteraction } from './common.js';
import { packFeatures, readFeatureFile } from './features.js';
import { parseLiteral, type PyValue } from './pyliteral.js';

export interface AmazonOptions {
  metaFile?: string;
  imagesDir?: string;
  featuresFile?: string;
  /** Feature dimension of the .b file (default 4096). */
  featureDim?: number;
  imageSize?: number;
  seed?: number;
  name?: string;
  /** Drop users with fewer distinct usable items than this (default 1; VBPR used 5). */
  minUserInteractions?: number;
}

/** Parse one line of a JSON-lines / Python-literal-lines file into an object. */
export function parseRecordLine(line: string, file: string, no: number): Record<string, PyValue> {
  let v: PyValue;
  try {
    v = parseLiteral(line);
  } catch (err) {
    throw new InputError(`not a JSON or Python-literal record: ${(err as Error).message}`, file, no);
  }
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw new InputError('expected an object per line', file, no);
  return v;
}

export async function loadAmazon(reviewsFile: string, opts: AmazonOptions = {}): Promise<Dataset> {
  const raw: RawInteraction[] = [];
  for await (const { line, no } of readLines(reviewsFile)) {
    if (!line.trim()) continue;
    const r = parseRecordLine(line, reviewsFile, no);
    const user = r.reviewerID, item = r.asin;
    if (typeof user !== 'string' || !user) throw new InputError("missing 'reviewerID'", reviewsFile, no);
    if (typeof item !== 'string' || !item) throw new InputError("missing 'asin'", reviewsFile, no);
    const t = r.unixReviewTime;
    if (t !== undefined && t !== null && typeof t !== 'number') throw new InputError(`'unixReviewTime' ${JSON.stringify(t)} is not a number`, reviewsFile, no);
    raw.push(typeof t === 'number' ? { user, item, timestamp: t } : { user, item });
  }
  const wanted = new Set(raw.map((r) => r.item));
  const category = new Map<string, string>();
  if (opts.metaFile) {
    for await (const { line, no } of readLines(opts.metaFile)) {
      if (!line.trim()) continue;
      const m = parseRecordLine(line, opts.metaFile, no);
      if (typeof m.asin !== 'string' || !wanted.has(m.asin)) continue;
      // The deepest level of the first category path, e.g. 'Shirts' in [Clothing, Men, Shirts]:
      // 2014 dumps have categories: [[...]], 2018 dumps category: [...].
      const cats = m.categories;
      const path2018 = m.category;
      const first = Array.isArray(cats) && Array.isArray(cats[0]) ? cats[0] : Array.isArray(path2018) ? path2018 : null;
      if (first && first.length > 0) category.set(m.asin, String(first[first.length - 1]));
    }
  }
  return finishRaw(raw, {
    ...opts,
    kind: 'Amazon',
    sourceFiles: [reviewsFile, opts.metaFile].filter((f): f is string => !!f),
    ...(opts.metaFile ? { categoryOf: (id: string) => category.get(id) } : {}),
  });
}

export interface FinishOptions {
  imagesDir?: string;
  featuresFile?: string;
  featureDim?: number;
  imageSize?: number;
  seed?: number;
  name?: string;
  minUserInteractions?: number;
  kind: string;
  sourceFiles: string[];
  categoryOf?: (id: string) => string | undefined;
}

/** Attach images (folder) or features (.b) to raw interactions, dropping items that have neither. */
export function finishRaw(raw: RawInteraction[], o: FinishOptions): Dataset {
  const wanted = new Set(raw.map((r) => r.item));
  const size = o.imageSize ?? DEFAULT_LOADER_IMAGE_SIZE;
  const name = o.name ?? path.basename(o.sourceFiles[0]!).replace(/\.(json|gz)+$/, '');
  const seed = o.seed ?? 0;
  let keep: ((id: string) => boolean) | undefined;
  let images: (ids: readonly string[]) => import('../dataset.js').ImageSource;
  let features: ((ids: readonly string[]) => { dim: number; data: Float32Array }) | undefined;
  let note = '';
  if (o.imagesDir) {
    const files = new Map<string, string>();
    for (const id of wanted) {
      const f = findImageFile(o.imagesDir, id);
      if (f) files.set(id, f);
    }
    if (files.size === 0) throw new InputError(`no item images found (expected files named <item id>.jpg/.png/.webp)`, o.imagesDir);
    keep = (id) => files.has(id);
    note = `${wanted.size - files.size} of ${wanted.size} items dropped for lack of an image`;
    images = (ids) => new ItemFolderImages(size, ids.map((id) => files.get(id)!), ids);
  } else if (o.featuresFile) {
    const table = readFeatureFile(o.featuresFile, wanted, o.featureDim);
    if (table.byId.size === 0) throw new InputError(`none of the ${wanted.size} items has a record in the feature file`, o.featuresFile);
    keep = (id) => table.byId.has(id);
    note = `${wanted.size - table.byId.size} of ${wanted.size} items dropped for lack of features; features only (no pixels)`;
    images = () => new NoPixelsImageSource(name);
    features = (ids) => packFeatures(table, ids);
  } else {
    throw new InputError(`${o.kind} import needs item images (--images DIR) or precomputed features (--features FILE.b)`, o.sourceFiles[0]);
  }
  const minU = o.minUserInteractions ?? 1;
  if (minU > 1) {
    const perUser = new Map<string, Set<string>>();
    for (const r of raw) if (!keep || keep(r.item)) (perUser.get(r.user) ?? perUser.set(r.user, new Set()).get(r.user)!).add(r.item);
    const before = perUser.size;
    raw = raw.filter((r) => (perUser.get(r.user)?.size ?? 0) >= minU);
    const after = new Set(raw.map((r) => r.user)).size;
    note += `; ${before - after} of ${before} users dropped with fewer than ${minU} items`;
  }
  return assembleDataset({
    info: { name, profile: 'imported', seed, source: `${o.kind} ${o.sourceFiles.map((f) => path.basename(f)).join(' + ')}: ${note}` },
    raw,
    keepItem: keep,
    ...(o.categoryOf ? { categoryOf: o.categoryOf } : {}),
    images,
    ...(features ? { features } : {}),
  });
}

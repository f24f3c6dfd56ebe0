/**
 * The generic dataset folder format (spec section 2), read and write.
 *
 *   interactions.csv     header `user,item[,timestamp]` (extra columns ignored), or
 *   interactions.jsonl   one {"user","item","timestamp"?} object per line
 *   items.csv            optional, header `item[,category][,<attribute>...]`: the item list (and its
 *                        order); an extra column is an item attribute (e.g. colour) when
 *                        dataset.json `attributes` declares it, and is ignored with a warning otherwise
 *   images/<item>.png|jpg|jpeg|webp   one image per item, decoded lazily to RGB [0,1] at a fixed size
 *   masks/<item>.png     optional foreground masks of some items (white = product; ./masks.ts)
 *   targets.txt          optional, one item id per line ('#' comments and blank lines ignored)
 *   dataset.json         optional: name, profile, seed, imageSize, categories, attributes
 *                        ({"colour": ["red", ...]}: column name -> its values, in label order), counts
 *
 * Image modes: 8-bit RGB is read as is. Greyscale, greyscale+alpha and RGBA images are converted to
 * RGB (alpha flattened onto white, the product-shot background) with one warning naming the modes
 * and counts; with `imageMode: 'strict'` they are refused. CMYK and other colour spaces are always
 * refused. Every problem a user can fix is a one-line InputError naming the file and line or item.
 * Users are the users that appear in the interactions file (users without interactions are not kept).
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import type { Metadata as SharpMetadata, OutputInfo as SharpOutputInfo } from 'sharp';
import { InputError } from '../core/errors.js';
import { writeDirAtomic } from '../core/fsutil.js';
import { Progress } from '../core/progress.js';
import { Rng } from '../core/rng.js';
import { CachedImageSource, type Dataset, type ImageSource, type Interaction, type ItemLabelSet } from './dataset.js';
import { readMaskFolder } from './masks.js';
import { encodePngRgb } from './png.js';
import { itemsWithoutTraining, leaveOneOutSplit } from './split.js';
import { checkId, checkTimestampsAllOrNone, csvField, exists, insideRoot, lines, parseCsvLine, parseInteractionsCsv, parseInteractionsJsonl, readText, type RawInteraction } from './folder-parse.js';

export { parseCsvLine } from './folder-parse.js';

export const FOLDER_FORMAT = 'auv-fusion-folder/1';
export const IMAGE_EXTENSIONS = ['.png', '.jpg', '.jpeg', '.webp'] as const;
export const DEFAULT_IMAGE_SIZE = 64;

/** Contents of dataset.json. */
export interface DatasetJson {
  format?: string;
  name?: string;
  profile?: string;
  seed?: number;
  source?: string;
  imageSize?: number;
  categories?: string[];
  /** Item attribute columns of items.csv and their values (label order). */
  attributes?: Record<string, string[]>;
  counts?: { users: number; items: number; interactions: number; targets: number };
}

export interface ReadFolderOptions {
  /** Side of the decoded images (default: dataset.json imageSize, else 64). */
  imageSize?: number;
  /** 'convert' (default): grey/alpha images become RGB with a warning; 'strict': refuse them. */
  imageMode?: 'convert' | 'strict';
  /**
   * How far images are checked up front: 'exists' (file present and inside the folder), 'header'
   * (default: also format, mode and size read from the header), 'full' (decode every image).
   */
  checkImages?: 'exists' | 'header' | 'full';
  /** Decoded images kept in memory (default 20,000). */
  cacheImages?: number;
  /** Where warnings go (default: stderr unless AUV_QUIET=1). */
  onWarning?: (message: string) => void;
  /** Called as images are checked (for progress bars). */
  onImageChecked?: (done: number, total: number) => void;
}

/** A dataset read from a folder, with the warnings raised while reading it. */
export interface FolderDataset extends Dataset {
  readonly dir: string;
  readonly warnings: readonly string[];
  /** Absolute image file of each item. */
  readonly imageFiles: readonly string[];
}

// ---------------------------------------------------------------------------------------------
// Images

type Mode = 'RGB' | 'RGBA' | 'greyscale' | 'greyscale+alpha' | string;

function describeMode(meta: SharpMetadata): Mode {
  const space = meta.space ?? 'srgb';
  if (space === 'cmyk') return 'CMYK';
  if (meta.channels === 1 || space === 'b-w') return meta.hasAlpha ? 'greyscale+alpha' : 'greyscale';
  if (meta.channels === 2) return 'greyscale+alpha';
  if (space !== 'srgb' && space !== 'rgb' && space !== 'rgb16' && space !== 'grey16')
    return `colour space ${space}`;
  if (meta.channels === 4) return 'RGBA';
  if (meta.channels === 3) return 'RGB';
  return `${meta.channels}-channel`;
}

/** Images of a dataset folder, decoded lazily with sharp to size x size RGB floats in [0,1]. */
export class FolderImageSource implements ImageSource {
  readonly hasPixels = true;
  constructor(
    readonly size: number,
    private readonly files: readonly string[],
    private readonly itemIds: readonly string[],
    private readonly imageMode: 'convert' | 'strict' = 'convert',
  ) {}

  async load(item: number): Promise<Float32Array> {
    const file = this.files[item];
    if (file === undefined) throw new Error(`no item with index ${item}`);
    return decodeImage(file, this.size, this.imageMode, `item '${this.itemIds[item]}'`);
  }
}

/** Decode one image file to size x size x 3 floats in [0,1]; InputError on a bad file. */
export async function decodeImage(file: string, size: number, imageMode: 'convert' | 'strict' = 'convert', location?: string): Promise<Float32Array> {
  let data: Buffer, info: SharpOutputInfo;
  try {
    const img = sharp(file, { failOn: 'error' });
    const meta = await img.metadata();
    const mode = describeMode(meta);
    if (mode !== 'RGB' && (imageMode === 'strict' || !['RGBA', 'greyscale', 'greyscale+alpha'].includes(mode)))
      throw new InputError(`image mode ${mode} is not supported (expected 8-bit RGB${imageMode === 'strict' ? '' : ', RGBA or greyscale'})`, file, location);
    let pipe = img.flatten({ background: { r: 255, g: 255, b: 255 } }).toColourspace('srgb');
    if (meta.width !== size || meta.height !== size)
      pipe = pipe.resize(size, size, { fit: 'contain', background: { r: 255, g: 255, b: 255 }, kernel: 'lanczos3' });
    ({ data, info } = await pipe.removeAlpha().raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true }));
  } catch (err) {
    if (err instanceof InputError) throw err;
    throw new InputError(`corrupt or unreadable image: ${(err as Error).message.split('\n')[0]}`, file, location);
  }
  if (info.channels !== 3 || info.width !== size || info.height !== size)
    throw new InputError(`decoded to ${info.width}x${info.height}x${info.channels}, expected ${size}x${size}x3`, file, location);
  const out = new Float32Array(size * size * 3);
  for (let k = 0; k < out.length; k++) out[k] = data[k]! / 255;
  return out;
}

// ---------------------------------------------------------------------------------------------
// Reading

/** Warnings raised while reading, kept and passed on (opts.onWarning, else stderr unless AUV_QUIET=1). */
function warnings(opts: ReadFolderOptions): { list: string[]; warn: (m: string) => void } {
  const list: string[] = [];
  const warn = (m: string): void => {
    list.push(m);
    if (opts.onWarning) opts.onWarning(m);
    else if (process.env.AUV_QUIET !== '1') process.stderr.write(`auv-fusion: warning: ${m}\n`);
  };
  return { list, warn };
}

async function datasetRoot(dir: string): Promise<string> {
  try {
    const root = await fs.realpath(dir);
    if (!(await fs.stat(root)).isDirectory()) throw new Error('not a folder');
    return root;
  } catch (err) {
    throw new InputError(`dataset folder not found or not a folder (${(err as Error).message.split('\n')[0]})`, dir);
  }
}

/** dataset.json (optional), checked. */
async function readDatasetJson(root: string): Promise<DatasetJson> {
  const at = path.join(root, 'dataset.json');
  if (!(await exists(at))) return {};
  const file = await insideRoot(root, at, 'dataset.json');
  let meta: DatasetJson;
  try {
    meta = JSON.parse((await readText(file, 'dataset description')).replace(/^\uFEFF/, '')) as DatasetJson; // a BOM is accepted, as in the CSV files
  } catch (err) {
    if (err instanceof InputError) throw err;
    throw new InputError(`malformed JSON: ${(err as Error).message.split('\n')[0]}`, at);
  }
  if (typeof meta !== 'object' || meta === null || Array.isArray(meta)) throw new InputError('must hold a JSON object', at);
  if (meta.imageSize !== undefined && !(Number.isInteger(meta.imageSize) && meta.imageSize >= 1 && meta.imageSize <= 4096))
    throw new InputError(`imageSize must be an integer in [1, 4096], got ${JSON.stringify(meta.imageSize)}`, at);
  if (meta.seed !== undefined && !Number.isFinite(meta.seed)) throw new InputError(`seed must be a number, got ${JSON.stringify(meta.seed)}`, at);
  if (meta.categories !== undefined && !(Array.isArray(meta.categories) && meta.categories.every((c) => typeof c === 'string')))
    throw new InputError('categories must be a list of strings', at);
  if (
    meta.attributes !== undefined &&
    !(typeof meta.attributes === 'object' && meta.attributes !== null && !Array.isArray(meta.attributes) && Object.values(meta.attributes).every((v) => Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === 'string')))
  )
    throw new InputError('attributes must map each attribute column name to a non-empty list of strings', at);
  return meta;
}

/** interactions.csv or interactions.jsonl (exactly one of them). */
async function readInteractionsFile(root: string): Promise<{ raw: RawInteraction[]; interFile: string }> {
  const csv = path.join(root, 'interactions.csv'),
    jsonl = path.join(root, 'interactions.jsonl');
  const hasCsv = await exists(csv),
    hasJsonl = await exists(jsonl);
  if (hasCsv && hasJsonl) throw new InputError('both interactions.csv and interactions.jsonl exist: keep one', root);
  if (!hasCsv && !hasJsonl) throw new InputError('no interactions file: expected interactions.csv or interactions.jsonl', root);
  const interFile = hasCsv ? csv : jsonl;
  await insideRoot(root, interFile, 'interactions file');
  const rawText = await readText(interFile, 'interactions');
  const raw = hasCsv ? parseInteractionsCsv(rawText, interFile) : parseInteractionsJsonl(rawText, interFile);
  checkTimestampsAllOrNone(raw, interFile);
  return { raw, interFile };
}

/** The item list being built: ids in order, their index, raw category names and attribute labels. */
interface ItemList {
  itemIndex: Map<string, number>;
  itemIds: string[];
  itemCats: (string | undefined)[];
  itemAttributes: ItemLabelSet[];
}

function addItem(items: ItemList, id: string, category?: string): void {
  items.itemIndex.set(id, items.itemIds.length);
  items.itemIds.push(id);
  items.itemCats.push(category);
}

/** items.csv: fixes the item list and order, categories and the declared attribute columns. */
async function readItemsCsv(itemsFile: string, meta: DatasetJson, warn: (m: string) => void): Promise<ItemList> {
  const items: ItemList = { itemIndex: new Map(), itemIds: [], itemCats: [], itemAttributes: [] };
  const attributeNames = Object.keys(meta.attributes ?? {});
  const ls = lines(await readText(itemsFile, 'items'));
  const head = parseCsvLine(ls[0]!);
  if ('error' in head) throw new InputError(`malformed header: ${head.error}`, itemsFile, 1);
  const cols = head.map((h) => h.toLowerCase());
  const ii = cols.indexOf('item'),
    ci = cols.indexOf('category');
  if (ii < 0) throw new InputError(`missing header: the first line must name the columns 'item[,category]', got '${ls[0]!.slice(0, 60)}'`, itemsFile, 1);
  for (const a of attributeNames)
    if (!cols.includes(a.toLowerCase())) throw new InputError(`dataset.json declares the item attribute '${a}' but items.csv has no such column`, itemsFile, 1);
  const ignored = head.filter((h, k) => k !== ii && k !== ci && !attributeNames.some((a) => a.toLowerCase() === cols[k]));
  if (ignored.length > 0) warn(`${itemsFile}: column(s) ${ignored.join(', ')} ignored (not declared as item attributes in dataset.json)`);
  const attrCols = attributeNames.map((a) => {
    const values = meta.attributes![a]!;
    return { name: a, col: cols.indexOf(a.toLowerCase()), values, index: new Map(values.map((v, k) => [v, k])), labels: [] as number[] };
  });
  for (let n = 1; n < ls.length; n++) {
    if (ls[n]!.trim() === '') continue;
    const f = parseCsvLine(ls[n]!);
    if ('error' in f) throw new InputError(`malformed CSV line: ${f.error}`, itemsFile, n + 1);
    if (f.length !== cols.length) throw new InputError(`expected ${cols.length} fields (${cols.join(',')}), got ${f.length}`, itemsFile, n + 1);
    const id = f[ii]!;
    checkId(id, 'item', itemsFile, n + 1);
    if (items.itemIndex.has(id)) throw new InputError(`item '${id}' is listed twice`, itemsFile, n + 1);
    addItem(items, id, ci >= 0 && f[ci] !== '' ? f[ci] : undefined);
    for (const a of attrCols) {
      const k = a.index.get(f[a.col]!);
      if (k === undefined) throw new InputError(`item '${id}' has ${a.name} '${f[a.col]}', which is not among the values dataset.json attributes.${a.name} lists`, itemsFile, n + 1);
      a.labels.push(k);
    }
  }
  for (const a of attrCols) items.itemAttributes.push({ name: a.name, values: a.values, labels: Int32Array.from(a.labels) });
  if (items.itemIds.length === 0) throw new InputError('no items (only a header)', itemsFile);
  return items;
}

/** The items: items.csv when present (every interaction's item must be listed), else the interactions' items in order. */
async function readItems(root: string, meta: DatasetJson, raw: readonly RawInteraction[], interFile: string, warn: (m: string) => void): Promise<ItemList & { hasItems: boolean }> {
  const itemsFile = path.join(root, 'items.csv');
  if (await exists(itemsFile)) {
    await insideRoot(root, itemsFile, 'items.csv');
    const items = await readItemsCsv(itemsFile, meta, warn);
    for (const r of raw) if (!items.itemIndex.has(r.item)) throw new InputError(`unknown item '${r.item}' (not listed in items.csv)`, interFile, r.line);
    return { ...items, hasItems: true };
  }
  const attributeNames = Object.keys(meta.attributes ?? {});
  if (attributeNames.length > 0) throw new InputError(`declares item attributes (${attributeNames.join(', ')}) but the folder has no items.csv to hold them`, path.join(root, 'dataset.json'));
  const items: ItemList = { itemIndex: new Map(), itemIds: [], itemCats: [], itemAttributes: [] };
  for (const r of raw) if (!items.itemIndex.has(r.item)) addItem(items, r.item);
  return { ...items, hasItems: false };
}

/** images/<id>.<ext> of every item; without items.csv, items that only have an image are added (sorted). */
async function itemImages(root: string, items: ItemList, hasItems: boolean, warn: (m: string) => void): Promise<{ imagesDir: string; imageFiles: string[] }> {
  const imagesDir = path.join(root, 'images');
  if (!(await exists(imagesDir))) throw new InputError('no images folder (expected images/<item>.png|jpg|webp)', root);
  const imagesReal = await insideRoot(root, imagesDir, 'images folder');
  const byId = new Map<string, string>();
  for (const name of (await fs.readdir(imagesReal)).sort()) {
    const ext = path.extname(name).toLowerCase();
    if (!(IMAGE_EXTENSIONS as readonly string[]).includes(ext)) continue;
    const id = name.slice(0, -ext.length);
    const prev = byId.get(id);
    if (prev) throw new InputError(`item '${id}' has two images (${prev}, ${name}): keep one`, path.join(imagesDir, name));
    byId.set(id, name);
  }
  if (!hasItems) {
    const extra = [...byId.keys()].filter((id) => !items.itemIndex.has(id)).sort();
    for (const id of extra) addItem(items, id);
  } else {
    const unused = [...byId.keys()].filter((id) => !items.itemIndex.has(id)).length;
    if (unused > 0) warn(`${imagesDir}: ${unused} image(s) of items not listed in items.csv were ignored`);
  }
  const { itemIds } = items;
  const imageFiles: string[] = new Array(itemIds.length);
  for (let i = 0; i < itemIds.length; i++) {
    const name = byId.get(itemIds[i]!);
    if (!name) throw new InputError(`missing image: no images/${itemIds[i]}.png|jpg|jpeg|webp`, imagesDir, `item '${itemIds[i]}'`);
    imageFiles[i] = await insideRoot(root, path.join(imagesDir, name), 'image', `item '${itemIds[i]}'`);
  }
  return { imagesDir, imageFiles };
}

/** Users (in order of appearance) and interactions; repeated (user, item) rows dropped with a warning. */
function indexInteractions(raw: readonly RawInteraction[], itemIndex: ReadonlyMap<string, number>, interFile: string, warn: (m: string) => void): { userIds: string[]; interactions: Interaction[] } {
  const userIndex = new Map<string, number>();
  const userIds: string[] = [];
  const interactions: Interaction[] = [];
  const seenPairs = new Set<string>();
  let dups = 0;
  for (const r of raw) {
    let u = userIndex.get(r.user);
    if (u === undefined) {
      u = userIds.length;
      userIndex.set(r.user, u);
      userIds.push(r.user);
    }
    const item = itemIndex.get(r.item)!;
    const key = `${u}\u0000${item}`;
    if (seenPairs.has(key)) {
      dups++;
      continue;
    }
    seenPairs.add(key);
    interactions.push(r.timestamp === undefined ? { user: u, item } : { user: u, item, timestamp: r.timestamp });
  }
  if (dups > 0) warn(`${interFile}: dropped ${dups} duplicate (user, item) row(s)`);
  return { userIds, interactions };
}

/** Categories: dataset.json order when given, else order of first appearance; all items or none. */
function itemCategories(items: ItemList, meta: DatasetJson, itemsFile: string): { itemCategory: Int32Array | null; categoryNames: string[] } {
  const { itemIds, itemCats } = items;
  if (!itemCats.some((c) => c !== undefined)) return { itemCategory: null, categoryNames: [] };
  const categoryNames = meta.categories ? [...meta.categories] : [];
  const catIndex = new Map(categoryNames.map((c, k) => [c, k]));
  const itemCategory = new Int32Array(itemIds.length);
  for (let i = 0; i < itemIds.length; i++) {
    const c = itemCats[i];
    if (c === undefined) throw new InputError(`item '${itemIds[i]}' has no category while others have one`, itemsFile);
    let k = catIndex.get(c);
    if (k === undefined) {
      if (meta.categories) throw new InputError(`category '${c}' of item '${itemIds[i]}' is not in dataset.json categories`, itemsFile);
      k = categoryNames.length;
      catIndex.set(c, k);
      categoryNames.push(c);
    }
    itemCategory[i] = k;
  }
  return { itemCategory, categoryNames };
}

/** Targets: targets.txt (warm targets warned about), else the items without training interactions. */
async function readTargets(root: string, split: ReturnType<typeof leaveOneOutSplit>, items: ItemList, warn: (m: string) => void): Promise<number[]> {
  const { itemIds, itemIndex } = items;
  const targetsFile = path.join(root, 'targets.txt');
  if (!(await exists(targetsFile))) return itemsWithoutTraining(split, itemIds.length);
  await insideRoot(root, targetsFile, 'targets.txt');
  const cold = new Set(itemsWithoutTraining(split, itemIds.length));
  const ls = lines(await readText(targetsFile, 'target list'));
  const set = new Set<number>();
  const targets: number[] = [];
  for (let n = 0; n < ls.length; n++) {
    const id = ls[n]!.trim();
    if (id === '' || id.startsWith('#')) continue;
    const i = itemIndex.get(id);
    if (i === undefined) throw new InputError(`unknown item '${id}'`, targetsFile, n + 1);
    if (!set.has(i)) {
      set.add(i);
      targets.push(i);
    }
  }
  if (targets.length === 0) throw new InputError('no target ids (only comments or blank lines)', targetsFile);
  const warm = targets.filter((t) => !cold.has(t));
  if (warm.length > 0)
    warn(
      `${targetsFile}: ${warm.length} of ${targets.length} target item(s) have training interactions and are evaluated as warm items, not cold-start: ` +
        warm.slice(0, 5).map((t) => `'${itemIds[t]}'`).join(', ') + (warm.length > 5 ? ', ...' : ''),
    );
  return targets;
}

/** Image checks up front: header (format, mode, size) or a full decode of every image; nothing with checkImages 'exists'. */
async function checkImageFiles(imageFiles: readonly string[], itemIds: readonly string[], size: number, imagesDir: string, opts: ReadFolderOptions, warn: (m: string) => void): Promise<void> {
  const mode = opts.imageMode ?? 'convert';
  const check = opts.checkImages ?? 'header';
  if (check === 'exists') return;
  const converted = new Map<string, number>();
  let resized = 0;
  const bar = opts.onImageChecked ? null : new Progress(check === 'full' ? 'decoding images' : 'checking images', imageFiles.length);
  for (let i = 0; i < imageFiles.length; i++) {
    const file = imageFiles[i]!,
      loc = `item '${itemIds[i]}'`;
    let m: SharpMetadata;
    try {
      m = await sharp(file).metadata();
    } catch (err) {
      throw new InputError(`corrupt or unreadable image: ${(err as Error).message.split('\n')[0]}`, file, loc);
    }
    if (!['png', 'jpeg', 'webp'].includes(m.format ?? '')) throw new InputError(`image format '${m.format}' is not supported (PNG, JPEG or WebP)`, file, loc);
    const md = describeMode(m);
    if (md !== 'RGB') {
      if (mode === 'strict' || !['RGBA', 'greyscale', 'greyscale+alpha'].includes(md))
        throw new InputError(`image mode ${md} is not supported (expected 8-bit RGB${mode === 'strict' ? '' : ', RGBA or greyscale'})`, file, loc);
      converted.set(md, (converted.get(md) ?? 0) + 1);
    }
    if (m.width !== size || m.height !== size) resized++;
    if (check === 'full') await decodeImage(file, size, mode, loc);
    opts.onImageChecked?.(i + 1, imageFiles.length);
    bar?.tick();
  }
  bar?.finish();
  for (const [md, n] of converted) warn(`${imagesDir}: ${n} image(s) in mode ${md} converted to RGB${md.includes('alpha') || md === 'RGBA' ? ' (alpha flattened onto white)' : ''}`);
  if (resized > 0) warn(`${imagesDir}: ${resized} image(s) are not ${size}x${size} and are resized on load (aspect kept, padded with white)`);
}

/** dataset.json `counts` against what the files hold (a warning per difference). */
function checkCounts(meta: DatasetJson, got: Required<DatasetJson>['counts'], file: string, warn: (m: string) => void): void {
  if (!meta.counts) return;
  const c = meta.counts;
  for (const k of ['users', 'items', 'interactions', 'targets'] as const) if (c[k] !== undefined && c[k] !== got[k]) warn(`${file}: counts.${k} says ${c[k]} but the files hold ${got[k]}`);
}

export async function readDatasetFolder(dir: string, opts: ReadFolderOptions = {}): Promise<FolderDataset> {
  const { list: warningList, warn } = warnings(opts);
  const root = await datasetRoot(dir);
  const meta = await readDatasetJson(root);
  const size = opts.imageSize ?? meta.imageSize ?? DEFAULT_IMAGE_SIZE;
  const { raw, interFile } = await readInteractionsFile(root);
  const items = await readItems(root, meta, raw, interFile, warn);
  const { imagesDir, imageFiles } = await itemImages(root, items, items.hasItems, warn);
  const { itemIds, itemAttributes } = items;
  const { userIds, interactions } = indexInteractions(raw, items.itemIndex, interFile, warn);
  const { itemCategory, categoryNames } = itemCategories(items, meta, path.join(root, 'items.csv'));
  const seed = meta.seed ?? 0;
  const split = leaveOneOutSplit(userIds.length, interactions, { rng: new Rng(seed).fork('split') });
  const targets = await readTargets(root, split, items, warn);
  await checkImageFiles(imageFiles, itemIds, size, imagesDir, opts, warn);
  checkCounts(meta, { users: userIds.length, items: itemIds.length, interactions: interactions.length, targets: targets.length }, path.join(root, 'dataset.json'), warn);
  const images = new CachedImageSource(new FolderImageSource(size, imageFiles, itemIds, opts.imageMode ?? 'convert'), opts.cacheImages ?? 20_000);
  const itemMasks = await readMaskFolder(root, itemIds, size);
  return {
    info: {
      name: meta.name ?? path.basename(root),
      profile: meta.profile ?? 'imported',
      seed,
      source: meta.source ?? `dataset folder ${root}`,
    },
    userIds,
    itemIds,
    itemCategory,
    categoryNames,
    ...(itemAttributes.length > 0 ? { itemAttributes } : {}),
    interactions,
    images,
    ...(itemMasks ? { itemMasks } : {}),
    split,
    targets,
    dir: root,
    warnings: warningList,
    imageFiles,
  };
}

// ---------------------------------------------------------------------------------------------
// Writing

export interface WriteFolderOptions {
  /** Show a progress bar while writing images (default true; silenced under AUV_QUIET/vitest). */
  progress?: boolean;
}

/**
 * Write `ds` as a dataset folder, atomically (a temporary folder renamed into place). The same
 * dataset always gives byte-identical files (deterministic CSV, JSON and PNG encoding).
 */
export async function writeDatasetFolder(ds: Dataset, dir: string, opts: WriteFolderOptions = {}): Promise<void> {
  if (!ds.images.hasPixels) throw new InputError('this dataset has no pixel images; the folder format needs one image per item', dir);
  for (let i = 0; i < ds.itemIds.length; i++) checkId(ds.itemIds[i]!, 'item', 'itemIds', i + 1);
  if (ds.interactions.length === 0) throw new InputError('the dataset has no interactions', dir);
  // Users without interactions cannot be represented (interactions.csv defines the users).
  const timed = ds.interactions.every((it) => Number.isFinite(it.timestamp));
  // The folder is replaced as a whole: never replace a file or a folder that is not a dataset.
  const st = await fs.stat(dir).catch(() => null);
  if (st && !st.isDirectory()) throw new InputError('exists and is not a folder; refusing to replace it', dir);
  if (st) {
    const entries = await fs.readdir(dir);
    if (entries.length > 0 && !entries.includes('dataset.json'))
      throw new InputError('is a non-empty folder without dataset.json; refusing to replace it (choose a new or empty folder)', dir);
  }
  await writeDirAtomic(dir, async (tmp) => {
    const inter: string[] = [timed ? 'user,item,timestamp' : 'user,item'];
    for (const it of ds.interactions) {
      const row = `${csvField(ds.userIds[it.user]!)},${csvField(ds.itemIds[it.item]!)}`;
      inter.push(timed ? `${row},${it.timestamp}` : row);
    }
    await fs.writeFile(path.join(tmp, 'interactions.csv'), inter.join('\n') + '\n');
    const cat = ds.itemCategory;
    const attrs = ds.itemAttributes ?? [];
    const items: string[] = [['item', ...(cat ? ['category'] : []), ...attrs.map((a) => csvField(a.name))].join(',')];
    for (let i = 0; i < ds.itemIds.length; i++) {
      const row = [csvField(ds.itemIds[i]!)];
      if (cat) row.push(csvField(ds.categoryNames[cat[i]!] ?? String(cat[i])));
      for (const a of attrs) row.push(csvField(a.values[a.labels[i]!]!));
      items.push(row.join(','));
    }
    await fs.writeFile(path.join(tmp, 'items.csv'), items.join('\n') + '\n');
    if (ds.targets.length > 0) await fs.writeFile(path.join(tmp, 'targets.txt'), ds.targets.map((t) => ds.itemIds[t]).join('\n') + '\n');
    const users = new Set(ds.interactions.map((it) => it.user)).size;
    const json: DatasetJson = {
      format: FOLDER_FORMAT,
      name: ds.info.name,
      profile: ds.info.profile,
      seed: ds.info.seed,
      source: ds.info.source,
      imageSize: ds.images.size,
      ...(cat ? { categories: [...ds.categoryNames] } : {}),
      ...(attrs.length > 0 ? { attributes: Object.fromEntries(attrs.map((a) => [a.name, [...a.values]])) } : {}),
      counts: { users, items: ds.itemIds.length, interactions: ds.interactions.length, targets: ds.targets.length },
    };
    await fs.writeFile(path.join(tmp, 'dataset.json'), JSON.stringify(json, null, 2) + '\n');
    await fs.mkdir(path.join(tmp, 'images'));
    const bar = new Progress('writing images', ds.itemIds.length, opts.progress === false ? { quiet: true } : {});
    const s = ds.images.size;
    for (let i = 0; i < ds.itemIds.length; i++) {
      const img = await ds.images.load(i);
      await fs.writeFile(path.join(tmp, 'images', `${ds.itemIds[i]}.png`), encodePngRgb(img, s, s));
      bar.tick();
    }
    bar.finish();
  });
}

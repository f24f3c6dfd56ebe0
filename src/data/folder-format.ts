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
import { decodeUtf8 } from './utf8.js';
import { itemsWithoutTraining, leaveOneOutSplit } from './split.js';

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
// Parsing helpers

/** Split one CSV line (RFC 4180 quoting, no embedded newlines). Returns an error text on failure. */
export function parseCsvLine(line: string): string[] | { error: string } {
  const out: string[] = [];
  let k = 0;
  for (;;) {
    let field = '';
    let quoted = false;
    if (line[k] === '"') {
      quoted = true;
      k++;
      for (;;) {
        if (k >= line.length) return { error: 'unclosed quote' };
        const ch = line[k]!;
        if (ch === '"') {
          if (line[k + 1] === '"') {
            field += '"';
            k += 2;
          } else {
            k++;
            break;
          }
        } else {
          field += ch;
          k++;
        }
      }
      if (k < line.length && line[k] !== ',') return { error: `unexpected character '${line[k]}' after a closing quote` };
    } else {
      const end = line.indexOf(',', k);
      field = end < 0 ? line.slice(k) : line.slice(k, end);
      if (field.includes('"')) return { error: 'stray quote inside an unquoted field' };
      k = end < 0 ? line.length : end;
    }
    out.push(quoted ? field : field.trim());
    if (k >= line.length) return out;
    k++; // skip comma
  }
}

function csvField(s: string): string {
  return /[",\r\n]/.test(s) || s !== s.trim() ? `"${s.replace(/"/g, '""')}"` : s;
}

/** Lines of a text file, 1-based numbering kept; a BOM and trailing CR are removed. */
function lines(text: string): string[] {
  return text.replace(/^\uFEFF/, '').split('\n').map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
}

async function readText(file: string, what: string): Promise<string> {
  let bytes: Buffer;
  try {
    bytes = await fs.readFile(file);
  } catch (err) {
    throw new InputError(`cannot read ${what}: ${(err as Error).message.split('\n')[0]}`, file);
  }
  const text = decodeUtf8(bytes, file);
  if (text.trim() === '') throw new InputError(`empty file (${what})`, file);
  return text;
}

/** Reject ids that cannot safely name a file inside the dataset folder. */
function checkId(id: string, kind: 'user' | 'item', file: string, line: number): void {
  if (id === '') throw new InputError(`empty ${kind} id`, file, line);
  if (kind === 'item') {
    if (id === '.' || id === '..' || /[/\\\0]/.test(id) || id.split(/[/\\]/).includes('..'))
      throw new InputError(`item id '${id}' escapes the dataset folder (ids may not contain '/', '\\' or be '.'/'..')`, file, line);
    if (/[\x00-\x1f]/.test(id)) throw new InputError(`item id '${id}' contains control characters`, file, line);
  }
}

interface RawInteraction {
  user: string;
  item: string;
  timestamp?: number;
  line: number;
}

/** Decimal numbers only: `0x10`, `0b1`, `1_000` or ' 5' are refused rather than read as some other value. */
const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

function parseTimestamp(raw: string, file: string, line: number): number | undefined {
  if (raw === '') return undefined;
  if (!DECIMAL.test(raw)) throw new InputError(`timestamp '${raw}' is not a decimal number`, file, line);
  const t = Number(raw);
  if (!Number.isFinite(t)) throw new InputError(`timestamp '${raw}' is not a finite number`, file, line);
  return t;
}

/**
 * Timestamps are all-or-none per file: with some lines timed and others not, the leave-one-out
 * split would order some users and shuffle others (whose held-out item would then be random).
 */
function checkTimestampsAllOrNone(raw: readonly RawInteraction[], file: string): void {
  const timed = raw.filter((r) => r.timestamp !== undefined).length;
  if (timed === 0 || timed === raw.length) return;
  const first = raw.find((r) => r.timestamp === undefined)!;
  throw new InputError(`no timestamp, while ${timed} of ${raw.length} lines have one: give a timestamp on every line or on none`, file, first.line);
}

function parseInteractionsCsv(text: string, file: string): RawInteraction[] {
  const ls = lines(text);
  const head = parseCsvLine(ls[0]!);
  if ('error' in head) throw new InputError(`malformed header: ${head.error}`, file, 1);
  const cols = head.map((h) => h.toLowerCase());
  const ui = cols.indexOf('user'),
    ii = cols.indexOf('item'),
    ti = cols.indexOf('timestamp');
  if (ui < 0 || ii < 0)
    throw new InputError(`missing header: the first line must name the columns 'user,item[,timestamp]', got '${ls[0]!.slice(0, 60)}'`, file, 1);
  const out: RawInteraction[] = [];
  for (let n = 1; n < ls.length; n++) {
    const l = ls[n]!;
    if (l.trim() === '') continue;
    const f = parseCsvLine(l);
    if ('error' in f) throw new InputError(`malformed CSV line: ${f.error}`, file, n + 1);
    if (f.length !== cols.length) throw new InputError(`expected ${cols.length} fields (${cols.join(',')}), got ${f.length}`, file, n + 1);
    const user = f[ui]!,
      item = f[ii]!;
    checkId(user, 'user', file, n + 1);
    checkId(item, 'item', file, n + 1);
    const r: RawInteraction = { user, item, line: n + 1 };
    if (ti >= 0) {
      const t = parseTimestamp(f[ti]!, file, n + 1);
      if (t !== undefined) r.timestamp = t;
    }
    out.push(r);
  }
  if (out.length === 0) throw new InputError('no interactions (only a header)', file);
  return out;
}

function parseInteractionsJsonl(text: string, file: string): RawInteraction[] {
  const ls = lines(text);
  const out: RawInteraction[] = [];
  for (let n = 0; n < ls.length; n++) {
    const l = ls[n]!.trim();
    if (l === '') continue;
    let obj: unknown;
    try {
      obj = JSON.parse(l);
    } catch (err) {
      throw new InputError(`malformed JSON: ${(err as Error).message.split('\n')[0]}`, file, n + 1);
    }
    if (typeof obj !== 'object' || obj === null || Array.isArray(obj))
      throw new InputError('each line must be a JSON object {"user","item","timestamp"?}', file, n + 1);
    const o = obj as Record<string, unknown>;
    const id = (key: 'user' | 'item'): string => {
      const v = o[key];
      if (typeof v === 'string') return v;
      if (typeof v === 'number' && Number.isFinite(v)) return String(v);
      throw new InputError(`missing or invalid "${key}" (must be a string or number)`, file, n + 1);
    };
    const user = id('user'),
      item = id('item');
    checkId(user, 'user', file, n + 1);
    checkId(item, 'item', file, n + 1);
    const r: RawInteraction = { user, item, line: n + 1 };
    const t = o.timestamp;
    if (t !== undefined && t !== null) {
      if (typeof t === 'number' && Number.isFinite(t)) r.timestamp = t;
      else if (typeof t === 'string') {
        const v = parseTimestamp(t.trim(), file, n + 1);
        if (v !== undefined) r.timestamp = v;
      } else throw new InputError(`timestamp ${JSON.stringify(t)} is not a number`, file, n + 1);
    }
    out.push(r);
  }
  if (out.length === 0) throw new InputError('no interactions', file);
  return out;
}

async function exists(p: string): Promise<boolean> {
  try {
    await fs.lstat(p);
    return true;
  } catch {
    return false;
  }
}

/** Resolve `p` and refuse it when it (or a symlink along it) leads outside `root`. */
async function insideRoot(root: string, p: string, what: string, location?: string): Promise<string> {
  let real: string;
  try {
    real = await fs.realpath(p);
  } catch (err) {
    throw new InputError(`cannot resolve ${what}: ${(err as Error).message.split('\n')[0]}`, p, location);
  }
  const rel = path.relative(root, real);
  if (rel.startsWith('..') || path.isAbsolute(rel))
    throw new InputError(`${what} escapes the dataset folder (it resolves to ${real})`, p, location);
  return real;
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

export async function readDatasetFolder(dir: string, opts: ReadFolderOptions = {}): Promise<FolderDataset> {
  const warnings: string[] = [];
  const warn = (m: string): void => {
    warnings.push(m);
    if (opts.onWarning) opts.onWarning(m);
    else if (process.env.AUV_QUIET !== '1') process.stderr.write(`auv-fusion: warning: ${m}\n`);
  };
  let root: string;
  try {
    root = await fs.realpath(dir);
    if (!(await fs.stat(root)).isDirectory()) throw new Error('not a folder');
  } catch (err) {
    throw new InputError(`dataset folder not found or not a folder (${(err as Error).message.split('\n')[0]})`, dir);
  }
  const at = (name: string): string => path.join(root, name);

  // dataset.json (optional).
  let meta: DatasetJson = {};
  if (await exists(at('dataset.json'))) {
    const file = await insideRoot(root, at('dataset.json'), 'dataset.json');
    try {
      meta = JSON.parse((await readText(file, 'dataset description')).replace(/^\uFEFF/, '')) as DatasetJson; // a BOM is accepted, as in the CSV files
    } catch (err) {
      if (err instanceof InputError) throw err;
      throw new InputError(`malformed JSON: ${(err as Error).message.split('\n')[0]}`, at('dataset.json'));
    }
    if (typeof meta !== 'object' || meta === null || Array.isArray(meta)) throw new InputError('must hold a JSON object', at('dataset.json'));
    if (meta.imageSize !== undefined && !(Number.isInteger(meta.imageSize) && meta.imageSize >= 1 && meta.imageSize <= 4096))
      throw new InputError(`imageSize must be an integer in [1, 4096], got ${JSON.stringify(meta.imageSize)}`, at('dataset.json'));
    if (meta.seed !== undefined && !Number.isFinite(meta.seed)) throw new InputError(`seed must be a number, got ${JSON.stringify(meta.seed)}`, at('dataset.json'));
    if (meta.categories !== undefined && !(Array.isArray(meta.categories) && meta.categories.every((c) => typeof c === 'string')))
      throw new InputError('categories must be a list of strings', at('dataset.json'));
    if (
      meta.attributes !== undefined &&
      !(typeof meta.attributes === 'object' && meta.attributes !== null && !Array.isArray(meta.attributes) && Object.values(meta.attributes).every((v) => Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === 'string')))
    )
      throw new InputError('attributes must map each attribute column name to a non-empty list of strings', at('dataset.json'));
  }
  const size = opts.imageSize ?? meta.imageSize ?? DEFAULT_IMAGE_SIZE;

  // Interactions.
  const csv = at('interactions.csv'),
    jsonl = at('interactions.jsonl');
  const hasCsv = await exists(csv),
    hasJsonl = await exists(jsonl);
  if (hasCsv && hasJsonl) throw new InputError('both interactions.csv and interactions.jsonl exist: keep one', root);
  if (!hasCsv && !hasJsonl) throw new InputError('no interactions file: expected interactions.csv or interactions.jsonl', root);
  const interFile = hasCsv ? csv : jsonl;
  await insideRoot(root, interFile, 'interactions file');
  const rawText = await readText(interFile, 'interactions');
  const raw = hasCsv ? parseInteractionsCsv(rawText, interFile) : parseInteractionsJsonl(rawText, interFile);
  checkTimestampsAllOrNone(raw, interFile);

  // Items (items.csv fixes the list and order; else interactions order, then unreferenced images).
  const itemIndex = new Map<string, number>();
  const itemIds: string[] = [];
  const itemCats: (string | undefined)[] = [];
  const attributeNames = Object.keys(meta.attributes ?? {});
  const itemAttributes: ItemLabelSet[] = [];
  const itemsFile = at('items.csv');
  const hasItems = await exists(itemsFile);
  if (hasItems) {
    await insideRoot(root, itemsFile, 'items.csv');
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
      if (itemIndex.has(id)) throw new InputError(`item '${id}' is listed twice`, itemsFile, n + 1);
      itemIndex.set(id, itemIds.length);
      itemIds.push(id);
      itemCats.push(ci >= 0 && f[ci] !== '' ? f[ci] : undefined);
      for (const a of attrCols) {
        const k = a.index.get(f[a.col]!);
        if (k === undefined)
          throw new InputError(`item '${id}' has ${a.name} '${f[a.col]}', which is not among the values dataset.json attributes.${a.name} lists`, itemsFile, n + 1);
        a.labels.push(k);
      }
    }
    for (const a of attrCols) itemAttributes.push({ name: a.name, values: a.values, labels: Int32Array.from(a.labels) });
    if (itemIds.length === 0) throw new InputError('no items (only a header)', itemsFile);
    for (const r of raw)
      if (!itemIndex.has(r.item)) throw new InputError(`unknown item '${r.item}' (not listed in items.csv)`, interFile, r.line);
  } else {
    if (attributeNames.length > 0) throw new InputError(`declares item attributes (${attributeNames.join(', ')}) but the folder has no items.csv to hold them`, at('dataset.json'));
    for (const r of raw)
      if (!itemIndex.has(r.item)) {
        itemIndex.set(r.item, itemIds.length);
        itemIds.push(r.item);
        itemCats.push(undefined);
      }
  }

  // Image files: images/<id>.<ext>.
  const imagesDir = at('images');
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
    const extra = [...byId.keys()].filter((id) => !itemIndex.has(id)).sort();
    for (const id of extra) {
      itemIndex.set(id, itemIds.length);
      itemIds.push(id);
      itemCats.push(undefined);
    }
  } else {
    const unused = [...byId.keys()].filter((id) => !itemIndex.has(id)).length;
    if (unused > 0) warn(`${imagesDir}: ${unused} image(s) of items not listed in items.csv were ignored`);
  }
  const imageFiles: string[] = new Array(itemIds.length);
  for (let i = 0; i < itemIds.length; i++) {
    const name = byId.get(itemIds[i]!);
    if (!name) throw new InputError(`missing image: no images/${itemIds[i]}.png|jpg|jpeg|webp`, imagesDir, `item '${itemIds[i]}'`);
    imageFiles[i] = await insideRoot(root, path.join(imagesDir, name), 'image', `item '${itemIds[i]}'`);
  }

  // Users and interactions; repeated (user, item) rows dropped with a warning.
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

  // Categories: dataset.json order when given, else order of first appearance.
  let itemCategory: Int32Array | null = null;
  let categoryNames: string[] = [];
  if (itemCats.some((c) => c !== undefined)) {
    categoryNames = meta.categories ? [...meta.categories] : [];
    const catIndex = new Map(categoryNames.map((c, k) => [c, k]));
    itemCategory = new Int32Array(itemIds.length);
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
  }

  const seed = meta.seed ?? 0;
  const split = leaveOneOutSplit(userIds.length, interactions, { rng: new Rng(seed).fork('split') });

  // Targets: targets.txt, else items without training interactions.
  let targets: number[];
  const targetsFile = at('targets.txt');
  if (await exists(targetsFile)) {
    await insideRoot(root, targetsFile, 'targets.txt');
    const cold = new Set(itemsWithoutTraining(split, itemIds.length));
    const ls = lines(await readText(targetsFile, 'target list'));
    const set = new Set<number>();
    targets = [];
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
  } else {
    targets = itemsWithoutTraining(split, itemIds.length);
  }

  // Image checks: header (mode/format) or a full decode of every image.
  const mode = opts.imageMode ?? 'convert';
  const check = opts.checkImages ?? 'header';
  if (check !== 'exists') {
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
      if (!['png', 'jpeg', 'webp'].includes(m.format ?? ''))
        throw new InputError(`image format '${m.format}' is not supported (PNG, JPEG or WebP)`, file, loc);
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
    for (const [md, n] of converted)
      warn(`${imagesDir}: ${n} image(s) in mode ${md} converted to RGB${md.includes('alpha') || md === 'RGBA' ? ' (alpha flattened onto white)' : ''}`);
    if (resized > 0) warn(`${imagesDir}: ${resized} image(s) are not ${size}x${size} and are resized on load (aspect kept, padded with white)`);
  }

  if (meta.counts) {
    const c = meta.counts;
    const got = { users: userIds.length, items: itemIds.length, interactions: interactions.length, targets: targets.length };
    for (const k of ['users', 'items', 'interactions', 'targets'] as const)
      if (c[k] !== undefined && c[k] !== got[k])
        warn(`${at('dataset.json')}: counts.${k} says ${c[k]} but the files hold ${got[k]}`);
  }

  const images = new CachedImageSource(new FolderImageSource(size, imageFiles, itemIds, mode), opts.cacheImages ?? 20_000);
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
    warnings,
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

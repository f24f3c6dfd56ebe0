/**
 * AIP / DVBPR partitioned datasets (`AmazonMenWithImgPartitioned.npy`, `TradesyImgPartitioned.npy`):
 * a .npy object array holding the pickle of [user_train, user_validation, user_test, Item, usernum,
 * itemnum]; user_*[u] are lists of dicts with 'productid'; Item[i]['imgs'] holds JPEG bytes. Cold
 * lists (`*_one_k_cold.npy`) are int arrays of item ids. The pickle is read with the safe reader;
 * JPEGs stay in the file (LazyBytes) and are decoded one at a time on load.
 */
import { InputError } from '../../core/errors.js';
import type { Dataset, ImageSource, Interaction } from '../dataset.js';
import { readNpy } from './npy.js';
import { LazyBytes, NdArray } from './pickle.js';
import { decodeImageBytes, DEFAULT_LOADER_IMAGE_SIZE } from './common.js';
import { itemsWithoutTraining, leaveOneOutSplit } from '../split.js';
import path from 'node:path';

export interface AipOptions {
  /** The `*_one_k_cold.npy` list of target item ids (default: items without training interactions). */
  coldFile?: string;
  /** Side of the decoded images (default 64). */
  imageSize?: number;
  name?: string;
}

/** Dataset from AIP files; `close()` releases the file handle kept for lazy image reads. */
export interface AipDataset extends Dataset {
  close(): void;
}

const dec = new TextDecoder();
/** Look up a dict key written as str (Python 3) or bytes (Python 2 / encoding='bytes'). */
function field(d: unknown, key: string): unknown {
  if (d instanceof Map) {
    if (d.has(key)) return d.get(key);
    for (const [k, v] of d) if (k instanceof Uint8Array && dec.decode(k) === key) return v;
    return undefined;
  }
  if (d && typeof d === 'object') return (d as Record<string, unknown>)[key];
  return undefined;
}

function asList(v: unknown, what: string, file: string): unknown[] {
  if (v instanceof NdArray) return v.toList();
  if (Array.isArray(v)) return v;
  throw new InputError(`${what} is not a list`, file);
}

/** user_*: a list, or a dict keyed by user index. */
function perUser(v: unknown, usernum: number, what: string, file: string): unknown[][] {
  const out: unknown[][] = Array.from({ length: usernum }, () => []);
  const put = (u: number, l: unknown): void => {
    if (!(u >= 0 && u < usernum)) throw new InputError(`${what}: user index ${u} is outside 0..${usernum - 1}`, file);
    out[u] = asList(l, `${what}[${u}]`, file);
  };
  if (v instanceof Map) for (const [k, l] of v) put(Number(k), l);
  else asList(v, what, file).forEach((l, u) => put(u, l));
  return out;
}

function toNumber(v: unknown): number | undefined {
  if (typeof v === 'number') return v;
  if (v instanceof Uint8Array) return Number(dec.decode(v));
  if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v);
  return undefined;
}

class AipImages implements ImageSource {
  readonly hasPixels = true;
  constructor(
    readonly size: number,
    private readonly imgs: readonly (LazyBytes | Uint8Array | undefined)[],
    private readonly file: string,
  ) {}
  async load(item: number): Promise<Float32Array> {
    const b = this.imgs[item];
    if (!b) throw new InputError(`Item[${item}] has no 'imgs' bytes`, this.file, `item ${item}`);
    return decodeImageBytes(b instanceof LazyBytes ? b.read() : b, this.size, this.file, `item ${item}`);
  }
}

export function loadAip(file: string, opts: AipOptions = {}): AipDataset {
  // JPEGs over 256 bytes stay in the file: parsing never holds the images in memory.
  const { value, close } = readNpy(file, { lazyBytesOver: 256 });
  try {
    const top = value instanceof NdArray ? value.toList() : value;
    if (!Array.isArray(top) || top.length < 6)
      throw new InputError('expected a pickled list [user_train, user_validation, user_test, Item, usernum, itemnum]', file);
    const usernum = toNumber(top[4]);
    const itemnum = toNumber(top[5]);
    if (usernum === undefined || itemnum === undefined || !(usernum > 0) || !(itemnum > 0)) throw new InputError('usernum/itemnum (elements 4 and 5) must be positive integers', file);
    const parts = [0, 1, 2].map((k) => perUser(top[k], usernum, ['user_train', 'user_validation', 'user_test'][k]!, file));
    const interactions: Interaction[] = [];
    const seen = new Set<number>();
    const pid = (e: unknown, what: string): { item: number; t?: number } => {
      const p = toNumber(field(e, 'productid'));
      if (p === undefined || !Number.isInteger(p) || p < 0 || p >= itemnum) throw new InputError(`${what}: 'productid' ${String(p)} is not an item index in 0..${itemnum - 1}`, file);
      const t = toNumber(field(e, 'time') ?? field(e, 'timestamp') ?? field(e, 'unixReviewTime'));
      return { item: p, ...(t !== undefined ? { t } : {}) };
    };
    const train: number[][] = Array.from({ length: usernum }, () => []);
    const validation = new Int32Array(usernum).fill(-1);
    const test = new Int32Array(usernum).fill(-1);
    for (let k = 0; k < 3; k++)
      parts[k]!.forEach((list, u) => {
        list.forEach((e, j) => {
          const { item, t } = pid(e, `${['user_train', 'user_validation', 'user_test'][k]}[${u}][${j}]`);
          if (k === 0) train[u]!.push(item);
          else if (k === 1 && validation[u] === -1) validation[u] = item;
          else if (k === 2 && test[u] === -1) test[u] = item;
          const key = u * itemnum + item;
          if (seen.has(key)) return;
          seen.add(key);
          interactions.push(t !== undefined ? { user: u, item, timestamp: t } : { user: u, item });
        });
      });
    // The folder format re-derives leave-one-out by time. When the file's timestamps (if any) would
    // not reproduce its partition, use ordinal timestamps (train in file order, then validation,
    // then test), a monotone key that does.
    let ordinal = false;
    const check = leaveOneOutSplit(usernum, interactions);
    const same = check.train.every((t, u) => t.length === train[u]!.length && t.every((i, k) => i === train[u]![k]) && check.validation[u] === validation[u] && check.test[u] === test[u]);
    if (!same) {
      ordinal = true;
      const next = new Float64Array(usernum);
      const rank = (u: number, item: number): number => (test[u] === item ? 2e9 : validation[u] === item ? 1e9 : next[u]++);
      for (const it of interactions) it.timestamp = rank(it.user, it.item);
    }
    // Item: a list or a dict keyed by item index.
    const imgs: (LazyBytes | Uint8Array | undefined)[] = new Array(itemnum);
    const itemIds: string[] = Array.from({ length: itemnum }, (_, i) => String(i));
    const itemRaw = top[3];
    const setItem = (i: number, rec: unknown): void => {
      if (!(i >= 0 && i < itemnum)) return;
      const b = field(rec, 'imgs');
      if (b instanceof LazyBytes || b instanceof Uint8Array) imgs[i] = b;
      else if (typeof b === 'string') imgs[i] = Uint8Array.from(b, (c) => c.charCodeAt(0) & 0xff);
    };
    if (itemRaw instanceof Map) for (const [k, rec] of itemRaw) setItem(Number(toNumber(k)), rec);
    else asList(itemRaw, 'Item', file).forEach((rec, i) => setItem(i, rec));
    const missing = imgs.reduce((n, b) => n + (b ? 0 : 1), 0);
    let targets: number[];
    if (opts.coldFile) {
      const cold = readNpy(opts.coldFile).value;
      const ids = cold instanceof NdArray ? cold.toList().map(Number) : Array.isArray(cold) ? cold.map(Number) : null;
      if (!ids) throw new InputError('expected an integer array of item ids', opts.coldFile);
      const bad = ids.find((i) => !Number.isInteger(i) || i < 0 || i >= itemnum);
      if (bad !== undefined) throw new InputError(`cold item id ${bad} is not an item index in 0..${itemnum - 1}`, opts.coldFile);
      targets = ids;
    } else targets = itemsWithoutTraining({ train, validation, test }, itemnum);
    const size = opts.imageSize ?? DEFAULT_LOADER_IMAGE_SIZE;
    return {
      info: {
        name: opts.name ?? path.basename(file).replace(/\.npy$/, ''),
        profile: 'imported',
        seed: 0,
        source: `AIP/DVBPR ${path.basename(file)}${opts.coldFile ? ` + ${path.basename(opts.coldFile)}` : ''}${missing ? ` (${missing} items without image bytes)` : ''}${ordinal ? '; ordinal timestamps encode the file partition' : ''}`,
      },
      userIds: Array.from({ length: usernum }, (_, u) => String(u)),
      itemIds,
      itemCategory: null,
      categoryNames: [],
      interactions,
      images: new AipImages(size, imgs, file),
      split: { train, validation, test },
      targets,
      close,
    };
  } catch (err) {
    close();
    throw err;
  }
}

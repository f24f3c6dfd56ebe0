/**
 * The precomputed-feature binary of the VBPR release (`image_features_*.b`): repeated records of a
 * 10-byte ASCII item id followed by `dim` (4096) little-endian float32 values. Streamed: only the
 * records of wanted items are kept.
 */
import { existsSync } from 'node:fs';
import { InputError } from '../../core/errors.js';
import { FileReader } from './bytes.js';

export const FEATURE_ID_BYTES = 10;
export const FEATURE_DIM = 4096;

export interface FeatureTable {
  dim: number;
  /** Features of each wanted item that has a record, by item id. */
  byId: Map<string, Float32Array>;
  /** Records read. */
  records: number;
}

/** The item id of a record: ASCII, trailing spaces/NULs removed. */
function recordId(b: Uint8Array): string {
  let s = '';
  for (const c of b) s += String.fromCharCode(c);
  return s.replace(/[\s\u0000]+$/, '');
}

/**
 * Stream `file`, keeping the records whose id is in `wanted` (all records when `wanted` is
 * undefined; beware, the real files hold hundreds of thousands of items).
 */
export function readFeatureFile(file: string, wanted?: ReadonlySet<string>, dim = FEATURE_DIM): FeatureTable {
  if (!existsSync(file)) throw new InputError('file not found', file);
  const r = new FileReader(file, 1 << 22);
  const rec = FEATURE_ID_BYTES + 4 * dim;
  try {
    if (r.length % rec !== 0)
      throw new InputError(`size ${r.length} is not a multiple of the ${rec}-byte record (${FEATURE_ID_BYTES}-byte id + ${dim} float32)`, file);
    const byId = new Map<string, Float32Array>();
    const n = r.length / rec;
    for (let k = 0; k < n; k++) {
      const id = recordId(r.read(FEATURE_ID_BYTES));
      if (!/^[\x20-\x7e]+$/.test(id)) throw new InputError(`record ${k + 1} has a non-ASCII item id`, file, `record ${k + 1}`);
      if (wanted && !wanted.has(id)) {
        r.skip(4 * dim);
        continue;
      }
      const b = r.read(4 * dim);
      const f = new Float32Array(dim);
      const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
      for (let j = 0; j < dim; j++) f[j] = dv.getFloat32(4 * j, true);
      byId.set(id, f);
    }
    return { dim, byId, records: n };
  } finally {
    r.close();
  }
}

/** Pack the features of `itemIds` (every id must have a record) into one numItems x dim array; consumes `table`. */
export function packFeatures(table: FeatureTable, itemIds: readonly string[]): { dim: number; data: Float32Array } {
  const data = new Float32Array(itemIds.length * table.dim);
  itemIds.forEach((id, i) => {
    const f = table.byId.get(id);
    if (!f) throw new Error(`no features for item '${id}'`);
    data.set(f, i * table.dim);
    table.byId.delete(id); // release the per-item copy: peak memory stays near one copy
  });
  return { dim: table.dim, data };
}

/**
 * Tradesy (VBPR release): `tradesy.json` holds one user per line (Python literal or JSON) or one
 * JSON list of users: {uid, lists: {bought, want, selling, sold}}. Interactions are the bought
 * items (and, by default, the wanted ones, as in VBPR's implicit feedback). No timestamps: the
 * leave-one-out split is random with the seed.
 */
import { InputError } from '../../core/errors.js';
import type { Dataset } from '../dataset.js';
import { readLines, type RawInteraction } from './common.js';
import { finishRaw } from './amazon.js';
import { parseLiteral, type PyValue } from './pyliteral.js';

export interface TradesyOptions {
  imagesDir?: string;
  featuresFile?: string;
  featureDim?: number;
  imageSize?: number;
  seed?: number;
  name?: string;
  minUserInteractions?: number;
  /** Count 'want' lists as interactions too (default true). */
  includeWant?: boolean;
}

function userRecords(v: PyValue, file: string, no: number, out: RawInteraction[], includeWant: boolean): void {
  if (Array.isArray(v)) {
    v.forEach((u, k) => userRecords(u, file, k + 1, out, includeWant));
    return;
  }
  if (!v || typeof v !== 'object') throw new InputError('expected a user object', file, no);
  const uid = v.uid;
  if (typeof uid !== 'string' && typeof uid !== 'number') throw new InputError("missing 'uid'", file, no);
  const lists = v.lists;
  if (!lists || typeof lists !== 'object' || Array.isArray(lists)) throw new InputError("missing 'lists'", file, no);
  for (const key of includeWant ? ['bought', 'want'] : ['bought']) {
    const l = lists[key];
    if (l === undefined || l === null) continue;
    if (!Array.isArray(l)) throw new InputError(`'lists.${key}' is not a list`, file, no);
    for (const it of l) {
      if (typeof it !== 'string' && typeof it !== 'number') throw new InputError(`'lists.${key}' holds a non-id value`, file, no);
      out.push({ user: String(uid), item: String(it) });
    }
  }
}

export async function loadTradesy(file: string, opts: TradesyOptions = {}): Promise<Dataset> {
  const raw: RawInteraction[] = [];
  const includeWant = opts.includeWant ?? true;
  let buffered: string[] | null = null;
  for await (const { line, no } of readLines(file)) {
    if (buffered) {
      buffered.push(line);
      continue;
    }
    const t = line.trim();
    if (!t) continue;
    if (t.startsWith('[')) {
      buffered = [line]; // a single JSON list spanning the file
      continue;
    }
    let v: PyValue;
    try {
      v = parseLiteral(t);
    } catch (err) {
      throw new InputError(`not a JSON or Python-literal record: ${(err as Error).message}`, file, no);
    }
    userRecords(v, file, no, raw, includeWant);
  }
  if (buffered) {
    let v: PyValue;
    try {
      v = parseLiteral(buffered.join('\n'));
    } catch (err) {
      throw new InputError(`not a JSON list of users: ${(err as Error).message}`, file);
    }
    userRecords(v, file, 1, raw, includeWant);
  }
  return finishRaw(raw, { ...opts, kind: 'Tradesy', sourceFiles: [file] });
}

/**
 * Parsing helpers of the dataset folder format (./folder-format.ts): CSV lines and fields, text
 * files, ids, the interactions file (CSV or JSONL, with optional timestamps) and paths that must
 * stay inside the dataset folder. Every problem is a one-line InputError naming the file and line.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { InputError } from '../core/errors.js';
import { decodeUtf8 } from './utf8.js';

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

export function csvField(s: string): string {
  return /[",\r\n]/.test(s) || s !== s.trim() ? `"${s.replace(/"/g, '""')}"` : s;
}

/** Lines of a text file, 1-based numbering kept; a BOM and trailing CR are removed. */
export function lines(text: string): string[] {
  return text.replace(/^\uFEFF/, '').split('\n').map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
}

export async function readText(file: string, what: string): Promise<string> {
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
export function checkId(id: string, kind: 'user' | 'item', file: string, line: number): void {
  if (id === '') throw new InputError(`empty ${kind} id`, file, line);
  if (kind === 'item') {
    if (id === '.' || id === '..' || /[/\\\0]/.test(id) || id.split(/[/\\]/).includes('..'))
      throw new InputError(`item id '${id}' escapes the dataset folder (ids may not contain '/', '\\' or be '.'/'..')`, file, line);
    if (/[\x00-\x1f]/.test(id)) throw new InputError(`item id '${id}' contains control characters`, file, line);
  }
}

export interface RawInteraction {
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
export function checkTimestampsAllOrNone(raw: readonly RawInteraction[], file: string): void {
  const timed = raw.filter((r) => r.timestamp !== undefined).length;
  if (timed === 0 || timed === raw.length) return;
  const first = raw.find((r) => r.timestamp === undefined)!;
  throw new InputError(`no timestamp, while ${timed} of ${raw.length} lines have one: give a timestamp on every line or on none`, file, first.line);
}

export function parseInteractionsCsv(text: string, file: string): RawInteraction[] {
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

export function parseInteractionsJsonl(text: string, file: string): RawInteraction[] {
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

export async function exists(p: string): Promise<boolean> {
  try {
    await fs.lstat(p);
    return true;
  } catch {
    return false;
  }
}

/** Resolve `p` and refuse it when it (or a symlink along it) leads outside `root`. */
export async function insideRoot(root: string, p: string, what: string, location?: string): Promise<string> {
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

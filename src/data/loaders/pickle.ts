/**
 * A safe reader for the Python pickles inside AIP/DVBPR `.npy` files (spec section 2). It builds
 * data only: lists, dicts, tuples, ints, floats, str, bytes, None/True/False, memo references, and
 * numpy arrays/scalars/dtypes through an allowlist of numpy reconstruction globals implemented here
 * in JS. Any other global (os.system, builtins.eval, subprocess.Popen, ...) is refused with an
 * InputError naming the file and the global; nothing in the pickle is ever executed.
 *
 * Large byte strings (JPEG images) can be left in the file: they become `LazyBytes` (offset,
 * length), so a multi-gigabyte pickle is parsed without holding its images in memory.
 */
import { InputError } from '../../core/errors.js';
import type { ByteReader } from './bytes.js';

/** A bytes object left in the file, read on demand. */
export class LazyBytes {
  constructor(
    readonly offset: number,
    readonly length: number,
    private readonly reader: ByteReader,
  ) {}
  read(): Uint8Array {
    return this.reader.readAt(this.offset, this.length);
  }
}

/** A reconstructed numpy dtype. */
export class NpDtype {
  byteOrder = '<';
  constructor(readonly code: string) {}
}

/** A reconstructed numpy ndarray: numeric data as a typed array / number[], objects as a list. */
export class NdArray {
  constructor(
    readonly dtype: string,
    readonly shape: number[],
    readonly data: unknown[] | ArrayLike<number>,
  ) {}
  /** Element values as a JS list (numeric or objects). */
  toList(): unknown[] {
    return Array.from(this.data as ArrayLike<unknown>);
  }
}

export type PickleValue = unknown;

/** Numeric decoding of raw numpy array bytes. */
export function decodeNumeric(code: string, order: string, raw: Uint8Array, n: number, where: string): number[] {
  const dv = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const le = order !== '>';
  const kind = code[0]!, width = Number(code.slice(1)) || 0;
  const get: ((o: number) => number) | undefined =
    kind === 'i' && width === 8 ? (o) => Number(dv.getBigInt64(o, le))
    : kind === 'i' && width === 4 ? (o) => dv.getInt32(o, le)
    : kind === 'i' && width === 2 ? (o) => dv.getInt16(o, le)
    : kind === 'i' && width === 1 ? (o) => dv.getInt8(o)
    : kind === 'u' && width === 8 ? (o) => Number(dv.getBigUint64(o, le))
    : kind === 'u' && width === 4 ? (o) => dv.getUint32(o, le)
    : kind === 'u' && width === 2 ? (o) => dv.getUint16(o, le)
    : (kind === 'u' || kind === 'b') && width === 1 ? (o) => dv.getUint8(o)
    : kind === 'f' && width === 8 ? (o) => dv.getFloat64(o, le)
    : kind === 'f' && width === 4 ? (o) => dv.getFloat32(o, le)
    : undefined;
  if (!get) throw new InputError(`numpy dtype '${code}' is not supported`, where);
  if (raw.length < n * width) throw new InputError(`numpy array data is truncated (${raw.length} bytes for ${n} x ${code})`, where);
  const out = new Array<number>(n);
  for (let k = 0; k < n; k++) out[k] = get(k * width);
  return out;
}

/** Normalise a dtype string such as '<i8', 'int64', 'O8', 'f4' to kind+width ('i8', 'O', ...). */
function dtypeCode(s: string): { code: string; order: string } {
  let order = '<';
  let t = s;
  if ('<>|='.includes(t[0]!)) {
    order = t[0] === '>' ? '>' : '<';
    t = t.slice(1);
  }
  const named: Record<string, string> = { int64: 'i8', int32: 'i4', int16: 'i2', int8: 'i1', uint8: 'u1', uint16: 'u2', uint32: 'u4', uint64: 'u8', float64: 'f8', float32: 'f4', bool: 'b1', object: 'O' };
  if (named[t]) t = named[t]!;
  if (t.startsWith('O')) t = 'O';
  return { code: t, order };
}

type Global = { module: string; name: string };
const NUMPY_MODULES = new Set(['numpy.core.multiarray', 'numpy._core.multiarray', 'numpy']);

/** The only globals a pickle may name. */
function allowed(g: Global): boolean {
  const key = `${g.module}.${g.name}`;
  if (NUMPY_MODULES.has(g.module) && (g.name === '_reconstruct' || g.name === 'scalar')) return true;
  return key === 'numpy.ndarray' || key === 'numpy.dtype' || key === '_codecs.encode';
}

class MarkT {}
const MARK = new MarkT();

/** An ndarray under construction: _reconstruct(...) then BUILD(state). */
class NdPending {
  result: NdArray | null = null;
}

export interface PickleOptions {
  /** Byte strings longer than this stay in the file as LazyBytes (default: never). */
  lazyBytesOver?: number;
  /** Refuse pickles whose memo or stack grows beyond this many entries (default 50M). */
  maxObjects?: number;
}

/**
 * Read one pickle from `r` (protocols 0-5, the data opcodes only). `file` names the source in
 * errors.
 */
export function readPickle(r: ByteReader, file: string, opts: PickleOptions = {}): PickleValue {
  const lazyOver = opts.lazyBytesOver ?? Infinity;
  let stack: unknown[] = [];
  const marks: unknown[][] = [];
  const memo = new Map<number, unknown>();
  const u8 = (): number => r.read(1)[0]!;
  const dv = (n: number): DataView => {
    const b = r.read(n);
    return new DataView(b.buffer, b.byteOffset, n);
  };
  const u16 = (): number => dv(2).getUint16(0, true);
  const u32 = (): number => dv(4).getUint32(0, true);
  const i32 = (): number => dv(4).getInt32(0, true);
  const u64 = (): number => Number(dv(8).getBigUint64(0, true));
  const line = (): string => {
    let s = '';
    for (;;) {
      const c = u8();
      if (c === 0x0a) return s;
      s += String.fromCharCode(c);
    }
  };
  const utf8 = (n: number): string => new TextDecoder().decode(r.read(n));
  const bytes = (n: number): Uint8Array | LazyBytes => {
    if (n > lazyOver) {
      const lb = new LazyBytes(r.position, n, r);
      r.skip(n);
      return lb;
    }
    return Uint8Array.from(r.read(n));
  };
  const pop = (): unknown => {
    if (stack.length === 0) throw new InputError('malformed pickle: stack underflow', file, `byte ${r.position}`);
    return stack.pop();
  };
  const popMark = (): unknown[] => {
    const items = stack;
    const prev = marks.pop();
    if (!prev) throw new InputError('malformed pickle: no MARK', file, `byte ${r.position}`);
    stack = prev;
    return items;
  };
  const top = (): unknown => stack[stack.length - 1];
  const setItem = (d: unknown, k: unknown, v: unknown): void => {
    if (!(d instanceof Map)) throw new InputError('malformed pickle: SETITEM on a non-dict', file, `byte ${r.position}`);
    d.set(k, v);
  };
  const longFromBytes = (b: Uint8Array): number => {
    if (b.length === 0) return 0;
    let v = 0n;
    for (let k = b.length - 1; k >= 0; k--) v = (v << 8n) | BigInt(b[k]!);
    if (b[b.length - 1]! & 0x80) v -= 1n << BigInt(8 * b.length);
    return Number(v);
  };
  const reduce = (fn: unknown, args: unknown): unknown => {
    const g = fn as Global;
    const a = args as unknown[];
    if (g.name === '_reconstruct') return new NdPending();
    if (g.name === 'dtype') return new NpDtype(dtypeCode(String(a[0])).code);
    if (g.name === 'scalar') {
      const dt = a[0] as NpDtype;
      const raw = a[1];
      const b = raw instanceof Uint8Array ? raw : typeof raw === 'string' ? Uint8Array.from(raw, (c) => c.charCodeAt(0)) : new Uint8Array();
      return decodeNumeric(dt.code, dt.byteOrder, b, 1, file)[0];
    }
    if (g.module === '_codecs' && g.name === 'encode') {
      const s = String(a[0]);
      return Uint8Array.from(s, (c) => c.charCodeAt(0) & 0xff);
    }
    throw new InputError(`pickle calls '${g.module}.${g.name}', which is not allowed`, file);
  };
  const build = (obj: unknown, state: unknown): unknown => {
    if (obj instanceof NpDtype) {
      const st = state as unknown[];
      if (typeof st[1] === 'string') obj.byteOrder = st[1] === '>' ? '>' : '<';
      return obj;
    }
    if (obj instanceof NdPending) {
      const st = state as unknown[];
      const shape = (st[1] as number[]).map(Number);
      const dt = st[2] as NpDtype;
      const raw = st[4];
      const n = shape.reduce((p, q) => p * q, 1);
      let data: unknown[] | number[];
      if (dt.code === 'O') {
        if (!Array.isArray(raw)) throw new InputError('malformed pickle: object array without a list of objects', file);
        data = raw;
      } else {
        const b = raw instanceof LazyBytes ? raw.read() : raw instanceof Uint8Array ? raw : typeof raw === 'string' ? Uint8Array.from(raw, (c) => c.charCodeAt(0) & 0xff) : null;
        if (!b) throw new InputError('malformed pickle: numeric array without raw bytes', file);
        data = decodeNumeric(dt.code, dt.byteOrder, b, n, file);
      }
      obj.result = new NdArray(dt.code, shape, data);
      return obj.result;
    }
    throw new InputError('pickle uses BUILD on an object that is not a numpy array or dtype; refused', file, `byte ${r.position}`);
  };
  const maxObjects = opts.maxObjects ?? 50_000_000;
  const resolve = (v: unknown): unknown => (v instanceof NdPending ? (v.result ?? v) : v);
  for (;;) {
    const at = r.position;
    const op = u8();
    switch (op) {
      case 0x80: // PROTO
        u8();
        break;
      case 0x95: // FRAME
        u64();
        break;
      case 0x2e: // STOP
        return resolve(pop());
      case 0x28: // MARK
        marks.push(stack);
        stack = [];
        break;
      case 0x5d: // EMPTY_LIST
        stack.push([]);
        break;
      case 0x7d: // EMPTY_DICT
        stack.push(new Map());
        break;
      case 0x29: // EMPTY_TUPLE
        stack.push([]);
        break;
      case 0x8f: // EMPTY_SET
        stack.push(new Set());
        break;
      case 0x74: // TUPLE
      case 0x6c: // LIST
      {
        const items = popMark().map(resolve); // pop first: popMark replaces `stack`
        stack.push(items);
        break;
      }
      case 0x91: // FROZENSET
      {
        const items = new Set(popMark());
        stack.push(items);
        break;
      }
      case 0x85:
        stack.push([resolve(pop())]);
        break;
      case 0x86: {
        const b = pop(), a = pop();
        stack.push([resolve(a), resolve(b)]);
        break;
      }
      case 0x87: {
        const c = pop(), b = pop(), a = pop();
        stack.push([resolve(a), resolve(b), resolve(c)]);
        break;
      }
      case 0x64: {
        // DICT
        const items = popMark();
        const m = new Map();
        for (let k = 0; k + 1 < items.length; k += 2) m.set(resolve(items[k]), resolve(items[k + 1]));
        stack.push(m);
        break;
      }
      case 0x61: {
        // APPEND
        const v = pop();
        (top() as unknown[]).push(resolve(v));
        break;
      }
      case 0x65: {
        // APPENDS
        const items = popMark();
        const l = top();
        if (!Array.isArray(l)) throw new InputError('malformed pickle: APPENDS on a non-list', file, `byte ${at}`);
        for (const v of items) l.push(resolve(v));
        break;
      }
      case 0x90: {
        // ADDITEMS
        const items = popMark();
        for (const v of items) (top() as Set<unknown>).add(v);
        break;
      }
      case 0x73: {
        // SETITEM
        const v = pop(), k = pop();
        setItem(top(), resolve(k), resolve(v));
        break;
      }
      case 0x75: {
        // SETITEMS
        const items = popMark();
        for (let k = 0; k + 1 < items.length; k += 2) setItem(top(), resolve(items[k]), resolve(items[k + 1]));
        break;
      }
      case 0x4a:
        stack.push(i32());
        break;
      case 0x4b:
        stack.push(u8());
        break;
      case 0x4d:
        stack.push(u16());
        break;
      case 0x8a:
        stack.push(longFromBytes(r.read(u8())));
        break;
      case 0x8b:
        stack.push(longFromBytes(r.read(i32())));
        break;
      case 0x49: {
        // INT (text)
        const s = line();
        stack.push(s === '01' ? true : s === '00' ? false : Number(s));
        break;
      }
      case 0x4c: // LONG (text)
        stack.push(Number(line().replace(/L$/, '')));
        break;
      case 0x47:
        stack.push(dv(8).getFloat64(0, false));
        break;
      case 0x46:
        stack.push(Number(line()));
        break;
      case 0x4e:
        stack.push(null);
        break;
      case 0x88:
        stack.push(true);
        break;
      case 0x89:
        stack.push(false);
        break;
      case 0x58:
        stack.push(utf8(u32()));
        break;
      case 0x8c:
        stack.push(utf8(u8()));
        break;
      case 0x8d:
        stack.push(utf8(u64()));
        break;
      case 0x56: // UNICODE (raw-unicode-escape text line)
        stack.push(line().replace(/\\u([0-9a-fA-F]{4})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16))));
        break;
      case 0x42:
        stack.push(bytes(u32()));
        break;
      case 0x43:
        stack.push(bytes(u8()));
        break;
      case 0x8e:
      case 0x96:
        stack.push(bytes(u64()));
        break;
      case 0x54: // BINSTRING (Python 2 str: raw bytes)
        stack.push(bytes(i32()));
        break;
      case 0x55: // SHORT_BINSTRING
        stack.push(bytes(u8()));
        break;
      case 0x94: // MEMOIZE
        memo.set(memo.size, top());
        break;
      case 0x71:
        memo.set(u8(), top());
        break;
      case 0x72:
        memo.set(u32(), top());
        break;
      case 0x70:
        memo.set(Number(line()), top());
        break;
      case 0x68:
      case 0x6a:
      case 0x67: {
        const idx = op === 0x68 ? u8() : op === 0x6a ? u32() : Number(line());
        if (!memo.has(idx)) throw new InputError(`malformed pickle: memo entry ${idx} is missing`, file, `byte ${at}`);
        stack.push(memo.get(idx));
        break;
      }
      case 0x63: {
        // GLOBAL "module\nname\n"
        const g = { module: line(), name: line() };
        if (!allowed(g)) throw new InputError(`pickle refers to the global '${g.module}.${g.name}', which is not on the allowlist (numpy arrays only); refused without running it`, file, `byte ${at}`);
        stack.push(g);
        break;
      }
      case 0x93: {
        // STACK_GLOBAL
        const name = pop(), module = pop();
        const g = { module: String(module), name: String(name) };
        if (typeof module !== 'string' || typeof name !== 'string' || !allowed(g))
          throw new InputError(`pickle refers to the global '${g.module}.${g.name}', which is not on the allowlist (numpy arrays only); refused without running it`, file, `byte ${at}`);
        stack.push(g);
        break;
      }
      case 0x52: {
        // REDUCE
        const args = pop(), fn = pop();
        if (!fn || typeof fn !== 'object' || !('module' in fn)) throw new InputError('pickle REDUCE on something that is not an allowed global; refused', file, `byte ${at}`);
        stack.push(reduce(fn, args));
        break;
      }
      case 0x81: {
        // NEWOBJ: only numpy.ndarray/dtype classes are reachable (allowlist)
        const args = pop(), cls = pop() as Global;
        stack.push(cls.name === 'dtype' ? reduce(cls, args) : new NdPending());
        break;
      }
      case 0x62: {
        // BUILD
        const state = pop();
        const obj = pop();
        stack.push(build(obj, state));
        break;
      }
      case 0x30:
        pop();
        break;
      case 0x31:
        popMark();
        break;
      case 0x32:
        stack.push(top());
        break;
      default:
        throw new InputError(`pickle opcode 0x${op.toString(16)} ('${String.fromCharCode(op)}') is not supported by the safe reader; refused`, file, `byte ${at}`);
    }
    if (stack.length > maxObjects || memo.size > maxObjects) throw new InputError('pickle is too large for the safe reader', file);
  }
}

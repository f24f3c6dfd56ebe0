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

const GLOBAL_REFUSED = (g: Global): string => `pickle refers to the global '${g.module}.${g.name}', which is not on the allowlist (numpy arrays only); refused without running it`;

/**
 * The pickle virtual machine's state (stack, marks, memo) and its opcodes, in four families:
 * structure (containers, marks, stack), scalars (numbers, strings, bytes), the memo, and objects
 * (globals on the allowlist, REDUCE, NEWOBJ, BUILD). Nothing is executed: numpy reconstruction is
 * done here in JS.
 */
class PickleMachine {
  private stack: unknown[] = [];
  private readonly marks: unknown[][] = [];
  readonly memo = new Map<number, unknown>();
  private readonly lazyOver: number;

  constructor(
    private readonly r: ByteReader,
    private readonly file: string,
    opts: PickleOptions,
  ) {
    this.lazyOver = opts.lazyBytesOver ?? Infinity;
  }

  get depth(): number {
    return this.stack.length;
  }

  // --- reading primitives -----------------------------------------------------------------------

  u8(): number {
    return this.r.read(1)[0]!;
  }
  private dv(n: number): DataView {
    const b = this.r.read(n);
    return new DataView(b.buffer, b.byteOffset, n);
  }
  private u16(): number {
    return this.dv(2).getUint16(0, true);
  }
  private u32(): number {
    return this.dv(4).getUint32(0, true);
  }
  private i32(): number {
    return this.dv(4).getInt32(0, true);
  }
  u64(): number {
    return Number(this.dv(8).getBigUint64(0, true));
  }
  private line(): string {
    let s = '';
    for (;;) {
      const c = this.u8();
      if (c === 0x0a) return s;
      s += String.fromCharCode(c);
    }
  }
  private utf8(n: number): string {
    return new TextDecoder().decode(this.r.read(n));
  }
  private bytes(n: number): Uint8Array | LazyBytes {
    if (n > this.lazyOver) {
      const lb = new LazyBytes(this.r.position, n, this.r);
      this.r.skip(n);
      return lb;
    }
    return Uint8Array.from(this.r.read(n));
  }

  // --- the stack ----------------------------------------------------------------------------------

  pop(): unknown {
    if (this.stack.length === 0) throw new InputError('malformed pickle: stack underflow', this.file, `byte ${this.r.position}`);
    return this.stack.pop();
  }
  private popMark(): unknown[] {
    const items = this.stack;
    const prev = this.marks.pop();
    if (!prev) throw new InputError('malformed pickle: no MARK', this.file, `byte ${this.r.position}`);
    this.stack = prev;
    return items;
  }
  private top(): unknown {
    return this.stack[this.stack.length - 1];
  }
  private setItem(d: unknown, k: unknown, v: unknown): void {
    if (!(d instanceof Map)) throw new InputError('malformed pickle: SETITEM on a non-dict', this.file, `byte ${this.r.position}`);
    d.set(k, v);
  }

  /** Containers, marks and stack manipulation; false when `op` is not one of them. */
  structural(op: number, at: number): boolean {
    const { stack } = this;
    switch (op) {
      case 0x80: // PROTO
        this.u8();
        return true;
      case 0x95: // FRAME
        this.u64();
        return true;
      case 0x28: // MARK
        this.marks.push(this.stack);
        this.stack = [];
        return true;
      case 0x5d: // EMPTY_LIST
      case 0x29: // EMPTY_TUPLE
        stack.push([]);
        return true;
      case 0x7d: // EMPTY_DICT
        stack.push(new Map());
        return true;
      case 0x8f: // EMPTY_SET
        stack.push(new Set());
        return true;
      case 0x74: // TUPLE
      case 0x6c: {
        // LIST
        const items = this.popMark().map(resolve); // pop first: popMark replaces `stack`
        this.stack.push(items);
        return true;
      }
      case 0x91: {
        // FROZENSET
        const items = new Set(this.popMark());
        this.stack.push(items);
        return true;
      }
      case 0x85:
        stack.push([resolve(this.pop())]);
        return true;
      case 0x86: {
        const b = this.pop(), a = this.pop();
        stack.push([resolve(a), resolve(b)]);
        return true;
      }
      case 0x87: {
        const c = this.pop(), b = this.pop(), a = this.pop();
        stack.push([resolve(a), resolve(b), resolve(c)]);
        return true;
      }
      case 0x30: // POP
        this.pop();
        return true;
      case 0x31: // POP_MARK
        this.popMark();
        return true;
      case 0x32: // DUP
        stack.push(this.top());
        return true;
    }
    return this.filling(op, at);
  }

  /** DICT and the opcodes that fill a list, dict or set; false when `op` is not one of them. */
  private filling(op: number, at: number): boolean {
    switch (op) {
      case 0x64: {
        // DICT
        const items = this.popMark();
        const m = new Map();
        for (let k = 0; k + 1 < items.length; k += 2) m.set(resolve(items[k]), resolve(items[k + 1]));
        this.stack.push(m);
        return true;
      }
      case 0x61: {
        // APPEND
        const v = this.pop();
        (this.top() as unknown[]).push(resolve(v));
        return true;
      }
      case 0x65: {
        // APPENDS
        const items = this.popMark();
        const l = this.top();
        if (!Array.isArray(l)) throw new InputError('malformed pickle: APPENDS on a non-list', this.file, `byte ${at}`);
        for (const v of items) l.push(resolve(v));
        return true;
      }
      case 0x90: {
        // ADDITEMS
        const items = this.popMark();
        for (const v of items) (this.top() as Set<unknown>).add(v);
        return true;
      }
      case 0x73: {
        // SETITEM
        const v = this.pop(), k = this.pop();
        this.setItem(this.top(), resolve(k), resolve(v));
        return true;
      }
      case 0x75: {
        // SETITEMS
        const items = this.popMark();
        for (let k = 0; k + 1 < items.length; k += 2) this.setItem(this.top(), resolve(items[k]), resolve(items[k + 1]));
        return true;
      }
    }
    return false;
  }

  /** Numbers, None/True/False, strings and bytes; false when `op` is not one of them. */
  scalar(op: number): boolean {
    const value = this.scalarValue(op);
    if (value === NOT_SCALAR) return false;
    this.stack.push(value);
    return true;
  }

  private scalarValue(op: number): unknown {
    switch (op) {
      case 0x4a: return this.i32();
      case 0x4b: return this.u8();
      case 0x4d: return this.u16();
      case 0x8a: return longFromBytes(this.r.read(this.u8()));
      case 0x8b: return longFromBytes(this.r.read(this.i32()));
      case 0x49: {
        // INT (text)
        const s = this.line();
        return s === '01' ? true : s === '00' ? false : Number(s);
      }
      case 0x4c: return Number(this.line().replace(/L$/, '')); // LONG (text)
      case 0x47: return this.dv(8).getFloat64(0, false);
      case 0x46: return Number(this.line());
      case 0x4e: return null;
      case 0x88: return true;
      case 0x89: return false;
      case 0x58: return this.utf8(this.u32());
      case 0x8c: return this.utf8(this.u8());
      case 0x8d: return this.utf8(this.u64());
      // UNICODE (raw-unicode-escape text line)
      case 0x56: return this.line().replace(/\\u([0-9a-fA-F]{4})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16)));
      case 0x42: return this.bytes(this.u32());
      case 0x43: return this.bytes(this.u8());
      case 0x8e:
      case 0x96: return this.bytes(this.u64());
      case 0x54: return this.bytes(this.i32()); // BINSTRING (Python 2 str: raw bytes)
      case 0x55: return this.bytes(this.u8()); // SHORT_BINSTRING
    }
    return NOT_SCALAR;
  }

  /** MEMOIZE, PUT and GET; false when `op` is not one of them. */
  memoOp(op: number, at: number): boolean {
    switch (op) {
      case 0x94: // MEMOIZE
        this.memo.set(this.memo.size, this.top());
        return true;
      case 0x71:
        this.memo.set(this.u8(), this.top());
        return true;
      case 0x72:
        this.memo.set(this.u32(), this.top());
        return true;
      case 0x70:
        this.memo.set(Number(this.line()), this.top());
        return true;
      case 0x68:
      case 0x6a:
      case 0x67: {
        const idx = op === 0x68 ? this.u8() : op === 0x6a ? this.u32() : Number(this.line());
        if (!this.memo.has(idx)) throw new InputError(`malformed pickle: memo entry ${idx} is missing`, this.file, `byte ${at}`);
        this.stack.push(this.memo.get(idx));
        return true;
      }
    }
    return false;
  }

  /** GLOBAL, STACK_GLOBAL, REDUCE, NEWOBJ and BUILD (numpy only); false when `op` is not one of them. */
  objectOp(op: number, at: number): boolean {
    switch (op) {
      case 0x63: {
        // GLOBAL "module\nname\n"
        const g = { module: this.line(), name: this.line() };
        if (!allowed(g)) throw new InputError(GLOBAL_REFUSED(g), this.file, `byte ${at}`);
        this.stack.push(g);
        return true;
      }
      case 0x93: {
        // STACK_GLOBAL
        const name = this.pop(), module = this.pop();
        const g = { module: String(module), name: String(name) };
        if (typeof module !== 'string' || typeof name !== 'string' || !allowed(g)) throw new InputError(GLOBAL_REFUSED(g), this.file, `byte ${at}`);
        this.stack.push(g);
        return true;
      }
      case 0x52: {
        // REDUCE
        const args = this.pop(), fn = this.pop();
        if (!fn || typeof fn !== 'object' || !('module' in fn)) throw new InputError('pickle REDUCE on something that is not an allowed global; refused', this.file, `byte ${at}`);
        this.stack.push(this.reduce(fn, args));
        return true;
      }
      case 0x81: {
        // NEWOBJ: only numpy.ndarray/dtype classes are reachable (allowlist)
        const args = this.pop(), cls = this.pop() as Global;
        this.stack.push(cls.name === 'dtype' ? this.reduce(cls, args) : new NdPending());
        return true;
      }
      case 0x62: {
        // BUILD
        const state = this.pop();
        const obj = this.pop();
        this.stack.push(this.build(obj, state));
        return true;
      }
    }
    return false;
  }

  private reduce(fn: unknown, args: unknown): unknown {
    const g = fn as Global;
    const a = args as unknown[];
    if (g.name === '_reconstruct') return new NdPending();
    if (g.name === 'dtype') return new NpDtype(dtypeCode(String(a[0])).code);
    if (g.name === 'scalar') {
      const dt = a[0] as NpDtype;
      const raw = a[1];
      const b = raw instanceof Uint8Array ? raw : typeof raw === 'string' ? Uint8Array.from(raw, (c) => c.charCodeAt(0)) : new Uint8Array();
      return decodeNumeric(dt.code, dt.byteOrder, b, 1, this.file)[0];
    }
    if (g.module === '_codecs' && g.name === 'encode') {
      const s = String(a[0]);
      return Uint8Array.from(s, (c) => c.charCodeAt(0) & 0xff);
    }
    throw new InputError(`pickle calls '${g.module}.${g.name}', which is not allowed`, this.file);
  }

  private build(obj: unknown, state: unknown): unknown {
    if (obj instanceof NpDtype) {
      const st = state as unknown[];
      if (typeof st[1] === 'string') obj.byteOrder = st[1] === '>' ? '>' : '<';
      return obj;
    }
    if (obj instanceof NdPending) {
      obj.result = this.ndarray(state as unknown[]);
      return obj.result;
    }
    throw new InputError('pickle uses BUILD on an object that is not a numpy array or dtype; refused', this.file, `byte ${this.r.position}`);
  }

  /** An ndarray from its BUILD state (version, shape, dtype, fortran order, raw data). */
  private ndarray(st: unknown[]): NdArray {
    const shape = (st[1] as number[]).map(Number);
    const dt = st[2] as NpDtype;
    const raw = st[4];
    const n = shape.reduce((p, q) => p * q, 1);
    let data: unknown[] | number[];
    if (dt.code === 'O') {
      if (!Array.isArray(raw)) throw new InputError('malformed pickle: object array without a list of objects', this.file);
      data = raw;
    } else {
      const b = raw instanceof LazyBytes ? raw.read() : raw instanceof Uint8Array ? raw : typeof raw === 'string' ? Uint8Array.from(raw, (c) => c.charCodeAt(0) & 0xff) : null;
      if (!b) throw new InputError('malformed pickle: numeric array without raw bytes', this.file);
      data = decodeNumeric(dt.code, dt.byteOrder, b, n, this.file);
    }
    return new NdArray(dt.code, shape, data);
  }
}

const NOT_SCALAR = Symbol('not a scalar opcode');

function resolve(v: unknown): unknown {
  return v instanceof NdPending ? (v.result ?? v) : v;
}

/** A little-endian two's-complement integer of any length (LONG1, LONG4). */
function longFromBytes(b: Uint8Array): number {
  if (b.length === 0) return 0;
  let v = 0n;
  for (let k = b.length - 1; k >= 0; k--) v = (v << 8n) | BigInt(b[k]!);
  if (b[b.length - 1]! & 0x80) v -= 1n << BigInt(8 * b.length);
  return Number(v);
}

/**
 * Read one pickle from `r` (protocols 0-5, the data opcodes only). `file` names the source in
 * errors.
 */
export function readPickle(r: ByteReader, file: string, opts: PickleOptions = {}): PickleValue {
  const vm = new PickleMachine(r, file, opts);
  const maxObjects = opts.maxObjects ?? 50_000_000;
  for (;;) {
    const at = r.position;
    const op = vm.u8();
    if (op === 0x2e) return resolve(vm.pop()); // STOP
    if (!(vm.structural(op, at) || vm.scalar(op) || vm.memoOp(op, at) || vm.objectOp(op, at)))
      throw new InputError(`pickle opcode 0x${op.toString(16)} ('${String.fromCharCode(op)}') is not supported by the safe reader; refused`, file, `byte ${at}`);
    if (vm.depth > maxObjects || vm.memo.size > maxObjects) throw new InputError('pickle is too large for the safe reader', file);
  }
}

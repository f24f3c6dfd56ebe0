/**
 * `.npy` files (NumPy format 1.0-3.0): numeric arrays, and object arrays whose payload is a
 * pickle (read with the safe reader in ./pickle.ts).
 */
import { InputError } from '../../core/errors.js';
import { FileReader, type ByteReader, BufferReader } from './bytes.js';
import { decodeNumeric, readPickle, NdArray, type PickleOptions } from './pickle.js';
import { parseLiteral, type PyValue } from './pyliteral.js';

export interface NpyHeader {
  descr: string;
  fortranOrder: boolean;
  shape: number[];
}

export function readNpyHeader(r: ByteReader, file: string): NpyHeader {
  const magic = r.read(6);
  if (magic[0] !== 0x93 || String.fromCharCode(...magic.subarray(1)) !== 'NUMPY') throw new InputError('not a .npy file (bad magic)', file);
  const [major] = r.read(2);
  const lenBytes = r.read(major === 1 ? 2 : 4);
  const len = major === 1 ? lenBytes[0]! | (lenBytes[1]! << 8) : new DataView(lenBytes.buffer, lenBytes.byteOffset, 4).getUint32(0, true);
  const text = new TextDecoder('latin1').decode(r.read(len)).trim();
  let h: PyValue;
  try {
    h = parseLiteral(text);
  } catch (err) {
    throw new InputError(`bad .npy header: ${(err as Error).message}`, file);
  }
  const o = h as { descr?: string; fortran_order?: boolean; shape?: number[] };
  if (typeof o?.descr !== 'string' || !Array.isArray(o.shape)) throw new InputError('bad .npy header (descr/shape missing)', file);
  const shape = o.shape.map(Number);
  if (!shape.every((d) => Number.isSafeInteger(d) && d >= 0)) throw new InputError(`bad .npy header: shape (${o.shape.join(', ')}) must hold non-negative integers`, file);
  return { descr: o.descr, fortranOrder: o.fortran_order === true, shape };
}

/**
 * Read a .npy file: numeric arrays as NdArray; object arrays through the safe pickle reader (large
 * byte strings left in the file as LazyBytes when `lazyBytesOver` is set). The reader stays open
 * while LazyBytes are in use; call `close` when done.
 */
export function readNpy(source: string | Uint8Array, opts: PickleOptions & { file?: string } = {}): { value: unknown; close: () => void } {
  const file = typeof source === 'string' ? source : (opts.file ?? '<npy bytes>');
  const r: ByteReader = typeof source === 'string' ? new FileReader(source) : new BufferReader(source);
  try {
    const h = readNpyHeader(r, file);
    if (h.descr === '|O' || h.descr === 'O') {
      const value = readPickle(r, file, opts);
      return { value, close: () => r.close() };
    }
    const n = h.shape.reduce((a, b) => a * b, 1);
    const code = h.descr.replace(/^[<>|=]/, '');
    const width = Number(code.slice(1));
    const data = decodeNumeric(code, h.descr[0] === '>' ? '>' : '<', r.read(n * width), n, file);
    r.close();
    return { value: new NdArray(code, h.shape, data), close: () => {} };
  } catch (err) {
    r.close();
    if (err instanceof InputError) throw err;
    throw new InputError(`cannot read .npy: ${(err as Error).message}`, file);
  }
}

/**
 * Named-tensor files: `<name>.json` (manifest: name, shape, dtype, offset) + `<name>.bin`
 * (little-endian float32 or float16). Written atomically; float16 halves the shipped checkpoint.
 */
import { promises as fs } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { InputError } from '../core/errors.js';
import { writeFileAtomic } from '../core/fsutil.js';

export type StoredDtype = 'float32' | 'float16';

interface Entry {
  name: string;
  shape: number[];
  offset: number;
  length: number;
}

interface Manifest {
  format: 'auv-tensors/1';
  dtype: StoredDtype;
  entries: Entry[];
}

/** IEEE half from float (round to nearest even). */
export function toHalf(value: number): number {
  const f32 = new Float32Array([value]);
  const x = new Uint32Array(f32.buffer)[0] as number;
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    let half = mant >>> shift;
    const rem = mant & ((1 << shift) - 1);
    const mid = 1 << (shift - 1);
    if (rem > mid || (rem === mid && half & 1)) half++;
    return sign | half;
  }
  let half = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && half & 1)) half++;
  return sign | half;
}

export function fromHalf(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >>> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 0x1f) return mant ? NaN : sign * Infinity;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

/** Write tensors to `<base>.json` + `<base>.bin`. */
export async function saveTensors(base: string, tensors: ReadonlyMap<string, tf.Tensor>, dtype: StoredDtype = 'float32'): Promise<void> {
  const entries: Entry[] = [];
  const chunks: Float32Array[] = [];
  let offset = 0;
  for (const [name, t] of tensors) {
    const data = (await t.data()) as Float32Array;
    entries.push({ name, shape: t.shape, offset, length: data.length });
    chunks.push(data);
    offset += data.length;
  }
  let bytes: Uint8Array;
  if (dtype === 'float32') {
    const all = new Float32Array(offset);
    let o = 0;
    for (const c of chunks) {
      all.set(c, o);
      o += c.length;
    }
    bytes = new Uint8Array(all.buffer);
  } else {
    const all = new Uint16Array(offset);
    let o = 0;
    for (const c of chunks) for (let i = 0; i < c.length; i++) all[o++] = toHalf(c[i] as number);
    bytes = new Uint8Array(all.buffer);
  }
  // bin first, manifest last: a manifest never points at a missing or partial binary
  await writeFileAtomic(`${base}.bin`, bytes);
  const manifest: Manifest = { format: 'auv-tensors/1', dtype, entries };
  await writeFileAtomic(`${base}.json`, JSON.stringify(manifest) + '\n');
}

/** Read tensors written by saveTensors (caller owns them). */
export async function loadTensors(base: string): Promise<Map<string, tf.Tensor>> {
  let manifest: Manifest;
  try {
    manifest = JSON.parse(await fs.readFile(`${base}.json`, 'utf8')) as Manifest;
  } catch (err) {
    throw new InputError(`cannot read tensor manifest (${(err as Error).message})`, `${base}.json`);
  }
  if (manifest.format !== 'auv-tensors/1') throw new InputError(`unknown tensor file format '${String(manifest.format)}'`, `${base}.json`);
  const buf = await fs.readFile(`${base}.bin`);
  const width = manifest.dtype === 'float16' ? 2 : 4;
  const total = manifest.entries.reduce((a, e) => a + e.length, 0);
  if (buf.byteLength !== total * width)
    throw new InputError(`expected ${total * width} bytes for ${manifest.entries.length} tensors, found ${buf.byteLength}`, `${base}.bin`);
  const aligned = new Uint8Array(buf.byteLength);
  aligned.set(buf);
  const out = new Map<string, tf.Tensor>();
  for (const e of manifest.entries) {
    let data: Float32Array;
    if (manifest.dtype === 'float32') data = new Float32Array(aligned.buffer, e.offset * 4, e.length).slice();
    else {
      const h = new Uint16Array(aligned.buffer, e.offset * 2, e.length);
      data = new Float32Array(e.length);
      for (let i = 0; i < e.length; i++) data[i] = fromHalf(h[i] as number);
    }
    out.set(e.name, tf.tensor(data, e.shape));
  }
  return out;
}

/** Assign loaded values to variables by name; every variable must be present with its shape. */
export function assignVariables(vars: ReadonlyMap<string, tf.Variable>, values: ReadonlyMap<string, tf.Tensor>, file: string, prefix = ''): void {
  for (const [name, v] of vars) {
    const t = values.get(prefix + name);
    if (!t) throw new InputError(`checkpoint has no parameter '${prefix + name}'`, file);
    if (t.shape.join('x') !== v.shape.join('x'))
      throw new InputError(`parameter '${prefix + name}' has shape ${t.shape.join('x')}, the model expects ${v.shape.join('x')}`, file);
    v.assign(t);
  }
}

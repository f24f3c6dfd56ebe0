/**
 * The one weight-file format of every model (like save_pretrained): a folder with
 *
 * - `manifest.json`: { format: 'auv-fusion-weights', version: 1, kind, config, tensors: [{ name,
 *   shape, dtype, offset }] } (offset in bytes into tensors.bin; tensors laid end to end in order);
 * - `tensors.bin`: the tensors' values, little-endian, float32, float16 (stored half, read back as
 *   float32) or int32.
 *
 * `saveModel` writes tensors.bin first and manifest.json last (each atomically), so a manifest
 * never points at a missing or partial binary; other files in the folder (reports, curves) are left
 * alone. `loadModel` checks everything it reads and names the file and what is wrong.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { InputError } from './errors.js';
import { writeFileAtomic } from './fsutil.js';

export const WEIGHTS_FORMAT = 'auv-fusion-weights';
export const WEIGHTS_VERSION = 1;
export const MANIFEST_FILE = 'manifest.json';
export const TENSORS_FILE = 'tensors.bin';

/** Every kind of model folder the toolkit writes. */
export const MODEL_KINDS = ['image-encoder', 'recommender', 'preference-encoder', 'latent-diffusion', 'diffusion-train-state'] as const;
export type ModelKind = (typeof MODEL_KINDS)[number];

export type StoredDtype = 'float32' | 'float16' | 'int32';

/** Host values of one tensor: float32 (stored as float32 or float16) or int32. */
export interface HostTensor {
  shape: number[];
  data: Float32Array | Int32Array;
}

export interface ModelFile<C = unknown> {
  kind: ModelKind;
  /** JSON-serialisable settings the model is rebuilt from. */
  config: C;
  tensors: Map<string, HostTensor>;
}

interface TensorEntry {
  name: string;
  shape: number[];
  dtype: StoredDtype;
  offset: number;
}

interface Manifest {
  format: string;
  version: number;
  kind: string;
  config: unknown;
  tensors: TensorEntry[];
}

const WIDTH: Record<StoredDtype, number> = { float32: 4, float16: 2, int32: 4 };

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

function elementCount(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Host values of a tf tensor (float32 or int32), read without keeping the tensor. */
export async function hostTensor(t: tf.Tensor): Promise<HostTensor> {
  const data = await t.data();
  return { shape: [...t.shape], data: data instanceof Int32Array ? Int32Array.from(data) : Float32Array.from(data as Float32Array) };
}

/** A tf tensor of host values (the caller owns it). */
export function toTensor(h: HostTensor): tf.Tensor {
  return tf.tensor(h.data, h.shape, h.data instanceof Int32Array ? 'int32' : 'float32');
}

function encodeTensor(h: HostTensor, dtype: StoredDtype): Uint8Array {
  if (dtype === 'float16') {
    const out = new Uint16Array(h.data.length);
    for (let i = 0; i < out.length; i++) out[i] = toHalf(h.data[i] as number);
    return new Uint8Array(out.buffer);
  }
  const copy = dtype === 'int32' ? Int32Array.from(h.data) : Float32Array.from(h.data);
  return new Uint8Array(copy.buffer);
}

/**
 * Write a model folder. `tensors`: name -> tf tensor or host values, in the order to store;
 * float tensors are stored as `floatDtype` (float16 halves a shipped checkpoint).
 */
export async function saveModel(
  dir: string,
  model: { kind: ModelKind; config: unknown; tensors: Iterable<[string, tf.Tensor | HostTensor]> },
  floatDtype: 'float32' | 'float16' = 'float32',
): Promise<void> {
  const entries: TensorEntry[] = [];
  const chunks: Uint8Array[] = [];
  let offset = 0;
  for (const [name, t] of model.tensors) {
    const h = t instanceof tf.Tensor ? await hostTensor(t) : t;
    if (h.data.length !== elementCount(h.shape)) throw new Error(`tensor '${name}': ${h.data.length} values for shape [${h.shape.join(', ')}]`);
    const dtype: StoredDtype = h.data instanceof Int32Array ? 'int32' : floatDtype;
    const bytes = encodeTensor(h, dtype);
    entries.push({ name, shape: [...h.shape], dtype, offset });
    chunks.push(bytes);
    offset += bytes.byteLength;
  }
  const bin = new Uint8Array(offset);
  let o = 0;
  for (const c of chunks) (bin.set(c, o), (o += c.byteLength));
  await fs.mkdir(dir, { recursive: true });
  await writeFileAtomic(path.join(dir, TENSORS_FILE), bin);
  const manifest: Manifest = { format: WEIGHTS_FORMAT, version: WEIGHTS_VERSION, kind: model.kind, config: model.config, tensors: entries };
  await writeFileAtomic(path.join(dir, MANIFEST_FILE), manifestText(manifest));
}

/** The manifest as readable JSON: the config indented, one line per tensor. */
function manifestText(m: Manifest): string {
  const head = JSON.stringify({ ...m, tensors: [] }, null, 2).replace(/"tensors": \[\]\n}$/, '');
  return `${head}"tensors": [\n${m.tensors.map((t) => `    ${JSON.stringify(t)}`).join(',\n')}\n  ]\n}\n`;
}

/** Whether `dir` holds a model folder (its manifest exists). */
export async function hasModel(dir: string): Promise<boolean> {
  return fs
    .access(path.join(dir, MANIFEST_FILE))
    .then(() => true)
    .catch(() => false);
}

async function readManifest(file: string): Promise<Manifest> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new InputError(code === 'ENOENT' ? `not a model folder (${MANIFEST_FILE} missing)` : `cannot read the model manifest (${(err as Error).message})`, file);
  }
  let m: Manifest;
  try {
    m = JSON.parse(text) as Manifest;
  } catch (err) {
    throw new InputError(`malformed model manifest (${(err as Error).message})`, file);
  }
  if (m === null || typeof m !== 'object' || m.format !== WEIGHTS_FORMAT) throw new InputError(`not a model manifest (format '${String(m?.format)}', expected '${WEIGHTS_FORMAT}')`, file);
  if (m.version !== WEIGHTS_VERSION) throw new InputError(`model manifest version ${String(m.version)} is not supported (this tool reads version ${WEIGHTS_VERSION})`, file);
  if (!Array.isArray(m.tensors)) throw new InputError(`model manifest has no 'tensors' list`, file);
  return m;
}

/** Checks one manifest entry against the running offset; returns its byte length. */
function checkEntry(e: TensorEntry, expectedOffset: number, file: string): number {
  const validShape = Array.isArray(e.shape) && e.shape.every((d) => Number.isInteger(d) && d >= 0);
  if (typeof e.name !== 'string' || !validShape) throw new InputError(`tensor entry ${JSON.stringify(e.name)} has an invalid name or shape`, file);
  if (!(e.dtype in WIDTH)) throw new InputError(`tensor '${e.name}' has unknown dtype '${String(e.dtype)}' (float32, float16, int32)`, file);
  if (e.offset !== expectedOffset)
    throw new InputError(`tensor '${e.name}' starts at byte ${String(e.offset)}, but the tensors before it end at byte ${expectedOffset} (shape/byte-length mismatch)`, file);
  return elementCount(e.shape) * WIDTH[e.dtype];
}

function decodeTensor(bin: Uint8Array, e: TensorEntry): HostTensor {
  const n = elementCount(e.shape);
  const bytes = bin.slice(e.offset, e.offset + n * WIDTH[e.dtype]);
  if (e.dtype === 'int32') return { shape: e.shape, data: new Int32Array(bytes.buffer) };
  if (e.dtype === 'float32') return { shape: e.shape, data: new Float32Array(bytes.buffer) };
  const half = new Uint16Array(bytes.buffer);
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = fromHalf(half[i] as number);
  return { shape: e.shape, data };
}

/**
 * Read a model folder written by `saveModel`; `expect` is the kind the caller can rebuild.
 * Errors (InputError, naming the file): missing or malformed manifest, another format or version,
 * an unknown kind or not the expected one, tensors not laid end to end, tensors.bin shorter or
 * longer than the manifest says.
 */
export async function loadModel<C = unknown>(dir: string, expect: ModelKind): Promise<ModelFile<C>> {
  const manifestFile = path.join(dir, MANIFEST_FILE);
  const m = await readManifest(manifestFile);
  if (!(MODEL_KINDS as readonly string[]).includes(m.kind)) throw new InputError(`unknown model kind '${String(m.kind)}' (known: ${MODEL_KINDS.join(', ')})`, manifestFile);
  if (m.kind !== expect) throw new InputError(`this folder holds a '${m.kind}' model, not a '${expect}'`, manifestFile);
  let total = 0;
  for (const e of m.tensors) total += checkEntry(e, total, manifestFile);
  const binFile = path.join(dir, TENSORS_FILE);
  let bin: Uint8Array;
  try {
    bin = new Uint8Array(await fs.readFile(binFile));
  } catch (err) {
    throw new InputError(`cannot read the model's tensors (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, binFile);
  }
  if (bin.byteLength < total) throw new InputError(`truncated: the manifest's ${m.tensors.length} tensors need ${total} bytes, the file has ${bin.byteLength}`, binFile);
  if (bin.byteLength > total) throw new InputError(`${bin.byteLength - total} bytes beyond the ${total} that the manifest's ${m.tensors.length} tensors need`, binFile);
  const tensors = new Map<string, HostTensor>();
  for (const e of m.tensors) tensors.set(e.name, decodeTensor(bin, e));
  return { kind: m.kind as ModelKind, config: m.config as C, tensors };
}

/** The tensor `name` of a loaded model; a clear error when the file lacks it or its shape differs. */
export function requireTensor(model: ModelFile, name: string, dir: string, shape?: readonly number[]): HostTensor {
  const t = model.tensors.get(name);
  const file = path.join(dir, MANIFEST_FILE);
  if (!t) throw new InputError(`the ${model.kind} has no tensor '${name}'`, file);
  if (shape && t.shape.join('x') !== shape.join('x')) throw new InputError(`tensor '${name}' has shape ${t.shape.join('x')}, the ${model.kind} expects ${shape.join('x')}`, file);
  return t;
}

/** Assign loaded values to variables by name; every variable must be present with its shape. */
export function assignVariables(vars: ReadonlyMap<string, tf.Variable>, model: ModelFile, dir: string, prefix = ''): void {
  for (const [name, v] of vars) {
    const h = requireTensor(model, prefix + name, dir, v.shape);
    const t = toTensor(h);
    v.assign(t);
    t.dispose();
  }
}

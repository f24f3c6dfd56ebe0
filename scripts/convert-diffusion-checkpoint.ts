/**
 * Converts a diffusion checkpoint from the round-1..3 layout (model.json {format 'auv-diffusion/1'}
 * + weights.json {format 'auv-tensors/1'} + weights.bin) to the one weight-file format of
 * src/core/weights.ts (manifest.json + tensors.bin), in place. The tensors keep their order and
 * stored dtype (the shipped checkpoint is float16), so tensors.bin is byte for byte the old
 * weights.bin; the script checks that, then loads the converted folder and the old files and checks
 * that encode, decode and predictNoise give bit-identical outputs, before it removes the old files.
 *
 *   npx tsx scripts/convert-diffusion-checkpoint.ts [dir=assets/diffusion/default]
 */
import { existsSync, promises as fs } from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { initEngine } from '../src/core/engine.js';
import { fromHalf, MANIFEST_FILE, saveModel, TENSORS_FILE, type HostTensor } from '../src/core/weights.js';
import { LatentDiffusion, type DiffusionModelConfig } from '../src/diffusion/model.js';
import { Rng } from '../src/core/rng.js';

export const LEGACY_FILES = ['model.json', 'weights.json', 'weights.bin'] as const;

interface LegacyMeta {
  format: string;
  config: DiffusionModelConfig;
  latentScale: number;
  training?: Record<string, unknown>;
}

interface LegacyTensors {
  format: string;
  dtype: 'float32' | 'float16';
  entries: { name: string; shape: number[]; offset: number; length: number }[];
}

export interface LegacyCheckpoint {
  meta: LegacyMeta;
  dtype: 'float32' | 'float16';
  tensors: Map<string, HostTensor>;
  bin: Uint8Array;
}

/** Read the old layout (what LatentDiffusion.load read before the one weight-file format). */
export async function readLegacyCheckpoint(dir: string): Promise<LegacyCheckpoint> {
  const meta = JSON.parse(await fs.readFile(path.join(dir, 'model.json'), 'utf8')) as LegacyMeta;
  if (meta.format !== 'auv-diffusion/1') throw new Error(`${path.join(dir, 'model.json')}: format '${meta.format}' is not auv-diffusion/1`);
  const index = JSON.parse(await fs.readFile(path.join(dir, 'weights.json'), 'utf8')) as LegacyTensors;
  if (index.format !== 'auv-tensors/1') throw new Error(`${path.join(dir, 'weights.json')}: format '${index.format}' is not auv-tensors/1`);
  const bin = new Uint8Array(await fs.readFile(path.join(dir, 'weights.bin')));
  const width = index.dtype === 'float16' ? 2 : 4;
  const total = index.entries.reduce((a, e) => a + e.length, 0);
  if (bin.byteLength !== total * width) throw new Error(`${path.join(dir, 'weights.bin')}: ${bin.byteLength} bytes, expected ${total * width}`);
  const tensors = new Map<string, HostTensor>();
  for (const e of index.entries) {
    const bytes = bin.slice(e.offset * width, (e.offset + e.length) * width);
    let data: Float32Array;
    if (index.dtype === 'float32') data = new Float32Array(bytes.buffer);
    else {
      const h = new Uint16Array(bytes.buffer);
      data = new Float32Array(e.length);
      for (let i = 0; i < e.length; i++) data[i] = fromHalf(h[i] as number);
    }
    tensors.set(e.name, { shape: e.shape, data });
  }
  return { meta, dtype: index.dtype, tensors, bin };
}

/** A LatentDiffusion with the old checkpoint's weights, built without the new reader. */
function legacyModel(old: LegacyCheckpoint): LatentDiffusion {
  const model = new LatentDiffusion(old.meta.config, new Rng(0));
  for (const [name, v] of model.namedWeights()) {
    const h = old.tensors.get(name);
    if (!h) throw new Error(`legacy checkpoint has no tensor '${name}'`);
    const t = tf.tensor(h.data, h.shape);
    v.assign(t);
    t.dispose();
  }
  model.latentScale = old.meta.latentScale;
  return model;
}

/** Bitwise equality of encode, decode and predictNoise on fixed inputs; returns the number of values compared. */
export async function compareOutputs(a: LatentDiffusion, b: LatentDiffusion, seed = 7): Promise<number> {
  const rng = new Rng(seed);
  const size = a.imageSize;
  const [h, w, c] = a.latentShape;
  const x = tf.tensor4d(Float32Array.from({ length: 2 * size * size * 3 }, () => rng.next()), [2, size, size, 3]);
  const z = tf.tensor4d(rng.normalArray(2 * h * w * c, 1), [2, h, w, c]);
  const outs = [(m: LatentDiffusion) => m.encode(x), (m: LatentDiffusion) => m.decode(z), (m: LatentDiffusion) => m.predictNoise(z, [10, 500])];
  let n = 0;
  for (const f of outs) {
    const [ya, yb] = [f(a), f(b)];
    const [da, db] = [new Uint32Array((await ya.data()).buffer.slice(0)), new Uint32Array((await yb.data()).buffer.slice(0))];
    tf.dispose([ya, yb]);
    if (da.length !== db.length || da.some((v, i) => v !== db[i])) throw new Error('the converted checkpoint does not give bit-identical outputs');
    n += da.length;
  }
  tf.dispose([x, z]);
  return n;
}

/** Convert `dir` in place; returns what was checked. */
export async function convertDiffusionCheckpoint(dir: string): Promise<{ tensors: number; bytes: number; outputsCompared: number }> {
  const old = await readLegacyCheckpoint(dir);
  await saveModel(dir, { kind: 'latent-diffusion', config: { diffusion: old.meta.config, latentScale: old.meta.latentScale, training: old.meta.training ?? {} }, tensors: old.tensors }, old.dtype);
  const bin = new Uint8Array(await fs.readFile(path.join(dir, TENSORS_FILE)));
  if (bin.byteLength !== old.bin.byteLength || bin.some((v, i) => v !== old.bin[i])) throw new Error(`${TENSORS_FILE} is not byte for byte the old weights.bin`);
  const [a, b] = [legacyModel(old), await LatentDiffusion.load(dir)];
  const outputsCompared = await compareOutputs(a, b);
  a.dispose();
  b.dispose();
  for (const f of LEGACY_FILES) await fs.rm(path.join(dir, f));
  return { tensors: old.tensors.size, bytes: bin.byteLength, outputsCompared };
}

async function main(): Promise<void> {
  const dir = process.argv[2] ?? 'assets/diffusion/default';
  if (!existsSync(path.join(dir, 'model.json'))) {
    console.error(`${dir}: no legacy checkpoint (model.json missing)${existsSync(path.join(dir, MANIFEST_FILE)) ? '; it is already converted' : ''}`);
    process.exit(1);
  }
  await initEngine();
  const r = await convertDiffusionCheckpoint(dir);
  console.log(`${dir}: ${r.tensors} tensors, ${TENSORS_FILE} (${r.bytes} bytes) identical to the old weights.bin; encode/decode/predictNoise bit-identical on ${r.outputsCompared} values; old files removed`);
}

if (process.argv[1]?.endsWith('convert-diffusion-checkpoint.ts')) await main();

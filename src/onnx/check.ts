/**
 * Numerical check of the importer against onnxruntime on the same file (spec section 4): random
 * inputs, both engines, max relative error per output. For users bringing their own ONNX files
 * (ResNet-50, a CLIP image tower, a VAE) before using them as encoders.
 */
import * as tf from '@tensorflow/tfjs';
import { readFileSync } from 'node:fs';
import { InputError } from '../core/errors.js';
import { Rng } from '../core/rng.js';
import { DT } from './proto.js';
import { importOnnx } from './importer.js';

export interface OnnxCheckOptions {
  /** Value for symbolic (or unknown) dimensions, by name; the default for any is `batch`. */
  dims?: Record<string, number>;
  /** Batch size used for symbolic dimensions not named in `dims` (default 1). */
  batch?: number;
  seed?: number;
}

export interface OnnxCheckResult {
  opTypes: string[];
  parameterCount: number;
  inputs: { name: string; shape: number[] }[];
  outputs: { name: string; shape: number[]; maxRelErr: number; maxAbsErr: number }[];
  importMs: number;
  forwardMs: number;
  ortMs: number;
}

export async function checkOnnxAgainstOrt(pathOrBytes: string | Uint8Array, opts: OnnxCheckOptions = {}): Promise<OnnxCheckResult> {
  const file = typeof pathOrBytes === 'string' ? pathOrBytes : '<onnx bytes>';
  const bytes = typeof pathOrBytes === 'string' ? readFileSync(pathOrBytes) : pathOrBytes;
  let t = Date.now();
  const model = await importOnnx(bytes);
  const importMs = Date.now() - t;
  const rng = new Rng(opts.seed ?? 0);
  const feeds: Record<string, { data: Float32Array; shape: number[] }> = {};
  for (const inp of model.inputs) {
    if (inp.elemType !== DT.FLOAT) throw new InputError(`input '${inp.name}' is not float32; only float inputs can be checked`, file);
    if (!inp.shape) throw new InputError(`input '${inp.name}' has no declared shape`, file);
    const shape = inp.shape.map((d) => (typeof d === 'number' ? d : (opts.dims?.[String(d)] ?? opts.batch ?? 1)));
    feeds[inp.name] = { data: rng.normalArray(shape.reduce((a, b) => a * b, 1), 1), shape };
  }
  t = Date.now();
  const got = model.apply(Object.fromEntries(Object.entries(feeds).map(([k, v]) => [k, tf.tensor(v.data, v.shape)])));
  const mine = Object.fromEntries(Object.entries(got).map(([k, v]) => [k, { data: v.dataSync() as Float32Array, shape: v.shape }]));
  const forwardMs = Date.now() - t;
  tf.dispose(Object.values(got));
  const ort = await import('onnxruntime-node');
  const session = await ort.InferenceSession.create(bytes);
  t = Date.now();
  const ref = await session.run(Object.fromEntries(Object.entries(feeds).map(([k, v]) => [k, new ort.Tensor('float32', v.data, v.shape)])));
  const ortMs = Date.now() - t;
  await session.release();
  const outputs = model.outputs.map((o) => {
    const a = mine[o.name]!, b = ref[o.name]!;
    const bd = b.data as Float32Array;
    let scale = 1e-12, err = 0;
    for (let i = 0; i < bd.length; i++) scale = Math.max(scale, Math.abs(bd[i]!));
    for (let i = 0; i < bd.length; i++) err = Math.max(err, Math.abs(Number(a.data[i]) - Number(bd[i])));
    if (a.data.length !== bd.length) err = Infinity;
    return { name: o.name, shape: a.shape, maxAbsErr: err, maxRelErr: err / scale };
  });
  model.dispose();
  return {
    opTypes: model.opTypes,
    parameterCount: model.parameterCount,
    inputs: Object.entries(feeds).map(([name, v]) => ({ name, shape: v.shape })),
    outputs,
    importMs,
    forwardMs,
    ortMs,
  };
}

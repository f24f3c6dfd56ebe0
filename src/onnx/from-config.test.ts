import { describe, it, expect } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { tinyResNetOnnx } from '../../test/onnx/testmodels.js';
import { Rng } from '../core/rng.js';
import { parseConfig } from '../experiment/config.js';
import { prepareEncoders } from '../experiment/runner.js';
import { ArtefactCache } from '../experiment/cache.js';
import type { Dataset } from '../data/dataset.js';
import { OnnxGraphBuilder } from './builder.js';
import { importOnnx } from './importer.js';
import { DT } from './proto.js';

describe('encoders from ONNX files in the experiment config', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'onnx-role-'));
  const fileA = path.join(dir, 'a.onnx');
  const fileB = path.join(dir, 'b.onnx');
  writeFileSync(fileA, tinyResNetOnnx(5, 16, 8, 6));
  writeFileSync(fileB, tinyResNetOnnx(6, 16, 8, 6)); // same graph, other weights
  const mean: [number, number, number] = [0.4, 0.5, 0.6];
  const std: [number, number, number] = [0.2, 0.25, 0.3];

  it('a config role gives the same features as the importer called directly (input size read from the file, 24 px resized to 16)', async () => {
    const cfg = parseConfig({ encoders: { victim: { onnx: fileA, mean, std }, surrogate: { onnx: fileB }, semantic: { onnx: fileA, inputSize: 16 } } });
    // every role is an ONNX file: nothing is trained, the dataset and the cache are never read
    const { encoders, encHash } = await prepareEncoders({} as Dataset, {}, cfg, new ArtefactCache(path.join(dir, 'cache')), () => {});
    expect(encoders.victim.description).toMatchObject({ kind: 'onnx', inputSize: 16, featureDim: 6 });
    const rng = new Rng(4);
    const x = tf.tensor4d(Float32Array.from(rng.normalArray(2 * 24 * 24 * 3, 0.2), (v) => Math.min(1, Math.max(0, 0.5 + v))), [2, 24, 24, 3]);
    const viaConfig = encoders.victim.encode(x);
    const model = await importOnnx(fileA);
    const direct = tf.tidy(() => {
      const r = tf.image.resizeBilinear(x, [16, 16], false, true); // tfjs's own resize: same forward values
      const n = tf.div(tf.sub(r, tf.tensor1d(mean)), tf.tensor1d(std));
      return model.apply({ image: tf.transpose(n, [0, 3, 1, 2]) }).logits!;
    });
    const a = await viaConfig.data();
    const b = await direct.data();
    expect(a.length).toBe(12);
    for (let i = 0; i < a.length; i++) expect(a[i]).toBeCloseTo(b[i]!, 5);
    // the cache key follows the file's content (A and B differ only in weights) and the normalisation
    expect(encHash.victim).not.toBe(encHash.surrogate);
    expect(encHash.victim).not.toBe(encHash.semantic); // same file, other mean/std
    tf.dispose([x, viaConfig, direct]);
    model.dispose();
    for (const e of Object.values(encoders)) e.dispose();
  });

  const load = async (victim: Record<string, unknown>): Promise<unknown> => {
    const cfg = parseConfig({ encoders: { victim, surrogate: { onnx: fileA }, semantic: { onnx: fileA } } });
    const { encoders } = await prepareEncoders({} as Dataset, {}, cfg, new ArtefactCache(path.join(dir, 'cache')), () => {});
    for (const e of Object.values(encoders)) e.dispose();
    return null;
  };

  it('names the key and the file of a missing, malformed, wrong-size or non-image ONNX file', async () => {
    await expect(load({ onnx: path.join(dir, 'nope.onnx') })).rejects.toThrow(/nope\.onnx: 'encoders\.victim\.onnx': cannot read the ONNX file \(ENOENT\)/);
    const junk = path.join(dir, 'junk.onnx');
    writeFileSync(junk, 'not a protobuf at all');
    await expect(load({ onnx: junk })).rejects.toThrow(/'encoders\.victim\.onnx'.*junk\.onnx/);
    await expect(load({ onnx: fileA, inputSize: 32 })).rejects.toThrow(/'encoders\.victim\.onnx'.*a\.onnx.*does not take 32x32/);
    const b = new OnnxGraphBuilder();
    const v = b.input('vec', ['N', 10]);
    b.node('Gemm', [v, b.init('w', [4, 10], new Float32Array(40).fill(0.1))], { transB: 1 }, ['y']);
    b.output('y');
    const vecFile = path.join(dir, 'vec.onnx');
    writeFileSync(vecFile, b.build(13));
    await expect(load({ onnx: vecFile, inputSize: 16 })).rejects.toThrow(/'encoders\.victim\.onnx'.*vec\.onnx.*\[N, 10\].*RGB images/);
    const ib = new OnnxGraphBuilder();
    const iv = ib.input('ids', ['N', 3, 16, 16], DT.INT64);
    ib.node('Identity', [iv], {}, ['out']);
    ib.output('out', DT.INT64);
    const intFile = path.join(dir, 'int.onnx');
    writeFileSync(intFile, ib.build(13));
    await expect(load({ onnx: intFile })).rejects.toThrow(/'encoders\.victim\.onnx'.*int\.onnx.*not a float tensor/);
  });

  it('rejects a bad ONNX role setting at config time, naming the key', () => {
    expect(() => parseConfig({ encoders: { victim: { onnx: fileA, inputSize: 'big' } } })).toThrow(/'encoders\.victim\.inputSize' must be a number/);
    expect(() => parseConfig({ encoders: { victim: { onnx: fileA, epochs: 3 } } })).toThrow(/unknown key 'encoders\.victim\.epochs'/);
  });
});

import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import os from 'node:os';
import path from 'node:path';
import { promises as fs } from 'node:fs';
import { synthesizeCatalogue } from '../data/index.js';
import { ResNetEncoder, extractFeatures, loadEncoder } from './resnet.js';
import { trainEncoder, augment } from './train.js';
import { Rng } from '../core/rng.js';

const tinyCfg = { widths: [8, 16], groups: 4, featureDim: 32, inputSize: 16 };

describe('resnet encoder', () => {
  it('encodes any size, is differentiable in pixels, and F differs from G', async () => {
    const f = new ResNetEncoder({ role: 'victim', blocks: 1, seed: 1, ...tinyCfg });
    const g = new ResNetEncoder({ role: 'surrogate', blocks: 1, seed: 2, ...tinyCfg, widths: [12, 24] });
    const x = tf.randomUniform([2, 32, 32, 3], 0, 1, 'float32', 5) as tf.Tensor4D;
    const y = f.encode(x);
    expect(y.shape).toEqual([2, 32]);
    const grad = tf.grad((z: tf.Tensor) => f.encode(z as tf.Tensor4D).sum())(x);
    const gd = await grad.data();
    expect(gd.every(Number.isFinite)).toBe(true);
    expect(gd.some((v) => v !== 0)).toBe(true);
    expect(await g.encode(x).data()).not.toEqual(await y.data());
    expect(f.encode(tf.randomUniform([1, 20, 20, 3]) as tf.Tensor4D).shape).toEqual([1, 32]);
    f.dispose();
    g.dispose();
  });

  it('save/load reproduces features; extractFeatures leaks nothing', async () => {
    const ds = synthesizeCatalogue({ profile: 'tiny', seed: 1 });
    const f = new ResNetEncoder({ role: 'victim', blocks: 1, seed: 1, ...tinyCfg });
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'enc-'));
    await f.save(dir);
    const l = await loadEncoder(dir);
    const a = await extractFeatures(f, ds.images, [0, 1, 2, 3, 4], 2);
    const before = tf.memory().numTensors;
    const b = await extractFeatures(l, ds.images, [0, 1, 2, 3, 4], 2);
    expect(tf.memory().numTensors).toBe(before + 1);
    expect(await b.data()).toEqual(await a.data());
    tf.dispose([a, b]);
    f.dispose();
    l.dispose();
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('augment keeps shape and range; classification and contrastive training reduce their losses', async () => {
    const ds = synthesizeCatalogue({ profile: 'tiny', seed: 1 });
    const x = tf.randomUniform([3, 16, 16, 3]) as tf.Tensor4D;
    const ax = augment(x, new Rng(1));
    expect(ax.shape).toEqual([3, 16, 16, 3]);
    expect((await ax.max().data())[0]!).toBeLessThanOrEqual(1);
    const items = Array.from({ length: 64 }, (_, i) => i);
    const before = tf.memory().numTensors;
    const c = await trainEncoder(ds, 'victim', tinyCfg, { epochs: 4, batch: 32, items });
    expect(c.report.objective).toBe('classification');
    expect(c.report.lossCurve.at(-1)!).toBeLessThan(c.report.lossCurve[0]!);
    c.encoder.dispose();
    expect(tf.memory().numTensors).toBe(before);
    const s = await trainEncoder(ds, 'semantic', tinyCfg, { epochs: 4, batch: 32, items });
    expect(s.report.objective).toBe('contrastive');
    expect(s.report.lossCurve.at(-1)!).toBeLessThan(s.report.lossCurve[0]!);
    s.encoder.dispose();
    tf.dispose([x, ax]);
  });
});

import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import os from 'node:os';
import path from 'node:path';
import { promises as fs } from 'node:fs';
import { synthesizeCatalogue } from '../data/index.js';
import { ResNetEncoder, extractFeatures, loadEncoder } from './resnet.js';
import { trainEncoder, augment, encoderLabelSets } from './train.js';
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
    // 'brightness' jitter scales the three channels of a pixel alike: hue is kept
    const flat = tf.ones([1, 16, 16, 3]).mul(tf.tensor1d([0.2, 0.4, 0.6])) as tf.Tensor4D;
    const bj = await augment(flat, new Rng(2), 'brightness').data();
    expect(bj[1]! / bj[0]!).toBeCloseTo(2, 4);
    expect(bj[2]! / bj[0]!).toBeCloseTo(3, 4);
    expect((await ax.max().data())[0]!).toBeLessThanOrEqual(1);
    const items = Array.from({ length: 64 }, (_, i) => i);
    const before = tf.memory().numTensors;
    const c = await trainEncoder(ds, 'victim', tinyCfg, { epochs: 4, batch: 32, items });
    expect(c.report.objective).toBe('classification');
    // one head per label set the catalogue carries: category, colour, pattern
    expect(Object.keys(c.report.headAccuracy)).toEqual(['category', 'colour', 'pattern']);
    for (const a of Object.values(c.report.headAccuracy)) expect(a).toBeGreaterThanOrEqual(0);
    expect(c.report.accuracy).toBe(c.report.headAccuracy.category);
    expect(c.report.lossCurve.at(-1)!).toBeLessThan(c.report.lossCurve[0]!);
    c.encoder.dispose();
    expect(tf.memory().numTensors).toBe(before);
    const s = await trainEncoder(ds, 'semantic', tinyCfg, { epochs: 4, batch: 32, items });
    expect(s.report.objective).toBe('contrastive');
    expect(s.report.lossCurve.at(-1)!).toBeLessThan(s.report.lossCurve[0]!);
    s.encoder.dispose();
    tf.dispose([x, ax]);
  });

  it('learns a head per item label set and refuses a label set of the wrong length', () => {
    const ds = synthesizeCatalogue({ profile: 'tiny', seed: 1 });
    expect(encoderLabelSets(ds).map((s) => `${s.name}:${s.values.length}`)).toEqual(['category:8', 'colour:14', 'pattern:6']);
    expect(encoderLabelSets({ ...ds, itemCategory: null, itemAttributes: [] })).toEqual([]);
    const bad = { ...ds, itemAttributes: [{ name: 'colour', values: ['a', 'b'], labels: new Int32Array(3) }] };
    expect(() => encoderLabelSets(bad)).toThrow(/label set 'colour' has 3 labels for 300 items/);
    const outOfRange = { ...ds, itemAttributes: [{ name: 'colour', values: ['a', 'b'], labels: new Int32Array(300).fill(2, 7, 8) }] };
    expect(() => encoderLabelSets(outOfRange)).toThrow(/item 'i007' has colour label 2, outside the 2 values/);
  });
});

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it } from 'vitest';
import { Rng } from '../core/rng.js';
import { synthesizeCatalogue } from '../data/index.js';
import { LatentDiffusion, type DiffusionModelConfig } from './model.js';
import { ddimSample } from './sample.js';
import { DEFAULT_DIFFUSION_TRAIN_CONFIG, trainDiffusion, type DiffusionTrainConfig } from './train.js';
import { TINY_DIFFUSION_CONFIG } from '../../test/diffusion.js';

const tiny: DiffusionModelConfig = TINY_DIFFUSION_CONFIG;
const dirs: string[] = [];
const tmp = (): string => {
  const d = mkdtempSync(path.join(tmpdir(), 'auv-diff-'));
  dirs.push(d);
  return d;
};
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('LatentDiffusion', () => {
  it('has latent shape H/4 x W/4 x 4 and maps images to images', () => {
    const m = new LatentDiffusion(tiny, new Rng(1));
    expect(m.latentShape).toEqual([4, 4, 4]);
    const x = tf.randomUniform([2, 16, 16, 3], 0, 1, 'float32', 3) as tf.Tensor4D;
    const z = m.encode(x);
    expect(z.shape).toEqual([2, 4, 4, 4]);
    const eps = m.predictNoise(z, 500);
    expect(eps.shape).toEqual(z.shape);
    const y = m.decode(z);
    expect(y.shape).toEqual([2, 16, 16, 3]);
    const v = y.dataSync();
    expect(Math.min(...v)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...v)).toBeLessThanOrEqual(1);
    tf.dispose([x, z, eps, y]);
    m.dispose();
  });

  it('save/load round-trips exactly (float32) and closely (float16)', async () => {
    const m = new LatentDiffusion(tiny, new Rng(2));
    m.latentScale = 0.7;
    const x = tf.randomUniform([1, 16, 16, 3], 0, 1, 'float32', 4) as tf.Tensor4D;
    const ref = m.decode(m.encode(x)).dataSync();
    const d32 = tmp();
    await m.save(d32);
    const m32 = await LatentDiffusion.load(d32);
    expect(m32.latentScale).toBe(0.7);
    expect(Array.from(m32.decode(m32.encode(x)).dataSync())).toEqual(Array.from(ref));
    const d16 = tmp();
    await m.save(d16, 'float16');
    const m16 = await LatentDiffusion.load(d16);
    const r16 = m16.decode(m16.encode(x)).dataSync();
    for (let i = 0; i < ref.length; i++) expect(Math.abs((r16[i] as number) - (ref[i] as number))).toBeLessThan(5e-3);
    await expect(LatentDiffusion.load(tmp())).rejects.toThrow(/manifest\.json missing/);
    m.dispose();
    m32.dispose();
    m16.dispose();
  });

  it('gives exact gradients through DDIM steps and the decoder (finite differences)', () => {
    const m = new LatentDiffusion(tiny, new Rng(5));
    const ts = m.scheduler.setTimesteps(10);
    const z = tf.tensor4d(new Rng(6).normalArray(4 * 4 * 4), [1, 4, 4, 4]);
    const target = tf.randomUniform([1, 16, 16, 3], 0, 1, 'float32', 9);
    // loss(z_t) = |D(DDIM_{t5 -> 0}(z_t)) - target|^2, in float64-sensitive form
    const f = (zz: tf.Tensor4D): tf.Scalar =>
      tf.tidy(() => {
        let cur = zz;
        for (let k = 5; k < ts.length; k++) cur = m.scheduler.step(m.predictNoise(cur, ts[k]!), ts[k]!, cur).prevSample as tf.Tensor4D;
        return tf.sum(tf.square(tf.sub(m.decode(cur), target))) as tf.Scalar;
      });
    const g = tf.grad((zz: tf.Tensor) => f(zz as tf.Tensor4D))(z).dataSync();
    const base = z.dataSync();
    const h = 1e-2;
    for (const i of [0, 17, 42, 63]) {
      const plus = Float32Array.from(base);
      plus[i]! += h;
      const minus = Float32Array.from(base);
      minus[i]! -= h;
      const fd = (f(tf.tensor4d(plus, z.shape)).dataSync()[0]! - f(tf.tensor4d(minus, z.shape)).dataSync()[0]!) / (2 * h);
      expect(Math.abs(fd - g[i]!)).toBeLessThan(2e-2 * Math.max(1, Math.abs(fd)));
    }
    m.dispose();
  });

  it('ddimSample keeps tensor counts flat', () => {
    const m = new LatentDiffusion(tiny, new Rng(7));
    const z = tf.randomNormal([2, 4, 4, 4], 0, 1, 'float32', 1) as tf.Tensor4D;
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) ddimSample(m, z, { numSteps: 10, startIndex: 5 }).dispose();
    expect(tf.memory().numTensors).toBe(before);
    m.dispose();
  });
});

describe('trainDiffusion', () => {
  const ds = synthesizeCatalogue({ profile: 'tiny', seed: 3, overrides: { imageSize: 16 } });
  const cfg: DiffusionTrainConfig = {
    ...DEFAULT_DIFFUSION_TRAIN_CONFIG,
    model: tiny,
    vae: { steps: 4, batch: 4, lr: 1e-3, klWeight: 1e-5 },
    unet: { steps: 4, batch: 4, lr: 1e-3 },
    checkpointEvery: 2,
    maxImages: 40,
    dtype: 'float32',
  };

  it('resumes after an interruption and ends with the same weights as an uninterrupted run', async () => {
    const full = await trainDiffusion(ds, cfg, { outDir: tmp(), quiet: true });
    expect(full.state.phase).toBe('done');
    const out = tmp();
    const part = await trainDiffusion(ds, cfg, { outDir: out, quiet: true, stopAfterSteps: 5 }); // killed mid-UNet (after step 1)
    expect(part.state.phase).toBe('unet');
    part.model.dispose();
    const resumed = await trainDiffusion(ds, cfg, { outDir: out, quiet: true });
    expect(resumed.resumedFrom).not.toBeNull();
    expect(resumed.state.unetLoss).toEqual(full.state.unetLoss);
    const a = await LatentDiffusion.load(out);
    const x = tf.randomUniform([1, 16, 16, 3], 0, 1, 'float32', 2) as tf.Tensor4D;
    const ya = a.predictNoise(a.encode(x), 300).dataSync();
    const yb = full.model.predictNoise(full.model.encode(x), 300).dataSync();
    for (let i = 0; i < ya.length; i++) expect(Math.abs((ya[i] as number) - (yb[i] as number))).toBeLessThan(1e-5);
    for (const m of [full.model, resumed.model, a]) m.dispose();
  });
});

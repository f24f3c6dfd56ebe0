import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { tinyResNetOnnx } from '../../test/onnx/testmodels.js';
import { toChainModel } from '../attacks/auv-fusion/diffusion-adapter.js';
import { Rng } from '../core/rng.js';
import { synthesizeCatalogue } from '../data/index.js';
import { chainGrad, chainPlan, noisyLatent } from '../diffusion/chain.js';
import { baseForSize } from '../diffusion/fit.js';
import { LatentDiffusion, type DiffusionModelConfig } from '../diffusion/model.js';
import { OnnxImageEncoder } from '../onnx/encoder.js';

// Image size is a dataset setting (synthetic `imageSize`, folder dataset.json `imageSize`): at 128 px
// the diffusion model's latents, the chain and an imported encoder (resizing inside) all follow it.
describe('128 px images through encoder, diffusion and the AUV-Fusion chain', () => {
  const tiny128: DiffusionModelConfig = {
    imageSize: 128,
    vae: { channels: [4, 4, 4], latentChannels: 4, groups: 2 },
    unet: { channels: [4, 8], groups: 2, timeEmbedDim: 8, attention: false },
    scheduler: { clipSample: false },
  };

  it('gives exact gradients of an ONNX-encoder loss through decoder and DDIM steps at 128 px (finite differences)', async () => {
    const ds = synthesizeCatalogue({ profile: 'tiny', seed: 1, overrides: { imageSize: 128 } });
    expect(ds.images.size).toBe(128);
    const dir = mkdtempSync(path.join(tmpdir(), 'size128-'));
    writeFileSync(path.join(dir, 'enc.onnx'), tinyResNetOnnx(5, 16, 8, 6));
    const enc = await OnnxImageEncoder.load({ file: path.join(dir, 'enc.onnx') }); // takes 16 px: resizes 128 -> 16 inside
    const model = new LatentDiffusion(tiny128, new Rng(3));
    expect(model.latentShape).toEqual([32, 32, 4]);
    const chain = toChainModel(model);
    const plan = chainPlan(chain, 6, 4);
    const x0 = tf.tensor4d(await ds.images.load(0), [1, 128, 128, 3]);
    const target = tf.tensor2d(new Rng(4).normalArray(6), [1, 6]);
    const zt = tf.tidy(() => noisyLatent(model.encode(x0), tf.tensor4d(new Rng(5).normalArray(32 * 32 * 4), [1, 32, 32, 4]), plan.alphaBar));
    const lossFn = (x: tf.Tensor4D): tf.Scalar[] => [tf.sum(tf.square(tf.sub(enc.encode(x), target))) as tf.Scalar];
    const r = await chainGrad(chain, plan, zt, 128, lossFn);
    expect(r.image.shape).toEqual([1, 128, 128, 3]);
    const img = r.image.dataSync();
    expect(Math.min(...img)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...img)).toBeLessThanOrEqual(1);
    // directional finite difference along a random unit direction
    const dirT = tf.tidy(() => {
      const d = tf.tensor4d(new Rng(6).normalArray(32 * 32 * 4), [1, 32, 32, 4]);
      return tf.div(d, tf.norm(d)) as tf.Tensor4D;
    });
    const analytic = tf.sum(tf.mul(r.gradZt, dirT)).dataSync()[0]!;
    const h = 1e-2;
    const at = async (s: number): Promise<number> => {
      const z = tf.tidy(() => tf.add(zt, tf.mul(dirT, s)) as tf.Tensor4D);
      const o = await chainGrad(chain, plan, z, 128, lossFn);
      tf.dispose([z, o.image, o.gradZt]);
      return o.loss;
    };
    const fd = ((await at(h)) - (await at(-h))) / (2 * h);
    expect(Math.abs(analytic)).toBeGreaterThan(1e-6);
    expect(Math.abs(fd - analytic)).toBeLessThan(5e-2 * Math.max(1e-3, Math.abs(fd)));
    tf.dispose([x0, target, zt, r.image, r.gradZt, dirT]);
    model.dispose();
    enc.dispose();
  });

  it('re-instantiates the shipped 64 px checkpoint at 128 px with the same weights (fitting at 128 px)', async () => {
    const m = await baseForSize(undefined, 128);
    expect(m.imageSize).toBe(128);
    expect(m.latentShape[0]).toBe(32);
    const x = tf.fill([1, 128, 128, 3], 0.5) as tf.Tensor4D;
    const z = m.encode(x);
    expect(z.shape).toEqual([1, 32, 32, m.latentShape[2]]);
    const y = m.decode(z);
    expect(y.shape).toEqual([1, 128, 128, 3]);
    tf.dispose([x, z, y]);
    m.dispose();
  });
});

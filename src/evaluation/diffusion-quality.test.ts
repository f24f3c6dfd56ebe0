import { describe, expect, it } from 'vitest';
import { synthesizeCatalogue } from '../data/index.js';
import type { ImageSource } from '../data/dataset.js';
import { loadDiffusion } from '../diffusion/model.js';
import { Rng } from '../core/rng.js';
import { diffusionQuality, qualitySample } from './diffusion-quality.js';

describe('diffusion quality gate', () => {
  const ds = synthesizeCatalogue({ profile: 'tiny', seed: 2, overrides: { imageSize: 64 } });
  const items = qualitySample(ds.itemIds.length, ds.targets, 8, 1);

  it('samples non-target items, the same ones every time', () => {
    expect(items).toHaveLength(8);
    expect(items.some((i) => ds.targets.includes(i))).toBe(false);
    expect(qualitySample(ds.itemIds.length, ds.targets, 8, 1)).toEqual(items);
  });

  it('passes the shipped model on the synthetic catalogue it was fitted to and warns on images it was not (noise, flat colours)', async () => {
    const model = await loadDiffusion();
    const opts = { ddimSteps: 10, injectIndex: 5 };
    const synth = await diffusionQuality(model, ds.images, items, opts);
    expect(synth.outOfDomain).toBe(false);
    expect(synth.warning).toBeNull();
    expect(synth.reconSsim).toBeGreaterThan(0.7);
    expect(synth.perItem.roundTrip).toHaveLength(8);
    const size = 64;
    const rng = new Rng(5);
    const noiseImgs = Array.from({ length: 8 }, () => rng.uniformArray(size * size * 3));
    const noise: ImageSource = { size, hasPixels: true, load: async (i) => noiseImgs[i]! };
    const flat: ImageSource = { size, hasPixels: true, load: async (i) => new Float32Array(size * size * 3).fill((i + 1) / 9) };
    for (const src of [noise, flat]) {
      const q = await diffusionQuality(model, src, [0, 1, 2, 3, 4, 5, 6, 7], opts);
      expect(q.outOfDomain).toBe(true);
      expect(q.warning).toMatch(/out of its domain.*reconstruction SSIM.*round-trip SSIM.*diffusion: \{ fit/);
      expect(q.roundTripSsim).toBeLessThan(synth.roundTripSsim);
    }
    model.dispose();
  });
});

import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { synthesizeCatalogue } from '../data/index.js';
import { DiffusionFitSchema, fitDiffusion } from '../diffusion/fit.js';
import { parseConfig } from './config.js';

describe('diffusion: fit', () => {
  it('is written `diffusion: fit` or `diffusion: { from, fit }`, checked like any key', () => {
    expect(parseConfig({ diffusion: 'fit' })).toMatchObject({ diffusion: 'default', diffusionFit: { vaeSteps: 150, unetSteps: 300 } });
    expect(parseConfig({ diffusion: { fit: { unetSteps: 10 } } })).toMatchObject({ diffusion: 'default', diffusionFit: { unetSteps: 10, vaeSteps: 150 } });
    expect(parseConfig({ diffusion: 'ckpt/dir' }).diffusionFit).toBeUndefined();
    expect(() => parseConfig({ diffusion: { fit: { steps: 3 } } })).toThrow(/unknown key 'diffusionFit\.steps'/);
    expect(() => parseConfig({ diffusion: { fitt: {} } })).toThrow(/unknown key 'diffusion\.fitt'; allowed keys: from, fit/);
  });

  it('fine-tunes the shipped checkpoint on non-target images, at the dataset size (32 px), and resumes after a kill with identical weights', async () => {
    const ds = synthesizeCatalogue({ profile: 'tiny', seed: 4, overrides: { imageSize: 32 } });
    const fit = DiffusionFitSchema.parse({ vaeSteps: 2, unetSteps: 2, batch: 2, checkpointEvery: 1, seed: 3 });
    const dirA = mkdtempSync(path.join(tmpdir(), 'fit-a-'));
    const dirB = mkdtempSync(path.join(tmpdir(), 'fit-b-'));
    const full = await fitDiffusion(ds, fit, { outDir: dirA, quiet: true });
    expect(full.state.phase).toBe('done');
    expect(full.model.imageSize).toBe(32);
    expect(full.holdout.some((i) => ds.targets.includes(i))).toBe(false);
    // "kill" after 3 of the 4 steps (VAE 2 + UNet 1), then a fresh call resumes from the checkpoint
    const part = await fitDiffusion(ds, fit, { outDir: dirB, quiet: true, stopAfterSteps: 3 });
    expect(part.state.phase).toBe('unet');
    part.model.dispose();
    const resumed = await fitDiffusion(ds, fit, { outDir: dirB, quiet: true });
    expect(resumed.resumedFrom).toEqual({ phase: 'unet', step: 1 });
    const a = readFileSync(path.join(dirA, 'tensors.bin'));
    const b = readFileSync(path.join(dirB, 'tensors.bin'));
    expect(a.length).toBeGreaterThan(1000);
    expect(Buffer.compare(a, b)).toBe(0);
    // fine-tuning moved the weights away from the shipped ones
    const base = await import('../diffusion/model.js').then((m) => m.loadDiffusion());
    const k = [...base.unet.params.vars.keys()][0]!;
    const d = base.unet.params.vars.get(k)!.sub(full.model.unet.params.vars.get(k)!).abs().max().dataSync()[0]!;
    expect(d).toBeGreaterThan(0);
    for (const m of [full.model, resumed.model, base]) m.dispose();
  });
});

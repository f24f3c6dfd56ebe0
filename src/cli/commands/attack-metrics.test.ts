import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeFileAtomic } from '../../core/fsutil.js';
import { encodePngRgb } from '../../data/png.js';
import { openDataset } from '../../data/open.js';
import { ssimArrays } from '../../evaluation/image-metrics.js';
import { parseParamArgs, runAttackCommand } from './attack.js';
import { parseConfig } from '../../experiment/config.js';
import { closeExperiment, openExperiment } from '../../experiment/stages/context.js';
import { attackChunkProduct } from '../../experiment/stages/run-cell.js';
import { imageFileMetrics, readImageFile } from './metrics.js';

const dir = mkdtempSync(path.join(tmpdir(), 'auv-p5-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('metrics image', () => {
  it('reports ssim/psnr/linf/l2 of two PNG files', async () => {
    const a = Float32Array.from({ length: 20 * 20 * 3 }, (_, i) => ((i * 7) % 255) / 255);
    const b = Float32Array.from(a, (v) => Math.min(1, v + 10 / 255));
    await writeFileAtomic(path.join(dir, 'a.png'), encodePngRgb(a, 20, 20));
    await writeFileAtomic(path.join(dir, 'b.png'), encodePngRgb(b, 20, 20));
    const m = await imageFileMetrics(path.join(dir, 'a.png'), path.join(dir, 'b.png'));
    expect(m.linf).toBeCloseTo(10 / 255, 5);
    expect(m.ssim).toBeCloseTo(ssimArrays(a, b, 20), 5);
    expect(m.psnr).toBeGreaterThan(25);
    await writeFileAtomic(path.join(dir, 'c.png'), encodePngRgb(new Float32Array(12 * 12 * 3), 12, 12));
    await expect(imageFileMetrics(path.join(dir, 'a.png'), path.join(dir, 'c.png'))).rejects.toThrow(/differs/);
    await expect(imageFileMetrics(path.join(dir, 'a.png'), path.join(dir, 'missing.png'))).rejects.toThrow(/missing.png/);
  });
});

describe('attack command', () => {
  it('parses key=value parameters', () => {
    expect(parseParamArgs(['steps=3', 'optimizer=sign', 'randomStart=true'])).toEqual({ steps: 3, optimizer: 'sign', randomStart: true });
    expect(() => parseParamArgs(['steps'])).toThrow(/key=value/);
  });
  it('random writes one PNG per target within the budget and a log', async () => {
    const out = path.join(dir, 'random');
    await runAttackCommand('random', { data: 'synth:tiny', budget: '8', out, seed: '1', param: [], maxTargets: '4' });
    const files = readdirSync(out).sort();
    expect(files.filter((f) => f.endsWith('.png')).length).toBe(4);
    const log = JSON.parse(readFileSync(path.join(out, 'attack-log.json'), 'utf8'));
    expect(log.attack).toBe('random');
    expect(log.targets.length).toBe(4);
    const ds = await openDataset('synth:tiny', { seed: 1 });
    for (const t of log.targets as { item: string; index: number; linf: number }[]) {
      expect(t.linf).toBeLessThanOrEqual(8 / 255 + 1e-6);
      const png = await readImageFile(path.join(out, `${t.item}.png`));
      const clean = await ds.images.load(t.index);
      let d = 0;
      for (let i = 0; i < clean.length; i++) d = Math.max(d, Math.abs((png.pixels[i] as number) - (clean[i] as number)));
      expect(d).toBeLessThanOrEqual(8 / 255 + 1e-6); // 8-bit PNG rounding keeps the budget
    }
  });
  it('crafts the images `run` crafts for the same seed (one attack stage, one random stream)', async () => {
    const out = path.join(dir, 'random-run');
    await runAttackCommand('random', { data: 'synth:tiny', budget: '8', out, seed: '2', param: [], maxTargets: '3' });
    const cfg = parseConfig({ dataset: 'synth:tiny', seeds: [2], maxTargets: 3, attacks: [{ name: 'random', params: { budget: 8 } }], cacheDir: path.join(dir, 'cache-run') });
    const ctx = await openExperiment(cfg, () => undefined);
    const crafted = await (await attackChunkProduct(ctx, 2, 'random', null, 0)).images();
    for (const t of ctx.targets) {
      const png = await readImageFile(path.join(out, `${ctx.ds.itemIds[t]}.png`));
      const img = crafted.get(t)!;
      let d = 0;
      for (let i = 0; i < img.length; i++) d = Math.max(d, Math.abs((png.pixels[i] as number) - img[i]!));
      expect(d).toBeLessThanOrEqual(0.5 / 255 + 1e-6); // equal up to 8-bit PNG rounding
    }
    await closeExperiment(ctx);
  });
  it('refuses attacks that need a victim without --victim-dir, and SPAF', async () => {
    await expect(runAttackCommand('insa', { data: 'synth:tiny', out: path.join(dir, 'x'), seed: '1', param: [] })).rejects.toThrow(/--victim-dir/);
    await expect(runAttackCommand('spaf', { data: 'synth:tiny', out: path.join(dir, 'x'), seed: '1', param: [] })).rejects.toThrow(/not available/);
  });
});

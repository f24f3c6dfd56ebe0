/**
 * data-synth-default: generate the default synthetic catalogue (2,000 users, 3,000 items, taste x
 * popularity interactions, leave-one-out split) and render + PNG-encode all 3,000 64x64 item images
 * in memory (what `data synth --profile default` does, minus the disk writes).
 */
import { synthesizeCatalogue, type SynthDataset } from '../../src/data/synth/catalogue.js';
import { renderItem } from '../../src/data/synth/raster.js';
import { encodePngRgb } from '../../src/data/png.js';
import { registerWorkload } from '../workloads.js';

interface Ctx {
  seed: number;
  last: SynthDataset | null;
  bytes: number;
}

function once(ctx: Ctx, items: number): void {
  const ds = synthesizeCatalogue({ profile: 'default', seed: ctx.seed, overrides: { imageCache: 0 } });
  const s = ds.images.size;
  const buf = new Float32Array(s * s * 3);
  let bytes = 0;
  for (let i = 0; i < Math.min(items, ds.itemIds.length); i++) bytes += encodePngRgb(renderItem(ds.attributes[i]!, s, buf), s, s).length;
  ctx.last = ds;
  ctx.bytes = bytes;
}

registerWorkload<Ctx>({
  name: 'data-synth-default',
  description: 'generate the default catalogue (2k users, 3k items, split) and render + PNG-encode its 3,000 64x64 images',
  setup: () => ({ seed: 1, last: null, bytes: 0 }),
  warmup: (ctx) => once(ctx, 100),
  run: (ctx) => once(ctx, Infinity),
  runs: 3,
});

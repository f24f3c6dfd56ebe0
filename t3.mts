import { initEngine } from './src/core/engine.ts';
await initEngine();
import { openDataset } from './src/data/open.ts';
import { loadDiffusion } from './src/diffusion/model.ts';
import { diffusionQuality, qualitySample } from './src/evaluation/diffusion-quality.ts';
const m = await loadDiffusion();
for (const d of ['synth:default:1']) {
  const ds = await openDataset(d);
  const items = qualitySample(ds.itemIds.length, ds.targets, 32, 1);
  const t0 = performance.now();
  for (const [n, i] of [[20,10]]) { const q = await diffusionQuality(m, ds.images, items, {ddimSteps: n, injectIndex: i});
  console.log(d, n, i, q.reconSsim.toFixed(3), q.roundTripSsim.toFixed(3), Math.min(...q.perItem.roundTrip).toFixed(3), ((performance.now()-t0)/1000).toFixed(1)+'s'); }
}
// flat and noise images
const size = 64;
const noise = { size, hasPixels: true, load: async (i: number) => Float32Array.from({length: size*size*3}, (_, k) => ((Math.sin(i*7919 + k*104729) * 43758.5453) % 1 + 1) % 1) };
const flat = { size, hasPixels: true, load: async (i: number) => new Float32Array(size*size*3).fill((i % 7) / 7) };
for (const [n, src] of [['noise', noise], ['flat', flat]] as const) { const q = await diffusionQuality(m, src, [...Array(16).keys()]); console.log(n, q.reconSsim.toFixed(3), q.roundTripSsim.toFixed(3)); }

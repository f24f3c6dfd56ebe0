/**
 * Quality, memory and speed of a diffusion checkpoint (issue "Latent diffusion", Must show):
 * VAE reconstruction SSIM/PSNR on held-out items, SSIM of a DDIM round trip (noise to the middle
 * step, denoise back), a PNG grid (originals | reconstructions | round trips | samples), the peak
 * memory of backpropagating through 25 DDIM steps for a batch of 8, and median timings.
 *
 *   npx tsx scripts/diffusion-report.ts [--ckpt DIR] [--data synth:default:1] [--grid FILE] [--json FILE]
 */
import { writeFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { initEngine } from '../src/core/engine.js';
import { fastAdam } from '../src/core/kernels/adam.js';
import { Rng } from '../src/core/rng.js';
import { loadImageBatch } from '../src/data/dataset.js';
import { contactSheet, encodePngRgb } from '../src/data/png.js';
import { openDataset } from '../src/data/open.js';
import { chainGrad, chainPlan, noisyLatent } from '../src/diffusion/chain.js';
import { loadDiffusion } from '../src/diffusion/model.js';
import { ddimSample } from '../src/diffusion/sample.js';
import { DEFAULT_DIFFUSION_TRAIN_CONFIG, diffusionItemSplit } from '../src/diffusion/train.js';
import { toChainModel } from '../src/attacks/auv-fusion/diffusion-adapter.js';
import { psnr, ssim } from '../src/evaluation/image-metrics.js';

const arg = (name: string, dflt?: string): string | undefined => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : dflt;
};
await initEngine();
const model = await loadDiffusion(arg('ckpt'));
const ds = await openDataset(arg('data', 'synth:default:1')!);
if (ds.images.size !== model.imageSize) throw new Error(`--data has ${ds.images.size}px images; the checkpoint is ${model.imageSize}px (use a dataset of that size, e.g. synth:default:1)`);
const seed = Number(model.training.seed ?? 1);
const { holdout } = diffusionItemSplit(ds.itemIds.length, { ...DEFAULT_DIFFUSION_TRAIN_CONFIG, seed });
const rng = new Rng(seed).fork('diffusion-report');
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const time = async (runs: number, fn: () => Promise<void> | void): Promise<number> => {
  await fn();
  const ts: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    await fn();
    ts.push(performance.now() - t);
  }
  return median(ts);
};

// 1. VAE reconstruction on held-out items
const x = await loadImageBatch(ds.images, holdout);
const rec = tf.tidy(() => tf.clipByValue(model.decode(model.encode(x)), 0, 1) as tf.Tensor4D);
const recSsim = tf.tidy(() => tf.mean(ssim(x, rec)).dataSync()[0]!);
const xd = x.dataSync();
const rd = rec.dataSync();
const per = model.imageSize * model.imageSize * 3;
const psnrs = holdout.map((_, k) => psnr(xd.subarray(k * per, (k + 1) * per), rd.subarray(k * per, (k + 1) * per)));
const recPsnr = psnrs.reduce((a, b) => a + b, 0) / psnrs.length;

// 2. DDIM round trip: noise to the middle of 50 steps, denoise back (eta 0)
const n = 50;
const ts = model.scheduler.setTimesteps(n);
const mid = n / 2;
const z0 = model.encode(x);
const noise = tf.tensor4d(rng.fork('roundtrip').normalArray(z0.size), z0.shape);
const zt = model.scheduler.addNoise(z0, noise, ts[mid]!) as tf.Tensor4D;
const back = ddimSample(model, zt, { numSteps: n, startIndex: mid });
const rt = tf.tidy(() => tf.clipByValue(model.decode(back), 0, 1) as tf.Tensor4D);
const rtSsim = tf.tidy(() => tf.mean(ssim(x, rt)).dataSync()[0]!);

// 3. samples from pure noise
const zN = tf.tensor4d(rng.fork('samples').normalArray(8 * model.latentShape.reduce((a, b) => a * b, 1)), [8, ...model.latentShape]);
const samples = tf.tidy(() => tf.clipByValue(model.decode(ddimSample(model, zN, { numSteps: n })), 0, 1) as tf.Tensor4D);

// 4. PNG grid: rows = originals, reconstructions, round trips, samples (first 8 each)
const take = (t: tf.Tensor4D): Float32Array[] => {
  const d = t.dataSync() as Float32Array;
  return Array.from({ length: Math.min(8, t.shape[0]) }, (_, k) => d.slice(k * per, (k + 1) * per));
};
const gridFile = arg('grid', 'assets/diffusion/default/preview.png')!;
const sheet = contactSheet([take(x), take(rec), take(rt), take(samples)], model.imageSize);
writeFileSync(gridFile, encodePngRgb(sheet.pixels, sheet.width, sheet.height));

// 5. memory and time of backprop through 25 DDIM steps, batch 8
const cm = toChainModel(model);
const plan = chainPlan(cm, n, mid);
const x8 = tf.slice(x, [0, 0, 0, 0], [8, -1, -1, -1]) as tf.Tensor4D;
const z8 = tf.tidy(() => noisyLatent(model.encode(x8), tf.tensor4d(rng.fork('grad').normalArray(8 * model.latentShape.reduce((a, b) => a * b, 1)), [8, ...model.latentShape]), plan.alphaBar));
let peakBytes = 0;
let peakRss = 0;
const memBefore = tf.memory().numBytes;
const gradMs = await time(2, async () => {
  const r = await chainGrad(cm, plan, z8, model.imageSize, (img) => {
    peakBytes = Math.max(peakBytes, tf.memory().numBytes);
    return [tf.mean(tf.square(tf.sub(img, x8))) as tf.Scalar];
  });
  peakBytes = Math.max(peakBytes, tf.memory().numBytes);
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
  tf.dispose([r.image, r.gradZt]);
});
const sampleMs = await time(2, () => {
  ddimSample(model, zN, { numSteps: n }).dispose();
});
const opt = fastAdam(1e-3);
const zb = tf.tensor4d(rng.fork('bench').normalArray(32 * model.latentShape.reduce((a, b) => a * b, 1)), [32, ...model.latentShape]);
const trainMs = await time(3, async () => {
  const l = opt.minimize(() => tf.mean(tf.square(tf.sub(model.predictNoise(zb, 500), zb))) as tf.Scalar, true, model.unet.params.list())!;
  await l.data();
  l.dispose();
});
const report = {
  checkpoint: arg('ckpt') ?? 'assets/diffusion/default',
  parameters: model.parameterCount(),
  latentShape: model.latentShape,
  training: model.training,
  heldOutItems: holdout.length,
  vaeReconstruction: { ssim: recSsim, psnr: recPsnr },
  ddimRoundTrip: { numSteps: n, injectIndex: mid, timestep: ts[mid], ssim: rtSsim },
  backprop25Steps: { batch: 8, steps: plan.steps.length, medianMs: gradMs, peakTensorMB: peakBytes / 2 ** 20, tensorMBBefore: memBefore / 2 ** 20, peakRssMB: peakRss / 2 ** 20 },
  sampling50StepsBatch8MedianMs: sampleMs,
  unetTrainStepBatch32MedianMs: trainMs,
  grid: gridFile,
};
console.log(JSON.stringify(report, null, 2));
const jsonOut = arg('json');
if (jsonOut) writeFileSync(jsonOut, JSON.stringify(report, null, 2) + '\n');

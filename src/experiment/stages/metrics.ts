/** Stage 'metrics': image metrics of one attack's images against the clean ones (SSIM, PSNR, L_inf, L2, semantic) and detectability. */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { writeJsonAtomic } from '../../core/fsutil.js';
import { cosineRows } from '../../core/similarity.js';
import { Rng } from '../../core/rng.js';
import type { ImageEncoder } from '../../encoders/encoder.js';
import { featuresOfImages } from '../../encoders/features.js';
import { evaluateDetector } from '../../evaluation/detector.js';
import { imagePairMetrics, type ImagePairMetrics } from '../../evaluation/image-metrics.js';
import { METRIC_INFO, type Metric, type MetricInfo } from '../results.js';
import { cleanImages, encoderHashes, encodersOf, timed, type ExperimentContext } from './context.js';

/** A per-image metric of an adversarial image against its clean one: a metric (../results.ts METRIC_INFO) and how it is computed. */
export interface PairMetric extends MetricInfo {
  readonly k: null;
  compute(m: ImagePairMetrics): number;
}

const pairMetric = (name: Metric, compute: (m: ImagePairMetrics) => number): PairMetric => ({ ...METRIC_INFO[name], k: null, compute });
/** The image metrics of every attack, in row order (an infinite PSNR, identical images, is left out as NaN). */
export const PAIR_METRICS: readonly PairMetric[] = [
  pairMetric('SSIM', (m) => m.ssim),
  pairMetric('PSNR', (m) => (Number.isFinite(m.psnr) ? m.psnr : NaN)),
  pairMetric('Linf', (m) => m.linf),
  pairMetric('L2', (m) => m.l2),
];

/** Per-target values of each image metric, in row order. */
export type ImageMetricValues = [Metric, number[]][];

/** Cosine similarity (core/similarity's cosineRows) of each target's clean and adversarial image under the semantic encoder C. */
async function semanticSim(C: ImageEncoder, clean: ReadonlyMap<number, Float32Array>, adv: ReadonlyMap<number, Float32Array>, size: number): Promise<number[]> {
  const items = [...adv.keys()];
  const a = await featuresOfImages(C, clean, size);
  const b = await featuresOfImages(C, adv, size);
  const rows = (m: Map<number, Float32Array>) => tf.tensor2d(items.map((i) => Array.from(m.get(i)!)));
  const [ta, tb] = [rows(a), rows(b)];
  const sim = cosineRows(ta, tb);
  const out = Array.from(await sim.data());
  tf.dispose([ta, tb, sim]);
  return out;
}

async function computeImageMetrics(ctx: ExperimentContext, seed: number, name: string, adv: ReadonlyMap<number, Float32Array>): Promise<ImageMetricValues> {
  const size = ctx.ds.images.size;
  const clean = await cleanImages(ctx);
  const { encoders } = await encodersOf(ctx);
  const pairs = ctx.targets.map((t) => imagePairMetrics(clean.get(t)!, adv.get(t)!, size));
  const out: ImageMetricValues = PAIR_METRICS.map((m) => [m.name, pairs.map(m.compute)]);
  out.push(['semantic', await semanticSim(encoders.semantic, clean, adv, size)]);
  if (ctx.cfg.detector && ctx.targets.length >= 8) {
    const det = await timed(ctx, 'detector', () => evaluateDetector({ encoder: encoders.victim, clean, adversarial: adv, size, rng: new Rng(seed).fork(`detector:${name}`) }));
    out.push(['detectAUC', [det.auc]]);
  }
  return out;
}

/** Image metrics (cached) of attack `name`'s images `adv` (from the artefact(s) `imagesHash`, read only when the metrics are not cached) for `seed`. */
export async function metricsStage(ctx: ExperimentContext, seed: number, name: string, adv: () => Promise<ReadonlyMap<number, Float32Array>>, imagesHash: string | string[]): Promise<ImageMetricValues> {
  const encHash = encoderHashes(ctx);
  const deps = { attack: name, images: imagesHash, seed, targets: ctx.targets, semantic: encHash.semantic, detector: ctx.cfg.detector ? encHash.victim : null };
  const res = await ctx.cache.get(
    'image-metrics',
    deps,
    async (dir) => {
      const values = await computeImageMetrics(ctx, seed, name, await adv());
      // NaN (an infinite PSNR) is written as null and read back as NaN
      await writeJsonAtomic(path.join(dir, 'metrics.json'), values);
    },
    async (dir) => {
      const raw = JSON.parse(await fs.readFile(path.join(dir, 'metrics.json'), 'utf8')) as [Metric, (number | null)[]][];
      return raw.map(([k, v]) => [k, v.map((x) => x ?? NaN)] as [Metric, number[]]);
    },
  );
  return res.value;
}

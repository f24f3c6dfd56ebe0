/**
 * Detectability (spec section 9): a logistic-regression detector on encoder features that
 * separates clean from adversarial images, trained and tested on disjoint items, scored by ROC AUC.
 */
import * as tf from '@tensorflow/tfjs';
import type { Rng } from '../core/rng.js';
import type { ImageEncoder } from '../encoders/encoder.js';
import { featuresOfImages } from '../encoders/features.js';

/**
 * Area under the ROC curve of `scores` for binary `labels` (1 = positive): the Mann-Whitney
 * statistic, ties counted one half. NaN when one class is empty.
 */
export function rocAuc(scores: ArrayLike<number>, labels: ArrayLike<number>): number {
  const n = scores.length;
  if (labels.length !== n) throw new Error(`rocAuc: ${n} scores but ${labels.length} labels`);
  const idx = Array.from({ length: n }, (_, i) => i).sort((a, b) => (scores[a] as number) - (scores[b] as number));
  let pos = 0;
  let rankSumPos = 0;
  for (let i = 0; i < n; ) {
    let j = i;
    while (j + 1 < n && scores[idx[j + 1] as number] === scores[idx[i] as number]) j++;
    const avgRank = (i + j) / 2 + 1; // 1-based average rank of the tie group
    for (let k = i; k <= j; k++) {
      if ((labels[idx[k] as number] as number) === 1) {
        pos++;
        rankSumPos += avgRank;
      }
    }
    i = j + 1;
  }
  const neg = n - pos;
  if (pos === 0 || neg === 0) return NaN;
  return (rankSumPos - (pos * (pos + 1)) / 2) / (pos * neg);
}

export interface LogisticModel {
  /** Probability of the positive class for each row of x (n x dim, row-major). */
  predict(x: Float32Array, n: number): Float64Array;
}

/** L2-regularised logistic regression on standardised features, full-batch gradient descent. */
export function trainLogisticRegression(
  x: Float32Array,
  y: ArrayLike<number>,
  dim: number,
  opts: { iterations?: number; lr?: number; l2?: number } = {},
): LogisticModel {
  const n = y.length;
  if (x.length !== n * dim) throw new Error(`trainLogisticRegression: ${x.length} values for ${n} x ${dim}`);
  const iterations = opts.iterations ?? 500;
  const lr = opts.lr ?? 0.5;
  const l2 = opts.l2 ?? 1e-3;
  const mean = new Float64Array(dim);
  const std = new Float64Array(dim);
  for (let i = 0; i < n; i++) for (let d = 0; d < dim; d++) mean[d] = (mean[d] as number) + (x[i * dim + d] as number) / n;
  for (let i = 0; i < n; i++) for (let d = 0; d < dim; d++) std[d] = (std[d] as number) + ((x[i * dim + d] as number) - (mean[d] as number)) ** 2 / n;
  for (let d = 0; d < dim; d++) std[d] = Math.sqrt(std[d] as number) + 1e-8;
  const z = new Float64Array(n * dim);
  for (let i = 0; i < n * dim; i++) z[i] = ((x[i] as number) - (mean[i % dim] as number)) / (std[i % dim] as number);
  const w = new Float64Array(dim);
  let b = 0;
  const g = new Float64Array(dim);
  for (let it = 0; it < iterations; it++) {
    g.fill(0);
    let gb = 0;
    for (let i = 0; i < n; i++) {
      let s = b;
      for (let d = 0; d < dim; d++) s += (w[d] as number) * (z[i * dim + d] as number);
      const err = 1 / (1 + Math.exp(-s)) - (y[i] as number);
      gb += err / n;
      for (let d = 0; d < dim; d++) g[d] = (g[d] as number) + (err * (z[i * dim + d] as number)) / n;
    }
    for (let d = 0; d < dim; d++) w[d] = (w[d] as number) - lr * ((g[d] as number) + l2 * (w[d] as number));
    b -= lr * gb;
  }
  return {
    predict(xs: Float32Array, m: number): Float64Array {
      const out = new Float64Array(m);
      for (let i = 0; i < m; i++) {
        let s = b;
        for (let d = 0; d < dim; d++) s += ((w[d] as number) * ((xs[i * dim + d] as number) - (mean[d] as number))) / (std[d] as number);
        out[i] = 1 / (1 + Math.exp(-s));
      }
      return out;
    },
  };
}

export interface DetectorResult {
  /** ROC AUC on the held-out items (0.5 = undetectable). */
  auc: number;
  trainAuc: number;
  trainItems: number[];
  testItems: number[];
}

/** Encoder features of `imgs` (row k = image k), batched by the one extractor (encoders/features). */
async function features(encoder: ImageEncoder, imgs: readonly Float32Array[], size: number): Promise<Float32Array> {
  const byIndex = await featuresOfImages(encoder, new Map(imgs.map((im, k) => [k, im])), size);
  const dim = encoder.description.featureDim;
  const out = new Float32Array(imgs.length * dim);
  imgs.forEach((_, k) => out.set(byIndex.get(k)!, k * dim));
  return out;
}

/**
 * Train the detector on the clean and adversarial images of a random `trainFraction` of the items
 * and report its AUC on the other items (disjoint by item, so no image pair is seen in training).
 */
export async function evaluateDetector(opts: {
  encoder: ImageEncoder;
  clean: ReadonlyMap<number, Float32Array>;
  adversarial: ReadonlyMap<number, Float32Array>;
  size: number;
  rng: Rng;
  trainFraction?: number;
}): Promise<DetectorResult> {
  const items = [...opts.adversarial.keys()].filter((i) => opts.clean.has(i)).sort((a, b) => a - b);
  if (items.length < 4) throw new Error(`detector: needs at least 4 attacked items, got ${items.length}`);
  opts.rng.fork('detector-split').shuffle(items);
  const nTrain = Math.min(items.length - 2, Math.max(2, Math.round(items.length * (opts.trainFraction ?? 0.5))));
  const trainItems = items.slice(0, nTrain);
  const testItems = items.slice(nTrain);
  const dim = opts.encoder.description.featureDim;
  const build = async (list: number[]) => {
    const imgs = [...list.map((i) => opts.clean.get(i)!), ...list.map((i) => opts.adversarial.get(i)!)];
    const y = Float64Array.from(imgs, (_, k) => (k < list.length ? 0 : 1));
    return { x: await features(opts.encoder, imgs, opts.size), y };
  };
  const tr = await build(trainItems);
  const te = await build(testItems);
  const model = trainLogisticRegression(tr.x, tr.y, dim);
  return {
    auc: rocAuc(model.predict(te.x, te.y.length), te.y),
    trainAuc: rocAuc(model.predict(tr.x, tr.y.length), tr.y),
    trainItems,
    testItems,
  };
}

/**
 * Encoder training (spec section 4): category classification (cross-entropy through a linear head
 * on the features) for F and G; SimCLR InfoNCE for the semantic encoder C, positives being two random
 * augmentations (crop+resize, horizontal flip, brightness/colour jitter) of the same item.
 */
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../core/rng.js';
import { InputError } from '../core/errors.js';
import { Progress } from '../core/progress.js';
import { loadImageBatch, type Dataset } from '../data/dataset.js';
import { DEFAULT_ENCODER_CONFIGS, ResNetEncoder, type ResNetConfig } from './resnet.js';
import type { EncoderRole } from './encoder.js';

export interface EncoderTrainOptions {
  epochs: number;
  batch: number;
  lr: number;
  /** InfoNCE temperature (contrastive only). */
  temperature: number;
  /** Items used for training (default: every non-target item). */
  items?: readonly number[];
  /** Force contrastive training even when categories exist. */
  contrastive?: boolean;
}

export const DEFAULT_ENCODER_TRAIN: EncoderTrainOptions = { epochs: 3, batch: 64, lr: 3e-3, temperature: 0.2 };

export interface EncoderTrainReport {
  role: EncoderRole;
  objective: 'classification' | 'contrastive';
  lossCurve: number[];
  /** Training-set category accuracy of the linear head (classification only). */
  accuracy: number;
  seconds: number;
}

/** Random augmentation of a [0,1] NHWC batch (no gradient needed): crop+resize, flip, jitter. */
export function augment(x: tf.Tensor4D, rng: Rng): tf.Tensor4D {
  const n = x.shape[0];
  const boxes: number[][] = [];
  for (let i = 0; i < n; i++) {
    const s = rng.uniform(0.7, 1);
    const y0 = rng.uniform(0, 1 - s);
    const x0 = rng.uniform(0, 1 - s);
    boxes.push(rng.bernoulli(0.5) ? [y0, x0 + s, y0 + s, x0] : [y0, x0, y0 + s, x0 + s]);
  }
  const jitter = rng.uniformArray(n * 3, 0.85, 1.15);
  return tf.tidy(() => {
    const crops = tf.image.cropAndResize(x, tf.tensor2d(boxes), tf.range(0, n, 1, 'int32') as tf.Tensor1D, [x.shape[1], x.shape[2]]);
    return crops.mul(tf.tensor4d(jitter, [n, 1, 1, 3])).clipByValue(0, 1) as tf.Tensor4D;
  });
}

export async function trainEncoder(ds: Dataset, role: EncoderRole, config: Partial<ResNetConfig> = {}, opts: Partial<EncoderTrainOptions> = {}): Promise<{ encoder: ResNetEncoder; report: EncoderTrainReport }> {
  const t0 = Date.now();
  const o = { ...DEFAULT_ENCODER_TRAIN, ...opts };
  const cfg = { ...DEFAULT_ENCODER_CONFIGS[role], ...config, role };
  if (!ds.images.hasPixels) throw new InputError('the dataset has no pixel images: encoders cannot be trained');
  const encoder = new ResNetEncoder(cfg);
  const rng = new Rng(cfg.seed).fork(`train-${role}`);
  const targets = new Set(ds.targets);
  const items = o.items ? [...o.items] : ds.itemIds.map((_, i) => i).filter((i) => !targets.has(i));
  const classify = !o.contrastive && role !== 'semantic' && ds.itemCategory !== null && ds.categoryNames.length > 1;
  const nc = ds.categoryNames.length;
  const headInit = tf.tensor2d(rng.fork('head').normalArray(cfg.featureDim * Math.max(1, nc), 1 / Math.sqrt(cfg.featureDim)), [cfg.featureDim, Math.max(1, nc)]);
  const head = tf.variable(headInit);
  headInit.dispose();
  const opt = tf.train.adam(o.lr);
  const vars = [...encoder.trainableVariables(), ...(classify ? [head] : [])];
  const lossCurve: number[] = [];
  let correct = 0;
  const progress = new Progress(`train encoder ${role}`, o.epochs * Math.ceil(items.length / o.batch));
  for (let e = 0; e < o.epochs; e++) {
    const order = rng.fork(`epoch${e}`).shuffle([...items]);
    const aug = rng.fork(`aug${e}`);
    let tot = 0;
    correct = 0;
    for (let s = 0; s < order.length; s += o.batch) {
      const b = order.slice(s, s + o.batch);
      if (b.length < 2) continue;
      const x = await loadImageBatch(ds.images, b);
      let loss: tf.Scalar;
      if (classify) {
        const y = tf.tensor1d(Int32Array.from(b, (i) => ds.itemCategory![i]!), 'int32');
        const xa = augment(x, aug);
        let logits: tf.Tensor | null = null;
        loss = opt.minimize(() => {
          const l = encoder.encode(xa).matMul(head);
          logits = tf.keep(l);
          return tf.losses.softmaxCrossEntropy(tf.oneHot(y, nc), l) as tf.Scalar;
        }, true, vars)!;
        const pred = tf.tidy(() => tf.equal(logits!.argMax(1), y).sum());
        correct += (await pred.data())[0]!;
        tf.dispose([y, xa, logits!, pred]);
      } else {
        // SimCLR NT-Xent: z = normalise(features) of two views; positives on the (i, i+n) pairs.
        const v1 = augment(x, aug);
        const v2 = augment(x, aug);
        const n = b.length;
        const labels = tf.tensor1d(Int32Array.from({ length: 2 * n }, (_, i) => (i < n ? i + n : i - n)), 'int32');
        const mask = tf.eye(2 * n).mul(-1e9);
        loss = opt.minimize(() => {
          const z = tf.concat([encoder.encode(v1), encoder.encode(v2)], 0);
          const zn = z.div(z.norm('euclidean', 1, true).add(1e-8));
          const sim = zn.matMul(zn.transpose()).div(o.temperature).add(mask);
          return tf.losses.softmaxCrossEntropy(tf.oneHot(labels, 2 * n), sim) as tf.Scalar;
        }, true, vars)!;
        tf.dispose([v1, v2, labels, mask]);
      }
      const lv = (await loss.data())[0]!;
      tot += lv * b.length;
      tf.dispose([x, loss]);
      progress.tick(1, `epoch ${e + 1} loss ${lv.toFixed(3)}`);
    }
    lossCurve.push(tot / items.length);
  }
  progress.finish();
  opt.dispose();
  head.dispose();
  return { encoder, report: { role, objective: classify ? 'classification' : 'contrastive', lossCurve, accuracy: classify ? correct / items.length : NaN, seconds: (Date.now() - t0) / 1000 } };
}

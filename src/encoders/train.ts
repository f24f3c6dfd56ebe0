/**
 * Encoder training (spec section 4): classification for F and G, the sum of one cross-entropy per
 * item labelling the dataset carries (the category, plus any further label sets such as colour and
 * pattern), each through its own linear head on the features; SimCLR InfoNCE for the semantic
 * encoder C (and for F/G on datasets without labels), positives being two random augmentations
 * (crop+resize, horizontal flip, brightness/colour jitter) of the same item.
 *
 * Why every label set: a category-only F learns to ignore colour and pattern, the looks that drive
 * users' choices in a fashion catalogue, and VBPR then gains nothing from it (README, "Victims").
 */
import * as tf from '@tensorflow/tfjs';
import { fastAdam } from '../core/kernels/adam.js';
import { Rng } from '../core/rng.js';
import { InputError } from '../core/errors.js';
import { Progress } from '../core/progress.js';
import { loadImageBatch, type Dataset, type ItemLabelSet } from '../data/dataset.js';
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
  /** Training-set accuracy of the first head (the category's, when the dataset has categories; classification only). */
  accuracy: number;
  /** Training-set accuracy of every head in the last epoch, by label set name (classification only). */
  headAccuracy: Record<string, number>;
  seconds: number;
}

/** The label sets a classification encoder learns: the category (if any), then `itemAttributes`. */
export function encoderLabelSets(ds: Dataset): ItemLabelSet[] {
  const sets: ItemLabelSet[] = [];
  if (ds.itemCategory !== null && ds.categoryNames.length > 1) sets.push({ name: 'category', values: ds.categoryNames, labels: ds.itemCategory });
  for (const a of ds.itemAttributes ?? []) {
    if (a.labels.length !== ds.itemIds.length) throw new InputError(`item label set '${a.name}' has ${a.labels.length} labels for ${ds.itemIds.length} items`);
    const bad = a.labels.findIndex((l) => !(l >= 0 && l < a.values.length));
    if (bad >= 0) throw new InputError(`item '${ds.itemIds[bad]}' has ${a.name} label ${a.labels[bad]}, outside the ${a.values.length} values of that label set`);
    if (a.values.length > 1) sets.push(a);
  }
  return sets;
}

/**
 * Random augmentation of a [0,1] NHWC batch (no gradient needed): crop+resize, flip, and a
 * brightness jitter, per channel ('colour', SimCLR's colour jitter) or one factor for all channels
 * ('brightness': keeps hue, so a colour label stays true).
 */
export function augment(x: tf.Tensor4D, rng: Rng, jitter: 'colour' | 'brightness' = 'colour'): tf.Tensor4D {
  const n = x.shape[0];
  const boxes: number[][] = [];
  for (let i = 0; i < n; i++) {
    const s = rng.uniform(0.7, 1);
    const y0 = rng.uniform(0, 1 - s);
    const x0 = rng.uniform(0, 1 - s);
    boxes.push(rng.bernoulli(0.5) ? [y0, x0 + s, y0 + s, x0] : [y0, x0, y0 + s, x0 + s]);
  }
  const factors = rng.uniformArray(jitter === 'colour' ? n * 3 : n, 0.85, 1.15);
  return tf.tidy(() => {
    const crops = tf.image.cropAndResize(x, tf.tensor2d(boxes), tf.range(0, n, 1, 'int32') as tf.Tensor1D, [x.shape[1], x.shape[2]]);
    return crops.mul(tf.tensor4d(factors, [n, 1, 1, jitter === 'colour' ? 3 : 1])).clipByValue(0, 1) as tf.Tensor4D;
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
  const labelSets = o.contrastive || role === 'semantic' ? [] : encoderLabelSets(ds);
  const classify = labelSets.length > 0;
  const heads = labelSets.map((set) => {
    const init = tf.tensor2d(rng.fork(`head-${set.name}`).normalArray(cfg.featureDim * set.values.length, 1 / Math.sqrt(cfg.featureDim)), [cfg.featureDim, set.values.length]);
    const head = tf.variable(init);
    init.dispose();
    return head;
  });
  // tf.train.adam's arithmetic in one fused pass per variable (src/core/kernels/adam.ts)
  const opt = fastAdam(o.lr);
  const vars = [...encoder.trainableVariables(), ...heads];
  const lossCurve: number[] = [];
  let correct = new Float64Array(labelSets.length);
  const progress = new Progress(`train encoder ${role}`, o.epochs * Math.ceil(items.length / o.batch));
  for (let e = 0; e < o.epochs; e++) {
    const order = rng.fork(`epoch${e}`).shuffle([...items]);
    const aug = rng.fork(`aug${e}`);
    let tot = 0;
    correct = new Float64Array(labelSets.length);
    for (let s = 0; s < order.length; s += o.batch) {
      const b = order.slice(s, s + o.batch);
      if (b.length < 2) continue;
      const x = await loadImageBatch(ds.images, b);
      let loss: tf.Scalar;
      if (classify) {
        const ys = labelSets.map((set) => tf.tensor1d(Int32Array.from(b, (i) => set.labels[i]!), 'int32'));
        const xa = augment(x, aug, 'brightness');
        const logits: tf.Tensor[] = [];
        // L = sum over label sets of CE(head_k(F(x)), y_k)
        loss = opt.minimize(() => {
          const f = encoder.encode(xa);
          let l = tf.scalar(0);
          labelSets.forEach((set, k) => {
            const z = f.matMul(heads[k]!);
            logits.push(tf.keep(z));
            l = l.add(tf.losses.softmaxCrossEntropy(tf.oneHot(ys[k]!, set.values.length), z));
          });
          return l as tf.Scalar;
        }, true, vars)!;
        const hits = tf.tidy(() => tf.stack(logits.map((z, k) => tf.equal(z.argMax(1), ys[k]!).sum())));
        (await hits.data()).forEach((h, k) => (correct[k]! += h));
        tf.dispose([...ys, xa, ...logits, hits]);
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
  tf.dispose(heads);
  const headAccuracy = Object.fromEntries(labelSets.map((set, k) => [set.name, correct[k]! / items.length]));
  const accuracy = classify ? correct[0]! / items.length : NaN;
  return { encoder, report: { role, objective: classify ? 'classification' : 'contrastive', lossCurve, accuracy, headAccuracy, seconds: (Date.now() - t0) / 1000 } };
}

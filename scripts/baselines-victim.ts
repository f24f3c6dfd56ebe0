/**
 * Victim for scripts/baselines-report.ts: a small CNN encoder F trained by category
 * classification and a VBPR recommender (spec section 3) trained with BPR, plus the full-ranking
 * target protocol (spec section 9).
 *
 * This is a report-local implementation written because src/encoders and src/recommenders had not
 * landed when the report had to run; when they exist, the report should use them instead
 * (createRecommender('vbpr', ...), the trained encoder, src/evaluation/full-ranking.ts).
 */
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../src/core/rng.js';
import { loadImageBatch, type Dataset } from '../src/data/dataset.js';
import type { ImageEncoder } from '../src/encoders/encoder.js';
import type { FitReport, Recommender, TrainingData } from '../src/recommenders/recommender.js';

const v = (rng: Rng, shape: number[], std: number) => tf.variable(tf.tensor(rng.normalArray(shape.reduce((a, b) => a * b, 1), std), shape));

/** CNN: avgpool to 32px, three stride-2 3x3 convs (16, 32, 64) with ReLU, global mean pool -> 64-d. */
class SmallCnn implements ImageEncoder {
  readonly description;
  private readonly w: tf.Variable[];
  constructor(rng: Rng, readonly size: number) {
    this.description = { kind: 'small-cnn', inputSize: size, featureDim: 64, pixelRange: [0, 1] as [0, 1], normalization: { mean: [0.5, 0.5, 0.5] as [number, number, number], std: [0.25, 0.25, 0.25] as [number, number, number] } };
    this.w = [v(rng, [3, 3, 3, 16], Math.sqrt(2 / 27)), v(rng, [3, 3, 16, 32], Math.sqrt(2 / 144)), v(rng, [3, 3, 32, 64], Math.sqrt(2 / 288))];
  }
  encode(images: tf.Tensor4D): tf.Tensor2D {
    return tf.tidy(() => {
      let x: tf.Tensor4D = images.sub(0.5).div(0.25);
      if (images.shape[1] > 32) x = tf.avgPool(x, images.shape[1] / 32, images.shape[1] / 32, 'valid');
      for (const w of this.w) x = tf.relu(tf.conv2d(x, w as tf.Tensor4D, 2, 'same'));
      return x.mean([1, 2]) as tf.Tensor2D;
    });
  }
  trainableVariables(): tf.Variable[] {
    return this.w;
  }
  dispose(): void {
    tf.dispose(this.w);
  }
}

async function trainEncoder(ds: Dataset, rng: Rng, epochs: number): Promise<SmallCnn> {
  const enc = new SmallCnn(rng.fork('cnn'), ds.images.size);
  const nc = ds.categoryNames.length;
  const head = v(rng.fork('head'), [64, nc], 0.1);
  const opt = tf.train.adam(3e-3);
  const items = ds.itemIds.map((_, i) => i).filter((i) => !ds.targets.includes(i));
  for (let e = 0; e < epochs; e++) {
    const order = rng.fork(`epoch${e}`).shuffle([...items]);
    let tot = 0;
    for (let s = 0; s < order.length; s += 64) {
      const b = order.slice(s, s + 64);
      const x = await loadImageBatch(ds.images, b);
      const y = tf.oneHot(tf.tensor1d(Int32Array.from(b, (i) => ds.itemCategory![i]!), 'int32'), nc);
      const l = opt.minimize(() => tf.losses.softmaxCrossEntropy(y, enc.encode(x).matMul(head)) as tf.Scalar, true, [...enc.trainableVariables(), head]);
      tot += l!.dataSync()[0]! * b.length;
      tf.dispose([x, y, l!]);
    }
    console.log(`  encoder epoch ${e + 1}: category cross-entropy ${(tot / items.length).toFixed(3)}`);
  }
  head.dispose();
  opt.dispose();
  return enc;
}

/** VBPR s(u,i) = b_i + g_u.g_i + t_u.(E f_i) + b'.f_i (a and b_u do not change rankings). */
class Vbpr implements Recommender {
  readonly kind = 'vbpr' as const;
  readonly visual = true;
  bi!: tf.Variable;
  gu!: tf.Variable;
  gi!: tf.Variable;
  tu!: tf.Variable;
  E!: tf.Variable;
  bp!: tf.Variable;
  feats!: tf.Tensor2D;
  seen: Set<number>[] = [];
  constructor(private readonly rng: Rng, private readonly k = 32, private readonly epochs = 30) {}
  async fit(d: TrainingData): Promise<FitReport> {
    const t0 = Date.now();
    const f = d.itemFeatures!;
    const dim = f.shape[1];
    const r = this.rng;
    this.feats = tf.keep(f.clone());
    this.bi = tf.variable(tf.zeros([d.numItems]));
    this.gu = v(r, [d.numUsers, this.k], 0.01);
    this.gi = v(r, [d.numItems, this.k], 0.01);
    this.tu = v(r, [d.numUsers, this.k], 0.01);
    this.E = v(r, [dim, this.k], 0.01);
    this.bp = tf.variable(tf.zeros([dim]));
    this.seen = d.train.map((l) => new Set(l));
    const pairs: [number, number][] = [];
    d.train.forEach((l, u) => l.forEach((i) => pairs.push([u, i])));
    const negPool = Array.from({ length: d.numItems }, (_, i) => i).filter((i) => !d.excludedNegatives.has(i));
    const opt = tf.train.adam(0.01);
    const vars = [this.bi, this.gu, this.gi, this.tu, this.E, this.bp];
    const curve: number[] = [];
    for (let e = 0; e < this.epochs; e++) {
      r.shuffle(pairs);
      let tot = 0;
      for (let s = 0; s < pairs.length; s += 1024) {
        const b = pairs.slice(s, s + 1024);
        const neg = b.map(([u]) => {
          let j = r.pick(negPool);
          while (this.seen[u]!.has(j)) j = r.pick(negPool);
          return j;
        });
        const ut = tf.tensor1d(Int32Array.from(b, (p) => p[0]), 'int32');
        const pt = tf.tensor1d(Int32Array.from(b, (p) => p[1]), 'int32');
        const nt = tf.tensor1d(Int32Array.from(neg), 'int32');
        const l = opt.minimize(() => {
          const x = this.pairScore(ut, pt).sub(this.pairScore(ut, nt));
          const reg = tf.gather(this.gu, ut).square().sum().add(tf.gather(this.tu, ut).square().sum()).mul(1e-4 / b.length);
          return tf.softplus(x.neg()).mean().add(reg) as tf.Scalar;
        }, true, vars);
        tot += l!.dataSync()[0]! * b.length;
        tf.dispose([ut, pt, nt, l!]);
      }
      curve.push(tot / pairs.length);
    }
    opt.dispose();
    return { epochs: this.epochs, lossCurve: curve, validationCurve: [], bestEpoch: this.epochs - 1, seconds: (Date.now() - t0) / 1000 };
  }
  private pairScore(u: tf.Tensor1D, i: tf.Tensor1D): tf.Tensor1D {
    const f = tf.gather(this.feats, i);
    return tf.gather(this.bi, i)
      .add(tf.gather(this.gu, u).mul(tf.gather(this.gi, i)).sum(1))
      .add(tf.gather(this.tu, u).mul(f.matMul(this.E)).sum(1))
      .add(f.matMul(this.bp.reshape([-1, 1])).reshape([-1])) as tf.Tensor1D;
  }
  scoreWithFeatures(users: Int32Array, items: Int32Array, features: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => {
      const ut = tf.tensor1d(users, 'int32');
      const it = tf.tensor1d(items, 'int32');
      const uv = tf.concat([tf.gather(this.gu, ut), tf.gather(this.tu, ut)], 1);
      const iv = tf.concat([tf.gather(this.gi, it), features.matMul(this.E)], 1).transpose();
      const bias = tf.gather(this.bi, it).add(features.matMul(this.bp.reshape([-1, 1])).reshape([-1]));
      return uv.matMul(iv).add(bias.reshape([1, -1])) as tf.Tensor2D;
    });
  }
  score(users: Int32Array, items: Int32Array): tf.Tensor2D {
    return tf.tidy(() => this.scoreWithFeatures(users, items, tf.gather(this.feats, tf.tensor1d(items, 'int32'))));
  }
  setItemFeatures(features: tf.Tensor2D): void {
    this.feats.dispose();
    this.feats = tf.keep(features.clone());
  }
  async rank(user: number, k: number, excludeSeen: boolean): Promise<number[]> {
    const n = this.bi.shape[0]!;
    const s = this.score(Int32Array.of(user), Int32Array.from({ length: n }, (_, i) => i));
    const row = await s.data();
    s.dispose();
    return Array.from({ length: n }, (_, i) => i)
      .filter((i) => !excludeSeen || !this.seen[user]!.has(i))
      .sort((a, b) => row[b]! - row[a]!)
      .slice(0, k);
  }
  async save(): Promise<void> {
    throw new Error('the report-local VBPR is not saved');
  }
  dispose(): void {
    tf.dispose([this.bi, this.gu, this.gi, this.tu, this.E, this.bp, this.feats]);
  }
}

export interface Victim {
  encoder: ImageEncoder;
  model: Recommender;
  /** Per user: clean scores of all items (train items set to -Infinity), sorted descending. */
  sortedRows: Float32Array[];
  cleanRows: Float32Array[];
  users: number[];
}

export async function buildVictim(ds: Dataset, seed: number): Promise<Victim> {
  const rng = new Rng(seed).fork('baselines-victim');
  const t0 = Date.now();
  const encoder = await trainEncoder(ds, rng.fork('encoder'), 3);
  console.log(`  encoder trained in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  const all = ds.itemIds.map((_, i) => i);
  const parts: tf.Tensor2D[] = [];
  for (let s = 0; s < all.length; s += 128) {
    const x = await loadImageBatch(ds.images, all.slice(s, s + 128));
    parts.push(encoder.encode(x));
    x.dispose();
  }
  const feats = tf.concat(parts, 0);
  tf.dispose(parts);
  const model = new Vbpr(rng.fork('vbpr'));
  const rep = await model.fit({
    numUsers: ds.userIds.length,
    numItems: ds.itemIds.length,
    train: ds.split.train,
    validation: ds.split.validation,
    excludedNegatives: new Set(ds.targets),
    itemFeatures: feats,
  });
  feats.dispose();
  console.log(`  VBPR trained in ${rep.seconds.toFixed(1)} s, BPR loss ${rep.lossCurve[0]!.toFixed(3)} -> ${rep.lossCurve.at(-1)!.toFixed(3)}`);
  const users = ds.userIds.map((_, u) => u).filter((u) => ds.split.train[u]!.length > 0);
  const sortedRows: Float32Array[] = [];
  const cleanRows: Float32Array[] = [];
  for (let s = 0; s < users.length; s += 256) {
    const b = users.slice(s, s + 256);
    const m = model.score(Int32Array.from(b), Int32Array.from(all));
    const d = (await m.data()) as Float32Array;
    m.dispose();
    b.forEach((u, k) => {
      const row = d.slice(k * all.length, (k + 1) * all.length);
      for (const i of ds.split.train[u]!) row[i] = -Infinity;
      cleanRows.push(row);
      sortedRows.push(Float32Array.from(row).sort().reverse());
    });
  }
  return { encoder, model, sortedRows, cleanRows, users };
}

/** Number of entries of a descending array strictly greater than x. */
function countGreater(desc: Float32Array, x: number): number {
  let lo = 0;
  let hi = desc.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (desc[mid]! > x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Full-ranking protocol (spec 9): rank of target i for user u among all items not in u's training
 * set, i's features replaced by `adv` (others clean); HR@k = mean [rank < k], NDCG@k = mean
 * 1/log2(rank + 2) when rank < k, over (user, target).
 */
export async function evaluateTargetsHr(victim: Victim, _ds: Dataset, targets: readonly number[], adv: Map<number, Float32Array> | null) {
  const ks = [5, 10, 20];
  const hr: Record<number, number> = { 5: 0, 10: 0, 20: 0 };
  const ndcg: Record<number, number> = { 5: 0, 10: 0, 20: 0 };
  const users = Int32Array.from(victim.users);
  for (const t of targets) {
    let col: Float32Array;
    if (adv) {
      const s = tf.tidy(() => victim.model.scoreWithFeatures(users, Int32Array.of(t), tf.tensor2d(adv.get(t)!, [1, adv.get(t)!.length])));
      col = (await s.data()) as Float32Array;
      s.dispose();
    } else col = Float32Array.from(victim.cleanRows, (r) => r[t]!);
    victim.users.forEach((_, k) => {
      const x = col[k]!;
      const own = victim.cleanRows[k]![t]!;
      const rank = countGreater(victim.sortedRows[k]!, x) - (own > x ? 1 : 0);
      for (const kk of ks) if (rank < kk) {
        hr[kk]! += 1;
        ndcg[kk]! += 1 / Math.log2(rank + 2);
      }
    });
  }
  const n = targets.length * victim.users.length;
  for (const kk of ks) {
    hr[kk] = hr[kk]! / n;
    ndcg[kk] = ndcg[kk]! / n;
  }
  return { hr, ndcg };
}

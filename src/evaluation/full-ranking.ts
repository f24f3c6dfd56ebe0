/**
 * Full-ranking target protocol (spec section 9): for each target item i and evaluation user u,
 * rank of i among all items not in u's training set, with i's features replaced by its adversarial
 * version (one target at a time, others clean). HR@k = mean [rank < k], NDCG@k = mean
 * 1/log2(rank+2) when rank < k.
 *
 * Streaming: clean scores are computed in user blocks (users x all items: the only allocation that
 * grows with the catalogue, block x items floats); only the target's
 * column changes, so rank = count of non-train items with a higher clean score than the target's
 * (adversarial) score. Memory is one block, so large catalogues fit. Each user's candidate scores
 * go once into an AboveCounter (a bucket counting sort, ./ranking-metrics.ts), so every target's
 * rank is a bucket sum plus a look inside one bucket (the target's own clean score is among the
 * candidates and is taken back out), and all adversarial target columns of a block come from one
 * scoring call.
 */
import * as tf from '@tensorflow/tfjs';
import type { Recommender } from '../recommenders/recommender.js';
import { InputError } from '../core/errors.js';
import { AboveCounter, RankAccumulator } from './ranking-metrics.js';

export interface TargetEvaluation {
  ks: number[];
  hr: Record<number, number>;
  ndcg: Record<number, number>;
  /** Per target: HR@k / NDCG@k over the evaluation users (for confidence intervals). */
  perTarget: { item: number; hr: Record<number, number>; ndcg: Record<number, number>; meanRank: number }[];
}

/** What the protocol needs from a model: any scorer with a feature entry point (a victim, or an attacker's surrogate). */
export type RankableModel = Pick<Recommender, 'visual' | 'score' | 'scoreWithFeatures'>;

export interface EvaluateTargetsOptions {
  /** train[u]: user u's training items (excluded from the candidates); arrays or compact views (ItemLists.views()). */
  train: readonly ArrayLike<number>[];
  ks?: number[];
  /** Users per score block. */
  block?: number;
  /** Number of items (read from the model when it exposes `numItems`). */
  numItems?: number;
}

export async function evaluateTargets(
  model: RankableModel,
  targets: readonly number[],
  adversarialFeatures: Map<number, Float32Array> | null,
  users: readonly number[],
  opts: EvaluateTargetsOptions,
): Promise<TargetEvaluation> {
  const ks = opts.ks ?? [5, 10, 20];
  const block = opts.block ?? 256;
  const nItems = numItemsOf(model, opts);
  const all = Int32Array.from({ length: nItems }, (_, i) => i);
  const acc = targets.map(() => new RankAccumulator(ks));
  const rankSum = targets.map(() => 0);
  for (const t of targets) {
    if (adversarialFeatures && model.visual && !adversarialFeatures.has(t)) throw new InputError(`no adversarial features for target item ${t}`);
  }
  // seen[i] = 1 for the current user's training items (set and cleared per user: O(own items)).
  const seen = new Uint8Array(nItems);
  const counter = new AboveCounter(nItems);
  for (let s = 0; s < users.length; s += block) {
    const b = Int32Array.from(users.slice(s, s + block));
    const m = model.score(b, all);
    const clean = (await m.data()) as Float32Array;
    m.dispose();
    // Adversarial target columns (users x targets), each target scored with its own features.
    let adv: Float32Array | null = null;
    if (adversarialFeatures && model.visual && targets.length > 0) {
      const dim = adversarialFeatures.get(targets[0]!)!.length;
      const flat = new Float32Array(targets.length * dim);
      targets.forEach((t, j) => flat.set(adversarialFeatures.get(t)!, j * dim));
      const x = tf.tidy(() => model.scoreWithFeatures(b, Int32Array.from(targets), tf.tensor2d(flat, [targets.length, dim])));
      adv = (await x.data()) as Float32Array;
      x.dispose();
    }
    for (let r = 0; r < b.length; r++) {
      const row = clean.subarray(r * nItems, (r + 1) * nItems);
      const own = opts.train[b[r]!] ?? [];
      for (let k = 0; k < own.length; k++) seen[own[k]!] = 1;
      counter.reset(row, seen);
      for (let j = 0; j < targets.length; j++) {
        const t = targets[j]!;
        const x = adv ? adv[r * targets.length + j]! : row[t]!;
        // candidates scoring strictly above x, minus the target's own clean score if it is one
        let rank = counter.countAbove(x);
        if (!seen[t] && row[t]! > x) rank--;
        acc[j]!.add(rank);
        rankSum[j]! += rank;
      }
      for (let k = 0; k < own.length; k++) seen[own[k]!] = 0;
    }
  }
  const perTarget = targets.map((item, j) => ({ item, hr: acc[j]!.hr(), ndcg: acc[j]!.ndcg(), meanRank: rankSum[j]! / Math.max(1, users.length) }));
  const mean = (get: (p: (typeof perTarget)[number]) => Record<number, number>) =>
    Object.fromEntries(ks.map((k) => [k, perTarget.length ? perTarget.reduce((a, p) => a + get(p)[k]!, 0) / perTarget.length : 0]));
  return { ks, hr: mean((p) => p.hr), ndcg: mean((p) => p.ndcg), perTarget };
}

function numItemsOf(model: RankableModel, opts: EvaluateTargetsOptions): number {
  const n = (model as unknown as { numItems?: number }).numItems ?? opts.numItems;
  if (!n) throw new InputError('evaluateTargets: cannot tell the number of items of the model');
  return n;
}

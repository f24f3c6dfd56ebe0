/**
 * Recommendation accuracy on the leave-one-out test split (spec section 9).
 *  - HR@10 / NDCG@10: rank of u's test item among all items not in u's training set.
 *  - AUC: fraction of those other candidate items scored below the test item (ties 1/2), averaged
 *    over users.
 *  - Cold-item AUC: cold (target) items have no interactions at all, so "true buyers" only exist
 *    through ground truth. Given `affinity(u, i)` (the synthetic generator's taste x attribute
 *    probability), for each cold item i the positives are the top `coldQuantile` fraction of users
 *    by affinity and the negatives the bottom half; AUC = P(s(u+, i) > s(u-, i)), averaged over
 *    cold items. A model that ignores images scores cold items by a user-only term, giving ~0.5.
 */
import type { Recommender } from '../recommenders/recommender.js';
import { RankAccumulator, aucOf } from './ranking-metrics.js';

export interface AccuracyReport {
  users: number;
  hr10: number;
  ndcg10: number;
  auc: number;
  /** NaN when no cold items / no affinity. */
  coldAuc: number;
}

export interface AccuracyOptions {
  train: readonly (readonly number[])[];
  test: Int32Array;
  numItems: number;
  coldItems?: readonly number[];
  affinity?: (user: number, item: number) => number;
  coldQuantile?: number;
  block?: number;
}

export async function evaluateAccuracy(model: Recommender, opts: AccuracyOptions): Promise<AccuracyReport> {
  const n = opts.numItems;
  const all = Int32Array.from({ length: n }, (_, i) => i);
  const users: number[] = [];
  opts.test.forEach((t, u) => {
    if (t >= 0 && (opts.train[u]?.length ?? 0) > 0) users.push(u);
  });
  const acc = new RankAccumulator([10]);
  let aucSum = 0;
  const block = opts.block ?? 256;
  for (let s = 0; s < users.length; s += block) {
    const b = users.slice(s, s + block);
    const m = model.score(Int32Array.from(b), all);
    const d = (await m.data()) as Float32Array;
    m.dispose();
    b.forEach((u, r) => {
      const row = d.subarray(r * n, (r + 1) * n);
      const t = opts.test[u]!;
      const seen = new Set(opts.train[u]!);
      const x = row[t]!;
      const neg: number[] = [];
      for (let i = 0; i < n; i++) if (i !== t && !seen.has(i)) neg.push(row[i]!);
      let rank = 0;
      for (const y of neg) if (y > x) rank++;
      acc.add(rank);
      aucSum += aucOf(x, neg);
    });
  }
  let coldAuc = NaN;
  if (opts.coldItems && opts.coldItems.length > 0 && opts.affinity) {
    const allUsers = Int32Array.from(opts.train.map((_, u) => u));
    const m = model.score(allUsers, Int32Array.from(opts.coldItems));
    const d = (await m.data()) as Float32Array;
    m.dispose();
    const q = opts.coldQuantile ?? 0.1;
    let tot = 0;
    opts.coldItems.forEach((i, j) => {
      const order = Array.from(allUsers).sort((a, b) => opts.affinity!(b, i) - opts.affinity!(a, i));
      const pos = order.slice(0, Math.max(1, Math.floor(q * order.length)));
      const neg = order.slice(Math.floor(order.length / 2));
      const negScores = neg.map((u) => d[u * opts.coldItems!.length + j]!);
      tot += pos.reduce((a, u) => a + aucOf(d[u * opts.coldItems!.length + j]!, negScores), 0) / pos.length;
    });
    coldAuc = tot / opts.coldItems.length;
  }
  return { users: users.length, hr10: acc.hr()[10]!, ndcg10: acc.ndcg()[10]!, auc: users.length ? aucSum / users.length : NaN, coldAuc };
}

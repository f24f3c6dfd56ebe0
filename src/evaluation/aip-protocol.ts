/**
 * AIP two-stage protocol (spec section 9): for user u, candidates = BPR-MF top-`numCandidates`
 * (excluding u's training items) plus u's test item; the target item is appended (with its
 * adversarial features when given); the victim re-ranks the candidates and HR@k of the target is
 * [rank < k], rank = number of candidates the victim scores strictly above the target.
 */
import * as tf from '@tensorflow/tfjs';
import type { Recommender } from '../recommenders/recommender.js';
import { RankAccumulator } from './ranking-metrics.js';

export interface AipOptions {
  test: Int32Array;
  ks?: number[];
  numCandidates?: number;
}

export interface AipResult {
  hr: Record<number, number>;
  perTarget: { item: number; hr: Record<number, number> }[];
}

export async function evaluateAip(
  victim: Recommender,
  bprmf: Recommender,
  targets: readonly number[],
  adversarialFeatures: Map<number, Float32Array> | null,
  users: readonly number[],
  opts: AipOptions,
): Promise<AipResult> {
  const ks = opts.ks ?? [5, 10, 20];
  const nc = opts.numCandidates ?? 1000;
  const acc = targets.map(() => new RankAccumulator(ks));
  for (const u of users) {
    const cand = new Set(await bprmf.rank(u, nc, true));
    const t0 = opts.test[u]!;
    if (t0 >= 0) cand.add(t0);
    for (const t of targets) cand.delete(t);
    const list = Int32Array.from(cand);
    const m = victim.score(Int32Array.of(u), list);
    const row = (await m.data()) as Float32Array;
    m.dispose();
    for (let j = 0; j < targets.length; j++) {
      const t = targets[j]!;
      const f = adversarialFeatures?.get(t);
      const s = f && victim.visual
        ? tf.tidy(() => victim.scoreWithFeatures(Int32Array.of(u), Int32Array.of(t), tf.tensor2d(f, [1, f.length])))
        : victim.score(Int32Array.of(u), Int32Array.of(t));
      const x = (await s.data())[0]!;
      s.dispose();
      let rank = 0;
      for (const y of row) if (y > x) rank++;
      acc[j]!.add(rank);
    }
  }
  const perTarget = targets.map((item, j) => ({ item, hr: acc[j]!.hr() }));
  const hr = Object.fromEntries(ks.map((k) => [k, perTarget.length ? perTarget.reduce((a, p) => a + p.hr[k]!, 0) / perTarget.length : 0]));
  return { hr, perTarget };
}

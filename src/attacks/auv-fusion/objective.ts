/**
 * AUV-Fusion's target user groups and alignment objectives (spec section 7, eqs. 1 and 6; issue 14).
 *
 * Groups U per target: 'all' training users (the paper's default: one e_U for every target),
 * 'top-n' (the N users the surrogate scores the clean target highest for), 'cluster' (the users of
 * the k-means cluster of e_u whose centroid scores the clean target highest) or an explicit
 * 'segment'.
 *
 * Objectives on the surrogate: 'cosine' is the paper's L_align = 1 - cos(P G(x), e_U); 'margin' is
 * score-aware: mean over u in U of T softplus((tau_u - s_u(x)) / T), s_u(x) = e_u . (e_i,id +
 * P G(x)) and tau_u user u's k-th best clean surrogate score among items it has not interacted
 * with; it is small only once the target enters the users' top k.
 */
import * as tf from '@tensorflow/tfjs';
import { ConfigError } from '../../core/errors.js';
import type { Rng } from '../../core/rng.js';
import type { PreferenceEncoder } from '../../preference/model.js';
import type { AuvFusionParams } from './config.js';

/** User indices with at least one training interaction. */
function activeUsers(train: readonly (readonly number[])[]): number[] {
  const out: number[] = [];
  for (let u = 0; u < train.length; u++) if ((train[u]?.length ?? 0) > 0) out.push(u);
  return out;
}

/** Dot product of user u's row of E (d columns) with v. */
function dotRow(E: Float32Array, u: number, v: Float32Array): number {
  const d = v.length;
  let s = 0;
  for (let j = 0; j < d; j++) s += E[u * d + j]! * v[j]!;
  return s;
}

/**
 * k-means (Lloyd, k-means++-style seeding from `rng`) of the rows `users` of E; returns the
 * cluster of each listed user and the centroids (k x d).
 */
export function kmeans(E: Float32Array, d: number, users: readonly number[], k: number, rng: Rng, iters = 20): { assign: Int32Array; centroids: Float32Array } {
  const n = users.length;
  const kk = Math.min(k, n);
  const C = new Float32Array(kk * d);
  const dist2 = (u: number, c: number): number => {
    let s = 0;
    for (let j = 0; j < d; j++) s += (E[u * d + j]! - C[c * d + j]!) ** 2;
    return s;
  };
  // seeding: the first centroid at random, then each farthest-weighted draw
  const first = users[rng.int(n)]!;
  C.set(E.subarray(first * d, first * d + d), 0);
  const best = new Float64Array(n).fill(Infinity);
  for (let c = 1; c < kk; c++) {
    let tot = 0;
    for (let q = 0; q < n; q++) tot += (best[q] = Math.min(best[q]!, dist2(users[q]!, c - 1)));
    let r = rng.uniform() * tot;
    let pick = n - 1;
    for (let q = 0; q < n; q++) if ((r -= best[q]!) <= 0) { pick = q; break; }
    C.set(E.subarray(users[pick]! * d, users[pick]! * d + d), c * d);
  }
  const assign = new Int32Array(n);
  for (let it = 0; it < iters; it++) {
    let moved = 0;
    for (let q = 0; q < n; q++) {
      let bc = 0;
      let bd = Infinity;
      for (let c = 0; c < kk; c++) {
        const v = dist2(users[q]!, c);
        if (v < bd) { bd = v; bc = c; }
      }
      if (assign[q] !== bc || it === 0) moved++;
      assign[q] = bc;
    }
    const sum = new Float64Array(kk * d);
    const cnt = new Int32Array(kk);
    for (let q = 0; q < n; q++) {
      const c = assign[q]!;
      cnt[c]!++;
      for (let j = 0; j < d; j++) sum[c * d + j]! += E[users[q]! * d + j]!;
    }
    for (let c = 0; c < kk; c++) if (cnt[c]! > 0) for (let j = 0; j < d; j++) C[c * d + j] = sum[c * d + j]! / cnt[c]!;
    if (moved === 0) break;
  }
  return { assign, centroids: C };
}

/**
 * The user group U of every target (eq. 1): lists of user indices. `score(i)` gives the surrogate's
 * scores of the clean target i for every user (numUsers values).
 */
export function targetGroups(
  p: Pick<AuvFusionParams, 'group' | 'topN' | 'segment' | 'clusters'>,
  targets: readonly number[],
  train: readonly (readonly number[])[],
  E: Float32Array,
  d: number,
  itemVector: (item: number) => Float32Array,
  rng: Rng,
): number[][] {
  const active = activeUsers(train);
  if (p.group === 'all') return targets.map(() => active);
  if (p.group === 'segment') {
    for (const u of p.segment!) if (u >= train.length) throw new ConfigError(`attack 'auv-fusion': segment user ${u} outside [0, ${train.length})`);
    return targets.map(() => [...p.segment!]);
  }
  if (p.group === 'top-n') {
    return targets.map((t) => {
      const v = itemVector(t);
      const s = active.map((u) => dotRow(E, u, v));
      const order = active.map((_, q) => q).sort((a, b) => s[b]! - s[a]! || active[a]! - active[b]!);
      return order.slice(0, Math.min(p.topN, order.length)).map((q) => active[q]!);
    });
  }
  // cluster: the k-means cluster of e_u whose centroid scores the clean target highest
  const { assign, centroids } = kmeans(E, d, active, p.clusters, rng.fork('kmeans'));
  const k = centroids.length / d;
  const members: number[][] = Array.from({ length: k }, () => []);
  active.forEach((u, q) => members[assign[q]!]!.push(u));
  return targets.map((t) => {
    const v = itemVector(t);
    let bc = -1;
    let bs = -Infinity;
    for (let c = 0; c < k; c++) {
      if (members[c]!.length === 0) continue;
      const s = dotRow(centroids, c, v);
      if (s > bs) { bs = s; bc = c; }
    }
    return members[bc]!;
  });
}

/** e_U (eq. 1): the normalised mean of e_u over each group, targets x d. */
export function groupMeans(E: Float32Array, d: number, groups: readonly (readonly number[])[]): Float32Array {
  const out = new Float32Array(groups.length * d);
  groups.forEach((users, k) => {
    const v = new Float64Array(d);
    for (const u of users) for (let j = 0; j < d; j++) v[j]! += E[u * d + j]!;
    let n = 0;
    for (let j = 0; j < d; j++) n += v[j]! * v[j]!;
    n = Math.sqrt(n) || 1;
    for (let j = 0; j < d; j++) out[k * d + j] = v[j]! / n;
  });
  return out;
}

/**
 * tau_u for each listed user: its k-th best clean surrogate score among the items it has not
 * interacted with in training (the bar a target must clear to enter its top k).
 */
export function userThresholds(pref: PreferenceEncoder, users: readonly number[], train: readonly (readonly number[])[], k: number): Map<number, number> {
  const out = new Map<number, number>();
  const uniq = [...new Set(users)];
  const items = pref.itemEmbeddings();
  const block = 256;
  for (let s = 0; s < uniq.length; s += block) {
    const part = uniq.slice(s, s + block);
    const m = tf.tidy(() => tf.matMul(tf.gather(pref.userEmbeddings(), tf.tensor1d(part, 'int32')), items, false, true));
    const sc = m.dataSync() as Float32Array;
    m.dispose();
    const n = pref.numItems;
    part.forEach((u, r) => {
      const seen = new Set(train[u] ?? []);
      const row: number[] = [];
      for (let i = 0; i < n; i++) if (!seen.has(i)) row.push(sc[r * n + i]!);
      row.sort((a, b) => b - a);
      out.set(u, row[Math.min(k, row.length) - 1] ?? 0);
    });
  }
  items.dispose();
  return out;
}

/** What the margin objective needs per batch: group embeddings, thresholds and ID terms. */
export interface MarginBatch {
  /** B x N x d: e_u of each target's group (N = the largest group; shorter groups are padded with weight 0). */
  E: tf.Tensor3D;
  /** B x N thresholds tau_u. */
  tau: tf.Tensor2D;
  /** B x N weights (1 / group size, 0 for padding). */
  w: tf.Tensor2D;
  /** B x d: e_i,id of each target (zero for cold items). */
  eid: tf.Tensor2D;
}

export function marginBatch(pref: PreferenceEncoder, items: readonly number[], groups: readonly (readonly number[])[], tau: ReadonlyMap<number, number>): MarginBatch {
  const d = pref.config.dim;
  const E = pref.userEmbeddingArray();
  const N = Math.max(1, ...groups.map((g) => g.length));
  const B = items.length;
  const e = new Float32Array(B * N * d);
  const t = new Float32Array(B * N);
  const w = new Float32Array(B * N);
  const eid = new Float32Array(B * d);
  groups.forEach((g, b) => {
    g.forEach((u, q) => {
      e.set(E.subarray(u * d, u * d + d), (b * N + q) * d);
      t[b * N + q] = tau.get(u) ?? 0;
      w[b * N + q] = 1 / g.length;
    });
    eid.set(pref.itemIdVector(items[b]!), b * d);
  });
  return { E: tf.tensor3d(e, [B, N, d]), tau: tf.tensor2d(t, [B, N]), w: tf.tensor2d(w, [B, N]), eid: tf.tensor2d(eid, [B, d]) };
}

/** The margin loss of each target (B values: its group's weighted mean), for projected features h = P G(x) (B x d). */
export function marginLossPerTarget(m: MarginBatch, h: tf.Tensor2D, temperature: number): tf.Tensor1D {
  return tf.tidy(() => {
    const v = tf.expandDims(tf.add(h, m.eid), 1); // B x 1 x d
    const s = tf.sum(tf.mul(m.E, v), 2); // B x N
    const l = tf.mul(tf.softplus(tf.div(tf.sub(m.tau, s), temperature)), temperature);
    return tf.sum(tf.mul(l, m.w), 1) as tf.Tensor1D;
  });
}

/** Mean over the batch of the margin loss, for projected features h = P G(x) (B x d). */
export function marginLoss(m: MarginBatch, h: tf.Tensor2D, temperature: number): tf.Scalar {
  return tf.tidy(() => tf.mean(marginLossPerTarget(m, h, temperature)) as tf.Scalar);
}

/** Fraction of (target, group user) pairs where s_u(x) >= tau_u: the surrogate's hit rate on the groups. */
export function marginHits(m: MarginBatch, h: tf.Tensor2D): tf.Scalar {
  return tf.tidy(() => {
    const s = tf.sum(tf.mul(m.E, tf.expandDims(tf.add(h, m.eid), 1)), 2);
    return tf.div(tf.sum(tf.mul(tf.cast(tf.greaterEqual(s, m.tau), 'float32'), m.w)), m.w.shape[0]) as tf.Scalar;
  });
}

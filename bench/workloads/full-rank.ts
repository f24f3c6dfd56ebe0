/**
 * full-rank: VBPR scores of all 10,000 users x 20,000 items (d = 64 plus the visual term with
 * 512-d features) and the top-20 items per user excluding the user's interactions, computed in
 * blocks of users (streaming; never the full 10k x 20k matrix). Item-side terms are folded into
 * one [I, 128] matrix and an [I] bias; each block takes top-(20 + max degree in block) on the
 * engine and drops interacted items on the host. FLOPs: the visual projection + block matMuls.
 */
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../../src/core/rng.js';
import { benchGraph, type BenchGraph } from '../graph.js';
import { registerWorkload } from '../workloads.js';

const K = 64, F = 512, TOP = 20, BLOCK = 1000;

interface Ctx {
  g: BenchGraph;
  seen: Set<number>[];
  bi: tf.Tensor1D;
  gu: tf.Tensor2D;
  gi: tf.Tensor2D;
  tu: tf.Tensor2D;
  E: tf.Tensor2D;
  bp: tf.Tensor1D;
  feats: tf.Tensor2D;
  out: Int32Array;
}

export function fullRank(ctx: Ctx): Int32Array {
  const { g, seen } = ctx;
  const [itemsT, bias] = tf.tidy(() => {
    const vis = tf.matMul(ctx.feats, ctx.E); // [I, K]
    const items = tf.concat([ctx.gi, vis], 1).transpose(); // [2K, I]
    const b = ctx.bi.add(tf.matMul(ctx.feats, ctx.bp.expandDims(1)).squeeze([1]));
    return [items, b];
  });
  const users = tf.concat([ctx.gu, ctx.tu], 1); // [U, 2K]
  for (let s = 0; s < g.nUsers; s += BLOCK) {
    const n = Math.min(BLOCK, g.nUsers - s);
    let maxDeg = 0;
    for (let u = s; u < s + n; u++) maxDeg = Math.max(maxDeg, seen[u].size);
    const k = TOP + maxDeg;
    const idx = tf.tidy(() => {
      const scores = tf.matMul(tf.slice(users, [s, 0], [n, 2 * K]), itemsT).add(bias);
      return tf.topk(scores, k, true).indices;
    });
    const cand = idx.dataSync() as Int32Array;
    idx.dispose();
    for (let r = 0; r < n; r++) {
      const su = seen[s + r];
      let m = 0;
      for (let j = 0; j < k && m < TOP; j++) {
        const it = cand[r * k + j];
        if (!su.has(it)) ctx.out[(s + r) * TOP + m++] = it;
      }
    }
  }
  tf.dispose([itemsT, bias, users]);
  return ctx.out;
}

registerWorkload<Ctx>({
  name: 'full-rank',
  description: 'VBPR full ranking 10k users x 20k items (d=64 + 512-d visual), top-20 excluding seen, blocks of 1000 users',
  setup() {
    const g = benchGraph();
    const rng = new Rng(1).fork('full-rank');
    const seen = Array.from({ length: g.nUsers }, () => new Set<number>());
    for (let e = 0; e < g.users.length; e++) seen[g.users[e]].add(g.items[e]);
    const t2 = (r: number, c: number, std: number) => tf.tensor2d(rng.normalArray(r * c, std), [r, c]);
    return {
      g,
      seen,
      bi: tf.tensor1d(rng.normalArray(g.nItems, 0.1)),
      gu: t2(g.nUsers, K, 0.1),
      gi: t2(g.nItems, K, 0.1),
      tu: t2(g.nUsers, K, 0.1),
      E: t2(F, K, 0.05),
      bp: tf.tensor1d(rng.normalArray(F, 0.05)),
      feats: tf.tensor2d(rng.uniformArray(g.nItems * F), [g.nItems, F]),
      out: new Int32Array(g.nUsers * TOP),
    };
  },
  run(ctx) {
    fullRank(ctx);
  },
  teardown(ctx) {
    tf.dispose([ctx.bi, ctx.gu, ctx.gi, ctx.tu, ctx.E, ctx.bp, ctx.feats]);
  },
  flops: 2 * 20_000 * F * (K + 1) + 2 * 10_000 * 20_000 * 2 * K,
  runs: 3,
});

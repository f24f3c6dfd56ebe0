/**
 * lightgcn-epoch: LightGCN d = 64 on the canonical graph; every step propagates 3 layers of
 * D^-1/2 A D^-1/2 over the full graph (spec, ID view), final embedding = mean of layers 0..3,
 * BPR loss on batches of 2048 (u, pos, uniform neg) triplets, fwd + bwd + Adam (lr 1e-3);
 * one run = one epoch of ceil(200000/2048) steps.
 */
import * as tf from '@tensorflow/tfjs';
import { normalizedBipartite, type SparseMatrix } from '../../src/core/kernels/spmm.js';
import { Rng } from '../../src/core/rng.js';
import { benchGraph, permutation, tripletBatch, type BenchGraph } from '../graph.js';
import { benchAdam, registerWorkload } from '../workloads.js';

const D = 64, LAYERS = 3, BATCH = 2048;

interface Ctx {
  g: BenchGraph;
  adj: SparseMatrix;
  emb: tf.Variable;
  opt: tf.AdamOptimizer;
  rng: Rng;
}

function step(ctx: Ctx, u: Int32Array, pos: Int32Array, neg: Int32Array): void {
  const { g, adj, emb, opt } = ctx;
  const ut = tf.tensor1d(u, 'int32');
  const pt = tf.tensor1d(pos.map((i) => i + g.nUsers), 'int32');
  const nt = tf.tensor1d(neg.map((i) => i + g.nUsers), 'int32');
  const cost = opt.minimize(() => {
    let e: tf.Tensor2D = emb as unknown as tf.Tensor2D;
    let acc: tf.Tensor2D = e;
    for (let l = 0; l < LAYERS; l++) {
      e = adj.matMul(e);
      acc = acc.add(e);
    }
    const fin = acc.div(LAYERS + 1);
    const eu = tf.gather(fin, ut);
    const sp = eu.mul(tf.gather(fin, pt)).sum(1);
    const sn = eu.mul(tf.gather(fin, nt)).sum(1);
    // -log sigmoid(x) = softplus(-x); tf.logSigmoid has a broken gradient in tfjs 4.22.
    return tf.softplus(sn.sub(sp)).mean() as tf.Scalar;
  }, true);
  cost?.dispose();
  tf.dispose([ut, pt, nt]);
}

function epoch(ctx: Ctx, maxSteps = Infinity): void {
  const perm = permutation(ctx.rng, ctx.g.users.length);
  const steps = Math.min(maxSteps, Math.ceil(perm.length / BATCH));
  for (let k = 0; k < steps; k++) {
    const b = tripletBatch(ctx.g, perm, k, BATCH, ctx.rng);
    step(ctx, b.u, b.pos, b.neg);
  }
}

registerWorkload<Ctx>({
  name: 'lightgcn-epoch',
  description: 'LightGCN d=64, 3 full-graph layers per step, BPR batch 2048 + Adam: one epoch',
  setup() {
    const g = benchGraph();
    const rng = new Rng(1).fork('lightgcn-epoch');
    const adj = normalizedBipartite(g.nUsers, g.nItems, g.users, g.items);
    const n = g.nUsers + g.nItems;
    const emb = tf.variable(tf.tensor2d(rng.normalArray(n * D, 0.1), [n, D]));
    return { g, adj, emb, opt: benchAdam(1e-3), rng: rng.fork('batches') };
  },
  warmup(ctx) {
    epoch(ctx, 3);
  },
  run(ctx) {
    epoch(ctx);
  },
  teardown(ctx) {
    ctx.emb.dispose();
    ctx.opt.dispose();
  },
  runs: 3,
});

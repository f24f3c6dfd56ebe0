/**
 * vbpr-epoch: VBPR s(u,i) = a + b_u + b_i + g_u.g_i + t_u.(E f_i) + b'.f_i with K = K' = 64 and
 * 512-d item features, BPR loss -mean(log sigmoid(s(u,p) - s(u,n))) on batches of 1024
 * (u, pos, uniform neg) triplets, Adam lr 1e-3; one run = one epoch of ceil(200000/1024) steps
 * over the canonical graph. (a and b_u cancel in the BPR difference and are omitted.)
 */
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../../src/core/rng.js';
import { benchGraph, permutation, tripletBatch, type BenchGraph } from '../graph.js';
import { benchAdam, registerWorkload } from '../workloads.js';

const K = 64, F = 512, BATCH = 1024;

interface Ctx {
  g: BenchGraph;
  feats: tf.Tensor2D;
  vars: { bi: tf.Variable; gu: tf.Variable; gi: tf.Variable; tu: tf.Variable; E: tf.Variable; bp: tf.Variable };
  opt: tf.AdamOptimizer;
  rng: Rng;
}

function step(ctx: Ctx, u: Int32Array, pos: Int32Array, neg: Int32Array): void {
  const { feats, vars, opt } = ctx;
  const ut = tf.tensor1d(u, 'int32'), pt = tf.tensor1d(pos, 'int32'), nt = tf.tensor1d(neg, 'int32');
  const cost = opt.minimize(() => {
    const gu = tf.gather(vars.gu, ut), tu = tf.gather(vars.tu, ut);
    const score = (it: tf.Tensor1D) => {
      const f = tf.gather(feats, it);
      const vis = tf.matMul(f, vars.E);
      return tf.gather(vars.bi, it)
        .add(gu.mul(tf.gather(vars.gi, it)).sum(1))
        .add(tu.mul(vis).sum(1))
        .add(tf.matMul(f, vars.bp.expandDims(1)).squeeze([1]));
    };
    const x = score(pt).sub(score(nt));
    // -log sigmoid(x) = softplus(-x); tf.logSigmoid has a broken gradient in tfjs 4.22.
    return tf.softplus(x.neg()).mean() as tf.Scalar;
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
  name: 'vbpr-epoch',
  description: 'VBPR K=K\'=64, 512-d features, 10k users x 20k items, 200k interactions: one BPR+Adam epoch (batch 1024)',
  setup() {
    const g = benchGraph();
    const rng = new Rng(1).fork('vbpr-epoch');
    const v = (shape: number[], std: number) =>
      tf.variable(tf.tensor(rng.normalArray(shape.reduce((a, b) => a * b), std), shape));
    const feats = tf.tensor2d(rng.uniformArray(g.nItems * F), [g.nItems, F]);
    const vars = {
      bi: tf.variable(tf.zeros([g.nItems])),
      gu: v([g.nUsers, K], 0.01),
      gi: v([g.nItems, K], 0.01),
      tu: v([g.nUsers, K], 0.01),
      E: v([F, K], 0.01),
      bp: tf.variable(tf.zeros([F])),
    };
    return { g, feats, vars, opt: benchAdam(1e-3), rng: rng.fork('batches') };
  },
  warmup(ctx) {
    epoch(ctx, 5);
  },
  run(ctx) {
    epoch(ctx);
  },
  teardown(ctx) {
    tf.dispose([ctx.feats, ...Object.values(ctx.vars)]);
    ctx.opt.dispose();
  },
  runs: 3,
});

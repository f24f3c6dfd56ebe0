import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { Rng } from '../../core/rng.js';
import { chainGrad, chainGradPath, chainPlan, noisyLatent, runChain, decodeImage } from '../../diffusion/chain.js';
import { auvFusionParams } from './config.js';
import { groupMeans, kmeans, marginLoss, targetGroups, type MarginBatch } from './objective.js';
import { tinyDiffusion } from '../../../test/attacks/testkit.js';

// a hand-built preference space (d = 2): users 0-2 like direction x, users 3-5 like y, user 6 has no interactions
const d = 2;
const E = Float32Array.from([1, 0, 0.9, 0.1, 0.8, 0, 0, 1, 0.1, 0.9, 0, 0.7, 1, 1]);
const train = [[0], [1], [0, 2], [3], [4], [3, 4], []];
const items: Record<number, Float32Array> = { 10: Float32Array.from([1, 0.05]), 11: Float32Array.from([0, 1]) };
const itemVector = (i: number): Float32Array => items[i]!;

describe('target user groups on a hand-built graph', () => {
  it("'top-n' takes the users who score the item highest, active users only", () => {
    const p = auvFusionParams({ group: 'top-n', topN: 2 });
    const g = targetGroups(p, [10, 11], train, E, d, itemVector, new Rng(1));
    expect(g).toEqual([[0, 1], [3, 4]]);
    const all = targetGroups(auvFusionParams({ group: 'all' }), [10, 11], train, E, d, itemVector, new Rng(1));
    expect(all).toEqual([[0, 1, 2, 3, 4, 5], [0, 1, 2, 3, 4, 5]]);
  });
  it("'cluster' picks the k-means cluster whose centroid scores the item highest", () => {
    const { assign } = kmeans(E, d, [0, 1, 2, 3, 4, 5], 2, new Rng(3));
    expect(new Set([assign[0], assign[1], assign[2]]).size).toBe(1);
    expect(new Set([assign[3], assign[4], assign[5]]).size).toBe(1);
    expect(assign[0]).not.toBe(assign[3]);
    const g = targetGroups(auvFusionParams({ group: 'cluster', clusters: 2 }), [10, 11], train, E, d, itemVector, new Rng(3));
    expect([...g[0]!].sort()).toEqual([0, 1, 2]);
    expect([...g[1]!].sort()).toEqual([3, 4, 5]);
    const m = groupMeans(E, d, g);
    expect(Math.hypot(m[0]!, m[1]!)).toBeCloseTo(1, 6);
    expect(m[0]!).toBeGreaterThan(m[1]!);
  });
});

describe('margin objective', () => {
  it('is T softplus((tau - s) / T) averaged over the group, and falls as the score rises', async () => {
    const m: MarginBatch = {
      E: tf.tensor3d([1, 0, 0, 1], [1, 2, 2]),
      tau: tf.tensor2d([1, 2], [1, 2]),
      w: tf.tensor2d([0.5, 0.5], [1, 2]),
      eid: tf.tensor2d([0, 0], [1, 2]),
    };
    const T = 0.5;
    const val = async (h: number[]) => {
      const l = marginLoss(m, tf.tensor2d(h, [1, 2]), T);
      const v = (await l.data())[0]!;
      l.dispose();
      return v;
    };
    const sp = (x: number) => Math.log1p(Math.exp(x));
    expect(await val([0.5, 0.5])).toBeCloseTo(0.5 * T * (sp((1 - 0.5) / T) + sp((2 - 0.5) / T)), 5);
    expect(await val([3, 3])).toBeLessThan(await val([1, 1]));
    tf.dispose([m.E, m.tau, m.w, m.eid]);
  });
});

describe('residual composition', () => {
  it('its gradient through the DDIM chain matches finite differences on a tiny model', async () => {
    const model = tinyDiffusion(new Rng(5), 16);
    const plan = chainPlan(model, 8, 5);
    const x0 = tf.randomUniform([1, 16, 16, 3], 0.3, 0.7, 'float32', 6) as tf.Tensor4D;
    const zt = tf.tidy(() => noisyLatent(model.encode(x0), tf.randomNormal([1, 4, 4, 4], 0, 1, 'float32', 7) as tf.Tensor4D, plan.alphaBar));
    const xRef = tf.tidy(() => decodeImage(model, runChain(model, plan, zt), 16));
    const goal = tf.randomUniform([1, 16, 16, 3], 0, 1, 'float32', 8);
    const compose = (x: tf.Tensor4D) => tf.clipByValue(tf.add(x0, tf.sub(x, xRef)), 0, 1) as tf.Tensor4D;
    const loss = (x: tf.Tensor4D) => [tf.sum(tf.square(tf.sub(compose(x), goal))) as tf.Scalar];
    const at = (delta: tf.Tensor4D): number =>
      tf.tidy(() => loss(decodeImage(model, runChain(model, plan, tf.add(zt, delta) as tf.Tensor4D), 16))[0]!.dataSync()[0]!);
    const delta = tf.mul(tf.randomNormal([1, 4, 4, 4], 0, 1, 'float32', 9), 0.05) as tf.Tensor4D;
    const r = await chainGrad(model, plan, tf.add(zt, delta) as tf.Tensor4D, 16, (x) => loss(x));
    const g = await r.gradZt.data();
    const h = 1e-2;
    const dv = await delta.data();
    for (const idx of [0, 17, 42, 63]) {
      const e = new Float32Array(dv.length);
      e[idx] = h;
      const plus = tf.add(delta, tf.tensor4d(e, delta.shape)) as tf.Tensor4D;
      const minus = tf.sub(delta, tf.tensor4d(e, delta.shape)) as tf.Tensor4D;
      const fd = (at(plus) - at(minus)) / (2 * h);
      expect(Math.abs(fd - g[idx]!)).toBeLessThan(0.05 * Math.max(1, Math.abs(fd)));
      tf.dispose([plus, minus]);
    }
    // at delta = 0 the composition is the input itself
    const c0 = tf.tidy(() => tf.max(tf.abs(tf.sub(compose(decodeImage(model, runChain(model, plan, zt), 16)), x0))).dataSync()[0]!);
    expect(c0).toBeLessThan(1e-6);
    tf.dispose([x0, zt, xRef, goal, delta, r.gradZt, r.image]);
    model.dispose();
  });
});

describe('chain gradient: one tape or checkpointed steps', () => {
  it('give the same bits (gradient, loss parts, image), and auto tapes once a step is measured', async () => {
    const model = tinyDiffusion(new Rng(11), 16);
    const plan = chainPlan(model, 8, 3);
    const zt = tf.randomNormal([2, 4, 4, 4], 0, 1, 'float32', 12) as tf.Tensor4D;
    const goal = tf.randomUniform([2, 16, 16, 3], 0, 1, 'float32', 13);
    const loss = (x: tf.Tensor4D) => {
      const a = tf.mean(tf.square(tf.sub(x, goal))) as tf.Scalar;
      const b = tf.mean(tf.abs(x)) as tf.Scalar;
      return [tf.add(a, b) as tf.Scalar, a, b];
    };
    const bits = async (t: tf.Tensor) => Buffer.from((await t.data() as Float32Array).slice().buffer);
    const before = tf.memory().numTensors;
    expect(chainGradPath(model, plan, zt.shape)).toBe('checkpoint'); // nothing measured yet
    const ck = await chainGrad(model, plan, zt, 16, loss, 'checkpoint');
    const tp = await chainGrad(model, plan, zt, 16, loss, 'tape');
    expect((await bits(tp.gradZt)).equals(await bits(ck.gradZt))).toBe(true);
    expect((await bits(tp.image)).equals(await bits(ck.image))).toBe(true);
    expect(tp.parts).toEqual(ck.parts);
    const ref = tf.tidy(() => decodeImage(model, runChain(model, plan, zt), 16));
    expect((await bits(ref)).equals(await bits(ck.image))).toBe(true);
    // 'auto' after a checkpointed call has measured the step's tape: taped within the budget, checkpointed at 0
    const prev = process.env.AUV_CHAIN_TAPE_MB;
    try {
      process.env.AUV_CHAIN_TAPE_MB = '0';
      expect(chainGradPath(model, plan, zt.shape)).toBe('checkpoint');
      expect(chainGradPath(model, plan, [1, 4, 4, 4])).toBe('checkpoint');
      const a0 = await chainGrad(model, plan, zt, 16, loss);
      process.env.AUV_CHAIN_TAPE_MB = 'lots';
      await expect(chainGrad(model, plan, zt, 16, loss)).rejects.toThrow(/AUV_CHAIN_TAPE_MB/);
      delete process.env.AUV_CHAIN_TAPE_MB;
      expect(chainGradPath(model, plan, zt.shape)).toBe('tape');
      expect(chainGradPath(model, plan, [1, 4, 4, 4])).toBe('checkpoint'); // another batch shape: not measured
      const a1 = await chainGrad(model, plan, zt, 16, loss);
      expect((await bits(a1.gradZt)).equals(await bits(ck.gradZt))).toBe(true);
      tf.dispose([a0.gradZt, a0.image, a1.gradZt, a1.image]);
    } finally {
      if (prev === undefined) delete process.env.AUV_CHAIN_TAPE_MB;
      else process.env.AUV_CHAIN_TAPE_MB = prev;
    }
    tf.dispose([ck.gradZt, ck.image, tp.gradZt, tp.image, ref]);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([zt, goal]);
    model.dispose();
  });
});

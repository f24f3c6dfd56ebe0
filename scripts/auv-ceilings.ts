/**
 * Ceilings that bound AUV-Fusion on a catalogue (issue 14), for one seed, in the public-encoder
 * tier (the attacker's encoder is the victim's F, the surrogate recommender is trained on F's
 * features, exactly as the runner does; artefacts come from / go to the cache):
 *   1. embedding ceiling: the surrogate's HR@k when the target's projected visual embedding is set
 *      to a * ||P F(x0)|| * e_U (e_U the normalised mean of its group: all users, top-N, cluster)
 *      for growing a: what any image could reach through the surrogate;
 *   2. pixel attacks white-box on the surrogate (Adam on pixels under an L_inf budget; margin loss
 *      on the top-N group, or the mean score over all users as INSA does): how far optimisation
 *      gets without the diffusion model, with SSIM, and their transfer to each victim.
 * Evaluation: full ranking over `users` sampled training users (seed-forked, as the runner samples).
 *
 *   npx tsx scripts/auv-ceilings.ts [dataset=synth:default:1] [cacheDir=/work/auv-cache-default] [seed=1] [users=1000] [maxTargets=60]
 */
import * as tf from '@tensorflow/tfjs';
import { groupMeans, marginBatch, marginLoss, targetGroups, userThresholds } from '../src/attacks/auv-fusion/objective.js';
import { auvFusionParams } from '../src/attacks/auv-fusion/config.js';
import { optimizePixels } from '../src/attacks/pixel-optimize.js';
import { initEngine } from '../src/core/engine.js';
import { Rng } from '../src/core/rng.js';
import { loadImageBatch, type Dataset } from '../src/data/dataset.js';
import { ssim } from '../src/evaluation/image-metrics.js';
import { evaluateTargets, type RankableModel } from '../src/evaluation/full-ranking.js';
import { extractFeatures } from '../src/encoders/resnet.js';
import { loadRecommender } from '../src/recommenders/models.js';
import type { Recommender } from '../src/recommenders/recommender.js';
import { victimTrainingData } from '../src/recommenders/training-data.js';
import { createRecommender } from '../src/recommenders/models.js';
import { attackerSetup, surrogateOnF, surrogateScorer } from './lib/attacker-setup.js';

const fmt = (x: number, d = 4) => x.toFixed(d);

async function stats(model: RankableModel, targets: number[], feats: Map<number, Float32Array> | null, users: number[], ds: Dataset): Promise<string> {
  const r = await evaluateTargets(model, targets, feats, users, { train: ds.split.train, ks: [5, 20, 50], numItems: ds.itemIds.length });
  const mr = r.perTarget.reduce((a, p) => a + p.meanRank, 0) / r.perTarget.length;
  return `HR5 ${fmt(r.hr[5]!)} HR20 ${fmt(r.hr[20]!)} HR50 ${fmt(r.hr[50]!)} rank ${mr.toFixed(0)}`;
}


async function main(): Promise<void> {
  await initEngine();
  const [dataset = 'synth:default:1', cacheDir = '/work/auv-cache-default', seedS = '1', usersS = '1000', maxT = '60'] = process.argv.slice(2);
  const seed = Number(seedS);
  const setup = await attackerSetup(dataset, cacheDir, seed);
  const { cfg, ds, cache, dataKey, encHash, encoders } = setup;
  const F = setup.encoders.victim;
  const pref = await surrogateOnF(setup, seed);
  const n = ds.itemIds.length;
  const all = Array.from({ length: n }, (_, i) => i);
  const trainUsers = ds.userIds.map((_, u) => u).filter((u) => (ds.split.train[u]?.length ?? 0) > 0);
  const users = new Rng(seed).fork('eval-users').shuffle([...trainUsers]).slice(0, Number(usersS)).sort((a, b) => a - b);
  const targets = ds.targets.slice(0, Number(maxT));
  const cleanF = await extractFeatures(F, ds.images, all, 128);
  const victims: { kind: string; model: Recommender }[] = [];
  for (const kind of ['vbpr', 'deepstyle', 'amr'] as const) {
    const res = await cache.get(
      'victim',
      { data: dataKey, kind, config: cfg.victimConfig, seed, encoder: encHash.victim },
      async (dir) => {
        const m = createRecommender(kind, { ...cfg.victimConfig, seed });
        await m.fit(victimTrainingData(ds, cleanF));
        await m.save(dir);
        m.dispose();
      },
      (dir) => loadRecommender(dir),
    );
    victims.push({ kind, model: res.value });
  }
  const sur = surrogateScorer(pref);
  const surProj = surrogateScorer(pref, true);
  const proj = pref.projection();
  const d = pref.config.dim;
  const E = pref.userEmbeddingArray();
  const x0 = await loadImageBatch(ds.images, targets);
  const f0 = tf.tidy(() => F.encode(x0));
  const h0 = tf.tidy(() => pref.project(f0, proj));
  const h0a = (await h0.data()) as Float32Array;
  console.log(`# ${dataset} seed ${seed}: ${users.length} users, ${targets.length} targets; tier public-encoder (surrogate on F)`);
  console.log(`clean surrogate: ${await stats(sur, targets, null, users, ds)}`);

  // 1. embedding ceiling
  const rng = new Rng(seed).fork('ceilings');
  for (const group of ['all', 'top-n', 'cluster'] as const) {
    const p = auvFusionParams({ group, topN: 100, clusters: 40 });
    const groups = targetGroups(p, targets, ds.split.train, E, d, (i) => pref.itemVector(i), rng);
    const eU = groupMeans(E, d, groups);
    for (const a of [1, 2, 4, 8, 16]) {
      const feats = new Map<number, Float32Array>();
      targets.forEach((t, k) => {
        let nh = 0;
        for (let j = 0; j < d; j++) nh += h0a[k * d + j]! ** 2;
        nh = Math.sqrt(nh);
        feats.set(t, Float32Array.from({ length: d }, (_, j) => a * nh * eU[k * d + j]!));
      });
      console.log(`ceiling group ${group.padEnd(8)} a=${String(a).padEnd(3)} surrogate ${await stats(surProj, targets, feats, users, ds)}`);
    }
  }

  // 2. pixel attacks white-box on the surrogate, and their transfer
  const p = auvFusionParams({ group: 'top-n', topN: 100 });
  const groups = targetGroups(p, targets, ds.split.train, E, d, (i) => pref.itemVector(i), rng);
  const tau = userThresholds(pref, groups.flat(), ds.split.train, 5);
  const allUsersE = pref.userEmbeddings();
  for (const eps of [4, 8, 16]) {
    for (const loss of ['margin', 'mean'] as const) {
      const t0 = Date.now();
      const advParts: tf.Tensor4D[] = [];
      for (let s = 0; s < targets.length; s += 15) {
        const items = targets.slice(s, s + 15);
        const xb = tf.slice(x0, [s, 0, 0, 0], [items.length, -1, -1, -1]);
        const mb = marginBatch(pref, items, groups.slice(s, s + items.length), tau);
        const fn = (x: tf.Tensor4D) =>
          loss === 'margin'
            ? (tf.mul(marginLoss(mb, pref.project(F.encode(x), proj), 0.1), items.length) as tf.Scalar)
            : (tf.neg(tf.sum(tf.mean(tf.matMul(allUsersE, pref.project(F.encode(x), proj), false, true), 0))) as tf.Scalar);
        advParts.push(optimizePixels(xb, fn, { eps: eps / 255, steps: 30, optimizer: 'adam', lr: eps / 255 / 4 }));
        tf.dispose([xb, mb.E, mb.tau, mb.w, mb.eid]);
      }
      const adv = tf.concat(advParts) as tf.Tensor4D;
      tf.dispose(advParts);
      const s = (await tf.tidy(() => tf.mean(ssim(adv, x0))).data())[0]!;
      const fa = tf.tidy(() => F.encode(adv));
      const fd = (await fa.data()) as Float32Array;
      const dim = fd.length / targets.length;
      const feats = new Map(targets.map((t, k) => [t, fd.slice(k * dim, (k + 1) * dim)]));
      const parts = [`pixel-on-surrogate eps ${eps}/255 loss ${loss} SSIM ${fmt(s, 3)} (${((Date.now() - t0) / 1000).toFixed(0)} s)`, `  surrogate ${await stats(sur, targets, feats, users, ds)}`];
      for (const v of victims) parts.push(`  ${v.kind.padEnd(9)} ${await stats(v.model, targets, feats, users, ds)}`);
      console.log(parts.join('\n'));
      tf.dispose([adv, fa]);
    }
  }
  for (const v of victims) console.log(`clean ${v.kind.padEnd(9)} ${await stats(v.model, targets, null, users, ds)}`);
  tf.dispose([x0, f0, h0, proj, allUsersE, cleanF]);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});

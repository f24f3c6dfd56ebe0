/**
 * Transfer probe (issue 14): how well does a pixel attack crafted white-box on an attacker-trained
 * VBPR (public training interactions, the public F's features, its own seed, no held-out data)
 * transfer to the victims? Prints SSIM and each victim's HR@5/20/50 and mean rank, seed 1.
 *
 *   npx tsx scripts/auv-vbpr-probe.ts [dataset=synth:default:1] [cache=/work/auv-cache-default] [seed=1]
 */
import * as tf from '@tensorflow/tfjs';
import { publicView } from '../src/attacks/attack.js';
import { optimizePixels } from '../src/attacks/pixel-optimize.js';
import { initEngine } from '../src/core/engine.js';
import { Rng } from '../src/core/rng.js';
import { loadImageBatch } from '../src/data/dataset.js';
import { extractFeatures } from '../src/encoders/resnet.js';
import { ssim } from '../src/evaluation/image-metrics.js';
import { evaluateTargets, type RankableModel } from '../src/evaluation/full-ranking.js';
import { createRecommender, loadRecommender } from '../src/recommenders/models.js';
import { victimTrainingData } from '../src/recommenders/training-data.js';
import { attackerSetup } from './lib/attacker-setup.js';

async function main(): Promise<void> {
  await initEngine();
  const [dataset = 'synth:default:1', cacheDir = '/work/auv-cache-default', seedS = '1'] = process.argv.slice(2);
  const seed = Number(seedS);
  const setup = await attackerSetup(dataset, cacheDir, seed);
  const { cfg, ds, cache, dataKey, encHash, encoders } = setup;
  const F = setup.encoders.victim;
  const all = Array.from({ length: ds.itemIds.length }, (_, i) => i);
  const cleanF = await extractFeatures(F, ds.images, all, 128);
  const t0 = Date.now();
  const att = createRecommender('vbpr', { seed: 1000 + seed, epochs: 20 });
  await att.fit(victimTrainingData(publicView(ds), cleanF));
  console.log(`attacker VBPR trained in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  const victims: { kind: string; model: RankableModel }[] = [{ kind: 'attacker-vbpr', model: att }];
  for (const kind of ['vbpr', 'deepstyle', 'amr']) {
    const e = await cache.get('victim', { data: dataKey, kind, config: cfg.victimConfig, seed, encoder: encHash.victim }, () => Promise.reject(new Error('not cached')), (dir) => loadRecommender(dir));
    victims.push({ kind, model: e.value });
  }
  const users = new Rng(seed).fork('eval-users').shuffle(ds.userIds.map((_, u) => u).filter((u) => (ds.split.train[u]?.length ?? 0) > 0)).slice(0, 1000).sort((a, b) => a - b);
  const targets = [...ds.targets];
  const x0 = await loadImageBatch(ds.images, targets);
  const trainUsers = Int32Array.from(ds.userIds.map((_, u) => u).filter((u) => (ds.split.train[u]?.length ?? 0) > 0));
  for (const eps of [4, 8]) {
    const parts: tf.Tensor4D[] = [];
    for (let s = 0; s < targets.length; s += 15) {
      const items = Int32Array.from(targets.slice(s, s + 15));
      const xb = tf.slice(x0, [s, 0, 0, 0], [items.length, -1, -1, -1]) as tf.Tensor4D;
      const loss = (x: tf.Tensor4D) => att.scoreWithFeatures(trainUsers, items, F.encode(x)).mean(0).sum().neg() as tf.Scalar;
      parts.push(optimizePixels(xb, loss, { eps: eps / 255, steps: 30, optimizer: 'adam', lr: eps / 255 / 4 }));
      xb.dispose();
    }
    const adv = tf.concat(parts) as tf.Tensor4D;
    tf.dispose(parts);
    const sv = (await tf.tidy(() => tf.mean(ssim(adv, x0))).data())[0]!;
    const f = tf.tidy(() => F.encode(adv));
    const fd = (await f.data()) as Float32Array;
    const dim = fd.length / targets.length;
    const feats = new Map(targets.map((t, k) => [t, fd.slice(k * dim, (k + 1) * dim)]));
    console.log(`pixel attack white-box on the attacker's VBPR, eps ${eps}/255, SSIM ${sv.toFixed(3)}`);
    for (const v of victims) {
      const r = await evaluateTargets(v.model, targets, feats, users, { train: ds.split.train, ks: [5, 20, 50], numItems: ds.itemIds.length });
      const mr = r.perTarget.reduce((a, p) => a + p.meanRank, 0) / r.perTarget.length;
      console.log(`  ${v.kind.padEnd(14)} HR5 ${r.hr[5]!.toFixed(4)} HR20 ${r.hr[20]!.toFixed(4)} HR50 ${r.hr[50]!.toFixed(4)} rank ${mr.toFixed(0)}`);
    }
    tf.dispose([adv, f]);
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});

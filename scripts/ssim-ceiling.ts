/**
 * White-box ceiling under an SSIM constraint (issue 14): INSA's objective (the victim's mean score
 * of the target over training users, white-box on the victim and F) maximised under SSIM(x, x0) >=
 * floor instead of an L_inf ball, with the perturbation at full resolution or on a coarse grid
 * upsampled bilinearly (src/attacks/ssim-constraint.ts). Prints, per victim (each attacked
 * white-box) and shape, SSIM and HR@5/20/50 and mean rank, full ranking, seed-forked evaluation users.
 *
 *   npx tsx scripts/ssim-ceiling.ts CACHE [seed=1] [users=1000] [targets=60] [grids=64,16,8] [floors=0.8] [victims=vbpr,deepstyle,amr] [steps=30] [lr=0.02] [pngDir]
 */
import * as tf from '@tensorflow/tfjs';
import { optimizeSsimConstrained } from '../src/attacks/ssim-constraint.js';
import { initEngine } from '../src/core/engine.js';
import { Rng } from '../src/core/rng.js';
import { loadImageBatch } from '../src/data/dataset.js';
import { encodePngRgb } from '../src/data/png.js';
import { ssim } from '../src/evaluation/image-metrics.js';
import { evaluateTargets } from '../src/evaluation/full-ranking.js';
import { createRecommender, loadRecommender } from '../src/recommenders/models.js';
import type { Recommender } from '../src/recommenders/recommender.js';
import { attackerSetup } from './lib/attacker-setup.js';
import { publicView } from '../src/attacks/attack.js';
import { extractFeatures } from '../src/encoders/resnet.js';

import { victimTrainingData } from '../src/recommenders/training-data.js';
import { writeFileSync, mkdirSync } from 'node:fs';

async function main(): Promise<void> {
  await initEngine();
  const a = process.argv.slice(2);
  const [cacheDir, seedS = '1', usersS = '1000', maxT = '60', gridsS = '64,16,8', floorsS = '0.8', victimsS = 'vbpr,deepstyle,amr', stepsS = '30', lrS = '0.02', pngDir] = a;
  if (!cacheDir) throw new Error('usage: ssim-ceiling.ts CACHE [seed] [users] [targets] [grids] [floors] [victims] [steps] [lr] [pngDir]');
  const seed = Number(seedS);
  const setup = await attackerSetup('synth:default:1', cacheDir, seed);
  const { cfg, ds, cache, dataKey, encHash } = setup;
  const F = setup.encoders.victim;
  const trainUsers = ds.userIds.map((_, u) => u).filter((u) => (ds.split.train[u]?.length ?? 0) > 0);
  const users = new Rng(seed).fork('eval-users').shuffle([...trainUsers]).slice(0, Number(usersS)).sort((x, y) => x - y);
  const targets = ds.targets.slice(0, Number(maxT));
  const x0 = await loadImageBatch(ds.images, targets);
  const allUsers = Int32Array.from(trainUsers);
  console.log(`# seed ${seed}: ${users.length} eval users, ${targets.length} targets, white-box INSA objective under an SSIM floor`);
  const victims = new Map<string, Recommender>();
  for (const kind of ['vbpr', 'deepstyle', 'amr']) {
    const v = await cache.get('victim', { data: dataKey, kind, config: cfg.victimConfig, seed, encoder: encHash.victim }, () => Promise.reject(new Error(`victim ${kind} not cached`)), (dir) => loadRecommender(dir));
    victims.set(kind, v.value);
  }
  for (const kind of victimsS.split(',')) {
    // 'attacker-vbpr': black-box in tier public-encoder: a VBPR the attacker trains on the public
    // training interactions and F's features (own seed), crafted on and transferred to every victim.
    let model: Recommender;
    if (kind === 'attacker-vbpr') {
      const cleanF = await extractFeatures(F, ds.images, ds.itemIds.map((_, i) => i), 128);
      model = createRecommender('vbpr', { seed: 1000 + seed, epochs: 20 });
      await model.fit(victimTrainingData(publicView(ds), cleanF));
    } else {
      model = victims.get(kind) ?? (() => { throw new Error(`unknown victim '${kind}'`); })();
    }
    const evalOn = kind === 'attacker-vbpr' ? [...victims.entries()] : [[kind, model] as [string, Recommender]];
    const evalFeats = async (x: tf.Tensor4D): Promise<string> => {
      const f = tf.tidy(() => F.encode(x));
      const fd = (await f.data()) as Float32Array;
      f.dispose();
      const dim = fd.length / targets.length;
      const feats = new Map(targets.map((t, k) => [t, fd.slice(k * dim, (k + 1) * dim)]));
      const out: string[] = [];
      for (const [name, m] of evalOn) {
        const r = await evaluateTargets(m, targets, feats, users, { train: ds.split.train, ks: [5, 20, 50], numItems: ds.itemIds.length });
        const mr = r.perTarget.reduce((s, p) => s + p.meanRank, 0) / r.perTarget.length;
        out.push(`${name}: HR5 ${r.hr[5]!.toFixed(4)} HR20 ${r.hr[20]!.toFixed(4)} HR50 ${r.hr[50]!.toFixed(4)} rank ${mr.toFixed(0)}`);
      }
      return out.join(' | ');
    };
    console.log(`${kind} clean: ${await evalFeats(x0)}`);
    for (const floor of floorsS.split(',').map(Number)) {
      for (const grid of gridsS.split(',').map(Number)) {
        const t0 = Date.now();
        const parts: tf.Tensor4D[] = [];
        for (let s = 0; s < targets.length; s += 20) {
          const items = Int32Array.from(targets.slice(s, s + 20));
          const xb = tf.slice(x0, [s, 0, 0, 0], [items.length, -1, -1, -1]) as tf.Tensor4D;
          const objective = (x: tf.Tensor4D) => model.scoreWithFeatures(allUsers, items, F.encode(x)).mean(0) as tf.Tensor1D;
          parts.push(await optimizeSsimConstrained(xb, objective, { floor, steps: Number(stepsS), lr: Number(lrS), grid }));
          xb.dispose();
        }
        const adv = tf.concat(parts) as tf.Tensor4D;
        tf.dispose(parts);
        const sv = tf.tidy(() => ssim(adv, x0));
        const svs = Array.from(await sv.data());
        sv.dispose();
        const linf = (await tf.tidy(() => tf.max(tf.abs(tf.sub(adv, x0)))).data())[0]!;
        const mean = svs.reduce((s, x) => s + x, 0) / svs.length;
        console.log(`${kind} floor ${floor} grid ${grid}: SSIM mean ${mean.toFixed(3)} min ${Math.min(...svs).toFixed(3)} Linf ${(linf * 255).toFixed(0)}/255  ${await evalFeats(adv)}  (${((Date.now() - t0) / 1000).toFixed(0)} s)`);
        if (pngDir) {
          mkdirSync(pngDir, { recursive: true });
          const n = Math.min(8, targets.length);
          const both = tf.tidy(() => tf.concat([tf.slice(x0, [0, 0, 0, 0], [n, -1, -1, -1]), tf.slice(adv, [0, 0, 0, 0], [n, -1, -1, -1])], 1));
          // A 2-row strip: clean on top, adversarial below, n images side by side.
          const strip = tf.tidy(() => { const s3 = tf.concat(tf.unstack(both), 1) as tf.Tensor3D; return tf.image.resizeNearestNeighbor(s3, [s3.shape[0] * 3, s3.shape[1] * 3]) as tf.Tensor3D; });
          const [h, w] = strip.shape;
          writeFileSync(`${pngDir}/${kind}-f${floor}-g${grid}.png`, encodePngRgb(new Float32Array(await strip.data()), w, h));
          tf.dispose([both, strip]);
        }
        adv.dispose();
      }
    }
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});

/**
 * Victims report (spec sections 3, 4, 9): on a synthetic catalogue (default: `default`, seed 1),
 * trains the encoders F (victim), G (surrogate), C (semantic) and the four victims on F's features,
 * then prints test HR@10 / NDCG@10 / AUC, cold-item AUC (ground-truth taste affinity, see
 * src/evaluation/accuracy.ts), clean target HR@5 (full ranking), training times, and the time of
 * the full-ranking protocol over every user x every item.
 *
 *   npx tsx scripts/victims-report.ts [profile] [seed] [encoderEpochs]
 */
import * as tf from '@tensorflow/tfjs';
import { initEngine } from '../src/core/engine.js';
import { synthesizeCatalogue, tasteAffinity, type CatalogueProfile } from '../src/data/index.js';
import { extractFeatures } from '../src/encoders/resnet.js';
import { trainEncoder } from '../src/encoders/train.js';
import { createRecommender } from '../src/recommenders/models.js';
import { victimTrainingData } from '../src/recommenders/training-data.js';
import type { VictimKind } from '../src/recommenders/recommender.js';
import { evaluateAccuracy } from '../src/evaluation/accuracy.js';
import { evaluateTargets } from '../src/evaluation/full-ranking.js';

async function main(): Promise<void> {
  const backend = await initEngine();
  const profile = (process.argv[2] ?? 'default') as CatalogueProfile;
  const seed = Number(process.argv[3] ?? 1);
  const encEpochs = Number(process.argv[4] ?? 3);
  const ds = synthesizeCatalogue({ profile, seed });
  const nItems = ds.itemIds.length;
  console.log(`catalogue ${profile} seed ${seed}: ${ds.userIds.length} users, ${nItems} items, ${ds.images.size}px, ${ds.targets.length} targets; backend ${backend}`);
  const all = Array.from({ length: nItems }, (_, i) => i);

  const enc: Record<string, Awaited<ReturnType<typeof trainEncoder>>> = {};
  for (const role of ['victim', 'surrogate', 'semantic'] as const) {
    enc[role] = await trainEncoder(ds, role, {}, { epochs: encEpochs });
    const r = enc[role]!.report;
    console.log(`encoder ${role.padEnd(9)} ${r.objective.padEnd(14)} ${r.seconds.toFixed(1)} s  loss ${r.lossCurve[0]!.toFixed(3)} -> ${r.lossCurve.at(-1)!.toFixed(3)}${Number.isNaN(r.accuracy) ? '' : `  train acc ${r.accuracy.toFixed(3)}`}`);
  }
  const t0 = Date.now();
  const feats = await extractFeatures(enc.victim!.encoder, ds.images, all, 256);
  console.log(`F features ${feats.shape.join('x')} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);

  const affinity = tasteAffinity(ds)!;
  const users = ds.userIds.map((_, u) => u).filter((u) => ds.split.train[u]!.length > 0);
  console.log('\nvictim      train s  epochs  HR@10   NDCG@10  AUC     coldAUC  target HR@5 (clean)  full-ranking s');
  for (const kind of ['bpr-mf', 'vbpr', 'deepstyle', 'amr'] as VictimKind[]) {
    const m = createRecommender(kind, { seed });
    const rep = await m.fit(victimTrainingData(ds, feats));
    const acc = await evaluateAccuracy(m, { train: ds.split.train, test: ds.split.test, numItems: nItems, coldItems: ds.targets, affinity });
    const t1 = Date.now();
    const tr = await evaluateTargets(m, ds.targets, null, users, { train: ds.split.train, ks: [5, 10, 20] });
    const evalS = (Date.now() - t1) / 1000;
    console.log(
      `${kind.padEnd(10)}  ${rep.seconds.toFixed(1).padStart(7)}  ${String(rep.epochs).padStart(6)}  ${acc.hr10.toFixed(3)}   ${acc.ndcg10.toFixed(3)}    ${acc.auc.toFixed(3)}   ${Number.isNaN(acc.coldAuc) ? '  -  ' : acc.coldAuc.toFixed(3)}    ${tr.hr[5]!.toFixed(4)}               ${evalS.toFixed(2)}`,
    );
    m.dispose();
  }
  feats.dispose();
  for (const e of Object.values(enc)) e.encoder.dispose();
  console.log(`\ntensors alive at the end: ${tf.memory().numTensors}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});

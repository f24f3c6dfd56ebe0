/**
 * Tune AUV-Fusion against the attacker's own surrogate (issue 14: never on the victims' evaluation
 * users): runs `auv-fusion[/variant]` with each given parameter set on the first `targets` targets
 * of one seed, in tier public-encoder (the attacker's encoder is F, the surrogate recommender is
 * trained on F's features, as the runner does), and prints the surrogate's HR@5/20/50 and mean
 * rank over all training users, SSIM to the clean images and seconds. With `--victims` it also
 * prints each victim's figures (a measurement of transfer, not a tuning signal).
 *
 *   npx tsx scripts/auv-tune.ts DATASET CACHE SEED TARGETS [--victims] 'variant|{"param":value}' ...
 */
import * as tf from '@tensorflow/tfjs';
import { makeAttackContext } from '../src/attacks/attack.js';
import { createAttack } from '../src/attacks/registry.js';
import { initEngine } from '../src/core/engine.js';
import { Rng } from '../src/core/rng.js';
import { loadImageBatch, type Dataset } from '../src/data/dataset.js';
import { loadDiffusion } from '../src/diffusion/model.js';
import { ssim } from '../src/evaluation/image-metrics.js';
import { evaluateTargets, type RankableModel } from '../src/evaluation/full-ranking.js';
import { loadRecommender } from '../src/recommenders/models.js';
import { attackerSetup, surrogateOnF, surrogateScorer } from './lib/attacker-setup.js';

async function stats(model: RankableModel, targets: number[], feats: Map<number, Float32Array>, users: number[], ds: Dataset): Promise<string> {
  const r = await evaluateTargets(model, targets, feats, users, { train: ds.split.train, ks: [5, 20, 50], numItems: ds.itemIds.length });
  const mr = r.perTarget.reduce((a, p) => a + p.meanRank, 0) / r.perTarget.length;
  return `HR5 ${r.hr[5]!.toFixed(4)} HR20 ${r.hr[20]!.toFixed(4)} HR50 ${r.hr[50]!.toFixed(4)} rank ${mr.toFixed(0)}`;
}


async function main(): Promise<void> {
  await initEngine();
  const args = process.argv.slice(2);
  const withVictims = args.includes('--victims');
  const [dataset, cacheDir, seedS, nT, ...runs] = args.filter((a) => a !== '--victims');
  const seed = Number(seedS);
  const setup = await attackerSetup(dataset!, cacheDir!, seed);
  const { cfg, ds, cache, dataKey, encHash, encoders } = setup;
  const F = setup.encoders.victim;
  const pref = await surrogateOnF(setup, seed);
  const diffusion = await loadDiffusion();
  const users = ds.userIds.map((_, u) => u).filter((u) => (ds.split.train[u]?.length ?? 0) > 0);
  const targets = ds.targets.slice(0, Number(nT));
  const x0 = await loadImageBatch(ds.images, targets);
  const sur = surrogateScorer(pref);
  const victims: { kind: string; model: RankableModel }[] = [];
  if (withVictims) {
    for (const kind of ['vbpr', 'deepstyle', 'amr']) {
      const e = await cache.get('victim', { data: dataKey, kind, config: cfg.victimConfig, seed, encoder: encHash.victim }, () => Promise.reject(new Error(`victim ${kind} not cached`)), (dir) => loadRecommender(dir));
      victims.push({ kind, model: e.value });
    }
  }
  const featsOf = async (x: tf.Tensor4D): Promise<Map<number, Float32Array>> => {
    const f = tf.tidy(() => F.encode(x));
    const d = (await f.data()) as Float32Array;
    f.dispose();
    const dim = d.length / targets.length;
    return new Map(targets.map((t, k) => [t, d.slice(k * dim, (k + 1) * dim)]));
  };
  const clean = await featsOf(x0);
  console.log(`# ${dataset} seed ${seed}, ${targets.length} targets, ${users.length} users (surrogate), tier public-encoder`);
  console.log(`clean: surrogate ${await stats(sur, targets, clean, users, ds)}`);
  for (const run of runs) {
    const [variant, json] = run.startsWith('{') ? [undefined, run] : (run.split('|') as [string, string | undefined]);
    const params = json ? (JSON.parse(json) as Record<string, unknown>) : {};
    const attack = createAttack(variant ? `auv-fusion/${variant}` : 'auv-fusion', params);
    const t0 = Date.now();
    const res = await attack.generate(targets, makeAttackContext(attack, { rng: new Rng(seed).fork('tune'), dataset: ds, tier: 'public-encoder', surrogateEncoder: F, semanticEncoder: encoders.semantic, surrogateRecommender: pref, diffusion }));
    const secs = (Date.now() - t0) / 1000;
    const per = ds.images.size ** 2 * 3;
    const adv = tf.tensor4d(Float32Array.from(targets.flatMap((t) => Array.from(res.images.get(t)!))), x0.shape);
    const s = (await tf.tidy(() => tf.mean(ssim(adv, x0))).data())[0]!;
    const feats = await featsOf(adv);
    const fin = res.log.at(-1)!;
    const parts = [`${run}: SSIM ${s.toFixed(3)} ${secs.toFixed(0)} s (${(secs / targets.length).toFixed(2)} s/target) groupHits ${fin.groupHitsClean?.toFixed(3)} -> ${fin.groupHitsAdv?.toFixed(3)} scale ${fin.deltaScale?.toFixed(2)}`, `  surrogate ${await stats(sur, targets, feats, users, ds)}`];
    for (const v of victims) parts.push(`  ${v.kind.padEnd(9)} ${await stats(v.model, targets, feats, users, ds)}`);
    console.log(parts.join('\n'));
    void per;
    adv.dispose();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});

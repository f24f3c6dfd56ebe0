/**
 * Baselines report (spec sections 8-10): on the synthetic catalogue with the full-ranking
 * protocol, runs random noise, EXPA, PGD/FGSM and INSA against VBPR at budgets 8/16/32 and prints
 * target HR@k / NDCG@k (adversarial vs clean), SSIM, PSNR, L_inf, detector AUC, and INSA's HR@5
 * after each input defence. Writes auv-out/baselines-report.json.
 *
 *   npx tsx scripts/baselines-report.ts [--profile default|tiny] [--seed 1] [--attacks random,expa,insa]
 *        [--budgets 8,16,32] [--steps 30] [--users N --items N --targets N]
 */
import * as tf from '@tensorflow/tfjs';
import path from 'node:path';
import { initEngine } from '../src/core/engine.js';
import { writeJsonAtomic } from '../src/core/fsutil.js';
import { Rng } from '../src/core/rng.js';
import { synthesizeCatalogue, type CatalogueParams, type CatalogueProfile } from '../src/data/index.js';
import type { Dataset } from '../src/data/dataset.js';
import type { ImageEncoder } from '../src/encoders/encoder.js';
import type { Recommender } from '../src/recommenders/recommender.js';
import { makeAttackContext } from '../src/attacks/attack.js';
import { createAttack } from '../src/attacks/registry.js';
import { imagePairMetrics } from '../src/evaluation/image-metrics.js';
import { evaluateDetector } from '../src/evaluation/detector.js';
import { applyDefence } from '../src/defences/index.js';
import { buildVictim, evaluateTargetsHr } from './baselines-victim.js';

function arg(name: string, def?: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : def;
}

async function featuresOf(enc: ImageEncoder, imgs: Map<number, Float32Array>, size: number): Promise<Map<number, Float32Array>> {
  const items = [...imgs.keys()];
  const out = new Map<number, Float32Array>();
  for (let s = 0; s < items.length; s += 32) {
    const part = items.slice(s, s + 32);
    const buf = new Float32Array(part.length * size * size * 3);
    part.forEach((it, k) => buf.set(imgs.get(it)!, k * size * size * 3));
    const f = tf.tidy(() => enc.encode(tf.tensor4d(buf, [part.length, size, size, 3])));
    const d = (await f.data()) as Float32Array;
    const dim = f.shape[1];
    f.dispose();
    part.forEach((it, k) => out.set(it, d.slice(k * dim, (k + 1) * dim)));
  }
  return out;
}

const fmt = (v: number, d = 4) => (Number.isFinite(v) ? v.toFixed(d) : String(v));

async function main(): Promise<void> {
  await initEngine();
  const profile = (arg('profile', 'default') as CatalogueProfile);
  const seed = Number(arg('seed', '1'));
  const overrides: Partial<CatalogueParams> = {};
  for (const [k, key] of [['users', 'numUsers'], ['items', 'numItems'], ['targets', 'numTargets']] as const) {
    const v = arg(k);
    if (v !== undefined) overrides[key] = Number(v);
  }
  const attacks = (arg('attacks', 'random,expa,pgd,fgsm,insa') as string).split(',');
  const budgets = (arg('budgets', '8,16,32') as string).split(',').map(Number);
  const steps = Number(arg('steps', '30'));
  const t0 = Date.now();
  const ds: Dataset = synthesizeCatalogue({ profile, seed, overrides });
  const size = ds.images.size;
  console.log(`dataset ${ds.info.name}: ${ds.userIds.length} users, ${ds.itemIds.length} items, ${ds.targets.length} targets, ${size}px`);
  const victim = await buildVictim(ds, seed);
  console.log(`victim ${victim.model.kind} + encoder ${victim.encoder.description.kind} ready in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  const targets = [...ds.targets];
  const clean = new Map<number, Float32Array>();
  for (const t of targets) clean.set(t, await ds.images.load(t));
  const cleanEval = await evaluateTargetsHr(victim, ds, targets, null);
  console.log(`clean: HR@5 ${fmt(cleanEval.hr[5]!)} HR@10 ${fmt(cleanEval.hr[10]!)} HR@20 ${fmt(cleanEval.hr[20]!)} NDCG@10 ${fmt(cleanEval.ndcg[10]!)}`);
  const rows: Record<string, unknown>[] = [];
  const header = 'attack  budget  HR@5     HR@10    HR@20    NDCG@10  SSIM    PSNR    Linf*255  detAUC  sec';
  console.log(header);
  for (const name of attacks) {
    for (const budget of budgets) {
      const params: Record<string, unknown> = { budget };
      if (name === 'insa' || name === 'expa' || name === 'pgd') params.steps = steps;
      const attack = createAttack(name, params);
      const ctx = makeAttackContext(attack, { rng: new Rng(seed).fork(`attack:${name}`), dataset: ds, victimEncoder: victim.encoder, victimModel: victim.model });
      const res = await attack.generate(targets, ctx);
      const feats = await featuresOf(victim.encoder, res.images, size);
      const ev = await evaluateTargetsHr(victim, ds, targets, feats);
      const m = targets.map((t) => imagePairMetrics(clean.get(t)!, res.images.get(t)!, size));
      const mean = (k: 'ssim' | 'psnr' | 'linf' | 'l2') => m.reduce((s, r) => s + r[k], 0) / m.length;
      const det = await evaluateDetector({ encoder: victim.encoder, clean, adversarial: res.images, size, rng: new Rng(seed) });
      const row = { attack: name, budget, hr: ev.hr, ndcg: ev.ndcg, ssim: mean('ssim'), psnr: mean('psnr'), linf: mean('linf'), l2: mean('l2'), detectorAuc: det.auc, seconds: res.seconds };
      rows.push(row);
      console.log(
        `${name.padEnd(7)} ${String(budget).padEnd(7)} ${fmt(ev.hr[5]!)}   ${fmt(ev.hr[10]!)}   ${fmt(ev.hr[20]!)}   ${fmt(ev.ndcg[10]!)}   ${fmt(row.ssim, 3)}   ${fmt(row.psnr, 1)}    ${fmt(row.linf * 255, 1)}      ${fmt(det.auc, 2)}    ${res.seconds.toFixed(1)}`,
      );
      if (name === 'insa' && budget === Math.max(...budgets)) {
        for (const [d, p] of [['jpeg', { quality: 75 }], ['bit-depth', { bits: 4 }], ['gaussian-blur', { sigma: 1 }], ['median', { size: 3 }]] as const) {
          const list = targets.map((t) => res.images.get(t)!);
          const defended = await applyDefence(d, p, list, size);
          const dm = new Map(targets.map((t, k) => [t, defended[k]!]));
          const evd = await evaluateTargetsHr(victim, ds, targets, await featuresOf(victim.encoder, dm, size));
          const cleanDef = await applyDefence(d, p, targets.map((t) => clean.get(t)!), size);
          const evc = await evaluateTargetsHr(victim, ds, targets, await featuresOf(victim.encoder, new Map(targets.map((t, k) => [t, cleanDef[k]!])), size));
          console.log(`  defence ${d} ${JSON.stringify(p)}: INSA HR@5 ${fmt(evd.hr[5]!)} (clean after defence ${fmt(evc.hr[5]!)})`);
          rows.push({ attack: name, budget, defence: d, defenceParams: p, hr: evd.hr, cleanAfterDefenceHr: evc.hr });
        }
      }
    }
  }
  const out = path.join('auv-out', 'baselines-report.json');
  await writeJsonAtomic(out, { dataset: ds.info, victim: victim.model.kind, clean: cleanEval, rows, seconds: (Date.now() - t0) / 1000 });
  console.log(`wrote ${out} (${((Date.now() - t0) / 1000).toFixed(0)} s total)`);
  victim.model.dispose();
  victim.encoder.dispose();
}

await main();

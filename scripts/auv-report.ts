/**
 * AUV-Fusion report (spec sections 5, 7, 9): on the synthetic catalogue, for each seed, trains the
 * encoders (victim F, surrogate G, semantic C), the victims (VBPR, DeepStyle, AMR), the surrogate
 * recommender, loads the diffusion model, runs AUV-Fusion and its ablations on the cold targets and
 * prints: L_align over training, SSIM(x_adv, x0) and the clean round-trip SSIM, and target
 * HR@5/HR@10 (full-ranking protocol) for clean images, AUV-Fusion and each ablation, mean and 95%
 * interval over seeds. Writes auv-out/auv-report.json.
 *
 *   npx tsx scripts/auv-report.ts [--profile default|tiny] [--seeds 1,2,3] [--targets 50]
 *        [--variants full,no-align,no-latent,id-only,visual-only,per-image] [--steps 20]
 *        [--ddim 50] [--victims vbpr,deepstyle,amr]
 *
 *   npx tsx scripts/auv-report.ts --surrogate-only [--epochs 20]
 *        surrogate recommender quality alone: test HR@10 (full ranking) per view (both | id |
 *        visual) and vs popularity, on 8x8 average-pooled pixels as item features (a stand-in
 *        for G that needs no other module), with fit times.
 *
 *   npx tsx scripts/auv-report.ts --timing [--plans 50:25,20:10]
 *        seconds per Adam step (batch 8) of the attack with the default diffusion architecture
 *        (randomly initialised: timing only) and the test-kit encoders, per DDIM plan n:injectIndex.
 *
 * The encoders, victims, evaluation and diffusion modules belong to other engineers; the few calls
 * into them are gathered in `deps()` below (names from the project briefs).
 */
import * as tf from '@tensorflow/tfjs';
import path from 'node:path';
import { initEngine } from '../src/core/engine.js';
import { writeJsonAtomic } from '../src/core/fsutil.js';
import { Rng } from '../src/core/rng.js';
import { synthesizeCatalogue, type CatalogueProfile } from '../src/data/index.js';
import type { Dataset } from '../src/data/dataset.js';
import type { ImageEncoder } from '../src/encoders/encoder.js';
import type { Recommender, VictimKind } from '../src/recommenders/recommender.js';
import { makeAttackContext } from '../src/attacks/attack.js';
import { createAuvFusionAttack } from '../src/attacks/auv-fusion/index.js';
import { itemFeatures, trainSurrogate } from '../src/preference/train.js';
import { ssimArrays } from '../src/evaluation/image-metrics.js';

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? (process.argv[i + 1] as string) : def;
}

type AnyFn = (...a: unknown[]) => unknown;
interface Deps {
  trainEncoder(ds: Dataset, role: 'victim' | 'surrogate' | 'semantic', seed: number): Promise<ImageEncoder>;
  trainVictim(kind: VictimKind, ds: Dataset, feats: tf.Tensor2D, seed: number): Promise<Recommender>;
  /** HR@k per k over targets x evaluation users, adversarial features replacing the targets' (one at a time). */
  targetHr(model: Recommender, targets: number[], adv: Map<number, Float32Array> | null, ks: number[]): Promise<Record<number, number>>;
  loadDiffusion(): Promise<unknown>;
}

/** The calls into other engineers' modules (loaded lazily so a missing one is reported by name). */
async function deps(evalUsers: Int32Array): Promise<Deps> {
  const need = async (spec: string): Promise<Record<string, AnyFn>> => {
    try {
      return (await import(spec)) as Record<string, AnyFn>;
    } catch (err) {
      throw new Error(`module ${spec} is not available yet (${(err as Error).message.split('\n')[0]})`);
    }
  };
  const enc = await need('../src/encoders/index.js');
  const rec = await need('../src/recommenders/index.js');
  const fr = await need('../src/evaluation/full-ranking.js');
  const dif = await need('../src/diffusion/index.js');
  const fn = (mod: Record<string, AnyFn>, ...names: string[]): AnyFn => {
    for (const n of names) if (typeof mod[n] === 'function') return mod[n]!;
    throw new Error(`none of ${names.join(', ')} exported (have: ${Object.keys(mod).join(', ')})`);
  };
  return {
    trainEncoder: async (ds, role, seed) => (await fn(enc, 'trainEncoder')(ds, { role }, new Rng(seed).fork(`encoder-${role}`))) as ImageEncoder,
    trainVictim: async (kind, ds, feats, seed) => {
      const model = fn(rec, 'createRecommender')(kind, { seed }) as Recommender;
      await model.fit({
        numUsers: ds.userIds.length,
        numItems: ds.itemIds.length,
        train: ds.split.train,
        validation: ds.split.validation,
        excludedNegatives: new Set(ds.targets),
        itemFeatures: feats,
        itemCategory: ds.itemCategory,
        numCategories: ds.categoryNames.length,
      });
      return model;
    },
    targetHr: async (model, targets, adv, ks) => {
      const r = (await fn(fr, 'evaluateTargets')(model, targets, adv, evalUsers, ks)) as { hr: Record<number, number> };
      return r.hr;
    },
    loadDiffusion: async () => fn(dif, 'loadDiffusion')(),
  };
}

function meanCi(xs: number[]): { mean: number; ci95: [number, number] } {
  const n = xs.length;
  const mean = xs.reduce((a, b) => a + b, 0) / n;
  if (n < 2) return { mean, ci95: [mean, mean] };
  const sd = Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1));
  const t = [12.706, 4.303, 3.182, 2.776, 2.571][n - 2] ?? 1.96;
  const h = (t * sd) / Math.sqrt(n);
  return { mean, ci95: [mean - h, mean + h] };
}

/** Surrogate recommender alone (sec. 5): test HR@10 per view vs popularity, pooled-pixel features. */
async function surrogateOnly(profile: CatalogueProfile, epochs: number): Promise<void> {
  const { PreferenceEncoder } = await import('../src/preference/model.js');
  const { loadImageBatch } = await import('../src/data/dataset.js');
  const ds = synthesizeCatalogue({ profile, seed: 1 });
  const n = ds.itemIds.length;
  const U = ds.userIds.length;
  const s = ds.images.size;
  const pool = Math.max(1, Math.floor(s / 8));
  const dim = Math.floor(s / pool) ** 2 * 3;
  const feats = new Float32Array(n * dim);
  for (let b = 0; b < n; b += 256) {
    const items = Array.from({ length: Math.min(256, n - b) }, (_, k) => b + k);
    const x = await loadImageBatch(ds.images, items);
    const f = tf.tidy(() => tf.reshape(tf.avgPool(x, pool, pool, 'valid'), [items.length, dim]));
    feats.set((await f.data()) as Float32Array, b * dim);
    tf.dispose([x, f]);
  }
  const pop = new Float64Array(n);
  for (const it of ds.split.train) for (const i of it) pop[i]++;
  const hr10 = (score: (u: number, i: number) => number): number => {
    let hits = 0;
    let cnt = 0;
    for (let u = 0; u < U; u++) {
      const v = ds.split.test[u]!;
      if (v < 0) continue;
      const seen = new Set(ds.split.train[u]);
      const sc = score(u, v);
      let rank = 0;
      for (let i = 0; i < n; i++) if (i !== v && !seen.has(i) && score(u, i) > sc) rank++;
      cnt++;
      if (rank < 10) hits++;
    }
    return hits / cnt;
  };
  const out: Record<string, unknown> = { profile, epochs, featureDim: dim, popularityHR10: hr10((_, i) => pop[i]!) };
  process.stdout.write(`popularity test HR@10 ${(out.popularityHR10 as number).toFixed(4)}\n`);
  for (const views of ['both', 'id', 'visual'] as const) {
    const { model, report } = await PreferenceEncoder.fit(
      { numUsers: U, numItems: n, train: ds.split.train, features: feats, featDim: dim, excludedNegatives: new Set(ds.targets) },
      { epochs, views },
      new Rng(1),
    );
    const S = model.score(Int32Array.from({ length: U }, (_, i) => i), Int32Array.from({ length: n }, (_, i) => i));
    const sv = await S.data();
    S.dispose();
    const h = hr10((u, i) => sv[u * n + i]!);
    out[views] = { testHR10: h, seconds: report.seconds, secondsPerEpoch: report.secondsPerEpoch, loss: [report.lossCurve[0], report.lossCurve.at(-1)] };
    process.stdout.write(`${views}: fit ${report.seconds.toFixed(1)} s (${report.secondsPerEpoch.toFixed(2)} s/epoch), BPR ${report.lossCurve[0]!.toFixed(3)} -> ${report.lossCurve.at(-1)!.toFixed(3)}, test HR@10 ${h.toFixed(4)}\n`);
  }
  await writeJsonAtomic(path.join('auv-out', 'surrogate-report.json'), out);
}

/** Timing of the attack's Adam step with the default LatentDiffusion architecture (random weights). */
async function timing(plans: [number, number][]): Promise<void> {
  const { LatentDiffusion, DEFAULT_DIFFUSION_MODEL_CONFIG } = (await import('../src/diffusion/model.js')) as {
    LatentDiffusion: new (cfg: unknown, rng: Rng) => { dispose(): void };
    DEFAULT_DIFFUSION_MODEL_CONFIG: unknown;
  };
  const { tinyEncoder } = await import('../src/attacks/auv-fusion/testkit.js');
  const ds = synthesizeCatalogue({ profile: 'default', seed: 1 });
  const G = tinyEncoder(new Rng(1), ds.images.size, 32);
  const C = tinyEncoder(new Rng(2), ds.images.size, 32);
  const sur = await trainSurrogate(ds, await itemFeatures(G, ds), { epochs: 2 }, 1);
  const diff = new LatentDiffusion(DEFAULT_DIFFUSION_MODEL_CONFIG, new Rng(3));
  for (const [ddim, inj] of plans) {
    const atk = createAuvFusionAttack({ steps: 3, batchSize: 8, ddimSteps: ddim, injectIndex: inj });
    const r = await atk.generate(ds.targets.slice(0, 8), makeAttackContext(atk, { rng: new Rng(1), dataset: ds, surrogateEncoder: G, semanticEncoder: C, surrogateRecommender: sur.model, diffusion: diff }));
    const st = r.log.filter((l) => l.final === undefined).map((l) => l.seconds as number);
    process.stdout.write(`DDIM ${ddim} steps, inject at ${inj} (${ddim - inj} chain steps): Adam step on 8 targets ${((st[2]! - st[0]!) / 2).toFixed(2)} s; run of 3 steps + final images ${r.seconds.toFixed(1)} s\n`);
  }
  diff.dispose();
}

async function main(): Promise<void> {
  await initEngine();
  if (process.argv.includes('--timing')) return timing(arg('plans', '50:25,20:10').split(',').map((p) => p.split(':').map(Number) as [number, number]));
  if (process.argv.includes('--surrogate-only')) return surrogateOnly(arg('profile', 'default') as CatalogueProfile, Number(arg('epochs', '20')));
  const profile = arg('profile', 'default') as CatalogueProfile;
  const seeds = arg('seeds', '1,2,3').split(',').map(Number);
  const variants = arg('variants', 'full,no-align,no-latent,id-only,visual-only,per-image').split(',');
  const victims = arg('victims', 'vbpr,deepstyle,amr').split(',') as VictimKind[];
  const steps = Number(arg('steps', '20'));
  const ddim = Number(arg('ddim', '50'));
  const ks = [5, 10];
  const ds = synthesizeCatalogue({ profile, seed: 1 });
  // evaluation users: every user with training interactions (full-ranking protocol, sec. 9)
  const D = await deps(Int32Array.from(ds.split.train.flatMap((items, u) => (items.length > 0 ? [u] : []))));
  const targets = ds.targets.slice(0, Number(arg('targets', '50')));
  const size = ds.images.size;
  const diffusion = await D.loadDiffusion();
  const hr: Record<string, Record<string, number[]>> = {}; // `${victim}|${attack}` -> `HR@k` -> per seed
  const perSeed: unknown[] = [];
  const add = (victim: string, attack: string, r: Record<number, number>): void => {
    const key = `${victim}|${attack}`;
    hr[key] ??= {};
    for (const k of ks) (hr[key]![`HR@${k}`] ??= []).push(r[k]!);
  };
  for (const seed of seeds) {
    const t0 = Date.now();
    const F = await D.trainEncoder(ds, 'victim', seed);
    const G = await D.trainEncoder(ds, 'surrogate', seed);
    const C = await D.trainEncoder(ds, 'semantic', seed);
    const fF = await itemFeatures(F, ds);
    const feats = tf.tensor2d(fF.data, [ds.itemIds.length, fF.dim]);
    const models = new Map<string, Recommender>();
    for (const v of victims) models.set(v, await D.trainVictim(v, ds, feats, seed));
    const gF = await itemFeatures(G, ds);
    const sur = await trainSurrogate(ds, gF, {}, seed);
    const tPrep = (Date.now() - t0) / 1000;
    for (const [v, m] of models) add(v, 'clean', await D.targetHr(m, targets, null, ks));
    const seedRow: Record<string, unknown> = { seed, prepSeconds: tPrep, surrogateLoss: sur.report.lossCurve };
    for (const variant of variants) {
      const atk = createAuvFusionAttack({ steps, ddimSteps: ddim }, variant === 'full' ? undefined : variant);
      const ctx = makeAttackContext(atk, {
        rng: new Rng(seed),
        dataset: ds,
        surrogateEncoder: G,
        semanticEncoder: C,
        surrogateRecommender: sur.model,
        diffusion,
      });
      const res = await atk.generate(targets, ctx);
      // victim features of the adversarial images (F is the victim's encoder: evaluation only)
      const adv = new Map<number, Float32Array>();
      for (const [item, img] of res.images) {
        const f = tf.tidy(() => F.encode(tf.tensor4d(img, [1, size, size, 3])));
        adv.set(item, (await f.data()) as Float32Array);
        f.dispose();
      }
      for (const [v, m] of models) add(v, atk.name, await D.targetHr(m, targets, adv, ks));
      let s = 0;
      for (const [item, img] of res.images) s += ssimArrays(img, await ds.images.load(item), size);
      const fin = res.log[res.log.length - 1]!;
      const trainLog = res.log.filter((l) => l.final === undefined);
      seedRow[atk.name] = {
        seconds: res.seconds,
        secondsPerStep: trainLog.length ? (trainLog[trainLog.length - 1]!.seconds as number) / trainLog.length : 0,
        ssimAdv: s / res.images.size,
        ssimCleanRoundTrip: fin.ssimCleanRoundTrip,
        cosAlign: { adv: fin.cosAlignAdv, roundTrip: fin.cosAlignRoundTrip, clean: fin.cosAlignClean },
        L_align: trainLog.map((l) => l.L_align),
      };
      process.stdout.write(`seed ${seed} ${atk.name}: ${res.seconds.toFixed(1)} s, SSIM ${(s / res.images.size).toFixed(3)} (round trip ${fin.ssimCleanRoundTrip?.toFixed(3)}), L_align ${trainLog[0]?.L_align?.toFixed(4)} -> ${trainLog.at(-1)?.L_align?.toFixed(4)}\n`);
    }
    perSeed.push(seedRow);
    feats.dispose();
    for (const m of models.values()) m.dispose();
    for (const e of [F, G, C]) e.dispose();
  }
  const rows = Object.entries(hr).flatMap(([key, metrics]) => {
    const [victim, attack] = key.split('|');
    return Object.entries(metrics).map(([metric, xs]) => ({ victim, attack, metric, n: xs.length, ...meanCi(xs) }));
  });
  process.stdout.write('\nvictim     attack                       metric   mean      95% CI\n');
  for (const r of rows) process.stdout.write(`${r.victim!.padEnd(10)} ${r.attack!.padEnd(28)} ${r.metric.padEnd(7)} ${r.mean.toFixed(5)}  [${r.ci95[0].toFixed(5)}, ${r.ci95[1].toFixed(5)}]\n`);
  await writeJsonAtomic(path.join('auv-out', 'auv-report.json'), { profile, seeds, targets: targets.length, steps, ddim, rows, perSeed });
}

main().catch((err: unknown) => {
  process.stderr.write(`auv-report: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});

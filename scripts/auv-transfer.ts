/**
 * Transfer diagnostic for AUV-Fusion (issue 5): does an attack lift its target under the
 * attacker's own surrogate recommender, under the victim, or both?
 *
 * Reads a finished experiment's artefact cache (after `auv-fusion demo` or `run`), and for one seed
 * prints, per attack, the mean rank of the 60 targets among all items (each user's training items
 * excluded; one target at a time, the others clean) and HR@50, under
 *   - the surrogate preference encoder (s = e_u . (e_i,id + P G(x) + b), the score AUV-Fusion aims at),
 *   - each visual victim (s computed from F(x) by the victim's scoreWithFeatures).
 * A black-box attack that lifts the surrogate but not the victim fails to transfer; one that lifts
 * neither fails to optimise its own objective.
 *
 *   npx tsx scripts/auv-transfer.ts [cacheDir=.auv-cache] [seed=1] [users=600]
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { initEngine } from '../src/core/engine.js';
import { openDataset } from '../src/data/open.js';
import { loadImageBatch } from '../src/data/dataset.js';
import type { ImageEncoder } from '../src/encoders/encoder.js';
import { evaluateTargets, type RankableModel } from '../src/evaluation/full-ranking.js';
import { loadEncoder } from '../src/encoders/resnet.js';
import { PreferenceEncoder } from '../src/preference/model.js';
import { loadRecommender } from '../src/recommenders/models.js';
import type { Recommender } from '../src/recommenders/recommender.js';

interface Entry {
  dir: string;
  stage: string;
  deps: Record<string, unknown>;
}

async function entries(cache: string): Promise<Entry[]> {
  const out: Entry[] = [];
  for (const stage of await fs.readdir(cache)) {
    for (const h of await fs.readdir(path.join(cache, stage)).catch(() => [] as string[])) {
      const f = path.join(cache, stage, h, '.complete');
      const text = await fs.readFile(f, 'utf8').catch(() => null);
      if (text) out.push({ dir: path.join(cache, stage, h), ...(JSON.parse(text) as { stage: string; deps: Record<string, unknown> }) });
    }
  }
  return out;
}

/** Mean rank (over targets and users) and HR@50 of the targets under `model` with these target features. */
async function rankStats(model: RankableModel, targets: number[], features: Map<number, Float32Array>, users: number[], train: readonly (readonly number[])[], numItems: number): Promise<string> {
  const r = await evaluateTargets(model, targets, features, users, { train, ks: [50], numItems });
  const meanRank = r.perTarget.reduce((acc, p) => acc + p.meanRank, 0) / Math.max(1, r.perTarget.length);
  return `${meanRank.toFixed(0).padStart(5)} (${r.hr[50]!.toFixed(3)})`;
}

/** Features of the target images under `encoder`, as target -> feature vector. */
async function featureMap(encoder: ImageEncoder, x: tf.Tensor4D, targets: number[]): Promise<Map<number, Float32Array>> {
  const f = tf.tidy(() => encoder.encode(x));
  const d = (await f.data()) as Float32Array;
  f.dispose();
  const dim = d.length / targets.length;
  return new Map(targets.map((t, k) => [t, d.slice(k * dim, (k + 1) * dim)]));
}

async function main(): Promise<void> {
  await initEngine();
  const cache = process.argv[2] ?? '.auv-cache';
  const seed = Number(process.argv[3] ?? 1);
  const nUsers = Number(process.argv[4] ?? 600);
  const all = await entries(cache);
  const surrogateEntry = all.find((e) => e.stage === 'surrogate' && e.deps.seed === seed);
  if (!surrogateEntry) throw new Error(`${cache}: no surrogate for seed ${seed}`);
  const dataKey = surrogateEntry.deps.data as { dataset: string };
  const ds = await openDataset(dataKey.dataset);
  const nItems = ds.itemIds.length;
  const train = ds.split.train;
  const targets = [...ds.targets];
  const users = train.flatMap((l, u) => (l.length > 0 ? [u] : [])).slice(0, nUsers);
  const enc = (role: string) => all.find((e) => e.stage === 'encoder' && e.deps.role === role);
  const F = await loadEncoder(enc('victim')!.dir);
  const G = await loadEncoder(enc('surrogate')!.dir);
  const pref = await PreferenceEncoder.load(surrogateEntry.dir);
  const size = ds.images.size;
  const per = size * size * 3;

  // images per attack: clean, and every cached attack of this seed (white-box ones per victim)
  const attacks = all.filter((e) => e.stage === 'attack' && e.deps.seed === seed);
  const imagesOf = async (e: Entry | null): Promise<tf.Tensor4D> => {
    if (!e) return loadImageBatch(ds.images, targets);
    const buf = await fs.readFile(path.join(e.dir, 'images.f32'));
    const f = new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
    if (f.length !== targets.length * per) throw new Error(`${e.dir}: ${f.length} values, expected ${targets.length * per}`);
    return tf.tensor4d(f, [targets.length, size, size, 3]);
  };

  // the surrogate as a scorer: s(u,i) = e_u . (e_i,id + h_i); a target with features g = G(x)
  // scores e_u . (e_i,id + P g + b), its visual part unpropagated, exactly what L_align shapes
  const eUAll = pref.userEmbeddings();
  const surrogate: RankableModel = {
    visual: true,
    score: (u, i) => pref.score(u, i),
    scoreWithFeatures: (u, items, g) =>
      tf.tidy(() => {
        const id = tf.tensor2d(Array.from(items).flatMap((t) => Array.from(pref.itemIdVector(t))), [items.length, pref.config.dim]);
        return tf.matMul(tf.gather(eUAll, u), tf.add(id, pref.project(g)), false, true) as tf.Tensor2D;
      }),
  };

  const victimEntries = all.filter((e) => e.stage === 'victim' && e.deps.seed === seed && e.deps.kind !== 'bpr-mf');
  const victims: { kind: string; model: Recommender }[] = [];
  for (const v of victimEntries) victims.push({ kind: String(v.deps.kind), model: await loadRecommender(v.dir) });

  console.log(`seed ${seed}, ${users.length} users, ${targets.length} targets, ${nItems} items: mean rank (HR@50)`);
  console.log(`${'attack'.padEnd(34)}${'surrogate'.padEnd(20)}${victims.map((v) => v.kind.padEnd(18)).join(' ')}`);
  const rowsToRun: { name: string; entry: Entry | null; forVictim: string | null }[] = [{ name: 'none', entry: null, forVictim: null }];
  for (const a of attacks) {
    const ap = a.deps.params as { steps?: number; budget?: number; lr?: number };
    const label = `${String(a.deps.attack)}${ap.steps !== undefined ? ` s${ap.steps}` : ''}${ap.budget ? ` e${ap.budget}` : ''}${ap.lr !== undefined && ap.budget ? ` lr${+ap.lr.toFixed(4)}` : ''}`;
    const vh = a.deps.victim as string | null;
    const vk = vh ? victimEntries.find((v) => path.basename(v.dir) === vh)?.deps.kind : null;
    rowsToRun.push({ name: label + (vk ? ` @${String(vk)}` : ''), entry: a, forVictim: vk ? String(vk) : null });
  }
  for (const r of rowsToRun) {
    const x = await imagesOf(r.entry);
    const cells = [(await rankStats(surrogate, targets, await featureMap(G, x, targets), users, train, nItems)).padEnd(19)];
    const fx = await featureMap(F, x, targets);
    for (const v of victims) {
      const skip = r.forVictim !== null && r.forVictim !== v.kind;
      cells.push((skip ? '' : await rankStats(v.model, targets, fx, users, train, nItems)).padEnd(18));
    }
    console.log(`${r.name.padEnd(34)}${cells.join(' ')}`);
    x.dispose();
  }
  eUAll.dispose();
  for (const v of victims) v.model.dispose();
  F.dispose();
  G.dispose();
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});

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

/** Mean rank and HR@50 of each target: `base` is users x items scores, `col(t)` the target's column. */
function rankStats(base: Float32Array, nItems: number, users: number[], train: readonly (readonly number[])[], targets: number[], col: (k: number) => Float32Array): { meanRank: number; hr50: number } {
  let sum = 0;
  let hits = 0;
  let n = 0;
  targets.forEach((t, k) => {
    const c = col(k);
    users.forEach((u, r) => {
      const seen = new Set(train[u]);
      const x = c[r]!;
      let rank = 0;
      const row = base.subarray(r * nItems, (r + 1) * nItems);
      for (let i = 0; i < nItems; i++) if (i !== t && !seen.has(i) && row[i]! > x) rank++;
      sum += rank;
      if (rank < 50) hits++;
      n++;
    });
  });
  return { meanRank: sum / n, hr50: hits / n };
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

  // surrogate: base scores of every item, target column e_u . (e_t,id + P G(x) + b)
  const prefBase = pref.score(Int32Array.from(users), Int32Array.from({ length: nItems }, (_, i) => i));
  const prefScores = (await prefBase.data()) as Float32Array;
  prefBase.dispose();
  const eU = tf.gather(pref.userEmbeddings(), Int32Array.from(users));
  const surrogateCol = async (x: tf.Tensor4D): Promise<Float32Array[]> => {
    const s = tf.tidy(() => {
      const d = pref.config.dim;
      const idPart = tf.tensor2d(targets.flatMap((t) => Array.from(pref.itemIdVector(t))), [targets.length, d]);
      // the target's visual part is P G(x) + b (unpropagated), exactly what L_align shapes
      const v = idPart.add(pref.project(G.encode(x)));
      return eU.matMul(v.transpose());
    });
    const d = (await s.data()) as Float32Array;
    s.dispose();
    return targets.map((_, k) => Float32Array.from(users, (_u, r) => d[r * targets.length + k]!));
  };

  const victimEntries = all.filter((e) => e.stage === 'victim' && e.deps.seed === seed && e.deps.kind !== 'bpr-mf');
  const victims: { kind: string; model: Recommender; base: Float32Array }[] = [];
  for (const v of victimEntries) {
    const model = await loadRecommender(v.dir);
    const b = model.score(Int32Array.from(users), Int32Array.from({ length: nItems }, (_, i) => i));
    victims.push({ kind: String(v.deps.kind), model, base: (await b.data()) as Float32Array });
    b.dispose();
  }
  const victimCol = async (m: Recommender, x: tf.Tensor4D): Promise<Float32Array[]> => {
    const s = tf.tidy(() => m.scoreWithFeatures(Int32Array.from(users), Int32Array.from(targets), F.encode(x)));
    const d = (await s.data()) as Float32Array;
    s.dispose();
    return targets.map((_, k) => Float32Array.from(users, (_u, r) => d[r * targets.length + k]!));
  };

  console.log(`seed ${seed}, ${users.length} users, ${targets.length} targets, ${nItems} items: mean rank (HR@50)`);
  console.log(`${"attack".padEnd(34)}surrogate          ${victims.map((v) => v.kind.padEnd(18)).join(' ')}`);
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
    const sc = await surrogateCol(x);
    const sRes = rankStats(prefScores, nItems, users, train, targets, (k) => sc[k]!);
    const cells: string[] = [];
    for (const v of victims) {
      if (r.forVictim && r.forVictim !== v.kind) {
        cells.push(''.padEnd(18));
        continue;
      }
      const vc = await victimCol(v.model, x);
      const res = rankStats(v.base, nItems, users, train, targets, (k) => vc[k]!);
      cells.push(`${res.meanRank.toFixed(0).padStart(5)} (${res.hr50.toFixed(3)})`.padEnd(18));
    }
    console.log(`${r.name.padEnd(34)}${`${sRes.meanRank.toFixed(0).padStart(5)} (${sRes.hr50.toFixed(3)})`.padEnd(19)}${cells.join(' ')}`);
    x.dispose();
  }
  eU.dispose();
  for (const v of victims) v.model.dispose();
  F.dispose();
  G.dispose();
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});

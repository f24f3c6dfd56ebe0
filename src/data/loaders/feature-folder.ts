/**
 * Output folder of a feature-only import (no pixels, so the generic folder format cannot hold it):
 * the folder format's interactions.csv / items.csv / targets.txt / dataset.json, plus
 * features.f32 (numItems x dim little-endian float32, item order of items.csv). `dataset.json`
 * has format 'auv-fusion-features/1' and `featureDim`.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { InputError } from '../../core/errors.js';
import { writeDirAtomic } from '../../core/fsutil.js';
import type { Dataset, Interaction } from '../dataset.js';
import { leaveOneOutSplit, itemsWithoutTraining } from '../split.js';
import { Rng } from '../../core/rng.js';
import { NoPixelsImageSource } from './common.js';

export const FEATURE_FOLDER_FORMAT = 'auv-fusion-features/1';

function csv(s: string): string {
  return /[",\n\r]/.test(s) || s !== s.trim() ? `"${s.replace(/"/g, '""')}"` : s;
}

export async function writeFeatureFolder(ds: Dataset, dir: string): Promise<void> {
  const f = ds.precomputedFeatures;
  if (!f) throw new InputError('dataset has no precomputed features', dir);
  const timed = ds.interactions.every((it) => Number.isFinite(it.timestamp));
  await writeDirAtomic(dir, async (tmp) => {
    const rows = [timed ? 'user,item,timestamp' : 'user,item'];
    for (const it of ds.interactions) rows.push(`${csv(ds.userIds[it.user]!)},${csv(ds.itemIds[it.item]!)}${timed ? `,${it.timestamp}` : ''}`);
    await fs.writeFile(path.join(tmp, 'interactions.csv'), rows.join('\n') + '\n');
    const cat = ds.itemCategory;
    const items = [cat ? 'item,category' : 'item'];
    ds.itemIds.forEach((id, i) => items.push(cat ? `${csv(id)},${csv(ds.categoryNames[cat[i]!] ?? '')}` : csv(id)));
    await fs.writeFile(path.join(tmp, 'items.csv'), items.join('\n') + '\n');
    if (ds.targets.length) await fs.writeFile(path.join(tmp, 'targets.txt'), ds.targets.map((t) => ds.itemIds[t]).join('\n') + '\n');
    const buf = Buffer.alloc(f.data.length * 4);
    for (let k = 0; k < f.data.length; k++) buf.writeFloatLE(f.data[k]!, 4 * k);
    await fs.writeFile(path.join(tmp, 'features.f32'), buf);
    const json = {
      format: FEATURE_FOLDER_FORMAT,
      name: ds.info.name,
      profile: ds.info.profile,
      seed: ds.info.seed,
      source: ds.info.source,
      featureDim: f.dim,
      ...(cat ? { categories: [...ds.categoryNames] } : {}),
      counts: { users: ds.userIds.length, items: ds.itemIds.length, interactions: ds.interactions.length, targets: ds.targets.length },
    };
    await fs.writeFile(path.join(tmp, 'dataset.json'), JSON.stringify(json, null, 2) + '\n');
  });
}

/** Read a folder written by writeFeatureFolder (leave-one-out split recomputed with the seed). */
export async function readFeatureFolder(dir: string): Promise<Dataset> {
  const jf = path.join(dir, 'dataset.json');
  let meta: { format?: string; name?: string; seed?: number; source?: string; featureDim?: number; categories?: string[] };
  try {
    meta = JSON.parse(await fs.readFile(jf, 'utf8'));
  } catch (err) {
    throw new InputError(`cannot read: ${(err as Error).message}`, jf);
  }
  if (meta.format !== FEATURE_FOLDER_FORMAT || !meta.featureDim) throw new InputError(`not a feature-only dataset folder (format ${meta.format})`, jf);
  const itemLines = (await fs.readFile(path.join(dir, 'items.csv'), 'utf8')).split('\n').filter(Boolean);
  const hasCat = itemLines[0] === 'item,category';
  const unq = (s: string): string => (s.startsWith('"') ? s.slice(1, -1).replace(/""/g, '"') : s);
  const itemIds: string[] = [];
  const catNames = meta.categories ?? [];
  const cats: number[] = [];
  for (const l of itemLines.slice(1)) {
    const m = /^("(?:[^"]|"")*"|[^,]*)(?:,(.*))?$/.exec(l)!;
    itemIds.push(unq(m[1]!));
    if (hasCat) cats.push(Math.max(0, catNames.indexOf(unq(m[2] ?? ''))));
  }
  const itemIndex = new Map(itemIds.map((id, i) => [id, i]));
  const users = new Map<string, number>();
  const interactions: Interaction[] = [];
  const inter = (await fs.readFile(path.join(dir, 'interactions.csv'), 'utf8')).split('\n').filter(Boolean);
  const timed = inter[0] === 'user,item,timestamp';
  inter.slice(1).forEach((l, k) => {
    const parts = l.match(/("(?:[^"]|"")*"|[^,]*)/g)!.filter((_, j) => j % 2 === 0).map(unq);
    const item = itemIndex.get(parts[1]!);
    if (item === undefined) throw new InputError(`item '${parts[1]}' is not in items.csv`, path.join(dir, 'interactions.csv'), k + 2);
    if (!users.has(parts[0]!)) users.set(parts[0]!, users.size);
    interactions.push(timed ? { user: users.get(parts[0]!)!, item, timestamp: Number(parts[2]) } : { user: users.get(parts[0]!)!, item });
  });
  const raw = await fs.readFile(path.join(dir, 'features.f32'));
  if (raw.length !== itemIds.length * meta.featureDim * 4) throw new InputError(`expected ${itemIds.length} x ${meta.featureDim} float32`, path.join(dir, 'features.f32'));
  const data = new Float32Array(itemIds.length * meta.featureDim);
  for (let k = 0; k < data.length; k++) data[k] = raw.readFloatLE(4 * k);
  const seed = meta.seed ?? 0;
  const split = leaveOneOutSplit(users.size, interactions, { rng: new Rng(seed).fork('split') });
  let targets: number[];
  try {
    targets = (await fs.readFile(path.join(dir, 'targets.txt'), 'utf8')).split('\n').filter(Boolean).map((id) => itemIndex.get(id)!).filter((i) => i !== undefined);
  } catch {
    targets = itemsWithoutTraining(split, itemIds.length);
  }
  const name = meta.name ?? path.basename(dir);
  return {
    info: { name, profile: 'imported', seed, source: meta.source ?? dir },
    userIds: [...users.keys()],
    itemIds,
    itemCategory: hasCat ? Int32Array.from(cats) : null,
    categoryNames: hasCat ? catNames : [],
    interactions,
    images: new NoPixelsImageSource(name),
    split,
    targets,
    precomputedFeatures: { dim: meta.featureDim, data },
  };
}

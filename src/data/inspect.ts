/** Dataset statistics and a contact sheet of sample items per category (`data inspect`). */
import type { Dataset } from './dataset.js';
import { contactSheet, encodePngRgb } from './png.js';
import { itemsWithoutTraining } from './split.js';

export interface DatasetStats {
  users: number;
  items: number;
  interactions: number;
  density: number;
  timestamped: number;
  perUser: { min: number; median: number; mean: number; max: number };
  perItem: { min: number; median: number; mean: number; max: number };
  trainInteractions: number;
  usersWithTest: number;
  usersWithValidation: number;
  coldItems: number;
  targets: number;
  coldTargets: number;
  /** Share of interactions on the 10% most popular items. */
  top10Share: number;
  categories: { name: string; items: number; targets: number }[];
  imageSize: number;
  hasPixels: boolean;
}

function summary(xs: number[]): { min: number; median: number; mean: number; max: number } {
  if (xs.length === 0) return { min: 0, median: 0, mean: 0, max: 0 };
  const s = [...xs].sort((a, b) => a - b);
  return { min: s[0]!, median: s[Math.floor(s.length / 2)]!, mean: s.reduce((a, b) => a + b, 0) / s.length, max: s[s.length - 1]! };
}

export function datasetStats(ds: Dataset): DatasetStats {
  const nu = ds.userIds.length,
    ni = ds.itemIds.length;
  const pu = new Array<number>(nu).fill(0),
    pi = new Array<number>(ni).fill(0);
  let timestamped = 0;
  for (const it of ds.interactions) {
    pu[it.user]! += 1;
    pi[it.item]! += 1;
    if (it.timestamp !== undefined) timestamped++;
  }
  const sortedItems = [...pi].sort((a, b) => b - a);
  const top = sortedItems.slice(0, Math.max(1, Math.round(ni / 10))).reduce((a, b) => a + b, 0);
  const cold = itemsWithoutTraining(ds.split, ni);
  const coldSet = new Set(cold);
  const cats: { name: string; items: number; targets: number }[] = [];
  if (ds.itemCategory) {
    for (const name of ds.categoryNames) cats.push({ name, items: 0, targets: 0 });
    for (let i = 0; i < ni; i++) cats[ds.itemCategory[i]!]!.items++;
    for (const t of ds.targets) cats[ds.itemCategory[t]!]!.targets++;
  }
  return {
    users: nu,
    items: ni,
    interactions: ds.interactions.length,
    density: nu * ni > 0 ? ds.interactions.length / (nu * ni) : 0,
    timestamped,
    perUser: summary(pu),
    perItem: summary(pi),
    trainInteractions: ds.split.train.reduce((a, l) => a + l.length, 0),
    usersWithTest: Array.from(ds.split.test).filter((x) => x >= 0).length,
    usersWithValidation: Array.from(ds.split.validation).filter((x) => x >= 0).length,
    coldItems: cold.length,
    targets: ds.targets.length,
    coldTargets: ds.targets.filter((t) => coldSet.has(t)).length,
    top10Share: ds.interactions.length ? top / ds.interactions.length : 0,
    categories: cats,
    imageSize: ds.images.size,
    hasPixels: ds.images.hasPixels,
  };
}

const f = (x: number, d = 1): string => (Number.isInteger(x) ? String(x) : x.toFixed(d));

/** Human-readable report lines. */
export function formatStats(ds: Dataset, s: DatasetStats): string[] {
  const out = [
    `dataset      ${ds.info.name} (profile ${ds.info.profile}, seed ${ds.info.seed})`,
    `source       ${ds.info.source}`,
    `users        ${s.users}`,
    `items        ${s.items}`,
    `interactions ${s.interactions} (density ${(s.density * 100).toFixed(3)}%, ${s.timestamped} with timestamps)`,
    `per user     min ${s.perUser.min} / median ${s.perUser.median} / mean ${f(s.perUser.mean)} / max ${s.perUser.max}`,
    `per item     min ${s.perItem.min} / median ${s.perItem.median} / mean ${f(s.perItem.mean)} / max ${s.perItem.max}; top 10% of items hold ${(s.top10Share * 100).toFixed(1)}% of interactions`,
    `split        train ${s.trainInteractions}, validation users ${s.usersWithValidation}, test users ${s.usersWithTest} (leave-one-out)`,
    `cold items   ${s.coldItems} with no training interaction`,
    `targets      ${s.targets} (${s.coldTargets} cold)`,
  ];
  if (s.categories.length) out.push(`categories   ${s.categories.map((c) => `${c.name} ${c.items}${c.targets ? ` (${c.targets} targets)` : ''}`).join(', ')}`);
  else out.push('categories   none');
  return out;
}

/**
 * A PNG contact sheet: one row of up to `perRow` items per category (targets first), or rows of items when the dataset has no categories.
 */
export async function datasetContactSheet(ds: Dataset, perRow = 10): Promise<{ png: Buffer; width: number; height: number; items: number }> {
  if (!ds.images.hasPixels) throw new Error('this dataset has no pixel images');
  const groups: number[][] = [];
  if (ds.itemCategory) {
    for (let c = 0; c < ds.categoryNames.length; c++) groups.push([]);
    const order = [...ds.targets, ...ds.itemIds.keys()];
    const seen = new Set<number>();
    for (const i of order) {
      if (seen.has(i)) continue;
      seen.add(i);
      const g = groups[ds.itemCategory[i]!]!;
      if (g.length < perRow) g.push(i);
    }
  } else {
    const n = Math.min(ds.itemIds.length, perRow * 8);
    for (let i = 0; i < n; i++) {
      if (i % perRow === 0) groups.push([]);
      groups[groups.length - 1]!.push(i);
    }
  }
  const rows: Float32Array[][] = [];
  let items = 0;
  for (const g of groups) {
    const row: Float32Array[] = [];
    for (const i of g) row.push(await ds.images.load(i));
    items += row.length;
    rows.push(row);
  }
  const sheet = contactSheet(rows, ds.images.size);
  return { png: encodePngRgb(sheet.pixels, sheet.width, sheet.height), width: sheet.width, height: sheet.height, items };
}

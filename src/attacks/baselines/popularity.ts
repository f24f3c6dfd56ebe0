/** Popularity statistics an attacker can compute from public training interactions. */
import type { AttackContext } from '../attack.js';

/** Per-item number of training interactions. */
export function itemCounts(train: readonly (readonly number[])[], numItems: number): Int32Array {
  const c = new Int32Array(numItems);
  for (const items of train) for (const i of items) c[i] = (c[i] ?? 0) + 1;
  return c;
}

/** The most popular training item overall, and per category (-1 when a category has none). */
export function popularItems(ctx: AttackContext): { overall: number; byCategory: Int32Array | null; counts: Int32Array } {
  const ds = ctx.dataset();
  const counts = itemCounts(ctx.trainInteractions(), ds.itemIds.length);
  let overall = 0;
  for (let i = 1; i < counts.length; i++) if ((counts[i] as number) > (counts[overall] as number)) overall = i;
  let byCategory: Int32Array | null = null;
  if (ds.itemCategory) {
    byCategory = new Int32Array(ds.categoryNames.length).fill(-1);
    for (let i = 0; i < counts.length; i++) {
      const c = ds.itemCategory[i] as number;
      if (c < 0 || (counts[i] as number) === 0) continue;
      const cur = byCategory[c] as number;
      if (cur < 0 || (counts[i] as number) > (counts[cur] as number)) byCategory[c] = i;
    }
  }
  return { overall, byCategory, counts };
}

/** Category with the most training interactions. */
export function popularCategory(itemCategory: Int32Array, counts: Int32Array, numCategories: number): number {
  const tot = new Float64Array(numCategories);
  for (let i = 0; i < counts.length; i++) {
    const c = itemCategory[i] as number;
    if (c >= 0) tot[c] = (tot[c] as number) + (counts[i] as number);
  }
  let best = 0;
  for (let c = 1; c < numCategories; c++) if ((tot[c] as number) > (tot[best] as number)) best = c;
  return best;
}

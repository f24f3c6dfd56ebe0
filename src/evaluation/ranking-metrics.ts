/**
 * Ranking metrics (spec section 9). A rank is 0-based: the number of competing items scored
 * strictly higher than the item of interest.
 */

/** HR@k of one rank: 1 when rank < k, else 0. */
export function hitAt(rank: number, k: number): number {
  return rank < k ? 1 : 0;
}

/** NDCG@k of one rank with a single relevant item: 1/log2(rank+2) when rank < k, else 0. */
export function ndcgAt(rank: number, k: number): number {
  return rank < k ? 1 / Math.log2(rank + 2) : 0;
}

/**
 * AUC of one positive against negatives: fraction of negatives scored strictly below the positive,
 * ties counting one half.
 */
export function aucOf(pos: number, negatives: ArrayLike<number>): number {
  if (negatives.length === 0) return NaN;
  let below = 0;
  for (let i = 0; i < negatives.length; i++) {
    const x = negatives[i]!;
    if (x < pos) below += 1;
    else if (x === pos) below += 0.5;
  }
  return below / negatives.length;
}

/**
 * 0-based rank of `score[item]` in `row` among items not in `exclude` (and not `item` itself):
 * count of such items with a strictly higher score.
 */
export function rankInRow(row: ArrayLike<number>, item: number, exclude: ReadonlySet<number> | null, x = row[item]!): number {
  let r = 0;
  for (let i = 0; i < row.length; i++) if (i !== item && row[i]! > x && !(exclude && exclude.has(i))) r++;
  return r;
}

/** Running mean of HR@k / NDCG@k over ranks, for several k. */
export class RankAccumulator {
  private n = 0;
  private readonly hits: number[];
  private readonly gains: number[];
  constructor(readonly ks: readonly number[]) {
    this.hits = ks.map(() => 0);
    this.gains = ks.map(() => 0);
  }
  add(rank: number): void {
    this.n++;
    this.ks.forEach((k, j) => {
      this.hits[j]! += hitAt(rank, k);
      this.gains[j]! += ndcgAt(rank, k);
    });
  }
  get count(): number {
    return this.n;
  }
  hr(): Record<number, number> {
    return Object.fromEntries(this.ks.map((k, j) => [k, this.n ? this.hits[j]! / this.n : 0]));
  }
  ndcg(): Record<number, number> {
    return Object.fromEntries(this.ks.map((k, j) => [k, this.n ? this.gains[j]! / this.n : 0]));
  }
}

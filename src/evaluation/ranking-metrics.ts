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

/**
 * Counts, for any threshold x, how many of a set of candidate scores are strictly above x; built
 * once per user row, queried once per target. A counting sort into equal-width buckets between the
 * scores' min and max (two linear passes instead of an n log n sort: the full-ranking protocol
 * does this for every user against every item, 34k x 110k at Amazon-Men size); a query adds up the
 * buckets above x's bucket and compares only the scores in x's own bucket, which is sorted (once)
 * when it is large, so ties and skewed scores stay exact and cheap. The bucket of a score is a
 * monotone function of it, so every score in a higher bucket is above x and every score in a lower
 * bucket is not. NaN scores never count as above; a NaN threshold counts 0.
 */
export class AboveCounter {
  private grouped: Float32Array;
  private start = new Int32Array(2);
  private sortedFlag = new Uint8Array(1);
  private buckets = 1;
  private n = 0;
  private min = 0;
  private max = 0;
  private scale = 0;

  constructor(capacity = 0) {
    this.grouped = new Float32Array(capacity);
  }

  /**
   * Take the candidates: `values[i]` for every i with no `exclude[i]` (copied; the caller may reuse
   * its buffers). Returns the number of candidates (NaN scores included).
   */
  reset(values: ArrayLike<number>, exclude?: Uint8Array): number {
    let n = 0;
    let nan = 0;
    let min = Infinity;
    let max = -Infinity;
    for (let i = 0; i < values.length; i++) {
      if (exclude && exclude[i]) continue;
      const y = values[i]!;
      if (y === y) {
        n++;
        if (y < min) min = y;
        if (y > max) max = y;
      } else nan++;
    }
    if (this.grouped.length < n) this.grouped = new Float32Array(n);
    const finiteRange = Number.isFinite(max - min) && max > min;
    const B = finiteRange ? Math.max(1, Math.min(1 << 16, n >> 3)) : 1;
    if (this.start.length < B + 2) this.start = new Int32Array(B + 2);
    if (this.sortedFlag.length < B) this.sortedFlag = new Uint8Array(B);
    const start = this.start;
    start.fill(0, 0, B + 2);
    this.sortedFlag.fill(0, 0, B);
    this.n = n;
    this.min = min;
    this.max = max;
    this.buckets = B;
    const scale = (this.scale = finiteRange ? B / (max - min) : 0);
    const top = B - 1;
    // histogram into start[b + 2], prefix sums, then place (start[b + 1] advances to the end of b);
    // the bucket formula is bucketOf's, inlined (NaN * 0 and (+-Infinity) * 0 land in bucket top = 0)
    for (let i = 0; i < values.length; i++) {
      if (exclude && exclude[i]) continue;
      const y = values[i]!;
      if (y === y) {
        const b = Math.floor((y - min) * scale);
        start[(b < top ? b : top) + 2]!++;
      }
    }
    for (let b = 2; b < B + 2; b++) start[b]! += start[b - 1]!;
    const g = this.grouped;
    for (let i = 0; i < values.length; i++) {
      if (exclude && exclude[i]) continue;
      const y = values[i]!;
      if (y === y) {
        const b = Math.floor((y - min) * scale);
        g[start[(b < top ? b : top) + 1]!++] = y;
      }
    }
    // now bucket b holds g[start[b], start[b + 1])
    return n + nan;
  }

  private bucketOf(y: number): number {
    const b = Math.floor((y - this.min) * this.scale);
    return b < this.buckets ? b : this.buckets - 1;
  }

  /** Number of candidates strictly above x. */
  countAbove(x: number): number {
    if (!(x === x) || x >= this.max) return 0;
    if (x < this.min) return this.n;
    const b = this.bucketOf(x);
    const lo = this.start[b]!;
    const hi = this.start[b + 1]!;
    let above = this.n - hi;
    const g = this.grouped;
    if (hi - lo <= 32) {
      for (let k = lo; k < hi; k++) if (g[k]! > x) above++;
      return above;
    }
    if (!this.sortedFlag[b]) {
      g.subarray(lo, hi).sort();
      this.sortedFlag[b] = 1;
    }
    let a = lo;
    let z = hi;
    while (a < z) {
      const mid = (a + z) >>> 1;
      if (g[mid]! > x) z = mid;
      else a = mid + 1;
    }
    return above + (hi - a);
  }
}

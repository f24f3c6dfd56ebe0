/**
 * Leave-one-out split (spec section 2, the AIP protocol): per user, the latest interaction by
 * timestamp goes to test, the next latest to validation, the rest to train. Users without timestamps
 * get a seeded random order instead. Users with fewer than `minInteractions` keep everything in
 * train (validation/test = -1). Repeated (user, item) pairs count once (earliest kept).
 */
import { Rng } from '../core/rng.js';
import type { Interaction, Split } from './dataset.js';

export interface SplitOptions {
  /** Random source for users without timestamps (default: Rng(0).fork('split')). */
  rng?: Rng;
  /** Users with fewer interactions keep all of them in train (default 3). */
  minInteractions?: number;
}

export function leaveOneOutSplit(numUsers: number, interactions: readonly Interaction[], opts: SplitOptions = {}): Split {
  const minI = Math.max(3, opts.minInteractions ?? 3);
  const rng = opts.rng ?? new Rng(0).fork('split');
  const perUser: number[][] = Array.from({ length: numUsers }, () => []);
  for (let k = 0; k < interactions.length; k++) {
    const it = interactions[k]!;
    if (!(it.user >= 0 && it.user < numUsers)) throw new Error(`interaction ${k}: user index ${it.user} out of range`);
    perUser[it.user]!.push(k);
  }
  const train: number[][] = new Array(numUsers);
  const validation = new Int32Array(numUsers).fill(-1);
  const test = new Int32Array(numUsers).fill(-1);
  for (let u = 0; u < numUsers; u++) {
    let idx = perUser[u]!;
    const timed = idx.length > 0 && idx.every((k) => Number.isFinite(interactions[k]!.timestamp));
    if (timed) {
      idx.sort((a, b) => interactions[a]!.timestamp! - interactions[b]!.timestamp! || a - b);
    } else if (idx.length > 1) {
      // One fork per user: the order of user u never depends on other users' sizes.
      rng.fork(`user-${u}`).shuffle(idx);
    }
    // Drop repeated items (keep the earliest occurrence in the order above).
    const seen = new Set<number>();
    const items: number[] = [];
    for (const k of idx) {
      const i = interactions[k]!.item;
      if (!seen.has(i)) {
        seen.add(i);
        items.push(i);
      }
    }
    idx = [];
    if (items.length >= minI) {
      test[u] = items.pop()!;
      validation[u] = items.pop()!;
    }
    train[u] = items;
  }
  return { train, validation, test };
}

/** Items with no training interaction in `split` (the default targets: cold-start items). */
export function itemsWithoutTraining(split: Split, numItems: number): number[] {
  const seen = new Uint8Array(numItems);
  for (const items of split.train) for (const i of items) seen[i] = 1;
  const out: number[] = [];
  for (let i = 0; i < numItems; i++) if (!seen[i]) out.push(i);
  return out;
}

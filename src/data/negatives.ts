/**
 * BPR negative sampling, shared by the victims (src/recommenders) and the attacker's surrogate
 * recommender (src/preference): a negative for user u is drawn uniformly from the pool of items that
 * may be negatives (all but the excluded attack targets), re-drawn while it is one of u's items.
 */
import type { Rng } from '../core/rng.js';

/** Items BPR may sample as negatives: all but `excluded` (the attack targets), in index order. */
export function negativePool(numItems: number, excluded: ReadonlySet<number> = new Set()): number[] {
  const pool: number[] = [];
  for (let i = 0; i < numItems; i++) if (!excluded.has(i)) pool.push(i);
  return pool;
}

/** A negative for a user: uniform over the pool, re-drawn (up to `maxTries` times) while it is a seen item. */
export function sampleNegative(rng: Rng, pool: readonly number[], seen: ReadonlySet<number>, maxTries = 100): number {
  let j = rng.pick(pool);
  for (let t = 0; t < maxTries && seen.has(j); t++) j = rng.pick(pool);
  return j;
}

import { describe, expect, it } from 'vitest';
import { Rng } from '../core/rng.js';
import { negativePool, sampleNegative } from './negatives.js';

describe('BPR negative sampling', () => {
  it('the pool never contains excluded items and sampling avoids seen items', () => {
    const pool = negativePool(10, new Set([3, 7]));
    expect(pool).toEqual([0, 1, 2, 4, 5, 6, 8, 9]);
    expect(negativePool(3)).toEqual([0, 1, 2]);
    const rng = new Rng(2);
    for (let t = 0; t < 500; t++) {
      const j = sampleNegative(rng, pool, new Set([0, 1]));
      expect([0, 1, 3, 7]).not.toContain(j);
    }
  });

  it('re-draws at most maxTries times: a user who has seen the whole pool gets a seen item', () => {
    const rng = new Rng(3);
    const seen = new Set([0, 1, 2]);
    expect(seen.has(sampleNegative(rng, [0, 1, 2], seen, 20))).toBe(true);
    expect(sampleNegative(rng, [0, 1, 2], new Set([0, 1]), 0)).toBeLessThan(3);
  });
});

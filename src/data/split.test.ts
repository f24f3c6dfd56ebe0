import { describe, expect, it } from 'vitest';
import { leaveOneOutSplit, itemsWithoutTraining } from './split.js';
import { Rng } from '../core/rng.js';

describe('leave-one-out split', () => {
  it('puts the latest interaction in test, the next in validation, the rest in train', () => {
    const inter = [
      { user: 0, item: 3, timestamp: 30 },
      { user: 0, item: 1, timestamp: 10 },
      { user: 0, item: 2, timestamp: 20 },
      { user: 0, item: 4, timestamp: 5 },
      { user: 1, item: 0, timestamp: 1 },
      { user: 1, item: 1, timestamp: 2 },
      { user: 2, item: 0, timestamp: 3 },
      { user: 2, item: 2, timestamp: 1 },
      { user: 2, item: 2, timestamp: 9 }, // repeat: counts once
      { user: 2, item: 1, timestamp: 4 },
    ];
    const s = leaveOneOutSplit(4, inter);
    expect(s.test[0]).toBe(3);
    expect(s.validation[0]).toBe(2);
    expect(s.train[0]).toEqual([4, 1]);
    expect(s.test[1]).toBe(-1); // too few: everything stays in train
    expect(s.validation[1]).toBe(-1);
    expect(s.train[1]).toEqual([0, 1]);
    expect(s.test[2]).toBe(1);
    expect(s.validation[2]).toBe(0);
    expect(s.train[2]).toEqual([2]);
    expect(s.train[3]).toEqual([]);
    expect(s.test[3]).toBe(-1);
    expect(itemsWithoutTraining(s, 6)).toEqual([3, 5]);
  });

  it('uses a seeded random order without timestamps', () => {
    const inter = Array.from({ length: 8 }, (_, k) => ({ user: 0, item: k }));
    const a = leaveOneOutSplit(1, inter, { rng: new Rng(1) });
    const b = leaveOneOutSplit(1, inter, { rng: new Rng(1) });
    expect(b).toEqual(a);
    const all = [...a.train[0]!, a.validation[0]!, a.test[0]!].sort();
    expect(all).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    const others = [2, 3, 4, 5].map((seed) => leaveOneOutSplit(1, inter, { rng: new Rng(seed) }).test[0]);
    expect(new Set([a.test[0], ...others]).size).toBeGreaterThan(1);
  });
});

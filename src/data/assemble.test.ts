import { describe, expect, it } from 'vitest';
import { assembleDataset } from './assemble.js';
import { MemoryImageSource } from './dataset.js';
import { InputError } from '../core/errors.js';

const info = { name: 't', profile: 'imported', seed: 0, source: 'test' };
const images = (ids: readonly string[]) => new MemoryImageSource(2, ids.map(() => new Float32Array(12)));
const rows = [
  { user: 'a', item: 'x', timestamp: 1 },
  { user: 'a', item: 'y', timestamp: 2 },
  { user: 'a', item: 'z', timestamp: 3 },
  { user: 'b', item: 'x', timestamp: 1 },
  { user: 'a', item: 'x', timestamp: 9 },
];

describe('assembleDataset', () => {
  it('indexes ids, drops repeats, splits, and defaults targets to items without training', () => {
    const ds = assembleDataset({ info, interactions: rows, itemIds: ['x', 'y', 'z', 'w'], images, categoryOf: (id) => (id === 'w' ? 'hat' : 'shoe') });
    expect(ds.userIds).toEqual(['a', 'b']);
    expect(ds.duplicatesDropped).toBe(1);
    expect(ds.interactions.length).toBe(4);
    expect(ds.split.test[0]).toBe(2);
    expect(ds.split.validation[0]).toBe(1);
    expect(ds.split.train).toEqual([[0], [0]]);
    expect(ds.targets).toEqual([1, 2, 3]);
    expect(ds.categoryNames).toEqual(['shoe', 'hat']);
    expect(Array.from(ds.itemCategory!)).toEqual([0, 0, 0, 1]);
  });
  it('rejects unknown items and targets', () => {
    expect(() => assembleDataset({ info, interactions: rows, itemIds: ['x', 'y'], images })).toThrow(InputError);
    expect(() => assembleDataset({ info, interactions: rows, images, targets: ['q'] })).toThrow(/unknown target item 'q'/);
    expect(assembleDataset({ info, interactions: rows, images, targets: ['z', 'z'] }).targets).toEqual([2]);
  });
});

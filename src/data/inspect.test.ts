import { describe, expect, it } from 'vitest';
import { PNG } from 'pngjs';
import { assembleDataset } from './assemble.js';
import { MemoryImageSource } from './dataset.js';
import { datasetContactSheet, datasetStats, formatStats } from './inspect.js';

const ds = assembleDataset({
  info: { name: 'h', profile: 'imported', seed: 0, source: 'hand-made' },
  interactions: [
    { user: 'a', item: 'x', timestamp: 1 },
    { user: 'a', item: 'y', timestamp: 2 },
    { user: 'a', item: 'z', timestamp: 3 },
    { user: 'b', item: 'x' },
  ],
  itemIds: ['x', 'y', 'z', 'w'],
  categoryOf: (id) => (id === 'w' ? 'hat' : 'shoe'),
  images: (ids) => new MemoryImageSource(2, ids.map((_, k) => new Float32Array(12).fill(k / 4))),
  targets: ['w'],
});

describe('inspect', () => {
  it('computes counts, density, split and cold statistics', () => {
    const s = datasetStats(ds);
    expect(s.users).toBe(2);
    expect(s.items).toBe(4);
    expect(s.density).toBeCloseTo(4 / 8);
    expect(s.timestamped).toBe(3);
    expect(s.perUser).toEqual({ min: 1, median: 3, mean: 2, max: 3 });
    expect(s.trainInteractions).toBe(2);
    expect(s.usersWithTest).toBe(1);
    expect(s.coldItems).toBe(3); // y, z (held out) and w
    expect(s.coldTargets).toBe(1);
    expect(s.categories).toEqual([
      { name: 'shoe', items: 3, targets: 0 },
      { name: 'hat', items: 1, targets: 1 },
    ]);
    expect(formatStats(ds, s).join('\n')).toMatch(/density 50\.000%/);
  });
  it('draws one contact-sheet row per category, targets first', async () => {
    const sheet = await datasetContactSheet(ds, 2);
    const png = PNG.sync.read(sheet.png);
    expect([png.width, png.height]).toEqual([2 * 4 + 2, 2 * 4 + 2]);
    expect(sheet.items).toBe(3);
    // Row 2 (hat), first cell: item w (index 3) with value 3/4.
    const px = (x: number, y: number) => png.data[(y * png.width + x) * 4]!;
    expect(px(2, 6)).toBe(Math.round(0.75 * 255));
    expect(px(2, 2)).toBe(0);
  });
});

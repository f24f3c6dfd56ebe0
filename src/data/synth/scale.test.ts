import { describe, expect, it } from 'vitest';
import { AMAZON_MEN_SCALE, scaleParams, synthesizeScaleCatalogue } from './scale.js';
import { loadImageBatch, MemoryImageSource } from '../dataset.js';
import { ItemLists, ItemListsBuilder } from '../item-lists.js';
import { leaveOneOutSplit } from '../split.js';
import { ConfigError } from '../../core/errors.js';
import { Rng } from '../../core/rng.js';

const small = (seed = 2, imageCache = 0) => synthesizeScaleCatalogue({ seed, overrides: { numUsers: 300, numItems: 900, numTargets: 20, imageSize: 16, imageCache } });

describe('compact item lists', () => {
  it('round-trip arrays through CSR, the builder and views, and reject bad offsets', () => {
    const lists = [[3, 1], [], [7], [2, 2, 9]];
    const a = ItemLists.from(lists);
    const b = new ItemListsBuilder(1, 1);
    for (const l of lists) b.push(l);
    for (const x of [a, b.build()]) {
      expect(x.length).toBe(4);
      expect(x.total).toBe(6);
      expect(x.views().map((v) => Array.from(v))).toEqual(lists);
      expect(x.of(3).buffer).toBe(x.items.buffer); // a view, not a copy
    }
    expect(() => new ItemLists(Int32Array.of(0, 2, 1, 3), new Int32Array(3))).toThrow(/decrease/);
    expect(() => new ItemLists(Int32Array.of(0, 2), new Int32Array(3))).toThrow(/end at 3/);
  });
});

describe('Amazon-Men-scale catalogue', () => {
  it('has Amazon Men sizes by default and validates overrides', () => {
    const p = scaleParams();
    expect([p.numUsers, p.numItems, p.numTargets]).toEqual([34_244, 110_636, 1000]);
    expect(p).toEqual(AMAZON_MEN_SCALE);
    expect(() => scaleParams({ numUsers: 0 })).toThrow(ConfigError);
    expect(() => scaleParams({ bogus: 1 } as never)).toThrow(/unknown catalogue parameter 'bogus'/);
  });

  it('stores interactions as typed arrays only, keeps cold targets cold and gives a leave-one-out split', () => {
    const c = small();
    expect(c.train.items).toBeInstanceOf(Int32Array);
    expect(c.train.length).toBe(300);
    const isTarget = new Uint8Array(c.numItems);
    for (const t of c.targets) isTarget[t] = 1;
    expect(c.targets.length).toBe(20);
    let n = 0;
    for (let u = 0; u < c.numUsers; u++) {
      const own = Array.from(c.train.of(u));
      const all = [...own, c.validation[u]!, c.test[u]!].filter((i) => i >= 0);
      n += all.length;
      expect(new Set(all).size).toBe(all.length); // distinct items per user
      for (const i of all) expect(isTarget[i]).toBe(0);
      expect(c.test[u]).toBeGreaterThanOrEqual(0); // minPerUser 3: everyone has validation and test
      expect(own.length).toBeGreaterThan(0);
    }
    expect(n).toBe(c.numInteractions);
    // The same lists through the toolkit's own leave-one-out split, with time = list order.
    const inter = Array.from({ length: c.numUsers }, (_, u) => [...c.train.of(u), c.validation[u]!, c.test[u]!].map((item, k) => ({ user: u, item, timestamp: k }))).flat();
    const s = leaveOneOutSplit(c.numUsers, inter);
    expect(s.train).toEqual(c.train.views().map((v) => Array.from(v)));
    expect(s.validation).toEqual(c.validation);
    expect(s.test).toEqual(c.test);
  });

  it('is deterministic in the seed', () => {
    const a = small(3),
      b = small(3),
      d = small(4);
    expect(b.train.items).toEqual(a.train.items);
    expect(b.test).toEqual(a.test);
    expect(b.targets).toEqual(a.targets);
    expect(d.train.items).not.toEqual(a.train.items);
  });

  it('renders images on demand from the item id: the lazy source equals images rendered eagerly up front', async () => {
    const eagerCat = small(5, 900);
    // eager: every image rendered in item order and held in memory
    const eager = new MemoryImageSource(16, Array.from({ length: eagerCat.numItems }, (_, i) => eagerCat.images.loadSync(i).slice()));
    const lazy = small(5).images; // no cache: each load renders from the id
    const order = new Rng(1).shuffle(Array.from({ length: 900 }, (_, i) => i)).slice(0, 120);
    for (const i of [...order, ...order.slice(0, 10)]) expect(await lazy.load(i)).toEqual(await eager.load(i));
    const a = await loadImageBatch(lazy, order.slice(0, 8));
    const b = await loadImageBatch(eager, order.slice(0, 8));
    expect(Array.from(a.dataSync())).toEqual(Array.from(b.dataSync()));
    a.dispose();
    b.dispose();
    for (const px of await lazy.load(7)) expect(px >= 0 && px <= 1).toBe(true);
    await expect(lazy.load(900)).rejects.toThrow(/no item with index 900/);
  });
});


import { describe, expect, it } from 'vitest';
import { synthesizeCatalogue, attributeVector, catalogueParams, isSynthDataset, tasteAffinity } from './catalogue.js';
import type { Dataset } from '../dataset.js';
import { CATEGORIES } from './raster.js';
import { ConfigError } from '../../core/errors.js';
import { Rng } from '../../core/rng.js';

const tiny = (seed = 1) => synthesizeCatalogue({ profile: 'tiny', seed });

describe('synthetic catalogue', () => {
  it('has the tiny profile sizes, a valid split and cold targets across categories', () => {
    const ds = tiny();
    expect(ds.userIds.length).toBe(200);
    expect(ds.itemIds.length).toBe(300);
    expect(ds.images.size).toBe(32);
    expect(ds.targets.length).toBe(10);
    const targets = new Set(ds.targets);
    for (const it of ds.interactions) expect(targets.has(it.item)).toBe(false);
    const cats = new Set(ds.targets.map((t) => ds.itemCategory![t]));
    expect(cats.size).toBe(Math.min(10, CATEGORIES.length));
    // Timestamps strictly increase per user; no repeated (user, item).
    const last = new Map<number, number>();
    const pairs = new Set<string>();
    for (const it of ds.interactions) {
      expect(it.timestamp!).toBeGreaterThan(last.get(it.user) ?? 0);
      last.set(it.user, it.timestamp!);
      const key = `${it.user}:${it.item}`;
      expect(pairs.has(key)).toBe(false);
      pairs.add(key);
    }
    // Every user with a test item has a validation item and at least one training item.
    for (let u = 0; u < 200; u++) {
      if (ds.split.test[u]! >= 0) {
        expect(ds.split.validation[u]!).toBeGreaterThanOrEqual(0);
        expect(ds.split.train[u]!.length).toBeGreaterThan(0);
      }
    }
  });

  it('long-tailed activity and popularity', () => {
    const ds = synthesizeCatalogue({ profile: 'tiny', seed: 3, overrides: { numUsers: 400 } });
    const perUser = new Array<number>(400).fill(0);
    const perItem = new Array<number>(300).fill(0);
    for (const it of ds.interactions) {
      perUser[it.user]! += 1;
      perItem[it.item]! += 1;
    }
    const sorted = [...perItem].sort((a, b) => b - a);
    const top10 = sorted.slice(0, 30).reduce((a, b) => a + b, 0);
    expect(top10 / ds.interactions.length).toBeGreaterThan(0.2); // top 10% of items > 20% of interactions
    expect(Math.max(...perUser)).toBeGreaterThan(2.5 * (ds.interactions.length / 400));
  });

  it('is deterministic in the seed', async () => {
    const a = tiny(7),
      b = tiny(7),
      c = tiny(8);
    expect(b.interactions).toEqual(a.interactions);
    expect(b.targets).toEqual(a.targets);
    expect(b.attributes).toEqual(a.attributes);
    expect(Array.from(await b.images.load(5))).toEqual(Array.from(await a.images.load(5)));
    expect(c.interactions).not.toEqual(a.interactions);
    expect(Array.from(await c.images.load(5))).not.toEqual(Array.from(await a.images.load(5)));
  });

  it('renders light-background product shots in [0,1]', async () => {
    const ds = tiny();
    for (const i of [0, 1, 2, ds.targets[0]!]) {
      const img = await ds.images.load(i);
      expect(img.length).toBe(32 * 32 * 3);
      let min = 1,
        max = 0;
      for (const v of img) {
        min = Math.min(min, v);
        max = Math.max(max, v);
      }
      expect(min).toBeGreaterThanOrEqual(0);
      expect(max).toBeLessThanOrEqual(1);
      expect(max - min).toBeGreaterThan(0.2); // an object is drawn
      // Corner pixel is light background.
      expect(img[0]!).toBeGreaterThan(0.8);
    }
  });

  it('silhouettes separate categories: masks overlap more within a category than across', async () => {
    const ds = synthesizeCatalogue({ profile: 'tiny', seed: 5, overrides: { numItems: 80, numUsers: 5, numTargets: 0 } });
    const masks: Uint8Array[] = [];
    for (let i = 0; i < 80; i++) {
      const img = await ds.images.load(i);
      const m = new Uint8Array(32 * 32);
      // Object pixels: far from the (light, near-grey) background.
      for (let p = 0; p < m.length; p++) {
        const r = img[p * 3]!, g = img[p * 3 + 1]!, b = img[p * 3 + 2]!;
        m[p] = Math.min(r, g, b) < 0.75 || Math.max(r, g, b) - Math.min(r, g, b) > 0.15 ? 1 : 0;
      }
      masks.push(m);
    }
    const iou = (a: Uint8Array, b: Uint8Array) => {
      let i = 0, u = 0;
      for (let p = 0; p < a.length; p++) { i += a[p]! & b[p]!; u += a[p]! | b[p]!; }
      return u ? i / u : 0;
    };
    let same = 0, ns = 0, diff = 0, nd = 0;
    for (let a = 0; a < 80; a++)
      for (let b = a + 1; b < 80; b++) {
        const v = iou(masks[a]!, masks[b]!);
        if (ds.itemCategory![a] === ds.itemCategory![b]) { same += v; ns++; } else { diff += v; nd++; }
      }
    expect(same / ns).toBeGreaterThan(diff / nd + 0.1);
  });

  it('keeps at most imageCache rendered images', async () => {
    const ds = synthesizeCatalogue({ profile: 'tiny', seed: 1, overrides: { imageCache: 2 } });
    const a = await ds.images.load(0);
    expect(await ds.images.load(0)).toBe(a); // cached: same array
    await ds.images.load(1);
    await ds.images.load(2);
    const c1 = await ds.images.load(2);
    expect(await ds.images.load(2)).not.toBe(c1); // not cached: a fresh render
    expect(Array.from(await ds.images.load(2))).toEqual(Array.from(c1));
  });

  it('looks predict choices: held-out items are closer in attribute space than random items', () => {
    const ds = synthesizeCatalogue({ profile: 'tiny', seed: 2 });
    const vec = ds.attributes.map((a) => attributeVector(a));
    const rng = new Rng(99);
    let wins = 0,
      total = 0;
    for (let u = 0; u < ds.userIds.length; u++) {
      const t = ds.split.test[u]!;
      const train = ds.split.train[u]!;
      if (t < 0 || train.length === 0) continue;
      const profile = new Float32Array(vec[0]!.length);
      for (const i of train) vec[i]!.forEach((x, k) => (profile[k]! += x));
      const score = (i: number) => vec[i]!.reduce((s, x, k) => s + x * profile[k]!, 0);
      for (let r = 0; r < 10; r++) {
        const j = rng.int(ds.itemIds.length);
        const st = score(t),
          sj = score(j);
        wins += st > sj ? 1 : st === sj ? 0.5 : 0;
        total += 1;
      }
    }
    expect(wins / total).toBeGreaterThan(0.65); // content-based AUC of the held-out item
  });

  it('cold targets are predictable from looks: users whose taste matches them are likelier buyers', () => {
    // A target's attribute profile matches the users who bought look-alike items.
    const ds = tiny(4);
    const t = ds.targets[0]!;
    const at = ds.attributes[t]!;
    const likes = ds.tastes.map((tu) => tu.category[at.category]! * tu.colour[at.colour]! * tu.pattern[at.pattern]!);
    // Users who bought an item in the same (category, colour) cell have higher taste for the target.
    const buyers = new Set<number>();
    for (const it of ds.interactions) {
      const a = ds.attributes[it.item]!;
      if (a.category === at.category && a.colour === at.colour) buyers.add(it.user);
    }
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
    const inB = likes.filter((_, u) => buyers.has(u));
    const outB = likes.filter((_, u) => !buyers.has(u));
    expect(inB.length).toBeGreaterThan(0);
    expect(mean(inB)).toBeGreaterThan(1.5 * mean(outB));
  });

  it('owns its ground truth: tasteAffinity is the taste product and ranks bought items above the rest', () => {
    const ds = tiny();
    const aff = tasteAffinity(ds)!;
    const [u, i] = [7, 42];
    const a = ds.attributes[i]!;
    expect(aff(u, i)).toBe(ds.tastes[u]!.category[a.category]! * ds.tastes[u]!.colour[a.colour]! * ds.tastes[u]!.pattern[a.pattern]!);
    // mean affinity of each user's training items vs all items: interactions follow taste
    let above = 0, users = 0;
    ds.split.train.forEach((items, user) => {
      if (items.length === 0) return;
      users++;
      const mine = items.reduce((acc, it) => acc + aff(user, it), 0) / items.length;
      const all = ds.itemIds.reduce((acc, _, it) => acc + aff(user, it), 0) / ds.itemIds.length;
      if (mine > all) above++;
    });
    expect(above / users).toBeGreaterThan(0.8);
    const { tastes: _t, attributes: _a, popularity: _p, params: _q, ...plain } = ds;
    expect(isSynthDataset(ds)).toBe(true);
    expect(isSynthDataset(plain as Dataset)).toBe(false);
    expect(tasteAffinity(plain as Dataset)).toBeUndefined();
  });

  it('validates overrides', () => {
    expect(() => catalogueParams('tiny', { numUsers: 0 })).toThrow(ConfigError);
    expect(() => catalogueParams('tiny', { bogus: 1 } as never)).toThrow(/unknown catalogue parameter/);
    expect(() => synthesizeCatalogue({ profile: 'huge' as never, seed: 1 })).toThrow(ConfigError);
    const ds = synthesizeCatalogue({ profile: 'tiny', seed: 1, overrides: { numUsers: 20, numItems: 40, numTargets: 3, imageSize: 16 } });
    expect(ds.userIds.length).toBe(20);
    expect(ds.targets.length).toBe(3);
    expect(ds.images.size).toBe(16);
  });
});

import { describe, it, expect, beforeAll } from 'vitest';
import { existsSync, rmSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadAip } from './aip.js';
import { loadAmazon } from './amazon.js';
import { loadTradesy } from './tradesy.js';
import { readFeatureFile } from './features.js';
import { requirePixels } from './common.js';
import { readNpy } from './npy.js';
import { readPickle } from './pickle.js';
import { BufferReader } from './bytes.js';
import { parseLiteral } from './pyliteral.js';
import { writeFeatureFolder, readFeatureFolder } from './feature-folder.js';
import { coldItems } from '../dataset.js';
import { leaveOneOutSplit } from '../split.js';

const FX = path.join(path.dirname(fileURLToPath(import.meta.url)), '__fixtures__');
const fx = (f: string): string => path.join(FX, f);
const PWNED = '/tmp/auv-fusion-pickle-pwned';

describe('AIP / DVBPR .npy', () => {
  for (const file of ['aip_tiny.npy', 'aip_tiny_py2.npy']) {
    it(`${file}: imports with the file's partition, counts and JPEG images`, async () => {
      const ds = loadAip(fx(file), { coldFile: fx('aip_tiny_one_k_cold.npy'), imageSize: 8 });
      expect(ds.userIds.length).toBe(4);
      expect(ds.itemIds.length).toBe(8);
      expect(ds.interactions.length).toBe(11 + 4 + 4);
      expect(ds.split.train).toEqual([[0, 1, 2], [1, 2, 3], [0, 4, 5], [2, 5]]);
      expect([...ds.split.validation]).toEqual([3, 0, 1, 6]);
      expect([...ds.split.test]).toEqual([4, 5, 2, 7]);
      expect(ds.targets).toEqual([6, 7]);
      expect(coldItems(ds)).toEqual([6, 7]);
      expect(ds.interactions[0]!.timestamp).toBe(1_400_000_000);
      expect(ds.images.hasPixels).toBe(true);
      const img0 = await ds.images.load(0); // red product on white
      expect(img0.length).toBe(8 * 8 * 3);
      const c = (4 * 8 + 4) * 3;
      expect(img0[c]!).toBeGreaterThan(0.6);
      expect(img0[c + 1]!).toBeLessThan(0.35);
      const img2 = await ds.images.load(2); // blue
      expect(img2[c + 2]!).toBeGreaterThan(0.6);
      expect(img2[c]!).toBeLessThan(0.35);
      ds.close();
    });
  }

  it('without timestamps: ordinal keys make leave-one-out reproduce the file partition', async () => {
    const ds = loadAip(fx('aip_tiny_notime.npy'), { imageSize: 8 });
    expect(ds.info.source).toMatch(/ordinal timestamps/);
    const again = leaveOneOutSplit(ds.userIds.length, ds.interactions);
    expect(again.train).toEqual(ds.split.train);
    expect([...again.test]).toEqual([4, 5, 2, 7]);
    expect([...again.validation]).toEqual([3, 0, 1, 6]);
    expect(ds.targets).toEqual([6, 7]); // no cold file: items without training interactions
    ds.close();
  });

  it('reads the cold list as a plain int64 .npy', () => {
    const { value } = readNpy(fx('aip_tiny_one_k_cold.npy'));
    expect((value as { toList(): unknown[] }).toList()).toEqual([6, 7]);
  });

  for (const file of ['evil_reduce.npy', 'evil_stack_global.npy']) {
    it(`${file}: a pickle calling another global is refused and never run`, () => {
      rmSync(PWNED, { force: true });
      expect(() => loadAip(fx(file))).toThrow(/evil_.*(posix\.system|builtins\.eval).*not on the allowlist/);
      expect(existsSync(PWNED)).toBe(false);
    });
  }

  it('refuses unknown opcodes and BUILD on non-numpy objects', () => {
    // protocol 2: INST opcode ('i') is not supported
    const inst = Uint8Array.from([0x80, 0x02, 0x28, ...Buffer.from('ios\nsystem\n'), 0x2e]);
    expect(() => readPickle(new BufferReader(inst), 'x.pkl')).toThrow(/opcode 0x69/);
    // GLOBAL subprocess.Popen
    const glob = Uint8Array.from([0x80, 0x02, ...Buffer.from('csubprocess\nPopen\n'), 0x2e]);
    expect(() => readPickle(new BufferReader(glob), 'x.pkl')).toThrow(/subprocess\.Popen/);
  });
});

describe('Python-literal JSON', () => {
  it('parses str(dict) output without eval', () => {
    const v = parseLiteral(`{'a': 'O\\'Neil "Jr"', "b": [1, 2.5e3, -3], 'c': (True, False, None), 'd': {'e': u'\\u00e9'}, }`);
    expect(v).toEqual({ a: 'O\'Neil "Jr"', b: [1, 2500, -3], c: [true, false, null], d: { e: 'é' } });
    expect(parseLiteral('{"x": true, "y": null}')).toEqual({ x: true, y: null });
  });
  it('refuses code', () => {
    expect(() => parseLiteral("__import__('os').system('touch /tmp/auv-fusion-pickle-pwned')")).toThrow(/unexpected character/);
    expect(() => parseLiteral("{'a': open('x')}")).toThrow();
    expect(existsSync(PWNED)).toBe(false);
  });
});

describe('raw Amazon', () => {
  it('reviews + metadata + images folder: counts, categories, dropped items, split', async () => {
    const ds = await loadAmazon(fx('amazon_reviews.json'), { metaFile: fx('amazon_meta.json'), imagesDir: fx('amazon_images'), imageSize: 8 });
    // 15 reviews + 1 duplicate; asin B0000000A5 has no image -> its 2 reviews dropped
    expect(ds.interactions.length).toBe(13);
    expect(ds.userIds).toEqual(['U1', 'U2', 'U3', 'U4', 'U5']);
    expect(ds.itemIds.length).toBe(5);
    expect(ds.itemIds).not.toContain('B0000000A5');
    expect(ds.categoryNames).toEqual(['Shirts', 'Shoes', 'Watches']);
    expect(ds.itemCategory![ds.itemIds.indexOf('B0000000A4')]).toBe(2);
    expect(ds.interactions.every((it) => typeof it.timestamp === 'number')).toBe(true);
    // U1 has 4 timed interactions: last in time to test, the one before to validation
    const u1 = 0;
    expect(ds.itemIds[ds.split.test[u1]!]).toBe('B0000000A3');
    expect(ds.itemIds[ds.split.validation[u1]!]).toBe('B0000000A2');
    expect(ds.info.source).toMatch(/1 of 6 items dropped/);
    const img = await ds.images.load(ds.itemIds.indexOf('B0000000A0'));
    expect(img.length).toBe(8 * 8 * 3);
  });

  it('drops users with fewer than --min-user-interactions items', async () => {
    const ds = await loadAmazon(fx('amazon_reviews.json'), { imagesDir: fx('amazon_images'), minUserInteractions: 3 });
    expect(ds.userIds).toEqual(['U1', 'U2', 'U3']);
    expect(ds.info.source).toMatch(/2 of 5 users dropped with fewer than 3 items/);
  });

  it('with precomputed features only: no pixels, features attached, pixel attacks refused', async () => {
    const ds = await loadAmazon(fx('amazon_reviews.json'), { featuresFile: fx('image_features_tiny.b') });
    expect(ds.itemIds).toEqual(['B0000000A0', 'B0000000A1', 'B0000000A2']);
    expect(ds.images.hasPixels).toBe(false);
    expect(ds.precomputedFeatures!.dim).toBe(4096);
    expect(ds.precomputedFeatures!.data.length).toBe(3 * 4096);
    expect(ds.precomputedFeatures!.data[4096 + 1]).toBeCloseTo(((1 * 7 + 1 * 13) % 17) / 17, 6);
    expect(() => requirePixels(ds, 'pgd')).toThrow(/'pgd' edits pixels.*only feature-space attacks/);
    await expect(ds.images.load(0)).rejects.toThrow(/only precomputed features/);
    const dir = mkdtempSync(path.join(tmpdir(), 'featfolder-'));
    await writeFeatureFolder(ds, path.join(dir, 'out'));
    const back = await readFeatureFolder(path.join(dir, 'out'));
    expect(back.itemIds).toEqual(ds.itemIds);
    expect(back.interactions.length).toBe(ds.interactions.length);
    expect(Array.from(back.precomputedFeatures!.data)).toEqual(Array.from(ds.precomputedFeatures!.data));
  });

  it('reads 2018-style metadata (category list) as well', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'amz18-'));
    const meta = path.join(dir, 'meta.json');
    writeFileSync(meta, ['B0000000A0', 'B0000000A1', 'B0000000A2'].map((a, k) => JSON.stringify({ asin: a, category: ['Clothing', 'Men', k ? 'Boots' : 'Belts'], imageURL: [] })).join('\n') + '\n');
    const ds = await loadAmazon(fx('amazon_reviews.json'), { metaFile: meta, imagesDir: fx('amazon_images') });
    expect(ds.categoryNames).toEqual(['Belts', 'Boots', 'unknown']);
  });

  it('names the file and line of a bad record', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'amz-'));
    const f = path.join(dir, 'r.json');
    writeFileSync(f, '{"reviewerID": "A", "asin": "B", "unixReviewTime": 1}\n{"reviewerID": "A", "asin": \n');
    await expect(loadAmazon(f, { imagesDir: fx('amazon_images') })).rejects.toThrow(/r\.json \(line 2\)/);
    writeFileSync(f, "{'reviewerID': 'A', 'unixReviewTime': 1}\n");
    await expect(loadAmazon(f, { imagesDir: fx('amazon_images') })).rejects.toThrow(/line 1.*asin/);
  });
});

describe('Tradesy', () => {
  it('tradesy.json with features: bought + want interactions, random leave-one-out', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'trd-'));
    // A .b file for the Tradesy ids (ids shorter than 10 bytes are space-padded)
    const ids = ['5001', '5002', '5003', '5004'];
    const rec = Buffer.alloc(ids.length * (10 + 4 * 4096));
    ids.forEach((id, k) => {
      rec.write(id.padEnd(10, ' '), k * (10 + 16384), 'ascii');
      rec.writeFloatLE(k + 1, k * (10 + 16384) + 10);
    });
    const b = path.join(dir, 'image_features_tradesy.b');
    writeFileSync(b, rec);
    const ds = await loadTradesy(fx('tradesy.json'), { featuresFile: b, seed: 3 });
    // users 101..104 have items with features; 5005 has none; 105 has no items
    expect(ds.userIds).toEqual(['101', '102', '103', '104']);
    expect([...ds.itemIds].sort()).toEqual(['5001', '5002', '5003', '5004']);
    expect(ds.interactions.length).toBe(3 + 3 + 2 + 1);
    expect(ds.interactions.every((it) => it.timestamp === undefined)).toBe(true);
    expect(ds.split.train.flat().length + [...ds.split.validation, ...ds.split.test].filter((i) => i >= 0).length).toBe(9);
    const bought = await loadTradesy(fx('tradesy.json'), { featuresFile: b, includeWant: false });
    expect(bought.interactions.length).toBe(2 + 1 + 1);
  });

  it('refuses a feature file of the wrong size', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'fb-'));
    const f = path.join(dir, 'bad.b');
    writeFileSync(f, Buffer.alloc(100));
    expect(() => readFeatureFile(f)).toThrow(/not a multiple of the 16394-byte record/);
  });
});

beforeAll(() => rmSync(PWNED, { force: true }));

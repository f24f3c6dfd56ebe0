import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { readDatasetFolder, writeDatasetFolder, parseCsvLine } from './folder-format.js';
import { synthesizeCatalogue } from './synth/catalogue.js';
import { InputError } from '../core/errors.js';
import type { Dataset, ImageSource } from './dataset.js';

const small = (seed = 1) =>
  synthesizeCatalogue({ profile: 'tiny', seed, overrides: { numUsers: 12, numItems: 10, numTargets: 2, imageSize: 16, activityMedian: 5 } });

let base: string;
let clean: string;
let n = 0;

beforeAll(async () => {
  base = await fs.mkdtemp(path.join(os.tmpdir(), 'auv-folder-'));
  clean = path.join(base, 'clean');
  await writeDatasetFolder(small(), clean, { progress: false });
});
afterAll(async () => {
  await fs.rm(base, { recursive: true, force: true });
});

/** A fresh copy of the clean folder to break. */
async function copy(): Promise<string> {
  const dir = path.join(base, `case-${++n}`);
  await fs.cp(clean, dir, { recursive: true });
  return dir;
}

async function readErr(dir: string, opts = {}): Promise<InputError> {
  try {
    await readDatasetFolder(dir, { onWarning: () => {}, ...opts });
  } catch (err) {
    expect(err).toBeInstanceOf(InputError);
    expect((err as Error).message).not.toContain('\n');
    return err as InputError;
  }
  throw new Error('expected an InputError');
}

async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await fs.readdir(dir, { withFileTypes: true, recursive: true })) if (e.isFile()) out.push(path.relative(dir, path.join(e.parentPath, e.name)));
  return out.sort();
}

describe('folder format', () => {
  it('round-trips a dataset exactly (ids, interactions, categories, split, targets, pixels)', async () => {
    const ds = small();
    const back = await readDatasetFolder(clean, { onWarning: () => {} });
    expect(back.warnings).toEqual([]);
    expect(back.userIds).toEqual(ds.userIds);
    expect(back.itemIds).toEqual(ds.itemIds);
    expect(back.categoryNames).toEqual(ds.categoryNames);
    expect(Array.from(back.itemCategory!)).toEqual(Array.from(ds.itemCategory!));
    expect(back.itemAttributes!.map((a) => [a.name, a.values, Array.from(a.labels)])).toEqual(ds.itemAttributes!.map((a) => [a.name, a.values, Array.from(a.labels)]));
    expect(back.interactions).toEqual(ds.interactions);
    expect(back.split).toEqual(ds.split);
    expect(back.targets).toEqual(ds.targets);
    expect(back.info.seed).toBe(ds.info.seed);
    expect(back.info.profile).toBe('tiny');
    expect(back.images.size).toBe(16);
    for (let i = 0; i < ds.itemIds.length; i++) expect(Array.from(await back.images.load(i))).toEqual(Array.from(await ds.images.load(i)));
  });

  it('writes byte-identical files for the same seed, different ones for another seed', async () => {
    const a = path.join(base, 'det-a'),
      b = path.join(base, 'det-b'),
      c = path.join(base, 'det-c');
    await writeDatasetFolder(small(1), a, { progress: false });
    await writeDatasetFolder(small(1), b, { progress: false });
    await writeDatasetFolder(small(2), c, { progress: false });
    const files = await listFiles(a);
    expect(files).toContain('images/i0.png');
    expect(await listFiles(b)).toEqual(files);
    for (const f of files) expect(Buffer.compare(await fs.readFile(path.join(a, f)), await fs.readFile(path.join(b, f)))).toBe(0);
    expect((await fs.readFile(path.join(a, 'interactions.csv'), 'utf8')) === (await fs.readFile(path.join(c, 'interactions.csv'), 'utf8'))).toBe(false);
  });

  it('writes atomically: a failure leaves nothing behind and keeps an existing folder', async () => {
    const ds = small();
    let calls = 0;
    const failing: ImageSource = {
      size: 16,
      hasPixels: true,
      load: async (i) => {
        if (++calls > 3) throw new Error('disk on fire');
        return ds.images.load(i);
      },
    };
    const bad: Dataset = { ...ds, images: failing };
    const target = path.join(base, 'atomic');
    await expect(writeDatasetFolder(bad, target, { progress: false })).rejects.toThrow('disk on fire');
    expect((await fs.readdir(base)).filter((f) => f.includes('atomic'))).toEqual([]);
    await writeDatasetFolder(ds, target, { progress: false });
    calls = 0;
    await expect(writeDatasetFolder(bad, target, { progress: false })).rejects.toThrow();
    expect((await readDatasetFolder(target)).itemIds).toEqual(ds.itemIds);
  });

  it('refuses to replace a file or a non-dataset folder', async () => {
    const ds = small();
    const other = path.join(base, 'precious');
    await fs.mkdir(other);
    await fs.writeFile(path.join(other, 'notes.txt'), 'keep me');
    await expect(writeDatasetFolder(ds, other, { progress: false })).rejects.toThrow(/non-empty folder without dataset\.json/);
    expect(await fs.readFile(path.join(other, 'notes.txt'), 'utf8')).toBe('keep me');
    await expect(writeDatasetFolder(ds, path.join(other, 'notes.txt'), { progress: false })).rejects.toThrow(/not a folder/);
    const empty = path.join(base, 'empty');
    await fs.mkdir(empty);
    await writeDatasetFolder(ds, empty, { progress: false });
    expect((await readDatasetFolder(empty)).itemIds).toEqual(ds.itemIds);
  });

  it('reads JSON lines and header-only items', async () => {
    const dir = await copy();
    const csv = (await fs.readFile(path.join(dir, 'interactions.csv'), 'utf8')).trim().split('\n').slice(1);
    await fs.writeFile(
      path.join(dir, 'interactions.jsonl'),
      csv.map((l) => { const [user, item, t] = l.split(','); return JSON.stringify({ user, item, timestamp: Number(t) }); }).join('\n') + '\n',
    );
    await fs.rm(path.join(dir, 'interactions.csv'));
    const ds = await readDatasetFolder(dir);
    expect(ds.interactions).toEqual(small().interactions);
  });

  it('drops duplicate rows with a warning that counts them', async () => {
    const dir = await copy();
    const file = path.join(dir, 'interactions.csv');
    const ls = (await fs.readFile(file, 'utf8')).trim().split('\n');
    await fs.writeFile(file, [...ls, ls[1], ls[2], ls[1]].join('\n') + '\n');
    const warnings: string[] = [];
    const ds = await readDatasetFolder(dir, { onWarning: (m) => warnings.push(m) });
    expect(ds.interactions.length).toBe(ls.length - 1);
    expect(warnings.join(' ')).toMatch(/dropped 3 duplicate/);
  });

  it('rejects a missing image, naming the item', async () => {
    const dir = await copy();
    await fs.rm(path.join(dir, 'images', 'i3.png'));
    expect((await readErr(dir)).message).toMatch(/item 'i3'.*missing image/);
  });

  it('rejects a corrupt image and a truncated one (full check)', async () => {
    const dir = await copy();
    await fs.writeFile(path.join(dir, 'images', 'i2.png'), 'not a png at all');
    expect((await readErr(dir)).message).toMatch(/i2\.png \(item 'i2'\): corrupt or unreadable image/);
    const dir2 = await copy();
    const f = path.join(dir2, 'images', 'i4.png');
    const bytes = await fs.readFile(f);
    await fs.writeFile(f, bytes.subarray(0, Math.floor(bytes.length * 0.6)));
    expect((await readErr(dir2, { checkImages: 'full' })).message).toMatch(/item 'i4'.*corrupt or unreadable/);
  });

  it('converts greyscale and RGBA images with a warning, or refuses them in strict mode', async () => {
    const dir = await copy();
    const grey = Buffer.alloc(16 * 16, 100);
    await sharp(grey, { raw: { width: 16, height: 16, channels: 1 } }).toColourspace('b-w').png().toFile(path.join(dir, 'images', 'i1.png'));
    const rgba = Buffer.alloc(16 * 16 * 4);
    for (let k = 0; k < 16 * 16; k++) rgba.set([255, 0, 0, k < 128 ? 0 : 255], k * 4);
    await fs.rm(path.join(dir, 'images', 'i5.png'));
    await sharp(rgba, { raw: { width: 16, height: 16, channels: 4 } }).webp({ lossless: true }).toFile(path.join(dir, 'images', 'i5.webp'));
    const warnings: string[] = [];
    const ds = await readDatasetFolder(dir, { onWarning: (m) => warnings.push(m), checkImages: 'full' });
    expect(warnings.join(' ')).toMatch(/1 image\(s\) in mode greyscale converted/);
    expect(warnings.join(' ')).toMatch(/1 image\(s\) in mode RGBA converted.*white/);
    const g = await ds.images.load(1);
    expect(g[0]).toBeCloseTo(100 / 255, 5);
    expect(g[1]).toBeCloseTo(100 / 255, 5);
    const r = await ds.images.load(5);
    expect(Array.from(r.subarray(0, 3))).toEqual([1, 1, 1]); // transparent -> white
    expect(Array.from(r.subarray(200 * 3, 200 * 3 + 3))).toEqual([1, 0, 0]);
    expect((await readErr(dir, { imageMode: 'strict' })).message).toMatch(/item 'i1'.*image mode greyscale is not supported/);
  });

  it('reads JPEG images of another size, resized with the aspect kept and a warning', async () => {
    const dir = await copy();
    await fs.rm(path.join(dir, 'images', 'i7.png'));
    await sharp(Buffer.alloc(32 * 16 * 3, 20), { raw: { width: 32, height: 16, channels: 3 } }).jpeg({ quality: 95 }).toFile(path.join(dir, 'images', 'i7.jpg'));
    const warnings: string[] = [];
    const ds = await readDatasetFolder(dir, { onWarning: (m) => warnings.push(m), checkImages: 'full' });
    expect(warnings.join(' ')).toMatch(/1 image\(s\) are not 16x16 and are resized/);
    const img = await ds.images.load(7);
    expect(img.length).toBe(16 * 16 * 3);
    expect(img[0]).toBeGreaterThan(0.95); // white padding above the 2:1 picture
    expect(img[(8 * 16 + 8) * 3]).toBeLessThan(0.2); // dark picture in the middle
  });

  it('refuses CMYK images', async () => {
    const dir = await copy();
    await fs.rm(path.join(dir, 'images', 'i6.png'));
    await sharp(Buffer.alloc(16 * 16 * 3, 90), { raw: { width: 16, height: 16, channels: 3 } })
      .toColourspace('cmyk')
      .jpeg()
      .toFile(path.join(dir, 'images', 'i6.jpg'));
    expect((await readErr(dir)).message).toMatch(/item 'i6'.*image mode CMYK/);
  });

  it('rejects header-less, malformed and non-numeric CSV lines with the line number', async () => {
    const dir = await copy();
    const file = path.join(dir, 'interactions.csv');
    const ls = (await fs.readFile(file, 'utf8')).trim().split('\n');
    await fs.writeFile(file, ls.slice(1).join('\n'));
    expect((await readErr(dir)).message).toMatch(/interactions\.csv \(line 1\): missing header/);
    await fs.writeFile(file, [ls[0], ls[1], 'u0,i1', ls[2]].join('\n'));
    expect((await readErr(dir)).message).toMatch(/\(line 3\): expected 3 fields/);
    await fs.writeFile(file, [ls[0], ls[1], ls[2], 'u0,i1,abc'].join('\n'));
    expect((await readErr(dir)).message).toMatch(/\(line 4\): timestamp 'abc' is not a decimal number/);
    await fs.writeFile(file, [ls[0], '"u0,i1,5'].join('\n'));
    expect((await readErr(dir)).message).toMatch(/\(line 2\): malformed CSV line: unclosed quote/);
    await fs.writeFile(file, [ls[0], 'u0,nosuch,5'].join('\n'));
    expect((await readErr(dir)).message).toMatch(/\(line 2\): unknown item 'nosuch'/);
    await fs.writeFile(file, '');
    expect((await readErr(dir)).message).toMatch(/interactions\.csv: empty file/);
    await fs.writeFile(file, ls[0] + '\n');
    expect((await readErr(dir)).message).toMatch(/no interactions/);
  });

  it('rejects malformed JSON lines and two interaction files', async () => {
    const dir = await copy();
    await fs.writeFile(path.join(dir, 'interactions.jsonl'), '{"user":"u0","item":"i1"}\n');
    expect((await readErr(dir)).message).toMatch(/both interactions\.csv and interactions\.jsonl/);
    await fs.rm(path.join(dir, 'interactions.csv'));
    await fs.writeFile(path.join(dir, 'interactions.jsonl'), '{"user":"u0","item":"i1"}\n{"user":"u0",\n');
    expect((await readErr(dir)).message).toMatch(/interactions\.jsonl \(line 2\): malformed JSON/);
    await fs.writeFile(path.join(dir, 'interactions.jsonl'), '{"user":"u0","item":"i1","timestamp":"soon"}\n');
    expect((await readErr(dir)).message).toMatch(/\(line 1\): timestamp 'soon' is not a decimal number/);
    await fs.writeFile(path.join(dir, 'interactions.jsonl'), '{"user":"u0"}\n');
    expect((await readErr(dir)).message).toMatch(/\(line 1\): missing or invalid "item"/);
  });

  it('rejects unknown items in targets.txt and an empty targets.txt', async () => {
    const dir = await copy();
    await fs.writeFile(path.join(dir, 'targets.txt'), '# targets\ni1\nghost\n');
    expect((await readErr(dir)).message).toMatch(/targets\.txt \(line 3\): unknown item 'ghost'/);
    await fs.writeFile(path.join(dir, 'targets.txt'), '\n\n');
    expect((await readErr(dir)).message).toMatch(/targets\.txt: empty file/);
  });

  it('refuses paths that escape the folder: ../ in ids and symlinks', async () => {
    const dir = await copy();
    const items = path.join(dir, 'items.csv');
    const ls = (await fs.readFile(items, 'utf8')).trim().split('\n');
    await fs.writeFile(items, [...ls, '../../etc/passwd,hat,red,solid'].join('\n'));
    expect((await readErr(dir)).message).toMatch(/items\.csv \(line 12\): item id '\.\.\/\.\.\/etc\/passwd' escapes the dataset folder/);
    const dir2 = await copy();
    const outside = path.join(base, 'outside.png');
    await fs.copyFile(path.join(dir2, 'images', 'i0.png'), outside);
    await fs.rm(path.join(dir2, 'images', 'i0.png'));
    await fs.symlink(outside, path.join(dir2, 'images', 'i0.png'));
    expect((await readErr(dir2)).message).toMatch(/item 'i0'.*escapes the dataset folder/);
  });

  it('reads item attribute columns only when dataset.json declares them; names the bad item and line', async () => {
    const dir = await copy();
    const meta = path.join(dir, 'dataset.json');
    const items = path.join(dir, 'items.csv');
    const json = JSON.parse(await fs.readFile(meta, 'utf8'));
    expect(Object.keys(json.attributes)).toEqual(['colour', 'pattern']);
    // undeclared: the column is ignored with a warning
    const { attributes, ...rest } = json;
    await fs.writeFile(meta, JSON.stringify(rest));
    const warnings: string[] = [];
    const plain = await readDatasetFolder(dir, { onWarning: (w) => warnings.push(w) });
    expect(plain.itemAttributes).toBeUndefined();
    expect(warnings.join('\n')).toContain('column(s) colour, pattern ignored');
    // a value outside the declared list, and a declared column that is missing
    await fs.writeFile(meta, JSON.stringify({ ...rest, attributes: { ...attributes, colour: ['red'] } }));
    const e = await readErr(dir);
    expect(e.message).toMatch(/items\.csv \(line \d+\): item 'i\d+' has colour '\w+', which is not among the values dataset\.json attributes\.colour lists/);
    await fs.writeFile(meta, JSON.stringify({ ...rest, attributes: { ...attributes, fabric: ['silk'] } }));
    expect((await readErr(dir)).message).toContain("declares the item attribute 'fabric' but items.csv has no such column");
    await fs.rm(items);
    expect((await readErr(dir)).message).toContain('declares item attributes (colour, pattern, fabric) but the folder has no items.csv');
  });

  it('works without items.csv, dataset.json and targets.txt (targets = cold items)', async () => {
    const dir = await copy();
    for (const f of ['items.csv', 'dataset.json', 'targets.txt']) await fs.rm(path.join(dir, f));
    const ds = await readDatasetFolder(dir, { imageSize: 16 });
    const orig = small();
    expect(ds.itemIds.length).toBe(10); // cold items come from the images folder
    expect(ds.itemCategory).toBeNull();
    const coldIds = ds.targets.map((t) => ds.itemIds[t]);
    for (const t of orig.targets) expect(coldIds).toContain(orig.itemIds[t]);
    expect(ds.info.profile).toBe('imported');
  });

  it('parses quoted CSV fields', () => {
    expect(parseCsvLine('a,"b,c","d""e",')).toEqual(['a', 'b,c', 'd"e', '']);
    expect(parseCsvLine(' a ," b "')).toEqual(['a', ' b ']);
    expect(parseCsvLine('"a"x')).toEqual({ error: "unexpected character 'x' after a closing quote" });
  });
});

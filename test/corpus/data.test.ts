/**
 * Bad-input corpus, part 1: dataset folders (issue 17). Each case copies a small valid folder,
 * breaks one thing and runs `data inspect` in-process: exit code, the one-line message naming the
 * file (and line or item), and no contact sheet written.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { writeDatasetFolder } from '../../src/data/folder-format.js';
import { synthesizeCatalogue } from '../../src/data/synth/catalogue.js';
import { check, tmpRoot, writeTally, type Case } from './harness.js';

let root = '';
let base = '';
beforeAll(async () => {
  root = await tmpRoot('data');
  base = path.join(root, 'base');
  const ds = synthesizeCatalogue({ profile: 'tiny', seed: 3, overrides: { numUsers: 30, numItems: 40, numTargets: 4, imageSize: 16 } });
  await writeDatasetFolder(ds, base, { progress: false });
});
afterAll(async () => {
  await writeTally();
  await fs.rm(root, { recursive: true, force: true });
});

type Mutate = (ds: string) => Promise<void>;
const f = (ds: string, name: string): string => path.join(ds, name);
/** Edit a text file line by line (line 1 = the header). */
const lines = (name: string, edit: (ls: string[]) => string[]): Mutate => async (ds) => {
  const ls = (await fs.readFile(f(ds, name), 'utf8')).replace(/\n$/, '').split('\n');
  await fs.writeFile(f(ds, name), edit(ls).join('\n') + '\n');
};
const write = (name: string, data: string | Uint8Array): Mutate => (ds) => fs.writeFile(f(ds, name), data);
const remove = (name: string): Mutate => (ds) => fs.rm(f(ds, name), { recursive: true, force: true });
/** Replace the bytes `from` with `to` (the first occurrence) in a file: for invalid UTF-8. */
const bytes = (name: string, from: string, to: number[]): Mutate => async (ds) => {
  const b = await fs.readFile(f(ds, name));
  const at = b.indexOf(Buffer.from(from));
  await fs.writeFile(f(ds, name), Buffer.concat([b.subarray(0, at), Buffer.from(to), b.subarray(at + from.length)]));
};
const both = (...ms: Mutate[]): Mutate => async (ds) => {
  for (const m of ms) await m(ds);
};
const png = (w: number, h: number, channels: 1 | 3 | 4): Promise<Buffer> => {
  const img = sharp(Buffer.alloc(w * h * channels, 128), { raw: { width: w, height: h, channels } });
  return (channels === 1 ? img.toColourspace('b-w') : img).png().toBuffer();
};
const ts = (t: string) => lines('interactions.csv', (ls) => ls.map((l, i) => (i === 3 ? l.replace(/,[^,]*$/, `,${t}`) : l)));

function bad(area: string, name: string, mutate: Mutate, message: RegExp): Case {
  return { area, name, code: 1, message, absent: ['sheet.png'], args: (dir) => inspect(dir, mutate) };
}
function ok(area: string, name: string, mutate: Mutate, message: RegExp): Case {
  return { area, name, code: 0, message, args: (dir) => inspect(dir, mutate) };
}
async function inspect(dir: string, mutate: Mutate): Promise<string[]> {
  const ds = path.join(dir, 'ds');
  await fs.cp(base, ds, { recursive: true });
  await mutate(ds);
  return ['data', 'inspect', ds, '--sheet', path.join(dir, 'sheet.png')];
}

const I = 'interactions';
const cases: Case[] = [
  bad(I, 'no interactions file', remove('interactions.csv'), /ds: no interactions file: expected interactions\.csv or interactions\.jsonl/),
  bad(I, 'empty interactions.csv', write('interactions.csv', ''), /interactions\.csv: empty file/),
  bad(I, 'header only', write('interactions.csv', 'user,item,timestamp\n'), /interactions\.csv: no interactions \(only a header\)/),
  bad(I, 'wrong header', lines('interactions.csv', (ls) => ['a,b,c', ...ls.slice(1)]), /interactions\.csv \(line 1\): missing header/),
  bad(I, 'two fields on a line', lines('interactions.csv', (ls) => ls.map((l, i) => (i === 4 ? 'u00,i01' : l))), /interactions\.csv \(line 5\): expected 3 fields/),
  bad(I, 'four fields on a line', lines('interactions.csv', (ls) => ls.map((l, i) => (i === 4 ? l + ',x' : l))), /interactions\.csv \(line 5\): expected 3 fields/),
  bad(I, 'unknown item', lines('interactions.csv', (ls) => [...ls, 'u00,ghost,1']), /interactions\.csv \(line \d+\): unknown item 'ghost'/),
  bad(I, 'unclosed quote', lines('interactions.csv', (ls) => ls.map((l, i) => (i === 2 ? '"u00,i03,1' : l))), /interactions\.csv \(line 3\): malformed CSV line/),
  bad(I, 'empty user id', lines('interactions.csv', (ls) => ls.map((l, i) => (i === 2 ? l.replace(/^u00/, '') : l))), /interactions\.csv \(line 3\): empty user id/),
  bad(I, 'interactions.csv is a folder', both(remove('interactions.csv'), (ds) => fs.mkdir(f(ds, 'interactions.csv'))), /interactions\.csv: cannot read interactions/),
  bad(I, 'both .csv and .jsonl', write('interactions.jsonl', '{"user":"u00","item":"i00"}\n'), /both interactions\.csv and interactions\.jsonl exist/),
  bad(I, 'broken .jsonl line', both(remove('interactions.csv'), write('interactions.jsonl', '{"user":"u00","item":"i00"}\n{"user":\n')), /interactions\.jsonl \(line 2\): malformed JSON/),
  bad(I, '.jsonl line not an object', both(remove('interactions.csv'), write('interactions.jsonl', '[1,2]\n')), /interactions\.jsonl \(line 1\): each line must be a JSON object/),
  bad(I, '.jsonl item missing', both(remove('interactions.csv'), write('interactions.jsonl', '{"user":"u00"}\n')), /interactions\.jsonl \(line 1\): missing or invalid "item"/),
  ok(I, 'BOM and CRLF line ends', async (ds) => {
    const t = await fs.readFile(f(ds, 'interactions.csv'), 'utf8');
    await fs.writeFile(f(ds, 'interactions.csv'), '\uFEFF' + t.replace(/\n/g, '\r\n'));
  }, /users\s+30\b/),
  ok(I, 'quoted user id with a comma', lines('interactions.csv', (ls) => ls.map((l) => l.replace(/^u00,/, '"u,00",'))), /users\s+30\b/),
  ok(I, 'no timestamps at all', lines('interactions.csv', (ls) => ls.map((l) => l.replace(/,[^,]*$/, ''))), /users\s+30\b/),
  ok(I, '.jsonl with numeric timestamps', both(remove('interactions.csv'), write('interactions.jsonl', '{"user":"u00","item":"i00","timestamp":5}\n{"user":"u01","item":"i01","timestamp":6}\n')), /users\s+2\b/),
];

const E = 'encoding';
cases.push(
  bad(E, 'invalid UTF-8 byte in a user id', bytes('interactions.csv', 'u05,', [0x75, 0xff, 0x2c]), /interactions\.csv \(line \d+\): invalid UTF-8 byte sequence/),
  bad(E, 'two user ids differing only in an invalid byte', both(bytes('interactions.csv', 'u06,', [0x75, 0x58, 0xff, 0x2c]), bytes('interactions.csv', 'u07,', [0x75, 0x58, 0xfe, 0x2c])), /interactions\.csv \(line \d+\): invalid UTF-8/),
  bad(E, 'invalid UTF-8 in items.csv', bytes('items.csv', 'dress', [0x64, 0xc3, 0x28]), /items\.csv \(line \d+\): invalid UTF-8/),
  bad(E, 'invalid UTF-8 in targets.txt', bytes('targets.txt', 'i12', [0x69, 0xe2, 0x82]), /targets\.txt \(line 1\): invalid UTF-8/),
  bad(E, 'invalid UTF-8 in dataset.json', bytes('dataset.json', 'synthetic', [0xf0, 0x28, 0x8c]), /dataset\.json \(line \d+\): invalid UTF-8/),
  ok(E, 'BOM in dataset.json', async (ds) => fs.writeFile(f(ds, 'dataset.json'), '\uFEFF' + (await fs.readFile(f(ds, 'dataset.json'), 'utf8'))), /users\s+30\b/),
  ok(E, 'valid multi-byte UTF-8 ids', lines('interactions.csv', (ls) => ls.map((l) => l.replace(/^u01,/, 'ü01-用户,'))), /users\s+30\b/),
);

const T = 'timestamps';
cases.push(
  bad(T, 'one blank timestamp', ts(''), /interactions\.csv \(line 4\): no timestamp, while \d+ of \d+ lines have one/),
  bad(T, 'hexadecimal 0x10', ts('0x10'), /\(line 4\): timestamp '0x10' is not a decimal number/),
  bad(T, 'binary 0b1', ts('0b1'), /\(line 4\): timestamp '0b1' is not a decimal number/),
  bad(T, 'NaN', ts('NaN'), /\(line 4\): timestamp 'NaN' is not a decimal number/),
  bad(T, 'Infinity', ts('Infinity'), /\(line 4\): timestamp 'Infinity' is not a decimal number/),
  bad(T, '1e400 (overflows)', ts('1e400'), /\(line 4\): timestamp '1e400' is not a finite number/),
  bad(T, 'ISO date', ts('2024-01-01'), /\(line 4\): timestamp '2024-01-01' is not a decimal number/),
  bad(T, 'digit separators 1_000', ts('1_000'), /\(line 4\): timestamp '1_000' is not a decimal number/),
  bad(T, '.jsonl string timestamp "0x10"', both(remove('interactions.csv'), write('interactions.jsonl', '{"user":"u00","item":"i00","timestamp":"0x10"}\n')), /interactions\.jsonl \(line 1\): timestamp '0x10' is not a decimal number/),
  bad(T, '.jsonl timestamp missing on one line', both(remove('interactions.csv'), write('interactions.jsonl', '{"user":"u00","item":"i00","timestamp":1}\n{"user":"u00","item":"i01"}\n')), /interactions\.jsonl \(line 2\): no timestamp, while 1 of 2/),
  bad(T, '.jsonl timestamp a boolean', both(remove('interactions.csv'), write('interactions.jsonl', '{"user":"u00","item":"i00","timestamp":true}\n')), /interactions\.jsonl \(line 1\): timestamp true is not a number/),
  ok(T, 'negative timestamp', ts('-5'), /users\s+30\b/),
  ok(T, 'decimal fraction', ts('1620666469.25'), /users\s+30\b/),
);

const IT = 'items.csv';
cases.push(
  bad(IT, 'duplicate item id', lines('items.csv', (ls) => [...ls, ls[1]!]), /items\.csv \(line \d+\): item 'i00' is listed twice/),
  bad(IT, 'empty category', lines('items.csv', (ls) => ls.map((l, i) => (i === 2 ? l.replace(/^(i01),[^,]*,/, '$1,,') : l))), /items\.csv: item 'i01' has no category while others have one/),
  bad(IT, 'category not declared', lines('items.csv', (ls) => ls.map((l, i) => (i === 2 ? l.replace(/^(i01),[^,]*,/, '$1,cape,') : l))), /items\.csv: category 'cape' of item 'i01' is not in dataset\.json categories/),
  bad(IT, 'missing header', lines('items.csv', (ls) => ls.slice(1)), /items\.csv \(line 1\): missing header/),
  bad(IT, 'attribute value not declared', lines('items.csv', (ls) => ls.map((l, i) => (i === 2 ? l.replace(/,[^,]*,([^,]*)$/, ',Navy,$1') : l))), /items\.csv \(line 3\): item 'i01' has colour 'Navy', which is not among the values/),
  bad(IT, 'declared attribute column missing', lines('items.csv', (ls) => ls.map((l) => l.replace(/,[^,]*$/, ''))), /items\.csv \(line 1\): dataset\.json declares the item attribute 'pattern' but items\.csv has no such column/),
  bad(IT, 'item id escaping the folder', lines('items.csv', (ls) => [...ls, '../evil,dress,red,solid']), /items\.csv \(line \d+\): item id '\.\.\/evil' escapes the dataset folder/),
);

const IM = 'images';
cases.push(
  bad(IM, 'truncated PNG', async (ds) => fs.truncate(f(ds, 'images/i03.png'), 40), /images\/i03\.png \(item 'i03'\): corrupt or unreadable image/),
  bad(IM, '0-byte image', write('images/i03.png', ''), /images\/i03\.png \(item 'i03'\): corrupt or unreadable image/),
  bad(IM, 'text file named .png', write('images/i03.png', 'hello, not a picture\n'), /images\/i03\.png \(item 'i03'\): corrupt or unreadable image/),
  bad(IM, 'missing image', remove('images/i03.png'), /\(item 'i03'\): missing image: no images\/i03\.png/),
  bad(IM, 'two images for one item', async (ds) => fs.copyFile(f(ds, 'images/i03.png'), f(ds, 'images/i03.jpg')), /item 'i03' has two images/),
  bad(IM, 'no images folder', remove('images'), /ds: no images folder/),
  bad(IM, 'image symlinked outside the folder', async (ds) => {
    await fs.rm(f(ds, 'images/i03.png'));
    await fs.symlink(path.join(base, 'images', 'i03.png'), f(ds, 'images/i03.png'));
  }, /images\/i03\.png \(item 'i03'\): image escapes the dataset folder/),
  bad(IM, 'CMYK JPEG', async (ds) => {
    await fs.rm(f(ds, 'images/i03.png'));
    await fs.writeFile(f(ds, 'images/i03.jpg'), await sharp(await png(16, 16, 3)).toColourspace('cmyk').jpeg().toBuffer());
  }, /images\/i03\.jpg \(item 'i03'\): image mode CMYK is not supported/),
  bad(IM, 'GIF named .png', async (ds) => fs.writeFile(f(ds, 'images/i03.png'), await sharp(await png(16, 16, 3)).gif().toBuffer()), /images\/i03\.png \(item 'i03'\): image format 'gif' is not supported/),
  ok(IM, 'greyscale image converted', async (ds) => fs.writeFile(f(ds, 'images/i03.png'), await png(16, 16, 1)), /1 image\(s\) in mode greyscale converted to RGB/),
  ok(IM, 'RGBA image converted', async (ds) => fs.writeFile(f(ds, 'images/i03.png'), await png(16, 16, 4)), /1 image\(s\) in mode RGBA converted to RGB \(alpha flattened onto white\)/),
  ok(IM, 'non-square image resized', async (ds) => fs.writeFile(f(ds, 'images/i03.png'), await png(24, 10, 3)), /1 image\(s\) are not 16x16 and are resized/),
  ok(IM, 'JPEG under a .png name', async (ds) => fs.writeFile(f(ds, 'images/i03.png'), await sharp(await png(16, 16, 3)).jpeg().toBuffer()), /decoded OK at 16x16/),
);

const TG = 'targets';
cases.push(
  bad(TG, 'unknown target id', lines('targets.txt', (ls) => [...ls, 'ghost']), /targets\.txt \(line 5\): unknown item 'ghost'/),
  bad(TG, 'empty targets.txt', write('targets.txt', '\n\n'), /targets\.txt: empty file/),
  bad(TG, 'only comments', write('targets.txt', '# none yet\n'), /targets\.txt: no target ids/),
  ok(TG, 'target with interactions: reported as warm', lines('interactions.csv', (ls) => [...ls, 'u00,i12,1620666470']), /1 of 4 target item\(s\) have training interactions and are evaluated as warm items, not cold-start: 'i12'/),
);

const DJ = 'dataset.json';
cases.push(
  bad(DJ, 'malformed JSON', write('dataset.json', '{"name": "x",}'), /dataset\.json: malformed JSON/),
  bad(DJ, 'empty', write('dataset.json', ''), /dataset\.json: empty file/),
  bad(DJ, 'a list', write('dataset.json', '[1]'), /dataset\.json: must hold a JSON object/),
  bad(DJ, 'imageSize 99999', write('dataset.json', '{"imageSize": 99999}'), /dataset\.json: imageSize must be an integer in \[1, 4096\], got 99999/),
  bad(DJ, 'categories not a list', write('dataset.json', '{"categories": "dress"}'), /dataset\.json: categories must be a list of strings/),
  bad(DJ, 'attributes without items.csv', both(remove('items.csv'), write('dataset.json', '{"attributes": {"colour": ["red"]}}')), /dataset\.json: declares item attributes \(colour\) but the folder has no items\.csv/),
  ok(DJ, 'counts that disagree: warned', write('dataset.json', '{"counts": {"users": 31, "items": 40, "interactions": 415, "targets": 4}}'), /counts\.users says 31 but the files hold 30/),
);

const P = 'dataset path';
cases.push(
  { area: P, name: 'folder does not exist', code: 1, message: /nope: dataset folder not found or not a folder/, absent: ['sheet.png'], args: (dir) => ['data', 'inspect', path.join(dir, 'nope'), '--sheet', path.join(dir, 'sheet.png')] },
  { area: P, name: 'a file, not a folder', code: 1, message: /file\.txt: dataset folder not found or not a folder/, absent: ['sheet.png'], args: async (dir) => {
    await fs.writeFile(path.join(dir, 'file.txt'), 'x');
    return ['data', 'inspect', path.join(dir, 'file.txt'), '--sheet', path.join(dir, 'sheet.png')];
  } },
  { area: P, name: 'unknown synth profile', code: 1, message: /unknown synthetic profile 'huge' in 'synth:huge': allowed are tiny, default, large/, absent: ['sheet.png'], args: (dir) => ['data', 'inspect', 'synth:huge', '--sheet', path.join(dir, 'sheet.png')] },
  { area: P, name: '--sheet under a file', code: 1, message: /cannot write \(a parent of it is a file, not a folder\)/, args: async (dir) => {
    await fs.cp(base, path.join(dir, 'ds'), { recursive: true });
    await fs.writeFile(path.join(dir, 'file'), 'x');
    return ['data', 'inspect', path.join(dir, 'ds'), '--sheet', path.join(dir, 'file', 'sheet.png')];
  } },
);

describe('bad-input corpus: dataset folders', () => {
  cases.forEach((c, i) => it(`${c.area}: ${c.name}`, { timeout: 30_000 }, () => check(c, root, i)));
});

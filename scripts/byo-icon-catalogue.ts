/**
 * A non-synthetic catalogue from real artwork on disk (issue 18's worked example): the Adwaita icon
 * theme's PNG icons (Debian's adwaita-icon-theme, /usr/share/icons/Adwaita) rendered as product
 * shots and written in the generic folder format (src/data/README.md).
 *
 * Images: each icon (largest size on disk) centred on a light background with a margin, at --size.
 * Items: one per distinct full-colour icon name (monochrome '-symbolic' icons skipped); category = the icon's context folder (devices, places,
 * mimetypes, legacy, ...), colour = the hue bin of its opaque pixels (6 hues + grey).
 * Interactions are SYNTHESISED (the icons come with none): each user draws tastes (softmax of
 * N(0, 1.5^2) logits) over categories and colour bins; an interaction picks item i with probability
 * proportional to taste(category_i) * taste(colour_i); activity is lognormal (median 10).
 * Targets: --targets items drawn by seed, held out of every user's interactions (cold-start).
 * Everything comes from --seed.
 *
 *   npx tsx scripts/byo-icon-catalogue.ts --out /tmp/icons --users 900 --size 64 [--icons DIR]
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { Rng } from '../src/core/rng.js';

interface Args { out: string; icons: string; users: number; size: number; targets: number; seed: number; maxItems: number }

function parseArgs(argv: string[]): Args {
  const a: Args = { out: '', icons: '/usr/share/icons/Adwaita', users: 900, size: 64, targets: 10, seed: 1, maxItems: 100000 };
  for (let i = 0; i < argv.length; i += 2) {
    const k = argv[i]!.replace(/^--/, '');
    const v = argv[i + 1];
    if (!(k in a) || v === undefined) throw new Error(`byo-icon-catalogue: unknown or valueless option '${argv[i]}' (options: ${Object.keys(a).join(', ')})`);
    (a as unknown as Record<string, string | number>)[k] = typeof (a as unknown as Record<string, unknown>)[k] === 'number' ? Number(v) : v;
  }
  if (!a.out) throw new Error('byo-icon-catalogue: --out DIR is required');
  return a;
}

/** icon name -> { file of its largest PNG, context folder }. */
async function findIcons(root: string): Promise<Map<string, { file: string; context: string; px: number }>> {
  const out = new Map<string, { file: string; context: string; px: number }>();
  for (const sizeDir of await fs.readdir(root)) {
    const m = /^(\d+)x\d+$/.exec(sizeDir);
    if (!m) continue;
    const px = Number(m[1]);
    for (const context of await fs.readdir(path.join(root, sizeDir)).catch(() => [] as string[])) {
      for (const f of await fs.readdir(path.join(root, sizeDir, context)).catch(() => [] as string[])) {
        if (!f.endsWith('.png') || f.includes('-symbolic')) continue; // full-colour icons only
        const name = f.slice(0, -4);
        const prev = out.get(name);
        if (!prev || px > prev.px) out.set(name, { file: path.join(root, sizeDir, context, f), context, px });
      }
    }
  }
  return out;
}

/** Render an icon as a product shot; returns the PNG bytes and its colour bin. */
async function render(file: string, size: number): Promise<{ png: Buffer; colour: string }> {
  const inner = Math.round(size * 0.8);
  const icon = await sharp(file).ensureAlpha().resize(inner, inner, { fit: 'contain', background: { r: 0, g: 0, b: 0, alpha: 0 } }).raw().toBuffer({ resolveWithObject: true });
  let r = 0, g = 0, b = 0, w = 0;
  for (let i = 0; i < icon.data.length; i += 4) {
    const al = icon.data[i + 3]! / 255;
    r += icon.data[i]! * al; g += icon.data[i + 1]! * al; b += icon.data[i + 2]! * al; w += al;
  }
  const [R, G, B] = [r / w / 255, g / w / 255, b / w / 255];
  const mx = Math.max(R, G, B), mn = Math.min(R, G, B);
  let colour = 'grey';
  if (mx - mn > 0.12) {
    const h = mx === R ? ((G - B) / (mx - mn) + 6) % 6 : mx === G ? (B - R) / (mx - mn) + 2 : (R - G) / (mx - mn) + 4;
    colour = ['red', 'yellow', 'green', 'cyan', 'blue', 'magenta'][Math.floor(h + 0.5) % 6]!;
  }
  const pad = Math.floor((size - inner) / 2);
  const png = await sharp({ create: { width: size, height: size, channels: 3, background: { r: 244, g: 241, b: 236 } } })
    .composite([{ input: await sharp(icon.data, { raw: { width: inner, height: inner, channels: 4 } }).png().toBuffer(), left: pad, top: pad }])
    .png()
    .toBuffer();
  // composite leaves an alpha channel: store plain RGB (the background is opaque)
  return { png: await sharp(png).removeAlpha().png().toBuffer(), colour };
}

function softmax(logits: number[]): number[] {
  const m = Math.max(...logits);
  const e = logits.map((v) => Math.exp(v - m));
  const s = e.reduce((x, y) => x + y, 0);
  return e.map((v) => v / s);
}

async function main(): Promise<void> {
  const a = parseArgs(process.argv.slice(2));
  const rng = new Rng(a.seed);
  const icons = [...(await findIcons(a.icons)).entries()].sort((x, y) => (x[0] < y[0] ? -1 : 1)).slice(0, a.maxItems);
  if (icons.length < 50) throw new Error(`byo-icon-catalogue: ${a.icons}: only ${icons.length} PNG icons found (need 50)`);
  await fs.mkdir(path.join(a.out, 'images'), { recursive: true });
  const items: { id: string; category: string; colour: string }[] = [];
  for (const [k, [name, icon]] of icons.entries()) {
    const id = `i${String(k).padStart(4, '0')}`;
    const { png, colour } = await render(icon.file, a.size);
    await fs.writeFile(path.join(a.out, 'images', `${id}.png`), png);
    items.push({ id, category: icon.context, colour });
    void name;
  }
  const cats = [...new Set(items.map((i) => i.category))].sort();
  const cols = [...new Set(items.map((i) => i.colour))].sort();
  const targets = new Set(rng.fork('targets').shuffle(items.map((_, i) => i)).slice(0, a.targets));
  const pool = items.map((_, i) => i).filter((i) => !targets.has(i));
  const lines = ['user,item,timestamp'];
  const ur = rng.fork('users');
  for (let u = 0; u < a.users; u++) {
    const tc = softmax(cats.map(() => ur.normal() * 1.5));
    const tk = softmax(cols.map(() => ur.normal() * 1.5));
    const weights = pool.map((i) => tc[cats.indexOf(items[i]!.category)]! * tk[cols.indexOf(items[i]!.colour)]!);
    const n = Math.min(pool.length, Math.max(3, Math.round(Math.exp(Math.log(10) + 0.6 * ur.normal()))));
    const chosen = new Set<number>();
    for (let t = 0; chosen.size < n && t < n * 30; t++) chosen.add(pool[ur.weightedIndex(weights)]!);
    [...chosen].forEach((i, t) => lines.push(`u${u},${items[i]!.id},${t + 1}`));
  }
  await fs.writeFile(path.join(a.out, 'interactions.csv'), lines.join('\n') + '\n');
  await fs.writeFile(path.join(a.out, 'items.csv'), ['item,category,colour', ...items.map((i) => `${i.id},${i.category},${i.colour}`)].join('\n') + '\n');
  await fs.writeFile(path.join(a.out, 'targets.txt'), [...targets].sort((x, y) => x - y).map((i) => items[i]!.id).join('\n') + '\n');
  const source = `Adwaita icon theme PNGs (${a.icons}) rendered as ${a.size}px product shots; interactions synthesised from per-user tastes over icon context and colour (scripts/byo-icon-catalogue.ts, seed ${a.seed})`;
  await fs.writeFile(path.join(a.out, 'dataset.json'), JSON.stringify({ name: 'adwaita-icons', profile: 'imported', seed: a.seed, source, imageSize: a.size, attributes: { colour: cols } }, null, 2) + '\n');
  console.log(`wrote ${a.out}: ${items.length} items (${cats.length} categories, ${cols.length} colours), ${a.users} users, ${lines.length - 1} interactions, ${targets.size} targets`);
}

main().catch((err: unknown) => {
  console.error((err as Error).message);
  process.exit(1);
});

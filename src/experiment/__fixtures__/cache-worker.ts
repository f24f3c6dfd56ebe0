/**
 * One process of the concurrent-cache test (../cache.test.ts): `rounds` times over `keys` entries
 * of one shared cache, get each artefact (building it when absent, slowly, in several files) and
 * check that what loads is complete and consistent. Prints one JSON line {gets, built, errors}.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { ArtefactCache } from '../cache.js';

const [root, roundsText, keysText] = process.argv.slice(2) as [string, string, string];
const rounds = Number(roundsText),
  keys = Number(keysText);

async function main(): Promise<void> {
  let gets = 0,
    built = 0;
  const errors: string[] = [];
  for (let r = 0; r < rounds; r++) {
    for (let k = 0; k < keys; k++) {
      // each round a fresh cache object: the hit test goes to the file system every time
      const cache = new ArtefactCache(root);
      try {
        const res = await cache.get(
          'race',
          { r, k }, // a fresh key each round: the four processes race to build every entry
          async (dir) => {
            built++;
            const body = new Uint8Array(64 * 1024).fill(k + 1);
            await fs.writeFile(path.join(dir, 'a.bin'), body);
            await new Promise((ok) => setTimeout(ok, 5 + Math.random() * 20));
            await fs.mkdir(path.join(dir, 'sub'));
            await fs.writeFile(path.join(dir, 'sub', 'b.json'), JSON.stringify({ r, k, bytes: body.length }));
          },
          async (dir) => {
            const a = await fs.readFile(path.join(dir, 'a.bin'));
            await new Promise((ok) => setTimeout(ok, Math.random() * 5)); // read slowly: an entry must not vanish meanwhile
            const b = JSON.parse(await fs.readFile(path.join(dir, 'sub', 'b.json'), 'utf8')) as { r: number; k: number; bytes: number };
            return { a, b };
          },
        );
        gets++;
        const { a, b } = res.value;
        if (b.k !== k || b.r !== r || b.bytes !== a.length || a.some((x) => x !== k + 1)) errors.push(`key ${k}: inconsistent entry`);
      } catch (err) {
        errors.push(`key ${k}: ${(err as NodeJS.ErrnoException).code ?? ''} ${(err as Error).message}`);
      }
    }
  }
  process.stdout.write(JSON.stringify({ gets, built, errors }) + '\n');
}

await main();

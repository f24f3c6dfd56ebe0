/**
 * One writer process of the shared-store test (src/queue/store.test.ts): builds the artefact
 * `shared/{key:1}` of the cache at `root`, writing `mb` MiB of its own marker byte in 64 KiB
 * pieces with a pause between them (so writers overlap), after saying it is ready (`go`.ready-marker)
 * and waiting until `go` exists. Prints
 * one JSON line: whether it built, and what it loaded (marker bytes seen, size).
 */
import { existsSync, promises as fs, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ArtefactCache } from '../../src/experiment/cache.js';

const [root, markerText, go, mbText, pauseText] = process.argv.slice(2) as [string, string, string, string, string];
const marker = Number(markerText);
const pieces = Number(mbText) * 16;
const pause = Number(pauseText);

writeFileSync(`${go}.ready-${marker}`, '');
while (!existsSync(go)) await new Promise((r) => setTimeout(r, 5));
const cache = new ArtefactCache(root);
let built = false;
const res = await cache.get(
  'shared',
  { key: 1 },
  async (dir) => {
    built = true;
    const fh = await fs.open(path.join(dir, 'body.bin'), 'w');
    for (let i = 0; i < pieces; i++) {
      await fh.write(new Uint8Array(64 * 1024).fill(marker));
      await new Promise((r) => setTimeout(r, pause));
    }
    await fh.close();
  },
  async (dir) => fs.readFile(path.join(dir, 'body.bin')),
);
const markers = [...new Set(res.value)];
process.stdout.write(JSON.stringify({ built, markers, bytes: res.value.length }) + '\n');

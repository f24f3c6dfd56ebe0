/**
 * Issue 17: cache keys that cannot go stale. A dataset folder edited in place (one image changed)
 * rebuilds every artefact that depends on the images; an unchanged folder is answered from the
 * cache and its content key from the stat manifest (no file re-read).
 */
import { execFileSync } from 'node:child_process';
import { promises as fs, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { folderContentKey } from '../data/content-key.js';
import { writeDatasetFolder } from '../data/folder-format.js';
import { encodePngRgb } from '../data/png.js';
import { synthesizeCatalogue } from '../data/synth/catalogue.js';
import { parseConfig } from './config.js';
import { runExperiment } from './runner.js';

const root = mkdtempSync(path.join(tmpdir(), 'auv-ckey-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

async function smallFolder(dir: string): Promise<void> {
  const ds = synthesizeCatalogue({ profile: 'tiny', seed: 3, overrides: { numUsers: 40, numItems: 48, numTargets: 4, imageSize: 16 } });
  await writeDatasetFolder(ds, dir, { progress: false });
}

describe('dataset content key', () => {
  it('changes with any byte of any file, survives cp -p, and reuses hashes of unchanged files', async () => {
    const dir = path.join(root, 'k');
    await smallFolder(dir);
    const manifests = path.join(root, 'k-manifests');
    const a = await folderContentKey(dir, manifests);
    expect(a.files).toBe(48 + 4);
    expect(a.hashed).toBe(a.files);
    const b = await folderContentKey(dir, manifests);
    expect(b).toEqual({ ...a, hashed: 0 }); // warm: every hash answered from the stat manifest
    // an in-place edit that keeps size and mtime (cp -p of a same-size file) is still seen (ctime)
    const img = path.join(dir, 'images', (await fs.readdir(path.join(dir, 'images'))).sort()[0]!);
    const ref = path.join(root, 'ref.png');
    execFileSync('cp', ['-p', img, ref]); // keeps the original mtime (ns)
    const st = await fs.stat(img);
    const bytes = await fs.readFile(img);
    bytes[bytes.length - 20] ^= 0xff; // different content, same size
    await fs.writeFile(img, bytes);
    execFileSync('touch', ['-r', ref, img]); // mtime set back, as cp -p / rsync -t would
    expect((await fs.stat(img)).mtimeMs).toBe(st.mtimeMs);
    expect((await fs.stat(img)).size).toBe(st.size);
    const c = await folderContentKey(dir, manifests);
    expect(c.key).not.toBe(a.key);
    expect(c.hashed).toBe(1);
    // a new file in the folder counts too
    await fs.writeFile(path.join(dir, 'targets.txt'), (await fs.readFile(path.join(dir, 'targets.txt'), 'utf8')) + '# note\n');
    expect((await folderContentKey(dir, manifests)).key).not.toBe(c.key);
  });

  it('one image changed in place: every artefact that depends on the images is rebuilt', async () => {
    const dir = path.join(root, 'run-ds');
    await smallFolder(dir);
    const cfg = parseConfig({
      dataset: dir,
      seeds: [1],
      maxTargets: 2,
      encoders: { victim: { epochs: 1, batch: 16 }, surrogate: { epochs: 1, batch: 16 }, semantic: { epochs: 1, batch: 16 } },
      victims: ['vbpr'],
      victimConfig: { epochs: 1 },
      detector: false,
      attacks: [{ name: 'none' }, { name: 'random', params: { budget: 16 } }],
      cacheDir: path.join(root, 'cache'),
      out: path.join(root, 'out'),
    });
    const first = await runExperiment(cfg, { quiet: true });
    const stages = (s: { manifest: { cache: unknown } }) => s.manifest.cache as { hits: number; misses: number };
    expect(stages(first.results).hits).toBe(0);
    const again = await runExperiment(cfg, { quiet: true });
    expect(stages(again.results)).toEqual({ hits: stages(first.results).misses, misses: 0 });

    // replace the pixels of one item's image in place (same file name, same size on disk or not)
    const target = path.join(dir, 'images', (await fs.readdir(path.join(dir, 'images'))).sort()[5]!);
    const px = new Float32Array(16 * 16 * 3).fill(0.5);
    await fs.writeFile(target, encodePngRgb(px, 16, 16));
    const edited = await runExperiment(cfg, { quiet: true });
    // encoders x3, victim, accuracy, random attack, two evaluations: all rebuilt, nothing reused
    expect(stages(edited.results)).toEqual({ hits: 0, misses: stages(first.results).misses });
  });
});

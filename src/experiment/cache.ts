/**
 * Artefact cache: every trained or computed artefact lives in `<cacheDir>/<stage>/<hash>/`, where
 * hash = configHash of exactly what it depends on (its config, seed and upstream hashes). A folder
 * is created atomically (temp folder + rename), so after a kill -9 at any point an artefact is
 * either complete or absent, and a rerun recomputes only what is missing.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { configHash } from '../core/hash.js';
import { writeDirAtomic } from '../core/fsutil.js';

/**
 * Bumped whenever what an artefact means changes without its config changing (the synthetic
 * images, the encoders' objective, the victims' feature preprocessing), so that an old cache is
 * never reused for new code. 2: coarser patterns with a visible main colour, F/G trained on every
 * item label set, victims whiten their features.
 */
export const ARTEFACT_VERSION = 2;

export interface CacheStats {
  hits: string[];
  misses: string[];
}

export class ArtefactCache {
  readonly stats: CacheStats = { hits: [], misses: [] };
  constructor(readonly root: string) {}

  key(stage: string, deps: unknown): { stage: string; hash: string; dir: string } {
    const hash = configHash({ stage, deps, version: ARTEFACT_VERSION });
    return { stage, hash, dir: path.join(this.root, stage, hash) };
  }

  /**
   * The artefact of `stage` for `deps`: `build(tmpDir)` writes it when absent (atomically), then
   * `load(dir)` reads it. Returns the loaded value and the cache key hash.
   */
  async get<T>(stage: string, deps: unknown, build: (tmpDir: string) => Promise<void>, load: (dir: string) => Promise<T>): Promise<{ value: T; hash: string; hit: boolean }> {
    const k = this.key(stage, deps);
    const hit = existsSync(path.join(k.dir, '.complete'));
    if (hit) this.stats.hits.push(`${stage}/${k.hash}`);
    else {
      this.stats.misses.push(`${stage}/${k.hash}`);
      await writeDirAtomic(k.dir, async (tmp) => {
        await build(tmp);
        const { writeFile } = await import('node:fs/promises');
        await writeFile(path.join(tmp, '.complete'), JSON.stringify({ stage, deps }) + '\n');
      });
    }
    return { value: await load(k.dir), hash: k.hash, hit };
  }
}

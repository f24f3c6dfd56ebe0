/**
 * Artefact cache: every trained or computed artefact lives in `<cacheDir>/<stage>/<hash>/`, where
 * hash = configHash of exactly what it depends on (its config, seed, upstream hashes and the
 * dataset's content key). Safe under concurrent processes sharing one cache:
 *
 * - write-once, first writer wins: an artefact is built in a private temporary folder
 *   `.<hash>.tmp-<host>-<pid>-...` and renamed into place only if no entry exists; a process that
 *   loses the race discards its copy and loads the winner's. A live entry is never renamed away or
 *   replaced, so a reader never sees one disappear.
 * - after a kill -9 an artefact is either complete or absent; the killed process's temporaries are
 *   reclaimed by the next writer of that stage (same host and the process is gone, or older than a
 *   day for other hosts).
 */
import { existsSync, promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { configHash } from '../core/hash.js';

/**
 * Bumped whenever what an artefact means changes without its config changing (the synthetic
 * images, the encoders' objective, the victims' feature preprocessing), so that an old cache is
 * never reused for new code. 2: coarser patterns with a visible main colour, F/G trained on every
 * item label set, victims whiten their features. 3: every model (encoder, victim, surrogate, fitted
 * diffusion) is stored in the one weight-file format of src/core/weights.ts (manifest.json +
 * tensors.bin), so an entry in an older layout is never handed to the new reader.
 */
export const ARTEFACT_VERSION = 3;

/** Temporaries of another host are reclaimed after this long (its pids cannot be checked). */
const FOREIGN_TMP_MS = 24 * 3600 * 1000;
const HOST = os.hostname().replace(/[^\w.-]/g, '_');
/** A cache temporary, or one that a builder's own atomic writes (core/fsutil) made beside it. */
const TMP_RE = /^\.+[0-9a-f]+\.tmp-(.+?)-(\d+)-(\d+)-\d+(\.|$)/;
let counter = 0;

export interface CacheStats {
  hits: string[];
  misses: string[];
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Remove temporaries in `stageDir` left by processes that are gone (kill -9, power loss). */
export async function reclaimStaleTemporaries(stageDir: string, now = Date.now()): Promise<string[]> {
  const names = await fs.readdir(stageDir).catch(() => [] as string[]);
  const removed: string[] = [];
  for (const name of names) {
    const m = TMP_RE.exec(name);
    if (!m) continue;
    const [, host, pid, t] = m as unknown as [string, string, string, string];
    const stale = host === HOST ? Number(pid) !== process.pid && !alive(Number(pid)) : now - Number(t) > FOREIGN_TMP_MS;
    if (!stale) continue;
    await fs.rm(path.join(stageDir, name), { recursive: true, force: true });
    removed.push(name);
  }
  return removed;
}

export class ArtefactCache {
  readonly stats: CacheStats = { hits: [], misses: [] };
  constructor(readonly root: string) {}

  key(stage: string, deps: unknown): { stage: string; hash: string; dir: string } {
    const hash = configHash({ stage, deps, version: ARTEFACT_VERSION });
    return { stage, hash, dir: path.join(this.root, stage, hash) };
  }

  /**
   * The artefact of `stage` for `deps`: `build(tmpDir)` writes it when absent, then `load(dir)`
   * reads it. Returns the loaded value and the cache key hash. `hit` is false when this call built
   * the artefact (even if another process published the same artefact first).
   */
  async get<T>(stage: string, deps: unknown, build: (tmpDir: string) => Promise<void>, load: (dir: string) => Promise<T>): Promise<{ value: T; hash: string; hit: boolean }> {
    const k = this.key(stage, deps);
    const hit = existsSync(path.join(k.dir, '.complete'));
    if (hit) this.stats.hits.push(`${stage}/${k.hash}`);
    else {
      this.stats.misses.push(`${stage}/${k.hash}`);
      await this.publish(k, deps, build);
    }
    return { value: await load(k.dir), hash: k.hash, hit };
  }

  /** Build into a private temporary folder, then rename it into place unless an entry exists. */
  private async publish(k: { stage: string; hash: string; dir: string }, deps: unknown, build: (tmpDir: string) => Promise<void>): Promise<void> {
    const stageDir = path.dirname(k.dir);
    await fs.mkdir(stageDir, { recursive: true });
    await reclaimStaleTemporaries(stageDir);
    counter += 1;
    const tmp = path.join(stageDir, `.${k.hash}.tmp-${HOST}-${process.pid}-${Date.now()}-${counter}`);
    await fs.mkdir(tmp);
    try {
      await build(tmp);
      await fs.writeFile(path.join(tmp, '.complete'), JSON.stringify({ stage: k.stage, deps }) + '\n');
      if (existsSync(path.join(k.dir, '.complete'))) return; // another process won the race
      if (existsSync(k.dir)) await this.discardIncomplete(k.dir);
      try {
        await fs.rename(tmp, k.dir);
      } catch (err) {
        // ENOTEMPTY/EEXIST: another process published between our check and our rename
        const code = (err as NodeJS.ErrnoException).code;
        if (!(code === 'ENOTEMPTY' || code === 'EEXIST') || !existsSync(path.join(k.dir, '.complete'))) throw err;
      }
    } finally {
      await fs.rm(tmp, { recursive: true, force: true });
    }
  }

  /** An entry folder without `.complete` is not an artefact (made by hand or by old code): move it aside. */
  private async discardIncomplete(dir: string): Promise<void> {
    counter += 1;
    const aside = path.join(path.dirname(dir), `.${path.basename(dir)}.tmp-${HOST}-${process.pid}-${Date.now()}-${counter}`);
    await fs.rename(dir, aside).catch(() => undefined);
    await fs.rm(aside, { recursive: true, force: true });
  }
}

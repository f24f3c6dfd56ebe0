/**
 * Issue 17: one artefact cache shared by concurrent processes. Readers never see an entry
 * disappear (write-once, first writer wins) and the temporaries of killed processes are reclaimed.
 * Real processes (child_process), bounded in time.
 */
import { spawn } from 'node:child_process';
import { promises as fs, mkdtempSync, rmSync } from 'node:fs';
import os, { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ArtefactCache, reclaimStaleTemporaries } from './cache.js';

const root = mkdtempSync(path.join(tmpdir(), 'auv-cache-race-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const here = path.dirname(new URL(import.meta.url).pathname);

function runWorker(cacheRoot: string, rounds: number, keys: number): Promise<{ gets: number; built: number; errors: string[]; code: number | null }> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ['--import', 'tsx', path.join(here, '__fixtures__', 'cache-worker.ts'), cacheRoot, String(rounds), String(keys)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '',
      err = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const timer = setTimeout(() => p.kill('SIGKILL'), 90_000);
    p.on('error', reject);
    p.on('close', (code) => {
      clearTimeout(timer);
      try {
        resolve({ ...(JSON.parse(out.trim().split('\n').at(-1)!) as { gets: number; built: number; errors: string[] }), code });
      } catch {
        reject(new Error(`worker failed (${code}): ${err.slice(-500)}`));
      }
    });
  });
}

/** The pid of a process that has exited (for a temporary left by a killed run). */
function deadPid(): Promise<number> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, ['-e', '0']);
    p.on('close', () => resolve(p.pid!));
  });
}

describe('artefact cache under concurrent processes', () => {
  it('four processes reading and writing one cache: no failure, every entry complete, stale temporaries reclaimed', async () => {
    const cacheRoot = path.join(root, 'shared');
    // a temporary left by a killed process (same host, pid gone) and one of a live process
    const stage = path.join(cacheRoot, 'race');
    await fs.mkdir(stage, { recursive: true });
    const host = os.hostname().replace(/[^\w.-]/g, '_');
    const stale = path.join(stage, `.0123456789abcdef.tmp-${host}-${await deadPid()}-${Date.now()}-1`);
    const live = path.join(stage, `.0123456789abcdef.tmp-${host}-${process.pid}-${Date.now()}-1`);
    // and what a builder's own atomic save (core/fsutil) leaves beside a killed process's temporary
    const staleNested = path.join(stage, `.${path.basename(stale)}.tmp-${path.basename(stale).split('-').at(-3)}-${Date.now()}-2.old`);
    await fs.mkdir(stale);
    await fs.mkdir(staleNested);
    await fs.mkdir(live);
    const rounds = 12,
      keys = 5;
    const results = await Promise.all([0, 1, 2, 3].map(() => runWorker(cacheRoot, rounds, keys)));
    for (const r of results) {
      expect(r.errors).toEqual([]);
      expect(r.code).toBe(0);
      expect(r.gets).toBe(rounds * keys);
    }
    // each entry was built at least once; losers of a race discarded their copy
    expect(results.reduce((s, r) => s + r.built, 0)).toBeGreaterThanOrEqual(rounds * keys);
    const names = await fs.readdir(stage);
    expect(names.filter((n) => !n.startsWith('.')).length).toBe(rounds * keys);
    expect(names).not.toContain(path.basename(stale));
    expect(names).not.toContain(path.basename(staleNested));
    expect(names).toContain(path.basename(live)); // a live process's temporary is left alone
    expect(names.filter((n) => n.startsWith('.') && n !== path.basename(live))).toEqual([]);
  });

  it('never replaces a published entry: the first writer wins', async () => {
    const cache = new ArtefactCache(path.join(root, 'once'));
    const build = (text: string) => async (dir: string) => fs.writeFile(path.join(dir, 'v.txt'), text);
    const load = (dir: string) => fs.readFile(path.join(dir, 'v.txt'), 'utf8');
    // two builds of the same key racing in one process: both finish, the first rename stays
    const [a, b] = await Promise.all([cache.get('s', { x: 1 }, build('first'), load), cache.get('s', { x: 1 }, async (dir) => {
      await new Promise((ok) => setTimeout(ok, 30));
      await build('second')(dir);
    }, load)]);
    expect(a.value).toBe('first');
    expect(b.value).toBe('first');
    expect(await reclaimStaleTemporaries(path.join(root, 'once', 's'))).toEqual([]);
  });
});

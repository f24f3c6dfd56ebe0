/**
 * Issue 19: the artefact cache as the store every worker shares. Real writer processes build the
 * same artefact at once, each with its own content: one product wins whole, every process loads
 * that product complete, and a writer killed with kill -9 mid-build leaves nothing half-written.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const root = mkdtempSync(path.join(tmpdir(), 'auv-store-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const fixture = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..', 'test', 'queue', 'store-writer.ts');

function writer(cacheRoot: string, marker: number, go: string, mb: number, pauseMs: number): { proc: ChildProcess; result: Promise<{ built: boolean; markers: number[]; bytes: number }> } {
  const proc = spawn(process.execPath, ['--import', 'tsx', fixture, cacheRoot, String(marker), go, String(mb), String(pauseMs)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const result = new Promise<{ built: boolean; markers: number[]; bytes: number }>((resolve, reject) => {
    proc.on('close', (code) => (code === 0 ? resolve(JSON.parse(out.trim().split('\n').at(-1)!)) : reject(new Error(`writer ${marker} exited ${code}: ${err.slice(-400)}`))));
  });
  return { proc, result };
}

describe('shared artefact store', () => {
  it('two processes build one artefact at once: one product wins whole, both load it complete; a killed writer leaves nothing', async () => {
    const cacheRoot = path.join(root, 'cache');
    const stage = path.join(cacheRoot, 'shared');
    // a writer killed with kill -9 in the middle of its build
    const goKilled = path.join(root, 'go-killed');
    writeFileSync(goKilled, '');
    const killed = writer(cacheRoot, 9, goKilled, 4, 200);
    killed.result.catch(() => undefined);
    const t0 = Date.now();
    while (!(existsSync(stage) && readdirSync(stage).some((n) => n.includes('.tmp-'))) && Date.now() - t0 < 60_000) await new Promise((r) => setTimeout(r, 20));
    killed.proc.kill('SIGKILL');
    await new Promise((r) => killed.proc.once('exit', r));
    expect(readdirSync(stage).filter((n) => !n.startsWith('.'))).toEqual([]); // nothing published

    // two writers with different content, released together, overlapping for ~0.5 s
    const go = path.join(root, 'go');
    const a = writer(cacheRoot, 1, go, 2, 15);
    const b = writer(cacheRoot, 2, go, 2, 15);
    while (!(existsSync(`${go}.ready-1`) && existsSync(`${go}.ready-2`))) await new Promise((r) => setTimeout(r, 20)); // both loaded and waiting
    writeFileSync(go, '');
    const [ra, rb] = await Promise.all([a.result, b.result]);
    expect([ra.built, rb.built]).toEqual([true, true]); // both raced to build it
    expect(ra.markers).toHaveLength(1); // one writer's bytes only, never a mix
    expect(rb.markers).toEqual(ra.markers);
    expect(ra.bytes).toBe(2 * 1024 * 1024);
    expect(rb.bytes).toBe(2 * 1024 * 1024);
    expect([1, 2]).toContain(ra.markers[0]);
    // one entry, and no temporaries: the losers' and the killed writer's are gone
    const names = readdirSync(stage);
    expect(names.filter((n) => !n.startsWith('.'))).toHaveLength(1);
    expect(names.filter((n) => n.startsWith('.'))).toEqual([]);
  });
});

import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PNG } from 'pngjs';
import { main } from '../main.js';

let base: string;
beforeAll(async () => {
  base = await fs.mkdtemp(path.join(os.tmpdir(), 'auv-cli-data-'));
});
afterAll(async () => {
  await fs.rm(base, { recursive: true, force: true });
});

async function run(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '',
    err = '';
  const o = vi.spyOn(process.stdout, 'write').mockImplementation((s) => ((out += String(s)), true));
  const e = vi.spyOn(process.stderr, 'write').mockImplementation((s) => ((err += String(s)), true));
  try {
    const code = await main(['node', 'auv-fusion', '--backend', 'cpu', ...args]);
    return { code, out, err };
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
}

describe('auv-fusion data', () => {
  it('synth writes a dataset folder that inspect reads, with a contact sheet', async () => {
    const out = path.join(base, 'ds');
    const r = await run('data', 'synth', '--profile', 'tiny', '--seed', '3', '--users', '30', '--items', '40', '--targets', '4', '--out', out);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/30 users, 40 items, \d+ interactions, 4 cold-start targets, 32x32 images/);
    const files = await fs.readdir(out);
    expect(files.sort()).toEqual(['dataset.json', 'images', 'interactions.csv', 'items.csv', 'targets.txt']);
    const sheet = path.join(base, 'sheet.png');
    const i = await run('data', 'inspect', out, '--sheet', sheet, '--per-row', '3');
    expect(i.code).toBe(0);
    expect(i.out).toMatch(/users\s+30/);
    expect(i.out).toMatch(/targets\s+4 \(4 cold\)/);
    expect(i.out).toContain(`contact sheet ${sheet}`);
    const png = PNG.sync.read(await fs.readFile(sheet));
    expect(png.width).toBe(3 * 34 + 2);
    expect(png.height).toBe(8 * 34 + 2);
  });

  it('inspects a synth: spec without writing a dataset', async () => {
    const sheet = path.join(base, 'synth-sheet.png');
    const r = await run('data', 'inspect', 'synth:tiny:2', '--sheet', sheet);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/profile tiny, seed 2/);
    expect(r.out).toMatch(/300 rendered on demand at 32x32/);
    expect((await fs.stat(sheet)).size).toBeGreaterThan(1000);
  });

  it('bad input: one line on stderr, exit code 1, no output written', async () => {
    const out = path.join(base, 'ds2');
    expect((await run('data', 'synth', '--profile', 'tiny', '--users', '20', '--items', '30', '--out', out)).code).toBe(0);
    await fs.writeFile(path.join(out, 'targets.txt'), 'i00\nghost\n');
    const sheet = path.join(base, 'never.png');
    const r = await run('data', 'inspect', out, '--sheet', sheet);
    expect(r.code).toBe(1);
    expect(r.err.trim().split('\n').filter((l) => l.startsWith('auv-fusion: error')).length).toBe(1);
    expect(r.err).toMatch(/targets\.txt \(line 2\): unknown item 'ghost'/);
    await expect(fs.stat(sheet)).rejects.toThrow();
    const bad = await run('data', 'synth', '--profile', 'tiny', '--seed', '-4', '--out', path.join(base, 'ds3'));
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/--seed must be an integer/);
    await expect(fs.stat(path.join(base, 'ds3'))).rejects.toThrow();
  });
});

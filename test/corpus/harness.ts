/**
 * The bad-input corpus (issue 17): each case runs the CLI's entry function in-process on a prepared
 * input and asserts the exit code, the one-line message and that no partial output was left.
 */
import { existsSync, promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect, vi } from 'vitest';
import { main } from '../../src/cli/main.js';

export type Outcome = 'clear error' | 'accepted correctly';

export interface Case {
  area: string;
  name: string;
  /** CLI arguments after the global options; may prepare files under `dir` (a fresh folder). */
  args: (dir: string) => Promise<string[]> | string[];
  /** Exit code 0 (accepted) or 1 (a user error). */
  code: 0 | 1;
  /** The stderr error line (code 1) or a stdout/stderr fragment (code 0) that must appear. */
  message: RegExp;
  /** Paths (relative to `dir`) that must not exist afterwards: no partial output. */
  absent?: string[];
  /** Extra checks on the folder afterwards. */
  after?: (dir: string, r: CliResult) => Promise<void> | void;
}

export interface CliResult {
  code: number;
  out: string;
  err: string;
}

/** Run the CLI in-process, capturing stdout and stderr. */
export async function cli(...args: string[]): Promise<CliResult> {
  let out = '',
    err = '';
  const o = vi.spyOn(process.stdout, 'write').mockImplementation((s) => ((out += String(s)), true));
  const e = vi.spyOn(process.stderr, 'write').mockImplementation((s) => ((err += String(s)), true));
  try {
    const code = await main(['node', 'auv-fusion', '--backend', 'cpu', '--quiet', ...args]);
    return { code, out, err };
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
}

export const tally: { area: string; name: string; outcome: Outcome }[] = [];

/** Run one case and check everything it promises. */
export async function check(c: Case, root: string, index: number): Promise<void> {
  const dir = path.join(root, `case-${index}`);
  await fs.mkdir(dir, { recursive: true });
  const args = await c.args(dir);
  const r = await cli(...args);
  const errorLines = r.err.split('\n').filter((l) => l.startsWith('auv-fusion: error:'));
  if (c.code === 1) {
    expect(r.code, `${c.name}: exit code; stderr: ${r.err}`).toBe(1);
    expect(errorLines.length, `${c.name}: exactly one error line; stderr: ${r.err}`).toBe(1);
    expect(errorLines[0], c.name).toMatch(c.message);
    expect(r.err, `${c.name}: no stack trace`).not.toMatch(/\n\s+at .*:\d+:\d+/);
  } else {
    expect(r.code, `${c.name}: exit code; stderr: ${r.err}`).toBe(0);
    expect(errorLines, c.name).toEqual([]);
    expect(r.out + r.err, c.name).toMatch(c.message);
  }
  for (const p of c.absent ?? []) expect(existsSync(path.join(dir, p)), `${c.name}: ${p} must not exist`).toBe(false);
  // no temporary left beside any output
  const leftovers = (await fs.readdir(dir)).filter((n) => n.includes('.tmp-'));
  expect(leftovers, `${c.name}: temporaries left`).toEqual([]);
  await c.after?.(dir, r);
  tally.push({ area: c.area, name: c.name, outcome: c.code === 1 ? 'clear error' : 'accepted correctly' });
}

/** The tally as a markdown table (written when AUV_CORPUS_TABLE names a file). */
export async function writeTally(file = process.env.AUV_CORPUS_TABLE): Promise<void> {
  if (!file) return;
  const areas = [...new Set(tally.map((t) => t.area))];
  const lines = ['| area | cases | clear error | accepted correctly |', '|---|---|---|---|'];
  for (const a of areas) {
    const t = tally.filter((x) => x.area === a);
    lines.push(`| ${a} | ${t.length} | ${t.filter((x) => x.outcome === 'clear error').length} | ${t.filter((x) => x.outcome === 'accepted correctly').length} |`);
  }
  await fs.appendFile(file, lines.join('\n') + '\n' + tally.map((t) => `- ${t.area}: ${t.name}: ${t.outcome}`).join('\n') + '\n');
}

export const tmpRoot = (tag: string): Promise<string> => fs.mkdtemp(path.join(os.tmpdir(), `auv-corpus-${tag}-`));

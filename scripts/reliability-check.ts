/**
 * Issue 17 fault checks on a small folder dataset (run: `nice -n 10 npx tsx scripts/reliability-check.ts [kill|concurrent|all]`):
 *
 * - kill: an uninterrupted reference run; then a run killed with SIGKILL at several points (after
 *   1, 3, 6 and 9 cache entries exist), resumed each time, and finally completed: its rows must be
 *   identical to the reference, and no temporary is left in the cache.
 * - concurrent: four `run`s at once on one fresh cache (separate output folders): every process
 *   exits 0 and all four write identical rows, equal to the reference.
 *
 * Prints one line per step and exits non-zero on any mismatch.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, promises as fs, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { writeDatasetFolder } from '../src/data/folder-format.js';
import { synthesizeCatalogue } from '../src/data/synth/catalogue.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const mode = process.argv[2] ?? 'all';
const root = mkdtempSync(path.join(os.tmpdir(), 'auv-reliability-'));
const t0 = Date.now();
const say = (m: string) => process.stdout.write(`[${((Date.now() - t0) / 1000).toFixed(1)} s] ${m}\n`);

function config(name: string, cache: string, out: string, dataset: string): string {
  const file = path.join(root, `${name}.yaml`);
  const cfg = {
    name: 'reliability check',
    dataset,
    seeds: [1, 2],
    maxTargets: 4,
    encoders: { victim: { epochs: 1, batch: 16 }, surrogate: { epochs: 1, batch: 16 }, semantic: { epochs: 1, batch: 16 } },
    victims: ['bpr-mf', 'vbpr'],
    victimConfig: { epochs: 3 },
    detector: false,
    attacks: [{ name: 'none' }, { name: 'random', params: { budget: 16 } }, { name: 'expa', params: { budget: 16, steps: 3 } }],
    cacheDir: cache,
    out,
  };
  writeFileSync(file, stringify(cfg));
  return file;
}

function start(cfgFile: string): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', path.join(repo, 'src/cli/main.ts'), '--quiet', 'run', cfgFile], { cwd: repo, stdio: ['ignore', 'ignore', 'pipe'] });
}
function finish(p: ChildProcess): Promise<{ code: number | null; signal: string | null; err: string }> {
  let err = '';
  p.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  return new Promise((resolve) => p.on('close', (code, signal) => resolve({ code, signal, err })));
}
const entries = (cache: string): number =>
  existsSync(cache) ? readdirSync(cache).filter((s) => s !== 'dataset-keys').reduce((n, s) => n + readdirSync(path.join(cache, s)).filter((e) => !e.startsWith('.')).length, 0) : 0;
const temporaries = (cache: string): string[] =>
  existsSync(cache) ? readdirSync(cache).flatMap((s) => readdirSync(path.join(cache, s)).filter((e) => e.includes('.tmp-')).map((e) => `${s}/${e}`)) : [];
const rows = async (out: string): Promise<string> => JSON.stringify((JSON.parse(await fs.readFile(path.join(out, 'results.json'), 'utf8')) as { rows: unknown[] }).rows);

async function main(): Promise<void> {
  const dataset = path.join(root, 'ds');
  await writeDatasetFolder(synthesizeCatalogue({ profile: 'tiny', seed: 5, overrides: { numUsers: 60, numItems: 80, numTargets: 6, imageSize: 16 } }), dataset, { progress: false });
  say(`dataset ${dataset}; load ${os.loadavg().map((x) => x.toFixed(1)).join(' ')}`);
  const refOut = path.join(root, 'ref-out');
  const ref = await finish(start(config('ref', path.join(root, 'ref-cache'), refOut, dataset)));
  if (ref.code !== 0) throw new Error(`reference run failed: ${ref.err}`);
  const refRows = await rows(refOut);
  say(`reference run: ${JSON.parse(refRows).length} rows, ${entries(path.join(root, 'ref-cache'))} cache entries`);
  let failures = 0;

  if (mode === 'kill' || mode === 'all') {
    const cache = path.join(root, 'kill-cache');
    const out = path.join(root, 'kill-out');
    const cfg = config('kill', cache, out, dataset);
    for (const at of [1, 3, 6, 9]) {
      const p = start(cfg);
      const done = finish(p);
      while (entries(cache) < at && p.exitCode === null) await new Promise((ok) => setTimeout(ok, 50));
      p.kill('SIGKILL');
      const r = await done;
      say(`kill -9 once ${at} entries existed: ${r.signal ?? `exit ${r.code}`}; ${entries(cache)} entries, ${temporaries(cache).length} temporaries left by the kill`);
    }
    const last = await finish(start(cfg));
    const same = last.code === 0 && (await rows(out)) === refRows;
    const left = temporaries(cache);
    say(`resumed to the end: exit ${last.code}, rows ${same ? 'IDENTICAL to' : 'DIFFERENT from'} the reference, ${left.length} temporaries left${left.length ? `: ${left.join(', ')}` : ''}`);
    if (!same || left.length) failures++;
  }

  if (mode === 'concurrent' || mode === 'all') {
    const cache = path.join(root, 'shared-cache');
    const runs = [0, 1, 2, 3].map((i) => finish(start(config(`c${i}`, cache, path.join(root, `c${i}-out`), dataset))));
    const res = await Promise.all(runs);
    const outs = await Promise.all(res.map((r, i) => (r.code === 0 ? rows(path.join(root, `c${i}-out`)) : Promise.resolve(''))));
    res.forEach((r, i) => say(`concurrent run ${i}: exit ${r.code}${r.code ? ` (${r.err.trim().split('\n').at(-1)})` : ''}, rows ${outs[i] === refRows ? 'identical to the reference' : 'DIFFERENT'}`));
    if (res.some((r) => r.code !== 0) || outs.some((o) => o !== refRows)) failures++;
    say(`shared cache: ${entries(cache)} entries, ${temporaries(cache).length} temporaries`);
  }
  say(failures ? `FAILED (${failures})` : 'all checks passed');
  rmSync(root, { recursive: true, force: true });
  process.exitCode = failures ? 1 : 0;
}

await main();

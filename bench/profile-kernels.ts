/**
 * Time per kernel of one workload run (tf.profile's kernelTimeMs), summed by kernel name, after
 * the workload's warm-up: where a workload's time goes. Usage:
 *   node --import tsx bench/profile-kernels.ts WORKLOAD [RUNS]
 * Prints one line per kernel name (calls, total ms per run, share), heaviest first, and the
 * untracked remainder (JS dispatch, tape bookkeeping, disposal: wall time minus kernel time).
 * The profiler reads every output after its kernel, so wall time here is above a benchmark run's.
 */
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { initEngine } from '../src/core/engine.js';
import { nativeStatus } from '../src/core/kernels/native.js';
import { getWorkload } from './workloads.js';

async function main(): Promise<void> {
  const [name, runsArg] = process.argv.slice(2);
  if (!name) throw new Error('usage: bench/profile-kernels.ts WORKLOAD [RUNS]');
  const runs = Number(runsArg ?? 3);
  if (!Number.isInteger(runs) || runs < 1) throw new Error(`RUNS must be a positive integer, got '${runsArg}'`);
  const dir = path.join(path.dirname(fileURLToPath(import.meta.url)), 'workloads');
  for (const f of readdirSync(dir).sort()) {
    if (f.endsWith('.ts') && !f.endsWith('.test.ts')) await import(pathToFileURL(path.join(dir, f)).href);
  }
  const w = getWorkload(name);
  if (!w) throw new Error(`unknown workload '${name}'`);
  await initEngine();
  const ctx = await w.setup();
  await (w.warmup ? w.warmup(ctx) : w.run(ctx));
  const byName = new Map<string, { calls: number; ms: number }>();
  let wall = 0;
  for (let r = 0; r < runs; r++) {
    const t0 = performance.now();
    const info = await tf.profile(async () => {
      await w.run(ctx);
    });
    wall += performance.now() - t0;
    for (const k of info.kernels) {
      const e = byName.get(k.name) ?? { calls: 0, ms: 0 };
      e.calls += 1;
      e.ms += Number(k.kernelTimeMs);
      byName.set(k.name, e);
    }
  }
  await w.teardown?.(ctx);
  const rows = [...byName.entries()].sort((a, b) => b[1].ms - a[1].ms);
  const kernelMs = rows.reduce((a, [, e]) => a + e.ms, 0) / runs;
  console.log(`${name}: ${runs} profiled run(s), native ${nativeStatus()}; per run: wall ${(wall / runs).toFixed(1)} ms, kernels ${kernelMs.toFixed(1)} ms`);
  for (const [k, e] of rows) {
    const ms = e.ms / runs;
    console.log(`${k.padEnd(28)} ${String(e.calls / runs).padStart(6)} calls ${ms.toFixed(2).padStart(9)} ms ${((100 * ms) / kernelMs).toFixed(1).padStart(5)}%`);
  }
  console.log(`${'(outside kernels)'.padEnd(28)} ${''.padStart(12)} ${(wall / runs - kernelMs).toFixed(2).padStart(9)} ms`);
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : String(e));
  process.exit(1);
});

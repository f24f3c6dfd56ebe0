/**
 * Benchmark runner: `npm run bench -- [--only a,b] [--runs N] [--json FILE] [--vs-torch] [--list]`.
 * Each workload runs in its own child process (so peak RSS is its own): setup, warm-up, then N
 * timed runs; reports the median wall time, GFLOP/s where FLOPs are defined, and peak RSS.
 * --vs-torch also runs bench/torch_twin.py under Debian's /usr/bin/python3 and prints ratios.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { engineBackend, initEngine, wasmThreads } from '../src/core/engine.js';
import { fastKernelsEnabled } from '../src/core/kernels/index.js';
import { nativeStatus } from '../src/core/kernels/native.js';
import { writeFileAtomicSync } from '../src/core/fsutil.js';
import { getWorkload, listWorkloads, median } from './workloads.js';

const here = path.dirname(fileURLToPath(import.meta.url));

export interface WorkloadResult {
  name: string;
  medianMs: number;
  runs: number;
  gflops: number | null;
  peakRssMb: number;
  timesMs: number[];
  torchMs?: number | null;
  ratioVsTorch?: number | null;
}

async function loadWorkloads(): Promise<void> {
  const dir = path.join(here, 'workloads');
  for (const f of readdirSync(dir).sort()) {
    if (f.endsWith('.ts') && !f.endsWith('.test.ts')) await import(pathToFileURL(path.join(dir, f)).href);
  }
}

interface Args {
  only: string[] | null;
  runs: number | null;
  json: string | null;
  vsTorch: boolean;
  list: boolean;
  child: string | null;
}

function parseArgs(argv: string[]): Args {
  const a: Args = { only: null, runs: null, json: null, vsTorch: false, list: false, child: null };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    const val = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${k} needs a value`);
      return v;
    };
    if (k === '--') continue;
    else if (k === '--only') a.only = val().split(',').map((s) => s.trim()).filter(Boolean);
    else if (k === '--runs') {
      a.runs = Number(val());
      if (!Number.isInteger(a.runs) || a.runs < 1) throw new Error('--runs must be a positive integer');
    } else if (k === '--json') a.json = val();
    else if (k === '--vs-torch') a.vsTorch = true;
    else if (k === '--list') a.list = true;
    else if (k === '--child') a.child = val();
    else throw new Error(`unknown option ${k} (use --only, --runs, --json, --vs-torch, --list)`);
  }
  return a;
}

const RESULT_TAG = 'BENCH_RESULT ';

/** In the child: time one workload and print its result line. */
async function runChild(name: string, runsOverride: number | null): Promise<void> {
  await initEngine();
  const w = getWorkload(name);
  if (!w) throw new Error(`no workload '${name}'`);
  const ctx = await w.setup();
  await (w.warmup ? w.warmup(ctx) : w.run(ctx));
  const runs = runsOverride ?? w.runs ?? 5;
  const times: number[] = [];
  const t0tensors = tf.memory().numTensors;
  for (let r = 0; r < runs; r++) {
    const t0 = performance.now();
    await w.run(ctx);
    times.push(performance.now() - t0);
    process.stderr.write(`  ${name} run ${r + 1}/${runs}: ${times[r].toFixed(1)} ms\n`);
  }
  const leaked = tf.memory().numTensors - t0tensors;
  if (leaked !== 0) process.stderr.write(`  warning: ${name} leaked ${leaked} tensors over ${runs} runs\n`);
  const med = median(times);
  const flops = typeof w.flops === 'function' ? w.flops(ctx) : w.flops;
  const res: WorkloadResult = {
    name,
    medianMs: +med.toFixed(2),
    runs,
    gflops: flops ? +(flops / (med / 1000) / 1e9).toFixed(2) : null,
    peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
    timesMs: times.map((t) => +t.toFixed(2)),
  };
  await w.teardown?.(ctx);
  process.stdout.write(RESULT_TAG + JSON.stringify(res) + '\n');
}

function machine(): Record<string, unknown> {
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model ?? 'unknown',
    cores: cpus.length,
    memGb: +(os.totalmem() / 2 ** 30).toFixed(1),
    node: process.version,
    platform: `${os.platform()} ${os.arch()}`,
    backend: engineBackend(),
    wasmThreads: engineBackend() === 'wasm' ? wasmThreads() : null,
    fastKernels: engineBackend() === 'wasm' ? fastKernelsEnabled() : null,
    native: engineBackend() === 'wasm' ? nativeStatus() : null,
    tfjs: tf.version.tfjs,
    loadAvg: os.loadavg().map((x) => +x.toFixed(2)),
    date: new Date().toISOString(),
  };
}

/** Run the PyTorch twin; returns name -> median ms (empty when torch is unavailable). */
function runTorch(names: string[], runs: number | null): Map<string, number> {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'auv-bench-'));
  const out = path.join(tmp, 'torch.json');
  const args = [path.join(here, 'torch_twin.py'), '--json', out, '--only', names.join(',')];
  if (runs) args.push('--runs', String(runs));
  const r = spawnSync('/usr/bin/python3', args, { stdio: ['ignore', 'inherit', 'inherit'] });
  const m = new Map<string, number>();
  try {
    if (r.status !== 0) {
      process.stderr.write(`torch twin failed (exit ${r.status}); install: apt-get install -y python3-torch libopenblas0-pthread\n`);
      return m;
    }
    const j = JSON.parse(readFileSync(out, 'utf8')) as { workloads: { name: string; medianMs: number }[] };
    for (const w of j.workloads) m.set(w.name, w.medianMs);
    return m;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  await loadWorkloads();
  if (args.child) return runChild(args.child, args.runs);
  await initEngine();
  const all = listWorkloads();
  if (args.list) {
    for (const w of all) console.log(`${w.name.padEnd(22)} ${w.description}`);
    return;
  }
  const unknown = (args.only ?? []).filter((n) => !getWorkload(n));
  if (unknown.length) throw new Error(`unknown workload(s) ${unknown.join(', ')}; known: ${all.map((w) => w.name).join(', ')}`);
  const chosen = args.only ? all.filter((w) => args.only!.includes(w.name)) : all;
  const results: WorkloadResult[] = [];
  for (const w of chosen) {
    process.stderr.write(`${w.name}: ${w.description}\n`);
    const childArgs = ['--import', 'tsx', fileURLToPath(import.meta.url), '--child', w.name];
    if (args.runs) childArgs.push('--runs', String(args.runs));
    const r = spawnSync(process.execPath, childArgs, { stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8', maxBuffer: 1 << 26 });
    const line = (r.stdout ?? '').split('\n').find((l) => l.startsWith(RESULT_TAG));
    if (r.status !== 0 || !line) {
      process.stderr.write(`  ${w.name} FAILED (exit ${r.status})\n`);
      continue;
    }
    results.push(JSON.parse(line.slice(RESULT_TAG.length)) as WorkloadResult);
  }
  if (args.vsTorch) {
    const torch = runTorch(chosen.map((w) => w.name), args.runs);
    for (const r of results) {
      const t = torch.get(r.name);
      r.torchMs = t ?? null;
      r.ratioVsTorch = t ? +(r.medianMs / t).toFixed(2) : null;
    }
  }
  const m = machine();
  console.log(`\n${m.cpu} x${m.cores}, node ${m.node}, backend ${m.backend}${m.wasmThreads ? ` (${m.wasmThreads} threads)` : ''}, native kernels: ${m.native ?? '-'}, load ${(m.loadAvg as number[]).join(' ')}`);
  console.log(`${'workload'.padEnd(18)} ${'median ms'.padStart(10)} ${'runs'.padStart(5)} ${'GFLOP/s'.padStart(8)} ${'peak RSS MB'.padStart(12)}${args.vsTorch ? `${'torch ms'.padStart(10)} ${'ratio'.padStart(6)}` : ''}`);
  for (const r of results) {
    console.log(
      `${r.name.padEnd(18)} ${r.medianMs.toFixed(1).padStart(10)} ${String(r.runs).padStart(5)} ${(r.gflops?.toFixed(2) ?? '-').padStart(8)} ${String(r.peakRssMb).padStart(12)}` +
        (args.vsTorch ? `${(r.torchMs?.toFixed(1) ?? '-').padStart(10)} ${(r.ratioVsTorch?.toFixed(2) ?? '-').padStart(6)}` : ''),
    );
  }
  if (args.json) writeFileAtomicSync(args.json, JSON.stringify({ machine: m, workloads: results }, null, 2) + '\n');
  if (results.length < chosen.length) process.exitCode = 1;
}

main().catch((e: unknown) => {
  process.stderr.write(`bench: ${e instanceof Error ? (process.env.BENCH_DEBUG ? e.stack : e.message) : String(e)}\n`);
  process.exit(1);
});
